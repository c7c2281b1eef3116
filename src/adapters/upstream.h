/* An upstream supplier (上游) that credits phone numbers and game accounts. The shop submits a
 * top-up, then learns its result by callback or by polling; both may happen, in either order. */
#ifndef KM_UPSTREAM_H
#define KM_UPSTREAM_H

#include <stddef.h>

#include "core/check.h"
#include "core/err.h"
#include "store/db.h"
#include "store/store.h"

struct upstream_result {
    char status[16];          /* processing | succeeded | failed | wrong_region */
    char credited_region[80];
    char detail[200];
};

/* Submit; *ref receives the upstream's order number. Called outside any transaction. */
KM_MUST_USE int upstream_sandbox_submit(const struct topup *t, char *ref, size_t ref_len,
                                        struct km_error *e);
/* Poll with a reader connection. */
KM_MUST_USE int upstream_sandbox_query(struct db *reader, const char *ref,
                                       struct upstream_result *out, struct km_error *e);
/* Deliver due result callbacks to base_url + "/v1/callbacks/upstream/sandbox". */
int upstream_sandbox_notify(struct db *reader, const char *base_url);
void upstream_sandbox_key(uint8_t out[32]);

/* How the sandbox decides, from the target account (documented in docs/sandbox.md). */
void upstream_sandbox_outcome(const char *account, const char *region, char *outcome,
                              size_t outcome_len, int *callback, char *credited_region,
                              size_t credited_len);

#endif
