/* pvbinder.c — the PersistentVolume binder (pv_controller.go, reduced): binds each unbound
 * claim to the smallest Available volume that fits it (storageClassName, accessModes, capacity,
 * volumeMode, selector, and for WaitForFirstConsumer claims the selected node against the
 * volume's node affinity), writing the volume's claimRef then the claim's volumeName and
 * status; hands claims no volume fits to their class's provisioner (annotation
 * volume.kubernetes.io/storage-provisioner); gives claims without a class the default
 * StorageClass (retroactive default, as Kubernetes since 1.28); keeps volume phases
 * (Available, Bound, Released) and claim phases (Pending, Bound, Lost). Keys: "pvc:<ns>/<name>"
 * and "pv:<name>". */
#include <stdio.h>

#include "api/labels.h"
#include "api/quantity.h"
#include "common/kjson.h"
#include "controllers/controllers-internal.h"
#include "controllers/util.h"

#define COMP "persistentvolume-binder"
#define ANN_SELECTED_NODE "volume.kubernetes.io/selected-node"
#define ANN_PROVISIONER "volume.kubernetes.io/storage-provisioner"
#define ANN_PROVISIONER_BETA "volume.beta.kubernetes.io/storage-provisioner"
#define ANN_BIND_COMPLETED "pv.kubernetes.io/bind-completed"
#define ANN_BOUND_BY_CONTROLLER "pv.kubernetes.io/bound-by-controller"

/* An annotation (keys have dots, which kjson_str's paths cannot hold). */
static const char *ann_str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(kjson_get(obj, "metadata.annotations"), key));
}

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        const json_t *o = cur ? cur : old;
        if (res == CTL_PVCS) {
                _cleanup_free_ char *k = controllers_key(o);
                _cleanup_free_ char *key = xasprintf("pvc:%s", k);
                workqueue_add(c->wq, key);
                const char *vn = kjson_str(o, "spec.volumeName");
                if (vn && *vn) {
                        _cleanup_free_ char *pk = xasprintf("pv:%s", vn);
                        workqueue_add(c->wq, pk);
                }
        } else if (res == CTL_PVS) {
                _cleanup_free_ char *key = xasprintf("pv:%s", kjson_str(o, "metadata.name") ?: "");
                workqueue_add(c->wq, key);
                const char *cn = kjson_str(o, "spec.claimRef.name");
                if (cn) {
                        _cleanup_free_ char *ck = xasprintf(
                                "pvc:%s/%s", kjson_str(o, "spec.claimRef.namespace") ?: "", cn);
                        workqueue_add(c->wq, ck);
                }
                /* a volume became available: pending claims may fit now */
                if (!kjson_get(o, "spec.claimRef")) {
                        json_t *all = manager_cache_list(c->m, CTL_PVCS, NULL);
                        json_t *pvc;
                        size_t i;
                        json_array_foreach(all, i, pvc)
                        {
                                if (kjson_str(pvc, "spec.volumeName"))
                                        continue;
                                _cleanup_free_ char *k = controllers_key(pvc);
                                _cleanup_free_ char *ck = xasprintf("pvc:%s", k);
                                workqueue_add(c->wq, ck);
                        }
                        json_decref(all);
                }
        } else if (res == CTL_STORAGECLASSES && !old) {
                /* a (default) class appeared: claims without one may get it */
                json_t *all = manager_cache_list(c->m, CTL_PVCS, NULL);
                json_t *pvc;
                size_t i;
                json_array_foreach(all, i, pvc)
                {
                        _cleanup_free_ char *k = controllers_key(pvc);
                        _cleanup_free_ char *ck = xasprintf("pvc:%s", k);
                        workqueue_add(c->wq, ck);
                }
                json_decref(all);
        }
}

static bool is_default_class(const json_t *sc)
{
        const json_t *ann = kjson_get(sc, "metadata.annotations");
        const char *d = json_string_value(
                json_object_get(ann, "storageclass.kubernetes.io/is-default-class"));
        const char *bd = json_string_value(
                json_object_get(ann, "storageclass.beta.kubernetes.io/is-default-class"));
        return (d && !strcmp(d, "true")) || (bd && !strcmp(bd, "true"));
}

/* The newest default class (GetDefaultClass), new reference or NULL. */
static json_t *default_class(struct controller *c)
{
        json_t *all = manager_cache_list(c->m, CTL_STORAGECLASSES, NULL);
        json_t *best = NULL, *sc;
        size_t i;
        json_array_foreach(all, i, sc)
        {
                if (!is_default_class(sc))
                        continue;
                if (!best || strcmp(kjson_str(sc, "metadata.creationTimestamp") ?: "",
                                    kjson_str(best, "metadata.creationTimestamp") ?: "") > 0)
                        best = sc;
        }
        json_incref(best);
        json_decref(all);
        return best;
}

static bool has_modes(const json_t *pv, const json_t *pvc)
{
        json_t *m, *n;
        size_t i, j;
        json_array_foreach(kjson_get(pvc, "spec.accessModes"), i, m)
        {
                bool found = false;
                json_array_foreach(kjson_get(pv, "spec.accessModes"), j, n) found |=
                        json_equal(m, n);
                if (!found)
                        return false;
        }
        return true;
}

static int64_t storage_of(const json_t *obj, const char *path)
{
        const char *s = kjson_str(obj, path);
        struct quantity q;
        if (!s || quantity_parse(s, &q, NULL) < 0)
                return -1;
        return quantity_value(&q);
}

/* Whether pv can serve pvc (checkVolumeSatisfyClaim + the binder's availability rules). */
static bool pv_fits(struct controller *c, const json_t *pv, const json_t *pvc, const char *node)
{
        const json_t *ref = kjson_get(pv, "spec.claimRef");
        if (ref) {
                if (strcmp(kjson_str(ref, "name") ?: "", kjson_str(pvc, "metadata.name") ?: "") ||
                    strcmp(kjson_str(ref, "namespace") ?: "",
                           kjson_str(pvc, "metadata.namespace") ?: ""))
                        return false;
                const char *uid = kjson_str(ref, "uid");
                if (uid && *uid && strcmp(uid, kjson_str(pvc, "metadata.uid") ?: ""))
                        return false;
        }
        const char *ph = kjson_str(pv, "status.phase") ?: "";
        if (!strcmp(ph, "Released") || !strcmp(ph, "Failed") ||
            kjson_get(pv, "metadata.deletionTimestamp"))
                return false;
        if (strcmp(kjson_str(pv, "spec.storageClassName") ?: "",
                   kjson_str(pvc, "spec.storageClassName") ?: ""))
                return false;
        if (strcmp(kjson_str(pv, "spec.volumeMode") ?: "Filesystem",
                   kjson_str(pvc, "spec.volumeMode") ?: "Filesystem"))
                return false;
        if (!has_modes(pv, pvc))
                return false;
        int64_t want = storage_of(pvc, "spec.resources.requests.storage");
        int64_t have = storage_of(pv, "spec.capacity.storage");
        if (want < 0 || have < want)
                return false;
        const json_t *sj = kjson_get(pvc, "spec.selector");
        if (sj) {
                _cleanup_(labels_selector_freep) struct labels_selector *sel = NULL;
                if (labels_selector_from_json(sj, &sel, NULL) < 0 ||
                    !labels_selector_matches(sel, kjson_get(pv, "metadata.labels")))
                        return false;
        }
        const json_t *na = kjson_get(pv, "spec.nodeAffinity.required");
        if (node && na) {
                json_t *n = manager_cache_get(c->m, CTL_NODES, NULL, node);
                bool ok = n && labels_node_selector_matches(na, n);
                json_decref(n);
                if (!ok)
                        return false;
        }
        return true;
}

static int put_status(struct kclient *kc, const char *path, const json_t *obj, json_t *status)
{
        struct error err = {0};
        json_t *o = json_deep_copy(obj);
        json_object_set(o, "status", status);
        _cleanup_free_ char *sp = xasprintf("%s/status", path);
        int r = kclient_update(kc, sp, o, NULL, &err);
        json_decref(o);
        if (r < 0 && r != -ENOENT)
                log_debug(COMP, "status of %s: %s", path, error_msg(&err));
        return r == -ENOENT ? 0 : r;
}

static int pv_set_phase(struct kclient *kc, const json_t *pv, const char *phase)
{
        if (!strcmp(kjson_str(pv, "status.phase") ?: "", phase))
                return 0;
        char now[32];
        controllers_now(now);
        json_t *st = json_deep_copy(kjson_get(pv, "status"));
        if (!json_is_object(st)) {
                json_decref(st);
                st = json_object();
        }
        json_object_set_new(st, "phase", json_string(phase));
        json_object_set_new(st, "lastPhaseTransitionTime", json_string(now));
        _cleanup_free_ char *path =
                xasprintf("/api/v1/persistentvolumes/%s", kjson_str(pv, "metadata.name") ?: "");
        int r = put_status(kc, path, pv, st);
        json_decref(st);
        return r;
}

static char *pvc_path(const json_t *pvc)
{
        return xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims/%s",
                         kjson_str(pvc, "metadata.namespace") ?: "",
                         kjson_str(pvc, "metadata.name") ?: "");
}

/* The claim's side once the volume points at it: volumeName, then status Bound. */
static int finish_claim(struct kclient *kc, const json_t *pvc, const json_t *pv)
{
        struct error err = {0};
        _cleanup_free_ char *path = pvc_path(pvc);
        json_t *cur = json_incref((json_t *)pvc);
        int r = 0;
        if (!kjson_str(pvc, "spec.volumeName") || !ann_str(pvc, ANN_BIND_COMPLETED)) {
                json_t *o = json_deep_copy(pvc);
                json_object_set_new(kjson_obj_ensure(o, "spec"), "volumeName",
                                    json_string(kjson_str(pv, "metadata.name") ?: ""));
                json_t *ann = kjson_obj_ensure(kjson_obj_ensure(o, "metadata"), "annotations");
                json_object_set_new(ann, ANN_BIND_COMPLETED, json_string("yes"));
                json_object_set_new(ann, ANN_BOUND_BY_CONTROLLER, json_string("yes"));
                json_decref(cur);
                cur = NULL;
                r = kclient_update(kc, path, o, &cur, &err);
                json_decref(o);
                if (r < 0) {
                        log_debug(COMP, "bind %s: %s", path, error_msg(&err));
                        return r;
                }
        }
        json_t *st = json_pack("{s:s, s:O, s:O}", "phase", "Bound", "accessModes",
                               kjson_get(pv, "spec.accessModes") ?: json_array(), "capacity",
                               kjson_get(pv, "spec.capacity") ?: json_object());
        json_t *old = kjson_get(cur, "status");
        if (!kjson_equal(json_object_get(old, "phase"), json_object_get(st, "phase")) ||
            !kjson_equal(json_object_get(old, "capacity"), json_object_get(st, "capacity")))
                r = put_status(kc, path, cur, st);
        json_decref(st);
        json_decref(cur);
        return r;
}

static int sync_claim(struct controller *c, struct kclient *kc, const char *key)
{
        _cleanup_free_ char *ns = NULL;
        const char *name;
        struct error err = {0};
        controllers_key_split(key, &ns, &name);
        _cleanup_json_ json_t *pvc = manager_cache_get(c->m, CTL_PVCS, ns, name);
        if (!pvc || kjson_get(pvc, "metadata.deletionTimestamp"))
                return 0;
        _cleanup_free_ char *path = pvc_path(pvc);
        json_t *cls = kjson_get(pvc, "spec.storageClassName");
        if (!cls || json_is_null(cls)) {
                _cleanup_json_ json_t *def = default_class(c);
                if (!def || kjson_str(pvc, "spec.volumeName"))
                        goto classed;
                json_t *o = json_deep_copy(pvc);
                json_object_set_new(kjson_obj_ensure(o, "spec"), "storageClassName",
                                    json_string(kjson_str(def, "metadata.name") ?: ""));
                int r = kclient_update(kc, path, o, NULL, &err);
                json_decref(o);
                if (r < 0 && r != -ENOENT)
                        log_debug(COMP, "default class for %s: %s", path, error_msg(&err));
                return r == -ENOENT ? 0 : r;
        }
classed:;
        const char *vn = kjson_str(pvc, "spec.volumeName");
        if (vn && *vn) {
                _cleanup_json_ json_t *pv = manager_cache_get(c->m, CTL_PVS, NULL, vn);
                if (!pv) {
                        if (!strcmp(kjson_str(pvc, "status.phase") ?: "", "Bound")) {
                                manager_event(kc, COMP, pvc, "Warning", "ClaimLost",
                                              "Bound claim has lost reference to "
                                              "PersistentVolume. Data on the volume is lost!");
                                json_t *st = json_pack("{s:s}", "phase", "Lost");
                                int r = put_status(kc, path, pvc, st);
                                json_decref(st);
                                return r;
                        }
                        return 0;
                }
                const char *ruid = kjson_str(pv, "spec.claimRef.uid");
                if (ruid && *ruid && strcmp(ruid, kjson_str(pvc, "metadata.uid") ?: ""))
                        return 0; /* the volume is someone else's: stays Pending */
                if (!ruid || !*ruid) {
                        /* pre-bound claim: the volume's side first */
                        json_t *o = json_deep_copy(pv);
                        json_object_set_new(
                                kjson_obj_ensure(o, "spec"), "claimRef",
                                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind",
                                          "PersistentVolumeClaim", "apiVersion", "v1", "namespace",
                                          ns, "name", name, "uid",
                                          kjson_str(pvc, "metadata.uid") ?: "", "resourceVersion",
                                          kjson_str(pvc, "metadata.resourceVersion") ?: ""));
                        _cleanup_free_ char *pp = xasprintf("/api/v1/persistentvolumes/%s", vn);
                        int r = kclient_update(kc, pp, o, NULL, &err);
                        json_decref(o);
                        return r;
                }
                return finish_claim(kc, pvc, pv);
        }
        /* unbound */
        const char *cn = kjson_str(pvc, "spec.storageClassName") ?: "";
        _cleanup_json_ json_t *sc =
                *cn ? manager_cache_get(c->m, CTL_STORAGECLASSES, NULL, cn) : NULL;
        bool wffc = sc && !strcmp(kjson_str(sc, "volumeBindingMode") ?: "", "WaitForFirstConsumer");
        const char *node = ann_str(pvc, ANN_SELECTED_NODE);
        if (wffc && !node)
                return 0; /* WaitForFirstConsumer: the scheduler picks the node first */
        _cleanup_json_ json_t *pvs = manager_cache_list(c->m, CTL_PVS, NULL);
        json_t *best = NULL, *pv;
        int64_t best_cap = 0;
        size_t i;
        json_array_foreach(pvs, i, pv)
        {
                if (!pv_fits(c, pv, pvc, wffc ? node : NULL))
                        continue;
                int64_t cap = storage_of(pv, "spec.capacity.storage");
                /* a volume pre-bound to this claim wins */
                bool pre = kjson_get(pv, "spec.claimRef") != NULL;
                if (!best || pre || (cap < best_cap && !kjson_get(best, "spec.claimRef"))) {
                        best = pv;
                        best_cap = cap;
                }
        }
        if (best) {
                const char *pvn = kjson_str(best, "metadata.name") ?: "";
                if (!kjson_str(best, "spec.claimRef.uid") ||
                    !*kjson_str(best, "spec.claimRef.uid")) {
                        json_t *o = json_deep_copy(best);
                        json_object_set_new(
                                kjson_obj_ensure(o, "spec"), "claimRef",
                                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind",
                                          "PersistentVolumeClaim", "apiVersion", "v1", "namespace",
                                          ns, "name", name, "uid",
                                          kjson_str(pvc, "metadata.uid") ?: "", "resourceVersion",
                                          kjson_str(pvc, "metadata.resourceVersion") ?: ""));
                        json_object_set_new(
                                kjson_obj_ensure(kjson_obj_ensure(o, "metadata"), "annotations"),
                                ANN_BOUND_BY_CONTROLLER, json_string("yes"));
                        _cleanup_free_ char *pp = xasprintf("/api/v1/persistentvolumes/%s", pvn);
                        json_t *got = NULL;
                        int r = kclient_update(kc, pp, o, &got, &err);
                        json_decref(o);
                        if (r < 0) {
                                log_debug(COMP, "bind %s to %s: %s", key, pvn, error_msg(&err));
                                return r;
                        }
                        r = finish_claim(kc, pvc, got);
                        json_decref(got);
                        return r;
                }
                return finish_claim(kc, pvc, best);
        }
        const char *prov = sc ? kjson_str(sc, "provisioner") : NULL;
        if (prov && *prov && strcmp(prov, "kubernetes.io/no-provisioner") &&
            !kjson_get(pvc, "spec.selector")) {
                if (strcmp(ann_str(pvc, ANN_PROVISIONER) ?: "", prov)) {
                        json_t *o = json_deep_copy(pvc);
                        json_t *ann =
                                kjson_obj_ensure(kjson_obj_ensure(o, "metadata"), "annotations");
                        json_object_set_new(ann, ANN_PROVISIONER, json_string(prov));
                        json_object_set_new(ann, ANN_PROVISIONER_BETA, json_string(prov));
                        int r = kclient_update(kc, path, o, NULL, &err);
                        json_decref(o);
                        if (r == 0)
                                manager_event(
                                        kc, COMP, pvc, "Normal", "ExternalProvisioning",
                                        "Waiting for a volume to be created either by the external "
                                        "provisioner '%s' or manually by the system administrator. "
                                        "If volume creation is delayed, please verify that the "
                                        "provisioner is running and correctly registered.",
                                        prov);
                        return r == -ENOENT ? 0 : r;
                }
                return 0;
        }
        if (strcmp(kjson_str(pvc, "status.phase") ?: "", "Pending")) {
                json_t *st = json_pack("{s:s}", "phase", "Pending");
                put_status(kc, path, pvc, st);
                json_decref(st);
        }
        return 0;
}

static int sync_volume(struct controller *c, struct kclient *kc, const char *name)
{
        _cleanup_json_ json_t *pv = manager_cache_get(c->m, CTL_PVS, NULL, name);
        if (!pv || kjson_get(pv, "metadata.deletionTimestamp"))
                return 0;
        const json_t *ref = kjson_get(pv, "spec.claimRef");
        if (!ref)
                return pv_set_phase(kc, pv, "Available");
        const char *uid = kjson_str(ref, "uid");
        if (!uid || !*uid)
                return pv_set_phase(kc, pv, "Available");
        _cleanup_json_ json_t *pvc = manager_cache_get(c->m, CTL_PVCS, kjson_str(ref, "namespace"),
                                                       kjson_str(ref, "name"));
        if (pvc && !strcmp(kjson_str(pvc, "metadata.uid") ?: "", uid))
                return pv_set_phase(kc, pv, "Bound");
        /* the claim is gone: Released; the reclaim policy decides the rest */
        if (!pvc) {
                /* the cache may lag behind a fresh claim: make sure it is gone */
                struct error err = {0};
                json_t *got = NULL;
                _cleanup_free_ char *pp =
                        xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims/%s",
                                  kjson_str(ref, "namespace") ?: "", kjson_str(ref, "name") ?: "");
                int r = kclient_get(kc, pp, &got, &err);
                bool same = r == 0 && !strcmp(kjson_str(got, "metadata.uid") ?: "", uid);
                json_decref(got);
                if (r < 0 && r != -ENOENT)
                        return r;
                if (same)
                        return 0;
        }
        int r = pv_set_phase(kc, pv, "Released");
        if (r == 0 && strcmp(kjson_str(pv, "status.phase") ?: "", "Released"))
                manager_event(kc, COMP, pv, "Normal", "VolumeReleased",
                              "Volume %s released by deletion of its claim", name);
        return r;
}

static int pvb_sync(struct controller *c, struct kclient *kc, const char *key)
{
        if (!strncmp(key, "pvc:", 4))
                return sync_claim(c, kc, key + 4);
        if (!strncmp(key, "pv:", 3))
                return sync_volume(c, kc, key + 3);
        return 0;
}

void pvbinder_controller_init(struct controller *c)
{
        c->name = "persistentvolume-binder";
        c->needs = 1u << CTL_PVCS | 1u << CTL_PVS | 1u << CTL_STORAGECLASSES | 1u << CTL_NODES;
        c->on_event = on_event;
        c->sync = pvb_sync;
}
