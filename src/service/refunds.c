/* The refund engine's facts and the machine's own refunds. Every approval becomes one refund per
 * paying route with its own immutable provider request number; the money is held in the ledger
 * (order -> provider) until the provider confirms, then posted, or voided if it fails for good
 * (payouts.c follows that life). */
#include "service/refunds.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/limits.h"
#include "core/log.h"
#include "domain/order_state.h"
#include "service/books.h"
#include "service/cases.h"
#include "service/evidence_log.h"
#include "service/executor.h"
#include "service/orders.h"
#include "service/refunds_int.h"
#include "store/store_ledger.h"

extern const unsigned char calendar_tsv[];
extern const size_t calendar_tsv_len;

static struct calendar cal;

int refunds_init(void)
{
    int bad_line = 0;
    struct km_error e;
    if (calendar_parse((const char *)calendar_tsv, calendar_tsv_len, &cal, &bad_line, &e) != 0) {
        char line[16];
        snprintf(line, sizeof line, "%d", bad_line);
        log_write(LOG_ERROR, "calendar_invalid", "line", line, "message", e.message, NULL);
        return -KM_EINTERNAL;
    }
    return 0;
}

const struct calendar *refunds_calendar(void)
{
    return &cal;
}

int64_t refunds_expected_by(const char *method, int64_t amount_fen, int64_t now)
{
    if (strcmp(method, "balance") == 0) {
        return now;
    }
    int days = amount_fen < 10000 ? 3 : 7;
    if (strcmp(method, "wechat") == 0 || strcmp(method, "alipay") == 0) {
        days = 1; /* the wallets refund to their balance within the day */
    }
    return calendar_add_working_days(&cal, now, days);
}

static enum topup_state topup_state_of(const char *status)
{
    if (strcmp(status, "succeeded") == 0) {
        return TOPUP_CREDITED;
    }
    if (strcmp(status, "failed") == 0) {
        return TOPUP_FAILED;
    }
    if (strcmp(status, "wrong_region") == 0) {
        return TOPUP_WRONG_REGION;
    }
    return TOPUP_PENDING;
}

int refunds_preview(struct db *db, const char *order_id, enum refund_reason reason, int64_t now,
                    struct refund_decision *d, int64_t *expected_by, struct km_error *e)
{
    *expected_by = 0;
    struct order o;
    struct refund_facts f;
    if (store_order_get(db, order_id, &o) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "order_id", "no such order");
    }
    int rc = refunds_facts(db, &o, now, &f, e);
    if (rc != 0) {
        return rc;
    }
    refund_policy_decide(&f, reason, d);
    if (d->outcome != OUTCOME_APPROVE && d->outcome != OUTCOME_WAIT &&
        d->outcome != OUTCOME_REVIEW) {
        return 0;
    }
    struct payment pays[PAYMENTS_PER_ORDER_MAX];
    int n = 0;
    if (store_payments_of_order(db, o.id, pays, PAYMENTS_PER_ORDER_MAX, &n) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "payments unavailable");
    }
    /* The routes the refund would go back by, as refunds_execute chooses them: E3 may use any
     * captured payment, every other rule only the applied one. The slowest route sets the date. */
    bool any_route = d->rule == RULE_E3;
    int64_t from = d->outcome == OUTCOME_WAIT ? d->wait_until_ms : now;
    for (int i = 0; i < n; i++) {
        if (strcmp(pays[i].status, "succeeded") != 0 ||
            (!any_route && strcmp(pays[i].disposition, "applied") != 0)) {
            continue;
        }
        int64_t by = refunds_expected_by(pays[i].method, d->amount_fen, from);
        *expected_by = by > *expected_by ? by : *expected_by;
    }
    return 0;
}

int refunds_facts(struct db *db, const struct order *o, int64_t now, struct refund_facts *f,
                  struct km_error *e)
{
    memset(f, 0, sizeof *f);
    struct product p;
    if (store_product_get(db, o->product_id, &p) != 0) {
        return km_fail(e, KM_EINTERNAL, "corrupt_order", NULL, "order without product");
    }
    f->kind = strcmp(o->kind, "card_key") == 0       ? GOODS_CARD_KEY
              : strcmp(o->kind, "direct_topup") == 0 ? GOODS_DIRECT_TOPUP
                                                     : GOODS_ACCOUNT;
    f->now_ms = now;
    f->paid_at_ms = o->paid_at;
    f->delivered_at_ms = o->delivered_at;
    f->delivery_failed = strcmp(o->status, "failed") == 0;
    f->refund_window_hours = p.refund_window_hours;
    f->no_reason_days = p.no_reason_days;
    f->topup_timeout_minutes = p.topup_timeout_minutes;

    struct payment pays[PAYMENTS_PER_ORDER_MAX];
    int n = 0;
    if (store_payments_of_order(db, o->id, pays, PAYMENTS_PER_ORDER_MAX, &n) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "payments unavailable");
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(pays[i].status, "succeeded") != 0) {
            continue;
        }
        int64_t refunded = 0, disputed = 0;
        if (store_refunded_of_payment(db, pays[i].id, &refunded) != 0 ||
            store_disputed_of_payment(db, pays[i].id, &disputed) != 0) {
            return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
        }
        if (strcmp(pays[i].disposition, "applied") == 0) {
            f->amount_fen += pays[i].amount_fen;
            f->refunded_fen += refunded;
            f->disputed_fen += disputed;
        } else if (pays[i].amount_fen > refunded + disputed) {
            f->unapplied_fen += pays[i].amount_fen - refunded - disputed;
        }
    }
    if (f->kind == GOODS_DIRECT_TOPUP) {
        struct topup t;
        f->topup = store_topup_get_by_order(db, o->id, &t) == 0 ? topup_state_of(t.status)
                                                                 : TOPUP_NONE;
    }
    if (f->kind == GOODS_CARD_KEY) {
        static __thread struct card_key keys[ORDER_QUANTITY_MAX];
        int kn = 0;
        if (store_cards_of_order(db, o->id, keys, ORDER_QUANTITY_MAX, &kn) != 0 ||
            store_activations_of_order(db, o->id, &f->keys_activated) != 0) {
            return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "card keys unavailable");
        }
        f->keys_total = kn;
        f->issuer_can_void = true;
        for (int i = 0; i < kn; i++) {
            /* Per key, however many times it was revealed: one buyer revealing one key often
             * must not hide that another key was revealed too. */
            bool revealed = false;
            if (store_key_revealed(db, keys[i].id, &revealed) != 0) {
                return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "reveals unavailable");
            }
            if (revealed) {
                f->keys_revealed++;
                /* The sandbox issuer voids keys whose number ends in an even digit. */
                size_t len = strlen(keys[i].masked);
                char last = len > 0 ? keys[i].masked[len - 1] : '*';
                if (last < '0' || last > '9' || (last - '0') % 2 != 0) {
                    f->issuer_can_void = false;
                }
            }
        }
    }
    if (f->kind == GOODS_ACCOUNT) {
        char pending[ID_BYTES_MAX];
        f->escrow_held = store_ledger_pending_find(db, "escrow", o->id, pending) == 0;
        f->seller_delivered = o->delivered_at != 0;
    }
    return 0;
}

void refunds_facts_json(const struct refund_facts *f, uint32_t used, char *buf, size_t len)
{
    static const char *const topups[] = {"none", "pending", "credited", "failed", "wrong_region"};
    static const char *const kinds[] = {"card_key", "direct_topup", "account"};
    json_t *used_list = json_array();
    static const char *const names[] = {"terms",   "payments",    "delivery", "topup_record",
                                        "reveals", "activations", "escrow",   "refunds"};
    for (unsigned i = 0; i < 8; i++) {
        if ((used & (1u << i)) != 0) {
            json_array_append_new(used_list, json_string(names[i]));
        }
    }
    char paid[40], delivered[40], now[40];
    json_t *o = json_pack(
        "{s:s, s:s, s:o, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:{s:I, s:I, s:I}, s:s, s:i,"
        " s:i, s:i, s:b, s:b, s:b}",
        "policy_version", REFUND_POLICY_VERSION, "kind", kinds[f->kind], "consulted", used_list,
        "now", clock_format(f->now_ms, now, sizeof now), "paid_at",
        f->paid_at_ms ? clock_format(f->paid_at_ms, paid, sizeof paid) : "",
        "delivered_at",
        f->delivered_at_ms ? clock_format(f->delivered_at_ms, delivered, sizeof delivered) : "",
        "amount_fen", (json_int_t)f->amount_fen, "unapplied_fen", (json_int_t)f->unapplied_fen,
        "refunded_fen", (json_int_t)f->refunded_fen, "disputed_fen", (json_int_t)f->disputed_fen,
        "delivery_failed", f->delivery_failed, "terms", "refund_window_hours",
        (json_int_t)f->refund_window_hours, "no_reason_days", (json_int_t)f->no_reason_days,
        "topup_timeout_minutes", (json_int_t)f->topup_timeout_minutes, "topup", topups[f->topup],
        "keys_total", f->keys_total, "keys_revealed", f->keys_revealed, "keys_activated",
        f->keys_activated, "issuer_can_void", f->issuer_can_void, "escrow_held", f->escrow_held,
        "seller_delivered", f->seller_delivered);
    km_assert(o != NULL);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    km_assert(text != NULL);
    snprintf(buf, len, "%s", text);
    free(text);
}

/* Make amount_fen available in the order's account. A refund for the goods (from_escrow) takes
 * first from the seller's escrow hold, which holds what is left of the applied payment; money
 * lying in the order's account may be a second payment's, owed back by its own refund. Then what
 * lies there, and last what delivered goods earned the shop (revenue). */
int refunds_free_order_money(struct db *db, const struct order *o, int64_t amount_fen,
                             const char *refund_id, bool from_escrow, int64_t now,
                             struct km_error *e)
{
    char order_acct[LEDGER_ACCOUNT_ID_BYTES_MAX];
    books_account(order_acct, "order", o->id);
    int64_t needed = amount_fen;
    char pending[ID_BYTES_MAX], debit[LEDGER_ACCOUNT_ID_BYTES_MAX],
        credit[LEDGER_ACCOUNT_ID_BYTES_MAX], state[16];
    int64_t held = 0;
    if (from_escrow && store_ledger_pending_find(db, "escrow", o->id, pending) == 0 &&
        store_ledger_pending_get(db, pending, debit, credit, &held, state) == 0) {
        /* Take from the escrow only what this refund needs: void the hold and hold the rest
         * for the seller again. The money voided lands in the order's account. */
        int64_t take = needed < held ? needed : held;
        int rc = books_resolve(db, "escrow", o->id, false, now, e);
        if (rc == 0 && held - take > 0) {
            rc = books_hold(db, order_acct, credit, held - take, "escrow", o->id, now, e);
        }
        if (rc != 0) {
            return rc;
        }
        needed -= take;
    }
    struct ledger_account acct;
    if (store_ledger_account_load(db, order_acct, LEDGER_DEBITS_MUST_NOT_EXCEED_CREDITS, &acct) !=
        0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "ledger unavailable");
    }
    /* What lies in the account beyond what the escrow just gave back. */
    int64_t available = acct.credits_posted - acct.debits_posted - acct.debits_pending -
                        (amount_fen - needed);
    if (available >= needed) {
        return 0;
    }
    /* Delivered goods: the refund comes back out of the shop's revenue (for account goods whose
     * escrow went to the seller, refunds_pay_back says it is to be recovered from the seller). */
    return books_post(db, "revenue:shop", order_acct, needed - (available > 0 ? available : 0),
                      "refund_reversal", refund_id, now, e);
}

/* The payout's result in the evidence log: the refund's status, or what the provider did that
 * the status does not say (paid_twice). */
int refunds_log_payout(struct db *db, const struct refund_row *r, const char *status, int64_t now,
                       struct km_error *e)
{
    return evlog_append(db, "payout_result", r->order_id,
                        json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "refund_id", r->id,
                                  "provider_request_no", r->provider_request_no, "method",
                                  r->method, "amount_fen", (json_int_t)r->amount_fen, "rule",
                                  r->rule, "status", status),
                        now, e);
}

/* A refund for account goods whose escrow already went to the seller (the buyer confirmed, or the
 * window ended) is paid by the shop: what its revenue fronted is to be recovered from the seller,
 * outside the shop. The shop says so, for a person to act on and record (GET /v1/attention). Not
 * for a refund of the platform's own fault (E3): that is the shop's to bear. */
static int note_seller_recovery(struct db *db, const struct order *o, const char *refund_id,
                                const char *rule, int64_t now, struct km_error *e)
{
    if (strcmp(o->kind, "account") != 0 || strcmp(o->status, "completed") != 0 ||
        strcmp(rule, "E3") == 0) {
        return 0;
    }
    int64_t fronted = 0;
    if (store_ledger_posted_of(db, "refund_reversal", refund_id, &fronted) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "ledger unavailable");
    }
    if (fronted == 0) {
        return 0; /* paid from money that lay in the order */
    }
    char fen[24];
    snprintf(fen, sizeof fen, "%lld", (long long)fronted);
    executor_log(LOG_WARN, "refund_seller_recovery_due", "refund_id", refund_id, "order_id", o->id,
                 "seller_id", o->seller_id, "amount_fen", fen, NULL);
    return orders_event(db, "refund.seller_recovery_due", refund_id, o->id, now) == 0
               ? 0
               : km_fail(e, KM_EINTERNAL, "storage_error", NULL, "event not stored");
}

/* A refund of amount_fen from payment p; rerouted_from names the refund it pays again, if any. */
int refunds_pay_back(struct db *db, const struct order *o, const struct payment *p,
                     const char *case_id, const char *rule, int64_t amount_fen,
                     const char *rerouted_from, int64_t now, struct km_error *e)
{
    /* Every refund is made here, so the cap is checked here too, whatever the caller checked:
     * what the payment captured bounds all its refunds that are not failed. */
    int64_t refunded = 0, disputed = 0;
    if (store_refunded_of_payment(db, p->id, &refunded) != 0 ||
        store_disputed_of_payment(db, p->id, &disputed) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    }
    if (amount_fen > 0 && disputed > 0 && refunded + disputed + amount_fen > p->amount_fen) {
        /* The provider holds that money until it decides the dispute; paying it back here too
         * could pay the buyer twice. */
        return km_fail(e, KM_ESTATE, "payment_disputed", "amount_fen",
                       "%lld fen of this payment are frozen for a dispute at the payment "
                       "provider; they cannot be refunded until the provider decides it",
                       (long long)disputed);
    }
    if (amount_fen <= 0 || refunded + amount_fen > p->amount_fen) {
        return km_fail(e, KM_ESTATE, "refund_exceeds_captured", "amount_fen",
                       "a refund of %lld fen would take this payment's refunds past the %lld "
                       "fen it captured",
                       (long long)amount_fen, (long long)p->amount_fen);
    }
    struct refund_row r = {0};
    snprintf(r.rerouted_from, sizeof r.rerouted_from, "%s",
             rerouted_from != NULL ? rerouted_from : "");
    id_new("rf", r.id);
    /* The request number the provider sees: fixed now, reused on every retry. */
    id_new("rfq", r.provider_request_no);
    snprintf(r.order_id, sizeof r.order_id, "%s", o->id);
    snprintf(r.case_id, sizeof r.case_id, "%s", case_id != NULL ? case_id : "");
    snprintf(r.payment_id, sizeof r.payment_id, "%s", p->id);
    snprintf(r.method, sizeof r.method, "%s", p->method);
    snprintf(r.rule, sizeof r.rule, "%s", rule);
    snprintf(r.status, sizeof r.status, "pending");
    r.amount_fen = amount_fen;
    r.created_at = now;
    r.next_attempt_at = now;
    r.expected_by = refunds_expected_by(p->method, amount_fen, now);
    /* A new claim on the goods comes out of the seller's escrow first; a move pays again what
     * came back to the order when the refund it replaces failed. */
    bool for_goods = strcmp(p->disposition, "applied") == 0 && rerouted_from == NULL;
    int rc = refunds_free_order_money(db, o, amount_fen, r.id, for_goods, now, e);
    rc = rc != 0 || !for_goods ? rc : note_seller_recovery(db, o, r.id, rule, now, e);
    if (rc != 0) {
        return rc;
    }
    char order_acct[LEDGER_ACCOUNT_ID_BYTES_MAX], psp[LEDGER_ACCOUNT_ID_BYTES_MAX];
    books_account(order_acct, "order", o->id);
    books_account(psp, "psp", p->method);
    rc = books_hold(db, order_acct, psp, amount_fen, "refund", r.id, now, e);
    if (rc != 0) {
        return rc;
    }
    bool instant = strcmp(p->method, "balance") == 0;
    if (instant) {
        /* The shop's own balance: no provider, the money is back at once. */
        rc = books_resolve(db, "refund", r.id, true, now, e);
        if (rc != 0) {
            return rc;
        }
        snprintf(r.status, sizeof r.status, "succeeded");
        r.completed_at = now;
    }
    if (store_refund_insert(db, &r) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the refund was not stored");
    }
    int erc = orders_event(db, instant ? "refund.succeeded" : "refund.created", r.id, o->id, now);
    if (erc != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "event not stored");
    }
    return instant ? refunds_log_payout(db, &r, r.status, now, e) : 0;
}

/* After a refund of the applied amount: the order is refunded when nothing of it is left, its
 * unrevealed card keys go back to stock and revealed ones are voided. */
int refunds_settle_order(struct db *db, struct order *o, int64_t now, struct km_error *e)
{
    struct refund_facts f;
    int rc = refunds_facts(db, o, now, &f, e);
    if (rc != 0 || f.amount_fen == 0 || f.refunded_fen < f.amount_fen) {
        return rc;
    }
    if (strcmp(o->kind, "card_key") == 0 && store_cards_return(db, o->id) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "keys not returned");
    }
    enum order_status s;
    if (order_status_parse(o->status, &s) == 0 && s != ORDER_REFUNDED) {
        return orders_apply(db, o, ORDER_EV_REFUND, now, e);
    }
    return 0;
}

int refunds_execute(struct db *db, const struct order *order, const char *case_id,
                    const char *rule, int64_t amount_fen, int64_t now, struct km_error *e)
{
    struct order o = *order;
    struct refund_facts f;
    int rc = refunds_facts(db, &o, now, &f, e);
    if (rc != 0) {
        return rc;
    }
    /* E3 pays back money the order did not need, then the order itself; every other rule is
     * about the goods and pays back only what was applied to them. */
    bool platform_fault = strcmp(rule, "E3") == 0;
    int64_t allowed = refund_policy_refundable_fen(&f) + (platform_fault ? f.unapplied_fen : 0);
    if (amount_fen > allowed && f.disputed_fen > 0) {
        return km_fail(e, KM_ESTATE, "payment_disputed", "amount_fen",
                       "%lld fen of this order are frozen for a dispute at the payment provider; "
                       "at most %lld fen can be refunded until the provider decides it",
                       (long long)f.disputed_fen, (long long)allowed);
    }
    if (amount_fen <= 0 || amount_fen > allowed) {
        /* Never more than was captured and not yet refunded. */
        return km_fail(e, KM_ESTATE, "refund_exceeds_captured", "amount_fen",
                       "%lld fen is more than is left to refund (%lld)", (long long)amount_fen,
                       (long long)allowed);
    }
    struct payment pays[PAYMENTS_PER_ORDER_MAX];
    int n = 0;
    if (store_payments_of_order(db, o.id, pays, PAYMENTS_PER_ORDER_MAX, &n) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "payments unavailable");
    }
    int64_t left = amount_fen;
    /* Unapplied payments first (E3), each by its own route; then the applied one. */
    for (int pass = platform_fault ? 0 : 1; pass < 2 && left > 0; pass++) {
        for (int i = 0; i < n && left > 0; i++) {
            bool applied = strcmp(pays[i].disposition, "applied") == 0;
            if (strcmp(pays[i].status, "succeeded") != 0 || applied != (pass == 1)) {
                continue;
            }
            int64_t refunded = 0, disputed = 0;
            if (store_refunded_of_payment(db, pays[i].id, &refunded) != 0 ||
                store_disputed_of_payment(db, pays[i].id, &disputed) != 0) {
                return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
            }
            int64_t room = pays[i].amount_fen - refunded - disputed;
            int64_t take = room < left ? room : left;
            if (take <= 0) {
                continue;
            }
            rc = refunds_pay_back(db, &o, &pays[i], case_id, rule, take, NULL, now, e);
            if (rc != 0) {
                return rc;
            }
            left -= take;
        }
    }
    km_assert(left == 0);
    return refunds_settle_order(db, &o, now, e);
}

int refunds_auto(struct db *db, const char *order_id, int64_t now, struct km_error *e)
{
    struct order o;
    if (store_order_get(db, order_id, &o) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "order_id", "no such order");
    }
    struct refund_facts f;
    int rc = refunds_facts(db, &o, now, &f, e);
    if (rc != 0) {
        return rc;
    }
    struct refund_decision d;
    refund_policy_check(&f, &d);
    if (d.outcome != OUTCOME_APPROVE) {
        return 0;
    }
    char facts[FACTS_JSON_BYTES_MAX];
    refunds_facts_json(&f, d.facts, facts, sizeof facts);
    return cases_system_decision(db, o.id, &d, facts, now, e);
}
