/* The sandbox upstream: outcomes follow from the target account so every path can be tried by
 * hand, results come after SANDBOX_TOPUP_DELAY_MS of (test-)clock time, and callbacks are signed
 * and retried — except for accounts whose callback is "lost", which only polling finds. */
#include "adapters/upstream.h"

#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/callback_out.h"
#include "adapters/signature.h"
#include "core/check.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/vault.h"
#include "service/executor.h"
#include "store/store_sandbox.h"

#define SANDBOX_TOPUP_DELAY_MS 5000             /* a real upstream answers in seconds to minutes */
#define SANDBOX_TOPUP_SLOW_MS (2 * 3600 * 1000) /* ..7777 / slow*: past any top-up's timeout */
#define NOTIFY_BACKOFF_BASE_MS 2000

void upstream_sandbox_key(uint8_t out[32])
{
    vault_subkey(VAULT_KEY_SANDBOX_UPSTREAM, out);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

void upstream_sandbox_outcome(const char *account, const char *region, char *outcome,
                              size_t outcome_len, int *callback, char *credited_region,
                              size_t credited_len)
{
    const char *o = "succeeded";
    *callback = 1;
    snprintf(credited_region, credited_len, "%s", region != NULL ? region : "");
    if (ends_with(account, "0000") || starts_with(account, "fail")) {
        o = "failed";
    } else if (ends_with(account, "9999") || starts_with(account, "stall")) {
        o = "stall";
        *callback = 0;
    } else if (starts_with(account, "wrong")) {
        o = "wrong_region";
        snprintf(credited_region, credited_len, "S99");
    } else if (ends_with(account, "8888") || starts_with(account, "nocb")) {
        *callback = 0;
    }
    snprintf(outcome, outcome_len, "%s", o);
}

struct submit_arg {
    struct sandbox_topup row;
};

static int submit_run(struct db *db, void *arg)
{
    struct submit_arg *s = arg;
    /* Submitting twice (the shop crashed before recording the first answer) returns the order
     * the upstream already has, as real upstreams do for a repeated merchant order number. */
    if (store_sandbox_topup_find(db, s->row.topup_id, s->row.id) == 0) {
        return 0;
    }
    return store_sandbox_topup_insert(db, &s->row);
}

int upstream_sandbox_submit(const struct topup *t, char *ref, size_t ref_len, struct km_error *e)
{
    struct submit_arg s;
    memset(&s, 0, sizeof s);
    id_new("up", s.row.id);
    snprintf(s.row.topup_id, sizeof s.row.topup_id, "%s", t->id);
    snprintf(s.row.target_account, sizeof s.row.target_account, "%s", t->target_account);
    snprintf(s.row.target_region, sizeof s.row.target_region, "%s", t->target_region);
    int callback = 1;
    upstream_sandbox_outcome(t->target_account, t->target_region, s.row.outcome,
                             sizeof s.row.outcome, &callback, s.row.credited_region,
                             sizeof s.row.credited_region);
    s.row.callback = callback;
    s.row.created_at = clock_now_ms();
    /* A slow upstream credits the account two hours later, after the shop gave up waiting. */
    bool slow = ends_with(t->target_account, "7777") || starts_with(t->target_account, "slow");
    s.row.result_at = strcmp(s.row.outcome, "stall") == 0 ? 0
                      : slow                              ? s.row.created_at + SANDBOX_TOPUP_SLOW_MS
                             : s.row.created_at + SANDBOX_TOPUP_DELAY_MS;
    int rc = executor_run(submit_run, &s);
    if (rc != 0) {
        return km_fail(e, KM_EINTERNAL, "upstream_unavailable", NULL,
                       "the upstream did not answer");
    }
    snprintf(ref, ref_len, "%s", s.row.id);
    return 0;
}

int upstream_sandbox_query(struct db *reader, const char *ref, struct upstream_result *out,
                           struct km_error *e)
{
    memset(out, 0, sizeof *out);
    struct sandbox_topup row;
    int rc = store_sandbox_topup_get(reader, ref, &row);
    if (rc != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "upstream_ref", "unknown order");
    }
    int64_t now = clock_now_ms();
    if (row.result_at == 0 || now < row.result_at) {
        snprintf(out->status, sizeof out->status, "processing");
        return 0;
    }
    snprintf(out->status, sizeof out->status, "%s", row.outcome);
    snprintf(out->credited_region, sizeof out->credited_region, "%s", row.credited_region);
    snprintf(out->detail, sizeof out->detail, "%s",
             strcmp(row.outcome, "failed") == 0         ? "the account does not accept top-ups"
             : strcmp(row.outcome, "wrong_region") == 0 ? "credited, but to another region/server"
                                                        : "credited");
    return 0;
}

/* The callbacks due, as the window asks for them. */
static int topups_due(struct db *reader, int64_t now, int64_t after, struct callback_due *out,
                      int max, int *count)
{
    static struct sandbox_topup due[HTTP_OUT_PARALLEL_MAX]; /* the timer thread only */
    km_assert(max <= HTTP_OUT_PARALLEL_MAX);
    int rc = store_sandbox_topups_due(reader, now, after, CALLBACK_ATTEMPTS_MAX, due, max, count);
    for (int i = 0; rc == 0 && i < *count; i++) {
        const struct sandbox_topup *t = &due[i];
        memcpy(out[i].id, t->id, sizeof out[i].id);
        out[i].attempts = t->notify_attempts;
        out[i].due_at = t->notify_next_at;
        out[i].body =
            json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", t->id, "upstream_ref", t->id, "topup_id",
                      t->topup_id, "status", t->outcome, "credited_region", t->credited_region);
    }
    return rc;
}

int upstream_sandbox_notify(struct db *reader, const char *base_url)
{
    uint8_t key[32];
    upstream_sandbox_key(key);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/callbacks/upstream/sandbox", base_url);
    int acked = callback_deliver_window(key, url, reader, topups_due, NOTIFY_BACKOFF_BASE_MS,
                                        store_sandbox_topup_notified, "sandbox_upstream");
    sodium_memzero(key, sizeof key);
    return acked;
}
