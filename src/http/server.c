/* server.c — the HTTP(S) server adapter over h2o 2.2.5 (libh2o-evloop); see server.h.
 *
 * Everything h2o- or OpenSSL-specific stays in this file. Facts this relies on were measured
 * with /work/shared/reference/probes/h2osrv.c (PLATFORM.md "HTTP server stack"):
 *  - 2.2.5 has no accessor for a connection's SSL*: it is the second member of the private
 *    struct st_h2o_socket_ssl_t; likewise the HTTP/1 connection's private layout starts with
 *    {h2o_conn_t, h2o_socket_t *, h2o_linklist_t _conns}. Both are pinned to 2.2.5 here.
 *  - an HTTP/1.1 connection is not read while a response is in progress, so a client close is
 *    only noticed at the next write: streams watch their fd for EPOLLRDHUP themselves.
 *  - one h2o_send may be in flight per request; the rest is queued until proceed. */
#include <h2o.h>
#include <h2o/http1.h>
#include <h2o/http2.h>
#include <h2o/http2_scheduler.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>

#include "http/server.h"
#include "http/websocket.h"
#include "http/upgrade.h"

#define DEFAULT_MAX_BODY (3 * 1024 * 1024)
#define SHUTDOWN_GRACE_MS 1000
#define REQ_HEAD_TIMEOUT_MS 10000
#define IDLE_TIMEOUT_MS 30000

/* Private prefixes of h2o 2.2.5 structures (see the file comment). */
struct h2o225_socket_ssl {
        SSL_CTX *ssl_ctx;
        SSL *ossl;
};
struct h2o225_http1_conn {
        h2o_conn_t super;
        h2o_socket_t *sock;
        h2o_linklist_t _conns;
};
struct h2o225_http2_conn {
        h2o_conn_t super;
        h2o_socket_t *sock;
        h2o_http2_settings_t peer_settings;
        void *streams;
        uint32_t stream_ids[3];
        uint32_t num_streams[9];
        h2o_http2_scheduler_node_t scheduler;
        int state;
        h2o_linklist_t _conns;
};
struct h2o225_evloop_epoll {
        h2o_evloop_t super;
        int ep;
};

struct post {
        void (*fn)(void *);
        void *userdata;
        struct post *next;
};

struct timer {
        uint64_t deadline_ms; /* CLOCK_MONOTONIC */
        int id;
        void (*fn)(void *);
        void *userdata;
        struct timer *next;
};

struct srv_handler {
        h2o_handler_t super;
        struct http_server *server;
};

struct http_server {
        h2o_globalconf_t config;
        h2o_context_t ctx;
        h2o_accept_ctx_t accept_ctx;
        h2o_evloop_t *loop;
        SSL_CTX *ssl;
        http_handler_fn fn;
        void *userdata;
        int port;

        h2o_socket_t *listener; /* NULL once closed */
        int rdhup_ep;           /* epoll set of HTTP/1.1 stream fds (EPOLLRDHUP) */
        h2o_socket_t *rdhup_sock;
        int event_fd; /* wakes the loop for posts and stop */
        h2o_socket_t *event_sock;
        int timer_fd;
        h2o_socket_t *timer_sock;

        pthread_mutex_t lock; /* protects posts, posts_tail */
        struct post *posts, **posts_tail;
        atomic_bool stop_requested;
        bool shut_down; /* loop-thread teardown done */

        h2o_linklist_t streams;    /* open streams, struct http_stream.link; loop thread */
        h2o_linklist_t websockets; /* open websockets (websocket.c); loop thread */
        h2o_linklist_t raws;       /* open raw connections (upgrade.c); loop thread */
        struct timer *timers;      /* sorted by deadline; loop thread */
        int next_timer_id;
};

struct req_gone {
        void (*fn)(void *);
        void *userdata;
};

struct http_req {
        h2o_req_t *req;
        struct http_server *server;
        struct req_gone *gone; /* http_req_on_gone */
        bool responded;
        bool auth_done;
        char *path, *query_raw, *user, *groups, *body, *remote;
};

struct sbuf {
        char *p;
        size_t len, cap;
};

struct http_stream {
        h2o_generator_t gen; /* first: h2o hands back &gen */
        struct http_req *r;
        struct http_server *server;
        h2o_linklist_t link; /* in server->streams while open */
        void (*on_close)(void *);
        void *userdata;
        int fd;        /* registered in rdhup_ep, or -1 */
        bool inflight; /* an h2o_send awaits proceed */
        bool abort;    /* client went away / server stopping: send an error */
        bool ending;   /* http_stream_end called */
        bool final_sent;
        bool gone;   /* h2o stopped or disposed the request */
        bool closed; /* on_close called */
        /* HTTP/1.1: we frame the chunks (h2o's chunked filter swallows an empty send, so the
         * headers would wait for the first data) */
        bool chunked;
        char chunk_hdr[20];
        struct sbuf cur, pend;
};

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- URL decoding (pure) ---- */

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

size_t http_url_decode_into(char *dst, const char *src, size_t len, bool plus_is_space)
{
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                char c = src[i];
                if (c == '%' && i + 2 < len) {
                        int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
                        if (hi >= 0 && lo >= 0 && (hi | lo) != 0) {
                                dst[o++] = (char)(hi << 4 | lo);
                                i += 2;
                                continue;
                        }
                } else if (c == '+' && plus_is_space) {
                        c = ' ';
                }
                dst[o++] = c;
        }
        dst[o] = '\0';
        return o;
}

char *http_url_decode(const char *s, size_t len, bool plus_is_space)
{
        char *d = xmalloc(len + 1);
        http_url_decode_into(d, s, len, plus_is_space);
        return d;
}

/* Find the first parameter called name in raw; on success set value span. */
static bool query_find(const char *raw, size_t raw_len, const char *name, const char **ret_v,
                       size_t *ret_vlen)
{
        size_t nlen = strlen(name);
        const char *p = raw, *end = raw + raw_len;
        char stackbuf[256];

        while (p < end) {
                const char *amp = memchr(p, '&', (size_t)(end - p));
                const char *e = amp ? amp : end;
                const char *eq = memchr(p, '=', (size_t)(e - p));
                const char *k_end = eq ? eq : e;
                size_t klen = (size_t)(k_end - p);
                bool match;

                if (klen < sizeof(stackbuf)) {
                        size_t dl = http_url_decode_into(stackbuf, p, klen, true);
                        match = dl == nlen && memcmp(stackbuf, name, nlen) == 0;
                } else {
                        _cleanup_free_ char *k = http_url_decode(p, klen, true);
                        match = strcmp(k, name) == 0;
                }
                if (match) {
                        *ret_v = eq ? eq + 1 : e;
                        *ret_vlen = eq ? (size_t)(e - eq - 1) : 0;
                        return true;
                }
                p = e + 1;
        }
        return false;
}

char *http_query_get(const char *raw, const char *name)
{
        const char *v;
        size_t vlen;
        if (!raw || !query_find(raw, strlen(raw), name, &v, &vlen))
                return NULL;
        return http_url_decode(v, vlen, true);
}

/* ---- small helpers ---- */

static char *pool_strndup(h2o_req_t *req, const char *s, size_t len)
{
        char *d = h2o_mem_alloc_pool(&req->pool, len + 1);
        memcpy(d, s, len);
        d[len] = '\0';
        return d;
}

static const char *reason_phrase(int status)
{
        switch (status) {
        case 101:
                return "Switching Protocols";
        case 200:
                return "OK";
        case 201:
                return "Created";
        case 202:
                return "Accepted";
        case 204:
                return "No Content";
        case 206:
                return "Partial Content";
        case 301:
                return "Moved Permanently";
        case 302:
                return "Found";
        case 304:
                return "Not Modified";
        case 400:
                return "Bad Request";
        case 401:
                return "Unauthorized";
        case 403:
                return "Forbidden";
        case 404:
                return "Not Found";
        case 405:
                return "Method Not Allowed";
        case 406:
                return "Not Acceptable";
        case 408:
                return "Request Timeout";
        case 409:
                return "Conflict";
        case 410:
                return "Gone";
        case 413:
                return "Payload Too Large";
        case 415:
                return "Unsupported Media Type";
        case 422:
                return "Unprocessable Entity";
        case 429:
                return "Too Many Requests";
        case 500:
                return "Internal Server Error";
        case 501:
                return "Not Implemented";
        case 502:
                return "Bad Gateway";
        case 503:
                return "Service Unavailable";
        case 504:
                return "Gateway Timeout";
        default:
                if (status < 300)
                        return "OK";
                return status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
        }
}

/* ---- timers (timerfd, loop thread) ---- */

static void timers_arm(struct http_server *s)
{
        struct itimerspec its = {0};
        if (s->timers) {
                uint64_t d = s->timers->deadline_ms;
                its.it_value.tv_sec = (time_t)(d / 1000);
                its.it_value.tv_nsec = (long)(d % 1000) * 1000000L;
                if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
                        its.it_value.tv_nsec = 1;
        }
        timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

int http_server_add_timer(struct http_server *s, uint64_t ms, void (*fn)(void *), void *ud)
{
        struct timer *t = xcalloc(1, sizeof(*t)), **pp;

        t->deadline_ms = mono_ms() + ms;
        t->fn = fn;
        t->userdata = ud;
        if (++s->next_timer_id <= 0)
                s->next_timer_id = 1;
        t->id = s->next_timer_id;
        for (pp = &s->timers; *pp && (*pp)->deadline_ms <= t->deadline_ms; pp = &(*pp)->next)
                ;
        t->next = *pp;
        *pp = t;
        if (s->timers == t)
                timers_arm(s);
        return t->id;
}

bool http_server_cancel_timer(struct http_server *s, int id)
{
        for (struct timer **pp = &s->timers; *pp; pp = &(*pp)->next) {
                if ((*pp)->id == id) {
                        struct timer *t = *pp;
                        *pp = t->next;
                        free(t);
                        return true;
                }
        }
        return false;
}

static void on_timer(h2o_socket_t *sock, const char *err)
{
        struct http_server *s = sock->data;
        uint64_t n;

        if (read(s->timer_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
                return;
        for (;;) {
                struct timer *t = s->timers;
                if (!t || t->deadline_ms > mono_ms())
                        break;
                s->timers = t->next;
                t->fn(t->userdata);
                free(t);
        }
        timers_arm(s);
}

/* ---- posts (eventfd, any thread -> loop thread) ---- */

static void run_posts(struct http_server *s)
{
        struct post *p;

        pthread_mutex_lock(&s->lock);
        p = s->posts;
        s->posts = NULL;
        s->posts_tail = &s->posts;
        pthread_mutex_unlock(&s->lock);
        while (p) {
                struct post *next = p->next;
                p->fn(p->userdata);
                free(p);
                p = next;
        }
}

static void wake(struct http_server *s)
{
        uint64_t one = 1;
        ssize_t n = write(s->event_fd, &one, sizeof(one));
        (void)n; /* EAGAIN: counter saturated, the loop is awake anyway */
}

void http_server_post(struct http_server *s, void (*fn)(void *), void *userdata)
{
        struct post *p = xmalloc(sizeof(*p));

        p->fn = fn;
        p->userdata = userdata;
        p->next = NULL;
        pthread_mutex_lock(&s->lock);
        *s->posts_tail = p;
        s->posts_tail = &p->next;
        pthread_mutex_unlock(&s->lock);
        wake(s);
}

static void on_event(h2o_socket_t *sock, const char *err)
{
        struct http_server *s = sock->data;
        uint64_t n;

        if (read(s->event_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
                return;
        run_posts(s);
}

void http_server_stop(struct http_server *s)
{
        atomic_store(&s->stop_requested, true);
        wake(s);
}

/* ---- streams ---- */

static void stream_unwatch(struct http_stream *st)
{
        if (st->fd >= 0) {
                epoll_ctl(st->server->rdhup_ep, EPOLL_CTL_DEL, st->fd, NULL);
                st->fd = -1;
        }
}

static void stream_close_notify(struct http_stream *st)
{
        if (st->closed)
                return;
        st->closed = true;
        stream_unwatch(st);
        h2o_linklist_unlink(&st->link);
        free(st->cur.p);
        free(st->pend.p);
        st->cur = st->pend = (struct sbuf){0};
        if (st->on_close)
                st->on_close(st->userdata);
}

static void stream_flush(struct http_stream *st)
{
        h2o_iovec_t buf;
        struct sbuf t;
        h2o_send_state_t state;

        if (st->gone || st->final_sent || st->inflight)
                return;
        if (st->abort) {
                st->final_sent = st->inflight = true;
                h2o_send(st->r->req, NULL, 0, H2O_SEND_STATE_ERROR);
                return;
        }
        if (st->pend.len == 0 && !st->ending)
                return;
        t = st->cur;
        st->cur = st->pend;
        st->pend = t;
        st->pend.len = 0;
        buf = h2o_iovec_init(st->cur.p, st->cur.len);
        state = st->ending ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS;
        if (st->ending)
                st->final_sent = true;
        st->inflight = true;
        if (st->chunked) {
                h2o_iovec_t v[3];
                size_t n = 0;
                if (st->cur.len) {
                        int l = snprintf(st->chunk_hdr, sizeof(st->chunk_hdr), "%zx\r\n",
                                         st->cur.len);
                        v[n++] = h2o_iovec_init(st->chunk_hdr, (size_t)l);
                        v[n++] = buf;
                        v[n++] = st->ending ? h2o_iovec_init(H2O_STRLIT("\r\n0\r\n\r\n"))
                                            : h2o_iovec_init(H2O_STRLIT("\r\n"));
                } else if (st->ending) {
                        v[n++] = h2o_iovec_init(H2O_STRLIT("0\r\n\r\n"));
                }
                h2o_send(st->r->req, v, n, state);
                return;
        }
        h2o_send(st->r->req, &buf, st->cur.len ? 1 : 0, state);
}

static void stream_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
        struct http_stream *st = (struct http_stream *)gen;
        st->inflight = false;
        st->cur.len = 0;
        stream_flush(st);
}

static void stream_stop(h2o_generator_t *gen, h2o_req_t *req)
{
        struct http_stream *st = (struct http_stream *)gen;
        st->gone = true;
        stream_close_notify(st);
}

static void stream_dispose(void *p)
{
        struct http_stream *st = p;
        st->gone = true;
        stream_close_notify(st);
}

static void on_rdhup(h2o_socket_t *sock, const char *err)
{
        struct http_server *s = sock->data;
        struct epoll_event ev[64];
        int n = epoll_wait(s->rdhup_ep, ev, (int)ARRAY_SIZE(ev), 0);

        for (int i = 0; i < n; i++) {
                struct http_stream *st = ev[i].data.ptr;
                stream_unwatch(st);
                st->abort = true;
                stream_flush(st);
        }
}

struct http_stream *http_req_stream_start(struct http_req *r, int status, const char *content_type,
                                          void (*on_close)(void *userdata), void *userdata)
{
        h2o_req_t *req = r->req;
        struct http_stream *st;

        assert(!r->responded);
        r->responded = true;
        st = h2o_mem_alloc_shared(&req->pool, sizeof(*st), stream_dispose);
        memset(st, 0, sizeof(*st));
        st->gen.proceed = stream_proceed;
        st->gen.stop = stream_stop;
        st->r = r;
        st->server = r->server;
        st->on_close = on_close;
        st->userdata = userdata;
        st->fd = -1;
        h2o_linklist_insert(&r->server->streams, &st->link);

        if (req->version < 0x200 && req->conn->callbacks->get_socket) {
                h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
                int fd = sock ? h2o_socket_get_fd(sock) : -1;
                struct epoll_event e = {.events = EPOLLRDHUP, .data.ptr = st};
                if (fd >= 0 && epoll_ctl(r->server->rdhup_ep, EPOLL_CTL_ADD, fd, &e) == 0)
                        st->fd = fd;
        }

        req->res.status = status;
        req->res.reason = reason_phrase(status);
        if (content_type)
                h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                               h2o_strdup(&req->pool, content_type, SIZE_MAX).base,
                               strlen(content_type));
        if (req->version == 0x101) {
                /* our own framing keeps h2o's chunked filter out (see struct http_stream) */
                st->chunked = true;
                h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_TRANSFER_ENCODING, NULL,
                               H2O_STRLIT("chunked"));
        }
        h2o_start_response(req, &st->gen);
        /* Send the headers now: clients (kubectl watch) wait for them before the first event. */
        st->inflight = true;
        h2o_send(req, NULL, 0, H2O_SEND_STATE_IN_PROGRESS);
        return st;
}

static void sbuf_append(struct sbuf *b, const char *data, size_t len)
{
        if (b->len + len > b->cap) {
                b->cap = MAX(b->cap * 2, b->len + len);
                b->p = xrealloc(b->p, b->cap);
        }
        memcpy(b->p + b->len, data, len);
        b->len += len;
}

void http_stream_write(struct http_stream *st, const char *data, size_t len)
{
        if (st->closed || st->gone || st->abort || st->ending || len == 0)
                return;
        sbuf_append(&st->pend, data, len);
        stream_flush(st);
}

size_t http_stream_pending(struct http_stream *st)
{
        return st->pend.len + (st->inflight ? st->cur.len : 0);
}

void http_stream_end(struct http_stream *st)
{
        if (st->closed || st->gone || st->ending)
                return;
        st->ending = true;
        stream_flush(st);
}

/* ---- requests ---- */

const char *http_req_method(struct http_req *r)
{
        h2o_iovec_t m = r->req->method;
        return pool_strndup(r->req, m.base, m.len);
}

static size_t path_len(struct http_req *r)
{
        h2o_iovec_t p = r->req->path;
        const char *q = memchr(p.base, '?', p.len);
        return q ? (size_t)(q - p.base) : p.len;
}

const char *http_req_path(struct http_req *r)
{
        if (!r->path) {
                size_t len = path_len(r);
                r->path = h2o_mem_alloc_pool(&r->req->pool, len + 1);
                http_url_decode_into(r->path, r->req->path.base, len, false);
        }
        return r->path;
}

const char *http_req_query_raw(struct http_req *r)
{
        if (!r->query_raw) {
                h2o_iovec_t p = r->req->path;
                size_t len = path_len(r);
                if (len < p.len)
                        r->query_raw = pool_strndup(r->req, p.base + len + 1, p.len - len - 1);
                else
                        r->query_raw = pool_strndup(r->req, "", 0);
        }
        return r->query_raw;
}

const char *http_req_query(struct http_req *r, const char *name)
{
        const char *raw = http_req_query_raw(r), *v;
        size_t vlen;
        char *d;

        if (!query_find(raw, strlen(raw), name, &v, &vlen))
                return NULL;
        d = h2o_mem_alloc_pool(&r->req->pool, vlen + 1);
        http_url_decode_into(d, v, vlen, true);
        return d;
}

const char *http_req_header(struct http_req *r, const char *name)
{
        size_t len = strlen(name);
        char lower[128];
        const h2o_token_t *tok;
        ssize_t i;

        if (len >= sizeof(lower))
                return NULL;
        for (size_t k = 0; k <= len; k++)
                lower[k] = (char)((name[k] >= 'A' && name[k] <= 'Z') ? name[k] + 32 : name[k]);
        tok = h2o_lookup_token(lower, len);
        i = tok ? h2o_find_header(&r->req->headers, tok, -1)
                : h2o_find_header_by_str(&r->req->headers, lower, len, -1);
        if (i < 0)
                return NULL;
        return pool_strndup(r->req, r->req->headers.entries[i].value.base,
                            r->req->headers.entries[i].value.len);
}

const char *http_req_body(struct http_req *r, size_t *ret_len)
{
        if (!r->body)
                r->body = pool_strndup(r->req, r->req->entity.base ? r->req->entity.base : "",
                                       r->req->entity.base ? r->req->entity.len : 0);
        if (ret_len)
                *ret_len = r->req->entity.base ? r->req->entity.len : 0;
        return r->body;
}

static SSL *req_ssl(struct http_req *r)
{
        h2o_conn_t *conn = r->req->conn;
        h2o_socket_t *sock = conn->callbacks->get_socket ? conn->callbacks->get_socket(conn) : NULL;
        return sock && sock->ssl ? ((struct h2o225_socket_ssl *)sock->ssl)->ossl : NULL;
}

static void req_auth(struct http_req *r)
{
        SSL *ssl;
        X509 *cert;
        X509_NAME *n;
        int idx;
        char cn[256];
        struct sbuf g = {0};

        if (r->auth_done)
                return;
        r->auth_done = true;
        ssl = req_ssl(r);
        if (!ssl)
                return;
        cert = SSL_get0_peer_certificate(ssl);
        if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
                return;
        n = X509_get_subject_name(cert);
        if (X509_NAME_get_text_by_NID(n, NID_commonName, cn, sizeof(cn)) > 0)
                r->user = pool_strndup(r->req, cn, strlen(cn));
        idx = -1;
        while ((idx = X509_NAME_get_index_by_NID(n, NID_organizationName, idx)) >= 0) {
                ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, idx));
                if (g.len)
                        sbuf_append(&g, ",", 1);
                sbuf_append(&g, (const char *)ASN1_STRING_get0_data(d),
                            (size_t)ASN1_STRING_length(d));
        }
        if (g.len)
                r->groups = pool_strndup(r->req, g.p, strnlen(g.p, g.len));
        free(g.p);
}

const char *http_req_user(struct http_req *r)
{
        req_auth(r);
        return r->user;
}

const char *http_req_groups(struct http_req *r)
{
        req_auth(r);
        return r->groups;
}

const char *http_req_remote(struct http_req *r)
{
        struct sockaddr_storage ss;
        char host[INET6_ADDRSTRLEN] = "?", buf[INET6_ADDRSTRLEN + 16];
        int port = 0;

        if (r->remote)
                return r->remote;
        if (r->req->conn->callbacks->get_peername &&
            r->req->conn->callbacks->get_peername(r->req->conn, (struct sockaddr *)&ss) > 0) {
                if (ss.ss_family == AF_INET) {
                        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
                        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
                        port = ntohs(in->sin_port);
                } else if (ss.ss_family == AF_INET6) {
                        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
                        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
                        port = ntohs(in6->sin6_port);
                }
        }
        snprintf(buf, sizeof(buf), "%s:%d", host, port);
        r->remote = pool_strndup(r->req, buf, strlen(buf));
        return r->remote;
}

void http_req_add_header(struct http_req *r, const char *name, const char *value)
{
        h2o_req_t *req = r->req;
        size_t nlen = strlen(name), vlen = strlen(value);
        char *n = pool_strndup(req, name, nlen), *v = pool_strndup(req, value, vlen);

        for (size_t i = 0; i < nlen; i++)
                if (n[i] >= 'A' && n[i] <= 'Z')
                        n[i] = (char)(n[i] + 32);
        h2o_add_header_by_str(&req->pool, &req->res.headers, n, nlen, 1, NULL, v, vlen);
}

void http_req_respond(struct http_req *r, int status, const char *content_type, const char *body,
                      size_t len)
{
        h2o_req_t *req = r->req;

        assert(!r->responded);
        r->responded = true;
        req->res.status = status;
        req->res.reason = reason_phrase(status);
        if (content_type)
                h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                               h2o_strdup(&req->pool, content_type, SIZE_MAX).base,
                               strlen(content_type));
        if (!body)
                len = 0;
        req->res.content_length = len;
        h2o_send_inline(req, body ? body : "", len);
}

void *http_req_native(struct http_req *r)
{
        return r->req;
}

void http_req_set_responded(struct http_req *r)
{
        assert(!r->responded);
        r->responded = true;
}

void http_req_defer(struct http_req *r)
{
        assert(!r->responded);
        r->responded = true; /* no automatic 500 when the handler returns */
}

void http_req_resume(struct http_req *r)
{
        assert(r->responded);
        r->responded = false;
        if (r->gone)
                r->gone->fn = NULL;
}

static void req_gone_dispose(void *p)
{
        struct req_gone *g = p;
        if (g->fn)
                g->fn(g->userdata);
}

void http_req_on_gone(struct http_req *r, void (*fn)(void *), void *userdata)
{
        if (!r->gone)
                r->gone = h2o_mem_alloc_shared(&r->req->pool, sizeof(*r->gone), req_gone_dispose);
        r->gone->fn = fn;
        r->gone->userdata = userdata;
}

bool http_server_is_stopping(struct http_server *s)
{
        return atomic_load(&s->stop_requested);
}

struct http_server *http_req_server(struct http_req *r)
{
        return r->server;
}

void *http_server_ws_list(struct http_server *s)
{
        return &s->websockets;
}

void *http_server_raw_list(struct http_server *s)
{
        return &s->raws;
}

void *http_server_evloop(struct http_server *s)
{
        return s->loop;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
        struct http_server *s = ((struct srv_handler *)self)->server;
        struct http_req *r = h2o_mem_alloc_pool(&req->pool, sizeof(*r));

        memset(r, 0, sizeof(*r));
        r->req = req;
        r->server = s;
        s->fn(r, s->userdata);
        if (!r->responded) {
                static const char msg[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
                                          "\"Failure\",\"message\":\"no response\",\"code\":500}\n";
                http_req_respond(r, 500, "application/json", msg, sizeof(msg) - 1);
        }
        return 0;
}

/* ---- server ---- */

static void on_accept(h2o_socket_t *listener, const char *err)
{
        struct http_server *s = listener->data;
        h2o_socket_t *sock;

        if (err)
                return;
        if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
                return;
        h2o_accept(&s->accept_ctx, sock);
}

static int ssl_error(struct error *err, const char *what, const char *file)
{
        char buf[256] = "";
        unsigned long e = ERR_peek_last_error();
        if (e)
                ERR_error_string_n(e, buf, sizeof(buf));
        ERR_clear_error();
        return error_set(err, -EINVAL, "%s %s: %s", what, file ? file : "", buf);
}

static int setup_tls(struct http_server *s, const struct http_server_config *cfg, struct error *err)
{
        SSL_CTX *c = SSL_CTX_new(TLS_server_method());

        s->ssl = c;
        SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
        SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
        if (SSL_CTX_use_certificate_chain_file(c, cfg->cert_file) != 1)
                return ssl_error(err, "loading certificate", cfg->cert_file);
        if (!cfg->key_file || SSL_CTX_use_PrivateKey_file(c, cfg->key_file, SSL_FILETYPE_PEM) != 1)
                return ssl_error(err, "loading key", cfg->key_file);
        if (SSL_CTX_check_private_key(c) != 1)
                return ssl_error(err, "key does not match certificate", cfg->key_file);
        if (cfg->client_ca_file) {
                STACK_OF(X509_NAME) * names;
                if (SSL_CTX_load_verify_locations(c, cfg->client_ca_file, NULL) != 1)
                        return ssl_error(err, "loading client CA", cfg->client_ca_file);
                names = SSL_load_client_CA_file(cfg->client_ca_file);
                if (!names)
                        return ssl_error(err, "loading client CA names", cfg->client_ca_file);
                SSL_CTX_set_client_CA_list(c, names);
                /* optional client certificates: no SSL_VERIFY_FAIL_IF_NO_PEER_CERT */
                SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
        }
        SSL_CTX_set_session_id_context(c, (const unsigned char *)"timonel", 7);
        h2o_ssl_register_alpn_protocols(c, h2o_http2_alpn_protocols);
        s->accept_ctx.ssl_ctx = c;
        return 0;
}

static int open_listener(struct http_server *s, const struct http_server_config *cfg,
                         struct error *err)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
        socklen_t slen = sizeof(sa);
        const char *addr = cfg->bind_address && *cfg->bind_address ? cfg->bind_address : "0.0.0.0";
        _cleanup_close_ int fd = -1;
        int one = 1;

        if (cfg->port < 0 || cfg->port > 65535)
                return error_set(err, -EINVAL, "bad port %d", cfg->port);
        if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
                return error_set(err, -EINVAL, "bad bind address \"%s\" (IPv4 expected)", addr);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return error_set(err, -errno, "socket: %s", strerror(errno));
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return error_set(err, -errno, "bind %s:%d: %s", addr, cfg->port, strerror(errno));
        if (listen(fd, 1024) < 0)
                return error_set(err, -errno, "listen %s:%d: %s", addr, cfg->port, strerror(errno));
        if (getsockname(fd, (struct sockaddr *)&sa, &slen) < 0)
                return error_set(err, -errno, "getsockname: %s", strerror(errno));
        s->port = ntohs(sa.sin_port);
        s->listener = h2o_evloop_socket_create(s->loop, TAKE_FD(fd), H2O_SOCKET_FLAG_DONT_READ);
        s->listener->data = s;
        h2o_socket_read_start(s->listener, on_accept);
        return 0;
}

static h2o_socket_t *watch_fd(struct http_server *s, int fd, h2o_socket_cb cb)
{
        h2o_socket_t *sock = h2o_evloop_socket_create(s->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
        sock->data = s;
        h2o_socket_read_start(sock, cb);
        return sock;
}

int http_server_new(const struct http_server_config *cfg, http_handler_fn fn, void *userdata,
                    struct http_server **ret, struct error *err)
{
        struct http_server *s = xcalloc(1, sizeof(*s));
        h2o_hostconf_t *host;
        h2o_pathconf_t *pc;
        struct srv_handler *h;
        int r;

        signal(SIGPIPE, SIG_IGN);
        s->fn = fn;
        s->userdata = userdata;
        s->rdhup_ep = s->event_fd = s->timer_fd = -1;
        pthread_mutex_init(&s->lock, NULL);
        s->posts_tail = &s->posts;
        h2o_linklist_init_anchor(&s->streams);
        h2o_linklist_init_anchor(&s->websockets);
        h2o_linklist_init_anchor(&s->raws);

        h2o_config_init(&s->config);
        s->config.server_name = h2o_iovec_init(H2O_STRLIT("timonel"));
        s->config.max_request_entity_size = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
        /* HTTP/1: the request head (and keep-alive idle time) is bounded (slowloris); a streaming
         * response is not cut. h2: the idle timeout only runs while no stream is open. */
        s->config.http1.req_timeout = REQ_HEAD_TIMEOUT_MS;
        s->config.http2.idle_timeout = IDLE_TIMEOUT_MS;
        host = h2o_config_register_host(&s->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
        pc = h2o_config_register_path(host, "/", 0);
        h = (struct srv_handler *)h2o_create_handler(pc, sizeof(*h));
        h->super.on_req = on_req;
        h->server = s;

        s->loop = h2o_evloop_create();
        h2o_context_init(&s->ctx, s->loop, &s->config);
        s->accept_ctx.ctx = &s->ctx;
        s->accept_ctx.hosts = s->config.hosts;

        if (cfg->cert_file) {
                r = setup_tls(s, cfg, err);
                if (r < 0)
                        goto fail;
        }
        r = open_listener(s, cfg, err);
        if (r < 0)
                goto fail;

        s->rdhup_ep = epoll_create1(EPOLL_CLOEXEC);
        s->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (s->rdhup_ep < 0 || s->event_fd < 0 || s->timer_fd < 0) {
                r = error_set(err, -errno, "epoll/eventfd/timerfd: %s", strerror(errno));
                goto fail;
        }
        s->rdhup_sock = watch_fd(s, s->rdhup_ep, on_rdhup);
        s->event_sock = watch_fd(s, s->event_fd, on_event);
        s->timer_sock = watch_fd(s, s->timer_fd, on_timer);
        *ret = s;
        return 0;
fail:
        http_server_free(s);
        return r;
}

int http_server_port(struct http_server *s)
{
        return s->port;
}

static void close_sock(h2o_socket_t **sock)
{
        if (*sock) {
                h2o_socket_read_stop(*sock);
                h2o_socket_close(*sock); /* closes the fd */
                *sock = NULL;
        }
}

static bool conns_empty(struct http_server *s)
{
        return h2o_linklist_is_empty(&s->ctx.http1._conns) &&
               h2o_linklist_is_empty(&s->ctx.http2._conns);
}

static void shutdown_conns(struct http_server *s)
{
        h2o_linklist_t *l;

        for (l = s->ctx.http1._conns.next; l != &s->ctx.http1._conns; l = l->next) {
                struct h2o225_http1_conn *c =
                        H2O_STRUCT_FROM_MEMBER(struct h2o225_http1_conn, _conns, l);
                if (c->super.ctx == &s->ctx && c->sock)
                        shutdown(h2o_socket_get_fd(c->sock), SHUT_RDWR);
        }
        for (l = s->ctx.http2._conns.next; l != &s->ctx.http2._conns; l = l->next) {
                struct h2o225_http2_conn *c =
                        H2O_STRUCT_FROM_MEMBER(struct h2o225_http2_conn, _conns, l);
                if (c->super.ctx == &s->ctx && c->sock)
                        shutdown(h2o_socket_get_fd(c->sock), SHUT_RDWR);
        }
}

/* Loop thread, after the loop ended: stop accepting, end every stream (on_close), close the
 * connections. */
static void server_shutdown(struct http_server *s)
{
        uint64_t deadline = mono_ms() + SHUTDOWN_GRACE_MS;
        h2o_linklist_t *l;

        if (s->shut_down)
                return;
        s->shut_down = true;
        close_sock(&s->listener);
        http_ws_shutdown_all(s);
        http_raw_shutdown_all(s);
        /* Aborting a stream may dispose its request at once (an HTTP/1.1 connection closes),
         * which frees the stream and unlinks it: rescan from the head after each abort. */
        for (l = s->streams.next; l != &s->streams;) {
                struct http_stream *st = H2O_STRUCT_FROM_MEMBER(struct http_stream, link, l);
                if (st->abort) {
                        l = l->next;
                        continue;
                }
                st->abort = true;
                stream_flush(st);
                l = s->streams.next;
        }
        /* no h2o_context_request_shutdown(): its GOAWAY would not be flushed before the
         * shutdown() below, and it leaves a timer linked that h2o_context_dispose() trips on */
        shutdown_conns(s);
        while ((!conns_empty(s) || !h2o_linklist_is_empty(&s->streams)) && mono_ms() < deadline) {
                h2o_evloop_run(s->loop, 10);
                shutdown_conns(s);
        }
        while (!h2o_linklist_is_empty(&s->streams)) {
                struct http_stream *st =
                        H2O_STRUCT_FROM_MEMBER(struct http_stream, link, s->streams.next);
                st->gone = true; /* no more h2o calls on it */
                stream_close_notify(st);
        }
}

/* h2o keeps freed socket buffers in a per-thread cache that is lost when the thread exits;
 * empty it when the loop ends (a cache, so this is always safe). */
static void drain_buffer_cache(void)
{
        h2o_mem_recycle_t *a = &h2o_socket_buffer_prototype.allocator;
        while (a->_link) {
                void *c = a->_link; /* private chunk type: {struct chunk *next;} */
                a->_link = *(void **)c;
                a->cnt--;
                free(c);
        }
}

int http_server_run(struct http_server *s)
{
        while (!atomic_load(&s->stop_requested))
                h2o_evloop_run(s->loop, INT32_MAX);
        server_shutdown(s);
        drain_buffer_cache();
        return 0;
}

static bool timeout_idle(h2o_timeout_t *t)
{
        return h2o_linklist_is_empty(&t->_entries);
}

void http_server_free(struct http_server *s)
{
        bool idle;

        if (!s)
                return;
        if (s->loop)
                server_shutdown(s);
        run_posts(s);
        while (s->timers) {
                struct timer *t = s->timers;
                s->timers = t->next;
                free(t);
        }
        /* the fds are owned by their h2o socket once wrapped */
        if (!s->rdhup_sock)
                closep(&s->rdhup_ep);
        if (!s->event_sock)
                closep(&s->event_fd);
        if (!s->timer_sock)
                closep(&s->timer_fd);
        if (s->loop) {
                close_sock(&s->rdhup_sock);
                close_sock(&s->event_sock);
                close_sock(&s->timer_sock);
                /* h2o asserts that no connection timer is pending when the context goes: if a
                 * connection survived the shutdown grace period, leak the loop rather than
                 * crash. */
                idle = conns_empty(s) && timeout_idle(&s->ctx.zero_timeout) &&
                       timeout_idle(&s->ctx.one_sec_timeout) &&
                       timeout_idle(&s->ctx.hundred_ms_timeout) &&
                       timeout_idle(&s->ctx.handshake_timeout) &&
                       timeout_idle(&s->ctx.http1.req_timeout) &&
                       timeout_idle(&s->ctx.http2.idle_timeout) &&
                       timeout_idle(&s->ctx.http2.graceful_shutdown_timeout) &&
                       timeout_idle(&s->ctx.proxy.io_timeout);
                if (!idle)
                        return;
                h2o_evloop_run(s->loop, 0); /* reap the closed sockets */
                h2o_multithread_queue_t *queue = s->ctx.queue;
                int ep = ((struct h2o225_evloop_epoll *)s->loop)->ep;
                h2o_context_dispose(&s->ctx);
                h2o_evloop_destroy(s->loop);
                /* 2.2.5's evloop destroy_queue() and evloop_destroy() free neither of these */
                free(queue);
                close(ep);
        }
        h2o_config_dispose(&s->config);
        if (s->ssl)
                SSL_CTX_free(s->ssl);
        pthread_mutex_destroy(&s->lock);
        free(s);
}
