/* Appending, committing to card keys, restoring roots from the store, and signing checkpoints. */
#include "service/evidence_log.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/files.h"
#include "core/ids.h"
#include "core/json_out.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/vault.h"
#include "store/store_log.h"

#define COMMITMENT_DOMAIN "kameng-card-commitment/v1"
#define SALT_BYTES 32

static struct note_signer signer;
static bool signer_loaded;
static char checkpoint_file[512];
static atomic_bool fork_detected;

static int read_file(const char *path, char *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    *len = fread(buf, 1, cap - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return 0;
}

static int write_file_atomic(const char *path, const char *text, mode_t mode)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0) {
        return -1;
    }
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return file_sync_dir_of(path); /* the rename itself must survive a power cut */
}

int evlog_open(const char *key_path, const char *checkpoint_path, const char *origin, bool create)
{
    snprintf(checkpoint_file, sizeof checkpoint_file, "%s", checkpoint_path);
    char text[NOTE_KEY_TEXT_BYTES_MAX + 2];
    size_t len = 0;
    struct km_error e;
    struct stat st;
    if (stat(key_path, &st) != 0) {
        if (!create || errno != ENOENT) {
            log_write(LOG_ERROR, "log_key_missing", "path", key_path, NULL);
            return -KM_ENOTFOUND;
        }
        if (note_signer_generate(origin, &signer, &e) != 0 ||
            note_signer_format(&signer, text, sizeof text, &e) != 0) {
            log_write(LOG_ERROR, "log_key_generate_failed", "message", e.message, NULL);
            return -KM_EINTERNAL;
        }
        len = strlen(text);
        text[len] = '\n';
        text[len + 1] = '\0';
        int rc = write_file_atomic(key_path, text, 0600);
        sodium_memzero(text, sizeof text);
        if (rc != 0) {
            return -KM_EINTERNAL;
        }
        log_write(LOG_INFO, "log_key_created", "path", key_path, NULL);
        signer_loaded = true;
        return 0;
    }
    if ((st.st_mode & 077) != 0) {
        log_write(LOG_ERROR, "log_key_permissions", "path", key_path, "message",
                  "the log signing key must be readable by its owner only (chmod 600)", NULL);
        return -KM_EFORBIDDEN;
    }
    if (read_file(key_path, text, sizeof text, &len) != 0 ||
        note_signer_parse(text, len, &signer, &e) != 0) {
        sodium_memzero(text, sizeof text);
        log_write(LOG_ERROR, "log_key_malformed", "path", key_path, NULL);
        return -KM_EINVAL;
    }
    sodium_memzero(text, sizeof text);
    signer_loaded = true;
    return 0;
}

void evlog_close(void)
{
    if (signer_loaded) {
        note_signer_release(&signer);
        signer_loaded = false;
    }
}

void evlog_verifier_text(char *out, size_t out_len)
{
    km_assert(signer_loaded);
    struct note_verifier v;
    note_signer_verifier(&signer, &v);
    struct km_error e;
    if (note_verifier_format(&v, out, out_len, &e) != 0) {
        out[0] = '\0';
    }
}

bool evlog_fork_detected(void)
{
    return atomic_load(&fork_detected);
}

static int subtree_hash(void *ctx, uint64_t begin, uint64_t end, unsigned char out[32],
                        struct km_error *e)
{
    struct db *db = ctx;
    uint64_t width = end - begin;
    int level = 0;
    while ((UINT64_C(1) << level) < width) {
        level++;
    }
    int rc = level == 0 ? store_log_leaf_hash(db, (int64_t)begin, out)
                        : store_log_node_get(db, level, (int64_t)(begin >> level), out);
    if (rc != 0) {
        return km_fail(e, KM_EINTERNAL, "log_incomplete", NULL,
                       "the log has no hash for entries [%llu, %llu)", (unsigned long long)begin,
                       (unsigned long long)end);
    }
    return 0;
}

void evlog_source(struct db *db, struct merkle_source *out)
{
    out->subtree_hash = subtree_hash;
    out->ctx = db;
}

int evlog_root(struct db *db, uint64_t size, uint8_t root[MERKLE_HASH_BYTES], struct km_error *e)
{
    struct merkle_source src;
    evlog_source(db, &src);
    static __thread struct merkle_builder b;
    int rc = merkle_builder_restore(&b, size, &src, e);
    if (rc != 0) {
        return rc;
    }
    merkle_builder_root(&b, root);
    return 0;
}

int evlog_append(struct db *db, const char *kind, const char *order_id, json_t *fields,
                 int64_t now, struct km_error *e)
{
    char at[40];
    int64_t seq = 0;
    if (store_log_size(db, &seq) != 0) {
        json_decref(fields);
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the log is unavailable");
    }
    /* Each entry names its own index, so a reordered row gives itself away. */
    json_object_set_new(fields, "seq", json_integer(seq));
    json_object_set_new(fields, "v", json_integer(EVLOG_ENTRY_VERSION));
    json_object_set_new(fields, "kind", json_string(kind));
    json_object_set_new(fields, "at", json_string(clock_format(now, at, sizeof at)));
    if (order_id != NULL) {
        json_object_set_new(fields, "order_id", json_string(order_id));
    }
    /* Canonical: keys sorted, no white space, ASCII only; the same facts give the same bytes. */
    size_t n = 0;
    char *text = json_out_canonical(fields, &n);
    json_decref(fields);
    if (n > LOG_ENTRY_BYTES_MAX) {
        free(text);
        return km_fail(e, KM_EINTERNAL, "log_entry_too_large", NULL, "a log entry is too large");
    }
    uint8_t leaf[MERKLE_HASH_BYTES];
    merkle_leaf_hash(text, n, leaf);
    int rc = store_log_entry_insert(db, seq, kind, order_id, (const uint8_t *)text, n, leaf, now);
    free(text);
    /* Keep every perfect subtree that this leaf completes: proofs then read O(log n) rows. */
    uint8_t hash[MERKLE_HASH_BYTES];
    memcpy(hash, leaf, sizeof hash);
    int64_t idx = seq;
    for (int level = 0; rc == 0 && (idx & 1) == 1; level++) {
        uint8_t left[MERKLE_HASH_BYTES];
        rc = level == 0 ? store_log_leaf_hash(db, seq - 1, left)
                        : store_log_node_get(db, level, idx - 1, left);
        if (rc != 0) {
            break;
        }
        merkle_node_hash(left, hash, hash);
        idx >>= 1;
        rc = store_log_node_put(db, level + 1, idx, hash);
    }
    if (rc != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the log entry was not stored");
    }
    return 0;
}

static void commitment_of(const uint8_t salt[SALT_BYTES], const char *secret, size_t n,
                          char hex[65])
{
    struct km_sha256 st;
    km_sha256_init(&st);
    km_sha256_update(&st, COMMITMENT_DOMAIN, strlen(COMMITMENT_DOMAIN));
    km_sha256_update(&st, salt, SALT_BYTES);
    km_sha256_update(&st, secret, n);
    uint8_t digest[KM_SHA256_BYTES];
    km_sha256_final(&st, digest);
    sodium_bin2hex(hex, 65, digest, sizeof digest);
}

int evlog_commit_card(struct db *db, const char *card_key_id, const char *secret,
                      size_t secret_len, char hex[65], struct km_error *e)
{
    uint8_t salt[SALT_BYTES];
    uint8_t nonce[VAULT_NONCE_BYTES];
    uint8_t sealed[SALT_BYTES + VAULT_MAC_BYTES];
    size_t sealed_len = 0;
    char aad[64];
    snprintf(aad, sizeof aad, "commit|%s", card_key_id);
    if (store_card_commitment_get(db, card_key_id, nonce, sizeof nonce, sealed, sizeof sealed,
                                  &sealed_len) == 0) {
        /* Delivered before (and returned to stock by a refund): the same salt, so the same
         * commitment, and the stored salt opens every delivery of this key. */
        if (sealed_len != sizeof sealed || vault_unseal(aad, nonce, sealed, sealed_len, salt) != 0) {
            return km_fail(e, KM_EINTERNAL, "commitment_unreadable", NULL,
                           "the stored commitment salt cannot be opened");
        }
        commitment_of(salt, secret, secret_len, hex);
        sodium_memzero(salt, sizeof salt);
        return 0;
    }
    random_bytes(salt, sizeof salt);
    commitment_of(salt, secret, secret_len, hex);
    vault_seal(aad, salt, sizeof salt, nonce, sealed);
    sodium_memzero(salt, sizeof salt);
    if (store_card_commitment_put(db, card_key_id, nonce, sizeof nonce, sealed, sizeof sealed) !=
        0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the commitment was not stored");
    }
    return 0;
}

int evlog_open_commitment(struct db *db, const char *card_key_id, char salt_hex[65],
                          struct km_error *e)
{
    uint8_t nonce[VAULT_NONCE_BYTES];
    uint8_t sealed[SALT_BYTES + VAULT_MAC_BYTES];
    size_t n = 0;
    char aad[64];
    snprintf(aad, sizeof aad, "commit|%s", card_key_id);
    uint8_t salt[SALT_BYTES];
    if (store_card_commitment_get(db, card_key_id, nonce, sizeof nonce, sealed, sizeof sealed,
                                  &n) != 0 ||
        n != sizeof sealed || vault_unseal(aad, nonce, sealed, n, salt) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "card_key_id",
                       "no commitment for this card key");
    }
    sodium_bin2hex(salt_hex, 65, salt, sizeof salt);
    sodium_memzero(salt, sizeof salt);
    return 0;
}

/* The tree now must extend a checkpoint signed before: same root at that size. */
static int check_extends(struct db *db, uint64_t size_now, uint64_t size, const uint8_t *root,
                         const char *where, struct km_error *e)
{
    if (size > size_now) {
        atomic_store(&fork_detected, true);
        return km_fail(e, KM_ESTATE, "log_rolled_back", NULL,
                       "the log has %llu entries but a checkpoint (%s) was signed at %llu: the "
                       "database was rolled back or entries were removed; refusing to sign",
                       (unsigned long long)size_now, where, (unsigned long long)size);
    }
    if (size == 0) {
        return 0;
    }
    uint8_t again[MERKLE_HASH_BYTES];
    int rc = evlog_root(db, size, again, e);
    if (rc != 0) {
        return rc; /* could not read: try again next pass, without calling it a fork */
    }
    if (sodium_memcmp(again, root, MERKLE_HASH_BYTES) != 0) {
        atomic_store(&fork_detected, true);
        return km_fail(e, KM_ESTATE, "log_forked", NULL,
                       "the first %llu entries no longer hash to the root signed in %s: the log "
                       "was changed; refusing to sign",
                       (unsigned long long)size, where);
    }
    return 0;
}

int evlog_checkpoint(struct db *db, int64_t now, char *note, bool *signed_now, struct km_error *e)
{
    *signed_now = false;
    km_assert(signer_loaded);
    int64_t size = 0;
    if (store_log_size(db, &size) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the log is unavailable");
    }
    int64_t last_size = 0;
    uint8_t last_root[MERKLE_HASH_BYTES];
    char *last_note = NULL;
    int rc = store_log_checkpoint_latest(db, &last_size, last_root, &last_note);
    free(last_note);
    if (rc == 0) {
        rc = check_extends(db, (uint64_t)size, (uint64_t)last_size, last_root, "the database", e);
        if (rc != 0) {
            return rc;
        }
    } else if (rc != -KM_ENOTFOUND) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "checkpoints unavailable");
    }
    /* The copy outside the database catches a database restored from an older backup. */
    static char saved[NOTE_BYTES_MAX + 1];
    size_t saved_len = 0;
    if (read_file(checkpoint_file, saved, sizeof saved, &saved_len) == 0) {
        struct note_verifier v;
        note_signer_verifier(&signer, &v);
        struct note_opened opened;
        struct note_checkpoint cp;
        if (note_open(saved, saved_len, &v, 1, &opened, e) != 0 ||
            note_checkpoint_parse(saved, opened.text_len, &cp, e) != 0) {
            atomic_store(&fork_detected, true);
            return km_fail(e, KM_ESTATE, "checkpoint_file_invalid", NULL,
                           "the saved checkpoint does not verify with the log key");
        }
        rc = check_extends(db, (uint64_t)size, cp.size, cp.root, "the saved checkpoint file", e);
        if (rc != 0) {
            return rc;
        }
        if ((int64_t)cp.size > last_size) {
            last_size = (int64_t)cp.size;
        }
    }
    if (size == 0 || size == last_size) {
        return 0;
    }
    uint8_t root[MERKLE_HASH_BYTES];
    rc = evlog_root(db, (uint64_t)size, root, e);
    if (rc != 0) {
        return rc;
    }
    char body[NOTE_BYTES_MAX];
    size_t body_len = 0, note_len = 0;
    if (note_checkpoint_format(signer.name, (uint64_t)size, root, body, sizeof body, &body_len,
                               e) != 0 ||
        note_sign(&signer, body, body_len, note, NOTE_BYTES_MAX, &note_len, e) != 0) {
        return -KM_EINTERNAL;
    }
    if (store_log_checkpoint_put(db, size, root, note, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the checkpoint was not stored");
    }
    *signed_now = true;
    return 0;
}

int evlog_checkpoint_save(const char *note)
{
    return write_file_atomic(checkpoint_file, note, 0600) == 0 ? 0 : -KM_EINTERNAL;
}
