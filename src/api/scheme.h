/* scheme.h — the registry of the resources the API server serves (static table).
 *
 * One entry per (group, version, resource). Lookups by plural resource name, by kind and by
 * short name. Pure and immutable: safe from any thread. */
#pragma once
#include "common/base.h"

struct scheme_subresource {
        const char *name;         /* "status", "log", "binding" */
        const char *kind;         /* response kind ("Pod", "Binding") */
        const char *const *verbs; /* NULL-terminated */
        const char *group;        /* response group/version when not the parent's ("autoscaling" */
        const char *version;      /* and "v1" for scale), else NULL */
};

struct scheme_resource {
        const char *group;     /* "" for core */
        const char *version;   /* "v1" */
        const char *kind;      /* "Pod" */
        const char *list_kind; /* "PodList" */
        const char *resource;  /* plural: "pods" */
        const char *singular;  /* "pod" */
        bool namespaced;
        const char *const *short_names;                /* NULL-terminated (may be empty) */
        const char *const *categories;                 /* NULL-terminated (may be empty) */
        const char *const *verbs;                      /* NULL-terminated */
        const struct scheme_subresource *subresources; /* terminated by name == NULL */
        /* Custom resources (served from a CustomResourceDefinition, api/crd.h) only: */
        const char *api_version; /* "stable.example.com/v1" */
        const void *custom;      /* the CRD's served version (struct crd_served) */
};

/* All resources, in discovery order; *ret_n receives the count. */
const struct scheme_resource *scheme_resources(size_t *ret_n);
/* Lookup by group/version and plural resource name; NULL if not served. */
const struct scheme_resource *scheme_lookup(const char *group, const char *version,
                                            const char *resource);
/* Lookup by group and kind (any version); NULL if none. */
const struct scheme_resource *scheme_lookup_kind(const char *group, const char *kind);
/* Lookup by plural, singular or short name in any group; NULL if none. */
const struct scheme_resource *scheme_lookup_any(const char *name);
/* The subresource entry, or NULL. */
const struct scheme_subresource *scheme_subresource(const struct scheme_resource *r,
                                                    const char *name);
/* "v1" or "coordination.k8s.io/v1" (static storage, never freed). */
const char *scheme_api_version(const struct scheme_resource *r);
/* "pods" or "leases.coordination.k8s.io" (for error messages; caller frees). */
char *scheme_qualified_resource(const struct scheme_resource *r);
/* "Pod" or "Lease.coordination.k8s.io" (for Invalid messages; caller frees). */
char *scheme_qualified_kind(const struct scheme_resource *r);
/* Whether the resource supports verb ("get", "watch", ...). */
bool scheme_has_verb(const struct scheme_resource *r, const char *verb);
/* Group-versions served, in preference order, each once: fills up to max entries of
 * groups[i] ("" for core) and versions[i]; returns the count. */
size_t scheme_group_versions(const char **groups, const char **versions, size_t max);

/* Custom resources: the served entries, replaced as a whole by scheme_custom_set (a snapshot;
 * the entries and their strings are never freed, so pointers from any lookup stay valid; old
 * snapshots stay reachable). rs is copied; its strings and custom pointers are kept. Safe from
 * any thread. */
void scheme_custom_set(const struct scheme_resource *rs, size_t n);
/* The current custom entries; *ret_n receives the count. */
const struct scheme_resource *scheme_custom_resources(size_t *ret_n);
/* Every served resource, built-in then custom, as pointers; the array is the caller's to free.
 * The versions of one custom resource share its storage: with unique_storage, only the first
 * entry of each group/resource is listed (for walks over stored objects). */
const struct scheme_resource **scheme_all_resources(size_t *ret_n, bool unique_storage);

/* Store keys: "/registry/<resource>/<ns>/<name>" or "/registry/<resource>/<name>" (caller frees);
 * custom resources: "/registry/<group>/<resource>/...", as kube-apiserver keys them.
 * ns is ignored for cluster-scoped resources. */
char *scheme_key(const struct scheme_resource *r, const char *ns, const char *name);
/* Prefix listing every object of the resource (ns NULL or "" = all namespaces), ending in '/'. */
char *scheme_prefix(const struct scheme_resource *r, const char *ns);
