/* replicaset.c — the ReplicaSet controller (see replicaset.h). */
#include "controllers/replicaset.h"

#include <pthread.h>
#include <stdio.h>

#include "api/labels.h"
#include "common/kjson.h"
#include "controllers/controllers-internal.h"
#include "controllers/expectations.h"
#include "controllers/podcontrol.h"
#include "controllers/util.h"

#define COMP "replicaset-controller"

/* What differs between ReplicaSets and ReplicationControllers (replication_controller.go runs
 * the same code over the core/v1 kind, whose selector is a plain label map). */
struct rs_kind {
        const char *kind, *api_version, *base, *plural;
        enum ctl_res res;
        bool map_selector;
};
static const struct rs_kind kind_rs = {"ReplicaSet",  "apps/v1",       "/apis/apps/v1",
                                       "replicasets", CTL_REPLICASETS, false};
static const struct rs_kind kind_rc = {"ReplicationController",  "v1",    "/api/v1",
                                       "replicationcontrollers", CTL_RCS, true};

struct rs_priv {
        struct expectations *exp;
        const struct rs_kind *k;
};

/* The owner's selector (an RC's map, defaulting to the template labels, as matchLabels). */
static int owner_selector(const struct rs_kind *k, const json_t *rs, struct labels_selector **ret,
                          struct error *err)
{
        if (!k->map_selector)
                return labels_selector_from_json(kjson_get(rs, "spec.selector"), ret, err);
        json_t *m = kjson_get(rs, "spec.selector");
        if (!json_is_object(m) || !json_object_size(m))
                m = kjson_get(rs, "spec.template.metadata.labels");
        json_t *sel = json_pack("{s:O}", "matchLabels", json_is_object(m) ? m : json_object());
        int r = labels_selector_from_json(sel, ret, err);
        json_decref(sel);
        return r;
}

json_t *replicaset_status_calc(const json_t *rs, const json_t *pods, time_t now,
                               const char *manage_err, const char *manage_reason)
{
        int64_t min_ready = kjson_int(rs, "spec.minReadySeconds", 0);
        json_t *tl = kjson_get(rs, "spec.template.metadata.labels");
        int64_t n = 0, full = 0, ready = 0, avail = 0;
        json_t *p;
        size_t i;
        json_array_foreach(pods, i, p)
        {
                n++;
                if (labels_map_matches(tl, kjson_get(p, "metadata.labels")))
                        full++;
                if (controllers_pod_is_ready(p)) {
                        ready++;
                        if (controllers_pod_is_available(p, min_ready, now))
                                avail++;
                }
        }
        json_t *st = json_pack("{s:I, s:I, s:I, s:I, s:I}", "replicas", (json_int_t)n,
                               "fullyLabeledReplicas", (json_int_t)full, "readyReplicas",
                               (json_int_t)ready, "availableReplicas", (json_int_t)avail,
                               "observedGeneration",
                               (json_int_t)kjson_int(rs, "metadata.generation", 0));
        json_t *old = kjson_get(rs, "status.conditions");
        if (json_array_size(old))
                json_object_set_new(st, "conditions", json_deep_copy(old));
        if (manage_err)
                controllers_condition_set(st, controllers_condition_new("ReplicaFailure", "True",
                                                                        manage_reason, manage_err,
                                                                        false));
        else
                controllers_condition_del(st, "ReplicaFailure");
        if (json_is_array(json_object_get(st, "conditions")) &&
            !json_array_size(json_object_get(st, "conditions")))
                json_object_del(st, "conditions");
        return st;
}

static char *pod_owner_key(struct controller *c, const json_t *pod)
{
        struct rs_priv *p = c->priv;
        json_t *ref = controllers_controller_ref(pod);
        if (!ref || strcmp(json_string_value(json_object_get(ref, "kind")) ?: "", p->k->kind))
                return NULL;
        return xasprintf("%s/%s", kjson_str(pod, "metadata.namespace") ?: "",
                         json_string_value(json_object_get(ref, "name")) ?: "");
}

static void enqueue_matching(struct controller *c, const json_t *pod)
{
        struct rs_priv *p = c->priv;
        const char *ns = kjson_str(pod, "metadata.namespace");
        json_t *all = manager_cache_list(c->m, p->k->res, ns);
        json_t *rs;
        size_t i;
        json_array_foreach(all, i, rs)
        {
                _cleanup_(labels_selector_freep) struct labels_selector *sel = NULL;
                if (owner_selector(p->k, rs, &sel, NULL) < 0)
                        continue;
                if (!labels_selector_is_empty(sel) &&
                    labels_selector_matches(sel, kjson_get(pod, "metadata.labels"))) {
                        _cleanup_free_ char *k = controllers_key(rs);
                        workqueue_add(c->wq, k);
                }
        }
        json_decref(all);
}

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        struct rs_priv *p = c->priv;
        if (res == p->k->res) {
                _cleanup_free_ char *k = controllers_key(cur ? cur : old);
                workqueue_add(c->wq, k);
                return;
        }
        if (res != CTL_PODS)
                return;
        const json_t *pod = cur ? cur : old;
        _cleanup_free_ char *pk = controllers_key(pod);
        _cleanup_free_ char *owner = pod_owner_key(c, pod);
        if (!old) { /* added */
                if (owner) {
                        if (kjson_get(pod, "metadata.deletionTimestamp"))
                                expectations_deletion_observed(p->exp, owner, pk);
                        else
                                expectations_creation_observed(p->exp, owner);
                        workqueue_add(c->wq, owner);
                } else {
                        enqueue_matching(c, pod);
                }
                return;
        }
        if (!cur) { /* deleted */
                if (owner) {
                        expectations_deletion_observed(p->exp, owner, pk);
                        workqueue_add(c->wq, owner);
                }
                return;
        }
        if (old == cur || !strcmp(kjson_str(old, "metadata.resourceVersion") ?: "",
                                  kjson_str(cur, "metadata.resourceVersion") ?: "")) {
                if (owner)
                        workqueue_add(c->wq, owner);
                return;
        }
        if (kjson_get(cur, "metadata.deletionTimestamp") &&
            !kjson_get(old, "metadata.deletionTimestamp") && owner)
                expectations_deletion_observed(p->exp, owner, pk);
        _cleanup_free_ char *old_owner = pod_owner_key(c, old);
        if (old_owner && (!owner || strcmp(old_owner, owner)))
                workqueue_add(c->wq, old_owner);
        if (owner) {
                workqueue_add(c->wq, owner);
                /* became ready: check availability again after minReadySeconds */
                if (!controllers_pod_is_ready(old) && controllers_pod_is_ready(cur)) {
                        char *ns = NULL;
                        const char *name;
                        controllers_key_split(owner, &ns, &name);
                        json_t *rs = manager_cache_get(c->m, p->k->res, ns, name);
                        int64_t mr = kjson_int(rs, "spec.minReadySeconds", 0);
                        if (mr > 0)
                                workqueue_add_after(c->wq, owner, mr * 1000 + 100);
                        json_decref(rs);
                        free(ns);
                }
        } else if (!kjson_equal(kjson_get(old, "metadata.labels"),
                                kjson_get(cur, "metadata.labels")) ||
                   old_owner) {
                enqueue_matching(c, cur);
        }
}

static int update_status(const struct rs_kind *k, struct kclient *kc, const json_t *rs,
                         json_t *status)
{
        struct error err = {0};
        const char *ns = kjson_str(rs, "metadata.namespace") ?: "";
        const char *name = kjson_str(rs, "metadata.name") ?: "";
        _cleanup_free_ char *gp = xasprintf("%s/namespaces/%s/%s/%s", k->base, ns, k->plural, name);
        _cleanup_free_ char *path = xasprintf("%s/status", gp);
        json_t *obj = json_deep_copy(rs);
        json_object_set(obj, "status", status);
        int r = kclient_update(kc, path, obj, NULL, &err);
        json_decref(obj);
        if (r == -ESTALE) {
                json_t *fresh = NULL;
                r = kclient_get(kc, gp, &fresh, &err);
                if (r == 0) {
                        json_object_set_new(
                                status, "observedGeneration",
                                json_integer(kjson_int(fresh, "metadata.generation", 0)));
                        json_object_set(fresh, "status", status);
                        r = kclient_update(kc, path, fresh, NULL, &err);
                }
                json_decref(fresh);
        }
        if (r < 0 && r != -ENOENT)
                log_debug(COMP, "status of %s/%s: %s", ns, name, error_msg(&err));
        return r == -ENOENT ? 0 : r;
}

/* One parallel batch of creations or deletions (manager_parallel). */
struct batch {
        struct controller *c;
        const json_t *rs;
        const char *key;
        const json_t *victims; /* deletions: pods */
        const json_t *dels;    /* deletions: their keys */
        int *rc;
        struct error *errs;
};

static int create_one(struct kclient *kc, size_t i, void *ud)
{
        struct batch *b = ud;
        struct rs_priv *p = b->c->priv;
        json_t *pod = podcontrol_pod_from_template(kjson_get(b->rs, "spec.template"), b->rs,
                                                   p->k->api_version, p->k->kind);
        json_t *created = NULL;
        int r = podcontrol_create(kc, pod, &created, &b->errs[i]);
        json_decref(pod);
        if (r < 0) {
                expectations_creation_observed(p->exp, b->key);
                manager_event(kc, COMP, b->rs, "Warning", "FailedCreate", "Error creating: %s",
                              error_msg(&b->errs[i]));
        } else {
                manager_event(kc, COMP, b->rs, "Normal", "SuccessfulCreate", "Created pod: %s",
                              kjson_str(created, "metadata.name") ?: "");
        }
        json_decref(created);
        b->rc[i] = r;
        return r;
}

static int delete_one(struct kclient *kc, size_t i, void *ud)
{
        struct batch *b = ud;
        struct rs_priv *p = b->c->priv;
        const json_t *pod = json_array_get(b->victims, i);
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s",
                                              kjson_str(pod, "metadata.namespace") ?: "",
                                              kjson_str(pod, "metadata.name") ?: "");
        int r = kclient_delete(kc, path, NULL, NULL, &b->errs[i]);
        if (r == -ENOENT)
                r = 0;
        if (r < 0) {
                expectations_deletion_observed(p->exp, b->key,
                                               json_string_value(json_array_get(b->dels, i)));
                manager_event(kc, COMP, b->rs, "Warning", "FailedDelete", "Error deleting: %s",
                              error_msg(&b->errs[i]));
        } else {
                manager_event(kc, COMP, b->rs, "Normal", "SuccessfulDelete", "Deleted pod: %s",
                              kjson_str(pod, "metadata.name") ?: "");
        }
        b->rc[i] = r;
        return r;
}

/* Create or delete pods (creations in slow-start batches 1, 2, 4, ... each issued in parallel,
 * stopping at the first failed batch); returns 0 or the first error (message in err). */
static int manage_replicas(struct controller *c, struct kclient *kc, const char *key,
                           const json_t *rs, json_t *pods, const char **ret_reason,
                           struct error *err)
{
        struct rs_priv *p = c->priv;
        int64_t want = kjson_int(rs, "spec.replicas", 1);
        int64_t diff = (int64_t)json_array_size(pods) - want;
        int r = 0;
        if (diff < 0) {
                int64_t n = MIN(-diff, REPLICASET_BURST), done = 0;
                int *rc = xcalloc((size_t)n, sizeof(*rc));
                struct error *errs = xcalloc((size_t)n, sizeof(*errs));
                expectations_expect(p->exp, key, n, NULL);
                for (int64_t batch = 1; done < n; batch *= 2) {
                        int64_t bn = MIN(batch, n - done);
                        struct batch b = {
                                .c = c, .rs = rs, .key = key, .rc = rc + done, .errs = errs + done};
                        manager_parallel(c->m, kc, (size_t)bn, create_one, &b);
                        bool failed = false;
                        for (int64_t i = done; i < done + bn; i++)
                                if (rc[i] < 0 && !failed) {
                                        failed = true;
                                        if (!r) {
                                                r = rc[i];
                                                *err = errs[i];
                                        }
                                }
                        done += bn;
                        if (failed) {
                                for (; done < n; done++) /* skipped: not expected any more */
                                        expectations_creation_observed(p->exp, key);
                                *ret_reason = "FailedCreate";
                                break;
                        }
                }
                free(rc);
                free(errs);
        } else if (diff > 0) {
                json_t *related =
                        manager_cache_list(c->m, CTL_PODS, kjson_str(rs, "metadata.namespace"));
                controllers_pods_sort_for_deletion(pods, related);
                json_decref(related);
                int64_t n = MIN(diff, REPLICASET_BURST);
                json_t *dels = json_array(), *victims = json_array();
                for (int64_t i = 0; i < n; i++) {
                        json_t *pod = json_array_get(pods, (size_t)i);
                        char *k = controllers_key(pod);
                        json_array_append_new(dels, json_string(k));
                        json_array_append(victims, pod);
                        free(k);
                }
                expectations_expect(p->exp, key, 0, dels);
                int *rc = xcalloc((size_t)n, sizeof(*rc));
                struct error *errs = xcalloc((size_t)n, sizeof(*errs));
                struct batch b = {.c = c,
                                  .rs = rs,
                                  .key = key,
                                  .victims = victims,
                                  .dels = dels,
                                  .rc = rc,
                                  .errs = errs};
                manager_parallel(c->m, kc, (size_t)n, delete_one, &b);
                for (int64_t i = 0; i < n; i++)
                        if (rc[i] < 0 && !r) {
                                r = rc[i];
                                *err = errs[i];
                                *ret_reason = "FailedDelete";
                        }
                free(rc);
                free(errs);
                json_decref(victims);
                json_decref(dels);
        }
        return r;
}

static int rs_sync(struct controller *c, struct kclient *kc, const char *key)
{
        struct rs_priv *p = c->priv;
        _cleanup_free_ char *ns = NULL;
        const char *name;
        struct error err = {0};
        controllers_key_split(key, &ns, &name);
        _cleanup_json_ json_t *rs = manager_cache_get(c->m, p->k->res, ns, name);
        if (!rs) {
                expectations_delete(p->exp, key);
                return 0;
        }
        _cleanup_(labels_selector_freep) struct labels_selector *sel = NULL;
        if (owner_selector(p->k, rs, &sel, &err) < 0) {
                log_debug(COMP, "%s: selector: %s", key, error_msg(&err));
                return 0;
        }
        bool need_sync = expectations_satisfied(p->exp, key);
        _cleanup_json_ json_t *all = manager_cache_list(c->m, CTL_PODS, ns);
        _cleanup_json_ json_t *active = json_array();
        json_t *pod;
        size_t i;
        json_array_foreach(all, i, pod) if (controllers_pod_is_active(pod))
                json_array_append(active, pod);
        _cleanup_free_ char *coll = xasprintf("/api/v1/namespaces/%s/pods", ns);
        _cleanup_json_ json_t *pods = labels_selector_is_empty(sel)
                                              ? json_array()
                                              : podcontrol_claim(kc, coll, rs, p->k->api_version,
                                                                 p->k->kind, sel, active);
        int mr = 0;
        const char *reason = NULL;
        if (need_sync && !kjson_get(rs, "metadata.deletionTimestamp"))
                mr = manage_replicas(c, kc, key, rs, pods, &reason, &err);
        /* status counts the pods as the cache shows them: created ones appear via events */
        json_t *status = replicaset_status_calc(rs, pods, time(NULL),
                                                mr < 0 ? error_msg(&err) : NULL, reason);
        int r = 0;
        if (!kjson_equal(status, kjson_get(rs, "status")))
                r = update_status(p->k, kc, rs, status);
        int64_t min_ready = kjson_int(rs, "spec.minReadySeconds", 0);
        if (mr == 0 && r == 0 && min_ready > 0 &&
            kjson_int(status, "readyReplicas", 0) == kjson_int(rs, "spec.replicas", 1) &&
            kjson_int(status, "availableReplicas", 0) != kjson_int(rs, "spec.replicas", 1))
                workqueue_add_after(c->wq, key, min_ready * 1000);
        json_decref(status);
        return mr < 0 ? mr : r;
}

static void priv_free(struct controller *c)
{
        struct rs_priv *p = c->priv;
        expectations_free(p->exp);
        free(p);
}

static void init(struct controller *c, const struct rs_kind *k, const char *name)
{
        struct rs_priv *p = xcalloc(1, sizeof(*p));
        p->exp = expectations_new();
        p->k = k;
        c->name = name;
        c->priv = p;
        c->needs = 1u << CTL_PODS | 1u << k->res;
        c->on_event = on_event;
        c->sync = rs_sync;
        c->free = priv_free;
}

void replicaset_controller_init(struct controller *c)
{
        init(c, &kind_rs, "replicaset");
}

void replicationcontroller_controller_init(struct controller *c)
{
        init(c, &kind_rc, "replicationcontroller");
}
