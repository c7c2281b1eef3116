/* Bulk card-key import: a small RFC 4180 reader that works line by line, per-field checks, and
 * duplicate detection within the file through a hash table on the stack. Every problem is
 * reported with its line so that an admin can fix the file and import it whole. */
#include "domain/card_import.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Open addressing over row indexes; kept at most three quarters full so probes stay short. */
#define DUP_SLOTS 16384
_Static_assert(CARD_IMPORT_ROWS_MAX <= DUP_SLOTS / 4 * 3, "the duplicate table must not fill");
_Static_assert(CARD_IMPORT_ROWS_MAX < UINT16_MAX, "row index + 1 fits a uint16_t slot");
_Static_assert((DUP_SLOTS & (DUP_SLOTS - 1)) == 0, "DUP_SLOTS is a power of two for masking");

struct dup_table {
    uint16_t slot[DUP_SLOTS]; /* row index + 1; 0 is empty */
};

static void add_problem(struct card_import *imp, int line, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_problem(struct card_import *imp, int line, const char *reason, const char *fmt, ...)
{
    km_assert(imp->problem_count >= 0);
    if (imp->problem_count < CARD_IMPORT_PROBLEMS_MAX) {
        struct card_problem *p = &imp->problems[imp->problem_count];
        p->line = line;
        snprintf(p->reason, sizeof p->reason, "%s", reason);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->message, sizeof p->message, fmt, ap);
        va_end(ap);
    }
    /* Counting goes on past the report's end, so the admin knows how much is wrong. */
    if (imp->problem_count < INT_MAX) {
        imp->problem_count++;
    }
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t extra = 0;
        unsigned char low = 0x80;
        unsigned char high = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            low = c == 0xe0 ? 0xa0 : 0x80;  /* overlong */
            high = c == 0xed ? 0x9f : 0xbf; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            low = c == 0xf0 ? 0x90 : 0x80;  /* overlong */
            high = c == 0xf4 ? 0x8f : 0xbf; /* above U+10FFFF */
        } else {
            return false;
        }
        if (len - i <= extra) {
            return false;
        }
        if (s[i + 1] < low || s[i + 1] > high) {
            return false;
        }
        for (size_t k = 2; k <= extra; k++) {
            if (s[i + k] < 0x80 || s[i + k] > 0xbf) {
                return false;
            }
        }
        i += extra + 1;
    }
    return true;
}

static bool has_control_byte(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return true;
        }
    }
    return false;
}

static uint32_t row_hash(const struct card_row *row)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = row->number; *p != '\0'; p++) {
        h = (h ^ (unsigned char)*p) * 16777619u;
    }
    h = (h ^ 0xffu) * 16777619u; /* a byte no field holds, between the two */
    for (const char *p = row->password; *p != '\0'; p++) {
        h = (h ^ (unsigned char)*p) * 16777619u;
    }
    return h;
}

/* The index of an earlier row equal to rows[index], or -1 after remembering rows[index]. */
static int dup_find_or_insert(struct dup_table *t, const struct card_row *rows, int index)
{
    const struct card_row *row = &rows[index];
    uint32_t at = row_hash(row) & (DUP_SLOTS - 1);
    for (int probes = 0;; probes++) {
        km_assert(probes < DUP_SLOTS); /* the table is never full: see DUP_SLOTS */
        uint16_t s = t->slot[at];
        if (s == 0) {
            t->slot[at] = (uint16_t)(index + 1);
            return -1;
        }
        const struct card_row *other = &rows[s - 1];
        if (strcmp(other->number, row->number) == 0 &&
            strcmp(other->password, row->password) == 0) {
            return s - 1;
        }
        at = (at + 1) & (DUP_SLOTS - 1);
    }
}

/* The checks shared by CSV and JSON on a row whose fields are NUL-terminated and within limits.
 * Returns true when the row is good and now counts for duplicates. */
static bool check_row(struct card_import *imp, struct dup_table *dups, int index)
{
    struct card_row *row = &imp->rows[index];
    static const char *const names[2] = {"card number", "password"};
    const char *fields[2] = {row->number, row->password};
    for (int f = 0; f < 2; f++) {
        size_t len = strlen(fields[f]);
        if (!utf8_valid((const unsigned char *)fields[f], len)) {
            add_problem(imp, row->line, "invalid_utf8", "the %s is not valid UTF-8", names[f]);
            return false;
        }
        if (has_control_byte(fields[f], len)) {
            add_problem(imp, row->line, "malformed", "the %s contains a control character",
                        names[f]);
            return false;
        }
    }
    if (row->password[0] == '\0') {
        add_problem(imp, row->line, "empty_secret", "the password is empty");
        return false;
    }
    int first = dup_find_or_insert(dups, imp->rows, index);
    if (first >= 0) {
        add_problem(imp, row->line, "duplicate_in_file", "the same card as line %d",
                    imp->rows[first].line);
        return false;
    }
    return true;
}

/* ---- CSV ---- */

struct csv_field {
    char value[CARD_FIELD_BYTES_MAX + 1];
    size_t len;
    bool too_long;
};

static void field_append(struct csv_field *f, char c)
{
    if (f->len < CARD_FIELD_BYTES_MAX) {
        f->value[f->len++] = c;
    } else {
        f->too_long = true;
    }
}

/* Split one line into at most two fields. Returns NULL, or why the line is malformed. */
static const char *csv_split(const char *p, size_t len, struct csv_field fields[2], int *count)
{
    size_t pos = 0;
    *count = 0;
    for (;;) {
        if (*count == 2) {
            return "more than two fields (expected number,password or password)";
        }
        struct csv_field *f = &fields[(*count)++];
        memset(f, 0, sizeof *f);
        while (pos < len && p[pos] == ' ') {
            pos++;
        }
        if (pos < len && p[pos] == '"') {
            pos++;
            for (;;) {
                if (pos == len) {
                    return "a quoted field is not closed on this line";
                }
                if (p[pos] == '"') {
                    if (pos + 1 < len && p[pos + 1] == '"') {
                        field_append(f, '"');
                        pos += 2;
                        continue;
                    }
                    pos++;
                    break;
                }
                field_append(f, p[pos++]);
            }
            while (pos < len && p[pos] == ' ') {
                pos++;
            }
            if (pos < len && p[pos] != ',') {
                return "text after a closing quote";
            }
        } else {
            /* Spaces are held back until something follows them, so trailing ones are dropped
             * without ever counting against the length limit. */
            size_t spaces = 0;
            while (pos < len && p[pos] != ',') {
                if (p[pos] == '"') {
                    return "a quote inside an unquoted field (quote the whole field)";
                }
                if (p[pos] == ' ') {
                    spaces++;
                    pos++;
                    continue;
                }
                for (; spaces > 0; spaces--) {
                    field_append(f, ' ');
                }
                field_append(f, p[pos++]);
            }
        }
        f->value[f->len] = '\0';
        if (pos == len) {
            return NULL;
        }
        km_assert(p[pos] == ',');
        pos++;
    }
}

static bool ascii_equal_ignoring_case(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
        if (ca != *b) {
            return false;
        }
    }
    return *a == '\0' && *b == '\0';
}

static bool csv_is_header(const struct csv_field fields[2], int count)
{
    return count == 2 &&
           (ascii_equal_ignoring_case(fields[0].value, "number") ||
            ascii_equal_ignoring_case(fields[0].value, "card_number")) &&
           ascii_equal_ignoring_case(fields[1].value, "password");
}

static bool line_is_blank(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != ' ' && p[i] != '\t') {
            return false;
        }
    }
    return true;
}

int card_import_parse_csv(const char *text, size_t len, struct card_import *out, struct km_error *e)
{
    km_assert(text != NULL || len == 0);
    km_assert(out != NULL);
    km_assert(out->rows != NULL);
    out->row_count = 0;
    out->problem_count = 0;
    struct dup_table dups;
    memset(&dups, 0, sizeof dups);

    size_t pos = 0;
    /* A byte-order mark, as spreadsheet programs write, is not part of the first field. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        pos = 3;
    }
    int line = 0;
    int data_lines = 0;
    bool first_content_line = true;
    while (pos < len) {
        const char *start = text + pos;
        const char *newline = memchr(start, '\n', len - pos);
        size_t line_len = newline != NULL ? (size_t)(newline - start) : len - pos;
        pos += line_len + (newline != NULL ? 1 : 0);
        km_assert(line < INT_MAX);
        line++;
        if (line_len > 0 && start[line_len - 1] == '\r') {
            line_len--;
        }
        if (line_is_blank(start, line_len)) {
            continue;
        }
        struct csv_field fields[2];
        int count = 0;
        const char *malformed = csv_split(start, line_len, fields, &count);
        bool was_first = first_content_line;
        first_content_line = false;
        if (was_first && malformed == NULL && csv_is_header(fields, count)) {
            continue;
        }
        if (data_lines == CARD_IMPORT_ROWS_MAX) {
            return km_fail(e, KM_EINVAL, "too_many_rows", "file",
                           "a file holds at most %d card keys; split it (line %d is one too many)",
                           CARD_IMPORT_ROWS_MAX, line);
        }
        data_lines++;
        if (malformed != NULL) {
            add_problem(out, line, "malformed", "%s", malformed);
            continue;
        }
        if (fields[0].too_long || (count == 2 && fields[1].too_long)) {
            add_problem(out, line, "too_long", "the %s is longer than %d bytes",
                        fields[0].too_long && count == 2 ? "card number" : "password",
                        CARD_FIELD_BYTES_MAX);
            continue;
        }
        struct card_row *row = &out->rows[out->row_count];
        row->line = line;
        /* One field is a password alone; two are number then password. */
        static const struct csv_field no_number = {"", 0, false};
        const struct csv_field *number = count == 2 ? &fields[0] : &no_number;
        const struct csv_field *password = count == 2 ? &fields[1] : &fields[0];
        memcpy(row->number, number->value, number->len + 1);
        memcpy(row->password, password->value, password->len + 1);
        /* A NUL byte inside a field would cut it short; reject it before strlen sees it. */
        if (strlen(row->number) != number->len || strlen(row->password) != password->len) {
            add_problem(out, line, "malformed", "a field contains a NUL byte");
            continue;
        }
        if (check_row(out, &dups, out->row_count)) {
            out->row_count++;
        }
    }
    km_assert(out->row_count <= data_lines);
    return 0;
}

/* ---- Rows from JSON ---- */

void card_import_check_rows(struct card_import *imp)
{
    km_assert(imp != NULL);
    km_assert(imp->row_count >= 0);
    km_assert(imp->row_count <= CARD_IMPORT_ROWS_MAX);
    km_assert(imp->row_count == 0 || imp->rows != NULL);
    imp->problem_count = 0;
    struct dup_table dups;
    memset(&dups, 0, sizeof dups);

    /* Good rows move down over rejected ones, keeping their order. */
    int kept = 0;
    for (int i = 0; i < imp->row_count; i++) {
        struct card_row *row = &imp->rows[i];
        bool number_fits = memchr(row->number, '\0', sizeof row->number) != NULL;
        bool password_fits = memchr(row->password, '\0', sizeof row->password) != NULL;
        if (!number_fits || !password_fits) {
            add_problem(imp, row->line, "too_long", "the %s is longer than %d bytes",
                        number_fits ? "password" : "card number", CARD_FIELD_BYTES_MAX);
            continue;
        }
        if (kept != i) {
            imp->rows[kept] = *row;
        }
        if (check_row(imp, &dups, kept)) {
            kept++;
        }
    }
    imp->row_count = kept;
}

/* ---- Display ---- */

void card_mask(const char *number, const char *password, char *out, size_t out_len)
{
    km_assert(out != NULL);
    km_assert(out_len > 0);
    (void)password; /* taken so that no caller is tempted to build a mask of its own */
    if (number == NULL) {
        snprintf(out, out_len, "****");
        return;
    }
    /* The last four characters, stepping back over UTF-8 continuation bytes. */
    size_t at = strlen(number);
    int characters = 0;
    while (at > 0 && characters < 4) {
        at--;
        if (((unsigned char)number[at] & 0xc0) != 0x80) {
            characters++;
        }
    }
    if (characters < 4) {
        snprintf(out, out_len, "****");
        return;
    }
    snprintf(out, out_len, "****%s", number + at);
}
