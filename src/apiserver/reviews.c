/* reviews.c — the "virtual" create-only resources of authentication.k8s.io and
 * authorization.k8s.io (nothing is stored): SelfSubjectReview (`kubectl auth whoami`),
 * TokenReview, SelfSubjectAccessReview (`kubectl auth can-i`), SubjectAccessReview,
 * LocalSubjectAccessReview, SelfSubjectRulesReview (`kubectl auth can-i --list`); and the routing
 * of serviceaccounts/token to serviceaccount.c. */
#include <stdio.h>

#include "api/meta.h"
#include "apiserver/apiserver-internal.h"
#include "apiserver/authn.h"
#include "apiserver/authz.h"
#include "apiserver/status.h"
#include "common/kjson.h"
#include "common/strv.h"

static bool is(const char *a, const char *b)
{
        return a && !strcmp(a, b);
}

/* Read the body and check its kind; responds on failure. */
static json_t *read_review(struct rq *q, const char *kind)
{
        json_t *obj = NULL;
        if (rq_read_body(q, &obj) < 0)
                return NULL;
        const char *k = kjson_str(obj, "kind");
        if (!json_is_object(obj) || (k && *k && strcmp(k, kind))) {
                rq_fail(q, -EBADMSG, NULL, "the request body is not a %s", kind);
                json_decref(obj);
                return NULL;
        }
        return obj;
}

static void respond_review(struct rq *q, json_t *obj, const char *kind, const char *api_version)
{
        json_object_set_new(obj, "kind", json_string(kind));
        json_object_set_new(obj, "apiVersion", json_string(api_version));
        json_t *meta = kjson_obj_ensure(obj, "metadata");
        if (!json_object_get(meta, "creationTimestamp"))
                json_object_set_new(meta, "creationTimestamp", json_null());
        rq_respond_json(q, 201, obj);
}

static void self_subject_review(struct rq *q)
{
        _cleanup_(json_decrefp) json_t *obj = read_review(q, "SelfSubjectReview");
        if (!obj)
                return;
        _cleanup_free_ char *av = xasprintf("authentication.k8s.io/%s", q->attrs->version);
        json_object_set_new(obj, "status",
                            json_pack("{s:o}", "userInfo", authn_user_to_json(q->auth)));
        respond_review(q, obj, "SelfSubjectReview", av);
}

static void token_review(struct rq *q)
{
        _cleanup_(json_decrefp) json_t *obj = read_review(q, "TokenReview");
        if (!obj)
                return;
        const char *tok = kjson_str(obj, "spec.token");
        if (!tok || !*tok) {
                _cleanup_(json_decrefp) json_t *causes = json_array();
                meta_cause_add(causes, "FieldValueRequired", "spec.token", NULL, "");
                _cleanup_free_ char *msg =
                        meta_causes_message("TokenReview.authentication.k8s.io", "", causes);
                json_t *d = status_details("", "authentication.k8s.io", "TokenReview");
                json_object_set(d, "causes", causes);
                rq_fail(q, -EINVAL, d, "%s", msg);
                return;
        }
        _cleanup_free_ char *hdr = xasprintf("Bearer %s", tok);
        struct authn_user u = {0};
        struct error err = {0};
        int r = q->a->authenticator ? authn_request(q->a->authenticator, NULL, NULL, hdr, &u, &err)
                                    : -EPERM;
        json_t *st = json_object();
        if (r > 0) {
                json_object_set_new(st, "authenticated", json_true());
                json_object_set_new(st, "user", authn_user_to_json(&u));
                json_object_set_new(st, "audiences", json_pack("[s]", AUTHN_ISSUER));
        } else {
                json_object_set_new(st, "user", json_object());
                if (r < 0)
                        json_object_set_new(st, "error", json_string(error_msg(&err)));
        }
        authn_user_clear(&u);
        json_object_set_new(obj, "status", st);
        respond_review(q, obj, "TokenReview", "authentication.k8s.io/v1");
}

static char *dup_or_null(const json_t *o, const char *path)
{
        const char *s = kjson_str(o, path);
        return s ? xstrdup(s) : NULL;
}

/* spec.resourceAttributes / nonResourceAttributes -> attributes; false (and responds) if
 * neither or both are given. */
static bool spec_attrs(struct rq *q, const json_t *spec, const char *kind, struct authz_attrs *ret)
{
        const json_t *ra = json_object_get(spec, "resourceAttributes");
        const json_t *na = json_object_get(spec, "nonResourceAttributes");
        bool has_ra = json_is_object(ra), has_na = json_is_object(na);
        if (has_ra == has_na) {
                _cleanup_(json_decrefp) json_t *causes = json_array();
                meta_cause_add(causes, "FieldValueInvalid", "spec.resourceAttributes",
                               has_ra ? "{...}" : "null",
                               "exactly one of nonResourceAttributes or resourceAttributes must "
                               "be specified");
                _cleanup_free_ char *qk = xasprintf("%s.authorization.k8s.io", kind);
                _cleanup_free_ char *msg = meta_causes_message(qk, "", causes);
                json_t *d = status_details("", "authorization.k8s.io", kind);
                json_object_set(d, "causes", causes);
                rq_fail(q, -EINVAL, d, "%s", msg);
                return false;
        }
        struct authz_attrs at = {0};
        if (has_ra) {
                at.resource_request = true;
                at.verb = xstrdup(kjson_str(ra, "verb") ? kjson_str(ra, "verb") : "");
                at.path = xstrdup("");
                at.group = xstrdup(kjson_str(ra, "group") ? kjson_str(ra, "group") : "");
                at.version = dup_or_null(ra, "version");
                at.resource = dup_or_null(ra, "resource");
                at.subresource = dup_or_null(ra, "subresource");
                at.ns = dup_or_null(ra, "namespace");
                at.name = dup_or_null(ra, "name");
                if (at.subresource && !*at.subresource) {
                        free(at.subresource);
                        at.subresource = NULL;
                }
        } else {
                at.verb = xstrdup(kjson_str(na, "verb") ? kjson_str(na, "verb") : "");
                at.path = xstrdup(kjson_str(na, "path") ? kjson_str(na, "path") : "");
        }
        *ret = at;
        return true;
}

static void access_review(struct rq *q, const char *kind, bool self, bool local)
{
        _cleanup_(json_decrefp) json_t *obj = read_review(q, kind);
        if (!obj)
                return;
        json_t *spec = kjson_obj_ensure(obj, "spec");
        struct authz_attrs at = {0};
        if (!spec_attrs(q, spec, kind, &at))
                return;
        if (local && (!at.resource_request || !is(at.ns, q->attrs->ns))) {
                authz_attrs_clear(&at);
                rq_fail(q, -EBADMSG, NULL,
                        "spec.resourceAttributes.namespace must match namespace: %s", q->attrs->ns);
                return;
        }
        struct authn_user other = {0};
        const struct authn_user *u = q->auth;
        if (!self) {
                other.name = xstrdup(kjson_str(spec, "user") ? kjson_str(spec, "user") : "");
                other.uid = dup_or_null(spec, "uid");
                other.groups = strv_new();
                size_t i;
                json_t *g;
                json_array_foreach(json_object_get(spec, "groups"), i, g) if (json_is_string(g))
                        other.groups = strv_push(other.groups, json_string_value(g));
                u = &other;
        }
        _cleanup_free_ char *reason = NULL;
        bool ok = q->a->authorizer ? authz_allows(q->a->authorizer, u, &at, &reason) : true;
        json_t *st = json_pack("{s:b}", "allowed", ok);
        if (reason && *reason)
                json_object_set_new(st, "reason", json_string(reason));
        json_object_set_new(obj, "status", st);
        authz_attrs_clear(&at);
        authn_user_clear(&other);
        respond_review(q, obj, kind, "authorization.k8s.io/v1");
}

static void rules_review(struct rq *q)
{
        _cleanup_(json_decrefp) json_t *obj = read_review(q, "SelfSubjectRulesReview");
        if (!obj)
                return;
        const char *ns = kjson_str(obj, "spec.namespace");
        json_t *st;
        if (q->a->authorizer) {
                st = authz_rules(q->a->authorizer, q->auth, ns);
        } else {
                st = json_pack("{s:[{s:[s],s:[s],s:[s]}],s:[{s:[s],s:[s]}]}", "resourceRules",
                               "verbs", "*", "apiGroups", "*", "resources", "*", "nonResourceRules",
                               "verbs", "*", "nonResourceURLs", "*");
        }
        json_object_set_new(st, "incomplete", json_false());
        json_object_set_new(obj, "status", st);
        respond_review(q, obj, "SelfSubjectRulesReview", "authorization.k8s.io/v1");
}

bool reviews_route(struct rq *q)
{
        const struct authz_attrs *at = q->attrs;
        if (!at || !at->resource_request || (at->name && !is(at->resource, "serviceaccounts")))
                return false;
        bool post = !strcmp(q->method, "POST");
        void (*fn)(struct rq *) = NULL;
        const char *g = at->group, *v = at->version, *r = at->resource;
        if (is(g, "") && is(v, "v1") && is(r, "serviceaccounts") && at->ns && at->name &&
            is(at->subresource, "token")) {
                fn = serviceaccount_token;
        } else if (at->subresource) {
                return false;
        } else if (is(g, "authentication.k8s.io") && (is(v, "v1") || is(v, "v1beta1")) &&
                   is(r, "selfsubjectreviews") && !at->ns) {
                fn = self_subject_review;
        } else if (is(g, "authentication.k8s.io") && is(v, "v1") && is(r, "tokenreviews") &&
                   !at->ns) {
                fn = token_review;
        } else if (is(g, "authorization.k8s.io") && is(v, "v1") && !at->ns &&
                   is(r, "selfsubjectaccessreviews")) {
                if (post)
                        access_review(q, "SelfSubjectAccessReview", true, false);
        } else if (is(g, "authorization.k8s.io") && is(v, "v1") && !at->ns &&
                   is(r, "subjectaccessreviews")) {
                if (post)
                        access_review(q, "SubjectAccessReview", false, false);
        } else if (is(g, "authorization.k8s.io") && is(v, "v1") && at->ns &&
                   is(r, "localsubjectaccessreviews")) {
                if (post)
                        access_review(q, "LocalSubjectAccessReview", false, true);
        } else if (is(g, "authorization.k8s.io") && is(v, "v1") && !at->ns &&
                   is(r, "selfsubjectrulesreviews")) {
                fn = rules_review;
        } else {
                return false;
        }
        if (!post) {
                rq_fail(q, -EOPNOTSUPP, json_object(),
                        "the server does not allow this method on the requested resource");
                return true;
        }
        if (fn)
                fn(q);
        return true;
}
