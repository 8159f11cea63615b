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
        CHECK(!scheme_subresource(r, "bogus"));
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
        CHECK_EQ_INT(ngv, 15);
        CHECK_EQ_STR(g[0], "");
        CHECK_EQ_STR(g[1], "apps");
}

/* Every served kind: its apiVersion string, the scale subresource's group. */
TEST(kinds)
{
        size_t n;
        const struct scheme_resource *rs = scheme_resources(&n);
        CHECK(n >= 36);
        for (size_t i = 0; i < n; i++) {
                const char *av = scheme_api_version(&rs[i]);
                if (*rs[i].group) {
                        char want[128];
                        snprintf(want, sizeof(want), "%s/%s", rs[i].group, rs[i].version);
                        CHECK_EQ_STR(av, want);
                } else {
                        CHECK_EQ_STR(av, "v1");
                }
        }
        const struct scheme_resource *d = scheme_lookup_any("deploy");
        CHECK(d && !strcmp(d->kind, "Deployment") && !strcmp(d->group, "apps"));
        const struct scheme_subresource *sc = scheme_subresource(d, "scale");
        CHECK(sc && !strcmp(sc->kind, "Scale") && !strcmp(sc->group, "autoscaling"));
        CHECK(scheme_lookup("apps", "v1", "daemonsets") &&
              !scheme_subresource(scheme_lookup("apps", "v1", "daemonsets"), "scale"));
        const struct scheme_resource *ev = scheme_lookup("events.k8s.io", "v1", "events");
        CHECK(ev && ev->namespaced);
        /* same storage as core events */
        char *k1 = scheme_prefix(ev, "ns"), *k2 = scheme_prefix(scheme_lookup_any("ev"), "ns");
        CHECK_EQ_STR(k1, k2);
        free(k1);
        free(k2);
        CHECK(scheme_lookup_any("ev") == scheme_lookup("", "v1", "events"));
        CHECK(!scheme_lookup_any("pc")->namespaced);
        CHECK(scheme_lookup_kind("rbac.authorization.k8s.io", "ClusterRole") != NULL);
        CHECK_EQ_STR(scheme_lookup_any("quota")->kind, "ResourceQuota");
        CHECK_EQ_STR(scheme_lookup_any("hpa")->version, "v2");
}

int main(void)
{
        RUN(lookups);
        RUN(keys);
        RUN(kinds);
        return harness_done();
}
