/* Writes one JSON object per log line, with time, level and event; values are escaped so a
 * buyer's input can never forge a log line. */
#include "core/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;

void log_set_level(enum log_level level)
{
    min_level = level;
}

static const char *level_name(enum log_level level)
{
    switch (level) {
    case LOG_DEBUG:
        return "debug";
    case LOG_INFO:
        return "info";
    case LOG_WARN:
        return "warn";
    case LOG_ERROR:
        return "error";
    }
    return "info";
}

char *log_vformat(enum log_level level, const char *event, va_list ap)
{
    if (level < min_level) {
        return NULL;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[64];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    json_t *o = json_object();
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "level", json_string(level_name(level)));
    json_object_set_new(o, "event", json_string(event));
    for (int i = 0; i < 32; i++) {
        const char *k = va_arg(ap, const char *);
        if (k == NULL) {
            break;
        }
        const char *v = va_arg(ap, const char *);
        json_object_set_new(o, k, v != NULL ? json_stringn_nocheck(v, strlen(v)) : json_null());
    }
    char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    return line;
}

void log_emit(char *line)
{
    if (line != NULL) {
        fprintf(stderr, "%s\n", line);
        free(line);
    }
}

void log_write(enum log_level level, const char *event, ...)
{
    va_list ap;
    va_start(ap, event);
    char *line = log_vformat(level, event, ap);
    va_end(ap);
    log_emit(line);
}
