/* db.h's calls, handed to the backend the connection was opened with (db_backend.h), and the
 * few that are the same on every backend. */
#include "store/db_backend.h"

#include <string.h>

#include "core/err.h"

void db_global_init(void)
{
    db_sqlite_global_init();
}

bool db_is_postgres(const char *path)
{
    return strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0;
}

int db_open(const char *path, bool writer, struct db **out)
{
    return db_is_postgres(path) ? db_postgres_open(path, writer, out)
                                : db_sqlite_open(path, writer, out);
}

const char *db_backend_name(struct db *db)
{
    return db->ops->name;
}

int db_ping(struct db *db)
{
    return db->ops->ping(db);
}

int db_checkpoint(struct db *db, int64_t *copied)
{
    return db->ops->checkpoint(db, copied);
}

void db_close(struct db *db)
{
    if (db != NULL) {
        db->ops->close(db);
    }
}

int db_defer_sync(struct db *db)
{
    return db->ops->defer_sync(db);
}

int db_wal_sync(struct db *db)
{
    return db->ops->wal_sync(db);
}

int64_t db_wal_frames(struct db *db)
{
    return db->ops->wal_frames(db);
}

int db_checkpoint_restart(struct db *db, int wait_ms)
{
    return db->ops->checkpoint_restart(db, wait_ms);
}

void db_set_read_fence(struct db *db, void (*fence)(void))
{
    db->ops->set_read_fence(db, fence);
}

int db_begin_read(struct db *db)
{
    return db->ops->begin_read(db);
}

int db_begin_write(struct db *db)
{
    return db->ops->begin_write(db);
}

int db_commit(struct db *db)
{
    return db->ops->commit(db);
}

void db_rollback(struct db *db)
{
    db->ops->rollback(db);
}

int db_savepoint(struct db *db)
{
    return db->ops->savepoint(db);
}

void db_savepoint_release(struct db *db)
{
    db->ops->savepoint_release(db);
}

void db_savepoint_rollback(struct db *db)
{
    db->ops->savepoint_rollback(db);
}

bool db_in_transaction(struct db *db)
{
    return db->ops->in_transaction(db);
}

int db_exec_script(struct db *db, const char *sql, char *err, size_t err_len)
{
    return db->ops->exec_script(db, sql, err, err_len);
}

struct db_stmt *db_query(struct db *db, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct db_stmt *st = db->ops->query(db, sql, fmt, ap);
    va_end(ap);
    return st;
}

int db_step(struct db_stmt *st)
{
    return st->db->ops->step(st);
}

int db_found(int step_rc)
{
    return step_rc == DB_ROW ? 0 : step_rc < 0 ? step_rc : -KM_ENOTFOUND;
}

int db_run(struct db_stmt *st)
{
    int rc = db_step(st);
    db_done(st);
    return rc < 0 ? rc : 0;
}

int db_run_one(struct db_stmt *st)
{
    struct db *db = st->db;
    int rc = db_run(st);
    if (rc == 0 && db_changes(db) != 1) {
        return -KM_ESTATE;
    }
    return rc;
}

void db_done(struct db_stmt *st)
{
    st->db->ops->done(st);
}

int64_t db_int(struct db_stmt *st, int col)
{
    return st->db->ops->col_int(st, col);
}

const char *db_text(struct db_stmt *st, int col)
{
    return st->db->ops->col_text(st, col);
}

const void *db_blob(struct db_stmt *st, int col, size_t *len)
{
    return st->db->ops->col_blob(st, col, len);
}

bool db_is_null(struct db_stmt *st, int col)
{
    return st->db->ops->col_is_null(st, col);
}

void db_text_copy(struct db_stmt *st, int col, char *buf, size_t buf_len)
{
    km_assert(buf_len > 0);
    const char *t = db_text(st, col);
    size_t n = st->db->ops->col_bytes(st, col);
    if (n >= buf_len) {
        n = buf_len - 1; /* truncated, as snprintf would */
    }
    memcpy(buf, t, n);
    buf[n] = '\0';
}

int db_backup_to(struct db *db, const char *path)
{
    return db->ops->backup_to(db, path);
}

int db_integrity_check(struct db *db, char *msg, size_t msg_len)
{
    return db->ops->integrity_check(db, msg, msg_len);
}

int db_checkpoint_truncate(struct db *db)
{
    return db->ops->checkpoint_truncate(db);
}

int db_watch_rows(struct db *db, const struct db_watch *tables, int count,
                  void (*changed)(void *ctx, const char *text),
                  void (*status_changed)(void *ctx, const char *text), void *ctx)
{
    return db->ops->watch_rows(db, tables, count, changed, status_changed, ctx);
}

int64_t db_changes(struct db *db)
{
    return db->ops->changes(db);
}

int64_t db_total_changes(struct db *db)
{
    return db->ops->total_changes(db);
}

int db_has_table(struct db *db, const char *name, bool *has)
{
    return db->ops->has_table(db, name, has);
}
