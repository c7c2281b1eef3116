/* The sandbox payment provider's refund side (原路返回). Like the real routes: WeChat Pay refunds
 * land in minutes, Alipay within the hour, bank cards in days; some requests are refused for a
 * while ("system busy") and go through on a retry with the same request number; some land on an
 * abnormal account and need the buyer to choose another way. */
#ifndef KM_REFUND_SANDBOX_H
#define KM_REFUND_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"
#include "core/ids.h"
#include "store/db.h"

struct payout_result {
    char status[20];                       /* processing | succeeded | requires_action | failed */
    char provider_refund_id[ID_BYTES_MAX];
    char detail[160];
};

/* Submit (or resubmit: the same request_no is the same refund). -KM_EBUSY: refused this time,
 * retry later with the same request number. Called outside any transaction. */
KM_MUST_USE int refund_sandbox_submit(const char *request_no, const char *payment_id,
                                      const char *method, int64_t amount_fen,
                                      struct payout_result *out, struct km_error *e);
/* Ask about a submitted refund, with a reader connection. */
KM_MUST_USE int refund_sandbox_query(struct db *reader, const char *request_no,
                                     struct payout_result *out, struct km_error *e);
/* Deliver due result callbacks to base_url + "/v1/callbacks/refunds/sandbox". */
int refund_sandbox_notify(struct db *reader, const char *base_url);

/* How long the route takes, and what the sandbox decides from the amount (docs/sandbox.md). */
int64_t refund_sandbox_route_delay_ms(const char *method);

#endif
