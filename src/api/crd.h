/* crd.h — apiextensions.k8s.io/v1 CustomResourceDefinition and the custom resources it serves,
 * as kube-apiserver's apiextensions-apiserver does: the CRD's defaults and validation (names,
 * group, versions, scope, structural schemas), the served entries built from the stored CRDs
 * (one scheme entry per served version, with its strategy), and the structural schema
 * operations on custom resources: validation (types, required, enum, bounds, pattern, lengths,
 * items, properties), pruning of unknown fields, defaulting, and the additionalPrinterColumns
 * Table. Pure (JSON in, JSON out; validation appends StatusCauses, see meta.h). */
#pragma once
#include <jansson.h>
#include <time.h>

#include "api/scheme.h"
#include "api/strategy.h"

#define CRD_FINALIZER "customresourcecleanup.apiextensions.k8s.io"

/* ---- the CustomResourceDefinition kind (strategy hooks) ---- */

/* v1 defaults: names.singular (lower-case kind), names.listKind (kind + "List"),
 * conversion.strategy None. */
void crd_defaults(json_t *crd);
/* ValidateCustomResourceDefinition: metadata.name = plural.group, group, scope, versions (names,
 * exactly one storage version, schemas, subresources, printer columns), names. */
void crd_validate(const json_t *crd, json_t *causes);
/* Update-only rules: group and names.plural immutable; scope and names.kind once established. */
void crd_validate_update(const json_t *newcrd, const json_t *oldcrd, json_t *causes);

/* The structural schema rules for one openAPIV3Schema at path ("spec.versions[0].schema.
 * openAPIV3Schema"); appends causes. */
void crd_schema_check(const json_t *schema, const char *path, json_t *causes);

/* The status the server sets (the naming and establishing controllers): when no name of
 * spec.names is already accepted for another CRD of the group in all (an array of CRDs, may
 * include crd): acceptedNames = spec.names, NamesAccepted and Established True, storedVersions
 * with the storage version; else NamesAccepted False (PluralConflict, SingularConflict,
 * ShortNamesConflict, KindConflict, ListKindConflict: "\"x\" is already in use") and, if it
 * never was, Established False (NotAccepted). Returns true when crd's status changed. */
bool crd_status_establish(json_t *crd, const json_t *all, const char *now);
/* The condition a CRD gets when its deletion starts: Terminating True, InstanceDeletionPending
 * ("CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon"). */
void crd_status_terminating(json_t *crd, const char *now);
/* Whether the CRD has the Established condition True. */
bool crd_is_established(const json_t *crd);

/* ---- served custom resources ---- */

/* Build and install (scheme_custom_set) the served entries of crds (an array of CRD objects,
 * borrowed: what is kept is copied): every served version of every established CRD that is not
 * being deleted. */
void crd_registry_install(const json_t *crds);

/* The strategy of a custom resource entry (custom = scheme_resource.custom). */
const struct strategy *crd_served_strategy(const void *custom);
/* The version's openAPIV3Schema (NULL if none) and the CRD object (borrowed). */
const json_t *crd_served_schema(const struct scheme_resource *r);
const json_t *crd_served_crd(const struct scheme_resource *r);
/* The deprecation warning of a deprecated version ("stable.example.com/v1beta1 CronTab is
 * deprecated; use stable.example.com/v1 CronTab", or its deprecationWarning), else NULL. */
const char *crd_served_deprecation(const struct scheme_resource *r);
/* The storage version's name. */
const char *crd_served_storage_version(const struct scheme_resource *r);
/* For an object of a custom resource served in a version other than the storage version: the
 * storage apiVersion ("group/v1") it is stored under (conversion None changes only apiVersion);
 * NULL otherwise. */
const char *crd_storage_api_version(const char *api_version, const char *kind);

/* ---- structural schema operations on a custom resource ---- */

/* Validate obj against schema as kube-openapi's validator (field paths "spec.replicas",
 * "spec.items[0]"); appends causes. */
void crd_schema_validate(const json_t *schema, const json_t *obj, json_t *causes);
/* Remove the fields the schema does not specify (except under
 * x-kubernetes-preserve-unknown-fields, and apiVersion/kind/metadata at the root), and null
 * values of non-nullable fields; the paths of the removed unknown fields are appended to
 * unknown (may be NULL) as JSON strings, at most max. */
void crd_schema_prune(const json_t *schema, json_t *obj, json_t *unknown, size_t max);
/* Set the schema's defaults on missing fields (objects present, array items). */
void crd_schema_default(const json_t *schema, json_t *obj);

/* ---- printing ---- */

/* The Table column definitions of a custom resource (Name, then additionalPrinterColumns, or
 * Age when there are none). New array. */
json_t *crd_table_columns(const struct scheme_resource *r);
/* The cells of obj's row. New array. */
json_t *crd_table_cells(const struct scheme_resource *r, const json_t *obj, time_t now);

/* A simple JSONPath (".spec.a", ".status.conditions[0].type",
 * ".status.conditions[?(@.type==\"Ready\")].status") evaluated on obj: the value (borrowed) or
 * NULL. */
const json_t *crd_jsonpath(const json_t *obj, const char *path);

/* ---- OpenAPI ---- */

/* The OpenAPI v3 schema of the custom resource (the version's schema with apiVersion, kind and
 * metadata (a $ref to ObjectMeta) and x-kubernetes-group-version-kind), new reference; its
 * component name ("com.example.stable.v1.CronTab") into name. */
json_t *crd_openapi_schema(const struct scheme_resource *r, char *name, size_t size);

/* ---- the CustomResourceDefinition kind's own schema ---- */

/* A structural schema of apiextensions.k8s.io/v1 CustomResourceDefinition (borrowed, static):
 * strict field validation of CRDs prunes with it (crd_schema_prune). */
const json_t *crd_kind_schema(void);
/* Unknown keys inside the CRD's openAPIV3Schemas (JSONSchemaProps fields), removed; their paths
 * ("spec.versions[0].schema.openAPIV3Schema.properties.spec.tpye") appended to out (<= max). */
void crd_schema_unknown_keys(json_t *crd, json_t *out, size_t max);
/* The OpenAPI v3 schema of the CRD kind (new reference) and its component name. */
json_t *crd_kind_openapi(char *name, size_t size);
