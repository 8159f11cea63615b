/* rbac.h — rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding, ClusterRoleBinding
 * (defaults per pkg/apis/rbac/v1/defaults.go, validation per pkg/apis/rbac/validation). Pure. */
#pragma once
#include <jansson.h>

void rbac_role_validate(const json_t *obj, json_t *causes);
void rbac_clusterrole_validate(const json_t *obj, json_t *causes);
/* subjects[].apiGroup and roleRef.apiGroup defaults */
void rbac_binding_defaults(json_t *obj);
void rbac_rolebinding_validate(const json_t *obj, json_t *causes);
void rbac_clusterrolebinding_validate(const json_t *obj, json_t *causes);
/* roleRef cannot change */
void rbac_binding_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes);
