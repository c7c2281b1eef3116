/* Which open disputes the timers ask the provider about (store_disputes_to_poll): past their due
 * date unanswered, or answered, for longer than the grace; never a closed one; and one put off
 * (a question that failed, a provider still deciding) not before its time. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "loose_store.h"
#include "store/db.h"
#include "store/store_disputes.h"

#define GRACE 900

static char dir[64];
static struct db *db;

static void start(void)
{
    db = loose_store_open("store-disputes", dir, sizeof dir);
}

static void finish(void)
{
    loose_store_close(db, dir);
}

TestSuite(store_disputes, .init = start, .fini = finish);

static void insert(const char *id, const char *status, int64_t respond_by, int64_t responded_at)
{
    struct dispute_row d = {0};
    snprintf(d.id, sizeof d.id, "%s", id);
    snprintf(d.provider_dispute_id, sizeof d.provider_dispute_id, "sdp_%s", id);
    snprintf(d.order_id, sizeof d.order_id, "ord_1");
    snprintf(d.payment_id, sizeof d.payment_id, "pay_%s", id);
    snprintf(d.reason, sizeof d.reason, "other");
    snprintf(d.status, sizeof d.status, "needs_response");
    d.amount_fen = 100;
    d.frozen_fen = 100;
    d.respond_by = respond_by;
    d.opened_at = 1;
    cr_assert_eq(store_dispute_insert(db, &d), 0);
    if (strcmp(status, "needs_response") != 0) {
        snprintf(d.status, sizeof d.status, "%s", status);
        d.responded_at = responded_at;
        cr_assert_eq(store_dispute_update(db, &d, "needs_response", NULL), 0);
    }
}

/* The ids due at now, joined by spaces. */
static const char *due(int64_t now)
{
    static char out[8 * (ID_BYTES_MAX + 1)];
    char ids[8][ID_BYTES_MAX];
    int n = 0;
    cr_assert_eq(store_disputes_to_poll(db, now, GRACE, ids, 8, &n), 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i > 0) {
            strcat(out, " ");
        }
        strcat(out, ids[i]); /* each id is shorter than ID_BYTES_MAX: room for all eight */
    }
    return out;
}

Test(store_disputes, asks_after_the_due_date_or_the_answer_plus_grace_and_never_when_closed)
{
    insert("dp_a", "needs_response", 1000, 0);
    insert("dp_b", "under_review", 5000, 2000);
    insert("dp_c", "won", 100, 50);
    insert("dp_d", "lost", 100, 50);
    cr_assert_str_eq(due(1000 + GRACE - 1), "", "within the grace the notification may still come");
    cr_assert_str_eq(due(1000 + GRACE), "dp_a", "unanswered past its date");
    cr_assert_str_eq(due(2000 + GRACE), "dp_a dp_b", "answered, and no decision came");
}

Test(store_disputes, one_put_off_waits_for_its_time_and_lets_the_others_through)
{
    insert("dp_a", "needs_response", 1000, 0);
    insert("dp_b", "needs_response", 1001, 0);
    cr_assert_eq(store_dispute_poll_later(db, "dp_a", 9000), 0);
    cr_assert_str_eq(due(5000), "dp_b");
    cr_assert_str_eq(due(9000), "dp_b dp_a", "then again, after the ones never put off");
}
