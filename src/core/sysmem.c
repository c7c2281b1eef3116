/* See sysmem.h. A service unit, a container or a hosting panel limits memory and CPU through its
 * control group, or through a parent group; the machine's total says nothing about that. */
#include "core/sysmem.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_BYTES 4096

/* The limit in a file holding one decimal number ("max", v2's "no limit", and anything else give
 * 0). v1 writes its "no limit" as a number near 2^63, which the machine's memory undercuts. */
static uint64_t limit_in(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    char line[32];
    uint64_t limit = 0;
    if (fgets(line, sizeof line, f) != NULL) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(line, &end, 10);
        if (errno == 0 && end != line && line[0] != '-' && (*end == '\n' || *end == '\0')) {
            limit = v;
        }
    }
    fclose(f);
    return limit;
}

/* A v2 cpu.max ("max 100000", "150000 100000": quota and period in microseconds) as thousandths
 * of a CPU; 0 for none or anything else. */
static uint64_t cpu_max_in(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    unsigned long long quota = 0, period = 0;
    bool ok = fscanf(f, "%llu %llu", &quota, &period) == 2 && quota > 0 && period > 0;
    fclose(f);
    return ok ? (uint64_t)(quota * 1000 / period) : 0;
}

/* v1's cpu.cfs_quota_us (-1 for none) over the cpu.cfs_period_us beside it, in thousandths of a
 * CPU; 0 for none. */
static uint64_t cfs_quota_in(const char *path)
{
    uint64_t quota = limit_in(path); /* "-1" is no number limit_in takes: 0 */
    char period_path[PATH_BYTES + 32];
    const char *slash = strrchr(path, '/');
    int dir_len = slash != NULL ? (int)(slash - path) : 0;
    snprintf(period_path, sizeof period_path, "%.*s/cpu.cfs_period_us", dir_len, path);
    uint64_t period = limit_in(period_path);
    return quota > 0 && period > 0 ? quota * 1000 / period : 0;
}

/* The lowest limit read by read_limit from file_name along group (a path like
 * /system.slice/kameng.service) and its parents, under mount; 0 if none. */
static uint64_t lowest_limit(const char *mount, const char *group, const char *file_name,
                             uint64_t (*read_limit)(const char *path))
{
    char rel[PATH_BYTES];
    if (snprintf(rel, sizeof rel, "%s", group) >= (int)sizeof rel) {
        return 0;
    }
    uint64_t lowest = 0;
    for (;;) {
        char path[PATH_BYTES * 2];
        snprintf(path, sizeof path, "%s%s/%s", mount, strcmp(rel, "/") == 0 ? "" : rel, file_name);
        uint64_t limit = read_limit(path);
        if (limit > 0 && (lowest == 0 || limit < lowest)) {
            lowest = limit;
        }
        char *slash = strrchr(rel, '/');
        if (slash == NULL || strcmp(rel, "/") == 0) {
            return lowest;
        }
        if (slash == rel) {
            rel[1] = '\0'; /* the root group */
        } else {
            *slash = '\0';
        }
    }
}

/* Whether a v1 line's controller list ("cpu,cpuacct", "memory") names the controller. */
static bool has_controller(const char *controllers, const char *name)
{
    size_t n = strlen(name);
    for (const char *c = controllers; c != NULL && *c != '\0';) {
        const char *comma = strchr(c, ',');
        size_t len = comma != NULL ? (size_t)(comma - c) : strlen(c);
        if (len == n && strncmp(c, name, n) == 0) {
            return true;
        }
        c = comma != NULL ? comma + 1 : NULL;
    }
    return false;
}

/* What a control group of this process allows of one resource, read along the group and its
 * parents: v2's v2_file, or v1's v1_file under the v1 controller's mount, whichever is lower;
 * 0 if none limits it. */
struct resource {
    const char *v2_file;
    const char *v1_controller;
    const char *v1_file;
    uint64_t (*v2_read)(const char *path);
    uint64_t (*v1_read)(const char *path);
};

static uint64_t group_limit(const char *proc_cgroup, const char *cgroup_root,
                            const struct resource *res)
{
    uint64_t lowest = 0;
    FILE *f = fopen(proc_cgroup, "r");
    if (f == NULL) {
        return 0;
    }
    char line[PATH_BYTES];
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        /* "hierarchy-id:controllers:path"; v2's unified hierarchy is "0::path". */
        char *first = strchr(line, ':');
        char *second = first != NULL ? strchr(first + 1, ':') : NULL;
        if (second == NULL || second[1] != '/') {
            continue;
        }
        *first = *second = '\0';
        const char *controllers = first + 1, *group = second + 1;
        char mount[PATH_BYTES];
        uint64_t limit = 0;
        if (strcmp(line, "0") == 0 && controllers[0] == '\0') {
            snprintf(mount, sizeof mount, "%s", cgroup_root);
            limit = lowest_limit(mount, group, res->v2_file, res->v2_read);
        } else if (has_controller(controllers, res->v1_controller)) {
            snprintf(mount, sizeof mount, "%s/%s", cgroup_root, controllers);
            limit = lowest_limit(mount, group, res->v1_file, res->v1_read);
        }
        if (limit > 0 && (lowest == 0 || limit < lowest)) {
            lowest = limit;
        }
    }
    fclose(f);
    return lowest;
}

uint64_t sysmem_bytes(const char *proc_cgroup, const char *cgroup_root)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    uint64_t memory = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    static const struct resource res = {"memory.max", "memory", "memory.limit_in_bytes", limit_in,
                                        limit_in};
    uint64_t limit = group_limit(proc_cgroup, cgroup_root, &res);
    return limit > 0 && (memory == 0 || limit < memory) ? limit : memory;
}

uint64_t sysmem_cpu_quota_millis(const char *proc_cgroup, const char *cgroup_root)
{
    static const struct resource res = {"cpu.max", "cpu", "cpu.cfs_quota_us", cpu_max_in,
                                        cfs_quota_in};
    return group_limit(proc_cgroup, cgroup_root, &res);
}
