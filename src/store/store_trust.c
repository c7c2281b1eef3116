/* The trust signals' figures, by seller, from plain SQL over the window's rows. */
#include "store/store_trust.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

struct groups {
    struct trust_counts *shop;
    struct trust_counts *sellers;
    int count;
};

static struct trust_counts *seller_of(const struct groups *g, const char *seller_id)
{
    for (int i = 0; seller_id[0] != '\0' && i < g->count; i++) {
        if (strcmp(g->sellers[i].seller_id, seller_id) == 0) {
            return &g->sellers[i];
        }
    }
    return NULL;
}

/* Paid orders of the window, by seller ("" for the shop's own goods), the most first. */
static int paid_orders(struct db *db, int64_t from, int64_t to, struct groups *g, int max)
{
    struct db_stmt *st = db_query(
        db,
        "SELECT COALESCE(o.seller_id, ''), COALESCE(MAX(s.name), ''), COUNT(*) FROM orders o"
        " LEFT JOIN sellers s ON s.id = o.seller_id WHERE o.created_at >= $1 AND"
        " o.created_at < $2 AND o.paid_at IS NOT NULL GROUP BY COALESCE(o.seller_id, '')"
        " ORDER BY COUNT(*) DESC, COALESCE(o.seller_id, '')",
        "ii", from, to);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        int64_t n = db_int(st, 2);
        g->shop->paid_orders += n;
        if (db_text(st, 0)[0] != '\0' && g->count < max) {
            struct trust_counts *s = &g->sellers[g->count++];
            db_text_copy(st, 0, s->seller_id, sizeof s->seller_id);
            db_text_copy(st, 1, s->seller_name, sizeof s->seller_name);
            s->paid_orders = n;
        }
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

/* Adds each row's integer columns 1..n to the shop's figures and its seller's (column 0). */
typedef void (*add_fn)(struct trust_counts *t, struct db_stmt *st);

static int add_rows(struct db_stmt *st, struct groups *g, add_fn add)
{
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        add(g->shop, st);
        struct trust_counts *s = seller_of(g, db_text(st, 0));
        if (s != NULL) {
            add(s, st);
        }
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

static void add_refunded(struct trust_counts *t, struct db_stmt *st)
{
    t->refunded_orders += db_int(st, 1);
}

/* Of the paid orders, those some money for the goods came back to (not a second payment's). */
static int refunded_orders(struct db *db, int64_t from, int64_t to, struct groups *g)
{
    return add_rows(db_query(db,
                             "SELECT COALESCE(o.seller_id, ''), COUNT(DISTINCT o.id) FROM orders o"
                             " JOIN refunds r ON r.order_id = o.id JOIN payments p"
                             " ON p.id = r.payment_id WHERE o.created_at >= $1"
                             " AND o.created_at < $2 AND o.paid_at IS NOT NULL"
                             " AND r.status = 'succeeded' AND p.disposition = 'applied'"
                             " GROUP BY COALESCE(o.seller_id, '')",
                             "ii", from, to),
                    g, add_refunded);
}

static void add_first(struct trust_counts *t, struct db_stmt *st)
{
    t->decisions += db_int(st, 1);
    t->decided_automatically += db_int(st, 2);
    t->decisions_approved += db_int(st, 3);
}

static void add_due(struct trust_counts *t, struct db_stmt *st)
{
    t->decisions_due += db_int(st, 1);
    t->decided_in_time += db_int(st, 2);
}

static void add_late(struct trust_counts *t, struct db_stmt *st)
{
    t->refunds_late += db_int(st, 1);
}

/* First decisions on buyers' requests in the window (the refunds the shop made unasked are not
 * requests), by the machine and approved; a person's decisions, first or on appeal, made before
 * their deadline; and cases waiting on a person past theirs now, however old, which count as late
 * (a case waiting on the buyer is late once the buyer's time and the agent's after it ran out). */
static int decisions(struct db *db, const struct trust_window *w, struct groups *g)
{
    int64_t from = w->from, to = w->to;
    int rc =
        add_rows(db_query(db,
                          "SELECT COALESCE(o.seller_id, ''), COUNT(*),"
                          " SUM(CASE WHEN d.automatic = 1 THEN 1 ELSE 0 END),"
                          " SUM(CASE WHEN d.outcome = 'approve' THEN 1 ELSE 0 END)"
                          " FROM decisions d JOIN cases c ON c.id = d.case_id"
                          " JOIN orders o ON o.id = c.order_id WHERE d.stage = 'initial'"
                          " AND c.origin = 'buyer' AND d.created_at >= $1 AND d.created_at < $2"
                          " GROUP BY COALESCE(o.seller_id, '')",
                          "ii", from, to),
                 g, add_first);
    rc = rc != 0 ? rc
                 : add_rows(db_query(db,
                                     "SELECT COALESCE(o.seller_id, ''), COUNT(*),"
                                     " SUM(CASE WHEN d.created_at <= d.sla_due_at THEN 1 ELSE 0"
                                     " END) FROM decisions d JOIN cases c ON c.id = d.case_id"
                                     " JOIN orders o ON o.id = c.order_id WHERE d.automatic = 0"
                                     " AND d.sla_due_at IS NOT NULL AND d.created_at >= $1"
                                     " AND d.created_at < $2 GROUP BY COALESCE(o.seller_id, '')",
                                     "ii", from, to),
                            g, add_due);
    return rc != 0 ? rc
                   : add_rows(db_query(db,
                                       "SELECT COALESCE(o.seller_id, ''), COUNT(*), 0 FROM cases c"
                                       " JOIN orders o ON o.id = c.order_id"
                                       " WHERE ((c.status = 'open' OR c.status = 'appealed')"
                                       " AND (c.sla_due_at < $1 OR c.late_at IS NOT NULL))"
                                       " OR (c.status = 'awaiting_buyer' AND (c.late_at IS NOT"
                                       " NULL OR c.buyer_reply_due_at + CASE WHEN c.appealed_at"
                                       " IS NULL THEN $2 ELSE $3 END < $1))"
                                       " GROUP BY COALESCE(o.seller_id, '')",
                                       "iii", to, w->first_deadline_ms, w->appeal_deadline_ms),
                              g, add_due);
}

/* Refunds still with the provider past the date the buyer was promised, now. */
static int refunds_late(struct db *db, int64_t to, struct groups *g)
{
    return add_rows(db_query(db,
                             "SELECT COALESCE(o.seller_id, ''), COUNT(*) FROM refunds r"
                             " JOIN orders o ON o.id = r.order_id WHERE r.status = 'pending'"
                             " AND r.expected_by < $1 GROUP BY COALESCE(o.seller_id, '')",
                             "i", to),
                    g, add_late);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t median(int64_t *v, int64_t n)
{
    if (n == 0) {
        return -1;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    return n % 2 == 1 ? v[n / 2] : v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

/* Refunds a buyer asked for that reached them in the window, and how long each took from the
 * request. The refunds the shop made unasked (a failed top-up, a second payment) are not timed:
 * nobody waited for them. */
static int time_to_money(struct db *db, int64_t from, int64_t to, struct groups *g)
{
    struct db_stmt *st = db_query(
        db,
        "SELECT COALESCE(o.seller_id, ''), r.completed_at - c.created_at"
        " FROM refunds r JOIN orders o ON o.id = r.order_id"
        " JOIN cases c ON c.id = r.case_id WHERE c.origin = 'buyer' AND r.status = 'succeeded'"
        " AND r.completed_at >= $1 AND r.completed_at < $2",
        "ii", from, to);
    int64_t cap = 256, n = 0;
    int64_t *all = malloc((size_t)cap * sizeof *all);
    int *seller = malloc((size_t)cap * sizeof *seller);
    km_assert(all != NULL && seller != NULL);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (n == cap) {
            cap *= 2;
            all = realloc(all, (size_t)cap * sizeof *all);
            seller = realloc(seller, (size_t)cap * sizeof *seller);
            km_assert(all != NULL && seller != NULL);
        }
        struct trust_counts *s = seller_of(g, db_text(st, 0));
        seller[n] = s != NULL ? (int)(s - g->sellers) : -1;
        all[n++] = db_int(st, 1);
    }
    db_done(st);
    int64_t *mine = malloc((size_t)(n > 0 ? n : 1) * sizeof *mine);
    km_assert(mine != NULL);
    for (int i = 0; i < g->count; i++) {
        int64_t k = 0;
        for (int64_t j = 0; j < n; j++) {
            if (seller[j] == i) {
                mine[k++] = all[j];
            }
        }
        g->sellers[i].refunds_paid = k;
        g->sellers[i].median_ms = median(mine, k);
    }
    g->shop->refunds_paid = n;
    g->shop->median_ms = median(all, n);
    free(mine);
    free(seller);
    free(all);
    return rc < 0 ? rc : 0;
}

int store_trust_counts(struct db *db, const struct trust_window *w, struct trust_counts *shop,
                       struct trust_counts *sellers, int max, int *count)
{
    memset(shop, 0, sizeof *shop);
    memset(sellers, 0, (size_t)max * sizeof *sellers);
    shop->median_ms = -1;
    struct groups g = {.shop = shop, .sellers = sellers, .count = 0};
    int rc = paid_orders(db, w->from, w->to, &g, max);
    for (int i = 0; i < g.count; i++) {
        sellers[i].median_ms = -1;
    }
    rc = rc != 0 ? rc : refunded_orders(db, w->from, w->to, &g);
    rc = rc != 0 ? rc : decisions(db, w, &g);
    rc = rc != 0 ? rc : time_to_money(db, w->from, w->to, &g);
    rc = rc != 0 ? rc : refunds_late(db, w->to, &g);
    *count = g.count;
    return rc;
}
