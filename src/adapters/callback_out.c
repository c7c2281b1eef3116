/* Signing, posting and the backoff schedule, once. */
#include "adapters/callback_out.h"

#include <stdlib.h>
#include <string.h>

#include "adapters/http_out.h"
#include "adapters/signature.h"
#include "core/check.h"
#include "core/clock.h"

#define BACKOFF_DOUBLINGS_MAX 10 /* base 2 s doubles to about half an hour, then stays there */

bool callback_post(const uint8_t key[32], const char *url, json_t *body, int64_t attempts_before,
                   int64_t base_ms, int64_t *retry_at)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    km_assert(text != NULL);
    char sig[SIGNATURE_HEADER_BYTES];
    signature_make(key, clock_now_ms(), text, strlen(text), sig);
    long status = 0;
    bool ok = http_out_post(url, text, sig, &status) == 0 && status >= 200 && status < 300;
    free(text);
    int64_t doublings = attempts_before < BACKOFF_DOUBLINGS_MAX ? attempts_before
                                                                : BACKOFF_DOUBLINGS_MAX;
    *retry_at = ok ? 0 : clock_now_ms() + (base_ms << doublings);
    return ok;
}

void callback_post_all(const uint8_t key[32], const char *url, json_t **bodies,
                       const int64_t *attempts_before, int n, int64_t base_ms, bool *acked,
                       int64_t *retry_at)
{
    km_assert(n >= 0 && n <= HTTP_OUT_PARALLEL_MAX);
    char *texts[HTTP_OUT_PARALLEL_MAX] = {0};
    char sigs[HTTP_OUT_PARALLEL_MAX][SIGNATURE_HEADER_BYTES];
    char *sig_ptrs[HTTP_OUT_PARALLEL_MAX] = {0};
    long statuses[HTTP_OUT_PARALLEL_MAX];
    for (int i = 0; i < n; i++) {
        texts[i] = json_dumps(bodies[i], JSON_COMPACT);
        json_decref(bodies[i]);
        km_assert(texts[i] != NULL);
        signature_make(key, clock_now_ms(), texts[i], strlen(texts[i]), sigs[i]);
        sig_ptrs[i] = sigs[i];
    }
    http_out_post_all(url, texts, sig_ptrs, n, statuses);
    for (int i = 0; i < n; i++) {
        free(texts[i]);
        acked[i] = statuses[i] >= 200 && statuses[i] < 300;
        int64_t doublings = attempts_before[i] < BACKOFF_DOUBLINGS_MAX ? attempts_before[i]
                                                                      : BACKOFF_DOUBLINGS_MAX;
        retry_at[i] = acked[i] ? 0 : clock_now_ms() + (base_ms << doublings);
    }
}
