/* apiserver.h — the Kubernetes API server: HTTPS (h2o adapter) in front of the store.
 *
 * Everything runs on one event-loop thread (apiserver_run's caller): handlers, store calls
 * (synchronous), the watch cache and watch fan-out (cacher.h: the store's watch callback may run
 * on any thread; it queues and posts to the loop), timers. The pods/log proxy uses worker threads
 * (libcurl) that hand data back with http_server_post().
 *
 * TLS material is read from cfg->tls_dir: server.crt/server.key (serving), ca.crt (client certs
 * are verified against it; the CN is the user), kubelet-client.crt/.key (apiserver -> kubelet).
 * tls_dir == NULL serves plain HTTP without authentication (unit tests only).
 *
 * Storage layout: objects are JSON without metadata.resourceVersion at
 *   /registry/<resource>/<namespace>/<name>   (namespaced)
 *   /registry/<resource>/<name>               (cluster-scoped)
 * where <resource> is the plural resource name (unique across the groups we serve; for a
 * non-core group it is the same as Kubernetes' etcd layout, e.g. /registry/leases/...).
 * resourceVersions are store revisions; the server compacts the store's history every 5 minutes
 * to the revision seen at the previous tick (older Exact/continue list resourceVersions get 410;
 * watches get 410 below the watch cache's window of 1,000 events per resource), and
 * deletes Events older than one hour at the same tick. Services get cluster IPs from
 * 10.43.0.0/16 and node ports from 30000-32767 (apiserver/services.h). */
#pragma once
#include "common/base.h"
#include "common/error.h"

struct store;
struct apiserver;

struct apiserver_config {
        const char *bind_address;    /* NULL = all */
        int port;                    /* 0 = ephemeral (see apiserver_port) */
        const char *tls_dir;         /* DATA/server/tls, NULL = plain HTTP, no authn (tests) */
        struct store *store;         /* borrowed; must outlive the server */
        const char *token_auth_file; /* --token-auth-file (authn.h), NULL = none */
        int64_t event_ttl_s;         /* --event-ttl: Events live this long; 0 = 1 h */
};

/* Create the server: binds the port, creates the default namespaces (default, kube-system,
 * kube-public, kube-node-lease) if absent. Errors: -EINVAL (bad TLS files), -EADDRINUSE, store
 * errors. */
int apiserver_new(const struct apiserver_config *cfg, struct apiserver **ret, struct error *err);
/* Serve until apiserver_stop(); runs the event loop in the calling thread. Returns 0. */
int apiserver_run(struct apiserver *a);
/* Thread-safe; makes apiserver_run return. */
void apiserver_stop(struct apiserver *a);
/* Free after apiserver_run returned (or was never called). NULL is ignored. */
void apiserver_free(struct apiserver *a);
/* The bound port. */
int apiserver_port(struct apiserver *a);
/* Interval of BOOKMARK events on watches that allow them (default 30 s); for tests. Call before
 * apiserver_run. */
void apiserver_set_bookmark_interval(struct apiserver *a, unsigned ms);
