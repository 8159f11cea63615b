/* quota.c — ResourceQuota, as kube-apiserver's ResourceQuota admission plugin and
 * kube-controller-manager's resourcequota controller keep it: status.hard mirrors spec.hard and
 * status.used holds the namespace's usage of each hard resource (object counts: pods,
 * services, services.loadbalancers, services.nodeports, configmaps, secrets,
 * persistentvolumeclaims, replicationcontrollers, resourcequotas, count/<resource>[.<group>];
 * compute of the non-terminal pods: cpu, memory, requests.cpu, requests.memory, limits.cpu,
 * limits.memory; anything else counts 0). Usage comes from the watch cache; after every event of
 * a namespace that has quotas the quotas' status is rewritten when it changed (one pass per
 * namespace and loop turn). A create that would take a quota over its hard limit is Forbidden
 * with kube-apiserver's message. Scopes and scopeSelector are not evaluated (the quota applies
 * to everything). */
#include <stdio.h>

#include "api/pod.h"
#include "api/quantity.h"
#include "apiserver/apiserver-internal.h"
#include "apiserver/cacher.h"
#include "apiserver/quota.h"
#include "common/kjson.h"
#include "common/log.h"
#include "common/strv.h"

#define COMP "apiserver"

/* One per process (one API server runs at a time); a == NULL when stopped. Never freed: a
 * posted run_pending may still come after quota_stop. */
static struct quota_state {
        struct apiserver *a;
        struct cacher_watch *watches[64];
        size_t n_watches;
        char **pending; /* namespaces to recompute on the next loop turn */
        bool posted;
} Q;

static bool is(const char *a, const char *b)
{
        return a && b && !strcmp(a, b);
}

static int cmp_str(const void *x, const void *y)
{
        return strcmp(*(char *const *)x, *(char *const *)y);
}

static bool pod_terminal(const json_t *pod)
{
        const char *phase = kjson_str(pod, "status.phase");
        return is(phase, "Succeeded") || is(phase, "Failed");
}

/* The resource a count key names ("pods", "count/deployments.apps"), or NULL. */
static const struct scheme_resource *count_resource(const char *key)
{
        static const char *const core[] = {"pods",
                                           "services",
                                           "configmaps",
                                           "secrets",
                                           "persistentvolumeclaims",
                                           "replicationcontrollers",
                                           "resourcequotas"};
        for (size_t i = 0; i < ARRAY_SIZE(core); i++)
                if (is(key, core[i]))
                        return scheme_lookup("", "v1", core[i]);
        if (strncmp(key, "count/", 6))
                return NULL;
        char res[128];
        snprintf(res, sizeof(res), "%s", key + 6);
        char *dot = strchr(res, '.');
        const char *group = "";
        if (dot) {
                *dot = 0;
                group = dot + 1;
        }
        size_t n;
        const struct scheme_resource *rs = scheme_resources(&n);
        for (size_t i = 0; i < n; i++)
                if (is(rs[i].group, group) && is(rs[i].resource, res))
                        return &rs[i];
        return NULL;
}

/* Sum of one compute resource over a pod: the containers' sum, or the largest init container
 * if that is more (the effective request, as Kubernetes' quota evaluator computes it). */
static int64_t pod_milli(const json_t *pod, const char *which /* requests|limits */,
                         const char *name /* cpu|memory */)
{
        int64_t sum = 0, init_max = 0;
        for (int init = 0; init < 2; init++) {
                size_t i;
                json_t *c;
                json_array_foreach(kjson_get(pod, init ? "spec.initContainers" : "spec.containers"),
                                   i, c)
                {
                        const char *v = json_string_value(
                                json_object_get(kjson_get(kjson_get(c, "resources"), which), name));
                        struct quantity qv;
                        if (!v || quantity_parse(v, &qv, NULL) < 0)
                                continue;
                        int64_t m = quantity_milli(&qv);
                        if (init)
                                init_max = MAX(init_max, m);
                        else
                                sum += m;
                }
        }
        return MAX(sum, init_max);
}

/* Usage of key in ns (objects from the cache), plus obj (of resource r) if not NULL; into out as
 * Kubernetes formats it. */
static void usage_of(struct apiserver *a, const char *ns, const char *key,
                     const struct scheme_resource *r, const json_t *obj, char out[QUANTITY_STR_MAX])
{
        const char *which = NULL, *name = NULL;
        if (is(key, "cpu") || is(key, "requests.cpu"))
                which = "requests", name = "cpu";
        else if (is(key, "memory") || is(key, "requests.memory"))
                which = "requests", name = "memory";
        else if (is(key, "limits.cpu"))
                which = "limits", name = "cpu";
        else if (is(key, "limits.memory"))
                which = "limits", name = "memory";
        const struct scheme_resource *cr = count_resource(key);
        bool svc_lb = is(key, "services.loadbalancers"), svc_np = is(key, "services.nodeports");
        if (svc_lb || svc_np)
                cr = scheme_lookup("", "v1", "services");
        if (which)
                cr = scheme_lookup("", "v1", "pods");
        if (!cr) {
                snprintf(out, QUANTITY_STR_MAX, "0");
                return;
        }
        bool pods = is(cr->resource, "pods") && !*cr->group;
        bool parse = pods || svc_lb || svc_np;
        _cleanup_free_ char *prefix = scheme_prefix(cr, ns);
        size_t n;
        struct cacher_obj *const *objs = cacher_objects(a->cacher, cr, prefix, NULL, &n);
        int64_t total = 0;
        for (size_t i = 0; i <= n; i++) {
                _cleanup_(json_decrefp) json_t *o = NULL;
                const json_t *cur;
                if (i < n) {
                        if (!parse) {
                                total++;
                                continue;
                        }
                        o = cacher_obj_json(objs[i]);
                        cur = o;
                } else {
                        if (!obj || r != cr)
                                break;
                        cur = obj;
                }
                if (!cur || (pods && pod_terminal(cur)))
                        continue;
                const char *type = kjson_str(cur, "spec.type");
                if (which)
                        total += pod_milli(cur, which, name);
                else if (svc_lb)
                        total += is(type, "LoadBalancer");
                else if (svc_np)
                        total += is(type, "NodePort") || is(type, "LoadBalancer")
                                         ? (int64_t)json_array_size(kjson_get(cur, "spec.ports"))
                                         : 0;
                else
                        total++;
        }
        struct quantity qv =
                which ? quantity_from_milli(total, is(name, "memory") ? QUANTITY_BINARY_SI
                                                                      : QUANTITY_DECIMAL_SI)
                      : quantity_from_int(total, QUANTITY_DECIMAL_SI);
        quantity_format(&qv, out);
}

void quota_fill_status(struct apiserver *a, const char *ns, json_t *quota)
{
        json_t *hard = kjson_get(quota, "spec.hard");
        json_t *st = kjson_obj_ensure(quota, "status");
        json_object_set_new(st, "hard",
                            json_is_object(hard) ? json_deep_copy(hard) : json_object());
        json_t *used = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(hard, k, v)
        {
                char buf[QUANTITY_STR_MAX];
                usage_of(a, ns, k, NULL, NULL, buf);
                json_object_set_new(used, k, json_string(buf));
        }
        json_object_set_new(st, "used", used);
}

/* Rewrite the status of ns's quotas that changed. */
static void recompute(struct apiserver *a, const char *ns)
{
        const struct scheme_resource *qr = scheme_lookup("", "v1", "resourcequotas");
        _cleanup_free_ char *prefix = scheme_prefix(qr, ns);
        size_t n;
        struct cacher_obj *const *objs = cacher_objects(a->cacher, qr, prefix, NULL, &n);
        json_t *todo = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(todo, json_pack("{s:s,s:I}", "key", objs[i]->key, "rev",
                                                      (json_int_t)objs[i]->rev));
        /* (objs is invalid after a store write: keys and revisions copied first) */
        size_t i;
        json_t *t;
        json_array_foreach(todo, i, t)
        {
                const char *key = kjson_str(t, "key");
                struct store_kv kv = {0};
                if (store_get(a->store, key, &kv, NULL) < 0)
                        continue;
                _cleanup_(json_decrefp) json_t *obj =
                        apiserver_obj_decode(qr, kv.value, kv.value_len, kv.mod_rev);
                int64_t rev = kv.mod_rev;
                store_kv_clear(&kv);
                if (!obj || kjson_get(obj, "metadata.deletionTimestamp"))
                        continue;
                _cleanup_(json_decrefp) json_t *before = json_deep_copy(kjson_get(obj, "status"));
                quota_fill_status(a, ns, obj);
                if (json_equal(before, kjson_get(obj, "status")))
                        continue;
                json_object_del(kjson_get(obj, "metadata"), "resourceVersion");
                size_t len;
                _cleanup_free_ char *val = apiserver_obj_encode(obj, &len);
                struct error err = {0};
                if (store_update(a->store, key, val, len, rev, NULL, &err) < 0 &&
                    err.code != -ESTALE)
                        log_debug(COMP, "quota status %s: %s", key, error_msg(&err));
        }
        json_decref(todo);
}

static void run_pending(void *ud)
{
        struct quota_state *s = ud;
        s->posted = false;
        char **nss = s->pending;
        s->pending = NULL;
        for (char **p = nss; s->a && p && *p; p++)
                recompute(s->a, *p);
        strv_free(nss);
}

static void on_event(struct cacher_event *ev, void *userdata)
{
        struct quota_state *s = userdata;
        if (ev->type == CACHER_EVENT_EXPIRED || !ev->obj)
                return;
        const char *ns = json_string_value(kjson_get(ev->obj->sel, "metadata.namespace"));
        if (!s->a || !ns || strv_contains(s->pending, ns))
                return;
        const struct scheme_resource *qr = scheme_lookup("", "v1", "resourcequotas");
        _cleanup_free_ char *prefix = scheme_prefix(qr, ns);
        size_t n;
        cacher_objects(s->a->cacher, qr, prefix, NULL, &n);
        if (!n)
                return;
        s->pending = strv_push(s->pending, ns);
        if (!s->posted) {
                s->posted = true;
                http_server_post(s->a->http, run_pending, s);
        }
}

void quota_start(struct apiserver *a)
{
        if (Q.a || !a->cacher)
                return;
        Q.a = a;
        Q.n_watches = 0;
        size_t n;
        const struct scheme_resource *rs = scheme_resources(&n);
        for (size_t i = 0; i < n && Q.n_watches < ARRAY_SIZE(Q.watches); i++) {
                const struct scheme_resource *r = &rs[i];
                if (!r->namespaced || !scheme_has_verb(r, "list"))
                        continue;
                _cleanup_free_ char *prefix = scheme_prefix(r, NULL);
                if (cacher_watch_start(a->cacher, r, prefix, cacher_revision(a->cacher), on_event,
                                       &Q, &Q.watches[Q.n_watches], NULL) == 0)
                        Q.n_watches++;
        }
}

void quota_stop(struct apiserver *a)
{
        if (Q.a != a)
                return;
        for (size_t i = 0; i < Q.n_watches; i++)
                cacher_watch_stop(Q.watches[i]);
        Q.n_watches = 0;
        strv_free(Q.pending);
        Q.pending = NULL;
        Q.a = NULL;
}

/* "k=v" appended to *s, comma-separated. */
static void append(char **s, const char *k, const char *v)
{
        char *n = *s ? xasprintf("%s,%s=%s", *s, k, v) : xasprintf("%s=%s", k, v);
        free(*s);
        *s = n;
}

/* Pods must name every compute resource a quota tracks ("failed quota: ...: must specify"),
 * as the pod evaluator's Constraints: the missing hard keys, each with its containers. NULL if
 * none is missing. */
static char *missing_compute(const json_t *hard, const json_t *pod)
{
        static const char *const keys[] = {"cpu",    "limits.cpu",   "limits.memory",
                                           "memory", "requests.cpu", "requests.memory"};
        char *msg = NULL;
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) { /* sorted: the message lists them so */
                if (!json_object_get(hard, keys[k]))
                        continue;
                const char *which = !strncmp(keys[k], "limits.", 7) ? "limits" : "requests";
                const char *name = strchr(keys[k], '.') ? strchr(keys[k], '.') + 1 : keys[k];
                _cleanup_(strv_freep) char **names = NULL;
                for (int init = 0; init < 2; init++) {
                        size_t i;
                        json_t *c;
                        json_array_foreach(
                                kjson_get(pod, init ? "spec.initContainers" : "spec.containers"), i,
                                c)
                        {
                                if (!json_object_get(kjson_get(kjson_get(c, "resources"), which),
                                                     name))
                                        names = strv_push(names, kjson_str(c, "name") ?: "");
                        }
                }
                if (!names)
                        continue;
                qsort(names, strv_len(names), sizeof(*names), cmp_str);
                _cleanup_free_ char *list = strv_join(names, ",");
                char *m = msg ? xasprintf("%s; %s for: %s", msg, keys[k], list)
                              : xasprintf("%s for: %s", keys[k], list);
                free(msg);
                msg = m;
        }
        return msg;
}

/* Add the LimitRange defaults (dflt: resource -> quantity) missing in one container's list
 * (limits or requests); the names set go to *set. */
static void merge_defaults(json_t *c, const char *list, const json_t *dflt, char ***set)
{
        json_t *res = kjson_obj_ensure(c, "resources");
        json_t *have = json_object_get(res, list);
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)dflt, k, v)
        {
                if (json_object_get(have, k))
                        continue;
                if (!json_is_object(have)) {
                        have = json_object();
                        json_object_set_new(res, list, have);
                }
                json_object_set(have, k, v);
                *set = strv_push(*set, k);
        }
}

void limitrange_admit(struct rq *q, json_t *pod)
{
        struct apiserver *a = q->a;
        if (!q->ns || !cacher_ready(a->cacher))
                return;
        const struct scheme_resource *lr = scheme_lookup("", "v1", "limitranges");
        _cleanup_free_ char *prefix = scheme_prefix(lr, q->ns);
        size_t n;
        struct cacher_obj *const *objs = cacher_objects(a->cacher, lr, prefix, NULL, &n);
        if (!n)
                return;
        /* defaultContainerResourceRequirements: every LimitRange's Container items merged */
        _cleanup_(json_decrefp) json_t *limits = json_object(), *requests = json_object();
        for (size_t i = 0; i < n; i++) {
                _cleanup_(json_decrefp) json_t *o = cacher_obj_json(objs[i]);
                size_t j;
                json_t *item;
                json_array_foreach(kjson_get(o, "spec.limits"), j, item)
                {
                        if (!is(kjson_str(item, "type"), "Container"))
                                continue;
                        json_object_update(limits, kjson_get(item, "default"));
                        json_object_update(requests, kjson_get(item, "defaultRequest"));
                }
        }
        if (!json_object_size(limits) && !json_object_size(requests))
                return;
        _cleanup_free_ char *note = NULL;
        for (int init = 0; init < 2; init++) {
                size_t i;
                json_t *c;
                json_array_foreach(kjson_get(pod, init ? "spec.initContainers" : "spec.containers"),
                                   i, c)
                {
                        const char *what = init ? "init container" : "container";
                        const char *name = kjson_str(c, "name") ?: "";
                        _cleanup_(strv_freep) char **set_l = NULL, **set_r = NULL;
                        merge_defaults(c, "limits", limits, &set_l);
                        merge_defaults(c, "requests", requests, &set_r);
                        for (int l = 0; l < 2; l++) {
                                char **set = l ? set_l : set_r;
                                if (!set)
                                        continue;
                                qsort(set, strv_len(set), sizeof(*set), cmp_str);
                                _cleanup_free_ char *names = strv_join(set, ", ");
                                char *m = xasprintf("%s%s%s %s for %s %s", note ? note : "",
                                                    note ? "; " : "", names,
                                                    l ? "limit" : "request", what, name);
                                free(note);
                                note = m;
                        }
                }
        }
        if (!note)
                return;
        json_t *ann = kjson_obj_ensure(kjson_obj_ensure(pod, "metadata"), "annotations");
        json_object_set_new(ann, "kubernetes.io/limit-ranger",
                            json_sprintf("LimitRanger plugin set: %s", note));
        json_object_set_new(kjson_obj_ensure(pod, "status"), "qosClass",
                            json_string(pod_qos_class(pod)));
}

int quota_admit(struct rq *q, const struct scheme_resource *r, const json_t *obj, bool generated)
{
        struct apiserver *a = q->a;
        /* admission.NewForbidden names a generated object by its generateName (the name is made
         * after admission in Kubernetes) */
        const char *oname = kjson_str(obj, generated ? "metadata.generateName" : "metadata.name");
        if (!r->namespaced || !q->ns || !cacher_ready(a->cacher))
                return 0;
        const struct scheme_resource *qr = scheme_lookup("", "v1", "resourcequotas");
        _cleanup_free_ char *prefix = scheme_prefix(qr, q->ns);
        size_t n;
        struct cacher_obj *const *objs = cacher_objects(a->cacher, qr, prefix, NULL, &n);
        for (size_t i = 0; i < n; i++) {
                _cleanup_(json_decrefp) json_t *quota = cacher_obj_json(objs[i]);
                json_t *hard = kjson_get(quota, "spec.hard");
                if (is(r->resource, "pods") && !*r->group) {
                        _cleanup_free_ char *miss = missing_compute(hard, obj);
                        if (miss) {
                                rq_fail(q, -EACCES, NULL,
                                        "pods \"%s\" is forbidden: failed quota: %s: must specify "
                                        "%s",
                                        oname ?: "", kjson_str(quota, "metadata.name") ?: "", miss);
                                return -EACCES;
                        }
                }
                _cleanup_free_ char *requested = NULL, *used = NULL, *limited = NULL;
                const char *k;
                json_t *v;
                json_object_foreach(hard, k, v)
                {
                        char before[QUANTITY_STR_MAX], after[QUANTITY_STR_MAX];
                        usage_of(a, q->ns, k, NULL, NULL, before);
                        usage_of(a, q->ns, k, r, obj, after);
                        struct quantity qb, qa, qh;
                        if (!strcmp(before, after) || quantity_parse(before, &qb, NULL) < 0 ||
                            quantity_parse(after, &qa, NULL) < 0 || !json_string_value(v) ||
                            quantity_parse(json_string_value(v), &qh, NULL) < 0 ||
                            quantity_cmp(&qa, &qh) <= 0)
                                continue;
                        struct quantity req = qa;
                        quantity_sub(&req, &qb);
                        char rb[QUANTITY_STR_MAX];
                        quantity_format(&req, rb);
                        append(&requested, k, rb);
                        append(&used, k, before);
                        append(&limited, k, json_string_value(v));
                }
                if (requested) {
                        _cleanup_free_ char *qres = scheme_qualified_resource(r);
                        rq_fail(q, -EACCES, NULL,
                                "%s \"%s\" is forbidden: exceeded quota: %s, requested: %s, "
                                "used: %s, limited: %s",
                                qres, oname ?: "", kjson_str(quota, "metadata.name") ?: "",
                                requested, used, limited);
                        return -EACCES;
                }
        }
        return 0;
}
