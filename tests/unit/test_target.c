/* Unit tests for domain/target: mainland phone numbers with and without +86, game accounts at
 * their length limits and with their region list, and everything that must be refused before
 * the buyer pays. */
#include <criterion/criterion.h>

#include <string.h>

#include "domain/target.h"

#define REGIONS "电信一区, 网通二区 ,asia-1,eu"

static void assert_phone_ok(const char *input, const char *expected)
{
    char out[TARGET_ACCOUNT_BYTES_MAX + 1];
    struct km_error e = {0};
    int rc = target_normalise(TARGET_PHONE_CN, input, "", NULL, out, sizeof out, &e);
    cr_assert_eq(rc, 0, "'%s' should be accepted: %s", input, e.message);
    cr_assert_str_eq(out, expected, "'%s'", input);
}

static void assert_rejected(enum target_format f, const char *input, const char *region,
                            const char *param)
{
    char out[TARGET_ACCOUNT_BYTES_MAX + 1];
    struct km_error e = {0};
    int rc = target_normalise(f, input, REGIONS, region, out, sizeof out, &e);
    cr_assert_eq(rc, -KM_EINVAL, "'%s' (region '%s') should be refused", input,
                 region != NULL ? region : "(null)");
    cr_assert_eq(e.code, KM_EINVAL);
    cr_assert_str_eq(e.param, param, "'%s': wrong field named (%s)", input, e.message);
    cr_assert_neq(e.message[0], '\0');
    cr_assert_str_eq(out, "", "no partial output on error");
}

static void assert_game_ok(const char *input, const char *region, const char *expected)
{
    char out[TARGET_ACCOUNT_BYTES_MAX + 1];
    struct km_error e = {0};
    int rc = target_normalise(TARGET_GAME_ACCOUNT, input, REGIONS, region, out, sizeof out, &e);
    cr_assert_eq(rc, 0, "'%s' @ '%s' should be accepted: %s", input, region, e.message);
    cr_assert_str_eq(out, expected);
}

Test(target, format_names_round_trip)
{
    static const char *const names[] = {"none", "phone_cn", "game_account"};
    for (int f = 0; f < 3; f++) {
        cr_assert_str_eq(target_format_name((enum target_format)f), names[f]);
        enum target_format parsed = TARGET_NONE;
        cr_assert_eq(target_format_parse(names[f], &parsed), 0);
        cr_assert_eq((int)parsed, f);
    }
    enum target_format parsed = TARGET_GAME_ACCOUNT;
    cr_assert_eq(target_format_parse("phone", &parsed), -KM_EINVAL);
    cr_assert_eq(target_format_parse("PHONE_CN", &parsed), -KM_EINVAL);
    cr_assert_eq(target_format_parse("", &parsed), -KM_EINVAL);
    cr_assert_eq(target_format_parse(NULL, &parsed), -KM_EINVAL);
    cr_assert_eq(parsed, TARGET_GAME_ACCOUNT);
}

Test(target, phone_plain_and_with_separators)
{
    assert_phone_ok("13800138000", "13800138000");
    assert_phone_ok("138 0013 8000", "13800138000");
    assert_phone_ok("138-0013-8000", "13800138000");
    assert_phone_ok(" 138 - 0013 - 8000 ", "13800138000");
    assert_phone_ok("19912345678", "19912345678");
    assert_phone_ok("13000000000", "13000000000");
}

Test(target, phone_country_code_comes_off_only_when_11_digits_remain)
{
    assert_phone_ok("+8613800138000", "13800138000");
    assert_phone_ok("+86 138 0013 8000", "13800138000");
    assert_phone_ok("8613800138000", "13800138000");
    assert_phone_ok("86-138-0013-8000", "13800138000");
    /* "86" followed by ten digits is not a prefix but a wrong number. */
    assert_rejected(TARGET_PHONE_CN, "861380013800", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "+861380013800", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "+86138001380001", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "+13800138000", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "+85261234567", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "+8613800138000+", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "++8613800138000", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "138+0013800", NULL, "target_account");
}

Test(target, phone_must_be_1_then_3_to_9_then_nine_digits)
{
    assert_rejected(TARGET_PHONE_CN, "12800138000", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "11800138000", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "10800138000", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "23800138000", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "1380013800", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "138001380001", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "1380013800a", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "138.0013.8000", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "(138)00138000", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, NULL, NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, " - - ", NULL, "target_account");
}

Test(target, phone_rejects_control_bytes_and_non_ascii)
{
    assert_rejected(TARGET_PHONE_CN, "138\t0013\t8000", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "13800138000\n", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "13800138000\x7f", NULL, "target_account");
    /* Full-width digits look the same to a person and are not digits. */
    assert_rejected(TARGET_PHONE_CN, "１３８００１３８０００", NULL, "target_account");
    assert_rejected(TARGET_PHONE_CN, "138\u00a00013 8000", NULL, "target_account"); /* NBSP */
}

Test(target, phone_ignores_any_region)
{
    char out[TARGET_ACCOUNT_BYTES_MAX + 1];
    struct km_error e = {0};
    cr_assert_eq(
        target_normalise(TARGET_PHONE_CN, "13800138000", "", "somewhere", out, sizeof out, &e), 0);
    cr_assert_str_eq(out, "13800138000");
    cr_assert_eq(target_normalise(TARGET_PHONE_CN, "13800138000", NULL, NULL, out, sizeof out, &e),
                 0);
}

Test(target, phone_over_the_byte_limit_is_refused)
{
    char input[TARGET_ACCOUNT_BYTES_MAX + 2];
    /* 65 bytes: spaces then a valid number, which would pass if the limit were not checked. */
    memset(input, ' ', sizeof input - 1);
    memcpy(input + sizeof input - 12, "13800138000", 11);
    input[sizeof input - 1] = '\0';
    cr_assert_eq(strlen(input), TARGET_ACCOUNT_BYTES_MAX + 1);
    assert_rejected(TARGET_PHONE_CN, input, NULL, "target_account");
    /* 64 bytes is allowed. */
    assert_phone_ok(input + 1, "13800138000");
}

Test(target, game_account_length_limits)
{
    assert_game_ok("abcd", "eu", "abcd");
    assert_game_ok("0123456789abcdef0123456789ABCDEF", "eu", "0123456789abcdef0123456789ABCDEF");
    assert_rejected(TARGET_GAME_ACCOUNT, "abc", "eu", "target_account");
    assert_rejected(TARGET_GAME_ACCOUNT, "0123456789abcdef0123456789ABCDEFx", "eu",
                    "target_account");
    assert_rejected(TARGET_GAME_ACCOUNT, "", "eu", "target_account");
    assert_rejected(TARGET_GAME_ACCOUNT, NULL, "eu", "target_account");
}

Test(target, game_account_characters)
{
    assert_game_ok("Player_1.two@three-4", "asia-1", "Player_1.two@three-4");
    assert_game_ok("  spaced  ", "eu", "spaced");
    assert_rejected(TARGET_GAME_ACCOUNT, "play er", "eu", "target_account");
    assert_rejected(TARGET_GAME_ACCOUNT, "player!", "eu", "target_account");
    assert_rejected(TARGET_GAME_ACCOUNT, "player+1", "eu", "target_account");
    assert_rejected(TARGET_GAME_ACCOUNT, "player,1", "eu", "target_account");
    assert_rejected(TARGET_GAME_ACCOUNT, "玩家一号", "eu", "target_account");
    assert_rejected(TARGET_GAME_ACCOUNT, "player\x01", "eu", "target_account");
    assert_rejected(TARGET_GAME_ACCOUNT, "play\ter", "eu", "target_account");
    /* Cyrillic 'а' (U+0430) in place of a Latin 'a'. */
    assert_rejected(TARGET_GAME_ACCOUNT, "pl\xd0\xb0yer", "eu", "target_account");
}

Test(target, game_region_must_be_exactly_one_listed)
{
    assert_game_ok("player1", "电信一区", "player1");
    assert_game_ok("player1", "网通二区", "player1"); /* listed with spaces around it */
    assert_game_ok("player1", "asia-1", "player1");
    assert_game_ok("player1", "eu", "player1"); /* the last item */
    assert_rejected(TARGET_GAME_ACCOUNT, "player1", NULL, "target_region");
    assert_rejected(TARGET_GAME_ACCOUNT, "player1", "", "target_region");
    assert_rejected(TARGET_GAME_ACCOUNT, "player1", "EU", "target_region");
    assert_rejected(TARGET_GAME_ACCOUNT, "player1", "e", "target_region");
    assert_rejected(TARGET_GAME_ACCOUNT, "player1", "asia", "target_region");
    assert_rejected(TARGET_GAME_ACCOUNT, "player1", " eu", "target_region");
    assert_rejected(TARGET_GAME_ACCOUNT, "player1", "asia-1,eu", "target_region");
    assert_rejected(TARGET_GAME_ACCOUNT, "player1", ",", "target_region");
    assert_rejected(TARGET_GAME_ACCOUNT, "player1", "eu\n", "target_region");
}

Test(target, game_region_list_edge_cases)
{
    char out[TARGET_ACCOUNT_BYTES_MAX + 1];
    struct km_error e = {0};
    cr_assert_eq(target_normalise(TARGET_GAME_ACCOUNT, "player1", "", "eu", out, sizeof out, &e),
                 -KM_EINVAL, "a product with no regions accepts none");
    cr_assert_str_eq(e.param, "target_region");
    cr_assert_eq(target_normalise(TARGET_GAME_ACCOUNT, "player1", NULL, "eu", out, sizeof out, &e),
                 -KM_EINVAL);
    cr_assert_eq(
        target_normalise(TARGET_GAME_ACCOUNT, "player1", ",,eu,,", "eu", out, sizeof out, &e), 0,
        "empty items are skipped");
    cr_assert_eq(target_normalise(TARGET_GAME_ACCOUNT, "player1", "eu", "eu", out, sizeof out, &e),
                 0, "a single region");
    /* The account is checked before the region, so the first error names the account. */
    cr_assert_eq(target_normalise(TARGET_GAME_ACCOUNT, "ab", "eu", "nowhere", out, sizeof out, &e),
                 -KM_EINVAL);
    cr_assert_str_eq(e.param, "target_account");
}

Test(target, none_takes_no_account)
{
    char out[TARGET_ACCOUNT_BYTES_MAX + 1] = "junk";
    struct km_error e = {0};
    cr_assert_eq(target_normalise(TARGET_NONE, "", "", NULL, out, sizeof out, &e), 0);
    cr_assert_str_eq(out, "");
    cr_assert_eq(target_normalise(TARGET_NONE, NULL, "", NULL, out, sizeof out, &e), 0);
    cr_assert_eq(target_normalise(TARGET_NONE, "13800138000", "", NULL, out, sizeof out, &e),
                 -KM_EINVAL);
    cr_assert_str_eq(e.param, "target_account");
    cr_assert_str_eq(e.message, "this product takes no target account");
    cr_assert_eq(target_normalise(TARGET_NONE, " ", "", NULL, out, sizeof out, &e), -KM_EINVAL);
}

Test(target, display_phone_in_groups_and_game_with_region)
{
    char out[64];
    target_display(TARGET_PHONE_CN, "13800138000", NULL, out, sizeof out);
    cr_assert_str_eq(out, "138 0013 8000");
    target_display(TARGET_GAME_ACCOUNT, "player1", "电信一区", out, sizeof out);
    cr_assert_str_eq(out, "player1 @ 电信一区");
    target_display(TARGET_NONE, "", NULL, out, sizeof out);
    cr_assert_str_eq(out, "");
    char small[8];
    target_display(TARGET_PHONE_CN, "13800138000", NULL, small, sizeof small);
    cr_assert_str_eq(small, "138 001", "truncated, never overrun");
}

Test(target, normalised_phone_displays_as_the_buyer_typed_it)
{
    char normalised[TARGET_ACCOUNT_BYTES_MAX + 1];
    char shown[64];
    struct km_error e = {0};
    cr_assert_eq(target_normalise(TARGET_PHONE_CN, "+86 139-1234-5678", "", NULL, normalised,
                                  sizeof normalised, &e),
                 0);
    target_display(TARGET_PHONE_CN, normalised, NULL, shown, sizeof shown);
    cr_assert_str_eq(shown, "139 1234 5678");
}
