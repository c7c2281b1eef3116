/* An order's refunds are read whole wherever they are listed: its views, its refunded amount, and
 * the check for a refund left unpaid that holds back a second approval. A buyer who asked again
 * and again, or paid several times, can have many; the one that failed and is still owed may be
 * the last of them. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "loose_store.h"
#include "service/books.h"
#include "service/payouts.h"
#include "service/refunds.h"
#include "service/refunds_int.h"
#include "store/db.h"
#include "store/store.h"
#include "store/store_refunds.h"

static char dir[64];
static struct db *db;

static void start(void)
{
    db = loose_store_open("refunds-of-order", dir, sizeof dir);
    cr_assert_eq(refunds_init(), 0);
}

static void finish(void)
{
    loose_store_close(db, dir);
}

TestSuite(refunds_of_order, .init = start, .fini = finish);

static struct payment payment(const char *id, const char *method, int64_t fen)
{
    struct payment p = {0};
    snprintf(p.id, sizeof p.id, "%s", id);
    snprintf(p.order_id, sizeof p.order_id, "ord_many");
    snprintf(p.method, sizeof p.method, "%s", method);
    snprintf(p.status, sizeof p.status, "succeeded");
    snprintf(p.disposition, sizeof p.disposition, "applied");
    p.amount_fen = fen;
    p.created_at = 1000;
    p.captured_at = 1000;
    cr_assert_eq(store_payment_insert(db, &p), 0);
    return p;
}

Test(refunds_of_order, every_refund_is_read_and_the_last_one_owed_is_found)
{
    enum { MANY = 70 };
    struct order o = {0};
    snprintf(o.id, sizeof o.id, "ord_many");
    struct km_error e;
    cr_assert_eq(db_begin_write(db), 0);
    struct payment balance = payment("pay_balance", "balance", 10000);
    struct payment wechat = payment("pay_wechat", "wechat", 500);
    cr_assert_eq(
        books_post(db, "psp:balance", "order:ord_many", 10000, "capture", balance.id, 1000, &e), 0,
        "%s", e.message);
    for (int i = 0; i < MANY; i++) {
        cr_assert_eq(refunds_pay_back(db, &o, &balance, NULL, "E2", 1, NULL, 2000 + i, &e), 0,
                     "refund %d: %s", i + 1, e.message);
    }
    /* The last: a refund by WeChat Pay that the route refused for good. */
    struct refund_row failed = {0};
    snprintf(failed.id, sizeof failed.id, "rf_last");
    snprintf(failed.order_id, sizeof failed.order_id, "%s", o.id);
    snprintf(failed.payment_id, sizeof failed.payment_id, "%s", wechat.id);
    snprintf(failed.method, sizeof failed.method, "wechat");
    snprintf(failed.rule, sizeof failed.rule, "E2");
    snprintf(failed.status, sizeof failed.status, "failed");
    snprintf(failed.provider_request_no, sizeof failed.provider_request_no, "rfq_last");
    failed.amount_fen = 299;
    failed.created_at = 9000;
    failed.next_attempt_at = 9000;
    failed.expected_by = 9000;
    failed.completed_at = 9500;
    cr_assert_eq(store_refund_insert(db, &failed), 0);

    struct refund_row *all = NULL;
    int n = 0;
    cr_assert_eq(store_refunds_of_order(db, o.id, &all, &n), 0);
    cr_assert_eq(n, MANY + 1);
    for (int i = 1; i < n; i++) {
        cr_assert_leq(all[i - 1].created_at, all[i].created_at, "oldest first");
    }
    cr_assert_str_eq(all[n - 1].id, "rf_last");
    free(all);

    struct refund_row owed;
    cr_assert_eq(payouts_unsettled(db, o.id, &owed, &e), 1, "the refund still owed is found");
    cr_assert_str_eq(owed.id, "rf_last");
    db_rollback(db);
}

Test(refunds_of_order, an_order_without_refunds_has_an_empty_list)
{
    struct refund_row one;
    struct refund_row *all = &one; /* the call sets it to NULL */
    int n = -1;
    cr_assert_eq(store_refunds_of_order(db, "ord_none", &all, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_null(all);
}
