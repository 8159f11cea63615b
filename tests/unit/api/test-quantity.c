/* test-quantity.c — parse/format/compare like k8s.io/apimachinery/pkg/api/resource. */
#include "api/quantity.h"
#include "harness.h"

static const char *canon(const char *s)
{
        static char buf[QUANTITY_STR_MAX + 32];
        char q[QUANTITY_STR_MAX];
        struct error err = {0};
        int r = quantity_canonicalize(s, q, &err);
        if (r < 0)
                snprintf(buf, sizeof(buf), "ERR %d", r);
        else
                snprintf(buf, sizeof(buf), "%s", q);
        return buf;
}

TEST(canonical_forms)
{
        CHECK_EQ_STR(canon("1500m"), "1500m");
        CHECK_EQ_STR(canon("1.5"), "1500m");
        CHECK_EQ_STR(canon("0.5"), "500m");
        CHECK_EQ_STR(canon("1000m"), "1");
        CHECK_EQ_STR(canon("2"), "2");
        CHECK_EQ_STR(canon("+2"), "2");
        CHECK_EQ_STR(canon("1000"), "1k");
        CHECK_EQ_STR(canon("1k"), "1k");
        CHECK_EQ_STR(canon("1200"), "1200");
        CHECK_EQ_STR(canon("128Mi"), "128Mi");
        CHECK_EQ_STR(canon("1024Ki"), "1Mi");
        CHECK_EQ_STR(canon("1536Mi"), "1536Mi");
        CHECK_EQ_STR(canon("1.5Gi"), "1536Mi");
        CHECK_EQ_STR(canon("0.5Ki"), "512");
        CHECK_EQ_STR(canon("1.5Ki"), "1536");
        CHECK_EQ_STR(canon("0.1Ki"), "102400m");
        CHECK_EQ_STR(canon("-1Ki"), "-1Ki");
        CHECK_EQ_STR(canon("1e3"), "1e3");
        CHECK_EQ_STR(canon("1E3"), "1e3");
        CHECK_EQ_STR(canon("12e2"), "1200");
        CHECK_EQ_STR(canon("5e-3"), "5e-3");
        CHECK_EQ_STR(canon("100n"), "100n");
        CHECK_EQ_STR(canon("0.1n"), "1n");
        CHECK_EQ_STR(canon("1u"), "1u");
        CHECK_EQ_STR(canon("0"), "0");
        CHECK_EQ_STR(canon("0Mi"), "0");
        CHECK_EQ_STR(canon("-0.5"), "-500m");
        CHECK_EQ_STR(canon("64G"), "64G");
        CHECK_EQ_STR(canon("1E"), "1E");
        CHECK_EQ_STR(canon("8Ei"), "ERR -34");
        CHECK_EQ_STR(canon("7Ei"), "7Ei");
        CHECK_EQ_STR(canon("9223372036854775807"), "9223372036854775807");
        CHECK_EQ_STR(canon("9223372036854775808"), "ERR -34");
        CHECK_EQ_STR(canon("1e100"), "ERR -34");
        CHECK_EQ_STR(canon("1e-100"), "1e-9");
        CHECK_EQ_STR(canon("0e999999999999"), "0");
        CHECK_EQ_STR(canon("0.000000000000000000000000000000000000000000001"), "1n");
        CHECK_EQ_STR(canon("123456789012345678901234567890123456789"), "ERR -34");
}

TEST(errors)
{
        struct error err = {0};
        struct quantity q;
        CHECK_EQ_INT(quantity_parse("", &q, &err), -EINVAL);
        CHECK_EQ_INT(quantity_parse("abc", &q, &err), -EINVAL);
        CHECK_EQ_STR(err.msg, "quantities must match the regular expression "
                              "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
        CHECK_EQ_INT(quantity_parse("1K", &q, &err), -EINVAL);
        CHECK_EQ_STR(err.msg, "unable to parse quantity's suffix");
        CHECK_EQ_INT(quantity_parse("1Mb", &q, &err), -EINVAL);
        CHECK_EQ_INT(quantity_parse("1.2.3", &q, &err), -EINVAL);
        CHECK_EQ_INT(quantity_parse(".", &q, &err), -EINVAL);
        CHECK_EQ_INT(quantity_parse("1e", &q, &err), -EINVAL);
        CHECK_EQ_INT(quantity_parse("1 Mi", &q, &err), -EINVAL);
        CHECK_EQ_INT(quantity_parse("Mi", &q, &err), -EINVAL);
        CHECK_EQ_INT(quantity_parse(NULL, &q, &err), -EINVAL);
}

TEST(values_and_compare)
{
        struct quantity a, b;
        CHECK_EQ_INT(quantity_parse("1500m", &a, NULL), 0);
        CHECK_EQ_INT(quantity_value(&a), 2);
        CHECK_EQ_INT(quantity_milli(&a), 1500);
        CHECK_EQ_INT(quantity_parse("1.5", &b, NULL), 0);
        CHECK_EQ_INT(quantity_cmp(&a, &b), 0);
        CHECK_EQ_INT(quantity_parse("2", &b, NULL), 0);
        CHECK(quantity_cmp(&a, &b) < 0);
        CHECK(quantity_cmp(&b, &a) > 0);
        CHECK_EQ_INT(quantity_parse("128Mi", &a, NULL), 0);
        CHECK_EQ_INT(quantity_value(&a), 134217728);
        CHECK_EQ_INT(quantity_parse("1n", &a, NULL), 0);
        CHECK_EQ_INT(quantity_milli(&a), 1);
        CHECK_EQ_INT(quantity_parse("7Ei", &a, NULL), 0);
        CHECK_EQ_INT(quantity_milli(&a), INT64_MAX); /* saturates */
        struct quantity s = quantity_from_milli(250, QUANTITY_DECIMAL_SI);
        struct quantity t = quantity_from_int(1, QUANTITY_DECIMAL_SI);
        CHECK_EQ_INT(quantity_add(&s, &t), 0);
        char buf[QUANTITY_STR_MAX];
        CHECK_EQ_STR(quantity_format(&s, buf), "1250m");
        CHECK_EQ_INT(quantity_sub(&s, &t), 0);
        CHECK_EQ_INT(quantity_sub(&s, &t), 0);
        CHECK_EQ_STR(quantity_format(&s, buf), "-750m");
        struct quantity big = quantity_from_int(INT64_MAX, QUANTITY_DECIMAL_SI);
        CHECK_EQ_INT(quantity_add(&big, &t), -ERANGE);
        struct quantity m = quantity_from_int(1024 * 1024, QUANTITY_BINARY_SI);
        CHECK_EQ_STR(quantity_format(&m, buf), "1Mi");
}

int main(void)
{
        RUN(canonical_forms);
        RUN(errors);
        RUN(values_and_compare);
        return harness_done();
}
