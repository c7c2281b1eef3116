/* Random, typed identifiers ("ord_…", "pay_…") and secrets ("bt_…" buyer tokens, "sk_…" API
 * keys). Random so that nobody can walk the order book by counting; typed so that a misplaced id
 * is obvious in a log. */
#ifndef KM_IDS_H
#define KM_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_RANDOM_CHARS 20     /* 20 base32 chars = 100 bits: collisions are not a concern */
#define ID_BYTES_MAX 40        /* prefix (up to 6) + '_' + 20 + NUL, rounded up */
#define SECRET_RANDOM_CHARS 43 /* 43 base32 chars = 215 bits for tokens and keys */
#define SECRET_BYTES_MAX 64
#define TOKEN_HASH_BYTES 32

/* "ord" -> "ord_k3j…"; out must hold ID_BYTES_MAX. */
void id_new(const char *prefix, char *out);
/* True if text is prefix + '_' + ID_RANDOM_CHARS chars of our alphabet. */
bool id_valid(const char *prefix, const char *text);
void secret_new(const char *prefix, char *out);
/* SHA-256 of a token or key, what the database stores to find it without a password hash. */
void token_hash(const char *token, uint8_t out[TOKEN_HASH_BYTES]);
/* Lower-case hex of n bytes into out (2n+1). */
void hex_encode(const uint8_t *in, size_t n, char *out);

#endif
