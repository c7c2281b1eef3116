/* SHA-256 through OpenSSL's EVP interface, with the algorithm fetched once (an implicit fetch
 * looks it up again on every hash), and HMAC built on it as RFC 2104 writes it. */
#include "core/sha256.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "core/check.h"

static EVP_MD *md;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_fetch(void)
{
    md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    km_assert(md != NULL);
}

void km_sha256_init(struct km_sha256 *h)
{
    pthread_once(&md_once, md_fetch);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    km_assert(ctx != NULL);
    km_assert(EVP_DigestInit_ex2(ctx, md, NULL) == 1);
    h->ctx = ctx;
}

void km_sha256_update(struct km_sha256 *h, const void *data, size_t len)
{
    km_assert(data != NULL || len == 0);
    if (len > 0) {
        km_assert(EVP_DigestUpdate(h->ctx, data, len) == 1);
    }
}

void km_sha256_final(struct km_sha256 *h, uint8_t out[KM_SHA256_BYTES])
{
    unsigned int n = 0;
    km_assert(EVP_DigestFinal_ex(h->ctx, out, &n) == 1 && n == KM_SHA256_BYTES);
    EVP_MD_CTX_free(h->ctx); /* cleanses the state */
    h->ctx = NULL;
}

void km_sha256(const void *data, size_t len, uint8_t out[KM_SHA256_BYTES])
{
    struct km_sha256 h;
    km_sha256_init(&h);
    km_sha256_update(&h, data, len);
    km_sha256_final(&h, out);
}

void km_hmac_sha256_init(struct km_hmac_sha256 *m, const uint8_t *key, size_t key_len)
{
    km_assert(key_len <= KM_SHA256_BLOCK_BYTES);
    uint8_t inner_key[KM_SHA256_BLOCK_BYTES] = {0};
    memset(m->outer_key, 0, sizeof m->outer_key);
    if (key_len > 0) {
        memcpy(inner_key, key, key_len);
        memcpy(m->outer_key, key, key_len);
    }
    for (int i = 0; i < KM_SHA256_BLOCK_BYTES; i++) {
        inner_key[i] ^= 0x36;
        m->outer_key[i] ^= 0x5c;
    }
    km_sha256_init(&m->inner);
    km_sha256_update(&m->inner, inner_key, sizeof inner_key);
    sodium_memzero(inner_key, sizeof inner_key);
}

void km_hmac_sha256_update(struct km_hmac_sha256 *m, const void *data, size_t len)
{
    km_sha256_update(&m->inner, data, len);
}

void km_hmac_sha256_final(struct km_hmac_sha256 *m, uint8_t out[KM_SHA256_BYTES])
{
    uint8_t inner[KM_SHA256_BYTES];
    km_sha256_final(&m->inner, inner);
    struct km_sha256 outer;
    km_sha256_init(&outer);
    km_sha256_update(&outer, m->outer_key, sizeof m->outer_key);
    km_sha256_update(&outer, inner, sizeof inner);
    km_sha256_final(&outer, out);
    sodium_memzero(inner, sizeof inner);
    sodium_memzero(m->outer_key, sizeof m->outer_key);
}
