/* discovery.c — discovery and OpenAPI documents (see discovery.h). */
#include "apiserver/discovery.h"

#include <stdio.h>

#include "api/crd.h"
#include "api/fields.h"
#include "api/scheme.h"

#define MAX_GV 32

static json_t *strv_json(const char *const *v)
{
        json_t *a = json_array();
        for (; v && *v; v++)
                json_array_append_new(a, json_string(*v));
        return a;
}

const char *discovery_accepts_aggregated(const char *accept)
{
        if (!accept)
                return NULL;
        /* The client lists its preferences; take the first aggregated entry that names
         * as=APIGroupDiscoveryList. */
        const char *v2 = strstr(accept, "g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
        const char *v2b =
                strstr(accept, "g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList");
        if (v2 && (!v2b || v2 < v2b))
                return "v2";
        if (v2b)
                return "v2beta1";
        return NULL;
}

static json_t *agg_resource(const struct scheme_resource *r)
{
        json_t *o = json_pack("{s:s,s:{s:s,s:s,s:s},s:s,s:s,s:o,s:o}", "resource", r->resource,
                              "responseKind", "group", r->group, "version", r->version, "kind",
                              r->kind, "scope", r->namespaced ? "Namespaced" : "Cluster",
                              "singularResource", r->singular, "shortNames",
                              strv_json(r->short_names), "verbs", strv_json(r->verbs));
        if (r->categories && r->categories[0])
                json_object_set_new(o, "categories", strv_json(r->categories));
        if (r->subresources && r->subresources[0].name) {
                json_t *subs = json_array();
                for (const struct scheme_subresource *s = r->subresources; s->name; s++) {
                        const char *g = strcmp(s->kind, "Binding") ? r->group : "";
                        if (s->group)
                                g = s->group;
                        json_array_append_new(
                                subs, json_pack("{s:s,s:{s:s,s:s,s:s},s:o}", "subresource", s->name,
                                                "responseKind", "group", g, "version",
                                                s->version ? s->version : r->version, "kind",
                                                s->kind, "verbs", strv_json(s->verbs)));
                }
                json_object_set_new(o, "subresources", subs);
        }
        return o;
}

json_t *discovery_aggregated(bool core, const char *version)
{
        size_t n;
        _cleanup_free_ const struct scheme_resource **rs = scheme_all_resources(&n, false);
        const char *groups[MAX_GV], *versions[MAX_GV];
        size_t ngv = scheme_group_versions(groups, versions, MAX_GV);
        json_t *items = json_array();
        /* One item per group, its versions in preference order. */
        for (size_t g = 0; g < ngv; g++) {
                if (core != !*groups[g])
                        continue;
                bool seen = false;
                for (size_t h = 0; h < g; h++)
                        seen |= !strcmp(groups[h], groups[g]);
                if (seen)
                        continue;
                json_t *vers = json_array();
                for (size_t v = g; v < ngv; v++) {
                        if (strcmp(groups[v], groups[g]))
                                continue;
                        json_t *res = json_array();
                        for (size_t i = 0; i < n; i++)
                                if (!strcmp(rs[i]->group, groups[v]) &&
                                    !strcmp(rs[i]->version, versions[v]))
                                        json_array_append_new(res, agg_resource(rs[i]));
                        json_array_append_new(vers,
                                              json_pack("{s:s,s:o,s:s}", "version", versions[v],
                                                        "resources", res, "freshness", "Current"));
                }
                json_array_append_new(items, json_pack("{s:{s:s,s:o},s:o}", "metadata", "name",
                                                       groups[g], "creationTimestamp", json_null(),
                                                       "versions", vers));
        }
        if (!core)
                json_array_append_new(items, metricsapi_discovery_group(true));
        char apiversion[64];
        snprintf(apiversion, sizeof(apiversion), "apidiscovery.k8s.io/%s", version);
        return json_pack("{s:s,s:s,s:{},s:o}", "kind", "APIGroupDiscoveryList", "apiVersion",
                         apiversion, "metadata", "items", items);
}

json_t *discovery_api_versions(void)
{
        return json_pack("{s:s,s:[s],s:[{s:s,s:s}]}", "kind", "APIVersions", "versions", "v1",
                         "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
                         "");
}

static json_t *group_entry(const char *group, const char **groups, const char **versions,
                           size_t ngv)
{
        json_t *vers = json_array();
        json_t *pref = NULL;
        for (size_t v = 0; v < ngv; v++) {
                if (strcmp(groups[v], group))
                        continue;
                char gv[160];
                snprintf(gv, sizeof(gv), "%s/%s", group, versions[v]);
                json_t *e = json_pack("{s:s,s:s}", "groupVersion", gv, "version", versions[v]);
                if (!pref)
                        pref = json_deep_copy(e);
                json_array_append_new(vers, e);
        }
        if (!pref) {
                json_decref(vers);
                return NULL;
        }
        return json_pack("{s:s,s:o,s:o}", "name", group, "versions", vers, "preferredVersion",
                         pref);
}

json_t *discovery_group_list(void)
{
        const char *groups[MAX_GV], *versions[MAX_GV];
        size_t ngv = scheme_group_versions(groups, versions, MAX_GV);
        json_t *list = json_array();
        for (size_t g = 0; g < ngv; g++) {
                if (!*groups[g])
                        continue;
                bool seen = false;
                for (size_t h = 0; h < g; h++)
                        seen |= !strcmp(groups[h], groups[g]);
                if (!seen)
                        json_array_append_new(list, group_entry(groups[g], groups, versions, ngv));
        }
        json_array_append_new(list, metricsapi_discovery_group(false));
        return json_pack("{s:s,s:s,s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
                         list);
}

json_t *discovery_group(const char *group)
{
        const char *groups[MAX_GV], *versions[MAX_GV];
        size_t ngv = scheme_group_versions(groups, versions, MAX_GV);
        if (!*group)
                return NULL;
        json_t *e = group_entry(group, groups, versions, ngv);
        if (!e)
                return NULL;
        json_object_set_new(e, "kind", json_string("APIGroup"));
        json_object_set_new(e, "apiVersion", json_string("v1"));
        return e;
}

json_t *discovery_resource_list(const char *group, const char *version)
{
        size_t n;
        _cleanup_free_ const struct scheme_resource **rs = scheme_all_resources(&n, false);
        json_t *list = json_array();
        bool any = false;
        for (size_t i = 0; i < n; i++) {
                const struct scheme_resource *r = rs[i];
                if (strcmp(r->group, group) || strcmp(r->version, version))
                        continue;
                any = true;
                json_t *e = json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", r->resource, "singularName",
                                      r->singular, "namespaced", r->namespaced, "kind", r->kind,
                                      "verbs", strv_json(r->verbs));
                if (r->short_names[0])
                        json_object_set_new(e, "shortNames", strv_json(r->short_names));
                if (r->categories[0])
                        json_object_set_new(e, "categories", strv_json(r->categories));
                json_array_append_new(list, e);
                for (const struct scheme_subresource *s = r->subresources; s->name; s++) {
                        char name[128];
                        snprintf(name, sizeof(name), "%s/%s", r->resource, s->name);
                        json_t *se = json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", name,
                                               "singularName", "", "namespaced", r->namespaced,
                                               "kind", s->kind, "verbs", strv_json(s->verbs));
                        if (s->group) {
                                json_object_set_new(se, "group", json_string(s->group));
                                json_object_set_new(se, "version", json_string(s->version));
                        }
                        json_array_append_new(list, se);
                }
        }
        if (!any) {
                json_decref(list);
                return NULL;
        }
        char gv[160];
        if (*group)
                snprintf(gv, sizeof(gv), "%s/%s", group, version);
        else
                snprintf(gv, sizeof(gv), "%s", version);
        return json_pack("{s:s,s:s,s:s,s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                         "groupVersion", gv, "resources", list);
}

/* ---- OpenAPI v3 ---- */

static void gv_path(char *buf, size_t size, const char *group, const char *version)
{
        if (*group)
                snprintf(buf, size, "apis/%s/%s", group, version);
        else
                snprintf(buf, size, "api/%s", version);
}

json_t *openapi_index(void)
{
        const char *groups[MAX_GV], *versions[MAX_GV];
        size_t ngv = scheme_group_versions(groups, versions, MAX_GV);
        json_t *paths = json_object();
        for (size_t g = 0; g < ngv; g++) {
                char p[160], url[200];
                gv_path(p, sizeof(p), groups[g], versions[g]);
                snprintf(url, sizeof(url), "/openapi/v3/%s", p);
                json_object_set_new(paths, p, json_pack("{s:s}", "serverRelativeURL", url));
        }
        return json_pack("{s:o}", "paths", paths);
}

static json_t *operation(const struct scheme_resource *r, const char *verb, const char *action,
                         bool field_validation)
{
        json_t *params = json_array();
        json_array_append_new(params, json_pack("{s:s,s:s,s:s,s:{s:s},s:b}", "name", "dryRun", "in",
                                                "query", "description",
                                                "When present, indicates that modifications "
                                                "should not be persisted.",
                                                "schema", "type", "string", "uniqueItems", 1));
        if (field_validation)
                json_array_append_new(
                        params, json_pack("{s:s,s:s,s:s,s:{s:s},s:b}", "name", "fieldValidation",
                                          "in", "query", "description",
                                          "fieldValidation instructs the server on how to handle "
                                          "objects in the request containing unknown or "
                                          "duplicate fields.",
                                          "schema", "type", "string", "uniqueItems", 1));
        char opid[160];
        snprintf(opid, sizeof(opid), "%s%s%s", verb, r->namespaced ? "Namespaced" : "", r->kind);
        return json_pack("{s:s,s:o,s:{s:{s:s}},s:s,s:{s:s,s:s,s:s}}", "operationId", opid,
                         "parameters", params, "responses", "200", "description", "OK",
                         "x-kubernetes-action", action, "x-kubernetes-group-version-kind", "group",
                         r->group, "version", r->version, "kind", r->kind);
}

json_t *openapi_group_version(const char *path)
{
        size_t n;
        _cleanup_free_ const struct scheme_resource **rs = scheme_all_resources(&n, false);
        json_t *paths = json_object();
        bool any = false;
        for (size_t i = 0; i < n; i++) {
                const struct scheme_resource *r = rs[i];
                char p[160];
                gv_path(p, sizeof(p), r->group, r->version);
                if (strcmp(p, path))
                        continue;
                any = true;
                char coll[256], item[300];
                if (r->namespaced)
                        snprintf(coll, sizeof(coll), "/%s/namespaces/{namespace}/%s", p,
                                 r->resource);
                else
                        snprintf(coll, sizeof(coll), "/%s/%s", p, r->resource);
                snprintf(item, sizeof(item), "%s/{name}", coll);
                json_object_set_new(paths, coll,
                                    json_pack("{s:o,s:o}", "get",
                                              operation(r, "list", "list", false), "post",
                                              operation(r, "create", "post", true)));
                json_object_set_new(paths, item,
                                    json_pack("{s:o,s:o,s:o,s:o}", "get",
                                              operation(r, "read", "get", false), "put",
                                              operation(r, "replace", "put", true), "patch",
                                              operation(r, "patch", "patch", true), "delete",
                                              operation(r, "delete", "delete", false)));
        }
        if (!any) {
                json_decref(paths);
                return NULL;
        }
        /* Schemas from the k8s.io/api struct tags (kubectl explain walks them). The operations
         * carry no requestBody, so kubectl apply keeps its compiled-in patch strategies. */
        json_t *schemas = json_object();
        json_t *names = json_object();
        for (size_t i = 0; i < n; i++) {
                const struct scheme_resource *r = rs[i];
                char p[160], name[128];
                gv_path(p, sizeof(p), r->group, r->version);
                if (strcmp(p, path))
                        continue;
                json_t *crs = NULL;
                if (r->custom)
                        crs = crd_openapi_schema(r, name, sizeof(name));
                else if (!strcmp(r->resource, "customresourcedefinitions"))
                        crs = crd_kind_openapi(name, sizeof(name));
                if (!crs) {
                        (void)fields_openapi_schemas(r->group, r->version, r->kind, schemas, names,
                                                     name, sizeof(name));
                        continue;
                }
                /* the CRD's schema, and ObjectMeta (what its metadata refers to) from a kind
                 * that has it */
                json_object_set_new(schemas, name, crs);
                _cleanup_(json_decrefp) json_t *tmp = json_object();
                _cleanup_(json_decrefp) json_t *tmpn = json_object();
                char cm[128];
                (void)fields_openapi_schemas("", "v1", "ConfigMap", tmp, tmpn, cm, sizeof(cm));
                const char *k;
                json_t *v;
                json_object_foreach(tmp, k, v)
                {
                        if (!strncmp(k, "io.k8s.apimachinery.", 20) && !json_object_get(schemas, k))
                                json_object_set(schemas, k, v);
                }
        }
        json_decref(names);
        return json_pack("{s:s,s:{s:s,s:s},s:o,s:{s:o}}", "openapi", "3.0.0", "info", "title",
                         "Kubernetes", "version", "v1.31.0", "paths", paths, "components",
                         "schemas", schemas);
}
