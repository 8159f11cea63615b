/* podsync.h — the kubelet's pod workers: an informer on the pods bound to this node, a pool of
 * worker threads, and per pod a state machine run by one worker at a time:
 *   sandbox -> per container: image -> start -> observe (1 s poll of the runtime) ->
 *   restart per restartPolicy with CrashLoopBackOff (10 s doubling to 5 min) -> status PATCH
 *   (only when changed); deletion: stop with grace, remove sandbox, DELETE with grace 0.
 * On start it adopts the runtime's containers of pods still bound here (same uid) and removes
 * the others. podsync_stop() leaves containers running. */
#pragma once
#include <jansson.h>

#include "common/error.h"
#include "kubelet/runtime.h"

struct podsync;

struct podsync_config {
        const char *kubeconfig;
        const char *data_dir; /* DATA/agent */
        const char *node_name;
        const char *node_ip;
        struct runtime *rt;   /* borrowed; must outlive the podsync */
        int workers;          /* 0 = 8 */
        int64_t pod_max_pids; /* --pod-max-pids; <= 0 = unlimited */
};

/* Start the informer and the workers; returns at once (the API server may be down). */
int podsync_start(const struct podsync_config *cfg, struct podsync **ret, struct error *err);
/* Stop the workers (waiting for running syncs) and the informer; containers keep running. */
void podsync_stop(struct podsync *ps);

/* Admission of new pods (the eviction manager's): admit returns false with *ret_msg (malloc'd)
 * to reject a pod, which then fails (Failed / Evicted / the message) without starting. Called on
 * the workers; set once, before or while pods arrive. */
void podsync_set_admit(struct podsync *ps, bool (*admit)(void *ud, json_t *pod, char **ret_msg),
                       void *ud);
/* Deep copies of the pods this node runs that are not terminal or being failed (for the
 * eviction manager). New array. */
json_t *podsync_pods_active(struct podsync *ps);
/* Evict the pod with uid: its next sync fails it (phase Failed, reason Evicted, message) and
 * kills its containers at once. -ENOENT unknown pod. */
int podsync_pod_evict(struct podsync *ps, const char *uid, const char *message);

/* For the logs endpoint: the CRI log file of container ctr of pod ns/name (previous: the run
 * before the current one) — *ret_path malloc'd — and whether that run is still going
 * (*ret_running; false for previous). Errors: -ENOENT no such pod/container (message),
 * -EINVAL previous requested but there is none / container not started yet (message). */
int podsync_log_lookup(struct podsync *ps, const char *ns, const char *name, const char *ctr,
                       bool previous, char **ret_path, bool *ret_running, struct error *err);

/* For exec/attach/port-forward: the pod's uid (*ret_uid) and, if ctr is not NULL, the runtime id
 * of its running container ctr (*ret_id; both malloc'd, ret_id may be NULL when ctr is).
 * Errors: -ENOENT no such pod / container (message), -EINVAL the container is not running. */
int podsync_stream_lookup(struct podsync *ps, const char *ns, const char *name, const char *ctr,
                          char **ret_uid, char **ret_id, struct error *err);
/* The runtime the pods run on (borrowed). */
struct runtime *podsync_get_runtime(struct podsync *ps);

/* Number of pods currently handled (for diagnostics). */
size_t podsync_count(struct podsync *ps);

/* ---- pure helpers (unit-tested) ---- */

/* imagePullPolicy in effect for a container: its own, or Always for ":latest"/untagged images
 * and IfNotPresent otherwise (as Kubernetes defaults it). Borrowed from container, or static. */
const char *podsync_pull_policy(json_t *container);

/* Bytes of a memory quantity ("64Mi", "1G", "1000"), 0 if absent or invalid. */
int64_t podsync_memory_bytes(const char *q);
/* Millicores of a cpu quantity ("500m", "2"), 0 if absent or invalid. */
int64_t podsync_cpu_millis(const char *q);
/* The pod cgroup's settings as the kubelet's ResourceConfigForPod: cpu shares from the summed
 * cpu requests (2 for BestEffort), CFS quota and memory limit only when every container has
 * the limit; init containers count as max(init, sum of the app containers). pod_max_pids > 0
 * becomes pids_max. */
void podsync_pod_resources(json_t *pod, int64_t pod_max_pids, struct cgroup_resources *ret);
