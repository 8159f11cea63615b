/* networking.h — networking.k8s.io/v1 NetworkPolicy, Ingress, IngressClass and
 * discovery.k8s.io/v1 EndpointSlice defaults and validation. Pure. */
#pragma once
#include <jansson.h>

void networking_netpol_defaults(json_t *obj);
void networking_netpol_validate(const json_t *obj, json_t *causes);

void networking_ingress_validate(const json_t *obj, json_t *causes);

void networking_ingressclass_validate(const json_t *obj, json_t *causes);
/* spec.controller immutable */
void networking_ingressclass_validate_update(const json_t *newobj, const json_t *oldobj,
                                             json_t *causes);

void networking_endpointslice_defaults(json_t *obj);
void networking_endpointslice_validate(const json_t *obj, json_t *causes);
/* addressType immutable */
void networking_endpointslice_validate_update(const json_t *newobj, const json_t *oldobj,
                                              json_t *causes);
