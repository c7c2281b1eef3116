/* Evidence-log rows. */
#include "store/store_log.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"


int store_log_size(struct db *db, int64_t *size)
{
    struct db_stmt *st = db_query(db, "SELECT COALESCE(MAX(seq) + 1, 0) FROM log_entries", "");
    int rc = db_step(st);
    *size = rc == DB_ROW ? db_int(st, 0) : 0;
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_log_entry_insert(struct db *db, int64_t seq, const char *kind, const char *order_id,
                           const uint8_t *entry, size_t len, const uint8_t leaf_hash[32],
                           int64_t now)
{
    return db_run(db_query(db,
                           "INSERT INTO log_entries (seq, kind, order_id, entry, leaf_hash,"
                           " created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                           "issbbi", seq, kind, order_id, entry, len, leaf_hash, (size_t)32, now));
}

int store_log_entry_get(struct db *db, int64_t seq, struct log_entry_row *out)
{
    struct db_stmt *st = db_query(db,
                                  "SELECT seq, kind, COALESCE(order_id, ''), entry, leaf_hash,"
                                  " created_at FROM log_entries WHERE seq = $1",
                                  "i", seq);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        memset(out, 0, sizeof *out);
        out->seq = db_int(st, 0);
        db_text_copy(st, 1, out->kind, sizeof out->kind);
        db_text_copy(st, 2, out->order_id, sizeof out->order_id);
        size_t n = 0;
        const void *p = db_blob(st, 3, &n);
        out->entry_len = n < sizeof out->entry ? n : sizeof out->entry;
        memcpy(out->entry, p, out->entry_len);
        p = db_blob(st, 4, &n);
        memcpy(out->leaf_hash, p, n < 32 ? n : 32);
        out->created_at = db_int(st, 5);
    }
    db_done(st);
    return db_found(rc);
}

int store_log_leaf_hash(struct db *db, int64_t seq, uint8_t out[32])
{
    struct db_stmt *st =
        db_query(db, "SELECT leaf_hash FROM log_entries WHERE seq = $1", "i", seq);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        size_t n = 0;
        const void *p = db_blob(st, 0, &n);
        memset(out, 0, 32);
        memcpy(out, p, n < 32 ? n : 32);
    }
    db_done(st);
    return db_found(rc);
}

int store_log_entries_of_order(struct db *db, const char *order_id, int64_t *seqs, int max,
                               int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(
        db, "SELECT seq FROM log_entries WHERE order_id = $1 ORDER BY seq LIMIT $2", "si",
        order_id, (int64_t)max);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        seqs[(*count)++] = db_int(st, 0);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_log_kinds_of_order(struct db *db, const char *order_id, int64_t *seqs,
                             char (*kinds)[32], int max, int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(
        db, "SELECT seq, kind FROM log_entries WHERE order_id = $1 ORDER BY seq LIMIT $2", "si",
        order_id, (int64_t)max);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        seqs[*count] = db_int(st, 0);
        db_text_copy(st, 1, kinds[*count], 32);
        (*count)++;
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_log_node_get(struct db *db, int level, int64_t idx, uint8_t out[32])
{
    struct db_stmt *st = db_query(db, "SELECT hash FROM log_nodes WHERE level = $1 AND idx = $2",
                                  "ii", (int64_t)level, idx);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        size_t n = 0;
        const void *p = db_blob(st, 0, &n);
        memset(out, 0, 32);
        memcpy(out, p, n < 32 ? n : 32);
    }
    db_done(st);
    return db_found(rc);
}

int store_log_node_put(struct db *db, int level, int64_t idx, const uint8_t hash[32])
{
    return db_run(db_query(db, "INSERT INTO log_nodes (level, idx, hash) VALUES ($1, $2, $3)",
                           "iib", (int64_t)level, idx, hash, (size_t)32));
}

int store_log_checkpoint_put(struct db *db, int64_t size, const uint8_t root[32],
                             const char *note, int64_t now)
{
    return db_run(db_query(db,
                           "INSERT INTO log_checkpoints (size, root, note, signed_at) VALUES ($1,"
                           " $2, $3, $4) ON CONFLICT (size) DO NOTHING",
                           "ibsi", size, root, (size_t)32, note, now));
}

int store_log_checkpoint_latest(struct db *db, int64_t *size, uint8_t root[32], char **note)
{
    struct db_stmt *st = db_query(
        db, "SELECT size, root, note FROM log_checkpoints ORDER BY size DESC LIMIT 1", "");
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *size = db_int(st, 0);
        size_t n = 0;
        const void *p = db_blob(st, 1, &n);
        memset(root, 0, 32);
        memcpy(root, p, n < 32 ? n : 32);
        *note = strdup(db_text(st, 2));
        km_assert(*note != NULL);
    }
    db_done(st);
    return db_found(rc);
}

int store_card_commitment_put(struct db *db, const char *card_key_id, const uint8_t *nonce,
                              size_t nonce_len, const uint8_t *sealed, size_t sealed_len)
{
    return db_run(db_query(db,
                           "INSERT INTO card_commitments (card_key_id, nonce, salt_sealed) VALUES"
                           " ($1, $2, $3) ON CONFLICT (card_key_id) DO NOTHING",
                           "sbb", card_key_id, nonce, nonce_len, sealed, sealed_len));
}

int store_card_commitment_get(struct db *db, const char *card_key_id, uint8_t *nonce,
                              size_t nonce_len, uint8_t *sealed, size_t sealed_max,
                              size_t *sealed_len)
{
    struct db_stmt *st = db_query(
        db, "SELECT nonce, salt_sealed FROM card_commitments WHERE card_key_id = $1", "s",
        card_key_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        size_t n = 0;
        const void *p = db_blob(st, 0, &n);
        memcpy(nonce, p, n < nonce_len ? n : nonce_len);
        p = db_blob(st, 1, &n);
        *sealed_len = n < sealed_max ? n : sealed_max;
        memcpy(sealed, p, *sealed_len);
    }
    db_done(st);
    return db_found(rc);
}

int store_log_covered_row(struct db *db, const char *kind, const char *id, char *out,
                          size_t out_len)
{
    struct db_stmt *st = NULL;
    if (strcmp(kind, "payment") == 0) {
        st = db_query(db,
                      "SELECT amount_fen || '|' || COALESCE(disposition, '') FROM payments WHERE"
                      " id = $1 AND status = 'succeeded'",
                      "s", id);
    } else if (strcmp(kind, "reveal") == 0) {
        st = db_query(db, "SELECT COALESCE(card_key_id, 'account') FROM reveals WHERE id = $1",
                      "s", id);
    } else if (strcmp(kind, "refund_decision") == 0) {
        st = db_query(db,
                      "SELECT outcome || '|' || rule || '|' || amount_fen FROM decisions WHERE"
                      " id = $1",
                      "s", id);
    } else if (strcmp(kind, "activation") == 0) {
        st = db_query(db, "SELECT 'activated' FROM activations WHERE card_key_id = $1", "s", id);
    } else {
        return -KM_EINVAL;
    }
    int rc = db_step(st);
    if (rc == DB_ROW) {
        db_text_copy(st, 0, out, out_len);
    }
    db_done(st);
    return db_found(rc);
}

int store_log_covered_count(struct db *db, const char *kind, int64_t *count)
{
    struct db_stmt *st = NULL;
    if (strcmp(kind, "payment") == 0) {
        st = db_query(db, "SELECT COUNT(*) FROM payments WHERE status = 'succeeded'", "");
    } else if (strcmp(kind, "reveal") == 0) {
        st = db_query(db, "SELECT COUNT(*) FROM reveals", "");
    } else if (strcmp(kind, "refund_decision") == 0) {
        st = db_query(db, "SELECT COUNT(*) FROM decisions", "");
    } else if (strcmp(kind, "activation") == 0) {
        st = db_query(db, "SELECT COUNT(*) FROM activations", "");
    } else {
        return -KM_EINVAL;
    }
    int rc = db_step(st);
    *count = rc == DB_ROW ? db_int(st, 0) : 0;
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_log_checkpoints_each(struct db *db, int (*fn)(void *ctx, int64_t size, const char *note),
                               void *ctx)
{
    struct db_stmt *st = db_query(db, "SELECT size, note FROM log_checkpoints ORDER BY size", "");
    int rc;
    while ((rc = db_step(st)) == DB_ROW && fn(ctx, db_int(st, 0), db_text(st, 1)) == 0) {
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_log_seqs_each(struct db *db, int (*fn)(void *ctx, int64_t seq), void *ctx)
{
    struct db_stmt *st = db_query(db, "SELECT seq FROM log_entries ORDER BY seq", "");
    int rc;
    while ((rc = db_step(st)) == DB_ROW && fn(ctx, db_int(st, 0)) == 0) {
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}
