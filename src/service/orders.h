/* Orders: creation (stock reserved, target account checked, buyer token issued once), the
 * buyer's view, look-up by password, and expiry of unpaid orders. */
#ifndef KM_ORDERS_H
#define KM_ORDERS_H

#include <stdbool.h>

#include "core/check.h"
#include "core/err.h"
#include "core/ids.h"
#include "store/store.h"

struct order_input {
    const char *product_id;
    int64_t quantity;
    const char *contact;
    const char *target_account;  /* direct top-ups */
    const char *target_region;
    const char *lookup_hash;     /* argon2id string computed before the transaction, or NULL */
};

/* What creating an order gives its buyer: the order, its product, the card keys held for it and
 * the buyer token (shown once, stored only as a hash). Enough to answer without reading again. */
struct order_created {
    struct order order;
    struct product product;
    struct card_held keys[ORDER_QUANTITY_MAX];
    int key_count;
    char token[SECRET_BYTES_MAX];
    uint8_t token_hash[TOKEN_HASH_BYTES]; /* what the store keeps of it (token_hash) */
};

KM_MUST_USE int orders_create(struct db *db, const struct order_input *in,
                              struct order_created *out, struct km_error *e);

/* Issue another buyer token for an order (after a successful password look-up). */
KM_MUST_USE int orders_issue_token(struct db *db, const char *order_id, const char *via,
                                   char token[SECRET_BYTES_MAX], struct km_error *e);

/* Expire one order if it is still unpaid past its window: release its card keys. 0 if expired or
 * nothing to do. */
KM_MUST_USE int orders_expire(struct db *db, const char *order_id, int64_t now,
                              struct km_error *e);
/* The same for an order already read in this transaction; o follows the change. */
KM_MUST_USE int orders_expire_loaded(struct db *db, struct order *o, int64_t now,
                                     struct km_error *e);

/* Move an order through the state machine and record the event. */
KM_MUST_USE int orders_apply(struct db *db, struct order *o, int event /* enum order_event */,
                             int64_t now, struct km_error *e);
/* The same, but the order's row is left as it was for the next orders_apply of the same
 * command, which writes every step at once: for a command that moves an order twice (paid,
 * then delivered), one write of the row instead of two. Both events are recorded. */
KM_MUST_USE int orders_apply_then(struct db *db, struct order *o, int event /* enum order_event */,
                                  int64_t now, struct km_error *e);

/* Record a state-change event for the timeline (and the webhooks). */
KM_MUST_USE int orders_event(struct db *db, const char *type, const char *object_id,
                             const char *order_id, int64_t now);

#endif
