/* test-pki.c — certificate generation: chain, SANs, key modes, idempotence. */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

#include "harness.h"
#include "http/pki.h"

static char dir[64];

static X509 *load_cert(const char *name)
{
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        FILE *f = fopen(p, "r");
        X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
        if (f)
                fclose(f);
        return x;
}

static int verify(X509 *cert, X509 *ca, int purpose)
{
        X509_STORE *st = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        int ok;
        X509_STORE_add_cert(st, ca);
        X509_STORE_CTX_init(ctx, st, cert, NULL);
        X509_STORE_CTX_set_purpose(ctx, purpose);
        ok = X509_verify_cert(ctx);
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(st);
        return ok;
}

static bool has_san(X509 *x, int type, const char *val)
{
        GENERAL_NAMES *gns = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
        bool found = false;
        for (int i = 0; gns && i < sk_GENERAL_NAME_num(gns); i++) {
                GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, i);
                if (gn->type != type)
                        continue;
                if (type == GEN_DNS)
                        found |= strcmp((const char *)ASN1_STRING_get0_data(gn->d.dNSName), val) ==
                                 0;
                else if (ASN1_STRING_length(gn->d.iPAddress) == 4)
                        found |= memcmp(ASN1_STRING_get0_data(gn->d.iPAddress), val, 4) == 0;
        }
        GENERAL_NAMES_free(gns);
        return found;
}

static void subject(X509 *x, int nid, char *buf, size_t len)
{
        buf[0] = 0;
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), nid, buf, (int)len);
}

static long mtime_ns(const char *name)
{
        char p[256];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        if (stat(p, &st) < 0)
                return -1;
        return st.st_mtim.tv_sec * 1000000000L + st.st_mtim.tv_nsec;
}

static int mode_of(const char *name)
{
        char p[256];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        return stat(p, &st) < 0 ? -1 : (int)(st.st_mode & 0777);
}

TEST(ensure_creates_valid_chain)
{
        const char *sans[] = {"DNS:localhost", "IP:127.0.0.1", "DNS:kubernetes.default.svc", NULL};
        struct error err = {0};
        char tls[128], buf[256];
        snprintf(tls, sizeof(tls), "%s/server/tls", dir);
        CHECK_EQ_INT(pki_ensure(tls, sans, &err), 0);
        if (err.code)
                printf("# %s\n", err.msg);
        strncat(dir, "/server/tls", sizeof(dir) - strlen(dir) - 1);

        X509 *ca = load_cert("ca.crt"), *srv = load_cert("server.crt"),
             *adm = load_cert("admin.crt"), *kc = load_cert("kubelet-client.crt");
        CHECK(ca && srv && adm && kc);
        if (!(ca && srv && adm && kc))
                goto out;
        subject(ca, NID_commonName, buf, sizeof(buf));
        CHECK_EQ_STR(buf, "timonel-ca");
        CHECK_EQ_INT(verify(srv, ca, X509_PURPOSE_SSL_SERVER), 1);
        CHECK_EQ_INT(verify(adm, ca, X509_PURPOSE_SSL_CLIENT), 1);
        CHECK_EQ_INT(verify(kc, ca, X509_PURPOSE_SSL_CLIENT), 1);
        /* a server cert must not pass as a client cert and vice versa */
        CHECK(verify(srv, ca, X509_PURPOSE_SSL_CLIENT) != 1);
        CHECK(verify(adm, ca, X509_PURPOSE_SSL_SERVER) != 1);
        subject(srv, NID_commonName, buf, sizeof(buf));
        CHECK_EQ_STR(buf, "kube-apiserver");
        subject(adm, NID_commonName, buf, sizeof(buf));
        CHECK_EQ_STR(buf, "system:admin");
        subject(adm, NID_organizationName, buf, sizeof(buf));
        CHECK_EQ_STR(buf, "system:masters");
        subject(kc, NID_commonName, buf, sizeof(buf));
        CHECK_EQ_STR(buf, "kube-apiserver-kubelet-client");
        CHECK(has_san(srv, GEN_DNS, "localhost"));
        CHECK(has_san(srv, GEN_DNS, "kubernetes.default.svc"));
        CHECK(has_san(srv, GEN_IPADD, "\x7f\x00\x00\x01"));
        CHECK(!has_san(srv, GEN_DNS, "example.com"));
        CHECK_EQ_INT(mode_of("ca.key"), 0600);
        CHECK_EQ_INT(mode_of("server.key"), 0600);
        CHECK_EQ_INT(mode_of("admin.key"), 0600);
out:
        X509_free(ca);
        X509_free(srv);
        X509_free(adm);
        X509_free(kc);
}

TEST(ensure_keeps_existing)
{
        const char *sans[] = {"DNS:localhost", "IP:127.0.0.1", NULL};
        struct error err = {0};
        long ca = mtime_ns("ca.crt"), srv = mtime_ns("server.crt"), adm = mtime_ns("admin.key");
        CHECK(ca > 0);
        CHECK_EQ_INT(pki_ensure(dir, sans, &err), 0);
        CHECK_EQ_INT(mtime_ns("ca.crt"), ca);
        CHECK_EQ_INT(mtime_ns("server.crt"), srv); /* requested SANs are a subset: kept */
        CHECK_EQ_INT(mtime_ns("admin.key"), adm);
}

TEST(ensure_reissues_on_new_san_and_damage)
{
        const char *sans[] = {"DNS:localhost", "IP:10.1.2.3", NULL};
        struct error err = {0};
        char p[256];
        long ca = mtime_ns("ca.crt"), adm = mtime_ns("admin.crt");
        CHECK_EQ_INT(pki_ensure(dir, sans, &err), 0);
        CHECK_EQ_INT(mtime_ns("ca.crt"), ca);
        X509 *srv = load_cert("server.crt");
        CHECK(srv && has_san(srv, GEN_IPADD, "\x0a\x01\x02\x03"));
        X509_free(srv);
        /* damaged admin cert is replaced */
        snprintf(p, sizeof(p), "%s/admin.crt", dir);
        FILE *f = fopen(p, "w");
        fputs("garbage\n", f);
        fclose(f);
        CHECK_EQ_INT(pki_ensure(dir, sans, &err), 0);
        X509 *a = load_cert("admin.crt"), *c = load_cert("ca.crt");
        CHECK(a && c && verify(a, c, X509_PURPOSE_SSL_CLIENT) == 1);
        CHECK(mtime_ns("admin.crt") != adm);
        X509_free(a);
        X509_free(c);
}

TEST(issue_kubelet_cert)
{
        const char *sans[] = {"DNS:node1", "IP:192.168.5.5", NULL};
        struct error err = {0};
        char prefix[256], buf[128];
        snprintf(prefix, sizeof(prefix), "%s/kubelet", dir);
        CHECK_EQ_INT(
                pki_issue(dir, prefix, "system:node:node1", "system:nodes", true, true, sans, &err),
                0);
        X509 *k = load_cert("kubelet.crt"), *c = load_cert("ca.crt");
        CHECK(k && c);
        if (k && c) {
                CHECK_EQ_INT(verify(k, c, X509_PURPOSE_SSL_SERVER), 1);
                CHECK_EQ_INT(verify(k, c, X509_PURPOSE_SSL_CLIENT), 1);
                CHECK(has_san(k, GEN_DNS, "node1"));
                subject(k, NID_organizationName, buf, sizeof(buf));
                CHECK_EQ_STR(buf, "system:nodes");
        }
        long m = mtime_ns("kubelet.crt");
        CHECK_EQ_INT(
                pki_issue(dir, prefix, "system:node:node1", "system:nodes", true, true, sans, &err),
                0);
        CHECK_EQ_INT(mtime_ns("kubelet.crt"), m);
        CHECK_EQ_INT(mode_of("kubelet.key"), 0600);
        X509_free(k);
        X509_free(c);
}

TEST(errors)
{
        const char *bad[] = {"localhost", NULL};
        const char *comma[] = {"DNS:a,IP:1.2.3.4", NULL};
        struct error err = {0};
        char p[256];
        CHECK_EQ_INT(pki_ensure(dir, bad, &err), -EINVAL);
        CHECK_EQ_INT(pki_ensure(dir, comma, &err), -EINVAL);
        /* no CA in an empty directory: pki_issue does not invent one */
        snprintf(p, sizeof(p), "%s/empty", dir);
        mkdir(p, 0700);
        char prefix[300];
        snprintf(prefix, sizeof(prefix), "%s/x", p);
        CHECK_EQ_INT(pki_issue(p, prefix, "x", NULL, true, false, NULL, &err), -ENOENT);
        /* ca.crt without ca.key: refuse to replace the CA */
        char cp[300];
        snprintf(cp, sizeof(cp), "%s/empty/ca.crt", dir);
        char src[300];
        snprintf(src, sizeof(src), "%s/ca.crt", dir);
        FILE *in = fopen(src, "r"), *out = fopen(cp, "w");
        int ch;
        while (in && out && (ch = fgetc(in)) != EOF)
                fputc(ch, out);
        if (in)
                fclose(in);
        if (out)
                fclose(out);
        CHECK_EQ_INT(pki_ensure(p, NULL, &err), -ENOENT);
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        return remove(path);
}

int main(void)
{
        char base[64];
        snprintf(dir, sizeof(dir), "/tmp/test-pki.XXXXXX");
        if (!mkdtemp(dir))
                return 1;
        snprintf(base, sizeof(base), "%s", dir);
        RUN(ensure_creates_valid_chain);
        RUN(ensure_keeps_existing);
        RUN(ensure_reissues_on_new_san_and_damage);
        RUN(issue_kubelet_cert);
        RUN(errors);
        nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        return harness_done();
}
