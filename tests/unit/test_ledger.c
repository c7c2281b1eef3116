/* Unit tests for domain/ledger: the TigerBeetle rules case by case, then a seeded random walk
 * over six accounts checking after every step that the books balance, no limit is broken, a
 * refused operation changes nothing, and a pending transfer resolves at most once. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "domain/ledger.h"

#define DMNEC LEDGER_DEBITS_MUST_NOT_EXCEED_CREDITS
#define CMNED LEDGER_CREDITS_MUST_NOT_EXCEED_DEBITS

static void assert_account(const struct ledger_account *a, int64_t dp, int64_t dpo, int64_t cp,
                           int64_t cpo)
{
    cr_assert_eq(a->debits_pending, dp);
    cr_assert_eq(a->debits_posted, dpo);
    cr_assert_eq(a->credits_pending, cp);
    cr_assert_eq(a->credits_posted, cpo);
}

Test(ledger, posted_transfer_moves_money_at_once)
{
    struct ledger_account buyer = {0};
    struct ledger_account order = {.flags = DMNEC};
    struct km_error e = {0};
    cr_assert_eq(ledger_transfer(&buyer, &order, LEDGER_POSTED, 1500, &e), 0);
    assert_account(&buyer, 0, 1500, 0, 0);
    assert_account(&order, 0, 0, 0, 1500);
    cr_assert_eq(ledger_balance_posted(&order), 1500);
    cr_assert_eq(ledger_balance_posted(&buyer), -1500);
    struct ledger_account both[2] = {buyer, order};
    cr_assert(ledger_books_balance(both, 2));
}

Test(ledger, pending_transfer_reserves_without_moving)
{
    struct ledger_account a = {0};
    struct ledger_account b = {0};
    struct km_error e = {0};
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_PENDING, 700, &e), 0);
    assert_account(&a, 700, 0, 0, 0);
    assert_account(&b, 0, 0, 700, 0);
    cr_assert_eq(ledger_balance_posted(&b), 0, "a reservation is not held for good");
}

Test(ledger, amount_must_be_positive)
{
    struct ledger_account a = {0};
    struct ledger_account b = {0};
    struct km_error e = {0};
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_POSTED, 0, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "amount_too_small");
    cr_assert_str_eq(e.param, "amount_fen");
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_PENDING, -1, &e), -KM_EINVAL);
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_POSTED, INT64_MIN, &e), -KM_EINVAL);
    assert_account(&a, 0, 0, 0, 0);
    assert_account(&b, 0, 0, 0, 0);
}

Test(ledger, accounts_must_be_different)
{
    struct ledger_account a = {0};
    struct km_error e = {0};
    cr_assert_eq(ledger_transfer(&a, &a, LEDGER_POSTED, 1, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "accounts_must_be_different");
    assert_account(&a, 0, 0, 0, 0);
}

Test(ledger, debits_must_not_exceed_credits_counts_pending_debits)
{
    struct ledger_account order = {.flags = DMNEC, .credits_posted = 1000};
    struct ledger_account seller = {0};
    struct km_error e = {0};
    /* Exactly what it holds may go out. */
    cr_assert_eq(ledger_transfer(&order, &seller, LEDGER_PENDING, 600, &e), 0);
    cr_assert_eq(ledger_transfer(&order, &seller, LEDGER_POSTED, 400, &e), 0);
    /* One fen more may not, and a pending reservation counts as spent. */
    struct ledger_account before = order;
    cr_assert_eq(ledger_transfer(&order, &seller, LEDGER_POSTED, 1, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "exceeds_credits");
    cr_assert_eq(memcmp(&before, &order, sizeof order), 0);
    /* Pending credits do not count as money held. */
    struct ledger_account fresh = {.flags = DMNEC, .credits_pending = 500};
    cr_assert_eq(ledger_transfer(&fresh, &seller, LEDGER_POSTED, 1, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "exceeds_credits");
}

Test(ledger, credits_must_not_exceed_debits)
{
    struct ledger_account source = {0};
    struct ledger_account capped = {.flags = CMNED, .debits_posted = 300};
    struct km_error e = {0};
    cr_assert_eq(ledger_transfer(&source, &capped, LEDGER_PENDING, 100, &e), 0);
    cr_assert_eq(ledger_transfer(&source, &capped, LEDGER_POSTED, 200, &e), 0);
    cr_assert_eq(ledger_transfer(&source, &capped, LEDGER_POSTED, 1, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "exceeds_debits");
    assert_account(&capped, 0, 300, 100, 200);
}

Test(ledger, the_limit_flags_do_not_bind_the_other_side)
{
    /* A DMNEC account may always receive, a CMNED account may always pay. */
    struct ledger_account a = {.flags = CMNED};
    struct ledger_account b = {.flags = DMNEC};
    struct km_error e = {0};
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_POSTED, 5, &e), 0);
    assert_account(&a, 0, 5, 0, 0);
    assert_account(&b, 0, 0, 0, 5);
}

Test(ledger, both_flags_or_unknown_flags_are_refused)
{
    struct ledger_account both = {
        .flags = DMNEC | CMNED, .credits_posted = 100, .debits_posted = 100};
    struct ledger_account other = {0};
    struct km_error e = {0};
    cr_assert_eq(ledger_transfer(&other, &both, LEDGER_POSTED, 1, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "flags_are_mutually_exclusive");
    cr_assert_str_eq(e.param, "credit_account");
    struct ledger_account odd = {.flags = 0x8};
    cr_assert_eq(ledger_transfer(&odd, &other, LEDGER_POSTED, 1, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "flags_unknown");
    cr_assert_str_eq(e.param, "debit_account");
    assert_account(&other, 0, 0, 0, 0);
}

Test(ledger, overflow_is_refused_and_changes_nothing)
{
    struct ledger_account a = {0};
    struct ledger_account b = {.credits_posted = INT64_MAX - 10};
    struct km_error e = {0};
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_POSTED, 10, &e), 0);
    cr_assert_eq(b.credits_posted, INT64_MAX);
    struct ledger_account a_before = a;
    struct ledger_account b_before = b;
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_PENDING, 1, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "overflow");
    cr_assert_eq(memcmp(&a_before, &a, sizeof a), 0);
    cr_assert_eq(memcmp(&b_before, &b, sizeof b), 0);
    /* Pending and posted together may not pass INT64_MAX on the debit side either. */
    struct ledger_account c = {.debits_pending = INT64_MAX / 2 + 1, .debits_posted = INT64_MAX / 2};
    struct ledger_account d = {0};
    cr_assert_eq(ledger_transfer(&c, &d, LEDGER_POSTED, 1, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "overflow");
}

Test(ledger, post_part_of_a_pending_transfer_releases_the_rest)
{
    struct ledger_account escrow_buyer = {0};
    struct ledger_account seller = {0};
    struct km_error e = {0};
    enum ledger_pending_state state = LEDGER_PENDING_OPEN;
    cr_assert_eq(ledger_transfer(&escrow_buyer, &seller, LEDGER_PENDING, 1000, &e), 0);
    cr_assert_eq(ledger_resolve_pending(&escrow_buyer, &seller, &state, 1000, true, 600, &e), 0);
    cr_assert_eq(state, LEDGER_PENDING_POSTED);
    assert_account(&escrow_buyer, 0, 600, 0, 0);
    assert_account(&seller, 0, 0, 0, 600);
}

Test(ledger, post_the_full_pending_amount)
{
    struct ledger_account a = {0};
    struct ledger_account b = {0};
    struct km_error e = {0};
    enum ledger_pending_state state = LEDGER_PENDING_OPEN;
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_PENDING, 1000, &e), 0);
    cr_assert_eq(ledger_resolve_pending(&a, &b, &state, 1000, true, 1000, &e), 0);
    assert_account(&a, 0, 1000, 0, 0);
    assert_account(&b, 0, 0, 0, 1000);
}

Test(ledger, post_amount_must_be_within_the_pending_amount)
{
    struct ledger_account a = {0};
    struct ledger_account b = {0};
    struct km_error e = {0};
    enum ledger_pending_state state = LEDGER_PENDING_OPEN;
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_PENDING, 1000, &e), 0);
    cr_assert_eq(ledger_resolve_pending(&a, &b, &state, 1000, true, 1001, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "exceeds_pending_transfer_amount");
    cr_assert_eq(ledger_resolve_pending(&a, &b, &state, 1000, true, 0, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "amount_too_small");
    cr_assert_eq(ledger_resolve_pending(&a, &b, &state, 1000, true, -5, &e), -KM_EINVAL);
    cr_assert_eq(state, LEDGER_PENDING_OPEN);
    assert_account(&a, 1000, 0, 0, 0);
    assert_account(&b, 0, 0, 1000, 0);
}

Test(ledger, void_gives_the_reservation_back)
{
    struct ledger_account a = {.flags = DMNEC, .credits_posted = 1000};
    struct ledger_account b = {0};
    struct km_error e = {0};
    enum ledger_pending_state state = LEDGER_PENDING_OPEN;
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_PENDING, 1000, &e), 0);
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_POSTED, 1, &e), -KM_EINVAL);
    /* The amount is ignored for a void. */
    cr_assert_eq(ledger_resolve_pending(&a, &b, &state, 1000, false, 0, &e), 0);
    cr_assert_eq(state, LEDGER_PENDING_VOIDED);
    assert_account(&a, 0, 0, 0, 1000);
    assert_account(&b, 0, 0, 0, 0);
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_POSTED, 1000, &e), 0, "the money is free again");
}

Test(ledger, a_pending_transfer_resolves_at_most_once)
{
    struct ledger_account a = {0};
    struct ledger_account b = {0};
    struct km_error e = {0};
    enum ledger_pending_state state = LEDGER_PENDING_OPEN;
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_PENDING, 500, &e), 0);
    cr_assert_eq(ledger_transfer(&a, &b, LEDGER_PENDING, 500, &e), 0);
    cr_assert_eq(ledger_resolve_pending(&a, &b, &state, 500, true, 500, &e), 0);
    struct ledger_account a_before = a;
    struct ledger_account b_before = b;
    /* The second pending transfer keeps the pending sides high enough to be tempting. */
    cr_assert_eq(ledger_resolve_pending(&a, &b, &state, 500, true, 500, &e), -KM_ESTATE);
    cr_assert_str_eq(e.reason, "pending_transfer_already_posted");
    cr_assert_eq(ledger_resolve_pending(&a, &b, &state, 500, false, 0, &e), -KM_ESTATE);
    cr_assert_eq(memcmp(&a_before, &a, sizeof a), 0);
    cr_assert_eq(memcmp(&b_before, &b, sizeof b), 0);
    cr_assert_eq(state, LEDGER_PENDING_POSTED);

    enum ledger_pending_state voided = LEDGER_PENDING_OPEN;
    cr_assert_eq(ledger_resolve_pending(&a, &b, &voided, 500, false, 0, &e), 0);
    cr_assert_eq(ledger_resolve_pending(&a, &b, &voided, 500, true, 1, &e), -KM_ESTATE);
    cr_assert_str_eq(e.reason, "pending_transfer_already_voided");
}

Test(ledger, books_balance_detects_a_one_sided_entry)
{
    struct ledger_account accounts[3] = {
        {.debits_posted = 100, .debits_pending = 5},
        {.credits_posted = 60, .credits_pending = 5},
        {.credits_posted = 40},
    };
    cr_assert(ledger_books_balance(accounts, 3));
    cr_assert(ledger_books_balance(accounts, 0), "no accounts balance trivially");
    accounts[2].credits_posted = 41;
    cr_assert_not(ledger_books_balance(accounts, 3));
    accounts[2].credits_posted = 40;
    accounts[1].credits_pending = 4;
    accounts[1].credits_posted = 61;
    cr_assert_not(ledger_books_balance(accounts, 3), "pending and posted balance separately");
}

Test(ledger, books_balance_sums_past_int64_without_overflow)
{
    /* Two debits of INT64_MAX against two credits of INT64_MAX: each sum is 2^64 - 2. */
    struct ledger_account accounts[4] = {
        {.debits_posted = INT64_MAX},
        {.debits_posted = INT64_MAX},
        {.credits_posted = INT64_MAX},
        {.credits_posted = INT64_MAX},
    };
    cr_assert(ledger_books_balance(accounts, 4));
    /* Sums that agree modulo 2^64 but not exactly must not balance. */
    struct ledger_account wrap[5] = {
        {.debits_posted = INT64_MAX}, {.debits_posted = INT64_MAX}, {.debits_posted = 2},
        {.credits_posted = 0},        {.credits_posted = 0},
    };
    cr_assert_not(ledger_books_balance(wrap, 5));
}

/* ---- The random walk. ---- */

#define WALK_ACCOUNTS 6
#define WALK_SEQUENCES 3000
#define WALK_STEPS 60
#define WALK_PENDING_MAX 64

struct walk_pending {
    int debit;
    int credit;
    int64_t amount;
    enum ledger_pending_state state;
    int resolutions; /* successful resolutions seen: must never pass one */
};

/* xorshift64*: small, fast, and the same sequence on every machine for a given seed. */
static uint64_t walk_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static int walk_below(uint64_t *s, int n)
{
    return (int)(walk_next(s) % (uint64_t)n);
}

/* Mostly small amounts, sometimes nothing, a negative, or enough to hit the overflow checks. */
static int64_t walk_amount(uint64_t *s)
{
    int pick = walk_below(s, 40);
    if (pick == 0) {
        return 0;
    }
    if (pick == 1) {
        return -(int64_t)walk_below(s, 1000) - 1;
    }
    if (pick == 2) {
        return INT64_MAX - walk_below(s, 1000);
    }
    if (pick == 3) {
        return INT64_MAX / 3;
    }
    return walk_below(s, 2000) + 1;
}

static void walk_assert_flags_hold(const struct ledger_account *accounts)
{
    for (int i = 0; i < WALK_ACCOUNTS; i++) {
        const struct ledger_account *a = &accounts[i];
        cr_assert(a->debits_pending >= 0 && a->debits_posted >= 0);
        cr_assert(a->credits_pending >= 0 && a->credits_posted >= 0);
        if ((a->flags & DMNEC) != 0) {
            cr_assert_leq(a->debits_pending + a->debits_posted, a->credits_posted,
                          "account %d debits exceed its credits", i);
        }
        if ((a->flags & CMNED) != 0) {
            cr_assert_leq(a->credits_pending + a->credits_posted, a->debits_posted,
                          "account %d credits exceed its debits", i);
        }
    }
}

/* The sum of open pending amounts must be exactly what the accounts hold pending. */
static void walk_assert_pending_matches(const struct ledger_account *accounts,
                                        const struct walk_pending *pending, int pending_count)
{
    int64_t debits[WALK_ACCOUNTS] = {0};
    int64_t credits[WALK_ACCOUNTS] = {0};
    for (int i = 0; i < pending_count; i++) {
        cr_assert_leq(pending[i].resolutions, 1, "pending %d resolved more than once", i);
        if (pending[i].state == LEDGER_PENDING_OPEN) {
            cr_assert_eq(pending[i].resolutions, 0);
            debits[pending[i].debit] += pending[i].amount;
            credits[pending[i].credit] += pending[i].amount;
        } else {
            cr_assert_eq(pending[i].resolutions, 1);
        }
    }
    for (int i = 0; i < WALK_ACCOUNTS; i++) {
        cr_assert_eq(accounts[i].debits_pending, debits[i]);
        cr_assert_eq(accounts[i].credits_pending, credits[i]);
    }
}

static void walk_one_sequence(uint64_t *seed, int *successes, int *failures)
{
    static const uint32_t flag_choices[3] = {0, DMNEC, CMNED};
    struct ledger_account accounts[WALK_ACCOUNTS];
    memset(accounts, 0, sizeof accounts);
    for (int i = 0; i < WALK_ACCOUNTS; i++) {
        accounts[i].flags = flag_choices[walk_below(seed, 3)];
    }
    struct walk_pending pending[WALK_PENDING_MAX];
    int pending_count = 0;

    for (int step = 0; step < WALK_STEPS; step++) {
        struct ledger_account before[WALK_ACCOUNTS];
        memcpy(before, accounts, sizeof accounts);
        struct km_error e = {0};
        int op = walk_below(seed, 4);
        int rc = 0;
        if (op <= 1 || pending_count == 0) {
            int debit = walk_below(seed, WALK_ACCOUNTS);
            /* Now and then aim at the same account, which must be refused. */
            int credit = walk_below(seed, 50) == 0 ? debit : walk_below(seed, WALK_ACCOUNTS);
            int64_t amount = walk_amount(seed);
            bool is_pending = op == 1 && pending_count < WALK_PENDING_MAX;
            rc = ledger_transfer(&accounts[debit], &accounts[credit],
                                 is_pending ? LEDGER_PENDING : LEDGER_POSTED, amount, &e);
            if (debit == credit || amount <= 0) {
                cr_assert_eq(rc, -KM_EINVAL);
            }
            if (rc == 0) {
                struct ledger_account *d = &accounts[debit];
                struct ledger_account *c = &accounts[credit];
                if (is_pending) {
                    cr_assert_eq(d->debits_pending, before[debit].debits_pending + amount);
                    cr_assert_eq(c->credits_pending, before[credit].credits_pending + amount);
                    pending[pending_count++] =
                        (struct walk_pending){debit, credit, amount, LEDGER_PENDING_OPEN, 0};
                } else {
                    cr_assert_eq(d->debits_posted, before[debit].debits_posted + amount);
                    cr_assert_eq(c->credits_posted, before[credit].credits_posted + amount);
                }
            }
        } else {
            /* Resolve a pending transfer, open or not: resolved ones must be refused. */
            struct walk_pending *p = &pending[walk_below(seed, pending_count)];
            enum ledger_pending_state state_before = p->state;
            bool post = op == 2;
            int64_t amount = 1 + (int64_t)(walk_next(seed) % (uint64_t)p->amount);
            int odd = walk_below(seed, 20);
            if (odd == 0) {
                amount = p->amount + 1; /* one fen more than reserved */
            } else if (odd == 1) {
                amount = 0;
            } else if (odd == 2) {
                amount = p->amount; /* exactly the reservation */
            }
            rc = ledger_resolve_pending(&accounts[p->debit], &accounts[p->credit], &p->state,
                                        p->amount, post, amount, &e);
            if (state_before != LEDGER_PENDING_OPEN) {
                cr_assert_eq(rc, -KM_ESTATE, "a resolved pending transfer resolved again");
            } else if (post && (amount <= 0 || amount > p->amount)) {
                cr_assert_eq(rc, -KM_EINVAL, "posted %lld of a pending %lld", (long long)amount,
                             (long long)p->amount);
            } else {
                cr_assert_eq(rc, 0, "resolving an open pending transfer cannot fail");
            }
            if (rc == 0) {
                p->resolutions++;
                cr_assert_eq(p->state, post ? LEDGER_PENDING_POSTED : LEDGER_PENDING_VOIDED);
                int64_t moved = post ? amount : 0;
                cr_assert_eq(accounts[p->debit].debits_posted,
                             before[p->debit].debits_posted + moved);
                cr_assert_eq(accounts[p->credit].credits_posted,
                             before[p->credit].credits_posted + moved);
            } else {
                cr_assert_eq(p->state, state_before, "a refused resolution changed the state");
            }
        }
        if (rc == 0) {
            (*successes)++;
        } else {
            (*failures)++;
            cr_assert_lt(rc, 0);
            cr_assert_eq(e.code, -rc);
            cr_assert_neq(e.reason[0], '\0');
            cr_assert_eq(memcmp(before, accounts, sizeof accounts), 0,
                         "a refused operation changed an account (step %d, rc %d, %s)", step, rc,
                         e.reason);
        }
        cr_assert(ledger_books_balance(accounts, WALK_ACCOUNTS), "books off after step %d", step);
        walk_assert_flags_hold(accounts);
        walk_assert_pending_matches(accounts, pending, pending_count);
    }
}

Test(ledger, random_walk_keeps_every_invariant)
{
    uint64_t seed = 0x6b616d656e67ULL; /* fixed: a failure reproduces exactly */
    int successes = 0;
    int failures = 0;
    for (int sequence = 0; sequence < WALK_SEQUENCES; sequence++) {
        walk_one_sequence(&seed, &successes, &failures);
    }
    /* The walk is only worth something if it exercised both outcomes plenty. */
    cr_assert_gt(successes, WALK_SEQUENCES * WALK_STEPS / 5);
    cr_assert_gt(failures, WALK_SEQUENCES * WALK_STEPS / 10);
}
