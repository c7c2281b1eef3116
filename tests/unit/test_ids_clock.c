/* Identifiers are typed and random; times round-trip through RFC 3339; the test clock moves only
 * when told. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "core/clock.h"
#include "core/ids.h"

Test(ids, carry_their_prefix_and_validate)
{
    cr_assert_geq(sodium_init(), 0);
    char id[ID_BYTES_MAX];
    id_new("ord", id);
    cr_assert_eq(strncmp(id, "ord_", 4), 0);
    cr_assert_eq(strlen(id), 4 + ID_CHARS);
    cr_assert(id_valid("ord", id));
    cr_assert_not(id_valid("pay", id));
    id[5] = 'I'; /* not in the alphabet */
    cr_assert_not(id_valid("ord", id));
    cr_assert_not(id_valid("ord", "ord_short"));
}

Test(ids, are_not_sequential_or_repeated)
{
    cr_assert_geq(sodium_init(), 0);
    char a[ID_BYTES_MAX], b[ID_BYTES_MAX];
    for (int i = 0; i < 1000; i++) {
        id_new("ord", a);
        id_new("ord", b);
        cr_assert_str_neq(a, b);
    }
}

Test(ids, random_bytes_are_never_handed_out_twice_across_pool_refills)
{
    cr_assert_geq(sodium_init(), 0);
    /* 24-byte nonces, 400 of them: more than two refills of the thread's 4 KiB pool, with ids
     * drawn from the same pool in between. */
    enum { N = 400, LEN = 24 };
    static uint8_t seen[N][LEN];
    char id[ID_BYTES_MAX];
    for (int i = 0; i < N; i++) {
        random_bytes(seen[i], LEN);
        id_new("evt", id);
        uint8_t zero[LEN] = {0};
        cr_assert_neq(memcmp(seen[i], zero, LEN), 0, "not a wiped part of the pool");
        for (int j = 0; j < i; j++) {
            cr_assert_neq(memcmp(seen[i], seen[j], LEN), 0, "nonce %d repeats nonce %d", i, j);
        }
    }
    uint8_t big[10000]; /* longer than the pool itself */
    random_bytes(big, sizeof big);
    int zeros = 0;
    for (size_t i = 0; i < sizeof big; i++) {
        zeros += big[i] == 0;
    }
    cr_assert_lt(zeros, 100, "about 1 in 256 bytes is zero, not whole runs");
}

Test(ids, sort_by_creation_time_as_strings)
{
    cr_assert_geq(sodium_init(), 0);
    clock_use_test(1700000000000);
    char a[ID_BYTES_MAX], b[ID_BYTES_MAX];
    id_new("ord", a);
    clock_advance(1);
    id_new("ord", b);
    cr_assert_lt(strcmp(a, b), 0, "%s then %s", a, b);
    cr_assert_neq(strcmp(a + 4 + ID_TIME_CHARS, b + 4 + ID_TIME_CHARS), 0);
}

Test(ids, token_hash_is_sha256_of_the_token)
{
    uint8_t h[TOKEN_HASH_BYTES];
    token_hash("abc", h);
    char hex[2 * TOKEN_HASH_BYTES + 1];
    hex_encode(h, sizeof h, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(ids, a_timed_token_is_keyed_by_its_time_then_its_hash)
{
    cr_assert_geq(sodium_init(), 0);
    clock_use_test(1700000000123); /* 0x018bcfe5687b */
    char t[SECRET_BYTES_MAX];
    secret_new_timed("bt", t);
    cr_assert_eq(strncmp(t, "bt_", 3), 0);
    cr_assert_eq(strlen(t), 3 + ID_TIME_CHARS + SECRET_RANDOM_CHARS);
    uint8_t key[TOKEN_HASH_BYTES], sha[32];
    token_hash(t, key);
    crypto_hash_sha256(sha, (const unsigned char *)t, strlen(t));
    static const uint8_t ms[6] = {0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b};
    cr_assert_arr_eq(key, ms, 6);
    cr_assert_arr_eq(key + 6, sha, TOKEN_HASH_BYTES - 6);

    /* Later tokens sort after earlier ones, so the token index is written at its end. */
    clock_advance(1);
    char later[SECRET_BYTES_MAX];
    uint8_t later_key[TOKEN_HASH_BYTES];
    secret_new_timed("bt", later);
    token_hash(later, later_key);
    cr_assert_lt(memcmp(key, later_key, 6), 0);
    cr_assert_str_neq(t + 3 + ID_TIME_CHARS, later + 3 + ID_TIME_CHARS);

    /* Tokens from before timed ones, API keys and made-up tokens are plain SHA-256. */
    char old[SECRET_BYTES_MAX];
    secret_new("bt", old);
    token_hash(old, key);
    crypto_hash_sha256(sha, (const unsigned char *)old, strlen(old));
    cr_assert_arr_eq(key, sha, 32);
    char forged[SECRET_BYTES_MAX];
    memcpy(forged, t, sizeof forged);
    forged[3] = 'I'; /* not in the alphabet: the shape is not a timed token's */
    token_hash(forged, key);
    crypto_hash_sha256(sha, (const unsigned char *)forged, strlen(forged));
    cr_assert_arr_eq(key, sha, 32);

    /* One character short or long, a bad last time character, no '_' at all: plain SHA-256. */
    const char *odd[4];
    char short_t[SECRET_BYTES_MAX], long_t[SECRET_BYTES_MAX], bad_time[SECRET_BYTES_MAX];
    memcpy(short_t, t, sizeof short_t);
    short_t[strlen(t) - 1] = '\0';
    size_t n = strlen(t);
    memcpy(long_t, t, n);
    long_t[n] = 'a';
    long_t[n + 1] = '\0';
    memcpy(bad_time, t, sizeof bad_time);
    bad_time[3 + ID_TIME_CHARS - 1] = '!';
    odd[0] = short_t;
    odd[1] = long_t;
    odd[2] = bad_time;
    odd[3] = t + 3; /* the characters after "bt_" alone */
    for (int i = 0; i < 4; i++) {
        token_hash(odd[i], key);
        crypto_hash_sha256(sha, (const unsigned char *)odd[i], strlen(odd[i]));
        cr_assert_arr_eq(key, sha, 32, "odd token %d", i);
    }
}

Test(clock, rfc3339_round_trips)
{
    int64_t ms = 0;
    cr_assert_eq(clock_parse("2026-02-16T15:59:59.123Z", &ms), 0);
    char buf[40];
    cr_assert_str_eq(clock_format(ms, buf, sizeof buf), "2026-02-16T15:59:59.123Z");
    cr_assert_eq(clock_parse("2026-02-16T15:59:59Z", &ms), 0);
    cr_assert_eq(ms % 1000, 0);
    cr_assert_neq(clock_parse("2026-02-16 15:59:59Z", &ms), 0);
    cr_assert_neq(clock_parse("2026-13-01T00:00:00Z", &ms), 0);
    cr_assert_neq(clock_parse("2026-02-16T15:59:59+08:00", &ms), 0);
}

Test(clock, test_clock_moves_only_when_advanced)
{
    clock_use_test(1000);
    cr_assert_eq(clock_now_ms(), 1000);
    cr_assert_eq(clock_now_ms(), 1000);
    cr_assert_eq(clock_advance(30 * 60 * 1000), 1000 + 30 * 60 * 1000);
    cr_assert_eq(clock_now_ms(), 1000 + 30 * 60 * 1000);
}
