/* See attention.h. */
#include "service/attention.h"

#include <stdlib.h>
#include <string.h>

#include "service/executor.h"
#include "service/orders.h"
#include "service/payouts.h"
#include "store/store_ledger.h"

struct items {
    struct attention_item *at;
    int count, cap;
};

static struct attention_item *add(struct items *l, enum attention_kind kind, int64_t since,
                                  const char *id, const char *order_id)
{
    if (l->count == l->cap) {
        l->cap = l->cap == 0 ? 16 : l->cap * 2;
        l->at = realloc(l->at, (size_t)l->cap * sizeof *l->at);
        km_assert(l->at != NULL);
    }
    struct attention_item *it = &l->at[l->count++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->since = since;
    it->amount_fen = -1;
    snprintf(it->id, sizeof it->id, "%s", id != NULL ? id : "");
    snprintf(it->order_id, sizeof it->order_id, "%s", order_id);
    return it;
}

static int rank_of(enum attention_kind k)
{
    return k <= ATTENTION_SELLER_RECOVERY_DUE ? 0 : k == ATTENTION_OVERDUE ? 1 : 2;
}

static int by_rank_then_time(const void *a, const void *b)
{
    const struct attention_item *x = a, *y = b;
    if (rank_of(x->kind) != rank_of(y->kind)) {
        return rank_of(x->kind) - rank_of(y->kind);
    }
    return (x->since > y->since) - (x->since < y->since);
}

/* A top-up credited after its refund needs a person only when it was credited as ordered and a
 * refund of it was paid: the buyer then has both. One whose refund failed gave its money back to
 * revenue by itself; one credited to another region is no delivery, and its refund is owed. */
static int has_both(struct db *db, const char *order_id, bool *both)
{
    *both = false;
    struct topup t;
    if (store_topup_get_by_order(db, order_id, &t) != 0) {
        return -1;
    }
    if (strcmp(t.status, "succeeded") != 0) {
        return 0;
    }
    struct refund_row *rs = NULL;
    int n = 0;
    if (store_refunds_of_order(db, order_id, &rs, &n) != 0) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        *both = *both || (strcmp(rs[i].rule, "E1") == 0 && strcmp(rs[i].status, "succeeded") == 0);
    }
    free(rs);
    return 0;
}

/* Money to recover, from the events that raised it and no one has settled. A seller recovery is
 * listed with what revenue fronted, once the money left or is on its way: a refund that failed
 * and was not moved paid nothing, and there is nothing to recover while it stays so. */
static int money_to_recover(struct db *db, struct items *l)
{
    struct attention_event *ev = NULL;
    int n = 0;
    int rc = store_events_needing_a_person(db, &ev, &n);
    for (int i = 0; rc == 0 && i < n; i++) {
        const struct attention_event *e = &ev[i];
        if (strcmp(e->type, "dispute.seller_recovery_due") == 0) {
            /* A dispute lost on account goods the seller was already paid for: the shop's
             * revenue fronted what the provider took back. */
            int64_t fronted = 0;
            rc = store_ledger_posted_of(db, "refund_reversal", e->object_id, &fronted);
            if (rc == 0) {
                add(l, ATTENTION_SELLER_RECOVERY_DUE, e->created_at, e->id, e->order_id)
                    ->amount_fen = fronted;
            }
            continue;
        }
        if (strcmp(e->type, "topup.credited_after_refund") == 0) {
            bool both = false;
            rc = has_both(db, e->order_id, &both);
            if (rc == 0 && both) {
                add(l, ATTENTION_TOPUP_CREDITED_AFTER_REFUND, e->created_at, e->id, e->order_id);
            }
            continue;
        }
        bool twice = strcmp(e->type, "refund.paid_twice") == 0;
        struct refund_row rf;
        char successor[ID_BYTES_MAX] = "";
        int64_t fronted = 0;
        if (store_refund_get(db, e->object_id, &rf) != 0 ||
            (!twice && (store_refund_successor(db, rf.id, successor) != 0 ||
                        store_ledger_posted_of(db, "refund_reversal", rf.id, &fronted) != 0))) {
            rc = -1;
            break;
        }
        if (!twice && strcmp(rf.status, "failed") == 0 && successor[0] == '\0') {
            continue;
        }
        struct attention_item *it =
            add(l, twice ? ATTENTION_PAID_TWICE : ATTENTION_SELLER_RECOVERY_DUE, e->created_at,
                e->id, e->order_id);
        it->has_refund = true;
        it->refund = rf;
        it->amount_fen = twice ? -1 : fronted;
    }
    free(ev);
    return rc;
}

/* Refunds overdue with their provider, or not paid out and still owed. */
static int refunds_listed(struct db *db, struct items *l, enum attention_kind kind)
{
    struct refund_row *rs = NULL;
    int n = 0;
    bool overdue = kind == ATTENTION_OVERDUE;
    int rc = overdue ? store_refunds_overdue(db, &rs, &n) : store_refunds_unpaid(db, &rs, &n);
    for (int i = 0; rc == 0 && i < n; i++) {
        int64_t movable_fen = 0;
        if (!overdue && payouts_movable(db, &rs[i], &movable_fen) != 0) {
            rc = -1;
        } else if (overdue || movable_fen > 0) {
            int64_t since = overdue                   ? rs[i].expected_by
                            : rs[i].completed_at != 0 ? rs[i].completed_at
                                                      : rs[i].created_at;
            struct attention_item *it = add(l, kind, since, NULL, rs[i].order_id);
            it->has_refund = true;
            it->refund = rs[i];
        }
    }
    free(rs);
    return rc;
}

int attention_list(struct db *db, struct attention_item **out, int *count)
{
    struct items l = {0};
    int rc = money_to_recover(db, &l);
    rc = rc != 0 ? rc : refunds_listed(db, &l, ATTENTION_OVERDUE);
    rc = rc != 0 ? rc : refunds_listed(db, &l, ATTENTION_UNPAID_REFUND);
    if (rc != 0) {
        free(l.at);
        *out = NULL;
        *count = 0;
        return rc;
    }
    if (l.count > 1) { /* qsort must not be given the NULL of an empty list */
        qsort(l.at, (size_t)l.count, sizeof *l.at, by_rank_then_time);
    }
    *out = l.at;
    *count = l.count;
    return 0;
}

const char *attention_kind_name(enum attention_kind kind)
{
    static const char *const names[] = {"paid_twice", "topup_credited_after_refund",
                                        "seller_recovery_due", "overdue", "unpaid_refund"};
    km_assert((size_t)kind < sizeof names / sizeof names[0]);
    return names[kind];
}

int attention_settle(struct db *db, const char *event_id, const char *by, const char *note,
                     int64_t now, struct attention_event *out, struct km_error *e)
{
    bool settled = false;
    if (store_attention_event_get(db, event_id, out, &settled) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "event_id",
                       "no money to recover under this id");
    }
    if (settled) {
        return km_fail(e, KM_ESTATE, "already_settled", "event_id",
                       "someone recorded this as settled already");
    }
    if (store_attention_settle(db, out, by, note, now) != 0 ||
        orders_event(db, "attention.settled", out->id, out->order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the settlement was not stored");
    }
    executor_log(LOG_INFO, "attention_settled", "event_id", out->id, "order_id", out->order_id,
                 "by", by, NULL);
    return 0;
}
