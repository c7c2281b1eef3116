/* Compact JSON text of a jansson value, byte for byte what json_dumps(v, JSON_COMPACT) gives, in
 * one growing buffer: jansson's own writer calls back per token and formats as it goes, which was
 * a fifth of building an order view. */
#ifndef KM_JSON_OUT_H
#define KM_JSON_OUT_H

#include <jansson.h>
#include <stddef.h>

/* malloc'd, NUL-terminated; *len is its length. Never NULL (aborts when out of memory). */
char *json_out(const json_t *v, size_t *len);

#endif
