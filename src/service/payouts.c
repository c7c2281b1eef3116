/* A refund's payout after it is made: what the provider says about it (accepted, refused, no
 * answer, a result, a payment after it reported a failure), and moving a refund the route could
 * not pay to the shop balance, once. */
#include "service/payouts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/books.h"
#include "service/cases.h"
#include "service/disputes.h"
#include "service/executor.h"
#include "service/orders.h"
#include "service/refunds.h"
#include "service/refunds_int.h"
#include "store/store_events.h"
#include "store/store_ledger.h"

/* The refund a payout report is about: 1 while it is pending; 0 once it ended, when a late or
 * repeated report changes nothing and the first one counted; a negative code if there is none. */
static int pending_refund(struct db *db, const char *refund_id, struct refund_row *r,
                          struct km_error *e)
{
    if (store_refund_get(db, refund_id, r) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "refund_id", "no such refund");
    }
    return strcmp(r->status, "pending") == 0 ? 1 : 0;
}

int payouts_accepted(struct db *db, const char *refund_id, const char *provider_refund_id,
                     int64_t now, struct km_error *e)
{
    struct refund_row r;
    int found = pending_refund(db, refund_id, &r, e);
    if (found <= 0) {
        return found;
    }
    snprintf(r.provider_refund_id, sizeof r.provider_refund_id, "%s", provider_refund_id);
    r.attempts++;
    r.next_attempt_at = now + (int64_t)PAYOUT_POLL_INTERVAL_S * 1000;
    r.failure_reason[0] = '\0';
    return store_refund_update(db, &r, "pending") == 0
               ? 0
               : km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the refund was not stored");
}

/* The buyer was paid twice, over_fen too much: the shop says so in the order's events (and
 * webhooks), the evidence log and its own log, for a person to recover it. */
static int raise_paid_twice(struct db *db, const struct refund_row *r, int64_t over_fen,
                            int64_t now, struct km_error *e)
{
    if (orders_event(db, "refund.paid_twice", r->id, r->order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "event not stored");
    }
    int rc = refunds_log_payout(db, r, "paid_twice", now, e);
    if (rc != 0) {
        return rc;
    }
    char over[24];
    snprintf(over, sizeof over, "%lld", (long long)over_fen);
    executor_log(LOG_ERROR, "refund_paid_twice", "refund_id", r->id, "order_id", r->order_id,
                 "payment_id", r->payment_id, "over_fen", over, NULL);
    return 0;
}

/* How much more than it captured a payment's succeeded refunds add up to: above zero only when a
 * provider paid a refund the shop had ended and paid another way. */
static int paid_over_captured(struct db *db, const struct refund_row *r, int64_t *over)
{
    struct payment p;
    int64_t paid = 0;
    if (store_payment_get(db, r->payment_id, &p) != 0 ||
        store_paid_of_payment(db, p.id, &paid) != 0) {
        return -KM_EINTERNAL;
    }
    *over = paid > p.amount_fen ? paid - p.amount_fen : 0;
    return 0;
}

/* After a refund succeeded. */
static int alert_if_paid_twice(struct db *db, const struct refund_row *r, int64_t now,
                               struct km_error *e)
{
    int64_t over = 0;
    if (paid_over_captured(db, r, &over) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    }
    return over > 0 ? raise_paid_twice(db, r, over, now, e) : 0;
}

static int credited_after_refund(struct db *db, const struct refund_row *r, bool *credited);

/* A refund that failed for good, and its money came back to the order: the part of it nobody is
 * owed goes back to the shop's revenue, instead of lying in the order's account with no claim on
 * it. That is all of it when the top-up it refunded (E1) reached the account after all: the buyer
 * has what they paid for. Otherwise it is what its payment no longer owes (the captured amount
 * less its other refunds), which exists when another refund of the payment, ended as failed, was
 * paid late by its provider while this one was in flight: that late payment came out of revenue
 * (paid_after_failure). What is still owed stays for the buyer to move or claim. Run when the
 * refund fails and when a top-up is credited after its refund; what went back before counts, so
 * nothing goes back twice. */
static int return_unowed(struct db *db, const struct refund_row *r, int64_t now, struct km_error *e)
{
    struct payment p;
    int64_t refunded = 0, returned = 0;
    bool credited = false;
    char order_acct[LEDGER_ACCOUNT_ID_BYTES_MAX];
    books_account(order_acct, "order", r->order_id);
    struct ledger_account acct;
    if (store_payment_get(db, r->payment_id, &p) != 0 ||
        store_refunded_of_payment(db, p.id, &refunded) != 0 ||
        credited_after_refund(db, r, &credited) != 0 ||
        store_ledger_posted_of(db, "unowed_refund", r->id, &returned) != 0 ||
        store_ledger_account_load(db, order_acct, LEDGER_DEBITS_MUST_NOT_EXCEED_CREDITS, &acct) !=
            0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    }
    int64_t owed = credited ? 0 : p.amount_fen > refunded ? p.amount_fen - refunded : 0;
    int64_t unowed = (r->amount_fen > owed ? r->amount_fen - owed : 0) - returned;
    int64_t available = acct.credits_posted - acct.debits_posted - acct.debits_pending;
    if (unowed > available) {
        unowed = available; /* never more than lies there */
    }
    if (unowed <= 0) {
        return 0;
    }
    return books_post(db, order_acct, "revenue:shop", unowed, "unowed_refund", r->id, now, e);
}

static int finish(struct db *db, struct refund_row *r, const char *was, const char *status,
                  const char *detail, int64_t now, struct km_error *e)
{
    bool ok = strcmp(status, "succeeded") == 0;
    bool held = strcmp(status, "requires_action") == 0;
    if (!held) {
        /* Succeeded: the held money leaves for good. Failed: it comes back to the order. */
        int rc = books_resolve(db, "refund", r->id, ok, now, e);
        if (rc != 0) {
            return rc;
        }
        r->completed_at = now;
    }
    snprintf(r->status, sizeof r->status, "%s", status);
    snprintf(r->failure_reason, sizeof r->failure_reason, "%s", ok ? "" : detail);
    char type[40];
    snprintf(type, sizeof type, "refund.%s", status);
    if (store_refund_update(db, r, was) != 0 ||
        orders_event(db, type, r->id, r->order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the refund was not stored");
    }
    int rc = refunds_log_payout(db, r, r->status, now, e);
    if (rc != 0 || held) {
        return rc;
    }
    if (ok) {
        return alert_if_paid_twice(db, r, now, e);
    }
    rc = disputes_refund_returned(db, r->payment_id, r->order_id, r->amount_fen, now, e);
    return rc != 0 ? rc : return_unowed(db, r, now, e);
}

int payouts_alert_paid_twice(struct db *db, const char *payment_id, int64_t now, struct km_error *e)
{
    struct payment p;
    int64_t paid = 0;
    if (store_payment_get(db, payment_id, &p) != 0 || store_paid_of_payment(db, p.id, &paid) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    }
    if (paid <= p.amount_fen) {
        return 0;
    }
    /* Named after the payment's latest refund to succeed: the one paid on top. */
    struct refund_row *rs = NULL, *last = NULL;
    int n = 0;
    if (store_refunds_of_order(db, p.order_id, &rs, &n) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(rs[i].payment_id, p.id) == 0 && strcmp(rs[i].status, "succeeded") == 0 &&
            (last == NULL || rs[i].completed_at >= last->completed_at)) {
            last = &rs[i];
        }
    }
    int rc = last != NULL ? raise_paid_twice(db, last, paid - p.amount_fen, now, e) : 0;
    free(rs);
    return rc;
}

int payouts_topup_credited(struct db *db, const char *order_id, int64_t now, struct km_error *e)
{
    struct refund_row *rs = NULL;
    int n = 0;
    int rc = store_refunds_of_order(db, order_id, &rs, &n) == 0
                 ? 0
                 : km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    for (int i = 0; i < n && rc == 0; i++) {
        char successor[ID_BYTES_MAX];
        bool held = strcmp(rs[i].status, "requires_action") == 0;
        bool credited = false;
        if (!held && strcmp(rs[i].status, "failed") != 0) {
            continue;
        }
        if (store_refund_successor(db, rs[i].id, successor) != 0 ||
            credited_after_refund(db, &rs[i], &credited) != 0) {
            rc = km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
        } else if (successor[0] != '\0' || !credited) {
            continue;
        } else if (held) {
            /* Held on an abnormal account, waiting for the buyer to choose another route: there
             * is nothing to choose now. It ends, and its money goes back with the rest. */
            rc = finish(db, &rs[i], "requires_action", "failed",
                        "the top-up reached the account after all: nothing is owed", now, e);
        } else {
            rc = return_unowed(db, &rs[i], now, e);
        }
    }
    free(rs);
    return rc;
}

/* Store a pending refund that goes to the provider again at r->next_attempt_at. */
static int retry_later(struct db *db, const struct refund_row *r, int64_t now, struct km_error *e)
{
    if (store_refund_update(db, r, "pending") != 0 ||
        orders_event(db, "refund.retrying", r->id, r->order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the refund was not stored");
    }
    return 0;
}

int payouts_refused(struct db *db, const char *refund_id, const char *why, int64_t now,
                    struct km_error *e)
{
    struct refund_row r;
    int found = pending_refund(db, refund_id, &r, e);
    if (found <= 0) {
        return found;
    }
    r.attempts++;
    if (r.attempts >= PAYOUT_ATTEMPTS_MAX) {
        return finish(db, &r, "pending", "failed", why, now, e);
    }
    int shift = (int)(r.attempts < 10 ? r.attempts - 1 : 9);
    r.next_attempt_at = now + ((int64_t)PAYOUT_BACKOFF_BASE_S * 1000 << shift);
    snprintf(r.failure_reason, sizeof r.failure_reason, "%s", why);
    return retry_later(db, &r, now, e);
}

int payouts_unanswered(struct db *db, const char *refund_id, const char *why, int64_t now,
                       struct km_error *e)
{
    struct refund_row r;
    int found = pending_refund(db, refund_id, &r, e);
    if (found <= 0) {
        return found;
    }
    r.next_attempt_at = now + (int64_t)PAYOUT_POLL_INTERVAL_S * 1000;
    snprintf(r.failure_reason, sizeof r.failure_reason,
             "no answer from the provider (%s); the same request goes again", why);
    return retry_later(db, &r, now, e);
}

/* The provider paid a refund after the shop had ended it as failed (a bank's late settlement).
 * The money left by this refund, so it succeeded. It is paid out of what came back to the order
 * when it failed; if that went back to the buyer another way meanwhile (moved to the balance, or
 * the next refund), the buyer has been paid twice: the shop bears it out of its revenue, never out
 * of a seller's escrow, and says so. A moved refund was paid twice whatever the amounts: a partial
 * refund paid twice stays under what the payment captured. */
static int paid_after_failure(struct db *db, struct refund_row *r, int64_t now, struct km_error *e)
{
    struct order o;
    if (store_order_get(db, r->order_id, &o) != 0) {
        return km_fail(e, KM_EINTERNAL, "corrupt_refund", NULL, "refund without order");
    }
    char successor[ID_BYTES_MAX];
    if (store_refund_successor(db, r->id, successor) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    }
    char order_acct[LEDGER_ACCOUNT_ID_BYTES_MAX], psp[LEDGER_ACCOUNT_ID_BYTES_MAX];
    books_account(order_acct, "order", o.id);
    books_account(psp, "psp", r->method);
    int rc = refunds_free_order_money(db, &o, r->amount_fen, r->id, false, now, e);
    rc = rc != 0 ? rc : books_post(db, order_acct, psp, r->amount_fen, "refund", r->id, now, e);
    if (rc != 0) {
        return rc;
    }
    snprintf(r->status, sizeof r->status, "succeeded");
    r->failure_reason[0] = '\0';
    r->completed_at = now;
    if (store_refund_update(db, r, "failed") != 0 ||
        orders_event(db, "refund.succeeded", r->id, r->order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the refund was not stored");
    }
    rc = refunds_log_payout(db, r, r->status, now, e);
    /* A moved refund's claim was settled by its move: counting both would call the order refunded
     * in full, returning its keys or stranding a seller's escrow. */
    rc = rc != 0 || successor[0] != '\0' ? rc : refunds_settle_order(db, &o, now, e);
    if (rc != 0) {
        return rc;
    }
    int64_t over = 0;
    if (paid_over_captured(db, r, &over) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    }
    bool credited = false;
    if (credited_after_refund(db, r, &credited) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "top-up unavailable");
    }
    /* Moved, or refunding a top-up that reached the account after all: the buyer has it twice. */
    if ((successor[0] != '\0' || credited) && over < r->amount_fen) {
        over = r->amount_fen;
    }
    return over > 0 ? raise_paid_twice(db, r, over, now, e) : 0;
}

int payouts_result(struct db *db, const char *refund_id, const char *status, const char *detail,
                   int64_t now, struct km_error *e)
{
    struct refund_row r;
    int found = pending_refund(db, refund_id, &r, e); /* a callback and a poll may both report it */
    if (found == 0 && strcmp(status, "succeeded") == 0) {
        /* Paid after all: on an abnormal account the buyer had not moved yet, or after the shop
         * gave the refund up. Any other report about an ended refund changes nothing. */
        if (strcmp(r.status, "requires_action") == 0) {
            return finish(db, &r, "requires_action", "succeeded", "", now, e);
        }
        if (strcmp(r.status, "failed") == 0) {
            return paid_after_failure(db, &r, now, e);
        }
    }
    if (found <= 0) {
        return found;
    }
    if (strcmp(status, "processing") == 0) {
        r.next_attempt_at = now + (int64_t)PAYOUT_POLL_INTERVAL_S * 1000;
        return store_refund_update(db, &r, "pending") == 0
                   ? 0
                   : km_fail(e, KM_EINTERNAL, "storage_error", NULL, "not stored");
    }
    if (strcmp(status, "succeeded") != 0 && strcmp(status, "failed") != 0 &&
        strcmp(status, "requires_action") != 0) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "status", "unknown refund status");
    }
    return finish(db, &r, "pending", status, detail != NULL ? detail : "", now, e);
}

/* A refund of a top-up that was not delivered (E1) whose top-up reached the account after all:
 * paying it again would give the buyer both. A storage error is not read as "not credited". */
static int credited_after_refund(struct db *db, const struct refund_row *r, bool *credited)
{
    *credited = false;
    if (strcmp(r->rule, "E1") != 0) {
        return 0;
    }
    struct topup t;
    int rc = store_topup_get_by_order(db, r->order_id, &t);
    if (rc == -KM_ENOTFOUND) {
        return 0; /* not a top-up order */
    }
    if (rc != 0 || strcmp(t.status, "succeeded") != 0) {
        return rc; /* credited elsewhere (wrong_region) is no delivery: the refund is owed */
    }
    /* And credited after the order was refunded (fulfilment raised the event then): a top-up
     * credited before its refund is no late credit, and a refund an agent approved under E1
     * after that is owed as approved. */
    return store_event_of_order_exists(db, r->order_id, "topup.credited_after_refund", credited);
}

int payouts_movable(struct db *db, const struct refund_row *r, int64_t *movable_fen)
{
    *movable_fen = 0;
    bool failed = strcmp(r->status, "failed") == 0;
    if (!failed && strcmp(r->status, "requires_action") != 0) {
        return 0;
    }
    char successor[ID_BYTES_MAX];
    if (store_refund_successor(db, r->id, successor) != 0) {
        return -1;
    }
    if (successor[0] != '\0') {
        return 0;
    }
    bool credited = false;
    if (credited_after_refund(db, r, &credited) != 0) {
        return -1;
    }
    if (credited) {
        return 0;
    }
    /* What the payment still owes besides this refund caps the move: nothing once it was
     * refunded in full some other way, and only the rest when another refund of it, ended as
     * failed, was paid late meanwhile. */
    struct payment p;
    int64_t refunded = 0, disputed = 0;
    if (store_payment_get(db, r->payment_id, &p) != 0 ||
        store_refunded_of_payment(db, p.id, &refunded) != 0 ||
        store_disputed_of_payment(db, p.id, &disputed) != 0) {
        return -1;
    }
    /* A held one counts itself; what a dispute at the provider froze is not the buyer's to
     * move until the provider decides. */
    int64_t others = (failed ? refunded : refunded - r->amount_fen) + disputed;
    int64_t owed = p.amount_fen - others;
    *movable_fen = owed <= 0 ? 0 : owed < r->amount_fen ? owed : r->amount_fen;
    return 0;
}

int payouts_unsettled(struct db *db, const char *order_id, struct refund_row *out,
                      struct km_error *e)
{
    struct refund_row *rs = NULL;
    int n = 0, found = 0;
    if (store_refunds_of_order(db, order_id, &rs, &n) != 0) {
        found = km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    }
    for (int i = 0; i < n && found == 0; i++) {
        int64_t movable_fen = 0;
        if (payouts_movable(db, &rs[i], &movable_fen) != 0) {
            found = km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
        } else if (movable_fen > 0) {
            *out = rs[i];
            found = 1;
        }
    }
    free(rs);
    return found;
}

int payouts_move_to_balance(struct db *db, const char *refund_id, const char *by, int64_t now,
                            struct refund_row *out, struct km_error *e)
{
    struct refund_row r;
    if (store_refund_get(db, refund_id, &r) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "refund_id", "no such refund");
    }
    bool stuck = strcmp(r.status, "requires_action") == 0;
    if (!stuck && strcmp(r.status, "failed") != 0) {
        return km_fail(e, KM_ESTATE, "refund_state", "refund_id",
                       "only a refund that needs action or failed can be moved; this one is %s",
                       r.status);
    }
    /* Once: a partial refund that failed would fit under the payment's captured amount again. */
    char successor[ID_BYTES_MAX];
    if (store_refund_successor(db, r.id, successor) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    }
    if (successor[0] != '\0') {
        return km_fail(e, KM_ESTATE, "refund_moved", "refund_id",
                       "this refund was moved to the shop balance already, as %s", successor);
    }
    struct order o;
    struct payment p;
    if (store_order_get(db, r.order_id, &o) != 0 || store_payment_get(db, r.payment_id, &p) != 0) {
        return km_fail(e, KM_EINTERNAL, "corrupt_refund", NULL, "refund without order");
    }
    bool credited = false;
    if (credited_after_refund(db, &r, &credited) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "top-up unavailable");
    }
    if (credited && strcmp(by, "buyer") == 0) {
        return km_fail(e, KM_ESTATE, "topup_credited", "refund_id",
                       "the top-up reached the account after this refund was made; the shop "
                       "settles it with you");
    }
    int rc;
    if (stuck) {
        /* The stuck refund ends (its hold comes back to the order), and a new one goes to the
         * shop balance, which settles at once. */
        rc = books_resolve(db, "refund", r.id, false, now, e);
        if (rc != 0) {
            return rc;
        }
        snprintf(r.status, sizeof r.status, "failed");
        snprintf(r.failure_reason, sizeof r.failure_reason, "moved to the shop balance by %s",
                 strcmp(by, "buyer") == 0 ? "the buyer" : "staff");
        r.completed_at = now;
        if (store_refund_update(db, &r, "requires_action") != 0) {
            return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the refund was not stored");
        }
        rc = refunds_log_payout(db, &r, r.status, now, e);
        rc = rc != 0 ? rc : return_unowed(db, &r, now, e);
        if (rc != 0) {
            return rc;
        }
    }
    /* A failed refund moves once: what is left of this payment to refund caps the new one, so
     * moving it again, or after it was paid some other way, refunds nothing twice. When another
     * refund of the payment was paid late meanwhile, the move pays only the rest. */
    int64_t refunded = 0;
    if (store_refunded_of_payment(db, p.id, &refunded) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    }
    int64_t amount =
        p.amount_fen - refunded < r.amount_fen ? p.amount_fen - refunded : r.amount_fen;
    if (amount <= 0) {
        return km_fail(e, KM_ESTATE, "refund_exceeds_captured", "refund_id",
                       "this payment has been refunded already");
    }
    snprintf(p.method, sizeof p.method, "balance");
    rc = refunds_pay_back(db, &o, &p, r.case_id, r.rule, amount, r.id, now, e);
    if (rc != 0) {
        return rc;
    }
    /* The new refund is the one that names this one. */
    if (store_refund_successor(db, r.id, successor) != 0 || successor[0] == '\0' ||
        store_refund_get(db, successor, out) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the new refund was not found");
    }
    if (strcmp(by, "buyer") == 0 || r.case_id[0] == '\0') {
        return 0;
    }
    /* Staff moved it: the case says who, for the buyer and the next agent to read. */
    char body[256];
    snprintf(body, sizeof body,
             "Refund %s of %lld.%02lld CNY, which was not paid out, is moved to the shop balance "
             "as refund %s of %lld.%02lld CNY.",
             r.id, (long long)(r.amount_fen / 100), (long long)(r.amount_fen % 100), out->id,
             (long long)(out->amount_fen / 100), (long long)(out->amount_fen % 100));
    return cases_message(db, r.case_id, by, false, body, "[]", e);
}

int payouts_note_overdue(struct db *db, const char *refund_id, int64_t now, struct km_error *e)
{
    struct refund_row r;
    if (store_refund_get(db, refund_id, &r) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "refund_id", "no such refund");
    }
    int rc = store_refund_mark_overdue(db, r.id, now);
    if (rc == -KM_ESTATE) {
        return 0; /* it ended, or was noted, since the timer listed it */
    }
    if (rc != 0 || orders_event(db, "refund.overdue", r.id, r.order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the refund was not stored");
    }
    char late_h[24];
    snprintf(late_h, sizeof late_h, "%lld", (long long)((now - r.expected_by) / 3600000));
    executor_log(LOG_WARN, "refund_overdue", "refund_id", r.id, "order_id", r.order_id, "status",
                 r.status, "method", r.method, "hours_late", late_h, "reason", r.failure_reason,
                 NULL);
    return 0;
}
