/* The read cache's rules: a view is served until a commit drops it or its time runs out; a view
 * built before a drop is never kept; memory stays within the budget; tokens map to their order. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/ids.h"
#include "service/read_cache.h"

static void fresh(size_t bytes)
{
    read_cache_configure(bytes, false);
}

static bool served(const char *id, int64_t now, const char *want)
{
    size_t len = 0;
    char *got = read_cache_view_get(id, now, &len);
    bool ok = got != NULL && strcmp(got, want) == 0 && len == strlen(want);
    free(got);
    return ok;
}

static void put(const char *id, const char *body, int64_t valid_until)
{
    read_cache_view_put(id, read_cache_view_gen(id), body, strlen(body), valid_until);
}

Test(read_cache, serves_a_kept_view_until_a_commit_drops_it)
{
    fresh(1 << 20);
    size_t len = 0;
    cr_assert_null(read_cache_view_get("ord_a", 0, &len));
    put("ord_a", "{\"v\":1}", INT64_MAX);
    cr_assert(served("ord_a", 0, "{\"v\":1}"));
    read_cache_view_drop("ord_a");
    cr_assert_null(read_cache_view_get("ord_a", 0, &len));
    read_cache_reset();
}

Test(read_cache, never_keeps_a_view_built_before_a_drop)
{
    fresh(1 << 20);
    uint64_t gen = read_cache_view_gen("ord_a"); /* a reader starts building */
    read_cache_view_drop("ord_a");               /* a commit touches the order meanwhile */
    read_cache_view_put("ord_a", gen, "{\"old\":1}", 9, INT64_MAX);
    size_t len = 0;
    cr_assert_null(read_cache_view_get("ord_a", 0, &len));
    put("ord_a", "{\"new\":1}", INT64_MAX); /* a reader that started after the drop */
    cr_assert(served("ord_a", 0, "{\"new\":1}"));
    read_cache_reset();
}

Test(read_cache, a_view_expires_at_its_valid_until)
{
    fresh(1 << 20);
    put("ord_a", "{}", 1000);
    cr_assert(served("ord_a", 999, "{}"));
    size_t len = 0;
    cr_assert_null(read_cache_view_get("ord_a", 1000, &len));
    read_cache_reset();
}

Test(read_cache, dropping_one_order_keeps_the_others)
{
    fresh(64 << 20);
    char id[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "ord_%04d", i);
        put(id, id, INT64_MAX);
    }
    read_cache_view_drop("ord_0007");
    int kept = 0;
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "ord_%04d", i);
        kept += served(id, 0, id);
    }
    /* 2,000 orders in 65,536 places (64 MiB), four to a set: none pushes another out. */
    cr_assert_eq(kept, 1999);
    size_t len = 0;
    cr_assert_null(read_cache_view_get("ord_0007", 0, &len));
    read_cache_reset();
}

Test(read_cache, stays_within_its_memory_budget)
{
    fresh(64 << 10);
    static char body[10000];
    memset(body, 'x', sizeof body - 1);
    char id[32];
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "ord_%02d", i);
        put(id, body, INT64_MAX);
    }
    struct read_cache_stats st;
    read_cache_stats_get(&st);
    cr_assert_leq(st.view_bytes, 64 << 10);
    cr_assert_geq(st.view_bytes, 5 * sizeof body, "as many as fit are kept");
    read_cache_reset();
}

/* A large budget has places for its views: 100,000 views of 2 KiB, far within 512 MiB, are kept
 * and served, not pushed out of sets that overflowed: 99,942 are here, where a fixed 131,072
 * places kept 88,930. */
Test(read_cache, a_large_budget_keeps_the_views_it_has_memory_for)
{
    fresh((size_t)512 << 20);
    static char body[2048];
    memset(body, 'v', sizeof body - 1);
    enum { N = 100000 };
    char id[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "ord_%06d", i);
        put(id, body, INT64_MAX);
    }
    int kept = 0;
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "ord_%06d", i);
        kept += served(id, 0, body);
    }
    cr_assert_geq(kept, N * 995 / 1000, "%d of %d views kept", kept, N);
    read_cache_reset();
}

Test(read_cache, caching_off_keeps_nothing_but_tokens)
{
    fresh(0);
    put("ord_a", "{}", INT64_MAX);
    size_t len = 0;
    cr_assert_null(read_cache_view_get("ord_a", 0, &len));
    uint8_t hash[TOKEN_HASH_BYTES] = {1, 2, 3};
    char order[ID_BYTES_MAX];
    cr_assert_not(read_cache_token_get(hash, order, sizeof order));
    read_cache_token_put(hash, "ord_a");
    cr_assert(read_cache_token_get(hash, order, sizeof order));
    cr_assert_str_eq(order, "ord_a");
    hash[31] = 9; /* another token */
    cr_assert_not(read_cache_token_get(hash, order, sizeof order));
    read_cache_reset();
}

Test(read_cache, keeps_tens_of_thousands_of_tokens_side_by_side)
{
    /* Buyer tokens as orders get them, all in the same millisecond: their keys start with that
     * time, and only the hash after it may spread them over the sets. */
    cr_assert_geq(sodium_init(), 0);
    clock_use_test(1700000000000);
    fresh(1 << 20);
    enum { N = 30000 };
    static uint8_t hash[N][TOKEN_HASH_BYTES];
    char token[SECRET_BYTES_MAX], id[ID_BYTES_MAX], got[ID_BYTES_MAX];
    for (uint32_t i = 0; i < N; i++) {
        secret_new_timed("bt", token);
        token_hash(token, hash[i]);
        snprintf(id, sizeof id, "ord_%05u", (unsigned)i);
        read_cache_token_put(hash[i], id);
    }
    int kept = 0;
    for (uint32_t i = 0; i < N; i++) {
        snprintf(id, sizeof id, "ord_%05u", (unsigned)i);
        kept += read_cache_token_get(hash[i], got, sizeof got) && strcmp(got, id) == 0;
    }
    cr_assert_geq(kept, N * 99 / 100, "kept %d of %d", kept, N);
    read_cache_reset();
}

Test(read_cache, keeps_four_tokens_to_a_set_and_then_replaces_one)
{
    fresh(1 << 20);
    /* The set is chosen by the key's last 8 bytes: these five differ only before them. */
    uint8_t hash[5][TOKEN_HASH_BYTES] = {{0}};
    char id[5][ID_BYTES_MAX], got[ID_BYTES_MAX];
    for (int i = 0; i < 5; i++) {
        hash[i][31] = 7;
        hash[i][0] = (uint8_t)(i + 1);
        snprintf(id[i], sizeof id[i], "ord_way%d", i);
    }
    for (int i = 0; i < 4; i++) {
        read_cache_token_put(hash[i], id[i]);
    }
    for (int i = 0; i < 4; i++) {
        cr_assert(read_cache_token_get(hash[i], got, sizeof got), "token %d of 4 kept", i);
        cr_assert_str_eq(got, id[i]);
    }
    read_cache_token_put(hash[4], id[4]); /* a fifth in the full set takes one way */
    int kept = 0;
    for (int i = 0; i < 5; i++) {
        bool hit = read_cache_token_get(hash[i], got, sizeof got);
        cr_assert(!hit || strcmp(got, id[i]) == 0, "token %d opens only its own order", i);
        kept += hit;
    }
    cr_assert_eq(kept, 4);
    cr_assert(read_cache_token_get(hash[4], got, sizeof got), "the newest is kept");
    read_cache_reset();
}

Test(read_cache, a_full_budget_still_takes_an_orders_newer_view)
{
    fresh(16 << 10);
    static char body[12000];
    memset(body, 'a', sizeof body - 1);
    put("ord_a", body, INT64_MAX);
    cr_assert(served("ord_a", 0, body));
    memset(body, 'b', sizeof body - 1); /* the order changed: its new view replaces the old */
    put("ord_a", body, INT64_MAX);
    cr_assert(served("ord_a", 0, body));
    read_cache_reset();
}

struct fake_build {
    const char *text;
    int calls;
};

static int fake_build(void *ctx, int64_t now, char **text, size_t *len, int64_t *valid_until)
{
    (void)now;
    (void)valid_until;
    struct fake_build *b = ctx;
    b->calls++;
    *text = strdup(b->text);
    *len = strlen(b->text);
    return 0;
}

Test(read_cache, a_read_builds_once_then_serves_what_it_kept)
{
    fresh(1 << 20);
    struct fake_build b = {.text = "{\"v\":1}"};
    for (int i = 0; i < 3; i++) {
        char *text = NULL;
        size_t len = 0;
        cr_assert_eq(read_cache_view_read("ord_a", 0, fake_build, &b, &text, &len), 0);
        cr_assert_str_eq(text, "{\"v\":1}");
        free(text);
    }
    cr_assert_eq(b.calls, 1);
    read_cache_reset();
}

/* What --verify-read-cache is for: a kept view that a fresh build contradicts (a write the
 * triggers missed) stops the process instead of being served. */
Test(read_cache, verify_mode_stops_on_a_stale_kept_view, .signal = SIGABRT)
{
    read_cache_configure(1 << 20, true);
    put("ord_a", "{\"status\":\"pending_payment\"}", INT64_MAX);
    struct fake_build b = {.text = "{\"status\":\"paid\"}"};
    char *text = NULL;
    size_t len = 0;
    (void)read_cache_view_read("ord_a", 0, fake_build, &b, &text, &len);
    free(text);
}

/* The view warmer's way in (read_cache_view_warm): build ahead of a read, keep only where there
 * is room, and never keep what a commit made stale meanwhile. */
Test(read_cache, a_warmed_view_is_what_the_next_read_is_served)
{
    fresh(1 << 20);
    struct fake_build b = {.text = "{\"v\":2}"};
    cr_assert_eq(read_cache_view_warm("ord_a", 0, fake_build, &b), 0);
    char *text = NULL;
    size_t len = 0;
    cr_assert_eq(read_cache_view_read("ord_a", 0, fake_build, &b, &text, &len), 0);
    cr_assert_str_eq(text, "{\"v\":2}");
    free(text);
    cr_assert_eq(b.calls, 1, "the read was served what the warmer built");
    struct read_cache_stats s;
    read_cache_stats_get(&s);
    cr_assert_eq(s.view_hits, 1);
    cr_assert_eq(s.view_misses, 0, "warming is not a read: it counts no miss");
    read_cache_reset();
}

Test(read_cache, warming_leaves_a_kept_view_alone)
{
    fresh(1 << 20);
    put("ord_a", "{\"v\":1}", INT64_MAX);
    struct fake_build b = {.text = "{\"v\":9}"};
    cr_assert_eq(read_cache_view_warm("ord_a", 0, fake_build, &b), 1);
    cr_assert_eq(b.calls, 0);
    cr_assert(served("ord_a", 0, "{\"v\":1}"));
    read_cache_reset();
}

Test(read_cache, warming_never_pushes_out_another_view)
{
    fresh(16 << 10);
    static char body[12000];
    memset(body, 'a', sizeof body - 1);
    put("ord_a", body, INT64_MAX); /* most of the budget */
    struct fake_build b = {.text = body};
    cr_assert_eq(read_cache_view_warm("ord_b", 0, fake_build, &b), 1, "no room: not kept");
    cr_assert(served("ord_a", 0, body), "the view a buyer read is still there");
    size_t len = 0;
    cr_assert_null(read_cache_view_get("ord_b", 0, &len));
    read_cache_reset();
}

static int build_while_a_commit_lands(void *ctx, int64_t now, char **text, size_t *len,
                                      int64_t *valid_until)
{
    read_cache_view_drop("ord_a"); /* the writer commits a change to the order mid-build */
    return fake_build(ctx, now, text, len, valid_until);
}

Test(read_cache, a_view_warmed_across_a_commit_is_not_kept)
{
    fresh(1 << 20);
    struct fake_build b = {.text = "{\"stale\":1}"};
    cr_assert_eq(read_cache_view_warm("ord_a", 0, build_while_a_commit_lands, &b), 1);
    size_t len = 0;
    cr_assert_null(read_cache_view_get("ord_a", 0, &len));
    read_cache_reset();
}

/* What the executor asks the warmer to rebuild: a view somebody has been reading, not one that
 * only the warmer built and nobody read since. */
Test(read_cache, a_drop_tells_whether_anyone_was_reading_the_view)
{
    fresh(1 << 20);
    cr_assert_not(read_cache_view_drop("ord_a"), "no view kept");
    put("ord_a", "{}", INT64_MAX); /* built by a read */
    cr_assert(read_cache_view_drop("ord_a"));
    struct fake_build b = {.text = "{}"};
    cr_assert_eq(read_cache_view_warm("ord_a", 0, fake_build, &b), 0);
    cr_assert_not(read_cache_view_drop("ord_a"), "warmed, then changed again before any read");
    cr_assert_eq(read_cache_view_warm("ord_a", 0, fake_build, &b), 0);
    cr_assert(served("ord_a", 0, "{}"));
    cr_assert(read_cache_view_drop("ord_a"), "warmed and read");
    read_cache_reset();
}
