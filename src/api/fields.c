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
