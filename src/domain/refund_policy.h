/* Refund policy v1 as a pure function: the facts of an order and a request go in, a decision
 * comes out — approve, reject, wait or send to an agent — naming the rule (E1–E5, N1–N3, part
 * of the API), the amount, whether a machine decided, and which facts it used. The same function
 * previews a decision for the buyer before they submit, decides at once where the facts suffice,
 * and checks orders nobody asked about (the automatic refunds). */
#ifndef KM_REFUND_POLICY_H
#define KM_REFUND_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"

#define REFUND_POLICY_VERSION "v1"

enum refund_rule {
    RULE_NONE = 0,
    RULE_E1, /* not-delivered: top-up not credited within the timeout */
    RULE_E2, /* wrong-item: delivered item differs from the order, not through the buyer's input */
    RULE_E3, /* platform-fault: duplicate charge, payment on an expired/undeliverable order */
    RULE_E4, /* no-reason: within the product's no-reason days, goods unrevealed/unactivated */
    RULE_E5, /* escrow: account goods still held; seller failed to deliver or buyer disputes */
    RULE_N1, /* used: key activated, top-up credited to the account given, goods confirmed */
    RULE_N2, /* late: after the product's refund window */
    RULE_N3, /* buyer-error: the buyer's own input error, top-up went through as entered */
    RULE_COUNT
};

enum refund_reason {
    REASON_NOT_RECEIVED = 0, /* 没收到 */
    REASON_WRONG_ITEM,       /* 错区服/错面额 */
    REASON_DUPLICATE_CHARGE, /* 重复扣款 */
    REASON_CHANGED_MIND,     /* 无理由退款 */
    REASON_KEY_NOT_WORKING,  /* 卡密无效 */
    REASON_NOT_AS_DESCRIBED, /* 账号与描述不符 (escrow) */
    REASON_WRONG_ACCOUNT,    /* 我填错了账号 */
    REASON_COUNT
};

enum goods_kind { GOODS_CARD_KEY = 0, GOODS_DIRECT_TOPUP, GOODS_ACCOUNT };

enum topup_state {
    TOPUP_NONE = 0,       /* not a top-up, or not started */
    TOPUP_PENDING,        /* queued or submitted, no result yet */
    TOPUP_CREDITED,       /* the upstream credited the account as entered */
    TOPUP_FAILED,         /* the upstream failed: nothing credited */
    TOPUP_WRONG_REGION,   /* credited, but to another region/server than ordered */
};

/* What the machine knows. Times are unix ms; 0 means "not yet". */
struct refund_facts {
    enum goods_kind kind;
    int64_t now_ms;
    int64_t paid_at_ms;
    int64_t delivered_at_ms;
    int64_t amount_fen;        /* the order's applied payment */
    int64_t unapplied_fen;     /* captured but not applied (duplicate/late), not yet refunded */
    int64_t refunded_fen;      /* refunds of the applied amount already approved */
    int64_t disputed_fen;      /* of the applied amount, frozen for a dispute at the provider */
    bool delivery_failed;      /* paid, and the shop could not deliver (stock gone, upstream) */
    /* The product's terms, as published when the order was paid. */
    int64_t refund_window_hours;
    int64_t no_reason_days;
    int64_t topup_timeout_minutes;
    /* Direct top-ups: the upstream record. */
    enum topup_state topup;
    /* Card keys: reveals and activations (per the issuer). */
    int keys_total;
    int keys_revealed;
    int keys_activated;
    bool issuer_can_void;
    /* Account goods. */
    bool escrow_held;          /* the buyer's money is still a pending transfer */
    bool seller_delivered;
};

enum refund_outcome {
    OUTCOME_NONE = 0, /* nothing to refund (automatic check found nothing) */
    OUTCOME_APPROVE,
    OUTCOME_REJECT,
    OUTCOME_REVIEW,   /* an agent decides */
    OUTCOME_WAIT,     /* too early: the machine refunds by itself at wait_until_ms if still due */
};

/* Facts consulted, recorded with every decision. */
#define FACT_TERMS 0x01u
#define FACT_PAYMENTS 0x02u
#define FACT_DELIVERY 0x04u
#define FACT_TOPUP_RECORD 0x08u
#define FACT_REVEALS 0x10u
#define FACT_ACTIVATIONS 0x20u
#define FACT_ESCROW 0x40u
#define FACT_REFUNDS 0x80u

struct refund_decision {
    enum refund_outcome outcome;
    enum refund_rule rule;      /* the deciding rule; for a review, the rule in question */
    int64_t amount_fen;         /* approved (or, for a review, at most this) */
    bool automatic;             /* no person needed */
    bool void_at_issuer;        /* approve only after the issuer voids the revealed key (A2) */
    int64_t wait_until_ms;      /* OUTCOME_WAIT: when the machine decides by itself */
    uint32_t facts;             /* FACT_* bits consulted */
    const char *explanation;    /* stable key of the sentence shown to the buyer */
};

const char *refund_rule_id(enum refund_rule rule);      /* "E1" … "N3", "" for RULE_NONE */
const char *refund_rule_title(enum refund_rule rule);   /* "not-delivered" … */
KM_MUST_USE int refund_rule_parse(const char *id, enum refund_rule *out);
const char *refund_reason_name(enum refund_reason reason);
KM_MUST_USE int refund_reason_parse(const char *name, enum refund_reason *out);
const char *refund_outcome_name(enum refund_outcome outcome);
/* The published text of a rule, in English and Chinese. */
const char *refund_rule_text_en(enum refund_rule rule);
const char *refund_rule_text_zh(enum refund_rule rule);
/* The sentence (English, Chinese) for an explanation key; "" if unknown. */
const char *refund_explain_en(const char *key);
const char *refund_explain_zh(const char *key);
/* The Chinese sentence for a stored English explanation of the machine's; "" if none. */
const char *refund_explain_zh_of_en(const char *english);

/* A buyer's request, decided (or previewed) from the facts. */
void refund_policy_decide(const struct refund_facts *f, enum refund_reason reason,
                          struct refund_decision *out);

/* The machine's own look at an order nobody asked about: E1 (top-up not credited in time or
 * failed), E2 (upstream proves wrong region), E3 (unapplied payments, undeliverable order). */
void refund_policy_check(const struct refund_facts *f, struct refund_decision *out);

/* An agent's decision must cite an E rule to approve and an N rule to reject. */
bool refund_policy_agent_may_cite(enum refund_outcome outcome, enum refund_rule rule);

/* What is left to refund of the applied amount (never negative). */
int64_t refund_policy_refundable_fen(const struct refund_facts *f);

#endif
