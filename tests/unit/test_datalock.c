/* One process at a time owns a data directory; the lock goes with the descriptor that holds it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/datalock.h"
#include "core/err.h"

static char dir[] = "/tmp/kameng-datalock-XXXXXX";

static void make_dir(void)
{
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char path[64];
    snprintf(path, sizeof path, "%s/kameng.lock", dir);
    unlink(path);
    rmdir(dir);
}

Test(datalock, is_held_by_one_owner_until_released, .init = make_dir, .fini = remove_dir)
{
    int first = -1, second = -1;
    cr_assert_eq(datalock_take(dir, &first), 0);
    cr_assert_eq(datalock_take(dir, &second), -KM_EBUSY, "a second owner is refused");
    /* Another process is refused too, and learns nothing else. */
    pid_t child = fork();
    if (child == 0) {
        int fd = -1;
        _exit(datalock_take(dir, &fd) == -KM_EBUSY ? 0 : 1);
    }
    int status = 0;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    datalock_release(first);
    cr_assert_eq(datalock_take(dir, &second), 0, "free again once released");
    datalock_release(second);
}

Test(datalock, needs_a_directory_to_lock, .init = make_dir, .fini = remove_dir)
{
    char missing[96];
    snprintf(missing, sizeof missing, "%s/not-there", dir);
    int fd = -1;
    cr_assert_eq(datalock_take(missing, &fd), -KM_EINTERNAL);
}
