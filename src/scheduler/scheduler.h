/* scheduler.h — binds unscheduled pods (schedulerName default-scheduler) to Ready, schedulable
 * nodes, the one with the fewest pods first, and records Scheduled / FailedScheduling events. */
#pragma once
#include <jansson.h>

#include "common/error.h"

struct scheduler;

struct scheduler_config {
        const char *kubeconfig;
};

/* Start the scheduler's threads and return at once; the API server need not be up yet (the
 * scheduler retries). Errors: -EINVAL on a bad config. */
int scheduler_start(const struct scheduler_config *cfg, struct scheduler **ret, struct error *err);
/* Stop the threads and free s. NULL is a no-op. */
void scheduler_stop(struct scheduler *s);

/* ---- pure parts (unit-tested) ---- */

/* Whether a Node object can take new pods: condition Ready=True and not spec.unschedulable.
 * On false, *ret_reason (may be NULL) points to a static reason such as "node(s) were
 * unschedulable" or "node(s) had untolerated taint {node.kubernetes.io/not-ready: }". */
bool scheduler_node_fits(json_t *node, json_t *pod, const char **ret_reason);

/* Choose a node for pod among nodes (array of Node objects); pod_counts is an object
 * {nodeName: count} of pods already bound (may be NULL). Returns the index of the chosen node
 * (fewest pods, ties by name), or -ENOENT with *ret_message (malloc'd, caller frees) set to
 * "0/N nodes are available: ..." as kube-scheduler words it. */
int scheduler_node_choose(json_t *nodes, json_t *pod, json_t *pod_counts, char **ret_message);
