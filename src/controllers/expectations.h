/* expectations.h — controller expectations (client-go's UIDTrackingControllerExpectations): a
 * controller records how many creations and which deletions it has issued for an owner key and
 * does not act on that owner again until its informer has observed them (or 5 minutes passed),
 * so a lagging cache never makes it create or delete twice. Thread-safe. */
#pragma once
#include <jansson.h>

#include "common/base.h"

#define EXPECTATIONS_TTL_MS (5 * 60 * 1000)

struct expectations;

struct expectations *expectations_new(void);
void expectations_free(struct expectations *e);

/* Replace key's expectations: adds creations, and deletions of the pod keys in dels (array of
 * "ns/name" strings, borrowed; may be NULL). */
void expectations_expect(struct expectations *e, const char *key, int64_t adds, const json_t *dels);
/* One creation seen (or one failed / skipped). */
void expectations_creation_observed(struct expectations *e, const char *key);
/* The deletion of pod_key seen (idempotent). */
void expectations_deletion_observed(struct expectations *e, const char *key, const char *pod_key);
/* No record, everything observed, or expired. */
bool expectations_satisfied(struct expectations *e, const char *key);
void expectations_delete(struct expectations *e, const char *key);
