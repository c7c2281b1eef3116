/* SHA-256 and HMAC-SHA256 through libcrypto: the FIPS 180-2 and RFC 4231 known answers, any split
 * of the input into updates, and the same results as libsodium's code, which kameng used before
 * (the evidence log's hashes and the providers' signatures must not change with the library). */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "core/sha256.h"

static void hex_of(const uint8_t d[KM_SHA256_BYTES], char out[2 * KM_SHA256_BYTES + 1])
{
    sodium_bin2hex(out, 2 * KM_SHA256_BYTES + 1, d, KM_SHA256_BYTES);
}

static void assert_sha256(const char *text, const char *want)
{
    uint8_t d[KM_SHA256_BYTES];
    char hex[2 * KM_SHA256_BYTES + 1];
    km_sha256(text, strlen(text), d);
    hex_of(d, hex);
    cr_assert_str_eq(hex, want, "SHA-256(\"%s\")", text);
}

Test(sha256, known_answers)
{
    assert_sha256("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_sha256("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    uint8_t d[KM_SHA256_BYTES];
    km_sha256(NULL, 0, d);
    char hex[2 * KM_SHA256_BYTES + 1];
    hex_of(d, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void assert_hmac(const uint8_t *key, size_t key_len, const char *data, const char *want)
{
    struct km_hmac_sha256 m;
    km_hmac_sha256_init(&m, key, key_len);
    km_hmac_sha256_update(&m, data, strlen(data));
    uint8_t d[KM_SHA256_BYTES];
    km_hmac_sha256_final(&m, d);
    char hex[2 * KM_SHA256_BYTES + 1];
    hex_of(d, hex);
    cr_assert_str_eq(hex, want, "HMAC over \"%s\"", data);
}

Test(sha256, hmac_rfc4231_known_answers)
{
    uint8_t key1[20];
    memset(key1, 0x0b, sizeof key1);
    assert_hmac(key1, sizeof key1, "Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    assert_hmac((const uint8_t *)"Jefe", 4, "what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

Test(sha256, any_split_of_the_input_hashes_alike)
{
    uint8_t data[300];
    for (size_t i = 0; i < sizeof data; i++) {
        data[i] = (uint8_t)(i * 7 + 3);
    }
    uint8_t whole[KM_SHA256_BYTES];
    km_sha256(data, sizeof data, whole);
    for (size_t cut = 0; cut <= sizeof data; cut++) {
        struct km_sha256 h;
        km_sha256_init(&h);
        km_sha256_update(&h, data, cut);
        km_sha256_update(&h, data + cut, sizeof data - cut);
        uint8_t split[KM_SHA256_BYTES];
        km_sha256_final(&h, split);
        cr_assert(memcmp(whole, split, sizeof whole) == 0, "cut at %zu", cut);
    }
}

Test(sha256, the_same_as_libsodium_for_every_length_to_three_blocks)
{
    cr_assert(sodium_init() >= 0);
    uint8_t key[32], data[200];
    randombytes_buf(key, sizeof key);
    randombytes_buf(data, sizeof data);
    for (size_t n = 0; n <= sizeof data; n++) {
        uint8_t ours[KM_SHA256_BYTES], theirs[crypto_hash_sha256_BYTES];
        km_sha256(data, n, ours);
        crypto_hash_sha256(theirs, data, n);
        cr_assert(memcmp(ours, theirs, sizeof ours) == 0, "SHA-256 of %zu bytes", n);

        struct km_hmac_sha256 m;
        km_hmac_sha256_init(&m, key, sizeof key);
        km_hmac_sha256_update(&m, data, n);
        km_hmac_sha256_final(&m, ours);
        crypto_auth_hmacsha256(theirs, data, n, key);
        cr_assert(memcmp(ours, theirs, sizeof ours) == 0, "HMAC of %zu bytes", n);
    }
}
