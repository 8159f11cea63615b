/* pvcprotection.c — the PVC protection controller (pvc_protection_controller.go): every claim
 * carries the finalizer kubernetes.io/pvc-protection (Kubernetes' admission adds it at creation,
 * its controller adds it to claims that lack it; here the controller does both), and a deleted
 * claim keeps it until no pod that is not Succeeded or Failed uses the claim any more, so a
 * volume never goes from under a running pod. Keys "<ns>/<claim>". */
#include "common/kjson.h"
#include "controllers/controllers-internal.h"
#include "controllers/util.h"

#define COMP "pvc-protection-controller"
#define FINALIZER "kubernetes.io/pvc-protection"

static void enqueue_claims_of(struct controller *c, const json_t *pod)
{
        json_t *vol;
        size_t i;
        json_array_foreach(kjson_get(pod, "spec.volumes"), i, vol)
        {
                const char *cn = kjson_str(vol, "persistentVolumeClaim.claimName");
                if (!cn)
                        continue;
                _cleanup_free_ char *k =
                        xasprintf("%s/%s", kjson_str(pod, "metadata.namespace") ?: "", cn);
                workqueue_add(c->wq, k);
        }
}

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        if (res == CTL_PVCS && cur) {
                _cleanup_free_ char *k = controllers_key(cur);
                workqueue_add(c->wq, k);
        } else if (res == CTL_PODS) {
                /* a pod went away or finished: its claims may be free now */
                const char *ph = kjson_str(cur, "status.phase") ?: "";
                if (!cur || !strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"))
                        enqueue_claims_of(c, cur ? cur : old);
        }
}

static bool has_finalizer(const json_t *pvc)
{
        json_t *f;
        size_t i;
        json_array_foreach(kjson_get(pvc, "metadata.finalizers"), i, f)
        {
                if (!strcmp(json_string_value(f) ?: "", FINALIZER))
                        return true;
        }
        return false;
}

static bool in_use(struct controller *c, const char *ns, const char *claim)
{
        json_t *pods = manager_cache_list(c->m, CTL_PODS, ns), *pod, *vol;
        size_t i, j;
        bool used = false;
        json_array_foreach(pods, i, pod)
        {
                const char *ph = kjson_str(pod, "status.phase") ?: "";
                if (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"))
                        continue;
                json_array_foreach(kjson_get(pod, "spec.volumes"), j, vol) used |=
                        !strcmp(kjson_str(vol, "persistentVolumeClaim.claimName") ?: "", claim);
        }
        json_decref(pods);
        return used;
}

static int pvcp_sync(struct controller *c, struct kclient *kc, const char *key)
{
        _cleanup_free_ char *ns = NULL;
        const char *name;
        struct error err = {0};
        controllers_key_split(key, &ns, &name);
        _cleanup_json_ json_t *pvc = manager_cache_get(c->m, CTL_PVCS, ns, name);
        if (!pvc)
                return 0;
        bool deleting = kjson_get(pvc, "metadata.deletionTimestamp") != NULL;
        bool has = has_finalizer(pvc);
        if (!deleting && has)
                return 0; /* protected */
        if (deleting && (!has || in_use(c, ns, name)))
                return 0; /* not ours to hold, or still in use (requeued when the pod goes) */
        json_t *o = json_deep_copy(pvc);
        json_t *meta = kjson_obj_ensure(o, "metadata");
        json_t *fin = json_array(), *f;
        size_t i;
        json_array_foreach(json_object_get(meta, "finalizers"), i, f)
        {
                if (strcmp(json_string_value(f) ?: "", FINALIZER))
                        json_array_append(fin, f);
        }
        if (!deleting)
                json_array_append_new(fin, json_string(FINALIZER));
        json_object_set_new(meta, "finalizers", fin);
        _cleanup_free_ char *path =
                xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims/%s", ns, name);
        int r = kclient_update(kc, path, o, NULL, &err);
        json_decref(o);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                log_debug(COMP, "%s finalizer of %s: %s", deleting ? "remove" : "add", key,
                          error_msg(&err));
        return r;
}

void pvcprotection_controller_init(struct controller *c)
{
        c->name = "pvc-protection";
        c->needs = 1u << CTL_PVCS | 1u << CTL_PODS;
        c->on_event = on_event;
        c->sync = pvcp_sync;
}
