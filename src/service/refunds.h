/* The refund engine's machinery: the facts the policy reads, previews, carrying out an approval
 * (a refund per paying route, with the ledger holds), the machine's own refunds (E1, E2, E3) and
 * the expected date in working days. The payout life cycle pending -> succeeded | failed |
 * requires_action is in payouts.c; decisions about cases (requests, agents, appeals) in cases.c. */
#ifndef KM_REFUNDS_H
#define KM_REFUNDS_H

#include <stdbool.h>

#include "core/check.h"
#include "core/err.h"
#include "domain/calendar.h"
#include "domain/refund_policy.h"
#include "store/store.h"
#include "store/store_refunds.h"

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

#endif
