/* Trust signals: how this shop and each of its sellers handle refunds, computed from the data
 * and shown to buyers before they pay (refund rate, median time to the money, the share of
 * requests decided by the machine, the share of a person's decisions made in time). */
#ifndef KM_TRUST_H
#define KM_TRUST_H

#include <stdint.h>

#include "core/check.h"
#include "store/db.h"
#include "store/store_trust.h"

#define TRUST_WINDOW_DAYS 90
#define TRUST_CACHE_MS 60000 /* figures are recomputed at most once a minute */

struct trust_report {
    int64_t from;
    int64_t to;
    struct trust_counts shop;
    struct trust_counts sellers[TRUST_SELLERS_MAX];
    int seller_count;
};

/* The report for the window ending now, from a cache at most TRUST_CACHE_MS old. */
KM_MUST_USE int trust_report(struct db *reader, int64_t now, struct trust_report *out);

#endif
