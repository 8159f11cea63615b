/* cgroup.h — host cgroup layout (v1 / hybrid / v2) and the kubepods hierarchy.
 * Pods live at <root>/pod<uid> (Guaranteed) or <root>/{burstable,besteffort}/pod<uid>, the
 * same path in every hierarchy (v1) or in the unified one (v2); containers are leaves below,
 * created by the OCI runtime from the absolute cgroupsPath. */
#pragma once
#include "common/error.h"

#include <stdbool.h>
#include <stdint.h>

enum cgroup_layout {
        CGROUP_LAYOUT_NONE = 0,
        CGROUP_LAYOUT_V1,     /* only v1 hierarchies */
        CGROUP_LAYOUT_HYBRID, /* v1 hierarchies + a cgroup2 mount (e.g. /sys/fs/cgroup/unified) */
        CGROUP_LAYOUT_V2,     /* cgroup2 only */
};

#define CGROUP_MAX_HIERARCHIES 32

struct cgroup_host {
        enum cgroup_layout layout;
        char *v2_path;                          /* cgroup2 mount point or NULL */
        char *v1_paths[CGROUP_MAX_HIERARCHIES]; /* v1 mount points */
        size_t n_v1;
        bool has_hugetlb_v1; /* a v1 hierarchy with the hugetlb controller is mounted */
        char *cpuset_path;   /* v1 cpuset mount point or NULL */
};

/* Pure: parse /proc/self/mounts text. Only mounts under prefix ("/sys/fs/cgroup") count.
 * -EINVAL malformed (never for ordinary files); ret must be zeroed or cleared. */
int cgroup_host_parse(const char *mounts, const char *prefix, struct cgroup_host *ret,
                      struct error *err);
int cgroup_host_detect(struct cgroup_host *ret, struct error *err);
void cgroup_host_clear(struct cgroup_host *h);
const char *cgroup_layout_name(enum cgroup_layout l);

/* PLATFORM.md fix (B) for crun on a hybrid host: mount the v1 hugetlb hierarchy at
 * /sys/fs/cgroup/hugetlb if no v1 hugetlb hierarchy exists. Updates h. */
int cgroup_hybrid_fix(struct cgroup_host *h, struct error *err);

/* Pure: "<root>/besteffort/pod<uid>" etc. qos: 0 besteffort, 1 burstable, 2 guaranteed
 * (enum runtime_qos). Caller frees. */
char *cgroup_pod_path(const char *root, int qos, const char *uid);

/* Resource settings of a pod or QoS level cgroup, as the kubelet's ResourceConfig. 0 = leave
 * unset (memory, quota, pids); shares 0 = unset too. */
struct cgroup_resources {
        uint64_t cpu_shares;  /* v1 cpu.shares; v2 cpu.weight via cgroup_shares_to_weight */
        int64_t cpu_quota_us; /* with period 100000 us */
        int64_t memory_limit; /* bytes */
        int64_t pids_max;
};

/* Pure: the kubelet's conversion of cpu.shares [2, 262144] to cgroup v2 cpu.weight [1, 10000]
 * (1 + ((shares - 2) * 9999) / 262142). */
uint64_t cgroup_shares_to_weight(uint64_t shares);

/* Write res into path's files in every hierarchy holding the controller (v1: cpu.shares,
 * cpu.cfs_quota_us/period, memory.limit_in_bytes, pids.max; v2: cpu.weight, cpu.max,
 * memory.max, pids.max). The first write error is returned (err says which file). */
int cgroup_path_set(const struct cgroup_host *h, const char *path,
                    const struct cgroup_resources *res, struct error *err);

/* mkdir -p path in every hierarchy (v1: copying cpuset.cpus/mems into new cpuset levels; v2:
 * enabling cpu, memory, pids in the parents' subtree_control). */
int cgroup_path_create(const struct cgroup_host *h, const char *path, struct error *err);
/* SIGKILL every process in path and below, in every hierarchy (leftovers the OCI runtime no
 * longer knows about); waits up to 1 s for them to leave. Returns the number signalled. */
int cgroup_path_kill(const struct cgroup_host *h, const char *path);
/* Remove path and every cgroup below it (depth first) in every hierarchy. Processes still in a
 * cgroup make it fail with -EBUSY (after trying the rest). Absent: 0. */
int cgroup_path_remove(const struct cgroup_host *h, const char *path, struct error *err);
