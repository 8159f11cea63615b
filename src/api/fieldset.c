/* fieldset.c — FieldsV1 sets and the typed walks of server-side apply (see fieldset.h). */
#include "api/fieldset.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/kjson.h"

/* ---- set algebra ---- */

/* A node (the value under a path element) is a member when it is a leaf or carries ".". */
static bool node_member(const json_t *n)
{
        return json_is_object(n) && (json_object_size(n) == 0 || json_object_get(n, "."));
}

/* Does node n have children (keys besides ".")? */
static bool has_children(const json_t *n)
{
        size_t size = json_object_size(n);
        return size > (json_object_get(n, ".") ? 1u : 0u);
}

/* Add pe to *res (created on first use) with the given membership and children (stolen, may be
 * NULL). */
static void put_lazy(json_t **res, const char *pe, bool member, json_t *children)
{
        if (!json_object_size(children)) {
                json_decref(children);
                if (!member)
                        return;
                children = json_object();
        } else if (member) {
                json_object_set_new(children, ".", json_object());
        }
        if (!*res)
                *res = json_object();
        json_object_set_new(*res, pe, children);
}

static void put(json_t *res, const char *pe, bool member, json_t *children)
{
        put_lazy(&res, pe, member, children);
}

/* A copy of a set tree (objects only: no loop checks, unlike json_deep_copy), without the
 * top-level "." when strip_dot. */
static json_t *copy_tree(const json_t *n, bool strip_dot, int depth)
{
        json_t *c = json_object();
        if (depth > FIELDSET_MAX_DEPTH)
                return c;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)n, k, v)
        {
                if (!json_is_object(v) || (strip_dot && !strcmp(k, ".")))
                        continue;
                json_object_set_new_nocheck(c, k, copy_tree(v, false, depth + 1));
        }
        return c;
}

json_t *fieldset_copy(const json_t *s)
{
        return json_is_object(s) ? copy_tree(s, false, 0) : json_object();
}

enum setop { OP_UNION, OP_DIFF, OP_INTER, OP_RDIFF };

/* The children map of a op b, or NULL when empty. */
static json_t *setop(const json_t *a, const json_t *b, enum setop op, int depth)
{
        json_t *res = NULL;
        if (depth > FIELDSET_MAX_DEPTH)
                return NULL;
        if (!has_children(b) && (op != OP_INTER)) {
                /* nothing to take away or add: a as it is */
                return has_children(a) ? copy_tree(a, true, depth) : NULL;
        }
        if (!has_children(a))
                return op == OP_UNION ? setop(b, NULL, OP_UNION, depth) : NULL;
        const char *k;
        json_t *na;
        json_object_foreach((json_t *)a, k, na)
        {
                if (!strcmp(k, ".") || !json_is_object(na))
                        continue;
                json_t *nb = json_object_get(b, k);
                if (nb && !json_is_object(nb))
                        nb = NULL;
                bool ma = node_member(na), mb = nb && node_member(nb);
                switch (op) {
                case OP_UNION:
                        put_lazy(&res, k, ma || mb, setop(na, nb, op, depth + 1));
                        break;
                case OP_DIFF:
                        put_lazy(&res, k, ma && !mb, setop(na, nb, op, depth + 1));
                        break;
                case OP_INTER:
                        if (nb)
                                put_lazy(&res, k, ma && mb, setop(na, nb, op, depth + 1));
                        break;
                case OP_RDIFF:
                        if (!mb)
                                put_lazy(&res, k, ma, setop(na, nb, op, depth + 1));
                        break;
                }
        }
        if (op == OP_UNION) {
                json_t *nb;
                json_object_foreach((json_t *)b, k, nb)
                {
                        if (!strcmp(k, ".") || !json_is_object(nb) || json_object_get(a, k))
                                continue;
                        put_lazy(&res, k, node_member(nb), setop(nb, NULL, OP_UNION, depth + 1));
                }
        }
        return res;
}

static json_t *or_empty(json_t *s)
{
        return s ? s : json_object();
}

json_t *fieldset_union(const json_t *a, const json_t *b)
{
        return or_empty(setop(a, b, OP_UNION, 0));
}

json_t *fieldset_difference(const json_t *a, const json_t *b)
{
        return or_empty(setop(a, b, OP_DIFF, 0));
}

json_t *fieldset_intersection(const json_t *a, const json_t *b)
{
        return or_empty(setop(a, b, OP_INTER, 0));
}

json_t *fieldset_recursive_difference(const json_t *a, const json_t *b)
{
        return or_empty(setop(a, b, OP_RDIFF, 0));
}

bool fieldset_empty(const json_t *s)
{
        if (!json_is_object(s))
                return true;
        const char *k;
        json_t *n;
        json_object_foreach((json_t *)s, k, n)
        {
                if (strcmp(k, "."))
                        return false;
        }
        return true;
}

static const json_t *node_at(const json_t *s, const json_t *path)
{
        const json_t *n = s;
        size_t i;
        json_t *pe;
        json_array_foreach(path, i, pe)
        {
                if (!json_is_object(n) || !json_is_string(pe))
                        return NULL;
                n = json_object_get(n, json_string_value(pe));
        }
        return json_is_object(n) ? n : NULL;
}

bool fieldset_has(const json_t *s, const json_t *path)
{
        return json_array_size(path) && node_member(node_at(s, path));
}

bool fieldset_has_prefix(const json_t *s, const json_t *path)
{
        return node_at(s, path) != NULL;
}

static bool valid_rec(const json_t *s, int depth)
{
        if (!json_is_object(s) || depth > FIELDSET_MAX_DEPTH)
                return false;
        const char *k;
        json_t *n;
        json_object_foreach((json_t *)s, k, n)
        {
                if (!strcmp(k, ".")) {
                        if (!json_is_object(n) || json_object_size(n))
                                return false;
                        continue;
                }
                if (strlen(k) < 2 || k[1] != ':')
                        return false;
                json_t *v = NULL;
                switch (k[0]) {
                case 'f':
                        break;
                case 'k':
                        v = json_loads(k + 2, 0, NULL);
                        if (!json_is_object(v) || !json_object_size(v)) {
                                json_decref(v);
                                return false;
                        }
                        json_decref(v);
                        break;
                case 'v':
                        v = json_loads(k + 2, JSON_DECODE_ANY, NULL);
                        if (!v)
                                return false;
                        json_decref(v);
                        break;
                case 'i':
                        if (!k[2] || strspn(k + 2, "0123456789") != strlen(k + 2))
                                return false;
                        break;
                default:
                        return false;
                }
                if (!valid_rec(n, depth + 1))
                        return false;
        }
        return true;
}

bool fieldset_valid(const json_t *s)
{
        return valid_rec(s, 0);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The element names of s (without "."), sorted. Caller frees the array only. */
static const char **sorted_keys(const json_t *s, size_t *ret_n)
{
        size_t n = 0;
        const char **keys = xmalloc((json_object_size(s) + 1) * sizeof(*keys));
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)s, k, v)
        {
                if (strcmp(k, ".") && json_is_object(v))
                        keys[n++] = k;
        }
        qsort(keys, n, sizeof(*keys), cmp_str);
        *ret_n = n;
        return keys;
}

/* All keys of an object, sorted. Caller frees the array only. */
static const char **sorted_keys_any(const json_t *o, size_t *ret_n)
{
        size_t n = 0;
        const char **keys = xmalloc((json_object_size(o) + 1) * sizeof(*keys));
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)o, k, v) keys[n++] = k;
        qsort(keys, n, sizeof(*keys), cmp_str);
        *ret_n = n;
        return keys;
}

/* As fieldpath.Set.Iterate: the members of a level first, then each child's. */
static void members_rec(const json_t *s, json_t *prefix, json_t *out, int depth)
{
        if (depth > FIELDSET_MAX_DEPTH)
                return;
        size_t n;
        _cleanup_free_ const char **keys = sorted_keys(s, &n);
        for (size_t i = 0; i < n; i++) {
                if (!node_member(json_object_get(s, keys[i])))
                        continue;
                json_t *p = json_copy(prefix);
                json_array_append_new(p, json_string(keys[i]));
                json_array_append_new(out, p);
        }
        for (size_t i = 0; i < n; i++) {
                json_t *c = json_object_get(s, keys[i]);
                if (fieldset_empty(c))
                        continue;
                json_array_append_new(prefix, json_string(keys[i]));
                members_rec(c, prefix, out, depth + 1);
                json_array_remove(prefix, json_array_size(prefix) - 1);
        }
}

json_t *fieldset_members(const json_t *s)
{
        json_t *out = json_array();
        _cleanup_(json_decrefp) json_t *prefix = json_array();
        if (json_is_object(s))
                members_rec(s, prefix, out, 0);
        return out;
}

/* value.ToString: strings quoted, other values as JSON. */
static void append_value(char **buf, size_t *len, size_t *cap, const json_t *v);

static void append(char **buf, size_t *len, size_t *cap, const char *s)
{
        size_t n = strlen(s);
        if (*len + n + 1 > *cap) {
                *cap = (*len + n + 1) * 2;
                *buf = xrealloc(*buf, *cap);
        }
        memcpy(*buf + *len, s, n + 1);
        *len += n;
}

static void append_value(char **buf, size_t *len, size_t *cap, const json_t *v)
{
        _cleanup_free_ char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        append(buf, len, cap, s ? s : "null");
}

char *fieldset_path_string(const json_t *path)
{
        size_t len = 0, cap = 64;
        char *buf = xmalloc(cap);
        buf[0] = 0;
        size_t i;
        json_t *e;
        json_array_foreach(path, i, e)
        {
                const char *pe = json_string_value(e);
                if (!pe || strlen(pe) < 2)
                        continue;
                if (pe[0] == 'f') {
                        append(&buf, &len, &cap, ".");
                        append(&buf, &len, &cap, pe + 2);
                } else if (pe[0] == 'k') {
                        _cleanup_(json_decrefp) json_t *k = json_loads(pe + 2, 0, NULL);
                        append(&buf, &len, &cap, "[");
                        size_t n;
                        _cleanup_free_ const char **keys =
                                json_is_object(k) ? sorted_keys_any(k, &n) : NULL;
                        for (size_t j = 0; keys && j < n; j++) {
                                if (j)
                                        append(&buf, &len, &cap, ",");
                                append(&buf, &len, &cap, keys[j]);
                                append(&buf, &len, &cap, "=");
                                append_value(&buf, &len, &cap, json_object_get(k, keys[j]));
                        }
                        append(&buf, &len, &cap, "]");
                } else if (pe[0] == 'v') {
                        _cleanup_(json_decrefp) json_t *v =
                                json_loads(pe + 2, JSON_DECODE_ANY, NULL);
                        append(&buf, &len, &cap, "[=");
                        append_value(&buf, &len, &cap, v);
                        append(&buf, &len, &cap, "]");
                } else if (pe[0] == 'i') {
                        append(&buf, &len, &cap, "[");
                        append(&buf, &len, &cap, pe + 2);
                        append(&buf, &len, &cap, "]");
                }
        }
        return buf;
}

void fieldset_insert(json_t *s, const json_t *path)
{
        json_t *n = s;
        size_t len = json_array_size(path);
        for (size_t i = 0; i < len; i++) {
                const char *pe = json_string_value(json_array_get(path, i));
                if (!pe || !json_is_object(n))
                        return;
                json_t *c = json_object_get(n, pe);
                bool last = i + 1 == len;
                if (!c) {
                        c = json_object();
                        json_object_set_new(n, pe, c);
                } else if (!last && json_object_size(c) == 0) {
                        json_object_set_new(c, ".", json_object()); /* a member gets children */
                } else if (last && json_object_size(c) && !json_object_get(c, ".")) {
                        json_object_set_new(c, ".", json_object());
                }
                n = c;
        }
}

json_t *fieldset_from_strings(const char *const *elements)
{
        json_t *root = json_object();
        json_t *n = root;
        for (size_t i = 0; elements[i]; i++) {
                json_t *c = json_object();
                json_object_set_new(n, elements[i], c);
                n = c;
        }
        return root;
}

/* ---- typed walks ---- */

struct walk {
        const struct fieldset_schema *s;
        char path[1024];
        size_t plen;
        struct error *err;
        int r;
};

static size_t path_push(struct walk *w, const char *field)
{
        size_t saved = w->plen, n = strlen(field);
        if (saved + n + 2 <= sizeof(w->path)) { /* else the path stays truncated */
                w->path[saved] = '.';
                memcpy(w->path + saved + 1, field, n + 1);
                w->plen += n + 1;
        }
        return saved;
}

static void path_pop(struct walk *w, size_t saved)
{
        w->plen = saved;
        w->path[saved] = 0;
}

static void list_info(const struct walk *w, const char *field, const json_t *sample,
                      struct fieldset_list_info *ret)
{
        memset(ret, 0, sizeof(*ret));
        ret->type = FIELDSET_LIST_ATOMIC;
        if (w->s && w->s->list && field)
                w->s->list(w->s, w->path, field, sample, ret);
        if (ret->type == FIELDSET_LIST_MAP && !ret->keys[0])
                ret->type = FIELDSET_LIST_ATOMIC;
}

static bool is_atomic(const struct walk *w, const char *field)
{
        return w->s && w->s->atomic && field && w->s->atomic(w->s, w->path, field);
}

/* The value of an item's key field, or its default (new reference), or NULL. */
static json_t *key_value(const struct fieldset_list_info *info, const char *key, const json_t *item)
{
        json_t *v = json_object_get(item, key);
        if (v && !json_is_null(v))
                return json_incref(v);
        for (size_t i = 0; i < FIELDSET_MAX_KEYS && info->keys[i]; i++)
                if (!strcmp(info->keys[i], key) && info->defaults[i])
                        return json_loads(info->defaults[i], JSON_DECODE_ANY, NULL);
        return NULL;
}

/* "k:{...}" for item, or NULL when a key is missing. Caller frees. */
static char *key_element(const struct fieldset_list_info *info, const json_t *item)
{
        if (!json_is_object(item))
                return NULL;
        _cleanup_(json_decrefp) json_t *k = json_object();
        for (size_t i = 0; i < FIELDSET_MAX_KEYS && info->keys[i]; i++) {
                json_t *v = key_value(info, info->keys[i], item);
                if (!v)
                        return NULL;
                json_object_set_new(k, info->keys[i], v);
        }
        _cleanup_free_ char *s = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
        return s ? xasprintf("k:%s", s) : NULL;
}

static char *value_element(const json_t *v)
{
        _cleanup_free_ char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        return xasprintf("v:%s", s ? s : "null");
}

/* Does item carry the keys of the "k:" element's object keyobj? */
static bool item_matches(const struct fieldset_list_info *info, const json_t *keyobj,
                         const json_t *item)
{
        if (!json_is_object(item))
                return false;
        const char *k;
        json_t *want;
        json_object_foreach((json_t *)keyobj, k, want)
        {
                _cleanup_(json_decrefp) json_t *have = key_value(info, k, item);
                if (!have || !json_equal(have, want))
                        return false;
        }
        return true;
}

static int from_object(struct walk *w, const json_t *obj, json_t *out, int depth);

static int from_list(struct walk *w, const char *field, const json_t *list, json_t *child,
                     bool *member, int depth)
{
        struct fieldset_list_info info;
        list_info(w, field, json_array_get(list, 0), &info);
        size_t i;
        json_t *it;
        if (info.type == FIELDSET_LIST_SET) {
                json_array_foreach(list, i, it)
                {
                        _cleanup_free_ char *pe = value_element(it);
                        json_object_set_new(child, pe, json_object());
                }
                return 0;
        }
        if (info.type == FIELDSET_LIST_ATOMIC) {
                *member = true;
                return 0;
        }
        json_array_foreach(list, i, it)
        {
                if (!json_is_object(it))
                        return error_set(w->err, -EINVAL,
                                         "%s: associative list item %zu is not an object", w->path,
                                         i);
                _cleanup_free_ char *pe = key_element(&info, it);
                if (!pe)
                        return error_set(w->err, -EINVAL,
                                         "%s: associative list with keys has an element that "
                                         "omits key field \"%s\"",
                                         w->path, info.keys[0]);
                json_t *ic = json_object();
                int r = from_object(w, it, ic, depth + 1);
                if (r < 0) {
                        json_decref(ic);
                        return r;
                }
                put(child, pe, true, ic);
        }
        return 0;
}

static int from_object(struct walk *w, const json_t *obj, json_t *out, int depth)
{
        if (depth > FIELDSET_MAX_DEPTH)
                return error_set(w->err, -EINVAL, "object nested too deeply");
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)obj, k, v)
        {
                char pe[512];
                size_t kn = strlen(k);
                if (kn + 3 > sizeof(pe))
                        return error_set(w->err, -EINVAL, "field name too long");
                pe[0] = 'f';
                pe[1] = ':';
                memcpy(pe + 2, k, kn + 1);
                /* metadata.managedFields is never anyone's field */
                if (depth == 1 && w->plen == 9 && !strcmp(w->path, ".metadata") &&
                    !strcmp(k, "managedFields"))
                        continue;
                if (!json_is_object(v) && !json_is_array(v)) {
                        json_object_set_new(out, pe, json_object()); /* a scalar: a leaf */
                        continue;
                }
                size_t saved = path_push(w, k);
                json_t *child = NULL;
                bool member = false;
                int r = 0;
                if (json_is_object(v)) {
                        if (!json_object_size(v) || is_atomic(w, k)) {
                                member = true;
                        } else {
                                child = json_object();
                                r = from_object(w, v, child, depth + 1);
                        }
                } else {
                        child = json_object();
                        r = from_list(w, k, v, child, &member, depth);
                }
                path_pop(w, saved);
                if (r < 0) {
                        json_decref(child);
                        return r;
                }
                put(out, pe, member, child);
        }
        return 0;
}

int fieldset_from_object(const json_t *obj, const struct fieldset_schema *s, json_t **ret,
                         struct error *err)
{
        struct walk w = {.s = s, .err = err};
        json_t *out = json_object();
        if (json_is_object(obj)) {
                int r = from_object(&w, obj, out, 0);
                if (r < 0) {
                        json_decref(out);
                        return r;
                }
        }
        *ret = out;
        return 0;
}

/* A copy of v without null object members (an applied null removes the field). */
static json_t *copy_nonnull(const json_t *v, int depth)
{
        if (json_is_object(v) && depth < FIELDSET_MAX_DEPTH) {
                json_t *o = json_object();
                const char *k;
                json_t *c;
                json_object_foreach((json_t *)v, k, c)
                {
                        if (!json_is_null(c))
                                json_object_set_new(o, k, copy_nonnull(c, depth + 1));
                }
                return o;
        }
        return json_deep_copy(v);
}

static json_t *merge_object(struct walk *w, const json_t *live, const json_t *cfg, int depth);

static json_t *merge_value(struct walk *w, const char *field, const json_t *live, const json_t *cfg,
                           int depth)
{
        if (depth > FIELDSET_MAX_DEPTH)
                return json_deep_copy(cfg);
        if (json_is_object(cfg)) {
                if (!json_is_object(live) || is_atomic(w, field))
                        return copy_nonnull(cfg, depth);
                return merge_object(w, live, cfg, depth + 1);
        }
        if (!json_is_array(cfg) || !json_is_array(live))
                return copy_nonnull(cfg, depth);
        struct fieldset_list_info info;
        const json_t *sample =
                json_array_size(cfg) ? json_array_get(cfg, 0) : json_array_get(live, 0);
        list_info(w, field, sample, &info);
        if (info.type == FIELDSET_LIST_ATOMIC)
                return copy_nonnull(cfg, depth);
        json_t *res = json_deep_copy(live);
        size_t i, j;
        json_t *it, *have;
        json_array_foreach(cfg, i, it)
        {
                bool found = false;
                if (info.type == FIELDSET_LIST_SET) {
                        json_array_foreach(res, j, have) found |= json_equal(have, it);
                        if (!found)
                                json_array_append(res, it);
                        continue;
                }
                _cleanup_free_ char *pe = key_element(&info, it);
                _cleanup_(json_decrefp) json_t *keyobj = pe ? json_loads(pe + 2, 0, NULL) : NULL;
                json_array_foreach(res, j, have)
                {
                        if (keyobj && item_matches(&info, keyobj, have)) {
                                json_array_set_new(res, j, merge_object(w, have, it, depth + 1));
                                found = true;
                                break;
                        }
                }
                if (!found)
                        json_array_append_new(res, copy_nonnull(it, depth));
        }
        return res;
}

static json_t *merge_object(struct walk *w, const json_t *live, const json_t *cfg, int depth)
{
        json_t *res = json_is_object(live) ? json_deep_copy(live) : json_object();
        if (!json_is_object(cfg))
                return res;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)cfg, k, v)
        {
                if (json_is_null(v)) {
                        json_object_del(res, k);
                        continue;
                }
                size_t saved = path_push(w, k);
                json_object_set_new(res, k, merge_value(w, k, json_object_get(res, k), v, depth));
                path_pop(w, saved);
        }
        return res;
}

json_t *fieldset_merge(const json_t *live, const json_t *config, const struct fieldset_schema *s)
{
        struct walk w = {.s = s};
        return merge_object(&w, live, config, 0);
}

/* One step down from cur by path element pe; *ret_idx gets the array index for list items.
 * field is the name of the field cur is the value of (for list schemas). */
static json_t *step(struct walk *w, const json_t *cur, const char *pe, const char *field,
                    size_t *ret_idx)
{
        if (!pe || strlen(pe) < 2)
                return NULL;
        if (pe[0] == 'f')
                return json_is_object(cur) ? json_object_get(cur, pe + 2) : NULL;
        if (!json_is_array(cur))
                return NULL;
        size_t i;
        json_t *it;
        if (pe[0] == 'i') {
                i = strtoul(pe + 2, NULL, 10);
                *ret_idx = i;
                return json_array_get(cur, i);
        }
        _cleanup_(json_decrefp) json_t *v = json_loads(pe + 2, JSON_DECODE_ANY, NULL);
        if (!v)
                return NULL;
        if (pe[0] == 'v') {
                json_array_foreach(cur, i, it)
                {
                        if (json_equal(it, v)) {
                                *ret_idx = i;
                                return it;
                        }
                }
                return NULL;
        }
        if (pe[0] != 'k' || !json_is_object(v))
                return NULL;
        struct fieldset_list_info info;
        list_info(w, field, json_array_get(cur, 0), &info);
        json_array_foreach(cur, i, it)
        {
                if (item_matches(&info, v, it)) {
                        *ret_idx = i;
                        return it;
                }
        }
        return NULL;
}

/* Walk n elements of path from obj; *ret_field gets the last field name seen. */
static json_t *walk_path(struct walk *w, const json_t *obj, const json_t *path, size_t n,
                         const char **ret_field)
{
        const json_t *cur = obj;
        const char *field = NULL;
        for (size_t i = 0; i < n && cur; i++) {
                const char *pe = json_string_value(json_array_get(path, i));
                size_t idx;
                cur = step(w, cur, pe, field, &idx);
                if (pe && pe[0] == 'f') {
                        field = pe + 2;
                        path_push(w, field);
                }
        }
        *ret_field = field;
        return (json_t *)cur;
}

const json_t *fieldset_lookup(const json_t *obj, const json_t *path,
                              const struct fieldset_schema *s)
{
        struct walk w = {.s = s};
        const char *field;
        return walk_path(&w, obj, path, json_array_size(path), &field);
}

void fieldset_remove(json_t *obj, const json_t *path, const struct fieldset_schema *s)
{
        size_t n = json_array_size(path);
        if (!n)
                return;
        struct walk w = {.s = s};
        const char *field;
        json_t *parent = walk_path(&w, obj, path, n - 1, &field);
        const char *pe = json_string_value(json_array_get(path, n - 1));
        size_t idx;
        if (!parent || !step(&w, parent, pe, field, &idx))
                return;
        if (pe[0] == 'f')
                json_object_del(parent, pe + 2);
        else
                json_array_remove(parent, idx);
        /* A map or list emptied by the removal goes too (Go's omitempty drops it). */
        if (n >= 2 &&
            (json_is_object(parent) ? !json_object_size(parent) : !json_array_size(parent))) {
                const char *ppe = json_string_value(json_array_get(path, n - 2));
                if (ppe && ppe[0] == 'f') {
                        _cleanup_(json_decrefp) json_t *up = json_array();
                        for (size_t i = 0; i + 1 < n; i++)
                                json_array_append(up, json_array_get(path, i));
                        fieldset_remove(obj, up, s);
                }
        }
}

static bool is_value_struct(const struct walk *w, const char *field);

/* The leaves of inter whose values differ between vo and vn (the values at this node), added
 * to out (a children map). One walk down both objects, no lookups from the root. */
static void modified_rec(struct walk *w, const json_t *inter, const json_t *vo, const json_t *vn,
                         const char *field, json_t *out, int depth)
{
        if (depth > FIELDSET_MAX_DEPTH)
                return;
        const char *k;
        json_t *n;
        json_object_foreach((json_t *)inter, k, n)
        {
                if (!strcmp(k, "."))
                        continue;
                size_t idx;
                const json_t *co = vo ? step(w, vo, k, field, &idx) : NULL;
                const json_t *cn = vn ? step(w, vn, k, field, &idx) : NULL;
                bool f = k[0] == 'f';
                size_t saved = f ? path_push(w, k + 2) : w->plen;
                if (fieldset_empty(n)) {
                        if (!kjson_equal(co, cn))
                                json_object_set_new(out, k, json_object());
                } else {
                        json_t *child = json_object();
                        modified_rec(w, n, co, cn, f ? k + 2 : field, child, depth + 1);
                        put(out, k, false, child);
                }
                path_pop(w, saved);
        }
}

static bool is_value_struct(const struct walk *w, const char *field)
{
        return w->s && w->s->value_struct && field && w->s->value_struct(w->s, w->path, field);
}

/* In the added (or removed) set d, whose members are absent from the other side (cur: its
 * value at this node, NULL if absent; mine: this side's value): mark each non-leaf node absent
 * there as a member itself, and drop null leaves the other side has implicitly (a zero typed
 * object holds null there). */
static void mark_appeared(struct walk *w, json_t *d, const json_t *mine, const json_t *cur,
                          const char *field, int depth)
{
        if (depth > FIELDSET_MAX_DEPTH || !json_is_object(d))
                return;
        const char *k;
        json_t *dn;
        void *tmp;
        json_object_foreach_safe(d, tmp, k, dn)
        {
                if (!strcmp(k, "."))
                        continue;
                size_t idx;
                const json_t *oc = cur ? step(w, cur, k, field, &idx) : NULL;
                const json_t *mc = mine ? step(w, mine, k, field, &idx) : NULL;
                bool f = k[0] == 'f';
                size_t saved = f ? path_push(w, k + 2) : w->plen;
                bool always = !oc && f && is_value_struct(w, k + 2);
                if (!json_object_size(dn)) {
                        if (always && json_is_null(mc))
                                json_object_del(d, k);
                } else {
                        if (!oc && !always)
                                json_object_set_new(dn, ".", json_object());
                        mark_appeared(w, dn, mc, oc, f ? k + 2 : field, depth + 1);
                        if (fieldset_empty(dn))
                                json_object_del(d, k);
                }
                path_pop(w, saved);
        }
}

int fieldset_compare(const json_t *old, const json_t *new, const struct fieldset_schema *s,
                     json_t **ret_added, json_t **ret_removed, json_t **ret_modified,
                     struct error *err)
{
        _cleanup_(json_decrefp) json_t *so = NULL;
        _cleanup_(json_decrefp) json_t *sn = NULL;
        int r = fieldset_from_object(old, s, &so, err);
        if (r < 0)
                return r;
        r = fieldset_from_object(new, s, &sn, err);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *inter = fieldset_intersection(so, sn);
        struct walk w = {.s = s};
        json_t *mod = json_object();
        modified_rec(&w, inter, old, new, NULL, mod, 0);
        json_t *added = fieldset_difference(sn, so);
        json_t *removed = fieldset_difference(so, sn);
        struct walk wa = {.s = s};
        mark_appeared(&wa, added, new, old, NULL, 0);
        struct walk wr = {.s = s};
        mark_appeared(&wr, removed, old, new, NULL, 0);
        *ret_added = added;
        *ret_removed = removed;
        *ret_modified = mod;
        return 0;
}
