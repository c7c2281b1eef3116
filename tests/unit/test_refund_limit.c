/* An order has at most REFUNDS_PER_ORDER_MAX refunds. Its views and the check for a refund left
 * unpaid read that many, so the limit is kept where every refund is made: one more is refused,
 * and nothing of it is stored or moved. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "loose_store.h"
#include "service/books.h"
#include "service/refunds.h"
#include "service/refunds_int.h"
#include "store/db.h"
#include "store/store.h"
#include "store/store_refunds.h"

static char dir[64];
static struct db *db;

static void start(void)
{
    db = loose_store_open("refund-limit", dir, sizeof dir);
    cr_assert_eq(refunds_init(), 0);
}

static void finish(void)
{
    loose_store_close(db, dir);
}

TestSuite(refund_limit, .init = start, .fini = finish);

Test(refund_limit, an_order_takes_no_refund_past_the_most_it_may_have)
{
    struct order o = {0};
    snprintf(o.id, sizeof o.id, "ord_limit");
    struct payment p = {0};
    snprintf(p.id, sizeof p.id, "pay_limit");
    snprintf(p.order_id, sizeof p.order_id, "%s", o.id);
    snprintf(p.method, sizeof p.method, "balance");
    snprintf(p.status, sizeof p.status, "succeeded");
    snprintf(p.disposition, sizeof p.disposition, "applied");
    p.amount_fen = 10000;
    struct km_error e;
    cr_assert_eq(db_begin_write(db), 0);
    cr_assert_eq(
        books_post(db, "psp:balance", "order:ord_limit", p.amount_fen, "capture", p.id, 1000, &e),
        0, "%s", e.message);

    for (int i = 0; i < REFUNDS_PER_ORDER_MAX; i++) {
        cr_assert_eq(refunds_pay_back(db, &o, &p, NULL, "E2", 1, NULL, 2000 + i, &e), 0,
                     "refund %d: %s", i + 1, e.message);
    }
    int64_t refunded = 0;
    cr_assert_eq(store_refunded_of_payment(db, p.id, &refunded), 0);
    cr_assert_eq(refunded, REFUNDS_PER_ORDER_MAX);

    /* One more fits under what was captured, and is still refused. */
    cr_assert_eq(refunds_pay_back(db, &o, &p, NULL, "E2", 1, NULL, 9000, &e), -KM_ESTATE);
    cr_assert_str_eq(e.reason, "too_many_refunds");
    cr_assert_str_eq(e.param, "order_id");
    int64_t count = 0;
    cr_assert_eq(store_refunds_count_of_order(db, o.id, &count), 0);
    cr_assert_eq(count, REFUNDS_PER_ORDER_MAX);
    cr_assert_eq(store_refunded_of_payment(db, p.id, &refunded), 0);
    cr_assert_eq(refunded, REFUNDS_PER_ORDER_MAX);
    db_rollback(db);
}
