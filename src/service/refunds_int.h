/* What refunds.c shares with payouts.c, and nothing else includes: making a refund and the
 * ledger and log steps around it. */
#ifndef KM_REFUNDS_INT_H
#define KM_REFUNDS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"
#include "store/store.h"
#include "store/store_refunds.h"

/* Make amount_fen available in the order's account: release an escrow hold (when from_escrow),
 * and take back from the shop's revenue what delivered goods had earned. */
KM_MUST_USE int refunds_free_order_money(struct db *db, const struct order *o, int64_t amount_fen,
                                         const char *refund_id, bool from_escrow, int64_t now,
                                         struct km_error *e);
/* The payout's result in the evidence log: the refund's status, or what the provider did that
 * the status does not say (paid_twice). */
KM_MUST_USE int refunds_log_payout(struct db *db, const struct refund_row *r, const char *status,
                                   int64_t now, struct km_error *e);
/* A refund of amount_fen from payment p, held in the ledger until the provider confirms (the
 * shop balance settles at once); rerouted_from names the refund it pays again, if any. Checks
 * the payment's captured cap itself. */
KM_MUST_USE int refunds_pay_back(struct db *db, const struct order *o, const struct payment *p,
                                 const char *case_id, const char *rule, int64_t amount_fen,
                                 const char *rerouted_from, int64_t now, struct km_error *e);
/* After a refund of the applied amount: the order is refunded when nothing of it is left. */
KM_MUST_USE int refunds_settle_order(struct db *db, struct order *o, int64_t now,
                                     struct km_error *e);

#endif
