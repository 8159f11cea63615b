/* strategy.h — per-kind registry strategies, as kube-apiserver's pkg/registry/<group>/<kind>
 * strategy.go files: defaults, create/update preparation (status reset, metadata.generation),
 * validation (create and update), the name rule, the status and scale subresources and the
 * field-selector fields. Pure (JSON in, JSON out; validation appends StatusCauses, see meta.h).
 *
 * Every served resource has a strategy (kinds without special rules get the generic one). The
 * API server calls, for a create: strategy_prepare_create, strategy_validate; for an update:
 * strategy_prepare_update, strategy_validate, strategy_validate_update. */
#pragma once
#include <jansson.h>

#include "api/meta.h"
#include "api/scheme.h"

struct strategy {
        const char *group;    /* scheme group ("" core) */
        const char *resource; /* plural */
        enum meta_name_rule name_rule;
        /* metadata.generation is tracked (1 on create, +1 on spec change); kinds without it
         * (ConfigMap, Namespace, Pod in 1.31, ...) never carry the field. */
        bool generation;
        /* Top-level fields besides apiVersion/kind/metadata (strict field validation). */
        const char *const *top_fields;
        /* Field-selector fields besides metadata.name and metadata.namespace. */
        const char *const *field_selectors;
        /* The status written on create (PrepareForCreate resets it); NULL = left as sent. */
        const char *create_status;
        /* Scale subresource: paths of the replica count and the selector (a LabelSelector,
         * or a plain map when selector_is_map); NULL when the kind has no scale. */
        const char *scale_replicas;
        const char *scale_selector;
        bool selector_is_map;
        void (*defaults)(json_t *obj);
        void (*validate)(const json_t *obj, json_t *causes);
        void (*validate_update)(const json_t *newobj, const json_t *oldobj, json_t *causes);
        /* Custom resources (api/crd.h): the status is dropped on create (status subresource),
         * the scale's status.replicas path (NULL: "status.replicas") and a selector that is a
         * string (labelSelectorPath). */
        bool drop_status_on_create;
        const char *scale_status_replicas;
        bool selector_is_string;
};

/* The strategy of a served resource (never NULL). */
const struct strategy *strategy_for(const struct scheme_resource *r);

/* Create: metadata (uid, creationTimestamp, generateName, namespace = ns for namespaced kinds),
 * generation, status reset, then the kind's defaults. */
void strategy_prepare_create(const struct strategy *s, const struct scheme_resource *r, json_t *obj,
                             const char *ns);
/* Update of the main resource (not status): kind defaults, generation kept and bumped on a
 * spec change (rest.BeforeUpdate + PrepareForUpdate). */
void strategy_prepare_update(const struct strategy *s, json_t *newobj, const json_t *oldobj);
/* Metadata + kind validation (create and update). */
void strategy_validate(const struct strategy *s, const struct scheme_resource *r, const json_t *obj,
                       json_t *causes);
/* Update-only rules: metadata immutables plus the kind's immutable fields. */
void strategy_validate_update(const struct strategy *s, const json_t *newobj, const json_t *oldobj,
                              json_t *causes);
/* Whether fieldSelector may name path (metadata.name/namespace always). */
bool strategy_has_field(const struct strategy *s, const char *path);
/* The selectable fields: NULL-terminated, static (for labels_field_selector_check). */
const char *const *strategy_field_paths(const struct strategy *s);

/* autoscaling/v1 Scale of obj (new reference), or NULL if the kind has no scale subresource. */
json_t *strategy_scale_get(const struct strategy *s, const json_t *obj);
/* Apply scale (an autoscaling/v1 Scale) to a copy of obj: spec.replicas. Validation of the
 * Scale ("spec.replicas: Invalid value: -1: must be greater than or equal to 0") appends to
 * causes. Returns the new object (new reference) or NULL when causes were added. */
json_t *strategy_scale_apply(const struct strategy *s, const json_t *obj, const json_t *scale,
                             json_t *causes);

/* Shared field rules (used by the kind files). */
void strategy_check_nonneg(const json_t *obj, const char *path, json_t *causes);
void strategy_check_immutable(const json_t *newobj, const json_t *oldobj, const char *path,
                              json_t *causes);
