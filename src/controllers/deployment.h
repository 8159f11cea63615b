/* deployment.h — the Deployment controller (pkg/controller/deployment): owns ReplicaSets named
 * "<deployment>-<pod-template-hash>" (label pod-template-hash added to their selector and
 * template), rolls them with RollingUpdate (maxSurge rounded up, maxUnavailable down, 25%
 * default) or Recreate, keeps revisions (annotation deployment.kubernetes.io/revision) and
 * revisionHistoryLimit, honours spec.paused, and reports status with the Progressing
 * (NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
 * ProgressDeadlineExceeded, DeploymentPaused, DeploymentResumed) and Available
 * (MinimumReplicasAvailable / MinimumReplicasUnavailable) conditions. */
#pragma once
#include <jansson.h>

#include "common/base.h"

#define DEPLOYMENT_REVISION "deployment.kubernetes.io/revision"
#define DEPLOYMENT_DESIRED "deployment.kubernetes.io/desired-replicas"
#define DEPLOYMENT_MAX "deployment.kubernetes.io/max-replicas"
#define DEPLOYMENT_HASH_LABEL "pod-template-hash"

/* ---- pure parts (unit-tested) ---- */

/* Replicas for the new RS in a rolling update (deploymentutil.NewRSNewReplicas): all_rs and
 * new_rs are ReplicaSet objects (new_rs also in all_rs or not). */
int64_t deployment_new_rs_replicas(const json_t *d, const json_t *all_rs, const json_t *new_rs);

/* Does rs's template equal d's ignoring the pod-template-hash label (EqualIgnoreHash)? */
bool deployment_template_equal(const json_t *d_tmpl, const json_t *rs_tmpl);

/* The status computed from the ReplicaSets (calculateStatus + the Available condition). */
json_t *deployment_status_calc(const json_t *d, const json_t *all_rs, const json_t *new_rs);

/* deploymentutil.DeploymentComplete. */
bool deployment_is_complete(const json_t *d, const json_t *status);
