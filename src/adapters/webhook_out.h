/* Outbound webhooks: every state change (order, payment, top-up, case, refund) is posted to the
 * operator's endpoint, signed like the providers' callbacks (Kameng-Signature: t=…,v1=HMAC-SHA256
 * of t.body), with a stable event id, retried with backoff until a 2xx acknowledges it. At least
 * once: receivers deduplicate by the event id. */
#ifndef KM_WEBHOOK_OUT_H
#define KM_WEBHOOK_OUT_H

#include <stdint.h>

#include "store/db.h"

#define WEBHOOK_ATTEMPTS_MAX 12       /* 2 s doubling to half an hour apart: about 2 hours in all */
#define WEBHOOK_BACKOFF_BASE_MS 2000
#define WEBHOOK_BATCH_MAX 64          /* per timer pass; the next pass takes more */

/* Deliver due events to url; "" disables delivery (events wait). Returns how many were sent. */
int webhook_deliver(struct db *reader, const char *url);
/* The signing secret receivers verify with, as hex (65 bytes). */
void webhook_secret_hex(char out[65]);

#endif
