/* Product rules (refund terms within the policy's bounds, the fields each kind needs) and the
 * card-key import. */
#include "service/catalog.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/vault.h"
#include "domain/money.h"
#include "domain/target.h"

int catalog_product_create(struct db *db, struct product *p, struct km_error *e)
{
    bool card = strcmp(p->kind, "card_key") == 0;
    bool topup = strcmp(p->kind, "direct_topup") == 0;
    bool account = strcmp(p->kind, "account") == 0;
    if (!card && !topup && !account) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "kind",
                       "kind must be card_key, direct_topup or account");
    }
    if (p->refund_window_hours < 24 || p->refund_window_hours > 72) {
        return km_fail(e, KM_EINVAL, "parameter_out_of_range", "refund_window_hours",
                       "refund_window_hours must be from 24 to 72");
    }
    if (p->no_reason_days != 0 && p->no_reason_days != 7) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "no_reason_days",
                       "no_reason_days must be 0 or 7");
    }
    enum target_format fmt = TARGET_NONE;
    if (target_format_parse(p->target_format, &fmt) != 0) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "target_format",
                       "target_format must be none, phone_cn or game_account");
    }
    if (topup && fmt == TARGET_NONE) {
        return km_fail(e, KM_EINVAL, "parameter_missing", "target_format",
                       "a direct top-up needs target_format phone_cn or game_account");
    }
    if (!topup && fmt != TARGET_NONE) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "target_format",
                       "only direct top-ups take a target account");
    }
    if (fmt == TARGET_GAME_ACCOUNT && p->regions[0] == '\0') {
        return km_fail(e, KM_EINVAL, "parameter_missing", "regions",
                       "a game top-up lists the regions/servers a buyer can choose");
    }
    if (account) {
        if (p->seller_id[0] == '\0') {
            return km_fail(e, KM_EINVAL, "parameter_missing", "seller_id",
                           "account goods are sold by a seller");
        }
        if (store_seller_exists(db, p->seller_id) != 0) {
            return km_fail(e, KM_EINVAL, "parameter_invalid", "seller_id", "no such seller: %s",
                           p->seller_id);
        }
        if (p->escrow_days < 1 || p->escrow_days > 30) {
            return km_fail(e, KM_EINVAL, "parameter_out_of_range", "escrow_days",
                           "escrow_days must be from 1 to 30 for account goods");
        }
    } else if (p->seller_id[0] != '\0' || p->escrow_days != 0) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", p->seller_id[0] ? "seller_id" : "escrow_days",
                       "only account goods have a seller and an escrow window");
    }
    if (p->topup_timeout_minutes < 1 || p->topup_timeout_minutes > 24 * 60) {
        return km_fail(e, KM_EINVAL, "parameter_out_of_range", "topup_timeout_minutes",
                       "topup_timeout_minutes must be from 1 to 1440");
    }
    id_new("prod", p->id);
    p->created_at = clock_now_ms();
    p->active = 1;
    if (store_product_insert(db, p) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the product was not stored");
    }
    return 0;
}

int catalog_cards_import(struct db *db, const char *product_id, struct card_import *imp,
                         char *batch_id, int *imported, struct km_error *e)
{
    *imported = 0;
    struct product p;
    if (store_product_get(db, product_id, &p) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "product_id", "no such product: %s",
                       product_id);
    }
    if (strcmp(p.kind, "card_key") != 0) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "product_id",
                       "card keys are imported into card_key products only");
    }
    if (imp->problem_count > 0) {
        return km_fail(e, KM_EINVAL, "import_rejected", "file",
                       "%d problem(s) in the file; nothing was imported", imp->problem_count);
    }
    if (imp->row_count == 0) {
        return km_fail(e, KM_EINVAL, "import_empty", "file", "the file holds no card keys");
    }
    id_new("batch", batch_id);
    int64_t now = clock_now_ms();
    for (int i = 0; i < imp->row_count; i++) {
        const struct card_row *row = &imp->rows[i];
        char plain[2 * CARD_FIELD_BYTES_MAX + 2];
        int n = snprintf(plain, sizeof plain, "%s\n%s", row->number, row->password);
        km_assert(n > 0 && (size_t)n < sizeof plain);
        uint8_t fp[VAULT_FINGERPRINT_BYTES];
        vault_fingerprint((const uint8_t *)plain, (size_t)n, fp);
        if (store_card_fingerprint_exists(db, fp, sizeof fp) == 0) {
            if (imp->problem_count < CARD_IMPORT_PROBLEMS_MAX) {
                struct card_problem *pr = &imp->problems[imp->problem_count];
                pr->line = row->line;
                snprintf(pr->reason, sizeof pr->reason, "duplicate_in_stock");
                snprintf(pr->message, sizeof pr->message,
                         "this card key was imported before");
            }
            imp->problem_count++;
            sodium_memzero(plain, sizeof plain);
            continue;
        }
        char id[ID_BYTES_MAX];
        id_new("ck", id);
        uint8_t nonce[VAULT_NONCE_BYTES];
        uint8_t ct[sizeof plain + VAULT_MAC_BYTES];
        vault_seal(id, (const uint8_t *)plain, (size_t)n, nonce, ct);
        sodium_memzero(plain, sizeof plain);
        char masked[48];
        card_mask(row->number, row->password, masked, sizeof masked);
        int rc = store_card_insert(db, id, product_id, fp, sizeof fp, nonce, sizeof nonce, ct,
                                   (size_t)n + VAULT_MAC_BYTES, masked, batch_id, now);
        if (rc == -KM_EDUPLICATE) {
            continue; /* counted by the fingerprint check above on the next pass */
        }
        if (rc != 0) {
            return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the card keys were not stored");
        }
        (*imported)++;
    }
    if (imp->problem_count > 0) {
        *imported = 0;
        return km_fail(e, KM_EINVAL, "import_rejected", "file",
                       "%d problem(s) against stock already held; nothing was imported",
                       imp->problem_count);
    }
    if (store_product_stock_recount(db, product_id) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "stock was not counted");
    }
    return 0;
}
