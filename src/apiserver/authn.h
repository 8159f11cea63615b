/* authn.h — who is making a request (kube-apiserver's authentication chain).
 *
 * Authenticators, tried in this order (the first that recognises the credential wins):
 *   1. x509 client certificates verified by the TLS layer: CN = user name, O = groups.
 *   2. Bearer tokens (`Authorization: Bearer <token>`):
 *      a. the static token file (--token-auth-file): CSV lines `token,user,uid[,"g1,g2"]`
 *         as kube-apiserver reads it (at least 3 columns; later duplicates win);
 *      b. ServiceAccount tokens: ES256 JWTs signed by DATA/server/tls/sa.key (generated on first
 *         start, P-256), issued by the serviceaccounts/token subresource (TokenRequest). A token
 *         is valid while its signature, exp, nbf and audience check out and the ServiceAccount
 *         (and the bound Pod/Secret, if any) still exists with the uid in the token.
 * Every authenticated user also gets the group system:authenticated. A request without any
 * credential is anonymous (system:anonymous, group system:unauthenticated): the API server
 * allows it only what system:public-info-viewer allows (/healthz, /livez, /readyz, /version) and
 * answers everything else 401; a credential that is present but wrong is always 401.
 *
 * The pure pieces (token file parser, JWT codec) are exported for tests and fuzzing. */
#pragma once
#include <jansson.h>
#include <time.h>

#include "common/base.h"
#include "common/error.h"

struct store;
struct authn;

#define AUTHN_ISSUER "https://kubernetes.default.svc.cluster.local"
#define AUTHN_LEGACY_ISSUER "kubernetes/serviceaccount" /* Secret-based tokens */
#define AUTHN_TOKEN_MAX 16384                           /* longer bearer tokens are rejected */
#define AUTHN_TOKEN_FILE_MAX (16u << 20)                /* token files above this are refused */
#define AUTHN_TOKEN_EXPIRATION_DEFAULT 3600
#define AUTHN_TOKEN_EXPIRATION_MIN 600
#define AUTHN_TOKEN_EXPIRATION_MAX (INT64_C(1) << 32)

/* An authenticated (or anonymous) user. Everything owned. */
struct authn_user {
        char *name;
        char *uid;     /* may be NULL */
        char **groups; /* strv, never NULL after a successful authenticate */
        json_t *extra; /* {"key":["v",...]} or NULL */
};
void authn_user_clear(struct authn_user *u);
/* Fill u with the anonymous user. */
void authn_user_anonymous(struct authn_user *u);
/* Does the user belong to group g? */
bool authn_user_in_group(const struct authn_user *u, const char *g);
/* The user as authentication.k8s.io UserInfo JSON {"username","uid"?,"groups","extra"?}. */
json_t *authn_user_to_json(const struct authn_user *u);

/* ---- token file (pure) ---- */
struct authn_token_entry {
        char *token;
        struct authn_user user; /* groups from the 4th column (system:authenticated not added) */
};
/* Parse the CSV text of a token file. Returns the number of entries in *ret (an array of n;
 * free with authn_tokens_free). Errors: -EINVAL (a record with fewer than 3 columns, an empty
 * token or user, an unterminated quote; the message names the line), -E2BIG above
 * AUTHN_TOKEN_FILE_MAX. */
int authn_token_file_parse(const char *text, size_t len, struct authn_token_entry **ret,
                           size_t *ret_n, struct error *err);
void authn_tokens_free(struct authn_token_entry *t, size_t n);

/* ---- base64url (pure; RFC 4648 §5 without padding) ---- */
/* Caller frees. */
char *authn_b64url_encode(const void *buf, size_t len);
/* Decode (no padding, no whitespace); *ret NUL-terminated, caller frees. -EINVAL on bad input. */
int authn_b64url_decode(const char *s, size_t len, char **ret, size_t *ret_len);

/* ---- the authenticator ---- */
struct authn_config {
        const char *tls_dir;         /* sa.key/sa.pub live (and are created) here; NULL = none */
        const char *token_auth_file; /* NULL = none */
        struct store *store;         /* borrowed: ServiceAccount/Pod/Secret lookups */
};
/* Load (or create) the service-account key and read the token file. Errors: -EINVAL (bad token
 * file or key), -ENOENT (token file missing), -EIO (OpenSSL), other -errno from files. */
int authn_new(const struct authn_config *cfg, struct authn **ret, struct error *err);
void authn_free(struct authn *a);

/* Authenticate a request. cert_user/cert_groups: the verified client certificate's CN and
 * comma-joined O entries (NULL when none); authorization: the Authorization header (NULL when
 * absent). Returns 1 and fills *ret for an authenticated user, 0 and fills *ret with the
 * anonymous user when no credential was presented, -EPERM (message in err, for the log) when a
 * credential was presented but is not valid. */
int authn_request(struct authn *a, const char *cert_user, const char *cert_groups,
                  const char *authorization, struct authn_user *ret, struct error *err);

/* A bound object reference of a TokenRequest (kind "Pod" or "Secret"; all borrowed). */
struct authn_bound_ref {
        const char *kind;
        const char *name;
        const char *uid;
};
/* Sign a ServiceAccount token for namespace ns, ServiceAccount name/uid, valid from now for
 * exp_seconds, for the given audiences (strv; NULL or empty = the API server's audience,
 * AUTHN_ISSUER). bound may be NULL. *ret_token is the compact JWT (caller frees). -EIO on
 * OpenSSL failures, -ENODEV when the authenticator has no signing key. */
int authn_sa_token_issue(struct authn *a, const char *ns, const char *name, const char *uid,
                         char *const *audiences, int64_t exp_seconds,
                         const struct authn_bound_ref *bound, time_t now, char **ret_token,
                         struct error *err);
/* A legacy (never expiring) token for a kubernetes.io/service-account-token Secret, as
 * kube-controller-manager's tokens controller signs them (iss "kubernetes/serviceaccount",
 * claims kubernetes.io/serviceaccount/{namespace,secret.name,service-account.name,
 * service-account.uid}). It authenticates while that Secret holds it and the ServiceAccount
 * exists with that uid. Same errors as authn_sa_token_issue. */
int authn_sa_token_issue_legacy(struct authn *a, const char *ns, const char *name, const char *uid,
                                const char *secret, char **ret_token, struct error *err);
/* Verify a token's signature and time/audience/issuer claims at time now, without looking at
 * the store. On success *ret_claims is the payload (new reference). -EPERM (message in err). */
int authn_sa_token_verify(struct authn *a, const char *token, time_t now, json_t **ret_claims,
                          struct error *err);
