/* Paying: the buyer opens a payment, the sandbox provider's checkout completes it, and the
 * provider's signed notification captures it. Upstream top-up results arrive the same way. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/payment_sandbox.h"
#include "adapters/signature.h"
#include "adapters/upstream.h"
#include "core/clock.h"
#include "http/api.h"
#include "http/api_handlers.h"
#include "http/views.h"
#include "service/fulfilment.h"
#include "service/payments.h"

struct pay_arg {
    char order_id[ID_BYTES_MAX];
    char method[16];
    char target_confirmed[80];
    bool has_target;
};

static json_t *payment_view(void *kept)
{
    json_t *v = view_payment(kept);
    free(kept);
    return v;
}

static int payment_create_write(struct db *db, struct api_req *r)
{
    struct pay_arg *a = r->write_arg;
    struct payment *p = malloc(sizeof *p);
    km_assert(p != NULL);
    struct km_error e;
    if (payments_create(db, a->order_id, a->method, a->has_target ? a->target_confirmed : NULL,
                        p, &e) != 0) {
        free(p);
        return api_error(r, &e);
    }
    return api_ok_later(r, 201, payment_view, free, p);
}

int api_payments_create(struct api_req *r)
{
    const char *order_id = r->seg[2];
    if (api_require_order_access(r, order_id) != 0) {
        return 0;
    }
    static const char *const allowed[] = {"method", "target_confirmed", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    const char *method = NULL, *target = NULL;
    int rc = api_field_string(r, body, "method", true, 15, &method);
    rc = rc ? rc : api_field_string(r, body, "target_confirmed", false, 79, &target);
    if (rc == 0 && !payments_method_valid(method)) {
        rc = api_fail(r, KM_EINVAL, "parameter_invalid", "method",
                      "method must be alipay, wechat, bank_card or balance");
    }
    if (rc != 0) {
        json_decref(body);
        return 0;
    }
    struct pay_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->order_id, sizeof a->order_id, "%s", order_id);
    snprintf(a->method, sizeof a->method, "%s", method);
    if (target != NULL) {
        a->has_target = true;
        snprintf(a->target_confirmed, sizeof a->target_confirmed, "%s", target);
    }
    json_decref(body);
    return api_write_rerunnable(r, payment_create_write, a, free);
}

struct charge_arg {
    char payment_id[ID_BYTES_MAX];
    char outcome[16];
};

struct charge_made {
    char charge_id[ID_BYTES_MAX];
    char payment_id[ID_BYTES_MAX];
    char outcome[16];
};

static json_t *charge_view(void *kept)
{
    struct charge_made *m = kept;
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s}", "object", "sandbox_charge", "id",
                          m->charge_id, "payment_id", m->payment_id, "outcome", m->outcome,
                          "message",
                          "the provider will notify the shop with a signed callback shortly");
    free(m);
    return v;
}

static int sandbox_pay_write(struct db *db, struct api_req *r)
{
    struct charge_arg *a = r->write_arg;
    struct charge_made *m = calloc(1, sizeof *m);
    km_assert(m != NULL);
    struct km_error e;
    if (payment_sandbox_charge(db, a->payment_id, a->outcome, m->charge_id, &e) != 0) {
        free(m);
        return api_error(r, &e);
    }
    snprintf(m->payment_id, sizeof m->payment_id, "%s", a->payment_id);
    snprintf(m->outcome, sizeof m->outcome, "%s", a->outcome);
    return api_ok_later(r, 202, charge_view, free, m);
}

int api_sandbox_pay(struct api_req *r)
{
    static const char *const allowed[] = {"outcome", NULL};
    const char *outcome = "succeeded";
    json_t *body = NULL;
    if (r->body_len > 0) {
        if (api_body_object(r, allowed, &body) != 0) {
            return 0;
        }
        if (api_field_string(r, body, "outcome", false, 15, &outcome) != 0) {
            json_decref(body);
            return 0;
        }
    }
    struct charge_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->payment_id, sizeof a->payment_id, "%s", r->seg[3]);
    snprintf(a->outcome, sizeof a->outcome, "%s", outcome);
    json_decref(body);
    return api_write_rerunnable(r, sandbox_pay_write, a, free);
}

struct capture_arg {
    char type[32];
    char payment_id[ID_BYTES_MAX];
    char txn[ID_BYTES_MAX];
    int64_t amount;
};

/* What a notification's answer is built from, after the commit. */
struct captured {
    struct payment payment;
    bool already;
};

static json_t *captured_view(void *kept)
{
    struct captured *c = kept;
    json_t *v = json_pack("{s:b, s:b, s:o}", "received", 1, "replayed", c->already, "payment",
                          view_payment(&c->payment));
    free(c);
    return v;
}

static int capture_write(struct db *db, struct api_req *r)
{
    struct capture_arg *a = r->write_arg;
    struct captured *c = calloc(1, sizeof *c);
    km_assert(c != NULL);
    struct km_error e;
    int rc =
        strcmp(a->type, "payment.succeeded") == 0
            ? payments_capture(db, a->payment_id, a->txn, a->amount, &c->payment, &c->already, &e)
            : payments_fail(db, a->payment_id, &c->payment, &e);
    if (rc != 0) {
        free(c);
        return api_error(r, &e);
    }
    return api_ok_later(r, 200, captured_view, free, c);
}

int api_callback_payment(struct api_req *r)
{
    static const char *const allowed[] = {"id",         "type",   "payment_id", "provider_txn_id",
                                          "amount_fen", "method", "created",    NULL};
    json_t *body = NULL;
    if (api_signed_body(r, payment_sandbox_key, allowed, &body) != 0) {
        return 0;
    }
    const char *type = NULL, *payment = NULL, *txn = NULL;
    int64_t amount = 0;
    int rc = api_field_string(r, body, "type", true, 31, &type);
    rc = rc ? rc : api_field_string(r, body, "payment_id", true, ID_BYTES_MAX - 1, &payment);
    rc = rc ? rc : api_field_string(r, body, "provider_txn_id", true, ID_BYTES_MAX - 1, &txn);
    rc = rc ? rc : api_field_money(r, body, "amount_fen", true, &amount);
    if (rc == 0 && strcmp(type, "payment.succeeded") != 0 && strcmp(type, "payment.failed") != 0) {
        rc = api_fail(r, KM_EINVAL, "parameter_invalid", "type", "unknown event type");
    }
    if (rc != 0) {
        json_decref(body);
        return 0;
    }
    struct capture_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->type, sizeof a->type, "%s", type);
    snprintf(a->payment_id, sizeof a->payment_id, "%s", payment);
    snprintf(a->txn, sizeof a->txn, "%s", txn);
    a->amount = amount;
    json_decref(body);
    return api_write_rerunnable(r, capture_write, a, free);
}

struct topup_result_arg {
    char topup_id[ID_BYTES_MAX];
    char upstream_ref[ID_BYTES_MAX];
    char status[16];
    char credited_region[80];
};

static int topup_result_write(struct db *db, struct api_req *r)
{
    struct topup_result_arg *a = r->write_arg;
    struct topup t;
    if (store_topup_get(db, a->topup_id, &t) != 0 || strcmp(t.upstream_ref, a->upstream_ref) != 0) {
        return api_fail(r, KM_ENOTFOUND, "resource_missing", "topup_id",
                        "no submitted top-up matches this callback");
    }
    struct km_error e;
    const char *status = strcmp(a->status, "stall") == 0 ? "processing" : a->status;
    if (fulfil_topup_result(db, a->topup_id, status, a->credited_region, NULL, "callback",
                            clock_now_ms(), &e) != 0) {
        return api_error(r, &e);
    }
    return api_ok(r, 200, json_pack("{s:b}", "received", 1));
}

int api_callback_upstream(struct api_req *r)
{
    static const char *const allowed[] = {"id",     "upstream_ref",    "topup_id",
                                          "status", "credited_region", NULL};
    json_t *body = NULL;
    if (api_signed_body(r, upstream_sandbox_key, allowed, &body) != 0) {
        return 0;
    }
    const char *topup = NULL, *ref = NULL, *status = NULL, *region = "";
    int rc = api_field_string(r, body, "topup_id", true, ID_BYTES_MAX - 1, &topup);
    rc = rc ? rc : api_field_string(r, body, "upstream_ref", true, ID_BYTES_MAX - 1, &ref);
    rc = rc ? rc : api_field_string(r, body, "status", true, 15, &status);
    rc = rc ? rc : api_field_string(r, body, "credited_region", false, 79, &region);
    if (rc != 0) {
        json_decref(body);
        return 0;
    }
    struct topup_result_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->topup_id, sizeof a->topup_id, "%s", topup);
    snprintf(a->upstream_ref, sizeof a->upstream_ref, "%s", ref);
    snprintf(a->status, sizeof a->status, "%s", status);
    snprintf(a->credited_region, sizeof a->credited_region, "%s", region);
    json_decref(body);
    return api_write(r, topup_result_write, a, free);
}
