/* db_watch_rows tells which rows a connection changes, by one column's text before and after each
 * change: the read cache drops the views of the orders it names. A change it missed would leave a
 * stale view served; one told too often only costs a rebuild. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "loose_store.h"
#include "store/db.h"

static char dir[64];
static struct db *db;
static char told[64][40];
static int told_count;
static char status_told[16][40];
static int status_count;

static void changed(void *ctx, const char *text)
{
    cr_assert_eq(ctx, &told_count);
    cr_assert_lt(told_count, 64);
    snprintf(told[told_count++], sizeof told[0], "%s", text);
}

static void status_changed(void *ctx, const char *text)
{
    (void)ctx;
    cr_assert_lt(status_count, 16);
    snprintf(status_told[status_count++], sizeof status_told[0], "%s", text);
}

static void start(void)
{
    db = loose_store_open("watch", dir, sizeof dir);
    char err[256];
    cr_assert_eq(db_exec_script(db,
                                "CREATE TABLE o(id TEXT PRIMARY KEY, status TEXT, note TEXT);"
                                "CREATE TABLE k(id TEXT PRIMARY KEY, owner TEXT);"
                                "CREATE TABLE other(owner TEXT);"
                                "CREATE TABLE once(owner TEXT, sent INTEGER);",
                                err, sizeof err),
                 0, "%s", err);
    static const struct db_watch tables[] = {
        {"o", "id", "status", false}, {"k", "owner", NULL, false}, {"once", "owner", NULL, true}};
    cr_assert_eq(db_watch_rows(db, tables, 3, changed, status_changed, &told_count), 0);
    told_count = 0;
    status_count = 0;
}

static void finish(void)
{
    loose_store_close(db, dir);
}

static void run(const char *sql)
{
    char err[256];
    cr_assert_eq(db_exec_script(db, sql, err, sizeof err), 0, "%s: %s", sql, err);
}

static void expect_told(const char *const *want, int n)
{
    cr_assert_eq(told_count, n, "told %d texts, not %d", told_count, n);
    for (int i = 0; i < n; i++) {
        cr_expect_str_eq(told[i], want[i]);
    }
}

TestSuite(db_watch, .init = start, .fini = finish);

Test(db_watch, inserts_updates_and_deletes_name_their_row)
{
    run("INSERT INTO o VALUES ('ord_1', 'pending', NULL)");
    run("UPDATE o SET note = 'x' WHERE id = 'ord_1'");
    run("DELETE FROM o WHERE id = 'ord_1'");
    const char *want[] = {"ord_1", "ord_1", "ord_1"};
    expect_told(want, 3);
    cr_assert_eq(status_count, 0, "no status changed");
}

Test(db_watch, a_row_moved_to_another_owner_names_both_and_nulls_are_not_told)
{
    run("INSERT INTO k VALUES ('ck_1', NULL)"); /* unsold: belongs to no order */
    run("UPDATE k SET owner = 'ord_a' WHERE id = 'ck_1'");
    run("UPDATE k SET owner = 'ord_b' WHERE id = 'ck_1'");
    run("UPDATE k SET owner = NULL WHERE id = 'ck_1'");
    const char *want[] = {"ord_a", "ord_a", "ord_b", "ord_b"};
    expect_told(want, 4);
}

Test(db_watch, a_status_change_is_told_and_a_same_status_write_is_not)
{
    run("INSERT INTO o VALUES ('ord_1', NULL, NULL)");
    run("UPDATE o SET status = 'paid' WHERE id = 'ord_1'"); /* NULL to a value: a change */
    run("UPDATE o SET status = 'paid', note = 'n' WHERE id = 'ord_1'");
    run("UPDATE o SET status = 'delivered' WHERE id = 'ord_1'");
    cr_assert_eq(status_count, 2);
    cr_expect_str_eq(status_told[0], "ord_1");
    cr_expect_str_eq(status_told[1], "ord_1");
    cr_assert_eq(told_count, 4, "every write of the row is told");
}

Test(db_watch, other_tables_and_the_temp_database_are_not_told)
{
    run("INSERT INTO other VALUES ('ord_x')");
    run("CREATE TEMP TABLE o(id TEXT, status TEXT, note TEXT)");
    run("INSERT INTO temp.o VALUES ('ord_t', 'paid', NULL)");
    cr_assert_eq(told_count, 0);
}

Test(db_watch, a_table_written_once_tells_its_inserts_only)
{
    run("INSERT INTO once VALUES ('ord_1', 0)");
    run("UPDATE once SET sent = 1"); /* a webhook's delivery state, say */
    const char *want[] = {"ord_1"};
    expect_told(want, 1);
}

Test(db_watch, changes_rolled_back_are_told_too)
{
    cr_assert_eq(db_begin_write(db), 0);
    cr_assert_eq(db_savepoint(db), 0);
    run("INSERT INTO o VALUES ('ord_gone', 'pending', NULL)");
    db_savepoint_rollback(db);
    db_rollback(db);
    const char *want[] = {"ord_gone"};
    expect_told(want, 1);
}

Test(db_watch, a_missing_column_is_refused)
{
    static const struct db_watch bad[] = {{"o", "order_id", NULL, false}};
    cr_assert_neq(db_watch_rows(db, bad, 1, changed, status_changed, &told_count), 0);
    static const struct db_watch no_table[] = {{"nope", "id", NULL, false}};
    cr_assert_neq(db_watch_rows(db, no_table, 1, changed, status_changed, &told_count), 0);
    run("INSERT INTO o VALUES ('ord_1', 'pending', NULL)");
    cr_assert_eq(told_count, 0, "a refused watch leaves none");
}
