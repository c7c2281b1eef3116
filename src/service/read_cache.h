/* In-memory answers for the two reads a buyer repeats most: which order a buyer token opens, and
 * the order's rendered view (GET /v1/orders/{id}, polled while a payment or a top-up settles).
 *
 * A buyer token never changes the order it opens, so that mapping is kept as found. An order
 * view is kept until a committed write touches the order: the store reports every order a
 * command changes (store_watch_orders), and the executor drops those views after each commit,
 * before any writer is told its write is done. A reader notes the set's
 * generation before it opens its read transaction and may only store what it built if no drop
 * happened since, so a view built from a snapshot older than a commit is never kept. A view that
 * depends on time (a case that becomes overdue) is kept only until that time. */
#ifndef KM_READ_CACHE_H
#define KM_READ_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ids.h"

struct read_cache_stats {
    uint64_t view_hits;
    uint64_t view_misses;
    uint64_t view_drops;
    uint64_t view_bytes; /* held now */
    uint64_t view_budget; /* at most */
    uint64_t token_hits;
    uint64_t token_misses;
};

/* Sets the memory order views may take (0 turns view caching off) and, with verify, has readers
 * check every hit against a fresh build (the test suites run so). Call before serving. */
void read_cache_configure(size_t view_bytes, bool verify);
void read_cache_reset(void); /* frees everything; for shutdown and tests */

/* The order a buyer token (by its hash) opens, if seen before. */
bool read_cache_token_get(const uint8_t hash[TOKEN_HASH_BYTES], char *order_id, size_t len);
void read_cache_token_put(const uint8_t hash[TOKEN_HASH_BYTES], const char *order_id);

/* Builds an order's view as JSON text (malloc'd) at time now, lowering *valid_until to the first
 * instant it would read differently with no write: 0, or a negative code (no text). */
typedef int (*read_cache_build_fn)(void *ctx, int64_t now, char **text, size_t *len,
                                   int64_t *valid_until);

/* An order's view: the kept one, else built by build and kept. In verify mode a kept view is
 * checked against a fresh build and the process stops on a difference. 0 with *text (malloc'd),
 * or build's negative code. */
int read_cache_view_read(const char *order_id, int64_t now, read_cache_build_fn build, void *ctx,
                         char **text, size_t *len);

/* The generation to pass to read_cache_view_put: take it before opening the read transaction. */
uint64_t read_cache_view_gen(const char *order_id);
/* A copy of the kept view (malloc'd, the caller frees), or NULL. */
char *read_cache_view_get(const char *order_id, int64_t now_ms, size_t *len);
/* Keeps a copy of body unless the order was touched since gen was taken; valid_until_ms is the
 * first instant the view would read differently with no write (INT64_MAX if none). */
void read_cache_view_put(const char *order_id, uint64_t gen, const char *body, size_t len,
                         int64_t valid_until_ms);
/* Builds and keeps an order's view ahead of its next read (view_warmer.h): only in a free place
 * within the budget, never pushing out another view. 0 if kept; 1 if a view was kept already,
 * there was no room or a commit touched the order meanwhile; or build's negative code. */
int read_cache_view_warm(const char *order_id, int64_t now, read_cache_build_fn build, void *ctx);
/* Called by the executor with each order a commit touched. True if the dropped view had been
 * served to a reader: someone is watching the order and will likely read it again. */
bool read_cache_view_drop(const char *order_id);

void read_cache_stats_get(struct read_cache_stats *out);

#endif
