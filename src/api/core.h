/* core.h — core/v1 kinds other than Pod and Service: Namespace, ConfigMap, Secret,
 * ReplicationController, PodTemplate, LimitRange, ResourceQuota (pkg/apis/core/v1/defaults.go,
 * pkg/apis/core/validation). Pure; validation appends StatusCauses (api/meta.h). */
#pragma once
#include <jansson.h>

/* label kubernetes.io/metadata.name, spec.finalizers [kubernetes], status.phase Active */
void core_namespace_defaults(json_t *obj);

void core_configmap_validate(const json_t *obj, json_t *causes);
/* data/binaryData immutable once immutable is true; immutable cannot be unset */
void core_configmap_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes);

/* stringData merged into data (base64), type Opaque */
void core_secret_defaults(json_t *obj);
void core_secret_validate(const json_t *obj, json_t *causes);
/* type immutable; data immutable once immutable is true */
void core_secret_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes);

void core_rc_defaults(json_t *obj);
void core_rc_validate(const json_t *obj, json_t *causes);

void core_podtemplate_defaults(json_t *obj);
void core_podtemplate_validate(const json_t *obj, json_t *causes);

void core_limitrange_defaults(json_t *obj);
void core_limitrange_validate(const json_t *obj, json_t *causes);

void core_resourcequota_validate(const json_t *obj, json_t *causes);

/* Standard base64 of n bytes (caller frees). */
char *core_base64(const unsigned char *p, size_t n);
