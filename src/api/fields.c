/* fields.c — unknown-field detection from the struct-tag tables (see fields.h). */
#include "api/fields.h"

#include <stdio.h>

#include "api/protobuf.h"

#define FIELDS_MAX_DEPTH 64
#define FIELDS_PATH_MAX 1024

static const struct protobuf_message *kind_msg(const char *api_version, const char *kind)
{
        for (size_t i = 0; i < protobuf_schema_kinds_count; i++) {
                const struct protobuf_kind *k = &protobuf_schema_kinds[i];
                if (!strcmp(k->kind, kind) &&
                    (!strcmp(k->api_version, api_version) || !strcmp(k->api_version, "*")))
                        return k->msg;
        }
        return NULL;
}

bool fields_known_kind(const char *api_version, const char *kind)
{
        return kind_msg(api_version, kind) != NULL;
}

/* The field named name in msg or in its inline (embedded) members. */
static const struct protobuf_field *find_field(const struct protobuf_message *msg, const char *name,
                                               int depth)
{
        if (depth > 8)
                return NULL;
        for (size_t i = 0; i < msg->n_fields; i++) {
                const struct protobuf_field *f = &msg->fields[i];
                if (f->flags & PB_INLINE) {
                        if (f->msg) {
                                const struct protobuf_field *g =
                                        find_field(f->msg, name, depth + 1);
                                if (g)
                                        return g;
                        }
                        continue;
                }
                if (!strcmp(f->name, name))
                        return f;
        }
        return NULL;
}

struct walk {
        json_t *out;
        size_t max;
};

static void add(struct walk *w, const char *path)
{
        if (json_array_size(w->out) < w->max)
                json_array_append_new(w->out, json_string(path));
}

/* Objects nested with their TypeMeta inline (StatefulSetSpec.volumeClaimTemplates). */
static bool embeds_type_meta(const struct protobuf_message *msg)
{
        return !strcmp(msg->name, "PersistentVolumeClaim");
}

static void walk_object(struct walk *w, const struct protobuf_message *msg, const json_t *obj,
                        const char *prefix, bool top, int depth);

/* A value of field f at path. */
static void walk_value(struct walk *w, const struct protobuf_field *f, const json_t *v,
                       const char *path, int depth)
{
        if (f->type != PB_MESSAGE || !f->msg || json_is_null(v))
                return;
        char p[FIELDS_PATH_MAX];
        if (f->flags & PB_MAP) {
                const char *k;
                json_t *e;
                json_object_foreach((json_t *)v, k, e)
                {
                        if (snprintf(p, sizeof(p), "%s[%s]", path, k) >= (int)sizeof(p))
                                continue;
                        walk_object(w, f->msg, e, p, false, depth + 1);
                }
                return;
        }
        if (f->flags & PB_REPEATED) {
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e)
                {
                        if (snprintf(p, sizeof(p), "%s[%zu]", path, i) >= (int)sizeof(p))
                                continue;
                        walk_object(w, f->msg, e, p, false, depth + 1);
                }
                return;
        }
        walk_object(w, f->msg, v, path, false, depth + 1);
}

static void walk_object(struct walk *w, const struct protobuf_message *msg, const json_t *obj,
                        const char *prefix, bool top, int depth)
{
        if (!json_is_object(obj) || depth > FIELDS_MAX_DEPTH || json_array_size(w->out) >= w->max)
                return;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)obj, k, v)
        {
                char p[FIELDS_PATH_MAX];
                int n = *prefix ? snprintf(p, sizeof(p), "%s.%s", prefix, k)
                                : snprintf(p, sizeof(p), "%s", k);
                if (n >= (int)sizeof(p))
                        continue;
                if ((top || embeds_type_meta(msg)) &&
                    (!strcmp(k, "apiVersion") || !strcmp(k, "kind")))
                        continue;
                const struct protobuf_field *f = find_field(msg, k, 0);
                if (!f) {
                        add(w, p);
                        continue;
                }
                walk_value(w, f, v, p, depth);
        }
}

int fields_unknown(const char *api_version, const char *kind, const json_t *obj, json_t *out,
                   size_t max)
{
        const struct protobuf_message *msg = kind_msg(api_version, kind);
        if (!msg)
                return -ENOENT;
        struct walk w = {out, max};
        walk_object(&w, msg, obj, "", true, 0);
        return 0;
}

/* ---- OpenAPI v3 ---- */

#define SCHEMA_PREFIX "#/components/schemas/"

/* Schema name of a message: its Go type name, numbered when two tables share one. */
static void schema_name(const struct protobuf_message *msg, json_t *names, char *buf, size_t size)
{
        char key[32];
        snprintf(key, sizeof(key), "%p", (const void *)msg);
        const char *have = json_string_value(json_object_get(names, key));
        if (have) {
                snprintf(buf, size, "%s", have);
                return;
        }
        snprintf(buf, size, "%s", msg->name);
        /* taken by another message? */
        for (int n = 2; n < 100; n++) {
                bool taken = false;
                const char *k;
                json_t *v;
                json_object_foreach(names, k, v)
                {
                        taken |= !strcmp(json_string_value(v), buf);
                }
                if (!taken)
                        break;
                snprintf(buf, size, "%s%d", msg->name, n);
        }
        json_object_set_new(names, key, json_string(buf));
}

static json_t *message_schema(const struct protobuf_message *msg, json_t *schemas, json_t *names,
                              int depth);

/* The schema of one value of type f (not repeated/map). */
static json_t *leaf_schema(const struct protobuf_field *f, json_t *schemas, json_t *names,
                           int depth)
{
        switch (f->type) {
        case PB_STRING:
                return json_pack("{s:s}", "type", "string");
        case PB_BYTES:
                return json_pack("{s:s,s:s}", "type", "string", "format", "byte");
        case PB_BOOL:
                return json_pack("{s:s}", "type", "boolean");
        case PB_INT32:
                return json_pack("{s:s,s:s}", "type", "integer", "format", "int32");
        case PB_INT64:
                return json_pack("{s:s,s:s}", "type", "integer", "format", "int64");
        case PB_QUANTITY:
        case PB_INTSTR: {
                /* named schemas, as Kubernetes' (explain prints <Quantity>, <IntOrString>) */
                bool q = f->type == PB_QUANTITY;
                const char *name = q ? "Quantity" : "IntOrString";
                /* no "type", a oneOf as kube-openapi's OpenAPIV3OneOfTypes: kubectl explain
                 * prints a typeless ref by its name */
                if (!json_object_get(schemas, name))
                        json_object_set_new(schemas, name,
                                            q ? json_pack("{s:[{s:s},{s:s}]}", "oneOf", "type",
                                                          "string", "type", "number")
                                              : json_pack("{s:[{s:s},{s:s}],s:s}", "oneOf", "type",
                                                          "integer", "type", "string", "format",
                                                          "int-or-string"));
                return json_pack("{s:[{s:s+}]}", "allOf", "$ref", SCHEMA_PREFIX, name);
        }
        case PB_TIME:
        case PB_MICROTIME:
                return json_pack("{s:s,s:s}", "type", "string", "format", "date-time");
        case PB_DURATION:
                return json_pack("{s:s}", "type", "string");
        case PB_STRLIST:
                return json_pack("{s:s,s:{s:s}}", "type", "array", "items", "type", "string");
        case PB_MESSAGE:
                if (f->msg) {
                        char name[128];
                        schema_name(f->msg, names, name, sizeof(name));
                        json_t *sub = message_schema(f->msg, schemas, names, depth + 1);
                        json_decref(sub);
                        return json_pack("{s:[{s:s+}]}", "allOf", "$ref", SCHEMA_PREFIX, name);
                }
                return json_pack("{s:s}", "type", "object");
        default: /* PB_RAW, PB_SKIP: any JSON */
                return json_pack("{s:s,s:b}", "type", "object",
                                 "x-kubernetes-preserve-unknown-fields", 1);
        }
}

static void add_properties(const struct protobuf_message *msg, json_t *props, json_t *schemas,
                           json_t *names, int depth)
{
        for (size_t i = 0; i < msg->n_fields; i++) {
                const struct protobuf_field *f = &msg->fields[i];
                if (f->flags & PB_INLINE) {
                        if (f->msg && depth < 16)
                                add_properties(f->msg, props, schemas, names, depth + 1);
                        continue;
                }
                json_t *one = leaf_schema(f, schemas, names, depth);
                if (f->flags & PB_MAP)
                        one = json_pack("{s:s,s:o}", "type", "object", "additionalProperties", one);
                else if (f->flags & PB_REPEATED)
                        one = json_pack("{s:s,s:o}", "type", "array", "items", one);
                const char *d = fields_description(msg->name, f->name);
                if (d)
                        json_object_set_new(one, "description", json_string(d));
                json_object_set_new(props, f->name, one);
        }
}

/* Adds msg's schema under its name (once); returns a new reference to it. */
static json_t *message_schema(const struct protobuf_message *msg, json_t *schemas, json_t *names,
                              int depth)
{
        char name[128];
        schema_name(msg, names, name, sizeof(name));
        json_t *have = json_object_get(schemas, name);
        if (have || depth > 32)
                return json_incref(have ? have : json_object());
        json_t *props = json_object();
        json_t *schema = json_pack("{s:s,s:o}", "type", "object", "properties", props);
        const char *d = fields_description(msg->name, NULL);
        if (d)
                json_object_set_new(schema, "description", json_string(d));
        json_object_set(schemas, name, schema); /* before recursing: cycles end here */
        add_properties(msg, props, schemas, names, depth);
        return schema;
}

int fields_openapi_schemas(const char *group, const char *version, const char *kind,
                           json_t *schemas, json_t *names, char *ret_name, size_t size)
{
        char av[128];
        if (*group)
                snprintf(av, sizeof(av), "%s/%s", group, version);
        else
                snprintf(av, sizeof(av), "%s", version);
        const struct protobuf_message *msg = kind_msg(av, kind);
        if (!msg)
                return -ENOENT;
        json_t *top = message_schema(msg, schemas, names, 0);
        json_t *props = json_object_get(top, "properties");
        for (int i = 0; i < 2; i++) {
                const char *f = i ? "kind" : "apiVersion";
                const char *d = fields_description(msg->name, f);
                json_object_set_new(props, f,
                                    d ? json_pack("{s:s,s:s}", "type", "string", "description", d)
                                      : json_pack("{s:s}", "type", "string"));
        }
        json_object_set_new(
                top, "x-kubernetes-group-version-kind",
                json_pack("[{s:s,s:s,s:s}]", "group", group, "version", version, "kind", kind));
        json_decref(top);
        schema_name(msg, names, ret_name, size);
        return 0;
}

/* ---- JSON types ---- */

struct typecheck {
        const char *pkg; /* Go package name of the kind's version ("v1") */
        char *buf;
        size_t size;
        bool found;
};

static const char *json_kind(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "object";
        case JSON_ARRAY:
                return "array";
        case JSON_STRING:
                return "string";
        case JSON_TRUE:
        case JSON_FALSE:
                return "bool";
        default:
                return "number";
        }
}

/* Go type name of one value of f ("int32", "v1.PodSpec"). */
static void go_type(const struct typecheck *t, const struct protobuf_field *f, char *out,
                    size_t size)
{
        switch (f->type) {
        case PB_STRING:
        case PB_DURATION:
                snprintf(out, size, "string");
                break;
        case PB_BYTES:
                snprintf(out, size, "[]uint8");
                break;
        case PB_BOOL:
                snprintf(out, size, "bool");
                break;
        case PB_INT32:
                snprintf(out, size, "int32");
                break;
        case PB_INT64:
                snprintf(out, size, "int64");
                break;
        case PB_STRLIST:
                snprintf(out, size, "[]string");
                break;
        case PB_MESSAGE:
                snprintf(out, size, "%s.%s", t->pkg, f->msg ? f->msg->name : "Object");
                break;
        default:
                snprintf(out, size, "interface {}");
                break;
        }
}

/* Does one value fit f's element type? */
static bool value_fits(const struct protobuf_field *f, const json_t *v)
{
        if (json_is_null(v))
                return true;
        switch (f->type) {
        case PB_STRING:
        case PB_BYTES:
        case PB_DURATION:
        case PB_TIME:
        case PB_MICROTIME:
                return json_is_string(v);
        case PB_BOOL:
                return json_is_boolean(v);
        case PB_INT32:
        case PB_INT64:
                return json_is_integer(v);
        case PB_QUANTITY:
                return json_is_string(v) || json_is_number(v);
        case PB_INTSTR:
                return json_is_string(v) || json_is_integer(v);
        case PB_STRLIST:
                return json_is_array(v);
        case PB_MESSAGE:
                return json_is_object(v);
        default:
                return true;
        }
}

static void type_error(struct typecheck *t, const char *strct, const char *path,
                       const struct protobuf_field *f, const json_t *v, bool whole)
{
        if (t->found)
                return;
        t->found = true;
        char ty[160];
        if (whole && (f->flags & PB_MAP)) {
                char el[128];
                go_type(t, f, el, sizeof(el));
                snprintf(ty, sizeof(ty), "map[string]%s", el);
        } else if (whole && (f->flags & PB_REPEATED)) {
                char el[128];
                go_type(t, f, el, sizeof(el));
                snprintf(ty, sizeof(ty), "[]%s", el);
        } else {
                go_type(t, f, ty, sizeof(ty));
        }
        char num[64] = "";
        if (json_is_real(v))
                snprintf(num, sizeof(num), " %g", json_real_value(v));
        snprintf(t->buf, t->size,
                 "json: cannot unmarshal %s%s into Go struct field %s.%s of type %s", json_kind(v),
                 num, strct, path, ty);
}

static void check_object(struct typecheck *t, const struct protobuf_message *msg, const json_t *obj,
                         const char *prefix, int depth);

static void check_field(struct typecheck *t, const struct protobuf_message *owner,
                        const struct protobuf_field *f, const json_t *v, const char *path,
                        int depth)
{
        if (json_is_null(v) || t->found)
                return;
        if (f->flags & (PB_MAP | PB_REPEATED)) {
                bool map = f->flags & PB_MAP;
                if (map ? !json_is_object(v) : !json_is_array(v)) {
                        type_error(t, owner->name, path, f, v, true);
                        return;
                }
                const char *k;
                json_t *e;
                size_t i;
                if (map) {
                        json_object_foreach((json_t *)v, k, e)
                        {
                                if (!value_fits(f, e))
                                        type_error(t, owner->name, path, f, e, false);
                                else if (f->type == PB_MESSAGE && f->msg)
                                        check_object(t, f->msg, e, path, depth + 1);
                        }
                } else {
                        json_array_foreach(v, i, e)
                        {
                                if (!value_fits(f, e))
                                        type_error(t, owner->name, path, f, e, false);
                                else if (f->type == PB_MESSAGE && f->msg)
                                        check_object(t, f->msg, e, path, depth + 1);
                        }
                }
                return;
        }
        if (!value_fits(f, v)) {
                type_error(t, owner->name, path, f, v, false);
                return;
        }
        if (f->type == PB_MESSAGE && f->msg)
                check_object(t, f->msg, v, path, depth + 1);
}

static void check_object(struct typecheck *t, const struct protobuf_message *msg, const json_t *obj,
                         const char *prefix, int depth)
{
        if (!json_is_object(obj) || depth > FIELDS_MAX_DEPTH || t->found)
                return;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)obj, k, v)
        {
                const struct protobuf_message *owner = msg;
                const struct protobuf_field *f = NULL;
                /* the owner of an inline field is the embedded struct */
                for (size_t i = 0; i < msg->n_fields && !f; i++) {
                        const struct protobuf_field *g = &msg->fields[i];
                        if ((g->flags & PB_INLINE) && g->msg) {
                                f = find_field(g->msg, k, 0);
                                if (f)
                                        owner = g->msg;
                        } else if (!(g->flags & PB_INLINE) && !strcmp(g->name, k)) {
                                f = g;
                        }
                }
                if (!f)
                        continue;
                char p[FIELDS_PATH_MAX];
                int n = *prefix ? snprintf(p, sizeof(p), "%s.%s", prefix, k)
                                : snprintf(p, sizeof(p), "%s", k);
                if (n >= (int)sizeof(p))
                        continue;
                check_field(t, owner, f, v, p, depth);
                if (t->found)
                        return;
        }
}

bool fields_type_error(const char *api_version, const char *kind, const json_t *obj, char *buf,
                       size_t size)
{
        const struct protobuf_message *msg = kind_msg(api_version, kind);
        if (!msg || !json_is_object(obj))
                return false;
        const char *slash = strrchr(api_version, '/');
        struct typecheck t = {slash ? slash + 1 : api_version, buf, size, false};
        check_object(&t, msg, obj, "", 0);
        return t.found;
}

/* ---- pruning ---- */

static int prune_object(const struct protobuf_message *msg, json_t *obj, bool top, int depth);

static int prune_value(const struct protobuf_field *f, json_t *v, int depth)
{
        if (f->type != PB_MESSAGE || !f->msg || json_is_null(v))
                return 0;
        int n = 0;
        if (f->flags & PB_MAP) {
                const char *k;
                json_t *e;
                json_object_foreach(v, k, e)
                {
                        n += prune_object(f->msg, e, false, depth + 1);
                }
        } else if (f->flags & PB_REPEATED) {
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e)
                {
                        n += prune_object(f->msg, e, false, depth + 1);
                }
        } else {
                n += prune_object(f->msg, v, false, depth + 1);
        }
        return n;
}

static int prune_object(const struct protobuf_message *msg, json_t *obj, bool top, int depth)
{
        if (!json_is_object(obj) || depth > FIELDS_MAX_DEPTH)
                return 0;
        int n = 0;
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(obj, tmp, k, v)
        {
                if ((top || embeds_type_meta(msg)) &&
                    (!strcmp(k, "apiVersion") || !strcmp(k, "kind")))
                        continue;
                const struct protobuf_field *f = find_field(msg, k, 0);
                if (!f) {
                        json_object_del(obj, k);
                        n++;
                        continue;
                }
                n += prune_value(f, v, depth);
        }
        return n;
}

int fields_prune(const char *api_version, const char *kind, json_t *obj)
{
        const struct protobuf_message *msg = kind_msg(api_version, kind);
        if (!msg)
                return -ENOENT;
        return prune_object(msg, obj, true, 0);
}
