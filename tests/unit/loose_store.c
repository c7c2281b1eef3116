#include "loose_store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store.h"

struct db *loose_store_open(const char *name, char *dir, size_t dir_len)
{
    snprintf(dir, dir_len, "/tmp/kameng-%s-XXXXXX", name);
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/shop.db", dir);
    struct db *db = NULL;
    cr_assert_eq(db_open(path, true, &db), 0);
    int applied = 0;
    cr_assert_eq(store_migrate(db, &applied), 0);
    char err[256];
    cr_assert_eq(db_exec_script(db, "PRAGMA foreign_keys=OFF", err, sizeof err), 0, "%s", err);
    return db;
}

void loose_store_close(struct db *db, const char *dir)
{
    db_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
