/* disruption.c — the PodDisruptionBudget controller (pkg/controller/disruption): for every PDB
 * the pods of its namespace matching spec.selector (an empty selector: all of them) give
 *   expectedPods   minAvailable as an integer: the number of matching pods; otherwise the sum
 *                  of spec.replicas of the pods' owning controllers (a ReplicaSet owned by a
 *                  Deployment counts as the Deployment; ReplicationController, StatefulSet),
 *                  each controller once; pods without a controller are left out;
 *   desiredHealthy minAvailable (int, or percent of expectedPods rounded up), or expectedPods
 *                  minus maxUnavailable (int, or percent rounded up), at least 0;
 *   currentHealthy ready pods that are not being deleted and not in status.disruptedPods;
 *   disruptionsAllowed = currentHealthy - desiredHealthy when positive and expectedPods > 0.
 * disruptedPods (written by the eviction subresource) keeps the pods that still exist, are not
 * being deleted, and were evicted less than 2 minutes ago (then the PDB is requeued).
 * A controller kind without a known scale fails safe: disruptionsAllowed 0, DisruptionAllowed
 * False with reason SyncFailed. Keys "<ns>/<pdb>". */
#include <time.h>

#include "api/labels.h"
#include "common/kjson.h"
#include "common/timefmt.h"
#include "controllers/controllers-internal.h"
#include "controllers/podcontrol.h"
#include "controllers/util.h"

#define COMP "controllermanager"
#define DELETION_TIMEOUT_S 120

static bool pdb_matches(const json_t *pdb, const json_t *pod)
{
        _cleanup_(labels_selector_freep) struct labels_selector *sel = NULL;
        json_t *js = kjson_get(pdb, "spec.selector");
        if (!js || labels_selector_from_json(js, &sel, NULL) < 0)
                return false;
        return labels_selector_matches(sel, kjson_get(pod, "metadata.labels"));
}

static void enqueue_pdbs_of(struct controller *c, const json_t *pod)
{
        const char *ns = kjson_str(pod, "metadata.namespace");
        if (!ns)
                return;
        json_t *pdbs = manager_cache_list(c->m, CTL_PDBS, ns), *pdb;
        size_t i;
        json_array_foreach(pdbs, i, pdb)
        {
                if (pdb_matches(pdb, pod)) {
                        _cleanup_free_ char *k = controllers_key(pdb);
                        workqueue_add(c->wq, k);
                }
        }
        json_decref(pdbs);
}

static void enqueue_ns(struct controller *c, const json_t *obj)
{
        const char *ns = kjson_str(obj, "metadata.namespace");
        if (!ns)
                return;
        json_t *pdbs = manager_cache_list(c->m, CTL_PDBS, ns), *pdb;
        size_t i;
        json_array_foreach(pdbs, i, pdb)
        {
                _cleanup_free_ char *k = controllers_key(pdb);
                workqueue_add(c->wq, k);
        }
        json_decref(pdbs);
}

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        if (res == CTL_PDBS) {
                if (cur) {
                        _cleanup_free_ char *k = controllers_key(cur);
                        workqueue_add(c->wq, k);
                }
        } else if (res == CTL_PODS) {
                if (cur)
                        enqueue_pdbs_of(c, cur);
                if (old)
                        enqueue_pdbs_of(c, old);
        } else if (res == CTL_REPLICASETS || res == CTL_DEPLOYMENTS || res == CTL_RCS ||
                   res == CTL_STATEFULSETS) {
                /* a controller's scale changed: the PDBs of its namespace (few) */
                enqueue_ns(c, cur ? cur : old);
        }
}

/* spec.replicas of the controller behind ref (a pod's controllerRef); -ENOENT unknown. */
static int controller_scale(struct controller *c, const char *ns, const json_t *ref, char **ret_id,
                            int64_t *ret)
{
        const char *kind = kjson_str(ref, "kind") ?: "";
        const char *name = kjson_str(ref, "name") ?: "";
        const char *uid = kjson_str(ref, "uid") ?: "";
        enum ctl_res res;
        if (!strcmp(kind, "ReplicaSet"))
                res = CTL_REPLICASETS;
        else if (!strcmp(kind, "ReplicationController"))
                res = CTL_RCS;
        else if (!strcmp(kind, "StatefulSet"))
                res = CTL_STATEFULSETS;
        else if (!strcmp(kind, "Deployment"))
                res = CTL_DEPLOYMENTS;
        else
                return -EOPNOTSUPP;
        _cleanup_json_ json_t *o = manager_cache_get(c->m, res, ns, name);
        if (!o || strcmp(kjson_str(o, "metadata.uid") ?: "", uid))
                return -ENOENT;
        if (res == CTL_REPLICASETS) {
                json_t *dref = controllers_controller_ref(o);
                if (dref && !strcmp(kjson_str(dref, "kind") ?: "", "Deployment"))
                        return controller_scale(c, ns, dref, ret_id, ret);
        }
        *ret_id = xasprintf("%s/%s", kind, uid);
        *ret = kjson_int(o, "spec.replicas", 1);
        return 0;
}

/* getExpectedScale: 0, or < 0 with *why set. */
static int expected_scale(struct controller *c, const char *ns, json_t *pods, int64_t *ret,
                          char **why)
{
        _cleanup_json_ json_t *seen = json_object();
        json_t *pod;
        size_t i;
        int64_t total = 0;
        json_array_foreach(pods, i, pod)
        {
                json_t *ref = controllers_controller_ref(pod);
                if (!ref)
                        continue; /* unmanaged pods are ignored */
                _cleanup_free_ char *id = NULL;
                int64_t n;
                int r = controller_scale(c, ns, ref, &id, &n);
                if (r < 0) {
                        *why = xasprintf(r == -ENOENT ? "%ss.%s \"%s\" not found"
                                                      : "found no controllers for pod \"%s\"",
                                         r == -ENOENT ? kjson_str(ref, "kind") : "",
                                         r == -ENOENT ? "apps" : "",
                                         r == -ENOENT ? kjson_str(ref, "name")
                                                      : kjson_str(pod, "metadata.name"));
                        return r;
                }
                if (json_object_get(seen, id))
                        continue;
                json_object_set_new(seen, id, json_true());
                total += n;
        }
        *ret = total;
        return 0;
}

static int write_status(struct kclient *kc, const json_t *pdb, json_t *st)
{
        if (json_equal(st, json_object_get(pdb, "status")))
                return 0;
        int r = podcontrol_put_status(kc, "/apis/policy/v1", "poddisruptionbudgets", pdb, st, NULL);
        return r == -ENOENT ? 0 : r;
}

/* the DisruptionAllowed condition (pdbhelper.UpdateDisruptionAllowedCondition, failSafe) */
static void set_condition(json_t *st, bool ok, const char *reason, const char *msg, int64_t gen)
{
        json_t *cur = controllers_condition_get(st, "DisruptionAllowed");
        const char *s = ok ? "True" : "False";
        char now[32];
        controllers_now(now);
        const char *ltt = cur && !strcmp(kjson_str(cur, "status") ?: "", s)
                                  ? kjson_str(cur, "lastTransitionTime")
                                  : NULL;
        json_t *nc = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s}", "type", "DisruptionAllowed", "status",
                               s, "observedGeneration", (json_int_t)gen, "lastTransitionTime",
                               ltt ?: now, "reason", reason, "message", msg);
        controllers_condition_del(st, "DisruptionAllowed");
        json_t *conds = json_object_get(st, "conditions");
        if (!json_is_array(conds)) {
                conds = json_array();
                json_object_set_new(st, "conditions", conds);
        }
        json_array_append_new(conds, nc);
}

static int pdb_sync(struct controller *c, struct kclient *kc, const char *key)
{
        _cleanup_free_ char *ns = NULL;
        const char *name;
        controllers_key_split(key, &ns, &name);
        _cleanup_json_ json_t *pdb = manager_cache_get(c->m, CTL_PDBS, ns, name);
        if (!pdb || kjson_get(pdb, "metadata.deletionTimestamp"))
                return 0;
        int64_t gen = kjson_int(pdb, "metadata.generation", 0);
        _cleanup_json_ json_t *st = json_deep_copy(json_object_get(pdb, "status") ?: json_object());
        if (!json_is_object(st)) {
                json_decref(st);
                st = json_object();
        }
        _cleanup_json_ json_t *all = manager_cache_list(c->m, CTL_PODS, ns);
        _cleanup_json_ json_t *pods = json_array();
        _cleanup_(labels_selector_freep) struct labels_selector *sel = NULL;
        json_t *js = kjson_get(pdb, "spec.selector"), *pod;
        size_t i;
        if (js && labels_selector_from_json(js, &sel, NULL) == 0) {
                json_array_foreach(all, i, pod)
                {
                        if (labels_selector_matches(sel, kjson_get(pod, "metadata.labels")))
                                json_array_append(pods, pod);
                }
        }
        if (json_array_size(pods) == 0 && !kjson_get(pdb, "status.observedGeneration"))
                manager_event(kc, COMP, pdb, "Normal", "NoPods", "No matching pods found");

        const json_t *minav = kjson_get(pdb, "spec.minAvailable");
        const json_t *maxun = kjson_get(pdb, "spec.maxUnavailable");
        int64_t expected = 0, desired = 0, v = 0;
        _cleanup_free_ char *why = NULL;
        int r = 0;
        if (maxun) {
                r = expected_scale(c, ns, pods, &expected, &why);
                if (r == 0 && controllers_intstr_scaled(maxun, 0, expected, true, &v) < 0) {
                        why = xstrdup("invalid maxUnavailable");
                        r = -EINVAL;
                }
                desired = expected - v;
        } else if (json_is_integer(minav)) {
                desired = json_integer_value(minav);
                expected = (int64_t)json_array_size(pods);
        } else if (minav) {
                r = expected_scale(c, ns, pods, &expected, &why);
                if (r == 0 && controllers_intstr_scaled(minav, 0, expected, true, &desired) < 0) {
                        why = xstrdup("invalid minAvailable");
                        r = -EINVAL;
                }
        }
        if (desired < 0)
                desired = 0;
        if (r < 0) {
                /* failSafe */
                json_object_set_new(st, "disruptionsAllowed", json_integer(0));
                json_object_set_new(st, "observedGeneration", json_integer(gen));
                set_condition(st, false, "SyncFailed", why ?: "", gen);
                manager_event(kc, COMP, pdb, "Warning", "CalculateExpectedPodCountFailed",
                              "Failed to calculate the number of expected pods: %s", why ?: "");
                return write_status(kc, pdb, st);
        }

        /* buildDisruptedPodMap and countHealthyPods */
        time_t now = time(NULL), recheck = 0;
        json_t *old_dp = json_object_get(st, "disruptedPods");
        _cleanup_json_ json_t *dp = json_object();
        int64_t healthy = 0;
        json_array_foreach(pods, i, pod)
        {
                if (kjson_get(pod, "metadata.deletionTimestamp"))
                        continue;
                const char *pn = kjson_str(pod, "metadata.name") ?: "";
                json_t *t = json_object_get(old_dp, pn);
                if (t) {
                        struct timespec ts = {0};
                        time_t at = 0;
                        if (json_is_string(t) &&
                            timefmt_parse_rfc3339(json_string_value(t), &ts) == 0)
                                at = ts.tv_sec;
                        if (at && at + DELETION_TIMEOUT_S > now) {
                                json_object_set(dp, pn, t);
                                if (!recheck || at + DELETION_TIMEOUT_S < recheck)
                                        recheck = at + DELETION_TIMEOUT_S;
                                continue; /* about to go: not healthy */
                        }
                }
                if (controllers_pod_is_ready(pod))
                        healthy++;
        }
        int64_t allowed = healthy - desired;
        if (expected <= 0 || allowed < 0)
                allowed = 0;
        json_object_set_new(st, "currentHealthy", json_integer(healthy));
        json_object_set_new(st, "desiredHealthy", json_integer(desired));
        json_object_set_new(st, "expectedPods", json_integer(expected));
        json_object_set_new(st, "disruptionsAllowed", json_integer(allowed));
        json_object_set_new(st, "observedGeneration", json_integer(gen));
        if (json_object_size(dp))
                json_object_set(st, "disruptedPods", dp);
        else
                json_object_del(st, "disruptedPods");
        set_condition(st, allowed > 0, allowed > 0 ? "SufficientPods" : "InsufficientPods", "",
                      gen);
        r = write_status(kc, pdb, st);
        if (r == 0 && recheck)
                workqueue_add_after(c->wq, key, (int64_t)(recheck - now + 1) * 1000);
        return r;
}

void disruption_controller_init(struct controller *c)
{
        c->name = "disruption";
        c->needs = 1u << CTL_PDBS | 1u << CTL_PODS | 1u << CTL_REPLICASETS | 1u << CTL_DEPLOYMENTS |
                   1u << CTL_RCS | 1u << CTL_STATEFULSETS;
        c->on_event = on_event;
        c->sync = pdb_sync;
}
