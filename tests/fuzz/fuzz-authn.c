/* fuzz-authn.c — the authentication and authorization parsers fed by the network or the admin:
 * the first byte picks one of
 *   0: the --token-auth-file CSV parser (every entry has a token, a user and a uid);
 *   1: a bearer token through the whole chain (token file, then JWT decode + ES256 verify);
 *      garbage must never authenticate;
 *   2: base64url decode (a successful decode re-encodes to the same text);
 *   3: RequestInfo parsing of "METHOD\nPATH\nQUERY" (verb never NULL; resource requests carry
 *      an API version). */
#include <stdio.h>
#include <stdlib.h>

#include "apiserver/authn.h"
#include "apiserver/authz.h"
#include "common/strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct authn *an;

static void setup(void)
{
        if (an)
                return;
        char dir[] = "/tmp/fuzz-authn-XXXXXX";
        if (!mkdtemp(dir))
                abort();
        char tok[300];
        snprintf(tok, sizeof(tok), "%s/tokens.csv", dir);
        FILE *f = fopen(tok, "w");
        if (!f)
                abort();
        fputs("good-token,alice,1,\"g1,g2\"\n", f);
        fclose(f);
        struct authn_config cfg = {.tls_dir = dir, .token_auth_file = tok};
        struct error err = {0};
        if (authn_new(&cfg, &an, &err) < 0)
                abort();
        /* the key is loaded: the files can go */
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > 65536)
                return 0;
        setup();
        uint8_t mode = data[0] % 4;
        char *s = malloc(size);
        memcpy(s, data + 1, size - 1);
        s[size - 1] = 0;
        size_t len = strnlen(s, size - 1);
        struct error err = {0};
        if (mode == 0) {
                struct authn_token_entry *t = NULL;
                size_t n = 0;
                if (authn_token_file_parse(s, size - 1, &t, &n, &err) >= 0) {
                        for (size_t i = 0; i < n; i++)
                                if (!t[i].token || !*t[i].token || !t[i].user.name ||
                                    !*t[i].user.name || !t[i].user.uid || !t[i].user.groups)
                                        abort();
                        authn_tokens_free(t, n);
                }
        } else if (mode == 1) {
                char *hdr = malloc(len + 8);
                memcpy(hdr, "Bearer ", 7);
                memcpy(hdr + 7, s, len + 1);
                struct authn_user u = {0};
                int r = authn_request(an, NULL, NULL, hdr, &u, &err);
                const char *tok = hdr + 7;
                while (*tok == ' ')
                        tok++;
                /* only the file's token may authenticate (no store: SA tokens cannot) */
                if (r > 0 && strncmp(tok, "good-token", 10))
                        abort();
                if (r >= 0)
                        authn_user_clear(&u);
                free(hdr);
        } else if (mode == 2) {
                char *out = NULL;
                size_t n = 0;
                if (authn_b64url_decode(s, len, &out, &n) == 0) {
                        char *again = authn_b64url_encode(out, n);
                        if (strcmp(again, s) && len % 4 != 1)
                                abort();
                        free(again);
                        free(out);
                }
        } else {
                char **parts = strv_split(s, '\n');
                size_t np = strv_len(parts);
                struct authz_attrs at;
                authz_request_info_parse(np > 0 ? parts[0] : "GET", np > 1 ? parts[1] : "/",
                                         np > 2 ? parts[2] : NULL, &at);
                if (!at.verb || !at.path || (at.resource_request && !at.version))
                        abort();
                struct authn_user u = {.name = "x"};
                char *m = authz_forbidden_message(&u, &at);
                free(m);
                authz_attrs_clear(&at);
                strv_free(parts);
        }
        free(s);
        return 0;
}
