/* The memory and CPU the shop may use: a control group's limit, or a parent group's, counts where
 * it is lower than the machine's, under cgroup v2 and v1 alike. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sysmem.h"

#define MIB (1024ULL * 1024ULL)

static char root[64];

/* A file under the fake cgroup mount (directories made as needed) or, with rel "proc", the fake
 * /proc/self/cgroup beside it. */
static void put(const char *rel, const char *content)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(fd, 0, "%s", path);
    cr_assert_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
}

static uint64_t probe(void)
{
    char proc[96];
    snprintf(proc, sizeof proc, "%s/proc", root);
    return sysmem_bytes(proc, root);
}

static uint64_t lower(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static void fresh_root(void)
{
    static int n;
    snprintf(root, sizeof root, "/tmp/kameng-sysmem-test-%d-%d", (int)getpid(), n++);
    cr_assert_eq(mkdir(root, 0700), 0);
}

static void remove_root(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

Test(sysmem, the_machine_when_no_group_limits_memory)
{
    uint64_t machine = sysmem_bytes("/nonexistent/cgroup", "/nonexistent");
    cr_assert_gt(machine, 64 * MIB, "the machine's memory is read");
    fresh_root();
    put("proc", "0::/system.slice/kameng.service\n");
    put("system.slice/kameng.service/memory.max", "max\n");
    put("system.slice/memory.max", "max\n");
    cr_assert_eq(probe(), machine, "\"max\" is no limit");
    put("system.slice/kameng.service/memory.max", "12abc\n");
    cr_assert_eq(probe(), machine, "a line that is not a number is ignored");
    remove_root();
}

Test(sysmem, a_v2_limit_of_the_group_or_a_parent)
{
    uint64_t machine = sysmem_bytes("/nonexistent/cgroup", "/nonexistent");
    fresh_root();
    /* systemd's MemoryMax= on the service itself. */
    put("proc", "0::/system.slice/kameng.service\n");
    put("system.slice/kameng.service/memory.max", "536870912\n");
    cr_assert_eq(probe(), lower(machine, 512 * MIB));
    /* A lower limit on the slice above it wins. */
    put("system.slice/memory.max", "268435456\n");
    cr_assert_eq(probe(), lower(machine, 256 * MIB));
    remove_root();
}

Test(sysmem, a_v1_memory_limit_and_v1s_no_limit)
{
    uint64_t machine = sysmem_bytes("/nonexistent/cgroup", "/nonexistent");
    fresh_root();
    put("proc", "9:name=systemd:/\n5:cpu,cpuacct:/\n4:memory:/panel/shop1\n0::/\n");
    put("memory/memory.limit_in_bytes", "9223372036854771712\n"); /* v1's "no limit" */
    put("memory/panel/shop1/memory.limit_in_bytes", "9223372036854771712\n");
    cr_assert_eq(probe(), machine);
    put("memory/panel/memory.limit_in_bytes", "1073741824\n"); /* the hosting panel's 1 GiB */
    cr_assert_eq(probe(), lower(machine, 1024 * MIB));
    remove_root();
}

static uint64_t cpu_probe(void)
{
    char proc[96];
    snprintf(proc, sizeof proc, "%s/proc", root);
    return sysmem_cpu_quota_millis(proc, root);
}

Test(sysmem, no_cpu_quota_when_no_group_sets_one)
{
    cr_assert_eq(sysmem_cpu_quota_millis("/nonexistent/cgroup", "/nonexistent"), 0);
    fresh_root();
    put("proc", "0::/system.slice/kameng.service\n");
    put("system.slice/kameng.service/cpu.max", "max 100000\n");
    cr_assert_eq(cpu_probe(), 0, "\"max\" is no quota");
    put("system.slice/kameng.service/cpu.max", "garbage\n");
    cr_assert_eq(cpu_probe(), 0, "a line that is not a quota is ignored");
    remove_root();
}

Test(sysmem, a_v2_cpu_quota_of_the_group_or_a_parent)
{
    fresh_root();
    /* docker run --cpus=1.5: 150 ms of CPU in every 100 ms. */
    put("proc", "0::/docker/abc\n");
    put("docker/abc/cpu.max", "150000 100000\n");
    cr_assert_eq(cpu_probe(), 1500);
    put("docker/cpu.max", "50000 100000\n"); /* half a CPU for every container */
    cr_assert_eq(cpu_probe(), 500, "the lower quota above it wins");
    remove_root();
}

Test(sysmem, a_v1_cfs_quota_and_v1s_no_quota)
{
    fresh_root();
    put("proc", "9:name=systemd:/\n5:cpu,cpuacct:/panel/shop1\n4:memory:/panel/shop1\n0::/\n");
    put("cpu,cpuacct/panel/shop1/cpu.cfs_quota_us", "-1\n"); /* v1's "no quota" */
    put("cpu,cpuacct/panel/shop1/cpu.cfs_period_us", "100000\n");
    cr_assert_eq(cpu_probe(), 0);
    put("cpu,cpuacct/panel/cpu.cfs_quota_us", "200000\n"); /* the panel's two CPUs */
    put("cpu,cpuacct/panel/cpu.cfs_period_us", "100000\n");
    cr_assert_eq(cpu_probe(), 2000);
    remove_root();
}
