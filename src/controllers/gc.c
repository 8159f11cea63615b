/* gc.c — the garbage collector (see gc.h). Queue keys: "d<res>/<ns>/<name>" for a dependent to
 * check, "o<res>/<ns>/<name>" for an owner being deleted with the orphan or foregroundDeletion
 * finalizer (<res> is the enum ctl_res digit). */
#include "controllers/gc.h"

#include <stdio.h>

#include "api/scheme.h"
#include "common/kjson.h"
#include "controllers/controllers-internal.h"
#include "controllers/util.h"

#define COMP "garbage-collector"

static const struct {
        const char *api_version, *kind;
        enum ctl_res res;
} cached_kinds[] = {
        {"v1", "Pod", CTL_PODS},
        {"apps/v1", "ReplicaSet", CTL_REPLICASETS},
        {"apps/v1", "Deployment", CTL_DEPLOYMENTS},
        {"batch/v1", "Job", CTL_JOBS},
        {"batch/v1", "CronJob", CTL_CRONJOBS},
        {"v1", "ReplicationController", CTL_RCS},
        {"apps/v1", "DaemonSet", CTL_DAEMONSETS},
        {"apps/v1", "StatefulSet", CTL_STATEFULSETS},
};
/* PVCs are not collected here yet: the StatefulSet controller deletes the claims its
 * persistentVolumeClaimRetentionPolicy gives up. */
static const enum ctl_res dependent_res[] = {
        CTL_PODS,       CTL_REPLICASETS,  CTL_DEPLOYMENTS,        CTL_JOBS, CTL_CRONJOBS, CTL_RCS,
        CTL_DAEMONSETS, CTL_STATEFULSETS, CTL_CONTROLLERREVISIONS};

static const char *const res_base[CTL_RES_N][2] = {
        [CTL_PODS] = {"/api/v1", "pods"},
        [CTL_REPLICASETS] = {"/apis/apps/v1", "replicasets"},
        [CTL_DEPLOYMENTS] = {"/apis/apps/v1", "deployments"},
        [CTL_JOBS] = {"/apis/batch/v1", "jobs"},
        [CTL_CRONJOBS] = {"/apis/batch/v1", "cronjobs"},
        [CTL_RCS] = {"/api/v1", "replicationcontrollers"},
        [CTL_DAEMONSETS] = {"/apis/apps/v1", "daemonsets"},
        [CTL_STATEFULSETS] = {"/apis/apps/v1", "statefulsets"},
        [CTL_CONTROLLERREVISIONS] = {"/apis/apps/v1", "controllerrevisions"},
};

static char *object_path(enum ctl_res res, const json_t *obj)
{
        return xasprintf("%s/namespaces/%s/%s/%s", res_base[res][0],
                         kjson_str(obj, "metadata.namespace") ?: "", res_base[res][1],
                         kjson_str(obj, "metadata.name") ?: "");
}

char *gc_owner_collection(const json_t *ref, const char *ns)
{
        const char *av = json_string_value(json_object_get(ref, "apiVersion"));
        const char *kind = json_string_value(json_object_get(ref, "kind"));
        if (!av || !kind)
                return NULL;
        const char *slash = strchr(av, '/');
        _cleanup_free_ char *group = slash ? xstrndup(av, (size_t)(slash - av)) : xstrdup("");
        const char *version = slash ? slash + 1 : av;
        const struct scheme_resource *r = scheme_lookup_kind(group, kind);
        if (!r)
                return NULL;
        _cleanup_free_ char *base =
                *group ? xasprintf("/apis/%s/%s", group, version) : xasprintf("/api/%s", version);
        if (r->namespaced)
                return xasprintf("%s/namespaces/%s/%s", base, ns ? ns : "", r->resource);
        return xasprintf("%s/%s", base, r->resource);
}

static bool has_finalizer(const json_t *obj, const char *f)
{
        json_t *v;
        size_t i;
        json_array_foreach(kjson_get(obj, "metadata.finalizers"), i, v)
        {
                if (json_is_string(v) && !strcmp(json_string_value(v), f))
                        return true;
        }
        return false;
}

static void enqueue(struct controller *c, char type, enum ctl_res res, const json_t *obj)
{
        _cleanup_free_ char *k = xasprintf("%c%c/%s/%s", type, (char)('A' + res),
                                           kjson_str(obj, "metadata.namespace") ?: "",
                                           kjson_str(obj, "metadata.name") ?: "");
        workqueue_add(c->wq, k);
}

/* Every cached dependent in ns that references uid. */
static void enqueue_dependents(struct controller *c, const char *ns, const char *uid)
{
        for (size_t d = 0; d < ARRAY_SIZE(dependent_res); d++) {
                json_t *all = manager_cache_list(c->m, dependent_res[d], ns);
                json_t *o;
                size_t i;
                json_array_foreach(all, i, o)
                {
                        json_t *ref;
                        size_t k;
                        json_array_foreach(kjson_get(o, "metadata.ownerReferences"), k, ref)
                        {
                                if (!strcmp(json_string_value(json_object_get(ref, "uid")) ?: "",
                                            uid))
                                        enqueue(c, 'd', dependent_res[d], o);
                        }
                }
                json_decref(all);
        }
}

static bool being_collected(const json_t *obj)
{
        return kjson_get(obj, "metadata.deletionTimestamp") &&
               (has_finalizer(obj, "orphan") || has_finalizer(obj, "foregroundDeletion"));
}

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        const json_t *obj = cur ? cur : old;
        if (!res_base[res][0])
                return; /* namespaces, serviceaccounts: not collected here */
        if (cur && json_array_size(kjson_get(cur, "metadata.ownerReferences")))
                enqueue(c, 'd', res, cur);
        if (cur && being_collected(cur))
                enqueue(c, 'o', res, cur);
        if (!cur) {
                /* an owner is gone: check its dependents; a dependent is gone: owners in
                 * foreground deletion may finish */
                enqueue_dependents(c, kjson_str(obj, "metadata.namespace"),
                                   kjson_str(obj, "metadata.uid") ?: "");
                json_t *ref;
                size_t k;
                json_array_foreach(kjson_get(obj, "metadata.ownerReferences"), k, ref)
                {
                        for (size_t i = 0; i < ARRAY_SIZE(cached_kinds); i++) {
                                if (strcmp(json_string_value(json_object_get(ref, "kind")) ?: "",
                                           cached_kinds[i].kind))
                                        continue;
                                _cleanup_free_ char *key = xasprintf(
                                        "o%c/%s/%s", (char)('A' + cached_kinds[i].res),
                                        kjson_str(obj, "metadata.namespace") ?: "",
                                        json_string_value(json_object_get(ref, "name")) ?: "");
                                workqueue_add(c->wq, key);
                        }
                }
        }
}

enum owner_state { OWNER_ABSENT, OWNER_WAITING, OWNER_SOLID };

/* Look the owner up: cache first, then a live GET; errors other than 404 are returned. */
static int owner_state(struct controller *c, struct kclient *kc, const json_t *ref, const char *ns,
                       enum owner_state *ret)
{
        const char *uid = json_string_value(json_object_get(ref, "uid")) ?: "";
        const char *name = json_string_value(json_object_get(ref, "name")) ?: "";
        const char *kind = json_string_value(json_object_get(ref, "kind")) ?: "";
        json_t *owner = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(cached_kinds); i++) {
                if (!strcmp(kind, cached_kinds[i].kind))
                        owner = manager_cache_get(c->m, cached_kinds[i].res, ns, name);
        }
        if (!owner || strcmp(kjson_str(owner, "metadata.uid") ?: "", uid)) {
                json_decref(owner);
                owner = NULL;
                _cleanup_free_ char *coll = gc_owner_collection(ref, ns);
                if (!coll) {
                        /* a kind the server does not serve: as good as absent (Kubernetes
                         * treats unresolvable references the same way after rediscovery) */
                        *ret = OWNER_ABSENT;
                        return 0;
                }
                struct error err = {0};
                _cleanup_free_ char *path = xasprintf("%s/%s", coll, name);
                int r = kclient_get(kc, path, &owner, &err);
                if (r == -ENOENT) {
                        *ret = OWNER_ABSENT;
                        return 0;
                }
                if (r < 0)
                        return r;
                if (strcmp(kjson_str(owner, "metadata.uid") ?: "", uid)) {
                        json_decref(owner);
                        *ret = OWNER_ABSENT;
                        return 0;
                }
        }
        *ret = kjson_get(owner, "metadata.deletionTimestamp") &&
                               has_finalizer(owner, "foregroundDeletion")
                       ? OWNER_WAITING
                       : OWNER_SOLID;
        json_decref(owner);
        return 0;
}

static int delete_with(struct kclient *kc, enum ctl_res res, const json_t *obj, const char *policy)
{
        struct error err = {0};
        _cleanup_free_ char *path = object_path(res, obj);
        json_t *opts = json_pack("{s:s, s:s, s:s, s:{s:s}}", "kind", "DeleteOptions", "apiVersion",
                                 "v1", "propagationPolicy", policy, "preconditions", "uid",
                                 kjson_str(obj, "metadata.uid") ?: "");
        int r = kclient_delete(kc, path, opts, NULL, &err);
        json_decref(opts);
        if (r == -ENOENT || r == -ESTALE)
                return 0;
        if (r < 0)
                log_debug(COMP, "delete %s: %s", path, error_msg(&err));
        else
                log_info(COMP, "deleted %s (%s)", path, policy);
        return r;
}

/* Merge-patch metadata.ownerReferences without the refs whose uid is in drop (object uid ->
 * true), with the resourceVersion as precondition. */
static int remove_refs(struct kclient *kc, enum ctl_res res, const json_t *obj, const json_t *drop)
{
        struct error err = {0};
        json_t *refs = json_array();
        json_t *ref;
        size_t i;
        json_array_foreach(kjson_get(obj, "metadata.ownerReferences"), i, ref)
        {
                if (!json_object_get(drop, json_string_value(json_object_get(ref, "uid")) ?: ""))
                        json_array_append(refs, ref);
        }
        json_t *patch =
                json_pack("{s:{s:o, s:s}}", "metadata", "ownerReferences",
                          json_array_size(refs) ? refs : (json_decref(refs), json_null()),
                          "resourceVersion", kjson_str(obj, "metadata.resourceVersion") ?: "");
        _cleanup_free_ char *path = object_path(res, obj);
        int r = kclient_patch(kc, path, "merge", patch, NULL, &err);
        json_decref(patch);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                log_debug(COMP, "patch %s: %s", path, error_msg(&err));
        return r;
}

static int sync_dependent(struct controller *c, struct kclient *kc, enum ctl_res res,
                          const char *ns, const char *name)
{
        _cleanup_json_ json_t *obj = manager_cache_get(c->m, res, ns, name);
        if (!obj || !json_array_size(kjson_get(obj, "metadata.ownerReferences")))
                return 0;
        if (kjson_get(obj, "metadata.deletionTimestamp") && !being_collected(obj))
                return 0; /* already going away */
        _cleanup_json_ json_t *drop = json_object();
        size_t n_solid = 0, n_waiting = 0, n_absent = 0;
        json_t *ref;
        size_t i;
        json_array_foreach(kjson_get(obj, "metadata.ownerReferences"), i, ref)
        {
                enum owner_state st;
                int r = owner_state(c, kc, ref, ns, &st);
                if (r < 0)
                        return r;
                const char *uid = json_string_value(json_object_get(ref, "uid")) ?: "";
                if (st == OWNER_SOLID) {
                        n_solid++;
                } else {
                        json_object_set_new(drop, uid, json_true());
                        if (st == OWNER_WAITING)
                                n_waiting++;
                        else
                                n_absent++;
                }
        }
        if (n_solid) {
                return json_object_size(drop) ? remove_refs(kc, res, obj, drop) : 0;
        }
        if (kjson_get(obj, "metadata.deletionTimestamp"))
                return 0;
        const char *policy = "Background";
        if (has_finalizer(obj, "orphan"))
                policy = "Orphan";
        else if (has_finalizer(obj, "foregroundDeletion") || (n_waiting && res != CTL_PODS))
                policy = "Foreground";
        return delete_with(kc, res, obj, policy);
}

static int remove_finalizer(struct kclient *kc, enum ctl_res res, const json_t *obj, const char *f)
{
        struct error err = {0};
        json_t *fins = json_array();
        json_t *v;
        size_t i;
        json_array_foreach(kjson_get(obj, "metadata.finalizers"), i, v)
        {
                if (!json_is_string(v) || strcmp(json_string_value(v), f))
                        json_array_append(fins, v);
        }
        json_t *patch =
                json_pack("{s:{s:o, s:s}}", "metadata", "finalizers",
                          json_array_size(fins) ? fins : (json_decref(fins), json_null()),
                          "resourceVersion", kjson_str(obj, "metadata.resourceVersion") ?: "");
        _cleanup_free_ char *path = object_path(res, obj);
        int r = kclient_patch(kc, path, "merge", patch, NULL, &err);
        json_decref(patch);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                log_debug(COMP, "finalizer %s of %s: %s", f, path, error_msg(&err));
        else
                log_info(COMP, "removed finalizer %s of %s", f, path);
        return r;
}

static int sync_owner(struct controller *c, struct kclient *kc, enum ctl_res res, const char *ns,
                      const char *name, const char *key)
{
        _cleanup_json_ json_t *owner = manager_cache_get(c->m, res, ns, name);
        if (!owner || !being_collected(owner))
                return 0;
        const char *uid = kjson_str(owner, "metadata.uid") ?: "";
        bool orphan = has_finalizer(owner, "orphan");
        size_t blocking = 0;
        int r = 0;
        _cleanup_json_ json_t *drop = json_pack("{s:b}", uid, 1);
        for (size_t d = 0; d < ARRAY_SIZE(dependent_res); d++) {
                enum ctl_res dr = dependent_res[d];
                _cleanup_json_ json_t *all = manager_cache_list(c->m, dr, ns);
                json_t *o;
                size_t i;
                json_array_foreach(all, i, o)
                {
                        json_t *ref;
                        size_t k;
                        json_array_foreach(kjson_get(o, "metadata.ownerReferences"), k, ref)
                        {
                                if (strcmp(json_string_value(json_object_get(ref, "uid")) ?: "",
                                           uid))
                                        continue;
                                if (orphan) {
                                        if ((r = remove_refs(kc, dr, o, drop)) < 0)
                                                return r;
                                } else {
                                        if (json_is_true(
                                                    json_object_get(ref, "blockOwnerDeletion")))
                                                blocking++;
                                        if (!kjson_get(o, "metadata.deletionTimestamp") &&
                                            (r = delete_with(kc, dr, o,
                                                             dr == CTL_PODS ? "Background"
                                                                            : "Foreground")) < 0)
                                                return r;
                                }
                                break;
                        }
                }
        }
        if (orphan)
                return remove_finalizer(kc, res, owner, "orphan");
        if (blocking) {
                workqueue_add_after(c->wq, key, 1000); /* dependents still terminating */
                return 0;
        }
        return remove_finalizer(kc, res, owner, "foregroundDeletion");
}

static int gc_sync(struct controller *c, struct kclient *kc, const char *key)
{
        char type = key[0];
        int res = key[1] - 'A'; /* one letter per resource (keys enqueue() builds) */
        if (res < 0 || res >= CTL_RES_N || key[2] != '/')
                return 0;
        _cleanup_free_ char *ns = NULL;
        const char *name;
        controllers_key_split(key + 3, &ns, &name);
        if (type == 'o')
                return sync_owner(c, kc, (enum ctl_res)res, ns, name, key);
        return sync_dependent(c, kc, (enum ctl_res)res, ns, name);
}

void gc_controller_init(struct controller *c)
{
        c->name = "garbage-collector";
        c->needs = 1u << CTL_PODS | 1u << CTL_REPLICASETS | 1u << CTL_DEPLOYMENTS | 1u << CTL_JOBS |
                   1u << CTL_CRONJOBS | 1u << CTL_RCS | 1u << CTL_DAEMONSETS |
                   1u << CTL_STATEFULSETS | 1u << CTL_CONTROLLERREVISIONS;
        c->on_event = on_event;
        c->sync = gc_sync;
}
