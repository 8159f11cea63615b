/* kjson.h — jansson helpers: bounded parsing, compact dumping, dotted-path access.
 * Paths are dot-separated object keys ("metadata.name"); no array indexing. */
#pragma once
#include <jansson.h>

#include "common/error.h"

#define KJSON_MAX_DEPTH_DEFAULT 64

/* Parse one JSON value (any type at top level) from buf[0..len). Rejects nesting deeper than
 * max_depth (0 = KJSON_MAX_DEPTH_DEFAULT), trailing garbage, NUL bytes in strings.
 * On success *ret is a new reference. Errors: -EINVAL with "line:col: message" in err,
 * -E2BIG when the depth cap is exceeded. */
int kjson_parse(const char *buf, size_t len, size_t max_depth, json_t **ret, struct error *err);

/* Same, but also requires an object at the top level (-EINVAL otherwise). */
int kjson_parse_object(const char *buf, size_t len, size_t max_depth, json_t **ret,
                       struct error *err);

/* Compact serialization with key order preserved. Caller frees. Never NULL for a valid j
 * (a NULL j dumps as "null"). */
char *kjson_dump(const json_t *j);

/* Child at dotted path, borrowed, or NULL if any component is missing / not an object. */
json_t *kjson_get(const json_t *obj, const char *dotted_path);

/* Borrowed string at dotted path, or NULL if missing or not a string. */
const char *kjson_str(const json_t *obj, const char *dotted_path);

/* Integer at dotted path, or dflt if missing or not an integer. */
int64_t kjson_int(const json_t *obj, const char *dotted_path, int64_t dflt);

/* Bool at dotted path, or dflt if missing or not a bool. */
bool kjson_bool(const json_t *obj, const char *dotted_path, bool dflt);

/* Get-or-create child object under key (a single key, not a path). If the key exists and is not
 * an object it is replaced by an empty object. Returns a borrowed reference. */
json_t *kjson_obj_ensure(json_t *obj, const char *key);

/* Get-or-create the object at a dotted path, creating intermediate objects. Borrowed. */
json_t *kjson_obj_ensure_path(json_t *obj, const char *dotted_path);

/* Set obj[dotted path] = value (steals the reference to value), creating intermediates. */
void kjson_set_path(json_t *obj, const char *dotted_path, json_t *value);

/* Set a string (copied) at a dotted path, creating intermediates. */
void kjson_set_str(json_t *obj, const char *dotted_path, const char *s);

/* Delete the key at a dotted path if present. */
void kjson_del_path(json_t *obj, const char *dotted_path);

/* Deep equality ignoring key order (json_equal semantics); NULLs equal only each other. */
bool kjson_equal(const json_t *a, const json_t *b);
