/* upgrade.h — raw byte-stream connections on the server adapter's event loop: a request's
 * connection taken over after a 101 Switching Protocols (SPDY/3.1, or any upgrade relayed
 * verbatim), and local file descriptors (pipes, a pty master, a TCP socket) driven by the same
 * loop. Everything runs on the server's loop thread.
 *
 * Callbacks: on_data(ud, data, len) for bytes received (borrowed for the call); on_close(ud)
 * exactly once, never synchronously inside an http_raw_* call: when the peer closes (EOF) or
 * errors, after http_raw_close() flushed, after http_raw_abort(), or when the server stops. The
 * struct http_raw is gone after on_close. */
#pragma once
#include "common/base.h"
#include "http/server.h"

struct http_raw;

typedef void (*http_raw_data_fn)(void *ud, const uint8_t *data, size_t len);

/* Answer r with "101 Switching Protocols", "Connection: upgrade" and the given headers
 * (NULL-terminated list of name, value, name, value...), then hand the connection over.
 * HTTP/1.1 only: returns NULL (nothing sent; respond yourself) on h2. Data written before the
 * 101 is out is queued behind it. */
struct http_raw *http_req_upgrade(struct http_req *r, const char *const *headers,
                                  http_raw_data_fn on_data, void (*on_close)(void *ud), void *ud);
/* Drive fd (taken over, made non-blocking; closed on on_close) on s's loop. Reading starts at
 * once if on_data is not NULL. */
struct http_raw *http_raw_from_fd(struct http_server *s, int fd, http_raw_data_fn on_data,
                                  void (*on_close)(void *ud), void *ud);
/* The request's Upgrade header value ("websocket", "SPDY/3.1") or NULL: h2o keeps it apart from
 * the other headers, so http_req_header() does not see it. Valid during the handler. */
const char *http_req_upgrade_header(struct http_req *r);
/* Every value of request header name (case-insensitive), joined with ", " (clients repeat
 * X-Stream-Protocol-Version), or NULL if absent. Owned by the request. */
const char *http_req_header_all(struct http_req *r, const char *name);
/* Queue bytes (copied). No-op once closing. */
void http_raw_write(struct http_raw *c, const void *data, size_t len);
/* Bytes queued and not yet written. */
size_t http_raw_pending(struct http_raw *c);
/* Stop/resume delivering received data (back-pressure). */
void http_raw_pause(struct http_raw *c, bool paused);
/* Close once queued data is written (a socket gets shutdown(SHUT_WR) semantics only through
 * http_raw_shutdown_write). */
void http_raw_close(struct http_raw *c);
/* After the queued data: shutdown(fd, SHUT_WR) (TCP half-close); reading continues. */
void http_raw_shutdown_write(struct http_raw *c);
/* Close now, dropping queued data. */
void http_raw_abort(struct http_raw *c);

/* Internal, between server.c and upgrade.c: */
void *http_server_raw_list(struct http_server *s); /* h2o_linklist_t of open raw conns */
void *http_server_evloop(struct http_server *s);   /* h2o_evloop_t */
void http_raw_shutdown_all(struct http_server *s);
