/* pki.c — cluster CA and certificates with OpenSSL 3; see pki.h. */
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "http/pki.h"
#include "common/fs.h"

#define CA_DAYS 3650
#define LEAF_DAYS 365
#define RENEW_BEFORE_DAYS 30
#define MAX_SANS 64

static void x509_freep(X509 **p)
{
        X509_free(*p);
}
static void pkey_freep(EVP_PKEY **p)
{
        EVP_PKEY_free(*p);
}
#define _cleanup_x509_ _cleanup_(x509_freep)
#define _cleanup_pkey_ _cleanup_(pkey_freep)

static int ossl_error(struct error *err, const char *what)
{
        char buf[256] = "";
        unsigned long e = ERR_peek_last_error();
        if (e)
                ERR_error_string_n(e, buf, sizeof(buf));
        ERR_clear_error();
        return error_set(err, -EIO, "%s: %s", what, e ? buf : "OpenSSL error");
}

static int check_sans(const char *const *sans, struct error *err)
{
        size_t n = 0;
        for (; sans && *sans; sans++, n++) {
                const char *s = *sans;
                if (n >= MAX_SANS)
                        return error_set(err, -EINVAL, "too many SANs");
                if (strncmp(s, "DNS:", 4) && strncmp(s, "IP:", 3))
                        return error_set(err, -EINVAL, "SAN \"%s\": want DNS:name or IP:addr", s);
                if (strpbrk(s, ", \t\n\r") || strlen(s) > 255 || !strchr(s, ':')[1])
                        return error_set(err, -EINVAL, "bad SAN \"%s\"", s);
        }
        return 0;
}

/* ---- loading ---- */

static X509 *load_cert(const char *path)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        return f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
}

static EVP_PKEY *load_key(const char *path)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        return f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
}

/* ---- writing ---- */

/* Write via path.tmp + fsync + rename. is_key: PKCS#8 private key, 0600. */
static int write_pem(const char *path, X509 *cert, EVP_PKEY *key, struct error *err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
        int fd, ok;
        FILE *f;

        unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, key ? 0600 : 0644);
        if (fd < 0)
                return error_set(err, -errno, "create %s: %s", tmp, strerror(errno));
        f = fdopen(fd, "w");
        if (!f) {
                int e = -errno;
                close(fd);
                unlink(tmp);
                return error_set(err, e, "fdopen %s", tmp);
        }
        ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                 : PEM_write_X509(f, cert);
        ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
        if (fclose(f) != 0)
                ok = 0;
        if (!ok) {
                unlink(tmp);
                ERR_clear_error();
                return error_set(err, -EIO, "write %s failed", tmp);
        }
        if (rename(tmp, path) < 0) {
                int e = -errno;
                unlink(tmp);
                return error_set(err, e, "rename %s: %s", path, strerror(-e));
        }
        return 0;
}

/* ---- building ---- */

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
        X509V3_CTX ctx;
        X509_EXTENSION *ext;
        int ok;

        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        if (!ext)
                return -EIO;
        ok = X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
        return ok ? 0 : -EIO;
}

static int set_serial(X509 *cert)
{
        unsigned char b[16];
        BIGNUM *bn;
        int ok;

        if (RAND_bytes(b, sizeof(b)) != 1)
                return -EIO;
        b[0] &= 0x7f; /* positive */
        b[0] |= 0x01; /* and non-zero */
        bn = BN_bin2bn(b, sizeof(b), NULL);
        ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
        BN_free(bn);
        return ok ? 0 : -EIO;
}

struct cert_spec {
        const char *cn;
        const char *org; /* or NULL */
        bool ca, server, client;
        const char *const *sans;
        long days;
};

/* A new key and a certificate for it, signed by ca/ca_key (self-signed if ca is NULL). */
static int make_cert(const struct cert_spec *spec, X509 *ca, EVP_PKEY *ca_key, X509 **ret_cert,
                     EVP_PKEY **ret_key, struct error *err)
{
        _cleanup_pkey_ EVP_PKEY *key = EVP_EC_gen("P-256");
        _cleanup_x509_ X509 *cert = X509_new();
        X509_NAME *name;
        X509 *issuer;
        char eku[64] = "";

        if (!key || !cert)
                return ossl_error(err, "key generation");
        if (!X509_set_version(cert, 2) || set_serial(cert) < 0 ||
            !X509_gmtime_adj(X509_getm_notBefore(cert), -3600) ||
            !X509_time_adj_ex(X509_getm_notAfter(cert), (int)spec->days, 0, NULL) ||
            !X509_set_pubkey(cert, key))
                return ossl_error(err, "certificate fields");
        name = X509_get_subject_name(cert);
        if (spec->org && !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                                     (const unsigned char *)spec->org, -1, -1, 0))
                return ossl_error(err, "subject O");
        if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)spec->cn,
                                        -1, -1, 0))
                return ossl_error(err, "subject CN");
        issuer = ca ? ca : cert;
        if (!X509_set_issuer_name(cert, X509_get_subject_name(issuer)))
                return ossl_error(err, "issuer");

        if (add_ext(cert, issuer, NID_basic_constraints,
                    spec->ca ? "critical,CA:TRUE" : "critical,CA:FALSE") < 0 ||
            add_ext(cert, issuer, NID_key_usage,
                    spec->ca ? "critical,keyCertSign,cRLSign,digitalSignature"
                             : "critical,digitalSignature,keyEncipherment") < 0 ||
            add_ext(cert, issuer, NID_subject_key_identifier, "hash") < 0)
                return ossl_error(err, "extensions");
        if (ca && add_ext(cert, issuer, NID_authority_key_identifier, "keyid:always") < 0)
                return ossl_error(err, "authorityKeyIdentifier");
        if (spec->server || spec->client) {
                snprintf(eku, sizeof(eku), "%s%s%s", spec->server ? "serverAuth" : "",
                         spec->server && spec->client ? "," : "", spec->client ? "clientAuth" : "");
                if (add_ext(cert, issuer, NID_ext_key_usage, eku) < 0)
                        return ossl_error(err, "extendedKeyUsage");
        }
        if (spec->sans && spec->sans[0]) {
                size_t len = 1;
                for (const char *const *s = spec->sans; *s; s++)
                        len += strlen(*s) + 1;
                _cleanup_free_ char *v = xmalloc(len);
                size_t off = 0;
                for (const char *const *s = spec->sans; *s; s++)
                        off += (size_t)snprintf(v + off, len - off, "%s%s", off ? "," : "", *s);
                if (add_ext(cert, issuer, NID_subject_alt_name, v) < 0)
                        return ossl_error(err, "subjectAltName");
        }
        if (!X509_sign(cert, ca ? ca_key : key, EVP_sha256()))
                return ossl_error(err, "signing");
        *ret_cert = TAKE_PTR(cert);
        *ret_key = TAKE_PTR(key);
        return 0;
}

/* ---- checking existing files ---- */

static bool has_san(X509 *cert, const char *san)
{
        GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
        bool found = false;
        bool is_ip = strncmp(san, "IP:", 3) == 0;
        const char *v = strchr(san, ':') + 1;
        unsigned char ip[16];
        int iplen = 0;

        if (!names)
                return false;
        if (is_ip) {
                ASN1_OCTET_STRING *o = a2i_IPADDRESS(v);
                if (o) {
                        iplen = ASN1_STRING_length(o);
                        if (iplen > 0 && iplen <= 16)
                                memcpy(ip, ASN1_STRING_get0_data(o), (size_t)iplen);
                        ASN1_OCTET_STRING_free(o);
                }
        }
        for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; i++) {
                GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
                if (!is_ip && gn->type == GEN_DNS) {
                        const ASN1_IA5STRING *d = gn->d.dNSName;
                        found = (size_t)ASN1_STRING_length(d) == strlen(v) &&
                                memcmp(ASN1_STRING_get0_data(d), v, strlen(v)) == 0;
                } else if (is_ip && gn->type == GEN_IPADD && iplen > 0) {
                        const ASN1_OCTET_STRING *d = gn->d.iPAddress;
                        found = ASN1_STRING_length(d) == iplen &&
                                memcmp(ASN1_STRING_get0_data(d), ip, (size_t)iplen) == 0;
                }
        }
        GENERAL_NAMES_free(names);
        return found;
}

static bool cert_verifies(X509 *cert, X509 *ca)
{
        X509_STORE *store = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        bool ok = false;

        if (store && ctx && X509_STORE_add_cert(store, ca) &&
            X509_STORE_CTX_init(ctx, store, cert, NULL)) {
                X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
                ok = X509_verify_cert(ctx) == 1;
        }
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(store);
        ERR_clear_error();
        return ok;
}

static bool expires_soon(X509 *cert)
{
        time_t t = time(NULL) + (time_t)RENEW_BEFORE_DAYS * 86400;
        return X509_cmp_time(X509_get0_notAfter(cert), &t) <= 0;
}

static bool leaf_is_good(const char *crt_path, const char *key_path, X509 *ca,
                         const struct cert_spec *spec)
{
        _cleanup_x509_ X509 *cert = load_cert(crt_path);
        _cleanup_pkey_ EVP_PKEY *key = load_key(key_path);
        char cn[256];

        ERR_clear_error();
        if (!cert || !key || X509_check_private_key(cert, key) != 1)
                goto bad;
        if (!cert_verifies(cert, ca) || expires_soon(cert))
                goto bad;
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn)) <
                    0 ||
            strcmp(cn, spec->cn) != 0)
                goto bad;
        for (const char *const *s = spec->sans; s && *s; s++)
                if (!has_san(cert, *s))
                        goto bad;
        return true;
bad:
        ERR_clear_error();
        return false;
}

/* ---- CA ---- */

static int ca_load_or_create(const char *dir, bool create, X509 **ret_ca, EVP_PKEY **ret_key,
                             bool *ret_created, struct error *err)
{
        _cleanup_free_ char *crt = xasprintf("%s/ca.crt", dir);
        _cleanup_free_ char *keyp = xasprintf("%s/ca.key", dir);
        _cleanup_x509_ X509 *ca = NULL;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        bool have_crt = access(crt, F_OK) == 0, have_key = access(keyp, F_OK) == 0;
        static const struct cert_spec spec = {.cn = "timonel-ca", .ca = true, .days = CA_DAYS};
        int r;

        *ret_created = false;
        if (have_crt && have_key) {
                ca = load_cert(crt);
                key = load_key(keyp);
                if (!ca || !key)
                        return ossl_error(err, ca ? "loading CA key" : "loading CA certificate");
                if (X509_check_private_key(ca, key) != 1)
                        return ossl_error(err, "ca.key does not match ca.crt");
        } else if (have_crt || have_key || !create) {
                return error_set(err, -ENOENT, "%s: %s without %s", dir,
                                 have_crt ? "ca.crt" : "ca.key", have_crt ? "ca.key" : "ca.crt");
        } else {
                r = make_cert(&spec, NULL, NULL, &ca, &key, err);
                if (r < 0)
                        return error_wrap(err, r, "CA");
                r = write_pem(keyp, NULL, key, err);
                if (r < 0)
                        return r;
                r = write_pem(crt, ca, NULL, err);
                if (r < 0)
                        return r;
                *ret_created = true;
        }
        *ret_ca = TAKE_PTR(ca);
        *ret_key = TAKE_PTR(key);
        return 0;
}

static int leaf_ensure(const char *prefix, X509 *ca, EVP_PKEY *ca_key, const struct cert_spec *spec,
                       bool force, struct error *err)
{
        _cleanup_free_ char *crt = xasprintf("%s.crt", prefix);
        _cleanup_free_ char *keyp = xasprintf("%s.key", prefix);
        _cleanup_x509_ X509 *cert = NULL;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        int r;

        if (!force && leaf_is_good(crt, keyp, ca, spec))
                return 0;
        r = make_cert(spec, ca, ca_key, &cert, &key, err);
        if (r < 0)
                return error_wrap(err, r, "%s", spec->cn);
        /* key first: a crash in between leaves a mismatch, which the next run repairs */
        r = write_pem(keyp, NULL, key, err);
        if (r < 0)
                return r;
        return write_pem(crt, cert, NULL, err);
}

int pki_ensure(const char *tls_dir, const char *const *server_sans, struct error *err)
{
        _cleanup_x509_ X509 *ca = NULL;
        _cleanup_pkey_ EVP_PKEY *ca_key = NULL;
        bool created;
        int r;
        const struct cert_spec leaves[] = {
                {.cn = "kube-apiserver", .server = true, .sans = server_sans, .days = LEAF_DAYS},
                {.cn = "system:admin", .org = "system:masters", .client = true, .days = LEAF_DAYS},
                {.cn = "kube-apiserver-kubelet-client",
                 .org = "system:masters",
                 .client = true,
                 .days = LEAF_DAYS},
        };
        static const char *const names[] = {"server", "admin", "kubelet-client"};

        r = check_sans(server_sans, err);
        if (r < 0)
                return r;
        r = fs_mkdir_p(tls_dir, 0700, err);
        if (r < 0)
                return r;
        r = ca_load_or_create(tls_dir, true, &ca, &ca_key, &created, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ARRAY_SIZE(leaves); i++) {
                _cleanup_free_ char *prefix = xasprintf("%s/%s", tls_dir, names[i]);
                r = leaf_ensure(prefix, ca, ca_key, &leaves[i], created, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pki_issue(const char *tls_dir, const char *out_prefix, const char *cn, const char *org,
              bool server, bool client, const char *const *sans, struct error *err)
{
        _cleanup_x509_ X509 *ca = NULL;
        _cleanup_pkey_ EVP_PKEY *ca_key = NULL;
        bool created;
        struct cert_spec spec = {.cn = cn,
                                 .org = org,
                                 .server = server,
                                 .client = client,
                                 .sans = sans,
                                 .days = LEAF_DAYS};
        int r;

        if (!cn || !*cn)
                return error_set(err, -EINVAL, "empty CN");
        r = check_sans(sans, err);
        if (r < 0)
                return r;
        r = ca_load_or_create(tls_dir, false, &ca, &ca_key, &created, err);
        if (r < 0)
                return r;
        return leaf_ensure(out_prefix, ca, ca_key, &spec, false, err);
}
