/* The warmer: a ring of dropped order ids, each due a short delay after its drop, and one thread
 * that builds their views in turn (see the header). */
#include "service/view_warmer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/limits.h"
#include "core/log.h"
#include "store/db.h"

struct note {
    char order_id[ID_BYTES_MAX];
    int64_t due_us; /* monotonic */
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct note ring[VIEW_WARM_QUEUE];
    unsigned head; /* the oldest note */
    unsigned count;
    bool building; /* a note taken off the queue, its view not yet built */
    bool stopping;
    atomic_bool started; /* read by the writer's notes */
    pthread_t thread;
    struct db *db;
    view_warmer_build_fn build;
    atomic_uint_fast64_t warmed, forgotten;
} vw = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct build_ctx {
    const char *order_id;
};

static int build_on_own_connection(void *ctx, int64_t now, char **text, size_t *len,
                                   int64_t *valid_until)
{
    const struct build_ctx *b = ctx;
    return vw.build(vw.db, b->order_id, now, text, len, valid_until);
}

/* Waits for the oldest note to fall due and takes it; false when stopping. */
static bool next_due(char order_id[ID_BYTES_MAX])
{
    pthread_mutex_lock(&vw.lock);
    for (;;) {
        if (vw.stopping) {
            pthread_mutex_unlock(&vw.lock);
            return false;
        }
        if (vw.count == 0) {
            pthread_cond_wait(&vw.wake, &vw.lock);
            continue;
        }
        const struct note *n = &vw.ring[vw.head];
        int64_t wait_us = n->due_us - clock_mono_us();
        if (wait_us <= 0) {
            memcpy(order_id, n->order_id, ID_BYTES_MAX);
            vw.head = (vw.head + 1) % VIEW_WARM_QUEUE;
            vw.count--;
            vw.building = true;
            pthread_mutex_unlock(&vw.lock);
            return true;
        }
        /* Notes are due in the order they came, so the oldest is the next one due. The wait
         * is on the monotonic clock, as the due times are (see view_warmer_start). */
        int64_t due_us = n->due_us;
        struct timespec until = {(time_t)(due_us / 1000000), (long)(due_us % 1000000) * 1000};
        pthread_cond_timedwait(&vw.wake, &vw.lock, &until);
    }
}

static void *warmer_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "kameng-warm");
    /* At the same priority as every other thread. A lower one would let a busy machine stop it
     * while it holds a lock the writer and the readers share (the queue's, a read-cache stripe,
     * SQLite's) or an old read snapshot, and they would wait on it. */
    char order_id[ID_BYTES_MAX];
    while (next_due(order_id)) {
        struct build_ctx b = {.order_id = order_id};
        if (read_cache_view_warm(order_id, clock_now_ms(), build_on_own_connection, &b) == 0) {
            atomic_fetch_add(&vw.warmed, 1);
        }
        pthread_mutex_lock(&vw.lock);
        vw.building = false;
        pthread_mutex_unlock(&vw.lock);
    }
    return NULL;
}

int view_warmer_start(const char *db_path, view_warmer_build_fn build)
{
    int rc = db_open(db_path, false, &vw.db);
    if (rc != 0) {
        return rc;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&vw.wake, &attr);
    pthread_condattr_destroy(&attr);
    vw.build = build;
    vw.stopping = false;
    vw.head = 0;
    vw.count = 0;
    if (pthread_create(&vw.thread, NULL, warmer_main, NULL) != 0) {
        db_close(vw.db);
        vw.db = NULL;
        return -KM_EINTERNAL;
    }
    atomic_store(&vw.started, true);
    return 0;
}

void view_warmer_stop(void)
{
    if (!atomic_load(&vw.started)) {
        return;
    }
    atomic_store(&vw.started, false);
    pthread_mutex_lock(&vw.lock);
    vw.stopping = true;
    pthread_cond_signal(&vw.wake);
    pthread_mutex_unlock(&vw.lock);
    pthread_join(vw.thread, NULL);
    pthread_cond_destroy(&vw.wake);
    db_close(vw.db);
    vw.db = NULL;
}

void view_warmer_note(const char *order_id)
{
    if (!atomic_load(&vw.started) || strlen(order_id) >= ID_BYTES_MAX) {
        return;
    }
    int64_t due = clock_mono_us() + (int64_t)VIEW_WARM_DELAY_MS * 1000;
    pthread_mutex_lock(&vw.lock);
    if (vw.count == VIEW_WARM_QUEUE) {
        vw.head = (vw.head + 1) % VIEW_WARM_QUEUE; /* the oldest is forgotten */
        vw.count--;
        atomic_fetch_add(&vw.forgotten, 1);
    }
    struct note *n = &vw.ring[(vw.head + vw.count) % VIEW_WARM_QUEUE];
    memcpy(n->order_id, order_id, strlen(order_id) + 1);
    n->due_us = due;
    bool was_empty = vw.count == 0;
    vw.count++;
    if (was_empty) {
        pthread_cond_signal(&vw.wake);
    }
    pthread_mutex_unlock(&vw.lock);
}

void view_warmer_stats_get(struct view_warmer_stats *out)
{
    out->warmed = atomic_load(&vw.warmed);
    out->forgotten = atomic_load(&vw.forgotten);
    pthread_mutex_lock(&vw.lock);
    out->pending = vw.count + (vw.building ? 1 : 0);
    pthread_mutex_unlock(&vw.lock);
}
