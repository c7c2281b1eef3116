/* Real or test time behind one function; the test clock is an atomic so readers on any thread
 * see a consistent value without a lock. */
#include "core/clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/check.h"

static atomic_bool test_mode;
static _Atomic int64_t test_now_ms;

void clock_use_test(int64_t start_ms)
{
    atomic_store(&test_now_ms, start_ms);
    atomic_store(&test_mode, true);
}

bool clock_is_test(void)
{
    return atomic_load(&test_mode);
}

int64_t clock_now_ms(void)
{
    if (atomic_load(&test_mode)) {
        return atomic_load(&test_now_ms);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_advance(int64_t delta_ms)
{
    km_assert(atomic_load(&test_mode));
    km_assert(delta_ms >= 0);
    return atomic_fetch_add(&test_now_ms, delta_ms) + delta_ms;
}

int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_ms(void)
{
    return clock_mono_us() / 1000;
}

static void put_digits(char *out, int value, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
}

char *clock_format(int64_t unix_ms, char *buf, size_t buf_len)
{
    km_assert(buf_len >= 25);
    time_t secs = (time_t)(unix_ms / 1000);
    int ms = (int)(unix_ms % 1000);
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    /* By hand, not snprintf: order views format a few dozen times each, and it showed. */
    int year = tm.tm_year + 1900;
    if (year < 0 || year > 9999) {
        snprintf(buf, buf_len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
        return buf;
    }
    put_digits(buf, year, 4);
    buf[4] = '-';
    put_digits(buf + 5, tm.tm_mon + 1, 2);
    buf[7] = '-';
    put_digits(buf + 8, tm.tm_mday, 2);
    buf[10] = 'T';
    put_digits(buf + 11, tm.tm_hour, 2);
    buf[13] = ':';
    put_digits(buf + 14, tm.tm_min, 2);
    buf[16] = ':';
    put_digits(buf + 17, tm.tm_sec, 2);
    buf[19] = '.';
    put_digits(buf + 20, ms, 3);
    buf[23] = 'Z';
    buf[24] = '\0';
    return buf;
}

int clock_parse(const char *text, int64_t *unix_ms)
{
    int y, mo, d, h, mi, s, ms = 0, n = 0;
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6) {
        return -1;
    }
    const char *rest = text + n;
    if (*rest == '.') {
        int digits = 0;
        rest++;
        while (*rest >= '0' && *rest <= '9' && digits < 3) {
            ms = ms * 10 + (*rest - '0');
            rest++;
            digits++;
        }
        while (digits < 3) {
            ms *= 10;
            digits++;
        }
    }
    if (strcmp(rest, "Z") != 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        s > 60) {
        return -1;
    }
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    *unix_ms = (int64_t)timegm(&tm) * 1000 + ms;
    return 0;
}
