/* Sandbox refunds: outcomes from the amount's last two digits, delays from the route, results by
 * signed callback and by query. */
#include "adapters/refund_sandbox.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/callback_out.h"
#include "adapters/payment_sandbox.h"
#include "adapters/signature.h"
#include "core/check.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "service/executor.h"
#include "store/store_sandbox.h"

#define NOTIFY_BACKOFF_BASE_MS 2000
#define REFUND_SANDBOX_ALWAYS_BUSY 1000000 /* more refusals than any retry policy makes */
/* ..15: the provider takes the refund at once, but its answer is lost this many times: more than
 * the shop retries a refusal (8), so a shop that took silence for a refusal would give up on a
 * refund the provider is paying. */
#define REFUND_SANDBOX_LOST_ANSWERS 9
/* ..16: the bank reports the refund failed, and two days after that report pays it after all
 * and says so: the shop may have paid the buyer another way meanwhile. */
#define REFUND_SANDBOX_PAID_LATE_CENTS 16
#define REFUND_SANDBOX_PAID_LATE_MS (2LL * 24 * 3600 * 1000)
/* ..17: a slow bank, on any provider route: the refund is paid thirty days after it is taken,
 * past any date the shop promises (seven working days, which a Spring Festival stretches to
 * about sixteen calendar days). */
#define REFUND_SANDBOX_SLOW_CENTS 17
#define REFUND_SANDBOX_SLOW_MS (30LL * 24 * 3600 * 1000)

int64_t refund_sandbox_route_delay_ms(const char *method)
{
    if (strcmp(method, "wechat") == 0) {
        return 5 * 60 * 1000; /* WeChat Pay balance: minutes */
    }
    if (strcmp(method, "alipay") == 0) {
        return 30 * 60 * 1000;
    }
    if (strcmp(method, "bank_card") == 0) {
        return 2 * 24 * 3600 * 1000; /* the bank books it in days */
    }
    return 0;
}

/* What the provider will report, by the amount's last two digits. */
static const char *outcome_of(int64_t cents)
{
    if (cents == 66) {
        return "requires_action";
    }
    return cents == 99 || cents == REFUND_SANDBOX_PAID_LATE_CENTS ? "failed" : "succeeded";
}

/* How long after the provider takes a refund its result comes. */
static int64_t result_delay_ms(const struct sandbox_refund *row)
{
    return row->amount_fen % 100 == REFUND_SANDBOX_SLOW_CENTS
               ? REFUND_SANDBOX_SLOW_MS
               : refund_sandbox_route_delay_ms(row->method);
}

struct submit_arg {
    struct sandbox_refund row;
    int rc;
};

static int submit_run(struct db *db, void *arg)
{
    struct submit_arg *s = arg;
    struct sandbox_refund existing;
    int rc = store_sandbox_refund_get(db, s->row.request_no, &existing);
    if (rc == -KM_ENOTFOUND) {
        int64_t cents = s->row.amount_fen % 100;
        snprintf(s->row.outcome, sizeof s->row.outcome, "%s", outcome_of(cents));
        /* ..13 is refused once; ..14 every time, so the shop's retries run out; ..15 is taken but
         * its answer lost, several times. */
        s->row.failures_left = cents == 13   ? 1
                               : cents == 14 ? REFUND_SANDBOX_ALWAYS_BUSY
                               : cents == 15 ? REFUND_SANDBOX_LOST_ANSWERS
                                             : 0;
        id_new("sbr", s->row.id);
        s->row.created_at = clock_now_ms();
        s->row.result_at = 0;
        rc = store_sandbox_refund_insert(db, &s->row);
        if (rc != 0) {
            return rc;
        }
        existing = s->row;
    } else if (rc != 0) {
        return rc;
    }
    if (existing.amount_fen % 100 == 15) {
        if (existing.result_at == 0) {
            existing.result_at = clock_now_ms() + result_delay_ms(&existing);
        }
        if (existing.failures_left > 0) {
            existing.failures_left--;
            s->rc = -KM_EINTERNAL; /* taken, but the shop hears nothing */
        }
        rc = store_sandbox_refund_update(db, &existing);
    } else if (existing.result_at == 0) {
        if (existing.failures_left > 0) {
            existing.failures_left--;
            s->rc = -KM_EBUSY; /* refused this time; the refusal itself is kept */
        } else {
            existing.result_at = clock_now_ms() + result_delay_ms(&existing);
        }
        rc = store_sandbox_refund_update(db, &existing);
    }
    s->row = existing;
    return rc;
}

int refund_sandbox_submit(const char *request_no, const char *payment_id, const char *method,
                          int64_t amount_fen, struct payout_result *out, struct km_error *e)
{
    memset(out, 0, sizeof *out);
    struct submit_arg *s = calloc(1, sizeof *s);
    km_assert(s != NULL);
    snprintf(s->row.request_no, sizeof s->row.request_no, "%s", request_no);
    snprintf(s->row.payment_id, sizeof s->row.payment_id, "%s", payment_id);
    snprintf(s->row.method, sizeof s->row.method, "%s", method);
    s->row.amount_fen = amount_fen;
    int rc = executor_run(submit_run, s);
    if (rc == 0 && s->rc != 0) {
        rc = s->rc;
    }
    if (rc == 0) {
        snprintf(out->status, sizeof out->status, "processing");
        snprintf(out->provider_refund_id, sizeof out->provider_refund_id, "%s", s->row.id);
    }
    free(s);
    if (rc == -KM_EBUSY) {
        return km_fail(e, KM_EBUSY, "provider_busy", NULL,
                       "the provider refused the refund this time (system busy)");
    }
    return rc == 0 ? 0 : km_fail(e, KM_EINTERNAL, "provider_unavailable", NULL, "no answer");
}

static void result_of(const struct sandbox_refund *row, int64_t now, struct payout_result *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->provider_refund_id, sizeof out->provider_refund_id, "%s", row->id);
    if (row->result_at == 0 || now < row->result_at) {
        snprintf(out->status, sizeof out->status, "processing");
        return;
    }
    snprintf(out->status, sizeof out->status, "%s", row->outcome);
    snprintf(out->detail, sizeof out->detail, "%s",
             strcmp(row->outcome, "requires_action") == 0
                 ? "the receiving account is abnormal (card closed); choose another way"
             : strcmp(row->outcome, "failed") == 0 ? "the provider refused the refund"
                                                   : "refunded to the original route");
}

int refund_sandbox_query(struct db *reader, const char *request_no, struct payout_result *out,
                         struct km_error *e)
{
    struct sandbox_refund row;
    if (store_sandbox_refund_get(reader, request_no, &row) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "request_no", "unknown refund");
    }
    result_of(&row, clock_now_ms(), out);
    return 0;
}

/* A notification the shop took: done, unless it reported a ..16 failure, which is paid later. */
static int notified(struct db *db, const char *id, int64_t now, int64_t retry_at)
{
    if (retry_at == 0) {
        bool later = false;
        int rc = store_sandbox_refund_paid_late(db, id, REFUND_SANDBOX_PAID_LATE_CENTS,
                                                now + REFUND_SANDBOX_PAID_LATE_MS, &later);
        if (rc != 0 || later) {
            return rc;
        }
    }
    return store_sandbox_refund_notified(db, id, now, retry_at);
}

/* The notifications due, as the window asks for them. */
static int refunds_due(struct db *reader, int64_t now, int64_t after, struct callback_due *out,
                       int max, int *count)
{
    static struct sandbox_refund due[HTTP_OUT_PARALLEL_MAX]; /* the timer thread only */
    km_assert(max <= HTTP_OUT_PARALLEL_MAX);
    int rc = store_sandbox_refunds_due(reader, now, after, CALLBACK_ATTEMPTS_MAX, due, max, count);
    for (int i = 0; rc == 0 && i < *count; i++) {
        struct payout_result res;
        result_of(&due[i], now, &res);
        memcpy(out[i].id, due[i].id, sizeof out[i].id);
        out[i].attempts = due[i].notify_attempts;
        out[i].due_at = due[i].notify_next_at;
        out[i].body = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", due[i].id, "request_no",
                                due[i].request_no, "provider_refund_id", due[i].id, "status",
                                res.status, "amount_fen", (json_int_t)due[i].amount_fen);
    }
    return rc;
}

int refund_sandbox_notify(struct db *reader, const char *base_url)
{
    uint8_t key[32];
    payment_sandbox_key(key);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/callbacks/refunds/sandbox", base_url);
    int acked = callback_deliver_window(key, url, reader, refunds_due, NOTIFY_BACKOFF_BASE_MS,
                                        notified, "sandbox_refunds");
    sodium_memzero(key, sizeof key);
    return acked;
}
