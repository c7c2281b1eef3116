/* The timers: unpaid-order expiry, top-up submission and polling, escrow release, and the
 * sandbox providers' callbacks. A thread runs them every JOB_TICK_MS on whatever clock is in
 * use; POST /v1/test/clock/advance runs them at once after moving the test clock. */
#ifndef KM_JOBS_H
#define KM_JOBS_H

#include "core/check.h"

/* base_url: the shop itself (sandbox callbacks); webhook_url: "" for none. */
KM_MUST_USE int jobs_start(const char *db_path, const char *base_url, const char *webhook_url);
void jobs_stop(void);
/* Run every timer until nothing more is due (bounded). Safe from any thread but the writer. */
void jobs_run_now(void);
/* Sign a checkpoint of the evidence log if it grew (and keep a copy outside the database). */
void jobs_sign_checkpoint(void);

#endif
