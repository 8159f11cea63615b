/* podcontrol.c — claiming dependents and creating pods (see podcontrol.h). */
#include "controllers/podcontrol.h"

#include "common/kjson.h"
#include "common/log.h"
#include "controllers/util.h"

#define COMP "controller-manager"

static int patch_refs(struct kclient *kc, const char *coll, const json_t *obj, json_t *refs,
                      json_t **ret)
{
        struct error err = {0};
        json_t *patch =
                json_pack("{s:{s:O, s:s}}", "metadata", "ownerReferences", refs, "resourceVersion",
                          kjson_str(obj, "metadata.resourceVersion") ?: "");
        _cleanup_free_ char *path = xasprintf("%s/%s", coll, kjson_str(obj, "metadata.name") ?: "");
        int r = kclient_patch(kc, path, "merge", patch, ret, &err);
        json_decref(patch);
        if (r < 0)
                log_debug(COMP, "patch ownerReferences of %s: %s", path, error_msg(&err));
        return r;
}

json_t *podcontrol_claim(struct kclient *kc, const char *coll, const json_t *owner,
                         const char *api_version, const char *kind,
                         const struct labels_selector *sel, const json_t *candidates)
{
        json_t *out = json_array();
        const char *uid = kjson_str(owner, "metadata.uid") ?: "";
        bool owner_deleting = kjson_get(owner, "metadata.deletionTimestamp") != NULL;
        json_t *o;
        size_t i;
        json_array_foreach(candidates, i, o)
        {
                json_t *ref = controllers_controller_ref(o);
                bool match = labels_selector_matches(sel, kjson_get(o, "metadata.labels"));
                if (ref) {
                        if (strcmp(json_string_value(json_object_get(ref, "uid")) ?: "", uid))
                                continue; /* someone else's */
                        if (match || owner_deleting) {
                                json_array_append(out, o);
                                continue;
                        }
                        /* release: drop our reference */
                        json_t *refs = json_array();
                        json_t *x;
                        size_t k;
                        json_array_foreach(kjson_get(o, "metadata.ownerReferences"), k, x)
                        {
                                if (strcmp(json_string_value(json_object_get(x, "uid")) ?: "", uid))
                                        json_array_append(refs, x);
                        }
                        patch_refs(kc, coll, o, refs, NULL);
                        json_decref(refs);
                        continue;
                }
                if (!match || owner_deleting || kjson_get(o, "metadata.deletionTimestamp"))
                        continue;
                json_t *refs = json_deep_copy(kjson_get(o, "metadata.ownerReferences"));
                if (!json_is_array(refs)) {
                        json_decref(refs);
                        refs = json_array();
                }
                json_array_append_new(refs, controllers_owner_ref_new(owner, api_version, kind));
                json_t *adopted = NULL;
                if (patch_refs(kc, coll, o, refs, &adopted) == 0 && adopted)
                        json_array_append_new(out, adopted);
                else
                        json_decref(adopted);
                json_decref(refs);
        }
        return out;
}

json_t *podcontrol_pod_from_template(const json_t *tmpl, const json_t *owner,
                                     const char *api_version, const char *kind)
{
        const char *ns = kjson_str(owner, "metadata.namespace") ?: "default";
        _cleanup_free_ char *gen = xasprintf("%s-", kjson_str(owner, "metadata.name") ?: "");
        json_t *pod =
                json_pack("{s:s, s:s, s:{s:s, s:s, s:[o]}}", "apiVersion", "v1", "kind", "Pod",
                          "metadata", "generateName", gen, "namespace", ns, "ownerReferences",
                          controllers_owner_ref_new(owner, api_version, kind));
        json_t *meta = json_object_get(pod, "metadata");
        static const char *const copy[] = {"labels", "annotations", "finalizers"};
        for (size_t i = 0; i < ARRAY_SIZE(copy); i++) {
                json_t *v = kjson_get(json_object_get(tmpl, "metadata"), copy[i]);
                if (v)
                        json_object_set_new(meta, copy[i], json_deep_copy(v));
        }
        json_t *spec = json_object_get(tmpl, "spec");
        json_object_set_new(pod, "spec", spec ? json_deep_copy(spec) : json_object());
        return pod;
}

int podcontrol_create(struct kclient *kc, json_t *pod, json_t **ret, struct error *err)
{
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods",
                                              kjson_str(pod, "metadata.namespace") ?: "default");
        return kclient_create(kc, path, pod, ret, err);
}

int podcontrol_put_status(struct kclient *kc, const char *api, const char *plural,
                          const json_t *obj, json_t *status, json_t **ret)
{
        struct error err = {0};
        const char *ns = kjson_str(obj, "metadata.namespace");
        _cleanup_free_ char *path =
                ns && *ns ? xasprintf("%s/namespaces/%s/%s/%s/status", api, ns, plural,
                                      kjson_str(obj, "metadata.name") ?: "")
                          : xasprintf("%s/%s/%s/status", api, plural,
                                      kjson_str(obj, "metadata.name") ?: "");
        json_t *o = json_deep_copy(obj);
        json_object_set(o, "status", status);
        int r = kclient_update(kc, path, o, ret, &err);
        json_decref(o);
        if (r < 0)
                log_debug(COMP, "status %s: %s", path, error_msg(&err));
        return r;
}
