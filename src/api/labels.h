/* labels.h — label selectors and field selectors.
 *
 * Label selector string syntax (k8s.io/apimachinery/pkg/labels.Parse):
 *   a=b  a==b  a!=b  a in (x,y)  a notin (x,y)  a  !a  a>1  a<1   joined by ','
 * The LabelSelector JSON form ({matchLabels:{}, matchExpressions:[{key,operator,values}]}) is
 * converted by labels_selector_from_json (operators In NotIn Exists DoesNotExist).
 * An empty selector matches everything; a "nothing" selector (from a JSON null LabelSelector)
 * matches nothing.
 *
 * Field selector syntax (k8s.io/apimachinery/pkg/fields.ParseSelector):
 *   path=value  path==value  path!=value   joined by ','   (backslash escapes , = \)
 * Matching reads the object at the dotted path: strings compare as is, booleans as
 * "true"/"false", integers in decimal; a MISSING field (or null) reads as "" — as Kubernetes'
 * field sets do for unset fields like spec.nodeName — so "spec.nodeName=" selects unscheduled
 * pods and "spec.nodeName!=n1" matches pods without a node. Which paths are allowed per kind is
 * the API server's business (labels_field_selector_paths lists them for checking). */
#pragma once
#include <jansson.h>

#include "common/error.h"

enum labels_op {
        LABELS_OP_EQ,         /* = or == */
        LABELS_OP_NEQ,        /* != */
        LABELS_OP_IN,         /* in (..) */
        LABELS_OP_NOTIN,      /* notin (..) */
        LABELS_OP_EXISTS,     /* key */
        LABELS_OP_NOT_EXISTS, /* !key */
        LABELS_OP_GT,         /* key>N */
        LABELS_OP_LT,         /* key<N */
};

struct labels_req {
        char *key;
        enum labels_op op;
        char **values; /* NULL-terminated (strv), sorted; one value for EQ/NEQ/GT/LT, none for
                          EXISTS */
};

struct labels_selector {
        struct labels_req *reqs; /* sorted by key, as Kubernetes does */
        size_t n;
        bool nothing; /* matches nothing */
};

/* Parse the string form. NULL or "" gives an empty selector (matches everything).
 * Keys must be qualified names, values label values. *ret is owned by the caller.
 * Errors: -EINVAL, message like Kubernetes' ("unable to parse requirement: ..." or
 * "found 'x', expected: ..."). */
int labels_selector_parse(const char *s, struct labels_selector **ret, struct error *err);

/* Convert a metav1.LabelSelector JSON object. NULL or JSON null -> "nothing" selector;
 * {} -> everything. Errors: -EINVAL ("\"Foo\" is not a valid label selector operator", ...). */
int labels_selector_from_json(const json_t *sel, struct labels_selector **ret, struct error *err);

/* Does a labels object ({"k":"v",...}; NULL = no labels) satisfy every requirement? */
bool labels_selector_matches(const struct labels_selector *sel, const json_t *labels);

/* True if it selects everything (no requirements, not "nothing"). */
bool labels_selector_is_empty(const struct labels_selector *sel);

/* The canonical string form ("a=b,c in (x,y),!d"); caller frees. */
char *labels_selector_format(const struct labels_selector *sel);

void labels_selector_free(struct labels_selector *sel);
static inline void labels_selector_freep(struct labels_selector **s)
{
        labels_selector_free(*s);
}

/* Does a map-style selector ({"app":"x"}, e.g. Service.spec.selector or ReplicaSet
 * matchLabels) match labels? An empty or NULL selector matches everything here; callers that
 * want "nothing" for empty must check themselves (Services with empty selectors select none). */
bool labels_map_matches(const json_t *selector_map, const json_t *labels);

/* ---- field selectors ---- */

struct labels_field_req {
        char *path;  /* "metadata.name" */
        bool negate; /* != */
        char *value;
};

struct labels_field_selector {
        struct labels_field_req *reqs;
        size_t n;
};

/* Parse. NULL or "" gives an empty selector. Errors: -EINVAL ("invalid selector: 'x'; can't
 * understand 'x'"). */
int labels_field_selector_parse(const char *s, struct labels_field_selector **ret,
                                struct error *err);

/* Every requirement holds for obj (see the header comment for missing fields). */
bool labels_field_selector_matches(const struct labels_field_selector *sel, const json_t *obj);

/* If the selector has a requirement "path=value", return that value (borrowed), else NULL.
 * Handy for indexing ("spec.nodeName=n1"). */
const char *labels_field_selector_exact(const struct labels_field_selector *sel, const char *path);

/* Check every path is in the NULL-terminated list `allowed` ("metadata.name" and
 * "metadata.namespace" are always allowed). -EINVAL with Kubernetes' message
 * ("field label not supported: spec.foo") otherwise. */
int labels_field_selector_check(const struct labels_field_selector *sel, const char *const *allowed,
                                struct error *err);

void labels_field_selector_free(struct labels_field_selector *sel);
static inline void labels_field_selector_freep(struct labels_field_selector **s)
{
        labels_field_selector_free(*s);
}

/* A core/v1 NodeSelector ({nodeSelectorTerms: [...]}: terms ORed, a term's matchExpressions on
 * the node's labels (In NotIn Exists DoesNotExist Gt Lt) and matchFields (metadata.name) ANDed;
 * an empty term matches nothing) against a Node object. */
bool labels_node_selector_matches(const json_t *sel, const json_t *node);
bool labels_node_selector_term_matches(const json_t *term, const json_t *node);
