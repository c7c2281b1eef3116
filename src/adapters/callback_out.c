/* Signing, posting and the backoff schedule, once. */
#include "adapters/callback_out.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/http_out.h"
#include "adapters/signature.h"
#include "core/check.h"
#include "core/clock.h"
#include "core/json_out.h"
#include "core/limits.h"
#include "core/log.h"
#include "service/executor.h"

#define BACKOFF_DOUBLINGS_MAX 10 /* base 2 s doubles to about half an hour, then stays there */

/* When the attempt after one that was not acknowledged is due. */
static int64_t retry_at_after(int64_t attempts_before, int64_t base_ms)
{
    int64_t doublings =
        attempts_before < BACKOFF_DOUBLINGS_MAX ? attempts_before : BACKOFF_DOUBLINGS_MAX;
    return clock_now_ms() + (base_ms << doublings);
}

bool callback_post(const uint8_t key[32], const char *url, json_t *body, int64_t attempts_before,
                   int64_t base_ms, int64_t *retry_at, long *status)
{
    size_t len = 0;
    char *text = json_out(body, &len);
    json_decref(body);
    char sig[SIGNATURE_HEADER_BYTES];
    signature_make(key, clock_now_ms(), text, len, sig);
    *status = 0;
    bool ok = http_out_post(url, text, sig, status) == 0 && *status >= 200 && *status < 300;
    free(text);
    *retry_at = ok ? 0 : retry_at_after(attempts_before, base_ms);
    return ok;
}

/* Outcomes waiting to be recorded: at most a batch short of a record, plus a whole window. */
#define MARKS_MAX (CALLBACK_MARK_BATCH + HTTP_OUT_PARALLEL_MAX)
/* Records being committed while the window goes on: the pass waits for a free one when all are
 * out, and for all of them before it ends, so the next pass reads only what they left due. */
#define RECORDS_IN_FLIGHT 4

struct record {
    struct write_cmd cmd;
    callback_mark_fn mark;
    int count;
    char ids[MARKS_MAX][ID_BYTES_MAX];
    int64_t retry_at[MARKS_MAX]; /* 0: acknowledged */
    bool busy;                   /* under records_lock */
};

static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t records_free = PTHREAD_COND_INITIALIZER;

/* One pass of callback_deliver_window; the timer thread's only, under its lock. */
static struct window {
    const char *what;
    int64_t base_ms;
    callback_mark_fn mark;
    struct {
        char id[ID_BYTES_MAX];
        int64_t attempts;
        bool used;
    } post[HTTP_OUT_PARALLEL_MAX];
    struct record records[RECORDS_IN_FLIGHT];
    struct record *filling; /* the record the outcomes go into, not yet submitted */
    int acked;
} win;

static int record_run(struct db *db, void *arg)
{
    const struct record *r = arg;
    int64_t now = clock_now_ms();
    for (int i = 0; i < r->count; i++) {
        int rc = r->mark(db, r->ids[i], now, r->retry_at[i]);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static void record_done(void *arg, int rc)
{
    struct record *r = arg;
    if (rc != 0) {
        /* Not recorded, so due again: the receiver takes a repeated notification as done. */
        log_write(LOG_ERROR, "callback_mark_failed", "sender", win.what, NULL);
    }
    pthread_mutex_lock(&records_lock);
    r->busy = false;
    pthread_cond_broadcast(&records_free);
    pthread_mutex_unlock(&records_lock);
}

/* A record to put outcomes in: the one being filled, else one free (waiting for it). */
static struct record *record_open(void)
{
    if (win.filling != NULL) {
        return win.filling;
    }
    pthread_mutex_lock(&records_lock);
    for (;;) {
        for (int i = 0; i < RECORDS_IN_FLIGHT; i++) {
            if (!win.records[i].busy) {
                win.filling = &win.records[i];
                win.filling->busy = true;
                win.filling->count = 0;
                pthread_mutex_unlock(&records_lock);
                return win.filling;
            }
        }
        pthread_cond_wait(&records_free, &records_lock);
    }
}

/* Sends the record being filled to the writer. A record the writer's queue refuses is not
 * kept: its notifications are due again, and the receiver takes a repeat as done. */
static void record_submit(void)
{
    struct record *r = win.filling;
    if (r == NULL) {
        return;
    }
    win.filling = NULL;
    r->mark = win.mark;
    r->cmd =
        (struct write_cmd){.run = record_run, .done = record_done, .arg = r, .rerunnable = true};
    int rc = r->count == 0 ? 0 : executor_submit(&r->cmd);
    if (r->count == 0 || rc != 0) {
        record_done(r, rc);
    }
}

static void records_wait_all(void)
{
    pthread_mutex_lock(&records_lock);
    for (int i = 0; i < RECORDS_IN_FLIGHT; i++) {
        while (win.records[i].busy) {
            pthread_cond_wait(&records_free, &records_lock);
        }
    }
    pthread_mutex_unlock(&records_lock);
}

static void window_outcome(int slot, long status)
{
    bool ok = status >= 200 && status < 300;
    if (ok) {
        win.acked++;
    } else {
        log_write(LOG_WARN, "callback_not_acknowledged", "sender", win.what, "id",
                  win.post[slot].id, NULL);
    }
    struct record *r = record_open();
    km_assert(r->count < MARKS_MAX);
    memcpy(r->ids[r->count], win.post[slot].id, sizeof r->ids[0]);
    r->retry_at[r->count] = ok ? 0 : retry_at_after(win.post[slot].attempts, win.base_ms);
    r->count++;
    win.post[slot].used = false;
}

static void window_done(void *ud, void *tag, char *body, long status)
{
    (void)ud;
    free(body);
    window_outcome((int)(intptr_t)tag, status);
}

/* Reads what is due after *after and puts as much of it in the window as has room. Returns how
 * many were due. */
static int window_fill(const uint8_t key[32], const char *url, struct db *reader,
                       callback_due_fn due, int64_t *after)
{
    static struct callback_due items[HTTP_OUT_PARALLEL_MAX];
    int room = HTTP_OUT_PARALLEL_MAX - http_out_pipe_in_flight();
    int count = 0;
    if (db_begin_read(reader) != 0) {
        return 0;
    }
    int rc = due(reader, clock_now_ms(), *after, items, room, &count);
    db_rollback(reader);
    if (rc != 0) {
        return 0;
    }
    int slot = 0;
    for (int i = 0; i < count; i++) {
        struct callback_due *d = &items[i];
        while (win.post[slot].used) {
            slot++;
        }
        win.post[slot].used = true;
        memcpy(win.post[slot].id, d->id, sizeof d->id);
        win.post[slot].attempts = d->attempts;
        *after = d->due_at > *after ? d->due_at : *after;
        size_t len = 0;
        char *text = json_out(d->body, &len);
        json_decref(d->body);
        char sig[SIGNATURE_HEADER_BYTES];
        signature_make(key, clock_now_ms(), text, len, sig);
        if (http_out_pipe_add(url, text, sig, (void *)(intptr_t)slot) != 0) {
            free(text);
            window_outcome(slot, 0);
        }
    }
    return count;
}

int callback_deliver_window(const uint8_t key[32], const char *url, struct db *reader,
                            callback_due_fn due, int64_t base_ms, callback_mark_fn mark,
                            const char *what)
{
    km_assert(http_out_pipe_in_flight() == 0 && win.filling == NULL);
    win.what = what;
    win.base_ms = base_ms;
    win.mark = mark;
    win.acked = 0;
    int64_t after = INT64_MIN;
    int64_t until_us = clock_mono_us() + (int64_t)CALLBACK_PASS_MS * 1000;
    bool filling = true;
    for (;;) {
        /* Refilled once a good part of the window is free: each read waits for the last
         * commit's sync (the reader's fence), so not after every answer. */
        if (filling && http_out_pipe_in_flight() <= HTTP_OUT_PARALLEL_MAX / 2) {
            int got = window_fill(key, url, reader, due, &after);
            filling = (got > 0 || http_out_pipe_in_flight() > 0) && clock_mono_us() < until_us;
        }
        if (http_out_pipe_in_flight() == 0) {
            if (!filling) {
                break;
            }
            continue;
        }
        (void)http_out_pipe_collect(100, window_done, NULL);
        if (win.filling != NULL && win.filling->count >= CALLBACK_MARK_BATCH) {
            record_submit();
        }
    }
    record_submit();
    records_wait_all();
    return win.acked;
}
