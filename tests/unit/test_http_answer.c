/* Reading an HTTP/1.1 answer as a client: the status, whether the connection stays open, and
 * where the body ends, whichever way the server marks it and however the bytes are split. */
#include <criterion/criterion.h>
#include <string.h>

#include "adapters/http_answer.h"

Test(http_answer, content_length_body_ends_after_that_many_bytes)
{
    struct http_answer a;
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                      "content-length: 11\r\n\r\n"),
                 0);
    cr_assert_eq(a.status, 200);
    cr_assert(!a.close_after);
    cr_assert_eq(a.body, HTTP_BODY_LENGTH);
    cr_assert_eq(http_answer_body(&a, "{\"ok\":", 6), 0);
    cr_assert_eq(http_answer_body(&a, "true}", 5), 1);
}

Test(http_answer, empty_body_and_bodiless_statuses_end_at_once)
{
    struct http_answer a;
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"), 0);
    cr_assert_eq(http_answer_body(&a, "", 0), 1);
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 204 No Content\r\n\r\n"), 0);
    cr_assert_eq(a.body, HTTP_BODY_NONE);
    cr_assert_eq(http_answer_body(&a, "", 0), 1);
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
    cr_assert_eq(http_answer_body(&a, "anything", 8), 0);
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
        int first = http_answer_body(&a, chunked, split);
        if (split < n) {
            cr_assert_eq(first, 0, "split at %zu", split);
            cr_assert_eq(http_answer_body(&a, chunked + split, n - split), 1, "split at %zu",
                         split);
        } else {
            cr_assert_eq(first, 1);
        }
    }
    /* Byte by byte: the body ends on the very last one, not before. */
    struct http_answer a;
    cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
    for (size_t i = 0; i + 1 < n; i++) {
        cr_assert_eq(http_answer_body(&a, chunked + i, 1), 0, "byte %zu", i);
    }
    cr_assert_eq(http_answer_body(&a, chunked + n - 1, 1), 1);
}

Test(http_answer, malformed_chunks_are_refused)
{
    const char *bad[] = {"zz\r\nab\r\n", "2\r\nabX\r\n", "2\rab", "FFFFFFFFFFFFFFFFF\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct http_answer a;
        cr_assert_eq(http_answer_head(&a, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     0);
        cr_assert_eq(http_answer_body(&a, bad[i], strlen(bad[i])), -1, "%s", bad[i]);
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
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct http_answer a;
        cr_assert_eq(http_answer_head(&a, bad[i]), -1, "%s", bad[i]);
    }
}
