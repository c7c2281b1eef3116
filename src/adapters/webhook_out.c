/* Webhook delivery from the event table, on the timer thread; marks go through the executor. */
#include "adapters/webhook_out.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/callback_out.h"
#include "adapters/http_out.h"
#include "adapters/signature.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/vault.h"
#include "service/executor.h"
#include "store/store_events.h"

void webhook_secret_hex(char out[65])
{
    uint8_t key[32];
    vault_subkey(VAULT_KEY_WEBHOOKS, key);
    sodium_bin2hex(out, 65, key, sizeof key);
    sodium_memzero(key, sizeof key);
}

struct mark {
    const char *id;
    const char *state;
    int64_t next_at;
};

static int mark_run(struct db *db, void *arg)
{
    struct mark *m = arg;
    return store_event_webhook_mark(db, m->id, m->state, m->next_at);
}

/* Why an attempt was not acknowledged, for the operator: the receiver's status, or what kept an
 * answer from coming (refused, timed out, a certificate not trusted). Never the URL, which may
 * carry a secret of the receiver's. */
static void attempt_failed(const char *event_id, int64_t attempt, long status)
{
    char n[24];
    snprintf(n, sizeof n, "%lld", (long long)attempt);
    if (status != 0) {
        char code[16];
        snprintf(code, sizeof code, "%ld", status);
        log_write(LOG_WARN, "webhook_attempt_failed", "event_id", event_id, "attempt", n, "status",
                  code, NULL);
    } else {
        log_write(LOG_WARN, "webhook_attempt_failed", "event_id", event_id, "attempt", n, "error",
                  http_out_error(), NULL);
    }
}

int webhook_deliver(struct db *reader, const char *url)
{
    if (url == NULL || url[0] == '\0') {
        return 0;
    }
    static struct event_row due[WEBHOOK_BATCH_MAX];
    int count = 0;
    if (db_begin_read(reader) != 0) {
        return 0;
    }
    int rc = store_events_webhook_due(reader, clock_now_ms(), due, WEBHOOK_BATCH_MAX, &count);
    db_rollback(reader);
    if (rc != 0) {
        return 0;
    }
    uint8_t key[32];
    vault_subkey(VAULT_KEY_WEBHOOKS, key);
    int sent = 0;
    for (int i = 0; i < count; i++) {
        json_error_t err;
        json_t *data = json_loads(due[i].data, 0, &err);
        char created[40];
        json_t *body =
            json_pack("{s:s, s:s, s:s, s:o, s:s, s:I}", "id", due[i].id, "type", due[i].type,
                      "object_id", due[i].object_id, "data", data != NULL ? data : json_object(),
                      "created", clock_format(due[i].created_at, created, sizeof created),
                      "attempt", (json_int_t)due[i].webhook_attempts + 1);
        struct mark m = {due[i].id, "delivered", 0};
        long status = 0;
        if (callback_post(key, url, body, due[i].webhook_attempts, WEBHOOK_BACKOFF_BASE_MS,
                          &m.next_at, &status)) {
            sent++;
        } else {
            attempt_failed(due[i].id, due[i].webhook_attempts + 1, status);
            if (due[i].webhook_attempts + 1 >= WEBHOOK_ATTEMPTS_MAX) {
                m.state = "failed";
                m.next_at = 0;
                log_write(LOG_WARN, "webhook_gave_up", "event_id", due[i].id, NULL);
            } else {
                m.state = "pending";
            }
        }
        if (executor_run(mark_run, &m) != 0) {
            log_write(LOG_ERROR, "webhook_mark_failed", "event_id", due[i].id, NULL);
        }
    }
    sodium_memzero(key, sizeof key);
    return sent;
}
