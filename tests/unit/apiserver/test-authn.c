/* test-authn.c — token file parsing, base64url, ServiceAccount JWTs (issue, verify, tamper,
 * expiry, audience), and the authentication chain (certs, token file, SA tokens against a store,
 * anonymous, bad credentials). */
#include "harness.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apiserver/authn.h"
#include "common/kjson.h"
#include "common/strv.h"
#include "store/store.h"

static char tmpdir[] = "/tmp/test-authn-XXXXXX";

TEST(token_file)
{
        const char *text = "tok1,alice,1001,\"dev,ops\"\n"
                           "\n"
                           "tok2, bob ,1002\r\n"
                           "\"to,k3\",carol,1003,\"a \"\"quoted\"\" group\"\n"
                           "tok1,alice2,2001\n";
        struct authn_token_entry *t = NULL;
        size_t n = 0;
        struct error err = {0};
        CHECK_EQ_INT(authn_token_file_parse(text, strlen(text), &t, &n, &err), 3);
        CHECK_EQ_INT(n, 3);
        /* the later duplicate of tok1 wins */
        CHECK_EQ_STR(t[0].token, "tok1");
        CHECK_EQ_STR(t[0].user.name, "alice2");
        CHECK_EQ_STR(t[0].user.uid, "2001");
        CHECK_EQ_INT(strv_len(t[0].user.groups), 0);
        CHECK_EQ_STR(t[1].user.name, "bob "); /* Go's TrimLeadingSpace keeps trailing spaces */
        CHECK_EQ_STR(t[2].token, "to,k3");
        CHECK_EQ_INT(strv_len(t[2].user.groups), 1);
        CHECK_EQ_STR(t[2].user.groups[0], "a \"quoted\" group");
        authn_tokens_free(t, n);

        const char *bad[] = {"tok,user\n", "\"tok,user,uid\n", "tok,,uid\n", "to\"k,u,1\n"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                t = NULL;
                CHECK_EQ_INT(authn_token_file_parse(bad[i], strlen(bad[i]), &t, &n, &err), -EINVAL);
        }
        const char *groups = "t,u,1,\"g1,g2,g3\"\n";
        CHECK_EQ_INT(authn_token_file_parse(groups, strlen(groups), &t, &n, &err), 1);
        CHECK_EQ_INT(strv_len(t[0].user.groups), 3);
        CHECK_EQ_STR(t[0].user.groups[2], "g3");
        authn_tokens_free(t, n);
        CHECK_EQ_INT(authn_token_file_parse("", 0, &t, &n, &err), 0);
        authn_tokens_free(t, n);
}

TEST(b64url)
{
        const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\xfd"};
        const char *out[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy", "__79"};
        for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
                char *e = authn_b64url_encode(in[i], strlen(in[i]));
                CHECK_EQ_STR(e, out[i]);
                char *d = NULL;
                size_t n = 0;
                CHECK_EQ_INT(authn_b64url_decode(e, strlen(e), &d, &n), 0);
                CHECK_EQ_INT(n, strlen(in[i]));
                CHECK(d && !memcmp(d, in[i], n));
                free(d);
                free(e);
        }
        char *d = NULL;
        size_t n;
        CHECK_EQ_INT(authn_b64url_decode("Zm9v=", 5, &d, &n), -EINVAL);
        CHECK_EQ_INT(authn_b64url_decode("Zm+v", 4, &d, &n), -EINVAL);
        CHECK_EQ_INT(authn_b64url_decode("Z", 1, &d, &n), -EINVAL);
        CHECK_EQ_INT(authn_b64url_decode("Zh", 2, &d, &n), -EINVAL); /* non-zero leftover bits */
}

static struct store *st;
static struct authn *an;

static void put(const char *key, const char *json)
{
        struct error err = {0};
        store_delete(st, key, 0, NULL, NULL);
        CHECK_EQ_INT(store_create(st, key, json, strlen(json), NULL, &err), 0);
}

TEST(setup)
{
        CHECK(mkdtemp(tmpdir) != NULL);
        char path[256];
        snprintf(path, sizeof(path), "%s/tokens.csv", tmpdir);
        FILE *f = fopen(path, "w");
        fputs("s3cret,alice,1001,\"dev\"\n", f);
        fclose(f);
        char db[256];
        snprintf(db, sizeof(db), "%s/state.db", tmpdir);
        struct error err = {0};
        CHECK_EQ_INT(store_open(db, &st, &err), 0);
        struct authn_config cfg = {.tls_dir = tmpdir, .token_auth_file = path, .store = st};
        CHECK_EQ_INT(authn_new(&cfg, &an, &err), 0);
        char key[256];
        snprintf(key, sizeof(key), "%s/sa.key", tmpdir);
        struct stat sb;
        CHECK(stat(key, &sb) == 0 && (sb.st_mode & 0777) == 0600);
        snprintf(key, sizeof(key), "%s/sa.pub", tmpdir);
        CHECK(stat(key, &sb) == 0);
        /* a missing token file is an error */
        struct authn *x = NULL;
        struct authn_config bad = {.token_auth_file = "/nonexistent/tokens.csv"};
        CHECK_EQ_INT(authn_new(&bad, &x, &err), -ENOENT);
        put("/registry/serviceaccounts/ns1/robot", "{\"metadata\":{\"name\":\"robot\","
                                                   "\"namespace\":\"ns1\",\"uid\":\"sa-uid-1\"}}");
        put("/registry/pods/ns1/p1",
            "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns1\",\"uid\":\"pod-uid-1\"}}");
}

TEST(jwt)
{
        time_t now = time(NULL);
        char *tok = NULL;
        struct error err = {0};
        CHECK_EQ_INT(authn_sa_token_issue(an, "ns1", "robot", "sa-uid-1", NULL, 3600, NULL, now,
                                          &tok, &err),
                     0);
        json_t *c = NULL;
        CHECK_EQ_INT(authn_sa_token_verify(an, tok, now, &c, &err), 0);
        CHECK_EQ_STR(kjson_str(c, "sub"), "system:serviceaccount:ns1:robot");
        CHECK_EQ_STR(kjson_str(c, "iss"), AUTHN_ISSUER);
        CHECK_EQ_INT(kjson_int(c, "exp", 0), now + 3600);
        CHECK_EQ_STR(kjson_str(json_object_get(c, "kubernetes.io"), "serviceaccount.uid"),
                     "sa-uid-1");
        json_decref(c);
        /* the header names ES256 and a key id */
        char *dot = strchr(tok, '.');
        char *hdr = NULL;
        size_t n;
        CHECK_EQ_INT(authn_b64url_decode(tok, (size_t)(dot - tok), &hdr, &n), 0);
        CHECK(strstr(hdr, "\"alg\":\"ES256\"") && strstr(hdr, "\"kid\":"));
        free(hdr);
        /* expired, and not valid yet */
        CHECK_EQ_INT(authn_sa_token_verify(an, tok, now + 3600, &c, &err), -EPERM);
        CHECK_EQ_INT(authn_sa_token_verify(an, tok, now - 120, &c, &err), -EPERM);
        /* a flipped signature byte */
        char *bad = strdup(tok);
        size_t l = strlen(bad);
        bad[l - 5] = bad[l - 5] == 'A' ? 'B' : 'A';
        CHECK_EQ_INT(authn_sa_token_verify(an, bad, now, &c, &err), -EPERM);
        free(bad);
        /* a changed payload with the old signature */
        char *sig = strrchr(tok, '.');
        char *forged = NULL;
        {
                char *cs = NULL;
                size_t cn = 0;
                CHECK_EQ_INT(authn_b64url_decode(dot + 1, (size_t)(sig - dot - 1), &cs, &cn), 0);
                char *p = strstr(cs, "robot");
                if (p)
                        memcpy(p, "admin", 5);
                char *h64 = strndup(tok, (size_t)(dot - tok));
                char *c64 = authn_b64url_encode(cs, cn);
                size_t fl = strlen(h64) + strlen(c64) + strlen(sig) + 2;
                forged = malloc(fl);
                snprintf(forged, fl, "%s.%s%s", h64, c64, sig);
                free(h64);
                free(c64);
                free(cs);
        }
        CHECK_EQ_INT(authn_sa_token_verify(an, forged, now, &c, &err), -EPERM);
        free(forged);
        CHECK_EQ_INT(authn_sa_token_verify(an, "a.b", now, &c, &err), -EPERM);
        CHECK_EQ_INT(authn_sa_token_verify(an, "a.b.c.d", now, &c, &err), -EPERM);
        CHECK_EQ_INT(authn_sa_token_verify(an, "..", now, &c, &err), -EPERM);
        free(tok);
        /* another audience only: not for the API server */
        char *aud[] = {"vault", NULL};
        CHECK_EQ_INT(authn_sa_token_issue(an, "ns1", "robot", "sa-uid-1", aud, 3600, NULL, now,
                                          &tok, &err),
                     0);
        CHECK_EQ_INT(authn_sa_token_verify(an, tok, now, &c, &err), -EPERM);
        free(tok);
}

static int auth(const char *cert, const char *groups, const char *hdr, struct authn_user *u)
{
        struct error err = {0};
        return authn_request(an, cert, groups, hdr, u, &err);
}

TEST(chain)
{
        struct authn_user u = {0};
        CHECK_EQ_INT(auth("system:admin", "system:masters", NULL, &u), 1);
        CHECK_EQ_STR(u.name, "system:admin");
        CHECK(authn_user_in_group(&u, "system:masters"));
        CHECK(authn_user_in_group(&u, "system:authenticated"));
        authn_user_clear(&u);
        /* a certificate wins over a (bad) token, as kube-apiserver's union tries x509 first */
        CHECK_EQ_INT(auth("bob", NULL, "Bearer nope", &u), 1);
        CHECK_EQ_STR(u.name, "bob");
        CHECK_EQ_INT(strv_len(u.groups), 1);
        authn_user_clear(&u);
        CHECK_EQ_INT(auth(NULL, NULL, "Bearer s3cret", &u), 1);
        CHECK_EQ_STR(u.name, "alice");
        CHECK_EQ_STR(u.uid, "1001");
        CHECK(authn_user_in_group(&u, "dev") && authn_user_in_group(&u, "system:authenticated"));
        authn_user_clear(&u);
        CHECK_EQ_INT(auth(NULL, NULL, "bearer   s3cret ", &u), 1);
        authn_user_clear(&u);
        CHECK_EQ_INT(auth(NULL, NULL, "Bearer s3cre", &u), -EPERM);
        CHECK_EQ_INT(auth(NULL, NULL, "Bearer s3cret2", &u), -EPERM);
        /* no credential, an empty bearer or another scheme: anonymous */
        CHECK_EQ_INT(auth(NULL, NULL, NULL, &u), 0);
        CHECK_EQ_STR(u.name, "system:anonymous");
        CHECK(authn_user_in_group(&u, "system:unauthenticated"));
        CHECK(!authn_user_in_group(&u, "system:authenticated"));
        authn_user_clear(&u);
        CHECK_EQ_INT(auth(NULL, NULL, "Bearer ", &u), 0);
        authn_user_clear(&u);
        CHECK_EQ_INT(auth(NULL, NULL, "Basic YTpi", &u), 0);
        authn_user_clear(&u);
        char big[AUTHN_TOKEN_MAX + 64];
        memcpy(big, "Bearer ", 7);
        memset(big + 7, 'a', sizeof(big) - 8);
        big[sizeof(big) - 1] = 0;
        CHECK_EQ_INT(auth(NULL, NULL, big, &u), -EPERM);
}

TEST(sa_tokens)
{
        time_t now = time(NULL);
        struct error err = {0};
        char *tok = NULL;
        CHECK_EQ_INT(authn_sa_token_issue(an, "ns1", "robot", "sa-uid-1", NULL, 3600, NULL, now,
                                          &tok, &err),
                     0);
        char hdr[4096];
        snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
        struct authn_user u = {0};
        CHECK_EQ_INT(auth(NULL, NULL, hdr, &u), 1);
        CHECK_EQ_STR(u.name, "system:serviceaccount:ns1:robot");
        CHECK_EQ_STR(u.uid, "sa-uid-1");
        CHECK(authn_user_in_group(&u, "system:serviceaccounts"));
        CHECK(authn_user_in_group(&u, "system:serviceaccounts:ns1"));
        CHECK(authn_user_in_group(&u, "system:authenticated"));
        CHECK(json_object_get(u.extra, "authentication.kubernetes.io/credential-id") != NULL);
        authn_user_clear(&u);
        /* pod-bound: valid while the pod exists with that uid */
        struct authn_bound_ref b = {"Pod", "p1", "pod-uid-1"};
        char *ptok = NULL;
        CHECK_EQ_INT(authn_sa_token_issue(an, "ns1", "robot", "sa-uid-1", NULL, 3600, &b, now,
                                          &ptok, &err),
                     0);
        char phdr[4096];
        snprintf(phdr, sizeof(phdr), "Bearer %s", ptok);
        CHECK_EQ_INT(auth(NULL, NULL, phdr, &u), 1);
        CHECK(json_object_get(u.extra, "authentication.kubernetes.io/pod-name") != NULL);
        authn_user_clear(&u);
        put("/registry/pods/ns1/p1",
            "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns1\",\"uid\":\"pod-uid-2\"}}");
        CHECK_EQ_INT(auth(NULL, NULL, phdr, &u), -EPERM);
        /* the ServiceAccount recreated (new uid), then deleted: the token stops working */
        put("/registry/serviceaccounts/ns1/robot", "{\"metadata\":{\"name\":\"robot\","
                                                   "\"namespace\":\"ns1\",\"uid\":\"sa-uid-2\"}}");
        CHECK_EQ_INT(auth(NULL, NULL, hdr, &u), -EPERM);
        store_delete(st, "/registry/serviceaccounts/ns1/robot", 0, NULL, NULL);
        CHECK_EQ_INT(auth(NULL, NULL, hdr, &u), -EPERM);
        free(tok);
        free(ptok);
}

TEST(legacy_tokens)
{
        struct error err = {0};
        put("/registry/serviceaccounts/ns1/old", "{\"metadata\":{\"name\":\"old\","
                                                 "\"namespace\":\"ns1\",\"uid\":\"old-uid\"}}");
        char *tok = NULL;
        CHECK_EQ_INT(
                authn_sa_token_issue_legacy(an, "ns1", "old", "old-uid", "old-token", &tok, &err),
                0);
        /* the Secret holding it, data.token in standard base64 */
        char b64[4096];
        int n = EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)tok, (int)strlen(tok));
        CHECK(n > 0);
        char secret[8192];
        snprintf(secret, sizeof(secret),
                 "{\"metadata\":{\"name\":\"old-token\",\"namespace\":\"ns1\"},"
                 "\"type\":\"kubernetes.io/service-account-token\",\"data\":{\"token\":\"%s\"}}",
                 b64);
        char hdr[4096];
        snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
        struct authn_user u = {0};
        CHECK_EQ_INT(auth(NULL, NULL, hdr, &u), -EPERM); /* no Secret yet */
        put("/registry/secrets/ns1/old-token", secret);
        CHECK_EQ_INT(auth(NULL, NULL, hdr, &u), 1);
        CHECK_EQ_STR(u.name, "system:serviceaccount:ns1:old");
        CHECK(authn_user_in_group(&u, "system:serviceaccounts:ns1"));
        authn_user_clear(&u);
        /* the legacy token is no bound token: authn_sa_token_verify rejects it */
        json_t *c = NULL;
        CHECK_EQ_INT(authn_sa_token_verify(an, tok, time(NULL), &c, &err), -EPERM);
        /* a Secret with another token no longer vouches for this one */
        put("/registry/secrets/ns1/old-token",
            "{\"metadata\":{\"name\":\"old-token\",\"namespace\":\"ns1\"},"
            "\"data\":{\"token\":\"b3RoZXI=\"}}");
        CHECK_EQ_INT(auth(NULL, NULL, hdr, &u), -EPERM);
        free(tok);
}

TEST(key_persists)
{
        /* a second authenticator on the same directory loads the same key: old tokens verify */
        time_t now = time(NULL);
        struct error err = {0};
        char *tok = NULL;
        CHECK_EQ_INT(
                authn_sa_token_issue(an, "ns1", "robot", "u", NULL, 3600, NULL, now, &tok, &err),
                0);
        struct authn *again = NULL;
        struct authn_config cfg = {.tls_dir = tmpdir, .store = st};
        CHECK_EQ_INT(authn_new(&cfg, &again, &err), 0);
        json_t *c = NULL;
        CHECK_EQ_INT(authn_sa_token_verify(again, tok, now, &c, &err), 0);
        json_decref(c);
        authn_free(again);
        /* a server without a key cannot sign */
        struct authn *nokey = NULL;
        struct authn_config none = {0};
        CHECK_EQ_INT(authn_new(&none, &nokey, &err), 0);
        char *t2 = NULL;
        CHECK_EQ_INT(authn_sa_token_issue(nokey, "a", "b", "c", NULL, 600, NULL, now, &t2, &err),
                     -ENODEV);
        CHECK_EQ_INT(authn_sa_token_verify(nokey, tok, now, &c, &err), -EPERM);
        authn_free(nokey);
        free(tok);
}

int main(void)
{
        RUN(token_file);
        RUN(b64url);
        RUN(setup);
        RUN(jwt);
        RUN(chain);
        RUN(sa_tokens);
        RUN(legacy_tokens);
        RUN(key_persists);
        authn_free(an);
        store_close(st);
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        if (system(cmd) != 0)
                return 1;
        return harness_done();
}
