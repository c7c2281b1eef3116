/* The background checkpoint: a passive checkpoint on its own connection (synchronous=FULL, so it
 * syncs the WAL before copying and the database after), run whenever the writer nudges. It never
 * blocks the writer or a reader; it copies what their snapshots allow, and tells the writer how
 * far it got, so that the writer restarts the WAL when little is left to copy. */
#include "service/checkpointer.h"

#include <pthread.h>
#include <stdbool.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "store/db.h"

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool wanted;
    bool running; /* a checkpoint is copying */
    bool held;    /* the writer is restarting the WAL: start no checkpoint */
    bool stopping;
    bool started;
    pthread_t thread;
    struct db *db;
    uint64_t wal_generation; /* counted by checkpointer_wal_started_over */
    int64_t copied;          /* frames of this generation's WAL known to be in the database */
    struct checkpointer_stats stats;
} ck = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void *checkpointer_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "kameng-ckpt");
    pthread_mutex_lock(&ck.lock);
    for (;;) {
        while ((!ck.wanted || ck.held) && !ck.stopping) {
            pthread_cond_wait(&ck.wake, &ck.lock);
        }
        if (ck.stopping) {
            break;
        }
        ck.wanted = false;
        ck.running = true;
        uint64_t generation = ck.wal_generation;
        pthread_mutex_unlock(&ck.lock);
        int64_t t0 = clock_mono_us();
        int64_t copied = 0;
        if (db_checkpoint(ck.db, &copied) != 0) {
            log_write(LOG_WARN, "checkpoint_failed", NULL);
        }
        int64_t took = clock_mono_us() - t0;
        pthread_mutex_lock(&ck.lock);
        /* A count from a WAL that has started over since would be the old file's. */
        if (ck.wal_generation == generation && copied > ck.copied) {
            ck.copied = copied;
        }
        ck.running = false;
        ck.stats.runs++;
        ck.stats.us_total += took;
    }
    pthread_mutex_unlock(&ck.lock);
    return NULL;
}

int checkpointer_start(const char *db_path)
{
    int rc = db_open(db_path, true, &ck.db);
    if (rc != 0) {
        return rc;
    }
    ck.stopping = false;
    ck.wanted = false;
    ck.running = false;
    ck.held = false;
    ck.copied = 0;
    if (pthread_create(&ck.thread, NULL, checkpointer_main, NULL) != 0) {
        db_close(ck.db);
        ck.db = NULL;
        return -KM_EINTERNAL;
    }
    ck.started = true;
    return 0;
}

void checkpointer_nudge(void)
{
    pthread_mutex_lock(&ck.lock); /* never held across a checkpoint: a short wait at most */
    ck.wanted = true;
    pthread_cond_signal(&ck.wake);
    pthread_mutex_unlock(&ck.lock);
}

int64_t checkpointer_copied(void)
{
    pthread_mutex_lock(&ck.lock);
    int64_t copied = ck.copied;
    pthread_mutex_unlock(&ck.lock);
    return copied;
}

bool checkpointer_hold(void)
{
    pthread_mutex_lock(&ck.lock);
    bool idle = !ck.running;
    ck.held = idle;
    pthread_mutex_unlock(&ck.lock);
    return idle;
}

void checkpointer_release(void)
{
    pthread_mutex_lock(&ck.lock);
    ck.held = false;
    pthread_cond_signal(&ck.wake);
    pthread_mutex_unlock(&ck.lock);
}

void checkpointer_wal_started_over(void)
{
    pthread_mutex_lock(&ck.lock);
    ck.wal_generation++;
    ck.copied = 0;
    pthread_mutex_unlock(&ck.lock);
}

void checkpointer_stop(void)
{
    if (!ck.started) {
        return;
    }
    pthread_mutex_lock(&ck.lock);
    ck.stopping = true;
    pthread_cond_signal(&ck.wake);
    pthread_mutex_unlock(&ck.lock);
    pthread_join(ck.thread, NULL);
    db_close(ck.db);
    ck.db = NULL;
    ck.started = false;
}

void checkpointer_stats_get(struct checkpointer_stats *out)
{
    pthread_mutex_lock(&ck.lock);
    *out = ck.stats;
    pthread_mutex_unlock(&ck.lock);
}
