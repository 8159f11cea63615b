/* serviceaccount.c — serviceaccounts/token: TokenRequest (authentication.k8s.io/v1), as
 * kube-apiserver's pkg/registry/core/serviceaccount/storage/token.go; and the legacy token
 * Secrets (type kubernetes.io/service-account-token) filled in after they are written, as
 * kube-controller-manager's tokens controller does. */
#include <openssl/evp.h>
#include <stdio.h>
#include <time.h>

#include "api/meta.h"
#include "api/protobuf.h"
#include "apiserver/apiserver-internal.h"
#include "apiserver/authn.h"
#include "apiserver/authz.h"
#include "apiserver/status.h"
#include "common/kjson.h"
#include "common/kyaml.h"
#include "common/strv.h"
#include "common/timefmt.h"

/* The stored object at /registry/<resource>/<ns>/<name> (new reference) or NULL. */
static json_t *load_obj(struct apiserver *a, const char *resource, const char *ns, const char *name)
{
        _cleanup_free_ char *key = xasprintf("/registry/%s/%s/%s", resource, ns, name);
        struct store_kv kv = {0};
        if (store_get(a->store, key, &kv, NULL) < 0)
                return NULL;
        json_t *o = NULL;
        if (kjson_parse(kv.value, kv.value_len, 0, &o, NULL) < 0 || !json_is_object(o)) {
                json_decref(o);
                o = NULL;
        }
        store_kv_clear(&kv);
        return o;
}

void serviceaccount_token(struct rq *q)
{
        const char *ns = q->attrs->ns, *name = q->attrs->name;
        _cleanup_(json_decrefp) json_t *req = NULL;
        if (rq_read_body(q, &req) < 0)
                return;
        if (!json_is_object(req)) {
                rq_fail(q, -EBADMSG, NULL, "the body of the request was not a TokenRequest");
                return;
        }
        const char *kind = kjson_str(req, "kind");
        if (kind && *kind && strcmp(kind, "TokenRequest")) {
                rq_fail(q, -EBADMSG, NULL, "not a TokenRequest: %s", kind);
                return;
        }
        const char *mns = kjson_str(req, "metadata.namespace");
        if (mns && *mns && strcmp(mns, ns)) {
                rq_fail(q, -EBADMSG, NULL,
                        "the namespace of the provided object does not match the namespace sent "
                        "on the request");
                return;
        }
        _cleanup_(json_decrefp) json_t *sa = load_obj(q->a, "serviceaccounts", ns, name);
        if (!sa) {
                rq_fail(q, -ENOENT, status_details(name, "", "serviceaccounts"),
                        "serviceaccounts \"%s\" not found", name);
                return;
        }
        json_t *spec = kjson_obj_ensure(req, "spec");
        json_t *exp = json_object_get(spec, "expirationSeconds");
        if (!exp || json_is_null(exp)) {
                exp = json_integer(AUTHN_TOKEN_EXPIRATION_DEFAULT);
                json_object_set_new(spec, "expirationSeconds", exp);
        }
        _cleanup_(json_decrefp) json_t *causes = json_array();
        int64_t secs = json_is_integer(exp) ? json_integer_value(exp) : 0;
        if (secs < AUTHN_TOKEN_EXPIRATION_MIN)
                meta_cause_add_json(causes, "FieldValueInvalid", "spec.expirationSeconds", exp,
                                    "may not specify a duration less than 10 minutes");
        if (secs > AUTHN_TOKEN_EXPIRATION_MAX)
                meta_cause_add_json(causes, "FieldValueInvalid", "spec.expirationSeconds", exp,
                                    "may not specify a duration larger than 2^32 seconds");
        if (json_array_size(causes)) {
                _cleanup_free_ char *msg =
                        meta_causes_message("TokenRequest.authentication.k8s.io", name, causes);
                json_t *d = status_details(name, "authentication.k8s.io", "TokenRequest");
                json_object_set(d, "causes", causes);
                rq_fail(q, -EINVAL, d, "%s", msg);
                return;
        }
        /* audiences: default to the API server's own */
        _cleanup_strv_free_ char **aud = strv_new();
        json_t *ja = json_object_get(spec, "audiences");
        size_t i;
        json_t *v;
        json_array_foreach(ja, i, v) if (json_is_string(v) && *json_string_value(v)) aud =
                strv_push(aud, json_string_value(v));
        if (!strv_len(aud)) {
                aud = strv_push(aud, AUTHN_ISSUER);
                json_object_set_new(spec, "audiences", json_pack("[s]", AUTHN_ISSUER));
        }
        /* boundObjectRef: a Pod or Secret in the same namespace that must exist */
        json_t *ref = json_object_get(spec, "boundObjectRef");
        struct authn_bound_ref bound = {0};
        _cleanup_(json_decrefp) json_t *bobj = NULL;
        if (json_is_object(ref)) {
                const char *bkind = kjson_str(ref, "kind"), *bname = kjson_str(ref, "name");
                const char *bapi = kjson_str(ref, "apiVersion");
                const char *buid = kjson_str(ref, "uid");
                bool core = !bapi || !*bapi || !strcmp(bapi, "v1");
                const char *bres = !core || !bkind            ? NULL
                                   : !strcmp(bkind, "Pod")    ? "pods"
                                   : !strcmp(bkind, "Secret") ? "secrets"
                                                              : NULL;
                if (!bres) {
                        rq_fail(q, -EBADMSG, NULL,
                                "cannot bind token for serviceaccount \"%s\" to object of type "
                                "%s, Kind=%s",
                                name, bapi && *bapi ? bapi : "/v1", bkind ? bkind : "");
                        return;
                }
                bobj = bname ? load_obj(q->a, bres, ns, bname) : NULL;
                if (!bobj) {
                        rq_fail(q, -ENOENT, status_details(bname ? bname : "", "", bres),
                                "%s \"%s\" not found", bres, bname ? bname : "");
                        return;
                }
                const char *have = kjson_str(bobj, "metadata.uid");
                if (buid && *buid && (!have || strcmp(buid, have))) {
                        rq_fail(q, -ESTALE, status_details(bname, "", bkind),
                                "Operation cannot be fulfilled on %s \"%s\": the UID in the bound "
                                "object reference (%s) does not match the UID in record. The "
                                "object might have been deleted and then recreated",
                                bkind, bname, buid);
                        return;
                }
                if (!strcmp(bres, "pods")) {
                        const char *psa = kjson_str(bobj, "spec.serviceAccountName");
                        if (strcmp(psa && *psa ? psa : "default", name)) {
                                rq_fail(q, -EBADMSG, NULL,
                                        "cannot bind token for serviceaccount \"%s\" to pod "
                                        "running with different serviceaccount name.",
                                        name);
                                return;
                        }
                }
                json_object_set_new(ref, "uid", json_string(have ? have : ""));
                if (!bapi || !*bapi)
                        json_object_set_new(ref, "apiVersion", json_string("v1"));
                bound = (struct authn_bound_ref){bkind, bname, have};
        }
        time_t now = time(NULL);
        _cleanup_free_ char *token = NULL;
        struct error err = {0};
        const char *sa_uid = kjson_str(sa, "metadata.uid");
        if (authn_sa_token_issue(q->a->authenticator, ns, name, sa_uid, aud, secs,
                                 bound.kind ? &bound : NULL, now, &token, &err) < 0) {
                rq_fail_err(q, &err);
                return;
        }
        char ts[32];
        timefmt_rfc3339(ts, now + secs);
        json_object_set_new(req, "kind", json_string("TokenRequest"));
        json_object_set_new(req, "apiVersion", json_string("authentication.k8s.io/v1"));
        json_t *meta = kjson_obj_ensure(req, "metadata");
        json_object_set_new(meta, "name", json_string(name));
        json_object_set_new(meta, "namespace", json_string(ns));
        if (!json_object_get(meta, "creationTimestamp"))
                json_object_set_new(meta, "creationTimestamp", json_null());
        json_object_set_new(req, "status",
                            json_pack("{s:s,s:s}", "token", token, "expirationTimestamp", ts));
        rq_respond_json(q, 201, req);
}

/* ---- legacy ServiceAccount token Secrets (kube-controller-manager's tokens controller) ---- */

static char *b64_std(const void *buf, size_t len)
{
        char *out = xmalloc(4 * ((len + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
        return out;
}

static char *read_small_file(const char *path, size_t *ret_len)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        char *buf = xmalloc(65536);
        size_t n = fread(buf, 1, 65535, f);
        fclose(f);
        buf[n] = 0;
        *ret_len = n;
        return buf;
}

/* Fill a kubernetes.io/service-account-token Secret ns/name (data.token, ca.crt, namespace and
 * the uid annotation) if it names an existing ServiceAccount and has no token yet. */
static void secret_sync(struct apiserver *a, const char *ns, const char *name)
{
        _cleanup_free_ char *key = xasprintf("/registry/secrets/%s/%s", ns, name);
        struct store_kv kv = {0};
        if (store_get(a->store, key, &kv, NULL) < 0)
                return;
        _cleanup_(json_decrefp) json_t *s = NULL;
        int64_t rev = kv.mod_rev;
        int r = kjson_parse(kv.value, kv.value_len, 0, &s, NULL);
        store_kv_clear(&kv);
        if (r < 0 || !json_is_object(s))
                return;
        const char *type = kjson_str(s, "type");
        json_t *ann = kjson_get(s, "metadata.annotations");
        const char *sa_name =
                json_string_value(json_object_get(ann, "kubernetes.io/service-account.name"));
        const char *want_uid =
                json_string_value(json_object_get(ann, "kubernetes.io/service-account.uid"));
        json_t *data = json_object_get(s, "data");
        const char *have = json_string_value(json_object_get(data, "token"));
        if (!type || strcmp(type, "kubernetes.io/service-account-token") || !sa_name ||
            (have && *have) || kjson_str(s, "metadata.deletionTimestamp"))
                return;
        _cleanup_(json_decrefp) json_t *sa = load_obj(a, "serviceaccounts", ns, sa_name);
        const char *sa_uid = sa ? kjson_str(sa, "metadata.uid") : NULL;
        if (!sa_uid || (want_uid && *want_uid && strcmp(want_uid, sa_uid)))
                return;
        _cleanup_free_ char *token = NULL;
        struct error err = {0};
        if (!a->authenticator || authn_sa_token_issue_legacy(a->authenticator, ns, sa_name, sa_uid,
                                                             name, &token, &err) < 0)
                return;
        if (!json_is_object(data)) {
                data = json_object();
                json_object_set_new(s, "data", data);
        }
        _cleanup_free_ char *t64 = b64_std(token, strlen(token));
        _cleanup_free_ char *n64 = b64_std(ns, strlen(ns));
        json_object_set_new(data, "token", json_string(t64));
        json_object_set_new(data, "namespace", json_string(n64));
        size_t clen = 0;
        _cleanup_free_ char *ca = a->ca_file ? read_small_file(a->ca_file, &clen) : NULL;
        if (ca) {
                _cleanup_free_ char *c64 = b64_std(ca, clen);
                json_object_set_new(data, "ca.crt", json_string(c64));
        }
        json_object_set_new(kjson_obj_ensure_path(s, "metadata.annotations"),
                            "kubernetes.io/service-account.uid", json_string(sa_uid));
        size_t len = 0;
        _cleanup_free_ char *text = apiserver_obj_encode(s, &len);
        (void)store_update(a->store, key, text, len, rev, NULL, NULL);
}

void serviceaccount_secret_written(struct rq *q)
{
        const struct authz_attrs *at = q->attrs;
        if (!at || !at->resource_request || !at->group || *at->group || !at->resource ||
            strcmp(at->resource, "secrets") || at->subresource || !at->ns ||
            (q->status != 200 && q->status != 201) ||
            (strcmp(at->verb, "create") && strcmp(at->verb, "update") && strcmp(at->verb, "patch")))
                return;
        if (at->name) {
                secret_sync(q->a, at->ns, at->name);
                return;
        }
        /* a create: the name is in the body (generateName is resolved only in the response) */
        size_t len = 0;
        const char *body = http_req_body(q->req, &len);
        const char *ct = http_req_header(q->req, "content-type");
        _cleanup_(json_decrefp) json_t *obj = NULL;
        if (!body || !len || len > APISERVER_MAX_BODY)
                return;
        int r = ct && strstr(ct, "protobuf") ? protobuf_decode_k8s(body, len, &obj, NULL)
                : ct && strstr(ct, "yaml")   ? kyaml_parse_one(body, len, &obj, NULL)
                                             : kjson_parse(body, len, 0, &obj, NULL);
        const char *name = r == 0 ? kjson_str(obj, "metadata.name") : NULL;
        if (name && *name)
                secret_sync(q->a, at->ns, name);
}
