/* How much memory this process may use, for sizes that should follow the machine. */
#ifndef KAMENG_CORE_SYSMEM_H
#define KAMENG_CORE_SYSMEM_H

#include <stdint.h>

/* The machine's memory, or the lowest memory limit of the control group this process runs in and
 * of that group's parents, where one is lower: cgroup v2's memory.max, or cgroup v1's
 * memory.limit_in_bytes. proc_cgroup names the process's groups (/proc/self/cgroup) and
 * cgroup_root is where they are mounted (/sys/fs/cgroup). 0 if nothing can be read. */
uint64_t sysmem_bytes(const char *proc_cgroup, const char *cgroup_root);

#endif
