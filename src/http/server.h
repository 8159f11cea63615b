/* server.h — the HTTP(S) server adapter: h2o (libh2o-evloop) behind a small, h2o-free API.
 *
 * One event loop per server, run by http_server_run() in the caller's thread. Handlers, stream
 * writes, posted functions and timers all run on that loop thread. TLS 1.2+ with ALPN h2 and
 * http/1.1; optional client certificates verified against client_ca_file (a verified cert's CN is
 * the request's user, its O= entries its groups). cert_file == NULL serves plain HTTP (tests).
 *
 * Lifetime: a struct http_req is valid during the handler call; if the handler starts a stream it
 * stays valid until the stream's on_close callback has run (or http_stream_end was called).
 * Strings returned by http_req_* are owned by the request. */
#pragma once
#include "common/base.h"
#include "common/error.h"

struct http_server;
struct http_req;
struct http_stream;

struct http_server_config {
        const char *bind_address;   /* IPv4 literal, "0.0.0.0" or NULL (= all) */
        int port;                   /* 0 = ephemeral, see http_server_port() */
        const char *cert_file;      /* PEM server cert (chain); NULL = plain HTTP */
        const char *key_file;       /* PEM private key */
        const char *client_ca_file; /* NULL = do not request client certificates */
        size_t max_body;            /* request bodies above this get 413; 0 = 3 MiB default */
};

/* Called on the loop thread for every request; must call http_req_respond() or
 * http_req_stream_start() before returning. */
typedef void (*http_handler_fn)(struct http_req *req, void *userdata);

/* Create a server bound and listening on cfg->bind_address:cfg->port (the socket is open when
 * this returns). Errors: -EINVAL bad address/cert/key, -EADDRINUSE, other -errno. */
int http_server_new(const struct http_server_config *cfg, http_handler_fn fn, void *userdata,
                    struct http_server **ret, struct error *err);
/* Run the event loop in this thread until http_server_stop(). Returns 0. On return, every open
 * stream's (and websocket's) on_close has been called and the connections are closed (1 s grace).
 */
int http_server_run(struct http_server *s);
/* Ask the loop to stop; thread-safe, callable from any thread (also from handlers). */
void http_server_stop(struct http_server *s);
/* Close the listener and free the server; call after http_server_run() returned (or if it was
 * never run), with no thread still posting. NULL is ignored. If a connection outlived the
 * shutdown grace (e.g. a TLS handshake in progress), h2o's loop is leaked rather than freed. */
void http_server_free(struct http_server *s);
/* The bound TCP port (useful with port 0). */
int http_server_port(struct http_server *s);
/* Run fn(userdata) on the loop thread soon; thread-safe. Functions posted before stop but not yet
 * run when the loop ends are run during http_server_free() (so userdata can always be freed). */
void http_server_post(struct http_server *s, void (*fn)(void *), void *userdata);
/* One-shot timer: fn(ud) on the loop thread after ms milliseconds. Call on the loop thread only.
 * Returns a timer id > 0 (never fails). Pending timers are dropped (not called) when the server
 * is freed. */
int http_server_add_timer(struct http_server *s, uint64_t ms, void (*fn)(void *), void *ud);
/* Cancel a pending timer by id (loop thread). Returns false if it already ran or is unknown. */
bool http_server_cancel_timer(struct http_server *s, int id);

/* Request accessors (loop thread). */
const char *http_req_method(struct http_req *r);
/* Path without the query, percent-decoded. */
const char *http_req_path(struct http_req *r);
/* First value of query parameter name, decoded ('+' and %XX), or NULL if absent. A parameter
 * without '=' has value "". */
const char *http_req_query(struct http_req *r, const char *name);
/* The raw query string after '?', not decoded ("" if none). */
const char *http_req_query_raw(struct http_req *r);
/* First value of a request header (case-insensitive name), or NULL. */
const char *http_req_header(struct http_req *r, const char *name);
/* The request body (NUL-terminated for convenience; *ret_len excludes the NUL). */
const char *http_req_body(struct http_req *r, size_t *ret_len);
/* CN of the verified client certificate, or NULL (no cert / plain HTTP). */
const char *http_req_user(struct http_req *r);
/* O= entries of the verified client certificate, comma-joined, or NULL. */
const char *http_req_groups(struct http_req *r);
/* The peer address as "ip:port" (diagnostics). */
const char *http_req_remote(struct http_req *r);
/* Answer later: the handler returns without a response and the request stays valid (HTTP/1.1
 * does not read the connection meanwhile); later, on the loop thread, call http_req_resume()
 * and then respond (or upgrade) as from a handler. Do not touch the request once
 * http_server_is_stopping() (the server is going down and will drop it). */
void http_req_defer(struct http_req *r);
void http_req_resume(struct http_req *r);
/* While deferred, the client may go away (HTTP/2 stream reset, closed connection) and h2o then
 * frees the request: fn(userdata) is called (loop thread) if that happens before
 * http_req_resume(); after it the request must not be touched. fn NULL: no call. */
void http_req_on_gone(struct http_req *r, void (*fn)(void *), void *userdata);
/* Whether http_server_stop() was called (any thread). */
bool http_server_is_stopping(struct http_server *s);
/* Add a response header; call before http_req_respond()/http_req_stream_start(). */
void http_req_add_header(struct http_req *r, const char *name, const char *value);

/* Send a complete response (body copied; content_type may be NULL). */
void http_req_respond(struct http_req *r, int status, const char *content_type, const char *body,
                      size_t len);

/* Start a streaming response (chunked on HTTP/1.1, DATA frames on h2); the headers are sent at
 * once. on_close(userdata) is called exactly once, on the loop thread, when the client goes away
 * (HTTP/1.1 close, h2 stream reset), when the server stops, or after http_stream_end() once the
 * data is flushed; after it the stream and request are gone and must not be used. It never runs
 * synchronously inside http_req_stream_start/http_stream_write/http_stream_end (always from the
 * loop later), so callers may write from their own callbacks. on_close may be NULL. */
struct http_stream *http_req_stream_start(struct http_req *r, int status, const char *content_type,
                                          void (*on_close)(void *userdata), void *userdata);
/* Queue data (copied) and flush it to the client at once. Loop thread. No-op after the client
 * went away (before on_close ran). */
void http_stream_write(struct http_stream *st, const char *data, size_t len);
/* Bytes queued but not yet handed to the socket (for back-pressure caps). */
size_t http_stream_pending(struct http_stream *st);
/* Finish the response after the queued data. Loop thread. on_close still runs once. */
void http_stream_end(struct http_stream *st);

/* URL decoding helpers (pure; used by the accessors above, exported for tests and fuzzing).
 * %XX is decoded (except %00, kept literally so results never hold a NUL), '+' becomes ' ' if
 * plus_is_space; malformed escapes are kept as they are. dst needs len + 1 bytes; returns the
 * decoded length (dst is NUL-terminated). */
size_t http_url_decode_into(char *dst, const char *src, size_t len, bool plus_is_space);
/* The same into a new string (free() it). */
char *http_url_decode(const char *s, size_t len, bool plus_is_space);
/* First value of name in a raw query string ("a=1&b=x+y"), decoded, as a new string (free() it),
 * or NULL if absent. */
char *http_query_get(const char *raw_query, const char *name);
