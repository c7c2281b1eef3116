/* Rows of the refund engine. */
#include "store/store_refunds.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static const char *or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

#define CASE_COLUMNS                                                                               \
    "id, order_id, origin, reason, status, policy_version, preview_outcome, preview_rule,"         \
    " COALESCE(first_decided_by, ''), COALESCE(appealed_at, 0), COALESCE(sla_due_at, 0),"          \
    " COALESCE(buyer_reply_due_at, 0), created_at, updated_at, COALESCE(late_at, 0)"

static void case_read(struct db_stmt *st, struct case_row *c)
{
    memset(c, 0, sizeof *c);
    db_text_copy(st, 0, c->id, sizeof c->id);
    db_text_copy(st, 1, c->order_id, sizeof c->order_id);
    db_text_copy(st, 2, c->origin, sizeof c->origin);
    db_text_copy(st, 3, c->reason, sizeof c->reason);
    db_text_copy(st, 4, c->status, sizeof c->status);
    db_text_copy(st, 5, c->policy_version, sizeof c->policy_version);
    db_text_copy(st, 6, c->preview_outcome, sizeof c->preview_outcome);
    db_text_copy(st, 7, c->preview_rule, sizeof c->preview_rule);
    db_text_copy(st, 8, c->first_decided_by, sizeof c->first_decided_by);
    c->appealed_at = db_int(st, 9);
    c->sla_due_at = db_int(st, 10);
    c->buyer_reply_due_at = db_int(st, 11);
    c->created_at = db_int(st, 12);
    c->updated_at = db_int(st, 13);
    c->late_at = db_int(st, 14);
}

int store_case_insert(struct db *db, const struct case_row *c)
{
    return db_run(db_query(db,
                           "INSERT INTO cases (id, order_id, origin, reason, status, policy_version,"
                           " preview_outcome, preview_rule, sla_due_at, created_at, updated_at)"
                           " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, 0), $10, $11)",
                           "ssssssssiii", c->id, c->order_id, c->origin, c->reason, c->status,
                           c->policy_version, c->preview_outcome, c->preview_rule, c->sla_due_at,
                           c->created_at, c->updated_at));
}

int store_case_get(struct db *db, const char *id, struct case_row *out)
{
    struct db_stmt *st = db_query(db, "SELECT " CASE_COLUMNS " FROM cases WHERE id = $1", "s", id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        case_read(st, out);
    }
    db_done(st);
    return db_found(rc);
}

int store_case_update(struct db *db, const struct case_row *c)
{
    return db_run(db_query(db,
                           "UPDATE cases SET status = $1, first_decided_by = $2, appealed_at ="
                           " NULLIF($3, 0), sla_due_at = NULLIF($4, 0), buyer_reply_due_at ="
                           " NULLIF($5, 0), updated_at = $6, late_at = NULLIF($8, 0) WHERE id = $7",
                           "ssiiiisi", c->status, or_null(c->first_decided_by), c->appealed_at,
                           c->sla_due_at, c->buyer_reply_due_at, c->updated_at, c->id, c->late_at));
}

int store_cases_of_order(struct db *db, const char *order_id, struct case_row *out, int max,
                         int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(db,
                                  "SELECT " CASE_COLUMNS " FROM cases WHERE order_id = $1 ORDER BY"
                                  " created_at, rowid",
                                  "s", order_id);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        case_read(st, &out[(*count)++]);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_cases_queue(struct db *db, const char *after_id, int limit, struct case_row *out,
                      int *count, bool *has_more)
{
    *count = 0;
    *has_more = false;
    struct db_stmt *st = db_query(
        db,
        "SELECT " CASE_COLUMNS " FROM cases WHERE status IN ('open', 'awaiting_buyer',"
        " 'appealed') AND ($1 = '' OR (sla_due_at, id) > (SELECT sla_due_at, id FROM cases WHERE"
        " id = $1)) ORDER BY sla_due_at, id LIMIT $2",
        "si", after_id, (int64_t)limit + 1);
    int rc = DB_DONE;
    while ((rc = db_step(st)) == DB_ROW) {
        if (*count == limit) {
            *has_more = true;
            break;
        }
        case_read(st, &out[(*count)++]);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

/* The id one query finds by one key: 0, or -KM_ENOTFOUND with id left as it was. */
static int id_by(struct db *db, const char *sql, const char *key, char *id)
{
    struct db_stmt *st = db_query(db, sql, "s", key);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        db_text_copy(st, 0, id, ID_BYTES_MAX);
    }
    db_done(st);
    return db_found(rc);
}

int store_case_waiting_of_order(struct db *db, const char *order_id, char *case_id)
{
    return id_by(db,
                 "SELECT id FROM cases WHERE order_id = $1 AND status = 'waiting' ORDER BY"
                 " created_at LIMIT 1",
                 order_id, case_id);
}

int store_case_active_of_order(struct db *db, const char *order_id, char *case_id)
{
    return id_by(db,
                 "SELECT id FROM cases WHERE order_id = $1 AND status IN ('waiting', 'open',"
                 " 'awaiting_buyer', 'appealed') ORDER BY created_at LIMIT 1",
                 order_id, case_id);
}

int store_decision_insert(struct db *db, const struct decision_row *d)
{
    return db_run(db_query(db,
                           "INSERT INTO decisions (id, case_id, stage, outcome, rule, amount_fen,"
                           " automatic, decided_by, facts, explanation, created_at, sla_due_at)"
                           " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULLIF($12, 0))",
                           "sssssiisssii", d->id, d->case_id, d->stage, d->outcome, d->rule,
                           d->amount_fen, (int64_t)(d->automatic ? 1 : 0), d->decided_by, d->facts,
                           d->explanation, d->created_at, d->sla_due_at));
}

int store_decisions_of_case(struct db *db, const char *case_id, struct decision_row *out, int max,
                            int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(db,
                                  "SELECT id, case_id, stage, outcome, rule, amount_fen, automatic,"
                                  " decided_by, facts, explanation, created_at FROM decisions"
                                  " WHERE case_id = $1 ORDER BY CASE stage WHEN 'initial' THEN 0"
                                  " ELSE 1 END",
                                  "s", case_id);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        struct decision_row *d = &out[(*count)++];
        memset(d, 0, sizeof *d);
        db_text_copy(st, 0, d->id, sizeof d->id);
        db_text_copy(st, 1, d->case_id, sizeof d->case_id);
        db_text_copy(st, 2, d->stage, sizeof d->stage);
        db_text_copy(st, 3, d->outcome, sizeof d->outcome);
        db_text_copy(st, 4, d->rule, sizeof d->rule);
        d->amount_fen = db_int(st, 5);
        d->automatic = db_int(st, 6) != 0;
        db_text_copy(st, 7, d->decided_by, sizeof d->decided_by);
        db_text_copy(st, 8, d->facts, sizeof d->facts);
        db_text_copy(st, 9, d->explanation, sizeof d->explanation);
        d->created_at = db_int(st, 10);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_message_insert(struct db *db, const char *case_id, const char *author, const char *body,
                         const char *evidence_json, int64_t now)
{
    char id[ID_BYTES_MAX];
    id_new("msg", id);
    return db_run(db_query(db,
                           "INSERT INTO case_messages (id, case_id, author, body, evidence,"
                           " created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                           "sssssi", id, case_id, author, body, evidence_json, now));
}

int store_messages_of_case(struct db *db, const char *case_id, struct message_row *out, int max,
                           int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(db,
                                  "SELECT id, author, body, evidence, created_at FROM case_messages"
                                  " WHERE case_id = $1 ORDER BY created_at, rowid",
                                  "s", case_id);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        struct message_row *m = &out[(*count)++];
        db_text_copy(st, 0, m->id, sizeof m->id);
        db_text_copy(st, 1, m->author, sizeof m->author);
        db_text_copy(st, 2, m->body, sizeof m->body);
        db_text_copy(st, 3, m->evidence, sizeof m->evidence);
        m->created_at = db_int(st, 4);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_evidence_insert(struct db *db, const char *id, const char *order_id,
                          const char *sha256_hex, const char *content_type, const void *data,
                          size_t size, const char *filename, const char *uploaded_by, int64_t now)
{
    /* The same content uploaded twice for one order is one piece of evidence. */
    return db_run(db_query(db,
                           "INSERT INTO evidence (id, order_id, sha256, content_type, size,"
                           " filename, uploaded_by, data, created_at) VALUES ($1, $2, $3, $4, $5,"
                           " $6, $7, $8, $9) ON CONFLICT (order_id, id) DO NOTHING",
                           "ssssissbi", id, order_id, sha256_hex, content_type, (int64_t)size,
                           filename, uploaded_by, data, size, now));
}

int store_evidence_meta(struct db *db, const char *order_id, const char *id, char *content_type,
                        size_t type_len, int64_t *size, char *filename, size_t filename_len)
{
    struct db_stmt *st = db_query(db,
                                  "SELECT content_type, size, filename FROM evidence WHERE"
                                  " order_id = $1 AND id = $2",
                                  "ss", order_id, id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        db_text_copy(st, 0, content_type, type_len);
        *size = db_int(st, 1);
        db_text_copy(st, 2, filename, filename_len);
    }
    db_done(st);
    return db_found(rc);
}

int store_evidence_count(struct db *db, const char *order_id, int64_t *count)
{
    struct db_stmt *st =
        db_query(db, "SELECT COUNT(*) FROM evidence WHERE order_id = $1", "s", order_id);
    int rc = db_step(st);
    *count = rc == DB_ROW ? db_int(st, 0) : 0;
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_evidence_data(struct db *db, const char *order_id, const char *id, void **data,
                        size_t *size)
{
    struct db_stmt *st = db_query(
        db, "SELECT data FROM evidence WHERE order_id = $1 AND id = $2", "ss", order_id, id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        const void *p = db_blob(st, 0, size);
        *data = malloc(*size > 0 ? *size : 1);
        km_assert(*data != NULL);
        memcpy(*data, p, *size);
    }
    db_done(st);
    return db_found(rc);
}

#define REFUND_COLUMNS                                                                           \
    "id, order_id, COALESCE(case_id, ''), payment_id, method, amount_fen, rule, status,"         \
    " provider_request_no, COALESCE(provider_refund_id, ''), attempts, next_attempt_at,"          \
    " expected_by, COALESCE(failure_reason, ''), created_at, COALESCE(completed_at, 0),"        \
    " COALESCE(rerouted_from, ''), COALESCE(overdue_at, 0)"

static void refund_read(struct db_stmt *st, struct refund_row *r)
{
    memset(r, 0, sizeof *r);
    db_text_copy(st, 0, r->id, sizeof r->id);
    db_text_copy(st, 1, r->order_id, sizeof r->order_id);
    db_text_copy(st, 2, r->case_id, sizeof r->case_id);
    db_text_copy(st, 3, r->payment_id, sizeof r->payment_id);
    db_text_copy(st, 4, r->method, sizeof r->method);
    r->amount_fen = db_int(st, 5);
    db_text_copy(st, 6, r->rule, sizeof r->rule);
    db_text_copy(st, 7, r->status, sizeof r->status);
    db_text_copy(st, 8, r->provider_request_no, sizeof r->provider_request_no);
    db_text_copy(st, 9, r->provider_refund_id, sizeof r->provider_refund_id);
    r->attempts = db_int(st, 10);
    r->next_attempt_at = db_int(st, 11);
    r->expected_by = db_int(st, 12);
    db_text_copy(st, 13, r->failure_reason, sizeof r->failure_reason);
    r->created_at = db_int(st, 14);
    r->completed_at = db_int(st, 15);
    db_text_copy(st, 16, r->rerouted_from, sizeof r->rerouted_from);
    r->overdue_at = db_int(st, 17);
}

int store_refund_insert(struct db *db, const struct refund_row *r)
{
    return db_run(db_query(db,
                           "INSERT INTO refunds (id, order_id, case_id, payment_id, method,"
                           " amount_fen, rule, status, provider_request_no, next_attempt_at,"
                           " expected_by, created_at, rerouted_from, completed_at) VALUES ($1, $2,"
                           " $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULLIF($14, 0))",
                           "sssssisssiiisi", r->id, r->order_id, or_null(r->case_id),
                           r->payment_id, r->method, r->amount_fen, r->rule, r->status,
                           r->provider_request_no, r->next_attempt_at, r->expected_by,
                           r->created_at, or_null(r->rerouted_from), r->completed_at));
}

int store_refund_successor(struct db *db, const char *refund_id, char *successor_id)
{
    successor_id[0] = '\0';
    int rc = id_by(db, "SELECT id FROM refunds WHERE rerouted_from = $1", refund_id, successor_id);
    return rc == 0 || rc == -KM_ENOTFOUND ? 0 : -1;
}

int store_refund_get(struct db *db, const char *id, struct refund_row *out)
{
    struct db_stmt *st =
        db_query(db, "SELECT " REFUND_COLUMNS " FROM refunds WHERE id = $1", "s", id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        refund_read(st, out);
    }
    db_done(st);
    return db_found(rc);
}

int store_refund_by_request_no(struct db *db, const char *request_no, char *id)
{
    return id_by(db, "SELECT id FROM refunds WHERE provider_request_no = $1", request_no, id);
}

int store_refund_update(struct db *db, const struct refund_row *r, const char *was)
{
    /* Only from the state the caller read: a refund that ended meanwhile changes no row. */
    return db_run_one(db_query(db,
                               "UPDATE refunds SET status = $1, provider_refund_id = $2, attempts ="
                               " $3, next_attempt_at = $4, failure_reason = $5, completed_at ="
                               " NULLIF($6, 0) WHERE id = $7 AND status = $8",
                               "ssiisiss", r->status, or_null(r->provider_refund_id), r->attempts,
                               r->next_attempt_at, or_null(r->failure_reason), r->completed_at,
                               r->id, was));
}

/* Every refund st lists, into a grown array (free it). */
static int refunds_listed(struct db_stmt *st, struct refund_row **out, int *count)
{
    *out = NULL;
    *count = 0;
    int cap = 0, rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (*count == cap) {
            cap = cap == 0 ? 4 : cap * 2;
            *out = realloc(*out, (size_t)cap * sizeof **out);
            km_assert(*out != NULL);
        }
        refund_read(st, &(*out)[(*count)++]);
    }
    db_done(st);
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *count = 0;
        return rc;
    }
    return 0;
}

int store_refunds_of_order(struct db *db, const char *order_id, struct refund_row **out, int *count)
{
    return refunds_listed(db_query(db,
                                   "SELECT " REFUND_COLUMNS " FROM refunds WHERE order_id = $1"
                                   " ORDER BY created_at, rowid",
                                   "s", order_id),
                          out, count);
}

int store_refunds_overdue(struct db *db, struct refund_row **out, int *count)
{
    return refunds_listed(db_query(db,
                                   "SELECT " REFUND_COLUMNS " FROM refunds WHERE status = 'pending'"
                                   " AND overdue_at IS NOT NULL ORDER BY expected_by, rowid",
                                   ""),
                          out, count);
}

int store_refunds_unpaid(struct db *db, struct refund_row **out, int *count)
{
    return refunds_listed(db_query(db,
                                   "SELECT " REFUND_COLUMNS " FROM refunds r WHERE r.status IN"
                                   " ('failed', 'requires_action') AND NOT EXISTS (SELECT 1 FROM"
                                   " refunds s WHERE s.rerouted_from = r.id) ORDER BY"
                                   " COALESCE(r.completed_at, r.created_at), r.rowid",
                                   ""),
                          out, count);
}

/* The ids a timer's query lists: its SQL takes the time ($1) and a limit ($2). */
static int ids_due(struct db *db, const char *sql, int64_t now, char (*ids)[ID_BYTES_MAX],
                   int max, int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(db, sql, "ii", now, (int64_t)max);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        db_text_copy(st, 0, ids[(*count)++], ID_BYTES_MAX);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_refunds_due(struct db *db, int64_t now, char (*ids)[ID_BYTES_MAX], int max, int *count)
{
    return ids_due(db,
                   "SELECT id FROM refunds WHERE status = 'pending' AND next_attempt_at <= $1"
                   " ORDER BY next_attempt_at LIMIT $2",
                   now, ids, max, count);
}

/* The sum one query over a payment's refunds gives. */
/* The one integer a query of one text parameter answers. */
static int int_by(struct db *db, const char *sql, const char *arg, int64_t *out)
{
    *out = 0;
    struct db_stmt *st = db_query(db, sql, "s", arg);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *out = db_int(st, 0);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_refunds_newly_overdue(struct db *db, int64_t now, char (*ids)[ID_BYTES_MAX], int max,
                                int *count)
{
    return ids_due(db,
                   "SELECT id FROM refunds WHERE overdue_at IS NULL AND status = 'pending' AND"
                   " expected_by < $1 ORDER BY expected_by LIMIT $2",
                   now, ids, max, count);
}

int store_refund_mark_overdue(struct db *db, const char *id, int64_t now)
{
    return db_run_one(db_query(db,
                               "UPDATE refunds SET overdue_at = $1 WHERE id = $2 AND overdue_at IS"
                               " NULL AND status = 'pending'",
                               "is", now, id));
}

int store_refunded_of_payment(struct db *db, const char *payment_id, int64_t *fen)
{
    /* A dispute the shop lost went back to the buyer through the provider: a refund too. */
    return int_by(db,
                  "SELECT (SELECT COALESCE(SUM(r.amount_fen), 0) FROM refunds r WHERE"
                  " r.payment_id = $1 AND r.status != 'failed' AND NOT EXISTS (SELECT 1 FROM"
                  " refunds s WHERE s.rerouted_from = r.id)) + (SELECT COALESCE(SUM(frozen_fen),"
                  " 0) FROM disputes WHERE payment_id = $1 AND status = 'lost')",
                  payment_id, fen);
}

int store_disputed_of_payment(struct db *db, const char *payment_id, int64_t *fen)
{
    return int_by(db,
                  "SELECT COALESCE(SUM(frozen_fen), 0) FROM disputes WHERE payment_id = $1 AND"
                  " (status = 'needs_response' OR status = 'under_review')",
                  payment_id, fen);
}

int store_paid_of_payment(struct db *db, const char *payment_id, int64_t *fen)
{
    /* A dispute the shop lost paid the buyer through the provider: money out like a refund. */
    return int_by(db,
                  "SELECT (SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE payment_id = $1"
                  " AND status = 'succeeded') + (SELECT COALESCE(SUM(frozen_fen), 0) FROM"
                  " disputes WHERE payment_id = $1 AND status = 'lost')",
                  payment_id, fen);
}

int store_activation_insert(struct db *db, const char *card_key_id, const char *order_id,
                            int64_t at, const char *source)
{
    int rc = db_run(db_query(db,
                             "INSERT INTO activations (card_key_id, order_id, activated_at,"
                             " source) VALUES ($1, $2, $3, $4) ON CONFLICT (card_key_id) DO"
                             " NOTHING",
                             "ssis", card_key_id, order_id, at, source));
    return rc == 0 && db_changes(db) == 0 ? -KM_EDUPLICATE : rc;
}

int store_activations_of_order(struct db *db, const char *order_id, int *count)
{
    *count = 0;
    struct db_stmt *st =
        db_query(db, "SELECT COUNT(*) FROM activations WHERE order_id = $1", "s", order_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *count = (int)db_int(st, 0);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_activation_of_key(struct db *db, const char *card_key_id, int64_t *at)
{
    *at = 0;
    struct db_stmt *st = db_query(db, "SELECT activated_at FROM activations WHERE card_key_id = $1",
                                  "s", card_key_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *at = db_int(st, 0);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_orders_refund_candidates(struct db *db, int64_t now, char (*ids)[ID_BYTES_MAX], int max,
                                   int *count)
{
    return ids_due(
        db,
        "SELECT o.id FROM orders o JOIN topups t ON t.order_id = o.id JOIN products p ON p.id ="
        " o.product_id WHERE t.status IN ('queued', 'submitted') AND o.paid_at +"
        " p.topup_timeout_minutes * 60000 <= $1 AND o.status != 'refunded'"
        " UNION SELECT o.id FROM orders o WHERE o.status = 'failed' AND NOT EXISTS (SELECT 1 FROM"
        " refunds r WHERE r.order_id = o.id)"
        " UNION SELECT o.id FROM orders o JOIN topups t ON t.order_id = o.id WHERE t.status ="
        " 'wrong_region' AND o.status != 'refunded' AND NOT EXISTS (SELECT 1 FROM refunds r"
        " WHERE r.order_id = o.id)"
        " UNION SELECT pm.order_id FROM payments pm WHERE pm.status = 'succeeded' AND"
        " pm.disposition != 'applied' AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id"
        " = pm.id)"
        " LIMIT $2",
        now, ids, max, count);
}

int store_refund_facts(struct db *db, int64_t since,
                       void (*each)(void *ctx, const struct refund_fact *f), void *ctx)
{
    struct db_stmt *st = db_query(
        db,
        "SELECT r.created_at, r.amount_fen, CASE WHEN r.status = 'succeeded' THEN"
        " COALESCE(r.completed_at, 0) ELSE 0 END, COALESCE(c.created_at, r.created_at),"
        " r.case_id IS NULL AND r.rerouted_from IS NULL FROM refunds r LEFT JOIN cases c ON"
        " c.id = r.case_id WHERE"
        " r.status != 'failed' AND (r.created_at >= $1 OR r.completed_at >= $1)",
        "i", since);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        struct refund_fact f = {db_int(st, 0), db_int(st, 1), db_int(st, 2), db_int(st, 3),
                                db_int(st, 4) != 0};
        each(ctx, &f);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_first_decisions(struct db *db, int64_t since,
                          void (*each)(void *ctx, const struct decision_fact *f), void *ctx)
{
    struct db_stmt *st = db_query(db,
                                  "SELECT c.created_at, d.created_at, d.automatic FROM decisions d"
                                  " JOIN cases c ON c.id = d.case_id WHERE d.stage = 'initial' AND"
                                  " d.created_at >= $1",
                                  "i", since);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        struct decision_fact f = {db_int(st, 0), db_int(st, 1), db_int(st, 2) != 0};
        each(ctx, &f);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}
