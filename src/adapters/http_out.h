/* Outbound HTTP: a POST of a JSON body with a signature header and a GET (libcurl), with a short
 * timeout so a slow peer cannot stall the timers; and a window of such posts kept full
 * (http_out_pipe.c). */
#ifndef KM_HTTP_OUT_H
#define KM_HTTP_OUT_H

#include <stddef.h>

#include "core/check.h"

#define HTTP_OUT_TIMEOUT_MS 5000 /* a callback receiver answers in milliseconds or is down */

/* Trust the CA certificates of a PEM file for https://, besides the system's: for a receiver
 * behind a private CA. Call before any post; 0, or -KM_EINVAL with the reason in err when the
 * file cannot be read or holds no certificate. */
KM_MUST_USE int http_out_set_ca_file(const char *path, char *err, size_t err_len);

/* 0 and *status (HTTP status) when a response came back; negative on a transport failure, whose
 * reason http_out_error then tells (the calling thread's last). */
KM_MUST_USE int http_out_post(const char *url, const char *body, const char *signature,
                              long *status);
const char *http_out_error(void);

/* Lets the calling thread's http_out_pipe_* posts keep their connections open for the next ones;
 * without it each opens its own and asks for it to be closed after the answer. Only for a thread
 * that never posts to kameng from inside one of kameng's own requests: the timers'. A connection
 * to kameng belongs to one of its server threads, and a thread that posts from inside a request
 * (a test's clock advance runs the timers) may be that very one: it would wait for itself. */
void http_out_keep_connections(void);

/* A window of posts kept full, per thread: a post is added whenever fewer than
 * HTTP_OUT_PARALLEL_MAX are in flight, and each is handed back as it ends, so a slow answer holds
 * up its own place only. http_out_pipe_add takes body (a malloc'd string) and gives it back to
 * done() with tag and the HTTP status (0 when no answer came within HTTP_OUT_TIMEOUT_MS, or it
 * made no sense). http_out_pipe_collect waits at most wait_ms for a post to end and returns how
 * many ended. An http:// URL is posted to by a client of kameng's own (http_out_pipe.c) over
 * kept-alive connections; any other (https://) by libcurl's multi interface (http_out_curl.c). */
#define HTTP_OUT_PARALLEL_MAX 256 /* the writer's batch: one group commit takes them all */
KM_MUST_USE int http_out_pipe_add(const char *url, char *body, const char *signature, void *tag);
int http_out_pipe_in_flight(void);
int http_out_pipe_collect(int wait_ms, void (*done)(void *ud, void *tag, char *body, long status),
                          void *ud);

/* GET url; *body gets the answer (malloc'd, NUL-terminated, at most HTTP_OUT_BODY_MAX bytes). */
#define HTTP_OUT_BODY_MAX (1024 * 1024)
KM_MUST_USE int http_out_get(const char *url, char **body, long *status);

#endif
