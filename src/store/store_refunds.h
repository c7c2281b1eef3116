/* Cases, decisions, messages, evidence, refunds and activations. */
#ifndef KM_STORE_REFUNDS_H
#define KM_STORE_REFUNDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/check.h"
#include "core/ids.h"
#include "store/db.h"

#define CASE_BODY_BYTES_MAX 4000   /* a message: a few paragraphs */
#define FACTS_JSON_BYTES_MAX 2000  /* the facts a decision consulted, as JSON */

struct case_row {
    char id[ID_BYTES_MAX];
    char order_id[ID_BYTES_MAX];
    char origin[8];            /* buyer | system */
    char reason[24];
    char status[16];           /* waiting | open | awaiting_buyer | decided | appealed | closed */
    char policy_version[8];
    char preview_outcome[12];
    char preview_rule[4];
    char first_decided_by[64];
    int64_t appealed_at;
    int64_t sla_due_at;
    int64_t buyer_reply_due_at;
    int64_t created_at;
    int64_t updated_at;
    int64_t late_at; /* the first agent's deadline this case missed, 0 if none */
};

struct decision_row {
    char id[ID_BYTES_MAX];
    char case_id[ID_BYTES_MAX];
    char stage[8];             /* initial | appeal */
    char outcome[8];           /* approve | reject */
    char rule[4];
    int64_t amount_fen;
    bool automatic;
    char decided_by[64];
    char facts[FACTS_JSON_BYTES_MAX];
    char explanation[CASE_BODY_BYTES_MAX + 1];
    int64_t created_at;
    int64_t sla_due_at; /* a person's decision: the deadline it was due by; 0 for the machine */
};

struct message_row {
    char id[ID_BYTES_MAX];
    char author[64];
    char body[CASE_BODY_BYTES_MAX + 1];
    char evidence[1024];       /* JSON array of ids */
    int64_t created_at;
};

struct refund_row {
    char id[ID_BYTES_MAX];
    char order_id[ID_BYTES_MAX];
    char case_id[ID_BYTES_MAX];
    char payment_id[ID_BYTES_MAX];
    char method[16];
    int64_t amount_fen;
    char rule[4];
    char status[16];           /* pending | succeeded | failed | requires_action */
    char provider_request_no[ID_BYTES_MAX];
    char provider_refund_id[ID_BYTES_MAX];
    int64_t attempts;
    int64_t next_attempt_at;
    int64_t expected_by;
    char failure_reason[200];
    int64_t created_at;
    int64_t completed_at;
    char rerouted_from[ID_BYTES_MAX]; /* the refund this one pays again to the balance, or "" */
    int64_t overdue_at; /* when it was found still pending past expected_by, or 0 */
};

KM_MUST_USE int store_case_insert(struct db *db, const struct case_row *c);
KM_MUST_USE int store_case_get(struct db *db, const char *id, struct case_row *out);
KM_MUST_USE int store_case_update(struct db *db, const struct case_row *c);
KM_MUST_USE int store_cases_of_order(struct db *db, const char *order_id, struct case_row *out,
                                     int max, int *count);
/* The agents' queue: open, awaiting_buyer and appealed cases by SLA due time. */
KM_MUST_USE int store_cases_queue(struct db *db, const char *after_id, int limit,
                                  struct case_row *out, int *count, bool *has_more);
/* Waiting cases (the machine decides when due) of an order. */
KM_MUST_USE int store_case_waiting_of_order(struct db *db, const char *order_id, char *case_id);
/* A case of the order someone still has to decide ("" if none). */
KM_MUST_USE int store_case_active_of_order(struct db *db, const char *order_id, char *case_id);

KM_MUST_USE int store_decision_insert(struct db *db, const struct decision_row *d);
KM_MUST_USE int store_decisions_of_case(struct db *db, const char *case_id,
                                        struct decision_row *out, int max, int *count);

KM_MUST_USE int store_message_insert(struct db *db, const char *case_id, const char *author,
                                     const char *body, const char *evidence_json, int64_t now);
KM_MUST_USE int store_messages_of_case(struct db *db, const char *case_id, struct message_row *out,
                                       int max, int *count);

KM_MUST_USE int store_evidence_insert(struct db *db, const char *id, const char *order_id,
                                      const char *sha256_hex, const char *content_type,
                                      const void *data, size_t size, const char *filename,
                                      const char *uploaded_by, int64_t now);
/* 0 with the evidence's type, size and name (data not loaded), or -KM_ENOTFOUND. */
KM_MUST_USE int store_evidence_meta(struct db *db, const char *order_id, const char *id,
                                    char *content_type, size_t type_len, int64_t *size,
                                    char *filename, size_t filename_len);
KM_MUST_USE int store_evidence_count(struct db *db, const char *order_id, int64_t *count);
/* Copy the content (malloc'd) for download. */
KM_MUST_USE int store_evidence_data(struct db *db, const char *order_id, const char *id,
                                    void **data, size_t *size);

/* The refund that pays refund_id again to the balance, if there is one (successor_id "" if not). */
KM_MUST_USE int store_refund_successor(struct db *db, const char *refund_id, char *successor_id);
KM_MUST_USE int store_refund_insert(struct db *db, const struct refund_row *r);
KM_MUST_USE int store_refund_get(struct db *db, const char *id, struct refund_row *out);
/* The refund behind a provider request number. */
KM_MUST_USE int store_refund_by_request_no(struct db *db, const char *request_no, char *id);
/* Store r's state over the refund's, if that is still `was`; -KM_ESTATE if it is not (another
 * report ended it first), which must not go on as if stored. */
KM_MUST_USE int store_refund_update(struct db *db, const struct refund_row *r, const char *was);
/* All of an order's refunds, oldest first, in an array the caller frees (NULL when none). */
KM_MUST_USE int store_refunds_of_order(struct db *db, const char *order_id, struct refund_row **out,
                                       int *count);
/* What the refund dashboard reads of one refund made (not failed) or one first decision. */
struct refund_fact {
    int64_t created_at, amount_fen;
    int64_t completed_at; /* 0 unless it succeeded */
    int64_t asked_at;     /* its case's opening, or its own creation when made unasked */
    bool unasked;         /* made without a case (E1, E3), and not a move of another refund */
};
struct decision_fact {
    int64_t asked_at, decided_at;
    bool automatic;
};
/* Each refund made that was created or arrived from since on. */
KM_MUST_USE int store_refund_facts(struct db *db, int64_t since,
                                   void (*each)(void *ctx, const struct refund_fact *f),
                                   void *ctx);
/* Each case's first decision taken from since on. */
KM_MUST_USE int store_first_decisions(struct db *db, int64_t since,
                                      void (*each)(void *ctx, const struct decision_fact *f),
                                      void *ctx);
/* Refunds still with their provider past the promised date, the longest overdue first. */
KM_MUST_USE int store_refunds_overdue(struct db *db, struct refund_row **out, int *count);
/* Refunds not paid out (failed, or held on an abnormal account) and not moved, the oldest end
 * first: each may still be owed (payouts_movable says). */
KM_MUST_USE int store_refunds_unpaid(struct db *db, struct refund_row **out, int *count);
/* Refunds whose next attempt (submit or poll) is due. */
KM_MUST_USE int store_refunds_due(struct db *db, int64_t now, char (*ids)[ID_BYTES_MAX], int max,
                                  int *count);
/* Refunds still pending with the provider after the date promised (expected_by) that were not
 * noted as overdue yet, the longest overdue first. */
KM_MUST_USE int store_refunds_newly_overdue(struct db *db, int64_t now, char (*ids)[ID_BYTES_MAX],
                                            int max, int *count);
/* Note it once; -KM_ESTATE if it was noted already or has ended. */
KM_MUST_USE int store_refund_mark_overdue(struct db *db, const char *id, int64_t now);
/* What a payment's claims took: its refunds not failed, each claim once (a refund moved to the
 * balance and then paid late by the provider as well counts as its move alone), and disputes
 * the shop lost at the provider. */
KM_MUST_USE int store_refunded_of_payment(struct db *db, const char *payment_id, int64_t *fen);
/* What the shop holds frozen for a payment's disputes still open at the provider. */
KM_MUST_USE int store_disputed_of_payment(struct db *db, const char *payment_id, int64_t *fen);
/* Sum of a payment's refunds that succeeded and disputes the shop lost: what has left for good. */
KM_MUST_USE int store_paid_of_payment(struct db *db, const char *payment_id, int64_t *fen);

/* -KM_EDUPLICATE when the key's activation was recorded before. */
KM_MUST_USE int store_activation_insert(struct db *db, const char *card_key_id,
                                        const char *order_id, int64_t at, const char *source);
KM_MUST_USE int store_activations_of_order(struct db *db, const char *order_id, int *count);
/* When a card key was activated at the issuer; 0 if it was not. */
KM_MUST_USE int store_activation_of_key(struct db *db, const char *card_key_id, int64_t *at);

/* Orders the automatic refund sweep looks at: top-ups still pending past a time, failed and
 * wrong-region top-ups, failed orders, and orders holding unapplied payments. */
KM_MUST_USE int store_orders_refund_candidates(struct db *db, int64_t now,
                                               char (*ids)[ID_BYTES_MAX], int max, int *count);

#endif
