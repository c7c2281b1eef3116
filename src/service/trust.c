/* Trust signals, read on a reader connection and kept for a minute: the figures scan the window's
 * orders and refunds, and the endpoint is public. */
#include "service/trust.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "core/err.h"
#include "service/cases.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct trust_report cached;
static int64_t cached_at = -1;
static bool computing; /* one thread computes; the others answer with the last report meanwhile */

int trust_report(struct db *reader, int64_t now, struct trust_report *out)
{
    pthread_mutex_lock(&lock);
    /* A test clock may move back to an earlier run's time: a report from the future is stale. */
    bool fresh = cached_at >= 0 && now >= cached_at && now - cached_at < TRUST_CACHE_MS;
    if (fresh || (computing && cached_at >= 0)) {
        *out = cached;
        pthread_mutex_unlock(&lock);
        return 0;
    }
    computing = true;
    pthread_mutex_unlock(&lock);

    memset(out, 0, sizeof *out);
    out->to = now;
    out->from = now - (int64_t)TRUST_WINDOW_DAYS * 86400 * 1000;
    if (db_begin_read(reader) != 0) {
        pthread_mutex_lock(&lock);
        computing = false;
        pthread_mutex_unlock(&lock);
        return -KM_EINTERNAL;
    }
    struct trust_window w = {.from = out->from,
                             .to = out->to,
                             .first_deadline_ms = (int64_t)CASE_SLA_HOURS * 3600 * 1000,
                             .appeal_deadline_ms = (int64_t)CASE_APPEAL_SLA_HOURS * 3600 * 1000};
    int rc = store_trust_counts(reader, &w, &out->shop, out->sellers, TRUST_SELLERS_MAX,
                                &out->seller_count);
    db_rollback(reader);
    pthread_mutex_lock(&lock);
    computing = false;
    if (rc == 0) {
        cached = *out;
        cached_at = now;
    }
    pthread_mutex_unlock(&lock);
    return rc == 0 ? 0 : -KM_EINTERNAL;
}
