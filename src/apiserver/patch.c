/* patch.c — merge patch, JSON patch, strategic merge patch (see patch.h). */
#include "apiserver/patch.h"

#include <stdio.h>

#define PATCH_MAX_DEPTH 100

/* ---- RFC 7386 ---- */

static json_t *merge_rec(const json_t *target, const json_t *patch)
{
        if (!json_is_object(patch))
                return json_deep_copy(patch);
        json_t *res = json_is_object(target) ? json_deep_copy(target) : json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)patch, k, v)
        {
                if (json_is_null(v)) {
                        json_object_del(res, k);
                        continue;
                }
                json_object_set_new(res, k, merge_rec(json_object_get(res, k), v));
        }
        return res;
}

int patch_merge(const json_t *target, const json_t *patch, json_t **ret, struct error *err)
{
        if (!json_is_object(patch))
                return error_set(err, -EBADMSG, "merge patch must be a JSON object");
        *ret = merge_rec(target, patch);
        return 0;
}

/* ---- RFC 6902 ---- */

/* Decode one reference token (~1 -> /, ~0 -> ~). */
static char *ptr_token(const char *s, size_t n)
{
        char *t = xmalloc(n + 1);
        size_t j = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '~' && i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
                        t[j++] = s[i + 1] == '0' ? '~' : '/';
                        i++;
                } else {
                        t[j++] = s[i];
                }
        }
        t[j] = 0;
        return t;
}

static bool parse_index(const char *tok, size_t max, size_t *ret)
{
        if (!*tok || strlen(tok) > 9)
                return false;
        if (tok[0] == '0' && tok[1])
                return false;
        size_t v = 0;
        for (const char *p = tok; *p; p++) {
                if (*p < '0' || *p > '9')
                        return false;
                v = v * 10 + (size_t)(*p - '0');
        }
        if (v > max)
                return false;
        *ret = v;
        return true;
}

/* Resolve pointer's parent container; *ret_last = last token (caller frees). */
static int ptr_parent(json_t *doc, const char *ptr, json_t **ret_parent, char **ret_last,
                      struct error *err)
{
        if (*ptr != '/')
                return error_set(err, -EBADMSG, "invalid JSON pointer \"%s\"", ptr);
        json_t *cur = doc;
        const char *p = ptr + 1;
        for (;;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);
                _cleanup_free_ char *tok = ptr_token(p, n);
                if (!slash) {
                        *ret_parent = cur;
                        *ret_last = TAKE_PTR(tok);
                        return 0;
                }
                json_t *next = NULL;
                if (json_is_object(cur)) {
                        next = json_object_get(cur, tok);
                } else if (json_is_array(cur)) {
                        size_t idx;
                        if (parse_index(tok, json_array_size(cur), &idx))
                                next = json_array_get(cur, idx);
                }
                if (!next)
                        return error_set(err, -EINVAL, "jsonpatch: path \"%s\" not found", ptr);
                cur = next;
                p = slash + 1;
        }
}

static json_t *ptr_get(json_t *doc, const char *ptr, struct error *err)
{
        if (!*ptr)
                return doc;
        json_t *parent;
        _cleanup_free_ char *last = NULL;
        if (ptr_parent(doc, ptr, &parent, &last, err) < 0)
                return NULL;
        json_t *v = NULL;
        size_t idx;
        if (json_is_object(parent))
                v = json_object_get(parent, last);
        else if (json_is_array(parent) && parse_index(last, json_array_size(parent), &idx))
                v = json_array_get(parent, idx);
        if (!v)
                error_set(err, -EINVAL, "jsonpatch: path \"%s\" not found", ptr);
        return v;
}

/* Add value (stolen) at ptr. *doc may be replaced for the root pointer. */
static int ptr_add(json_t **doc, const char *ptr, json_t *value, struct error *err)
{
        if (!*ptr) {
                json_decref(*doc);
                *doc = value;
                return 0;
        }
        json_t *parent;
        _cleanup_free_ char *last = NULL;
        int r = ptr_parent(*doc, ptr, &parent, &last, err);
        if (r < 0) {
                json_decref(value);
                return r;
        }
        if (json_is_object(parent)) {
                json_object_set_new(parent, last, value);
                return 0;
        }
        if (json_is_array(parent)) {
                size_t idx;
                if (!strcmp(last, "-")) {
                        json_array_append_new(parent, value);
                        return 0;
                }
                if (parse_index(last, json_array_size(parent), &idx)) {
                        json_array_insert_new(parent, idx, value);
                        return 0;
                }
        }
        json_decref(value);
        return error_set(err, -EINVAL, "jsonpatch: cannot add at \"%s\"", ptr);
}

/* Remove at ptr; *ret_old receives the removed value (new ref) if non-NULL. */
static int ptr_remove(json_t *doc, const char *ptr, json_t **ret_old, struct error *err)
{
        json_t *parent;
        _cleanup_free_ char *last = NULL;
        if (!*ptr)
                return error_set(err, -EINVAL, "jsonpatch: cannot remove the root");
        int r = ptr_parent(doc, ptr, &parent, &last, err);
        if (r < 0)
                return r;
        size_t idx;
        if (json_is_object(parent) && json_object_get(parent, last)) {
                if (ret_old)
                        *ret_old = json_incref(json_object_get(parent, last));
                json_object_del(parent, last);
                return 0;
        }
        if (json_is_array(parent) && json_array_size(parent) > 0 &&
            parse_index(last, json_array_size(parent) - 1, &idx)) {
                if (ret_old)
                        *ret_old = json_incref(json_array_get(parent, idx));
                json_array_remove(parent, idx);
                return 0;
        }
        return error_set(err, -EINVAL, "jsonpatch: path \"%s\" not found", ptr);
}

int patch_json(const json_t *target, const json_t *ops, json_t **ret, struct error *err)
{
        if (!json_is_array(ops))
                return error_set(err, -EBADMSG, "json patch must be an array of operations");
        json_t *doc = json_deep_copy(target);
        size_t i;
        json_t *op;
        int r = 0;
        json_array_foreach(ops, i, op)
        {
                const char *o = json_string_value(json_object_get(op, "op"));
                const char *path = json_string_value(json_object_get(op, "path"));
                const char *from = json_string_value(json_object_get(op, "from"));
                json_t *value = json_object_get(op, "value");
                if (!o || !path) {
                        r = error_set(err, -EBADMSG, "json patch operation %zu lacks op or path",
                                      i);
                        break;
                }
                if (!strcmp(o, "add")) {
                        if (!value) {
                                r = error_set(err, -EBADMSG, "add operation lacks value");
                                break;
                        }
                        r = ptr_add(&doc, path, json_deep_copy(value), err);
                } else if (!strcmp(o, "remove")) {
                        r = ptr_remove(doc, path, NULL, err);
                } else if (!strcmp(o, "replace")) {
                        if (!value) {
                                r = error_set(err, -EBADMSG, "replace operation lacks value");
                                break;
                        }
                        if (*path) {
                                json_t *old = NULL;
                                r = ptr_remove(doc, path, &old, err);
                                json_decref(old);
                                if (r < 0)
                                        break;
                        }
                        r = ptr_add(&doc, path, json_deep_copy(value), err);
                } else if (!strcmp(o, "move") || !strcmp(o, "copy")) {
                        if (!from) {
                                r = error_set(err, -EBADMSG, "%s operation lacks from", o);
                                break;
                        }
                        json_t *v;
                        if (!strcmp(o, "move")) {
                                if (!strncmp(path, from, strlen(from)) &&
                                    path[strlen(from)] == '/') {
                                        r = error_set(err, -EINVAL,
                                                      "jsonpatch: cannot move into a child");
                                        break;
                                }
                                v = NULL;
                                r = ptr_remove(doc, from, &v, err);
                        } else {
                                v = ptr_get(doc, from, err);
                                r = v ? 0 : -EINVAL;
                                if (v)
                                        v = json_deep_copy(v);
                        }
                        if (r < 0)
                                break;
                        r = ptr_add(&doc, path, v, err);
                } else if (!strcmp(o, "test")) {
                        json_t *cur = ptr_get(doc, path, err);
                        if (!cur || !json_equal(cur, value))
                                r = error_set(err, -EINVAL, "testing value %s failed", path);
                } else {
                        r = error_set(err, -EBADMSG, "unexpected json patch operation \"%s\"", o);
                }
                if (r < 0)
                        break;
        }
        if (r < 0) {
                json_decref(doc);
                return r;
        }
        *ret = doc;
        return 0;
}

/* ---- strategic merge patch ---- */

const char *patch_merge_key(const char *field, const json_t *sample)
{
        /* From the patchMergeKey tags of k8s.io/api (fields without a patch strategy, e.g.
         * tolerations, taints, containerStatuses, are replaced as a whole). */
        static const struct {
                const char *field, *key;
        } keys[] = {
                {"containers", "name"},
                {"initContainers", "name"},
                {"ephemeralContainers", "name"},
                {"volumes", "name"},
                {"env", "name"},
                {"volumeMounts", "mountPath"},
                {"volumeDevices", "devicePath"},
                {"imagePullSecrets", "name"},
                {"conditions", "type"},
                {"hostAliases", "ip"},
                {"ownerReferences", "uid"},
                {"topologySpreadConstraints", "topologyKey"},
                {"resourceClaims", "name"},
                {"schedulingGates", "name"},
                {"addresses", "type"},
        };
        if (!strcmp(field, "ports")) {
                if (json_is_object(sample) && json_object_get(sample, "containerPort"))
                        return "containerPort";
                return "port";
        }
        if (!strcmp(field, "addresses") && json_is_object(sample) &&
            !json_object_get(sample, "type"))
                return NULL; /* endpoints' addresses: replace */
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if (!strcmp(keys[i].field, field))
                        return keys[i].key;
        return NULL;
}

static bool is_primitive_set(const char *field)
{
        return !strcmp(field, "finalizers");
}

static json_t *smp_map(const json_t *orig, const json_t *patch, int depth, struct error *err,
                       int *r);

/* Copy of v with SMP directives removed (for values added as new). */
static json_t *strip_directives(const json_t *v, int depth)
{
        if (json_is_object(v)) {
                json_t *o = json_object();
                const char *k;
                json_t *c;
                json_object_foreach((json_t *)v, k, c)
                {
                        if (k[0] == '$')
                                continue;
                        if (json_is_null(c))
                                continue;
                        json_object_set_new(o, k, strip_directives(c, depth + 1));
                }
                return o;
        }
        if (json_is_array(v)) {
                json_t *a = json_array();
                size_t i;
                json_t *c;
                json_array_foreach(v, i, c)
                {
                        if (json_is_object(c) && json_object_get(c, "$patch"))
                                continue;
                        json_array_append_new(a, strip_directives(c, depth + 1));
                }
                return a;
        }
        return json_deep_copy(v);
}

static bool key_equal(const json_t *a, const json_t *b)
{
        return a && b && json_equal((json_t *)a, (json_t *)b);
}

static ssize_t find_by_key(const json_t *list, const char *key, const json_t *val)
{
        size_t i;
        json_t *it;
        json_array_foreach(list, i, it)
        {
                if (key_equal(json_object_get(it, key), val))
                        return (ssize_t)i;
        }
        return -1;
}

/* Reorder list per $setElementOrder (an array of {key: v} objects or primitives). Items not
 * named by the order keep their relative order after the named ones. */
static json_t *apply_order(json_t *list, const json_t *order, const char *key)
{
        if (!json_is_array(order) || !json_is_array(list))
                return list;
        json_t *res = json_array();
        size_t n = json_array_size(list);
        bool *used = calloc(n ? n : 1, sizeof(bool));
        if (!used)
                abort();
        size_t i;
        json_t *o;
        json_array_foreach(order, i, o)
        {
                const json_t *want = key && json_is_object(o) ? json_object_get(o, key) : o;
                for (size_t j = 0; j < n; j++) {
                        json_t *it = json_array_get(list, j);
                        const json_t *have =
                                key && json_is_object(it) ? json_object_get(it, key) : it;
                        if (!used[j] && key_equal(have, want)) {
                                used[j] = true;
                                json_array_append(res, it);
                                break;
                        }
                }
        }
        for (size_t j = 0; j < n; j++)
                if (!used[j])
                        json_array_append(res, json_array_get(list, j));
        free(used);
        json_decref(list);
        return res;
}

static json_t *smp_list(const char *field, const json_t *orig, const json_t *patch, int depth,
                        struct error *err, int *r)
{
        json_t *sample = json_array_size(patch) ? json_array_get(patch, 0) : NULL;
        if (!sample && json_is_array(orig) && json_array_size(orig))
                sample = json_array_get(orig, 0);
        const char *key = patch_merge_key(field, sample);

        /* A {"$patch":"replace"} item replaces the whole list with the other items. */
        size_t i;
        json_t *it;
        json_array_foreach(patch, i, it)
        {
                const char *d = json_string_value(json_object_get(it, "$patch"));
                if (d && !strcmp(d, "replace"))
                        return strip_directives(patch, depth);
        }
        if (is_primitive_set(field)) {
                json_t *res = json_is_array(orig) ? json_deep_copy(orig) : json_array();
                json_array_foreach(patch, i, it)
                {
                        bool have = false;
                        size_t j;
                        json_t *o;
                        json_array_foreach(res, j, o) have |= json_equal(o, it);
                        if (!have)
                                json_array_append(res, it);
                }
                return res;
        }
        if (!key || !json_is_array(orig))
                return strip_directives(patch, depth);

        json_t *res = json_deep_copy(orig);
        json_array_foreach(patch, i, it)
        {
                if (!json_is_object(it)) {
                        json_decref(res);
                        return strip_directives(patch, depth);
                }
                const json_t *kv = json_object_get(it, key);
                const char *d = json_string_value(json_object_get(it, "$patch"));
                ssize_t at = kv ? find_by_key(res, key, kv) : -1;
                if (d && !strcmp(d, "delete")) {
                        if (at >= 0)
                                json_array_remove(res, (size_t)at);
                        continue;
                }
                if (!kv) {
                        *r = error_set(err, -EBADMSG,
                                       "%s: item does not contain declared merge key: %s", field,
                                       key);
                        json_decref(res);
                        return NULL;
                }
                if (at >= 0) {
                        json_t *m = smp_map(json_array_get(res, (size_t)at), it, depth + 1, err, r);
                        if (!m) {
                                json_decref(res);
                                return NULL;
                        }
                        json_array_set_new(res, (size_t)at, m);
                } else {
                        json_array_append_new(res, strip_directives(it, depth + 1));
                }
        }
        return res;
}

static json_t *smp_map(const json_t *orig, const json_t *patch, int depth, struct error *err,
                       int *r)
{
        if (depth > PATCH_MAX_DEPTH) {
                *r = error_set(err, -EBADMSG, "patch nested too deeply");
                return NULL;
        }
        const char *pd = json_string_value(json_object_get(patch, "$patch"));
        if (pd && !strcmp(pd, "replace"))
                return strip_directives(patch, depth);
        json_t *res = json_is_object(orig) ? json_deep_copy(orig) : json_object();
        const char *k;
        json_t *v;
        /* $deleteFromPrimitiveList first, then normal keys, then $setElementOrder, then
         * $retainKeys. */
        json_object_foreach((json_t *)patch, k, v)
        {
                if (!strncmp(k, "$deleteFromPrimitiveList/", 25)) {
                        json_t *list = json_object_get(res, k + 25);
                        if (!json_is_array(list) || !json_is_array(v))
                                continue;
                        for (size_t i = json_array_size(list); i-- > 0;) {
                                size_t j;
                                json_t *d;
                                json_array_foreach(v, j, d)
                                {
                                        if (json_equal(json_array_get(list, i), d)) {
                                                json_array_remove(list, i);
                                                break;
                                        }
                                }
                        }
                }
        }
        json_object_foreach((json_t *)patch, k, v)
        {
                if (k[0] == '$')
                        continue;
                if (json_is_null(v)) {
                        json_object_del(res, k);
                        continue;
                }
                json_t *cur = json_object_get(res, k);
                json_t *nv;
                if (json_is_object(v)) {
                        const char *d = json_string_value(json_object_get(v, "$patch"));
                        if (d && !strcmp(d, "delete")) {
                                json_object_del(res, k);
                                continue;
                        }
                        nv = smp_map(json_is_object(cur) ? cur : NULL, v, depth + 1, err, r);
                } else if (json_is_array(v)) {
                        nv = smp_list(k, cur, v, depth + 1, err, r);
                } else {
                        nv = json_deep_copy(v);
                }
                if (!nv) {
                        json_decref(res);
                        return NULL;
                }
                json_object_set_new(res, k, nv);
        }
        json_object_foreach((json_t *)patch, k, v)
        {
                if (strncmp(k, "$setElementOrder/", 17))
                        continue;
                const char *field = k + 17;
                json_t *list = json_object_get(res, field);
                if (!json_is_array(list))
                        continue;
                const char *key = patch_merge_key(
                        field, json_array_size(list) ? json_array_get(list, 0) : NULL);
                json_object_set_new(res, field, apply_order(json_incref(list), v, key));
        }
        json_t *retain = json_object_get(patch, "$retainKeys");
        if (json_is_array(retain)) {
                void *tmp;
                json_object_foreach_safe(res, tmp, k, v)
                {
                        bool keep = false;
                        size_t i;
                        json_t *rk;
                        json_array_foreach(retain, i, rk)
                        {
                                if (json_is_string(rk) && !strcmp(json_string_value(rk), k))
                                        keep = true;
                        }
                        if (!keep)
                                json_object_del(res, k);
                }
        }
        return res;
}

int patch_strategic(const json_t *target, const json_t *patch, json_t **ret, struct error *err)
{
        if (!json_is_object(patch))
                return error_set(err, -EBADMSG, "strategic merge patch must be a JSON object");
        int r = 0;
        json_t *res = smp_map(target, patch, 0, err, &r);
        if (!res)
                return r < 0 ? r : -EBADMSG;
        *ret = res;
        return 0;
}
