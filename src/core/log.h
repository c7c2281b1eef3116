/* Structured logs: one JSON object per line on stderr. Callers pass fields, never secrets —
 * tokens, passwords and card keys have no field here. */
#ifndef KM_LOG_H
#define KM_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);

/* log_write(LOG_INFO, "order_created", "order_id", id, "amount_fen", "123", NULL):
 * an event name and key/value string pairs, ending with NULL. */
void log_write(enum log_level level, const char *event, ...) __attribute__((sentinel));

#endif
