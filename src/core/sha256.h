/* SHA-256 and HMAC-SHA256, through OpenSSL's libcrypto, which uses the CPU's SHA instructions
 * where it has them (why: README.md, "Dependencies"; figures: bench/README.md). */
#ifndef KM_SHA256_H
#define KM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define KM_SHA256_BYTES 32
#define KM_SHA256_BLOCK_BYTES 64

/* One hash in progress; init, any number of updates, then final, which also frees it. */
struct km_sha256 {
    void *ctx; /* OpenSSL's EVP_MD_CTX */
};

void km_sha256_init(struct km_sha256 *h);
void km_sha256_update(struct km_sha256 *h, const void *data, size_t len);
void km_sha256_final(struct km_sha256 *h, uint8_t out[KM_SHA256_BYTES]);
/* The hash of len bytes at data (data may be NULL when len is 0). */
void km_sha256(const void *data, size_t len, uint8_t out[KM_SHA256_BYTES]);

/* RFC 2104 HMAC over SHA-256, for keys of at most one block (kameng's are 32 bytes). */
struct km_hmac_sha256 {
    struct km_sha256 inner;
    uint8_t outer_key[KM_SHA256_BLOCK_BYTES];
};

void km_hmac_sha256_init(struct km_hmac_sha256 *m, const uint8_t *key, size_t key_len);
void km_hmac_sha256_update(struct km_hmac_sha256 *m, const void *data, size_t len);
/* Writes the MAC and wipes the keys it held. */
void km_hmac_sha256_final(struct km_hmac_sha256 *m, uint8_t out[KM_SHA256_BYTES]);

#endif
