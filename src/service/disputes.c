/* Provider disputes: the freeze, the answer and the decision (disputes.h). */
#include "service/disputes.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "adapters/dispute_sandbox.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/sha256.h"
#include "domain/dispute.h"
#include "service/books.h"
#include "service/evidence_log.h"
#include "service/executor.h"
#include "service/orders.h"
#include "service/payouts.h"
#include "service/refunds.h"
#include "service/refunds_int.h"
#include "store/store_ledger.h"
#include "store/store_refunds.h"

static int storage(struct km_error *e, const char *what)
{
    return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "%s", what);
}

/* What the seller's escrow hold for the order holds now (0 when none is open), and its account. */
static int escrow_held(struct db *db, const char *order_id, int64_t *held, char *seller_acct)
{
    *held = 0;
    char pending[ID_BYTES_MAX], debit[LEDGER_ACCOUNT_ID_BYTES_MAX], state[16];
    if (store_ledger_pending_find(db, "escrow", order_id, pending) != 0) {
        return 0;
    }
    return store_ledger_pending_get(db, pending, debit, seller_acct, held, state);
}

static int log_dispute(struct db *db, const char *kind, const struct dispute_row *d, json_t *more,
                       int64_t now, struct km_error *e)
{
    json_t *f =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "dispute_id", d->id, "provider_dispute_id",
                  d->provider_dispute_id, "payment_id", d->payment_id, "reason", d->reason,
                  "amount_fen", (json_int_t)d->amount_fen, "frozen_fen", (json_int_t)d->frozen_fen);
    km_assert(f != NULL);
    if (more != NULL) {
        json_object_update(f, more);
        json_decref(more);
    }
    return evlog_append(db, kind, d->order_id, f, now, e);
}

int disputes_open(struct db *db, const struct dispute_notice *n, int64_t now,
                  struct dispute_row *out, bool *replayed, struct km_error *e)
{
    *replayed = false;
    if (store_dispute_by_provider(db, n->provider_dispute_id, out) == 0) {
        if (strcmp(out->payment_id, n->payment_id) != 0) {
            return km_fail(e, KM_ESTATE, "dispute_mismatch", "payment_id",
                           "dispute %s was opened on another payment", n->provider_dispute_id);
        }
        *replayed = true;
        return 0;
    }
    struct payment p;
    struct order o;
    if (store_payment_get(db, n->payment_id, &p) != 0 || strcmp(p.status, "succeeded") != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "payment_id",
                       "no captured payment matches this dispute");
    }
    if (n->amount_fen <= 0 || n->amount_fen > p.amount_fen) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "amount_fen",
                       "a dispute of %lld fen on a payment of %lld fen", (long long)n->amount_fen,
                       (long long)p.amount_fen);
    }
    if (store_order_get(db, p.order_id, &o) != 0) {
        return storage(e, "order unavailable");
    }
    int64_t refunded = 0, disputed = 0;
    if (store_refunded_of_payment(db, p.id, &refunded) != 0 ||
        store_disputed_of_payment(db, p.id, &disputed) != 0) {
        return storage(e, "refunds unavailable");
    }
    struct dispute_row d = {0};
    id_new("dp", d.id);
    snprintf(d.provider_dispute_id, sizeof d.provider_dispute_id, "%s", n->provider_dispute_id);
    snprintf(d.order_id, sizeof d.order_id, "%s", o.id);
    snprintf(d.payment_id, sizeof d.payment_id, "%s", p.id);
    snprintf(d.reason, sizeof d.reason, "%s", n->reason);
    snprintf(d.status, sizeof d.status, "%s", dispute_status_name(DISPUTE_NEEDS_RESPONSE));
    d.amount_fen = n->amount_fen;
    d.respond_by = n->respond_by;
    d.opened_at = now;
    /* What is already refunded or frozen stays as it is; the rest of the dispute is frozen. */
    d.frozen_fen = dispute_freeze_fen(n->amount_fen, p.amount_fen, refunded + disputed);
    if (d.frozen_fen > 0) {
        int64_t escrow_before = 0, escrow_after = 0;
        char seller[LEDGER_ACCOUNT_ID_BYTES_MAX];
        bool for_goods = strcmp(p.disposition, "applied") == 0;
        int rc = escrow_held(db, o.id, &escrow_before, seller);
        rc = rc != 0 ? storage(e, "ledger unavailable")
                     : refunds_free_order_money(db, &o, d.frozen_fen, d.id, for_goods, now, e);
        if (rc == 0 && escrow_held(db, o.id, &escrow_after, seller) != 0) {
            rc = storage(e, "ledger unavailable");
        }
        if (rc != 0) {
            return rc;
        }
        d.frozen_from_escrow_fen = escrow_before - escrow_after;
        char order_acct[LEDGER_ACCOUNT_ID_BYTES_MAX], psp[LEDGER_ACCOUNT_ID_BYTES_MAX];
        books_account(order_acct, "order", o.id);
        books_account(psp, "psp", p.method);
        rc = books_hold(db, order_acct, psp, d.frozen_fen, "dispute", d.id, now, e);
        if (rc != 0) {
            return rc;
        }
    }
    if (store_dispute_insert(db, &d) != 0) {
        return storage(e, "the dispute was not stored");
    }
    if (orders_event(db, "dispute.opened", d.id, o.id, now) != 0) {
        return storage(e, "event not stored");
    }
    char fen[24];
    snprintf(fen, sizeof fen, "%lld", (long long)d.frozen_fen);
    executor_log(LOG_WARN, "dispute_opened", "dispute_id", d.id, "order_id", o.id, "frozen_fen",
                 fen, NULL);
    *out = d;
    return log_dispute(db, "dispute_opened", &d, NULL, now, e);
}

/* The shop won: the frozen money goes back where it was taken from. */
static int release(struct db *db, const struct dispute_row *d, int64_t now, struct km_error *e)
{
    int rc = books_resolve(db, "dispute", d->id, false, now, e);
    if (rc != 0) {
        return rc;
    }
    char order_acct[LEDGER_ACCOUNT_ID_BYTES_MAX];
    books_account(order_acct, "order", d->order_id);
    int64_t from_revenue = 0;
    if (store_ledger_posted_of(db, "refund_reversal", d->id, &from_revenue) != 0) {
        return storage(e, "ledger unavailable");
    }
    if (from_revenue > 0) {
        rc = books_post(db, order_acct, "revenue:shop", from_revenue, "dispute_released", d->id,
                        now, e);
    }
    if (rc != 0 || d->frozen_from_escrow_fen == 0) {
        return rc;
    }
    struct order o;
    int64_t held = 0;
    char seller[LEDGER_ACCOUNT_ID_BYTES_MAX];
    if (store_order_get(db, d->order_id, &o) != 0 ||
        escrow_held(db, d->order_id, &held, seller) != 0) {
        return storage(e, "ledger unavailable");
    }
    books_account(seller, "seller", o.seller_id);
    if (strcmp(o.status, "delivering") == 0 || strcmp(o.status, "delivered") == 0) {
        /* Still in escrow (the freeze may have taken all of it): hold the seller's money whole
         * again, for the escrow's end or the buyer's confirmation to release. */
        rc = held > 0 ? books_resolve(db, "escrow", d->order_id, false, now, e) : 0;
        return rc != 0 ? rc
                       : books_hold(db, order_acct, seller, held + d->frozen_from_escrow_fen,
                                    "escrow", d->order_id, now, e);
    }
    /* The escrow ended meanwhile and paid the seller the rest: this part is theirs too. */
    return books_post(db, order_acct, seller, d->frozen_from_escrow_fen, "dispute_released", d->id,
                      now, e);
}

int disputes_close(struct db *db, const char *provider_dispute_id, const char *payment_id,
                   const char *outcome, const char *detail, int64_t now, struct dispute_row *out,
                   bool *replayed, struct km_error *e)
{
    *replayed = false;
    struct dispute_row d;
    if (store_dispute_by_provider(db, provider_dispute_id, &d) != 0 ||
        strcmp(d.payment_id, payment_id) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "dispute_id",
                       "no dispute the shop knows of matches this notice");
    }
    bool won = strcmp(outcome, "won") == 0;
    enum dispute_status from, to;
    if (dispute_status_parse(d.status, &from) != 0) {
        return storage(e, "corrupt dispute");
    }
    if (!dispute_is_open(from)) {
        if ((from == DISPUTE_WON) != won) {
            return km_fail(e, KM_ESTATE, "dispute_closed", "outcome",
                           "dispute %s was already closed as %s", d.id, d.status);
        }
        *replayed = true;
        *out = d;
        return 0;
    }
    if (dispute_transition(from, won ? DISPUTE_EV_WIN : DISPUTE_EV_LOSE, &to) != 0) {
        return km_fail(e, KM_ESTATE, "dispute_closed", NULL, "dispute %s is %s", d.id, d.status);
    }
    int rc = 0;
    if (d.frozen_fen > 0) {
        rc = won ? release(db, &d, now, e) : books_resolve(db, "dispute", d.id, true, now, e);
    }
    if (rc != 0) {
        return rc;
    }
    char before[16];
    snprintf(before, sizeof before, "%s", d.status);
    snprintf(d.status, sizeof d.status, "%s", dispute_status_name(to));
    snprintf(d.outcome_detail, sizeof d.outcome_detail, "%s", detail);
    d.closed_at = now;
    if (store_dispute_update(db, &d, before, NULL) != 0) {
        return storage(e, "the dispute was not updated");
    }
    if (!won && d.frozen_fen > 0) {
        /* The money is back with the buyer: the order settles like after any refund. */
        struct order o;
        if (store_order_get(db, d.order_id, &o) != 0) {
            return storage(e, "order unavailable");
        }
        /* Account goods whose escrow had gone to the seller: the shop's revenue paid what the
         * provider took back, to be recovered from the seller, as after a refund. */
        int64_t fronted = 0;
        if (strcmp(o.kind, "account") == 0 &&
            store_ledger_posted_of(db, "refund_reversal", d.id, &fronted) != 0) {
            return storage(e, "ledger unavailable");
        }
        if (fronted > 0) {
            char fen[24];
            snprintf(fen, sizeof fen, "%lld", (long long)fronted);
            executor_log(LOG_WARN, "dispute_seller_recovery_due", "dispute_id", d.id, "order_id",
                         o.id, "seller_id", o.seller_id, "amount_fen", fen, NULL);
            if (orders_event(db, "dispute.seller_recovery_due", d.id, o.id, now) != 0) {
                return storage(e, "event not stored");
            }
        }
        rc = refunds_settle_order(db, &o, now, e);
        /* A refund of the payment the provider paid late, after the freeze was set, has paid
         * the buyer too: say so, for a person to recover it. */
        rc = rc != 0 ? rc : payouts_alert_paid_twice(db, d.payment_id, now, e);
        if (rc != 0) {
            return rc;
        }
    }
    if (orders_event(db, won ? "dispute.won" : "dispute.lost", d.id, d.order_id, now) != 0) {
        return storage(e, "event not stored");
    }
    executor_log(LOG_INFO, "dispute_closed", "dispute_id", d.id, "order_id", d.order_id, "status",
                 d.status, "detail", detail, NULL);
    *out = d;
    return log_dispute(db, "dispute_closed", &d,
                       json_pack("{s:s, s:s}", "status", d.status, "outcome_detail", detail), now,
                       e);
}

int disputes_respond(struct db *db, const char *dispute_id, const char *response,
                     const char *bundle, const char *staff, int64_t now, struct dispute_row *out,
                     struct km_error *e)
{
    struct dispute_row d;
    if (store_dispute_get(db, dispute_id, &d) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "dispute_id", "no such dispute");
    }
    enum dispute_status from, to;
    if (dispute_status_parse(d.status, &from) != 0 ||
        dispute_transition(from, DISPUTE_EV_RESPOND, &to) != 0) {
        return km_fail(e, KM_ESTATE, "dispute_not_open", NULL,
                       "dispute %s is %s: it takes no answer now", d.id, d.status);
    }
    if (now >= d.respond_by) {
        return km_fail(e, KM_ESTATE, "dispute_past_due", NULL,
                       "the provider's due date for an answer has passed");
    }
    struct order o;
    struct refund_facts f;
    if (store_order_get(db, d.order_id, &o) != 0) {
        return storage(e, "order unavailable");
    }
    int rc = refunds_facts(db, &o, now, &f, e);
    if (rc != 0) {
        return rc;
    }
    bool evidence = strcmp(response, "evidence") == 0;
    if (evidence) {
        uint8_t h[KM_SHA256_BYTES];
        km_sha256(bundle, strlen(bundle), h);
        for (int i = 0; i < KM_SHA256_BYTES; i++) {
            snprintf(d.bundle_sha256 + 2 * i, 3, "%02x", h[i]);
        }
    }
    struct payment p;
    if (store_payment_get(db, d.payment_id, &p) != 0) {
        return storage(e, "payment unavailable");
    }
    /* Nothing was frozen: what the buyer disputes was refunded before the dispute came. */
    bool applied = strcmp(p.disposition, "applied") == 0;
    struct dispute_answer a = {
        .response = response,
        .delivery_proven = applied && dispute_delivery_proven(&f),
        .already_refunded = d.frozen_fen == 0,
        .bundle_sha256 = d.bundle_sha256,
    };
    rc = dispute_sandbox_respond(db, d.provider_dispute_id, &a, e);
    if (rc != 0) {
        return rc;
    }
    char before[16];
    snprintf(before, sizeof before, "%s", d.status);
    snprintf(d.status, sizeof d.status, "%s", dispute_status_name(to));
    snprintf(d.response, sizeof d.response, "%s", response);
    snprintf(d.responded_by, sizeof d.responded_by, "%s", staff);
    d.responded_at = now;
    if (store_dispute_update(db, &d, before, evidence ? bundle : NULL) != 0) {
        return storage(e, "the dispute was not updated");
    }
    if (orders_event(db, "dispute.responded", d.id, d.order_id, now) != 0) {
        return storage(e, "event not stored");
    }
    *out = d;
    return log_dispute(db, "dispute_response", &d,
                       json_pack("{s:s, s:o, s:b}", "response", response, "bundle_sha256",
                                 evidence ? json_string(d.bundle_sha256) : json_null(),
                                 "delivery_proven", a.delivery_proven),
                       now, e);
}

/* Move the money of an open dispute's hold: void it and hold frozen_fen (> 0) instead. */
static int rehold(struct db *db, const struct dispute_row *d, const char *method,
                  int64_t frozen_fen, int64_t now, struct km_error *e)
{
    char order_acct[LEDGER_ACCOUNT_ID_BYTES_MAX], psp[LEDGER_ACCOUNT_ID_BYTES_MAX];
    books_account(order_acct, "order", d->order_id);
    books_account(psp, "psp", method);
    int rc = d->frozen_fen > 0 ? books_resolve(db, "dispute", d->id, false, now, e) : 0;
    return rc != 0 ? rc : books_hold(db, order_acct, psp, frozen_fen, "dispute", d->id, now, e);
}

static bool open_status(const char *status)
{
    enum dispute_status s;
    return dispute_status_parse(status, &s) == 0 && dispute_is_open(s);
}

int disputes_refund_returned(struct db *db, const char *payment_id, const char *order_id,
                             int64_t returned_fen, int64_t now, struct km_error *e)
{
    static __thread struct dispute_row rows[DISPUTES_PER_ORDER_MAX];
    int n = 0;
    struct payment p;
    if (store_disputes_of_order(db, order_id, rows, DISPUTES_PER_ORDER_MAX, &n) != 0) {
        return storage(e, "disputes unavailable");
    }
    for (int i = 0; i < n && returned_fen > 0; i++) {
        struct dispute_row *d = &rows[i];
        if (strcmp(d->payment_id, payment_id) != 0 || !open_status(d->status) ||
            d->frozen_fen >= d->amount_fen) {
            continue;
        }
        if (store_payment_get(db, payment_id, &p) != 0) {
            return storage(e, "payment unavailable");
        }
        int64_t take = d->amount_fen - d->frozen_fen;
        take = take < returned_fen ? take : returned_fen;
        int rc = rehold(db, d, p.method, d->frozen_fen + take, now, e);
        if (rc != 0) {
            return rc;
        }
        if (store_dispute_set_frozen(db, d->id, d->frozen_fen + take) != 0) {
            return storage(e, "the dispute was not updated");
        }
        char fen[24];
        snprintf(fen, sizeof fen, "%lld", (long long)(d->frozen_fen + take));
        executor_log(LOG_WARN, "dispute_freeze_raised", "dispute_id", d->id, "order_id", order_id,
                     "frozen_fen", fen, NULL);
        returned_fen -= take;
    }
    return 0;
}

int disputes_recognise_revenue(struct db *db, const struct order *o, int64_t now,
                               struct km_error *e)
{
    static __thread struct dispute_row rows[DISPUTES_PER_ORDER_MAX];
    static __thread bool withheld[DISPUTES_PER_ORDER_MAX];
    char methods[DISPUTES_PER_ORDER_MAX][16];
    int n = 0;
    if (store_disputes_of_order(db, o->id, rows, DISPUTES_PER_ORDER_MAX, &n) != 0) {
        return storage(e, "disputes unavailable");
    }
    /* Open freezes of the applied payment go back to the order's account first… */
    for (int i = 0; i < n; i++) {
        struct payment p;
        withheld[i] = false;
        if (!open_status(rows[i].status) || rows[i].frozen_fen == 0) {
            continue;
        }
        if (store_payment_get(db, rows[i].payment_id, &p) != 0) {
            return storage(e, "payment unavailable");
        }
        if (strcmp(p.disposition, "applied") != 0) {
            continue;
        }
        snprintf(methods[i], sizeof methods[i], "%s", p.method);
        int rc = books_resolve(db, "dispute", rows[i].id, false, now, e);
        if (rc != 0) {
            return rc;
        }
        withheld[i] = true;
    }
    char order_acct[LEDGER_ACCOUNT_ID_BYTES_MAX], psp[LEDGER_ACCOUNT_ID_BYTES_MAX];
    books_account(order_acct, "order", o->id);
    int rc = books_post(db, order_acct, "revenue:shop", o->amount_fen, "delivery", o->id, now, e);
    /* …then are frozen again out of revenue, as a dispute after delivery is. */
    for (int i = 0; rc == 0 && i < n; i++) {
        if (!withheld[i]) {
            continue;
        }
        books_account(psp, "psp", methods[i]);
        rc = books_post(db, "revenue:shop", order_acct, rows[i].frozen_fen, "refund_reversal",
                        rows[i].id, now, e);
        rc = rc != 0 ? rc
                     : books_hold(db, order_acct, psp, rows[i].frozen_fen, "dispute", rows[i].id,
                                  now, e);
    }
    return rc;
}
