/* JSON shapes of cases, decisions, messages and refunds. */
#ifndef KM_VIEWS_REFUNDS_H
#define KM_VIEWS_REFUNDS_H

#include <jansson.h>
#include <stdbool.h>

#include "domain/refund_policy.h"
#include "store/store_refunds.h"

/* A refund, with whether it may be moved to the shop balance now. NULL on a storage error. */
json_t *view_refund(struct db *db, const struct refund_row *r);
/* The whole case: decisions with the facts they used, messages, refunds, what can happen next.
 * staff shows agents' ids; buyers see "agent". NULL on a storage error. */
json_t *view_case(struct db *db, const struct case_row *c, bool staff, int64_t now);
json_t *view_case_summary(const struct case_row *c, int64_t now);
json_t *view_decision_preview(const struct refund_decision *d, int64_t expected_by);
/* The evidence-log entries of an order (index, kind) and where its receipt is. */
json_t *view_log_citations(struct db *db, const char *order_id);
/* Refunds and cases of an order, added to its view. */
/* valid_until: lowered to the first instant at which the cases would read differently. */
int view_order_add_refunds(struct db *db, json_t *order_view, const char *order_id, int64_t now,
                           int64_t *valid_until);

#endif
