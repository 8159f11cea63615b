/* test-cronjob.c — controllers/cronjob.c: the scheduled-time format of its annotations. */
#include "controllers/cronjob.h"

#include "common/timefmt.h"
#include "harness.h"

static time_t T(const char *s)
{
        struct timespec ts = {0};
        timefmt_parse_rfc3339(s, &ts);
        return ts.tv_sec;
}

TEST(format)
{
        char buf[40];
        cronjob_format_time(buf, T("2026-07-01T07:00:00Z"), 7200);
        CHECK_EQ_STR(buf, "2026-07-01T09:00:00+02:00");
        cronjob_format_time(buf, T("2026-07-01T07:00:00Z"), -18000);
        CHECK_EQ_STR(buf, "2026-07-01T02:00:00-05:00");
        cronjob_format_time(buf, T("2026-07-01T07:00:00Z"), 0);
        CHECK_EQ_STR(buf, "2026-07-01T07:00:00Z");
}

int main(void)
{
        RUN(format);
        return harness_done();
}
