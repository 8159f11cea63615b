/* volumebinding.h — the scheduler's VolumeBinding plugin, reduced: a pod's persistentVolumeClaim
 * volumes must name existing claims that are bound, or belong to a WaitForFirstConsumer
 * StorageClass; for those the scheduler picks the node, records it on the claim (annotation
 * volume.kubernetes.io/selected-node, which the binder and the local-path provisioner act on)
 * and binds the pod only once every claim is bound (a provisioned volume's node affinity then
 * keeps the pod on that node). */
#pragma once
#include <jansson.h>

#include "client/client.h"

#define SCHEDULER_ANN_SELECTED_NODE "volume.kubernetes.io/selected-node"

/* Check the pod's claims (GETs on c). Returns 0 when the pod may be placed: *ret_wait tells
 * whether some WaitForFirstConsumer claims are still unbound, *ret_node (caller frees; NULL if
 * none) the node already selected for one of them, to which the pod is then restricted.
 * Returns -ENOENT or -EAGAIN with *ret_msg (caller frees, a FailedScheduling reason such as
 * `persistentvolumeclaim "x" not found` or "pod has unbound immediate PersistentVolumeClaims")
 * when it cannot be placed yet. */
int scheduler_volumes_prefilter(struct kclient *c, json_t *pod, bool *ret_wait, char **ret_node,
                                char **ret_msg);
/* Record node on the pod's unbound WaitForFirstConsumer claims that have no selected node yet.
 * 0 or the first API error. */
int scheduler_volumes_select(struct kclient *c, json_t *pod, const char *node);
