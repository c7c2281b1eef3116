/* A refund's payout after it is made: the life cycle pending -> succeeded | failed |
 * requires_action as the provider reports it, retries with backoff under one request number, and
 * moving a refund the route could not pay to the shop balance, once. */
#ifndef KM_PAYOUTS_H
#define KM_PAYOUTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"
#include "store/store.h"
#include "store/store_refunds.h"

#define PAYOUT_ATTEMPTS_MAX 8      /* transient refusals; then a person looks at it */
#define PAYOUT_POLL_INTERVAL_S 300 /* ask the provider about an unanswered refund every 5 min */
#define PAYOUT_BACKOFF_BASE_S 60   /* 1, 2, 4, … minutes between refused submissions */

/* Payout progress, from the timers and the provider's callbacks. */
KM_MUST_USE int payouts_accepted(struct db *db, const char *refund_id,
                                 const char *provider_refund_id, int64_t now, struct km_error *e);
KM_MUST_USE int payouts_refused(struct db *db, const char *refund_id, const char *why, int64_t now,
                                struct km_error *e);
/* A submission that got no answer: the provider may have taken it, so it is no refusal and never
 * ends the refund; the same request number goes again every PAYOUT_POLL_INTERVAL_S. */
KM_MUST_USE int payouts_unanswered(struct db *db, const char *refund_id, const char *why,
                                   int64_t now, struct km_error *e);
/* status: processing | succeeded | failed | requires_action. Reports about an ended refund change
 * nothing, except a payment: a refund held on an abnormal account, or one the provider reported
 * failed, then succeeded (and a payment's refunds that then add up past what it captured raise
 * refund.paid_twice). */
KM_MUST_USE int payouts_result(struct db *db, const char *refund_id, const char *status,
                               const char *detail, int64_t now, struct km_error *e);
/* The order's top-up reached the account after its refund (E1): what a refund of it that failed
 * brought back to the order is nobody's claim any more, and goes back to the shop's revenue. */
KM_MUST_USE int payouts_topup_credited(struct db *db, const char *order_id, int64_t now,
                                       struct km_error *e);
/* What a move of the refund to the shop balance would pay, 0 if it may not be moved: a refund
 * not paid out (failed, or held on an abnormal account), not moved yet, and still owed, up to
 * what its payment still owes besides it. */
/* When a payment's money left more than once (a refund and a lost dispute, or two refunds), more
 * than it captured: raise refund.paid_twice on its latest succeeded refund, for a person. */
KM_MUST_USE int payouts_alert_paid_twice(struct db *db, const char *payment_id, int64_t now,
                                         struct km_error *e);
KM_MUST_USE int payouts_movable(struct db *db, const struct refund_row *r, int64_t *movable_fen);
/* The order's first refund that is movable: 1 with it in *out, 0 if there is none, or a
 * negative code. */
KM_MUST_USE int payouts_unsettled(struct db *db, const char *order_id, struct refund_row *out,
                                  struct km_error *e);
/* Move a refund that failed or is stuck on an abnormal account to the shop balance, once. `by`
 * is "buyer", or the staff member ("agent:<key>"), whose note then goes into the refund's case. */
KM_MUST_USE int payouts_move_to_balance(struct db *db, const char *refund_id, const char *by,
                                        int64_t now, struct refund_row *out, struct km_error *e);

/* A refund still pending with the provider after the date the buyer was promised: noted once,
 * with a refund.overdue order event (and webhook) and a warning in the log, for a person to
 * chase the provider. */
KM_MUST_USE int payouts_note_overdue(struct db *db, const char *refund_id, int64_t now,
                                     struct km_error *e);

#endif
