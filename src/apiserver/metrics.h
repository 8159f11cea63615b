/* metrics.h — the API server's /metrics in the Prometheus text format (version 0.0.4).
 *
 * Families, named and labelled as kube-apiserver's:
 *   apiserver_request_total{code,component,dry_run,group,resource,scope,subresource,verb,version}
 *   apiserver_request_duration_seconds{component,dry_run,group,resource,scope,subresource,verb,
 *       version} histogram with kube-apiserver's buckets (5 ms ... 60 s)
 *   apiserver_current_inflight_requests{request_kind="readOnly"|"mutating"}
 *   apiserver_longrunning_requests{component,group,resource,scope,subresource,verb,version}
 *       (open watches; the watch code reports start/end)
 *   process_* (resident/virtual memory, CPU seconds, open/max fds, start time) from /proc
 * Verbs are kube-apiserver's metric verbs (GET LIST WATCH POST PUT PATCH APPLY DELETE
 * DELETECOLLECTION CONNECT); scope is resource/namespace/cluster (metrics.CleanScope).
 *
 * Not thread-safe: the API server calls everything on its loop thread. The number of distinct
 * label sets is capped (METRICS_MAX_SERIES); observations of new label sets beyond it are
 * dropped, so hostile URLs cannot grow memory. */
#pragma once
#include "apiserver/authz.h"
#include "common/base.h"

#define METRICS_MAX_SERIES 8192

struct metrics;

struct metrics_labels {
        const char *verb; /* metric verb, e.g. "LIST" */
        const char *group, *version, *resource, *subresource;
        const char *scope; /* "resource", "namespace", "cluster" or "" */
        bool dry_run;
};

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* The labels for request attributes at (borrowed strings point into at): the metric verb
 * (content_type decides APPLY for PATCH; may be NULL) and scope. */
void metrics_labels_from_attrs(const struct authz_attrs *at, const char *content_type, bool dry_run,
                               struct metrics_labels *ret);

/* Count one finished request with HTTP status code and latency. */
void metrics_request_observe(struct metrics *m, const struct metrics_labels *l, int code,
                             double seconds);
/* In-flight requests: +1 when one starts, -1 when it ends. */
void metrics_inflight_add(struct metrics *m, bool mutating, int delta);
/* Long-running requests (watches): +1 when one starts, -1 when it ends. */
void metrics_longrunning_add(struct metrics *m, const struct metrics_labels *l, int delta);
/* The same with a handle: +1 now, -1 at metrics_longrunning_end (handles stay valid until
 * metrics_free; NULL, returned when the series cap is hit, is ignored by _end). */
struct metrics_series;
struct metrics_series *metrics_longrunning_begin(struct metrics *m, const struct metrics_labels *l);
void metrics_longrunning_end(struct metrics_series *s);

/* The exposition text (caller frees). */
char *metrics_render(struct metrics *m);
