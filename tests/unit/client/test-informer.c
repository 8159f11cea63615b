/* test-informer.c — informer against a miniature API server: paged LIST, WATCH from a
 * resourceVersion, dropped streams, 410 Gone. */
#include "client/informer.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "client/test-server.h"
#include "harness.h"

/* ---- the miniature API server ---- */

static struct ts_server srv;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *objects; /* "ns/name" -> object (state_lock) */
static json_t *events;  /* array of {"type","object"} with increasing rv (state_lock) */
static int64_t cur_rv;  /* state_lock */
static atomic_int n_lists, n_watches;
static atomic_bool drop_watches, gone_once;
static char last_list_path[4096]; /* state_lock */

static json_t *make_pod(const char *ns, const char *name, const char *phase)
{
        return json_pack("{s:{s:s,s:s},s:{s:s}}", "metadata", "namespace", ns, "name", name,
                         "status", "phase", phase);
}

/* Apply a change to the server state and log the event. Steals obj. */
static void apply(const char *type, json_t *obj)
{
        json_t *meta = json_object_get(obj, "metadata");
        char key[256], rv[32];

        pthread_mutex_lock(&state_lock);
        snprintf(key, sizeof(key), "%s/%s", json_string_value(json_object_get(meta, "namespace")),
                 json_string_value(json_object_get(meta, "name")));
        snprintf(rv, sizeof(rv), "%lld", (long long)++cur_rv);
        json_object_set_new(meta, "resourceVersion", json_string(rv));
        if (strcmp(type, "DELETED") == 0)
                json_object_del(objects, key);
        else
                json_object_set(objects, key, obj);
        json_array_append_new(events, json_pack("{s:s,s:o}", "type", type, "object", obj));
        pthread_mutex_unlock(&state_lock);
}

static const char *query_param(const char *path, const char *name, char *buf, size_t size)
{
        const char *q = strchr(path, '?');
        size_t n = strlen(name);

        while (q) {
                q++;
                if (strncmp(q, name, n) == 0 && q[n] == '=') {
                        size_t len = strcspn(q + n + 1, "&");
                        snprintf(buf, size, "%.*s", (int)len, q + n + 1);
                        return buf;
                }
                q = strchr(q, '&');
        }
        return NULL;
}

static bool handle_list(struct ts_req *r)
{
        json_t *list, *items = json_array(), *obj;
        const char *key;
        char cont[32], rv[32];
        int start = 0, idx = 0;
        char *d;

        atomic_fetch_add(&n_lists, 1);
        if (query_param(r->path, "continue", cont, sizeof(cont)))
                start = atoi(cont);
        pthread_mutex_lock(&state_lock);
        snprintf(last_list_path, sizeof(last_list_path), "%s", r->path);
        /* Pages of 2 to exercise continue. */
        json_object_foreach(objects, key, obj)
        {
                if (idx >= start && idx < start + 2) {
                        json_t *copy = json_deep_copy(obj);
                        json_object_del(copy, "kind");
                        json_array_append_new(items, copy);
                }
                idx++;
        }
        snprintf(rv, sizeof(rv), "%lld", (long long)cur_rv);
        list = json_pack("{s:s,s:s,s:{s:s},s:o}", "kind", "PodList", "apiVersion", "v1", "metadata",
                         "resourceVersion", rv, "items", items);
        if (start + 2 < idx) {
                snprintf(cont, sizeof(cont), "%d", start + 2);
                json_object_set_new(json_object_get(list, "metadata"), "continue",
                                    json_string(cont));
        }
        pthread_mutex_unlock(&state_lock);
        d = json_dumps(list, JSON_COMPACT);
        ts_respond(r, 200, d);
        free(d);
        json_decref(list);
        return true;
}

static bool handle_watch(struct ts_server *s, struct ts_req *r)
{
        char buf[32];
        int64_t from = 0;
        size_t sent = 0;

        atomic_fetch_add(&n_watches, 1);
        if (query_param(r->path, "resourceVersion", buf, sizeof(buf)))
                from = atoll(buf);
        if (atomic_load(&drop_watches))
                return false; /* no response at all: the client sees a broken connection */
        ts_chunk_start(r, 200);
        if (atomic_exchange(&gone_once, false)) {
                ts_chunk(r, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"status\":"
                            "\"Failure\",\"reason\":\"Expired\",\"code\":410,\"message\":"
                            "\"too old resource version\"}}\n");
                ts_chunk_end(r);
                return true;
        }
        snprintf(buf, sizeof(buf), "%lld", (long long)from);
        {
                json_t *bm = json_pack("{s:s,s:{s:s,s:{s:s}}}", "type", "BOOKMARK", "object",
                                       "kind", "Pod", "metadata", "resourceVersion", buf);
                char *d = json_dumps(bm, JSON_COMPACT);
                char *line = xasprintf("%s\n", d);
                ts_chunk(r, line);
                free(line);
                free(d);
                json_decref(bm);
        }
        while (!atomic_load(&s->stop)) {
                json_t *ev;
                char *d = NULL;

                if (atomic_load(&drop_watches))
                        return false; /* mid-stream: no terminating chunk */
                pthread_mutex_lock(&state_lock);
                while (sent < json_array_size(events)) {
                        ev = json_array_get(events, sent++);
                        const char *rv = json_string_value(json_object_get(
                                json_object_get(json_object_get(ev, "object"), "metadata"),
                                "resourceVersion"));
                        if (atoll(rv) > from) {
                                d = json_dumps(ev, JSON_COMPACT);
                                break;
                        }
                }
                pthread_mutex_unlock(&state_lock);
                if (d) {
                        char *line = xasprintf("%s\n", d);
                        ts_chunk(r, line);
                        free(line);
                        free(d);
                        continue;
                }
                usleep(10000);
        }
        return false;
}

static bool handler(struct ts_server *s, struct ts_req *r)
{
        if (strncmp(r->path, "/api/v1/pods?", 13) == 0) {
                if (strstr(r->path, "watch=true"))
                        return handle_watch(s, r);
                return handle_list(r);
        }
        ts_respond(r, 404, "{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\"}");
        return true;
}

/* ---- handlers under test ---- */

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static int n_add, n_update, n_delete; /* rec_lock */
static char last[256];                /* rec_lock: "op ns/name rv[->rv]" */

static const char *name_of(json_t *o)
{
        return json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
}

static const char *rv_of(json_t *o)
{
        return json_string_value(
                json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
}

static void on_add(json_t *obj, void *ud)
{
        pthread_mutex_lock(&rec_lock);
        n_add++;
        snprintf(last, sizeof(last), "add %s %s %s", name_of(obj), rv_of(obj),
                 json_string_value(json_object_get(obj, "kind")));
        pthread_mutex_unlock(&rec_lock);
}

static void on_update(json_t *old_obj, json_t *new_obj, void *ud)
{
        struct informer *i = *(struct informer **)ud;
        json_t *cached = i ? informer_get(i, "default", name_of(new_obj)) : NULL;

        pthread_mutex_lock(&rec_lock);
        n_update++;
        /* The cache already holds the new object when the handler runs. */
        snprintf(last, sizeof(last), "update %s %s->%s%s", name_of(new_obj), rv_of(old_obj),
                 rv_of(new_obj), cached && cached != new_obj ? " (stale cache)" : "");
        pthread_mutex_unlock(&rec_lock);
        json_decref(cached);
}

static void on_delete(json_t *obj, void *ud)
{
        pthread_mutex_lock(&rec_lock);
        n_delete++;
        snprintf(last, sizeof(last), "delete %s", name_of(obj));
        pthread_mutex_unlock(&rec_lock);
}

/* Wait until the counters reach (a, u, d); false on a 5 s timeout. */
static bool wait_counts(int a, int u, int d)
{
        for (int t = 0; t < 500; t++) {
                bool ok;
                pthread_mutex_lock(&rec_lock);
                ok = n_add == a && n_update == u && n_delete == d;
                pthread_mutex_unlock(&rec_lock);
                if (ok)
                        return true;
                usleep(10000);
        }
        printf("# counts: add %d update %d delete %d, wanted %d %d %d\n", n_add, n_update, n_delete,
               a, u, d);
        return false;
}

static char tmpdir[64];
static char kubeconfig[128];

static void write_kubeconfig(void)
{
        FILE *f;

        snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-informer-XXXXXX");
        if (!mkdtemp(tmpdir))
                abort();
        snprintf(kubeconfig, sizeof(kubeconfig), "%s/kubeconfig", tmpdir);
        f = fopen(kubeconfig, "w");
        /* JSON is YAML too. */
        fprintf(f,
                "{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"current-context\":\"t\","
                "\"clusters\":[{\"name\":\"t\",\"cluster\":{\"server\":\"http://127.0.0.1:%d\"}}],"
                "\"users\":[{\"name\":\"t\",\"user\":{\"token\":\"abc\"}}],"
                "\"contexts\":[{\"name\":\"t\",\"context\":{\"cluster\":\"t\",\"user\":\"t\"}}]}\n",
                srv.port);
        fclose(f);
}

static int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TEST(start_errors)
{
        struct informer *i = NULL;
        struct error err = {};

        CHECK_EQ_INT(informer_start("/nonexistent/kubeconfig", "/api/v1/pods", NULL, NULL, NULL, &i,
                                    &err),
                     -ENOENT);
        CHECK_EQ_INT(informer_start(kubeconfig, "/api/v1/pods?x=1", NULL, NULL, NULL, &i, &err),
                     -EINVAL);
        CHECK(i == NULL);
}

TEST(list_watch_relist)
{
        static struct informer *inf; /* on_update reads it */
        struct informer_handlers h = {on_add, on_update, on_delete};
        struct error err = {};
        json_t *o, *arr;
        char rv[64];
        int lists;

        apply("ADDED", make_pod("default", "a", "Pending"));
        apply("ADDED", make_pod("default", "b", "Pending"));
        apply("ADDED", make_pod("default", "c", "Pending"));
        apply("ADDED", make_pod("other", "x", "Running"));

        CHECK_EQ_INT(informer_start(kubeconfig, "/api/v1/pods", "labelSelector=app%3Dweb", &h, &inf,
                                    &inf, &err),
                     0);
        CHECK_EQ_INT(informer_wait_synced(inf, 5000), 0);
        CHECK(informer_has_synced(inf));
        /* Two pages of two, query passed through. */
        CHECK_EQ_INT(atomic_load(&n_lists), 2);
        pthread_mutex_lock(&state_lock);
        CHECK(strstr(last_list_path, "labelSelector=app%3Dweb") != NULL);
        CHECK(strstr(last_list_path, "continue=2") != NULL);
        pthread_mutex_unlock(&state_lock);
        CHECK(wait_counts(4, 0, 0));
        informer_resource_version(inf, rv, sizeof(rv));
        CHECK_EQ_STR(rv, "4");

        o = informer_get(inf, "default", "b");
        CHECK(o != NULL);
        /* kind filled in from the list's kind. */
        CHECK_EQ_STR(json_string_value(json_object_get(o, "kind")), "Pod");
        json_decref(o);
        CHECK(informer_get(inf, "default", "x") == NULL);
        CHECK_EQ_INT(informer_list(inf, NULL, &arr), 4);
        CHECK_EQ_STR(name_of(json_array_get(arr, 0)), "a");
        CHECK_EQ_STR(name_of(json_array_get(arr, 3)), "x");
        json_decref(arr);
        CHECK_EQ_INT(informer_list(inf, "other", &arr), 1);
        json_decref(arr);

        /* Watch events. */
        apply("MODIFIED", make_pod("default", "a", "Running"));
        CHECK(wait_counts(4, 1, 0));
        pthread_mutex_lock(&rec_lock);
        CHECK_EQ_STR(last, "update a 1->5");
        pthread_mutex_unlock(&rec_lock);
        apply("DELETED", make_pod("default", "b", "Running"));
        CHECK(wait_counts(4, 1, 1));
        apply("ADDED", make_pod("default", "d", "Pending"));
        CHECK(wait_counts(5, 1, 1));
        o = informer_get(inf, "default", "a");
        CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(o, "status"), "phase")),
                     "Running");
        json_decref(o);
        CHECK(informer_get(inf, "default", "b") == NULL);

        /* The server drops the stream and changes things while the informer is away: the
         * relist diff reports exactly those changes. */
        lists = atomic_load(&n_lists);
        atomic_store(&drop_watches, true);
        usleep(100000);
        pthread_mutex_lock(&state_lock);
        json_array_clear(events); /* the changes below reach the informer only by relisting */
        pthread_mutex_unlock(&state_lock);
        apply("MODIFIED", make_pod("default", "c", "Failed"));
        apply("DELETED", make_pod("other", "x", "Running"));
        apply("ADDED", make_pod("default", "e", "Pending"));
        pthread_mutex_lock(&state_lock);
        json_array_clear(events);
        pthread_mutex_unlock(&state_lock);
        CHECK(wait_counts(6, 2, 2));
        atomic_store(&drop_watches, false);
        CHECK(atomic_load(&n_lists) > lists);
        CHECK(informer_get(inf, "other", "x") == NULL);
        o = informer_get(inf, "default", "e");
        CHECK(o != NULL);
        json_decref(o);

        /* 410 Gone on the next watch: relist (no changes -> no handler calls), rewatch, and
         * events flow again. */
        usleep(300000); /* let a watch through so gone_once hits the next one */
        lists = atomic_load(&n_lists);
        atomic_store(&gone_once, true);
        atomic_store(&drop_watches, true); /* break the current watch... */
        usleep(50000);
        atomic_store(&drop_watches, false); /* ...the next one gets the 410 */
        for (int t = 0; t < 500 && atomic_load(&gone_once); t++)
                usleep(10000);
        CHECK(!atomic_load(&gone_once));
        apply("MODIFIED", make_pod("default", "e", "Running"));
        CHECK(wait_counts(6, 3, 2));
        CHECK(atomic_load(&n_lists) > lists);

        /* Stop aborts the idle watch promptly. */
        int64_t t0 = mono_ms();
        informer_stop(inf);
        inf = NULL;
        CHECK(mono_ms() - t0 < 2500);
        informer_stop(NULL);
}

TEST(server_down_then_up)
{
        struct ts_server down;
        struct informer *i = NULL;
        struct error err = {};
        char kc[160];
        FILE *f;
        int port;

        /* Reserve a port, stop listening: the informer retries with backoff, never syncs. */
        CHECK_EQ_INT(ts_start(&down, handler, NULL), 0);
        port = down.port;
        ts_stop(&down);
        snprintf(kc, sizeof(kc), "%s/down.kubeconfig", tmpdir);
        f = fopen(kc, "w");
        fprintf(f,
                "{\"current-context\":\"t\",\"clusters\":[{\"name\":\"t\",\"cluster\":"
                "{\"server\":\"http://127.0.0.1:%d\"}}],\"contexts\":[{\"name\":\"t\","
                "\"context\":{\"cluster\":\"t\"}}]}\n",
                port);
        fclose(f);
        CHECK_EQ_INT(informer_start(kc, "/api/v1/pods", NULL, NULL, NULL, &i, &err), 0);
        CHECK_EQ_INT(informer_wait_synced(i, 500), -ETIMEDOUT);
        CHECK(!informer_has_synced(i));
        informer_stop(i);
        unlink(kc);
}

int main(void)
{
        int rc;

        objects = json_object();
        events = json_array();
        if (ts_start(&srv, handler, NULL) < 0) {
                printf("Bail out! cannot start test server\n");
                return 1;
        }
        write_kubeconfig();
        RUN(start_errors);
        RUN(list_watch_relist);
        RUN(server_down_then_up);
        ts_stop(&srv);
        unlink(kubeconfig);
        rmdir(tmpdir);
        json_decref(objects);
        json_decref(events);
        rc = harness_done();
        return rc;
}
