/* Working days in mainland China: the State Council's holiday table parsed once, then weekday
 * arithmetic in Beijing time corrected by the table. Day numbers count from 1970-01-01 so that
 * dates compare as integers; the conversion is Howard Hinnant's days_from_civil. */
#include "domain/calendar.h"

#include <limits.h>
#include <string.h>

#define MS_PER_DAY INT64_C(86400000)
#define BEIJING_OFFSET_MS INT64_C(28800000) /* UTC+8 all year: China has no daylight saving */
#define CALENDAR_YEAR_MIN 1970              /* no notice predates the epoch we count from */
#define CALENDAR_YEAR_MAX 9999              /* four digits in the file's date format */
/* Bounds the day-by-day walk in calendar_add_working_days: every table entry can cost one
 * extra day, and each week holds five weekdays. */
#define CALENDAR_ADD_DAYS_MAX 36600 /* a hundred years of working days is no deadline */

/* Days since 1970-01-01 of a proleptic Gregorian date (valid for any year >= 0). */
static int32_t days_from_civil(int year, int month, int day)
{
    int y = month <= 2 ? year - 1 : year;
    int era = y / 400;
    int year_of_era = y - era * 400;
    int month_index = month > 2 ? month - 3 : month + 9;
    int day_of_year = (153 * month_index + 2) / 5 + day - 1;
    int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return (int32_t)(era * 146097 + day_of_era - 719468);
}

static bool is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    km_assert(month >= 1);
    km_assert(month <= 12);
    return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

/* 0 = Monday ... 6 = Sunday; day 0 (1970-01-01) was a Thursday. */
static int weekday_of(int32_t day)
{
    int mod = (int)(day % 7);
    if (mod < 0) {
        mod += 7;
    }
    return (mod + 3) % 7;
}

static bool is_weekend(int32_t day)
{
    return weekday_of(day) >= 5;
}

/* The year a day number falls in, for the table's coverage. */
static int year_of(int32_t day)
{
    /* Hinnant's civil_from_days, keeping only the year. */
    int32_t z = day + 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    int32_t day_of_era = z - era * 146097;
    int32_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int32_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int32_t month_index = (5 * day_of_year + 2) / 153;
    int32_t month = month_index < 10 ? month_index + 3 : month_index - 9;
    return (int)(year_of_era + era * 400 + (month <= 2 ? 1 : 0));
}

/* One line of the text, without its newline and an optional carriage return. */
struct line {
    const char *start;
    size_t len;
};

static bool line_equals(struct line l, const char *s)
{
    size_t n = strlen(s);
    return l.len == n && memcmp(l.start, s, n) == 0;
}

static bool line_is_blank(struct line l)
{
    for (size_t i = 0; i < l.len; i++) {
        if (l.start[i] != ' ' && l.start[i] != '\t') {
            return false;
        }
    }
    return true;
}

static int read_digits(const char *p, int count)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }
        value = value * 10 + (p[i] - '0');
    }
    return value;
}

static int fail_line(struct km_error *e, int line_number, const char *what)
{
    return km_fail(e, KM_EINVAL, "calendar_invalid", "calendar", "calendar line %d: %s",
                   line_number, what);
}

/* "YYYY-MM-DD\tholiday|workday\tname" into a day number and kind. */
static int parse_row(struct line l, int line_number, int32_t *day, uint8_t *kind,
                     struct km_error *e)
{
    if (l.len < 11 || l.start[4] != '-' || l.start[7] != '-' || l.start[10] != '\t') {
        return fail_line(e, line_number, "expected YYYY-MM-DD, a tab, the kind, a tab, a name");
    }
    int year = read_digits(l.start, 4);
    int month = read_digits(l.start + 5, 2);
    int day_of_month = read_digits(l.start + 8, 2);
    if (year < 0 || month < 0 || day_of_month < 0) {
        return fail_line(e, line_number, "the date has a non-digit in it");
    }
    if (year < CALENDAR_YEAR_MIN || year > CALENDAR_YEAR_MAX) {
        return fail_line(e, line_number, "the year is out of range");
    }
    if (month < 1 || month > 12 || day_of_month < 1 || day_of_month > days_in_month(year, month)) {
        return fail_line(e, line_number, "no such date");
    }
    const char *rest = l.start + 11;
    size_t rest_len = l.len - 11;
    const char *tab = memchr(rest, '\t', rest_len);
    if (tab == NULL) {
        return fail_line(e, line_number, "expected a tab and a name after the kind");
    }
    size_t kind_len = (size_t)(tab - rest);
    if (kind_len == 7 && memcmp(rest, "holiday", 7) == 0) {
        *kind = CALENDAR_HOLIDAY;
    } else if (kind_len == 7 && memcmp(rest, "workday", 7) == 0) {
        *kind = CALENDAR_WORKDAY;
    } else {
        return fail_line(e, line_number, "the kind must be holiday or workday");
    }
    size_t name_len = rest_len - kind_len - 1;
    if (name_len == 0) {
        return fail_line(e, line_number, "the name is empty");
    }
    if (memchr(tab + 1, '\t', name_len) != NULL) {
        return fail_line(e, line_number, "too many columns");
    }
    *day = days_from_civil(year, month, day_of_month);
    /* A weekday is a working day already; listing it as one means the table is wrong. */
    if (*kind == CALENDAR_WORKDAY && !is_weekend(*day)) {
        return fail_line(e, line_number, "a workday listed on a Monday to Friday");
    }
    return 0;
}

int calendar_parse(const char *text, size_t len, struct calendar *out, int *bad_line,
                   struct km_error *e)
{
    km_assert(text != NULL || len == 0);
    km_assert(out != NULL);
    memset(out, 0, sizeof *out);
    int ignored_line = 0;
    if (bad_line == NULL) {
        bad_line = &ignored_line;
    }
    *bad_line = 0;

    bool seen_header = false;
    int line_number = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *newline = memchr(text + pos, '\n', len - pos);
        size_t end = newline != NULL ? (size_t)(newline - text) : len;
        struct line l = {text + pos, end - pos};
        pos = newline != NULL ? end + 1 : len;
        if (line_number == INT_MAX) {
            *bad_line = line_number;
            return fail_line(e, line_number, "too many lines");
        }
        line_number++;
        if (l.len > 0 && l.start[l.len - 1] == '\r') {
            l.len--;
        }
        if (memchr(l.start, '\0', l.len) != NULL) {
            *bad_line = line_number;
            return fail_line(e, line_number, "a NUL byte");
        }
        if (line_is_blank(l) || l.start[0] == '#') {
            continue;
        }
        if (!seen_header) {
            if (!line_equals(l, "date\tkind\tname")) {
                *bad_line = line_number;
                return fail_line(e, line_number, "expected the header date<TAB>kind<TAB>name");
            }
            seen_header = true;
            continue;
        }
        if (out->count == CALENDAR_DAYS_MAX) {
            *bad_line = line_number;
            return fail_line(e, line_number, "more dates than CALENDAR_DAYS_MAX");
        }
        int32_t day = 0;
        uint8_t kind = 0;
        int rc = parse_row(l, line_number, &day, &kind, e);
        if (rc != 0) {
            *bad_line = line_number;
            return rc;
        }
        if (out->count > 0 && day == out->day[out->count - 1]) {
            *bad_line = line_number;
            return fail_line(e, line_number, "the date is listed twice");
        }
        if (out->count > 0 && day < out->day[out->count - 1]) {
            *bad_line = line_number;
            return fail_line(e, line_number, "the dates are not in ascending order");
        }
        out->day[out->count] = day;
        out->kind[out->count] = kind;
        out->count++;
    }
    if (out->count == 0) {
        *bad_line = line_number;
        return km_fail(e, KM_EINVAL, "calendar_invalid", "calendar", "the calendar lists no dates");
    }
    out->first_day = days_from_civil(year_of(out->day[0]), 1, 1);
    out->last_day = days_from_civil(year_of(out->day[out->count - 1]), 12, 31);
    km_assert(out->first_day <= out->day[0]);
    km_assert(out->last_day >= out->day[out->count - 1]);
    return 0;
}

int32_t calendar_day_of(int64_t unix_ms)
{
    /* Floor division, then the offset added to the remainder, so no sum can overflow. */
    int64_t day = unix_ms / MS_PER_DAY;
    int64_t rest_ms = unix_ms % MS_PER_DAY;
    if (rest_ms < 0) {
        rest_ms += MS_PER_DAY;
        day--;
    }
    if (rest_ms + BEIJING_OFFSET_MS >= MS_PER_DAY) {
        day++;
    }
    km_assert(day >= INT32_MIN);
    km_assert(day <= INT32_MAX);
    return (int32_t)day;
}

/* The table entry for day, or -1. */
static int table_find(const struct calendar *cal, int32_t day)
{
    int low = 0;
    int high = cal->count - 1;
    while (low <= high) {
        int mid = low + (high - low) / 2;
        if (cal->day[mid] == day) {
            return mid;
        }
        if (cal->day[mid] < day) {
            low = mid + 1;
        } else {
            high = mid - 1;
        }
    }
    return -1;
}

bool calendar_is_working_day(const struct calendar *cal, int32_t day)
{
    km_assert(cal != NULL);
    km_assert(cal->count >= 0);
    km_assert(cal->count <= CALENDAR_DAYS_MAX);
    int i = table_find(cal, day);
    if (i >= 0) {
        return cal->kind[i] == CALENDAR_WORKDAY;
    }
    return !is_weekend(day);
}

/* 23:59:59.999 Beijing time on day, as unix ms. */
static int64_t end_of_day_ms(int32_t day)
{
    return ((int64_t)day + 1) * MS_PER_DAY - BEIJING_OFFSET_MS - 1;
}

int64_t calendar_add_working_days(const struct calendar *cal, int64_t start_ms, int n)
{
    km_assert(cal != NULL);
    km_assert(n >= 1);
    km_assert(n <= CALENDAR_ADD_DAYS_MAX);
    int32_t day = calendar_day_of(start_ms);
    int found = 0;
    /* Five working days in every seven, less at most one per table entry. */
    int64_t steps_max = (int64_t)n * 7 / 5 + 7 + CALENDAR_DAYS_MAX;
    for (int64_t step = 0; found < n; step++) {
        km_assert(step < steps_max);
        km_assert(day < INT32_MAX);
        day++;
        if (calendar_is_working_day(cal, day)) {
            found++;
        }
    }
    return end_of_day_ms(day);
}

/* Monday-to-Friday days in [first, last], by whole weeks and then the few left over. */
static int64_t weekdays_in(int32_t first, int32_t last)
{
    int64_t span = (int64_t)last - first + 1;
    int64_t count = span / 7 * 5;
    int64_t left = span % 7;
    for (int64_t i = 0; i < left; i++) {
        if (!is_weekend((int32_t)(last - i))) {
            count++;
        }
    }
    return count;
}

int calendar_working_days_between(const struct calendar *cal, int64_t from_ms, int64_t to_ms)
{
    km_assert(cal != NULL);
    int32_t from_day = calendar_day_of(from_ms);
    int32_t to_day = calendar_day_of(to_ms);
    if (to_day <= from_day) {
        return 0;
    }
    /* Plain weekdays, then the table's corrections: a holiday on a weekday is one fewer, a
     * weekend worked instead is one more, and a holiday on a weekend changes nothing. */
    int64_t count = weekdays_in(from_day + 1, to_day);
    for (int i = 0; i < cal->count; i++) {
        int32_t day = cal->day[i];
        if (day <= from_day || day > to_day) {
            continue;
        }
        bool weekend = is_weekend(day);
        if (cal->kind[i] == CALENDAR_HOLIDAY && !weekend) {
            count--;
        } else if (cal->kind[i] == CALENDAR_WORKDAY && weekend) {
            count++;
        }
    }
    km_assert(count >= 0);
    km_assert(count <= INT_MAX);
    return (int)count;
}
