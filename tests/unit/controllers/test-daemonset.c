/* test-daemonset.c — controllers/daemonset.c predicates, with Kubernetes' behaviour as reference
 * (daemon_controller.go nodeShouldRunDaemonPod, util.AddOrUpdateDaemonPodTolerations): the
 * automatic tolerations; nodeSelector, required node affinity (matchExpressions and matchFields)
 * and taints decide where a daemon pod runs; an untolerated NoSchedule taint only keeps new pods
 * away, an untolerated NoExecute one also removes running ones; the node of a daemon pod. */
#include "controllers/daemonset.h"

#include "common/kjson.h"
#include "harness.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        kjson_parse(s, strlen(s), 0, &j, NULL);
        return j;
}

static bool has_tol(const json_t *tols, const char *key, const char *effect)
{
        json_t *t;
        size_t i;
        json_array_foreach(tols, i, t)
        {
                if (!strcmp(kjson_str(t, "key") ?: "", key) &&
                    !strcmp(kjson_str(t, "effect") ?: "", effect) &&
                    !strcmp(kjson_str(t, "operator") ?: "", "Exists"))
                        return true;
        }
        return false;
}

TEST(tolerations)
{
        json_t *spec = J("{\"tolerations\":[{\"key\":\"a\",\"operator\":\"Exists\"}]}");
        json_t *t = daemonset_tolerations(spec);
        CHECK_EQ_INT(json_array_size(t), 7); /* a + 6 automatic */
        CHECK(has_tol(t, "node.kubernetes.io/not-ready", "NoExecute"));
        CHECK(has_tol(t, "node.kubernetes.io/unreachable", "NoExecute"));
        CHECK(has_tol(t, "node.kubernetes.io/disk-pressure", "NoSchedule"));
        CHECK(has_tol(t, "node.kubernetes.io/memory-pressure", "NoSchedule"));
        CHECK(has_tol(t, "node.kubernetes.io/pid-pressure", "NoSchedule"));
        CHECK(has_tol(t, "node.kubernetes.io/unschedulable", "NoSchedule"));
        CHECK(!has_tol(t, "node.kubernetes.io/network-unavailable", "NoSchedule"));
        json_decref(t);
        json_decref(spec);
        /* hostNetwork adds network-unavailable; an existing equal toleration is not doubled */
        spec = J("{\"hostNetwork\":true,\"tolerations\":[{\"key\":\"node.kubernetes.io/"
                 "not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}]}");
        t = daemonset_tolerations(spec);
        CHECK_EQ_INT(json_array_size(t), 7);
        CHECK(has_tol(t, "node.kubernetes.io/network-unavailable", "NoSchedule"));
        json_decref(t);
        json_decref(spec);
}

static void should(const char *ds, const char *node, bool want_run, bool want_cont)
{
        json_t *d = J(ds), *n = J(node);
        bool run = !want_run, cont = !want_cont;
        daemonset_node_should_run(d, n, &run, &cont);
        CHECK_EQ_INT(run, want_run);
        CHECK_EQ_INT(cont, want_cont);
        json_decref(d);
        json_decref(n);
}

#define NODE_A "{\"metadata\":{\"name\":\"a\",\"labels\":{\"disk\":\"ssd\",\"gen\":\"5\"}}}"

TEST(should_run)
{
        const char *plain = "{\"spec\":{\"template\":{\"spec\":{}}}}";
        should(plain, NODE_A, true, true);
        should("{\"spec\":{\"template\":{\"spec\":{\"nodeSelector\":{\"disk\":\"ssd\"}}}}}", NODE_A,
               true, true);
        should("{\"spec\":{\"template\":{\"spec\":{\"nodeSelector\":{\"disk\":\"hdd\"}}}}}", NODE_A,
               false, false);
        /* required node affinity: In, Gt, matchFields */
        should("{\"spec\":{\"template\":{\"spec\":{\"affinity\":{\"nodeAffinity\":{"
               "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":["
               "{\"matchExpressions\":[{\"key\":\"gen\",\"operator\":\"Gt\",\"values\":[\"4\"]}]}"
               "]}}}}}}}",
               NODE_A, true, true);
        should("{\"spec\":{\"template\":{\"spec\":{\"affinity\":{\"nodeAffinity\":{"
               "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":["
               "{\"matchExpressions\":[{\"key\":\"disk\",\"operator\":\"NotIn\",\"values\":"
               "[\"ssd\"]}]},{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\","
               "\"values\":[\"b\"]}]}]}}}}}}}",
               NODE_A, false, false);
        should("{\"spec\":{\"template\":{\"spec\":{\"affinity\":{\"nodeAffinity\":{"
               "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":["
               "{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":"
               "[\"a\"]}]}]}}}}}}}",
               NODE_A, true, true);
        /* taints */
        const char *ns_taint = "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"taints\":[{\"key\":"
                               "\"dedicated\",\"value\":\"db\",\"effect\":\"NoSchedule\"}]}}";
        should(plain, ns_taint, false, true);
        should("{\"spec\":{\"template\":{\"spec\":{\"tolerations\":[{\"key\":\"dedicated\","
               "\"operator\":\"Equal\",\"value\":\"db\",\"effect\":\"NoSchedule\"}]}}}}",
               ns_taint, true, true);
        should("{\"spec\":{\"template\":{\"spec\":{\"tolerations\":[{\"key\":\"dedicated\","
               "\"operator\":\"Equal\",\"value\":\"web\"}]}}}}",
               ns_taint, false, true);
        const char *ne_taint = "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"taints\":[{\"key\":"
                               "\"x\",\"effect\":\"NoExecute\"}]}}";
        should(plain, ne_taint, false, false);
        should("{\"spec\":{\"template\":{\"spec\":{\"tolerations\":[{\"operator\":\"Exists\"}]}}}}",
               ne_taint, true, true);
        /* PreferNoSchedule is ignored; the automatic tolerations cover not-ready/unreachable
         * NoExecute and unschedulable NoSchedule, but not not-ready NoSchedule */
        should(plain,
               "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"taints\":[{\"key\":\"p\",\"effect\":"
               "\"PreferNoSchedule\"},{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":"
               "\"NoExecute\"},{\"key\":\"node.kubernetes.io/unschedulable\",\"effect\":"
               "\"NoSchedule\"}]}}",
               true, true);
        should(plain,
               "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"taints\":[{\"key\":\"node.kubernetes."
               "io/not-ready\",\"effect\":\"NoSchedule\"}]}}",
               false, true);
}

TEST(pod_node)
{
        json_t *p = J("{\"spec\":{\"nodeName\":\"n1\"}}");
        CHECK_EQ_STR(daemonset_pod_node(p), "n1");
        json_decref(p);
        p = J("{\"spec\":{\"affinity\":{\"nodeAffinity\":{"
              "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":["
              "{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":"
              "[\"n2\"]}]}]}}}}}");
        CHECK_EQ_STR(daemonset_pod_node(p), "n2");
        json_decref(p);
        p = J("{\"spec\":{}}");
        CHECK(daemonset_pod_node(p) == NULL);
        json_decref(p);
}

int main(void)
{
        RUN(tolerations);
        RUN(should_run);
        RUN(pod_node);
        return harness_done();
}
