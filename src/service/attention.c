/* See attention.h. */
#include "service/attention.h"

#include "service/executor.h"
#include "service/orders.h"

int attention_settle(struct db *db, const char *event_id, const char *by, const char *note,
                     int64_t now, struct attention_event *out, struct km_error *e)
{
    bool settled = false;
    if (store_attention_event_get(db, event_id, out, &settled) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "event_id",
                       "no money to recover under this id");
    }
    if (settled) {
        return km_fail(e, KM_ESTATE, "already_settled", "event_id",
                       "someone recorded this as settled already");
    }
    if (store_attention_settle(db, out, by, note, now) != 0 ||
        orders_event(db, "attention.settled", out->id, out->order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the settlement was not stored");
    }
    executor_log(LOG_INFO, "attention_settled", "event_id", out->id, "order_id", out->order_id,
                 "by", by, NULL);
    return 0;
}
