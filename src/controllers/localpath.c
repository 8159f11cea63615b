/* localpath.c — the built-in local-path provisioner (like k3s' rancher.io/local-path) and the
 * default StorageClass `local-path` (volumeBindingMode WaitForFirstConsumer, reclaimPolicy
 * Delete, annotated the default class), created when the manager first leads.
 *
 * Provisioning: a claim of a class with provisioner rancher.io/local-path that the binder handed
 * over (annotation volume.kubernetes.io/storage-provisioner) and the scheduler placed
 * (volume.kubernetes.io/selected-node) gets a PersistentVolume pvc-<claim uid> pre-bound to it:
 * hostPath <storage dir>/<pv>_<ns>_<claim> (type DirectoryOrCreate: the node's kubelet creates
 * the directory) with node affinity to the selected node. Deletion: a Released volume of ours
 * with reclaimPolicy Delete has its directory removed (on this host, below the storage dir only)
 * and is deleted, once no pod uses its claim any more. Keys: "@storageclass", "pvc:<ns>/<name>",
 * "pv:<name>". */

#include <ftw.h>
#include <stdio.h>
#include <unistd.h>

#include "common/kjson.h"
#include "controllers/controllers-internal.h"
#include "controllers/util.h"

#define COMP "local-path-provisioner"
#define PROVISIONER "rancher.io/local-path"
#define CLASS_NAME "local-path"
#define ANN_SELECTED_NODE "volume.kubernetes.io/selected-node"
#define ANN_PROVISIONER "volume.kubernetes.io/storage-provisioner"
#define ANN_PROVISIONER_BETA "volume.beta.kubernetes.io/storage-provisioner"
#define ANN_PROVISIONED_BY "pv.kubernetes.io/provisioned-by"

/* An annotation (keys have dots, which kjson_str's paths cannot hold). */
static const char *ann_str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(kjson_get(obj, "metadata.annotations"), key));
}

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        const json_t *o = cur ? cur : old;
        if (res == CTL_PVCS && cur) {
                _cleanup_free_ char *k = controllers_key(o);
                _cleanup_free_ char *key = xasprintf("pvc:%s", k);
                workqueue_add(c->wq, key);
        } else if (res == CTL_PVS && cur) {
                _cleanup_free_ char *key = xasprintf("pv:%s", kjson_str(o, "metadata.name") ?: "");
                workqueue_add(c->wq, key);
        } else if (res == CTL_PODS && !cur) {
                /* a pod using a claim is gone: a released volume may be reclaimed now */
                json_t *vol;
                size_t i;
                json_array_foreach(kjson_get(o, "spec.volumes"), i, vol)
                {
                        const char *cn = kjson_str(vol, "persistentVolumeClaim.claimName");
                        if (!cn)
                                continue;
                        json_t *pvs = manager_cache_list(c->m, CTL_PVS, NULL), *pv;
                        size_t j;
                        json_array_foreach(pvs, j, pv)
                        {
                                if (strcmp(kjson_str(pv, "spec.claimRef.name") ?: "", cn) ||
                                    strcmp(kjson_str(pv, "spec.claimRef.namespace") ?: "",
                                           kjson_str(o, "metadata.namespace") ?: ""))
                                        continue;
                                _cleanup_free_ char *key =
                                        xasprintf("pv:%s", kjson_str(pv, "metadata.name") ?: "");
                                workqueue_add(c->wq, key);
                        }
                        json_decref(pvs);
                }
        }
}

/* Whether a pod in ns still uses claim (its volume must not go from under it; Kubernetes keeps
 * such claims with the pvc-protection finalizer). */
static bool claim_in_use(struct controller *c, const char *ns, const char *claim)
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

static int ensure_class(struct controller *c, struct kclient *kc)
{
        json_t *sc = manager_cache_get(c->m, CTL_STORAGECLASSES, NULL, CLASS_NAME);
        if (sc) {
                json_decref(sc);
                return 0;
        }
        struct error err = {0};
        json_t *o = json_pack(
                "{s:s, s:s, s:{s:s, s:{s:s}}, s:s, s:s, s:s}", "apiVersion", "storage.k8s.io/v1",
                "kind", "StorageClass", "metadata", "name", CLASS_NAME, "annotations",
                "storageclass.kubernetes.io/is-default-class", "true", "provisioner", PROVISIONER,
                "reclaimPolicy", "Delete", "volumeBindingMode", "WaitForFirstConsumer");
        int r = kclient_create(kc, "/apis/storage.k8s.io/v1/storageclasses", o, NULL, &err);
        json_decref(o);
        if (r == -EEXIST)
                return 0;
        if (r < 0)
                log_warn(COMP, "create StorageClass %s: %s", CLASS_NAME, error_msg(&err));
        else
                log_info(COMP, "created the default StorageClass %s", CLASS_NAME);
        return r;
}

static bool ours(const json_t *pvc)
{
        const char *a = ann_str(pvc, ANN_PROVISIONER);
        const char *b = ann_str(pvc, ANN_PROVISIONER_BETA);
        return (a && !strcmp(a, PROVISIONER)) || (b && !strcmp(b, PROVISIONER));
}

static int provision(struct controller *c, struct kclient *kc, const char *key)
{
        _cleanup_free_ char *ns = NULL;
        const char *name;
        struct error err = {0};
        controllers_key_split(key, &ns, &name);
        _cleanup_json_ json_t *pvc = manager_cache_get(c->m, CTL_PVCS, ns, name);
        if (!pvc || kjson_get(pvc, "metadata.deletionTimestamp") ||
            kjson_str(pvc, "spec.volumeName") || !ours(pvc))
                return 0;
        const char *node = ann_str(pvc, ANN_SELECTED_NODE);
        const char *dir = manager_storage_dir(c->m);
        if (!node || !*node || !dir)
                return 0;
        const char *cn = kjson_str(pvc, "spec.storageClassName") ?: "";
        _cleanup_json_ json_t *sc = manager_cache_get(c->m, CTL_STORAGECLASSES, NULL, cn);
        if (!sc || strcmp(kjson_str(sc, "provisioner") ?: "", PROVISIONER))
                return 0;
        _cleanup_free_ char *pv_name = xasprintf("pvc-%s", kjson_str(pvc, "metadata.uid") ?: "");
        json_t *have = manager_cache_get(c->m, CTL_PVS, NULL, pv_name);
        if (have) {
                json_decref(have);
                return 0;
        }
        const char *req = kjson_str(pvc, "spec.resources.requests.storage");
        if (!req)
                return 0;
        _cleanup_json_ json_t *n = manager_cache_get(c->m, CTL_NODES, NULL, node);
        json_t *hl = json_object_get(kjson_get(n, "metadata.labels"), "kubernetes.io/hostname");
        const char *host = json_string_value(hl);
        json_t *term = host ? json_pack("{s:[{s:s, s:s, s:[s]}]}", "matchExpressions", "key",
                                        "kubernetes.io/hostname", "operator", "In", "values", host)
                            : json_pack("{s:[{s:s, s:s, s:[s]}]}", "matchFields", "key",
                                        "metadata.name", "operator", "In", "values", node);
        _cleanup_free_ char *path = xasprintf("%s/%s_%s_%s", dir, pv_name, ns, name);
        json_t *modes = kjson_get(pvc, "spec.accessModes");
        json_t *pv = json_pack(
                "{s:s, s:s, s:{s:s, s:{s:s, s:s}}, s:{s:{s:s}, s:O, s:s, s:s, s:s,"
                " s:{s:s, s:s}, s:{s:{s:[o]}}, s:{s:s, s:s, s:s, s:s, s:s, s:s}}}",
                "apiVersion", "v1", "kind", "PersistentVolume", "metadata", "name", pv_name,
                "annotations", ANN_PROVISIONED_BY, PROVISIONER,
                "local.path.provisioner/selected-node", node, "spec", "capacity", "storage", req,
                "accessModes", modes ? modes : json_array(), "persistentVolumeReclaimPolicy",
                kjson_str(sc, "reclaimPolicy") ?: "Delete", "storageClassName", cn, "volumeMode",
                kjson_str(pvc, "spec.volumeMode") ?: "Filesystem", "hostPath", "path", path, "type",
                "DirectoryOrCreate", "nodeAffinity", "required", "nodeSelectorTerms", term,
                "claimRef", "kind", "PersistentVolumeClaim", "apiVersion", "v1", "namespace", ns,
                "name", name, "uid", kjson_str(pvc, "metadata.uid") ?: "", "resourceVersion",
                kjson_str(pvc, "metadata.resourceVersion") ?: "");
        int r = kclient_create(kc, "/api/v1/persistentvolumes", pv, NULL, &err);
        json_decref(pv);
        if (r == -EEXIST)
                return 0;
        if (r < 0) {
                manager_event(kc, COMP, pvc, "Warning", "ProvisioningFailed",
                              "failed to provision volume with StorageClass \"%s\": %s", cn,
                              error_msg(&err));
                return r;
        }
        manager_event(kc, COMP, pvc, "Normal", "ProvisioningSucceeded",
                      "Successfully provisioned volume %s", pv_name);
        return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        if (remove(path) < 0 && errno != ENOENT)
                log_debug(COMP, "remove %s: %m", path);
        return 0;
}

static int reclaim(struct controller *c, struct kclient *kc, const char *name)
{
        _cleanup_json_ json_t *pv = manager_cache_get(c->m, CTL_PVS, NULL, name);
        if (!pv || kjson_get(pv, "metadata.deletionTimestamp"))
                return 0;
        if (strcmp(ann_str(pv, ANN_PROVISIONED_BY) ?: "", PROVISIONER) ||
            strcmp(kjson_str(pv, "status.phase") ?: "", "Released") ||
            strcmp(kjson_str(pv, "spec.persistentVolumeReclaimPolicy") ?: "", "Delete"))
                return 0;
        if (claim_in_use(c, kjson_str(pv, "spec.claimRef.namespace"),
                         kjson_str(pv, "spec.claimRef.name") ?: ""))
                return 0; /* requeued when the pod goes */
        const char *path = kjson_str(pv, "spec.hostPath.path");
        const char *dir = manager_storage_dir(c->m);
        size_t dl = dir ? strlen(dir) : 0;
        if (path && dir && !strncmp(path, dir, dl) && path[dl] == '/' && !strstr(path, "/..") &&
            strchr(path + dl + 1, '/') == NULL)
                nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        struct error err = {0};
        _cleanup_free_ char *pp = xasprintf("/api/v1/persistentvolumes/%s", name);
        int r = kclient_delete(kc, pp, NULL, NULL, &err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                log_debug(COMP, "delete %s: %s", pp, error_msg(&err));
        return r;
}

static int lp_sync(struct controller *c, struct kclient *kc, const char *key)
{
        if (!strcmp(key, "@storageclass"))
                return ensure_class(c, kc);
        if (!strncmp(key, "pvc:", 4))
                return provision(c, kc, key + 4);
        if (!strncmp(key, "pv:", 3))
                return reclaim(c, kc, key + 3);
        return 0;
}

void localpath_controller_init(struct controller *c)
{
        c->name = "local-path-provisioner";
        c->needs = 1u << CTL_PVCS | 1u << CTL_PVS | 1u << CTL_STORAGECLASSES | 1u << CTL_NODES |
                   1u << CTL_PODS;
        c->on_event = on_event;
        c->sync = lp_sync;
        workqueue_add(c->wq, "@storageclass");
}
