/* Delivery after payment: card keys from the reserved stock at once (all or none); a direct
 * top-up queued for the upstream, finished by its callback or by polling; account goods handed
 * over by the seller and held in escrow until the buyer confirms or the window ends. Also the
 * recorded reveal of a card key or account. */
#ifndef KM_FULFILMENT_H
#define KM_FULFILMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/check.h"
#include "core/err.h"
#include "store/store.h"

#define CARD_SECRET_BYTES_MAX 260 /* number + '\n' + password, each at most 128 */

KM_MUST_USE int fulfil_after_payment(struct db *db, struct order *o, int64_t now,
                                     struct km_error *e);

/* A queued top-up whose order was refunded before it went out: never send it. */
KM_MUST_USE int fulfil_topup_cancel(struct db *db, const char *topup_id, int64_t now,
                                    struct km_error *e);
/* The upstream accepted the top-up under upstream_ref. */
KM_MUST_USE int fulfil_topup_submitted(struct db *db, const char *topup_id,
                                       const char *upstream_ref, int64_t now, struct km_error *e);
/* A result from the upstream: status "succeeded", "failed", "wrong_region" or "processing"
 * (then only the next poll time moves). `via` is "callback" or "poll". A result for a top-up
 * already final is ignored (a callback and a poll may both report it). */
KM_MUST_USE int fulfil_topup_result(struct db *db, const char *topup_id, const char *status,
                                    const char *credited_region, const char *detail,
                                    const char *via, int64_t now, struct km_error *e);

KM_MUST_USE int fulfil_account_deliver(struct db *db, const char *order_id, const char *seller_id,
                                       const char *content, int64_t now, struct km_error *e);
/* The buyer confirms receipt (by = "buyer"), or the escrow window ended (by = "escrow_timeout"):
 * the held money goes to the seller. */
KM_MUST_USE int fulfil_confirm(struct db *db, const char *order_id, const char *by, int64_t now,
                               struct km_error *e);

/* Decrypt a delivered card key of the order and record who saw it, when, from where. While the
 * product's no-reason right (E4) is open, the buyer's first reveal of a key needs
 * waiver_confirmed: revealing ends that right, and the confirmation is recorded with its time
 * and the policy version (-KM_ESTATE "waiver_confirmation_required" otherwise). */
KM_MUST_USE int fulfil_reveal(struct db *db, const char *order_id, const char *card_key_id,
                              const char *actor, const char *ip, bool waiver_confirmed,
                              char *secret, size_t secret_len, int64_t *revealed_at,
                              struct km_error *e);
/* The issuer reports a card key activated (used): recorded once, for the refund policy (N1). */
KM_MUST_USE int fulfil_activation(struct db *db, const char *number, const char *password,
                                  int64_t at, struct km_error *e);
/* Decrypt the account goods the seller delivered, recorded like a reveal. */
KM_MUST_USE int fulfil_account_read(struct db *db, const char *order_id, const char *actor,
                                    const char *ip, char *content, size_t content_len,
                                    struct km_error *e);

#endif
