/* rbac.c — RBAC defaults and validation (see rbac.h). */
#include "api/rbac.h"

#include <stdio.h>

#include "api/meta.h"
#include "common/kjson.h"

#define RBAC_GROUP "rbac.authorization.k8s.io"

static void validate_rules(const json_t *obj, bool namespaced, json_t *causes)
{
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(obj, "rules"), i, r)
        {
                char f[64];
                if (!json_array_size(json_object_get(r, "verbs"))) {
                        snprintf(f, sizeof(f), "rules[%zu].verbs", i);
                        meta_cause_add(causes, "FieldValueRequired", f, NULL,
                                       "verbs must contain at least one value");
                }
                const json_t *urls = json_object_get(r, "nonResourceURLs");
                if (json_array_size(urls)) {
                        snprintf(f, sizeof(f), "rules[%zu].nonResourceURLs", i);
                        if (namespaced) {
                                meta_cause_add_json(causes, "FieldValueInvalid", f, urls,
                                                    "namespaced rules cannot apply to "
                                                    "non-resource URLs");
                                continue;
                        }
                        if (json_array_size(json_object_get(r, "apiGroups")) ||
                            json_array_size(json_object_get(r, "resources")) ||
                            json_array_size(json_object_get(r, "resourceNames"))) {
                                snprintf(f, sizeof(f), "rules[%zu].nonResourceURLs", i);
                                meta_cause_add(causes, "FieldValueInvalid", f, NULL,
                                               "rules cannot apply to both regular resources and "
                                               "non-resource URLs");
                        }
                        continue;
                }
                if (!json_array_size(json_object_get(r, "apiGroups"))) {
                        snprintf(f, sizeof(f), "rules[%zu].apiGroups", i);
                        meta_cause_add(causes, "FieldValueRequired", f, NULL,
                                       "resource rules must supply at least one api group");
                }
                if (!json_array_size(json_object_get(r, "resources"))) {
                        snprintf(f, sizeof(f), "rules[%zu].resources", i);
                        meta_cause_add(causes, "FieldValueRequired", f, NULL,
                                       "resource rules must supply at least one resource");
                }
        }
}

void rbac_role_validate(const json_t *obj, json_t *causes)
{
        validate_rules(obj, true, causes);
}

void rbac_clusterrole_validate(const json_t *obj, json_t *causes)
{
        validate_rules(obj, false, causes);
}

void rbac_binding_defaults(json_t *obj)
{
        json_t *rr = json_object_get(obj, "roleRef");
        if (json_is_object(rr) && !kjson_str(rr, "apiGroup"))
                json_object_set_new(rr, "apiGroup", json_string(RBAC_GROUP));
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(obj, "subjects"), i, s)
        {
                const char *kind = kjson_str(s, "kind");
                if (!json_is_object(s) || kjson_str(s, "apiGroup") || !kind)
                        continue;
                /* ServiceAccount subjects keep "" (omitted in JSON) */
                if (!strcmp(kind, "User") || !strcmp(kind, "Group"))
                        json_object_set_new(s, "apiGroup", json_string(RBAC_GROUP));
        }
}

static void validate_binding(const json_t *obj, bool namespaced, json_t *causes)
{
        const json_t *rr = json_object_get(obj, "roleRef");
        const char *group = kjson_str(rr, "apiGroup");
        const char *kind = kjson_str(rr, "kind");
        const char *name = kjson_str(rr, "name");
        if (!group || strcmp(group, RBAC_GROUP))
                meta_cause_add(causes, "FieldValueNotSupported", "roleRef.apiGroup",
                               group ? group : "", "supported values: \"" RBAC_GROUP "\"");
        if (namespaced && (!kind || (strcmp(kind, "Role") && strcmp(kind, "ClusterRole"))))
                meta_cause_add(causes, "FieldValueNotSupported", "roleRef.kind", kind ? kind : "",
                               "supported values: \"Role\", \"ClusterRole\"");
        if (!namespaced && (!kind || strcmp(kind, "ClusterRole")))
                meta_cause_add(causes, "FieldValueNotSupported", "roleRef.kind", kind ? kind : "",
                               "supported values: \"ClusterRole\"");
        if (!name || !*name)
                meta_cause_add(causes, "FieldValueRequired", "roleRef.name", NULL, "");
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(obj, "subjects"), i, s)
        {
                char f[64];
                const char *sk = kjson_str(s, "kind");
                const char *sn = kjson_str(s, "name");
                const char *sg = kjson_str(s, "apiGroup");
                if (!sn || !*sn) {
                        snprintf(f, sizeof(f), "subjects[%zu].name", i);
                        meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
                }
                snprintf(f, sizeof(f), "subjects[%zu].kind", i);
                if (!sk ||
                    (strcmp(sk, "ServiceAccount") && strcmp(sk, "User") && strcmp(sk, "Group"))) {
                        meta_cause_add(causes, "FieldValueNotSupported", f, sk ? sk : "",
                                       "supported values: \"ServiceAccount\", \"User\", \"Group\"");
                        continue;
                }
                snprintf(f, sizeof(f), "subjects[%zu].apiGroup", i);
                if (!strcmp(sk, "ServiceAccount")) {
                        if (sg && *sg)
                                meta_cause_add(causes, "FieldValueNotSupported", f, sg,
                                               "supported values: \"\"");
                        if (!namespaced && !kjson_str(s, "namespace")) {
                                snprintf(f, sizeof(f), "subjects[%zu].namespace", i);
                                meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
                        }
                } else if (!sg || strcmp(sg, RBAC_GROUP)) {
                        meta_cause_add(causes, "FieldValueNotSupported", f, sg ? sg : "",
                                       "supported values: \"" RBAC_GROUP "\"");
                }
        }
}

void rbac_rolebinding_validate(const json_t *obj, json_t *causes)
{
        validate_binding(obj, true, causes);
}

void rbac_clusterrolebinding_validate(const json_t *obj, json_t *causes)
{
        validate_binding(obj, false, causes);
}

void rbac_binding_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes)
{
        const json_t *n = json_object_get(newobj, "roleRef");
        if (!kjson_equal(n, json_object_get(oldobj, "roleRef")))
                meta_cause_add_json(causes, "FieldValueInvalid", "roleRef", n,
                                    "cannot change roleRef");
}
