/* storage.h — PersistentVolume, PersistentVolumeClaim (core/v1) and storage.k8s.io/v1
 * StorageClass defaults and validation. Pure. */
#pragma once
#include <jansson.h>

void storage_pv_defaults(json_t *obj);
void storage_pv_validate(const json_t *obj, json_t *causes);

void storage_pvc_defaults(json_t *obj);
void storage_pvc_validate(const json_t *obj, json_t *causes);
/* spec immutable except resources.requests and volumeAttributesClassName */
void storage_pvc_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes);

void storage_class_defaults(json_t *obj);
void storage_class_validate(const json_t *obj, json_t *causes);
/* provisioner, parameters, reclaimPolicy, volumeBindingMode cannot change */
void storage_class_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes);
