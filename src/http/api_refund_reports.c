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
#include "service/payouts.h"
#include "service/refund_stats.h"
#include "store/db.h"
#include "store/store_events.h"
#include "store/store_ledger.h"
#include "store/store_refunds.h"

enum { RANK_MONEY, RANK_OVERDUE, RANK_UNPAID };

struct item {
    int rank;
    int64_t since;
    json_t *v;
};

struct items {
    struct item *at;
    int count, cap;
};

/* id: the event's, for money to recover (what POST /v1/attention/{id}/settle takes); NULL for
 * the others, which end by themselves when their refund moves on. */
static void add(struct items *l, int rank, int64_t since, const char *id, const char *kind,
                const char *order_id, json_t *refund)
{
    if (l->count == l->cap) {
        l->cap = l->cap == 0 ? 16 : l->cap * 2;
        l->at = realloc(l->at, (size_t)l->cap * sizeof *l->at);
        km_assert(l->at != NULL);
    }
    json_t *v =
        json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:n}", "object", "attention", "id",
                  id != NULL ? json_string(id) : json_null(), "kind", kind, "order_id", order_id,
                  "refund", refund != NULL ? refund : json_null(), "since", api_time(since),
                  "amount_fen");
    km_assert(v != NULL);
    l->at[l->count++] = (struct item){rank, since, v};
}

static int by_rank_then_time(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->rank != y->rank) {
        return x->rank - y->rank;
    }
    return (x->since > y->since) - (x->since < y->since);
}

/* A top-up credited after its refund needs a person only when it was credited as ordered and a
 * refund of it was paid: the buyer then has both. One whose refund failed gave its money back to
 * revenue by itself; one credited to another region is no delivery, and its refund is owed. */
static int has_both(struct db *db, const char *order_id, bool *both)
{
    *both = false;
    struct topup t;
    if (store_topup_get_by_order(db, order_id, &t) != 0) {
        return -1;
    }
    if (strcmp(t.status, "succeeded") != 0) {
        return 0;
    }
    struct refund_row *rs = NULL;
    int n = 0;
    if (store_refunds_of_order(db, order_id, &rs, &n) != 0) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        *both = *both || (strcmp(rs[i].rule, "E1") == 0 && strcmp(rs[i].status, "succeeded") == 0);
    }
    free(rs);
    return 0;
}

/* A refund the shop paid for account goods whose escrow went to the seller: listed with what
 * revenue fronted (amount_fen), once the money left or is on its way; a refund that failed and was
 * not moved paid nothing, and there is nothing to recover while it stays so. */
static int seller_recovery(struct db *db, struct items *l, const struct attention_event *ev)
{
    struct refund_row rf;
    char successor[ID_BYTES_MAX];
    int64_t fronted = 0;
    if (store_refund_get(db, ev->object_id, &rf) != 0 ||
        store_refund_successor(db, rf.id, successor) != 0 ||
        store_ledger_posted_of(db, "refund_reversal", rf.id, &fronted) != 0) {
        return -1;
    }
    if (strcmp(rf.status, "failed") == 0 && successor[0] == '\0') {
        return 0;
    }
    json_t *v = view_refund(db, &rf);
    if (v == NULL) {
        return -1;
    }
    add(l, RANK_MONEY, ev->created_at, ev->id, "seller_recovery_due", ev->order_id, v);
    json_object_set_new(l->at[l->count - 1].v, "amount_fen", json_integer(fronted));
    return 0;
}

static int money_to_recover(struct db *db, struct items *l)
{
    struct attention_event *ev = NULL;
    int n = 0;
    int rc = store_events_needing_a_person(db, &ev, &n);
    for (int i = 0; rc == 0 && i < n; i++) {
        if (strcmp(ev[i].type, "refund.paid_twice") == 0) {
            struct refund_row rf;
            json_t *v =
                store_refund_get(db, ev[i].object_id, &rf) == 0 ? view_refund(db, &rf) : NULL;
            if (v == NULL) {
                rc = -1;
            } else {
                add(l, RANK_MONEY, ev[i].created_at, ev[i].id, "paid_twice", ev[i].order_id, v);
            }
            continue;
        }
        if (strcmp(ev[i].type, "refund.seller_recovery_due") == 0) {
            rc = seller_recovery(db, l, &ev[i]);
            continue;
        }
        bool both = false;
        if (has_both(db, ev[i].order_id, &both) != 0) {
            rc = -1;
        } else if (both) {
            add(l, RANK_MONEY, ev[i].created_at, ev[i].id, "topup_credited_after_refund",
                ev[i].order_id, NULL);
        }
    }
    free(ev);
    return rc;
}

/* Overdue refunds (rank RANK_OVERDUE) or unpaid ones still owed (RANK_UNPAID). */
static int refunds_listed(struct db *db, struct items *l, int rank)
{
    struct refund_row *rs = NULL;
    int n = 0;
    int rc = rank == RANK_OVERDUE ? store_refunds_overdue(db, &rs, &n)
                                  : store_refunds_unpaid(db, &rs, &n);
    for (int i = 0; rc == 0 && i < n; i++) {
        int64_t movable_fen = 0;
        if (rank == RANK_UNPAID && payouts_movable(db, &rs[i], &movable_fen) != 0) {
            rc = -1;
        } else if (rank == RANK_OVERDUE || movable_fen > 0) {
            json_t *v = view_refund(db, &rs[i]);
            if (v == NULL) {
                rc = -1;
                break;
            }
            int64_t since = rank == RANK_OVERDUE      ? rs[i].expected_by
                            : rs[i].completed_at != 0 ? rs[i].completed_at
                                                      : rs[i].created_at;
            add(l, rank, since, NULL, rank == RANK_OVERDUE ? "overdue" : "unpaid_refund",
                rs[i].order_id, v);
        }
    }
    free(rs);
    return rc;
}

int api_attention(struct api_req *r)
{
    if (api_require_role(r, AUTH_AGENT) != 0) {
        return 0;
    }
    struct items l = {0};
    if (db_begin_read(r->db) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "database unavailable");
    }
    int rc = money_to_recover(r->db, &l);
    rc = rc != 0 ? rc : refunds_listed(r->db, &l, RANK_OVERDUE);
    rc = rc != 0 ? rc : refunds_listed(r->db, &l, RANK_UNPAID);
    db_rollback(r->db);
    json_t *data = json_array();
    if (rc == 0 && l.count > 1) { /* qsort must not be given the NULL of an empty list */
        qsort(l.at, (size_t)l.count, sizeof *l.at, by_rank_then_time);
    }
    for (int i = 0; i < l.count; i++) {
        if (rc == 0 && i < ATTENTION_LIST_MAX) {
            json_array_append_new(data, l.at[i].v);
        } else {
            json_decref(l.at[i].v);
        }
    }
    free(l.at);
    if (rc != 0) {
        json_decref(data);
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
    }
    return api_ok(r, 200,
                  json_pack("{s:s, s:o, s:b, s:i}", "object", "list", "data", data, "has_more",
                            l.count > ATTENTION_LIST_MAX, "total", l.count));
}

/* A query integer from lo to hi, or def when absent; -1 after answering 400. */
static int query_int(struct api_req *r, const char *name, long lo, long hi, long def, long *out)
{
    *out = def;
    const char *v = api_query(r, name);
    if (v == NULL) {
        return 0;
    }
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < lo || n > hi) {
        api_fail(r, KM_EINVAL, "parameter_out_of_range", name,
                 "%s must be an integer from %ld to %ld", name, lo, hi);
        return -1;
    }
    *out = n;
    return 0;
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
    if (query_int(r, "days", 1, REFUND_STATS_DAYS_MAX, 90, &days) != 0 ||
        query_int(r, "tz_offset_minutes", -840, 840, 480, &offset) != 0) {
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
