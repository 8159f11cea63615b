/* test-deployment.c — controllers/deployment.c pure parts: NewRSNewReplicas, EqualIgnoreHash,
 * calculateStatus with the Available condition, DeploymentComplete. */
#include "controllers/deployment.h"

#include "common/kjson.h"
#include "controllers/util.h"
#include "harness.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        kjson_parse(s, strlen(s), 0, &j, NULL);
        return j;
}

static json_t *rs(int replicas, int status_replicas, int avail)
{
        return json_pack("{s:{s:i}, s:{s:i, s:i, s:i}}", "spec", "replicas", replicas, "status",
                         "replicas", status_replicas, "availableReplicas", avail, "readyReplicas",
                         avail);
}

TEST(new_rs_replicas)
{
        /* 10 replicas, 25% surge -> 3: a new RS may start 3 pods beside the old 10 */
        json_t *d = J("{\"metadata\":{\"generation\":2},\"spec\":{\"replicas\":10}}");
        json_t *old = rs(10, 10, 10), *nrs = rs(0, 0, 0);
        json_t *all = json_pack("[O, O]", old, nrs);
        CHECK_EQ_INT(deployment_new_rs_replicas(d, all, nrs), 3);
        /* at the surge limit nothing more */
        json_object_set_new(json_object_get(nrs, "spec"), "replicas", json_integer(3));
        CHECK_EQ_INT(deployment_new_rs_replicas(d, all, nrs), 3);
        /* old scaled down to 7: new may grow to 6 */
        json_object_set_new(json_object_get(old, "spec"), "replicas", json_integer(7));
        CHECK_EQ_INT(deployment_new_rs_replicas(d, all, nrs), 6);
        json_decref(all);
        json_decref(old);
        json_decref(nrs);
        /* Recreate: straight to replicas */
        json_t *r = J("{\"spec\":{\"replicas\":4,\"strategy\":{\"type\":\"Recreate\"}}}");
        CHECK_EQ_INT(deployment_new_rs_replicas(r, NULL, NULL), 4);
        json_decref(r);
        json_decref(d);
}

TEST(template_equal_ignores_hash)
{
        json_t *a = J("{\"metadata\":{\"labels\":{\"app\":\"x\"}},\"spec\":{\"containers\":[{"
                      "\"name\":\"c\"}]}}");
        json_t *b = J("{\"metadata\":{\"labels\":{\"app\":\"x\",\"pod-template-hash\":\"abc\"}},"
                      "\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
        json_t *c = J("{\"metadata\":{\"labels\":{\"app\":\"x\"}},\"spec\":{\"containers\":[{"
                      "\"name\":\"d\"}]}}");
        CHECK(deployment_template_equal(a, b));
        CHECK(!deployment_template_equal(a, c));
        json_decref(a);
        json_decref(b);
        json_decref(c);
}

TEST(status_and_available)
{
        /* 5 replicas, default maxUnavailable 25% -> 1: 4 available is enough */
        json_t *d = J("{\"metadata\":{\"generation\":3},\"spec\":{\"replicas\":5}}");
        json_t *old = rs(1, 1, 1), *nrs = rs(5, 5, 3);
        json_t *all = json_pack("[O, O]", old, nrs);
        json_t *st = deployment_status_calc(d, all, nrs);
        CHECK_EQ_INT(kjson_int(st, "replicas", -1), 6);
        CHECK_EQ_INT(kjson_int(st, "updatedReplicas", -1), 5);
        CHECK_EQ_INT(kjson_int(st, "availableReplicas", -1), 4);
        CHECK_EQ_INT(kjson_int(st, "unavailableReplicas", -1), 2);
        CHECK_EQ_INT(kjson_int(st, "observedGeneration", -1), 3);
        json_t *c = controllers_condition_get(st, "Available");
        CHECK_EQ_STR(kjson_str(c, "status"), "True");
        CHECK_EQ_STR(kjson_str(c, "reason"), "MinimumReplicasAvailable");
        CHECK(!deployment_is_complete(d, st));
        json_decref(st);
        json_object_set_new(json_object_get(nrs, "status"), "availableReplicas", json_integer(2));
        json_object_set_new(json_object_get(old, "status"), "availableReplicas", json_integer(1));
        st = deployment_status_calc(d, all, nrs);
        c = controllers_condition_get(st, "Available");
        CHECK_EQ_STR(kjson_str(c, "status"), "False");
        CHECK_EQ_STR(kjson_str(c, "reason"), "MinimumReplicasUnavailable");
        json_decref(st);
        json_decref(all);
        /* complete: everything updated and available, generation observed */
        json_t *done = rs(5, 5, 5);
        json_t *all2 = json_pack("[O]", done);
        st = deployment_status_calc(d, all2, done);
        CHECK(deployment_is_complete(d, st));
        json_decref(st);
        json_decref(all2);
        json_decref(done);
        json_decref(old);
        json_decref(nrs);
        json_decref(d);
}

int main(void)
{
        RUN(new_rs_replicas);
        RUN(template_equal_ignores_hash);
        RUN(status_and_available);
        return harness_done();
}
