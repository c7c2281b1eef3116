/* The status line, the three headers a client needs to find an answer's end, and a chunked
 * body skipped byte by byte (RFC 9112 §6, §7.1). */
#include "adapters/http_answer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum chunk_state {
    CHUNK_SIZE,
    CHUNK_EXT,
    CHUNK_SIZE_LF,
    CHUNK_DATA,
    CHUNK_DATA_CR,
    CHUNK_DATA_LF,
    CHUNK_TRAILER,
    CHUNK_TRAILER_LF
};

/* The value of header name in the head's lines (after the status line), or NULL. */
static const char *header_value(const char *head, const char *name, size_t *len)
{
    size_t name_len = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
            const char *v = line + name_len + 1;
            v += strspn(v, " \t");
            *len = strcspn(v, "\r");
            return v;
        }
    }
    return NULL;
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

int http_answer_head(struct http_answer *a, const char *head)
{
    *a = (struct http_answer){.chunk = CHUNK_SIZE};
    if (strncmp(head, "HTTP/1.", 7) != 0 || (head[7] != '0' && head[7] != '1') || head[8] != ' ') {
        return -1;
    }
    char *end;
    long status = strtol(head + 9, &end, 10);
    if (end != head + 12 || status < 100 || status > 999) {
        return -1;
    }
    a->status = status;
    size_t len;
    const char *v = header_value(head, "Connection", &len);
    a->close_after = head[7] == '0' ? v == NULL || !value_has(v, len, "keep-alive")
                                    : v != NULL && value_has(v, len, "close");
    if (status < 200 || status == 204 || status == 304) {
        a->body = HTTP_BODY_NONE;
    } else if ((v = header_value(head, "Transfer-Encoding", &len)) != NULL &&
               value_has(v, len, "chunked")) {
        a->body = HTTP_BODY_CHUNKED;
    } else if ((v = header_value(head, "Content-Length", &len)) != NULL) {
        if (*v < '0' || *v > '9') {
            return -1;
        }
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (errno != 0 || (*end != '\r' && *end != ' ' && *end != '\t')) {
            return -1;
        }
        a->body = HTTP_BODY_LENGTH;
        a->left = n;
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

/* Chunks are a hex size line (extensions after ';' ignored), that many bytes and CRLF; a size of
 * 0 ends them, followed by trailer lines and an empty line. */
static int chunked_take(struct http_answer *a, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        char ch = p[i];
        switch ((enum chunk_state)a->chunk) {
        case CHUNK_SIZE: {
            int d = hex_digit(ch);
            if (d >= 0) {
                if (a->left > (INT64_MAX >> 4)) {
                    return -1;
                }
                a->left = a->left * 16 + d;
            } else if (ch == ';' || ch == ' ' || ch == '\t') {
                a->chunk = CHUNK_EXT;
            } else if (ch == '\r') {
                a->chunk = CHUNK_SIZE_LF;
            } else {
                return -1;
            }
            i++;
            break;
        }
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
            a->chunk = a->chunk == CHUNK_DATA_CR ? CHUNK_DATA_LF : CHUNK_SIZE;
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
                return 1; /* the empty line */
            }
            a->left = 0;
            a->chunk = CHUNK_TRAILER;
            break;
        }
    }
    return 0;
}

int http_answer_body(struct http_answer *a, const char *p, size_t n)
{
    switch (a->body) {
    case HTTP_BODY_NONE:
        return 1;
    case HTTP_BODY_UNTIL_CLOSE:
        return 0;
    case HTTP_BODY_LENGTH:
        a->left -= (uint64_t)a->left < n ? a->left : (int64_t)n;
        return a->left == 0;
    case HTTP_BODY_CHUNKED:
        return chunked_take(a, p, n);
    }
    return -1;
}
