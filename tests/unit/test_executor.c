/* The executor's promise: a write is acknowledged only once the WAL sync that covers it is done,
 * and a reader's fence holds back anything it read from a batch not yet on disk. Batches keep
 * committing while a sync is outstanding, and every one of them is acknowledged in the end. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <stdbool.h>

#include "core/err.h"
#include "service/executor.h"
#include "store/db.h"
#include "store/store.h"
#include "temp_dir.h"

static char dir[64];
static char path[96];

static void start(void)
{
    temp_dir_make("executor", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/shop.db", dir);
    struct db *db = NULL;
    cr_assert_eq(db_open(path, true, &db), 0);
    int applied = 0;
    cr_assert_eq(store_migrate(db, &applied), 0); /* the executor watches the orders table */
    char err[256];
    cr_assert_eq(db_exec_script(db, "CREATE TABLE t(x INTEGER)", err, sizeof err), 0);
    db_close(db);
    cr_assert_eq(executor_start(path, false), 0);
}

static void finish(void)
{
    executor_stop();
    temp_dir_remove(dir);
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int insert_run(struct db *db, void *arg)
{
    (void)arg;
    return db_run(db_query(db, "INSERT INTO t(x) VALUES (1)", ""));
}

struct acked {
    struct write_cmd cmd;
    atomic_int rc;
    atomic_bool done;
};

static void acked_done(void *arg, int rc)
{
    struct acked *a = arg;
    atomic_store(&a->rc, rc);
    atomic_store(&a->done, true);
}

static void submit(struct acked *a)
{
    memset(a, 0, sizeof *a);
    a->cmd = (struct write_cmd){.run = insert_run, .done = acked_done, .arg = a};
    cr_assert_eq(executor_submit(&a->cmd), 0);
}

static int64_t rows(struct db *db)
{
    cr_assert_eq(db_begin_read(db), 0);
    struct db_stmt *st = db_query(db, "SELECT count(*) FROM t", "");
    cr_assert_eq(db_step(st), DB_ROW);
    int64_t n = db_int(st, 0);
    db_done(st);
    db_rollback(db); /* with a fence set, waits here */
    return n;
}

struct fenced_read {
    struct db *db;
    atomic_bool finished;
    int64_t seen;
};

static void *fenced_read_main(void *arg)
{
    struct fenced_read *f = arg;
    f->seen = rows(f->db);
    atomic_store(&f->finished, true);
    return NULL;
}

Test(executor, acknowledges_a_write_only_after_its_sync)
{
    start();
    executor_hold_syncs(true);
    struct acked a;
    submit(&a);
    pause_ms(200);
    cr_assert(!atomic_load(&a.done), "acknowledged before the WAL sync");

    /* The batch is committed and visible; a fenced reader sees it but does not get on. */
    struct db *reader = NULL;
    cr_assert_eq(db_open(path, false, &reader), 0);
    db_set_read_fence(reader, executor_read_fence);
    struct fenced_read f = {.db = reader};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, fenced_read_main, &f), 0);
    pause_ms(200);
    cr_assert(!atomic_load(&f.finished), "a read of an unsynced batch went through its fence");

    executor_hold_syncs(false);
    cr_assert_eq(pthread_join(t, NULL), 0);
    cr_assert_eq(f.seen, 1);
    for (int i = 0; i < 500 && !atomic_load(&a.done); i++) {
        pause_ms(10);
    }
    cr_assert(atomic_load(&a.done));
    cr_assert_eq(atomic_load(&a.rc), 0);
    struct executor_stats s;
    executor_stats_get(&s);
    cr_assert_geq(s.syncs, 1);
    db_close(reader);
    finish();
}

Test(executor, keeps_committing_while_a_sync_is_outstanding)
{
    start();
    executor_hold_syncs(true);
    enum { N = 10 }; /* fewer batches than the pipeline holds */
    struct acked *a = calloc(N, sizeof *a);
    for (int i = 0; i < N; i++) {
        submit(&a[i]);
        pause_ms(2); /* several batches, not one */
    }
    struct db *reader = NULL;
    cr_assert_eq(db_open(path, false, &reader), 0); /* no fence: sees what is committed */
    /* A busy machine may take a while to run the writer; a writer stopped by the held sync
     * never gets there at all. */
    int64_t seen = 0;
    for (int i = 0; i < 1000 && (seen = rows(reader)) < N; i++) {
        pause_ms(10);
    }
    cr_assert_eq(seen, N, "the writer stopped while no sync could run");
    for (int i = 0; i < N; i++) {
        cr_assert(!atomic_load(&a[i].done));
    }
    executor_hold_syncs(false);
    executor_stop(); /* stopping acknowledges what is committed */
    for (int i = 0; i < N; i++) {
        cr_assert(atomic_load(&a[i].done));
        cr_assert_eq(atomic_load(&a[i].rc), 0);
    }
    cr_assert_eq(rows(reader), N);
    db_close(reader);
    free(a);
    temp_dir_remove(dir);
}

Test(executor, a_fence_returns_at_once_when_nothing_waits_for_a_sync)
{
    start();
    struct acked a;
    submit(&a);
    for (int i = 0; i < 500 && !atomic_load(&a.done); i++) {
        pause_ms(10);
    }
    cr_assert(atomic_load(&a.done));
    executor_read_fence(); /* would hang the test if it waited for a sync that never comes */
    finish();
}

/* A batch of rerunnable commands runs without a savepoint for each. One that fails after
 * writing sends the whole batch back: rolled back, then run again with savepoints, so the
 * others' rows are kept once and the failed one's not at all. One that fails before writing
 * needs none of that. */
struct step {
    struct write_cmd cmd;
    int x;           /* the row it inserts */
    bool fail_after; /* fails after its insert */
    bool fail_before;
    bool guarded;                         /* not rerunnable: a savepoint of its own */
    int (*run)(struct db *db, void *arg); /* step_run unless set */
    atomic_int runs;
    atomic_int rc;
    atomic_bool done;
};

static atomic_bool gate_open;
static atomic_bool gate_entered;

static int gate_run(struct db *db, void *arg)
{
    (void)db;
    (void)arg;
    atomic_store(&gate_entered, true);
    while (!atomic_load(&gate_open)) {
        pause_ms(1); /* holds the writer while the next batch gathers */
    }
    return 0;
}

static int step_run(struct db *db, void *arg)
{
    struct step *s = arg;
    atomic_fetch_add(&s->runs, 1);
    if (s->fail_before) {
        return -KM_EINVAL;
    }
    int rc = db_run(db_query(db, "INSERT INTO t(x) VALUES ($1)", "i", (int64_t)s->x));
    return rc != 0 ? rc : s->fail_after ? -KM_EINVAL : 0;
}

static void step_done(void *arg, int rc)
{
    struct step *s = arg;
    atomic_store(&s->rc, rc);
    atomic_store(&s->done, true);
}

static int64_t rows_of(struct db *db, int x)
{
    cr_assert_eq(db_begin_read(db), 0);
    struct db_stmt *st = db_query(db, "SELECT count(*) FROM t WHERE x = $1", "i", (int64_t)x);
    cr_assert_eq(db_step(st), DB_ROW);
    int64_t n = db_int(st, 0);
    db_done(st);
    db_rollback(db);
    return n;
}

/* Runs a gate command, queues three steps behind it (so they form one batch), opens the gate
 * and waits for all to be acknowledged; returns the reruns counted meanwhile. */
static long long run_three(struct step st[3])
{
    struct executor_stats before, after;
    executor_stats_get(&before);
    atomic_store(&gate_open, false);
    atomic_store(&gate_entered, false);
    struct acked gate = {0};
    gate.cmd = (struct write_cmd){.run = gate_run, .done = acked_done, .arg = &gate};
    cr_assert_eq(executor_submit(&gate.cmd), 0);
    /* The steps must queue while the writer is inside the gate, however slow the machine. */
    for (int k = 0; k < 5000 && !atomic_load(&gate_entered); k++) {
        pause_ms(1);
    }
    cr_assert(atomic_load(&gate_entered), "the writer took the gate command");
    for (int i = 0; i < 3; i++) {
        st[i].cmd = (struct write_cmd){.run = st[i].run != NULL ? st[i].run : step_run,
                                       .done = step_done,
                                       .arg = &st[i],
                                       .rerunnable = !st[i].guarded};
        cr_assert_eq(executor_submit(&st[i].cmd), 0);
    }
    atomic_store(&gate_open, true);
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 500 && !atomic_load(&st[i].done); k++) {
            pause_ms(10);
        }
        cr_assert(atomic_load(&st[i].done));
    }
    executor_stats_get(&after);
    return after.reruns - before.reruns;
}

Test(executor, a_rerunnable_batch_with_a_command_failing_after_writing_runs_again)
{
    start();
    struct step st[3] = {{.x = 1}, {.x = 2, .fail_after = true}, {.x = 3}};
    cr_assert_eq(run_three(st), 1);
    cr_assert_eq(atomic_load(&st[0].rc), 0);
    cr_assert_lt(atomic_load(&st[1].rc), 0);
    cr_assert_eq(atomic_load(&st[2].rc), 0);
    cr_assert_eq(atomic_load(&st[0].runs), 2, "run unguarded, then again");
    cr_assert_eq(atomic_load(&st[1].runs), 2);
    cr_assert_eq(atomic_load(&st[2].runs), 1, "the unguarded run stopped at the failure");
    struct db *reader = NULL;
    cr_assert_eq(db_open(path, false, &reader), 0);
    cr_assert_eq(rows_of(reader, 1), 1, "kept once, though it ran twice");
    cr_assert_eq(rows_of(reader, 2), 0, "nothing of the failed command");
    cr_assert_eq(rows_of(reader, 3), 1);
    db_close(reader);
    finish();
}

Test(executor, a_rerunnable_command_failing_before_writing_costs_no_rerun)
{
    start();
    struct step st[3] = {{.x = 1}, {.x = 2, .fail_before = true}, {.x = 3}};
    cr_assert_eq(run_three(st), 0);
    cr_assert_lt(atomic_load(&st[1].rc), 0);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(atomic_load(&st[i].runs), 1);
    }
    struct db *reader = NULL;
    cr_assert_eq(db_open(path, false, &reader), 0);
    cr_assert_eq(rows_of(reader, 1), 1);
    cr_assert_eq(rows_of(reader, 3), 1);
    db_close(reader);
    finish();
}

/* SQLite ends a transaction by itself after some errors (a full disk, an I/O error). No command
 * after that may run: the next one's SAVEPOINT would open a transaction of its own and commit
 * it on RELEASE, and the batch is reported failed all the same. A command that ends the
 * transaction plays the error here. */
static int end_transaction_run(struct db *db, void *arg)
{
    struct step *s = arg;
    atomic_fetch_add(&s->runs, 1);
    char err[128];
    cr_assert_eq(db_exec_script(db, "ROLLBACK", err, sizeof err), 0);
    return 0;
}

static void transaction_ended_mid_batch(bool rerunnable)
{
    start();
    struct step st[3] = {{.x = 1, .guarded = !rerunnable},
                         {.x = 2, .guarded = !rerunnable, .run = end_transaction_run},
                         {.x = 3, .guarded = !rerunnable}};
    (void)run_three(st);
    for (int i = 0; i < 3; i++) {
        cr_assert_lt(atomic_load(&st[i].rc), 0, "command %d of a batch that was lost", i);
    }
    struct db *reader = NULL;
    cr_assert_eq(db_open(path, false, &reader), 0);
    cr_assert_eq(rows_of(reader, 1), 0);
    cr_assert_eq(rows_of(reader, 3), 0, "a command after the end committed on its own");
    db_close(reader);
    finish();
}

Test(executor, no_command_runs_after_the_transaction_ended_under_the_batch)
{
    transaction_ended_mid_batch(false);
}

Test(executor, no_command_runs_after_the_transaction_ended_under_an_unguarded_batch)
{
    transaction_ended_mid_batch(true);
}

/* The writer restarts the WAL itself, since under steady writes nobody else finds a moment to:
 * the file stops growing, and a reader of an older snapshot only makes it wait and try again. */
static int insert_blob_run(struct db *db, void *arg)
{
    (void)arg;
    static const char blob[3000];
    return db_run(db_query(db, "INSERT INTO t(x) VALUES ($1)", "b", blob, sizeof blob));
}

static long long file_size(const char *p)
{
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long long n = ftell(f);
    fclose(f);
    return n;
}

Test(executor, restarting_the_wal_keeps_it_from_growing)
{
    start();
    executor_stop(); /* drive the writer's connection by hand */
    struct db *w = NULL;
    cr_assert_eq(db_open(path, true, &w), 0);
    cr_assert_eq(db_defer_sync(w), 0);
    char wal[128];
    snprintf(wal, sizeof wal, "%s-wal", path);
    long long first = 0;
    for (int round = 0; round < 20; round++) {
        cr_assert_eq(db_begin_write(w), 0);
        for (int i = 0; i < 200; i++) {
            cr_assert_eq(insert_blob_run(w, NULL), 0);
        }
        cr_assert_eq(db_commit(w), 0);
        cr_assert_gt(db_wal_frames(w), 100, "the WAL hook counts the frames");
        cr_assert_eq(db_checkpoint_restart(w, 5), 0);
        cr_assert_eq(db_wal_frames(w), 0);
        if (round == 0) {
            first = file_size(wal);
        }
    }
    /* Twenty rounds of ~600 KB each: the next commit wrote over the old frames every time. */
    cr_assert_leq(file_size(wal), first + 64 * 1024, "the WAL grew to %lld from %lld",
                  file_size(wal), first);

    /* A reader in the middle of an older snapshot: the restart gives up after the wait. */
    struct db *r = NULL;
    cr_assert_eq(db_open(path, false, &r), 0);
    cr_assert_eq(db_begin_write(w), 0);
    cr_assert_eq(insert_blob_run(w, NULL), 0);
    cr_assert_eq(db_commit(w), 0);
    cr_assert_eq(db_begin_read(r), 0);
    struct db_stmt *st = db_query(r, "SELECT count(*) FROM t", "");
    cr_assert_eq(db_step(st), DB_ROW);
    int64_t seen = db_int(st, 0);
    db_done(st);
    cr_assert_eq(db_begin_write(w), 0);
    cr_assert_eq(insert_blob_run(w, NULL), 0);
    cr_assert_eq(db_commit(w), 0);
    cr_assert_eq(db_checkpoint_restart(w, 5), -KM_EBUSY);
    st = db_query(r, "SELECT count(*) FROM t", "");
    cr_assert_eq(db_step(st), DB_ROW);
    cr_assert_eq(db_int(st, 0), seen, "the reader's snapshot held");
    db_done(st);
    db_rollback(r);
    cr_assert_eq(db_checkpoint_restart(w, 5), 0, "once the reader is done");
    db_close(r);
    db_close(w);
    temp_dir_remove(dir);
}

/* A restarted WAL's new header must reach the disk before frames are written after it, or a power
 * cut could leave the old header with new frames half over old ones, and recovery would replay
 * old frames over newer pages. A VFS shim watches the writer's WAL file. */
struct watched {
    sqlite3_file base;
    sqlite3_file *real;
};
static sqlite3_vfs *unix_vfs;
static sqlite3_io_methods watched_methods;
static int header_writes, frames_after_unsynced_header;
static bool header_unsynced;

static int w_close(sqlite3_file *f)
{
    struct watched *w = (struct watched *)f;
    int rc = w->real->pMethods->xClose(w->real);
    return rc;
}
static int w_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    struct watched *w = (struct watched *)f;
    return w->real->pMethods->xRead(w->real, p, n, off);
}
static int w_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    struct watched *w = (struct watched *)f;
    if (off == 0) {
        header_writes++;
        header_unsynced = true;
    } else if (header_unsynced) {
        frames_after_unsynced_header++;
    }
    return w->real->pMethods->xWrite(w->real, p, n, off);
}
static int w_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return ((struct watched *)f)->real->pMethods->xTruncate(((struct watched *)f)->real, size);
}
static int w_sync(sqlite3_file *f, int flags)
{
    struct watched *w = (struct watched *)f;
    header_unsynced = false;
    return w->real->pMethods->xSync(w->real, flags);
}
static int w_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return ((struct watched *)f)->real->pMethods->xFileSize(((struct watched *)f)->real, size);
}
static int w_lock(sqlite3_file *f, int l)
{
    return ((struct watched *)f)->real->pMethods->xLock(((struct watched *)f)->real, l);
}
static int w_unlock(sqlite3_file *f, int l)
{
    return ((struct watched *)f)->real->pMethods->xUnlock(((struct watched *)f)->real, l);
}
static int w_reserved(sqlite3_file *f, int *out)
{
    return ((struct watched *)f)
        ->real->pMethods->xCheckReservedLock(((struct watched *)f)->real, out);
}
static int w_fcntl(sqlite3_file *f, int op, void *arg)
{
    return ((struct watched *)f)
        ->real->pMethods->xFileControl(((struct watched *)f)->real, op, arg);
}
static int w_sector(sqlite3_file *f)
{
    return ((struct watched *)f)->real->pMethods->xSectorSize(((struct watched *)f)->real);
}
static int w_caps(sqlite3_file *f)
{
    return ((struct watched *)f)
        ->real->pMethods->xDeviceCharacteristics(((struct watched *)f)->real);
}

static int shim_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
                     int *out_flags)
{
    (void)vfs;
    if ((flags & SQLITE_OPEN_WAL) == 0) {
        return unix_vfs->xOpen(unix_vfs, name, f, flags, out_flags);
    }
    struct watched *w = (struct watched *)f;
    w->real = (sqlite3_file *)(w + 1);
    int rc = unix_vfs->xOpen(unix_vfs, name, w->real, flags, out_flags);
    w->base.pMethods = rc == SQLITE_OK ? &watched_methods : NULL;
    return rc;
}

Test(executor, a_restarted_wal_header_is_synced_before_frames_follow_it)
{
    unix_vfs = sqlite3_vfs_find("unix");
    cr_assert_not_null(unix_vfs);
    watched_methods = (sqlite3_io_methods){.iVersion = 1,
                                           .xClose = w_close,
                                           .xRead = w_read,
                                           .xWrite = w_write,
                                           .xTruncate = w_truncate,
                                           .xSync = w_sync,
                                           .xFileSize = w_size,
                                           .xLock = w_lock,
                                           .xUnlock = w_unlock,
                                           .xCheckReservedLock = w_reserved,
                                           .xFileControl = w_fcntl,
                                           .xSectorSize = w_sector,
                                           .xDeviceCharacteristics = w_caps};
    static sqlite3_vfs shim;
    shim = *unix_vfs;
    shim.zName = "watch-wal";
    shim.szOsFile = (int)sizeof(struct watched) + unix_vfs->szOsFile;
    shim.xOpen = shim_open;
    cr_assert_eq(sqlite3_vfs_register(&shim, 1), SQLITE_OK); /* the default from here */

    start();
    executor_stop();
    struct db *w = NULL;
    cr_assert_eq(db_open(path, true, &w), 0);
    cr_assert_eq(db_defer_sync(w), 0);
    for (int round = 0; round < 5; round++) {
        cr_assert_eq(db_begin_write(w), 0);
        for (int i = 0; i < 50; i++) {
            cr_assert_eq(insert_blob_run(w, NULL), 0);
        }
        cr_assert_eq(db_commit(w), 0);
        cr_assert_eq(db_checkpoint_restart(w, 5), 0);
    }
    cr_assert_geq(header_writes, 4, "each commit after a restart writes a new WAL header");
    cr_assert_eq(frames_after_unsynced_header, 0,
                 "frames were written after a WAL header that was not synced");
    db_close(w);
    temp_dir_remove(dir);
}

static void fence_released(void *arg)
{
    atomic_store((atomic_bool *)arg, true);
}

/* The HTTP shell's fence: no thread waits, the answer is released by the sync that covers it. */
Test(executor, an_async_fence_is_released_by_the_sync_that_covers_it)
{
    start();
    struct fence_wait idle;
    atomic_bool never = false;
    cr_assert(executor_all_durable());
    cr_assert(!executor_fence_async(&idle, fence_released, &never), "nothing to wait for");
    executor_hold_syncs(true);
    struct acked a;
    submit(&a);
    for (int i = 0; i < 5000 && executor_all_durable(); i++) {
        pause_ms(2); /* until the writer has committed it */
    }
    cr_assert(!executor_all_durable());
    struct fence_wait w;
    atomic_bool released = false;
    cr_assert(executor_fence_async(&w, fence_released, &released));
    pause_ms(100);
    cr_assert(!atomic_load(&released), "released before the sync");
    executor_hold_syncs(false);
    for (int i = 0; i < 5000 && !atomic_load(&released); i++) {
        pause_ms(2);
    }
    cr_assert(atomic_load(&released));
    cr_assert(executor_all_durable());
    cr_assert(!atomic_load(&never));
    finish();
}

static int change_nothing_run(struct db *db, void *arg)
{
    (void)arg;
    return db_run(db_query(db, "UPDATE t SET x = 2 WHERE x = -1", "")); /* matches no row */
}

/* A batch that changed no row wrote nothing to the WAL: no read waits for it (the timers commit
 * such batches on every idle pass), but its commands are still answered only after a sync. */
Test(executor, a_batch_that_changed_nothing_holds_no_read_back)
{
    start();
    executor_hold_syncs(true);
    struct acked a;
    memset(&a, 0, sizeof a);
    a.cmd = (struct write_cmd){.run = change_nothing_run, .done = acked_done, .arg = &a};
    cr_assert_eq(executor_submit(&a.cmd), 0);
    struct executor_stats s = {0};
    for (int i = 0; i < 5000 && s.batches == 0; i++) {
        pause_ms(2);
        executor_stats_get(&s);
    }
    cr_assert_eq(s.batches, 1, "the writer committed the batch");
    cr_assert(executor_all_durable(), "a read would wait for a batch that wrote nothing");
    pause_ms(50);
    cr_assert(!atomic_load(&a.done), "answered before a sync");
    executor_hold_syncs(false);
    for (int i = 0; i < 5000 && !atomic_load(&a.done); i++) {
        pause_ms(2);
    }
    cr_assert(atomic_load(&a.done));
    cr_assert_eq(atomic_load(&a.rc), 0);
    finish();
}

static int logged_insert_run(struct db *db, void *arg)
{
    (void)arg;
    executor_log(LOG_WARN, "kept_line", "what", "an insert that stays", NULL);
    return db_run(db_query(db, "INSERT INTO t(x) VALUES (3)", ""));
}

static int logged_refusal_run(struct db *db, void *arg)
{
    (void)arg;
    int rc = db_run(db_query(db, "INSERT INTO t(x) VALUES (4)", ""));
    executor_log(LOG_WARN, "dropped_line", "what", "an insert rolled back", NULL);
    return rc != 0 ? rc : -KM_EINVAL;
}

/* Whether stderr, sent to the file at fd, holds the text so far. */
static bool logged(int fd, const char *text)
{
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return strstr(buf, text) != NULL;
}

/* A command's log line tells of what the database holds: it is written once the batch is
 * durable, before the command is answered, and never for a command that was rolled back. */
Test(executor, a_commands_log_line_waits_for_its_sync_and_goes_with_a_rollback)
{
    start();
    char log_path[128];
    snprintf(log_path, sizeof log_path, "%s/stderr.log", dir);
    int fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(fd, 0);
    int saved = dup(STDERR_FILENO);
    cr_assert_geq(dup2(fd, STDERR_FILENO), 0);

    executor_hold_syncs(true);
    struct acked kept, refused;
    memset(&kept, 0, sizeof kept);
    memset(&refused, 0, sizeof refused);
    kept.cmd = (struct write_cmd){.run = logged_insert_run, .done = acked_done, .arg = &kept};
    refused.cmd =
        (struct write_cmd){.run = logged_refusal_run, .done = acked_done, .arg = &refused};
    cr_assert_eq(executor_submit(&kept.cmd), 0);
    cr_assert_eq(executor_submit(&refused.cmd), 0);
    struct executor_stats s = {0};
    for (int i = 0; i < 5000 && s.commands < 2; i++) {
        pause_ms(2);
        executor_stats_get(&s);
    }
    cr_assert_eq(s.commands, 2, "the writer ran both commands");
    bool early = logged(fd, "kept_line");
    executor_hold_syncs(false);
    for (int i = 0; i < 5000 && !atomic_load(&refused.done); i++) {
        pause_ms(2);
    }
    bool at_answer = logged(fd, "kept_line");
    bool dropped = !logged(fd, "dropped_line");
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);

    cr_assert(!early, "the line was written before the batch was durable");
    cr_assert(atomic_load(&kept.done) && atomic_load(&refused.done));
    cr_assert_eq(atomic_load(&kept.rc), 0);
    cr_assert_eq(atomic_load(&refused.rc), -KM_EINVAL);
    cr_assert(at_answer, "the command was answered before its line was written");
    cr_assert(dropped, "a rolled-back command's line was written");
    finish();
}
