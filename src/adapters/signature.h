/* Signed callbacks and webhooks: "Kameng-Signature: t=<unix ms>,v1=<hex HMAC-SHA256 of
 * t + '.' + body>". The timestamp bounds replays in time; the ids inside the body make a replay
 * within the window harmless. */
#ifndef KM_SIGNATURE_H
#define KM_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"

#define SIGNATURE_HEADER_BYTES 96
#define SIGNATURE_TOLERANCE_MS (5 * 60 * 1000) /* clocks drift; five minutes is Stripe's choice */

void signature_make(const uint8_t key[32], int64_t t_ms, const char *body, size_t n,
                    char out[SIGNATURE_HEADER_BYTES]);
KM_MUST_USE int signature_verify(const uint8_t key[32], const char *header, const char *body,
                                 size_t n, int64_t now_ms, struct km_error *e);

#endif
