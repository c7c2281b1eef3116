/* When the writer nudges the background checkpointer and when it restarts the WAL: decided from
 * the WAL's frames after each batch and what the checkpointer reports it has copied, without
 * touching either, so that the thresholds can be tested without writing hundreds of MiB. */
#ifndef KM_WAL_PLAN_H
#define KM_WAL_PLAN_H

#include <stdbool.h>
#include <stdint.h>

enum wal_step {
    WAL_NOTHING,
    WAL_NUDGE,   /* ask the background checkpointer to copy */
    WAL_RESTART, /* restart the WAL now (if no checkpoint is running; else after the next batch) */
};

struct wal_plan {
    int64_t nudge_at;    /* frames at which to nudge the checkpointer next */
    int64_t restart_at;  /* ... at which to restart once the checkpointer is close behind */
    int64_t restart_by;  /* ... and however far behind it is (0: not yet past restart_at) */
    int64_t frames_seen; /* after the last batch, to see the WAL start over */
};

void wal_plan_init(struct wal_plan *p);
/* After a batch that left frames in the WAL, of which the checkpointer reports copied. Sets
 * *started_over when the WAL has started over since the last batch and this one wrote into the
 * new file: the checkpointer's count until then is the old file's, and is taken as 0. */
enum wal_step wal_plan_next(struct wal_plan *p, int64_t frames, int64_t copied, bool *started_over);
/* The restart gave up (a reader held an older snapshot): try again WAL_NUDGE_FRAMES later. */
void wal_plan_restart_failed(struct wal_plan *p, int64_t frames);

#endif
