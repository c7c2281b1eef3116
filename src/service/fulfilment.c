/* Delivery of each kind of goods, with the ledger movement that goes with it: revenue when card
 * keys or a top-up are delivered, a hold for the seller when account goods are paid, posted on
 * confirmation. */
#include "service/fulfilment.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/limits.h"
#include "core/sha256.h"
#include "core/vault.h"
#include "domain/card_import.h"
#include "domain/order_state.h"
#include "domain/refund_policy.h"
#include "service/books.h"
#include "service/disputes.h"
#include "service/evidence_log.h"
#include "service/executor.h"
#include "service/orders.h"
#include "service/payouts.h"
#include "service/refunds.h"
#include "store/store_disputes.h"
#include "store/store_ledger.h"
#include "store/store_refunds.h"

static int recognise_revenue(struct db *db, const struct order *o, int64_t now,
                             struct km_error *e)
{
    /* A dispute opened before delivery froze part of this money in the order's account: it is
     * revenue withheld from now on (disputes.h). */
    return disputes_recognise_revenue(db, o, now, e);
}

/* The delivery entry names each key by id and a salted commitment to its secret: the log never
 * holds a key, but the shop can prove in a dispute which key it delivered. */
static int log_card_delivery(struct db *db, const struct order *o, int64_t now,
                             struct km_error *e)
{
    static __thread struct card_key keys[ORDER_QUANTITY_MAX];
    int n = 0;
    if (store_cards_of_order(db, o->id, keys, ORDER_QUANTITY_MAX, &n) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "keys unavailable");
    }
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        char secret[CARD_SECRET_BYTES_MAX + 1];
        size_t len = keys[i].ciphertext_len - VAULT_MAC_BYTES;
        char hex[65];
        if (keys[i].ciphertext_len < VAULT_MAC_BYTES || len > CARD_SECRET_BYTES_MAX ||
            vault_unseal(keys[i].id, keys[i].nonce, keys[i].ciphertext, keys[i].ciphertext_len,
                         (uint8_t *)secret) != 0 ||
            evlog_commit_card(db, keys[i].id, secret, len, hex, e) != 0) {
            sodium_memzero(secret, sizeof secret);
            json_decref(list);
            return km_fail(e, KM_EINTERNAL, "commitment_failed", NULL,
                           "the delivered key could not be committed to");
        }
        sodium_memzero(secret, sizeof secret);
        json_array_append_new(list, json_pack("{s:s, s:s}", "card_key_id", keys[i].id,
                                              "commitment", hex));
    }
    return evlog_append(db, "delivery", o->id,
                        json_pack("{s:s, s:o}", "goods", "card_key", "card_keys", list), now, e);
}

int fulfil_after_payment(struct db *db, struct order *o, int64_t now, struct km_error *e)
{
    int rc;
    if (strcmp(o->kind, "card_key") == 0) {
        int64_t delivered = 0;
        rc = store_cards_deliver(db, o->id, o->product_id, now, &delivered);
        if (rc != 0) {
            return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "keys were not delivered");
        }
        if (delivered != o->quantity) {
            /* Reserved stock vanished: never deliver part of an order. The order fails and the
             * payment stays in its account for the refund engine (E3). */
            if (store_cards_release(db, o->id) != 0) {
                return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "stock not released");
            }
            rc = orders_apply(db, o, ORDER_EV_DELIVERY_FAILED, now, e);
            return rc != 0 ? rc : refunds_auto(db, o->id, now, e);
        }
        o->delivered_at = now;
        rc = orders_apply(db, o, ORDER_EV_DELIVER, now, e);
        rc = rc != 0 ? rc : log_card_delivery(db, o, now, e);
        return rc != 0 ? rc : recognise_revenue(db, o, now, e);
    }
    if (strcmp(o->kind, "direct_topup") == 0) {
        struct topup t = {0};
        id_new("tu", t.id);
        snprintf(t.order_id, sizeof t.order_id, "%s", o->id);
        snprintf(t.upstream, sizeof t.upstream, "sandbox");
        snprintf(t.target_account, sizeof t.target_account, "%s", o->target_account);
        snprintf(t.target_region, sizeof t.target_region, "%s", o->target_region);
        snprintf(t.status, sizeof t.status, "queued");
        t.created_at = now;
        t.next_poll_at = now; /* submitted on the next timer pass */
        if (store_topup_insert(db, &t) != 0) {
            return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "top-up not queued");
        }
        return orders_apply(db, o, ORDER_EV_START_DELIVERY, now, e);
    }
    /* Account goods: the money is held for the seller until the buyer confirms. */
    char order_acct[LEDGER_ACCOUNT_ID_BYTES_MAX], seller_acct[LEDGER_ACCOUNT_ID_BYTES_MAX];
    books_account(order_acct, "order", o->id);
    books_account(seller_acct, "seller", o->seller_id);
    rc = books_hold(db, order_acct, seller_acct, o->amount_fen, "escrow", o->id, now, e);
    return rc != 0 ? rc : orders_apply(db, o, ORDER_EV_START_DELIVERY, now, e);
}

int fulfil_topup_cancel(struct db *db, const char *topup_id, int64_t now, struct km_error *e)
{
    struct topup t;
    if (store_topup_get(db, topup_id, &t) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "topup_id", "no such top-up");
    }
    if (strcmp(t.status, "queued") != 0) {
        return 0;
    }
    snprintf(t.status, sizeof t.status, "failed");
    snprintf(t.detail, sizeof t.detail, "never sent: the order was refunded first");
    t.result_at = now;
    if (store_topup_update(db, &t) != 0 ||
        orders_event(db, "topup.cancelled", t.id, t.order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "top-up not updated");
    }
    return evlog_append(db, "topup_result", t.order_id,
                        json_pack("{s:s, s:s, s:s}", "topup_id", t.id, "status", "cancelled",
                                  "via", "shop"),
                        now, e);
}

int fulfil_topup_submitted(struct db *db, const char *topup_id, const char *upstream_ref,
                           int64_t now, struct km_error *e)
{
    struct topup t;
    if (store_topup_get(db, topup_id, &t) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "topup_id", "no such top-up");
    }
    if (strcmp(t.status, "queued") != 0) {
        return 0;
    }
    snprintf(t.status, sizeof t.status, "submitted");
    snprintf(t.upstream_ref, sizeof t.upstream_ref, "%s", upstream_ref);
    t.submitted_at = now;
    t.next_poll_at = now + (int64_t)UPSTREAM_POLL_INTERVAL_S * 1000;
    if (store_topup_update(db, &t) != 0 ||
        orders_event(db, "topup.submitted", t.id, t.order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "top-up not updated");
    }
    return 0;
}

int fulfil_topup_result(struct db *db, const char *topup_id, const char *status,
                        const char *credited_region, const char *detail, const char *via,
                        int64_t now, struct km_error *e)
{
    struct topup t;
    if (store_topup_get(db, topup_id, &t) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "topup_id", "no such top-up");
    }
    if (strcmp(t.status, "submitted") != 0) {
        return 0; /* already final (or not yet submitted): nothing to learn */
    }
    if (strcmp(status, "processing") == 0) {
        t.next_poll_at = now + (int64_t)UPSTREAM_POLL_INTERVAL_S * 1000;
        return store_topup_update(db, &t) == 0
                   ? 0
                   : km_fail(e, KM_EINTERNAL, "storage_error", NULL, "top-up not updated");
    }
    bool ok = strcmp(status, "succeeded") == 0;
    bool wrong = strcmp(status, "wrong_region") == 0;
    if (!ok && !wrong && strcmp(status, "failed") != 0) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "status", "unknown top-up status %s",
                       status);
    }
    snprintf(t.status, sizeof t.status, "%s", status);
    snprintf(t.credited_region, sizeof t.credited_region, "%s",
             credited_region != NULL ? credited_region : "");
    snprintf(t.detail, sizeof t.detail, "%s", detail != NULL ? detail : "");
    snprintf(t.result_via, sizeof t.result_via, "%s", via);
    t.result_at = now;
    char type[40];
    snprintf(type, sizeof type, "topup.%s", status);
    if (store_topup_update(db, &t) != 0 || orders_event(db, type, t.id, t.order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "top-up not updated");
    }
    /* The account as entered is personal data: the entry carries its hash with the order id, which
     * the buyer (who knows both) can check, and the public cannot read. */
    char account_hash[65];
    {
        struct km_sha256 hs;
        uint8_t digest[KM_SHA256_BYTES];
        km_sha256_init(&hs);
        km_sha256_update(&hs, t.order_id, strlen(t.order_id));
        km_sha256_update(&hs, "|", 1);
        km_sha256_update(&hs, t.target_account, strlen(t.target_account));
        km_sha256_final(&hs, digest);
        sodium_bin2hex(account_hash, sizeof account_hash, digest, sizeof digest);
    }
    int lrc = evlog_append(db, "topup_result", t.order_id,
                           json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "topup_id", t.id,
                                     "upstream_ref", t.upstream_ref, "status", t.status,
                                     "target_region",
                                     t.target_region, "credited_region", t.credited_region,
                                     "via", via, "target_account_sha256", account_hash),
                           now, e);
    if (lrc != 0) {
        return lrc;
    }
    struct order o;
    if (store_order_get(db, t.order_id, &o) != 0) {
        return km_fail(e, KM_EINTERNAL, "corrupt_topup", NULL, "top-up without order");
    }
    if (strcmp(o.status, "refunded") == 0) {
        /* The promise ran out and the buyer was refunded (E1) before the upstream answered. The
         * result is still recorded; a credit now means the buyer has both, which a person must
         * settle with the buyer — say so loudly rather than drop it. A credit to another region
         * is no delivery of what was ordered (topup.wrong_region says what it was): the buyer
         * has only the refund, and the timeline must not tell them the top-up arrived. */
        if (ok) {
            executor_log(LOG_WARN, "topup_credited_after_refund", "order_id", o.id, "topup_id",
                         t.id, NULL);
            if (orders_event(db, "topup.credited_after_refund", t.id, o.id, now) != 0) {
                return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "event not stored");
            }
        }
        /* Credited as ordered: a refund that failed is owed nothing now. (Credited elsewhere,
         * it was no delivery of what was ordered, and the refund is still owed.) */
        return ok ? payouts_topup_credited(db, o.id, now, e) : 0;
    }
    int rc;
    if (ok || wrong) {
        /* A wrong-region credit is a delivery, but not the one ordered: the top-up record proves
         * it, and the refund engine pays it back at once (E2). */
        o.delivered_at = now;
        rc = orders_apply(db, &o, ORDER_EV_DELIVER, now, e);
        rc = rc != 0 ? rc : recognise_revenue(db, &o, now, e);
    } else {
        rc = orders_apply(db, &o, ORDER_EV_DELIVERY_FAILED, now, e);
    }
    /* Nobody has to ask: a failed or misdirected top-up is refunded in this transaction. */
    return rc != 0 || ok ? rc : refunds_auto(db, o.id, now, e);
}

int fulfil_account_deliver(struct db *db, const char *order_id, const char *seller_id,
                           const char *content, int64_t now, struct km_error *e)
{
    struct order o;
    if (store_order_get(db, order_id, &o) != 0 || strcmp(o.seller_id, seller_id) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "order_id", "no such order");
    }
    if (strcmp(o.kind, "account") != 0 || strcmp(o.status, "delivering") != 0) {
        return km_fail(e, KM_ESTATE, "order_state", "order_id",
                       "order %s is %s; only paid account orders are delivered", o.id, o.status);
    }
    size_t n = strlen(content);
    km_assert(n <= ACCOUNT_DELIVERY_BYTES_MAX);
    uint8_t nonce[VAULT_NONCE_BYTES];
    uint8_t ct[ACCOUNT_DELIVERY_BYTES_MAX + VAULT_MAC_BYTES];
    char aad[64];
    snprintf(aad, sizeof aad, "account|%s", o.id);
    vault_seal(aad, (const uint8_t *)content, n, nonce, ct);
    struct product p;
    if (store_product_get(db, o.product_id, &p) != 0 ||
        store_account_delivery_insert(db, o.id, seller_id, nonce, sizeof nonce, ct,
                                      n + VAULT_MAC_BYTES, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the delivery was not stored");
    }
    o.delivered_at = now;
    o.escrow_release_at = now + p.escrow_days * 24 * 3600 * 1000;
    int rc = evlog_append(db, "delivery", o.id,
                          json_pack("{s:s, s:s, s:I}", "goods", "account", "seller_id", seller_id,
                                    "content_bytes", (json_int_t)n),
                          now, e);
    return rc != 0 ? rc : orders_apply(db, &o, ORDER_EV_DELIVER, now, e);
}

int fulfil_confirm(struct db *db, const char *order_id, const char *by, int64_t now,
                   struct km_error *e)
{
    struct order o;
    if (store_order_get(db, order_id, &o) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "order_id", "no such order");
    }
    if (strcmp(o.kind, "account") != 0 || strcmp(o.status, "delivered") != 0) {
        return km_fail(e, KM_ESTATE, "order_state", "order_id",
                       "order %s is %s; only delivered account goods are confirmed", o.id,
                       o.status);
    }
    /* The window ran out while the buyer's refund request waits for a decision: the seller is
     * paid once it is decided, from what is left then (the timers come back to it). */
    char pending_case[ID_BYTES_MAX] = "";
    if (strcmp(by, "escrow_timeout") == 0 &&
        store_case_active_of_order(db, o.id, pending_case) == 0 && pending_case[0] != '\0') {
        return km_fail(e, KM_ESTATE, "case_pending", "order_id",
                       "order %s has a refund request waiting for a decision (%s)", o.id,
                       pending_case);
    }
    /* Likewise while the payment provider decides a dispute on the order: what the seller is
     * paid depends on it. */
    char open_dispute[ID_BYTES_MAX] = "";
    if (store_dispute_open_of_order(db, o.id, open_dispute) == 0) {
        return km_fail(e, KM_ESTATE, "dispute_pending", "order_id",
                       "order %s has a dispute open at the payment provider (%s)", o.id,
                       open_dispute);
    }
    int rc = books_resolve(db, "escrow", o.id, true, now, e);
    if (rc != 0) {
        return rc;
    }
    if (store_account_delivery_confirm(db, o.id, by, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "confirmation not stored");
    }
    rc = evlog_append(db, "escrow_release", o.id, json_pack("{s:s}", "by", by), now, e);
    if (rc != 0) {
        return rc;
    }
    o.completed_at = now;
    return orders_apply(db, &o, ORDER_EV_CONFIRM, now, e);
}

static bool no_reason_open(struct db *db, const struct order *o, int64_t now)
{
    struct product p;
    return store_product_get(db, o->product_id, &p) == 0 && p.no_reason_days > 0 &&
           o->delivered_at != 0 && now <= o->delivered_at + p.no_reason_days * 24 * 3600 * 1000;
}

int fulfil_reveal(struct db *db, const char *order_id, const char *card_key_id, const char *actor,
                  const char *ip, bool waiver_confirmed, char *secret, size_t secret_len,
                  int64_t *revealed_at, struct km_error *e)
{
    struct card_key k;
    if (store_card_get(db, card_key_id, &k) != 0 || strcmp(k.order_id, order_id) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "card_key_id", "no such card key");
    }
    if (strcmp(k.status, "delivered") != 0) {
        return km_fail(e, KM_ESTATE, "card_key_not_delivered", "card_key_id",
                       "this card key is %s; it can be revealed once the order is paid",
                       k.status);
    }
    struct order o;
    if (store_order_get(db, order_id, &o) != 0) {
        return km_fail(e, KM_EINTERNAL, "corrupt_card", NULL, "card without order");
    }
    int64_t now = clock_now_ms();
    bool seen = false;
    if (store_key_revealed(db, k.id, &seen) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "reveals unavailable");
    }
    bool first = !seen;
    int64_t waiver_at = 0;
    if (first && strcmp(actor, "buyer") == 0 && no_reason_open(db, &o, now)) {
        if (!waiver_confirmed) {
            return km_fail(e, KM_ESTATE, "waiver_confirmation_required", "confirm_waiver",
                           "revealing this key ends your right to a no-reason refund (E4); "
                           "send confirm_waiver: true to reveal it");
        }
        waiver_at = now;
    }
    km_assert(secret_len > CARD_SECRET_BYTES_MAX);
    if (k.ciphertext_len < VAULT_MAC_BYTES ||
        k.ciphertext_len - VAULT_MAC_BYTES >= secret_len ||
        vault_unseal(k.id, k.nonce, k.ciphertext, k.ciphertext_len, (uint8_t *)secret) != 0) {
        return km_fail(e, KM_EINTERNAL, "decrypt_failed", NULL,
                       "the card key cannot be decrypted with this master key");
    }
    secret[k.ciphertext_len - VAULT_MAC_BYTES] = '\0';
    char id[ID_BYTES_MAX];
    id_new("rv", id);
    *revealed_at = now;
    if (store_reveal_insert(db, id, order_id, k.id, actor, ip, now, waiver_at,
                            waiver_at != 0 ? REFUND_POLICY_VERSION : NULL) != 0 ||
        orders_event(db, "card_key.revealed", k.id, order_id, now) != 0 ||
        evlog_append(db, "reveal", order_id,
                     json_pack("{s:s, s:s, s:s, s:b, s:o}", "reveal_id", id, "card_key_id", k.id,
                               "by", strncmp(actor, "admin", 5) == 0 ? "admin" : "buyer",
                               "no_reason_waiver_confirmed", waiver_at != 0, "policy_version",
                               waiver_at != 0 ? json_string(REFUND_POLICY_VERSION)
                                              : json_null()),
                     now, e) != 0) {
        sodium_memzero(secret, secret_len);
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the reveal was not recorded");
    }
    return 0;
}

int fulfil_activation(struct db *db, const char *number, const char *password, int64_t at,
                      struct km_error *e)
{
    char plain[2 * CARD_FIELD_BYTES_MAX + 2];
    int n = snprintf(plain, sizeof plain, "%s\n%s", number, password);
    if (n < 0 || (size_t)n >= sizeof plain) {
        return km_fail(e, KM_EINVAL, "parameter_too_long", "password", "not a card key");
    }
    uint8_t fp[VAULT_FINGERPRINT_BYTES];
    vault_fingerprint((const uint8_t *)plain, (size_t)n, fp);
    sodium_memzero(plain, sizeof plain);
    struct card_key k;
    if (store_card_by_fingerprint(db, fp, sizeof fp, &k) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "number", "no such card key");
    }
    if (k.order_id[0] == '\0') {
        /* Activated while still in stock: leaked from inventory. Record nothing against an
         * order, but say so. */
        return km_fail(e, KM_ESTATE, "card_key_in_stock", "number",
                       "this card key was never sold; it was activated from stock");
    }
    int rc = store_activation_insert(db, k.id, k.order_id, at, "issuer_callback");
    if (rc == -KM_EDUPLICATE) {
        return 0; /* the issuer said it again: one activation, one entry */
    }
    if (rc != 0 || orders_event(db, "card_key.activated", k.id, k.order_id, at) != 0 ||
        evlog_append(db, "activation", k.order_id,
                     json_pack("{s:s, s:s}", "card_key_id", k.id, "source", "issuer"), at,
                     e) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the activation was not stored");
    }
    return 0;
}

int fulfil_account_read(struct db *db, const char *order_id, const char *actor, const char *ip,
                        char *content, size_t content_len, struct km_error *e)
{
    uint8_t nonce[VAULT_NONCE_BYTES];
    uint8_t ct[ACCOUNT_DELIVERY_BYTES_MAX + VAULT_MAC_BYTES];
    size_t ct_len = 0;
    int64_t confirmed_at = 0;
    if (store_account_delivery_get(db, order_id, nonce, ct, sizeof ct, &ct_len, &confirmed_at) !=
        0) {
        return km_fail(e, KM_ESTATE, "not_delivered", "order_id",
                       "the seller has not delivered this order yet");
    }
    char aad[64];
    snprintf(aad, sizeof aad, "account|%s", order_id);
    if (ct_len - VAULT_MAC_BYTES >= content_len ||
        vault_unseal(aad, nonce, ct, ct_len, (uint8_t *)content) != 0) {
        return km_fail(e, KM_EINTERNAL, "decrypt_failed", NULL, "the delivery cannot be read");
    }
    content[ct_len - VAULT_MAC_BYTES] = '\0';
    char id[ID_BYTES_MAX];
    id_new("rv", id);
    int64_t now = clock_now_ms();
    if (store_reveal_insert(db, id, order_id, "", actor, ip, now, 0, NULL) != 0 ||
        evlog_append(db, "reveal", order_id,
                     json_pack("{s:s, s:s, s:s}", "reveal_id", id, "goods", "account", "by",
                               strcmp(actor, "buyer") == 0 ? "buyer" : "admin"),
                     now, e) != 0) {
        sodium_memzero(content, content_len);
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the reveal was not recorded");
    }
    return 0;
}
