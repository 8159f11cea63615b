/* discovery.h — discovery documents (legacy and aggregated) and OpenAPI v3, built from the
 * scheme. Pure; each returns a new reference (NULL = not served -> 404). */
#pragma once
#include <jansson.h>

#include "common/base.h"

#define DISCOVERY_CT_V2 "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
#define DISCOVERY_CT_V2BETA1                                                                       \
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

/* Which aggregated discovery version the Accept header asks for: "v2", "v2beta1" or NULL
 * (legacy). */
const char *discovery_accepts_aggregated(const char *accept);
/* APIGroupDiscoveryList of the core group (core=true, /api) or the named groups (/apis). */
json_t *discovery_aggregated(bool core, const char *version);
/* /api */
json_t *discovery_api_versions(void);
/* /apis */
json_t *discovery_group_list(void);
/* /apis/<group>, NULL if unknown */
json_t *discovery_group(const char *group);
/* /api/v1 or /apis/<group>/<version>, NULL if unknown */
json_t *discovery_resource_list(const char *group, const char *version);

/* /openapi/v3 index */
json_t *openapi_index(void);
/* /openapi/v3/api/v1 or /openapi/v3/apis/<group>/<version>: path = "api/v1" etc; NULL if
 * unknown. */
json_t *openapi_group_version(const char *path);

/* metricsapi.c: metrics.k8s.io's entry in /apis (APIGroup) or, aggregated, its
 * APIGroupDiscovery item (the group is served outside the scheme). */
json_t *metricsapi_discovery_group(bool aggregated);
