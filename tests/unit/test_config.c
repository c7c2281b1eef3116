/* The order-view cache is sized from the memory the shop may use unless the operator says, and the
 * setting takes a size or "auto". */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/limits.h"

#define MIB (1024ULL * 1024ULL)

Test(config, view_cache_is_a_sixteenth_of_memory_within_bounds)
{
    cr_assert_eq(config_view_cache_auto_mb(4096 * MIB), 256); /* a 4 GiB server */
    cr_assert_eq(config_view_cache_auto_mb(1024 * MIB), 64);
    cr_assert_eq(config_view_cache_auto_mb(512 * MIB), 32); /* a small VPS or container */
    cr_assert_eq(config_view_cache_auto_mb(128 * MIB), ORDER_VIEW_CACHE_MB_AUTO_MIN);
    /* A large machine keeps no more than about 150,000 views. */
    cr_assert_eq(config_view_cache_auto_mb(256 * 1024 * MIB), ORDER_VIEW_CACHE_MB_AUTO_MAX);
    cr_assert_eq(config_view_cache_auto_mb(0), ORDER_VIEW_CACHE_MB_UNKNOWN_MEMORY);
}

/* A file holding content, named after this process (Criterion runs tests in their own). */
static char *temp_file(const char *content)
{
    static char path[64];
    static int n;
    snprintf(path, sizeof path, "/tmp/kameng-config-test-%d-%d", (int)getpid(), n++);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    return path;
}

Test(config, view_cache_setting_takes_a_size_or_auto)
{
    char *conf = temp_file("order_view_cache_mb = auto\n");
    struct config c;
    char err[256];
    config_defaults(&c);
    cr_assert_lt(c.order_view_cache_mb, 0, "unset means sized from memory");
    c.order_view_cache_mb = 7;
    cr_assert_eq(config_load_file(&c, conf, err, sizeof err), 0, "%s", err);
    cr_assert_lt(c.order_view_cache_mb, 0);
    unlink(conf);

    conf = temp_file("order_view_cache_mb = 300\n");
    cr_assert_eq(config_load_file(&c, conf, err, sizeof err), 0, "%s", err);
    cr_assert_eq(c.order_view_cache_mb, 300);
    unlink(conf);

    const char *bad[] = {"order_view_cache_mb = -1\n", "order_view_cache_mb = \n",
                         "order_view_cache_mb = autox\n", "order_view_cache_mb = 65537\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        conf = temp_file(bad[i]);
        cr_assert_neq(config_load_file(&c, conf, err, sizeof err), 0, "accepted %s", bad[i]);
        unlink(conf);
    }
}
