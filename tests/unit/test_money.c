/* Unit tests for domain/money: the positive-amount check at both ends, overflow in unit price
 * times quantity, and yuan formatting down to one fen and out to INT64_MIN. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "domain/money.h"

#define MAX_FEN 100000000 /* a million yuan, a plausible shop limit for these tests */

Test(money, check_positive_accepts_one_fen_and_the_maximum)
{
    struct km_error e = {0};
    cr_assert_eq(money_check_positive(1, MAX_FEN, "amount_fen", &e), 0);
    cr_assert_eq(money_check_positive(MAX_FEN, MAX_FEN, "amount_fen", &e), 0);
}

Test(money, check_positive_rejects_zero_and_negatives_as_too_small)
{
    int64_t bad[] = {0, -1, INT64_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct km_error e = {0};
        cr_assert_eq(money_check_positive(bad[i], MAX_FEN, "price_fen", &e), -KM_EINVAL);
        cr_assert_eq(e.code, KM_EINVAL);
        cr_assert_str_eq(e.reason, "amount_too_small");
        cr_assert_str_eq(e.param, "price_fen");
        cr_assert_neq(e.message[0], '\0');
    }
}

Test(money, check_positive_rejects_one_over_the_maximum_as_too_large)
{
    struct km_error e = {0};
    cr_assert_eq(money_check_positive(MAX_FEN + 1, MAX_FEN, "amount_fen", &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "amount_too_large");
    cr_assert_str_eq(e.param, "amount_fen");
    struct km_error e2 = {0};
    cr_assert_eq(money_check_positive(INT64_MAX, MAX_FEN, "amount_fen", &e2), -KM_EINVAL);
    cr_assert_str_eq(e2.reason, "amount_too_large");
    /* The two failures must be told apart by a person, too. */
    struct km_error small = {0};
    cr_assert_eq(money_check_positive(0, MAX_FEN, "amount_fen", &small), -KM_EINVAL);
    cr_assert_str_neq(small.message, e.message);
}

Test(money, check_positive_tolerates_a_null_error_detail)
{
    cr_assert_eq(money_check_positive(0, MAX_FEN, "amount_fen", NULL), -KM_EINVAL);
}

Test(money, mul_multiplies_within_the_limit)
{
    struct km_error e = {0};
    int64_t out = 0;
    cr_assert_eq(money_mul(1999, 3, MAX_FEN, "amount_fen", &out, &e), 0);
    cr_assert_eq(out, 5997);
    cr_assert_eq(money_mul(MAX_FEN, 1, MAX_FEN, "amount_fen", &out, &e), 0);
    cr_assert_eq(out, MAX_FEN);
    cr_assert_eq(money_mul(MAX_FEN / 4, 4, MAX_FEN, "amount_fen", &out, &e), 0);
    cr_assert_eq(out, MAX_FEN);
}

Test(money, mul_rejects_a_product_one_fen_over_the_limit)
{
    struct km_error e = {0};
    int64_t out = 42;
    cr_assert_eq(money_mul(MAX_FEN / 2 + 1, 2, MAX_FEN, "amount_fen", &out, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "amount_too_large");
    cr_assert_eq(out, 42, "the output must not change on error");
}

Test(money, mul_detects_int64_overflow)
{
    struct km_error e = {0};
    int64_t out = 42;
    cr_assert_eq(money_mul(INT64_MAX / 2 + 1, 2, INT64_MAX, "amount_fen", &out, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "amount_too_large");
    cr_assert_eq(money_mul(INT64_MAX, INT64_MAX, INT64_MAX, "amount_fen", &out, &e), -KM_EINVAL);
    cr_assert_eq(money_mul(3037000500, 3037000500, INT64_MAX, "amount_fen", &out, &e), -KM_EINVAL);
    cr_assert_eq(out, 42);
    /* Just under the square root of INT64_MAX still fits. */
    cr_assert_eq(money_mul(3037000499, 3037000499, INT64_MAX, "amount_fen", &out, &e), 0);
    cr_assert_eq(out, (int64_t)3037000499 * 3037000499);
}

Test(money, mul_rejects_non_positive_price_and_quantity)
{
    struct km_error e = {0};
    int64_t out = 0;
    cr_assert_eq(money_mul(0, 1, MAX_FEN, "unit_price_fen", &out, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "amount_too_small");
    cr_assert_str_eq(e.param, "unit_price_fen");
    cr_assert_eq(money_mul(-5, -5, MAX_FEN, "unit_price_fen", &out, &e), -KM_EINVAL);
    cr_assert_eq(money_mul(100, 0, MAX_FEN, "unit_price_fen", &out, &e), -KM_EINVAL);
    cr_assert_str_eq(e.param, "quantity");
    cr_assert_eq(money_mul(100, -1, MAX_FEN, "unit_price_fen", &out, &e), -KM_EINVAL);
    cr_assert_str_eq(e.param, "quantity");
}

Test(money, format_yuan_small_amounts)
{
    char buf[32];
    cr_assert_str_eq(money_format_yuan(0, buf, sizeof buf), "0.00");
    cr_assert_str_eq(money_format_yuan(1, buf, sizeof buf), "0.01");
    cr_assert_str_eq(money_format_yuan(10, buf, sizeof buf), "0.10");
    cr_assert_str_eq(money_format_yuan(99, buf, sizeof buf), "0.99");
    cr_assert_str_eq(money_format_yuan(100, buf, sizeof buf), "1.00");
    cr_assert_str_eq(money_format_yuan(1234, buf, sizeof buf), "12.34");
    cr_assert_str_eq(money_format_yuan(10000000, buf, sizeof buf), "100000.00");
}

Test(money, format_yuan_negatives)
{
    char buf[32];
    cr_assert_str_eq(money_format_yuan(-1, buf, sizeof buf), "-0.01");
    cr_assert_str_eq(money_format_yuan(-100, buf, sizeof buf), "-1.00");
    cr_assert_str_eq(money_format_yuan(-1234, buf, sizeof buf), "-12.34");
}

Test(money, format_yuan_extremes)
{
    char buf[32];
    cr_assert_str_eq(money_format_yuan(INT64_MAX, buf, sizeof buf), "92233720368547758.07");
    cr_assert_str_eq(money_format_yuan(INT64_MIN, buf, sizeof buf), "-92233720368547758.08");
}

Test(money, format_yuan_truncates_to_the_buffer_and_returns_it)
{
    char buf[5];
    cr_assert_eq(money_format_yuan(123456, buf, sizeof buf), buf);
    cr_assert_str_eq(buf, "1234");
    cr_assert_eq(strlen(buf), 4);
}
