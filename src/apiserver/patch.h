/* patch.h — the three PATCH flavours, pure functions on JSON trees.
 *   merge:      RFC 7386 JSON merge patch (application/merge-patch+json)
 *   json:       RFC 6902 JSON patch (application/json-patch+json), JSON pointers per RFC 6901
 *   strategic:  Kubernetes strategic merge patch (application/strategic-merge-patch+json):
 *               maps merge, null deletes, lists of maps merged by their patch merge key
 *               (see patch_merge_key), $patch: replace|delete|merge, $retainKeys,
 *               $setElementOrder/<list>, $deleteFromPrimitiveList/<list>; finalizers merge as
 *               a set; other lists are replaced.
 * Each returns a NEW object in *ret (the inputs are not modified). Errors: -EBADMSG (malformed
 * patch, message in err), -EINVAL (json patch "test" failed / path missing: Kubernetes answers
 * 422 for those too... we use -EINVAL). */
#pragma once
#include <jansson.h>

#include "common/error.h"

int patch_merge(const json_t *target, const json_t *patch, json_t **ret, struct error *err);
int patch_json(const json_t *target, const json_t *ops, json_t **ret, struct error *err);
int patch_strategic(const json_t *target, const json_t *patch, json_t **ret, struct error *err);

/* The patch merge key for a list field named field whose items look like sample (may be NULL),
 * or NULL if the list is replaced as a whole. */
const char *patch_merge_key(const char *field, const json_t *sample);
