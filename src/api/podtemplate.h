/* podtemplate.h — PodTemplateSpec defaults and validation shared by the workload kinds
 * (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, ReplicationController,
 * PodTemplate), and the LabelSelector rules of their spec.selector. Pure. */
#pragma once
#include <jansson.h>

#include "common/base.h"

/* Defaults of a template ({metadata, spec}) in place, as SetDefaults_PodSpec (not the Pod-only
 * defaults: no enableServiceLinks, priority, tolerations or status). metadata.creationTimestamp
 * is null, as Kubernetes serializes a template's zero time. */
void podtemplate_defaults(json_t *tmpl);

/* Validate a template at field ("spec.template"): pod spec rules (causes under
 * "<field>.spec...") and template labels. restart_policies: the allowed values
 * (NULL-terminated); job_style selects the Job message ("Required value: valid values: ...")
 * over the workload one ("Unsupported value: ...: supported values: \"Always\""). */
void podtemplate_validate(const json_t *tmpl, const char *field,
                          const char *const *restart_policies, bool job_style, json_t *causes);

/* Validate a LabelSelector at field (required; operators; not empty when non_empty) and that it
 * selects the template labels (tmpl_field "spec.template.metadata.labels"). kind_lc names the
 * kind in "empty selector is invalid for deployment". */
void podtemplate_validate_selector(const json_t *sel, const json_t *tmpl, const char *field,
                                   const char *tmpl_field, const char *kind_lc, json_t *causes);

/* Go's %#v of a map[string]string ("map[string]string{\"a\":\"b\"}", keys sorted). Caller
 * frees. */
char *podtemplate_gomap(const json_t *m);
