/* fields.h — the JSON fields each built-in kind accepts (from the k8s.io/api struct tags in the
 * generated protobuf schema tables, api/protobuf.h), for strict field validation: the unknown
 * fields of an object, named as kube-apiserver's strict decoder names them
 * ("spec.replica", "spec.template.spec.containers[0].imagePolicy"). Pure. */
#pragma once
#include <jansson.h>

#include "common/base.h"

/* Append (as JSON strings) the paths of obj's unknown fields to out, at most max in all
 * (apiVersion and kind are always known). Returns 0, or -ENOENT if apiVersion/kind has no
 * table (the caller falls back to a top-level check). */
int fields_unknown(const char *api_version, const char *kind, const json_t *obj, json_t *out,
                   size_t max);

/* Whether apiVersion/kind has a field table. */
bool fields_known_kind(const char *api_version, const char *kind);

/* OpenAPI v3 schemas for group/version/kind and every message it reaches, added to schemas (an
 * object: name -> schema, "#/components/schemas/<name>" refs between them); field types from
 * the tables (no descriptions). names is the caller's scratch object (message -> schema name),
 * shared by the calls that fill one schemas object. The top schema gets apiVersion/kind
 * properties and x-kubernetes-group-version-kind; its name goes to ret_name. Returns 0, or
 * -ENOENT if the kind has no table. */
int fields_openapi_schemas(const char *group, const char *version, const char *kind,
                           json_t *schemas, json_t *names, char *ret_name, size_t size);

/* The first JSON type mismatch in obj (a string where a number is declared, ...), worded as
 * encoding/json's UnmarshalTypeError that kube-apiserver returns: "json: cannot unmarshal
 * string into Go struct field DeploymentSpec.spec.replicas of type int32". Returns true and
 * fills buf, or false when the types fit (or the kind has no table). */
bool fields_type_error(const char *api_version, const char *kind, const json_t *obj, char *buf,
                       size_t size);

/* Remove obj's unknown fields in place (what kube-apiserver's decoder drops under
 * fieldValidation Warn and Ignore: they are never stored). Returns the number removed, or
 * -ENOENT if apiVersion/kind has no table. */
int fields_prune(const char *api_version, const char *kind, json_t *obj);
