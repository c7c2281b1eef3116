/* Money to recover that the shop lists for a person (GET /v1/attention: a buyer paid twice, a
 * top-up credited after a refund of it was paid) is settled outside the shop, with the buyer or
 * the provider. Staff record that they did: who, why and when, on the order's timeline too. */
#ifndef KM_ATTENTION_H
#define KM_ATTENTION_H

#include <stdint.h>

#include "core/check.h"
#include "core/err.h"
#include "store/store_events.h"

#define ATTENTION_NOTE_BYTES_MAX 1500 /* what was done: 500 characters of Chinese, in UTF-8 */

/* by: "agent:<key>"; note: what was done. out: the event settled. */
KM_MUST_USE int attention_settle(struct db *db, const char *event_id, const char *by,
                                 const char *note, int64_t now, struct attention_event *out,
                                 struct km_error *e);

#endif
