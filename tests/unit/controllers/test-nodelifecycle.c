/* test-nodelifecycle.c — pod CIDR allocation and NoExecute toleration (nodelifecycle.h).
 * Expectations from Kubernetes: v1.Toleration.ToleratesTaint (k8s.io/api/core/v1/toleration.go)
 * and the taint manager's getMinTolerationTime (pkg/controller/tainteviction). */
#include "../harness.h"

#include "controllers/nodelifecycle.h"

TEST(cidr_first_free)
{
        char out[32];
        CHECK_EQ_INT(nodelifecycle_cidr_next("10.42.0.0/16", NULL, 0, out), 0);
        CHECK_EQ_STR(out, "10.42.0.0/24");
        const char *used[] = {"10.42.0.0/24", "10.42.1.0/24", "garbage", "10.42.3.0/24"};
        CHECK_EQ_INT(nodelifecycle_cidr_next("10.42.0.0/16", used, 4, out), 0);
        CHECK_EQ_STR(out, "10.42.2.0/24");
        /* a host address inside the cluster CIDR is normalised to its network */
        CHECK_EQ_INT(nodelifecycle_cidr_next("10.42.240.7/20", NULL, 0, out), 0);
        CHECK_EQ_STR(out, "10.42.240.0/24");
        /* a wider used range blocks every /24 inside it */
        const char *wide[] = {"10.42.240.0/23"};
        CHECK_EQ_INT(nodelifecycle_cidr_next("10.42.240.0/20", wide, 1, out), 0);
        CHECK_EQ_STR(out, "10.42.242.0/24");
}

TEST(cidr_exhausted_and_invalid)
{
        char out[32];
        const char *used[] = {"10.42.0.0/24"};
        CHECK_EQ_INT(nodelifecycle_cidr_next("10.42.0.0/24", used, 1, out), -ENOSPC);
        CHECK_EQ_INT(nodelifecycle_cidr_next("10.42.0.0/24", NULL, 0, out), 0);
        CHECK_EQ_STR(out, "10.42.0.0/24");
        CHECK_EQ_INT(nodelifecycle_cidr_next("10.42.0.0/25", NULL, 0, out), -EINVAL);
        CHECK_EQ_INT(nodelifecycle_cidr_next("10.42.0.0", NULL, 0, out), -EINVAL);
        CHECK_EQ_INT(nodelifecycle_cidr_next("10.42.0.0/", NULL, 0, out), -EINVAL);
        CHECK_EQ_INT(nodelifecycle_cidr_next("300.1.1.1/16", NULL, 0, out), -EINVAL);
        CHECK_EQ_INT(nodelifecycle_cidr_next(NULL, NULL, 0, out), -EINVAL);
}

static bool tol(const char *t, const char *taint)
{
        json_t *a = json_loads(t, 0, NULL), *b = json_loads(taint, 0, NULL);
        bool r = nodelifecycle_tolerates(a, b);
        json_decref(a);
        json_decref(b);
        return r;
}

TEST(tolerates)
{
        const char *unreach =
                "{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\"}";
        CHECK(tol("{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
                  "\"effect\":\"NoExecute\"}",
                  unreach));
        CHECK(tol("{\"operator\":\"Exists\"}", unreach)); /* tolerates everything */
        /* v1 ToleratesTaint compares values here; validation rejects an empty key without Exists */
        CHECK(tol("{\"operator\":\"Equal\"}", unreach));
        CHECK(tol("{\"key\":\"node.kubernetes.io/unreachable\"}", unreach)); /* Equal, "" == "" */
        CHECK(!tol("{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
                   "\"effect\":\"NoSchedule\"}",
                   unreach));
        CHECK(!tol("{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\"}", unreach));
        CHECK(tol("{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoExecute\"}",
                  "{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoExecute\"}"));
        CHECK(!tol("{\"key\":\"k\",\"value\":\"w\"}",
                   "{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoExecute\"}"));
        CHECK(!tol("{\"key\":\"k\",\"operator\":\"Lt\",\"value\":\"v\"}",
                   "{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoExecute\"}"));
}

static int64_t secs(const char *tols, const char *taints)
{
        json_t *a = json_loads(tols, 0, NULL), *b = json_loads(taints, 0, NULL);
        int64_t r = nodelifecycle_toleration_seconds(a, b);
        json_decref(a);
        json_decref(b);
        return r;
}

TEST(toleration_seconds)
{
        const char *defaults =
                "[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
                "\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
                "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
                "\"effect\":\"NoExecute\",\"tolerationSeconds\":7}]";
        const char *unreachable =
                "[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoSchedule\"},"
                "{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\"}]";
        CHECK_EQ_INT(secs(defaults, unreachable), 7);
        /* no tolerations at all: evicted at once */
        CHECK_EQ_INT(secs("[]", unreachable), NODELIFECYCLE_EVICT_NOW);
        CHECK_EQ_INT(secs("null", unreachable), NODELIFECYCLE_EVICT_NOW);
        /* only NoSchedule taints: nothing to do */
        CHECK_EQ_INT(secs("[]", "[{\"key\":\"a\",\"effect\":\"NoSchedule\"}]"),
                     NODELIFECYCLE_TOLERATE_FOREVER);
        /* a toleration without seconds tolerates forever */
        CHECK_EQ_INT(secs("[{\"operator\":\"Exists\"}]", unreachable),
                     NODELIFECYCLE_TOLERATE_FOREVER);
        /* the smallest of the tolerations used; negative counts as 0 */
        CHECK_EQ_INT(secs("[{\"operator\":\"Exists\",\"tolerationSeconds\":20},"
                          "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
                          "\"tolerationSeconds\":-5}]",
                          unreachable),
                     0);
        /* two NoExecute taints, one untolerated */
        CHECK_EQ_INT(secs(defaults, "[{\"key\":\"node.kubernetes.io/unreachable\","
                                    "\"effect\":\"NoExecute\"},{\"key\":\"x\",\"effect\":"
                                    "\"NoExecute\"}]"),
                     NODELIFECYCLE_EVICT_NOW);
}

int main(void)
{
        RUN(cidr_first_free);
        RUN(cidr_exhausted_and_invalid);
        RUN(tolerates);
        RUN(toleration_seconds);
        return harness_done();
}
