/* timefmt.h — RFC 3339 timestamps (UTC, "Z") and kubectl's human durations. */
#pragma once
#include <time.h>

#include "common/base.h"

/* "2026-01-01T00:00:00Z" */
void timefmt_rfc3339(char buf[32], time_t t);

/* "2026-01-01T00:00:00.123456789Z" (Kubernetes MicroTime uses 6 digits: see _micro). */
void timefmt_rfc3339nano(char buf[40], const struct timespec *ts);

/* "2026-01-01T00:00:00.123456Z" (metav1.MicroTime format). */
void timefmt_rfc3339micro(char buf[40], const struct timespec *ts);

/* Parse "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" (also lower-case t/z). Returns 0 and
 * *ret (UTC), or -EINVAL. */
int timefmt_parse_rfc3339(const char *s, struct timespec *ret);

/* k8s.io/apimachinery/pkg/util/duration.HumanDuration: "5s", "3m20s", "45m", "5h30m", "3d",
 * "3d4h", "400d", "2y30d", "9y". -1s..0 print "0s"; below -1s
 * "<invalid>". */
void timefmt_age(char buf[16], int64_t seconds);

/* Same with sub-second input (duration.HumanDuration takes a time.Duration). */
void timefmt_age_ns(char buf[16], int64_t nanoseconds);

/* k8s.io/apimachinery/pkg/util/duration.ShortHumanDuration: "5s", "3m", "5h", "3d", "2y". */
void timefmt_age_short(char buf[16], int64_t seconds);
