/* test-apply.c — the merge schemas of built-in kinds (apiserver/apply.h) as k8s.io/api's
 * OpenAPI declares them (x-kubernetes-list-type/-list-map-keys, structType/mapType atomic), and
 * the managedFields Kubernetes records with them. */
#include "harness.h"

#include "api/managedfields.h"
#include "apiserver/apply.h"
#include "common/kjson.h"

static json_t *J(const char *s)
{
        json_t *j = json_loads(s, 0, NULL);
        if (!j)
                printf("# bad JSON in test: %s\n", s);
        return j;
}

static bool same(const json_t *a, const char *want)
{
        _cleanup_(json_decrefp) json_t *w = J(want);
        if (json_equal((json_t *)a, w))
                return true;
        _cleanup_free_ char *d = kjson_dump(a);
        printf("# got  %s\n# want %s\n", d, want);
        return false;
}

static json_t *set_of(const char *resource, const char *obj)
{
        _cleanup_(json_decrefp) json_t *o = J(obj);
        json_t *s = NULL;
        struct error err = {0};
        if (fieldset_from_object(o, apply_schema(scheme_lookup_any(resource)), &s, &err) < 0)
                printf("# %s\n", error_msg(&err));
        return s;
}

TEST(pod_lists)
{
        _cleanup_(json_decrefp) json_t *s = set_of(
                "pods",
                "{\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":53,"
                "\"protocol\":\"UDP\"},{\"containerPort\":53}],\"env\":[{\"name\":\"A\"}],"
                "\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/m\"}],\"args\":[\"x\"]}],"
                "\"tolerations\":[{\"key\":\"k\"}],\"nodeSelector\":{\"a\":\"b\"},"
                "\"imagePullSecrets\":[{\"name\":\"s\"}]},\"metadata\":{\"finalizers\":[\"f\"]}}");
        CHECK(same(s,
                   "{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{\".\":{},"
                   "\"f:name\":{},\"f:ports\":{\"k:{\\\"containerPort\\\":53,\\\"protocol\\\":"
                   "\\\"UDP\\\"}\":{\".\":{},\"f:containerPort\":{},\"f:protocol\":{}},"
                   "\"k:{\\\"containerPort\\\":53,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},"
                   "\"f:containerPort\":{}}},\"f:env\":{\"k:{\\\"name\\\":\\\"A\\\"}\":{\".\":{},"
                   "\"f:name\":{}}},\"f:volumeMounts\":{\"k:{\\\"mountPath\\\":\\\"/m\\\"}\":{"
                   "\".\":{},\"f:name\":{},\"f:mountPath\":{}}},\"f:args\":{}}},"
                   "\"f:tolerations\":{},\"f:nodeSelector\":{},\"f:imagePullSecrets\":{"
                   "\"k:{\\\"name\\\":\\\"s\\\"}\":{\".\":{},\"f:name\":{}}}},\"f:metadata\":{"
                   "\"f:finalizers\":{\"v:\\\"f\\\"\":{}}}}"));
}

TEST(service_ports_and_selectors)
{
        _cleanup_(json_decrefp) json_t *s = set_of(
                "services", "{\"spec\":{\"selector\":{\"app\":\"x\"},\"ports\":[{\"port\":53,"
                            "\"protocol\":\"UDP\"},{\"port\":80,\"targetPort\":8080}]}}");
        CHECK(same(s,
                   "{\"f:spec\":{\"f:selector\":{},\"f:ports\":{\"k:{\\\"port\\\":53,"
                   "\\\"protocol\\\":\\\"UDP\\\"}\":{\".\":{},\"f:port\":{},\"f:protocol\":{}},"
                   "\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:port\":{},"
                   "\"f:targetPort\":{}}}}}"));
        _cleanup_(json_decrefp) json_t *d = set_of(
                "deployments",
                "{\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":{\"spec\":{"
                "\"affinity\":{\"nodeAffinity\":{"
                "\"requiredDuringSchedulingIgnoredDuringExecution\":{"
                "\"nodeSelectorTerms\":[{}]}}}}}}}");
        CHECK(same(d, "{\"f:spec\":{\"f:selector\":{},\"f:template\":{\"f:spec\":{\"f:affinity\":{"
                      "\"f:nodeAffinity\":{\"f:requiredDuringSchedulingIgnoredDuringExecution\":{}"
                      "}}}}}}"));
}

/* kubectl create deployment's managedFields on a real cluster (kubectl-create, Update): maps,
 * lists and pointer structs that appear carry ".", value structs and PodSpec.containers not. */
TEST(create_deployment_entry)
{
        _cleanup_(json_decrefp) json_t *obj = J(
                "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"n\","
                "\"namespace\":\"default\",\"uid\":\"u\",\"generation\":1,\"creationTimestamp\":"
                "\"2026-01-01T00:00:00Z\",\"labels\":{\"app\":\"n\"}},\"spec\":{\"replicas\":1,"
                "\"selector\":{\"matchLabels\":{\"app\":\"n\"}},\"template\":{\"metadata\":{"
                "\"creationTimestamp\":null,\"labels\":{\"app\":\"n\"}},\"spec\":{\"containers\":[{"
                "\"name\":\"nginx\",\"image\":\"nginx\",\"resources\":{},"
                "\"terminationMessagePath\":"
                "\"/dev/"
                "termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":"
                "\"Always\"}],\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,"
                "\"dnsPolicy\":\"ClusterFirst\",\"securityContext\":{},\"schedulerName\":"
                "\"default-scheduler\"}},\"strategy\":{\"type\":\"RollingUpdate\","
                "\"rollingUpdate\":{"
                "\"maxUnavailable\":\"25%\",\"maxSurge\":\"25%\"}},\"revisionHistoryLimit\":10,"
                "\"progressDeadlineSeconds\":600},\"status\":{}}");
        const struct scheme_resource *r = scheme_lookup_any("deployments");
        _cleanup_(json_decrefp) json_t *reset = J("{\"f:status\":{}}");
        struct managedfields_op op = {.manager = "kubectl-create",
                                      .api_version = "apps/v1",
                                      .schema = apply_schema(r),
                                      .reset = reset,
                                      .now = 0};
        struct error err = {0};
        CHECK_EQ_INT(managedfields_update(NULL, obj, &op, &err), 0);
        json_t *e = json_array_get(kjson_get(obj, "metadata.managedFields"), 0);
        CHECK(same(
                json_object_get(e, "fieldsV1"),
                "{\"f:metadata\":{\"f:labels\":{\".\":{},\"f:app\":{}}},\"f:spec\":{"
                "\"f:progressDeadlineSeconds\":{},\"f:replicas\":{},\"f:revisionHistoryLimit\":{},"
                "\"f:selector\":{},\"f:strategy\":{\"f:rollingUpdate\":{\".\":{},\"f:maxSurge\":{},"
                "\"f:maxUnavailable\":{}},\"f:type\":{}},\"f:template\":{\"f:metadata\":{"
                "\"f:labels\":{\".\":{},\"f:app\":{}}},\"f:spec\":{\"f:containers\":{"
                "\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},\"f:image\":{},\"f:imagePullPolicy\":"
                "{},"
                "\"f:name\":{},\"f:resources\":{},\"f:terminationMessagePath\":{},"
                "\"f:terminationMessagePolicy\":{}}},\"f:dnsPolicy\":{},\"f:restartPolicy\":{},"
                "\"f:schedulerName\":{},\"f:securityContext\":{},"
                "\"f:terminationGracePeriodSeconds\":{}}}}}"));
        CHECK_EQ_STR(kjson_str(e, "manager"), "kubectl-create");
        CHECK_EQ_STR(kjson_str(e, "operation"), "Update");
        CHECK_EQ_STR(kjson_str(e, "apiVersion"), "apps/v1");
        CHECK_EQ_STR(kjson_str(e, "fieldsType"), "FieldsV1");
        CHECK_EQ_STR(kjson_str(e, "time"), "1970-01-01T00:00:00Z");
        CHECK(!json_object_get(e, "subresource"));
}

int main(void)
{
        RUN(pod_lists);
        RUN(service_ports_and_selectors);
        RUN(create_deployment_entry);
        return harness_done();
}
