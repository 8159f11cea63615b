/* bench-api.c — load generator for `make bench` (scripts/bench.sh prints the table).
 *
 * Transport: libcurl, HTTP/1.1 over keep-alive connections, one easy handle per thread (N
 * threads = N connections); the watch benchmark uses one multi handle with one HTTP/1.1
 * connection per watcher. TLS with the server's CA and the admin client certificate from the
 * data dir (DATA/server/tls/{ca,admin}.{crt,key}); plain http for etcd's JSON gateway.
 *
 * Every mode prints one line of key=value pairs on stdout:
 *   bench-api load  --op create|update|get|list|etcd-put --n N --conns C [--objects M]
 *                   [--start I] [--rate R]             R > 0: open loop, R requests/s in all
 *                   (latency counted from each request's scheduled time: queueing included)
 *   bench-api list  --runs R [--rv0]                    LIST of the namespace, ms per call
 *   bench-api watch --watchers W --events E             patch -> every watcher's event
 *   bench-api store --db PATH --objects M --n N --conns C   store-level updates, file size
 * Common: --url URL (API server or etcd), --tls DIR (ca.crt, admin.crt, admin.key), --ns NS.
 *
 * Watch latency: the writer stamps the object with CLOCK_MONOTONIC ns in an annotation right
 * before sending the PATCH; a watcher computes receive time minus the stamp. This is an upper
 * bound of commit -> watcher (it includes the request and its fsync'ed commit). The watcher side
 * scans each line for the stamp without a JSON parse (one thread reads all watchers). */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/base.h"
#include "common/kjson.h"
#include "store/store.h"

struct opts {
        const char *mode;
        const char *op;
        const char *url;
        const char *tls;
        const char *ns;
        const char *db;
        long n;
        long conns;
        long objects;
        long start;
        long runs;
        long watchers;
        long events;
        double rate;
        bool rv0;
};

static struct opts O = {.ns = "bench",
                        .n = 1000,
                        .conns = 1,
                        .objects = 100,
                        .runs = 5,
                        .watchers = 100,
                        .events = 200};

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long long now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* p in [0,100]; v sorted. Nearest-rank percentile. */
static double pct(const double *v, size_t n, double p)
{
        if (!n)
                return 0;
        size_t i = (size_t)((p / 100.0) * (double)n + 0.999999);
        if (i < 1)
                i = 1;
        if (i > n)
                i = n;
        return v[i - 1];
}

/* ---- request bodies ---- */

static char *pod_json(const char *ns, const char *name, long long stamp, long counter)
{
        return xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
                         "\"namespace\":\"%s\",\"labels\":{\"app\":\"bench\",\"tier\":\"load\"},"
                         "\"annotations\":{\"bench/t\":\"%lld\",\"bench/n\":\"%ld\"}},"
                         "\"spec\":{\"nodeName\":\"bench-node\",\"restartPolicy\":\"Always\","
                         "\"containers\":[{\"name\":\"main\",\"image\":\"busybox:1.36\","
                         "\"command\":[\"sh\",\"-c\",\"sleep 3600\"],"
                         "\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"16Mi\"}},"
                         "\"env\":[{\"name\":\"MODE\",\"value\":\"benchmark\"}]}]}}",
                         name, ns, stamp, counter);
}

/* Updates are merge patches of the annotations: a PUT of a whole pod would fail validation
 * (spec is immutable and the server added defaults), and this is what `kubectl annotate` sends. */
static char *stamp_patch(long long stamp, long counter)
{
        return xasprintf(
                "{\"metadata\":{\"annotations\":{\"bench/t\":\"%lld\",\"bench/n\":\"%ld\"}}}",
                stamp, counter);
}

static struct curl_slist *patch_headers(void)
{
        struct curl_slist *h =
                curl_slist_append(NULL, "Content-Type: application/merge-patch+json");
        return curl_slist_append(h, "Accept: application/json");
}

static char *b64(const char *s)
{
        size_t n = strlen(s);
        char *out = xmalloc(4 * ((n + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
        return out;
}

/* ---- curl helpers ---- */

struct sink {
        char *buf;
        size_t len, cap;
};

/* Geometric growth: a 20 MB LIST arrives in ~16 KB pieces; growing by each piece made the
 * client's copying part of the LIST figure. */
static size_t sink_write(char *p, size_t sz, size_t nm, void *ud)
{
        struct sink *k = ud;
        size_t n = sz * nm;
        if (k->len + n + 1 > k->cap) {
                k->cap = MAX(k->cap * 2, k->len + n + 1);
                k->buf = xrealloc(k->buf, k->cap);
        }
        memcpy(k->buf + k->len, p, n);
        k->len += n;
        k->buf[k->len] = 0;
        return n;
}

static CURL *handle_new(void)
{
        CURL *h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L); /* a hung server fails the run, not hangs it */
        if (O.tls) {
                _cleanup_free_ char *ca = xasprintf("%s/ca.crt", O.tls);
                _cleanup_free_ char *crt = xasprintf("%s/admin.crt", O.tls);
                _cleanup_free_ char *key = xasprintf("%s/admin.key", O.tls);
                curl_easy_setopt(h, CURLOPT_CAINFO, ca);
                curl_easy_setopt(h, CURLOPT_SSLCERT, crt);
                curl_easy_setopt(h, CURLOPT_SSLKEY, key);
        }
        return h;
}

/* One request on h; returns the HTTP status (0 on transport failure). body may be NULL. */
static long request(CURL *h, struct curl_slist *hdrs, const char *method, const char *url,
                    const char *body, struct sink *out)
{
        out->len = 0;
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
        if (body) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        } else {
                curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        }
        if (curl_easy_perform(h) != CURLE_OK)
                return 0;
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        return code;
}

/* ---- load: N requests over C threads ---- */

struct load {
        double t0; /* now_ms() at the start (--rate schedules from it) */
        atomic_long next;
        atomic_long failed;
        double *lat; /* ms per request, indexed by request number; < 0 = failed */
        char first_error[256];
        pthread_mutex_t mu;
};

static void *load_thread(void *ud)
{
        struct load *L = ud;
        CURL *h = handle_new();
        struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
        hdrs = curl_slist_append(hdrs, "Accept: application/json");
        struct curl_slist *phdrs = patch_headers();
        struct sink out = {0};
        for (;;) {
                long i = atomic_fetch_add(&L->next, 1);
                if (i >= O.n)
                        break;
                long obj = O.start + (strcmp(O.op, "create") ? i % O.objects : i);
                _cleanup_free_ char *name = xasprintf("p-%ld", obj);
                _cleanup_free_ char *url = NULL, *body = NULL;
                const char *method;
                if (!strcmp(O.op, "create")) {
                        method = "POST";
                        url = xasprintf("%s/api/v1/namespaces/%s/pods", O.url, O.ns);
                        body = pod_json(O.ns, name, now_ns(), i);
                } else if (!strcmp(O.op, "update")) {
                        method = "PATCH";
                        url = xasprintf("%s/api/v1/namespaces/%s/pods/%s", O.url, O.ns, name);
                        body = stamp_patch(now_ns(), i);
                } else if (!strcmp(O.op, "get")) {
                        method = "GET";
                        url = xasprintf("%s/api/v1/namespaces/%s/pods/%s", O.url, O.ns, name);
                } else if (!strcmp(O.op, "list")) { /* kubectl's first page */
                        method = "GET";
                        url = xasprintf("%s/api/v1/namespaces/%s/pods?limit=500", O.url, O.ns);
                } else { /* etcd-put: the same pod JSON as value */
                        method = "POST";
                        url = xasprintf("%s/v3/kv/put", O.url);
                        _cleanup_free_ char *k = xasprintf("/bench-raw/pods/%s/%s", O.ns, name);
                        _cleanup_free_ char *v = pod_json(O.ns, name, now_ns(), i);
                        _cleanup_free_ char *kb = b64(k), *vb = b64(v);
                        body = xasprintf("{\"key\":\"%s\",\"value\":\"%s\"}", kb, vb);
                }
                double t0 = now_ms();
                if (O.rate > 0) {
                        double due = L->t0 + (double)i * 1e3 / O.rate;
                        if (due > t0) {
                                long long ns = (long long)((due - t0) * 1e6);
                                struct timespec ts = {ns / 1000000000LL, ns % 1000000000LL};
                                nanosleep(&ts, NULL);
                        }
                        t0 = due;
                }
                long code =
                        request(h, strcmp(method, "PATCH") ? hdrs : phdrs, method, url, body, &out);
                double dt = now_ms() - t0;
                if (code >= 200 && code < 300) {
                        L->lat[i] = dt;
                } else {
                        L->lat[i] = -1;
                        atomic_fetch_add(&L->failed, 1);
                        if (code == 0) /* server gone or hung: stop the run */
                                atomic_store(&L->next, O.n);
                        pthread_mutex_lock(&L->mu);
                        if (!L->first_error[0])
                                snprintf(L->first_error, sizeof(L->first_error),
                                         "%s %s: %ld %.120s", method, url, code,
                                         out.buf ? out.buf : "");
                        pthread_mutex_unlock(&L->mu);
                }
        }
        free(out.buf);
        curl_slist_free_all(hdrs);
        curl_slist_free_all(phdrs);
        curl_easy_cleanup(h);
        return NULL;
}

static int run_load(void)
{
        struct load L = {0};
        pthread_mutex_init(&L.mu, NULL);
        L.lat = xcalloc((size_t)O.n, sizeof(double));
        for (long i = 0; i < O.n; i++)
                L.lat[i] = -1; /* not issued (a run stops at the first transport failure) */
        pthread_t *th = xcalloc((size_t)O.conns, sizeof(pthread_t));
        double t0 = now_ms();
        L.t0 = t0;
        for (long i = 0; i < O.conns; i++)
                pthread_create(&th[i], NULL, load_thread, &L);
        for (long i = 0; i < O.conns; i++)
                pthread_join(th[i], NULL);
        double secs = (now_ms() - t0) / 1e3;
        size_t ok = 0;
        for (long i = 0; i < O.n; i++)
                if (L.lat[i] >= 0)
                        L.lat[ok++] = L.lat[i];
        qsort(L.lat, ok, sizeof(double), cmp_double);
        printf("op=%s conns=%ld n=%ld ok=%zu failed=%ld secs=%.2f rate=%.0f p50_ms=%.2f "
               "p99_ms=%.2f max_ms=%.2f\n",
               O.op, O.conns, O.n, ok, atomic_load(&L.failed), secs, (double)ok / secs,
               pct(L.lat, ok, 50), pct(L.lat, ok, 99), ok ? L.lat[ok - 1] : 0.0);
        if (L.first_error[0])
                fprintf(stderr, "bench-api: first failure: %s\n", L.first_error);
        free(L.lat);
        free(th);
        return atomic_load(&L.failed) ? 1 : 0;
}

/* ---- list ---- */

static int run_list(void)
{
        CURL *h = handle_new();
        struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
        struct sink out = {0};
        _cleanup_free_ char *url = xasprintf("%s/api/v1/namespaces/%s/pods%s", O.url, O.ns,
                                             O.rv0 ? "?resourceVersion=0" : "");
        double *v = xcalloc((size_t)O.runs, sizeof(double));
        size_t items = 0, bytes = 0;
        int rc = 0;
        for (long i = 0; i < O.runs; i++) {
                double t0 = now_ms();
                long code = request(h, hdrs, "GET", url, NULL, &out);
                v[i] = now_ms() - t0;
                if (code != 200) {
                        fprintf(stderr, "bench-api: list: HTTP %ld\n", code);
                        rc = 1;
                        break;
                }
                bytes = out.len;
        }
        if (!rc) {
                json_t *j = json_loadb(out.buf, out.len, 0, NULL);
                items = json_array_size(json_object_get(j, "items"));
                json_decref(j);
        }
        qsort(v, (size_t)O.runs, sizeof(double), cmp_double);
        printf("op=list rv0=%d runs=%ld items=%zu bytes=%zu p50_ms=%.1f min_ms=%.1f max_ms=%.1f\n",
               O.rv0, O.runs, items, bytes, pct(v, (size_t)O.runs, 50), v[0], v[O.runs - 1]);
        free(v);
        free(out.buf);
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(h);
        return rc;
}

/* ---- watch ---- */

struct watcher {
        CURL *h;
        char *buf; /* partial line */
        size_t len;
        long seen; /* stamped events received */
};

struct watchbench {
        double *lat; /* [events * watchers] */
        atomic_long n_lat;
        atomic_long marks; /* "sync" events seen (annotation bench/n = -1) */
        atomic_bool stop;
        long events_expected;
};
static struct watchbench WB;

/* The string value of "key":"..." in line (NUL-terminated), copied into buf; NULL if absent. */
static const char *find_str(const char *line, const char *key, char *buf, size_t size)
{
        const char *p = strstr(line, key);
        if (!p)
                return NULL;
        p += strlen(key);
        size_t i = 0;
        while (p[i] && p[i] != '"' && i + 1 < size) {
                buf[i] = p[i];
                i++;
        }
        buf[i] = 0;
        return buf;
}

/* One event line (NUL-terminated in place). The receive time is taken first; the line is then
 * scanned for the stamp without a JSON parse, so that the client's own work for the watchers
 * served before this one (one thread reads all 100 connections) stays small in the figure. */
static void watch_line(struct watcher *w, char *line, size_t n)
{
        long long t_recv = now_ns();
        char tb[32], cb[32];
        line[n] = 0;
        const char *t = find_str(line, "\"bench/t\":\"", tb, sizeof(tb));
        const char *c = find_str(line, "\"bench/n\":\"", cb, sizeof(cb));
        if (t && c && !strncmp(line, "{\"type\":\"MODIFIED\"", 18)) {
                if (atol(c) < 0) {
                        atomic_fetch_add(&WB.marks, 1);
                } else {
                        long k = atomic_fetch_add(&WB.n_lat, 1);
                        if (k < WB.events_expected)
                                WB.lat[k] = (double)(t_recv - atoll(t)) / 1e6;
                        w->seen++;
                }
        }
}

static size_t watch_write(char *p, size_t sz, size_t nm, void *ud)
{
        struct watcher *w = ud;
        size_t n = sz * nm;
        w->buf = xrealloc(w->buf, w->len + n + 1);
        memcpy(w->buf + w->len, p, n);
        w->len += n;
        size_t start = 0;
        for (size_t i = 0; i < w->len; i++)
                if (w->buf[i] == '\n') {
                        watch_line(w, w->buf + start, i - start);
                        start = i + 1;
                }
        memmove(w->buf, w->buf + start, w->len - start);
        w->len -= start;
        return n;
}

static void *watch_loop(void *ud)
{
        CURLM *m = ud;
        while (!atomic_load(&WB.stop)) {
                int running;
                curl_multi_perform(m, &running);
                curl_multi_poll(m, NULL, 0, 50, NULL);
        }
        return NULL;
}

static long patch_stamped(CURL *h, struct curl_slist *hdrs, const char *name, long counter,
                          struct sink *out)
{
        _cleanup_free_ char *url = xasprintf("%s/api/v1/namespaces/%s/pods/%s", O.url, O.ns, name);
        _cleanup_free_ char *body = stamp_patch(now_ns(), counter);
        return request(h, hdrs, "PATCH", url, body, out);
}

static int run_watch(void)
{
        CURL *h = handle_new();
        struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
        hdrs = curl_slist_append(hdrs, "Accept: application/json");
        struct curl_slist *phdrs = patch_headers();
        struct sink out = {0};
        const char *name = "w-0";
        /* The object (create, or update if it exists) and the revision to watch from. */
        _cleanup_free_ char *curl_ = xasprintf("%s/api/v1/namespaces/%s/pods", O.url, O.ns);
        _cleanup_free_ char *body = pod_json(O.ns, name, 0, -2);
        long code = request(h, hdrs, "POST", curl_, body, &out);
        if (code == 409)
                code = patch_stamped(h, phdrs, name, -2, &out);
        if (code < 200 || code >= 300) {
                fprintf(stderr, "bench-api: watch: create %s: HTTP %ld\n", name, code);
                return 1;
        }
        json_t *obj = json_loadb(out.buf, out.len, 0, NULL);
        _cleanup_free_ char *rv = xstrdup(kjson_str(obj, "metadata.resourceVersion") ?: "0");
        json_decref(obj);

        WB.events_expected = O.events * O.watchers;
        WB.lat = xcalloc((size_t)WB.events_expected, sizeof(double));
        CURLM *m = curl_multi_init();
        struct watcher *ws = xcalloc((size_t)O.watchers, sizeof(*ws));
        _cleanup_free_ char *wurl =
                xasprintf("%s/api/v1/namespaces/%s/pods?watch=1&resourceVersion=%s&"
                          "fieldSelector=metadata.name%%3D%s",
                          O.url, O.ns, rv, name);
        struct curl_slist *whdrs = curl_slist_append(NULL, "Accept: application/json");
        for (long i = 0; i < O.watchers; i++) {
                ws[i].h = handle_new();
                curl_easy_setopt(ws[i].h, CURLOPT_TIMEOUT, 0L);
                curl_easy_setopt(ws[i].h, CURLOPT_URL, wurl);
                curl_easy_setopt(ws[i].h, CURLOPT_HTTPHEADER, whdrs);
                curl_easy_setopt(ws[i].h, CURLOPT_WRITEFUNCTION, watch_write);
                curl_easy_setopt(ws[i].h, CURLOPT_WRITEDATA, &ws[i]);
                curl_multi_add_handle(m, ws[i].h);
        }
        pthread_t th;
        pthread_create(&th, NULL, watch_loop, m);

        /* Sync: stamp with counter -1 until every watcher has seen one such event. */
        int rc = 0;
        double deadline = now_ms() + 20000;
        while (atomic_load(&WB.marks) < O.watchers) {
                if (now_ms() > deadline) {
                        fprintf(stderr, "bench-api: watch: only %ld of %ld watchers connected\n",
                                atomic_load(&WB.marks), O.watchers);
                        rc = 1;
                        goto out;
                }
                long before = atomic_load(&WB.marks);
                patch_stamped(h, phdrs, name, -1, &out);
                double until = now_ms() + 500;
                while (now_ms() < until && atomic_load(&WB.marks) < O.watchers)
                        usleep(5000);
                if (atomic_load(&WB.marks) >= O.watchers)
                        break;
                (void)before;
                /* Watchers that connected late missed a mark: reset and retry. */
                atomic_store(&WB.marks, 0);
        }
        usleep(100000);
        /* Measured: E updates, each after the previous one reached every watcher (or 1 s). */
        double t0 = now_ms();
        for (long e = 0; e < O.events; e++) {
                long want = (e + 1) * O.watchers;
                code = patch_stamped(h, phdrs, name, e, &out);
                if (code != 200) {
                        fprintf(stderr, "bench-api: watch: update: HTTP %ld\n", code);
                        rc = 1;
                        break;
                }
                double until = now_ms() + 1000;
                while (atomic_load(&WB.n_lat) < want && now_ms() < until)
                        usleep(200);
        }
        double secs = (now_ms() - t0) / 1e3;
        usleep(200000);
        long got = atomic_load(&WB.n_lat);
        if (got > WB.events_expected)
                got = WB.events_expected;
        qsort(WB.lat, (size_t)got, sizeof(double), cmp_double);
        printf("op=watch watchers=%ld events=%ld delivered=%ld expected=%ld secs=%.2f "
               "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
               O.watchers, O.events, got, WB.events_expected, secs, pct(WB.lat, (size_t)got, 50),
               pct(WB.lat, (size_t)got, 99), got ? WB.lat[got - 1] : 0.0);
        if (got < WB.events_expected)
                rc = 1;
out:
        atomic_store(&WB.stop, true);
        pthread_join(th, NULL);
        for (long i = 0; i < O.watchers; i++) {
                curl_multi_remove_handle(m, ws[i].h);
                curl_easy_cleanup(ws[i].h);
                free(ws[i].buf);
        }
        curl_multi_cleanup(m);
        curl_slist_free_all(whdrs);
        curl_slist_free_all(hdrs);
        curl_slist_free_all(phdrs);
        curl_easy_cleanup(h);
        free(ws);
        free(WB.lat);
        free(out.buf);
        return rc;
}

/* ---- store: updates straight into the store library, then the file size ---- */

struct storebench {
        struct store *s;
        atomic_long next;
        atomic_long failed;
};

static void *store_thread(void *ud)
{
        struct storebench *B = ud;
        for (;;) {
                long i = atomic_fetch_add(&B->next, 1);
                if (i >= O.n)
                        break;
                _cleanup_free_ char *name = xasprintf("p-%ld", i % O.objects);
                _cleanup_free_ char *key = xasprintf("/registry/pods/%s/%s", O.ns, name);
                _cleanup_free_ char *v = pod_json(O.ns, name, now_ns(), i);
                struct error err = {0};
                int64_t rev;
                int r = i < O.objects ? store_create(B->s, key, v, strlen(v), &rev, &err)
                                      : store_update(B->s, key, v, strlen(v), 0, &rev, &err);
                if (r == -ENOENT) /* its create is still running on another thread */
                        r = store_create(B->s, key, v, strlen(v), &rev, &err);
                if (r == -EEXIST)
                        r = store_update(B->s, key, v, strlen(v), 0, &rev, &err);
                if (r < 0) {
                        if (atomic_fetch_add(&B->failed, 1) == 0)
                                fprintf(stderr, "bench-api: store: %s\n", error_msg(&err));
                }
        }
        return NULL;
}

static long long file_size(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static int run_store(void)
{
        struct storebench B = {0};
        struct error err = {0};
        if (store_open(O.db, &B.s, &err) < 0) {
                fprintf(stderr, "bench-api: store: %s\n", error_msg(&err));
                return 1;
        }
        pthread_t *th = xcalloc((size_t)O.conns, sizeof(pthread_t));
        double t0 = now_ms();
        for (long i = 0; i < O.conns; i++)
                pthread_create(&th[i], NULL, store_thread, &B);
        for (long i = 0; i < O.conns; i++)
                pthread_join(th[i], NULL);
        double secs = (now_ms() - t0) / 1e3;
        /* Sizes while open (database + WAL, as a running server has them) and after close. */
        _cleanup_free_ char *wal = xasprintf("%s-wal", O.db);
        long long open_total = file_size(O.db) + file_size(wal);
        store_close(B.s);
        long long db = file_size(O.db), w = file_size(wal);
        printf("op=store conns=%ld n=%ld objects=%ld failed=%ld secs=%.2f rate=%.0f "
               "open_mb=%.2f db_mb=%.2f wal_mb=%.2f total_mb=%.2f\n",
               O.conns, O.n, O.objects, atomic_load(&B.failed), secs, (double)O.n / secs,
               (double)open_total / 1048576.0, (double)db / 1048576.0, (double)w / 1048576.0,
               (double)(db + w) / 1048576.0);
        free(th);
        return atomic_load(&B.failed) ? 1 : 0;
}

static _Noreturn void usage(void)
{
        fprintf(stderr, "usage: bench-api load|list|watch|store [options] (see bench-api.c)\n");
        exit(2);
}

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
                {"op", required_argument, NULL, 'o'},
                {"url", required_argument, NULL, 'u'},
                {"tls", required_argument, NULL, 't'},
                {"ns", required_argument, NULL, 's'},
                {"db", required_argument, NULL, 'd'},
                {"n", required_argument, NULL, 'n'},
                {"conns", required_argument, NULL, 'c'},
                {"objects", required_argument, NULL, 'j'},
                {"start", required_argument, NULL, 'S'},
                {"runs", required_argument, NULL, 'r'},
                {"watchers", required_argument, NULL, 'w'},
                {"events", required_argument, NULL, 'e'},
                {"rv0", no_argument, NULL, '0'},
                {"rate", required_argument, NULL, 'R'},
                {0},
        };
        if (argc < 2)
                usage();
        O.mode = argv[1];
        optind = 2;
        int c;
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        O.op = optarg;
                        break;
                case 'u':
                        O.url = optarg;
                        break;
                case 't':
                        O.tls = optarg;
                        break;
                case 's':
                        O.ns = optarg;
                        break;
                case 'd':
                        O.db = optarg;
                        break;
                case 'n':
                        O.n = atol(optarg);
                        break;
                case 'c':
                        O.conns = atol(optarg);
                        break;
                case 'j':
                        O.objects = atol(optarg);
                        break;
                case 'S':
                        O.start = atol(optarg);
                        break;
                case 'r':
                        O.runs = atol(optarg);
                        break;
                case 'w':
                        O.watchers = atol(optarg);
                        break;
                case 'e':
                        O.events = atol(optarg);
                        break;
                case '0':
                        O.rv0 = true;
                        break;
                case 'R':
                        O.rate = atof(optarg);
                        break;
                default:
                        usage();
                }
        }
        if (O.n <= 0 || O.conns <= 0 || O.objects <= 0 || O.runs <= 0 || O.watchers <= 0 ||
            O.events <= 0)
                usage();
        curl_global_init(CURL_GLOBAL_ALL);
        int rc;
        if (!strcmp(O.mode, "store")) {
                if (!O.db)
                        usage();
                rc = run_store();
        } else {
                if (!O.url)
                        usage();
                if (!strcmp(O.mode, "load")) {
                        if (!O.op || (strcmp(O.op, "create") && strcmp(O.op, "update") &&
                                      strcmp(O.op, "get") && strcmp(O.op, "list") &&
                                      strcmp(O.op, "etcd-put")))
                                usage();
                        rc = run_load();
                } else if (!strcmp(O.mode, "list")) {
                        rc = run_list();
                } else if (!strcmp(O.mode, "watch")) {
                        rc = run_watch();
                } else {
                        usage();
                }
        }
        curl_global_cleanup();
        return rc;
}
