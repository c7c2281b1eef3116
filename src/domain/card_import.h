/* Parsing a bulk card-key import (CSV or JSON) into rows, with a report by line: every malformed
 * row and every duplicate within the file is named, so an admin fixes the file and imports it
 * whole. Pure: the text comes in, rows and problems go out; encryption and the check against
 * keys already in stock happen in the service layer. */
#ifndef KM_CARD_IMPORT_H
#define KM_CARD_IMPORT_H

#include <stddef.h>

#include "core/check.h"
#include "core/err.h"

#define CARD_IMPORT_ROWS_MAX 10000    /* one request; bigger stock comes in several files */
#define CARD_FIELD_BYTES_MAX 128      /* card numbers and passwords are far shorter */
#define CARD_IMPORT_PROBLEMS_MAX 100  /* a report longer than this helps nobody; the count goes on */

struct card_row {
    int line;                               /* 1-based line (CSV) or element index + 1 (JSON) */
    char number[CARD_FIELD_BYTES_MAX + 1];  /* card number; may be "" for password-only keys */
    char password[CARD_FIELD_BYTES_MAX + 1];/* the secret */
};

struct card_problem {
    int line;
    char reason[32];   /* "malformed", "empty_secret", "too_long", "duplicate_in_file", "invalid_utf8" */
    char message[128];
};

struct card_import {
    int row_count;
    struct card_row *rows;           /* caller-provided array of CARD_IMPORT_ROWS_MAX */
    int problem_count;               /* all problems, even those past PROBLEMS_MAX */
    struct card_problem problems[CARD_IMPORT_PROBLEMS_MAX];
};

/* CSV: one key per line, "number,password" or just "password"; an optional header line
 * "number,password" or "card_number,password"; blank lines skipped; fields may be quoted with
 * "" escapes; CRLF accepted. Returns 0 when parsed (problems may still be reported in *out),
 * or -KM_EINVAL when the text as a whole is unusable (too many rows). rows receives only the
 * lines without a problem, in file order. */
KM_MUST_USE int card_import_parse_csv(const char *text, size_t len, struct card_import *out,
                                      struct km_error *e);

/* The same report for rows already extracted from JSON ([{"number":…,"password":…}, …]): checks
 * each field and duplicates. The caller fills rows/row_count first; problems are reported
 * afresh and rows with a problem are removed, the rest keeping their order. */
void card_import_check_rows(struct card_import *imp);

/* Mask for display: the last 4 characters of the number ("****1234"), the password never;
 * "****" alone when the number is NULL, empty or shorter than 4 characters. */
void card_mask(const char *number, const char *password, char *out, size_t out_len);

#endif
