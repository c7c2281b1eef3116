/* GET /v1/trust: the trust signals, public. Each share comes with the counts it is made of, in
 * basis points (1/10,000) so that no figure is a floating-point number; a share of nothing is
 * null rather than 0. */
#include <stdlib.h>

#include "core/clock.h"
#include "http/api.h"
#include "http/api_handlers.h"
#include "service/trust.h"

static json_t *share_bp(int64_t part, int64_t whole)
{
    return whole > 0 ? json_integer((part * 10000 + whole / 2) / whole) : json_null();
}

static json_t *signals(const struct trust_counts *c)
{
    json_t *o = json_pack(
        "{s:I, s:I, s:o, s:I, s:o, s:I, s:I, s:o, s:I, s:I, s:o}", "paid_orders",
        (json_int_t)c->paid_orders, "refunded_orders", (json_int_t)c->refunded_orders,
        "refund_rate_bp", share_bp(c->refunded_orders, c->paid_orders), "refunds_paid",
        (json_int_t)c->refunds_paid, "median_time_to_money_s",
        c->median_ms >= 0 ? json_integer((c->median_ms + 500) / 1000) : json_null(), "decisions",
        (json_int_t)c->decisions, "decided_automatically", (json_int_t)c->decided_automatically,
        "auto_decided_bp", share_bp(c->decided_automatically, c->decisions), "decisions_due",
        (json_int_t)c->decisions_due, "decided_in_time", (json_int_t)c->decided_in_time,
        "in_time_bp", share_bp(c->decided_in_time, c->decisions_due));
    km_assert(o != NULL);
    return o;
}

int api_trust(struct api_req *r)
{
    struct trust_report *t = malloc(sizeof *t);
    km_assert(t != NULL);
    if (trust_report(r->db, clock_now_ms(), t) != 0) {
        free(t);
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "trust signals unavailable");
    }
    json_t *sellers = json_array();
    for (int i = 0; i < t->seller_count; i++) {
        json_t *s = signals(&t->sellers[i]);
        json_object_set_new(s, "seller_id", json_string(t->sellers[i].seller_id));
        json_object_set_new(s, "name", json_string(t->sellers[i].seller_name));
        json_array_append_new(sellers, s);
    }
    json_t *doc = json_pack("{s:s, s:i, s:o, s:o, s:o, s:o}", "object", "trust_signals",
                            "window_days", TRUST_WINDOW_DAYS, "from", api_time(t->from), "to",
                            api_time(t->to), "shop", signals(&t->shop), "sellers", sellers);
    free(t);
    km_assert(doc != NULL);
    return api_ok(r, 200, doc);
}
