/* strategy.c — the per-kind strategy table (see strategy.h). */
#include "api/strategy.h"

#include <stdio.h>

#include "api/apps.h"
#include "api/batch.h"
#include "api/core.h"
#include "api/crd.h"
#include "api/labels.h"
#include "api/networking.h"
#include "api/pod.h"
#include "api/policy.h"
#include "api/rbac.h"
#include "api/storage.h"
#include "common/kjson.h"

#define F(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char *const spec_status[] = {"spec", "status", NULL};
static const char *const spec_only[] = {"spec", NULL};
static const char *const no_fields[] = {NULL};

static const char *const core_event_fields[] = {"involvedObject",
                                                "reason",
                                                "message",
                                                "source",
                                                "firstTimestamp",
                                                "lastTimestamp",
                                                "count",
                                                "type",
                                                "eventTime",
                                                "series",
                                                "action",
                                                "related",
                                                "reportingComponent",
                                                "reportingInstance",
                                                NULL};
static const char *const event_selectors[] = {"involvedObject.kind",
                                              "involvedObject.namespace",
                                              "involvedObject.name",
                                              "involvedObject.uid",
                                              "involvedObject.apiVersion",
                                              "involvedObject.resourceVersion",
                                              "involvedObject.fieldPath",
                                              "reason",
                                              "reportingComponent",
                                              "source",
                                              "type",
                                              NULL};

static void pod_create_defaults(json_t *obj)
{
        pod_defaults(obj);
}

/* Pods: spec immutable but for images and a few fields; the create-time defaults again on
 * update (a PUT may omit defaulted fields). */
static const struct strategy strategies[] = {
        {"", "pods", META_NAME_SUBDOMAIN, false, spec_status,
         F("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
           "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
         "{}", NULL, NULL, false, pod_create_defaults, pod_validate, pod_validate_update},
        {"", "nodes", META_NAME_SUBDOMAIN, false, spec_status, F("spec.unschedulable"), NULL, NULL,
         NULL, false, NULL, NULL, NULL},
        {"", "namespaces", META_NAME_LABEL, false, spec_status, F("status.phase"), "{}", NULL, NULL,
         false, core_namespace_defaults, NULL, NULL},
        {"", "events", META_NAME_SUBDOMAIN, false, core_event_fields, event_selectors, NULL, NULL,
         NULL, false, NULL, NULL, NULL},
        {"", "configmaps", META_NAME_SUBDOMAIN, false, F("data", "binaryData", "immutable"),
         no_fields, NULL, NULL, NULL, false, NULL, core_configmap_validate,
         core_configmap_validate_update},
        {"", "secrets", META_NAME_SUBDOMAIN, false, F("data", "stringData", "type", "immutable"),
         F("type"), NULL, NULL, NULL, false, core_secret_defaults, core_secret_validate,
         core_secret_validate_update},
        {"", "serviceaccounts", META_NAME_SUBDOMAIN, false,
         F("secrets", "imagePullSecrets", "automountServiceAccountToken"), no_fields, NULL, NULL,
         NULL, false, NULL, NULL, NULL},
        {"", "services", META_NAME_DNS1035, false, spec_status, no_fields, NULL, NULL, NULL, false,
         NULL, NULL, NULL},
        {"", "endpoints", META_NAME_SUBDOMAIN, false, F("subsets"), no_fields, NULL, NULL, NULL,
         false, NULL, NULL, NULL},
        {"", "persistentvolumes", META_NAME_SUBDOMAIN, false, spec_status, no_fields, "{}", NULL,
         NULL, false, storage_pv_defaults, storage_pv_validate, NULL},
        {"", "persistentvolumeclaims", META_NAME_SUBDOMAIN, false, spec_status, no_fields, "{}",
         NULL, NULL, false, storage_pvc_defaults, storage_pvc_validate,
         storage_pvc_validate_update},
        {"", "limitranges", META_NAME_SUBDOMAIN, false, spec_only, no_fields, NULL, NULL, NULL,
         false, core_limitrange_defaults, core_limitrange_validate, NULL},
        {"", "resourcequotas", META_NAME_SUBDOMAIN, false, spec_status, no_fields, "{}", NULL, NULL,
         false, NULL, core_resourcequota_validate, NULL},
        {"", "replicationcontrollers", META_NAME_SUBDOMAIN, true, spec_status, F("status.replicas"),
         "{\"replicas\":0}", "spec.replicas", "spec.selector", true, core_rc_defaults,
         core_rc_validate, NULL},
        {"", "podtemplates", META_NAME_SUBDOMAIN, true, F("template"), no_fields, NULL, NULL, NULL,
         false, core_podtemplate_defaults, core_podtemplate_validate, NULL},
        {"apps", "deployments", META_NAME_SUBDOMAIN, true, spec_status, no_fields, "{}",
         "spec.replicas", "spec.selector", false, apps_deployment_defaults,
         apps_deployment_validate, apps_deployment_validate_update},
        {"apps", "replicasets", META_NAME_SUBDOMAIN, true, spec_status, F("status.replicas"),
         "{\"replicas\":0}", "spec.replicas", "spec.selector", false, apps_replicaset_defaults,
         apps_replicaset_validate, apps_selector_validate_update},
        {"apps", "statefulsets", META_NAME_SUBDOMAIN, true, spec_status, no_fields,
         "{\"replicas\":0,\"availableReplicas\":0}", "spec.replicas", "spec.selector", false,
         apps_statefulset_defaults, apps_statefulset_validate, apps_statefulset_validate_update},
        {"apps", "daemonsets", META_NAME_SUBDOMAIN, true, spec_status, no_fields,
         "{\"currentNumberScheduled\":0,\"numberMisscheduled\":0,\"desiredNumberScheduled\":0,"
         "\"numberReady\":0}",
         NULL, NULL, false, apps_daemonset_defaults, apps_daemonset_validate,
         apps_selector_validate_update},
        {"apps", "controllerrevisions", META_NAME_SUBDOMAIN, false, F("data", "revision"),
         no_fields, NULL, NULL, NULL, false, NULL, apps_controllerrevision_validate,
         apps_controllerrevision_validate_update},
        {"batch", "jobs", META_NAME_SUBDOMAIN, true, spec_status, F("status.successful"), "{}",
         NULL, NULL, false, batch_job_defaults, batch_job_validate, batch_job_validate_update},
        {"batch", "cronjobs", META_NAME_SUBDOMAIN, true, spec_status, no_fields, "{}", NULL, NULL,
         false, batch_cronjob_defaults, batch_cronjob_validate, NULL},
        {"autoscaling", "horizontalpodautoscalers", META_NAME_SUBDOMAIN, false, spec_status,
         no_fields, "{\"desiredReplicas\":0}", NULL, NULL, false, policy_hpa_defaults,
         policy_hpa_validate, NULL},
        {"coordination.k8s.io", "leases", META_NAME_SUBDOMAIN, false, spec_only, no_fields, NULL,
         NULL, NULL, false, NULL, NULL, NULL},
        {"discovery.k8s.io", "endpointslices", META_NAME_SUBDOMAIN, true,
         F("addressType", "endpoints", "ports"), F("addressType"), NULL, NULL, NULL, false,
         networking_endpointslice_defaults, networking_endpointslice_validate,
         networking_endpointslice_validate_update},
        {"events.k8s.io", "events", META_NAME_SUBDOMAIN, false,
         F("eventTime", "series", "reportingController", "reportingInstance", "action", "reason",
           "regarding", "related", "note", "type", "deprecatedSource", "deprecatedFirstTimestamp",
           "deprecatedLastTimestamp", "deprecatedCount"),
         event_selectors, NULL, NULL, NULL, false, NULL, NULL, NULL},
        {"networking.k8s.io", "networkpolicies", META_NAME_SUBDOMAIN, true, spec_only, no_fields,
         NULL, NULL, NULL, false, networking_netpol_defaults, networking_netpol_validate, NULL},
        {"networking.k8s.io", "ingresses", META_NAME_SUBDOMAIN, true, spec_status, no_fields,
         "{\"loadBalancer\":{}}", NULL, NULL, false, NULL, networking_ingress_validate, NULL},
        {"networking.k8s.io", "ingressclasses", META_NAME_SUBDOMAIN, true, spec_only, no_fields,
         NULL, NULL, NULL, false, NULL, networking_ingressclass_validate,
         networking_ingressclass_validate_update},
        {"policy", "poddisruptionbudgets", META_NAME_SUBDOMAIN, true, spec_status, no_fields,
         "{\"disruptionsAllowed\":0,\"currentHealthy\":0,\"desiredHealthy\":0,"
         "\"expectedPods\":0}",
         NULL, NULL, false, NULL, policy_pdb_validate, NULL},
        {"rbac.authorization.k8s.io", "clusterrolebindings", META_NAME_PATH_SEGMENT, false,
         F("subjects", "roleRef"), no_fields, NULL, NULL, NULL, false, rbac_binding_defaults,
         rbac_clusterrolebinding_validate, rbac_binding_validate_update},
        {"rbac.authorization.k8s.io", "clusterroles", META_NAME_PATH_SEGMENT, false,
         F("rules", "aggregationRule"), no_fields, NULL, NULL, NULL, false, NULL,
         rbac_clusterrole_validate, NULL},
        {"rbac.authorization.k8s.io", "rolebindings", META_NAME_PATH_SEGMENT, false,
         F("subjects", "roleRef"), no_fields, NULL, NULL, NULL, false, rbac_binding_defaults,
         rbac_rolebinding_validate, rbac_binding_validate_update},
        {"rbac.authorization.k8s.io", "roles", META_NAME_PATH_SEGMENT, false, F("rules"), no_fields,
         NULL, NULL, NULL, false, NULL, rbac_role_validate, NULL},
        {"scheduling.k8s.io", "priorityclasses", META_NAME_SUBDOMAIN, false,
         F("value", "globalDefault", "description", "preemptionPolicy"), no_fields, NULL, NULL,
         NULL, false, policy_priorityclass_defaults, policy_priorityclass_validate,
         policy_priorityclass_validate_update},
        {"apiextensions.k8s.io", "customresourcedefinitions", META_NAME_SUBDOMAIN, true,
         F("spec", "status"), no_fields, "{\"acceptedNames\":{\"kind\":\"\",\"plural\":\"\"}}",
         NULL, NULL, false, crd_defaults, crd_validate, crd_validate_update},
        {"storage.k8s.io", "storageclasses", META_NAME_SUBDOMAIN, false,
         F("provisioner", "parameters", "reclaimPolicy", "mountOptions", "allowVolumeExpansion",
           "volumeBindingMode", "allowedTopologies"),
         no_fields, NULL, NULL, NULL, false, storage_class_defaults, storage_class_validate,
         storage_class_validate_update},
};

static const struct strategy generic = {"",    "",          META_NAME_SUBDOMAIN,
                                        false, spec_status, no_fields,
                                        NULL,  NULL,        NULL,
                                        false, NULL,        NULL,
                                        NULL};

const struct strategy *strategy_for(const struct scheme_resource *r)
{
        if (r->custom)
                return crd_served_strategy(r->custom);
        for (size_t i = 0; i < ARRAY_SIZE(strategies); i++)
                if (!strcmp(strategies[i].group, r->group) &&
                    !strcmp(strategies[i].resource, r->resource))
                        return &strategies[i];
        return &generic;
}

void strategy_prepare_create(const struct strategy *s, const struct scheme_resource *r, json_t *obj,
                             const char *ns)
{
        meta_prepare_create(obj, r->namespaced ? ns : NULL);
        if (!s->generation)
                kjson_del_path(obj, "metadata.generation");
        if (s->create_status) {
                json_t *st = json_loads(s->create_status, 0, NULL);
                json_object_set_new(obj, "status", st ? st : json_object());
        }
        if (s->drop_status_on_create)
                json_object_del(obj, "status");
        if (s->defaults)
                s->defaults(obj);
}

void strategy_prepare_update(const struct strategy *s, json_t *newobj, const json_t *oldobj)
{
        /* defaults first: a PUT that omits defaulted fields is not a spec change (the API
         * server decodes every body with defaulting, as kube-apiserver's codec does) */
        if (s->defaults && strcmp(s->resource, "namespaces"))
                s->defaults(newobj);
        meta_prepare_update(newobj, oldobj);
        if (!s->generation)
                kjson_del_path(newobj, "metadata.generation");
}

void strategy_validate(const struct strategy *s, const struct scheme_resource *r, const json_t *obj,
                       json_t *causes)
{
        meta_validate_object_meta_rule(obj, r->namespaced, s->name_rule, causes);
        if (s->validate)
                s->validate(obj, causes);
}

void strategy_validate_update(const struct strategy *s, const json_t *newobj, const json_t *oldobj,
                              json_t *causes)
{
        meta_validate_object_meta_update(newobj, oldobj, causes);
        if (s->validate_update)
                s->validate_update(newobj, oldobj, causes);
}

bool strategy_has_field(const struct strategy *s, const char *path)
{
        if (!strcmp(path, "metadata.name") || !strcmp(path, "metadata.namespace"))
                return true;
        for (const char *const *f = s->field_selectors; *f; f++)
                if (!strcmp(*f, path))
                        return true;
        return false;
}

const char *const *strategy_field_paths(const struct strategy *s)
{
        return s->field_selectors;
}

json_t *strategy_scale_get(const struct strategy *s, const json_t *obj)
{
        if (!s->scale_replicas)
                return NULL;
        const json_t *md = json_object_get(obj, "metadata");
        json_t *meta = json_object();
        static const char *const keys[] = {"name", "namespace", "uid", "resourceVersion",
                                           "creationTimestamp"};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                json_t *v = json_object_get(md, keys[i]);
                if (v)
                        json_object_set(meta, keys[i], v);
        }
        json_t *scale = json_pack("{s:s,s:s,s:o,s:{s:I},s:{s:I}}", "kind", "Scale", "apiVersion",
                                  "autoscaling/v1", "metadata", meta, "spec", "replicas",
                                  (json_int_t)kjson_int(obj, s->scale_replicas, 0), "status",
                                  "replicas",
                                  (json_int_t)kjson_int(obj,
                                                        s->scale_status_replicas
                                                                ? s->scale_status_replicas
                                                                : "status.replicas",
                                                        0));
        const json_t *sel = s->scale_selector ? kjson_get(obj, s->scale_selector) : NULL;
        char *str = NULL;
        if (s->selector_is_string && json_is_string(sel))
                str = xstrdup(json_string_value(sel));
        else if (s->selector_is_map && json_object_size(sel)) {
                struct labels_selector *ls = NULL;
                json_t *ls_json = json_pack("{s:O}", "matchLabels", sel);
                if (labels_selector_from_json(ls_json, &ls, NULL) == 0)
                        str = labels_selector_format(ls);
                labels_selector_free(ls);
                json_decref(ls_json);
        } else if (!s->selector_is_map && json_is_object(sel)) {
                struct labels_selector *ls = NULL;
                if (labels_selector_from_json(sel, &ls, NULL) == 0)
                        str = labels_selector_format(ls);
                labels_selector_free(ls);
        }
        if (str && *str)
                json_object_set_new(json_object_get(scale, "status"), "selector", json_string(str));
        free(str);
        return scale;
}

json_t *strategy_scale_apply(const struct strategy *s, const json_t *obj, const json_t *scale,
                             json_t *causes)
{
        const json_t *rep = kjson_get(scale, "spec.replicas");
        json_t *zero = json_integer(0);
        if (!rep)
                rep = zero;
        if (!json_is_integer(rep) || json_integer_value(rep) < 0) {
                meta_cause_add_json(causes, "FieldValueInvalid", "spec.replicas", rep,
                                    "must be greater than or equal to 0");
                json_decref(zero);
                return NULL;
        }
        json_t *n = json_deep_copy(obj);
        kjson_set_path(n, s->scale_replicas, json_integer(json_integer_value(rep)));
        json_decref(zero);
        return n;
}

void strategy_check_nonneg(const json_t *obj, const char *path, json_t *causes)
{
        const json_t *v = kjson_get(obj, path);
        if (json_is_integer(v) && json_integer_value(v) < 0)
                meta_cause_add_json(causes, "FieldValueInvalid", path, v,
                                    "must be greater than or equal to 0");
}

void strategy_check_immutable(const json_t *newobj, const json_t *oldobj, const char *path,
                              json_t *causes)
{
        const json_t *n = kjson_get(newobj, path);
        if (kjson_equal(n, kjson_get(oldobj, path)))
                return;
        json_t *null = json_null();
        meta_cause_add_json(causes, "FieldValueInvalid", path, n ? n : null, "field is immutable");
}
