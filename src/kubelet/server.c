/* server.c — the kubelet's HTTPS endpoint: /healthz and /containerLogs (see server.h). */
#include "kubelet/server.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "http/server.h"
#include "kubelet/exec.h"
#include "kubelet/logs.h"
#include "kubelet/portforward.h"
#include "kubelet/stats.h"

#define COMP "kubelet"
#define LOGS_MAX_READ (64u << 20) /* a non-follow answer reads at most the last 64 MiB */
#define FOLLOW_CHUNK (256u << 10) /* bytes read per follow tick */
#define FOLLOW_MAX_PENDING (4u << 20)
#define FOLLOW_TICK_MS 100

struct kubelet_server {
        char *bind_address, *cert_file, *key_file, *client_ca_file;
        int port;
        struct podsync *ps;
        struct eviction *ev;
        char *node_name;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        /* protected by lock: */
        bool stopping;
        struct http_server *http;
};

struct follow {
        struct kubelet_server *s;
        struct http_stream *st;
        bool closed;        /* the client went away (on_close ran) */
        bool timer_pending; /* a follow_tick is scheduled: it frees f once closed */
        int fd;
        char *path, *ns, *pod, *ctr;
        bool previous;
        struct kubelet_logs_renderer r;
        char *pending;
        size_t pending_len;
        int idle_ticks;
};

static void respond_text(struct http_req *req, int status, const char *msg)
{
        http_req_respond(req, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

static bool query_bool(struct http_req *req, const char *name)
{
        const char *v = http_req_query(req, name);
        return v && (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, ""));
}

static bool query_int(struct http_req *req, const char *name, int64_t *ret)
{
        const char *v = http_req_query(req, name);
        if (!v || !*v)
                return false;
        char *end;
        long long n = strtoll(v, &end, 10);
        if (*end || n < 0)
                return false;
        *ret = n;
        return true;
}

/* Read up to LOGS_MAX_READ bytes from the end of fd (starting at a line boundary). */
static int read_tail(int fd, char **ret, size_t *ret_len, off_t *ret_end)
{
        struct stat sb;
        if (fstat(fd, &sb) < 0)
                return -errno;
        off_t start = 0;
        if (sb.st_size > (off_t)LOGS_MAX_READ)
                start = sb.st_size - (off_t)LOGS_MAX_READ;
        size_t want = (size_t)(sb.st_size - start);
        char *buf = xmalloc(want + 1);
        size_t got = 0;
        while (got < want) {
                ssize_t n = pread(fd, buf + got, want - got, start + (off_t)got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t)n;
        }
        size_t skip = 0;
        if (start > 0) {
                char *nl = memchr(buf, '\n', got);
                skip = nl ? (size_t)(nl - buf) + 1 : got;
                memmove(buf, buf + skip, got - skip);
                got -= skip;
        }
        buf[got] = '\0';
        *ret = buf;
        *ret_len = got;
        *ret_end = start + (off_t)(got + skip);
        return 0;
}

static void follow_free(struct follow *f)
{
        if (f->fd >= 0)
                close(f->fd);
        free(f->path);
        free(f->ns);
        free(f->pod);
        free(f->ctr);
        free(f->pending);
        free(f);
}

static void follow_emit(const char *data, size_t len, void *ud)
{
        struct follow *f = ud;
        if (!f->closed)
                http_stream_write(f->st, data, len);
}

static void follow_on_close(void *ud)
{
        struct follow *f = ud;
        f->closed = true;
        if (!f->timer_pending)
                follow_free(f);
}

/* End the response; on_close (which frees f) runs once the data is flushed. */
static void follow_end(struct follow *f)
{
        http_stream_end(f->st);
}

static void follow_tick(void *ud)
{
        struct follow *f = ud;
        f->timer_pending = false;
        if (f->closed) {
                follow_free(f);
                return;
        }
        size_t got = 0;
        if (http_stream_pending(f->st) < FOLLOW_MAX_PENDING) {
                f->pending = xrealloc(f->pending, f->pending_len + FOLLOW_CHUNK);
                ssize_t n;
                do
                        n = read(f->fd, f->pending + f->pending_len, FOLLOW_CHUNK);
                while (n < 0 && errno == EINTR);
                if (n > 0) {
                        got = (size_t)n;
                        f->pending_len += got;
                        size_t used = kubelet_logs_feed(&f->r, f->pending, f->pending_len);
                        memmove(f->pending, f->pending + used, f->pending_len - used);
                        f->pending_len -= used;
                }
        }
        if (f->r.done) {
                follow_end(f);
                return;
        }
        if (got == 0) {
                /* drained: stop when the run we follow is over (or was replaced) */
                char *path = NULL;
                bool running = false;
                int r = podsync_log_lookup(f->s->ps, f->ns, f->pod, f->ctr, f->previous, &path,
                                           &running, NULL);
                bool same = r == 0 && !strcmp(path, f->path);
                free(path);
                if (!same || !running) {
                        /* one more empty tick after the stop, for the last bytes conmon wrote */
                        if (f->idle_ticks++ >= 1) {
                                follow_end(f);
                                return;
                        }
                } else {
                        f->idle_ticks = 0;
                }
        }
        f->timer_pending = true;
        http_server_add_timer(f->s->http, got == FOLLOW_CHUNK ? 1 : FOLLOW_TICK_MS, follow_tick, f);
}

static void serve_logs(struct kubelet_server *s, struct http_req *req, const char *rest)
{
        /* rest: NS/POD/CONTAINER */
        char ns[254], pod[254], ctr[254];
        const char *a = strchr(rest, '/'), *b = a ? strchr(a + 1, '/') : NULL;
        if (!a || !b || strchr(b + 1, '/') || a == rest || b == a + 1 || !b[1] ||
            (size_t)(a - rest) >= sizeof(ns) || (size_t)(b - a - 1) >= sizeof(pod) ||
            strlen(b + 1) >= sizeof(ctr)) {
                respond_text(req, 404, "404 page not found");
                return;
        }
        snprintf(ns, sizeof(ns), "%.*s", (int)(a - rest), rest);
        snprintf(pod, sizeof(pod), "%.*s", (int)(b - a - 1), a + 1);
        snprintf(ctr, sizeof(ctr), "%s", b + 1);

        struct kubelet_logs_opts o = {.tail_lines = -1};
        int64_t v;
        if (query_int(req, "tailLines", &v))
                o.tail_lines = v;
        if (query_int(req, "limitBytes", &v))
                o.limit_bytes = v;
        o.timestamps = query_bool(req, "timestamps");
        if (query_int(req, "sinceSeconds", &v)) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                o.since_ns = ((int64_t)ts.tv_sec - v) * 1000000000LL + ts.tv_nsec;
        } else if (http_req_query(req, "sinceTime")) {
                struct timespec ts;
                if (timefmt_parse_rfc3339(http_req_query(req, "sinceTime"), &ts) == 0)
                        o.since_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
        }
        bool previous = query_bool(req, "previous");
        bool follow = query_bool(req, "follow") && !previous;

        struct error err = {0};
        _cleanup_free_ char *path = NULL;
        bool running = false;
        int r = podsync_log_lookup(s->ps, ns, pod, ctr, previous, &path, &running, &err);
        if (r < 0) {
                respond_text(req, r == -ENOENT ? 404 : 400, error_msg(&err));
                return;
        }
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno != ENOENT) {
                _cleanup_free_ char *m = xasprintf("open log: %s", strerror(errno));
                respond_text(req, 500, m);
                return;
        }
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        off_t end = 0;
        if (fd >= 0 && read_tail(fd, &buf, &len, &end) < 0) {
                respond_text(req, 500, "read log failed");
                return;
        }
        if (!follow) {
                _cleanup_free_ char *outb = NULL;
                size_t out_len = 0;
                kubelet_logs_render_all(buf ? buf : "", len, &o, &outb, &out_len);
                http_req_respond(req, 200, "text/plain", outb, out_len);
                return;
        }
        if (fd < 0) {
                /* no log file (yet): nothing to follow */
                http_req_respond(req, 200, "text/plain", "", 0);
                return;
        }
        struct follow *f = xcalloc(1, sizeof(*f));
        f->s = s;
        f->fd = TAKE_FD(fd);
        f->path = xstrdup(path);
        f->ns = xstrdup(ns);
        f->pod = xstrdup(pod);
        f->ctr = xstrdup(ctr);
        f->previous = previous;
        int64_t skip = 0;
        if (o.tail_lines >= 0) {
                int64_t n = kubelet_logs_count(buf ? buf : "", len, o.since_ns);
                skip = n > o.tail_lines ? n - o.tail_lines : 0;
        }
        kubelet_logs_init(&f->r, &o, skip, follow_emit, f);
        f->st = http_req_stream_start(req, 200, "text/plain", follow_on_close, f);
        size_t used = kubelet_logs_feed(&f->r, buf ? buf : "", len);
        /* continue reading right after the complete records we consumed */
        lseek(f->fd, end - (off_t)(len - used), SEEK_SET);
        if (f->r.done) {
                follow_end(f);
                return;
        }
        f->timer_pending = true;
        http_server_add_timer(s->http, FOLLOW_TICK_MS, follow_tick, f);
}

/* /stats/summary, /metrics/resource, /metrics/cadvisor from the eviction manager's latest
 * snapshot (collected every interval, as cAdvisor's housekeeping). */
static void serve_stats(struct kubelet_server *s, struct http_req *req, const char *path)
{
        struct stats_snapshot snap;
        if (eviction_snapshot_get(s->ev, &snap) < 0) {
                respond_text(req, 503, "stats not collected yet");
                return;
        }
        if (!strcmp(path, "/stats/summary") || !strcmp(path, "/stats/summary/")) {
                struct sysinfo si;
                struct timespec boot = {0};
                if (sysinfo(&si) == 0)
                        boot.tv_sec = time(NULL) - si.uptime;
                json_t *sum = stats_summary_json(&snap, s->node_name, &boot);
                _cleanup_free_ char *body = json_dumps(sum, JSON_INDENT(2));
                json_decref(sum);
                http_req_respond(req, 200, "application/json", body, strlen(body));
        } else {
                _cleanup_free_ char *body = !strcmp(path, "/metrics/cadvisor")
                                                    ? stats_metrics_cadvisor(&snap)
                                                    : stats_metrics_resource(&snap);
                http_req_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", body,
                                 strlen(body));
        }
        stats_snapshot_clear(&snap);
}

static void handle(struct http_req *req, void *ud)
{
        struct kubelet_server *s = ud;
        const char *method = http_req_method(req);
        const char *path = http_req_path(req);
        if (!strcmp(path, "/healthz")) {
                respond_text(req, 200, "ok");
                return;
        }
        if (!http_req_user(req) && s->cert_file) {
                respond_text(req, 401, "Unauthorized");
                return;
        }
        if (!strncmp(path, "/exec/", 6) || !strncmp(path, "/attach/", 8)) {
                kubelet_exec_serve(req, s->ps, path + (path[1] == 'e' ? 6 : 8), path[1] == 'a');
                return;
        }
        if (!strncmp(path, "/portForward/", 13)) {
                kubelet_portforward_serve(req, s->ps, path + 13);
                return;
        }
        if (strcmp(method, "GET")) {
                respond_text(req, 405, "405 method not allowed");
                return;
        }
        if (!strncmp(path, "/containerLogs/", 15)) {
                serve_logs(s, req, path + 15);
                return;
        }
        if (!strncmp(path, "/stats/summary", 14) || !strcmp(path, "/metrics/resource") ||
            !strcmp(path, "/metrics/cadvisor")) {
                serve_stats(s, req, path);
                return;
        }
        respond_text(req, 404, "404 page not found");
}

static bool exists(const char *p)
{
        return p && access(p, R_OK) == 0;
}

static void *server_main(void *ud)
{
        struct kubelet_server *s = ud;
        struct error err = {0};
        int attempts = 0;
        for (;;) {
                pthread_mutex_lock(&s->lock);
                bool stop = s->stopping;
                pthread_mutex_unlock(&s->lock);
                if (stop)
                        return NULL;
                struct http_server *h = NULL;
                if (!s->cert_file || (exists(s->cert_file) && exists(s->key_file))) {
                        struct http_server_config hc = {
                                .bind_address = s->bind_address,
                                .port = s->port,
                                .cert_file = s->cert_file,
                                .key_file = s->key_file,
                                .client_ca_file =
                                        exists(s->client_ca_file) ? s->client_ca_file : NULL,
                        };
                        if (s->cert_file && !hc.client_ca_file) {
                                error_set(&err, -ENOENT, "client CA %s missing",
                                          s->client_ca_file ? s->client_ca_file : "(none)");
                        } else if (http_server_new(&hc, handle, s, &h, &err) == 0) {
                                pthread_mutex_lock(&s->lock);
                                s->http = h;
                                stop = s->stopping;
                                pthread_mutex_unlock(&s->lock);
                                if (!stop) {
                                        log_info(COMP, "serving on port %d", s->port);
                                        http_server_run(h);
                                }
                                pthread_mutex_lock(&s->lock);
                                s->http = NULL;
                                pthread_mutex_unlock(&s->lock);
                                http_server_free(h);
                                return NULL;
                        }
                } else {
                        error_set(&err, -ENOENT, "certificate %s not there yet", s->cert_file);
                }
                if (attempts++ % 15 == 0)
                        log_warn(COMP, "logs server on port %d: %s (retrying)", s->port,
                                 error_msg(&err));
                pthread_mutex_lock(&s->lock);
                if (!s->stopping) {
                        struct timespec ts;
                        clock_gettime(CLOCK_REALTIME, &ts);
                        ts.tv_sec += 2;
                        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
                }
                pthread_mutex_unlock(&s->lock);
        }
}

static char *dup_or_null(const char *p)
{
        return p ? xstrdup(p) : NULL;
}

int kubelet_server_start(const struct kubelet_server_config *cfg, struct kubelet_server **ret,
                         struct error *err)
{
        if (!cfg || !cfg->ps || cfg->port <= 0)
                return error_set(err, -EINVAL, "kubelet server: bad config");
        struct kubelet_server *s = xcalloc(1, sizeof(*s));
        s->bind_address = dup_or_null(cfg->bind_address);
        s->cert_file = dup_or_null(cfg->cert_file);
        s->key_file = dup_or_null(cfg->key_file);
        s->client_ca_file = dup_or_null(cfg->client_ca_file);
        s->port = cfg->port;
        s->ps = cfg->ps;
        s->ev = cfg->ev;
        s->node_name = xstrdup(cfg->node_name ? cfg->node_name : "");
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        int r = -pthread_create(&s->thread, NULL, server_main, s);
        if (r < 0) {
                free(s->bind_address);
                free(s->cert_file);
                free(s->key_file);
                free(s->client_ca_file);
                free(s->node_name);
                free(s);
                return error_set(err, r, "kubelet server: thread");
        }
        *ret = s;
        return 0;
}

void kubelet_server_stop(struct kubelet_server *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        if (s->http)
                http_server_stop(s->http);
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s->bind_address);
        free(s->cert_file);
        free(s->key_file);
        free(s->client_ca_file);
        free(s->node_name);
        free(s);
}
