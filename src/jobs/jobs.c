/* One timer thread; a mutex makes a test-clock advance and the ticker take turns. Each timer
 * reads what is due on its own reader connection and changes it through the executor. */
#include "jobs/jobs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "adapters/dispute_sandbox.h"
#include "adapters/http_out.h"
#include "adapters/payment_sandbox.h"
#include "adapters/refund_sandbox.h"
#include "adapters/upstream.h"
#include "adapters/webhook_out.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/limits.h"
#include "core/log.h"
#include "service/checkpointer.h"
#include "service/disputes.h"
#include "service/evidence_log.h"
#include "service/executor.h"
#include "service/fulfilment.h"
#include "service/orders.h"
#include "service/payouts.h"
#include "service/refunds.h"
#include "store/store_refunds.h"
#include "store/store.h"

#define JOB_ROUNDS_MAX 8 /* one advance settles chains (pay -> submit -> callback) in a few rounds */

static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t thread;
static atomic_bool stopping;
static bool started;
static struct db *reader;
static char base_url[256];
static char webhook_url[256];

struct id_arg {
    const char *id;
    int64_t now;
    struct km_error e;
};

static int expire_run(struct db *db, void *arg)
{
    struct id_arg *a = arg;
    return orders_expire(db, a->id, a->now, &a->e);
}

static int overdue_run(struct db *db, void *arg)
{
    struct id_arg *a = arg;
    return payouts_note_overdue(db, a->id, a->now, &a->e);
}

static int confirm_run(struct db *db, void *arg)
{
    struct id_arg *a = arg;
    return fulfil_confirm(db, a->id, "escrow_timeout", a->now, &a->e);
}

struct topup_arg {
    const char *id;
    const char *ref;
    struct upstream_result result;
    int64_t now;
    struct km_error e;
};

static int submitted_run(struct db *db, void *arg)
{
    struct topup_arg *a = arg;
    return fulfil_topup_submitted(db, a->id, a->ref, a->now, &a->e);
}

static int cancel_run(struct db *db, void *arg)
{
    struct topup_arg *a = arg;
    return fulfil_topup_cancel(db, a->id, a->now, &a->e);
}

static int polled_run(struct db *db, void *arg)
{
    struct topup_arg *a = arg;
    return fulfil_topup_result(db, a->id, a->result.status, a->result.credited_region,
                               a->result.detail, "poll", a->now, &a->e);
}

struct checkpoint_arg {
    char note[NOTE_BYTES_MAX];
    bool signed_now;
    struct km_error e;
};

static int checkpoint_run(struct db *db, void *arg)
{
    struct checkpoint_arg *a = arg;
    return evlog_checkpoint(db, clock_now_ms(), a->note, &a->signed_now, &a->e);
}

static pthread_mutex_t checkpoint_lock = PTHREAD_MUTEX_INITIALIZER;

void jobs_sign_checkpoint(void)
{
    static struct checkpoint_arg a;
    pthread_mutex_lock(&checkpoint_lock); /* the timers and a receipt request may both ask */
    memset(&a, 0, sizeof a);
    int rc = executor_run(checkpoint_run, &a);
    if (rc != 0) {
        /* A fork or roll-back: refused, loudly, every pass until a person looks. */
        log_write(LOG_ERROR, "checkpoint_refused", "message", a.e.message, NULL);
    } else if (a.signed_now && evlog_checkpoint_save(a.note) != 0) {
        log_write(LOG_ERROR, "checkpoint_save_failed", NULL);
    }
    pthread_mutex_unlock(&checkpoint_lock);
}

static int refund_sweep_run(struct db *db, void *arg)
{
    struct id_arg *a = arg;
    return refunds_auto(db, a->id, a->now, &a->e);
}

struct payout_arg {
    const char *id;
    struct payout_result result;
    const char *why;
    int64_t now;
    struct km_error e;
};

static int payout_accepted_run(struct db *db, void *arg)
{
    struct payout_arg *a = arg;
    return payouts_accepted(db, a->id, a->result.provider_refund_id, a->now, &a->e);
}

static int payout_refused_run(struct db *db, void *arg)
{
    struct payout_arg *a = arg;
    return payouts_refused(db, a->id, a->why, a->now, &a->e);
}

static int payout_unanswered_run(struct db *db, void *arg)
{
    struct payout_arg *a = arg;
    return payouts_unanswered(db, a->id, a->why, a->now, &a->e);
}

static int payout_result_run(struct db *db, void *arg)
{
    struct payout_arg *a = arg;
    return payouts_result(db, a->id, a->result.status, a->result.detail, a->now, &a->e);
}

typedef int (*lister)(struct db *, int64_t, char (*)[ID_BYTES_MAX], int, int *);

static int list_due(lister fn, char (*ids)[ID_BYTES_MAX], int *count)
{
    *count = 0;
    if (db_begin_read(reader) != 0) {
        return 0;
    }
    int rc = fn(reader, clock_now_ms(), ids, JOB_BATCH_MAX, count);
    db_rollback(reader);
    return rc;
}

static int run_each(lister fn, int (*run)(struct db *, void *), const char *what)
{
    static char ids[JOB_BATCH_MAX][ID_BYTES_MAX];
    int count = 0;
    if (list_due(fn, ids, &count) != 0) {
        return 0;
    }
    for (int i = 0; i < count && !atomic_load(&stopping); i++) {
        struct id_arg a = {.id = ids[i], .now = clock_now_ms()};
        if (executor_run(run, &a) != 0) {
            log_write(LOG_WARN, "job_step_failed", "job", what, "id", ids[i], "message",
                      a.e.message, NULL);
        }
    }
    return count;
}

static int topups(void)
{
    static char ids[JOB_BATCH_MAX][ID_BYTES_MAX];
    int count = 0;
    if (list_due(store_topups_due, ids, &count) != 0) {
        return 0;
    }
    for (int i = 0; i < count && !atomic_load(&stopping); i++) {
        struct topup t;
        if (db_begin_read(reader) != 0) {
            continue;
        }
        int rc = store_topup_get(reader, ids[i], &t);
        db_rollback(reader);
        if (rc != 0) {
            continue;
        }
        struct topup_arg a = {.id = t.id};
        char ref[ID_BYTES_MAX] = "";
        struct order o;
        if (db_begin_read(reader) != 0) {
            continue;
        }
        rc = store_order_get(reader, t.order_id, &o);
        db_rollback(reader);
        if (rc == 0 && strcmp(t.status, "queued") == 0 && strcmp(o.status, "refunded") == 0) {
            /* Refunded before it went out (E1): it must never reach the upstream now. */
            a.now = clock_now_ms();
            rc = executor_run(cancel_run, &a);
        } else if (strcmp(t.status, "queued") == 0) {
            /* The outside call happens here, between transactions, never inside one. */
            if (upstream_sandbox_submit(&t, ref, sizeof ref, &a.e) != 0) {
                log_write(LOG_WARN, "topup_submit_failed", "topup_id", t.id, NULL);
                continue;
            }
            a.ref = ref;
            a.now = clock_now_ms();
            rc = executor_run(submitted_run, &a);
        } else {
            if (db_begin_read(reader) != 0) {
                continue;
            }
            rc = upstream_sandbox_query(reader, t.upstream_ref, &a.result, &a.e);
            db_rollback(reader);
            if (rc != 0) {
                continue;
            }
            a.now = clock_now_ms();
            rc = executor_run(polled_run, &a);
        }
        if (rc != 0) {
            log_write(LOG_WARN, "topup_step_failed", "topup_id", t.id, "message", a.e.message,
                      NULL);
        }
    }
    return count;
}

/* Refunds whose next step is due: submit (again, with the same request number) or ask. */
static int payouts(void)
{
    static char ids[JOB_BATCH_MAX][ID_BYTES_MAX];
    int count = 0;
    if (list_due(store_refunds_due, ids, &count) != 0) {
        return 0;
    }
    for (int i = 0; i < count && !atomic_load(&stopping); i++) {
        struct refund_row r;
        if (db_begin_read(reader) != 0) {
            continue;
        }
        int rc = store_refund_get(reader, ids[i], &r);
        db_rollback(reader);
        if (rc != 0) {
            continue;
        }
        struct payout_arg a = {.id = r.id};
        if (r.provider_refund_id[0] == '\0') {
            rc = refund_sandbox_submit(r.provider_request_no, r.payment_id, r.method,
                                       r.amount_fen, &a.result, &a.e);
            a.now = clock_now_ms();
            a.why = a.e.message;
            /* Only the provider's refusal counts toward giving up; silence may hide a refund it
             * took, which a second payout would pay twice. */
            rc = executor_run(rc == 0                ? payout_accepted_run
                              : a.e.code == KM_EBUSY ? payout_refused_run
                                                     : payout_unanswered_run,
                              &a);
        } else {
            if (db_begin_read(reader) != 0) {
                continue;
            }
            rc = refund_sandbox_query(reader, r.provider_request_no, &a.result, &a.e);
            db_rollback(reader);
            if (rc != 0) {
                continue;
            }
            a.now = clock_now_ms();
            rc = executor_run(payout_result_run, &a);
        }
        if (rc != 0) {
            log_write(LOG_WARN, "payout_step_failed", "refund_id", r.id, "message", a.e.message,
                      NULL);
        }
    }
    return count;
}

struct dispute_poll_arg {
    struct dispute_row d;
    char outcome[8];
    char detail[64];
    int64_t now;
    bool replayed;
    struct km_error e;
};

static int dispute_polled_run(struct db *db, void *arg)
{
    struct dispute_poll_arg *a = arg;
    struct dispute_row out;
    return disputes_close(db, a->d.provider_dispute_id, a->d.payment_id, a->outcome, a->detail,
                          a->now, &out, &a->replayed, &a->e);
}

static int dispute_poll_later_run(struct db *db, void *arg)
{
    struct dispute_poll_arg *a = arg;
    return store_dispute_poll_later(db, a->d.id, a->now + DISPUTE_POLL_RETRY_MS) == 0
               ? 0
               : km_fail(&a->e, KM_EINTERNAL, "storage_error", NULL, "not stored");
}

static int disputes_lapsed(struct db *db, int64_t now, char (*ids)[ID_BYTES_MAX], int max,
                           int *count)
{
    return store_disputes_to_poll(db, now, DISPUTE_POLL_GRACE_MS, ids, max, count);
}

/* Disputes whose decision should have come: asked about at the provider, as payouts are, in case
 * its notification was lost. Counts the ones it closed. */
static int dispute_polls(void)
{
    static char ids[JOB_BATCH_MAX][ID_BYTES_MAX];
    int count = 0, closed = 0;
    if (list_due(disputes_lapsed, ids, &count) != 0) {
        return 0;
    }
    for (int i = 0; i < count && !atomic_load(&stopping); i++) {
        struct dispute_poll_arg a = {0};
        if (db_begin_read(reader) != 0) {
            continue;
        }
        int rc = store_dispute_get(reader, ids[i], &a.d);
        rc = rc != 0 ? rc
                     : dispute_sandbox_query(reader, a.d.provider_dispute_id, a.outcome, a.detail,
                                             &a.e);
        db_rollback(reader);
        a.now = clock_now_ms();
        if (rc == 0 && a.outcome[0] != '\0') {
            rc = executor_run(dispute_polled_run, &a);
            if (rc == 0 && !a.replayed) {
                log_write(LOG_INFO, "dispute_closed_by_poll", "dispute_id", ids[i], NULL);
                closed++;
            }
            if (rc == 0) {
                continue;
            }
        }
        /* Still deciding, or the question or the close failed: ask again later. */
        if (rc != 0) {
            log_write(LOG_WARN, "dispute_poll_failed", "dispute_id", ids[i], "message",
                      a.e.message[0] ? a.e.message : "storage", NULL);
        }
        if (executor_run(dispute_poll_later_run, &a) != 0) {
            log_write(LOG_WARN, "dispute_poll_failed", "dispute_id", ids[i], "message", a.e.message,
                      NULL);
        }
    }
    return closed;
}

/* Set when a pass ended with the sandbox providers' notifications still coming (every round sent
 * some): the next pass then follows at once instead of a tick later, so a backlog (a burst of paid
 * orders waiting for their notifications) drains as fast as the writer commits it. Only those
 * count: a notification that fails waits for its backoff, whereas a top-up, payout or webhook that
 * keeps failing is due again at once, and must not be retried every few milliseconds. */
static atomic_bool backlog;
static int64_t checkpointed_us; /* timer thread only */

void jobs_run_now(void)
{
    pthread_mutex_lock(&run_lock);
    bool busy = false;
    for (int round = 0; round < JOB_ROUNDS_MAX && !atomic_load(&stopping); round++) {
        int work = 0, notified = 0;
        work += run_each(store_orders_expired, expire_run, "expire_orders");
        notified += payment_sandbox_notify(reader, base_url);
        notified += dispute_sandbox_notify(reader, base_url);
        work += topups();
        notified += upstream_sandbox_notify(reader, base_url);
        work += run_each(store_orders_escrow_due, confirm_run, "escrow_release");
        /* Not counted as work: a candidate the policy declines stays a candidate. */
        (void)run_each(store_orders_refund_candidates, refund_sweep_run, "refund_sweep");
        work += payouts();
        work += dispute_polls();
        work += run_each(store_refunds_newly_overdue, overdue_run, "refund_overdue");
        notified += refund_sandbox_notify(reader, base_url);
        work += webhook_deliver(reader, webhook_url);
        busy = notified != 0;
        if (work + notified == 0) {
            break;
        }
    }
    atomic_store(&backlog, busy);
    /* Checkpoints keep the tick's pace while a backlog drains. */
    int64_t now_us = clock_mono_us();
    if (now_us - checkpointed_us >= (int64_t)JOB_TICK_MS * 1000 || !busy) {
        checkpointed_us = now_us;
        jobs_sign_checkpoint();
        checkpointer_nudge(); /* a quiet shop's WAL is copied into the database too */
    }
    pthread_mutex_unlock(&run_lock);
}

static void *jobs_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "kameng-timers");
    http_out_keep_connections(); /* its notifications to the shop reuse their connections */
    /* A tick's sleep comes first: at start-up the server begins listening meanwhile. */
    while (!atomic_load(&stopping)) {
        long ms = atomic_load(&backlog) ? JOB_BACKLOG_PAUSE_MS : JOB_TICK_MS;
        struct timespec ts = {0, ms * 1000L * 1000L};
        nanosleep(&ts, NULL);
        if (!atomic_load(&stopping)) {
            jobs_run_now();
        }
    }
    return NULL;
}

int jobs_start(const char *db_path, const char *url, const char *webhooks)
{
    snprintf(base_url, sizeof base_url, "%s", url);
    snprintf(webhook_url, sizeof webhook_url, "%s", webhooks);
    int rc = db_open(db_path, false, &reader);
    if (rc != 0) {
        return rc;
    }
    /* The timers call the outside world (upstreams, providers, webhooks) with what they read. */
    db_set_read_fence(reader, executor_read_fence);
    atomic_store(&stopping, false);
    if (pthread_create(&thread, NULL, jobs_main, NULL) != 0) {
        db_close(reader);
        return -KM_EINTERNAL;
    }
    started = true;
    return 0;
}

void jobs_stop(void)
{
    if (!started) {
        return;
    }
    atomic_store(&stopping, true);
    pthread_join(thread, NULL);
    db_close(reader);
    reader = NULL;
    started = false;
}
