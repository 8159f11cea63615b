/* handlers.c — the resource verbs: get, list, create, update, patch, delete, deletecollection,
 * status and binding subresources (watch.c and logs.c do watch and pods/log). */
#include "apiserver/apiserver-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "api/crd.h"
#include "api/fields.h"
#include "api/labels.h"
#include "api/meta.h"
#include "api/pod.h"
#include "api/protobuf.h"
#include "api/strategy.h"
#include "apiserver/apply.h"
#include "apiserver/patch.h"
#include "apiserver/quota.h"
#include "apiserver/services.h"
#include "apiserver/status.h"
#include "apiserver/table.h"
#include "common/kjson.h"
#include "common/kyaml.h"
#include "common/log.h"
#include "common/timefmt.h"

#define COMP "apiserver"

static const char *const default_namespaces[] = {"default", "kube-system", "kube-public",
                                                 "kube-node-lease"};

static bool is_res(const struct scheme_resource *r, const char *resource)
{
        return !*r->group && !strcmp(r->resource, resource);
}

static bool is_crd_kind(const struct scheme_resource *r)
{
        return !strcmp(r->group, "apiextensions.k8s.io") &&
               !strcmp(r->resource, "customresourcedefinitions");
}

static bool has_status_sub(const struct scheme_resource *r)
{
        return scheme_subresource(r, "status") != NULL;
}

static const char *query(struct rq *q, const char *name)
{
        const char *v = http_req_query(q->req, name);
        return v && *v ? v : NULL;
}

static bool dry_run(struct rq *q)
{
        const char *d = query(q, "dryRun");
        return d && !strcmp(d, "All");
}

static void rfc3339_now(char buf[32], int64_t offset)
{
        timefmt_rfc3339(buf, time(NULL) + offset);
}

/* ---- loading ---- */

static int load(struct apiserver *a, const struct scheme_resource *r, const char *ns,
                const char *name, json_t **ret, int64_t *ret_rev, struct error *err)
{
        _cleanup_free_ char *key = scheme_key(r, ns, name);
        struct store_kv kv = {0};
        int rc = store_get(a->store, key, &kv, err);
        if (rc < 0)
                return rc;
        json_t *obj = apiserver_obj_decode(r, kv.value, kv.value_len, kv.mod_rev);
        if (ret_rev)
                *ret_rev = kv.mod_rev;
        store_kv_clear(&kv);
        if (!obj)
                return error_set(err, -EIO, "stored object %s is corrupt", key);
        *ret = obj;
        return 0;
}

/* Load the object the request names (q->res, q->ns, q->name); on failure respond (404
 * NotFound or the store error) and return < 0. */
static int load_target(struct rq *q, json_t **ret, int64_t *ret_rev)
{
        struct error err = {0};
        int r = load(q->a, q->res, q->ns, q->name, ret, ret_rev, &err);
        if (r == -ENOENT)
                rq_fail_not_found(q, q->res, q->name);
        else if (r < 0)
                rq_fail_err(q, &err);
        return r;
}

static void fail_invalid(struct rq *q, const struct scheme_resource *r, const char *name,
                         json_t *causes)
{
        _cleanup_free_ char *qk = scheme_qualified_kind(r);
        _cleanup_free_ char *msg = meta_causes_message(qk, name ? name : "", causes);
        json_t *d = status_details(name ? name : "", r->group, r->kind);
        json_object_set(d, "causes", causes);
        rq_fail(q, -EINVAL, d, "%s", msg);
}

static void fail_conflict(struct rq *q, const struct scheme_resource *r, const char *name,
                          const char *why)
{
        _cleanup_free_ char *qr = scheme_qualified_resource(r);
        rq_fail(q, -ESTALE, status_details(name, r->group, r->resource),
                "Operation cannot be fulfilled on %s \"%s\": %s", qr, name, why);
}

#define MODIFIED_MSG                                                                               \
        "the object has been modified; please apply your changes to the latest version and try "   \
        "again"

/* ---- body decoding ---- */

/* Parse the request body as JSON or YAML; responds and returns <0 on failure. */
static int read_body(struct rq *q, json_t **ret)
{
        size_t len = 0;
        const char *body = http_req_body(q->req, &len);
        const char *ct = http_req_header(q->req, "content-type");
        struct error err = {0};
        if (!body || !len) {
                rq_fail(q, -EBADMSG, NULL, "the request body is empty");
                return -EBADMSG;
        }
        if (len > APISERVER_MAX_BODY) {
                rq_fail(q, -E2BIG, NULL, "Request entity too large: limit is %d",
                        APISERVER_MAX_BODY);
                return -E2BIG;
        }
        json_t *obj = NULL;
        int r;
        if (ct && strstr(ct, "protobuf")) {
                /* kubectl >= 1.32's typed create commands (engineer P's decoder). */
                r = protobuf_decode_k8s(body, len, &obj, &err);
                if (r < 0) {
                        int code = r == -ENOTSUP || r == -EPROTONOSUPPORT ? -EMEDIUMTYPE
                                   : r == -E2BIG                          ? -E2BIG
                                                                          : -EBADMSG;
                        rq_fail(q, code, NULL, "%s", error_msg(&err));
                        return code;
                }
                *ret = obj;
                return 0;
        }
        if (ct && strstr(ct, "yaml")) {
                r = kjson_parse(body, len, 0, &obj, NULL);
                if (r < 0)
                        r = kyaml_parse_one(body, len, &obj, &err);
        } else {
                r = kjson_parse(body, len, 0, &obj, &err);
        }
        if (r < 0) {
                rq_fail(q, -EBADMSG, NULL, "error decoding request body: %s", error_msg(&err));
                return -EBADMSG;
        }
        *ret = obj;
        return 0;
}

int rq_read_body(struct rq *q, json_t **ret)
{
        return read_body(q, ret);
}

static const char *const meta_fields[] = {"name",
                                          "generateName",
                                          "namespace",
                                          "selfLink",
                                          "uid",
                                          "resourceVersion",
                                          "generation",
                                          "creationTimestamp",
                                          "deletionTimestamp",
                                          "deletionGracePeriodSeconds",
                                          "labels",
                                          "annotations",
                                          "ownerReferences",
                                          "finalizers",
                                          "managedFields",
                                          NULL};

static const char *const pod_spec_fields[] = {"activeDeadlineSeconds",
                                              "affinity",
                                              "automountServiceAccountToken",
                                              "containers",
                                              "dnsConfig",
                                              "dnsPolicy",
                                              "enableServiceLinks",
                                              "ephemeralContainers",
                                              "hostAliases",
                                              "hostIPC",
                                              "hostNetwork",
                                              "hostPID",
                                              "hostUsers",
                                              "hostname",
                                              "imagePullSecrets",
                                              "initContainers",
                                              "nodeName",
                                              "nodeSelector",
                                              "os",
                                              "overhead",
                                              "preemptionPolicy",
                                              "priority",
                                              "priorityClassName",
                                              "readinessGates",
                                              "resourceClaims",
                                              "restartPolicy",
                                              "runtimeClassName",
                                              "schedulerName",
                                              "schedulingGates",
                                              "securityContext",
                                              "serviceAccount",
                                              "serviceAccountName",
                                              "setHostnameAsFQDN",
                                              "shareProcessNamespace",
                                              "subdomain",
                                              "terminationGracePeriodSeconds",
                                              "tolerations",
                                              "topologySpreadConstraints",
                                              "volumes",
                                              NULL};
static const char *const container_fields[] = {"args",
                                               "command",
                                               "env",
                                               "envFrom",
                                               "image",
                                               "imagePullPolicy",
                                               "lifecycle",
                                               "livenessProbe",
                                               "name",
                                               "ports",
                                               "readinessProbe",
                                               "resizePolicy",
                                               "resources",
                                               "restartPolicy",
                                               "securityContext",
                                               "startupProbe",
                                               "stdin",
                                               "stdinOnce",
                                               "terminationMessagePath",
                                               "terminationMessagePolicy",
                                               "tty",
                                               "volumeDevices",
                                               "volumeMounts",
                                               "workingDir",
                                               NULL};

static bool in_list(const char *const *l, const char *s)
{
        for (; *l; l++)
                if (!strcmp(*l, s))
                        return true;
        return false;
}

static void unknown_add(json_t *list, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void unknown_add(json_t *list, const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (json_array_size(list) < 32)
                json_array_append_new(list, json_sprintf("unknown field \"%s\"", buf));
}

/* Drop unknown metadata fields (custom resources and CRDs: their decoder does). */
static void prune_meta_unknown(json_t *obj)
{
        json_t *meta = json_object_get(obj, "metadata");
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(meta, tmp, k, v)
        {
                if (!in_list(meta_fields, k))
                        json_object_del(meta, k);
        }
}

/* Unknown fields (top level, metadata, and for pods spec and containers) per fieldValidation:
 * Strict -> 400 "strict decoding error"; Warn (the default) -> one Warning header each;
 * Ignore -> nothing. Returns <0 if it responded. */
static int strict_check(struct rq *q, const struct scheme_resource *r, json_t *obj)
{
        const char *fv = query(q, "fieldValidation");
        /* Wrong JSON types fail the decoding whatever fieldValidation says. */
        char terr[1024];
        /* custom resources: wrong types are schema validation errors (422), not decoding ones */
        if (!r->custom &&
            fields_type_error(scheme_api_version(r), r->kind, obj, terr, sizeof(terr))) {
                rq_fail(q, -EBADMSG, NULL, "%s in version \"%s\" cannot be handled as a %s: %s",
                        r->kind, r->version, r->kind, terr);
                return -EBADMSG;
        }
        if (fv && !strcmp(fv, "Ignore")) {
                /* dropped, as the decoder does: unknown fields are never stored */
                (void)fields_prune(scheme_api_version(r), r->kind, obj);
                if (r->custom)
                        crd_schema_prune(crd_served_schema(r), obj, NULL, 0);
                if (is_crd_kind(r)) {
                        crd_schema_prune(crd_kind_schema(), obj, NULL, 0);
                        crd_schema_unknown_keys(obj, NULL, 0);
                }
                if (r->custom || is_crd_kind(r))
                        prune_meta_unknown(obj);
                return 0;
        }
        _cleanup_(json_decrefp) json_t *unknown = json_array();
        const char *k;
        json_t *v;
        const char *const *top = strategy_for(r)->top_fields;
        /* Every field, at any depth, for the kinds with a struct-tag table; else the top level
         * and metadata (and a Pod's spec and containers). */
        _cleanup_(json_decrefp) json_t *paths = json_array();
        bool table = true, schema = true;
        if (r->custom) { /* pruned by the structural schema, as the CR handler's decoder does */
                crd_schema_prune(crd_served_schema(r), obj, paths, 32);
        } else if (is_crd_kind(r)) {
                crd_schema_prune(crd_kind_schema(), obj, paths, 32);
                crd_schema_unknown_keys(obj, paths, 32);
        } else {
                schema = false;
                table = fields_unknown(scheme_api_version(r), r->kind, obj, paths, 32) == 0;
        }
        size_t pi;
        json_t *pv;
        json_array_foreach(paths, pi, pv)
        {
                unknown_add(unknown, "%s", json_string_value(pv));
        }
        json_object_foreach(table ? NULL : (json_t *)obj, k, v)
        {
                if (strcmp(k, "kind") && strcmp(k, "apiVersion") && strcmp(k, "metadata") &&
                    !in_list(top, k))
                        unknown_add(unknown, "%s", k);
        }
        json_object_foreach(table && !schema ? NULL : json_object_get(obj, "metadata"), k, v)
        {
                if (!in_list(meta_fields, k))
                        unknown_add(unknown, "metadata.%s", k);
        }
        if (!table && is_res(r, "pods")) {
                const json_t *spec = json_object_get(obj, "spec");
                json_object_foreach((json_t *)spec, k, v)
                {
                        if (!in_list(pod_spec_fields, k))
                                unknown_add(unknown, "spec.%s", k);
                }
                const char *lists[] = {"containers", "initContainers"};
                for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
                        size_t i;
                        json_t *c;
                        json_array_foreach(json_object_get(spec, lists[l]), i, c)
                        {
                                json_object_foreach(c, k, v)
                                {
                                        if (!in_list(container_fields, k))
                                                unknown_add(unknown, "spec.%s[%zu].%s", lists[l], i,
                                                            k);
                                }
                        }
                }
        }
        if (!json_array_size(unknown))
                return 0;
        size_t i;
        json_t *u;
        if (!fv || strcmp(fv, "Strict")) {
                json_array_foreach(unknown, i, u)
                {
                        _cleanup_free_ char *w = xasprintf("299 - \"%s\"", json_string_value(u));
                        /* the value is a quoted-string: escape the inner quotes */
                        _cleanup_free_ char *esc = xmalloc(2 * strlen(w) + 1);
                        size_t o = 0;
                        for (size_t c = 0; w[c]; c++) {
                                bool inner = c > 6 && w[c + 1];
                                if (inner && (w[c] == '"' || w[c] == '\\'))
                                        esc[o++] = '\\';
                                esc[o++] = w[c];
                        }
                        esc[o] = 0;
                        http_req_add_header(q->req, "Warning", esc);
                }
                (void)fields_prune(scheme_api_version(r), r->kind, obj);
                if (schema)
                        prune_meta_unknown(obj);
                return 0;
        }
        char msg[2048] = "";
        size_t off = 0;
        json_array_foreach(unknown, i, u)
        {
                if (off < sizeof(msg))
                        off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%s%s", i ? ", " : "",
                                                json_string_value(u));
        }
        rq_fail(q, -EBADMSG, NULL,
                "%s in version \"%s\" cannot be handled as a %s: strict decoding error: %s",
                r->kind, r->version, r->kind, msg);
        return -EBADMSG;
}

/* Body must be an object of this kind. Returns <0 if it responded. */
static int check_kind(struct rq *q, const struct scheme_resource *r, const json_t *obj)
{
        if (!json_is_object(obj)) {
                rq_fail(q, -EBADMSG, NULL, "the body of the request must be a JSON object");
                return -EBADMSG;
        }
        const char *kind = kjson_str(obj, "kind");
        const char *av = kjson_str(obj, "apiVersion");
        if ((kind && *kind && strcmp(kind, r->kind)) ||
            (av && *av && strcmp(av, scheme_api_version(r)))) {
                rq_fail(q, -EBADMSG, NULL,
                        "the object provided is unrecognized (must be of type %s): %s, %s", r->kind,
                        av ? av : "", kind ? kind : "");
                return -EBADMSG;
        }
        const json_t *meta = json_object_get(obj, "metadata");
        if (meta && !json_is_object(meta)) {
                rq_fail(q, -EBADMSG, NULL, "metadata must be an object");
                return -EBADMSG;
        }
        return 0;
}

/* ---- namespaces ---- */

/* Namespace must exist (and, when creating, not be terminating). Returns <0 if it responded. */
static int ns_check(struct rq *q, const char *ns, bool creating, const char *name)
{
        const struct scheme_resource *nsr = scheme_lookup("", "v1", "namespaces");
        _cleanup_(json_decrefp) json_t *obj = NULL;
        struct error err = {0};
        int r = load(q->a, nsr, NULL, ns, &obj, NULL, &err);
        if (r == -ENOENT) {
                rq_fail_not_found(q, nsr, ns);
                return r;
        }
        if (r < 0) {
                rq_fail_err(q, &err);
                return r;
        }
        if (creating && kjson_str(obj, "metadata.deletionTimestamp")) {
                _cleanup_free_ char *qr = scheme_qualified_resource(q->res);
                rq_fail(q, -EACCES, status_details(name, q->res->group, q->res->resource),
                        "%s \"%s\" is forbidden: unable to create new content in namespace %s "
                        "because it is being terminated",
                        qr, name ? name : "", ns);
                return -EACCES;
        }
        return 0;
}

/* The Priority admission plugin (plugin/pkg/admission/priority): a pod's spec.priority (and
 * preemptionPolicy) come from its PriorityClass, the globalDefault class or 0; the two built-in
 * classes need no object. Fails the request (403, as kube-apiserver) and returns < 0 for an
 * unknown class or a priority that disagrees with the class. */
static int priority_admit(struct rq *q, json_t *pod)
{
        json_t *spec = kjson_obj_ensure(pod, "spec");
        const char *cls = kjson_str(spec, "priorityClassName");
        const char *name = kjson_str(pod, "metadata.name") ?: "";
        const struct scheme_resource *pcr = scheme_lookup("scheduling.k8s.io", "v1",
                                                          "priorityclasses");
        _cleanup_(json_decrefp) json_t *pc = NULL;
        int64_t value = 0;
        if (cls && *cls) {
                if (!strcmp(cls, "system-node-critical"))
                        value = 2000001000;
                else if (!strcmp(cls, "system-cluster-critical"))
                        value = 2000000000;
                else if (!pcr || load(q->a, pcr, NULL, cls, &pc, NULL, NULL) < 0) {
                        rq_fail(q, -EACCES, status_details(name, "", "pods"),
                                "pods \"%s\" is forbidden: no PriorityClass with name %s was found",
                                name, cls);
                        return -EACCES;
                }
        } else if (pcr) {
                _cleanup_free_ char *prefix = scheme_prefix(pcr, NULL);
                struct store_list l = {0};
                if (store_list(q->a->store, prefix, NULL, 0, 0, &l, NULL) == 0) {
                        for (size_t i = 0; i < l.n_items && !pc; i++) {
                                json_t *o = apiserver_obj_decode(pcr, l.items[i].value,
                                                                 l.items[i].value_len,
                                                                 l.items[i].mod_rev);
                                if (o && kjson_bool(o, "globalDefault", false))
                                        pc = json_incref(o);
                                json_decref(o);
                        }
                        store_list_clear(&l);
                }
                if (pc)
                        json_object_set_new(spec, "priorityClassName",
                                            json_string(kjson_str(pc, "metadata.name") ?: ""));
        }
        if (pc) {
                value = kjson_int(pc, "value", 0);
                const char *pp = kjson_str(pc, "preemptionPolicy");
                if (pp && !json_object_get(spec, "preemptionPolicy"))
                        json_object_set_new(spec, "preemptionPolicy", json_string(pp));
        }
        json_t *given = json_object_get(spec, "priority");
        if (given && json_is_integer(given) && json_integer_value(given) != value) {
                rq_fail(q, -EACCES, status_details(name, "", "pods"),
                        "pods \"%s\" is forbidden: the integer value of priority (%lld) must not be "
                        "provided in pod spec; priority admission controller computed %lld from "
                        "the given PriorityClass name",
                        name, (long long)json_integer_value(given), (long long)value);
                return -EACCES;
        }
        json_object_set_new(spec, "priority", json_integer(value));
        return 0;
}

static json_t *new_namespace(const char *name)
{
        json_t *o = json_pack("{s:s,s:s,s:{s:s},s:{s:[s]},s:{s:s}}", "kind", "Namespace",
                              "apiVersion", "v1", "metadata", "name", name, "spec", "finalizers",
                              "kubernetes", "status", "phase", "Active");
        return o;
}

/* Every stored Service (for IP and node port allocation). New reference. */
static json_t *all_services(struct apiserver *a)
{
        const struct scheme_resource *r = scheme_lookup("", "v1", "services");
        _cleanup_free_ char *prefix = scheme_prefix(r, NULL);
        struct store_list l = {0};
        json_t *arr = json_array();
        if (store_list(a->store, prefix, NULL, 0, 0, &l, NULL) < 0)
                return arr;
        for (size_t i = 0; i < l.n_items; i++) {
                json_t *o = apiserver_obj_decode(r, l.items[i].value, l.items[i].value_len,
                                                 l.items[i].mod_rev);
                if (o)
                        json_array_append_new(arr, o);
        }
        store_list_clear(&l);
        return arr;
}

/* Server-set fields and defaults of a new object (the kind's strategy). */
static void prepare_create(const struct scheme_resource *r, json_t *obj, const char *ns)
{
        strategy_prepare_create(strategy_for(r), r, obj, ns);
}

/* Create and update validation of the whole object (metadata + kind rules). */
static void validate(const struct scheme_resource *r, const json_t *obj, json_t *causes)
{
        strategy_validate(strategy_for(r), r, obj, causes);
}

int handlers_bootstrap(struct apiserver *a, struct error *err)
{
        const struct scheme_resource *nsr = scheme_lookup("", "v1", "namespaces");
        for (size_t i = 0; i < ARRAY_SIZE(default_namespaces); i++) {
                _cleanup_free_ char *key = scheme_key(nsr, NULL, default_namespaces[i]);
                struct store_kv kv = {0};
                int r = store_get(a->store, key, &kv, err);
                store_kv_clear(&kv);
                if (r == 0)
                        continue;
                if (r != -ENOENT)
                        return r;
                _cleanup_(json_decrefp) json_t *obj = new_namespace(default_namespaces[i]);
                prepare_create(nsr, obj, NULL);
                size_t len;
                _cleanup_free_ char *val = apiserver_obj_encode(obj, &len);
                r = store_create(a->store, key, val, len, NULL, err);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        return 0;
}

/* If namespace ns is terminating and empty, remove it. */
static void ns_maybe_finalize(struct apiserver *a, const char *ns)
{
        const struct scheme_resource *nsr = scheme_lookup("", "v1", "namespaces");
        _cleanup_(json_decrefp) json_t *obj = NULL;
        int64_t rev;
        if (load(a, nsr, NULL, ns, &obj, &rev, NULL) < 0 ||
            !kjson_str(obj, "metadata.deletionTimestamp"))
                return;
        size_t n; /* custom resources too */
        _cleanup_free_ const struct scheme_resource **rs = scheme_all_resources(&n, true);
        for (size_t i = 0; i < n; i++) {
                if (!rs[i]->namespaced)
                        continue;
                _cleanup_free_ char *prefix = scheme_prefix(rs[i], ns);
                int64_t count = 0;
                if (store_count(a->store, prefix, &count, NULL) < 0 || count > 0)
                        return;
        }
        _cleanup_free_ char *key = scheme_key(nsr, NULL, ns);
        struct error err = {0};
        if (store_delete(a->store, key, 0, NULL, &err) < 0 && err.code != -ENOENT)
                log_warn(COMP, "removing namespace %s: %s", ns, error_msg(&err));
}

/* ---- writes ---- */

/* Create key: an Event gets a lease of the event TTL (kube-apiserver's --event-ttl), so that the
 * store deletes it when the lease ends; anything else lives until deleted. */
static int create_in_store(struct apiserver *a, const struct scheme_resource *r, const char *key,
                           const char *val, size_t len, int64_t *ret_rev, struct error *err)
{
        if (!strcmp(r->resource, "events") && (!*r->group || !strcmp(r->group, "events.k8s.io")))
                return store_create_ttl(a->store, key, val, len, a->event_ttl_s, ret_rev, err);
        return store_create(a->store, key, val, len, ret_rev, err);
}

/* Store obj at key, either creating or updating (expect_rev). On success *ret = stored object
 * with its new resourceVersion. Respond on failure. */
static int write_obj(struct rq *q, const struct scheme_resource *r, const char *ns,
                     const char *name, json_t *obj, bool create, int64_t expect_rev, json_t **ret)
{
        _cleanup_free_ char *key = scheme_key(r, ns, name);
        size_t len;
        _cleanup_free_ char *val = apiserver_obj_encode(obj, &len);
        struct error err = {0};
        int64_t rev = 0;
        int rc = create ? create_in_store(q->a, r, key, val, len, &rev, &err)
                        : store_update(q->a->store, key, val, len, expect_rev, &rev, &err);
        if (rc == -EEXIST) {
                _cleanup_free_ char *qr = scheme_qualified_resource(r);
                rq_fail(q, -EEXIST, status_details(name, r->group, r->resource),
                        "%s \"%s\" already exists", qr, name);
                return rc;
        }
        if (rc == -ESTALE) {
                fail_conflict(q, r, name, MODIFIED_MSG);
                return rc;
        }
        if (rc == -ENOENT) {
                rq_fail_not_found(q, r, name);
                return rc;
        }
        if (rc < 0) {
                rq_fail_err(q, &err);
                return rc;
        }
        *ret = apiserver_obj_decode(r, val, len, rev);
        return 0;
}

/* Delete an object (graceful for bound pods, finalizers respected). obj = current state with
 * its resourceVersion (rev). grace < 0: not given. *ret = the resulting (or last) state. */
static int delete_obj(struct apiserver *a, const struct scheme_resource *r, const char *ns,
                      const char *name, json_t *obj, int64_t rev, int64_t grace, bool dry,
                      json_t **ret, struct error *err)
{
        _cleanup_free_ char *key = scheme_key(r, ns, name);
        bool has_fin = json_array_size(kjson_get(obj, "metadata.finalizers")) > 0;
        json_t *meta = kjson_obj_ensure(obj, "metadata");
        bool deleting = kjson_str(obj, "metadata.deletionTimestamp") != NULL;
        json_t *upd = NULL;
        if (is_res(r, "pods")) {
                const char *node = kjson_str(obj, "spec.nodeName");
                const char *phase = kjson_str(obj, "status.phase");
                bool terminal = phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
                if (grace < 0)
                        grace = kjson_int(obj, "spec.terminationGracePeriodSeconds", 30);
                if (grace < 0)
                        grace = 0;
                if (!node || !*node || terminal)
                        grace = 0;
                if (grace > 0) {
                        int64_t cur = kjson_int(obj, "metadata.deletionGracePeriodSeconds", -1);
                        if (deleting && cur >= 0 && grace >= cur) {
                                *ret = json_incref(obj);
                                return 0;
                        }
                        char ts[32];
                        rfc3339_now(ts, grace);
                        json_object_set_new(meta, "deletionTimestamp", json_string(ts));
                        json_object_set_new(meta, "deletionGracePeriodSeconds",
                                            json_integer(grace));
                        upd = obj;
                } else if (has_fin) {
                        if (!deleting) {
                                char ts[32];
                                rfc3339_now(ts, 0);
                                json_object_set_new(meta, "deletionTimestamp", json_string(ts));
                        }
                        json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(0));
                        upd = obj;
                }
        } else if (has_fin) {
                if (deleting) {
                        *ret = json_incref(obj);
                        return 0;
                }
                char ts[32];
                rfc3339_now(ts, 0);
                json_object_set_new(meta, "deletionTimestamp", json_string(ts));
                json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(0));
                upd = obj;
        }
        if (dry) {
                *ret = json_incref(obj);
                return 0;
        }
        if (upd) {
                size_t len;
                _cleanup_free_ char *val = apiserver_obj_encode(upd, &len);
                int64_t nrev;
                int rc = store_update(a->store, key, val, len, rev, &nrev, err);
                if (rc < 0)
                        return rc;
                *ret = apiserver_obj_decode(r, val, len, nrev);
                return 0;
        }
        struct store_kv prev = {0};
        int rc = store_delete(a->store, key, rev, &prev, err);
        if (rc < 0)
                return rc;
        *ret = apiserver_obj_decode(r, prev.value, prev.value_len, prev.mod_rev);
        store_kv_clear(&prev);
        if (!*ret)
                *ret = json_incref(obj);
        if (r->namespaced && ns)
                ns_maybe_finalize(a, ns);
        return 0;
}

/* The reply to an update: the object, or its Scale for the scale subresource. */
static void respond_updated(struct rq *q, const json_t *obj)
{
        if (q->sub && !strcmp(q->sub, "scale")) {
                _cleanup_(json_decrefp) json_t *scale =
                        strategy_scale_get(strategy_for(q->res), obj);
                rq_respond_json(q, 200, scale ? scale : obj);
                return;
        }
        rq_respond_json(q, 200, obj);
}

/* Common tail of PUT/PATCH: bookkeeping, validation, write. */
static void finish_update(struct rq *q, json_t *newobj, json_t *old, int64_t old_rev,
                          int64_t expect_rev)
{
        const struct scheme_resource *r = q->res;
        /* The resourceVersion precondition is checked before validation, as Kubernetes does. */
        if (expect_rev && expect_rev != old_rev) {
                fail_conflict(q, r, q->name, MODIFIED_MSG);
                return;
        }
        const struct strategy *strat = strategy_for(r);
        strategy_prepare_update(strat, newobj, old);
        json_t *meta = kjson_obj_ensure(newobj, "metadata");
        json_object_set_new(newobj, "kind", json_string(r->kind));
        json_object_set_new(newobj, "apiVersion", json_string(scheme_api_version(r)));
        if (r->namespaced)
                json_object_set_new(meta, "namespace", json_string(q->ns));
        else
                json_object_del(meta, "namespace");
        if (is_res(r, "namespaces")) {
                const char *phase = kjson_str(old, "status.phase");
                json_object_set_new(kjson_obj_ensure(newobj, "status"), "phase",
                                    json_string(phase ? phase : "Active"));
        }
        if (!q->applied)
                apply_record_update(q, old, newobj);
        _cleanup_(json_decrefp) json_t *causes = json_array();
        validate(r, newobj, causes);
        if (is_res(r, "services")) {
                _cleanup_(json_decrefp) json_t *existing = all_services(q->a);
                services_prepare_update(newobj, old, existing, causes);
        }
        strategy_validate_update(strat, newobj, old, causes);
        if (json_array_size(causes)) {
                fail_invalid(q, r, q->name, causes);
                return;
        }
        /* Same content: no write (Kubernetes skips no-op updates). */
        json_object_set_new(meta, "resourceVersion",
                            json_string(kjson_str(old, "metadata.resourceVersion")));
        if (json_equal(newobj, old)) {
                respond_updated(q, old);
                return;
        }
        if (dry_run(q)) {
                respond_updated(q, newobj);
                return;
        }
        /* Deletion completes once the finalizers are gone. */
        if (kjson_str(newobj, "metadata.deletionTimestamp") &&
            !json_array_size(kjson_get(newobj, "metadata.finalizers")) &&
            /* a namespace also waits for spec.finalizers ("kubernetes": its content) */
            (!is_res(r, "namespaces") || !json_array_size(kjson_get(newobj, "spec.finalizers"))) &&
            (!is_res(r, "pods") ||
             kjson_int(newobj, "metadata.deletionGracePeriodSeconds", 1) == 0)) {
                _cleanup_free_ char *key = scheme_key(r, q->ns, q->name);
                struct store_kv prev = {0};
                struct error err = {0};
                if (store_delete(q->a->store, key, old_rev, &prev, &err) < 0) {
                        if (err.code == -ESTALE)
                                fail_conflict(q, r, q->name, MODIFIED_MSG);
                        else
                                rq_fail_err(q, &err);
                        return;
                }
                json_object_set_new(meta, "resourceVersion",
                                    json_sprintf("%lld", (long long)prev.mod_rev));
                store_kv_clear(&prev);
                respond_updated(q, newobj);
                if (r->namespaced)
                        ns_maybe_finalize(q->a, q->ns);
                return;
        }
        _cleanup_(json_decrefp) json_t *stored = NULL;
        if (write_obj(q, r, q->ns, q->name, newobj, false, old_rev, &stored) < 0)
                return;
        respond_updated(q, stored);
}

static int64_t parse_rv(const char *s, bool *ok)
{
        *ok = true;
        if (!s || !*s)
                return 0;
        char *end;
        long long v = strtoll(s, &end, 10);
        if (*end || v < 0)
                *ok = false;
        return v;
}

/* ---- verbs ---- */

static void do_get(struct rq *q)
{
        _cleanup_(json_decrefp) json_t *obj = NULL;
        if (load_target(q, &obj, NULL) < 0)
                return;
        if (q->sub && !strcmp(q->sub, "log")) {
                logs_proxy(q, obj);
                return;
        }
        if (rq_wants_table(q)) {
                _cleanup_(json_decrefp) json_t *arr = json_pack("[O]", obj);
                const char *inc = query(q, "includeObject");
                _cleanup_(json_decrefp) json_t *t =
                        table_new(q->res, arr,
                                  inc && !strcmp(inc, "Object") ? TABLE_INCLUDE_OBJECT
                                  : inc && !strcmp(inc, "None") ? TABLE_INCLUDE_NONE
                                                                : TABLE_INCLUDE_METADATA,
                                  true, time(NULL));
                json_object_set_new(json_object_get(t, "metadata"), "resourceVersion",
                                    json_string(kjson_str(obj, "metadata.resourceVersion")));
                rq_respond_json(q, 200, t);
                return;
        }
        rq_respond_json(q, 200, obj);
}

/* Parse selectors; responds and returns <0 on error. */
static int parse_selectors(struct rq *q, struct labels_selector **ls,
                           struct labels_field_selector **fs)
{
        struct error err = {0};
        if (labels_selector_parse(query(q, "labelSelector"), ls, &err) < 0) {
                rq_fail(q, -EBADMSG, NULL, "%s", error_msg(&err));
                return -EBADMSG;
        }
        const char *const *fields = strategy_field_paths(strategy_for(q->res));
        if (labels_field_selector_parse(query(q, "fieldSelector"), fs, &err) < 0 ||
            labels_field_selector_check(*fs, fields, &err) < 0) {
                rq_fail(q, -EBADMSG, NULL, "%s", error_msg(&err));
                return -EBADMSG;
        }
        return 0;
}

bool apiserver_obj_matches(const json_t *obj, const struct labels_selector *ls,
                           const struct labels_field_selector *fs);
bool apiserver_obj_matches(const json_t *obj, const struct labels_selector *ls,
                           const struct labels_field_selector *fs)
{
        return labels_selector_matches(ls, kjson_get(obj, "metadata.labels")) &&
               labels_field_selector_matches(fs, obj);
}

char *apiserver_hex_encode(const char *s)
{
        size_t n = strlen(s);
        char *out = xmalloc(2 * n + 1);
        for (size_t i = 0; i < n; i++)
                snprintf(out + 2 * i, 3, "%02x", (unsigned char)s[i]);
        out[2 * n] = 0;
        return out;
}

static char *hex_decode(const char *s)
{
        size_t n = strlen(s);
        if (n % 2 || n > 4096)
                return NULL;
        char *out = xmalloc(n / 2 + 1);
        for (size_t i = 0; i < n / 2; i++) {
                unsigned v;
                if (sscanf(s + 2 * i, "%2x", &v) != 1 || !v) {
                        free(out);
                        return NULL;
                }
                out[i] = (char)v;
        }
        out[n / 2] = 0;
        return out;
}

static void do_list(struct rq *q)
{
        _cleanup_(labels_selector_freep) struct labels_selector *ls = NULL;
        _cleanup_(labels_field_selector_freep) struct labels_field_selector *fs = NULL;
        if (parse_selectors(q, &ls, &fs) < 0)
                return;
        const char *ls_s = query(q, "limit");
        size_t limit = ls_s ? (size_t)strtoull(ls_s, NULL, 10) : 0;
        if (watch_list_cached(q, ls, fs, limit))
                return;
        int64_t at_rev = 0;
        _cleanup_free_ char *start = NULL;
        const char *cont = query(q, "continue");
        if (cont) {
                _cleanup_free_ char *dec = hex_decode(cont);
                char *sp = dec ? strchr(dec, ' ') : NULL;
                if (!sp) {
                        rq_fail(q, -EBADMSG, NULL, "continue key is not valid: invalid token");
                        return;
                }
                *sp = 0;
                at_rev = strtoll(dec, NULL, 10);
                start = xstrdup(sp + 1);
        }
        const char *rvm = query(q, "resourceVersionMatch");
        if (!cont && rvm && !strcmp(rvm, "Exact")) {
                bool ok;
                at_rev = parse_rv(query(q, "resourceVersion"), &ok);
                if (!ok || at_rev <= 0) {
                        rq_fail(q, -EBADMSG, NULL,
                                "resourceVersionMatch: Exact requires a non-zero resourceVersion");
                        return;
                }
        }
        _cleanup_free_ char *prefix = scheme_prefix(q->res, q->ns);
        json_t *items = json_array();
        _cleanup_(json_decrefp) json_t *items_ref = items;
        char *next = NULL;
        _cleanup_free_ char *next_token = NULL;
        int64_t list_rev = 0;
        for (;;) {
                struct store_list l = {0};
                struct error err = {0};
                int r = store_list(q->a->store, prefix, start, limit ? limit + 1 : 0, at_rev, &l,
                                   &err);
                if (r == -ERANGE) {
                        if (cont)
                                rq_fail(q, -ERANGE, NULL,
                                        "The provided continue parameter is too old to display a "
                                        "consistent list result. You can start a new list "
                                        "without the continue parameter.");
                        else
                                rq_fail(q, -ERANGE, NULL, "too old resource version: %lld (%lld)",
                                        (long long)at_rev, (long long)store_revision(q->a->store));
                        return;
                }
                if (r < 0) {
                        rq_fail_err(q, &err);
                        return;
                }
                list_rev = l.rev;
                at_rev = l.rev;
                bool full = false;
                for (size_t i = 0; i < l.n_items; i++) {
                        if (limit && json_array_size(items) == limit) {
                                full = true;
                                break;
                        }
                        json_t *o = apiserver_obj_decode(q->res, l.items[i].value,
                                                         l.items[i].value_len, l.items[i].mod_rev);
                        free(start);
                        start = xstrdup(l.items[i].key);
                        if (o && apiserver_obj_matches(o, ls, fs))
                                json_array_append_new(items, o);
                        else
                                json_decref(o);
                }
                bool more = l.more || full;
                store_list_clear(&l);
                if (full || (limit && json_array_size(items) == limit && more)) {
                        next = xasprintf("%lld %s", (long long)list_rev, start);
                        next_token = apiserver_hex_encode(next);
                        free(next);
                        break;
                }
                if (!more)
                        break;
        }
        char rvbuf[32];
        snprintf(rvbuf, sizeof(rvbuf), "%lld", (long long)list_rev);
        if (rq_wants_table(q)) {
                const char *inc = query(q, "includeObject");
                _cleanup_(json_decrefp) json_t *t =
                        table_new(q->res, items,
                                  inc && !strcmp(inc, "Object") ? TABLE_INCLUDE_OBJECT
                                  : inc && !strcmp(inc, "None") ? TABLE_INCLUDE_NONE
                                                                : TABLE_INCLUDE_METADATA,
                                  true, time(NULL));
                json_t *m = json_object_get(t, "metadata");
                json_object_set_new(m, "resourceVersion", json_string(rvbuf));
                if (next_token)
                        json_object_set_new(m, "continue", json_string(next_token));
                rq_respond_json(q, 200, t);
                return;
        }
        _cleanup_(json_decrefp) json_t *list = json_pack(
                "{s:s,s:s,s:{s:s},s:O}", "kind", q->res->list_kind, "apiVersion",
                scheme_api_version(q->res), "metadata", "resourceVersion", rvbuf, "items", items);
        if (next_token)
                json_object_set_new(json_object_get(list, "metadata"), "continue",
                                    json_string(next_token));
        rq_respond_json(q, 200, list);
}

static void do_create(struct rq *q)
{
        const struct scheme_resource *r = q->res;
        _cleanup_(json_decrefp) json_t *obj = NULL;
        if (read_body(q, &obj) < 0 || check_kind(q, r, obj) < 0 || strict_check(q, r, obj) < 0)
                return;
        json_t *meta = kjson_obj_ensure(obj, "metadata");
        const char *bns = kjson_str(obj, "metadata.namespace");
        if (r->namespaced && bns && *bns && strcmp(bns, q->ns)) {
                rq_fail(q, -EBADMSG, NULL,
                        "the namespace of the provided object does not match the namespace sent "
                        "on the request");
                return;
        }
        if (r->namespaced && ns_check(q, q->ns, true, kjson_str(obj, "metadata.name")) < 0)
                return;
        if (!r->namespaced)
                json_object_del(meta, "namespace");
        json_object_set_new(obj, "kind", json_string(r->kind));
        json_object_set_new(obj, "apiVersion", json_string(scheme_api_version(r)));
        if (is_res(r, "pods") && priority_admit(q, obj) < 0)
                return;
        bool generated =
                !kjson_str(obj, "metadata.name") && kjson_str(obj, "metadata.generateName");
        /* the storage layer refuses a (parseable, non-zero) resourceVersion on create: etcd3
         * store's ErrResourceVersionSetOnCreate, a 500 after validation and dry-run */
        const char *brv = kjson_str(obj, "metadata.resourceVersion");
        char *brv_end = NULL;
        unsigned long long brv_n = brv && *brv ? strtoull(brv, &brv_end, 10) : 0;
        bool rv_set = brv_n && brv_end && !*brv_end && *brv != '-';
        for (int attempt = 0;; attempt++) {
                if (generated)
                        json_object_del(meta, "name");
                prepare_create(r, obj, q->ns);
                if (is_res(r, "pods"))
                        limitrange_admit(q, obj);
                apply_record_update(q, NULL, obj);
                _cleanup_(json_decrefp) json_t *causes = json_array();
                validate(r, obj, causes);
                if (is_res(r, "services") && !json_array_size(causes)) {
                        _cleanup_(json_decrefp) json_t *existing = all_services(q->a);
                        services_prepare_create(obj, existing, causes);
                }
                if (json_array_size(causes)) {
                        fail_invalid(q, r, kjson_str(obj, "metadata.name"), causes);
                        return;
                }
                if (quota_admit(q, r, obj, generated) < 0)
                        return;
                const char *name = kjson_str(obj, "metadata.name");
                if (dry_run(q)) {
                        rq_respond_json(q, 201, obj);
                        return;
                }
                if (rv_set) {
                        rq_fail(q, -EIO, NULL,
                                "resourceVersion should not be set on objects to be created");
                        return;
                }
                _cleanup_(json_decrefp) json_t *stored = NULL;
                _cleanup_free_ char *key = scheme_key(r, q->ns, name);
                size_t len;
                _cleanup_free_ char *val = apiserver_obj_encode(obj, &len);
                struct error err = {0};
                int64_t rev;
                int rc = create_in_store(q->a, r, key, val, len, &rev, &err);
                if (rc == -EEXIST && generated && attempt < 8)
                        continue;
                if (rc == -EEXIST) {
                        _cleanup_free_ char *qr = scheme_qualified_resource(r);
                        rq_fail(q, -EEXIST, status_details(name, r->group, r->resource),
                                "%s \"%s\" already exists", qr, name);
                        return;
                }
                if (rc < 0) {
                        rq_fail_err(q, &err);
                        return;
                }
                stored = apiserver_obj_decode(r, val, len, rev);
                rq_respond_json(q, 201, stored);
                return;
        }
}

/* The object an update writes: through the status subresource only the incoming status
 * (labels, annotations and spec changes are ignored, as in Kubernetes); through the main
 * resource of a kind with a status subresource the incoming object with the stored status.
 * New reference. */
static json_t *split_status(struct rq *q, json_t *incoming, const json_t *old)
{
        if (q->sub && !strcmp(q->sub, "status")) {
                json_t *newobj = json_deep_copy(old);
                json_t *st = json_object_get(incoming, "status");
                json_object_set(newobj, "status", st ? st : json_object());
                return newobj;
        }
        json_t *newobj = json_incref(incoming);
        if (has_status_sub(q->res)) {
                json_t *st = json_object_get(old, "status");
                if (st)
                        json_object_set(newobj, "status", st);
                else
                        json_object_del(newobj, "status");
        }
        return newobj;
}

static void do_update(struct rq *q)
{
        const struct scheme_resource *r = q->res;
        _cleanup_(json_decrefp) json_t *obj = NULL;
        if (read_body(q, &obj) < 0 || check_kind(q, r, obj) < 0 || strict_check(q, r, obj) < 0)
                return;
        const char *bname = kjson_str(obj, "metadata.name");
        if (bname && strcmp(bname, q->name)) {
                rq_fail(q, -EBADMSG, NULL,
                        "the name of the object (%s) does not match the name on the URL (%s)",
                        bname, q->name);
                return;
        }
        const char *bns = kjson_str(obj, "metadata.namespace");
        if (r->namespaced && bns && *bns && strcmp(bns, q->ns)) {
                rq_fail(q, -EBADMSG, NULL,
                        "the namespace of the provided object does not match the namespace sent "
                        "on the request");
                return;
        }
        _cleanup_(json_decrefp) json_t *old = NULL;
        int64_t old_rev;
        if (load_target(q, &old, &old_rev) < 0)
                return;
        bool ok;
        int64_t expect = parse_rv(kjson_str(obj, "metadata.resourceVersion"), &ok);
        if (!ok) {
                rq_fail(q, -EBADMSG, NULL, "invalid resourceVersion");
                return;
        }
        if (r->custom && !expect) {
                /* custom resources allow no unconditional update (the generic store's check,
                 * worded with the resource as the kind and Go's %#v of uint64 0) */
                json_t *causes = json_pack("[{s:s,s:s,s:s}]", "reason", "FieldValueInvalid",
                                           "message",
                                           "Invalid value: 0x0: must be specified for an update",
                                           "field", "metadata.resourceVersion");
                _cleanup_free_ char *qr = scheme_qualified_resource(r);
                _cleanup_free_ char *msg = meta_causes_message(qr, q->name, causes);
                json_t *d = status_details(q->name, r->group, r->resource);
                json_object_set_new(d, "causes", causes);
                rq_fail(q, -EINVAL, d, "%s", msg);
                return;
        }
        json_t *newobj = split_status(q, obj, old);
        finish_update(q, newobj, old, old_rev, expect);
        json_decref(newobj);
}

static void do_patch(struct rq *q)
{
        const struct scheme_resource *r = q->res;
        const char *ct = http_req_header(q->req, "content-type");
        size_t len = 0;
        const char *body = http_req_body(q->req, &len);
        struct error err = {0};
        enum { P_MERGE, P_JSON, P_SMP, P_APPLY } type;
        if (!ct) {
                rq_fail(q, -EMEDIUMTYPE, NULL, "the body of the request was in an unknown format");
                return;
        }
        if (strstr(ct, "application/merge-patch+json"))
                type = P_MERGE;
        else if (strstr(ct, "application/json-patch+json"))
                type = P_JSON;
        else if (strstr(ct, "application/strategic-merge-patch+json"))
                type = P_SMP;
        else if (strstr(ct, "application/apply-patch+yaml"))
                type = P_APPLY;
        else {
                rq_fail(q, -EMEDIUMTYPE, NULL,
                        "the body of the request was in an unknown format - accepted media types "
                        "include: application/json-patch+json, application/merge-patch+json, "
                        "application/apply-patch+yaml, application/strategic-merge-patch+json");
                return;
        }
        if (apply_check_options(q, type == P_APPLY) < 0)
                return;
        if (type == P_SMP && r->custom) { /* no patch strategies without Go types */
                rq_fail(q, -EMEDIUMTYPE, NULL,
                        "the body of the request was in an unknown format - accepted media types "
                        "include: application/json-patch+json, application/merge-patch+json, "
                        "application/apply-patch+yaml");
                return;
        }
        _cleanup_(json_decrefp) json_t *patch = NULL;
        if (!body || !len) {
                rq_fail(q, -EBADMSG, NULL, "the request body is empty");
                return;
        }
        if (len > APISERVER_MAX_BODY) {
                rq_fail(q, -E2BIG, NULL, "Request entity too large: limit is %d",
                        APISERVER_MAX_BODY);
                return;
        }
        int rc = kjson_parse(body, len, 0, &patch, &err);
        if (rc < 0 && type == P_APPLY)
                rc = kyaml_parse_one(body, len, &patch, &err);
        if (rc < 0) {
                rq_fail(q, -EBADMSG, NULL, "error decoding patch: %s", error_msg(&err));
                return;
        }
        _cleanup_(json_decrefp) json_t *old = NULL;
        int64_t old_rev = 0;
        rc = load(q->a, r, q->ns, q->name, &old, &old_rev, &err);
        if (rc == -ENOENT && type == P_APPLY && !q->sub) {
                /* Server-side apply of a new object: create it. */
                if (check_kind(q, r, patch) < 0 || strict_check(q, r, patch) < 0)
                        return;
                /* Re-dispatch through create with the patch as body is not possible (the
                 * body is the request's); do the create inline. */
                json_t *meta = kjson_obj_ensure(patch, "metadata");
                json_object_set_new(meta, "name", json_string(q->name));
                if (r->namespaced && ns_check(q, q->ns, true, q->name) < 0)
                        return;
                json_t *applied = NULL;
                if (apply_patch(q, NULL, patch, &applied) < 0)
                        return;
                json_decref(patch);
                patch = applied;
                json_object_set_new(patch, "kind", json_string(r->kind));
                json_object_set_new(patch, "apiVersion", json_string(scheme_api_version(r)));
                prepare_create(r, patch, q->ns);
                _cleanup_(json_decrefp) json_t *causes = json_array();
                validate(r, patch, causes);
                if (is_res(r, "services") && !json_array_size(causes)) {
                        _cleanup_(json_decrefp) json_t *existing = all_services(q->a);
                        services_prepare_create(patch, existing, causes);
                }
                if (json_array_size(causes)) {
                        fail_invalid(q, r, q->name, causes);
                        return;
                }
                if (dry_run(q)) {
                        rq_respond_json(q, 201, patch);
                        return;
                }
                _cleanup_(json_decrefp) json_t *stored = NULL;
                if (write_obj(q, r, q->ns, q->name, patch, true, 0, &stored) < 0)
                        return;
                rq_respond_json(q, 201, stored);
                return;
        }
        if (rc == -ENOENT) {
                rq_fail_not_found(q, r, q->name);
                return;
        }
        if (rc < 0) {
                rq_fail_err(q, &err);
                return;
        }
        _cleanup_(json_decrefp) json_t *patched = NULL;
        switch (type) {
        case P_MERGE:
                rc = patch_merge(old, patch, &patched, &err);
                break;
        case P_APPLY:
                /* Server-side apply (apply.h): the status only through the status
                 * subresource. */
                if (!q->sub)
                        json_object_del(patch, "status");
                if (apply_patch(q, old, patch, &patched) < 0)
                        return;
                q->applied = true;
                break;
        case P_JSON:
                rc = patch_json(old, patch, &patched, &err);
                break;
        case P_SMP:
                rc = patch_strategic(old, patch, &patched, &err);
                break;
        }
        if (rc < 0) {
                rq_fail(q, rc, NULL, "%s", error_msg(&err));
                return;
        }
        if (check_kind(q, r, patched) < 0 || strict_check(q, r, patched) < 0)
                return;
        /* A resourceVersion in the patch is a precondition. */
        bool ok;
        int64_t expect = parse_rv(kjson_str(patched, "metadata.resourceVersion"), &ok);
        if (!ok) {
                rq_fail(q, -EBADMSG, NULL, "invalid resourceVersion");
                return;
        }
        const char *pn = kjson_str(patched, "metadata.name");
        if (!pn || strcmp(pn, q->name)) {
                rq_fail(q, -EBADMSG, NULL,
                        "the name of the object (%s) does not match the name on the URL (%s)",
                        pn ? pn : "", q->name);
                return;
        }
        json_t *newobj = split_status(q, patched, old);
        if (q->applied) /* through status, split_status kept old's metadata: not its managers */
                apply_keep_managed(newobj, patched);
        finish_update(q, newobj, old, old_rev, expect);
        json_decref(newobj);
}

/* DeleteOptions from the body and the query. Returns <0 if it responded. */
static int delete_options(struct rq *q, json_t **ret_opts, int64_t *ret_grace)
{
        size_t len = 0;
        const char *body = http_req_body(q->req, &len);
        json_t *opts = NULL;
        struct error err = {0};
        const char *ct = http_req_header(q->req, "content-type");
        if (body && len && ct && strstr(ct, "protobuf")) {
                /* client-go's typed clients with ContentType protobuf send a runtime.Unknown */
                int r = protobuf_decode_k8s(body, len, &opts, &err);
                const char *k = r < 0 ? NULL : kjson_str(opts, "kind");
                if (r < 0 || !k || strcmp(k, "DeleteOptions")) {
                        json_decref(opts);
                        rq_fail(q, -EBADMSG, NULL, "error decoding DeleteOptions: %s",
                                r < 0 ? error_msg(&err) : "not a DeleteOptions");
                        return -EBADMSG;
                }
        } else if (body && len) {
                if (kjson_parse(body, len, 0, &opts, &err) < 0 || !json_is_object(opts)) {
                        json_decref(opts);
                        rq_fail(q, -EBADMSG, NULL, "error decoding DeleteOptions: %s",
                                error_msg(&err));
                        return -EBADMSG;
                }
        } else {
                opts = json_object();
        }
        int64_t grace = -1;
        json_t *g = json_object_get(opts, "gracePeriodSeconds");
        if (json_is_integer(g))
                grace = json_integer_value(g);
        const char *gq = query(q, "gracePeriodSeconds");
        if (gq)
                grace = strtoll(gq, NULL, 10);
        *ret_opts = opts;
        *ret_grace = grace;
        return 0;
}

static bool is_dry(struct rq *q, const json_t *opts)
{
        if (dry_run(q))
                return true;
        const json_t *d = json_object_get(opts, "dryRun");
        size_t i;
        json_t *v;
        json_array_foreach(d, i, v)
        {
                if (json_is_string(v) && !strcmp(json_string_value(v), "All"))
                        return true;
        }
        return false;
}

static void delete_namespace(struct rq *q, json_t *obj, int64_t rev, bool dry)
{
        const struct scheme_resource *nsr = q->res;
        for (size_t i = 0; i < ARRAY_SIZE(default_namespaces) - 1; i++) {
                if (!strcmp(q->name, default_namespaces[i])) {
                        rq_fail(q, -EACCES, status_details(q->name, "", "namespaces"),
                                "namespaces \"%s\" is forbidden: this namespace may not be "
                                "deleted",
                                q->name);
                        return;
                }
        }
        if (dry) {
                rq_respond_json(q, 200, obj);
                return;
        }
        struct error err = {0};
        if (!kjson_str(obj, "metadata.deletionTimestamp")) {
                char ts[32];
                rfc3339_now(ts, 0);
                json_object_set_new(kjson_obj_ensure(obj, "metadata"), "deletionTimestamp",
                                    json_string(ts));
                json_object_set_new(kjson_obj_ensure(obj, "status"), "phase",
                                    json_string("Terminating"));
                _cleanup_free_ char *key = scheme_key(nsr, NULL, q->name);
                size_t len;
                _cleanup_free_ char *val = apiserver_obj_encode(obj, &len);
                int64_t nrev;
                if (store_update(q->a->store, key, val, len, rev, &nrev, &err) < 0) {
                        rq_fail_err(q, &err);
                        return;
                }
                json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
                                    json_sprintf("%lld", (long long)nrev));
        }
        /* Delete the contents (pods gracefully), then the namespace once empty. */
        size_t n; /* custom resources too */
        _cleanup_free_ const struct scheme_resource **rs = scheme_all_resources(&n, true);
        for (size_t i = 0; i < n; i++) {
                if (!rs[i]->namespaced)
                        continue;
                _cleanup_free_ char *prefix = scheme_prefix(rs[i], q->name);
                struct store_list l = {0};
                if (store_list(q->a->store, prefix, NULL, 0, 0, &l, &err) < 0)
                        continue;
                for (size_t j = 0; j < l.n_items; j++) {
                        json_t *o = apiserver_obj_decode(rs[i], l.items[j].value,
                                                         l.items[j].value_len, l.items[j].mod_rev);
                        if (!o)
                                continue;
                        json_t *res = NULL;
                        const char *name = kjson_str(o, "metadata.name");
                        if (name && delete_obj(q->a, rs[i], q->name, name, o, l.items[j].mod_rev,
                                               -1, false, &res, &err) < 0)
                                log_warn(COMP, "deleting %s in namespace %s: %s", l.items[j].key,
                                         q->name, error_msg(&err));
                        json_decref(res);
                        json_decref(o);
                }
                store_list_clear(&l);
        }
        ns_maybe_finalize(q->a, q->name);
        rq_respond_json(q, 200, obj);
}

/* DeleteOptions.propagationPolicy (or the query parameter, or the older orphanDependents) as
 * the generic registry does: Orphan and Foreground add the "orphan" / "foregroundDeletion"
 * finalizer (the garbage collector, src/controllers/gc.c, finishes them), Background drops
 * both; unset keeps what the object has. Only for objects not yet being deleted. */
static int gc_finalizers(struct rq *q, json_t *obj, const json_t *opts)
{
        const char *pol = kjson_str(opts, "propagationPolicy");
        if (!pol)
                pol = query(q, "propagationPolicy");
        json_t *od = json_object_get(opts, "orphanDependents");
        if (!pol && json_is_boolean(od))
                pol = json_is_true(od) ? "Orphan" : "Background";
        if (!pol || kjson_get(obj, "metadata.deletionTimestamp"))
                return 0;
        const char *add = NULL;
        if (!strcmp(pol, "Orphan"))
                add = "orphan";
        else if (!strcmp(pol, "Foreground"))
                add = "foregroundDeletion";
        else if (strcmp(pol, "Background")) {
                rq_fail(q, -EINVAL, NULL,
                        "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported "
                        "value: \"%s\": supported values: \"Foreground\", \"Background\", "
                        "\"Orphan\", \"nil\"",
                        pol);
                return -EINVAL;
        }
        json_t *meta = kjson_obj_ensure(obj, "metadata");
        json_t *fins = json_array();
        json_t *f;
        size_t i;
        json_array_foreach(json_object_get(meta, "finalizers"), i, f)
        {
                const char *s = json_string_value(f);
                if (s && (!strcmp(s, "orphan") || !strcmp(s, "foregroundDeletion")))
                        continue;
                json_array_append(fins, f);
        }
        if (add)
                json_array_append_new(fins, json_string(add));
        if (json_array_size(fins))
                json_object_set_new(meta, "finalizers", fins);
        else {
                json_decref(fins);
                json_object_del(meta, "finalizers");
        }
        return 0;
}

static void do_delete(struct rq *q)
{
        const struct scheme_resource *r = q->res;
        _cleanup_(json_decrefp) json_t *opts = NULL;
        int64_t grace;
        if (delete_options(q, &opts, &grace) < 0)
                return;
        _cleanup_(json_decrefp) json_t *obj = NULL;
        int64_t rev;
        if (load_target(q, &obj, &rev) < 0)
                return;
        struct error err = {0};
        int rc;
        const char *puid = kjson_str(opts, "preconditions.uid");
        const char *prv = kjson_str(opts, "preconditions.resourceVersion");
        const char *ouid = kjson_str(obj, "metadata.uid");
        const char *orv = kjson_str(obj, "metadata.resourceVersion");
        if (puid && strcmp(puid, ouid ? ouid : "")) {
                char why[256];
                snprintf(why, sizeof(why),
                         "Precondition failed: UID in precondition: %s, UID in object meta: %s",
                         puid, ouid ? ouid : "");
                fail_conflict(q, r, q->name, why);
                return;
        }
        if (prv && strcmp(prv, orv ? orv : "")) {
                char why[256];
                snprintf(why, sizeof(why),
                         "Precondition failed: ResourceVersion in precondition: %s, "
                         "ResourceVersion in object meta: %s",
                         prv, orv ? orv : "");
                fail_conflict(q, r, q->name, why);
                return;
        }
        if (is_res(r, "namespaces")) {
                delete_namespace(q, obj, rev, is_dry(q, opts));
                return;
        }
        if (gc_finalizers(q, obj, opts) < 0)
                return;
        if (is_crd_kind(r) && !kjson_get(obj, "metadata.deletionTimestamp")) {
                /* the CRD's REST Delete: the cleanup finalizer first (crdsync deletes the
                 * custom resources, then removes it) */
                json_t *fins = kjson_get(obj, "metadata.finalizers");
                if (!json_is_array(fins)) {
                        fins = json_array();
                        json_object_set_new(kjson_obj_ensure(obj, "metadata"), "finalizers", fins);
                }
                json_array_append_new(fins, json_string(CRD_FINALIZER));
                char ts[32];
                rfc3339_now(ts, 0);
                crd_status_terminating(obj, ts);
        }
        _cleanup_(json_decrefp) json_t *res = NULL;
        rc = delete_obj(q->a, r, q->ns, q->name, obj, rev, grace, is_dry(q, opts), &res, &err);
        if (rc == -ESTALE) {
                fail_conflict(q, r, q->name, MODIFIED_MSG);
                return;
        }
        if (rc == -ENOENT) {
                rq_fail_not_found(q, r, q->name);
                return;
        }
        if (rc < 0) {
                rq_fail_err(q, &err);
                return;
        }
        rq_respond_json(q, 200, res);
}

static void do_delete_collection(struct rq *q)
{
        const struct scheme_resource *r = q->res;
        _cleanup_(labels_selector_freep) struct labels_selector *ls = NULL;
        _cleanup_(labels_field_selector_freep) struct labels_field_selector *fs = NULL;
        if (parse_selectors(q, &ls, &fs) < 0)
                return;
        _cleanup_(json_decrefp) json_t *opts = NULL;
        int64_t grace;
        if (delete_options(q, &opts, &grace) < 0)
                return;
        _cleanup_free_ char *prefix = scheme_prefix(r, q->ns);
        struct store_list l = {0};
        struct error err = {0};
        if (store_list(q->a->store, prefix, NULL, 0, 0, &l, &err) < 0) {
                rq_fail_err(q, &err);
                return;
        }
        _cleanup_(json_decrefp) json_t *items = json_array();
        for (size_t i = 0; i < l.n_items; i++) {
                json_t *o = apiserver_obj_decode(r, l.items[i].value, l.items[i].value_len,
                                                 l.items[i].mod_rev);
                if (!o)
                        continue;
                if (apiserver_obj_matches(o, ls, fs) && !is_res(r, "namespaces")) {
                        json_t *res = NULL;
                        const char *ns = kjson_str(o, "metadata.namespace");
                        _cleanup_free_ char *name = xstrdup(kjson_str(o, "metadata.name"));
                        if (delete_obj(q->a, r, ns, name, o, l.items[i].mod_rev, grace,
                                       is_dry(q, opts), &res, &err) == 0)
                                json_array_append_new(items, res);
                }
                json_decref(o);
        }
        store_list_clear(&l);
        _cleanup_(json_decrefp) json_t *list =
                json_pack("{s:s,s:s,s:{s:s},s:O}", "kind", r->list_kind, "apiVersion",
                          scheme_api_version(r), "metadata", "resourceVersion", "", "items", items);
        rq_respond_json(q, 200, list);
}

static void do_binding(struct rq *q)
{
        _cleanup_(json_decrefp) json_t *b = NULL;
        if (read_body(q, &b) < 0)
                return;
        const char *node = kjson_str(b, "target.name");
        const struct scheme_resource *r = q->res;
        if (!node || !*node) {
                _cleanup_(json_decrefp) json_t *causes = json_array();
                meta_cause_add(causes, "FieldValueRequired", "target.name", NULL, "");
                fail_invalid(q, r, q->name, causes);
                return;
        }
        _cleanup_(json_decrefp) json_t *pod = NULL;
        int64_t rev;
        if (load_target(q, &pod, &rev) < 0)
                return;
        char why[512];
        if (kjson_str(pod, "metadata.deletionTimestamp")) {
                snprintf(why, sizeof(why), "pod %s is being deleted, cannot be assigned to a host",
                         q->name);
                fail_conflict(q, r, "", why);
                return;
        }
        const char *cur = kjson_str(pod, "spec.nodeName");
        if (cur && *cur) {
                snprintf(why, sizeof(why), "pod %s is already assigned to node \"%s\"", q->name,
                         cur);
                rq_fail(q, -ESTALE, status_details(q->name, r->group, "pods/binding"),
                        "Operation cannot be fulfilled on pods/binding \"%s\": %s", q->name, why);
                return;
        }
        json_object_set_new(kjson_obj_ensure(pod, "spec"), "nodeName", json_string(node));
        json_t *status = kjson_obj_ensure(pod, "status");
        json_t *conds = json_object_get(status, "conditions");
        if (!json_is_array(conds)) {
                conds = json_array();
                json_object_set_new(status, "conditions", conds);
        }
        char ts[32];
        rfc3339_now(ts, 0);
        json_t *cond = json_pack("{s:s,s:s,s:n,s:s}", "type", "PodScheduled", "status", "True",
                                 "lastProbeTime", "lastTransitionTime", ts);
        size_t i;
        json_t *c;
        bool replaced = false;
        json_array_foreach(conds, i, c)
        {
                if (!strcmp(kjson_str(c, "type") ? kjson_str(c, "type") : "", "PodScheduled")) {
                        json_array_set(conds, i, cond);
                        replaced = true;
                        break;
                }
        }
        if (!replaced)
                json_array_append(conds, cond);
        json_decref(cond);
        if (!dry_run(q)) {
                _cleanup_(json_decrefp) json_t *stored = NULL;
                if (write_obj(q, r, q->ns, q->name, pod, false, rev, &stored) < 0)
                        return;
        }
        _cleanup_(json_decrefp) json_t *st = status_success(NULL);
        rq_respond_json(q, 201, st);
}

/* POST pods/NAME/eviction (policy/v1 Eviction): the PDB check (eviction.c), then the pod's
 * delete with the Eviction's deleteOptions and the DisruptionTarget condition (reason
 * EvictionByEvictionAPI) as kube-apiserver adds it; 201 Status Success. */
static void do_eviction(struct rq *q)
{
        _cleanup_(json_decrefp) json_t *ev = NULL;
        if (read_body(q, &ev) < 0)
                return;
        const char *en = kjson_str(ev, "metadata.name");
        if (en && *en && strcmp(en, q->name)) {
                rq_fail(q, -EBADMSG, NULL, "name in URL does not match name in Eviction object");
                return;
        }
        json_t *opts = json_object_get(ev, "deleteOptions");
        if (!json_is_object(opts))
                opts = NULL;
        bool dry = is_dry(q, opts);
        _cleanup_(json_decrefp) json_t *pod = NULL;
        int64_t rev;
        if (load_target(q, &pod, &rev) < 0)
                return;
        const char *puid = kjson_str(opts, "preconditions.uid");
        if (puid && strcmp(puid, kjson_str(pod, "metadata.uid") ?: "")) {
                char why[256];
                snprintf(why, sizeof(why),
                         "Precondition failed: UID in precondition: %s, UID in object meta: %s",
                         puid, kjson_str(pod, "metadata.uid") ?: "");
                fail_conflict(q, q->res, q->name, why);
                return;
        }
        bool precond;
        if (apiserver_eviction_admit(q, pod, dry, &precond) < 0)
                return;
        int64_t grace = -1;
        json_t *g = json_object_get(opts, "gracePeriodSeconds");
        if (json_is_integer(g))
                grace = json_integer_value(g);
        const char *ph = kjson_str(pod, "status.phase") ?: "";
        if (strcmp(ph, "Succeeded") && strcmp(ph, "Failed") &&
            !kjson_get(pod, "metadata.deletionTimestamp")) {
                json_t *st = kjson_obj_ensure(pod, "status");
                json_t *conds = json_object_get(st, "conditions");
                if (!json_is_array(conds)) {
                        conds = json_array();
                        json_object_set_new(st, "conditions", conds);
                }
                char ts[32];
                rfc3339_now(ts, 0);
                json_t *c;
                size_t i;
                json_array_foreach(conds, i, c)
                {
                        if (!strcmp(kjson_str(c, "type") ?: "", "DisruptionTarget")) {
                                json_array_remove(conds, i);
                                break;
                        }
                }
                json_array_append_new(conds,
                                      json_pack("{s:s,s:s,s:n,s:s,s:s,s:s}", "type",
                                                "DisruptionTarget", "status", "True",
                                                "lastProbeTime", "lastTransitionTime", ts, "reason",
                                                "EvictionByEvictionAPI", "message",
                                                "Eviction API: evicting"));
        }
        (void)precond; /* the delete below is always guarded by the pod's resourceVersion */
        struct error err = {0};
        _cleanup_(json_decrefp) json_t *res = NULL;
        int rc = delete_obj(q->a, q->res, q->ns, q->name, pod, rev, grace, dry, &res, &err);
        if (rc == -ESTALE) {
                fail_conflict(q, q->res, q->name, MODIFIED_MSG);
                return;
        }
        if (rc == -ENOENT) {
                rq_fail_not_found(q, q->res, q->name);
                return;
        }
        if (rc < 0) {
                rq_fail_err(q, &err);
                return;
        }
        _cleanup_(json_decrefp) json_t *st = status_success(NULL);
        rq_respond_json(q, 201, st);
}

static void not_found_sub(struct rq *q)
{
        rq_fail(q, -ENOENT, json_object(), "the server could not find the requested resource");
}

/* The scale subresource (autoscaling/v1 Scale): GET, PUT, and PATCH of the Scale (kubectl scale
 * sends a merge patch); the new spec.replicas is written through the normal update path. */
static void do_scale(struct rq *q)
{
        const struct scheme_resource *r = q->res;
        const struct strategy *strat = strategy_for(r);
        bool get = !strcmp(q->method, "GET") || !strcmp(q->method, "HEAD");
        bool put = !strcmp(q->method, "PUT");
        if (!get && !put && strcmp(q->method, "PATCH")) {
                rq_fail(q, -EOPNOTSUPP, json_object(),
                        "the server does not allow this method on the requested resource");
                return;
        }
        _cleanup_(json_decrefp) json_t *obj = NULL;
        int64_t rev;
        if (load_target(q, &obj, &rev) < 0)
                return;
        struct error err = {0};
        int rc;
        _cleanup_(json_decrefp) json_t *cur = strategy_scale_get(strat, obj);
        if (!cur) {
                not_found_sub(q);
                return;
        }
        if (get) {
                rq_respond_json(q, 200, cur);
                return;
        }
        _cleanup_(json_decrefp) json_t *scale = NULL;
        if (put) {
                if (read_body(q, &scale) < 0)
                        return;
        } else {
                const char *ct = http_req_header(q->req, "content-type");
                size_t len = 0;
                const char *body = http_req_body(q->req, &len);
                _cleanup_(json_decrefp) json_t *patch = NULL;
                if (!ct || (!strstr(ct, "merge-patch") && !strstr(ct, "json-patch") &&
                            !strstr(ct, "strategic-merge-patch"))) {
                        rq_fail(q, -EMEDIUMTYPE, NULL,
                                "the body of the request was in an unknown format - accepted "
                                "media types include: application/json-patch+json, "
                                "application/merge-patch+json, "
                                "application/strategic-merge-patch+json");
                        return;
                }
                if (!body || !len || len > APISERVER_MAX_BODY ||
                    kjson_parse(body, len, 0, &patch, &err) < 0) {
                        rq_fail(q, -EBADMSG, NULL, "error decoding patch: %s",
                                body && len ? error_msg(&err) : "the request body is empty");
                        return;
                }
                if (strstr(ct, "json-patch"))
                        rc = patch_json(cur, patch, &scale, &err);
                else if (strstr(ct, "strategic"))
                        rc = patch_strategic(cur, patch, &scale, &err);
                else
                        rc = patch_merge(cur, patch, &scale, &err);
                if (rc < 0) {
                        rq_fail(q, rc, NULL, "%s", error_msg(&err));
                        return;
                }
        }
        if (!json_is_object(scale)) {
                rq_fail(q, -EBADMSG, NULL, "the body of the request must be a JSON object");
                return;
        }
        bool ok;
        int64_t expect = parse_rv(kjson_str(scale, "metadata.resourceVersion"), &ok);
        if (!ok) {
                rq_fail(q, -EBADMSG, NULL, "invalid resourceVersion");
                return;
        }
        _cleanup_(json_decrefp) json_t *causes = json_array();
        _cleanup_(json_decrefp) json_t *newobj = strategy_scale_apply(strat, obj, scale, causes);
        if (!newobj) {
                _cleanup_free_ char *msg =
                        meta_causes_message("Scale.autoscaling", q->name, causes);
                json_t *d = status_details(q->name, "autoscaling", "Scale");
                json_object_set(d, "causes", causes);
                rq_fail(q, -EINVAL, d, "%s", msg);
                return;
        }
        finish_update(q, newobj, obj, rev, expect);
}

void handlers_resource(struct rq *q)
{
        const char *m = q->method;
        const struct scheme_resource *r = q->res;
        const char *verb = NULL;
        bool get = !strcmp(m, "GET") || !strcmp(m, "HEAD");
        if (q->sub && !strcmp(q->sub, "scale")) {
                do_scale(q);
                return;
        }
        if (q->sub && !strcmp(q->sub, "binding")) {
                if (strcmp(m, "POST"))
                        goto not_allowed;
                do_binding(q);
                return;
        }
        if (q->sub && !strcmp(q->sub, "eviction")) {
                if (strcmp(m, "POST"))
                        goto not_allowed;
                do_eviction(q);
                return;
        }
        if (q->sub && !strcmp(q->sub, "log") && !get)
                goto not_allowed;
        if (q->sub && (!strcmp(q->sub, "exec") || !strcmp(q->sub, "attach") ||
                       !strcmp(q->sub, "portforward"))) {
                if (!get && strcmp(m, "POST"))
                        goto not_allowed;
                proxy_stream(q);
                return;
        }
        if (!q->name) {
                if (get) {
                        if (apiserver_parse_bool(http_req_query(q->req, "watch"))) {
                                verb = "watch";
                                if (r->namespaced && q->ns) {
                                        /* Watching a missing namespace is fine (empty). */
                                }
                                watch_start(q, query(q, "labelSelector"),
                                            query(q, "fieldSelector"));
                                return;
                        }
                        do_list(q);
                        return;
                }
                if (!strcmp(m, "POST")) {
                        do_create(q);
                        return;
                }
                if (!strcmp(m, "DELETE")) {
                        do_delete_collection(q);
                        return;
                }
                goto not_allowed;
        }
        if (get) {
                do_get(q);
                return;
        }
        if (!strcmp(m, "PUT")) {
                do_update(q);
                return;
        }
        if (!strcmp(m, "PATCH")) {
                do_patch(q);
                return;
        }
        if (!strcmp(m, "DELETE") && !q->sub) {
                do_delete(q);
                return;
        }
not_allowed:
        (void)verb;
        rq_fail(q, -EOPNOTSUPP, json_object(),
                "the server does not allow this method on the requested resource");
}
