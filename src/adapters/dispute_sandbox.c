/* The sandbox provider's disputes and their signed notifications (dispute_sandbox.h). */
#include "adapters/dispute_sandbox.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "adapters/callback_out.h"
#include "adapters/payment_sandbox.h"
#include "core/clock.h"
#include "core/limits.h"
#include "store/store.h"
#include "store/store_sandbox.h"

#define NOTIFY_BACKOFF_BASE_MS 2000

int dispute_sandbox_open(struct db *db, const char *payment_id, const char *reason,
                         int64_t amount_fen, char *dispute_id, int64_t *respond_by,
                         struct km_error *e)
{
    struct payment p;
    if (store_payment_get(db, payment_id, &p) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "payment_id", "no such payment");
    }
    if (strcmp(p.status, "succeeded") != 0) {
        return km_fail(e, KM_ESTATE, "payment_not_captured", "payment_id",
                       "only a completed payment can be disputed; payment %s is %s", p.id,
                       p.status);
    }
    if (strcmp(p.method, "balance") == 0) {
        return km_fail(e, KM_ESTATE, "not_disputable", "payment_id",
                       "a payment from the shop balance has no payment provider to dispute it "
                       "with; ask the shop for a refund");
    }
    if (amount_fen < 0 || amount_fen > p.amount_fen) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "amount_fen",
                       "amount_fen must be between 1 and the %lld fen paid",
                       (long long)p.amount_fen);
    }
    struct sandbox_dispute d = {0};
    id_new("sdp", d.id);
    snprintf(d.payment_id, sizeof d.payment_id, "%s", p.id);
    snprintf(d.reason, sizeof d.reason, "%s", reason);
    snprintf(d.method, sizeof d.method, "%s", p.method);
    d.amount_fen = amount_fen == 0 ? p.amount_fen : amount_fen;
    d.created_at = clock_now_ms();
    d.respond_by = d.created_at + DISPUTE_SANDBOX_RESPOND_MS;
    int rc = store_sandbox_dispute_insert(db, &d);
    if (rc == -KM_EDUPLICATE) {
        return km_fail(e, KM_ESTATE, "already_disputed", "payment_id",
                       "this payment already has a dispute at the provider");
    }
    if (rc != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the dispute was not stored");
    }
    snprintf(dispute_id, ID_BYTES_MAX, "%s", d.id);
    *respond_by = d.respond_by;
    return 0;
}

int dispute_sandbox_respond(struct db *db, const char *dispute_id, const struct dispute_answer *a,
                            struct km_error *e)
{
    /* The sandbox's review: an accepted dispute goes to the buyer; evidence wins when it shows
     * the goods reached the buyer or the money is already back, and loses otherwise. */
    const char *outcome = "lost", *detail = "accepted_by_shop";
    if (strcmp(a->response, "evidence") == 0) {
        outcome = a->delivery_proven || a->already_refunded ? "won" : "lost";
        detail = a->already_refunded  ? "already_refunded"
                 : a->delivery_proven ? "delivery_proven"
                                      : "delivery_not_proven";
    }
    int rc =
        store_sandbox_dispute_decide(db, dispute_id, a->response, outcome, detail, clock_now_ms());
    if (rc == -KM_ESTATE) {
        return km_fail(e, KM_ESTATE, "dispute_not_open", NULL,
                       "the provider no longer takes an answer to this dispute (answered, or past "
                       "its due date)");
    }
    return rc == 0 ? 0 : km_fail(e, KM_EINTERNAL, "storage_error", NULL, "answer not stored");
}

int dispute_sandbox_query(struct db *reader, const char *dispute_id, char outcome[8],
                          char detail[64], struct km_error *e)
{
    struct sandbox_dispute d;
    if (store_sandbox_dispute_get(reader, dispute_id, &d) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "dispute_id",
                       "the provider has no such dispute");
    }
    bool lapsed = d.outcome[0] == '\0' && clock_now_ms() >= d.respond_by;
    snprintf(outcome, 8, "%s", lapsed ? "lost" : d.outcome);
    snprintf(detail, 64, "%s", lapsed ? "no_response" : d.outcome_detail);
    return 0;
}

static int disputes_due(struct db *reader, int64_t now, int64_t after, struct callback_due *out,
                        int max, int *count)
{
    static struct sandbox_dispute due[HTTP_OUT_PARALLEL_MAX]; /* the timer thread only */
    km_assert(max <= HTTP_OUT_PARALLEL_MAX);
    int rc = store_sandbox_disputes_due(reader, now, after, CALLBACK_ATTEMPTS_MAX, due, max, count);
    if (rc != 0) {
        return rc;
    }
    for (int i = 0; i < *count; i++) {
        const struct sandbox_dispute *d = &due[i];
        bool closing = d->opened_notified != 0;
        /* Undecided at its due date: the buyer wins for want of an answer. */
        const char *outcome = !closing ? "" : d->outcome[0] ? d->outcome : "lost";
        const char *detail = !closing ? "" : d->outcome[0] ? d->outcome_detail : "no_response";
        char nid[ID_BYTES_MAX + 8];
        snprintf(nid, sizeof nid, "%s.%s", d->id, closing ? "closed" : "opened");
        memcpy(out[i].id, d->id, sizeof out[i].id);
        out[i].attempts = d->notify_attempts;
        out[i].due_at = d->notify_next_at;
        out[i].body = json_pack(
            "{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s}", "id", nid, "type",
            closing ? "dispute.closed" : "dispute.opened", "dispute_id", d->id, "payment_id",
            d->payment_id, "amount_fen", (json_int_t)d->amount_fen, "reason", d->reason,
            "respond_by", (json_int_t)d->respond_by, "outcome", outcome, "outcome_detail", detail);
    }
    return 0;
}

int dispute_sandbox_notify(struct db *reader, const char *base_url)
{
    uint8_t key[32];
    payment_sandbox_key(key);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/callbacks/disputes/sandbox", base_url);
    int sent = callback_deliver_window(key, url, reader, disputes_due, NOTIFY_BACKOFF_BASE_MS,
                                       store_sandbox_dispute_notified, "sandbox_disputes");
    sodium_memzero(key, sizeof key);
    return sent;
}
