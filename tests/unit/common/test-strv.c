/* test-strv.c — string vectors. */
#include "common/strv.h"
#include "harness.h"

TEST(push_len_join)
{
        _cleanup_strv_free_ char **v = strv_new();
        CHECK_EQ_INT(strv_len(v), 0);
        v = strv_push(v, "a");
        v = strv_push(v, "b");
        v = strv_push_take(v, xstrdup("c"));
        CHECK_EQ_INT(strv_len(v), 3);
        CHECK(v[3] == NULL);
        _cleanup_free_ char *j = strv_join(v, ", ");
        CHECK_EQ_STR(j, "a, b, c");
        _cleanup_free_ char *j2 = strv_join(NULL, ",");
        CHECK_EQ_STR(j2, "");
        CHECK(strv_contains(v, "b"));
        CHECK(!strv_contains(v, "d"));
        CHECK(!strv_contains(NULL, "d"));
}

TEST(dup_split)
{
        _cleanup_strv_free_ char **v = strv_split("x,,y", ',');
        CHECK_EQ_INT(strv_len(v), 3);
        CHECK_EQ_STR(v[1], "");
        _cleanup_strv_free_ char **d = strv_dup(v);
        CHECK_EQ_INT(strv_len(d), 3);
        CHECK(d[0] != v[0]);
        CHECK_EQ_STR(d[2], "y");
        _cleanup_strv_free_ char **e = strv_split("", ',');
        CHECK_EQ_INT(strv_len(e), 0);
        _cleanup_strv_free_ char **n = strv_push(NULL, "z");
        CHECK_EQ_INT(strv_len(n), 1);
        strv_free(NULL);
}

int main(void)
{
        RUN(push_len_join);
        RUN(dup_split);
        return harness_done();
}
