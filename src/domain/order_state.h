/* The order state machine. An order is created unpaid, is paid, is delivered (card keys at
 * once; a direct top-up when the upstream confirms; account goods when the seller hands them
 * over), and completes. Every transition the shop can make is in the table in order_state.c. */
#ifndef KM_ORDER_STATE_H
#define KM_ORDER_STATE_H

#include "core/check.h"
#include "core/err.h"

enum order_status {
    ORDER_PENDING_PAYMENT = 0, /* created; stock reserved until expires_at */
    ORDER_PAID,                /* money captured, delivery not yet started or in flight */
    ORDER_DELIVERING,          /* top-up submitted upstream / waiting for the seller */
    ORDER_DELIVERED,           /* goods handed over; escrow: money held until confirmation */
    ORDER_COMPLETED,           /* final: delivered and (for escrow) released */
    ORDER_EXPIRED,             /* final: never paid in time; reservation released */
    ORDER_FAILED,              /* delivery failed after payment; the money is owed back */
    ORDER_REFUNDED,            /* final: money returned */
    ORDER_STATUS_COUNT
};

enum order_event {
    ORDER_EV_PAY = 0,          /* a payment captured in full */
    ORDER_EV_EXPIRE,           /* the payment window passed */
    ORDER_EV_START_DELIVERY,   /* top-up submitted / seller asked to deliver */
    ORDER_EV_DELIVER,          /* goods handed over */
    ORDER_EV_DELIVERY_FAILED,  /* upstream failed, or stock gone after payment */
    ORDER_EV_CONFIRM,          /* buyer confirmed receipt, or the escrow window ended */
    ORDER_EV_REFUND,           /* the whole amount went back */
    ORDER_EVENT_COUNT
};

/* 0 and *to set if `ev` is allowed in `from`; -KM_ESTATE otherwise. */
KM_MUST_USE int order_transition(enum order_status from, enum order_event ev,
                                 enum order_status *to);

const char *order_status_name(enum order_status s);
/* -KM_EINVAL for an unknown name. */
KM_MUST_USE int order_status_parse(const char *name, enum order_status *out);
const char *order_event_name(enum order_event ev);
int order_status_is_final(enum order_status s);

#endif
