/* The one writer. Every command that changes the database is queued here; a single thread takes
 * a batch, runs each command in its own SAVEPOINT inside one transaction, commits once (one fsync
 * for the batch: group commit), then tells each command how it ended. An acknowledged write is
 * therefore durable, and one failing command never sinks the others. */
#ifndef KM_EXECUTOR_H
#define KM_EXECUTOR_H

#include <stdbool.h>

#include "core/check.h"
#include "store/db.h"

struct write_cmd {
    /* Runs on the writer thread inside a savepoint. A negative return rolls the savepoint back. */
    int (*run)(struct db *db, void *arg);
    /* Runs on the writer thread after the commit: rc is run's result, or -KM_EINTERNAL if the
     * commit failed (then nothing of the batch was kept). Must not block. */
    void (*done)(void *arg, int rc);
    void *arg;
    struct write_cmd *next; /* queue link, owned by the executor */
};

KM_MUST_USE int executor_start(const char *db_path);
/* Finish the queued commands, commit, and stop the writer thread. */
void executor_stop(void);

/* Queue a command; -KM_EBUSY when the queue is full, -KM_ESTATE when stopping. */
KM_MUST_USE int executor_submit(struct write_cmd *cmd);

/* Queue and wait: for the CLI, the timers and tests. Returns run's result (or the commit's). */
KM_MUST_USE int executor_run(int (*run)(struct db *db, void *arg), void *arg);

/* Counters for /metrics. */
struct executor_stats {
    long long batches;
    long long commands;
    long long commit_failures;
    long long queue_depth;
    long long batch_size_max;
    long long commit_us_total;
};
void executor_stats_get(struct executor_stats *out);

#endif
