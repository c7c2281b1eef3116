/* One process at a time owns a data directory: the shop while it serves, or a command that
 * creates, migrates or replaces its database. The lock is an flock on <data_dir>/kameng.lock,
 * released by the kernel when the process ends, however it ends. */
#ifndef KM_DATALOCK_H
#define KM_DATALOCK_H

#include "core/check.h"

/* 0 with *fd holding the lock; -KM_EBUSY when another process holds it; -KM_EINTERNAL when the
 * lock file cannot be opened. */
KM_MUST_USE int datalock_take(const char *data_dir, int *fd);
void datalock_release(int fd);

#endif
