/* Event rows. */
#include "store/store_events.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/err.h"

static atomic_bool queued;

void store_events_queue_webhooks(bool on)
{
    atomic_store(&queued, on);
}

bool store_events_queued(void)
{
    return atomic_load(&queued);
}

static void event_read(struct db_stmt *st, struct event_row *e)
{
    memset(e, 0, sizeof *e);
    db_text_copy(st, 0, e->id, sizeof e->id);
    db_text_copy(st, 1, e->type, sizeof e->type);
    db_text_copy(st, 2, e->object_id, sizeof e->object_id);
    db_text_copy(st, 3, e->data, sizeof e->data);
    e->created_at = db_int(st, 4);
    e->webhook_attempts = db_int(st, 5);
}

int store_events_webhook_due(struct db *db, int64_t now, struct event_row *out, int max,
                             int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(db,
                                  "SELECT id, type, object_id, data, created_at, webhook_attempts"
                                  " FROM events WHERE webhook_state = 'pending' AND"
                                  " webhook_next_at <= $1 ORDER BY created_at, rowid LIMIT $2",
                                  "ii", now, (int64_t)max);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        event_read(st, &out[(*count)++]);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_event_webhook_mark(struct db *db, const char *id, const char *state, int64_t next_at)
{
    return db_run(db_query(db,
                           "UPDATE events SET webhook_state = $1, webhook_attempts ="
                           " webhook_attempts + 1, webhook_next_at = $2 WHERE id = $3",
                           "sis", state, next_at, id));
}

int store_events_of_order(struct db *db, const char *order_id, struct event_row *out, int max,
                          int *count)
{
    *count = 0;
    struct db_stmt *st = db_query(db,
                                  "SELECT id, type, object_id, data, created_at, webhook_attempts"
                                  " FROM events WHERE order_id = $1 ORDER BY created_at, rowid LIMIT"
                                  " $2",
                                  "si", order_id, (int64_t)max);
    int rc = DB_DONE;
    while (*count < max && (rc = db_step(st)) == DB_ROW) {
        event_read(st, &out[(*count)++]);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int store_event_of_order_exists(struct db *db, const char *order_id, const char *type, bool *exists)
{
    struct db_stmt *st = db_query(
        db, "SELECT 1 FROM events WHERE order_id = $1 AND type = $2 LIMIT 1", "ss", order_id, type);
    int rc = db_step(st);
    db_done(st);
    *exists = rc == DB_ROW;
    return rc < 0 ? rc : 0;
}

static void attention_read(struct db_stmt *st, struct attention_event *e)
{
    db_text_copy(st, 0, e->id, sizeof e->id);
    db_text_copy(st, 1, e->type, sizeof e->type);
    db_text_copy(st, 2, e->object_id, sizeof e->object_id);
    db_text_copy(st, 3, e->order_id, sizeof e->order_id);
    e->created_at = db_int(st, 4);
}

int store_events_needing_a_person(struct db *db, struct attention_event **out, int *count)
{
    *out = NULL;
    *count = 0;
    struct db_stmt *st = db_query(db,
                                  "SELECT id, type, object_id, COALESCE(order_id, ''), created_at"
                                  " FROM events e WHERE (type = 'refund.paid_twice' OR type ="
                                  " 'topup.credited_after_refund' OR type ="
                                  " 'refund.seller_recovery_due' OR type ="
                                  " 'dispute.seller_recovery_due') AND NOT EXISTS (SELECT 1 FROM"
                                  " attention_settlements s WHERE s.event_id = e.id) ORDER BY"
                                  " created_at",
                                  "");
    int cap = 0, rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (*count == cap) {
            cap = cap == 0 ? 16 : cap * 2;
            *out = realloc(*out, (size_t)cap * sizeof **out);
            km_assert(*out != NULL);
        }
        attention_read(st, &(*out)[(*count)++]);
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

int store_attention_event_get(struct db *db, const char *id, struct attention_event *out,
                              bool *settled)
{
    struct db_stmt *st = db_query(db,
                                  "SELECT e.id, e.type, e.object_id, COALESCE(e.order_id, ''),"
                                  " e.created_at, s.event_id IS NOT NULL FROM events e LEFT JOIN"
                                  " attention_settlements s ON s.event_id = e.id WHERE e.id = $1"
                                  " AND (e.type = 'refund.paid_twice' OR e.type ="
                                  " 'topup.credited_after_refund' OR e.type ="
                                  " 'refund.seller_recovery_due' OR e.type ="
                                  " 'dispute.seller_recovery_due')",
                                  "s", id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        attention_read(st, out);
        *settled = db_int(st, 5) != 0;
    }
    db_done(st);
    return db_found(rc);
}

int store_attention_settle(struct db *db, const struct attention_event *ev, const char *by,
                           const char *note, int64_t now)
{
    return db_run(db_query(db,
                           "INSERT INTO attention_settlements (event_id, order_id, settled_by,"
                           " note, settled_at) VALUES ($1, $2, $3, $4, $5)",
                           "ssssi", ev->id, ev->order_id, by, note, now));
}
