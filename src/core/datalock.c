#include "core/datalock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/config.h"
#include "core/err.h"

int datalock_take(const char *data_dir, int *fd)
{
    char path[CONFIG_PATH_BYTES + 16];
    snprintf(path, sizeof path, "%s/kameng.lock", data_dir);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0) {
        return -KM_EINTERNAL;
    }
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        close(f);
        return busy ? -KM_EBUSY : -KM_EINTERNAL;
    }
    *fd = f;
    return 0;
}

void datalock_release(int fd)
{
    if (fd >= 0) {
        close(fd); /* closing the only descriptor releases the flock */
    }
}
