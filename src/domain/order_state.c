/* The order state machine as one table: a row per status, a column per event, and the status
 * the event leads to, or NONE where the event is refused. Names are the snake_case strings the
 * API and the database use. */
#include "domain/order_state.h"

#include <stddef.h>
#include <string.h>

#include "core/err.h"

#define NONE (-1) /* the event is not allowed in this status */

/* Every transition the shop can make. Refund is possible from any status where money was
 * captured and not yet returned; an unpaid or expired order has nothing to refund. */
static const signed char transition_table[ORDER_STATUS_COUNT][ORDER_EVENT_COUNT] = {
    /*                       PAY         EXPIRE          START_DELIVERY    DELIVER
                             DELIVERY_FAILED  CONFIRM          REFUND */
    [ORDER_PENDING_PAYMENT] = {ORDER_PAID, ORDER_EXPIRED, NONE, NONE, NONE, NONE, NONE},
    [ORDER_PAID] = {NONE, NONE, ORDER_DELIVERING, ORDER_DELIVERED, ORDER_FAILED, NONE,
                    ORDER_REFUNDED},
    [ORDER_DELIVERING] = {NONE, NONE, NONE, ORDER_DELIVERED, ORDER_FAILED, NONE, ORDER_REFUNDED},
    [ORDER_DELIVERED] = {NONE, NONE, NONE, NONE, NONE, ORDER_COMPLETED, ORDER_REFUNDED},
    [ORDER_COMPLETED] = {NONE, NONE, NONE, NONE, NONE, NONE, ORDER_REFUNDED},
    [ORDER_EXPIRED] = {NONE, NONE, NONE, NONE, NONE, NONE, NONE},
    [ORDER_FAILED] = {NONE, NONE, NONE, NONE, NONE, NONE, ORDER_REFUNDED},
    [ORDER_REFUNDED] = {NONE, NONE, NONE, NONE, NONE, NONE, NONE},
};

static const char *const status_names[ORDER_STATUS_COUNT] = {
    [ORDER_PENDING_PAYMENT] = "pending_payment",
    [ORDER_PAID] = "paid",
    [ORDER_DELIVERING] = "delivering",
    [ORDER_DELIVERED] = "delivered",
    [ORDER_COMPLETED] = "completed",
    [ORDER_EXPIRED] = "expired",
    [ORDER_FAILED] = "failed",
    [ORDER_REFUNDED] = "refunded",
};

static const char *const event_names[ORDER_EVENT_COUNT] = {
    [ORDER_EV_PAY] = "pay",
    [ORDER_EV_EXPIRE] = "expire",
    [ORDER_EV_START_DELIVERY] = "start_delivery",
    [ORDER_EV_DELIVER] = "deliver",
    [ORDER_EV_DELIVERY_FAILED] = "delivery_failed",
    [ORDER_EV_CONFIRM] = "confirm",
    [ORDER_EV_REFUND] = "refund",
};

_Static_assert(ORDER_STATUS_COUNT == 8, "a new status needs a row in transition_table");
_Static_assert(ORDER_EVENT_COUNT == 7, "a new event needs a column in transition_table");

int order_transition(enum order_status from, enum order_event ev, enum order_status *to)
{
    km_assert((int)from >= 0);
    km_assert(from < ORDER_STATUS_COUNT);
    km_assert((int)ev >= 0);
    km_assert(ev < ORDER_EVENT_COUNT);
    km_assert(to != NULL);
    int next = transition_table[from][ev];
    if (next == NONE) {
        return -KM_ESTATE;
    }
    km_assert(next >= 0);
    km_assert(next < ORDER_STATUS_COUNT);
    *to = (enum order_status)next;
    return 0;
}

const char *order_status_name(enum order_status s)
{
    km_assert((int)s >= 0);
    km_assert(s < ORDER_STATUS_COUNT);
    return status_names[s];
}

int order_status_parse(const char *name, enum order_status *out)
{
    km_assert(out != NULL);
    if (name == NULL) {
        return -KM_EINVAL;
    }
    for (int s = 0; s < ORDER_STATUS_COUNT; s++) {
        if (strcmp(name, status_names[s]) == 0) {
            *out = (enum order_status)s;
            return 0;
        }
    }
    return -KM_EINVAL;
}

const char *order_event_name(enum order_event ev)
{
    km_assert((int)ev >= 0);
    km_assert(ev < ORDER_EVENT_COUNT);
    return event_names[ev];
}

int order_status_is_final(enum order_status s)
{
    km_assert((int)s >= 0);
    km_assert(s < ORDER_STATUS_COUNT);
    /* FAILED is not final: the buyer is still owed the money back. */
    return s == ORDER_COMPLETED || s == ORDER_EXPIRED || s == ORDER_REFUNDED;
}
