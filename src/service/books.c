/* Loads the two accounts, asks domain/ledger whether the transfer is allowed, stores both
 * balances and the transfer. */
#include "service/books.h"

#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "domain/ledger.h"
#include "store/store_ledger.h"

static uint32_t flags_for(const char *account)
{
    return strncmp(account, "order:", 6) == 0 ? LEDGER_DEBITS_MUST_NOT_EXCEED_CREDITS : 0u;
}

void books_account(char *out, const char *kind, const char *id)
{
    snprintf(out, LEDGER_ACCOUNT_ID_BYTES_MAX, "%s:%s", kind, id);
}

static int transfer(struct db *db, const char *debit_id, const char *credit_id, int64_t amount,
                    enum ledger_transfer_kind kind, const char *ref_type, const char *ref_id,
                    int64_t now, struct km_error *e)
{
    km_assert(strcmp(debit_id, credit_id) != 0);
    struct ledger_account debit, credit;
    int rc = store_ledger_account_load(db, debit_id, flags_for(debit_id), &debit);
    rc = rc != 0 ? rc : store_ledger_account_load(db, credit_id, flags_for(credit_id), &credit);
    if (rc != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "ledger accounts unavailable");
    }
    rc = ledger_transfer(&debit, &credit, kind, amount, e);
    if (rc != 0) {
        return rc;
    }
    char id[ID_BYTES_MAX];
    id_new("tr", id);
    rc = store_ledger_account_save(db, debit_id, &debit);
    rc = rc != 0 ? rc : store_ledger_account_save(db, credit_id, &credit);
    rc = rc != 0 ? rc
                 : store_ledger_transfer_insert(db, id, debit_id, credit_id, amount,
                                                kind == LEDGER_PENDING ? "pending" : "posted",
                                                NULL, kind == LEDGER_PENDING ? "open" : NULL,
                                                ref_type, ref_id, now);
    if (rc != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the transfer was not stored");
    }
    return 0;
}

int books_post(struct db *db, const char *debit_account, const char *credit_account,
               int64_t amount_fen, const char *ref_type, const char *ref_id, int64_t now,
               struct km_error *e)
{
    return transfer(db, debit_account, credit_account, amount_fen, LEDGER_POSTED, ref_type, ref_id,
                    now, e);
}

int books_hold(struct db *db, const char *debit_account, const char *credit_account,
               int64_t amount_fen, const char *ref_type, const char *ref_id, int64_t now,
               struct km_error *e)
{
    return transfer(db, debit_account, credit_account, amount_fen, LEDGER_PENDING, ref_type, ref_id,
                    now, e);
}

int books_resolve(struct db *db, const char *ref_type, const char *ref_id, bool post, int64_t now,
                  struct km_error *e)
{
    char pending_id[ID_BYTES_MAX];
    int rc = store_ledger_pending_find(db, ref_type, ref_id, pending_id);
    if (rc != 0) {
        return km_fail(e, KM_ESTATE, "no_open_hold", NULL, "no open hold for %s %s", ref_type,
                       ref_id);
    }
    char debit_id[LEDGER_ACCOUNT_ID_BYTES_MAX], credit_id[LEDGER_ACCOUNT_ID_BYTES_MAX];
    char state[16];
    int64_t amount = 0;
    rc = store_ledger_pending_get(db, pending_id, debit_id, credit_id, &amount, state);
    struct ledger_account debit, credit;
    rc = rc != 0 ? rc : store_ledger_account_load(db, debit_id, flags_for(debit_id), &debit);
    rc = rc != 0 ? rc : store_ledger_account_load(db, credit_id, flags_for(credit_id), &credit);
    if (rc != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "ledger accounts unavailable");
    }
    enum ledger_pending_state ps = strcmp(state, "open") == 0     ? LEDGER_PENDING_OPEN
                                   : strcmp(state, "posted") == 0 ? LEDGER_PENDING_POSTED
                                                                  : LEDGER_PENDING_VOIDED;
    rc = ledger_resolve_pending(&debit, &credit, &ps, amount, post, amount, e);
    if (rc != 0) {
        return rc;
    }
    char id[ID_BYTES_MAX];
    id_new("tr", id);
    rc = store_ledger_pending_set_state(db, pending_id, post ? "posted" : "voided");
    rc = rc != 0 ? rc : store_ledger_account_save(db, debit_id, &debit);
    rc = rc != 0 ? rc : store_ledger_account_save(db, credit_id, &credit);
    rc = rc != 0 ? rc
                 : store_ledger_transfer_insert(db, id, debit_id, credit_id, amount,
                                                post ? "post_pending" : "void_pending",
                                                pending_id, NULL, ref_type, ref_id, now);
    if (rc != 0) {
        return km_fail(e, rc == -KM_ESTATE ? KM_ESTATE : KM_EINTERNAL, "storage_error", NULL,
                       "the hold could not be resolved");
    }
    return 0;
}
