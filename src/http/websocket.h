/* websocket.h — WebSocket (RFC 6455) upgrades on the server adapter (h2o + wslay behind it).
 *
 * HTTP/1.1 only (kubectl exec/attach/port-forward use WebSocket over HTTP/1.1). Everything runs on
 * the server's loop thread; other threads hand data over with http_server_post(). */
#pragma once
#include "common/base.h"
#include "http/server.h"

struct http_ws;

enum { HTTP_WS_TEXT = 1, HTTP_WS_BINARY = 2 };

/* Called for each complete message received (data borrowed for the call). */
typedef void (*http_ws_msg_fn)(void *userdata, int opcode, const uint8_t *data, size_t len);

/* Whether the request is a WebSocket handshake (GET, HTTP/1.1, Upgrade: websocket, a key). */
bool http_req_is_websocket(struct http_req *r);

/* Answer the handshake with 101 (echoing protocol in Sec-WebSocket-Protocol if not NULL) and turn
 * the connection into a WebSocket. Returns NULL (nothing sent; respond yourself, e.g. 400) if the
 * request is not a WebSocket handshake. Messages may be sent right away (they go out after the
 * 101). on_close(userdata) runs exactly once, on the loop thread, never synchronously inside
 * http_ws_send/http_ws_close: when the peer closes or goes away, after http_ws_close() finished,
 * or when the server stops; the struct http_ws is gone after it. Received messages above 16 MiB
 * fail the connection. */
struct http_ws *http_req_websocket_accept(struct http_req *r, const char *protocol,
                                          http_ws_msg_fn on_msg, void (*on_close)(void *userdata),
                                          void *userdata);

/* Queue a message (copied); it is sent as soon as the socket allows. No-op once closing. */
void http_ws_send(struct http_ws *ws, int opcode, const void *data, size_t len);
/* Bytes queued and not yet written (for back-pressure caps). */
size_t http_ws_pending(struct http_ws *ws);
/* Close after every queued message has been written (status code, e.g. 1000, and reason may be
 * NULL); on_close follows when the close handshake is done or the peer is gone. */
void http_ws_close(struct http_ws *ws, uint16_t code, const char *reason);

/* Internal, between server.c and websocket.c: */
void *http_req_native(struct http_req *r);       /* the h2o_req_t */
void http_req_set_responded(struct http_req *r); /* the handler answered */
struct http_server *http_req_server(struct http_req *r);
void *http_server_ws_list(struct http_server *s); /* h2o_linklist_t of open websockets */
void http_ws_shutdown_all(struct http_server *s); /* on server stop: close them all */
