/* crd.c — CustomResourceDefinitions and custom resources (see crd.h). */
#include "api/crd.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>

#include "api/meta.h"
#include "common/kjson.h"
#include "common/timefmt.h"

#define MAX_DEPTH 64 /* schema and object nesting followed (kjson caps request depth anyway) */

/* ---- small helpers ---- */

static const char *str_at(const json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

static bool is_true(const json_t *o, const char *key)
{
        return json_is_true(json_object_get(o, key));
}

/* Go's %v of a float64 (shortest representation, exponent at 1e21 and beyond). */
static void go_float(char *buf, size_t size, double v)
{
        if (v == floor(v) && fabs(v) < 1e21) {
                snprintf(buf, size, "%.0f", v);
                return;
        }
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, size, "%.*g", prec, v);
                if (strtod(buf, NULL) == v)
                        return;
        }
}

/* The JSON type name kube-openapi reports for a value. */
static const char *type_name(const json_t *v)
{
        if (json_is_string(v))
                return "string";
        if (json_is_integer(v))
                return "integer";
        if (json_is_real(v))
                return "number";
        if (json_is_boolean(v))
                return "boolean";
        if (json_is_object(v))
                return "object";
        if (json_is_array(v))
                return "array";
        return "null";
}

static json_t *qstr(const char *s)
{
        json_t *v = json_string(s ? s : "");
        return v ? v : json_string("");
}

/* ---- CRD defaults ---- */

void crd_defaults(json_t *crd)
{
        json_t *spec = json_object_get(crd, "spec");
        if (!json_is_object(spec))
                return;
        json_t *names = json_object_get(spec, "names");
        const char *kind = str_at(names, "kind");
        if (json_is_object(names) && kind && *kind) {
                const char *sing = str_at(names, "singular");
                if (!sing || !*sing) {
                        char *l = xstrdup(kind);
                        for (char *p = l; *p; p++)
                                *p = (char)tolower((unsigned char)*p);
                        json_object_set_new(names, "singular", json_string(l));
                        free(l);
                }
                const char *lk = str_at(names, "listKind");
                if (!lk || !*lk)
                        json_object_set_new(names, "listKind", json_sprintf("%sList", kind));
        }
        json_t *conv = json_object_get(spec, "conversion");
        if (!json_is_object(conv)) {
                conv = json_object();
                json_object_set_new(spec, "conversion", conv);
        }
        if (!str_at(conv, "strategy"))
                json_object_set_new(conv, "strategy", json_string("None"));
}

/* ---- CRD validation ---- */

static void dns1035(json_t *causes, const char *path, const char *v, const char *prefix)
{
        char buf[1024];
        if (v && *v && meta_dns1035_label_error(v, buf, sizeof(buf))) {
                char *msg = xasprintf("%s%s", prefix, buf);
                meta_cause_add(causes, "FieldValueInvalid", path, v, msg);
                free(msg);
        }
}

static void dns1035_lower(json_t *causes, const char *path, const char *v)
{
        if (!v || !*v)
                return;
        char *l = xstrdup(v);
        for (char *p = l; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        char buf[1024];
        if (meta_dns1035_label_error(l, buf, sizeof(buf))) {
                char *msg = xasprintf("may have mixed case, but should otherwise match: %s", buf);
                meta_cause_add(causes, "FieldValueInvalid", path, v, msg);
                free(msg);
        }
        free(l);
}

/* ValidateCustomResourceDefinitionNames. */
static void validate_names(const json_t *names, const char *path, json_t *causes)
{
        char p[256];
        snprintf(p, sizeof(p), "%s.plural", path);
        dns1035(causes, p, str_at(names, "plural"), "");
        snprintf(p, sizeof(p), "%s.singular", path);
        dns1035(causes, p, str_at(names, "singular"), "");
        snprintf(p, sizeof(p), "%s.kind", path);
        dns1035_lower(causes, p, str_at(names, "kind"));
        snprintf(p, sizeof(p), "%s.listKind", path);
        dns1035_lower(causes, p, str_at(names, "listKind"));
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(names, "shortNames"), i, v)
        {
                snprintf(p, sizeof(p), "%s.shortNames[%zu]", path, i);
                const char *s = json_string_value(v);
                dns1035(causes, p, s ? s : "", "");
        }
        const char *kind = str_at(names, "kind"), *lk = str_at(names, "listKind");
        if (kind && *kind && lk && !strcmp(kind, lk)) {
                snprintf(p, sizeof(p), "%s.listKind", path);
                meta_cause_add(causes, "FieldValueInvalid", p, lk,
                               "kind and listKind may not be the same");
        }
        json_array_foreach(json_object_get(names, "categories"), i, v)
        {
                snprintf(p, sizeof(p), "%s.categories[%zu]", path, i);
                const char *s = json_string_value(v);
                dns1035(causes, p, s ? s : "", "");
        }
}

static void enum_strings(json_t *causes, const char *path, const char *v, const char *const *ok,
                         bool required)
{
        if (!v || !*v) {
                if (required)
                        meta_cause_add(causes, "FieldValueRequired", path, NULL, "");
                return;
        }
        char list[256] = "";
        size_t off = 0;
        for (const char *const *a = ok; *a; a++) {
                if (!strcmp(*a, v))
                        return;
                off += (size_t)snprintf(list + off, sizeof(list) - off, "%s\"%s\"",
                                        a == ok ? "" : ", ", *a);
        }
        char *msg = xasprintf("supported values: %s", list);
        meta_cause_add(causes, "FieldValueNotSupported", path, v, msg);
        free(msg);
}

static bool json_path_under(const char *p, const char *root)
{
        size_t n = strlen(root);
        return p && !strncmp(p, root, n) && (p[n] == '.' || p[n] == 0) && p[n] != 0;
}

static void validate_subresources(const json_t *subs, const char *path, json_t *causes)
{
        const json_t *scale = json_object_get(subs, "scale");
        if (!json_is_object(scale))
                return;
        char p[300];
        const char *spec = str_at(scale, "specReplicasPath");
        const char *status = str_at(scale, "statusReplicasPath");
        const char *sel = str_at(scale, "labelSelectorPath");
        snprintf(p, sizeof(p), "%s.scale.specReplicasPath", path);
        if (!spec || !*spec)
                meta_cause_add(causes, "FieldValueRequired", p, NULL, "");
        else if (!json_path_under(spec, ".spec"))
                meta_cause_add(causes, "FieldValueInvalid", p, spec,
                               "should be a json path under .spec");
        snprintf(p, sizeof(p), "%s.scale.statusReplicasPath", path);
        if (!status || !*status)
                meta_cause_add(causes, "FieldValueRequired", p, NULL, "");
        else if (!json_path_under(status, ".status"))
                meta_cause_add(causes, "FieldValueInvalid", p, status,
                               "should be a json path under .status");
        snprintf(p, sizeof(p), "%s.scale.labelSelectorPath", path);
        if (sel && !json_path_under(sel, ".spec") && !json_path_under(sel, ".status"))
                meta_cause_add(causes, "FieldValueInvalid", p, sel,
                               "should be a json path under either .spec or .status");
}

static void validate_column(const json_t *col, const char *path, json_t *causes)
{
        static const char *const types[] = {"integer", "number", "string", "boolean", "date", NULL};
        char p[300];
        const char *name = str_at(col, "name");
        snprintf(p, sizeof(p), "%s.name", path);
        if (!name || !*name)
                meta_cause_add(causes, "FieldValueRequired", p, NULL, "");
        snprintf(p, sizeof(p), "%s.type", path);
        enum_strings(causes, p, str_at(col, "type"), types, true);
        const char *fmt = str_at(col, "format");
        static const char *const formats[] = {"int32", "int64",     "float",    "double", "byte",
                                              "date",  "date-time", "password", "name",   NULL};
        snprintf(p, sizeof(p), "%s.format", path);
        if (fmt && *fmt)
                enum_strings(causes, p, fmt, formats, false);
        const char *jp = str_at(col, "jsonPath");
        snprintf(p, sizeof(p), "%s.jsonPath", path);
        if (!jp || !*jp)
                meta_cause_add(causes, "FieldValueRequired", p, NULL, "");
}

void crd_validate(const json_t *crd, json_t *causes)
{
        const json_t *spec = json_object_get(crd, "spec");
        const json_t *names = json_object_get(spec, "names");
        const char *name = kjson_str(crd, "metadata.name");
        const char *group = str_at(spec, "group");
        const char *plural = str_at(names, "plural");
        if (name && *name) {
                _cleanup_free_ char *want =
                        xasprintf("%s.%s", plural ? plural : "", group ? group : "");
                if (strcmp(name, want))
                        meta_cause_add(causes, "FieldValueInvalid", "metadata.name", name,
                                       "must be spec.names.plural+\".\"+spec.group");
        }
        char buf[1024];
        if (!group || !*group)
                meta_cause_add(causes, "FieldValueRequired", "spec.group", NULL, "");
        else if (meta_dns1123_subdomain_error(group, buf, sizeof(buf)))
                meta_cause_add(causes, "FieldValueInvalid", "spec.group", group, buf);
        else if (!strchr(group, '.'))
                meta_cause_add(causes, "FieldValueInvalid", "spec.group", group,
                               "should be a domain with at least one dot");
        /* the community's groups need the API review annotation (KEP 1111) */
        if (group &&
            (!strcmp(group, "k8s.io") || !strcmp(group, "kubernetes.io") ||
             (strlen(group) > 7 && !strcmp(group + strlen(group) - 7, ".k8s.io")) ||
             (strlen(group) > 14 && !strcmp(group + strlen(group) - 14, ".kubernetes.io"))) &&
            !json_object_get(kjson_get(crd, "metadata.annotations"), "api-approved.kubernetes.io"))
                meta_cause_add(causes, "FieldValueRequired",
                               "metadata.annotations[api-approved.kubernetes.io]", NULL,
                               "protected groups must have approval annotation "
                               "\"api-approved.kubernetes.io\", see "
                               "https://github.com/kubernetes/enhancements/pull/1111");
        static const char *const scopes[] = {"Cluster", "Namespaced", NULL};
        enum_strings(causes, "spec.scope", str_at(spec, "scope"), scopes, true);

        const json_t *versions = json_object_get(spec, "versions");
        size_t storage = 0, i;
        bool unique = true;
        json_t *v;
        json_array_foreach(versions, i, v)
        {
                char p[256];
                const char *vn = str_at(v, "name");
                if (is_true(v, "storage"))
                        storage++;
                for (size_t j = 0; j < i; j++) {
                        const char *o = str_at(json_array_get(versions, j), "name");
                        if (o && vn && !strcmp(o, vn))
                                unique = false;
                }
                snprintf(p, sizeof(p), "spec.versions[%zu].name", i);
                if (meta_dns1035_label_error(vn ? vn : "", buf, sizeof(buf)))
                        meta_cause_add(causes, "FieldValueInvalid", p, vn ? vn : "", buf);
                const json_t *schema = kjson_get(v, "schema.openAPIV3Schema");
                snprintf(p, sizeof(p), "spec.versions[%zu].schema.openAPIV3Schema", i);
                if (!json_is_object(schema))
                        meta_cause_add(causes, "FieldValueRequired", p, NULL,
                                       "schemas are required");
                else
                        crd_schema_check(schema, p, causes);
                snprintf(p, sizeof(p), "spec.versions[%zu].subresources", i);
                validate_subresources(json_object_get(v, "subresources"), p, causes);
                size_t ci;
                json_t *col;
                json_array_foreach(json_object_get(v, "additionalPrinterColumns"), ci, col)
                {
                        snprintf(p, sizeof(p), "spec.versions[%zu].additionalPrinterColumns[%zu]",
                                 i, ci);
                        validate_column(col, p, causes);
                }
        }
        if (!unique)
                meta_cause_add_json(causes, "FieldValueInvalid", "spec.versions", versions,
                                    "must contain unique version names");
        if (storage != 1) {
                json_t *null = json_null();
                meta_cause_add_json(causes, "FieldValueInvalid", "spec.versions",
                                    versions ? versions : null,
                                    "must have exactly one version marked as storage version");
        }
        static const char *const req[] = {"plural", "singular", "kind", "listKind"};
        for (i = 0; i < ARRAY_SIZE(req); i++) {
                const char *s = str_at(names, req[i]);
                if (!s || !*s) {
                        char p[64];
                        snprintf(p, sizeof(p), "spec.names.%s", req[i]);
                        meta_cause_add(causes, "FieldValueRequired", p, NULL, "");
                }
        }
        validate_names(names, "spec.names", causes);
        const json_t *conv = json_object_get(spec, "conversion");
        if (json_is_object(conv)) {
                static const char *const strategies[] = {"None", "Webhook", NULL};
                const char *st = str_at(conv, "strategy");
                enum_strings(causes, "spec.conversion.strategy", st, strategies, true);
                if (st && !strcmp(st, "Webhook") && !json_object_get(conv, "webhook"))
                        meta_cause_add(causes, "FieldValueRequired", "spec.conversion.webhook",
                                       NULL, "required when strategy is set to Webhook");
                if (st && !strcmp(st, "None") && json_object_get(conv, "webhook"))
                        meta_cause_add(causes, "FieldValueForbidden", "spec.conversion.webhook",
                                       NULL,
                                       "should not be set when strategy is not set to Webhook");
        }
}

void crd_validate_update(const json_t *newcrd, const json_t *oldcrd, json_t *causes)
{
        static const char *const always[] = {"spec.group", "spec.names.plural"};
        json_t *null = json_null();
        for (size_t i = 0; i < ARRAY_SIZE(always); i++) {
                const json_t *n = kjson_get(newcrd, always[i]);
                if (!kjson_equal(n, kjson_get(oldcrd, always[i])))
                        meta_cause_add_json(causes, "FieldValueInvalid", always[i], n ? n : null,
                                            "field is immutable");
        }
        if (crd_is_established(oldcrd)) {
                static const char *const est[] = {"spec.scope", "spec.names.kind"};
                for (size_t i = 0; i < ARRAY_SIZE(est); i++) {
                        const json_t *n = kjson_get(newcrd, est[i]);
                        if (!kjson_equal(n, kjson_get(oldcrd, est[i])))
                                meta_cause_add_json(causes, "FieldValueInvalid", est[i],
                                                    n ? n : null, "field is immutable");
                }
        }
}

/* ---- structural schema rules ---- */

static int crd_regcomp(regex_t *re, const char *pattern);
static void crd_schema_validate_at(const json_t *schema, const json_t *v, json_t *causes);

enum level { LVL_ROOT, LVL_FIELD, LVL_ITEM };

/* A default must validate against its own schema node (validateDefaults: errors under
 * "<path>.default"). */
static void check_default(const json_t *s, const char *path, json_t *causes)
{
        const json_t *d = json_object_get(s, "default");
        if (!d)
                return;
        json_t *errs = json_array();
        crd_schema_validate_at(s, d, errs);
        size_t i;
        json_t *e;
        json_array_foreach(errs, i, e)
        {
                const char *f = json_string_value(json_object_get(e, "field"));
                _cleanup_free_ char *nf = f && *f ? xasprintf("%s.default.%s", path, f)
                                                  : xasprintf("%s.default", path);
                json_object_set_new(e, "field", json_string(nf));
                json_array_append(causes, e);
        }
        json_decref(errs);
}

static void check_node(const json_t *s, const char *path, enum level lvl, int depth, json_t *causes)
{
        if (!json_is_object(s) || depth > MAX_DEPTH)
                return;
        char p[1024];
        const char *type = str_at(s, "type");
        bool ios = is_true(s, "x-kubernetes-int-or-string");
        bool emb = is_true(s, "x-kubernetes-embedded-resource");
        bool pres = is_true(s, "x-kubernetes-preserve-unknown-fields");
        static const char *const types[] = {"array",  "boolean", "integer", "number",
                                            "object", "string",  NULL};
        snprintf(p, sizeof(p), "%s.type", path);
        if (type && *type) {
                enum_strings(causes, p, type, types, false);
                if (lvl == LVL_ROOT && strcmp(type, "object"))
                        meta_cause_add(causes, "FieldValueInvalid", p, type,
                                       "must be object at the root");
        } else if (!ios && !emb) {
                meta_cause_add(causes, "FieldValueRequired", p, NULL,
                               lvl == LVL_ROOT    ? "must not be empty at the root"
                               : lvl == LVL_FIELD ? "must not be empty for specified object fields"
                                                  : "must not be empty for specified array items");
        }
        const json_t *xp = json_object_get(s, "x-kubernetes-preserve-unknown-fields");
        if (json_is_false(xp)) {
                snprintf(p, sizeof(p), "%s.x-kubernetes-preserve-unknown-fields", path);
                meta_cause_add_json(causes, "FieldValueInvalid", p, xp,
                                    "must be true or undefined");
        }
        (void)pres;
        static const struct {
                const char *key, *msg;
        } forbidden[] = {
                {"$ref", "$ref is not supported"},
                {"id", "id is not supported"},
                {"$schema", "$schema is not supported"},
                {"definitions", "definitions is not supported"},
                {"dependencies", "dependencies is not supported"},
                {"patternProperties", "patternProperties is not supported"},
                {"additionalItems", "additionalItems cannot be set to false"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(forbidden); i++) {
                if (!json_object_get(s, forbidden[i].key))
                        continue;
                snprintf(p, sizeof(p), "%s.%s", path, forbidden[i].key);
                meta_cause_add(causes, "FieldValueForbidden", p, NULL, forbidden[i].msg);
        }
        if (is_true(s, "uniqueItems")) {
                snprintf(p, sizeof(p), "%s.uniqueItems", path);
                meta_cause_add(causes, "FieldValueForbidden", p, NULL,
                               "uniqueItems cannot be set to true since the runtime complexity "
                               "becomes quadratic");
        }
        check_default(s, path, causes);
        const json_t *props = json_object_get(s, "properties");
        const json_t *addl = json_object_get(s, "additionalProperties");
        if (props && addl && !json_is_false(addl)) {
                snprintf(p, sizeof(p), "%s.additionalProperties", path);
                meta_cause_add(causes, "FieldValueForbidden", p, NULL,
                               "additionalProperties and properties are mutual exclusive");
        }
        if (type && !strcmp(type, "array") && !json_is_object(json_object_get(s, "items"))) {
                snprintf(p, sizeof(p), "%s.items", path);
                meta_cause_add(causes, "FieldValueRequired", p, NULL, "must be specified");
        }
        const char *pat = str_at(s, "pattern");
        if (pat) {
                regex_t re;
                if (crd_regcomp(&re, pat) < 0) {
                        snprintf(p, sizeof(p), "%s.pattern", path);
                        meta_cause_add(causes, "FieldValueInvalid", p, pat,
                                       "must be a valid regular expression");
                } else {
                        regfree(&re);
                }
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)props, k, v)
        {
                snprintf(p, sizeof(p), "%s.properties[%s]", path, k);
                if (lvl == LVL_ROOT && !strcmp(k, "metadata")) {
                        /* only name and generateName (strings) may be specified */
                        const char *mk;
                        json_t *mv;
                        bool bad = false;
                        json_object_foreach(json_object_get(v, "properties"), mk, mv)
                        {
                                if (strcmp(mk, "name") && strcmp(mk, "generateName"))
                                        bad = true;
                        }
                        const char *mt = str_at(v, "type");
                        if (bad || (mt && strcmp(mt, "object"))) {
                                meta_cause_add(causes, "FieldValueForbidden", p, NULL,
                                               "must not specify anything other than name and "
                                               "generateName, but metadata is implicitly "
                                               "specified");
                                continue;
                        }
                }
                check_node(v, p, LVL_FIELD, depth + 1, causes);
        }
        if (json_is_object(addl)) {
                snprintf(p, sizeof(p), "%s.additionalProperties", path);
                check_node(addl, p, LVL_FIELD, depth + 1, causes);
        }
        const json_t *items = json_object_get(s, "items");
        if (json_is_object(items)) {
                snprintf(p, sizeof(p), "%s.items", path);
                check_node(items, p, LVL_ITEM, depth + 1, causes);
        }
}

void crd_schema_check(const json_t *schema, const char *path, json_t *causes)
{
        check_node(schema, path, LVL_ROOT, 0, causes);
}

/* ECMA-262 patterns (what CRD authors write) compiled as POSIX extended regexes: the class
 * escapes \d \w \s (and negations) are rewritten; other escapes pass through. */
static int crd_regcomp(regex_t *re, const char *pattern)
{
        size_t n = strlen(pattern);
        if (n > 4096)
                return -E2BIG;
        char *out = xmalloc(n * 12 + 1);
        size_t o = 0;
        bool in_class = false;
        for (size_t i = 0; i < n; i++) {
                char c = pattern[i];
                if (c == '\\' && i + 1 < n) {
                        char e = pattern[++i];
                        const char *rep = NULL;
                        switch (e) {
                        case 'd':
                                rep = in_class ? "0-9" : "[0-9]";
                                break;
                        case 'D':
                                rep = "[^0-9]";
                                break;
                        case 'w':
                                rep = in_class ? "A-Za-z0-9_" : "[A-Za-z0-9_]";
                                break;
                        case 'W':
                                rep = "[^A-Za-z0-9_]";
                                break;
                        case 's':
                                rep = in_class ? "[:space:]" : "[[:space:]]";
                                break;
                        case 'S':
                                rep = "[^[:space:]]";
                                break;
                        case 't':
                                rep = "\t";
                                break;
                        case 'n':
                                rep = "\n";
                                break;
                        default:
                                break;
                        }
                        if (e >= '1' && e <= '9') { /* back-references: not RE2, not linear */
                                free(out);
                                return -EINVAL;
                        }
                        if (rep) {
                                size_t rl = strlen(rep);
                                memcpy(out + o, rep, rl);
                                o += rl;
                        } else if (in_class) {
                                out[o++] = e; /* POSIX classes have no escapes */
                        } else {
                                out[o++] = '\\';
                                out[o++] = e;
                        }
                        continue;
                }
                if (c == '[' && !in_class)
                        in_class = true;
                else if (c == ']' && in_class && o > 0 && out[o - 1] != '[')
                        in_class = false;
                out[o++] = c;
        }
        out[o] = 0;
        int r = regcomp(re, out, REG_EXTENDED | REG_NOSUB);
        free(out);
        return r ? -EINVAL : 0;
}

/* ---- validation of a custom resource ---- */

struct vctx {
        json_t *causes;
        size_t max; /* cap on causes */
};

static void add_cause(struct vctx *c, const char *reason, const char *path, const json_t *value,
                      const char *detail)
{
        if (json_array_size(c->causes) >= c->max)
                return;
        meta_cause_add_json(c->causes, reason, path, value, detail);
}

static bool type_ok(const char *type, const json_t *v)
{
        if (!strcmp(type, "object"))
                return json_is_object(v);
        if (!strcmp(type, "array"))
                return json_is_array(v);
        if (!strcmp(type, "string"))
                return json_is_string(v);
        if (!strcmp(type, "boolean"))
                return json_is_boolean(v);
        if (!strcmp(type, "number"))
                return json_is_number(v);
        if (!strcmp(type, "integer"))
                return json_is_integer(v) ||
                       (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)));
        return true;
}

static size_t utf8_len(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                if (((unsigned char)*s & 0xC0) != 0x80)
                        n++;
        return n;
}

static bool is_hex_run(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char)s[i]))
                        return false;
        return true;
}

/* The string formats of kube-openapi's strfmt registry that CRD schemas use most; other
 * formats are not checked (int32, int64, float, double, password are type annotations). */
static bool format_ok(const char *format, const char *v)
{
        if (!strcmp(format, "date-time") || !strcmp(format, "datetime")) {
                struct timespec ts;
                return timefmt_parse_rfc3339(v, &ts) == 0;
        }
        if (!strcmp(format, "date")) {
                int y, m, d;
                char tail;
                return strlen(v) == 10 && sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 &&
                       m >= 1 && m <= 12 && d >= 1 && d <= 31;
        }
        if (!strcmp(format, "uuid")) {
                static const size_t runs[] = {8, 4, 4, 4, 12};
                const char *p = v;
                for (size_t i = 0; i < ARRAY_SIZE(runs); i++) {
                        if (strlen(p) < runs[i] || !is_hex_run(p, runs[i]))
                                return false;
                        p += runs[i];
                        if (i < 4 && *p++ != '-')
                                return false;
                }
                return !*p;
        }
        if (!strcmp(format, "ipv4")) {
                struct in_addr a;
                return inet_pton(AF_INET, v, &a) == 1;
        }
        if (!strcmp(format, "ipv6")) {
                struct in6_addr a;
                return inet_pton(AF_INET6, v, &a) == 1;
        }
        if (!strcmp(format, "cidr")) {
                const char *slash = strchr(v, '/');
                if (!slash || slash == v || strlen(slash) > 4 || strlen(v) > 64)
                        return false;
                char addr[65];
                snprintf(addr, sizeof(addr), "%.*s", (int)(slash - v), v);
                char *end;
                long bits = strtol(slash + 1, &end, 10);
                unsigned char buf[16];
                if (*end || !slash[1])
                        return false;
                if (inet_pton(AF_INET, addr, buf) == 1)
                        return bits >= 0 && bits <= 32;
                return inet_pton(AF_INET6, addr, buf) == 1 && bits >= 0 && bits <= 128;
        }
        if (!strcmp(format, "byte")) {
                size_t n = strlen(v), pad = 0;
                if (n % 4)
                        return false;
                for (size_t i = 0; i < n; i++) {
                        char ch = v[i];
                        if (ch == '=') {
                                pad++;
                                continue;
                        }
                        if (pad || !(isalnum((unsigned char)ch) || ch == '+' || ch == '/'))
                                return false;
                }
                return pad <= 2;
        }
        if (!strcmp(format, "hostname"))
                return meta_is_dns1123_subdomain(v);
        return true;
}

/* Go's %#v of a JSON scalar as Kubernetes prints it in a field error ("a" quoted, 80, true). */
static char *go_value(const json_t *v)
{
        if (!v || json_is_null(v))
                return xstrdup("interface {}(nil)");
        return kjson_dump(v);
}

static void add_duplicate(struct vctx *c, const char *path, const char *value)
{
        if (json_array_size(c->causes) >= c->max)
                return;
        _cleanup_free_ char *msg = xasprintf("Duplicate value: %s", value);
        json_array_append_new(c->causes, json_pack("{s:s,s:s,s:s}", "reason", "FieldValueDuplicate",
                                                   "message", msg, "field", path));
}

static int cmp_cstr(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* x-kubernetes-list-type set (items unique) and map (unique x-kubernetes-list-map-keys), as the
 * apiextensions-apiserver's listtype validation: field.Duplicate at the repeated index, the
 * map key printed as Go's %#v of map[string]interface{}. */
static void list_type_check(struct vctx *c, const json_t *s, const json_t *v, const char *path)
{
        const char *lt = str_at(s, "x-kubernetes-list-type");
        if (!lt || (strcmp(lt, "set") && strcmp(lt, "map")))
                return;
        bool is_map = !strcmp(lt, "map");
        const json_t *keys = json_object_get(s, "x-kubernetes-list-map-keys");
        const json_t *item_props = kjson_get(s, "items.properties");
        size_t n = json_array_size(v);
        if (n > 1024) /* quadratic below; the API server caps bodies anyway */
                return;
        json_t *seen = json_array();
        for (size_t i = 0; i < n; i++) {
                const json_t *e = json_array_get(v, i);
                json_t *k;
                if (is_map) {
                        if (!json_is_object(e))
                                continue;
                        k = json_object();
                        size_t ki;
                        json_t *kn;
                        json_array_foreach(keys, ki, kn)
                        {
                                const char *key = json_string_value(kn);
                                if (!key)
                                        continue;
                                const json_t *kv = json_object_get(e, key);
                                if (!kv) /* a missing key counts as its default */
                                        kv = kjson_get(json_object_get(item_props, key), "default");
                                json_object_set(k, key, kv ? (json_t *)kv : json_null());
                        }
                } else {
                        k = json_incref((json_t *)e);
                }
                bool dup = false;
                size_t si;
                json_t *sv;
                json_array_foreach(seen, si, sv)
                {
                        dup |= json_equal(sv, k);
                }
                if (!dup) {
                        json_array_append_new(seen, k);
                        continue;
                }
                _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);
                _cleanup_free_ char *val = NULL;
                if (is_map) {
                        size_t nk = json_object_size(k), o = 0;
                        const char **names = xcalloc(nk + 1, sizeof(*names));
                        const char *kk;
                        json_t *kv;
                        json_object_foreach(k, kk, kv)
                        {
                                names[o++] = kk;
                        }
                        qsort(names, nk, sizeof(*names), cmp_cstr);
                        size_t cap = 64, len = 0;
                        val = xmalloc(cap);
                        len = (size_t)snprintf(val, cap, "map[string]interface {}{");
                        for (size_t j = 0; j < nk; j++) {
                                json_t *qk = qstr(names[j]);
                                _cleanup_free_ char *kq = kjson_dump(qk);
                                json_decref(qk);
                                _cleanup_free_ char *vv = go_value(json_object_get(k, names[j]));
                                size_t need = len + strlen(kq) + strlen(vv) + 8;
                                if (need > cap) {
                                        cap = need * 2;
                                        val = xrealloc(val, cap);
                                }
                                len += (size_t)snprintf(val + len, cap - len, "%s%s:%s",
                                                        j ? ", " : "", kq, vv);
                        }
                        if (len + 2 > cap)
                                val = xrealloc(val, len + 2);
                        val[len++] = '}';
                        val[len] = 0;
                        free(names);
                } else {
                        val = go_value(e);
                }
                add_duplicate(c, p, val);
                json_decref(k);
        }
        json_decref(seen);
}

static void validate_node(struct vctx *c, const json_t *s, const json_t *v, const char *path,
                          int depth)
{
        if (!json_is_object(s) || depth > MAX_DEPTH)
                return;
        char msg[1024];
        const char *name = path; /* kube-openapi's Path: "" at the root */
        if (json_is_null(v)) {
                if (is_true(s, "nullable") || !str_at(s, "type"))
                        return;
        }
        json_t *tn = json_string(type_name(v));
        if (is_true(s, "x-kubernetes-int-or-string")) {
                if (!json_is_integer(v) && !json_is_string(v)) {
                        snprintf(msg, sizeof(msg),
                                 "%s in body must be of type integer,string: \"%s\"", name,
                                 type_name(v));
                        add_cause(c, "FieldValueTypeInvalid", path, tn, msg);
                        json_decref(tn);
                        return;
                }
        } else {
                const char *type = str_at(s, "type");
                if (type && *type && !type_ok(type, v)) {
                        snprintf(msg, sizeof(msg), "%s in body must be of type %s: \"%s\"", name,
                                 type, type_name(v));
                        add_cause(c, "FieldValueTypeInvalid", path, tn, msg);
                        json_decref(tn);
                        return;
                }
        }
        json_decref(tn);
        const json_t *en = json_object_get(s, "enum");
        if (json_is_array(en) && json_array_size(en)) {
                bool found = false;
                size_t i;
                json_t *e;
                json_array_foreach(en, i, e)
                {
                        if (json_equal(e, (json_t *)v) ||
                            (json_is_number(e) && json_is_number(v) &&
                             json_number_value(e) == json_number_value(v)))
                                found = true;
                }
                if (!found) {
                        size_t off = (size_t)snprintf(msg, sizeof(msg), "supported values: ");
                        json_array_foreach(en, i, e)
                        {
                                _cleanup_free_ char *one = NULL;
                                if (json_is_string(e)) {
                                        one = xstrdup(json_string_value(e));
                                } else {
                                        one = kjson_dump(e);
                                }
                                json_t *q = qstr(one);
                                _cleanup_free_ char *quoted = kjson_dump(q);
                                json_decref(q);
                                if (off < sizeof(msg))
                                        off += (size_t)snprintf(msg + off, sizeof(msg) - off,
                                                                "%s%s", i ? ", " : "", quoted);
                        }
                        add_cause(c, "FieldValueNotSupported", path, v, msg);
                }
        }
        if (json_is_string(v)) {
                const char *sv = json_string_value(v);
                size_t len = utf8_len(sv);
                const json_t *mx = json_object_get(s, "maxLength");
                const json_t *mn = json_object_get(s, "minLength");
                if (json_is_integer(mx) && (json_int_t)len > json_integer_value(mx)) {
                        snprintf(msg, sizeof(msg), "may not be longer than %lld",
                                 (long long)json_integer_value(mx));
                        add_cause(c, "FieldValueTooLong", path, v, msg);
                }
                if (json_is_integer(mn) && (json_int_t)len < json_integer_value(mn)) {
                        snprintf(msg, sizeof(msg), "%s in body should be at least %lld chars long",
                                 name, (long long)json_integer_value(mn));
                        add_cause(c, "FieldValueInvalid", path, v, msg);
                }
                const char *fmt = str_at(s, "format");
                if (fmt && !format_ok(fmt, sv)) {
                        snprintf(msg, sizeof(msg), "%s in body must be of type %s: \"%s\"", name,
                                 fmt, sv);
                        add_cause(c, "FieldValueTypeInvalid", path, v, msg);
                }
                const char *pat = str_at(s, "pattern");
                regex_t re;
                if (pat && crd_regcomp(&re, pat) == 0) {
                        if (regexec(&re, sv, 0, NULL, 0) != 0) {
                                snprintf(msg, sizeof(msg), "%s in body should match '%s'", name,
                                         pat);
                                add_cause(c, "FieldValueInvalid", path, v, msg);
                        }
                        regfree(&re);
                }
        }
        if (json_is_number(v)) {
                double d = json_number_value(v);
                const json_t *mx = json_object_get(s, "maximum");
                const json_t *mn = json_object_get(s, "minimum");
                char b[64];
                if (json_is_number(mx)) {
                        double m = json_number_value(mx);
                        bool ex = is_true(s, "exclusiveMaximum");
                        if (ex ? d >= m : d > m) {
                                go_float(b, sizeof(b), m);
                                snprintf(msg, sizeof(msg), "%s in body should be less than %s%s",
                                         name, ex ? "" : "or equal to ", b);
                                add_cause(c, "FieldValueInvalid", path, v, msg);
                        }
                }
                if (json_is_number(mn)) {
                        double m = json_number_value(mn);
                        bool ex = is_true(s, "exclusiveMinimum");
                        if (ex ? d <= m : d < m) {
                                go_float(b, sizeof(b), m);
                                snprintf(msg, sizeof(msg), "%s in body should be greater than %s%s",
                                         name, ex ? "" : "or equal to ", b);
                                add_cause(c, "FieldValueInvalid", path, v, msg);
                        }
                }
                const json_t *mo = json_object_get(s, "multipleOf");
                if (json_is_number(mo) && json_number_value(mo) > 0) {
                        double q = d / json_number_value(mo);
                        if (q != floor(q)) {
                                go_float(b, sizeof(b), json_number_value(mo));
                                snprintf(msg, sizeof(msg), "%s in body should be a multiple of %s",
                                         name, b);
                                add_cause(c, "FieldValueInvalid", path, v, msg);
                        }
                }
        }
        if (json_is_array(v)) {
                const json_t *items = json_object_get(s, "items");
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e)
                {
                        _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);
                        validate_node(c, items, e, p, depth + 1);
                }
                const json_t *mx = json_object_get(s, "maxItems");
                const json_t *mn = json_object_get(s, "minItems");
                json_t *n = json_integer((json_int_t)json_array_size(v));
                if (json_is_integer(mx) &&
                    (json_int_t)json_array_size(v) > json_integer_value(mx)) {
                        snprintf(msg, sizeof(msg), "must have at most %lld items",
                                 (long long)json_integer_value(mx));
                        add_cause(c, "FieldValueTooMany", path, n, msg);
                }
                if (json_is_integer(mn) &&
                    (json_int_t)json_array_size(v) < json_integer_value(mn)) {
                        snprintf(msg, sizeof(msg), "%s in body should have at least %lld items",
                                 name, (long long)json_integer_value(mn));
                        add_cause(c, "FieldValueInvalid", path, n, msg);
                }
                json_decref(n);
                list_type_check(c, s, v, path);
        }
        if (json_is_object(v)) {
                size_t i;
                json_t *r;
                json_array_foreach(json_object_get(s, "required"), i, r)
                {
                        const char *k = json_string_value(r);
                        if (!k || json_object_get(v, k))
                                continue;
                        _cleanup_free_ char *p = *path ? xasprintf("%s.%s", path, k) : xstrdup(k);
                        add_cause(c, "FieldValueRequired", p, NULL, "");
                }
                const json_t *props = json_object_get(s, "properties");
                const json_t *addl = json_object_get(s, "additionalProperties");
                const char *k;
                json_t *e;
                json_object_foreach((json_t *)v, k, e)
                {
                        if (depth == 0 && (!strcmp(k, "apiVersion") || !strcmp(k, "kind") ||
                                           !strcmp(k, "metadata")))
                                continue;
                        const json_t *ps = json_object_get(props, k);
                        if (!ps && json_is_object(addl))
                                ps = addl;
                        if (!ps)
                                continue;
                        _cleanup_free_ char *p = *path ? xasprintf("%s.%s", path, k) : xstrdup(k);
                        validate_node(c, ps, e, p, depth + 1);
                }
                const json_t *mx = json_object_get(s, "maxProperties");
                const json_t *mn = json_object_get(s, "minProperties");
                json_t *n = json_integer((json_int_t)json_object_size(v));
                if (json_is_integer(mx) &&
                    (json_int_t)json_object_size(v) > json_integer_value(mx)) {
                        snprintf(msg, sizeof(msg), "must have at most %lld items",
                                 (long long)json_integer_value(mx));
                        add_cause(c, "FieldValueTooMany", path, n, msg);
                }
                if (json_is_integer(mn) &&
                    (json_int_t)json_object_size(v) < json_integer_value(mn)) {
                        snprintf(msg, sizeof(msg),
                                 "%s in body should have at least %lld properties", name,
                                 (long long)json_integer_value(mn));
                        add_cause(c, "FieldValueInvalid", path, n, msg);
                }
                json_decref(n);
        }
}

void crd_schema_validate(const json_t *schema, const json_t *obj, json_t *causes)
{
        struct vctx c = {causes, 64};
        validate_node(&c, schema, obj, "", 0);
}

static void crd_schema_validate_at(const json_t *schema, const json_t *v, json_t *causes)
{
        struct vctx c = {causes, 64};
        validate_node(&c, schema, v, "", 1); /* not an object's root: no apiVersion/kind skip */
}

/* ---- pruning ---- */

static void unknown_add(json_t *unknown, size_t max, const char *path)
{
        if (unknown && json_array_size(unknown) < max)
                json_array_append_new(unknown, qstr(path));
}

static void prune_node(const json_t *s, json_t *v, const char *path, json_t *unknown, size_t max,
                       int depth)
{
        if (!json_is_object(s) || depth > MAX_DEPTH)
                return;
        bool preserve = is_true(s, "x-kubernetes-preserve-unknown-fields");
        bool emb = is_true(s, "x-kubernetes-embedded-resource");
        if (json_is_object(v)) {
                const json_t *props = json_object_get(s, "properties");
                const json_t *addl = json_object_get(s, "additionalProperties");
                const char *k;
                json_t *e;
                void *tmp;
                json_object_foreach_safe(v, tmp, k, e)
                {
                        if ((depth == 0 || emb) && (!strcmp(k, "apiVersion") ||
                                                    !strcmp(k, "kind") || !strcmp(k, "metadata")))
                                continue;
                        const json_t *ps = json_object_get(props, k);
                        if (!ps && json_is_object(addl))
                                ps = addl;
                        _cleanup_free_ char *p = *path ? xasprintf("%s.%s", path, k) : xstrdup(k);
                        if (!ps) {
                                if (preserve || json_is_true(addl))
                                        continue;
                                unknown_add(unknown, max, p);
                                json_object_del(v, k);
                                continue;
                        }
                        if (json_is_null(e) && !is_true(ps, "nullable")) {
                                json_object_del(v, k);
                                continue;
                        }
                        prune_node(ps, e, p, unknown, max, depth + 1);
                }
        } else if (json_is_array(v)) {
                const json_t *items = json_object_get(s, "items");
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e)
                {
                        _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);
                        prune_node(items, e, p, unknown, max, depth + 1);
                }
        }
}

void crd_schema_prune(const json_t *schema, json_t *obj, json_t *unknown, size_t max)
{
        prune_node(schema, obj, "", unknown, max, 0);
}

/* ---- defaulting ---- */

static void default_node(const json_t *s, json_t *v, int depth)
{
        if (!json_is_object(s) || depth > MAX_DEPTH)
                return;
        if (json_is_object(v)) {
                const json_t *props = json_object_get(s, "properties");
                const char *k;
                json_t *ps;
                json_object_foreach((json_t *)props, k, ps)
                {
                        const json_t *d = json_object_get(ps, "default");
                        if (d && !json_object_get(v, k))
                                json_object_set_new(v, k, json_deep_copy(d));
                }
                const json_t *addl = json_object_get(s, "additionalProperties");
                json_t *e;
                json_object_foreach(v, k, e)
                {
                        ps = json_object_get(props, k);
                        if (!ps && json_is_object(addl))
                                ps = (json_t *)addl;
                        default_node(ps, e, depth + 1);
                }
        } else if (json_is_array(v)) {
                const json_t *items = json_object_get(s, "items");
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e)
                {
                        default_node(items, e, depth + 1);
                }
        }
}

void crd_schema_default(const json_t *schema, json_t *obj)
{
        default_node(schema, obj, 0);
}

/* ---- status ---- */

bool crd_is_established(const json_t *crd)
{
        size_t i;
        json_t *c;
        json_array_foreach(kjson_get(crd, "status.conditions"), i, c)
        {
                const char *t = str_at(c, "type"), *st = str_at(c, "status");
                if (t && st && !strcmp(t, "Established") && !strcmp(st, "True"))
                        return true;
        }
        return false;
}

static const char *storage_version_of(const json_t *crd)
{
        size_t i;
        json_t *v;
        json_array_foreach(kjson_get(crd, "spec.versions"), i, v)
        {
                if (is_true(v, "storage"))
                        return str_at(v, "name");
        }
        return NULL;
}

static bool set_condition(json_t *conds, const char *type, const char *status, const char *reason,
                          const char *message, const char *now)
{
        size_t i;
        json_t *c;
        json_array_foreach(conds, i, c)
        {
                const char *t = str_at(c, "type");
                if (!t || strcmp(t, type))
                        continue;
                const char *st = str_at(c, "status"), *re = str_at(c, "reason");
                if (st && re && !strcmp(st, status) && !strcmp(re, reason))
                        return false;
                json_object_set_new(c, "status", json_string(status));
                json_object_set_new(c, "reason", json_string(reason));
                json_object_set_new(c, "message", json_string(message));
                json_object_set_new(c, "lastTransitionTime", json_string(now));
                return true;
        }
        json_array_append_new(conds, json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", type, "status",
                                               status, "lastTransitionTime", now, "reason", reason,
                                               "message", message));
        return true;
}

static bool in_strv(const json_t *arr, const char *s)
{
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
                if (s && json_string_value(v) && !strcmp(json_string_value(v), s))
                        return true;
        }
        return false;
}

/* The naming controller's check of crd's requested names against the names the other CRDs of
 * its group have been accepted with: NULL when there is no conflict, else the reason, with the
 * message in msg. */
static const char *names_conflict(const json_t *crd, const json_t *all, char *msg, size_t size)
{
        const char *group = kjson_str(crd, "spec.group"), *name = kjson_str(crd, "metadata.name");
        _cleanup_(json_decrefp) json_t *resources = json_array(), *kinds = json_array();
        size_t i;
        json_t *o;
        json_array_foreach(all, i, o)
        {
                const char *on = kjson_str(o, "metadata.name"), *og = kjson_str(o, "spec.group");
                if (!on || !og || !group || !name || !strcmp(on, name) || strcmp(og, group))
                        continue;
                const json_t *an = kjson_get(o, "status.acceptedNames");
                static const char *const res_keys[] = {"plural", "singular"};
                for (size_t k = 0; k < ARRAY_SIZE(res_keys); k++) {
                        const char *v = str_at(an, res_keys[k]);
                        if (v && *v)
                                json_array_append_new(resources, json_string(v));
                }
                size_t j;
                json_t *sn;
                json_array_foreach(json_object_get(an, "shortNames"), j, sn)
                {
                        json_array_append(resources, sn);
                }
                static const char *const kind_keys[] = {"kind", "listKind"};
                for (size_t k = 0; k < ARRAY_SIZE(kind_keys); k++) {
                        const char *v = str_at(an, kind_keys[k]);
                        if (v && *v)
                                json_array_append_new(kinds, json_string(v));
                }
        }
        const json_t *names = kjson_get(crd, "spec.names");
        const char *reason = NULL, *what = NULL;
        if (in_strv(resources, (what = str_at(names, "plural"))))
                reason = "PluralConflict";
        else if (in_strv(resources, (what = str_at(names, "singular"))))
                reason = "SingularConflict";
        else {
                size_t j;
                json_t *sn;
                json_array_foreach(json_object_get(names, "shortNames"), j, sn)
                {
                        if (!reason && in_strv(resources, json_string_value(sn))) {
                                reason = "ShortNamesConflict";
                                what = json_string_value(sn);
                        }
                }
        }
        if (!reason && in_strv(kinds, (what = str_at(names, "kind"))))
                reason = "KindConflict";
        else if (!reason && in_strv(kinds, (what = str_at(names, "listKind"))))
                reason = "ListKindConflict";
        if (reason)
                snprintf(msg, size, "\"%s\" is already in use", what);
        return reason;
}

void crd_status_terminating(json_t *crd, const char *now)
{
        json_t *status = kjson_obj_ensure(crd, "status");
        json_t *conds = json_object_get(status, "conditions");
        if (!json_is_array(conds)) {
                conds = json_array();
                json_object_set_new(status, "conditions", conds);
        }
        set_condition(conds, "Terminating", "True", "InstanceDeletionPending",
                      "CustomResourceDefinition marked for deletion; CustomResource deletion will "
                      "begin soon",
                      now);
}

bool crd_status_establish(json_t *crd, const json_t *all, const char *now)
{
        json_t *status = kjson_obj_ensure(crd, "status");
        bool changed = false;
        json_t *conds = json_object_get(status, "conditions");
        if (!json_is_array(conds)) {
                conds = json_array();
                json_object_set_new(status, "conditions", conds);
                changed = true;
        }
        char msg[512];
        const char *conflict = names_conflict(crd, all, msg, sizeof(msg));
        if (conflict) {
                changed |= set_condition(conds, "NamesAccepted", "False", conflict, msg, now);
                if (!crd_is_established(crd))
                        changed |= set_condition(conds, "Established", "False", "NotAccepted",
                                                 "not all names are accepted", now);
                return changed;
        }
        const json_t *names = kjson_get(crd, "spec.names");
        if (json_is_object(names) &&
            !json_equal(json_object_get(status, "acceptedNames"), (json_t *)names)) {
                json_object_set_new(status, "acceptedNames", json_deep_copy(names));
                changed = true;
        }
        changed |= set_condition(conds, "NamesAccepted", "True", "NoConflicts",
                                 "no conflicts found", now);
        changed |= set_condition(conds, "Established", "True", "InitialNamesAccepted",
                                 "the initial names have been accepted", now);
        const char *sv = storage_version_of(crd);
        json_t *stored = json_object_get(status, "storedVersions");
        if (!json_is_array(stored)) {
                stored = json_array();
                json_object_set_new(status, "storedVersions", stored);
                changed = true;
        }
        bool have = false;
        size_t i;
        json_t *e;
        json_array_foreach(stored, i, e)
        {
                if (sv && json_string_value(e) && !strcmp(json_string_value(e), sv))
                        have = true;
        }
        if (sv && !have) {
                json_array_append_new(stored, json_string(sv));
                changed = true;
        }
        return changed;
}

/* ---- served entries ---- */

static char *deprecation_of(const json_t *crd, const json_t *version);

struct crd_served {
        struct scheme_resource res;
        struct strategy strategy;
        struct scheme_subresource subs[3];
        json_t *crd;           /* own copy */
        const json_t *version; /* in crd */
        const json_t *schema;  /* in crd, or NULL */
        char *storage_version;
        char *storage_api_version; /* "group/<storage version>" */
        char *deprecation;         /* the Warning text when the version is deprecated */
};

static const char *const verbs_all[] = {"delete", "deletecollection", "get",   "list", "patch",
                                        "create", "update",           "watch", NULL};
static const char *const verbs_sub[] = {"get", "patch", "update", NULL};
static const char *const no_fields[] = {NULL};

static const char *const *strv_of(const json_t *arr)
{
        size_t n = json_array_size(arr);
        const char **v = xcalloc(n + 1, sizeof(*v));
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
                const char *s = json_string_value(json_array_get(arr, i));
                if (s)
                        v[o++] = xstrdup(s);
        }
        return v;
}

static const struct crd_served *served_of(const json_t *obj)
{
        const char *av = kjson_str(obj, "apiVersion"), *kind = kjson_str(obj, "kind");
        if (!av || !kind)
                return NULL;
        size_t n;
        const struct scheme_resource *rs = scheme_custom_resources(&n);
        for (size_t i = 0; i < n; i++)
                if (!strcmp(rs[i].api_version, av) && !strcmp(rs[i].kind, kind))
                        return rs[i].custom;
        return NULL;
}

static void cr_defaults(json_t *obj)
{
        const struct crd_served *s = served_of(obj);
        if (s && s->schema)
                crd_schema_default(s->schema, obj);
}

static void check_replicas(const json_t *obj, const char *jp, json_t *causes)
{
        if (!jp)
                return;
        const json_t *v = kjson_get(obj, jp + (*jp == '.'));
        if (!v)
                return;
        if (!json_is_integer(v)) {
                json_t *z = json_integer(0);
                _cleanup_free_ char *val =
                        json_is_string(v) ? xstrdup(json_string_value(v)) : kjson_dump(v);
                const char *goty = json_is_string(v)    ? "string"
                                   : json_is_real(v)    ? "float64"
                                   : json_is_boolean(v) ? "bool"
                                                        : "map[string]interface {}";
                char msg[512];
                snprintf(msg, sizeof(msg),
                         ".%s accessor error: %s is of the type %s, expected int64",
                         jp + (*jp == '.'), val, goty);
                meta_cause_add_json(causes, "FieldValueInvalid", jp, z, msg);
                json_decref(z);
        } else if (json_integer_value(v) < 0) {
                meta_cause_add_json(causes, "FieldValueInvalid", jp, v,
                                    "should be a non-negative integer");
        } else if (json_integer_value(v) > 2147483647) {
                meta_cause_add_json(causes, "FieldValueInvalid", jp, v,
                                    "should be less than or equal to 2147483647");
        }
}

static void cr_validate(const json_t *obj, json_t *causes)
{
        const struct crd_served *s = served_of(obj);
        if (!s)
                return;
        if (s->schema)
                crd_schema_validate(s->schema, obj, causes);
        const json_t *scale = kjson_get(s->version, "subresources.scale");
        if (json_is_object(scale) && !json_array_size(causes)) {
                check_replicas(obj, str_at(scale, "specReplicasPath"), causes);
                check_replicas(obj, str_at(scale, "statusReplicasPath"), causes);
        }
}

static char *strip_dot(const char *p)
{
        return p ? xstrdup(p + (*p == '.')) : NULL;
}

static void served_add(struct scheme_resource **arr, size_t *n, size_t *cap, const json_t *crd,
                       const json_t *version)
{
        struct crd_served *s = xcalloc(1, sizeof(*s));
        s->crd = json_deep_copy(crd);
        size_t vi;
        json_t *v;
        json_array_foreach(kjson_get(s->crd, "spec.versions"), vi, v)
        {
                if (!strcmp(str_at(v, "name"), str_at(version, "name")))
                        s->version = v;
        }
        const json_t *spec = json_object_get(s->crd, "spec");
        const json_t *names = json_object_get(spec, "names");
        const char *group = str_at(spec, "group");
        const char *vname = str_at(s->version, "name");
        const char *sv = storage_version_of(s->crd);
        s->storage_version = xstrdup(sv ? sv : vname);
        s->storage_api_version = xasprintf("%s/%s", group, s->storage_version);
        s->schema = kjson_get(s->version, "schema.openAPIV3Schema");
        s->deprecation = deprecation_of(s->crd, s->version);
        struct scheme_resource *r = &s->res;
        r->group = xstrdup(group);
        r->version = xstrdup(vname);
        r->kind = xstrdup(str_at(names, "kind"));
        const char *lk = str_at(names, "listKind");
        r->list_kind = lk ? xstrdup(lk) : xasprintf("%sList", r->kind);
        r->resource = xstrdup(str_at(names, "plural"));
        const char *sing = str_at(names, "singular");
        r->singular = xstrdup(sing ? sing : "");
        r->namespaced = !strcmp(str_at(spec, "scope") ? str_at(spec, "scope") : "", "Namespaced");
        r->short_names = strv_of(json_object_get(names, "shortNames"));
        r->categories = strv_of(json_object_get(names, "categories"));
        r->verbs = verbs_all;
        r->api_version = xasprintf("%s/%s", group, vname);
        r->custom = s;
        const json_t *subs = json_object_get(s->version, "subresources");
        size_t ns = 0;
        bool status = json_object_get(subs, "status") != NULL;
        const json_t *scale = json_object_get(subs, "scale");
        if (scale)
                s->subs[ns++] = (struct scheme_subresource){"scale", "Scale", verbs_sub,
                                                            "autoscaling", "v1"};
        if (status)
                s->subs[ns++] =
                        (struct scheme_subresource){"status", r->kind, verbs_sub, NULL, NULL};
        r->subresources = s->subs;
        struct strategy *st = &s->strategy;
        st->group = r->group;
        st->resource = r->resource;
        st->name_rule = META_NAME_SUBDOMAIN;
        st->generation = true;
        st->top_fields = no_fields;
        /* selectableFields (CustomResourceFieldSelectors, on in 1.31): ".spec.color" */
        const json_t *sf = json_object_get(s->version, "selectableFields");
        const char **fs = xcalloc(json_array_size(sf) + 1, sizeof(*fs));
        size_t nfs = 0, fi;
        json_t *fv;
        json_array_foreach(sf, fi, fv)
        {
                const char *jp = str_at(fv, "jsonPath");
                if (jp && *jp)
                        fs[nfs++] = strip_dot(jp);
        }
        st->field_selectors = fs;
        st->defaults = cr_defaults;
        st->validate = cr_validate;
        st->drop_status_on_create = status;
        if (json_is_object(scale)) {
                st->scale_replicas = strip_dot(str_at(scale, "specReplicasPath"));
                st->scale_status_replicas = strip_dot(str_at(scale, "statusReplicasPath"));
                st->scale_selector = strip_dot(str_at(scale, "labelSelectorPath"));
                st->selector_is_string = true;
        }
        if (*n == *cap) {
                *cap = *cap ? 2 * *cap : 8;
                *arr = xrealloc(*arr, *cap * sizeof(**arr));
        }
        (*arr)[(*n)++] = *r;
}

static const struct scheme_resource *served_prev(const json_t *crd, const char *version)
{
        const char *uid = kjson_str(crd, "metadata.uid");
        const char *rv = kjson_str(crd, "metadata.resourceVersion");
        if (!uid || !rv)
                return NULL;
        size_t n;
        const struct scheme_resource *rs = scheme_custom_resources(&n);
        for (size_t i = 0; i < n; i++) {
                const struct crd_served *s = rs[i].custom;
                const char *ouid = kjson_str(s->crd, "metadata.uid");
                const char *orv = kjson_str(s->crd, "metadata.resourceVersion");
                if (ouid && orv && !strcmp(ouid, uid) && !strcmp(orv, rv) &&
                    !strcmp(rs[i].version, version))
                        return &rs[i];
        }
        return NULL;
}

void crd_registry_install(const json_t *crds)
{
        struct scheme_resource *arr = NULL;
        size_t n = 0, cap = 0;
        size_t i;
        json_t *crd;
        json_array_foreach(crds, i, crd)
        {
                if (!crd_is_established(crd) || kjson_get(crd, "metadata.deletionTimestamp"))
                        continue;
                size_t vi;
                json_t *v;
                json_array_foreach(kjson_get(crd, "spec.versions"), vi, v)
                {
                        if (!is_true(v, "served") || !str_at(v, "name"))
                                continue;
                        /* the same CRD object (uid and resourceVersion) as before: the entry is
                         * reused (entries are never freed: no new copy per CRD write) */
                        const struct scheme_resource *prev = served_prev(crd, str_at(v, "name"));
                        if (prev) {
                                if (n == cap) {
                                        cap = cap ? 2 * cap : 8;
                                        arr = xrealloc(arr, cap * sizeof(*arr));
                                }
                                arr[n++] = *prev;
                                continue;
                        }
                        served_add(&arr, &n, &cap, crd, v);
                }
        }
        scheme_custom_set(arr, n);
        free(arr);
}

const struct strategy *crd_served_strategy(const void *custom)
{
        return &((const struct crd_served *)custom)->strategy;
}

const json_t *crd_served_schema(const struct scheme_resource *r)
{
        return r->custom ? ((const struct crd_served *)r->custom)->schema : NULL;
}

const json_t *crd_served_crd(const struct scheme_resource *r)
{
        return r->custom ? ((const struct crd_served *)r->custom)->crd : NULL;
}

const char *crd_served_storage_version(const struct scheme_resource *r)
{
        return r->custom ? ((const struct crd_served *)r->custom)->storage_version : r->version;
}

const char *crd_storage_api_version(const char *api_version, const char *kind)
{
        if (!api_version || !kind || !strchr(api_version, '/'))
                return NULL;
        size_t n;
        const struct scheme_resource *rs = scheme_custom_resources(&n);
        for (size_t i = 0; i < n; i++) {
                if (strcmp(rs[i].api_version, api_version) || strcmp(rs[i].kind, kind))
                        continue;
                const struct crd_served *s = rs[i].custom;
                return strcmp(s->storage_api_version, api_version) ? s->storage_api_version : NULL;
        }
        return NULL;
}

/* k8s.io/apimachinery/pkg/version.CompareKubeAwareVersionStrings: v2 > v1 > v1beta2 >
 * v1beta1 > v1alpha1 > anything else (then alphabetical). < 0 when a sorts before b. */
static int kube_version_rank(const char *v, long *major, int *stage, long *minor)
{
        *major = *minor = 0;
        *stage = 0;
        if (v[0] != 'v' || !isdigit((unsigned char)v[1]))
                return -1;
        char *end;
        *major = strtol(v + 1, &end, 10);
        if (!*end) {
                *stage = 3;
                return 0;
        }
        if (!strncmp(end, "beta", 4))
                *stage = 2, end += 4;
        else if (!strncmp(end, "alpha", 5))
                *stage = 1, end += 5;
        else
                return -1;
        if (!isdigit((unsigned char)*end))
                return -1;
        *minor = strtol(end, &end, 10);
        return *end ? -1 : 0;
}

static int kube_version_cmp(const char *a, const char *b)
{
        long ma, mb, na, nb;
        int sa, sb;
        bool ka = kube_version_rank(a, &ma, &sa, &na) == 0;
        bool kb = kube_version_rank(b, &mb, &sb, &nb) == 0;
        if (ka != kb)
                return ka ? 1 : -1;
        if (!ka)
                return -strcmp(a, b); /* non-kube versions: alphabetical, first is greater */
        if (sa != sb)
                return sa == 3 ? 1 : sb == 3 ? -1 : (ma != mb ? (ma > mb ? 1 : -1) : sa - sb);
        if (ma != mb)
                return ma > mb ? 1 : -1;
        return na == nb ? 0 : na > nb ? 1 : -1;
}

/* defaultDeprecationWarning of the apiextensions-apiserver. */
static char *deprecation_of(const json_t *crd, const json_t *version)
{
        if (!is_true(version, "deprecated"))
                return NULL;
        const char *custom = str_at(version, "deprecationWarning");
        if (custom)
                return xstrdup(custom);
        const char *group = kjson_str(crd, "spec.group"), *kind = kjson_str(crd, "spec.names.kind");
        const char *vn = str_at(version, "name");
        const char *best = NULL;
        size_t i;
        json_t *v;
        json_array_foreach(kjson_get(crd, "spec.versions"), i, v)
        {
                const char *n = str_at(v, "name");
                if (!n || !is_true(v, "served") || is_true(v, "deprecated") ||
                    kube_version_cmp(vn, n) >= 0)
                        continue;
                if (!best || kube_version_cmp(n, best) > 0)
                        best = n;
        }
        if (!best)
                return xasprintf("%s/%s %s is deprecated", group, vn, kind);
        return xasprintf("%s/%s %s is deprecated; use %s/%s %s", group, vn, kind, group, best,
                         kind);
}

const char *crd_served_deprecation(const struct scheme_resource *r)
{
        return r->custom ? ((const struct crd_served *)r->custom)->deprecation : NULL;
}

/* ---- JSONPath (the simple subset printer columns use) ---- */

const json_t *crd_jsonpath(const json_t *obj, const char *path)
{
        const json_t *cur = obj;
        const char *p = path;
        if (!p)
                return NULL;
        if (*p == '{') /* "{.spec.x}" */
                p++;
        while (*p && *p != '}') {
                if (!cur)
                        return NULL;
                if (*p == '.') {
                        p++;
                        size_t n = strcspn(p, ".[}");
                        if (!n)
                                continue;
                        cur = json_is_object(cur) ? json_object_getn(cur, p, n) : NULL;
                        p += n;
                } else if (*p == '[') {
                        const char *end = strchr(p, ']');
                        if (!end)
                                return NULL;
                        if (p[1] == '?') {
                                /* [?(@.key=="value")] */
                                const char *at = strstr(p, "@.");
                                const char *eq = strstr(p, "==");
                                if (!at || !eq || eq > end || at > eq)
                                        return NULL;
                                _cleanup_free_ char *key = strndup(at + 2, (size_t)(eq - at - 2));
                                const char *val = eq + 2;
                                while (*val == ' ')
                                        val++;
                                char quote = (*val == '"' || *val == '\'') ? *val : 0;
                                if (quote)
                                        val++;
                                const char *vend = quote ? strchr(val, quote) : strchr(val, ')');
                                if (!vend || vend > end)
                                        return NULL;
                                _cleanup_free_ char *want = strndup(val, (size_t)(vend - val));
                                const json_t *found = NULL;
                                size_t i;
                                json_t *e;
                                json_array_foreach(cur, i, e)
                                {
                                        const char *s = kjson_str(e, key);
                                        if (!found && s && !strcmp(s, want))
                                                found = e;
                                }
                                cur = found;
                        } else {
                                char *e2;
                                long idx = strtol(p + 1, &e2, 10);
                                if (e2 != end || !json_is_array(cur))
                                        return NULL;
                                if (idx < 0)
                                        idx += (long)json_array_size(cur);
                                cur = idx >= 0 ? json_array_get(cur, (size_t)idx) : NULL;
                        }
                        p = end + 1;
                } else {
                        return NULL;
                }
        }
        return cur;
}

/* ---- printing ---- */

#define NAME_DESC                                                                                  \
        "Name must be unique within a namespace. Is required when creating resources, although "   \
        "some resources may allow a client to request the generation of an appropriate name "      \
        "automatically. Name is primarily intended for creation idempotence and configuration "    \
        "definition. Cannot be updated. More info: "                                               \
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"

static json_t *columns_of(const struct scheme_resource *r)
{
        const struct crd_served *s = r->custom;
        const json_t *cols = json_object_get(s->version, "additionalPrinterColumns");
        if (json_array_size(cols))
                return json_incref((json_t *)cols);
        return json_pack("[{s:s,s:s,s:s,s:s}]", "name", "Age", "type", "date", "jsonPath",
                         ".metadata.creationTimestamp", "description",
                         "CreationTimestamp is a timestamp representing the server time when "
                         "this object was created. It is not guaranteed to be set in "
                         "happens-before order across separate operations. Clients may not set "
                         "this value. It is represented in RFC3339 form and is in UTC.\n\n"
                         "Populated by the system. Read-only. Null for lists. More info: "
                         "https://git.k8s.io/community/contributors/devel/sig-architecture/"
                         "api-conventions.md#metadata");
}

json_t *crd_table_columns(const struct scheme_resource *r)
{
        json_t *a = json_array();
        json_array_append_new(a,
                              json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", "Name", "type", "string",
                                        "format", "name", "description", NAME_DESC, "priority", 0));
        json_t *cols = columns_of(r);
        size_t i;
        json_t *c;
        json_array_foreach(cols, i, c)
        {
                const char *d = str_at(c, "description"), *f = str_at(c, "format");
                json_array_append_new(
                        a, json_pack("{s:s,s:s,s:s,s:s,s:I}", "name", str_at(c, "name") ?: "",
                                     "type", str_at(c, "type") ?: "string", "format", f ? f : "",
                                     "description", d ? d : "", "priority",
                                     (json_int_t)kjson_int(c, "priority", 0)));
        }
        json_decref(cols);
        return a;
}

static json_t *cell_of(const char *type, const json_t *v, time_t now)
{
        if (!v || json_is_null(v))
                return json_null();
        if (!strcmp(type, "string")) {
                if (json_is_string(v))
                        return json_incref((json_t *)v);
                if (json_is_number(v) || json_is_boolean(v)) {
                        char *s = kjson_dump(v);
                        json_t *r = json_string(s);
                        free(s);
                        return r;
                }
                char *s = kjson_dump(v);
                json_t *r = json_string(s);
                free(s);
                return r;
        }
        if (!strcmp(type, "integer")) {
                if (json_is_integer(v))
                        return json_incref((json_t *)v);
                if (json_is_real(v))
                        return json_integer((json_int_t)json_real_value(v));
        } else if (!strcmp(type, "number")) {
                if (json_is_number(v))
                        return json_real(json_number_value(v));
        } else if (!strcmp(type, "boolean")) {
                if (json_is_boolean(v))
                        return json_incref((json_t *)v);
        } else if (!strcmp(type, "date")) {
                if (json_is_string(v)) {
                        struct timespec t;
                        if (timefmt_parse_rfc3339(json_string_value(v), &t) < 0)
                                return json_string("<invalid>");
                        if (t.tv_sec <= 0)
                                return json_string("<unknown>");
                        char buf[16];
                        timefmt_age(buf, (int64_t)now - (int64_t)t.tv_sec);
                        return json_string(buf);
                }
        }
        return json_null();
}

json_t *crd_table_cells(const struct scheme_resource *r, const json_t *obj, time_t now)
{
        const char *name = kjson_str(obj, "metadata.name");
        json_t *cells = json_pack("[s]", name ? name : "");
        json_t *cols = columns_of(r);
        size_t i;
        json_t *c;
        json_array_foreach(cols, i, c)
        {
                const json_t *v = crd_jsonpath(obj, str_at(c, "jsonPath"));
                const char *type = str_at(c, "type");
                json_array_append_new(cells, cell_of(type ? type : "string", v, now));
        }
        json_decref(cols);
        return cells;
}

/* ---- OpenAPI ---- */

json_t *crd_openapi_schema(const struct scheme_resource *r, char *name, size_t size)
{
        const struct crd_served *s = r->custom;
        /* the reversed group: "stable.example.com" -> "com.example.stable" */
        char rev[256] = "";
        size_t off = 0;
        const char *g = r->group;
        const char *end = g + strlen(g);
        while (end > g) {
                const char *dot = end - 1;
                while (dot > g && *dot != '.')
                        dot--;
                const char *seg = *dot == '.' ? dot + 1 : dot;
                off += (size_t)snprintf(rev + off, sizeof(rev) - off, "%s%.*s", off ? "." : "",
                                        (int)(end - seg), seg);
                if (off >= sizeof(rev))
                        break;
                end = dot;
        }
        snprintf(name, size, "%s.%s.%s", rev, r->version, r->kind);
        json_t *sch = s->schema ? json_deep_copy(s->schema) : json_pack("{s:s}", "type", "object");
        json_t *props = kjson_obj_ensure(sch, "properties");
        json_object_set_new(
                props, "apiVersion",
                json_pack("{s:s,s:s}", "description",
                          "APIVersion defines the versioned schema of this representation of an "
                          "object. Servers should convert recognized schemas to the latest "
                          "internal value, and may reject unrecognized values. More info: "
                          "https://git.k8s.io/community/contributors/devel/sig-architecture/"
                          "api-conventions.md#resources",
                          "type", "string"));
        json_object_set_new(
                props, "kind",
                json_pack("{s:s,s:s}", "description",
                          "Kind is a string value representing the REST resource this object "
                          "represents. Servers may infer this from the endpoint the client "
                          "submits requests to. Cannot be updated. In CamelCase. More info: "
                          "https://git.k8s.io/community/contributors/devel/sig-architecture/"
                          "api-conventions.md#types-kinds",
                          "type", "string"));
        json_object_set_new(
                props, "metadata",
                json_pack("{s:[{s:s}],s:s,s:{}}", "allOf", "$ref",
                          "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                          "description",
                          "Standard object's metadata. More info: "
                          "https://git.k8s.io/community/contributors/devel/sig-architecture/"
                          "api-conventions.md#metadata",
                          "default"));
        json_object_set_new(sch, "x-kubernetes-group-version-kind",
                            json_pack("[{s:s,s:s,s:s}]", "group", r->group, "kind", r->kind,
                                      "version", r->version));
        return sch;
}

/* ---- the CustomResourceDefinition kind's own schema ---- */

/* apiextensions.k8s.io/v1 CustomResourceDefinition as a structural schema (the Go types of
 * k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1, with their descriptions);
 * openAPIV3Schema itself is checked by crd_schema_unknown_keys. */
static const char crd_kind_schema_json[] =
        "{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\",\"properties\":{\"con"
        "version\":{\"type\":\"object\",\"properties\":{\"strategy\":{\"type\":\"string\",\"descr"
        "iption\":\"strategy specifies how custom resources are converted between versions. Allow"
        "ed values are: - `\\\"None\\\"`: The converter only change the apiVersion and would not "
        "touch any other field in the custom resource. - `\\\"Webhook\\\"`: API Server will call "
        "to an external webhook to do the conversion.\"},\"webhook\":{\"type\":\"object\",\"prope"
        "rties\":{\"clientConfig\":{\"type\":\"object\",\"properties\":{\"caBundle\":{\"type\":\""
        "string\",\"format\":\"byte\"},\"service\":{\"type\":\"object\",\"properties\":{\"name\":"
        "{\"type\":\"string\"},\"namespace\":{\"type\":\"string\"},\"path\":{\"type\":\"string\"}"
        ",\"port\":{\"type\":\"integer\",\"format\":\"int32\"}},\"required\":[\"namespace\",\"nam"
        "e\"]},\"url\":{\"type\":\"string\"}}},\"conversionReviewVersions\":{\"type\":\"array\","
        "\"items\":{\"type\":\"string\"}}},\"required\":[\"conversionReviewVersions\"]}},\"descri"
        "ption\":\"conversion defines conversion settings for the CRD.\",\"required\":[\"strategy"
        "\"]},\"group\":{\"type\":\"string\",\"description\":\"group is the API group of the defi"
        "ned custom resource. The custom resources are served under `/apis/<group>/...`. Must mat"
        "ch the name of the CustomResourceDefinition (in the form `<names.plural>.<group>`).\"},"
        "\"names\":{\"type\":\"object\",\"properties\":{\"categories\":{\"type\":\"array\",\"item"
        "s\":{\"type\":\"string\"},\"description\":\"categories is a list of grouped resources th"
        "is custom resource belongs to (e.g. 'all').\"},\"kind\":{\"type\":\"string\",\"descripti"
        "on\":\"kind is the serialized kind of the resource. It is normally CamelCase and singula"
        "r.\"},\"listKind\":{\"type\":\"string\",\"description\":\"listKind is the serialized kin"
        "d of the list for this resource. Defaults to \\\"`kind`List\\\".\"},\"plural\":{\"type\""
        ":\"string\",\"description\":\"plural is the plural name of the resource to serve. The cu"
        "stom resources are served under `/apis/<group>/<version>/.../<plural>`.\"},\"shortNames"
        "\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":\"shortNames are "
        "short names for the resource, exposed in API discovery documents.\"},\"singular\":{\"typ"
        "e\":\"string\",\"description\":\"singular is the singular name of the resource. It must "
        "be all lowercase. Defaults to lowercased `kind`.\"}},\"description\":\"names specify the"
        " resource and kind names for the custom resource.\",\"required\":[\"plural\",\"kind\"]},"
        "\"preserveUnknownFields\":{\"type\":\"boolean\",\"description\":\"preserveUnknownFields "
        "indicates that object fields which are not specified in the OpenAPI schema should be pre"
        "served when persisting to storage.\"},\"scope\":{\"type\":\"string\",\"description\":\"s"
        "cope indicates whether the defined custom resource is cluster- or namespace-scoped. Allo"
        "wed values are `Cluster` and `Namespaced`.\"},\"versions\":{\"type\":\"array\",\"items\""
        ":{\"type\":\"object\",\"properties\":{\"additionalPrinterColumns\":{\"type\":\"array\","
        "\"items\":{\"type\":\"object\",\"properties\":{\"description\":{\"type\":\"string\",\"de"
        "scription\":\"description is a human readable description of this column.\"},\"format\":"
        "{\"type\":\"string\",\"description\":\"format is an optional OpenAPI type definition for"
        " this column.\"},\"jsonPath\":{\"type\":\"string\",\"description\":\"jsonPath is a simpl"
        "e JSON path (i.e. with array notation) which is evaluated against each custom resource t"
        "o produce the value for this column.\"},\"name\":{\"type\":\"string\",\"description\":\""
        "name is a human readable name for the column.\"},\"priority\":{\"type\":\"integer\",\"fo"
        "rmat\":\"int32\",\"description\":\"priority is an integer defining the relative importan"
        "ce of this column compared to others. Lower numbers are considered higher priority. Colu"
        "mns that may be omitted in limited space scenarios should be given a priority greater th"
        "an 0.\"},\"type\":{\"type\":\"string\",\"description\":\"type is an OpenAPI type definit"
        "ion for this column.\"}},\"description\":\"CustomResourceColumnDefinition specifies a co"
        "lumn for server side printing.\",\"required\":[\"name\",\"type\",\"jsonPath\"]},\"descri"
        "ption\":\"additionalPrinterColumns specifies additional columns returned in Table output"
        ". If no columns are specified, a single column displaying the age of the custom resource"
        " is used.\"},\"deprecated\":{\"type\":\"boolean\",\"description\":\"deprecated indicates"
        " this version of the custom resource API is deprecated.\"},\"deprecationWarning\":{\"typ"
        "e\":\"string\",\"description\":\"deprecationWarning overrides the default warning return"
        "ed to API clients.\"},\"name\":{\"type\":\"string\",\"description\":\"name is the versio"
        "n name, e.g. “v1”, “v2beta1”, etc.\"},\"schema\":{\"type\":\"object\",\"properties\":{\""
        "openAPIV3Schema\":{\"type\":\"object\",\"properties\":{},\"x-kubernetes-preserve-unknown"
        "-fields\":true,\"description\":\"openAPIV3Schema is the OpenAPI v3 schema to use for val"
        "idation and pruning.\"}},\"description\":\"schema describes the schema used for validati"
        "on, pruning, and defaulting of this version of the custom resource.\"},\"selectableField"
        "s\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"jsonPath\":{\"t"
        "ype\":\"string\"}},\"required\":[\"jsonPath\"]},\"description\":\"selectableFields speci"
        "fies paths to fields that may be used as field selectors.\"},\"served\":{\"type\":\"bool"
        "ean\",\"description\":\"served is a flag enabling/disabling this version from being serv"
        "ed via REST APIs\"},\"storage\":{\"type\":\"boolean\",\"description\":\"storage indicate"
        "s this version should be used when persisting custom resources to storage. There must be"
        " exactly one version with storage=true.\"},\"subresources\":{\"type\":\"object\",\"prope"
        "rties\":{\"scale\":{\"type\":\"object\",\"properties\":{\"labelSelectorPath\":{\"type\":"
        "\"string\"},\"specReplicasPath\":{\"type\":\"string\"},\"statusReplicasPath\":{\"type\":"
        "\"string\"}},\"description\":\"scale indicates the custom resource should serve a `/scal"
        "e` subresource that returns an `autoscaling/v1` Scale object.\",\"required\":[\"specRepl"
        "icasPath\",\"statusReplicasPath\"]},\"status\":{\"type\":\"object\",\"properties\":{},\""
        "x-kubernetes-preserve-unknown-fields\":true,\"description\":\"status indicates the custo"
        "m resource should serve a `/status` subresource.\"}},\"description\":\"subresources spec"
        "ify what subresources this version of the defined custom resource have.\"}},\"descriptio"
        "n\":\"CustomResourceDefinitionVersion describes a version for CRD.\",\"required\":[\"nam"
        "e\",\"served\",\"storage\"]},\"description\":\"versions is the list of all API versions "
        "of the defined custom resource.\"}},\"description\":\"spec describes how the user wants "
        "the resources to appear\",\"required\":[\"group\",\"names\",\"scope\",\"versions\"]},\"s"
        "tatus\":{\"type\":\"object\",\"properties\":{\"acceptedNames\":{\"type\":\"object\",\"pr"
        "operties\":{\"categories\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"descrip"
        "tion\":\"categories is a list of grouped resources this custom resource belongs to (e.g."
        " 'all').\"},\"kind\":{\"type\":\"string\",\"description\":\"kind is the serialized kind "
        "of the resource. It is normally CamelCase and singular.\"},\"listKind\":{\"type\":\"stri"
        "ng\",\"description\":\"listKind is the serialized kind of the list for this resource. De"
        "faults to \\\"`kind`List\\\".\"},\"plural\":{\"type\":\"string\",\"description\":\"plura"
        "l is the plural name of the resource to serve. The custom resources are served under `/a"
        "pis/<group>/<version>/.../<plural>`.\"},\"shortNames\":{\"type\":\"array\",\"items\":{\""
        "type\":\"string\"},\"description\":\"shortNames are short names for the resource, expose"
        "d in API discovery documents.\"},\"singular\":{\"type\":\"string\",\"description\":\"sin"
        "gular is the singular name of the resource. It must be all lowercase. Defaults to lowerc"
        "ased `kind`.\"}},\"description\":\"acceptedNames are the names that are actually being u"
        "sed to serve discovery.\",\"required\":[\"plural\",\"kind\"]},\"conditions\":{\"type\":"
        "\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"lastTransitionTime\":{\"type"
        "\":\"string\",\"format\":\"date-time\"},\"message\":{\"type\":\"string\"},\"reason\":{\""
        "type\":\"string\"},\"status\":{\"type\":\"string\"},\"type\":{\"type\":\"string\"}},\"re"
        "quired\":[\"type\",\"status\"]},\"description\":\"conditions indicate state for particul"
        "ar aspects of a CustomResourceDefinition\"},\"storedVersions\":{\"type\":\"array\",\"ite"
        "ms\":{\"type\":\"string\"},\"description\":\"storedVersions lists all versions of Custom"
        "Resources that were ever persisted.\"}},\"description\":\"status indicates the actual st"
        "ate of the CustomResourceDefinition\"}},\"description\":\"CustomResourceDefinition repre"
        "sents a resource that should be exposed on the API server.  Its name MUST be in the form"
        "at <.spec.name>.<.spec.group>.\",\"required\":[\"spec\"]}";

static json_t *kind_schema;
static pthread_once_t kind_once = PTHREAD_ONCE_INIT;

static void kind_schema_load(void)
{
        kind_schema = json_loads(crd_kind_schema_json, 0, NULL);
}

const json_t *crd_kind_schema(void)
{
        pthread_once(&kind_once, kind_schema_load);
        return kind_schema;
}

json_t *crd_kind_openapi(char *name, size_t size)
{
        snprintf(name, size,
                 "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."
                 "CustomResourceDefinition");
        const json_t *ks = crd_kind_schema();
        json_t *sch = ks ? json_deep_copy(ks) : json_pack("{s:s}", "type", "object");
        json_t *props = kjson_obj_ensure(sch, "properties");
        json_object_set_new(props, "apiVersion", json_pack("{s:s}", "type", "string"));
        json_object_set_new(props, "kind", json_pack("{s:s}", "type", "string"));
        json_object_set_new(
                props, "metadata",
                json_pack("{s:[{s:s}],s:{}}", "allOf", "$ref",
                          "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                          "default"));
        json_object_set_new(sch, "x-kubernetes-group-version-kind",
                            json_pack("[{s:s,s:s,s:s}]", "group", "apiextensions.k8s.io", "kind",
                                      "CustomResourceDefinition", "version", "v1"));
        return sch;
}

static bool schema_key_known(const char *k)
{
        static const char *const known[] = {"id",
                                            "$schema",
                                            "$ref",
                                            "description",
                                            "type",
                                            "format",
                                            "title",
                                            "default",
                                            "maximum",
                                            "exclusiveMaximum",
                                            "minimum",
                                            "exclusiveMinimum",
                                            "maxLength",
                                            "minLength",
                                            "pattern",
                                            "maxItems",
                                            "minItems",
                                            "uniqueItems",
                                            "multipleOf",
                                            "enum",
                                            "maxProperties",
                                            "minProperties",
                                            "required",
                                            "items",
                                            "allOf",
                                            "oneOf",
                                            "anyOf",
                                            "not",
                                            "properties",
                                            "additionalProperties",
                                            "patternProperties",
                                            "dependencies",
                                            "additionalItems",
                                            "definitions",
                                            "externalDocs",
                                            "example",
                                            "nullable",
                                            "x-kubernetes-preserve-unknown-fields",
                                            "x-kubernetes-embedded-resource",
                                            "x-kubernetes-int-or-string",
                                            "x-kubernetes-list-map-keys",
                                            "x-kubernetes-list-type",
                                            "x-kubernetes-map-type",
                                            "x-kubernetes-validations"};
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
                if (!strcmp(known[i], k))
                        return true;
        return false;
}

static void unknown_keys_node(json_t *s, const char *path, json_t *out, size_t max, int depth)
{
        if (!json_is_object(s) || depth > MAX_DEPTH)
                return;
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(s, tmp, k, v)
        {
                if (schema_key_known(k))
                        continue;
                _cleanup_free_ char *p = xasprintf("%s.%s", path, k);
                unknown_add(out, max, p);
                json_object_del(s, k);
        }
        static const char *const maps[] = {"properties", "patternProperties", "definitions"};
        for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
                json_object_foreach(json_object_get(s, maps[i]), k, v)
                {
                        _cleanup_free_ char *p = xasprintf("%s.%s.%s", path, maps[i], k);
                        unknown_keys_node(v, p, out, max, depth + 1);
                }
        }
        static const char *const subs[] = {"items", "additionalProperties", "not",
                                           "additionalItems"};
        for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
                _cleanup_free_ char *p = xasprintf("%s.%s", path, subs[i]);
                unknown_keys_node(json_object_get(s, subs[i]), p, out, max, depth + 1);
        }
        static const char *const lists[] = {"allOf", "oneOf", "anyOf"};
        for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
                size_t j;
                json_array_foreach(json_object_get(s, lists[i]), j, v)
                {
                        _cleanup_free_ char *p = xasprintf("%s.%s[%zu]", path, lists[i], j);
                        unknown_keys_node(v, p, out, max, depth + 1);
                }
        }
}

void crd_schema_unknown_keys(json_t *crd, json_t *out, size_t max)
{
        size_t i;
        json_t *v;
        json_array_foreach(kjson_get(crd, "spec.versions"), i, v)
        {
                _cleanup_free_ char *p = xasprintf("spec.versions[%zu].schema.openAPIV3Schema", i);
                unknown_keys_node(kjson_get(v, "schema.openAPIV3Schema"), p, out, max, 0);
        }
}
