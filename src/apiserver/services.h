/* services.h — Service defaults, validation and allocation of cluster IPs (service CIDR
 * 10.43.0.0/16; addresses below 10.43.1.0 only on request, as Kubernetes keeps a static band)
 * and node ports (30000-32767). Pure: the caller passes every existing Service. */
#pragma once
#include <jansson.h>

#include "common/base.h"

#define SERVICES_CIDR_BASE 0x0a2b0000u /* 10.43.0.0 */
#define SERVICES_CIDR_BITS 16
#define SERVICES_NODEPORT_MIN 30000
#define SERVICES_NODEPORT_MAX 32767

/* Defaults and allocation for a new Service (svc modified in place); problems are appended to
 * causes (StatusCause objects, see api/meta.h). existing: array of stored Services (borrowed). */
void services_prepare_create(json_t *svc, const json_t *existing, json_t *causes);

/* Update: defaults, cluster IPs immutable (kept from old when omitted), node ports kept for the
 * same port when omitted, new node ports allocated. */
void services_prepare_update(json_t *svc, const json_t *old, const json_t *existing,
                             json_t *causes);
