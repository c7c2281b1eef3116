/* json_out writes exactly what json_dumps(JSON_COMPACT) writes, and json_out_canonical what it
 * writes with JSON_SORT_KEYS | JSON_ENSURE_ASCII (the evidence log's entries), for every kind of
 * value and every character a string may hold. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_out.h"

/* What writer gives for v is what json_dumps gives with flags. */
static void matches(const json_t *v, size_t flags, char *(*writer)(const json_t *, size_t *))
{
    char *want = json_dumps(v, flags | JSON_ENCODE_ANY);
    size_t len = 0;
    char *got = writer(v, &len);
    cr_assert_not_null(want);
    cr_assert_str_eq(got, want);
    cr_assert_eq(len, strlen(want));
    free(want);
    free(got);
}

static void same_as_jansson(json_t *v)
{
    matches(v, JSON_COMPACT, json_out);
    matches(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII, json_out_canonical);
    json_decref(v);
}

Test(json_out, matches_jansson_for_every_kind_of_value)
{
    same_as_jansson(json_pack("{s:s, s:I, s:I, s:b, s:b, s:n, s:[], s:{}, s:[i, s, {s:[n]}]}", "id",
                              "ord_1", "min", (json_int_t)INT64_MIN, "max", (json_int_t)INT64_MAX,
                              "t", 1, "f", 0, "nothing", "empty_list", "empty_object", "mixed", 1,
                              "two", "deep", "er"));
    same_as_jansson(json_array());
    same_as_jansson(json_object());
    same_as_jansson(json_string(""));
    same_as_jansson(json_integer(0));
    same_as_jansson(json_real(12.5));
    same_as_jansson(json_pack("{s:f}", "ratio", 0.1));
}

Test(json_out, escapes_strings_as_jansson_does)
{
    char all[128];
    for (int i = 1; i < 128; i++) {
        all[i - 1] = (char)i;
    }
    all[127] = '\0';
    same_as_jansson(json_string(all));
    same_as_jansson(json_stringn("nul\0inside", 10));
    same_as_jansson(json_string(
        "卡密 \xE2\x80\xA8 line separator, emoji \xF0\x9F\x98\x80, slash / quote \" back \\"));
    json_t *o = json_object();
    json_object_set_new(o, "key \"quoted\"\n", json_string("</script>"));
    json_object_set_new(o, "中文", json_string("\x01\x1f\x7f"));
    same_as_jansson(o);
}

Test(json_out, keeps_object_keys_in_insertion_order)
{
    json_t *o = json_object();
    const char *keys[] = {"zeta", "alpha", "mid", "beta", "a", "z"};
    for (int i = 0; i < 6; i++) {
        json_object_set_new(o, keys[i], json_integer(i));
    }
    json_object_del(o, "mid");
    json_object_set_new(o, "mid", json_integer(9));
    size_t len = 0;
    char *got = json_out(o, &len);
    cr_assert_str_eq(got, "{\"zeta\":0,\"alpha\":1,\"beta\":3,\"a\":4,\"z\":5,\"mid\":9}");
    free(got);
    same_as_jansson(o);
}

Test(json_out, writes_integers_of_every_length_and_sign_as_jansson_does)
{
    json_t *a = json_array();
    for (json_int_t p = 1; p > 0 && p <= INT64_MAX / 10; p *= 10) {
        json_int_t near[] = {p - 1, p, p + 1, -(p - 1), -p, -(p + 1), 9 * p, -9 * p};
        for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
            json_array_append_new(a, json_integer(near[i]));
        }
    }
    json_array_append_new(a, json_integer(INT64_MIN + 1));
    json_array_append_new(a, json_integer(-1));
    same_as_jansson(a);
}

Test(json_out, canonical_sorts_keys_by_their_bytes_at_every_depth)
{
    json_t *inner = json_object();
    const char *keys[] = {"b", "ab", "a", "", "B", "aa", "\xC3\xA9", "\xE4\xB8\xAD", "z\"q", "a\n"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_object_set_new(inner, keys[i], json_integer((json_int_t)i));
    }
    json_t *o = json_pack("{s:s, s:[{s:i, s:i}, o], s:{}}", "seq", "7", "list", "y", 1, "x", 2,
                          inner, "empty");
    size_t len = 0;
    char *got = json_out_canonical(o, &len);
    cr_assert_eq(strncmp(got, "{\"empty\":{},\"list\":[{\"x\":2,\"y\":1},{\"\":3,", 36), 0, "%s",
                 got);
    free(got);
    same_as_jansson(o);
    /* More keys than the sort keeps on the stack. */
    json_t *many = json_object();
    for (int i = 40; i > 0; i--) {
        char key[8];
        snprintf(key, sizeof key, "k%d", i * 7 % 41);
        json_object_set_new(many, key, json_integer(i));
    }
    same_as_jansson(many);
}

Test(json_out, canonical_writes_every_character_past_ascii_as_jansson_does)
{
    /* Two-, three- and four-byte sequences: the last two-byte, three-byte and BMP characters,
     * U+2028, and past U+FFFF (a surrogate pair), up to U+10FFFF. */
    same_as_jansson(json_string("caf\xC3\xA9 \xDF\xBF \xE0\xA0\x80 \xE2\x80\xA8 \xEF\xBF\xBF"
                                " \xF0\x90\x80\x80 \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
    same_as_jansson(json_string("\xE5\x8D\xA1\xE5\xAF\x86\n\x7f\x01"));
    same_as_jansson(json_pack("{s:s}", "\xE9\x87\x91\xE9\xA2\x9D", "\xF0\x9F\x92\xB0"));
}
