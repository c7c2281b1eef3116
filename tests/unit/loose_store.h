/* For store tests: a migrated shop database in a new temporary directory, with foreign keys off,
 * so that a test puts in only the rows it is about (a refund without its order and payment). */
#ifndef KM_TEST_LOOSE_STORE_H
#define KM_TEST_LOOSE_STORE_H

#include <stddef.h>

#include "store/db.h"

/* dir receives the directory (at least 64 bytes); name tags it. */
struct db *loose_store_open(const char *name, char *dir, size_t dir_len);
void loose_store_close(struct db *db, const char *dir);

#endif
