/* controllers-internal.h — what the manager offers its controllers (private to the module). */
#pragma once
#include <jansson.h>

#include "client/client.h"
#include "common/base.h"
#include "common/log.h"
#include "controllers/manager.h"
#include "controllers/workqueue.h"

/* The shared informers. */
enum ctl_res {
        CTL_PODS,
        CTL_REPLICASETS,
        CTL_DEPLOYMENTS,
        CTL_JOBS,
        CTL_CRONJOBS,
        CTL_NAMESPACES,
        CTL_SERVICEACCOUNTS,
        CTL_RCS,
        CTL_NODES,
        CTL_NODE_LEASES, /* kube-node-lease */
        CTL_SERVICES,
        CTL_DAEMONSETS,
        CTL_STATEFULSETS,
        CTL_CONTROLLERREVISIONS,
        CTL_PVCS,
        CTL_PVS,
        CTL_STORAGECLASSES,
        CTL_PDBS,
        CTL_HPAS,
        CTL_RES_N
};

struct controller {
        const char *name;
        struct manager *m;
        struct workqueue *wq; /* keys "ns/name" */
        void *priv;
        unsigned needs; /* bit per enum ctl_res: caches that must be synced before a sync */
        /* Informer events (any informer thread): old NULL on add, cur NULL on delete. */
        void (*on_event)(struct controller *c, enum ctl_res res, json_t *old, json_t *cur);
        /* Reconcile one key on the worker thread: 0 done, < 0 requeue with backoff. */
        int (*sync)(struct controller *c, struct kclient *kc, const char *key);
        void (*free)(struct controller *c);
};

/* Constructors: fill name/needs/priv/callbacks (m and wq are set by the manager). */
void replicaset_controller_init(struct controller *c);
void replicationcontroller_controller_init(struct controller *c);
void deployment_controller_init(struct controller *c);
void gc_controller_init(struct controller *c);
void job_controller_init(struct controller *c);
void cronjob_controller_init(struct controller *c);
void serviceaccount_controller_init(struct controller *c);
void daemonset_controller_init(struct controller *c);
void statefulset_controller_init(struct controller *c);
void pvbinder_controller_init(struct controller *c);
void localpath_controller_init(struct controller *c);
void pvcprotection_controller_init(struct controller *c);
void nodelifecycle_controller_init(struct controller *c);
void endpoints_controller_init(struct controller *c);
void endpointslice_controller_init(struct controller *c);
void namespace_controller_init(struct controller *c);
void disruption_controller_init(struct controller *c);
void hpa_controller_init(struct controller *c);

/* Cached object (new reference) or NULL; list: new array of cached objects in ns (NULL: all). */
json_t *manager_cache_get(struct manager *m, enum ctl_res res, const char *ns, const char *name);
json_t *manager_cache_list(struct manager *m, enum ctl_res res, const char *ns);
bool manager_cache_synced(struct manager *m, enum ctl_res res);
/* Where the local-path provisioner keeps volumes (manager_config.storage_dir; may be NULL). */
const char *manager_storage_dir(struct manager *m);
/* The manager's configuration (borrowed; lives as long as m). */
const struct manager_config *manager_get_config(struct manager *m);

/* Run fn(kc, i, ud) for i in [0, n) on the manager's pool of API workers (MANAGER_POOL threads,
 * each with its own kclient) and wait for all of them: how controllers issue a batch of creates
 * or deletes in parallel, as client-go controllers do with goroutines. fn must be thread-safe
 * towards ud (write only its own slot i). Falls back to kc_self (the caller's client) serially
 * when the pool cannot start. */
#define MANAGER_POOL 16
void manager_parallel(struct manager *m, struct kclient *kc_self, size_t n,
                      int (*fn)(struct kclient *kc, size_t i, void *ud), void *ud);

/* Record a core/v1 Event about obj (apiVersion/kind taken from obj); failures are logged at
 * debug only. */
void manager_event(struct kclient *kc, const char *component, const json_t *obj, const char *type,
                   const char *reason, const char *fmt, ...) PRINTF_LIKE(6, 7);
