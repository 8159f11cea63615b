/* apps.c — apps/v1 defaults and validation (see apps.h). */
#include "api/apps.h"

#include <stdio.h>

#include "api/meta.h"
#include "api/podtemplate.h"
#include "api/strategy.h"
#include "common/kjson.h"

static const char *const rp_always[] = {"Always", NULL};

static void set_default(json_t *obj, const char *key, json_t *v)
{
        if (!json_object_get(obj, key) || json_is_null(json_object_get(obj, key)))
                json_object_set_new(obj, key, v);
        else
                json_decref(v);
}

static void template_defaults(json_t *obj)
{
        json_t *spec = kjson_obj_ensure(obj, "spec");
        if (json_is_object(json_object_get(spec, "template")))
                podtemplate_defaults(json_object_get(spec, "template"));
}

/* spec.replicas, spec.selector, spec.template (restartPolicy Always), minReadySeconds and
 * revisionHistoryLimit >= 0: the common part of every replicated workload. */
static void validate_replicated(const json_t *obj, const char *kind_lc, bool replicas,
                                json_t *causes)
{
        const json_t *spec = json_object_get(obj, "spec");
        if (replicas)
                strategy_check_nonneg(obj, "spec.replicas", causes);
        strategy_check_nonneg(obj, "spec.minReadySeconds", causes);
        strategy_check_nonneg(obj, "spec.revisionHistoryLimit", causes);
        const json_t *tmpl = json_object_get(spec, "template");
        podtemplate_validate_selector(json_object_get(spec, "selector"),
                                      json_is_object(tmpl) ? tmpl : NULL, "spec.selector",
                                      "spec.template.metadata.labels", kind_lc, causes);
        podtemplate_validate(tmpl, "spec.template", rp_always, false, causes);
        if (json_object_get(json_object_get(tmpl, "spec"), "activeDeadlineSeconds"))
                meta_cause_add(causes, "FieldValueForbidden",
                               "spec.template.spec.activeDeadlineSeconds", NULL,
                               "activeDeadlineSeconds in ReplicaSet is not Supported");
}

void apps_deployment_defaults(json_t *obj)
{
        json_t *spec = kjson_obj_ensure(obj, "spec");
        set_default(spec, "replicas", json_integer(1));
        json_t *st = kjson_obj_ensure(spec, "strategy");
        set_default(st, "type", json_string("RollingUpdate"));
        const char *type = kjson_str(st, "type");
        if (type && !strcmp(type, "RollingUpdate")) {
                json_t *ru = kjson_obj_ensure(st, "rollingUpdate");
                set_default(ru, "maxUnavailable", json_string("25%"));
                set_default(ru, "maxSurge", json_string("25%"));
        }
        set_default(spec, "revisionHistoryLimit", json_integer(10));
        set_default(spec, "progressDeadlineSeconds", json_integer(600));
        template_defaults(obj);
}

void apps_deployment_validate(const json_t *obj, json_t *causes)
{
        validate_replicated(obj, "deployment", true, causes);
        const json_t *st = kjson_get(obj, "spec.strategy");
        const char *type = kjson_str(st, "type");
        if (type && strcmp(type, "RollingUpdate") && strcmp(type, "Recreate"))
                meta_cause_add(causes, "FieldValueNotSupported", "spec.strategy.type", type,
                               "supported values: \"Recreate\", \"RollingUpdate\"");
        if (type && !strcmp(type, "Recreate") && json_object_get(st, "rollingUpdate"))
                meta_cause_add(causes, "FieldValueForbidden", "spec.strategy.rollingUpdate", NULL,
                               "may not be specified when strategy `type` is 'Recreate'");
        const json_t *pds = kjson_get(obj, "spec.progressDeadlineSeconds");
        const json_t *mrs = kjson_get(obj, "spec.minReadySeconds");
        if (json_is_integer(pds) && json_is_integer(mrs) &&
            json_integer_value(pds) <= json_integer_value(mrs))
                meta_cause_add_json(causes, "FieldValueInvalid", "spec.progressDeadlineSeconds",
                                    pds, "must be greater than minReadySeconds");
}

void apps_selector_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes)
{
        strategy_check_immutable(newobj, oldobj, "spec.selector", causes);
}

void apps_deployment_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes)
{
        apps_selector_validate_update(newobj, oldobj, causes);
}

void apps_replicaset_defaults(json_t *obj)
{
        json_t *spec = kjson_obj_ensure(obj, "spec");
        set_default(spec, "replicas", json_integer(1));
        template_defaults(obj);
}

void apps_replicaset_validate(const json_t *obj, json_t *causes)
{
        validate_replicated(obj, "replicaset", true, causes);
}

void apps_statefulset_defaults(json_t *obj)
{
        json_t *spec = kjson_obj_ensure(obj, "spec");
        set_default(spec, "replicas", json_integer(1));
        set_default(spec, "podManagementPolicy", json_string("OrderedReady"));
        json_t *us = kjson_obj_ensure(spec, "updateStrategy");
        set_default(us, "type", json_string("RollingUpdate"));
        const char *type = kjson_str(us, "type");
        if (type && !strcmp(type, "RollingUpdate"))
                set_default(kjson_obj_ensure(us, "rollingUpdate"), "partition", json_integer(0));
        set_default(spec, "revisionHistoryLimit", json_integer(10));
        json_t *rp = kjson_obj_ensure(spec, "persistentVolumeClaimRetentionPolicy");
        set_default(rp, "whenDeleted", json_string("Retain"));
        set_default(rp, "whenScaled", json_string("Retain"));
        size_t i;
        json_t *pvc;
        json_array_foreach(json_object_get(spec, "volumeClaimTemplates"), i, pvc)
        {
                if (!json_is_object(pvc))
                        continue;
                json_object_set_new(pvc, "apiVersion", json_string("v1"));
                json_object_set_new(pvc, "kind", json_string("PersistentVolumeClaim"));
                set_default(kjson_obj_ensure(pvc, "metadata"), "creationTimestamp", json_null());
                set_default(kjson_obj_ensure(pvc, "spec"), "volumeMode", json_string("Filesystem"));
                set_default(kjson_obj_ensure(pvc, "status"), "phase", json_string("Pending"));
        }
        template_defaults(obj);
}

void apps_statefulset_validate(const json_t *obj, json_t *causes)
{
        /* volumeMounts may name volumeClaimTemplates: the controller adds those volumes */
        json_t *copy = json_deep_copy(obj);
        json_t *pspec = kjson_get(copy, "spec.template.spec");
        size_t i;
        json_t *vct;
        json_array_foreach(kjson_get(copy, "spec.volumeClaimTemplates"), i, vct)
        {
                const char *n = kjson_str(vct, "metadata.name");
                if (!n || !json_is_object(pspec))
                        continue;
                json_t *vols = json_object_get(pspec, "volumes");
                if (!json_is_array(vols)) {
                        vols = json_array();
                        json_object_set_new(pspec, "volumes", vols);
                }
                bool have = false;
                size_t j;
                json_t *v;
                json_array_foreach(vols, j, v) have |= !strcmp(kjson_str(v, "name") ?: "", n);
                if (!have)
                        json_array_append_new(vols,
                                              json_pack("{s:s, s:{s:s}}", "name", n,
                                                        "persistentVolumeClaim", "claimName", n));
        }
        validate_replicated(copy, "statefulset", true, causes);
        json_decref(copy);
        const char *pmp = kjson_str(obj, "spec.podManagementPolicy");
        if (pmp && strcmp(pmp, "OrderedReady") && strcmp(pmp, "Parallel"))
                meta_cause_add(causes, "FieldValueInvalid", "spec.podManagementPolicy", pmp,
                               "must be 'OrderedReady' or 'Parallel'");
        const char *ust = kjson_str(obj, "spec.updateStrategy.type");
        if (ust && strcmp(ust, "RollingUpdate") && strcmp(ust, "OnDelete"))
                meta_cause_add(causes, "FieldValueInvalid", "spec.updateStrategy", ust,
                               "must be 'RollingUpdate' or 'OnDelete'");
        strategy_check_nonneg(obj, "spec.updateStrategy.rollingUpdate.partition", causes);
}

void apps_statefulset_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes)
{
        static const char *const mutable_fields[] = {"replicas",
                                                     "ordinals",
                                                     "template",
                                                     "updateStrategy",
                                                     "persistentVolumeClaimRetentionPolicy",
                                                     "minReadySeconds"};
        json_t *a = json_deep_copy(json_object_get(newobj, "spec"));
        json_t *b = json_deep_copy(json_object_get(oldobj, "spec"));
        for (size_t i = 0; i < ARRAY_SIZE(mutable_fields); i++) {
                json_object_del(a, mutable_fields[i]);
                json_object_del(b, mutable_fields[i]);
        }
        if (!kjson_equal(a, b))
                meta_cause_add(causes, "FieldValueForbidden", "spec", NULL,
                               "updates to statefulset spec for fields other than 'replicas', "
                               "'ordinals', 'template', 'updateStrategy', "
                               "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' "
                               "are forbidden");
        json_decref(a);
        json_decref(b);
}

void apps_daemonset_defaults(json_t *obj)
{
        json_t *spec = kjson_obj_ensure(obj, "spec");
        json_t *us = kjson_obj_ensure(spec, "updateStrategy");
        set_default(us, "type", json_string("RollingUpdate"));
        const char *type = kjson_str(us, "type");
        if (type && !strcmp(type, "RollingUpdate")) {
                json_t *ru = kjson_obj_ensure(us, "rollingUpdate");
                set_default(ru, "maxUnavailable", json_integer(1));
                set_default(ru, "maxSurge", json_integer(0));
        }
        set_default(spec, "revisionHistoryLimit", json_integer(10));
        template_defaults(obj);
}

void apps_daemonset_validate(const json_t *obj, json_t *causes)
{
        validate_replicated(obj, "daemonset", false, causes);
        const char *ust = kjson_str(obj, "spec.updateStrategy.type");
        if (ust && strcmp(ust, "RollingUpdate") && strcmp(ust, "OnDelete"))
                meta_cause_add(causes, "FieldValueNotSupported", "spec.updateStrategy.type", ust,
                               "supported values: \"OnDelete\", \"RollingUpdate\"");
}

void apps_controllerrevision_validate(const json_t *obj, json_t *causes)
{
        strategy_check_nonneg(obj, "revision", causes);
}

void apps_controllerrevision_validate_update(const json_t *newobj, const json_t *oldobj,
                                             json_t *causes)
{
        strategy_check_immutable(newobj, oldobj, "data", causes);
}
