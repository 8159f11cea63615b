/* kyaml.h — YAML (libyaml) <-> JSON tree, reading scalars as Kubernetes does
 * (sigs.k8s.io/yaml -> go-yaml v2, YAML 1.1 resolution rules):
 *   - plain true/false/yes/no/on/off/y/n in go-yaml v2's case variants (true, True, TRUE, ...)
 *     are booleans; null, Null, NULL, ~ and empty plain scalars are null;
 *   - ints: decimal, 0x hex, 0o and leading-0 octal, 0b binary, '_' separators, signs;
 *     floats: 1.5, 1e3, .inf, -.Inf, .nan; anything quoted or in a block scalar is a string;
 *   - explicit tags !!str !!int !!bool !!float !!null are honoured;
 *   - merge keys `<<` (a mapping or a sequence of mappings; explicit keys win);
 *   - anchors/aliases are expanded, capped at KYAML_MAX_EXPANDED nodes in total (-E2BIG,
 *     "yaml: document contains excessive aliasing") and KYAML_MAX_DEPTH nesting (-E2BIG);
 *   - mapping keys that are not strings are converted to their string form ("1", "true").
 * Errors are -EINVAL with "yaml: line N: message" in err (N 1-based). */
#pragma once
#include <jansson.h>

#include "common/error.h"

#define KYAML_MAX_EXPANDED 10000
#define KYAML_MAX_DEPTH 100

/* Every document of a (multi-document) stream, in order, into a new JSON array (*ret_array, new
 * reference). Empty documents (including ones holding only null) are skipped. */
int kyaml_parse_all(const char *buf, size_t len, json_t **ret_array, struct error *err);

/* Exactly one document. An empty stream gives JSON null; more than one document is -EINVAL
 * ("yaml: expected a single document"). *ret is a new reference. */
int kyaml_parse_one(const char *buf, size_t len, json_t **ret, struct error *err);

/* Block-style YAML as `kubectl get -o yaml` prints it: 2-space indent, sequences of mappings
 * not indented beneath their key ("- name: x"), strings quoted when they would read back as
 * another type or are otherwise ambiguous, multi-line strings as literal block scalars.
 * Ends with a newline. Caller frees. */
char *kyaml_dump(const json_t *j);

/* Several documents joined with "---\n" separators (for a JSON array of objects, as
 * `kubectl get -o yaml` with a list does NOT do; use for multi-doc output). Caller frees. */
char *kyaml_dump_all(const json_t *array);
