#include "service/restore.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/files.h"
#include "core/vault.h"
#include "domain/note.h"
#include "service/evidence_log.h"
#include "service/log_verify.h"
#include "store/migrations.h"
#include "store/store.h"
#include "store/store_ledger.h"
#include "store/store_log.h"

#define PATH_BYTES (CONFIG_PATH_BYTES + 64)

/* base + suffix; config paths are shorter than CONFIG_PATH_BYTES and suffixes than 64. */
static void path_of(char out[PATH_BYTES], const char *base, const char *suffix)
{
    int n = snprintf(out, PATH_BYTES, "%s%s", base, suffix);
    km_assert(n > 0 && n < PATH_BYTES);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A file that is not there is fine; one that cannot be removed is found by the next step. */
static void unlink_quietly(const char *path)
{
    (void)unlink(path);
}

/* The file and the WAL and shared-memory files SQLite may keep beside it. */
static void unlink_database_files(const char *path)
{
    char side[PATH_BYTES];
    unlink_quietly(path);
    path_of(side, path, "-wal");
    unlink_quietly(side);
    path_of(side, path, "-shm");
    unlink_quietly(side);
}

/* Copy from to a new file to, and make the copy durable. */
static int copy_file(const char *from, const char *to, FILE *out)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        fprintf(out, "  cannot read %s: %s\n", from, strerror(errno));
        return -1;
    }
    int dst = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (dst < 0) {
        fprintf(out, "  cannot create %s: %s\n", to, strerror(errno));
        close(in);
        return -1;
    }
    static char buf[1 << 16];
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0) {
            break;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = -1;
            break;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(dst, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                rc = -1;
                break;
            }
            done += w;
        }
        if (rc != 0) {
            break;
        }
    }
    if (rc == 0 && fsync(dst) != 0) {
        rc = -1;
    }
    if (rc != 0) {
        fprintf(out, "  cannot copy %s to %s: %s\n", from, to, strerror(errno));
    }
    close(dst);
    close(in);
    return rc;
}

/* What log_verify_database says, kept to be shown indented if it matters. */
struct captured {
    char *text;
    size_t len;
};

static int verify_log(struct db *db, const char *checkpoint_file, const char *verifier,
                      struct captured *said)
{
    FILE *mem = open_memstream(&said->text, &said->len);
    if (mem == NULL) {
        return 1;
    }
    int rc = log_verify_database(db, checkpoint_file, verifier, mem);
    fclose(mem);
    return rc;
}

static void show_indented(FILE *out, const struct captured *said)
{
    const char *p = said->text != NULL ? said->text : "";
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        int n = nl != NULL ? (int)(nl - p) : (int)strlen(p);
        fprintf(out, "    %.*s\n", n, p);
        p += n + (nl != NULL ? 1 : 0);
    }
}

struct findings {
    int refusals;
    bool log_rolled_back;
    int schema;
    int64_t transfers;
    int64_t log_size;
};

static void refuse(struct findings *f, FILE *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(struct findings *f, FILE *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("  refused: ", out);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    va_end(ap);
    f->refusals++;
}

/* The copy's schema: kameng's, and not newer than this build's. An older one is migrated forward
 * in the copy, as the shop would at its next start, so that the checks read today's tables. */
static int bring_schema_forward(const char *copy, struct findings *f, FILE *out)
{
    struct db *db = NULL;
    if (db_open(copy, false, &db) != 0) {
        refuse(f, out, "not a SQLite database");
        return -1;
    }
    char msg[256];
    bool ours = false;
    int newest_known = migrations[migration_count - 1].version;
    if (db_integrity_check(db, msg, sizeof msg) != 0) {
        refuse(f, out, "not a sound SQLite database (integrity check: %s)", msg);
    } else if (store_schema_version(db, &f->schema, &ours) != 0 || !ours) {
        refuse(f, out, "not a kameng database (no schema of kameng's in it)");
    } else if (f->schema > newest_known) {
        refuse(f, out, "written by a newer kameng (schema %d; this one knows up to %d)", f->schema,
               newest_known);
    }
    db_close(db);
    if (f->refusals != 0 || f->schema == newest_known) {
        return f->refusals != 0 ? -1 : 0;
    }
    int applied = 0;
    int rc = db_open(copy, true, &db);
    rc = rc != 0 ? rc : store_migrate(db, &applied);
    rc = rc != 0 ? rc : db_checkpoint_truncate(db); /* the copy's file alone holds it all */
    db_close(db);
    if (rc != 0) {
        refuse(f, out, "its schema %d could not be migrated to %d", f->schema, newest_known);
        return -1;
    }
    fprintf(out, "  schema %d migrated to %d in the copy\n", f->schema, newest_known);
    f->schema = newest_known;
    return 0;
}

/* Every check on the copy's contents, read-only. */
static void check_copy(const char *copy, const char *no_file, const char *saved_checkpoint,
                       const char *verifier, struct findings *f, FILE *out)
{
    if (bring_schema_forward(copy, f, out) != 0) {
        return;
    }
    struct db *db = NULL;
    if (db_open(copy, false, &db) != 0) {
        refuse(f, out, "the copy cannot be opened again");
        return;
    }
    struct ledger_totals t;
    if (store_ledger_totals(db, &t) != 0) {
        refuse(f, out, "the ledger cannot be read");
    } else if (t.account_debits_posted != t.account_credits_posted ||
               t.account_debits_pending != t.account_credits_pending ||
               t.mismatched_accounts != 0) {
        refuse(f, out,
               "the books do not balance (posted %lld/%lld, pending %lld/%lld, %lld "
               "accounts differ from their transfers)",
               (long long)t.account_debits_posted, (long long)t.account_credits_posted,
               (long long)t.account_debits_pending, (long long)t.account_credits_pending,
               (long long)t.mismatched_accounts);
    }
    f->transfers = t.transfer_count;
    struct card_key k;
    int found = store_card_first(db, &k);
    if (found == 0) {
        static uint8_t plain[sizeof k.ciphertext];
        if (k.ciphertext_len < VAULT_MAC_BYTES ||
            vault_unseal(k.id, k.nonce, k.ciphertext, k.ciphertext_len, plain) != 0) {
            refuse(f, out,
                   "this data directory's master key does not open its card keys (a "
                   "backup of another shop, or of another master key)");
        }
        sodium_memzero(plain, sizeof plain);
    } else if (found != -KM_ENOTFOUND) {
        refuse(f, out, "the card keys cannot be read");
    }
    /* The log on its own first, then against the checkpoint this shop last signed. */
    struct captured own = {0}, against = {0};
    if (verify_log(db, no_file, verifier, &own) != 0) {
        refuse(f, out, "its evidence log does not verify with this shop's log key:");
        show_indented(out, &own);
    } else if (exists(saved_checkpoint) &&
               verify_log(db, saved_checkpoint, verifier, &against) != 0) {
        f->log_rolled_back = true;
        fprintf(out,
                "  the evidence log in the backup does not extend the checkpoint this shop "
                "last signed (%s):\n",
                saved_checkpoint);
        show_indented(out, &against);
    }
    free(own.text);
    free(against.text);
    if (db_begin_read(db) == 0) {
        if (store_log_size(db, &f->log_size) != 0) {
            f->log_size = -1;
        }
        db_rollback(db);
    }
    db_close(db);
}

/* Make the current database's file hold everything it has, before anything moves: an open
 * database has its WAL copied in. One that does not open (why it is being restored, perhaps)
 * is kept as it is. Refuses (-1, nothing changed) when the WAL cannot be copied in, which a
 * reader of an older snapshot (a backup, a ledger check) can cause. */
static int settle_current(const char *database, FILE *out)
{
    if (!exists(database)) {
        return 0;
    }
    struct db *db = NULL;
    if (db_open(database, true, &db) != 0) {
        fprintf(out, "  note: the current database does not open; its files are kept as they "
                     "are\n");
        return 0;
    }
    int rc = db_checkpoint_truncate(db);
    db_close(db);
    if (rc != 0) {
        fprintf(out, "  refused: the current database's WAL could not be copied into it (is a "
                     "backup, ledger-check or log verify reading it?)\n");
        return -1;
    }
    return 0;
}

/* Keep the database being replaced under the name aside: the file by a second link, so that the
 * replacement is one rename over it; a WAL with anything in it (of a database that did not open,
 * or left without its file) beside it. Then the WAL and shared memory go: left in place, SQLite
 * would replay the old WAL into the new file. */
static int keep_current(const char *database, const char *aside, FILE *out)
{
    char from[PATH_BYTES], to[PATH_BYTES];
    const char *sides[] = {"", "-wal"};
    for (int i = 0; i < 2; i++) {
        path_of(from, database, sides[i]);
        path_of(to, aside, sides[i]);
        struct stat st;
        bool keep = stat(from, &st) == 0 && (i == 0 || st.st_size > 0); /* an empty WAL: no */
        if (keep && link(from, to) != 0) {
            fprintf(out, "  cannot keep %s as %s: %s\n", from, to, strerror(errno));
            return -1;
        }
    }
    path_of(from, database, "-wal");
    unlink_quietly(from);
    path_of(from, database, "-shm");
    unlink_quietly(from);
    return file_sync_dir_of(database);
}

/* The same file by another name. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

int restore_run(const struct config *c, const char *from, bool accept_log_rollback, FILE *out)
{
    char key[PATH_BYTES], saved[PATH_BYTES], copy[PATH_BYTES], no_file[PATH_BYTES];
    path_of(key, c->data_dir, "/log.key");
    path_of(saved, c->data_dir, "/log-checkpoint");
    path_of(copy, c->database, ".restoring");
    path_of(no_file, c->database, ".restoring.none");
    fprintf(out, "restoring %s from %s\n", c->database, from);
    /* The keys are backed up apart from the database, and come back first. */
    if (!exists(c->master_key) || !exists(key)) {
        fprintf(out,
                "  refused: %s needs master.key and log.key (restore them from their own "
                "backup first)\n",
                c->data_dir);
        return 1;
    }
    if (vault_open(c->master_key, false) != 0) {
        fprintf(out, "  refused: the master key %s cannot be used\n", c->master_key);
        return 1;
    }
    char verifier[NOTE_KEY_TEXT_BYTES_MAX];
    if (evlog_open(key, saved, c->log_origin, false) != 0) {
        fprintf(out, "  refused: the log key %s cannot be used\n", key);
        vault_close();
        return 1;
    }
    evlog_verifier_text(verifier, sizeof verifier);
    evlog_close();

    if (same_file(from, copy) || same_file(from, c->database)) {
        fprintf(out,
                "  refused: %s is this data directory's own database, or the copy a restore "
                "works on; restore from a backup\n",
                from);
        vault_close();
        fprintf(out, "nothing was changed\n");
        return 1;
    }
    unlink_database_files(copy); /* a copy left by an attempt that was stopped */
    struct findings f = {0};
    if (copy_file(from, copy, out) != 0) {
        f.refusals++;
    } else {
        check_copy(copy, no_file, saved, verifier, &f, out);
    }
    vault_close();
    if (f.refusals == 0 && f.log_rolled_back && !accept_log_rollback) {
        fprintf(out, "  refused: restoring it would roll back or fork the published evidence "
                     "log. Run again with --accept-log-rollback to restore it anyway; the "
                     "checkpoint it contradicts is then kept, and the rollback must be "
                     "disclosed.\n");
        f.refusals++;
    }
    if (f.refusals == 0 && settle_current(c->database, out) != 0) {
        f.refusals++;
    }
    if (f.refusals != 0) {
        unlink_database_files(copy);
        fprintf(out, "nothing was changed\n");
        return 1;
    }

    char stamp[32], suffix[64], aside[PATH_BYTES], saved_aside[PATH_BYTES], side[PATH_BYTES];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    /* Unique, even for two restores within a second. */
    for (int n = 1;; n++) {
        km_assert(n < 1000);
        if (n == 1) {
            snprintf(suffix, sizeof suffix, ".before-restore-%s", stamp);
        } else {
            snprintf(suffix, sizeof suffix, ".before-restore-%s-%d", stamp, n);
        }
        path_of(aside, c->database, suffix);
        path_of(saved_aside, saved, suffix);
        path_of(side, aside, "-wal");
        if (!exists(aside) && !exists(side) && !exists(saved_aside)) {
            break;
        }
    }
    /* From here, a run that stops leaves the shop on one whole database: the old one (its file
     * holds what its WAL had; a WAL it could not take in is kept aside) until the last rename,
     * the restored one after it. The checkpoint goes aside before the database is replaced, so
     * the restored log never meets the checkpoint it contradicts; the old log extends it. */
    if (keep_current(c->database, aside, out) != 0) {
        unlink_quietly(aside);
        unlink_quietly(side);
        unlink_database_files(copy);
        fprintf(out, "nothing was changed\n");
        return 1;
    }
    if (f.log_rolled_back && (rename(saved, saved_aside) != 0 || file_sync_dir_of(saved) != 0)) {
        fprintf(out, "  cannot move %s to %s: %s\n", saved, saved_aside, strerror(errno));
        unlink_database_files(copy);
        fprintf(out, "the database was not replaced; run the restore again\n");
        return 2;
    }
    path_of(side, copy, "-shm");
    unlink_quietly(side);
    path_of(side, copy, "-wal");
    unlink_quietly(side);
    if (rename(copy, c->database) != 0 || file_sync_dir_of(c->database) != 0) {
        fprintf(out, "  cannot move %s to %s: %s\n", copy, c->database, strerror(errno));
        if (f.log_rolled_back && rename(saved_aside, saved) != 0) {
            fprintf(out, "  the checkpoint is left as %s\n", saved_aside);
        }
        unlink_database_files(copy);
        fprintf(out, "the database was not replaced; run the restore again\n");
        return 2;
    }
    if (f.log_rolled_back) {
        fprintf(out, "  the checkpoint the backup contradicts is kept as %s\n", saved_aside);
    }
    if (exists(aside)) {
        fprintf(out, "  the database it replaced is kept as %s\n", aside);
    }
    fprintf(out,
            "restored: schema %d, %lld ledger transfers, %lld evidence log entries; the books "
            "balance\n",
            f.schema, (long long)f.transfers, (long long)f.log_size);
    return 0;
}
