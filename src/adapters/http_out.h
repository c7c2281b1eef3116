/* Outbound HTTP POST of a JSON body with a signature header (libcurl), with a short timeout so a
 * slow peer cannot stall the timers. */
#ifndef KM_HTTP_OUT_H
#define KM_HTTP_OUT_H

#include "core/check.h"

#define HTTP_OUT_TIMEOUT_MS 5000 /* a callback receiver answers in milliseconds or is down */

/* 0 and *status (HTTP status) when a response came back; negative on a transport failure. */
KM_MUST_USE int http_out_post(const char *url, const char *body, const char *signature,
                              long *status);

/* Post n bodies to url at once (libcurl multi), each with its signature header: statuses[i] is
 * the HTTP status, 0 when the transfer failed. n <= HTTP_OUT_PARALLEL_MAX. */
#define HTTP_OUT_PARALLEL_MAX 32 /* the shop's own writes group-commit; more in flight buys little */
void http_out_post_all(const char *url, char *const *bodies, char *const *signatures, int n,
                       long *statuses);

/* GET url; *body gets the answer (malloc'd, NUL-terminated, at most HTTP_OUT_BODY_MAX bytes). */
#define HTTP_OUT_BODY_MAX (1024 * 1024)
KM_MUST_USE int http_out_get(const char *url, char **body, long *status);

#endif
