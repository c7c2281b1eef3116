/* The background checkpointer tells the writer how much of the WAL is in the database, so that the
 * writer restarts the WAL when little is left to copy; a hold keeps it from starting a checkpoint
 * that would make the restart find the WAL busy, whoever nudges meanwhile. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <time.h>

#include "service/checkpointer.h"
#include "store/db.h"
#include "temp_dir.h"

static char dir[64];
static char path[96];
static struct db *w;

static void start(void)
{
    temp_dir_make("checkpointer", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/shop.db", dir);
    cr_assert_eq(db_open(path, true, &w), 0);
    char err[256];
    cr_assert_eq(db_exec_script(w, "CREATE TABLE t(x BLOB)", err, sizeof err), 0);
    cr_assert_eq(checkpointer_start(path), 0);
}

static void finish(void)
{
    checkpointer_stop();
    db_close(w);
    temp_dir_remove(dir);
}

/* Commits rows of 3,000 bytes, a WAL frame each, and returns the WAL's frames. */
static int64_t write_rows(int n)
{
    static const char blob[3000];
    cr_assert_eq(db_begin_write(w), 0);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(db_run(db_query(w, "INSERT INTO t(x) VALUES ($1)", "b", blob, sizeof blob)),
                     0);
    }
    cr_assert_eq(db_commit(w), 0);
    return db_wal_frames(w);
}

/* Waits up to 5 s for the checkpointer to report want frames copied. */
static int64_t copied_reaches(int64_t want)
{
    for (int i = 0; i < 500 && checkpointer_copied() < want; i++) {
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    }
    return checkpointer_copied();
}

Test(checkpointer, reports_the_frames_it_copied_and_forgets_them_when_the_wal_starts_over,
     .init = start, .fini = finish)
{
    cr_assert_eq(checkpointer_copied(), 0);
    int64_t frames = write_rows(300);
    cr_assert_gt(frames, 300);
    checkpointer_nudge();
    cr_assert_eq(copied_reaches(frames), frames, "copied %lld of %lld frames",
                 (long long)checkpointer_copied(), (long long)frames);

    /* Idle, so the writer may restart; the restart finds nothing left to copy. */
    cr_assert(checkpointer_hold());
    cr_assert_eq(db_checkpoint_restart(w, 5), 0);
    checkpointer_release();

    /* The new WAL's frames are counted from its start. */
    int64_t again = write_rows(50);
    cr_assert_lt(again, frames, "the WAL started over");
    checkpointer_wal_started_over();
    cr_assert_eq(checkpointer_copied(), 0, "the old WAL's frames count no more");
    checkpointer_nudge();
    cr_assert_eq(copied_reaches(again), again);
}

Test(checkpointer, a_held_checkpointer_starts_no_checkpoint_until_released, .init = start,
     .fini = finish)
{
    int64_t frames = write_rows(100);
    cr_assert(checkpointer_hold(), "nothing is running yet");
    checkpointer_nudge(); /* as the periodic nudge of a quiet shop may, meanwhile */
    nanosleep(&(struct timespec){0, 200 * 1000000L}, NULL);
    struct checkpointer_stats st;
    checkpointer_stats_get(&st);
    cr_assert_eq(st.runs, 0, "a checkpoint ran while held");
    cr_assert_eq(checkpointer_copied(), 0);
    checkpointer_release();
    cr_assert_eq(copied_reaches(frames), frames, "the nudge's checkpoint ran once released");
}
