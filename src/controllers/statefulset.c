/* statefulset.c — the StatefulSet controller (see statefulset.h). */
#include "controllers/statefulset.h"

#include <stdio.h>
#include <time.h>

#include "api/labels.h"
#include "common/kjson.h"
#include "controllers/controllers-internal.h"
#include "controllers/history.h"
#include "controllers/podcontrol.h"
#include "controllers/util.h"

#define COMP "statefulset-controller"
#define HASH_LABEL "controller-revision-hash"
#define POD_NAME_LABEL "statefulset.kubernetes.io/pod-name"
#define POD_INDEX_LABEL "apps.kubernetes.io/pod-index"

/* ---- pure part ---- */

int64_t statefulset_ordinal(const char *set_name, const char *pod_name)
{
        size_t l = strlen(set_name);
        if (!pod_name || strncmp(pod_name, set_name, l) || pod_name[l] != '-')
                return -1;
        const char *d = pod_name + l + 1;
        if (!*d || (d[0] == '0' && d[1]) || strlen(d) > 9)
                return -1;
        int64_t n = 0;
        for (; *d; d++) {
                if (*d < '0' || *d > '9')
                        return -1;
                n = n * 10 + (*d - '0');
        }
        return n;
}

static char *pod_name(const json_t *set, int64_t ord)
{
        return xasprintf("%s-%lld", kjson_str(set, "metadata.name") ?: "", (long long)ord);
}

static char *claim_name(const json_t *tmpl, const json_t *set, int64_t ord)
{
        return xasprintf("%s-%s-%lld", kjson_str(tmpl, "metadata.name") ?: "",
                         kjson_str(set, "metadata.name") ?: "", (long long)ord);
}

json_t *statefulset_pod_new(const json_t *set, const json_t *rev, int64_t ord)
{
        json_t *tmpl = json_deep_copy(history_template(rev));
        if (!json_is_object(tmpl)) {
                json_decref(tmpl);
                tmpl = json_deep_copy(kjson_get(set, "spec.template"));
        }
        json_object_del(tmpl, "$patch");
        json_t *pod = podcontrol_pod_from_template(tmpl, set, "apps/v1", "StatefulSet");
        json_decref(tmpl);
        _cleanup_free_ char *name = pod_name(set, ord);
        json_t *meta = json_object_get(pod, "metadata");
        json_object_del(meta, "generateName");
        json_object_set_new(meta, "name", json_string(name));
        json_t *labels = kjson_obj_ensure(meta, "labels");
        char idx[24];
        snprintf(idx, sizeof(idx), "%lld", (long long)ord);
        json_object_set_new(labels, POD_NAME_LABEL, json_string(name));
        json_object_set_new(labels, POD_INDEX_LABEL, json_string(idx));
        json_object_set_new(labels, HASH_LABEL, json_string(kjson_str(rev, "metadata.name") ?: ""));
        json_t *spec = kjson_obj_ensure(pod, "spec");
        json_object_set_new(spec, "hostname", json_string(name));
        const char *svc = kjson_str(set, "spec.serviceName");
        if (svc && *svc)
                json_object_set_new(spec, "subdomain", json_string(svc));
        /* the claims replace same-named volumes of the template */
        json_t *tmpls = kjson_get(set, "spec.volumeClaimTemplates");
        if (json_array_size(tmpls)) {
                json_t *vols = json_object_get(spec, "volumes");
                json_t *out = json_array();
                json_t *v, *t;
                size_t i, j;
                json_array_foreach(vols, i, v)
                {
                        bool shadowed = false;
                        json_array_foreach(tmpls, j, t) shadowed |= !strcmp(
                                kjson_str(t, "metadata.name") ?: "", kjson_str(v, "name") ?: "");
                        if (!shadowed)
                                json_array_append(out, v);
                }
                json_array_foreach(tmpls, j, t)
                {
                        _cleanup_free_ char *cn = claim_name(t, set, ord);
                        json_array_append_new(out,
                                              json_pack("{s:s, s:{s:s}}", "name",
                                                        kjson_str(t, "metadata.name") ?: "",
                                                        "persistentVolumeClaim", "claimName", cn));
                }
                json_object_set_new(spec, "volumes", out);
        }
        return pod;
}

json_t *statefulset_claims_new(const json_t *set, int64_t ord)
{
        json_t *out = json_array();
        json_t *t;
        size_t i;
        bool del = !strcmp(kjson_str(set, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted")
                                   ?: "",
                           "Delete");
        json_array_foreach(kjson_get(set, "spec.volumeClaimTemplates"), i, t)
        {
                _cleanup_free_ char *cn = claim_name(t, set, ord);
                json_t *labels = json_deep_copy(kjson_get(t, "metadata.labels"));
                if (!json_is_object(labels)) {
                        json_decref(labels);
                        labels = json_object();
                }
                json_object_update(labels, kjson_get(set, "spec.selector.matchLabels"));
                json_t *pvc =
                        json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:O}", "apiVersion", "v1", "kind",
                                  "PersistentVolumeClaim", "metadata", "name", cn, "namespace",
                                  kjson_str(set, "metadata.namespace") ?: "default", "labels",
                                  labels, "spec", kjson_get(t, "spec") ?: json_object());
                json_t *ann = kjson_get(t, "metadata.annotations");
                if (json_object_size(ann))
                        json_object_set(json_object_get(pvc, "metadata"), "annotations", ann);
                if (del) {
                        json_t *ref = controllers_owner_ref_new(set, "apps/v1", "StatefulSet");
                        json_object_del(ref, "controller");
                        json_object_set_new(json_object_get(pvc, "metadata"), "ownerReferences",
                                            json_pack("[o]", ref));
                }
                json_array_append_new(out, pvc);
        }
        return out;
}

/* ---- controller ---- */

static char *pod_owner_key(const json_t *pod)
{
        json_t *ref = controllers_controller_ref(pod);
        if (!ref || strcmp(json_string_value(json_object_get(ref, "kind")) ?: "", "StatefulSet"))
                return NULL;
        return xasprintf("%s/%s", kjson_str(pod, "metadata.namespace") ?: "",
                         json_string_value(json_object_get(ref, "name")) ?: "");
}

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        if (res == CTL_STATEFULSETS) {
                _cleanup_free_ char *k = controllers_key(cur ? cur : old);
                workqueue_add(c->wq, k);
                return;
        }
        if (res != CTL_PODS)
                return;
        _cleanup_free_ char *owner = pod_owner_key(cur ? cur : old);
        if (owner)
                workqueue_add(c->wq, owner);
        if (owner && old && cur && !controllers_pod_is_ready(old) &&
            controllers_pod_is_ready(cur)) {
                char *ns = NULL;
                const char *name;
                controllers_key_split(owner, &ns, &name);
                json_t *set = manager_cache_get(c->m, CTL_STATEFULSETS, ns, name);
                int64_t mr = kjson_int(set, "spec.minReadySeconds", 0);
                if (mr > 0)
                        workqueue_add_after(c->wq, owner, mr * 1000 + 100);
                json_decref(set);
                free(ns);
        }
}

static bool running_and_ready(const json_t *pod)
{
        return !strcmp(kjson_str(pod, "status.phase") ?: "", "Running") &&
               controllers_pod_is_ready(pod);
}

static bool terminating(const json_t *pod)
{
        return kjson_get(pod, "metadata.deletionTimestamp") != NULL;
}

static bool finished(const json_t *pod)
{
        const char *ph = kjson_str(pod, "status.phase") ?: "";
        return !strcmp(ph, "Failed") || !strcmp(ph, "Succeeded");
}

static const char *revision_of(const json_t *pod)
{
        return kjson_str(pod, "metadata.labels." HASH_LABEL) ?: "";
}

/* Create the claims of ordinal ord that the cache does not show. */
static int create_claims(struct controller *c, struct kclient *kc, const json_t *set, int64_t ord)
{
        const char *ns = kjson_str(set, "metadata.namespace") ?: "default";
        _cleanup_json_ json_t *claims = statefulset_claims_new(set, ord);
        _cleanup_free_ char *coll = xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims", ns);
        json_t *pvc;
        size_t i;
        json_array_foreach(claims, i, pvc)
        {
                const char *cn = kjson_str(pvc, "metadata.name");
                json_t *have = manager_cache_get(c->m, CTL_PVCS, ns, cn);
                if (have) {
                        json_decref(have);
                        continue;
                }
                struct error err = {0};
                int r = kclient_create(kc, coll, pvc, NULL, &err);
                if (r == -EEXIST)
                        continue;
                if (r < 0) {
                        manager_event(kc, COMP, set, "Warning", "FailedCreate",
                                      "create Claim %s for Pod %s-%lld in StatefulSet %s failed "
                                      "error: %s",
                                      cn, kjson_str(set, "metadata.name") ?: "", (long long)ord,
                                      kjson_str(set, "metadata.name") ?: "", error_msg(&err));
                        return r;
                }
                manager_event(kc, COMP, set, "Normal", "SuccessfulCreate",
                              "create Claim %s Pod %s-%lld in StatefulSet %s success", cn,
                              kjson_str(set, "metadata.name") ?: "", (long long)ord,
                              kjson_str(set, "metadata.name") ?: "");
        }
        return 0;
}

static int create_pod(struct controller *c, struct kclient *kc, const json_t *set,
                      const json_t *rev, int64_t ord)
{
        int r = create_claims(c, kc, set, ord);
        if (r < 0)
                return r;
        struct error err = {0};
        json_t *pod = statefulset_pod_new(set, rev, ord);
        r = podcontrol_create(kc, pod, NULL, &err);
        const char *name = kjson_str(pod, "metadata.name") ?: "";
        const char *sn = kjson_str(set, "metadata.name") ?: "";
        if (r == -EEXIST)
                r = 0;
        else if (r < 0)
                manager_event(kc, COMP, set, "Warning", "FailedCreate",
                              "create Pod %s in StatefulSet %s failed error: %s", name, sn,
                              error_msg(&err));
        else
                manager_event(kc, COMP, set, "Normal", "SuccessfulCreate",
                              "create Pod %s in StatefulSet %s successful", name, sn);
        json_decref(pod);
        return r;
}

static int delete_pod(struct kclient *kc, const json_t *set, const json_t *pod)
{
        struct error err = {0};
        const char *name = kjson_str(pod, "metadata.name") ?: "";
        const char *sn = kjson_str(set, "metadata.name") ?: "";
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s",
                                              kjson_str(pod, "metadata.namespace") ?: "", name);
        json_t *opts = json_pack("{s:{s:s}}", "preconditions", "uid",
                                 kjson_str(pod, "metadata.uid") ?: "");
        int r = kclient_delete(kc, path, opts, NULL, &err);
        json_decref(opts);
        if (r == -ENOENT || r == -ESTALE)
                return 0;
        if (r < 0)
                manager_event(kc, COMP, set, "Warning", "FailedDelete",
                              "delete Pod %s in StatefulSet %s failed error: %s", name, sn,
                              error_msg(&err));
        else
                manager_event(kc, COMP, set, "Normal", "SuccessfulDelete",
                              "delete Pod %s in StatefulSet %s successful", name, sn);
        return r;
}

/* whenScaled: Delete — remove the claims of ordinals outside [start, end) that have no pod. */
static void delete_scaled_claims(struct controller *c, struct kclient *kc, const json_t *set,
                                 int64_t start, int64_t end, const json_t *pods_by_ord)
{
        const char *ns = kjson_str(set, "metadata.namespace") ?: "default";
        const char *sn = kjson_str(set, "metadata.name") ?: "";
        _cleanup_json_ json_t *pvcs = manager_cache_list(c->m, CTL_PVCS, ns);
        json_t *pvc, *t;
        size_t i, j;
        json_array_foreach(pvcs, i, pvc)
        {
                const char *cn = kjson_str(pvc, "metadata.name") ?: "";
                if (kjson_get(pvc, "metadata.deletionTimestamp"))
                        continue;
                json_array_foreach(kjson_get(set, "spec.volumeClaimTemplates"), j, t)
                {
                        const char *tn = kjson_str(t, "metadata.name") ?: "";
                        size_t tl = strlen(tn);
                        if (strncmp(cn, tn, tl) || cn[tl] != '-')
                                continue;
                        int64_t ord = statefulset_ordinal(sn, cn + tl + 1);
                        char k[24];
                        snprintf(k, sizeof(k), "%lld", (long long)ord);
                        if (ord < 0 || (ord >= start && ord < end) ||
                            json_object_get(pods_by_ord, k))
                                continue;
                        struct error err = {0};
                        _cleanup_free_ char *path = xasprintf(
                                "/api/v1/namespaces/%s/persistentvolumeclaims/%s", ns, cn);
                        if (kclient_delete(kc, path, NULL, NULL, &err) < 0)
                                log_debug(COMP, "delete %s: %s", path, error_msg(&err));
                }
        }
}

static int update_status(struct kclient *kc, const json_t *set, json_t *status)
{
        int r = podcontrol_put_status(kc, "/apis/apps/v1", "statefulsets", set, status, NULL);
        return r == -ENOENT ? 0 : r;
}

static int sts_sync(struct controller *c, struct kclient *kc, const char *key)
{
        _cleanup_free_ char *ns = NULL;
        const char *name;
        struct error err = {0};
        controllers_key_split(key, &ns, &name);
        _cleanup_json_ json_t *set = manager_cache_get(c->m, CTL_STATEFULSETS, ns, name);
        if (!set || kjson_get(set, "metadata.deletionTimestamp"))
                return 0;
        _cleanup_(labels_selector_freep) struct labels_selector *sel = NULL;
        if (labels_selector_from_json(kjson_get(set, "spec.selector"), &sel, &err) < 0 ||
            labels_selector_is_empty(sel)) {
                log_debug(COMP, "%s: selector: %s", key, error_msg(&err));
                return 0;
        }
        int64_t collision = kjson_int(set, "status.collisionCount", 0);
        _cleanup_json_ json_t *upd = NULL, *revs = NULL;
        int r = history_sync(c->m, kc, set, "StatefulSet", &collision, &upd, &revs, &err);
        if (r < 0) {
                log_warn(COMP, "%s: revisions: %s", key, error_msg(&err));
                return r;
        }
        const char *upd_name = kjson_str(upd, "metadata.name") ?: "";
        json_t *cur = upd;
        const char *cur_name = kjson_str(set, "status.currentRevision");
        json_t *rv;
        size_t i;
        json_array_foreach(revs, i, rv)
        {
                if (cur_name && !strcmp(kjson_str(rv, "metadata.name") ?: "", cur_name))
                        cur = rv;
        }
        cur_name = kjson_str(cur, "metadata.name") ?: "";

        _cleanup_json_ json_t *all = manager_cache_list(c->m, CTL_PODS, ns);
        _cleanup_free_ char *coll = xasprintf("/api/v1/namespaces/%s/pods", ns);
        _cleanup_json_ json_t *pods =
                podcontrol_claim(kc, coll, set, "apps/v1", "StatefulSet", sel, all);
        int64_t replicas = kjson_int(set, "spec.replicas", 1);
        int64_t start = kjson_int(set, "spec.ordinals.start", 0);
        int64_t min_ready = kjson_int(set, "spec.minReadySeconds", 0);
        bool monotonic = strcmp(kjson_str(set, "spec.podManagementPolicy") ?: "OrderedReady",
                                "Parallel") != 0;
        bool rolling = !strcmp(kjson_str(set, "spec.updateStrategy.type") ?: "RollingUpdate",
                               "RollingUpdate");
        int64_t partition = kjson_int(set, "spec.updateStrategy.rollingUpdate.partition", 0);
        time_t now = time(NULL);
        _cleanup_json_ json_t *by_ord = json_object();
        json_t *condemned = json_array(); /* highest ordinal first */
        int64_t n_pods = 0, n_ready = 0, n_avail = 0, n_cur = 0, n_upd = 0;
        json_t *pod;
        json_array_foreach(pods, i, pod)
        {
                int64_t ord = statefulset_ordinal(name, kjson_str(pod, "metadata.name"));
                if (ord < 0)
                        continue;
                char k[24];
                snprintf(k, sizeof(k), "%lld", (long long)ord);
                json_object_set(by_ord, k, pod);
                n_pods++;
                if (running_and_ready(pod)) {
                        n_ready++;
                        if (controllers_pod_is_available(pod, min_ready, now))
                                n_avail++;
                }
                if (!terminating(pod)) {
                        n_cur += !strcmp(revision_of(pod), cur_name);
                        n_upd += !strcmp(revision_of(pod), upd_name);
                }
                if (ord < start || ord >= start + replicas) {
                        size_t at = 0;
                        while (at < json_array_size(condemned) &&
                               statefulset_ordinal(name, kjson_str(json_array_get(condemned, at),
                                                                   "metadata.name")) > ord)
                                at++;
                        json_array_insert(condemned, at, pod);
                }
        }

        bool stop = false;
        int op = 0;
        for (int64_t ord = start; ord < start + replicas && !stop; ord++) {
                char k[24];
                snprintf(k, sizeof(k), "%lld", (long long)ord);
                pod = json_object_get(by_ord, k);
                if (!pod) {
                        bool use_cur = rolling && ord - start < partition;
                        op = create_pod(c, kc, set, use_cur ? cur : upd, ord);
                        stop = monotonic || op < 0;
                } else if (finished(pod) && !terminating(pod)) {
                        op = delete_pod(kc, set, pod);
                        stop = monotonic || op < 0;
                } else if (terminating(pod) || !running_and_ready(pod)) {
                        stop = monotonic;
                        if (!terminating(pod))
                                create_claims(c, kc, set, ord);
                } else {
                        op = create_claims(c, kc, set, ord);
                        stop = op < 0;
                }
        }
        for (i = 0; i < json_array_size(condemned) && !stop; i++) {
                pod = json_array_get(condemned, i);
                if (terminating(pod)) {
                        stop = monotonic;
                        continue;
                }
                op = delete_pod(kc, set, pod);
                stop = monotonic || op < 0;
        }
        json_decref(condemned);
        if (!stop &&
            !strcmp(kjson_str(set, "spec.persistentVolumeClaimRetentionPolicy.whenScaled") ?: "",
                    "Delete"))
                delete_scaled_claims(c, kc, set, start, start + replicas, by_ord);
        if (!stop && rolling) {
                for (int64_t ord = start + replicas - 1; ord >= start + partition && !stop; ord--) {
                        char k[24];
                        snprintf(k, sizeof(k), "%lld", (long long)ord);
                        pod = json_object_get(by_ord, k);
                        if (!pod)
                                break;
                        if (strcmp(revision_of(pod), upd_name) && !terminating(pod)) {
                                op = delete_pod(kc, set, pod);
                                stop = true;
                        } else if (!running_and_ready(pod) || terminating(pod)) {
                                stop = true; /* wait for it */
                        }
                }
        }

        /* history: keep current, update and any revision a pod uses */
        json_t *keep = json_object();
        json_object_set_new(keep, upd_name, json_true());
        json_object_set_new(keep, cur_name, json_true());
        json_array_foreach(pods, i, pod) json_object_set_new(keep, revision_of(pod), json_true());
        history_truncate(kc, set, revs, keep);
        json_decref(keep);

        const char *st_cur = cur_name;
        int64_t st_cur_n = n_cur;
        if (rolling && n_upd == n_pods && n_ready == n_pods) {
                st_cur = upd_name;
                st_cur_n = n_upd;
        }
        json_t *status = json_pack(
                "{s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:I, s:I}", "observedGeneration",
                (json_int_t)kjson_int(set, "metadata.generation", 0), "replicas",
                (json_int_t)n_pods, "readyReplicas", (json_int_t)n_ready, "currentReplicas",
                (json_int_t)st_cur_n, "updatedReplicas", (json_int_t)n_upd, "currentRevision",
                st_cur, "updateRevision", upd_name, "collisionCount", (json_int_t)collision,
                "availableReplicas", (json_int_t)n_avail);
        json_t *conds = kjson_get(set, "status.conditions");
        if (json_array_size(conds))
                json_object_set(status, "conditions", conds);
        r = 0;
        if (!kjson_equal(status, kjson_get(set, "status")))
                r = update_status(kc, set, status);
        if (min_ready > 0 && n_ready != n_avail)
                workqueue_add_after(c->wq, key, 1000);
        json_decref(status);
        return op < 0 ? op : r;
}

void statefulset_controller_init(struct controller *c)
{
        c->name = "statefulset";
        c->needs = 1u << CTL_PODS | 1u << CTL_STATEFULSETS | 1u << CTL_CONTROLLERREVISIONS |
                   1u << CTL_PVCS;
        c->on_event = on_event;
        c->sync = sts_sync;
}
