/* framework.c — filters, scores, preemption and the fit message (see framework.h). */
#include "scheduler/framework.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>

#include "api/labels.h"
#include "api/pod.h"
#include "api/quantity.h"
#include "common/base.h"
#include "common/kjson.h"

#define W_LEAST 1
#define W_BALANCED 1
#define W_IMAGE 1
#define W_INTERPOD 2
#define W_NODEAFF 2
#define W_SPREAD 2
#define W_TAINT 3

#define IMG_MIN_THRESHOLD (23LL * 1024 * 1024)
#define IMG_MAX_THRESHOLD (1000LL * 1024 * 1024)

#define R_UNSCHEDULABLE "node(s) were unschedulable"
#define R_NODENAME "node(s) didn't match the requested node name"
#define R_NODEAFF "node(s) didn't match Pod's node affinity/selector"
#define R_PORTS "node(s) didn't have free ports for the requested pod ports"
#define R_VOLAFF "node(s) had volume node affinity conflict"
#define R_SPREAD "node(s) didn't match pod topology spread constraints"
#define R_SPREAD_LABEL                                                                             \
        "node(s) didn't match pod topology spread constraints (missing required label)"
#define R_AFF "node(s) didn't match pod affinity rules"
#define R_ANTI "node(s) didn't match pod anti-affinity rules"
#define R_EXISTING_ANTI "node(s) didn't satisfy existing pods anti-affinity rules"
#define R_PRE_NOT_HELPFUL "Preemption is not helpful for scheduling"
#define R_PRE_NO_VICTIMS "No preemption victims found for incoming pod"

static const char *label(json_t *labels, const char *k)
{
        return json_string_value(json_object_get(labels, k));
}

/* ---- pod info ---- */

static int64_t qty(json_t *res, const char *name, bool milli)
{
        const char *s = json_string_value(json_object_get(res, name));
        struct quantity q;
        if (!s) {
                json_t *v = json_object_get(res, name);
                if (json_is_integer(v))
                        return milli ? json_integer_value(v) * 1000 : json_integer_value(v);
                return 0;
        }
        if (quantity_parse(s, &q, NULL) < 0)
                return 0;
        return milli ? quantity_milli(&q) : quantity_value(&q);
}

static void container_req(json_t *c, struct sched_res *r, struct sched_res *nz)
{
        json_t *req = kjson_get(c, "resources.requests");
        json_t *lim = kjson_get(c, "resources.limits");
        /* requests default to limits (API defaulting); read limits when a request is absent */
        r->cpu_m = json_object_get(req, "cpu") ? qty(req, "cpu", true) : qty(lim, "cpu", true);
        r->mem = json_object_get(req, "memory") ? qty(req, "memory", false)
                                                : qty(lim, "memory", false);
        r->eph = json_object_get(req, "ephemeral-storage") ? qty(req, "ephemeral-storage", false)
                                                           : qty(lim, "ephemeral-storage", false);
        r->pods = 0;
        *nz = *r;
        if (!json_object_get(req, "cpu") && !json_object_get(lim, "cpu"))
                nz->cpu_m = SCHED_DEFAULT_MILLI_CPU;
        if (!json_object_get(req, "memory") && !json_object_get(lim, "memory"))
                nz->mem = SCHED_DEFAULT_MEMORY;
}

static void res_add(struct sched_res *a, const struct sched_res *b)
{
        a->cpu_m += b->cpu_m;
        a->mem += b->mem;
        a->eph += b->eph;
        a->pods += b->pods;
}

static void res_sub(struct sched_res *a, const struct sched_res *b)
{
        a->cpu_m -= b->cpu_m;
        a->mem -= b->mem;
        a->eph -= b->eph;
        a->pods -= b->pods;
}

static void res_max(struct sched_res *a, const struct sched_res *b)
{
        a->cpu_m = MAX(a->cpu_m, b->cpu_m);
        a->mem = MAX(a->mem, b->mem);
        a->eph = MAX(a->eph, b->eph);
}

/* Kubernetes' PodRequests: max(sum(containers) + sum(sidecars), every init container's request
 * plus the sidecars started before it) + overhead. */
static void pod_requests(json_t *spec, struct sched_res *ret, struct sched_res *ret_nz)
{
        struct sched_res sum = {0}, sum_nz = {0}, side = {0}, side_nz = {0}, init = {0},
                         init_nz = {0}, r, nz;
        json_t *c;
        size_t i;
        json_array_foreach(json_object_get(spec, "containers"), i, c)
        {
                container_req(c, &r, &nz);
                res_add(&sum, &r);
                res_add(&sum_nz, &nz);
        }
        json_array_foreach(json_object_get(spec, "initContainers"), i, c)
        {
                container_req(c, &r, &nz);
                const char *rp = json_string_value(json_object_get(c, "restartPolicy"));
                if (rp && !strcmp(rp, "Always")) {
                        res_add(&side, &r);
                        res_add(&side_nz, &nz);
                        res_max(&init, &side);
                        res_max(&init_nz, &side_nz);
                } else {
                        res_add(&r, &side);
                        res_add(&nz, &side_nz);
                        res_max(&init, &r);
                        res_max(&init_nz, &nz);
                }
        }
        res_add(&sum, &side);
        res_add(&sum_nz, &side_nz);
        res_max(&sum, &init);
        res_max(&sum_nz, &init_nz);
        json_t *ov = json_object_get(spec, "overhead");
        if (ov) {
                struct sched_res o = {qty(ov, "cpu", true), qty(ov, "memory", false),
                                      qty(ov, "ephemeral-storage", false), 0};
                res_add(&sum, &o);
                res_add(&sum_nz, &o);
        }
        sum.pods = sum_nz.pods = 1;
        *ret = sum;
        *ret_nz = sum_nz;
}

static char *image_normalize(const char *img);

struct sched_pod *sched_pod_new(json_t *obj)
{
        struct sched_pod *p = xcalloc(1, sizeof(*p));
        json_t *spec = json_object_get(obj, "spec");
        p->obj = json_incref(obj);
        p->ns = xstrdup(kjson_str(obj, "metadata.namespace") ?: "");
        p->name = xstrdup(kjson_str(obj, "metadata.name") ?: "");
        p->uid = xstrdup(kjson_str(obj, "metadata.uid") ?: "");
        p->key = xasprintf("%s/%s", p->ns, p->name);
        const char *node = kjson_str(obj, "spec.nodeName");
        if (node && *node)
                p->node = xstrdup(node);
        pod_requests(spec, &p->req, &p->nonzero);
        p->priority = (int32_t)kjson_int(obj, "spec.priority", 0);
        const char *pp = kjson_str(obj, "spec.preemptionPolicy");
        p->preempt_never = pp && !strcmp(pp, "Never");
        json_t *c, *port;
        size_t i, j;
        json_array_foreach(json_object_get(spec, "containers"), i, c)
        {
                json_array_foreach(json_object_get(c, "ports"), j, port)
                {
                        int hp = (int)kjson_int(port, "hostPort", 0);
                        if (hp <= 0)
                                continue;
                        p->ports = xrealloc(p->ports, (p->n_ports + 1) * sizeof(*p->ports));
                        struct sched_port *sp = &p->ports[p->n_ports++];
                        snprintf(sp->proto, sizeof(sp->proto), "%s",
                                 kjson_str(port, "protocol") ?: "TCP");
                        const char *ip = kjson_str(port, "hostIP");
                        snprintf(sp->ip, sizeof(sp->ip), "%s",
                                 ip && strcmp(ip, "0.0.0.0") ? ip : "");
                        sp->port = hp;
                }
        }
        json_t *ref;
        json_array_foreach(kjson_get(obj, "metadata.ownerReferences"), i, ref)
        {
                if (json_is_true(json_object_get(ref, "controller"))) {
                        p->owner_uid = xstrdup(kjson_str(ref, "uid") ?: "");
                        p->owner_id = sched_owner_id(p->owner_uid);
                        break;
                }
        }
        p->has_affinity = kjson_get(obj, "spec.affinity.podAffinity") ||
                          kjson_get(obj, "spec.affinity.podAntiAffinity");
        p->node_selector = json_object_get(spec, "nodeSelector");
        p->required_na = kjson_get(
                obj, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
        if (json_is_null(p->required_na))
                p->required_na = NULL;
        p->preferred_na = kjson_get(
                obj, "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution");
        p->tolerations = json_object_get(spec, "tolerations");
        p->node_name = kjson_str(obj, "spec.nodeName");
        p->images = json_array();
        json_array_foreach(json_object_get(spec, "containers"), i, c)
        {
                const char *img = kjson_str(c, "image") ?: "";
                _cleanup_free_ char *norm = image_normalize(img);
                json_array_append_new(p->images, json_pack("[s, s]", img, norm));
        }
        return p;
}

void sched_pod_free(struct sched_pod *p)
{
        if (!p)
                return;
        json_decref(p->obj);
        json_decref(p->pv_affinity);
        json_decref(p->images);
        free(p->key);
        free(p->ns);
        free(p->name);
        free(p->uid);
        free(p->node);
        free(p->ports);
        free(p->owner_uid);
        free(p);
}

static bool pod_terminating(const struct sched_pod *p)
{
        return kjson_get(p->obj, "metadata.deletionTimestamp") != NULL;
}

/* ---- owners ---- */

static pthread_mutex_t owner_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *owner_ids; /* uid -> id; protected by owner_lock */

uint32_t sched_owner_id(const char *uid)
{
        if (!uid || !*uid)
                return 0;
        pthread_mutex_lock(&owner_lock);
        if (!owner_ids)
                owner_ids = json_object();
        json_t *v = json_object_get(owner_ids, uid);
        uint32_t id = (uint32_t)json_integer_value(v);
        if (!v) {
                id = (uint32_t)json_object_size(owner_ids) + 1;
                json_object_set_new(owner_ids, uid, json_integer(id));
        }
        pthread_mutex_unlock(&owner_lock);
        return id;
}

uint32_t sched_node_owner_count(const struct sched_node *n, uint32_t id)
{
        for (size_t i = 0; id && i < n->n_owners; i++)
                if (n->owners[i].id == id)
                        return n->owners[i].count;
        return 0;
}

/* ---- node info ---- */

static void node_parse(struct sched_node *n, json_t *obj)
{
        json_t *alloc = kjson_get(obj, "status.allocatable") ?: kjson_get(obj, "status.capacity");
        n->labels = kjson_get(obj, "metadata.labels");
        n->hostname = label(n->labels, "kubernetes.io/hostname");
        n->zone = label(n->labels, "topology.kubernetes.io/zone");
        n->taints = kjson_get(obj, "spec.taints");
        n->unschedulable = kjson_bool(obj, "spec.unschedulable", false);
        n->ready = false;
        json_t *c;
        size_t i, j;
        json_array_foreach(kjson_get(obj, "status.conditions"), i, c)
        {
                const char *type = kjson_str(c, "type");
                if (type && !strcmp(type, "Ready"))
                        n->ready = !strcmp(kjson_str(c, "status") ?: "", "True");
        }
        n->alloc = (struct sched_res){qty(alloc, "cpu", true), qty(alloc, "memory", false),
                                      qty(alloc, "ephemeral-storage", false),
                                      qty(alloc, "pods", false)};
        json_decref(n->images);
        n->images = json_object();
        json_t *img, *name;
        json_array_foreach(kjson_get(obj, "status.images"), i, img)
        {
                json_int_t size = kjson_int(img, "sizeBytes", 0);
                json_array_foreach(json_object_get(img, "names"), j, name)
                {
                        if (json_is_string(name))
                                json_object_set_new(n->images, json_string_value(name),
                                                    json_integer(size));
                }
        }
}

struct sched_node *sched_node_new(json_t *obj)
{
        struct sched_node *n = xcalloc(1, sizeof(*n));
        n->name = xstrdup(kjson_str(obj, "metadata.name") ?: "");
        n->obj = json_incref(obj);
        node_parse(n, obj);
        return n;
}

void sched_node_set_obj(struct sched_node *n, json_t *obj)
{
        json_incref(obj);
        json_decref(n->obj);
        n->obj = obj;
        node_parse(n, obj);
}

void sched_node_free(struct sched_node *n)
{
        if (!n)
                return;
        for (size_t i = 0; i < n->n_pods; i++)
                n->pods[i]->on = NULL;
        json_decref(n->obj);
        free(n->owners);
        json_decref(n->images);
        free(n->pods);
        free(n->name);
        free(n);
}

void sched_node_add_pod(struct sched_node *n, struct sched_pod *p)
{
        if (n->n_pods == n->cap_pods) {
                n->cap_pods = n->cap_pods ? n->cap_pods * 2 : 8;
                n->pods = xrealloc(n->pods, n->cap_pods * sizeof(*n->pods));
        }
        n->pods[n->n_pods++] = p;
        p->on = n;
        res_add(&n->requested, &p->req);
        res_add(&n->nonzero, &p->nonzero);
        if (p->has_affinity)
                n->n_affinity++;
        if (p->owner_id) {
                size_t i = 0;
                while (i < n->n_owners && n->owners[i].id != p->owner_id)
                        i++;
                if (i == n->n_owners) {
                        if (n->n_owners == n->cap_owners) {
                                n->cap_owners = n->cap_owners ? n->cap_owners * 2 : 4;
                                n->owners = xrealloc(n->owners, n->cap_owners * sizeof(*n->owners));
                        }
                        n->owners[n->n_owners++] = (struct sched_owner_count){p->owner_id, 0};
                }
                n->owners[i].count++;
        }
}

void sched_node_remove_pod(struct sched_node *n, struct sched_pod *p)
{
        for (size_t i = 0; i < n->n_pods; i++) {
                if (n->pods[i] != p)
                        continue;
                n->pods[i] = n->pods[--n->n_pods];
                p->on = NULL;
                res_sub(&n->requested, &p->req);
                res_sub(&n->nonzero, &p->nonzero);
                if (p->has_affinity)
                        n->n_affinity--;
                for (size_t k = 0; p->owner_id && k < n->n_owners; k++) {
                        if (n->owners[k].id != p->owner_id)
                                continue;
                        if (--n->owners[k].count == 0)
                                n->owners[k] = n->owners[--n->n_owners];
                        break;
                }
                return;
        }
}

/* ---- cluster ---- */

void sched_cluster_init(struct sched_cluster *c)
{
        *c = (struct sched_cluster){0};
        c->by_name = json_object();
        c->image_nodes = json_object();
        c->ns_labels = json_object();
}

void sched_cluster_free(struct sched_cluster *c)
{
        for (size_t i = 0; i < c->n_nodes; i++)
                sched_node_free(c->nodes[i]);
        free(c->nodes);
        json_decref(c->by_name);
        json_decref(c->image_nodes);
        json_decref(c->ns_labels);
        *c = (struct sched_cluster){0};
}

struct sched_node *sched_cluster_node(struct sched_cluster *c, const char *name)
{
        json_t *v = json_object_get(c->by_name, name);
        return v ? c->nodes[json_integer_value(v)] : NULL;
}

static void images_count(struct sched_cluster *c, struct sched_node *n, int delta)
{
        const char *k;
        json_t *v;
        json_object_foreach(n->images, k, v)
        {
                json_int_t cur = json_integer_value(json_object_get(c->image_nodes, k)) + delta;
                if (cur <= 0)
                        json_object_del(c->image_nodes, k);
                else
                        json_object_set_new(c->image_nodes, k, json_integer(cur));
        }
}

struct sched_node *sched_cluster_set_node(struct sched_cluster *c, json_t *obj)
{
        const char *name = kjson_str(obj, "metadata.name") ?: "";
        struct sched_node *n = sched_cluster_node(c, name);
        if (n) {
                images_count(c, n, -1);
                sched_node_set_obj(n, obj);
                images_count(c, n, 1);
                return n;
        }
        n = sched_node_new(obj);
        if (c->n_nodes == c->cap_nodes) {
                c->cap_nodes = c->cap_nodes ? c->cap_nodes * 2 : 16;
                c->nodes = xrealloc(c->nodes, c->cap_nodes * sizeof(*c->nodes));
        }
        json_object_set_new(c->by_name, n->name, json_integer((json_int_t)c->n_nodes));
        c->nodes[c->n_nodes++] = n;
        images_count(c, n, 1);
        return n;
}

void sched_cluster_remove_node(struct sched_cluster *c, const char *name)
{
        json_t *v = json_object_get(c->by_name, name);
        if (!v)
                return;
        size_t i = (size_t)json_integer_value(v);
        struct sched_node *n = c->nodes[i];
        images_count(c, n, -1);
        json_object_del(c->by_name, name);
        c->nodes[i] = c->nodes[--c->n_nodes];
        if (i < c->n_nodes)
                json_object_set_new(c->by_name, c->nodes[i]->name, json_integer((json_int_t)i));
        sched_node_free(n);
}

/* ---- predicates ---- */

bool sched_tolerates(json_t *tolerations, const char *key, const char *value, const char *effect)
{
        json_t *t;
        size_t i;
        json_array_foreach(tolerations, i,
                           t) if (pod_toleration_tolerates(t, key, value, effect)) return true;
        return false;
}

static bool value_in(json_t *values, const char *v)
{
        json_t *x;
        size_t i;
        json_array_foreach(values, i, x)
        {
                if (v && json_is_string(x) && !strcmp(json_string_value(x), v))
                        return true;
        }
        return false;
}

static bool parse_i64(const char *s, long long *ret)
{
        char *end;
        if (!s || !*s)
                return false;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end)
                return false;
        *ret = v;
        return true;
}

/* One NodeSelectorRequirement against a value (NULL = key absent). */
static bool requirement_matches(json_t *req, const char *v)
{
        const char *op = kjson_str(req, "operator") ?: "";
        json_t *values = json_object_get(req, "values");
        if (!strcmp(op, "In"))
                return v && value_in(values, v);
        if (!strcmp(op, "NotIn"))
                return !v || !value_in(values, v);
        if (!strcmp(op, "Exists"))
                return v != NULL;
        if (!strcmp(op, "DoesNotExist"))
                return v == NULL;
        if (!strcmp(op, "Gt") || !strcmp(op, "Lt")) {
                long long a, b;
                if (!parse_i64(v, &a) || json_array_size(values) != 1 ||
                    !parse_i64(json_string_value(json_array_get(values, 0)), &b))
                        return false;
                return !strcmp(op, "Gt") ? a > b : a < b;
        }
        return false;
}

bool sched_node_selector_term_matches(json_t *term, json_t *node)
{
        json_t *exprs = json_object_get(term, "matchExpressions");
        json_t *fields = json_object_get(term, "matchFields");
        json_t *labels = kjson_get(node, "metadata.labels");
        json_t *r;
        size_t i;
        if (!json_array_size(exprs) && !json_array_size(fields))
                return false; /* an empty term matches no objects */
        json_array_foreach(exprs, i, r)
        {
                if (!requirement_matches(r, label(labels, kjson_str(r, "key") ?: "")))
                        return false;
        }
        json_array_foreach(fields, i, r)
        {
                const char *key = kjson_str(r, "key") ?: "";
                const char *v =
                        !strcmp(key, "metadata.name") ? kjson_str(node, "metadata.name") : NULL;
                if (!requirement_matches(r, v))
                        return false;
        }
        return true;
}

/* A NodeSelector {nodeSelectorTerms: [...]} — terms are ORed. */
static bool node_selector_matches(json_t *sel, json_t *node)
{
        json_t *t;
        size_t i;
        json_array_foreach(json_object_get(sel, "nodeSelectorTerms"), i, t)
        {
                if (sched_node_selector_term_matches(t, node))
                        return true;
        }
        return false;
}

static bool node_affinity_matches(const struct sched_pod *p, const struct sched_node *n)
{
        const char *k;
        json_t *v;
        json_object_foreach(p->node_selector, k, v)
        {
                const char *lv = label(n->labels, k);
                if (!lv || !json_is_string(v) || strcmp(lv, json_string_value(v)))
                        return false;
        }
        if (p->required_na && !node_selector_matches(p->required_na, n->obj))
                return false;
        return true;
}

/* A node label; the two well-known topology keys come from the node info. */
static const char *node_label(const struct sched_node *n, const char *key)
{
        if (!strcmp(key, "kubernetes.io/hostname"))
                return n->hostname;
        if (!strcmp(key, "topology.kubernetes.io/zone"))
                return n->zone;
        return label(n->labels, key);
}

/* ---- per-cycle state ---- */

struct term {
        struct labels_selector *sel;
        json_t *namespaces;             /* array of names */
        struct labels_selector *ns_sel; /* namespaceSelector, or NULL */
        const json_t *ns_labels;        /* the cluster's namespace -> labels */
        const char *ns;                 /* the owning pod's namespace (for the default) */
        const char *key;                /* topologyKey */
        int64_t weight;
};

struct spread {
        const char *key;
        int64_t max_skew;
        int64_t min_domains;
        bool hard;
        struct labels_selector *sel;
        json_t *counts; /* value -> count (hard ones, and soft ones with a selector) */
        int64_t min;
        bool by_owner; /* default constraint: count the pod's owner */
        bool per_node; /* by_owner on the hostname key: the node's own count, no map */
        size_t n_domains;
        double weight;
};

struct sched_cycle {
        struct sched_cluster *c;
        struct sched_pod *pod;
        json_t *tolerations;
        /* InterPodAffinity */
        struct term *aff, *anti;
        size_t n_aff, n_anti;
        json_t *aff_counts;    /* "key\x01value" -> count (pods matching every term) */
        json_t *anti_counts;   /* per term i: "i\x01value" -> count */
        json_t *existing_anti; /* "key\x01value" -> count */
        bool pod_matches_own_aff;
        /* PodTopologySpread */
        struct spread *spreads;
        size_t n_spreads;
        bool spreads_system;
};

static bool term_parse(json_t *j, const char *ns, int64_t weight, const json_t *ns_labels,
                       struct term *t)
{
        *t = (struct term){.ns = ns, .weight = weight, .ns_labels = ns_labels};
        if (labels_selector_from_json(json_object_get(j, "labelSelector"), &t->sel, NULL) < 0)
                return false;
        t->key = kjson_str(j, "topologyKey") ?: "";
        json_t *nss = json_object_get(j, "namespaces");
        json_t *nssel = json_object_get(j, "namespaceSelector");
        if (nssel && !json_is_null(nssel)) {
                /* the union of namespaces and the namespaces nssel selects ({} = all) */
                if (labels_selector_from_json(nssel, &t->ns_sel, NULL) < 0) {
                        labels_selector_free(t->sel);
                        return false;
                }
                t->namespaces = json_is_array(nss) ? json_incref(nss) : json_array();
        } else if (json_array_size(nss))
                t->namespaces = json_incref(nss);
        else
                t->namespaces = json_pack("[s]", ns);
        return true;
}

static void term_clear(struct term *t)
{
        labels_selector_free(t->sel);
        labels_selector_free(t->ns_sel);
        json_decref(t->namespaces);
}

static bool term_matches(const struct term *t, const struct sched_pod *p)
{
        bool ns_ok = value_in(t->namespaces, p->ns);
        if (!ns_ok && t->ns_sel)
                ns_ok = labels_selector_matches(t->ns_sel, json_object_get(t->ns_labels, p->ns));
        if (!ns_ok)
                return false;
        return labels_selector_matches(t->sel, kjson_get(p->obj, "metadata.labels"));
}

/* Parse the required (weight 0) or preferred terms at path of pod into *ret. */
static size_t terms_parse(json_t *pod, const char *path, bool preferred, const json_t *ns_labels,
                          struct term **ret)
{
        json_t *arr = kjson_get(pod, path);
        const char *ns = kjson_str(pod, "metadata.namespace") ?: "";
        size_t n = 0;
        json_t *j;
        size_t i;
        *ret = NULL;
        if (!json_array_size(arr))
                return 0;
        *ret = xcalloc(json_array_size(arr), sizeof(**ret));
        json_array_foreach(arr, i, j)
        {
                json_t *tj = preferred ? json_object_get(j, "podAffinityTerm") : j;
                int64_t w = preferred ? kjson_int(j, "weight", 0) : 1;
                if (term_parse(tj, ns, w, ns_labels, &(*ret)[n]))
                        n++;
        }
        return n;
}

static void terms_free(struct term *t, size_t n)
{
        for (size_t i = 0; i < n; i++)
                term_clear(&t[i]);
        free(t);
}

static char *pair(const char *k, const char *v)
{
        return xasprintf("%s\x01%s", k, v);
}

static void count_add(json_t *m, const char *key, int64_t d)
{
        json_t *v = json_object_get(m, key);
        json_object_set_new(m, key, json_integer(json_integer_value(v) + d));
}

#define AFF_REQ "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution"
#define ANTI_REQ "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"
#define AFF_PREF "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution"
#define ANTI_PREF "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"

static void interpod_prefilter(struct sched_cycle *cy)
{
        struct sched_cluster *c = cy->c;
        struct sched_pod *pod = cy->pod;
        cy->n_aff = terms_parse(pod->obj, AFF_REQ, false, c->ns_labels, &cy->aff);
        cy->n_anti = terms_parse(pod->obj, ANTI_REQ, false, c->ns_labels, &cy->anti);
        cy->aff_counts = json_object();
        cy->anti_counts = json_object();
        cy->existing_anti = json_object();
        cy->pod_matches_own_aff = true;
        for (size_t i = 0; i < cy->n_aff; i++)
                if (!term_matches(&cy->aff[i], pod))
                        cy->pod_matches_own_aff = false;
        bool scan_all = cy->n_aff || cy->n_anti;
        for (size_t ni = 0; ni < c->n_nodes; ni++) {
                struct sched_node *n = c->nodes[ni];
                if (!scan_all && !n->n_affinity)
                        continue; /* nothing here can matter: skip its pods */
                for (size_t pi = 0; pi < n->n_pods; pi++) {
                        struct sched_pod *e = n->pods[pi];
                        if (e == pod)
                                continue;
                        if (e->has_affinity) {
                                struct term *t;
                                size_t nt = terms_parse(e->obj, ANTI_REQ, false, c->ns_labels, &t);
                                for (size_t k = 0; k < nt; k++) {
                                        const char *v = label(n->labels, t[k].key);
                                        if (v && term_matches(&t[k], pod)) {
                                                _cleanup_free_ char *pk = pair(t[k].key, v);
                                                count_add(cy->existing_anti, pk, 1);
                                        }
                                }
                                terms_free(t, nt);
                        }
                        if (!scan_all)
                                continue;
                        bool all = cy->n_aff > 0;
                        for (size_t k = 0; k < cy->n_aff && all; k++)
                                all = term_matches(&cy->aff[k], e);
                        if (all) {
                                for (size_t k = 0; k < cy->n_aff; k++) {
                                        const char *v = label(n->labels, cy->aff[k].key);
                                        if (!v)
                                                continue;
                                        _cleanup_free_ char *pk = pair(cy->aff[k].key, v);
                                        count_add(cy->aff_counts, pk, 1);
                                }
                        }
                        for (size_t k = 0; k < cy->n_anti; k++) {
                                const char *v = label(n->labels, cy->anti[k].key);
                                if (!v || !term_matches(&cy->anti[k], e))
                                        continue;
                                char idx[24];
                                snprintf(idx, sizeof(idx), "%zu", k);
                                _cleanup_free_ char *pk = pair(idx, v);
                                count_add(cy->anti_counts, pk, 1);
                        }
                }
        }
}

/* 0 ok, else the reason (and *unresolvable). */
static const char *interpod_filter(struct sched_cycle *cy, struct sched_node *n, bool *unresolvable)
{
        const char *k;
        json_t *v;
        *unresolvable = false;
        if (cy->n_aff) {
                bool exist = true;
                for (size_t i = 0; i < cy->n_aff; i++) {
                        const char *lv = label(n->labels, cy->aff[i].key);
                        if (!lv) {
                                *unresolvable = true;
                                return R_AFF;
                        }
                        _cleanup_free_ char *pk = pair(cy->aff[i].key, lv);
                        if (json_integer_value(json_object_get(cy->aff_counts, pk)) <= 0)
                                exist = false;
                }
                if (!exist && !(json_object_size(cy->aff_counts) == 0 && cy->pod_matches_own_aff)) {
                        *unresolvable = true;
                        return R_AFF;
                }
        }
        for (size_t i = 0; i < cy->n_anti; i++) {
                const char *lv = label(n->labels, cy->anti[i].key);
                if (!lv)
                        continue;
                char idx[24];
                snprintf(idx, sizeof(idx), "%zu", i);
                _cleanup_free_ char *pk = pair(idx, lv);
                if (json_integer_value(json_object_get(cy->anti_counts, pk)) > 0)
                        return R_ANTI;
        }
        json_object_foreach(cy->existing_anti, k, v)
        {
                const char *sep = strchr(k, '\x01');
                _cleanup_free_ char *key = xstrndup(k, (size_t)(sep - k));
                const char *lv = label(n->labels, key);
                if (lv && !strcmp(lv, sep + 1) && json_integer_value(v) > 0)
                        return R_EXISTING_ANTI;
        }
        return NULL;
}

static bool node_has_all_keys(struct sched_cycle *cy, struct sched_node *n)
{
        for (size_t i = 0; i < cy->n_spreads; i++)
                if (!node_label(n, cy->spreads[i].key))
                        return false;
        return true;
}

static void spread_prefilter(struct sched_cycle *cy)
{
        struct sched_pod *pod = cy->pod;
        json_t *cons = kjson_get(pod->obj, "spec.topologySpreadConstraints");
        json_t *j;
        size_t i;
        if (json_array_size(cons)) {
                cy->spreads = xcalloc(json_array_size(cons), sizeof(*cy->spreads));
                json_array_foreach(cons, i, j)
                {
                        struct spread *s = &cy->spreads[cy->n_spreads];
                        /* matchLabelKeys: the pod's own values of those keys join the selector */
                        json_t *sel = json_deep_copy(json_object_get(j, "labelSelector"));
                        json_t *mk;
                        size_t k;
                        json_array_foreach(json_object_get(j, "matchLabelKeys"), k, mk)
                        {
                                const char *v = label(kjson_get(pod->obj, "metadata.labels"),
                                                      json_string_value(mk) ?: "");
                                if (!v || !json_is_object(sel))
                                        continue;
                                json_t *exprs = json_object_get(sel, "matchExpressions");
                                if (!json_is_array(exprs)) {
                                        exprs = json_array();
                                        json_object_set_new(sel, "matchExpressions", exprs);
                                }
                                json_array_append_new(exprs,
                                                      json_pack("{s:s, s:s, s:[s]}", "key",
                                                                json_string_value(mk), "operator",
                                                                "In", "values", v));
                        }
                        int r = labels_selector_from_json(sel, &s->sel, NULL);
                        json_decref(sel);
                        if (r < 0)
                                continue;
                        s->key = kjson_str(j, "topologyKey") ?: "";
                        s->max_skew = kjson_int(j, "maxSkew", 1);
                        s->min_domains = kjson_int(j, "minDomains", 1);
                        s->hard = strcmp(kjson_str(j, "whenUnsatisfiable") ?: "DoNotSchedule",
                                         "ScheduleAnyway") != 0;
                        cy->n_spreads++;
                }
        } else if (pod->owner_uid) {
                cy->spreads = xcalloc(2, sizeof(*cy->spreads));
                cy->spreads[0] = (struct spread){.key = "kubernetes.io/hostname",
                                                 .max_skew = 3,
                                                 .min_domains = 1,
                                                 .by_owner = true,
                                                 .per_node = true};
                cy->spreads[1] = (struct spread){.key = "topology.kubernetes.io/zone",
                                                 .max_skew = 5,
                                                 .min_domains = 1,
                                                 .by_owner = true};
                cy->n_spreads = 2;
                cy->spreads_system = true;
        }
        if (!cy->n_spreads)
                return;
        /* counts over the nodes that pass the pod's node affinity (nodeAffinityPolicy Honor) */
        for (size_t k = 0; k < cy->n_spreads; k++)
                cy->spreads[k].counts = json_object();
        for (size_t ni = 0; ni < cy->c->n_nodes; ni++) {
                struct sched_node *n = cy->c->nodes[ni];
                if (!node_affinity_matches(pod, n))
                        continue;
                if (!cy->spreads_system && !node_has_all_keys(cy, n))
                        continue;
                for (size_t k = 0; k < cy->n_spreads; k++) {
                        struct spread *s = &cy->spreads[k];
                        const char *v = node_label(n, s->key);
                        if (!v)
                                continue;
                        if (s->per_node) {
                                s->n_domains++;
                                continue;
                        }
                        int64_t cnt = 0;
                        if (s->by_owner) {
                                /* the pod itself is on no node while it is scheduled */
                                cnt = sched_node_owner_count(n, pod->owner_id);
                        } else {
                                for (size_t pi = 0; pi < n->n_pods; pi++) {
                                        struct sched_pod *e = n->pods[pi];
                                        if (e != pod && !strcmp(e->ns, pod->ns) &&
                                            !pod_terminating(e) &&
                                            labels_selector_matches(
                                                    s->sel, kjson_get(e->obj, "metadata.labels")))
                                                cnt++;
                                }
                        }
                        count_add(s->counts, v, cnt);
                }
        }
        for (size_t k = 0; k < cy->n_spreads; k++) {
                struct spread *s = &cy->spreads[k];
                const char *key;
                json_t *v;
                s->min = INT64_MAX;
                json_object_foreach(s->counts, key, v) s->min = MIN(s->min, json_integer_value(v));
                if (s->min == INT64_MAX || (int64_t)json_object_size(s->counts) < s->min_domains)
                        s->min = 0;
                s->weight =
                        log((double)(s->per_node ? s->n_domains : json_object_size(s->counts)) + 2);
        }
}

static const char *spread_filter(struct sched_cycle *cy, struct sched_node *n, bool *unresolvable)
{
        *unresolvable = false;
        for (size_t k = 0; k < cy->n_spreads; k++) {
                struct spread *s = &cy->spreads[k];
                if (!s->hard)
                        continue;
                const char *v = node_label(n, s->key);
                if (!v) {
                        *unresolvable = true;
                        return R_SPREAD_LABEL;
                }
                int64_t self =
                        labels_selector_matches(s->sel, kjson_get(cy->pod->obj, "metadata.labels"))
                                ? 1
                                : 0;
                int64_t cnt = json_integer_value(json_object_get(s->counts, v));
                if (cnt + self - s->min > s->max_skew)
                        return R_SPREAD;
        }
        return NULL;
}

struct sched_cycle *sched_cycle_new(struct sched_cluster *c, struct sched_pod *pod)
{
        struct sched_cycle *cy = xcalloc(1, sizeof(*cy));
        cy->c = c;
        cy->pod = pod;
        cy->tolerations = pod->tolerations;
        interpod_prefilter(cy);
        spread_prefilter(cy);
        return cy;
}

void sched_cycle_free(struct sched_cycle *cy)
{
        if (!cy)
                return;
        terms_free(cy->aff, cy->n_aff);
        terms_free(cy->anti, cy->n_anti);
        json_decref(cy->aff_counts);
        json_decref(cy->anti_counts);
        json_decref(cy->existing_anti);
        for (size_t k = 0; k < cy->n_spreads; k++) {
                labels_selector_free(cy->spreads[k].sel);
                json_decref(cy->spreads[k].counts);
        }
        free(cy->spreads);
        free(cy);
}

/* ---- filters ---- */

static void st_add(struct sched_status *st, enum sched_code code, const char *reason)
{
        if (st->code < code)
                st->code = code;
        if (st->n < SCHED_MAX_REASONS)
                snprintf(st->reasons[st->n++], sizeof(st->reasons[0]), "%s", reason);
}

static bool ports_conflict(const struct sched_port *a, const struct sched_port *b)
{
        return a->port == b->port && !strcmp(a->proto, b->proto) &&
               (!*a->ip || !*b->ip || !strcmp(a->ip, b->ip));
}

bool sched_filter(struct sched_cycle *cy, struct sched_node *n, struct sched_status *st)
{
        struct sched_pod *pod = cy->pod;
        json_t *taint;
        size_t i;
        bool unres;
        const char *r;

        *st = (struct sched_status){0};
        /* NodeUnschedulable */
        if (n->unschedulable &&
            !sched_tolerates(cy->tolerations, "node.kubernetes.io/unschedulable", "",
                             "NoSchedule")) {
                st_add(st, SCHED_UNRESOLVABLE, R_UNSCHEDULABLE);
                return false;
        }
        /* NodeName */
        const char *want = pod->node_name;
        if (want && *want && strcmp(want, n->name)) {
                st_add(st, SCHED_UNRESOLVABLE, R_NODENAME);
                return false;
        }
        /* TaintToleration; a node that is not Ready and carries no not-ready taint yet is treated
         * as if it had node.kubernetes.io/not-ready:NoSchedule */
        bool has_nr_taint = false;
        json_array_foreach(n->taints, i, taint)
        {
                const char *effect = kjson_str(taint, "effect") ?: "";
                const char *key = kjson_str(taint, "key") ?: "";
                const char *value = kjson_str(taint, "value") ?: "";
                if (!strcmp(key, "node.kubernetes.io/not-ready"))
                        has_nr_taint = true;
                if (strcmp(effect, "NoSchedule") && strcmp(effect, "NoExecute"))
                        continue;
                if (!sched_tolerates(cy->tolerations, key, value, effect)) {
                        char buf[160];
                        snprintf(buf, sizeof(buf), "node(s) had untolerated taint {%s: %s}", key,
                                 value);
                        st_add(st, SCHED_UNRESOLVABLE, buf);
                        return false;
                }
        }
        if (!n->ready && !has_nr_taint &&
            !sched_tolerates(cy->tolerations, "node.kubernetes.io/not-ready", "", "NoSchedule")) {
                st_add(st, SCHED_UNRESOLVABLE,
                       "node(s) had untolerated taint {node.kubernetes.io/not-ready: }");
                return false;
        }
        /* NodeAffinity (+ nodeSelector) */
        if (!node_affinity_matches(pod, n)) {
                st_add(st, SCHED_UNRESOLVABLE, R_NODEAFF);
                return false;
        }
        /* NodePorts */
        for (size_t a = 0; a < pod->n_ports; a++) {
                for (size_t pi = 0; pi < n->n_pods; pi++) {
                        struct sched_pod *e = n->pods[pi];
                        if (e == pod)
                                continue;
                        for (size_t b = 0; b < e->n_ports; b++) {
                                if (ports_conflict(&pod->ports[a], &e->ports[b])) {
                                        st_add(st, SCHED_UNSCHEDULABLE, R_PORTS);
                                        return false;
                                }
                        }
                }
        }
        /* NodeResourcesFit */
        if (n->n_pods + 1 > (size_t)MAX(n->alloc.pods, 0))
                st_add(st, SCHED_UNSCHEDULABLE, "Too many pods");
        if (pod->req.cpu_m > 0 && pod->req.cpu_m > n->alloc.cpu_m - n->requested.cpu_m)
                st_add(st, SCHED_UNSCHEDULABLE, "Insufficient cpu");
        if (pod->req.mem > 0 && pod->req.mem > n->alloc.mem - n->requested.mem)
                st_add(st, SCHED_UNSCHEDULABLE, "Insufficient memory");
        if (pod->req.eph > 0 && pod->req.eph > n->alloc.eph - n->requested.eph)
                st_add(st, SCHED_UNSCHEDULABLE, "Insufficient ephemeral-storage");
        if (st->n)
                return false;
        /* VolumeBinding: node affinity of the bound PVs */
        json_t *sel;
        json_array_foreach(pod->pv_affinity, i, sel)
        {
                if (!node_selector_matches(sel, n->obj)) {
                        st_add(st, SCHED_UNRESOLVABLE, R_VOLAFF);
                        return false;
                }
        }
        /* PodTopologySpread */
        if ((r = spread_filter(cy, n, &unres))) {
                st_add(st, unres ? SCHED_UNRESOLVABLE : SCHED_UNSCHEDULABLE, r);
                return false;
        }
        /* InterPodAffinity */
        if ((r = interpod_filter(cy, n, &unres))) {
                st_add(st, unres ? SCHED_UNRESOLVABLE : SCHED_UNSCHEDULABLE, r);
                return false;
        }
        return true;
}

/* ---- scores ---- */

static int64_t least_allocated(struct sched_pod *p, struct sched_node *n)
{
        int64_t cpu = n->nonzero.cpu_m + p->nonzero.cpu_m, mem = n->nonzero.mem + p->nonzero.mem;
        int64_t s = 0;
        s += (n->alloc.cpu_m <= 0 || cpu > n->alloc.cpu_m)
                     ? 0
                     : (n->alloc.cpu_m - cpu) * SCHED_MAX_NODE_SCORE / n->alloc.cpu_m;
        s += (n->alloc.mem <= 0 || mem > n->alloc.mem)
                     ? 0
                     : (int64_t)((__int128)(n->alloc.mem - mem) * SCHED_MAX_NODE_SCORE /
                                 n->alloc.mem);
        return s / 2;
}

static int64_t balanced(struct sched_pod *p, struct sched_node *n)
{
        double fc = n->alloc.cpu_m > 0
                            ? (double)(n->requested.cpu_m + p->req.cpu_m) / (double)n->alloc.cpu_m
                            : 0;
        double fm = n->alloc.mem > 0
                            ? (double)(n->requested.mem + p->req.mem) / (double)n->alloc.mem
                            : 0;
        fc = MIN(fc, 1.0);
        fm = MIN(fm, 1.0);
        double std = fabs(fc - fm) / 2;
        return (int64_t)((1 - std) * SCHED_MAX_NODE_SCORE);
}

/* "busybox:1.36" -> "docker.io/library/busybox:1.36"; a name without tag gets ":latest". */
static char *image_normalize(const char *img)
{
        const char *slash = strchr(img, '/');
        const char *last = strrchr(img, '/');
        bool has_tag = strchr(last ? last : img, ':') || strchr(img, '@');
        const char *tag = has_tag ? "" : ":latest";
        if (!slash)
                return xasprintf("docker.io/library/%s%s", img, tag);
        bool domain = strchr(img, '.') < slash && strchr(img, '.') ? true
                      : (strchr(img, ':') && strchr(img, ':') < slash)
                              ? true
                              : !strncmp(img, "localhost/", 10);
        if (!domain)
                return xasprintf("docker.io/%s%s", img, tag);
        return xasprintf("%s%s", img, tag);
}

static int64_t image_locality(struct sched_cluster *c, struct sched_pod *p, struct sched_node *n)
{
        json_t *ctr;
        size_t i;
        double sum = 0;
        size_t nc = 0;
        if (!c->n_nodes || !json_object_size(n->images))
                return 0;
        json_array_foreach(p->images, i, ctr)
        {
                const char *img = json_string_value(json_array_get(ctr, 0));
                const char *norm = json_string_value(json_array_get(ctr, 1));
                nc++;
                const char *name = json_object_get(n->images, img) ? img : norm;
                json_t *size = json_object_get(n->images, name);
                if (!size)
                        continue;
                double spread = (double)json_integer_value(json_object_get(c->image_nodes, name)) /
                                (double)c->n_nodes;
                sum += (double)json_integer_value(size) * spread;
        }
        double max = (double)IMG_MAX_THRESHOLD * (double)(nc ? nc : 1);
        if (sum < IMG_MIN_THRESHOLD)
                sum = IMG_MIN_THRESHOLD;
        if (sum > max)
                sum = max;
        return (int64_t)(SCHED_MAX_NODE_SCORE * (sum - IMG_MIN_THRESHOLD) /
                         (max - IMG_MIN_THRESHOLD));
}

static int64_t taint_count(struct sched_cycle *cy, struct sched_node *n)
{
        json_t *t;
        size_t i;
        int64_t cnt = 0;
        json_array_foreach(n->taints, i, t)
        {
                const char *effect = kjson_str(t, "effect") ?: "";
                if (strcmp(effect, "PreferNoSchedule"))
                        continue;
                if (!sched_tolerates(cy->tolerations, kjson_str(t, "key") ?: "",
                                     kjson_str(t, "value") ?: "", "PreferNoSchedule"))
                        cnt++;
        }
        return cnt;
}

static int64_t node_affinity_score(struct sched_cycle *cy, struct sched_node *n)
{
        json_t *t;
        size_t i;
        int64_t s = 0;
        json_array_foreach(cy->pod->preferred_na, i, t)
        {
                if (sched_node_selector_term_matches(json_object_get(t, "preference"), n->obj))
                        s += kjson_int(t, "weight", 0);
        }
        return s;
}

/* InterPodAffinity PreScore: topology pair -> weight sum. */
static json_t *interpod_prescore(struct sched_cycle *cy)
{
        struct sched_cluster *c = cy->c;
        struct sched_pod *pod = cy->pod;
        struct term *pa, *pn;
        size_t npa = terms_parse(pod->obj, AFF_PREF, true, c->ns_labels, &pa);
        size_t npn = terms_parse(pod->obj, ANTI_PREF, true, c->ns_labels, &pn);
        json_t *m = json_object();
        for (size_t ni = 0; ni < c->n_nodes; ni++) {
                struct sched_node *n = c->nodes[ni];
                if (!npa && !npn && !n->n_affinity)
                        continue;
                for (size_t pi = 0; pi < n->n_pods; pi++) {
                        struct sched_pod *e = n->pods[pi];
                        if (e == pod)
                                continue;
                        for (size_t k = 0; k < npa + npn; k++) {
                                struct term *t = k < npa ? &pa[k] : &pn[k - npa];
                                const char *v = label(n->labels, t->key);
                                if (v && term_matches(t, e)) {
                                        _cleanup_free_ char *pk = pair(t->key, v);
                                        count_add(m, pk, k < npa ? t->weight : -t->weight);
                                }
                        }
                        if (!e->has_affinity)
                                continue;
                        /* existing pods' terms toward the incoming pod (hard affinity weight 1) */
                        static const char *const paths[] = {AFF_REQ, AFF_PREF, ANTI_PREF};
                        for (size_t q = 0; q < 3; q++) {
                                struct term *et;
                                size_t ne = terms_parse(e->obj, paths[q], q > 0, c->ns_labels, &et);
                                for (size_t k = 0; k < ne; k++) {
                                        const char *v = label(n->labels, et[k].key);
                                        if (v && term_matches(&et[k], pod)) {
                                                _cleanup_free_ char *pk = pair(et[k].key, v);
                                                count_add(m, pk,
                                                          q == 2 ? -et[k].weight : et[k].weight);
                                        }
                                }
                                terms_free(et, ne);
                        }
                }
        }
        terms_free(pa, npa);
        terms_free(pn, npn);
        return m;
}

static int64_t interpod_score(json_t *m, struct sched_node *n)
{
        const char *k;
        json_t *v;
        int64_t s = 0;
        json_object_foreach(m, k, v)
        {
                const char *sep = strchr(k, '\x01');
                _cleanup_free_ char *key = xstrndup(k, (size_t)(sep - k));
                const char *lv = label(n->labels, key);
                if (lv && !strcmp(lv, sep + 1))
                        s += json_integer_value(v);
        }
        return s;
}

/* PodTopologySpread Score (before normalization); -1 = ignored node. */
static int64_t spread_score(struct sched_cycle *cy, struct sched_node *n)
{
        double s = 0;
        if (!cy->spreads_system && !node_has_all_keys(cy, n))
                return -1;
        for (size_t k = 0; k < cy->n_spreads; k++) {
                struct spread *sp = &cy->spreads[k];
                if (sp->hard && !cy->spreads_system)
                        continue;
                const char *v = node_label(n, sp->key);
                if (!v)
                        continue;
                int64_t cnt = sp->per_node ? sched_node_owner_count(n, cy->pod->owner_id)
                                           : json_integer_value(json_object_get(sp->counts, v));
                s += (double)cnt * sp->weight + (double)(sp->max_skew - 1);
        }
        return (int64_t)llround(s);
}

void sched_score(struct sched_cycle *cy, struct sched_node **nodes, size_t n, int64_t *scores)
{
        if (!n)
                return;
        int64_t *taint = xcalloc(n, sizeof(int64_t)), *naff = xcalloc(n, sizeof(int64_t));
        int64_t *ipa = xcalloc(n, sizeof(int64_t)), *spr = xcalloc(n, sizeof(int64_t));
        int64_t max_taint = 0, max_naff = 0, ipa_min = INT64_MAX, ipa_max = INT64_MIN;
        int64_t spr_min = INT64_MAX, spr_max = 0;
        bool have_soft_spread = false;
        for (size_t k = 0; k < cy->n_spreads; k++)
                if (!cy->spreads[k].hard || cy->spreads_system)
                        have_soft_spread = true;
        json_t *ipm = interpod_prescore(cy);
        for (size_t i = 0; i < n; i++) {
                struct sched_node *nd = nodes[i];
                scores[i] = W_LEAST * least_allocated(cy->pod, nd) +
                            W_BALANCED * balanced(cy->pod, nd) +
                            W_IMAGE * image_locality(cy->c, cy->pod, nd);
                taint[i] = taint_count(cy, nd);
                max_taint = MAX(max_taint, taint[i]);
                naff[i] = node_affinity_score(cy, nd);
                max_naff = MAX(max_naff, naff[i]);
                ipa[i] = interpod_score(ipm, nd);
                ipa_min = MIN(ipa_min, ipa[i]);
                ipa_max = MAX(ipa_max, ipa[i]);
                spr[i] = have_soft_spread ? spread_score(cy, nd) : 0;
                if (spr[i] >= 0) {
                        spr_min = MIN(spr_min, spr[i]);
                        spr_max = MAX(spr_max, spr[i]);
                }
        }
        for (size_t i = 0; i < n; i++) {
                int64_t t = max_taint ? SCHED_MAX_NODE_SCORE -
                                                taint[i] * SCHED_MAX_NODE_SCORE / max_taint
                                      : SCHED_MAX_NODE_SCORE;
                int64_t a = max_naff ? naff[i] * SCHED_MAX_NODE_SCORE / max_naff : 0;
                int64_t ip = ipa_max > ipa_min ? (ipa[i] - ipa_min) * SCHED_MAX_NODE_SCORE /
                                                         (ipa_max - ipa_min)
                                               : 0;
                int64_t sp = 0;
                if (have_soft_spread && spr[i] >= 0)
                        sp = spr_max == 0 ? SCHED_MAX_NODE_SCORE
                                          : SCHED_MAX_NODE_SCORE * (spr_max + spr_min - spr[i]) /
                                                    spr_max;
                scores[i] += W_TAINT * t + W_NODEAFF * a + W_INTERPOD * ip + W_SPREAD * sp;
        }
        json_decref(ipm);
        free(taint);
        free(naff);
        free(ipa);
        free(spr);
}

/* ---- message ---- */

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "1 a, 2 b" sorted as strings, as FitError.Error() sorts its histogram. */
static char *histogram(json_t *reasons)
{
        size_t n = json_object_size(reasons), k = 0;
        char **items = xcalloc(n ? n : 1, sizeof(char *));
        const char *key;
        json_t *v;
        json_object_foreach(reasons, key, v) items[k++] =
                xasprintf("%lld %s", (long long)json_integer_value(v), key);
        qsort(items, n, sizeof(char *), cmp_str);
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += strlen(items[i]) + 2;
        char *out = xcalloc(1, len);
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
                off += (size_t)snprintf(out + off, len - off, "%s%s", i ? ", " : "", items[i]);
                free(items[i]);
        }
        free(items);
        return out;
}

char *sched_fit_message(size_t n_nodes, json_t *reasons, json_t *pre_reasons, const char *pre_text)
{
        if (n_nodes == 0)
                return xstrdup("no nodes available to schedule pods");
        _cleanup_free_ char *h = histogram(reasons);
        _cleanup_free_ char *ph = pre_reasons ? histogram(pre_reasons) : NULL;
        if (pre_text)
                return xasprintf("0/%zu nodes are available: %s. preemption: %s", n_nodes, h,
                                 pre_text);
        if (ph)
                return xasprintf("0/%zu nodes are available: %s. preemption: 0/%zu nodes are "
                                 "available: %s.",
                                 n_nodes, h, n_nodes, ph);
        return xasprintf("0/%zu nodes are available: %s.", n_nodes, h);
}

/* ---- the cycle ---- */

static size_t num_feasible_to_find(size_t n)
{
        if (n < 100)
                return n;
        long pct = 50 - (long)n / 125;
        if (pct < 5)
                pct = 5;
        size_t num = n * (size_t)pct / 100;
        return num < 100 ? 100 : num;
}

static int cmp_victim(const void *a, const void *b)
{
        const struct sched_pod *x = *(struct sched_pod *const *)a,
                               *y = *(struct sched_pod *const *)b;
        return (x->priority < y->priority) - (x->priority > y->priority); /* higher first */
}

/* SelectVictimsOnNode: returns true with the victims if removing lower-priority pods makes pod
 * fit; the node is restored. */
static bool select_victims(struct sched_cycle *cy, struct sched_node *n,
                           struct sched_pod ***ret_victims, size_t *ret_n)
{
        struct sched_pod **pot = NULL, **victims = NULL;
        size_t np = 0, nv = 0;
        struct sched_status st;
        for (size_t i = 0; i < n->n_pods; i++)
                if (n->pods[i]->priority < cy->pod->priority)
                        np++;
        if (!np)
                return false;
        pot = xcalloc(np, sizeof(*pot));
        victims = xcalloc(np, sizeof(*victims));
        np = 0;
        for (size_t i = 0; i < n->n_pods; i++)
                if (n->pods[i]->priority < cy->pod->priority)
                        pot[np++] = n->pods[i];
        for (size_t i = 0; i < np; i++)
                sched_node_remove_pod(n, pot[i]);
        bool fits = sched_filter(cy, n, &st);
        if (fits) {
                qsort(pot, np, sizeof(*pot), cmp_victim);
                for (size_t i = 0; i < np; i++) {
                        sched_node_add_pod(n, pot[i]);
                        if (!sched_filter(cy, n, &st)) {
                                sched_node_remove_pod(n, pot[i]);
                                victims[nv++] = pot[i];
                        }
                }
        }
        /* restore */
        for (size_t i = 0; i < np; i++)
                if (!pot[i]->on)
                        sched_node_add_pod(n, pot[i]);
        free(pot);
        if (!fits || !nv) {
                free(victims);
                return false;
        }
        *ret_victims = victims;
        *ret_n = nv;
        return true;
}

static bool nominated_has_terminating(struct sched_cluster *c, struct sched_pod *pod)
{
        const char *nn = kjson_str(pod->obj, "status.nominatedNodeName");
        struct sched_node *n = nn && *nn ? sched_cluster_node(c, nn) : NULL;
        if (!n)
                return false;
        for (size_t i = 0; i < n->n_pods; i++)
                if (n->pods[i]->priority < pod->priority && pod_terminating(n->pods[i]))
                        return true;
        return false;
}

static void preempt(struct sched_cycle *cy, enum sched_code *codes, struct sched_result *res,
                    json_t *pre)
{
        struct sched_cluster *c = cy->c;
        int64_t best_max = 0, best_sum = 0;
        for (size_t i = 0; i < c->n_nodes; i++) {
                struct sched_node *n = c->nodes[i];
                if (codes[i] != SCHED_UNSCHEDULABLE) {
                        count_add(pre, R_PRE_NOT_HELPFUL, 1);
                        continue;
                }
                struct sched_pod **v;
                size_t nv;
                if (!select_victims(cy, n, &v, &nv)) {
                        count_add(pre, R_PRE_NO_VICTIMS, 1);
                        continue;
                }
                int64_t mx = INT64_MIN, sum = 0;
                for (size_t k = 0; k < nv; k++) {
                        mx = MAX(mx, v[k]->priority);
                        sum += v[k]->priority;
                }
                if (!res->nominated || mx < best_max || (mx == best_max && sum < best_sum) ||
                    (mx == best_max && sum == best_sum && nv < res->n_victims)) {
                        free(res->victims);
                        res->nominated = n;
                        res->victims = v;
                        res->n_victims = nv;
                        best_max = mx;
                        best_sum = sum;
                } else {
                        free(v);
                }
        }
}

void sched_schedule(struct sched_cluster *c, struct sched_pod *pod, size_t *next_start,
                    struct sched_result *res)
{
        *res = (struct sched_result){0};
        size_t n = c->n_nodes;
        if (!n) {
                res->message = sched_fit_message(0, NULL, NULL, NULL);
                return;
        }
        struct sched_cycle *cy = sched_cycle_new(c, pod);
        struct sched_node **feasible = xcalloc(n, sizeof(*feasible));
        enum sched_code *codes = xcalloc(n, sizeof(*codes));
        size_t nf = 0, want = num_feasible_to_find(n), start = *next_start % n, visited = 0;
        json_t *reasons = json_object();
        struct sched_status st;
        for (size_t k = 0; k < n && nf < want; k++) {
                size_t i = (start + k) % n;
                visited++;
                if (sched_filter(cy, c->nodes[i], &st)) {
                        feasible[nf++] = c->nodes[i];
                        continue;
                }
                codes[i] = st.code;
                for (size_t r = 0; r < st.n; r++)
                        count_add(reasons, st.reasons[r], 1);
        }
        *next_start = (start + visited) % n;
        if (nf) {
                int64_t *scores = xcalloc(nf, sizeof(int64_t));
                sched_score(cy, feasible, nf, scores);
                size_t best = 0;
                for (size_t i = 1; i < nf; i++)
                        if (scores[i] > scores[best])
                                best = i;
                res->node = feasible[best];
                free(scores);
        } else if (pod->preempt_never) {
                res->message = sched_fit_message(n, reasons, NULL,
                                                 "not eligible due to preemptionPolicy=Never.");
        } else if (nominated_has_terminating(c, pod)) {
                res->message = sched_fit_message(
                        n, reasons, NULL,
                        "not eligible due to terminating pod on the nominated node.");
        } else {
                json_t *pre = json_object();
                preempt(cy, codes, res, pre);
                res->message = sched_fit_message(n, reasons, res->nominated ? NULL : pre, NULL);
                json_decref(pre);
        }
        json_decref(reasons);
        free(codes);
        free(feasible);
        sched_cycle_free(cy);
}

void sched_result_clear(struct sched_result *res)
{
        free(res->message);
        free(res->victims);
        *res = (struct sched_result){0};
}
