/* SQLite's own page cache (pcache1), wrapped so that a commit does not scan the whole cache.
 *
 * When a b-tree page splits, SQLite may swap two new pages' numbers, and it does so through a
 * temporary number: the locking page's, about 1 GiB / page size (262,145 with 4 KiB pages).
 * pcache1 remembers that number as the largest key it has held. Every commit then truncates the
 * cache to the database's size, and because that remembered key lies far past the end, pcache1
 * walks every hash bucket and every page instead of the few slots past the end. With the
 * writer's 64 MiB cache that was 16,384 buckets and a tenth of the writer's time.
 *
 * The wrapper keeps its own upper bound on the keys in the cache and passes a truncate on only
 * when a page at or past the limit may be there. A key becomes present through xFetch or xRekey,
 * and both are seen here, so the bound is always an upper bound. A page moved to a key past the
 * bound is "parked": such moves are the temporary half of a swap and are followed by a move back
 * under the bound, so they do not raise the bound while they last. */
#include "store/sqlite_pcache.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/check.h"

#define PARKED_MAX 4 /* a swap parks one page at a time */

struct wrapped {
    sqlite3_pcache *inner;
    unsigned bound; /* no page in the cache has a key above this, except the parked ones */
    int parked_count;
    sqlite3_pcache_page *parked[PARKED_MAX];
    unsigned parked_key[PARKED_MAX];
};

static sqlite3_pcache_methods2 inner_methods;
static _Atomic long long truncates_passed, truncates_skipped;

static void bound_raise(struct wrapped *w, unsigned key)
{
    if (key > w->bound) {
        w->bound = key;
    }
}

/* Forget a parked page; returns whether it was parked. */
static bool unpark(struct wrapped *w, sqlite3_pcache_page *page)
{
    for (int i = 0; i < w->parked_count; i++) {
        if (w->parked[i] == page) {
            w->parked_count--;
            w->parked[i] = w->parked[w->parked_count];
            w->parked_key[i] = w->parked_key[w->parked_count];
            return true;
        }
    }
    return false;
}

static int wrap_init(void *arg)
{
    return inner_methods.xInit(arg);
}

static void wrap_shutdown(void *arg)
{
    inner_methods.xShutdown(arg);
}

static sqlite3_pcache *wrap_create(int page_size, int extra, int purgeable)
{
    struct wrapped *w = calloc(1, sizeof *w);
    if (w == NULL) {
        return NULL;
    }
    w->inner = inner_methods.xCreate(page_size, extra, purgeable);
    if (w->inner == NULL) {
        free(w);
        return NULL;
    }
    return (sqlite3_pcache *)w;
}

static void wrap_cachesize(sqlite3_pcache *p, int n)
{
    inner_methods.xCachesize(((struct wrapped *)p)->inner, n);
}

static int wrap_pagecount(sqlite3_pcache *p)
{
    return inner_methods.xPagecount(((struct wrapped *)p)->inner);
}

static sqlite3_pcache_page *wrap_fetch(sqlite3_pcache *p, unsigned key, int create)
{
    struct wrapped *w = (struct wrapped *)p;
    sqlite3_pcache_page *page = inner_methods.xFetch(w->inner, key, create);
    if (page != NULL) {
        bound_raise(w, key);
    }
    return page;
}

static void wrap_unpin(sqlite3_pcache *p, sqlite3_pcache_page *page, int discard)
{
    struct wrapped *w = (struct wrapped *)p;
    for (int i = 0; i < w->parked_count; i++) {
        if (w->parked[i] == page && !discard) {
            /* Left in the cache at its parked key: count it in the bound from now on. */
            bound_raise(w, w->parked_key[i]);
        }
    }
    (void)unpark(w, page);
    inner_methods.xUnpin(w->inner, page, discard);
}

static void wrap_rekey(sqlite3_pcache *p, sqlite3_pcache_page *page, unsigned old_key,
                       unsigned new_key)
{
    struct wrapped *w = (struct wrapped *)p;
    inner_methods.xRekey(w->inner, page, old_key, new_key);
    (void)unpark(w, page);
    if (new_key <= w->bound) {
        return;
    }
    if (w->parked_count < PARKED_MAX) {
        w->parked[w->parked_count] = page;
        w->parked_key[w->parked_count] = new_key;
        w->parked_count++;
    } else {
        bound_raise(w, new_key);
    }
}

static void wrap_truncate(sqlite3_pcache *p, unsigned limit)
{
    struct wrapped *w = (struct wrapped *)p;
    bool needed = w->bound >= limit;
    for (int i = 0; i < w->parked_count; i++) {
        needed = needed || w->parked_key[i] >= limit;
    }
    if (!needed) {
        atomic_fetch_add(&truncates_skipped, 1);
        return; /* nothing can be at or past the limit */
    }
    atomic_fetch_add(&truncates_passed, 1);
    inner_methods.xTruncate(w->inner, limit);
    if (w->bound >= limit) {
        w->bound = limit > 0 ? limit - 1 : 0;
    }
    for (int i = 0; i < w->parked_count;) {
        if (w->parked_key[i] >= limit) {
            (void)unpark(w, w->parked[i]); /* pcache1 frees truncated pages, pinned or not */
        } else {
            i++;
        }
    }
}

static void wrap_destroy(sqlite3_pcache *p)
{
    struct wrapped *w = (struct wrapped *)p;
    inner_methods.xDestroy(w->inner);
    free(w);
}

static void wrap_shrink(sqlite3_pcache *p)
{
    inner_methods.xShrink(((struct wrapped *)p)->inner);
}

int sqlite_pcache_install(void)
{
    static bool installed;
    if (installed) {
        return 0; /* wrapping the wrapper would make it call itself */
    }
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &inner_methods) != SQLITE_OK) {
        return -1;
    }
    km_assert(inner_methods.iVersion >= 1 && inner_methods.xCreate != NULL);
    static sqlite3_pcache_methods2 methods;
    methods = (sqlite3_pcache_methods2){
        .iVersion = 1,
        .pArg = inner_methods.pArg,
        .xInit = inner_methods.xInit != NULL ? wrap_init : NULL,
        .xShutdown = inner_methods.xShutdown != NULL ? wrap_shutdown : NULL,
        .xCreate = wrap_create,
        .xCachesize = wrap_cachesize,
        .xPagecount = wrap_pagecount,
        .xFetch = wrap_fetch,
        .xUnpin = wrap_unpin,
        .xRekey = wrap_rekey,
        .xTruncate = wrap_truncate,
        .xDestroy = wrap_destroy,
        .xShrink = wrap_shrink,
    };
    if (sqlite3_config(SQLITE_CONFIG_PCACHE2, &methods) != SQLITE_OK) {
        return -1;
    }
    installed = true;
    return 0;
}

void sqlite_pcache_stats(long long *passed, long long *skipped)
{
    *passed = atomic_load(&truncates_passed);
    *skipped = atomic_load(&truncates_skipped);
}
