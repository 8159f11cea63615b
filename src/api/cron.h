/* cron.h — cron schedules as CronJob uses them (robfig/cron/v3 ParseStandard: 5 fields minute
 * hour day-of-month month day-of-week with "*", "?", "a", "a-b", "a/n", "a-b/n", "*\/n", lists
 * and jan..dec / sun..sat names, plus @yearly @annually @monthly @weekly @daily @midnight
 * @hourly and "@every <duration>"), the next activation after a time, and IANA time zones
 * read from TZif files (/usr/share/zoneinfo) for spec.timeZone. Pure except cron_tz_load. */
#pragma once
#include <stdint.h>
#include <time.h>

#include "common/base.h"
#include "common/error.h"

#define CRON_MAX_LEN 1024
#define CRON_TZ_MAX (1u << 20) /* TZif file cap */

struct cron_schedule {
        uint64_t minute, hour, dom, month, dow; /* bit i set: value i allowed */
        bool dom_star, dow_star;                /* field started with * or ? (robfig starBit) */
        int64_t every_s;                        /* "@every": period in seconds, else 0 */
};

/* Parse s. Errors: -EINVAL with robfig's wording ("expected exactly 5 fields, found 3: ...",
 * "end of range (61) above maximum (59): 0-61", "failed to parse int from x: ..."). */
int cron_parse(const char *s, struct cron_schedule *ret, struct error *err);

struct cron_tz; /* a zone's transitions; NULL means UTC everywhere below */

/* Parse TZif data (versions 1-4; the 64-bit block when present). Errors: -EINVAL. */
int cron_tz_parse(const void *data, size_t len, struct cron_tz **ret, struct error *err);
/* Load /usr/share/zoneinfo/<name> (name checked: no "..", not absolute). -ENOENT unknown. */
int cron_tz_load(const char *name, struct cron_tz **ret, struct error *err);
void cron_tz_free(struct cron_tz *tz);
static inline void cron_tz_freep(struct cron_tz **tz)
{
        cron_tz_free(*tz);
}
/* UTC offset in seconds at instant t. */
int32_t cron_tz_offset(const struct cron_tz *tz, time_t t);

/* The first activation strictly after t (whole minutes; @every: t + period rounded to the
 * second), evaluated on the wall clock of tz; 0 if none within 5 years (e.g. "0 0 30 2 *"). */
time_t cron_next(const struct cron_schedule *s, const struct cron_tz *tz, time_t t);
