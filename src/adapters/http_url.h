/* Where a plain-HTTP post goes, read from its URL: http://host[:port][/path][?query][#fragment].
 * Pure; the window of posts (http_out_pipe.c) reads its URLs with it and hands any other to
 * libcurl. */
#ifndef KM_HTTP_URL_H
#define KM_HTTP_URL_H

#include <stdbool.h>

#include "core/check.h"

struct http_url {
    char host[256];  /* as written, for the Host header ("[::1]:8080") */
    char name[256];  /* to look up ("::1") */
    char port[8];    /* "80" when the URL names none */
    char path[1024]; /* with the query, without the fragment; "/" when empty */
};

/* False for a URL this does not read: another scheme, user info, a port that is not 1..65535, an
 * unclosed IPv6 bracket, parts too long for the fields above. */
KM_MUST_USE bool http_url_read(const char *url, struct http_url *u);

#endif
