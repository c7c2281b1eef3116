/* The WAL's upkeep end to end, at the shop's own thresholds: under steady writes through the
 * executor, with the background checkpointer running as in a serving shop, the writer restarts
 * the WAL once it is past WAL_RESTART_FRAMES, so the file stops growing, and every acknowledged
 * write is in the database afterwards. Some 300 MiB go through the WAL; the database itself
 * stays at about 1 MiB (the same rows are written over and over). */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/limits.h"
#include "service/executor.h"
#include "store/db.h"
#include "store/store.h"
#include "temp_dir.h"

#define ROWS 256          /* of ~3,000 bytes: a page each */
#define ROWS_PER_CMD 8    /* so a command dirties about 8 pages */
#define CMDS_PER_ROUND 64 /* submitted together, then all awaited */
#define FRAME_BYTES (4096 + 24)

static char dir[64];
static char path[96];
static char wal[128];

static int setup_run(struct db *db, void *arg)
{
    (void)arg;
    int rc = db_run(db_query(db,
                             "CREATE TABLE pages (id INTEGER PRIMARY KEY, n INTEGER NOT NULL,"
                             " v BLOB NOT NULL)",
                             ""));
    for (int i = 0; rc == 0 && i < ROWS; i++) {
        static const char zero[3000];
        rc = db_run(db_query(db, "INSERT INTO pages (id, n, v) VALUES ($1, 0, $2)", "ib",
                             (int64_t)i, zero, sizeof zero));
    }
    return rc;
}

struct overwrite {
    struct write_cmd cmd;
    int first_row;
    unsigned char fill;
    atomic_int rc;
    atomic_bool done;
};

/* Writes ROWS_PER_CMD rows over with new bytes and counts the write in each. */
static int overwrite_run(struct db *db, void *arg)
{
    struct overwrite *o = arg;
    char v[3000];
    memset(v, o->fill, sizeof v);
    int rc = 0;
    for (int i = 0; rc == 0 && i < ROWS_PER_CMD; i++) {
        rc = db_run(db_query(db, "UPDATE pages SET n = n + 1, v = $1 WHERE id = $2", "bi", v,
                             sizeof v, (int64_t)((o->first_row + i) % ROWS)));
    }
    return rc;
}

static void overwrite_done(void *arg, int rc)
{
    struct overwrite *o = arg;
    atomic_store(&o->rc, rc);
    atomic_store(&o->done, true);
}

static long long wal_bytes(void)
{
    struct stat st;
    return stat(wal, &st) == 0 ? (long long)st.st_size : 0;
}

static void round_of_writes(struct overwrite *cmds, int round)
{
    for (int i = 0; i < CMDS_PER_ROUND; i++) {
        struct overwrite *o = &cmds[i];
        memset(o, 0, sizeof *o);
        o->first_row = (round * CMDS_PER_ROUND + i) * ROWS_PER_CMD;
        o->fill = (unsigned char)(round + i);
        o->cmd = (struct write_cmd){
            .run = overwrite_run, .rerunnable = true, .done = overwrite_done, .arg = o};
        cr_assert_eq(executor_submit(&o->cmd), 0);
    }
    for (int i = 0; i < CMDS_PER_ROUND; i++) {
        for (int spin = 0; !atomic_load(&cmds[i].done); spin++) {
            cr_assert_lt(spin, 30000, "a write was not acknowledged within 30 s");
            nanosleep(&(struct timespec){0, 1000000L}, NULL);
        }
        cr_assert_eq(atomic_load(&cmds[i].rc), 0);
    }
}

static void make_dir(void)
{
    temp_dir_make("executor-wal", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/shop.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", path);
}

/* Runs after a failed assertion too: a WAL past its bound is hundreds of MiB to leave behind. */
static void remove_dir(void)
{
    temp_dir_remove(dir);
}

Test(executor_wal, the_writer_restarts_the_wal_under_steady_writes_and_keeps_every_write,
     .init = make_dir, .fini = remove_dir)
{
    struct db *db = NULL;
    cr_assert_eq(db_open(path, true, &db), 0);
    int applied = 0;
    cr_assert_eq(store_migrate(db, &applied), 0);
    db_close(db);
    cr_assert_eq(executor_start(path, false), 0);
    cr_assert_eq(executor_run(setup_run, NULL), 0);

    /* A restart comes once the checkpointer is close behind, and at the latest
     * WAL_RESTART_PATIENCE_FRAMES past the threshold; a batch may add what it wrote meanwhile. */
    long long bound =
        (long long)(WAL_RESTART_FRAMES + WAL_RESTART_PATIENCE_FRAMES + 4096) * FRAME_BYTES;
    /* Until the writer has restarted the WAL twice, so that the file is seen being written over
     * from its start, not only once truncated; or until it is past the bound. A round dirties
     * every row's page at least once, so twice the rounds that fill the WAL to its threshold
     * twice over are plenty; should the WAL start over by itself between rounds (everything
     * copied while the writer waited), the cap ends the loop and the test says so. */
    static struct overwrite cmds[CMDS_PER_ROUND];
    struct executor_stats s = {0};
    long long largest = 0;
    int round = 0;
    const int rounds_max = 4 * (WAL_RESTART_FRAMES + WAL_RESTART_PATIENCE_FRAMES) / ROWS;
    for (; s.wal_restarts < 2 && largest <= bound && round < rounds_max; round++) {
        round_of_writes(cmds, round);
        long long now = wal_bytes();
        largest = now > largest ? now : largest;
        executor_stats_get(&s);
    }
    cr_assert_leq(largest, bound, "the WAL grew to %lld bytes with %lld restarts (bound %lld)",
                  largest, s.wal_restarts, bound);
    cr_assert_geq(s.wal_restarts, 2,
                  "%d rounds and the writer restarted the WAL %lld times (largest %lld bytes): "
                  "it started over by itself, and this test no longer drives the restart",
                  round, s.wal_restarts, largest);
    cr_assert_gt(largest, (long long)WAL_RESTART_FRAMES * FRAME_BYTES / 2,
                 "the WAL was restarted long before its threshold (%lld bytes)", largest);
    executor_stop();

    /* Every acknowledged write is in the database: each row was written over as many times as the
     * commands that covered it, and the file is whole. */
    cr_assert_eq(db_open(path, false, &db), 0);
    cr_assert_eq(db_begin_read(db), 0);
    struct db_stmt *st = db_query(db, "SELECT sum(n), min(n), max(n) FROM pages", "");
    cr_assert_eq(db_step(st), DB_ROW);
    int64_t writes = (int64_t)round * CMDS_PER_ROUND * ROWS_PER_CMD;
    cr_assert_eq(db_int(st, 0), writes);
    cr_assert_eq(db_int(st, 1), writes / ROWS, "the writes went round all the rows evenly");
    cr_assert_eq(db_int(st, 2), writes / ROWS);
    db_done(st);
    st = db_query(db, "PRAGMA integrity_check", "");
    cr_assert_eq(db_step(st), DB_ROW);
    cr_assert_str_eq(db_text(st, 0), "ok");
    db_done(st);
    db_rollback(db);
    db_close(db);
}
