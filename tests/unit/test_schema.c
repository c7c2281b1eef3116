/* The schema's CHECK constraints: a list of allowed values is compared in place, without the
 * temporary B-tree SQLite builds for `x IN (...)` of three or more values on every row written,
 * and the rewritten checks refuse exactly what the lists refused, on new and migrated databases. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/db.h"
#include "store/migrations.h"
#include "store/store.h"
#include "temp_dir.h"

static char dir[64];
static char path[96];

static void start(void)
{
    temp_dir_make("schema", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/shop.db", dir);
}

static void finish(void)
{
    temp_dir_remove(dir);
}

static void migrate_all(void)
{
    struct db *db = NULL;
    cr_assert_eq(db_open(path, true, &db), 0);
    int applied = 0;
    cr_assert_eq(store_migrate(db, &applied), 0);
    db_close(db);
}

static sqlite3 *open_raw(void)
{
    sqlite3 *c = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                 SQLITE_OK);
    return c;
}

static void exec(sqlite3 *c, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(c, sql, NULL, NULL, &err);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, err != NULL ? err : "");
    sqlite3_free(err);
}

/* A shop as the migrations before the one named `name` left it, each recorded as applied. */
static void migrate_before(sqlite3 *c, const char *name)
{
    exec(c, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at INTEGER NOT NULL)");
    int i = 0;
    for (; i < migration_count && strstr(migrations[i].name, name) == NULL; i++) {
        exec(c, "BEGIN");
        exec(c, migrations[i].sql);
        char sql[256];
        snprintf(sql, sizeof sql, "INSERT INTO schema_migrations VALUES (%d, '%s', 0)",
                 migrations[i].version, migrations[i].name);
        exec(c, sql);
        exec(c, "COMMIT");
    }
    cr_assert_lt(i, migration_count, "no migration named %s", name);
}

/* The tables whose row checks build a temporary B-tree, named in out (comma-separated). */
static void tables_with_ephemeral_checks(sqlite3 *c, char *out, size_t out_len)
{
    out[0] = '\0';
    sqlite3_stmt *tables = NULL;
    cr_assert_eq(sqlite3_prepare_v2(c,
                                    "SELECT name FROM sqlite_master WHERE type = 'table' AND"
                                    " name NOT LIKE 'sqlite_%' ORDER BY name",
                                    -1, &tables, NULL),
                 SQLITE_OK);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        char sql[1024];
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", name);
        sqlite3_stmt *all = NULL;
        cr_assert_eq(sqlite3_prepare_v2(c, sql, -1, &all, NULL), SQLITE_OK);
        int columns = sqlite3_column_count(all);
        sqlite3_finalize(all);
        /* Compiling an insert of one row codes every CHECK of the table; nothing runs. */
        int n = snprintf(sql, sizeof sql, "EXPLAIN INSERT INTO \"%s\" VALUES (", name);
        for (int i = 0; i < columns; i++) {
            n += snprintf(sql + n, sizeof sql - (size_t)n, "%sNULL", i > 0 ? ", " : "");
        }
        snprintf(sql + n, sizeof sql - (size_t)n, ")");
        sqlite3_stmt *plan = NULL;
        cr_assert_eq(sqlite3_prepare_v2(c, sql, -1, &plan, NULL), SQLITE_OK, "%s: %s", sql,
                     sqlite3_errmsg(c));
        bool ephemeral = false;
        while (sqlite3_step(plan) == SQLITE_ROW) {
            ephemeral = ephemeral ||
                        strcmp((const char *)sqlite3_column_text(plan, 1), "OpenEphemeral") == 0;
        }
        sqlite3_finalize(plan);
        if (ephemeral) {
            size_t used = strlen(out);
            snprintf(out + used, out_len - used, "%s%s", used > 0 ? "," : "", name);
        }
    }
    sqlite3_finalize(tables);
}

TestSuite(schema, .init = start, .fini = finish);

Test(schema, no_row_check_builds_a_temporary_btree)
{
    migrate_all();
    sqlite3 *c = open_raw();
    char found[1024];
    tables_with_ephemeral_checks(c, found, sizeof found);
    cr_expect_str_empty(found, "tables whose checks build a B-tree per row: %s", found);
    sqlite3_close(c);
}

static int insert(sqlite3 *c, const char *sql)
{
    int rc = sqlite3_exec(c, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sqlite3_extended_errcode(c);
}

Test(schema, the_checks_refuse_what_they_refused)
{
    migrate_all();
    sqlite3 *c = open_raw();
    exec(c, "PRAGMA foreign_keys = OFF");
    const char *pay = "INSERT INTO payments (id, order_id, method, amount_fen, status, disposition,"
                      " created_at) VALUES ";
    char sql[512];
    snprintf(sql, sizeof sql, "%s('p1', 'o', 'alipay', 100, 'requires_payment', NULL, 1)", pay);
    cr_expect_eq(insert(c, sql), 0, "a listed method, no disposition yet");
    snprintf(sql, sizeof sql, "%s('p2', 'o', 'balance', 100, 'succeeded', 'late', 1)", pay);
    cr_expect_eq(insert(c, sql), 0, "the last value of each list");
    snprintf(sql, sizeof sql, "%s('p3', 'o', 'paypal', 100, 'requires_payment', NULL, 1)", pay);
    cr_expect_eq(insert(c, sql), SQLITE_CONSTRAINT_CHECK, "a method not in the list");
    snprintf(sql, sizeof sql, "%s('p4', 'o', 'Alipay', 100, 'requires_payment', NULL, 1)", pay);
    cr_expect_eq(insert(c, sql), SQLITE_CONSTRAINT_CHECK, "compared as written, case and all");
    snprintf(sql, sizeof sql, "%s('p5', 'o', 'wechat', 100, 'refunded', NULL, 1)", pay);
    cr_expect_eq(insert(c, sql), SQLITE_CONSTRAINT_CHECK, "a status not in the list");
    snprintf(sql, sizeof sql, "%s('p6', 'o', 'wechat', 100, 'succeeded', '', 1)", pay);
    cr_expect_eq(insert(c, sql), SQLITE_CONSTRAINT_CHECK, "an empty disposition is not NULL");
    cr_expect_eq(insert(c, "INSERT INTO card_keys (id, product_id, fingerprint, nonce, ciphertext,"
                           " masked, status, batch_id, created_at) VALUES ('k1', 'p', x'01', x'02',"
                           " x'03', '****', 'available', 'b', 1)"),
                 0);
    cr_expect_eq(insert(c, "UPDATE card_keys SET status = 'sold' WHERE id = 'k1'"),
                 SQLITE_CONSTRAINT_CHECK, "a card key in no known state");
    cr_expect_eq(insert(c, "UPDATE card_keys SET status = 'void' WHERE id = 'k1'"), 0);
    cr_expect_eq(insert(c, "UPDATE payments SET status = 'lost' WHERE id = 'p1'"),
                 SQLITE_CONSTRAINT_CHECK, "an update is checked too");
    cr_expect_eq(insert(c, "INSERT INTO ledger_transfers (id, debit_account, credit_account,"
                           " amount_fen, kind, ref_type, ref_id, created_at)"
                           " VALUES ('t', 'a', 'b', 1, 'refund', 'order', 'o', 1)"),
                 SQLITE_CONSTRAINT_CHECK, "a ledger transfer of an unknown kind");
    sqlite3_close(c);
}

/* A shop created before the checks were rewritten: every migration before 0010_check_lists
 * applied, with a reader connection open across the upgrade, as a running backup tool would hold
 * one. */
Test(schema, an_existing_database_is_rewritten_in_place)
{
    sqlite3 *c = open_raw();
    migrate_before(c, "check_lists");
    exec(c, "PRAGMA foreign_keys = OFF");
    exec(c, "INSERT INTO payments (id, order_id, method, amount_fen, status, created_at)"
            " VALUES ('p1', 'o', 'wechat', 100, 'requires_payment', 1)");
    char before[1024];
    tables_with_ephemeral_checks(c, before, sizeof before);
    cr_assert(strstr(before, "payments") != NULL, "the old lists: %s", before);

    migrate_all();

    char after[1024];
    tables_with_ephemeral_checks(c, after, sizeof after); /* the connection open all along */
    cr_expect_str_empty(after, "still building a B-tree per row: %s", after);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(c, "SELECT method FROM payments WHERE id = 'p1'", -1, &st,
                                    NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_expect_str_eq((const char *)sqlite3_column_text(st, 0), "wechat");
    sqlite3_finalize(st);
    cr_expect_eq(insert(c, "UPDATE payments SET method = 'cash' WHERE id = 'p1'"),
                 SQLITE_CONSTRAINT_CHECK);
    cr_assert_eq(sqlite3_prepare_v2(c, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_expect_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(c);
}

/* A shop that moved refunds to the balance before refunds named what they replace: the upgrade
 * links each move to the refund it replaced, so that refund cannot be moved again. */
Test(schema, moves_made_before_the_link_are_linked)
{
    sqlite3 *c = open_raw();
    migrate_before(c, "refund_moves");
    exec(c, "PRAGMA foreign_keys = OFF");
    exec(c, "INSERT INTO payments (id, order_id, method, amount_fen, status, created_at) VALUES"
            " ('pw', 'o', 'wechat', 10000, 'succeeded', 1), ('pb', 'o2', 'balance', 500,"
            " 'succeeded', 1)");
    const char *refund = "INSERT INTO refunds (id, order_id, case_id, payment_id, method,"
                         " amount_fen, rule, status, provider_request_no, next_attempt_at,"
                         " expected_by, created_at, completed_at) VALUES ";
    char sql[1024];
    /* A partial refund that failed, then its move; a second failure moved later on another case;
     * a balance-paid order's own refund, which replaces nothing; and a second balance refund that
     * matches the first failure too, which the earlier move keeps. */
    snprintf(sql, sizeof sql,
             "%s ('f1', 'o', 'c1', 'pw', 'wechat', 3099, 'E2', 'failed', 'q1', 0, 0, 10, 20),"
             " ('b1', 'o', 'c1', 'pw', 'balance', 3099, 'E2', 'succeeded', 'q2', 0, 0, 30, 30),"
             " ('f2', 'o', 'c2', 'pw', 'wechat', 1000, 'E2', 'failed', 'q3', 0, 0, 40, 50),"
             " ('b2', 'o', 'c2', 'pw', 'balance', 1000, 'E2', 'succeeded', 'q4', 0, 0, 60, 60),"
             " ('b3', 'o2', NULL, 'pb', 'balance', 500, 'E4', 'succeeded', 'q5', 0, 0, 70, 70),"
             " ('b5', 'o', 'c1', 'pw', 'balance', 3099, 'E2', 'succeeded', 'q7', 0, 0, 35, 35)",
             refund);
    exec(c, sql);
    sqlite3_close(c);

    migrate_all();

    c = open_raw();
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(c,
                                    "SELECT id, COALESCE(rerouted_from, '-') FROM refunds"
                                    " ORDER BY id",
                                    -1, &st, NULL),
                 SQLITE_OK);
    char links[256] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        char one[64];
        snprintf(one, sizeof one, "%s<%s ", (const char *)sqlite3_column_text(st, 0),
                 (const char *)sqlite3_column_text(st, 1));
        strncat(links, one, sizeof links - strlen(links) - 1);
    }
    sqlite3_finalize(st);
    cr_expect_str_eq(links, "b1<f1 b2<f2 b3<- b5<- f1<- f2<- ");
    /* The index holds from now on: f1 cannot be replaced a second time. */
    snprintf(sql, sizeof sql,
             "%s ('b4', 'o', 'c1', 'pw', 'balance', 3099, 'E2', 'succeeded', 'q6', 0, 0, 80, 80)",
             refund);
    exec(c, sql);
    cr_expect_neq(sqlite3_exec(c, "UPDATE refunds SET rerouted_from = 'f1' WHERE id = 'b4'", NULL,
                               NULL, NULL),
                  SQLITE_OK);
    sqlite3_close(c);
}

static int64_t count_of(sqlite3 *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(c, sql, -1, &st, NULL), SQLITE_OK, "%s", sql);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* A shop with books, a buyer token, log nodes and a commitment before five tables became WITHOUT
 * ROWID keeps every row, every link between them, and the index on transfers by reference. */
Test(schema, tables_rebuilt_without_rowid_keep_their_rows_and_links)
{
    sqlite3 *c = open_raw();
    migrate_before(c, "without_rowid");
    exec(c, "PRAGMA foreign_keys = ON");
    exec(c, "INSERT INTO products (id, kind, name, price_fen, face_value_fen, target_format,"
            " regions, refund_window_hours, no_reason_days, topup_timeout_minutes, escrow_days,"
            " active, created_at) VALUES ('p', 'card_key', 'P', 100, 100, '', '', 24, 0, 0, 0, 1,"
            " 1)");
    exec(c, "INSERT INTO orders (id, product_id, kind, quantity, unit_price_fen, amount_fen,"
            " status, contact, created_at, expires_at, updated_at) VALUES ('o', 'p', 'card_key', 1,"
            " 100, 100, 'delivered', 'c', 1, 2, 1)");
    exec(c, "INSERT INTO card_keys (id, product_id, fingerprint, nonce, ciphertext, masked, status,"
            " order_id, batch_id, created_at) VALUES ('k', 'p', x'01', x'02', x'03', '****',"
            " 'delivered', 'o', 'b', 1)");
    exec(c, "INSERT INTO ledger_accounts (id, flags, credits_posted) VALUES ('a', 0, 0),"
            " ('order:o', 1, 100)");
    exec(c, "INSERT INTO ledger_transfers (id, debit_account, credit_account, amount_fen, kind,"
            " pending_state, ref_type, ref_id, created_at) VALUES ('t1', 'a', 'order:o', 100,"
            " 'pending', 'posted', 'order', 'o', 1)");
    exec(c, "INSERT INTO ledger_transfers (id, debit_account, credit_account, amount_fen, kind,"
            " pending_id, ref_type, ref_id, created_at) VALUES ('t2', 'a', 'order:o', 100,"
            " 'post_pending', 't1', 'order', 'o', 2)");
    exec(c, "INSERT INTO order_tokens (token_hash, order_id, created_at, via) VALUES (x'aa', 'o',"
            " 1, 'checkout')");
    exec(c, "INSERT INTO log_nodes (level, idx, hash) VALUES (0, 0, x'bb'), (1, 0, x'cc')");
    exec(c, "INSERT INTO card_commitments (card_key_id, nonce, salt_sealed) VALUES ('k', x'dd',"
            " x'ee')");
    sqlite3_close(c);

    migrate_all();

    c = open_raw();
    static const char *const tables[] = {"ledger_accounts", "ledger_transfers", "order_tokens",
                                         "log_nodes", "card_commitments"};
    static const int64_t rows[] = {2, 2, 1, 2, 1};
    for (int i = 0; i < 5; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", tables[i]);
        cr_expect_eq(count_of(c, sql), rows[i], "%s", tables[i]);
        snprintf(sql, sizeof sql,
                 "SELECT COUNT(*) FROM sqlite_master WHERE name = '%s' AND sql LIKE '%%WITHOUT"
                 " ROWID'",
                 tables[i]);
        cr_expect_eq(count_of(c, sql), 1, "%s is WITHOUT ROWID", tables[i]);
    }
    cr_expect_eq(count_of(c, "SELECT COUNT(*) FROM pragma_foreign_key_list('ledger_transfers')"
                             " WHERE \"table\" IN ('ledger_accounts', 'ledger_transfers')"),
                 3);
    cr_expect_eq(count_of(c, "SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
    cr_expect_eq(count_of(c, "SELECT COUNT(*) FROM sqlite_master WHERE name ="
                             " 'ledger_transfers_by_ref'"),
                 1);
    cr_expect_eq(count_of(c, "SELECT credits_posted FROM ledger_accounts WHERE id = 'order:o'"),
                 100);
    /* The links still hold: a transfer from an account that does not exist is refused. */
    exec(c, "PRAGMA foreign_keys = ON");
    cr_expect_neq(sqlite3_exec(c,
                               "INSERT INTO ledger_transfers (id, debit_account, credit_account,"
                               " amount_fen, kind, ref_type, ref_id, created_at) VALUES ('t3',"
                               " 'nobody', 'a', 1, 'posted', 'order', 'o', 3)",
                               NULL, NULL, NULL),
                  SQLITE_OK);
    sqlite3_close(c);
}
