/* Two 4-way set-associative tables, so that entries whose keys hash alike do not keep evicting
 * each other while buyers poll: buyer tokens, and order views with a generation per set (see the
 * header). A set is guarded by the lock stripe its index picks. */
#include "service/read_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/check.h"
#include "core/limits.h"
#include "core/log.h"

#define LOCK_STRIPES 64
#define TOKEN_SETS 65536 /* 262,144 tokens, 19 MB: few sets overflow below 100,000 */
#define WAYS 4

struct view {
    int64_t valid_until;
    bool read; /* served to a reader since it was built: someone is watching the order */
    size_t len;
    char order_id[ID_BYTES_MAX];
    char body[]; /* len bytes and a NUL */
};

struct view_set {
    uint64_t gen;
    unsigned next_victim;
    struct view *way[WAYS];
};

struct token_slot {
    uint8_t hash[TOKEN_HASH_BYTES];
    char order_id[ID_BYTES_MAX]; /* "": empty */
};

struct token_set {
    unsigned next_victim;
    struct token_slot way[WAYS];
};

static struct {
    pthread_mutex_t locks[LOCK_STRIPES];
    struct view_set *views;
    int view_sets;
    size_t view_budget;
    atomic_size_t view_bytes;
    struct token_set *tokens;
    bool verify;
    atomic_uint_fast64_t view_hits, view_misses, view_drops, token_hits, token_misses;
} rc;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_locks(void)
{
    for (int i = 0; i < LOCK_STRIPES; i++) {
        pthread_mutex_init(&rc.locks[i], NULL);
    }
}

void read_cache_configure(size_t view_bytes, bool verify)
{
    pthread_once(&init_once, init_locks);
    read_cache_reset();
    size_t sets = view_bytes / ORDER_VIEW_BYTES_PER_SLOT / WAYS;
    rc.view_sets = view_bytes == 0              ? 0
                   : sets < 1                   ? 1
                   : sets > ORDER_VIEW_SETS_MAX ? ORDER_VIEW_SETS_MAX
                                                : (int)sets;
    rc.view_budget = view_bytes;
    atomic_store(&rc.view_bytes, 0);
    rc.views = rc.view_sets > 0 ? calloc((size_t)rc.view_sets, sizeof *rc.views) : NULL;
    km_assert(rc.view_sets == 0 || rc.views != NULL);
    rc.tokens = calloc(TOKEN_SETS, sizeof *rc.tokens);
    km_assert(rc.tokens != NULL);
    rc.verify = verify;
}

void read_cache_reset(void)
{
    for (int i = 0; rc.views != NULL && i < rc.view_sets; i++) {
        for (int w = 0; w < WAYS; w++) {
            free(rc.views[i].way[w]);
        }
    }
    free(rc.views);
    free(rc.tokens);
    atomic_store(&rc.view_bytes, 0);
    rc.views = NULL;
    rc.tokens = NULL;
    rc.view_sets = 0;
}

static uint64_t fnv1a(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ULL;
    }
    return h;
}

static pthread_mutex_t *stripe(uint64_t set_index)
{
    return &rc.locks[set_index % LOCK_STRIPES];
}

static struct token_set *token_set(const uint8_t hash[TOKEN_HASH_BYTES], pthread_mutex_t **lock)
{
    /* The last 8 bytes: hash bytes in every key, where a buyer token's key starts with its time
     * (token_hash), which would put every token of a day in one set. */
    uint64_t h;
    memcpy(&h, hash + TOKEN_HASH_BYTES - sizeof h, sizeof h);
    *lock = stripe(h % TOKEN_SETS);
    return &rc.tokens[h % TOKEN_SETS];
}

static int token_way(const struct token_set *set, const uint8_t hash[TOKEN_HASH_BYTES])
{
    for (int w = 0; w < WAYS; w++) {
        if (set->way[w].order_id[0] != '\0' &&
            memcmp(set->way[w].hash, hash, TOKEN_HASH_BYTES) == 0) {
            return w;
        }
    }
    return -1;
}

bool read_cache_token_get(const uint8_t hash[TOKEN_HASH_BYTES], char *order_id, size_t len)
{
    if (rc.tokens == NULL) {
        return false;
    }
    pthread_mutex_t *lock;
    struct token_set *set = token_set(hash, &lock);
    pthread_mutex_lock(lock);
    int w = token_way(set, hash);
    bool hit = w >= 0 && strlen(set->way[w].order_id) < len;
    if (hit) {
        memcpy(order_id, set->way[w].order_id, strlen(set->way[w].order_id) + 1);
    }
    pthread_mutex_unlock(lock);
    atomic_fetch_add(hit ? &rc.token_hits : &rc.token_misses, 1);
    return hit;
}

void read_cache_token_put(const uint8_t hash[TOKEN_HASH_BYTES], const char *order_id)
{
    if (rc.tokens == NULL || strlen(order_id) >= ID_BYTES_MAX) {
        return;
    }
    pthread_mutex_t *lock;
    struct token_set *set = token_set(hash, &lock);
    pthread_mutex_lock(lock);
    int w = token_way(set, hash);
    for (int i = 0; w < 0 && i < WAYS; i++) {
        w = set->way[i].order_id[0] == '\0' ? i : -1;
    }
    if (w < 0) {
        w = (int)(set->next_victim++ % WAYS);
    }
    memcpy(set->way[w].hash, hash, TOKEN_HASH_BYTES);
    memcpy(set->way[w].order_id, order_id, strlen(order_id) + 1);
    pthread_mutex_unlock(lock);
}

static struct view_set *view_set(const char *order_id, pthread_mutex_t **lock)
{
    uint64_t index = fnv1a(order_id, strlen(order_id)) % (uint64_t)rc.view_sets;
    *lock = stripe(index);
    return &rc.views[index];
}

static int way_of(const struct view_set *set, const char *order_id)
{
    for (int w = 0; w < WAYS; w++) {
        if (set->way[w] != NULL && strcmp(set->way[w]->order_id, order_id) == 0) {
            return w;
        }
    }
    return -1;
}

static void way_free(struct view_set *set, int w)
{
    if (set->way[w] != NULL) {
        atomic_fetch_sub(&rc.view_bytes, sizeof *set->way[w] + set->way[w]->len + 1);
        free(set->way[w]);
        set->way[w] = NULL;
    }
}

uint64_t read_cache_view_gen(const char *order_id)
{
    if (rc.view_sets == 0) {
        return 0;
    }
    pthread_mutex_t *lock;
    struct view_set *set = view_set(order_id, &lock);
    pthread_mutex_lock(lock);
    uint64_t gen = set->gen;
    pthread_mutex_unlock(lock);
    return gen;
}

char *read_cache_view_get(const char *order_id, int64_t now_ms, size_t *len)
{
    if (rc.view_sets == 0) {
        return NULL;
    }
    pthread_mutex_t *lock;
    struct view_set *set = view_set(order_id, &lock);
    char *copy = NULL;
    pthread_mutex_lock(lock);
    int w = way_of(set, order_id);
    if (w >= 0 && now_ms < set->way[w]->valid_until) {
        struct view *v = set->way[w];
        v->read = true;
        copy = malloc(v->len + 1);
        km_assert(copy != NULL);
        memcpy(copy, v->body, v->len + 1);
        *len = v->len;
    }
    pthread_mutex_unlock(lock);
    atomic_fetch_add(copy != NULL ? &rc.view_hits : &rc.view_misses, 1);
    return copy;
}

/* Keeps the view unless the order was touched since gen. A reader's view may push out another
 * one; a warmed view (for_reader false) takes only a free way within the budget, and does not
 * count as read. True if kept. */
static bool view_put(const char *order_id, uint64_t gen, const char *body, size_t len,
                     int64_t valid_until_ms, bool for_reader)
{
    bool evict = for_reader;
    if (rc.view_sets == 0 || strlen(order_id) >= ID_BYTES_MAX) {
        return false;
    }
    struct view *v = malloc(sizeof *v + len + 1);
    km_assert(v != NULL);
    v->valid_until = valid_until_ms;
    v->read = for_reader;
    v->len = len;
    memcpy(v->order_id, order_id, strlen(order_id) + 1);
    memcpy(v->body, body, len);
    v->body[len] = '\0';
    size_t size = sizeof *v + len + 1;
    pthread_mutex_t *lock;
    struct view_set *set = view_set(order_id, &lock);
    pthread_mutex_lock(lock);
    /* Touched since gen was taken: what was built may be stale already, so it is not kept.
     * Otherwise it takes its own old place, else a free way, else the ways in turn; and when
     * the budget is spent it pushes out a neighbour in its set rather than take a free way. */
    int w = set->gen == gen ? way_of(set, order_id) : -1;
    for (int i = 0; set->gen == gen && w < 0 && i < WAYS; i++) {
        w = set->way[i] == NULL ? i : -1;
    }
    size_t held = atomic_load(&rc.view_bytes);
    if (evict && set->gen == gen &&
        (w < 0 || (set->way[w] == NULL && held + size > rc.view_budget))) {
        w = (int)(set->next_victim++ % WAYS);
    }
    size_t freed = w >= 0 && set->way[w] != NULL ? sizeof *set->way[w] + set->way[w]->len + 1 : 0;
    /* The bytes are reserved with a compare-and-swap: other lock stripes put views meanwhile,
     * and a load then an add would let them all pass the same check. */
    bool fits = false;
    while (w >= 0 && held - freed + size <= rc.view_budget) {
        if (atomic_compare_exchange_weak(&rc.view_bytes, &held, held + size)) {
            fits = true;
            break;
        }
    }
    if (fits) {
        way_free(set, w);
        set->way[w] = v;
        v = NULL;
    }
    pthread_mutex_unlock(lock);
    free(v);
    return fits;
}

void read_cache_view_put(const char *order_id, uint64_t gen, const char *body, size_t len,
                         int64_t valid_until_ms)
{
    (void)view_put(order_id, gen, body, len, valid_until_ms, true);
}

bool read_cache_view_drop(const char *order_id)
{
    if (rc.view_sets == 0) {
        return false;
    }
    pthread_mutex_t *lock;
    struct view_set *set = view_set(order_id, &lock);
    pthread_mutex_lock(lock);
    set->gen++;
    int w = way_of(set, order_id);
    bool watched = w >= 0 && set->way[w]->read;
    if (w >= 0) {
        way_free(set, w);
    }
    pthread_mutex_unlock(lock);
    atomic_fetch_add(&rc.view_drops, 1);
    return watched;
}

/* Verify mode: a kept view must be what a fresh build gives. A commit the cache has not been told
 * of yet may sit between the two reads, so a difference counts only if it is still there a
 * moment later with the same view kept. */
static void verify_kept(const char *order_id, const char *kept, int64_t now,
                        read_cache_build_fn build, void *ctx)
{
    for (int attempt = 0;; attempt++) {
        char *fresh = NULL;
        size_t len = 0;
        int64_t valid_until = INT64_MAX;
        (void)build(ctx, now, &fresh, &len, &valid_until);
        bool same = fresh != NULL && strcmp(fresh, kept) == 0;
        free(fresh);
        if (same) {
            return;
        }
        char *again = read_cache_view_get(order_id, now, &len);
        bool still = again != NULL && strcmp(again, kept) == 0;
        free(again);
        if (!still) {
            return; /* dropped meanwhile: the difference was a commit on its way */
        }
        if (attempt == 1) {
            log_write(LOG_ERROR, "read_cache_stale", "order_id", order_id, NULL);
            km_assert(!"a kept order view matches a fresh build");
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int read_cache_view_read(const char *order_id, int64_t now, read_cache_build_fn build, void *ctx,
                         char **text, size_t *len)
{
    *text = read_cache_view_get(order_id, now, len);
    if (*text != NULL) {
        if (rc.verify) {
            verify_kept(order_id, *text, now, build, ctx);
        }
        return 0;
    }
    uint64_t gen = read_cache_view_gen(order_id); /* before the build's read transaction */
    int64_t valid_until = INT64_MAX;
    int result = build(ctx, now, text, len, &valid_until);
    if (result == 0) {
        read_cache_view_put(order_id, gen, *text, *len, valid_until);
    }
    return result;
}

int read_cache_view_warm(const char *order_id, int64_t now, read_cache_build_fn build, void *ctx)
{
    if (rc.view_sets == 0) {
        return 1;
    }
    pthread_mutex_t *lock;
    struct view_set *set = view_set(order_id, &lock);
    pthread_mutex_lock(lock);
    int w = way_of(set, order_id);
    bool kept = w >= 0 && now < set->way[w]->valid_until;
    uint64_t gen = set->gen; /* before the build's read transaction */
    pthread_mutex_unlock(lock);
    if (kept) {
        return 1;
    }
    char *text = NULL;
    size_t len = 0;
    int64_t valid_until = INT64_MAX;
    int result = build(ctx, now, &text, &len, &valid_until);
    if (result == 0) {
        result = view_put(order_id, gen, text, len, valid_until, false) ? 0 : 1;
    }
    free(text);
    return result;
}

void read_cache_stats_get(struct read_cache_stats *out)
{
    out->view_hits = atomic_load(&rc.view_hits);
    out->view_misses = atomic_load(&rc.view_misses);
    out->view_drops = atomic_load(&rc.view_drops);
    out->view_bytes = atomic_load(&rc.view_bytes);
    out->view_budget = rc.view_budget;
    out->token_hits = atomic_load(&rc.token_hits);
    out->token_misses = atomic_load(&rc.token_misses);
}
