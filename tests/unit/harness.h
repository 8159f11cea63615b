/* harness.h — a tiny TAP harness: one binary per source file, ends with "N passed, N failed".
 *   TEST(name) { CHECK(x); CHECK_EQ_INT(a, b); CHECK_EQ_STR(a, b); }
 *   int main(void) { RUN(name); return harness_done(); } */
#pragma once
#include <stdio.h>
#include <string.h>

static int harness_pass, harness_fail, harness_cur_fail, harness_n;
static const char *harness_name;

#define TEST(name) static void test_##name(void)
#define CHECK(cond)                                                                                \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);          \
                        harness_cur_fail++;                                                        \
                }                                                                                  \
        } while (0)
#define CHECK_EQ_INT(a, b)                                                                         \
        do {                                                                                       \
                long long _a = (long long)(a), _b = (long long)(b);                                \
                if (_a != _b) {                                                                    \
                        printf("# %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, _a, \
                               _b);                                                                \
                        harness_cur_fail++;                                                        \
                }                                                                                  \
        } while (0)
#define CHECK_EQ_STR(a, b)                                                                         \
        do {                                                                                       \
                const char *_a = (a), *_b = (b);                                                   \
                if (!_a || !_b || strcmp(_a, _b)) {                                                \
                        printf("# %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
                               _a ? _a : "(null)", _b ? _b : "(null)");                            \
                        harness_cur_fail++;                                                        \
                }                                                                                  \
        } while (0)
#define RUN(name)                                                                                  \
        do {                                                                                       \
                harness_name = #name;                                                              \
                harness_cur_fail = 0;                                                              \
                test_##name();                                                                     \
                harness_n++;                                                                       \
                if (harness_cur_fail) {                                                            \
                        harness_fail++;                                                            \
                        printf("not ok %d - %s\n", harness_n, harness_name);                      \
                } else {                                                                           \
                        harness_pass++;                                                            \
                        printf("ok %d - %s\n", harness_n, harness_name);                          \
                }                                                                                  \
                fflush(stdout);                                                                    \
        } while (0)

static inline int harness_done(void)
{
        printf("1..%d\n%d passed, %d failed\n", harness_n, harness_pass, harness_fail);
        return harness_fail ? 1 : 0;
}
