/* Checking and normalising the account a direct top-up is sent to: a mainland mobile number or
 * a game account with its region. The buyer confirms the normalised form, which is exactly what
 * the upstream will receive. */
#include "domain/target.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PHONE_DIGITS 11
#define GAME_ACCOUNT_CHARS_MIN 4
#define GAME_ACCOUNT_CHARS_MAX 32
#define REGION_BYTES_MAX 64 /* a server name; the product's list is checked at publish time */

_Static_assert(GAME_ACCOUNT_CHARS_MAX <= TARGET_ACCOUNT_BYTES_MAX, "a game account fits");
_Static_assert(PHONE_DIGITS <= TARGET_ACCOUNT_BYTES_MAX, "a phone number fits");

static const char *const format_names[] = {
    [TARGET_NONE] = "none",
    [TARGET_PHONE_CN] = "phone_cn",
    [TARGET_GAME_ACCOUNT] = "game_account",
};

#define FORMAT_COUNT ((int)(sizeof format_names / sizeof format_names[0]))

const char *target_format_name(enum target_format f)
{
    km_assert((int)f >= 0);
    km_assert((int)f < FORMAT_COUNT);
    return format_names[f];
}

int target_format_parse(const char *name, enum target_format *out)
{
    km_assert(out != NULL);
    if (name == NULL) {
        return -KM_EINVAL;
    }
    for (int f = 0; f < FORMAT_COUNT; f++) {
        if (strcmp(name, format_names[f]) == 0) {
            *out = (enum target_format)f;
            return 0;
        }
    }
    return -KM_EINVAL;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_game_account_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' ||
           c == '.' || c == '@' || c == '-';
}

/* Printable ASCII only: control bytes and non-ASCII text are where look-alike characters and
 * invisible differences hide. */
static int check_printable_ascii(const char *s, size_t len, const char *param, struct km_error *e)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f) {
            return km_fail(e, KM_EINVAL, "parameter_invalid", param,
                           "%s may contain only printable ASCII characters", param);
        }
    }
    return 0;
}

static int normalise_phone(const char *input, char *out, struct km_error *e)
{
    char digits[TARGET_ACCOUNT_BYTES_MAX + 1];
    size_t count = 0;
    bool plus = false;
    for (size_t i = 0; input[i] != '\0'; i++) {
        char c = input[i];
        if (c == ' ' || c == '-') {
            continue;
        }
        if (c == '+' && count == 0 && !plus) {
            plus = true;
            continue;
        }
        if (!is_digit(c)) {
            return km_fail(e, KM_EINVAL, "parameter_invalid", "target_account",
                           "a phone number may contain only digits, spaces and dashes");
        }
        km_assert(count < TARGET_ACCOUNT_BYTES_MAX);
        digits[count++] = c;
    }
    digits[count] = '\0';
    const char *number = digits;
    /* The country code comes off only when what is left is a whole mobile number. */
    if (count == PHONE_DIGITS + 2 && digits[0] == '8' && digits[1] == '6') {
        number += 2;
        count -= 2;
    } else if (plus) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "target_account",
                       "only mainland China numbers (+86) can be topped up");
    }
    if (count == 0) {
        return km_fail(e, KM_EINVAL, "parameter_missing", "target_account",
                       "enter the phone number to top up");
    }
    if (count != PHONE_DIGITS || number[0] != '1' || number[1] < '3' || number[1] > '9') {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "target_account",
                       "a mainland mobile number has 11 digits and starts with 13 to 19");
    }
    memcpy(out, number, PHONE_DIGITS);
    out[PHONE_DIGITS] = '\0';
    return 0;
}

/* Whether region is one of the comma-separated items of list, spaces around items ignored. */
static bool region_listed(const char *list, const char *region)
{
    size_t region_len = strlen(region);
    const char *item = list;
    for (;;) {
        const char *comma = strchr(item, ',');
        const char *end = comma != NULL ? comma : item + strlen(item);
        const char *start = item;
        while (start < end && *start == ' ') {
            start++;
        }
        while (end > start && end[-1] == ' ') {
            end--;
        }
        if ((size_t)(end - start) == region_len && region_len > 0 &&
            memcmp(start, region, region_len) == 0) {
            return true;
        }
        if (comma == NULL) {
            return false;
        }
        item = comma + 1;
    }
}

static int normalise_game_account(const char *input, size_t len, const char *regions,
                                  const char *region, char *out, struct km_error *e)
{
    /* Spaces around the account are a copy-and-paste accident, not part of it. */
    const char *start = input;
    const char *end = input + len;
    while (start < end && *start == ' ') {
        start++;
    }
    while (end > start && end[-1] == ' ') {
        end--;
    }
    size_t account_len = (size_t)(end - start);
    if (account_len == 0) {
        return km_fail(e, KM_EINVAL, "parameter_missing", "target_account",
                       "enter the game account to top up");
    }
    if (account_len < GAME_ACCOUNT_CHARS_MIN || account_len > GAME_ACCOUNT_CHARS_MAX) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "target_account",
                       "a game account has %d to %d characters", GAME_ACCOUNT_CHARS_MIN,
                       GAME_ACCOUNT_CHARS_MAX);
    }
    for (size_t i = 0; i < account_len; i++) {
        if (!is_game_account_char(start[i])) {
            return km_fail(e, KM_EINVAL, "parameter_invalid", "target_account",
                           "a game account may contain only letters, digits and _ . @ -");
        }
    }
    if (region == NULL || region[0] == '\0') {
        return km_fail(e, KM_EINVAL, "parameter_missing", "target_region",
                       "choose the region or server of the game account");
    }
    size_t region_len = strnlen(region, REGION_BYTES_MAX + 1);
    for (size_t i = 0; i < region_len; i++) {
        if ((unsigned char)region[i] < 0x20 || region[i] == 0x7f) {
            return km_fail(e, KM_EINVAL, "parameter_invalid", "target_region",
                           "the region contains a control character");
        }
    }
    if (region_len > REGION_BYTES_MAX || regions == NULL || !region_listed(regions, region)) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "target_region",
                       "the region is not one this product can top up");
    }
    memcpy(out, start, account_len);
    out[account_len] = '\0';
    return 0;
}

int target_normalise(enum target_format f, const char *input, const char *regions,
                     const char *region, char *out, size_t out_len, struct km_error *e)
{
    km_assert((int)f >= 0);
    km_assert((int)f < FORMAT_COUNT);
    km_assert(out != NULL);
    km_assert(out_len > TARGET_ACCOUNT_BYTES_MAX);
    out[0] = '\0';
    if (input == NULL) {
        input = "";
    }
    size_t len = strnlen(input, TARGET_ACCOUNT_BYTES_MAX + 1);
    if (f == TARGET_NONE) {
        if (len > 0) {
            return km_fail(e, KM_EINVAL, "parameter_invalid", "target_account",
                           "this product takes no target account");
        }
        return 0;
    }
    if (len > TARGET_ACCOUNT_BYTES_MAX) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "target_account",
                       "the target account is longer than %d bytes", TARGET_ACCOUNT_BYTES_MAX);
    }
    int rc = check_printable_ascii(input, len, "target_account", e);
    if (rc != 0) {
        return rc;
    }
    if (f == TARGET_PHONE_CN) {
        /* A phone top-up has no region; whatever the client sent is ignored. */
        return normalise_phone(input, out, e);
    }
    km_assert(f == TARGET_GAME_ACCOUNT);
    return normalise_game_account(input, len, regions, region, out, e);
}

void target_display(enum target_format f, const char *normalised, const char *region, char *out,
                    size_t out_len)
{
    km_assert(normalised != NULL);
    km_assert(out != NULL);
    km_assert(out_len > 0);
    if (f == TARGET_PHONE_CN && strlen(normalised) == PHONE_DIGITS) {
        snprintf(out, out_len, "%.3s %.4s %.4s", normalised, normalised + 3, normalised + 7);
    } else if (f == TARGET_GAME_ACCOUNT) {
        snprintf(out, out_len, "%s @ %s", normalised, region != NULL ? region : "");
    } else {
        snprintf(out, out_len, "%s", normalised);
    }
}
