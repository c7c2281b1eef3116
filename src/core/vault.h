/* Secrets at rest. A 32-byte master key lives in a 0600 file outside the database; from it we
 * derive one key for sealing card keys and other secrets (XChaCha20-Poly1305), one for
 * fingerprints that find duplicate card keys without decrypting them, and the sandbox
 * providers' signing secrets. The database alone never reveals a secret. */
#ifndef KM_VAULT_H
#define KM_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/check.h"

#define VAULT_NONCE_BYTES 24
#define VAULT_MAC_BYTES 16
#define VAULT_FINGERPRINT_BYTES 32
#define VAULT_SUBKEY_BYTES 32

enum vault_subkey {
    VAULT_KEY_SEAL = 1,
    VAULT_KEY_FINGERPRINT = 2,
    VAULT_KEY_SANDBOX_PAYMENT = 3, /* HMAC secret shared with the sandbox payment provider */
    VAULT_KEY_SANDBOX_UPSTREAM = 4,
    VAULT_KEY_SANDBOX_ISSUER = 5,
    VAULT_KEY_WEBHOOKS = 6,        /* signs the shop's own outbound webhooks */
};

/* Load the master key; with create, make a new one (mode 0600) if the file is missing. Refuses a
 * key file that others can read. */
KM_MUST_USE int vault_open(const char *path, bool create);
void vault_close(void);

/* Seal plain (n bytes) bound to aad; ct must hold n + VAULT_MAC_BYTES. */
void vault_seal(const char *aad, const uint8_t *plain, size_t n, uint8_t nonce[VAULT_NONCE_BYTES],
                uint8_t *ct);
/* Open; plain must hold ct_len - VAULT_MAC_BYTES. -KM_EINTERNAL if it does not verify. */
KM_MUST_USE int vault_unseal(const char *aad, const uint8_t nonce[VAULT_NONCE_BYTES],
                             const uint8_t *ct, size_t ct_len, uint8_t *plain);
void vault_fingerprint(const uint8_t *data, size_t n, uint8_t out[VAULT_FINGERPRINT_BYTES]);
void vault_subkey(enum vault_subkey which, uint8_t out[VAULT_SUBKEY_BYTES]);

#endif
