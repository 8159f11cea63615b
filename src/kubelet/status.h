/* status.h — pure pod logic of the kubelet: PodStatus computation from what the runtime
 * observed (phase, conditions, containerStatuses, qosClass), and container argv/env
 * construction (command/args over entrypoint/cmd with $(VAR) expansion). No I/O: unit-tested
 * in tests/unit/kubelet/test-status.c. */
#pragma once
#include <jansson.h>

#include "common/base.h"
#include "common/error.h"

enum kubelet_ctr_phase {
        KUBELET_CTR_WAITING = 0,
        KUBELET_CTR_RUNNING,
        KUBELET_CTR_TERMINATED,
};

/* A terminated state (current or previous run). Times are unix seconds. */
struct kubelet_ctr_term {
        int exit_code;
        const char *reason;  /* NULL: "Completed" on exit 0, else "Error" */
        const char *message; /* may be NULL */
        int64_t started_at, finished_at;
        const char *container_id; /* "crun://<id>", may be NULL */
};

/* What the kubelet knows about one container of the pod (all strings borrowed). */
struct kubelet_ctr_status {
        const char *name;
        const char *image_id;     /* sha256:..., NULL until resolved */
        const char *container_id; /* "crun://<id>" of the current run, NULL if none */
        enum kubelet_ctr_phase phase;
        const char *waiting_reason; /* default "ContainerCreating" */
        const char *waiting_message;
        int64_t started_at;           /* RUNNING */
        struct kubelet_ctr_term term; /* TERMINATED */
        bool has_last;                /* lastState.terminated */
        struct kubelet_ctr_term last;
        int restart_count;
        /* Probe results: when has_probe_state, ready/started come from the probes (readiness,
         * startup) instead of "running". */
        bool has_probe_state;
        bool ready, started;
};

struct kubelet_pod_observed {
        const char *host_ip;
        const char *pod_ip; /* NULL until the sandbox has one */
        int64_t start_time; /* unix seconds the kubelet accepted the pod; 0 = unknown */
        bool sandbox_ready;
        const struct kubelet_ctr_status *ctrs; /* one per spec.containers entry, any order */
        size_t n_ctrs;
        const struct kubelet_ctr_status *init_ctrs; /* one per spec.initContainers entry */
        size_t n_init_ctrs;
        /* Pod-level outcome decided by the kubelet (activeDeadlineSeconds): phase forced to
         * "Failed" with status.reason/message. NULL = none. */
        const char *failed_reason, *failed_message;
        int64_t now; /* unix seconds; for lastTransitionTime of changed conditions */
};

/* Compute pod.status from spec (pod, borrowed) and obs. Conditions keep the
 * lastTransitionTime of pod.status when their status did not change. A pod whose current
 * status.phase is Succeeded or Failed keeps it. Returns a new object. */
json_t *kubelet_status_compute(json_t *pod, const struct kubelet_pod_observed *obs);

/* The phase alone (kubelet's getPhase rules): "Pending", "Running", "Succeeded", "Failed". */
const char *kubelet_status_phase(json_t *pod, const struct kubelet_pod_observed *obs);

/* qosClass of a pod spec: "Guaranteed", "Burstable" or "BestEffort". */
const char *kubelet_status_qos(json_t *pod);

/* Names of the init containers (in spec order) that have not completed successfully, joined
 * with spaces; "" when all completed. New string. */
char *kubelet_status_init_pending(json_t *pod, const struct kubelet_pod_observed *obs);

/* Whether two statuses differ, ignoring nothing (json_equal), NULL-safe. */
bool kubelet_status_changed(json_t *old_status, json_t *new_status);

/* Format unix seconds as RFC 3339 UTC ("2026-01-02T03:04:05Z") into buf (>= 21 bytes). */
char *kubelet_time_format(int64_t t, char buf[static 32]);

/* ---- container argv / env ---- */

/* Expand $(VAR) references in s against env ("K=V" strings, NULL-terminated, may be NULL):
 * a defined VAR is replaced, $$ becomes $, anything else is kept as written (Kubernetes'
 * expansion rules). Returns a new string. */
char *kubelet_env_expand(const char *s, char *const *env);

/* Container env, "K=V" NULL-terminated, new strv: image_env first, then the container's env
 * entries (value with $(VAR) expansion against the earlier entries, or valueFrom.fieldRef of
 * metadata.name/namespace/uid/labels/annotations, spec.nodeName, spec.serviceAccountName,
 * status.podIP/hostIP); a later name overrides an earlier one. Unsupported valueFrom sources
 * give an empty value. */
char **kubelet_container_env(json_t *pod, json_t *container, char *const *image_env,
                             const char *pod_ip, const char *host_ip);

/* The value of a downward API fieldPath (as fieldRef in env, plus "metadata.labels" and
 * "metadata.annotations" as sorted `k="v"` lines for downwardAPI volumes). New string, NULL for
 * an unsupported path. */
char *kubelet_field_value(json_t *pod, const char *field, const char *pod_ip, const char *host_ip);

/* resourceFieldRef (resource, containerName, divisor) of container as the kubelet renders it:
 * ceil(value / divisor); an unset limit is the node's capacity. 0 and *ret (new), or -EINVAL
 * with a message. */
int kubelet_resource_value(json_t *pod, json_t *container, json_t *ref, char **ret,
                           struct error *err);

/* Resolves a ConfigMap (kind "configmap") or Secret (kind "secret") of the pod's namespace into
 * *ret: a new object {key: value string} (secret values decoded). -ENOENT when it does not
 * exist; other negative errno with a message in err. */
struct kubelet_env_source {
        int (*lookup)(void *ud, const char *kind, const char *name, json_t **ret,
                      struct error *err);
        void *ud;
};

/* Like kubelet_container_env, with every source of the Kubernetes API: env[].value,
 * valueFrom.fieldRef, resourceFieldRef (limits/requests cpu, memory, ephemeral-storage with
 * divisor), configMapKeyRef, secretKeyRef (optional), and envFrom configMapRef/secretRef
 * (prefix, optional). Errors carry the kubelet's messages (CreateContainerConfigError):
 * -ENOENT `configmap "x" not found` / `couldn't find key k in ConfigMap ns/x`; other lookup
 * errors are passed on. *ret is a new NULL-terminated strv. */
int kubelet_container_env_resolve(json_t *pod, json_t *container, char *const *image_env,
                                  const char *pod_ip, const char *host_ip,
                                  const struct kubelet_env_source *src, char ***ret,
                                  struct error *err);

/* Container argv, new strv (NULL if empty): command/args override the image's
 * entrypoint/cmd as Kubernetes does (command set: command+args; only args: entrypoint+args;
 * neither: entrypoint+cmd), with $(VAR) expansion of command and args against env. */
char **kubelet_container_argv(json_t *container, char *const *entrypoint, char *const *cmd,
                              char *const *env);

size_t kubelet_strv_length(char *const *v);
void kubelet_strv_free(char **v);
