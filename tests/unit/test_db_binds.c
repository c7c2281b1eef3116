/* db_query binds $1..$N by the positions SQLite gave them at prepare, and clears the bindings only
 * when the call leaves a parameter of the SQL unset: a value from an earlier run of the same
 * statement must never stay bound. */
#include <criterion/criterion.h>

#include "loose_store.h"
#include "store/db.h"

static char dir[64];
static struct db *db;

static void start(void)
{
    db = loose_store_open("binds", dir, sizeof dir);
    char err[256];
    cr_assert_eq(db_exec_script(db, "CREATE TABLE b(x TEXT, y TEXT)", err, sizeof err), 0, "%s",
                 err);
}

static void finish(void)
{
    loose_store_close(db, dir);
}

TestSuite(db_binds, .init = start, .fini = finish);

/* One statement text for every run, as the cache keys statements by it. */
static const char *const insert_sql = "INSERT INTO b(y, x) VALUES ($2, $1)";

static void expect_row(const char *x, const char *y)
{
    struct db_stmt *st =
        db_query(db, "SELECT count(*) FROM b WHERE x IS $1 AND y IS $2", "ss", x, y);
    cr_assert_eq(db_step(st), DB_ROW);
    cr_expect_eq(db_int(st, 0), 1, "one row (%s, %s)", x ? x : "NULL", y ? y : "NULL");
    db_done(st);
}

Test(db_binds, parameters_go_where_the_sql_names_them_whatever_their_order)
{
    cr_assert_eq(db_run(db_query(db, insert_sql, "ss", "first", "second")), 0);
    expect_row("first", "second");
}

Test(db_binds, a_parameter_the_call_leaves_out_is_null_not_the_last_value)
{
    cr_assert_eq(db_run(db_query(db, insert_sql, "ss", "a", "b")), 0);
    cr_assert_eq(db_run(db_query(db, insert_sql, "s", "c")), 0); /* $2 not given */
    expect_row("a", "b");
    expect_row("c", NULL);
}

Test(db_binds, a_null_given_replaces_the_last_value)
{
    cr_assert_eq(db_run(db_query(db, insert_sql, "ss", "a", "b")), 0);
    cr_assert_eq(db_run(db_query(db, insert_sql, "sn", "d")), 0);
    expect_row("d", NULL);
}
