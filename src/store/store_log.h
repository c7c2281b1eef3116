/* Rows of the evidence log: entries (leaves), completed subtree hashes, signed checkpoints and
 * the sealed salts of card-key commitments. */
#ifndef KM_STORE_LOG_H
#define KM_STORE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/check.h"
#include "store/db.h"

#define LOG_ENTRY_BYTES_MAX 4096 /* an entry names ids, amounts and hashes: a few hundred bytes */

struct log_entry_row {
    int64_t seq;
    char kind[32];
    char order_id[40];
    uint8_t entry[LOG_ENTRY_BYTES_MAX];
    size_t entry_len;
    uint8_t leaf_hash[32];
    int64_t created_at;
};

/* The number of entries (the next seq). */
KM_MUST_USE int store_log_size(struct db *db, int64_t *size);
KM_MUST_USE int store_log_entry_insert(struct db *db, int64_t seq, const char *kind,
                                       const char *order_id, const uint8_t *entry, size_t len,
                                       const uint8_t leaf_hash[32], int64_t now);
KM_MUST_USE int store_log_entry_get(struct db *db, int64_t seq, struct log_entry_row *out);
KM_MUST_USE int store_log_leaf_hash(struct db *db, int64_t seq, uint8_t out[32]);
/* Entries of an order, by seq; up to max. kinds (may be NULL) receives each entry's kind. */
KM_MUST_USE int store_log_entries_of_order(struct db *db, const char *order_id, int64_t *seqs,
                                           int max, int *count);
KM_MUST_USE int store_log_kinds_of_order(struct db *db, const char *order_id, int64_t *seqs,
                                         char (*kinds)[32], int max, int *count);
KM_MUST_USE int store_log_node_get(struct db *db, int level, int64_t idx, uint8_t out[32]);
KM_MUST_USE int store_log_node_put(struct db *db, int level, int64_t idx, const uint8_t hash[32]);

KM_MUST_USE int store_log_checkpoint_put(struct db *db, int64_t size, const uint8_t root[32],
                                         const char *note, int64_t now);
/* The latest signed checkpoint (largest size): -KM_ENOTFOUND when none yet. note is malloc'd. */
KM_MUST_USE int store_log_checkpoint_latest(struct db *db, int64_t *size, uint8_t root[32],
                                            char **note);

KM_MUST_USE int store_card_commitment_put(struct db *db, const char *card_key_id,
                                          const uint8_t *nonce, size_t nonce_len,
                                          const uint8_t *sealed, size_t sealed_len);
KM_MUST_USE int store_card_commitment_get(struct db *db, const char *card_key_id, uint8_t *nonce,
                                          size_t nonce_len, uint8_t *sealed, size_t sealed_max,
                                          size_t *sealed_len);

/* Every signed checkpoint, smallest first; fn returning non-zero stops the walk. */
KM_MUST_USE int store_log_checkpoints_each(struct db *db,
                                           int (*fn)(void *ctx, int64_t size, const char *note),
                                           void *ctx);
/* Every entry's seq, in order (to find gaps); fn returning non-zero stops the walk. */
KM_MUST_USE int store_log_seqs_each(struct db *db, int (*fn)(void *ctx, int64_t seq), void *ctx);

/* For `kameng log verify`: the business row an entry covers, as the fields the entry recorded.
 * kind is "payment" (id = payment id: "amount|disposition"), "reveal" (reveal id: card key id or
 * "account"), "refund_decision" (decision id: "outcome|rule|amount"), "activation" (card key id:
 * "activated"). -KM_ENOTFOUND when the row is gone. */
KM_MUST_USE int store_log_covered_row(struct db *db, const char *kind, const char *id, char *out,
                                      size_t out_len);
/* How many business rows of that kind exist (captured payments, reveals, decisions,
 * activations), to find rows that have no entry. */
KM_MUST_USE int store_log_covered_count(struct db *db, const char *kind, int64_t *count);

#endif
