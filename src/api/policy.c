/* policy.c — PodDisruptionBudget, HorizontalPodAutoscaler, PriorityClass (see policy.h). */
#include "api/policy.h"

#include <stdio.h>
#include <stdlib.h>

#include "api/labels.h"
#include "api/meta.h"
#include "api/strategy.h"
#include "common/kjson.h"

#define PRIORITY_USER_MAX 1000000000

/* IntOrString: >= 0; a percentage must be "N%" with N <= 100. */
static void validate_int_or_percent(const json_t *v, const char *field, json_t *causes)
{
        if (!v)
                return;
        if (json_is_integer(v)) {
                if (json_integer_value(v) < 0)
                        meta_cause_add_json(causes, "FieldValueInvalid", field, v,
                                            "must be greater than or equal to 0");
                return;
        }
        const char *s = json_string_value(v);
        char *end = NULL;
        long n = s ? strtol(s, &end, 10) : -1;
        if (!s || end == s || strcmp(end, "%")) {
                meta_cause_add_json(causes, "FieldValueInvalid", field, v,
                                    "a valid percent string must be a numeric string followed by "
                                    "an ending '%' (e.g. '1%',  or '93%', regex used for "
                                    "validation is '[0-9]+%')");
                return;
        }
        if (n < 0)
                meta_cause_add_json(causes, "FieldValueInvalid", field, v,
                                    "must be greater than or equal to 0");
        else if (n > 100)
                meta_cause_add_json(causes, "FieldValueInvalid", field, v,
                                    "must not be greater than 100%");
}

void policy_pdb_validate(const json_t *obj, json_t *causes)
{
        const json_t *spec = json_object_get(obj, "spec");
        const json_t *min = json_object_get(spec, "minAvailable");
        const json_t *max = json_object_get(spec, "maxUnavailable");
        if (min && max)
                meta_cause_add_json(causes, "FieldValueInvalid", "spec", spec,
                                    "minAvailable and maxUnavailable cannot be both set");
        validate_int_or_percent(min, "spec.minAvailable", causes);
        validate_int_or_percent(max, "spec.maxUnavailable", causes);
        const json_t *sel = json_object_get(spec, "selector");
        struct error err = {0};
        _cleanup_(labels_selector_freep) struct labels_selector *ls = NULL;
        if (sel && labels_selector_from_json(sel, &ls, &err) < 0)
                meta_cause_add_json(causes, "FieldValueInvalid", "spec.selector", sel,
                                    error_msg(&err));
        const char *up = kjson_str(spec, "unhealthyPodEvictionPolicy");
        if (up && strcmp(up, "IfHealthyBudget") && strcmp(up, "AlwaysAllow"))
                meta_cause_add(causes, "FieldValueNotSupported", "spec.unhealthyPodEvictionPolicy",
                               up, "supported values: \"AlwaysAllow\", \"IfHealthyBudget\"");
}

void policy_hpa_defaults(json_t *obj)
{
        json_t *spec = kjson_obj_ensure(obj, "spec");
        if (!json_object_get(spec, "minReplicas"))
                json_object_set_new(spec, "minReplicas", json_integer(1));
        if (!json_array_size(json_object_get(spec, "metrics")))
                json_object_set_new(spec, "metrics",
                                    json_pack("[{s:s,s:{s:s,s:{s:s,s:i}}}]", "type", "Resource",
                                              "resource", "name", "cpu", "target", "type",
                                              "Utilization", "averageUtilization", 80));
}

void policy_hpa_validate(const json_t *obj, json_t *causes)
{
        const json_t *spec = json_object_get(obj, "spec");
        const json_t *ref = json_object_get(spec, "scaleTargetRef");
        const char *kind = kjson_str(ref, "kind");
        const char *name = kjson_str(ref, "name");
        if (!kind || !*kind)
                meta_cause_add(causes, "FieldValueRequired", "spec.scaleTargetRef.kind", NULL, "");
        if (!name || !*name)
                meta_cause_add(causes, "FieldValueRequired", "spec.scaleTargetRef.name", NULL, "");
        const json_t *minr = json_object_get(spec, "minReplicas");
        const json_t *maxr = json_object_get(spec, "maxReplicas");
        if (json_is_integer(minr) && json_integer_value(minr) < 1)
                meta_cause_add_json(causes, "FieldValueInvalid", "spec.minReplicas", minr,
                                    "must be greater than or equal to 1");
        if (!json_is_integer(maxr) || json_integer_value(maxr) < 1) {
                json_t *zero = json_integer(0);
                meta_cause_add_json(causes, "FieldValueInvalid", "spec.maxReplicas",
                                    maxr ? maxr : zero, "must be greater than or equal to 1");
                json_decref(zero);
        } else if (json_is_integer(minr) && json_integer_value(maxr) < json_integer_value(minr)) {
                meta_cause_add_json(causes, "FieldValueInvalid", "spec.maxReplicas", maxr,
                                    "must be greater than or equal to `minReplicas`");
        }
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(spec, "metrics"), i, m)
        {
                const char *t = kjson_str(m, "type");
                char f[64];
                snprintf(f, sizeof(f), "spec.metrics[%zu].type", i);
                if (!t || !*t)
                        meta_cause_add(causes, "FieldValueRequired", f, NULL,
                                       "must specify a metric source type");
                else if (strcmp(t, "Object") && strcmp(t, "Pods") && strcmp(t, "Resource") &&
                         strcmp(t, "ContainerResource") && strcmp(t, "External"))
                        meta_cause_add(causes, "FieldValueNotSupported", f, t,
                                       "supported values: \"ContainerResource\", \"External\", "
                                       "\"Object\", \"Pods\", \"Resource\"");
        }
}

void policy_priorityclass_defaults(json_t *obj)
{
        if (!json_object_get(obj, "preemptionPolicy"))
                json_object_set_new(obj, "preemptionPolicy", json_string("PreemptLowerPriority"));
}

void policy_priorityclass_validate(const json_t *obj, json_t *causes)
{
        const char *name = kjson_str(obj, "metadata.name");
        bool system = name && (!strcmp(name, "system-node-critical") ||
                               !strcmp(name, "system-cluster-critical"));
        if (name && !strncmp(name, "system-", 7) && !system)
                meta_cause_add(causes, "FieldValueInvalid", "metadata.name", name,
                               "priority class names with 'system-' prefix are reserved");
        const json_t *v = json_object_get(obj, "value");
        if (!system && json_is_integer(v) && json_integer_value(v) > PRIORITY_USER_MAX)
                meta_cause_add(causes, "FieldValueForbidden", "value", NULL,
                               "maximum allowed value of a user defined priority is 1000000000");
        const char *pp = kjson_str(obj, "preemptionPolicy");
        if (pp && strcmp(pp, "PreemptLowerPriority") && strcmp(pp, "Never"))
                meta_cause_add(causes, "FieldValueNotSupported", "preemptionPolicy", pp,
                               "supported values: \"Never\", \"PreemptLowerPriority\"");
}

void policy_priorityclass_validate_update(const json_t *newobj, const json_t *oldobj,
                                          json_t *causes)
{
        if (!kjson_equal(json_object_get(newobj, "value"), json_object_get(oldobj, "value")))
                meta_cause_add(causes, "FieldValueForbidden", "value", NULL,
                               "may not be changed in an update.");
        strategy_check_immutable(newobj, oldobj, "preemptionPolicy", causes);
}
