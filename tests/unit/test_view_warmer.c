/* The view warmer: an order noted after a commit has its view built a moment later on the
 * warmer's own connection and kept, so the buyer's next read is served from memory; a full queue
 * forgets its oldest notes rather than make the writer wait; while the CPUs are busy it waits. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/limits.h"
#include "service/read_cache.h"
#include "service/view_warmer.h"
#include "store/db.h"
#include "temp_dir.h"

static char dir[64];
static char path[96];
static atomic_int builds;
static _Atomic int64_t first_build_us; /* monotonic time the first build began */

static atomic_bool hold_builds; /* a build of ord_block waits while this is set */
static atomic_bool cpus_busy;   /* what the warmer is told of spare CPU */
static atomic_int spare_asked;

static bool spare(void)
{
    atomic_fetch_add(&spare_asked, 1);
    return !atomic_load(&cpus_busy);
}

static int build(struct db *db, const char *order_id, int64_t now, char **text, size_t *len,
                 int64_t *valid_until)
{
    (void)now;
    (void)valid_until;
    cr_assert_not_null(db, "built on the warmer's own connection");
    if (atomic_fetch_add(&builds, 1) == 0) {
        atomic_store(&first_build_us, clock_mono_us());
    }
    while (strcmp(order_id, "ord_block") == 0 && atomic_load(&hold_builds)) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    char body[96];
    snprintf(body, sizeof body, "{\"id\":\"%s\"}", order_id);
    *text = strdup(body);
    *len = strlen(body);
    return 0;
}

static void start(void)
{
    temp_dir_make("warmer", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/shop.db", dir);
    struct db *db = NULL;
    cr_assert_eq(db_open(path, true, &db), 0); /* creates the file the warmer reads */
    db_close(db);
    read_cache_configure(64 << 20, false);
    atomic_store(&builds, 0);
    atomic_store(&first_build_us, 0);
    atomic_store(&hold_builds, false);
    atomic_store(&cpus_busy, false);
    atomic_store(&spare_asked, 0);
    cr_assert_eq(view_warmer_start(path, build, spare), 0);
}

static void finish(void)
{
    view_warmer_stop();
    read_cache_reset();
    temp_dir_remove(dir);
}

static uint64_t warmed_within(uint64_t want, int ms)
{
    struct view_warmer_stats s;
    for (int i = 0; i < ms / 10; i++) {
        view_warmer_stats_get(&s);
        if (s.warmed >= want) {
            return s.warmed;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    view_warmer_stats_get(&s);
    return s.warmed;
}

static bool kept(const char *order_id)
{
    size_t len = 0;
    char *text = read_cache_view_get(order_id, 0, &len);
    char want[96];
    snprintf(want, sizeof want, "{\"id\":\"%s\"}", order_id);
    bool ok = text != NULL && strcmp(text, want) == 0;
    free(text);
    return ok;
}

TestSuite(view_warmer, .init = start, .fini = finish);

Test(view_warmer, a_noted_order_has_its_view_kept_soon_after)
{
    read_cache_view_drop("ord_a"); /* what the executor does after a commit, in this order */
    view_warmer_note("ord_a");
    cr_assert_eq(warmed_within(1, 5000), 1);
    cr_assert(kept("ord_a"));
    cr_assert_eq(atomic_load(&builds), 1);
}

Test(view_warmer, waits_a_moment_after_the_commit)
{
    int64_t noted_us = clock_mono_us();
    view_warmer_note("ord_a");
    cr_assert_eq(warmed_within(1, 5000), 1);
    cr_assert_geq(atomic_load(&first_build_us) - noted_us, (int64_t)VIEW_WARM_DELAY_MS * 1000,
                  "an order often changes again at once");
}

Test(view_warmer, a_view_kept_meanwhile_is_not_built_again)
{
    view_warmer_note("ord_a");
    read_cache_view_put("ord_a", read_cache_view_gen("ord_a"), "{\"id\":\"ord_a\"}", 14, INT64_MAX);
    struct timespec ts = {0, (VIEW_WARM_DELAY_MS * 3) * 1000 * 1000};
    nanosleep(&ts, NULL);
    cr_assert_eq(atomic_load(&builds), 0, "a read built and kept it first");
    cr_assert(kept("ord_a"));
}

Test(view_warmer, a_full_queue_forgets_notes_instead_of_blocking_the_writer)
{
    /* The warmer is kept busy on one build, so nothing leaves the queue meanwhile. */
    atomic_store(&hold_builds, true);
    view_warmer_note("ord_block");
    for (int i = 0; i < 5000 && atomic_load(&builds) == 0; i++) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    cr_assert_eq(atomic_load(&builds), 1, "the warmer is building");
    char id[32];
    for (int i = 0; i < VIEW_WARM_QUEUE + 50; i++) {
        snprintf(id, sizeof id, "ord_%06d", i);
        view_warmer_note(id);
    }
    struct view_warmer_stats s;
    view_warmer_stats_get(&s);
    cr_assert_eq(s.forgotten, 50, "the oldest notes past the queue's room");
    cr_assert_eq(s.pending, VIEW_WARM_QUEUE + 1, "a full queue and the build under way");
    atomic_store(&hold_builds, false);
    snprintf(id, sizeof id, "ord_%06d", VIEW_WARM_QUEUE + 49);
    for (int i = 0; i < 3000 && !kept(id); i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    cr_assert(kept(id), "the newest note is kept and built");
    size_t len = 0;
    char *oldest = read_cache_view_get("ord_000000", 0, &len);
    cr_assert_null(oldest, "the oldest was forgotten");
}

Test(view_warmer, holds_its_notes_while_the_cpus_are_busy)
{
    atomic_store(&cpus_busy, true);
    view_warmer_note("ord_a");
    view_warmer_note("ord_b");
    for (int i = 0; i < 5000 && atomic_load(&spare_asked) < 3; i++) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    cr_assert_geq(atomic_load(&spare_asked), 3, "asked again while busy");
    cr_assert_eq(atomic_load(&builds), 0, "nothing built on busy CPUs");
    struct view_warmer_stats s;
    view_warmer_stats_get(&s);
    cr_assert_eq(s.pending, 2, "the notes wait, none is lost");
    cr_assert_geq(s.held, 2);
    atomic_store(&cpus_busy, false);
    cr_assert_eq(warmed_within(2, 5000), 2, "built once the CPUs have time");
    cr_assert(kept("ord_a"));
    cr_assert(kept("ord_b"));
}

Test(view_warmer, counts_the_cpu_time_of_the_rest_of_the_process_against_the_cpus)
{
    /* Over 100 ms on 2 CPUs: up to half of 200 ms of CPU time is spare. */
    cr_assert(view_warmer_cpu_spare(0, 100000, 2));
    cr_assert(view_warmer_cpu_spare(99999, 100000, 2));
    cr_assert_not(view_warmer_cpu_spare(100000, 100000, 2), "one of two CPUs kept busy");
    cr_assert_not(view_warmer_cpu_spare(180000, 100000, 2), "a burst of orders");
    cr_assert(view_warmer_cpu_spare(180000, 100000, 4), "the same on four CPUs");
    cr_assert_not(view_warmer_cpu_spare(50000, 100000, 1), "half of the only CPU");
}

Test(view_warmer, the_process_own_cpu_reading_finds_an_idle_process_spare)
{
    /* The shop's own reading of CPU time (no fake): with nothing else running in this process,
     * a noted order is built. */
    view_warmer_stop();
    cr_assert_eq(view_warmer_start(path, build, NULL), 0);
    view_warmer_note("ord_idle");
    cr_assert_eq(warmed_within(1, 5000), 1);
    cr_assert(kept("ord_idle"));
    struct view_warmer_stats s;
    view_warmer_stats_get(&s);
    cr_assert_eq(s.held, 0, "an idle process is not held back");
}
