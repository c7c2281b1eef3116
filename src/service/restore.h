/* Restoring the database from a backup (`kameng backup`), with the shop stopped.
 *
 * The backup is copied into the data directory and checked there, on the very bytes that will be
 * used: SQLite's integrity check, kameng's schema (an older one migrated forward in the copy, a
 * newer one refused), balanced books, the master key
 * opening its sealed card keys, and an evidence log whose signed checkpoints verify with this
 * shop's log key. Only then does the copy replace the database, in one rename. The database it
 * replaces is kept beside it, never deleted.
 *
 * A backup older than the last checkpoint the shop signed would roll the published evidence log
 * back: entries that buyers may hold receipts for would be gone, and their indexes reused. That
 * is refused unless the operator accepts it; the checkpoint it contradicts is then kept beside
 * the data directory's copy, for the disclosure that must follow. */
#ifndef KM_RESTORE_H
#define KM_RESTORE_H

#include <stdbool.h>
#include <stdio.h>

#include "core/check.h"
#include "core/config.h"

/* The caller holds the data directory's lock (datalock.h), so no shop is serving it. Returns 0
 * when restored, 1 when refused (every reason written to out; nothing was changed), 2 on an
 * I/O failure while replacing (out says what is where). */
KM_MUST_USE int restore_run(const struct config *c, const char *from, bool accept_log_rollback,
                            FILE *out);

#endif
