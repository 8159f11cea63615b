/* probes.h — container probes (liveness, readiness, startup) and lifecycle hook handlers (exec,
 * httpGet, tcpSocket) of the node agent.
 *
 * One timer thread decides which probes of the node are due and queues them to a small pool of
 * probe workers (exec probes through the runtime's exec, httpGet with libcurl from the host into
 * the pod IP, tcpSocket by a non-blocking connect), so a slow exec never delays the others; it
 * applies initialDelaySeconds/periodSeconds/timeoutSeconds/successThreshold/
 * failureThreshold like the kubelet's probe workers, and tells the pod workers through a
 * callback when a result changed or a container must be restarted. The threshold logic is pure
 * (probes_result_apply) and unit-tested in tests/unit/kubelet/test-probes.c. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "kubelet/runtime.h"

enum probes_kind {
        PROBES_LIVENESS = 0,
        PROBES_READINESS,
        PROBES_STARTUP,
};

/* The timing of one probe, with Kubernetes' defaults for absent fields. */
struct probes_timing {
        int initial_delay_s, period_s, timeout_s, success_threshold, failure_threshold;
};
void probes_timing_parse(json_t *probe, struct probes_timing *ret);

/* Pure threshold logic of one probe: the kubelet keeps its last result until the same outcome
 * was seen `threshold` times in a row. */
struct probes_result {
        bool last_ok;  /* outcome of the last run */
        int run;       /* consecutive runs with last_ok */
        bool state_ok; /* the published result */
};
/* Apply one outcome; returns true when state_ok changed. */
bool probes_result_apply(struct probes_result *r, const struct probes_timing *t, bool ok);

/* Run one handler (an exec / httpGet / tcpSocket object of a probe or lifecycle hook) against
 * a running container. 0 success, 1 failure, with *ret_output (malloc'd, may be "") the message
 * the kubelet reports ("HTTP probe failed with statuscode: 500", "dial tcp ...: connect:
 * connection refused", or the command's output). Negative errno when it could not run. */
/* Pure: the status of a grpc.health.v1.HealthCheckResponse in one gRPC length-prefixed message
 * (0 UNKNOWN, 1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN). -EPROTO malformed. */
int probes_grpc_response_parse(const uint8_t *buf, size_t len, int *ret_status);
int probes_handler_run(struct runtime *rt, const char *ctr_id, json_t *handler, json_t *spec_ctr,
                       const char *pod_ip, int timeout_s, char **ret_output);

struct probes;

/* changed(ud, pod_uid) is called from the probe thread (no lock of ours held) when a
 * container's readiness/started state changed, an event is pending, or a container must be
 * restarted. */
int probes_new(struct runtime *rt, void (*changed)(void *ud, const char *pod_uid), void *ud,
               struct probes **ret);
/* Stops the thread and frees everything. NULL is fine. */
void probes_free(struct probes *pm);

/* Start probing a container run (replacing what was registered for pod_uid/name). spec_ctr is
 * copied. started_at: unix seconds the run started. Nothing is registered when the container has
 * no probes (then it is ready and started as soon as it runs). */
void probes_container_add(struct probes *pm, const char *pod_uid, const char *name,
                          const char *ctr_id, json_t *spec_ctr, const char *pod_ip,
                          int64_t started_at);
/* Stop probing one container (name) or the whole pod (name NULL). */
void probes_container_remove(struct probes *pm, const char *pod_uid, const char *name);

struct probes_state {
        bool ready, started;
        /* a liveness or startup probe reached its failure threshold: restart the container
         * (message: the last probe output). Cleared by taking it. */
        bool kill;
        enum probes_kind kill_kind;
        char message[512];
};
/* Current results for a container; false when it has no probes. take_kill: report and clear a
 * pending kill (the entry then stops probing until the next run is added); otherwise kill is
 * left pending and reported as false. */
bool probes_container_state(struct probes *pm, const char *pod_uid, const char *name,
                            bool take_kill, struct probes_state *ret);

/* Pending Unhealthy events of a pod as a new array of {"container", "message"} (may be empty);
 * the caller emits them. */
json_t *probes_take_events(struct probes *pm, const char *pod_uid);
