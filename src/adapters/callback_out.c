/* Signing, posting and the backoff schedule, once. */
#include "adapters/callback_out.h"

#include <stdlib.h>
#include <string.h>

#include "adapters/http_out.h"
#include "adapters/signature.h"
#include "core/check.h"
#include "core/clock.h"
#include "core/log.h"
#include "service/executor.h"

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

struct mark_all {
    int (*mark)(struct db *db, const char *id, int64_t now, int64_t retry_at);
    const struct callback_batch *batch;
    const int64_t *retry_at;
};

static int mark_all_run(struct db *db, void *arg)
{
    const struct mark_all *m = arg;
    int64_t now = clock_now_ms();
    for (int i = 0; i < m->batch->count; i++) {
        int rc = m->mark(db, m->batch->ids[i], now, m->retry_at[i]);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int callback_deliver(const uint8_t key[32], const char *url, struct callback_batch *batch,
                     int64_t base_ms,
                     int (*mark)(struct db *db, const char *id, int64_t now, int64_t retry_at),
                     const char *what)
{
    if (batch->count == 0) {
        return 0;
    }
    bool acked[HTTP_OUT_PARALLEL_MAX];
    int64_t retry_at[HTTP_OUT_PARALLEL_MAX];
    callback_post_all(key, url, batch->bodies, batch->attempts, batch->count, base_ms, acked,
                      retry_at);
    int sent = 0;
    for (int i = 0; i < batch->count; i++) {
        if (acked[i]) {
            sent++;
        } else {
            log_write(LOG_WARN, "callback_not_acknowledged", "sender", what, "id", batch->ids[i],
                      NULL);
        }
    }
    struct mark_all m = {mark, batch, retry_at};
    if (executor_run(mark_all_run, &m) != 0) {
        log_write(LOG_ERROR, "callback_mark_failed", "sender", what, NULL);
    }
    return sent;
}
