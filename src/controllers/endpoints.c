/* endpoints.c — the Endpoints controller (pkg/controller/endpoint): for every Service with a
 * selector, an Endpoints object of the same name holding the selected pods' addresses (ready
 * and not ready) and their resolved ports, updated only when it changes, with the
 * last-change-trigger-time annotation; deleted with its Service. Also the API server's own
 * `kubernetes` Service in default (ClusterIP 10.43.0.1, port 443) with its Endpoints and
 * EndpointSlice pointing at the API server, as kube-apiserver's endpoint reconciler keeps them.
 * The pure helpers shared with endpointslice.c are here too (endpoints.h). */
#include "controllers/endpoints.h"

#include <stdio.h>
#include <time.h>

#include "api/labels.h"
#include "common/kjson.h"
#include "common/timefmt.h"
#include "controllers/controllers-internal.h"
#include "controllers/util.h"

#define COMP "endpoints-controller"
#define KUBERNETES_SVC_KEY "default/kubernetes"

/* ---- pure helpers ---- */

static const char *str(const json_t *o, const char *path)
{
        return kjson_str(o, path) ?: "";
}

bool endpoints_service_has_selector(const json_t *svc)
{
        json_t *sel = kjson_get(svc, "spec.selector");
        return json_is_object(sel) && json_object_size(sel) > 0;
}

bool endpoints_pod_selected(const json_t *svc, const json_t *pod, bool include_terminating)
{
        if (!endpoints_service_has_selector(svc) ||
            strcmp(str(svc, "metadata.namespace"), str(pod, "metadata.namespace")) ||
            !labels_map_matches(kjson_get(svc, "spec.selector"), kjson_get(pod, "metadata.labels")))
                return false;
        if (!*str(pod, "status.podIP"))
                return false;
        const char *phase = str(pod, "status.phase");
        if (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))
                return false;
        if (!include_terminating && kjson_get(pod, "metadata.deletionTimestamp") &&
            !kjson_bool(svc, "spec.publishNotReadyAddresses", false))
                return false;
        return true;
}

int endpoints_port_resolve(const json_t *pod, const json_t *sp)
{
        json_t *tp = json_object_get(sp, "targetPort");
        if (json_is_integer(tp) && json_integer_value(tp) > 0)
                return (int)json_integer_value(tp);
        const char *name = json_string_value(tp);
        if (!name || !*name)
                return (int)kjson_int(sp, "port", 0);
        char *end;
        long n = strtol(name, &end, 10);
        if (!*end && n > 0 && n < 65536)
                return (int)n;
        const char *proto = kjson_str(sp, "protocol") ?: "TCP";
        size_t i, j;
        json_t *c, *p;
        json_array_foreach(kjson_get(pod, "spec.containers"), i, c)
        {
                json_array_foreach(json_object_get(c, "ports"), j, p)
                {
                        if (!strcmp(str(p, "name"), name) &&
                            !strcmp(kjson_str(p, "protocol") ?: "TCP", proto))
                                return (int)kjson_int(p, "containerPort", -1);
                }
        }
        return -1;
}

static bool pod_ready(const json_t *pod)
{
        return controllers_pod_is_ready(pod);
}

/* The pod's resolved ports for svc: [{name, port, protocol[, appProtocol]}] in service port
 * order (ports that do not resolve are left out). */
static json_t *pod_ports(const json_t *svc, const json_t *pod)
{
        json_t *out = json_array(), *sp;
        size_t i;
        json_array_foreach(kjson_get(svc, "spec.ports"), i, sp)
        {
                int port = endpoints_port_resolve(pod, sp);
                if (port <= 0)
                        continue;
                json_t *ep = json_pack("{s:s, s:i, s:s}", "name", str(sp, "name"), "port", port,
                                       "protocol", kjson_str(sp, "protocol") ?: "TCP");
                if (kjson_str(sp, "appProtocol"))
                        json_object_set_new(ep, "appProtocol",
                                            json_string(kjson_str(sp, "appProtocol")));
                json_array_append_new(out, ep);
        }
        return out;
}

static json_t *target_ref(const json_t *pod)
{
        return json_pack("{s:s, s:s, s:s, s:s}", "kind", "Pod", "namespace",
                         str(pod, "metadata.namespace"), "name", str(pod, "metadata.name"), "uid",
                         str(pod, "metadata.uid"));
}

/* hostname of a pod in svc's DNS (pod.spec.hostname with pod.spec.subdomain == svc name) */
static const char *pod_hostname(const json_t *svc, const json_t *pod)
{
        const char *h = kjson_str(pod, "spec.hostname");
        if (h && *h && !strcmp(str(pod, "spec.subdomain"), str(svc, "metadata.name")))
                return h;
        return NULL;
}

static int cmp_ip(const void *a, const void *b)
{
        const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
        return strcmp(str(x, "ip"), str(y, "ip"));
}

static void sort_by_ip(json_t *arr)
{
        size_t n = json_array_size(arr);
        if (n < 2)
                return;
        json_t **v = xcalloc(n, sizeof(*v));
        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(arr, i));
        qsort(v, n, sizeof(*v), cmp_ip);
        json_array_clear(arr);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, v[i]);
        free(v);
}

static int cmp_port(const void *a, const void *b)
{
        const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
        int c = strcmp(str(x, "name"), str(y, "name"));
        return c ? c : (int)(kjson_int(x, "port", 0) - kjson_int(y, "port", 0));
}

static void sort_ports(json_t *arr)
{
        size_t n = json_array_size(arr);
        if (n < 2)
                return;
        json_t **v = xcalloc(n, sizeof(*v));
        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(arr, i));
        qsort(v, n, sizeof(*v), cmp_port);
        json_array_clear(arr);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, v[i]);
        free(v);
}

json_t *endpoints_subsets_build(const json_t *svc, const json_t *pods)
{
        bool headless = !strcmp(str(svc, "spec.clusterIP"), "None");
        bool no_ports = json_array_size(kjson_get(svc, "spec.ports")) == 0;
        bool publish = kjson_bool(svc, "spec.publishNotReadyAddresses", false);
        json_t *groups = json_object(); /* ports key -> subset */
        json_t *keys = json_array();    /* first-seen order */
        size_t i;
        json_t *pod;
        if (no_ports && !headless)
                return json_array();
        json_array_foreach(pods, i, pod)
        {
                if (!endpoints_pod_selected(svc, pod, false))
                        continue;
                json_t *ports = pod_ports(svc, pod);
                if (!no_ports && json_array_size(ports) == 0) {
                        json_decref(ports);
                        continue;
                }
                sort_ports(ports);
                char *key = json_dumps(ports, JSON_COMPACT | JSON_SORT_KEYS);
                json_t *sub = json_object_get(groups, key);
                if (!sub) {
                        sub = json_object();
                        if (!no_ports)
                                json_object_set(sub, "ports", ports);
                        json_object_set_new(groups, key, sub);
                        json_array_append_new(keys, json_string(key));
                }
                json_t *addr = json_pack("{s:s}", "ip", str(pod, "status.podIP"));
                if (pod_hostname(svc, pod))
                        json_object_set_new(addr, "hostname", json_string(pod_hostname(svc, pod)));
                if (kjson_str(pod, "spec.nodeName"))
                        json_object_set_new(addr, "nodeName",
                                            json_string(kjson_str(pod, "spec.nodeName")));
                json_object_set_new(addr, "targetRef", target_ref(pod));
                const char *list = publish || pod_ready(pod) ? "addresses" : "notReadyAddresses";
                json_t *arr = json_object_get(sub, list);
                if (!arr) {
                        arr = json_array();
                        json_object_set_new(sub, list, arr);
                }
                json_array_append_new(arr, addr);
                free(key);
                json_decref(ports);
        }
        json_t *out = json_array();
        json_t *k;
        json_array_foreach(keys, i, k)
        {
                json_t *sub = json_object_get(groups, json_string_value(k));
                sort_by_ip(json_object_get(sub, "addresses"));
                sort_by_ip(json_object_get(sub, "notReadyAddresses"));
                json_array_append(out, sub);
        }
        json_decref(keys);
        json_decref(groups);
        return out;
}

static int cmp_pod_name(const void *a, const void *b)
{
        const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
        return strcmp(str(x, "metadata.name"), str(y, "metadata.name"));
}

json_t *endpoints_slices_build(const json_t *svc, const json_t *pods, size_t max)
{
        bool publish = kjson_bool(svc, "spec.publishNotReadyAddresses", false);
        size_t n = json_array_size(pods), i;
        json_t **v = xcalloc(n + 1, sizeof(*v));
        size_t m = 0;
        for (i = 0; i < n; i++)
                if (endpoints_pod_selected(svc, json_array_get(pods, i), true))
                        v[m++] = json_array_get(pods, i);
        qsort(v, m, sizeof(*v), cmp_pod_name);
        if (max == 0)
                max = ENDPOINTSLICE_MAX;
        json_t *groups = json_object(); /* ports key -> array of endpoints */
        json_t *keys = json_array();
        json_t *portsets = json_object();
        for (i = 0; i < m; i++) {
                const json_t *pod = v[i];
                json_t *ports = pod_ports(svc, pod);
                sort_ports(ports);
                char *key = json_dumps(ports, JSON_COMPACT | JSON_SORT_KEYS);
                json_t *eps = json_object_get(groups, key);
                if (!eps) {
                        eps = json_array();
                        json_object_set_new(groups, key, eps);
                        json_object_set(portsets, key, ports);
                        json_array_append_new(keys, json_string(key));
                }
                bool terminating = kjson_get(pod, "metadata.deletionTimestamp") != NULL;
                bool serving = pod_ready(pod);
                bool ready = publish || (serving && !terminating);
                json_t *ep = json_pack("{s:[s], s:{s:b, s:b, s:b}}", "addresses",
                                       str(pod, "status.podIP"), "conditions", "ready", ready,
                                       "serving", serving, "terminating", terminating);
                if (pod_hostname(svc, pod))
                        json_object_set_new(ep, "hostname", json_string(pod_hostname(svc, pod)));
                if (kjson_str(pod, "spec.nodeName"))
                        json_object_set_new(ep, "nodeName",
                                            json_string(kjson_str(pod, "spec.nodeName")));
                json_object_set_new(ep, "targetRef", target_ref(pod));
                json_array_append_new(eps, ep);
                free(key);
                json_decref(ports);
        }
        free(v);
        json_t *out = json_array(), *k;
        json_array_foreach(keys, i, k)
        {
                const char *key = json_string_value(k);
                json_t *eps = json_object_get(groups, key);
                json_t *ports = json_object_get(portsets, key);
                for (size_t off = 0; off < json_array_size(eps); off += max) {
                        json_t *chunk = json_array();
                        for (size_t j = off; j < off + max && j < json_array_size(eps); j++)
                                json_array_append(chunk, json_array_get(eps, j));
                        json_array_append_new(
                                out, json_pack("{s:O, s:o}", "ports", ports, "endpoints", chunk));
                }
        }
        if (json_array_size(out) == 0)
                json_array_append_new(out, json_pack("{s:n, s:[]}", "ports", "endpoints"));
        json_decref(keys);
        json_decref(groups);
        json_decref(portsets);
        return out;
}

char *endpoints_trigger_time(const json_t *svc, const json_t *pods)
{
        time_t best = controllers_time(svc, "metadata.creationTimestamp");
        size_t i;
        json_t *pod;
        json_array_foreach(pods, i, pod)
        {
                if (!endpoints_pod_selected(svc, pod, true))
                        continue;
                time_t t[3] = {controllers_time(pod, "metadata.creationTimestamp"),
                               controllers_time(
                                       controllers_condition_get(kjson_get(pod, "status"), "Ready"),
                                       "lastTransitionTime"),
                               controllers_time(pod, "metadata.deletionTimestamp")};
                for (int k = 0; k < 3; k++)
                        if (t[k] > best)
                                best = t[k];
        }
        if (!best)
                return NULL;
        char buf[32];
        timefmt_rfc3339(buf, best);
        return xstrdup(buf);
}

/* ---- the controller ---- */

/* Queue every service of pod's namespace whose selector matches the pod's labels. */
static void queue_services_of(struct controller *c, const json_t *pod)
{
        if (!pod)
                return;
        const char *ns = str(pod, "metadata.namespace");
        _cleanup_json_ json_t *svcs = manager_cache_list(c->m, CTL_SERVICES, ns);
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

static void ep_on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        if (res == CTL_SERVICES) {
                _cleanup_free_ char *key = controllers_key(cur ? cur : old);
                workqueue_add(c->wq, key);
        } else if (res == CTL_PODS) {
                queue_services_of(c, old);
                if (cur && cur != old)
                        queue_services_of(c, cur);
        } else if (res == CTL_NAMESPACES && cur && !strcmp(str(cur, "metadata.name"), "default")) {
                workqueue_add(c->wq, KUBERNETES_SVC_KEY);
        }
}

static json_t *desired_labels(const json_t *svc)
{
        json_t *l = json_deep_copy(kjson_get(svc, "metadata.labels"));
        if (!json_is_object(l)) {
                json_decref(l);
                l = json_object();
        }
        if (!strcmp(str(svc, "spec.clusterIP"), "None"))
                json_object_set_new(l, ENDPOINTS_LABEL_HEADLESS, json_string(""));
        return l;
}

/* Create or update Endpoints ns/name with subsets and labels unless it already has them. */
static int write_endpoints(struct kclient *kc, const char *ns, const char *name, json_t *subsets,
                           json_t *labels, const char *trigger)
{
        struct error err = {0};
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/endpoints/%s", ns, name);
        _cleanup_json_ json_t *cur = NULL;
        int r = kclient_get(kc, path, &cur, &err);
        if (r < 0 && r != -ENOENT)
                return r;
        json_t *cur_subsets = kjson_get(cur, "subsets");
        bool same_subsets = json_array_size(subsets) == 0 ? json_array_size(cur_subsets) == 0
                                                          : json_equal(cur_subsets, subsets);
        if (cur && same_subsets &&
            json_equal(kjson_get(cur, "metadata.labels") ?: json_object(), labels))
                return 0;
        json_t *obj = cur ? json_incref(cur)
                          : json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
                                      "Endpoints", "metadata", "name", name, "namespace", ns);
        json_t *meta = json_object_get(obj, "metadata");
        json_object_set(meta, "labels", labels);
        if (trigger)
                json_object_set_new(kjson_obj_ensure(meta, "annotations"), ENDPOINTS_ANN_TRIGGER,
                                    json_string(trigger));
        if (json_array_size(subsets))
                json_object_set(obj, "subsets", subsets);
        else
                json_object_del(obj, "subsets");
        if (cur)
                r = kclient_update(kc, path, obj, NULL, &err);
        else {
                _cleanup_free_ char *cp = xasprintf("/api/v1/namespaces/%s/endpoints", ns);
                r = kclient_create(kc, cp, obj, NULL, &err);
        }
        json_decref(obj);
        if (r < 0 && r != -ESTALE && r != -EEXIST)
                log_debug(COMP, "endpoints %s/%s: %s", ns, name, error_msg(&err));
        return r;
}

/* The API server's own Service, Endpoints and EndpointSlice. */
static int sync_kubernetes(struct controller *c, struct kclient *kc)
{
        const struct manager_config *cfg = manager_get_config(c->m);
        if (!cfg->apiserver_ip || cfg->apiserver_port <= 0)
                return 0;
        struct error err = {0};
        _cleanup_json_ json_t *svc = manager_cache_get(c->m, CTL_SERVICES, "default", "kubernetes");
        if (!svc) {
                json_t *obj = json_pack(
                        "{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:s, s:s, s:[s], s:s,"
                        " s:[{s:s, s:i, s:s, s:i}]}}",
                        "apiVersion", "v1", "kind", "Service", "metadata", "name", "kubernetes",
                        "namespace", "default", "labels", "component", "apiserver", "provider",
                        "kubernetes", "spec", "type", "ClusterIP", "clusterIP", "10.43.0.1",
                        "clusterIPs", "10.43.0.1", "sessionAffinity", "None", "ports", "name",
                        "https", "port", 443, "protocol", "TCP", "targetPort", cfg->apiserver_port);
                int r = kclient_create(kc, "/api/v1/namespaces/default/services", obj, NULL, &err);
                json_decref(obj);
                if (r < 0 && r != -EEXIST) {
                        log_warn(COMP, "service default/kubernetes: %s", error_msg(&err));
                        return r;
                }
        }
        json_t *subsets = json_pack("[{s:[{s:s}], s:[{s:s, s:i, s:s}]}]", "addresses", "ip",
                                    cfg->apiserver_ip, "ports", "name", "https", "port",
                                    cfg->apiserver_port, "protocol", "TCP");
        json_t *labels = json_pack("{s:s}", "endpointslice.kubernetes.io/skip-mirror", "true");
        int r = write_endpoints(kc, "default", "kubernetes", subsets, labels, NULL);
        json_decref(subsets);
        json_decref(labels);
        if (r < 0)
                return r;
        /* the EndpointSlice kube-apiserver keeps next to it */
        const char *sp = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes";
        json_t *slice =
                json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:s, s:[{s:[s], s:{s:b}}],"
                          " s:[{s:s, s:i, s:s}]}",
                          "apiVersion", "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata",
                          "name", "kubernetes", "namespace", "default", "labels",
                          ENDPOINTS_LABEL_SERVICE_NAME, "kubernetes", "addressType", "IPv4",
                          "endpoints", "addresses", cfg->apiserver_ip, "conditions", "ready", 1,
                          "ports", "name", "https", "port", cfg->apiserver_port, "protocol", "TCP");
        _cleanup_json_ json_t *cur = NULL;
        r = kclient_get(kc, sp, &cur, &err);
        if (r == -ENOENT) {
                r = kclient_create(kc,
                                   "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
                                   slice, NULL, &err);
        } else if (r == 0 &&
                   (!json_equal(json_object_get(cur, "endpoints"),
                                json_object_get(slice, "endpoints")) ||
                    !json_equal(json_object_get(cur, "ports"), json_object_get(slice, "ports")))) {
                json_object_set(json_object_get(slice, "metadata"), "resourceVersion",
                                kjson_get(cur, "metadata.resourceVersion"));
                r = kclient_update(kc, sp, slice, NULL, &err);
        }
        json_decref(slice);
        if (r < 0 && r != -EEXIST && r != -ESTALE)
                log_debug(COMP, "endpointslice default/kubernetes: %s", error_msg(&err));
        return r == -EEXIST ? 0 : r;
}

static int ep_sync(struct controller *c, struct kclient *kc, const char *key)
{
        _cleanup_free_ char *ns = NULL;
        const char *name;
        controllers_key_split(key, &ns, &name);
        if (!strcmp(key, KUBERNETES_SVC_KEY))
                return sync_kubernetes(c, kc);
        _cleanup_json_ json_t *svc = manager_cache_get(c->m, CTL_SERVICES, ns, name);
        if (!svc) {
                _cleanup_free_ char *path =
                        xasprintf("/api/v1/namespaces/%s/endpoints/%s", ns, name);
                int r = kclient_delete(kc, path, NULL, NULL, NULL);
                return r == -ENOENT ? 0 : r;
        }
        if (!endpoints_service_has_selector(svc))
                return 0; /* user-managed endpoints */
        _cleanup_json_ json_t *pods = manager_cache_list(c->m, CTL_PODS, ns);
        _cleanup_json_ json_t *subsets = endpoints_subsets_build(svc, pods);
        _cleanup_json_ json_t *labels = desired_labels(svc);
        _cleanup_free_ char *trigger = endpoints_trigger_time(svc, pods);
        return write_endpoints(kc, ns, name, subsets, labels, trigger);
}

void endpoints_controller_init(struct controller *c)
{
        c->name = "endpoints";
        c->needs = 1u << CTL_SERVICES | 1u << CTL_PODS | 1u << CTL_NAMESPACES;
        c->on_event = ep_on_event;
        c->sync = ep_sync;
}
