/* apply.h — server-side apply and metadata.managedFields for the API server's writes (the
 * request side of api/managedfields.h): which manager writes, each resource's merge schema,
 * the 409 Conflict Status with FieldManagerConflict causes. Loop thread. */
#pragma once
#include <jansson.h>

#include "api/fieldset.h"
#include "api/scheme.h"

struct rq;

/* How r's fields merge: built-in kinds by their list types and patch merge keys (patch.h);
 * custom resources by their CRD's structural schema (x-kubernetes-list-type, -list-map-keys
 * with key defaults, -map-type; lists atomic otherwise). Static storage, valid until the next
 * call (loop thread). */
const struct fieldset_schema *apply_schema(const struct scheme_resource *r);

/* Give obj the metadata.managedFields of from (or none if from has none). */
void apply_keep_managed(json_t *obj, const json_t *from);

/* ValidatePatchOptions: an apply needs ?fieldManager=, force is for apply only, a field
 * manager has at most 128 printable bytes. Responds 422 Invalid (PatchOptions.meta.k8s.io) and
 * returns < 0 when they are wrong. */
int apply_check_options(struct rq *q, bool apply);

/* Record a create (old NULL) or update by q's manager (?fieldManager= or the User-Agent's
 * prefix, as kube-apiserver's managerOrUserAgent) in newobj's metadata.managedFields. Like
 * UpdateNoErrors it never fails the write: an object the schema cannot walk keeps old's. */
void apply_record_update(struct rq *q, const json_t *old, json_t *newobj);

/* Server-side apply of config (the decoded apply patch) onto live (NULL: create) for q
 * (fieldManager, force): *ret gets the merged object with its managedFields. On failure it has
 * responded (409 with the conflicts, 400 for a config with managedFields) and returns < 0. */
int apply_patch(struct rq *q, const json_t *live, const json_t *config, json_t **ret);
