/* manager.h — the controller manager: shared informers (one per resource, shared by every
 * controller), one work queue and worker thread per controller, and leader election on the
 * coordination.k8s.io/v1 Lease kube-system/timonel-controller-manager as client-go's
 * leaderelection does (leaseDurationSeconds 15, renew deadline 10 s, retry every 2 s): only the
 * holder of the lease runs the controllers, so several servers can run the manager safely.
 *
 * Controllers (one file each): replicaset.c (also ReplicationControllers), deployment.c, gc.c,
 * job.c, cronjob.c, serviceaccount.c, daemonset.c, statefulset.c, pvbinder.c (PV/PVC binding),
 * localpath.c (the local-path provisioner and the default StorageClass), pvcprotection.c,
 * nodelifecycle.c, endpoints.c, endpointslice.c, namespace.c, disruption.c (PDB status),
 * hpa.c. */
#pragma once
#include <jansson.h>
#include <time.h>

#include "common/error.h"

#define MANAGER_LEASE_NAMESPACE "kube-system"
#define MANAGER_LEASE_NAME "timonel-controller-manager"
#define MANAGER_LEASE_DURATION_S 15
#define MANAGER_RENEW_DEADLINE_S 10
#define MANAGER_RETRY_PERIOD_S 2

struct manager;

struct manager_config {
        const char *kubeconfig; /* required */
        const char *identity;   /* lease holder prefix (host name); "_<uuid>" is appended */
        /* Optional: keep the uuid in <state_dir>/controller-manager.id so that a restarted
         * server is the same holder and resumes at once instead of waiting out its own lease
         * (the lease cannot be released at shutdown: the API server has stopped by then). */
        const char *state_dir;
        /* Optional: where the local-path provisioner keeps volumes (<data-dir>/storage). */
        const char *storage_dir;
        /* Node lifecycle (nodelifecycle.c): pod CIDRs are allocated in /24s from cluster_cidr
         * (NULL = 10.42.0.0/16); a node whose Lease and status stop being renewed for
         * node_monitor_grace_s (0 = 40) turns Unknown and is tainted unreachable. */
        const char *cluster_cidr;
        int node_monitor_grace_s;
        /* Where clients reach the API server: the endpoints of the default/kubernetes Service
         * (endpoints.c); NULL = no such Service is managed. */
        const char *apiserver_ip;
        int apiserver_port;
};

/* Start informers, the leader elector and the controllers' workers; returns at once (the API
 * server need not be up yet). Errors: -EINVAL on a bad config. */
int manager_start(const struct manager_config *cfg, struct manager **ret, struct error *err);
/* Stop every thread, release the lease if held, free m. NULL is a no-op. */
void manager_stop(struct manager *m);
/* Whether this manager currently holds the lease. */
bool manager_is_leader(struct manager *m);

/* ---- pure part of leader election (unit-tested) ---- */

/* Decide what to do with the current Lease (NULL = none) for identity at monotonic time now_s,
 * where observed_s is when this process last saw the lease record change (client-go measures
 * expiry on its own clock, not the holder's renewTime). Returns a new Lease object to write
 * (create when lease is NULL, else update carrying its resourceVersion), or NULL when another
 * holder's lease has not expired. */
json_t *manager_lease_next(const json_t *lease, const char *identity, int64_t now_s,
                           int64_t observed_s);
