/* The refund engine's machinery: the facts the policy reads, previews, carrying out an approval
 * (a refund per paying route, with the ledger holds), the machine's own refunds (E1, E2, E3), the
 * expected date in working days, and the payout life cycle pending -> succeeded | failed |
 * requires_action. Decisions about cases (requests, agents, appeals) are in cases.c. */
#ifndef KM_REFUNDS_H
#define KM_REFUNDS_H

#include <stdbool.h>

#include "core/check.h"
#include "core/err.h"
#include "domain/calendar.h"
#include "domain/refund_policy.h"
#include "store/store.h"
#include "store/store_refunds.h"

#define REFUNDS_PER_ORDER_MAX 32     /* one per paying route and decision; far above real use */
#define PAYOUT_ATTEMPTS_MAX 8        /* transient refusals; then a person looks at it */
#define PAYOUT_POLL_INTERVAL_S 300   /* ask the provider about an unanswered refund every 5 min */
#define PAYOUT_BACKOFF_BASE_S 60     /* 1, 2, 4, … minutes between refused submissions */

/* Parse the embedded working-day calendar. Once, before threads start. */
KM_MUST_USE int refunds_init(void);
const struct calendar *refunds_calendar(void);

/* The facts of an order as the policy sees them, at `now`. */
KM_MUST_USE int refunds_facts(struct db *db, const struct order *o, int64_t now,
                              struct refund_facts *f, struct km_error *e);
/* Facts as JSON text (what a decision consulted), into buf. */
void refunds_facts_json(const struct refund_facts *f, uint32_t used, char *buf, size_t len);

/* What the policy would decide for a buyer's request now, and by when the money would be back
 * (0 when nothing would be paid): the preview a buyer sees before submitting. Stores nothing;
 * run it in a read transaction. */
KM_MUST_USE int refunds_preview(struct db *db, const char *order_id, enum refund_reason reason,
                                int64_t now, struct refund_decision *d, int64_t *expected_by,
                                struct km_error *e);

/* The end of the day the refund is promised by: shop balance at once; WeChat Pay and Alipay one
 * working day; otherwise 3 working days under 100 CNY, else 7. */
int64_t refunds_expected_by(const char *method, int64_t amount_fen, int64_t now);

/* Pay back `amount_fen` for an approved decision under `rule`: unapplied payments (E3) by their
 * own routes, the rest by the route that paid the order. Holds the money in the ledger until the
 * provider confirms; the shop balance settles at once. */
KM_MUST_USE int refunds_execute(struct db *db, const struct order *o, const char *case_id,
                                const char *rule, int64_t amount_fen, int64_t now,
                                struct km_error *e);

/* The machine's look at one order: if the policy finds a refund due with nobody asking, decide
 * it (as a system case, or on the buyer's waiting case) and pay it. */
KM_MUST_USE int refunds_auto(struct db *db, const char *order_id, int64_t now, struct km_error *e);

/* Payout progress, from the timers and the provider's callbacks. */
KM_MUST_USE int refunds_payout_accepted(struct db *db, const char *refund_id,
                                        const char *provider_refund_id, int64_t now,
                                        struct km_error *e);
KM_MUST_USE int refunds_payout_refused(struct db *db, const char *refund_id, const char *why,
                                       int64_t now, struct km_error *e);
/* A submission that got no answer: the provider may have taken it, so it is no refusal and never
 * ends the refund; the same request number goes again every PAYOUT_POLL_INTERVAL_S. */
KM_MUST_USE int refunds_payout_unanswered(struct db *db, const char *refund_id, const char *why,
                                          int64_t now, struct km_error *e);
/* status: processing | succeeded | failed | requires_action. Final states are kept. */
KM_MUST_USE int refunds_payout_result(struct db *db, const char *refund_id, const char *status,
                                      const char *detail, int64_t now, struct km_error *e);
/* Whether the refund was not paid out (failed, or held on an abnormal account), is not moved
 * yet, and is still owed: what the buyer or an agent may move to the shop balance. */
KM_MUST_USE int refunds_movable(struct db *db, const struct refund_row *r, bool *movable);
/* The order's first refund that is movable: 1 with it in *out, 0 if there is none, or a
 * negative code. */
KM_MUST_USE int refunds_unsettled(struct db *db, const char *order_id, struct refund_row *out,
                                  struct km_error *e);
/* Move a refund that failed or is stuck on an abnormal account to the shop balance, once. `by`
 * is "buyer", or the staff member ("agent:<key>"), whose note then goes into the refund's case. */
KM_MUST_USE int refunds_reroute_to_balance(struct db *db, const char *refund_id, const char *by,
                                           int64_t now, struct refund_row *out,
                                           struct km_error *e);

#endif
