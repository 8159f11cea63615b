/* metricsapi.h — the pure part of the metrics.k8s.io server (metricsapi.c), for tests. */
#pragma once
#include <jansson.h>

/* One node's kubelet Summary (stats/v1alpha1) into nodes (name -> NodeMetrics) and pods
 * ("ns/name" -> PodMetrics) — only what has two CPU samples, prev holding the earlier ones;
 * next receives this round's points. Any JSON is accepted (missing fields are skipped). */
void metricsapi_ingest(const char *node, const json_t *summary, json_t *nodes, json_t *pods,
                       json_t *prev, json_t *next);
