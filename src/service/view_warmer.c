/* The warmer: a ring of dropped order ids, each due a short delay after its drop, and one thread
 * that builds their views in turn (see the header). */
#include "service/view_warmer.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/sysmem.h"
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
    view_warmer_spare_fn spare;
    atomic_uint_fast64_t warmed, forgotten, held;
    /* The default spare_fn's last reading (the warmer's thread only). */
    int cpus;
    int64_t sample_at_us, sample_process_us, sample_own_us;
    bool sample_spare;
} vw = {.lock = PTHREAD_MUTEX_INITIALIZER};

bool view_warmer_cpu_spare(int64_t others_cpu_us, int64_t wall_us, int cpus)
{
    return others_cpu_us * 100 < wall_us * cpus * VIEW_WARM_BUSY_PERCENT;
}

static int64_t cpu_clock_us(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) {
        return 0;
    }
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The CPUs this process may run on, fewer where a control group's quota allows less (rounded
 * up: a quota of 1.5 CPUs runs on two). */
static int cpus_usable(void)
{
    int cpus = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
        cpus = CPU_COUNT(&set);
    } else {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cpus = n > 0 ? (int)n : 1;
    }
    uint64_t quota = sysmem_cpu_quota_millis("/proc/self/cgroup", "/sys/fs/cgroup");
    if (quota > 0 && (quota + 999) / 1000 < (uint64_t)cpus) {
        cpus = (int)((quota + 999) / 1000);
    }
    return cpus;
}

static void cpu_sample_take(void)
{
    vw.sample_at_us = clock_mono_us();
    vw.sample_process_us = cpu_clock_us(CLOCK_PROCESS_CPUTIME_ID);
    vw.sample_own_us = cpu_clock_us(CLOCK_THREAD_CPUTIME_ID);
}

/* The default spare_fn: the CPU time of the rest of kameng (every thread but the warmer) over
 * the last reading's window, against the CPUs it may use. A window shorter than half a warm
 * delay gives the last verdict again; none, or one older than a second (the warmer had nothing
 * to do), says nothing of now, so a short one is measured first. */
static bool spare_cpu(void)
{
    int64_t since = clock_mono_us() - vw.sample_at_us;
    if (vw.sample_at_us != 0 && since < (int64_t)VIEW_WARM_DELAY_MS * 1000 / 2) {
        return vw.sample_spare;
    }
    if (vw.sample_at_us == 0 || since > 1000 * 1000) {
        cpu_sample_take();
        struct timespec ts = {0, VIEW_WARM_DELAY_MS * 1000 * 1000 / 5};
        nanosleep(&ts, NULL);
    }
    int64_t at = vw.sample_at_us, process = vw.sample_process_us, own = vw.sample_own_us;
    cpu_sample_take();
    int64_t others = (vw.sample_process_us - process) - (vw.sample_own_us - own);
    vw.sample_spare = view_warmer_cpu_spare(others, vw.sample_at_us - at, vw.cpus);
    return vw.sample_spare;
}

struct build_ctx {
    const char *order_id;
};

static int build_on_own_connection(void *ctx, int64_t now, char **text, size_t *len,
                                   int64_t *valid_until)
{
    const struct build_ctx *b = ctx;
    return vw.build(vw.db, b->order_id, now, text, len, valid_until);
}

/* Waits on the monotonic clock, as the due times are (see view_warmer_start), until at_us or a
 * signal; with vw.lock held. */
static void wait_until(int64_t at_us)
{
    struct timespec until = {(time_t)(at_us / 1000000), (long)(at_us % 1000000) * 1000};
    pthread_cond_timedwait(&vw.wake, &vw.lock, &until);
}

/* Waits for the oldest note to fall due and for spare CPU, and takes it; false when stopping. */
static bool next_due(char order_id[ID_BYTES_MAX])
{
    bool spare = false;
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
        /* Notes are due in the order they came, so the oldest is the next one due. */
        const struct note *n = &vw.ring[vw.head];
        if (n->due_us > clock_mono_us()) {
            spare = false; /* asked again once this note is due */
            wait_until(n->due_us);
            continue;
        }
        if (spare) {
            memcpy(order_id, n->order_id, ID_BYTES_MAX);
            vw.head = (vw.head + 1) % VIEW_WARM_QUEUE;
            vw.count--;
            vw.building = true;
            pthread_mutex_unlock(&vw.lock);
            return true;
        }
        /* Asked without the lock, which the writer's notes take. While the CPUs are busy the
         * notes wait, and a full queue forgets the oldest: those views are built by their
         * next read, if one comes. */
        pthread_mutex_unlock(&vw.lock);
        spare = vw.spare();
        pthread_mutex_lock(&vw.lock);
        if (!spare && !vw.stopping) {
            atomic_fetch_add(&vw.held, 1);
            wait_until(clock_mono_us() + (int64_t)VIEW_WARM_DELAY_MS * 1000 / 2);
        }
    }
}

static void *warmer_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "kameng-warm");
    /* At the same priority as every other thread. A lower one would let a busy machine stop it
     * while it holds a lock the writer and the readers share (the queue's, a read-cache stripe,
     * SQLite's) or an old read snapshot, and they would wait on it. It yields between builds
     * instead, holding nothing, while the rest of kameng keeps the CPUs busy (next_due). */
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

int view_warmer_start(const char *db_path, view_warmer_build_fn build, view_warmer_spare_fn spare)
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
    vw.spare = spare != NULL ? spare : spare_cpu;
    vw.cpus = cpus_usable();
    vw.sample_at_us = 0;
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
    out->held = atomic_load(&vw.held);
    pthread_mutex_lock(&vw.lock);
    out->pending = vw.count + (vw.building ? 1 : 0);
    pthread_mutex_unlock(&vw.lock);
}
