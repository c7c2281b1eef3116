/* db.h on PostgreSQL through libpq: the scale-out store, for several kameng servers on one
 * database. Each connection prepares a statement the first time its SQL is used (cached by the
 * SQL literal's address, as db_sqlite.c does); parameters go as text, blobs as bytes, and rows
 * come back as text, one result per run.
 *
 * What SQLite gives for free and this gives by other means:
 * - One writer at a time: a write transaction begins by taking a transaction-scoped advisory
 *   lock, so the commands of every server on the database run one after another, as the one
 *   writer connection runs them on SQLite. Reads run in REPEATABLE READ snapshots, as SQLite's.
 * - Durability: a COMMIT returns once PostgreSQL has flushed its WAL (synchronous_commit is left
 *   on), so there is no sync to defer and nothing to checkpoint from here.
 * - A statement that fails leaves SQLite's transaction usable; PostgreSQL's is aborted until a
 *   savepoint is rolled back to. db_in_transaction says false then, which the executor already
 *   reads as "roll this command (or batch) back". */
#include "store/db_backend.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"

#define PG_STMT_CACHE_MAX 256 /* distinct SQL statements in the program, as for SQLite */
#define PG_STMT_SLOTS 512     /* the cache's hash slots: a power of two, > 2 * MAX */
#define PG_PARAMS_MAX 20      /* $1..$20, as for SQLite */
#define PG_COLS_MAX 64        /* columns of one result whose blobs may be decoded at once */
#define PG_INT_TEXT 24        /* an int64 in decimal, with its sign and NUL */

/* Every server's write transactions take this lock first (pg_advisory_xact_lock's key):
 * "kameng" in ASCII. */
#define PG_WRITE_LOCK_KEY "126849302851175"

/* Type OIDs from PostgreSQL's catalog (pg_type.dat), fixed since long before version 10. */
#define PG_OID_BYTEA 17
#define PG_OID_INT8 20
#define PG_OID_TEXT 25

struct pg_stmt {
    struct db_stmt base; /* first: what db.c sees */
    struct pg_db *db;
    const char *sql;
    char name[16];
    bool prepared;
    Oid types[PG_PARAMS_MAX];
    int nparams;
    /* The run being read. */
    const char *values[PG_PARAMS_MAX];
    int lengths[PG_PARAMS_MAX];
    int formats[PG_PARAMS_MAX];
    char ints[PG_PARAMS_MAX][PG_INT_TEXT];
    char *texts[PG_PARAMS_MAX]; /* copies: the caller's text need not outlive db_query */
    bool matches_nothing;       /* a SELECT given text that is not UTF-8 */
    PGresult *res;
    int row; /* -1 before the first step */
    bool ran;
    unsigned char *blobs[PG_COLS_MAX]; /* this row's decoded bytea columns */
    size_t blob_len[PG_COLS_MAX];
};

struct pg_db {
    struct db base; /* first: what db.c sees */
    PGconn *conn;
    bool ready; /* the session is set up (pg_session_setup) */
    bool writer;
    void (*read_fence)(void);
    int64_t changes;
    int64_t total_changes;
    int stmt_count;
    struct pg_stmt stmts[PG_STMT_CACHE_MAX];
    short slot[PG_STMT_SLOTS]; /* 1 + the index in stmts of the SQL at that address, 0 if none */
};

static const struct db_ops postgres_ops;

static void pg_log(struct pg_db *db, const char *what, const PGresult *res)
{
    const char *msg = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(db->conn);
    char line[512];
    snprintf(line, sizeof line, "%s", msg != NULL ? msg : "");
    line[strcspn(line, "\n")] = '\0'; /* one line: the detail follows on others */
    log_write(LOG_ERROR, "db_error", "op", what, "message", line, NULL);
}

/* A command without parameters or rows: transaction control, session settings. */
static int pg_simple(struct pg_db *db, const char *sql)
{
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType s = PQresultStatus(res);
    int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : -KM_EINTERNAL;
    if (rc != 0) {
        pg_log(db, sql, res);
    }
    PQclear(res);
    return rc;
}

static void notice_ignored(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* What every session of kameng's needs, set on each new connection and again after a reconnect
 * (a new session starts from the server's defaults, which may say synchronous_commit = off).
 * Notices (a table that already exists, say) would go to stderr unstructured. A server that
 * stalls inside a write transaction holds the write lock of every server: PostgreSQL ends its
 * session after a minute of silence, and the transaction with it. */
static int pg_session_setup(struct pg_db *db)
{
    PQsetNoticeProcessor(db->conn, notice_ignored, NULL);
    int rc = pg_simple(db, "SET client_min_messages = warning");
    rc = rc != 0 ? rc : pg_simple(db, "SET synchronous_commit = on");
    rc = rc != 0 ? rc : pg_simple(db, "SET idle_in_transaction_session_timeout = '60s'");
    return rc;
}

/* A connection lost (the server restarted, say) is opened again between transactions; its
 * prepared statements went with it. Until its session is set up it is not used. */
static void pg_reconnect_if_lost(struct pg_db *db)
{
    if (PQstatus(db->conn) == CONNECTION_OK && db->ready) {
        return;
    }
    PQreset(db->conn);
    for (int i = 0; i < db->stmt_count; i++) {
        db->stmts[i].prepared = false;
    }
    db->ready = PQstatus(db->conn) == CONNECTION_OK && pg_session_setup(db) == 0;
    if (db->ready) {
        log_write(LOG_WARN, "db_reconnected", NULL);
    }
}

int db_postgres_open(const char *conninfo, bool writer, struct db **out)
{
    *out = NULL;
    struct pg_db *db = calloc(1, sizeof *db);
    km_assert(db != NULL);
    db->base.ops = &postgres_ops;
    db->writer = writer;
    /* Defaults for what the URL does not say (it comes last and wins): a connection attempt,
     * the writer's reconnect included, gives up after 10 s instead of the system's TCP timeout,
     * and a peer that vanished is noticed within about a minute. */
    static const char *const keys[] = {"connect_timeout", "keepalives_idle",
                                       "keepalives_interval", "keepalives_count", "dbname", NULL};
    const char *const values[] = {"10", "30", "10", "3", conninfo, NULL};
    db->conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        char line[512];
        snprintf(line, sizeof line, "%s", PQerrorMessage(db->conn));
        line[strcspn(line, "\n")] = '\0';
        /* The URL may carry a password: only the server's answer is logged. */
        log_write(LOG_ERROR, "db_open_failed", "backend", "postgres", "message", line, NULL);
        PQfinish(db->conn);
        free(db);
        return -KM_EINTERNAL;
    }
    int rc = pg_session_setup(db);
    db->ready = rc == 0;
    if (rc != 0) {
        PQfinish(db->conn);
        free(db);
        return rc;
    }
    *out = &db->base;
    return 0;
}

static void stmt_clear_row(struct pg_stmt *st)
{
    for (int c = 0; c < PG_COLS_MAX; c++) {
        if (st->blobs[c] != NULL) {
            PQfreemem(st->blobs[c]);
            st->blobs[c] = NULL;
        }
    }
}

static void stmt_clear(struct pg_stmt *st)
{
    stmt_clear_row(st);
    PQclear(st->res);
    st->res = NULL;
    st->ran = false;
    st->matches_nothing = false;
    st->row = -1;
    for (int n = 0; n < PG_PARAMS_MAX; n++) {
        free(st->texts[n]);
        st->texts[n] = NULL;
    }
}

static void pg_close(struct db *d)
{
    struct pg_db *db = (struct pg_db *)d;
    for (int i = 0; i < db->stmt_count; i++) {
        stmt_clear(&db->stmts[i]);
    }
    PQfinish(db->conn);
    free(db);
}

static int pg_ping(struct db *d)
{
    struct pg_db *db = (struct pg_db *)d;
    pg_reconnect_if_lost(db);
    return pg_simple(db, "SELECT 1");
}

static int pg_checkpoint(struct db *d, int64_t *copied)
{
    (void)d;
    *copied = 0; /* PostgreSQL checkpoints by itself */
    return 0;
}

static int pg_defer_sync(struct db *d)
{
    (void)d; /* each COMMIT is durable when it returns */
    return 0;
}

static int pg_wal_sync(struct db *d)
{
    (void)d;
    return 0;
}

static int64_t pg_wal_frames(struct db *d)
{
    (void)d;
    return 0;
}

static int pg_checkpoint_restart(struct db *d, int wait_ms)
{
    (void)d;
    (void)wait_ms;
    return 0;
}

static void pg_set_read_fence(struct db *d, void (*fence)(void))
{
    ((struct pg_db *)d)->read_fence = fence;
}

/* libpq learns of a lost connection only when a command fails: after the database restarted,
 * the first BEGIN does. Nothing was read or written yet, so it is asked once more. A session
 * that is not set up (synchronous_commit on, above all) is never used. */
static int pg_begin(struct pg_db *db, const char *begin)
{
    pg_reconnect_if_lost(db);
    int rc = db->ready ? pg_simple(db, begin) : -KM_EINTERNAL;
    if (rc != 0 && PQstatus(db->conn) != CONNECTION_OK) {
        pg_reconnect_if_lost(db);
        rc = db->ready ? pg_simple(db, begin) : -KM_EINTERNAL;
    }
    if (rc != 0 && PQtransactionStatus(db->conn) == PQTRANS_INERROR) {
        (void)pg_simple(db, "ROLLBACK");
    }
    return rc;
}

static int pg_begin_read(struct db *d)
{
    struct pg_db *db = (struct pg_db *)d;
    return pg_begin(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

static int pg_begin_write(struct db *d)
{
    struct pg_db *db = (struct pg_db *)d;
    /* READ COMMITTED whatever the database's default: each statement then sees every write
     * committed before it, those of the server that held the lock last included. Under
     * REPEATABLE READ the snapshot would be taken as the lock is asked for, before the wait. */
    return pg_begin(db, "BEGIN ISOLATION LEVEL READ COMMITTED; "
                        "SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK_KEY ")");
}

static int pg_commit(struct db *d)
{
    struct pg_db *db = (struct pg_db *)d;
    PGresult *res = PQexec(db->conn, "COMMIT");
    /* COMMIT of an aborted transaction "succeeds" and says ROLLBACK. */
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(res), "COMMIT") == 0
                 ? 0
                 : -KM_EINTERNAL;
    if (rc != 0) {
        pg_log(db, "COMMIT", res);
    }
    PQclear(res);
    return rc;
}

static void pg_rollback(struct db *d)
{
    struct pg_db *db = (struct pg_db *)d;
    if (PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
        (void)pg_simple(db, "ROLLBACK");
    }
    if (db->read_fence != NULL) {
        db->read_fence();
    }
}

static int pg_savepoint(struct db *d)
{
    return pg_simple((struct pg_db *)d, "SAVEPOINT cmd");
}

static void pg_savepoint_release(struct db *d)
{
    (void)pg_simple((struct pg_db *)d, "RELEASE cmd");
}

static void pg_savepoint_rollback(struct db *d)
{
    (void)pg_simple((struct pg_db *)d, "ROLLBACK TO cmd; RELEASE cmd");
}

static bool pg_in_transaction(struct db *d)
{
    return PQtransactionStatus(((struct pg_db *)d)->conn) == PQTRANS_INTRANS;
}

static int pg_exec_script(struct db *d, const char *sql, char *err, size_t err_len)
{
    struct pg_db *db = (struct pg_db *)d;
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType s = PQresultStatus(res);
    int rc =
        s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY ? 0 : -KM_EINTERNAL;
    if (rc != 0) {
        snprintf(err, err_len, "%s", PQresultErrorMessage(res));
    }
    PQclear(res);
    return rc;
}

static struct pg_stmt *stmt_get(struct pg_db *db, const char *sql)
{
    unsigned i = db_sql_slot(sql, PG_STMT_SLOTS);
    while (db->slot[i] != 0) {
        struct pg_stmt *st = &db->stmts[db->slot[i] - 1];
        if (st->sql == sql) {
            return st;
        }
        i = (i + 1) & (PG_STMT_SLOTS - 1);
    }
    km_assert(db->stmt_count < PG_STMT_CACHE_MAX);
    struct pg_stmt *st = &db->stmts[db->stmt_count];
    st->base.db = &db->base;
    st->db = db;
    st->sql = sql;
    st->row = -1;
    snprintf(st->name, sizeof st->name, "km%d", db->stmt_count);
    db->stmt_count++;
    db->slot[i] = (short)db->stmt_count;
    return st;
}

/* Prepared on first use, with the parameter types the first binding gives ('n' leaves a type
 * for the server to infer). */
static bool stmt_prepare(struct pg_stmt *st)
{
    PGresult *res = PQprepare(st->db->conn, st->name, st->sql, st->nparams, st->types);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) {
        pg_log(st->db, st->sql, res);
    }
    PQclear(res);
    st->prepared = ok;
    return ok;
}

/* Whether s is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
 * PostgreSQL refuses any other text as an error that aborts the transaction, where SQLite keeps
 * the bytes and compares them. */
static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != 0) {
        unsigned c = *p;
        int more = c < 0x80             ? 0
                   : (c & 0xE0) == 0xC0 ? 1
                   : (c & 0xF0) == 0xE0 ? 2
                   : (c & 0xF8) == 0xF0 ? 3
                                        : -1;
        if (more < 0 || (more == 1 && c < 0xC2) || c > 0xF4) {
            return false;
        }
        unsigned cp = more == 0 ? c : c & (0x3Fu >> more);
        for (int k = 1; k <= more; k++) {
            if ((p[k] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[k] & 0x3Fu);
        }
        if ((more == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (more == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
            return false;
        }
        p += more + 1;
    }
    return true;
}

static struct db_stmt *pg_query(struct db *d, const char *sql, const char *fmt, va_list ap)
{
    struct pg_db *db = (struct pg_db *)d;
    struct pg_stmt *st = stmt_get(db, sql);
    stmt_clear(st);
    int n = 0;
    for (; fmt[n] != '\0'; n++) {
        km_assert(n < PG_PARAMS_MAX);
        st->formats[n] = 0;
        st->lengths[n] = 0;
        Oid type = 0;
        switch (fmt[n]) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            type = PG_OID_TEXT;
            if (s != NULL && !utf8_valid(s)) {
                st->matches_nothing = true; /* no stored text equals it: it was all checked */
            }
            if (s != NULL) {
                st->texts[n] = strdup(s);
                km_assert(st->texts[n] != NULL);
            }
            st->values[n] = st->texts[n];
            break;
        }
        case 'i':
            type = PG_OID_INT8;
            snprintf(st->ints[n], sizeof st->ints[n], "%lld", (long long)va_arg(ap, int64_t));
            st->values[n] = st->ints[n];
            break;
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t len = va_arg(ap, size_t);
            type = PG_OID_BYTEA;
            st->texts[n] = malloc(len > 0 ? len : 1);
            km_assert(st->texts[n] != NULL && len <= INT32_MAX);
            if (len > 0) {
                memcpy(st->texts[n], p, len);
            }
            st->values[n] = st->texts[n];
            st->lengths[n] = (int)len;
            st->formats[n] = 1; /* binary: the bytes themselves */
            break;
        }
        case 'n':
            st->values[n] = NULL;
            break;
        default:
            km_assert(!"known bind format");
        }
        if (!st->prepared) {
            st->types[n] = type;
        }
    }
    if (!st->prepared) {
        st->nparams = n;
    }
    km_assert(n == st->nparams); /* one SQL text, one list of parameters */
    return &st->base;
}

static int64_t command_rows(PGresult *res)
{
    const char *t = PQcmdTuples(res);
    return t[0] != '\0' ? strtoll(t, NULL, 10) : 0;
}

/* Runs the statement (prepared first where this session has not seen it) into st->res. */
static void stmt_exec(struct pg_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    if (!st->prepared && !stmt_prepare(st)) {
        return; /* a NULL result reads as PGRES_FATAL_ERROR */
    }
    st->res = PQexecPrepared(st->db->conn, st->name, st->nparams, st->values, st->lengths,
                             st->formats, 0);
}

static int pg_step(struct db_stmt *s)
{
    struct pg_stmt *st = (struct pg_stmt *)s;
    struct pg_db *db = st->db;
    if (!st->ran && st->matches_nothing) {
        /* A lookup finds nothing, as on SQLite. A write is refused without asking the server
         * (the API refuses such text long before; SQLite would store the bytes). */
        st->ran = true;
        if (strncmp(st->sql, "SELECT", 6) != 0) {
            log_write(LOG_ERROR, "db_error", "op", st->sql, "message", "text is not UTF-8", NULL);
            return -KM_EINTERNAL;
        }
        return DB_DONE;
    }
    if (!st->ran) {
        st->ran = true;
        st->row = -1;
        /* Outside a transaction (an API key looked up, say) nothing else would notice a lost
         * connection: it is opened again here, and a lookup it failed is asked once more. */
        PGTransactionStatusType tx = PQtransactionStatus(db->conn);
        bool outside = tx != PQTRANS_INTRANS && tx != PQTRANS_INERROR;
        if (outside) {
            pg_reconnect_if_lost(db);
        }
        stmt_exec(st);
        if (outside && PQstatus(db->conn) != CONNECTION_OK && strncmp(st->sql, "SELECT", 6) == 0) {
            pg_reconnect_if_lost(db);
            stmt_exec(st);
        }
        ExecStatusType status = PQresultStatus(st->res);
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            const char *state = PQresultErrorField(st->res, PG_DIAG_SQLSTATE);
            if (state != NULL && strcmp(state, "23505") == 0) {
                return -KM_EDUPLICATE; /* unique_violation */
            }
            pg_log(db, st->sql, st->res);
            if (state != NULL && strcmp(state, "26000") == 0) {
                st->prepared = false; /* the server forgot it: prepared again next time */
            }
            return -KM_EINTERNAL;
        }
        const char *verb = PQcmdStatus(st->res);
        if (strncmp(verb, "INSERT", 6) == 0 || strncmp(verb, "UPDATE", 6) == 0 ||
            strncmp(verb, "DELETE", 6) == 0) {
            db->changes = command_rows(st->res);
            db->total_changes += db->changes;
        }
    }
    stmt_clear_row(st);
    if (st->row + 1 < PQntuples(st->res)) {
        st->row++;
        return DB_ROW;
    }
    st->row = PQntuples(st->res);
    return DB_DONE;
}

static void pg_done(struct db_stmt *s)
{
    stmt_clear((struct pg_stmt *)s);
}

static bool pg_is_null(struct db_stmt *s, int col)
{
    struct pg_stmt *st = (struct pg_stmt *)s;
    return st->res == NULL || st->row < 0 || st->row >= PQntuples(st->res) ||
           PQgetisnull(st->res, st->row, col);
}

static int64_t pg_int(struct db_stmt *s, int col)
{
    struct pg_stmt *st = (struct pg_stmt *)s;
    if (pg_is_null(s, col)) {
        return 0;
    }
    const char *t = PQgetvalue(st->res, st->row, col);
    if (t[0] == 't' && t[1] == '\0') {
        return 1; /* a boolean expression, which SQLite gives as 1 or 0 */
    }
    return strtoll(t, NULL, 10);
}

static const char *pg_text(struct db_stmt *s, int col)
{
    struct pg_stmt *st = (struct pg_stmt *)s;
    return pg_is_null(s, col) ? "" : PQgetvalue(st->res, st->row, col);
}

static size_t pg_bytes(struct db_stmt *s, int col)
{
    struct pg_stmt *st = (struct pg_stmt *)s;
    return pg_is_null(s, col) ? 0 : (size_t)PQgetlength(st->res, st->row, col);
}

static const void *pg_blob(struct db_stmt *s, int col, size_t *len)
{
    struct pg_stmt *st = (struct pg_stmt *)s;
    *len = 0;
    if (pg_is_null(s, col)) {
        return NULL;
    }
    km_assert(col < PG_COLS_MAX);
    if (st->blobs[col] == NULL) {
        st->blobs[col] = PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, col),
                                         &st->blob_len[col]);
        km_assert(st->blobs[col] != NULL);
    }
    *len = st->blob_len[col];
    return st->blobs[col];
}

static int pg_unsupported(struct pg_db *db, const char *what, const char *instead)
{
    (void)db;
    log_write(LOG_ERROR, "not_on_postgres", "op", what, "instead", instead, NULL);
    return -KM_ESTATE;
}

static int pg_backup_to(struct db *d, const char *path)
{
    (void)path;
    return pg_unsupported((struct pg_db *)d, "backup",
                          "pg_dump and pg_restore (README, PostgreSQL)");
}

static int pg_integrity_check(struct db *d, char *msg, size_t msg_len)
{
    snprintf(msg, msg_len, "integrity checks are PostgreSQL's own (amcheck, pg_amcheck)");
    return pg_unsupported((struct pg_db *)d, "integrity_check", "pg_amcheck");
}

static int pg_checkpoint_truncate(struct db *d)
{
    (void)d;
    return 0;
}

static int pg_watch_rows(struct db *d, const struct db_watch *tables, int count,
                         void (*changed)(void *ctx, const char *text),
                         void (*status_changed)(void *ctx, const char *text), void *ctx)
{
    (void)tables;
    (void)count;
    (void)changed;
    (void)status_changed;
    (void)ctx;
    /* Another server's writes would not be seen here: the order views are read from the
     * database itself on PostgreSQL (read_cache.c). */
    return pg_unsupported((struct pg_db *)d, "watch_rows", "no read cache");
}

static int64_t pg_changes(struct db *d)
{
    return ((struct pg_db *)d)->changes;
}

static int64_t pg_total_changes(struct db *d)
{
    return ((struct pg_db *)d)->total_changes;
}

static int pg_has_table(struct db *d, const char *name, bool *has)
{
    struct pg_db *db = (struct pg_db *)d;
    const char *values[1] = {name};
    PGresult *res = PQexecParams(db->conn, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, values,
                                 NULL, NULL, 0);
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 ? 0 : -KM_EINTERNAL;
    if (rc != 0) {
        pg_log(db, "has_table", res);
    }
    *has = rc == 0 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return rc;
}

static const struct db_ops postgres_ops = {
    .name = "postgres",
    .ping = pg_ping,
    .checkpoint = pg_checkpoint,
    .close = pg_close,
    .defer_sync = pg_defer_sync,
    .wal_sync = pg_wal_sync,
    .wal_frames = pg_wal_frames,
    .checkpoint_restart = pg_checkpoint_restart,
    .set_read_fence = pg_set_read_fence,
    .begin_read = pg_begin_read,
    .begin_write = pg_begin_write,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .savepoint = pg_savepoint,
    .savepoint_release = pg_savepoint_release,
    .savepoint_rollback = pg_savepoint_rollback,
    .in_transaction = pg_in_transaction,
    .exec_script = pg_exec_script,
    .query = pg_query,
    .step = pg_step,
    .done = pg_done,
    .col_int = pg_int,
    .col_text = pg_text,
    .col_bytes = pg_bytes,
    .col_blob = pg_blob,
    .col_is_null = pg_is_null,
    .backup_to = pg_backup_to,
    .integrity_check = pg_integrity_check,
    .checkpoint_truncate = pg_checkpoint_truncate,
    .watch_rows = pg_watch_rows,
    .changes = pg_changes,
    .total_changes = pg_total_changes,
    .has_table = pg_has_table,
};
