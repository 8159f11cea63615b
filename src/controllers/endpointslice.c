/* endpointslice.c — the EndpointSlice controller (pkg/controller/endpointslice): for every
 * Service with a selector, discovery.k8s.io/v1 EndpointSlices named <service>-<random>, labelled
 * kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by=
 * endpointslice-controller.k8s.io, owned by the Service, holding at most 100 endpoints each
 * with ready/serving/terminating conditions (endpoints.h builds the contents). Slices whose
 * contents are already right are left alone; others are updated in place, missing ones created
 * and surplus ones deleted; a Service selecting nothing keeps one empty placeholder slice. */
#include <stdio.h>

#include "api/labels.h"
#include "common/kjson.h"
#include "controllers/controllers-internal.h"
#include "controllers/endpoints.h"
#include "controllers/util.h"

#define COMP "endpointslice-controller"

static const char *str(const json_t *o, const char *path)
{
        return kjson_str(o, path) ?: "";
}

static void queue_services_of(struct controller *c, const json_t *pod)
{
        if (!pod)
                return;
        _cleanup_json_ json_t *svcs =
                manager_cache_list(c->m, CTL_SERVICES, str(pod, "metadata.namespace"));
        size_t i;
        json_t *svc;
        json_array_foreach(svcs, i, svc)
        {
                if (endpoints_service_has_selector(svc) &&
                    labels_map_matches(kjson_get(svc, "spec.selector"),
                                       kjson_get(pod, "metadata.labels"))) {
                        _cleanup_free_ char *key = controllers_key(svc);
                        workqueue_add(c->wq, key);
                }
        }
}

static void eps_on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        if (res == CTL_SERVICES) {
                _cleanup_free_ char *key = controllers_key(cur ? cur : old);
                workqueue_add(c->wq, key);
        } else if (res == CTL_PODS) {
                queue_services_of(c, old);
                if (cur && cur != old)
                        queue_services_of(c, cur);
        }
}

static json_t *slice_labels(const json_t *svc)
{
        json_t *l = json_deep_copy(kjson_get(svc, "metadata.labels"));
        if (!json_is_object(l)) {
                json_decref(l);
                l = json_object();
        }
        json_object_set_new(l, ENDPOINTS_LABEL_SERVICE_NAME,
                            json_string(str(svc, "metadata.name")));
        json_object_set_new(l, ENDPOINTS_LABEL_MANAGED_BY, json_string(ENDPOINTS_MANAGED_BY));
        if (!strcmp(str(svc, "spec.clusterIP"), "None"))
                json_object_set_new(l, ENDPOINTS_LABEL_HEADLESS, json_string(""));
        return l;
}

static bool same_contents(const json_t *slice, const json_t *want, const json_t *labels)
{
        json_t *p1 = json_object_get(slice, "ports"), *p2 = json_object_get(want, "ports");
        bool ports_eq =
                (json_array_size(p1) == 0 && json_array_size(p2) == 0) || json_equal(p1, p2);
        json_t *e1 = json_object_get(slice, "endpoints"), *e2 = json_object_get(want, "endpoints");
        bool eps_eq = (json_array_size(e1) == 0 && json_array_size(e2) == 0) || json_equal(e1, e2);
        return ports_eq && eps_eq && json_equal(kjson_get(slice, "metadata.labels"), labels);
}

static void fill_slice(json_t *slice, const json_t *want, json_t *labels, const char *trigger)
{
        json_t *meta = kjson_obj_ensure(slice, "metadata");
        json_object_set(meta, "labels", labels);
        if (trigger)
                json_object_set_new(kjson_obj_ensure(meta, "annotations"), ENDPOINTS_ANN_TRIGGER,
                                    json_string(trigger));
        json_object_set_new(slice, "addressType", json_string("IPv4"));
        json_t *eps = json_object_get(want, "endpoints");
        /* a placeholder has endpoints null, as the Go controller's nil slice */
        json_object_set_new(slice, "endpoints",
                            json_array_size(eps) ? json_incref(eps) : json_null());
        json_t *ports = json_object_get(want, "ports");
        if (json_array_size(ports))
                json_object_set(slice, "ports", ports);
        else
                json_object_del(slice, "ports");
}

static int eps_sync(struct controller *c, struct kclient *kc, const char *key)
{
        _cleanup_free_ char *ns = NULL;
        const char *name;
        controllers_key_split(key, &ns, &name);
        struct error err = {0};
        _cleanup_json_ json_t *svc = manager_cache_get(c->m, CTL_SERVICES, ns, name);
        if (svc && !endpoints_service_has_selector(svc))
                return 0; /* no selector: not ours (mirroring is not implemented) */
        _cleanup_free_ char *list_path =
                xasprintf("/apis/discovery.k8s.io/v1/namespaces/%s/"
                          "endpointslices?labelSelector=" ENDPOINTS_LABEL_SERVICE_NAME
                          "%%3D%s%%2C" ENDPOINTS_LABEL_MANAGED_BY "%%3D" ENDPOINTS_MANAGED_BY,
                          ns, name);
        _cleanup_json_ json_t *list = NULL;
        int r = kclient_get(kc, list_path, &list, &err);
        if (r < 0) {
                log_debug(COMP, "list slices of %s: %s", key, error_msg(&err));
                return r;
        }
        json_t *existing = json_object_get(list, "items");
        size_t n_exist = json_array_size(existing);
        _cleanup_free_ bool *used = xcalloc(n_exist + 1, sizeof(*used));
        if (!svc) {
                /* the Service is gone: so are its slices (the garbage collector would too) */
                for (size_t i = 0; i < n_exist; i++) {
                        _cleanup_free_ char *p = xasprintf(
                                "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices/%s", ns,
                                str(json_array_get(existing, i), "metadata.name"));
                        kclient_delete(kc, p, NULL, NULL, NULL);
                }
                return 0;
        }
        _cleanup_json_ json_t *pods = manager_cache_list(c->m, CTL_PODS, ns);
        _cleanup_json_ json_t *want = endpoints_slices_build(svc, pods, ENDPOINTSLICE_MAX);
        _cleanup_json_ json_t *labels = slice_labels(svc);
        _cleanup_free_ char *trigger = endpoints_trigger_time(svc, pods);
        size_t nw = json_array_size(want);
        _cleanup_free_ bool *done = xcalloc(nw + 1, sizeof(*done));
        /* 1. slices that are already right stay as they are */
        for (size_t w = 0; w < nw; w++)
                for (size_t i = 0; i < n_exist && !done[w]; i++)
                        if (!used[i] && same_contents(json_array_get(existing, i),
                                                      json_array_get(want, w), labels))
                                used[i] = done[w] = true;
        /* 2. the rest: update a leftover slice, else create one */
        int result = 0;
        for (size_t w = 0; w < nw; w++) {
                if (done[w])
                        continue;
                size_t i = 0;
                while (i < n_exist && used[i])
                        i++;
                json_t *slice;
                if (i < n_exist) {
                        used[i] = true;
                        slice = json_deep_copy(json_array_get(existing, i));
                        fill_slice(slice, json_array_get(want, w), labels, trigger);
                        _cleanup_free_ char *p = xasprintf(
                                "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices/%s", ns,
                                str(slice, "metadata.name"));
                        r = kclient_update(kc, p, slice, NULL, &err);
                } else {
                        _cleanup_free_ char *gen = xasprintf("%s-", name);
                        slice = json_pack("{s:s, s:s, s:{s:s, s:s, s:[o]}}", "apiVersion",
                                          "discovery.k8s.io/v1", "kind", "EndpointSlice",
                                          "metadata", "generateName", gen, "namespace", ns,
                                          "ownerReferences",
                                          controllers_owner_ref_new(svc, "v1", "Service"));
                        fill_slice(slice, json_array_get(want, w), labels, trigger);
                        _cleanup_free_ char *p = xasprintf(
                                "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices", ns);
                        r = kclient_create(kc, p, slice, NULL, &err);
                }
                json_decref(slice);
                if (r < 0) {
                        log_debug(COMP, "slice for %s: %s", key, error_msg(&err));
                        result = r;
                }
        }
        /* 3. surplus slices */
        for (size_t i = 0; i < n_exist; i++) {
                if (used[i])
                        continue;
                _cleanup_free_ char *p =
                        xasprintf("/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices/%s", ns,
                                  str(json_array_get(existing, i), "metadata.name"));
                r = kclient_delete(kc, p, NULL, NULL, &err);
                if (r < 0 && r != -ENOENT)
                        result = r;
        }
        return result;
}

void endpointslice_controller_init(struct controller *c)
{
        c->name = "endpointslice";
        c->needs = 1u << CTL_SERVICES | 1u << CTL_PODS;
        c->on_event = eps_on_event;
        c->sync = eps_sync;
}
