/* metricsapi.c — metrics.k8s.io/v1beta1 served by the API server itself, the way metrics-server
 * serves it: a scraper thread reads every node agent's /stats/summary (the kubelet Summary API,
 * reached like nodes/proxy: the node's InternalIP and daemonEndpoints port, with the API
 * server's kubelet client certificate) every METRICS_RESOLUTION_S seconds and keeps the latest
 * NodeMetrics and PodMetrics in memory; GET/LIST of nodes and pods (all namespaces, one
 * namespace, one object, labelSelector) answer from that snapshot on the loop thread.
 * CPU is the rate of the cumulative usageCoreNanoSeconds between two scrapes (window = the time
 * between the samples), memory the working set, as metrics-server computes them; a node or pod
 * appears once it has two samples (all its containers). */
#include "apiserver/apiserver-internal.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "api/labels.h"
#include "api/quantity.h"
#include "apiserver/discovery.h"
#include "apiserver/metricsapi.h"
#include "apiserver/status.h"
#include "common/kjson.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "http/client.h"

#define COMP "metrics-api"
#define GV "metrics.k8s.io/v1beta1"
#define METRICS_RESOLUTION_S 10

struct metricsapi {
        struct apiserver *a;
        pthread_t thread;
        bool started;
        pthread_mutex_t lock; /* protects nodes, pods, stop */
        pthread_cond_t cond;
        bool stop;
        json_t *nodes; /* name -> NodeMetrics (without creationTimestamp) */
        json_t *pods;  /* "ns/name" -> PodMetrics */
        json_t *prev;  /* scraper only: "node" or "ns/pod/container" -> [t, cpu ns, rate, win] */
};

static void cpu_quantity(int64_t nano, char buf[QUANTITY_STR_MAX])
{
        char raw[48];
        snprintf(raw, sizeof(raw), "%lldn", (long long)nano);
        if (quantity_canonicalize(raw, buf, NULL) < 0)
                snprintf(buf, QUANTITY_STR_MAX, "%s", raw);
}

static json_t *usage(int64_t nano_cores, const json_t *mem)
{
        char c[QUANTITY_STR_MAX], m[QUANTITY_STR_MAX];
        cpu_quantity(nano_cores, c);
        struct quantity q =
                quantity_from_int(kjson_int(mem, "workingSetBytes", 0), QUANTITY_BINARY_SI);
        quantity_format(&q, m);
        return json_pack("{s:s,s:s}", "cpu", c, "memory", m);
}

/* The CPU rate (nanocores) of key from cumulative usageCoreNanoSeconds between two samples, as
 * metrics-server computes it; -1 until there are two. *ret_window: seconds between them. */
static int64_t cpu_rate(json_t *prev, json_t *next, const char *key, const json_t *cpu,
                        double *ret_window)
{
        struct timespec ts;
        const json_t *cum = json_object_get(cpu, "usageCoreNanoSeconds");
        if (!json_is_integer(cum) || timefmt_parse_rfc3339(kjson_str(cpu, "time") ?: "", &ts) < 0)
                return -1;
        double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        int64_t c = json_integer_value(cum);
        json_t *p = json_object_get(prev, key);
        double pt = json_real_value(json_array_get(p, 0));
        int64_t pc = json_integer_value(json_array_get(p, 1));
        int64_t rate = p ? json_integer_value(json_array_get(p, 2)) : -1;
        double win = p ? json_real_value(json_array_get(p, 3)) : 0;
        if (p && t > pt && c >= pc) {
                win = t - pt;
                rate = (int64_t)((double)(c - pc) / win);
        } else if (p) {
                t = pt; /* the same sample again (or a reset): keep the previous point */
                c = pc;
        }
        json_object_set_new(next, key,
                            json_pack("[f,I,I,f]", t, (json_int_t)c, (json_int_t)rate, win));
        *ret_window = win;
        return rate;
}

/* Go's Duration string of s seconds ("10.012s"). */
static char *window(double s)
{
        char w[64];
        snprintf(w, sizeof(w), "%.3f", s);
        size_t n = strlen(w);
        while (n > 1 && w[n - 1] == '0')
                w[--n] = 0;
        if (n && w[n - 1] == '.')
                w[--n] = 0;
        return xasprintf("%ss", w);
}

/* One node's summary into nodes / pods (labels are added at serving time); next receives the
 * CPU points for the next round. */
void metricsapi_ingest(const char *node, const json_t *sum, json_t *nodes, json_t *pods,
                       json_t *prev, json_t *next)
{
        const json_t *n = json_object_get(sum, "node");
        double w = 0;
        int64_t rate = cpu_rate(prev, next, node, kjson_get(n, "cpu"), &w);
        if (rate >= 0) {
                _cleanup_free_ char *win = window(w);
                json_object_set_new(nodes, node,
                                    json_pack("{s:s,s:s,s:{s:s},s:s,s:s,s:o}", "kind",
                                              "NodeMetrics", "apiVersion", GV, "metadata", "name",
                                              node, "timestamp", kjson_str(n, "cpu.time") ?: "",
                                              "window", win, "usage",
                                              usage(rate, kjson_get(n, "memory"))));
        }
        json_t *p;
        size_t i, j;
        json_array_foreach(json_object_get(sum, "pods"), i, p)
        {
                const char *ns = kjson_str(p, "podRef.namespace");
                const char *name = kjson_str(p, "podRef.name");
                json_t *ctrs = json_array(), *c;
                bool complete = json_array_size(json_object_get(p, "containers")) > 0;
                const char *ts = NULL;
                double win = 0;
                json_array_foreach(json_object_get(p, "containers"), j, c)
                {
                        _cleanup_free_ char *ck = xasprintf("%s/%s/%s", ns ?: "", name ?: "",
                                                            kjson_str(c, "name") ?: "");
                        int64_t r = cpu_rate(prev, next, ck, kjson_get(c, "cpu"), &w);
                        if (r < 0) {
                                complete = false;
                                continue;
                        }
                        if (w > win)
                                win = w;
                        ts = ts ?: kjson_str(c, "cpu.time");
                        json_array_append_new(ctrs, json_pack("{s:s,s:o}", "name",
                                                              kjson_str(c, "name") ?: "", "usage",
                                                              usage(r, kjson_get(c, "memory"))));
                }
                if (!ns || !name || !complete) {
                        json_decref(ctrs);
                        continue;
                }
                _cleanup_free_ char *key = xasprintf("%s/%s", ns, name);
                _cleanup_free_ char *wins = window(win);
                json_object_set_new(pods, key,
                                    json_pack("{s:s,s:s,s:{s:s,s:s},s:s,s:s,s:o}", "kind",
                                              "PodMetrics", "apiVersion", GV, "metadata", "name",
                                              name, "namespace", ns, "timestamp", ts ?: "",
                                              "window", wins, "containers", ctrs));
        }
}

static void scrape_once(struct metricsapi *m)
{
        struct apiserver *a = m->a;
        const struct scheme_resource *nr = scheme_lookup("", "v1", "nodes");
        _cleanup_free_ char *prefix = scheme_prefix(nr, NULL);
        struct store_list l = {0};
        struct error err = {0};
        if (store_list(a->store, prefix, NULL, 0, 0, &l, &err) < 0) {
                log_debug(COMP, "list nodes: %s", error_msg(&err));
                return;
        }
        json_t *nodes = json_object(), *pods = json_object(), *next = json_object();
        struct http_client_options o = {.connect_timeout_ms = 2000, .timeout_ms = 5000};
        if (a->kubelet_cert) {
                o.cert_file = a->kubelet_cert;
                o.key_file = a->kubelet_key;
                o.ca_file = a->ca_file;
        }
        _cleanup_(http_client_freep) struct http_client *hc = NULL;
        for (size_t i = 0; i < l.n_items; i++) {
                _cleanup_(json_decrefp) json_t *node =
                        apiserver_obj_decode(nr, l.items[i].value, l.items[i].value_len, 0);
                const char *name = kjson_str(node, "metadata.name"), *ip = NULL;
                json_t *ad;
                size_t k;
                json_array_foreach(kjson_get(node, "status.addresses"), k, ad)
                {
                        if (!ip && !strcmp(kjson_str(ad, "type") ?: "", "InternalIP"))
                                ip = kjson_str(ad, "address");
                }
                if (!name || !ip)
                        continue;
                if (!hc && http_client_new(&o, &hc, &err) < 0) {
                        log_debug(COMP, "http client: %s", error_msg(&err));
                        break;
                }
                _cleanup_free_ char *url = xasprintf(
                        "%s://%s:%lld/stats/summary", a->kubelet_cert ? "https" : "http", ip,
                        (long long)kjson_int(node, "status.daemonEndpoints.kubeletEndpoint.Port",
                                             10250));
                long status = 0;
                _cleanup_free_ char *body = NULL;
                size_t len = 0;
                if (http_client_do(hc, "GET", url, NULL, NULL, 0, &status, &body, &len, &err) < 0 ||
                    status != 200) {
                        log_debug(COMP, "scrape %s: %s (%ld)", name, error_msg(&err), status);
                        http_client_free(hc); /* a fresh connection next time */
                        hc = NULL;
                        continue;
                }
                _cleanup_(json_decrefp) json_t *sum = NULL;
                if (kjson_parse(body, len, 0, &sum, &err) == 0)
                        metricsapi_ingest(name, sum, nodes, pods, m->prev, next);
        }
        store_list_clear(&l);
        json_decref(m->prev);
        m->prev = next;
        pthread_mutex_lock(&m->lock);
        json_decref(m->nodes);
        json_decref(m->pods);
        m->nodes = nodes;
        m->pods = pods;
        pthread_mutex_unlock(&m->lock);
}

static void *scraper(void *ud)
{
        struct metricsapi *m = ud;
        pthread_mutex_lock(&m->lock);
        while (!m->stop) {
                pthread_mutex_unlock(&m->lock);
                scrape_once(m);
                pthread_mutex_lock(&m->lock);
                struct timespec until;
                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_sec += METRICS_RESOLUTION_S;
                while (!m->stop && pthread_cond_timedwait(&m->cond, &m->lock, &until) == 0) {
                }
        }
        pthread_mutex_unlock(&m->lock);
        return NULL;
}

struct metricsapi *metricsapi_new(struct apiserver *a)
{
        struct metricsapi *m = xcalloc(1, sizeof(*m));
        m->a = a;
        pthread_mutex_init(&m->lock, NULL);
        pthread_cond_init(&m->cond, NULL);
        m->nodes = json_object();
        m->pods = json_object();
        return m;
}

/* The scraper starts with the first metrics request (a server nobody asks pays nothing). */
static void ensure_started(struct metricsapi *m)
{
        pthread_mutex_lock(&m->lock);
        if (!m->started && !m->stop) {
                if (pthread_create(&m->thread, NULL, scraper, m) == 0)
                        m->started = true;
                else
                        log_warn(COMP, "cannot start the scraper thread");
        }
        pthread_mutex_unlock(&m->lock);
}

void metricsapi_free(struct metricsapi *m)
{
        if (!m)
                return;
        pthread_mutex_lock(&m->lock);
        m->stop = true;
        pthread_cond_broadcast(&m->cond);
        bool started = m->started;
        pthread_mutex_unlock(&m->lock);
        if (started)
                pthread_join(m->thread, NULL);
        json_decref(m->nodes);
        json_decref(m->pods);
        json_decref(m->prev);
        pthread_mutex_destroy(&m->lock);
        pthread_cond_destroy(&m->cond);
        free(m);
}

/* ---- discovery ---- */

static json_t *resource_list(void)
{
        return json_pack("{s:s,s:s,s:s,s:[{s:s,s:s,s:b,s:s,s:[s,s]},{s:s,s:s,s:b,s:s,s:[s,s]}]}",
                         "kind", "APIResourceList", "apiVersion", "v1", "groupVersion", GV,
                         "resources", "name", "nodes", "singularName", "", "namespaced", false,
                         "kind", "NodeMetrics", "verbs", "get", "list", "name", "pods",
                         "singularName", "", "namespaced", true, "kind", "PodMetrics", "verbs",
                         "get", "list");
}

json_t *metricsapi_discovery_group(bool aggregated)
{
        if (!aggregated)
                return json_pack("{s:s,s:[{s:s,s:s}],s:{s:s,s:s}}", "name", "metrics.k8s.io",
                                 "versions", "groupVersion", GV, "version", "v1beta1",
                                 "preferredVersion", "groupVersion", GV, "version", "v1beta1");
        json_t *res = json_array();
        static const char *const rs[][3] = {{"nodes", "NodeMetrics", "Cluster"},
                                            {"pods", "PodMetrics", "Namespaced"}};
        for (size_t i = 0; i < ARRAY_SIZE(rs); i++)
                json_array_append_new(
                        res, json_pack("{s:s,s:{s:s,s:s,s:s},s:s,s:s,s:[s,s]}", "resource",
                                       rs[i][0], "responseKind", "group", "metrics.k8s.io",
                                       "version", "v1beta1", "kind", rs[i][1], "scope", rs[i][2],
                                       "singularResource", "", "verbs", "get", "list"));
        return json_pack("{s:{s:s,s:n},s:[{s:s,s:o,s:s}]}", "metadata", "name", "metrics.k8s.io",
                         "creationTimestamp", "versions", "version", "v1beta1", "resources", res,
                         "freshness", "Current");
}

/* ---- serving ---- */

static json_t *labels_of(struct apiserver *a, const char *resource, const char *ns,
                         const char *name)
{
        const struct scheme_resource *r = scheme_lookup("", "v1", resource);
        _cleanup_free_ char *key = scheme_key(r, ns, name);
        struct store_kv kv = {0};
        if (store_get(a->store, key, &kv, NULL) < 0)
                return NULL;
        json_t *o = apiserver_obj_decode(r, kv.value, kv.value_len, kv.mod_rev);
        store_kv_clear(&kv);
        if (!o)
                return NULL;
        json_t *l = json_object_get(json_object_get(o, "metadata"), "labels");
        json_t *ret = json_is_object(l) ? json_incref(l) : json_object();
        json_decref(o);
        return ret;
}

/* A served copy: creationTimestamp now (as metrics-server does) and the object's labels; NULL
 * if the node or pod no longer exists. */
static json_t *served(struct apiserver *a, const json_t *cached, bool pod)
{
        const char *ns = kjson_str(cached, "metadata.namespace");
        const char *name = kjson_str(cached, "metadata.name");
        json_t *labels = labels_of(a, pod ? "pods" : "nodes", ns, name);
        if (!labels)
                return NULL;
        json_t *o = json_deep_copy(cached);
        json_t *meta = json_object_get(o, "metadata");
        char now[32];
        timefmt_rfc3339(now, time(NULL));
        json_object_set_new(meta, "creationTimestamp", json_string(now));
        json_object_set_new(meta, "labels", labels);
        return o;
}

static void respond_list(struct rq *q, bool pods, const char *ns)
{
        struct metricsapi *m = q->a->metricsapi;
        _cleanup_(labels_selector_freep) struct labels_selector *sel = NULL;
        const char *ls = http_req_query(q->req, "labelSelector");
        struct error err = {0};
        if (ls && *ls && labels_selector_parse(ls, &sel, &err) < 0) {
                rq_fail(q, -EBADMSG, NULL, "%s", error_msg(&err));
                return;
        }
        pthread_mutex_lock(&m->lock);
        json_t *snap = json_deep_copy(pods ? m->pods : m->nodes);
        pthread_mutex_unlock(&m->lock);
        json_t *items = json_array(), *v;
        const char *k;
        json_object_foreach(snap, k, v)
        {
                if (ns && strcmp(kjson_str(v, "metadata.namespace") ?: "", ns))
                        continue;
                json_t *o = served(q->a, v, pods);
                if (!o)
                        continue;
                if (sel && !labels_selector_matches(sel, kjson_get(o, "metadata.labels"))) {
                        json_decref(o);
                        continue;
                }
                json_array_append_new(items, o);
        }
        json_decref(snap);
        _cleanup_(json_decrefp) json_t *list =
                json_pack("{s:s,s:s,s:{},s:o}", "kind", pods ? "PodMetricsList" : "NodeMetricsList",
                          "apiVersion", GV, "metadata", "items", items);
        rq_respond_json(q, 200, list);
}

static void respond_one(struct rq *q, bool pods, const char *ns, const char *name)
{
        struct metricsapi *m = q->a->metricsapi;
        _cleanup_free_ char *key = pods ? xasprintf("%s/%s", ns, name) : xstrdup(name);
        pthread_mutex_lock(&m->lock);
        json_t *c = json_object_get(pods ? m->pods : m->nodes, key);
        json_t *snap = c ? json_deep_copy(c) : NULL;
        pthread_mutex_unlock(&m->lock);
        _cleanup_(json_decrefp) json_t *o = snap ? served(q->a, snap, pods) : NULL;
        json_decref(snap);
        if (!o) {
                rq_fail(q, -ENOENT, status_details(name, "metrics.k8s.io", pods ? "pods" : "nodes"),
                        "%s.metrics.k8s.io \"%s\" not found", pods ? "pods" : "nodes", name);
                return;
        }
        rq_respond_json(q, 200, o);
}

bool metricsapi_route(struct rq *q)
{
        const char *p = q->path;
        static const char root[] = "/apis/metrics.k8s.io";
        if (strncmp(p, root, sizeof(root) - 1) ||
            (p[sizeof(root) - 1] && p[sizeof(root) - 1] != '/'))
                return false;
        if (strcmp(q->method, "GET") && strcmp(q->method, "HEAD")) {
                rq_fail(q, -EOPNOTSUPP, json_object(),
                        "the server does not allow this method on the requested resource");
                return true;
        }
        char buf[512];
        snprintf(buf, sizeof(buf), "%s", p + sizeof(root) - 1);
        char *segs[8], *save = NULL, *s;
        size_t n = 0;
        for (s = strtok_r(buf, "/", &save); s && n < ARRAY_SIZE(segs);
             s = strtok_r(NULL, "/", &save))
                segs[n++] = s;
        if (n == 0) {
                json_t *g = metricsapi_discovery_group(false);
                json_object_set_new(g, "kind", json_string("APIGroup"));
                json_object_set_new(g, "apiVersion", json_string("v1"));
                rq_respond_json(q, 200, g);
                json_decref(g);
                return true;
        }
        if (strcmp(segs[0], "v1beta1"))
                goto not_found;
        if (n == 1) {
                _cleanup_(json_decrefp) json_t *l = resource_list();
                rq_respond_json(q, 200, l);
                return true;
        }
        ensure_started(q->a->metricsapi);
        if (!strcmp(segs[1], "nodes") && n <= 3) {
                if (n == 2)
                        respond_list(q, false, NULL);
                else
                        respond_one(q, false, NULL, segs[2]);
                return true;
        }
        if (!strcmp(segs[1], "pods") && n == 2) {
                respond_list(q, true, NULL);
                return true;
        }
        if (!strcmp(segs[1], "namespaces") && n >= 4 && n <= 5 && !strcmp(segs[3], "pods")) {
                if (n == 4)
                        respond_list(q, true, segs[2]);
                else
                        respond_one(q, true, segs[2], segs[4]);
                return true;
        }
not_found:
        rq_fail(q, -ENOENT, json_object(), "the server could not find the requested resource");
        return true;
}
