/* serviceaccount.c — the ServiceAccount controller (serviceaccounts_controller.go): every active
 * namespace has a ServiceAccount "default"; it is recreated when deleted. */
#include "common/kjson.h"
#include "controllers/controllers-internal.h"
#include "controllers/util.h"

#define COMP "serviceaccount-controller"

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        if (res == CTL_NAMESPACES && cur) {
                workqueue_add(c->wq, kjson_str(cur, "metadata.name") ?: "");
        } else if (res == CTL_SERVICEACCOUNTS && !cur &&
                   !strcmp(kjson_str(old, "metadata.name") ?: "", "default")) {
                workqueue_add(c->wq, kjson_str(old, "metadata.namespace") ?: "");
        }
}

static int sa_sync(struct controller *c, struct kclient *kc, const char *ns)
{
        _cleanup_json_ json_t *nsobj = manager_cache_get(c->m, CTL_NAMESPACES, NULL, ns);
        if (!nsobj || kjson_get(nsobj, "metadata.deletionTimestamp") ||
            !strcmp(kjson_str(nsobj, "status.phase") ?: "", "Terminating"))
                return 0;
        _cleanup_json_ json_t *sa = manager_cache_get(c->m, CTL_SERVICEACCOUNTS, ns, "default");
        if (sa)
                return 0;
        struct error err = {0};
        json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
                                "ServiceAccount", "metadata", "name", "default", "namespace", ns);
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/serviceaccounts", ns);
        int r = kclient_create(kc, path, obj, NULL, &err);
        json_decref(obj);
        if (r == -EEXIST || r == -ENOENT || r == -EACCES)
                return 0; /* there already, or the namespace went away / is terminating */
        if (r < 0)
                log_debug(COMP, "create default serviceaccount in %s: %s", ns, error_msg(&err));
        return r;
}

void serviceaccount_controller_init(struct controller *c)
{
        c->name = "serviceaccount";
        c->needs = 1u << CTL_NAMESPACES | 1u << CTL_SERVICEACCOUNTS;
        c->on_event = on_event;
        c->sync = sa_sync;
}
