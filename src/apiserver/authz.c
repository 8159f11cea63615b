/* authz.c — request attributes, RBAC evaluation, default roles (see authz.h). */
#include "apiserver/authz.h"

#include <stdio.h>
#include <time.h>

#include "api/labels.h"
#include "api/meta.h"
#include "common/kjson.h"
#include "common/strv.h"
#include "common/timefmt.h"
#include "http/server.h"
#include "store/store.h"

/* ---- request info ---- */

void authz_attrs_clear(struct authz_attrs *at)
{
        free(at->verb);
        free(at->path);
        free(at->api_prefix);
        free(at->group);
        free(at->version);
        free(at->resource);
        free(at->subresource);
        free(at->ns);
        free(at->name);
        *at = (struct authz_attrs){0};
}

static char *lower(const char *s)
{
        char *r = xstrdup(s);
        for (char *p = r; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        return r;
}

static bool parse_bool(const char *s)
{
        return s && (!strcmp(s, "1") || !strcmp(s, "t") || !strcmp(s, "T") || !strcmp(s, "true") ||
                     !strcmp(s, "TRUE") || !strcmp(s, "True"));
}

/* metadata.name=X (or ==X) among the field selector's requirements, else NULL. */
static char *field_selector_name(const char *sel)
{
        if (!sel)
                return NULL;
        _cleanup_strv_free_ char **terms = strv_split(sel, ',');
        for (char **t = terms; *t; t++) {
                const char *v = NULL;
                if (!strncmp(*t, "metadata.name==", 15))
                        v = *t + 15;
                else if (!strncmp(*t, "metadata.name=", 14))
                        v = *t + 14;
                /* path.IsValidPathSegmentName: no "/", "%", not "." or ".." */
                if (v && *v && !strchr(v, '/') && !strchr(v, '%') && strcmp(v, ".") &&
                    strcmp(v, ".."))
                        return xstrdup(v);
        }
        return NULL;
}

void authz_request_info_parse(const char *method, const char *path, const char *query_raw,
                              struct authz_attrs *ret)
{
        struct authz_attrs at = {
                .verb = lower(method && *method ? method : "get"),
                .path = xstrdup(path ? path : "/"),
        };
        if (!strcmp(at.verb, "head"))
                memcpy(at.verb, "get", 4);
        _cleanup_strv_free_ char **all = strv_split(at.path, '/');
        /* splitPath: trim the slashes at both ends, then split (empty inner segments stay) */
        char **parts = strv_new();
        size_t first = 0, last = strv_len(all);
        while (first < last && !*all[first])
                first++;
        while (last > first && !*all[last - 1])
                last--;
        for (size_t i = first; i < last; i++)
                parts = strv_push(parts, all[i]);
        size_t n = strv_len(parts), i = 0;
        if (n < 3 || (strcmp(parts[0], "api") && strcmp(parts[0], "apis")))
                goto nonresource;
        at.api_prefix = xstrdup(parts[i++]);
        if (!strcmp(at.api_prefix, "apis")) {
                if (n - i < 3)
                        goto nonresource;
                at.group = xstrdup(parts[i++]);
        } else {
                at.group = xstrdup("");
        }
        at.version = xstrdup(parts[i++]);
        const char *method_verb = at.verb;
        char *verb = NULL;
        if (!strcmp(parts[i], "watch") || !strcmp(parts[i], "proxy")) {
                if (n - i < 2)
                        goto nonresource_keep; /* kube-apiserver: an error; treat as a path */
                verb = xstrdup(parts[i++]);
        } else if (!strcmp(method_verb, "post")) {
                verb = xstrdup("create");
        } else if (!strcmp(method_verb, "get")) {
                verb = xstrdup("get");
        } else if (!strcmp(method_verb, "put")) {
                verb = xstrdup("update");
        } else if (!strcmp(method_verb, "patch")) {
                verb = xstrdup("patch");
        } else if (!strcmp(method_verb, "delete")) {
                verb = xstrdup("delete");
        } else {
                verb = xstrdup("");
        }
        free(at.verb);
        at.verb = verb;
        at.resource_request = true;
        if (!strcmp(parts[i], "namespaces")) {
                if (n - i > 1) {
                        at.ns = xstrdup(parts[i + 1]);
                        if (n - i > 2 && strcmp(parts[i + 2], "status") &&
                            strcmp(parts[i + 2], "finalize"))
                                i += 2;
                }
        }
        size_t np = n - i;
        if (np >= 3 && strcmp(at.verb, "proxy"))
                at.subresource = xstrdup(parts[i + 2]);
        if (np >= 2)
                at.name = xstrdup(parts[i + 1]);
        if (np >= 1)
                at.resource = xstrdup(parts[i]);
        if (!at.name && !strcmp(at.verb, "get")) {
                _cleanup_free_ char *w = query_raw ? http_query_get(query_raw, "watch") : NULL;
                free(at.verb);
                at.verb = xstrdup(parse_bool(w) ? "watch" : "list");
        }
        if (!at.name && (!strcmp(at.verb, "list") || !strcmp(at.verb, "watch"))) {
                _cleanup_free_ char *fs =
                        query_raw ? http_query_get(query_raw, "fieldSelector") : NULL;
                at.name = field_selector_name(fs);
        }
        if (!at.name && !strcmp(at.verb, "delete")) {
                free(at.verb);
                at.verb = xstrdup("deletecollection");
        }
        strv_free(parts);
        *ret = at;
        return;
nonresource_keep:
nonresource:
        strv_free(parts);
        free(at.api_prefix);
        free(at.group);
        free(at.version);
        at.api_prefix = at.group = at.version = NULL;
        at.resource_request = false;
        *ret = at;
}

/* ---- rules ---- */

static bool str_in(const json_t *arr, const char *s)
{
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) if (json_is_string(v) &&
                                          !strcmp(json_string_value(v), s)) return true;
        return false;
}

static bool has_star_or(const json_t *arr, const char *s)
{
        return str_in(arr, "*") || str_in(arr, s ? s : "");
}

static bool resource_matches(const json_t *arr, const char *combined, const char *sub)
{
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
                const char *r = json_string_value(v);
                if (!r)
                        continue;
                if (!strcmp(r, "*") || !strcmp(r, combined))
                        return true;
                if (!sub || !*sub)
                        continue;
                /* "*\/<subresource>" matches that subresource of every resource */
                if (strlen(r) == strlen(sub) + 2 && !strncmp(r, "*/", 2) && !strcmp(r + 2, sub))
                        return true;
        }
        return false;
}

static bool url_matches(const json_t *arr, const char *path)
{
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
                const char *u = json_string_value(v);
                if (!u)
                        continue;
                if (!strcmp(u, "*") || !strcmp(u, path))
                        return true;
                size_t l = strlen(u);
                if (l && u[l - 1] == '*' && !strncmp(path, u, l - 1))
                        return true;
        }
        return false;
}

bool authz_rule_matches(const json_t *rule, const struct authz_attrs *at)
{
        if (!has_star_or(json_object_get(rule, "verbs"), at->verb))
                return false;
        if (!at->resource_request)
                return url_matches(json_object_get(rule, "nonResourceURLs"), at->path);
        if (!has_star_or(json_object_get(rule, "apiGroups"), at->group))
                return false;
        _cleanup_free_ char *combined =
                at->subresource
                        ? xasprintf("%s/%s", at->resource ? at->resource : "", at->subresource)
                        : xstrdup(at->resource ? at->resource : "");
        if (!resource_matches(json_object_get(rule, "resources"), combined, at->subresource))
                return false;
        const json_t *names = json_object_get(rule, "resourceNames");
        if (json_array_size(names) == 0)
                return true;
        return at->name && str_in(names, at->name);
}

/* ---- policy ---- */

void authz_policy_init(struct authz_policy *p)
{
        p->cluster_roles = json_object();
        p->roles = json_object();
        p->cluster_bindings = json_array();
        p->bindings = json_array();
        p->aggregating = json_object();
}

void authz_policy_clear(struct authz_policy *p)
{
        json_decref(p->cluster_roles);
        json_decref(p->roles);
        json_decref(p->cluster_bindings);
        json_decref(p->bindings);
        json_decref(p->aggregating);
        *p = (struct authz_policy){0};
}

void authz_policy_add(struct authz_policy *p, const char *kind, const json_t *obj)
{
        const char *name = kjson_str(obj, "metadata.name");
        const char *ns = kjson_str(obj, "metadata.namespace");
        if (!name)
                return;
        json_t *rules = json_object_get(obj, "rules");
        if (!json_is_array(rules))
                rules = NULL;
        if (!strcmp(kind, "ClusterRole")) {
                json_object_set_new(p->cluster_roles, name,
                                    rules ? json_deep_copy(rules) : json_array());
                json_t *sel = kjson_get(obj, "aggregationRule.clusterRoleSelectors");
                json_t *labels = kjson_get(obj, "metadata.labels");
                if (json_is_array(sel) || json_is_object(labels))
                        json_object_set_new(p->aggregating, name,
                                            json_pack("{s:O,s:O}", "labels",
                                                      json_is_object(labels) ? labels : json_null(),
                                                      "selectors",
                                                      json_is_array(sel) ? sel : json_null()));
        } else if (!strcmp(kind, "Role") && ns) {
                _cleanup_free_ char *k = xasprintf("%s/%s", ns, name);
                json_object_set_new(p->roles, k, rules ? json_deep_copy(rules) : json_array());
        } else if (!strcmp(kind, "ClusterRoleBinding")) {
                json_array_append_new(p->cluster_bindings, json_deep_copy(obj));
        } else if (!strcmp(kind, "RoleBinding") && ns) {
                json_array_append_new(p->bindings, json_deep_copy(obj));
        }
}

static bool rules_contain(const json_t *rules, const json_t *rule)
{
        size_t i;
        json_t *r;
        json_array_foreach(rules, i, r) if (json_equal(r, (json_t *)rule)) return true;
        return false;
}

void authz_policy_aggregate(struct authz_policy *p)
{
        const char *name;
        json_t *info;
        for (int pass = 0; pass < 8; pass++) {
                bool changed = false;
                json_object_foreach(p->aggregating, name, info)
                {
                        json_t *sels = json_object_get(info, "selectors");
                        if (!json_is_array(sels))
                                continue;
                        json_t *agg = json_array();
                        const char *other;
                        json_t *oinfo;
                        json_object_foreach(p->aggregating, other, oinfo)
                        {
                                if (!strcmp(other, name))
                                        continue;
                                json_t *labels = json_object_get(oinfo, "labels");
                                if (!json_is_object(labels))
                                        continue;
                                bool match = false;
                                size_t i;
                                json_t *sel;
                                json_array_foreach(sels, i, sel)
                                {
                                        struct labels_selector *ls = NULL;
                                        /* an empty selector matches nothing here, as the
                                         * aggregation controller skips it */
                                        if (!json_object_size(sel) ||
                                            labels_selector_from_json(sel, &ls, NULL) < 0)
                                                continue;
                                        match = labels_selector_matches(ls, labels);
                                        labels_selector_free(ls);
                                        if (match)
                                                break;
                                }
                                if (!match)
                                        continue;
                                json_t *r;
                                json_array_foreach(json_object_get(p->cluster_roles, other), i,
                                                   r) if (!rules_contain(agg, r))
                                        json_array_append(agg, r);
                        }
                        if (!json_equal(agg, json_object_get(p->cluster_roles, name))) {
                                json_object_set_new(p->cluster_roles, name, agg);
                                changed = true;
                        } else {
                                json_decref(agg);
                        }
                }
                if (!changed)
                        break;
        }
}

/* Does subject s (of a binding in namespace bns, "" for cluster bindings) name u? */
static bool subject_applies(const json_t *s, const struct authn_user *u, const char *bns)
{
        const char *kind = kjson_str(s, "kind"), *name = kjson_str(s, "name");
        if (!kind || !name)
                return false;
        if (!strcmp(kind, "User"))
                return u->name && !strcmp(name, u->name);
        if (!strcmp(kind, "Group"))
                return authn_user_in_group(u, name);
        if (!strcmp(kind, "ServiceAccount")) {
                const char *ns = kjson_str(s, "namespace");
                if (!ns || !*ns)
                        ns = bns;
                if (!ns || !*ns || !u->name)
                        return false;
                _cleanup_free_ char *un = xasprintf("system:serviceaccount:%s:%s", ns, name);
                return !strcmp(un, u->name);
        }
        return false;
}

static char *describe_subject(const json_t *s, const char *bns)
{
        const char *kind = kjson_str(s, "kind"), *name = kjson_str(s, "name");
        if (kind && !strcmp(kind, "ServiceAccount")) {
                const char *ns = kjson_str(s, "namespace");
                return xasprintf("%s \"%s/%s\"", kind, ns && *ns ? ns : bns, name);
        }
        return xasprintf("%s \"%s\"", kind, name);
}

static bool rules_allow(const json_t *rules, const struct authz_attrs *at)
{
        size_t i;
        json_t *r;
        json_array_foreach(rules, i, r) if (authz_rule_matches(r, at)) return true;
        return false;
}

/* The binding's matching subject if it applies to u and its role's rules allow at. */
static const json_t *binding_allows(const struct authz_policy *p, const json_t *b,
                                    const struct authn_user *u, const struct authz_attrs *at,
                                    const char *bns)
{
        const json_t *subject = NULL;
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(b, "subjects"), i, s)
        {
                if (subject_applies(s, u, bns)) {
                        subject = s;
                        break;
                }
        }
        if (!subject)
                return NULL;
        const char *rk = kjson_str(b, "roleRef.kind"), *rn = kjson_str(b, "roleRef.name");
        if (!rk || !rn)
                return NULL;
        const json_t *rules = NULL;
        if (!strcmp(rk, "ClusterRole")) {
                rules = json_object_get(p->cluster_roles, rn);
        } else if (!strcmp(rk, "Role") && *bns) {
                _cleanup_free_ char *k = xasprintf("%s/%s", bns, rn);
                rules = json_object_get(p->roles, k);
        }
        return rules && rules_allow(rules, at) ? subject : NULL;
}

bool authz_policy_allows(const struct authz_policy *p, const struct authn_user *u,
                         const struct authz_attrs *at, char **ret_reason)
{
        if (authn_user_in_group(u, "system:masters")) {
                if (ret_reason)
                        *ret_reason = xstrdup("");
                return true;
        }
        size_t i;
        json_t *b;
        json_array_foreach(p->cluster_bindings, i, b)
        {
                const json_t *s = binding_allows(p, b, u, at, "");
                if (s) {
                        if (ret_reason) {
                                _cleanup_free_ char *d = describe_subject(s, "");
                                *ret_reason = xasprintf(
                                        "RBAC: allowed by ClusterRoleBinding \"%s\" of %s \"%s\" "
                                        "to %s",
                                        kjson_str(b, "metadata.name"), kjson_str(b, "roleRef.kind"),
                                        kjson_str(b, "roleRef.name"), d);
                        }
                        return true;
                }
        }
        if (at->resource_request && at->ns && *at->ns) {
                json_array_foreach(p->bindings, i, b)
                {
                        const char *bns = kjson_str(b, "metadata.namespace");
                        if (!bns || strcmp(bns, at->ns))
                                continue;
                        const json_t *s = binding_allows(p, b, u, at, bns);
                        if (s) {
                                if (ret_reason) {
                                        _cleanup_free_ char *d = describe_subject(s, bns);
                                        *ret_reason = xasprintf(
                                                "RBAC: allowed by RoleBinding \"%s/%s\" of %s "
                                                "\"%s\" to %s",
                                                kjson_str(b, "metadata.name"), bns,
                                                kjson_str(b, "roleRef.kind"),
                                                kjson_str(b, "roleRef.name"), d);
                                }
                                return true;
                        }
                }
        }
        if (ret_reason)
                *ret_reason = xstrdup("");
        return false;
}

/* Split a rule into SelfSubjectRulesReview's resource and non-resource rules. */
static void add_rules(json_t *out, const json_t *rules)
{
        size_t i;
        json_t *r;
        json_array_foreach(rules, i, r)
        {
                json_t *urls = json_object_get(r, "nonResourceURLs");
                if (json_array_size(urls)) {
                        json_array_append_new(json_object_get(out, "nonResourceRules"),
                                              json_pack("{s:O,s:O}", "verbs",
                                                        json_object_get(r, "verbs"),
                                                        "nonResourceURLs", urls));
                        continue;
                }
                json_t *rr = json_object();
                const char *const keys[] = {"verbs", "apiGroups", "resources", "resourceNames"};
                for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
                        json_t *v = json_object_get(r, keys[k]);
                        if (json_array_size(v) || !strcmp(keys[k], "verbs"))
                                json_object_set(rr, keys[k], v ? v : json_array());
                }
                json_array_append_new(json_object_get(out, "resourceRules"), rr);
        }
}

json_t *authz_policy_rules(const struct authz_policy *p, const struct authn_user *u, const char *ns)
{
        json_t *out = json_pack("{s:[],s:[]}", "resourceRules", "nonResourceRules");
        size_t i, j;
        json_t *b, *s;
        json_array_foreach(p->cluster_bindings, i, b)
        {
                json_array_foreach(json_object_get(b, "subjects"), j, s)
                {
                        if (!subject_applies(s, u, ""))
                                continue;
                        const char *rk = kjson_str(b, "roleRef.kind");
                        if (rk && !strcmp(rk, "ClusterRole"))
                                add_rules(out, json_object_get(p->cluster_roles,
                                                               kjson_str(b, "roleRef.name")));
                        break;
                }
        }
        if (!ns || !*ns)
                return out;
        json_array_foreach(p->bindings, i, b)
        {
                const char *bns = kjson_str(b, "metadata.namespace");
                if (!bns || strcmp(bns, ns))
                        continue;
                json_array_foreach(json_object_get(b, "subjects"), j, s)
                {
                        if (!subject_applies(s, u, bns))
                                continue;
                        const char *rk = kjson_str(b, "roleRef.kind");
                        const char *rn = kjson_str(b, "roleRef.name");
                        if (rk && rn && !strcmp(rk, "ClusterRole")) {
                                add_rules(out, json_object_get(p->cluster_roles, rn));
                        } else if (rk && rn && !strcmp(rk, "Role")) {
                                _cleanup_free_ char *k = xasprintf("%s/%s", bns, rn);
                                add_rules(out, json_object_get(p->roles, k));
                        }
                        break;
                }
        }
        return out;
}

char *authz_forbidden_message(const struct authn_user *u, const struct authz_attrs *at)
{
        const char *user = u && u->name ? u->name : "";
        if (!at->resource_request)
                return xasprintf("forbidden: User \"%s\" cannot %s path \"%s\"", user, at->verb,
                                 at->path);
        const char *res = at->resource ? at->resource : "";
        _cleanup_free_ char *combined =
                at->subresource ? xasprintf("%s/%s", res, at->subresource) : xstrdup(res);
        _cleanup_free_ char *why = NULL;
        if (at->ns && *at->ns)
                why = xasprintf("User \"%s\" cannot %s resource \"%s\" in API group \"%s\" in the "
                                "namespace \"%s\"",
                                user, at->verb, combined, at->group ? at->group : "", at->ns);
        else
                why = xasprintf("User \"%s\" cannot %s resource \"%s\" in API group \"%s\" at the "
                                "cluster scope",
                                user, at->verb, combined, at->group ? at->group : "");
        /* apierrors.NewForbidden(GroupResource{group, resource}, name, err) */
        if (!*res && !(at->group && *at->group))
                return xasprintf("forbidden: %s", why);
        _cleanup_free_ char *gr =
                at->group && *at->group ? xasprintf("%s.%s", res, at->group) : xstrdup(res);
        if (at->name && *at->name)
                return xasprintf("%s \"%s\" is forbidden: %s", gr, at->name, why);
        return xasprintf("%s is forbidden: %s", gr, why);
}

/* ---- bootstrap policy ---- */

/* A PolicyRule from space-separated lists ("" = omitted). */
static void rule(json_t *rules, const char *verbs, const char *groups, const char *resources,
                 const char *urls)
{
        json_t *r = json_object();
        const char *const vals[] = {groups, resources, urls, verbs};
        const char *const keys[] = {"apiGroups", "resources", "nonResourceURLs", "verbs"};
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
                if (!vals[k])
                        continue;
                json_t *a = json_array();
                _cleanup_strv_free_ char **v = strv_split(vals[k], ' ');
                for (char **x = v; *x; x++)
                        json_array_append_new(a, json_string(strcmp(*x, "-") ? *x : ""));
                json_object_set_new(r, keys[k], a);
        }
        json_array_append_new(rules, r);
}

#define R_READ "get list watch"
#define R_WRITE "create delete deletecollection patch update"

static void view_rules(json_t *r)
{
        rule(r, R_READ, "-",
             "configmaps endpoints persistentvolumeclaims persistentvolumeclaims/status pods "
             "replicationcontrollers replicationcontrollers/scale serviceaccounts services "
             "services/status",
             NULL);
        rule(r, R_READ, "-",
             "bindings events limitranges namespaces/status pods/log pods/status "
             "replicationcontrollers/status resourcequotas resourcequotas/status",
             NULL);
        rule(r, R_READ, "-", "namespaces", NULL);
        rule(r, R_READ, "discovery.k8s.io", "endpointslices", NULL);
        rule(r, R_READ, "apps",
             "controllerrevisions daemonsets daemonsets/status deployments deployments/scale "
             "deployments/status replicasets replicasets/scale replicasets/status statefulsets "
             "statefulsets/scale statefulsets/status",
             NULL);
        rule(r, R_READ, "autoscaling", "horizontalpodautoscalers horizontalpodautoscalers/status",
             NULL);
        rule(r, R_READ, "batch", "cronjobs cronjobs/status jobs jobs/status", NULL);
        rule(r, R_READ, "policy", "poddisruptionbudgets poddisruptionbudgets/status", NULL);
        rule(r, R_READ, "networking.k8s.io", "ingresses ingresses/status networkpolicies", NULL);
}

static void edit_only_rules(json_t *r)
{
        rule(r, "impersonate", "-", "serviceaccounts", NULL);
        rule(r, R_WRITE, "-", "pods pods/attach pods/exec pods/portforward pods/proxy", NULL);
        rule(r, "create", "-", "pods/eviction", NULL);
        rule(r, R_WRITE, "-",
             "configmaps events persistentvolumeclaims replicationcontrollers "
             "replicationcontrollers/scale secrets serviceaccounts services services/proxy",
             NULL);
        rule(r, "create", "-", "serviceaccounts/token", NULL);
        rule(r, R_WRITE, "apps",
             "daemonsets deployments deployments/rollback deployments/scale replicasets "
             "replicasets/scale statefulsets statefulsets/scale",
             NULL);
        rule(r, R_WRITE, "autoscaling", "horizontalpodautoscalers", NULL);
        rule(r, R_WRITE, "batch", "cronjobs jobs", NULL);
        rule(r, R_WRITE, "networking.k8s.io", "ingresses networkpolicies", NULL);
        rule(r, R_WRITE, "policy", "poddisruptionbudgets", NULL);
        rule(r, R_WRITE, "discovery.k8s.io", "endpointslices", NULL);
        rule(r, R_READ, "-",
             "pods/attach pods/exec pods/portforward pods/proxy secrets "
             "services/proxy",
             NULL);
}

static void edit_rules(json_t *r)
{
        edit_only_rules(r);
        view_rules(r);
}

static json_t *bootstrap_meta(const char *name)
{
        char uid[37], ts[32];
        meta_uid_new(uid);
        timefmt_rfc3339(ts, time(NULL));
        return json_pack("{s:s,s:s,s:s,s:{s:s},s:{s:s}}", "name", name, "uid", uid,
                         "creationTimestamp", ts, "labels", "kubernetes.io/bootstrapping",
                         "rbac-defaults", "annotations",
                         "rbac.authorization.kubernetes.io/autoupdate", "true");
}

static int put_missing(struct store *st, const char *resource, const char *kind, json_t *obj,
                       struct error *err)
{
        const char *name = kjson_str(obj, "metadata.name");
        _cleanup_free_ char *key = xasprintf("/registry/%s/%s", resource, name);
        json_object_set_new(obj, "apiVersion", json_string("rbac.authorization.k8s.io/v1"));
        json_object_set_new(obj, "kind", json_string(kind));
        _cleanup_free_ char *s = kjson_dump(obj);
        int r = store_create(st, key, s, strlen(s), NULL, err);
        return r == -EEXIST ? 0 : r;
}

#define AGG "rbac.authorization.k8s.io/aggregate-to-"

/* A default ClusterRole; label (may be NULL) is added with value "true", aggregate_from (may be
 * NULL) becomes an aggregationRule selecting that label = "true" (its stored rules are then the
 * aggregated ones, as the aggregation controller would write them). */
static int cluster_role_agg(struct store *st, const char *name, void (*fill)(json_t *),
                            const char *urls, const char *label, const char *aggregate_from,
                            struct error *err)
{
        _cleanup_(json_decrefp) json_t *o = json_object();
        json_object_set_new(o, "metadata", bootstrap_meta(name));
        if (label)
                json_object_set_new(kjson_obj_ensure_path(o, "metadata.labels"), label,
                                    json_string("true"));
        if (aggregate_from)
                json_object_set_new(o, "aggregationRule",
                                    json_pack("{s:[{s:{s:s}}]}", "clusterRoleSelectors",
                                              "matchLabels", aggregate_from, "true"));
        json_t *rules = json_array();
        if (fill)
                fill(rules);
        if (urls)
                rule(rules, "get", NULL, NULL, urls);
        json_object_set_new(o, "rules", rules);
        return put_missing(st, "clusterroles", "ClusterRole", o, err);
}

static int cluster_role(struct store *st, const char *name, void (*fill)(json_t *),
                        const char *urls, struct error *err)
{
        return cluster_role_agg(st, name, fill, urls, NULL, NULL, err);
}

static int cluster_binding(struct store *st, const char *name, const char *role, const char *groups,
                           struct error *err)
{
        _cleanup_(json_decrefp) json_t *o = json_object();
        json_object_set_new(o, "metadata", bootstrap_meta(name));
        json_object_set_new(o, "roleRef",
                            json_pack("{s:s,s:s,s:s}", "apiGroup", "rbac.authorization.k8s.io",
                                      "kind", "ClusterRole", "name", role));
        json_t *subj = json_array();
        _cleanup_strv_free_ char **g = strv_split(groups, ' ');
        for (char **x = g; *x; x++)
                json_array_append_new(subj, json_pack("{s:s,s:s,s:s}", "apiGroup",
                                                      "rbac.authorization.k8s.io", "kind", "Group",
                                                      "name", *x));
        json_object_set_new(o, "subjects", subj);
        return put_missing(st, "clusterrolebindings", "ClusterRoleBinding", o, err);
}

static void cluster_admin_rules(json_t *r)
{
        rule(r, "*", "*", "*", NULL);
        rule(r, "*", NULL, NULL, "*");
}

static void admin_only_rules(json_t *r)
{
        rule(r, "create", "authorization.k8s.io", "localsubjectaccessreviews", NULL);
        rule(r, R_WRITE " get list watch", "rbac.authorization.k8s.io", "rolebindings roles", NULL);
}

static void admin_rules(json_t *r)
{
        admin_only_rules(r);
        edit_rules(r);
}

static void basic_user_rules(json_t *r)
{
        rule(r, "create", "authorization.k8s.io",
             "selfsubjectaccessreviews selfsubjectrulesreviews", NULL);
        rule(r, "create", "authentication.k8s.io", "selfsubjectreviews", NULL);
}

int authz_bootstrap(struct store *st, struct error *err)
{
        int r = 0;
        if (r >= 0)
                r = cluster_role(st, "cluster-admin", cluster_admin_rules, NULL, err);
        if (r >= 0)
                r = cluster_role_agg(st, "admin", admin_rules, NULL, NULL, AGG "admin", err);
        if (r >= 0)
                r = cluster_role_agg(st, "edit", edit_rules, NULL, AGG "admin", AGG "edit", err);
        if (r >= 0)
                r = cluster_role_agg(st, "view", view_rules, NULL, AGG "edit", AGG "view", err);
        if (r >= 0)
                r = cluster_role_agg(st, "system:aggregate-to-admin", admin_only_rules, NULL,
                                     AGG "admin", NULL, err);
        if (r >= 0)
                r = cluster_role_agg(st, "system:aggregate-to-edit", edit_only_rules, NULL,
                                     AGG "edit", NULL, err);
        if (r >= 0)
                r = cluster_role_agg(st, "system:aggregate-to-view", view_rules, NULL, AGG "view",
                                     NULL, err);
        if (r >= 0)
                r = cluster_role(st, "system:basic-user", basic_user_rules, NULL, err);
        if (r >= 0)
                r = cluster_role(st, "system:discovery", NULL,
                                 "/api /api/* /apis /apis/* /healthz /livez /openapi /openapi/* "
                                 "/readyz /version /version/",
                                 err);
        if (r >= 0)
                r = cluster_role(st, "system:public-info-viewer", NULL,
                                 "/healthz /livez /readyz /version /version/", err);
        if (r >= 0)
                r = cluster_role(st, "system:monitoring", NULL,
                                 "/healthz /healthz/* /livez /livez/* /metrics /metrics/slis "
                                 "/readyz /readyz/*",
                                 err);
        if (r >= 0)
                r = cluster_binding(st, "cluster-admin", "cluster-admin", "system:masters", err);
        if (r >= 0)
                r = cluster_binding(st, "system:basic-user", "system:basic-user",
                                    "system:authenticated", err);
        if (r >= 0)
                r = cluster_binding(st, "system:discovery", "system:discovery",
                                    "system:authenticated", err);
        if (r >= 0)
                r = cluster_binding(st, "system:public-info-viewer", "system:public-info-viewer",
                                    "system:authenticated system:unauthenticated", err);
        if (r >= 0)
                r = cluster_binding(st, "system:monitoring", "system:monitoring",
                                    "system:monitoring", err);
        return r;
}

/* ---- the authorizer ---- */

static const struct {
        const char *prefix;
        const char *kind;
} rbac_prefixes[] = {
        {"/registry/clusterroles/", "ClusterRole"},
        {"/registry/roles/", "Role"},
        {"/registry/clusterrolebindings/", "ClusterRoleBinding"},
        {"/registry/rolebindings/", "RoleBinding"},
};

struct authz {
        struct store *store;
        struct store_watch *watches[ARRAY_SIZE(rbac_prefixes)];
        struct authz_policy policy; /* caller's thread (the API server loop) */
        int dirty;                  /* set by store watch callbacks (any thread; atomic) */
};

static void on_rbac_event(const struct store_event *ev, void *ud)
{
        (void)ev;
        struct authz *z = ud;
        __atomic_store_n(&z->dirty, 1, __ATOMIC_SEQ_CST);
}

static int reload(struct authz *z, struct error *err)
{
        struct authz_policy p;
        authz_policy_init(&p);
        for (size_t k = 0; k < ARRAY_SIZE(rbac_prefixes); k++) {
                struct store_list l = {0};
                int r = store_list(z->store, rbac_prefixes[k].prefix, NULL, 0, 0, &l, err);
                if (r < 0) {
                        authz_policy_clear(&p);
                        return r;
                }
                for (size_t i = 0; i < l.n_items; i++) {
                        json_t *o = NULL;
                        if (kjson_parse(l.items[i].value, l.items[i].value_len, 0, &o, NULL) == 0)
                                authz_policy_add(&p, rbac_prefixes[k].kind, o);
                        json_decref(o);
                }
                store_list_clear(&l);
        }
        authz_policy_aggregate(&p);
        authz_policy_clear(&z->policy);
        z->policy = p;
        return 0;
}

int authz_new(struct store *st, struct authz **ret, struct error *err)
{
        struct authz *z = xcalloc(1, sizeof(*z));
        z->store = st;
        authz_policy_init(&z->policy);
        int r = 0;
        int64_t rev = store_revision(st);
        for (size_t k = 0; r >= 0 && k < ARRAY_SIZE(rbac_prefixes); k++)
                r = store_watch(st, rbac_prefixes[k].prefix, rev, on_rbac_event, z, &z->watches[k],
                                err);
        if (r >= 0)
                r = reload(z, err);
        if (r < 0) {
                authz_free(z);
                return r;
        }
        *ret = z;
        return 0;
}

void authz_free(struct authz *z)
{
        if (!z)
                return;
        for (size_t k = 0; k < ARRAY_SIZE(z->watches); k++)
                if (z->watches[k])
                        store_watch_cancel(z->watches[k]);
        authz_policy_clear(&z->policy);
        free(z);
}

static void refresh(struct authz *z)
{
        if (__atomic_exchange_n(&z->dirty, 0, __ATOMIC_SEQ_CST)) {
                struct error err = {0};
                if (reload(z, &err) < 0)
                        __atomic_store_n(&z->dirty, 1, __ATOMIC_SEQ_CST); /* try again */
        }
}

json_t *authz_rules(struct authz *z, const struct authn_user *u, const char *ns)
{
        refresh(z);
        return authz_policy_rules(&z->policy, u, ns);
}

bool authz_allows(struct authz *z, const struct authn_user *u, const struct authz_attrs *at,
                  char **ret_reason)
{
        if (authn_user_in_group(u, "system:masters"))
                return authz_policy_allows(&z->policy, u, at, ret_reason);
        refresh(z);
        return authz_policy_allows(&z->policy, u, at, ret_reason);
}

/* May requester impersonate resource/name (in ns)? Fills *ret_msg when not. */
static bool may_impersonate(struct authz *z, const struct authn_user *requester, const char *group,
                            const char *resource, const char *ns, const char *name, char **ret_msg)
{
        struct authz_attrs at = {
                .resource_request = true,
                .verb = xstrdup("impersonate"),
                .path = xstrdup(""),
                .group = xstrdup(group),
                .resource = xstrdup(resource),
                .ns = ns ? xstrdup(ns) : NULL,
                .name = xstrdup(name),
        };
        bool ok = authz_allows(z, requester, &at, NULL);
        if (!ok)
                *ret_msg = authz_forbidden_message(requester, &at);
        authz_attrs_clear(&at);
        return ok;
}

int authz_impersonate(struct authz *z, const struct authn_user *requester, const char *user,
                      const char *group, const char *uid, struct authn_user *ret, char **ret_msg)
{
        if (!user || !*user) {
                *ret_msg = xasprintf("requested impersonation of %s%s%s without impersonating a "
                                     "user",
                                     group ? "group " : "", group ? group : "",
                                     uid ? " and a uid" : "");
                return -EINVAL;
        }
        const char *sa = "system:serviceaccount:";
        bool is_sa = !strncmp(user, sa, strlen(sa)) && strchr(user + strlen(sa), ':');
        if (is_sa) {
                _cleanup_free_ char *ns = xstrdup(user + strlen(sa));
                char *colon = strchr(ns, ':');
                *colon = 0;
                if (!may_impersonate(z, requester, "", "serviceaccounts", ns, colon + 1, ret_msg))
                        return -EACCES;
        } else if (!may_impersonate(z, requester, "", "users", NULL, user, ret_msg)) {
                return -EACCES;
        }
        if (group && *group && !may_impersonate(z, requester, "", "groups", NULL, group, ret_msg))
                return -EACCES;
        if (uid && *uid &&
            !may_impersonate(z, requester, "authentication.k8s.io", "uids", NULL, uid, ret_msg))
                return -EACCES;
        struct authn_user u = {
                .name = xstrdup(user),
                .uid = uid && *uid ? xstrdup(uid) : NULL,
                .groups = strv_new(),
        };
        if (group && *group)
                u.groups = strv_push(u.groups, group);
        if (is_sa && !(group && *group)) {
                _cleanup_free_ char *ns = xstrdup(user + strlen(sa));
                *strchr(ns, ':') = 0;
                _cleanup_free_ char *g = xasprintf("system:serviceaccounts:%s", ns);
                u.groups = strv_push(u.groups, "system:serviceaccounts");
                u.groups = strv_push(u.groups, g);
        }
        if (strcmp(user, "system:anonymous") && !strv_contains(u.groups, "system:authenticated"))
                u.groups = strv_push(u.groups, "system:authenticated");
        *ret = u;
        return 0;
}

/* ---- escalation prevention ---- */

/* A growable string for the missing-rights text. */
struct strbuf_like {
        char *p;
        size_t n;
};

static void sb_add(struct strbuf_like *b, const char *s)
{
        size_t l = strlen(s);
        b->p = xrealloc(b->p, b->n + l + 1);
        memcpy(b->p + b->n, s, l + 1);
        b->n += l;
}

static void quoted_list(struct strbuf_like *b, const char *key, const json_t *arr)
{
        sb_add(b, key);
        sb_add(b, ":[");
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
                if (i)
                        sb_add(b, " ");
                sb_add(b, "\"");
                sb_add(b, json_string_value(v) ? json_string_value(v) : "");
                sb_add(b, "\"");
        }
        sb_add(b, "]");
}

/* Is one atomic permission held? resource may be "pods/log". */
static bool holds(struct authz *z, const struct authn_user *u, const char *ns, const char *verb,
                  const char *group, const char *resource, const char *name, const char *url)
{
        struct authz_attrs at = {
                .resource_request = url == NULL,
                .verb = xstrdup(verb),
                .path = xstrdup(url ? url : ""),
        };
        if (!url) {
                at.group = xstrdup(group);
                const char *slash = strchr(resource, '/');
                at.resource =
                        slash ? xstrndup(resource, (size_t)(slash - resource)) : xstrdup(resource);
                at.subresource = slash ? xstrdup(slash + 1) : NULL;
                at.ns = ns && *ns ? xstrdup(ns) : NULL;
                at.name = name ? xstrdup(name) : NULL;
        }
        bool ok = authz_allows(z, u, &at, NULL);
        authz_attrs_clear(&at);
        return ok;
}

/* Append to missing (a text, one compact rule per line) every atomic right of rules not held. */
static void missing_rights(struct authz *z, const struct authn_user *u, const char *ns,
                           const json_t *rules, struct strbuf_like *missing)
{
        size_t i, a, b, c, d;
        json_t *r, *verb, *g, *res, *name;
        json_array_foreach(rules, i, r)
        {
                json_t *verbs = json_object_get(r, "verbs");
                json_t *urls = json_object_get(r, "nonResourceURLs");
                json_array_foreach(urls, a, g)
                {
                        json_array_foreach(verbs, b, verb)
                        {
                                if (!json_is_string(g) || !json_is_string(verb) ||
                                    holds(z, u, NULL, json_string_value(verb), NULL, NULL, NULL,
                                          json_string_value(g)))
                                        continue;
                                json_t *one_u = json_pack("[O]", g),
                                       *one_v = json_pack("[O]", verb);
                                sb_add(missing, "\n{");
                                quoted_list(missing, "NonResourceURLs", one_u);
                                sb_add(missing, ", ");
                                quoted_list(missing, "Verbs", one_v);
                                sb_add(missing, "}");
                                json_decref(one_u);
                                json_decref(one_v);
                        }
                }
                json_t *names = json_object_get(r, "resourceNames");
                json_t *none = json_pack("[n]");
                json_t *name_list = json_array_size(names) ? names : none;
                json_array_foreach(json_object_get(r, "apiGroups"), a, g)
                {
                        json_array_foreach(json_object_get(r, "resources"), b, res)
                        {
                                json_array_foreach(name_list, c, name)
                                {
                                        json_array_foreach(verbs, d, verb)
                                        {
                                                if (!json_is_string(g) || !json_is_string(res) ||
                                                    !json_is_string(verb) ||
                                                    holds(z, u, ns, json_string_value(verb),
                                                          json_string_value(g),
                                                          json_string_value(res),
                                                          json_string_value(name), NULL))
                                                        continue;
                                                json_t *lg = json_pack("[O]", g);
                                                json_t *lr = json_pack("[O]", res);
                                                json_t *lv = json_pack("[O]", verb);
                                                sb_add(missing, "\n{");
                                                quoted_list(missing, "APIGroups", lg);
                                                sb_add(missing, ", ");
                                                quoted_list(missing, "Resources", lr);
                                                if (json_is_string(name)) {
                                                        json_t *ln = json_pack("[O]", name);
                                                        sb_add(missing, ", ");
                                                        quoted_list(missing, "ResourceNames", ln);
                                                        json_decref(ln);
                                                }
                                                sb_add(missing, ", ");
                                                quoted_list(missing, "Verbs", lv);
                                                sb_add(missing, "}");
                                                json_decref(lg);
                                                json_decref(lr);
                                                json_decref(lv);
                                        }
                                }
                        }
                }
                json_decref(none);
        }
}

static char *escalation_message(const struct authn_user *u, const struct authz_attrs *at,
                                const char *name, const char *missing)
{
        struct strbuf_like groups = {0};
        sb_add(&groups, "[");
        for (char **g = u->groups; g && *g; g++) {
                if (g != u->groups)
                        sb_add(&groups, " ");
                sb_add(&groups, "\"");
                sb_add(&groups, *g);
                sb_add(&groups, "\"");
        }
        sb_add(&groups, "]");
        char *m = xasprintf("%s.%s \"%s\" is forbidden: user \"%s\" (groups=%s) is attempting to "
                            "grant RBAC permissions not currently held:%s",
                            at->resource, at->group, name ? name : "", u->name ? u->name : "",
                            groups.p, missing);
        free(groups.p);
        return m;
}

int authz_check_escalation(struct authz *z, const struct authn_user *u,
                           const struct authz_attrs *at, const json_t *obj, char **ret_msg)
{
        if (!at->resource_request || !at->group || strcmp(at->group, "rbac.authorization.k8s.io") ||
            at->subresource || !at->resource ||
            (strcmp(at->verb, "create") && strcmp(at->verb, "update")) ||
            authn_user_in_group(u, "system:masters"))
                return 0;
        bool role = !strcmp(at->resource, "roles") || !strcmp(at->resource, "clusterroles");
        bool binding = !strcmp(at->resource, "rolebindings") ||
                       !strcmp(at->resource, "clusterrolebindings");
        if (!role && !binding)
                return 0;
        bool cluster = at->resource[0] == 'c';
        const char *ns = cluster ? NULL : at->ns;
        const char *name = kjson_str(obj, "metadata.name");
        if (!name)
                name = at->name;
        const json_t *rules = NULL;
        if (role) {
                if (holds(z, u, ns, "escalate", "rbac.authorization.k8s.io", at->resource, name,
                          NULL))
                        return 0;
                rules = json_object_get(obj, "rules");
        } else {
                const char *rk = kjson_str(obj, "roleRef.kind");
                const char *rn = kjson_str(obj, "roleRef.name");
                if (!rk || !rn)
                        return 0; /* validation answers it */
                bool ref_cluster = !strcmp(rk, "ClusterRole");
                if (holds(z, u, ref_cluster ? NULL : ns, "bind", "rbac.authorization.k8s.io",
                          ref_cluster ? "clusterroles" : "roles", rn, NULL))
                        return 0;
                refresh(z);
                if (ref_cluster) {
                        rules = json_object_get(z->policy.cluster_roles, rn);
                } else if (ns) {
                        _cleanup_free_ char *k = xasprintf("%s/%s", ns, rn);
                        rules = json_object_get(z->policy.roles, k);
                }
                if (!rules) {
                        _cleanup_free_ char *why =
                                xasprintf("\n%s \"%s\" not found (binding it needs the verb bind)",
                                          ref_cluster ? "clusterroles.rbac.authorization.k8s.io"
                                                      : "roles.rbac.authorization.k8s.io",
                                          rn);
                        *ret_msg = escalation_message(u, at, name, why);
                        return -EACCES;
                }
        }
        struct strbuf_like missing = {0};
        sb_add(&missing, "");
        missing_rights(z, u, ns, rules, &missing);
        if (!missing.n) {
                free(missing.p);
                return 0;
        }
        *ret_msg = escalation_message(u, at, name, missing.p);
        free(missing.p);
        return -EACCES;
}
