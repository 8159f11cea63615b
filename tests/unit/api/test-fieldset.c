/* test-fieldset.c — FieldsV1 sets, ToFieldSet, merge, compare (api/fieldset.h) and the field
 * manager (api/managedfields.h): expectations from structured-merge-diff and kube-apiserver. */
#include "api/fieldset.h"
#include "api/managedfields.h"
#include "common/kjson.h"
#include "harness.h"

static void test_list(const struct fieldset_schema *s, const char *path, const char *field,
                      const json_t *sample, struct fieldset_list_info *ret)
{
        if (!strcmp(field, "containers") || !strcmp(field, "env")) {
                ret->type = FIELDSET_LIST_MAP;
                ret->keys[0] = "name";
        } else if (!strcmp(field, "ports")) {
                ret->type = FIELDSET_LIST_MAP;
                ret->keys[0] = "containerPort";
                ret->keys[1] = "protocol";
                ret->defaults[1] = "\"TCP\"";
        } else if (!strcmp(field, "finalizers")) {
                ret->type = FIELDSET_LIST_SET;
        }
}

static bool test_atomic(const struct fieldset_schema *s, const char *path, const char *field)
{
        return !strcmp(field, "selector");
}

static bool test_value(const struct fieldset_schema *s, const char *path, const char *field)
{
        return !strcmp(field, "spec") || !strcmp(field, "metadata");
}

static const struct fieldset_schema schema = {
        .list = test_list, .atomic = test_atomic, .value_struct = test_value};

static json_t *J(const char *s)
{
        json_t *j = json_loads(s, 0, NULL);
        if (!j)
                printf("# bad JSON in test: %s\n", s);
        return j;
}

static bool same(const json_t *a, const char *want)
{
        _cleanup_(json_decrefp) json_t *w = J(want);
        if (json_equal((json_t *)a, w))
                return true;
        _cleanup_free_ char *d = kjson_dump(a);
        printf("# got  %s\n# want %s\n", d, want);
        return false;
}

TEST(to_fieldset)
{
        _cleanup_(json_decrefp) json_t *o = J(
                "{\"metadata\":{\"name\":\"d\",\"labels\":{\"app\":\"x\"},\"finalizers\":[\"a\"]},"
                "\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"x\"}},"
                "\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\","
                "\"ports\":[{\"containerPort\":80}],\"args\":[\"x\"],\"resources\":{}}]}}}}");
        _cleanup_(json_decrefp) json_t *s = NULL;
        struct error err = {0};
        CHECK_EQ_INT(fieldset_from_object(o, &schema, &s, &err), 0);
        CHECK(same(s, "{\"f:metadata\":{\"f:name\":{},\"f:labels\":{\"f:app\":{}},"
                      "\"f:finalizers\":{\"v:\\\"a\\\"\":{}}},"
                      "\"f:spec\":{\"f:replicas\":{},\"f:selector\":{},\"f:template\":{\"f:spec\":"
                      "{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{\".\":{},\"f:name\":{},"
                      "\"f:image\":{},\"f:ports\":{\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":"
                      "\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{}}},\"f:args\":{},"
                      "\"f:resources\":{}}}}}}}"));
        _cleanup_(json_decrefp) json_t *m = fieldset_members(s);
        CHECK_EQ_INT(json_array_size(m), 12);
        _cleanup_free_ char *p0 = fieldset_path_string(json_array_get(m, 0));
        CHECK_EQ_STR(p0, ".metadata.name");
        /* members of a level come before its children's */
        _cleanup_free_ char *p3 = fieldset_path_string(json_array_get(m, 1));
        CHECK_EQ_STR(p3, ".metadata.finalizers[=\"a\"]");
        _cleanup_free_ char *p6 = fieldset_path_string(json_array_get(m, json_array_size(m) - 2));
        CHECK_EQ_STR(p6, ".spec.template.spec.containers[name=\"c\"].ports[containerPort=80,"
                         "protocol=\"TCP\"]");
        _cleanup_free_ char *pl = fieldset_path_string(json_array_get(m, json_array_size(m) - 1));
        CHECK_EQ_STR(pl, ".spec.template.spec.containers[name=\"c\"].ports[containerPort=80,"
                         "protocol=\"TCP\"].containerPort");
        CHECK(fieldset_valid(s));
        _cleanup_(json_decrefp) json_t *bad = J("{\"x:y\":{}}");
        CHECK(!fieldset_valid(bad));
        _cleanup_(json_decrefp) json_t *bad2 = J("{\"k:notjson\":{}}");
        CHECK(!fieldset_valid(bad2));
        _cleanup_(json_decrefp) json_t *nokey =
                J("{\"spec\":{\"containers\":[{\"image\":\"i\"}]}}");
        _cleanup_(json_decrefp) json_t *s2 = NULL;
        CHECK_EQ_INT(fieldset_from_object(nokey, &schema, &s2, &err), -EINVAL);
}

TEST(algebra)
{
        _cleanup_(json_decrefp) json_t *a = J("{\"f:a\":{},\"f:b\":{\"f:c\":{},\"f:d\":{}}}");
        _cleanup_(json_decrefp) json_t *b = J("{\"f:b\":{\".\":{},\"f:c\":{}},\"f:e\":{}}");
        _cleanup_(json_decrefp) json_t *u = fieldset_union(a, b);
        CHECK(same(u, "{\"f:a\":{},\"f:b\":{\".\":{},\"f:c\":{},\"f:d\":{}},\"f:e\":{}}"));
        _cleanup_(json_decrefp) json_t *d = fieldset_difference(a, b);
        CHECK(same(d, "{\"f:a\":{},\"f:b\":{\"f:d\":{}}}"));
        _cleanup_(json_decrefp) json_t *i = fieldset_intersection(a, b);
        CHECK(same(i, "{\"f:b\":{\"f:c\":{}}}"));
        _cleanup_(json_decrefp) json_t *rd = fieldset_recursive_difference(a, b);
        CHECK(same(rd, "{\"f:a\":{}}"));
        _cleanup_(json_decrefp) json_t *e = fieldset_difference(a, a);
        CHECK(fieldset_empty(e));
}

TEST(merge_and_compare)
{
        _cleanup_(json_decrefp) json_t *live = J(
                "{\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"a\":\"1\",\"b\":\"2\"}}"
                ","
                "\"containers\":[{\"name\":\"c\",\"image\":\"old\",\"imagePullPolicy\":\"Always\","
                "\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],\"args\":[\"1\",\"2\"]},"
                "{\"name\":\"side\",\"image\":\"s\"}]},\"metadata\":{\"finalizers\":[\"x\"]}}");
        _cleanup_(json_decrefp) json_t *cfg = J(
                "{\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"1\"}},\"containers\":[{\"name\":"
                "\"c\",\"image\":\"new\",\"ports\":[{\"containerPort\":80,\"name\":\"http\"}],"
                "\"args\":[\"3\"]}]},\"metadata\":{\"finalizers\":[\"y\"]}}");
        _cleanup_(json_decrefp) json_t *m = fieldset_merge(live, cfg, &schema);
        CHECK(same(m, "{\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"a\":\"1\"}},"
                      "\"containers\":[{\"name\":\"c\",\"image\":\"new\",\"imagePullPolicy\":"
                      "\"Always\",\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\",\"name\":"
                      "\"http\"}],\"args\":[\"3\"]},{\"name\":\"side\",\"image\":\"s\"}]},"
                      "\"metadata\":{\"finalizers\":[\"x\",\"y\"]}}"));
        _cleanup_(json_decrefp) json_t *add = NULL;
        _cleanup_(json_decrefp) json_t *rem = NULL;
        _cleanup_(json_decrefp) json_t *mod = NULL;
        struct error err = {0};
        CHECK_EQ_INT(fieldset_compare(live, m, &schema, &add, &rem, &mod, &err), 0);
        CHECK(same(add,
                   "{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{\"f:ports\":"
                   "{\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:name\":"
                   "{}}}}}},\"f:metadata\":{\"f:finalizers\":{\"v:\\\"y\\\"\":{}}}}"));
        CHECK(fieldset_empty(rem));
        CHECK(same(mod, "{\"f:spec\":{\"f:selector\":{},\"f:containers\":{\"k:{\\\"name\\\":"
                        "\\\"c\\\"}\":{\"f:image\":{},\"f:args\":{}}}}}"));
        /* lookup and remove by key, with the key's default */
        _cleanup_(json_decrefp) json_t *p =
                J("[\"f:spec\",\"f:containers\",\"k:{\\\"name\\\":\\\"side\\\"}\"]");
        CHECK(fieldset_lookup(m, p, &schema) != NULL);
        fieldset_remove(m, p, &schema);
        CHECK_EQ_INT(json_array_size(kjson_get(m, "spec.containers")), 1);
}

static struct managedfields_op op(const char *manager)
{
        return (struct managedfields_op){
                .manager = manager, .api_version = "apps/v1", .schema = &schema, .now = 1000};
}

TEST(update_then_apply_conflict)
{
        struct error err = {0};
        /* create by kubectl-client-side-apply (Update) */
        _cleanup_(json_decrefp) json_t *obj =
                J("{\"metadata\":{\"name\":\"d\",\"uid\":\"u\"},\"spec\":{\"replicas\":1,"
                  "\"containers\":[{\"name\":\"c\",\"image\":\"a\"}]}}");
        struct managedfields_op csa = op("kubectl-client-side-apply");
        CHECK_EQ_INT(managedfields_update(NULL, obj, &csa, &err), 0);
        json_t *mf = kjson_get(obj, "metadata.managedFields");
        CHECK_EQ_INT(json_array_size(mf), 1);
        CHECK_EQ_STR(kjson_str(json_array_get(mf, 0), "operation"), "Update");
        CHECK_EQ_STR(kjson_str(json_array_get(mf, 0), "time"), "1970-01-01T00:16:40Z");
        CHECK(same(json_object_get(json_array_get(mf, 0), "fieldsV1"),
                   "{\"f:spec\":{\"f:replicas\":{},\"f:containers\":{\".\":{},\"k:{\\\"name\\\":"
                   "\\\"c\\\"}\":{\".\":{},\"f:name\":{},\"f:image\":{}}}}}"));
        /* server-side apply by "mgr" changing replicas: conflict */
        _cleanup_(json_decrefp) json_t *cfg = J("{\"spec\":{\"replicas\":3}}");
        struct managedfields_op ssa = op("mgr");
        ssa.now = 2000;
        json_t *res = NULL, *conf = NULL;
        CHECK_EQ_INT(managedfields_apply(obj, cfg, &ssa, false, &res, &conf, &err), -ESTALE);
        CHECK_EQ_STR(err.msg, "Apply failed with 1 conflict: conflict with "
                              "\"kubectl-client-side-apply\" using apps/v1: .spec.replicas");
        CHECK_EQ_STR(kjson_str(json_array_get(conf, 0), "field"), ".spec.replicas");
        CHECK_EQ_STR(kjson_str(json_array_get(conf, 0), "manager"),
                     "\"kubectl-client-side-apply\" using apps/v1");
        json_decref(conf);
        conf = NULL;
        /* same value: shared ownership, no conflict */
        _cleanup_(json_decrefp) json_t *cfg1 = J("{\"spec\":{\"replicas\":1}}");
        CHECK_EQ_INT(managedfields_apply(obj, cfg1, &ssa, false, &res, &conf, &err), 0);
        CHECK_EQ_INT(json_array_size(kjson_get(res, "metadata.managedFields")), 2);
        CHECK_EQ_STR(
                kjson_str(json_array_get(kjson_get(res, "metadata.managedFields"), 0), "operation"),
                "Apply");
        json_decref(res);
        /* force: ownership moves */
        CHECK_EQ_INT(managedfields_apply(obj, cfg, &ssa, true, &res, &conf, &err), 0);
        CHECK_EQ_INT(kjson_int(res, "spec.replicas", 0), 3);
        json_t *mf2 = kjson_get(res, "metadata.managedFields");
        CHECK(same(json_object_get(json_array_get(mf2, 0), "fieldsV1"),
                   "{\"f:spec\":{\"f:replicas\":{}}}"));
        CHECK(same(json_object_get(json_array_get(mf2, 1), "fieldsV1"),
                   "{\"f:spec\":{\"f:containers\":{\".\":{},\"k:{\\\"name\\\":\\\"c\\\"}\":"
                   "{\".\":{},\"f:name\":{},\"f:image\":{}}}}}"));
        json_decref(res);
        /* two conflicts */
        _cleanup_(json_decrefp) json_t *cfg2 =
                J("{\"spec\":{\"replicas\":3,\"containers\":[{\"name\":\"c\",\"image\":\"b\"}]}}");
        CHECK_EQ_INT(managedfields_apply(obj, cfg2, &ssa, false, &res, &conf, &err), -ESTALE);
        CHECK_EQ_STR(err.msg, "Apply failed with 2 conflicts: conflicts with "
                              "\"kubectl-client-side-apply\" using apps/v1:\n- .spec.replicas\n"
                              "- .spec.containers[name=\"c\"].image");
        json_decref(conf);
}

TEST(apply_prunes)
{
        struct error err = {0};
        _cleanup_(json_decrefp) json_t *cfg =
                J("{\"metadata\":{\"name\":\"d\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}},\"spec\":{"
                  "\"containers\":[{\"name\":\"c\",\"image\":\"a\"},{\"name\":\"d\",\"image\":"
                  "\"b\"}]}}");
        struct managedfields_op ssa = op("mgr");
        json_t *res = NULL, *conf = NULL;
        CHECK_EQ_INT(managedfields_apply(NULL, cfg, &ssa, false, &res, &conf, &err), 0);
        CHECK(same(json_object_get(json_array_get(kjson_get(res, "metadata.managedFields"), 0),
                                   "fieldsV1"),
                   "{\"f:metadata\":{\"f:labels\":{\"f:a\":{},\"f:b\":{}}},\"f:spec\":{"
                   "\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{\".\":{},\"f:name\":{},"
                   "\"f:image\":{}},\"k:{\\\"name\\\":\\\"d\\\"}\":{\".\":{},\"f:name\":{},"
                   "\"f:image\":{}}}}}"));
        /* someone else labels c=3 */
        json_object_set_new(kjson_get(res, "metadata.labels"), "c", json_string("3"));
        struct managedfields_op lab = op("kubectl-label");
        _cleanup_(json_decrefp) json_t *old = json_deep_copy(res);
        json_object_del(kjson_get(old, "metadata.labels"), "c");
        CHECK_EQ_INT(managedfields_update(old, res, &lab, &err), 0);
        /* apply again without label b and without container d */
        _cleanup_(json_decrefp) json_t *cfg2 =
                J("{\"metadata\":{\"name\":\"d\",\"labels\":{\"a\":\"1\"}},\"spec\":{"
                  "\"containers\":[{\"name\":\"c\",\"image\":\"a\"}]}}");
        json_t *res2 = NULL;
        CHECK_EQ_INT(managedfields_apply(res, cfg2, &ssa, false, &res2, &conf, &err), 0);
        CHECK(same(kjson_get(res2, "metadata.labels"), "{\"a\":\"1\",\"c\":\"3\"}"));
        CHECK_EQ_INT(json_array_size(kjson_get(res2, "spec.containers")), 1);
        json_decref(res);
        json_decref(res2);
        /* a config with managedFields is refused */
        _cleanup_(json_decrefp) json_t *bad = J("{\"metadata\":{\"managedFields\":[]}}");
        CHECK_EQ_INT(managedfields_apply(NULL, bad, &ssa, false, &res, &conf, &err), -EBADMSG);
}

TEST(bogus_managed_fields_reset)
{
        struct error err = {0};
        _cleanup_(json_decrefp) json_t *old =
                J("{\"metadata\":{\"managedFields\":[{\"manager\":\"m\",\"operation\":\"Update\","
                  "\"apiVersion\":\"apps/v1\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":"
                  "{\"f:a\":{}}}}]},\"spec\":{\"a\":1}}");
        _cleanup_(json_decrefp) json_t *nw =
                J("{\"metadata\":{\"managedFields\":[{\"manager\":\"x\",\"operation\":\"Bogus\"}]},"
                  "\"spec\":{\"a\":1}}");
        struct managedfields_op u = op("kubectl-edit");
        CHECK_EQ_INT(managedfields_update(old, nw, &u, &err), 0);
        CHECK(same(kjson_get(nw, "metadata.managedFields"),
                   "[{\"manager\":\"m\",\"operation\":\"Update\",\"apiVersion\":\"apps/v1\","
                   "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:a\":{}}}}]"));
        /* [{}] clears them */
        _cleanup_(json_decrefp) json_t *clr = J("{\"metadata\":{\"managedFields\":[{}]},"
                                                "\"spec\":{\"a\":1}}");
        CHECK_EQ_INT(managedfields_update(old, clr, &u, &err), 0);
        CHECK(kjson_get(clr, "metadata.managedFields") == NULL);
}

TEST(last_applied_allows_kubectl)
{
        /* lastAppliedManager: kubectl's server-side apply may take the fields the client-side
         * apply annotation holds, where the live object still has those values. */
        struct error err = {0};
        _cleanup_(json_decrefp) json_t *live = J(
                "{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/"
                "last-applied-configuration\":"
                "\"{\\\"spec\\\":{\\\"replicas\\\":1,\\\"paused\\\":false}}\\n\"},"
                "\"managedFields\":[{"
                "\"manager\":\"kubectl-client-side-apply\",\"operation\":\"Update\",\"apiVersion\":"
                "\"apps/"
                "v1\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:replicas\":{},"
                "\"f:paused\":{}}}}]},\"spec\":{\"replicas\":1,\"paused\":true}}");
        _cleanup_(json_decrefp) json_t *cfg = J("{\"spec\":{\"replicas\":3}}");
        struct managedfields_op other = op("other");
        json_t *res = NULL, *conf = NULL;
        CHECK_EQ_INT(managedfields_apply(live, cfg, &other, false, &res, &conf, &err), -ESTALE);
        json_decref(conf);
        conf = NULL;
        struct managedfields_op kubectl = op("kubectl");
        CHECK_EQ_INT(managedfields_apply(live, cfg, &kubectl, false, &res, &conf, &err), 0);
        CHECK_EQ_INT(kjson_int(res, "spec.replicas", 0), 3);
        /* the annotation follows what kubectl applied */
        json_t *ann = kjson_get(res, "metadata.annotations");
        CHECK_EQ_STR(json_string_value(json_object_get(
                             ann, "kubectl.kubernetes.io/last-applied-configuration")),
                     "{\"spec\":{\"replicas\":3}}\n");
        json_decref(res);
        /* paused differs from last-applied (false vs true live): still a conflict */
        _cleanup_(json_decrefp) json_t *cfg2 = J("{\"spec\":{\"paused\":false}}");
        CHECK_EQ_INT(managedfields_apply(live, cfg2, &kubectl, false, &res, &conf, &err), -ESTALE);
        CHECK_EQ_STR(err.msg, "Apply failed with 1 conflict: conflict with "
                              "\"kubectl-client-side-apply\" using apps/v1: .spec.paused");
        json_decref(conf);
}

TEST(update_managers_capped)
{
        /* more than 10 Update managers: the oldest merge into "ancient-changes" */
        struct error err = {0};
        _cleanup_(json_decrefp) json_t *obj = J("{\"data\":{}}");
        for (int i = 0; i < 12; i++) {
                _cleanup_(json_decrefp) json_t *old = json_deep_copy(obj);
                char k[8], m[16];
                snprintf(k, sizeof(k), "k%02d", i);
                snprintf(m, sizeof(m), "m%02d", i);
                json_object_set_new(json_object_get(obj, "data"), k, json_string("v"));
                struct managedfields_op u = op(m);
                u.now = 1000 + i;
                CHECK_EQ_INT(managedfields_update(old, obj, &u, &err), 0);
        }
        json_t *mf = kjson_get(obj, "metadata.managedFields");
        CHECK_EQ_INT(json_array_size(mf), 10);
        json_t *first = json_array_get(mf, 0);
        CHECK_EQ_STR(kjson_str(first, "manager"), "ancient-changes");
        CHECK(same(json_object_get(first, "fieldsV1"),
                   "{\"f:data\":{\"f:k00\":{},\"f:k01\":{},\"f:k02\":{}}}"));
        CHECK_EQ_STR(kjson_str(first, "time"), "1970-01-01T00:16:42Z");
        CHECK_EQ_STR(kjson_str(json_array_get(mf, 9), "manager"), "m11");
}

TEST(apply_sets_and_nulls)
{
        /* set-list items are owned one by one: a finalizer no longer applied goes, one another
         * manager added stays; an applied null removes the field but the applier owns it */
        struct error err = {0};
        struct managedfields_op a = op("a");
        _cleanup_(json_decrefp) json_t *cfg1 =
                J("{\"metadata\":{\"finalizers\":[\"x\",\"y\"]},\"spec\":{\"paused\":true}}");
        json_t *o1 = NULL, *conf = NULL;
        CHECK_EQ_INT(managedfields_apply(NULL, cfg1, &a, false, &o1, &conf, &err), 0);
        _cleanup_(json_decrefp) json_t *old = json_deep_copy(o1);
        json_array_append_new(kjson_get(o1, "metadata.finalizers"), json_string("z"));
        struct managedfields_op b = op("b");
        CHECK_EQ_INT(managedfields_update(old, o1, &b, &err), 0);
        CHECK(same(json_object_get(json_array_get(kjson_get(o1, "metadata.managedFields"), 1),
                                   "fieldsV1"),
                   "{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"z\\\"\":{}}}}"));
        _cleanup_(json_decrefp) json_t *cfg2 =
                J("{\"metadata\":{\"finalizers\":[\"x\"]},\"spec\":{\"paused\":null}}");
        json_t *o2 = NULL;
        CHECK_EQ_INT(managedfields_apply(o1, cfg2, &a, false, &o2, &conf, &err), 0);
        CHECK(same(kjson_get(o2, "metadata.finalizers"), "[\"x\",\"z\"]"));
        CHECK(kjson_get(o2, "spec.paused") == NULL);
        CHECK(same(json_object_get(json_array_get(kjson_get(o2, "metadata.managedFields"), 0),
                                   "fieldsV1"),
                   "{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"x\\\"\":{}}},\"f:spec\":{"
                   "\"f:paused\":{}}}"));
        /* two appliers disagreeing: an Apply owner is printed without a version */
        struct managedfields_op c = op("c");
        _cleanup_(json_decrefp) json_t *cfg3 = J("{\"metadata\":{\"finalizers\":[]},"
                                                 "\"spec\":{\"paused\":false}}");
        json_t *o3 = NULL;
        CHECK_EQ_INT(managedfields_apply(o2, cfg3, &c, false, &o3, &conf, &err), -ESTALE);
        CHECK_EQ_STR(err.msg, "Apply failed with 1 conflict: conflict with \"a\": .spec.paused");
        json_decref(conf);
        json_decref(o1);
        json_decref(o2);
}

int main(void)
{
        RUN(to_fieldset);
        RUN(algebra);
        RUN(merge_and_compare);
        RUN(update_then_apply_conflict);
        RUN(apply_prunes);
        RUN(bogus_managed_fields_reset);
        RUN(last_applied_allows_kubectl);
        RUN(update_managers_capped);
        RUN(apply_sets_and_nulls);
        return harness_done();
}
