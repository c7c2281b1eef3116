/* Reading an HTTP/1.1 answer as a client: its status line and headers, then where its body ends
 * (Content-Length, chunked, or the connection's close), without keeping the body. Pure: bytes in,
 * verdicts out; the window of posts (http_out_pipe.c) feeds it what its sockets read. */
#ifndef KM_HTTP_ANSWER_H
#define KM_HTTP_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/check.h"

enum http_body_kind {
    HTTP_BODY_NONE,        /* 1xx, 204, 304 */
    HTTP_BODY_LENGTH,      /* Content-Length */
    HTTP_BODY_CHUNKED,     /* Transfer-Encoding: chunked */
    HTTP_BODY_UNTIL_CLOSE, /* neither: the body ends when the server closes */
};

struct http_answer {
    long status;
    bool close_after; /* the server closes the connection after this answer */
    enum http_body_kind body;
    int64_t left; /* HTTP_BODY_LENGTH: bytes to come; chunked: of the current chunk */
    int chunk;    /* where a chunked body's reading is */
};

/* Reads the status line and headers: head is NUL-terminated and ends with the empty line.
 * 0, or -1 when they are not an HTTP/1.0 or 1.1 answer or its length makes no sense: a
 * Content-Length that is not one number, or two that differ (RFC 9112 §6.3). */
KM_MUST_USE int http_answer_head(struct http_answer *a, const char *head);

/* Takes the next n bytes of the body (after http_answer_head); *used says how many were its own.
 * 1 when the body ended (bytes after *used are no part of it), 0 when more is to come, -1 on a
 * malformed chunked body. A body that ends with the connection never ends here. */
KM_MUST_USE int http_answer_body(struct http_answer *a, const char *p, size_t n, size_t *used);

#endif
