/* test-crd.c — CRD validation, structural schema validation/pruning/defaulting, served entries,
 * printer columns. Expected texts: k8s.io/kube-openapi pkg/validation/errors/schema.go and
 * apiextensions-apiserver pkg/apis/apiextensions/validation (not our output). */
#include "api/crd.h"

#include "common/kjson.h"
#include "harness.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        if (kjson_parse(s, strlen(s), 0, &j, NULL) < 0)
                return NULL;
        return j;
}

/* "field: message" of cause i, or "". */
static char buf[16384];
static const char *cause(const json_t *causes, size_t i)
{
        const json_t *c = json_array_get(causes, i);
        snprintf(buf, sizeof(buf), "%s: %s", kjson_str(c, "field") ? kjson_str(c, "field") : "",
                 kjson_str(c, "message") ? kjson_str(c, "message") : "");
        return buf;
}

static const char *SCHEMA =
        "{\"type\":\"object\",\"properties\":{"
        "\"spec\":{\"type\":\"object\",\"required\":[\"image\"],\"properties\":{"
        "\"cronSpec\":{\"type\":\"string\",\"pattern\":\"^(\\\\d+|\\\\*)(/\\\\d+)?(\\\\s+(\\\\d+|"
        "\\\\*)(/\\\\d+)?){4}$\"},"
        "\"image\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":20},"
        "\"replicas\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10,\"default\":1},"
        "\"mode\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"],\"default\":\"a\"},"
        "\"port\":{\"x-kubernetes-int-or-string\":true},"
        "\"tags\":{\"type\":\"array\",\"maxItems\":2,\"items\":{\"type\":\"object\","
        "\"properties\":{\"k\":{\"type\":\"string\",\"default\":\"x\"}}}},"
        "\"free\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true},"
        "\"labels\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
        "\"opt\":{\"type\":\"string\",\"nullable\":true}"
        "}},"
        "\"status\":{\"type\":\"object\",\"properties\":{\"replicas\":{\"type\":\"integer\"}}}"
        "}}";

static json_t *validate(const char *obj)
{
        json_t *s = J(SCHEMA), *o = J(obj), *causes = json_array();
        crd_schema_validate(s, o, causes);
        json_decref(s);
        json_decref(o);
        return causes;
}

TEST(validate_ok)
{
        json_t *c = validate("{\"apiVersion\":\"x.io/v1\",\"kind\":\"K\",\"metadata\":{\"name\":"
                             "\"a\"},\"spec\":{\"image\":\"img\",\"cronSpec\":\"* * * * */5\","
                             "\"replicas\":3,\"port\":\"http\",\"tags\":[{\"k\":\"v\"}],"
                             "\"labels\":{\"a\":\"b\"},\"opt\":null}}");
        CHECK_EQ_INT(json_array_size(c), 0);
        json_decref(c);
}

TEST(validate_messages)
{
        json_t *c = validate("{\"spec\":{\"image\":\"img\",\"replicas\":15}}");
        CHECK_EQ_INT(json_array_size(c), 1);
        CHECK_EQ_STR(cause(c, 0), "spec.replicas: Invalid value: 15: spec.replicas in body should "
                                  "be less than or equal to 10");
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "reason"), "FieldValueInvalid");
        json_decref(c);
        c = validate("{\"spec\":{\"image\":\"img\",\"replicas\":0}}");
        CHECK_EQ_STR(cause(c, 0), "spec.replicas: Invalid value: 0: spec.replicas in body should "
                                  "be greater than or equal to 1");
        json_decref(c);
        c = validate("{\"spec\":{\"image\":\"img\",\"replicas\":\"three\"}}");
        CHECK_EQ_INT(json_array_size(c), 1);
        CHECK_EQ_STR(cause(c, 0), "spec.replicas: Invalid value: \"string\": spec.replicas in body "
                                  "must be of type integer: \"string\"");
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "reason"), "FieldValueTypeInvalid");
        json_decref(c);
        c = validate("{\"spec\":{}}");
        CHECK_EQ_STR(cause(c, 0), "spec.image: Required value");
        json_decref(c);
        c = validate("{\"spec\":{\"image\":\"img\",\"mode\":\"c\"}}");
        CHECK_EQ_STR(cause(c, 0),
                     "spec.mode: Unsupported value: \"c\": supported values: \"a\", \"b\"");
        json_decref(c);
        c = validate("{\"spec\":{\"image\":\"x\"}}");
        CHECK_EQ_STR(cause(c, 0), "spec.image: Invalid value: \"x\": spec.image in body should be "
                                  "at least 2 chars long");
        json_decref(c);
        c = validate("{\"spec\":{\"image\":\"abcdefghijklmnopqrstuvwxyz\"}}");
        CHECK_EQ_STR(cause(c, 0), "spec.image: Too long: may not be longer than 20");
        json_decref(c);
        c = validate("{\"spec\":{\"image\":\"img\",\"cronSpec\":\"* * * *\"}}");
        CHECK_EQ_STR(cause(c, 0),
                     "spec.cronSpec: Invalid value: \"* * * *\": spec.cronSpec in body "
                     "should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'");
        json_decref(c);
        c = validate("{\"spec\":{\"image\":\"img\",\"tags\":[{},{},{}]}}");
        CHECK_EQ_STR(cause(c, 0), "spec.tags: Too many: 3: must have at most 2 items");
        json_decref(c);
        c = validate("{\"spec\":{\"image\":\"img\",\"port\":true}}");
        CHECK_EQ_STR(cause(c, 0),
                     "spec.port: Invalid value: \"boolean\": spec.port in body must be "
                     "of type integer,string: \"boolean\"");
        json_decref(c);
        c = validate("{\"spec\":{\"image\":\"img\",\"labels\":{\"a\":1}}}");
        CHECK_EQ_STR(cause(c, 0),
                     "spec.labels.a: Invalid value: \"integer\": spec.labels.a in body "
                     "must be of type string: \"integer\"");
        json_decref(c);
        c = validate("{\"spec\":{\"image\":\"img\",\"tags\":[{\"k\":5}]}}");
        CHECK_EQ_STR(cause(c, 0), "spec.tags[0].k: Invalid value: \"integer\": spec.tags[0].k in "
                                  "body must be of type string: \"integer\"");
        json_decref(c);
}

TEST(formats)
{
        json_t *s = J("{\"type\":\"object\",\"properties\":{\"t\":{\"type\":\"string\","
                      "\"format\":\"date-time\"},\"u\":{\"type\":\"string\",\"format\":"
                      "\"uuid\"},\"i\":{\"type\":\"string\",\"format\":\"ipv4\"},\"c\":{"
                      "\"type\":\"string\",\"format\":\"cidr\"},\"b\":{\"type\":\"string\","
                      "\"format\":\"byte\"},\"x\":{\"type\":\"string\",\"format\":\"fancy\"}}}");
        json_t *ok = J("{\"t\":\"2026-01-01T00:00:00Z\",\"u\":\"0f8fad5b-d9cb-469f-a165-"
                       "70867728950e\",\"i\":\"10.0.0.1\",\"c\":\"10.0.0.0/8\",\"b\":\"aGk=\","
                       "\"x\":\"anything\"}");
        json_t *bad = J("{\"t\":\"yesterday\",\"u\":\"nope\",\"i\":\"10.0.0.256\",\"c\":"
                        "\"10.0.0.0/33\",\"b\":\"a\"}");
        json_t *c = json_array();
        crd_schema_validate(s, ok, c);
        CHECK_EQ_INT(json_array_size(c), 0);
        crd_schema_validate(s, bad, c);
        CHECK_EQ_INT(json_array_size(c), 5);
        bool found = false;
        for (size_t i = 0; i < json_array_size(c); i++)
                found |= !strcmp(cause(c, i), "t: Invalid value: \"yesterday\": t in body must be "
                                              "of type date-time: \"yesterday\"");
        CHECK(found);
        json_decref(c);
        json_decref(bad);
        json_decref(ok);
        json_decref(s);
}

TEST(list_types)
{
        json_t *s = J("{\"type\":\"object\",\"properties\":{\"set\":{\"type\":\"array\","
                      "\"x-kubernetes-list-type\":\"set\",\"items\":{\"type\":\"string\"}},"
                      "\"m\":{\"type\":\"array\",\"x-kubernetes-list-type\":\"map\","
                      "\"x-kubernetes-list-map-keys\":[\"name\",\"port\"],\"items\":{\"type\":"
                      "\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"port\":{"
                      "\"type\":\"integer\",\"default\":80}}}}}}");
        json_t *o = J("{\"set\":[\"a\",\"b\",\"a\"],\"m\":[{\"name\":\"x\"},{\"name\":"
                      "\"x\",\"port\":81},{\"name\":\"x\",\"port\":80}]}");
        json_t *c = json_array();
        crd_schema_validate(s, o, c);
        CHECK_EQ_INT(json_array_size(c), 2);
        CHECK_EQ_STR(cause(c, 0), "set[2]: Duplicate value: \"a\"");
        CHECK_EQ_STR(cause(c, 1), "m[2]: Duplicate value: map[string]interface {}{\"name\":\"x\", "
                                  "\"port\":80}");
        json_decref(c);
        json_decref(o);
        json_decref(s);
}

TEST(prune)
{
        json_t *s = J(SCHEMA);
        json_t *o = J("{\"apiVersion\":\"x.io/v1\",\"kind\":\"K\",\"metadata\":{\"name\":\"a\"},"
                      "\"extra\":1,\"spec\":{\"image\":\"i\",\"bogus\":true,\"free\":{\"any\":"
                      "{\"x\":1}},\"tags\":[{\"k\":\"v\",\"z\":1}],\"labels\":{\"q\":\"r\"},"
                      "\"replicas\":null,\"opt\":null}}");
        json_t *unknown = json_array();
        crd_schema_prune(s, o, unknown, 32);
        CHECK_EQ_INT(json_array_size(unknown), 3);
        CHECK_EQ_STR(json_string_value(json_array_get(unknown, 0)), "extra");
        CHECK_EQ_STR(json_string_value(json_array_get(unknown, 1)), "spec.bogus");
        CHECK_EQ_STR(json_string_value(json_array_get(unknown, 2)), "spec.tags[0].z");
        CHECK(!kjson_get(o, "extra"));
        CHECK(!kjson_get(o, "spec.bogus"));
        CHECK(kjson_get(o, "spec.free.any.x"));
        CHECK(kjson_get(o, "metadata.name"));
        CHECK_EQ_STR(kjson_str(o, "spec.labels.q"), "r");
        CHECK(!kjson_get(o, "spec.replicas")); /* null, not nullable: dropped */
        CHECK(json_is_null(kjson_get(o, "spec.opt")));
        json_decref(unknown);
        json_decref(o);
        json_decref(s);
}

TEST(defaults)
{
        json_t *s = J(SCHEMA);
        json_t *o = J("{\"spec\":{\"image\":\"i\",\"mode\":\"b\",\"tags\":[{}]}}");
        crd_schema_default(s, o);
        CHECK_EQ_INT(kjson_int(o, "spec.replicas", 0), 1);
        CHECK_EQ_STR(kjson_str(o, "spec.mode"), "b");
        CHECK_EQ_STR(kjson_str(json_array_get(kjson_get(o, "spec.tags"), 0), "k"), "x");
        CHECK(!kjson_get(o, "status")); /* no default for the object itself */
        json_decref(o);
        json_decref(s);
}

static const char *CRD_FMT =
        "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
        "\"metadata\":{\"name\":\"crontabs.stable.example.com\"},\"spec\":{\"group\":"
        "\"stable.example.com\",\"scope\":\"Namespaced\",\"names\":{\"plural\":\"crontabs\","
        "\"kind\":\"CronTab\",\"shortNames\":[\"ct\"]},\"versions\":[{\"name\":\"v1\",\"served\":"
        "true,\"storage\":true,\"schema\":{\"openAPIV3Schema\":%s},\"subresources\":{\"status\":{},"
        "\"scale\":{\"specReplicasPath\":\".spec.replicas\",\"statusReplicasPath\":"
        "\".status.replicas\"}},\"additionalPrinterColumns\":[{\"name\":\"Spec\",\"type\":"
        "\"string\","
        "\"jsonPath\":\".spec.cronSpec\"},{\"name\":\"Replicas\",\"type\":\"integer\",\"jsonPath\":"
        "\".spec.replicas\"},{\"name\":\"Image\",\"type\":\"string\",\"priority\":1,\"jsonPath\":"
        "\".spec.image\"},{\"name\":\"Age\",\"type\":\"date\",\"jsonPath\":"
        "\".metadata.creationTimestamp\"}]},{\"name\":\"v1beta1\",\"served\":true,\"storage\":"
        "false,\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\","
        "\"x-kubernetes-preserve-unknown-fields\":true}}}]}}";

static json_t *crd_json(void)
{
        /* CRD_FMT with SCHEMA in place of its "%s" */
        char s[8192];
        const char *at = strstr(CRD_FMT, "%s");
        snprintf(s, sizeof(s), "%.*s%s%s", (int)(at - CRD_FMT), CRD_FMT, SCHEMA, at + 2);
        return J(s);
}

TEST(crd_defaults_and_valid)
{
        json_t *crd = crd_json();
        CHECK(crd != NULL);
        crd_defaults(crd);
        CHECK_EQ_STR(kjson_str(crd, "spec.names.singular"), "crontab");
        CHECK_EQ_STR(kjson_str(crd, "spec.names.listKind"), "CronTabList");
        CHECK_EQ_STR(kjson_str(crd, "spec.conversion.strategy"), "None");
        json_t *c = json_array();
        crd_validate(crd, c);
        CHECK_EQ_INT(json_array_size(c), 0);
        if (json_array_size(c))
                printf("# %s\n", cause(c, 0));
        json_decref(c);
        json_decref(crd);
}

static bool has_cause(const json_t *c, const char *want)
{
        for (size_t i = 0; i < json_array_size(c); i++)
                if (!strcmp(cause(c, i), want))
                        return true;
        for (size_t i = 0; i < json_array_size(c); i++)
                printf("# have: %s\n", cause(c, i));
        return false;
}

TEST(crd_invalid)
{
        json_t *crd = crd_json();
        crd_defaults(crd);
        kjson_set_str(crd, "metadata.name", "crontabs.example.com");
        kjson_set_str(crd, "spec.scope", "Global");
        json_object_set_new(json_array_get(kjson_get(crd, "spec.versions"), 1), "storage",
                            json_true());
        json_t *sch = kjson_get(json_array_get(kjson_get(crd, "spec.versions"), 0),
                                "schema.openAPIV3Schema");
        json_object_del(kjson_get(sch, "properties.spec.properties.image"), "type");
        json_object_set_new(kjson_get(sch, "properties.spec.properties.tags"), "uniqueItems",
                            json_true());
        json_object_set_new(kjson_get(sch, "properties.spec.properties.replicas"), "default",
                            json_string("one"));
        json_t *c = json_array();
        crd_validate(crd, c);
        CHECK(has_cause(c, "metadata.name: Invalid value: \"crontabs.example.com\": must be "
                           "spec.names.plural+\".\"+spec.group"));
        CHECK(has_cause(c, "spec.scope: Unsupported value: \"Global\": supported values: "
                           "\"Cluster\", \"Namespaced\""));
        CHECK(has_cause(c, "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties["
                           "image].type: Required value: must not be empty for specified object "
                           "fields"));
        CHECK(has_cause(c, "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties["
                           "tags].uniqueItems: Forbidden: uniqueItems cannot be set to true since "
                           "the runtime complexity becomes quadratic"));
        CHECK(has_cause(c, "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties["
                           "replicas].default: Invalid value: \"string\":  in body must be of type "
                           "integer: \"string\""));
        bool storage = false;
        for (size_t i = 0; i < json_array_size(c); i++)
                if (strstr(cause(c, i), "must have exactly one version marked as storage version"))
                        storage = true;
        CHECK(storage);
        json_decref(c);
        /* group, names */
        json_t *bad = J("{\"metadata\":{\"name\":\"foos.example\"},\"spec\":{\"group\":"
                        "\"example\",\"scope\":\"Cluster\",\"names\":{\"plural\":\"foos\","
                        "\"kind\":\"Foo\",\"listKind\":\"Foo\",\"singular\":\"foo\"},"
                        "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true}]}}");
        c = json_array();
        crd_validate(bad, c);
        CHECK(has_cause(c, "spec.group: Invalid value: \"example\": should be a domain with at "
                           "least one dot"));
        CHECK(has_cause(c, "spec.names.listKind: Invalid value: \"Foo\": kind and listKind may not "
                           "be the same"));
        CHECK(has_cause(c, "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are "
                           "required"));
        json_decref(c);
        json_decref(bad);
        /* a protected group needs the API review annotation */
        json_t *prot = crd_json();
        crd_defaults(prot);
        kjson_set_str(prot, "metadata.name", "crontabs.x.k8s.io");
        kjson_set_str(prot, "spec.group", "x.k8s.io");
        c = json_array();
        crd_validate(prot, c);
        CHECK(has_cause(c, "metadata.annotations[api-approved.kubernetes.io]: Required value: "
                           "protected groups must have approval annotation "
                           "\"api-approved.kubernetes.io\", see "
                           "https://github.com/kubernetes/enhancements/pull/1111"));
        json_decref(c);
        json_object_set_new(kjson_obj_ensure(kjson_obj_ensure(prot, "metadata"), "annotations"),
                            "api-approved.kubernetes.io", json_string("https://x"));
        c = json_array();
        crd_validate(prot, c);
        CHECK_EQ_INT(json_array_size(c), 0);
        json_decref(c);
        json_decref(prot);
        json_decref(crd);
}

TEST(registry)
{
        json_t *crd = crd_json();
        crd_defaults(crd);
        CHECK(crd_status_establish(crd, NULL, "2026-01-01T00:00:00Z"));
        CHECK(!crd_status_establish(crd, NULL, "2026-01-01T00:00:01Z"));
        /* a second CRD of the group asking for an accepted short name */
        json_t *other = crd_json();
        crd_defaults(other);
        kjson_set_str(other, "metadata.name", "bars.stable.example.com");
        kjson_set_str(other, "spec.names.plural", "bars");
        kjson_set_str(other, "spec.names.singular", "bar");
        kjson_set_str(other, "spec.names.kind", "Bar");
        kjson_set_str(other, "spec.names.listKind", "BarList");
        json_t *all = json_pack("[O,O]", crd, other);
        CHECK(crd_status_establish(other, all, "2026-01-01T00:00:00Z"));
        CHECK(!crd_is_established(other));
        json_t *conds = kjson_get(other, "status.conditions");
        CHECK_EQ_STR(kjson_str(json_array_get(conds, 0), "reason"), "ShortNamesConflict");
        CHECK_EQ_STR(kjson_str(json_array_get(conds, 0), "message"), "\"ct\" is already in use");
        CHECK_EQ_STR(kjson_str(json_array_get(conds, 1), "reason"), "NotAccepted");
        CHECK(!kjson_get(other, "status.acceptedNames.kind"));
        json_decref(all);
        json_decref(other);
        CHECK(crd_is_established(crd));
        CHECK_EQ_STR(kjson_str(crd, "status.acceptedNames.kind"), "CronTab");
        CHECK_EQ_STR(json_string_value(json_array_get(kjson_get(crd, "status.storedVersions"), 0)),
                     "v1");
        kjson_set_str(crd, "metadata.uid", "u1");
        kjson_set_str(crd, "metadata.resourceVersion", "5");
        json_t *arr = json_pack("[O]", crd);
        crd_registry_install(arr);
        const struct scheme_resource *r = scheme_lookup("stable.example.com", "v1", "crontabs");
        CHECK(r != NULL);
        if (!r)
                return;
        /* the same CRD again: the served entry is reused; a new resourceVersion: a new one */
        const void *first = r->custom;
        crd_registry_install(arr);
        r = scheme_lookup("stable.example.com", "v1", "crontabs");
        CHECK(r && r->custom == first);
        kjson_set_str(crd, "metadata.resourceVersion", "6");
        crd_registry_install(arr);
        r = scheme_lookup("stable.example.com", "v1", "crontabs");
        CHECK(r && r->custom != first);
        CHECK(scheme_lookup("stable.example.com", "v1beta1", "crontabs") != NULL);
        CHECK_EQ_STR(scheme_api_version(r), "stable.example.com/v1");
        CHECK(r->namespaced);
        CHECK_EQ_STR(r->short_names[0], "ct");
        char *key = scheme_key(r, "default", "a");
        CHECK_EQ_STR(key, "/registry/stable.example.com/crontabs/default/a");
        free(key);
        CHECK(scheme_subresource(r, "status") != NULL);
        CHECK(scheme_subresource(r, "scale") != NULL);
        CHECK(scheme_subresource(scheme_lookup("stable.example.com", "v1beta1", "crontabs"),
                                 "status") == NULL);
        const struct strategy *st = strategy_for(r);
        CHECK(st->generation);
        /* strategy: defaults and validation through the served entry */
        json_t *o = J("{\"apiVersion\":\"stable.example.com/v1\",\"kind\":\"CronTab\",\"metadata\":"
                      "{\"name\":\"a\",\"namespace\":\"default\"},\"spec\":{\"image\":\"img\"},"
                      "\"status\":{\"replicas\":4}}");
        strategy_prepare_create(st, r, o, "default");
        CHECK_EQ_INT(kjson_int(o, "spec.replicas", 0), 1);
        CHECK(!kjson_get(o, "status"));
        CHECK_EQ_INT(kjson_int(o, "metadata.generation", 0), 1);
        json_t *c = json_array();
        strategy_validate(st, r, o, c);
        CHECK_EQ_INT(json_array_size(c), 0);
        json_decref(c);
        kjson_set_path(o, "status.replicas", json_integer(2));
        json_t *scale = strategy_scale_get(st, o);
        CHECK_EQ_INT(kjson_int(scale, "spec.replicas", -1), 1);
        CHECK_EQ_INT(kjson_int(scale, "status.replicas", -1), 2);
        json_decref(scale);
        /* table: Name + the printer columns */
        json_t *cols = crd_table_columns(r);
        CHECK_EQ_INT(json_array_size(cols), 5);
        CHECK_EQ_STR(kjson_str(json_array_get(cols, 3), "name"), "Image");
        CHECK_EQ_INT(kjson_int(json_array_get(cols, 3), "priority", 0), 1);
        json_decref(cols);
        kjson_set_str(o, "metadata.creationTimestamp", "2026-01-01T00:00:00Z");
        kjson_set_str(o, "spec.cronSpec", "* * * * */5");
        json_t *cells = crd_table_cells(r, o, 1767225600 + 125);
        char *dump = kjson_dump(cells);
        CHECK_EQ_STR(dump, "[\"a\",\"* * * * */5\",1,\"img\",\"2m5s\"]");
        free(dump);
        json_decref(cells);
        /* the other version has no columns: Age */
        const struct scheme_resource *rb =
                scheme_lookup("stable.example.com", "v1beta1", "crontabs");
        cols = crd_table_columns(rb);
        CHECK_EQ_INT(json_array_size(cols), 2);
        CHECK_EQ_STR(kjson_str(json_array_get(cols, 1), "name"), "Age");
        CHECK_EQ_STR(kjson_str(json_array_get(cols, 1), "type"), "date");
        json_decref(cols);
        char name[128];
        json_t *oa = crd_openapi_schema(r, name, sizeof(name));
        CHECK_EQ_STR(name, "com.example.stable.v1.CronTab");
        CHECK_EQ_STR(
                kjson_str(json_array_get(json_object_get(oa, "x-kubernetes-group-version-kind"), 0),
                          "kind"),
                "CronTab");
        json_decref(oa);
        json_decref(o);
        /* deprecation: the default warning names the newest served non-deprecated version */
        CHECK(crd_served_deprecation(r) == NULL);
        json_t *vb = json_array_get(kjson_get(crd, "spec.versions"), 1);
        json_object_set_new(vb, "deprecated", json_true());
        json_array_append_new(
                kjson_get(crd, "spec.versions"),
                json_pack("{s:s,s:b,s:b}", "name", "v2alpha1", "served", 1, "storage", 0));
        kjson_set_str(crd, "metadata.resourceVersion", "7");
        crd_registry_install(arr);
        rb = scheme_lookup("stable.example.com", "v1beta1", "crontabs");
        CHECK_EQ_STR(crd_served_deprecation(rb), "stable.example.com/v1beta1 CronTab is "
                                                 "deprecated; use stable.example.com/v1 CronTab");
        json_object_set_new(vb, "deprecationWarning", json_string("gone soon"));
        kjson_set_str(crd, "metadata.resourceVersion", "8");
        crd_registry_install(arr);
        rb = scheme_lookup("stable.example.com", "v1beta1", "crontabs");
        CHECK_EQ_STR(crd_served_deprecation(rb), "gone soon");
        /* not established or deleting: not served */
        json_object_del(crd, "status");
        json_decref(arr);
        arr = json_pack("[O]", crd);
        crd_registry_install(arr);
        CHECK(scheme_lookup("stable.example.com", "v1", "crontabs") == NULL);
        json_decref(arr);
        json_decref(crd);
}

TEST(jsonpath)
{
        json_t *o = J("{\"status\":{\"conditions\":[{\"type\":\"A\",\"status\":\"False\"},"
                      "{\"type\":\"Ready\",\"status\":\"True\"}]},\"spec\":{\"a\":{\"b\":3}}}");
        CHECK_EQ_INT(json_integer_value(crd_jsonpath(o, ".spec.a.b")), 3);
        CHECK_EQ_STR(json_string_value(crd_jsonpath(o, ".status.conditions[1].type")), "Ready");
        CHECK_EQ_STR(json_string_value(
                             crd_jsonpath(o, ".status.conditions[?(@.type==\"Ready\")].status")),
                     "True");
        CHECK_EQ_STR(json_string_value(crd_jsonpath(o, "{.status.conditions[-1].status}")), "True");
        CHECK(crd_jsonpath(o, ".spec.x.y") == NULL);
        CHECK(crd_jsonpath(o, ".status.conditions[9]") == NULL);
        json_decref(o);
}

TEST(kind_schema)
{
        CHECK(crd_kind_schema() != NULL);
        json_t *crd = crd_json();
        crd_defaults(crd);
        json_object_set_new(json_object_get(crd, "spec"), "bogus", json_true());
        json_t *v0 = json_array_get(kjson_get(crd, "spec.versions"), 0);
        json_object_set_new(
                kjson_get(v0, "schema.openAPIV3Schema.properties.spec.properties.image"), "tpye",
                json_string("string"));
        json_t *paths = json_array();
        crd_schema_prune(crd_kind_schema(), crd, paths, 32);
        crd_schema_unknown_keys(crd, paths, 32);
        CHECK_EQ_INT(json_array_size(paths), 2);
        CHECK_EQ_STR(json_string_value(json_array_get(paths, 0)), "spec.bogus");
        CHECK_EQ_STR(json_string_value(json_array_get(paths, 1)),
                     "spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.image."
                     "tpye");
        CHECK(!kjson_get(crd, "spec.bogus"));
        /* everything else of a valid CRD is known */
        CHECK(kjson_get(v0, "additionalPrinterColumns") && kjson_get(v0, "subresources.scale"));
        CHECK_EQ_STR(kjson_str(crd, "spec.names.shortNames") ? "x" : "ok", "ok");
        CHECK(json_array_size(kjson_get(crd, "spec.names.shortNames")) == 1);
        json_decref(paths);
        char name[128];
        json_t *oa = crd_kind_openapi(name, sizeof(name));
        CHECK_EQ_STR(name, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."
                           "CustomResourceDefinition");
        CHECK(kjson_get(oa, "properties.spec.properties.names.properties.plural") != NULL);
        json_decref(oa);
        json_decref(crd);
}

int main(void)
{
        RUN(validate_ok);
        RUN(validate_messages);
        RUN(formats);
        RUN(list_types);
        RUN(prune);
        RUN(defaults);
        RUN(crd_defaults_and_valid);
        RUN(crd_invalid);
        RUN(registry);
        RUN(jsonpath);
        RUN(kind_schema);
        return harness_done();
}
