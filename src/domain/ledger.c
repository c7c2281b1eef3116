/* Double-entry transfer rules after TigerBeetle: amounts are checked, limits on accounts are
 * enforced counting pending amounts, and every change is computed in full before either account
 * is written, so a refused transfer leaves both accounts exactly as they were. */
#include "domain/ledger.h"

#include <stddef.h>

#define LEDGER_FLAGS_KNOWN                                                                         \
    (LEDGER_DEBITS_MUST_NOT_EXCEED_CREDITS | LEDGER_CREDITS_MUST_NOT_EXCEED_DEBITS)

/* The invariants every stored account keeps; a violation means corrupt data or a bug. */
static void account_assert_valid(const struct ledger_account *a)
{
    km_assert(a != NULL);
    km_assert(a->debits_pending >= 0);
    km_assert(a->debits_posted >= 0);
    km_assert(a->credits_pending >= 0);
    km_assert(a->credits_posted >= 0);
}

static int account_check_flags(const struct ledger_account *a, const char *param,
                               struct km_error *e)
{
    if ((a->flags & ~LEDGER_FLAGS_KNOWN) != 0) {
        return km_fail(e, KM_EINVAL, "flags_unknown", param, "the %s has unknown flags 0x%x", param,
                       a->flags);
    }
    if ((a->flags & LEDGER_FLAGS_KNOWN) == LEDGER_FLAGS_KNOWN) {
        return km_fail(e, KM_EINVAL, "flags_are_mutually_exclusive", param,
                       "the %s cannot limit both its debits and its credits", param);
    }
    return 0;
}

int ledger_transfer(struct ledger_account *debit, struct ledger_account *credit,
                    enum ledger_transfer_kind kind, int64_t amount_fen, struct km_error *e)
{
    account_assert_valid(debit);
    account_assert_valid(credit);
    /* Posting and voiding go through ledger_resolve_pending, which knows the pending amount. */
    km_assert(kind == LEDGER_POSTED || kind == LEDGER_PENDING);

    if (debit == credit) {
        return km_fail(e, KM_EINVAL, "accounts_must_be_different", "credit_account",
                       "a transfer must move money between two different accounts");
    }
    if (amount_fen <= 0) {
        return km_fail(e, KM_EINVAL, "amount_too_small", "amount_fen",
                       "a transfer amount must be positive");
    }
    int rc = account_check_flags(debit, "debit_account", e);
    if (rc != 0) {
        return rc;
    }
    rc = account_check_flags(credit, "credit_account", e);
    if (rc != 0) {
        return rc;
    }

    /* Totals that the limits compare against; pending amounts count as already spent. */
    int64_t debit_total = 0;
    int64_t credit_total = 0;
    if (__builtin_add_overflow(debit->debits_pending, debit->debits_posted, &debit_total) ||
        __builtin_add_overflow(debit_total, amount_fen, &debit_total) ||
        __builtin_add_overflow(credit->credits_pending, credit->credits_posted, &credit_total) ||
        __builtin_add_overflow(credit_total, amount_fen, &credit_total)) {
        return km_fail(e, KM_EINVAL, "overflow", "amount_fen",
                       "the transfer would overflow an account's totals");
    }
    if ((debit->flags & LEDGER_DEBITS_MUST_NOT_EXCEED_CREDITS) != 0 &&
        debit_total > debit->credits_posted) {
        return km_fail(e, KM_EINVAL, "exceeds_credits", "amount_fen",
                       "the debit account does not hold enough to pay this out");
    }
    if ((credit->flags & LEDGER_CREDITS_MUST_NOT_EXCEED_DEBITS) != 0 &&
        credit_total > credit->debits_posted) {
        return km_fail(e, KM_EINVAL, "exceeds_debits", "amount_fen",
                       "the credit account cannot take more than it has paid out");
    }

    /* The sums above bound every single field, so these additions cannot overflow. */
    if (kind == LEDGER_POSTED) {
        debit->debits_posted += amount_fen;
        credit->credits_posted += amount_fen;
    } else {
        debit->debits_pending += amount_fen;
        credit->credits_pending += amount_fen;
    }
    account_assert_valid(debit);
    account_assert_valid(credit);
    return 0;
}

int ledger_resolve_pending(struct ledger_account *debit, struct ledger_account *credit,
                           enum ledger_pending_state *state, int64_t pending_amount_fen, bool post,
                           int64_t amount_fen, struct km_error *e)
{
    account_assert_valid(debit);
    account_assert_valid(credit);
    km_assert(debit != credit);
    km_assert(state != NULL);
    km_assert(pending_amount_fen > 0);

    if (*state == LEDGER_PENDING_POSTED) {
        return km_fail(e, KM_ESTATE, "pending_transfer_already_posted", "pending_transfer",
                       "this pending transfer was already posted");
    }
    if (*state == LEDGER_PENDING_VOIDED) {
        return km_fail(e, KM_ESTATE, "pending_transfer_already_voided", "pending_transfer",
                       "this pending transfer was already voided");
    }
    km_assert(*state == LEDGER_PENDING_OPEN);
    /* An open pending transfer is still counted in both accounts' pending sides. */
    km_assert(debit->debits_pending >= pending_amount_fen);
    km_assert(credit->credits_pending >= pending_amount_fen);

    if (post) {
        if (amount_fen <= 0) {
            return km_fail(e, KM_EINVAL, "amount_too_small", "amount_fen",
                           "the amount to post must be positive");
        }
        if (amount_fen > pending_amount_fen) {
            return km_fail(e, KM_EINVAL, "exceeds_pending_transfer_amount", "amount_fen",
                           "the amount to post is more than the pending transfer reserved");
        }
    }

    /* The whole reservation is released; the posted part moves for good. Limits need no
     * check: each side's total only shrinks, and the other sides only grow. Pending plus posted
     * never exceeded INT64_MAX on either side, so moving part of the pending amount into posted
     * cannot overflow unless the stored data is corrupt. */
    int64_t debits_posted = debit->debits_posted;
    int64_t credits_posted = credit->credits_posted;
    if (post) {
        bool debit_overflow = __builtin_add_overflow(debits_posted, amount_fen, &debits_posted);
        bool credit_overflow = __builtin_add_overflow(credits_posted, amount_fen, &credits_posted);
        km_assert(!debit_overflow);
        km_assert(!credit_overflow);
    }
    debit->debits_pending -= pending_amount_fen;
    credit->credits_pending -= pending_amount_fen;
    debit->debits_posted = debits_posted;
    credit->credits_posted = credits_posted;
    *state = post ? LEDGER_PENDING_POSTED : LEDGER_PENDING_VOIDED;
    account_assert_valid(debit);
    account_assert_valid(credit);
    return 0;
}

int64_t ledger_balance_posted(const struct ledger_account *a)
{
    account_assert_valid(a);
    return a->credits_posted - a->debits_posted;
}

/* A 128-bit running sum from two 64-bit halves: n accounts of up to INT64_MAX each cannot
 * overflow it, and ISO C has no 128-bit integer to use instead. */
struct wide_sum {
    uint64_t high;
    uint64_t low;
};

static void wide_sum_add(struct wide_sum *s, int64_t value)
{
    km_assert(value >= 0); /* checked by callers; a negative field is corrupt data */
    uint64_t v = (uint64_t)value;
    s->low += v;
    if (s->low < v) {
        s->high++;
    }
}

static bool wide_sum_equal(const struct wide_sum *a, const struct wide_sum *b)
{
    return a->high == b->high && a->low == b->low;
}

bool ledger_books_balance(const struct ledger_account *accounts, int n)
{
    km_assert(n >= 0);
    km_assert(n == 0 || accounts != NULL);
    struct wide_sum debits_pending = {0, 0};
    struct wide_sum debits_posted = {0, 0};
    struct wide_sum credits_pending = {0, 0};
    struct wide_sum credits_posted = {0, 0};
    for (int i = 0; i < n; i++) {
        wide_sum_add(&debits_pending, accounts[i].debits_pending);
        wide_sum_add(&debits_posted, accounts[i].debits_posted);
        wide_sum_add(&credits_pending, accounts[i].credits_pending);
        wide_sum_add(&credits_posted, accounts[i].credits_posted);
    }
    return wide_sum_equal(&debits_pending, &credits_pending) &&
           wide_sum_equal(&debits_posted, &credits_posted);
}
