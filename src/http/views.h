/* The JSON shapes of kameng's objects, built from store records. One place, so a product or an
 * order looks the same in every answer. */
#ifndef KM_VIEWS_H
#define KM_VIEWS_H

#include <jansson.h>
#include <stdbool.h>

#include "service/orders.h"
#include "store/store.h"

json_t *view_product(const struct product *p, bool staff);
/* The full order as its buyer (or staff) sees it: payments, keys (masked), reveals, top-up,
 * escrow. Reads related rows on db. NULL on a storage error. */
json_t *view_order(struct db *db, const struct order *o);
/* The same at time now; *valid_until is the first instant the view would read differently with
 * no write in between (INT64_MAX if never), for the read cache. */
json_t *view_order_at(struct db *db, const struct order *o, int64_t now, int64_t *valid_until);
/* The order's view as JSON text (malloc'd), built in one read transaction of db; the read
 * cache's build function (read_cache_build_fn) for buyers' reads and for the view warmer. 0,
 * -KM_ENOTFOUND or -KM_EINTERNAL. */
int view_order_text(struct db *db, const char *order_id, int64_t now, char **text, size_t *len,
                    int64_t *valid_until);
json_t *view_order_summary(const struct order *o);
/* What checkout answers: the summary with the product's name and refund terms. */
json_t *view_order_created(const struct order_created *c);
json_t *view_payment(const struct payment *p);
struct dispute_row;
/* A dispute at the payment provider; the responder is for staff only. */
json_t *view_dispute(const struct dispute_row *d, bool staff);
json_t *view_list(json_t *data /* stolen */, bool has_more);

#endif
