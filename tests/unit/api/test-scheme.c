/* test-scheme.c — resource registry lookups and store keys. */
#include "harness.h"

#include "api/scheme.h"

TEST(lookups)
{
        const struct scheme_resource *r = scheme_lookup("", "v1", "pods");
        CHECK(r && !strcmp(r->kind, "Pod") && r->namespaced);
        CHECK(scheme_lookup_any("po") == r);
        CHECK(scheme_lookup_any("pod") == r);
        CHECK(scheme_lookup_kind("", "Pod") == r);
        CHECK(scheme_subresource(r, "log") && scheme_subresource(r, "binding") &&
              scheme_subresource(r, "status"));
        CHECK(!scheme_subresource(r, "exec"));
        CHECK(scheme_has_verb(r, "watch") && !scheme_has_verb(r, "proxy"));
        CHECK(!scheme_lookup("", "v1", "leases"));
        const struct scheme_resource *l = scheme_lookup("coordination.k8s.io", "v1", "leases");
        CHECK(l && l->namespaced);
        CHECK_EQ_STR(scheme_api_version(l), "coordination.k8s.io/v1");
        CHECK_EQ_STR(scheme_api_version(r), "v1");
        char *s = scheme_qualified_resource(l);
        CHECK_EQ_STR(s, "leases.coordination.k8s.io");
        free(s);
        s = scheme_qualified_kind(l);
        CHECK_EQ_STR(s, "Lease.coordination.k8s.io");
        free(s);
        const struct scheme_resource *n = scheme_lookup_any("no");
        CHECK(n && !n->namespaced && !strcmp(n->resource, "nodes"));
        CHECK(!scheme_lookup_any("bogus"));
}

TEST(keys)
{
        const struct scheme_resource *p = scheme_lookup("", "v1", "pods");
        const struct scheme_resource *n = scheme_lookup("", "v1", "nodes");
        char *k = scheme_key(p, "default", "web");
        CHECK_EQ_STR(k, "/registry/pods/default/web");
        free(k);
        k = scheme_key(n, "ignored", "n1");
        CHECK_EQ_STR(k, "/registry/nodes/n1");
        free(k);
        k = scheme_prefix(p, "default");
        CHECK_EQ_STR(k, "/registry/pods/default/");
        free(k);
        k = scheme_prefix(p, NULL);
        CHECK_EQ_STR(k, "/registry/pods/");
        free(k);
        const char *g[16], *v[16];
        size_t ngv = scheme_group_versions(g, v, 16);
        CHECK_EQ_INT(ngv, 2);
        CHECK_EQ_STR(g[0], "");
        CHECK_EQ_STR(g[1], "coordination.k8s.io");
}

int main(void)
{
        RUN(lookups);
        RUN(keys);
        return harness_done();
}
