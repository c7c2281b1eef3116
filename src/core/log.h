/* Structured logs: one JSON object per line on stderr. Callers pass fields, never secrets —
 * tokens, passwords and card keys have no field here. */
#ifndef KM_LOG_H
#define KM_LOG_H

#include <stdarg.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);

/* log_write(LOG_INFO, "order_created", "order_id", id, "amount_fen", "123", NULL):
 * an event name and key/value string pairs, ending with NULL. */
void log_write(enum log_level level, const char *event, ...) __attribute__((sentinel));

/* The line log_write would write, built now to be written later (time is now), or NULL below the
 * level; and writing it, which frees it (NULL writes nothing). */
char *log_vformat(enum log_level level, const char *event, va_list ap);
void log_emit(char *line);

#endif
