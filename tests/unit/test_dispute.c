/* Unit tests for domain/dispute: the life of a provider dispute (every status and event against
 * a table written out here), what a dispute may freeze, and when the shop's records prove the
 * goods reached the buyer. */
#include <criterion/criterion.h>

#include <string.h>

#include "domain/dispute.h"

#define X (-1) /* refused */

/* Row = from, column = event (respond, win, lose). */
static const int expected_table[DISPUTE_STATUS_COUNT][DISPUTE_EVENT_COUNT] = {
    /* needs_response */ {DISPUTE_UNDER_REVIEW, DISPUTE_WON, DISPUTE_LOST},
    /* under_review */ {X, DISPUTE_WON, DISPUTE_LOST},
    /* won */ {X, X, X},
    /* lost */ {X, X, X},
};

Test(dispute, every_status_event_pair_matches_the_expected_table)
{
    for (int s = 0; s < DISPUTE_STATUS_COUNT; s++) {
        for (int ev = 0; ev < DISPUTE_EVENT_COUNT; ev++) {
            enum dispute_status to = (enum dispute_status)99;
            int rc = dispute_transition((enum dispute_status)s, (enum dispute_event)ev, &to);
            if (expected_table[s][ev] == X) {
                cr_assert_eq(rc, -KM_ESTATE, "%s + event %d should be refused",
                             dispute_status_name((enum dispute_status)s), ev);
                cr_assert_eq((int)to, 99, "a refused transition must not write *to");
            } else {
                cr_assert_eq(rc, 0, "%s + event %d should be allowed",
                             dispute_status_name((enum dispute_status)s), ev);
                cr_assert_eq((int)to, expected_table[s][ev]);
            }
        }
    }
}

Test(dispute, out_of_range_status_or_event_is_refused)
{
    enum dispute_status to;
    cr_assert_eq(dispute_transition(DISPUTE_STATUS_COUNT, DISPUTE_EV_WIN, &to), -KM_ESTATE);
    cr_assert_eq(dispute_transition(DISPUTE_NEEDS_RESPONSE, DISPUTE_EVENT_COUNT, &to), -KM_ESTATE);
}

Test(dispute, names_round_trip_and_only_two_are_open)
{
    for (int s = 0; s < DISPUTE_STATUS_COUNT; s++) {
        enum dispute_status back;
        cr_assert_eq(dispute_status_parse(dispute_status_name((enum dispute_status)s), &back), 0);
        cr_assert_eq((int)back, s);
    }
    enum dispute_status out;
    cr_assert_eq(dispute_status_parse("open", &out), -KM_EINVAL);
    cr_assert_eq(dispute_status_parse("", &out), -KM_EINVAL);
    cr_assert(dispute_is_open(DISPUTE_NEEDS_RESPONSE));
    cr_assert(dispute_is_open(DISPUTE_UNDER_REVIEW));
    cr_assert(!dispute_is_open(DISPUTE_WON));
    cr_assert(!dispute_is_open(DISPUTE_LOST));
}

Test(dispute, the_freeze_never_takes_more_than_is_left_of_the_payment)
{
    cr_assert_eq(dispute_freeze_fen(1000, 1000, 0), 1000, "the whole payment");
    cr_assert_eq(dispute_freeze_fen(400, 1000, 0), 400, "a part");
    cr_assert_eq(dispute_freeze_fen(1000, 1000, 600), 400, "less what was refunded");
    cr_assert_eq(dispute_freeze_fen(300, 1000, 600), 300, "a part of what is left");
    cr_assert_eq(dispute_freeze_fen(1000, 1000, 1000), 0, "refunded in full: nothing");
    cr_assert_eq(dispute_freeze_fen(1000, 1000, 1200), 0, "never below zero");
    cr_assert_eq(dispute_freeze_fen(0, 1000, 0), 0);
    cr_assert_eq(dispute_freeze_fen(-5, 1000, 0), 0);
}

Test(dispute, delivery_is_proven_by_a_reveal_a_credited_topup_or_handed_over_goods)
{
    struct refund_facts f;
    memset(&f, 0, sizeof f);
    f.kind = GOODS_CARD_KEY;
    f.keys_total = 2;
    cr_assert(!dispute_delivery_proven(&f), "delivered but never revealed");
    f.keys_revealed = 1;
    cr_assert(dispute_delivery_proven(&f));
    f.keys_revealed = 0;
    f.keys_activated = 1;
    cr_assert(dispute_delivery_proven(&f), "activated at the issuer");

    memset(&f, 0, sizeof f);
    f.kind = GOODS_DIRECT_TOPUP;
    const enum topup_state not_proven[] = {TOPUP_NONE, TOPUP_PENDING, TOPUP_FAILED,
                                           TOPUP_WRONG_REGION};
    for (size_t i = 0; i < sizeof not_proven / sizeof not_proven[0]; i++) {
        f.topup = not_proven[i];
        cr_assert(!dispute_delivery_proven(&f), "top-up state %d", (int)not_proven[i]);
    }
    f.topup = TOPUP_CREDITED;
    cr_assert(dispute_delivery_proven(&f));

    memset(&f, 0, sizeof f);
    f.kind = GOODS_ACCOUNT;
    cr_assert(!dispute_delivery_proven(&f));
    f.seller_delivered = true;
    cr_assert(dispute_delivery_proven(&f));
}

Test(dispute, reasons)
{
    const char *good[] = {"not_received", "not_as_described", "unauthorized", "duplicate", "other"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cr_assert(dispute_reason_valid(good[i]), "%s", good[i]);
    }
    cr_assert(!dispute_reason_valid(""));
    cr_assert(!dispute_reason_valid("Other"));
    cr_assert(!dispute_reason_valid("not_received "));
}
