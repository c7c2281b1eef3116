/* When the writer nudges the background checkpointer and restarts the WAL: the thresholds of
 * src/core/limits.h, walked through as frame counts, without writing a WAL that large. */
#include <criterion/criterion.h>

#include "core/limits.h"
#include "service/wal_plan.h"

static struct wal_plan plan;
static bool over;

static enum wal_step after(int64_t frames, int64_t copied)
{
    return wal_plan_next(&plan, frames, copied, &over);
}

static void fresh(void)
{
    wal_plan_init(&plan);
}

TestSuite(wal_plan, .init = fresh);

Test(wal_plan, the_checkpointer_is_nudged_from_its_threshold_every_so_many_frames)
{
    cr_assert_eq(after(0, 0), WAL_NOTHING);
    cr_assert_eq(after(WAL_CHECKPOINT_FRAMES - 1, 0), WAL_NOTHING);
    cr_assert_eq(after(WAL_CHECKPOINT_FRAMES + 10, 0), WAL_NUDGE);
    cr_assert_eq(after(WAL_CHECKPOINT_FRAMES + WAL_NUDGE_FRAMES, 0), WAL_NOTHING, "not yet");
    cr_assert_eq(after(WAL_CHECKPOINT_FRAMES + 10 + WAL_NUDGE_FRAMES, 0), WAL_NUDGE);
    cr_assert(!over);
}

Test(wal_plan, past_the_restart_threshold_it_nudges_until_the_checkpointer_is_close_behind)
{
    int64_t f = WAL_RESTART_FRAMES;
    cr_assert_eq(after(f, f - WAL_RESTART_BEHIND_FRAMES - 1), WAL_NUDGE, "too far behind");
    cr_assert_eq(after(f + 100, f - 2000), WAL_NUDGE, "on every batch, not every so many frames");
    cr_assert_eq(after(f + 200, f + 200 - WAL_RESTART_BEHIND_FRAMES), WAL_RESTART);
    cr_assert_eq(after(f + 300, f + 300), WAL_RESTART, "until it has restarted");
}

Test(wal_plan, however_far_behind_it_restarts_once_the_patience_is_spent)
{
    int64_t first = WAL_RESTART_FRAMES + 500; /* where the WAL first crossed the threshold */
    cr_assert_eq(after(first, 0), WAL_NUDGE);
    cr_assert_eq(after(first + WAL_RESTART_PATIENCE_FRAMES - 1, 0), WAL_NUDGE);
    cr_assert_eq(after(first + WAL_RESTART_PATIENCE_FRAMES, 0), WAL_RESTART);
}

Test(wal_plan, a_restart_a_reader_held_up_is_tried_again_a_little_later_within_the_same_patience)
{
    int64_t f = WAL_RESTART_FRAMES;
    cr_assert_eq(after(f, f), WAL_RESTART);
    wal_plan_restart_failed(&plan, f);
    cr_assert_neq(after(f + 100, f + 100), WAL_RESTART, "not on the next batch");
    cr_assert_eq(after(f + WAL_NUDGE_FRAMES, f + WAL_NUDGE_FRAMES), WAL_RESTART);
    wal_plan_restart_failed(&plan, f + WAL_NUDGE_FRAMES);
    /* Far behind now (the reader held the checkpointer back too): the deadline is the first. */
    int64_t by = f + WAL_RESTART_PATIENCE_FRAMES;
    cr_assert_eq(after(by - 1, 0), WAL_NUDGE);
    cr_assert_eq(after(by, 0), WAL_RESTART, "the deadline did not move with the failure");
}

Test(wal_plan, a_wal_that_started_over_starts_the_plan_over_and_drops_the_old_count)
{
    int64_t f = WAL_RESTART_FRAMES;
    cr_assert_eq(after(f, 0), WAL_NUDGE);
    cr_assert_eq(after(0, f), WAL_NOTHING, "restarted, nothing written yet");
    cr_assert(!over);
    /* The first batch into the new WAL; the checkpointer still reports the old file's count,
     * which would otherwise say it is ahead. */
    cr_assert_eq(after(120, f), WAL_NOTHING);
    cr_assert(over, "the WAL started over");
    cr_assert_eq(after(WAL_CHECKPOINT_FRAMES, 0), WAL_NUDGE, "thresholds from the start again");
    cr_assert(!over);
    cr_assert_eq(after(WAL_RESTART_FRAMES, 0), WAL_NUDGE, "and a fresh patience");
}

Test(wal_plan, the_old_files_count_does_not_pass_for_the_new_ones_after_a_large_first_batch)
{
    int64_t old = WAL_RESTART_FRAMES + WAL_RESTART_PATIENCE_FRAMES / 2;
    cr_assert_eq(after(old, old - 5000), WAL_NUDGE);
    /* Started over, and one batch wrote past the threshold again (large evidence files can);
     * the checkpointer still reports the old file's count, far ahead of this one. */
    cr_assert_eq(after(WAL_RESTART_FRAMES + 10, old), WAL_NUDGE, "not taken as copied");
    cr_assert(over);
}
