/* Refund policy v1, table-driven: every rule, each boundary (one second inside and outside a
 * window, exactly at the top-up timeout), and the precedence between rules. */
#include <criterion/criterion.h>
#include <string.h>

#include "domain/refund_policy.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define T0 INT64_C(1772416800000) /* 2026-03-02T02:00:00Z: paid */

static struct refund_facts card(void)
{
    struct refund_facts f = {0};
    f.kind = GOODS_CARD_KEY;
    f.paid_at_ms = T0;
    f.delivered_at_ms = T0;
    f.now_ms = T0 + HOUR;
    f.amount_fen = 1000;
    f.refund_window_hours = 48;
    f.no_reason_days = 7;
    f.topup_timeout_minutes = 30;
    f.keys_total = 1;
    return f;
}

static struct refund_facts topup(enum topup_state state)
{
    struct refund_facts f = card();
    f.kind = GOODS_DIRECT_TOPUP;
    f.delivered_at_ms = state == TOPUP_CREDITED || state == TOPUP_WRONG_REGION ? T0 + MIN : 0;
    f.keys_total = 0;
    f.topup = state;
    f.now_ms = T0 + 5 * MIN;
    f.no_reason_days = 0;
    return f;
}

static struct refund_facts account(bool delivered, bool held)
{
    struct refund_facts f = card();
    f.kind = GOODS_ACCOUNT;
    f.keys_total = 0;
    f.no_reason_days = 0;
    f.seller_delivered = delivered;
    f.delivered_at_ms = delivered ? T0 + HOUR : 0;
    f.escrow_held = held;
    f.now_ms = T0 + 2 * HOUR;
    return f;
}

struct row {
    const char *name;
    struct refund_facts facts;
    enum refund_reason reason;
    enum refund_outcome outcome;
    const char *rule;
    int64_t amount;
    bool automatic;
};

static void check_rows(const struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct refund_decision d;
        refund_policy_decide(&rows[i].facts, rows[i].reason, &d);
        cr_expect_eq(d.outcome, rows[i].outcome, "%s: outcome %s", rows[i].name,
                     refund_outcome_name(d.outcome));
        cr_expect_str_eq(refund_rule_id(d.rule), rows[i].rule, "%s: rule %s", rows[i].name,
                         refund_rule_id(d.rule));
        cr_expect_eq(d.amount_fen, rows[i].amount, "%s: amount %lld", rows[i].name,
                     (long long)d.amount_fen);
        cr_expect_eq(d.automatic, rows[i].automatic, "%s: automatic", rows[i].name);
        cr_expect_neq(refund_explain_en(d.explanation)[0], '\0', "%s: explained", rows[i].name);
        cr_expect_neq(refund_explain_zh(d.explanation)[0], '\0', "%s: explained in Chinese",
                      rows[i].name);
    }
}

Test(refund_policy, direct_topups_follow_the_upstream_record)
{
    struct refund_facts at_timeout = topup(TOPUP_PENDING);
    at_timeout.now_ms = T0 + 30 * MIN;
    struct refund_facts before_timeout = topup(TOPUP_PENDING);
    before_timeout.now_ms = T0 + 30 * MIN - SEC;
    struct refund_facts queued_late = topup(TOPUP_NONE);
    queued_late.now_ms = T0 + 31 * MIN;
    const struct row rows[] = {
        {"E1 failed top-up", topup(TOPUP_FAILED), REASON_NOT_RECEIVED, OUTCOME_APPROVE, "E1", 1000,
         true},
        {"E1 exactly at the timeout", at_timeout, REASON_NOT_RECEIVED, OUTCOME_APPROVE, "E1", 1000,
         true},
        {"E1 never submitted, past the timeout", queued_late, REASON_NOT_RECEIVED,
         OUTCOME_APPROVE, "E1", 1000, true},
        {"one second before the timeout: wait", before_timeout, REASON_NOT_RECEIVED, OUTCOME_WAIT,
         "E1", 1000, true},
        {"E2 wrong region proven upstream", topup(TOPUP_WRONG_REGION), REASON_WRONG_ITEM,
         OUTCOME_APPROVE, "E2", 1000, true},
        {"E2 wrong region, whatever the reason given", topup(TOPUP_WRONG_REGION),
         REASON_NOT_RECEIVED, OUTCOME_APPROVE, "E2", 1000, true},
        {"N1 credited to the account given", topup(TOPUP_CREDITED), REASON_NOT_RECEIVED,
         OUTCOME_REJECT, "N1", 0, true},
        {"N3 buyer typed the wrong account", topup(TOPUP_CREDITED), REASON_WRONG_ACCOUNT,
         OUTCOME_REJECT, "N3", 0, true},
    };
    check_rows(rows, sizeof rows / sizeof rows[0]);
    struct refund_decision d;
    refund_policy_decide(&before_timeout, REASON_NOT_RECEIVED, &d);
    cr_assert_eq(d.wait_until_ms, T0 + 30 * MIN);
}

Test(refund_policy, card_keys_follow_reveals_and_activations)
{
    struct refund_facts activated = card();
    activated.keys_revealed = 1;
    activated.keys_activated = 1;
    struct refund_facts revealed = card();
    revealed.keys_revealed = 1;
    struct refund_facts revealed_voidable = revealed;
    revealed_voidable.issuer_can_void = true;
    struct refund_facts no_reason_last_second = card();
    no_reason_last_second.now_ms = T0 + 7 * DAY;
    struct refund_facts no_reason_too_late = card();
    no_reason_too_late.now_ms = T0 + 7 * DAY + SEC;
    struct refund_facts no_offer = card();
    no_offer.no_reason_days = 0;
    struct refund_facts window_last_second = no_offer;
    window_last_second.now_ms = T0 + 48 * HOUR;
    struct refund_facts window_passed = no_offer;
    window_passed.now_ms = T0 + 48 * HOUR + SEC;
    const struct row rows[] = {
        {"E4 unrevealed, changed mind", card(), REASON_CHANGED_MIND, OUTCOME_APPROVE, "E4", 1000,
         true},
        {"E4 on the last second of 7 days", no_reason_last_second, REASON_CHANGED_MIND,
         OUTCOME_APPROVE, "E4", 1000, true},
        {"N2 one second after 7 days", no_reason_too_late, REASON_CHANGED_MIND, OUTCOME_REJECT,
         "N2", 0, true},
        {"N2 no-reason not offered", no_offer, REASON_CHANGED_MIND, OUTCOME_REJECT, "N2", 0, true},
        {"E4 also settles an unrevealed wrong-item claim", card(), REASON_WRONG_ITEM,
         OUTCOME_APPROVE, "E4", 1000, true},
        {"E2 unrevealed wrong item without no-reason: agent", window_last_second,
         REASON_WRONG_ITEM, OUTCOME_REVIEW, "E2", 1000, false},
        {"N2 wrong item one second past the window", window_passed, REASON_WRONG_ITEM,
         OUTCOME_REJECT, "N2", 0, true},
        {"N1 activated key", activated, REASON_KEY_NOT_WORKING, OUTCOME_REJECT, "N1", 0, true},
        {"N1 activated key even when changed mind", activated, REASON_CHANGED_MIND,
         OUTCOME_REJECT, "N1", 0, true},
        {"A2 revealed, not activated, issuer can void", revealed_voidable, REASON_KEY_NOT_WORKING,
         OUTCOME_APPROVE, "E2", 1000, true},
        {"A2 revealed, not activated, no void: agent asks for proof", revealed,
         REASON_KEY_NOT_WORKING, OUTCOME_REVIEW, "E2", 1000, false},
        {"revealing ended the no-reason right: a change of mind is N1", revealed_voidable,
         REASON_CHANGED_MIND, OUTCOME_REJECT, "N1", 0, true},
    };
    check_rows(rows, sizeof rows / sizeof rows[0]);
    struct refund_decision d;
    refund_policy_decide(&revealed_voidable, REASON_KEY_NOT_WORKING, &d);
    cr_assert(d.void_at_issuer);
}

Test(refund_policy, escrow_refunds_from_held_funds)
{
    const struct row rows[] = {
        {"E5 seller never delivered", account(false, true), REASON_NOT_RECEIVED, OUTCOME_APPROVE,
         "E5", 1000, true},
        {"E5 dispute while held: agent", account(true, true), REASON_NOT_AS_DESCRIBED,
         OUTCOME_REVIEW, "E5", 1000, false},
        {"N1 after the buyer confirmed", account(true, false), REASON_NOT_AS_DESCRIBED,
         OUTCOME_REJECT, "N1", 0, true},
    };
    check_rows(rows, sizeof rows / sizeof rows[0]);
}

Test(refund_policy, platform_faults_come_first)
{
    struct refund_facts dup = topup(TOPUP_CREDITED);
    dup.unapplied_fen = 1000;
    struct refund_facts late_payment = card();
    late_payment.paid_at_ms = 0;
    late_payment.delivered_at_ms = 0;
    late_payment.unapplied_fen = 1000;
    struct refund_facts stock_out = card();
    stock_out.delivered_at_ms = 0;
    stock_out.delivery_failed = true;
    struct refund_facts no_dup = card();
    const struct row rows[] = {
        {"E3 duplicate charge beats N1", dup, REASON_DUPLICATE_CHARGE, OUTCOME_APPROVE, "E3", 1000,
         true},
        {"E3 payment for an expired order", late_payment, REASON_NOT_RECEIVED, OUTCOME_APPROVE,
         "E3", 1000, true},
        {"E3 stock gone after payment", stock_out, REASON_NOT_RECEIVED, OUTCOME_APPROVE, "E3",
         1000, true},
        {"claimed duplicate the shop cannot see: agent", no_dup, REASON_DUPLICATE_CHARGE,
         OUTCOME_REVIEW, "E3", 1000, false},
    };
    check_rows(rows, sizeof rows / sizeof rows[0]);
}

Test(refund_policy, never_more_than_what_is_left)
{
    struct refund_facts f = card();
    f.refunded_fen = 400;
    struct refund_decision d;
    refund_policy_decide(&f, REASON_CHANGED_MIND, &d);
    cr_assert_eq(d.outcome, OUTCOME_APPROVE);
    cr_assert_eq(d.amount_fen, 600);
    f.refunded_fen = 1000;
    refund_policy_decide(&f, REASON_CHANGED_MIND, &d);
    cr_assert_eq(d.outcome, OUTCOME_NONE);
    cr_assert_eq(d.amount_fen, 0);
    f.refunded_fen = 1200; /* corrupt input still never yields a negative refund */
    cr_assert_eq(refund_policy_refundable_fen(&f), 0);
}

Test(refund_policy, money_frozen_for_a_provider_dispute_is_not_refundable_and_says_why)
{
    struct refund_facts f = card();
    f.disputed_fen = 300;
    struct refund_decision d;
    refund_policy_decide(&f, REASON_CHANGED_MIND, &d);
    cr_assert_eq(d.outcome, OUTCOME_APPROVE);
    cr_assert_eq(d.amount_fen, 700, "only what the dispute does not hold");
    f.refunded_fen = 700;
    refund_policy_decide(&f, REASON_CHANGED_MIND, &d);
    cr_assert_eq(d.outcome, OUTCOME_NONE);
    cr_assert_str_eq(d.explanation, "payment_disputed");
    cr_assert(strstr(refund_explain_zh(d.explanation), "冻结") != NULL);
    f.disputed_fen = 0;
    f.refunded_fen = 1000;
    refund_policy_decide(&f, REASON_CHANGED_MIND, &d);
    cr_assert_str_eq(d.explanation, "nothing_to_refund");
}

Test(refund_policy, the_machine_checks_orders_nobody_asked_about)
{
    struct refund_facts f = topup(TOPUP_PENDING);
    struct refund_decision d;
    refund_policy_check(&f, &d);
    cr_assert_eq(d.outcome, OUTCOME_NONE, "before the timeout nothing happens");
    f.now_ms = T0 + 30 * MIN;
    refund_policy_check(&f, &d);
    cr_assert_eq(d.outcome, OUTCOME_APPROVE);
    cr_assert_str_eq(refund_rule_id(d.rule), "E1");
    cr_assert(d.facts & FACT_TOPUP_RECORD);
    struct refund_facts credited = topup(TOPUP_CREDITED);
    credited.now_ms = T0 + DAY;
    refund_policy_check(&credited, &d);
    cr_assert_eq(d.outcome, OUTCOME_NONE);
    credited.unapplied_fen = 1000;
    refund_policy_check(&credited, &d);
    cr_assert_eq(d.outcome, OUTCOME_APPROVE);
    cr_assert_str_eq(refund_rule_id(d.rule), "E3");
    cr_assert_eq(d.amount_fen, 1000);
}

Test(refund_policy, agents_cite_e_rules_to_approve_and_n_rules_to_reject)
{
    for (int r = RULE_E1; r <= RULE_E5; r++) {
        cr_assert(refund_policy_agent_may_cite(OUTCOME_APPROVE, (enum refund_rule)r));
        cr_assert_not(refund_policy_agent_may_cite(OUTCOME_REJECT, (enum refund_rule)r));
    }
    for (int r = RULE_N1; r <= RULE_N3; r++) {
        cr_assert(refund_policy_agent_may_cite(OUTCOME_REJECT, (enum refund_rule)r));
        cr_assert_not(refund_policy_agent_may_cite(OUTCOME_APPROVE, (enum refund_rule)r));
    }
    cr_assert_not(refund_policy_agent_may_cite(OUTCOME_APPROVE, RULE_NONE));
}

Test(refund_policy, rule_ids_and_reasons_round_trip)
{
    for (int r = RULE_E1; r < RULE_COUNT; r++) {
        enum refund_rule back = RULE_NONE;
        cr_assert_eq(refund_rule_parse(refund_rule_id((enum refund_rule)r), &back), 0);
        cr_assert_eq(back, r);
    }
    for (int r = 0; r < REASON_COUNT; r++) {
        enum refund_reason back = REASON_COUNT;
        cr_assert_eq(refund_reason_parse(refund_reason_name((enum refund_reason)r), &back), 0);
        cr_assert_eq(back, r);
    }
    enum refund_rule rule;
    cr_assert_eq(refund_rule_parse("E9", &rule), -KM_EINVAL);
    enum refund_reason reason;
    cr_assert_eq(refund_reason_parse("because", &reason), -KM_EINVAL);
}
