/* See json_out.h. Strings are escaped as jansson escapes them without JSON_ESCAPE_SLASH: quote,
 * backslash and control characters, \u00XX in upper-case hex where there is no short escape, and
 * in the canonical form every character past ASCII as \uXXXX (a surrogate pair past U+FFFF), as
 * JSON_ENSURE_ASCII does. Objects keep their insertion order, as jansson's dump does, or in the
 * canonical form their keys' byte order, as JSON_SORT_KEYS orders them. */
#include "core/json_out.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

struct out {
    char *buf;
    size_t len;
    size_t cap;
    bool canonical; /* keys sorted, ASCII only */
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

static const char hex[] = "0123456789ABCDEF";

static void put_u16(struct out *o, unsigned unit)
{
    char esc[6] = {
        '\\', 'u', hex[unit >> 12], hex[(unit >> 8) & 15], hex[(unit >> 4) & 15], hex[unit & 15]};
    put(o, esc, sizeof esc);
}

/* The UTF-8 sequence at s[i] (a jansson string is valid UTF-8) as \uXXXX, or two of them past
 * U+FFFF; the number of bytes it took. */
static size_t put_non_ascii(struct out *o, const unsigned char *s, size_t i, size_t n)
{
    unsigned char c = s[i];
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    km_assert(i + len <= n);
    unsigned cp = c & (0x7F >> len);
    for (size_t k = 1; k < len; k++) {
        cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if (cp < 0x10000) {
        put_u16(o, cp);
    } else {
        cp -= 0x10000;
        put_u16(o, 0xD800 | (cp >> 10));
        put_u16(o, 0xDC00 | (cp & 0x3FF));
    }
    return len;
}

static void put_string(struct out *o, const char *s, size_t n)
{
    reserve(o, n + 2);
    o->buf[o->len++] = '"';
    size_t run = 0; /* bytes copied as they are, pending */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool wide = c >= 0x80 && o->canonical;
        if (!escaped[c] && !wide) {
            run++;
            continue;
        }
        put(o, s + i - run, run);
        run = 0;
        if (wide) {
            i += put_non_ascii(o, (const unsigned char *)s, i, n) - 1;
        } else if (c < sizeof short_escape && short_escape[c] != 0) {
            char esc[2] = {'\\', short_escape[c]};
            put(o, esc, sizeof esc);
        } else {
            put_u16(o, c);
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

static void put_value(struct out *o, const json_t *v);

struct key {
    const char *text;
    size_t len;
    const json_t *value;
};

/* jansson's order for JSON_SORT_KEYS: bytes, then the shorter first. */
static int key_order(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    int c = memcmp(x->text, y->text, x->len < y->len ? x->len : y->len);
    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static void put_sorted_object(struct out *o, const json_t *v)
{
    struct key few[16];
    size_t n = json_object_size(v);
    struct key *keys = n <= sizeof few / sizeof few[0] ? few : malloc(n * sizeof *keys);
    km_assert(keys != NULL);
    size_t i = 0;
    for (void *it = json_object_iter((json_t *)v); it != NULL;
         it = json_object_iter_next((json_t *)v, it)) {
        keys[i++] = (struct key){json_object_iter_key(it), json_object_iter_key_len(it),
                                 json_object_iter_value(it)};
    }
    qsort(keys, i, sizeof *keys, key_order);
    put(o, "{", 1);
    for (size_t k = 0; k < i; k++) {
        if (k > 0) {
            put(o, ",", 1);
        }
        put_string(o, keys[k].text, keys[k].len);
        put(o, ":", 1);
        put_value(o, keys[k].value);
    }
    put(o, "}", 1);
    if (keys != few) {
        free(keys);
    }
}

static void put_value(struct out *o, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (o->canonical) {
            put_sorted_object(o, v);
            break;
        }
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

static char *out_text(const json_t *v, size_t *len, bool canonical)
{
    km_assert(v != NULL); /* a json_pack that failed: stop here, with the place, as before */
    struct out o = {.canonical = canonical};
    reserve(&o, 0);
    put_value(&o, v);
    o.buf[o.len] = '\0';
    *len = o.len;
    return o.buf;
}

char *json_out(const json_t *v, size_t *len)
{
    return out_text(v, len, false);
}

char *json_out_canonical(const json_t *v, size_t *len)
{
    return out_text(v, len, true);
}
