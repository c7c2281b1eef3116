/* Unit tests for domain/order_state: every (status, event) pair against a table written out
 * here independently of the one in order_state.c, plus names and final states. */
#include <criterion/criterion.h>

#include <signal.h>
#include <string.h>

#include "domain/order_state.h"

#define X (-1) /* refused */

/* The expected outcome, row = from, column = event (pay, expire, start_delivery, deliver,
 * delivery_failed, confirm, refund). */
static const int expected_table[ORDER_STATUS_COUNT][ORDER_EVENT_COUNT] = {
    /* pending_payment */ {ORDER_PAID, ORDER_EXPIRED, X, X, X, X, X},
    /* paid */ {X, X, ORDER_DELIVERING, ORDER_DELIVERED, ORDER_FAILED, X, ORDER_REFUNDED},
    /* delivering */ {X, X, X, ORDER_DELIVERED, ORDER_FAILED, X, ORDER_REFUNDED},
    /* delivered */ {X, X, X, X, X, ORDER_COMPLETED, ORDER_REFUNDED},
    /* completed */ {X, X, X, X, X, X, ORDER_REFUNDED},
    /* expired */ {X, X, X, X, X, X, X},
    /* failed */ {X, X, X, X, X, X, ORDER_REFUNDED},
    /* refunded */ {X, X, X, X, X, X, X},
};

Test(order_state, every_status_event_pair_matches_the_expected_table)
{
    int allowed = 0;
    for (int s = 0; s < ORDER_STATUS_COUNT; s++) {
        for (int ev = 0; ev < ORDER_EVENT_COUNT; ev++) {
            enum order_status to = (enum order_status)99;
            int rc = order_transition((enum order_status)s, (enum order_event)ev, &to);
            if (expected_table[s][ev] == X) {
                cr_assert_eq(rc, -KM_ESTATE, "%s + %s should be refused",
                             order_status_name((enum order_status)s),
                             order_event_name((enum order_event)ev));
                cr_assert_eq((int)to, 99, "a refused transition must not write *to");
            } else {
                cr_assert_eq(rc, 0, "%s + %s should be allowed",
                             order_status_name((enum order_status)s),
                             order_event_name((enum order_event)ev));
                cr_assert_eq((int)to, expected_table[s][ev], "%s + %s went to %s",
                             order_status_name((enum order_status)s),
                             order_event_name((enum order_event)ev), order_status_name(to));
                allowed++;
            }
        }
    }
    cr_assert_eq(allowed, 13, "exactly thirteen transitions exist");
}

Test(order_state, final_states_allow_nothing_but_completed_refund)
{
    for (int s = 0; s < ORDER_STATUS_COUNT; s++) {
        if (!order_status_is_final((enum order_status)s)) {
            continue;
        }
        for (int ev = 0; ev < ORDER_EVENT_COUNT; ev++) {
            enum order_status to;
            int rc = order_transition((enum order_status)s, (enum order_event)ev, &to);
            if (s == ORDER_COMPLETED && ev == ORDER_EV_REFUND) {
                cr_assert_eq(rc, 0);
            } else {
                cr_assert_eq(rc, -KM_ESTATE);
            }
        }
    }
}

Test(order_state, final_statuses_are_completed_expired_refunded)
{
    cr_assert(order_status_is_final(ORDER_COMPLETED));
    cr_assert(order_status_is_final(ORDER_EXPIRED));
    cr_assert(order_status_is_final(ORDER_REFUNDED));
    cr_assert_not(order_status_is_final(ORDER_PENDING_PAYMENT));
    cr_assert_not(order_status_is_final(ORDER_PAID));
    cr_assert_not(order_status_is_final(ORDER_DELIVERING));
    cr_assert_not(order_status_is_final(ORDER_DELIVERED));
    cr_assert_not(order_status_is_final(ORDER_FAILED), "a failed order still owes a refund");
}

Test(order_state, status_names_are_snake_case_and_round_trip)
{
    static const char *const names[ORDER_STATUS_COUNT] = {
        "pending_payment", "paid",    "delivering", "delivered",
        "completed",       "expired", "failed",     "refunded",
    };
    for (int s = 0; s < ORDER_STATUS_COUNT; s++) {
        cr_assert_str_eq(order_status_name((enum order_status)s), names[s]);
        enum order_status parsed = ORDER_STATUS_COUNT;
        cr_assert_eq(order_status_parse(names[s], &parsed), 0);
        cr_assert_eq((int)parsed, s);
    }
}

Test(order_state, status_parse_rejects_unknown_names)
{
    static const char *const bad[] = {"",      "PAID",    "Paid",   "paid ",
                                      " paid", "pending", "refund", "pending_payment_x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum order_status parsed = ORDER_PAID;
        cr_assert_eq(order_status_parse(bad[i], &parsed), -KM_EINVAL, "'%s'", bad[i]);
        cr_assert_eq(parsed, ORDER_PAID, "must not write *out on error");
    }
    enum order_status parsed;
    cr_assert_eq(order_status_parse(NULL, &parsed), -KM_EINVAL);
}

Test(order_state, event_names)
{
    static const char *const names[ORDER_EVENT_COUNT] = {
        "pay", "expire", "start_delivery", "deliver", "delivery_failed", "confirm", "refund",
    };
    for (int ev = 0; ev < ORDER_EVENT_COUNT; ev++) {
        cr_assert_str_eq(order_event_name((enum order_event)ev), names[ev]);
    }
}

Test(order_state, an_out_of_range_status_is_a_programmer_error, .signal = SIGABRT)
{
    enum order_status to;
    int rc = order_transition((enum order_status)ORDER_STATUS_COUNT, ORDER_EV_PAY, &to);
    cr_assert_fail("order_transition returned %d instead of aborting", rc);
}
