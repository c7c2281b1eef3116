/* A bounded queue and one writer thread over one SQLite connection: group commit with a
 * SAVEPOINT per command. A second thread syncs the WAL and acknowledges the committed batches,
 * so the writer runs the next batch while the disk takes the last one. */
#include "service/executor.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/limits.h"
#include "core/log.h"
#include "service/checkpointer.h"
#include "service/wal_plan.h"
#include "service/read_cache.h"
#include "service/view_warmer.h"
#include "store/store.h"

/* Log lines of commands (executor_log), held until what they tell of is durable. */
struct held_logs {
    char **lines;
    int count;
    int cap;
};

/* A committed batch waiting for the WAL sync that makes it durable. */
struct committed {
    struct write_cmd *cmds;
    int count;
    bool failed; /* the commit failed: nothing of the batch was kept */
    uint64_t seq;
    int rcs[WRITE_BATCH_MAX];
    struct held_logs logs; /* its commands' log lines, written once it is durable */
};


struct order_ids {
    char (*ids)[ID_BYTES_MAX];
    int count;
    int cap;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct write_cmd *head;
    struct write_cmd *tail;
    int depth;
    bool stopping;
    bool started;
    bool writer_ahead; /* set before the writer starts */
    pthread_t thread;
    struct db *db;
    struct executor_stats stats;
    /* Orders the running batch touched (writer thread only), dropped from the read cache once
     * the batch commits and before anyone is told their write is done; and those whose status
     * changed, whose views are rebuilt ahead of their buyer's next read. */
    struct order_ids touched;
    struct order_ids status_changed;
    struct held_logs logs; /* the running batch's log lines (writer thread only) */
    struct wal_plan wal; /* when to nudge the checkpointer and restart the WAL */

    /* The sync pipeline: a ring of committed batches, under sync_lock. */
    pthread_mutex_t sync_lock;
    pthread_cond_t sync_wake;  /* a batch was committed, or the writer stopped */
    pthread_cond_t sync_freed; /* a slot was freed */
    pthread_cond_t synced;     /* durable_seq moved (read fences wait here) */
    struct committed ring[SYNC_PIPELINE];
    int ring_head;
    int ring_count;
    bool writer_done;
    bool syncs_held;                /* tests: no sync starts while held */
    struct fence_wait *fence_waits; /* answers waiting for durable_seq to reach their seq */
    pthread_t syncer;
    /* Sequence numbers of batches: taken before each commit, and the highest known durable. */
    _Atomic uint64_t committed_seq;
    _Atomic uint64_t durable_seq;
} ex = {.lock = PTHREAD_MUTEX_INITIALIZER,
        .wake = PTHREAD_COND_INITIALIZER,
        .sync_lock = PTHREAD_MUTEX_INITIALIZER,
        .sync_wake = PTHREAD_COND_INITIALIZER,
        .sync_freed = PTHREAD_COND_INITIALIZER,
        .synced = PTHREAD_COND_INITIALIZER};

static void order_ids_add(struct order_ids *l, const char *order_id)
{
    if (strlen(order_id) >= ID_BYTES_MAX ||
        (l->count > 0 && strcmp(l->ids[l->count - 1], order_id) == 0)) {
        return; /* the same order again, as a command's statements usually are */
    }
    if (l->count == l->cap) {
        l->cap = l->cap == 0 ? 256 : l->cap * 2;
        l->ids = realloc(l->ids, (size_t)l->cap * sizeof *l->ids);
        km_assert(l->ids != NULL);
    }
    memcpy(l->ids[l->count++], order_id, strlen(order_id) + 1);
}

static void order_ids_free(struct order_ids *l)
{
    free(l->ids);
    l->ids = NULL;
    l->count = l->cap = 0;
}

static _Thread_local bool on_writer; /* this thread runs the commands */

static void held_logs_drop(struct held_logs *l, int from)
{
    while (l->count > from) {
        free(l->lines[--l->count]);
    }
}

static void held_logs_write(struct held_logs *l)
{
    for (int i = 0; i < l->count; i++) {
        log_emit(l->lines[i]);
    }
    l->count = 0;
}

void executor_log(enum log_level level, const char *event, ...)
{
    va_list ap;
    va_start(ap, event);
    char *line = log_vformat(level, event, ap);
    va_end(ap);
    if (line == NULL || !on_writer) {
        log_emit(line); /* a command run directly (tests, tools): nothing to wait for */
        return;
    }
    struct held_logs *l = &ex.logs;
    if (l->count == l->cap) {
        l->cap = l->cap == 0 ? 16 : l->cap * 2;
        l->lines = realloc(l->lines, (size_t)l->cap * sizeof *l->lines);
        km_assert(l->lines != NULL);
    }
    l->lines[l->count++] = line;
}

static void order_touched(void *ctx, const char *order_id)
{
    (void)ctx;
    order_ids_add(&ex.touched, order_id);
}

static void order_status_changed(void *ctx, const char *order_id)
{
    (void)ctx;
    order_ids_add(&ex.status_changed, order_id);
}

/* A free slot of the ring, waiting while the pipeline is full (writer thread only). */
static struct committed *slot_take(void)
{
    pthread_mutex_lock(&ex.sync_lock);
    while (ex.ring_count == SYNC_PIPELINE) {
        pthread_cond_wait(&ex.sync_freed, &ex.sync_lock);
    }
    struct committed *b = &ex.ring[(ex.ring_head + ex.ring_count) % SYNC_PIPELINE];
    pthread_mutex_unlock(&ex.sync_lock);
    return b;
}

static void slot_publish(void)
{
    pthread_mutex_lock(&ex.sync_lock);
    ex.ring_count++;
    pthread_cond_signal(&ex.sync_wake);
    pthread_mutex_unlock(&ex.sync_lock);
}

/* Copy the WAL into the database and start it over, between batches (nothing appends to it
 * meanwhile). The background checkpointer has usually copied most of it already. A reader of an
 * older snapshot makes it wait a few milliseconds at most; then it is tried again later. */
static int wal_restart(void)
{
    int64_t t0 = clock_mono_us();
    int rc = db_checkpoint_restart(ex.db, WAL_RESTART_WAIT_MS);
    int64_t took = clock_mono_us() - t0;
    pthread_mutex_lock(&ex.lock);
    if (rc == 0) {
        ex.stats.wal_restarts++;
    } else {
        ex.stats.wal_restarts_busy++;
    }
    ex.stats.wal_restart_us_total += took;
    pthread_mutex_unlock(&ex.lock);
    return rc;
}

/* After each batch: the background checkpointer nudged, or the WAL restarted, as wal_plan says. */
static void wal_keep_small(void)
{
    bool started_over = false;
    enum wal_step step =
        wal_plan_next(&ex.wal, db_wal_frames(ex.db), checkpointer_copied(), &started_over);
    if (started_over) {
        checkpointer_wal_started_over();
    }
    if (step == WAL_NUDGE) {
        checkpointer_nudge();
    } else if (step == WAL_RESTART && checkpointer_hold()) {
        int rc = wal_restart();
        checkpointer_release();
        if (rc != 0) {
            wal_plan_restart_failed(&ex.wal, db_wal_frames(ex.db));
        }
    } /* a restart while a checkpoint is copying waits for the next batch */
}

/* Runs a batch of rerunnable commands without savepoints. False when one failed after it had
 * written, or the transaction ended under it: then the batch must be rolled back whole. */
static bool run_unguarded(struct write_cmd *batch, int count, struct committed *b)
{
    int i = 0;
    for (struct write_cmd *c = batch; c != NULL; c = c->next, i++) {
        km_assert(i < count);
        int64_t changes = db_total_changes(ex.db);
        int logged = ex.logs.count;
        b->rcs[i] = c->run(ex.db, c->arg);
        if (!db_in_transaction(ex.db)) {
            return false;
        }
        if (b->rcs[i] < 0) {
            if (db_total_changes(ex.db) != changes) {
                return false; /* its writes are mixed with the others' */
            }
            held_logs_drop(&ex.logs, logged); /* it failed before writing: nothing to undo */
        }
    }
    return true;
}

static bool all_rerunnable(const struct write_cmd *batch)
{
    for (const struct write_cmd *c = batch; c != NULL; c = c->next) {
        if (!c->rerunnable) {
            return false;
        }
    }
    return true;
}

static void run_batch(struct write_cmd *batch, int count)
{
    struct committed *b = slot_take();
    b->cmds = batch;
    b->count = count;
    int64_t t0 = clock_mono_us();
    int64_t changes_before = db_total_changes(ex.db);
    int begin_rc = db_begin_write(ex.db);
    bool done = false, rerun = false;
    if (begin_rc == 0 && all_rerunnable(batch)) {
        done = run_unguarded(batch, count, b);
        if (!done) {
            /* Everything the batch wrote goes, and it runs again, each command in a savepoint
             * this time. What the first run noted for the read cache and the log goes too. */
            db_rollback(ex.db);
            held_logs_drop(&ex.logs, 0);
            ex.touched.count = 0;
            ex.status_changed.count = 0;
            rerun = true;
            begin_rc = db_begin_write(ex.db);
        }
    }
    int i = 0;
    for (struct write_cmd *c = batch; !done && c != NULL; c = c->next, i++) {
        km_assert(i < count);
        if (begin_rc != 0 || !db_in_transaction(ex.db) || db_savepoint(ex.db) != 0) {
            b->rcs[i] = -KM_EINTERNAL;
            continue;
        }
        int logged = ex.logs.count;
        b->rcs[i] = c->run(ex.db, c->arg);
        if (b->rcs[i] >= 0 && !db_in_transaction(ex.db)) {
            /* A statement failed under a command that carried on (PostgreSQL then aborts the
             * transaction): the command's writes go, and the batch goes on without them. */
            b->rcs[i] = -KM_EINTERNAL;
        }
        if (b->rcs[i] < 0) {
            db_savepoint_rollback(ex.db);
            held_logs_drop(&ex.logs, logged);
        } else {
            db_savepoint_release(ex.db);
        }
    }
    /* The number is taken before the commit, so a reader that sees the batch's rows also sees a
     * number its read fence waits for. A batch that changed no row (the timers' idle passes, a
     * batch of refusals) writes nothing to the WAL: readers have nothing of it to wait for, so
     * it takes no new number, though its commands are still answered after the next sync. */
    bool wrote = db_total_changes(ex.db) != changes_before;
    b->seq = wrote ? atomic_fetch_add(&ex.committed_seq, 1) + 1 : atomic_load(&ex.committed_seq);
    int commit_rc = begin_rc == 0 ? db_commit(ex.db) : begin_rc;
    if (commit_rc != 0) {
        db_rollback(ex.db);
        log_write(LOG_ERROR, "batch_commit_failed", NULL);
    }
    b->failed = commit_rc != 0;
    if (b->failed) {
        held_logs_drop(&ex.logs, 0);
    }
    /* The batch's lines go with it to the syncer; the slot's old array comes back empty. */
    struct held_logs swap = b->logs;
    b->logs = ex.logs;
    ex.logs = swap;
    /* A view someone was reading is rebuilt for their next poll, and so is that of an order
     * that reached a new status, which its buyer comes back for. */
    for (i = 0; i < ex.touched.count; i++) {
        if (read_cache_view_drop(ex.touched.ids[i]) && !b->failed) {
            view_warmer_note(ex.touched.ids[i]);
        }
    }
    for (i = 0; !b->failed && i < ex.status_changed.count; i++) {
        view_warmer_note(ex.status_changed.ids[i]);
    }
    ex.touched.count = 0;
    ex.status_changed.count = 0;
    int64_t took = clock_mono_us() - t0;
    pthread_mutex_lock(&ex.lock);
    ex.stats.batches++;
    ex.stats.reruns += rerun;
    ex.stats.commands += count;
    ex.stats.commit_us_total += took;
    if (count > ex.stats.batch_size_max) {
        ex.stats.batch_size_max = count;
    }
    if (commit_rc != 0) {
        ex.stats.commit_failures++;
    }
    pthread_mutex_unlock(&ex.lock);
    slot_publish();
    wal_keep_small();
}

/* Unlink the fence waits that durable releases (under sync_lock). */
static struct fence_wait *fences_take(uint64_t durable)
{
    struct fence_wait *ready = NULL;
    for (struct fence_wait **p = &ex.fence_waits; *p != NULL;) {
        if ((*p)->seq <= durable) {
            struct fence_wait *f = *p;
            *p = f->next;
            f->next = ready;
            ready = f;
        } else {
            p = &(*p)->next;
        }
    }
    return ready;
}

/* Sync the WAL once for every batch committed so far, then tell their commands how they ended.
 * Nothing is acknowledged before the sync that covers it, as it was when each commit synced. */
static void *syncer_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "kameng-syncer");
    for (;;) {
        pthread_mutex_lock(&ex.sync_lock);
        while ((ex.ring_count == 0 && !ex.writer_done) || (ex.syncs_held && !ex.writer_done)) {
            pthread_cond_wait(&ex.sync_wake, &ex.sync_lock);
        }
        if (ex.ring_count == 0) {
            pthread_mutex_unlock(&ex.sync_lock);
            break; /* the writer has stopped and every batch is acknowledged */
        }
        int head = ex.ring_head, n = ex.ring_count; /* later batches wait for the next sync */
        pthread_mutex_unlock(&ex.sync_lock);

        int64_t t0 = clock_mono_us();
        /* A failed fsync leaves the page cache in a state nobody can vouch for: stop, and let
         * recovery from the WAL on the next start decide what was kept. */
        km_assert(db_wal_sync(ex.db) == 0);
        int64_t took = clock_mono_us() - t0;
        uint64_t durable = ex.ring[(head + n - 1) % SYNC_PIPELINE].seq;
        pthread_mutex_lock(&ex.sync_lock);
        atomic_store(&ex.durable_seq, durable);
        pthread_cond_broadcast(&ex.synced); /* read fences go on before the callbacks run */
        struct fence_wait *ready = fences_take(durable);
        pthread_mutex_unlock(&ex.sync_lock);
        for (struct fence_wait *f = ready, *next; f != NULL; f = next) {
            next = f->next; /* done() may free f */
            f->done(f->arg);
        }
        for (int k = 0; k < n; k++) {
            struct committed *b = &ex.ring[(head + k) % SYNC_PIPELINE];
            held_logs_write(&b->logs);
            int i = 0;
            for (struct write_cmd *c = b->cmds, *next; c != NULL; c = next, i++) {
                next = c->next; /* done() may free c */
                c->done(c->arg, b->failed ? -KM_EINTERNAL : b->rcs[i]);
            }
        }
        pthread_mutex_lock(&ex.lock);
        ex.stats.syncs++;
        ex.stats.sync_us_total += took;
        pthread_mutex_unlock(&ex.lock);
        pthread_mutex_lock(&ex.sync_lock);
        ex.ring_head = (head + n) % SYNC_PIPELINE;
        ex.ring_count -= n;
        pthread_cond_broadcast(&ex.sync_freed);
        pthread_mutex_unlock(&ex.sync_lock);
    }
    return NULL;
}

void executor_read_fence(void)
{
    uint64_t seen = atomic_load(&ex.committed_seq);
    if (atomic_load(&ex.durable_seq) >= seen) {
        return;
    }
    pthread_mutex_lock(&ex.sync_lock);
    while (atomic_load(&ex.durable_seq) < seen) {
        pthread_cond_wait(&ex.synced, &ex.sync_lock);
    }
    pthread_mutex_unlock(&ex.sync_lock);
}

bool executor_all_durable(void)
{
    return atomic_load(&ex.durable_seq) >= atomic_load(&ex.committed_seq);
}

bool executor_fence_async(struct fence_wait *w, void (*done)(void *arg), void *arg)
{
    uint64_t seen = atomic_load(&ex.committed_seq);
    if (atomic_load(&ex.durable_seq) >= seen) {
        return false;
    }
    *w = (struct fence_wait){.seq = seen, .done = done, .arg = arg};
    pthread_mutex_lock(&ex.sync_lock);
    bool durable = atomic_load(&ex.durable_seq) >= seen; /* a sync may have ended meanwhile */
    if (!durable) {
        w->next = ex.fence_waits;
        ex.fence_waits = w;
    }
    pthread_mutex_unlock(&ex.sync_lock);
    if (durable) {
        done(arg);
    }
    return true;
}

void executor_hold_syncs(bool hold)
{
    pthread_mutex_lock(&ex.sync_lock);
    ex.syncs_held = hold;
    pthread_cond_signal(&ex.sync_wake);
    pthread_mutex_unlock(&ex.sync_lock);
}

/* Moves this thread (Linux gives each thread its own nice value) WRITER_NICE_AHEAD levels ahead
 * of the process (docs/design.md, "The write path"); says so once where it may not. */
static void writer_priority_raise(void)
{
    id_t self = (id_t)gettid();
    errno = 0;
    int current = getpriority(PRIO_PROCESS, self);
    if (errno != 0) {
        return;
    }
    int want = current - WRITER_NICE_AHEAD < -20 ? -20 : current - WRITER_NICE_AHEAD;
    int rc = setpriority(PRIO_PROCESS, self, want);
    if (rc != 0 || want == current) {
        const char *reason = rc != 0 ? strerror(errno) : "the process runs at the highest priority";
        char wanted[16];
        snprintf(wanted, sizeof wanted, "%d", want);
        log_write(LOG_INFO, "writer_priority_unchanged", "nice_wanted", wanted, "reason", reason,
                  "hint", "allow it with CAP_SYS_NICE or systemd's LimitNICE=", NULL);
    }
}

static void *writer_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "kameng-writer"); /* for top -H and profilers */
    if (ex.writer_ahead) {
        writer_priority_raise();
    }
    on_writer = true;
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

int executor_start(const char *db_path, bool writer_ahead)
{
    km_assert(!ex.started);
    int rc = db_open(db_path, true, &ex.db);
    /* On PostgreSQL a commit is durable when it returns and the server checkpoints by itself;
     * order views are not kept (read_cache.h), since other servers write too. */
    bool sqlite = !db_is_postgres(db_path);
    if (sqlite) {
        rc = rc != 0 ? rc : store_watch_orders(ex.db, order_touched, order_status_changed, NULL);
        rc = rc != 0 ? rc : db_defer_sync(ex.db);
        rc = rc != 0 ? rc : checkpointer_start(db_path);
    }
    if (rc != 0) {
        db_close(ex.db);
        ex.db = NULL;
        return rc;
    }
    ex.stopping = false;
    ex.writer_done = false;
    ex.writer_ahead = writer_ahead;
    wal_plan_init(&ex.wal);
    atomic_store(&ex.committed_seq, 0);
    atomic_store(&ex.durable_seq, 0);
    if (pthread_create(&ex.syncer, NULL, syncer_main, NULL) != 0) {
        checkpointer_stop();
        db_close(ex.db);
        ex.db = NULL;
        return -KM_EINTERNAL;
    }
    if (pthread_create(&ex.thread, NULL, writer_main, NULL) != 0) {
        pthread_mutex_lock(&ex.sync_lock);
        ex.writer_done = true;
        pthread_cond_signal(&ex.sync_wake);
        pthread_mutex_unlock(&ex.sync_lock);
        pthread_join(ex.syncer, NULL);
        checkpointer_stop();
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
    executor_hold_syncs(false); /* a writer waiting for a free slot needs the syncer to go on */
    pthread_join(ex.thread, NULL);
    pthread_mutex_lock(&ex.sync_lock);
    ex.writer_done = true; /* the syncer acknowledges what is left, then stops */
    pthread_cond_signal(&ex.sync_wake);
    pthread_mutex_unlock(&ex.sync_lock);
    pthread_join(ex.syncer, NULL);
    checkpointer_stop();
    db_close(ex.db);
    ex.db = NULL;
    ex.started = false;
    order_ids_free(&ex.touched);
    order_ids_free(&ex.status_changed);
    free(ex.logs.lines);
    ex.logs = (struct held_logs){0};
    for (int k = 0; k < SYNC_PIPELINE; k++) {
        free(ex.ring[k].logs.lines); /* each was written and emptied by the syncer */
        ex.ring[k].logs = (struct held_logs){0};
    }
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
