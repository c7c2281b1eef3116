/* Refund policy v1. The order of the checks is the precedence between rules: the shop's own
 * faults first (E3, E1), then what the upstream record proves (E2, N1, N3), then the buyer's
 * window (N2), then the per-kind review procedures A1 (top-ups) and A2 (card keys) and escrow. */
#include "domain/refund_policy.h"

#include <string.h>

#define MS_PER_MINUTE INT64_C(60000)
#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)

static const char *const rule_ids[RULE_COUNT] = {"", "E1", "E2", "E3", "E4", "E5", "N1", "N2", "N3"};
static const char *const rule_titles[RULE_COUNT] = {
    "",           "not-delivered", "wrong-item", "platform-fault", "no-reason",
    "escrow",     "used",          "late",       "buyer-error"};
static const char *const rule_texts_en[RULE_COUNT] = {
    "",
    "A direct top-up not confirmed credited within the product's timeout after payment (default "
    "30 minutes), nothing extracted or used: full refund, automatic, no request needed.",
    "The delivered item differs from the order (region/server, face value) not through the "
    "buyer's input: refund; automatic when the supplier's record proves it, else an agent "
    "reviews.",
    "A platform fault: a duplicate charge, a payment on an expired or undeliverable order, a stuck "
    "order: the excess or the whole is refunded automatically.",
    "The product allows no-reason refunds for N days and the goods are unrevealed/unactivated: "
    "refund on request. Revealing a card key asks you first to confirm that it ends this right.",
    "Account goods still held in escrow, and the seller failed to deliver or the buyer disputes: "
    "refund from the held money.",
    "Used: the card key was activated per the issuer, the top-up was credited to the account "
    "given, or the buyer confirmed receipt of account goods.",
    "Late: the request came after the product's refund window.",
    "Buyer error: the buyer's own input error where the top-up went through as entered (and as "
    "confirmed before paying)."};
static const char *const rule_texts_zh[RULE_COUNT] = {
    "",
    "直充在付款后超过商品承诺时间（默认 30 分钟）仍未确认到账，且未提取未使用：全额退款，系统自动处理，"
    "无需申请。",
    "所发商品与订单不符（区服、面额），且非买家填写错误：退款；上游记录可证明时自动处理，否则由客服审核。",
    "平台故障：重复扣款、对已过期或无法发货订单的付款、订单状态异常：自动退回多付部分或全部款项。",
    "商品支持 N 天无理由退款，且商品未提取/未激活：申请即退。提取卡密前会请您确认提取将放弃该权利。",
    "账号商品仍在担保中，且卖家未交付或买家有争议：从担保资金中退款。",
    "已使用：发卡方记录卡密已激活、直充已到账至您填写的账号，或已确认收货。",
    "逾期：申请时间超过该商品的退款期限。",
    "买家填写错误：按您填写（并在付款前确认）的账号已充值成功。"};

static const char *const reason_names[REASON_COUNT] = {
    "not_received",   "wrong_item",        "duplicate_charge", "changed_mind",
    "key_not_working", "not_as_described", "wrong_account"};
static const char *const outcome_names[] = {"none", "approve", "reject", "review", "wait"};

struct explanation {
    const char *key;
    const char *en;
    const char *zh;
};

static const struct explanation explanations[] = {
    {"nothing_to_refund", "Everything paid for this order has been refunded already.",
     "该订单的款项已全部退回。"},
    {"payment_disputed",
     "The money for this order is frozen for a dispute opened at the payment provider; the "
     "provider decides whether it goes back to you, and the order shows its decision.",
     "该订单款项因在支付平台发起的投诉（争议）已被冻结，由支付平台裁决是否退回，结果会显示在订单中"
     "。"},
    {"duplicate_payment", "You were charged more than once; the extra payment is refunded in full.",
     "检测到重复扣款，多扣的款项将全额退回。"},
    {"undeliverable", "The shop could not deliver this order; the payment is refunded in full.",
     "平台未能完成发货，款项将全额退回。"},
    {"topup_failed", "The top-up was not credited (the supplier failed); it is refunded in full.",
     "充值未到账（上游失败），款项将全额退回。"},
    {"topup_timeout", "The top-up was not credited within the promised time; it is refunded in full.",
     "充值超时未到账，款项将全额退回。"},
    {"topup_in_progress",
     "The top-up is still in progress. If it is not credited by the deadline, it is refunded "
     "automatically — there is nothing you need to do.",
     "充值处理中。若在承诺时间内仍未到账，系统将自动全额退款，无需申请。"},
    {"topup_wrong_region",
     "The supplier's record shows the top-up went to another region/server than you ordered; it "
     "is refunded in full.",
     "上游记录显示充值到了与订单不同的区服，款项将全额退回。"},
    {"topup_credited",
     "The supplier's record shows the top-up was credited to the account you gave.",
     "上游记录显示已充值到您填写的账号。"},
    {"buyer_input_error",
     "The top-up went through to the account exactly as you entered and confirmed it before "
     "paying.",
     "充值已按您填写并在付款前确认的账号到账。"},
    {"late", "The request came after this product's refund window.", "申请时间已超过该商品的退款期限。"},
    {"no_reason_not_offered", "This product does not offer no-reason refunds.",
     "该商品不支持无理由退款。"},
    {"no_reason_unrevealed",
     "Within the no-reason period and the card key was never revealed: refunded in full.",
     "在无理由退款期内且卡密未提取，全额退款。"},
    {"no_reason_waived",
     "You revealed the card key after confirming that revealing ends the no-reason refund right.",
     "您在提取卡密前已确认提取即放弃无理由退款权利。"},
    {"key_activated", "The card issuer reports the key was activated (used).",
     "发卡方记录显示卡密已激活（已使用）。"},
    {"key_revealed_void",
     "The key was revealed but not activated; it is voided at the issuer and refunded.",
     "卡密已提取但未激活，已在发卡方作废并退款。"},
    {"key_revealed_review",
     "The key was revealed but the issuer has not reported it activated; an agent will ask for "
     "proof that it was not used.",
     "卡密已提取但发卡方未报告激活，客服将请您提供未使用的证明。"},
    {"card_review", "An agent checks the delivered card key against the order.",
     "客服将核对所发卡密与订单是否一致。"},
    {"escrow_not_delivered",
     "The seller has not delivered; the held money is refunded in full.",
     "卖家未交付，担保资金全额退回。"},
    {"escrow_dispute", "The money is still held in escrow; an agent reviews the dispute.",
     "资金仍在担保中，客服将审核争议。"},
    {"escrow_confirmed", "You confirmed receipt, which released the money to the seller.",
     "您已确认收货，资金已结算给卖家。"},
    {"duplicate_not_found",
     "The shop sees one payment for this order; an agent checks your payment proof.",
     "系统仅查到一笔支付，客服将核对您的支付凭证。"},
    {"not_paid", "This order was never paid; there is nothing to refund.", "该订单未付款，无需退款。"},
};

const char *refund_rule_id(enum refund_rule rule)
{
    km_assert(rule >= RULE_NONE && rule < RULE_COUNT);
    return rule_ids[rule];
}

const char *refund_rule_title(enum refund_rule rule)
{
    km_assert(rule >= RULE_NONE && rule < RULE_COUNT);
    return rule_titles[rule];
}

int refund_rule_parse(const char *id, enum refund_rule *out)
{
    for (int i = 1; i < RULE_COUNT; i++) {
        if (strcmp(rule_ids[i], id) == 0) {
            *out = (enum refund_rule)i;
            return 0;
        }
    }
    return -KM_EINVAL;
}

const char *refund_reason_name(enum refund_reason reason)
{
    km_assert(reason >= 0 && reason < REASON_COUNT);
    return reason_names[reason];
}

int refund_reason_parse(const char *name, enum refund_reason *out)
{
    for (int i = 0; i < REASON_COUNT; i++) {
        if (strcmp(reason_names[i], name) == 0) {
            *out = (enum refund_reason)i;
            return 0;
        }
    }
    return -KM_EINVAL;
}

const char *refund_outcome_name(enum refund_outcome outcome)
{
    km_assert(outcome >= OUTCOME_NONE && outcome <= OUTCOME_WAIT);
    return outcome_names[outcome];
}

const char *refund_rule_text_en(enum refund_rule rule)
{
    km_assert(rule >= RULE_NONE && rule < RULE_COUNT);
    return rule_texts_en[rule];
}

const char *refund_rule_text_zh(enum refund_rule rule)
{
    km_assert(rule >= RULE_NONE && rule < RULE_COUNT);
    return rule_texts_zh[rule];
}

static const struct explanation *explanation_find(const char *key)
{
    for (size_t i = 0; i < sizeof explanations / sizeof explanations[0]; i++) {
        if (key != NULL && strcmp(explanations[i].key, key) == 0) {
            return &explanations[i];
        }
    }
    return NULL;
}

const char *refund_explain_en(const char *key)
{
    const struct explanation *x = explanation_find(key);
    return x != NULL ? x->en : "";
}

const char *refund_explain_zh(const char *key)
{
    const struct explanation *x = explanation_find(key);
    return x != NULL ? x->zh : "";
}

const char *refund_explain_zh_of_en(const char *english)
{
    for (size_t i = 0; i < sizeof explanations / sizeof explanations[0]; i++) {
        if (english != NULL && strcmp(explanations[i].en, english) == 0) {
            return explanations[i].zh;
        }
    }
    return "";
}

int64_t refund_policy_refundable_fen(const struct refund_facts *f)
{
    int64_t left = f->amount_fen - f->refunded_fen - f->disputed_fen;
    return left > 0 ? left : 0;
}

static void set(struct refund_decision *d, enum refund_outcome outcome, enum refund_rule rule,
                int64_t amount, bool automatic, const char *explanation)
{
    d->outcome = outcome;
    d->rule = rule;
    d->amount_fen = outcome == OUTCOME_REJECT || outcome == OUTCOME_NONE ? 0 : amount;
    d->automatic = automatic;
    d->explanation = explanation;
}

static int64_t topup_deadline(const struct refund_facts *f)
{
    return f->paid_at_ms + f->topup_timeout_minutes * MS_PER_MINUTE;
}

/* The shop's own faults and what the upstream record proves, which need no request. Returns
 * true when it decided. */
static bool machine_facts(const struct refund_facts *f, struct refund_decision *d)
{
    int64_t left = refund_policy_refundable_fen(f);
    d->facts |= FACT_PAYMENTS | FACT_REFUNDS;
    if (f->delivery_failed && left > 0) {
        d->facts |= FACT_DELIVERY;
        set(d, OUTCOME_APPROVE, f->kind == GOODS_DIRECT_TOPUP ? RULE_E1 : RULE_E3, left, true,
            f->kind == GOODS_DIRECT_TOPUP ? "topup_failed" : "undeliverable");
        if (f->kind == GOODS_DIRECT_TOPUP) {
            d->facts |= FACT_TOPUP_RECORD;
        }
        return true;
    }
    if (f->kind != GOODS_DIRECT_TOPUP || left == 0) {
        return false;
    }
    d->facts |= FACT_TOPUP_RECORD | FACT_TERMS;
    switch (f->topup) {
    case TOPUP_FAILED:
        set(d, OUTCOME_APPROVE, RULE_E1, left, true, "topup_failed");
        return true;
    case TOPUP_WRONG_REGION:
        set(d, OUTCOME_APPROVE, RULE_E2, left, true, "topup_wrong_region");
        return true;
    case TOPUP_PENDING:
    case TOPUP_NONE:
        /* Exactly at the timeout the promise has run out. */
        if (f->paid_at_ms != 0 && f->now_ms >= topup_deadline(f)) {
            set(d, OUTCOME_APPROVE, RULE_E1, left, true, "topup_timeout");
            return true;
        }
        return false;
    case TOPUP_CREDITED:
        return false;
    }
    return false;
}

void refund_policy_check(const struct refund_facts *f, struct refund_decision *out)
{
    memset(out, 0, sizeof *out);
    out->facts = FACT_PAYMENTS;
    if (f->unapplied_fen > 0) {
        set(out, OUTCOME_APPROVE, RULE_E3, f->unapplied_fen, true, "duplicate_payment");
        return;
    }
    if (f->paid_at_ms == 0) {
        set(out, OUTCOME_NONE, RULE_NONE, 0, true, "not_paid");
        return;
    }
    if (machine_facts(f, out)) {
        return;
    }
    set(out, OUTCOME_NONE, RULE_NONE, 0, true, NULL);
}

static bool within_hours(int64_t from_ms, int64_t now_ms, int64_t hours)
{
    return now_ms <= from_ms + hours * MS_PER_HOUR;
}

static void decide_topup(const struct refund_facts *f, enum refund_reason reason, int64_t left,
                         struct refund_decision *d)
{
    d->facts |= FACT_TOPUP_RECORD | FACT_TERMS;
    if (f->topup == TOPUP_CREDITED) {
        /* A1: credited to the account as entered. */
        if (reason == REASON_WRONG_ACCOUNT) {
            set(d, OUTCOME_REJECT, RULE_N3, 0, true, "buyer_input_error");
        } else {
            set(d, OUTCOME_REJECT, RULE_N1, 0, true, "topup_credited");
        }
        return;
    }
    /* Pending and not yet timed out: the machine will refund by itself if it must. */
    set(d, OUTCOME_WAIT, RULE_E1, left, true, "topup_in_progress");
    d->wait_until_ms = topup_deadline(f);
}

static void decide_card(const struct refund_facts *f, enum refund_reason reason, int64_t left,
                        struct refund_decision *d)
{
    d->facts |= FACT_REVEALS | FACT_ACTIVATIONS | FACT_TERMS | FACT_DELIVERY;
    if (f->keys_activated > 0) {
        set(d, OUTCOME_REJECT, RULE_N1, 0, true, "key_activated");
        return;
    }
    if (reason == REASON_CHANGED_MIND) {
        if (f->no_reason_days == 0) {
            set(d, OUTCOME_REJECT, RULE_N2, 0, true, "no_reason_not_offered");
            return;
        }
        if (f->now_ms > f->delivered_at_ms + f->no_reason_days * MS_PER_DAY) {
            set(d, OUTCOME_REJECT, RULE_N2, 0, true, "late");
            return;
        }
    } else if (!within_hours(f->delivered_at_ms, f->now_ms, f->refund_window_hours)) {
        set(d, OUTCOME_REJECT, RULE_N2, 0, true, "late");
        return;
    }
    if (f->keys_revealed == 0) {
        /* A2, unrevealed: approve where E4 applies; E2 claims need a look at the key. */
        bool no_reason_open = f->no_reason_days > 0 &&
                              f->now_ms <= f->delivered_at_ms + f->no_reason_days * MS_PER_DAY;
        if (reason == REASON_CHANGED_MIND || no_reason_open) {
            set(d, OUTCOME_APPROVE, RULE_E4, left, true, "no_reason_unrevealed");
        } else {
            set(d, OUTCOME_REVIEW, RULE_E2, left, false, "card_review");
        }
        return;
    }
    if (reason == REASON_CHANGED_MIND) {
        /* Revealing (提取) is using the key for the no-reason right: the buyer confirmed before
         * revealing that it ends the right (E4), so a change of mind is no longer a reason. */
        set(d, OUTCOME_REJECT, RULE_N1, 0, true, "no_reason_waived");
        return;
    }
    /* A2, revealed but not activated: a defect claim. */
    enum refund_rule rule = RULE_E2;
    if (f->issuer_can_void) {
        set(d, OUTCOME_APPROVE, rule, left, true, "key_revealed_void");
        d->void_at_issuer = true;
    } else {
        set(d, OUTCOME_REVIEW, rule, left, false, "key_revealed_review");
    }
}

static void decide_account(const struct refund_facts *f, int64_t left, struct refund_decision *d)
{
    d->facts |= FACT_ESCROW | FACT_DELIVERY | FACT_TERMS;
    if (!f->escrow_held) {
        set(d, OUTCOME_REJECT, RULE_N1, 0, true, "escrow_confirmed");
        return;
    }
    if (!f->seller_delivered) {
        set(d, OUTCOME_APPROVE, RULE_E5, left, true, "escrow_not_delivered");
        return;
    }
    set(d, OUTCOME_REVIEW, RULE_E5, left, false, "escrow_dispute");
}

void refund_policy_decide(const struct refund_facts *f, enum refund_reason reason,
                          struct refund_decision *out)
{
    km_assert(reason >= 0 && reason < REASON_COUNT);
    memset(out, 0, sizeof *out);
    out->facts = FACT_PAYMENTS | FACT_REFUNDS;
    /* E3 first: extra money the shop holds goes back whatever else is true. */
    if (f->unapplied_fen > 0 &&
        (reason == REASON_DUPLICATE_CHARGE || refund_policy_refundable_fen(f) == 0 ||
         f->paid_at_ms == 0)) {
        set(out, OUTCOME_APPROVE, RULE_E3, f->unapplied_fen, true, "duplicate_payment");
        return;
    }
    if (f->paid_at_ms == 0) {
        set(out, OUTCOME_REJECT, RULE_NONE, 0, true, "not_paid");
        return;
    }
    int64_t left = refund_policy_refundable_fen(f);
    if (left == 0) {
        set(out, OUTCOME_NONE, RULE_NONE, 0, true,
            f->disputed_fen > 0 ? "payment_disputed" : "nothing_to_refund");
        return;
    }
    if (machine_facts(f, out)) {
        return;
    }
    if (reason == REASON_DUPLICATE_CHARGE) {
        set(out, OUTCOME_REVIEW, RULE_E3, left, false, "duplicate_not_found");
        return;
    }
    switch (f->kind) {
    case GOODS_DIRECT_TOPUP:
        decide_topup(f, reason, left, out);
        return;
    case GOODS_CARD_KEY:
        decide_card(f, reason, left, out);
        return;
    case GOODS_ACCOUNT:
        decide_account(f, left, out);
        return;
    }
    km_assert(!"known goods kind");
}

bool refund_policy_agent_may_cite(enum refund_outcome outcome, enum refund_rule rule)
{
    if (outcome == OUTCOME_APPROVE) {
        return rule >= RULE_E1 && rule <= RULE_E5;
    }
    if (outcome == OUTCOME_REJECT) {
        return rule >= RULE_N1 && rule <= RULE_N3;
    }
    return false;
}
