/* Money movements as ledger transfers, inside the caller's transaction. The account names say
 * whose money it is: "psp:<method>" (at the payment provider), "order:<id>" (paid for one order,
 * never below zero), "revenue:shop", "seller:<id>" (owed to a seller). */
#ifndef KM_BOOKS_H
#define KM_BOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"
#include "store/db.h"

/* Move amount from debit_account to credit_account now. */
KM_MUST_USE int books_post(struct db *db, const char *debit_account, const char *credit_account,
                           int64_t amount_fen, const char *ref_type, const char *ref_id,
                           int64_t now, struct km_error *e);
/* Hold amount (pending) for a business event; later books_resolve posts or voids it. */
KM_MUST_USE int books_hold(struct db *db, const char *debit_account, const char *credit_account,
                           int64_t amount_fen, const char *ref_type, const char *ref_id,
                           int64_t now, struct km_error *e);
/* Post (post=true) or void the open hold recorded for (ref_type, ref_id). At most once. */
KM_MUST_USE int books_resolve(struct db *db, const char *ref_type, const char *ref_id, bool post,
                              int64_t now, struct km_error *e);

/* The account id of an order, a payment route or a seller. */
void books_account(char *out, const char *kind, const char *id);

#endif
