/* Callback signatures: a genuine one verifies; a changed body, another key, a stale or future
 * timestamp, and malformed headers do not. */
#include <criterion/criterion.h>
#include <string.h>

#include "adapters/signature.h"

static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char body[] = "{\"payment_id\":\"pay_x\",\"amount_fen\":1000}";
static const int64_t now = 1767225600000; /* 2026-01-01T00:00:00Z */

Test(signature, genuine_signature_verifies)
{
    char header[SIGNATURE_HEADER_BYTES];
    signature_make(key, now, body, strlen(body), header);
    struct km_error e;
    cr_assert_eq(signature_verify(key, header, body, strlen(body), now + 1000, &e), 0);
}

Test(signature, changed_body_is_rejected)
{
    char header[SIGNATURE_HEADER_BYTES];
    signature_make(key, now, body, strlen(body), header);
    char forged[sizeof body];
    memcpy(forged, body, sizeof body);
    forged[strlen(forged) - 2] = '9'; /* 1000 -> 1009 */
    struct km_error e;
    cr_assert_eq(signature_verify(key, header, forged, strlen(forged), now, &e), -KM_ESIGNATURE);
    cr_assert_str_eq(e.reason, "signature_invalid");
    cr_assert_str_eq(e.param, "Kameng-Signature");
}

Test(signature, another_key_is_rejected)
{
    uint8_t other[32];
    memcpy(other, key, sizeof other);
    other[0] ^= 1;
    char header[SIGNATURE_HEADER_BYTES];
    signature_make(other, now, body, strlen(body), header);
    struct km_error e;
    cr_assert_eq(signature_verify(key, header, body, strlen(body), now, &e), -KM_ESIGNATURE);
}

Test(signature, timestamp_window_is_five_minutes_each_way)
{
    char header[SIGNATURE_HEADER_BYTES];
    signature_make(key, now, body, strlen(body), header);
    struct km_error e;
    cr_assert_eq(signature_verify(key, header, body, strlen(body), now + SIGNATURE_TOLERANCE_MS, &e),
                 0);
    cr_assert_eq(
        signature_verify(key, header, body, strlen(body), now + SIGNATURE_TOLERANCE_MS + 1, &e),
        -KM_ESIGNATURE);
    cr_assert_str_eq(e.reason, "signature_expired");
    cr_assert_eq(
        signature_verify(key, header, body, strlen(body), now - SIGNATURE_TOLERANCE_MS - 1, &e),
        -KM_ESIGNATURE);
}

Test(signature, malformed_headers_are_rejected)
{
    static const char *const bad[] = {NULL,
                                      "",
                                      "t=1767225600000",
                                      "v1=00",
                                      "t=abc,v1=00",
                                      "t=1767225600000,v1=zz",
                                      "t=1767225600000,v1=0011"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct km_error e;
        cr_assert_eq(signature_verify(key, bad[i], body, strlen(body), now, &e), -KM_ESIGNATURE,
                     "header %zu accepted", i);
    }
}
