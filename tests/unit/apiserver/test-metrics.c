/* test-metrics.c — metric verbs and scopes (kube-apiserver's CleanVerb/CleanScope), counters,
 * histogram buckets, label escaping, the series cap, and the audit line format. */
#include "harness.h"

#include <stdlib.h>

#include "apiserver/audit.h"
#include "apiserver/metrics.h"
#include "common/strv.h"

static void labels(const char *method, const char *path, const char *query, const char *ct,
                   char *verb, char *scope)
{
        struct authz_attrs at;
        authz_request_info_parse(method, path, query, &at);
        struct metrics_labels l;
        metrics_labels_from_attrs(&at, ct, false, &l);
        snprintf(verb, 32, "%s", l.verb);
        snprintf(scope, 32, "%s", l.scope);
        authz_attrs_clear(&at);
}

TEST(verbs_and_scopes)
{
        static const struct {
                const char *method, *path, *query, *ct, *verb, *scope;
        } c[] = {
                {"GET", "/api/v1/namespaces/a/pods", NULL, NULL, "LIST", "namespace"},
                {"GET", "/api/v1/pods", NULL, NULL, "LIST", "cluster"},
                {"GET", "/api/v1/pods", "watch=true", NULL, "WATCH", "cluster"},
                {"GET", "/api/v1/namespaces/a/pods/p", NULL, NULL, "GET", "resource"},
                {"POST", "/api/v1/namespaces/a/pods", NULL, NULL, "POST", "resource"},
                {"PUT", "/api/v1/namespaces/a/pods/p/status", NULL, NULL, "PUT", "resource"},
                {"PATCH", "/api/v1/namespaces/a/pods/p", NULL, "application/merge-patch+json",
                 "PATCH", "resource"},
                {"PATCH", "/api/v1/namespaces/a/pods/p", NULL, "application/apply-patch+yaml",
                 "APPLY", "resource"},
                {"DELETE", "/api/v1/namespaces/a/pods/p", NULL, NULL, "DELETE", "resource"},
                {"DELETE", "/api/v1/namespaces/a/pods", NULL, NULL, "DELETECOLLECTION",
                 "namespace"},
                {"POST", "/api/v1/namespaces/a/pods/p/exec", NULL, NULL, "CONNECT", "resource"},
                {"GET", "/api/v1/namespaces/a/pods/p/log", NULL, NULL, "GET", "resource"},
                {"GET", "/api/v1/nodes/n", NULL, NULL, "GET", "resource"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
                char verb[32], scope[32];
                labels(c[i].method, c[i].path, c[i].query, c[i].ct, verb, scope);
                CHECK_EQ_STR(verb, c[i].verb);
                CHECK_EQ_STR(scope, c[i].scope);
        }
}

static void observe(struct metrics *m, const char *method, const char *path, int code, double s)
{
        struct authz_attrs at;
        authz_request_info_parse(method, path, NULL, &at);
        struct metrics_labels l;
        metrics_labels_from_attrs(&at, NULL, false, &l);
        metrics_request_observe(m, &l, code, s);
        authz_attrs_clear(&at);
}

TEST(render)
{
        struct metrics *m = metrics_new();
        observe(m, "GET", "/api/v1/namespaces/a/pods", 200, 0.001);
        observe(m, "GET", "/api/v1/namespaces/a/pods", 200, 0.03);
        observe(m, "GET", "/api/v1/namespaces/a/pods", 403, 0.0001);
        observe(m, "GET", "/apis/apps/v1/namespaces/a/deployments/d/scale", 200, 2.5);
        metrics_inflight_add(m, false, 1);
        char *t = metrics_render(m);
        CHECK(strstr(t, "# TYPE apiserver_request_total counter\n"));
        CHECK(strstr(t, "apiserver_request_total{code=\"200\",component=\"apiserver\",dry_run=\"\","
                        "group=\"\",resource=\"pods\",scope=\"namespace\",subresource=\"\","
                        "verb=\"LIST\",version=\"v1\"} 2\n"));
        CHECK(strstr(t, "apiserver_request_total{code=\"403\",component=\"apiserver\",dry_run=\"\","
                        "group=\"\",resource=\"pods\",scope=\"namespace\",subresource=\"\","
                        "verb=\"LIST\",version=\"v1\"} 1\n"));
        CHECK(strstr(t, "# TYPE apiserver_request_duration_seconds histogram\n"));
        const char *pl = "component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"pods\","
                         "scope=\"namespace\",subresource=\"\",verb=\"LIST\",version=\"v1\"";
        char want[512];
        /* 0.0001 and 0.001 <= 0.005; 0.03 in (0.025, 0.05] */
        snprintf(want, sizeof(want),
                 "apiserver_request_duration_seconds_bucket{%s,le=\"0.005\"} 2\n", pl);
        CHECK(strstr(t, want));
        snprintf(want, sizeof(want),
                 "apiserver_request_duration_seconds_bucket{%s,le=\"0.025\"} 2\n", pl);
        CHECK(strstr(t, want));
        snprintf(want, sizeof(want),
                 "apiserver_request_duration_seconds_bucket{%s,le=\"0.05\"} 3\n", pl);
        CHECK(strstr(t, want));
        snprintf(want, sizeof(want), "apiserver_request_duration_seconds_bucket{%s,le=\"60\"} 3\n",
                 pl);
        CHECK(strstr(t, want));
        snprintf(want, sizeof(want),
                 "apiserver_request_duration_seconds_bucket{%s,le=\"+Inf\"} 3\n", pl);
        CHECK(strstr(t, want));
        snprintf(want, sizeof(want), "apiserver_request_duration_seconds_count{%s} 3\n", pl);
        CHECK(strstr(t, want));
        CHECK(strstr(t, "group=\"apps\",resource=\"deployments\",scope=\"resource\","
                        "subresource=\"scale\",verb=\"GET\",version=\"v1\",le=\"2\"} 0\n"));
        CHECK(strstr(t, "group=\"apps\",resource=\"deployments\",scope=\"resource\","
                        "subresource=\"scale\",verb=\"GET\",version=\"v1\",le=\"3\"} 1\n"));
        CHECK(strstr(t, "apiserver_current_inflight_requests{request_kind=\"readOnly\"} 1\n"));
        CHECK(strstr(t, "apiserver_current_inflight_requests{request_kind=\"mutating\"} 0\n"));
        CHECK(strstr(t, "\nprocess_resident_memory_bytes "));
        CHECK(!strstr(t, "process_resident_memory_bytes 0\n"));
        CHECK(strstr(t, "\nprocess_open_fds "));
        /* every line is a comment or "name{labels} value" / "name value" */
        _cleanup_strv_free_ char **lines = strv_split(t, '\n');
        for (char **l = lines; *l; l++) {
                if (!**l || **l == '#')
                        continue;
                CHECK(strchr(*l, ' ') != NULL);
        }
        free(t);
        metrics_free(m);
}

TEST(escaping_and_cap)
{
        struct metrics *m = metrics_new();
        struct metrics_labels l = {.verb = "GET",
                                   .group = "",
                                   .version = "v1",
                                   .resource = "we\"ird\\x\nz",
                                   .subresource = "",
                                   .scope = "cluster"};
        metrics_request_observe(m, &l, 404, 0.001);
        char *t = metrics_render(m);
        CHECK(strstr(t, "resource=\"we\\\"ird\\\\x\\nz\""));
        free(t);
        char res[32];
        for (int i = 0; i < METRICS_MAX_SERIES + 100; i++) {
                snprintf(res, sizeof(res), "r%d", i);
                l.resource = res;
                metrics_request_observe(m, &l, 404, 0.001);
        }
        t = metrics_render(m);
        size_t n = 0;
        for (const char *p = t; (p = strstr(p, "apiserver_request_total{")); p++)
                n++;
        CHECK(n > 0 && n <= METRICS_MAX_SERIES);
        free(t);
        metrics_free(m);
}

TEST(longrunning)
{
        struct metrics *m = metrics_new();
        struct metrics_labels l = {.verb = "WATCH",
                                   .group = "",
                                   .version = "v1",
                                   .resource = "pods",
                                   .subresource = "",
                                   .scope = "cluster"};
        metrics_longrunning_add(m, &l, 1);
        metrics_longrunning_add(m, &l, 1);
        metrics_longrunning_add(m, &l, -1);
        l.resource = "nodes";
        struct metrics_series *h1 = metrics_longrunning_begin(m, &l);
        struct metrics_series *h2 = metrics_longrunning_begin(m, &l);
        metrics_longrunning_end(h1);
        metrics_longrunning_end(NULL);
        (void)h2;
        char *t = metrics_render(m);
        CHECK(strstr(t, "resource=\"nodes\",scope=\"cluster\",subresource=\"\",verb=\"WATCH\","
                        "version=\"v1\"} 1\n"));
        CHECK(strstr(t, "apiserver_longrunning_requests{component=\"apiserver\",group=\"\","
                        "resource=\"pods\",scope=\"cluster\",subresource=\"\",verb=\"WATCH\","
                        "version=\"v1\"} 1\n"));
        free(t);
        metrics_free(m);
}

TEST(audit_line)
{
        struct authz_attrs at;
        authz_request_info_parse("GET", "/api/v1/namespaces/default/pods/p1", NULL, &at);
        struct authn_user u = {.name = strdup("alice"),
                               .groups = strv_split("dev,system:authenticated", ',')};
        struct audit_record r = {
                .ts = {.tv_sec = 1767225600, .tv_nsec = 123456000},
                .user = &u,
                .attrs = &at,
                .method = "GET",
                .path = "/api/v1/namespaces/default/pods/p1",
                .query = "pretty=true",
                .remote = "127.0.0.1:4242",
                .user_agent = "kubectl/v1.31.9 (linux/amd64) \"x\"",
                .code = 200,
                .latency_ms = 1.5,
        };
        char buf[1024];
        audit_format(&r, buf, sizeof(buf));
        CHECK_EQ_STR(buf, "ts=2026-01-01T00:00:00.123456Z user=alice uid=- "
                          "groups=dev,system:authenticated verb=get resource=pods subresource=- "
                          "ns=default name=p1 code=200 latency=1.500ms method=GET "
                          "uri=\"/api/v1/namespaces/default/pods/p1?pretty=true\" "
                          "src=127.0.0.1:4242 ua=\"kubectl/v1.31.9 (linux/amd64) \\\"x\\\"\"");
        /* a control character in the user agent cannot forge a second line */
        r.user_agent = "evil\nts=0 user=root";
        audit_format(&r, buf, sizeof(buf));
        CHECK(!strchr(buf, '\n'));
        CHECK(strstr(buf, "ua=\"evil\\x0ats=0 user=root\""));
        /* a short buffer cuts the line */
        char small[20];
        audit_format(&r, small, sizeof(small));
        CHECK_EQ_INT(strlen(small), sizeof(small) - 1);
        authn_user_clear(&u);
        authz_attrs_clear(&at);
}

int main(void)
{
        RUN(verbs_and_scopes);
        RUN(render);
        RUN(escaping_and_cap);
        RUN(longrunning);
        RUN(audit_line);
        return harness_done();
}
