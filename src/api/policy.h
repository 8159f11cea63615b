/* policy.h — policy/v1 PodDisruptionBudget, autoscaling/v2 HorizontalPodAutoscaler and
 * scheduling.k8s.io/v1 PriorityClass defaults and validation (the kinds that tell the
 * controllers and the scheduler how far they may go). Pure. */
#pragma once
#include <jansson.h>

void policy_pdb_validate(const json_t *obj, json_t *causes);

void policy_hpa_defaults(json_t *obj);
void policy_hpa_validate(const json_t *obj, json_t *causes);

void policy_priorityclass_defaults(json_t *obj);
void policy_priorityclass_validate(const json_t *obj, json_t *causes);
/* value and preemptionPolicy cannot change */
void policy_priorityclass_validate_update(const json_t *newobj, const json_t *oldobj,
                                          json_t *causes);
