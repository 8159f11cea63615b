/* cron.c — cron schedules and TZif zones (see cron.h). The next-time search is robfig/cron's
 * SpecSchedule.Next on the zone's wall clock. */
#include "api/cron.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

struct bounds {
        unsigned min, max;
        const char *const *names; /* names[i] = min + i */
};

static int parse_uint(const char *s, const struct bounds *b, unsigned *ret, struct error *err)
{
        if (b->names)
                for (unsigned i = 0; b->names[i]; i++)
                        if (!strcasecmp(s, b->names[i])) {
                                *ret = b->min + i;
                                return 0;
                        }
        char *end;
        if (!*s || !isdigit((unsigned char)*s))
                return error_set(err, -EINVAL, "failed to parse int from %s", s);
        unsigned long v = strtoul(s, &end, 10);
        if (*end || v > 1000000)
                return error_set(err, -EINVAL, "failed to parse int from %s", s);
        *ret = (unsigned)v;
        return 0;
}

/* One comma-separated part: robfig getRange. */
static int parse_range(char *expr, const struct bounds *b, uint64_t *bits, bool *star,
                       struct error *err)
{
        _cleanup_free_ char *orig = xstrdup(expr); /* for messages: expr is cut below */
        char *slash = strchr(expr, '/');
        char *step_s = NULL;
        if (slash) {
                *slash = 0;
                step_s = slash + 1;
                if (strchr(step_s, '/'))
                        return error_set(err, -EINVAL, "too many slashes: %s", orig);
        }
        unsigned start, end, step = 1;
        bool single = !strchr(expr, '-'), is_star = false;
        int r;
        if (!strcmp(expr, "*") || !strcmp(expr, "?")) {
                start = b->min;
                end = b->max;
                is_star = true;
        } else {
                char *dash = strchr(expr, '-');
                if (dash) {
                        *dash = 0;
                        if (strchr(dash + 1, '-'))
                                return error_set(err, -EINVAL, "too many hyphens: %s", orig);
                }
                if ((r = parse_uint(expr, b, &start, err)) < 0)
                        return r;
                end = start;
                if (dash && (r = parse_uint(dash + 1, b, &end, err)) < 0)
                        return r;
        }
        if (step_s) {
                if ((r = parse_uint(step_s, &(struct bounds){0, 0, NULL}, &step, err)) < 0)
                        return r;
                if (single && !is_star)
                        end = b->max;
                if (step > 1)
                        is_star = false;
        }
        if (start < b->min)
                return error_set(err, -EINVAL, "beginning of range (%u) below minimum (%u): %s",
                                 start, b->min, orig);
        if (end > b->max)
                return error_set(err, -EINVAL, "end of range (%u) above maximum (%u): %s", end,
                                 b->max, orig);
        if (start > end)
                return error_set(err, -EINVAL,
                                 "beginning of range (%u) beyond end of range (%u): %s", start, end,
                                 orig);
        if (step == 0)
                return error_set(err, -EINVAL, "step of range should be a positive number: %s",
                                 orig);
        for (unsigned i = start; i <= end; i += step)
                *bits |= 1ull << i;
        if (is_star)
                *star = true;
        return 0;
}

static int parse_field(const char *f, const struct bounds *b, uint64_t *bits, bool *star,
                       struct error *err)
{
        _cleanup_free_ char *copy = xstrdup(f);
        char *save = NULL;
        *bits = 0;
        for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
                int r = parse_range(part, b, bits, star, err);
                if (r < 0)
                        return r;
        }
        if (!*bits)
                return error_set(err, -EINVAL, "empty field: %s", f);
        return 0;
}

/* Go duration subset for @every: sequence of <int><unit> with units h m s ms. */
static int parse_every(const char *s, int64_t *ret, struct error *err)
{
        int64_t total_ms = 0;
        const char *p = s;
        if (!*p)
                return error_set(err, -EINVAL, "failed to parse duration %s", s);
        while (*p) {
                char *end;
                if (!isdigit((unsigned char)*p))
                        return error_set(err, -EINVAL, "failed to parse duration %s", s);
                long long v = strtoll(p, &end, 10);
                int64_t unit;
                if (!strncmp(end, "ms", 2)) {
                        unit = 1;
                        end += 2;
                } else if (*end == 'h') {
                        unit = 3600000;
                        end++;
                } else if (*end == 'm') {
                        unit = 60000;
                        end++;
                } else if (*end == 's') {
                        unit = 1000;
                        end++;
                } else {
                        return error_set(err, -EINVAL, "failed to parse duration %s", s);
                }
                if (v > 100000000)
                        return error_set(err, -EINVAL, "failed to parse duration %s", s);
                total_ms += v * unit;
                p = end;
        }
        /* robfig: below one second becomes one second; sub-second parts are dropped */
        *ret = MAX(total_ms / 1000, 1);
        return 0;
}

int cron_parse(const char *s, struct cron_schedule *ret, struct error *err)
{
        static const struct {
                const char *name, *spec;
        } descriptors[] = {
                {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
                {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
                {"@hourly", "0 * * * *"},
        };
        if (!s || !*s)
                return error_set(err, -EINVAL, "empty spec string");
        if (strlen(s) > CRON_MAX_LEN)
                return error_set(err, -EINVAL, "spec string too long");
        struct cron_schedule cs = {0};
        if (s[0] == '@') {
                if (!strncmp(s, "@every ", 7)) {
                        int r = parse_every(s + 7, &cs.every_s, err);
                        if (r < 0)
                                return r;
                        *ret = cs;
                        return 0;
                }
                for (size_t i = 0; i < ARRAY_SIZE(descriptors); i++)
                        if (!strcmp(s, descriptors[i].name))
                                return cron_parse(descriptors[i].spec, ret, err);
                return error_set(err, -EINVAL, "unrecognized descriptor: %s", s);
        }
        _cleanup_free_ char *copy = xstrdup(s);
        char *fields[6];
        int n = 0;
        char *save = NULL;
        for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
                if (n < 6)
                        fields[n] = t;
                n++;
        }
        if (n != 5)
                return error_set(err, -EINVAL, "expected exactly 5 fields, found %d: %s", n, s);
        static const struct bounds b[5] = {{0, 59, NULL},
                                           {0, 23, NULL},
                                           {1, 31, NULL},
                                           {1, 12, month_names},
                                           {0, 6, dow_names}};
        uint64_t *bits[5] = {&cs.minute, &cs.hour, &cs.dom, &cs.month, &cs.dow};
        bool ignore = false;
        bool *stars[5] = {&ignore, &ignore, &cs.dom_star, &ignore, &cs.dow_star};
        for (int i = 0; i < 5; i++) {
                int r = parse_field(fields[i], &b[i], bits[i], stars[i], err);
                if (r < 0)
                        return r;
        }
        *ret = cs;
        return 0;
}

/* ---- time zones ---- */

struct cron_tz {
        size_t n;     /* transitions */
        int64_t *at;  /* transition instants, ascending */
        int32_t *off; /* offset from at[i] on */
        int32_t off0; /* before the first transition */
};

static int64_t be(const unsigned char *p, int n)
{
        uint64_t v = 0;
        for (int i = 0; i < n; i++)
                v = v << 8 | p[i];
        if (n == 4)
                return (int32_t)(uint32_t)v;
        return (int64_t)v;
}

int cron_tz_parse(const void *data, size_t len, struct cron_tz **ret, struct error *err)
{
        const unsigned char *p = data;
        if (len < 44 || memcmp(p, "TZif", 4))
                return error_set(err, -EINVAL, "not a TZif file");
        int version = p[4] ? p[4] - '0' : 1;
        size_t pos = 0;
        int tsize = 4;
        for (int pass = 0; pass < 2; pass++) {
                if (len - pos < 44 || memcmp(p + pos, "TZif", 4))
                        return error_set(err, -EINVAL, "bad TZif header");
                const unsigned char *h = p + pos + 20;
                uint64_t isut = (uint32_t)be(h, 4), isstd = (uint32_t)be(h + 4, 4),
                         leap = (uint32_t)be(h + 8, 4), timecnt = (uint32_t)be(h + 12, 4),
                         typecnt = (uint32_t)be(h + 16, 4), charcnt = (uint32_t)be(h + 20, 4);
                if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || leap > 100000 ||
                    charcnt > 100000 || isut > 256 || isstd > 256)
                        return error_set(err, -EINVAL, "bad TZif counts");
                uint64_t body = timecnt * (uint64_t)tsize + timecnt + typecnt * 6 + charcnt +
                                leap * (uint64_t)(tsize + 4) + isstd + isut;
                if (body > len - pos - 44)
                        return error_set(err, -EINVAL, "truncated TZif data");
                if (pass == 0 && version >= 2) {
                        pos += 44 + body; /* skip the 32-bit block */
                        tsize = 8;
                        continue;
                }
                const unsigned char *t = p + pos + 44;
                const unsigned char *idx = t + timecnt * tsize;
                const unsigned char *types = idx + timecnt;
                struct cron_tz *tz = xcalloc(1, sizeof(*tz));
                tz->n = timecnt;
                tz->at = xcalloc(timecnt ? timecnt : 1, sizeof(int64_t));
                tz->off = xcalloc(timecnt ? timecnt : 1, sizeof(int32_t));
                /* before the first transition: the first non-DST type, else type 0 */
                tz->off0 = (int32_t)be(types, 4);
                for (uint64_t k = 0; k < typecnt; k++)
                        if (!types[k * 6 + 4]) {
                                tz->off0 = (int32_t)be(types + k * 6, 4);
                                break;
                        }
                for (uint64_t k = 0; k < timecnt; k++) {
                        tz->at[k] = be(t + k * tsize, tsize);
                        unsigned ti = idx[k];
                        if (ti >= typecnt || (k && tz->at[k] < tz->at[k - 1])) {
                                cron_tz_free(tz);
                                return error_set(err, -EINVAL, "bad TZif transition");
                        }
                        tz->off[k] = (int32_t)be(types + ti * 6, 4);
                }
                *ret = tz;
                return 0;
        }
        return error_set(err, -EINVAL, "bad TZif data");
}

int cron_tz_load(const char *name, struct cron_tz **ret, struct error *err)
{
        if (!name || !*name || name[0] == '/' || strstr(name, "..") || strlen(name) > 255)
                return error_set(err, -EINVAL, "invalid time zone %s", name ? name : "");
        if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC")) {
                *ret = NULL;
                return 0;
        }
        _cleanup_free_ char *path = xasprintf("/usr/share/zoneinfo/%s", name);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, -ENOENT, "unknown time zone %s", name);
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)CRON_TZ_MAX)
                return error_set(err, -EINVAL, "invalid time zone %s", name);
        _cleanup_free_ char *buf = xmalloc((size_t)st.st_size + 1);
        size_t got = 0;
        while (got < (size_t)st.st_size) {
                ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
                if (k <= 0)
                        return error_set(err, -EIO, "reading time zone %s", name);
                got += (size_t)k;
        }
        return cron_tz_parse(buf, got, ret, err);
}

void cron_tz_free(struct cron_tz *tz)
{
        if (!tz)
                return;
        free(tz->at);
        free(tz->off);
        free(tz);
}

int32_t cron_tz_offset(const struct cron_tz *tz, time_t t)
{
        if (!tz)
                return 0;
        if (!tz->n || (int64_t)t < tz->at[0])
                return tz->off0;
        size_t lo = 0, hi = tz->n; /* last transition <= t */
        while (hi - lo > 1) {
                size_t mid = (lo + hi) / 2;
                if (tz->at[mid] <= (int64_t)t)
                        lo = mid;
                else
                        hi = mid;
        }
        return tz->off[lo];
}

/* ---- next activation ---- */

static bool bit(uint64_t set, int v)
{
        return (set >> v) & 1;
}

static bool day_matches(const struct cron_schedule *s, const struct tm *tm)
{
        bool d = bit(s->dom, tm->tm_mday), w = bit(s->dow, tm->tm_wday);
        if (s->dom_star || s->dow_star)
                return d && w;
        return d || w;
}

/* wall-clock seconds (as if UTC) -> real instant in tz */
static time_t wall_to_utc(const struct cron_tz *tz, time_t wall)
{
        time_t guess = wall - cron_tz_offset(tz, wall);
        return wall - cron_tz_offset(tz, guess);
}

time_t cron_next(const struct cron_schedule *s, const struct cron_tz *tz, time_t t)
{
        if (s->every_s > 0)
                return t + s->every_s;
        time_t wall = t + cron_tz_offset(tz, t);
        struct tm tm;
        wall = wall - (wall % 60 + 60) % 60 + 60; /* next whole minute */
        gmtime_r(&wall, &tm);
        int year_limit = tm.tm_year + 5;
        bool added = false;
wrap:
        if (tm.tm_year > year_limit)
                return 0;
        while (!bit(s->month, tm.tm_mon + 1)) {
                if (!added) {
                        added = true;
                        tm.tm_mday = 1;
                        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
                }
                tm.tm_mon++;
                timegm(&tm);
                if (tm.tm_mon == 0)
                        goto wrap;
        }
        while (!day_matches(s, &tm)) {
                if (!added) {
                        added = true;
                        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
                }
                tm.tm_mday++;
                timegm(&tm);
                if (tm.tm_mday == 1)
                        goto wrap;
        }
        while (!bit(s->hour, tm.tm_hour)) {
                if (!added) {
                        added = true;
                        tm.tm_min = tm.tm_sec = 0;
                }
                tm.tm_hour++;
                timegm(&tm);
                if (tm.tm_hour == 0)
                        goto wrap;
        }
        while (!bit(s->minute, tm.tm_min)) {
                if (!added) {
                        added = true;
                        tm.tm_sec = 0;
                }
                tm.tm_min++;
                timegm(&tm);
                if (tm.tm_min == 0)
                        goto wrap;
        }
        time_t next = wall_to_utc(tz, timegm(&tm));
        if (next <= t) /* a DST fold can map back; move on by a minute */
                return cron_next(s, tz, t + 60);
        return next;
}
