/* Products, card keys, sellers, API keys and the schema's migrations. */
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "store/migrations.h"

static int migration_record(struct db *db, const struct migration *m)
{
    return db_run(db_query(db,
                           "INSERT INTO schema_migrations (version, name, applied_at) "
                           "VALUES ($1, $2, $3)",
                           "isi", (int64_t)m->version, m->name, clock_now_ms()));
}

/* Whether step m is recorded: 1 if so, 0 if not, or an error. The baseline stands for every
 * migration up to its version, so any record at all means it is in. */
static int migration_recorded(struct db *db, const struct migration *m, bool baseline)
{
    struct db_stmt *st =
        baseline ? db_query(db, "SELECT 1 FROM schema_migrations LIMIT 1", "")
                 : db_query(db, "SELECT 1 FROM schema_migrations WHERE version = $1", "i",
                            (int64_t)m->version);
    int found = db_step(st);
    db_done(st);
    return found < 0 ? found : found == DB_ROW;
}

/* A new PostgreSQL database gets the baseline, recorded as the migrations it holds. */
static int postgres_baseline_apply(struct db *db, int *recorded, char *err, size_t err_len)
{
    int rc = db_exec_script(db, postgres_baseline.sql, err, err_len) != 0 ? -KM_EINTERNAL : 0;
    for (int i = 0; rc == 0 && i < migration_count; i++) {
        if (migrations[i].version <= postgres_baseline.version) {
            rc = migration_record(db, &migrations[i]);
            *recorded += rc == 0;
        }
    }
    return rc;
}

/* One step in a write transaction of its own, which looks at what is recorded only once it holds
 * the write lock: two servers starting on one new PostgreSQL database then apply each step once
 * between them, the second finding it done. */
static int migrate_step(struct db *db, const struct migration *m, bool baseline, int *applied)
{
    int rc = db_begin_write(db);
    int done = rc != 0 ? rc : migration_recorded(db, m, baseline);
    if (done != 0) {
        db_rollback(db); /* nothing written */
        return done < 0 ? done : 0;
    }
    char err[256] = "";
    int recorded = 1;
    if (baseline) {
        recorded = 0;
        rc = postgres_baseline_apply(db, &recorded, err, sizeof err);
    } else {
        rc = db_exec_script(db, m->sql, err, sizeof err) != 0 ? -KM_EINTERNAL : 0;
        rc = rc != 0 ? rc : migration_record(db, m);
    }
    if (rc != 0 && err[0] != '\0') {
        log_write(LOG_ERROR, "migration_failed", "name", m->name, "message", err, NULL);
    }
    rc = rc != 0 ? rc : db_commit(db);
    if (rc != 0) {
        db_rollback(db);
        return rc;
    }
    log_write(LOG_INFO, "migration_applied", "name", m->name, NULL);
    *applied += recorded;
    return 0;
}

int store_migrate(struct db *db, int *applied)
{
    *applied = 0;
    char err[256];
    int rc = db_begin_write(db);
    if (rc == 0 && db_exec_script(db,
                                  "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
                                  "PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                                  err, sizeof err) != 0) {
        rc = -KM_EINTERNAL;
    }
    rc = rc != 0 ? rc : db_commit(db);
    if (rc != 0) {
        db_rollback(db);
        return rc;
    }
    if (strcmp(db_backend_name(db), "postgres") == 0) {
        rc = migrate_step(db, &postgres_baseline, true, applied);
    }
    for (int i = 0; rc == 0 && i < migration_count; i++) {
        rc = migrate_step(db, &migrations[i], false, applied);
    }
    return rc;
}

int store_schema_version(struct db *db, int *version, bool *ours)
{
    *version = 0;
    *ours = false;
    bool has = false;
    int rc = db_has_table(db, "schema_migrations", &has);
    if (rc != 0) {
        return rc;
    }
    if (!has) {
        return 0;
    }
    /* Ours when every version recorded carries the name of our migration of that number. */
    struct db_stmt *st =
        db_query(db, "SELECT version, name FROM schema_migrations ORDER BY version", "");
    int count = 0;
    bool names_match = true;
    while ((rc = db_step(st)) == DB_ROW) {
        int64_t v = db_int(st, 0);
        char name[128];
        db_text_copy(st, 1, name, sizeof name);
        bool known = false;
        for (int i = 0; i < migration_count; i++) {
            if (migrations[i].version == v) {
                known = strcmp(migrations[i].name, name) == 0;
            }
        }
        /* A version past ours is a newer kameng's, judged by the caller. */
        names_match = names_match && (known || v > migrations[migration_count - 1].version);
        *version = (int)v;
        count++;
    }
    db_done(st);
    if (rc < 0) {
        return rc;
    }
    *ours = count > 0 && names_match;
    return 0;
}

int store_api_key_insert(struct db *db, const char *id, const uint8_t *hash, const char *role,
                         const char *seller_id, const char *label, int64_t now)
{
    return db_run(db_query(db,
                           "INSERT INTO api_keys (id, key_hash, role, seller_id, label, created_at)"
                           " VALUES ($1, $2, $3, $4, $5, $6)",
                           "sbsssi", id, hash, (size_t)TOKEN_HASH_BYTES, role,
                           seller_id != NULL && seller_id[0] != '\0' ? seller_id : NULL, label,
                           now));
}

int store_api_key_find(struct db *db, const uint8_t *hash, struct api_key_row *out)
{
    struct db_stmt *st = db_query(db,
                                  "SELECT id, role, seller_id, label FROM api_keys WHERE key_hash "
                                  "= $1 AND revoked_at IS NULL",
                                  "b", hash, (size_t)TOKEN_HASH_BYTES);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        db_text_copy(st, 0, out->id, sizeof out->id);
        db_text_copy(st, 1, out->role, sizeof out->role);
        db_text_copy(st, 2, out->seller_id, sizeof out->seller_id);
        db_text_copy(st, 3, out->label, sizeof out->label);
    }
    db_done(st);
    return db_found(rc);
}

int store_api_key_list(struct db *db, const char *after, int limit, struct api_key_info *out,
                       int *count, bool *has_more)
{
    *count = 0;
    *has_more = false;
    struct db_stmt *st = db_query(db,
                                  "SELECT id, role, COALESCE(seller_id, ''), label, created_at,"
                                  " COALESCE(revoked_at, 0) FROM api_keys WHERE id > $1 ORDER BY"
                                  " id LIMIT $2",
                                  "si", after, (int64_t)limit + 1);
    int rc = DB_DONE;
    while ((rc = db_step(st)) == DB_ROW) {
        if (*count == limit) {
            *has_more = true;
            break;
        }
        struct api_key_info *k = &out[(*count)++];
        memset(k, 0, sizeof *k);
        db_text_copy(st, 0, k->key.id, sizeof k->key.id);
        db_text_copy(st, 1, k->key.role, sizeof k->key.role);
        db_text_copy(st, 2, k->key.seller_id, sizeof k->key.seller_id);
        db_text_copy(st, 3, k->key.label, sizeof k->key.label);
        k->created_at = db_int(st, 4);
        k->revoked_at = db_int(st, 5);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_api_key_revoke(struct db *db, const char *id, int64_t now)
{
    struct db_stmt *st = db_query(db, "SELECT revoked_at FROM api_keys WHERE id = $1", "s", id);
    int rc = db_step(st);
    bool revoked = rc == DB_ROW && !db_is_null(st, 0);
    db_done(st);
    if (rc != DB_ROW) {
        return rc < 0 ? rc : -KM_ENOTFOUND;
    }
    if (revoked) {
        return -KM_ESTATE;
    }
    return db_run(db_query(db, "UPDATE api_keys SET revoked_at = $1 WHERE id = $2", "is", now, id));
}

int store_seller_insert(struct db *db, const char *id, const char *name, int64_t now)
{
    return db_run(db_query(db, "INSERT INTO sellers (id, name, created_at) VALUES ($1, $2, $3)",
                           "ssi", id, name, now));
}

int store_seller_exists(struct db *db, const char *id)
{
    struct db_stmt *st = db_query(db, "SELECT 1 FROM sellers WHERE id = $1", "s", id);
    int rc = db_step(st);
    db_done(st);
    return db_found(rc);
}

int store_product_insert(struct db *db, const struct product *p)
{
    return db_run(db_query(
        db,
        "INSERT INTO products (id, kind, name, price_fen, face_value_fen, target_format, regions,"
        " seller_id, refund_window_hours, no_reason_days, topup_timeout_minutes, escrow_days,"
        " active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        "sssiisssiiiiii", p->id, p->kind, p->name, p->price_fen, p->face_value_fen,
        p->target_format, p->regions, p->seller_id[0] != '\0' ? p->seller_id : NULL,
        p->refund_window_hours, p->no_reason_days, p->topup_timeout_minutes, p->escrow_days,
        p->active, p->created_at));
}

#define PRODUCT_COLUMNS                                                                          \
    "p.id, p.kind, p.name, p.price_fen, p.face_value_fen, p.target_format, p.regions,"           \
    " COALESCE(p.seller_id, ''), p.refund_window_hours, p.no_reason_days,"                       \
    " p.topup_timeout_minutes, p.escrow_days, p.active, p.created_at, p.stock_available,"        \
    " p.stock_reserved, p.stock_delivered"

static void product_read(struct db_stmt *st, struct product *p)
{
    memset(p, 0, sizeof *p);
    db_text_copy(st, 0, p->id, sizeof p->id);
    db_text_copy(st, 1, p->kind, sizeof p->kind);
    db_text_copy(st, 2, p->name, sizeof p->name);
    p->price_fen = db_int(st, 3);
    p->face_value_fen = db_int(st, 4);
    db_text_copy(st, 5, p->target_format, sizeof p->target_format);
    db_text_copy(st, 6, p->regions, sizeof p->regions);
    db_text_copy(st, 7, p->seller_id, sizeof p->seller_id);
    p->refund_window_hours = db_int(st, 8);
    p->no_reason_days = db_int(st, 9);
    p->topup_timeout_minutes = db_int(st, 10);
    p->escrow_days = db_int(st, 11);
    p->active = db_int(st, 12);
    p->created_at = db_int(st, 13);
    p->stock_available = db_int(st, 14);
    p->stock_reserved = db_int(st, 15);
    p->stock_delivered = db_int(st, 16);
}

int store_product_get(struct db *db, const char *id, struct product *out)
{
    struct db_stmt *st =
        db_query(db, "SELECT " PRODUCT_COLUMNS " FROM products p WHERE p.id = $1", "s", id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        product_read(st, out);
    }
    db_done(st);
    return db_found(rc);
}

int store_product_list(struct db *db, const char *after, int limit, bool active_only,
                       struct product *out, int *count, bool *has_more)
{
    *count = 0;
    *has_more = false;
    struct db_stmt *st = db_query(db,
                                  "SELECT " PRODUCT_COLUMNS " FROM products p WHERE p.id > $1 AND"
                                  " (p.active = 1 OR $2 = 0) ORDER BY p.id LIMIT $3",
                                  "sii", after, (int64_t)(active_only ? 1 : 0), (int64_t)limit + 1);
    int rc = DB_DONE;
    while ((rc = db_step(st)) == DB_ROW) {
        if (*count == limit) {
            *has_more = true;
            break;
        }
        product_read(st, &out[(*count)++]);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_card_insert(struct db *db, const char *id, const char *product_id,
                      const uint8_t *fingerprint, size_t fp_len, const uint8_t *nonce,
                      size_t nonce_len, const uint8_t *ct, size_t ct_len, const char *masked,
                      const char *batch_id, int64_t now)
{
    /* A key already in stock is told apart without an error, which would end the transaction
     * on PostgreSQL. */
    int rc = db_run(db_query(db,
                             "INSERT INTO card_keys (id, product_id, fingerprint, nonce, ciphertext,"
                             " masked, status, batch_id, created_at) VALUES ($1, $2, $3, $4, $5,"
                             " $6, 'available', $7, $8) ON CONFLICT (fingerprint) DO NOTHING",
                             "ssbbbssi", id, product_id, fingerprint, fp_len, nonce, nonce_len, ct,
                             ct_len, masked, batch_id, now));
    return rc == 0 && db_changes(db) == 0 ? -KM_EDUPLICATE : rc;
}

int store_card_fingerprint_exists(struct db *db, const uint8_t *fingerprint, size_t fp_len)
{
    struct db_stmt *st =
        db_query(db, "SELECT 1 FROM card_keys WHERE fingerprint = $1", "b", fingerprint, fp_len);
    int rc = db_step(st);
    db_done(st);
    return db_found(rc);
}

int store_cards_reserve(struct db *db, const char *product_id, const char *order_id,
                        int64_t quantity, struct card_held *held)
{
    /* The oldest import first and, within it, the order of its file (the rowid), found on
     * card_keys_available and then updated one by one: one
     * UPDATE … WHERE id IN (SELECT … LIMIT n) builds a temporary table for the subquery on every
     * order, which was an eighth of the writer's time. */
    if (quantity < 1 || quantity > ORDER_QUANTITY_MAX) {
        return -KM_EINVAL;
    }
    struct db_stmt *st = db_query(db,
                                  "SELECT rowid, id, masked FROM card_keys WHERE product_id = $1 AND"
                                  " status = 'available' ORDER BY created_at, rowid LIMIT $2",
                                  "si", product_id, quantity);
    int64_t rowids[ORDER_QUANTITY_MAX];
    int64_t found = 0;
    int rc = DB_DONE;
    while (found < quantity && (rc = db_step(st)) == DB_ROW) {
        rowids[found] = db_int(st, 0);
        db_text_copy(st, 1, held[found].id, sizeof held[found].id);
        db_text_copy(st, 2, held[found].masked, sizeof held[found].masked);
        found++;
    }
    db_done(st);
    if (rc < 0) {
        return rc;
    }
    if (found != quantity) {
        return -KM_ESTOCK; /* all or none */
    }
    for (int64_t i = 0; i < found; i++) {
        rc = db_run(db_query(db,
                             "UPDATE card_keys SET status = 'reserved', order_id = $1 WHERE"
                             " rowid = $2 AND status = 'available'",
                             "si", order_id, rowids[i]));
        if (rc != 0) {
            return rc;
        }
        km_assert(db_changes(db) == 1); /* read in this transaction, by the only writer */
    }
    return db_run(db_query(db,
                           "UPDATE products SET stock_available = stock_available - $1,"
                           " stock_reserved = stock_reserved + $1 WHERE id = $2",
                           "is", quantity, product_id));
}

int store_product_stock_recount(struct db *db, const char *product_id)
{
    return db_run(db_query(
        db,
        "UPDATE products SET stock_available = (SELECT COUNT(*) FROM card_keys c WHERE"
        " c.product_id = $1 AND c.status = 'available'), stock_reserved = (SELECT COUNT(*) FROM"
        " card_keys c WHERE c.product_id = $1 AND c.status = 'reserved'), stock_delivered ="
        " (SELECT COUNT(*) FROM card_keys c WHERE c.product_id = $1 AND c.status = 'delivered')"
        " WHERE id = $1",
        "s", product_id));
}

/* The product an order's keys belong to. */
static int order_product(struct db *db, const char *order_id, char *product_id)
{
    struct db_stmt *st =
        db_query(db, "SELECT product_id FROM orders WHERE id = $1", "s", order_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        db_text_copy(st, 0, product_id, ID_BYTES_MAX);
    }
    db_done(st);
    return db_found(rc);
}

int store_cards_release(struct db *db, const char *order_id)
{
    int rc = db_run(db_query(db,
                             "UPDATE card_keys SET status = 'available', order_id = NULL WHERE"
                             " order_id = $1 AND status = 'reserved'",
                             "s", order_id));
    int64_t moved = rc == 0 ? db_changes(db) : 0;
    char product_id[ID_BYTES_MAX];
    if (rc != 0 || moved == 0 || order_product(db, order_id, product_id) != 0) {
        return rc;
    }
    return db_run(db_query(db,
                           "UPDATE products SET stock_available = stock_available + $1,"
                           " stock_reserved = stock_reserved - $1 WHERE id = $2",
                           "is", moved, product_id));
}

int store_cards_return(struct db *db, const char *order_id)
{
    int rc = db_run(db_query(db,
                             "UPDATE card_keys SET status = 'available', order_id = NULL,"
                             " delivered_at = NULL WHERE order_id = $1 AND status IN ('reserved',"
                             " 'delivered') AND id NOT IN (SELECT card_key_id FROM reveals WHERE"
                             " order_id = $1 AND card_key_id IS NOT NULL)",
                             "s", order_id));
    rc = rc != 0 ? rc
                 : db_run(db_query(db,
                                   "UPDATE card_keys SET status = 'void' WHERE order_id = $1 AND"
                                   " status = 'delivered'",
                                   "s", order_id));
    char product_id[ID_BYTES_MAX];
    if (rc != 0 || order_product(db, order_id, product_id) != 0) {
        return rc;
    }
    return store_product_stock_recount(db, product_id); /* refunds are rare: count again */
}

int store_cards_deliver(struct db *db, const char *order_id, const char *product_id, int64_t now,
                        int64_t *delivered)
{
    int rc = db_run(db_query(db,
                             "UPDATE card_keys SET status = 'delivered', delivered_at = $1 WHERE"
                             " order_id = $2 AND status = 'reserved'",
                             "is", now, order_id));
    *delivered = rc == 0 ? db_changes(db) : 0;
    if (rc != 0 || *delivered == 0) {
        return rc;
    }
    return db_run(db_query(db,
                           "UPDATE products SET stock_reserved = stock_reserved - $1,"
                           " stock_delivered = stock_delivered + $1 WHERE id = $2",
                           "is", *delivered, product_id));
}

static void card_read(struct db_stmt *st, struct card_key *k)
{
    memset(k, 0, sizeof *k);
    db_text_copy(st, 0, k->id, sizeof k->id);
    db_text_copy(st, 1, k->product_id, sizeof k->product_id);
    db_text_copy(st, 2, k->masked, sizeof k->masked);
    db_text_copy(st, 3, k->status, sizeof k->status);
    db_text_copy(st, 4, k->order_id, sizeof k->order_id);
    k->delivered_at = db_int(st, 5);
    size_t n = 0;
    const void *p = db_blob(st, 6, &n);
    if (n == sizeof k->nonce) {
        memcpy(k->nonce, p, n);
    }
    p = db_blob(st, 7, &n);
    if (n <= sizeof k->ciphertext) {
        memcpy(k->ciphertext, p, n);
        k->ciphertext_len = n;
    }
}

/* The columns card_read takes. */
#define CARD_SELECT                                                                                \
    "SELECT id, product_id, masked, status, COALESCE(order_id, ''), COALESCE(delivered_at, 0),"   \
    " nonce, ciphertext FROM card_keys"

static int card_one(struct db_stmt *st, struct card_key *out)
{
    int rc = db_step(st);
    if (rc == DB_ROW) {
        card_read(st, out);
    }
    db_done(st);
    return db_found(rc);
}

int store_cards_of_order(struct db *db, const char *order_id, struct card_key *out, int max,
                         int *count)
{
    *count = 0;
    struct db_stmt *st =
        db_query(db, CARD_SELECT " WHERE order_id = $1 ORDER BY id", "s", order_id);
    int rc = DB_DONE;
    while ((rc = db_step(st)) == DB_ROW && *count < max) {
        card_read(st, &out[(*count)++]);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_card_by_fingerprint(struct db *db, const uint8_t *fingerprint, size_t fp_len,
                              struct card_key *out)
{
    return card_one(db_query(db, CARD_SELECT " WHERE fingerprint = $1", "b", fingerprint, fp_len),
                    out);
}

int store_card_get(struct db *db, const char *id, struct card_key *out)
{
    return card_one(db_query(db, CARD_SELECT " WHERE id = $1", "s", id), out);
}

int store_card_first(struct db *db, struct card_key *out)
{
    return card_one(db_query(db, CARD_SELECT " ORDER BY rowid LIMIT 1", ""), out);
}
