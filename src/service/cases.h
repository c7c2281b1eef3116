/* Refund cases: a buyer's request (decided at once where the facts suffice, else queued for an
 * agent), its message thread and evidence, an agent's request for evidence and decision citing a
 * rule, the one appeal to a different agent, and the machine's own cases. */
#ifndef KM_CASES_H
#define KM_CASES_H

#include <stdbool.h>

#include "core/check.h"
#include "core/err.h"
#include "domain/refund_policy.h"
#include "store/store_refunds.h"

#define CASE_SLA_HOURS 24             /* an agent decides within a day */
#define CASE_APPEAL_SLA_HOURS 48      /* a second agent within two */
#define CASE_BUYER_REPLY_HOURS 72     /* the buyer has three days to send what was asked */
#define CASE_APPEAL_WINDOW_DAYS 7     /* the policy: appeal within 7 days of the rejection */
#define CASE_EVIDENCE_PER_MESSAGE_MAX 8

/* A buyer asks. *decision is the policy's answer (what the preview showed). */
KM_MUST_USE int cases_open(struct db *db, const char *order_id, enum refund_reason reason,
                           const char *body, const char *evidence_json, struct case_row *out,
                           struct refund_decision *decision, struct km_error *e);

/* The machine decided on an order nobody asked about (or a buyer's waiting case): record it on a
 * case and carry it out. */
KM_MUST_USE int cases_system_decision(struct db *db, const char *order_id,
                                      const struct refund_decision *d, const char *facts_json,
                                      int64_t now, struct km_error *e);

KM_MUST_USE int cases_message(struct db *db, const char *case_id, const char *author,
                              bool author_is_buyer, const char *body, const char *evidence_json,
                              struct km_error *e);
KM_MUST_USE int cases_request_evidence(struct db *db, const char *case_id, const char *agent,
                                       const char *body, struct km_error *e);
/* outcome "approve" with an E rule or "reject" with an N rule; amount 0 = all that is left. */
KM_MUST_USE int cases_decide(struct db *db, const char *case_id, const char *agent,
                             const char *outcome, const char *rule, int64_t amount_fen,
                             const char *explanation, struct km_error *e);
KM_MUST_USE int cases_appeal(struct db *db, const char *case_id, const char *body,
                             const char *evidence_json, struct km_error *e);

/* Check that every id in a JSON array of evidence ids exists and belongs to the order. */
KM_MUST_USE int cases_check_evidence(struct db *db, const char *order_id,
                                     const char *evidence_json, struct km_error *e);

#endif
