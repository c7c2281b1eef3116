/* Payments: a buyer starts paying an order by a route (Alipay, WeChat Pay, bank card, shop
 * balance); the provider's signed notification captures it. A capture is recorded whatever the
 * order's state — applied, duplicate (重复扣款), late (the order expired) or undeliverable — so
 * no money is ever lost, and the refund engine pays back what is not applied. */
#ifndef KM_PAYMENTS_H
#define KM_PAYMENTS_H

#include <stdbool.h>

#include "core/check.h"
#include "core/err.h"
#include "store/store.h"

KM_MUST_USE int payments_create(struct db *db, const char *order_id, const char *method,
                                const char *target_confirmed, struct payment *out,
                                struct km_error *e);

/* The provider says the payment succeeded. Idempotent on provider_txn_id: a replayed
 * notification sets *already and changes nothing. */
KM_MUST_USE int payments_capture(struct db *db, const char *payment_id,
                                 const char *provider_txn_id, int64_t amount_fen,
                                 struct payment *out, bool *already, struct km_error *e);

/* The provider says the payment failed (declined, cancelled by the payer). */
KM_MUST_USE int payments_fail(struct db *db, const char *payment_id, struct payment *out,
                              struct km_error *e);

bool payments_method_valid(const char *method);

#endif
