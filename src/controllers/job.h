/* job.h — the Job controller (pkg/controller/job, as of Kubernetes 1.31): pods from the template
 * with the job-name / controller-uid labels (and their batch.kubernetes.io/ forms), the
 * batch.kubernetes.io/job-tracking finalizer (a finished pod is first recorded in
 * status.uncountedTerminatedPods, then its finalizer removed, then counted, so restarts never
 * count twice), completions and parallelism, Indexed completion mode (annotation and label
 * batch.kubernetes.io/job-completion-index, env JOB_COMPLETION_INDEX from the downward API,
 * hostname <job>-<index>, completedIndexes), backoffLimit with exponential pod backoff (10 s
 * doubling to 6 min after consecutive failures), activeDeadlineSeconds, suspend, the interim
 * FailureTarget / SuccessCriteriaMet conditions then Failed / Complete once no pod runs, and
 * ttlSecondsAfterFinished (deletes the finished Job with background propagation). */
#pragma once
#include <jansson.h>

#include "common/base.h"

#define JOB_TRACKING_FINALIZER "batch.kubernetes.io/job-tracking"
#define JOB_INDEX_ANNOTATION "batch.kubernetes.io/job-completion-index"
#define JOB_BACKOFF_BASE_S 10
#define JOB_BACKOFF_MAX_S 360

/* ---- pure parts (unit-tested) ---- */

/* Seconds to wait before creating a pod after `failures` consecutive failures (0 -> 0). */
int64_t job_backoff_seconds(int64_t failures);

/* Parse a completedIndexes string ("1,3-5") into a sorted set of indexes below completions:
 * returns a new JSON array of integers. Malformed parts are skipped. */
json_t *job_indexes_parse(const char *s, int64_t completions);
/* Format a sorted array of integers as "1,3-5"; caller frees. */
char *job_indexes_format(const json_t *idx);

/* The spec.podFailurePolicy action ("FailJob", "Ignore", "Count", "FailIndex") of the first
 * rule matching a failed pod (onExitCodes over init and regular containers' terminated states,
 * In / NotIn with exit code 0 never matching NotIn; onPodConditions), with Kubernetes' message
 * ("Container c for pod ns/p failed with exit code 3 matching FailJob rule at index 0") in msg;
 * NULL when no rule matches (the failure counts towards backoffLimit). */
const char *job_pod_failure_action(const json_t *job, const json_t *pod, char *msg, size_t size);

/* The pod for a job from its template (labels, finalizer, ownerReference; for index >= 0 the
 * Indexed mode annotation/label/hostname/env). New object. */
json_t *job_pod_new(const json_t *job, int64_t index);
