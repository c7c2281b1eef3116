/* GET /v1/trust: the trust signals, public. Each share comes with the counts it is made of, in
 * basis points (1/10,000) so that no figure is a floating-point number; a share of nothing is
 * null rather than 0. */
#include <stdlib.h>

#include "core/clock.h"
#include "http/api.h"
#include "http/api_handlers.h"
#include "service/trust.h"

/* Rounded, except that a share is 0 or 10,000 only when it is exactly none or all: one late
 * decision in 50,000 is not "all in time". */
static json_t *share_bp(int64_t part, int64_t whole)
{
    if (whole <= 0) {
        return json_null();
    }
    int64_t bp = (part * 10000 + whole / 2) / whole;
    if (bp == 0 && part > 0) {
        bp = 1;
    } else if (bp == 10000 && part < whole) {
        bp = 9999;
    }
    return json_integer(bp);
}

static json_t *signals(const struct trust_counts *c)
{
    json_t *o = json_object();
    struct {
        const char *name;
        json_t *value;
    } fields[] = {
        {"paid_orders", json_integer(c->paid_orders)},
        {"refunded_orders", json_integer(c->refunded_orders)},
        {"refund_rate_bp", share_bp(c->refunded_orders, c->paid_orders)},
        {"refunds_paid", json_integer(c->refunds_paid)},
        {"median_time_to_money_s",
         c->median_ms >= 0 ? json_integer((c->median_ms + 500) / 1000) : json_null()},
        {"refunds_late", json_integer(c->refunds_late)},
        {"decisions", json_integer(c->decisions)},
        {"decided_automatically", json_integer(c->decided_automatically)},
        {"auto_decided_bp", share_bp(c->decided_automatically, c->decisions)},
        {"decisions_approved", json_integer(c->decisions_approved)},
        {"approved_bp", share_bp(c->decisions_approved, c->decisions)},
        {"decisions_due", json_integer(c->decisions_due)},
        {"decided_in_time", json_integer(c->decided_in_time)},
        {"in_time_bp", share_bp(c->decided_in_time, c->decisions_due)},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        km_assert(fields[i].value != NULL);
        json_object_set_new(o, fields[i].name, fields[i].value);
    }
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
