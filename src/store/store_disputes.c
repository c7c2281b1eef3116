/* Rows of the disputes table. */
#include "store/store_disputes.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define DISPUTE_COLUMNS                                                                            \
    "id, provider_dispute_id, order_id, payment_id, reason, amount_fen, frozen_fen,"               \
    " frozen_from_escrow_fen, status, respond_by, opened_at, response, responded_by,"              \
    " responded_at, bundle_sha256, closed_at, outcome_detail"

static void dispute_read(struct db_stmt *st, struct dispute_row *d)
{
    memset(d, 0, sizeof *d);
    db_text_copy(st, 0, d->id, sizeof d->id);
    db_text_copy(st, 1, d->provider_dispute_id, sizeof d->provider_dispute_id);
    db_text_copy(st, 2, d->order_id, sizeof d->order_id);
    db_text_copy(st, 3, d->payment_id, sizeof d->payment_id);
    db_text_copy(st, 4, d->reason, sizeof d->reason);
    d->amount_fen = db_int(st, 5);
    d->frozen_fen = db_int(st, 6);
    d->frozen_from_escrow_fen = db_int(st, 7);
    db_text_copy(st, 8, d->status, sizeof d->status);
    d->respond_by = db_int(st, 9);
    d->opened_at = db_int(st, 10);
    db_text_copy(st, 11, d->response, sizeof d->response);
    db_text_copy(st, 12, d->responded_by, sizeof d->responded_by);
    d->responded_at = db_int(st, 13);
    db_text_copy(st, 14, d->bundle_sha256, sizeof d->bundle_sha256);
    d->closed_at = db_int(st, 15);
    db_text_copy(st, 16, d->outcome_detail, sizeof d->outcome_detail);
}

static const char *or_null(const char *s)
{
    return s[0] != '\0' ? s : NULL;
}

int store_dispute_insert(struct db *db, const struct dispute_row *d)
{
    return db_run(db_query(db,
                           "INSERT INTO disputes (id, provider_dispute_id, order_id, payment_id,"
                           " reason, amount_fen, frozen_fen, frozen_from_escrow_fen, status,"
                           " respond_by, opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
                           " $10, $11)",
                           "sssssiiisii", d->id, d->provider_dispute_id, d->order_id, d->payment_id,
                           d->reason, d->amount_fen, d->frozen_fen, d->frozen_from_escrow_fen,
                           d->status, d->respond_by, d->opened_at));
}

static int one(struct db_stmt *st, struct dispute_row *out)
{
    int rc = db_step(st);
    if (rc == DB_ROW) {
        dispute_read(st, out);
    }
    db_done(st);
    return db_found(rc);
}

int store_dispute_get(struct db *db, const char *id, struct dispute_row *out)
{
    return one(db_query(db, "SELECT " DISPUTE_COLUMNS " FROM disputes WHERE id = $1", "s", id),
               out);
}

int store_dispute_by_provider(struct db *db, const char *provider_dispute_id,
                              struct dispute_row *out)
{
    return one(db_query(db,
                        "SELECT " DISPUTE_COLUMNS " FROM disputes WHERE provider_dispute_id = $1",
                        "s", provider_dispute_id),
               out);
}

int store_dispute_update(struct db *db, const struct dispute_row *d, const char *status_before,
                         const char *bundle)
{
    return db_run_one(db_query(
        db,
        "UPDATE disputes SET status = $2, response = $3, responded_by = $4, responded_at = $5,"
        " bundle = COALESCE($6, bundle), bundle_sha256 = $7, closed_at = $8, outcome_detail = $9"
        " WHERE id = $1 AND status = $10",
        "ssssississ", d->id, d->status, or_null(d->response), or_null(d->responded_by),
        d->responded_at, bundle, or_null(d->bundle_sha256), d->closed_at,
        or_null(d->outcome_detail), status_before));
}

int store_dispute_set_frozen(struct db *db, const char *id, int64_t frozen_fen)
{
    return db_run_one(
        db_query(db, "UPDATE disputes SET frozen_fen = $2 WHERE id = $1", "si", id, frozen_fen));
}

int store_dispute_bundle(struct db *db, const char *id, char **bundle)
{
    *bundle = NULL;
    struct db_stmt *st = db_query(db, "SELECT bundle FROM disputes WHERE id = $1", "s", id);
    int rc = db_step(st);
    if (rc == DB_ROW && !db_is_null(st, 0)) {
        *bundle = strdup(db_text(st, 0));
        if (*bundle == NULL) {
            rc = -KM_EINTERNAL;
        }
    }
    db_done(st);
    return db_found(rc);
}

int store_dispute_open_of_order(struct db *db, const char *order_id, char *id)
{
    struct db_stmt *st = db_query(db,
                                  "SELECT id FROM disputes WHERE order_id = $1 AND (status ="
                                  " 'needs_response' OR status = 'under_review') LIMIT 1",
                                  "s", order_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        db_text_copy(st, 0, id, ID_BYTES_MAX);
    }
    db_done(st);
    return db_found(rc);
}

int store_disputes_of_order(struct db *db, const char *order_id, struct dispute_row *out, int max,
                            int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(
        db, "SELECT " DISPUTE_COLUMNS " FROM disputes WHERE order_id = $1 ORDER BY opened_at, id",
        "s", order_id);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        dispute_read(st, &out[(*count)++]);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_disputes_list(struct db *db, bool open_only, const char *after_id, int limit,
                        struct dispute_row *out, int *count, bool *has_more)
{
    *count = 0;
    *has_more = false;
    struct db_stmt *st =
        open_only
            ? db_query(db,
                       "SELECT " DISPUTE_COLUMNS
                       " FROM disputes WHERE (status = 'needs_response' OR status ="
                       " 'under_review') AND ($1 = '' OR (respond_by, id) > (SELECT respond_by,"
                       " id FROM disputes WHERE id = $1)) ORDER BY respond_by, id LIMIT $2",
                       "si", after_id, (int64_t)limit + 1)
            : db_query(db,
                       "SELECT " DISPUTE_COLUMNS
                       " FROM disputes WHERE $1 = '' OR (opened_at, id) < (SELECT opened_at, id"
                       " FROM disputes WHERE id = $1) ORDER BY opened_at DESC, id DESC LIMIT $2",
                       "si", after_id, (int64_t)limit + 1);
    int rc = DB_DONE;
    while ((rc = db_step(st)) == DB_ROW) {
        if (*count == limit) {
            *has_more = true;
            break;
        }
        dispute_read(st, &out[(*count)++]);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_disputes_to_poll(struct db *db, int64_t now, int64_t grace_ms, char (*ids)[ID_BYTES_MAX],
                           int max, int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(db,
                                  "SELECT id FROM disputes WHERE ((status = 'needs_response' AND"
                                  " respond_by <= $1) OR (status = 'under_review' AND"
                                  " responded_at <= $1)) AND poll_next_at <= $3 ORDER BY"
                                  " poll_next_at, respond_by, id LIMIT $2",
                                  "iii", now - grace_ms, (int64_t)max, now);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        db_text_copy(st, 0, ids[(*count)++], ID_BYTES_MAX);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_dispute_poll_later(struct db *db, const char *id, int64_t at)
{
    return db_run(
        db_query(db, "UPDATE disputes SET poll_next_at = $2 WHERE id = $1", "si", id, at));
}
