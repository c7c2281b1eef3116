/* Mainland China working days: Monday–Friday, minus public holidays, plus the weekend days
 * worked instead (调休), from a data table parsed at start-up. Days are counted in Beijing time
 * (UTC+8, no daylight saving). Pure: the caller passes the table text and every time in. */
#ifndef KM_CALENDAR_H
#define KM_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"

#define CALENDAR_DAYS_MAX 512 /* listed dates: two years of notices hold under 100 */

enum calendar_day_kind { CALENDAR_HOLIDAY = 1, CALENDAR_WORKDAY = 2 };

struct calendar {
    int count;
    int32_t first_day;               /* days since 1970-01-01 of the first covered year's Jan 1 */
    int32_t last_day;                /* Dec 31 of the last covered year */
    int32_t day[CALENDAR_DAYS_MAX];  /* sorted, days since 1970-01-01 */
    uint8_t kind[CALENDAR_DAYS_MAX]; /* enum calendar_day_kind */
};

/* Parse the TSV (comment lines start with '#', a header line "date\tkind\tname", then
 * "YYYY-MM-DD\tholiday|workday\tname"). On error *bad_line is the 1-based line. */
KM_MUST_USE int calendar_parse(const char *text, size_t len, struct calendar *out, int *bad_line,
                               struct km_error *e);

/* Days since 1970-01-01 of the Beijing-time calendar day containing unix_ms. */
int32_t calendar_day_of(int64_t unix_ms);

bool calendar_is_working_day(const struct calendar *cal, int32_t day);

/* The end (23:59:59.999 Beijing time, as unix ms) of the n-th working day after the day of
 * start_ms (n >= 1; the start day itself never counts, so a request at 09:00 on a Monday with
 * n = 1 is due by the end of Tuesday). Outside the table's years plain weekends apply. */
int64_t calendar_add_working_days(const struct calendar *cal, int64_t start_ms, int n);

/* Working days strictly after the day of from_ms up to and including the day of to_ms. */
int calendar_working_days_between(const struct calendar *cal, int64_t from_ms, int64_t to_ms);

#endif
