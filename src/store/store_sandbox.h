/* The sandbox payment provider's and upstream's own records: what "their" servers know, kept
 * apart from the shop's tables so the shop learns of them only through callbacks and polling. */
#ifndef KM_STORE_SANDBOX_H
#define KM_STORE_SANDBOX_H

#include <stdint.h>

#include "core/check.h"
#include "core/ids.h"
#include "store/db.h"

struct sandbox_charge {
    char id[ID_BYTES_MAX];
    char payment_id[ID_BYTES_MAX];
    char outcome[16];
    char method[16];
    int64_t amount_fen;
    int64_t created_at;
    int64_t notify_attempts;
    int64_t notify_next_at;
};

struct sandbox_topup {
    char id[ID_BYTES_MAX];
    char topup_id[ID_BYTES_MAX];
    char target_account[80];
    char target_region[80];
    char outcome[16];
    int64_t callback;
    char credited_region[80];
    int64_t created_at;
    int64_t result_at; /* 0: never */
    int64_t notify_attempts;
    int64_t notify_next_at;
};

KM_MUST_USE int store_sandbox_charge_insert(struct db *db, const struct sandbox_charge *c);
/* Charges whose notification is due by now and became due later than after, earliest first. */
KM_MUST_USE int store_sandbox_charges_due(struct db *db, int64_t now, int64_t after,
                                          int attempts_max, struct sandbox_charge *out, int max,
                                          int *count);
KM_MUST_USE int store_sandbox_charge_notified(struct db *db, const char *id, int64_t now,
                                              int64_t retry_at);

KM_MUST_USE int store_sandbox_topup_insert(struct db *db, const struct sandbox_topup *t);
/* The upstream order already made for a shop top-up id, if any. */
KM_MUST_USE int store_sandbox_topup_find(struct db *db, const char *topup_id, char *id);
KM_MUST_USE int store_sandbox_topup_get(struct db *db, const char *id, struct sandbox_topup *out);
/* Top-ups whose callback is due by now and became due later than after, earliest first. */
KM_MUST_USE int store_sandbox_topups_due(struct db *db, int64_t now, int64_t after,
                                         int attempts_max, struct sandbox_topup *out, int max,
                                         int *count);
/* retry_at 0 marks it delivered; otherwise the attempt is counted and retried then. */
KM_MUST_USE int store_sandbox_topup_notified(struct db *db, const char *id, int64_t now,
                                             int64_t retry_at);

struct sandbox_refund {
    char id[ID_BYTES_MAX];
    char request_no[ID_BYTES_MAX];
    char payment_id[ID_BYTES_MAX];
    char method[16];
    int64_t amount_fen;
    char outcome[20];      /* succeeded | failed | requires_action */
    int64_t failures_left; /* transient refusals before the provider accepts it */
    int64_t created_at;
    int64_t result_at; /* 0 until accepted */
    int64_t notify_attempts;
    int64_t notify_next_at;
};

/* By the shop's request number; -KM_ENOTFOUND if the provider never saw it. */
KM_MUST_USE int store_sandbox_refund_get(struct db *db, const char *request_no,
                                         struct sandbox_refund *out);
KM_MUST_USE int store_sandbox_refund_insert(struct db *db, const struct sandbox_refund *r);
KM_MUST_USE int store_sandbox_refund_update(struct db *db, const struct sandbox_refund *r);
/* Refund results whose notification is due by now and became due later than after, earliest
 * first. */
KM_MUST_USE int store_sandbox_refunds_due(struct db *db, int64_t now, int64_t after,
                                          int attempts_max, struct sandbox_refund *out, int max,
                                          int *count);
KM_MUST_USE int store_sandbox_refund_notified(struct db *db, const char *id, int64_t now,
                                              int64_t retry_at);
/* A failed refund whose amount ends in `cents` fen is paid after all at result_at, and notified
 * again from then; *changed says whether this one was. */
KM_MUST_USE int store_sandbox_refund_paid_late(struct db *db, const char *id, int64_t cents,
                                               int64_t result_at, bool *changed);

struct sandbox_dispute {
    char id[ID_BYTES_MAX];
    char payment_id[ID_BYTES_MAX];
    char reason[24];
    int64_t amount_fen;
    char method[16];
    int64_t created_at;
    int64_t respond_by;
    char response[12]; /* "" until the shop answers: evidence | accepted */
    char outcome[8];   /* "" until decided: won | lost (for the shop) */
    char outcome_detail[64];
    int64_t opened_notified; /* 0 | 1 */
    int64_t notify_attempts;
    int64_t notify_next_at;
};

KM_MUST_USE int store_sandbox_dispute_insert(struct db *db, const struct sandbox_dispute *d);
KM_MUST_USE int store_sandbox_dispute_get(struct db *db, const char *id,
                                          struct sandbox_dispute *out);
/* Disputes whose next notification (the opening, then the closing) is due by now and became due
 * later than after, earliest first. */
KM_MUST_USE int store_sandbox_disputes_due(struct db *db, int64_t now, int64_t after,
                                           int attempts_max, struct sandbox_dispute *out, int max,
                                           int *count);
/* retry_at 0: the notification due was acknowledged; the closing one is due next, at once if
 * decided, else at respond_by. */
KM_MUST_USE int store_sandbox_dispute_notified(struct db *db, const char *id, int64_t now,
                                               int64_t retry_at);
/* Record the shop's answer and the provider's decision; -KM_ESTATE when already answered or past
 * respond_by. The closing notification is due at once (after the opening one). */
KM_MUST_USE int store_sandbox_dispute_decide(struct db *db, const char *id, const char *response,
                                             const char *outcome, const char *detail, int64_t now);

#endif
