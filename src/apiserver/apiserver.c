/* apiserver.c — lifecycle, request routing, authentication, audit, shared helpers. */
#include "apiserver/apiserver-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "api/crd.h"
#include "api/events.h"
#include "api/protobuf.h"
#include "apiserver/audit.h"
#include "apiserver/authn.h"
#include "apiserver/authz.h"
#include "apiserver/discovery.h"
#include "apiserver/metrics.h"
#include "apiserver/status.h"
#include "common/kjson.h"
#include "common/kyaml.h"
#include "common/log.h"
#include "common/strv.h"
#include "common/timefmt.h"

#define COMP "apiserver"

/* ---- responses ---- */

/* Deferred acknowledgement (store.h "Durability"): the loop thread's writes return once
 * committed; a response leaves only once every write this thread made so far is durable, so a
 * 2xx never acknowledges a write that a crash could lose, and reads never show one. Meanwhile
 * the loop serves other requests, whose writes share the store's next fsync (group commit). */
struct deferred {
        struct apiserver *a;
        struct http_req *req;
        bool gone; /* the client went away meanwhile (http_req_on_gone) */
        int status;
        char *ct;
        size_t len;
        char body[];
};

static void deferred_respond(void *ud)
{
        struct deferred *d = ud;
        if (!d->gone) { /* the request is alive: unhook d before it is freed */
                http_req_on_gone(d->req, NULL, NULL);
                if (!http_server_is_stopping(d->a->http)) {
                        http_req_resume(d->req);
                        http_req_respond(d->req, d->status, d->ct, d->body, d->len);
                }
        }
        __atomic_fetch_sub(&d->a->deferred, 1, __ATOMIC_SEQ_CST);
        free(d->ct);
        free(d);
}

static void deferred_gone(void *ud)
{
        ((struct deferred *)ud)->gone = true;
}

static void deferred_durable(void *ud)
{
        struct deferred *d = ud;
        http_server_post(d->a->http, deferred_respond, d);
}

static void respond(struct rq *q, int http, const char *ct, const char *body, size_t len)
{
        q->status = http;
        int64_t rev = store_thread_last_write();
        if (rev <= store_durable_revision(q->a->store)) {
                http_req_respond(q->req, http, ct, body, len);
                return;
        }
        struct deferred *d = xmalloc(sizeof(*d) + len + 1);
        *d = (struct deferred){.a = q->a, .req = q->req, .status = http, .len = len};
        d->ct = ct ? xstrdup(ct) : NULL;
        memcpy(d->body, body, len);
        d->body[len] = 0;
        http_req_defer(q->req);
        http_req_on_gone(q->req, deferred_gone, d);
        __atomic_fetch_add(&q->a->deferred, 1, __ATOMIC_SEQ_CST);
        store_on_durable(q->a->store, rev, deferred_durable, d);
}

void rq_respond_json(struct rq *q, int http, const json_t *obj)
{
        _cleanup_free_ char *s = kjson_dump(obj);
        respond(q, http, "application/json", s, strlen(s));
}

void rq_respond_text(struct rq *q, int http, const char *ct, const char *text)
{
        respond(q, http, ct, text, strlen(text));
}

void rq_fail(struct rq *q, int code, json_t *details, const char *fmt, ...)
{
        char msg[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_t *st = status_new(code, msg, details);
        rq_respond_json(q, status_http_code(code), st);
        json_decref(st);
}

void rq_fail_not_found(struct rq *q, const struct scheme_resource *r, const char *name)
{
        if (!r)
                r = scheme_lookup("", "v1", "namespaces");
        _cleanup_free_ char *qr = scheme_qualified_resource(r);
        rq_fail(q, -ENOENT, status_details(name, r->group, r->resource), "%s \"%s\" not found", qr,
                name);
}

void rq_fail_err(struct rq *q, const struct error *err)
{
        rq_fail(q, err->code ? err->code : -EIO, NULL, "%s", error_msg(err));
}

bool apiserver_parse_bool(const char *s)
{
        if (!s)
                return false;
        return !strcmp(s, "1") || !strcmp(s, "t") || !strcmp(s, "T") || !strcmp(s, "true") ||
               !strcmp(s, "TRUE") || !strcmp(s, "True");
}

bool rq_wants_table(struct rq *q)
{
        const char *accept = http_req_header(q->req, "accept");
        return accept && strstr(accept, "as=Table");
}

json_t *apiserver_obj_decode(const struct scheme_resource *r, const char *value, size_t len,
                             int64_t rev)
{
        json_t *obj = NULL;
        if (kjson_parse(value, len, 0, &obj, NULL) < 0 || !json_is_object(obj)) {
                json_decref(obj);
                return NULL;
        }
        if (!r) /* the watch cache's custom resources: as stored */
                goto out;
        if (!strcmp(r->group, "events.k8s.io")) {
                /* stored in the core/v1 form (one storage for both Event APIs) */
                json_t *conv = events_from_core(obj);
                json_decref(obj);
                obj = conv;
        }
        json_object_set_new(obj, "kind", json_string(r->kind));
        json_object_set_new(obj, "apiVersion", json_string(scheme_api_version(r)));
out:;
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long)rev);
        json_object_set_new(kjson_obj_ensure(obj, "metadata"), "resourceVersion", json_string(buf));
        return obj;
}

char *apiserver_obj_encode(const json_t *obj, size_t *ret_len)
{
        const char *av = json_string_value(json_object_get(obj, "apiVersion"));
        bool event_v1 = av && !strcmp(av, "events.k8s.io/v1");
        json_t *copy = event_v1 ? events_to_core(obj) : json_copy((json_t *)obj);
        /* custom resources are stored in their CRD's storage version */
        const char *sav =
                crd_storage_api_version(av, json_string_value(json_object_get(obj, "kind")));
        if (sav)
                json_object_set_new(copy, "apiVersion", json_string(sav));
        json_t *meta = json_object_get(copy, "metadata");
        if (json_is_object(meta)) {
                json_t *m2 = json_copy(meta);
                json_object_del(m2, "resourceVersion");
                json_object_del(m2, "selfLink");
                json_object_set_new(copy, "metadata", m2);
        }
        char *s = kjson_dump(copy);
        json_decref(copy);
        *ret_len = strlen(s);
        return s;
}

/* ---- non-resource endpoints ---- */

static void serve_version(struct rq *q)
{
        json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "major", "1", "minor", "31",
                              "gitVersion", "v1.31.0-timonel", "gitCommit",
                              "0000000000000000000000000000000000000000", "gitTreeState", "clean",
                              "buildDate", "2026-01-01T00:00:00Z", "goVersion", "go1.22.0",
                              "compiler", "gc", "platform", "linux/amd64");
        rq_respond_json(q, 200, v);
        json_decref(v);
}

static void not_found_path(struct rq *q)
{
        rq_fail(q, -ENOENT, json_object(), "the server could not find the requested resource");
}

static void serve_json_or_404(struct rq *q, json_t *doc, const char *ct)
{
        if (!doc) {
                not_found_path(q);
                return;
        }
        _cleanup_free_ char *s = kjson_dump(doc);
        json_decref(doc);
        q->status = 200;
        http_req_respond(q->req, 200, ct, s, strlen(s));
}

/* Split path into at most max segments (copied into buf). */
static size_t split_path(const char *path, char *buf, size_t bufsz, char **segs, size_t max)
{
        snprintf(buf, bufsz, "%s", path);
        size_t n = 0;
        char *save = NULL;
        for (char *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
                if (n == max)
                        return max + 1;
                segs[n++] = t;
        }
        return n;
}

static void route_api(struct rq *q, const char *group, const char *version, char **segs, size_t n)
{
        /* segs: what follows the group-version. */
        const struct scheme_resource *r = NULL;
        if (n >= 3 && !strcmp(segs[0], "namespaces") &&
            (r = scheme_lookup(group, version, segs[2])) && r->namespaced) {
                if (n > 5) {
                        not_found_path(q);
                        return;
                }
                q->res = r;
                q->ns = xstrdup(segs[1]);
                q->name = n >= 4 ? xstrdup(segs[3]) : NULL;
                q->sub = n >= 5 ? xstrdup(segs[4]) : NULL;
        } else {
                r = n >= 1 ? scheme_lookup(group, version, segs[0]) : NULL;
                if (!r || n > 3) {
                        not_found_path(q);
                        return;
                }
                q->res = r;
                q->name = n >= 2 ? xstrdup(segs[1]) : NULL;
                q->sub = n >= 3 ? xstrdup(segs[2]) : NULL;
        }
        if (q->sub && !scheme_subresource(q->res, q->sub)) {
                not_found_path(q);
                return;
        }
        const char *dep = crd_served_deprecation(r); /* a deprecated custom resource version */
        if (dep) { /* a quoted-string: \ and " escaped */
                size_t cap = 2 * strlen(dep) + 9;
                _cleanup_free_ char *w = xmalloc(cap);
                size_t o = (size_t)snprintf(w, cap, "299 - \"");
                for (const char *c = dep; *c; c++) {
                        if (*c == '"' || *c == '\\')
                                w[o++] = '\\';
                        w[o++] = *c;
                }
                snprintf(w + o, cap - o, "\"");
                http_req_add_header(q->req, "Warning", w);
        }
        handlers_resource(q);
        /* A CRD written: its status, the served resources, the instances of removed ones. */
        if (!strcmp(r->group, "apiextensions.k8s.io") && strcmp(q->method, "GET") &&
            strcmp(q->method, "HEAD"))
                crdsync_run(q->a);
}

static void route(struct rq *q)
{
        const char *p = q->path;
        if (!strcmp(p, "/version") || !strcmp(p, "/version/")) {
                serve_version(q);
                return;
        }
        if (!strncmp(p, "/healthz", 8) || !strncmp(p, "/livez", 6) || !strncmp(p, "/readyz", 7)) {
                rq_respond_text(q, 200, "text/plain; charset=utf-8", "ok");
                return;
        }
        if (reviews_route(q) || metricsapi_route(q))
                return;
        if (!strcmp(p, "/metrics") && (!strcmp(q->method, "GET") || !strcmp(q->method, "HEAD"))) {
                _cleanup_free_ char *text = metrics_render(q->a->metrics);
                rq_respond_text(q, 200, "text/plain; version=0.0.4; charset=utf-8", text);
                return;
        }
        char buf[2048];
        char *segs[16];
        size_t n = split_path(p, buf, sizeof(buf), segs, ARRAY_SIZE(segs));
        if (n > ARRAY_SIZE(segs) || strlen(p) >= sizeof(buf)) {
                not_found_path(q);
                return;
        }
        bool get = !strcmp(q->method, "GET") || !strcmp(q->method, "HEAD");
        const char *accept = http_req_header(q->req, "accept");
        if (n >= 1 && !strcmp(segs[0], "api")) {
                if (n == 1 && get) {
                        const char *agg = discovery_accepts_aggregated(accept);
                        if (agg)
                                serve_json_or_404(q, discovery_aggregated(true, agg),
                                                  !strcmp(agg, "v2") ? DISCOVERY_CT_V2
                                                                     : DISCOVERY_CT_V2BETA1);
                        else
                                serve_json_or_404(q, discovery_api_versions(), "application/json");
                        return;
                }
                if (n == 2 && get) {
                        serve_json_or_404(q, discovery_resource_list("", segs[1]),
                                          "application/json");
                        return;
                }
                if (n >= 5 && !strcmp(segs[1], "v1") && !strcmp(segs[2], "nodes") &&
                    !strcmp(segs[4], "proxy")) {
                        /* nodes/proxy: GET /api/v1/nodes/N/proxy/<path> on N's kubelet */
                        const char *rest = strstr(p, "/proxy/");
                        logs_node_proxy(q, segs[3], rest ? rest + 7 : "");
                        return;
                }
                if (n >= 3 && !strcmp(segs[1], "v1")) {
                        route_api(q, "", "v1", segs + 2, n - 2);
                        return;
                }
        } else if (n >= 1 && !strcmp(segs[0], "apis")) {
                if (n == 1 && get) {
                        const char *agg = discovery_accepts_aggregated(accept);
                        if (agg)
                                serve_json_or_404(q, discovery_aggregated(false, agg),
                                                  !strcmp(agg, "v2") ? DISCOVERY_CT_V2
                                                                     : DISCOVERY_CT_V2BETA1);
                        else
                                serve_json_or_404(q, discovery_group_list(), "application/json");
                        return;
                }
                if (n == 2 && get) {
                        serve_json_or_404(q, discovery_group(segs[1]), "application/json");
                        return;
                }
                if (n == 3 && get) {
                        serve_json_or_404(q, discovery_resource_list(segs[1], segs[2]),
                                          "application/json");
                        return;
                }
                if (n >= 4) {
                        route_api(q, segs[1], segs[2], segs + 3, n - 3);
                        return;
                }
        } else if (n == 2 && !strcmp(segs[0], "openapi") && !strcmp(segs[1], "v2") && get) {
                /* An empty openapi_v2.Document (zero protobuf bytes): kubectl falls back to v2
                 * only for kinds the v3 documents do not serve, finds no schema and skips
                 * client-side validation, so an unknown kind fails with kubectl's own
                 * "no matches for kind" instead of "failed to download openapi". */
                q->status = 200;
                http_req_respond(q->req, 200,
                                 "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", "",
                                 0);
                return;
        } else if (n >= 2 && !strcmp(segs[0], "openapi") && !strcmp(segs[1], "v3") && get) {
                if (n == 2) {
                        serve_json_or_404(q, openapi_index(), "application/json");
                        return;
                }
                const char *rest = strstr(p, "/openapi/v3/") + strlen("/openapi/v3/");
                serve_json_or_404(q, openapi_group_version(rest), "application/json");
                return;
        }
        not_found_path(q);
}

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* RBAC writes may not grant more than the writer holds (authz_check_escalation); responds and
 * returns false when they do. A body that does not decode passes: the handler answers it. */
static bool escalation_ok(struct rq *q)
{
        const struct authz_attrs *at = q->attrs;
        if (!at->resource_request || !at->group || strcmp(at->group, "rbac.authorization.k8s.io") ||
            (strcmp(at->verb, "create") && strcmp(at->verb, "update")) ||
            authn_user_in_group(q->auth, "system:masters"))
                return true;
        size_t len = 0;
        const char *body = http_req_body(q->req, &len);
        const char *ct = http_req_header(q->req, "content-type");
        _cleanup_(json_decrefp) json_t *obj = NULL;
        if (!body || !len || len > APISERVER_MAX_BODY)
                return true;
        int r = ct && strstr(ct, "protobuf") ? protobuf_decode_k8s(body, len, &obj, NULL)
                : ct && strstr(ct, "yaml")   ? kyaml_parse_one(body, len, &obj, NULL)
                                             : kjson_parse(body, len, 0, &obj, NULL);
        if (r < 0 || !json_is_object(obj))
                return true;
        _cleanup_free_ char *msg = NULL;
        if (authz_check_escalation(q->a->authorizer, q->auth, at, obj, &msg) == 0)
                return true;
        const char *name = kjson_str(obj, "metadata.name");
        rq_fail(q, -EACCES, status_details(name ? name : at->name, at->group, at->resource), "%s",
                msg);
        return false;
}

/* Authentication and authorization (kube-apiserver's filter chain); responds and returns false
 * when the request may not proceed. Plain HTTP (unit tests) has neither: the user is
 * system:unsecured in system:masters, as on kube-apiserver's old insecure port. */
static bool authenticate_authorize(struct rq *q)
{
        struct apiserver *a = q->a;
        if (!a->authn) {
                *q->auth = (struct authn_user){
                        .name = xstrdup("system:unsecured"),
                        .groups = strv_push(strv_push(NULL, "system:masters"),
                                            "system:authenticated"),
                };
                return true;
        }
        struct error err = {0};
        int r = authn_request(a->authenticator, http_req_user(q->req), http_req_groups(q->req),
                              http_req_header(q->req, "authorization"), q->auth, &err);
        if (r < 0) {
                log_debug(COMP, "authentication failed from %s: %s", http_req_remote(q->req),
                          error_msg(&err));
                authn_user_anonymous(q->auth);
                rq_fail(q, -EPERM, NULL, "Unauthorized");
                return false;
        }
        const char *as_user = http_req_header(q->req, "impersonate-user");
        const char *as_group = http_req_header(q->req, "impersonate-group");
        const char *as_uid = http_req_header(q->req, "impersonate-uid");
        if (r > 0 && (as_user || as_group || as_uid)) {
                struct authn_user as = {0};
                _cleanup_free_ char *msg = NULL;
                int ir = authz_impersonate(a->authorizer, q->auth, as_user, as_group, as_uid,
                                           &as, &msg);
                if (ir < 0) {
                        rq_fail(q, ir == -EACCES ? -EACCES : -EBADMSG,
                                ir == -EACCES ? json_object() : NULL, "%s", msg);
                        return false;
                }
                authn_user_clear(q->auth);
                *q->auth = as;
        }
        if (authz_allows(a->authorizer, q->auth, q->attrs, NULL))
                return escalation_ok(q);
        if (r == 0) {
                /* anonymous and not a public path: 401 (anonymous requests are rejected) */
                rq_fail(q, -EPERM, NULL, "Unauthorized");
                return false;
        }
        _cleanup_free_ char *msg = authz_forbidden_message(q->auth, q->attrs);
        const struct authz_attrs *at = q->attrs;
        json_t *d = at->resource_request
                            ? status_details(at->name, at->group, at->resource)
                            : json_object();
        rq_fail(q, -EACCES, d, "%s", msg);
        return false;
}

static bool is_mutating(const char *method)
{
        return strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
}

static void on_request(struct http_req *req, void *userdata)
{
        struct apiserver *a = userdata;
        double t0 = now_ms();
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        const char *query = http_req_query_raw(req);
        struct authn_user user = {0};
        struct authz_attrs attrs = {0};
        struct rq q = {
                .a = a,
                .req = req,
                .method = http_req_method(req),
                .path = http_req_path(req),
                .auth = &user,
                .attrs = &attrs,
        };
        authz_request_info_parse(q.method, q.path, query, &attrs);
        bool mutating = is_mutating(q.method);
        metrics_inflight_add(a->metrics, mutating, 1);
        bool ok = authenticate_authorize(&q);
        q.user = user.name;
        if (ok) {
                route(&q);
                serviceaccount_secret_written(&q);
        }
        metrics_inflight_add(a->metrics, mutating, -1);
        double ms = now_ms() - t0;
        if (attrs.resource_request) {
                struct metrics_labels ml;
                metrics_labels_from_attrs(&attrs, http_req_header(req, "content-type"),
                                          http_req_query(req, "dryRun") != NULL, &ml);
                metrics_request_observe(a->metrics, &ml, q.status, ms / 1000.0);
        }
        struct audit_record ar = {
                .ts = wall,
                .user = &user,
                .attrs = &attrs,
                .method = q.method,
                .path = q.path,
                .query = query,
                .remote = http_req_remote(req),
                .user_agent = http_req_header(req, "user-agent"),
                .code = q.status,
                .latency_ms = ms,
        };
        audit_log(&ar);
        authn_user_clear(&user);
        authz_attrs_clear(&attrs);
        free(q.ns);
        free(q.name);
        free(q.sub);
}

/* ---- lifecycle ---- */

int apiserver_new(const struct apiserver_config *cfg, struct apiserver **ret, struct error *err)
{
        struct apiserver *a = xcalloc(1, sizeof(*a));
        a->store = cfg->store;
        a->bookmark_ms = APISERVER_BOOKMARK_MS;
        a->event_ttl_s = cfg->event_ttl_s > 0 ? cfg->event_ttl_s : APISERVER_EVENT_TTL_S;
        _cleanup_free_ char *cert = NULL, *key = NULL;
        struct http_server_config hc = {
                .bind_address = cfg->bind_address,
                .port = cfg->port,
                .max_body = APISERVER_ADAPTER_MAX_BODY,
        };
        if (cfg->tls_dir) {
                cert = xasprintf("%s/server.crt", cfg->tls_dir);
                key = xasprintf("%s/server.key", cfg->tls_dir);
                a->ca_file = xasprintf("%s/ca.crt", cfg->tls_dir);
                a->kubelet_cert = xasprintf("%s/kubelet-client.crt", cfg->tls_dir);
                a->kubelet_key = xasprintf("%s/kubelet-client.key", cfg->tls_dir);
                hc.cert_file = cert;
                hc.key_file = key;
                hc.client_ca_file = a->ca_file;
                a->authn = true;
        }
        a->metrics = metrics_new();
        a->metricsapi = metricsapi_new(a);
        struct authn_config ac = {
                .tls_dir = cfg->tls_dir,
                .token_auth_file = cfg->token_auth_file,
                .store = cfg->store,
        };
        int r = authn_new(&ac, &a->authenticator, err);
        if (r >= 0)
                r = handlers_bootstrap(a, err);
        if (r >= 0)
                crdsync_run(a);
        if (r >= 0)
                r = authz_bootstrap(a->store, err);
        if (r >= 0 && a->authn)
                r = authz_new(a->store, &a->authorizer, err);
        if (r >= 0)
                r = http_server_new(&hc, on_request, a, &a->http, err);
        if (r >= 0)
                r = watch_cache_start(a, err);
        if (r < 0) {
                apiserver_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

/* Events expire an hour (--event-ttl) after they were created: they are created with a lease
 * (store_create_ttl, as kube-apiserver does on etcd) and the store deletes them; this sweep,
 * run with the compaction tick, catches those stored without one (by older versions). */
static void expire_events(struct apiserver *a)
{
        const struct scheme_resource *r = scheme_lookup("", "v1", "events");
        _cleanup_free_ char *prefix = scheme_prefix(r, NULL);
        struct store_list l = {0};
        struct error err = {0};
        if (store_list(a->store, prefix, NULL, 0, 0, &l, &err) < 0) {
                log_warn(COMP, "event expiry: %s", error_msg(&err));
                return;
        }
        time_t cutoff = time(NULL) - a->event_ttl_s;
        size_t n = 0;
        for (size_t i = 0; i < l.n_items; i++) {
                json_t *ev = NULL;
                if (kjson_parse(l.items[i].value, l.items[i].value_len, 0, &ev, NULL) < 0)
                        continue;
                const char *ts = kjson_str(ev, "metadata.creationTimestamp");
                struct timespec t;
                if (ts && timefmt_parse_rfc3339(ts, &t) == 0 && t.tv_sec < cutoff &&
                    store_delete(a->store, l.items[i].key, l.items[i].mod_rev, NULL, NULL) == 0)
                        n++;
                json_decref(ev);
        }
        store_list_clear(&l);
        if (n)
                log_debug(COMP, "expired %zu events", n);
}

/* Compact the store's history to the revision seen one interval ago, so watches can resume
 * from resourceVersions up to 5-10 minutes old and the history stays bounded. */
void apiserver_housekeeping(struct apiserver *a)
{
        expire_events(a);
}

static void on_compact(void *ud)
{
        struct apiserver *a = ud;
        struct error err = {0};
        apiserver_housekeeping(a);
        if (a->compact_rev > 0 && store_compact(a->store, a->compact_rev, &err) < 0)
                log_warn(COMP, "compaction at revision %lld: %s", (long long)a->compact_rev,
                         error_msg(&err));
        a->compact_rev = store_revision(a->store);
        http_server_add_timer(a->http, APISERVER_COMPACT_MS, on_compact, a);
}

int apiserver_run(struct apiserver *a)
{
        a->compact_rev = store_revision(a->store);
        http_server_add_timer(a->http, APISERVER_COMPACT_MS, on_compact, a);
        store_thread_set_deferred(true); /* the loop's writes: see respond() */
        watch_cache_run(a);
        log_info(COMP, "serving on port %d", http_server_port(a->http));
        int r = http_server_run(a->http);
        store_thread_set_deferred(false);
        return r;
}

void apiserver_stop(struct apiserver *a)
{
        if (a && a->http)
                http_server_stop(a->http);
}

void apiserver_free(struct apiserver *a)
{
        if (!a)
                return;
        /* pods/log workers were told to abort when their streams closed (server stop); wait
         * for them so their last posts land before the server is freed (those run in free). */
        for (int i = 0; i < 500 && __atomic_load_n(&a->log_workers, __ATOMIC_SEQ_CST) > 0; i++)
                usleep(10000);
        /* Responses waiting for durability: their posts must land before the server is freed
         * (the store syncs within milliseconds; it outlives us). */
        for (int i = 0; i < 500 && __atomic_load_n(&a->deferred, __ATOMIC_SEQ_CST) > 0; i++)
                usleep(10000);
        watch_cache_detach(a); /* no wake-up posts from the store watch after this */
        http_server_free(a->http);
        watch_free_all(a);
        watch_cache_free(a);
        authz_free(a->authorizer);
        authn_free(a->authenticator);
        metrics_free(a->metrics);
        metricsapi_free(a->metricsapi);
        free(a->ca_file);
        free(a->kubelet_cert);
        free(a->kubelet_key);
        free(a);
}

void apiserver_set_bookmark_interval(struct apiserver *a, unsigned ms)
{
        a->bookmark_ms = ms;
}

int apiserver_port(struct apiserver *a)
{
        return http_server_port(a->http);
}
