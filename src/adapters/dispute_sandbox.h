/* The sandbox payment provider's dispute desk. A buyer complains at the provider about a payment
 * (POST /v1/sandbox/payments/{id}/dispute); the provider notifies the shop with a signed
 * callback (dispute.opened, with a due date), takes the shop's answer (its evidence, or its
 * acceptance) and decides at once, or decides for the buyer when the due date passes without
 * one; the decision comes as a second signed callback (dispute.closed). How it decides is in
 * docs/sandbox.md. */
#ifndef KM_DISPUTE_SANDBOX_H
#define KM_DISPUTE_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"
#include "core/ids.h"
#include "store/db.h"

/* How long the shop has to answer. */
#define DISPUTE_SANDBOX_RESPOND_MS (7LL * 24 * 3600 * 1000)

/* The buyer opens a dispute of amount_fen (0: the whole payment) on a captured payment. Runs in
 * a write transaction. */
KM_MUST_USE int dispute_sandbox_open(struct db *db, const char *payment_id, const char *reason,
                                     int64_t amount_fen, char *dispute_id, int64_t *respond_by,
                                     struct km_error *e);

/* The shop's answer, as the provider receives it: "accepted", or "evidence" with what the
 * bundle shows (the goods reached the buyer; the money is already back). Runs in the shop's
 * write transaction, as the shop's call to the provider. */
struct dispute_answer {
    const char *response; /* evidence | accepted */
    bool delivery_proven;
    bool already_refunded;
    const char *bundle_sha256;
};
KM_MUST_USE int dispute_sandbox_respond(struct db *db, const char *dispute_id,
                                        const struct dispute_answer *a, struct km_error *e);

/* Ask the provider about a dispute, with a reader connection: outcome "won" or "lost" with its
 * detail once decided, "" while it is not. */
KM_MUST_USE int dispute_sandbox_query(struct db *reader, const char *dispute_id, char outcome[8],
                                      char detail[64], struct km_error *e);

/* Deliver due notifications to base_url + "/v1/callbacks/disputes/sandbox". */
int dispute_sandbox_notify(struct db *reader, const char *base_url);

#endif
