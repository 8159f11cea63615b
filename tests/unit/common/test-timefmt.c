/* test-timefmt.c — RFC 3339 and HumanDuration. */
#include "common/timefmt.h"
#include "harness.h"

TEST(rfc3339)
{
        char b[32], n[40];
        timefmt_rfc3339(b, 1767225600); /* 2026-01-01 */
        CHECK_EQ_STR(b, "2026-01-01T00:00:00Z");
        struct timespec ts = {.tv_sec = 1767225600, .tv_nsec = 123456789};
        timefmt_rfc3339nano(n, &ts);
        CHECK_EQ_STR(n, "2026-01-01T00:00:00.123456789Z");
        timefmt_rfc3339micro(n, &ts);
        CHECK_EQ_STR(n, "2026-01-01T00:00:00.123456Z");
}

TEST(parse)
{
        struct timespec ts;
        CHECK_EQ_INT(timefmt_parse_rfc3339("2026-01-01T00:00:00Z", &ts), 0);
        CHECK_EQ_INT(ts.tv_sec, 1767225600);
        CHECK_EQ_INT(ts.tv_nsec, 0);
        CHECK_EQ_INT(timefmt_parse_rfc3339("2026-01-01T01:00:00.5+01:00", &ts), 0);
        CHECK_EQ_INT(ts.tv_sec, 1767225600);
        CHECK_EQ_INT(ts.tv_nsec, 500000000);
        CHECK_EQ_INT(timefmt_parse_rfc3339("2025-12-31t19:00:00-05:00", &ts), 0);
        CHECK_EQ_INT(ts.tv_sec, 1767225600);
        CHECK_EQ_INT(timefmt_parse_rfc3339("2026-01-01", &ts), -EINVAL);
        CHECK_EQ_INT(timefmt_parse_rfc3339("2026-01-01T00:00:00", &ts), -EINVAL);
        CHECK_EQ_INT(timefmt_parse_rfc3339("2026-13-01T00:00:00Z", &ts), -EINVAL);
        CHECK_EQ_INT(timefmt_parse_rfc3339("2026-01-01T00:00:00Zx", &ts), -EINVAL);
        CHECK_EQ_INT(timefmt_parse_rfc3339("", &ts), -EINVAL);
        CHECK_EQ_INT(timefmt_parse_rfc3339(NULL, &ts), -EINVAL);
}

static const char *age(int64_t s)
{
        static char b[16];
        timefmt_age(b, s);
        return b;
}

TEST(human_duration)
{
        CHECK_EQ_STR(age(-5), "<invalid>");
        CHECK_EQ_STR(age(-1), "0s");
        CHECK_EQ_STR(age(0), "0s");
        CHECK_EQ_STR(age(5), "5s");
        CHECK_EQ_STR(age(119), "119s");
        CHECK_EQ_STR(age(120), "2m");
        CHECK_EQ_STR(age(150), "2m30s");
        CHECK_EQ_STR(age(599), "9m59s");
        CHECK_EQ_STR(age(600), "10m");
        CHECK_EQ_STR(age(3 * 3600 - 1), "179m");
        CHECK_EQ_STR(age(3 * 3600), "3h");
        CHECK_EQ_STR(age(5 * 3600 + 30 * 60), "5h30m");
        CHECK_EQ_STR(age(8 * 3600), "8h");
        CHECK_EQ_STR(age(47 * 3600 + 59 * 60), "47h");
        CHECK_EQ_STR(age(48 * 3600), "2d");
        CHECK_EQ_STR(age(3 * 86400 + 4 * 3600), "3d4h");
        CHECK_EQ_STR(age(8 * 86400), "8d");
        CHECK_EQ_STR(age(400 * 86400), "400d");
        CHECK_EQ_STR(age(2 * 365 * 86400 + 30 * 86400), "2y30d");
        CHECK_EQ_STR(age(3 * 365 * 86400), "3y");
        CHECK_EQ_STR(age(9 * 365 * 86400), "9y");
        char b[16];
        timefmt_age_ns(b, -1500000000LL); /* -1.5s truncates to -1 */
        CHECK_EQ_STR(b, "0s");
        timefmt_age_short(b, 59);
        CHECK_EQ_STR(b, "59s");
        timefmt_age_short(b, 3599);
        CHECK_EQ_STR(b, "59m");
        timefmt_age_short(b, 86400 * 3);
        CHECK_EQ_STR(b, "3d");
        timefmt_age_short(b, 86400 * 800);
        CHECK_EQ_STR(b, "2y");
}

int main(void)
{
        RUN(rfc3339);
        RUN(parse);
        RUN(human_duration);
        return harness_done();
}
