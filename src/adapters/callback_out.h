/* One signed callback post with the retry schedule every sender here shares: the body is signed
 * (Kameng-Signature), posted, and on anything but a 2xx the next attempt is due after a backoff
 * that doubles from base_ms. Used by the sandbox providers and the webhooks. */
#ifndef KM_CALLBACK_OUT_H
#define KM_CALLBACK_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Post body (stolen) to url signed with key. True when acknowledged; otherwise *retry_at is when
 * to try again, given the attempts made before this one. */
bool callback_post(const uint8_t key[32], const char *url, json_t *body, int64_t attempts_before,
                   int64_t base_ms, int64_t *retry_at);

/* The same for n bodies (stolen) at once; acked[i], retry_at[i] per body. */
void callback_post_all(const uint8_t key[32], const char *url, json_t **bodies,
                       const int64_t *attempts_before, int n, int64_t base_ms, bool *acked,
                       int64_t *retry_at);

#endif
