/* fieldset.h — sets of field paths in Kubernetes' FieldsV1 form, as
 * sigs.k8s.io/structured-merge-diff's fieldpath.Set: a JSON object tree whose keys are path
 * elements ("f:spec" a field, "k:{\"name\":\"c\"}" an associative-list item by its keys,
 * "v:\"x\"" a set-list value, "i:3" an index) and whose "." key marks a node that is itself a
 * member while it has children; a leaf {} is a member. Plus the typed walks server-side apply
 * needs: the set of fields an object sets (ToFieldSet), the merge of an applied configuration
 * into a live object, comparison of two objects, and removal of fields. Merge semantics come
 * from a caller-supplied schema (struct fieldset_schema) so built-in kinds and custom resources
 * can differ. Pure: no I/O. */
#pragma once
#include <jansson.h>

#include "common/base.h"
#include "common/error.h"

#define FIELDSET_MAX_DEPTH 64
#define FIELDSET_MAX_KEYS 4

enum fieldset_list_type {
        FIELDSET_LIST_ATOMIC, /* replaced as a whole; the list is one member */
        FIELDSET_LIST_SET,    /* scalars merged as a set: members "v:<json>" */
        FIELDSET_LIST_MAP,    /* objects merged by their keys: members "k:{...}" */
};

struct fieldset_list_info {
        enum fieldset_list_type type;
        const char *keys[FIELDSET_MAX_KEYS];     /* MAP: key fields, sorted, NULL-terminated */
        const char *defaults[FIELDSET_MAX_KEYS]; /* MAP: JSON text of a key's default or NULL */
        char buf[FIELDSET_MAX_KEYS][128];        /* storage a callback may point defaults at */
};

/* How the fields of one kind merge. path is the dotted path of the field without list keys
 * (".spec.template.spec.containers"), field its last name, sample an item (may be NULL). */
struct fieldset_schema {
        void (*list)(const struct fieldset_schema *s, const char *path, const char *field,
                     const json_t *sample, struct fieldset_list_info *ret);
        /* Is the object at path replaced as a whole (structType/mapType atomic)? */
        bool (*atomic)(const struct fieldset_schema *s, const char *path, const char *field);
        /* Is the field at path always present in a typed object (a Go value struct such as
         * metadata, spec, template, or a field without omitempty)? Objects that are absent and
         * appear (pointers, maps, lists) are themselves added or removed in a comparison;
         * these only through their fields. NULL: none (unstructured custom resources). */
        bool (*value_struct)(const struct fieldset_schema *s, const char *path, const char *field);
        const void *userdata;
};

/* ---- set algebra on FieldsV1 trees (inputs borrowed, results new) ---- */
json_t *fieldset_union(const json_t *a, const json_t *b);
json_t *fieldset_difference(const json_t *a, const json_t *b);
json_t *fieldset_intersection(const json_t *a, const json_t *b);
/* a without every subtree of which b holds the member (fieldpath's RecursiveDifference). */
json_t *fieldset_recursive_difference(const json_t *a, const json_t *b);
bool fieldset_empty(const json_t *s);
/* A copy of s (cheaper than json_deep_copy for these trees). */
json_t *fieldset_copy(const json_t *s);
/* Is the path (an array of path-element strings) a member of s? */
bool fieldset_has(const json_t *s, const json_t *path);
/* Does s hold a member at or below path? */
bool fieldset_has_prefix(const json_t *s, const json_t *path);
/* Is s well formed FieldsV1 (objects only, known element prefixes, parsable keys/values)? */
bool fieldset_valid(const json_t *s);
/* The members of s, each as an array of path-element strings, in sorted order (new array). */
json_t *fieldset_members(const json_t *s);
/* A path printed as fieldpath.Path.String(): .spec.containers[name="c"].image. Caller frees. */
char *fieldset_path_string(const json_t *path);
/* Add path (an array of path-element strings) to s as a member. */
void fieldset_insert(json_t *s, const json_t *path);
/* A set holding the one path given as path-element strings, NULL-terminated (for tests and
 * fixed sets such as the stripped metadata fields). */
json_t *fieldset_from_strings(const char *const *elements);

/* ---- typed walks ---- */
/* The fields obj sets (typed.ToFieldSet); metadata.managedFields is never one. Items of associative
 * lists that lack a key field without default are an error (-EINVAL with a message). */
int fieldset_from_object(const json_t *obj, const struct fieldset_schema *s, json_t **ret,
                         struct error *err);
/* live merged with the applied config (new object): granular objects merge per field,
 * associative lists per key, set lists as sets, everything else is replaced. A null in the
 * config removes the field. */
json_t *fieldset_merge(const json_t *live, const json_t *config, const struct fieldset_schema *s);
/* Which fields differ from old to new (typed.Compare): added (in new only), removed (in old
 * only), modified (in both, other value). A map, list or pointer struct that appears or goes is
 * itself a member of added/removed (FieldsV1 ".") besides its fields. Each out-param gets a new
 * set. */
int fieldset_compare(const json_t *old, const json_t *new, const struct fieldset_schema *s,
                     json_t **ret_added, json_t **ret_removed, json_t **ret_modified,
                     struct error *err);
/* The value at path in obj (borrowed) or NULL. */
const json_t *fieldset_lookup(const json_t *obj, const json_t *path,
                              const struct fieldset_schema *s);
/* Remove the field at path from obj if it is there. */
void fieldset_remove(json_t *obj, const json_t *path, const struct fieldset_schema *s);
