/* test-scheduler.c — node filtering (Ready, unschedulable, nodeSelector, taints/tolerations) and
 * choice (fewest pods, ties by name), FailedScheduling message wording. */
#include "harness.h"
#include "scheduler/scheduler.h"

static json_t *node_new(const char *name, bool ready)
{
        return json_pack("{s:{s:s, s:{s:s}}, s:{}, s:{s:[{s:s, s:s}]}}", "metadata", "name", name,
                         "labels", "kubernetes.io/hostname", name, "spec", "status", "conditions",
                         "type", "Ready", "status", ready ? "True" : "False");
}

static json_t *pod_new(void)
{
        return json_pack("{s:{s:s, s:s}, s:{s:[{s:s}]}}", "metadata", "name", "p", "namespace",
                         "default", "spec", "containers", "name", "c");
}

TEST(fits_ready_node)
{
        json_t *n = node_new("a", true), *p = pod_new();
        const char *reason = "x";
        CHECK(scheduler_node_fits(n, p, &reason));
        CHECK(reason == NULL);
        json_decref(n);
        json_decref(p);
}

TEST(rejects_not_ready_and_unschedulable)
{
        json_t *n = node_new("a", false), *p = pod_new();
        const char *reason = NULL;
        CHECK(!scheduler_node_fits(n, p, &reason));
        CHECK_EQ_STR(reason, "node(s) had untolerated taint {node.kubernetes.io/not-ready: }");
        json_decref(n);
        n = node_new("a", true);
        json_object_set_new(json_object_get(n, "spec"), "unschedulable", json_true());
        CHECK(!scheduler_node_fits(n, p, &reason));
        CHECK_EQ_STR(reason, "node(s) were unschedulable");
        /* a node without conditions is not Ready */
        json_t *bare = json_pack("{s:{s:s}}", "metadata", "name", "b");
        CHECK(!scheduler_node_fits(bare, p, NULL));
        json_decref(bare);
        json_decref(n);
        json_decref(p);
}

TEST(node_selector)
{
        json_t *n = node_new("a", true), *p = pod_new();
        const char *reason = NULL;
        json_object_set_new(json_object_get(p, "spec"), "nodeSelector",
                            json_pack("{s:s}", "kubernetes.io/hostname", "a"));
        CHECK(scheduler_node_fits(n, p, &reason));
        json_object_set_new(json_object_get(p, "spec"), "nodeSelector",
                            json_pack("{s:s}", "disk", "ssd"));
        CHECK(!scheduler_node_fits(n, p, &reason));
        CHECK_EQ_STR(reason, "node(s) didn't match Pod's node affinity/selector");
        json_decref(n);
        json_decref(p);
}

TEST(taints_and_tolerations)
{
        json_t *n = node_new("a", true), *p = pod_new();
        const char *reason = NULL;
        json_object_set_new(json_object_get(n, "spec"), "taints",
                            json_pack("[{s:s, s:s}, {s:s, s:s, s:s}]", "key",
                                      "node-role.kubernetes.io/control-plane", "effect",
                                      "NoSchedule", "key", "soft", "value", "x", "effect",
                                      "PreferNoSchedule"));
        CHECK(!scheduler_node_fits(n, p, &reason));
        CHECK_EQ_STR(reason,
                     "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }");
        json_object_set_new(json_object_get(p, "spec"), "tolerations",
                            json_pack("[{s:s, s:s, s:s}]", "key",
                                      "node-role.kubernetes.io/control-plane", "operator", "Exists",
                                      "effect", "NoSchedule"));
        CHECK(scheduler_node_fits(n, p, &reason));
        /* wrong effect does not tolerate */
        json_object_set_new(json_object_get(p, "spec"), "tolerations",
                            json_pack("[{s:s, s:s, s:s}]", "key",
                                      "node-role.kubernetes.io/control-plane", "operator", "Exists",
                                      "effect", "NoExecute"));
        CHECK(!scheduler_node_fits(n, p, &reason));
        /* empty key + Exists tolerates everything */
        json_object_set_new(json_object_get(p, "spec"), "tolerations",
                            json_pack("[{s:s}]", "operator", "Exists"));
        CHECK(scheduler_node_fits(n, p, &reason));
        json_decref(n);
        json_decref(p);
}

TEST(choose_fewest_pods_ties_by_name)
{
        json_t *nodes = json_array(), *p = pod_new();
        json_array_append_new(nodes, node_new("c", true));
        json_array_append_new(nodes, node_new("b", true));
        json_array_append_new(nodes, node_new("a", false));
        json_t *counts = json_pack("{s:i, s:i, s:i}", "a", 0, "b", 3, "c", 2);
        CHECK_EQ_INT(scheduler_node_choose(nodes, p, counts, NULL), 0); /* c: 2 < 3 */
        json_object_set_new(counts, "c", json_integer(3));
        CHECK_EQ_INT(scheduler_node_choose(nodes, p, counts, NULL), 1); /* tie -> b */
        CHECK_EQ_INT(scheduler_node_choose(nodes, p, NULL, NULL), 1);   /* no counts: tie -> b */
        json_decref(counts);
        json_decref(nodes);
        json_decref(p);
}

TEST(no_node_fits_message)
{
        json_t *nodes = json_array(), *p = pod_new();
        char *msg = NULL;
        CHECK_EQ_INT(scheduler_node_choose(nodes, p, NULL, &msg), -ENOENT);
        CHECK_EQ_STR(msg, "no nodes available to schedule pods");
        free(msg);
        json_array_append_new(nodes, node_new("a", false));
        json_array_append_new(nodes, node_new("b", true));
        json_array_append_new(nodes, node_new("c", true));
        json_object_set_new(json_object_get(json_array_get(nodes, 1), "spec"), "unschedulable",
                            json_true());
        json_object_set_new(json_object_get(json_array_get(nodes, 2), "spec"), "unschedulable",
                            json_true());
        msg = NULL;
        CHECK_EQ_INT(scheduler_node_choose(nodes, p, NULL, &msg), -ENOENT);
        CHECK_EQ_STR(msg, "0/3 nodes are available: 1 node(s) had untolerated taint "
                          "{node.kubernetes.io/not-ready: }, 2 node(s) were unschedulable. "
                          "preemption: 0/3 nodes are available: 3 Preemption is not helpful for "
                          "scheduling.");
        free(msg);
        json_decref(nodes);
        json_decref(p);
}

int main(void)
{
        RUN(fits_ready_node);
        RUN(rejects_not_ready_and_unschedulable);
        RUN(node_selector);
        RUN(taints_and_tolerations);
        RUN(choose_fewest_pods_ties_by_name);
        RUN(no_node_fits_message);
        return harness_done();
}
