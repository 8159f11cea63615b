/* watch.c — watch streams and cached LISTs, both served from the watch cache (cacher.h): each
 * client watch registers with the cache (no store watch of its own), is filtered by namespace
 * (key prefix) and selectors, and is framed as newline-delimited JSON events (pre-built lines
 * shared by every client; one-row Tables re-encoded per event), with bookmarks at the cache's
 * revision, timeouts, a 410 ERROR event for resourceVersions older than the cache's ring and a
 * queue cap per client. */
#include "apiserver/apiserver-internal.h"

#include <stdio.h>
#include <time.h>

#include "api/crd.h"
#include "api/labels.h"
#include "apiserver/cacher.h"
#include "apiserver/metrics.h"
#include "apiserver/quota.h"
#include "apiserver/status.h"
#include "apiserver/table.h"
#include "common/kjson.h"
#include "common/log.h"

#define COMP "apiserver"
/* How long a consistent read waits for the cache to reach the store's revision (it normally
 * already has: the store's own writes are applied before the response) before using the store. */
#define FRESH_WAIT_MS 100

bool apiserver_obj_matches(const json_t *obj, const struct labels_selector *ls,
                           const struct labels_field_selector *fs);

struct watcher {
        struct apiserver *a;
        struct watcher *next, *prev; /* a->watchers */
        int refs;                    /* the stream + each pending timer */
        struct http_stream *st;      /* NULL once closed */
        struct cacher_watch *cw;
        const struct scheme_resource *res;
        struct labels_selector *ls;
        struct labels_field_selector *fs;
        int64_t last_rev; /* newest revision sent (for the 410 message after a relist) */
        bool table, cols_sent;
        enum table_include inc;
        bool bookmarks;
        bool ending;
        struct metrics_series *gauge; /* apiserver_longrunning_requests (metrics.h) */
};

static void watcher_unref(struct watcher *w)
{
        if (--w->refs > 0)
                return;
        cacher_watch_stop(w->cw);
        metrics_longrunning_end(w->gauge);
        if (w->prev)
                w->prev->next = w->next;
        else
                w->a->watchers = w->next;
        if (w->next)
                w->next->prev = w->prev;
        labels_selector_free(w->ls);
        labels_field_selector_free(w->fs);
        free(w);
}

void watch_free_all(struct apiserver *a)
{
        quota_stop(a);
        while (a->watchers) {
                struct watcher *w = a->watchers;
                w->refs = 1;
                watcher_unref(w);
        }
}

static void end_stream(struct watcher *w)
{
        if (w->st && !w->ending) {
                w->ending = true;
                http_stream_end(w->st);
        }
}

static void send_bytes(struct watcher *w, const char *s, size_t n)
{
        if (!w->st || w->ending)
                return;
        http_stream_write(w->st, s, n);
        if (w->st && http_stream_pending(w->st) > APISERVER_WATCH_QUEUE_MAX) {
                log_warn(COMP, "watch client too slow (%zu bytes queued), closing",
                         http_stream_pending(w->st));
                end_stream(w);
        }
}

static void send_json_line(struct watcher *w, json_t *ev)
{
        _cleanup_free_ char *s = kjson_dump(ev);
        size_t n = strlen(s);
        s = xrealloc(s, n + 2);
        s[n] = '\n';
        s[n + 1] = 0;
        send_bytes(w, s, n + 1);
}

static const char *const line_names[] = {"ADDED", "MODIFIED", "DELETED"};

/* One event for o; ev (may be NULL) holds the shared pre-built lines. */
static void send_obj(struct watcher *w, enum cacher_line_type t, struct cacher_obj *o,
                     struct cacher_event *ev)
{
        if (!w->st || w->ending)
                return;
        if (o->rev > w->last_rev)
                w->last_rev = o->rev;
        if (w->table) {
                _cleanup_(json_decrefp) json_t *obj = cacher_obj_json(o);
                if (!obj)
                        return;
                _cleanup_(json_decrefp) json_t *arr = json_pack("[O]", obj);
                json_t *t_obj = table_new(w->res, arr, w->inc, !w->cols_sent, time(NULL));
                w->cols_sent = true;
                json_object_set_new(json_object_get(t_obj, "metadata"), "resourceVersion",
                                    json_sprintf("%lld", (long long)o->rev));
                _cleanup_(json_decrefp) json_t *line =
                        json_pack("{s:s,s:o}", "type", line_names[t], "object", t_obj);
                send_json_line(w, line);
                return;
        }
        if (w->res->custom && strcmp(w->res->version, crd_served_storage_version(w->res))) {
                /* conversion None: the stored object under the watched version's apiVersion */
                _cleanup_(json_decrefp) json_t *obj = cacher_obj_json(o);
                if (!obj)
                        return;
                json_object_set_new(obj, "apiVersion", json_string(scheme_api_version(w->res)));
                _cleanup_(json_decrefp) json_t *line =
                        json_pack("{s:s,s:O}", "type", line_names[t], "object", obj);
                send_json_line(w, line);
                return;
        }
        if (ev) {
                size_t n;
                const char *s = cacher_event_line(ev, t, &n);
                send_bytes(w, s, n);
                return;
        }
        _cleanup_free_ char *s =
                xasprintf("{\"type\":\"%s\",\"object\":%s}\n", line_names[t], o->json);
        send_bytes(w, s, strlen(s));
}

static bool matches(struct watcher *w, const struct cacher_obj *o)
{
        return o && apiserver_obj_matches(o->sel, w->ls, w->fs);
}

static void send_expired(struct watcher *w, int64_t from, int64_t floor)
{
        char msg[128];
        snprintf(msg, sizeof(msg), "too old resource version: %lld (%lld)", (long long)from,
                 (long long)floor);
        json_t *st = status_new(-ERANGE, msg, NULL);
        _cleanup_(json_decrefp) json_t *ev = json_pack("{s:s,s:o}", "type", "ERROR", "object", st);
        send_json_line(w, ev);
        end_stream(w);
}

static void handle_event(struct watcher *w, struct cacher_event *ev)
{
        if (!w->st || w->ending)
                return;
        if (ev->type == CACHER_EVENT_EXPIRED) {
                send_expired(w, w->last_rev, ev->rev);
                return;
        }
        if (ev->type == CACHER_EVENT_DELETE) {
                if (matches(w, ev->obj))
                        send_obj(w, CACHER_LINE_DELETED, ev->obj, ev);
                return;
        }
        bool now = matches(w, ev->obj);
        bool before = ev->prev && matches(w, ev->prev);
        if (now && before)
                send_obj(w, CACHER_LINE_MODIFIED, ev->obj, ev);
        else if (now)
                send_obj(w, CACHER_LINE_ADDED, ev->obj, ev);
        else if (before)
                send_obj(w, CACHER_LINE_DELETED, ev->obj, ev);
}

/* Holds a reference across the delivery: a write may close the stream (on_close). */
static void on_cache_event(struct cacher_event *ev, void *userdata)
{
        struct watcher *w = userdata;
        w->refs++;
        handle_event(w, ev);
        watcher_unref(w);
}

static void on_close(void *userdata)
{
        struct watcher *w = userdata;
        w->st = NULL;
        /* on_close never runs inside a cache dispatch (stream writes report a closed client
         * later, from the loop), but cacher_watch_stop copes with that too. */
        cacher_watch_stop(w->cw);
        w->cw = NULL;
        watcher_unref(w);
}

static void on_bookmark(void *userdata)
{
        struct watcher *w = userdata;
        if (!w->st || w->ending) {
                watcher_unref(w);
                return;
        }
        /* Every event up to the cache's revision has been delivered (fan-out is synchronous). */
        char rv[32];
        snprintf(rv, sizeof(rv), "%lld", (long long)cacher_revision(w->a->cacher));
        _cleanup_(json_decrefp) json_t *obj =
                json_pack("{s:s,s:s,s:{s:s}}", "kind", w->res->kind, "apiVersion",
                          scheme_api_version(w->res), "metadata", "resourceVersion", rv);
        _cleanup_(json_decrefp) json_t *ev =
                json_pack("{s:s,s:O}", "type", "BOOKMARK", "object", obj);
        send_json_line(w, ev);
        http_server_add_timer(w->a->http, w->a->bookmark_ms, on_bookmark, w); /* keeps ref */
}

static void on_timeout(void *userdata)
{
        struct watcher *w = userdata;
        end_stream(w);
        watcher_unref(w);
}

/* Make the cache current with the store (a consistent read); false if it could not. */
static bool cache_fresh(struct apiserver *a)
{
        /* Durable writes only: the cache never holds more, and every write acknowledged to a
         * client is durable (apiserver.c respond()). */
        return cacher_wait_fresh(a->cacher, store_durable_revision(a->store), FRESH_WAIT_MS);
}

static void watch_begin(struct rq *q, struct watcher *w, bool initial, bool consistent,
                        bool send_initial_end, int64_t from);

void watch_start(struct rq *q, const char *label_sel, const char *field_sel)
{
        struct apiserver *a = q->a;
        struct error err = {0};
        struct labels_selector *ls = NULL;
        struct labels_field_selector *fs = NULL;
        if (labels_selector_parse(label_sel, &ls, &err) < 0 ||
            labels_field_selector_parse(field_sel, &fs, &err) < 0) {
                labels_selector_free(ls);
                rq_fail(q, -EBADMSG, NULL, "%s", error_msg(&err));
                return;
        }
        const char *rvs = http_req_query(q->req, "resourceVersion");
        int64_t from = 0;
        bool consistent = !rvs || !*rvs;
        bool initial = consistent || !strcmp(rvs, "0");
        if (!initial) {
                char *end;
                long long v = strtoll(rvs, &end, 10);
                if (*end || v < 0) {
                        labels_selector_free(ls);
                        labels_field_selector_free(fs);
                        rq_fail(q, -EBADMSG, NULL, "invalid resource version: %s", rvs);
                        return;
                }
                from = v;
        }
        const char *sie = http_req_query(q->req, "sendInitialEvents");
        if (sie && apiserver_parse_bool(sie))
                initial = true;
        if (!cacher_ready(a->cacher)) {
                labels_selector_free(ls);
                labels_field_selector_free(fs);
                rq_fail(q, -EAGAIN, NULL, "storage is (re)initializing");
                return;
        }

        struct watcher *w = xcalloc(1, sizeof(*w));
        w->a = a;
        w->res = q->res;
        w->ls = ls;
        w->fs = fs;
        w->last_rev = from;
        w->table = rq_wants_table(q);
        const char *inc = http_req_query(q->req, "includeObject");
        w->inc = inc && !strcmp(inc, "Object") ? TABLE_INCLUDE_OBJECT
                 : inc && !strcmp(inc, "None") ? TABLE_INCLUDE_NONE
                                               : TABLE_INCLUDE_METADATA;
        w->bookmarks = apiserver_parse_bool(http_req_query(q->req, "allowWatchBookmarks"));
        w->refs = 1;
        w->next = a->watchers;
        if (a->watchers)
                a->watchers->prev = w;
        a->watchers = w;

        q->status = 200;
        w->st = http_req_stream_start(q->req, 200, "application/json", on_close, w);
        if (!w->st) {
                watcher_unref(w);
                return;
        }
        w->refs++; /* held for the rest of this function */
        struct metrics_labels ml;
        metrics_labels_from_attrs(q->attrs, NULL, false, &ml);
        w->gauge = metrics_longrunning_begin(a->metrics, &ml);
        watch_begin(q, w, initial, consistent, sie && apiserver_parse_bool(sie), from);
        watcher_unref(w);
}

static void watch_begin(struct rq *q, struct watcher *w, bool initial, bool consistent,
                        bool send_initial_end, int64_t from)
{
        struct apiserver *a = q->a;
        _cleanup_free_ char *prefix = scheme_prefix(q->res, q->ns);
        if (consistent && !cache_fresh(a))
                log_warn(COMP, "watch: the cache is behind the store; starting at %lld",
                         (long long)cacher_revision(a->cacher));
        if (initial) {
                /* Synthetic ADDED events for the cache's state, then live from its revision. */
                from = cacher_revision(a->cacher);
                w->last_rev = from;
                size_t n;
                struct cacher_obj *const *objs =
                        cacher_objects(a->cacher, q->res, prefix, NULL, &n);
                for (size_t i = 0; i < n && w->st; i++)
                        if (matches(w, objs[i]))
                                send_obj(w, CACHER_LINE_ADDED, objs[i], NULL);
                if (send_initial_end && w->st) {
                        char rv[32];
                        snprintf(rv, sizeof(rv), "%lld", (long long)from);
                        _cleanup_(json_decrefp) json_t *obj = json_pack(
                                "{s:s,s:s,s:{s:s,s:{s:s}}}", "kind", q->res->kind, "apiVersion",
                                scheme_api_version(q->res), "metadata", "resourceVersion", rv,
                                "annotations", "k8s.io/initial-events-end", "true");
                        _cleanup_(json_decrefp) json_t *ev =
                                json_pack("{s:s,s:O}", "type", "BOOKMARK", "object", obj);
                        send_json_line(w, ev);
                }
        }
        if (!w->st)
                return;
        int64_t floor = 0;
        int r = cacher_watch_start(a->cacher, q->res, prefix, from, on_cache_event, w, &w->cw,
                                   &floor);
        if (r == -ERANGE) {
                send_expired(w, from, floor);
                return;
        }
        if (r < 0) {
                log_warn(COMP, "watch: %s", strerror(-r));
                end_stream(w);
                return;
        }
        const char *ts = http_req_query(q->req, "timeoutSeconds");
        if (ts && *ts) {
                long long secs = strtoll(ts, NULL, 10);
                if (secs > 0) {
                        w->refs++;
                        http_server_add_timer(a->http, (uint64_t)secs * 1000, on_timeout, w);
                }
        }
        if (w->bookmarks) {
                w->refs++;
                http_server_add_timer(a->http, a->bookmark_ms, on_bookmark, w);
        }
}

/* ---- LIST from the cache ---- */

/* Which LISTs the cache serves (kube-apiserver's shouldDelegateList, with
 * ConsistentListFromCache): no continue token, resourceVersionMatch unset or NotOlderThan;
 * resourceVersion "0" at once; "" after the cache caught up with the store's revision; N once
 * the cache reached N. A continue token from a cached page continues from the store at the
 * page's revision (as kube-apiserver delegates continuations to etcd). */
bool watch_list_cached(struct rq *q, const struct labels_selector *ls,
                       const struct labels_field_selector *fs, size_t limit)
{
        struct apiserver *a = q->a;
        if (!a->cacher || !cacher_ready(a->cacher))
                return false;
        /* the cache holds custom resources in their storage version; others from the store,
         * decoded under the requested version (conversion None) */
        if (q->res->custom && strcmp(q->res->version, crd_served_storage_version(q->res)))
                return false;
        const char *cont = http_req_query(q->req, "continue");
        const char *rvm = http_req_query(q->req, "resourceVersionMatch");
        const char *rv = http_req_query(q->req, "resourceVersion");
        if ((cont && *cont) || (rvm && *rvm && strcmp(rvm, "NotOlderThan")))
                return false;
        if (!rv || !*rv) {
                if ((rvm && *rvm) || !cache_fresh(a))
                        return false;
        } else if (strcmp(rv, "0")) {
                char *end;
                long long v = strtoll(rv, &end, 10);
                if (*end || v < 0 || (limit && !(rvm && *rvm)))
                        return false; /* errors and legacy exact pages: the store path */
                if (v > cacher_revision(a->cacher) &&
                    !cacher_wait_fresh(a->cacher, v, FRESH_WAIT_MS))
                        return false;
        }
        int64_t rev = cacher_revision(a->cacher);
        _cleanup_free_ char *prefix = scheme_prefix(q->res, q->ns);
        size_t n;
        struct cacher_obj *const *objs = cacher_objects(a->cacher, q->res, prefix, NULL, &n);
        _cleanup_free_ struct cacher_obj **sel = xmalloc((n ? n : 1) * sizeof(*sel));
        size_t n_sel = 0, total = 0;
        _cleanup_free_ char *token = NULL;
        bool all = labels_selector_is_empty(ls) && (!fs || !fs->n);
        for (size_t i = 0; i < n; i++) {
                if (!all && !apiserver_obj_matches(objs[i]->sel, ls, fs))
                        continue;
                if (limit && n_sel == limit) {
                        /* More remain: continue after the last one sent, at this revision. */
                        _cleanup_free_ char *raw =
                                xasprintf("%lld %s", (long long)rev, sel[n_sel - 1]->key);
                        token = apiserver_hex_encode(raw);
                        break;
                }
                sel[n_sel++] = objs[i];
                total += objs[i]->len + 1;
        }
        char rvbuf[32];
        snprintf(rvbuf, sizeof(rvbuf), "%lld", (long long)rev);
        if (rq_wants_table(q)) {
                _cleanup_(json_decrefp) json_t *items = json_array();
                for (size_t i = 0; i < n_sel; i++) {
                        json_t *o = cacher_obj_json(sel[i]);
                        if (o)
                                json_array_append_new(items, o);
                }
                const char *inc = http_req_query(q->req, "includeObject");
                _cleanup_(json_decrefp) json_t *t =
                        table_new(q->res, items,
                                  inc && !strcmp(inc, "Object") ? TABLE_INCLUDE_OBJECT
                                  : inc && !strcmp(inc, "None") ? TABLE_INCLUDE_NONE
                                                                : TABLE_INCLUDE_METADATA,
                                  true, time(NULL));
                json_t *m = json_object_get(t, "metadata");
                json_object_set_new(m, "resourceVersion", json_string(rvbuf));
                if (token)
                        json_object_set_new(m, "continue", json_string(token));
                rq_respond_json(q, 200, t);
                return true;
        }
        /* The list envelope around the cached bytes: no object is re-encoded. */
        _cleanup_free_ char *head =
                xasprintf("{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{"
                          "\"resourceVersion\":\"%s\"%s%s%s},"
                          "\"items\":[",
                          q->res->list_kind, scheme_api_version(q->res), rvbuf,
                          token ? ",\"continue\":\"" : "", token ? token : "", token ? "\"" : "");
        size_t hlen = strlen(head);
        _cleanup_free_ char *body = xmalloc(hlen + total + 3);
        memcpy(body, head, hlen);
        size_t off = hlen;
        for (size_t i = 0; i < n_sel; i++) {
                if (i)
                        body[off++] = ',';
                memcpy(body + off, sel[i]->json, sel[i]->len);
                off += sel[i]->len;
        }
        body[off++] = ']';
        body[off++] = '}';
        q->status = 200;
        http_req_respond(q->req, 200, "application/json", body, off);
        return true;
}

/* ---- lifecycle ---- */

static void on_wake(void *ud)
{
        struct apiserver *a = ud;
        cacher_drain(a->cacher);
}

static void wake(void *ud)
{
        struct apiserver *a = ud;
        http_server_post(a->http, on_wake, a);
}

static void on_tick(void *ud)
{
        struct apiserver *a = ud;
        cacher_drain(a->cacher); /* also retries a relist after the store watch broke */
        http_server_add_timer(a->http, 1000, on_tick, a);
}

int watch_cache_start(struct apiserver *a, struct error *err)
{
        struct cacher_config cfg = {.store = a->store, .wake = wake, .wake_ud = a};
        return cacher_new(&cfg, &a->cacher, err);
}

void watch_cache_run(struct apiserver *a)
{
        cacher_set_owner(a->cacher); /* this is the loop thread */
        http_server_add_timer(a->http, 1000, on_tick, a);
        quota_start(a);
}

void watch_cache_detach(struct apiserver *a)
{
        if (a->cacher)
                cacher_detach(a->cacher);
}

void watch_cache_free(struct apiserver *a)
{
        cacher_free(a->cacher);
        a->cacher = NULL;
}
