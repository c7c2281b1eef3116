/* The sandbox payment provider. It plays Alipay, WeChat Pay, bank card and shop balance: the
 * buyer "pays" on its checkout (POST /v1/sandbox/payments/{id}/pay), and like the real ones it
 * then notifies the shop with a signed callback, retried with backoff until acknowledged. */
#ifndef KM_PAYMENT_SANDBOX_H
#define KM_PAYMENT_SANDBOX_H

#include "core/check.h"
#include "core/err.h"
#include "store/db.h"

/* The payer completes (outcome "succeeded") or abandons ("failed") a payment at the provider.
 * Runs in a write transaction. */
KM_MUST_USE int payment_sandbox_charge(struct db *db, const char *payment_id, const char *outcome,
                                       char *charge_id, struct km_error *e);

/* Deliver due notifications to base_url + "/v1/callbacks/payments/sandbox". Runs on the timer
 * thread with a reader connection; marks deliveries through the executor. Returns how many were
 * acknowledged. */
int payment_sandbox_notify(struct db *reader, const char *base_url);

/* The provider's signing key, which the shop's callback handler verifies with. */
void payment_sandbox_key(uint8_t out[32]);

#endif
