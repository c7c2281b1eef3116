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
        return km_fail(e, KM_ESTATE, "payment_not_open", "payment_id", "payment %s is %s", p.id,
                       p.status);
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

/* The notifications due, as the window asks for them. */
static int charges_due(struct db *reader, int64_t now, int64_t after, struct callback_due *out,
                       int max, int *count)
{
    static struct sandbox_charge due[HTTP_OUT_PARALLEL_MAX]; /* the timer thread only */
    km_assert(max <= HTTP_OUT_PARALLEL_MAX);
    int rc = store_sandbox_charges_due(reader, now, after, CALLBACK_ATTEMPTS_MAX, due, max, count);
    if (rc != 0) {
        return rc;
    }
    for (int i = 0; i < *count; i++) {
        const struct sandbox_charge *c = &due[i];
        memcpy(out[i].id, c->id, sizeof out[i].id);
        out[i].attempts = c->notify_attempts;
        out[i].due_at = c->notify_next_at;
        out[i].body = json_pack(
            "{s:s, s:s, s:s, s:s, s:I, s:s, s:I}", "id", c->id, "type",
            strcmp(c->outcome, "succeeded") == 0 ? "payment.succeeded" : "payment.failed",
            "payment_id", c->payment_id, "provider_txn_id", c->id, "amount_fen",
            (json_int_t)c->amount_fen, "method", c->method, "created", (json_int_t)c->created_at);
    }
    return 0;
}

int payment_sandbox_notify(struct db *reader, const char *base_url)
{
    uint8_t key[32];
    payment_sandbox_key(key);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/callbacks/payments/sandbox", base_url);
    /* Kept in flight like a provider's notification workers, which send each payment's as it
     * completes: the shop group-commits their captures, and a slow answer holds up no other. */
    int sent = callback_deliver_window(key, url, reader, charges_due, NOTIFY_BACKOFF_BASE_MS,
                                       store_sandbox_charge_notified, "sandbox_payments");
    sodium_memzero(key, sizeof key);
    return sent;
}
