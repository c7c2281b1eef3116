/* For tests that drive SQLite directly, below the store: a statement that must succeed, and the
 * single integer a query returns. Both fail the test with SQLite's message otherwise. */
#ifndef KM_TEST_RAW_SQLITE_H
#define KM_TEST_RAW_SQLITE_H

#include <sqlite3.h>

void raw_exec(sqlite3 *db, const char *sql);
long long raw_scalar(sqlite3 *db, const char *sql);

#endif
