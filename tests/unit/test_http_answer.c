/* Reading an HTTP/1.1 answer as a client: the status, whether the connection stays open, and
 * where the body ends, whichever way the server marks it and however the bytes are split. */
#include <criterion/criterion.h>
#include <string.h>

#include "adapters/http_answer.h"

/* The body's verdict on n bytes, with how many were its own checked against want_used. */
static int body(struct http_answer *a, const char *p, size_t n, size_t want_used)
{
    size_t used = 99999;
    int rc = http_answer_body(a, p, n, &used);
    if (rc >= 0) {
        cr_assert_eq(used, want_used, "used %zu of %zu, expected %zu", used, n, want_used);
    }
    return rc;
}

Test(http_answer, content_length_body_ends_after_that_many_bytes)
{
    struct http_answer a;
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                      "content-length: 11\r\n\r\n"),
                 0);
    cr_assert_eq(a.status, 200);
    cr_assert(!a.close_after);
    cr_assert_eq(a.body, HTTP_BODY_LENGTH);
    cr_assert_eq(body(&a, "{\"ok\":", 6, 6), 0);
    cr_assert_eq(body(&a, "true}", 5, 5), 1);
}

Test(http_answer, empty_body_and_bodiless_statuses_end_at_once)
{
    struct http_answer a;
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"), 0);
    cr_assert_eq(body(&a, "", 0, 0), 1);
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 204 No Content\r\n\r\n"), 0);
    cr_assert_eq(a.body, HTTP_BODY_NONE);
    cr_assert_eq(body(&a, "", 0, 0), 1);
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 100 Continue\r\n\r\n"), 0);
    cr_assert_eq(a.status, 100);
    cr_assert_eq(a.body, HTTP_BODY_NONE);
}

Test(http_answer, connection_close_and_http10_close_the_connection)
{
    struct http_answer a;
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
                                      "Content-Length: 2\r\n\r\n"),
                 0);
    cr_assert(a.close_after);
    cr_assert_eq(http_answer_head(&a, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n"), 0);
    cr_assert(a.close_after);
    cr_assert_eq(http_answer_head(
                     &a, "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\n"),
                 0);
    cr_assert(!a.close_after);
}

Test(http_answer, no_length_means_the_body_runs_to_the_close)
{
    struct http_answer a;
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 500 Internal Server Error\r\n\r\n"), 0);
    cr_assert_eq(a.status, 500);
    cr_assert_eq(a.body, HTTP_BODY_UNTIL_CLOSE);
    cr_assert(a.close_after);
    cr_assert_eq(body(&a, "anything", 8, 8), 0);
}

static const char chunked[] = "4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
                              "0\r\nExpires: never\r\n\r\n";

Test(http_answer, chunked_body_ends_at_its_last_chunk_however_split)
{
    size_t n = strlen(chunked);
    for (size_t split = 0; split <= n; split++) {
        struct http_answer a;
        cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     0);
        cr_assert_eq(a.body, HTTP_BODY_CHUNKED);
        int first = body(&a, chunked, split, split);
        if (split < n) {
            cr_assert_eq(first, 0, "split at %zu", split);
            cr_assert_eq(body(&a, chunked + split, n - split, n - split), 1, "split at %zu", split);
        } else {
            cr_assert_eq(first, 1);
        }
    }
    /* Byte by byte: the body ends on the very last one, not before. */
    struct http_answer a;
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
    for (size_t i = 0; i + 1 < n; i++) {
        cr_assert_eq(body(&a, chunked + i, 1, 1), 0, "byte %zu", i);
    }
    cr_assert_eq(body(&a, chunked + n - 1, 1, 1), 1);
}

Test(http_answer, malformed_chunks_are_refused)
{
    const char *bad[] = {"zz\r\nab\r\n", "2\r\nabX\r\n", "2\rab",           "FFFFFFFFFFFFFFFFF\r\n",
                         "\r\n\r\n",     ";x\r\n\r\n",   "5 5\r\nhello\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct http_answer a;
        cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     0);
        size_t used;
        cr_assert_eq(http_answer_body(&a, bad[i], strlen(bad[i]), &used), -1, "%s", bad[i]);
    }
}

Test(http_answer, heads_that_are_not_http_answers_are_refused)
{
    const char *bad[] = {
        "HTTP/2 200\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "SSH-2.0-OpenSSH\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2 40\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct http_answer a;
        cr_assert_eq(http_answer_head(&a, bad[i]), -1, "%s", bad[i]);
    }
}

Test(http_answer, bytes_past_the_end_are_not_the_body)
{
    struct http_answer a;
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"), 0);
    cr_assert_eq(body(&a, "okHTTP/1.1 200 OK", 17, 2), 1);
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
    cr_assert_eq(body(&a, "2\r\nok\r\n0\r\n\r\nextra", 17, 12), 1);
}

Test(http_answer, chunk_sizes_may_carry_white_space_and_extensions)
{
    struct http_answer a;
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
    const char *b = "2 \t;ext=1\r\nok\r\n0 \r\n\r\n";
    cr_assert_eq(body(&a, b, strlen(b), strlen(b)), 1);
}

Test(http_answer, repeated_headers_are_read_whole)
{
    struct http_answer a;
    /* The same length twice is one length; a close in a later Connection header still counts. */
    cr_assert_eq(http_answer_head(&a,
                                  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: "
                                  "keep-alive\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"),
                 0);
    cr_assert_eq(a.body, HTTP_BODY_LENGTH);
    cr_assert_eq(a.left, 2);
    cr_assert(a.close_after);
}

Test(http_answer, transfer_codings_decide_over_a_length)
{
    struct http_answer a;
    /* Chunked and a length: chunked, and the connection is not used again. */
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                                      "Content-Length: 5\r\n\r\n"),
                 0);
    cr_assert_eq(a.body, HTTP_BODY_CHUNKED);
    cr_assert(a.close_after);
    /* A coding that is not chunked last: the body runs to the close. */
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
                                      "Content-Length: 5\r\n\r\n"),
                 0);
    cr_assert_eq(a.body, HTTP_BODY_UNTIL_CLOSE);
    cr_assert(a.close_after);
    cr_assert_eq(
        http_answer_head(&a, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), 0);
    cr_assert_eq(a.body, HTTP_BODY_UNTIL_CLOSE);
    cr_assert_eq(
        http_answer_head(&a, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 0);
    cr_assert_eq(a.body, HTTP_BODY_CHUNKED);
    cr_assert(!a.close_after);
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nTransfer-Encoding: notchunked\r\n\r\n"),
                 0);
    cr_assert_eq(a.body, HTTP_BODY_UNTIL_CLOSE);
}
