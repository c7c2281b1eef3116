/* Which rows a connection changes, told as it changes them: for each watched table, the text of
 * one column (an order's id) in the row before and after each insert, update or delete, from
 * SQLite's pre-update hook. The writer's connection uses it to know which orders' kept views a
 * command made stale (store_watch_orders). */
#ifndef KM_STORE_SQLITE_WATCH_H
#define KM_STORE_SQLITE_WATCH_H

#include <stddef.h>

#include "store/db.h"

#define SQLITE_WATCH_TABLES_MAX 16
#define SQLITE_WATCH_NAME_BYTES 48
#define SQLITE_WATCH_TEXT_BYTES 128 /* a status change reports texts up to this long */

struct sqlite3;
struct sqlite_watch;

/* Installs the hook on conn, replacing any before (db_watch_rows in db.h says what is told). NULL
 * with a reason in err when a table or column is missing or SQLite has no pre-update hook. */
struct sqlite_watch *sqlite_watch_install(struct sqlite3 *conn, const struct db_watch *tables,
                                          int count, void (*changed)(void *ctx, const char *text),
                                          void (*status_changed)(void *ctx, const char *text),
                                          void *ctx, char *err, size_t err_len);
void sqlite_watch_remove(struct sqlite3 *conn, struct sqlite_watch *w);

#endif
