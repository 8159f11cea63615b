/* pod.h — Pod defaults and validation as Kubernetes applies them (pure; JSON in, JSON out).
 *
 * Validation appends StatusCause objects (see api/meta.h) to a JSON array; the API server turns
 * them into a 422 Invalid Status. */
#pragma once
#include <jansson.h>

#include "common/base.h"

/* Apply the defaults of a new pod in place: spec.restartPolicy Always, dnsPolicy ClusterFirst,
 * terminationGracePeriodSeconds 30, schedulerName default-scheduler, securityContext {},
 * enableServiceLinks true, priority 0; per container (and init container)
 * terminationMessagePath /dev/termination-log, terminationMessagePolicy File, imagePullPolicy
 * (Always for ":latest" or no tag, else IfNotPresent; digests -> IfNotPresent), resources {},
 * ports[].protocol TCP; status.phase Pending, status.qosClass. */
void pod_defaults(json_t *pod);

/* v1.Toleration.ToleratesTaint: whether tol (a Toleration object) tolerates the taint
 * key=value:effect: tol's effect empty or equal, tol's key empty or equal, and operator Exists,
 * or Equal (the default) with an equal value. */
bool pod_toleration_tolerates(const json_t *tol, const char *key, const char *value,
                              const char *effect);

/* The DefaultTolerationSeconds admission in pod_defaults: a pod that tolerates no
 * node.kubernetes.io/not-ready (unreachable) NoExecute taint gets a toleration for it with
 * tolerationSeconds not_ready_s (unreachable_s); both 300 unless set here (the API server's
 * --default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds). Set once
 * at start, before requests are served. */
void pod_toleration_defaults_set(int64_t not_ready_s, int64_t unreachable_s);

/* "BestEffort", "Burstable" or "Guaranteed" from the containers' resources. */
const char *pod_qos_class(const json_t *pod);

/* Validate the spec of a pod for create: containers required, container names DNS labels and
 * unique (across init containers too), image required, restartPolicy/dnsPolicy values,
 * ports in range. Metadata is validated separately (meta_validate_object_meta). */
void pod_validate(const json_t *pod, json_t *causes);

/* Update rules: spec is immutable except containers[*].image, initContainers[*].image,
 * activeDeadlineSeconds, tolerations (additions), terminationGracePeriodSeconds (to 1 when
 * deleting). Appends "spec: Forbidden: pod updates may not change fields other than ..." */
void pod_validate_update(const json_t *newpod, const json_t *oldpod, json_t *causes);

/* The default image pull policy for an image reference. */
const char *pod_image_pull_policy(const char *image);
