/* Order creation and lifecycle. Stock is reserved in the same transaction that creates the
 * order, so two buyers can never hold the same card key. */
#include "service/orders.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "domain/money.h"
#include "domain/order_state.h"
#include "domain/target.h"

int orders_event(struct db *db, const char *type, const char *object_id, const char *order_id,
                 int64_t now)
{
    /* Written directly: every command writes events, and an order id needs no JSON escaping
     * (a prefix, '_' and our base32 alphabet), which the assertion holds us to. */
    km_assert(strspn(order_id, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(order_id));
    char text[ID_BYTES_MAX + 16];
    int n = snprintf(text, sizeof text, "{\"order_id\":\"%s\"}", order_id);
    km_assert(n > 0 && (size_t)n < sizeof text);
    return store_event_insert(db, type, object_id, order_id, text, now);
}

/* Moves o through the state machine and records the event; the row is written by the caller. */
static int apply_unwritten(struct db *db, struct order *o, int event, int64_t now,
                           struct km_error *e)
{
    enum order_status from, to;
    if (order_status_parse(o->status, &from) != 0) {
        return km_fail(e, KM_EINTERNAL, "corrupt_order", NULL, "order %s has status %s", o->id,
                       o->status);
    }
    if (order_transition(from, (enum order_event)event, &to) != 0) {
        return km_fail(e, KM_ESTATE, "order_state", "order_id",
                       "order %s is %s; it cannot %s", o->id, o->status,
                       order_event_name((enum order_event)event));
    }
    snprintf(o->status, sizeof o->status, "%s", order_status_name(to));
    o->updated_at = now;
    char type[48];
    snprintf(type, sizeof type, "order.%s", order_status_name(to));
    if (orders_event(db, type, o->id, o->id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the order was not updated");
    }
    return 0;
}

int orders_apply(struct db *db, struct order *o, int event, int64_t now, struct km_error *e)
{
    int rc = apply_unwritten(db, o, event, now, e);
    if (rc == 0 && store_order_update(db, o) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the order was not updated");
    }
    return rc;
}

int orders_apply_then(struct db *db, struct order *o, int event, int64_t now, struct km_error *e)
{
    return apply_unwritten(db, o, event, now, e);
}

static int new_token(struct db *db, const char *order_id, const char *via, int64_t now,
                     char token[SECRET_BYTES_MAX], uint8_t hash[TOKEN_HASH_BYTES])
{
    secret_new_timed("bt", token);
    token_hash(token, hash);
    return store_order_token_insert(db, hash, order_id, via, now);
}

int orders_create(struct db *db, const struct order_input *in, struct order_created *created,
                  struct km_error *e)
{
    /* All but the keys, which are 8 KiB and filled up to key_count. */
    memset(&created->order, 0, sizeof created->order);
    memset(&created->product, 0, sizeof created->product);
    created->key_count = 0;
    memset(created->token, 0, sizeof created->token);
    struct order *out = &created->order;
    struct product p;
    if (store_product_get(db, in->product_id, &p) != 0 || !p.active) {
        return km_fail(e, KM_EINVAL, "resource_missing", "product_id", "no such product: %s",
                       in->product_id);
    }
    bool card = strcmp(p.kind, "card_key") == 0;
    if (!card && in->quantity != 1) {
        return km_fail(e, KM_EINVAL, "parameter_out_of_range", "quantity",
                       "%s orders are for exactly one item", p.kind);
    }
    enum target_format fmt = TARGET_NONE;
    if (target_format_parse(p.target_format, &fmt) != 0) {
        return km_fail(e, KM_EINTERNAL, "corrupt_product", NULL, "bad target format");
    }
    const char *account = in->target_account != NULL ? in->target_account : "";
    if (fmt == TARGET_NONE && (account[0] != '\0' || in->target_region != NULL)) {
        return km_fail(e, KM_EINVAL, "parameter_invalid",
                       account[0] != '\0' ? "target_account" : "target_region",
                       "this product takes no target account");
    }
    if (fmt != TARGET_NONE) {
        if (account[0] == '\0') {
            return km_fail(e, KM_EINVAL, "parameter_missing", "target_account",
                           "a direct top-up needs the account to credit");
        }
        int rc = target_normalise(fmt, account, p.regions, in->target_region, out->target_account,
                                  sizeof out->target_account, e);
        if (rc != 0) {
            return rc;
        }
        if (fmt == TARGET_GAME_ACCOUNT) {
            snprintf(out->target_region, sizeof out->target_region, "%s", in->target_region);
        }
    }
    int rc = money_mul(p.price_fen, in->quantity, 0x7fffffffffffffffLL, "quantity",
                       &out->amount_fen, e);
    if (rc != 0) {
        return rc;
    }
    int64_t now = clock_now_ms();
    id_new("ord", out->id);
    snprintf(out->product_id, sizeof out->product_id, "%s", p.id);
    snprintf(out->kind, sizeof out->kind, "%s", p.kind);
    snprintf(out->status, sizeof out->status, "pending_payment");
    snprintf(out->contact, sizeof out->contact, "%s", in->contact != NULL ? in->contact : "");
    snprintf(out->seller_id, sizeof out->seller_id, "%s", p.seller_id);
    if (in->lookup_hash != NULL) {
        snprintf(out->lookup_hash, sizeof out->lookup_hash, "%s", in->lookup_hash);
    }
    out->quantity = in->quantity;
    out->unit_price_fen = p.price_fen;
    out->created_at = now;
    out->updated_at = now;
    out->expires_at = now + (int64_t)ORDER_PAYMENT_WINDOW_S * 1000;
    if (store_order_insert(db, out) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the order was not stored");
    }
    if (card) {
        rc = store_cards_reserve(db, p.id, out->id, in->quantity, created->keys);
        if (rc == -KM_ESTOCK) {
            return km_fail(e, KM_ESTOCK, "out_of_stock", "quantity",
                           "not enough card keys in stock for %lld", (long long)in->quantity);
        }
        if (rc != 0) {
            return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "stock could not be reserved");
        }
    }
    if (new_token(db, out->id, "checkout", now, created->token, created->token_hash) != 0 ||
        orders_event(db, "order.created", out->id, out->id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the order was not stored");
    }
    created->product = p;
    created->key_count = card ? (int)in->quantity : 0;
    return 0;
}

int orders_issue_token(struct db *db, const char *order_id, const char *via,
                       char token[SECRET_BYTES_MAX], struct km_error *e)
{
    struct order o;
    if (store_order_get(db, order_id, &o) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "order_id", "no such order");
    }
    uint8_t hash[TOKEN_HASH_BYTES];
    if (new_token(db, order_id, via, clock_now_ms(), token, hash) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the token was not stored");
    }
    return 0;
}

int orders_expire(struct db *db, const char *order_id, int64_t now, struct km_error *e)
{
    struct order o;
    if (store_order_get(db, order_id, &o) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "order_id", "no such order");
    }
    return orders_expire_loaded(db, &o, now, e);
}

int orders_expire_loaded(struct db *db, struct order *o, int64_t now, struct km_error *e)
{
    if (strcmp(o->status, "pending_payment") != 0 || o->expires_at > now) {
        return 0;
    }
    if (store_cards_release(db, o->id) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "stock was not released");
    }
    return orders_apply(db, o, ORDER_EV_EXPIRE, now, e);
}
