/* The one writer. Every command that changes the database is queued here; a single thread takes
 * a batch, runs each command in its own SAVEPOINT inside one transaction and commits once (group
 * commit). A second thread then syncs the WAL, once for every batch committed meanwhile, and
 * only after that tells each command how it ended: an acknowledged write is durable, and one
 * failing command never sinks the others. The writer runs the next batch while the disk syncs.
 *
 * A committed batch is visible to readers before its sync ends. So whatever is read is made
 * durable before it is acted on: the timers' reads end with executor_read_fence (see
 * db_set_read_fence) before they call out, and the HTTP shell fences each answer it did not get
 * from the writer. An answer from the writer needs none: its own sync covers every earlier batch. */
#ifndef KM_EXECUTOR_H
#define KM_EXECUTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"
#include "core/log.h"
#include "store/db.h"

struct write_cmd {
    /* Runs on the writer thread inside a savepoint. A negative return rolls back what it wrote. */
    int (*run)(struct db *db, void *arg);
    /* run() may be run again after everything it wrote was rolled back, and then does the same
     * again: it changes nothing but the database (executor_log lines and the read cache's drops
     * are the executor's to undo) and takes nothing from arg that a second run would miss. A
     * batch of such commands runs without a savepoint for each (SQLite copies every page a
     * command changes into the savepoint's journal, a tenth of the writer's time); should one
     * fail after writing, the whole batch is rolled back and run again with savepoints. */
    bool rerunnable;
    /* Runs on the sync thread once the commit is durable: rc is run's result, or -KM_EINTERNAL
     * if the commit failed (then nothing of the batch was kept). Must not block. */
    void (*done)(void *arg, int rc);
    void *arg;
    struct write_cmd *next; /* queue link, owned by the executor */
};

/* Starts the writer and the syncer. With writer_ahead (a serving shop), the writer runs
 * WRITER_NICE_AHEAD nice levels ahead of the process where the system allows it. */
KM_MUST_USE int executor_start(const char *db_path, bool writer_ahead);
/* Finish the queued commands, commit, and stop the writer thread. */
void executor_stop(void);

/* Queue a command; -KM_EBUSY when the queue is full, -KM_ESTATE when stopping. */
KM_MUST_USE int executor_submit(struct write_cmd *cmd);

/* Queue and wait: for the CLI, the timers and tests. Returns run's result (or the commit's). */
KM_MUST_USE int executor_run(int (*run)(struct db *db, void *arg), void *arg);

/* For a command's run(): a log line written once its batch is durable, and never if the command
 * or the commit is rolled back, so the log tells only of what the database holds. Written at once
 * off the writer thread (a command run directly, as tests do). */
void executor_log(enum log_level level, const char *event, ...) __attribute__((sentinel));

/* Wait until every batch committed so far is durable: a reader calls it before acting on (or
 * answering with) what it read. Returns at once when nothing is waiting for a sync. */
void executor_read_fence(void);

/* Whether every batch committed so far is durable (no read needs to wait). */
bool executor_all_durable(void);

/* The same without blocking a thread, for the HTTP shell: returns false when nothing waits for
 * a sync. Otherwise it returns true and calls done(arg) on the sync thread once every batch
 * committed before the call is durable (possibly before this returns). w must live until then. */
struct fence_wait {
    uint64_t seq;
    void (*done)(void *arg);
    void *arg;
    struct fence_wait *next;
};
bool executor_fence_async(struct fence_wait *w, void (*done)(void *arg), void *arg);

/* For tests: while held, no WAL sync starts, so no write is acknowledged and fences wait. */
void executor_hold_syncs(bool hold);

/* Counters for /metrics. */
struct executor_stats {
    long long batches;
    long long commands;
    long long commit_failures;
    long long queue_depth;
    long long batch_size_max;
    long long commit_us_total;
    long long syncs;
    long long sync_us_total;
    long long wal_restarts;      /* the writer copied the WAL into the database and restarted it */
    long long wal_restarts_busy; /* ... or found a reader of an older snapshot and let it be */
    long long wal_restart_us_total;
    long long reruns; /* batches rolled back after a command failed unguarded, run again */
};
void executor_stats_get(struct executor_stats *out);

#endif
