/* test-fields.c — unknown fields at any depth, named as kube-apiserver's strict decoder does. */
#include "harness.h"

#include "api/fields.h"
#include "common/kjson.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        if (kjson_parse(s, strlen(s), 0, &j, NULL) < 0)
                return json_object();
        return j;
}

static char *joined(const json_t *a)
{
        char *out = xstrdup("");
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v)
        {
                char *n = xasprintf("%s%s%s", out, i ? "," : "", json_string_value(v));
                free(out);
                out = n;
        }
        return out;
}

TEST(deployment)
{
        json_t *d = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
                      "\"x\",\"labelz\":{}},\"spec\":{\"replica\":1,\"selector\":{\"matchLabels\":"
                      "{\"a\":\"b\"}},\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},"
                      "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"ports\":[{"
                      "\"containerPort\":80,\"proto\":\"TCP\"}]},{\"name\":\"d\",\"imagePolicy\":"
                      "\"x\"}]}},\"strategy\":{\"rollingUpdate\":{\"maxSurge\":\"25%\"}}},"
                      "\"status\":{},\"extra\":1}");
        json_t *out = json_array();
        CHECK_EQ_INT(fields_unknown("apps/v1", "Deployment", d, out, 32), 0);
        char *s = joined(out);
        CHECK_EQ_STR(s, "metadata.labelz,spec.replica,spec.template.spec.containers[0].ports[0]."
                        "proto,spec.template.spec.containers[1].imagePolicy,extra");
        free(s);
        json_decref(out);
        /* the cap */
        out = json_array();
        fields_unknown("apps/v1", "Deployment", d, out, 2);
        CHECK_EQ_INT(json_array_size(out), 2);
        json_decref(out);
        json_decref(d);
}

TEST(valid_and_inline)
{
        /* imagePullSecrets items embed LocalObjectReference (inline "name"); maps of strings
         * and IntOrString values are leaves */
        json_t *p = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                      "\"annotations\":{\"any.key/x\":\"v\"}},\"spec\":{\"imagePullSecrets\":[{"
                      "\"name\":\"reg\"}],\"containers\":[{\"name\":\"c\",\"image\":\"i\","
                      "\"resources\":{\"limits\":{\"cpu\":\"1\"}},\"readinessProbe\":{"
                      "\"httpGet\":{\"port\":\"http\",\"path\":\"/\"}}}],\"volumes\":[{\"name\":"
                      "\"v\",\"configMap\":{\"name\":\"cm\",\"items\":[{\"key\":\"k\",\"path\":"
                      "\"p\"}]}}]}}");
        json_t *out = json_array();
        CHECK_EQ_INT(fields_unknown("v1", "Pod", p, out, 32), 0);
        CHECK_EQ_INT(json_array_size(out), 0);
        json_decref(out);
        json_decref(p);
        json_t *cr = J("{\"roleRef\":{\"kind\":\"Role\",\"nme\":\"x\"},\"subjects\":[]}");
        out = json_array();
        CHECK_EQ_INT(fields_unknown("rbac.authorization.k8s.io/v1", "RoleBinding", cr, out, 32), 0);
        char *s = joined(out);
        CHECK_EQ_STR(s, "roleRef.nme");
        free(s);
        json_decref(out);
        json_decref(cr);
}

TEST(unknown_kind)
{
        json_t *o = J("{\"a\":1}");
        json_t *out = json_array();
        CHECK_EQ_INT(fields_unknown("example.com/v1", "Widget", o, out, 32), -ENOENT);
        CHECK(!fields_known_kind("example.com/v1", "Widget"));
        CHECK(fields_known_kind("batch/v1", "CronJob"));
        json_decref(out);
        json_decref(o);
}

TEST(openapi)
{
        json_t *schemas = json_object(), *names = json_object();
        char name[128];
        CHECK_EQ_INT(fields_openapi_schemas("apps", "v1", "Deployment", schemas, names, name,
                                            sizeof(name)),
                     0);
        CHECK_EQ_STR(name, "Deployment");
        CHECK_EQ_INT(fields_openapi_schemas("apps", "v1", "ReplicaSet", schemas, names, name,
                                            sizeof(name)),
                     0);
        json_t *d = json_object_get(schemas, "Deployment");
        CHECK_EQ_STR(
                kjson_str(json_array_get(json_object_get(d, "x-kubernetes-group-version-kind"), 0),
                          "kind"),
                "Deployment");
        json_t *spec = kjson_get(json_object_get(d, "properties"), "spec");
        CHECK_EQ_STR(kjson_str(json_array_get(json_object_get(spec, "allOf"), 0), "$ref"),
                     "#/components/schemas/DeploymentSpec");
        json_t *ds = json_object_get(schemas, "DeploymentSpec");
        CHECK_EQ_STR(kjson_str(ds, "properties.replicas.type"), "integer");
        CHECK_EQ_STR(kjson_str(ds, "properties.replicas.format"), "int32");
        /* one ObjectMeta shared by both kinds; maps and lists typed */
        CHECK(json_object_get(schemas, "ObjectMeta") && !json_object_get(schemas, "ObjectMeta2"));
        json_t *om = json_object_get(schemas, "ObjectMeta");
        CHECK_EQ_STR(kjson_str(om, "properties.labels.type"), "object");
        CHECK_EQ_STR(kjson_str(om, "properties.labels.additionalProperties.type"), "string");
        CHECK_EQ_STR(kjson_str(om, "properties.finalizers.items.type"), "string");
        CHECK_EQ_INT(fields_openapi_schemas("example.com", "v1", "Widget", schemas, names, name,
                                            sizeof(name)),
                     -ENOENT);
        json_decref(names);
        json_decref(schemas);
}

TEST(types)
{
        char buf[512];
        json_t *d = J("{\"spec\":{\"replicas\":\"two\"}}");
        CHECK(fields_type_error("apps/v1", "Deployment", d, buf, sizeof(buf)));
        CHECK_EQ_STR(buf, "json: cannot unmarshal string into Go struct field "
                          "DeploymentSpec.spec.replicas of type int32");
        json_decref(d);
        d = J("{\"spec\":{\"template\":{\"spec\":{\"containers\":{\"name\":\"c\"}}}}}");
        CHECK(fields_type_error("apps/v1", "Deployment", d, buf, sizeof(buf)));
        CHECK_EQ_STR(buf, "json: cannot unmarshal object into Go struct field "
                          "PodSpec.spec.template.spec.containers of type []v1.Container");
        json_decref(d);
        d = J("{\"metadata\":{\"labels\":{\"a\":true}}}");
        CHECK(fields_type_error("v1", "ConfigMap", d, buf, sizeof(buf)));
        CHECK_EQ_STR(buf, "json: cannot unmarshal bool into Go struct field "
                          "ObjectMeta.metadata.labels of type string");
        json_decref(d);
        d = J("{\"spec\":{\"replicas\":1.5}}");
        CHECK(fields_type_error("apps/v1", "Deployment", d, buf, sizeof(buf)));
        CHECK_EQ_STR(buf, "json: cannot unmarshal number 1.5 into Go struct field "
                          "DeploymentSpec.spec.replicas of type int32");
        json_decref(d);
        /* fits: IntOrString, quantities as numbers, nulls, inline reference names */
        d = J("{\"metadata\":{\"name\":\"x\",\"labels\":null},\"spec\":{\"strategy\":{"
              "\"rollingUpdate\":{\"maxSurge\":1,\"maxUnavailable\":\"10%\"}},\"template\":{"
              "\"spec\":{\"imagePullSecrets\":[{\"name\":\"r\"}],\"containers\":[{\"name\":"
              "\"c\",\"resources\":{\"limits\":{\"cpu\":1}}}]}}}}");
        CHECK(!fields_type_error("apps/v1", "Deployment", d, buf, sizeof(buf)));
        json_decref(d);
}

TEST(prune)
{
        json_t *j = J("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":"
                      "\"j\",\"x\":1},\"spec\":{\"template\":{\"spec\":{\"containers\":[{"
                      "\"name\":\"c\",\"bogus\":true}]}}},\"status\":{\"conditions\":[{"
                      "\"type\":\"Complete\",\"lastUpdateTime\":\"t\"}]}}");
        CHECK_EQ_INT(fields_prune("batch/v1", "Job", j), 3);
        CHECK(!kjson_get(j, "metadata.x"));
        CHECK_EQ_STR(kjson_str(j, "kind"), "Job");
        json_t *c = json_array_get(kjson_get(j, "status.conditions"), 0);
        CHECK(!json_object_get(c, "lastUpdateTime") && json_object_get(c, "type"));
        CHECK_EQ_INT(fields_prune("batch/v1", "Job", j), 0);
        CHECK_EQ_INT(fields_prune("x/v1", "Job", j), -ENOENT);
        json_decref(j);
}

int main(void)
{
        RUN(deployment);
        RUN(valid_and_inline);
        RUN(unknown_kind);
        RUN(openapi);
        RUN(types);
        RUN(prune);
        return harness_done();
}
