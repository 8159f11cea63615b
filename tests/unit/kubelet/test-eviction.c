/* test-eviction.c — --eviction-hard / --kube-reserved parsing, signals met, ranking and the
 * kubelet's eviction message (pkg/kubelet/eviction/helpers.go formats). */
#include "harness.h"
#include "kubelet/eviction.h"

TEST(thresholds)
{
        struct eviction_threshold t[EVICTION_SIGNAL_N];
        struct error err = {0};
        eviction_thresholds_default(t);
        CHECK(t[EVICTION_MEMORY_AVAILABLE].set && !t[EVICTION_MEMORY_AVAILABLE].percent);
        CHECK_EQ_INT(t[EVICTION_MEMORY_AVAILABLE].quantity, 100 * 1024 * 1024);
        CHECK(t[EVICTION_NODEFS_AVAILABLE].percent);
        CHECK_EQ_INT(eviction_threshold_value(&t[EVICTION_NODEFS_AVAILABLE], 1000), 100);
        CHECK_EQ_INT(eviction_threshold_value(&t[EVICTION_IMAGEFS_AVAILABLE], 1000), 150);
        CHECK(!t[EVICTION_PID_AVAILABLE].set);
        /* given flags replace the defaults entirely */
        memset(t, 0, sizeof(t));
        CHECK_EQ_INT(eviction_thresholds_parse("memory.available<1Gi,pid.available<10%", t, &err),
                     0);
        CHECK_EQ_INT(t[EVICTION_MEMORY_AVAILABLE].quantity, 1LL << 30);
        CHECK(t[EVICTION_PID_AVAILABLE].percent);
        CHECK(!t[EVICTION_NODEFS_AVAILABLE].set);
        CHECK_EQ_INT(eviction_thresholds_parse("memory.free<1Gi", t, &err), -EINVAL);
        CHECK_EQ_STR(error_msg(&err), "unsupported eviction signal memory.free");
        CHECK_EQ_INT(eviction_thresholds_parse("memory.available>1Gi", t, &err), -EINVAL);
        CHECK_EQ_INT(eviction_thresholds_parse("nodefs.available<120%", t, &err), -EINVAL);
        CHECK_EQ_INT(eviction_thresholds_parse("nodefs.available<", t, &err), -EINVAL);
}

TEST(reserved)
{
        struct eviction_reserved r = {0};
        struct error err = {0};
        CHECK_EQ_INT(eviction_reserved_parse("cpu=100m,memory=256Mi", &r, &err), 0);
        CHECK_EQ_INT(eviction_reserved_parse("cpu=1,ephemeral-storage=1Gi,pid=100", &r, &err), 0);
        CHECK_EQ_INT(r.cpu_millis, 1100);
        CHECK_EQ_INT(r.memory, 256 * 1024 * 1024);
        CHECK_EQ_INT(r.ephemeral, 1LL << 30);
        CHECK_EQ_INT(r.pids, 100);
        CHECK_EQ_INT(eviction_reserved_parse("gpu=1", &r, &err), -EINVAL);
        CHECK_EQ_INT(eviction_reserved_parse("cpu", &r, &err), -EINVAL);
        CHECK_EQ_INT(r.cpu_millis, 1100); /* unchanged on error */
}

static json_t *pod(const char *uid, const char *req, int prio)
{
        json_t *p = json_pack("{s:{s:s, s:s, s:s}, s:{s:i, s:[{s:s, s:{s:{}}}]}}", "metadata",
                              "uid", uid, "name", uid, "namespace", "default", "spec", "priority",
                              prio, "containers", "name", "c", "resources", "requests");
        if (req)
                json_object_set_new(
                        json_object_get(
                                json_object_get(
                                        json_array_get(json_object_get(json_object_get(p, "spec"),
                                                                       "containers"),
                                                       0),
                                        "resources"),
                                "requests"),
                        "memory", json_string(req));
        return p;
}

TEST(rank_and_message)
{
        struct stats_ctr ca = {.name = "c", .id = "a", .cg = {.ok = true, .mem_ws = 10 << 20}};
        struct stats_ctr cb = {.name = "c", .id = "b", .cg = {.ok = true, .mem_ws = 50 << 20}};
        struct stats_ctr cc = {.name = "c", .id = "c", .cg = {.ok = true, .mem_ws = 5 << 20}};
        struct stats_pod pods[3] = {
                {.uid = "be", .cg = {.ok = true, .mem_ws = 10 << 20}, .ctrs = &ca, .n_ctrs = 1},
                {.uid = "bu", .cg = {.ok = true, .mem_ws = 50 << 20}, .ctrs = &cb, .n_ctrs = 1},
                {.uid = "lo", .cg = {.ok = true, .mem_ws = 5 << 20}, .ctrs = &cc, .n_ctrs = 1},
        };
        struct stats_snapshot s = {
                .mem_total = 1ULL << 30, .mem_available = 50 << 20, .pods = pods, .n_pods = 3};
        json_t *arr = json_array();
        json_array_append_new(arr, pod("bu", "100Mi", 0)); /* within its request */
        json_array_append_new(arr, pod("be", NULL, 0));    /* BestEffort: over its request */
        json_array_append_new(arr, pod("lo", "1Mi", 0));   /* over, but by less */
        CHECK_EQ_INT(eviction_rank(EVICTION_MEMORY_AVAILABLE, arr, &s), 1);
        /* priority goes before usage among pods over their requests */
        json_object_set_new(json_object_get(json_array_get(arr, 2), "spec"), "priority",
                            json_integer(-5));
        CHECK_EQ_INT(eviction_rank(EVICTION_MEMORY_AVAILABLE, arr, &s), 2);

        struct eviction_threshold t[EVICTION_SIGNAL_N];
        eviction_thresholds_default(t);
        bool met[EVICTION_SIGNAL_N];
        struct eviction_pressure pr;
        eviction_signals_met(&s, t, met, &pr);
        CHECK(pr.memory && !pr.disk && !pr.pid); /* fs capacities 0: never met */
        char *m = eviction_message(EVICTION_MEMORY_AVAILABLE, &t[0], &s, json_array_get(arr, 1),
                                   &pods[0]);
        CHECK_EQ_STR(m, "The node was low on resource: memory. Threshold quantity: 100Mi, "
                        "available: 50Mi. Container c was using 10Mi, request is 0, has larger "
                        "consumption of memory. ");
        free(m);
        /* a container within its request is not named */
        m = eviction_message(EVICTION_MEMORY_AVAILABLE, &t[0], &s, json_array_get(arr, 0),
                             &pods[1]);
        CHECK_EQ_STR(m, "The node was low on resource: memory. Threshold quantity: 100Mi, "
                        "available: 50Mi. ");
        free(m);
        /* percent thresholds print the computed quantity */
        s.nodefs.capacity = 1000 * 1024, s.nodefs.available = 50 * 1024;
        m = eviction_message(EVICTION_NODEFS_AVAILABLE, &t[EVICTION_NODEFS_AVAILABLE], &s,
                             json_array_get(arr, 0), NULL);
        CHECK_EQ_STR(m, "The node was low on resource: ephemeral-storage. Threshold quantity: "
                        "100Ki, available: 50Ki. ");
        free(m);
        json_decref(arr);
}

int main(void)
{
        RUN(thresholds);
        RUN(reserved);
        RUN(rank_and_message);
        return harness_done();
}
