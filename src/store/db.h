/* The narrow database interface the store modules are written against. SQL is portable
 * ($1-style placeholders, standard types), so SQLite (db_sqlite.c) and PostgreSQL
 * (db_postgres.c) implement the same calls; db.c hands each to the backend of the connection.
 * A connection belongs to one thread at a time. */
#ifndef KM_DB_H
#define KM_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/check.h"

struct db;
struct db_stmt;

enum db_step_result { DB_DONE = 0, DB_ROW = 1 };

/* Once, before any connection: process-wide settings (no allocation statistics, whose global
 * lock every reader thread would otherwise take on each malloc). */
void db_global_init(void);

/* Whether the database answers at all (health checks). */
KM_MUST_USE int db_ping(struct db *db);

/* Checkpoint the WAL into the database as far as readers allow, without blocking anyone. Run
 * off the writer thread, so commits never pay for it. Sets *copied to the WAL frames that are in
 * the database now (0 when it could not run). */
KM_MUST_USE int db_checkpoint(struct db *db, int64_t *copied);

/* Whether path names a PostgreSQL database (a postgresql:// or postgres:// URL) rather than a
 * SQLite file. */
bool db_is_postgres(const char *path);

/* Open the database at path: a SQLite file (created if needed; a writer connection sets WAL
 * and synchronous=FULL, readers are read-only WAL connections) or a PostgreSQL URL. */
KM_MUST_USE int db_open(const char *path, bool writer, struct db **out);
/* "sqlite" or "postgres". */
const char *db_backend_name(struct db *db);
/* Whether the schema has a table of that name. */
KM_MUST_USE int db_has_table(struct db *db, const char *name, bool *has);
void db_close(struct db *db);

/* Commits on this writer connection no longer wait for the disk: they reach the WAL (and other
 * connections see them) at once, and db_wal_sync makes every commit so far durable. The caller
 * must not call a write done before that. Checkpoints still sync (the WAL before copying, the
 * database before the WAL is reused), and so does the header of a restarted WAL. */
KM_MUST_USE int db_defer_sync(struct db *db);
/* fdatasync the WAL of a db_defer_sync connection: every commit before the call is durable
 * after it. Safe from another thread while the connection's owner goes on writing. */
KM_MUST_USE int db_wal_sync(struct db *db);

/* Frames in the WAL after this connection's last commit (kept by a WAL hook). */
int64_t db_wal_frames(struct db *db);
/* Writes to the WAL by every writer connection so far: asked for by the engine, and made to the
 * file system (the writer's are gathered, a commit's frames into one). */
void db_wal_write_stats(long long *asked, long long *made);
/* On the writer, between transactions: copy the whole WAL into the database, syncing both, and
 * make the next commit start the WAL from its beginning. Waits at most wait_ms for readers of
 * older snapshots (and a running checkpoint); -KM_EBUSY if they are still there. */
KM_MUST_USE int db_checkpoint_restart(struct db *db, int wait_ms);

/* fence is called at the end of every read transaction on this read-only connection (by
 * db_rollback), before its owner acts on what it read: with deferred syncs, it waits until
 * everything the read could see is durable. For connections whose reads reach the outside. */
void db_set_read_fence(struct db *db, void (*fence)(void));

/* Transactions. begin_write takes the write lock at once (BEGIN IMMEDIATE). */
KM_MUST_USE int db_begin_read(struct db *db);
KM_MUST_USE int db_begin_write(struct db *db);
KM_MUST_USE int db_commit(struct db *db);
void db_rollback(struct db *db);
KM_MUST_USE int db_savepoint(struct db *db);
void db_savepoint_release(struct db *db);
void db_savepoint_rollback(struct db *db);
/* Whether a transaction is open: SQLite ends one by itself after some errors (a full disk, an
 * I/O error, no memory), and the statements after would then each commit on their own. */
bool db_in_transaction(struct db *db);

/* Run a script of several statements (migrations). */
KM_MUST_USE int db_exec_script(struct db *db, const char *sql, char *err, size_t err_len);

/* A prepared statement for sql, cached on the connection by the sql pointer: pass string
 * literals. Binds use the format: 's' text (NULL binds NULL), 'i' int64, 'b' blob (pointer then
 * size_t length), 'n' NULL. $1.. take the arguments in order. The statement is ready to step. */
struct db_stmt *db_query(struct db *db, const char *sql, const char *fmt, ...);

/* DB_ROW, DB_DONE, or -KM_EDUPLICATE on a uniqueness violation, -KM_EINTERNAL otherwise. */
KM_MUST_USE int db_step(struct db_stmt *st);
/* What a single-row lookup's step means to a caller: 0 for a row, -KM_ENOTFOUND for none, the
 * error otherwise. */
KM_MUST_USE int db_found(int step_rc);

/* Step a statement that returns no rows, then reset it. 0 or a negative code. */
KM_MUST_USE int db_run(struct db_stmt *st);
/* db_run for a write guarded by its WHERE that must change exactly one row: -KM_ESTATE when it
 * changed none (the row was not in the state the guard names). */
KM_MUST_USE int db_run_one(struct db_stmt *st);
/* Reset after use; an un-reset statement pins the WAL. */
void db_done(struct db_stmt *st);

int64_t db_int(struct db_stmt *st, int col);
/* Text column, "" for NULL; valid until the next step or db_done. */
const char *db_text(struct db_stmt *st, int col);
const void *db_blob(struct db_stmt *st, int col, size_t *len);
bool db_is_null(struct db_stmt *st, int col);
/* Copy a text column into buf (truncating, always NUL-terminated). */
void db_text_copy(struct db_stmt *st, int col, char *buf, size_t buf_len);

/* A consistent copy of the whole database in a new file (online: readers and the writer go on). */
KM_MUST_USE int db_backup_to(struct db *db, const char *path);
/* PRAGMA integrity_check: 0 when the file is sound; otherwise -KM_EINTERNAL with SQLite's first
 * complaint in msg. */
KM_MUST_USE int db_integrity_check(struct db *db, char *msg, size_t msg_len);
/* Copy everything the WAL holds into the database file and empty the WAL, so that the file alone
 * is the whole database (before it is moved aside). */
KM_MUST_USE int db_checkpoint_truncate(struct db *db);

/* A table whose row changes a connection reports (db_watch_rows), by the text of one column. */
struct db_watch {
    const char *table;
    const char *column;        /* told before and after each change of a row */
    const char *status_column; /* or NULL: when an update changes it, the row's column is told to
                                  status_changed too */
    bool inserts_only;         /* rows written once: their later updates are not told */
};

/* Reports the rows this connection changes in the watched tables, as it changes them:
 * changed(ctx, text) with the watched column's text in the row before the change (updates,
 * deletes) and after it (inserts, updates; only if it differs), NULLs left out; and
 * status_changed(ctx, text) with the row's column text when an update changes the status column
 * (NULL and a value differ; two NULLs do not). Changes that a savepoint or the transaction later
 * rolls back are told too. The text lives only for the call. Replaces the watch before. */
KM_MUST_USE int db_watch_rows(struct db *db, const struct db_watch *tables, int count,
                              void (*changed)(void *ctx, const char *text),
                              void (*status_changed)(void *ctx, const char *text), void *ctx);

/* Rows changed by the last statement. */
int64_t db_changes(struct db *db);
/* Rows changed on this connection since it opened (rolled-back changes included). */
int64_t db_total_changes(struct db *db);

#endif
