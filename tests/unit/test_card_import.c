/* Unit tests for domain/card_import: the CSV dialect (quotes, header, CRLF, BOM), every problem
 * reason with its line, duplicates naming the first line, the row and report limits, the
 * checks on rows from JSON, and masking. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "domain/card_import.h"

static struct card_row rows_storage[CARD_IMPORT_ROWS_MAX];
static struct card_import imp;

/* Parse text that must parse (problems or not). */
static struct card_import *parse_len(const char *text, size_t len)
{
    memset(&imp, 0, sizeof imp);
    imp.rows = rows_storage;
    struct km_error e = {0};
    int rc = card_import_parse_csv(text, len, &imp, &e);
    cr_assert_eq(rc, 0, "parse failed: %s", e.message);
    return &imp;
}

static struct card_import *parse(const char *text)
{
    return parse_len(text, strlen(text));
}

static void assert_row(const struct card_import *p, int i, int line, const char *number,
                       const char *password)
{
    cr_assert_lt(i, p->row_count, "row %d missing", i);
    cr_assert_eq(p->rows[i].line, line, "row %d line", i);
    cr_assert_str_eq(p->rows[i].number, number, "row %d number", i);
    cr_assert_str_eq(p->rows[i].password, password, "row %d password", i);
}

static void assert_problem(const struct card_import *p, int i, int line, const char *reason)
{
    cr_assert_lt(i, p->problem_count, "problem %d missing", i);
    cr_assert_eq(p->problems[i].line, line, "problem %d line (%s)", i, p->problems[i].message);
    cr_assert_str_eq(p->problems[i].reason, reason, "problem %d (%s)", i, p->problems[i].message);
    cr_assert_neq(p->problems[i].message[0], '\0');
}

/* A single-line file expected to produce one problem with this reason. */
static void assert_single_problem(const char *text, const char *reason)
{
    struct card_import *p = parse(text);
    cr_assert_eq(p->row_count, 0, "'%s' should give no row", text);
    cr_assert_eq(p->problem_count, 1, "'%s' should give one problem", text);
    assert_problem(p, 0, 1, reason);
}

Test(card_import, number_and_password_per_line)
{
    struct card_import *p = parse("1001,pass-a\n1002,pass-b\n");
    cr_assert_eq(p->row_count, 2);
    cr_assert_eq(p->problem_count, 0);
    assert_row(p, 0, 1, "1001", "pass-a");
    assert_row(p, 1, 2, "1002", "pass-b");
}

Test(card_import, password_only_lines)
{
    struct card_import *p = parse("ABCD-EFGH-IJKL\nMNOP-QRST-UVWX\n");
    cr_assert_eq(p->row_count, 2);
    assert_row(p, 0, 1, "", "ABCD-EFGH-IJKL");
    assert_row(p, 1, 2, "", "MNOP-QRST-UVWX");
}

Test(card_import, optional_header_line_is_skipped)
{
    struct card_import *p = parse("number,password\n1001,a\n");
    cr_assert_eq(p->row_count, 1);
    assert_row(p, 0, 2, "1001", "a");
    p = parse("card_number,password\r\n1001,a\r\n");
    cr_assert_eq(p->row_count, 1);
    assert_row(p, 0, 2, "1001", "a");
    p = parse("\n\"Card_Number\", \"Password\"\n1001,a\n");
    cr_assert_eq(p->row_count, 1, "a quoted, capitalised header after a blank line");
    assert_row(p, 0, 3, "1001", "a");
    /* Only the first line can be a header; later it is an ordinary key. */
    p = parse("1001,a\nnumber,password\n");
    cr_assert_eq(p->row_count, 2);
    assert_row(p, 1, 2, "number", "password");
    /* "password" alone is a one-field key, not a header. */
    p = parse("password\n");
    cr_assert_eq(p->row_count, 1);
}

Test(card_import, quoting_with_doubled_quotes_and_commas)
{
    struct card_import *p = parse("\"10,01\",\"pa\"\"ss\"\n"
                                  "\" spaced \",\"\"\"\"\n"
                                  "  1003  ,  in  side  \n"
                                  "\"1004\" , \"x\"  \n"
                                  "\"only,one\"\n");
    cr_assert_eq(p->problem_count, 0, "%s", p->problems[0].message);
    assert_row(p, 0, 1, "10,01", "pa\"ss");
    assert_row(p, 1, 2, " spaced ", "\"");
    assert_row(p, 2, 3, "1003", "in  side");
    assert_row(p, 3, 4, "1004", "x");
    assert_row(p, 4, 5, "", "only,one");
}

Test(card_import, crlf_blank_lines_bom_and_no_final_newline)
{
    struct card_import *p = parse("\xef\xbb\xbfnumber,password\r\n\r\n   \r\n1001,a\r\n\t\n1002,b");
    cr_assert_eq(p->problem_count, 0);
    cr_assert_eq(p->row_count, 2);
    assert_row(p, 0, 4, "1001", "a");
    assert_row(p, 1, 6, "1002", "b");
    p = parse("");
    cr_assert_eq(p->row_count, 0);
    cr_assert_eq(p->problem_count, 0);
}

Test(card_import, malformed_lines)
{
    assert_single_problem("\"1001,abc\n", "malformed");
    assert_single_problem("\"1001\"x,abc\n", "malformed");
    assert_single_problem("10\"01,abc\n", "malformed");
    assert_single_problem("1001,abc,extra\n", "malformed");
    assert_single_problem("1001,abc,\n", "malformed");
    assert_single_problem("1001,a\tb\n", "malformed");
    assert_single_problem("1001,ab\x01\n", "malformed");
    assert_single_problem("1001,ab\x7f\n", "malformed");
}

Test(card_import, nul_byte_in_a_field_is_malformed)
{
    static const char text[] = "1001,ab\0cd\n1002,ok\n";
    struct card_import *p = parse_len(text, sizeof text - 1);
    cr_assert_eq(p->row_count, 1);
    assert_row(p, 0, 2, "1002", "ok");
    cr_assert_eq(p->problem_count, 1);
    assert_problem(p, 0, 1, "malformed");
}

Test(card_import, empty_secret)
{
    assert_single_problem("1001,\n", "empty_secret");
    assert_single_problem("1001,\"\"\n", "empty_secret");
    assert_single_problem(",\n", "empty_secret");
    assert_single_problem("\"\"\n", "empty_secret");
    assert_single_problem("1001,   \n", "empty_secret");
}

Test(card_import, field_length_limit)
{
    char text[4 * CARD_FIELD_BYTES_MAX + 64];
    char at_limit[CARD_FIELD_BYTES_MAX + 1];
    memset(at_limit, 'k', CARD_FIELD_BYTES_MAX);
    at_limit[CARD_FIELD_BYTES_MAX] = '\0';
    /* Trailing spaces are trimmed before the limit applies. */
    snprintf(text, sizeof text, "1001,%s   \n%s  ,x\n1003,%sk\n%sn,y\n", at_limit, at_limit,
             at_limit, at_limit);
    struct card_import *p = parse(text);
    cr_assert_eq(p->row_count, 2);
    assert_row(p, 0, 1, "1001", at_limit);
    assert_row(p, 1, 2, at_limit, "x");
    cr_assert_eq(p->problem_count, 2);
    assert_problem(p, 0, 3, "too_long");
    cr_assert(strstr(p->problems[0].message, "password") != NULL);
    assert_problem(p, 1, 4, "too_long");
    cr_assert(strstr(p->problems[1].message, "card number") != NULL);
    /* The limit applies to the value, after "" is unescaped: 64 doubled quotes are 64 bytes. */
    char quoted[2 * CARD_FIELD_BYTES_MAX + 8];
    size_t n = 0;
    quoted[n++] = '"';
    for (int i = 0; i < CARD_FIELD_BYTES_MAX; i++) {
        quoted[n++] = '"';
        quoted[n++] = '"';
    }
    quoted[n++] = '"';
    quoted[n] = '\0';
    p = parse(quoted);
    cr_assert_eq(p->problem_count, 0);
    cr_assert_eq(strlen(p->rows[0].password), CARD_FIELD_BYTES_MAX);
}

Test(card_import, invalid_utf8)
{
    assert_single_problem("1001,\xff\n", "invalid_utf8");
    assert_single_problem("1001,\xc0\xaf\n", "invalid_utf8");         /* overlong '/' */
    assert_single_problem("1001,\xe0\x80\xaf\n", "invalid_utf8");     /* overlong, 3 bytes */
    assert_single_problem("1001,\xed\xa0\x80\n", "invalid_utf8");     /* a surrogate */
    assert_single_problem("1001,\xe5\x8d\n", "invalid_utf8");         /* cut short */
    assert_single_problem("1001,\xf4\x90\x80\x80\n", "invalid_utf8"); /* above U+10FFFF */
    assert_single_problem("1001,\x80\n", "invalid_utf8");             /* a lone continuation */
    assert_single_problem("\xe5\x8d,pw\n", "invalid_utf8");           /* in the number */
    struct card_import *p = parse("卡号一,密码\n1002,\xf0\x9f\x8e\xae\n1003,\xf4\x8f\xbf\xbf\n");
    cr_assert_eq(p->problem_count, 0, "valid multibyte text is fine");
    assert_row(p, 0, 1, "卡号一", "密码");
}

Test(card_import, duplicates_name_the_first_line)
{
    struct card_import *p = parse("number,password\n"
                                  "1001,a\n"
                                  "1002,a\n"
                                  "1001,b\n"
                                  "1001,a\n"
                                  "\"1001\",\"a\"\n"
                                  "solo\n"
                                  "solo\n");
    /* Same password under another number, and another password for the same number, are
     * different cards. */
    cr_assert_eq(p->row_count, 4);
    assert_row(p, 0, 2, "1001", "a");
    assert_row(p, 1, 3, "1002", "a");
    assert_row(p, 2, 4, "1001", "b");
    assert_row(p, 3, 7, "", "solo");
    cr_assert_eq(p->problem_count, 3);
    assert_problem(p, 0, 5, "duplicate_in_file");
    cr_assert(strstr(p->problems[0].message, "line 2") != NULL, "%s", p->problems[0].message);
    assert_problem(p, 1, 6, "duplicate_in_file");
    cr_assert(strstr(p->problems[1].message, "line 2") != NULL);
    assert_problem(p, 2, 8, "duplicate_in_file");
    cr_assert(strstr(p->problems[2].message, "line 7") != NULL);
}

Test(card_import, a_bad_line_does_not_shadow_a_later_good_duplicate)
{
    /* Line 1 is refused, so line 2 is the first good occurrence and line 3 its duplicate. */
    struct card_import *p = parse("1001,\xff\n1001,a\n1001,a\n");
    cr_assert_eq(p->row_count, 1);
    assert_row(p, 0, 2, "1001", "a");
    assert_problem(p, 0, 1, "invalid_utf8");
    assert_problem(p, 1, 3, "duplicate_in_file");
    cr_assert(strstr(p->problems[1].message, "line 2") != NULL);
}

Test(card_import, problems_past_the_report_limit_are_counted)
{
    static char text[300 * 8];
    size_t len = 0;
    for (int i = 0; i < 150; i++) {
        len += (size_t)snprintf(text + len, sizeof text - len, "%d,\n", 1000 + i);
    }
    len += (size_t)snprintf(text + len, sizeof text - len, "ok\n");
    struct card_import *p = parse_len(text, len);
    cr_assert_eq(p->problem_count, 150);
    assert_problem(p, 0, 1, "empty_secret");
    assert_problem(p, CARD_IMPORT_PROBLEMS_MAX - 1, CARD_IMPORT_PROBLEMS_MAX, "empty_secret");
    cr_assert_eq(p->row_count, 1);
    assert_row(p, 0, 151, "", "ok");
}

/* CARD_IMPORT_ROWS_MAX distinct keys after a header, plus `extra` more. */
static size_t many_rows(char *text, size_t size, int extra)
{
    size_t len = (size_t)snprintf(text, size, "number,password\n");
    for (int i = 0; i < CARD_IMPORT_ROWS_MAX + extra; i++) {
        len += (size_t)snprintf(text + len, size - len, "%d,p%d\n", i, i);
        cr_assert_lt(len, size);
    }
    return len;
}

Test(card_import, row_limit)
{
    static char text[(CARD_IMPORT_ROWS_MAX + 2) * 16];
    size_t len = many_rows(text, sizeof text, 0);
    struct card_import *p = parse_len(text, len);
    cr_assert_eq(p->row_count, CARD_IMPORT_ROWS_MAX);
    cr_assert_eq(p->problem_count, 0);
    assert_row(p, CARD_IMPORT_ROWS_MAX - 1, CARD_IMPORT_ROWS_MAX + 1, "9999", "p9999");

    len = many_rows(text, sizeof text, 1);
    memset(&imp, 0, sizeof imp);
    imp.rows = rows_storage;
    struct km_error e = {0};
    cr_assert_eq(card_import_parse_csv(text, len, &imp, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "too_many_rows");
    cr_assert_eq(e.code, KM_EINVAL);
    /* Blank lines and the header do not count as rows. */
    len = many_rows(text, sizeof text, 0);
    len += (size_t)snprintf(text + len, sizeof text - len, "\n\r\n  \n");
    cr_assert_eq(parse_len(text, len)->row_count, CARD_IMPORT_ROWS_MAX);
}

Test(card_import, duplicates_found_among_the_maximum_rows)
{
    static char text[(CARD_IMPORT_ROWS_MAX + 2) * 16];
    size_t len = 0;
    for (int i = 0; i < CARD_IMPORT_ROWS_MAX; i++) {
        /* Every key twice: 5000 distinct keys, the second half all duplicates. */
        int k = i % (CARD_IMPORT_ROWS_MAX / 2);
        len += (size_t)snprintf(text + len, sizeof text - len, "%d,secret\n", k);
    }
    struct card_import *p = parse_len(text, len);
    cr_assert_eq(p->row_count, CARD_IMPORT_ROWS_MAX / 2);
    cr_assert_eq(p->problem_count, CARD_IMPORT_ROWS_MAX / 2);
    assert_problem(p, 0, CARD_IMPORT_ROWS_MAX / 2 + 1, "duplicate_in_file");
    cr_assert(strstr(p->problems[0].message, "line 1") != NULL);
}

Test(card_import, check_rows_from_json)
{
    memset(&imp, 0, sizeof imp);
    imp.rows = rows_storage;
    static const struct {
        const char *number;
        const char *password;
    } input[] = {
        {"1001", "a"}, {"1002", ""},     {"1003", "\xc3\x28"}, {"1001", "a"},
        {"", "solo"},  {"1004", "b\nc"}, {"1005", "e"},
    };
    int n = (int)(sizeof input / sizeof input[0]);
    for (int i = 0; i < n; i++) {
        imp.rows[i].line = i + 1;
        snprintf(imp.rows[i].number, sizeof imp.rows[i].number, "%s", input[i].number);
        snprintf(imp.rows[i].password, sizeof imp.rows[i].password, "%s", input[i].password);
    }
    /* A password that fills its array with no terminator is too long. */
    imp.rows[n].line = n + 1;
    snprintf(imp.rows[n].number, sizeof imp.rows[n].number, "1006");
    memset(imp.rows[n].password, 'x', sizeof imp.rows[n].password);
    imp.row_count = n + 1;
    imp.problem_count = 42; /* stale: must be reset */

    card_import_check_rows(&imp);
    cr_assert_eq(imp.problem_count, 5);
    assert_problem(&imp, 0, 2, "empty_secret");
    assert_problem(&imp, 1, 3, "invalid_utf8");
    assert_problem(&imp, 2, 4, "duplicate_in_file");
    cr_assert(strstr(imp.problems[2].message, "line 1") != NULL);
    assert_problem(&imp, 3, 6, "malformed");
    assert_problem(&imp, 4, 8, "too_long");
    cr_assert_eq(imp.row_count, 3, "only good rows remain, in order");
    assert_row(&imp, 0, 1, "1001", "a");
    assert_row(&imp, 1, 5, "", "solo");
    assert_row(&imp, 2, 7, "1005", "e");

    imp.row_count = 0;
    card_import_check_rows(&imp);
    cr_assert_eq(imp.problem_count, 0);
}

Test(card_import, mask_shows_the_last_four_of_the_number_only)
{
    char out[32];
    card_mask("1234567890", "s3cret-pass", out, sizeof out);
    cr_assert_str_eq(out, "****7890");
    card_mask("1234", "s3cret-pass", out, sizeof out);
    cr_assert_str_eq(out, "****1234");
    card_mask("123", "s3cret-pass", out, sizeof out);
    cr_assert_str_eq(out, "****");
    card_mask("", "s3cret-pass", out, sizeof out);
    cr_assert_str_eq(out, "****");
    card_mask(NULL, "s3cret-pass", out, sizeof out);
    cr_assert_str_eq(out, "****");
    card_mask(NULL, NULL, out, sizeof out);
    cr_assert_str_eq(out, "****");
    /* Whole characters, never half of one. */
    card_mask("卡号一二三四", "pw", out, sizeof out);
    cr_assert_str_eq(out, "****一二三四");
    card_mask("卡号", "pw", out, sizeof out);
    cr_assert_str_eq(out, "****");
}

Test(card_import, mask_never_contains_the_password)
{
    char out[32];
    card_mask("", "7890", out, sizeof out);
    cr_assert_null(strstr(out, "7890"));
    card_mask(NULL, "ABCD-EFGH", out, sizeof out);
    cr_assert_null(strstr(out, "ABCD"));
    char small[6];
    card_mask("1234567890", "pw", small, sizeof small);
    cr_assert_str_eq(small, "****7", "truncated to the buffer, never overrun");
}
