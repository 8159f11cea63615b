/* apps.h — apps/v1 kinds: Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision
 * (defaults per k8s.io/kubernetes pkg/apis/apps/v1/defaults.go, validation per
 * pkg/apis/apps/validation). Pure; validation appends StatusCauses (api/meta.h). */
#pragma once
#include <jansson.h>

void apps_deployment_defaults(json_t *obj);
void apps_deployment_validate(const json_t *obj, json_t *causes);
void apps_deployment_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes);

void apps_replicaset_defaults(json_t *obj);
void apps_replicaset_validate(const json_t *obj, json_t *causes);
/* selector immutable (also Deployment, DaemonSet) */
void apps_selector_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes);

void apps_statefulset_defaults(json_t *obj);
void apps_statefulset_validate(const json_t *obj, json_t *causes);
/* only replicas, ordinals, template, updateStrategy, persistentVolumeClaimRetentionPolicy
 * and minReadySeconds may change */
void apps_statefulset_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes);

void apps_daemonset_defaults(json_t *obj);
void apps_daemonset_validate(const json_t *obj, json_t *causes);

void apps_controllerrevision_validate(const json_t *obj, json_t *causes);
/* data immutable */
void apps_controllerrevision_validate_update(const json_t *newobj, const json_t *oldobj,
                                             json_t *causes);
