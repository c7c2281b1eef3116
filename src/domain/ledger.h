/* Double-entry rules, after TigerBeetle: every transfer moves an amount of fen from one account's
 * debit side to another's credit side; a pending transfer reserves the amount until it is posted
 * (moved for good) or voided (given back), at most once. The books balance when the sum of all
 * debits equals the sum of all credits, posted and pending alike. Pure: the service layer loads
 * the two accounts (and the pending transfer), asks these functions, and stores what they return. */
#ifndef KM_LEDGER_H
#define KM_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"

/* Account flags. */
#define LEDGER_DEBITS_MUST_NOT_EXCEED_CREDITS 0x1u /* e.g. an order: never pay out more than came in */
#define LEDGER_CREDITS_MUST_NOT_EXCEED_DEBITS 0x2u

struct ledger_account {
    uint32_t flags;
    int64_t debits_pending;
    int64_t debits_posted;
    int64_t credits_pending;
    int64_t credits_posted;
};

enum ledger_transfer_kind {
    LEDGER_POSTED = 0,  /* moves money now */
    LEDGER_PENDING,     /* reserves money */
    LEDGER_POST_PENDING, /* completes a pending transfer (amount <= the pending amount) */
    LEDGER_VOID_PENDING, /* releases a pending transfer */
};

enum ledger_pending_state { LEDGER_PENDING_OPEN = 0, LEDGER_PENDING_POSTED, LEDGER_PENDING_VOIDED };

/* A single-phase or pending transfer between two distinct accounts. Checks the amount (> 0, no
 * overflow) and the accounts' flags, then updates both in place. Nothing changes on error. */
KM_MUST_USE int ledger_transfer(struct ledger_account *debit, struct ledger_account *credit,
                                enum ledger_transfer_kind kind, int64_t amount_fen,
                                struct km_error *e);

/* Resolve an open pending transfer of pending_amount_fen: post amount_fen (0 < amount <=
 * pending; the rest is released) or void it. *state must be OPEN and becomes POSTED or VOIDED. */
KM_MUST_USE int ledger_resolve_pending(struct ledger_account *debit, struct ledger_account *credit,
                                       enum ledger_pending_state *state, int64_t pending_amount_fen,
                                       bool post, int64_t amount_fen, struct km_error *e);

/* credits_posted - debits_posted: what the account holds for good. */
int64_t ledger_balance_posted(const struct ledger_account *a);

/* True when the sums of debits and credits (pending and posted separately) over n accounts are
 * equal: the trial balance every transaction must keep. */
bool ledger_books_balance(const struct ledger_account *accounts, int n);

#endif
