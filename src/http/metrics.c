/* Request metrics. Routes are few and fixed, so a small table keyed by the route name's address
 * (string literals from the route table) is enough. */
#include "http/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "service/checkpointer.h"
#include "service/executor.h"
#include "service/read_cache.h"
#include "service/view_warmer.h"
#include "store/db.h"

#define METRICS_ROUTES_MAX 96 /* the route table has fewer; asserted */
#define LATENCY_BUCKETS 12

static const double bucket_s[LATENCY_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                 0.05,   0.1,   0.25,   0.5,   1.0,  5.0};

struct route_metrics {
    const char *route;
    _Atomic long long by_class[6]; /* 1xx..5xx */
    _Atomic long long buckets[LATENCY_BUCKETS + 1];
    _Atomic long long sum_us;
    _Atomic long long count;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct route_metrics table[METRICS_ROUTES_MAX];
static _Atomic int table_count;

static struct route_metrics *slot_for(const char *route)
{
    int n = atomic_load(&table_count);
    for (int i = 0; i < n; i++) {
        if (table[i].route == route) {
            return &table[i];
        }
    }
    pthread_mutex_lock(&table_lock);
    n = atomic_load(&table_count);
    for (int i = 0; i < n; i++) {
        if (table[i].route == route) {
            pthread_mutex_unlock(&table_lock);
            return &table[i];
        }
    }
    km_assert(n < METRICS_ROUTES_MAX);
    table[n].route = route;
    atomic_store(&table_count, n + 1);
    pthread_mutex_unlock(&table_lock);
    return &table[n];
}

void metrics_request_done(const char *route, int status, int64_t duration_us)
{
    struct route_metrics *m = slot_for(route != NULL ? route : "unknown");
    int cls = status / 100;
    if (cls >= 1 && cls <= 5) {
        atomic_fetch_add(&m->by_class[cls], 1);
    }
    int b = 0;
    while (b < LATENCY_BUCKETS && (double)duration_us / 1e6 > bucket_s[b]) {
        b++;
    }
    atomic_fetch_add(&m->buckets[b], 1);
    atomic_fetch_add(&m->sum_us, duration_us);
    atomic_fetch_add(&m->count, 1);
}

struct text {
    char *buf;
    size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        km_assert(n >= 0);
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap *= 2;
        t->buf = realloc(t->buf, t->cap);
        km_assert(t->buf != NULL);
    }
}

char *metrics_render(void)
{
    struct text t = {.cap = 16384};
    t.buf = malloc(t.cap);
    km_assert(t.buf != NULL);
    t.buf[0] = '\0';
    put(&t, "# HELP kameng_http_requests_total HTTP requests by route and status class.\n"
            "# TYPE kameng_http_requests_total counter\n");
    int n = atomic_load(&table_count);
    for (int i = 0; i < n; i++) {
        for (int c = 1; c <= 5; c++) {
            long long v = atomic_load(&table[i].by_class[c]);
            if (v > 0) {
                put(&t, "kameng_http_requests_total{route=\"%s\",status=\"%dxx\"} %lld\n",
                    table[i].route, c, v);
            }
        }
    }
    put(&t, "# HELP kameng_http_request_duration_seconds Time from request to answer.\n"
            "# TYPE kameng_http_request_duration_seconds histogram\n");
    for (int i = 0; i < n; i++) {
        long long cum = 0;
        for (int b = 0; b < LATENCY_BUCKETS; b++) {
            cum += atomic_load(&table[i].buckets[b]);
            put(&t, "kameng_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lld\n",
                table[i].route, bucket_s[b], cum);
        }
        cum += atomic_load(&table[i].buckets[LATENCY_BUCKETS]);
        put(&t, "kameng_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lld\n",
            table[i].route, cum);
        put(&t, "kameng_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", table[i].route,
            (double)atomic_load(&table[i].sum_us) / 1e6);
        put(&t, "kameng_http_request_duration_seconds_count{route=\"%s\"} %lld\n", table[i].route,
            atomic_load(&table[i].count));
    }
    struct executor_stats es;
    executor_stats_get(&es);
    put(&t,
        "# HELP kameng_write_batches_total Group-commit batches committed.\n"
        "# TYPE kameng_write_batches_total counter\nkameng_write_batches_total %lld\n"
        "# HELP kameng_write_commands_total Write commands run by the executor.\n"
        "# TYPE kameng_write_commands_total counter\nkameng_write_commands_total %lld\n"
        "# HELP kameng_write_commit_failures_total Batches whose commit failed.\n"
        "# TYPE kameng_write_commit_failures_total counter\n"
        "kameng_write_commit_failures_total %lld\n"
        "# HELP kameng_write_queue_depth Commands waiting for the writer.\n"
        "# TYPE kameng_write_queue_depth gauge\nkameng_write_queue_depth %lld\n"
        "# HELP kameng_write_batch_size_max Largest batch so far.\n"
        "# TYPE kameng_write_batch_size_max gauge\nkameng_write_batch_size_max %lld\n"
        "# HELP kameng_write_batch_reruns_total Batches rolled back for a command that failed after "
        "writing, then run again with a savepoint for each command.\n"
        "# TYPE kameng_write_batch_reruns_total counter\nkameng_write_batch_reruns_total %lld\n"
        "# HELP kameng_wal_syncs_total WAL syncs; each acknowledges every batch before it.\n"
        "# TYPE kameng_wal_syncs_total counter\nkameng_wal_syncs_total %lld\n"
        "# HELP kameng_wal_sync_seconds_total Time spent in WAL syncs.\n"
        "# TYPE kameng_wal_sync_seconds_total counter\nkameng_wal_sync_seconds_total %.6f\n"
        "# HELP kameng_wal_restarts_total WAL checkpointed and restarted by the writer, by result.\n"
        "# TYPE kameng_wal_restarts_total counter\n"
        "kameng_wal_restarts_total{result=\"done\"} %lld\n"
        "kameng_wal_restarts_total{result=\"busy\"} %lld\n"
        "# HELP kameng_wal_restart_seconds_total Writer time spent checkpointing the WAL.\n"
        "# TYPE kameng_wal_restart_seconds_total counter\nkameng_wal_restart_seconds_total %.6f\n",
        es.batches, es.commands, es.commit_failures, es.queue_depth, es.batch_size_max, es.reruns,
        es.syncs,
        (double)es.sync_us_total / 1e6, es.wal_restarts, es.wal_restarts_busy,
        (double)es.wal_restart_us_total / 1e6);
    long long wal_asked, wal_made;
    db_wal_write_stats(&wal_asked, &wal_made);
    put(&t,
        "# HELP kameng_wal_writes_total Writes to the WAL: asked for by SQLite, and made to the "
        "file (a commit's frames gathered into one).\n"
        "# TYPE kameng_wal_writes_total counter\n"
        "kameng_wal_writes_total{by=\"sqlite\"} %lld\nkameng_wal_writes_total{by=\"file\"} %lld\n",
        wal_asked, wal_made);
    struct checkpointer_stats cs;
    checkpointer_stats_get(&cs);
    put(&t,
        "# HELP kameng_wal_checkpoints_total Background checkpoints of the WAL.\n"
        "# TYPE kameng_wal_checkpoints_total counter\nkameng_wal_checkpoints_total %lld\n"
        "# HELP kameng_wal_checkpoint_seconds_total Time the background checkpoints took.\n"
        "# TYPE kameng_wal_checkpoint_seconds_total counter\n"
        "kameng_wal_checkpoint_seconds_total %.6f\n",
        cs.runs, (double)cs.us_total / 1e6);
    struct read_cache_stats rs;
    read_cache_stats_get(&rs);
    put(&t,
        "# HELP kameng_read_cache_total Reads answered from memory (hit) or the database (miss).\n"
        "# TYPE kameng_read_cache_total counter\n"
        "kameng_read_cache_total{cache=\"order_view\",result=\"hit\"} %llu\n"
        "kameng_read_cache_total{cache=\"order_view\",result=\"miss\"} %llu\n"
        "kameng_read_cache_total{cache=\"buyer_token\",result=\"hit\"} %llu\n"
        "kameng_read_cache_total{cache=\"buyer_token\",result=\"miss\"} %llu\n"
        "# HELP kameng_read_cache_drops_total Order views dropped because a commit touched them.\n"
        "# TYPE kameng_read_cache_drops_total counter\nkameng_read_cache_drops_total %llu\n"
        "# HELP kameng_read_cache_bytes Memory held by kept order views.\n"
        "# TYPE kameng_read_cache_bytes gauge\nkameng_read_cache_bytes %llu\n"
        "# HELP kameng_read_cache_budget_bytes Memory order views may take (order_view_cache_mb).\n"
        "# TYPE kameng_read_cache_budget_bytes gauge\nkameng_read_cache_budget_bytes %llu\n",
        (unsigned long long)rs.view_hits, (unsigned long long)rs.view_misses,
        (unsigned long long)rs.token_hits, (unsigned long long)rs.token_misses,
        (unsigned long long)rs.view_drops, (unsigned long long)rs.view_bytes,
        (unsigned long long)rs.view_budget);
    struct view_warmer_stats ws;
    view_warmer_stats_get(&ws);
    put(&t,
        "# HELP kameng_order_views_warmed_total Order views rebuilt and kept after a commit "
        "dropped them, before their next read.\n"
        "# TYPE kameng_order_views_warmed_total counter\nkameng_order_views_warmed_total %llu\n"
        "# HELP kameng_order_views_warm_forgotten_total Dropped order views never rebuilt ahead: "
        "the warmer's queue was full.\n"
        "# TYPE kameng_order_views_warm_forgotten_total counter\n"
        "kameng_order_views_warm_forgotten_total %llu\n"
        "# HELP kameng_order_views_warm_pending Orders waiting for the warmer to rebuild their "
        "view.\n"
        "# TYPE kameng_order_views_warm_pending gauge\nkameng_order_views_warm_pending %llu\n"
        "# HELP kameng_order_views_warm_held_total Times the warmer held its due notes while "
        "the rest of kameng kept the CPUs busy.\n"
        "# TYPE kameng_order_views_warm_held_total counter\n"
        "kameng_order_views_warm_held_total %llu\n",
        (unsigned long long)ws.warmed, (unsigned long long)ws.forgotten,
        (unsigned long long)ws.pending, (unsigned long long)ws.held);
    return t.buf;
}
