/* test-cni.c — the pure CNI config helpers: the cluster route every pod gets so that pods on
 * other nodes' bridges are reachable through the host (cni_conf_add_route). */
#include "../harness.h"

#include <jansson.h>

#include "kubelet/cni.h"

TEST(add_route)
{
        char *c = cni_conf_build("timonel", "tmnl0", "10.42.1.0/24", "/d/run/cni/networks");
        char *r = cni_conf_add_route(c, "10.42.0.0/16");
        json_t *j = json_loads(r, 0, NULL);
        CHECK(j != NULL);
        json_t *routes = json_object_get(json_object_get(j, "ipam"), "routes");
        CHECK_EQ_INT(json_array_size(routes), 1);
        CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(routes, 0), "dst")),
                     "10.42.0.0/16");
        /* the rest of the config is untouched: still no default route, same subnet */
        CHECK(json_is_false(json_object_get(j, "isDefaultGateway")));
        CHECK_EQ_STR(
                json_string_value(json_object_get(
                        json_array_get(
                                json_array_get(
                                        json_object_get(json_object_get(j, "ipam"), "ranges"), 0),
                                0),
                        "subnet")),
                "10.42.1.0/24");
        char *r2 = cni_conf_add_route(r, "10.99.0.0/16");
        json_t *j2 = json_loads(r2, 0, NULL);
        CHECK_EQ_INT(json_array_size(json_object_get(json_object_get(j2, "ipam"), "routes")), 2);
        json_decref(j);
        json_decref(j2);
        free(c);
        free(r);
        free(r2);
}

TEST(add_route_bad_conf)
{
        char *r = cni_conf_add_route("not json", "10.42.0.0/16");
        CHECK_EQ_STR(r, "not json");
        free(r);
        r = cni_conf_add_route("{\"type\":\"bridge\"}", "10.42.0.0/16");
        CHECK_EQ_STR(r, "{\"type\":\"bridge\"}");
        free(r);
}

int main(void)
{
        RUN(add_route);
        RUN(add_route_bad_conf);
        return harness_done();
}
