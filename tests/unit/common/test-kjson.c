/* test-kjson.c — bounded parse, dump, dotted paths. */
#include "common/kjson.h"
#include "harness.h"

TEST(parse_ok_and_order)
{
        struct error err = {0};
        _cleanup_json_ json_t *j = NULL;
        const char *in = "{\"b\":1,\"a\":{\"x\":\"y\"},\"c\":[true,null]}";
        CHECK_EQ_INT(kjson_parse(in, strlen(in), 0, &j, &err), 0);
        _cleanup_free_ char *s = kjson_dump(j);
        CHECK_EQ_STR(s, in);
        _cleanup_json_ json_t *scalar = NULL;
        CHECK_EQ_INT(kjson_parse("42", 2, 0, &scalar, &err), 0);
        CHECK(json_is_integer(scalar));
}

TEST(parse_errors)
{
        struct error err = {0};
        json_t *j = NULL;
        CHECK_EQ_INT(kjson_parse("{\"a\":1} x", 9, 0, &j, &err), -EINVAL);
        CHECK(j == NULL);
        CHECK(strstr(err.msg, "1:") == err.msg);
        CHECK_EQ_INT(kjson_parse("{\"a\":\n  tru}", 12, 0, &j, &err), -EINVAL);
        CHECK(!strncmp(err.msg, "2:", 2));
        CHECK_EQ_INT(kjson_parse("", 0, 0, &j, &err), -EINVAL);
        CHECK_EQ_INT(kjson_parse("\"a\\u0000b\"", 10, 0, &j, &err), -EINVAL);
        CHECK_EQ_INT(kjson_parse_object("[1]", 3, 0, &j, &err), -EINVAL);
        CHECK(j == NULL);
}

TEST(depth_cap)
{
        struct error err = {0};
        json_t *j = NULL;
        char deep[200];
        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        CHECK_EQ_INT(kjson_parse(deep, 200, 64, &j, &err), -E2BIG);
        CHECK_EQ_INT(kjson_parse(deep, 200, 100, &j, &err), 0);
        json_decref(j);
        /* brackets inside strings do not count */
        const char *s = "{\"a\":\"[[[[[[[[[[[[\"}";
        CHECK_EQ_INT(kjson_parse(s, strlen(s), 2, &j, &err), 0);
        json_decref(j);
}

TEST(paths)
{
        _cleanup_json_ json_t *o = json_pack("{s:{s:s,s:I,s:b},s:s}", "metadata", "name", "x",
                                             "generation", (json_int_t)7, "flag", 1, "kind", "Pod");
        CHECK_EQ_STR(kjson_str(o, "metadata.name"), "x");
        CHECK(kjson_str(o, "metadata.nope") == NULL);
        CHECK(kjson_str(o, "kind.x") == NULL);
        CHECK(kjson_str(o, "metadata.generation") == NULL);
        CHECK_EQ_INT(kjson_int(o, "metadata.generation", -1), 7);
        CHECK_EQ_INT(kjson_int(o, "metadata.name", -1), -1);
        CHECK(kjson_bool(o, "metadata.flag", false));
        CHECK(kjson_get(NULL, "a") == NULL);
        json_t *l = kjson_obj_ensure(kjson_get(o, "metadata"), "labels");
        json_object_set_new(l, "app", json_string("web"));
        CHECK_EQ_STR(kjson_str(o, "metadata.labels.app"), "web");
        CHECK(kjson_obj_ensure(kjson_get(o, "metadata"), "labels") == l);
        kjson_set_str(o, "spec.nodeName", "n1");
        CHECK_EQ_STR(kjson_str(o, "spec.nodeName"), "n1");
        kjson_set_path(o, "status.a.b", json_integer(3));
        CHECK_EQ_INT(kjson_int(o, "status.a.b", 0), 3);
        kjson_del_path(o, "status.a.b");
        CHECK(kjson_get(o, "status.a.b") == NULL);
        CHECK(kjson_get(o, "status.a") != NULL);
        /* ensure replaces a non-object */
        json_t *k = kjson_obj_ensure(o, "kind");
        CHECK(json_is_object(k));
        _cleanup_json_ json_t *c = json_deep_copy(o);
        CHECK(kjson_equal(o, c));
        CHECK(!kjson_equal(o, NULL));
        CHECK(kjson_equal(NULL, NULL));
        _cleanup_free_ char *n = kjson_dump(NULL);
        CHECK_EQ_STR(n, "null");
}

int main(void)
{
        RUN(parse_ok_and_order);
        RUN(parse_errors);
        RUN(depth_cap);
        RUN(paths);
        return harness_done();
}
