/* test-hpa.c — controllers/hpa.c: the replica proposal of a Resource metric (Utilization and
 * AverageValue, the 0.1 tolerance, missing requests and metrics, the missing-pod rule) and the
 * behavior rate policies (Kubernetes' defaults, Pods/Percent, selectPolicy, past events). The
 * expected numbers follow pkg/controller/podautoscaler/replica_calculator.go and
 * horizontal.go. */
#include "controllers/hpa.h"

#include "common/kjson.h"
#include "harness.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        kjson_parse(s, strlen(s), 0, &j, NULL);
        return j;
}

#define CPU_UTIL(p)                                                                                \
        "{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":"              \
        "\"Utilization\",\"averageUtilization\":" #p "}}}"
#define POD(n, req)                                                                                \
        "{\"metadata\":{\"name\":\"" n "\"},\"spec\":{\"containers\":[{\"name\":\"c\","            \
        "\"resources\":{\"requests\":{\"cpu\":\"" req "\"}}}]}}"
#define PM(n, use)                                                                                 \
        "{\"metadata\":{\"name\":\"" n                                                             \
        "\"},\"containers\":[{\"name\":\"c\",\"usage\":{\"cpu\":\"" use                            \
        "\",\"memory\":\"1Mi\"}}]}"

static int64_t propose(const char *spec, const char *pods, const char *metrics, int64_t current,
                       int *rc, json_t **cur)
{
        json_t *s = J(spec), *p = J(pods), *m = J(metrics);
        int64_t d = -1;
        char *why = NULL;
        *rc = hpa_resource_metric(s, p, m, current, &d, cur, &why);
        free(why);
        json_decref(s);
        json_decref(p);
        json_decref(m);
        return d;
}

TEST(utilization)
{
        int rc;
        json_t *cur = NULL;
        /* 100m of 50m = 200% vs 50%: ratio 4, 1 pod -> 4 */
        int64_t d = propose(CPU_UTIL(50), "[" POD("a", "50m") "]",
                            "{\"items\":[" PM("a", "100m") "]}", 1, &rc, &cur);
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(d, 4);
        CHECK_EQ_INT(kjson_int(cur, "resource.current.averageUtilization", -1), 200);
        CHECK_EQ_STR(kjson_str(cur, "resource.current.averageValue"), "100m");
        json_decref(cur);
        /* 2 pods at 54% vs 50%: ratio 1.08 is within the tolerance -> current (1.1 is not:
         * Go compares the float64 |1 - ratio| <= 0.1) */
        d = propose(CPU_UTIL(50), "[" POD("a", "100m") "," POD("b", "100m") "]",
                    "{\"items\":[" PM("a", "54m") "," PM("b", "54m") "]}", 2, &rc, &cur);
        CHECK_EQ_INT(d, 2);
        json_decref(cur);
        /* 2 pods at 10% vs 50%: ceil(0.2 * 2) = 1 */
        d = propose(CPU_UTIL(50), "[" POD("a", "100m") "," POD("b", "100m") "]",
                    "{\"items\":[" PM("a", "10m") "," PM("b", "10m") "]}", 2, &rc, &cur);
        CHECK_EQ_INT(d, 1);
        json_decref(cur);
}

TEST(missing)
{
        int rc;
        json_t *cur = NULL;
        /* a container without a cpu request: an error naming it */
        json_t *s = J(CPU_UTIL(50)),
               *p = J("[{\"metadata\":{\"name\":\"a\"},\"spec\":{\"containers\":[{\"name\":\"c\"}]}"
                      "}]"),
               *m = J("{\"items\":[" PM("a", "10m") "]}");
        int64_t d;
        char *why = NULL;
        CHECK_EQ_INT(hpa_resource_metric(s, p, m, 1, &d, &cur, &why), -EINVAL);
        CHECK(why && strstr(why, "missing request for cpu in container c of Pod a"));
        free(why);
        json_decref(s);
        json_decref(p);
        json_decref(m);
        /* no metrics at all */
        d = propose(CPU_UTIL(50), "[" POD("a", "50m") "]", "{\"items\":[]}", 1, &rc, &cur);
        CHECK_EQ_INT(rc, -ENODATA);
        /* scale up (a: 400%) with b missing: b counts as 0 -> (200m + 0) / 100m = 200%,
         * ratio 4 over 2 pods -> 8 */
        d = propose(CPU_UTIL(50), "[" POD("a", "50m") "," POD("b", "50m") "]",
                    "{\"items\":[" PM("a", "200m") "]}", 2, &rc, &cur);
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(d, 8);
        json_decref(cur);
        /* scale down (a: 0%) with b missing: b counts at 100% of the target -> 25%, ratio 0.5
         * over 2 pods -> 1 */
        d = propose(CPU_UTIL(50), "[" POD("a", "100m") "," POD("b", "100m") "]",
                    "{\"items\":[" PM("a", "0") "]}", 2, &rc, &cur);
        CHECK_EQ_INT(d, 1);
        json_decref(cur);
}

TEST(average_value)
{
        int rc;
        json_t *cur = NULL;
        /* 3 pods using 300m in all vs 50m each: ceil(300 / 50) = 6 */
        int64_t d =
                propose("{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{"
                        "\"type\":\"AverageValue\",\"averageValue\":\"50m\"}}}",
                        "[" POD("a", "1") "," POD("b", "1") "," POD("c", "1") "]",
                        "{\"items\":[" PM("a", "100m") "," PM("b", "100m") "," PM("c", "100m") "]}",
                        3, &rc, &cur);
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(d, 6);
        CHECK_EQ_STR(kjson_str(cur, "resource.current.averageValue"), "100m");
        json_decref(cur);
}

TEST(rate_limit)
{
        json_t *hpa = J("{\"spec\":{}}"), *ev = J("[]");
        bool lim = false;
        /* defaults up: max(current + 4, 2 * current) per 15 s */
        CHECK_EQ_INT(hpa_rate_limit(hpa, ev, 1, 10, 1000, &lim), 5);
        CHECK(lim);
        lim = false;
        CHECK_EQ_INT(hpa_rate_limit(hpa, ev, 10, 50, 1000, &lim), 20);
        CHECK(lim);
        /* defaults down: 100% per 15 s, anything goes */
        lim = false;
        CHECK_EQ_INT(hpa_rate_limit(hpa, ev, 10, 1, 1000, &lim), 1);
        CHECK(!lim);
        json_decref(hpa);
        /* Pods 1 per 15 s down: one step, and none while a step is in the period */
        hpa = J("{\"spec\":{\"behavior\":{\"scaleDown\":{\"policies\":[{\"type\":\"Pods\","
                "\"value\":1,\"periodSeconds\":15}]}}}}");
        CHECK_EQ_INT(hpa_rate_limit(hpa, ev, 3, 0, 1000, &lim), 2);
        CHECK(lim);
        json_t *ev2 = J("[[995,-1]]");
        CHECK_EQ_INT(hpa_rate_limit(hpa, ev2, 2, 0, 1000, &lim), 2);
        CHECK_EQ_INT(hpa_rate_limit(hpa, ev2, 2, 0, 1010, &lim), 1); /* the step left the period */
        json_decref(ev2);
        json_decref(hpa);
        /* selectPolicy Disabled: no change */
        hpa = J("{\"spec\":{\"behavior\":{\"scaleUp\":{\"selectPolicy\":\"Disabled\"}}}}");
        CHECK_EQ_INT(hpa_rate_limit(hpa, ev, 2, 6, 1000, &lim), 2);
        json_decref(hpa);
        json_decref(ev);
}

int main(void)
{
        RUN(utilization);
        RUN(missing);
        RUN(average_value);
        RUN(rate_limit);
        return harness_done();
}
