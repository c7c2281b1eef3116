/* See refund_stats.h. One pass over the window's refunds and first decisions, each counted on
 * its local day; durations kept per day to take their median. */
#include "service/refund_stats.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "store/store_refunds.h"

#define MS_PER_DAY (24 * 3600 * 1000LL)

struct durations {
    int64_t *ms;
    int count, cap;
};

struct bucket {
    struct refund_stats_figures f;
    struct durations decision, money;
};

struct pass {
    int64_t first_day; /* local day number of the window's first day */
    int64_t offset_ms;
    int days;
    struct bucket day[REFUND_STATS_DAYS_MAX + 1];
    struct bucket total;
};

static void push(struct durations *d, int64_t ms)
{
    if (d->count == d->cap) {
        d->cap = d->cap == 0 ? 8 : d->cap * 2;
        d->ms = realloc(d->ms, (size_t)d->cap * sizeof *d->ms);
        km_assert(d->ms != NULL);
    }
    d->ms[d->count++] = ms < 0 ? 0 : ms;
}

/* The bucket of the local day at, or NULL before the window (a refund made before it that
 * arrived within it counts only its arrival). */
static struct bucket *day_of(struct pass *p, int64_t at)
{
    int64_t local = at + p->offset_ms;
    int64_t n = (local - (local < 0 ? MS_PER_DAY - 1 : 0)) / MS_PER_DAY - p->first_day;
    return n >= 0 && n < p->days ? &p->day[n] : NULL;
}

static void count_refund(void *ctx, const struct refund_fact *r)
{
    struct pass *p = ctx;
    struct bucket *made = day_of(p, r->created_at);
    struct bucket *both[2] = {made, made != NULL ? &p->total : NULL};
    for (int i = 0; i < 2 && both[i] != NULL; i++) {
        both[i]->f.refunds++;
        both[i]->f.refunded_fen += r->amount_fen;
        if (r->unasked) { /* refunded unasked: decided by the machine at once */
            both[i]->f.decided++;
            both[i]->f.automatic++;
            push(&both[i]->decision, 0);
        }
    }
    struct bucket *arrived = r->completed_at != 0 ? day_of(p, r->completed_at) : NULL;
    if (arrived != NULL) {
        push(&arrived->money, r->completed_at - r->asked_at);
        push(&p->total.money, r->completed_at - r->asked_at);
    }
}

static void count_decision(void *ctx, const struct decision_fact *d)
{
    struct pass *p = ctx;
    struct bucket *b = day_of(p, d->decided_at);
    struct bucket *both[2] = {b, b != NULL ? &p->total : NULL};
    for (int i = 0; i < 2 && both[i] != NULL; i++) {
        both[i]->f.decided++;
        both[i]->f.automatic += d->automatic;
        push(&both[i]->decision, d->decided_at - d->asked_at);
    }
}

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Median (the mean of the middle two for an even count) and largest; -1 for none. */
static void summarise(struct durations *d, int64_t *median, int64_t *max)
{
    *median = -1;
    *max = -1;
    if (d->count > 0) {
        qsort(d->ms, (size_t)d->count, sizeof *d->ms, by_value);
        int m = d->count / 2;
        *median = d->count % 2 ? d->ms[m] : (d->ms[m - 1] + d->ms[m]) / 2;
        *max = d->ms[d->count - 1];
    }
    free(d->ms);
    *d = (struct durations){0};
}

static void finish(struct bucket *b, struct refund_stats_figures *out)
{
    summarise(&b->decision, &b->f.decision_ms_median, &b->f.decision_ms_max);
    summarise(&b->money, &b->f.money_ms_median, &b->f.money_ms_max);
    *out = b->f;
}

int refund_stats_compute(struct db *db, int64_t since_ms, int64_t now_ms, int offset_minutes,
                         struct refund_stats *out)
{
    struct pass *p = calloc(1, sizeof *p);
    km_assert(p != NULL);
    p->offset_ms = (int64_t)offset_minutes * 60000;
    int64_t local_since = since_ms + p->offset_ms, local_now = now_ms + p->offset_ms;
    p->first_day = local_since / MS_PER_DAY;
    p->days = (int)(local_now / MS_PER_DAY - p->first_day + 1);
    km_assert(p->days >= 1 && p->days <= REFUND_STATS_DAYS_MAX + 1);
    int64_t window_start = p->first_day * MS_PER_DAY - p->offset_ms;
    int rc = db_begin_read(db);
    rc = rc != 0 ? rc : store_refund_facts(db, window_start, count_refund, p);
    rc = rc != 0 ? rc : store_first_decisions(db, window_start, count_decision, p);
    db_rollback(db);
    memset(out, 0, sizeof *out);
    for (int i = 0; i < p->days; i++) {
        struct bucket *b = &p->day[i];
        bool any = b->f.refunds + b->f.decided > 0 || b->money.count > 0;
        struct refund_stats_figures f;
        finish(b, &f);
        if (any && rc == 0) {
            out->days[out->day_count++] =
                (struct refund_stats_day){(p->first_day + i) * MS_PER_DAY - p->offset_ms, f};
        }
    }
    finish(&p->total, &out->total);
    free(p);
    return rc;
}
