/* How much memory and CPU this process may use, for sizes and choices that should follow the
 * machine. */
#ifndef KAMENG_CORE_SYSMEM_H
#define KAMENG_CORE_SYSMEM_H

#include <stdint.h>

/* The machine's memory, or the lowest memory limit of the control group this process runs in and
 * of that group's parents, where one is lower: cgroup v2's memory.max, or cgroup v1's
 * memory.limit_in_bytes. proc_cgroup names the process's groups (/proc/self/cgroup) and
 * cgroup_root is where they are mounted (/sys/fs/cgroup). 0 if nothing can be read. */
uint64_t sysmem_bytes(const char *proc_cgroup, const char *cgroup_root);

/* The CPU time the same groups allow, in thousandths of a CPU (a container run with --cpus=1.5
 * gives 1500): the lowest of cgroup v2's cpu.max and v1's cpu.cfs_quota_us over
 * cpu.cfs_period_us. 0 if no group sets a quota. */
uint64_t sysmem_cpu_quota_millis(const char *proc_cgroup, const char *cgroup_root);

#endif
