/* framework.h — the pure part of the scheduler: pod and node info as kube-scheduler's cache keeps
 * them (requests, ports, images, bound pods), the default profile's filter and score plugins,
 * preemption's victim selection, and the FailedScheduling message. No I/O, no locks: the daemon
 * (scheduler.c) owns a struct sched_cluster and calls these under its lock.
 *
 * Plugins (pkg/scheduler/framework/plugins, default profile of kube-scheduler 1.31):
 *   filters  NodeUnschedulable, NodeName, TaintToleration, NodeAffinity (+nodeSelector),
 *            NodePorts, NodeResourcesFit, VolumeRestrictions-free volume node affinity of bound
 *            PVs (the caller resolves PVs into sched_pod.pv_affinity), PodTopologySpread,
 *            InterPodAffinity; plus our own "node not Ready" check (a missing not-ready taint)
 *   scores   (weight) NodeResourcesFit LeastAllocated (1), NodeResourcesBalancedAllocation (1),
 *            ImageLocality (1), InterPodAffinity (2), NodeAffinity (2), PodTopologySpread (2),
 *            TaintToleration (3); each normalized to 0..100 first.
 * Default topology spread (no constraints on the pod): hostname maxSkew 3 and zone maxSkew 5,
 * ScheduleAnyway, over the pods of the same controller (owner uid) — kube-scheduler derives the
 * selector from the Services/ReplicaSets/StatefulSets selecting the pod; the owner is our
 * incremental stand-in for it. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define SCHED_MAX_NODE_SCORE 100
#define SCHED_DEFAULT_MILLI_CPU 100                /* non-zero request for scoring */
#define SCHED_DEFAULT_MEMORY (200LL * 1024 * 1024) /* 200Mi */

struct sched_res {
        int64_t cpu_m; /* milli-cpu */
        int64_t mem;   /* bytes */
        int64_t eph;   /* ephemeral-storage bytes */
        int64_t pods;
};

struct sched_port {
        char proto[8];
        char ip[48]; /* "" = 0.0.0.0 */
        int port;
};

struct sched_pod {
        char *key; /* ns/name */
        char *ns, *name, *uid;
        json_t *obj;              /* reference to the pod object (labels, affinity, ...) */
        char *node;               /* bound or assumed node name, NULL if unscheduled */
        bool assumed;             /* bound by us, not yet seen bound */
        struct sched_res req;     /* effective requests (init max rule, sidecars, overhead) */
        struct sched_res nonzero; /* cpu/memory with the scoring defaults */
        int32_t priority;
        bool preempt_never; /* preemptionPolicy: Never */
        struct sched_port *ports;
        size_t n_ports;
        char *owner_uid;       /* controller ownerReference uid or NULL */
        uint32_t owner_id;     /* owner_uid interned (sched_owner_id), 0 = none */
        bool has_affinity;     /* spec.affinity.podAffinity/podAntiAffinity present */
        json_t *pv_affinity;   /* array of PV nodeAffinity.required (NodeSelector), or NULL */
        struct sched_node *on; /* node info it is counted in, or NULL */
        /* borrowed from obj, looked up once: */
        json_t *node_selector, *required_na, *preferred_na, *tolerations;
        const char *node_name;
        json_t *images; /* [[image, normalized image], ...] (owned) */
};

struct sched_owner_count {
        uint32_t id;
        uint32_t count;
};

struct sched_node {
        char *name;
        json_t *obj; /* reference to the Node */
        json_t *labels;
        bool unschedulable, ready;
        struct sched_res alloc;
        struct sched_res requested; /* sum of bound pods' req (pods = count) */
        struct sched_res nonzero;   /* sum of bound pods' nonzero (cpu, mem) */
        struct sched_pod **pods;
        size_t n_pods, cap_pods;
        size_t n_affinity;                /* pods here with pod (anti-)affinity terms */
        struct sched_owner_count *owners; /* pods here per owner (small, unsorted) */
        size_t n_owners, cap_owners;
        const char *hostname, *zone; /* well-known labels (borrowed from obj) */
        json_t *taints;              /* spec.taints (borrowed) */
        json_t *images;              /* image name -> size bytes (status.images, every name) */
        int generation;              /* scratch for callers */
};

struct sched_cluster {
        struct sched_node **nodes;
        size_t n_nodes, cap_nodes;
        json_t *by_name;     /* node name -> index in nodes (integer) */
        json_t *image_nodes; /* image name -> number of nodes having it */
        json_t *ns_labels;   /* namespace name -> its labels (for namespaceSelector) */
};

/* ---- info ---- */

/* A small integer for an owner uid (process-wide, thread-safe; never 0). */
uint32_t sched_owner_id(const char *uid);
/* Pods of owner id on node n. */
uint32_t sched_node_owner_count(const struct sched_node *n, uint32_t id);

/* Build pod info from a Pod object (obj is referenced). Never fails: bad quantities count 0. */
struct sched_pod *sched_pod_new(json_t *obj);
void sched_pod_free(struct sched_pod *p);

/* Node info from a Node object (referenced); no pods. */
struct sched_node *sched_node_new(json_t *obj);
/* Replace the Node object, keeping the pods. */
void sched_node_set_obj(struct sched_node *n, json_t *obj);
void sched_node_free(struct sched_node *n);
void sched_node_add_pod(struct sched_node *n, struct sched_pod *p);
void sched_node_remove_pod(struct sched_node *n, struct sched_pod *p);

void sched_cluster_init(struct sched_cluster *c);
void sched_cluster_free(struct sched_cluster *c);
struct sched_node *sched_cluster_node(struct sched_cluster *c, const char *name);
/* Add or update a node (obj referenced). Returns the node info. */
struct sched_node *sched_cluster_set_node(struct sched_cluster *c, json_t *obj);
/* Remove a node; its pods are detached (p->on = NULL) but not freed. */
void sched_cluster_remove_node(struct sched_cluster *c, const char *name);

/* ---- filters ---- */

enum sched_code {
        SCHED_OK = 0,
        SCHED_UNSCHEDULABLE = 1, /* preemption may help */
        SCHED_UNRESOLVABLE = 2,  /* preemption cannot help */
};

#define SCHED_MAX_REASONS 6
struct sched_status {
        enum sched_code code;
        size_t n;
        char reasons[SCHED_MAX_REASONS][160];
};

/* Per-cycle state of the pod being scheduled (PreFilter/PreScore results); opaque. */
struct sched_cycle;
struct sched_cycle *sched_cycle_new(struct sched_cluster *c, struct sched_pod *pod);
void sched_cycle_free(struct sched_cycle *cy);

/* Run every filter for pod on node; fills st (code, reasons). Returns st->code == SCHED_OK. */
bool sched_filter(struct sched_cycle *cy, struct sched_node *node, struct sched_status *st);

/* Score the feasible nodes (n of them) into scores[] (weighted sum of normalized plugin
 * scores). */
void sched_score(struct sched_cycle *cy, struct sched_node **nodes, size_t n, int64_t *scores);

/* ---- the whole cycle ---- */

struct sched_result {
        struct sched_node *node; /* chosen node, or NULL */
        char *message;           /* on failure: "0/N nodes are available: ..." (malloc'd) */
        /* preemption (only when node == NULL and a candidate was found): */
        struct sched_node *nominated;
        struct sched_pod **victims; /* malloc'd array, borrowed pods */
        size_t n_victims;
};

/* Filter all nodes (or, when more than 100 nodes, stop after kube-scheduler's adaptive
 * percentageOfNodesToScore worth of feasible ones, starting at *next_start which rotates), score
 * and pick the best (ties: the first in rotation order). On failure try preemption. */
void sched_schedule(struct sched_cluster *c, struct sched_pod *pod, size_t *next_start,
                    struct sched_result *res);
void sched_result_clear(struct sched_result *res);

/* The FailedScheduling message from a reason histogram {reason: count} and the preemption
 * histogram (NULL = none, or a "not eligible" text in pre_text). Pure. */
char *sched_fit_message(size_t n_nodes, json_t *reasons, json_t *pre_reasons, const char *pre_text);

/* ---- helpers exposed for tests ---- */
bool sched_node_selector_term_matches(json_t *term, json_t *node);
bool sched_tolerates(json_t *tolerations, const char *key, const char *value, const char *effect);
