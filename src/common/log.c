/* log.c — one line per message, written with a single write(2) so threads do not interleave. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum log_level level = LOG_INFO;

void log_set_level(enum log_level lvl) { level = lvl; }
enum log_level log_get_level(void) { return level; }

void log_msg(enum log_level lvl, const char *comp, const char *fmt, ...)
{
        if (lvl > level)
                return;
        static const char letters[] = "EWID";
        char line[2048];
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %c %s: ",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, ts.tv_nsec / 1000000, letters[lvl], comp);
        va_list ap;
        va_start(ap, fmt);
        if (n < (int)sizeof(line))
                n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof(line) - 1)
                n = sizeof(line) - 2;
        line[n++] = '\n';
        ssize_t UNUSED w = write(2, line, n);
}
