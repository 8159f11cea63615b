/* scheme.c — the static resource table (see scheme.h). */
#include "api/scheme.h"

#include <stdio.h>

static const char *const verbs_all[] = {
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch", NULL};
static const char *const verbs_get[] = {"get", NULL};
static const char *const verbs_create[] = {"create", NULL};
static const char *const verbs_status[] = {"get", "patch", "update", NULL};
static const char *const none[] = {NULL};
static const char *const cat_all[] = {"all", NULL};

static const struct scheme_subresource sub_none[] = {{NULL, NULL, NULL}};
static const struct scheme_subresource sub_pods[] = {
        {"binding", "Binding", verbs_create},
        {"log", "Pod", verbs_get},
        {"status", "Pod", verbs_status},
        {NULL, NULL, NULL},
};
static const struct scheme_subresource sub_nodes[] = {
        {"status", "Node", verbs_status},
        {NULL, NULL, NULL},
};
static const struct scheme_subresource sub_namespaces[] = {
        {"status", "Namespace", verbs_status},
        {NULL, NULL, NULL},
};
static const struct scheme_subresource sub_services[] = {
        {"status", "Service", verbs_status},
        {NULL, NULL, NULL},
};

static const char *const sn_pods[] = {"po", NULL};
static const char *const sn_nodes[] = {"no", NULL};
static const char *const sn_ns[] = {"ns", NULL};
static const char *const sn_ev[] = {"ev", NULL};
static const char *const sn_cm[] = {"cm", NULL};
static const char *const sn_svc[] = {"svc", NULL};
static const char *const sn_sa[] = {"sa", NULL};
static const char *const sn_ep[] = {"ep", NULL};

static const struct scheme_resource resources[] = {
        {"", "v1", "Pod", "PodList", "pods", "pod", true, sn_pods, cat_all, verbs_all, sub_pods},
        {"", "v1", "Node", "NodeList", "nodes", "node", false, sn_nodes, none, verbs_all,
         sub_nodes},
        {"", "v1", "Namespace", "NamespaceList", "namespaces", "namespace", false, sn_ns, none,
         verbs_all, sub_namespaces},
        {"", "v1", "Event", "EventList", "events", "event", true, sn_ev, none, verbs_all, sub_none},
        {"", "v1", "ConfigMap", "ConfigMapList", "configmaps", "configmap", true, sn_cm, none,
         verbs_all, sub_none},
        {"", "v1", "Secret", "SecretList", "secrets", "secret", true, none, none, verbs_all,
         sub_none},
        {"", "v1", "ServiceAccount", "ServiceAccountList", "serviceaccounts", "serviceaccount",
         true, sn_sa, none, verbs_all, sub_none},
        {"", "v1", "Service", "ServiceList", "services", "service", true, sn_svc, cat_all,
         verbs_all, sub_services},
        {"", "v1", "Endpoints", "EndpointsList", "endpoints", "endpoints", true, sn_ep, none,
         verbs_all, sub_none},
        {"coordination.k8s.io", "v1", "Lease", "LeaseList", "leases", "lease", true, none, none,
         verbs_all, sub_none},
};

const struct scheme_resource *scheme_resources(size_t *ret_n)
{
        *ret_n = ARRAY_SIZE(resources);
        return resources;
}

const struct scheme_resource *scheme_lookup(const char *group, const char *version,
                                            const char *resource)
{
        for (size_t i = 0; i < ARRAY_SIZE(resources); i++) {
                const struct scheme_resource *r = &resources[i];
                if (!strcmp(r->group, group) && !strcmp(r->version, version) &&
                    !strcmp(r->resource, resource))
                        return r;
        }
        return NULL;
}

const struct scheme_resource *scheme_lookup_kind(const char *group, const char *kind)
{
        for (size_t i = 0; i < ARRAY_SIZE(resources); i++)
                if (!strcmp(resources[i].group, group) && !strcmp(resources[i].kind, kind))
                        return &resources[i];
        return NULL;
}

const struct scheme_resource *scheme_lookup_any(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(resources); i++) {
                const struct scheme_resource *r = &resources[i];
                if (!strcmp(r->resource, name) || !strcmp(r->singular, name))
                        return r;
                for (const char *const *s = r->short_names; *s; s++)
                        if (!strcmp(*s, name))
                                return r;
        }
        return NULL;
}

const struct scheme_subresource *scheme_subresource(const struct scheme_resource *r,
                                                    const char *name)
{
        for (const struct scheme_subresource *s = r->subresources; s->name; s++)
                if (!strcmp(s->name, name))
                        return s;
        return NULL;
}

const char *scheme_api_version(const struct scheme_resource *r)
{
        if (!*r->group)
                return r->version;
        if (!strcmp(r->group, "coordination.k8s.io"))
                return "coordination.k8s.io/v1";
        return r->version; /* every served group is listed above */
}

char *scheme_qualified_resource(const struct scheme_resource *r)
{
        if (!*r->group)
                return xstrdup(r->resource);
        return xasprintf("%s.%s", r->resource, r->group);
}

char *scheme_qualified_kind(const struct scheme_resource *r)
{
        if (!*r->group)
                return xstrdup(r->kind);
        return xasprintf("%s.%s", r->kind, r->group);
}

bool scheme_has_verb(const struct scheme_resource *r, const char *verb)
{
        for (const char *const *v = r->verbs; *v; v++)
                if (!strcmp(*v, verb))
                        return true;
        return false;
}

size_t scheme_group_versions(const char **groups, const char **versions, size_t max)
{
        size_t n = 0;
        for (size_t i = 0; i < ARRAY_SIZE(resources); i++) {
                bool seen = false;
                for (size_t j = 0; j < n; j++)
                        if (!strcmp(groups[j], resources[i].group) &&
                            !strcmp(versions[j], resources[i].version))
                                seen = true;
                if (seen || n >= max)
                        continue;
                groups[n] = resources[i].group;
                versions[n] = resources[i].version;
                n++;
        }
        return n;
}

char *scheme_key(const struct scheme_resource *r, const char *ns, const char *name)
{
        if (r->namespaced)
                return xasprintf("/registry/%s/%s/%s", r->resource, ns ? ns : "", name);
        return xasprintf("/registry/%s/%s", r->resource, name);
}

char *scheme_prefix(const struct scheme_resource *r, const char *ns)
{
        if (r->namespaced && ns && *ns)
                return xasprintf("/registry/%s/%s/", r->resource, ns);
        return xasprintf("/registry/%s/", r->resource);
}
