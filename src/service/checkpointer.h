/* A thread that copies the WAL into the database while the writer goes on appending to it, so
 * that the writer's own restart of the WAL (executor.c) finds little left to copy. */
#ifndef KM_CHECKPOINTER_H
#define KM_CHECKPOINTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"

KM_MUST_USE int checkpointer_start(const char *db_path);
/* Ask for a checkpoint soon; never blocks. Ends a hold. */
void checkpointer_nudge(void);
/* WAL frames the checkpointer has seen in the database since the WAL last started over. Only the
 * writer's choice of when to restart the WAL reads it: a stale figure makes a restart copy more,
 * never less. */
int64_t checkpointer_copied(void);
/* Before the writer restarts the WAL: no checkpoint starts until checkpointer_release or a nudge.
 * Returns whether none is running now; if one is, the restart waits for a later batch, as a
 * restart would find the WAL busy. */
bool checkpointer_hold(void);
/* After the restart; wal_restarted says the WAL started over, so what was copied counts no more. */
void checkpointer_release(bool wal_restarted);
void checkpointer_stop(void);

/* Counters for /metrics. */
struct checkpointer_stats {
    long long runs;
    long long us_total;
};
void checkpointer_stats_get(struct checkpointer_stats *out);

#endif
