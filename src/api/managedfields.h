/* managedfields.h — metadata.managedFields as kube-apiserver's field manager keeps them
 * (k8s.io/apimachinery/pkg/util/managedfields/internal over structured-merge-diff's Updater):
 * every write records which manager owns which fields (FieldsV1 sets, api/fieldset.h); an
 * Update moves the fields it changes to its manager; server-side apply merges the applied
 * configuration, prunes the fields its manager applied before and no longer applies, and
 * fails with conflicts where another manager owns a field it changes. Pure: no I/O. */
#pragma once
#include <jansson.h>
#include <time.h>

#include "api/fieldset.h"
#include "common/error.h"

#define MANAGEDFIELDS_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"
#define MANAGEDFIELDS_MAX_MANAGER 128
#define MANAGEDFIELDS_MAX_UPDATERS 10 /* kube-apiserver's DefaultMaxUpdateManagers */
#define MANAGEDFIELDS_ANCIENT "ancient-changes"

/* One write. */
struct managedfields_op {
        const char *manager;     /* fieldManager (or the User-Agent prefix) */
        const char *subresource; /* NULL, "status", "scale" */
        const char *api_version; /* the resource's group/version: "apps/v1" */
        const struct fieldset_schema *schema;
        const json_t *reset; /* fields this write never owns (kube's reset fields), or NULL */
        time_t now;
};

/* Is a client-sent managedFields value well formed (an array of entries with operation
 * Apply|Update, fieldsType FieldsV1, FieldsV1 sets)? */
bool managedfields_valid(const json_t *mf);

/* Record an Update (create: old NULL) in newobj's metadata.managedFields: the managers come
 * from newobj's managedFields when it sent valid, non-empty ones, else from old's; the fields
 * that changed from old to newobj move to op's manager. Errors: -EINVAL (an object the schema
 * cannot walk, message in err). */
int managedfields_update(const json_t *old, json_t *newobj, const struct managedfields_op *op,
                         struct error *err);

/* Server-side apply of config onto live (NULL: create). On success *ret is the merged object
 * with its managedFields. With conflicts and !force: -ESTALE, *ret_conflicts an array of
 * {"manager": printed manager, "field": path string} in Kubernetes' order and err holds the
 * Status message ("Apply failed with 1 conflict: conflict with \"x\" using apps/v1: .spec.a").
 * -EBADMSG for a config carrying managedFields, -EINVAL when it cannot be walked. */
int managedfields_apply(const json_t *live, const json_t *config, const struct managedfields_op *op,
                        bool force, json_t **ret, json_t **ret_conflicts, struct error *err);
