/* The store: typed reads and writes of kameng's records over db.h. All SQL lives under store/;
 * services call these functions inside the transaction the executor (writes) or a reader
 * connection (reads) gives them. */
#ifndef KM_STORE_H
#define KM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/check.h"
#include "core/ids.h"
#include "core/limits.h"
#include "store/db.h"

struct product {
    char id[ID_BYTES_MAX];
    char kind[16];            /* card_key | direct_topup | account */
    char name[PRODUCT_NAME_BYTES_MAX + 1];
    int64_t price_fen;
    int64_t face_value_fen;
    char target_format[16];   /* none | phone_cn | game_account */
    char regions[PRODUCT_REGIONS_BYTES_MAX + 1];
    char seller_id[ID_BYTES_MAX];
    int64_t refund_window_hours;
    int64_t no_reason_days;
    int64_t topup_timeout_minutes;
    int64_t escrow_days;
    int64_t active;
    int64_t created_at;
    int64_t stock_available;  /* card keys only; filled by reads */
    int64_t stock_reserved;
    int64_t stock_delivered;
};

struct order {
    char id[ID_BYTES_MAX];
    char product_id[ID_BYTES_MAX];
    char kind[16];
    int64_t quantity;
    int64_t unit_price_fen;
    int64_t amount_fen;
    char status[20];
    char lookup_hash[160];    /* argon2id string, "" when the buyer set no lookup password */
    char contact[ORDER_CONTACT_BYTES_MAX + 1];
    char target_account[80];
    char target_region[80];
    char seller_id[ID_BYTES_MAX];
    int64_t created_at;
    int64_t expires_at;
    int64_t paid_at;          /* 0 when not yet */
    int64_t delivered_at;
    int64_t completed_at;
    int64_t escrow_release_at;
    int64_t updated_at;
};

struct payment {
    char id[ID_BYTES_MAX];
    char order_id[ID_BYTES_MAX];
    char method[16];
    int64_t amount_fen;
    char status[20];          /* requires_payment | succeeded | failed | canceled */
    char disposition[16];     /* "" | applied | duplicate | late | undeliverable */
    char provider_txn_id[ID_BYTES_MAX];
    int64_t created_at;
    int64_t captured_at;
};

struct card_key {
    char id[ID_BYTES_MAX];
    char product_id[ID_BYTES_MAX];
    char masked[48];
    char status[16];
    char order_id[ID_BYTES_MAX];
    int64_t delivered_at;
    uint8_t nonce[24];
    uint8_t ciphertext[2 * 128 + 64];
    size_t ciphertext_len;
};

struct topup {
    char id[ID_BYTES_MAX];
    char order_id[ID_BYTES_MAX];
    char upstream[16];
    char upstream_ref[ID_BYTES_MAX];
    char target_account[80];
    char target_region[80];
    char status[16];          /* queued | submitted | succeeded | failed | wrong_region */
    char credited_region[80];
    char detail[200];
    char result_via[16];      /* callback | poll */
    int64_t created_at;
    int64_t submitted_at;
    int64_t result_at;
    int64_t next_poll_at;
};

struct reveal {
    int64_t waiver_confirmed_at;
    char policy_version[8];
    char id[ID_BYTES_MAX];
    char card_key_id[ID_BYTES_MAX];
    char actor[48];
    char ip[64];
    int64_t revealed_at;
};

struct api_key_row {
    char id[ID_BYTES_MAX];
    char role[16];
    char seller_id[ID_BYTES_MAX];
    char label[64];
};

/* Schema */
KM_MUST_USE int store_migrate(struct db *db, int *applied);
/* The newest migration applied to this database (0 for one that has none), and whether its
 * record is kameng's: every version it lists that this build knows has that migration's name. */
KM_MUST_USE int store_schema_version(struct db *db, int *version, bool *ours);

/* Keys and sellers */
KM_MUST_USE int store_api_key_insert(struct db *db, const char *id, const uint8_t *hash,
                                     const char *role, const char *seller_id, const char *label,
                                     int64_t now);
/* 0 and *out, or -KM_ENOTFOUND. */
KM_MUST_USE int store_api_key_find(struct db *db, const uint8_t *hash, struct api_key_row *out);
struct api_key_info {
    struct api_key_row key;
    int64_t created_at;
    int64_t revoked_at; /* 0: in use */
};
/* Keys by id after `after` ("" for the start), up to limit; never the key itself. */
KM_MUST_USE int store_api_key_list(struct db *db, const char *after, int limit,
                                   struct api_key_info *out, int *count, bool *has_more);
/* Revoke a key: at once, for good. -KM_ENOTFOUND, or -KM_ESTATE when already revoked. */
KM_MUST_USE int store_api_key_revoke(struct db *db, const char *id, int64_t now);
KM_MUST_USE int store_seller_insert(struct db *db, const char *id, const char *name, int64_t now);
KM_MUST_USE int store_seller_exists(struct db *db, const char *id);

/* Catalog */
KM_MUST_USE int store_product_insert(struct db *db, const struct product *p);
KM_MUST_USE int store_product_get(struct db *db, const char *id, struct product *out);
/* Up to limit products after `after` (by id order; "" for the start); *count, *has_more. */
KM_MUST_USE int store_product_list(struct db *db, const char *after, int limit, bool active_only,
                                   struct product *out, int *count, bool *has_more);

/* Card keys */
KM_MUST_USE int store_card_insert(struct db *db, const char *id, const char *product_id,
                                  const uint8_t *fingerprint, size_t fp_len, const uint8_t *nonce,
                                  size_t nonce_len, const uint8_t *ct, size_t ct_len,
                                  const char *masked, const char *batch_id, int64_t now);
KM_MUST_USE int store_card_fingerprint_exists(struct db *db, const uint8_t *fingerprint,
                                              size_t fp_len);
/* A key held for an order, as its buyer may see it before paying. */
struct card_held {
    char id[ID_BYTES_MAX];
    char masked[48];
};
/* Reserve `quantity` available keys of product for order, the oldest first: all or none
 * (-KM_ESTOCK). held (room for quantity) receives them. */
KM_MUST_USE int store_cards_reserve(struct db *db, const char *product_id, const char *order_id,
                                    int64_t quantity, struct card_held *held);
KM_MUST_USE int store_cards_release(struct db *db, const char *order_id);
/* Count a product's stock again from its keys (after a bulk import). */
KM_MUST_USE int store_product_stock_recount(struct db *db, const char *product_id);
/* A refunded order: keys never revealed go back to stock, revealed ones are voided. */
KM_MUST_USE int store_cards_return(struct db *db, const char *order_id);
/* Mark an order's reserved keys (of product_id, the order's product) delivered; returns the
 * count in *delivered. */
KM_MUST_USE int store_cards_deliver(struct db *db, const char *order_id, const char *product_id,
                                    int64_t now, int64_t *delivered);
KM_MUST_USE int store_cards_of_order(struct db *db, const char *order_id, struct card_key *out,
                                     int max, int *count);
KM_MUST_USE int store_card_get(struct db *db, const char *id, struct card_key *out);
/* The first card key imported, to check that the master key opens the sealed secrets. */
KM_MUST_USE int store_card_first(struct db *db, struct card_key *out);

/* Orders */
KM_MUST_USE int store_order_insert(struct db *db, const struct order *o);
KM_MUST_USE int store_order_get(struct db *db, const char *id, struct order *out);
KM_MUST_USE int store_order_update(struct db *db, const struct order *o);
KM_MUST_USE int store_order_token_insert(struct db *db, const uint8_t *hash, const char *order_id,
                                         const char *via, int64_t now);
/* On the writer connection: call touched(ctx, order_id) for every order a statement changes,
 * that is every row of a table the order's view reads (the order, its payments, keys, reveals,
 * activations, top-up, cases, refunds, timeline and log entries; deliveries and evidence too, for
 * the pages that will show them), and status_changed(ctx, order_id) when an order's status
 * changes (db_watch_rows), so nothing is stored; a new table in the order view must be added
 * here (the test suites verify every cached order view against a fresh build). */
KM_MUST_USE int store_watch_orders(struct db *db, void (*touched)(void *ctx, const char *order_id),
                                   void (*status_changed)(void *ctx, const char *order_id),
                                   void *ctx);
/* The order id a buyer token opens, or -KM_ENOTFOUND. */
KM_MUST_USE int store_order_token_find(struct db *db, const uint8_t *hash, char *order_id,
                                       size_t order_id_len);
/* Pending orders whose payment window has passed, oldest first. */
KM_MUST_USE int store_orders_expired(struct db *db, int64_t now, char (*ids)[ID_BYTES_MAX], int max,
                                     int *count);
/* Delivered escrow orders whose window has ended. */
KM_MUST_USE int store_orders_escrow_due(struct db *db, int64_t now, char (*ids)[ID_BYTES_MAX],
                                        int max, int *count);
KM_MUST_USE int store_order_list(struct db *db, const char *after, int limit, const char *status,
                                 struct order *out, int *count, bool *has_more);

/* Payments */
KM_MUST_USE int store_payment_insert(struct db *db, const struct payment *p);
KM_MUST_USE int store_payment_get(struct db *db, const char *id, struct payment *out);
KM_MUST_USE int store_payment_update(struct db *db, const struct payment *p);
KM_MUST_USE int store_payments_count_of_order(struct db *db, const char *order_id,
                                              int64_t *count);
KM_MUST_USE int store_payments_of_order(struct db *db, const char *order_id, struct payment *out,
                                        int max, int *count);

/* Reveals */
/* waiver_at: when the buyer confirmed that revealing ends the no-reason right (0: not asked),
 * under policy_version. */
KM_MUST_USE int store_reveal_insert(struct db *db, const char *id, const char *order_id,
                                    const char *card_key_id, const char *actor, const char *ip,
                                    int64_t now, int64_t waiver_at, const char *policy_version);
/* The card key whose sealed secret has this fingerprint. */
KM_MUST_USE int store_card_by_fingerprint(struct db *db, const uint8_t *fingerprint, size_t fp_len,
                                          struct card_key *out);
/* Whether a card key was ever revealed (however many times). */
KM_MUST_USE int store_key_revealed(struct db *db, const char *card_key_id, bool *revealed);
KM_MUST_USE int store_reveals_of_order(struct db *db, const char *order_id, struct reveal *out,
                                       int max, int *count);

/* Top-ups */
KM_MUST_USE int store_topup_insert(struct db *db, const struct topup *t);
KM_MUST_USE int store_topup_get_by_order(struct db *db, const char *order_id, struct topup *out);
KM_MUST_USE int store_topup_get(struct db *db, const char *id, struct topup *out);
KM_MUST_USE int store_topup_update(struct db *db, const struct topup *t);
/* Queued top-ups, and submitted ones whose next poll is due. */
KM_MUST_USE int store_topups_due(struct db *db, int64_t now, char (*ids)[ID_BYTES_MAX], int max,
                                 int *count);

/* Account goods */
KM_MUST_USE int store_account_delivery_insert(struct db *db, const char *order_id,
                                              const char *seller_id, const uint8_t *nonce,
                                              size_t nonce_len, const uint8_t *ct, size_t ct_len,
                                              int64_t now);
/* Ciphertext up to ct_max bytes. */
KM_MUST_USE int store_account_delivery_get(struct db *db, const char *order_id, uint8_t *nonce,
                                           uint8_t *ct, size_t ct_max, size_t *ct_len,
                                           int64_t *confirmed_at);
KM_MUST_USE int store_account_delivery_confirm(struct db *db, const char *order_id, const char *by,
                                               int64_t now);

/* Idempotency */
/* Stored answers are sealed (they may carry a buyer token or a revealed card key).
 * 0 with the sealed answer (malloc'd, caller frees), or -KM_ENOTFOUND. */
KM_MUST_USE int store_idempotency_get(struct db *db, const char *principal, const char *key,
                                      uint8_t request_hash[32], int *status, uint8_t nonce[24],
                                      uint8_t **sealed, size_t *sealed_len);
KM_MUST_USE int store_idempotency_put(struct db *db, const char *principal, const char *key,
                                      const uint8_t request_hash[32], int status,
                                      const uint8_t nonce[24], const uint8_t *sealed,
                                      size_t sealed_len, int64_t now);

/* Events: every state change, for the timeline (and the webhooks that follow). */
KM_MUST_USE int store_event_insert(struct db *db, const char *type, const char *object_id,
                                   const char *order_id, const char *data_json, int64_t now);

#endif
