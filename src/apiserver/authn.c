/* authn.c — request authentication: client certificates, token file, ServiceAccount JWTs
 * (see authn.h). */
#include "apiserver/authn.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/meta.h"
#include "common/kjson.h"
#include "common/strv.h"
#include "store/store.h"

struct authn {
        struct authn_token_entry *tokens;
        size_t n_tokens;
        EVP_PKEY *sa_key; /* private (and public) key, or NULL */
        char *kid;
        struct store *store;
};

/* ---- users ---- */

void authn_user_clear(struct authn_user *u)
{
        free(u->name);
        free(u->uid);
        strv_free(u->groups);
        json_decref(u->extra);
        *u = (struct authn_user){0};
}

void authn_user_anonymous(struct authn_user *u)
{
        *u = (struct authn_user){
                .name = xstrdup("system:anonymous"),
                .groups = strv_push(NULL, "system:unauthenticated"),
        };
}

bool authn_user_in_group(const struct authn_user *u, const char *g)
{
        return u->groups && strv_contains(u->groups, g);
}

json_t *authn_user_to_json(const struct authn_user *u)
{
        json_t *j = json_object();
        json_object_set_new(j, "username", json_string(u->name ? u->name : ""));
        if (u->uid && *u->uid)
                json_object_set_new(j, "uid", json_string(u->uid));
        json_t *g = json_array();
        for (char **p = u->groups; p && *p; p++)
                json_array_append_new(g, json_string(*p));
        json_object_set_new(j, "groups", g);
        if (u->extra && json_object_size(u->extra))
                json_object_set(j, "extra", u->extra);
        return j;
}

static void user_copy(struct authn_user *dst, const struct authn_user *src)
{
        *dst = (struct authn_user){
                .name = xstrdup(src->name),
                .uid = src->uid ? xstrdup(src->uid) : NULL,
                .groups = strv_dup(src->groups),
                .extra = src->extra ? json_deep_copy(src->extra) : NULL,
        };
}

static void add_authenticated(struct authn_user *u)
{
        if (!authn_user_in_group(u, "system:authenticated"))
                u->groups = strv_push(u->groups, "system:authenticated");
}

/* ---- token file ---- */

void authn_tokens_free(struct authn_token_entry *t, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(t[i].token);
                authn_user_clear(&t[i].user);
        }
        free(t);
}

/* One CSV record (Go's encoding/csv with TrimLeadingSpace) from *p; fields appended to *ret.
 * Returns 1 for a record, 0 at the end, -EINVAL for a bad quote. */
static int csv_record(const char **p, const char *end, char ***ret)
{
        const char *s = *p;
        /* skip empty lines */
        while (s < end && (*s == '\n' || *s == '\r'))
                s++;
        if (s >= end) {
                *p = s;
                return 0;
        }
        char **fields = strv_new();
        for (;;) {
                while (s < end && (*s == ' ' || *s == '\t'))
                        s++;
                size_t cap = 64, n = 0;
                char *f = xmalloc(cap);
                if (s < end && *s == '"') {
                        s++;
                        for (;;) {
                                if (s >= end) {
                                        free(f);
                                        strv_free(fields);
                                        return -EINVAL;
                                }
                                if (*s == '"') {
                                        if (s + 1 < end && s[1] == '"') {
                                                s++;
                                        } else {
                                                s++;
                                                break;
                                        }
                                }
                                if (n + 2 > cap)
                                        f = xrealloc(f, cap *= 2);
                                f[n++] = *s++;
                        }
                        /* junk between the closing quote and the separator is an error in Go */
                        if (s < end && *s != ',' && *s != '\n' && *s != '\r') {
                                free(f);
                                strv_free(fields);
                                return -EINVAL;
                        }
                } else {
                        while (s < end && *s != ',' && *s != '\n' && *s != '\r') {
                                if (*s == '"') {
                                        free(f);
                                        strv_free(fields);
                                        return -EINVAL;
                                }
                                if (n + 2 > cap)
                                        f = xrealloc(f, cap *= 2);
                                f[n++] = *s++;
                        }
                }
                f[n] = 0;
                fields = strv_push_take(fields, f);
                if (s < end && *s == ',') {
                        s++;
                        continue;
                }
                break;
        }
        if (s < end && *s == '\r')
                s++;
        if (s < end && *s == '\n')
                s++;
        *p = s;
        *ret = fields;
        return 1;
}

int authn_token_file_parse(const char *text, size_t len, struct authn_token_entry **ret,
                           size_t *ret_n, struct error *err)
{
        if (len > AUTHN_TOKEN_FILE_MAX)
                return error_set(err, -E2BIG, "token file is larger than %u bytes",
                                 AUTHN_TOKEN_FILE_MAX);
        const char *p = text, *end = text + len;
        struct authn_token_entry *t = NULL;
        size_t n = 0;
        for (size_t line = 1;; line++) {
                _cleanup_strv_free_ char **f = NULL;
                int r = csv_record(&p, end, &f);
                if (r == 0)
                        break;
                if (r < 0) {
                        authn_tokens_free(t, n);
                        return error_set(err, -EINVAL, "record %zu: bad quoting", line);
                }
                size_t nf = strv_len(f);
                if (nf == 1 && !*f[0])
                        continue; /* a blank line of spaces */
                if (nf < 3) {
                        authn_tokens_free(t, n);
                        return error_set(err, -EINVAL,
                                         "record %zu must have at least 3 columns (token, user "
                                         "name, user uid), found %zu",
                                         line, nf);
                }
                if (!*f[0] || !*f[1]) {
                        authn_tokens_free(t, n);
                        return error_set(err, -EINVAL, "record %zu: empty %s", line,
                                         *f[0] ? "user name" : "token");
                }
                /* a duplicate token: the later record wins (kube-apiserver warns) */
                struct authn_token_entry *e = NULL;
                for (size_t i = 0; i < n; i++)
                        if (!strcmp(t[i].token, f[0]))
                                e = &t[i];
                if (e) {
                        free(e->token);
                        authn_user_clear(&e->user);
                } else {
                        t = xrealloc(t, (n + 1) * sizeof(*t));
                        e = &t[n++];
                }
                *e = (struct authn_token_entry){
                        .token = xstrdup(f[0]),
                        .user = {.name = xstrdup(f[1]), .uid = xstrdup(f[2]), .groups = strv_new()},
                };
                if (nf >= 4) {
                        _cleanup_strv_free_ char **g = strv_split(f[3], ',');
                        for (char **x = g; *x; x++)
                                if (**x)
                                        e->user.groups = strv_push(e->user.groups, *x);
                }
        }
        *ret = t;
        *ret_n = n;
        return (int)MIN(n, (size_t)INT32_MAX);
}

/* ---- base64url ---- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *authn_b64url_encode(const void *buf, size_t len)
{
        const unsigned char *s = buf;
        char *out = xmalloc(len / 3 * 4 + 5);
        size_t o = 0, i = 0;
        for (; i + 3 <= len; i += 3) {
                uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
                out[o++] = b64url[v >> 18 & 63];
                out[o++] = b64url[v >> 12 & 63];
                out[o++] = b64url[v >> 6 & 63];
                out[o++] = b64url[v & 63];
        }
        if (len - i == 1) {
                uint32_t v = (uint32_t)s[i] << 16;
                out[o++] = b64url[v >> 18 & 63];
                out[o++] = b64url[v >> 12 & 63];
        } else if (len - i == 2) {
                uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
                out[o++] = b64url[v >> 18 & 63];
                out[o++] = b64url[v >> 12 & 63];
                out[o++] = b64url[v >> 6 & 63];
        }
        out[o] = 0;
        return out;
}

static int b64val(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '-')
                return 62;
        if (c == '_')
                return 63;
        return -1;
}

int authn_b64url_decode(const char *s, size_t len, char **ret, size_t *ret_len)
{
        if (len % 4 == 1)
                return -EINVAL;
        char *out = xmalloc(len / 4 * 3 + 4);
        size_t o = 0;
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < len; i++) {
                int v = b64val(s[i]);
                if (v < 0) {
                        free(out);
                        return -EINVAL;
                }
                acc = acc << 6 | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (char)(acc >> bits & 0xff);
                }
        }
        /* leftover bits must be zero (canonical encoding) */
        if (bits && (acc & ((1u << bits) - 1))) {
                free(out);
                return -EINVAL;
        }
        out[o] = 0;
        *ret = out;
        *ret_len = o;
        return 0;
}

/* ---- the service-account key ---- */

static int write_pem_file(const char *path, mode_t mode, EVP_PKEY *k, bool priv, struct error *err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return error_set(err, -errno, "%s: %m", tmp);
        FILE *f = fdopen(fd, "w");
        if (!f) {
                close(fd);
                return error_set(err, -EIO, "%s: fdopen", tmp);
        }
        int ok = priv ? PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL)
                      : PEM_write_PUBKEY(f, k);
        if (fclose(f) != 0 || !ok) {
                unlink(tmp);
                return error_set(err, -EIO, "%s: writing the key failed", tmp);
        }
        if (rename(tmp, path) < 0) {
                int e = -errno;
                unlink(tmp);
                return error_set(err, e, "%s: %m", path);
        }
        return 0;
}

static int load_or_create_key(struct authn *a, const char *tls_dir, struct error *err)
{
        _cleanup_free_ char *kpath = xasprintf("%s/sa.key", tls_dir);
        _cleanup_free_ char *ppath = xasprintf("%s/sa.pub", tls_dir);
        FILE *f = fopen(kpath, "re");
        if (f) {
                a->sa_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
                fclose(f);
                if (!a->sa_key || EVP_PKEY_get_base_id(a->sa_key) != EVP_PKEY_EC)
                        return error_set(err, -EINVAL, "%s: not an EC private key", kpath);
        } else if (errno == ENOENT) {
                a->sa_key = EVP_EC_gen("P-256");
                if (!a->sa_key)
                        return error_set(err, -EIO, "generating the service-account key failed");
                int r = write_pem_file(kpath, 0600, a->sa_key, true, err);
                if (r < 0)
                        return r;
        } else {
                return error_set(err, -errno, "%s: %m", kpath);
        }
        if (access(ppath, F_OK) < 0) {
                int r = write_pem_file(ppath, 0644, a->sa_key, false, err);
                if (r < 0)
                        return r;
        }
        /* kid: base64url(SHA-256(DER SubjectPublicKeyInfo)), as kube-apiserver computes it */
        unsigned char *der = NULL;
        int n = i2d_PUBKEY(a->sa_key, &der);
        if (n <= 0)
                return error_set(err, -EIO, "encoding the service-account public key failed");
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256(der, (size_t)n, md);
        OPENSSL_free(der);
        a->kid = authn_b64url_encode(md, sizeof(md));
        return 0;
}

static int read_file(const char *path, char **ret, size_t *ret_len, struct error *err)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return error_set(err, -errno, "%m"); /* the caller names the file */
        size_t cap = 4096, n = 0;
        char *buf = xmalloc(cap);
        size_t k;
        while ((k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
                n += k;
                if (n > AUTHN_TOKEN_FILE_MAX) {
                        fclose(f);
                        free(buf);
                        return error_set(err, -E2BIG, "larger than %u bytes", AUTHN_TOKEN_FILE_MAX);
                }
                if (cap - n < 2)
                        buf = xrealloc(buf, cap *= 2);
        }
        fclose(f);
        buf[n] = 0;
        *ret = buf;
        *ret_len = n;
        return 0;
}

int authn_new(const struct authn_config *cfg, struct authn **ret, struct error *err)
{
        struct authn *a = xcalloc(1, sizeof(*a));
        a->store = cfg->store;
        int r = 0;
        if (cfg->token_auth_file) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                r = read_file(cfg->token_auth_file, &text, &len, err);
                if (r >= 0)
                        r = authn_token_file_parse(text, len, &a->tokens, &a->n_tokens, err);
                if (r < 0)
                        error_wrap(err, r, "token file %s", cfg->token_auth_file);
        }
        if (r >= 0 && cfg->tls_dir)
                r = load_or_create_key(a, cfg->tls_dir, err);
        if (r < 0) {
                authn_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

void authn_free(struct authn *a)
{
        if (!a)
                return;
        authn_tokens_free(a->tokens, a->n_tokens);
        EVP_PKEY_free(a->sa_key);
        free(a->kid);
        free(a);
}

/* ---- JWT (ES256) ---- */

static int es256_sign(EVP_PKEY *k, const char *msg, size_t len, unsigned char sig[64])
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char der[128];
        size_t dlen = sizeof(der);
        int ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
                 EVP_DigestSign(ctx, der, &dlen, (const unsigned char *)msg, len) == 1;
        EVP_MD_CTX_free(ctx);
        if (!ok)
                return -EIO;
        const unsigned char *p = der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
        if (!es)
                return -EIO;
        const BIGNUM *r = NULL, *s = NULL;
        ECDSA_SIG_get0(es, &r, &s);
        ok = BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32;
        ECDSA_SIG_free(es);
        return ok ? 0 : -EIO;
}

static bool es256_verify(EVP_PKEY *k, const char *msg, size_t len, const unsigned char sig[64])
{
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
        if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
                BN_free(r);
                BN_free(s);
                ECDSA_SIG_free(es);
                return false;
        }
        unsigned char *der = NULL;
        int dlen = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        if (dlen <= 0)
                return false;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
                  EVP_DigestVerify(ctx, der, (size_t)dlen, (const unsigned char *)msg, len) == 1;
        EVP_MD_CTX_free(ctx);
        OPENSSL_free(der);
        return ok;
}

static int sign_claims(struct authn *a, const json_t *claims, char **ret_token, struct error *err);

int authn_sa_token_issue(struct authn *a, const char *ns, const char *name, const char *uid,
                         char *const *audiences, int64_t exp_seconds,
                         const struct authn_bound_ref *bound, time_t now, char **ret_token,
                         struct error *err)
{
        if (!a->sa_key)
                return error_set(err, -ENODEV, "no service-account signing key");
        json_t *aud = json_array();
        for (char *const *p = audiences; p && *p; p++)
                json_array_append_new(aud, json_string(*p));
        if (!json_array_size(aud))
                json_array_append_new(aud, json_string(AUTHN_ISSUER));
        char jti[37];
        meta_uid_new(jti);
        _cleanup_free_ char *sub = xasprintf("system:serviceaccount:%s:%s", ns, name);
        json_t *k8s = json_pack("{s:s,s:{s:s,s:s}}", "namespace", ns, "serviceaccount", "name",
                                name, "uid", uid ? uid : "");
        if (bound && bound->kind && bound->name) {
                const char *key = !strcmp(bound->kind, "Pod") ? "pod" : "secret";
                json_object_set_new(k8s, key,
                                    json_pack("{s:s,s:s}", "name", bound->name, "uid",
                                              bound->uid ? bound->uid : ""));
        }
        _cleanup_(json_decrefp) json_t *claims = json_pack(
                "{s:o,s:I,s:I,s:s,s:s,s:o,s:I,s:s}", "aud", aud, "exp",
                (json_int_t)(now + exp_seconds), "iat", (json_int_t)now, "iss", AUTHN_ISSUER, "jti",
                jti, "kubernetes.io", k8s, "nbf", (json_int_t)now, "sub", sub);
        return sign_claims(a, claims, ret_token, err);
}

int authn_sa_token_issue_legacy(struct authn *a, const char *ns, const char *name, const char *uid,
                                const char *secret, char **ret_token, struct error *err)
{
        if (!a->sa_key)
                return error_set(err, -ENODEV, "no service-account signing key");
        _cleanup_free_ char *sub = xasprintf("system:serviceaccount:%s:%s", ns, name);
        _cleanup_(json_decrefp) json_t *claims = json_pack(
                "{s:s,s:s,s:s,s:s,s:s,s:s}", "iss", AUTHN_LEGACY_ISSUER,
                "kubernetes.io/serviceaccount/namespace", ns,
                "kubernetes.io/serviceaccount/secret.name", secret,
                "kubernetes.io/serviceaccount/service-account.name", name,
                "kubernetes.io/serviceaccount/service-account.uid", uid ? uid : "", "sub", sub);
        return sign_claims(a, claims, ret_token, err);
}

static int sign_claims(struct authn *a, const json_t *claims, char **ret_token, struct error *err)
{
        _cleanup_(json_decrefp) json_t *hdr = json_pack("{s:s,s:s}", "alg", "ES256", "kid", a->kid);
        _cleanup_free_ char *hs = kjson_dump(hdr), *cs = kjson_dump(claims);
        _cleanup_free_ char *h64 = authn_b64url_encode(hs, strlen(hs));
        _cleanup_free_ char *c64 = authn_b64url_encode(cs, strlen(cs));
        _cleanup_free_ char *signing = xasprintf("%s.%s", h64, c64);
        unsigned char sig[64];
        if (es256_sign(a->sa_key, signing, strlen(signing), sig) < 0)
                return error_set(err, -EIO, "signing the token failed");
        _cleanup_free_ char *s64 = authn_b64url_encode(sig, sizeof(sig));
        *ret_token = xasprintf("%s.%s", signing, s64);
        return 0;
}

/* Parse one base64url JSON segment into an object. */
static int segment_json(const char *s, size_t len, json_t **ret)
{
        _cleanup_free_ char *raw = NULL;
        size_t n = 0;
        if (authn_b64url_decode(s, len, &raw, &n) < 0)
                return -EPERM;
        return kjson_parse_object(raw, n, 16, ret, NULL) < 0 ? -EPERM : 0;
}

static bool aud_matches(const json_t *aud)
{
        if (json_is_string(aud))
                return !strcmp(json_string_value(aud), AUTHN_ISSUER);
        size_t i;
        json_t *v;
        json_array_foreach(aud, i, v) if (json_is_string(v) &&
                                          !strcmp(json_string_value(v), AUTHN_ISSUER)) return true;
        return false;
}

/* Decode a compact ES256 JWT and check its signature; *ret_claims = the payload. */
static int jwt_verify_signature(struct authn *a, const char *token, json_t **ret_claims,
                                struct error *err)
{
        if (!a->sa_key)
                return error_set(err, -EPERM, "no service-account key");
        size_t len = strlen(token);
        if (len > AUTHN_TOKEN_MAX)
                return error_set(err, -EPERM, "token too long");
        const char *d1 = strchr(token, '.');
        const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
        if (!d1 || !d2 || strchr(d2 + 1, '.'))
                return error_set(err, -EPERM, "not a JWT");
        _cleanup_(json_decrefp) json_t *hdr = NULL, *claims = NULL;
        if (segment_json(token, (size_t)(d1 - token), &hdr) < 0 ||
            segment_json(d1 + 1, (size_t)(d2 - d1 - 1), &claims) < 0)
                return error_set(err, -EPERM, "malformed JWT");
        const char *alg = kjson_str(hdr, "alg");
        if (!alg || strcmp(alg, "ES256"))
                return error_set(err, -EPERM, "unsupported JWT algorithm");
        _cleanup_free_ char *sig = NULL;
        size_t slen = 0;
        if (authn_b64url_decode(d2 + 1, strlen(d2 + 1), &sig, &slen) < 0 || slen != 64 ||
            !es256_verify(a->sa_key, token, (size_t)(d2 - token), (unsigned char *)sig))
                return error_set(err, -EPERM, "invalid signature");
        *ret_claims = TAKE_PTR(claims);
        return 0;
}

/* The claims of a (signature-checked) bound token at time now. */
static int check_claims(const json_t *claims, time_t now, struct error *err)
{
        const char *iss = kjson_str(claims, "iss");
        if (!iss || strcmp(iss, AUTHN_ISSUER))
                return error_set(err, -EPERM, "wrong issuer");
        if (!aud_matches(json_object_get(claims, "aud")))
                return error_set(err, -EPERM, "token audiences do not include %s", AUTHN_ISSUER);
        json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf");
        if (!json_is_integer(exp) || json_integer_value(exp) <= now)
                return error_set(err, -EPERM, "token has expired");
        /* 60 s of leeway for clock skew, as go-jose's ValidateWithLeeway in kube-apiserver */
        if (json_is_integer(nbf) && json_integer_value(nbf) > now + 60)
                return error_set(err, -EPERM, "token is not valid yet");
        const char *sub = kjson_str(claims, "sub");
        const json_t *k8s = json_object_get(claims, "kubernetes.io"); /* a dot in the key */
        if (!sub || strncmp(sub, "system:serviceaccount:", 22) || !kjson_str(k8s, "namespace") ||
            !kjson_str(k8s, "serviceaccount.name"))
                return error_set(err, -EPERM, "not a service-account token");
        return 0;
}

int authn_sa_token_verify(struct authn *a, const char *token, time_t now, json_t **ret_claims,
                          struct error *err)
{
        _cleanup_(json_decrefp) json_t *claims = NULL;
        int r = jwt_verify_signature(a, token, &claims, err);
        if (r >= 0)
                r = check_claims(claims, now, err);
        if (r < 0)
                return r;
        *ret_claims = TAKE_PTR(claims);
        return 0;
}

/* A string member by its literal key (keys with dots, which kjson_str would split). */
static const char *kjson_str_key(const json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

/* Standard padded base64 (a Secret's data value) to a NUL-terminated string, or NULL. */
static char *authn_b64_decode_std(const char *s)
{
        size_t len = strlen(s);
        if (len % 4 || len > 4 * AUTHN_TOKEN_MAX)
                return NULL;
        unsigned char *out = xmalloc(len / 4 * 3 + 1);
        int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
        if (n < 0) {
                free(out);
                return NULL;
        }
        /* EVP_DecodeBlock counts the padding as zero bytes */
        for (size_t i = len; i > 0 && s[i - 1] == '='; i--)
                n--;
        out[n] = 0;
        return (char *)out;
}

/* The stored object's metadata.uid, or NULL if the key is absent (caller frees). */
static char *stored_uid(struct store *st, const char *key)
{
        struct store_kv kv = {0};
        if (!st || store_get(st, key, &kv, NULL) < 0)
                return NULL;
        json_t *o = NULL;
        char *uid = NULL;
        if (kjson_parse(kv.value, kv.value_len, 0, &o, NULL) == 0) {
                const char *u = kjson_str(o, "metadata.uid");
                uid = xstrdup(u ? u : "");
        }
        json_decref(o);
        store_kv_clear(&kv);
        return uid;
}

/* A legacy token (kubernetes.io/service-account-token Secret): valid while the Secret exists
 * holding exactly this token and the ServiceAccount exists with the token's uid. */
static int legacy_authenticate(struct authn *a, const char *token, const json_t *c,
                               struct authn_user *ret, struct error *err)
{
        const char *ns = kjson_str_key(c, "kubernetes.io/serviceaccount/namespace");
        const char *name = kjson_str_key(c, "kubernetes.io/serviceaccount/service-account.name");
        const char *uid = kjson_str_key(c, "kubernetes.io/serviceaccount/service-account.uid");
        const char *secret = kjson_str_key(c, "kubernetes.io/serviceaccount/secret.name");
        if (!ns || !name || !secret)
                return error_set(err, -EPERM, "malformed legacy service-account token");
        _cleanup_free_ char *key = xasprintf("/registry/serviceaccounts/%s/%s", ns, name);
        _cleanup_free_ char *have = stored_uid(a->store, key);
        if (!have || (uid && strcmp(uid, have)))
                return error_set(err, -EPERM, "serviceaccount %s/%s is gone", ns, name);
        _cleanup_free_ char *skey = xasprintf("/registry/secrets/%s/%s", ns, secret);
        struct store_kv kv = {0};
        if (!a->store || store_get(a->store, skey, &kv, NULL) < 0)
                return error_set(err, -EPERM, "secret %s/%s is gone", ns, secret);
        json_t *o = NULL;
        bool same = false;
        if (kjson_parse(kv.value, kv.value_len, 0, &o, NULL) == 0) {
                const char *b64 = kjson_str(json_object_get(o, "data"), "token");
                _cleanup_free_ char *stored = b64 ? authn_b64_decode_std(b64) : NULL;
                same = stored && !strcmp(stored, token);
        }
        json_decref(o);
        store_kv_clear(&kv);
        if (!same)
                return error_set(err, -EPERM, "secret %s/%s no longer holds the token", ns, secret);
        *ret = (struct authn_user){
                .name = xasprintf("system:serviceaccount:%s:%s", ns, name),
                .uid = xstrdup(have),
                .groups = strv_push(NULL, "system:serviceaccounts"),
        };
        _cleanup_free_ char *nsg = xasprintf("system:serviceaccounts:%s", ns);
        ret->groups = strv_push(ret->groups, nsg);
        add_authenticated(ret);
        return 1;
}

static int sa_authenticate(struct authn *a, const char *token, struct authn_user *ret,
                           struct error *err)
{
        _cleanup_(json_decrefp) json_t *c = NULL;
        int r = jwt_verify_signature(a, token, &c, err);
        if (r < 0)
                return r;
        const char *iss = kjson_str(c, "iss");
        if (iss && !strcmp(iss, AUTHN_LEGACY_ISSUER))
                return legacy_authenticate(a, token, c, ret, err);
        r = check_claims(c, time(NULL), err);
        if (r < 0)
                return r;
        const json_t *k8s = json_object_get(c, "kubernetes.io");
        const char *ns = kjson_str(k8s, "namespace");
        const char *name = kjson_str(k8s, "serviceaccount.name");
        const char *uid = kjson_str(k8s, "serviceaccount.uid");
        _cleanup_free_ char *key = xasprintf("/registry/serviceaccounts/%s/%s", ns, name);
        _cleanup_free_ char *have = stored_uid(a->store, key);
        if (!have)
                return error_set(err, -EPERM, "serviceaccount %s/%s not found", ns, name);
        if (uid && strcmp(uid, have))
                return error_set(err, -EPERM, "serviceaccount %s/%s uid mismatch", ns, name);
        const char *pod = kjson_str(k8s, "pod.name");
        const char *pod_uid = kjson_str(k8s, "pod.uid");
        const char *secret = kjson_str(k8s, "secret.name");
        const char *secret_uid = kjson_str(k8s, "secret.uid");
        if (pod || secret) {
                _cleanup_free_ char *bkey = xasprintf(
                        "/registry/%s/%s/%s", pod ? "pods" : "secrets", ns, pod ? pod : secret);
                _cleanup_free_ char *bu = stored_uid(a->store, bkey);
                const char *want = pod ? pod_uid : secret_uid;
                if (!bu || (want && *want && strcmp(want, bu)))
                        return error_set(err, -EPERM, "%s %s/%s bound to the token is gone",
                                         pod ? "pod" : "secret", ns, pod ? pod : secret);
        }
        *ret = (struct authn_user){
                .name = xasprintf("system:serviceaccount:%s:%s", ns, name),
                .uid = xstrdup(have),
                .groups = strv_push(NULL, "system:serviceaccounts"),
        };
        _cleanup_free_ char *nsg = xasprintf("system:serviceaccounts:%s", ns);
        ret->groups = strv_push(ret->groups, nsg);
        ret->extra = json_object();
        const char *jti = kjson_str(c, "jti");
        if (jti) {
                _cleanup_free_ char *cid = xasprintf("JTI=%s", jti);
                json_object_set_new(ret->extra, "authentication.kubernetes.io/credential-id",
                                    json_pack("[s]", cid));
        }
        if (pod) {
                json_object_set_new(ret->extra, "authentication.kubernetes.io/pod-name",
                                    json_pack("[s]", pod));
                json_object_set_new(ret->extra, "authentication.kubernetes.io/pod-uid",
                                    json_pack("[s]", pod_uid ? pod_uid : ""));
        }
        add_authenticated(ret);
        return 1;
}

int authn_request(struct authn *a, const char *cert_user, const char *cert_groups,
                  const char *authorization, struct authn_user *ret, struct error *err)
{
        if (cert_user && *cert_user) {
                *ret = (struct authn_user){
                        .name = xstrdup(cert_user),
                        .groups = cert_groups && *cert_groups ? strv_split(cert_groups, ',')
                                                              : strv_new(),
                };
                add_authenticated(ret);
                return 1;
        }
        const char *tok = NULL;
        if (authorization && !strncasecmp(authorization, "bearer ", 7)) {
                tok = authorization + 7;
                while (*tok == ' ')
                        tok++;
                if (!*tok)
                        tok = NULL;
        }
        if (!tok) {
                authn_user_anonymous(ret);
                return 0;
        }
        /* trailing whitespace is not part of the token */
        size_t len = strlen(tok);
        while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
                len--;
        if (len > AUTHN_TOKEN_MAX)
                return error_set(err, -EPERM, "bearer token too long");
        _cleanup_free_ char *t = xstrndup(tok, len);
        for (size_t i = 0; a && i < a->n_tokens; i++) {
                const char *have = a->tokens[i].token;
                if (strlen(have) == len && !CRYPTO_memcmp(have, t, len)) {
                        user_copy(ret, &a->tokens[i].user);
                        add_authenticated(ret);
                        return 1;
                }
        }
        if (a && a->sa_key && strchr(t, '.'))
                return sa_authenticate(a, t, ret, err);
        return error_set(err, -EPERM, "invalid bearer token");
}
