/* Fixed-window rate limits by (scope, key), in memory: enough to make guessing a lookup password
 * useless; a restart forgets them, which costs a guesser one more minute's worth. */
#ifndef KM_RATELIMIT_H
#define KM_RATELIMIT_H

#include <stdbool.h>

bool ratelimit_allow(const char *scope, const char *key, int per_minute);

#endif
