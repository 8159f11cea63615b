/* namespace.c — the namespace controller (pkg/controller/namespace/deletion): a namespace being
 * deleted (deletionTimestamp set, phase Terminating) gets its content deleted (pods gracefully;
 * objects already being deleted are waited for, their finalizers respected) and its status
 * conditions as Kubernetes words them (NamespaceDeletionDiscoveryFailure,
 * NamespaceDeletionGroupVersionParsingFailure, NamespaceDeletionContentFailure,
 * NamespaceContentRemaining, NamespaceFinalizersRemaining); once nothing is left the
 * `kubernetes` finalizer is dropped from spec.finalizers and the namespace is removed (the API
 * server removes an empty terminating namespace on the DELETE the controller repeats). */
#include <stdio.h>

#include "common/kjson.h"
#include "controllers/controllers-internal.h"
#include "controllers/util.h"

#define COMP "namespace-controller"
#define RECHECK_MS 1000

/* Every namespaced resource the API server serves (a resource it does not serve answers 404 and
 * is skipped). Ordered as the deletion goes: workloads before their pods. */
static const struct {
        const char *prefix; /* "/api/v1" or "/apis/GROUP/VERSION" */
        const char *resource;
        const char *group; /* for the condition messages ("pods." for core) */
} ns_resources[] = {
        {"/apis/apps/v1", "deployments", "apps"},
        {"/apis/apps/v1", "statefulsets", "apps"},
        {"/apis/apps/v1", "daemonsets", "apps"},
        {"/apis/apps/v1", "replicasets", "apps"},
        {"/apis/batch/v1", "cronjobs", "batch"},
        {"/apis/batch/v1", "jobs", "batch"},
        {"/api/v1", "replicationcontrollers", ""},
        {"/api/v1", "pods", ""},
        {"/api/v1", "services", ""},
        {"/api/v1", "endpoints", ""},
        {"/apis/discovery.k8s.io/v1", "endpointslices", "discovery.k8s.io"},
        {"/api/v1", "configmaps", ""},
        {"/api/v1", "secrets", ""},
        {"/api/v1", "serviceaccounts", ""},
        {"/api/v1", "persistentvolumeclaims", ""},
        {"/api/v1", "podtemplates", ""},
        {"/api/v1", "limitranges", ""},
        {"/api/v1", "resourcequotas", ""},
        {"/apis/apps/v1", "controllerrevisions", "apps"},
        {"/apis/policy/v1", "poddisruptionbudgets", "policy"},
        {"/apis/networking.k8s.io/v1", "ingresses", "networking.k8s.io"},
        {"/apis/networking.k8s.io/v1", "networkpolicies", "networking.k8s.io"},
        {"/apis/rbac.authorization.k8s.io/v1", "roles", "rbac.authorization.k8s.io"},
        {"/apis/rbac.authorization.k8s.io/v1", "rolebindings", "rbac.authorization.k8s.io"},
        {"/apis/coordination.k8s.io/v1", "leases", "coordination.k8s.io"},
        {"/apis/autoscaling/v2", "horizontalpodautoscalers", "autoscaling"},
        {"/api/v1", "events", ""},
};

static void ns_on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        (void)old;
        if (res == CTL_NAMESPACES && cur && kjson_get(cur, "metadata.deletionTimestamp"))
                workqueue_add(c->wq, kjson_str(cur, "metadata.name") ?: "");
}

static json_t *condition(const char *type, const char *status, const char *reason,
                         const char *message, const json_t *old_conds)
{
        char now[32];
        controllers_now(now);
        const char *since = now;
        json_t *o;
        size_t i;
        json_array_foreach(old_conds, i, o)
        {
                if (!strcmp(kjson_str(o, "type") ?: "", type) &&
                    !strcmp(kjson_str(o, "status") ?: "", status) &&
                    kjson_str(o, "lastTransitionTime"))
                        since = kjson_str(o, "lastTransitionTime");
        }
        return json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", type, "status", status, "reason",
                         reason, "message", message, "lastTransitionTime", since);
}

/* Append "what" to a ", "-separated list in buf. */
static void list_add(char *buf, size_t size, const char *what)
{
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", len ? ", " : "", what);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int ns_sync(struct controller *c, struct kclient *kc, const char *name)
{
        struct error err = {0};
        _cleanup_free_ char *ns_path = xasprintf("/api/v1/namespaces/%s", name);
        _cleanup_json_ json_t *ns = NULL;
        int r = kclient_get(kc, ns_path, &ns, &err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (!kjson_get(ns, "metadata.deletionTimestamp"))
                return 0;

        char remaining[1024] = "", finalizers[1024] = "", failures[512] = "";
        size_t n_remaining = 0;
        _cleanup_json_ json_t *rem = json_object();  /* "pods." -> count */
        _cleanup_json_ json_t *fins = json_object(); /* finalizer -> count */
        for (size_t i = 0; i < ARRAY_SIZE(ns_resources); i++) {
                _cleanup_free_ char *path = xasprintf("%s/namespaces/%s/%s", ns_resources[i].prefix,
                                                      name, ns_resources[i].resource);
                _cleanup_json_ json_t *list = NULL;
                r = kclient_get(kc, path, &list, &err);
                if (r == -ENOENT || r == -EACCES)
                        continue;
                if (r < 0) {
                        list_add(failures, sizeof(failures), ns_resources[i].resource);
                        continue;
                }
                json_t *items = json_object_get(list, "items"), *it;
                size_t k;
                json_array_foreach(items, k, it)
                {
                        json_t *f;
                        size_t fi;
                        json_array_foreach(kjson_get(it, "metadata.finalizers"), fi, f)
                        {
                                const char *fn = json_string_value(f) ?: "";
                                json_object_set_new(
                                        fins, fn,
                                        json_integer(json_integer_value(json_object_get(fins, fn)) +
                                                     1));
                        }
                        if (kjson_get(it, "metadata.deletionTimestamp"))
                                continue; /* being deleted: wait for it */
                        _cleanup_free_ char *ip =
                                xasprintf("%s/%s", path, kjson_str(it, "metadata.name") ?: "");
                        json_t *opts =
                                json_pack("{s:s, s:s, s:s}", "kind", "DeleteOptions", "apiVersion",
                                          "v1", "propagationPolicy", "Background");
                        r = kclient_delete(kc, ip, opts, NULL, &err);
                        json_decref(opts);
                        if (r < 0 && r != -ENOENT)
                                list_add(failures, sizeof(failures), ns_resources[i].resource);
                }
                if (json_array_size(items)) {
                        _cleanup_free_ char *rk =
                                xasprintf("%s.%s", ns_resources[i].resource, ns_resources[i].group);
                        json_object_set_new(rem, rk,
                                            json_integer((json_int_t)json_array_size(items)));
                        n_remaining += json_array_size(items);
                }
        }
        /* the messages list them sorted, as the Go controller does */
        const char **keys =
                xcalloc(json_object_size(rem) + json_object_size(fins) + 1, sizeof(*keys));
        const char *key;
        json_t *val;
        size_t nk = 0;
        json_object_foreach(rem, key, val) keys[nk++] = key;
        qsort(keys, nk, sizeof(*keys), cmp_str);
        for (size_t k = 0; k < nk; k++) {
                char what[200];
                snprintf(what, sizeof(what), "%s has %lld resource instances", keys[k],
                         (long long)json_integer_value(json_object_get(rem, keys[k])));
                list_add(remaining, sizeof(remaining), what);
        }
        nk = 0;
        json_object_foreach(fins, key, val) keys[nk++] = key;
        qsort(keys, nk, sizeof(*keys), cmp_str);
        for (size_t k = 0; k < nk; k++) {
                char what[300];
                snprintf(what, sizeof(what), "%s in %lld resource instances", keys[k],
                         (long long)json_integer_value(json_object_get(fins, keys[k])));
                list_add(finalizers, sizeof(finalizers), what);
        }
        free(keys);

        json_t *old = kjson_get(ns, "status.conditions");
        _cleanup_free_ char *rem_msg = xasprintf("Some resources are remaining: %s", remaining);
        _cleanup_free_ char *fin_msg =
                xasprintf("Some content in the namespace has finalizers remaining: %s", finalizers);
        _cleanup_free_ char *fail_msg =
                xasprintf("Failed to delete all resource types, %s", failures);
        json_t *conds = json_array();
        json_array_append_new(conds, condition("NamespaceDeletionDiscoveryFailure", "False",
                                               "ResourcesDiscovered",
                                               "All resources successfully discovered", old));
        json_array_append_new(conds, condition("NamespaceDeletionGroupVersionParsingFailure",
                                               "False", "ParsedGroupVersions",
                                               "All legacy kube types successfully parsed", old));
        json_array_append_new(
                conds,
                *failures ? condition("NamespaceDeletionContentFailure", "True",
                                      "ContentDeletionFailed", fail_msg, old)
                          : condition("NamespaceDeletionContentFailure", "False", "ContentDeleted",
                                      "All content successfully deleted, may be waiting "
                                      "on finalization",
                                      old));
        json_array_append_new(conds, *remaining
                                             ? condition("NamespaceContentRemaining", "True",
                                                         "SomeResourcesRemain", rem_msg, old)
                                             : condition("NamespaceContentRemaining", "False",
                                                         "ContentRemoved",
                                                         "All content successfully removed", old));
        json_array_append_new(
                conds, *finalizers ? condition("NamespaceFinalizersRemaining", "True",
                                               "SomeFinalizersRemain", fin_msg, old)
                                   : condition("NamespaceFinalizersRemaining", "False",
                                               "ContentHasNoFinalizers",
                                               "All content-preserving finalizers finished", old));
        if (!json_equal(old, conds)) {
                json_t *patch = json_pack("{s:{s:s, s:O}}", "status", "phase", "Terminating",
                                          "conditions", conds);
                _cleanup_free_ char *sp = xasprintf("%s/status", ns_path);
                if (kclient_patch(kc, sp, "merge", patch, NULL, &err) < 0)
                        log_debug(COMP, "namespace %s status: %s", name, error_msg(&err));
                json_decref(patch);
        }
        json_decref(conds);

        if (n_remaining == 0) {
                /* finalize: drop the "kubernetes" finalizer, then the API server removes the
                 * empty namespace on the repeated DELETE */
                json_t *specf = kjson_get(ns, "spec.finalizers"), *f, *keep = json_array();
                size_t k;
                json_array_foreach(specf, k, f)
                {
                        if (strcmp(json_string_value(f) ?: "", "kubernetes"))
                                json_array_append(keep, f);
                }
                if (json_array_size(keep) != json_array_size(specf)) {
                        json_t *patch = json_pack("{s:{s:O}}", "spec", "finalizers", keep);
                        r = kclient_patch(kc, ns_path, "merge", patch, NULL, &err);
                        if (r < 0)
                                log_debug(COMP, "namespace %s finalizers: %s", name,
                                          error_msg(&err));
                        json_decref(patch);
                }
                json_decref(keep);
                r = kclient_delete(kc, ns_path, NULL, NULL, &err);
                if (r == -ENOENT || r == 0)
                        log_info(COMP, "namespace %s: content deleted, finalized", name);
        }
        /* level-triggered: look again until the namespace is gone */
        workqueue_add_after(c->wq, name, RECHECK_MS);
        return 0;
}

void namespace_controller_init(struct controller *c)
{
        c->name = "namespace";
        c->needs = 1u << CTL_NAMESPACES;
        c->on_event = ns_on_event;
        c->sync = ns_sync;
}
