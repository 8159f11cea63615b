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
                if (top && (!strcmp(k, "apiVersion") || !strcmp(k, "kind")))
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
        case PB_INTSTR:
                return json_pack("{s:b}", "x-kubernetes-int-or-string", 1);
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
        json_object_set_new(props, "apiVersion", json_pack("{s:s}", "type", "string"));
        json_object_set_new(props, "kind", json_pack("{s:s}", "type", "string"));
        json_object_set_new(
                top, "x-kubernetes-group-version-kind",
                json_pack("[{s:s,s:s,s:s}]", "group", group, "version", version, "kind", kind));
        json_decref(top);
        schema_name(msg, names, ret_name, size);
        return 0;
}
