/* scheme.c — the static resource table (see scheme.h). */
#include "api/scheme.h"

#include <pthread.h>
#include <stdio.h>

static const char *const verbs_all[] = {
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch", NULL};
static const char *const verbs_get[] = {"get", NULL};
static const char *const verbs_create[] = {"create", NULL};
static const char *const verbs_status[] = {"get", "patch", "update", NULL};
static const char *const verbs_connect[] = {"create", "get", NULL};
static const char *const none[] = {NULL};
static const char *const cat_all[] = {"all", NULL};

static const struct scheme_subresource sub_none[] = {{NULL, NULL, NULL, NULL, NULL}};
static const struct scheme_subresource sub_pods[] = {
        {"attach", "PodAttachOptions", verbs_connect, NULL, NULL},
        {"binding", "Binding", verbs_create, NULL, NULL},
        {"eviction", "Eviction", verbs_create, "policy", "v1"},
        {"exec", "PodExecOptions", verbs_connect, NULL, NULL},
        {"log", "Pod", verbs_get, NULL, NULL},
        {"portforward", "PodPortForwardOptions", verbs_connect, NULL, NULL},
        {"status", "Pod", verbs_status, NULL, NULL},
        {NULL, NULL, NULL, NULL, NULL},
};
#define SUB_STATUS(k)                                                                              \
        static const struct scheme_subresource sub_##k[] = {                                       \
                {"status", #k, verbs_status, NULL, NULL},                                          \
                {NULL, NULL, NULL, NULL, NULL},                                                    \
        }
#define SUB_SCALE_STATUS(k)                                                                        \
        static const struct scheme_subresource sub_##k[] = {                                       \
                {"scale", "Scale", verbs_status, "autoscaling", "v1"},                             \
                {"status", #k, verbs_status, NULL, NULL},                                          \
                {NULL, NULL, NULL, NULL, NULL},                                                    \
        }
SUB_STATUS(Node);
SUB_STATUS(Namespace);
SUB_STATUS(Service);
SUB_STATUS(PersistentVolume);
SUB_STATUS(PersistentVolumeClaim);
SUB_STATUS(ResourceQuota);
SUB_SCALE_STATUS(ReplicationController);
SUB_SCALE_STATUS(Deployment);
SUB_SCALE_STATUS(ReplicaSet);
SUB_SCALE_STATUS(StatefulSet);
SUB_STATUS(DaemonSet);
SUB_STATUS(Job);
SUB_STATUS(CronJob);
SUB_STATUS(Ingress);
SUB_STATUS(PodDisruptionBudget);
SUB_STATUS(HorizontalPodAutoscaler);

#define SN(n, ...) static const char *const sn_##n[] = {__VA_ARGS__, NULL}
SN(pods, "po");
SN(nodes, "no");
SN(ns, "ns");
SN(ev, "ev");
SN(cm, "cm");
SN(svc, "svc");
SN(sa, "sa");
SN(ep, "ep");
SN(pv, "pv");
SN(pvc, "pvc");
SN(limits, "limits");
SN(quota, "quota");
SN(rc, "rc");
SN(deploy, "deploy");
SN(rs, "rs");
SN(sts, "sts");
SN(ds, "ds");
SN(cj, "cj");
SN(netpol, "netpol");
SN(ing, "ing");
SN(pdb, "pdb");
SN(sc, "sc");
SN(hpa, "hpa");
SN(pc, "pc");
SN(crd, "crd", "crds");
static const char *const cat_apiext[] = {"api-extensions", NULL};
SUB_STATUS(CustomResourceDefinition);

#define RES(g, v, kind, plural, singular, namespaced, sn, cat, sub)                                \
        {                                                                                          \
                g, v, #kind, #kind "List", plural, singular, namespaced, sn, cat, verbs_all, sub   \
        }

#define REVIEW(g, kind, plural, singular, namespaced)                                              \
        {                                                                                          \
                g, "v1", #kind, #kind "List", plural, singular, namespaced, none, none,            \
                        verbs_create, sub_none                                                     \
        }

/* Discovery order: as a real 1.31 server lists them (resources alphabetical within a group,
 * groups in kube-apiserver's priority order), which `kubectl get all` follows. */
static const struct scheme_resource resources[] = {
        RES("", "v1", ConfigMap, "configmaps", "configmap", true, sn_cm, none, sub_none),
        {"", "v1", "Endpoints", "EndpointsList", "endpoints", "endpoints", true, sn_ep, none,
         verbs_all, sub_none},
        RES("", "v1", Event, "events", "event", true, sn_ev, none, sub_none),
        RES("", "v1", LimitRange, "limitranges", "limitrange", true, sn_limits, none, sub_none),
        RES("", "v1", Namespace, "namespaces", "namespace", false, sn_ns, none, sub_Namespace),
        RES("", "v1", Node, "nodes", "node", false, sn_nodes, none, sub_Node),
        RES("", "v1", PersistentVolumeClaim, "persistentvolumeclaims", "persistentvolumeclaim",
            true, sn_pvc, none, sub_PersistentVolumeClaim),
        RES("", "v1", PersistentVolume, "persistentvolumes", "persistentvolume", false, sn_pv, none,
            sub_PersistentVolume),
        RES("", "v1", Pod, "pods", "pod", true, sn_pods, cat_all, sub_pods),
        RES("", "v1", PodTemplate, "podtemplates", "podtemplate", true, none, none, sub_none),
        RES("", "v1", ReplicationController, "replicationcontrollers", "replicationcontroller",
            true, sn_rc, cat_all, sub_ReplicationController),
        RES("", "v1", ResourceQuota, "resourcequotas", "resourcequota", true, sn_quota, none,
            sub_ResourceQuota),
        RES("", "v1", Secret, "secrets", "secret", true, none, none, sub_none),
        RES("", "v1", ServiceAccount, "serviceaccounts", "serviceaccount", true, sn_sa, none,
            sub_none),
        RES("", "v1", Service, "services", "service", true, sn_svc, cat_all, sub_Service),
        RES("apps", "v1", ControllerRevision, "controllerrevisions", "controllerrevision", true,
            none, none, sub_none),
        RES("apps", "v1", DaemonSet, "daemonsets", "daemonset", true, sn_ds, cat_all,
            sub_DaemonSet),
        RES("apps", "v1", Deployment, "deployments", "deployment", true, sn_deploy, cat_all,
            sub_Deployment),
        RES("apps", "v1", ReplicaSet, "replicasets", "replicaset", true, sn_rs, cat_all,
            sub_ReplicaSet),
        RES("apps", "v1", StatefulSet, "statefulsets", "statefulset", true, sn_sts, cat_all,
            sub_StatefulSet),
        RES("events.k8s.io", "v1", Event, "events", "event", true, sn_ev, none, sub_none),
        /* create-only reviews (apiserver/reviews.c; nothing stored), as a 1.31 server lists */
        REVIEW("authentication.k8s.io", SelfSubjectReview, "selfsubjectreviews",
               "selfsubjectreview", false),
        REVIEW("authentication.k8s.io", TokenReview, "tokenreviews", "tokenreview", false),
        REVIEW("authorization.k8s.io", LocalSubjectAccessReview, "localsubjectaccessreviews",
               "localsubjectaccessreview", true),
        REVIEW("authorization.k8s.io", SelfSubjectAccessReview, "selfsubjectaccessreviews",
               "selfsubjectaccessreview", false),
        REVIEW("authorization.k8s.io", SelfSubjectRulesReview, "selfsubjectrulesreviews",
               "selfsubjectrulesreview", false),
        REVIEW("authorization.k8s.io", SubjectAccessReview, "subjectaccessreviews",
               "subjectaccessreview", false),
        RES("autoscaling", "v2", HorizontalPodAutoscaler, "horizontalpodautoscalers",
            "horizontalpodautoscaler", true, sn_hpa, cat_all, sub_HorizontalPodAutoscaler),
        RES("batch", "v1", CronJob, "cronjobs", "cronjob", true, sn_cj, cat_all, sub_CronJob),
        RES("batch", "v1", Job, "jobs", "job", true, none, cat_all, sub_Job),
        RES("networking.k8s.io", "v1", IngressClass, "ingressclasses", "ingressclass", false, none,
            none, sub_none),
        RES("networking.k8s.io", "v1", Ingress, "ingresses", "ingress", true, sn_ing, none,
            sub_Ingress),
        RES("networking.k8s.io", "v1", NetworkPolicy, "networkpolicies", "networkpolicy", true,
            sn_netpol, none, sub_none),
        RES("policy", "v1", PodDisruptionBudget, "poddisruptionbudgets", "poddisruptionbudget",
            true, sn_pdb, none, sub_PodDisruptionBudget),
        RES("rbac.authorization.k8s.io", "v1", ClusterRoleBinding, "clusterrolebindings",
            "clusterrolebinding", false, none, none, sub_none),
        RES("rbac.authorization.k8s.io", "v1", ClusterRole, "clusterroles", "clusterrole", false,
            none, none, sub_none),
        RES("rbac.authorization.k8s.io", "v1", RoleBinding, "rolebindings", "rolebinding", true,
            none, none, sub_none),
        RES("rbac.authorization.k8s.io", "v1", Role, "roles", "role", true, none, none, sub_none),
        RES("storage.k8s.io", "v1", StorageClass, "storageclasses", "storageclass", false, sn_sc,
            none, sub_none),
        RES("scheduling.k8s.io", "v1", PriorityClass, "priorityclasses", "priorityclass", false,
            sn_pc, none, sub_none),
        RES("coordination.k8s.io", "v1", Lease, "leases", "lease", true, none, none, sub_none),
        RES("discovery.k8s.io", "v1", EndpointSlice, "endpointslices", "endpointslice", true, none,
            none, sub_none),
        RES("apiextensions.k8s.io", "v1", CustomResourceDefinition, "customresourcedefinitions",
            "customresourcedefinition", false, sn_crd, cat_apiext, sub_CustomResourceDefinition),
};

/* ---- custom resources (see scheme.h) ---- */

struct custom_snapshot {
        struct scheme_resource *rs;
        size_t n;
        struct custom_snapshot *older; /* kept: readers may still hold entries */
};

static struct custom_snapshot *custom_cur;
static pthread_mutex_t custom_mu = PTHREAD_MUTEX_INITIALIZER; /* serializes writers */

void scheme_custom_set(const struct scheme_resource *rs, size_t n)
{
        struct custom_snapshot *s = xcalloc(1, sizeof(*s));
        s->rs = xcalloc(n ? n : 1, sizeof(*s->rs));
        memcpy(s->rs, rs, n * sizeof(*rs));
        s->n = n;
        pthread_mutex_lock(&custom_mu);
        s->older = custom_cur;
        __atomic_store_n(&custom_cur, s, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&custom_mu);
}

const struct scheme_resource *scheme_custom_resources(size_t *ret_n)
{
        struct custom_snapshot *s = __atomic_load_n(&custom_cur, __ATOMIC_ACQUIRE);
        *ret_n = s ? s->n : 0;
        return s ? s->rs : NULL;
}

const struct scheme_resource **scheme_all_resources(size_t *ret_n, bool unique_storage)
{
        size_t nc;
        const struct scheme_resource *cs = scheme_custom_resources(&nc);
        const struct scheme_resource **all =
                xcalloc(ARRAY_SIZE(resources) + nc + 1, sizeof(*all));
        size_t n = 0;
        for (size_t i = 0; i < ARRAY_SIZE(resources); i++)
                all[n++] = &resources[i];
        for (size_t i = 0; i < nc; i++) {
                bool dup = false;
                for (size_t j = 0; j < i && unique_storage && !dup; j++)
                        dup = !strcmp(cs[j].group, cs[i].group) &&
                              !strcmp(cs[j].resource, cs[i].resource);
                if (!dup)
                        all[n++] = &cs[i];
        }
        *ret_n = n;
        return all;
}

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
        size_t n;
        const struct scheme_resource *c = scheme_custom_resources(&n);
        for (size_t i = 0; i < n; i++)
                if (!strcmp(c[i].group, group) && !strcmp(c[i].version, version) &&
                    !strcmp(c[i].resource, resource))
                        return &c[i];
        return NULL;
}

const struct scheme_resource *scheme_lookup_kind(const char *group, const char *kind)
{
        for (size_t i = 0; i < ARRAY_SIZE(resources); i++)
                if (!strcmp(resources[i].group, group) && !strcmp(resources[i].kind, kind))
                        return &resources[i];
        size_t n;
        const struct scheme_resource *c = scheme_custom_resources(&n);
        for (size_t i = 0; i < n; i++)
                if (!strcmp(c[i].group, group) && !strcmp(c[i].kind, kind))
                        return &c[i];
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
        if (r->api_version)
                return r->api_version;
        if (!*r->group)
                return r->version;
        static const char *const gvs[] = {
                "apiextensions.k8s.io/v1",
                "apps/v1",
                "authentication.k8s.io/v1",
                "authorization.k8s.io/v1",
                "autoscaling/v2",
                "batch/v1",
                "coordination.k8s.io/v1",
                "discovery.k8s.io/v1",
                "events.k8s.io/v1",
                "networking.k8s.io/v1",
                "policy/v1",
                "rbac.authorization.k8s.io/v1",
                "scheduling.k8s.io/v1",
                "storage.k8s.io/v1",
        };
        size_t gl = strlen(r->group);
        for (size_t i = 0; i < ARRAY_SIZE(gvs); i++)
                if (!strncmp(gvs[i], r->group, gl) && gvs[i][gl] == '/' &&
                    !strcmp(gvs[i] + gl + 1, r->version))
                        return gvs[i];
        return r->version; /* a group missing above: caught by test-scheme */
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
        size_t nc;
        const struct scheme_resource *c = scheme_custom_resources(&nc);
        for (size_t i = 0; i < nc; i++) {
                bool seen = false;
                for (size_t j = 0; j < n; j++)
                        if (!strcmp(groups[j], c[i].group) && !strcmp(versions[j], c[i].version))
                                seen = true;
                if (seen || n >= max)
                        continue;
                groups[n] = c[i].group;
                versions[n] = c[i].version;
                n++;
        }
        return n;
}

char *scheme_key(const struct scheme_resource *r, const char *ns, const char *name)
{
        if (r->custom && r->namespaced)
                return xasprintf("/registry/%s/%s/%s/%s", r->group, r->resource, ns ? ns : "",
                                 name);
        if (r->custom)
                return xasprintf("/registry/%s/%s/%s", r->group, r->resource, name);
        if (r->namespaced)
                return xasprintf("/registry/%s/%s/%s", r->resource, ns ? ns : "", name);
        return xasprintf("/registry/%s/%s", r->resource, name);
}

char *scheme_prefix(const struct scheme_resource *r, const char *ns)
{
        if (r->custom && r->namespaced && ns && *ns)
                return xasprintf("/registry/%s/%s/%s/", r->group, r->resource, ns);
        if (r->custom)
                return xasprintf("/registry/%s/%s/", r->group, r->resource);
        if (r->namespaced && ns && *ns)
                return xasprintf("/registry/%s/%s/", r->resource, ns);
        return xasprintf("/registry/%s/", r->resource);
}
