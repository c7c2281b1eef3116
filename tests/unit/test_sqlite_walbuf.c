/* The WAL write buffer gathers a commit's frames into a few writes. What must hold with it:
 * another connection (on SQLite's own VFS) sees every commit as soon as it returns, with
 * nothing torn; transactions that spill pages to the WAL before their commit, rewrite those
 * frames in place, or roll back leave exactly the committed rows and a database SQLite itself
 * checks as sound; and a process killed with SIGKILL right after a commit returned leaves that
 * commit in the WAL for the next process, because the buffer never outlives the commit. Below
 * SQLite, frame by frame: what waits and what each call writes; a long transaction goes out in
 * pieces no larger than one unix VFS write; a write that fails at the commit frame fails that
 * write, and one that fails at the barrier before the wal-index header stops the process. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/limits.h"
#include "store/sqlite_walbuf.h"

#include "raw_sqlite.h"
#include "temp_dir.h"

static void integrity_ok(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
}

static void temp_db(char *dir, size_t dir_len, char *path, size_t path_len)
{
    temp_dir_make("walbuf", dir, dir_len);
    snprintf(path, path_len, "%s/t.db", dir);
}

/* The writer as kameng opens it: through the buffer, WAL, commits that do not sync. */
static sqlite3 *open_writer(const char *path, const char *pragmas)
{
    cr_assert_eq(sqlite_walbuf_install(), 0);
    sqlite3 *db = NULL;
    cr_assert_eq(
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, SQLITE_WALBUF_VFS),
        SQLITE_OK);
    raw_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0");
    raw_exec(db, pragmas);
    raw_exec(db, "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, k TEXT UNIQUE, v BLOB)");
    return db;
}

static sqlite3 *open_reader(const char *path)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

static void insert_rows(sqlite3 *db, int from, int n)
{
    sqlite3_stmt *ins = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO t(id, k, v) VALUES (?1, ?2, randomblob(?3))",
                                    -1, &ins, NULL),
                 SQLITE_OK);
    char key[32];
    for (int i = from; i < from + n; i++) {
        snprintf(key, sizeof key, "k%08x", (unsigned)i * 2654435761u); /* spread over the index */
        sqlite3_bind_int(ins, 1, i);
        sqlite3_bind_text(ins, 2, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(ins, 3, 300 + i % 500);
        cr_assert_eq(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
}

Test(sqlite_walbuf, every_commit_is_seen_by_another_connection_at_once)
{
    char dir[64], path[96];
    temp_db(dir, sizeof dir, path, sizeof path);
    sqlite3 *w = open_writer(path, "PRAGMA cache_size=-16384");
    sqlite3 *r = open_reader(path);
    long long asked0, made0;
    sqlite_walbuf_stats(&asked0, &made0);
    int rows = 0;
    for (int round = 0; round < 40; round++) {
        raw_exec(w, "BEGIN IMMEDIATE");
        insert_rows(w, rows, 60); /* ~10 pages of rows and index each commit */
        raw_exec(w, "COMMIT");
        rows += 60;
        /* The reader's next transaction starts at the commit that just returned. */
        cr_assert_eq(raw_scalar(r, "SELECT count(*) FROM t"), rows);
        const char *last = "SELECT sum(length(v)) FROM t WHERE id >= (SELECT max(id) - 59 FROM t)";
        cr_assert_eq(raw_scalar(r, last), raw_scalar(w, last));
    }
    long long asked, made;
    sqlite_walbuf_stats(&asked, &made);
    /* Two writes a frame asked for, a handful made per commit. */
    cr_assert_gt(asked - asked0, 40 * 2 * 8, "asked %lld", asked - asked0);
    cr_assert_lt((made - made0) * 6, asked - asked0, "made %lld of %lld", made - made0,
                 asked - asked0);
    sqlite3_close(r);
    sqlite3_close(w);
    temp_dir_remove(dir);
}

Test(sqlite_walbuf, spilled_rewritten_and_rolled_back_frames_leave_the_committed_rows)
{
    char dir[64], path[96];
    temp_db(dir, sizeof dir, path, sizeof path);
    /* A cache of 20 pages: every transaction below spills frames to the WAL before its commit,
     * and rewrites spilled pages again before it ends. */
    sqlite3 *w = open_writer(path, "PRAGMA cache_size=20; PRAGMA cache_spill=ON");
    sqlite3 *r = open_reader(path);
    int rows = 0;
    for (int round = 0; round < 12; round++) {
        raw_exec(w, "BEGIN IMMEDIATE");
        insert_rows(w, 100000 + round * 400, 400);
        raw_exec(w, "UPDATE t SET v = randomblob(350) WHERE id >= 100000");
        if (round % 3 == 2) {
            raw_exec(w, "ROLLBACK"); /* its spilled frames are in the WAL, never committed */
        } else {
            raw_exec(w, "DELETE FROM t WHERE id >= 100000");
            insert_rows(w, rows, 300);
            raw_exec(w, "COMMIT");
            rows += 300;
        }
        cr_assert_eq(raw_scalar(r, "SELECT count(*) FROM t"), rows);
        cr_assert_eq(raw_scalar(r, "SELECT count(*) FROM t WHERE id >= 100000"), 0);
    }
    sqlite3_close(r);
    sqlite3_close(w);
    /* A fresh connection on SQLite's own VFS, with the WAL still there to be read. */
    sqlite3 *check = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &check, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    integrity_ok(check);
    cr_assert_eq(raw_scalar(check, "SELECT count(*) FROM t"), rows);
    cr_assert_eq(raw_scalar(check, "SELECT sum(300 + id % 500 = length(v)) FROM t"), rows);
    sqlite3_close(check);
    temp_dir_remove(dir);
}

Test(sqlite_walbuf, a_commit_that_returned_survives_sigkill)
{
    char dir[64], path[96];
    temp_db(dir, sizeof dir, path, sizeof path);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t child = fork();
    cr_assert_neq(child, -1);
    if (child == 0) {
        close(fds[0]);
        sqlite3 *w = open_writer(path, "PRAGMA cache_size=-16384");
        for (int round = 0;; round++) {
            raw_exec(w, "BEGIN IMMEDIATE");
            insert_rows(w, round * 50, 50);
            raw_exec(w, "COMMIT");
            int done = round + 1;
            if (write(fds[1], &done, sizeof done) != (ssize_t)sizeof done) {
                _exit(1);
            }
        }
    }
    close(fds[1]);
    int acknowledged = 0, done;
    while (acknowledged < 60 && read(fds[0], &done, sizeof done) == (ssize_t)sizeof done) {
        acknowledged = done;
    }
    kill(child, SIGKILL); /* mid-transaction, most likely: the next one is already being written */
    int status = 0;
    waitpid(child, &status, 0);
    cr_assert(WIFSIGNALED(status));
    close(fds[0]);
    /* A new process's view: SQLite rebuilds the wal-index from the WAL file. */
    sqlite3 *check = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &check, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    long long n = raw_scalar(check, "SELECT count(*) FROM t");
    cr_assert_geq(n, acknowledged * 50LL, "%lld rows, %d commits acknowledged", n, acknowledged);
    cr_assert_eq(n % 50, 0, "a commit is whole or absent");
    integrity_ok(check);
    sqlite3_close(check);
    temp_dir_remove(dir);
}

static long long size_on_disk(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    return (long long)st.st_size;
}

/* A frame as SQLite writes it: a 24-byte header (page number, then the database size after the
 * commit, not zero only on a commit frame), then the page. */
static void write_frame(sqlite3_file *f, long long *offset, unsigned page, unsigned commit_size)
{
    unsigned char header[24] = {0};
    header[3] = (unsigned char)page;
    header[7] = (unsigned char)commit_size;
    static unsigned char data[4096];
    memset(data, (int)page, sizeof data);
    cr_assert_eq(f->pMethods->xWrite(f, header, sizeof header, *offset), SQLITE_OK);
    cr_assert_eq(f->pMethods->xWrite(f, data, sizeof data, *offset + 24), SQLITE_OK);
    *offset += 24 + 4096;
}

/* A database file and its WAL opened through the buffer, as SQLite opens them; the WAL read-only
 * when a test needs its writes to fail. */
struct files {
    char dir[64], path[96], wal_path[112];
    sqlite3_file *db, *wal;
};

static void files_open(struct files *f, bool wal_writable)
{
    cr_assert_eq(sqlite_walbuf_install(), 0);
    sqlite3_vfs *vfs = sqlite3_vfs_find(SQLITE_WALBUF_VFS);
    cr_assert_not_null(vfs);
    temp_db(f->dir, sizeof f->dir, f->path, sizeof f->path);
    snprintf(f->wal_path, sizeof f->wal_path, "%s-wal", f->path);
    FILE *created = fopen(f->wal_path, "w");
    cr_assert_not_null(created);
    fclose(created);
    f->db = calloc(1, (size_t)vfs->szOsFile);
    f->wal = calloc(1, (size_t)vfs->szOsFile);
    int out = 0;
    cr_assert_eq(vfs->xOpen(vfs, f->path, f->db,
                            SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &out),
                 SQLITE_OK);
    cr_assert_eq(
        vfs->xOpen(vfs, f->wal_path, f->wal,
                   SQLITE_OPEN_WAL | (wal_writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY),
                   &out),
        SQLITE_OK);
}

static void files_close(struct files *f)
{
    cr_assert_eq(f->wal->pMethods->xClose(f->wal), SQLITE_OK);
    cr_assert_eq(f->db->pMethods->xClose(f->db), SQLITE_OK);
    free(f->wal);
    free(f->db);
    temp_dir_remove(f->dir);
}

/* The WAL's own header, as a new WAL begins. */
static void write_wal_header(sqlite3_file *wal)
{
    unsigned char wal_header[32] = {0x37, 0x7f, 0x06, 0x82};
    cr_assert_eq(wal->pMethods->xWrite(wal, wal_header, sizeof wal_header, 0), SQLITE_OK);
}

Test(sqlite_walbuf, frames_reach_the_file_at_the_commit_frame_or_the_shm_barrier)
{
    struct files f;
    files_open(&f, true);
    sqlite3_file *db = f.db, *wal = f.wal;
    const char *wal_path = f.wal_path;
    long long offset = 32;
    write_wal_header(wal);
    write_frame(wal, &offset, 1, 0);
    write_frame(wal, &offset, 2, 0);
    cr_assert_eq(size_on_disk(wal_path), 0, "frames before the commit frame wait");
    write_frame(wal, &offset, 3, 3);
    cr_assert_eq(size_on_disk(wal_path), offset, "the commit frame writes them all");

    /* A transaction's frames still waiting (spilled pages, say) when the wal-index header is
     * about to be written: the barrier writes them first. */
    write_frame(wal, &offset, 4, 0);
    cr_assert_eq(size_on_disk(wal_path), offset - 4120);
    db->pMethods->xShmBarrier(db);
    cr_assert_eq(size_on_disk(wal_path), offset);

    /* So does any other call, a read included, and a write elsewhere in the WAL. */
    write_frame(wal, &offset, 5, 0);
    unsigned char back[4096];
    cr_assert_eq(wal->pMethods->xRead(wal, back, sizeof back, offset - 4096), SQLITE_OK);
    cr_assert_eq(back[0], 5);
    write_frame(wal, &offset, 6, 0);
    long long rewrite_at = 32 + 24;
    cr_assert_eq(wal->pMethods->xWrite(wal, back, sizeof back, rewrite_at), SQLITE_OK);
    cr_assert_eq(size_on_disk(wal_path), offset, "frame 6 written before the rewrite of frame 1");

    /* SQLite may rewrite a commit frame's header in place (redoing checksums); the frames that
     * follow, a one-page commit here, are still written at their own commit frame. */
    unsigned char header3[24] = {0, 0, 0, 3, 0, 0, 0, 3};
    cr_assert_eq(wal->pMethods->xWrite(wal, header3, sizeof header3, 32 + 2 * 4120), SQLITE_OK);
    write_frame(wal, &offset, 8, 8);
    cr_assert_eq(size_on_disk(wal_path), offset, "a one-frame commit after a rewritten header");

    /* And closing the file. */
    write_frame(wal, &offset, 7, 0);
    cr_assert_eq(size_on_disk(wal_path), offset - 4120);
    cr_assert_eq(wal->pMethods->xClose(wal), SQLITE_OK);
    cr_assert_eq(size_on_disk(wal_path), offset);
    cr_assert_eq(db->pMethods->xClose(db), SQLITE_OK);
    free(wal);
    free(db);
    temp_dir_remove(f.dir);
}

Test(sqlite_walbuf, a_long_transaction_is_written_in_pieces_the_file_system_takes_whole)
{
    struct files f;
    files_open(&f, true);
    long long offset = 32;
    write_wal_header(f.wal);
    for (unsigned page = 1; page <= 40; page++) { /* more than the buffer holds */
        write_frame(f.wal, &offset, page, 0);
    }
    long long written = size_on_disk(f.wal_path);
    cr_assert_gt(written, 0, "a full buffer is written before the commit");
    cr_assert_leq(written, WAL_WRITE_BUFFER_BYTES, "one piece, no larger than the buffer");
    write_frame(f.wal, &offset, 41, 41);
    cr_assert_eq(size_on_disk(f.wal_path), offset);
    unsigned char back[4096];
    for (unsigned page = 1; page <= 41; page++) {
        long long at = 32 + (long long)(page - 1) * 4120 + 24;
        cr_assert_eq(f.wal->pMethods->xRead(f.wal, back, sizeof back, at), SQLITE_OK);
        cr_assert_eq(back[0], (unsigned char)page, "page %u where SQLite put it", page);
    }
    files_close(&f);
}

Test(sqlite_walbuf, a_write_that_fails_at_the_commit_frame_fails_that_write)
{
    struct files f;
    files_open(&f, false); /* every write to the WAL fails once it reaches the file */
    long long offset = 32;
    write_wal_header(f.wal);
    write_frame(f.wal, &offset, 1, 0); /* buffered: no error yet */
    unsigned char header[24] = {0, 0, 0, 2, 0, 0, 0, 2};
    static unsigned char data[4096];
    cr_assert_eq(f.wal->pMethods->xWrite(f.wal, header, sizeof header, offset), SQLITE_OK);
    int rc = f.wal->pMethods->xWrite(f.wal, data, sizeof data, offset + 24);
    cr_assert_neq(rc, SQLITE_OK, "the commit frame's page reports the failed write");
    cr_assert_eq(size_on_disk(f.wal_path), 0);
    /* Nothing is left waiting to fail again: the next calls go on. */
    sqlite3_int64 size = -1;
    cr_assert_eq(f.wal->pMethods->xFileSize(f.wal, &size), SQLITE_OK);
    cr_assert_eq(size, 0);
    f.db->pMethods->xShmBarrier(f.db);
    files_close(&f);
}

Test(sqlite_walbuf, frames_that_cannot_be_written_at_the_barrier_stop_the_process,
     .signal = SIGABRT)
{
    struct files f;
    files_open(&f, false);
    long long offset = 32;
    write_wal_header(f.wal);
    write_frame(f.wal, &offset, 1, 0);
    temp_dir_remove(f.dir); /* now: the process will not get to it; the files stay open */
    /* The wal-index header would follow and count a frame the WAL does not hold. */
    f.db->pMethods->xShmBarrier(f.db);
    cr_assert_fail("the barrier returned after a failed write");
}
