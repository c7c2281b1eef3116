/* What a database backend implements behind db.h: one table of operations per backend, found
 * through the head of every connection and statement. db.c dispatches; db_sqlite.c and
 * db_postgres.c implement. Nothing outside src/store/db*.c includes this. */
#ifndef KM_DB_BACKEND_H
#define KM_DB_BACKEND_H

#include <stdarg.h>

#include "store/db.h"

struct db_ops {
    const char *name; /* "sqlite" or "postgres" */
    int (*ping)(struct db *db);
    int (*checkpoint)(struct db *db, int64_t *copied);
    void (*close)(struct db *db);
    int (*defer_sync)(struct db *db);
    int (*wal_sync)(struct db *db);
    int64_t (*wal_frames)(struct db *db);
    int (*checkpoint_restart)(struct db *db, int wait_ms);
    void (*set_read_fence)(struct db *db, void (*fence)(void));
    int (*begin_read)(struct db *db);
    int (*begin_write)(struct db *db);
    int (*commit)(struct db *db);
    void (*rollback)(struct db *db);
    int (*savepoint)(struct db *db);
    void (*savepoint_release)(struct db *db);
    void (*savepoint_rollback)(struct db *db);
    bool (*in_transaction)(struct db *db);
    int (*exec_script)(struct db *db, const char *sql, char *err, size_t err_len);
    struct db_stmt *(*query)(struct db *db, const char *sql, const char *fmt, va_list ap);
    int (*step)(struct db_stmt *st);
    void (*done)(struct db_stmt *st);
    int64_t (*col_int)(struct db_stmt *st, int col);
    const char *(*col_text)(struct db_stmt *st, int col);
    size_t (*col_bytes)(struct db_stmt *st, int col);
    const void *(*col_blob)(struct db_stmt *st, int col, size_t *len);
    bool (*col_is_null)(struct db_stmt *st, int col);
    int (*backup_to)(struct db *db, const char *path);
    int (*integrity_check)(struct db *db, char *msg, size_t msg_len);
    int (*checkpoint_truncate)(struct db *db);
    int (*watch_rows)(struct db *db, const struct db_watch *tables, int count,
                      void (*changed)(void *ctx, const char *text),
                      void (*status_changed)(void *ctx, const char *text), void *ctx);
    int64_t (*changes)(struct db *db);
    int64_t (*total_changes)(struct db *db);
    int (*has_table)(struct db *db, const char *name, bool *has);
};

/* The head of every backend's connection and statement. */
struct db {
    const struct db_ops *ops;
};

struct db_stmt {
    struct db *db;
};

/* Both backends keep a connection's prepared statements in an open-addressed table keyed by the
 * SQL literal's address (the SQL is a string constant): its first slot, of a power of two. */
static inline unsigned db_sql_slot(const char *sql, unsigned slots)
{
    uintptr_t a = (uintptr_t)sql;
    return (unsigned)((a >> 3) ^ (a >> 12)) & (slots - 1);
}

KM_MUST_USE int db_sqlite_open(const char *path, bool writer, struct db **out);
void db_sqlite_global_init(void);
KM_MUST_USE int db_postgres_open(const char *conninfo, bool writer, struct db **out);

#endif
