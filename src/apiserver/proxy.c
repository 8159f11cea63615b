/* proxy.c — pods/exec, pods/attach and pods/portforward: the API server relays the client's
 * upgraded connection to the pod's kubelet.
 *
 * Design (docs/ARCHITECTURE.md "Streaming"): the kubelet terminates every streaming protocol
 * (WebSocket v4/v5 channels, SPDY/3.1). For exec/attach (WebSocket or SPDY) and for plain SPDY
 * port-forward, the API server opens an HTTPS connection to the kubelet (kubelet-client
 * certificate, libcurl CONNECT_ONLY), sends the same upgrade request, and if the kubelet answers
 * 101, answers the client with the kubelet's upgrade headers and relays bytes both ways, as
 * kube-apiserver's UpgradeAwareHandler does. For port-forward over WebSocket
 * (SPDY/3.1+portforward.k8s.io, kubectl 1.31+) the client's WebSocket messages carry a SPDY byte
 * stream: we accept the WebSocket here and relay message payloads to a plain SPDY upgrade to the
 * kubelet (kube-apiserver's tunneling handler does the same).
 *
 * Threads: one relay thread per session. It dials the kubelet (connect, TLS, the upgrade
 * request and its answer; 2 s + 2.5 s at most) while the client's request waits, deferred
 * (http_req_defer), then posts dialed() to the loop, which answers the client (error, the
 * kubelet's non-101 answer, or the upgrade). Then the thread owns the kubelet connection (poll
 * on its socket and an eventfd), posting received bytes to the loop (http_server_post) and
 * sending what the loop queued; sends never block its reads. Both directions are bounded
 * (PROXY_HIGH) with back-pressure. */
#include "apiserver/apiserver-internal.h"

#include <ctype.h>
#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <time.h>

#include "apiserver/status.h"
#include "common/kjson.h"
#include "common/log.h"
#include "common/strv.h"
#include "http/upgrade.h"
#include "http/websocket.h"

#define COMP "apiserver"
#define PROXY_HIGH (8u << 20)
#define PROXY_LOW (2u << 20)
#define PROXY_HEAD_MAX (16u << 10)
#define PROXY_BODY_MAX (64u << 10)
#define PROXY_DIAL_TIMEOUT_MS 2500 /* + the connect: under apiserver_free's 5 s wait */
#define PROXY_CHUNK (64u << 10)
#define PROXY_WS_MAX (64u << 20)

struct backend_resp {
        int status;
        char **headers; /* name, value, ... (names lower-cased) */
        char *body;
        size_t body_len;
        char *extra; /* bytes after the head (already part of the upgraded stream) */
        size_t extra_len;
};

static void backend_resp_clear(struct backend_resp *b)
{
        strv_free(b->headers);
        free(b->body);
        free(b->extra);
        memset(b, 0, sizeof(*b));
}

struct relay {
        struct apiserver *a;
        atomic_int refs; /* loop side + worker (+ a posted dialed()) */
        /* the deferred request and what to send the kubelet (set before the worker starts) */
        struct http_req *req;
        char *url, *request, *sub;
        bool tunnel;
        /* the dial's result: written by the worker before it posts dialed() */
        int dial_r;
        char dial_msg[512];
        struct backend_resp b;
        atomic_bool go; /* the loop upgraded the client: relay */
        /* loop thread only: */
        struct http_raw *raw; /* client, raw passthrough; NULL once closed */
        struct http_ws *ws;   /* client, WebSocket tunnel; NULL once closed */
        bool client_gone, paused;
        int timer;
        /* worker only: */
        CURL *h;
        curl_socket_t sock;
        /* shared: */
        int efd;
        atomic_bool abort;
        atomic_size_t posted;         /* bytes posted to the loop and not yet delivered */
        atomic_size_t client_pending; /* the client connection's unwritten bytes (loop's view) */
        pthread_mutex_t lock;         /* protects out, out_len, out_cap, out_eof */
        char *out;
        size_t out_len, out_cap;
        /* worker only: the chunk being sent (kept for TLS retries) */
        char sendbuf[PROXY_CHUNK];
        size_t send_len, send_off;
};

struct chunk {
        struct relay *r;
        size_t len;
        bool end;
        char data[];
};

static void relay_unref(struct relay *r)
{
        if (atomic_fetch_sub(&r->refs, 1) != 1)
                return;
        if (r->h)
                curl_easy_cleanup(r->h);
        if (r->efd >= 0)
                close(r->efd);
        backend_resp_clear(&r->b);
        free(r->url);
        free(r->request);
        free(r->sub);
        pthread_mutex_destroy(&r->lock);
        free(r->out);
        free(r);
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- loop side ---- */

static size_t client_pending(struct relay *r)
{
        if (r->raw)
                return http_raw_pending(r->raw);
        if (r->ws)
                return http_ws_pending(r->ws);
        return 0;
}

static void recheck(void *ud)
{
        struct relay *r = ud;
        r->timer = 0;
        size_t p = r->client_gone ? 0 : client_pending(r);
        atomic_store(&r->client_pending, p);
        if (p > PROXY_LOW && !r->client_gone) {
                atomic_fetch_add(&r->refs, 1);
                r->timer = http_server_add_timer(r->a->http, 5, recheck, r);
        } else {
                uint64_t one = 1;
                if (write(r->efd, &one, sizeof(one)) < 0) {
                        /* the counter is saturated: the worker is awake anyway */
                }
        }
        relay_unref(r);
}

static void deliver(void *ud)
{
        struct chunk *c = ud;
        struct relay *r = c->r;
        if (!r->client_gone) {
                if (c->len) {
                        if (r->raw)
                                http_raw_write(r->raw, c->data, c->len);
                        else if (r->ws)
                                http_ws_send(r->ws, HTTP_WS_BINARY, c->data, c->len);
                }
                if (c->end) {
                        if (r->raw)
                                http_raw_close(r->raw);
                        else if (r->ws)
                                http_ws_close(r->ws, 1000, NULL);
                }
        }
        atomic_fetch_sub(&r->posted, c->len);
        size_t p = r->client_gone ? 0 : client_pending(r);
        atomic_store(&r->client_pending, p);
        if (p > PROXY_HIGH && !r->timer && !r->client_gone) {
                /* poll until the client took most of it (then recheck wakes the worker) */
                atomic_fetch_add(&r->refs, 1);
                r->timer = http_server_add_timer(r->a->http, 5, recheck, r);
        }
        if (c->end)
                relay_unref(r); /* the worker's reference */
        free(c);
}

static void wake(struct relay *r)
{
        uint64_t one = 1;
        if (write(r->efd, &one, sizeof(one)) < 0) {
                /* saturated: already awake */
        }
}

static void resume_client(void *ud)
{
        struct relay *r = ud;
        if (r->paused && r->raw && !r->client_gone) {
                r->paused = false;
                http_raw_pause(r->raw, false);
        }
        relay_unref(r);
}

static void to_backend(struct relay *r, const uint8_t *data, size_t len)
{
        pthread_mutex_lock(&r->lock);
        if (r->out_len + len > r->out_cap) {
                size_t cap = r->out_cap ? r->out_cap : 65536;
                while (cap < r->out_len + len)
                        cap *= 2;
                r->out = xrealloc(r->out, cap);
                r->out_cap = cap;
        }
        memcpy(r->out + r->out_len, data, len);
        r->out_len += len;
        size_t n = r->out_len;
        pthread_mutex_unlock(&r->lock);
        wake(r);
        if (n > PROXY_HIGH && r->raw && !r->paused) {
                r->paused = true;
                http_raw_pause(r->raw, true);
        } else if (n > PROXY_WS_MAX && r->ws) {
                /* a WebSocket cannot be paused (see kubelet/exec.c): bound it */
                log_warn(COMP, "stream relay: client backlog over %u bytes, closing", PROXY_WS_MAX);
                http_ws_close(r->ws, 1011, "backlog");
        }
}

static void on_client_raw(void *ud, const uint8_t *data, size_t len)
{
        to_backend(ud, data, len);
}

static void on_client_ws(void *ud, int opcode, const uint8_t *data, size_t len)
{
        if (opcode == HTTP_WS_BINARY && len)
                to_backend(ud, data, len);
}

static void on_client_close(void *ud)
{
        struct relay *r = ud;
        r->client_gone = true;
        r->raw = NULL;
        r->ws = NULL;
        atomic_store(&r->abort, true);
        wake(r);
        relay_unref(r);
}

/* ---- worker ---- */

static void post_chunk(struct relay *r, const char *data, size_t len, bool end)
{
        struct chunk *c = xmalloc(sizeof(*c) + len);
        c->r = r;
        c->len = len;
        c->end = end;
        if (len)
                memcpy(c->data, data, len);
        atomic_fetch_add(&r->posted, len);
        http_server_post(r->a->http, deliver, c);
}

/* Send what is queued without blocking: false on a connection error. Sets *ret_more if data is
 * left (the socket is full). A retried send uses the same buffer (sendbuf), as TLS requires. */
static bool send_some(struct relay *r, bool *ret_more)
{
        *ret_more = false;
        for (;;) {
                if (!r->send_len) {
                        pthread_mutex_lock(&r->lock);
                        size_t n = r->out_len < PROXY_CHUNK ? r->out_len : PROXY_CHUNK;
                        memcpy(r->sendbuf, r->out, n);
                        memmove(r->out, r->out + n, r->out_len - n);
                        r->out_len -= n;
                        bool low = n && r->out_len < PROXY_LOW && r->out_len + n >= PROXY_LOW;
                        pthread_mutex_unlock(&r->lock);
                        if (low) {
                                atomic_fetch_add(&r->refs, 1);
                                http_server_post(r->a->http, resume_client, r);
                        }
                        r->send_len = n;
                        r->send_off = 0;
                        if (!n)
                                return true;
                }
                size_t sent = 0;
                CURLcode rc = curl_easy_send(r->h, r->sendbuf + r->send_off,
                                             r->send_len - r->send_off, &sent);
                if (rc == CURLE_AGAIN) {
                        *ret_more = true;
                        return true;
                }
                if (rc != CURLE_OK)
                        return false;
                r->send_off += sent;
                if (r->send_off == r->send_len)
                        r->send_len = 0;
        }
}

static void relay_run(struct relay *r)
{
        char buf[PROXY_CHUNK];
        bool eof = false, more = false;
        while (!eof && !atomic_load(&r->abort)) {
                bool room = atomic_load(&r->posted) + atomic_load(&r->client_pending) < PROXY_HIGH;
                struct pollfd p[2] = {
                        {.fd = r->efd, .events = POLLIN},
                        {.fd = r->sock,
                         .events = (short)((room ? POLLIN : 0) | (more ? POLLOUT : 0))}};
                if (poll(p, 2, room ? 1000 : 5) < 0 && errno != EINTR)
                        break;
                if (p[0].revents & POLLIN) {
                        uint64_t v;
                        if (read(r->efd, &v, sizeof(v)) < 0) {
                                /* EAGAIN: nothing */
                        }
                }
                if (atomic_load(&r->abort))
                        break;
                /* sending never waits for the kubelet to read: it may be waiting for us */
                if (!send_some(r, &more))
                        break;
                if (!room)
                        continue;
                /* drain what TLS holds, not only what poll saw */
                for (int i = 0; i < 64; i++) {
                        size_t n = 0;
                        CURLcode rc = curl_easy_recv(r->h, buf, sizeof(buf), &n);
                        if (rc == CURLE_AGAIN)
                                break;
                        if (rc != CURLE_OK || n == 0) {
                                eof = true;
                                break;
                        }
                        post_chunk(r, buf, n, false);
                }
        }
        post_chunk(r, NULL, 0, true); /* deliver() drops the worker's reference */
}

static void dialed(void *ud);
static int dial(struct apiserver *a, const char *url, const char *request, CURL **ret_h,
                curl_socket_t *ret_sock, struct backend_resp *b, struct error *err);

/* The dial (blocking: connect, TLS, upgrade request, the kubelet's answer), then the loop's
 * decision, then the relay. */
static void *worker(void *ud)
{
        struct relay *r = ud;
        struct apiserver *a = r->a;
        struct error err = {0};
        r->dial_r = dial(a, r->url, r->request, &r->h, &r->sock, &r->b, &err);
        if (r->dial_r < 0)
                snprintf(r->dial_msg, sizeof(r->dial_msg), "%s", error_msg(&err));
        atomic_fetch_add(&r->refs, 1); /* dialed()'s */
        http_server_post(a->http, dialed, r);
        while (!atomic_load(&r->go) && !atomic_load(&r->abort) &&
               !http_server_is_stopping(a->http)) {
                struct pollfd p = {.fd = r->efd, .events = POLLIN};
                if (poll(&p, 1, 50) > 0) {
                        uint64_t v;
                        if (read(r->efd, &v, sizeof(v)) < 0) {
                                /* EAGAIN: nothing */
                        }
                }
        }
        if (atomic_load(&r->go) && !atomic_load(&r->abort))
                relay_run(r);
        else
                relay_unref(r);
        __atomic_fetch_sub(&a->log_workers, 1, __ATOMIC_SEQ_CST);
        return NULL;
}

/* ---- dialing the kubelet ---- */

static const char *resp_header(const struct backend_resp *b, const char *name)
{
        for (size_t i = 0; b->headers && b->headers[i] && b->headers[i + 1]; i += 2)
                if (!strcmp(b->headers[i], name))
                        return b->headers[i + 1];
        return NULL;
}

static int wait_sock(curl_socket_t s, short ev, int64_t deadline)
{
        int64_t left = deadline - now_ms();
        if (left <= 0)
                return -ETIMEDOUT;
        struct pollfd p = {.fd = s, .events = ev};
        int n = poll(&p, 1, (int)left);
        return n < 0 ? -errno : n == 0 ? -ETIMEDOUT : 0;
}

static int send_all(CURL *h, curl_socket_t s, const char *d, size_t len, int64_t deadline)
{
        size_t off = 0;
        while (off < len) {
                size_t n = 0;
                CURLcode rc = curl_easy_send(h, d + off, len - off, &n);
                if (rc == CURLE_AGAIN) {
                        int r = wait_sock(s, POLLOUT, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (rc != CURLE_OK)
                        return -EIO;
                off += n;
        }
        return 0;
}

/* Parse "HTTP/1.1 101 ...\r\nName: value\r\n...\r\n\r\n" (head_len bytes). Pure. */
static int parse_head(const char *head, size_t head_len, struct backend_resp *b)
{
        _cleanup_free_ char *h = xstrndup(head, head_len);
        char *save = NULL;
        char *line = strtok_r(h, "\r\n", &save);
        if (!line || strncmp(line, "HTTP/1.", 7) || strlen(line) < 12)
                return -EPROTO;
        b->status = atoi(line + 9);
        if (b->status < 100 || b->status > 599)
                return -EPROTO;
        b->headers = strv_new();
        while ((line = strtok_r(NULL, "\r\n", &save))) {
                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = '\0';
                for (char *c = line; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
                const char *v = colon + 1;
                while (*v == ' ' || *v == '\t')
                        v++;
                b->headers = strv_push(b->headers, line);
                b->headers = strv_push(b->headers, v);
        }
        return 0;
}

static int dial(struct apiserver *a, const char *url, const char *request, CURL **ret_h,
                curl_socket_t *ret_sock, struct backend_resp *b, struct error *err)
{
        CURL *h = curl_easy_init();
        if (!h)
                return error_set(err, -ENOMEM, "curl");
        char errbuf[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
        /* we speak HTTP/1.1 ourselves on the connection: no h2 by ALPN */
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(h, CURLOPT_SSL_ENABLE_ALPN, 0L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
        if (a->kubelet_cert) {
                curl_easy_setopt(h, CURLOPT_SSLCERT, a->kubelet_cert);
                curl_easy_setopt(h, CURLOPT_SSLKEY, a->kubelet_key);
                curl_easy_setopt(h, CURLOPT_CAINFO, a->ca_file);
                curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L); /* as in logs.c */
        }
        CURLcode rc = curl_easy_perform(h);
        curl_socket_t s = CURL_SOCKET_BAD;
        if (rc == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &s);
        if (rc != CURLE_OK || s == CURL_SOCKET_BAD) {
                error_set(err, -EHOSTUNREACH, "error dialing backend: %s",
                          errbuf[0] ? errbuf : curl_easy_strerror(rc));
                curl_easy_cleanup(h);
                return -EHOSTUNREACH;
        }
        int64_t deadline = now_ms() + PROXY_DIAL_TIMEOUT_MS;
        int r = send_all(h, s, request, strlen(request), deadline);
        char *buf = xmalloc(PROXY_HEAD_MAX);
        size_t len = 0, head = 0;
        while (r == 0 && !head) {
                size_t n = 0;
                rc = curl_easy_recv(h, buf + len, PROXY_HEAD_MAX - len, &n);
                if (rc == CURLE_AGAIN) {
                        r = wait_sock(s, POLLIN, deadline);
                        continue;
                }
                if (rc != CURLE_OK || n == 0) {
                        r = -ECONNRESET;
                        break;
                }
                len += n;
                char *e = memmem(buf, len, "\r\n\r\n", 4);
                if (e)
                        head = (size_t)(e - buf) + 4;
                else if (len == PROXY_HEAD_MAX)
                        r = -E2BIG;
        }
        if (r == 0 && parse_head(buf, head, b) < 0)
                r = -EPROTO;
        if (r == 0) {
                b->extra_len = len - head;
                b->extra = xmalloc(b->extra_len + 1);
                memcpy(b->extra, buf + head, b->extra_len);
        }
        if (r == 0 && b->status != 101) {
                /* read a bounded body for the error */
                const char *cl = resp_header(b, "content-length");
                size_t want = cl ? (size_t)strtoull(cl, NULL, 10) : 0;
                if (want > PROXY_BODY_MAX)
                        want = PROXY_BODY_MAX;
                b->body = xmalloc(want + 1);
                b->body_len = b->extra_len < want ? b->extra_len : want;
                memcpy(b->body, b->extra, b->body_len);
                while (b->body_len < want) {
                        size_t n = 0;
                        rc = curl_easy_recv(h, b->body + b->body_len, want - b->body_len, &n);
                        if (rc == CURLE_AGAIN) {
                                if (wait_sock(s, POLLIN, deadline) < 0)
                                        break;
                                continue;
                        }
                        if (rc != CURLE_OK || n == 0)
                                break;
                        b->body_len += n;
                }
                b->body[b->body_len] = '\0';
        }
        free(buf);
        if (r < 0) {
                curl_easy_cleanup(h);
                return error_set(err, r, "error talking to the kubelet: %s", strerror(-r));
        }
        *ret_h = h;
        *ret_sock = s;
        return 0;
}

static void respond_status(struct http_req *req, int code, const char *msg)
{
        json_t *st = status_new(code, msg, NULL);
        char *body = json_dumps(st, JSON_COMPACT);
        http_req_respond(req, status_http_code(code), "application/json", body, strlen(body));
        free(body);
        json_decref(st);
}

/* Loop: the worker's dial is done. Answer the deferred request: the error, the kubelet's
 * non-101 answer, or the upgrade; then let the worker relay (go) or end (abort). */
static void dialed(void *ud)
{
        struct relay *r = ud;
        struct backend_resp *b = &r->b;
        if (http_server_is_stopping(r->a->http)) {
                /* the server is going down: leave the request alone */
                atomic_store(&r->abort, true);
                relay_unref(r); /* the loop side's */
                relay_unref(r); /* dialed()'s */
                return;
        }
        http_req_resume(r->req);
        if (r->dial_r < 0) {
                respond_status(r->req, -EIO, r->dial_msg);
        } else if (b->status != 101) {
                /* pass the kubelet's answer on, as kube-apiserver's proxy does */
                const char *ct = resp_header(b, "content-type");
                http_req_respond(r->req, b->status, ct ? ct : "text/plain; charset=utf-8",
                                 b->body ? b->body : "", b->body_len);
        } else if (r->tunnel) {
                r->ws = http_req_websocket_accept(r->req, "SPDY/3.1+portforward.k8s.io",
                                                  on_client_ws, on_client_close, r);
        } else {
                const char *names[] = {"upgrade", "sec-websocket-accept", "sec-websocket-protocol",
                                       "x-stream-protocol-version"};
                const char *hdrs[2 * ARRAY_SIZE(names) + 1];
                size_t k = 0;
                for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                        const char *v = resp_header(b, names[i]);
                        if (v) {
                                hdrs[k++] = names[i];
                                hdrs[k++] = v;
                        }
                }
                hdrs[k] = NULL;
                r->raw = http_req_upgrade(r->req, hdrs, on_client_raw, on_client_close, r);
        }
        if (r->dial_r == 0 && b->status == 101 && !r->raw && !r->ws)
                respond_status(r->req, -EBADMSG,
                               "unable to upgrade connection (HTTP/1.1 required)");
        r->req = NULL; /* answered: h2o owns it again */
        if (!r->raw && !r->ws) {
                atomic_store(&r->abort, true);
                wake(r);
                relay_unref(r); /* the loop side's */
                relay_unref(r); /* dialed()'s */
                return;
        }
        if (b->extra_len) {
                if (r->raw)
                        http_raw_write(r->raw, b->extra, b->extra_len);
                else
                        http_ws_send(r->ws, HTTP_WS_BINARY, b->extra, b->extra_len);
        }
        atomic_store(&r->go, true);
        wake(r);
        relay_unref(r); /* dialed()'s; the client connection holds the loop side's */
}

/* ---- the request ---- */

static bool find_container(const json_t *pod, const char *name)
{
        const char *lists[] = {"spec.containers", "spec.initContainers",
                               "spec.ephemeralContainers"};
        for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
                size_t i;
                json_t *c;
                json_array_foreach(kjson_get(pod, lists[l]), i, c)
                {
                        const char *cn = kjson_str(c, "name");
                        if (cn && !strcmp(cn, name))
                                return true;
                }
        }
        return false;
}

static int node_endpoint(struct rq *q, const char *node, char **ret_ip, int64_t *ret_port)
{
        const struct scheme_resource *nr = scheme_lookup("", "v1", "nodes");
        _cleanup_free_ char *key = scheme_key(nr, NULL, node);
        struct store_kv kv = {0};
        struct error err = {0};
        if (store_get(q->a->store, key, &kv, &err) < 0) {
                rq_fail(q, -ENOENT, status_details(node, "", "nodes"), "nodes \"%s\" not found",
                        node);
                return -ENOENT;
        }
        _cleanup_(json_decrefp) json_t *nobj =
                apiserver_obj_decode(nr, kv.value, kv.value_len, kv.mod_rev);
        store_kv_clear(&kv);
        size_t i;
        json_t *c;
        json_array_foreach(kjson_get(nobj, "status.addresses"), i, c)
        {
                const char *t = kjson_str(c, "type");
                if (t && !strcmp(t, "InternalIP") && kjson_str(c, "address")) {
                        *ret_ip = xstrdup(kjson_str(c, "address"));
                        *ret_port = kjson_int(nobj, "status.daemonEndpoints.kubeletEndpoint.Port",
                                              10250);
                        return 0;
                }
        }
        rq_fail(q, -EBADMSG, NULL, "node %s has no InternalIP address", node);
        return -EINVAL;
}

static char *url_escape(const char *s)
{
        CURL *h = curl_easy_init();
        char *e = h ? curl_easy_escape(h, s, 0) : NULL;
        char *r = xstrdup(e ? e : "");
        if (e)
                curl_free(e);
        if (h)
                curl_easy_cleanup(h);
        return r;
}

/* *s += (first ? "" : "&") name=value */
static void append_param(char **s, bool *first, const char *name, const char *value)
{
        char *n = xasprintf("%s%s%s=%s", *s, *first ? "" : "&", name, value);
        free(*s);
        *s = n;
        *first = false;
}

static bool has_token(const char *list, const char *tok)
{
        size_t n = strlen(tok);
        for (const char *p = list ? list : ""; *p;) {
                while (*p == ' ' || *p == ',')
                        p++;
                const char *e = p;
                while (*e && *e != ',')
                        e++;
                const char *t = e;
                while (t > p && t[-1] == ' ')
                        t--;
                if ((size_t)(t - p) == n && !strncasecmp(p, tok, n))
                        return true;
                p = e;
        }
        return false;
}

static bool qflag(struct rq *q, const char *name)
{
        return apiserver_parse_bool(http_req_query(q->req, name));
}

void proxy_stream(struct rq *q)
{
        const char *sub = q->sub;
        bool pf = !strcmp(sub, "portforward");
        const struct scheme_resource *pr = q->res;
        _cleanup_free_ char *key = scheme_key(pr, q->ns, q->name);
        struct store_kv kv = {0};
        struct error err = {0};
        if (store_get(q->a->store, key, &kv, &err) < 0) {
                rq_fail_not_found(q, pr, q->name);
                return;
        }
        _cleanup_(json_decrefp) json_t *pod =
                apiserver_obj_decode(pr, kv.value, kv.value_len, kv.mod_rev);
        store_kv_clear(&kv);
        if (!pod) {
                rq_fail(q, -EIO, NULL, "corrupt pod %s", q->name);
                return;
        }
        const char *phase = kjson_str(pod, "status.phase");
        if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))) {
                rq_fail(q, -EBADMSG, NULL,
                        "cannot %s a container in a completed pod; current phase is %s",
                        pf                     ? "port-forward to"
                        : !strcmp(sub, "exec") ? "exec into"
                                               : "attach to",
                        phase);
                return;
        }
        const char *ctr = http_req_query(q->req, "container");
        if (!pf && (!ctr || !*ctr)) {
                const json_t *cs = kjson_get(pod, "spec.containers");
                if (json_array_size(cs) != 1) {
                        _cleanup_strv_free_ char **names = strv_new();
                        size_t i;
                        json_t *c;
                        json_array_foreach(cs, i, c) names =
                                strv_push(names, kjson_str(c, "name") ?: "");
                        _cleanup_free_ char *j = strv_join(names, " ");
                        rq_fail(q, -EBADMSG, NULL,
                                "a container name must be specified for pod %s, choose one of: "
                                "[%s]",
                                q->name, j);
                        return;
                }
                ctr = kjson_str(json_array_get(cs, 0), "name");
        }
        if (!pf && !find_container(pod, ctr)) {
                rq_fail(q, -EBADMSG, NULL, "container %s is not valid for pod %s", ctr, q->name);
                return;
        }
        const char *node = kjson_str(pod, "spec.nodeName");
        if (!node || !*node) {
                rq_fail(q, -EBADMSG, NULL, "pod %s does not have a host assigned", q->name);
                return;
        }
        _cleanup_free_ char *ip = NULL;
        int64_t port = 0;
        if (node_endpoint(q, node, &ip, &port) < 0)
                return;

        /* the kubelet's URL: its parameter names (input/output/error) as the real one */
        _cleanup_free_ char *path = NULL;
        if (pf) {
                /* ?ports= is the WebSocket protocol's (the Python client): pass it on */
                const char *raw = http_req_query_raw(q->req);
                _cleanup_strv_free_ char **ports = strv_new();
                for (const char *p = raw; p && *p;) {
                        const char *e = strchr(p, '&');
                        size_t len = e ? (size_t)(e - p) : strlen(p);
                        if (len > 6 && !strncmp(p, "ports=", 6) &&
                            strspn(p + 6, "0123456789,") >= len - 6)
                                ports = strv_push_take(ports, xstrndup(p + 6, len - 6));
                        p += len + (e ? 1 : 0);
                }
                _cleanup_free_ char *pj = strv_join(ports, ",");
                path = xasprintf("/portForward/%s/%s%s%s", q->ns, q->name, *pj ? "?ports=" : "",
                                 pj);
        } else {
                path = xasprintf("/%s/%s/%s/%s?", sub, q->ns, q->name, ctr);
                bool first = true;
                if (!strcmp(sub, "exec")) {
                        _cleanup_strv_free_ char **cmd = strv_new();
                        /* every command= value, in order */
                        const char *raw = http_req_query_raw(q->req);
                        for (const char *p = raw; p && *p;) {
                                const char *e = strchr(p, '&');
                                size_t len = e ? (size_t)(e - p) : strlen(p);
                                if (len >= 8 && !strncmp(p, "command=", 8))
                                        cmd = strv_push_take(cmd,
                                                             http_url_decode(p + 8, len - 8, true));
                                p += len + (e ? 1 : 0);
                        }
                        if (!cmd[0]) {
                                rq_fail(q, -EBADMSG, NULL, "you must specify at least 1 command");
                                return;
                        }
                        for (size_t i = 0; cmd[i]; i++) {
                                _cleanup_free_ char *e = url_escape(cmd[i]);
                                append_param(&path, &first, "command", e);
                        }
                }
                const char *flags[][2] = {{"stdin", "input"},
                                          {"stdout", "output"},
                                          {"stderr", "error"},
                                          {"tty", "tty"}};
                for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
                        if (qflag(q, flags[i][0]))
                                append_param(&path, &first, flags[i][1], "1");
        }
        bool ws = http_req_is_websocket(q->req);
        const char *wsproto = http_req_header_all(q->req, "sec-websocket-protocol");
        bool tunnel = pf && ws && has_token(wsproto, "SPDY/3.1+portforward.k8s.io");
        const char *upgrade = http_req_upgrade_header(q->req);
        if (!tunnel && !ws && !(upgrade && !strcasecmp(upgrade, "SPDY/3.1"))) {
                rq_fail(q, -EBADMSG, NULL, "Upgrade request required");
                return;
        }
        /* the request to the kubelet */
        _cleanup_free_ char *req = NULL;
        const char *method = ws ? "GET" : "POST";
        if (tunnel || !ws) {
                const char *xv = tunnel ? "portforward.k8s.io"
                                        : http_req_header_all(q->req, "x-stream-protocol-version");
                req = xasprintf("%s %s HTTP/1.1\r\nHost: %s:%lld\r\nConnection: Upgrade\r\n"
                                "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: %s\r\n"
                                "Content-Length: 0\r\n\r\n",
                                tunnel ? "POST" : method, path, ip, (long long)port, xv ? xv : "");
        } else {
                const char *wskey = http_req_header(q->req, "sec-websocket-key");
                const char *ver = http_req_header(q->req, "sec-websocket-version");
                req = xasprintf("GET %s HTTP/1.1\r\nHost: %s:%lld\r\nConnection: Upgrade\r\n"
                                "Upgrade: websocket\r\nSec-WebSocket-Key: %s\r\n"
                                "Sec-WebSocket-Version: %s\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
                                path, ip, (long long)port, wskey ? wskey : "", ver ? ver : "13",
                                wsproto ? wsproto : "");
        }
        struct relay *rl = xcalloc(1, sizeof(*rl));
        rl->a = q->a;
        rl->url = xasprintf("%s://%s:%lld/", q->a->kubelet_cert ? "https" : "http", ip,
                            (long long)port);
        rl->request = TAKE_PTR(req);
        rl->sub = xstrdup(sub);
        rl->tunnel = tunnel;
        rl->req = q->req;
        rl->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        pthread_mutex_init(&rl->lock, NULL);
        atomic_init(&rl->refs, 2);
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        __atomic_fetch_add(&q->a->log_workers, 1, __ATOMIC_SEQ_CST);
        int r = pthread_create(&t, &attr, worker, rl);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                __atomic_fetch_sub(&q->a->log_workers, 1, __ATOMIC_SEQ_CST);
                log_err(COMP, "pods/%s: cannot start relay thread", sub);
                atomic_store(&rl->refs, 1);
                relay_unref(rl);
                rq_fail(q, -EIO, NULL, "cannot start the stream relay");
                return;
        }
        /* answered by dialed() on the loop once the kubelet answered (the audit line says 101:
         * the outcome is not known yet) */
        q->status = 101;
        http_req_defer(q->req);
}
