/* test-authz.c — RequestInfo parsing (cases from k8s.io/apiserver's request_test.go), RBAC rule
 * matching and decisions, Forbidden messages, the bootstrap policy and the authorizer's reload
 * after RBAC writes. */
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

#include "apiserver/authz.h"
#include "common/kjson.h"
#include "common/strv.h"
#include "store/store.h"

static const struct {
        const char *method, *path, *query;
        bool resource;
        const char *verb, *group, *version, *resource_, *sub, *ns, *name;
} cases[] = {
        /* resource paths */
        {"GET", "/api/v1/namespaces", NULL, true, "list", "", "v1", "namespaces", NULL, NULL, NULL},
        {"GET", "/api/v1/namespaces/other", NULL, true, "get", "", "v1", "namespaces", NULL,
         "other", "other"},
        {"GET", "/api/v1/namespaces/other/pods/foo", NULL, true, "get", "", "v1", "pods", NULL,
         "other", "foo"},
        {"GET", "/api/v1/namespaces/other/pods", NULL, true, "list", "", "v1", "pods", NULL,
         "other", NULL},
        {"HEAD", "/api/v1/namespaces/other/pods/foo", NULL, true, "get", "", "v1", "pods", NULL,
         "other", "foo"},
        {"GET", "/api/v1/pods", NULL, true, "list", "", "v1", "pods", NULL, NULL, NULL},
        {"GET", "/api/v1/pods", "watch=true", true, "watch", "", "v1", "pods", NULL, NULL, NULL},
        {"GET", "/api/v1/pods", "watch=True", true, "watch", "", "v1", "pods", NULL, NULL, NULL},
        {"GET", "/api/v1/pods", "watch=false", true, "list", "", "v1", "pods", NULL, NULL, NULL},
        {"GET", "/api/v1/namespaces/other/pods", "fieldSelector=metadata.name%3Dfoo", true, "list",
         "", "v1", "pods", NULL, "other", "foo"},
        {"GET", "/api/v1/namespaces/other/pods",
         "watch=1&fieldSelector=status.phase%3DRunning,metadata.name%3D%3Dfoo", true, "watch", "",
         "v1", "pods", NULL, "other", "foo"},
        {"GET", "/api/v1/namespaces/other/pods", "fieldSelector=metadata.name%3Da%2Fb", true,
         "list", "", "v1", "pods", NULL, "other", NULL},
        {"GET", "/api/v1/watch/namespaces/other/pods", NULL, true, "watch", "", "v1", "pods", NULL,
         "other", NULL},
        {"POST", "/api/v1/namespaces/other/pods", NULL, true, "create", "", "v1", "pods", NULL,
         "other", NULL},
        {"PUT", "/api/v1/namespaces/other/pods/foo", NULL, true, "update", "", "v1", "pods", NULL,
         "other", "foo"},
        {"PATCH", "/api/v1/namespaces/other/pods/foo", NULL, true, "patch", "", "v1", "pods", NULL,
         "other", "foo"},
        {"DELETE", "/api/v1/namespaces/other/pods/foo", NULL, true, "delete", "", "v1", "pods",
         NULL, "other", "foo"},
        {"DELETE", "/api/v1/namespaces/other/pods", NULL, true, "deletecollection", "", "v1",
         "pods", NULL, "other", NULL},
        {"GET", "/api/v1/namespaces/other/pods/foo/log", NULL, true, "get", "", "v1", "pods", "log",
         "other", "foo"},
        {"POST", "/api/v1/namespaces/other/serviceaccounts/sa/token", NULL, true, "create", "",
         "v1", "serviceaccounts", "token", "other", "sa"},
        {"PUT", "/api/v1/namespaces/other/status", NULL, true, "update", "", "v1", "namespaces",
         "status", "other", "other"},
        {"PUT", "/api/v1/namespaces/other/finalize", NULL, true, "update", "", "v1", "namespaces",
         "finalize", "other", "other"},
        {"GET", "/apis/apps/v1/namespaces/other/deployments/d/scale", NULL, true, "get", "apps",
         "v1", "deployments", "scale", "other", "d"},
        {"GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:basic-user", NULL, true,
         "get", "rbac.authorization.k8s.io", "v1", "clusterroles", NULL, NULL, "system:basic-user"},
        {"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL, true, "create",
         "authorization.k8s.io", "v1", "selfsubjectaccessreviews", NULL, NULL, NULL},
        {"GET", "/api/v1/proxy/namespaces/other/pods/foo/sub/path", NULL, true, "proxy", "", "v1",
         "pods", NULL, "other", "foo"},
        {"GET", "/api/v1/pods/", NULL, true, "list", "", "v1", "pods", NULL, NULL, NULL},
        /* non-resource paths */
        {"GET", "/api", NULL, false, "get", NULL, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/v1", NULL, false, "get", NULL, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/apis/apps/v1", NULL, false, "get", NULL, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/apis/apps", NULL, false, "get", NULL, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/healthz/etcd", NULL, false, "get", NULL, NULL, NULL, NULL, NULL, NULL},
        {"POST", "/metrics", NULL, false, "post", NULL, NULL, NULL, NULL, NULL, NULL},
        {"HEAD", "/version", NULL, false, "get", NULL, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/openapi/v3/api/v1", NULL, false, "get", NULL, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/v1/watch", NULL, false, "get", NULL, NULL, NULL, NULL, NULL, NULL},
};

static bool eq(const char *a, const char *b)
{
        return (!a && !b) || (a && b && !strcmp(a, b));
}

TEST(request_info)
{
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct authz_attrs at;
                authz_request_info_parse(cases[i].method, cases[i].path, cases[i].query, &at);
                bool ok = at.resource_request == cases[i].resource && eq(at.verb, cases[i].verb) &&
                          eq(at.path, cases[i].path);
                if (cases[i].resource)
                        ok = ok && eq(at.group, cases[i].group) &&
                             eq(at.version, cases[i].version) &&
                             eq(at.resource, cases[i].resource_) &&
                             eq(at.subresource, cases[i].sub) && eq(at.ns, cases[i].ns) &&
                             eq(at.name, cases[i].name);
                if (!ok)
                        printf("# case %zu %s %s: resource=%d verb=%s group=%s resource=%s "
                               "sub=%s ns=%s name=%s\n",
                               i, cases[i].method, cases[i].path, at.resource_request, at.verb,
                               at.group, at.resource, at.subresource, at.ns, at.name);
                CHECK(ok);
                authz_attrs_clear(&at);
        }
}

static json_t *J(const char *s)
{
        json_t *j = NULL;
        kjson_parse(s, strlen(s), 0, &j, NULL);
        return j;
}

static bool rule_ok(const char *rule, const char *method, const char *path)
{
        json_t *r = J(rule);
        struct authz_attrs at;
        authz_request_info_parse(method, path, NULL, &at);
        bool ok = authz_rule_matches(r, &at);
        authz_attrs_clear(&at);
        json_decref(r);
        return ok;
}

TEST(rules)
{
        const char *pods = "{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],"
                           "\"resources\":[\"pods\"]}";
        CHECK(rule_ok(pods, "GET", "/api/v1/namespaces/a/pods"));
        CHECK(rule_ok(pods, "GET", "/api/v1/namespaces/a/pods/x"));
        CHECK(!rule_ok(pods, "GET", "/api/v1/namespaces/a/pods/x/log"));
        CHECK(!rule_ok(pods, "DELETE", "/api/v1/namespaces/a/pods/x"));
        CHECK(!rule_ok(pods, "GET", "/apis/apps/v1/namespaces/a/pods"));
        const char *log = "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/log\"]}";
        CHECK(rule_ok(log, "GET", "/api/v1/namespaces/a/pods/x/log"));
        CHECK(!rule_ok(log, "GET", "/api/v1/namespaces/a/pods/x"));
        const char *scale = "{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*/scale\"]}";
        CHECK(rule_ok(scale, "PATCH", "/apis/apps/v1/namespaces/a/deployments/d/scale"));
        CHECK(!rule_ok(scale, "PATCH", "/apis/apps/v1/namespaces/a/deployments/d"));
        /* a "pods/" + "*" rule is not a wildcard in Kubernetes' RBAC */
        const char *podsub = "{\"verbs\":[\"*\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/*\"]}";
        CHECK(!rule_ok(podsub, "GET", "/api/v1/namespaces/a/pods/x/log"));
        const char *named = "{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],"
                            "\"resources\":[\"configmaps\"],\"resourceNames\":[\"cm1\"]}";
        CHECK(rule_ok(named, "GET", "/api/v1/namespaces/a/configmaps/cm1"));
        CHECK(!rule_ok(named, "GET", "/api/v1/namespaces/a/configmaps/cm2"));
        CHECK(!rule_ok(named, "GET", "/api/v1/namespaces/a/configmaps"));
        const char *urls = "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\",\"/apis/*\"]}";
        CHECK(rule_ok(urls, "GET", "/healthz"));
        CHECK(!rule_ok(urls, "GET", "/healthz/etcd"));
        CHECK(rule_ok(urls, "GET", "/apis/apps/v1"));
        CHECK(!rule_ok(urls, "GET", "/apis"));
        CHECK(!rule_ok(urls, "POST", "/healthz"));
        /* non-resource rules never match resource requests and the reverse */
        CHECK(!rule_ok(urls, "GET", "/apis/apps/v1/deployments"));
        CHECK(!rule_ok(pods, "GET", "/healthz"));
}

static struct authz_policy pol;

static void add(const char *kind, const char *json)
{
        json_t *o = J(json);
        CHECK(o != NULL);
        authz_policy_add(&pol, kind, o);
        json_decref(o);
}

static struct authn_user user(const char *name, const char *groups)
{
        struct authn_user u = {.name = strdup(name), .groups = strv_split(groups, ',')};
        return u;
}

static bool can(struct authn_user *u, const char *method, const char *path, char **reason)
{
        struct authz_attrs at;
        authz_request_info_parse(method, path, NULL, &at);
        bool ok = authz_policy_allows(&pol, u, &at, reason);
        authz_attrs_clear(&at);
        return ok;
}

TEST(policy)
{
        authz_policy_init(&pol);
        add("ClusterRole", "{\"metadata\":{\"name\":\"reader\"},\"rules\":[{\"verbs\":[\"get\","
                           "\"list\",\"watch\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]}");
        add("Role", "{\"metadata\":{\"name\":\"cm\",\"namespace\":\"a\"},\"rules\":[{\"verbs\":"
                    "[\"*\"],\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"]}]}");
        add("ClusterRoleBinding",
            "{\"metadata\":{\"name\":\"ops-read\"},\"roleRef\":{\"kind\":\"ClusterRole\","
            "\"name\":\"reader\"},\"subjects\":[{\"kind\":\"Group\",\"name\":\"ops\"}]}");
        add("RoleBinding", "{\"metadata\":{\"name\":\"b1\",\"namespace\":\"a\"},\"roleRef\":"
                           "{\"kind\":\"Role\",\"name\":\"cm\"},\"subjects\":[{\"kind\":\"User\","
                           "\"name\":\"alice\"},{\"kind\":\"ServiceAccount\",\"name\":\"bot\"}]}");
        add("RoleBinding", "{\"metadata\":{\"name\":\"b2\",\"namespace\":\"b\"},\"roleRef\":"
                           "{\"kind\":\"ClusterRole\",\"name\":\"reader\"},\"subjects\":[{\"kind\":"
                           "\"User\",\"name\":\"alice\"}]}");
        /* a binding to a Role of another namespace grants nothing */
        add("RoleBinding", "{\"metadata\":{\"name\":\"b3\",\"namespace\":\"c\"},\"roleRef\":"
                           "{\"kind\":\"Role\",\"name\":\"cm\"},\"subjects\":[{\"kind\":\"User\","
                           "\"name\":\"alice\"}]}");

        struct authn_user alice = user("alice", "system:authenticated");
        struct authn_user ops = user("olga", "ops,system:authenticated");
        struct authn_user bot = user("system:serviceaccount:a:bot", "system:serviceaccounts");
        struct authn_user root = user("root", "system:masters");
        char *reason = NULL;
        CHECK(can(&alice, "POST", "/api/v1/namespaces/a/configmaps", &reason));
        CHECK_EQ_STR(reason,
                     "RBAC: allowed by RoleBinding \"b1/a\" of Role \"cm\" to User \"alice\"");
        free(reason);
        CHECK(!can(&alice, "POST", "/api/v1/namespaces/b/configmaps", NULL));
        CHECK(!can(&alice, "POST", "/api/v1/namespaces/c/configmaps", NULL));
        CHECK(can(&alice, "GET", "/api/v1/namespaces/b/pods", NULL));
        CHECK(!can(&alice, "GET", "/api/v1/pods", NULL)); /* all namespaces: cluster scope */
        CHECK(!can(&alice, "GET", "/api/v1/namespaces/a/pods", NULL));
        CHECK(can(&ops, "GET", "/api/v1/pods", &reason));
        CHECK_EQ_STR(reason, "RBAC: allowed by ClusterRoleBinding \"ops-read\" of ClusterRole "
                             "\"reader\" to Group \"ops\"");
        free(reason);
        CHECK(!can(&ops, "DELETE", "/api/v1/namespaces/x/pods/p", &reason));
        CHECK_EQ_STR(reason, "");
        free(reason);
        /* a ServiceAccount subject without namespace means the binding's namespace */
        CHECK(can(&bot, "DELETE", "/api/v1/namespaces/a/configmaps/x", NULL));
        CHECK(can(&root, "DELETE", "/api/v1/nodes/n1", NULL));
        CHECK(can(&root, "GET", "/metrics", NULL));
        CHECK(!can(&alice, "GET", "/metrics", NULL));

        json_t *rules = authz_policy_rules(&pol, &alice, "a");
        CHECK_EQ_INT(json_array_size(json_object_get(rules, "resourceRules")), 1);
        json_decref(rules);
        rules = authz_policy_rules(&pol, &ops, NULL);
        CHECK_EQ_INT(json_array_size(json_object_get(rules, "resourceRules")), 1);
        json_decref(rules);

        authn_user_clear(&alice);
        authn_user_clear(&ops);
        authn_user_clear(&bot);
        authn_user_clear(&root);
        authz_policy_clear(&pol);
}

static char *forbidden(const char *method, const char *path, const char *query)
{
        struct authz_attrs at;
        authz_request_info_parse(method, path, query, &at);
        struct authn_user u = user("x", "system:authenticated");
        char *m = authz_forbidden_message(&u, &at);
        authz_attrs_clear(&at);
        authn_user_clear(&u);
        return m;
}

TEST(forbidden_messages)
{
        /* the texts of k8s.io/apiserver's responsewriters.forbiddenMessage + NewForbidden */
        char *m = forbidden("GET", "/api/v1/namespaces/default/pods", NULL);
        CHECK_EQ_STR(m, "pods is forbidden: User \"x\" cannot list resource \"pods\" in API "
                        "group \"\" in the namespace \"default\"");
        free(m);
        m = forbidden("GET", "/api/v1/namespaces/default/pods/p/log", NULL);
        CHECK_EQ_STR(m, "pods \"p\" is forbidden: User \"x\" cannot get resource \"pods/log\" in "
                        "API group \"\" in the namespace \"default\"");
        free(m);
        m = forbidden("GET", "/api/v1/nodes", "watch=true");
        CHECK_EQ_STR(m, "nodes is forbidden: User \"x\" cannot watch resource \"nodes\" in API "
                        "group \"\" at the cluster scope");
        free(m);
        m = forbidden("POST", "/apis/apps/v1/namespaces/a/deployments", NULL);
        CHECK_EQ_STR(m, "deployments.apps is forbidden: User \"x\" cannot create resource "
                        "\"deployments\" in API group \"apps\" in the namespace \"a\"");
        free(m);
        m = forbidden("GET", "/metrics", NULL);
        CHECK_EQ_STR(m, "forbidden: User \"x\" cannot get path \"/metrics\"");
        free(m);
}

static char tmpdir[] = "/tmp/test-authz-XXXXXX";

static bool can_z(struct authz *z, struct authn_user *u, const char *method, const char *path)
{
        struct authz_attrs at;
        authz_request_info_parse(method, path, NULL, &at);
        bool ok = authz_allows(z, u, &at, NULL);
        authz_attrs_clear(&at);
        return ok;
}

TEST(bootstrap_and_reload)
{
        CHECK(mkdtemp(tmpdir) != NULL);
        char db[256];
        snprintf(db, sizeof(db), "%s/state.db", tmpdir);
        struct store *st = NULL;
        struct error err = {0};
        CHECK_EQ_INT(store_open(db, &st, &err), 0);
        CHECK_EQ_INT(authz_bootstrap(st, &err), 0);
        int64_t rev = store_revision(st);
        CHECK_EQ_INT(authz_bootstrap(st, &err), 0); /* idempotent: nothing rewritten */
        CHECK_EQ_INT(store_revision(st), rev);
        struct authz *z = NULL;
        CHECK_EQ_INT(authz_new(st, &z, &err), 0);
        struct authn_user anon = user("system:anonymous", "system:unauthenticated");
        struct authn_user bob = user("bob", "system:authenticated");
        struct authn_user mon = user("prom", "system:monitoring,system:authenticated");
        CHECK(can_z(z, &anon, "GET", "/healthz"));
        CHECK(can_z(z, &anon, "GET", "/version"));
        CHECK(!can_z(z, &anon, "GET", "/api"));
        CHECK(!can_z(z, &anon, "GET", "/metrics"));
        CHECK(can_z(z, &bob, "GET", "/api"));
        CHECK(can_z(z, &bob, "GET", "/apis/apps/v1"));
        CHECK(can_z(z, &bob, "GET", "/openapi/v3/api/v1"));
        CHECK(can_z(z, &bob, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"));
        CHECK(can_z(z, &bob, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews"));
        CHECK(!can_z(z, &bob, "GET", "/metrics"));
        CHECK(!can_z(z, &bob, "GET", "/api/v1/namespaces/default/pods"));
        CHECK(can_z(z, &mon, "GET", "/metrics"));

        /* a new binding applies on the next decision */
        const char *rb = "{\"metadata\":{\"name\":\"bob-edit\",\"namespace\":\"default\"},"
                         "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"edit\"},"
                         "\"subjects\":[{\"kind\":\"User\",\"name\":\"bob\"}]}";
        CHECK_EQ_INT(store_create(st, "/registry/rolebindings/default/bob-edit", rb, strlen(rb),
                                  NULL, &err),
                     0);
        CHECK(can_z(z, &bob, "GET", "/api/v1/namespaces/default/pods"));
        CHECK(can_z(z, &bob, "POST", "/apis/apps/v1/namespaces/default/deployments"));
        CHECK(can_z(z, &bob, "GET", "/api/v1/namespaces/default/pods/p/log"));
        CHECK(!can_z(z, &bob, "GET", "/api/v1/namespaces/kube-system/pods"));
        CHECK(!can_z(z, &bob, "POST",
                     "/apis/rbac.authorization.k8s.io/v1/namespaces/default/"
                     "roles")); /* edit has no RBAC */
        /* aggregation: a ClusterRole labelled aggregate-to-view reaches view, edit and admin */
        CHECK(!can_z(z, &bob, "GET", "/apis/example.com/v1/namespaces/default/widgets/w"));
        const char *cr = "{\"metadata\":{\"name\":\"widget-viewer\",\"labels\":{"
                         "\"rbac.authorization.k8s.io/aggregate-to-view\":\"true\"}},"
                         "\"rules\":[{\"verbs\":[\"get\"],\"apiGroups\":[\"example.com\"],"
                         "\"resources\":[\"widgets\"]}]}";
        CHECK_EQ_INT(store_create(st, "/registry/clusterroles/widget-viewer", cr, strlen(cr), NULL,
                                  &err),
                     0);
        CHECK(can_z(z, &bob, "GET", "/apis/example.com/v1/namespaces/default/widgets/w"));
        CHECK(!can_z(z, &bob, "DELETE", "/apis/example.com/v1/namespaces/default/widgets/w"));
        CHECK_EQ_INT(store_delete(st, "/registry/clusterroles/widget-viewer", 0, NULL, &err), 0);
        CHECK(!can_z(z, &bob, "GET", "/apis/example.com/v1/namespaces/default/widgets/w"));
        CHECK(can_z(z, &bob, "GET", "/api/v1/namespaces/default/pods"));
        CHECK_EQ_INT(store_delete(st, "/registry/rolebindings/default/bob-edit", 0, NULL, &err), 0);
        CHECK(!can_z(z, &bob, "GET", "/api/v1/namespaces/default/pods"));

        /* impersonation */
        struct authn_user root = user("root", "system:masters");
        struct authn_user as = {0};
        char *msg = NULL;
        CHECK_EQ_INT(authz_impersonate(z, &bob, "alice", NULL, NULL, &as, &msg), -EACCES);
        CHECK_EQ_STR(msg, "users \"alice\" is forbidden: User \"bob\" cannot impersonate "
                          "resource \"users\" in API group \"\" at the cluster scope");
        free(msg);
        msg = NULL;
        CHECK_EQ_INT(authz_impersonate(z, &root, "alice", "qa", NULL, &as, &msg), 0);
        CHECK_EQ_STR(as.name, "alice");
        CHECK_EQ_INT(strv_len(as.groups), 2);
        CHECK(authn_user_in_group(&as, "qa") && authn_user_in_group(&as, "system:authenticated"));
        authn_user_clear(&as);
        CHECK_EQ_INT(
                authz_impersonate(z, &root, "system:serviceaccount:ns1:sa", NULL, NULL, &as, &msg),
                0);
        CHECK(authn_user_in_group(&as, "system:serviceaccounts:ns1"));
        authn_user_clear(&as);
        CHECK_EQ_INT(authz_impersonate(z, &root, NULL, "qa", NULL, &as, &msg), -EINVAL);
        free(msg);
        /* bob with "impersonate" on serviceaccounts in ns1 (edit has it) */
        const char *rb2 = "{\"metadata\":{\"name\":\"bob-edit\",\"namespace\":\"ns1\"},"
                          "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"edit\"},"
                          "\"subjects\":[{\"kind\":\"User\",\"name\":\"bob\"}]}";
        CHECK_EQ_INT(store_create(st, "/registry/rolebindings/ns1/bob-edit", rb2, strlen(rb2), NULL,
                                  &err),
                     0);
        msg = NULL;
        CHECK_EQ_INT(
                authz_impersonate(z, &bob, "system:serviceaccount:ns1:sa", NULL, NULL, &as, &msg),
                0);
        authn_user_clear(&as);
        CHECK_EQ_INT(
                authz_impersonate(z, &bob, "system:serviceaccount:ns2:sa", NULL, NULL, &as, &msg),
                -EACCES);
        free(msg);
        /* escalation: bob holds edit in ns1 */
        struct authz_attrs at;
        authz_request_info_parse("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/roles",
                                 NULL, &at);
        json_t *ok_role = J("{\"metadata\":{\"name\":\"r\"},\"rules\":[{\"verbs\":[\"get\"],"
                            "\"apiGroups\":[\"\"],\"resources\":[\"pods\",\"pods/log\"]}]}");
        json_t *bad_role = J("{\"metadata\":{\"name\":\"r\"},\"rules\":[{\"verbs\":[\"get\"],"
                             "\"apiGroups\":[\"\"],\"resources\":[\"pods\",\"nodes\"]}]}");
        msg = NULL;
        CHECK_EQ_INT(authz_check_escalation(z, &bob, &at, ok_role, &msg), 0);
        CHECK_EQ_INT(authz_check_escalation(z, &bob, &at, bad_role, &msg), -EACCES);
        CHECK_EQ_STR(msg, "roles.rbac.authorization.k8s.io \"r\" is forbidden: user \"bob\" "
                          "(groups=[\"system:authenticated\"]) is attempting to grant RBAC "
                          "permissions not currently held:\n{APIGroups:[\"\"], "
                          "Resources:[\"nodes\"], Verbs:[\"get\"]}");
        free(msg);
        CHECK_EQ_INT(authz_check_escalation(z, &root, &at, bad_role, &msg), 0);
        authz_attrs_clear(&at);
        authz_request_info_parse("POST",
                                 "/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/rolebindings",
                                 NULL, &at);
        json_t *bind_view = J("{\"metadata\":{\"name\":\"b\"},\"roleRef\":{\"kind\":"
                              "\"ClusterRole\",\"name\":\"view\"},\"subjects\":[]}");
        json_t *bind_admin = J("{\"metadata\":{\"name\":\"b\"},\"roleRef\":{\"kind\":"
                               "\"ClusterRole\",\"name\":\"admin\"},\"subjects\":[]}");
        CHECK_EQ_INT(authz_check_escalation(z, &bob, &at, bind_view, &msg), 0);
        msg = NULL;
        CHECK_EQ_INT(authz_check_escalation(z, &bob, &at, bind_admin, &msg), -EACCES);
        CHECK(msg &&
              strstr(msg, "{APIGroups:[\"rbac.authorization.k8s.io\"], Resources:[\"roles\"]"));
        free(msg);
        authz_attrs_clear(&at);
        json_decref(ok_role);
        json_decref(bad_role);
        json_decref(bind_view);
        json_decref(bind_admin);
        authn_user_clear(&root);

        authn_user_clear(&anon);
        authn_user_clear(&bob);
        authn_user_clear(&mon);
        authz_free(z);
        store_close(st);
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        CHECK(system(cmd) == 0);
}

int main(void)
{
        RUN(request_info);
        RUN(rules);
        RUN(policy);
        RUN(forbidden_messages);
        RUN(bootstrap_and_reload);
        return harness_done();
}
