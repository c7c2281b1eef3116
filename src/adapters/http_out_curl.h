/* The window of posts' share that goes through libcurl: URLs the plain HTTP/1.1 client of
 * http_out_pipe.c does not read (https://, user info). libcurl's multi interface runs on an epoll
 * set of its own, which the window's set watches; per thread, like the window. Internal to
 * http_out.c, whose post options it shares, and http_out_pipe.c. */
#ifndef KM_HTTP_OUT_CURL_H
#define KM_HTTP_OUT_CURL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"

/* Sets easy up to post body to url as a signed JSON callback (http_out_post's options, with its
 * timeout and its answer discarded); returns the header list, to free after the transfer. */
struct curl_slist *http_out_post_options(CURL *easy, const char *url, const char *body,
                                         const char *signature);
/* The epoll set to watch for readiness (created on first use), or -1 if it cannot be. */
int http_out_curl_fd(void);
/* Starts a post of body (kept until handed back) to url. fresh: a connection of its own, closed
 * after the answer (see http_out_keep_connections). */
KM_MUST_USE int http_out_curl_add(const char *url, char *body, const char *signature, void *tag,
                                  bool fresh);
/* When libcurl wants to be driven with no socket ready (its timeouts), or -1. */
int64_t http_out_curl_timer_at_us(void);
/* Drives the ready sockets, and the timer when it is due by now_us, and hands every finished post
 * to end() with its HTTP status (0: no answer). */
void http_out_curl_run(int64_t now_us, void (*end)(void *ud, void *tag, char *body, long status),
                       void *ud);
/* Ends the thread's transfers (bodies freed, not handed back) and frees its state. */
void http_out_curl_free(void);

#endif
