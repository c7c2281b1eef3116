/* A VFS over SQLite's own that gathers a transaction's WAL frames into one write (see
 * sqlite_walbuf.c). The writer connection opens its database through it; readers do not. */
#ifndef KM_SQLITE_WALBUF_H
#define KM_SQLITE_WALBUF_H

#define SQLITE_WALBUF_VFS "kameng-walbuf"

/* Registers the VFS under SQLITE_WALBUF_VFS (not as the default). 0, or -1 if SQLite has no
 * default VFS to wrap. */
int sqlite_walbuf_install(void);
/* Writes to WAL files: asked for by SQLite, and made to the file system. */
void sqlite_walbuf_stats(long long *asked, long long *made);

#endif
