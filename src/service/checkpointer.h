/* A thread that copies the WAL into the database while the writer goes on appending to it, so
 * that the writer's own restart of the WAL (executor.c) finds little left to copy. */
#ifndef KM_CHECKPOINTER_H
#define KM_CHECKPOINTER_H

#include "core/check.h"

KM_MUST_USE int checkpointer_start(const char *db_path);
/* Ask for a checkpoint soon; never blocks. */
void checkpointer_nudge(void);
void checkpointer_stop(void);

/* Counters for /metrics. */
struct checkpointer_stats {
    long long runs;
    long long us_total;
};
void checkpointer_stats_get(struct checkpointer_stats *out);

#endif
