/* What staff read about refunds as a whole, from the books rather than from a page of orders.
 * GET /v1/attention: what a person must act on, in three groups: money to recover (a buyer paid
 * twice, a top-up credited after a refund of it was paid, a refund the shop paid for account goods
 * whose escrow went to the seller), refunds past their promised date, refunds not paid out that
 * are still owed. POST /v1/attention/{id}/settle: a person records how money to recover was
 * settled. GET /v1/stats/refunds: the refund dashboard's figures (service/refund_stats.c). */
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/clock.h"
#include "core/limits.h"
#include "http/api.h"
#include "http/api_handlers.h"
#include "http/views_refunds.h"
#include "service/attention.h"
#include "service/refund_stats.h"
#include "store/db.h"

int api_attention(struct api_req *r)
{
    if (api_require_role(r, AUTH_AGENT) != 0) {
        return 0;
    }
    if (db_begin_read(r->db) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "database unavailable");
    }
    struct attention_item *items = NULL;
    int n = 0;
    int rc = attention_list(r->db, &items, &n);
    json_t *data = json_array();
    for (int i = 0; rc == 0 && i < n && i < ATTENTION_LIST_MAX; i++) {
        const struct attention_item *it = &items[i];
        json_t *refund = it->has_refund ? view_refund(r->db, &it->refund) : json_null();
        if (refund == NULL) {
            rc = -1;
            break;
        }
        json_t *v = json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:o}", "object", "attention", "id",
                              it->id[0] ? json_string(it->id) : json_null(), "kind",
                              attention_kind_name(it->kind), "order_id", it->order_id, "refund",
                              refund, "since", api_time(it->since), "amount_fen",
                              it->amount_fen >= 0 ? json_integer(it->amount_fen) : json_null());
        km_assert(v != NULL);
        json_array_append_new(data, v);
    }
    db_rollback(r->db);
    free(items);
    if (rc != 0) {
        json_decref(data);
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    }
    return api_ok(r, 200,
                  json_pack("{s:s, s:o, s:b, s:i}", "object", "list", "data", data, "has_more",
                            n > ATTENTION_LIST_MAX, "total", n));
}

static json_t *ms_or_null(int64_t ms)
{
    return ms < 0 ? json_null() : json_integer(ms);
}

static json_t *figures_json(const struct refund_stats_figures *f)
{
    json_t *v = json_pack(
        "{s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "refunds", (json_int_t)f->refunds,
        "refunded_fen", (json_int_t)f->refunded_fen, "decided", (json_int_t)f->decided, "automatic",
        (json_int_t)f->automatic, "decision_ms_median", ms_or_null(f->decision_ms_median),
        "decision_ms_max", ms_or_null(f->decision_ms_max), "money_ms_median",
        ms_or_null(f->money_ms_median), "money_ms_max", ms_or_null(f->money_ms_max));
    km_assert(v != NULL);
    return v;
}

int api_refund_stats(struct api_req *r)
{
    if (api_require_role(r, AUTH_ADMIN) != 0) {
        return 0;
    }
    long days = 0, offset = 0;
    if (api_query_int(r, "days", 1, REFUND_STATS_DAYS_MAX, 90, &days) != 0 ||
        api_query_int(r, "tz_offset_minutes", -840, 840, 480, &offset) != 0) {
        return 0;
    }
    int64_t now = clock_now_ms();
    int64_t since = now - (days - 1) * 24 * 3600 * 1000LL;
    struct refund_stats *st = malloc(sizeof *st);
    km_assert(st != NULL);
    if (refund_stats_compute(r->db, since, now, (int)offset, st) != 0) {
        free(st);
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    }
    json_t *list = json_array();
    for (int i = 0; i < st->day_count; i++) {
        json_t *d = figures_json(&st->days[i].f);
        json_object_set_new(d, "day_start", api_time(st->days[i].start_ms));
        json_array_append_new(list, d);
    }
    json_t *v = json_pack("{s:s, s:i, s:i, s:o, s:o}", "object", "refund_stats", "window_days",
                          (int)days, "tz_offset_minutes", (int)offset, "days", list, "total",
                          figures_json(&st->total));
    free(st);
    return api_ok(r, 200, v);
}

struct settle_arg {
    char event_id[ID_BYTES_MAX];
    char by[ID_BYTES_MAX + 8];
    char note[ATTENTION_NOTE_BYTES_MAX + 1];
};

static int settle_write(struct db *db, struct api_req *r)
{
    const struct settle_arg *a = r->write_arg;
    struct attention_event ev;
    struct km_error e;
    int64_t now = clock_now_ms();
    if (attention_settle(db, a->event_id, a->by, a->note, now, &ev, &e) != 0) {
        return api_error(r, &e);
    }
    return api_ok(r, 200,
                  json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "object", "attention_settlement",
                            "event_id", ev.id, "order_id", ev.order_id, "settled_by", a->by, "note",
                            a->note, "settled_at", api_time(now)));
}

int api_attention_settle(struct api_req *r)
{
    if (api_require_role(r, AUTH_AGENT) != 0) {
        return 0;
    }
    static const char *const allowed[] = {"note", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    const char *note = NULL;
    int rc = api_field_string(r, body, "note", true, ATTENTION_NOTE_BYTES_MAX, &note);
    if (rc == 0 && note[strspn(note, " \t\r\n")] == '\0') {
        rc = api_fail(r, KM_EINVAL, "parameter_missing", "note",
                      "say what was done: with whom it was settled, and how");
    }
    struct settle_arg *a = NULL;
    if (rc == 0) {
        a = calloc(1, sizeof *a);
        km_assert(a != NULL);
        snprintf(a->event_id, sizeof a->event_id, "%s", r->seg[2]);
        snprintf(a->by, sizeof a->by, "agent:%s", r->auth.key_id);
        snprintf(a->note, sizeof a->note, "%s", note);
    }
    json_decref(body);
    return a != NULL ? api_write(r, settle_write, a, free) : 0;
}
