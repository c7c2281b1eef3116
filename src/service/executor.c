/* A bounded queue and one writer thread over one SQLite connection: group commit with a
 * SAVEPOINT per command. */
#include "service/executor.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/limits.h"
#include "core/log.h"
#include "service/read_cache.h"
#include "store/store.h"

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct write_cmd *head;
    struct write_cmd *tail;
    int depth;
    bool stopping;
    bool started;
    pthread_t thread;
    struct db *db;
    struct executor_stats stats;
    /* Orders the running batch touched (writer thread only), dropped from the read cache once
     * the batch commits and before anyone is told their write is done. */
    char (*touched)[ID_BYTES_MAX];
    int touched_count;
    int touched_cap;
} ex = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void order_touched(void *ctx, const char *order_id)
{
    (void)ctx;
    if (strlen(order_id) >= ID_BYTES_MAX ||
        (ex.touched_count > 0 && strcmp(ex.touched[ex.touched_count - 1], order_id) == 0)) {
        return; /* the same order again, as a command's statements usually are */
    }
    if (ex.touched_count == ex.touched_cap) {
        ex.touched_cap = ex.touched_cap == 0 ? 256 : ex.touched_cap * 2;
        ex.touched = realloc(ex.touched, (size_t)ex.touched_cap * sizeof *ex.touched);
        km_assert(ex.touched != NULL);
    }
    memcpy(ex.touched[ex.touched_count++], order_id, strlen(order_id) + 1);
}

static void run_batch(struct write_cmd *batch, int count)
{
    int rcs[WRITE_BATCH_MAX];
    int64_t t0 = clock_mono_us();
    int begin_rc = db_begin_write(ex.db);
    int i = 0;
    for (struct write_cmd *c = batch; c != NULL; c = c->next, i++) {
        km_assert(i < count);
        if (begin_rc != 0 || db_savepoint(ex.db) != 0) {
            rcs[i] = -KM_EINTERNAL;
            continue;
        }
        rcs[i] = c->run(ex.db, c->arg);
        if (rcs[i] < 0) {
            db_savepoint_rollback(ex.db);
        } else {
            db_savepoint_release(ex.db);
        }
    }
    int commit_rc = begin_rc == 0 ? db_commit(ex.db) : begin_rc;
    if (commit_rc != 0) {
        db_rollback(ex.db);
        log_write(LOG_ERROR, "batch_commit_failed", NULL);
    }
    for (i = 0; i < ex.touched_count; i++) {
        read_cache_view_drop(ex.touched[i]);
    }
    ex.touched_count = 0;
    int64_t took = clock_mono_us() - t0;
    pthread_mutex_lock(&ex.lock);
    ex.stats.batches++;
    ex.stats.commands += count;
    ex.stats.commit_us_total += took;
    if (count > ex.stats.batch_size_max) {
        ex.stats.batch_size_max = count;
    }
    if (commit_rc != 0) {
        ex.stats.commit_failures++;
    }
    pthread_mutex_unlock(&ex.lock);
    i = 0;
    for (struct write_cmd *c = batch, *next; c != NULL; c = next, i++) {
        next = c->next; /* done() may free c */
        c->done(c->arg, commit_rc != 0 ? -KM_EINTERNAL : rcs[i]);
    }
}

static void *writer_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "kameng-writer"); /* for top -H and profilers */
    for (;;) {
        pthread_mutex_lock(&ex.lock);
        while (ex.head == NULL && !ex.stopping) {
            pthread_cond_wait(&ex.wake, &ex.lock);
        }
        if (ex.head == NULL && ex.stopping) {
            pthread_mutex_unlock(&ex.lock);
            break;
        }
        struct write_cmd *batch = ex.head;
        struct write_cmd *last = batch;
        int count = 1;
        while (last->next != NULL && count < WRITE_BATCH_MAX) {
            last = last->next;
            count++;
        }
        ex.head = last->next;
        if (ex.head == NULL) {
            ex.tail = NULL;
        }
        last->next = NULL;
        ex.depth -= count;
        pthread_mutex_unlock(&ex.lock);
        run_batch(batch, count);
    }
    return NULL;
}

int executor_start(const char *db_path)
{
    km_assert(!ex.started);
    int rc = db_open(db_path, true, &ex.db);
    rc = rc != 0 ? rc : store_watch_orders(ex.db, order_touched, NULL);
    if (rc != 0) {
        db_close(ex.db);
        ex.db = NULL;
        return rc;
    }
    ex.stopping = false;
    if (pthread_create(&ex.thread, NULL, writer_main, NULL) != 0) {
        db_close(ex.db);
        ex.db = NULL;
        return -KM_EINTERNAL;
    }
    ex.started = true;
    return 0;
}

void executor_stop(void)
{
    if (!ex.started) {
        return;
    }
    pthread_mutex_lock(&ex.lock);
    ex.stopping = true;
    pthread_cond_signal(&ex.wake);
    pthread_mutex_unlock(&ex.lock);
    pthread_join(ex.thread, NULL);
    db_close(ex.db);
    ex.db = NULL;
    ex.started = false;
    free(ex.touched);
    ex.touched = NULL;
    ex.touched_count = ex.touched_cap = 0;
}

int executor_submit(struct write_cmd *cmd)
{
    km_assert(cmd->run != NULL && cmd->done != NULL);
    cmd->next = NULL;
    pthread_mutex_lock(&ex.lock);
    if (ex.stopping || !ex.started) {
        pthread_mutex_unlock(&ex.lock);
        return -KM_ESTATE;
    }
    if (ex.depth >= WRITE_QUEUE_DEPTH_MAX) {
        pthread_mutex_unlock(&ex.lock);
        return -KM_EBUSY;
    }
    if (ex.tail != NULL) {
        ex.tail->next = cmd;
    } else {
        ex.head = cmd;
    }
    ex.tail = cmd;
    ex.depth++;
    pthread_cond_signal(&ex.wake);
    pthread_mutex_unlock(&ex.lock);
    return 0;
}

struct sync_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool finished;
    int rc;
    int (*run)(struct db *db, void *arg);
    void *arg;
};

static int sync_run(struct db *db, void *arg)
{
    struct sync_wait *w = arg;
    return w->run(db, w->arg);
}

static void sync_done(void *arg, int rc)
{
    struct sync_wait *w = arg;
    pthread_mutex_lock(&w->lock);
    w->rc = rc;
    w->finished = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

int executor_run(int (*run)(struct db *db, void *arg), void *arg)
{
    struct sync_wait w = {.lock = PTHREAD_MUTEX_INITIALIZER,
                          .cond = PTHREAD_COND_INITIALIZER,
                          .run = run,
                          .arg = arg};
    struct write_cmd cmd = {.run = sync_run, .done = sync_done, .arg = &w};
    int rc = executor_submit(&cmd);
    if (rc != 0) {
        return rc;
    }
    pthread_mutex_lock(&w.lock);
    while (!w.finished) {
        pthread_cond_wait(&w.cond, &w.lock);
    }
    pthread_mutex_unlock(&w.lock);
    return w.rc;
}

void executor_stats_get(struct executor_stats *out)
{
    pthread_mutex_lock(&ex.lock);
    *out = ex.stats;
    out->queue_depth = ex.depth;
    pthread_mutex_unlock(&ex.lock);
}
