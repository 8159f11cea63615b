/* upgrade.c — raw connections over h2o 2.2.5 sockets; see upgrade.h.
 *
 * One write is in flight at a time (h2o_socket_write keeps the buffer pointers until its
 * callback): data queued meanwhile collects in `pending` and goes out with the next write.
 * Reference counting keeps the struct alive while a callback or the deferred on_close still
 * points at it. */
#include <fcntl.h>
#include <h2o.h>
#include <h2o/http1.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "http/upgrade.h"
#include "http/websocket.h"

#define LINGER_MS 2000

struct http_raw {
        h2o_socket_t *sock; /* NULL before the upgrade completed and once finished */
        struct http_server *server;
        h2o_linklist_t link;
        http_raw_data_fn on_data;
        void (*on_close)(void *);
        void *ud;
        int refs;
        char *pending, *inflight;
        size_t pending_len, pending_cap, inflight_len;
        bool writing, closing, shut_wr, shut_done, paused, reading, finished, notified;
        bool upgrading, redeliver, lingering;
        int linger_timer; /* pending linger_timeout (holds a ref), or 0 */
};

static void raw_unref(struct http_raw *c)
{
        if (--c->refs == 0) {
                free(c->pending);
                free(c->inflight);
                free(c);
        }
}

static void raw_notify(void *ud)
{
        struct http_raw *c = ud;
        if (!c->notified) {
                c->notified = true;
                if (c->on_close)
                        c->on_close(c->ud);
        }
        raw_unref(c);
}

/* Close the socket now; on_close follows from a timer (never inside the caller's call), or at
 * once when the server shuts down (timers no longer run then). */
static void raw_finish_how(struct http_raw *c, bool now)
{
        if (c->finished)
                return;
        c->finished = true;
        if (c->linger_timer && http_server_cancel_timer(c->server, c->linger_timer))
                c->refs--; /* the timer's; the connection's ref keeps c alive below */
        c->linger_timer = 0;
        if (c->sock) {
                c->sock->data = NULL;
                h2o_socket_close(c->sock);
                c->sock = NULL;
        }
        h2o_linklist_unlink(&c->link);
        /* the connection's reference moves to the notification */
        if (now)
                raw_notify(c);
        else
                http_server_add_timer(c->server, 0, raw_notify, c);
}

static void raw_finish(struct http_raw *c)
{
        raw_finish_how(c, false);
}

static void raw_flush(struct http_raw *c);
static void on_read(h2o_socket_t *sock, const char *err);

static bool is_socket(h2o_socket_t *sock)
{
        struct stat st;
        return fstat(h2o_socket_get_fd(sock), &st) == 0 && S_ISSOCK(st.st_mode);
}

static void linger_timeout(void *ud)
{
        struct http_raw *c = ud;
        c->linger_timer = 0;
        raw_finish(c);
        raw_unref(c);
}

static void on_write_done(h2o_socket_t *sock, const char *err)
{
        struct http_raw *c = sock->data;
        if (!c)
                return;
        c->writing = false;
        free(c->inflight);
        c->inflight = NULL;
        c->inflight_len = 0;
        if (err) {
                raw_finish(c);
                return;
        }
        raw_flush(c);
}

static void raw_flush(struct http_raw *c)
{
        if (c->finished || !c->sock || c->writing)
                return;
        if (c->pending_len) {
                c->inflight = c->pending;
                c->inflight_len = c->pending_len;
                c->pending = NULL;
                c->pending_len = c->pending_cap = 0;
                c->writing = true;
                h2o_iovec_t buf = h2o_iovec_init(c->inflight, c->inflight_len);
                h2o_socket_write(c->sock, &buf, 1, on_write_done);
                return;
        }
        if (c->closing) {
                if (!c->lingering && c->on_data && is_socket(c->sock)) {
                        /* (Only for a socket we read: a write-only duplicate shares it with a
                         * reader elsewhere.) Closing a TCP socket with unread input makes the
                         * kernel send RST, and
                         * a RST makes the peer drop what it has not read yet (our last bytes).
                         * So: FIN, then read and discard until the peer closes (or a timeout). */
                        c->lingering = true;
                        shutdown(h2o_socket_get_fd(c->sock), SHUT_WR);
                        if (!c->reading) {
                                c->reading = true;
                                h2o_socket_read_start(c->sock, on_read);
                        }
                        c->refs++;
                        c->linger_timer =
                                http_server_add_timer(c->server, LINGER_MS, linger_timeout, c);
                        return;
                }
                if (!c->lingering)
                        raw_finish(c);
                return;
        }
        if (c->shut_wr && !c->shut_done) {
                c->shut_done = true;
                shutdown(h2o_socket_get_fd(c->sock), SHUT_WR);
        }
}

static void on_read(h2o_socket_t *sock, const char *err)
{
        struct http_raw *c = sock->data;
        if (!c)
                return;
        c->refs++;
        if (c->lingering) {
                h2o_buffer_consume(&sock->input, sock->input->size); /* discarded */
        } else if (sock->input->size && c->on_data && !c->finished && !c->paused) {
                /* the callback may write, close or pause: hand over a copy-free view and
                 * consume afterwards */
                size_t n = sock->input->size;
                c->on_data(c->ud, (const uint8_t *)sock->input->bytes, n);
                if (c->sock == sock)
                        h2o_buffer_consume(&sock->input, n);
        }
        if (err && !c->finished)
                raw_finish(c);
        raw_unref(c);
}

static void raw_update_reading(struct http_raw *c)
{
        if (!c->sock || c->finished || !c->on_data)
                return;
        bool want = !c->paused;
        if (want && !c->reading) {
                c->reading = true;
                h2o_socket_read_start(c->sock, on_read);
        } else if (!want && c->reading) {
                c->reading = false;
                h2o_socket_read_stop(c->sock);
        }
}

static struct http_raw *raw_new(struct http_server *s, http_raw_data_fn on_data,
                                void (*on_close)(void *), void *ud)
{
        struct http_raw *c = xcalloc(1, sizeof(*c));
        c->server = s;
        c->on_data = on_data;
        c->on_close = on_close;
        c->ud = ud;
        c->refs = 1;
        h2o_linklist_insert((h2o_linklist_t *)http_server_raw_list(s), &c->link);
        return c;
}

static void on_upgrade_complete(void *ud, h2o_socket_t *sock, size_t reqsize)
{
        struct http_raw *c = ud;
        c->upgrading = false;
        if (c->finished) {
                if (sock)
                        h2o_socket_close(sock);
                raw_unref(c); /* the upgrade's reference */
                return;
        }
        if (!sock) {
                raw_finish(c);
                raw_unref(c);
                return;
        }
        c->sock = sock;
        sock->data = c;
        h2o_buffer_consume(&sock->input, reqsize);
        raw_update_reading(c);
        if (sock->input->size && !c->paused)
                on_read(sock, NULL); /* bytes that came right behind the request */
        raw_flush(c);
        raw_unref(c);
}

struct http_raw *http_req_upgrade(struct http_req *r, const char *const *headers,
                                  http_raw_data_fn on_data, void (*on_close)(void *ud), void *ud)
{
        h2o_req_t *req = http_req_native(r);
        if (req->version >= 0x200)
                return NULL;
        req->res.status = 101;
        req->res.reason = "Switching Protocols";
        for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2) {
                h2o_iovec_t n = h2o_strdup(&req->pool, headers[i], SIZE_MAX);
                h2o_iovec_t v = h2o_strdup(&req->pool, headers[i + 1], SIZE_MAX);
                h2o_strtolower(n.base, n.len);
                h2o_add_header_by_str(&req->pool, &req->res.headers, n.base, n.len, 0, NULL, v.base,
                                      v.len);
        }
        struct http_raw *c = raw_new(http_req_server(r), on_data, on_close, ud);
        c->upgrading = true;
        c->refs++; /* held until on_upgrade_complete */
        http_req_set_responded(r);
        h2o_http1_upgrade(req, NULL, 0, on_upgrade_complete, c);
        return c;
}

const char *http_req_upgrade_header(struct http_req *r)
{
        h2o_req_t *req = http_req_native(r);
        if (!req->upgrade.base)
                return NULL;
        h2o_iovec_t v = h2o_strdup(&req->pool, req->upgrade.base, req->upgrade.len);
        return v.base;
}

const char *http_req_header_all(struct http_req *r, const char *name)
{
        h2o_req_t *req = http_req_native(r);
        size_t nl = strlen(name), total = 0, n = 0;
        for (size_t i = 0; i < req->headers.size; i++) {
                const h2o_header_t *h = req->headers.entries + i;
                if (h->name->len == nl && h2o_lcstris(h->name->base, nl, name, nl)) {
                        total += h->value.len + 2;
                        n++;
                }
        }
        if (!n)
                return NULL;
        char *out = h2o_mem_alloc_pool(&req->pool, total + 1);
        size_t off = 0;
        for (size_t i = 0; i < req->headers.size; i++) {
                const h2o_header_t *h = req->headers.entries + i;
                if (h->name->len == nl && h2o_lcstris(h->name->base, nl, name, nl)) {
                        if (off) {
                                memcpy(out + off, ", ", 2);
                                off += 2;
                        }
                        memcpy(out + off, h->value.base, h->value.len);
                        off += h->value.len;
                }
        }
        out[off] = '\0';
        return out;
}

struct http_raw *http_raw_from_fd(struct http_server *s, int fd, http_raw_data_fn on_data,
                                  void (*on_close)(void *ud), void *ud)
{
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
                fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        struct http_raw *c = raw_new(s, on_data, on_close, ud);
        c->sock = h2o_evloop_socket_create(http_server_evloop(s), fd, 0);
        c->sock->data = c;
        raw_update_reading(c);
        return c;
}

void http_raw_write(struct http_raw *c, const void *data, size_t len)
{
        if (c->finished || c->closing || c->shut_wr || !len)
                return;
        if (c->pending_len + len > c->pending_cap) {
                size_t cap = c->pending_cap ? c->pending_cap : 4096;
                while (cap < c->pending_len + len)
                        cap *= 2;
                c->pending = xrealloc(c->pending, cap);
                c->pending_cap = cap;
        }
        memcpy(c->pending + c->pending_len, data, len);
        c->pending_len += len;
        raw_flush(c);
}

size_t http_raw_pending(struct http_raw *c)
{
        return c->pending_len + c->inflight_len;
}

static void raw_redeliver(void *ud)
{
        struct http_raw *c = ud;
        c->redeliver = false;
        if (c->sock && !c->finished && !c->paused && c->sock->input->size)
                on_read(c->sock, NULL);
        raw_unref(c);
}

void http_raw_pause(struct http_raw *c, bool paused)
{
        if (c->paused == paused)
                return;
        c->paused = paused;
        raw_update_reading(c);
        /* bytes h2o read before the pause wait in sock->input: no read event will come for them
         * if the peer is waiting for us, so hand them over (from the loop, not from here) */
        if (!paused && c->sock && c->sock->input->size && !c->redeliver) {
                c->redeliver = true;
                c->refs++;
                http_server_add_timer(c->server, 0, raw_redeliver, c);
        }
}

void http_raw_close(struct http_raw *c)
{
        if (c->finished || c->closing)
                return;
        c->closing = true;
        raw_flush(c);
}

void http_raw_shutdown_write(struct http_raw *c)
{
        if (c->finished || c->closing || c->shut_wr)
                return;
        c->shut_wr = true;
        raw_flush(c);
}

void http_raw_abort(struct http_raw *c)
{
        raw_finish(c);
}

void http_raw_shutdown_all(struct http_server *s)
{
        h2o_linklist_t *list = http_server_raw_list(s);
        while (!h2o_linklist_is_empty(list)) {
                struct http_raw *c = H2O_STRUCT_FROM_MEMBER(struct http_raw, link, list->next);
                raw_finish_how(c, true);
        }
}
