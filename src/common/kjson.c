/* kjson.c — jansson helpers. */
#include "common/kjson.h"

#include <stdio.h>

/* Depth check before handing to jansson: jansson's own cap (JSON_PARSER_MAX_DEPTH 2048) is
 * larger than we want. Strings are skipped so brackets inside them do not count. */
static int check_depth(const char *buf, size_t len, size_t max_depth, struct error *err)
{
        size_t depth = 0, line = 1, col = 0;
        bool in_str = false;
        for (size_t i = 0; i < len; i++) {
                char c = buf[i];
                col++;
                if (c == '\n') {
                        line++;
                        col = 0;
                }
                if (in_str) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_str = false;
                        continue;
                }
                if (c == '"')
                        in_str = true;
                else if (c == '{' || c == '[') {
                        if (++depth > max_depth)
                                return error_set(err, -E2BIG,
                                                 "%zu:%zu: nesting deeper than %zu levels", line,
                                                 col, max_depth);
                } else if ((c == '}' || c == ']') && depth > 0)
                        depth--;
        }
        return 0;
}

int kjson_parse(const char *buf, size_t len, size_t max_depth, json_t **ret, struct error *err)
{
        if (!max_depth)
                max_depth = KJSON_MAX_DEPTH_DEFAULT;
        int r = check_depth(buf, len, max_depth, err);
        if (r < 0)
                return r;
        json_error_t jerr;
        json_t *j = json_loadb(buf, len, JSON_DECODE_ANY, &jerr);
        if (!j)
                return error_set(err, -EINVAL, "%d:%d: %s", jerr.line, jerr.column, jerr.text);
        *ret = j;
        return 0;
}

int kjson_parse_object(const char *buf, size_t len, size_t max_depth, json_t **ret,
                       struct error *err)
{
        json_t *j = NULL;
        int r = kjson_parse(buf, len, max_depth, &j, err);
        if (r < 0)
                return r;
        if (!json_is_object(j)) {
                json_decref(j);
                return error_set(err, -EINVAL, "1:1: expected a JSON object");
        }
        *ret = j;
        return 0;
}

char *kjson_dump(const json_t *j)
{
        if (!j)
                return xstrdup("null");
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        if (!s) {
                /* Only on allocation failure (or invalid UTF-8 smuggled in via
                 * json_stringn_nocheck). */
                fputs("timonel: json_dumps failed\n", stderr);
                abort();
        }
        return s;
}

json_t *kjson_get(const json_t *obj, const char *path)
{
        const json_t *cur = obj;
        const char *p = path;
        if (!cur || !path)
                return NULL;
        for (;;) {
                if (!json_is_object(cur))
                        return NULL;
                const char *dot = strchr(p, '.');
                size_t n = dot ? (size_t)(dot - p) : strlen(p);
                cur = json_object_getn(cur, p, n);
                if (!cur)
                        return NULL;
                if (!dot)
                        return (json_t *)cur;
                p = dot + 1;
        }
}

const char *kjson_str(const json_t *obj, const char *path)
{
        return json_string_value(kjson_get(obj, path));
}

int64_t kjson_int(const json_t *obj, const char *path, int64_t dflt)
{
        json_t *j = kjson_get(obj, path);
        return json_is_integer(j) ? (int64_t)json_integer_value(j) : dflt;
}

bool kjson_bool(const json_t *obj, const char *path, bool dflt)
{
        json_t *j = kjson_get(obj, path);
        return json_is_boolean(j) ? json_is_true(j) : dflt;
}

static json_t *ensuren(json_t *obj, const char *key, size_t n)
{
        json_t *c = json_object_getn(obj, key, n);
        if (json_is_object(c))
                return c;
        c = json_object();
        json_object_setn_new(obj, key, n, c);
        return c;
}

json_t *kjson_obj_ensure(json_t *obj, const char *key)
{
        return ensuren(obj, key, strlen(key));
}

json_t *kjson_obj_ensure_path(json_t *obj, const char *path)
{
        const char *p = path;
        for (;;) {
                const char *dot = strchr(p, '.');
                size_t n = dot ? (size_t)(dot - p) : strlen(p);
                obj = ensuren(obj, p, n);
                if (!dot)
                        return obj;
                p = dot + 1;
        }
}

void kjson_set_path(json_t *obj, const char *path, json_t *value)
{
        const char *last = strrchr(path, '.');
        if (last) {
                _cleanup_free_ char *parent = xstrndup(path, (size_t)(last - path));
                obj = kjson_obj_ensure_path(obj, parent);
                json_object_set_new(obj, last + 1, value);
        } else {
                json_object_set_new(obj, path, value);
        }
}

void kjson_set_str(json_t *obj, const char *path, const char *s)
{
        kjson_set_path(obj, path, json_string(s));
}

void kjson_del_path(json_t *obj, const char *path)
{
        const char *last = strrchr(path, '.');
        if (last) {
                _cleanup_free_ char *parent = xstrndup(path, (size_t)(last - path));
                obj = kjson_get(obj, parent);
                if (json_is_object(obj))
                        json_object_del(obj, last + 1);
        } else if (json_is_object(obj)) {
                json_object_del(obj, path);
        }
}

bool kjson_equal(const json_t *a, const json_t *b)
{
        if (!a || !b)
                return a == b;
        return json_equal(a, b);
}
