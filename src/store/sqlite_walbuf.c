/* A VFS over SQLite's default one that gathers a transaction's WAL frames into a few writes.
 *
 * SQLite writes each WAL frame with two calls, a 24-byte header and then the page: a commit of
 * 150 pages is 300 pwrite calls, and on a virtual machine a system call costs more than the copy
 * it makes. Here the frames a connection appends to its WAL wait in a buffer and reach the file
 * when the buffer is full (WAL_WRITE_BUFFER_BYTES, 29 frames) and when the commit frame's page
 * has been added (a frame header whose "database size after commit" field is not zero marks the
 * commit frame): 6 writes for those 150 pages. So the commit's error, if any, is still the
 * commit's: SQLite sees it from the xWrite of a frame and rolls back.
 *
 * Nothing may see the WAL before the buffer is written, so it is written first:
 *   - before any other call on any file from the same thread (a read of the WAL, its size, a
 *     sync, a lock, a truncate, the shared-memory calls, a close);
 *   - before a WAL write that does not continue the buffer (SQLite rewriting a frame of the same
 *     transaction in place, or starting over at the front of a restarted WAL), or would overflow
 *     it.
 * Other connections learn of new frames only from the wal-index header, which the committing
 * connection writes after xShmBarrier; by then the commit frame has flushed the buffer, and the
 * barrier flushes whatever else is left. A failed write there cannot be reported (xShmBarrier
 * returns nothing), so the process stops: after a restart SQLite rebuilds the wal-index from the
 * WAL file itself, whose checksums end it at the last whole commit.
 *
 * Buffered bytes belong to the thread that wrote them (a connection is used by one thread at a
 * time, and a transaction ends on the thread it began on), so "any other call on this thread" is
 * tracked with a thread-local pointer. Only the writer connection opens through this VFS. */
#include "store/sqlite_walbuf.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/limits.h"
#include "core/log.h"

#define FRAME_HEADER_BYTES 24 /* SQLite's WAL_FRAME_HDRSIZE */
/* The unix VFS masks a write's length with 0x1ffff; a longer flush would be cut short. */
_Static_assert(WAL_WRITE_BUFFER_BYTES <= 0x1ffff, "one flush must fit one unix VFS write");

struct wb_file {
    sqlite3_file base;   /* base.pMethods is &wb_methods once the inner file is open */
    sqlite3_file *inner; /* the wrapped VFS's file, in the same allocation, after this */
    bool wal;
    sqlite3_int64 commit_page_at; /* where the commit frame's page goes, after its header; -1 */
    char *buf; /* WAL bytes not yet written: [buf_offset, buf_offset + buf_len) */
    size_t buf_len;
    sqlite3_int64 buf_offset;
};

/* Room for the struct, rounded up so the inner file after it is aligned like any allocation. */
#define INNER_OFFSET ((sizeof(struct wb_file) + 15) & ~(size_t)15)

static sqlite3_vfs *inner_vfs;
static sqlite3_vfs wb_vfs;
static sqlite3_io_methods wb_methods;
static _Thread_local struct wb_file *pending;   /* the file holding this thread's buffered bytes */
static _Atomic long long writes_in, writes_out; /* to WAL files: by SQLite, to the file */

/* A write that reaches the file. */
static int write_out(struct wb_file *f, const void *data, int amount, sqlite3_int64 offset)
{
    atomic_fetch_add_explicit(&writes_out, 1, memory_order_relaxed);
    return f->inner->pMethods->xWrite(f->inner, data, amount, offset);
}

static int flush(struct wb_file *f)
{
    if (f->buf_len == 0) {
        return SQLITE_OK;
    }
    size_t len = f->buf_len;
    f->buf_len = 0;
    if (pending == f) {
        pending = NULL;
    }
    return write_out(f, f->buf, (int)len, f->buf_offset);
}

/* Before any call other than a WAL write that continues the buffer. */
static int flush_pending(void)
{
    return pending != NULL ? flush(pending) : SQLITE_OK;
}

#define FLUSH_OR_RETURN()                                                                          \
    do {                                                                                           \
        int flush_rc_ = flush_pending();                                                           \
        if (flush_rc_ != SQLITE_OK) {                                                              \
            return flush_rc_;                                                                      \
        }                                                                                          \
    } while (0)

static struct wb_file *wb(sqlite3_file *file)
{
    return (struct wb_file *)file;
}

static int wb_close(sqlite3_file *file)
{
    struct wb_file *f = wb(file);
    int rc = flush_pending();
    if (rc == SQLITE_OK) {
        rc = flush(f); /* its own bytes too, were they ever left by another thread */
    }
    int rc_close = f->inner->pMethods->xClose(f->inner);
    free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc_close;
}

static int wb_read(sqlite3_file *file, void *out, int amount, sqlite3_int64 offset)
{
    FLUSH_OR_RETURN();
    return wb(file)->inner->pMethods->xRead(wb(file)->inner, out, amount, offset);
}

static int wal_write(struct wb_file *f, const void *data, int amount, sqlite3_int64 offset)
{
    atomic_fetch_add_explicit(&writes_in, 1, memory_order_relaxed);
    /* The commit frame: its header carries the database size after the commit (bytes 4-7, not
     * zero), and its page, written next at the offset after the header, ends the transaction's
     * frames. A header rewritten later (SQLite redoing checksums) is followed by something else,
     * and the mark is dropped. */
    bool commit_page = offset == f->commit_page_at;
    f->commit_page_at = -1;
    if (pending != NULL && pending != f) {
        FLUSH_OR_RETURN();
    }
    size_t n = (size_t)amount;
    bool continues = f->buf_len > 0 && offset == f->buf_offset + (sqlite3_int64)f->buf_len;
    if (f->buf_len > 0 && (!continues || f->buf_len + n > WAL_WRITE_BUFFER_BYTES)) {
        int rc = flush(f);
        if (rc != SQLITE_OK) {
            return rc;
        }
    }
    if (f->buf == NULL) {
        f->buf = malloc(WAL_WRITE_BUFFER_BYTES);
    }
    if (n > WAL_WRITE_BUFFER_BYTES || f->buf == NULL) {
        return write_out(f, data, amount, offset); /* unbuffered, as SQLite would have */
    }
    if (f->buf_len == 0) {
        f->buf_offset = offset;
    }
    memcpy(f->buf + f->buf_len, data, n);
    f->buf_len += n;
    pending = f;
    if (commit_page) {
        return flush(f);
    }
    const unsigned char *h = data;
    if (amount == FRAME_HEADER_BYTES && (h[4] | h[5] | h[6] | h[7]) != 0) {
        f->commit_page_at = offset + FRAME_HEADER_BYTES;
    }
    return SQLITE_OK;
}

static int wb_write(sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset)
{
    struct wb_file *f = wb(file);
    if (f->wal) {
        return wal_write(f, data, amount, offset);
    }
    FLUSH_OR_RETURN();
    return f->inner->pMethods->xWrite(f->inner, data, amount, offset);
}

static int wb_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    FLUSH_OR_RETURN();
    return wb(file)->inner->pMethods->xTruncate(wb(file)->inner, size);
}

static int wb_sync(sqlite3_file *file, int flags)
{
    FLUSH_OR_RETURN();
    return wb(file)->inner->pMethods->xSync(wb(file)->inner, flags);
}

static int wb_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    FLUSH_OR_RETURN();
    return wb(file)->inner->pMethods->xFileSize(wb(file)->inner, size);
}

static int wb_lock(sqlite3_file *file, int level)
{
    FLUSH_OR_RETURN();
    return wb(file)->inner->pMethods->xLock(wb(file)->inner, level);
}

static int wb_unlock(sqlite3_file *file, int level)
{
    FLUSH_OR_RETURN();
    return wb(file)->inner->pMethods->xUnlock(wb(file)->inner, level);
}

static int wb_check_reserved_lock(sqlite3_file *file, int *out)
{
    FLUSH_OR_RETURN();
    return wb(file)->inner->pMethods->xCheckReservedLock(wb(file)->inner, out);
}

static int wb_file_control(sqlite3_file *file, int op, void *arg)
{
    FLUSH_OR_RETURN();
    return wb(file)->inner->pMethods->xFileControl(wb(file)->inner, op, arg);
}

static int wb_sector_size(sqlite3_file *file)
{
    return wb(file)->inner->pMethods->xSectorSize(wb(file)->inner);
}

static int wb_device_characteristics(sqlite3_file *file)
{
    return wb(file)->inner->pMethods->xDeviceCharacteristics(wb(file)->inner);
}

static int wb_shm_map(sqlite3_file *file, int page, int page_size, int extend, void volatile **out)
{
    FLUSH_OR_RETURN();
    return wb(file)->inner->pMethods->xShmMap(wb(file)->inner, page, page_size, extend, out);
}

static int wb_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    FLUSH_OR_RETURN();
    return wb(file)->inner->pMethods->xShmLock(wb(file)->inner, offset, n, flags);
}

static void wb_shm_barrier(sqlite3_file *file)
{
    /* The wal-index header is written after this: every frame it will count must be in the WAL
     * file first. The commit frame has normally flushed already. */
    int rc = flush_pending();
    if (rc != SQLITE_OK) {
        log_write(LOG_ERROR, "wal_write_failed_stopping", "message", sqlite3_errstr(rc), NULL);
        abort(); /* before the wal-index counts frames the WAL does not hold */
    }
    wb(file)->inner->pMethods->xShmBarrier(wb(file)->inner);
}

static int wb_shm_unmap(sqlite3_file *file, int delete_flag)
{
    FLUSH_OR_RETURN();
    return wb(file)->inner->pMethods->xShmUnmap(wb(file)->inner, delete_flag);
}

static int wb_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out)
{
    FLUSH_OR_RETURN();
    return wb(file)->inner->pMethods->xFetch(wb(file)->inner, offset, amount, out);
}

static int wb_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *page)
{
    FLUSH_OR_RETURN();
    return wb(file)->inner->pMethods->xUnfetch(wb(file)->inner, offset, page);
}

static sqlite3_io_methods wb_methods = {
    .iVersion = 3,
    .xClose = wb_close,
    .xRead = wb_read,
    .xWrite = wb_write,
    .xTruncate = wb_truncate,
    .xSync = wb_sync,
    .xFileSize = wb_file_size,
    .xLock = wb_lock,
    .xUnlock = wb_unlock,
    .xCheckReservedLock = wb_check_reserved_lock,
    .xFileControl = wb_file_control,
    .xSectorSize = wb_sector_size,
    .xDeviceCharacteristics = wb_device_characteristics,
    .xShmMap = wb_shm_map,
    .xShmLock = wb_shm_lock,
    .xShmBarrier = wb_shm_barrier,
    .xShmUnmap = wb_shm_unmap,
    .xFetch = wb_fetch,
    .xUnfetch = wb_unfetch,
};

static int wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                   int *out_flags)
{
    (void)vfs;
    struct wb_file *f = wb(file);
    memset(f, 0, sizeof *f);
    f->inner = (sqlite3_file *)((char *)file + INNER_OFFSET);
    f->inner->pMethods = NULL;
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    f->commit_page_at = -1;
    int rc = inner_vfs->xOpen(inner_vfs, name, f->inner, flags, out_flags);
    /* Every method is passed on, the shared-memory and mmap ones included. */
    km_assert(f->inner->pMethods == NULL || f->inner->pMethods->iVersion >= 3);
    /* SQLite calls xClose exactly when pMethods is set, so it is set only over an open file. */
    f->base.pMethods = f->inner->pMethods != NULL ? &wb_methods : NULL;
    return rc;
}

/* The rest of the VFS is the inner one's, called with the inner VFS. */
static int wb_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    FLUSH_OR_RETURN();
    return inner_vfs->xDelete(inner_vfs, name, sync_dir);
}

static int wb_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    FLUSH_OR_RETURN();
    return inner_vfs->xAccess(inner_vfs, name, flags, out);
}

static int wb_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return inner_vfs->xFullPathname(inner_vfs, name, n, out);
}

static void *wb_dl_open(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return inner_vfs->xDlOpen(inner_vfs, name);
}

static void wb_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    inner_vfs->xDlError(inner_vfs, n, out);
}

static void (*wb_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void)
{
    (void)vfs;
    return inner_vfs->xDlSym(inner_vfs, handle, symbol);
}

static void wb_dl_close(sqlite3_vfs *vfs, void *handle)
{
    (void)vfs;
    inner_vfs->xDlClose(inner_vfs, handle);
}

static int wb_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return inner_vfs->xRandomness(inner_vfs, n, out);
}

static int wb_sleep(sqlite3_vfs *vfs, int microseconds)
{
    (void)vfs;
    return inner_vfs->xSleep(inner_vfs, microseconds);
}

static int wb_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return inner_vfs->xCurrentTime(inner_vfs, out);
}

static int wb_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return inner_vfs->xGetLastError(inner_vfs, n, out);
}

static int wb_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return inner_vfs->xCurrentTimeInt64(inner_vfs, out);
}

int sqlite_walbuf_install(void)
{
    if (inner_vfs != NULL) {
        return 0;
    }
    sqlite3_vfs *inner = sqlite3_vfs_find(NULL);
    if (inner == NULL || inner->iVersion < 2 || inner->xCurrentTimeInt64 == NULL) {
        return -1;
    }
    inner_vfs = inner;
    wb_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)(INNER_OFFSET + (size_t)inner->szOsFile),
        .mxPathname = inner->mxPathname,
        .zName = SQLITE_WALBUF_VFS,
        .xOpen = wb_open,
        .xDelete = wb_delete,
        .xAccess = wb_access,
        .xFullPathname = wb_full_pathname,
        .xDlOpen = wb_dl_open,
        .xDlError = wb_dl_error,
        .xDlSym = wb_dl_sym,
        .xDlClose = wb_dl_close,
        .xRandomness = wb_randomness,
        .xSleep = wb_sleep,
        .xCurrentTime = wb_current_time,
        .xGetLastError = wb_get_last_error,
        .xCurrentTimeInt64 = wb_current_time_int64,
    };
    return sqlite3_vfs_register(&wb_vfs, 0) == SQLITE_OK ? 0 : -1;
}

void sqlite_walbuf_stats(long long *asked, long long *made)
{
    *asked = atomic_load_explicit(&writes_in, memory_order_relaxed);
    *made = atomic_load_explicit(&writes_out, memory_order_relaxed);
}
