/* The master key file and the keys derived from it (libsodium KDF, AEAD, keyed BLAKE2b). */
#include "core/vault.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/ids.h"
#include "core/log.h"

#define VAULT_CONTEXT "kameng01" /* crypto_kdf context: 8 bytes */

static uint8_t master[crypto_kdf_KEYBYTES];
static uint8_t seal_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
static uint8_t fp_key[crypto_generichash_KEYBYTES];
static bool opened;

_Static_assert(VAULT_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(VAULT_MAC_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES, "mac size");

static int write_new_key(const char *path)
{
    uint8_t key[crypto_kdf_KEYBYTES];
    crypto_kdf_keygen(key);
    char hex[2 * sizeof key + 2];
    sodium_bin2hex(hex, sizeof hex, key, sizeof key);
    sodium_memzero(key, sizeof key);
    strcat(hex, "\n");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        log_write(LOG_ERROR, "master_key_create_failed", "path", path, "message", strerror(errno),
                  NULL);
        return -KM_EINTERNAL;
    }
    size_t len = strlen(hex);
    bool ok = write(fd, hex, len) == (ssize_t)len && fsync(fd) == 0;
    close(fd);
    sodium_memzero(hex, sizeof hex);
    if (!ok) {
        return -KM_EINTERNAL;
    }
    log_write(LOG_INFO, "master_key_created", "path", path, NULL);
    return 0;
}

int vault_open(const char *path, bool create)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT || !create) {
            log_write(LOG_ERROR, "master_key_missing", "path", path, NULL);
            return -KM_ENOTFOUND;
        }
        int rc = write_new_key(path);
        if (rc != 0) {
            return rc;
        }
        if (stat(path, &st) != 0) {
            return -KM_EINTERNAL;
        }
    }
    if ((st.st_mode & 077) != 0) {
        log_write(LOG_ERROR, "master_key_permissions", "path", path, "message",
                  "the master key file must be readable by its owner only (chmod 600)", NULL);
        return -KM_EFORBIDDEN;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -KM_EINTERNAL;
    }
    char hex[2 * crypto_kdf_KEYBYTES + 8] = {0};
    size_t n = fread(hex, 1, sizeof hex - 1, f);
    fclose(f);
    size_t bin_len = 0;
    int rc = sodium_hex2bin(master, sizeof master, hex, n, "\n\r ", &bin_len, NULL);
    sodium_memzero(hex, sizeof hex);
    if (rc != 0 || bin_len != sizeof master) {
        log_write(LOG_ERROR, "master_key_malformed", "path", path, NULL);
        return -KM_EINVAL;
    }
    crypto_kdf_derive_from_key(seal_key, sizeof seal_key, VAULT_KEY_SEAL, VAULT_CONTEXT, master);
    crypto_kdf_derive_from_key(fp_key, sizeof fp_key, VAULT_KEY_FINGERPRINT, VAULT_CONTEXT,
                               master);
    opened = true;
    return 0;
}

void vault_close(void)
{
    sodium_memzero(master, sizeof master);
    sodium_memzero(seal_key, sizeof seal_key);
    sodium_memzero(fp_key, sizeof fp_key);
    opened = false;
}

void vault_seal(const char *aad, const uint8_t *plain, size_t n, uint8_t nonce[VAULT_NONCE_BYTES],
                uint8_t *ct)
{
    km_assert(opened);
    random_bytes(nonce, VAULT_NONCE_BYTES);
    unsigned long long ct_len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ct_len, plain, n, (const uint8_t *)aad,
                                               strlen(aad), NULL, nonce, seal_key);
    km_assert(ct_len == n + VAULT_MAC_BYTES);
}

int vault_unseal(const char *aad, const uint8_t nonce[VAULT_NONCE_BYTES], const uint8_t *ct,
                 size_t ct_len, uint8_t *plain)
{
    km_assert(opened);
    if (ct_len < VAULT_MAC_BYTES) {
        return -KM_EINTERNAL;
    }
    unsigned long long n = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &n, NULL, ct, ct_len,
                                                   (const uint8_t *)aad, strlen(aad), nonce,
                                                   seal_key) != 0) {
        return -KM_EINTERNAL;
    }
    return 0;
}

void vault_fingerprint(const uint8_t *data, size_t n, uint8_t out[VAULT_FINGERPRINT_BYTES])
{
    km_assert(opened);
    crypto_generichash(out, VAULT_FINGERPRINT_BYTES, data, n, fp_key, sizeof fp_key);
}

void vault_subkey(enum vault_subkey which, uint8_t out[VAULT_SUBKEY_BYTES])
{
    km_assert(opened);
    crypto_kdf_derive_from_key(out, VAULT_SUBKEY_BYTES, (uint64_t)which, VAULT_CONTEXT, master);
}
