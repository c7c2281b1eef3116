/* Unit tests for domain/calendar against the real table in data/cn-calendar.tsv (tests run from
 * the repository root): Spring Festival 2026, weekends worked instead (调休), Beijing-time day
 * boundaries, years outside the table, and every way a table line can be wrong. */
/* timegm (a GNU extension, -D_GNU_SOURCE) computes expected instants independently of
 * calendar.c. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "domain/calendar.h"

#define CALENDAR_PATH "data/cn-calendar.tsv"
#define HOUR_MS INT64_C(3600000)

static void load_real_calendar(struct calendar *cal)
{
    static char text[65536];
    FILE *f = fopen(CALENDAR_PATH, "rb");
    cr_assert_not_null(f, "cannot open %s (run the tests from the repository root)", CALENDAR_PATH);
    size_t len = fread(text, 1, sizeof text, f);
    cr_assert_lt(len, sizeof text, "the calendar file is unexpectedly large");
    fclose(f);
    struct km_error e = {0};
    int bad_line = -1;
    int rc = calendar_parse(text, len, cal, &bad_line, &e);
    cr_assert_eq(rc, 0, "the real calendar failed to parse at line %d: %s", bad_line, e.message);
}

static time_t utc_seconds(int year, int month, int day, int hour, int minute)
{
    struct tm tm = {0};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    return timegm(&tm);
}

/* Days since 1970-01-01 of a calendar date. */
static int32_t day_number(int year, int month, int day)
{
    return (int32_t)(utc_seconds(year, month, day, 0, 0) / 86400);
}

/* The unix ms of a wall-clock time in Beijing (UTC+8). */
static int64_t beijing_ms(int year, int month, int day, int hour, int minute)
{
    return (int64_t)utc_seconds(year, month, day, hour, minute) * 1000 - 8 * HOUR_MS;
}

/* The unix ms of 23:59:59.999 Beijing time on a date: what a deadline on that day means. */
static int64_t end_of_beijing_day_ms(int year, int month, int day)
{
    return beijing_ms(year, month, day, 0, 0) + 24 * HOUR_MS - 1;
}

static bool working(const struct calendar *cal, int year, int month, int day)
{
    return calendar_is_working_day(cal, day_number(year, month, day));
}

/* Parse text expected to fail; returns the reported line. */
static int parse_bad(const char *text, struct km_error *e)
{
    static struct calendar cal;
    int bad_line = -1;
    int rc = calendar_parse(text, strlen(text), &cal, &bad_line, e);
    cr_assert_eq(rc, -KM_EINVAL, "expected a failure for:\n%s", text);
    cr_assert_eq(e->code, KM_EINVAL);
    cr_assert_str_eq(e->param, "calendar");
    return bad_line;
}

#define HEADER "# a comment\ndate\tkind\tname\n"

Test(calendar, real_table_parses_and_covers_2025_and_2026)
{
    struct calendar cal;
    load_real_calendar(&cal);
    cr_assert_eq(cal.count, 72);
    cr_assert_eq(cal.first_day, day_number(2025, 1, 1));
    cr_assert_eq(cal.last_day, day_number(2026, 12, 31));
    for (int i = 1; i < cal.count; i++) {
        cr_assert_lt(cal.day[i - 1], cal.day[i]);
    }
}

Test(calendar, spring_festival_2026_days)
{
    struct calendar cal;
    load_real_calendar(&cal);
    cr_assert(working(&cal, 2026, 2, 13), "Friday before the festival");
    cr_assert(working(&cal, 2026, 2, 14), "Saturday worked instead");
    for (int d = 15; d <= 23; d++) {
        cr_assert_not(working(&cal, 2026, 2, d), "2026-02-%d is a Spring Festival holiday", d);
    }
    cr_assert(working(&cal, 2026, 2, 24));
    cr_assert(working(&cal, 2026, 2, 28), "Saturday worked instead");
    cr_assert_not(working(&cal, 2026, 3, 1), "an ordinary Sunday");
}

Test(calendar, spring_festival_2026_deadlines_for_1_3_7_working_days)
{
    struct calendar cal;
    load_real_calendar(&cal);
    int64_t friday_morning = beijing_ms(2026, 2, 13, 10, 0);
    /* Saturday the 14th is worked, so it counts. */
    cr_assert_eq(calendar_add_working_days(&cal, friday_morning, 1),
                 end_of_beijing_day_ms(2026, 2, 14));
    /* Then nine days of holiday: 14th, 24th, 25th. */
    cr_assert_eq(calendar_add_working_days(&cal, friday_morning, 3),
                 end_of_beijing_day_ms(2026, 2, 25));
    /* 14, 24, 25, 26, 27, Saturday 28 (worked), Monday 2 March. */
    cr_assert_eq(calendar_add_working_days(&cal, friday_morning, 7),
                 end_of_beijing_day_ms(2026, 3, 2));
    /* A request during the holiday waits for the first day back. */
    cr_assert_eq(calendar_add_working_days(&cal, beijing_ms(2026, 2, 17, 12, 0), 1),
                 end_of_beijing_day_ms(2026, 2, 24));
    cr_assert_eq(
        calendar_working_days_between(&cal, friday_morning, beijing_ms(2026, 2, 25, 18, 0)), 3);
}

Test(calendar, weekends_worked_instead_are_working_days)
{
    struct calendar cal;
    load_real_calendar(&cal);
    cr_assert(working(&cal, 2025, 1, 26), "Sunday before Spring Festival 2025");
    cr_assert(working(&cal, 2025, 2, 8), "Saturday after Spring Festival 2025");
    cr_assert(working(&cal, 2025, 9, 28), "Sunday before National Day 2025");
    cr_assert(working(&cal, 2026, 1, 4), "Sunday after New Year 2026");
    cr_assert(working(&cal, 2026, 5, 9), "Saturday after Labour Day 2026");
    cr_assert(working(&cal, 2026, 10, 10), "Saturday after National Day 2026");
    /* A holiday that falls on a weekend is still a rest day. */
    cr_assert_not(working(&cal, 2026, 1, 3));
    /* New Year 2026: Thursday and Friday off, Saturday off, Sunday worked. */
    int64_t new_years_eve = beijing_ms(2025, 12, 31, 9, 0);
    cr_assert_eq(calendar_add_working_days(&cal, new_years_eve, 1),
                 end_of_beijing_day_ms(2026, 1, 4));
    cr_assert_eq(calendar_add_working_days(&cal, new_years_eve, 2),
                 end_of_beijing_day_ms(2026, 1, 5));
}

Test(calendar, plain_weekends_and_holidays_on_weekdays)
{
    struct calendar cal;
    load_real_calendar(&cal);
    cr_assert_not(working(&cal, 2026, 3, 7), "an ordinary Saturday");
    cr_assert_not(working(&cal, 2026, 3, 8), "an ordinary Sunday");
    cr_assert(working(&cal, 2026, 3, 9), "an ordinary Monday");
    cr_assert_not(working(&cal, 2025, 10, 8), "a Wednesday in the National Day holiday");
    int64_t friday = beijing_ms(2026, 3, 6, 9, 0);
    cr_assert_eq(calendar_add_working_days(&cal, friday, 1), end_of_beijing_day_ms(2026, 3, 9));
    cr_assert_eq(calendar_add_working_days(&cal, friday, 3), end_of_beijing_day_ms(2026, 3, 11));
    cr_assert_eq(calendar_add_working_days(&cal, friday, 7), end_of_beijing_day_ms(2026, 3, 17));
    int64_t monday = beijing_ms(2026, 3, 9, 9, 0);
    cr_assert_eq(calendar_add_working_days(&cal, monday, 1), end_of_beijing_day_ms(2026, 3, 10),
                 "the start day itself never counts");
}

Test(calendar, day_boundaries_are_beijing_midnight)
{
    /* 2026-01-01T16:30:00Z is 00:30 on 2 January in Beijing. */
    int64_t utc_afternoon = (int64_t)utc_seconds(2026, 1, 1, 16, 30) * 1000;
    cr_assert_eq(calendar_day_of(utc_afternoon), day_number(2026, 1, 2));
    int64_t last_ms_of_jan_1 = (int64_t)utc_seconds(2026, 1, 1, 16, 0) * 1000 - 1;
    cr_assert_eq(calendar_day_of(last_ms_of_jan_1), day_number(2026, 1, 1));
    cr_assert_eq(calendar_day_of(last_ms_of_jan_1 + 1), day_number(2026, 1, 2));
    /* The epoch itself was 08:00 on 1 January 1970 in Beijing, and earlier instants work. */
    cr_assert_eq(calendar_day_of(0), 0);
    cr_assert_eq(calendar_day_of(-8 * HOUR_MS), 0);
    cr_assert_eq(calendar_day_of(-8 * HOUR_MS - 1), -1);
}

Test(calendar, a_request_at_23_59_and_one_at_00_01_fall_on_different_days)
{
    struct calendar cal;
    load_real_calendar(&cal);
    /* Thursday 5 March 2026, 23:59 Beijing (15:59Z): due by the end of Friday. */
    int64_t thursday_late = beijing_ms(2026, 3, 5, 23, 59);
    cr_assert_eq(thursday_late, (int64_t)utc_seconds(2026, 3, 5, 15, 59) * 1000);
    cr_assert_eq(calendar_add_working_days(&cal, thursday_late, 1),
                 end_of_beijing_day_ms(2026, 3, 6));
    /* Two minutes later it is Friday in Beijing, though still Thursday in UTC. */
    int64_t friday_early = beijing_ms(2026, 3, 6, 0, 1);
    cr_assert_eq(calendar_add_working_days(&cal, friday_early, 1),
                 end_of_beijing_day_ms(2026, 3, 9));
    /* The deadline is 15:59:59.999Z on the due day. */
    cr_assert_eq(end_of_beijing_day_ms(2026, 3, 9),
                 (int64_t)utc_seconds(2026, 3, 9, 16, 0) * 1000 - 1);
    /* 2026-01-04T16:30Z is Monday 5 January in Beijing: one working day later is Tuesday. */
    int64_t monday_early = (int64_t)utc_seconds(2026, 1, 4, 16, 30) * 1000;
    cr_assert_eq(calendar_add_working_days(&cal, monday_early, 1),
                 end_of_beijing_day_ms(2026, 1, 6));
    cr_assert_eq(calendar_working_days_between(&cal, thursday_late, friday_early), 1);
    cr_assert_eq(calendar_working_days_between(&cal, friday_early, beijing_ms(2026, 3, 6, 23, 59)),
                 0);
}

Test(calendar, days_outside_the_table_follow_plain_weekends)
{
    struct calendar cal;
    load_real_calendar(&cal);
    /* 1 January 2027 and 1 October 2024 are holidays in fact, but not in this table. */
    cr_assert(working(&cal, 2027, 1, 1));
    cr_assert(working(&cal, 2024, 10, 1));
    cr_assert_not(working(&cal, 2027, 1, 2), "a Saturday");
    cr_assert_not(working(&cal, 2024, 12, 29), "a Sunday");
    /* Thursday 31 December 2026 to Friday 1 and Monday 4 January 2027, across the table's end. */
    int64_t new_years_eve = beijing_ms(2026, 12, 31, 9, 0);
    cr_assert_eq(calendar_add_working_days(&cal, new_years_eve, 1),
                 end_of_beijing_day_ms(2027, 1, 1));
    cr_assert_eq(calendar_add_working_days(&cal, new_years_eve, 3),
                 end_of_beijing_day_ms(2027, 1, 5));
    /* Across the table's start: Tuesday 31 December 2024, then 1 January 2025 is a holiday. */
    int64_t eve_2024 = beijing_ms(2024, 12, 31, 9, 0);
    cr_assert_eq(calendar_add_working_days(&cal, eve_2024, 1), end_of_beijing_day_ms(2025, 1, 2));
    cr_assert_eq(calendar_add_working_days(&cal, beijing_ms(2024, 12, 27, 9, 0), 7),
                 end_of_beijing_day_ms(2025, 1, 8));
    cr_assert_eq(calendar_add_working_days(&cal, beijing_ms(1999, 12, 31, 9, 0), 1),
                 end_of_beijing_day_ms(2000, 1, 3));
}

Test(calendar, working_days_between_edges)
{
    struct calendar cal;
    load_real_calendar(&cal);
    int64_t t = beijing_ms(2026, 3, 9, 10, 0);
    cr_assert_eq(calendar_working_days_between(&cal, t, t), 0);
    cr_assert_eq(calendar_working_days_between(&cal, t, t - 30 * 24 * HOUR_MS), 0,
                 "a range running backwards holds no days");
    cr_assert_eq(calendar_working_days_between(&cal, t, t + 7 * 24 * HOUR_MS), 5);
    /* All of 2026: 261 weekdays, minus 19 holidays that fall on weekdays, plus 6 weekend days
     * worked; cross-checked against a day-by-day count. */
    int64_t last_of_2025 = beijing_ms(2025, 12, 31, 12, 0);
    int64_t last_of_2026 = beijing_ms(2026, 12, 31, 12, 0);
    int expected = 0;
    for (int32_t d = day_number(2026, 1, 1); d <= day_number(2026, 12, 31); d++) {
        expected += calendar_is_working_day(&cal, d) ? 1 : 0;
    }
    cr_assert_eq(calendar_working_days_between(&cal, last_of_2025, last_of_2026), expected);
    cr_assert_eq(expected, 261 - 19 + 6);
}

Test(calendar, add_and_between_agree_on_every_start_day)
{
    struct calendar cal;
    load_real_calendar(&cal);
    static const int counts[] = {1, 2, 3, 5, 7, 10};
    /* Every day from a month before the table to a month after it, at two times of day. */
    for (int32_t d = day_number(2024, 12, 1); d <= day_number(2027, 2, 1); d++) {
        for (int half = 0; half < 2; half++) {
            int64_t start = (int64_t)d * 86400000 - 8 * HOUR_MS + (half ? 23 : 0) * HOUR_MS;
            cr_assert_eq(calendar_day_of(start), d);
            for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
                int64_t due = calendar_add_working_days(&cal, start, counts[i]);
                int32_t due_day = calendar_day_of(due);
                cr_assert_eq(calendar_day_of(due + 1), due_day + 1, "due at the end of a day");
                cr_assert(calendar_is_working_day(&cal, due_day), "due on a working day");
                cr_assert_eq(calendar_working_days_between(&cal, start, due), counts[i]);
                cr_assert_eq(calendar_working_days_between(&cal, start, due - 24 * HOUR_MS),
                             counts[i] - 1);
            }
        }
    }
}

Test(calendar, crlf_blank_lines_and_no_final_newline_are_accepted)
{
    static struct calendar cal;
    const char *text = "# comment\r\n\r\ndate\tkind\tname\r\n2026-02-14\tworkday\tSpring "
                       "Festival\r\n\r\n# more\r\n2026-02-16\tholiday\t春节";
    struct km_error e = {0};
    int bad_line = -1;
    cr_assert_eq(calendar_parse(text, strlen(text), &cal, &bad_line, &e), 0, "%s", e.message);
    cr_assert_eq(cal.count, 2);
    cr_assert_eq(cal.day[0], day_number(2026, 2, 14));
    cr_assert_eq(cal.kind[0], CALENDAR_WORKDAY);
    cr_assert_eq(cal.kind[1], CALENDAR_HOLIDAY);
    cr_assert_eq(cal.first_day, day_number(2026, 1, 1));
    cr_assert_eq(cal.last_day, day_number(2026, 12, 31));
}

Test(calendar, malformed_lines_are_reported_with_their_line_number)
{
    static const struct {
        const char *text;
        int line;
    } cases[] = {
        {HEADER "2026-13-01\tholiday\tX\n", 3},
        {HEADER "2026-01-01\tholiday\tNew Year\n2026-02-30\tholiday\tX\n", 4},
        {HEADER "2025-02-29\tholiday\tnot a leap year\n", 3},
        {HEADER "2026-00-10\tholiday\tX\n", 3},
        {HEADER "2026-01-00\tholiday\tX\n", 3},
        {HEADER "2026-1-01\tholiday\tX\n", 3},
        {HEADER "2026/01/01\tholiday\tX\n", 3},
        {HEADER "2O26-01-01\tholiday\tX\n", 3},
        {HEADER "2026-01-01 holiday New Year\n", 3},
        {HEADER "2026-01-01\tHoliday\tNew Year\n", 3},
        {HEADER "2026-01-01\tvacation\tNew Year\n", 3},
        {HEADER "2026-01-01\tholiday\n", 3},
        {HEADER "2026-01-01\tholiday\t\n", 3},
        {HEADER "2026-01-01\tholiday\tNew Year\textra\n", 3},
        {HEADER "2026-01-01\n", 3},
        {HEADER "1969-12-31\tholiday\tX\n", 3},
        {HEADER "\n\n2026-01-01\tholiday\tNew Year\n 2026-01-02\tholiday\tX\n", 6},
        /* A workday on a Monday to Friday changes nothing, so it must be a typo. */
        {HEADER "2026-01-05\tworkday\tX\n", 3},
        /* The header is required before any date. */
        {"# comment\n2026-01-01\tholiday\tNew Year\n", 2},
        {"date,kind,name\n", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct km_error e = {0};
        int line = parse_bad(cases[i].text, &e);
        cr_assert_eq(line, cases[i].line, "case %zu: reported line %d, expected %d (%s)", i, line,
                     cases[i].line, e.message);
        char expected_prefix[32];
        snprintf(expected_prefix, sizeof expected_prefix, "calendar line %d:", cases[i].line);
        cr_assert_eq(strncmp(e.message, expected_prefix, strlen(expected_prefix)), 0,
                     "case %zu: the message names the line: %s", i, e.message);
    }
}

Test(calendar, unsorted_and_duplicate_dates_are_rejected)
{
    struct km_error e = {0};
    int line = parse_bad(HEADER "2026-01-02\tholiday\tX\n2026-01-01\tholiday\tX\n", &e);
    cr_assert_eq(line, 4);
    cr_assert(strstr(e.message, "ascending") != NULL, "%s", e.message);
    line = parse_bad(HEADER "2026-01-01\tholiday\tX\n2026-01-02\tholiday\tX\n"
                            "2026-01-02\tholiday\tY\n",
                     &e);
    cr_assert_eq(line, 5);
    cr_assert(strstr(e.message, "twice") != NULL, "%s", e.message);
    /* Out of order across years, too. */
    line = parse_bad(HEADER "2026-01-01\tholiday\tX\n2025-12-31\tholiday\tX\n", &e);
    cr_assert_eq(line, 4);
}

Test(calendar, empty_tables_are_rejected)
{
    struct km_error e = {0};
    parse_bad("", &e);
    parse_bad("# only a comment\n", &e);
    int line = parse_bad(HEADER, &e);
    cr_assert_eq(line, 2, "reported at the last line read");
    cr_assert(strstr(e.message, "no dates") != NULL, "%s", e.message);
}

Test(calendar, a_nul_byte_is_rejected)
{
    static struct calendar cal;
    static const char text[] = "date\tkind\tname\n2026-01-01\tholi\0day\tX\n";
    struct km_error e = {0};
    int bad_line = 0;
    cr_assert_eq(calendar_parse(text, sizeof text - 1, &cal, &bad_line, &e), -KM_EINVAL);
    cr_assert_eq(bad_line, 2);
}

Test(calendar, more_than_the_maximum_dates_is_rejected)
{
    static char text[CALENDAR_DAYS_MAX * 32 + 64];
    static struct calendar cal;
    size_t len = (size_t)snprintf(text, sizeof text, "date\tkind\tname\n");
    /* Consecutive holidays from 2030-01-01: one more than the table holds. */
    time_t start = utc_seconds(2030, 1, 1, 0, 0);
    for (int i = 0; i <= CALENDAR_DAYS_MAX; i++) {
        time_t t = start + (time_t)i * 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        len += strftime(text + len, sizeof text - len, "%Y-%m-%d\tholiday\tX\n", &tm);
    }
    struct km_error e = {0};
    int bad_line = 0;
    cr_assert_eq(calendar_parse(text, len, &cal, &bad_line, &e), -KM_EINVAL);
    cr_assert_eq(bad_line, CALENDAR_DAYS_MAX + 2, "the first line past the limit");
    /* Exactly the maximum is fine. */
    char *last_line = text + len - 1;
    while (last_line > text && last_line[-1] != '\n') {
        last_line--;
    }
    cr_assert_eq(calendar_parse(text, (size_t)(last_line - text), &cal, &bad_line, &e), 0, "%s",
                 e.message);
    cr_assert_eq(cal.count, CALENDAR_DAYS_MAX);
    cr_assert_eq(cal.last_day, day_number(2031, 12, 31));
}
