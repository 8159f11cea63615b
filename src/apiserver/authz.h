/* authz.h — what a user may do: request attributes (kube-apiserver's RequestInfo) and RBAC.
 *
 * authz_request_info_parse() turns method + path + query into the attributes RBAC matches on,
 * exactly as k8s.io/apiserver's RequestInfoFactory does: /api/v1/... and /apis/G/V/... with at
 * least one segment after the version are resource requests (verb get/list/watch/create/update/
 * patch/delete/deletecollection, /watch/ prefixed paths are watches, a list or watch whose
 * fieldSelector pins metadata.name carries that name); everything else (/api, /apis/G/V,
 * /healthz, /metrics, ...) is a non-resource request whose verb is the lower-case HTTP method.
 *
 * The decision (authz_policy_allows) follows RBAC: members of system:masters are always allowed;
 * otherwise a ClusterRoleBinding grants its ClusterRole's rules everywhere, a RoleBinding grants
 * its Role's or ClusterRole's rules in its namespace only. Rules match on verbs, apiGroups,
 * resources ("*", "pods", "pods/log", and "*" + "/scale" for every scale subresource; a
 * resource followed by "/" + "*" matches nothing, as in Kubernetes), resourceNames,
 * nonResourceURLs (exact, or a prefix ending in "*"). Subjects: User, Group, ServiceAccount.
 * Aggregation rules are not evaluated.
 *
 * The policy is a snapshot of the four RBAC kinds read from the store; struct authz keeps one
 * and reloads it after any write under /registry/{cluster,}role{,binding}s/ (store watches set a
 * flag; the reload happens on the next decision, on the caller's thread). */
#pragma once
#include <jansson.h>

#include "apiserver/authn.h"
#include "common/base.h"
#include "common/error.h"

struct store;

struct authz_attrs {
        bool resource_request;
        char *verb; /* never NULL */
        char *path; /* the request path */
        char *api_prefix, *group, *version, *resource, *subresource, *ns, *name; /* or NULL */
};
void authz_attrs_clear(struct authz_attrs *at);
/* Parse; query_raw is the undecoded query string (may be NULL). Always succeeds. */
void authz_request_info_parse(const char *method, const char *path, const char *query_raw,
                              struct authz_attrs *ret);

/* ---- policy (pure) ---- */
struct authz_policy {
        json_t *cluster_roles;    /* {"name": [rules]} */
        json_t *roles;            /* {"ns/name": [rules]} */
        json_t *cluster_bindings; /* [ClusterRoleBinding objects] */
        json_t *bindings;         /* [RoleBinding objects] */
        json_t *aggregating;      /* {"name": {"labels":{...},"selectors":[...]}} (ClusterRoles) */
};
void authz_policy_init(struct authz_policy *p);
void authz_policy_clear(struct authz_policy *p);
/* Add one stored object of kind ClusterRole, Role, ClusterRoleBinding or RoleBinding. */
void authz_policy_add(struct authz_policy *p, const char *kind, const json_t *obj);
/* After the last add: ClusterRoles with an aggregationRule get the union of the rules of every
 * ClusterRole whose labels match one of its clusterRoleSelectors (what kube-controller-manager's
 * clusterrole-aggregation controller writes into them), repeated until nothing changes so chains
 * (view -> edit -> admin) resolve. */
void authz_policy_aggregate(struct authz_policy *p);
/* The decision. *ret_reason (may be NULL) receives kube-apiserver's reason text for an allow
 * ("RBAC: allowed by ClusterRoleBinding \"x\" of ClusterRole \"y\" to Group \"z\""), or "" for a
 * deny; caller frees. */
bool authz_policy_allows(const struct authz_policy *p, const struct authn_user *u,
                         const struct authz_attrs *at, char **ret_reason);
/* Every rule that applies to u in namespace ns (NULL/"" = cluster bindings only), as
 * SelfSubjectRulesReview lists them: {"resourceRules":[...],"nonResourceRules":[...]} (new
 * reference). */
json_t *authz_policy_rules(const struct authz_policy *p, const struct authn_user *u,
                           const char *ns);
/* Does one PolicyRule (JSON) match the attributes? */
bool authz_rule_matches(const json_t *rule, const struct authz_attrs *at);

/* The 403 text kube-apiserver sends ("pods is forbidden: User \"x\" cannot list resource
 * \"pods\" in API group \"\" in the namespace \"default\"", "forbidden: User \"x\" cannot get
 * path \"/metrics\""). Caller frees. */
char *authz_forbidden_message(const struct authn_user *u, const struct authz_attrs *at);

/* ---- bootstrap ---- */
/* The default ClusterRoles and ClusterRoleBindings kube-apiserver creates (cluster-admin, admin,
 * edit, view, system:basic-user, system:discovery, system:public-info-viewer, system:monitoring
 * and their bindings), created in the store when missing (existing objects are kept). */
int authz_bootstrap(struct store *st, struct error *err);

/* ---- the authorizer ---- */
struct authz;
int authz_new(struct store *st, struct authz **ret, struct error *err);
void authz_free(struct authz *z);
/* Decide for u and at (reloads the policy snapshot if RBAC objects changed). */
bool authz_allows(struct authz *z, const struct authn_user *u, const struct authz_attrs *at,
                  char **ret_reason);
/* authz_policy_rules on the current snapshot. */
json_t *authz_rules(struct authz *z, const struct authn_user *u, const char *ns);

/* Impersonation (Impersonate-User / -Group / -Uid headers, kubectl --as/--as-group/--as-uid):
 * the requester needs the verb "impersonate" on users/NAME (or serviceaccounts/NAME in its
 * namespace for "system:serviceaccount:NS:NAME"), groups/NAME and uids/UID
 * (authentication.k8s.io), as kube-apiserver's impersonation filter checks. On success *ret is
 * the impersonated user (system:authenticated added unless it is system:anonymous; a
 * ServiceAccount without groups gets its ServiceAccount groups) and 0 is returned; -EACCES with
 * *ret_msg (the Forbidden text, caller frees) when not allowed; -EINVAL with *ret_msg when a group
 * or uid is given without a user. */
int authz_impersonate(struct authz *z, const struct authn_user *requester, const char *user,
                      const char *group, const char *uid, struct authn_user *ret, char **ret_msg);

/* RBAC escalation prevention (kube-apiserver's ConfirmNoEscalation/BindingAuthorized): creating
 * or updating a Role/ClusterRole needs the verb "escalate" on it or every rule it grants held by
 * the requester (in the Role's namespace; cluster-wide for ClusterRoles); a RoleBinding/
 * ClusterRoleBinding needs "bind" on the referenced role or all of that role's rules. at is the
 * request (verb create or update, group rbac.authorization.k8s.io), obj the new object. Returns 0
 * when allowed (also for any other request), -EACCES with *ret_msg (Forbidden text, caller frees)
 * when not. */
int authz_check_escalation(struct authz *z, const struct authn_user *u,
                           const struct authz_attrs *at, const json_t *obj, char **ret_msg);
