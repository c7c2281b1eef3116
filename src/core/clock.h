/* The one source of time. Real time by default; with --test-clock, time stands still until
 * clock_advance moves it, and every timer follows, so tests can cross 30 minutes or 7 days in
 * a millisecond. */
#ifndef KM_CLOCK_H
#define KM_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void clock_use_test(int64_t start_ms);
bool clock_is_test(void);
int64_t clock_now_ms(void);
/* Test clock only: move forward by delta_ms (>= 0). Returns the new time. */
int64_t clock_advance(int64_t delta_ms);

/* Monotonic milliseconds for measuring durations (never the test clock). */
int64_t clock_mono_ms(void);
int64_t clock_mono_us(void);

/* RFC 3339 UTC with milliseconds: "2026-11-25T18:00:00.000Z". buf >= 32 bytes. */
char *clock_format(int64_t unix_ms, char *buf, size_t buf_len);
/* Parse "YYYY-MM-DDTHH:MM:SS[.mmm]Z". 0 on success. */
int clock_parse(const char *text, int64_t *unix_ms);

#endif
