/* Identifiers from libsodium's CSPRNG in a lower-case base32 alphabet without look-alikes. */
#include "core/ids.h"

#include <sodium.h>
#include <string.h>

#include "core/check.h"

static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz"; /* Crockford, lower case */

static void random_chars(char *out, int n)
{
    uint8_t bytes[64];
    km_assert(n <= (int)sizeof bytes);
    randombytes_buf(bytes, (size_t)n);
    for (int i = 0; i < n; i++) {
        out[i] = alphabet[bytes[i] & 31];
    }
    sodium_memzero(bytes, sizeof bytes);
}

void id_new(const char *prefix, char *out)
{
    size_t p = strlen(prefix);
    km_assert(p + 1 + ID_RANDOM_CHARS < ID_BYTES_MAX);
    memcpy(out, prefix, p);
    out[p] = '_';
    random_chars(out + p + 1, ID_RANDOM_CHARS);
    out[p + 1 + ID_RANDOM_CHARS] = '\0';
}

bool id_valid(const char *prefix, const char *text)
{
    size_t p = strlen(prefix);
    if (text == NULL || strlen(text) != p + 1 + ID_RANDOM_CHARS || memcmp(text, prefix, p) != 0 ||
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

void token_hash(const char *token, uint8_t out[TOKEN_HASH_BYTES])
{
    crypto_hash_sha256(out, (const unsigned char *)token, strlen(token));
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
