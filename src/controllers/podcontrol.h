/* podcontrol.h — API calls shared by the controllers: claiming dependents (adoption of matching
 * orphans, release of owned non-matching objects, as controller_ref_manager.go does) and
 * creating pods from a template. */
#pragma once
#include <jansson.h>

#include "api/labels.h"
#include "client/client.h"
#include "common/error.h"

/* The objects of candidates (array, borrowed) that owner controls after adoption and release.
 * coll is the dependents' collection path ("/api/v1/namespaces/ns/pods"). Orphans matching sel
 * are adopted (merge patch adding a controller ownerReference, with the dependent's
 * resourceVersion as precondition) unless the owner is being deleted; owned objects that no
 * longer match are released. Returns a new array (adopted objects as returned by the server). */
json_t *podcontrol_claim(struct kclient *kc, const char *coll, const json_t *owner,
                         const char *api_version, const char *kind,
                         const struct labels_selector *sel, const json_t *candidates);

/* The pod a controller creates from template: labels, annotations, finalizers and spec of the
 * template, generateName "<owner>-", the controller ownerReference. New object. */
json_t *podcontrol_pod_from_template(const json_t *tmpl, const json_t *owner,
                                     const char *api_version, const char *kind);

/* POST the pod; *ret (may be NULL) gets the created object. Errors from kclient_create. */
int podcontrol_create(struct kclient *kc, json_t *pod, json_t **ret, struct error *err);

/* Write status as obj's status through its /status subresource: PUT of obj (resourceVersion
 * guarded) with status replaced, at <api>/namespaces/<ns>/<plural>/<name>/status (api like
 * "/apis/apps/v1"; obj's namespace NULL or "" for cluster-scoped kinds). ret (may be NULL) gets
 * the stored object. Errors as kclient_update (-ENOENT gone, -ESTALE conflict), logged at debug. */
int podcontrol_put_status(struct kclient *kc, const char *api, const char *plural,
                          const json_t *obj, json_t *status, json_t **ret);
