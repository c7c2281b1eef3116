/* The page-cache wrapper skips truncates that cannot find a page. With it in place, a database
 * that splits pages all the time (random keys: the page-number swaps the wrapper parks) and has
 * growth rolled back by savepoints and whole transactions must keep exactly the committed rows
 * and pass SQLite's own integrity check, read back by a fresh connection too. The wrapper must
 * both skip (the commits after splits: what it is for) and pass truncates on (after rolled-back
 * growth, a page left past the end could be found again by a later read). */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/sqlite_pcache.h"

#include "raw_sqlite.h"
#include "temp_dir.h"

static void insert_random(sqlite3 *db, sqlite3_stmt *ins, int n, unsigned *seed)
{
    (void)db;
    char key[48];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%08x-%08x-%08x", (unsigned)rand_r(seed), (unsigned)rand_r(seed),
                 (unsigned)rand_r(seed));
        sqlite3_bind_text(ins, 1, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_zeroblob(ins, 2, 200 + (int)(rand_r(seed) % 600));
        cr_assert_eq(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
}

static void grow_and_roll_back(const char *journal_mode)
{
    /* SQLite is not initialised yet in this test's process, so the wrapper goes in. */
    cr_assert_eq(sqlite_pcache_install(), 0);
    char dir[64];
    temp_dir_make("pcache", dir, sizeof dir);
    char path[96];
    snprintf(path, sizeof path, "%s/t.db", dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    char pragmas[128];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=%s; PRAGMA cache_size=-8192; PRAGMA temp_store=MEMORY",
             journal_mode);
    raw_exec(db, pragmas);
    raw_exec(db, "CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID");
    raw_exec(db, "CREATE TABLE u(id INTEGER PRIMARY KEY, k TEXT, v BLOB)");
    raw_exec(db, "CREATE INDEX u_k ON u(k)");
    sqlite3_stmt *ins_t = NULL, *ins_u = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO t(k, v) VALUES (?1, ?2)", -1, &ins_t, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO u(k, v) VALUES (?1, ?2)", -1, &ins_u, NULL),
                 SQLITE_OK);
    unsigned seed = 20261126;
    long long kept_t = 0, kept_u = 0;
    for (int round = 0; round < 60; round++) {
        raw_exec(db, "BEGIN IMMEDIATE");
        insert_random(db, ins_t, 150, &seed);
        insert_random(db, ins_u, 100, &seed);
        /* A savepoint that grows the file a lot and is rolled back, as a failing command's. */
        raw_exec(db, "SAVEPOINT cmd");
        insert_random(db, ins_t, 400, &seed);
        insert_random(db, ins_u, 300, &seed);
        raw_exec(db, "ROLLBACK TO cmd; RELEASE cmd");
        raw_exec(db, "SAVEPOINT cmd");
        insert_random(db, ins_u, 50, &seed);
        raw_exec(db, "RELEASE cmd");
        if (round % 3 == 2) {
            raw_exec(db, "ROLLBACK"); /* the whole batch's commit failed */
        } else {
            raw_exec(db, "COMMIT");
            kept_t += 150;
            kept_u += 150;
        }
        if (round % 10 == 9) {
            raw_exec(db, "DELETE FROM u WHERE id % 3 = 0"); /* free pages, reused out of order */
            kept_u = raw_scalar(db, "SELECT count(*) FROM u");
        }
    }
    cr_assert_eq(raw_scalar(db, "SELECT count(*) FROM t"), kept_t);
    cr_assert_eq(raw_scalar(db, "SELECT count(*) FROM u"), kept_u);
    cr_assert_eq(raw_scalar(db, "SELECT count(*) FROM u INDEXED BY u_k WHERE k > ''"), kept_u);
    sqlite3_stmt *check = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &check, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(check), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(check, 0), "ok");
    sqlite3_finalize(check);
    sqlite3_finalize(ins_t);
    sqlite3_finalize(ins_u);
    sqlite3_close(db);

    /* A fresh connection reads the same from the file. */
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(raw_scalar(db, "SELECT count(*) FROM t"), kept_t);
    cr_assert_eq(raw_scalar(db, "SELECT count(*) FROM u"), kept_u);
    sqlite3_close(db);
    long long passed = 0, skipped = 0;
    sqlite_pcache_stats(&passed, &skipped);
    cr_assert_gt(skipped, 0, "commits after page splits skip the scan");
    cr_assert_gt(passed, 0, "truncates that may find a page still happen");
    temp_dir_remove(dir);
}

Test(sqlite_pcache, wal_rollbacks_of_a_growing_database_leave_no_page_behind)
{
    grow_and_roll_back("WAL");
}

/* With a rollback journal, the truncate after a rollback is what drops the pages past the end
 * (WAL mode undoes them itself). */
Test(sqlite_pcache, journal_rollbacks_of_a_growing_database_leave_no_page_behind)
{
    grow_and_roll_back("DELETE");
}
