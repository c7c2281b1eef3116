/* Disputes opened at the payment provider, as the shop records them. */
#ifndef KM_STORE_DISPUTES_H
#define KM_STORE_DISPUTES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"
#include "core/ids.h"
#include "store/db.h"

#define DISPUTE_REASON_BYTES 24
#define DISPUTES_PER_ORDER_MAX 8 /* one per payment at the provider */

struct dispute_row {
    char id[ID_BYTES_MAX];
    char provider_dispute_id[ID_BYTES_MAX];
    char order_id[ID_BYTES_MAX];
    char payment_id[ID_BYTES_MAX];
    char reason[DISPUTE_REASON_BYTES];
    int64_t amount_fen;
    int64_t frozen_fen;
    int64_t frozen_from_escrow_fen;
    char status[16]; /* needs_response | under_review | won | lost */
    int64_t respond_by;
    int64_t opened_at;
    char response[12]; /* "" | evidence | accepted */
    char responded_by[64];
    int64_t responded_at;
    char bundle_sha256[72];
    int64_t closed_at;
    char outcome_detail[64];
};

KM_MUST_USE int store_dispute_insert(struct db *db, const struct dispute_row *d);
KM_MUST_USE int store_dispute_get(struct db *db, const char *id, struct dispute_row *out);
KM_MUST_USE int store_dispute_by_provider(struct db *db, const char *provider_dispute_id,
                                          struct dispute_row *out);
/* Writes status, response, responder, bundle and closing of d, guarded by its status before. */
KM_MUST_USE int store_dispute_update(struct db *db, const struct dispute_row *d,
                                     const char *status_before, const char *bundle);
/* The freeze grew (a refund of the payment failed while the dispute was open). */
KM_MUST_USE int store_dispute_set_frozen(struct db *db, const char *id, int64_t frozen_fen);
/* The submitted bundle (malloc'd, NULL when none was submitted). */
KM_MUST_USE int store_dispute_bundle(struct db *db, const char *id, char **bundle);
/* An open dispute on the order (needs_response, under_review): 0 with its id, or -KM_ENOTFOUND. */
KM_MUST_USE int store_dispute_open_of_order(struct db *db, const char *order_id, char *id);
KM_MUST_USE int store_disputes_of_order(struct db *db, const char *order_id,
                                        struct dispute_row *out, int max, int *count);
/* Open disputes the provider should have decided by now: past their due date unanswered, or
 * answered, in either case for longer than grace_ms, and not put off (poll_next_at) past now. */
KM_MUST_USE int store_disputes_to_poll(struct db *db, int64_t now, int64_t grace_ms,
                                       char (*ids)[ID_BYTES_MAX], int max, int *count);
/* Ask the provider about it again no sooner than at. */
KM_MUST_USE int store_dispute_poll_later(struct db *db, const char *id, int64_t at);
/* Staff's list: open ones (needs_response, under_review) earliest due first, or all, newest
 * first; after_id is a cursor (the last id of the page before, "" for the first). */
KM_MUST_USE int store_disputes_list(struct db *db, bool open_only, const char *after_id, int limit,
                                    struct dispute_row *out, int *count, bool *has_more);

#endif
