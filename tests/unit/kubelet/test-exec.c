/* test-exec.c — the pure parts of the kubelet's exec/attach/port-forward endpoints: the Status
 * written on the error channel (the shape kubectl decodes into "command terminated with exit code
 * N"), resize messages, repeated query parameters, target paths, stream protocol negotiation. */
#include <jansson.h>

#include "common/kjson.h"
#include "common/strv.h"
#include "harness.h"
#include "kubelet/exec.h"
#include "kubelet/spdyconn.h"

TEST(status_success)
{
        char *s = kubelet_exec_status_json(0, NULL);
        CHECK_EQ_STR(s, "{\"metadata\":{},\"status\":\"Success\"}");
        free(s);
}

TEST(status_nonzero)
{
        const char *cmd[] = {"sh", "-c", "exit 3", NULL};
        char *s = kubelet_exec_status_json(3, cmd);
        json_t *o = json_loads(s, 0, NULL);
        CHECK(o != NULL);
        CHECK_EQ_STR(kjson_str(o, "status"), "Failure");
        CHECK_EQ_STR(kjson_str(o, "reason"), "NonZeroExitCode");
        json_t *c = json_array_get(kjson_get(o, "details.causes"), 0);
        /* metav1.StatusCause.Type is serialized as "reason" */
        CHECK_EQ_STR(kjson_str(c, "reason"), "ExitCode");
        CHECK_EQ_STR(kjson_str(c, "message"), "3");
        CHECK(strstr(kjson_str(o, "message"), "sh -c exit 3") != NULL);
        json_decref(o);
        free(s);
}

TEST(resize)
{
        unsigned w = 0, h = 0;
        const char *m = "{\"Width\":123,\"Height\":45}";
        CHECK_EQ_INT(kubelet_exec_parse_resize(m, strlen(m), &w, &h), 0);
        CHECK_EQ_INT(w, 123);
        CHECK_EQ_INT(h, 45);
        const char *bad[] = {"",
                             "{",
                             "[]",
                             "{\"Width\":-1,\"Height\":2}",
                             "{\"Width\":\"80\",\"Height\":2}",
                             "{\"Width\":70000,\"Height\":2}"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                CHECK_EQ_INT(kubelet_exec_parse_resize(bad[i], strlen(bad[i]), &w, &h), -EINVAL);
}

TEST(query_all)
{
        char **v = kubelet_query_all(
                "command=sh&output=1&command=-c&command=echo+a%26b&commandx=no", "command");
        CHECK_EQ_INT(strv_len(v), 3);
        CHECK_EQ_STR(v[0], "sh");
        CHECK_EQ_STR(v[1], "-c");
        CHECK_EQ_STR(v[2], "echo a&b");
        strv_free(v);
        v = kubelet_query_all("", "command");
        CHECK_EQ_INT(strv_len(v), 0);
        strv_free(v);
        v = kubelet_query_all("command&command=", "command");
        CHECK_EQ_INT(strv_len(v), 2);
        CHECK_EQ_STR(v[0], "");
        strv_free(v);
}

TEST(split_target)
{
        char ns[16], pod[16], ctr[16];
        CHECK(kubelet_split_target("default/web/main", ns, sizeof(ns), pod, sizeof(pod), ctr,
                                   sizeof(ctr)));
        CHECK_EQ_STR(ns, "default");
        CHECK_EQ_STR(pod, "web");
        CHECK_EQ_STR(ctr, "main");
        CHECK(!kubelet_split_target("default/web", ns, sizeof(ns), pod, sizeof(pod), ctr,
                                    sizeof(ctr)));
        CHECK(!kubelet_split_target("default/web/main/x", ns, sizeof(ns), pod, sizeof(pod), ctr,
                                    sizeof(ctr)));
        CHECK(!kubelet_split_target("/web/main", ns, sizeof(ns), pod, sizeof(pod), ctr,
                                    sizeof(ctr)));
        CHECK(!kubelet_split_target("a/b/aaaaaaaaaaaaaaaaaaaaaa", ns, sizeof(ns), pod, sizeof(pod),
                                    ctr, sizeof(ctr)));
        CHECK(kubelet_split_target("default/web", ns, sizeof(ns), pod, sizeof(pod), NULL, 0));
        CHECK_EQ_STR(pod, "web");
        CHECK(!kubelet_split_target("default/web/x", ns, sizeof(ns), pod, sizeof(pod), NULL, 0));
        CHECK(!kubelet_split_target("default/", ns, sizeof(ns), pod, sizeof(pod), NULL, 0));
}

TEST(pick_version)
{
        static const char *const ours[] = {"v4.channel.k8s.io", NULL};
        /* kubectl 1.29 repeats the header; the adapter joins the values with ", " */
        CHECK_EQ_STR(
                kspdy_pick_version("v5.channel.k8s.io, v4.channel.k8s.io, channel.k8s.io", ours),
                "v4.channel.k8s.io");
        CHECK(kspdy_pick_version("v3.channel.k8s.io,channel.k8s.io", ours) == NULL);
        CHECK(kspdy_pick_version(NULL, ours) == NULL);
        CHECK(kspdy_pick_version("xv4.channel.k8s.io", ours) == NULL);
        static const char *const pf[] = {"portforward.k8s.io", NULL};
        CHECK_EQ_STR(kspdy_pick_version("portforward.k8s.io", pf), "portforward.k8s.io");
}

int main(void)
{
        RUN(status_success);
        RUN(status_nonzero);
        RUN(resize);
        RUN(query_all);
        RUN(split_target);
        RUN(pick_version);
        return harness_done();
}
