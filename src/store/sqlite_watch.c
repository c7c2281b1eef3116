/* Row changes reported from SQLite's pre-update hook (see sqlite_watch.h).
 *
 * The read cache used to learn what a command changed from temporary triggers, one per watched
 * table and kind of change, each calling an SQL function: every trigger runs as a sub-program of
 * the statement, with its own registers and cursor frame, and an order's four commands fired
 * about sixteen of them, an eighth of the writer's instructions. The hook is a plain call. */
/* Declares the hook in sqlite3.h; Debian's libsqlite3 is built with it. */
#define SQLITE_ENABLE_PREUPDATE_HOOK 1

#include "store/sqlite_watch.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct watched_table {
    char name[SQLITE_WATCH_NAME_BYTES];
    int column;        /* index in the table of the column reported */
    int status_column; /* or -1 */
    bool inserts_only;
};

struct sqlite_watch {
    struct watched_table tables[SQLITE_WATCH_TABLES_MAX];
    int count;
    void (*changed)(void *ctx, const char *text);
    void (*status_changed)(void *ctx, const char *text);
    void *ctx;
};

/* The column's index in the table, as the pre-update hook counts them; -1 if there is none. */
static int column_index(sqlite3 *conn, const char *table, const char *column)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(conn, "SELECT cid FROM pragma_table_info(?1) WHERE name = ?2", -1, &st,
                           NULL) != SQLITE_OK) {
        return -1;
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
    int index = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return index;
}

static const unsigned char *old_text(sqlite3 *conn, int column)
{
    sqlite3_value *v = NULL;
    return sqlite3_preupdate_old(conn, column, &v) == SQLITE_OK && v != NULL ? sqlite3_value_text(v)
                                                                             : NULL;
}

static const unsigned char *new_text(sqlite3 *conn, int column)
{
    sqlite3_value *v = NULL;
    return sqlite3_preupdate_new(conn, column, &v) == SQLITE_OK && v != NULL ? sqlite3_value_text(v)
                                                                             : NULL;
}

/* NULL is equal to NULL only, as SQL's IS. */
static bool same_text(const unsigned char *a, const unsigned char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp((const char *)a, (const char *)b) == 0;
}

static void on_change(void *arg, sqlite3 *conn, int op, const char *db_name, const char *table,
                      sqlite3_int64 old_rowid, sqlite3_int64 new_rowid)
{
    (void)old_rowid;
    (void)new_rowid;
    const struct sqlite_watch *w = arg;
    if (strcmp(db_name, "main") != 0) {
        return;
    }
    const struct watched_table *t = NULL;
    for (int i = 0; i < w->count && t == NULL; i++) {
        if (w->tables[i].name[0] == table[0] && strcmp(w->tables[i].name, table) == 0) {
            t = &w->tables[i];
        }
    }
    if (t == NULL || (t->inserts_only && op != SQLITE_INSERT)) {
        return;
    }
    /* The values live until this call returns; changed() copies what it keeps. */
    const unsigned char *before = op != SQLITE_INSERT ? old_text(conn, t->column) : NULL;
    if (before != NULL) {
        w->changed(w->ctx, (const char *)before);
    }
    const unsigned char *after = op != SQLITE_DELETE ? new_text(conn, t->column) : NULL;
    if (after != NULL && !same_text(before, after)) {
        w->changed(w->ctx, (const char *)after);
    }
    if (t->status_column >= 0 && op == SQLITE_UPDATE && after != NULL && w->status_changed) {
        char key[SQLITE_WATCH_TEXT_BYTES];
        snprintf(key, sizeof key, "%s", (const char *)after); /* kept while the status is read */
        if (!same_text(old_text(conn, t->status_column), new_text(conn, t->status_column))) {
            w->status_changed(w->ctx, key);
        }
    }
}

struct sqlite_watch *sqlite_watch_install(sqlite3 *conn, const struct db_watch *tables, int count,
                                          void (*changed)(void *ctx, const char *text),
                                          void (*status_changed)(void *ctx, const char *text),
                                          void *ctx, char *err, size_t err_len)
{
    if (count > SQLITE_WATCH_TABLES_MAX) {
        snprintf(err, err_len, "more than %d watched tables", SQLITE_WATCH_TABLES_MAX);
        return NULL;
    }
    if (!sqlite3_compileoption_used("ENABLE_PREUPDATE_HOOK")) {
        snprintf(err, err_len, "this SQLite is built without the pre-update hook");
        return NULL;
    }
    struct sqlite_watch *w = calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        struct watched_table *t = &w->tables[i];
        if (snprintf(t->name, sizeof t->name, "%s", tables[i].table) >= (int)sizeof t->name) {
            snprintf(err, err_len, "table name %s is too long", tables[i].table);
            free(w);
            return NULL;
        }
        t->inserts_only = tables[i].inserts_only;
        t->column = column_index(conn, tables[i].table, tables[i].column);
        t->status_column = tables[i].status_column != NULL
                               ? column_index(conn, tables[i].table, tables[i].status_column)
                               : -1;
        if (t->column < 0 || (tables[i].status_column != NULL && t->status_column < 0)) {
            snprintf(err, err_len, "%s has no column %s", tables[i].table,
                     t->column < 0 ? tables[i].column : tables[i].status_column);
            free(w);
            return NULL;
        }
    }
    w->count = count;
    w->changed = changed;
    w->status_changed = status_changed;
    w->ctx = ctx;
    sqlite3_preupdate_hook(conn, on_change, w);
    return w;
}

void sqlite_watch_remove(sqlite3 *conn, struct sqlite_watch *w)
{
    if (w != NULL) {
        sqlite3_preupdate_hook(conn, NULL, NULL);
        free(w);
    }
}
