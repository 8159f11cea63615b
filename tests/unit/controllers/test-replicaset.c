/* test-replicaset.c — controllers/replicaset.c status, controllers/expectations.c, and the
 * pod a controller creates from a template (podcontrol.c). */
#include "controllers/replicaset.h"

#include "common/kjson.h"
#include "common/timefmt.h"
#include "controllers/expectations.h"
#include "controllers/podcontrol.h"
#include "controllers/util.h"
#include "harness.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        kjson_parse(s, strlen(s), 0, &j, NULL);
        return j;
}

TEST(status)
{
        json_t *rs = J(
                "{\"metadata\":{\"generation\":4},\"spec\":{\"replicas\":3,\"minReadySeconds\":10,"
                "\"template\":{\"metadata\":{\"labels\":{\"app\":\"a\",\"tier\":\"t\"}}}}}");
        json_t *pods = J("["
                         "{\"metadata\":{\"labels\":{\"app\":\"a\",\"tier\":\"t\"}},\"status\":{"
                         "\"conditions\":"
                         " [{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"2026-"
                         "01-01T00:00:00Z\"}]}},"
                         "{\"metadata\":{\"labels\":{\"app\":\"a\",\"tier\":\"t\"}},\"status\":{"
                         "\"conditions\":"
                         " [{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"2026-"
                         "01-01T00:00:55Z\"}]}},"
                         "{\"metadata\":{\"labels\":{\"app\":\"a\"}},\"status\":{}}"
                         "]");
        struct timespec ts;
        timefmt_parse_rfc3339("2026-01-01T00:01:00Z", &ts);
        json_t *st = replicaset_status_calc(rs, pods, ts.tv_sec, NULL, NULL);
        CHECK_EQ_INT(kjson_int(st, "replicas", -1), 3);
        CHECK_EQ_INT(kjson_int(st, "fullyLabeledReplicas", -1), 2);
        CHECK_EQ_INT(kjson_int(st, "readyReplicas", -1), 2);
        CHECK_EQ_INT(kjson_int(st, "availableReplicas", -1), 1); /* second ready only 5 s */
        CHECK_EQ_INT(kjson_int(st, "observedGeneration", -1), 4);
        CHECK(kjson_get(st, "conditions") == NULL);
        json_decref(st);
        st = replicaset_status_calc(rs, pods, ts.tv_sec, "quota", "FailedCreate");
        json_t *c = controllers_condition_get(st, "ReplicaFailure");
        CHECK_EQ_STR(kjson_str(c, "reason"), "FailedCreate");
        CHECK_EQ_STR(kjson_str(c, "message"), "quota");
        json_decref(st);
        json_decref(pods);
        json_decref(rs);
}

TEST(expectations)
{
        struct expectations *e = expectations_new();
        CHECK(expectations_satisfied(e, "ns/rs"));
        expectations_expect(e, "ns/rs", 2, NULL);
        CHECK(!expectations_satisfied(e, "ns/rs"));
        expectations_creation_observed(e, "ns/rs");
        CHECK(!expectations_satisfied(e, "ns/rs"));
        expectations_creation_observed(e, "ns/rs");
        CHECK(expectations_satisfied(e, "ns/rs"));
        json_t *dels = json_pack("[s, s]", "ns/p1", "ns/p2");
        expectations_expect(e, "ns/rs", 0, dels);
        expectations_deletion_observed(e, "ns/rs", "ns/p1");
        expectations_deletion_observed(e, "ns/rs", "ns/p1"); /* twice: counted once */
        CHECK(!expectations_satisfied(e, "ns/rs"));
        expectations_deletion_observed(e, "ns/rs", "ns/p2");
        CHECK(expectations_satisfied(e, "ns/rs"));
        json_decref(dels);
        expectations_free(e);
}

TEST(pod_from_template)
{
        json_t *rs = J("{\"metadata\":{\"name\":\"web-abc\",\"namespace\":\"n\",\"uid\":\"u\"}}");
        json_t *tmpl = J("{\"metadata\":{\"labels\":{\"app\":\"a\"},\"annotations\":{\"x\":\"y\"}},"
                         "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}");
        json_t *p = podcontrol_pod_from_template(tmpl, rs, "apps/v1", "ReplicaSet");
        CHECK_EQ_STR(kjson_str(p, "metadata.generateName"), "web-abc-");
        CHECK_EQ_STR(kjson_str(p, "metadata.namespace"), "n");
        CHECK_EQ_STR(kjson_str(p, "metadata.labels.app"), "a");
        CHECK_EQ_STR(kjson_str(p, "metadata.annotations.x"), "y");
        json_t *ref = controllers_controller_ref(p);
        CHECK_EQ_STR(kjson_str(ref, "apiVersion"), "apps/v1");
        CHECK_EQ_STR(kjson_str(ref, "kind"), "ReplicaSet");
        CHECK_EQ_STR(kjson_str(ref, "uid"), "u");
        CHECK(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
        CHECK_EQ_INT(json_array_size(kjson_get(p, "spec.containers")), 1);
        json_decref(p);
        json_decref(tmpl);
        json_decref(rs);
}

int main(void)
{
        RUN(status);
        RUN(expectations);
        RUN(pod_from_template);
        return harness_done();
}
