/* db.h on SQLite, the default backend (db_backend.h): WAL, synchronous=FULL (NORMAL on a writer
 * whose syncs are deferred), foreign keys on, a per-connection statement cache keyed by the SQL
 * literal's address, and $N placeholders bound by name so both backends share SQL. */
#include "store/db_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/files.h"
#include "core/log.h"
#include "store/sqlite_pcache.h"
#include "store/sqlite_walbuf.h"
#include "store/sqlite_watch.h"

#define DB_STMT_CACHE_MAX 256 /* distinct SQL statements in the program; asserted, not guessed */
#define DB_BUSY_TIMEOUT_MS 5000

#define DB_PARAMS_MAX 20  /* $1..$20 */
#define DB_STMT_SLOTS 512 /* the statement cache's hash slots: a power of two, > 2 * MAX */

struct sq_stmt {
    struct db_stmt base; /* first: what db.c sees */
    struct sq_db *db;
    const char *sql;
    sqlite3_stmt *stmt;
    /* SQLite's index of $1..$N (0: not in the SQL), looked up once at prepare: looking them up
     * by name at every bind was 2% of the instructions of a paid order. */
    unsigned char param_index[DB_PARAMS_MAX];
    int param_count; /* sqlite3_bind_parameter_count */
};

struct sq_db {
    struct db base; /* first: what db.c sees */
    sqlite3 *conn;
    bool writer;
    int wal_fd; /* >= 0 once commits defer their sync to db_wal_sync */
    int64_t wal_frames; /* after the last commit, from the WAL hook */
    void (*read_fence)(void);
    int stmt_count;
    struct sq_stmt stmts[DB_STMT_CACHE_MAX];
    /* 1 + the index in stmts of the statement whose SQL text is at that address, 0 if none:
     * open addressing over the text's address, since the SQL is a string constant. */
    short slot[DB_STMT_SLOTS];
    struct sqlite_watch *watch; /* db_watch_rows */
};

static void db_log_error(struct sq_db *db, const char *what)
{
    log_write(LOG_ERROR, "db_error", "op", what, "message", sqlite3_errmsg(db->conn), NULL);
}

static int exec_simple(struct sq_db *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db->conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_write(LOG_ERROR, "db_error", "op", sql, "message", msg != NULL ? msg : "", NULL);
        sqlite3_free(msg);
        return -KM_EINTERNAL;
    }
    return 0;
}

static struct sq_stmt *stmt_get(struct sq_db *db, const char *sql);
static void sq_close(struct db *d);
static int wal_hook(void *arg, sqlite3 *conn, const char *name, int frames);

/* Transaction control runs for every command and every read: prepared once, like other SQL. */
static int exec_cached(struct sq_db *db, const char *sql)
{
    sqlite3_stmt *st = stmt_get(db, sql)->stmt;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_write(LOG_ERROR, "db_error", "op", sql, "message", sqlite3_errmsg(db->conn), NULL);
        return -KM_EINTERNAL;
    }
    return 0;
}

static bool walbuf; /* the WAL write buffer is installed */

void db_sqlite_global_init(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (sqlite_pcache_install() != 0) {
        log_write(LOG_WARN, "pcache_wrap_skipped", NULL);
    }
    /* After the page cache: looking up the default VFS initialises SQLite. */
    walbuf = sqlite_walbuf_install() == 0;
    if (!walbuf) {
        log_write(LOG_WARN, "wal_write_buffer_skipped", NULL);
    }
}

static int sq_ping(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    return exec_simple(db, "SELECT 1");
}

static int sq_checkpoint(struct db *d, int64_t *copied)
{
    struct sq_db *db = (struct sq_db *)d;
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(db->conn, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    *copied = rc == SQLITE_OK && done > 0 ? done : 0;
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : -KM_EINTERNAL;
}

static const struct db_ops sqlite_ops;

int db_sqlite_open(const char *path, bool writer, struct db **out)
{
    *out = NULL;
    struct sq_db *db = calloc(1, sizeof *db);
    km_assert(db != NULL);
    db->base.ops = &sqlite_ops;
    db->writer = writer;
    db->wal_fd = -1;
    int flags = SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                              : SQLITE_OPEN_READONLY);
    /* The writer's WAL frames reach the file one commit at a time (sqlite_walbuf.c). */
    const char *vfs = writer && walbuf ? SQLITE_WALBUF_VFS : NULL;
    if (sqlite3_open_v2(path, &db->conn, flags, vfs) != SQLITE_OK) {
        log_write(LOG_ERROR, "db_open_failed", "path", path, "message",
                  db->conn != NULL ? sqlite3_errmsg(db->conn) : "out of memory", NULL);
        sqlite3_close(db->conn);
        free(db);
        return -KM_EINTERNAL;
    }
    sqlite3_busy_timeout(db->conn, DB_BUSY_TIMEOUT_MS);
    int rc = 0;
    if (writer) {
        rc = exec_simple(db, "PRAGMA journal_mode=WAL");
        rc = rc != 0 ? rc : exec_simple(db, "PRAGMA synchronous=FULL");
        /* The checkpointer thread and the writer's restarts checkpoint (checkpointer.c,
         * executor.c), so a commit never waits for one. */
        rc = rc != 0 ? rc : exec_simple(db, "PRAGMA wal_autocheckpoint=0");
        rc = rc != 0 ? rc : exec_simple(db, "PRAGMA cache_size=-65536"); /* 64 MiB */
        /* Each command runs in a SAVEPOINT, whose journal of the pages it changes went to a
         * temporary file once past 64 KiB: a third of the writer's time was those writes. */
        rc = rc != 0 ? rc : exec_simple(db, "PRAGMA temp_store=MEMORY");
        sqlite3_wal_hook(db->conn, wal_hook, db);
    } else {
        rc = exec_simple(db, "PRAGMA cache_size=-16384"); /* 16 MiB per reader thread */
    }
    rc = rc != 0 ? rc : exec_simple(db, "PRAGMA foreign_keys=ON");
    if (rc != 0) {
        sq_close(&db->base);
        return rc;
    }
    *out = &db->base;
    return 0;
}

static void sq_close(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    if (db == NULL) {
        return;
    }
    if (db->wal_fd >= 0) {
        close(db->wal_fd);
    }
    for (int i = 0; i < db->stmt_count; i++) {
        sqlite3_finalize(db->stmts[i].stmt);
    }
    sqlite_watch_remove(db->conn, db->watch);
    sqlite3_close(db->conn);
    free(db);
}

static int sq_begin_read(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    return exec_cached(db, "BEGIN");
}

static int sq_begin_write(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    return exec_cached(db, "BEGIN IMMEDIATE");
}

static int sq_commit(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    return exec_cached(db, "COMMIT");
}

static void sq_rollback(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    if (!sqlite3_get_autocommit(db->conn)) {
        (void)exec_cached(db, "ROLLBACK");
    }
    if (db->read_fence != NULL) {
        db->read_fence(); /* what the read saw is on disk before anyone acts on it */
    }
}

static void sq_set_read_fence(struct db *d, void (*fence)(void))
{
    struct sq_db *db = (struct sq_db *)d;
    km_assert(!db->writer);
    db->read_fence = fence;
}

static int wal_hook(void *arg, sqlite3 *conn, const char *name, int frames)
{
    (void)conn;
    (void)name;
    ((struct sq_db *)arg)->wal_frames = frames;
    return SQLITE_OK;
}

static int64_t sq_wal_frames(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    return db->wal_frames;
}

void db_wal_write_stats(long long *asked, long long *made)
{
    sqlite_walbuf_stats(asked, made);
}

static int sq_checkpoint_restart(struct db *d, int wait_ms)
{
    struct sq_db *db = (struct sq_db *)d;
    /* A checkpoint syncs the WAL before copying and the database before the WAL may be reused,
     * at synchronous=NORMAL as at FULL. */
    sqlite3_busy_timeout(db->conn, wait_ms);
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(db->conn, NULL, SQLITE_CHECKPOINT_RESTART, &log, &done);
    sqlite3_busy_timeout(db->conn, DB_BUSY_TIMEOUT_MS);
    if (rc == SQLITE_BUSY) {
        return -KM_EBUSY;
    }
    if (rc != SQLITE_OK) {
        db_log_error(db, "checkpoint_restart");
        return -KM_EINTERNAL;
    }
    db->wal_frames = 0;
    return 0;
}

/* The WAL file exists once something was written in WAL mode; a new database has none yet. */
static int wal_create(struct sq_db *db)
{
    sqlite3_stmt *st = stmt_get(db, "PRAGMA user_version")->stmt;
    int rc = sqlite3_step(st);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) {
        return -KM_EINTERNAL;
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%lld", (long long)v); /* the same value */
    return exec_simple(db, sql);
}

static int sq_defer_sync(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    km_assert(db->writer && db->wal_fd < 0);
    const char *wal = sqlite3_filename_wal(sqlite3_db_filename(db->conn, "main"));
    /* NORMAL, in WAL mode: a commit does not sync, but a checkpoint still syncs the WAL and the
     * database, and the header of a restarted WAL is synced before frames follow it (with OFF it
     * is not, and a power cut could replay old frames over newer pages). */
    if (wal == NULL || exec_simple(db, "PRAGMA synchronous=NORMAL") != 0) {
        return -KM_EINTERNAL;
    }
    int fd = open(wal, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && wal_create(db) == 0) {
        fd = open(wal, O_RDWR | O_CLOEXEC);
    }
    /* The WAL's directory entry must be on disk before a commit in it is called durable, which
     * SQLite would otherwise see to on its first sync. */
    int rc = fd >= 0 && file_sync_dir_of(wal) == 0 ? 0 : -KM_EINTERNAL;
    if (rc != 0) {
        log_write(LOG_ERROR, "wal_open_failed", "message", strerror(errno), NULL);
        if (fd >= 0) {
            close(fd);
        }
        (void)exec_simple(db, "PRAGMA synchronous=FULL");
        return rc;
    }
    db->wal_fd = fd;
    return 0;
}

static int sq_wal_sync(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    km_assert(db->wal_fd >= 0);
    if (fdatasync(db->wal_fd) != 0) {
        log_write(LOG_ERROR, "wal_sync_failed", "message", strerror(errno), NULL);
        return -KM_EINTERNAL;
    }
    return 0;
}

static int sq_savepoint(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    return exec_cached(db, "SAVEPOINT cmd");
}

static void sq_savepoint_release(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    (void)exec_cached(db, "RELEASE cmd");
}

static void sq_savepoint_rollback(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    (void)exec_cached(db, "ROLLBACK TO cmd");
    (void)exec_cached(db, "RELEASE cmd");
}

static int sq_exec_script(struct db *d, const char *sql, char *err, size_t err_len)
{
    struct sq_db *db = (struct sq_db *)d;
    char *msg = NULL;
    if (sqlite3_exec(db->conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, err_len, "%s", msg != NULL ? msg : "unknown error");
        sqlite3_free(msg);
        return -KM_EINTERNAL;
    }
    return 0;
}

/* The names of $1..$N. */
static const char *const param_names[DB_PARAMS_MAX] = {
    "$1",  "$2",  "$3",  "$4",  "$5",  "$6",  "$7",  "$8",  "$9",  "$10",
    "$11", "$12", "$13", "$14", "$15", "$16", "$17", "$18", "$19", "$20"};

static struct sq_stmt *stmt_get(struct sq_db *db, const char *sql)
{
    unsigned i = db_sql_slot(sql, DB_STMT_SLOTS);
    while (db->slot[i] != 0) {
        struct sq_stmt *st = &db->stmts[db->slot[i] - 1];
        if (st->sql == sql) {
            return st;
        }
        i = (i + 1) & (DB_STMT_SLOTS - 1);
    }
    km_assert(db->stmt_count < DB_STMT_CACHE_MAX);
    struct sq_stmt *st = &db->stmts[db->stmt_count];
    if (sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->stmt, NULL) !=
        SQLITE_OK) {
        /* Our SQL is fixed at build time: failing to prepare it is a bug. */
        fprintf(stderr, "kameng: cannot prepare: %s\n%s\n", sqlite3_errmsg(db->conn), sql);
        km_assert(!"SQL prepares");
    }
    st->base.db = &db->base;
    st->db = db;
    st->sql = sql;
    st->param_count = sqlite3_bind_parameter_count(st->stmt);
    for (int n = 0; n < DB_PARAMS_MAX; n++) {
        int idx = sqlite3_bind_parameter_index(st->stmt, param_names[n]);
        km_assert(idx >= 0 && idx <= UCHAR_MAX);
        st->param_index[n] = (unsigned char)idx;
    }
    db->stmt_count++;
    db->slot[i] = (short)db->stmt_count;
    return st;
}

static struct db_stmt *sq_query(struct db *d, const char *sql, const char *fmt, va_list ap)
{
    struct sq_db *db = (struct sq_db *)d;
    struct sq_stmt *st = stmt_get(db, sql);
    sqlite3_reset(st->stmt);
    /* Every parameter is bound below unless the SQL names one fmt does not give: only then
     * may an earlier run's value be left, and the bindings are cleared to NULL. */
    int given = 0;
    for (int n = 0; fmt[n] != '\0'; n++) {
        km_assert(n < DB_PARAMS_MAX);
        given += st->param_index[n] > 0;
    }
    if (given < st->param_count) {
        sqlite3_clear_bindings(st->stmt);
    }
    for (int n = 1; fmt[n - 1] != '\0'; n++) {
        int idx = st->param_index[n - 1];
        int rc = SQLITE_OK;
        switch (fmt[n - 1]) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (idx > 0) {
                rc = s != NULL ? sqlite3_bind_text(st->stmt, idx, s, -1, SQLITE_TRANSIENT)
                               : sqlite3_bind_null(st->stmt, idx);
            }
            break;
        }
        case 'i': {
            int64_t v = va_arg(ap, int64_t);
            if (idx > 0) {
                rc = sqlite3_bind_int64(st->stmt, idx, v);
            }
            break;
        }
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t len = va_arg(ap, size_t);
            if (idx > 0) {
                rc = sqlite3_bind_blob(st->stmt, idx, p, (int)len, SQLITE_TRANSIENT);
            }
            break;
        }
        case 'n':
            if (idx > 0) {
                rc = sqlite3_bind_null(st->stmt, idx);
            }
            break;
        default:
            km_assert(!"known bind format");
        }
        km_assert(rc == SQLITE_OK);
    }
    return &st->base;
}

static int sq_step(struct db_stmt *s)
{
    struct sq_stmt *st = (struct sq_stmt *)s;
    int rc = sqlite3_step(st->stmt);
    if (rc == SQLITE_ROW) {
        return DB_ROW;
    }
    if (rc == SQLITE_DONE) {
        return DB_DONE;
    }
    int ext = sqlite3_extended_errcode(st->db->conn);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return -KM_EDUPLICATE;
    }
    db_log_error(st->db, st->sql);
    return -KM_EINTERNAL;
}

static void sq_done(struct db_stmt *s)
{
    struct sq_stmt *st = (struct sq_stmt *)s;
    sqlite3_reset(st->stmt);
}

static int64_t sq_int(struct db_stmt *s, int col)
{
    struct sq_stmt *st = (struct sq_stmt *)s;
    return sqlite3_column_int64(st->stmt, col);
}

static const char *sq_text(struct db_stmt *s, int col)
{
    struct sq_stmt *st = (struct sq_stmt *)s;
    const unsigned char *t = sqlite3_column_text(st->stmt, col);
    return t != NULL ? (const char *)t : "";
}

static const void *sq_blob(struct db_stmt *s, int col, size_t *len)
{
    struct sq_stmt *st = (struct sq_stmt *)s;
    const void *p = sqlite3_column_blob(st->stmt, col);
    *len = (size_t)sqlite3_column_bytes(st->stmt, col);
    return p;
}

static size_t sq_bytes(struct db_stmt *s, int col)
{
    struct sq_stmt *st = (struct sq_stmt *)s;
    return (size_t)sqlite3_column_bytes(st->stmt, col);
}

static bool sq_is_null(struct db_stmt *s, int col)
{
    struct sq_stmt *st = (struct sq_stmt *)s;
    return sqlite3_column_type(st->stmt, col) == SQLITE_NULL;
}

static int sq_watch_rows(struct db *d, const struct db_watch *tables, int count,
                  void (*changed)(void *ctx, const char *text),
                  void (*status_changed)(void *ctx, const char *text), void *ctx)
{
    struct sq_db *db = (struct sq_db *)d;
    sqlite_watch_remove(db->conn, db->watch);
    db->watch = NULL;
    char err[160];
    db->watch =
        sqlite_watch_install(db->conn, tables, count, changed, status_changed, ctx, err, sizeof err);
    if (db->watch == NULL) {
        log_write(LOG_ERROR, "db_watch_failed", "message", err, NULL);
        return -KM_EINTERNAL;
    }
    return 0;
}

static int64_t sq_changes(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    return sqlite3_changes64(db->conn);
}

static bool sq_in_transaction(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    return !sqlite3_get_autocommit(db->conn);
}

static int64_t sq_total_changes(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    return sqlite3_total_changes64(db->conn);
}

static int sq_backup_to(struct db *d, const char *path)
{
    struct sq_db *db = (struct sq_db *)d;
    /* VACUUM INTO writes a transactionally consistent, compacted copy. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->conn, "VACUUM INTO ?1", -1, &st, NULL) != SQLITE_OK) {
        db_log_error(db, "backup");
        return -KM_EINTERNAL;
    }
    sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        db_log_error(db, "backup");
        return -KM_EINTERNAL;
    }
    return 0;
}

static int sq_integrity_check(struct db *d, char *msg, size_t msg_len)
{
    struct sq_db *db = (struct sq_db *)d;
    sqlite3_stmt *st = NULL;
    msg[0] = '\0';
    if (sqlite3_prepare_v2(db->conn, "PRAGMA integrity_check(1)", -1, &st, NULL) != SQLITE_OK) {
        snprintf(msg, msg_len, "%s", sqlite3_errmsg(db->conn));
        return -KM_EINTERNAL;
    }
    int rc = sqlite3_step(st);
    const unsigned char *text = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    snprintf(msg, msg_len, "%s", text != NULL ? (const char *)text : sqlite3_errmsg(db->conn));
    bool ok = text != NULL && strcmp((const char *)text, "ok") == 0;
    sqlite3_finalize(st);
    return ok ? 0 : -KM_EINTERNAL;
}

static int sq_checkpoint_truncate(struct db *d)
{
    struct sq_db *db = (struct sq_db *)d;
    int rc = sqlite3_wal_checkpoint_v2(db->conn, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (rc != SQLITE_OK) {
        db_log_error(db, "checkpoint_truncate");
        return -KM_EINTERNAL;
    }
    return 0;
}

static int sq_has_table(struct db *d, const char *name, bool *has)
{
    struct sq_db *db = (struct sq_db *)d;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->conn,
                           "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        db_log_error(db, "has_table");
        return -KM_EINTERNAL;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *has = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) == 1;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -KM_EINTERNAL;
}

static const struct db_ops sqlite_ops = {
    .name = "sqlite",
    .ping = sq_ping,
    .checkpoint = sq_checkpoint,
    .close = sq_close,
    .defer_sync = sq_defer_sync,
    .wal_sync = sq_wal_sync,
    .wal_frames = sq_wal_frames,
    .checkpoint_restart = sq_checkpoint_restart,
    .set_read_fence = sq_set_read_fence,
    .begin_read = sq_begin_read,
    .begin_write = sq_begin_write,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .savepoint = sq_savepoint,
    .savepoint_release = sq_savepoint_release,
    .savepoint_rollback = sq_savepoint_rollback,
    .in_transaction = sq_in_transaction,
    .exec_script = sq_exec_script,
    .query = sq_query,
    .step = sq_step,
    .done = sq_done,
    .col_int = sq_int,
    .col_text = sq_text,
    .col_bytes = sq_bytes,
    .col_blob = sq_blob,
    .col_is_null = sq_is_null,
    .backup_to = sq_backup_to,
    .integrity_check = sq_integrity_check,
    .checkpoint_truncate = sq_checkpoint_truncate,
    .watch_rows = sq_watch_rows,
    .changes = sq_changes,
    .total_changes = sq_total_changes,
    .has_table = sq_has_table,
};
