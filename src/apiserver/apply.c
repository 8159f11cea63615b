/* apply.c — server-side apply and managedFields for API writes (see apply.h). */
#include "apiserver/apply.h"

#include <time.h>

#include "api/crd.h"
#include "api/managedfields.h"
#include "apiserver/apiserver-internal.h"
#include "apiserver/patch.h"
#include "common/kjson.h"
#include "common/log.h"

#define COMP "apiserver"

static bool ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && !strcmp(s + n - m, suffix);
}

/* The x-kubernetes-list-type / -list-map-keys of k8s.io/api's OpenAPI: lists with a patch
 * merge key (patch.h) are maps keyed by it, except where the list map keys are more than the
 * merge key (ports by port and protocol, topologySpreadConstraints by key and when); finalizers
 * are a set; everything else is atomic. */
static void builtin_list(const struct fieldset_schema *s, const char *path, const char *field,
                         const json_t *sample, struct fieldset_list_info *ret)
{
        if (!strcmp(field, "finalizers")) {
                ret->type = FIELDSET_LIST_SET;
                return;
        }
        if (!strcmp(field, "ports")) {
                if (json_object_get(sample, "containerPort") ||
                    ends_with(path, "ontainers.ports")) {
                        ret->type = FIELDSET_LIST_MAP;
                        ret->keys[0] = "containerPort";
                        ret->keys[1] = "protocol";
                        ret->defaults[1] = "\"TCP\"";
                } else if (!strcmp(path, ".spec.ports") && s->userdata &&
                           !strcmp(((const struct scheme_resource *)s->userdata)->resource,
                                   "services")) {
                        ret->type = FIELDSET_LIST_MAP;
                        ret->keys[0] = "port";
                        ret->keys[1] = "protocol";
                        ret->defaults[1] = "\"TCP\"";
                }
                return;
        }
        if (!strcmp(field, "topologySpreadConstraints")) {
                ret->type = FIELDSET_LIST_MAP;
                ret->keys[0] = "topologyKey";
                ret->keys[1] = "whenUnsatisfiable";
                return;
        }
        const char *key = patch_merge_key(field, sample);
        if (key) {
                ret->type = FIELDSET_LIST_MAP;
                ret->keys[0] = key;
        }
}

/* structType=atomic / mapType=atomic objects: label selectors, selector maps, NodeSelector. */
static bool builtin_atomic(const struct fieldset_schema *s, const char *path, const char *field)
{
        static const char *const atomic[] = {"selector",     "podSelector",   "namespaceSelector",
                                             "nodeSelector", "labelSelector", "roleRef"};
        for (size_t i = 0; i < ARRAY_SIZE(atomic); i++)
                if (!strcmp(field, atomic[i]))
                        return true;
        return ends_with(path, ".nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
}

/* The fields of k8s.io/api that a zero typed object already has: non-pointer structs
 * (ObjectMeta, specs, templates, strategies, ResourceRequirements) and fields without
 * omitempty (PodSpec.containers is null there): never "added" themselves. */
static bool builtin_value_struct(const struct fieldset_schema *s, const char *path,
                                 const char *field)
{
        static const char *const value[] = {
                "metadata",         "spec",           "status",    "template",
                "strategy",         "updateStrategy", "resources", "jobTemplate",
                "roleRef",          "containers", /* PodSpec.containers has no omitempty */
                "creationTimestamp"               /* null in a zero ObjectMeta (templates) */
        };
        for (size_t i = 0; i < ARRAY_SIZE(value); i++)
                if (!strcmp(field, value[i]))
                        return true;
        return false;
}

/* The node of a custom resource's structural schema for a dotted field path (array levels
 * are crossed through items, maps through additionalProperties), or NULL. */
static const json_t *crd_node(const json_t *schema, const char *path)
{
        const json_t *cur = schema;
        const char *p = path;
        while (cur && *p) {
                if (*p == '.')
                        p++;
                size_t n = strcspn(p, ".");
                char name[256];
                if (n >= sizeof(name))
                        return NULL;
                memcpy(name, p, n);
                name[n] = 0;
                p += n;
                for (int i = 0; i < 8 && json_is_object(json_object_get(cur, "items")); i++)
                        cur = json_object_get(cur, "items");
                const json_t *next = json_object_get(json_object_get(cur, "properties"), name);
                if (!next) {
                        next = json_object_get(cur, "additionalProperties");
                        if (!json_is_object(next))
                                next = NULL;
                }
                cur = next;
        }
        return cur;
}

/* x-kubernetes-list-type map (keys from x-kubernetes-list-map-keys, their defaults from the
 * item schema) or set; anything else is atomic. */
static void crd_list(const struct fieldset_schema *s, const char *path, const char *field,
                     const json_t *sample, struct fieldset_list_info *ret)
{
        const json_t *n = crd_node(s->userdata, path);
        const char *t = json_string_value(json_object_get(n, "x-kubernetes-list-type"));
        if (!t)
                return;
        if (!strcmp(t, "set")) {
                ret->type = FIELDSET_LIST_SET;
                return;
        }
        if (strcmp(t, "map"))
                return;
        json_t *keys = json_object_get(n, "x-kubernetes-list-map-keys");
        json_t *props = kjson_get(n, "items.properties");
        size_t i;
        json_t *k;
        json_array_foreach(keys, i, k)
        {
                if (i >= FIELDSET_MAX_KEYS - 1 || !json_is_string(k))
                        return;
                ret->keys[i] = json_string_value(k);
                json_t *def = json_object_get(json_object_get(props, ret->keys[i]), "default");
                if (def) {
                        _cleanup_free_ char *d = json_dumps(def, JSON_ENCODE_ANY | JSON_COMPACT);
                        if (d && strlen(d) < sizeof(ret->buf[i])) {
                                memcpy(ret->buf[i], d, strlen(d) + 1);
                                ret->defaults[i] = ret->buf[i];
                        }
                }
        }
        if (ret->keys[0])
                ret->type = FIELDSET_LIST_MAP;
}

static bool crd_atomic(const struct fieldset_schema *s, const char *path, const char *field)
{
        const json_t *n = crd_node(s->userdata, path);
        const char *t = json_string_value(json_object_get(n, "x-kubernetes-map-type"));
        return t && !strcmp(t, "atomic");
}

const struct fieldset_schema *apply_schema(const struct scheme_resource *r)
{
        /* The callbacks get the resource (Service ports) or the CRD's schema through
         * userdata, set per call: the schemas are used on the loop thread only. */
        static struct fieldset_schema custom = {.list = crd_list, .atomic = crd_atomic};
        static struct fieldset_schema unknown = {0};
        if (r->custom) {
                custom.userdata = crd_served_schema(r);
                return custom.userdata ? &custom : &unknown;
        }
        static struct fieldset_schema builtin = {.list = builtin_list,
                                                 .atomic = builtin_atomic,
                                                 .value_struct = builtin_value_struct};
        static struct fieldset_schema service = {.list = builtin_list,
                                                 .atomic = builtin_atomic,
                                                 .value_struct = builtin_value_struct};
        if (!*r->group && !strcmp(r->resource, "services")) {
                service.userdata = r;
                return &service;
        }
        return &builtin;
}

/* Fields a write through q never owns: the status of a kind with a status subresource through
 * the main resource, the spec and metadata through status (the strategies' GetResetFields).
 * New set or NULL. */
static json_t *reset_fields(struct rq *q)
{
        if (q->sub && !strcmp(q->sub, "status")) {
                /* the status write keeps the stored spec and metadata (split_status) */
                json_t *s = json_pack("{s:{},s:{}}", "f:spec", "f:metadata");
                return s;
        }
        if (!q->sub && scheme_subresource(q->res, "status"))
                return fieldset_from_strings((const char *const[]){"f:status", NULL});
        return NULL;
}

/* managerOrUserAgent: ?fieldManager=, else the User-Agent up to its first '/'. */
static void manager_name(struct rq *q, char buf[MANAGEDFIELDS_MAX_MANAGER + 1])
{
        const char *m = http_req_query(q->req, "fieldManager");
        if (m && *m) {
                snprintf(buf, MANAGEDFIELDS_MAX_MANAGER + 1, "%s", m);
                return;
        }
        const char *ua = http_req_header(q->req, "user-agent");
        if (!ua)
                ua = "";
        size_t n = strcspn(ua, "/");
        if (n > MANAGEDFIELDS_MAX_MANAGER)
                n = MANAGEDFIELDS_MAX_MANAGER;
        memcpy(buf, ua, n);
        buf[n] = 0;
}

static struct managedfields_op make_op(struct rq *q, const char *manager, const json_t *reset)
{
        return (struct managedfields_op){
                .manager = manager,
                .subresource = q->sub && (!strcmp(q->sub, "status") || !strcmp(q->sub, "scale"))
                                       ? q->sub
                                       : NULL,
                .api_version = scheme_api_version(q->res),
                .schema = apply_schema(q->res),
                .reset = reset,
                .now = time(NULL),
        };
}

void apply_keep_managed(json_t *obj, const json_t *from)
{
        json_t *mf = kjson_get(from, "metadata.managedFields");
        json_t *meta = kjson_obj_ensure(obj, "metadata");
        if (mf)
                json_object_set(meta, "managedFields", mf);
        else
                json_object_del(meta, "managedFields");
}

int apply_check_options(struct rq *q, bool apply)
{
        const char *fm = http_req_query(q->req, "fieldManager");
        _cleanup_(json_decrefp) json_t *causes = json_array();
        _cleanup_free_ char *msg = NULL;
        if (apply && (!fm || !*fm)) {
                json_array_append_new(causes, json_pack("{s:s,s:s,s:s}", "reason",
                                                        "FieldValueRequired", "message",
                                                        "Required value: is required for apply "
                                                        "patch",
                                                        "field", "fieldManager"));
        } else if (!apply && http_req_query(q->req, "force")) {
                json_array_append_new(causes, json_pack("{s:s,s:s,s:s}", "reason",
                                                        "FieldValueForbidden", "message",
                                                        "Forbidden: may not be specified for "
                                                        "non-apply patch",
                                                        "field", "force"));
        }
        if (fm && strlen(fm) > MANAGEDFIELDS_MAX_MANAGER) {
                _cleanup_free_ char *m = xasprintf("Too long: may not be more than %d bytes",
                                                   MANAGEDFIELDS_MAX_MANAGER);
                json_array_append_new(causes,
                                      json_pack("{s:s,s:s,s:s}", "reason", "FieldValueTooLong",
                                                "message", m, "field", "fieldManager"));
        }
        if (!json_array_size(causes))
                return 0;
        /* "PatchOptions.meta.k8s.io "" is invalid: <field>: <message>[, ...]" */
        size_t i;
        json_t *c;
        json_array_foreach(causes, i, c)
        {
                char *m = xasprintf("%s%s%s: %s", msg ? msg : "", msg ? ", " : "",
                                    json_string_value(json_object_get(c, "field")),
                                    json_string_value(json_object_get(c, "message")));
                free(msg);
                msg = m;
        }
        json_t *details = json_pack("{s:s,s:s,s:O}", "group", "meta.k8s.io", "kind", "PatchOptions",
                                    "causes", causes);
        if (json_array_size(causes) > 1) {
                char *m = xasprintf("[%s]", msg);
                free(msg);
                msg = m;
        }
        rq_fail(q, -EINVAL, details, "PatchOptions.meta.k8s.io \"\" is invalid: %s", msg);
        return -EINVAL;
}

void apply_record_update(struct rq *q, const json_t *old, json_t *newobj)
{
        char manager[MANAGEDFIELDS_MAX_MANAGER + 1];
        manager_name(q, manager);
        _cleanup_(json_decrefp) json_t *reset = reset_fields(q);
        struct managedfields_op op = make_op(q, manager, reset);
        struct error err = {0};
        if (managedfields_update(old, newobj, &op, &err) < 0) {
                log_debug(COMP, "managedFields of %s/%s not updated: %s", q->ns ? q->ns : "",
                          q->name ? q->name : "", error_msg(&err));
                json_t *meta = kjson_obj_ensure(newobj, "metadata");
                json_t *keep = kjson_get(old, "metadata.managedFields");
                if (keep)
                        json_object_set(meta, "managedFields", keep);
                else
                        json_object_del(meta, "managedFields");
        }
}

int apply_patch(struct rq *q, const json_t *live, const json_t *config, json_t **ret)
{
        char manager[MANAGEDFIELDS_MAX_MANAGER + 1];
        manager_name(q, manager);
        _cleanup_(json_decrefp) json_t *reset = reset_fields(q);
        struct managedfields_op op = make_op(q, manager, reset);
        bool force = apiserver_parse_bool(http_req_query(q->req, "force"));
        _cleanup_(json_decrefp) json_t *conflicts = NULL;
        struct error err = {0};
        int r = managedfields_apply(live, config, &op, force, ret, &conflicts, &err);
        if (r == -ESTALE) {
                json_t *causes = json_array();
                size_t i;
                json_t *c;
                json_array_foreach(conflicts, i, c)
                {
                        _cleanup_free_ char *msg =
                                xasprintf("conflict with %s",
                                          json_string_value(json_object_get(c, "manager")));
                        json_array_append_new(causes,
                                              json_pack("{s:s,s:s,s:O}", "type",
                                                        "FieldManagerConflict", "message", msg,
                                                        "field", json_object_get(c, "field")));
                }
                rq_fail(q, -ESTALE, json_pack("{s:o}", "causes", causes), "%s", err.msg);
                return r;
        }
        if (r == -EBADMSG) {
                rq_fail(q, -EBADMSG, NULL, "%s", error_msg(&err));
                return r;
        }
        if (r < 0) {
                rq_fail(q, -EINVAL, NULL, "%s", error_msg(&err));
                return r;
        }
        return 0;
}
