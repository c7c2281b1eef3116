/* Idempotency-Key on POST: the first answer is stored in the same transaction as the write and
 * replayed for a retry; the same key with another request is refused (422); a key whose first
 * request is still queued is refused (409). */
#ifndef KM_IDEMPOTENCY_H
#define KM_IDEMPOTENCY_H

#include "http/api.h"

/* On the MHD thread, before queueing: validates the key and marks it in flight. 0, or an
 * answered error (the request must not be queued). */
int idempotency_inflight_begin(struct api_req *r);
void idempotency_inflight_end(struct api_req *r);

/* On the writer: replay, refuse, or run r->write_fn and store its answer. */
int idempotency_run(struct db *db, struct api_req *r);

#endif
