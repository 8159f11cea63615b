/* batch.h — batch/v1 Job and CronJob defaults and validation (pkg/apis/batch/v1/defaults.go,
 * pkg/registry/batch/job/strategy.go's generated selector, pkg/apis/batch/validation). Pure. */
#pragma once
#include <jansson.h>

#include "common/base.h"

/* Job defaults; on create (metadata.uid set, spec.selector absent and manualSelector not true)
 * the controller-uid selector and template labels are generated. */
void batch_job_defaults(json_t *obj);
void batch_job_validate(const json_t *obj, json_t *causes);
/* selector, template (unless suspended), completions (unless indexed) immutable */
void batch_job_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes);

void batch_cronjob_defaults(json_t *obj);
void batch_cronjob_validate(const json_t *obj, json_t *causes);
