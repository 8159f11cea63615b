/* hpa.h — the pure parts of the HorizontalPodAutoscaler controller (hpa.c), for tests. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* One autoscaling/v2 Resource metric (spec_m: {type: Resource, resource: {name, target}})
 * over the target's pods (Running, with spec.containers[].resources.requests; modified: a
 * "__req" field marks pods without metrics) and a PodMetricsList: 0, *ret_desired (current
 * within the 0.1 tolerance) and *ret_cur (a currentMetrics entry, new reference); < 0 and *why
 * (caller frees): -EINVAL a missing request or a bad target, -ENODATA no metrics at all. */
int hpa_resource_metric(const json_t *spec_m, json_t *pods, const json_t *metrics, int64_t current,
                        int64_t *ret_desired, json_t **ret_cur, char **why);
/* The scaleUp/scaleDown policies of hpa's spec.behavior (Kubernetes' defaults when absent)
 * applied to a move from current to desired, given the scale events [[t, delta], ...] of the
 * past: the allowed replica count; *limited when it cut the move. */
int64_t hpa_rate_limit(const json_t *hpa, const json_t *events, int64_t current, int64_t desired,
                       time_t now, bool *limited);
