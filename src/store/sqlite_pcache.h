/* SQLite's page cache, wrapped so a commit after a page split does not scan the whole cache
 * (see sqlite_pcache.c). Installed once, before SQLite is initialised. */
#ifndef KM_SQLITE_PCACHE_H
#define KM_SQLITE_PCACHE_H

/* 0, or -1 when SQLite is already initialised (its own cache then stays). */
int sqlite_pcache_install(void);
/* Truncates passed on to SQLite's cache, and skipped because no page could be there. */
void sqlite_pcache_stats(long long *passed, long long *skipped);

#endif
