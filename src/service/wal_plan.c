/* The WAL's upkeep, decided after each batch (docs/design.md, "The WAL does not grow without
 * end"). Past WAL_CHECKPOINT_FRAMES the background checkpointer copies the WAL every
 * WAL_NUDGE_FRAMES new frames; past WAL_RESTART_FRAMES the writer restarts it. The restart stops
 * every write while it copies what the checkpointer has not and syncs the database, so first the
 * checkpointer runs back to back until it is at most WAL_RESTART_BEHIND_FRAMES behind; from
 * WAL_RESTART_PATIENCE_FRAMES past the point where the WAL first crossed the threshold, the
 * restart copies whatever is left. */
#include "service/wal_plan.h"

#include "core/limits.h"

void wal_plan_init(struct wal_plan *p)
{
    *p = (struct wal_plan){.nudge_at = WAL_CHECKPOINT_FRAMES, .restart_at = WAL_RESTART_FRAMES};
}

enum wal_step wal_plan_next(struct wal_plan *p, int64_t frames, int64_t copied, bool *started_over)
{
    *started_over = false;
    if (frames == 0) {
        return WAL_NOTHING; /* nothing written since the WAL (re)started */
    }
    if (frames < p->frames_seen) {
        /* The restart, or SQLite's own after a quiet spell, when everything was copied. */
        wal_plan_init(p);
        *started_over = true;
        copied = 0;
    }
    p->frames_seen = frames;
    if (frames >= p->restart_at) {
        if (p->restart_by == 0) {
            p->restart_by = frames + WAL_RESTART_PATIENCE_FRAMES;
        }
        bool near = frames - copied <= WAL_RESTART_BEHIND_FRAMES;
        return near || frames >= p->restart_by ? WAL_RESTART : WAL_NUDGE;
    }
    if (frames >= p->nudge_at) {
        p->nudge_at = frames + WAL_NUDGE_FRAMES;
        return WAL_NUDGE;
    }
    return WAL_NOTHING;
}

void wal_plan_restart_failed(struct wal_plan *p, int64_t frames)
{
    p->restart_at = frames + WAL_NUDGE_FRAMES;
}
