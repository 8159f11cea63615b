/* logs.c — pods/log: proxy GET /containerLogs/NS/POD/CONTAINER to the pod's kubelet (libcurl in
 * a worker thread), streaming chunks back to the client through the loop (http_server_post). */
#include "apiserver/apiserver-internal.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "apiserver/status.h"
#include "common/kjson.h"
#include "common/log.h"

#define COMP "apiserver"
#define LOGS_BACKLOG_MAX (8 * 1024 * 1024)

struct logproxy {
        struct apiserver *a;
        struct http_stream *st; /* loop thread only; NULL once closed */
        atomic_int refs;        /* worker + stream */
        atomic_bool abort;
        atomic_size_t backlog; /* bytes posted to the loop and not yet written + queued */
        char *url;
        char *cert, *key, *ca;
        bool wrote; /* worker: any data received */
};

struct chunk {
        struct logproxy *p;
        size_t len;
        bool end;
        char data[];
};

static void proxy_unref(struct logproxy *p)
{
        if (atomic_fetch_sub(&p->refs, 1) != 1)
                return;
        free(p->url);
        free(p->cert);
        free(p->key);
        free(p->ca);
        free(p);
}

static void deliver(void *ud)
{
        struct chunk *c = ud;
        struct logproxy *p = c->p;
        if (p->st) {
                if (c->len)
                        http_stream_write(p->st, c->data, c->len);
                if (c->end && p->st)
                        http_stream_end(p->st);
        }
        atomic_fetch_sub(&p->backlog, c->len);
        if (c->end)
                proxy_unref(p); /* the worker's reference */
        free(c);
}

static void post_chunk(struct logproxy *p, const char *data, size_t len, bool end)
{
        struct chunk *c = xmalloc(sizeof(*c) + len);
        c->p = p;
        c->len = len;
        c->end = end;
        if (len)
                memcpy(c->data, data, len);
        atomic_fetch_add(&p->backlog, len);
        http_server_post(p->a->http, deliver, c);
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
        struct logproxy *p = ud;
        size_t n = size * nmemb;
        if (atomic_load(&p->abort))
                return 0;
        /* Back-pressure: wait while the client is far behind. */
        while (atomic_load(&p->backlog) > LOGS_BACKLOG_MAX && !atomic_load(&p->abort))
                usleep(10000);
        p->wrote = true;
        post_chunk(p, ptr, n, false);
        return n;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
        struct logproxy *p = ud;
        return atomic_load(&p->abort) ? 1 : 0;
}

static void *worker(void *ud)
{
        struct logproxy *p = ud;
        CURL *h = curl_easy_init();
        char errbuf[CURL_ERROR_SIZE] = "";
        if (h) {
                curl_easy_setopt(h, CURLOPT_URL, p->url);
                curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
                curl_easy_setopt(h, CURLOPT_WRITEDATA, p);
                curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
                curl_easy_setopt(h, CURLOPT_XFERINFODATA, p);
                curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
                curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
                curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
                curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
                curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
                if (p->cert) {
                        curl_easy_setopt(h, CURLOPT_SSLCERT, p->cert);
                        curl_easy_setopt(h, CURLOPT_SSLKEY, p->key);
                        curl_easy_setopt(h, CURLOPT_CAINFO, p->ca);
                        /* The kubelet's serving cert is signed by our CA but its SANs are not
                         * guaranteed to carry the node address (kube-apiserver does not verify
                         * kubelet certs by default at all). */
                        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
                }
                CURLcode rc = curl_easy_perform(h);
                if (rc != CURLE_OK && !atomic_load(&p->abort) && !p->wrote) {
                        char msg[CURL_ERROR_SIZE + 64];
                        snprintf(msg, sizeof(msg), "error talking to the kubelet: %s\n",
                                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
                        post_chunk(p, msg, strlen(msg), false);
                }
                curl_easy_cleanup(h);
        }
        struct apiserver *a = p->a;
        post_chunk(p, NULL, 0, true);
        __atomic_fetch_sub(&a->log_workers, 1, __ATOMIC_SEQ_CST);
        return NULL;
}

static void on_close(void *ud)
{
        struct logproxy *p = ud;
        p->st = NULL;
        atomic_store(&p->abort, true);
        proxy_unref(p);
}

static void append_param(char *buf, size_t size, size_t *off, const char *name, const char *v)
{
        if (!v || !*v || *off >= size)
                return;
        *off += (size_t)snprintf(buf + *off, size - *off, "%s%s=%s", *off ? "&" : "", name, v);
}

static bool safe_param(const char *v)
{
        for (const char *c = v ? v : ""; *c; c++)
                if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
                      (*c >= 'A' && *c <= 'Z') || *c == '-' || *c == '.' || *c == '_'))
                        return false;
        return true;
}

/* The kubelet's validateContainerLogStatus, answered from the pod status we hold, so the
 * common "not started yet" cases are proper 400s rather than text in a 200 stream. Returns <0
 * if it responded. */
static int log_precheck(struct rq *q, const json_t *pod, const char *name, const char *container)
{
        const json_t *cs = NULL;
        const char *lists[] = {"status.containerStatuses", "status.initContainerStatuses",
                               "status.ephemeralContainerStatuses"};
        for (size_t l = 0; l < ARRAY_SIZE(lists) && !cs; l++) {
                size_t i;
                json_t *c;
                json_array_foreach(kjson_get(pod, lists[l]), i, c)
                {
                        const char *cn = kjson_str(c, "name");
                        if (cn && !strcmp(cn, container)) {
                                cs = c;
                                break;
                        }
                }
        }
        bool previous = apiserver_parse_bool(http_req_query(q->req, "previous"));
        if (!cs) {
                if (!kjson_str(pod, "spec.nodeName"))
                        return 0; /* reported below */
                rq_fail(q, -EBADMSG, NULL,
                        "container \"%s\" in pod \"%s\" is waiting to start: ContainerCreating",
                        container, name);
                return -EBADMSG;
        }
        bool last_term = json_is_object(kjson_get(cs, "lastState.terminated"));
        if (previous) {
                if (!last_term || !kjson_str(cs, "lastState.terminated.containerID")) {
                        rq_fail(q, -EBADMSG, NULL,
                                "previous terminated container \"%s\" in pod \"%s\" not found",
                                container, name);
                        return -EBADMSG;
                }
                return 0;
        }
        if (json_is_object(kjson_get(cs, "state.running")) ||
            json_is_object(kjson_get(cs, "state.terminated")) || last_term)
                return 0;
        const char *reason = kjson_str(cs, "state.waiting.reason");
        if (json_is_object(kjson_get(cs, "state.waiting"))) {
                const char *what = reason ? reason : "";
                if (reason && !strcmp(reason, "ErrImagePull"))
                        what = "image can't be pulled";
                else if (reason && !strcmp(reason, "ImagePullBackOff"))
                        what = "trying and failing to pull image";
                rq_fail(q, -EBADMSG, NULL, "container \"%s\" in pod \"%s\" is waiting to start: %s",
                        container, name, what);
                return -EBADMSG;
        }
        rq_fail(q, -EBADMSG, NULL,
                "container \"%s\" in pod \"%s\" is waiting to start - no logs yet", container,
                name);
        return -EBADMSG;
}

/* GET https://ip:port<path> on the kubelet in a worker thread, streamed back to q's client. */
static void start_proxy(struct rq *q, const char *ip, int64_t port, const char *path,
                        const char *content_type)
{
        struct logproxy *p = xcalloc(1, sizeof(*p));
        p->a = q->a;
        atomic_init(&p->refs, 2);
        p->url = xasprintf("%s://%s:%lld%s", q->a->kubelet_cert ? "https" : "http", ip,
                           (long long)port, path);
        if (q->a->kubelet_cert) {
                p->cert = xstrdup(q->a->kubelet_cert);
                p->key = xstrdup(q->a->kubelet_key);
                p->ca = xstrdup(q->a->ca_file);
        }
        q->status = 200;
        p->st = http_req_stream_start(q->req, 200, content_type, on_close, p);
        if (!p->st) {
                atomic_store(&p->refs, 1);
                proxy_unref(p);
                return;
        }
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        __atomic_fetch_add(&q->a->log_workers, 1, __ATOMIC_SEQ_CST);
        if (pthread_create(&t, &attr, worker, p) != 0) {
                __atomic_fetch_sub(&q->a->log_workers, 1, __ATOMIC_SEQ_CST);
                log_err(COMP, "pods/log: cannot start worker thread");
                http_stream_end(p->st);
                proxy_unref(p);
        }
        pthread_attr_destroy(&attr);
}

/* The kubelet endpoint of node: its InternalIP and daemonEndpoints port. Fails q (NotFound,
 * BadRequest) and returns -1 if there is none. */
static int node_endpoint(struct rq *q, const char *node, char **ret_ip, int64_t *ret_port)
{
        size_t i;
        json_t *c;
        const struct scheme_resource *nr = scheme_lookup("", "v1", "nodes");
        _cleanup_free_ char *key = scheme_key(nr, NULL, node);
        struct store_kv kv = {0};
        struct error err = {0};
        if (store_get(q->a->store, key, &kv, &err) < 0) {
                rq_fail(q, -ENOENT, status_details(node, "", "nodes"), "nodes \"%s\" not found",
                        node);
                return -1;
        }
        _cleanup_(json_decrefp) json_t *nobj =
                apiserver_obj_decode(nr, kv.value, kv.value_len, kv.mod_rev);
        store_kv_clear(&kv);
        const char *ip = NULL;
        json_array_foreach(kjson_get(nobj, "status.addresses"), i, c)
        {
                const char *t = kjson_str(c, "type");
                if (t && !strcmp(t, "InternalIP") && !ip)
                        ip = kjson_str(c, "address");
        }
        int64_t port = kjson_int(nobj, "status.daemonEndpoints.kubeletEndpoint.Port", 10250);
        if (!ip) {
                rq_fail(q, -EBADMSG, NULL, "node %s has no InternalIP address", node);
                return -1;
        }
        *ret_ip = xstrdup(ip);
        *ret_port = port;
        return 0;
}

void logs_proxy(struct rq *q, const json_t *pod)
{
        const char *name = kjson_str(pod, "metadata.name");
        const char *container = http_req_query(q->req, "container");
        const json_t *cs = kjson_get(pod, "spec.containers");
        if (!container || !*container) {
                if (json_array_size(cs) == 1) {
                        container = kjson_str(json_array_get(cs, 0), "name");
                } else {
                        char names[1024] = "";
                        size_t off = 0, i;
                        json_t *c;
                        json_array_foreach(cs, i, c)
                        {
                                if (off < sizeof(names))
                                        off += (size_t)snprintf(
                                                names + off, sizeof(names) - off, "%s%s",
                                                i ? " " : "",
                                                kjson_str(c, "name") ? kjson_str(c, "name") : "");
                        }
                        rq_fail(q, -EBADMSG, NULL,
                                "a container name must be specified for pod %s, choose one of: "
                                "[%s]",
                                name, names);
                        return;
                }
        }
        bool found = false;
        size_t i;
        json_t *c;
        const char *lists[] = {"spec.containers", "spec.initContainers",
                               "spec.ephemeralContainers"};
        for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
                json_array_foreach(kjson_get(pod, lists[l]), i, c)
                {
                        const char *cn = kjson_str(c, "name");
                        if (cn && !strcmp(cn, container))
                                found = true;
                }
        if (!found) {
                rq_fail(q, -EBADMSG, NULL, "container %s is not valid for pod %s", container, name);
                return;
        }
        if (log_precheck(q, pod, name, container) < 0)
                return;
        const char *node = kjson_str(pod, "spec.nodeName");
        if (!node || !*node) {
                rq_fail(q, -EBADMSG, NULL, "pod %s does not have a host assigned", name);
                return;
        }
        _cleanup_free_ char *ip = NULL;
        int64_t port;
        if (node_endpoint(q, node, &ip, &port) < 0)
                return;
        const char *pnames[] = {"follow",       "tailLines", "timestamps", "previous",
                                "sinceSeconds", "sinceTime", "limitBytes"};
        char qs[512] = "";
        size_t off = 0;
        for (size_t k = 0; k < ARRAY_SIZE(pnames); k++) {
                const char *v = http_req_query(q->req, pnames[k]);
                if (!v || !*v)
                        continue;
                if (!safe_param(v) && strcmp(pnames[k], "sinceTime")) {
                        rq_fail(q, -EBADMSG, NULL, "invalid value for %s", pnames[k]);
                        return;
                }
                if (!strcmp(pnames[k], "sinceTime")) {
                        _cleanup_free_ char *esc = NULL;
                        CURL *h = curl_easy_init();
                        char *e = h ? curl_easy_escape(h, v, 0) : NULL;
                        if (e) {
                                esc = xstrdup(e);
                                curl_free(e);
                        }
                        if (h)
                                curl_easy_cleanup(h);
                        append_param(qs, sizeof(qs), &off, pnames[k], esc);
                        continue;
                }
                append_param(qs, sizeof(qs), &off, pnames[k], v);
        }
        const char *ns = kjson_str(pod, "metadata.namespace");
        _cleanup_free_ char *path = xasprintf("/containerLogs/%s/%s/%s%s%s", ns ? ns : "", name,
                                              container, off ? "?" : "", qs);
        start_proxy(q, ip, port, path, "text/plain");
}

void logs_node_proxy(struct rq *q, const char *node, const char *rest)
{
        _cleanup_free_ char *ip = NULL;
        int64_t port;
        if (strcmp(q->method, "GET")) {
                rq_fail(q, -EBADMSG, NULL, "only GET is proxied to nodes");
                return;
        }
        for (const char *c = rest; *c; c++)
                if ((unsigned char)*c <= ' ' || *c == '#' || *c == '\\' || *c == '?') {
                        rq_fail(q, -EBADMSG, NULL, "invalid proxy path");
                        return;
                }
        if (node_endpoint(q, node, &ip, &port) < 0)
                return;
        const char *qs = http_req_query_raw(q->req);
        _cleanup_free_ char *path =
                xasprintf("/%s%s%s", rest, qs && *qs ? "?" : "", qs && *qs ? qs : "");
        start_proxy(q, ip, port, path,
                    !strncmp(rest, "stats", 5) ? "application/json"
                                               : "text/plain; version=0.0.4; charset=utf-8");
}
