/* The evidence log: every fact a refund can turn on (a payment, a delivery, a reveal, an
 * activation, a top-up result, a refund decision, a payout result, an escrow release) is appended
 * as an entry in the same transaction as the change it records. Entries are canonical JSON
 * (docs/evidence-log.md) with no secret in them: a card key appears only as a salted commitment.
 * The tree is RFC 9162; checkpoints are C2SP signed notes with an Ed25519 key kept beside the
 * master key, and the shop refuses to sign one inconsistent with what it signed before. */
#ifndef KM_EVIDENCE_LOG_H
#define KM_EVIDENCE_LOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"
#include "domain/merkle.h"
#include "domain/note.h"
#include "store/db.h"

#define EVLOG_ORIGIN_DEFAULT "kameng.local/evidence"
#define EVLOG_ENTRY_VERSION 1

/* Load (or, with create, make) the log's signing key and remember where the last signed
 * checkpoint is kept outside the database. */
KM_MUST_USE int evlog_open(const char *key_path, const char *checkpoint_path, const char *origin,
                           bool create);
void evlog_close(void);
/* The verifier key a buyer needs to check receipts: "<origin>+<key id>+<base64 key>". */
void evlog_verifier_text(char *out, size_t out_len);
bool evlog_fork_detected(void);

/* Append an entry of `kind` (fields: a JSON object, stolen) about order_id. */
KM_MUST_USE int evlog_append(struct db *db, const char *kind, const char *order_id, json_t *fields,
                             int64_t now, struct km_error *e);

/* A fresh salted commitment to a card key's secret, its salt sealed into the store; *hex gets
 * SHA-256("kameng-card-commitment/v1" || salt || secret) in hex. */
KM_MUST_USE int evlog_commit_card(struct db *db, const char *card_key_id, const char *secret,
                                  size_t secret_len, char hex[65], struct km_error *e);
/* Open a commitment for a dispute: the salt (hex) that, with the secret, gives the hash. */
KM_MUST_USE int evlog_open_commitment(struct db *db, const char *card_key_id, char salt_hex[65],
                                      struct km_error *e);

/* The store as a source of subtree hashes, for proofs (ctx is the db). */
void evlog_source(struct db *db, struct merkle_source *out);
KM_MUST_USE int evlog_root(struct db *db, uint64_t size, uint8_t root[MERKLE_HASH_BYTES],
                           struct km_error *e);

/* Sign a checkpoint of the log as it stands, if it grew since the last one, after checking that
 * the tree still extends every checkpoint signed before (in the store and in the file). Writes
 * the note into note (NOTE_BYTES_MAX) and sets *signed_now. In a write transaction. */
KM_MUST_USE int evlog_checkpoint(struct db *db, int64_t now, char *note, bool *signed_now,
                                 struct km_error *e);
/* After the transaction that signed it committed: keep the note outside the database too. */
KM_MUST_USE int evlog_checkpoint_save(const char *note);

#endif
