/* HMAC-SHA256 signatures over timestamp and body, compared in constant time. */
#include "adapters/signature.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"

static void mac(const uint8_t key[32], const char *t, const char *body, size_t n,
                uint8_t out[KM_SHA256_BYTES])
{
    struct km_hmac_sha256 st;
    km_hmac_sha256_init(&st, key, 32);
    km_hmac_sha256_update(&st, t, strlen(t));
    km_hmac_sha256_update(&st, ".", 1);
    km_hmac_sha256_update(&st, body, n);
    km_hmac_sha256_final(&st, out);
}

void signature_make(const uint8_t key[32], int64_t t_ms, const char *body, size_t n,
                    char out[SIGNATURE_HEADER_BYTES])
{
    char t[24];
    snprintf(t, sizeof t, "%" PRId64, t_ms);
    uint8_t m[KM_SHA256_BYTES];
    mac(key, t, body, n, m);
    char hex[2 * sizeof m + 1];
    sodium_bin2hex(hex, sizeof hex, m, sizeof m);
    snprintf(out, SIGNATURE_HEADER_BYTES, "t=%s,v1=%s", t, hex);
}

int signature_verify(const uint8_t key[32], const char *header, const char *body, size_t n,
                     int64_t now_ms, struct km_error *e)
{
    char t[24] = "";
    char hex[2 * KM_SHA256_BYTES + 1] = "";
    if (header == NULL || sscanf(header, "t=%20[0-9],v1=%64[0-9a-f]", t, hex) != 2 ||
        strlen(hex) != 2 * KM_SHA256_BYTES) {
        return km_fail(e, KM_ESIGNATURE, "signature_missing", "Kameng-Signature",
                       "the callback carries no valid Kameng-Signature header");
    }
    int64_t t_ms = strtoll(t, NULL, 10);
    if (t_ms < now_ms - SIGNATURE_TOLERANCE_MS || t_ms > now_ms + SIGNATURE_TOLERANCE_MS) {
        return km_fail(e, KM_ESIGNATURE, "signature_expired", "Kameng-Signature",
                       "the signature's timestamp is outside the accepted window");
    }
    uint8_t want[KM_SHA256_BYTES], got[KM_SHA256_BYTES];
    mac(key, t, body, n, want);
    size_t got_len = 0;
    if (sodium_hex2bin(got, sizeof got, hex, strlen(hex), NULL, &got_len, NULL) != 0 ||
        got_len != sizeof got || sodium_memcmp(want, got, sizeof got) != 0) {
        return km_fail(e, KM_ESIGNATURE, "signature_invalid", "Kameng-Signature",
                       "the signature does not match the body");
    }
    return 0;
}
