/* test-podsync.c — pure helpers of the pod workers: pull policy defaults, resource quantities. */
#include "harness.h"
#include "kubelet/podsync.h"

static char policy_buf[32];

static const char *policy(const char *image, const char *explicit_policy)
{
        json_t *c = json_pack("{s:s}", "image", image);
        if (explicit_policy)
                json_object_set_new(c, "imagePullPolicy", json_string(explicit_policy));
        snprintf(policy_buf, sizeof(policy_buf), "%s", podsync_pull_policy(c));
        json_decref(c);
        return policy_buf;
}

TEST(pull_policy_defaults)
{
        CHECK_EQ_STR(policy("busybox", NULL), "Always");
        CHECK_EQ_STR(policy("busybox:latest", NULL), "Always");
        CHECK_EQ_STR(policy("busybox:1.36", NULL), "IfNotPresent");
        CHECK_EQ_STR(policy("localhost:5000/x/busybox", NULL), "Always");
        CHECK_EQ_STR(policy("localhost:5000/x/busybox:v1", NULL), "IfNotPresent");
        CHECK_EQ_STR(policy("busybox@sha256:0123", NULL), "IfNotPresent");
        CHECK_EQ_STR(policy("busybox", "Never"), "Never");
}

TEST(quantities)
{
        CHECK_EQ_INT(podsync_memory_bytes("64Mi"), 64 * 1024 * 1024);
        CHECK_EQ_INT(podsync_memory_bytes("1G"), 1000000000);
        CHECK_EQ_INT(podsync_memory_bytes("1000"), 1000);
        CHECK_EQ_INT(podsync_memory_bytes("1.5Gi"), 1610612736);
        CHECK_EQ_INT(podsync_memory_bytes(NULL), 0);
        CHECK_EQ_INT(podsync_memory_bytes("bogus"), 0);
        CHECK_EQ_INT(podsync_memory_bytes("12Qi"), 0);
        CHECK_EQ_INT(podsync_cpu_millis("500m"), 500);
        CHECK_EQ_INT(podsync_cpu_millis("2"), 2000);
        CHECK_EQ_INT(podsync_cpu_millis("0.1"), 100);
        CHECK_EQ_INT(podsync_cpu_millis(""), 0);
}

/* ResourceConfigForPod: shares from the summed requests, quota/memory only when every container
 * has the limit, init containers as max(init, sum), sidecars added to the sum. */
TEST(pod_resources)
{
        struct cgroup_resources r;
        json_t *pod = json_loads(
                "{\"spec\":{\"containers\":["
                "{\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"},"
                "\"limits\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"}}},"
                "{\"resources\":{\"requests\":{\"cpu\":\"500m\"},\"limits\":{\"cpu\":\"1\","
                "\"memory\":\"32Mi\"}}}],"
                "\"initContainers\":[{\"resources\":{\"limits\":{\"cpu\":\"2\","
                "\"memory\":\"1Mi\"}}}]}}",
                0, NULL);
        podsync_pod_resources(pod, 0, &r);
        CHECK_EQ_INT(r.cpu_shares, 768);
        CHECK_EQ_INT(r.cpu_quota_us, 200000); /* the init container's 2 cpus > 1.25 */
        CHECK_EQ_INT(r.memory_limit, 96 * 1024 * 1024);
        CHECK_EQ_INT(r.pids_max, 0);
        json_decref(pod);
        pod = json_loads("{\"spec\":{\"containers\":[{\"resources\":{\"requests\":{\"cpu\":"
                         "\"100m\"},\"limits\":{\"memory\":\"48Mi\"}}},{}]}}",
                         0, NULL);
        podsync_pod_resources(pod, 1024, &r);
        CHECK_EQ_INT(r.cpu_shares, 102);
        CHECK_EQ_INT(r.cpu_quota_us, 0); /* no cpu limits */
        CHECK_EQ_INT(r.memory_limit, 0); /* the second container has no memory limit */
        CHECK_EQ_INT(r.pids_max, 1024);
        json_decref(pod);
        pod = json_loads("{\"spec\":{\"containers\":[{}]}}", 0, NULL);
        podsync_pod_resources(pod, 0, &r);
        CHECK_EQ_INT(r.cpu_shares, 2);
        json_decref(pod);
}

int main(void)
{
        RUN(pull_policy_defaults);
        RUN(quantities);
        RUN(pod_resources);
        return harness_done();
}
