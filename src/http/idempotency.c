/* A small in-memory set of keys in flight, and the stored answers in the database. */
#include "http/idempotency.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/json_out.h"
#include "core/vault.h"
#include "store/store.h"

#define INFLIGHT_SLOTS (IDEMPOTENCY_INFLIGHT_MAX * 2) /* open addressing stays half empty */

static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t inflight[INFLIGHT_SLOTS][32]; /* hash of principal + key; all zero = empty */
static uint8_t tomb[INFLIGHT_SLOTS];

static void scope_hash(const struct api_req *r, uint8_t out[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const unsigned char *)r->auth.principal,
                              strlen(r->auth.principal) + 1);
    crypto_generichash_update(&st, (const unsigned char *)r->idempotency_key,
                              strlen(r->idempotency_key));
    crypto_generichash_final(&st, out, 32);
    out[0] |= 1; /* never all zero */
}

static bool key_valid(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > IDEMPOTENCY_KEY_BYTES_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (key[i] < 0x21 || key[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

int idempotency_inflight_begin(struct api_req *r)
{
    /* The request hash covers what the caller asked: method, path and body. */
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const unsigned char *)r->method, strlen(r->method) + 1);
    crypto_generichash_update(&st, (const unsigned char *)r->path, strlen(r->path) + 1);
    if (r->body != NULL) {
        crypto_generichash_update(&st, (const unsigned char *)r->body, r->body_len);
    }
    crypto_generichash_final(&st, r->request_hash, 32);
    if (r->idempotency_key[0] == '\0') {
        if (r->idempotency_key_invalid) {
            return api_fail(r, KM_EINVAL, "idempotency_key_invalid", "Idempotency-Key",
                            "Idempotency-Key must be 1 to %d printable ASCII characters",
                            IDEMPOTENCY_KEY_BYTES_MAX);
        }
        return 0;
    }
    if (!key_valid(r->idempotency_key)) {
        return api_fail(r, KM_EINVAL, "idempotency_key_invalid", "Idempotency-Key",
                        "Idempotency-Key must be 1 to %d printable ASCII characters",
                        IDEMPOTENCY_KEY_BYTES_MAX);
    }
    uint8_t h[32];
    scope_hash(r, h);
    pthread_mutex_lock(&inflight_lock);
    size_t slot = ((size_t)h[1] << 8 | h[2]) % INFLIGHT_SLOTS;
    size_t free_slot = INFLIGHT_SLOTS;
    for (size_t i = 0; i < INFLIGHT_SLOTS; i++) {
        size_t s = (slot + i) % INFLIGHT_SLOTS;
        if (memcmp(inflight[s], h, 32) == 0) {
            pthread_mutex_unlock(&inflight_lock);
            return api_fail(r, KM_EINFLIGHT, "idempotency_key_in_use", "Idempotency-Key",
                            "a request with this Idempotency-Key is still being processed");
        }
        bool empty = inflight[s][0] == 0;
        if (empty && free_slot == INFLIGHT_SLOTS) {
            free_slot = s;
        }
        if (empty && !tomb[s]) {
            break;
        }
    }
    km_assert(free_slot < INFLIGHT_SLOTS);
    memcpy(inflight[free_slot], h, 32);
    tomb[free_slot] = 0;
    pthread_mutex_unlock(&inflight_lock);
    return 0;
}

void idempotency_inflight_end(struct api_req *r)
{
    if (r->idempotency_key[0] == '\0') {
        return;
    }
    uint8_t h[32];
    scope_hash(r, h);
    pthread_mutex_lock(&inflight_lock);
    size_t slot = ((size_t)h[1] << 8 | h[2]) % INFLIGHT_SLOTS;
    for (size_t i = 0; i < INFLIGHT_SLOTS; i++) {
        size_t s = (slot + i) % INFLIGHT_SLOTS;
        if (memcmp(inflight[s], h, 32) == 0) {
            memset(inflight[s], 0, 32);
            tomb[s] = 1;
            break;
        }
        if (inflight[s][0] == 0 && !tomb[s]) {
            break;
        }
    }
    pthread_mutex_unlock(&inflight_lock);
}

static void seal_aad(const struct api_req *r, char *aad, size_t n)
{
    snprintf(aad, n, "idem|%s|%s", r->auth.principal, r->idempotency_key);
}

int idempotency_run(struct db *db, struct api_req *r)
{
    bool keyed = r->idempotency_key[0] != '\0';
    char aad[256];
    if (keyed) {
        seal_aad(r, aad, sizeof aad);
        uint8_t stored_hash[32];
        uint8_t nonce[VAULT_NONCE_BYTES];
        int status = 0;
        uint8_t *sealed = NULL;
        size_t sealed_len = 0;
        if (store_idempotency_get(db, r->auth.principal, r->idempotency_key, stored_hash, &status,
                                  nonce, &sealed, &sealed_len) == 0) {
            if (sodium_memcmp(stored_hash, r->request_hash, 32) != 0) {
                free(sealed);
                api_fail(r, KM_EIDEMPOTENCY, "idempotency_key_reused", "Idempotency-Key",
                         "this Idempotency-Key was used with a different request");
                return -KM_EIDEMPOTENCY;
            }
            char *text = malloc(sealed_len + 1);
            km_assert(text != NULL);
            int rc = vault_unseal(aad, nonce, sealed, sealed_len, (uint8_t *)text);
            free(sealed);
            json_t *replayed = NULL;
            if (rc == 0) {
                text[sealed_len - VAULT_MAC_BYTES] = '\0';
                json_error_t err;
                replayed = json_loads(text, 0, &err);
                sodium_memzero(text, sealed_len - VAULT_MAC_BYTES);
            }
            free(text);
            if (replayed == NULL) {
                api_fail(r, KM_EINTERNAL, "storage_error", NULL,
                         "the stored answer for this Idempotency-Key cannot be read");
                return -KM_EINTERNAL;
            }
            api_ok(r, status, replayed);
            return 0;
        }
    }
    int rc = r->write_fn(db, r);
    if (rc < 0 || r->status >= 400) {
        return rc < 0 ? rc : -KM_EINVAL; /* roll back whatever the command wrote */
    }
    if (keyed && r->reply != NULL) {
        size_t n = 0;
        char *text = json_out(r->reply, &n); /* the same writer as the answer itself */
        uint8_t *sealed = malloc(n + VAULT_MAC_BYTES);
        km_assert(sealed != NULL);
        uint8_t nonce[VAULT_NONCE_BYTES];
        vault_seal(aad, (const uint8_t *)text, n, nonce, sealed);
        sodium_memzero(text, n);
        free(text);
        rc = store_idempotency_put(db, r->auth.principal, r->idempotency_key, r->request_hash,
                                   r->status, nonce, sealed, n + VAULT_MAC_BYTES, clock_now_ms());
        free(sealed);
        if (rc != 0) {
            json_decref(r->reply);
            r->reply = NULL;
            api_fail(r, KM_EINTERNAL, "storage_error", NULL, "the answer could not be stored");
            return rc;
        }
    }
    return 0;
}
