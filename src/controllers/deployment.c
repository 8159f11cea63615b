/* deployment.c — the Deployment controller (see deployment.h), following
 * pkg/controller/deployment (sync.go, rolling.go, recreate.go, progress.go). */
#include "controllers/deployment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/labels.h"
#include "common/kjson.h"
#include "controllers/controllers-internal.h"
#include "controllers/podcontrol.h"
#include "controllers/util.h"

#define COMP "deployment-controller"
#define RS_API "/apis/apps/v1/namespaces/%s/replicasets"
#define D_API "/apis/apps/v1/namespaces/%s/deployments/%s"

/* ---- pure helpers ---- */

static int64_t d_replicas(const json_t *d)
{
        return kjson_int(d, "spec.replicas", 1);
}

static int64_t rs_replicas(const json_t *rs)
{
        return rs ? kjson_int(rs, "spec.replicas", 1) : 0;
}

static bool is_rolling(const json_t *d)
{
        const char *t = kjson_str(d, "spec.strategy.type");
        return !t || !strcmp(t, "RollingUpdate");
}

static int64_t max_surge(const json_t *d)
{
        int64_t s = 0, u = 0;
        if (!is_rolling(d) || controllers_resolve_fenceposts(kjson_get(d, "spec.strategy"),
                                                             d_replicas(d), &s, &u) < 0)
                return 0;
        return s;
}

static int64_t max_unavailable(const json_t *d)
{
        int64_t s = 0, u = 0;
        if (!is_rolling(d) || d_replicas(d) == 0 ||
            controllers_resolve_fenceposts(kjson_get(d, "spec.strategy"), d_replicas(d), &s, &u) <
                    0)
                return 0;
        return MIN(u, d_replicas(d));
}

static int64_t sum_field(const json_t *rss, const char *path, int64_t dflt)
{
        int64_t n = 0;
        json_t *rs;
        size_t i;
        json_array_foreach(rss, i, rs) n += kjson_int(rs, path, dflt);
        return n;
}

static int64_t annotation_int(const json_t *obj, const char *name, int64_t dflt)
{
        const char *s =
                json_string_value(json_object_get(kjson_get(obj, "metadata.annotations"), name));
        if (!s || !*s)
                return dflt;
        char *end;
        long long v = strtoll(s, &end, 10);
        return *end ? dflt : v;
}

static int64_t revision_of(const json_t *rs)
{
        return annotation_int(rs, DEPLOYMENT_REVISION, 0);
}

int64_t deployment_new_rs_replicas(const json_t *d, const json_t *all_rs, const json_t *new_rs)
{
        if (!is_rolling(d))
                return d_replicas(d);
        int64_t current = 0;
        bool counted = false;
        json_t *rs;
        size_t i;
        json_array_foreach(all_rs, i, rs)
        {
                current += rs_replicas(rs);
                if (rs == new_rs)
                        counted = true;
        }
        if (!counted)
                current += rs_replicas(new_rs);
        int64_t max_total = d_replicas(d) + max_surge(d);
        if (current >= max_total)
                return rs_replicas(new_rs);
        int64_t up = MIN(max_total - current, d_replicas(d) - rs_replicas(new_rs));
        return rs_replicas(new_rs) + up;
}

bool deployment_template_equal(const json_t *d_tmpl, const json_t *rs_tmpl)
{
        json_t *a = json_deep_copy(d_tmpl), *b = json_deep_copy(rs_tmpl);
        json_t *la = kjson_get(a, "metadata.labels"), *lb = kjson_get(b, "metadata.labels");
        json_object_del(la, DEPLOYMENT_HASH_LABEL);
        json_object_del(lb, DEPLOYMENT_HASH_LABEL);
        bool eq = kjson_equal(a, b);
        json_decref(a);
        json_decref(b);
        return eq;
}

/* SetDeploymentCondition: same status and reason -> nothing changes (times kept). */
static void dcond_set(json_t *status, json_t *cond)
{
        json_t *cur =
                controllers_condition_get(status, json_string_value(json_object_get(cond, "type")));
        if (cur && kjson_equal(json_object_get(cur, "status"), json_object_get(cond, "status")) &&
            kjson_equal(json_object_get(cur, "reason"), json_object_get(cond, "reason"))) {
                json_decref(cond);
                return;
        }
        controllers_condition_set(status, cond);
}

json_t *deployment_status_calc(const json_t *d, const json_t *all_rs, const json_t *new_rs)
{
        int64_t avail = sum_field(all_rs, "status.availableReplicas", 0);
        int64_t total = 0;
        json_t *rs;
        size_t i;
        json_array_foreach(all_rs, i, rs) total += rs_replicas(rs);
        int64_t unavail = MAX(total - avail, 0);
        json_t *st = json_pack(
                "{s:I, s:I, s:I, s:I, s:I, s:I}", "observedGeneration",
                (json_int_t)kjson_int(d, "metadata.generation", 0), "replicas",
                (json_int_t)sum_field(all_rs, "status.replicas", 0), "updatedReplicas",
                (json_int_t)(new_rs ? kjson_int(new_rs, "status.replicas", 0) : 0), "readyReplicas",
                (json_int_t)sum_field(all_rs, "status.readyReplicas", 0), "availableReplicas",
                (json_int_t)avail, "unavailableReplicas", (json_int_t)unavail);
        json_t *cc = kjson_get(d, "status.collisionCount");
        if (cc)
                json_object_set(st, "collisionCount", cc);
        json_t *conds = kjson_get(d, "status.conditions");
        json_object_set_new(st, "conditions",
                            json_is_array(conds) ? json_deep_copy(conds) : json_array());
        if (avail >= d_replicas(d) - max_unavailable(d))
                dcond_set(st,
                          controllers_condition_new("Available", "True", "MinimumReplicasAvailable",
                                                    "Deployment has minimum availability.", true));
        else
                dcond_set(st, controllers_condition_new(
                                      "Available", "False", "MinimumReplicasUnavailable",
                                      "Deployment does not have minimum availability.", true));
        return st;
}

bool deployment_is_complete(const json_t *d, const json_t *st)
{
        int64_t n = d_replicas(d);
        return kjson_int(st, "updatedReplicas", 0) == n && kjson_int(st, "replicas", 0) == n &&
               kjson_int(st, "availableReplicas", 0) == n &&
               kjson_int(st, "observedGeneration", 0) >= kjson_int(d, "metadata.generation", 0);
}

static bool has_progress_deadline(const json_t *d)
{
        return kjson_int(d, "spec.progressDeadlineSeconds", 600) != 2147483647;
}

static const char *cond_reason(const json_t *status, const char *type)
{
        return kjson_str(controllers_condition_get(status, type), "reason");
}

/* ---- the controller ---- */

struct ctx {
        struct controller *c;
        struct kclient *kc;
        json_t *d; /* working copy of the deployment */
        char *ns;
        json_t *rss;  /* the ReplicaSets it controls (working copies, updated in place) */
        json_t *dead; /* replaced elements of rss, kept alive for borrowed pointers */
};

static void enqueue_owner_of_rs(struct controller *c, const json_t *rs)
{
        json_t *ref = controllers_controller_ref(rs);
        if (ref) {
                if (strcmp(json_string_value(json_object_get(ref, "kind")) ?: "", "Deployment"))
                        return;
                _cleanup_free_ char *k =
                        xasprintf("%s/%s", kjson_str(rs, "metadata.namespace") ?: "",
                                  json_string_value(json_object_get(ref, "name")) ?: "");
                workqueue_add(c->wq, k);
                return;
        }
        json_t *all =
                manager_cache_list(c->m, CTL_DEPLOYMENTS, kjson_str(rs, "metadata.namespace"));
        json_t *d;
        size_t i;
        json_array_foreach(all, i, d)
        {
                _cleanup_(labels_selector_freep) struct labels_selector *sel = NULL;
                if (labels_selector_from_json(kjson_get(d, "spec.selector"), &sel, NULL) < 0 ||
                    labels_selector_is_empty(sel))
                        continue;
                if (labels_selector_matches(sel, kjson_get(rs, "metadata.labels"))) {
                        _cleanup_free_ char *k = controllers_key(d);
                        workqueue_add(c->wq, k);
                }
        }
        json_decref(all);
}

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        const json_t *obj = cur ? cur : old;
        if (res == CTL_DEPLOYMENTS) {
                _cleanup_free_ char *k = controllers_key(obj);
                workqueue_add(c->wq, k);
        } else if (res == CTL_REPLICASETS) {
                if (old && cur && old != cur) {
                        json_t *ro = controllers_controller_ref(old),
                               *rn = controllers_controller_ref(cur);
                        if (ro && (!rn || !kjson_equal(json_object_get(ro, "uid"),
                                                       json_object_get(rn, "uid"))))
                                enqueue_owner_of_rs(c, old);
                }
                enqueue_owner_of_rs(c, obj);
        } else if (res == CTL_PODS && !cur) {
                /* Recreate waits for old pods to be gone */
                json_t *ref = controllers_controller_ref(obj);
                if (!ref ||
                    strcmp(json_string_value(json_object_get(ref, "kind")) ?: "", "ReplicaSet"))
                        return;
                json_t *rs = manager_cache_get(c->m, CTL_REPLICASETS,
                                               kjson_str(obj, "metadata.namespace"),
                                               json_string_value(json_object_get(ref, "name")));
                if (rs && controllers_controller_ref(rs))
                        enqueue_owner_of_rs(c, rs);
                json_decref(rs);
        }
}

static int cmp_created(const void *pa, const void *pb)
{
        const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
        time_t ta = controllers_time(a, "metadata.creationTimestamp");
        time_t tb = controllers_time(b, "metadata.creationTimestamp");
        if (ta != tb)
                return ta < tb ? -1 : 1;
        return strcmp(kjson_str(a, "metadata.name") ?: "", kjson_str(b, "metadata.name") ?: "");
}

/* Sort an array of objects by creation time, oldest first. */
static void sort_by_creation(json_t *arr)
{
        size_t n = json_array_size(arr);
        if (n < 2)
                return;
        json_t **v = xcalloc(n, sizeof(*v));
        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(arr, i));
        qsort(v, n, sizeof(*v), cmp_created);
        json_array_clear(arr);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, v[i]);
        free(v);
}

static void template_hash_of(const json_t *d, char hash[16])
{
        json_t *cc = kjson_get(d, "status.collisionCount");
        controllers_template_hash(kjson_get(d, "spec.template"),
                                  json_is_integer(cc) ? json_integer_value(cc) : -1, hash);
}

/* The new RS (borrowed from x->rss) or NULL; old ones appended to old (new refs). */
static json_t *find_new_rs(struct ctx *x, json_t *old)
{
        char hash[16];
        template_hash_of(x->d, hash);
        _cleanup_free_ char *name = xasprintf("%s-%s", kjson_str(x->d, "metadata.name"), hash);
        json_t *found = NULL, *rs;
        size_t i;
        json_array_foreach(x->rss, i, rs)
        {
                if (!found && (deployment_template_equal(kjson_get(x->d, "spec.template"),
                                                         kjson_get(rs, "spec.template")) ||
                               !strcmp(kjson_str(rs, "metadata.name") ?: "", name)))
                        found = rs;
                else
                        json_array_append(old, rs);
        }
        return found;
}

static int update_deployment(struct ctx *x)
{
        struct error err = {0};
        _cleanup_free_ char *path = xasprintf(D_API, x->ns, kjson_str(x->d, "metadata.name"));
        json_t *ret = NULL;
        int r = kclient_update(x->kc, path, x->d, &ret, &err);
        if (r < 0) {
                log_debug(COMP, "update %s: %s", path, error_msg(&err));
                return r;
        }
        /* keep our status edits; take the new metadata */
        json_object_set(ret, "status", json_object_get(x->d, "status"));
        json_decref(x->d);
        x->d = ret;
        return 0;
}

static int update_status(struct ctx *x, json_t *status)
{
        struct error err = {0};
        _cleanup_free_ char *path =
                xasprintf(D_API "/status", x->ns, kjson_str(x->d, "metadata.name"));
        json_object_set(x->d, "status", status);
        json_t *ret = NULL;
        int r = kclient_update(x->kc, path, x->d, &ret, &err);
        if (r < 0) {
                log_debug(COMP, "status %s: %s", path, error_msg(&err));
                return r == -ENOENT ? 0 : r;
        }
        json_decref(x->d);
        x->d = ret;
        return 0;
}

static void set_rs_annotations(struct ctx *x, json_t *rs, int64_t revision)
{
        json_t *ann = kjson_obj_ensure(kjson_obj_ensure(rs, "metadata"), "annotations");
        const char *k;
        json_t *v;
        json_object_foreach(kjson_get(x->d, "metadata.annotations"), k, v)
        {
                if (!strcmp(k, "kubectl.kubernetes.io/last-applied-configuration") ||
                    !strcmp(k, DEPLOYMENT_REVISION) || !strcmp(k, DEPLOYMENT_DESIRED) ||
                    !strcmp(k, DEPLOYMENT_MAX) ||
                    !strcmp(k, "deployment.kubernetes.io/revision-history"))
                        continue;
                json_object_set(ann, k, v);
        }
        if (revision_of(rs) < revision) {
                char buf[24];
                snprintf(buf, sizeof(buf), "%lld", (long long)revision);
                json_object_set_new(ann, DEPLOYMENT_REVISION, json_string(buf));
        }
}

static void set_replicas_annotations(struct ctx *x, json_t *rs)
{
        json_t *ann = kjson_obj_ensure(kjson_obj_ensure(rs, "metadata"), "annotations");
        char buf[24];
        snprintf(buf, sizeof(buf), "%lld", (long long)d_replicas(x->d));
        json_object_set_new(ann, DEPLOYMENT_DESIRED, json_string(buf));
        snprintf(buf, sizeof(buf), "%lld", (long long)(d_replicas(x->d) + max_surge(x->d)));
        json_object_set_new(ann, DEPLOYMENT_MAX, json_string(buf));
}

/* PUT rs (a modified copy of the element at x->rss[idx]); replaces it on success. */
static int put_rs(struct ctx *x, json_t *rs)
{
        struct error err = {0};
        _cleanup_free_ char *path =
                xasprintf(RS_API "/%s", x->ns, kjson_str(rs, "metadata.name") ?: "");
        json_t *ret = NULL;
        int r = kclient_update(x->kc, path, rs, &ret, &err);
        if (r < 0) {
                log_debug(COMP, "update %s: %s", path, error_msg(&err));
                return r;
        }
        json_t *o;
        size_t i;
        json_array_foreach(x->rss, i, o)
        {
                if (!strcmp(kjson_str(o, "metadata.name") ?: "",
                            kjson_str(ret, "metadata.name") ?: "")) {
                        json_array_append(x->dead, o);
                        json_array_set(x->rss, i, ret);
                        break;
                }
        }
        json_decref(ret);
        return 0;
}

static json_t *rs_by_name(struct ctx *x, const char *name)
{
        json_t *o;
        size_t i;
        json_array_foreach(x->rss, i,
                           o) if (!strcmp(kjson_str(o, "metadata.name") ?: "", name)) return o;
        return NULL;
}

/* scaleReplicaSetAndRecordEvent; *scaled set when the size changed. */
static int scale_rs(struct ctx *x, const json_t *rs, int64_t n, bool *scaled)
{
        int64_t cur = rs_replicas(rs);
        bool size = cur != n;
        bool ann = annotation_int(rs, DEPLOYMENT_DESIRED, -1) != d_replicas(x->d) ||
                   annotation_int(rs, DEPLOYMENT_MAX, -1) != d_replicas(x->d) + max_surge(x->d);
        if (!size && !ann)
                return 0;
        json_t *copy = json_deep_copy(rs);
        kjson_set_path(copy, "spec.replicas", json_integer(n));
        set_replicas_annotations(x, copy);
        int r = put_rs(x, copy);
        if (r == 0 && size) {
                manager_event(x->kc, COMP, x->d, "Normal", "ScalingReplicaSet",
                              "Scaled %s replica set %s from %lld to %lld", n > cur ? "up" : "down",
                              kjson_str(rs, "metadata.name"), (long long)cur, (long long)n);
                if (scaled)
                        *scaled = true;
        }
        json_decref(copy);
        return r;
}

/* getAllReplicaSetsAndSyncRevision: *ret_new (borrowed from x->rss or NULL), *ret_old (new
 * array). create: make the new RS when missing. */
static int get_all(struct ctx *x, bool create, json_t **ret_new, json_t **ret_old)
{
        struct error err = {0};
        json_t *old = json_array();
        json_t *nrs = find_new_rs(x, old);
        int64_t max_old = 0;
        json_t *rs;
        size_t i;
        json_array_foreach(old, i, rs) max_old = MAX(max_old, revision_of(rs));
        int64_t newrev = max_old + 1;
        char revbuf[24];
        int r = 0;
        *ret_old = old;
        *ret_new = NULL;
        if (nrs) {
                json_t *copy = json_deep_copy(nrs);
                set_rs_annotations(x, copy, newrev);
                bool mrs = kjson_int(copy, "spec.minReadySeconds", 0) !=
                           kjson_int(x->d, "spec.minReadySeconds", 0);
                if (mrs)
                        kjson_set_path(copy, "spec.minReadySeconds",
                                       json_integer(kjson_int(x->d, "spec.minReadySeconds", 0)));
                if (!kjson_equal(kjson_get(copy, "metadata.annotations"),
                                 kjson_get(nrs, "metadata.annotations")) ||
                    mrs) {
                        r = put_rs(x, copy);
                        if (r == 0)
                                nrs = rs_by_name(x, kjson_str(copy, "metadata.name"));
                }
                json_decref(copy);
                if (r < 0)
                        return r;
                snprintf(revbuf, sizeof(revbuf), "%lld", (long long)revision_of(nrs));
                json_t *ann = kjson_obj_ensure(kjson_obj_ensure(x->d, "metadata"), "annotations");
                if (strcmp(json_string_value(json_object_get(ann, DEPLOYMENT_REVISION)) ?: "",
                           revbuf)) {
                        json_object_set_new(ann, DEPLOYMENT_REVISION, json_string(revbuf));
                        r = update_deployment(x);
                        if (r < 0)
                                return r;
                }
                json_t *st = kjson_obj_ensure(x->d, "status");
                if (has_progress_deadline(x->d) && !controllers_condition_get(st, "Progressing")) {
                        _cleanup_free_ char *msg = xasprintf("Found new replica set \"%s\"",
                                                             kjson_str(nrs, "metadata.name"));
                        json_t *ns = json_deep_copy(st);
                        controllers_condition_set(
                                ns, controllers_condition_new("Progressing", "True",
                                                              "FoundNewReplicaSet", msg, true));
                        r = update_status(x, ns);
                        json_decref(ns);
                        if (r < 0)
                                return r;
                }
                *ret_new = nrs;
                return 0;
        }
        if (!create)
                return 0;

        char hash[16];
        template_hash_of(x->d, hash);
        const char *dname = kjson_str(x->d, "metadata.name");
        _cleanup_free_ char *name = xasprintf("%s-%s", dname, hash);
        json_t *tmpl = json_deep_copy(kjson_get(x->d, "spec.template"));
        kjson_set_str(tmpl, "metadata.labels." DEPLOYMENT_HASH_LABEL, hash);
        json_t *sel = json_deep_copy(kjson_get(x->d, "spec.selector"));
        kjson_set_str(sel, "matchLabels." DEPLOYMENT_HASH_LABEL, hash);
        json_t *nrs_obj = json_pack(
                "{s:s, s:s, s:{s:s, s:s, s:O, s:[o]}, s:{s:i, s:I, s:o, s:o}}", "apiVersion",
                "apps/v1", "kind", "ReplicaSet", "metadata", "name", name, "namespace", x->ns,
                "labels", kjson_get(tmpl, "metadata.labels"), "ownerReferences",
                controllers_owner_ref_new(x->d, "apps/v1", "Deployment"), "spec", "replicas", 0,
                "minReadySeconds", (json_int_t)kjson_int(x->d, "spec.minReadySeconds", 0),
                "selector", sel, "template", tmpl);
        json_t *all = json_deep_copy(old);
        json_array_append(all, nrs_obj);
        int64_t want = deployment_new_rs_replicas(x->d, all, nrs_obj);
        json_decref(all);
        kjson_set_path(nrs_obj, "spec.replicas", json_integer(want));
        set_rs_annotations(x, nrs_obj, newrev);
        set_replicas_annotations(x, nrs_obj);
        _cleanup_free_ char *coll = xasprintf(RS_API, x->ns);
        json_t *created = NULL;
        r = kclient_create(x->kc, coll, nrs_obj, &created, &err);
        json_decref(nrs_obj);
        if (r == -EEXIST) {
                /* Ours (a cache that lags): retry later. Someone else's: a hash collision. */
                json_t *ex = NULL;
                _cleanup_free_ char *p = xasprintf(RS_API "/%s", x->ns, name);
                if (kclient_get(x->kc, p, &ex, &err) == 0) {
                        json_t *ref = controllers_controller_ref(ex);
                        bool ours =
                                ref && !strcmp(json_string_value(json_object_get(ref, "uid")) ?: "",
                                               kjson_str(x->d, "metadata.uid") ?: "");
                        if (!ours || !deployment_template_equal(kjson_get(x->d, "spec.template"),
                                                                kjson_get(ex, "spec.template"))) {
                                json_t *st = json_deep_copy(kjson_obj_ensure(x->d, "status"));
                                json_object_set_new(
                                        st, "collisionCount",
                                        json_integer(kjson_int(x->d, "status.collisionCount", 0) +
                                                     1));
                                update_status(x, st);
                                json_decref(st);
                                log_info(COMP, "%s/%s: hash collision on %s", x->ns, dname, name);
                        }
                }
                json_decref(ex);
                return -EAGAIN;
        }
        if (r < 0) {
                manager_event(x->kc, COMP, x->d, "Warning", "FailedCreate",
                              "Failed to create new replica set \"%s\": %s", name, error_msg(&err));
                if (has_progress_deadline(x->d)) {
                        json_t *st = json_deep_copy(kjson_obj_ensure(x->d, "status"));
                        _cleanup_free_ char *msg =
                                xasprintf("Failed to create new replica set \"%s\": %s", name,
                                          error_msg(&err));
                        controllers_condition_set(
                                st, controllers_condition_new("ReplicaFailure", "True",
                                                              "FailedCreate", msg, true));
                        update_status(x, st);
                        json_decref(st);
                }
                return r;
        }
        if (want > 0)
                manager_event(x->kc, COMP, x->d, "Normal", "ScalingReplicaSet",
                              "Scaled up replica set %s from 0 to %lld", name, (long long)want);
        json_array_append(x->rss, created);
        json_decref(created);
        nrs = json_array_get(x->rss, json_array_size(x->rss) - 1);
        snprintf(revbuf, sizeof(revbuf), "%lld", (long long)newrev);
        json_t *ann = kjson_obj_ensure(kjson_obj_ensure(x->d, "metadata"), "annotations");
        if (strcmp(json_string_value(json_object_get(ann, DEPLOYMENT_REVISION)) ?: "", revbuf)) {
                json_object_set_new(ann, DEPLOYMENT_REVISION, json_string(revbuf));
                r = update_deployment(x);
                if (r < 0)
                        return r;
        }
        if (has_progress_deadline(x->d)) {
                json_t *st = json_deep_copy(kjson_obj_ensure(x->d, "status"));
                _cleanup_free_ char *msg = xasprintf("Created new replica set \"%s\"", name);
                controllers_condition_set(st, controllers_condition_new("Progressing", "True",
                                                                        "NewReplicaSetCreated", msg,
                                                                        true));
                r = update_status(x, st);
                json_decref(st);
                if (r < 0)
                        return r;
        }
        *ret_new = nrs;
        return 0;
}

static json_t *all_of(json_t *nrs, json_t *old)
{
        json_t *all = json_array();
        json_array_extend(all, old);
        if (nrs)
                json_array_append(all, nrs);
        return all;
}

/* Refresh array elements from x->rss (after put_rs replaced them). */
static void refresh(struct ctx *x, json_t **nrs, json_t *old)
{
        if (*nrs)
                *nrs = rs_by_name(x, kjson_str(*nrs, "metadata.name"));
        for (size_t i = 0; i < json_array_size(old); i++) {
                json_t *o = rs_by_name(x, kjson_str(json_array_get(old, i), "metadata.name"));
                if (o)
                        json_array_set(old, i, o);
        }
}

static int sync_status(struct ctx *x, json_t *nrs, json_t *old)
{
        json_t *all = all_of(nrs, old);
        json_t *st = deployment_status_calc(x->d, all, nrs);
        int r = 0;
        if (!kjson_equal(st, kjson_get(x->d, "status")))
                r = update_status(x, st);
        json_decref(st);
        json_decref(all);
        return r;
}

static bool timed_out(const json_t *d, const json_t *st)
{
        json_t *c = controllers_condition_get(st, "Progressing");
        if (!c)
                return false;
        const char *reason = kjson_str(c, "reason") ?: "";
        if (!strcmp(reason, "ProgressDeadlineExceeded"))
                return true;
        if (!strcmp(reason, "NewReplicaSetAvailable"))
                return false;
        time_t from = controllers_time(c, "lastUpdateTime");
        return from && from + kjson_int(d, "spec.progressDeadlineSeconds", 600) < time(NULL);
}

static bool progressing(const json_t *d, const json_t *st)
{
        const json_t *o = kjson_get(d, "status");
        int64_t old_old = kjson_int(o, "replicas", 0) - kjson_int(o, "updatedReplicas", 0);
        int64_t new_old = kjson_int(st, "replicas", 0) - kjson_int(st, "updatedReplicas", 0);
        return kjson_int(st, "updatedReplicas", 0) > kjson_int(o, "updatedReplicas", 0) ||
               new_old < old_old ||
               kjson_int(st, "readyReplicas", 0) > kjson_int(o, "readyReplicas", 0) ||
               kjson_int(st, "availableReplicas", 0) > kjson_int(o, "availableReplicas", 0);
}

/* syncRolloutStatus (progress.go). */
static int sync_rollout_status(struct ctx *x, json_t *nrs, json_t *old)
{
        json_t *all = all_of(nrs, old);
        json_t *st = deployment_status_calc(x->d, all, nrs);
        json_decref(all);
        const char *rsname = nrs ? kjson_str(nrs, "metadata.name") : "";
        if (!has_progress_deadline(x->d)) {
                controllers_condition_del(st, "Progressing");
        } else {
                json_t *cur = controllers_condition_get(st, "Progressing");
                bool complete =
                        kjson_int(st, "replicas", 0) == kjson_int(st, "updatedReplicas", 0) &&
                        cur && !strcmp(kjson_str(cur, "reason") ?: "", "NewReplicaSetAvailable");
                if (!complete) {
                        if (deployment_is_complete(x->d, st)) {
                                _cleanup_free_ char *m = xasprintf(
                                        "ReplicaSet \"%s\" has successfully progressed.", rsname);
                                dcond_set(st, controllers_condition_new("Progressing", "True",
                                                                        "NewReplicaSetAvailable", m,
                                                                        true));
                        } else if (progressing(x->d, st)) {
                                _cleanup_free_ char *m =
                                        xasprintf("ReplicaSet \"%s\" is progressing.", rsname);
                                json_t *c = controllers_condition_new("Progressing", "True",
                                                                      "ReplicaSetUpdated", m, true);
                                if (cur && !strcmp(kjson_str(cur, "status") ?: "", "True"))
                                        json_object_set(c, "lastTransitionTime",
                                                        json_object_get(cur, "lastTransitionTime"));
                                controllers_condition_del(st, "Progressing");
                                json_array_append_new(json_object_get(st, "conditions"), c);
                        } else if (timed_out(x->d, st)) {
                                _cleanup_free_ char *m = xasprintf(
                                        "ReplicaSet \"%s\" has timed out progressing.", rsname);
                                dcond_set(st, controllers_condition_new("Progressing", "False",
                                                                        "ProgressDeadlineExceeded",
                                                                        m, true));
                        }
                }
        }
        int r = 0;
        if (!kjson_equal(st, kjson_get(x->d, "status")))
                r = update_status(x, st);
        /* requeueStuckDeployment: look again when the deadline would pass */
        json_t *c = controllers_condition_get(kjson_get(x->d, "status"), "Progressing");
        if (r == 0 && c && has_progress_deadline(x->d) && !deployment_is_complete(x->d, st) &&
            !strcmp(kjson_str(c, "reason") ?: "", "ReplicaSetUpdated")) {
                time_t due = controllers_time(c, "lastUpdateTime") +
                             kjson_int(x->d, "spec.progressDeadlineSeconds", 600);
                _cleanup_free_ char *k = controllers_key(x->d);
                workqueue_add_after(x->c->wq, k, MAX((int64_t)(due - time(NULL)), 1) * 1000);
        }
        json_decref(st);
        return r;
}

static int cleanup_history(struct ctx *x, json_t *old)
{
        int64_t limit = kjson_int(x->d, "spec.revisionHistoryLimit", 10);
        json_t *cands = json_array();
        json_t *rs;
        size_t i;
        json_array_foreach(old, i, rs)
        {
                if (rs_replicas(rs) == 0 && kjson_int(rs, "status.replicas", 0) == 0 &&
                    kjson_int(rs, "metadata.generation", 0) <=
                            kjson_int(rs, "status.observedGeneration", 0) &&
                    !kjson_get(rs, "metadata.deletionTimestamp"))
                        json_array_append(cands, rs);
        }
        int64_t diff = (int64_t)json_array_size(cands) - limit;
        /* oldest revision first */
        for (int64_t k = 0; k < diff; k++) {
                size_t best = 0;
                for (size_t j = 1; j < json_array_size(cands); j++)
                        if (revision_of(json_array_get(cands, j)) <
                            revision_of(json_array_get(cands, best)))
                                best = j;
                json_t *v = json_array_get(cands, best);
                struct error err = {0};
                _cleanup_free_ char *p =
                        xasprintf(RS_API "/%s", x->ns, kjson_str(v, "metadata.name"));
                if (kclient_delete(x->kc, p, NULL, NULL, &err) < 0)
                        log_debug(COMP, "delete %s: %s", p, error_msg(&err));
                json_array_remove(cands, best);
        }
        json_decref(cands);
        return 0;
}

static bool is_active(const json_t *rs)
{
        return rs && rs_replicas(rs) > 0;
}

/* reconcileOldReplicaSets + cleanupUnhealthyReplicas + scaleDownOldReplicaSetsForRollingUpdate */
static int reconcile_old(struct ctx *x, json_t *nrs, json_t *old, bool *scaled)
{
        int64_t old_count = 0;
        json_t *rs;
        size_t i;
        json_array_foreach(old, i, rs) old_count += rs_replicas(rs);
        if (old_count == 0)
                return 0;
        int64_t all_count = old_count + rs_replicas(nrs);
        int64_t min_avail = d_replicas(x->d) - max_unavailable(x->d);
        int64_t new_unavail =
                nrs ? rs_replicas(nrs) - kjson_int(nrs, "status.availableReplicas", 0) : 0;
        int64_t max_down = all_count - min_avail - new_unavail;
        if (max_down <= 0)
                return 0;
        sort_by_creation(old);
        int64_t cleaned = 0;
        int r;
        for (i = 0; i < json_array_size(old) && cleaned < max_down; i++) {
                rs = json_array_get(old, i);
                int64_t n = rs_replicas(rs), av = kjson_int(rs, "status.availableReplicas", 0);
                if (n == 0 || av == n)
                        continue;
                int64_t down = MIN(max_down - cleaned, n - av);
                r = scale_rs(x, rs, n - down, scaled);
                if (r < 0)
                        return r;
                cleaned += down;
        }
        refresh(x, &nrs, old);
        json_t *all = all_of(nrs, old);
        int64_t avail = sum_field(all, "status.availableReplicas", 0);
        json_decref(all);
        if (avail <= min_avail)
                return 0;
        int64_t total = avail - min_avail, done = 0;
        for (i = 0; i < json_array_size(old) && done < total; i++) {
                rs = json_array_get(old, i);
                int64_t n = rs_replicas(rs);
                if (n == 0)
                        continue;
                int64_t down = MIN(n, total - done);
                r = scale_rs(x, rs, n - down, scaled);
                if (r < 0)
                        return r;
                done += down;
        }
        return 0;
}

static int rollout_rolling(struct ctx *x)
{
        json_t *nrs, *old;
        int r = get_all(x, true, &nrs, &old);
        if (r < 0) {
                json_decref(old);
                return r;
        }
        bool scaled = false;
        /* reconcileNewReplicaSet */
        if (nrs && rs_replicas(nrs) != d_replicas(x->d)) {
                int64_t want;
                if (rs_replicas(nrs) > d_replicas(x->d)) {
                        want = d_replicas(x->d);
                } else {
                        json_t *all = all_of(nrs, old);
                        want = deployment_new_rs_replicas(x->d, all, nrs);
                        json_decref(all);
                }
                r = scale_rs(x, nrs, want, &scaled);
                if (r < 0)
                        goto out;
                refresh(x, &nrs, old);
        }
        if (scaled) {
                r = sync_rollout_status(x, nrs, old);
                goto out;
        }
        json_t *active = json_array();
        json_t *rs;
        size_t i;
        json_array_foreach(old, i, rs) if (is_active(rs)) json_array_append(active, rs);
        r = reconcile_old(x, nrs, active, &scaled);
        json_decref(active);
        if (r < 0)
                goto out;
        refresh(x, &nrs, old);
        if (scaled) {
                r = sync_rollout_status(x, nrs, old);
                goto out;
        }
        json_t *all = all_of(nrs, old);
        json_t *st = deployment_status_calc(x->d, all, nrs);
        json_decref(all);
        if (deployment_is_complete(x->d, st))
                cleanup_history(x, old);
        json_decref(st);
        r = sync_rollout_status(x, nrs, old);
out:
        json_decref(old);
        return r;
}

static bool old_pods_running(struct ctx *x, json_t *old)
{
        json_t *pods = manager_cache_list(x->c->m, CTL_PODS, x->ns);
        bool running = false;
        json_t *p;
        size_t i;
        json_array_foreach(pods, i, p)
        {
                json_t *ref = controllers_controller_ref(p);
                const char *phase = kjson_str(p, "status.phase") ?: "";
                if (!ref || !strcmp(phase, "Failed") || !strcmp(phase, "Succeeded"))
                        continue;
                json_t *rs;
                size_t k;
                json_array_foreach(old, k, rs)
                {
                        if (kjson_equal(json_object_get(ref, "uid"), kjson_get(rs, "metadata.uid")))
                                running = true;
                }
        }
        json_decref(pods);
        return running;
}

static int rollout_recreate(struct ctx *x)
{
        json_t *nrs, *old;
        int r = get_all(x, false, &nrs, &old);
        if (r < 0)
                goto out;
        bool scaled = false;
        json_t *rs;
        size_t i;
        json_array_foreach(old, i, rs)
        {
                if (is_active(rs)) {
                        r = scale_rs(x, rs, 0, &scaled);
                        if (r < 0)
                                goto out;
                }
        }
        refresh(x, &nrs, old);
        if (scaled || old_pods_running(x, old)) {
                r = sync_rollout_status(x, nrs, old);
                goto out;
        }
        if (!nrs) {
                json_decref(old);
                r = get_all(x, true, &nrs, &old);
                if (r < 0)
                        goto out;
        }
        if (nrs) {
                r = scale_rs(x, nrs, d_replicas(x->d), &scaled);
                if (r < 0)
                        goto out;
                refresh(x, &nrs, old);
        }
        json_t *all = all_of(nrs, old);
        json_t *st = deployment_status_calc(x->d, all, nrs);
        json_decref(all);
        if (deployment_is_complete(x->d, st))
                cleanup_history(x, old);
        json_decref(st);
        r = sync_rollout_status(x, nrs, old);
out:
        json_decref(old);
        return r;
}

/* getReplicaSetFraction / getProportion */
static int64_t proportion(struct ctx *x, const json_t *rs, int64_t to_add, int64_t added)
{
        if (!rs || rs_replicas(rs) == 0 || to_add == 0 || to_add == added)
                return 0;
        int64_t frac;
        if (d_replicas(x->d) == 0) {
                frac = -rs_replicas(rs);
        } else {
                int64_t dr = d_replicas(x->d) + max_surge(x->d);
                int64_t ann =
                        annotation_int(rs, DEPLOYMENT_MAX, kjson_int(x->d, "status.replicas", 0));
                if (ann <= 0)
                        ann = 1;
                frac = (int64_t)llround((double)(rs_replicas(rs) * dr) / (double)ann) -
                       rs_replicas(rs);
        }
        int64_t allowed = to_add - added;
        return to_add > 0 ? MIN(frac, allowed) : MAX(frac, allowed);
}

static int cmp_size_newer(const void *pa, const void *pb)
{
        const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
        if (rs_replicas(a) != rs_replicas(b))
                return rs_replicas(a) > rs_replicas(b) ? -1 : 1;
        return -cmp_created(pa, pb);
}

static int cmp_size_older(const void *pa, const void *pb)
{
        const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
        if (rs_replicas(a) != rs_replicas(b))
                return rs_replicas(a) > rs_replicas(b) ? -1 : 1;
        return cmp_created(pa, pb);
}

/* dc.scale (sync.go) */
static int scale(struct ctx *x, json_t *nrs, json_t *old)
{
        json_t *active = json_array();
        json_t *rs;
        size_t i;
        json_array_foreach(old, i, rs) if (is_active(rs)) json_array_append(active, rs);
        if (is_active(nrs))
                json_array_append(active, nrs);
        int r = 0;
        json_t *target = NULL;
        if (json_array_size(active) == 0) {
                if (nrs) {
                        target = nrs;
                } else if (json_array_size(old)) {
                        sort_by_creation(old);
                        target = json_array_get(old, json_array_size(old) - 1);
                }
        } else if (json_array_size(active) == 1) {
                target = json_array_get(active, 0);
        }
        if (target) {
                if (rs_replicas(target) != d_replicas(x->d))
                        r = scale_rs(x, target, d_replicas(x->d), NULL);
                goto out;
        }
        if (nrs && rs_replicas(nrs) == d_replicas(x->d) &&
            annotation_int(nrs, DEPLOYMENT_DESIRED, -1) == d_replicas(x->d) &&
            kjson_int(nrs, "status.availableReplicas", 0) == d_replicas(x->d)) {
                json_array_foreach(old, i, rs)
                {
                        if (is_active(rs) && (r = scale_rs(x, rs, 0, NULL)) < 0)
                                goto out;
                }
                goto out;
        }
        if (is_rolling(x->d)) {
                int64_t allowed = d_replicas(x->d) + max_surge(x->d);
                int64_t cur = 0;
                json_array_foreach(active, i, rs) cur += rs_replicas(rs);
                int64_t to_add = allowed - cur, added = 0;
                size_t n = json_array_size(active);
                json_t **v = xcalloc(n ? n : 1, sizeof(*v));
                for (i = 0; i < n; i++)
                        v[i] = json_array_get(active, i);
                qsort(v, n, sizeof(*v), to_add > 0 ? cmp_size_newer : cmp_size_older);
                int64_t *size = xcalloc(n ? n : 1, sizeof(*size));
                for (i = 0; i < n; i++) {
                        int64_t pr = to_add != 0 ? proportion(x, v[i], to_add, added) : 0;
                        size[i] = rs_replicas(v[i]) + pr;
                        added += pr;
                }
                if (n && to_add != added)
                        size[0] = MAX(size[0] + to_add - added, 0);
                _cleanup_free_ char **names = xcalloc(n ? n : 1, sizeof(char *));
                for (i = 0; i < n; i++)
                        names[i] = xstrdup(kjson_str(v[i], "metadata.name"));
                for (i = 0; i < n && r == 0; i++) {
                        json_t *cur_rs = rs_by_name(x, names[i]);
                        if (cur_rs)
                                r = scale_rs(x, cur_rs, size[i], NULL);
                }
                for (i = 0; i < n; i++)
                        free(names[i]);
                free(size);
                free(v);
        }
out:
        json_decref(active);
        return r;
}

/* dc.sync: scaling and paused deployments */
static int sync_scale(struct ctx *x)
{
        json_t *nrs, *old;
        int r = get_all(x, false, &nrs, &old);
        if (r == 0)
                r = scale(x, nrs, old);
        if (r == 0) {
                refresh(x, &nrs, old);
                if (kjson_bool(x->d, "spec.paused", false))
                        cleanup_history(x, old);
                r = sync_status(x, nrs, old);
        }
        json_decref(old);
        return r;
}

static bool is_scaling_event(struct ctx *x)
{
        json_t *nrs, *old;
        if (get_all(x, false, &nrs, &old) < 0) {
                json_decref(old);
                return false;
        }
        bool scaling = false;
        json_t *all = all_of(nrs, old);
        json_t *rs;
        size_t i;
        json_array_foreach(all, i, rs)
        {
                if (!is_active(rs))
                        continue;
                int64_t want = annotation_int(rs, DEPLOYMENT_DESIRED, -1);
                if (want >= 0 && want != d_replicas(x->d))
                        scaling = true;
        }
        json_decref(all);
        json_decref(old);
        return scaling;
}

static int check_paused(struct ctx *x)
{
        if (!has_progress_deadline(x->d))
                return 0;
        json_t *st = kjson_get(x->d, "status");
        const char *reason = cond_reason(st, "Progressing");
        if (reason && !strcmp(reason, "ProgressDeadlineExceeded"))
                return 0;
        bool paused_cond = reason && !strcmp(reason, "DeploymentPaused");
        bool paused = kjson_bool(x->d, "spec.paused", false);
        json_t *c = NULL;
        if (paused && !paused_cond)
                c = controllers_condition_new("Progressing", "Unknown", "DeploymentPaused",
                                              "Deployment is paused", true);
        else if (!paused && paused_cond)
                c = controllers_condition_new("Progressing", "Unknown", "DeploymentResumed",
                                              "Deployment is resumed", true);
        if (!c)
                return 0;
        json_t *ns = st ? json_deep_copy(st) : json_object();
        controllers_condition_set(ns, c);
        int r = update_status(x, ns);
        json_decref(ns);
        return r;
}

static int d_sync(struct controller *c, struct kclient *kc, const char *key)
{
        struct error err = {0};
        struct ctx x = {.c = c, .kc = kc, .dead = json_array()};
        const char *name;
        controllers_key_split(key, &x.ns, &name);
        _cleanup_(labels_selector_freep) struct labels_selector *sel = NULL;
        _cleanup_free_ char *coll = NULL;
        json_t *cached = manager_cache_get(c->m, CTL_DEPLOYMENTS, x.ns, name);
        int r = 0;
        if (!cached)
                goto out;
        x.d = json_deep_copy(cached);
        json_decref(cached);
        if (labels_selector_from_json(kjson_get(x.d, "spec.selector"), &sel, &err) < 0 ||
            labels_selector_is_empty(sel)) {
                manager_event(
                        kc, COMP, x.d, "Warning", "SelectingAll",
                        "This deployment is selecting all pods. A non-empty selector is required.");
                goto out;
        }
        json_t *cands = manager_cache_list(c->m, CTL_REPLICASETS, x.ns);
        coll = xasprintf(RS_API, x.ns);
        x.rss = podcontrol_claim(kc, coll, x.d, "apps/v1", "Deployment", sel, cands);
        json_decref(cands);
        /* working copies */
        json_t *tmp = json_deep_copy(x.rss);
        json_decref(x.rss);
        x.rss = tmp;
        sort_by_creation(x.rss);

        if (kjson_get(x.d, "metadata.deletionTimestamp")) {
                json_t *nrs, *old;
                if ((r = get_all(&x, false, &nrs, &old)) == 0)
                        r = sync_status(&x, nrs, old);
                json_decref(old);
                goto out;
        }
        if ((r = check_paused(&x)) < 0)
                goto out;
        if (kjson_bool(x.d, "spec.paused", false) || is_scaling_event(&x)) {
                r = sync_scale(&x);
                goto out;
        }
        const char *type = kjson_str(x.d, "spec.strategy.type");
        if (type && !strcmp(type, "Recreate"))
                r = rollout_recreate(&x);
        else
                r = rollout_rolling(&x);
out:
        json_decref(x.d);
        json_decref(x.rss);
        json_decref(x.dead);
        free(x.ns);
        return r;
}

void deployment_controller_init(struct controller *c)
{
        c->name = "deployment";
        c->needs = 1u << CTL_PODS | 1u << CTL_REPLICASETS | 1u << CTL_DEPLOYMENTS;
        c->on_event = on_event;
        c->sync = d_sync;
}
