/* client.c — the Kubernetes API client over http/client.h (see client.h). */
#include "client/client.h"

#include <stdio.h>

#include "client/kubeconfig.h"
#include "http/client.h"

#define KCLIENT_TIMEOUT_MS 60000 /* whole-request timeout of the JSON calls */

struct kclient {
        char *server; /* without trailing slash */
        struct http_client *http;
};

static int kclient_new_opts(const char *server_url, const struct http_client_options *opts,
                            struct kclient **ret, struct error *err)
{
        struct kclient *c;
        int r;

        if (!server_url ||
            (strncmp(server_url, "https://", 8) != 0 && strncmp(server_url, "http://", 7) != 0))
                return error_set(err, -EINVAL, "kclient: server \"%s\" is not an http(s) URL",
                                 server_url ? server_url : "");
        c = xcalloc(1, sizeof(*c));
        r = http_client_new(opts, &c->http, err);
        if (r < 0) {
                free(c);
                return r;
        }
        c->server = xstrdup(server_url);
        for (size_t n = strlen(c->server); n > 0 && c->server[n - 1] == '/'; n--)
                c->server[n - 1] = 0;
        *ret = c;
        return 0;
}

int kclient_new(const char *server_url, const char *ca_file, const char *cert_file,
                const char *key_file, const char *bearer_token, struct kclient **ret,
                struct error *err)
{
        struct http_client_options o = {
                .ca_file = ca_file,
                .cert_file = cert_file,
                .key_file = key_file,
                .bearer_token = bearer_token,
                .timeout_ms = KCLIENT_TIMEOUT_MS,
        };

        return kclient_new_opts(server_url, &o, ret, err);
}

int kclient_from_kubeconfig(const char *path, struct kclient **ret, struct error *err)
{
        return kclient_from_kubeconfig_as(path, NULL, ret, err);
}

int kclient_from_kubeconfig_as(const char *path, const char *user_agent, struct kclient **ret,
                               struct error *err)
{
        struct kubeconfig_info k = {};
        struct http_client_options o;
        int r;

        r = kubeconfig_load(path, &k, err);
        if (r < 0)
                return r;
        o = (struct http_client_options){
                .ca_pem = k.ca_pem,
                .cert_pem = k.cert_pem,
                .key_pem = k.key_pem,
                .bearer_token = k.token,
                .insecure_skip_verify = k.insecure_skip_tls_verify,
                .timeout_ms = KCLIENT_TIMEOUT_MS,
                .user_agent = user_agent,
        };
        r = kclient_new_opts(k.server, &o, ret, err);
        kubeconfig_info_clear(&k);
        return r;
}

void kclient_free(struct kclient *c)
{
        if (!c)
                return;
        http_client_free(c->http);
        free(c->server);
        free(c);
}

const char *kclient_server(const struct kclient *c)
{
        return c->server;
}

void kclient_set_cancel(struct kclient *c, int (*fn)(void *ud), void *ud)
{
        http_client_set_cancel(c->http, fn, ud);
}

static char *make_url(struct kclient *c, const char *path)
{
        return xasprintf("%s%s%s", c->server, path[0] == '/' ? "" : "/", path);
}

/* ---- Status -> errno ---- */

int kclient_status_to_errno(long status, const char *body, size_t len, struct error *err)
{
        _cleanup_(json_decrefp) json_t *j = NULL;
        const char *reason = NULL, *message = NULL;
        int code;

        if (status >= 200 && status <= 299)
                return 0;
        if (body && len > 0) {
                j = json_loadb(body, len, JSON_DECODE_ANY, NULL);
                if (json_is_object(j)) {
                        reason = json_string_value(json_object_get(j, "reason"));
                        message = json_string_value(json_object_get(j, "message"));
                }
        }
        switch (status) {
        case 404:
                code = -ENOENT;
                break;
        case 409:
                code = reason && strcmp(reason, "AlreadyExists") == 0 ? -EEXIST : -ESTALE;
                break;
        case 400:
        case 422:
                code = -EINVAL;
                break;
        case 401:
        case 403:
                code = -EACCES;
                break;
        case 410:
                code = -ERANGE;
                break;
        default:
                code = status >= 500 ? -EIO : -EPROTO;
                break;
        }
        if (message && *message)
                return error_set(err, code, "%s", message);
        if (body && len > 0 && !j) {
                /* Not JSON: show the start of the body, trimmed to one line. */
                size_t n = 0;
                while (n < len && n < 200 && body[n] != '\r' && body[n] != '\n' && body[n])
                        n++;
                return error_set(err, code, "HTTP %ld: %.*s", status, (int)n, body);
        }
        return error_set(err, code, "HTTP %ld%s%s", status, reason ? " " : "",
                         reason ? reason : "");
}

/* ---- JSON calls ---- */

static int parse_body(const char *body, size_t len, json_t **ret, struct error *err)
{
        json_error_t jerr;
        json_t *j;

        if (len == 0) {
                *ret = NULL;
                return 0;
        }
        j = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
        if (!j)
                return error_set(err, -EPROTO, "invalid JSON from server: %d:%d: %s", jerr.line,
                                 jerr.column, jerr.text);
        *ret = j;
        return 0;
}

int kclient_request(struct kclient *c, const char *method, const char *path,
                    const char *content_type, const char *body, size_t len, long *ret_status,
                    char **ret_body, size_t *ret_len, struct error *err)
{
        _cleanup_free_ char *url = make_url(c, path);

        return http_client_do(c->http, method, url, content_type, body, len, ret_status, ret_body,
                              ret_len, err);
}

static int json_call(struct kclient *c, const char *method, const char *path,
                     const char *content_type, json_t *obj, json_t **ret, struct error *err)
{
        _cleanup_free_ char *req = NULL, *resp = NULL;
        size_t resp_len = 0;
        long status = 0;
        json_t *j = NULL;
        int r;

        if (obj) {
                req = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
                if (!req)
                        return error_set(err, -EINVAL, "cannot serialize request body");
        }
        r = kclient_request(c, method, path, obj ? content_type : NULL, req, req ? strlen(req) : 0,
                            &status, &resp, &resp_len, err);
        if (r < 0)
                return r;
        r = kclient_status_to_errno(status, resp, resp_len, err);
        if (r < 0)
                return r;
        r = parse_body(resp, resp_len, &j, err);
        if (r < 0)
                return r;
        if (ret)
                *ret = j;
        else
                json_decref(j);
        return 0;
}

int kclient_get(struct kclient *c, const char *path, json_t **ret, struct error *err)
{
        return json_call(c, "GET", path, NULL, NULL, ret, err);
}

int kclient_create(struct kclient *c, const char *path, json_t *obj, json_t **ret,
                   struct error *err)
{
        return json_call(c, "POST", path, "application/json", obj, ret, err);
}

int kclient_update(struct kclient *c, const char *path, json_t *obj, json_t **ret,
                   struct error *err)
{
        return json_call(c, "PUT", path, "application/json", obj, ret, err);
}

int kclient_patch(struct kclient *c, const char *path, const char *patch_type, json_t *patch,
                  json_t **ret, struct error *err)
{
        const char *ct;

        if (!patch_type || strcmp(patch_type, "merge") == 0)
                ct = "application/merge-patch+json";
        else if (strcmp(patch_type, "strategic") == 0)
                ct = "application/strategic-merge-patch+json";
        else if (strcmp(patch_type, "json") == 0)
                ct = "application/json-patch+json";
        else if (strcmp(patch_type, "apply") == 0)
                ct = "application/apply-patch+yaml";
        else
                return error_set(err, -EINVAL, "unknown patch type \"%s\"", patch_type);
        if (!patch)
                return error_set(err, -EINVAL, "patch body required");
        return json_call(c, "PATCH", path, ct, patch, ret, err);
}

int kclient_delete(struct kclient *c, const char *path, json_t *options, json_t **ret,
                   struct error *err)
{
        return json_call(c, "DELETE", path, "application/json", options, ret, err);
}

/* ---- watch ---- */

struct watch_ctx {
        int (*fn)(const char *type, json_t *obj, void *ud);
        void *ud;
        struct error *err;
        char *line; /* partial event carried across chunks */
        size_t len, cap;
        int result; /* non-zero once the stream must stop */
};

static int watch_event(struct watch_ctx *w, const char *buf, size_t len)
{
        _cleanup_(json_decrefp) json_t *ev = NULL;
        json_error_t jerr;
        const char *type;
        json_t *obj;

        /* Skip blank lines (a keep-alive newline is harmless). */
        while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
                len--;
        if (len == 0)
                return 0;
        ev = json_loadb(buf, len, 0, &jerr);
        if (!ev)
                return error_set(w->err, -EPROTO, "watch: invalid event: %d:%d: %s", jerr.line,
                                 jerr.column, jerr.text);
        type = json_string_value(json_object_get(ev, "type"));
        obj = json_object_get(ev, "object");
        if (!type || !json_is_object(obj))
                return error_set(w->err, -EPROTO, "watch: event without type or object");
        return w->fn(type, obj, w->ud);
}

static int watch_write(const char *data, size_t len, void *ud)
{
        struct watch_ctx *w = ud;

        while (len > 0) {
                const char *nl = memchr(data, '\n', len);
                size_t n = nl ? (size_t)(nl - data) : len;

                if (w->len + n > KCLIENT_MAX_EVENT) {
                        w->result = error_set(w->err, -E2BIG, "watch: event larger than %u bytes",
                                              KCLIENT_MAX_EVENT);
                        return w->result;
                }
                if (nl && w->len == 0) {
                        /* Whole event inside this chunk: no copy. */
                        w->result = watch_event(w, data, n);
                } else {
                        if (w->len + n > w->cap) {
                                w->cap = MAX(w->len + n, w->cap ? w->cap * 2 : 8192);
                                w->line = xrealloc(w->line, w->cap);
                        }
                        memcpy(w->line + w->len, data, n);
                        w->len += n;
                        if (nl) {
                                w->result = watch_event(w, w->line, w->len);
                                w->len = 0;
                        }
                }
                if (w->result)
                        return w->result;
                if (!nl)
                        break;
                data = nl + 1;
                len -= n + 1;
        }
        return 0;
}

static int stream_call(struct kclient *c, const char *path, http_client_write_fn fn, void *ud,
                       struct error *err)
{
        _cleanup_free_ char *url = make_url(c, path), *err_body = NULL;
        long status = 0;
        int r;

        r = http_client_stream(c->http, "GET", url, NULL, NULL, 0, fn, ud, &status, &err_body, err);
        if (r != 0)
                return r;
        if (status < 200 || status > 299)
                return kclient_status_to_errno(status, err_body, err_body ? strlen(err_body) : 0,
                                               err);
        return 0;
}

int kclient_watch(struct kclient *c, const char *path,
                  int (*fn)(const char *type, json_t *obj, void *ud), void *ud, struct error *err)
{
        struct watch_ctx w = {.fn = fn, .ud = ud, .err = err};
        int r;

        r = stream_call(c, path, watch_write, &w, err);
        /* The stream ended cleanly: an unterminated last event still counts. */
        if (r == 0 && w.len > 0)
                r = watch_event(&w, w.line, w.len);
        free(w.line);
        return r;
}

int kclient_stream(struct kclient *c, const char *path,
                   int (*fn)(const char *data, size_t len, void *ud), void *ud, struct error *err)
{
        return stream_call(c, path, fn, ud, err);
}
