/* A thread that copies the WAL into the database while the writer goes on appending to it, so
 * that the writer's own restart of the WAL (executor.c) finds little left to copy. */
#ifndef KM_CHECKPOINTER_H
#define KM_CHECKPOINTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"

KM_MUST_USE int checkpointer_start(const char *db_path);
/* Ask for a checkpoint soon; never blocks. */
void checkpointer_nudge(void);
/* WAL frames the checkpointer has seen in the database since checkpointer_wal_started_over. Only
 * the writer's choice of when to restart the WAL reads it: a wrong figure changes when the
 * restart comes and how much it copies, never what the database holds. */
int64_t checkpointer_copied(void);
/* For the writer's restart of the WAL: if no checkpoint is running, none starts until
 * checkpointer_release, and it returns true; otherwise false, and nothing is held (a restart
 * now would find the WAL busy). */
bool checkpointer_hold(void);
void checkpointer_release(void);
/* The WAL has started over and the writer has written into the new one: the frames counted so
 * far, and any count a running checkpoint brings back, are the old file's. (Right after a
 * restart, until the next write, a checkpoint still sees the old file's frames.) */
void checkpointer_wal_started_over(void);
void checkpointer_stop(void);

/* Counters for /metrics. */
struct checkpointer_stats {
    long long runs;
    long long us_total;
};
void checkpointer_stats_get(struct checkpointer_stats *out);

#endif
