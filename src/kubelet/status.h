/* status.h — pure pod logic of the kubelet: PodStatus computation from what the runtime
 * observed (phase, conditions, containerStatuses, qosClass), and container argv/env
 * construction (command/args over entrypoint/cmd with $(VAR) expansion). No I/O: unit-tested
 * in tests/unit/kubelet/test-status.c. */
#pragma once
#include <jansson.h>

#include "common/base.h"

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
};

struct kubelet_pod_observed {
        const char *host_ip;
        const char *pod_ip; /* NULL until the sandbox has one */
        int64_t start_time; /* unix seconds the kubelet accepted the pod; 0 = unknown */
        bool sandbox_ready;
        const struct kubelet_ctr_status *ctrs; /* one per spec.containers entry, any order */
        size_t n_ctrs;
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

/* Container argv, new strv (NULL if empty): command/args override the image's
 * entrypoint/cmd as Kubernetes does (command set: command+args; only args: entrypoint+args;
 * neither: entrypoint+cmd), with $(VAR) expansion of command and args against env. */
char **kubelet_container_argv(json_t *container, char *const *entrypoint, char *const *cmd,
                              char *const *env);

size_t kubelet_strv_length(char *const *v);
void kubelet_strv_free(char **v);
