/* The status line, the headers a client needs to find an answer's end, and a chunked
 * body skipped byte by byte (RFC 9112 §6, §7.1). */
#include "adapters/http_answer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum chunk_state {
    CHUNK_SIZE_FIRST, /* a size's first digit */
    CHUNK_SIZE,
    CHUNK_SIZE_WS, /* white space after the size */
    CHUNK_EXT,
    CHUNK_SIZE_LF,
    CHUNK_DATA,
    CHUNK_DATA_CR,
    CHUNK_DATA_LF,
    CHUNK_TRAILER,
    CHUNK_TRAILER_LF
};

/* The value of the next header called name in the head's lines after *from (the status line at
 * first), or NULL; *from moves past it. */
static const char *header_next(const char **from, const char *name, size_t *len)
{
    size_t name_len = strlen(name);
    for (const char *line = strstr(*from, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
            const char *v = line + name_len + 1;
            v += strspn(v, " \t");
            *len = strcspn(v, "\r");
            *from = line;
            return v;
        }
    }
    return NULL;
}

static const char *header_value(const char *head, const char *name, size_t *len)
{
    return header_next(&head, name, len);
}

/* The body's length from its Content-Length headers: 0, 1 when there is none, -1 when one is
 * not a number or two differ. */
static int content_length(const char *head, int64_t *out)
{
    const char *from = head, *v;
    size_t len;
    int found = 1;
    while ((v = header_next(&from, "Content-Length", &len)) != NULL) {
        if (*v < '0' || *v > '9') {
            return -1;
        }
        errno = 0;
        char *end;
        long long n = strtoll(v, &end, 10);
        if (errno != 0 || (size_t)(end - v) + strspn(end, " \t") != len ||
            (found == 0 && n != *out)) {
            return -1;
        }
        *out = n;
        found = 0;
    }
    return found;
}

/* Whether a Transfer-Encoding value's last coding is chunked. */
static bool chunked_last(const char *v, size_t len)
{
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t')) {
        len--;
    }
    return len >= 7 && strncasecmp(v + len - 7, "chunked", 7) == 0 &&
           (len == 7 || v[len - 8] == ',' || v[len - 8] == ' ' || v[len - 8] == '\t');
}

static bool value_has(const char *v, size_t len, const char *token)
{
    size_t token_len = strlen(token);
    for (size_t i = 0; i + token_len <= len; i++) {
        if (strncasecmp(v + i, token, token_len) == 0) {
            return true;
        }
    }
    return false;
}

/* Whether any Connection header of the head names token. */
static bool connection_says(const char *head, const char *token)
{
    const char *from = head, *v;
    size_t len;
    while ((v = header_next(&from, "Connection", &len)) != NULL) {
        if (value_has(v, len, token)) {
            return true;
        }
    }
    return false;
}

int http_answer_head(struct http_answer *a, const char *head)
{
    *a = (struct http_answer){.chunk = CHUNK_SIZE_FIRST};
    if (strncmp(head, "HTTP/1.", 7) != 0 || (head[7] != '0' && head[7] != '1') || head[8] != ' ') {
        return -1;
    }
    char *end;
    long status = strtol(head + 9, &end, 10);
    if (end != head + 12 || status < 100 || status > 999) {
        return -1;
    }
    a->status = status;
    a->close_after =
        head[7] == '0' ? !connection_says(head, "keep-alive") : connection_says(head, "close");
    int64_t length = 0;
    int no_length = content_length(head, &length);
    if (no_length < 0) {
        return -1;
    }
    size_t len;
    const char *v;
    if (status < 200 || status == 204 || status == 304) {
        a->body = HTTP_BODY_NONE;
    } else if ((v = header_value(head, "Transfer-Encoding", &len)) != NULL) {
        /* Chunked last, or else the body runs to the close (RFC 9112 §6.3); with a length as
         * well, the connection is not to be used again. */
        a->body = chunked_last(v, len) ? HTTP_BODY_CHUNKED : HTTP_BODY_UNTIL_CLOSE;
        a->close_after = a->close_after || no_length == 0 || a->body == HTTP_BODY_UNTIL_CLOSE;
    } else if (no_length == 0) {
        a->body = HTTP_BODY_LENGTH;
        a->left = length;
    } else {
        a->body = HTTP_BODY_UNTIL_CLOSE;
        a->close_after = true;
    }
    return 0;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    ch = (char)(ch | 0x20);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Chunks are a hex size line (white space, then extensions after ';', ignored), that many bytes
 * and CRLF; a size of 0 ends them, followed by trailer lines and an empty line. */
static int chunked_take(struct http_answer *a, const char *p, size_t n, size_t *used)
{
    size_t i = 0;
    while (i < n) {
        char ch = p[i];
        switch ((enum chunk_state)a->chunk) {
        case CHUNK_SIZE_FIRST:
        case CHUNK_SIZE: {
            int d = hex_digit(ch);
            if (d >= 0) {
                if (a->left > (INT64_MAX >> 4)) {
                    return -1;
                }
                a->left = a->left * 16 + d;
                a->chunk = CHUNK_SIZE;
            } else if (a->chunk == CHUNK_SIZE_FIRST) {
                return -1; /* a size has a digit at least */
            } else if (ch == ';') {
                a->chunk = CHUNK_EXT;
            } else if (ch == ' ' || ch == '\t') {
                a->chunk = CHUNK_SIZE_WS;
            } else if (ch == '\r') {
                a->chunk = CHUNK_SIZE_LF;
            } else {
                return -1;
            }
            i++;
            break;
        }
        case CHUNK_SIZE_WS:
            if (ch == ';') {
                a->chunk = CHUNK_EXT;
            } else if (ch == '\r') {
                a->chunk = CHUNK_SIZE_LF;
            } else if (ch != ' ' && ch != '\t') {
                return -1;
            }
            i++;
            break;
        case CHUNK_EXT:
            a->chunk = ch == '\r' ? CHUNK_SIZE_LF : CHUNK_EXT;
            i++;
            break;
        case CHUNK_SIZE_LF:
            if (ch != '\n') {
                return -1;
            }
            a->chunk = a->left == 0 ? CHUNK_TRAILER : CHUNK_DATA;
            i++;
            break;
        case CHUNK_DATA: {
            size_t take = (uint64_t)a->left < n - i ? (size_t)a->left : n - i;
            a->left -= (int64_t)take;
            i += take;
            if (a->left == 0) {
                a->chunk = CHUNK_DATA_CR;
            }
            break;
        }
        case CHUNK_DATA_CR:
        case CHUNK_DATA_LF:
            if (ch != (a->chunk == CHUNK_DATA_CR ? '\r' : '\n')) {
                return -1;
            }
            a->chunk = a->chunk == CHUNK_DATA_CR ? CHUNK_DATA_LF : CHUNK_SIZE_FIRST;
            i++;
            break;
        case CHUNK_TRAILER: /* left is 1 inside a trailer line, 0 at a line's start */
            if (ch == '\r') {
                a->chunk = CHUNK_TRAILER_LF;
            } else {
                a->left = 1;
            }
            i++;
            break;
        case CHUNK_TRAILER_LF:
            if (ch != '\n') {
                return -1;
            }
            i++;
            if (a->left == 0) {
                *used = i;
                return 1; /* the empty line */
            }
            a->left = 0;
            a->chunk = CHUNK_TRAILER;
            break;
        }
    }
    *used = n;
    return 0;
}

int http_answer_body(struct http_answer *a, const char *p, size_t n, size_t *used)
{
    *used = 0;
    switch (a->body) {
    case HTTP_BODY_NONE:
        return 1;
    case HTTP_BODY_UNTIL_CLOSE:
        *used = n;
        return 0;
    case HTTP_BODY_LENGTH: {
        size_t take = (uint64_t)a->left < n ? (size_t)a->left : n;
        a->left -= (int64_t)take;
        *used = take;
        return a->left == 0;
    }
    case HTTP_BODY_CHUNKED:
        return chunked_take(a, p, n, used);
    }
    return -1;
}
