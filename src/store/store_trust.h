/* The figures behind the trust signals, read from the orders, refunds and decisions of a window
 * of time, for the shop as a whole and for each seller. */
#ifndef KM_STORE_TRUST_H
#define KM_STORE_TRUST_H

#include <stdint.h>

#include "core/check.h"
#include "core/ids.h"
#include "store/db.h"

#define TRUST_SELLERS_MAX 64 /* sellers listed; the shop's own figures count them all */

struct trust_counts {
    char seller_id[ID_BYTES_MAX]; /* "" for the shop as a whole */
    char seller_name[128];
    int64_t paid_orders;     /* created in the window and paid */
    int64_t refunded_orders; /* ... of which some money for the goods came back */
    int64_t refunds_paid;    /* refunds that reached the buyer in the window */
    int64_t median_ms;       /* from the request (or the refund, unasked) to the money; -1: none */
    int64_t decisions;       /* first decisions on cases, in the window */
    int64_t decided_automatically;
    int64_t decisions_due; /* a person's, with a deadline; and cases still open past theirs */
    int64_t decided_in_time;
};

/* The shop's figures for [from, to), and up to max sellers' (those with paid orders in it, the
 * most orders first). */
KM_MUST_USE int store_trust_counts(struct db *db, int64_t from, int64_t to,
                                   struct trust_counts *shop, struct trust_counts *sellers, int max,
                                   int *count);

#endif
