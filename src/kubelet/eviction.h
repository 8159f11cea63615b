/* eviction.h — the kubelet's eviction manager: every interval it collects the node's stats
 * (stats.h), compares the eviction signals with the hard thresholds (--eviction-hard), keeps the
 * node's MemoryPressure / DiskPressure / PIDPressure, reclaims disk by image garbage collection
 * (--image-gc-high/low-threshold) and, while a threshold stays met, evicts one pod per interval
 * (status Failed / Evicted with the kubelet's message). It also keeps the latest stats snapshot
 * for /stats/summary and /metrics/{resource,cadvisor}. One thread. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "kubelet/stats.h"

struct podsync;
struct eviction;

enum eviction_signal {
        EVICTION_MEMORY_AVAILABLE = 0,
        EVICTION_NODEFS_AVAILABLE,
        EVICTION_NODEFS_INODES_FREE,
        EVICTION_IMAGEFS_AVAILABLE,
        EVICTION_IMAGEFS_INODES_FREE,
        EVICTION_PID_AVAILABLE,
        EVICTION_SIGNAL_N,
};

struct eviction_threshold {
        bool set;
        bool percent;     /* value is pct (0..100) of the capacity */
        double pct;       /* percent */
        int64_t quantity; /* bytes / inodes / pids */
        char text[64];    /* the quantity as written ("100Mi"), for messages */
};

/* Pure: "memory.available<100Mi,nodefs.available<10%" (the kubelet's --eviction-hard). Signals
 * not named keep their value in ret (fill with eviction_thresholds_default first, as the kubelet
 * does only when the flag is absent: pass clear=true to drop the defaults). -EINVAL with a
 * message for unknown signals, operators other than '<', bad quantities. */
int eviction_thresholds_parse(const char *s, struct eviction_threshold ret[EVICTION_SIGNAL_N],
                              struct error *err);
/* The kubelet's defaults: memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%,
 * imagefs.available<15%, imagefs.inodesFree<5%. */
void eviction_thresholds_default(struct eviction_threshold ret[EVICTION_SIGNAL_N]);
/* Pure: the threshold in units for a capacity (percent thresholds scale it). */
int64_t eviction_threshold_value(const struct eviction_threshold *t, int64_t capacity);
const char *eviction_signal_name(enum eviction_signal s);

struct eviction_reserved {
        int64_t cpu_millis, memory, ephemeral, pids;
};
/* Pure: "cpu=100m,memory=256Mi,ephemeral-storage=1Gi,pid=100" (--kube-reserved,
 * --system-reserved); adds to ret. -EINVAL with a message. */
int eviction_reserved_parse(const char *s, struct eviction_reserved *ret, struct error *err);

/* Pure: which signals are met by snapshot s (met[i]), the pressure flags derived from them. */
struct eviction_pressure {
        bool memory, disk, pid;
};
void eviction_signals_met(const struct stats_snapshot *s,
                          const struct eviction_threshold t[EVICTION_SIGNAL_N],
                          bool met[EVICTION_SIGNAL_N], struct eviction_pressure *ret);

/* Pure: the kubelet's eviction message for pod (its spec) under signal sig with snapshot s and
 * the pod's stats ps (may be NULL). Caller frees. */
char *eviction_message(enum eviction_signal sig, const struct eviction_threshold *t,
                       const struct stats_snapshot *s, json_t *pod, const struct stats_pod *ps);
/* Pure: index of the pod to evict among pods (array of Pod objects) for sig, ranked as the
 * kubelet (usage over request first, then lower priority, then larger usage over request);
 * -1 if none. stats of each pod are looked up by uid in s. */
int eviction_rank(enum eviction_signal sig, json_t *pods, const struct stats_snapshot *s);

struct eviction_config {
        const char *data_dir; /* DATA/agent */
        struct runtime *rt;   /* borrowed */
        struct podsync *ps;   /* borrowed */
        struct eviction_threshold hard[EVICTION_SIGNAL_N];
        int image_gc_high, image_gc_low; /* percent of the image filesystem; 0 = 85 / 80 */
        int interval_ms;                 /* 0 = 10000 */
        /* called (on the eviction thread) when the pressure flags change */
        void (*on_change)(void *ud);
        void *ud;
};

int eviction_start(const struct eviction_config *cfg, struct eviction **ret, struct error *err);
/* Stop the thread (idempotent); pressure, snapshot and eviction_admit stay usable (the pod
 * workers may still admit pods) until eviction_free. */
void eviction_stop(struct eviction *ev);
void eviction_free(struct eviction *ev);
/* The current pressure flags (all false before the first measurement). */
struct eviction_pressure eviction_pressure_get(struct eviction *ev);
/* A copy of the latest snapshot (caller clears); -EAGAIN none yet. */
int eviction_snapshot_get(struct eviction *ev, struct stats_snapshot *ret);
/* The kubelet's eviction admission: under MemoryPressure only pods that are not BestEffort (or
 * tolerate node.kubernetes.io/memory-pressure), under DiskPressure/PIDPressure none (critical
 * pods always); else *ret_msg = "The node had condition: [MemoryPressure]. " and false. ud is
 * the struct eviction (podsync_set_admit's signature). */
bool eviction_admit(void *ud, json_t *pod, char **ret_msg);
/* The configured hard thresholds (borrowed, constant). */
const struct eviction_threshold *eviction_thresholds(struct eviction *ev);
