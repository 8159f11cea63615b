/* kubeconfig.c — read and write kubeconfig files (see kubeconfig.h). */
#include "client/kubeconfig.h"
#include "common/fs.h"

#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/stat.h>

#include "common/kyaml.h"

#define PEM_MAX_SIZE (1u << 20)

void kubeconfig_info_clear(struct kubeconfig_info *k)
{
        if (!k)
                return;
        free(k->server);
        free(k->ca_pem);
        free(k->cert_pem);
        free(k->key_pem);
        free(k->token);
        free(k->context);
        free(k->namespace);
        memset(k, 0, sizeof(*k));
}

/* ---- base64 (RFC 4648, standard alphabet, padded) ---- */

static const char b64_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *in, size_t len)
{
        char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
        size_t i;

        for (i = 0; i + 2 < len; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
                *o++ = b64_alphabet[v >> 18 & 63];
                *o++ = b64_alphabet[v >> 12 & 63];
                *o++ = b64_alphabet[v >> 6 & 63];
                *o++ = b64_alphabet[v & 63];
        }
        if (i < len) {
                uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
                *o++ = b64_alphabet[v >> 18 & 63];
                *o++ = b64_alphabet[v >> 12 & 63];
                *o++ = i + 1 < len ? b64_alphabet[v >> 6 & 63] : '=';
                *o++ = '=';
        }
        *o = 0;
        return out;
}

static int b64_value(char ch)
{
        if (ch >= 'A' && ch <= 'Z')
                return ch - 'A';
        if (ch >= 'a' && ch <= 'z')
                return ch - 'a' + 26;
        if (ch >= '0' && ch <= '9')
                return ch - '0' + 52;
        if (ch == '+' || ch == '-')
                return 62;
        if (ch == '/' || ch == '_')
                return 63;
        return -1;
}

/* Decodes into a NUL-terminated string; whitespace is skipped, padding optional. Returns NULL on
 * an invalid character or a NUL byte in the output (PEM text never has one). */
static char *b64_decode(const char *in)
{
        size_t n = strlen(in);
        char *out = xmalloc(n / 4 * 3 + 4), *o = out;
        uint32_t acc = 0;
        int bits = 0;

        for (const char *p = in; *p; p++) {
                int v;
                if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
                        continue;
                if (*p == '=')
                        break;
                v = b64_value(*p);
                if (v < 0)
                        goto fail;
                acc = acc << 6 | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        *o = (char)(acc >> bits & 0xff);
                        if (!*o)
                                goto fail;
                        o++;
                }
        }
        *o = 0;
        return out;
fail:
        free(out);
        return NULL;
}

/* ---- files ---- */

/* ---- parsing ---- */

/* The entry named name in a kubeconfig list ("clusters", "users", "contexts"): its inner object
 * under key inner, borrowed; NULL with err set otherwise. */
static json_t *find_named(json_t *root, const char *list, const char *name, const char *inner,
                          struct error *err)
{
        json_t *arr = json_object_get(root, list), *e;
        size_t i;

        if (arr && !json_is_array(arr) && !json_is_null(arr)) {
                error_set(err, -EINVAL, "kubeconfig: %s: not a list", list);
                return NULL;
        }
        json_array_foreach(arr, i, e)
        {
                json_t *n = json_object_get(e, "name"), *in;
                if (!json_is_string(n) || strcmp(json_string_value(n), name) != 0)
                        continue;
                in = json_object_get(e, inner);
                if (!json_is_object(in)) {
                        error_set(err, -EINVAL, "kubeconfig: %s[%zu] \"%s\": no %s mapping", list,
                                  i, name, inner);
                        return NULL;
                }
                return in;
        }
        error_set(err, -EINVAL, "kubeconfig: no %.*s named \"%s\" in %s", (int)strlen(list) - 1,
                  list, name, list);
        return NULL;
}

static int get_str(json_t *obj, const char *key, const char *where, const char **ret,
                   struct error *err)
{
        json_t *v = json_object_get(obj, key);

        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return error_set(err, -EINVAL, "kubeconfig: %s: %s: expected a string", where, key);
        *ret = json_string_value(v);
        return 0;
}

/* PEM from "<key>-data" (base64) or "<key>" (file path). *ret stays NULL if neither is set. */
static int load_pem(json_t *obj, const char *key, const char *where, const char *base_dir,
                    char **ret, struct error *err)
{
        _cleanup_free_ char *data_key = xasprintf("%s-data", key);
        const char *data, *file;
        int r;

        r = get_str(obj, data_key, where, &data, err);
        if (r < 0)
                return r;
        r = get_str(obj, key, where, &file, err);
        if (r < 0)
                return r;
        if (data && *data) {
                char *pem = b64_decode(data);
                if (!pem)
                        return error_set(err, -EINVAL, "kubeconfig: %s: %s: invalid base64", where,
                                         data_key);
                *ret = pem;
                return 0;
        }
        if (file && *file) {
                _cleanup_free_ char *path = NULL;
                char *pem;
                if (!base_dir)
                        return error_set(err, -EINVAL,
                                         "kubeconfig: %s: %s: file references not allowed here",
                                         where, key);
                path = file[0] == '/' ? xstrdup(file) : xasprintf("%s/%s", base_dir, file);
                r = fs_read_file(path, PEM_MAX_SIZE, &pem, NULL, err);
                if (r < 0)
                        return error_wrap(err, r, "kubeconfig: %s: %s", where, key);
                *ret = pem;
        }
        return 0;
}

int kubeconfig_parse(const char *buf, size_t len, const char *base_dir, struct kubeconfig_info *ret,
                     struct error *err)
{
        _cleanup_(json_decrefp) json_t *root = NULL;
        struct kubeconfig_info k = {};
        json_t *ctx, *cluster, *user = NULL, *contexts;
        const char *cur = NULL, *cluster_name, *user_name, *ns, *server, *token, *token_file;
        _cleanup_free_ char *cwhere = NULL, *uwhere = NULL;
        int r;

        r = kyaml_parse_one(buf, len, &root, err);
        if (r < 0)
                return error_wrap(err, -EINVAL, "kubeconfig");
        if (!json_is_object(root))
                return error_set(err, -EINVAL, "kubeconfig: not a mapping");

        r = get_str(root, "current-context", "kubeconfig", &cur, err);
        if (r < 0)
                return r;
        contexts = json_object_get(root, "contexts");
        if (!cur || !*cur) {
                /* No current-context: use the only context if there is exactly one. */
                json_t *only = json_is_array(contexts) && json_array_size(contexts) == 1
                                       ? json_object_get(json_array_get(contexts, 0), "name")
                                       : NULL;
                if (!json_is_string(only))
                        return error_set(err, -EINVAL, "kubeconfig: current-context is not set");
                cur = json_string_value(only);
        }
        ctx = find_named(root, "contexts", cur, "context", err);
        if (!ctx)
                return -EINVAL;
        if ((r = get_str(ctx, "cluster", "context", &cluster_name, err)) < 0 ||
            (r = get_str(ctx, "user", "context", &user_name, err)) < 0 ||
            (r = get_str(ctx, "namespace", "context", &ns, err)) < 0)
                return r;
        if (!cluster_name || !*cluster_name)
                return error_set(err, -EINVAL, "kubeconfig: context \"%s\" has no cluster", cur);
        cwhere = xasprintf("cluster \"%s\"", cluster_name);
        uwhere = xasprintf("user \"%s\"", user_name ? user_name : "");
        cluster = find_named(root, "clusters", cluster_name, "cluster", err);
        if (!cluster)
                return -EINVAL;
        if (user_name && *user_name) {
                user = find_named(root, "users", user_name, "user", err);
                if (!user)
                        return -EINVAL;
        }

        r = get_str(cluster, "server", cwhere, &server, err);
        if (r < 0)
                return r;
        if (!server || !*server)
                return error_set(err, -EINVAL, "kubeconfig: cluster \"%s\" has no server",
                                 cluster_name);
        if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
                return error_set(err, -EINVAL,
                                 "kubeconfig: cluster \"%s\": server \"%s\" is not an http(s) URL",
                                 cluster_name, server);
        k.server = xstrdup(server);
        /* Drop trailing slashes: paths are appended as "/api/...". */
        for (size_t n = strlen(k.server); n > 0 && k.server[n - 1] == '/'; n--)
                k.server[n - 1] = 0;
        k.insecure_skip_tls_verify =
                json_is_true(json_object_get(cluster, "insecure-skip-tls-verify"));
        r = load_pem(cluster, "certificate-authority", cwhere, base_dir, &k.ca_pem, err);
        if (r < 0)
                goto fail;
        if (user) {
                r = load_pem(user, "client-certificate", uwhere, base_dir, &k.cert_pem, err);
                if (r < 0)
                        goto fail;
                r = load_pem(user, "client-key", uwhere, base_dir, &k.key_pem, err);
                if (r < 0)
                        goto fail;
                if (!k.cert_pem != !k.key_pem) {
                        r = error_set(err, -EINVAL,
                                      "kubeconfig: user \"%s\": client certificate without key "
                                      "(or key without certificate)",
                                      user_name);
                        goto fail;
                }
                if ((r = get_str(user, "token", uwhere, &token, err)) < 0 ||
                    (r = get_str(user, "tokenFile", uwhere, &token_file, err)) < 0)
                        goto fail;
                if (token && *token) {
                        k.token = xstrdup(token);
                } else if (token_file && *token_file) {
                        _cleanup_free_ char *path = NULL;
                        char *t;
                        size_t n;
                        if (!base_dir) {
                                r = error_set(err, -EINVAL,
                                              "kubeconfig: user.tokenFile: file "
                                              "references not allowed here");
                                goto fail;
                        }
                        path = token_file[0] == '/' ? xstrdup(token_file)
                                                    : xasprintf("%s/%s", base_dir, token_file);
                        r = fs_read_file(path, 64 * 1024, &t, &n, err);
                        if (r < 0)
                                goto fail;
                        while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
                                t[--n] = 0;
                        k.token = t;
                }
        }
        k.context = xstrdup(cur);
        k.namespace = ns && *ns ? xstrdup(ns) : NULL;
        *ret = k;
        return 0;
fail:
        kubeconfig_info_clear(&k);
        return r;
}

int kubeconfig_load(const char *path, struct kubeconfig_info *ret, struct error *err)
{
        _cleanup_free_ char *buf = NULL, *dir_copy = NULL;
        size_t len;
        int r;

        r = fs_read_file(path, KUBECONFIG_MAX_SIZE, &buf, &len, err);
        if (r < 0)
                return r;
        dir_copy = xstrdup(path);
        r = kubeconfig_parse(buf, len, dirname(dir_copy), ret, err);
        if (r < 0)
                return error_wrap(err, r, "%s", path);
        return 0;
}

/* ---- writing ---- */

/* A YAML double-quoted scalar. */
static char *yaml_quote(const char *s)
{
        size_t n = strlen(s);
        char *out = xmalloc(n * 4 + 3), *o = out;

        *o++ = '"';
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\') {
                        *o++ = '\\';
                        *o++ = (char)*p;
                } else if (*p < 0x20 || *p == 0x7f) {
                        o += snprintf(o, 5, "\\x%02x", *p);
                } else {
                        *o++ = (char)*p;
                }
        }
        *o++ = '"';
        *o = 0;
        return out;
}

static int read_pem_b64(const char *path, const char *what, char **ret, struct error *err)
{
        _cleanup_free_ char *pem = NULL;
        size_t len;
        int r;

        r = fs_read_file(path, PEM_MAX_SIZE, &pem, &len, err);
        if (r < 0)
                return error_wrap(err, r, "kubeconfig: %s", what);
        if (!strstr(pem, "-----BEGIN "))
                return error_set(err, -EINVAL, "kubeconfig: %s %s: not PEM", what, path);
        *ret = b64_encode((const unsigned char *)pem, len);
        return 0;
}

static int write_all(int fd, const char *s, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, s, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                s += n;
                len -= (size_t)n;
        }
        return 0;
}

int kubeconfig_write(const char *path, const char *server_url, const char *ca_file,
                     const char *cert_file, const char *key_file, const char *context_name,
                     struct error *err)
{
        _cleanup_free_ char *ca = NULL, *cert = NULL, *key = NULL, *name = NULL, *server = NULL;
        _cleanup_free_ char *text = NULL, *user_part = NULL, *dir_copy = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (!path || !server_url || !ca_file)
                return error_set(err, -EINVAL, "kubeconfig: path, server and CA are required");
        if (!cert_file != !key_file)
                return error_set(err, -EINVAL,
                                 "kubeconfig: client certificate and key go together");
        r = read_pem_b64(ca_file, "certificate-authority", &ca, err);
        if (r < 0)
                return r;
        if (cert_file) {
                r = read_pem_b64(cert_file, "client-certificate", &cert, err);
                if (r < 0)
                        return r;
                r = read_pem_b64(key_file, "client-key", &key, err);
                if (r < 0)
                        return r;
                user_part = xasprintf("  user:\n"
                                      "    client-certificate-data: %s\n"
                                      "    client-key-data: %s\n",
                                      cert, key);
        } else {
                user_part = xstrdup("  user: {}\n");
        }
        name = yaml_quote(context_name && *context_name ? context_name : "default");
        server = yaml_quote(server_url);
        /* Same layout as k3s' /etc/rancher/k3s/k3s.yaml (keys sorted, as client-go writes). */
        text = xasprintf("apiVersion: v1\n"
                         "clusters:\n"
                         "- cluster:\n"
                         "    certificate-authority-data: %s\n"
                         "    server: %s\n"
                         "  name: %s\n"
                         "contexts:\n"
                         "- context:\n"
                         "    cluster: %s\n"
                         "    user: %s\n"
                         "  name: %s\n"
                         "current-context: %s\n"
                         "kind: Config\n"
                         "preferences: {}\n"
                         "users:\n"
                         "- name: %s\n"
                         "%s",
                         ca, server, name, name, name, name, name, name, user_part);

        dir_copy = xstrdup(path);
        r = fs_mkdir_p(dirname(dir_copy), 0755, NULL);
        if (r < 0)
                return error_set(err, r, "kubeconfig: create directory for %s: %s", path,
                                 strerror(-r));
        tmp = xasprintf("%s.tmp.XXXXXX", path);
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return error_set(err, -errno, "kubeconfig: create %s: %s", tmp, strerror(errno));
        if (fchmod(fd, 0600) < 0 || (r = write_all(fd, text, strlen(text))) < 0 || fsync(fd) < 0) {
                r = r < 0 ? r : -errno;
                unlink(tmp);
                return error_set(err, r, "kubeconfig: write %s: %s", tmp, strerror(-r));
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                unlink(tmp);
                return error_set(err, r, "kubeconfig: rename to %s: %s", path, strerror(-r));
        }
        return 0;
}

char *kubeconfig_default_path(void)
{
        const char *env = getenv("KUBECONFIG"), *home;

        if (env && *env) {
                const char *colon = strchr(env, ':');
                return colon ? xstrndup(env, (size_t)(colon - env)) : xstrdup(env);
        }
        home = getenv("HOME");
        return xasprintf("%s/.kube/config", home && *home ? home : "/root");
}
