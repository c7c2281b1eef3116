/* The event log of state changes (the timeline), and its outbound webhook delivery state. */
#ifndef KM_STORE_EVENTS_H
#define KM_STORE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"
#include "core/ids.h"
#include "store/db.h"

struct event_row {
    char id[ID_BYTES_MAX];
    char type[48];
    char object_id[ID_BYTES_MAX];
    char data[512];
    int64_t created_at;
    int64_t webhook_attempts;
};

/* Whether new events are queued for the webhook endpoint: set once at start, when one is
 * configured. Events written while it is off are marked 'no_endpoint' and never sent. */
void store_events_queue_webhooks(bool on);
bool store_events_queued(void);

/* Events whose webhook is due, oldest first. */
KM_MUST_USE int store_events_webhook_due(struct db *db, int64_t now, struct event_row *out,
                                         int max, int *count);
/* state: "delivered", "failed", or "pending" with next_at for a retry. */
KM_MUST_USE int store_event_webhook_mark(struct db *db, const char *id, const char *state,
                                         int64_t next_at);
/* The timeline of one order (events whose data names it), oldest first. */
KM_MUST_USE int store_events_of_order(struct db *db, const char *order_id, struct event_row *out,
                                      int max, int *count);
/* An event a person must act on: refund.paid_twice or topup.credited_after_refund. */
struct attention_event {
    char id[ID_BYTES_MAX];
    char type[48];
    char object_id[ID_BYTES_MAX];
    char order_id[ID_BYTES_MAX];
    int64_t created_at;
};
/* All that no one has settled, oldest first, into a grown array (free it). They are rare. */
KM_MUST_USE int store_events_needing_a_person(struct db *db, struct attention_event **out,
                                              int *count);
/* One of them by its event id, and whether it was settled; -KM_ENOTFOUND if it is no such event. */
KM_MUST_USE int store_attention_event_get(struct db *db, const char *id,
                                          struct attention_event *out, bool *settled);
/* Record that a person settled it (-KM_EDUPLICATE if someone already did). */
KM_MUST_USE int store_attention_settle(struct db *db, const struct attention_event *ev,
                                       const char *by, const char *note, int64_t now);
/* Whether the order's timeline holds an event of this type. */
KM_MUST_USE int store_event_of_order_exists(struct db *db, const char *order_id, const char *type,
                                            bool *exists);

#endif
