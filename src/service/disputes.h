/* Disputes at the payment provider, as the shop lives them. The provider's signed notification
 * opens one: the money in dispute is frozen in the ledger (a hold from the order to the
 * provider), so no refund pays it a second time. Staff answer with the evidence bundle, or
 * accept; the provider's decision closes it: won releases the freeze to where the money was
 * (the shop's revenue, the seller's escrow), lost posts it (the buyer has it back through the
 * provider, a refund like any other). Each call runs inside the caller's write transaction. */
#ifndef KM_DISPUTES_H
#define KM_DISPUTES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"
#include "store/db.h"
#include "store/store.h"
#include "store/store_disputes.h"

struct dispute_notice {
    const char *provider_dispute_id;
    const char *payment_id;
    const char *reason;
    int64_t amount_fen;
    int64_t respond_by;
};

/* A repeated notice changes nothing and sets *replayed. */
KM_MUST_USE int disputes_open(struct db *db, const struct dispute_notice *n, int64_t now,
                              struct dispute_row *out, bool *replayed, struct km_error *e);
/* outcome: won | lost (for the shop). */
KM_MUST_USE int disputes_close(struct db *db, const char *provider_dispute_id,
                               const char *payment_id, const char *outcome, const char *detail,
                               int64_t now, struct dispute_row *out, bool *replayed,
                               struct km_error *e);
/* response: evidence (bundle: the evidence bundle as sent) | accepted (bundle NULL). */
KM_MUST_USE int disputes_respond(struct db *db, const char *dispute_id, const char *response,
                                 const char *bundle, const char *staff, int64_t now,
                                 struct dispute_row *out, struct km_error *e);

/* A refund of a payment failed and returned_fen came back to the order: an open dispute on the
 * payment whose freeze is short of its amount (the refund was counted as paid when it opened)
 * freezes that money too, so it is not paid out again another way. */
KM_MUST_USE int disputes_refund_returned(struct db *db, const char *payment_id,
                                         const char *order_id, int64_t returned_fen, int64_t now,
                                         struct km_error *e);
/* Goods delivered: the order's amount becomes the shop's revenue. What an open dispute on the
 * applied payment froze in the order's account is then withheld from revenue instead, as when a
 * dispute comes after delivery, so that winning it gives it back to revenue. */
KM_MUST_USE int disputes_recognise_revenue(struct db *db, const struct order *o, int64_t now,
                                           struct km_error *e);

#endif
