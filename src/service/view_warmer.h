/* Order views rebuilt after the commits that dropped them, in spare CPU time.
 *
 * A commit that touches an order drops its kept view (read_cache.h), and the next read of the
 * order pays for building it again: a dozen queries and a few KiB of JSON, several times what a
 * kept view costs. Two kinds of order are read again soon: one whose view a buyer has been
 * reading (their page polls it every second), and one whose status just changed (paid,
 * delivered, refunded: what the buyer comes back for). The executor notes those, and a thread of
 * its own builds their views a moment later and keeps them, if the cache has room without
 * pushing out another view. It builds what those reads would have built, only before they ask;
 * orders nobody reads that change again and again, as in a burst of writes, are not rebuilt each
 * time, so it adds little work. It runs at the priority of the others: at a lower one a busy
 * machine could stop it inside a lock the writer shares. It builds only in spare CPU time: while
 * the rest of kameng uses VIEW_WARM_BUSY_PERCENT of the CPUs or more, as in a burst of orders,
 * it holds its notes between builds, and a full queue forgets the oldest; the reads that come
 * build those views themselves, which is the same work, done only if someone asks.
 *
 * A view it builds is kept under the read cache's usual rule: only if no commit touched the order
 * since its read transaction began. */
#ifndef KM_VIEW_WARMER_H
#define KM_VIEW_WARMER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"
#include "service/read_cache.h"

struct db;

/* Builds an order's view on the warmer's own read connection (as read_cache_build_fn). */
typedef int (*view_warmer_build_fn)(struct db *db, const char *order_id, int64_t now, char **text,
                                    size_t *len, int64_t *valid_until);

/* Whether there is CPU to spare for a build now; asked on the warmer's thread before each build. */
typedef bool (*view_warmer_spare_fn)(void);

/* Opens a read connection to db_path and starts the thread. spare NULL measures the process's
 * CPU time (view_warmer_cpu_spare); tests give their own. */
KM_MUST_USE int view_warmer_start(const char *db_path, view_warmer_build_fn build,
                                  view_warmer_spare_fn spare);

/* Spare: the rest of the process used less than VIEW_WARM_BUSY_PERCENT of cpus over wall_us. */
bool view_warmer_cpu_spare(int64_t others_cpu_us, int64_t wall_us, int cpus);
void view_warmer_stop(void);

/* The executor, after a commit dropped the order's view. Never blocks on a build: when the queue
 * is full the oldest note is forgotten. */
void view_warmer_note(const char *order_id);

struct view_warmer_stats {
    uint64_t warmed;    /* views built and kept */
    uint64_t forgotten; /* notes pushed out of a full queue */
    uint64_t held;      /* times a due note waited for spare CPU */
    uint64_t pending;   /* notes not yet done, the one being built included */
};
void view_warmer_stats_get(struct view_warmer_stats *out);

#endif
