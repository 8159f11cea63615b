/* apiserver-internal.h — shared between the API server's files (not for other modules). */
#pragma once
#include <jansson.h>

#include "api/scheme.h"
#include "apiserver/apiserver.h"
#include "common/error.h"
#include "http/server.h"
#include "store/store.h"

#define APISERVER_MAX_BODY (3 * 1024 * 1024)         /* Kubernetes' limit: Status 413 above it */
#define APISERVER_ADAPTER_MAX_BODY (4 * 1024 * 1024) /* the adapter's hard cap (its own 413) */
#define APISERVER_WATCH_QUEUE_MAX (10 * 1024 * 1024)
#define APISERVER_BOOKMARK_MS 30000
#define APISERVER_EVENT_TTL_S 3600           /* events live one hour */
#define APISERVER_COMPACT_MS (5 * 60 * 1000) /* as kube-apiserver: compact every 5 minutes */

struct watcher;
struct cacher;
struct authn;
struct authz;
struct metrics;
struct authn_user;
struct authz_attrs;
struct labels_selector;
struct labels_field_selector;
struct logproxy;

struct apiserver {
        struct http_server *http;
        struct store *store;
        bool authn;         /* require a verified client cert */
        char *ca_file;      /* verify kubelet serving certs */
        char *kubelet_cert; /* client cert for apiserver -> kubelet */
        char *kubelet_key;
        struct watcher *watchers; /* every watcher not yet freed (loop thread) */
        struct cacher *cacher;    /* the watch cache (watch.c, cacher.h) */
        unsigned bookmark_ms;     /* BOOKMARK interval */
        int64_t compact_rev;      /* revision seen at the previous compaction tick */
        int log_workers;          /* pods/log threads still running (atomic builtins) */
        int deferred;             /* responses waiting for durability (atomic builtins) */
        int64_t event_ttl_s;      /* Events are created with this TTL (store_create_ttl) */
        struct authn *authenticator; /* authn.h (TLS mode only) */
        struct authz *authorizer;    /* authz.h: RBAC (TLS mode only) */
        struct metrics *metrics;     /* metrics.h: /metrics (loop thread) */
        /* metricsapi.c: metrics.k8s.io */
        struct metricsapi *metricsapi;
};

/* One request being handled (loop thread). */
struct rq {
        struct apiserver *a;
        struct http_req *req;
        const char *method;
        const char *path;
        const char *user;
        const struct scheme_resource *res;
        char *ns;   /* namespace from the URL or NULL */
        char *name; /* object name or NULL */
        char *sub;  /* subresource or NULL */
        int status; /* HTTP status sent (audit) */
        bool applied; /* server-side apply recorded managedFields (apply.h) */
        struct authn_user *auth;   /* who is asking (authn.h) */
        struct authz_attrs *attrs; /* what they ask for (authz.h) */
};

/* ---- apiserver.c: responses and shared helpers ---- */
void rq_respond_json(struct rq *q, int http, const json_t *obj);
void rq_respond_text(struct rq *q, int http, const char *ct, const char *text);
/* Status error from a negative errno; details stolen (may be NULL). */
void rq_fail(struct rq *q, int code, json_t *details, const char *fmt, ...) PRINTF_LIKE(4, 5);
/* `<resource> "<name>" not found` (404) for r (or namespaces when r is NULL). */
void rq_fail_not_found(struct rq *q, const struct scheme_resource *r, const char *name);
/* The response for an error from a store call / helper (code + message in err). */
void rq_fail_err(struct rq *q, const struct error *err);
/* Go's strconv.ParseBool truth. */
bool apiserver_parse_bool(const char *s);
/* Is the request asking for a Table? */
bool rq_wants_table(struct rq *q);

/* Decode an object read from the store: parse, set kind/apiVersion (r NULL: as stored, for the
 * watch cache's custom resources), metadata.resourceVersion = mod_rev. New reference or NULL on
 * corrupt data. */
json_t *apiserver_obj_decode(const struct scheme_resource *r, const char *value, size_t len,
                             int64_t rev);
/* Serialize for the store (drops metadata.resourceVersion). Caller frees. */
char *apiserver_obj_encode(const json_t *obj, size_t *ret_len);

/* Periodic work (loop thread): expire events older than the event TTL that have no lease
 * (stored before events were created with store_create_ttl). */
void apiserver_housekeeping(struct apiserver *a);

/* ---- handlers.c ---- */
void handlers_resource(struct rq *q);
/* Decode the request body (JSON, YAML or protobuf, size-capped); responds and returns < 0 on
 * failure. */
int rq_read_body(struct rq *q, json_t **ret);
/* Create the default namespaces if missing. */
int handlers_bootstrap(struct apiserver *a, struct error *err);
/* crdsync.c: what kube-apiserver's CRD controllers do, run after every CRD write (and at
 * start): NamesAccepted/Established status, the served custom resources (scheme), deleting
 * the instances of CRDs no longer served and the cleanup finalizer. */
void crdsync_run(struct apiserver *a);

/* Continue tokens: the hex form of "<revision> <last key>" (caller frees). */
char *apiserver_hex_encode(const char *s);

/* ---- watch.c: watches and cached LISTs, from the watch cache ---- */
/* Start a watch stream for q (collection GET with watch=true); responds. */
void watch_start(struct rq *q, const char *label_sel, const char *field_sel);
/* Serve a LIST from the watch cache if its resourceVersion/match/continue allow it (see
 * watch.c); true if it responded, false to use the store. */
bool watch_list_cached(struct rq *q, const struct labels_selector *ls,
                       const struct labels_field_selector *fs, size_t limit);
/* Create the watch cache (initial list + store watch; apiserver_new). */
int watch_cache_start(struct apiserver *a, struct error *err);
/* Start its periodic drain/relist tick (apiserver_run, loop thread). */
void watch_cache_run(struct apiserver *a);
/* Shutdown: stop the store watch before the loop's posts are run, free after the watchers. */
void watch_cache_detach(struct apiserver *a);
void watch_cache_free(struct apiserver *a);
/* Free every watcher (apiserver_free). */
void watch_free_all(struct apiserver *a);

/* ---- logs.c ---- */
void logs_proxy(struct rq *q, const json_t *pod);
/* nodes/proxy: GET rest (with q's query) from node's kubelet, streamed back. */
void logs_node_proxy(struct rq *q, const char *node, const char *rest);

/* ---- proxy.c ---- */
/* pods/exec, pods/attach, pods/portforward (q->sub): relay the upgraded connection to the pod's
 * kubelet; responds. Its relay threads count in log_workers. */
void proxy_stream(struct rq *q);

/* ---- eviction.c: the PodDisruptionBudget side of pods/eviction ---- */
/* Pending, Succeeded, Failed or deleting: evicted without a PDB check. */
bool apiserver_eviction_ignores_pdb(const json_t *pod);
/* May pod be evicted? 0: yes (a PDB disruption taken unless dry; *ret_precondition: delete only
 * if the pod is unchanged); < 0: no, q has been answered (429 with the DisruptionBudget cause,
 * 403, 500 for several PDBs). */
int apiserver_eviction_admit(struct rq *q, const json_t *pod, bool dry,
                             bool *ret_precondition);
/* Set status.conditions' DisruptionAllowed (pdbhelper.UpdateDisruptionAllowedCondition). */
void apiserver_pdb_condition_set(json_t *status, int64_t allowed, int64_t observed_gen,
                                const char *now);

/* ---- metricsapi.c: metrics.k8s.io/v1beta1 (NodeMetrics, PodMetrics) ---- */
struct metricsapi *metricsapi_new(struct apiserver *a);
void metricsapi_free(struct metricsapi *m);
/* A /apis/metrics.k8s.io[/...] request: answered, true. */
bool metricsapi_route(struct rq *q);

/* ---- reviews.c / serviceaccount.c: the authentication and authorization APIs ---- */
/* SelfSubjectReview, TokenReview, SelfSubjectAccessReview, SubjectAccessReview,
 * LocalSubjectAccessReview, SelfSubjectRulesReview and serviceaccounts/token: true if q is one
 * of them (then it has responded). */
bool reviews_route(struct rq *q);
/* POST serviceaccounts/NAME/token (TokenRequest); responds. */
void serviceaccount_token(struct rq *q);
/* After a successful write of a Secret: fill a kubernetes.io/service-account-token Secret's
 * token, ca.crt and namespace (a store update) when it has none yet. */
void serviceaccount_secret_written(struct rq *q);
