/* stats.h — node, pod and container resource usage (cAdvisor's job in a kubelet): CPU and memory
 * from the cgroups, network from the pods' network namespaces, disk from the data dir; rendered
 * as the kubelet Summary API (/stats/summary, stats/v1alpha1) and Prometheus text
 * (/metrics/resource, /metrics/cadvisor). Collection does I/O; the parsers and renderers are
 * pure. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "kubelet/runtime.h"

struct stats_cg {
        bool ok;
        uint64_t cpu_ns;     /* cumulative CPU time */
        uint64_t nano_cores; /* rate over the previous sample; 0 on the first */
        uint64_t mem_usage, mem_ws, mem_rss, pgfault, pgmajfault;
};

struct stats_net {
        bool ok;
        uint64_t rx_bytes, rx_errors, tx_bytes, tx_errors;
};

struct stats_fs {
        uint64_t capacity, available, used, inodes, inodes_free, inodes_used;
};

struct stats_ctr {
        char *name, *id;
        struct timespec started;
        struct stats_cg cg;
        uint64_t rootfs_used, rootfs_inodes, logs_used, logs_inodes;
};

struct stats_pod {
        char *uid, *ns, *name;
        char *cgroup; /* the pod cgroup's path, e.g. /kubepods/burstable/pod<uid> */
        struct timespec started;
        struct stats_cg cg;
        struct stats_net net;
        uint64_t eph_used, eph_inodes; /* writable layers + logs + pod dir (emptyDirs) */
        uint64_t nproc;
        struct stats_ctr *ctrs;
        size_t n_ctrs;
};

struct stats_snapshot {
        struct timespec time;
        struct stats_cg node;
        uint64_t mem_total, mem_available; /* available = total - working set (kubelet) */
        struct stats_fs nodefs, imagefs;   /* the agent's data dir, its images dir */
        uint64_t pid_max, nproc;
        struct stats_pod *pods;
        size_t n_pods;
};

/* Read everything now. prev (may be NULL) gives the CPU rates. data_dir: DATA/agent. */
int stats_collect(struct runtime *rt, const char *data_dir, const struct stats_snapshot *prev,
                  struct stats_snapshot *ret);
void stats_snapshot_clear(struct stats_snapshot *s);
/* Deep copy (for readers on other threads). */
void stats_snapshot_copy(const struct stats_snapshot *s, struct stats_snapshot *ret);

/* Pure parsers. The value of key in "key value\n" text (memory.stat, cpu.stat, meminfo without
 * the kB unit handling); false if absent. */
bool stats_kv_get(const char *text, const char *key, uint64_t *ret);
/* One interface's counters from /proc/net/dev text. -ENOENT absent, -EPROTO malformed. */
int stats_net_dev_parse(const char *text, const char *ifname, struct stats_net *ret);

/* Pure renderers. The Summary API document (stats/v1alpha1.Summary). Returns a new object. */
json_t *stats_summary_json(const struct stats_snapshot *s, const char *node_name,
                           const struct timespec *node_start);
/* Prometheus text of /metrics/resource (node/pod/container cpu + memory working set, start
 * times) and /metrics/cadvisor (container_* series per container and pod cgroup). Caller
 * frees. */
char *stats_metrics_resource(const struct stats_snapshot *s);
char *stats_metrics_cadvisor(const struct stats_snapshot *s);
