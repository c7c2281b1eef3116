/* Object views. Money is integer fen with currency CNY; times are RFC 3339 UTC or null. */
#include "http/views.h"

#include <string.h>

#include "core/clock.h"
#include "core/json_out.h"
#include "domain/target.h"
#include "http/api.h"
#include "http/views_refunds.h"
#include "store/store_disputes.h"
#include "store/store_refunds.h"
#include "service/fulfilment.h"

#define VIEW_KEYS_MAX ORDER_QUANTITY_MAX
#define VIEW_REVEALS_MAX 200 /* a buyer revealing one key many times; more are still stored */

json_t *view_product(const struct product *p, bool staff)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:b, s:o, s:{s:I, s:I, s:I, s:I}}", "id", p->id,
        "object", "product", "kind", p->kind, "name", p->name, "price_fen",
        (json_int_t)p->price_fen, "face_value_fen", (json_int_t)p->face_value_fen, "currency",
        "CNY", "target_format", p->target_format, "active", p->active != 0, "created_at",
        api_time(p->created_at), "refund_terms", "refund_window_hours",
        (json_int_t)p->refund_window_hours, "no_reason_days", (json_int_t)p->no_reason_days,
        "topup_timeout_minutes", (json_int_t)p->topup_timeout_minutes, "escrow_days",
        (json_int_t)p->escrow_days);
    km_assert(o != NULL);
    json_t *regions = json_array();
    char buf[PRODUCT_REGIONS_BYTES_MAX + 1];
    snprintf(buf, sizeof buf, "%s", p->regions);
    char *save = NULL;
    for (char *r = strtok_r(buf, ",", &save); r != NULL; r = strtok_r(NULL, ",", &save)) {
        while (*r == ' ') {
            r++;
        }
        if (*r != '\0') {
            json_array_append_new(regions, json_string(r));
        }
    }
    json_object_set_new(o, "regions", regions);
    json_object_set_new(o, "seller_id", p->seller_id[0] ? json_string(p->seller_id) : json_null());
    if (strcmp(p->kind, "card_key") == 0) {
        json_t *stock = json_pack("{s:I}", "available", (json_int_t)p->stock_available);
        if (staff) {
            json_object_set_new(stock, "reserved", json_integer(p->stock_reserved));
            json_object_set_new(stock, "delivered", json_integer(p->stock_delivered));
        }
        json_object_set_new(o, "stock", stock);
    } else {
        json_object_set_new(o, "stock", json_null());
    }
    return o;
}

json_t *view_payment(const struct payment *p)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:o}", "id", p->id,
                          "object", "payment", "order_id", p->order_id, "method", p->method,
                          "amount_fen", (json_int_t)p->amount_fen, "currency", "CNY", "status",
                          p->status, "disposition",
                          p->disposition[0] ? json_string(p->disposition) : json_null(),
                          "created_at", api_time(p->created_at), "captured_at",
                          api_time(p->captured_at));
    km_assert(o != NULL);
    if (strcmp(p->status, "requires_payment") == 0) {
        /* The sandbox provider's checkout: POST here to pay, as a buyer would at Alipay. */
        char url[128];
        snprintf(url, sizeof url, "/v1/sandbox/payments/%s/pay", p->id);
        json_object_set_new(o, "next_action",
                            json_pack("{s:s, s:s, s:s}", "type", "sandbox_checkout", "method",
                                      "POST", "url", url));
    }
    return o;
}

json_t *view_order_summary(const struct order *o)
{
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:o, s:o, s:o, s:o, s:o,"
                          " s:o}",
                          "id", o->id, "object", "order", "status", o->status, "product_id",
                          o->product_id, "kind", o->kind, "quantity", (json_int_t)o->quantity,
                          "unit_price_fen", (json_int_t)o->unit_price_fen, "amount_fen",
                          (json_int_t)o->amount_fen, "currency", "CNY", "created_at",
                          api_time(o->created_at), "expires_at", api_time(o->expires_at),
                          "paid_at", api_time(o->paid_at), "delivered_at",
                          api_time(o->delivered_at), "completed_at", api_time(o->completed_at),
                          "escrow_release_at", api_time(o->escrow_release_at));
    km_assert(v != NULL);
    json_object_set_new(v, "lookup_password_set", json_boolean(o->lookup_hash[0] != '\0'));
    if (o->target_account[0] != '\0') {
        /* Game top-ups carry a region; phone top-ups never do. */
        enum target_format f =
            o->target_region[0] != '\0' ? TARGET_GAME_ACCOUNT : TARGET_PHONE_CN;
        char display[160];
        target_display(f, o->target_account, o->target_region, display, sizeof display);
        json_object_set_new(v, "target",
                            json_pack("{s:s, s:o, s:s}", "account", o->target_account, "region",
                                      o->target_region[0] ? json_string(o->target_region)
                                                          : json_null(),
                                      "display", display));
    } else {
        json_object_set_new(v, "target", json_null());
    }
    return v;
}

static void add_product_terms(json_t *v, const struct product *pp)
{
    json_object_set_new(v, "product",
                        json_pack("{s:s, s:s, s:s}", "id", pp->id, "name", pp->name, "kind", pp->kind));
    json_object_set_new(v, "refund_terms",
                        json_pack("{s:I, s:I, s:I, s:I}", "refund_window_hours",
                                  (json_int_t)pp->refund_window_hours, "no_reason_days",
                                  (json_int_t)pp->no_reason_days, "topup_timeout_minutes",
                                  (json_int_t)pp->topup_timeout_minutes, "escrow_days",
                                  (json_int_t)pp->escrow_days));
}

json_t *view_order_created(const struct order_created *c)
{
    json_t *v = view_order_summary(&c->order);
    add_product_terms(v, &c->product);
    if (strcmp(c->order.kind, "card_key") == 0) {
        /* The keys held for this order, masked: what the buyer will reveal once paid. */
        json_t *ks = json_array();
        for (int i = 0; i < c->key_count; i++) {
            json_array_append_new(ks, json_pack("{s:s, s:s, s:s}", "id", c->keys[i].id, "masked",
                                                c->keys[i].masked, "status", "reserved"));
        }
        json_object_set_new(v, "card_keys", ks);
    }
    return v;
}

json_t *view_dispute(const struct dispute_row *d, bool staff)
{
    json_t *v = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "object",
        "dispute", "id", d->id, "order_id", d->order_id, "payment_id", d->payment_id, "reason",
        d->reason, "status", d->status, "amount_fen", (json_int_t)d->amount_fen, "frozen_fen",
        (json_int_t)d->frozen_fen, "respond_by", api_time(d->respond_by), "opened_at",
        api_time(d->opened_at), "response", d->response[0] ? json_string(d->response) : json_null(),
        "responded_at", api_time(d->responded_at), "closed_at", api_time(d->closed_at),
        "outcome_detail", d->outcome_detail[0] ? json_string(d->outcome_detail) : json_null());
    km_assert(v != NULL);
    if (staff) {
        json_object_set_new(v, "provider_dispute_id", json_string(d->provider_dispute_id));
        json_object_set_new(v, "responded_by",
                            d->responded_by[0] ? json_string(d->responded_by) : json_null());
        json_object_set_new(v, "bundle_sha256",
                            d->bundle_sha256[0] ? json_string(d->bundle_sha256) : json_null());
    }
    return v;
}

json_t *view_order(struct db *db, const struct order *o)
{
    int64_t valid_until = INT64_MAX;
    return view_order_at(db, o, clock_now_ms(), &valid_until);
}

json_t *view_order_at(struct db *db, const struct order *o, int64_t now, int64_t *valid_until)
{
    *valid_until = INT64_MAX;
    json_t *v = view_order_summary(o);
    struct product p;
    if (store_product_get(db, o->product_id, &p) == 0) {
        /* While the no-reason right is open the buyer's first reveal of a key asks them to
         * confirm it ends the right (E4): say until when, so a page can ask up front. */
        int64_t until = p.no_reason_days > 0 && o->delivered_at != 0
                            ? o->delivered_at + p.no_reason_days * 24 * 3600 * 1000
                            : 0;
        json_object_set_new(v, "no_reason_until", api_time(until));
        add_product_terms(v, &p);
    }
    struct payment pays[PAYMENTS_PER_ORDER_MAX];
    int n = 0;
    if (store_payments_of_order(db, o->id, pays, PAYMENTS_PER_ORDER_MAX, &n) != 0) {
        json_decref(v);
        return NULL;
    }
    json_t *payments = json_array();
    int64_t captured = 0, unapplied = 0;
    for (int i = 0; i < n; i++) {
        json_array_append_new(payments, view_payment(&pays[i]));
        if (strcmp(pays[i].status, "succeeded") == 0) {
            captured += pays[i].amount_fen;
            if (strcmp(pays[i].disposition, "applied") != 0) {
                unapplied += pays[i].amount_fen;
            }
        }
    }
    json_object_set_new(v, "payments", payments);
    json_object_set_new(v, "amount_captured_fen", json_integer(captured));
    /* Duplicate or late payments: held for this order and owed back to the buyer. */
    json_object_set_new(v, "amount_unapplied_fen", json_integer(unapplied));

    static __thread struct reveal reveals[VIEW_REVEALS_MAX];
    int rn = 0;
    if (store_reveals_of_order(db, o->id, reveals, VIEW_REVEALS_MAX, &rn) != 0) {
        json_decref(v);
        return NULL;
    }
    json_t *rv = json_array();
    for (int i = 0; i < rn; i++) {
        /* The buyer's confirmation that revealing ends the no-reason right (E4), with the
         * policy version it was given under; null where none was asked for. */
        json_array_append_new(
            rv, json_pack("{s:o, s:s, s:s, s:o, s:o, s:o}", "card_key_id",
                          reveals[i].card_key_id[0] ? json_string(reveals[i].card_key_id)
                                                    : json_null(),
                          "actor", reveals[i].actor, "ip", reveals[i].ip, "revealed_at",
                          api_time(reveals[i].revealed_at), "waiver_confirmed_at",
                          api_time(reveals[i].waiver_confirmed_at), "policy_version",
                          reveals[i].policy_version[0] ? json_string(reveals[i].policy_version)
                                                       : json_null()));
    }
    json_object_set_new(v, "reveals", rv);

    if (strcmp(o->kind, "card_key") == 0) {
        static __thread struct card_key keys[VIEW_KEYS_MAX];
        int kn = 0;
        if (store_cards_of_order(db, o->id, keys, VIEW_KEYS_MAX, &kn) != 0) {
            json_decref(v);
            return NULL;
        }
        json_t *ks = json_array();
        for (int i = 0; i < kn; i++) {
            int64_t first = 0;
            for (int j = 0; j < rn; j++) {
                if (strcmp(reveals[j].card_key_id, keys[i].id) == 0) {
                    first = reveals[j].revealed_at;
                    break;
                }
            }
            int64_t activated = 0;
            if (store_activation_of_key(db, keys[i].id, &activated) != 0) {
                json_decref(v);
                return NULL;
            }
            json_array_append_new(
                ks, json_pack("{s:s, s:s, s:s, s:b, s:o, s:o}", "id", keys[i].id, "masked",
                              keys[i].masked, "status", keys[i].status, "revealed", first != 0,
                              "first_revealed_at", api_time(first), "activated_at",
                              api_time(activated)));
        }
        json_object_set_new(v, "card_keys", ks);
    }
    if (strcmp(o->kind, "direct_topup") == 0) {
        struct topup t;
        if (store_topup_get_by_order(db, o->id, &t) == 0) {
            json_object_set_new(
                v, "topup",
                json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "id", t.id, "status",
                          t.status, "upstream", t.upstream, "upstream_ref",
                          t.upstream_ref[0] ? json_string(t.upstream_ref) : json_null(),
                          "credited_region",
                          t.credited_region[0] ? json_string(t.credited_region) : json_null(),
                          "detail", t.detail[0] ? json_string(t.detail) : json_null(),
                          "submitted_at", api_time(t.submitted_at), "result_at",
                          api_time(t.result_at), "result_via",
                          t.result_via[0] ? json_string(t.result_via) : json_null()));
        } else {
            json_object_set_new(v, "topup", json_null());
        }
    }
    static __thread struct dispute_row disputes[DISPUTES_PER_ORDER_MAX];
    int dn = 0;
    if (store_disputes_of_order(db, o->id, disputes, DISPUTES_PER_ORDER_MAX, &dn) != 0) {
        json_decref(v);
        return NULL;
    }
    json_t *dv = json_array();
    for (int i = 0; i < dn; i++) {
        json_array_append_new(dv, view_dispute(&disputes[i], false));
    }
    json_object_set_new(v, "disputes", dv);
    if (view_order_add_refunds(db, v, o->id, now, valid_until) != 0) {
        json_decref(v);
        return NULL;
    }
    return v;
}

int view_order_text(struct db *db, const char *order_id, int64_t now, char **text, size_t *len,
                    int64_t *valid_until)
{
    *text = NULL;
    if (db_begin_read(db) != 0) {
        return -KM_EINTERNAL;
    }
    struct order o;
    int rc = store_order_get(db, order_id, &o);
    json_t *v = rc == 0 ? view_order_at(db, &o, now, valid_until) : NULL;
    db_rollback(db);
    if (rc == 0 && v == NULL) {
        rc = -KM_EINTERNAL;
    }
    if (v != NULL) {
        *text = json_out(v, len);
        json_decref(v);
    }
    return rc == 0 || rc == -KM_ENOTFOUND ? rc : -KM_EINTERNAL;
}

json_t *view_list(json_t *data, bool has_more)
{
    return json_pack("{s:s, s:o, s:b}", "object", "list", "data", data, "has_more", has_more);
}
