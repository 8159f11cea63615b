/* watch.c — watch streams: one store watch per client, filtered by namespace and selectors,
 * framed as newline-delimited JSON events (optionally one-row Tables), with bookmarks, timeouts,
 * a 410 ERROR event for compacted revisions and a queue cap per client. */
#include "apiserver/apiserver-internal.h"

#include <stdio.h>
#include <time.h>

#include "api/labels.h"
#include "apiserver/status.h"
#include "apiserver/table.h"
#include "common/kjson.h"
#include "common/log.h"

#define COMP "apiserver"

bool apiserver_obj_matches(const json_t *obj, const struct labels_selector *ls,
                           const struct labels_field_selector *fs);

struct watcher {
        struct apiserver *a;
        struct watcher *next, *prev; /* a->watchers */
        int refs;                    /* the stream + each pending timer */
        struct http_stream *st;      /* NULL once closed */
        struct store_watch *sw;
        const struct scheme_resource *res;
        struct labels_selector *ls;
        struct labels_field_selector *fs;
        bool table, cols_sent;
        enum table_include inc;
        bool bookmarks;
        bool ending;
};

static void watcher_unref(struct watcher *w)
{
        if (--w->refs > 0)
                return;
        if (w->sw)
                store_watch_cancel(w->sw);
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
        while (a->watchers) {
                struct watcher *w = a->watchers;
                w->refs = 1;
                watcher_unref(w);
        }
}

static void send_line(struct watcher *w, json_t *ev)
{
        if (!w->st || w->ending)
                return;
        _cleanup_free_ char *s = kjson_dump(ev);
        size_t n = strlen(s);
        s = xrealloc(s, n + 2);
        s[n] = '\n';
        s[n + 1] = 0;
        http_stream_write(w->st, s, n + 1);
        if (w->st && http_stream_pending(w->st) > APISERVER_WATCH_QUEUE_MAX) {
                log_warn(COMP, "watch client too slow (%zu bytes queued), closing",
                         http_stream_pending(w->st));
                w->ending = true;
                http_stream_end(w->st);
        }
}

static void send_event(struct watcher *w, const char *type, json_t *obj)
{
        json_t *payload = obj;
        if (w->table) {
                _cleanup_(json_decrefp) json_t *arr = json_pack("[O]", obj);
                payload = table_new(w->res, arr, w->inc, !w->cols_sent, time(NULL));
                w->cols_sent = true;
                json_object_set_new(json_object_get(payload, "metadata"), "resourceVersion",
                                    json_string(kjson_str(obj, "metadata.resourceVersion")));
        } else {
                json_incref(payload);
        }
        json_t *ev = json_pack("{s:s,s:o}", "type", type, "object", payload);
        send_line(w, ev);
        json_decref(ev);
}

static bool matches(struct watcher *w, const json_t *obj)
{
        return obj && apiserver_obj_matches(obj, w->ls, w->fs);
}

static void handle_event(struct watcher *w, const struct store_event *ev)
{
        if (!w->st || w->ending)
                return;
        _cleanup_(json_decrefp) json_t *obj =
                apiserver_obj_decode(w->res, ev->value, ev->value_len, ev->rev);
        if (!obj)
                return;
        if (ev->type == STORE_EVENT_DELETE) {
                if (matches(w, obj))
                        send_event(w, "DELETED", obj);
                return;
        }
        bool now = matches(w, obj);
        bool before = false;
        if (ev->prev_value) {
                _cleanup_(json_decrefp) json_t *old =
                        apiserver_obj_decode(w->res, ev->prev_value, ev->prev_len, ev->rev);
                before = matches(w, old);
        }
        if (now && before)
                send_event(w, "MODIFIED", obj);
        else if (now)
                send_event(w, "ADDED", obj);
        else if (before)
                send_event(w, "DELETED", obj);
}

/* Holds a reference across the delivery: a write may close the stream (on_close). */
static void on_store_event(const struct store_event *ev, void *userdata)
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
        /* Cancelling here is safe: on_close never runs inside a store callback (writes queue and
         * report a closed client later, from the loop). */
        if (w->sw) {
                store_watch_cancel(w->sw);
                w->sw = NULL;
        }
        watcher_unref(w);
}

static void on_bookmark(void *userdata)
{
        struct watcher *w = userdata;
        if (!w->st || w->ending) {
                watcher_unref(w);
                return;
        }
        char rv[32];
        snprintf(rv, sizeof(rv), "%lld", (long long)store_revision(w->a->store));
        _cleanup_(json_decrefp) json_t *obj =
                json_pack("{s:s,s:s,s:{s:s}}", "kind", w->res->kind, "apiVersion",
                          scheme_api_version(w->res), "metadata", "resourceVersion", rv);
        json_t *ev = json_pack("{s:s,s:O}", "type", "BOOKMARK", "object", obj);
        send_line(w, ev);
        json_decref(ev);
        http_server_add_timer(w->a->http, w->a->bookmark_ms, on_bookmark, w); /* keeps ref */
}

static void on_timeout(void *userdata)
{
        struct watcher *w = userdata;
        if (w->st && !w->ending) {
                w->ending = true;
                http_stream_end(w->st);
        }
        watcher_unref(w);
}

static void watch_begin(struct rq *q, struct watcher *w, bool initial, bool send_initial_end,
                        int64_t from);

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
        bool initial = !rvs || !*rvs || !strcmp(rvs, "0");
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

        struct watcher *w = xcalloc(1, sizeof(*w));
        w->a = a;
        w->res = q->res;
        w->ls = ls;
        w->fs = fs;
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
        watch_begin(q, w, initial, sie && apiserver_parse_bool(sie), from);
        watcher_unref(w);
}

static void watch_begin(struct rq *q, struct watcher *w, bool initial, bool send_initial_end,
                        int64_t from)
{
        struct apiserver *a = q->a;
        struct error err = {0};
        _cleanup_free_ char *prefix = scheme_prefix(q->res, q->ns);
        if (initial) {
                struct store_list l = {0};
                if (store_list(a->store, prefix, NULL, 0, 0, &l, &err) < 0) {
                        log_warn(COMP, "watch initial list: %s", error_msg(&err));
                        w->ending = true;
                        http_stream_end(w->st);
                        return;
                }
                from = l.rev;
                for (size_t i = 0; i < l.n_items && w->st; i++) {
                        _cleanup_(json_decrefp) json_t *o = apiserver_obj_decode(
                                q->res, l.items[i].value, l.items[i].value_len, l.items[i].mod_rev);
                        if (matches(w, o))
                                send_event(w, "ADDED", o);
                }
                store_list_clear(&l);
                if (send_initial_end && w->st) {
                        char rv[32];
                        snprintf(rv, sizeof(rv), "%lld", (long long)from);
                        _cleanup_(json_decrefp) json_t *obj = json_pack(
                                "{s:s,s:s,s:{s:s,s:{s:s}}}", "kind", q->res->kind, "apiVersion",
                                scheme_api_version(q->res), "metadata", "resourceVersion", rv,
                                "annotations", "k8s.io/initial-events-end", "true");
                        json_t *ev = json_pack("{s:s,s:O}", "type", "BOOKMARK", "object", obj);
                        send_line(w, ev);
                        json_decref(ev);
                }
        }
        if (!w->st)
                return;
        int r = store_watch(a->store, prefix, from, on_store_event, w, &w->sw, &err);
        if (r == -ERANGE) {
                char msg[128];
                snprintf(msg, sizeof(msg), "too old resource version: %lld (%lld)", (long long)from,
                         (long long)store_revision(a->store));
                json_t *st = status_new(-ERANGE, msg, NULL);
                json_t *ev = json_pack("{s:s,s:o}", "type", "ERROR", "object", st);
                send_line(w, ev);
                json_decref(ev);
                if (w->st && !w->ending) {
                        w->ending = true;
                        http_stream_end(w->st);
                }
                return;
        }
        if (r < 0) {
                log_warn(COMP, "watch: %s", error_msg(&err));
                if (w->st && !w->ending) {
                        w->ending = true;
                        http_stream_end(w->st);
                }
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
