/* Payment attempts and captures, with the ledger transfer from the provider's clearing account
 * into the order's account in the same transaction as the capture. */
#include "service/payments.h"

#include <stdio.h>
#include <string.h>

#include "core/check.h"
#include "core/clock.h"
#include "core/limits.h"
#include "domain/order_state.h"
#include "service/books.h"
#include "service/evidence_log.h"
#include "service/fulfilment.h"
#include "service/orders.h"
#include "service/refunds.h"
#include "store/store_ledger.h"

bool payments_method_valid(const char *method)
{
    static const char *const methods[] = {"alipay", "wechat", "bank_card", "balance"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (strcmp(methods[i], method) == 0) {
            return true;
        }
    }
    return false;
}

int payments_create(struct db *db, const char *order_id, const char *method,
                    const char *target_confirmed, struct payment *out, struct km_error *e)
{
    memset(out, 0, sizeof *out);
    if (!payments_method_valid(method)) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "method",
                       "method must be alipay, wechat, bank_card or balance");
    }
    struct order o;
    if (store_order_get(db, order_id, &o) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "order_id", "no such order");
    }
    int64_t now = clock_now_ms();
    if (strcmp(o.status, "pending_payment") != 0) {
        return km_fail(e, KM_ESTATE, "order_not_payable", "order_id", "order %s is %s", o.id,
                       o.status);
    }
    if (o.expires_at <= now) {
        return km_fail(e, KM_ESTATE, "order_expired", "order_id",
                       "the payment window of order %s has passed; place a new order", o.id);
    }
    if (o.target_account[0] != '\0') {
        /* The buyer confirms the account exactly as the upstream will receive it. */
        if (target_confirmed == NULL) {
            return km_fail(e, KM_EINVAL, "target_not_confirmed", "target_confirmed",
                           "confirm the top-up account %s before paying", o.target_account);
        }
        if (strcmp(target_confirmed, o.target_account) != 0) {
            return km_fail(e, KM_EINVAL, "target_mismatch", "target_confirmed",
                           "the confirmed account does not match the order's account");
        }
    }
    int64_t count = 0;
    if (store_payments_count_of_order(db, o.id, &count) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "payments unavailable");
    }
    if (count >= PAYMENTS_PER_ORDER_MAX) {
        return km_fail(e, KM_ESTATE, "too_many_payments", "order_id",
                       "this order has %lld payment attempts already", (long long)count);
    }
    id_new("pay", out->id);
    snprintf(out->order_id, sizeof out->order_id, "%s", o.id);
    snprintf(out->method, sizeof out->method, "%s", method);
    snprintf(out->status, sizeof out->status, "requires_payment");
    out->amount_fen = o.amount_fen;
    out->created_at = now;
    if (store_payment_insert(db, out) != 0 ||
        orders_event(db, "payment.created", out->id, o.id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the payment was not stored");
    }
    return 0;
}

int payments_capture(struct db *db, const char *payment_id, const char *provider_txn_id,
                     int64_t amount_fen, struct payment *out, bool *already, struct km_error *e)
{
    *already = false;
    if (store_payment_get(db, payment_id, out) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "payment_id", "no such payment");
    }
    if (strcmp(out->status, "succeeded") == 0) {
        if (strcmp(out->provider_txn_id, provider_txn_id) != 0) {
            return km_fail(e, KM_ESTATE, "payment_already_captured", "provider_txn_id",
                           "payment %s was captured by another transaction", payment_id);
        }
        *already = true;
        return 0;
    }
    if (strcmp(out->status, "requires_payment") != 0) {
        return km_fail(e, KM_ESTATE, "payment_not_capturable", "payment_id", "payment %s is %s",
                       payment_id, out->status);
    }
    if (amount_fen != out->amount_fen) {
        return km_fail(e, KM_EINVAL, "amount_mismatch", "amount_fen",
                       "captured %lld fen for a payment of %lld", (long long)amount_fen,
                       (long long)out->amount_fen);
    }
    int64_t now = clock_now_ms();
    struct order o;
    if (store_order_get(db, out->order_id, &o) != 0) {
        return km_fail(e, KM_EINTERNAL, "corrupt_payment", NULL, "payment without order");
    }
    /* An order whose window passed but the expiry timer has not reached yet expires now, so
     * the answer does not depend on when the timer last ran. */
    int rc = orders_expire_loaded(db, &o, now, e);
    if (rc != 0) {
        return rc;
    }
    const char *disposition;
    if (strcmp(o.status, "pending_payment") == 0) {
        disposition = "applied";
    } else if (strcmp(o.status, "expired") == 0) {
        disposition = "late";
    } else if (strcmp(o.status, "failed") == 0) {
        disposition = "undeliverable";
    } else {
        disposition = "duplicate";
    }
    snprintf(out->status, sizeof out->status, "succeeded");
    snprintf(out->disposition, sizeof out->disposition, "%s", disposition);
    snprintf(out->provider_txn_id, sizeof out->provider_txn_id, "%s", provider_txn_id);
    out->captured_at = now;
    rc = store_payment_update(db, out);
    if (rc == -KM_EDUPLICATE) {
        return km_fail(e, KM_ESTATE, "provider_txn_reused", "provider_txn_id",
                       "this provider transaction captured another payment");
    }
    if (rc != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the payment was not stored");
    }
    rc = evlog_append(db, "payment", o.id,
                      json_pack("{s:s, s:s, s:I, s:s, s:s}", "payment_id", out->id, "method",
                                out->method, "amount_fen", (json_int_t)amount_fen, "disposition",
                                disposition, "provider_txn_id", provider_txn_id),
                      now, e);
    if (rc != 0) {
        return rc;
    }
    char psp[LEDGER_ACCOUNT_ID_BYTES_MAX], order_acct[LEDGER_ACCOUNT_ID_BYTES_MAX];
    books_account(psp, "psp", out->method);
    books_account(order_acct, "order", o.id);
    rc = books_post(db, psp, order_acct, amount_fen, "payment", out->id, now, e);
    if (rc != 0) {
        return rc;
    }
    char type[48];
    snprintf(type, sizeof type, "payment.%s", strcmp(disposition, "applied") == 0
                                                   ? "succeeded"
                                                   : disposition);
    if (orders_event(db, type, out->id, o.id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the event was not stored");
    }
    if (strcmp(disposition, "applied") != 0) {
        /* Money the order did not need: paid back at once, by the route it came (E3). */
        return refunds_auto(db, o.id, now, e);
    }
    o.paid_at = now;
    /* Fulfilment moves the order on from paid in every case, and its move writes the row. */
    rc = orders_apply_then(db, &o, ORDER_EV_PAY, now, e);
    rc = rc != 0 ? rc : fulfil_after_payment(db, &o, now, e);
    km_assert(rc != 0 || strcmp(o.status, "paid") != 0);
    return rc;
}

int payments_fail(struct db *db, const char *payment_id, struct payment *out, struct km_error *e)
{
    if (store_payment_get(db, payment_id, out) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "payment_id", "no such payment");
    }
    if (strcmp(out->status, "failed") == 0) {
        return 0;
    }
    if (strcmp(out->status, "requires_payment") != 0) {
        return km_fail(e, KM_ESTATE, "payment_not_failable", "payment_id", "payment %s is %s",
                       payment_id, out->status);
    }
    snprintf(out->status, sizeof out->status, "failed");
    int64_t now = clock_now_ms();
    if (store_payment_update(db, out) != 0 ||
        orders_event(db, "payment.failed", out->id, out->order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the payment was not stored");
    }
    return 0;
}
