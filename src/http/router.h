/* The route table: method + path pattern -> handler. Patterns use '*' for one id segment. */
#ifndef KM_ROUTER_H
#define KM_ROUTER_H

#include <stdbool.h>

#include "http/api.h"

typedef int (*api_handler)(struct api_req *r);

struct route {
    const char *method;
    const char *pattern;  /* "/v1/orders/{star}": a star matches one segment */
    api_handler handler;
    const char *name;     /* for metrics and logs: "orders.get" */
    size_t body_max;      /* bytes of body accepted; 0: HTTP_BODY_BYTES_MAX */
};

/* Find the handler for r's method and path. *path_found tells 405 from 404. */
const struct route *router_match(const struct api_req *r, bool *path_found);

#endif
