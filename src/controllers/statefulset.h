/* statefulset.h — the StatefulSet controller (stateful_set_control.go): pods <name>-<ordinal>
 * (spec.ordinals.start), each with the PVCs <template>-<name>-<ordinal> of its
 * volumeClaimTemplates created first and kept on scale-down unless
 * persistentVolumeClaimRetentionPolicy says Delete; OrderedReady (one pod at a time, the next
 * only when the previous is Running and Ready; scale-down from the highest ordinal) or Parallel;
 * hostname/subdomain from serviceName; labels statefulset.kubernetes.io/pod-name,
 * apps.kubernetes.io/pod-index and controller-revision-hash (the revision name); RollingUpdate
 * (highest ordinal first, down to the partition) and OnDelete over ControllerRevisions; status
 * (replicas, readyReplicas, availableReplicas, currentReplicas, updatedReplicas, currentRevision,
 * updateRevision, collisionCount, observedGeneration). */
#pragma once
#include <jansson.h>

#include "common/base.h"

/* The ordinal of a pod named <set>-<n> (n a decimal without sign or leading zeros), else -1. */
int64_t statefulset_ordinal(const char *set_name, const char *pod_name);
/* The pod for ordinal ord of set from the template stored in revision rev (a ControllerRevision).
 * New object. */
json_t *statefulset_pod_new(const json_t *set, const json_t *rev, int64_t ord);
/* The claims of that pod (array of new PVC objects, one per volumeClaimTemplate). */
json_t *statefulset_claims_new(const json_t *set, int64_t ord);
