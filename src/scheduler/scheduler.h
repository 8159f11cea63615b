/* scheduler.h — the default scheduler (schedulerName default-scheduler): a queue of unscheduled
 * pods (active queue, backoff 1 s doubling to 10 s, unschedulable pods retried on node add/update
 * and pod delete), kube-scheduler's default filters and scores over an incremental node cache
 * (framework.h), preemption, asynchronous binding, Scheduled / FailedScheduling events and the
 * PodScheduled=False condition. */
#pragma once
#include <jansson.h>
#include <stdint.h>

#include "common/error.h"

struct scheduler;

struct scheduler_config {
        const char *kubeconfig;
        int binders; /* binding threads (0 = 16) */
};

/* Start the scheduler's threads and return at once; the API server need not be up yet (the
 * scheduler retries). Errors: -EINVAL on a bad config. */
int scheduler_start(const struct scheduler_config *cfg, struct scheduler **ret, struct error *err);
/* Stop the threads and free s. NULL is a no-op. */
void scheduler_stop(struct scheduler *s);

/* Counters since start: pods bound, scheduling attempts that found no node. */
void scheduler_stats(struct scheduler *s, uint64_t *ret_bound, uint64_t *ret_failed);
