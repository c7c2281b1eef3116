#include "temp_dir.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

void temp_dir_make(const char *name, char *dir, size_t dir_len)
{
    int n = snprintf(dir, dir_len, "/tmp/kameng-%s-XXXXXX", name);
    cr_assert(n > 0 && (size_t)n < dir_len);
    cr_assert_not_null(mkdtemp(dir));
}

void temp_dir_remove(const char *dir)
{
    char cmd[160];
    int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert(n > 0 && (size_t)n < sizeof cmd);
    cr_assert_eq(system(cmd), 0);
}
