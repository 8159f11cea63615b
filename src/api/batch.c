/* batch.c — batch/v1 defaults and validation (see batch.h). */
#include "api/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "api/cron.h"
#include "api/meta.h"
#include "api/podtemplate.h"
#include "api/strategy.h"
#include "common/kjson.h"

static const char *const rp_job[] = {"OnFailure", "Never", NULL};

static void set_default(json_t *obj, const char *key, json_t *v)
{
        if (!json_object_get(obj, key) || json_is_null(json_object_get(obj, key)))
                json_object_set_new(obj, key, v);
        else
                json_decref(v);
}

/* JobSpec defaults (SetDefaults_Job), not the template. */
static void job_spec_defaults(json_t *spec)
{
        bool has_c = json_is_integer(json_object_get(spec, "completions"));
        bool has_p = json_is_integer(json_object_get(spec, "parallelism"));
        if (!has_c && !has_p) {
                json_object_set_new(spec, "completions", json_integer(1));
                json_object_set_new(spec, "parallelism", json_integer(1));
        }
        set_default(spec, "parallelism", json_integer(1));
        if (!json_object_get(spec, "backoffLimitPerIndex"))
                set_default(spec, "backoffLimit", json_integer(6));
        set_default(spec, "completionMode", json_string("NonIndexed"));
        set_default(spec, "suspend", json_false());
        if (!json_object_get(spec, "podFailurePolicy"))
                set_default(spec, "podReplacementPolicy", json_string("TerminatingOrFailed"));
        json_t *tmpl = json_object_get(spec, "template");
        if (json_is_object(tmpl))
                podtemplate_defaults(tmpl);
}

void batch_job_defaults(json_t *obj)
{
        json_t *spec = kjson_obj_ensure(obj, "spec");
        job_spec_defaults(spec);
        const char *uid = kjson_str(obj, "metadata.uid");
        const char *name = kjson_str(obj, "metadata.name");
        if (!uid || !name || kjson_bool(spec, "manualSelector", false) ||
            json_object_get(spec, "selector"))
                return;
        /* generateSelector (PrepareForCreate) */
        json_object_set_new(
                spec, "selector",
                json_pack("{s:{s:s}}", "matchLabels", "batch.kubernetes.io/controller-uid", uid));
        json_t *labels =
                kjson_obj_ensure_path(kjson_obj_ensure(spec, "template"), "metadata.labels");
        set_default(labels, "batch.kubernetes.io/controller-uid", json_string(uid));
        set_default(labels, "batch.kubernetes.io/job-name", json_string(name));
        set_default(labels, "controller-uid", json_string(uid));
        set_default(labels, "job-name", json_string(name));
}

static void validate_job_spec(const json_t *spec, const char *prefix, bool selector, json_t *causes)
{
        char f[128];
        static const char *const nonneg[] = {"parallelism", "completions", "backoffLimit",
                                             "ttlSecondsAfterFinished"};
        for (size_t i = 0; i < ARRAY_SIZE(nonneg); i++) {
                const json_t *v = json_object_get(spec, nonneg[i]);
                snprintf(f, sizeof(f), "%s.%s", prefix, nonneg[i]);
                if (json_is_integer(v) && json_integer_value(v) < 0)
                        meta_cause_add_json(causes, "FieldValueInvalid", f, v,
                                            "must be greater than or equal to 0");
        }
        const json_t *ads = json_object_get(spec, "activeDeadlineSeconds");
        if (json_is_integer(ads) && json_integer_value(ads) <= 0) {
                snprintf(f, sizeof(f), "%s.activeDeadlineSeconds", prefix);
                meta_cause_add_json(causes, "FieldValueInvalid", f, ads, "must be greater than 0");
        }
        const char *cm = kjson_str(spec, "completionMode");
        if (cm && strcmp(cm, "NonIndexed") && strcmp(cm, "Indexed")) {
                snprintf(f, sizeof(f), "%s.completionMode", prefix);
                meta_cause_add(causes, "FieldValueNotSupported", f, cm,
                               "supported values: \"NonIndexed\", \"Indexed\"");
        }
        const json_t *tmpl = json_object_get(spec, "template");
        snprintf(f, sizeof(f), "%s.template", prefix);
        if (selector) {
                char sf[128], lf[160];
                snprintf(sf, sizeof(sf), "%s.selector", prefix);
                snprintf(lf, sizeof(lf), "%s.template.metadata.labels", prefix);
                podtemplate_validate_selector(json_object_get(spec, "selector"),
                                              json_is_object(tmpl) ? tmpl : NULL, sf, lf, "job",
                                              causes);
        }
        podtemplate_validate(tmpl, f, rp_job, true, causes);
}

void batch_job_validate(const json_t *obj, json_t *causes)
{
        validate_job_spec(json_object_get(obj, "spec"), "spec", true, causes);
}

void batch_job_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes)
{
        strategy_check_immutable(newobj, oldobj, "spec.selector", causes);
        if (!kjson_bool(oldobj, "spec.suspend", false))
                strategy_check_immutable(newobj, oldobj, "spec.template", causes);
        const char *cm = kjson_str(newobj, "spec.completionMode");
        if (!cm || strcmp(cm, "Indexed"))
                strategy_check_immutable(newobj, oldobj, "spec.completions", causes);
        strategy_check_immutable(newobj, oldobj, "spec.completionMode", causes);
}

void batch_cronjob_defaults(json_t *obj)
{
        json_t *spec = kjson_obj_ensure(obj, "spec");
        set_default(spec, "concurrencyPolicy", json_string("Allow"));
        set_default(spec, "suspend", json_false());
        set_default(spec, "successfulJobsHistoryLimit", json_integer(3));
        set_default(spec, "failedJobsHistoryLimit", json_integer(1));
        json_t *jt = kjson_obj_ensure(spec, "jobTemplate");
        set_default(kjson_obj_ensure(jt, "metadata"), "creationTimestamp", json_null());
        json_t *tmpl = kjson_get(jt, "spec.template");
        if (json_is_object(tmpl))
                podtemplate_defaults(tmpl);
}

void batch_cronjob_validate(const json_t *obj, json_t *causes)
{
        const json_t *spec = json_object_get(obj, "spec");
        const char *name = kjson_str(obj, "metadata.name");
        if (name && strlen(name) > 52)
                meta_cause_add(causes, "FieldValueInvalid", "metadata.name", name,
                               "must be no more than 52 characters");
        const char *sched = kjson_str(spec, "schedule");
        if (!sched || !*sched)
                meta_cause_add(causes, "FieldValueRequired", "spec.schedule", NULL, "");
        else if (!strncmp(sched, "TZ=", 3) || !strncmp(sched, "CRON_TZ=", 8))
                meta_cause_add(causes, "FieldValueInvalid", "spec.schedule", sched,
                               "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
        else {
                /* Kubernetes: field.Invalid(schedule, cron.ParseStandard's error) */
                struct cron_schedule cs;
                struct error cerr = {0};
                if (cron_parse(sched, &cs, &cerr) < 0)
                        meta_cause_add(causes, "FieldValueInvalid", "spec.schedule", sched,
                                       error_msg(&cerr));
        }
        const char *cp = kjson_str(spec, "concurrencyPolicy");
        if (cp && strcmp(cp, "Allow") && strcmp(cp, "Forbid") && strcmp(cp, "Replace"))
                meta_cause_add(causes, "FieldValueNotSupported", "spec.concurrencyPolicy", cp,
                               "supported values: \"Allow\", \"Forbid\", \"Replace\"");
        strategy_check_nonneg(obj, "spec.startingDeadlineSeconds", causes);
        strategy_check_nonneg(obj, "spec.successfulJobsHistoryLimit", causes);
        strategy_check_nonneg(obj, "spec.failedJobsHistoryLimit", causes);
        validate_job_spec(kjson_get(spec, "jobTemplate.spec"), "spec.jobTemplate.spec", false,
                          causes);
}
