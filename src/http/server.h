/* The HTTP shell: libmicrohttpd with a thread pool, a bounded body reader, the route table,
 * authentication, idempotency, and suspension of connections while their write is committed. */
#ifndef KM_SERVER_H
#define KM_SERVER_H

#include <stdint.h>

#include "core/check.h"

struct server_config {
    const char *db_path;
    const char *bind_addr;  /* "127.0.0.1" */
    uint16_t port;
    int threads;
};

KM_MUST_USE int server_start(const struct server_config *cfg);
/* Stop accepting, finish in-flight requests, close. */
void server_stop(void);

#endif
