/* Rows of the sandbox providers. */
#include "store/store_sandbox.h"

#include <string.h>

#include "core/err.h"

int store_sandbox_charge_insert(struct db *db, const struct sandbox_charge *c)
{
    return db_run(db_query(db,
                           "INSERT INTO sandbox_charges (id, payment_id, outcome, amount_fen,"
                           " method, created_at, notify_next_at) VALUES ($1, $2, $3, $4, $5, $6,"
                           " $6)",
                           "sssisi", c->id, c->payment_id, c->outcome, c->amount_fen, c->method,
                           c->created_at));
}

int store_sandbox_charges_due(struct db *db, int64_t now, int64_t after, int attempts_max,
                              struct sandbox_charge *out, int max, int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(db,
                                  "SELECT id, payment_id, outcome, method, amount_fen, created_at,"
                                  " notify_attempts, notify_next_at FROM sandbox_charges WHERE"
                                  " notified_at IS NULL AND notify_next_at <= $1 AND"
                                  " notify_next_at > $2 AND notify_attempts < $3 ORDER BY"
                                  " notify_next_at LIMIT $4",
                                  "iiii", now, after, (int64_t)attempts_max, (int64_t)max);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        struct sandbox_charge *c = &out[(*count)++];
        memset(c, 0, sizeof *c);
        db_text_copy(st, 0, c->id, sizeof c->id);
        db_text_copy(st, 1, c->payment_id, sizeof c->payment_id);
        db_text_copy(st, 2, c->outcome, sizeof c->outcome);
        db_text_copy(st, 3, c->method, sizeof c->method);
        c->amount_fen = db_int(st, 4);
        c->created_at = db_int(st, 5);
        c->notify_attempts = db_int(st, 6);
        c->notify_next_at = db_int(st, 7);
    }
    db_done(st);
    return *count < max && rc < 0 ? rc : 0;
}

int store_sandbox_charge_notified(struct db *db, const char *id, int64_t now, int64_t retry_at)
{
    if (retry_at == 0) {
        return db_run(db_query(db,
                               "UPDATE sandbox_charges SET notified_at = $1, notify_attempts ="
                               " notify_attempts + 1 WHERE id = $2",
                               "is", now, id));
    }
    return db_run(db_query(db,
                           "UPDATE sandbox_charges SET notify_next_at = $1, notify_attempts ="
                           " notify_attempts + 1 WHERE id = $2",
                           "is", retry_at, id));
}

int store_sandbox_topup_insert(struct db *db, const struct sandbox_topup *t)
{
    return db_run(db_query(db,
                           "INSERT INTO sandbox_topups (id, topup_id, target_account,"
                           " target_region, outcome, callback, credited_region, created_at,"
                           " result_at, notify_next_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
                           " NULLIF($9, 0), NULLIF($9, 0))",
                           "sssssisii", t->id, t->topup_id, t->target_account, t->target_region,
                           t->outcome, t->callback, t->credited_region, t->created_at,
                           t->result_at));
}

static void sandbox_topup_read(struct db_stmt *st, struct sandbox_topup *t)
{
    memset(t, 0, sizeof *t);
    db_text_copy(st, 0, t->id, sizeof t->id);
    db_text_copy(st, 1, t->topup_id, sizeof t->topup_id);
    db_text_copy(st, 2, t->target_account, sizeof t->target_account);
    db_text_copy(st, 3, t->target_region, sizeof t->target_region);
    db_text_copy(st, 4, t->outcome, sizeof t->outcome);
    t->callback = db_int(st, 5);
    db_text_copy(st, 6, t->credited_region, sizeof t->credited_region);
    t->created_at = db_int(st, 7);
    t->result_at = db_int(st, 8);
    t->notify_attempts = db_int(st, 9);
    t->notify_next_at = db_int(st, 10);
}

#define SANDBOX_TOPUP_COLUMNS                                                                      \
    "id, topup_id, target_account, COALESCE(target_region, ''), outcome, callback,"                \
    " COALESCE(credited_region, ''), created_at, COALESCE(result_at, 0), notify_attempts,"         \
    " COALESCE(notify_next_at, 0)"

int store_sandbox_topup_get(struct db *db, const char *id, struct sandbox_topup *out)
{
    struct db_stmt *st =
        db_query(db, "SELECT " SANDBOX_TOPUP_COLUMNS " FROM sandbox_topups WHERE id = $1", "s", id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        sandbox_topup_read(st, out);
    }
    db_done(st);
    return db_found(rc);
}

int store_sandbox_topups_due(struct db *db, int64_t now, int64_t after, int attempts_max,
                             struct sandbox_topup *out, int max, int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(db,
                                  "SELECT " SANDBOX_TOPUP_COLUMNS " FROM sandbox_topups WHERE"
                                  " notified_at IS NULL AND callback = 1 AND notify_next_at <= $1"
                                  " AND notify_next_at > $2 AND notify_attempts < $3 ORDER BY"
                                  " notify_next_at LIMIT $4",
                                  "iiii", now, after, (int64_t)attempts_max, (int64_t)max);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        sandbox_topup_read(st, &out[(*count)++]);
    }
    db_done(st);
    return *count < max && rc < 0 ? rc : 0;
}

int store_sandbox_topup_notified(struct db *db, const char *id, int64_t now, int64_t retry_at)
{
    if (retry_at == 0) {
        return db_run(db_query(db,
                               "UPDATE sandbox_topups SET notified_at = $1, notify_attempts ="
                               " notify_attempts + 1 WHERE id = $2",
                               "is", now, id));
    }
    return db_run(db_query(db,
                           "UPDATE sandbox_topups SET notify_next_at = $1, notify_attempts ="
                           " notify_attempts + 1 WHERE id = $2",
                           "is", retry_at, id));
}

int store_sandbox_topup_find(struct db *db, const char *topup_id, char *id)
{
    struct db_stmt *st =
        db_query(db, "SELECT id FROM sandbox_topups WHERE topup_id = $1", "s", topup_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        db_text_copy(st, 0, id, ID_BYTES_MAX);
    }
    db_done(st);
    return db_found(rc);
}

#define SANDBOX_REFUND_COLUMNS                                                                     \
    "id, request_no, payment_id, method, amount_fen, outcome, failures_left, created_at,"          \
    " result_at, notify_attempts, notify_next_at"

static void sandbox_refund_read(struct db_stmt *st, struct sandbox_refund *r)
{
    memset(r, 0, sizeof *r);
    db_text_copy(st, 0, r->id, sizeof r->id);
    db_text_copy(st, 1, r->request_no, sizeof r->request_no);
    db_text_copy(st, 2, r->payment_id, sizeof r->payment_id);
    db_text_copy(st, 3, r->method, sizeof r->method);
    r->amount_fen = db_int(st, 4);
    db_text_copy(st, 5, r->outcome, sizeof r->outcome);
    r->failures_left = db_int(st, 6);
    r->created_at = db_int(st, 7);
    r->result_at = db_int(st, 8);
    r->notify_attempts = db_int(st, 9);
    r->notify_next_at = db_int(st, 10);
}

int store_sandbox_refund_get(struct db *db, const char *request_no, struct sandbox_refund *out)
{
    struct db_stmt *st = db_query(db,
                                  "SELECT " SANDBOX_REFUND_COLUMNS " FROM sandbox_refunds WHERE"
                                  " request_no = $1",
                                  "s", request_no);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        sandbox_refund_read(st, out);
    }
    db_done(st);
    return db_found(rc);
}

int store_sandbox_refund_insert(struct db *db, const struct sandbox_refund *r)
{
    return db_run(db_query(db,
                           "INSERT INTO sandbox_refunds (id, request_no, payment_id, method,"
                           " amount_fen, outcome, failures_left, created_at, result_at,"
                           " notify_next_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                           "ssssisiii", r->id, r->request_no, r->payment_id, r->method,
                           r->amount_fen, r->outcome, r->failures_left, r->created_at,
                           r->result_at));
}

int store_sandbox_refund_update(struct db *db, const struct sandbox_refund *r)
{
    return db_run(db_query(db,
                           "UPDATE sandbox_refunds SET failures_left = $1, result_at = $2,"
                           " notify_next_at = $2 WHERE id = $3",
                           "iis", r->failures_left, r->result_at, r->id));
}

int store_sandbox_refunds_due(struct db *db, int64_t now, int64_t after, int attempts_max,
                              struct sandbox_refund *out, int max, int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(db,
                                  "SELECT " SANDBOX_REFUND_COLUMNS " FROM sandbox_refunds WHERE"
                                  " notified_at IS NULL AND result_at > 0 AND notify_next_at <= $1"
                                  " AND notify_next_at > $2 AND notify_attempts < $3 ORDER BY"
                                  " notify_next_at LIMIT $4",
                                  "iiii", now, after, (int64_t)attempts_max, (int64_t)max);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        sandbox_refund_read(st, &out[(*count)++]);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_sandbox_refund_paid_late(struct db *db, const char *id, int64_t cents, int64_t result_at,
                                   bool *changed)
{
    int rc = db_run(db_query(db,
                             "UPDATE sandbox_refunds SET outcome = 'succeeded', result_at = $1,"
                             " notify_next_at = $1, notify_attempts = 0 WHERE id = $2 AND"
                             " outcome = 'failed' AND amount_fen % 100 = $3",
                             "isi", result_at, id, cents));
    *changed = rc == 0 && db_changes(db) == 1;
    return rc;
}

int store_sandbox_refund_notified(struct db *db, const char *id, int64_t now, int64_t retry_at)
{
    if (retry_at == 0) {
        return db_run(db_query(db,
                               "UPDATE sandbox_refunds SET notified_at = $1, notify_attempts ="
                               " notify_attempts + 1 WHERE id = $2",
                               "is", now, id));
    }
    return db_run(db_query(db,
                           "UPDATE sandbox_refunds SET notify_next_at = $1, notify_attempts ="
                           " notify_attempts + 1 WHERE id = $2",
                           "is", retry_at, id));
}

#define SANDBOX_DISPUTE_COLUMNS                                                                    \
    "id, payment_id, reason, amount_fen, method, created_at, respond_by, response, outcome,"       \
    " outcome_detail, opened_notified, notify_attempts, notify_next_at"

static void sandbox_dispute_read(struct db_stmt *st, struct sandbox_dispute *d)
{
    memset(d, 0, sizeof *d);
    db_text_copy(st, 0, d->id, sizeof d->id);
    db_text_copy(st, 1, d->payment_id, sizeof d->payment_id);
    db_text_copy(st, 2, d->reason, sizeof d->reason);
    d->amount_fen = db_int(st, 3);
    db_text_copy(st, 4, d->method, sizeof d->method);
    d->created_at = db_int(st, 5);
    d->respond_by = db_int(st, 6);
    db_text_copy(st, 7, d->response, sizeof d->response);
    db_text_copy(st, 8, d->outcome, sizeof d->outcome);
    db_text_copy(st, 9, d->outcome_detail, sizeof d->outcome_detail);
    d->opened_notified = db_int(st, 10);
    d->notify_attempts = db_int(st, 11);
    d->notify_next_at = db_int(st, 12);
}

int store_sandbox_dispute_insert(struct db *db, const struct sandbox_dispute *d)
{
    return db_run(db_query(db,
                           "INSERT INTO sandbox_disputes (id, payment_id, reason, amount_fen,"
                           " method, created_at, respond_by, notify_next_at) VALUES ($1, $2, $3,"
                           " $4, $5, $6, $7, $6)",
                           "sssisii", d->id, d->payment_id, d->reason, d->amount_fen, d->method,
                           d->created_at, d->respond_by));
}

int store_sandbox_dispute_get(struct db *db, const char *id, struct sandbox_dispute *out)
{
    struct db_stmt *st = db_query(
        db, "SELECT " SANDBOX_DISPUTE_COLUMNS " FROM sandbox_disputes WHERE id = $1", "s", id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        sandbox_dispute_read(st, out);
    }
    db_done(st);
    return db_found(rc);
}

int store_sandbox_disputes_due(struct db *db, int64_t now, int64_t after, int attempts_max,
                               struct sandbox_dispute *out, int max, int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(db,
                                  "SELECT " SANDBOX_DISPUTE_COLUMNS
                                  " FROM sandbox_disputes WHERE closed_notified = 0 AND"
                                  " notify_next_at <= $1 AND notify_next_at > $2 AND"
                                  " notify_attempts < $3 ORDER BY notify_next_at LIMIT $4",
                                  "iiii", now, after, (int64_t)attempts_max, (int64_t)max);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        sandbox_dispute_read(st, &out[(*count)++]);
    }
    db_done(st);
    return *count < max && rc < 0 ? rc : 0;
}

int store_sandbox_dispute_notified(struct db *db, const char *id, int64_t now, int64_t retry_at)
{
    if (retry_at != 0) {
        return db_run(db_query(db,
                               "UPDATE sandbox_disputes SET notify_attempts = notify_attempts +"
                               " 1, notify_next_at = $2 WHERE id = $1",
                               "si", id, retry_at));
    }
    return db_run(db_query(db,
                           "UPDATE sandbox_disputes SET notify_attempts = 0, closed_notified ="
                           " opened_notified, opened_notified = 1, notify_next_at = CASE WHEN"
                           " outcome IS NULL THEN respond_by WHEN notify_next_at > $2 THEN"
                           " notify_next_at ELSE $2 END WHERE id = $1",
                           "si", id, now));
}

int store_sandbox_dispute_decide(struct db *db, const char *id, const char *response,
                                 const char *outcome, const char *detail, int64_t now)
{
    return db_run_one(db_query(db,
                               "UPDATE sandbox_disputes SET response = $2, outcome = $3,"
                               " outcome_detail = $4, decided_at = $5, notify_attempts = 0,"
                               " notify_next_at = CASE WHEN opened_notified = 1 THEN $5 ELSE"
                               " notify_next_at END WHERE id = $1 AND response IS NULL AND"
                               " respond_by > $5",
                               "ssssi", id, response, outcome, detail, now));
}
