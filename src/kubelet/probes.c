/* probes.c — probes and hook handlers (see probes.h). */
#include "kubelet/probes.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/kjson.h"
#include "common/spawn.h"
#include "http/client.h"

#define PROBE_OUTPUT_MAX 10240 /* the kubelet reads at most 10 KiB of a probe's output */
#define PROBE_EVENTS_MAX 64    /* pending events per pod beyond which new ones are dropped */

static int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- pure ---- */

static int int_or(json_t *o, const char *k, int dflt, int min)
{
        json_t *v = json_object_get(o, k);
        if (!json_is_integer(v))
                return dflt;
        int64_t x = json_integer_value(v);
        return x < min ? min : x > 86400 ? 86400 : (int)x;
}

void probes_timing_parse(json_t *probe, struct probes_timing *ret)
{
        ret->initial_delay_s = int_or(probe, "initialDelaySeconds", 0, 0);
        ret->period_s = int_or(probe, "periodSeconds", 10, 1);
        ret->timeout_s = int_or(probe, "timeoutSeconds", 1, 1);
        ret->success_threshold = int_or(probe, "successThreshold", 1, 1);
        ret->failure_threshold = int_or(probe, "failureThreshold", 3, 1);
}

bool probes_result_apply(struct probes_result *r, const struct probes_timing *t, bool ok)
{
        if (r->run > 0 && r->last_ok == ok)
                r->run++;
        else {
                r->last_ok = ok;
                r->run = 1;
        }
        if ((!ok && r->run < t->failure_threshold) || (ok && r->run < t->success_threshold))
                return false;
        if (r->state_ok == ok)
                return false;
        r->state_ok = ok;
        return true;
}

/* ---- handlers ---- */

static int port_of(json_t *h, json_t *spec_ctr)
{
        json_t *p = json_object_get(h, "port");
        if (json_is_integer(p))
                return (int)json_integer_value(p);
        const char *name = json_string_value(p);
        if (!name)
                return -1;
        char *end;
        long v = strtol(name, &end, 10);
        if (*name && !*end)
                return (int)v;
        json_t *cp;
        size_t i;
        json_array_foreach(json_object_get(spec_ctr, "ports"), i, cp)
        {
                if (!strcmp(kjson_str(cp, "name") ?: "", name))
                        return (int)kjson_int(cp, "containerPort", -1);
        }
        return -1;
}

static char *cap_output(char *s)
{
        if (s && strlen(s) > PROBE_OUTPUT_MAX)
                s[PROBE_OUTPUT_MAX] = '\0';
        return s ? s : xstrdup("");
}

static int run_exec(struct runtime *rt, const char *id, json_t *ex, int timeout_s, char **ret)
{
        json_t *cmd = json_object_get(ex, "command");
        size_t n = json_array_size(cmd);
        if (!n) {
                *ret = xstrdup("no command");
                return 1;
        }
        const char **argv = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                argv[i] = json_string_value(json_array_get(cmd, i)) ?: "";
        char **full = runtime_container_exec_argv(rt, id, false, argv);
        free(argv);
        if (!full) {
                *ret = xstrdup("exec not available");
                return 1;
        }
        struct spawn_opts o = {.argv = (const char *const *)full,
                               .capture_stdout = true,
                               .capture_stderr = true,
                               .pass_fd = -1,
                               .timeout_ms = timeout_s * 1000};
        struct spawn_result res = {0};
        struct error err = {0};
        int r = spawn_run(&o, &res, &err);
        for (size_t i = 0; full[i]; i++)
                free(full[i]);
        free(full);
        if (r == -ETIMEDOUT) {
                *ret = xasprintf("command timed out");
                return 1;
        }
        if (r < 0) {
                *ret = xstrdup(error_msg(&err));
                return 1;
        }
        *ret = cap_output(xasprintf("%s%s", res.out ? res.out : "", res.errout ? res.errout : ""));
        int status = res.status;
        spawn_result_clear(&res);
        return status == 0 ? 0 : 1;
}

static int run_tcp(const char *host, int port, int timeout_s, char **ret)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
                *ret = xasprintf("dial tcp %s:%d: bad address", host, port);
                return 1;
        }
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        int e = r < 0 ? errno : 0;
        if (e == EINPROGRESS) {
                struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                int pr = poll(&pfd, 1, timeout_s * 1000);
                if (pr == 0) {
                        close(fd);
                        *ret = xasprintf("dial tcp %s:%d: i/o timeout", host, port);
                        return 1;
                }
                socklen_t l = sizeof(e);
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
        }
        close(fd);
        if (e) {
                *ret = xasprintf("dial tcp %s:%d: connect: %s", host, port,
                                 e == ECONNREFUSED ? "connection refused" : strerror(e));
                return 1;
        }
        *ret = xstrdup("");
        return 0;
}

static int run_http(json_t *h, json_t *spec_ctr, const char *pod_ip, int timeout_s, char **ret)
{
        const char *host = kjson_str(h, "host");
        if (!host || !*host)
                host = pod_ip ? pod_ip : "127.0.0.1";
        int port = port_of(h, spec_ctr);
        const char *path = kjson_str(h, "path") ?: "/";
        const char *scheme = kjson_str(h, "scheme") ?: "HTTP";
        bool https = !strcasecmp(scheme, "HTTPS");
        if (port <= 0 || port > 65535) {
                *ret = xasprintf("invalid port");
                return 1;
        }
        _cleanup_free_ char *url = xasprintf("%s://%s:%d%s%s", https ? "https" : "http", host, port,
                                             path[0] == '/' ? "" : "/", path);
        /* headers: the probe's own replace the kubelet's defaults of the same name */
        json_t *hs = json_object_get(h, "httpHeaders");
        size_t nh = json_array_size(hs);
        char **hv = xcalloc(nh + 3, sizeof(char *));
        size_t k = 0;
        bool has_ua = false, has_accept = false;
        for (size_t i = 0; i < nh; i++) {
                json_t *x = json_array_get(hs, i);
                const char *n = kjson_str(x, "name"), *v = kjson_str(x, "value");
                if (!n || !*n || strpbrk(n, "\r\n:") || (v && strpbrk(v, "\r\n")))
                        continue;
                has_ua |= !strcasecmp(n, "User-Agent");
                has_accept |= !strcasecmp(n, "Accept");
                hv[k++] = xasprintf("%s: %s", n, v ? v : "");
        }
        if (!has_ua)
                hv[k++] = xstrdup("User-Agent: kube-probe/1.31");
        if (!has_accept)
                hv[k++] = xstrdup("Accept: */*");
        struct http_client_options o = {.insecure_skip_verify = true,
                                        .connect_timeout_ms = timeout_s * 1000,
                                        .timeout_ms = timeout_s * 1000,
                                        .extra_headers = (const char *const *)hv};
        struct http_client *c = NULL;
        struct error err = {0};
        int r = http_client_new(&o, &c, &err);
        for (size_t i = 0; i < k; i++)
                free(hv[i]);
        free(hv);
        if (r < 0) {
                *ret = xstrdup(error_msg(&err));
                return 1;
        }
        long status = 0;
        char *body = NULL;
        size_t len = 0;
        r = http_client_do(c, "GET", url, NULL, NULL, 0, &status, &body, &len, &err);
        http_client_free(c);
        if (r < 0) {
                if (r == -ECONNREFUSED)
                        *ret = xasprintf("Get \"%s\": dial tcp %s:%d: connect: connection "
                                         "refused",
                                         url, host, port);
                else if (r == -ETIMEDOUT)
                        *ret = xasprintf("Get \"%s\": context deadline exceeded (Client.Timeout "
                                         "exceeded while awaiting headers)",
                                         url);
                else
                        *ret = xasprintf("Get \"%s\": %s", url, error_msg(&err));
                return 1;
        }
        free(body);
        if (status >= 200 && status < 400) {
                *ret = xstrdup("");
                return 0;
        }
        *ret = xasprintf("HTTP probe failed with statuscode: %ld", status);
        return 1;
}

/* ---- grpc (grpc.health.v1.Health/Check over h2c) ---- */

static const char *const grpc_codes[] = {
        "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
        "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
        "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
        "DataLoss", "Unauthenticated"};

static const char *const grpc_serving[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};

int probes_grpc_response_parse(const uint8_t *buf, size_t len, int *ret_status)
{
        /* one length-prefixed message: flag (0: uncompressed), 4-byte big-endian length */
        if (len < 5 || buf[0] != 0)
                return -EPROTO;
        size_t n = ((size_t)buf[1] << 24) | ((size_t)buf[2] << 16) | ((size_t)buf[3] << 8) | buf[4];
        if (n > len - 5)
                return -EPROTO;
        const uint8_t *p = buf + 5, *end = p + n;
        int status = 0; /* proto3 default: UNKNOWN */
        while (p < end) {
                uint8_t key = *p++;
                if (key == 0x08) { /* field 1, varint: status */
                        uint64_t v = 0;
                        int shift = 0;
                        while (p < end && shift < 64) {
                                v |= (uint64_t)(*p & 0x7f) << shift;
                                shift += 7;
                                if (!(*p++ & 0x80))
                                        break;
                        }
                        status = v > 3 ? 0 : (int)v;
                } else if ((key & 7) == 2) { /* unknown length-delimited field */
                        if (p >= end || *p & 0x80 || (size_t)(end - p - 1) < *p)
                                return -EPROTO;
                        p += 1 + *p;
                } else {
                        return -EPROTO;
                }
        }
        *ret_status = status;
        return 0;
}

struct grpc_call {
        uint8_t body[4096];
        size_t len;
        int grpc_status; /* from the trailers; -1 absent */
        char grpc_message[256];
};

static size_t grpc_on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
        struct grpc_call *g = ud;
        size_t n = size * nmemb, room = sizeof(g->body) - g->len;
        memcpy(g->body + g->len, ptr, MIN(n, room));
        g->len += MIN(n, room);
        return n;
}

static size_t grpc_on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
        struct grpc_call *g = ud;
        size_t n = size * nmemb;
        if (n > 12 && !strncasecmp(ptr, "grpc-status:", 12))
                g->grpc_status = atoi(ptr + 12);
        else if (n > 13 && !strncasecmp(ptr, "grpc-message:", 13)) {
                const char *v = ptr + 13;
                while (v < ptr + n && (*v == ' ' || *v == '\t'))
                        v++;
                size_t l = MIN((size_t)(ptr + n - v), sizeof(g->grpc_message) - 1);
                memcpy(g->grpc_message, v, l);
                g->grpc_message[l] = 0;
                g->grpc_message[strcspn(g->grpc_message, "\r\n")] = 0;
        }
        return n;
}

/* The kubelet's grpc prober (pkg/probe/grpc): SERVING is success; its messages otherwise. */
static int run_grpc(json_t *g, const char *pod_ip, int timeout_s, char **ret)
{
        int port = (int)kjson_int(g, "port", 0);
        const char *service = kjson_str(g, "service") ?: "";
        const char *host = pod_ip ? pod_ip : "127.0.0.1";
        if (port <= 0 || port > 65535) {
                *ret = xstrdup("invalid port");
                return 1;
        }
        size_t sl = strlen(service);
        if (sl > 120) {
                *ret = xstrdup("service name too long");
                return 1;
        }
        /* HealthCheckRequest{service} as one gRPC message */
        uint8_t req[5 + 2 + 128];
        size_t ml = sl ? 2 + sl : 0;
        req[0] = 0, req[1] = 0, req[2] = 0, req[3] = 0, req[4] = (uint8_t)ml;
        if (sl) {
                req[5] = 0x0a, req[6] = (uint8_t)sl;
                memcpy(req + 7, service, sl);
        }
        _cleanup_free_ char *url =
                xasprintf("http://%s:%d/grpc.health.v1.Health/Check", host, port);
        struct grpc_call call = {.grpc_status = -1};
        CURL *h = curl_easy_init();
        if (!h) {
                *ret = xstrdup("grpc: no curl handle");
                return 1;
        }
        struct curl_slist *hs = NULL;
        hs = curl_slist_append(hs, "Content-Type: application/grpc");
        hs = curl_slist_append(hs, "TE: trailers");
        hs = curl_slist_append(hs, "User-Agent: kube-probe/1.31");
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)req);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(5 + ml));
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, grpc_on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &call);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, grpc_on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &call);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_s * 1000);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
        CURLcode rc = curl_easy_perform(h);
        long http = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
        curl_slist_free_all(hs);
        curl_easy_cleanup(h);
        if (rc == CURLE_COULDNT_CONNECT || (rc == CURLE_OPERATION_TIMEDOUT && !http)) {
                *ret = xasprintf("timeout: failed to connect service \"%s:%d\" within %ds: "
                                 "context deadline exceeded",
                                 host, port, timeout_s);
                return 1;
        }
        if (rc == CURLE_OPERATION_TIMEDOUT) {
                *ret = xasprintf("timeout: health rpc did not complete within %ds", timeout_s);
                return 1;
        }
        if (rc != CURLE_OK || http != 200) {
                *ret = xasprintf("error: health rpc probe failed: %s",
                                 rc != CURLE_OK ? curl_easy_strerror(rc) : "bad HTTP status");
                return 1;
        }
        if (call.grpc_status == 12) { /* Unimplemented */
                *ret = xasprintf("error: this server does not implement the grpc health protocol "
                                 "(grpc.health.v1.Health): rpc error: code = Unimplemented desc = "
                                 "%s",
                                 call.grpc_message);
                return 1;
        }
        if (call.grpc_status != 0) {
                char code[32];
                if (call.grpc_status > 0 && (size_t)call.grpc_status < ARRAY_SIZE(grpc_codes))
                        snprintf(code, sizeof(code), "%s", grpc_codes[call.grpc_status]);
                else
                        snprintf(code, sizeof(code), "Code(%d)", call.grpc_status);
                *ret = xasprintf("error: health rpc probe failed: rpc error: code = %s desc = %s",
                                 code, call.grpc_message);
                return 1;
        }
        int st = 0;
        if (probes_grpc_response_parse(call.body, call.len, &st) < 0) {
                *ret = xstrdup("error: health rpc probe failed: malformed response");
                return 1;
        }
        if (st != 1) {
                *ret = xasprintf("service unhealthy (responded with \"%s\")", grpc_serving[st]);
                return 1;
        }
        *ret = xstrdup("");
        return 0;
}

int probes_handler_run(struct runtime *rt, const char *ctr_id, json_t *handler, json_t *spec_ctr,
                       const char *pod_ip, int timeout_s, char **ret_output)
{
        json_t *x;
        if ((x = json_object_get(handler, "exec")))
                return run_exec(rt, ctr_id, x, timeout_s, ret_output);
        if ((x = json_object_get(handler, "httpGet")))
                return run_http(x, spec_ctr, pod_ip, timeout_s, ret_output);
        if ((x = json_object_get(handler, "tcpSocket"))) {
                const char *host = kjson_str(x, "host");
                int port = port_of(x, spec_ctr);
                if (port <= 0 || port > 65535) {
                        *ret_output = xstrdup("invalid port");
                        return 1;
                }
                return run_tcp(host && *host ? host : (pod_ip ? pod_ip : "127.0.0.1"), port,
                               timeout_s, ret_output);
        }
        if ((x = json_object_get(handler, "grpc")))
                return run_grpc(x, pod_ip, timeout_s, ret_output);
        if ((x = json_object_get(handler, "sleep"))) {
                sleep((unsigned)MIN(kjson_int(x, "seconds", 0), timeout_s));
                *ret_output = xstrdup("");
                return 0;
        }
        *ret_output = xstrdup("unsupported handler");
        return 1;
}

/* ---- the manager ---- */

#define PROBE_WORKERS 4 /* probe runs in parallel (exec probes block on the runtime) */

struct pentry {
        struct pentry *next;
        char *uid, *name, *id, *pod_ip;
        json_t *spec;
        int64_t started_ms; /* monotonic ms the run started (approximate) */
        json_t *probe[3];
        struct probes_timing t[3];
        struct probes_result res[3];
        int64_t due_ms[3];
        bool running[3]; /* queued or running on a worker: not freed, not queued again */
        bool startup_done;
        bool kill;
        enum probes_kind kill_kind;
        char message[512];
        bool removed;
};

struct pjob {
        struct pjob *next;
        struct pentry *e;
        int k;
};

/* One timer thread decides what is due and queues it; PROBE_WORKERS threads run the probes. */
struct probes {
        struct runtime *rt;
        void (*changed)(void *ud, const char *uid);
        void *ud;
        pthread_t thread;
        pthread_t workers[PROBE_WORKERS];
        pthread_mutex_t lock;
        pthread_cond_t cond;      /* wakes the timer */
        pthread_cond_t work_cond; /* wakes the workers */
        /* protected by lock: */
        struct pentry *list;
        struct pjob *queue, *queue_tail;
        json_t *events; /* {uid: [{container, message}]} */
        bool stopping;
};

static const char *const kind_names[] = {"Liveness", "Readiness", "Startup"};
static const char *const kind_keys[] = {"livenessProbe", "readinessProbe", "startupProbe"};

static void pentry_free(struct pentry *e)
{
        free(e->uid);
        free(e->name);
        free(e->id);
        free(e->pod_ip);
        json_decref(e->spec);
        free(e);
}

static bool kind_active(struct pentry *e, int k)
{
        if (!e->probe[k])
                return false;
        if (k == PROBES_STARTUP)
                return !e->startup_done;
        return e->startup_done;
}

/* Apply one outcome of probe k of e (lock held); returns whether the pod must be told. */
static bool apply_locked(struct probes *pm, struct pentry *e, int k, bool ok, const char *out)
{
        bool notify = false;
        if (!ok) {
                /* an Unhealthy event per failed run, as the kubelet records */
                json_t *evs = json_object_get(pm->events, e->uid);
                if (!evs) {
                        evs = json_array();
                        json_object_set_new(pm->events, e->uid, evs);
                }
                if (json_array_size(evs) < PROBE_EVENTS_MAX) {
                        _cleanup_free_ char *m =
                                xasprintf("%s probe failed: %s", kind_names[k], out);
                        json_array_append_new(
                                evs, json_pack("{s:s, s:s}", "container", e->name, "message", m));
                }
                notify = true;
        }
        struct probes_result *res = &e->res[k];
        if (probes_result_apply(res, &e->t[k], ok))
                notify = true;
        /* startup: done after successThreshold successes; liveness and startup: failureThreshold
         * failures in a row restart the container */
        if (k == PROBES_STARTUP && ok && res->run >= e->t[k].success_threshold) {
                e->startup_done = true;
                notify = true;
                for (int j = 0; j < 2; j++)
                        e->due_ms[j] = MAX(mono_ms(),
                                           e->started_ms + (int64_t)e->t[j].initial_delay_s * 1000);
        }
        if ((k == PROBES_LIVENESS || k == PROBES_STARTUP) && !ok &&
            res->run >= e->t[k].failure_threshold) {
                e->kill = true;
                e->kill_kind = (enum probes_kind)k;
                snprintf(e->message, sizeof(e->message), "%s", out);
                notify = true;
        }
        return notify;
}

static void *worker_main(void *ud)
{
        struct probes *pm = ud;
        pthread_mutex_lock(&pm->lock);
        while (!pm->stopping) {
                struct pjob *j = pm->queue;
                if (!j) {
                        pthread_cond_wait(&pm->work_cond, &pm->lock);
                        continue;
                }
                pm->queue = j->next;
                if (!pm->queue)
                        pm->queue_tail = NULL;
                struct pentry *e = j->e;
                int k = j->k;
                free(j);
                _cleanup_free_ char *id = xstrdup(e->id);
                _cleanup_free_ char *ip = e->pod_ip ? xstrdup(e->pod_ip) : NULL;
                json_t *probe = json_incref(e->probe[k]);
                json_t *spec = json_incref(e->spec);
                int timeout = e->t[k].timeout_s;
                pthread_mutex_unlock(&pm->lock);
                char *out = NULL;
                int r = probes_handler_run(pm->rt, id, probe, spec, ip, timeout, &out);
                json_decref(probe);
                json_decref(spec);
                pthread_mutex_lock(&pm->lock);
                bool notify = !e->removed && apply_locked(pm, e, k, r == 0, out ? out : "");
                e->running[k] = false;
                free(out);
                _cleanup_free_ char *uid = notify ? xstrdup(e->uid) : NULL;
                pthread_cond_broadcast(&pm->cond); /* the timer may free a removed entry */
                if (uid) {
                        pthread_mutex_unlock(&pm->lock);
                        pm->changed(pm->ud, uid);
                        pthread_mutex_lock(&pm->lock);
                }
        }
        pthread_mutex_unlock(&pm->lock);
        return NULL;
}

static void *probe_main(void *ud)
{
        struct probes *pm = ud;
        pthread_mutex_lock(&pm->lock);
        while (!pm->stopping) {
                int64_t now = mono_ms(), next = now + 1000;
                /* free removed entries no worker holds */
                for (struct pentry **pp = &pm->list; *pp;) {
                        struct pentry *d = *pp;
                        if (d->removed && !d->running[0] && !d->running[1] && !d->running[2]) {
                                *pp = d->next;
                                pentry_free(d);
                        } else {
                                pp = &d->next;
                        }
                }
                for (struct pentry *e = pm->list; e; e = e->next) {
                        if (e->kill || e->removed)
                                continue;
                        for (int k = 0; k < 3; k++) {
                                if (!kind_active(e, k) || e->running[k])
                                        continue;
                                if (e->due_ms[k] > now) {
                                        next = MIN(next, e->due_ms[k]);
                                        continue;
                                }
                                e->due_ms[k] = now + (int64_t)e->t[k].period_s * 1000;
                                e->running[k] = true;
                                struct pjob *j = xcalloc(1, sizeof(*j));
                                j->e = e;
                                j->k = k;
                                if (pm->queue_tail)
                                        pm->queue_tail->next = j;
                                else
                                        pm->queue = j;
                                pm->queue_tail = j;
                                pthread_cond_signal(&pm->work_cond);
                                next = MIN(next, e->due_ms[k]);
                        }
                }
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                int64_t wait = MAX(next - now, 10);
                ts.tv_sec += wait / 1000;
                ts.tv_nsec += (wait % 1000) * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&pm->cond, &pm->lock, &ts);
        }
        pthread_mutex_unlock(&pm->lock);
        return NULL;
}

int probes_new(struct runtime *rt, void (*changed)(void *ud, const char *pod_uid), void *ud,
               struct probes **ret)
{
        struct probes *pm = xcalloc(1, sizeof(*pm));
        pm->rt = rt;
        pm->changed = changed;
        pm->ud = ud;
        pm->events = json_object();
        pthread_mutex_init(&pm->lock, NULL);
        pthread_cond_init(&pm->cond, NULL);
        pthread_cond_init(&pm->work_cond, NULL);
        int r = pthread_create(&pm->thread, NULL, probe_main, pm);
        if (r) {
                json_decref(pm->events);
                free(pm);
                return -r;
        }
        for (int i = 0; i < PROBE_WORKERS; i++)
                pthread_create(&pm->workers[i], NULL, worker_main, pm);
        *ret = pm;
        return 0;
}

void probes_free(struct probes *pm)
{
        if (!pm)
                return;
        pthread_mutex_lock(&pm->lock);
        pm->stopping = true;
        pthread_cond_broadcast(&pm->cond);
        pthread_cond_broadcast(&pm->work_cond);
        pthread_mutex_unlock(&pm->lock);
        pthread_join(pm->thread, NULL);
        for (int i = 0; i < PROBE_WORKERS; i++)
                pthread_join(pm->workers[i], NULL);
        while (pm->queue) {
                struct pjob *j = pm->queue;
                pm->queue = j->next;
                free(j);
        }
        while (pm->list) {
                struct pentry *e = pm->list;
                pm->list = e->next;
                pentry_free(e);
        }
        json_decref(pm->events);
        pthread_mutex_destroy(&pm->lock);
        pthread_cond_destroy(&pm->cond);
        pthread_cond_destroy(&pm->work_cond);
        free(pm);
}

static void remove_locked(struct probes *pm, const char *uid, const char *name)
{
        for (struct pentry *e = pm->list; e; e = e->next)
                if (!strcmp(e->uid, uid) && (!name || !strcmp(e->name, name)))
                        e->removed = true;
        if (!name)
                json_object_del(pm->events, uid);
}

void probes_container_add(struct probes *pm, const char *pod_uid, const char *name,
                          const char *ctr_id, json_t *spec_ctr, const char *pod_ip,
                          int64_t started_at)
{
        bool any = false;
        for (int k = 0; k < 3; k++)
                any |= json_is_object(json_object_get(spec_ctr, kind_keys[k]));
        pthread_mutex_lock(&pm->lock);
        remove_locked(pm, pod_uid, name);
        if (any) {
                struct pentry *e = xcalloc(1, sizeof(*e));
                e->uid = xstrdup(pod_uid);
                e->name = xstrdup(name);
                e->id = xstrdup(ctr_id);
                e->pod_ip = pod_ip ? xstrdup(pod_ip) : NULL;
                e->spec = json_deep_copy(spec_ctr);
                int64_t age_ms = MAX((int64_t)time(NULL) - started_at, 0) * 1000;
                e->started_ms = mono_ms() - age_ms;
                for (int k = 0; k < 3; k++) {
                        json_t *p = json_object_get(e->spec, kind_keys[k]);
                        if (!json_is_object(p))
                                continue;
                        e->probe[k] = p;
                        probes_timing_parse(p, &e->t[k]);
                        e->due_ms[k] = e->started_ms + (int64_t)e->t[k].initial_delay_s * 1000;
                        /* initial results: liveness/startup succeed until proven otherwise,
                         * readiness fails until proven */
                        e->res[k].state_ok = k == PROBES_LIVENESS;
                }
                e->startup_done = e->probe[PROBES_STARTUP] == NULL;
                e->next = pm->list;
                pm->list = e;
        }
        pthread_cond_broadcast(&pm->cond);
        pthread_mutex_unlock(&pm->lock);
}

void probes_container_remove(struct probes *pm, const char *pod_uid, const char *name)
{
        pthread_mutex_lock(&pm->lock);
        remove_locked(pm, pod_uid, name);
        pthread_cond_broadcast(&pm->cond);
        pthread_mutex_unlock(&pm->lock);
}

bool probes_container_state(struct probes *pm, const char *pod_uid, const char *name,
                            bool take_kill, struct probes_state *ret)
{
        bool found = false;
        pthread_mutex_lock(&pm->lock);
        for (struct pentry *e = pm->list; e; e = e->next) {
                if (e->removed || strcmp(e->uid, pod_uid) || strcmp(e->name, name))
                        continue;
                found = true;
                memset(ret, 0, sizeof(*ret));
                ret->started = e->startup_done;
                ret->ready = e->startup_done &&
                             (!e->probe[PROBES_READINESS] || e->res[PROBES_READINESS].state_ok);
                if (e->kill && take_kill) {
                        ret->kill = true;
                        ret->kill_kind = e->kill_kind;
                        snprintf(ret->message, sizeof(ret->message), "%s", e->message);
                        e->removed = true; /* a new run registers again */
                }
                break;
        }
        pthread_mutex_unlock(&pm->lock);
        return found;
}

json_t *probes_take_events(struct probes *pm, const char *pod_uid)
{
        pthread_mutex_lock(&pm->lock);
        json_t *evs = json_object_get(pm->events, pod_uid);
        json_t *out = evs ? json_incref(evs) : json_array();
        json_object_del(pm->events, pod_uid);
        pthread_mutex_unlock(&pm->lock);
        return out;
}
