/* test-error.c — error_set / error_wrap / error_msg. */
#include "common/error.h"
#include "harness.h"

TEST(set_returns_code)
{
        struct error err = {0};
        CHECK_EQ_INT(error_set(&err, -ENOENT, "pod %s", "x"), -ENOENT);
        CHECK_EQ_STR(err.msg, "pod x");
        CHECK_EQ_INT(error_set(NULL, -EINVAL, "ignored"), -EINVAL);
}

TEST(wrap_prefixes)
{
        struct error err = {0};
        error_set(&err, -EIO, "disk full");
        CHECK_EQ_INT(error_wrap(&err, -EINVAL, "open %s", "db"), -EIO);
        CHECK_EQ_STR(err.msg, "open db: disk full");
}

TEST(msg_defaults_to_strerror)
{
        struct error err = {.code = -ENOENT};
        CHECK_EQ_STR(error_msg(&err), strerror(ENOENT));
}

int main(void)
{
        RUN(set_returns_code);
        RUN(wrap_prefixes);
        RUN(msg_defaults_to_strerror);
        return harness_done();
}
