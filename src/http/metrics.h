/* Prometheus counters: requests by route and status class, latency histogram, and the writer's
 * batches. Lock-free atomics; rendered in the text exposition format. */
#ifndef KM_METRICS_H
#define KM_METRICS_H

#include <stdint.h>

void metrics_request_done(const char *route, int status, int64_t duration_us);
/* Render into a malloc'd string. */
char *metrics_render(void);

#endif
