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

int main(void)
{
        RUN(pull_policy_defaults);
        RUN(quantities);
        return harness_done();
}
