/* Ledger persistence: accounts with their four running sums, and immutable transfers that each
 * point at the business event that caused them. */
#ifndef KM_STORE_LEDGER_H
#define KM_STORE_LEDGER_H

#include <stdint.h>

#include "core/check.h"
#include "domain/ledger.h"
#include "store/db.h"

#define LEDGER_ACCOUNT_ID_BYTES_MAX 64

/* Load the account, creating it with `flags` if it does not exist yet. */
KM_MUST_USE int store_ledger_account_load(struct db *db, const char *id, uint32_t flags,
                                          struct ledger_account *out);
KM_MUST_USE int store_ledger_account_save(struct db *db, const char *id,
                                          const struct ledger_account *a);
KM_MUST_USE int store_ledger_transfer_insert(struct db *db, const char *id, const char *debit,
                                             const char *credit, int64_t amount_fen,
                                             const char *kind, const char *pending_id,
                                             const char *pending_state, const char *ref_type,
                                             const char *ref_id, int64_t now);
/* A pending transfer: its accounts, amount and state ("open", "posted", "voided"). */
KM_MUST_USE int store_ledger_pending_get(struct db *db, const char *id, char *debit, char *credit,
                                         int64_t *amount_fen, char *state);
KM_MUST_USE int store_ledger_pending_set_state(struct db *db, const char *id, const char *state);
/* The open pending transfer for a business event, if any. */
KM_MUST_USE int store_ledger_pending_find(struct db *db, const char *ref_type, const char *ref_id,
                                          char *id);
/* What was posted outright (not through a hold) for a business event, in fen. */
KM_MUST_USE int store_ledger_posted_of(struct db *db, const char *ref_type, const char *ref_id,
                                       int64_t *fen);

/* Trial balance over every account and, independently, over every transfer. */
struct ledger_totals {
    int64_t account_debits_posted, account_credits_posted;
    int64_t account_debits_pending, account_credits_pending;
    int64_t transfer_count;
    int64_t mismatched_accounts; /* accounts whose sums differ from their transfers */
};
KM_MUST_USE int store_ledger_totals(struct db *db, struct ledger_totals *out);
/* posted balance (credits - debits) of one account; 0 if it does not exist. */
KM_MUST_USE int store_ledger_balance(struct db *db, const char *id, int64_t *balance_fen);

#endif
