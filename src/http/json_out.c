/* See json_out.h. Strings are escaped as jansson escapes them without JSON_ENSURE_ASCII or
 * JSON_ESCAPE_SLASH: quote, backslash and control characters only, \u00XX in upper-case hex where
 * there is no short escape. Objects keep their insertion order, as jansson's dump does. */
#include "http/json_out.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

struct out {
    char *buf;
    size_t len;
    size_t cap;
};

static void reserve(struct out *o, size_t more)
{
    if (o->len + more + 1 <= o->cap) {
        return;
    }
    size_t cap = o->cap == 0 ? 4096 : o->cap;
    while (cap < o->len + more + 1) {
        cap *= 2;
    }
    o->buf = realloc(o->buf, cap);
    km_assert(o->buf != NULL);
    o->cap = cap;
}

static void put(struct out *o, const char *s, size_t n)
{
    reserve(o, n);
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

/* The characters with a two-character escape; every other control character is \u00XX. */
static const char short_escape[] = {['"'] = '"',  ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
                                    ['\n'] = 'n', ['\r'] = 'r',  ['\t'] = 't'};

/* Bytes a string cannot hold as they are: the control characters, the quote and the backslash. */
#define ESCAPED4(n) [n] = true, [(n) + 1] = true, [(n) + 2] = true, [(n) + 3] = true
static const bool escaped[256] = {
    ESCAPED4(0),  ESCAPED4(4),  ESCAPED4(8),  ESCAPED4(12), ESCAPED4(16),
    ESCAPED4(20), ESCAPED4(24), ESCAPED4(28), ['"'] = true, ['\\'] = true};

static void put_string(struct out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    reserve(o, n + 2);
    o->buf[o->len++] = '"';
    size_t run = 0; /* bytes copied as they are, pending */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!escaped[c]) {
            run++;
            continue;
        }
        put(o, s + i - run, run);
        run = 0;
        if (c < sizeof short_escape && short_escape[c] != 0) {
            char esc[2] = {'\\', short_escape[c]};
            put(o, esc, sizeof esc);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(o, esc, sizeof esc);
        }
    }
    put(o, s + n - run, run);
    put(o, "\"", 1);
}

/* Decimal, as "%lld" writes it; snprintf costs some hundreds of instructions a number, and an
 * order's view holds dozens (amounts, counts). */
static void put_integer(struct out *o, json_int_t value)
{
    char num[24];
    char *end = num + sizeof num, *p = end;
    /* Negated as unsigned, so INT64_MIN has a magnitude too. */
    unsigned long long m = value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
    do {
        *--p = (char)('0' + m % 10);
        m /= 10;
    } while (m != 0);
    if (value < 0) {
        *--p = '-';
    }
    put(o, p, (size_t)(end - p));
}

static void put_value(struct out *o, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        put(o, "{", 1);
        bool first = true;
        for (void *it = json_object_iter((json_t *)v); it != NULL;
             it = json_object_iter_next((json_t *)v, it)) {
            if (!first) {
                put(o, ",", 1);
            }
            first = false;
            put_string(o, json_object_iter_key(it), json_object_iter_key_len(it));
            put(o, ":", 1);
            put_value(o, json_object_iter_value(it));
        }
        put(o, "}", 1);
        break;
    }
    case JSON_ARRAY: {
        put(o, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0) {
                put(o, ",", 1);
            }
            put_value(o, json_array_get(v, i));
        }
        put(o, "]", 1);
        break;
    }
    case JSON_STRING:
        put_string(o, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        put_integer(o, json_integer_value(v));
        break;
    case JSON_REAL: { /* none in our answers; jansson's formatting, to stay identical */
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        km_assert(text != NULL);
        put(o, text, strlen(text));
        free(text);
        break;
    }
    case JSON_TRUE:
        put(o, "true", 4);
        break;
    case JSON_FALSE:
        put(o, "false", 5);
        break;
    case JSON_NULL:
        put(o, "null", 4);
        break;
    }
}

char *json_out(const json_t *v, size_t *len)
{
    struct out o = {0};
    reserve(&o, 0);
    put_value(&o, v);
    o.buf[o.len] = '\0';
    *len = o.len;
    return o.buf;
}
