/* client.h — a small libcurl wrapper: one CURL easy handle per http_client, so sequential requests
 * reuse the keep-alive connection.
 *
 * HTTP/1.1 only (CURL_HTTP_VERSION_1_1): watches and log streams are long-lived chunked bodies,
 * which HTTP/1.1 delivers byte-for-byte to the write callback with no flow-control window to
 * tune; one handle serves one thread, so HTTP/2 multiplexing would buy nothing here.
 *
 * Threads: an http_client is used by one thread at a time. http_client_global_init() must run
 * before the first http_client_new() (http_client_new calls it; it is idempotent and thread-safe
 * through pthread_once).
 *
 * Errors: transport failures map to -ECONNREFUSED (connect refused / host unreachable),
 * -ETIMEDOUT (connect or transfer timeout), -EPROTO (TLS or protocol failure), -ECANCELED
 * (aborted by the write callback or the cancel hook), -E2BIG (response body over the cap),
 * -EIO (anything else), with curl's message in err. An HTTP status is not an error here: the
 * caller gets it in *ret_status. */
#pragma once
#include "common/base.h"
#include "common/error.h"

#define HTTP_CLIENT_MAX_BODY (64u << 20) /* cap for buffered responses (http_client_do) */

struct http_client;

struct http_client_options {
        /* Trust: PEM file path or in-memory PEM (the _pem field wins if both are set). Neither:
         * the system trust store. */
        const char *ca_file;
        const char *ca_pem;
        /* Client certificate and key for mutual TLS: file paths or in-memory PEM. */
        const char *cert_file;
        const char *cert_pem;
        const char *key_file;
        const char *key_pem;
        const char *bearer_token;  /* "Authorization: Bearer <token>" if set */
        bool insecure_skip_verify; /* do not verify the server certificate (tests only) */
        long connect_timeout_ms;   /* 0: 10 s */
        long timeout_ms;           /* whole-request timeout for http_client_do; 0: none */
        /* Extra request header lines ("Name: value", NULL-terminated; copied), sent on every
         * request; an "Accept:" here replaces the default one. */
        const char *const *extra_headers;
        /* User-Agent header; NULL: "timonel/0.1". The API server takes the default field
         * manager of a write from the part before the first '/'. */
        const char *user_agent;
};

/* Idempotent, thread-safe (pthread_once) curl_global_init. Returns 0 or -EIO. */
int http_client_global_init(void);

/* Copies every string of opts. */
int http_client_new(const struct http_client_options *opts, struct http_client **ret,
                    struct error *err);
void http_client_free(struct http_client *c);
static inline void http_client_freep(struct http_client **c)
{
        if (*c)
                http_client_free(*c);
}

/* Cancel hook: while a request runs, fn(ud) is polled (from curl's progress callback, at least
 * about once a second even on an idle connection); a non-zero return aborts the request with
 * -ECANCELED. fn must be thread-safe if it reads state written by other threads. NULL clears. */
void http_client_set_cancel(struct http_client *c, int (*fn)(void *ud), void *ud);

/* One buffered request. body may be NULL (len 0); content_type may be NULL. Extra header lines
 * ("Name: value") may be given in the NULL-terminated headers array (may be NULL).
 * On success (any HTTP status) returns 0, *ret_status, and *ret_body (malloc'd, NUL-terminated,
 * length *ret_len without the NUL; never NULL). ret_body/ret_len may be NULL to discard. */
int http_client_do(struct http_client *c, const char *method, const char *url,
                   const char *content_type, const char *body, size_t len, long *ret_status,
                   char **ret_body, size_t *ret_len, struct error *err);

/* Body callback of the streaming variant: data is borrowed; return non-zero to abort. */
typedef int (*http_client_write_fn)(const char *data, size_t len, void *ud);

/* Streaming request (watch, logs): no whole-request timeout applies. For a 2xx response, fn gets
 * the body as it arrives. For any other status, fn is never called: the body (capped at 1 MiB)
 * is returned in *ret_err_body (malloc'd, NUL-terminated; may be NULL for no body; pass NULL to
 * discard). Returns 0 when the server ended the body, the callback's non-zero value (as is) when
 * fn aborted, or a negative errno for transport errors. *ret_status is set once the status line
 * was received (0 if none). */
int http_client_stream(struct http_client *c, const char *method, const char *url,
                       const char *content_type, const char *body, size_t len,
                       http_client_write_fn fn, void *ud, long *ret_status, char **ret_err_body,
                       struct error *err);
