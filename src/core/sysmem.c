/* See sysmem.h. A service unit, a container or a hosting panel limits memory through its control
 * group, or through a parent group; the machine's total says nothing about that. */
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

/* The lowest limit in file_name along group (a path like /system.slice/kameng.service) and its
 * parents, under mount; 0 if none. */
static uint64_t lowest_limit(const char *mount, const char *group, const char *file_name)
{
    char rel[PATH_BYTES];
    if (snprintf(rel, sizeof rel, "%s", group) >= (int)sizeof rel) {
        return 0;
    }
    uint64_t lowest = 0;
    for (;;) {
        char path[PATH_BYTES * 2];
        snprintf(path, sizeof path, "%s%s/%s", mount, strcmp(rel, "/") == 0 ? "" : rel, file_name);
        uint64_t limit = limit_in(path);
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

/* Whether a v1 line's controller list ("cpu,cpuacct", "memory") names the memory controller. */
static bool has_memory_controller(const char *controllers)
{
    size_t n = strlen("memory");
    for (const char *c = controllers; c != NULL && *c != '\0';) {
        const char *comma = strchr(c, ',');
        size_t len = comma != NULL ? (size_t)(comma - c) : strlen(c);
        if (len == n && strncmp(c, "memory", n) == 0) {
            return true;
        }
        c = comma != NULL ? comma + 1 : NULL;
    }
    return false;
}

uint64_t sysmem_bytes(const char *proc_cgroup, const char *cgroup_root)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    uint64_t memory = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    FILE *f = fopen(proc_cgroup, "r");
    if (f == NULL) {
        return memory;
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
            limit = lowest_limit(mount, group, "memory.max");
        } else if (has_memory_controller(controllers)) {
            snprintf(mount, sizeof mount, "%s/memory", cgroup_root);
            limit = lowest_limit(mount, group, "memory.limit_in_bytes");
        }
        if (limit > 0 && (memory == 0 || limit < memory)) {
            memory = limit;
        }
    }
    fclose(f);
    return memory;
}
