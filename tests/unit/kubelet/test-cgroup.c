/* test-cgroup.c — cgroup layout detection from mount tables and pod paths (pure parts), plus
 * the overlay option string and CNI config/result helpers. */
#include "harness.h"

#include "kubelet/cgroup.h"
#include "kubelet/cni.h"
#include "kubelet/rootfs.h"

#include <jansson.h>

static const char *hybrid = "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
                            "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
                            "cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0\n"
                            "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
                            "cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0\n"
                            "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n"
                            "proc /proc proc rw 0 0\n";

TEST(layouts)
{
        struct cgroup_host h = {0};
        struct error err = {0};
        CHECK_EQ_INT(cgroup_host_parse(hybrid, "/sys/fs/cgroup", &h, &err), 0);
        CHECK_EQ_INT(h.layout, CGROUP_LAYOUT_HYBRID);
        CHECK_EQ_INT(h.n_v1, 4);
        CHECK_EQ_STR(h.v2_path, "/sys/fs/cgroup/unified");
        CHECK_EQ_STR(h.cpuset_path, "/sys/fs/cgroup/cpuset");
        CHECK(!h.has_hugetlb_v1);
        CHECK_EQ_STR(cgroup_layout_name(h.layout), "hybrid");
        cgroup_host_clear(&h);

        const char *v2 = "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec 0 0\n";
        CHECK_EQ_INT(cgroup_host_parse(v2, "/sys/fs/cgroup", &h, &err), 0);
        CHECK_EQ_INT(h.layout, CGROUP_LAYOUT_V2);
        CHECK_EQ_STR(h.v2_path, "/sys/fs/cgroup");
        cgroup_host_clear(&h);

        const char *v1 = "cgroup /sys/fs/cgroup/hugetlb cgroup rw,hugetlb 0 0\n"
                         "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0";
        CHECK_EQ_INT(cgroup_host_parse(v1, "/sys/fs/cgroup", &h, &err), 0);
        CHECK_EQ_INT(h.layout, CGROUP_LAYOUT_V1);
        CHECK(h.has_hugetlb_v1);
        CHECK_EQ_STR(h.v1_paths[1], "/sys/fs/cgroup/cpu,cpuacct");
        cgroup_host_clear(&h);

        /* outside the prefix, escaped names, junk */
        const char *odd = "cgroup /elsewhere/x cgroup rw,memory 0 0\n"
                          "cgroup /sys/fs/cgroup/a\\040b cgroup rw,pids 0 0\n"
                          "garbage\n\n   \ncgroup2\n";
        CHECK_EQ_INT(cgroup_host_parse(odd, "/sys/fs/cgroup", &h, &err), 0);
        CHECK_EQ_INT(h.n_v1, 1);
        CHECK_EQ_STR(h.v1_paths[0], "/sys/fs/cgroup/a b");
        cgroup_host_clear(&h);

        CHECK_EQ_INT(cgroup_host_parse("", "/sys/fs/cgroup", &h, &err), 0);
        CHECK_EQ_INT(h.layout, CGROUP_LAYOUT_NONE);
}

TEST(pod_paths)
{
        char *p = cgroup_pod_path("/kubepods", 0, "u1");
        CHECK_EQ_STR(p, "/kubepods/besteffort/podu1");
        free(p);
        p = cgroup_pod_path("/kubepods/", 1, "u1");
        CHECK_EQ_STR(p, "/kubepods/burstable/podu1");
        free(p);
        p = cgroup_pod_path(NULL, 2, "u1");
        CHECK_EQ_STR(p, "/kubepods/podu1");
        free(p);
}

TEST(overlay_options)
{
        const char *layers[] = {"/l/base", "/l/mid", "/l/top", NULL};
        char *o = NULL;
        struct error err = {0};
        CHECK_EQ_INT(rootfs_overlay_options(layers, "/c/upper", "/c/work", &o, &err), 0);
        CHECK_EQ_STR(o, "lowerdir=/l/top:/l/mid:/l/base,upperdir=/c/upper,workdir=/c/work");
        free(o);
        const char *colon[] = {"/l/a:b", NULL};
        CHECK_EQ_INT(rootfs_overlay_options(colon, "/u", "/w", &o, &err), -EINVAL);
        const char *none[] = {NULL};
        CHECK_EQ_INT(rootfs_overlay_options(none, "/u", "/w", &o, &err), -EINVAL);
        char big[300];
        memset(big, 'x', sizeof(big) - 1);
        big[0] = '/';
        big[sizeof(big) - 1] = 0;
        const char *many[20];
        for (int i = 0; i < 19; i++)
                many[i] = big;
        many[19] = NULL;
        CHECK_EQ_INT(rootfs_overlay_options(many, "/u", "/w", &o, &err), -E2BIG);
}

TEST(cni_conf_and_result)
{
        char *c = cni_conf_build("timonel", "tmnl0", "10.42.0.0/24", "/d/run/cni/networks");
        json_error_t je;
        json_t *j = json_loads(c, 0, &je);
        CHECK(j != NULL);
        CHECK_EQ_STR(json_string_value(json_object_get(j, "type")), "bridge");
        CHECK_EQ_STR(json_string_value(json_object_get(j, "bridge")), "tmnl0");
        CHECK(json_is_true(json_object_get(j, "isGateway")));
        CHECK(json_is_false(json_object_get(j, "ipMasq")));
        CHECK(json_is_true(json_object_get(j, "hairpinMode")));
        json_t *ipam = json_object_get(j, "ipam");
        CHECK_EQ_STR(json_string_value(json_object_get(ipam, "dataDir")), "/d/run/cni/networks");
        CHECK(json_object_get(ipam, "routes") == NULL); /* no default route in pods */
        json_decref(j);
        free(c);

        const char *res = "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\"}],"
                          "\"ips\":[{\"address\":\"fd00::5/64\"},{\"interface\":0,"
                          "\"address\":\"10.42.0.5/24\",\"gateway\":\"10.42.0.1\"}]}";
        char *ip = NULL;
        struct error err = {0};
        CHECK_EQ_INT(cni_result_ip(res, strlen(res), &ip, &err), 0);
        CHECK_EQ_STR(ip, "10.42.0.5");
        free(ip);
        CHECK_EQ_INT(cni_result_ip("{}", 2, &ip, &err), -EPROTO);
        CHECK_EQ_INT(cni_result_ip("nope", 4, &ip, &err), -EPROTO);
}

/* The kubelet's MilliCPUToShares -> cpu.weight conversion (cm.CpuSharesToCpuWeight). */
TEST(shares_to_weight)
{
        CHECK_EQ_INT(cgroup_shares_to_weight(2), 1);
        CHECK_EQ_INT(cgroup_shares_to_weight(1024), 39);
        CHECK_EQ_INT(cgroup_shares_to_weight(262144), 10000);
        CHECK_EQ_INT(cgroup_shares_to_weight(0), 1);
        CHECK_EQ_INT(cgroup_shares_to_weight(102), 4);
        CHECK_EQ_INT(cgroup_shares_to_weight(768), 30);
}

int main(void)
{
        RUN(layouts);
        RUN(pod_paths);
        RUN(shares_to_weight);
        RUN(overlay_options);
        RUN(cni_conf_and_result);
        return harness_done();
}
