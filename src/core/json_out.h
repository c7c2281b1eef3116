/* Compact JSON text of a jansson value, byte for byte what json_dumps(v, JSON_COMPACT) gives, in
 * one growing buffer: jansson's own writer calls back per token and formats as it goes, which was
 * a fifth of building an order view. */
#ifndef KM_JSON_OUT_H
#define KM_JSON_OUT_H

#include <jansson.h>
#include <stddef.h>

/* malloc'd, NUL-terminated; *len is its length. Never NULL (aborts when out of memory). */
char *json_out(const json_t *v, size_t *len);
/* The same facts always as the same bytes: what json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS |
 * JSON_ENSURE_ASCII) gives, object keys in byte order and nothing past ASCII. */
char *json_out_canonical(const json_t *v, size_t *len);

#endif
