/* replicaset.h — the ReplicaSet controller (replica_set.go): keeps spec.replicas active pods
 * matching the selector, created from the template with a controller ownerReference, in
 * slow-start batches (1, 2, 4, ...), deleting in controllers_pods_sort_for_deletion order;
 * adopts matching orphans, releases owned pods that stop matching; maintains status (replicas,
 * fullyLabeledReplicas, readyReplicas, availableReplicas with minReadySeconds,
 * observedGeneration, ReplicaFailure). Started by the manager (controllers-internal.h). */
#pragma once
#include <jansson.h>

#include "common/base.h"
#include <time.h>

#define REPLICASET_BURST 500

/* The status for rs given the pods it controls (active ones; array, borrowed) at time now.
 * manage_err: a creation/deletion error message to report as ReplicaFailure (NULL: none; the
 * condition is then removed). New object; conditions carried over from rs.status. */
json_t *replicaset_status_calc(const json_t *rs, const json_t *pods, time_t now,
                               const char *manage_err, const char *manage_reason);
