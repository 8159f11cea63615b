/* timefmt.c — RFC 3339 and kubectl's human durations. */
#include "common/timefmt.h"

#include <stdio.h>

void timefmt_rfc3339(char buf[32], time_t t)
{
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void timefmt_rfc3339nano(char buf[40], const struct timespec *ts)
{
        struct tm tm;
        char base[24];
        gmtime_r(&ts->tv_sec, &tm);
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, 40, "%.24s.%09dZ", base, (int)(ts->tv_nsec % 1000000000));
}

void timefmt_rfc3339micro(char buf[40], const struct timespec *ts)
{
        struct tm tm;
        char base[24];
        gmtime_r(&ts->tv_sec, &tm);
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, 40, "%.24s.%06dZ", base, (int)((ts->tv_nsec / 1000) % 1000000));
}

static int digits(const char **p, int n, int *ret)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                char c = (*p)[i];
                if (c < '0' || c > '9')
                        return -EINVAL;
                v = v * 10 + (c - '0');
        }
        *p += n;
        *ret = v;
        return 0;
}

static int expect(const char **p, char c)
{
        if (**p != c)
                return -EINVAL;
        (*p)++;
        return 0;
}

int timefmt_parse_rfc3339(const char *s, struct timespec *ret)
{
        int Y, M, D, h, m, sec;
        long nsec = 0;
        const char *p = s;
        if (!s)
                return -EINVAL;
        if (digits(&p, 4, &Y) < 0 || expect(&p, '-') < 0 || digits(&p, 2, &M) < 0 ||
            expect(&p, '-') < 0 || digits(&p, 2, &D) < 0)
                return -EINVAL;
        if (*p != 'T' && *p != 't')
                return -EINVAL;
        p++;
        if (digits(&p, 2, &h) < 0 || expect(&p, ':') < 0 || digits(&p, 2, &m) < 0 ||
            expect(&p, ':') < 0 || digits(&p, 2, &sec) < 0)
                return -EINVAL;
        if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
                return -EINVAL;
        if (*p == '.') {
                p++;
                int nd = 0;
                long scale = 100000000;
                while (*p >= '0' && *p <= '9') {
                        if (nd < 9) {
                                nsec += (*p - '0') * scale;
                                scale /= 10;
                        }
                        nd++;
                        p++;
                }
                if (!nd)
                        return -EINVAL;
        }
        long off = 0;
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                int sign = *p == '-' ? -1 : 1, oh, om;
                p++;
                if (digits(&p, 2, &oh) < 0 || expect(&p, ':') < 0 || digits(&p, 2, &om) < 0)
                        return -EINVAL;
                if (oh > 23 || om > 59)
                        return -EINVAL;
                off = sign * (oh * 3600L + om * 60L);
        } else {
                return -EINVAL;
        }
        if (*p)
                return -EINVAL;
        struct tm tm = {.tm_year = Y - 1900,
                        .tm_mon = M - 1,
                        .tm_mday = D,
                        .tm_hour = h,
                        .tm_min = m,
                        .tm_sec = sec};
        time_t t = timegm(&tm);
        ret->tv_sec = t - off;
        ret->tv_nsec = nsec;
        return 0;
}

void timefmt_age_ns(char buf[16], int64_t ns)
{
        /* truncates toward zero, like int(d.Seconds()) */
        timefmt_age(buf, ns / 1000000000LL);
}

void timefmt_age(char buf[16], int64_t seconds)
{
        if (seconds < -1) {
                snprintf(buf, 16, "<invalid>");
                return;
        }
        if (seconds < 0) {
                snprintf(buf, 16, "0s");
                return;
        }
        if (seconds < 60 * 2) {
                snprintf(buf, 16, "%llds", (long long)seconds);
                return;
        }
        long long minutes = seconds / 60;
        if (minutes < 10) {
                long long s = seconds % 60;
                if (s == 0)
                        snprintf(buf, 16, "%lldm", minutes);
                else
                        snprintf(buf, 16, "%lldm%llds", minutes, s);
                return;
        }
        if (minutes < 60 * 3) {
                snprintf(buf, 16, "%lldm", minutes);
                return;
        }
        long long hours = seconds / 3600;
        if (hours < 8) {
                long long mm = minutes % 60;
                if (mm == 0)
                        snprintf(buf, 16, "%lldh", hours);
                else
                        snprintf(buf, 16, "%lldh%lldm", hours, mm);
        } else if (hours < 48) {
                snprintf(buf, 16, "%lldh", hours);
        } else if (hours < 24 * 8) {
                long long hh = hours % 24;
                if (hh == 0)
                        snprintf(buf, 16, "%lldd", hours / 24);
                else
                        snprintf(buf, 16, "%lldd%lldh", hours / 24, hh);
        } else if (hours < 24 * 365 * 2) {
                snprintf(buf, 16, "%lldd", hours / 24);
        } else if (hours < 24 * 365 * 8) {
                long long dy = (hours / 24) % 365;
                if (dy == 0)
                        snprintf(buf, 16, "%lldy", hours / 24 / 365);
                else
                        snprintf(buf, 16, "%lldy%lldd", hours / 24 / 365, dy);
        } else {
                snprintf(buf, 16, "%lldy", hours / 24 / 365);
        }
}

void timefmt_age_short(char buf[16], int64_t seconds)
{
        if (seconds < -1)
                snprintf(buf, 16, "<invalid>");
        else if (seconds < 0)
                snprintf(buf, 16, "0s");
        else if (seconds < 60)
                snprintf(buf, 16, "%llds", (long long)seconds);
        else if (seconds < 3600)
                snprintf(buf, 16, "%lldm", (long long)(seconds / 60));
        else if (seconds < 86400)
                snprintf(buf, 16, "%lldh", (long long)(seconds / 3600));
        else if (seconds < 86400LL * 365)
                snprintf(buf, 16, "%lldd", (long long)(seconds / 86400));
        else
                snprintf(buf, 16, "%lldy", (long long)(seconds / 86400 / 365));
}
