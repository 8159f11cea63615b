/* test-cron.c — api/cron.c: robfig/cron standard parsing (errors worded as robfig's), next
 * activations (ranges, steps, names, descriptors, day-of-month/day-of-week OR), TZif time zones
 * from /usr/share/zoneinfo. */
#include "api/cron.h"

#include "common/timefmt.h"
#include "harness.h"

static time_t T(const char *s)
{
        struct timespec ts = {0};
        timefmt_parse_rfc3339(s, &ts);
        return ts.tv_sec;
}

static const char *next_str(const char *spec, const char *tzname, const char *from)
{
        static char buf[32];
        struct cron_schedule s;
        struct cron_tz *tz = NULL;
        if (cron_parse(spec, &s, NULL) < 0)
                return "parse error";
        if (tzname && cron_tz_load(tzname, &tz, NULL) < 0)
                return "tz error";
        time_t t = cron_next(&s, tz, T(from));
        cron_tz_free(tz);
        if (!t)
                return "never";
        timefmt_rfc3339(buf, t);
        return buf;
}

TEST(next)
{
        CHECK_EQ_STR(next_str("*/15 * * * *", NULL, "2026-01-01T10:07:30Z"),
                     "2026-01-01T10:15:00Z");
        CHECK_EQ_STR(next_str("* * * * *", NULL, "2026-01-01T10:07:00Z"), "2026-01-01T10:08:00Z");
        CHECK_EQ_STR(next_str("0 0 * * *", NULL, "2026-01-01T00:00:00Z"), "2026-01-02T00:00:00Z");
        /* 2026-01-03 is a Saturday: weekdays at 09:00 -> Monday the 5th */
        CHECK_EQ_STR(next_str("0 9 * * mon-fri", NULL, "2026-01-03T12:00:00Z"),
                     "2026-01-05T09:00:00Z");
        CHECK_EQ_STR(next_str("@hourly", NULL, "2026-01-01T10:07:00Z"), "2026-01-01T11:00:00Z");
        CHECK_EQ_STR(next_str("@monthly", NULL, "2026-01-15T00:00:00Z"), "2026-02-01T00:00:00Z");
        CHECK_EQ_STR(next_str("@yearly", NULL, "2026-01-15T00:00:00Z"), "2027-01-01T00:00:00Z");
        /* day-of-month and day-of-week both restricted: either matches (Fri 2026-01-09) */
        CHECK_EQ_STR(next_str("0 0 13 * 5", NULL, "2026-01-05T00:00:00Z"), "2026-01-09T00:00:00Z");
        /* one of them "*": both must match -> the 13th only if a Friday (2026-02-13) */
        CHECK_EQ_STR(next_str("0 0 13 * *", NULL, "2026-01-14T00:00:00Z"), "2026-02-13T00:00:00Z");
        CHECK_EQ_STR(next_str("30 4 1,15 jan,JUL *", NULL, "2026-01-20T00:00:00Z"),
                     "2026-07-01T04:30:00Z");
        CHECK_EQ_STR(next_str("5/20 * * * *", NULL, "2026-01-01T10:26:00Z"),
                     "2026-01-01T10:45:00Z");
        CHECK_EQ_STR(next_str("0 0 30 2 *", NULL, "2026-01-01T00:00:00Z"), "never");
        CHECK_EQ_STR(next_str("@every 90s", NULL, "2026-01-01T00:00:00Z"), "2026-01-01T00:01:30Z");
}

TEST(time_zones)
{
        /* Berlin is UTC+1 in winter, UTC+2 in summer */
        CHECK_EQ_STR(next_str("0 9 * * *", "Europe/Berlin", "2026-01-10T00:00:00Z"),
                     "2026-01-10T08:00:00Z");
        CHECK_EQ_STR(next_str("0 9 * * *", "Europe/Berlin", "2026-07-10T00:00:00Z"),
                     "2026-07-10T07:00:00Z");
        CHECK_EQ_STR(next_str("0 0 * * *", "America/New_York", "2026-01-10T12:00:00Z"),
                     "2026-01-11T05:00:00Z");
        CHECK_EQ_STR(next_str("0 9 * * *", "UTC", "2026-01-10T00:00:00Z"), "2026-01-10T09:00:00Z");
        struct cron_tz *tz = NULL;
        CHECK_EQ_INT(cron_tz_load("Nowhere/Atlantis", &tz, NULL), -ENOENT);
        CHECK_EQ_INT(cron_tz_load("../etc/passwd", &tz, NULL), -EINVAL);
        CHECK_EQ_INT(cron_tz_parse("TZif2", 5, &tz, NULL), -EINVAL);
        CHECK_EQ_INT(cron_tz_load("Europe/Berlin", &tz, NULL), 0);
        CHECK_EQ_INT(cron_tz_offset(tz, T("2026-07-01T00:00:00Z")), 7200);
        CHECK_EQ_INT(cron_tz_offset(tz, T("2026-12-01T00:00:00Z")), 3600);
        cron_tz_free(tz);
}

TEST(errors)
{
        struct cron_schedule s;
        struct error err = {0};
        CHECK_EQ_INT(cron_parse("* * *", &s, &err), -EINVAL);
        CHECK_EQ_STR(error_msg(&err), "expected exactly 5 fields, found 3: * * *");
        CHECK_EQ_INT(cron_parse("0-61 * * * *", &s, &err), -EINVAL);
        CHECK_EQ_STR(error_msg(&err), "end of range (61) above maximum (59): 0-61");
        CHECK_EQ_INT(cron_parse("* * 0 * *", &s, &err), -EINVAL);
        CHECK_EQ_STR(error_msg(&err), "beginning of range (0) below minimum (1): 0");
        CHECK_EQ_INT(cron_parse("x * * * *", &s, &err), -EINVAL);
        CHECK_EQ_STR(error_msg(&err), "failed to parse int from x");
        CHECK_EQ_INT(cron_parse("*/0 * * * *", &s, &err), -EINVAL);
        CHECK_EQ_INT(cron_parse("@sometimes", &s, &err), -EINVAL);
        CHECK_EQ_INT(cron_parse("", &s, &err), -EINVAL);
        CHECK_EQ_INT(cron_parse("0 0 * * 7", &s, &err), -EINVAL); /* robfig: day of week 0-6 */
        CHECK_EQ_INT(cron_parse("? ? ? ? ?", &s, &err), 0);
}

int main(void)
{
        RUN(next);
        RUN(time_zones);
        RUN(errors);
        return harness_done();
}
