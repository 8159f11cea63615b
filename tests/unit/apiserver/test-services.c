/* test-services.c — Service defaults, validation, cluster IP and node port allocation. */
#include "harness.h"

#include "apiserver/services.h"
#include "common/kjson.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        if (kjson_parse(s, strlen(s), 0, &j, NULL) < 0)
                return json_object();
        return j;
}

TEST(allocate)
{
        json_t *existing = J("[{\"metadata\":{\"uid\":\"a\"},\"spec\":{\"clusterIP\":\"10.43.1.0\","
                             "\"ports\":[{\"port\":80,\"nodePort\":30000}]}}]");
        json_t *svc =
                J("{\"metadata\":{\"name\":\"s\"},\"spec\":{\"type\":\"NodePort\","
                  "\"ports\":[{\"port\":80},{\"name\":\"b\",\"port\":81,\"nodePort\":30100}]}}");
        json_t *c = json_array();
        /* two ports need names */
        services_prepare_create(svc, existing, c);
        CHECK_EQ_INT(json_array_size(c), 1);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "field"), "spec.ports[0].name");
        json_array_clear(c);
        json_object_set_new(json_array_get(kjson_get(svc, "spec.ports"), 0), "name",
                            json_string("a"));
        services_prepare_create(svc, existing, c);
        CHECK_EQ_INT(json_array_size(c), 0);
        CHECK_EQ_STR(kjson_str(svc, "spec.clusterIP"), "10.43.1.1");
        CHECK_EQ_STR(kjson_str(svc, "spec.sessionAffinity"), "None");
        json_t *p0 = json_array_get(kjson_get(svc, "spec.ports"), 0);
        CHECK_EQ_INT(kjson_int(p0, "nodePort", 0), 30001);
        CHECK_EQ_INT(kjson_int(p0, "targetPort", 0), 80);
        CHECK_EQ_STR(kjson_str(p0, "protocol"), "TCP");
        CHECK_EQ_INT(kjson_int(json_array_get(kjson_get(svc, "spec.ports"), 1), "nodePort", 0),
                     30100);
        json_decref(svc);

        /* requested address: taken, outside the range, fine */
        svc = J("{\"metadata\":{\"name\":\"d\"},\"spec\":{\"clusterIP\":\"10.43.1.0\",\"ports\":[{"
                "\"port\":53}]}}");
        services_prepare_create(svc, existing, c);
        CHECK_EQ_INT(json_array_size(c), 1);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "field"), "spec.clusterIPs");
        json_decref(svc);
        json_array_clear(c);
        svc = J("{\"metadata\":{\"name\":\"d\"},\"spec\":{\"clusterIP\":\"10.99.0.1\",\"ports\":[{"
                "\"port\":53}]}}");
        services_prepare_create(svc, existing, c);
        CHECK_EQ_INT(json_array_size(c), 1);
        json_decref(svc);
        json_array_clear(c);
        svc = J("{\"metadata\":{\"name\":\"d\"},\"spec\":{\"clusterIP\":\"10.43.0.10\",\"ports\":[{"
                "\"port\":53}]}}");
        services_prepare_create(svc, existing, c);
        CHECK_EQ_INT(json_array_size(c), 0);
        CHECK_EQ_STR(json_string_value(json_array_get(kjson_get(svc, "spec.clusterIPs"), 0)),
                     "10.43.0.10");
        json_decref(svc);

        /* headless and ExternalName get no address; ports required otherwise */
        svc = J("{\"metadata\":{\"name\":\"h\"},\"spec\":{\"clusterIP\":\"None\"}}");
        services_prepare_create(svc, existing, c);
        CHECK_EQ_INT(json_array_size(c), 0);
        CHECK_EQ_STR(kjson_str(svc, "spec.clusterIP"), "None");
        json_decref(svc);
        svc = J("{\"metadata\":{\"name\":\"e\"},\"spec\":{\"type\":\"ExternalName\","
                "\"externalName\":\"x.org\"}}");
        services_prepare_create(svc, existing, c);
        CHECK_EQ_INT(json_array_size(c), 0);
        CHECK(!kjson_str(svc, "spec.clusterIP"));
        json_decref(svc);
        svc = J("{\"metadata\":{\"name\":\"n\"},\"spec\":{}}");
        services_prepare_create(svc, existing, c);
        CHECK_EQ_INT(json_array_size(c), 1);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "field"), "spec.ports");
        json_decref(svc);
        json_decref(c);
        json_decref(existing);
}

TEST(update)
{
        json_t *old =
                J("{\"metadata\":{\"uid\":\"a\"},\"spec\":{\"type\":\"NodePort\",\"clusterIP\":"
                  "\"10.43.1.0\","
                  "\"clusterIPs\":[\"10.43.1.0\"],\"ports\":[{\"port\":80,\"nodePort\":30000}]}}");
        json_t *existing = json_pack("[O]", old);
        json_t *svc = J("{\"metadata\":{\"name\":\"s\",\"uid\":\"a\"},\"spec\":{\"type\":"
                        "\"NodePort\",\"ports\":[{\"port\":80}]}}");
        json_t *c = json_array();
        services_prepare_update(svc, old, existing, c);
        CHECK_EQ_INT(json_array_size(c), 0);
        CHECK_EQ_STR(kjson_str(svc, "spec.clusterIP"), "10.43.1.0");
        CHECK_EQ_INT(kjson_int(json_array_get(kjson_get(svc, "spec.ports"), 0), "nodePort", 0),
                     30000);
        json_decref(svc);
        svc = J("{\"metadata\":{\"name\":\"s\",\"uid\":\"a\"},\"spec\":{\"clusterIP\":\"10.43.2."
                "2\",\"ports\":[{\"port\":80}]}}");
        services_prepare_update(svc, old, existing, c);
        CHECK_EQ_INT(json_array_size(c), 1);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "field"), "spec.clusterIPs[0]");
        json_decref(svc);
        json_decref(c);
        json_decref(existing);
        json_decref(old);
}

int main(void)
{
        RUN(allocate);
        RUN(update);
        return harness_done();
}
