/* Orders, buyer tokens, payments, reveals, top-ups and account deliveries. */
#include "store/store.h"
#include "store/store_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"

static const char *or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}


#define ORDER_COLUMNS                                                                            \
    "id, product_id, kind, quantity, unit_price_fen, amount_fen, status, COALESCE(lookup_hash,"  \
    " ''), contact, COALESCE(target_account, ''), COALESCE(target_region, ''),"                  \
    " COALESCE(seller_id, ''), created_at, expires_at, COALESCE(paid_at, 0),"                    \
    " COALESCE(delivered_at, 0), COALESCE(completed_at, 0), COALESCE(escrow_release_at, 0),"     \
    " updated_at"

static void order_read(struct db_stmt *st, struct order *o)
{
    memset(o, 0, sizeof *o);
    db_text_copy(st, 0, o->id, sizeof o->id);
    db_text_copy(st, 1, o->product_id, sizeof o->product_id);
    db_text_copy(st, 2, o->kind, sizeof o->kind);
    o->quantity = db_int(st, 3);
    o->unit_price_fen = db_int(st, 4);
    o->amount_fen = db_int(st, 5);
    db_text_copy(st, 6, o->status, sizeof o->status);
    db_text_copy(st, 7, o->lookup_hash, sizeof o->lookup_hash);
    db_text_copy(st, 8, o->contact, sizeof o->contact);
    db_text_copy(st, 9, o->target_account, sizeof o->target_account);
    db_text_copy(st, 10, o->target_region, sizeof o->target_region);
    db_text_copy(st, 11, o->seller_id, sizeof o->seller_id);
    o->created_at = db_int(st, 12);
    o->expires_at = db_int(st, 13);
    o->paid_at = db_int(st, 14);
    o->delivered_at = db_int(st, 15);
    o->completed_at = db_int(st, 16);
    o->escrow_release_at = db_int(st, 17);
    o->updated_at = db_int(st, 18);
}

int store_order_insert(struct db *db, const struct order *o)
{
    return db_run(db_query(
        db,
        "INSERT INTO orders (id, product_id, kind, quantity, unit_price_fen, amount_fen, status,"
        " lookup_hash, contact, target_account, target_region, seller_id, created_at, expires_at,"
        " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        "sssiiissssssiii", o->id, o->product_id, o->kind, o->quantity, o->unit_price_fen,
        o->amount_fen, o->status, or_null(o->lookup_hash), o->contact, or_null(o->target_account),
        or_null(o->target_region), or_null(o->seller_id), o->created_at, o->expires_at,
        o->updated_at));
}

int store_order_get(struct db *db, const char *id, struct order *out)
{
    struct db_stmt *st = db_query(db, "SELECT " ORDER_COLUMNS " FROM orders WHERE id = $1", "s", id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        order_read(st, out);
    }
    db_done(st);
    return db_found(rc);
}

static int64_t zero_null(int64_t v)
{
    return v;
}

int store_order_update(struct db *db, const struct order *o)
{
    int rc = db_run(db_query(db,
                             "UPDATE orders SET status = $1, paid_at = NULLIF($2, 0), delivered_at ="
                             " NULLIF($3, 0), completed_at = NULLIF($4, 0), escrow_release_at ="
                             " NULLIF($5, 0), updated_at = $6 WHERE id = $7",
                             "siiiiis", o->status, zero_null(o->paid_at),
                             zero_null(o->delivered_at), zero_null(o->completed_at),
                             zero_null(o->escrow_release_at), o->updated_at, o->id));
    if (rc == 0 && db_changes(db) != 1) {
        return -KM_ENOTFOUND;
    }
    return rc;
}

int store_order_token_insert(struct db *db, const uint8_t *hash, const char *order_id,
                             const char *via, int64_t now)
{
    return db_run(db_query(db,
                           "INSERT INTO order_tokens (token_hash, order_id, created_at, via) VALUES"
                           " ($1, $2, $3, $4)",
                           "bsis", hash, (size_t)TOKEN_HASH_BYTES, order_id, now, via));
}

int store_watch_orders(struct db *db, void (*touched)(void *ctx, const char *order_id),
                       void (*status_changed)(void *ctx, const char *order_id), void *ctx)
{
    /* The tables whose rows carry their order's id, and the order itself. An event is updated
     * only for its webhook's delivery, which no page shows, and log entries never. */
    static const struct db_watch tables[] = {
        {"orders", "id", "status", false},
        {"card_keys", "order_id", NULL, false},
        {"events", "order_id", NULL, true},
        {"log_entries", "order_id", NULL, true},
        {"payments", "order_id", NULL, false},
        {"reveals", "order_id", NULL, false},
        {"topups", "order_id", NULL, false},
        {"account_deliveries", "order_id", NULL, false},
        {"cases", "order_id", NULL, false},
        {"refunds", "order_id", NULL, false},
        {"activations", "order_id", NULL, false},
        {"evidence", "order_id", NULL, false},
        {"disputes", "order_id", NULL, false},
    };
    return db_watch_rows(db, tables, (int)(sizeof tables / sizeof tables[0]), touched,
                         status_changed, ctx);
}

int store_order_token_find(struct db *db, const uint8_t *hash, char *order_id, size_t order_id_len)
{
    struct db_stmt *st = db_query(db, "SELECT order_id FROM order_tokens WHERE token_hash = $1",
                                  "b", hash, (size_t)TOKEN_HASH_BYTES);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        db_text_copy(st, 0, order_id, order_id_len);
    }
    db_done(st);
    return db_found(rc);
}

static int collect_ids(struct db_stmt *st, char (*ids)[ID_BYTES_MAX], int max, int *count)
{
    *count = 0;
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        db_text_copy(st, 0, ids[*count], ID_BYTES_MAX);
        (*count)++;
    }
    db_done(st);
    return *count < max && rc < 0 ? rc : 0;
}

int store_orders_expired(struct db *db, int64_t now, char (*ids)[ID_BYTES_MAX], int max, int *count)
{
    return collect_ids(db_query(db,
                                "SELECT id FROM orders WHERE status = 'pending_payment' AND"
                                " expires_at <= $1 ORDER BY expires_at LIMIT $2",
                                "ii", now, (int64_t)max),
                       ids, max, count);
}

int store_orders_escrow_due(struct db *db, int64_t now, char (*ids)[ID_BYTES_MAX], int max,
                            int *count)
{
    return collect_ids(db_query(db,
                                "SELECT id FROM orders WHERE status = 'delivered' AND kind ="
                                " 'account' AND escrow_release_at <= $1 AND NOT EXISTS (SELECT 1"
                                " FROM cases c WHERE c.order_id = orders.id AND c.status IN"
                                " ('waiting', 'open', 'awaiting_buyer', 'appealed')) AND NOT"
                                " EXISTS (SELECT 1 FROM disputes d WHERE d.order_id = orders.id"
                                " AND (d.status = 'needs_response' OR d.status ="
                                " 'under_review')) ORDER BY escrow_release_at LIMIT $2",
                                "ii", now, (int64_t)max),
                       ids, max, count);
}

int store_order_list(struct db *db, const char *after, int limit, const char *status,
                     struct order *out, int *count, bool *has_more)
{
    *count = 0;
    *has_more = false;
    /* Newest first; the cursor is an order id, whose (created_at, id) bounds the next page. */
    struct db_stmt *st = db_query(
        db,
        "SELECT " ORDER_COLUMNS " FROM orders WHERE ($1 = '' OR status = $1) AND ($2 = '' OR"
        " (created_at, id) < (SELECT created_at, id FROM orders WHERE id = $2)) ORDER BY"
        " created_at DESC, id DESC LIMIT $3",
        "ssi", status, after, (int64_t)limit + 1);
    int rc = DB_DONE;
    while ((rc = db_step(st)) == DB_ROW) {
        if (*count == limit) {
            *has_more = true;
            break;
        }
        order_read(st, &out[(*count)++]);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

#define PAYMENT_COLUMNS                                                                          \
    "id, order_id, method, amount_fen, status, COALESCE(disposition, ''),"                       \
    " COALESCE(provider_txn_id, ''), created_at, COALESCE(captured_at, 0)"

static void payment_read(struct db_stmt *st, struct payment *p)
{
    memset(p, 0, sizeof *p);
    db_text_copy(st, 0, p->id, sizeof p->id);
    db_text_copy(st, 1, p->order_id, sizeof p->order_id);
    db_text_copy(st, 2, p->method, sizeof p->method);
    p->amount_fen = db_int(st, 3);
    db_text_copy(st, 4, p->status, sizeof p->status);
    db_text_copy(st, 5, p->disposition, sizeof p->disposition);
    db_text_copy(st, 6, p->provider_txn_id, sizeof p->provider_txn_id);
    p->created_at = db_int(st, 7);
    p->captured_at = db_int(st, 8);
}

int store_payment_insert(struct db *db, const struct payment *p)
{
    return db_run(db_query(db,
                           "INSERT INTO payments (id, order_id, method, amount_fen, status,"
                           " created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                           "sssisi", p->id, p->order_id, p->method, p->amount_fen, p->status,
                           p->created_at));
}

int store_payment_get(struct db *db, const char *id, struct payment *out)
{
    struct db_stmt *st =
        db_query(db, "SELECT " PAYMENT_COLUMNS " FROM payments WHERE id = $1", "s", id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        payment_read(st, out);
    }
    db_done(st);
    return db_found(rc);
}

int store_payment_update(struct db *db, const struct payment *p)
{
    return db_run(db_query(db,
                           "UPDATE payments SET status = $1, disposition = $2, provider_txn_id ="
                           " $3, captured_at = NULLIF($4, 0) WHERE id = $5",
                           "sssis", p->status, or_null(p->disposition), or_null(p->provider_txn_id),
                           p->captured_at, p->id));
}

int store_payments_of_order(struct db *db, const char *order_id, struct payment *out, int max,
                            int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(db,
                                  "SELECT " PAYMENT_COLUMNS " FROM payments WHERE order_id = $1"
                                  " ORDER BY created_at, rowid",
                                  "s", order_id);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        payment_read(st, &out[(*count)++]);
    }
    db_done(st);
    return *count < max && rc < 0 ? rc : 0;
}

int store_payments_count_of_order(struct db *db, const char *order_id, int64_t *count)
{
    struct db_stmt *st =
        db_query(db, "SELECT COUNT(*) FROM payments WHERE order_id = $1", "s", order_id);
    int rc = db_step(st);
    *count = rc == DB_ROW ? db_int(st, 0) : 0;
    db_done(st);
    return rc == DB_ROW ? 0 : rc < 0 ? rc : -KM_EINTERNAL;
}

int store_reveal_insert(struct db *db, const char *id, const char *order_id,
                        const char *card_key_id, const char *actor, const char *ip, int64_t now,
                        int64_t waiver_at, const char *policy_version)
{
    return db_run(db_query(db,
                           "INSERT INTO reveals (id, order_id, card_key_id, actor, ip, revealed_at,"
                           " waiver_confirmed_at, policy_version) VALUES ($1, $2, $3, $4, $5, $6,"
                           " NULLIF($7, 0), $8)",
                           "sssssiis", id, order_id, or_null(card_key_id), actor, ip, now,
                           waiver_at, or_null(policy_version)));
}

int store_key_revealed(struct db *db, const char *card_key_id, bool *revealed)
{
    struct db_stmt *st =
        db_query(db, "SELECT 1 FROM reveals WHERE card_key_id = $1 LIMIT 1", "s", card_key_id);
    int rc = db_step(st);
    *revealed = rc == DB_ROW;
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_reveals_of_order(struct db *db, const char *order_id, struct reveal *out, int max,
                           int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(db,
                                  "SELECT id, COALESCE(card_key_id, ''), actor, ip, revealed_at,"
                                  " COALESCE(waiver_confirmed_at, 0), COALESCE(policy_version, '')"
                                  " FROM reveals WHERE order_id = $1 ORDER BY revealed_at, rowid",
                                  "s", order_id);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        struct reveal *r = &out[(*count)++];
        db_text_copy(st, 0, r->id, sizeof r->id);
        db_text_copy(st, 1, r->card_key_id, sizeof r->card_key_id);
        db_text_copy(st, 2, r->actor, sizeof r->actor);
        db_text_copy(st, 3, r->ip, sizeof r->ip);
        r->revealed_at = db_int(st, 4);
        r->waiver_confirmed_at = db_int(st, 5);
        db_text_copy(st, 6, r->policy_version, sizeof r->policy_version);
    }
    db_done(st);
    return *count < max && rc < 0 ? rc : 0;
}

#define TOPUP_COLUMNS                                                                            \
    "id, order_id, upstream, COALESCE(upstream_ref, ''), target_account,"                        \
    " COALESCE(target_region, ''), status, COALESCE(credited_region, ''), COALESCE(detail, ''),"  \
    " COALESCE(result_via, ''), created_at, COALESCE(submitted_at, 0), COALESCE(result_at, 0),"  \
    " next_poll_at"

static void topup_read(struct db_stmt *st, struct topup *t)
{
    memset(t, 0, sizeof *t);
    db_text_copy(st, 0, t->id, sizeof t->id);
    db_text_copy(st, 1, t->order_id, sizeof t->order_id);
    db_text_copy(st, 2, t->upstream, sizeof t->upstream);
    db_text_copy(st, 3, t->upstream_ref, sizeof t->upstream_ref);
    db_text_copy(st, 4, t->target_account, sizeof t->target_account);
    db_text_copy(st, 5, t->target_region, sizeof t->target_region);
    db_text_copy(st, 6, t->status, sizeof t->status);
    db_text_copy(st, 7, t->credited_region, sizeof t->credited_region);
    db_text_copy(st, 8, t->detail, sizeof t->detail);
    db_text_copy(st, 9, t->result_via, sizeof t->result_via);
    t->created_at = db_int(st, 10);
    t->submitted_at = db_int(st, 11);
    t->result_at = db_int(st, 12);
    t->next_poll_at = db_int(st, 13);
}

int store_topup_insert(struct db *db, const struct topup *t)
{
    return db_run(db_query(db,
                           "INSERT INTO topups (id, order_id, upstream, target_account,"
                           " target_region, status, created_at, next_poll_at) VALUES ($1, $2, $3,"
                           " $4, $5, $6, $7, $8)",
                           "ssssssii", t->id, t->order_id, t->upstream, t->target_account,
                           or_null(t->target_region), t->status, t->created_at, t->next_poll_at));
}

int store_topup_get_by_order(struct db *db, const char *order_id, struct topup *out)
{
    struct db_stmt *st =
        db_query(db, "SELECT " TOPUP_COLUMNS " FROM topups WHERE order_id = $1", "s", order_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        topup_read(st, out);
    }
    db_done(st);
    return db_found(rc);
}

int store_topup_get(struct db *db, const char *id, struct topup *out)
{
    struct db_stmt *st = db_query(db, "SELECT " TOPUP_COLUMNS " FROM topups WHERE id = $1", "s", id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        topup_read(st, out);
    }
    db_done(st);
    return db_found(rc);
}

int store_topup_update(struct db *db, const struct topup *t)
{
    return db_run(db_query(db,
                           "UPDATE topups SET upstream_ref = $1, status = $2, credited_region = $3,"
                           " detail = $4, submitted_at = NULLIF($5, 0), result_at = NULLIF($6, 0),"
                           " next_poll_at = $7, result_via = $8 WHERE id = $9",
                           "ssssiiiss", or_null(t->upstream_ref), t->status,
                           or_null(t->credited_region), or_null(t->detail), t->submitted_at,
                           t->result_at, t->next_poll_at, or_null(t->result_via), t->id));
}

int store_topups_due(struct db *db, int64_t now, char (*ids)[ID_BYTES_MAX], int max, int *count)
{
    return collect_ids(db_query(db,
                                "SELECT id FROM topups WHERE status IN ('queued', 'submitted') AND"
                                " next_poll_at <= $1 ORDER BY next_poll_at LIMIT $2",
                                "ii", now, (int64_t)max),
                       ids, max, count);
}

int store_account_delivery_insert(struct db *db, const char *order_id, const char *seller_id,
                                  const uint8_t *nonce, size_t nonce_len, const uint8_t *ct,
                                  size_t ct_len, int64_t now)
{
    return db_run(db_query(db,
                           "INSERT INTO account_deliveries (order_id, seller_id, nonce, ciphertext,"
                           " delivered_at) VALUES ($1, $2, $3, $4, $5)",
                           "ssbbi", order_id, seller_id, nonce, nonce_len, ct, ct_len, now));
}

int store_account_delivery_get(struct db *db, const char *order_id, uint8_t *nonce, uint8_t *ct,
                               size_t ct_max, size_t *ct_len, int64_t *confirmed_at)
{
    struct db_stmt *st = db_query(db,
                                  "SELECT nonce, ciphertext, COALESCE(confirmed_at, 0) FROM"
                                  " account_deliveries WHERE order_id = $1",
                                  "s", order_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        size_t n = 0;
        const void *p = db_blob(st, 0, &n);
        if (n != 24) {
            db_done(st);
            return -KM_EINTERNAL;
        }
        memcpy(nonce, p, n);
        p = db_blob(st, 1, &n);
        if (n > ct_max) {
            db_done(st);
            return -KM_EINTERNAL;
        }
        memcpy(ct, p, n);
        *ct_len = n;
        *confirmed_at = db_int(st, 2);
    }
    db_done(st);
    return db_found(rc);
}

int store_account_delivery_confirm(struct db *db, const char *order_id, const char *by,
                                   int64_t now)
{
    return db_run(db_query(db,
                           "UPDATE account_deliveries SET confirmed_at = $1, confirmed_by = $2"
                           " WHERE order_id = $3 AND confirmed_at IS NULL",
                           "iss", now, by, order_id));
}

int store_idempotency_get(struct db *db, const char *principal, const char *key,
                          uint8_t request_hash[32], int *status, uint8_t nonce[24],
                          uint8_t **sealed, size_t *sealed_len)
{
    struct db_stmt *st = db_query(db,
                                  "SELECT request_hash, status_code, response_nonce,"
                                  " response_sealed FROM idempotency_keys WHERE principal = $1"
                                  " AND key = $2",
                                  "ss", principal, key);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        size_t n = 0;
        const void *p = db_blob(st, 0, &n);
        memset(request_hash, 0, 32);
        memcpy(request_hash, p, n < 32 ? n : 32);
        *status = (int)db_int(st, 1);
        p = db_blob(st, 2, &n);
        memset(nonce, 0, 24);
        memcpy(nonce, p, n < 24 ? n : 24);
        p = db_blob(st, 3, &n);
        *sealed = malloc(n > 0 ? n : 1);
        km_assert(*sealed != NULL);
        memcpy(*sealed, p, n);
        *sealed_len = n;
    }
    db_done(st);
    return db_found(rc);
}

int store_idempotency_put(struct db *db, const char *principal, const char *key,
                          const uint8_t request_hash[32], int status, const uint8_t nonce[24],
                          const uint8_t *sealed, size_t sealed_len, int64_t now)
{
    return db_run(db_query(db,
                           "INSERT INTO idempotency_keys (principal, key, request_hash,"
                           " status_code, response_nonce, response_sealed, created_at) VALUES"
                           " ($1, $2, $3, $4, $5, $6, $7)",
                           "ssbibbi", principal, key, request_hash, (size_t)32, (int64_t)status,
                           nonce, (size_t)24, sealed, sealed_len, now));
}

int store_event_insert(struct db *db, const char *type, const char *object_id,
                       const char *order_id, const char *data_json, int64_t now)
{
    char id[ID_BYTES_MAX];
    id_new("evt", id);
    return db_run(db_query(db,
                           "INSERT INTO events (id, type, object_id, order_id, data, created_at,"
                           " webhook_state) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                           "sssssis", id, type, object_id, order_id, data_json, now,
                           store_events_queued() ? "pending" : "no_endpoint"));
}
