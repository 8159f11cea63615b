/* status.h — the ONE map from our negative errno codes to Kubernetes Status responses.
 *
 *   -ENOENT 404 NotFound        -EEXIST 409 AlreadyExists     -ESTALE 409 Conflict
 *   -EINVAL 422 Invalid         -EBADMSG/-EPROTO 400 BadRequest -EPERM 401 Unauthorized
 *   -EACCES 403 Forbidden       -EOPNOTSUPP 405 MethodNotAllowed -ENOTEMPTY 409 Conflict
 *   -ERANGE 410 Expired         -E2BIG 413 RequestEntityTooLarge -EMEDIUMTYPE 415
 * UnsupportedMediaType -EAGAIN 429 TooManyRequests -ETIMEDOUT 504 Timeout        -ENODEV 503
 * ServiceUnavailable anything else 500 InternalError Pure; no I/O. */
#pragma once
#include <jansson.h>

#include "common/base.h"

/* HTTP status code for a negative errno. */
int status_http_code(int code);
/* Kubernetes StatusReason ("NotFound", ...) for a negative errno. */
const char *status_reason(int code);
/* A Status object {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
 * "message":msg,"reason":...,"details":details,"code":http}. details is stolen (NULL = omitted).
 * New reference. */
json_t *status_new(int code, const char *msg, json_t *details);
/* {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":details}
 * (details stolen, may be NULL). */
json_t *status_success(json_t *details);
/* details object {"name":name,"group":group (omitted if ""),"kind":kind}; any may be NULL. */
json_t *status_details(const char *name, const char *group, const char *kind);
