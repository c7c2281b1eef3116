/* The durable-write ceiling without batching: raw SQLite inserts with journal_mode=WAL and
 * synchronous=FULL, one row per transaction (BEGIN; INSERT; COMMIT), on the same file system as
 * kameng's data directory. Also times a bare write()+fdatasync() on a file there, which is what
 * each WAL commit waits for.
 *
 *   sqlite_fsync DIR SECONDS      prints key=value lines */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(int64_t *v, size_t n, double p)
{
    if (n == 0) {
        return 0;
    }
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)v[i] / 1000.0; /* ms */
}

static void die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite_fsync: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sqlite_fsync DIR SECONDS\n");
        return 2;
    }
    double seconds = atof(argv[2]);
    char path[4096];
    size_t cap = 4000000;
    int64_t *lat = malloc(cap * sizeof *lat);

    /* 1. Raw fdatasync: overwrite one of 256 preallocated 4 KiB pages and sync (what a WAL
     *    commit into a reused WAL file waits for), for a third of the time. */
    snprintf(path, sizeof path, "%s/fsync-probe.bin", argv[1]);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    char page[4096];
    memset(page, 'k', sizeof page);
    for (int i = 0; i < 256; i++) {
        if (write(fd, page, sizeof page) != (ssize_t)sizeof page) {
            perror("write");
            return 1;
        }
    }
    if (fsync(fd) != 0) {
        perror("fsync");
        return 1;
    }
    size_t n = 0;
    int64_t start = now_us(), end = start + (int64_t)(seconds / 3 * 1e6);
    while (now_us() < end && n < cap) {
        int64_t t0 = now_us();
        off_t off = (off_t)(n % 256) * (off_t)sizeof page;
        if (pwrite(fd, page, sizeof page, off) != (ssize_t)sizeof page || fdatasync(fd) != 0) {
            perror("write/fdatasync");
            return 1;
        }
        lat[n++] = now_us() - t0;
    }
    double took = (double)(now_us() - start) / 1e6;
    close(fd);
    unlink(path);
    qsort(lat, n, sizeof *lat, cmp64);
    printf("fsync_count=%zu\nfsync_per_s=%.0f\nfsync_p50_ms=%.3f\nfsync_p99_ms=%.3f\n", n,
           (double)n / took, pct(lat, n, 0.50), pct(lat, n, 0.99));

    /* 2. SQLite: one insert per transaction, WAL, synchronous=FULL. */
    snprintf(path, sizeof path, "%s/fsync-bench.db", argv[1]);
    unlink(path);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        die(db, "open");
    }
    char *err = NULL;
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT NOT NULL, v BLOB NOT NULL,"
                     " at INTEGER NOT NULL);",
                     NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlite_fsync: %s\n", err);
        return 1;
    }
    sqlite3_stmt *begin, *ins, *commit;
    if (sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO t(k, v, at) VALUES (?, ?, ?)", -1, &ins, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK) {
        die(db, "prepare");
    }
    char key[32], val[200];
    memset(val, 'v', sizeof val);
    n = 0;
    start = now_us();
    end = start + (int64_t)(seconds * 2 / 3 * 1e6);
    while (now_us() < end && n < cap) {
        int64_t t0 = now_us();
        snprintf(key, sizeof key, "ord_%012zu", n);
        sqlite3_bind_text(ins, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 2, val, sizeof val, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, t0);
        if (sqlite3_step(begin) != SQLITE_DONE || sqlite3_step(ins) != SQLITE_DONE ||
            sqlite3_step(commit) != SQLITE_DONE) {
            die(db, "insert");
        }
        sqlite3_reset(begin);
        sqlite3_reset(ins);
        sqlite3_reset(commit);
        lat[n++] = now_us() - t0;
    }
    took = (double)(now_us() - start) / 1e6;
    qsort(lat, n, sizeof *lat, cmp64);
    printf("sqlite_inserts=%zu\nsqlite_inserts_per_s=%.0f\nsqlite_commit_p50_ms=%.3f\n"
           "sqlite_commit_p99_ms=%.3f\n",
           n, (double)n / took, pct(lat, n, 0.50), pct(lat, n, 0.99));
    sqlite3_finalize(begin);
    sqlite3_finalize(ins);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    unlink(path);
    char side[4200];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    free(lat);
    return 0;
}
