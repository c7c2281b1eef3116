/* Typed identifiers ("ord_…", "pay_…") and secrets ("bt_…" buyer tokens, "sk_…" API keys).
 * An id is 10 characters of its creation time in milliseconds, then 16 random characters (80
 * bits): random so that nobody can walk the order book by counting, time-ordered so that new rows
 * land on the last pages of every index keyed by an id (a batch of inserts then writes a few pages,
 * not one random page per row), and typed so that a misplaced id is obvious in a log. */
#ifndef KM_IDS_H
#define KM_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_TIME_CHARS 10       /* 50 bits of Unix milliseconds, big-endian base32 */
#define ID_RANDOM_CHARS 16     /* 80 bits: collisions within a millisecond are not a concern */
#define ID_CHARS (ID_TIME_CHARS + ID_RANDOM_CHARS)
#define ID_BYTES_MAX 40        /* prefix (up to 6) + '_' + 26 + NUL, rounded up */
#define SECRET_RANDOM_CHARS 43 /* 43 base32 chars = 215 bits for tokens and keys */
#define SECRET_BYTES_MAX 64
#define TOKEN_HASH_BYTES 32

/* "ord" -> "ord_k3j…"; out must hold ID_BYTES_MAX. */
void id_new(const char *prefix, char *out);
/* True if text is prefix + '_' + ID_CHARS chars of our alphabet. */
bool id_valid(const char *prefix, const char *text);
void secret_new(const char *prefix, char *out);
/* A secret whose first characters after the '_' are its creation time, like an id's: "bt_" +
 * ID_TIME_CHARS + SECRET_RANDOM_CHARS. token_hash() puts that time first in the key, so a new
 * buyer token's row lands on the last page of the token index instead of on a random one. */
void secret_new_timed(const char *prefix, char *out);
/* What the database stores to find a token or key without a password hash: its SHA-256, or for
 * a secret_new_timed() secret the 6 bytes of its time followed by the first 26 bytes of that. */
void token_hash(const char *token, uint8_t out[TOKEN_HASH_BYTES]);
/* n bytes of libsodium's CSPRNG, from this thread's pool (nonces, salts); each byte given once. */
void random_bytes(uint8_t *out, size_t n);
/* Lower-case hex of n bytes into out (2n+1). */
void hex_encode(const uint8_t *in, size_t n, char *out);

#endif
