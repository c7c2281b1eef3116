/* Two direct-mapped tables under striped locks: a slot holds one entry, and a newer entry that
 * hashes to the same slot replaces it. Order views carry a generation per slot (see the header
 * for why). */
#include "service/read_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/limits.h"

#define LOCK_STRIPES 64
#define TOKEN_SLOTS 65536 /* 4.7 MB */

struct view_slot {
    uint64_t gen;
    char order_id[ID_BYTES_MAX];
    char *body; /* NULL: empty */
    size_t len;
    int64_t valid_until;
};

struct token_slot {
    uint8_t hash[TOKEN_HASH_BYTES];
    char order_id[ID_BYTES_MAX]; /* "": empty */
};

static struct {
    pthread_mutex_t locks[LOCK_STRIPES];
    struct view_slot *views;
    int view_slots;
    size_t view_budget;
    atomic_size_t view_bytes;
    struct token_slot *tokens;
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
    int view_slots = view_bytes > 0 ? ORDER_VIEW_SLOTS : 0;
    rc.view_slots = view_slots;
    rc.view_budget = view_bytes;
    atomic_store(&rc.view_bytes, 0);
    rc.views = view_slots > 0 ? calloc((size_t)view_slots, sizeof *rc.views) : NULL;
    km_assert(view_slots == 0 || rc.views != NULL);
    rc.tokens = calloc(TOKEN_SLOTS, sizeof *rc.tokens);
    km_assert(rc.tokens != NULL);
    rc.verify = verify;
}

bool read_cache_verifying(void)
{
    return rc.verify;
}

void read_cache_reset(void)
{
    for (int i = 0; rc.views != NULL && i < rc.view_slots; i++) {
        free(rc.views[i].body);
    }
    free(rc.views);
    free(rc.tokens);
    atomic_store(&rc.view_bytes, 0);
    rc.views = NULL;
    rc.tokens = NULL;
    rc.view_slots = 0;
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

static pthread_mutex_t *stripe(uint64_t h)
{
    return &rc.locks[h % LOCK_STRIPES];
}

bool read_cache_token_get(const uint8_t hash[TOKEN_HASH_BYTES], char *order_id, size_t len)
{
    if (rc.tokens == NULL) {
        return false;
    }
    uint64_t h;
    memcpy(&h, hash, sizeof h); /* already a SHA-256: uniform */
    struct token_slot *s = &rc.tokens[h % TOKEN_SLOTS];
    pthread_mutex_lock(stripe(h));
    bool hit = s->order_id[0] != '\0' && memcmp(s->hash, hash, TOKEN_HASH_BYTES) == 0 &&
               strlen(s->order_id) < len;
    if (hit) {
        memcpy(order_id, s->order_id, strlen(s->order_id) + 1);
    }
    pthread_mutex_unlock(stripe(h));
    atomic_fetch_add(hit ? &rc.token_hits : &rc.token_misses, 1);
    return hit;
}

void read_cache_token_put(const uint8_t hash[TOKEN_HASH_BYTES], const char *order_id)
{
    if (rc.tokens == NULL || strlen(order_id) >= ID_BYTES_MAX) {
        return;
    }
    uint64_t h;
    memcpy(&h, hash, sizeof h);
    struct token_slot *s = &rc.tokens[h % TOKEN_SLOTS];
    pthread_mutex_lock(stripe(h));
    memcpy(s->hash, hash, TOKEN_HASH_BYTES);
    memcpy(s->order_id, order_id, strlen(order_id) + 1);
    pthread_mutex_unlock(stripe(h));
}

static struct view_slot *view_slot(const char *order_id, pthread_mutex_t **lock)
{
    uint64_t h = fnv1a(order_id, strlen(order_id));
    *lock = stripe(h);
    return &rc.views[h % (uint64_t)rc.view_slots];
}

uint64_t read_cache_view_gen(const char *order_id)
{
    if (rc.view_slots == 0) {
        return 0;
    }
    pthread_mutex_t *lock;
    struct view_slot *s = view_slot(order_id, &lock);
    pthread_mutex_lock(lock);
    uint64_t gen = s->gen;
    pthread_mutex_unlock(lock);
    return gen;
}

char *read_cache_view_get(const char *order_id, int64_t now_ms, size_t *len)
{
    if (rc.view_slots == 0) {
        return NULL;
    }
    pthread_mutex_t *lock;
    struct view_slot *s = view_slot(order_id, &lock);
    char *copy = NULL;
    pthread_mutex_lock(lock);
    if (s->body != NULL && strcmp(s->order_id, order_id) == 0 && now_ms < s->valid_until) {
        copy = malloc(s->len + 1);
        km_assert(copy != NULL);
        memcpy(copy, s->body, s->len + 1);
        *len = s->len;
    }
    pthread_mutex_unlock(lock);
    atomic_fetch_add(copy != NULL ? &rc.view_hits : &rc.view_misses, 1);
    return copy;
}

void read_cache_view_put(const char *order_id, uint64_t gen, const char *body, size_t len,
                         int64_t valid_until_ms)
{
    if (rc.view_slots == 0 || strlen(order_id) >= ID_BYTES_MAX) {
        return;
    }
    char *copy = malloc(len + 1);
    km_assert(copy != NULL);
    memcpy(copy, body, len);
    copy[len] = '\0';
    pthread_mutex_t *lock;
    struct view_slot *s = view_slot(order_id, &lock);
    pthread_mutex_lock(lock);
    size_t held = s->body != NULL ? s->len + 1 : 0;
    /* Within the budget counting the entry it replaces; over it, the view is simply not kept. */
    if (s->gen == gen && atomic_load(&rc.view_bytes) - held + len + 1 <= rc.view_budget) {
        free(s->body);
        atomic_fetch_sub(&rc.view_bytes, held);
        atomic_fetch_add(&rc.view_bytes, len + 1);
        memcpy(s->order_id, order_id, strlen(order_id) + 1);
        s->body = copy;
        s->len = len;
        s->valid_until = valid_until_ms;
        copy = NULL;
    }
    pthread_mutex_unlock(lock);
    free(copy); /* touched meanwhile (what was built may be stale already), or no room */
}

void read_cache_view_drop(const char *order_id)
{
    if (rc.view_slots == 0) {
        return;
    }
    pthread_mutex_t *lock;
    struct view_slot *s = view_slot(order_id, &lock);
    pthread_mutex_lock(lock);
    s->gen++;
    char *old = s->body;
    if (old != NULL) {
        atomic_fetch_sub(&rc.view_bytes, s->len + 1);
    }
    s->body = NULL;
    pthread_mutex_unlock(lock);
    free(old);
    atomic_fetch_add(&rc.view_drops, 1);
}

void read_cache_stats_get(struct read_cache_stats *out)
{
    out->view_hits = atomic_load(&rc.view_hits);
    out->view_misses = atomic_load(&rc.view_misses);
    out->view_drops = atomic_load(&rc.view_drops);
    out->view_bytes = atomic_load(&rc.view_bytes);
    out->token_hits = atomic_load(&rc.token_hits);
    out->token_misses = atomic_load(&rc.token_misses);
}
