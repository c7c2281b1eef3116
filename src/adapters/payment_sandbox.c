/* Sandbox charges and their signed notifications. */
#include "adapters/payment_sandbox.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/callback_out.h"
#include "adapters/http_out.h"
#include "adapters/signature.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/vault.h"
#include "service/executor.h"
#include "store/store.h"
#include "store/store_sandbox.h"

#define NOTIFY_BACKOFF_BASE_MS 2000 /* 2 s, 4 s, 8 s … like the providers' own schedules */

void payment_sandbox_key(uint8_t out[32])
{
    vault_subkey(VAULT_KEY_SANDBOX_PAYMENT, out);
}

int payment_sandbox_charge(struct db *db, const char *payment_id, const char *outcome,
                           char *charge_id, struct km_error *e)
{
    struct payment p;
    if (store_payment_get(db, payment_id, &p) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "payment_id", "no such payment");
    }
    if (strcmp(outcome, "succeeded") != 0 && strcmp(outcome, "failed") != 0) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "outcome",
                       "outcome must be succeeded or failed");
    }
    if (strcmp(p.status, "requires_payment") != 0) {
        return km_fail(e, KM_ESTATE, "payment_not_open", "payment_id", "payment %s is %s",
                       p.id, p.status);
    }
    struct sandbox_charge c = {0};
    id_new("sbx", c.id);
    snprintf(c.payment_id, sizeof c.payment_id, "%s", p.id);
    snprintf(c.outcome, sizeof c.outcome, "%s", outcome);
    snprintf(c.method, sizeof c.method, "%s", p.method);
    c.amount_fen = p.amount_fen;
    c.created_at = clock_now_ms();
    int rc = store_sandbox_charge_insert(db, &c);
    if (rc == -KM_EDUPLICATE) {
        return km_fail(e, KM_ESTATE, "already_charged", "payment_id",
                       "this payment was already completed at the provider");
    }
    if (rc != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the charge was not stored");
    }
    snprintf(charge_id, ID_BYTES_MAX, "%s", c.id);
    return 0;
}

int payment_sandbox_notify(struct db *reader, const char *base_url)
{
    struct sandbox_charge due[HTTP_OUT_PARALLEL_MAX];
    int count = 0;
    int64_t now = clock_now_ms();
    if (db_begin_read(reader) != 0) {
        return 0;
    }
    int rc = store_sandbox_charges_due(reader, now, CALLBACK_ATTEMPTS_MAX, due,
                                       HTTP_OUT_PARALLEL_MAX, &count);
    db_rollback(reader);
    if (rc != 0 || count == 0) {
        return 0;
    }
    uint8_t key[32];
    payment_sandbox_key(key);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/callbacks/payments/sandbox", base_url);
    /* All at once, like a provider's notification workers: the shop commits their captures in
     * one group, where one at a time would wait out a commit each. */
    static struct callback_batch batch; /* the timer thread only, under its lock */
    batch.count = count;
    for (int i = 0; i < count; i++) {
        const struct sandbox_charge *c = &due[i];
        batch.ids[i] = c->id;
        batch.attempts[i] = c->notify_attempts;
        batch.bodies[i] = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I}", "id", c->id, "type",
                                    strcmp(c->outcome, "succeeded") == 0 ? "payment.succeeded"
                                                                         : "payment.failed",
                                    "payment_id", c->payment_id, "provider_txn_id", c->id,
                                    "amount_fen", (json_int_t)c->amount_fen, "method", c->method,
                                    "created", (json_int_t)c->created_at);
    }
    int sent = callback_deliver(key, url, &batch, NOTIFY_BACKOFF_BASE_MS,
                                store_sandbox_charge_notified, "sandbox_payments");
    sodium_memzero(key, sizeof key);
    return sent;
}
