/* The figures behind the trust signals, read from the orders, refunds and decisions of a window
 * of time, for the shop as a whole and for each seller. */
#ifndef KM_STORE_TRUST_H
#define KM_STORE_TRUST_H

#include <stdint.h>

#include "core/check.h"
#include "core/ids.h"
#include "core/limits.h"
#include "store/db.h"

#define TRUST_SELLERS_MAX 64 /* sellers listed; the shop's own figures count them all */

struct trust_counts {
    char seller_id[ID_BYTES_MAX]; /* "" for the shop as a whole */
    char seller_name[PRODUCT_NAME_BYTES_MAX + 1];
    int64_t paid_orders;     /* created in the window and paid */
    int64_t refunded_orders; /* ... of which some money for the goods came back */
    int64_t refunds_paid;    /* refunds a buyer asked for that reached them in the window */
    int64_t median_ms;       /* their median time from the request to the money; -1: none */
    int64_t refunds_late;    /* refunds still with the provider past the date promised, now */
    int64_t decisions;       /* first decisions on buyers' requests, in the window */
    int64_t decided_automatically;
    int64_t decisions_approved;
    int64_t decisions_due; /* a person's, each with its deadline; and cases late for one now */
    int64_t decided_in_time;
};

/* The shop's figures for the window, and up to max sellers' (those with paid orders in it, the
 * most orders first). */
/* [from, to), and how long an agent has for a first decision and for an appeal (for the cases
 * late now). */
struct trust_window {
    int64_t from;
    int64_t to;
    int64_t first_deadline_ms;
    int64_t appeal_deadline_ms;
};

KM_MUST_USE int store_trust_counts(struct db *db, const struct trust_window *w,
                                   struct trust_counts *shop, struct trust_counts *sellers, int max,
                                   int *count);

#endif
