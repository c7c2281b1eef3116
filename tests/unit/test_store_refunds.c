/* A refund's stored state moves only from the state its writer read: a second report about a
 * refund that ended meanwhile changes nothing and says so, so a payout cannot be settled twice
 * even if two writers ever race. An instant refund is stored complete in one insert. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "loose_store.h"
#include "store/db.h"
#include "store/store.h"
#include "store/store_refunds.h"

static char dir[64];
static struct db *db;

static void start(void)
{
    db = loose_store_open("store-refunds", dir, sizeof dir);
}

static void finish(void)
{
    loose_store_close(db, dir);
}

TestSuite(store_refunds, .init = start, .fini = finish);

static struct refund_row refund(const char *id, const char *status)
{
    struct refund_row r = {0};
    snprintf(r.id, sizeof r.id, "%s", id);
    snprintf(r.order_id, sizeof r.order_id, "ord_1");
    snprintf(r.payment_id, sizeof r.payment_id, "pay_1");
    snprintf(r.method, sizeof r.method, "wechat");
    snprintf(r.rule, sizeof r.rule, "E2");
    snprintf(r.status, sizeof r.status, "%s", status);
    snprintf(r.provider_request_no, sizeof r.provider_request_no, "rfq_%s", id);
    r.amount_fen = 3099;
    r.created_at = 1000;
    r.next_attempt_at = 1000;
    r.expected_by = 2000;
    return r;
}

static struct refund_row stored(const char *id)
{
    struct refund_row r;
    cr_assert_eq(store_refund_get(db, id, &r), 0);
    return r;
}

Test(store_refunds, a_report_moves_the_refund_from_the_state_it_read)
{
    struct refund_row r = refund("rf_a", "pending");
    cr_assert_eq(store_refund_insert(db, &r), 0);

    /* The first report: pending -> succeeded. */
    snprintf(r.status, sizeof r.status, "succeeded");
    r.completed_at = 5000;
    cr_assert_eq(store_refund_update(db, &r, "pending"), 0);
    cr_assert_str_eq(stored("rf_a").status, "succeeded");

    /* A second one that also read "pending" finds it ended and changes nothing. */
    struct refund_row late = refund("rf_a", "failed");
    snprintf(late.failure_reason, sizeof late.failure_reason, "the provider refused the refund");
    late.completed_at = 6000;
    cr_assert_eq(store_refund_update(db, &late, "pending"), -KM_ESTATE);
    struct refund_row now = stored("rf_a");
    cr_assert_str_eq(now.status, "succeeded");
    cr_assert_str_empty(now.failure_reason);
    cr_assert_eq(now.completed_at, 5000);
}

Test(store_refunds, an_unknown_refund_is_not_stored_as_updated)
{
    struct refund_row r = refund("rf_missing", "succeeded");
    cr_assert_eq(store_refund_update(db, &r, "pending"), -KM_ESTATE);
}

Test(store_refunds, an_instant_refund_is_stored_complete)
{
    struct refund_row r = refund("rf_b", "succeeded");
    snprintf(r.method, sizeof r.method, "balance");
    r.completed_at = 1000;
    cr_assert_eq(store_refund_insert(db, &r), 0);
    struct refund_row s = stored("rf_b");
    cr_assert_str_eq(s.status, "succeeded");
    cr_assert_eq(s.completed_at, 1000);

    /* A pending one has no completion time yet. */
    struct refund_row p = refund("rf_c", "pending");
    cr_assert_eq(store_refund_insert(db, &p), 0);
    cr_assert_eq(stored("rf_c").completed_at, 0);
}
