/* cronjob.c — the CronJob controller (see cronjob.h). */
#include "controllers/cronjob.h"

#include <stdio.h>
#include <stdlib.h>

#include "api/cron.h"
#include "common/kjson.h"
#include "common/timefmt.h"
#include "controllers/controllers-internal.h"
#include "controllers/podcontrol.h"
#include "controllers/util.h"

#define COMP "cronjob-controller"
#define MAX_MISSED_SCAN 100000

void cronjob_format_time(char buf[40], time_t t, int32_t off)
{
        time_t wall = t + off;
        struct tm tm;
        gmtime_r(&wall, &tm);
        int n = (int)strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
        if (off == 0)
                snprintf(buf + n, (size_t)(40 - n), "Z");
        else
                snprintf(buf + n, (size_t)(40 - n), "%c%02d:%02d", off < 0 ? '-' : '+',
                         abs(off) / 3600, abs(off) % 3600 / 60);
}

static bool job_cond(const json_t *job, const char *type)
{
        json_t *c = controllers_condition_get(kjson_get(job, "status"), type);
        return c && !strcmp(kjson_str(c, "status") ?: "", "True");
}

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        const json_t *obj = cur ? cur : old;
        if (res == CTL_CRONJOBS) {
                _cleanup_free_ char *k = controllers_key(obj);
                workqueue_add(c->wq, k);
        } else if (res == CTL_JOBS) {
                json_t *ref = controllers_controller_ref(obj);
                if (!ref ||
                    strcmp(json_string_value(json_object_get(ref, "kind")) ?: "", "CronJob"))
                        return;
                _cleanup_free_ char *k =
                        xasprintf("%s/%s", kjson_str(obj, "metadata.namespace") ?: "",
                                  json_string_value(json_object_get(ref, "name")) ?: "");
                workqueue_add(c->wq, k);
        }
}

static int delete_job(struct kclient *kc, const char *ns, const char *name)
{
        struct error err = {0};
        _cleanup_free_ char *path = xasprintf("/apis/batch/v1/namespaces/%s/jobs/%s", ns, name);
        json_t *opts = json_pack("{s:s, s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1",
                                 "propagationPolicy", "Background");
        int r = kclient_delete(kc, path, opts, NULL, &err);
        json_decref(opts);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                log_debug(COMP, "delete %s: %s", path, error_msg(&err));
        return r;
}

static json_t *job_ref(const json_t *job)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "apiVersion", "batch/v1", "kind", "Job",
                         "name", kjson_str(job, "metadata.name") ?: "", "namespace",
                         kjson_str(job, "metadata.namespace") ?: "", "uid",
                         kjson_str(job, "metadata.uid") ?: "", "resourceVersion",
                         kjson_str(job, "metadata.resourceVersion") ?: "");
}

static int cmp_start(const void *pa, const void *pb)
{
        const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
        time_t ta = controllers_time(a, "status.startTime")
                            ?: controllers_time(a, "metadata.creationTimestamp");
        time_t tb = controllers_time(b, "status.startTime")
                            ?: controllers_time(b, "metadata.creationTimestamp");
        if (ta != tb)
                return ta < tb ? -1 : 1;
        return strcmp(kjson_str(a, "metadata.name") ?: "", kjson_str(b, "metadata.name") ?: "");
}

/* Delete the oldest finished jobs beyond the limits. */
static void cleanup_history(struct kclient *kc, const json_t *cj, json_t *jobs)
{
        const char *ns = kjson_str(cj, "metadata.namespace") ?: "";
        for (int pass = 0; pass < 2; pass++) {
                const char *type = pass ? "Failed" : "Complete";
                int64_t limit = kjson_int(cj,
                                          pass ? "spec.failedJobsHistoryLimit"
                                               : "spec.successfulJobsHistoryLimit",
                                          pass ? 1 : 3);
                size_t n = 0;
                json_t **v = xcalloc(json_array_size(jobs) + 1, sizeof(*v));
                json_t *j;
                size_t i;
                json_array_foreach(jobs, i, j) if (job_cond(j, type)) v[n++] = j;
                qsort(v, n, sizeof(*v), cmp_start);
                for (i = 0; (int64_t)(n - i) > limit; i++) {
                        const char *name = kjson_str(v[i], "metadata.name") ?: "";
                        if (delete_job(kc, ns, name) == 0)
                                manager_event(kc, COMP, cj, "Normal", "SuccessfulDelete",
                                              "Deleted job %s", name);
                }
                free(v);
        }
}

static int put_status(struct kclient *kc, const json_t *cj, json_t *status)
{
        if (kjson_equal(status, kjson_get(cj, "status")))
                return 0;
        int r = podcontrol_put_status(kc, "/apis/batch/v1", "cronjobs", cj, status, NULL);
        return r == -ENOENT ? 0 : r;
}

static void requeue_at(struct controller *c, const char *key, time_t when)
{
        if (!when)
                return;
        int64_t ms = ((int64_t)when - (int64_t)time(NULL)) * 1000 + 100;
        workqueue_add_after(c->wq, key, MAX(ms, 100));
}

static int cj_sync(struct controller *c, struct kclient *kc, const char *key)
{
        struct error err = {0};
        _cleanup_free_ char *ns = NULL;
        const char *name;
        controllers_key_split(key, &ns, &name);
        _cleanup_json_ json_t *cj = manager_cache_get(c->m, CTL_CRONJOBS, ns, name);
        if (!cj)
                return 0;
        const char *uid = kjson_str(cj, "metadata.uid") ?: "";
        _cleanup_json_ json_t *all = manager_cache_list(c->m, CTL_JOBS, ns);
        _cleanup_json_ json_t *jobs = json_array();
        json_t *j;
        size_t i;
        json_array_foreach(all, i, j)
        {
                json_t *ref = controllers_controller_ref(j);
                if (ref && !strcmp(json_string_value(json_object_get(ref, "uid")) ?: "", uid))
                        json_array_append(jobs, j);
        }
        _cleanup_json_ json_t *st = json_is_object(kjson_get(cj, "status"))
                                            ? json_deep_copy(kjson_get(cj, "status"))
                                            : json_object();
        /* status.active: the running jobs we own; note completions */
        json_t *active = json_array();
        time_t last_ok = controllers_time(st, "lastSuccessfulTime");
        json_array_foreach(jobs, i, j)
        {
                bool done = job_cond(j, "Complete"), failed = job_cond(j, "Failed");
                if (!done && !failed) {
                        json_array_append_new(active, job_ref(j));
                        continue;
                }
                bool was_active = false;
                json_t *r;
                size_t k;
                json_array_foreach(json_object_get(st, "active"), k,
                                   r) if (!strcmp(kjson_str(r, "uid") ?: "",
                                                  kjson_str(j, "metadata.uid") ?: "")) was_active =
                        true;
                if (was_active)
                        manager_event(kc, COMP, cj, "Normal", "SawCompletedJob",
                                      "Saw completed job: %s, condition: %s",
                                      kjson_str(j, "metadata.name"), done ? "Complete" : "Failed");
                if (done) {
                        time_t t = controllers_time(j, "status.completionTime");
                        if (t > last_ok)
                                last_ok = t;
                }
        }
        if (json_array_size(active))
                json_object_set_new(st, "active", active);
        else {
                json_object_del(st, "active");
                json_decref(active);
                active = NULL;
        }
        if (last_ok) {
                char buf[32];
                timefmt_rfc3339(buf, last_ok);
                json_object_set_new(st, "lastSuccessfulTime", json_string(buf));
        }
        if (kjson_get(cj, "metadata.deletionTimestamp"))
                return put_status(kc, cj, st);

        struct cron_schedule sched;
        const char *spec = kjson_str(cj, "spec.schedule") ?: "";
        if (cron_parse(spec, &sched, &err) < 0) {
                manager_event(kc, COMP, cj, "Warning", "UnparseableSchedule",
                              "unparseable schedule: \"%s\" : %s", spec, error_msg(&err));
                return put_status(kc, cj, st);
        }
        _cleanup_(cron_tz_freep) struct cron_tz *tz = NULL;
        const char *tzname = kjson_str(cj, "spec.timeZone");
        if (tzname && cron_tz_load(tzname, &tz, &err) < 0) {
                manager_event(kc, COMP, cj, "Warning", "UnknownTimeZone",
                              "invalid timeZone: \"%s\": %s", tzname, error_msg(&err));
                return put_status(kc, cj, st);
        }
        if (kjson_bool(cj, "spec.suspend", false))
                return put_status(kc, cj, st);

        time_t now = time(NULL);
        time_t earliest = controllers_time(st, "lastScheduleTime");
        if (!earliest)
                earliest = controllers_time(cj, "metadata.creationTimestamp");
        json_t *sds = kjson_get(cj, "spec.startingDeadlineSeconds");
        if (json_is_integer(sds) && earliest < now - json_integer_value(sds))
                earliest = now - json_integer_value(sds);
        time_t t = cron_next(&sched, tz, earliest);
        if (!t || t > now) {
                int r = put_status(kc, cj, st);
                requeue_at(c, key, t);
                return r;
        }
        time_t recent = t;
        int64_t missed = 1;
        for (time_t n; (n = cron_next(&sched, tz, recent)) && n <= now && missed < MAX_MISSED_SCAN;
             missed++)
                recent = n;
        if (missed > 100)
                manager_event(kc, COMP, cj, "Warning", "TooManyMissedTimes",
                              "too many missed start times: %lld. Set or decrease "
                              ".spec.startingDeadlineSeconds or check clock skew",
                              (long long)missed);
        time_t next = cron_next(&sched, tz, now);
        if (json_is_integer(sds) && recent + json_integer_value(sds) < now) {
                char buf[40];
                cronjob_format_time(buf, recent, cron_tz_offset(tz, recent));
                manager_event(kc, COMP, cj, "Warning", "MissSchedule",
                              "Missed scheduled time to start a job: %s", buf);
                int r = put_status(kc, cj, st);
                requeue_at(c, key, next);
                return r;
        }
        _cleanup_free_ char *jname = xasprintf("%s-%lld", name, (long long)(recent / 60));
        bool exists = false;
        json_array_foreach(jobs, i, j) if (!strcmp(kjson_str(j, "metadata.name") ?: "", jname))
                exists = true;
        const char *policy = kjson_str(cj, "spec.concurrencyPolicy") ?: "Allow";
        if (exists || (!strcmp(policy, "Forbid") && active)) {
                int r = put_status(kc, cj, st);
                requeue_at(c, key, next);
                return r;
        }
        if (!strcmp(policy, "Replace") && active) {
                json_t *r;
                json_array_foreach(active, i, r)
                {
                        if (delete_job(kc, ns, kjson_str(r, "name") ?: "") == 0)
                                manager_event(kc, COMP, cj, "Normal", "SuccessfulDelete",
                                              "Deleted job %s", kjson_str(r, "name"));
                }
                json_object_del(st, "active");
                active = NULL;
        }
        /* the Job */
        json_t *jt = kjson_get(cj, "spec.jobTemplate");
        json_t *job =
                json_pack("{s:s, s:s, s:{s:s, s:s, s:[o]}, s:O}", "apiVersion", "batch/v1", "kind",
                          "Job", "metadata", "name", jname, "namespace", ns, "ownerReferences",
                          controllers_owner_ref_new(cj, "batch/v1", "CronJob"), "spec",
                          json_object_get(jt, "spec") ?: json_object());
        json_t *meta = json_object_get(job, "metadata");
        json_t *l = kjson_get(jt, "metadata.labels"), *a = kjson_get(jt, "metadata.annotations");
        if (json_is_object(l))
                json_object_set_new(meta, "labels", json_deep_copy(l));
        json_t *ann = json_is_object(a) ? json_deep_copy(a) : json_object();
        char stamp[40];
        cronjob_format_time(stamp, recent, cron_tz_offset(tz, recent));
        json_object_set_new(ann, CRONJOB_SCHEDULED_ANNOTATION, json_string(stamp));
        json_object_set_new(meta, "annotations", ann);
        json_t *created = NULL;
        _cleanup_free_ char *coll = xasprintf("/apis/batch/v1/namespaces/%s/jobs", ns);
        int r = kclient_create(kc, coll, job, &created, &err);
        json_decref(job);
        if (r == -EEXIST) {
                r = 0; /* made before a restart: the cache shows it soon */
        } else if (r < 0) {
                manager_event(kc, COMP, cj, "Warning", "FailedCreate", "Error creating job: %s",
                              error_msg(&err));
                json_decref(created);
                return r;
        } else {
                manager_event(kc, COMP, cj, "Normal", "SuccessfulCreate", "Created job %s", jname);
                json_t *act = json_object_get(st, "active");
                if (!json_is_array(act)) {
                        act = json_array();
                        json_object_set_new(st, "active", act);
                }
                json_array_append_new(act, job_ref(created));
        }
        json_decref(created);
        char buf[32];
        timefmt_rfc3339(buf, recent);
        json_object_set_new(st, "lastScheduleTime", json_string(buf));
        r = put_status(kc, cj, st);
        cleanup_history(kc, cj, jobs);
        requeue_at(c, key, next);
        return r;
}

void cronjob_controller_init(struct controller *c)
{
        c->name = "cronjob";
        c->needs = 1u << CTL_JOBS | 1u << CTL_CRONJOBS;
        c->on_event = on_event;
        c->sync = cj_sync;
}
