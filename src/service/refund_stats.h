/* The refund dashboard's figures, computed by the shop from its books over a window of days:
 * refunds made and their amount, decisions and how many the machine took, time to a decision and
 * time to the money, each per local day (the viewer's UTC offset) and for the whole window. */
#ifndef KM_REFUND_STATS_H
#define KM_REFUND_STATS_H

#include <stdint.h>

#include "store/db.h"

#define REFUND_STATS_DAYS_MAX 366

struct refund_stats_figures {
    int64_t refunds;      /* made (not failed) */
    int64_t refunded_fen; /* their amount */
    int64_t decided;      /* first decisions, and refunds made unasked (E1, E3) */
    int64_t automatic;    /* of those, by the machine */
    /* milliseconds; -1 when there is nothing to measure */
    int64_t decision_ms_median, decision_ms_max; /* request -> first decision */
    int64_t money_ms_median, money_ms_max;       /* request -> refund arrived */
};

struct refund_stats_day {
    int64_t start_ms; /* local midnight, as a UTC instant */
    struct refund_stats_figures f;
};

struct refund_stats {
    int day_count; /* days with anything, oldest first */
    struct refund_stats_day days[REFUND_STATS_DAYS_MAX + 1];
    struct refund_stats_figures total;
};

/* The figures of the days from since_ms's local day to now, in a read transaction of its own.
 * offset_minutes: the viewer's offset from UTC (China: 480). 0, or a negative code. */
int refund_stats_compute(struct db *db, int64_t since_ms, int64_t now_ms, int offset_minutes,
                         struct refund_stats *out);

#endif
