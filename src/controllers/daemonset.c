/* daemonset.c — the DaemonSet controller (see daemonset.h). */
#include "controllers/daemonset.h"

#include <stdio.h>
#include <time.h>

#include "api/labels.h"
#include "api/pod.h"
#include "common/kjson.h"
#include "controllers/controllers-internal.h"
#include "controllers/expectations.h"
#include "controllers/history.h"
#include "controllers/podcontrol.h"
#include "controllers/util.h"

#define COMP "daemonset-controller"
#define HASH_LABEL "controller-revision-hash"

struct ds_priv {
        struct expectations *exp;
};

/* ---- pure part ---- */

json_t *daemonset_tolerations(const json_t *pod_spec)
{
        static const struct {
                const char *key, *effect;
        } autos[] = {
                {"node.kubernetes.io/not-ready", "NoExecute"},
                {"node.kubernetes.io/unreachable", "NoExecute"},
                {"node.kubernetes.io/disk-pressure", "NoSchedule"},
                {"node.kubernetes.io/memory-pressure", "NoSchedule"},
                {"node.kubernetes.io/pid-pressure", "NoSchedule"},
                {"node.kubernetes.io/unschedulable", "NoSchedule"},
                {"node.kubernetes.io/network-unavailable", "NoSchedule"},
        };
        json_t *out = json_deep_copy(json_object_get(pod_spec, "tolerations"));
        if (!json_is_array(out)) {
                json_decref(out);
                out = json_array();
        }
        bool host_net = json_is_true(json_object_get(pod_spec, "hostNetwork"));
        for (size_t i = 0; i < ARRAY_SIZE(autos); i++) {
                if (!strcmp(autos[i].key, "node.kubernetes.io/network-unavailable") && !host_net)
                        continue;
                bool have = false;
                json_t *t;
                size_t k;
                json_array_foreach(out, k, t)
                {
                        const char *tk = json_string_value(json_object_get(t, "key")) ?: "";
                        const char *te = json_string_value(json_object_get(t, "effect")) ?: "";
                        const char *op = json_string_value(json_object_get(t, "operator")) ?: "";
                        /* AddOrUpdateTolerationInPodSpec: same key, operator and effect */
                        have |= !strcmp(tk, autos[i].key) && !strcmp(te, autos[i].effect) &&
                                !strcmp(op, "Exists");
                }
                if (!have)
                        json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "key", autos[i].key,
                                                             "operator", "Exists", "effect",
                                                             autos[i].effect));
        }
        return out;
}

void daemonset_node_should_run(const json_t *ds, const json_t *node, bool *ret_should_run,
                               bool *ret_continue)
{
        const json_t *spec = kjson_get(ds, "spec.template.spec");
        const json_t *labels = kjson_get(node, "metadata.labels");
        bool fits = true;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)json_object_get(spec, "nodeSelector"), k, v)
        {
                json_t *lv = json_object_get(labels, k);
                if (!lv || !json_equal(lv, v))
                        fits = false;
        }
        const json_t *req = kjson_get(
                spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
        if (fits && req && json_array_size(json_object_get(req, "nodeSelectorTerms")) &&
            !labels_node_selector_matches(req, node))
                fits = false;
        bool sched = fits, cont = fits;
        json_t *tols = daemonset_tolerations(spec);
        json_t *t;
        size_t i;
        json_array_foreach(kjson_get(node, "spec.taints"), i, t)
        {
                const char *e = json_string_value(json_object_get(t, "effect")) ?: "";
                if (strcmp(e, "NoSchedule") && strcmp(e, "NoExecute"))
                        continue;
                bool ok = false;
                json_t *tol;
                size_t j;
                json_array_foreach(tols, j, tol) ok |= pod_toleration_tolerates(
                        tol, kjson_str(t, "key"), kjson_str(t, "value"), kjson_str(t, "effect"));
                if (ok)
                        continue;
                sched = false;
                if (!strcmp(e, "NoExecute"))
                        cont = false;
        }
        json_decref(tols);
        *ret_should_run = sched;
        *ret_continue = cont;
}

const char *daemonset_pod_node(const json_t *pod)
{
        const char *n = kjson_str(pod, "spec.nodeName");
        if (n && *n)
                return n;
        json_t *terms = kjson_get(
                pod, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                     "nodeSelectorTerms");
        json_t *term, *f;
        size_t i, j;
        json_array_foreach(terms, i, term)
        {
                json_array_foreach(json_object_get(term, "matchFields"), j, f)
                {
                        if (!strcmp(kjson_str(f, "key") ?: "", "metadata.name") &&
                            !strcmp(kjson_str(f, "operator") ?: "", "In") &&
                            json_array_size(json_object_get(f, "values")) == 1)
                                return json_string_value(
                                        json_array_get(json_object_get(f, "values"), 0));
                }
        }
        return NULL;
}

/* ---- controller ---- */

static void enqueue_all(struct controller *c)
{
        json_t *all = manager_cache_list(c->m, CTL_DAEMONSETS, NULL);
        json_t *ds;
        size_t i;
        json_array_foreach(all, i, ds)
        {
                _cleanup_free_ char *k = controllers_key(ds);
                workqueue_add(c->wq, k);
        }
        json_decref(all);
}

static char *pod_owner_key(const json_t *pod)
{
        json_t *ref = controllers_controller_ref(pod);
        if (!ref || strcmp(json_string_value(json_object_get(ref, "kind")) ?: "", "DaemonSet"))
                return NULL;
        return xasprintf("%s/%s", kjson_str(pod, "metadata.namespace") ?: "",
                         json_string_value(json_object_get(ref, "name")) ?: "");
}

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        struct ds_priv *p = c->priv;
        if (res == CTL_DAEMONSETS) {
                _cleanup_free_ char *k = controllers_key(cur ? cur : old);
                workqueue_add(c->wq, k);
                return;
        }
        if (res == CTL_NODES) {
                if (old && cur && old != cur &&
                    kjson_equal(kjson_get(old, "metadata.labels"),
                                kjson_get(cur, "metadata.labels")) &&
                    kjson_equal(kjson_get(old, "spec"), kjson_get(cur, "spec")))
                        return;
                enqueue_all(c);
                return;
        }
        if (res != CTL_PODS)
                return;
        const json_t *pod = cur ? cur : old;
        _cleanup_free_ char *owner = pod_owner_key(pod);
        if (!owner)
                return;
        _cleanup_free_ char *pk = controllers_key(pod);
        if (!old) {
                if (kjson_get(pod, "metadata.deletionTimestamp"))
                        expectations_deletion_observed(p->exp, owner, pk);
                else
                        expectations_creation_observed(p->exp, owner);
        } else if (!cur || (kjson_get(cur, "metadata.deletionTimestamp") &&
                            !kjson_get(old, "metadata.deletionTimestamp"))) {
                expectations_deletion_observed(p->exp, owner, pk);
        }
        workqueue_add(c->wq, owner);
        /* became ready: available after minReadySeconds */
        if (old && cur && !controllers_pod_is_ready(old) && controllers_pod_is_ready(cur)) {
                char *ns = NULL;
                const char *name;
                controllers_key_split(owner, &ns, &name);
                json_t *ds = manager_cache_get(c->m, CTL_DAEMONSETS, ns, name);
                int64_t mr = kjson_int(ds, "spec.minReadySeconds", 0);
                if (mr > 0)
                        workqueue_add_after(c->wq, owner, mr * 1000 + 100);
                json_decref(ds);
                free(ns);
        }
}

struct ds_ops {
        struct controller *c;
        const json_t *ds;
        const char *key;
        const char *hash;
        json_t *create_nodes; /* node names */
        json_t *victims;      /* pods */
        json_t *dels;         /* their keys */
};

static json_t *new_pod(const json_t *ds, const char *hash, const char *node)
{
        json_t *pod = podcontrol_pod_from_template(kjson_get(ds, "spec.template"), ds, "apps/v1",
                                                   "DaemonSet");
        json_t *labels = kjson_obj_ensure(kjson_obj_ensure(pod, "metadata"), "labels");
        json_object_set_new(labels, HASH_LABEL, json_string(hash));
        char gen[32];
        snprintf(gen, sizeof(gen), "%lld", (long long)kjson_int(ds, "metadata.generation", 0));
        json_object_set_new(labels, "pod-template-generation", json_string(gen));
        json_t *spec = kjson_obj_ensure(pod, "spec");
        json_object_set_new(spec, "tolerations", daemonset_tolerations(spec));
        /* ReplaceDaemonSetPodNodeNameNodeAffinity: the required terms become the node's name */
        json_t *na = kjson_obj_ensure(kjson_obj_ensure(spec, "affinity"), "nodeAffinity");
        json_object_set_new(na, "requiredDuringSchedulingIgnoredDuringExecution",
                            json_pack("{s:[{s:[{s:s, s:s, s:[s]}]}]}", "nodeSelectorTerms",
                                      "matchFields", "key", "metadata.name", "operator", "In",
                                      "values", node));
        /* bound at once: the daemon pod belongs to this node whatever the scheduler supports */
        json_object_set_new(spec, "nodeName", json_string(node));
        return pod;
}

static int create_one(struct kclient *kc, size_t i, void *ud)
{
        struct ds_ops *o = ud;
        struct ds_priv *p = o->c->priv;
        struct error err = {0};
        json_t *pod =
                new_pod(o->ds, o->hash, json_string_value(json_array_get(o->create_nodes, i)));
        json_t *created = NULL;
        int r = podcontrol_create(kc, pod, &created, &err);
        json_decref(pod);
        if (r < 0) {
                expectations_creation_observed(p->exp, o->key);
                manager_event(kc, COMP, o->ds, "Warning", "FailedCreate", "Error creating: %s",
                              error_msg(&err));
        } else {
                manager_event(kc, COMP, o->ds, "Normal", "SuccessfulCreate", "Created pod: %s",
                              kjson_str(created, "metadata.name") ?: "");
        }
        json_decref(created);
        return r;
}

static int delete_one(struct kclient *kc, size_t i, void *ud)
{
        struct ds_ops *o = ud;
        struct ds_priv *p = o->c->priv;
        struct error err = {0};
        const json_t *pod = json_array_get(o->victims, i);
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s",
                                              kjson_str(pod, "metadata.namespace") ?: "",
                                              kjson_str(pod, "metadata.name") ?: "");
        int r = kclient_delete(kc, path, NULL, NULL, &err);
        if (r == -ENOENT)
                r = 0;
        if (r < 0) {
                expectations_deletion_observed(p->exp, o->key,
                                               json_string_value(json_array_get(o->dels, i)));
                manager_event(kc, COMP, o->ds, "Warning", "FailedDelete", "Error deleting: %s",
                              error_msg(&err));
        } else {
                manager_event(kc, COMP, o->ds, "Normal", "SuccessfulDelete", "Deleted pod: %s",
                              kjson_str(pod, "metadata.name") ?: "");
        }
        return r;
}

static void add_victim(struct ds_ops *o, json_t *pod)
{
        _cleanup_free_ char *k = controllers_key(pod);
        json_array_append(o->victims, pod);
        json_array_append_new(o->dels, json_string(k));
}

static int ctime_cmp(const void *a, const void *b)
{
        const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
        int c = strcmp(kjson_str(x, "metadata.creationTimestamp") ?: "",
                       kjson_str(y, "metadata.creationTimestamp") ?: "");
        return c ? c
                 : strcmp(kjson_str(x, "metadata.name") ?: "", kjson_str(y, "metadata.name") ?: "");
}

static void sort_by_ctime(json_t *arr)
{
        size_t n = json_array_size(arr);
        if (n < 2)
                return;
        json_t **v = xcalloc(n, sizeof(*v));
        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(arr, i));
        qsort(v, n, sizeof(*v), ctime_cmp);
        json_array_clear(arr);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, v[i]);
        free(v);
}

static bool is_new(const json_t *pod, const char *hash)
{
        return !strcmp(kjson_str(pod, "metadata.labels." HASH_LABEL) ?: "", hash);
}

static int update_status(struct kclient *kc, const json_t *ds, json_t *status)
{
        int r = podcontrol_put_status(kc, "/apis/apps/v1", "daemonsets", ds, status, NULL);
        return r == -ENOENT ? 0 : r;
}

static int ds_sync(struct controller *c, struct kclient *kc, const char *key)
{
        struct ds_priv *p = c->priv;
        _cleanup_free_ char *ns = NULL;
        const char *name;
        struct error err = {0};
        controllers_key_split(key, &ns, &name);
        _cleanup_json_ json_t *ds = manager_cache_get(c->m, CTL_DAEMONSETS, ns, name);
        if (!ds) {
                expectations_delete(p->exp, key);
                return 0;
        }
        if (kjson_get(ds, "metadata.deletionTimestamp"))
                return 0;
        _cleanup_(labels_selector_freep) struct labels_selector *sel = NULL;
        if (labels_selector_from_json(kjson_get(ds, "spec.selector"), &sel, &err) < 0 ||
            labels_selector_is_empty(sel)) {
                log_debug(COMP, "%s: selector: %s", key, error_msg(&err));
                return 0;
        }
        int64_t collision = kjson_int(ds, "status.collisionCount", 0);
        _cleanup_json_ json_t *upd = NULL, *revs = NULL;
        int r = history_sync(c->m, kc, ds, "DaemonSet", &collision, &upd, &revs, &err);
        if (r < 0) {
                log_warn(COMP, "%s: revisions: %s", key, error_msg(&err));
                return r;
        }
        const char *hash = kjson_str(upd, "metadata.labels." HASH_LABEL) ?: "";
        _cleanup_json_ json_t *all = manager_cache_list(c->m, CTL_PODS, ns);
        _cleanup_free_ char *coll = xasprintf("/api/v1/namespaces/%s/pods", ns);
        _cleanup_json_ json_t *pods =
                podcontrol_claim(kc, coll, ds, "apps/v1", "DaemonSet", sel, all);
        _cleanup_json_ json_t *nodes = manager_cache_list(c->m, CTL_NODES, NULL);
        _cleanup_json_ json_t *by_node = json_object(); /* node -> pods, oldest first */
        json_t *pod, *node;
        size_t i;
        json_array_foreach(pods, i, pod)
        {
                const char *n = daemonset_pod_node(pod);
                if (!n)
                        continue;
                json_t *arr = json_object_get(by_node, n);
                if (!arr) {
                        arr = json_array();
                        json_object_set_new(by_node, n, arr);
                }
                json_array_append(arr, pod);
        }
        const char *k;
        json_t *arr;
        json_object_foreach(by_node, k, arr) sort_by_ctime(arr);

        bool rolling = !strcmp(kjson_str(ds, "spec.updateStrategy.type") ?: "RollingUpdate",
                               "RollingUpdate");
        int64_t min_ready = kjson_int(ds, "spec.minReadySeconds", 0);
        time_t now = time(NULL);
        int64_t desired = 0, current = 0, missched = 0, ready = 0, avail = 0, updated = 0;
        json_array_foreach(nodes, i, node)
        {
                bool run, cont;
                daemonset_node_should_run(ds, node, &run, &cont);
                json_t *np = json_object_get(by_node, kjson_str(node, "metadata.name") ?: "");
                desired += run;
                size_t n_live = 0;
                json_t *first = NULL;
                for (size_t j = 0; j < json_array_size(np); j++) {
                        pod = json_array_get(np, j);
                        if (kjson_get(pod, "metadata.deletionTimestamp"))
                                continue;
                        if (!first)
                                first = pod;
                        n_live++;
                }
                if (!first)
                        continue;
                if (!run) {
                        missched++;
                        continue;
                }
                current++;
                if (controllers_pod_is_ready(first))
                        ready++;
                if (controllers_pod_is_available(first, min_ready, now))
                        avail++;
                bool any_new = false;
                for (size_t j = 0; j < json_array_size(np); j++) {
                        pod = json_array_get(np, j);
                        if (!kjson_get(pod, "metadata.deletionTimestamp") && is_new(pod, hash))
                                any_new = true;
                }
                updated += any_new;
        }

        struct ds_ops o = {.c = c,
                           .ds = ds,
                           .key = key,
                           .hash = hash,
                           .create_nodes = json_array(),
                           .victims = json_array(),
                           .dels = json_array()};
        int64_t max_surge = 0, max_unavail = 1;
        if (rolling) {
                const json_t *ru = kjson_get(ds, "spec.updateStrategy.rollingUpdate");
                if (controllers_intstr_scaled(json_object_get(ru, "maxSurge"), 0, desired, true,
                                              &max_surge) < 0)
                        max_surge = 0;
                if (controllers_intstr_scaled(json_object_get(ru, "maxUnavailable"), 0, desired,
                                              true, &max_unavail) < 0)
                        max_unavail = 1;
                if (max_surge == 0 && max_unavail == 0)
                        max_unavail = 1;
        }
        bool can_manage = expectations_satisfied(p->exp, key);
        if (can_manage) {
                /* manage: create where missing, delete where not wanted, failed or duplicate */
                json_array_foreach(nodes, i, node)
                {
                        bool run, cont;
                        daemonset_node_should_run(ds, node, &run, &cont);
                        const char *nn = kjson_str(node, "metadata.name") ?: "";
                        json_t *np = json_object_get(by_node, nn);
                        json_t *live = json_array();
                        bool terminating = false;
                        for (size_t j = 0; j < json_array_size(np); j++) {
                                pod = json_array_get(np, j);
                                const char *ph = kjson_str(pod, "status.phase") ?: "";
                                if (kjson_get(pod, "metadata.deletionTimestamp"))
                                        terminating = true;
                                else if (!strcmp(ph, "Failed") && run)
                                        add_victim(&o, pod);
                                else
                                        json_array_append(live, pod);
                        }
                        if (run && !json_array_size(live) && !terminating) {
                                json_array_append_new(o.create_nodes, json_string(nn));
                        } else if (run && json_array_size(live) > 1 && max_surge <= 0) {
                                /* keep the oldest */
                                for (size_t j = 1; j < json_array_size(live); j++)
                                        add_victim(&o, json_array_get(live, j));
                        } else if (run && json_array_size(live) > 1) {
                                /* surging (podsShouldBeOnNode): keep the oldest updated pod and
                                 * the oldest old one, the old one only while it is ready and the
                                 * updated one is not; by revision, not by creation order (both
                                 * may carry the same second) */
                                json_t *oldest_new = NULL, *oldest_old = NULL;
                                for (size_t j = 0; j < json_array_size(live); j++) {
                                        json_t *lp = json_array_get(live, j);
                                        json_t **slot = is_new(lp, hash) ? &oldest_new : &oldest_old;
                                        if (!*slot)
                                                *slot = lp;
                                        else
                                                add_victim(&o, lp);
                                }
                                if (oldest_new && oldest_old &&
                                    (!controllers_pod_is_ready(oldest_old) ||
                                     controllers_pod_is_ready(oldest_new)))
                                        add_victim(&o, oldest_old);
                        } else if (!run && !cont) {
                                for (size_t j = 0; j < json_array_size(live); j++)
                                        add_victim(&o, json_array_get(live, j));
                        }
                        json_decref(live);
                }
                /* rolling update, once nothing else is to be done */
                if (rolling && !json_array_size(o.create_nodes) && !json_array_size(o.victims)) {
                        int64_t unavailable = desired - avail, surging = 0;
                        json_t *cand = json_array(); /* available old pods */
                        json_array_foreach(nodes, i, node)
                        {
                                bool run, cont;
                                daemonset_node_should_run(ds, node, &run, &cont);
                                const char *nn = kjson_str(node, "metadata.name") ?: "";
                                json_t *np = json_object_get(by_node, nn);
                                json_t *oldp = NULL, *newp = NULL;
                                for (size_t j = 0; j < json_array_size(np); j++) {
                                        pod = json_array_get(np, j);
                                        if (kjson_get(pod, "metadata.deletionTimestamp"))
                                                continue;
                                        if (is_new(pod, hash))
                                                newp = pod;
                                        else if (!oldp)
                                                oldp = pod;
                                }
                                if (!run || !oldp)
                                        continue;
                                bool old_ok = controllers_pod_is_available(oldp, min_ready, now);
                                if (max_surge > 0) {
                                        if (newp) {
                                                surging++;
                                                if (controllers_pod_is_available(newp, min_ready,
                                                                                 now) ||
                                                    !old_ok)
                                                        add_victim(&o, oldp);
                                        } else if (!old_ok) {
                                                add_victim(&o, oldp);
                                        } else {
                                                json_array_append(cand, node);
                                        }
                                        continue;
                                }
                                if (!old_ok)
                                        add_victim(&o, oldp); /* already unavailable */
                                else
                                        json_array_append(cand, oldp);
                        }
                        json_t *x;
                        json_array_foreach(cand, i, x)
                        {
                                if (max_surge > 0) {
                                        if (surging >= max_surge)
                                                break;
                                        surging++;
                                        json_array_append_new(
                                                o.create_nodes,
                                                json_string(kjson_str(x, "metadata.name") ?: ""));
                                } else {
                                        if (unavailable >= max_unavail)
                                                break;
                                        unavailable++;
                                        add_victim(&o, x);
                                }
                        }
                        json_decref(cand);
                }
                size_t nc = json_array_size(o.create_nodes), nd = json_array_size(o.victims);
                if (nc || nd) {
                        expectations_expect(p->exp, key, (int64_t)nc, o.dels);
                        manager_parallel(c->m, kc, nc, create_one, &o);
                        manager_parallel(c->m, kc, nd, delete_one, &o);
                }
        }
        json_decref(o.create_nodes);
        json_decref(o.victims);
        json_decref(o.dels);

        /* history: keep revisions still used by a pod */
        json_t *keep = json_object();
        json_object_set_new(keep, kjson_str(upd, "metadata.name") ?: "", json_true());
        json_t *rv;
        json_array_foreach(revs, i, rv)
        {
                const char *h = kjson_str(rv, "metadata.labels." HASH_LABEL) ?: "";
                for (size_t j = 0; j < json_array_size(pods); j++)
                        if (!strcmp(kjson_str(json_array_get(pods, j),
                                              "metadata.labels." HASH_LABEL)
                                            ?: "",
                                    h))
                                json_object_set_new(keep, kjson_str(rv, "metadata.name") ?: "",
                                                    json_true());
        }
        history_truncate(kc, ds, revs, keep);
        json_decref(keep);

        json_t *status = json_pack(
                "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "desiredNumberScheduled",
                (json_int_t)desired, "currentNumberScheduled", (json_int_t)current,
                "numberMisscheduled", (json_int_t)missched, "numberReady", (json_int_t)ready,
                "numberAvailable", (json_int_t)avail, "updatedNumberScheduled", (json_int_t)updated,
                "observedGeneration", (json_int_t)kjson_int(ds, "metadata.generation", 0),
                "numberUnavailable", (json_int_t)(desired - avail > 0 ? desired - avail : 0));
        if (!avail)
                json_object_del(status, "numberAvailable");
        if (!json_integer_value(json_object_get(status, "numberUnavailable")))
                json_object_del(status, "numberUnavailable");
        if (collision)
                json_object_set_new(status, "collisionCount", json_integer(collision));
        json_t *conds = kjson_get(ds, "status.conditions");
        if (json_array_size(conds))
                json_object_set(status, "conditions", conds);
        r = 0;
        if (!kjson_equal(status, kjson_get(ds, "status")))
                r = update_status(kc, ds, status);
        if (min_ready > 0 && ready != avail)
                workqueue_add_after(c->wq, key, 1000);
        json_decref(status);
        return r;
}

static void priv_free(struct controller *c)
{
        struct ds_priv *p = c->priv;
        expectations_free(p->exp);
        free(p);
}

void daemonset_controller_init(struct controller *c)
{
        struct ds_priv *p = xcalloc(1, sizeof(*p));
        p->exp = expectations_new();
        c->name = "daemonset";
        c->priv = p;
        c->needs = 1u << CTL_PODS | 1u << CTL_DAEMONSETS | 1u << CTL_NODES |
                   1u << CTL_CONTROLLERREVISIONS;
        c->on_event = on_event;
        c->sync = ds_sync;
        c->free = priv_free;
}
