/* client.c — libcurl wrapper (see client.h). */
#include "http/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>

#define STREAM_ERR_BODY_MAX (1u << 20)

struct http_client {
        CURL *curl;
        char *ca_file, *ca_pem, *cert_file, *cert_pem, *key_file, *key_pem;
        char *auth_header;    /* "Authorization: Bearer ..." or NULL */
        char *user_agent;     /* NULL: "timonel/0.1" */
        char **extra_headers; /* NULL-terminated or NULL */
        bool own_accept;      /* an extra "Accept:" replaces ours */
        bool insecure;
        long connect_timeout_ms;
        long timeout_ms;
        int (*cancel_fn)(void *ud);
        void *cancel_ud;
        char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

static void global_init_once(void)
{
        global_rc = curl_global_init(CURL_GLOBAL_ALL) == CURLE_OK ? 0 : -EIO;
}

int http_client_global_init(void)
{
        pthread_once(&global_once, global_init_once);
        return global_rc;
}

static char *dup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

int http_client_new(const struct http_client_options *opts, struct http_client **ret,
                    struct error *err)
{
        static const struct http_client_options none;
        struct http_client *c;
        int r;

        if (!opts)
                opts = &none;
        r = http_client_global_init();
        if (r < 0)
                return error_set(err, r, "curl_global_init failed");
        c = xcalloc(1, sizeof(*c));
        c->curl = curl_easy_init();
        if (!c->curl) {
                free(c);
                return error_set(err, -EIO, "curl_easy_init failed");
        }
        c->user_agent = dup_or_null(opts->user_agent);
        c->ca_file = dup_or_null(opts->ca_file);
        if (opts->extra_headers) {
                size_t n = 0;
                while (opts->extra_headers[n])
                        n++;
                c->extra_headers = xcalloc(n + 1, sizeof(char *));
                for (size_t i = 0; i < n; i++) {
                        c->extra_headers[i] = xstrdup(opts->extra_headers[i]);
                        if (!strncasecmp(opts->extra_headers[i], "Accept:", 7))
                                c->own_accept = true;
                }
        }
        c->ca_pem = dup_or_null(opts->ca_pem);
        c->cert_file = dup_or_null(opts->cert_file);
        c->cert_pem = dup_or_null(opts->cert_pem);
        c->key_file = dup_or_null(opts->key_file);
        c->key_pem = dup_or_null(opts->key_pem);
        if (opts->bearer_token && *opts->bearer_token)
                c->auth_header = xasprintf("Authorization: Bearer %s", opts->bearer_token);
        c->insecure = opts->insecure_skip_verify;
        c->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 10000;
        c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 0;
        *ret = c;
        return 0;
}

void http_client_free(struct http_client *c)
{
        if (!c)
                return;
        curl_easy_cleanup(c->curl);
        free(c->ca_file);
        free(c->ca_pem);
        free(c->cert_file);
        free(c->cert_pem);
        free(c->key_file);
        free(c->key_pem);
        free(c->auth_header);
        free(c->user_agent);
        for (size_t i = 0; c->extra_headers && c->extra_headers[i]; i++)
                free(c->extra_headers[i]);
        free(c->extra_headers);
        free(c);
}

void http_client_set_cancel(struct http_client *c, int (*fn)(void *ud), void *ud)
{
        c->cancel_fn = fn;
        c->cancel_ud = ud;
}

static void set_blob(CURL *curl, CURLoption opt, const char *pem)
{
        struct curl_blob blob = {
                .data = (void *)pem,
                .len = strlen(pem),
                .flags = CURL_BLOB_COPY,
        };
        curl_easy_setopt(curl, opt, &blob);
}

/* Options common to both request kinds. curl_easy_reset keeps live connections, the DNS cache
 * and TLS session IDs, so keep-alive reuse survives it. */
static struct curl_slist *setup(struct http_client *c, const char *method, const char *url,
                                const char *content_type, const char *body, size_t len)
{
        CURL *curl = c->curl;
        struct curl_slist *hdrs = NULL;

        curl_easy_reset(curl);
        c->errbuf[0] = 0;
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, c->errbuf);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
        /* Detect a silently vanished peer under an idle watch within about a minute. */
        curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 30L);
        curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 10L);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, c->user_agent ? c->user_agent : "timonel/0.1");
        /* Never consult proxy environment variables: the API server is local or direct. */
        curl_easy_setopt(curl, CURLOPT_PROXY, "");

        if (c->ca_pem)
                set_blob(curl, CURLOPT_CAINFO_BLOB, c->ca_pem);
        else if (c->ca_file)
                curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
        if (c->cert_pem) {
                set_blob(curl, CURLOPT_SSLCERT_BLOB, c->cert_pem);
                curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
        } else if (c->cert_file) {
                curl_easy_setopt(curl, CURLOPT_SSLCERT, c->cert_file);
        }
        if (c->key_pem) {
                set_blob(curl, CURLOPT_SSLKEY_BLOB, c->key_pem);
                curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
        } else if (c->key_file) {
                curl_easy_setopt(curl, CURLOPT_SSLKEY, c->key_file);
        }
        if (c->insecure) {
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
        }

        if (strcmp(method, "GET") == 0) {
                curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        } else if (strcmp(method, "HEAD") == 0) {
                curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        } else {
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
                if (body || strcmp(method, "DELETE") != 0) {
                        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
                        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
                }
        }
        if (content_type) {
                _cleanup_free_ char *h = xasprintf("Content-Type: %s", content_type);
                hdrs = curl_slist_append(hdrs, h);
        }
        if (!c->own_accept)
                hdrs = curl_slist_append(hdrs, "Accept: application/json, */*");
        for (size_t i = 0; c->extra_headers && c->extra_headers[i]; i++)
                hdrs = curl_slist_append(hdrs, c->extra_headers[i]);
        /* No "Expect: 100-continue" round trip for large bodies. */
        hdrs = curl_slist_append(hdrs, "Expect:");
        if (c->auth_header)
                hdrs = curl_slist_append(hdrs, c->auth_header);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
        return hdrs;
}

static int progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        struct http_client *c = ud;

        return c->cancel_fn && c->cancel_fn(c->cancel_ud) ? 1 : 0;
}

static void setup_progress(struct http_client *c)
{
        curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
        curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
}

static int map_curl_error(struct http_client *c, CURLcode cc, const char *url, struct error *err)
{
        const char *msg = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
        int code;

        switch (cc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
                code = -ECONNREFUSED;
                break;
        case CURLE_OPERATION_TIMEDOUT:
                code = -ETIMEDOUT;
                break;
        case CURLE_ABORTED_BY_CALLBACK:
        case CURLE_WRITE_ERROR:
                code = -ECANCELED;
                break;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_CLIENTCERT:
        case CURLE_USE_SSL_FAILED:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
                code = -EPROTO;
                break;
        default:
                code = -EIO;
                break;
        }
        return error_set(err, code, "%s: %s", url, msg);
}

struct membuf {
        char *data;
        size_t len, cap, max;
        bool overflow;
};

static bool membuf_append(struct membuf *b, const char *p, size_t n)
{
        if (n > b->max - b->len) {
                b->overflow = true;
                return false;
        }
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                while (cap < b->len + n + 1)
                        cap *= 2;
                b->data = xrealloc(b->data, cap);
                b->cap = cap;
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
        return true;
}

static size_t membuf_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
        struct membuf *b = ud;
        size_t n = size * nmemb;

        return membuf_append(b, p, n) ? n : 0;
}

int http_client_do(struct http_client *c, const char *method, const char *url,
                   const char *content_type, const char *body, size_t len, long *ret_status,
                   char **ret_body, size_t *ret_len, struct error *err)
{
        struct membuf b = {.max = HTTP_CLIENT_MAX_BODY};
        struct curl_slist *hdrs;
        CURLcode cc;
        long status = 0;
        int r = 0;

        hdrs = setup(c, method, url, content_type, body, len);
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, membuf_write_cb);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &b);
        if (c->timeout_ms)
                curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
        setup_progress(c);

        cc = curl_easy_perform(c->curl);
        curl_slist_free_all(hdrs);
        if (cc != CURLE_OK) {
                if (b.overflow)
                        r = error_set(err, -E2BIG, "%s: response body over %u bytes", url,
                                      HTTP_CLIENT_MAX_BODY);
                else
                        r = map_curl_error(c, cc, url, err);
                free(b.data);
                return r;
        }
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        if (!b.data)
                b.data = xstrdup("");
        *ret_status = status;
        if (ret_len)
                *ret_len = b.len;
        if (ret_body)
                *ret_body = b.data;
        else
                free(b.data);
        return 0;
}

struct stream_ctx {
        struct http_client *c;
        http_client_write_fn fn;
        void *ud;
        long status;   /* 0 until the first body byte */
        int fn_result; /* non-zero once fn aborted */
        struct membuf errbody;
};

static size_t stream_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
        struct stream_ctx *s = ud;
        size_t n = size * nmemb;

        if (!s->status)
                curl_easy_getinfo(s->c->curl, CURLINFO_RESPONSE_CODE, &s->status);
        if (s->status < 200 || s->status > 299) {
                /* Keep the first STREAM_ERR_BODY_MAX bytes, silently drop the rest. */
                if (s->errbody.len < s->errbody.max)
                        membuf_append(&s->errbody, p, MIN(n, s->errbody.max - s->errbody.len));
                return n;
        }
        s->fn_result = s->fn(p, n, s->ud);
        return s->fn_result ? 0 : n;
}

int http_client_stream(struct http_client *c, const char *method, const char *url,
                       const char *content_type, const char *body, size_t len,
                       http_client_write_fn fn, void *ud, long *ret_status, char **ret_err_body,
                       struct error *err)
{
        struct stream_ctx s = {.c = c, .fn = fn, .ud = ud, .errbody.max = STREAM_ERR_BODY_MAX};
        struct curl_slist *hdrs;
        CURLcode cc;
        int r = 0;

        hdrs = setup(c, method, url, content_type, body, len);
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, stream_write_cb);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &s);
        /* Small receive buffer so events are delivered as they arrive, not batched. */
        curl_easy_setopt(c->curl, CURLOPT_BUFFERSIZE, 16384L);
        setup_progress(c);

        cc = curl_easy_perform(c->curl);
        curl_slist_free_all(hdrs);
        if (!s.status)
                curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &s.status);
        if (ret_status)
                *ret_status = s.status;
        if (s.fn_result)
                r = s.fn_result;
        else if (cc != CURLE_OK)
                r = map_curl_error(c, cc, url, err);
        if (ret_err_body)
                *ret_err_body = TAKE_PTR(s.errbody.data);
        free(s.errbody.data);
        return r;
}
