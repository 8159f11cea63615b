/* test-endpoints.c — the pure parts of the Endpoints/EndpointSlice controllers (endpoints.h).
 * Expectations from Kubernetes: podutil.FindPort (named targetPort resolved per pod, protocol
 * must match), ShouldPodBeInEndpoints (no IP, terminal phase, terminating), Endpoints subsets
 * with notReadyAddresses and publishNotReadyAddresses, EndpointSlice conditions
 * (ready = serving && !terminating unless publishNotReadyAddresses) and maxEndpointsPerSlice. */
#include "../harness.h"

#include <stdio.h>

#include "controllers/endpoints.h"

static json_t *J(const char *s)
{
        json_error_t e;
        json_t *j = json_loads(s, 0, &e);
        if (!j)
                printf("# bad JSON in test: %s\n", e.text);
        return j;
}

static json_t *pod(const char *name, const char *ip, bool ready, const char *extra_meta)
{
        char buf[2048];
        snprintf(buf, sizeof(buf),
                 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"uid\":\"u-%s\","
                 "\"labels\":{\"app\":\"web\"}%s},"
                 "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"ports\":["
                 "{\"name\":\"http\",\"containerPort\":8080},"
                 "{\"name\":\"dns\",\"containerPort\":5353,\"protocol\":\"UDP\"}]}]},"
                 "\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\",\"conditions\":[{\"type\":"
                 "\"Ready\",\"status\":\"%s\"}]}}",
                 name, name, extra_meta ? extra_meta : "", ip, ready ? "True" : "False");
        return J(buf);
}

static const char *SVC = "{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns\"},\"spec\":{"
                         "\"selector\":{\"app\":\"web\"},\"ports\":["
                         "{\"name\":\"http\",\"port\":80,\"targetPort\":\"http\"}]}}";

TEST(port_resolve)
{
        json_t *p = pod("a", "10.0.0.1", true, NULL);
        json_t *sp = J("{\"port\":80,\"targetPort\":\"http\"}");
        CHECK_EQ_INT(endpoints_port_resolve(p, sp), 8080);
        json_decref(sp);
        sp = J("{\"port\":53,\"targetPort\":\"dns\"}"); /* TCP by default: the UDP port misses */
        CHECK_EQ_INT(endpoints_port_resolve(p, sp), -1);
        json_decref(sp);
        sp = J("{\"port\":53,\"protocol\":\"UDP\",\"targetPort\":\"dns\"}");
        CHECK_EQ_INT(endpoints_port_resolve(p, sp), 5353);
        json_decref(sp);
        sp = J("{\"port\":81,\"targetPort\":9000}");
        CHECK_EQ_INT(endpoints_port_resolve(p, sp), 9000);
        json_decref(sp);
        sp = J("{\"port\":82}");
        CHECK_EQ_INT(endpoints_port_resolve(p, sp), 82);
        json_decref(sp);
        sp = J("{\"port\":83,\"targetPort\":\"nosuch\"}");
        CHECK_EQ_INT(endpoints_port_resolve(p, sp), -1);
        json_decref(sp);
        json_decref(p);
}

TEST(pod_selection)
{
        json_t *svc = J(SVC);
        json_t *p = pod("a", "10.0.0.1", true, NULL);
        CHECK(endpoints_pod_selected(svc, p, false));
        json_t *noip = pod("b", "", true, NULL);
        CHECK(!endpoints_pod_selected(svc, noip, false));
        json_t *del = pod("c", "10.0.0.3", true, ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"");
        CHECK(!endpoints_pod_selected(svc, del, false));
        CHECK(endpoints_pod_selected(svc, del, true));
        json_t *other = J("{\"metadata\":{\"name\":\"x\",\"namespace\":\"ns\",\"labels\":{\"app\":"
                          "\"db\"}},\"status\":{\"podIP\":\"10.0.0.9\"}}");
        CHECK(!endpoints_pod_selected(svc, other, false));
        json_t *done = J("{\"metadata\":{\"name\":\"y\",\"namespace\":\"ns\",\"labels\":{\"app\":"
                         "\"web\"}},\"status\":{\"podIP\":\"10.0.0.8\",\"phase\":\"Succeeded\"}}");
        CHECK(!endpoints_pod_selected(svc, done, false));
        json_t *nosel = J("{\"metadata\":{\"name\":\"s\",\"namespace\":\"ns\"},\"spec\":{}}");
        CHECK(!endpoints_service_has_selector(nosel));
        CHECK(!endpoints_pod_selected(nosel, p, false));
        json_decref(nosel);
        json_decref(done);
        json_decref(other);
        json_decref(del);
        json_decref(noip);
        json_decref(p);
        json_decref(svc);
}

TEST(subsets)
{
        json_t *svc = J(SVC);
        json_t *pods = json_array();
        json_array_append_new(pods, pod("b", "10.0.0.2", true, NULL));
        json_array_append_new(pods, pod("a", "10.0.0.1", true, NULL));
        json_array_append_new(pods, pod("c", "10.0.0.3", false, NULL));
        json_t *s = endpoints_subsets_build(svc, pods);
        CHECK_EQ_INT(json_array_size(s), 1);
        json_t *sub = json_array_get(s, 0);
        json_t *addrs = json_object_get(sub, "addresses");
        CHECK_EQ_INT(json_array_size(addrs), 2);
        CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(addrs, 0), "ip")),
                     "10.0.0.1");
        CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(addrs, 0), "nodeName")),
                     "n1");
        json_t *ref = json_object_get(json_array_get(addrs, 0), "targetRef");
        CHECK_EQ_STR(json_string_value(json_object_get(ref, "kind")), "Pod");
        CHECK_EQ_STR(json_string_value(json_object_get(ref, "name")), "a");
        json_t *nr = json_object_get(sub, "notReadyAddresses");
        CHECK_EQ_INT(json_array_size(nr), 1);
        CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(nr, 0), "ip")), "10.0.0.3");
        json_t *port = json_array_get(json_object_get(sub, "ports"), 0);
        CHECK_EQ_INT(json_integer_value(json_object_get(port, "port")), 8080);
        CHECK_EQ_STR(json_string_value(json_object_get(port, "name")), "http");
        CHECK_EQ_STR(json_string_value(json_object_get(port, "protocol")), "TCP");
        json_decref(s);
        /* publishNotReadyAddresses: every pod is an address */
        json_object_set_new(json_object_get(svc, "spec"), "publishNotReadyAddresses", json_true());
        s = endpoints_subsets_build(svc, pods);
        CHECK_EQ_INT(json_array_size(json_object_get(json_array_get(s, 0), "addresses")), 3);
        CHECK(json_object_get(json_array_get(s, 0), "notReadyAddresses") == NULL);
        json_decref(s);
        /* nothing selected: no subsets */
        json_t *none = json_array();
        s = endpoints_subsets_build(svc, none);
        CHECK_EQ_INT(json_array_size(s), 0);
        json_decref(s);
        json_decref(none);
        json_decref(pods);
        json_decref(svc);
}

TEST(subsets_by_port_set)
{
        /* a pod without the named port is left out of that port's set: two subsets */
        json_t *svc = J(SVC);
        json_t *pods = json_array();
        json_array_append_new(pods, pod("a", "10.0.0.1", true, NULL));
        json_array_append_new(
                pods, J("{\"metadata\":{\"name\":\"z\",\"namespace\":\"ns\",\"uid\":\"u\","
                        "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                        "\"ports\":[{\"name\":\"http\",\"containerPort\":9090}]}]},"
                        "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.9\",\"conditions\":"
                        "[{\"type\":\"Ready\",\"status\":\"True\"}]}}"));
        json_t *s = endpoints_subsets_build(svc, pods);
        CHECK_EQ_INT(json_array_size(s), 2);
        json_decref(s);
        json_decref(pods);
        json_decref(svc);
}

TEST(slices)
{
        json_t *svc = J(SVC);
        json_t *pods = json_array();
        char name[16], ip[32];
        for (int i = 0; i < 250; i++) {
                snprintf(name, sizeof(name), "p%03d", i);
                snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 200, i % 200 + 1);
                json_array_append_new(pods, pod(name, ip, i % 2 == 0, NULL));
        }
        json_array_append_new(pods, pod("t", "10.9.9.9", true,
                                        ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\""));
        json_t *g = endpoints_slices_build(svc, pods, ENDPOINTSLICE_MAX);
        CHECK_EQ_INT(json_array_size(g), 3); /* 251 endpoints: 100 + 100 + 51 */
        CHECK_EQ_INT(json_array_size(json_object_get(json_array_get(g, 0), "endpoints")), 100);
        CHECK_EQ_INT(json_array_size(json_object_get(json_array_get(g, 2), "endpoints")), 51);
        json_t *e0 = json_array_get(json_object_get(json_array_get(g, 0), "endpoints"), 0);
        CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(e0, "addresses"), 0)),
                     "10.0.0.1");
        json_t *c0 = json_object_get(e0, "conditions");
        CHECK(json_is_true(json_object_get(c0, "ready")));
        CHECK(json_is_true(json_object_get(c0, "serving")));
        CHECK(json_is_false(json_object_get(c0, "terminating")));
        json_t *e1 = json_array_get(json_object_get(json_array_get(g, 0), "endpoints"), 1);
        CHECK(json_is_false(json_object_get(json_object_get(e1, "conditions"), "ready")));
        /* the terminating pod (sorted last, "t") is there: serving but not ready */
        json_t *last = json_array_get(json_object_get(json_array_get(g, 2), "endpoints"), 50);
        CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(last, "targetRef"), "name")),
                     "t");
        json_t *cl = json_object_get(last, "conditions");
        CHECK(json_is_false(json_object_get(cl, "ready")));
        CHECK(json_is_true(json_object_get(cl, "serving")));
        CHECK(json_is_true(json_object_get(cl, "terminating")));
        json_t *port = json_array_get(json_object_get(json_array_get(g, 0), "ports"), 0);
        CHECK_EQ_INT(json_integer_value(json_object_get(port, "port")), 8080);
        json_decref(g);
        /* nothing selected: one empty placeholder */
        json_t *none = json_array();
        g = endpoints_slices_build(svc, none, ENDPOINTSLICE_MAX);
        CHECK_EQ_INT(json_array_size(g), 1);
        CHECK_EQ_INT(json_array_size(json_object_get(json_array_get(g, 0), "endpoints")), 0);
        CHECK(json_is_null(json_object_get(json_array_get(g, 0), "ports")));
        json_decref(g);
        json_decref(none);
        json_decref(pods);
        json_decref(svc);
}

TEST(trigger_time)
{
        json_t *svc =
                J("{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns\",\"creationTimestamp\":"
                  "\"2026-01-01T00:00:00Z\"},\"spec\":{\"selector\":{\"app\":\"web\"}}}");
        json_t *pods = json_array();
        json_array_append_new(pods, pod("a", "10.0.0.1", true,
                                        ",\"creationTimestamp\":\"2026-01-02T03:04:05Z\""));
        char *t = endpoints_trigger_time(svc, pods);
        CHECK_EQ_STR(t, "2026-01-02T03:04:05Z");
        free(t);
        json_decref(pods);
        json_decref(svc);
}

int main(void)
{
        RUN(port_resolve);
        RUN(pod_selection);
        RUN(subsets);
        RUN(subsets_by_port_set);
        RUN(slices);
        RUN(trigger_time);
        return harness_done();
}
