#include "loose_store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store.h"
#include "temp_dir.h"

struct db *loose_store_open(const char *name, char *dir, size_t dir_len)
{
    temp_dir_make(name, dir, dir_len);
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
    temp_dir_remove(dir);
}
