/* test-meta.c — name rules, ObjectMeta validation causes, create/update bookkeeping. */
#include "api/meta.h"
#include "common/kjson.h"
#include "common/timefmt.h"
#include "harness.h"

TEST(dns_names)
{
        CHECK(meta_is_dns1123_label("a"));
        CHECK(meta_is_dns1123_label("my-name-1"));
        CHECK(meta_is_dns1123_label("123-abc"));
        CHECK(!meta_is_dns1123_label(""));
        CHECK(!meta_is_dns1123_label("-a"));
        CHECK(!meta_is_dns1123_label("a-"));
        CHECK(!meta_is_dns1123_label("A"));
        CHECK(!meta_is_dns1123_label("a.b"));
        CHECK(!meta_is_dns1123_label(NULL));
        char l63[65];
        memset(l63, 'a', 64);
        l63[63] = 0;
        CHECK(meta_is_dns1123_label(l63));
        l63[63] = 'a';
        l63[64] = 0;
        CHECK(!meta_is_dns1123_label(l63));
        CHECK(meta_is_dns1123_subdomain("example.com"));
        CHECK(meta_is_dns1123_subdomain("a"));
        CHECK(!meta_is_dns1123_subdomain("a..b"));
        CHECK(!meta_is_dns1123_subdomain(".a"));
        CHECK(!meta_is_dns1123_subdomain("a_b"));
        CHECK(!meta_is_dns1123_subdomain("Bad_Name"));
        CHECK(meta_is_dns1035_label("svc-1"));
        CHECK(!meta_is_dns1035_label("1svc"));
        CHECK(meta_is_qualified_name("app"));
        CHECK(meta_is_qualified_name("example.com/App_Name.x"));
        CHECK(!meta_is_qualified_name("/app"));
        CHECK(!meta_is_qualified_name("a/b/c"));
        CHECK(!meta_is_qualified_name("Example.com/x"));
        CHECK(!meta_is_qualified_name(""));
        CHECK(meta_is_label_value(""));
        CHECK(meta_is_label_value("v1.2_x-Y"));
        CHECK(!meta_is_label_value("-v"));
        CHECK(!meta_is_label_value("a b"));

        char buf[1024];
        CHECK(!meta_dns1123_subdomain_error("ok", buf, sizeof(buf)));
        CHECK(meta_dns1123_subdomain_error("Bad_Name", buf, sizeof(buf)));
        CHECK_EQ_STR(buf, META_DNS1123_SUBDOMAIN_MSG);
        CHECK_EQ_STR(buf, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                          "characters, '-' or '.', and must start and end with an alphanumeric "
                          "character (e.g. 'example.com', regex used for validation is "
                          "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
        CHECK(meta_dns1123_label_error("a.b", buf, sizeof(buf)));
        CHECK_EQ_STR(buf, "must not contain dots");
        CHECK(meta_qualified_name_error("", buf, sizeof(buf)));
        CHECK(!strncmp(buf, "name part must be non-empty; name part must consist of", 54));
        CHECK(meta_qualified_name_error("/x", buf, sizeof(buf)));
        CHECK_EQ_STR(buf, "prefix part must be non-empty");
}

static json_t *causes_of(const char *obj_json, bool namespaced, bool is_label)
{
        json_t *o = json_loads(obj_json, 0, NULL);
        json_t *c = json_array();
        meta_validate_object_meta(o, namespaced, is_label, c);
        json_decref(o);
        return c;
}

TEST(validate_names)
{
        json_t *c = causes_of("{\"metadata\":{\"name\":\"Bad_Name\",\"namespace\":\"default\"}}",
                              true, false);
        CHECK_EQ_INT(json_array_size(c), 1);
        json_t *c0 = json_array_get(c, 0);
        CHECK_EQ_STR(kjson_str(c0, "reason"), "FieldValueInvalid");
        CHECK_EQ_STR(kjson_str(c0, "field"), "metadata.name");
        CHECK_EQ_STR(kjson_str(c0, "message"),
                     "Invalid value: \"Bad_Name\": " META_DNS1123_SUBDOMAIN_MSG);
        char *m = meta_causes_message("Pod", "Bad_Name", c);
        CHECK_EQ_STR(m, "Pod \"Bad_Name\" is invalid: metadata.name: Invalid value: "
                        "\"Bad_Name\": " META_DNS1123_SUBDOMAIN_MSG);
        free(m);
        json_decref(c);

        c = causes_of("{\"metadata\":{}}", true, false);
        CHECK_EQ_INT(json_array_size(c), 2);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "message"),
                     "Required value: name or generateName is required");
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "reason"), "FieldValueRequired");
        CHECK_EQ_STR(kjson_str(json_array_get(c, 1), "field"), "metadata.namespace");
        CHECK_EQ_STR(kjson_str(json_array_get(c, 1), "message"), "Required value");
        m = meta_causes_message("Pod", "", c);
        CHECK_EQ_STR(m, "Pod \"\" is invalid: [metadata.name: Required value: name or generateName "
                        "is required, metadata.namespace: Required value]");
        free(m);
        json_decref(c);

        /* cluster-scoped with a namespace; label-style names; generateName with trailing dash */
        c = causes_of("{\"metadata\":{\"name\":\"a.b\",\"namespace\":\"x\"}}", false, true);
        CHECK_EQ_INT(json_array_size(c), 2);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "message"),
                     "Invalid value: \"a.b\": must not contain dots");
        CHECK_EQ_STR(kjson_str(json_array_get(c, 1), "message"),
                     "Forbidden: not allowed on this type");
        json_decref(c);
        c = causes_of("{\"metadata\":{\"generateName\":\"web-\",\"name\":\"web-x2b4k\","
                      "\"namespace\":\"default\"}}",
                      true, false);
        CHECK_EQ_INT(json_array_size(c), 0);
        json_decref(c);
        /* per-kind rules */
        json_t *o = json_pack("{s:{s:s}}", "metadata", "name", "system:controller:x");
        c = json_array();
        meta_validate_object_meta_rule(o, false, META_NAME_PATH_SEGMENT, c);
        CHECK_EQ_INT(json_array_size(c), 0);
        meta_validate_object_meta_rule(o, false, META_NAME_SUBDOMAIN, c);
        CHECK_EQ_INT(json_array_size(c), 1);
        json_decref(c);
        json_object_set_new(json_object_get(o, "metadata"), "name", json_string("a/b"));
        c = json_array();
        meta_validate_object_meta_rule(o, false, META_NAME_PATH_SEGMENT, c);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "message"),
                     "Invalid value: \"a/b\": may not contain '/'");
        json_decref(c);
        json_object_set_new(json_object_get(o, "metadata"), "name", json_string("1svc"));
        c = json_array();
        meta_validate_object_meta_rule(o, false, META_NAME_DNS1035, c);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "message"),
                     "Invalid value: \"1svc\": a DNS-1035 label must consist of lower case "
                     "alphanumeric characters or '-', start with an alphabetic character, and end "
                     "with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used "
                     "for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')");
        json_decref(c);
        json_decref(o);

        c = causes_of("{\"metadata\":{\"name\":\"ok\",\"namespace\":\"Bad.NS\"}}", true, false);
        CHECK_EQ_INT(json_array_size(c), 1);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "field"), "metadata.namespace");
        json_decref(c);
}

TEST(validate_labels_annotations)
{
        json_t *c = causes_of("{\"metadata\":{\"name\":\"ok\",\"namespace\":\"d\",\"labels\":"
                              "{\"app\":\"web\",\"bad key\":\"v\",\"k\":\"-bad\",\"n\":5},"
                              "\"annotations\":{\"Example.com/Note\":\"anything at all\"}}}",
                              true, false);
        CHECK_EQ_INT(json_array_size(c), 3);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "field"), "metadata.labels");
        CHECK(!strncmp(kjson_str(json_array_get(c, 0), "message"),
                       "Invalid value: \"bad key\": name part must consist of", 51));
        CHECK(!strncmp(kjson_str(json_array_get(c, 1), "message"),
                       "Invalid value: \"-bad\": a valid label must be an empty string", 58));
        CHECK_EQ_STR(kjson_str(json_array_get(c, 2), "message"),
                     "Invalid value: 5: must be a string");
        json_decref(c);

        /* annotation total size */
        json_t *o = json_pack("{s:{s:s,s:s}}", "metadata", "name", "ok", "namespace", "d");
        json_t *ann = kjson_obj_ensure(kjson_get(o, "metadata"), "annotations");
        char *big = xmalloc(200 * 1024);
        memset(big, 'x', 200 * 1024 - 1);
        big[200 * 1024 - 1] = 0;
        json_object_set_new(ann, "a", json_string(big));
        json_object_set_new(ann, "b", json_string(big));
        free(big);
        c = json_array();
        meta_validate_object_meta(o, true, false, c);
        CHECK_EQ_INT(json_array_size(c), 1);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "reason"), "FieldValueTooLong");
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "message"),
                     "Too long: may not be more than 262144 bytes");
        json_decref(c);
        json_decref(o);
}

TEST(validate_owner_refs_finalizers)
{
        json_t *c = causes_of(
                "{\"metadata\":{\"name\":\"ok\",\"namespace\":\"d\",\"ownerReferences\":["
                "{\"apiVersion\":\"apps/"
                "v1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\",\"uid\":\"u1\","
                "\"controller\":true},"
                "{\"apiVersion\":\"apps/\",\"kind\":\"ReplicaSet\",\"name\":\"rs2\",\"uid\":\"u2\","
                "\"controller\":true}],"
                "\"finalizers\":[\"example.com/f\",\"bad "
                "finalizer\",\"orphan\",\"foregroundDeletion\"]}}",
                true, false);
        CHECK_EQ_INT(json_array_size(c), 4);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "field"),
                     "metadata.ownerReferences.apiVersion");
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "message"),
                     "Invalid value: \"apps/\": version must not be empty");
        CHECK(strstr(kjson_str(json_array_get(c, 1), "message"),
                     "Only one reference can have Controller set to true. Found \"true\" in "
                     "references for ReplicaSet/rs and ReplicaSet/rs2") != NULL);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 2), "field"), "metadata.finalizers");
        CHECK(!strncmp(kjson_str(json_array_get(c, 2), "message"),
                       "Invalid value: \"bad finalizer\"", 30));
        CHECK(strstr(kjson_str(json_array_get(c, 3), "message"), "cannot be both set") != NULL);
        json_decref(c);
}

TEST(prepare_create)
{
        json_t *o = json_pack("{s:s,s:{s:s,s:s,s:s},s:{s:s}}", "kind", "Pod", "metadata",
                              "generateName", "web-", "resourceVersion", "99", "deletionTimestamp",
                              "2020-01-01T00:00:00Z", "spec", "x", "y");
        meta_prepare_create(o, "default");
        const char *name = kjson_str(o, "metadata.name");
        CHECK(name && strlen(name) == 9 && !strncmp(name, "web-", 4));
        for (const char *p = name + 4; p && *p; p++)
                CHECK(strchr("bcdfghjklmnpqrstvwxz2456789", *p) != NULL);
        const char *uid = kjson_str(o, "metadata.uid");
        CHECK(uid && strlen(uid) == 36 && uid[14] == '4' && strchr("89ab", uid[19]));
        CHECK_EQ_STR(kjson_str(o, "metadata.namespace"), "default");
        CHECK_EQ_INT(kjson_int(o, "metadata.generation", 0), 1);
        CHECK(kjson_get(o, "metadata.resourceVersion") == NULL);
        CHECK(kjson_get(o, "metadata.deletionTimestamp") == NULL);
        struct timespec ts;
        CHECK_EQ_INT(timefmt_parse_rfc3339(kjson_str(o, "metadata.creationTimestamp"), &ts), 0);
        CHECK(ts.tv_sec > 1700000000);
        json_t *c = json_array();
        meta_validate_object_meta(o, true, false, c);
        CHECK_EQ_INT(json_array_size(c), 0);
        json_decref(c);

        /* an explicit name wins over generateName; long generateName truncated */
        json_t *p = json_pack("{s:{s:s,s:s}}", "metadata", "name", "fixed", "generateName", "g-");
        meta_prepare_create(p, NULL);
        CHECK_EQ_STR(kjson_str(p, "metadata.name"), "fixed");
        CHECK(kjson_get(p, "metadata.namespace") == NULL);
        json_decref(p);
        char longgen[80];
        memset(longgen, 'a', 79);
        longgen[79] = 0;
        p = json_pack("{s:{s:s}}", "metadata", "generateName", longgen);
        meta_prepare_create(p, NULL);
        CHECK_EQ_INT(strlen(kjson_str(p, "metadata.name")), 63);
        json_decref(p);
        /* uids differ */
        char u1[37], u2[37];
        meta_uid_new(u1);
        meta_uid_new(u2);
        CHECK(strcmp(u1, u2) != 0);
        json_decref(o);
}

TEST(prepare_update)
{
        json_t *old = json_pack("{s:{s:s,s:s,s:s,s:I,s:s},s:{s:i},s:{s:s}}", "metadata", "name",
                                "a", "uid", "u-1", "creationTimestamp", "2026-01-01T00:00:00Z",
                                "generation", (json_int_t)3, "resourceVersion", "5", "spec",
                                "replicas", 1, "status", "phase", "x");
        /* status/metadata-only change: generation kept */
        json_t *n1 = json_pack("{s:{s:s,s:{s:s}},s:{s:i},s:{s:s}}", "metadata", "name", "a",
                               "labels", "k", "v", "spec", "replicas", 1, "status", "phase", "y");
        meta_prepare_update(n1, old);
        CHECK_EQ_INT(kjson_int(n1, "metadata.generation", 0), 3);
        CHECK_EQ_STR(kjson_str(n1, "metadata.uid"), "u-1");
        CHECK_EQ_STR(kjson_str(n1, "metadata.creationTimestamp"), "2026-01-01T00:00:00Z");
        json_t *c = json_array();
        meta_validate_object_meta_update(n1, old, c);
        CHECK_EQ_INT(json_array_size(c), 0);
        json_decref(c);
        /* spec change: generation bumped */
        json_t *n2 = json_pack("{s:{s:s,s:I},s:{s:i}}", "metadata", "name", "a", "generation",
                               (json_int_t)1, "spec", "replicas", 2);
        meta_prepare_update(n2, old);
        CHECK_EQ_INT(kjson_int(n2, "metadata.generation", 0), 4);
        CHECK(meta_spec_changed(n2, old));
        CHECK(!meta_spec_changed(n1, old));
        /* immutable fields */
        json_t *n3 = json_pack("{s:{s:s,s:s},s:{s:i}}", "metadata", "name", "b", "uid", "u-2",
                               "spec", "replicas", 1);
        meta_prepare_update(n3, old);
        CHECK_EQ_STR(kjson_str(n3, "metadata.uid"), "u-2");
        c = json_array();
        meta_validate_object_meta_update(n3, old, c);
        CHECK_EQ_INT(json_array_size(c), 2);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "field"), "metadata.name");
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "message"),
                     "Invalid value: \"b\": field is immutable");
        CHECK_EQ_STR(kjson_str(json_array_get(c, 1), "field"), "metadata.uid");
        json_decref(c);
        /* being deleted: no new finalizers, deletionTimestamp kept */
        json_object_set_new(kjson_get(old, "metadata"), "deletionTimestamp",
                            json_string("2026-02-01T00:00:00Z"));
        json_t *n4 = json_pack("{s:{s:s,s:[s]},s:{s:i}}", "metadata", "name", "a", "finalizers",
                               "x/y", "spec", "replicas", 1);
        meta_prepare_update(n4, old);
        CHECK_EQ_STR(kjson_str(n4, "metadata.deletionTimestamp"), "2026-02-01T00:00:00Z");
        c = json_array();
        meta_validate_object_meta_update(n4, old, c);
        CHECK_EQ_INT(json_array_size(c), 1);
        CHECK_EQ_STR(kjson_str(json_array_get(c, 0), "message"),
                     "Forbidden: no new finalizers can be added if the object is being deleted, "
                     "found new finalizers []string{\"x/y\"}");
        json_decref(c);
        json_decref(n1);
        json_decref(n2);
        json_decref(n3);
        json_decref(n4);
        json_decref(old);
}

int main(void)
{
        RUN(dns_names);
        RUN(validate_names);
        RUN(validate_labels_annotations);
        RUN(validate_owner_refs_finalizers);
        RUN(prepare_create);
        RUN(prepare_update);
        return harness_done();
}
