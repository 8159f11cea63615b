/* meta.h — ObjectMeta: name rules, validation into Status causes, create/update bookkeeping.
 *
 * Validation appends StatusCause objects to a JSON array:
 *   {"reason":"FieldValueInvalid","message":"Invalid value: \"Bad_Name\": <text>",
 *    "field":"metadata.name"}
 * reasons: FieldValueInvalid, FieldValueRequired ("Required value: ..."), FieldValueForbidden
 * ("Forbidden: ..."), FieldValueTooLong ("Too long: ..."), FieldValueDuplicate
 * ("Duplicate value: ..."), FieldValueNotSupported. The API server builds the Status message
 * from the causes: "<Kind> \"<name>\" is invalid: <field>: <message>" (several causes joined
 * as "[f1: m1, f2: m2]"); meta_causes_message() does exactly that. */
#pragma once
#include <jansson.h>

#include "common/error.h"

/* Kubernetes' texts (k8s.io/apimachinery/pkg/util/validation). */
#define META_DNS1123_LABEL_MSG                                                                     \
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "   \
        "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "   \
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define META_DNS1123_SUBDOMAIN_MSG                                                                 \
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "  \
        "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "      \
        "regex used for validation is "                                                            \
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

#define META_DNS1123_LABEL_MAX 63
#define META_DNS1123_SUBDOMAIN_MAX 253
#define META_ANNOTATIONS_MAX_BYTES (256 * 1024)

bool meta_is_dns1123_label(const char *s);
bool meta_is_dns1123_subdomain(const char *s);
/* RFC 1035 label: starts with a letter (Service names). */
bool meta_is_dns1035_label(const char *s);
/* Qualified name ("[prefix/]name", label/annotation keys). */
bool meta_is_qualified_name(const char *s);
/* Label value: empty, or <= 63 chars of [A-Za-z0-9._-] starting and ending alphanumeric. */
bool meta_is_label_value(const char *s);

/* Error texts for a bad value, as Kubernetes joins them ("; "), into buf (NULL-free);
 * returns false if the value is valid (buf untouched). */
bool meta_dns1123_label_error(const char *s, char *buf, size_t size);
bool meta_dns1123_subdomain_error(const char *s, char *buf, size_t size);
bool meta_dns1035_label_error(const char *s, char *buf, size_t size);
bool meta_qualified_name_error(const char *s, char *buf, size_t size);
bool meta_label_value_error(const char *s, char *buf, size_t size);

/* Append one cause. value may be NULL (Required/Forbidden causes carry no value); for
 * "FieldValueInvalid" the message becomes "Invalid value: <json-quoted value>: <detail>". */
void meta_cause_add(json_t *causes, const char *reason, const char *field, const char *value,
                    const char *detail);
/* Same with a JSON value (numbers, objects: printed as Kubernetes does with %#v-ish JSON). */
void meta_cause_add_json(json_t *causes, const char *reason, const char *field, const json_t *value,
                         const char *detail);

/* "<kind> \"<name>\" is invalid: ..." from causes (see top). Caller frees. */
char *meta_causes_message(const char *kind, const char *name, const json_t *causes);

/* Validate obj.metadata for create (and update): name or generateName (DNS-1123 label if
 * name_is_label, else subdomain), namespace (required iff namespaced; DNS-1123 label; forbidden
 * otherwise), labels, annotations (keys; total size), ownerReferences (apiVersion, kind, name,
 * uid required; at most one controller), finalizers (qualified names; not both orphan and
 * foregroundDeletion).
 * Appends to causes. */
void meta_validate_object_meta(const json_t *obj, bool namespaced, bool name_is_label,
                               json_t *causes);

/* Name rules per kind: most kinds use DNS-1123 subdomains; namespaces and nodes-like kinds
 * labels; Services DNS-1035 labels; RBAC kinds path segments (anything but "." / ".." and
 * no '/' or '%': "system:controller:x" is valid). */
enum meta_name_rule {
        META_NAME_SUBDOMAIN = 0,
        META_NAME_LABEL,
        META_NAME_DNS1035,
        META_NAME_PATH_SEGMENT,
};

/* meta_validate_object_meta with an explicit name rule. */
void meta_validate_object_meta_rule(const json_t *obj, bool namespaced, enum meta_name_rule rule,
                                    json_t *causes);

/* Update-time checks: name, namespace, uid, creationTimestamp, deletionTimestamp,
 * deletionGracePeriodSeconds immutable ("field is immutable"); generation not decremented; no
 * new finalizers once deletionTimestamp is set. resourceVersion presence is NOT checked (the
 * API server fills it for unconditional updates). Call after meta_prepare_update. */
void meta_validate_object_meta_update(const json_t *newobj, const json_t *oldobj, json_t *causes);

/* Random v4 UUID "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx". */
void meta_uid_new(char buf[37]);

/* 5 random chars of "bcdfghjklmnpqrstvwxz2456789" (+ NUL). */
void meta_random_suffix(char buf[6]);

/* Fill server-set fields on create: metadata.uid (new v4), creationTimestamp (now), generation
 * 1, namespace = ns (if ns non-NULL), name = generateName + 5 random chars when name is empty and
 * generateName set; drops resourceVersion, selfLink, deletionTimestamp,
 * deletionGracePeriodSeconds. Ensures metadata exists. */
void meta_prepare_create(json_t *obj, const char *ns);

/* Fill server-set fields on update from the stored object (rest.BeforeUpdate): uid if the new
 * object has none, creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds (if unset)
 * copied from old; generation = old generation, plus one when anything outside metadata and
 * status changed. */
void meta_prepare_update(json_t *newobj, const json_t *oldobj);

/* True if the objects differ outside "metadata" and "status" (spec change). */
bool meta_spec_changed(const json_t *a, const json_t *b);
