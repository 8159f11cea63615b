/* nodelifecycle.c — the node lifecycle controller, as kube-controller-manager's nodeipam (range
 * allocator), node lifecycle (node_lifecycle_controller.go), taint-eviction and pod GC
 * controllers do it, in one periodic sync ("monitor", every second):
 *
 * - pod CIDRs: a node without spec.podCIDR gets the first free /24 of the cluster CIDR;
 * - health: the controller notes, on its own clock, when it last saw a node's Ready heartbeat
 *   (lastHeartbeatTime) or its kube-node-lease Lease (renewTime) change; after the grace period
 *   without either, Ready/MemoryPressure/DiskPressure/PIDPressure become Unknown
 *   (NodeStatusUnknown, "Kubelet stopped posting node status."), the node's pods lose Ready and
 *   a NodeNotReady event is recorded;
 * - taints (TaintNodesByCondition + taint-based evictions): Ready False -> node.kubernetes.io/
 *   not-ready, Unknown -> node.kubernetes.io/unreachable, each NoSchedule and NoExecute, removed
 *   when Ready is True again;
 * - eviction: pods on a node with NoExecute taints are deleted at once when a taint is not
 *   tolerated, else once the smallest tolerationSeconds since the taint's timeAdded ran out
 *   (DisruptionTarget condition and a TaintManagerEviction event first). No eviction while no
 *   node at all is Ready (the "full disruption" case: the control plane is the likelier fault);
 * - pod GC: pods bound to a node that does not exist any more are deleted with grace 0. */
#include "controllers/nodelifecycle.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <time.h>

#include "api/pod.h"
#include "common/kjson.h"
#include "common/timefmt.h"
#include "controllers/controllers-internal.h"
#include "controllers/util.h"

#define COMP "node-controller"
#define MONITOR_KEY "monitor"
#define MONITOR_PERIOD_MS 1000
#define POD_GC_PERIOD_MS 10000

#define T_NOT_READY "node.kubernetes.io/not-ready"
#define T_UNREACHABLE "node.kubernetes.io/unreachable"

/* ---- pure helpers ---- */

static int parse_cidr(const char *s, uint32_t *ret_net, int *ret_prefix)
{
        char buf[32];
        const char *slash = s ? strchr(s, '/') : NULL;
        if (!slash || (size_t)(slash - s) >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, (size_t)(slash - s));
        buf[slash - s] = 0;
        struct in_addr a;
        if (inet_pton(AF_INET, buf, &a) != 1)
                return -EINVAL;
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || p < 0 || p > 32)
                return -EINVAL;
        uint32_t mask = p ? 0xffffffffu << (32 - p) : 0;
        *ret_net = ntohl(a.s_addr) & mask;
        *ret_prefix = (int)p;
        return 0;
}

static bool overlaps(uint32_t a, int pa, uint32_t b, int pb)
{
        int p = pa < pb ? pa : pb;
        uint32_t mask = p ? 0xffffffffu << (32 - p) : 0;
        return (a & mask) == (b & mask);
}

int nodelifecycle_cidr_next(const char *cluster, const char *const *used, size_t n_used,
                            char ret[32])
{
        uint32_t net;
        int prefix;
        if (parse_cidr(cluster, &net, &prefix) < 0 || prefix < 8 || prefix > 24)
                return -EINVAL;
        uint32_t count = 1u << (24 - prefix);
        for (uint32_t i = 0; i < count; i++) {
                uint32_t cand = net + (i << 8);
                bool taken = false;
                for (size_t k = 0; k < n_used && !taken; k++) {
                        uint32_t u;
                        int pu;
                        if (parse_cidr(used[k], &u, &pu) == 0 && overlaps(cand, 24, u, pu))
                                taken = true;
                }
                if (!taken) {
                        snprintf(ret, 32, "%u.%u.%u.0/24", cand >> 24, (cand >> 16) & 255,
                                 (cand >> 8) & 255);
                        return 0;
                }
        }
        return -ENOSPC;
}

static const char *str_or_empty(const json_t *o, const char *k)
{
        return json_string_value(json_object_get(o, k)) ?: "";
}

bool nodelifecycle_tolerates(const json_t *tol, const json_t *taint)
{
        return pod_toleration_tolerates(tol, str_or_empty(taint, "key"),
                                        str_or_empty(taint, "value"),
                                        str_or_empty(taint, "effect"));
}

int64_t nodelifecycle_toleration_seconds(const json_t *tolerations, const json_t *taints)
{
        int64_t min = NODELIFECYCLE_TOLERATE_FOREVER;
        size_t i, j;
        json_t *taint, *tol;
        json_array_foreach(taints, i, taint)
        {
                if (strcmp(str_or_empty(taint, "effect"), "NoExecute"))
                        continue;
                bool tolerated = false;
                json_array_foreach(tolerations, j, tol)
                {
                        if (!nodelifecycle_tolerates(tol, taint))
                                continue;
                        tolerated = true;
                        json_t *secs = json_object_get(tol, "tolerationSeconds");
                        if (!json_is_integer(secs))
                                continue;
                        int64_t s = json_integer_value(secs);
                        if (s < 0)
                                s = 0;
                        if (min < 0 || s < min)
                                min = s;
                }
                if (!tolerated)
                        return NODELIFECYCLE_EVICT_NOW;
        }
        return min;
}

/* ---- the controller ---- */

struct nlc {
        json_t *probes;  /* node name -> {"key": heartbeat|renewTime, "at": ms} */
        json_t *no_cidr; /* node names told CIDRNotAvailable (one event each) */
        int64_t last_gc_ms;
};

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        (void)old;
        (void)cur;
        /* only node changes: a pod or Lease event would start a whole O(nodes + pods) sync per
         * event (quadratic under load); the monitor runs every MONITOR_PERIOD_MS anyway */
        if (res == CTL_NODES)
                workqueue_add(c->wq, MONITOR_KEY);
}

static json_t *node_condition(const json_t *node, const char *type)
{
        return controllers_condition_get(kjson_get(node, "status"), type);
}

static const char *ready_status(const json_t *node)
{
        return str_or_empty(node_condition(node, "Ready"), "status");
}

static void allocate_cidrs(struct controller *c, struct kclient *kc, json_t *nodes)
{
        const char *cluster = manager_get_config(c->m)->cluster_cidr;
        struct nlc *p = c->priv;
        bool full = false;
        size_t n = json_array_size(nodes), n_used = 0, i;
        _cleanup_free_ const char **used = xcalloc(n + 1, sizeof(*used));
        json_t *node;
        json_array_foreach(nodes, i, node)
        {
                if (kjson_str(node, "spec.podCIDR"))
                        used[n_used++] = kjson_str(node, "spec.podCIDR");
        }
        json_array_foreach(nodes, i, node)
        {
                if (kjson_str(node, "spec.podCIDR"))
                        continue;
                char cidr[32];
                const char *name = kjson_str(node, "metadata.name") ?: "";
                if (full || nodelifecycle_cidr_next(cluster, used, n_used, cidr) < 0) {
                        /* the pool is exhausted: no need to search again for the others */
                        full = true;
                        if (!json_object_get(p->no_cidr, name)) {
                                json_object_set_new(p->no_cidr, name, json_true());
                                manager_event(kc, COMP, node, "Normal", "CIDRNotAvailable",
                                              "Node %s status is now: CIDRNotAvailable", name);
                        }
                        continue;
                }
                json_t *patch =
                        json_pack("{s:{s:s, s:[s]}}", "spec", "podCIDR", cidr, "podCIDRs", cidr);
                _cleanup_free_ char *path = xasprintf("/api/v1/nodes/%s", name);
                struct error err = {0};
                int r = kclient_patch(kc, path, "merge", patch, NULL, &err);
                json_decref(patch);
                if (r < 0) {
                        log_warn(COMP, "node %s: podCIDR %s: %s", name, cidr, error_msg(&err));
                        continue;
                }
                log_info(COMP, "node %s: podCIDR %s", name, cidr);
                manager_event(kc, COMP, node, "Normal", "CIDRAssignmentSucceeded",
                              "Node %s status is now: CIDRAssignmentSucceeded", name);
                /* keep the CIDR taken until the cache has it: on our own copy of the node (the
                 * cached objects are shared with the informer and the other controllers) */
                json_t *copy = json_deep_copy(node);
                json_object_set_new(kjson_obj_ensure(copy, "spec"), "podCIDR", json_string(cidr));
                json_array_set_new(nodes, i, copy);
                used[n_used++] = kjson_str(copy, "spec.podCIDR");
        }
}

/* Whether the node was heard from within the grace period (updates the probe record). */
static bool node_healthy(struct nlc *p, const json_t *node, const json_t *lease, int64_t now_ms,
                         int grace_s)
{
        const char *name = kjson_str(node, "metadata.name") ?: "";
        _cleanup_free_ char *key =
                xasprintf("%s|%s", str_or_empty(node_condition(node, "Ready"), "lastHeartbeatTime"),
                          kjson_str(lease, "spec.renewTime") ?: "");
        json_t *rec = json_object_get(p->probes, name);
        if (!rec || strcmp(str_or_empty(rec, "key"), key)) {
                json_object_set_new(p->probes, name,
                                    json_pack("{s:s, s:I}", "key", key, "at", (json_int_t)now_ms));
                return true;
        }
        int64_t at = json_integer_value(json_object_get(rec, "at"));
        return now_ms - at <= (int64_t)grace_s * 1000;
}

static void mark_unknown(struct kclient *kc, json_t *node)
{
        static const char *const types[] = {"Ready", "MemoryPressure", "DiskPressure",
                                            "PIDPressure"};
        const char *name = kjson_str(node, "metadata.name") ?: "";
        char now[32];
        controllers_now(now);
        json_t *conds = json_deep_copy(kjson_get(node, "status.conditions"));
        if (!json_is_array(conds)) {
                json_decref(conds);
                conds = json_array();
        }
        for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
                json_t *cnd = NULL, *x;
                size_t i;
                json_array_foreach(conds, i, x)
                {
                        if (!strcmp(str_or_empty(x, "type"), types[t]))
                                cnd = x;
                }
                if (!cnd) {
                        json_array_append_new(
                                conds,
                                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", types[t],
                                          "status", "Unknown", "reason", "NodeStatusNeverUpdated",
                                          "message", "Kubelet never posted node status.",
                                          "lastHeartbeatTime", now, "lastTransitionTime", now));
                        continue;
                }
                if (strcmp(str_or_empty(cnd, "status"), "Unknown"))
                        json_object_set_new(cnd, "lastTransitionTime", json_string(now));
                json_object_set_new(cnd, "status", json_string("Unknown"));
                json_object_set_new(cnd, "reason", json_string("NodeStatusUnknown"));
                json_object_set_new(cnd, "message",
                                    json_string("Kubelet stopped posting node status."));
        }
        json_t *patch = json_pack("{s:{s:o}}", "status", "conditions", conds);
        _cleanup_free_ char *path = xasprintf("/api/v1/nodes/%s/status", name);
        struct error err = {0};
        if (kclient_patch(kc, path, "merge", patch, NULL, &err) < 0) {
                log_warn(COMP, "node %s: set conditions Unknown: %s", name, error_msg(&err));
        } else {
                log_info(COMP, "node %s: Kubelet stopped posting node status", name);
                manager_event(kc, COMP, node, "Normal", "NodeNotReady",
                              "Node %s status is now: NodeNotReady", name);
                json_object_set(kjson_obj_ensure(node, "status"), "conditions",
                                json_object_get(json_object_get(patch, "status"), "conditions"));
        }
        json_decref(patch);
}

static bool is_condition_taint(const json_t *t)
{
        const char *k = str_or_empty(t, "key");
        return !strcmp(k, T_NOT_READY) || !strcmp(k, T_UNREACHABLE);
}

/* Make the not-ready/unreachable taints match the Ready condition; other taints stay. */
static void reconcile_taints(struct kclient *kc, const json_t *node)
{
        const char *rs = ready_status(node);
        const char *want = !strcmp(rs, "True")    ? NULL
                           : !strcmp(rs, "False") ? T_NOT_READY
                                                  : T_UNREACHABLE;
        json_t *taints = kjson_get(node, "spec.taints");
        static const char *const effects[] = {"NoSchedule", "NoExecute"};
        bool have[2] = {false, false}, stale = false;
        size_t i;
        json_t *t;
        json_array_foreach(taints, i, t)
        {
                if (!is_condition_taint(t))
                        continue;
                bool match = want && !strcmp(str_or_empty(t, "key"), want);
                for (int e = 0; e < 2 && match; e++)
                        if (!strcmp(str_or_empty(t, "effect"), effects[e]))
                                have[e] = true;
                if (!match)
                        stale = true;
        }
        if (!stale && (!want || (have[0] && have[1])))
                return;
        char now[32];
        controllers_now(now);
        json_t *next = json_array();
        json_array_foreach(taints, i, t)
        {
                if (!is_condition_taint(t) || (want && !strcmp(str_or_empty(t, "key"), want)))
                        json_array_append(next, t);
        }
        for (int e = 0; e < 2 && want; e++)
                if (!have[e])
                        json_array_append_new(next,
                                              json_pack("{s:s, s:s, s:s}", "key", want, "effect",
                                                        effects[e], "timeAdded", now));
        const char *name = kjson_str(node, "metadata.name") ?: "";
        json_t *patch = json_pack("{s:{s:O}}", "spec", "taints", next);
        _cleanup_free_ char *path = xasprintf("/api/v1/nodes/%s", name);
        struct error err = {0};
        if (kclient_patch(kc, path, "merge", patch, NULL, &err) < 0)
                log_warn(COMP, "node %s: taints: %s", name, error_msg(&err));
        json_decref(patch);
        json_decref(next);
}

/* Pod status conditions with cond replacing the one of its type. New reference. */
static json_t *conditions_with(const json_t *pod, json_t *cond)
{
        json_t *conds = json_array(), *x;
        size_t i;
        const char *type = str_or_empty(cond, "type");
        json_array_foreach(kjson_get(pod, "status.conditions"), i, x)
        {
                if (strcmp(str_or_empty(x, "type"), type))
                        json_array_append(conds, x);
        }
        json_array_append_new(conds, cond);
        return conds;
}

static int patch_pod_conditions(struct kclient *kc, const json_t *pod, json_t *conds)
{
        json_t *patch = json_pack("{s:{s:o}}", "status", "conditions", conds);
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s/status",
                                              kjson_str(pod, "metadata.namespace") ?: "",
                                              kjson_str(pod, "metadata.name") ?: "");
        int r = kclient_patch(kc, path, "merge", patch, NULL, NULL);
        json_decref(patch);
        return r;
}

/* MarkPodsNotReady: the kubelet cannot say any more whether the pod is ready. */
static void mark_pod_not_ready(struct kclient *kc, const json_t *pod)
{
        if (!controllers_pod_is_ready(pod))
                return;
        json_t *cond = controllers_condition_new("Ready", "False", NULL, NULL, false);
        json_object_set_new(cond, "lastProbeTime", json_null());
        patch_pod_conditions(kc, pod, conditions_with(pod, cond));
        manager_event(kc, COMP, pod, "Warning", "NodeNotReady", "Node is not ready");
}

static void evict_pod(struct kclient *kc, const json_t *pod)
{
        const char *ns = kjson_str(pod, "metadata.namespace") ?: "";
        const char *name = kjson_str(pod, "metadata.name") ?: "";
        json_t *cond =
                controllers_condition_new("DisruptionTarget", "True", "DeletionByTaintManager",
                                          "Taint manager: deleting due to NoExecute taint", false);
        json_object_set_new(cond, "lastProbeTime", json_null());
        patch_pod_conditions(kc, pod, conditions_with(pod, cond));
        manager_event(kc, COMP, pod, "Normal", "TaintManagerEviction",
                      "Marking for deletion Pod %s/%s", ns, name);
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s", ns, name);
        struct error err = {0};
        int r = kclient_delete(kc, path, NULL, NULL, &err);
        if (r < 0 && r != -ENOENT)
                log_warn(COMP, "evict pod %s/%s: %s", ns, name, error_msg(&err));
        else
                log_info(COMP, "evicted pod %s/%s from node %s", ns, name,
                         kjson_str(pod, "spec.nodeName") ?: "");
}

/* The earliest timeAdded of the node's NoExecute taints (0 = none). */
static time_t noexecute_since(const json_t *taints)
{
        time_t since = 0;
        size_t i;
        json_t *t;
        json_array_foreach(taints, i, t)
        {
                if (strcmp(str_or_empty(t, "effect"), "NoExecute"))
                        continue;
                time_t a = controllers_time(t, "timeAdded");
                if (!a)
                        a = time(NULL);
                if (!since || a < since)
                        since = a;
        }
        return since;
}

static void handle_pods(struct controller *c, struct kclient *kc, json_t *nodes, bool evict)
{
        _cleanup_json_ json_t *pods = manager_cache_list(c->m, CTL_PODS, NULL);
        _cleanup_json_ json_t *by_name = json_object();
        size_t i;
        json_t *node, *pod;
        json_array_foreach(nodes, i, node)
                json_object_set(by_name, kjson_str(node, "metadata.name") ?: "", node);
        time_t now = time(NULL);
        int64_t now_ms = workqueue_now_ms();
        struct nlc *p = c->priv;
        bool gc = now_ms - p->last_gc_ms >= POD_GC_PERIOD_MS;
        if (gc)
                p->last_gc_ms = now_ms;
        json_array_foreach(pods, i, pod)
        {
                const char *nn = kjson_str(pod, "spec.nodeName");
                if (!nn || !*nn)
                        continue;
                node = json_object_get(by_name, nn);
                if (!node) {
                        if (!gc)
                                continue;
                        /* pod GC (gcOrphaned): confirm with the API server, not the cache */
                        _cleanup_free_ char *np = xasprintf("/api/v1/nodes/%s", nn);
                        json_t *live = NULL;
                        int r = kclient_get(kc, np, &live, NULL);
                        json_decref(live);
                        if (r != -ENOENT)
                                continue;
                        const char *ns = kjson_str(pod, "metadata.namespace") ?: "";
                        const char *name = kjson_str(pod, "metadata.name") ?: "";
                        _cleanup_free_ char *pp =
                                xasprintf("/api/v1/namespaces/%s/pods/%s", ns, name);
                        json_t *opts = json_pack("{s:s, s:s, s:i}", "kind", "DeleteOptions",
                                                 "apiVersion", "v1", "gracePeriodSeconds", 0);
                        if (kclient_delete(kc, pp, opts, NULL, NULL) == 0)
                                log_info(COMP, "pod GC: deleted %s/%s (node %s is gone)", ns, name,
                                         nn);
                        json_decref(opts);
                        continue;
                }
                if (kjson_get(pod, "metadata.deletionTimestamp"))
                        continue;
                /* only when nobody speaks for the node: a live kubelet reporting NotReady
                 * keeps reporting its pods itself */
                if (!strcmp(ready_status(node), "Unknown"))
                        mark_pod_not_ready(kc, pod);
                if (!evict)
                        continue;
                json_t *taints = kjson_get(node, "spec.taints");
                time_t since = noexecute_since(taints);
                if (!since)
                        continue;
                int64_t secs = nodelifecycle_toleration_seconds(kjson_get(pod, "spec.tolerations"),
                                                                taints);
                if (secs == NODELIFECYCLE_TOLERATE_FOREVER)
                        continue;
                if (secs == NODELIFECYCLE_EVICT_NOW || since + secs <= now) {
                        evict_pod(kc, pod);
                        continue;
                }
                /* come back when the first toleration runs out */
                workqueue_add_after(c->wq, MONITOR_KEY, (since + secs - now) * 1000);
        }
}

static int nlc_sync(struct controller *c, struct kclient *kc, const char *key)
{
        struct nlc *p = c->priv;
        if (strcmp(key, MONITOR_KEY))
                return 0;
        const struct manager_config *cfg = manager_get_config(c->m);
        int64_t now_ms = workqueue_now_ms();
        /* nodes starts as the cached objects (shared: never modified); a node we change is
         * replaced by a copy */
        _cleanup_json_ json_t *nodes = manager_cache_list(c->m, CTL_NODES, NULL);
        allocate_cidrs(c, kc, nodes);

        size_t i, ready = 0;
        bool trouble = false; /* a node not Ready or with NoExecute taints: look at the pods */
        json_t *node;
        _cleanup_json_ json_t *seen = json_object();
        json_array_foreach(nodes, i, node)
        {
                const char *name = kjson_str(node, "metadata.name") ?: "";
                json_object_set_new(seen, name, json_true());
                _cleanup_json_ json_t *lease =
                        manager_cache_get(c->m, CTL_NODE_LEASES, "kube-node-lease", name);
                if (!node_healthy(p, node, lease, now_ms, cfg->node_monitor_grace_s) &&
                    strcmp(ready_status(node), "Unknown")) {
                        json_t *copy = json_deep_copy(node);
                        json_array_set_new(nodes, i, copy);
                        node = copy;
                        mark_unknown(kc, node);
                }
                reconcile_taints(kc, node);
                if (!strcmp(ready_status(node), "True"))
                        ready++;
                else
                        trouble = true;
                if (noexecute_since(kjson_get(node, "spec.taints")))
                        trouble = true;
        }
        /* forget nodes that are gone */
        const char *name;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(p->probes, tmp, name, v)
        {
                if (!json_object_get(seen, name))
                        json_object_del(p->probes, name);
        }
        /* the pods are looked at only when a node is in trouble, and every 10 s for pod GC
         * (a full scan of every pod each second would cost a large cluster) */
        if (trouble || now_ms - p->last_gc_ms >= POD_GC_PERIOD_MS)
                handle_pods(c, kc, nodes, ready > 0);
        workqueue_add_after(c->wq, MONITOR_KEY, MONITOR_PERIOD_MS);
        return 0;
}

static void nlc_free(struct controller *c)
{
        struct nlc *p = c->priv;
        if (!p)
                return;
        json_decref(p->probes);
        json_decref(p->no_cidr);
        free(p);
        c->priv = NULL;
}

void nodelifecycle_controller_init(struct controller *c)
{
        struct nlc *p = xcalloc(1, sizeof(*p));
        p->probes = json_object();
        p->no_cidr = json_object();
        c->name = "nodelifecycle";
        c->priv = p;
        c->needs = 1u << CTL_NODES | 1u << CTL_NODE_LEASES | 1u << CTL_PODS;
        c->on_event = on_event;
        c->sync = nlc_sync;
        c->free = nlc_free;
}
