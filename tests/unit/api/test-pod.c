/* test-pod.c — pod defaults, QoS class, validation. */
#include "harness.h"

#include "api/pod.h"
#include "common/kjson.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        if (kjson_parse(s, strlen(s), 0, &j, NULL) < 0)
                return json_object();
        return j;
}

TEST(defaults)
{
        json_t *p = J(
                "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\","
                "\"image\":\"nginx\","
                "\"ports\":[{\"containerPort\":80}]},{\"name\":\"b\",\"image\":\"r.io/x:1.2\"}]}}");
        pod_defaults(p);
        CHECK_EQ_STR(kjson_str(p, "spec.restartPolicy"), "Always");
        CHECK_EQ_STR(kjson_str(p, "spec.dnsPolicy"), "ClusterFirst");
        CHECK_EQ_STR(kjson_str(p, "spec.schedulerName"), "default-scheduler");
        CHECK_EQ_INT(kjson_int(p, "spec.terminationGracePeriodSeconds", 0), 30);
        CHECK(kjson_bool(p, "spec.enableServiceLinks", false));
        CHECK_EQ_STR(kjson_str(p, "status.phase"), "Pending");
        CHECK_EQ_STR(kjson_str(p, "status.qosClass"), "BestEffort");
        json_t *a = json_array_get(kjson_get(p, "spec.containers"), 0);
        json_t *b = json_array_get(kjson_get(p, "spec.containers"), 1);
        CHECK_EQ_STR(kjson_str(a, "imagePullPolicy"), "Always");
        CHECK_EQ_STR(kjson_str(b, "imagePullPolicy"), "IfNotPresent");
        CHECK_EQ_STR(kjson_str(a, "terminationMessagePath"), "/dev/termination-log");
        CHECK_EQ_STR(kjson_str(a, "terminationMessagePolicy"), "File");
        CHECK_EQ_STR(kjson_str(json_array_get(json_object_get(a, "ports"), 0), "protocol"), "TCP");
        json_decref(p);
        CHECK_EQ_STR(pod_image_pull_policy("nginx:latest"), "Always");
        CHECK_EQ_STR(pod_image_pull_policy("localhost:5000/nginx"), "Always");
        CHECK_EQ_STR(pod_image_pull_policy("localhost:5000/nginx:1"), "IfNotPresent");
        CHECK_EQ_STR(pod_image_pull_policy("nginx@sha256:abc"), "IfNotPresent");
}

TEST(qos)
{
        json_t *p = J("{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{"
                      "\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]}}");
        CHECK_EQ_STR(pod_qos_class(p), "Guaranteed");
        json_decref(p);
        p = J("{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\","
              "\"memory\":\"1Gi\"},"
              "\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}}]}}");
        CHECK_EQ_STR(pod_qos_class(p), "Burstable");
        json_decref(p);
        p = J("{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":"
              "\"1000m\",\"memory\":\"1Gi\"},"
              "\"requests\":{\"cpu\":\"1\",\"memory\":\"1024Mi\"}}}]}}");
        CHECK_EQ_STR(pod_qos_class(p), "Guaranteed");
        json_decref(p);
        p = J("{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"memory\":"
              "\"1Gi\"}}}]}}");
        CHECK_EQ_STR(pod_qos_class(p), "Burstable");
        json_decref(p);
}

static int n_causes(const char *pod, const char *field)
{
        json_t *p = J(pod), *c = json_array();
        pod_validate(p, c);
        int n = (int)json_array_size(c);
        if (field && n && strcmp(kjson_str(json_array_get(c, 0), "field") ?: "", field))
                n = -1;
        json_decref(p);
        json_decref(c);
        return n;
}

TEST(validate)
{
        CHECK_EQ_INT(
                n_causes("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}", NULL),
                0);
        CHECK_EQ_INT(n_causes("{\"spec\":{}}", "spec.containers"), 1);
        CHECK_EQ_INT(n_causes("{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
                              "spec.containers[0].image"),
                     1);
        CHECK_EQ_INT(n_causes("{\"spec\":{\"containers\":[{\"name\":\"A_b\",\"image\":\"x\"}]}}",
                              "spec.containers[0].name"),
                     1);
        CHECK_EQ_INT(n_causes("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{"
                              "\"name\":\"a\",\"image\":\"x\"}]}}",
                              "spec.containers[1].name"),
                     1);
        CHECK_EQ_INT(n_causes("{\"spec\":{\"initContainers\":[{\"name\":\"a\",\"image\":\"x\"}],"
                              "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}",
                              "spec.initContainers[0].name"),
                     1);
        CHECK_EQ_INT(n_causes("{\"spec\":{\"restartPolicy\":\"Sometimes\",\"containers\":[{"
                              "\"name\":\"a\",\"image\":\"x\"}]}}",
                              "spec.restartPolicy"),
                     1);
        CHECK_EQ_INT(n_causes("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
                              "\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/v\"}]}]}}",
                              "spec.containers[0].volumeMounts[0].name"),
                     1);
        CHECK_EQ_INT(n_causes("{\"spec\":{\"volumes\":[{\"name\":\"v\"}],\"containers\":[{\"name\":"
                              "\"a\",\"image\":\"x\",\"volumeMounts\":[{\"name\":\"v\","
                              "\"mountPath\":\"/v\"}]}]}}",
                              NULL),
                     0);
        CHECK_EQ_INT(n_causes("{\"spec\":{\"volumes\":[{\"name\":\"v\"},{\"name\":\"v\"}],"
                              "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}",
                              "spec.volumes[1].name"),
                     1);
        CHECK_EQ_INT(
                n_causes("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":"
                         "{\"requests\":{\"cpu\":\"2\"},\"limits\":{\"cpu\":\"1\"}}}]}}",
                         "spec.containers[0].resources.requests"),
                1);
        CHECK_EQ_INT(
                n_causes("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":"
                         "{\"requests\":{\"cpu\":\"500m\"},\"limits\":{\"cpu\":\"1\"}}}]}}",
                         NULL),
                0);
        CHECK_EQ_INT(n_causes("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
                              "\"env\":[{\"value\":\"1\"}]}]}}",
                              "spec.containers[0].env[0].name"),
                     1);
        CHECK_EQ_INT(n_causes("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
                              "\"ports\":[{\"containerPort\":70000}]}]}}",
                              "spec.containers[0].ports[0].containerPort"),
                     1);
}

TEST(validate_update)
{
        json_t *old = J("{\"spec\":{\"restartPolicy\":\"Always\",\"containers\":[{\"name\":\"a\","
                        "\"image\":\"x\"}]}}");
        json_t *img = J("{\"spec\":{\"restartPolicy\":\"Always\",\"containers\":[{\"name\":\"a\","
                        "\"image\":\"y\"}],\"activeDeadlineSeconds\":5}}");
        json_t *rp = J("{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"a\","
                       "\"image\":\"x\"}]}}");
        json_t *c = json_array();
        pod_validate_update(img, old, c);
        CHECK_EQ_INT(json_array_size(c), 0);
        pod_validate_update(rp, old, c);
        CHECK_EQ_INT(json_array_size(c), 1);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "field"), "spec");
        CHECK(strstr(kjson_str(json_array_get(c, 0), "message") ?: "",
                     "Forbidden: pod updates may not change fields other than"));
        json_decref(c);
        json_decref(old);
        json_decref(img);
        json_decref(rp);
}

int main(void)
{
        RUN(defaults);
        RUN(qos);
        RUN(validate);
        RUN(validate_update);
        return harness_done();
}
