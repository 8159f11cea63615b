/* daemonset.h — the DaemonSet controller (daemon_controller.go): one pod per eligible node
 * (nodeSelector, required node affinity, NoSchedule/NoExecute taints against the template's
 * tolerations plus the ones Kubernetes adds to every daemon pod), created bound to its node
 * (spec.nodeName, plus the node-name affinity Kubernetes sets), deleted from nodes that stop
 * being eligible (untolerated NoExecute taints, selector changes), failed pods replaced;
 * RollingUpdate (maxUnavailable, maxSurge) and OnDelete over ControllerRevisions
 * (controller-revision-hash label, revisionHistoryLimit); status counts and observedGeneration.
 * Started by the manager (controllers-internal.h). */
#pragma once
#include <jansson.h>

#include "common/base.h"

/* The template's tolerations plus the automatic daemon-pod ones (node.kubernetes.io/not-ready
 * and unreachable NoExecute; disk-pressure, memory-pressure, pid-pressure, unschedulable
 * NoSchedule; network-unavailable NoSchedule with hostNetwork). New array. */
json_t *daemonset_tolerations(const json_t *pod_spec);
/* Whether ds should run a pod on node (*ret_should_run) and whether an existing one may keep
 * running (*ret_continue: false only on an untolerated NoExecute taint or a selector/affinity
 * mismatch). */
void daemonset_node_should_run(const json_t *ds, const json_t *node, bool *ret_should_run,
                               bool *ret_continue);
/* The node a daemon pod is meant for: spec.nodeName, or the metadata.name node-affinity term the
 * controller sets. Borrowed; NULL if none. */
const char *daemonset_pod_node(const json_t *pod);
