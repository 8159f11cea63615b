/* volumebinding.c — claims of pods being scheduled (see volumebinding.h). */
#include "scheduler/volumebinding.h"

#include <stdio.h>

#include "common/kjson.h"
#include "common/log.h"

#define COMP "scheduler"

static bool is_default_class(const json_t *sc)
{
        const json_t *ann = kjson_get(sc, "metadata.annotations");
        const char *d = json_string_value(
                json_object_get(ann, "storageclass.kubernetes.io/is-default-class"));
        const char *bd = json_string_value(
                json_object_get(ann, "storageclass.beta.kubernetes.io/is-default-class"));
        return (d && !strcmp(d, "true")) || (bd && !strcmp(bd, "true"));
}

/* The claim's StorageClass (a class-less claim gets the default one, as the binder will give
 * it), new reference or NULL. */
static json_t *claim_class(struct kclient *c, const json_t *pvc)
{
        const char *cn = kjson_str(pvc, "spec.storageClassName");
        json_t *sc = NULL;
        if (cn && *cn) {
                _cleanup_free_ char *p = xasprintf("/apis/storage.k8s.io/v1/storageclasses/%s", cn);
                if (kclient_get(c, p, &sc, NULL) < 0)
                        return NULL;
                return sc;
        }
        if (cn) /* "": no class, static volumes only */
                return NULL;
        json_t *list = NULL, *it, *best = NULL;
        size_t i;
        if (kclient_get(c, "/apis/storage.k8s.io/v1/storageclasses", &list, NULL) < 0)
                return NULL;
        json_array_foreach(json_object_get(list, "items"), i, it)
        {
                if (is_default_class(it) &&
                    (!best || strcmp(kjson_str(it, "metadata.creationTimestamp") ?: "",
                                     kjson_str(best, "metadata.creationTimestamp") ?: "") > 0))
                        best = it;
        }
        json_incref(best);
        json_decref(list);
        return best;
}

/* Visit the pod's claims: fn(c, pod, claim name, pvc or NULL, ud); stops at a negative return. */
static int each_claim(struct kclient *c, json_t *pod,
                      int (*fn)(struct kclient *c, const char *name, json_t *pvc, void *ud),
                      void *ud)
{
        const char *ns = kjson_str(pod, "metadata.namespace") ?: "default";
        json_t *vol;
        size_t i;
        json_array_foreach(kjson_get(pod, "spec.volumes"), i, vol)
        {
                const char *claim = kjson_str(vol, "persistentVolumeClaim.claimName");
                if (!claim)
                        continue;
                json_t *pvc = NULL;
                struct error err = {0};
                _cleanup_free_ char *p =
                        xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims/%s", ns, claim);
                int r = kclient_get(c, p, &pvc, &err);
                if (r < 0 && r != -ENOENT) {
                        log_debug(COMP, "%s: %s", p, error_msg(&err));
                        return r;
                }
                r = fn(c, claim, pvc, ud);
                json_decref(pvc);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct pre {
        bool wait;
        char *node;
        char *msg;
};

static bool bound(const json_t *pvc)
{
        const char *vn = kjson_str(pvc, "spec.volumeName");
        return vn && *vn;
}

static int pre_one(struct kclient *c, const char *name, json_t *pvc, void *ud)
{
        struct pre *p = ud;
        if (!pvc) {
                p->msg = xasprintf("persistentvolumeclaim \"%s\" not found", name);
                return -ENOENT;
        }
        if (kjson_get(pvc, "metadata.deletionTimestamp")) {
                p->msg = xasprintf("persistentvolumeclaim \"%s\" is being deleted", name);
                return -ENOENT;
        }
        if (bound(pvc))
                return 0;
        json_t *sc = claim_class(c, pvc);
        bool wffc = sc && !strcmp(kjson_str(sc, "volumeBindingMode") ?: "", "WaitForFirstConsumer");
        json_decref(sc);
        if (!wffc) {
                p->msg = xstrdup("pod has unbound immediate PersistentVolumeClaims");
                return -EAGAIN;
        }
        p->wait = true;
        const char *sel = json_string_value(json_object_get(kjson_get(pvc, "metadata.annotations"),
                                                            SCHEDULER_ANN_SELECTED_NODE));
        if (sel && *sel && !p->node)
                p->node = xstrdup(sel);
        return 0;
}

int scheduler_volumes_prefilter(struct kclient *c, json_t *pod, bool *ret_wait, char **ret_node,
                                char **ret_msg)
{
        struct pre p = {0};
        int r = each_claim(c, pod, pre_one, &p);
        if (r < 0) {
                free(p.node);
                if (!p.msg)
                        p.msg = xstrdup("error getting PersistentVolumeClaims");
                *ret_msg = p.msg;
                return r;
        }
        *ret_wait = p.wait;
        *ret_node = p.node;
        return 0;
}

static int select_one(struct kclient *c, const char *name, json_t *pvc, void *ud)
{
        const char *node = ud;
        if (!pvc || bound(pvc))
                return 0;
        const json_t *ann = kjson_get(pvc, "metadata.annotations");
        if (json_string_value(json_object_get(ann, SCHEDULER_ANN_SELECTED_NODE)))
                return 0;
        struct error err = {0};
        json_t *patch = json_pack("{s:{s:{s:s}, s:s}}", "metadata", "annotations",
                                  SCHEDULER_ANN_SELECTED_NODE, node, "resourceVersion",
                                  kjson_str(pvc, "metadata.resourceVersion") ?: "");
        _cleanup_free_ char *p = xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims/%s",
                                           kjson_str(pvc, "metadata.namespace") ?: "default", name);
        int r = kclient_patch(c, p, "merge", patch, NULL, &err);
        json_decref(patch);
        if (r < 0)
                log_debug(COMP, "select node for %s: %s", p, error_msg(&err));
        return r;
}

int scheduler_volumes_select(struct kclient *c, json_t *pod, const char *node)
{
        return each_claim(c, pod, select_one, (void *)node);
}
