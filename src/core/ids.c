/* Identifiers: creation time, then libsodium's CSPRNG, in a lower-case base32 alphabet without
 * look-alikes whose characters sort in ASCII order, so ids sort by time as plain strings. */
#include "core/ids.h"

#include <sodium.h>
#include <string.h>

#include "core/check.h"
#include "core/clock.h"
#include "core/sha256.h"

static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz"; /* Crockford, lower case */

/* Each thread draws from its own pool of CSPRNG bytes, refilled 4 KiB at a time: libsodium reads
 * the kernel's generator with a system call per request, which showed in every request's cost (a
 * request id each) and in every delivery's (a nonce and a salt). A byte is used once and wiped as
 * it is taken. */
#define POOL_BYTES 4096 /* an order takes some 250 characters: ids, its buyer token, events */
static _Thread_local uint8_t pool[POOL_BYTES];
static _Thread_local int pool_left;

/* The pool is ChaCha20's stream under a fresh key from the kernel: libsodium reads the kernel's
 * generator 256 bytes a system call, 16 calls for the pool, where one key takes one. */
static void pool_fill_if_empty(void)
{
    if (pool_left == 0) {
        uint8_t seed[randombytes_SEEDBYTES];
        randombytes_buf(seed, sizeof seed);
        randombytes_buf_deterministic(pool, sizeof pool, seed);
        sodium_memzero(seed, sizeof seed);
        pool_left = POOL_BYTES;
    }
}

static void random_chars(char *out, int n)
{
    for (int i = 0; i < n; i++) {
        pool_fill_if_empty();
        uint8_t *b = &pool[POOL_BYTES - pool_left--];
        out[i] = alphabet[*b & 31];
        *b = 0;
    }
}

void random_bytes(uint8_t *out, size_t n)
{
    while (n > 0) {
        pool_fill_if_empty();
        size_t take = n < (size_t)pool_left ? n : (size_t)pool_left;
        uint8_t *b = &pool[POOL_BYTES - pool_left];
        memcpy(out, b, take);
        sodium_memzero(b, take);
        pool_left -= (int)take;
        out += take;
        n -= take;
    }
}

static void time_chars(char *out)
{
    uint64_t ms = (uint64_t)clock_now_ms();
    for (int i = ID_TIME_CHARS - 1; i >= 0; i--) {
        out[i] = alphabet[ms & 31];
        ms >>= 5;
    }
}

void id_new(const char *prefix, char *out)
{
    size_t p = strlen(prefix);
    km_assert(p + 1 + ID_CHARS < ID_BYTES_MAX);
    memcpy(out, prefix, p);
    out[p] = '_';
    time_chars(out + p + 1);
    random_chars(out + p + 1 + ID_TIME_CHARS, ID_RANDOM_CHARS);
    out[p + 1 + ID_CHARS] = '\0';
}

bool id_valid(const char *prefix, const char *text)
{
    size_t p = strlen(prefix);
    if (text == NULL || strlen(text) != p + 1 + ID_CHARS || memcmp(text, prefix, p) != 0 ||
        text[p] != '_') {
        return false;
    }
    for (size_t i = p + 1; text[i] != '\0'; i++) {
        if (strchr(alphabet, text[i]) == NULL) {
            return false;
        }
    }
    return true;
}

void secret_new(const char *prefix, char *out)
{
    size_t p = strlen(prefix);
    km_assert(p + 1 + SECRET_RANDOM_CHARS < SECRET_BYTES_MAX);
    memcpy(out, prefix, p);
    out[p] = '_';
    random_chars(out + p + 1, SECRET_RANDOM_CHARS);
    out[p + 1 + SECRET_RANDOM_CHARS] = '\0';
}

void secret_new_timed(const char *prefix, char *out)
{
    size_t p = strlen(prefix);
    km_assert(p + 1 + ID_TIME_CHARS + SECRET_RANDOM_CHARS < SECRET_BYTES_MAX);
    memcpy(out, prefix, p);
    out[p] = '_';
    time_chars(out + p + 1);
    random_chars(out + p + 1 + ID_TIME_CHARS, SECRET_RANDOM_CHARS);
    out[p + 1 + ID_TIME_CHARS + SECRET_RANDOM_CHARS] = '\0';
}

/* The time of a secret_new_timed() secret, or false if token is not one: an older token, an API
 * key, or anything a caller sent. Only the shape is checked; the hash decides the rest. */
static bool timed_secret_ms(const char *token, size_t len, uint64_t *ms)
{
    const char *sep = memchr(token, '_', len);
    if (sep == NULL || (size_t)(token + len - (sep + 1)) != ID_TIME_CHARS + SECRET_RANDOM_CHARS) {
        return false;
    }
    uint64_t v = 0;
    for (int i = 0; i < ID_TIME_CHARS; i++) {
        const char *c = sep[1 + i] != '\0' ? strchr(alphabet, sep[1 + i]) : NULL;
        if (c == NULL) {
            return false;
        }
        v = v << 5 | (uint64_t)(c - alphabet);
    }
    *ms = v;
    return true;
}

void token_hash(const char *token, uint8_t out[TOKEN_HASH_BYTES])
{
    size_t len = strlen(token);
    _Static_assert(TOKEN_HASH_BYTES == KM_SHA256_BYTES, "a token's hash is its SHA-256");
    km_sha256(token, len, out);
    uint64_t ms;
    if (timed_secret_ms(token, len, &ms)) {
        /* 6 bytes of milliseconds (to the year 10889), then 26 of the hash: 208 bits are as far
         * beyond guessing as 256, and a token index keyed by time is written at its end. */
        memmove(out + 6, out, TOKEN_HASH_BYTES - 6);
        for (int i = 5; i >= 0; i--) {
            out[i] = (uint8_t)(ms & 0xff);
            ms >>= 8;
        }
    }
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}
