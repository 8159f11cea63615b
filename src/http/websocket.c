/* websocket.c — WebSocket upgrades over h2o 2.2.5 + wslay; see websocket.h.
 *
 * h2o's websocket layer calls one callback for messages and (with arg == NULL) for the end of
 * the connection; the owner must then h2o_websocket_close() it. Reference counting keeps our
 * struct alive while a callback, a timer or a kick still points at it.
 * As measured with the probe (PLATFORM.md): wslay sends control frames ahead of queued data, so
 * the close frame is queued only once the data queue has drained (polled from a 1 ms timer). */
#include <h2o.h>
#include <h2o/websocket.h>
#include <stdio.h>

#include "http/websocket.h"

#define WS_MAX_MSG (16u << 20)
#define WS_CLOSE_TIMEOUT_MS 5000

struct http_ws {
        h2o_websocket_conn_t *conn; /* NULL once finished */
        struct http_server *server;
        h2o_linklist_t link; /* in the server's list until finished */
        http_ws_msg_fn on_msg;
        void (*on_close)(void *);
        void *userdata;
        int refs;  /* 1 for the open connection + callbacks/timers in progress */
        int in_cb; /* inside h2o_websocket_proceed: do not re-enter it */
        int timer; /* pending close timer (holds a ref), or 0 */
        bool finished, closing, close_queued;
        uint16_t close_code;
        char close_reason[123]; /* control frame payload limit (125) minus the code */
};

static void ws_unref(struct http_ws *ws)
{
        if (--ws->refs == 0)
                free(ws);
}

/* Close the connection (if still open), tell the owner once, drop the connection's ref. */
static void ws_finish(struct http_ws *ws)
{
        if (ws->finished)
                return;
        ws->finished = true;
        if (ws->timer && http_server_cancel_timer(ws->server, ws->timer))
                ws_unref(ws); /* the timer's ref; the connection's ref keeps ws alive */
        ws->timer = 0;
        if (ws->conn) {
                h2o_websocket_close(ws->conn);
                ws->conn = NULL;
        }
        h2o_linklist_unlink(&ws->link);
        if (ws->on_close)
                ws->on_close(ws->userdata);
        ws_unref(ws);
}

static void on_ws_event(h2o_websocket_conn_t *conn, const struct wslay_event_on_msg_recv_arg *arg)
{
        struct http_ws *ws = conn->data;

        if (!arg) {
                ws_finish(ws);
                return;
        }
        if ((arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) && ws->on_msg &&
            !ws->finished) {
                ws->refs++;
                ws->in_cb++;
                ws->on_msg(ws->userdata, arg->opcode, arg->msg, arg->msg_length);
                ws->in_cb--;
                ws_unref(ws); /* the connection still holds a ref: ws stays valid for h2o */
        }
        /* ping/pong/close frames are answered by wslay */
}

/* Push queued frames out (outside of h2o's own proceed loop). */
static void ws_kick(struct http_ws *ws)
{
        if (!ws->conn || !ws->conn->sock || ws->in_cb)
                return;
        ws->refs++;
        ws->in_cb++;
        h2o_websocket_proceed(ws->conn); /* may end in on_ws_event(NULL) */
        ws->in_cb--;
        ws_unref(ws);
}

bool http_req_is_websocket(struct http_req *r)
{
        h2o_req_t *req = http_req_native(r);
        const char *key = NULL;

        return req->version < 0x200 && h2o_is_websocket_handshake(req, &key) == 0 && key;
}

struct http_ws *http_req_websocket_accept(struct http_req *r, const char *protocol,
                                          http_ws_msg_fn on_msg, void (*on_close)(void *userdata),
                                          void *userdata)
{
        h2o_req_t *req = http_req_native(r);
        const char *key = NULL;
        struct http_ws *ws;

        if (req->version >= 0x200 || h2o_is_websocket_handshake(req, &key) != 0 || !key)
                return NULL;
        ws = xcalloc(1, sizeof(*ws));
        ws->server = http_req_server(r);
        ws->on_msg = on_msg;
        ws->on_close = on_close;
        ws->userdata = userdata;
        ws->refs = 1;
        h2o_linklist_insert((h2o_linklist_t *)http_server_ws_list(ws->server), &ws->link);
        if (protocol) {
                h2o_iovec_t p = h2o_strdup(&req->pool, protocol, SIZE_MAX);
                h2o_add_header_by_str(&req->pool, &req->res.headers,
                                      H2O_STRLIT("sec-websocket-protocol"), 0, NULL, p.base, p.len);
        }
        http_req_set_responded(r);
        ws->conn = h2o_upgrade_to_websocket(req, key, ws, on_ws_event);
        wslay_event_config_set_max_recv_msg_length(ws->conn->ws_ctx, WS_MAX_MSG);
        return ws;
}

void http_ws_send(struct http_ws *ws, int opcode, const void *data, size_t len)
{
        struct wslay_event_msg m = {(uint8_t)opcode, data, len};

        if (!ws->conn || ws->closing)
                return;
        if (wslay_event_queue_msg(ws->conn->ws_ctx, &m) != 0)
                return; /* the context is closing or out of memory: the connection ends */
        ws_kick(ws);
}

size_t http_ws_pending(struct http_ws *ws)
{
        return ws->conn ? wslay_event_get_queued_msg_length(ws->conn->ws_ctx) : 0;
}

static void ws_close_timeout(void *ud)
{
        struct http_ws *ws = ud;
        ws->timer = 0;
        ws_finish(ws); /* the peer did not answer the close frame in time */
        ws_unref(ws);
}

static void ws_close_check(void *ud)
{
        struct http_ws *ws = ud;
        h2o_websocket_conn_t *c = ws->conn;

        ws->timer = 0;
        if (c && !ws->close_queued) {
                if (c->sock && wslay_event_get_queued_msg_count(c->ws_ctx) == 0 &&
                    !h2o_socket_is_writing(c->sock)) {
                        ws->close_queued = true;
                        wslay_event_queue_close(c->ws_ctx, ws->close_code,
                                                (const uint8_t *)ws->close_reason,
                                                strlen(ws->close_reason));
                        ws->refs++;
                        ws->timer = http_server_add_timer(ws->server, WS_CLOSE_TIMEOUT_MS,
                                                          ws_close_timeout, ws);
                        ws_kick(ws);
                } else {
                        ws->refs++;
                        ws->timer = http_server_add_timer(ws->server, 1, ws_close_check, ws);
                }
        }
        ws_unref(ws);
}

void http_ws_close(struct http_ws *ws, uint16_t code, const char *reason)
{
        if (!ws->conn || ws->closing)
                return;
        ws->closing = true;
        ws->close_code = code ? code : 1000;
        snprintf(ws->close_reason, sizeof(ws->close_reason), "%s", reason ? reason : "");
        ws->refs++;
        ws->timer = http_server_add_timer(ws->server, 0, ws_close_check, ws);
}

void http_ws_shutdown_all(struct http_server *s)
{
        h2o_linklist_t *list = http_server_ws_list(s);

        while (!h2o_linklist_is_empty(list)) {
                struct http_ws *ws = H2O_STRUCT_FROM_MEMBER(struct http_ws, link, list->next);
                ws->refs++;
                ws_finish(ws);
                ws_unref(ws);
        }
}
