/* test-util.c — controllers/util.c: intOrString scaling and fenceposts (deploymentutil), the
 * safe encoding and FNV-32a behind pod-template-hash, deletion ranking, conditions. */
#include "controllers/util.h"

#include "common/kjson.h"
#include "common/timefmt.h"
#include "harness.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        kjson_parse(s, strlen(s), 0, &j, NULL);
        return j;
}

TEST(intstr)
{
        int64_t v = -1;
        json_t *p = json_string("25%");
        CHECK_EQ_INT(controllers_intstr_scaled(p, 0, 10, true, &v), 0);
        CHECK_EQ_INT(v, 3); /* 2.5 rounded up */
        CHECK_EQ_INT(controllers_intstr_scaled(p, 0, 10, false, &v), 0);
        CHECK_EQ_INT(v, 2); /* rounded down */
        json_decref(p);
        json_t *i = json_integer(4);
        CHECK_EQ_INT(controllers_intstr_scaled(i, 0, 10, true, &v), 0);
        CHECK_EQ_INT(v, 4);
        json_decref(i);
        CHECK_EQ_INT(controllers_intstr_scaled(NULL, 25, 5, true, &v), 0);
        CHECK_EQ_INT(v, 2);
        json_t *bad = json_string("25");
        CHECK_EQ_INT(controllers_intstr_scaled(bad, 0, 10, true, &v), -EINVAL);
        json_decref(bad);
}

TEST(fenceposts)
{
        int64_t s, u;
        /* defaults 25%/25% of 5: surge up 2, unavailable down 1 */
        CHECK_EQ_INT(controllers_resolve_fenceposts(NULL, 5, &s, &u), 0);
        CHECK_EQ_INT(s, 2);
        CHECK_EQ_INT(u, 1);
        /* both zero: maxUnavailable becomes 1 */
        json_t *st = J("{\"rollingUpdate\":{\"maxSurge\":0,\"maxUnavailable\":\"10%\"}}");
        CHECK_EQ_INT(controllers_resolve_fenceposts(st, 3, &s, &u), 0);
        CHECK_EQ_INT(s, 0);
        CHECK_EQ_INT(u, 1);
        json_decref(st);
}

TEST(safe_encode_and_fnv)
{
        char s[] = "0123456789";
        controllers_safe_encode(s);
        CHECK_EQ_STR(s, "456789bcdf");
        /* FNV-1a 32-bit reference vectors */
        CHECK_EQ_INT(controllers_fnv32a("", 0, CONTROLLERS_FNV32A_INIT), 0x811c9dc5u);
        CHECK_EQ_INT(controllers_fnv32a("a", 1, CONTROLLERS_FNV32A_INIT), 0xe40c292cu);
        CHECK_EQ_INT(controllers_fnv32a("foobar", 6, CONTROLLERS_FNV32A_INIT), 0xbf9cf968u);
}

TEST(template_hash)
{
        json_t *a = J("{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[]}}");
        json_t *b = J("{\"spec\":{\"containers\":[]},\"metadata\":{\"labels\":{\"app\":\"web\"}}}");
        json_t *c =
                J("{\"metadata\":{\"labels\":{\"app\":\"web2\"}},\"spec\":{\"containers\":[]}}");
        char ha[16], hb[16], hc[16], hd[16];
        controllers_template_hash(a, -1, ha);
        controllers_template_hash(b, -1, hb);
        controllers_template_hash(c, -1, hc);
        controllers_template_hash(a, 1, hd);
        CHECK_EQ_STR(ha, hb); /* key order does not matter */
        CHECK(strcmp(ha, hc) != 0);
        CHECK(strcmp(ha, hd) != 0); /* collisionCount changes it */
        for (const char *p = ha; *p; p++)
                CHECK(strchr("bcdfghjklmnpqrstvwxz2456789", *p) != NULL);
        json_decref(a);
        json_decref(b);
        json_decref(c);
}

TEST(deletion_order)
{
        json_t *pods = J(
                "["
                "{\"metadata\":{\"name\":\"running-old\",\"creationTimestamp\":\"2026-01-01T00:00:"
                "00Z\"},"
                " \"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\",\"conditions\":"
                "  "
                "[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"2026-01-01T00:"
                "00:10Z\"}]}},"
                "{\"metadata\":{\"name\":\"unscheduled\",\"creationTimestamp\":\"2026-01-01T00:00:"
                "00Z\"},"
                " \"spec\":{},\"status\":{\"phase\":\"Pending\"}},"
                "{\"metadata\":{\"name\":\"pending\",\"creationTimestamp\":\"2026-01-01T00:00:"
                "00Z\"},"
                " \"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Pending\"}},"
                "{\"metadata\":{\"name\":\"notready\",\"creationTimestamp\":\"2026-01-01T00:00:"
                "00Z\"},"
                " \"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"}},"
                "{\"metadata\":{\"name\":\"running-new\",\"creationTimestamp\":\"2026-01-01T00:01:"
                "00Z\"},"
                " \"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\",\"conditions\":"
                "  "
                "[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"2026-01-01T00:"
                "00:10Z\"}]}}"
                "]");
        controllers_pods_sort_for_deletion(pods, NULL);
        const char *want[] = {"unscheduled", "pending", "notready", "running-new", "running-old"};
        for (size_t i = 0; i < 5; i++)
                CHECK_EQ_STR(kjson_str(json_array_get(pods, i), "metadata.name"), want[i]);
        json_decref(pods);
}

TEST(conditions)
{
        json_t *st = json_object();
        CHECK(controllers_condition_set(st,
                                        controllers_condition_new("A", "True", "R", "m", false)));
        json_t *c = controllers_condition_get(st, "A");
        CHECK(c != NULL);
        json_object_set_new(c, "lastTransitionTime", json_string("2020-01-01T00:00:00Z"));
        /* same status: transition time kept, not a change */
        CHECK(!controllers_condition_set(st,
                                         controllers_condition_new("A", "True", "R", "m", false)));
        CHECK_EQ_STR(kjson_str(controllers_condition_get(st, "A"), "lastTransitionTime"),
                     "2020-01-01T00:00:00Z");
        CHECK(controllers_condition_set(st,
                                        controllers_condition_new("A", "False", "R2", "m", false)));
        CHECK(strcmp(kjson_str(controllers_condition_get(st, "A"), "lastTransitionTime"),
                     "2020-01-01T00:00:00Z") != 0);
        controllers_condition_del(st, "A");
        CHECK(controllers_condition_get(st, "A") == NULL);
        json_decref(st);
}

TEST(pod_predicates)
{
        json_t *p = J("{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\","
                      "\"status\":\"True\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]}}");
        struct timespec ts;
        timefmt_parse_rfc3339("2026-01-01T00:00:05Z", &ts);
        CHECK(controllers_pod_is_active(p));
        CHECK(controllers_pod_is_ready(p));
        CHECK(controllers_pod_is_available(p, 5, ts.tv_sec));
        CHECK(!controllers_pod_is_available(p, 6, ts.tv_sec));
        json_t *d = J("{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"}}");
        CHECK(!controllers_pod_is_active(d));
        json_decref(p);
        json_decref(d);
}

int main(void)
{
        RUN(intstr);
        RUN(fenceposts);
        RUN(safe_encode_and_fnv);
        RUN(template_hash);
        RUN(deletion_order);
        RUN(conditions);
        RUN(pod_predicates);
        return harness_done();
}
