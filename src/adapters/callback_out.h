/* One signed callback post with the retry schedule every sender here shares: the body is signed
 * (Kameng-Signature), posted, and on anything but a 2xx the next attempt is due after a backoff
 * that doubles from base_ms. Used by the sandbox providers and the webhooks. */
#ifndef KM_CALLBACK_OUT_H
#define KM_CALLBACK_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "adapters/http_out.h"
#include "core/ids.h"

/* Post body (stolen) to url signed with key. True when acknowledged; otherwise *retry_at is when
 * to try again, given the attempts made before this one, and *status is the answer's HTTP status
 * (0: none came; http_out_error says why). */
bool callback_post(const uint8_t key[32], const char *url, json_t *body, int64_t attempts_before,
                   int64_t base_ms, int64_t *retry_at, long *status);

struct db;
/* Records one outcome in the provider's books: retry_at 0 for acknowledged, else when next. */
typedef int (*callback_mark_fn)(struct db *db, const char *id, int64_t now, int64_t retry_at);
/* A sandbox provider's due notifications (payments, top-ups, refunds), which under a buyers'
 * rush come faster than one batch at a time carries them: they go out through a window of posts
 * kept full (http_out_pipe_*), and the outcomes are recorded by mark() in transactions of up to
 * CALLBACK_MARK_BATCH, until nothing is due or CALLBACK_PASS_MS have passed and the window is
 * empty. due() reads, on the reader connection, at most max notifications whose attempt is due
 * by now and whose due time is later than after, earliest first: the pass moves past what it
 * has taken, so none goes out twice in one pass, and one whose due time equals the last one
 * taken waits for the next pass. Returns how many were acknowledged. */
struct callback_due {
    char id[ID_BYTES_MAX];
    json_t *body;     /* stolen */
    int64_t attempts; /* made before this one, for the backoff */
    int64_t due_at;   /* when this attempt became due */
};
typedef int (*callback_due_fn)(struct db *reader, int64_t now, int64_t after,
                               struct callback_due *out, int max, int *count);
int callback_deliver_window(const uint8_t key[32], const char *url, struct db *reader,
                            callback_due_fn due, int64_t base_ms, callback_mark_fn mark,
                            const char *what);

#endif
