/* test-cacher.c — the watch cache: objects in key order with prefix/start_after, the bounded
 * ring and its floor (410), history + live delivery, pre-built event lines, ADDED/MODIFIED/
 * DELETED state (prev), events queued from other threads, relist after a broken store watch;
 * then over HTTP: LIST from the cache (resourceVersion 0, "", NotOlderThan, limit + continue from
 * the store), watches fed by writes made on another thread, 410 below the cache's window. */
#include "harness.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "apiserver/apiserver-internal.h"
#include "apiserver/cacher.h"
#include "common/kjson.h"
#include "common/log.h"
#include "store/store.h"

static char tmpdir[] = "/tmp/test-cacher-XXXXXX";

static const struct scheme_resource *pods(void)
{
        return scheme_lookup("", "v1", "pods");
}

static void feed(struct cacher *c, enum store_event_type t, const char *key, const char *value,
                 int64_t rev)
{
        struct store_event ev = {.type = t,
                                 .key = key,
                                 .value = value,
                                 .value_len = value ? strlen(value) : 0,
                                 .rev = rev};
        cacher_store_event(&ev, c);
}

static char *pod_json(const char *ns, const char *name, const char *app)
{
        return xasprintf("{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"labels\":{\"app\":"
                         "\"%s\"}},\"spec\":{\"nodeName\":\"n1\",\"containers\":[]}}",
                         name, ns, app);
}

static void put_pod(struct cacher *c, const char *ns, const char *name, const char *app,
                    int64_t rev)
{
        char key[256];
        snprintf(key, sizeof(key), "/registry/pods/%s/%s", ns, name);
        char *v = pod_json(ns, name, app);
        feed(c, STORE_EVENT_PUT, key, v, rev);
        free(v);
}

/* A recording watch callback. */
struct rec {
        int n;
        enum cacher_event_type types[64];
        int64_t revs[64];
        bool had_prev[64];
        char lines[64][512];
};

static void on_ev(struct cacher_event *ev, void *ud)
{
        struct rec *r = ud;
        if (r->n >= 64)
                return;
        r->types[r->n] = ev->type;
        r->revs[r->n] = ev->rev;
        r->had_prev[r->n] = ev->prev != NULL;
        r->lines[r->n][0] = 0;
        if (ev->type != CACHER_EVENT_EXPIRED) {
                size_t n;
                const char *l = cacher_event_line(ev, CACHER_LINE_MODIFIED, &n);
                snprintf(r->lines[r->n], sizeof(r->lines[0]), "%.*s", (int)n, l);
        }
        r->n++;
}

TEST(objects_in_key_order)
{
        struct cacher *c = NULL;
        struct cacher_config cfg = {0};
        CHECK_EQ_INT(cacher_new(&cfg, &c, NULL), 0);
        put_pod(c, "b", "p2", "x", 11);
        put_pod(c, "a", "p9", "x", 12);
        put_pod(c, "b", "p1", "y", 13);
        put_pod(c, "a", "p1", "y", 14);
        feed(c, STORE_EVENT_PUT, "/registry/other/x", "{}", 15); /* not a resource: rev only */
        put_pod(c, "a", "p1", "y", 14);                          /* a duplicate: ignored */
        cacher_drain(c);
        CHECK_EQ_INT(cacher_revision(c), 15);
        size_t n;
        struct cacher_obj *const *o = cacher_objects(c, pods(), "/registry/pods/", NULL, &n);
        CHECK_EQ_INT(n, 4);
        if (n == 4) {
                CHECK_EQ_STR(o[0]->key, "/registry/pods/a/p1");
                CHECK_EQ_STR(o[1]->key, "/registry/pods/a/p9");
                CHECK_EQ_STR(o[2]->key, "/registry/pods/b/p1");
                CHECK_EQ_STR(o[3]->key, "/registry/pods/b/p2");
                /* the bytes carry kind, apiVersion and the resourceVersion */
                CHECK(strstr(o[0]->json, "\"kind\":\"Pod\""));
                CHECK(strstr(o[0]->json, "\"apiVersion\":\"v1\""));
                CHECK(strstr(o[0]->json, "\"resourceVersion\":\"14\""));
                CHECK_EQ_STR(kjson_str(o[0]->sel, "metadata.labels.app"), "y");
                CHECK_EQ_STR(kjson_str(o[0]->sel, "spec.nodeName"), "n1");
                CHECK(!kjson_get(o[0]->sel, "spec.containers"));
        }
        o = cacher_objects(c, pods(), "/registry/pods/b/", NULL, &n);
        CHECK_EQ_INT(n, 2);
        o = cacher_objects(c, pods(), "/registry/pods/", "/registry/pods/a/p9", &n);
        CHECK_EQ_INT(n, 2);
        if (n == 2)
                CHECK_EQ_STR(o[0]->key, "/registry/pods/b/p1");
        o = cacher_objects(c, pods(), "/registry/pods/c/", NULL, &n);
        CHECK_EQ_INT(n, 0);
        feed(c, STORE_EVENT_DELETE, "/registry/pods/a/p9", "{\"metadata\":{\"name\":\"p9\"}}", 16);
        cacher_drain(c);
        o = cacher_objects(c, pods(), "/registry/pods/a/", NULL, &n);
        CHECK_EQ_INT(n, 1);
        cacher_free(c);
}

TEST(ring_history_and_floor)
{
        struct cacher *c = NULL;
        struct cacher_config cfg = {.ring_max = 3};
        CHECK_EQ_INT(cacher_new(&cfg, &c, NULL), 0);
        for (int i = 1; i <= 5; i++) {
                char name[16];
                snprintf(name, sizeof(name), "p%d", i);
                put_pod(c, "ns", name, "x", i);
        }
        cacher_drain(c);
        /* ring holds revisions 3, 4, 5: from 2 is the oldest that can be served */
        struct rec r = {0};
        struct cacher_watch *w = NULL;
        int64_t floor = -1;
        CHECK_EQ_INT(cacher_watch_start(c, pods(), "/registry/pods/", 1, on_ev, &r, &w, &floor),
                     -ERANGE);
        CHECK_EQ_INT(floor, 2);
        CHECK_EQ_INT(cacher_watch_start(c, pods(), "/registry/pods/", 2, on_ev, &r, &w, &floor), 0);
        CHECK_EQ_INT(r.n, 3);
        CHECK_EQ_INT(r.revs[0], 3);
        CHECK_EQ_INT(r.revs[2], 5);
        /* live: a modification (prev set), a pod in another namespace, a delete */
        struct rec r2 = {0};
        struct cacher_watch *w2 = NULL;
        CHECK_EQ_INT(
                cacher_watch_start(c, pods(), "/registry/pods/other/", 5, on_ev, &r2, &w2, NULL),
                0);
        put_pod(c, "ns", "p1", "y", 6);
        put_pod(c, "other", "q", "y", 7);
        feed(c, STORE_EVENT_DELETE, "/registry/pods/ns/p2", "{\"metadata\":{\"name\":\"p2\"}}", 8);
        CHECK_EQ_INT(r.n, 3); /* nothing before the drain */
        cacher_drain(c);
        CHECK_EQ_INT(r.n, 6);
        CHECK_EQ_INT(r.types[3], CACHER_EVENT_PUT);
        CHECK(r.had_prev[3]);
        CHECK(!r.had_prev[4]);
        CHECK_EQ_INT(r.types[5], CACHER_EVENT_DELETE);
        /* the deleted object carries the deletion's revision */
        CHECK(strstr(r.lines[5], "\"resourceVersion\":\"8\""));
        CHECK(strstr(r.lines[3], "{\"type\":\"MODIFIED\",\"object\":{") == r.lines[3]);
        CHECK(r.lines[3][strlen(r.lines[3]) - 1] == '\n');
        CHECK_EQ_INT(r2.n, 1);
        CHECK_EQ_INT(r2.revs[0], 7);
        /* a future resourceVersion delivers only what comes after it */
        struct rec r3 = {0};
        struct cacher_watch *w3 = NULL;
        CHECK_EQ_INT(cacher_watch_start(c, pods(), "/registry/pods/", 9, on_ev, &r3, &w3, NULL), 0);
        put_pod(c, "ns", "p3", "z", 9);
        put_pod(c, "ns", "p3", "w", 10);
        cacher_drain(c);
        CHECK_EQ_INT(r3.n, 1);
        CHECK_EQ_INT(r3.revs[0], 10);
        cacher_watch_stop(w);
        cacher_watch_stop(w2);
        cacher_watch_stop(w3);
        CHECK_EQ_INT(r.n, 8); /* w saw 9 and 10 too */
        put_pod(c, "ns", "p4", "z", 11);
        cacher_drain(c);
        CHECK_EQ_INT(r.n, 8);
        cacher_free(c);
}

TEST(shared_storage_two_versions)
{
        const struct scheme_resource *core = scheme_lookup("", "v1", "events");
        const struct scheme_resource *ev1 = scheme_lookup("events.k8s.io", "v1", "events");
        if (!core || !ev1)
                return; /* not served (yet) */
        struct cacher *c = NULL;
        struct cacher_config cfg = {0};
        CHECK_EQ_INT(cacher_new(&cfg, &c, NULL), 0);
        feed(c, STORE_EVENT_PUT, "/registry/events/ns/e1", "{\"metadata\":{\"name\":\"e1\"}}", 1);
        cacher_drain(c);
        size_t n1, n2;
        struct cacher_obj *const *a = cacher_objects(c, core, "/registry/events/", NULL, &n1);
        struct cacher_obj *const *b = cacher_objects(c, ev1, "/registry/events/", NULL, &n2);
        CHECK_EQ_INT(n1, 1);
        CHECK_EQ_INT(n2, 1);
        if (n1 == 1 && n2 == 1) {
                CHECK(strstr(a[0]->json, "\"apiVersion\":\"v1\""));
                CHECK(strstr(b[0]->json, "\"apiVersion\":\"events.k8s.io/v1\""));
        }
        cacher_free(c);
}

TEST(ring_byte_cap)
{
        struct cacher *c = NULL;
        struct cacher_config cfg = {.ring_bytes_max = 1}; /* only the newest event stays */
        CHECK_EQ_INT(cacher_new(&cfg, &c, NULL), 0);
        put_pod(c, "ns", "a", "x", 1);
        put_pod(c, "ns", "b", "x", 2);
        put_pod(c, "ns", "c", "x", 3);
        cacher_drain(c);
        struct rec r = {0};
        struct cacher_watch *w = NULL;
        int64_t floor = 0;
        CHECK_EQ_INT(cacher_watch_start(c, pods(), "/registry/pods/", 1, on_ev, &r, &w, &floor),
                     -ERANGE);
        CHECK_EQ_INT(floor, 2);
        CHECK_EQ_INT(cacher_watch_start(c, pods(), "/registry/pods/", 2, on_ev, &r, &w, &floor), 0);
        CHECK_EQ_INT(r.n, 1);
        size_t n;
        cacher_objects(c, pods(), "/registry/pods/", NULL, &n);
        CHECK_EQ_INT(n, 3); /* the objects themselves are all kept */
        cacher_watch_stop(w);
        cacher_free(c);
}

/* Stops its own watch from inside the callback. */
static struct cacher_watch *self_w;
static int self_n;
static void on_ev_stop(struct cacher_event *ev, void *ud)
{
        self_n++;
        cacher_watch_stop(self_w);
}

TEST(stop_inside_callback)
{
        struct cacher *c = NULL;
        struct cacher_config cfg = {0};
        CHECK_EQ_INT(cacher_new(&cfg, &c, NULL), 0);
        CHECK_EQ_INT(cacher_watch_start(c, pods(), "/registry/pods/", 0, on_ev_stop, NULL, &self_w,
                                        NULL),
                     0);
        put_pod(c, "ns", "a", "x", 1);
        put_pod(c, "ns", "b", "x", 2);
        cacher_drain(c);
        CHECK_EQ_INT(self_n, 1);
        cacher_free(c);
}

struct wake_count {
        int n;
};
static void count_wake(void *ud)
{
        __atomic_add_fetch(&((struct wake_count *)ud)->n, 1, __ATOMIC_SEQ_CST);
}

static void *writer_thread(void *ud)
{
        struct cacher *c = ud;
        for (int i = 1; i <= 200; i++) {
                char name[16];
                snprintf(name, sizeof(name), "t%d", i);
                put_pod(c, "ns", name, "x", i);
                if (i % 50 == 0)
                        usleep(2000);
        }
        return NULL;
}

TEST(events_from_another_thread)
{
        struct wake_count wc = {0};
        struct cacher *c = NULL;
        struct cacher_config cfg = {.wake = count_wake, .wake_ud = &wc};
        CHECK_EQ_INT(cacher_new(&cfg, &c, NULL), 0);
        struct rec r = {0};
        struct cacher_watch *w = NULL;
        CHECK_EQ_INT(cacher_watch_start(c, pods(), "/registry/pods/", 150, on_ev, &r, &w, NULL), 0);
        pthread_t t;
        pthread_create(&t, NULL, writer_thread, c);
        /* blocks until revision 200 was queued (or 5 s), then applies everything */
        CHECK(cacher_wait_fresh(c, 200, 5000));
        pthread_join(t, NULL);
        cacher_drain(c);
        CHECK_EQ_INT(cacher_revision(c), 200);
        CHECK(wc.n >= 1 && wc.n <= 200); /* coalesced: one wake per drain at most */
        CHECK_EQ_INT(r.n, 50);
        bool ordered = true;
        for (int i = 0; i < r.n; i++)
                ordered = ordered && r.revs[i] == 151 + i;
        CHECK(ordered);
        CHECK(!cacher_wait_fresh(c, 201, 10));
        /* a revision that never came is not waited for twice */
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK(!cacher_wait_fresh(c, 201, 2000));
        clock_gettime(CLOCK_MONOTONIC, &t1);
        CHECK(t1.tv_sec - t0.tv_sec < 1);
        cacher_watch_stop(w);
        cacher_free(c);
}

static void *other_thread_put(void *ud)
{
        put_pod(ud, "ns", "other", "x", 3);
        return NULL;
}

TEST(owner_thread_applies_at_once)
{
        struct wake_count wc = {0};
        struct cacher *c = NULL;
        struct cacher_config cfg = {.wake = count_wake, .wake_ud = &wc};
        CHECK_EQ_INT(cacher_new(&cfg, &c, NULL), 0);
        cacher_set_owner(c);
        struct rec r = {0};
        struct cacher_watch *w = NULL;
        CHECK_EQ_INT(cacher_watch_start(c, pods(), "/registry/pods/", 0, on_ev, &r, &w, NULL), 0);
        put_pod(c, "ns", "a", "x", 1); /* raised on the owner thread: delivered before it returns */
        CHECK_EQ_INT(r.n, 1);
        put_pod(c, "ns", "a", "y", 2);
        CHECK_EQ_INT(r.n, 2);
        CHECK_EQ_INT(cacher_revision(c), 2);
        pthread_t t; /* another thread's event waits for the drain */
        pthread_create(&t, NULL, other_thread_put, c);
        pthread_join(t, NULL);
        CHECK_EQ_INT(r.n, 2);
        CHECK_EQ_INT(wc.n, 1);
        cacher_drain(c);
        CHECK_EQ_INT(r.n, 3);
        cacher_watch_stop(w);
        cacher_free(c);
}

TEST(relist_after_broken_watch)
{
        char db[256];
        snprintf(db, sizeof(db), "%s/relist.db", tmpdir);
        struct store *s = NULL;
        struct error err = {0};
        CHECK_EQ_INT(store_open(db, &s, &err), 0);
        if (!s)
                return;
        char *v = pod_json("ns", "a", "x");
        int64_t rev;
        CHECK_EQ_INT(store_create(s, "/registry/pods/ns/a", v, strlen(v), &rev, &err), 0);
        free(v);
        struct cacher *c = NULL;
        struct cacher_config cfg = {.store = s};
        CHECK_EQ_INT(cacher_new(&cfg, &c, &err), 0);
        CHECK_EQ_INT(cacher_revision(c), rev);
        size_t n;
        cacher_objects(c, pods(), "/registry/pods/", NULL, &n);
        CHECK_EQ_INT(n, 1);
        /* a write through the store reaches the cache through its watch */
        v = pod_json("ns", "b", "x");
        CHECK_EQ_INT(store_create(s, "/registry/pods/ns/b", v, strlen(v), &rev, &err), 0);
        free(v);
        CHECK(cacher_wait_fresh(c, rev, 1000));
        cacher_objects(c, pods(), "/registry/pods/", NULL, &n);
        CHECK_EQ_INT(n, 2);
        struct rec r = {0};
        struct cacher_watch *w = NULL;
        CHECK_EQ_INT(cacher_watch_start(c, pods(), "/registry/pods/", rev, on_ev, &r, &w, NULL), 0);
        /* the watch breaks (as when etcd compacted past it while away) */
        struct store_event broken = {.type = STORE_EVENT_ERROR,
                                     .key = CACHER_KEY_PREFIX,
                                     .value = "",
                                     .rev = rev,
                                     .error = -ERANGE};
        cacher_store_event(&broken, c);
        CHECK_EQ_INT(store_delete(s, "/registry/pods/ns/a", 0, NULL, &err), 0);
        cacher_drain(c);
        CHECK(cacher_ready(c));
        CHECK_EQ_INT(r.n, 1);
        CHECK_EQ_INT(r.types[0], CACHER_EVENT_EXPIRED);
        cacher_objects(c, pods(), "/registry/pods/", NULL, &n);
        CHECK_EQ_INT(n, 1); /* relisted: a is gone */
        CHECK_EQ_INT(cacher_revision(c), store_revision(s));
        /* the expired watch gets nothing more; a new one works from the relist revision */
        struct rec r2 = {0};
        struct cacher_watch *w2 = NULL;
        int64_t floor = 0;
        CHECK_EQ_INT(cacher_watch_start(c, pods(), "/registry/pods/", rev, on_ev, &r2, &w2, &floor),
                     -ERANGE);
        CHECK_EQ_INT(floor, store_revision(s));
        CHECK_EQ_INT(cacher_watch_start(c, pods(), "/registry/pods/", store_revision(s), on_ev, &r2,
                                        &w2, NULL),
                     0);
        v = pod_json("ns", "c", "x");
        CHECK_EQ_INT(store_create(s, "/registry/pods/ns/c", v, strlen(v), &rev, &err), 0);
        free(v);
        CHECK(cacher_wait_fresh(c, rev, 1000));
        CHECK_EQ_INT(r.n, 1);
        CHECK_EQ_INT(r2.n, 1);
        cacher_watch_stop(w);
        cacher_watch_stop(w2);
        cacher_free(c);
        store_close(s);
}

/* ---- over HTTP ---- */

static struct apiserver *srv;
static struct store *st;
static int port;

struct buf {
        char *p;
        size_t n;
};

static size_t on_write(char *d, size_t s, size_t n, void *ud)
{
        struct buf *b = ud;
        b->p = realloc(b->p, b->n + s * n + 1);
        memcpy(b->p + b->n, d, s * n);
        b->n += s * n;
        b->p[b->n] = 0;
        return s * n;
}

static char *get(const char *path, long *code)
{
        CURL *h = curl_easy_init();
        char url[1024];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
        struct buf b = {calloc(1, 1), 0};
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
        *code = 0;
        if (curl_easy_perform(h) == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
        curl_easy_cleanup(h);
        return b.p;
}

static json_t *getj(const char *path, long *code)
{
        char *s = get(path, code);
        json_t *j = NULL;
        if (kjson_parse(s, strlen(s), 0, &j, NULL) < 0) {
                printf("# not JSON: %.200s\n", s);
                j = json_object();
        }
        free(s);
        return j;
}

static void *run(void *ud)
{
        apiserver_run(srv);
        return NULL;
}

static void create_direct(const char *ns, const char *name, const char *app)
{
        char key[256];
        snprintf(key, sizeof(key), "/registry/pods/%s/%s", ns, name);
        char *v = pod_json(ns, name, app);
        struct error err = {0};
        if (store_create(st, key, v, strlen(v), NULL, &err) < 0)
                printf("# create %s: %s\n", key, err.msg);
        free(v);
}

static void *direct_writer_r(void *ud)
{
        usleep(300 * 1000);
        create_direct("r", "later", "x");
        return NULL;
}

static void *direct_writer(void *ud)
{
        usleep(300 * 1000); /* after the watch below has started */
        create_direct("w", "t1", "x");
        create_direct("w", "t2", "y");
        return NULL;
}

TEST(http_list_and_watch)
{
        long code;
        for (int i = 0; i < 5; i++) {
                char name[16];
                snprintf(name, sizeof(name), "p%d", i);
                create_direct("l", name, i % 2 ? "odd" : "even");
        }
        int64_t rev = store_revision(st);
        /* "" (consistent, from the cache once it caught up), 0, NotOlderThan */
        json_t *j = getj("/api/v1/namespaces/l/pods", &code);
        CHECK_EQ_INT(code, 200);
        CHECK_EQ_INT(json_array_size(json_object_get(j, "items")), 5);
        CHECK_EQ_INT(strtoll(kjson_str(j, "metadata.resourceVersion"), NULL, 10), rev);
        CHECK_EQ_STR(kjson_str(j, "kind"), "PodList");
        CHECK_EQ_STR(kjson_str(json_array_get(json_object_get(j, "items"), 0), "kind"), "Pod");
        json_decref(j);
        j = getj("/api/v1/pods?resourceVersion=0&labelSelector=app%3Dodd", &code);
        CHECK_EQ_INT(code, 200);
        CHECK_EQ_INT(json_array_size(json_object_get(j, "items")), 2);
        json_decref(j);
        char path[512];
        snprintf(path, sizeof(path),
                 "/api/v1/namespaces/l/pods?resourceVersion=%lld&resourceVersionMatch=NotOlderThan"
                 "&fieldSelector=metadata.name%%3Dp3",
                 (long long)rev);
        j = getj(path, &code);
        CHECK_EQ_INT(code, 200);
        CHECK_EQ_INT(json_array_size(json_object_get(j, "items")), 1);
        json_decref(j);
        /* limit 2 from the cache, the rest through continue tokens (from the store) */
        int pages = 0;
        size_t total = 0;
        char cont[512] = "";
        do {
                snprintf(path, sizeof(path), "/api/v1/namespaces/l/pods?limit=2%s%s",
                         *cont ? "&continue=" : "", cont);
                j = getj(path, &code);
                CHECK_EQ_INT(code, 200);
                total += json_array_size(json_object_get(j, "items"));
                const char *c = kjson_str(j, "metadata.continue");
                snprintf(cont, sizeof(cont), "%s", c ? c : "");
                json_decref(j);
        } while (*cont && ++pages < 10);
        CHECK_EQ_INT(total, 5);
        CHECK_EQ_INT(pages, 2);
        /* a Table list from the cache */
        CURL *h = curl_easy_init();
        struct curl_slist *hd =
                curl_slist_append(NULL, "Accept: application/json;as=Table;v=v1;g=meta.k8s.io");
        snprintf(path, sizeof(path),
                 "http://127.0.0.1:%d/api/v1/namespaces/l/pods?resourceVersion=0", port);
        struct buf b = {calloc(1, 1), 0};
        curl_easy_setopt(h, CURLOPT_URL, path);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        curl_easy_perform(h);
        CHECK(strstr(b.p, "\"kind\":\"Table\"") && strstr(b.p, "\"p4\""));
        free(b.p);
        curl_slist_free_all(hd);
        curl_easy_cleanup(h);

        /* a watch fed by writes made on another thread (the store's callbacks run there) */
        snprintf(path, sizeof(path),
                 "/api/v1/namespaces/w/pods?watch=1&resourceVersion=%lld&timeoutSeconds=1",
                 (long long)store_revision(st));
        pthread_t t;
        pthread_create(&t, NULL, direct_writer, NULL);
        char *s = get(path, &code);
        pthread_join(t, NULL);
        CHECK_EQ_INT(code, 200);
        char *a1 = strstr(s, "{\"type\":\"ADDED\",\"object\":{");
        char *a2 = a1 ? strstr(a1 + 1, "{\"type\":\"ADDED\"") : NULL;
        CHECK(a1 == s && a2 && strstr(a1, "\"t1\"") && strstr(a2, "\"t2\""));
        free(s);

        /* resourceVersion=0 watch: the cache's state first; label selector applies */
        s = get("/api/v1/namespaces/w/pods?watch=1&resourceVersion=0&timeoutSeconds=1&"
                "labelSelector=app%3Dy",
                &code);
        CHECK(strstr(s, "\"t2\"") && !strstr(s, "\"t1\""));
        free(s);

        /* older than the cache's window (it starts at the server's initial listing): 410 */
        s = get("/api/v1/namespaces/w/pods?watch=1&resourceVersion=1", &code);
        CHECK(strstr(s, "{\"type\":\"ERROR\"") == s);
        CHECK(strstr(s, "\"code\":410") && strstr(s, "too old resource version: 1 ("));
        free(s);
}

static void *break_store_watch(void *ud)
{
        usleep(300 * 1000); /* after the watch below has started */
        struct store_event ev = {.type = STORE_EVENT_ERROR,
                                 .key = CACHER_KEY_PREFIX,
                                 .value = "",
                                 .rev = store_revision(st),
                                 .error = -ERANGE};
        cacher_store_event(&ev, srv->cacher); /* as an etcd watch thread would */
        create_direct("r", "after", "x");
        return NULL;
}

TEST(http_relist_expires_watches)
{
        long code;
        char path[256];
        snprintf(path, sizeof(path),
                 "/api/v1/namespaces/r/pods?watch=1&resourceVersion=%lld&timeoutSeconds=5",
                 (long long)store_revision(st));
        pthread_t t;
        pthread_create(&t, NULL, break_store_watch, NULL);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        char *s = get(path, &code);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        pthread_join(t, NULL);
        /* the relist ended the watch with 410 (long before its timeout) */
        CHECK(strstr(s, "{\"type\":\"ERROR\"") == s);
        CHECK(strstr(s, "\"code\":410"));
        CHECK(t1.tv_sec - t0.tv_sec < 4);
        free(s);
        /* the cache relisted and watches again: the pod written meanwhile is there */
        for (int i = 0; i < 50; i++) {
                json_t *j = getj("/api/v1/namespaces/r/pods?resourceVersion=0", &code);
                size_t n = json_array_size(json_object_get(j, "items"));
                json_decref(j);
                if (n == 1)
                        break;
                usleep(100 * 1000);
        }
        json_t *j = getj("/api/v1/namespaces/r/pods?resourceVersion=0", &code);
        CHECK_EQ_INT(code, 200);
        CHECK_EQ_INT(json_array_size(json_object_get(j, "items")), 1);
        json_decref(j);
        snprintf(path, sizeof(path),
                 "/api/v1/namespaces/r/pods?watch=1&resourceVersion=%lld&timeoutSeconds=1",
                 (long long)store_revision(st));
        pthread_create(&t, NULL, direct_writer_r, NULL);
        s = get(path, &code);
        pthread_join(t, NULL);
        CHECK(strstr(s, "{\"type\":\"ADDED\"") == s && strstr(s, "\"later\""));
        free(s);
}

int main(void)
{
        log_set_level(LOG_WARN);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (!mkdtemp(tmpdir))
                return 1;
        RUN(objects_in_key_order);
        RUN(ring_history_and_floor);
        RUN(shared_storage_two_versions);
        RUN(ring_byte_cap);
        RUN(stop_inside_callback);
        RUN(events_from_another_thread);
        RUN(owner_thread_applies_at_once);
        RUN(relist_after_broken_watch);

        char db[256];
        snprintf(db, sizeof(db), "%s/state.db", tmpdir);
        struct error err = {0};
        if (store_open(db, &st, &err) < 0) {
                printf("# store: %s\n", err.msg);
                return 1;
        }
        struct apiserver_config cfg = {.bind_address = "127.0.0.1", .port = 0, .store = st};
        if (apiserver_new(&cfg, &srv, &err) < 0) {
                printf("# apiserver: %s\n", err.msg);
                return 1;
        }
        port = apiserver_port(srv);
        pthread_t t;
        pthread_create(&t, NULL, run, NULL);
        RUN(http_list_and_watch);
        RUN(http_relist_expires_watches);
        apiserver_stop(srv);
        pthread_join(t, NULL);
        apiserver_free(srv);
        store_close(st);
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        if (system(cmd) != 0)
                printf("# cleanup failed\n");
        curl_global_cleanup();
        return harness_done();
}
