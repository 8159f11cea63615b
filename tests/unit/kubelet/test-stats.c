/* test-stats.c — /proc/net/dev and key-value parsing, and the Summary API / Prometheus shapes. */
#include "common/kjson.h"
#include "harness.h"
#include "kubelet/stats.h"

static const char *netdev =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
        "drop fifo colls carrier compressed\n"
        "    lo:       7       1    0    0    0     0          0         0        7       1    0 "
        "   0    0     0       0          0\n"
        "  eth0:    1234      10    3    0    0     0          0         0     5678      20    4 "
        "   0    0     0       0          0\n";

TEST(parsers)
{
        struct stats_net n = {0};
        CHECK_EQ_INT(stats_net_dev_parse(netdev, "eth0", &n), 0);
        CHECK(n.ok);
        CHECK_EQ_INT(n.rx_bytes, 1234);
        CHECK_EQ_INT(n.rx_errors, 3);
        CHECK_EQ_INT(n.tx_bytes, 5678);
        CHECK_EQ_INT(n.tx_errors, 4);
        CHECK_EQ_INT(stats_net_dev_parse(netdev, "eth1", &n), -ENOENT);
        CHECK_EQ_INT(stats_net_dev_parse("eth0: 1 2 3\n", "eth0", &n), -EPROTO);
        uint64_t v = 0;
        CHECK(stats_kv_get("cache 5\ntotal_rss 42\ntotal_rss_huge 0\n", "total_rss", &v));
        CHECK_EQ_INT(v, 42);
        CHECK(stats_kv_get("MemTotal:       16384 kB\n", "MemTotal", &v));
        CHECK_EQ_INT(v, 16384);
        CHECK(!stats_kv_get("total_rss_huge 1\n", "total_rss", &v));
}

TEST(renderers)
{
        struct stats_ctr c = {.name = "app",
                              .id = "abc-app-0",
                              .cg = {.ok = true, .cpu_ns = 1500000000, .mem_ws = 4096}};
        struct stats_pod p = {.uid = "u1",
                              .ns = "default",
                              .name = "web",
                              .cgroup = "/kubepods/besteffort/podu1",
                              .cg = {.ok = true, .cpu_ns = 1500000000, .mem_ws = 8192},
                              .net = {.ok = true, .rx_bytes = 10, .tx_bytes = 20},
                              .ctrs = &c,
                              .n_ctrs = 1};
        struct stats_snapshot s = {.time = {1700000000, 0},
                                   .mem_total = 1 << 30,
                                   .mem_available = 1 << 29,
                                   .pods = &p,
                                   .n_pods = 1};
        struct timespec st = {1690000000, 0};
        json_t *sum = stats_summary_json(&s, "n1", &st);
        CHECK_EQ_STR(kjson_str(sum, "node.nodeName"), "n1");
        CHECK_EQ_INT(kjson_int(sum, "node.memory.availableBytes", 0), 1 << 29);
        json_t *pod = json_array_get(json_object_get(sum, "pods"), 0);
        CHECK_EQ_STR(kjson_str(pod, "podRef.name"), "web");
        CHECK_EQ_INT(kjson_int(pod, "cpu.usageCoreNanoSeconds", 0), 1500000000);
        CHECK_EQ_INT(kjson_int(pod, "network.rxBytes", 0), 10);
        CHECK_EQ_STR(kjson_str(json_array_get(json_object_get(pod, "containers"), 0), "name"),
                     "app");
        json_decref(sum);
        char *m = stats_metrics_resource(&s);
        CHECK(strstr(m, "container_cpu_usage_seconds_total{container=\"app\",namespace=\"default\","
                        "pod=\"web\"} 1.500000000 1700000000000\n"));
        CHECK(strstr(m, "pod_memory_working_set_bytes{namespace=\"default\",pod=\"web\"} 8192 "));
        free(m);
        m = stats_metrics_cadvisor(&s);
        CHECK(strstr(m, "container_memory_working_set_bytes{container=\"app\",id=\"/kubepods/"
                        "besteffort/podu1/abc-app-0\",image=\"\",name=\"abc-app-0\","
                        "namespace=\"default\",pod=\"web\"} 4096 "));
        free(m);
}

int main(void)
{
        RUN(parsers);
        RUN(renderers);
        return harness_done();
}
