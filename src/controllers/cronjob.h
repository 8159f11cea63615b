/* cronjob.h — the CronJob controller (cronjob_controllerv2.go): at each activation of
 * spec.schedule (cron.h, on the wall clock of spec.timeZone, else UTC) it creates the Job
 * "<cronjob>-<minutes since the epoch>" from spec.jobTemplate (annotation
 * batch.kubernetes.io/cronjob-scheduled-timestamp), honouring suspend,
 * startingDeadlineSeconds (MissSchedule), concurrencyPolicy (Allow / Forbid / Replace) and the
 * successful/failed history limits; status.active, lastScheduleTime, lastSuccessfulTime. A
 * schedule or time zone that does not parse gives a Warning event (UnparseableSchedule /
 * UnknownTimeZone) and the CronJob is left alone. */
#pragma once
#include <jansson.h>
#include <time.h>

#include "common/base.h"

#define CRONJOB_SCHEDULED_ANNOTATION "batch.kubernetes.io/cronjob-scheduled-timestamp"

/* RFC 3339 of t on a wall clock offset_s east of UTC ("Z" for 0, else "+hh:mm"). */
void cronjob_format_time(char buf[40], time_t t, int32_t offset_s);
