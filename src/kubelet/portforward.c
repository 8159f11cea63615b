/* portforward.c — kubectl port-forward served by the kubelet; see portforward.h. Loop thread:
 * one struct pfsess per SPDY connection, one struct pfconn per forwarded connection (requestID),
 * whose TCP socket is an http/upgrade.h raw fd on the same loop. */
#include "kubelet/portforward.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/strv.h"
#include "http/upgrade.h"
#include "http/websocket.h"
#include "kubelet/exec.h"
#include "kubelet/spdyconn.h"

#define COMP "kubelet"
#define PF_OUT_HIGH (4u << 20)
#define PF_MAX_CONNS 1024

struct pfconn {
        struct pfconn *next;
        struct pfsess *s;
        char *request_id;
        int port;
        uint32_t err_id, data_id;
        struct http_raw *sock; /* NULL until connected / once closed */
        bool connected, failed, done;
};

struct pfsess {
        struct kspdy *sp; /* NULL once gone */
        struct http_server *srv;
        char *netns; /* NULL: host network */
        char *pod_desc;
        struct pfconn *conns;
        size_t n_conns;
        int refs; /* the connection + each open socket */
};

static void sess_unref(struct pfsess *s)
{
        if (--s->refs > 0)
                return;
        while (s->conns) {
                struct pfconn *c = s->conns;
                s->conns = c->next;
                free(c->request_id);
                free(c);
        }
        free(s->netns);
        free(s->pod_desc);
        free(s);
}

struct dial {
        const char *netns;
        int port;
        int fd;
        int err;
        char msg[256];
};

static void *dial_main(void *ud)
{
        struct dial *d = ud;
        if (d->netns) {
                int nfd = open(d->netns, O_RDONLY | O_CLOEXEC);
                if (nfd < 0 || setns(nfd, CLONE_NEWNET) < 0) {
                        d->err = errno;
                        snprintf(d->msg, sizeof(d->msg), "enter network namespace %s: %s", d->netns,
                                 strerror(errno));
                        if (nfd >= 0)
                                close(nfd);
                        return NULL;
                }
                close(nfd);
        }
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                d->err = errno;
                snprintf(d->msg, sizeof(d->msg), "socket: %s", strerror(errno));
                return NULL;
        }
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)d->port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                d->err = errno;
                snprintf(d->msg, sizeof(d->msg), "dial tcp4 127.0.0.1:%d: connect: %s", d->port,
                         strerror(errno));
                close(fd);
                return NULL;
        }
        d->fd = fd;
        return NULL;
}

int kubelet_portforward_connect(const char *netns_path, int port, struct error *err)
{
        struct dial d = {.netns = netns_path, .port = port, .fd = -1};
        pthread_t t;
        /* a thread of its own: setns(CLONE_NEWNET) changes only the calling thread, which then
         * ends (the socket keeps the namespace it was created in) */
        int r = pthread_create(&t, NULL, dial_main, &d);
        if (r != 0)
                return error_set(err, -r, "port-forward: thread: %s", strerror(r));
        pthread_join(t, NULL);
        if (d.fd < 0)
                return error_set(err, -(d.err ? d.err : EIO), "%s", d.msg);
        return d.fd;
}

static struct pfconn *find_req(struct pfsess *s, const char *rid)
{
        for (struct pfconn *c = s->conns; c; c = c->next)
                if (!strcmp(c->request_id, rid))
                        return c;
        return NULL;
}

static struct pfconn *find_stream(struct pfsess *s, uint32_t id)
{
        for (struct pfconn *c = s->conns; c; c = c->next)
                if (c->data_id == id || c->err_id == id)
                        return c;
        return NULL;
}

static void conn_end(struct pfconn *c, const char *errmsg)
{
        struct pfsess *s = c->s;
        if (c->done)
                return;
        c->done = true;
        if (s->sp) {
                if (c->data_id)
                        kspdy_data(s->sp, c->data_id, NULL, 0, true);
                if (c->err_id)
                        kspdy_data(s->sp, c->err_id, errmsg, errmsg ? strlen(errmsg) : 0, true);
        }
        if (c->sock)
                http_raw_close(c->sock);
}

/* Forget a finished connection (its stream ids are then unknown: late frames are ignored). */
static void conn_forget(struct pfconn *c)
{
        struct pfsess *s = c->s;
        for (struct pfconn **pp = &s->conns; *pp; pp = &(*pp)->next) {
                if (*pp == c) {
                        *pp = c->next;
                        s->n_conns--;
                        free(c->request_id);
                        free(c);
                        return;
                }
        }
}

static void on_sock_data(void *ud, const uint8_t *data, size_t len)
{
        struct pfconn *c = ud;
        struct pfsess *s = c->s;
        if (s->sp && c->data_id && !c->done)
                kspdy_data(s->sp, c->data_id, data, len, false);
        if (s->sp && kspdy_pending(s->sp) > PF_OUT_HIGH && c->sock)
                http_raw_pause(c->sock, true); /* resumed when the client sends more */
}

static void on_sock_close(void *ud)
{
        struct pfconn *c = ud;
        struct pfsess *s = c->s;
        c->sock = NULL;
        conn_end(c, NULL);
        conn_forget(c);
        sess_unref(s);
}

static void try_connect(struct pfsess *s, struct pfconn *c)
{
        if (!c->data_id || !c->err_id || c->connected || c->failed)
                return;
        struct error err = {0};
        int fd = kubelet_portforward_connect(s->netns, c->port, &err);
        if (fd < 0) {
                c->failed = true;
                _cleanup_free_ char *m = xasprintf("error forwarding port %d to pod %s: %s",
                                                   c->port, s->pod_desc, error_msg(&err));
                conn_end(c, m);
                conn_forget(c);
                return;
        }
        c->connected = true;
        s->refs++;
        c->sock = http_raw_from_fd(s->srv, fd, on_sock_data, on_sock_close, c);
}

static void on_stream(void *ud, uint32_t id, const struct spdy_frame *syn)
{
        struct pfsess *s = ud;
        const char *type = spdy_frame_header(syn, "streamtype");
        const char *port = spdy_frame_header(syn, "port");
        const char *rid = spdy_frame_header(syn, "requestid");
        char *end = NULL;
        long p = port ? strtol(port, &end, 10) : 0;
        if (!type || (strcmp(type, "data") && strcmp(type, "error")) || !port || *end || p < 1 ||
            p > 65535) {
                kspdy_rst(s->sp, id, SPDY_RST_PROTOCOL_ERROR);
                return;
        }
        if (!rid)
                rid = ""; /* very old clients: one request per port */
        struct pfconn *c = find_req(s, rid);
        if (!c) {
                if (s->n_conns >= PF_MAX_CONNS) {
                        kspdy_rst(s->sp, id, SPDY_RST_REFUSED_STREAM);
                        return;
                }
                c = xcalloc(1, sizeof(*c));
                c->s = s;
                c->request_id = xstrdup(rid);
                c->port = (int)p;
                c->next = s->conns;
                s->conns = c;
                s->n_conns++;
        }
        bool data = !strcmp(type, "data");
        if ((data && c->data_id) || (!data && c->err_id)) {
                kspdy_rst(s->sp, id, SPDY_RST_PROTOCOL_ERROR);
                return;
        }
        if (data)
                c->data_id = id;
        else
                c->err_id = id;
        kspdy_reply(s->sp, id, false);
        try_connect(s, c);
}

static void on_data(void *ud, uint32_t id, const uint8_t *data, size_t len)
{
        struct pfsess *s = ud;
        struct pfconn *c = find_stream(s, id);
        if (!c || id != c->data_id || !c->sock || c->done)
                return;
        http_raw_write(c->sock, data, len);
        http_raw_pause(c->sock, false);
}

static void on_fin(void *ud, uint32_t id)
{
        struct pfsess *s = ud;
        struct pfconn *c = find_stream(s, id);
        if (c && id == c->data_id && c->sock)
                http_raw_shutdown_write(c->sock);
}

static void on_reset(void *ud, uint32_t id)
{
        struct pfsess *s = ud;
        struct pfconn *c = find_stream(s, id);
        if (c && c->sock)
                http_raw_abort(c->sock);
}

static void on_close(void *ud)
{
        struct pfsess *s = ud;
        s->sp = NULL;
        for (struct pfconn *c = s->conns; c; c = c->next)
                if (c->sock)
                        http_raw_abort(c->sock);
        sess_unref(s);
}

static const struct kspdy_ops pf_ops = {
        .on_stream = on_stream,
        .on_data = on_data,
        .on_fin = on_fin,
        .on_reset = on_reset,
        .on_close = on_close,
};

static void respond_text(struct http_req *req, int status, const char *msg)
{
        http_req_respond(req, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* ---- WebSocket port-forward (v4.channel.k8s.io, ?ports=A,B: the Python client) ----
 * Port i uses channel 2i for data and 2i+1 for errors; the first message on each carries the
 * port as 2 bytes little-endian. One TCP connection per port for the WebSocket's life; the
 * WebSocket closes when every connection has ended. */

#define WSPF_MAX_PORTS 16

struct wspf;

struct wspf_port {
        struct wspf *w;
        int idx, port;
        struct http_raw *sock; /* NULL when not connected / closed */
};

struct wspf {
        struct http_ws *ws; /* NULL once closed */
        struct http_server *srv;
        struct wspf_port ports[WSPF_MAX_PORTS];
        int n_ports, open;
        int refs; /* the WebSocket + each socket */
};

static void wspf_unref(struct wspf *w)
{
        if (--w->refs == 0)
                free(w);
}

static void wspf_send(struct wspf *w, int ch, const void *data, size_t len)
{
        if (!w->ws)
                return;
        uint8_t *m = xmalloc(len + 1);
        m[0] = (uint8_t)ch;
        memcpy(m + 1, data, len);
        http_ws_send(w->ws, HTTP_WS_BINARY, m, len + 1);
        free(m);
}

static void wspf_sock_data(void *ud, const uint8_t *data, size_t len)
{
        struct wspf_port *p = ud;
        wspf_send(p->w, 2 * p->idx, data, len);
}

static void wspf_sock_close(void *ud)
{
        struct wspf_port *p = ud;
        struct wspf *w = p->w;
        p->sock = NULL;
        if (--w->open == 0 && w->ws)
                http_ws_close(w->ws, 1000, NULL);
        wspf_unref(w);
}

static void wspf_msg(void *ud, int opcode, const uint8_t *data, size_t len)
{
        struct wspf *w = ud;
        if (len < 1 || data[0] % 2 || data[0] / 2 >= w->n_ports)
                return; /* only data channels carry client bytes */
        struct wspf_port *p = &w->ports[data[0] / 2];
        if (p->sock && len > 1)
                http_raw_write(p->sock, data + 1, len - 1);
}

static void wspf_ws_close(void *ud)
{
        struct wspf *w = ud;
        w->ws = NULL;
        for (int i = 0; i < w->n_ports; i++)
                if (w->ports[i].sock)
                        http_raw_abort(w->ports[i].sock);
        wspf_unref(w);
}

static void serve_ws(struct http_req *req, const char *netns, const char *pod_desc)
{
        static const char *const ours[] = {"v4.channel.k8s.io", "portforward.k8s.io", NULL};
        const char *proto =
                kspdy_pick_version(http_req_header_all(req, "sec-websocket-protocol"), ours);
        _cleanup_strv_free_ char **vals = kubelet_query_all(http_req_query_raw(req), "ports");
        struct wspf *w = xcalloc(1, sizeof(*w));
        for (size_t i = 0; vals[i]; i++) {
                char *save = NULL;
                for (char *t = strtok_r(vals[i], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                        char *end;
                        long v = strtol(t, &end, 10);
                        if (*end || v < 1 || v > 65535 || w->n_ports >= WSPF_MAX_PORTS) {
                                free(w);
                                respond_text(req, 400, "invalid port");
                                return;
                        }
                        w->ports[w->n_ports].w = w;
                        w->ports[w->n_ports].idx = w->n_ports;
                        w->ports[w->n_ports].port = (int)v;
                        w->n_ports++;
                }
        }
        if (!w->n_ports) {
                free(w);
                respond_text(req, 400, "query parameter \"port\" is required");
                return;
        }
        w->srv = http_req_server(req);
        w->refs = 1;
        w->ws = http_req_websocket_accept(req, proto, wspf_msg, wspf_ws_close, w);
        if (!w->ws) {
                free(w);
                respond_text(req, 400, "bad handshake");
                return;
        }
        for (int i = 0; i < w->n_ports; i++) {
                struct wspf_port *p = &w->ports[i];
                uint8_t pb[2] = {(uint8_t)(p->port & 0xff), (uint8_t)(p->port >> 8)};
                wspf_send(w, 2 * i, pb, 2);
                wspf_send(w, 2 * i + 1, pb, 2);
                struct error err = {0};
                int fd = kubelet_portforward_connect(netns, p->port, &err);
                if (fd < 0) {
                        _cleanup_free_ char *m = xasprintf("error forwarding port %d to pod %s: %s",
                                                           p->port, pod_desc, error_msg(&err));
                        wspf_send(w, 2 * i + 1, m, strlen(m));
                        continue;
                }
                w->refs++;
                w->open++;
                p->sock = http_raw_from_fd(w->srv, fd, wspf_sock_data, wspf_sock_close, p);
        }
        if (!w->open)
                http_ws_close(w->ws, 1000, NULL);
}

void kubelet_portforward_serve(struct http_req *req, struct podsync *ps, const char *rest)
{
        char ns[254], pod[254];
        if (!kubelet_split_target(rest, ns, sizeof(ns), pod, sizeof(pod), NULL, 0)) {
                respond_text(req, 404, "404 page not found");
                return;
        }
        const char *upgrade = http_req_upgrade_header(req);
        bool ws = http_req_is_websocket(req);
        if (!ws && (!upgrade || strcasecmp(upgrade, "SPDY/3.1"))) {
                respond_text(req, 400, "Upgrade request required");
                return;
        }
        static const char *const ours[] = {"portforward.k8s.io", NULL};
        const char *v =
                kspdy_pick_version(http_req_header_all(req, "x-stream-protocol-version"), ours);
        if (!ws && !v) {
                respond_text(req, 403, "unable to upgrade: no supported stream protocol");
                return;
        }
        _cleanup_free_ char *uid = NULL;
        struct error err = {0};
        int r = podsync_stream_lookup(ps, ns, pod, NULL, &uid, NULL, &err);
        if (r < 0) {
                respond_text(req, r == -ENOENT ? 404 : 400, error_msg(&err));
                return;
        }
        _cleanup_free_ char *netns = NULL;
        r = runtime_sandbox_netns(podsync_get_runtime(ps), uid, &netns, &err);
        if (r < 0) {
                respond_text(req, 400, error_msg(&err));
                return;
        }
        if (ws) {
                _cleanup_free_ char *desc = xasprintf("%s_%s, uid %s", pod, ns, uid);
                serve_ws(req, netns, desc);
                return;
        }
        struct pfsess *s = xcalloc(1, sizeof(*s));
        s->srv = http_req_server(req);
        s->netns = TAKE_PTR(netns);
        s->pod_desc = xasprintf("%s_%s, uid %s", pod, ns, uid);
        s->refs = 1;
        s->sp = kspdy_upgrade(req, v, &pf_ops, s);
        if (!s->sp) {
                sess_unref(s);
                respond_text(req, 400, "unable to upgrade connection");
        }
}
