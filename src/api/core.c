/* core.c — core/v1 defaults and validation (see core.h). */
#include "api/core.h"

#include <stdio.h>

#include "api/labels.h"
#include "api/meta.h"
#include "api/podtemplate.h"
#include "api/quantity.h"
#include "api/strategy.h"
#include "common/kjson.h"

static const char *const rp_always[] = {"Always", NULL};
static const char *const rp_any[] = {"Always", "OnFailure", "Never", NULL};

static void set_default(json_t *obj, const char *key, json_t *v)
{
        if (!json_object_get(obj, key) || json_is_null(json_object_get(obj, key)))
                json_object_set_new(obj, key, v);
        else
                json_decref(v);
}

void core_namespace_defaults(json_t *obj)
{
        const char *name = kjson_str(obj, "metadata.name");
        if (name)
                json_object_set_new(kjson_obj_ensure_path(obj, "metadata.labels"),
                                    "kubernetes.io/metadata.name", json_string(name));
        json_t *spec = kjson_obj_ensure(obj, "spec");
        if (!json_object_get(spec, "finalizers"))
                json_object_set_new(spec, "finalizers", json_pack("[s]", "kubernetes"));
        json_t *status = kjson_obj_ensure(obj, "status");
        if (!kjson_str(status, "phase"))
                json_object_set_new(status, "phase", json_string("Active"));
}

char *core_base64(const unsigned char *p, size_t n)
{
        static const char tbl[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *out = xmalloc(4 * ((n + 2) / 3) + 1), *o = out;
        for (size_t i = 0; i < n; i += 3) {
                unsigned v = (unsigned)p[i] << 16;
                if (i + 1 < n)
                        v |= (unsigned)p[i + 1] << 8;
                if (i + 2 < n)
                        v |= p[i + 2];
                *o++ = tbl[(v >> 18) & 63];
                *o++ = tbl[(v >> 12) & 63];
                *o++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
                *o++ = i + 2 < n ? tbl[v & 63] : '=';
        }
        *o = 0;
        return out;
}

/* ConfigMap/Secret keys: IsConfigMapKey. */
static void validate_keys(const json_t *map, const char *field, json_t *causes)
{
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)map, k, v)
        {
                bool ok = *k && strlen(k) <= 253 && strcmp(k, ".") && strcmp(k, "..") &&
                          strncmp(k, "..", 2);
                for (const char *c = k; ok && *c; c++)
                        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                             (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.';
                if (ok)
                        continue;
                char f[512];
                snprintf(f, sizeof(f), "%s[%s]", field, k);
                meta_cause_add(causes, "FieldValueInvalid", f, k,
                               "a valid config key must consist of alphanumeric characters, "
                               "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
                               "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
        }
}

#define CORE_MAX_DATA_BYTES (1024 * 1024) /* api.MaxSecretSize, also ConfigMaps */

/* Bytes of a base64 value once decoded (an estimate good to a byte for valid input). */
static size_t b64_len(const char *s)
{
        size_t n = strlen(s);
        size_t pad = n >= 1 && s[n - 1] == '=' ? (n >= 2 && s[n - 2] == '=' ? 2 : 1) : 0;
        return n / 4 * 3 - (n % 4 ? 0 : pad) + (n % 4 ? (n % 4) * 3 / 4 : 0);
}

/* The sum of the values' sizes (decoded when base64) over 1 MiB: the whole object is too long. */
static void check_total_size(const json_t *plain, const json_t *b64, json_t *causes)
{
        size_t total = 0;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)plain, k, v)
        {
                total += json_is_string(v) ? json_string_length(v) : 0;
        }
        json_object_foreach((json_t *)b64, k, v)
        {
                total += json_is_string(v) ? b64_len(json_string_value(v)) : 0;
        }
        if (total > CORE_MAX_DATA_BYTES)
                meta_cause_add(causes, "FieldValueTooLong", "", NULL,
                               "may not be more than 1048576 bytes");
}

void core_configmap_validate(const json_t *obj, json_t *causes)
{
        validate_keys(json_object_get(obj, "data"), "data", causes);
        validate_keys(json_object_get(obj, "binaryData"), "binaryData", causes);
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(obj, "binaryData"), k, v)
        {
                if (json_object_get(json_object_get(obj, "data"), k)) {
                        char f[512];
                        snprintf(f, sizeof(f), "data[%s]", k);
                        meta_cause_add(causes, "FieldValueInvalid", f, k,
                                       "duplicate of key present in binaryData");
                }
        }
        check_total_size(json_object_get(obj, "data"), json_object_get(obj, "binaryData"), causes);
}

static void immutable_data(const json_t *newobj, const json_t *oldobj, const char *const *keys,
                           json_t *causes)
{
        bool was = kjson_bool(oldobj, "immutable", false);
        if (was && !kjson_bool(newobj, "immutable", false))
                meta_cause_add(causes, "FieldValueForbidden", "immutable", NULL,
                               "field is immutable when `immutable` is set");
        if (!was)
                return;
        for (const char *const *k = keys; *k; k++)
                if (!kjson_equal(json_object_get(newobj, *k), json_object_get(oldobj, *k)))
                        meta_cause_add(causes, "FieldValueForbidden", *k, NULL,
                                       "field is immutable when `immutable` is set");
}

void core_configmap_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes)
{
        static const char *const keys[] = {"data", "binaryData", NULL};
        immutable_data(newobj, oldobj, keys, causes);
}

void core_secret_defaults(json_t *obj)
{
        json_t *sd = json_object_get(obj, "stringData");
        if (json_is_object(sd)) {
                json_t *data = kjson_obj_ensure(obj, "data");
                const char *k;
                json_t *v;
                json_object_foreach(sd, k, v)
                {
                        const char *str = json_string_value(v);
                        if (!str)
                                continue;
                        char *b64 = core_base64((const unsigned char *)str, strlen(str));
                        json_object_set_new(data, k, json_string(b64));
                        free(b64);
                }
        }
        json_object_del(obj, "stringData");
        if (!json_string_value(json_object_get(obj, "type")))
                json_object_set_new(obj, "type", json_string("Opaque"));
}

void core_secret_validate(const json_t *obj, json_t *causes)
{
        const json_t *data = json_object_get(obj, "data");
        validate_keys(data, "data", causes);
        check_total_size(NULL, data, causes);
        const char *type = kjson_str(obj, "type");
        static const char *const need[][3] = {
                {"kubernetes.io/tls", "tls.crt", "tls.key"},
                {"kubernetes.io/dockerconfigjson", ".dockerconfigjson", NULL},
                {"kubernetes.io/dockercfg", ".dockercfg", NULL},
                {"kubernetes.io/basic-auth", NULL, NULL},
                {"kubernetes.io/ssh-auth", "ssh-privatekey", NULL},
        };
        for (size_t i = 0; type && i < ARRAY_SIZE(need); i++) {
                if (strcmp(type, need[i][0]))
                        continue;
                for (int k = 1; k < 3; k++) {
                        if (!need[i][k] || json_object_get(data, need[i][k]))
                                continue;
                        char f[128];
                        snprintf(f, sizeof(f), "data[%s]", need[i][k]);
                        meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
                }
        }
        if (type && !strcmp(type, "kubernetes.io/service-account-token")) {
                const json_t *ann = kjson_get(obj, "metadata.annotations");
                if (!json_string_value(json_object_get(ann, "kubernetes.io/service-account.name")))
                        meta_cause_add(causes, "FieldValueRequired",
                                       "metadata.annotations[kubernetes.io/service-account.name]",
                                       NULL, "");
        }
}

void core_secret_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes)
{
        strategy_check_immutable(newobj, oldobj, "type", causes);
        static const char *const keys[] = {"data", NULL};
        immutable_data(newobj, oldobj, keys, causes);
}

void core_rc_defaults(json_t *obj)
{
        json_t *spec = kjson_obj_ensure(obj, "spec");
        const json_t *labels = kjson_get(spec, "template.metadata.labels");
        if (json_is_object(labels)) {
                if (!json_object_size(json_object_get(spec, "selector")))
                        json_object_set_new(spec, "selector", json_deep_copy(labels));
                json_t *md = kjson_obj_ensure(obj, "metadata");
                if (!json_object_size(json_object_get(md, "labels")))
                        json_object_set_new(md, "labels", json_deep_copy(labels));
        }
        set_default(spec, "replicas", json_integer(1));
        json_t *tmpl = json_object_get(spec, "template");
        if (json_is_object(tmpl))
                podtemplate_defaults(tmpl);
}

void core_rc_validate(const json_t *obj, json_t *causes)
{
        const json_t *spec = json_object_get(obj, "spec");
        strategy_check_nonneg(obj, "spec.replicas", causes);
        strategy_check_nonneg(obj, "spec.minReadySeconds", causes);
        const json_t *sel = json_object_get(spec, "selector");
        const json_t *tmpl = json_object_get(spec, "template");
        if (!json_object_size(sel)) {
                meta_cause_add(causes, "FieldValueRequired", "spec.selector", NULL, "");
        } else if (json_is_object(tmpl) &&
                   !labels_map_matches(sel, kjson_get(tmpl, "metadata.labels"))) {
                _cleanup_free_ char *gm = podtemplate_gomap(kjson_get(tmpl, "metadata.labels"));
                json_t *c = json_pack("{s:s,s:s,s:s}", "reason", "FieldValueInvalid", "message", "",
                                      "field", "spec.template.metadata.labels");
                json_object_set_new(c, "message",
                                    json_sprintf("Invalid value: %s: `selector` does not match "
                                                 "template `labels`",
                                                 gm));
                json_array_append_new(causes, c);
        }
        podtemplate_validate(tmpl, "spec.template", rp_always, false, causes);
}

void core_podtemplate_defaults(json_t *obj)
{
        json_t *tmpl = json_object_get(obj, "template");
        if (json_is_object(tmpl))
                podtemplate_defaults(tmpl);
}

void core_podtemplate_validate(const json_t *obj, json_t *causes)
{
        podtemplate_validate(json_object_get(obj, "template"), "template", rp_any, false, causes);
}

static void copy_missing(json_t *item, const char *from, const char *to)
{
        const json_t *src = json_object_get(item, from);
        if (!json_object_size(src))
                return;
        json_t *dst = json_object_get(item, to);
        bool created = !json_is_object(dst);
        if (created)
                dst = json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)src, k, v)
        {
                if (!json_object_get(dst, k))
                        json_object_set(dst, k, v);
        }
        if (created)
                json_object_set_new(item, to, dst);
}

void core_limitrange_defaults(json_t *obj)
{
        size_t i;
        json_t *it;
        json_array_foreach(kjson_get(obj, "spec.limits"), i, it)
        {
                const char *type = kjson_str(it, "type");
                if (!json_is_object(it) || !type || strcmp(type, "Container"))
                        continue;
                copy_missing(it, "max", "default");
                copy_missing(it, "default", "defaultRequest");
                copy_missing(it, "min", "defaultRequest");
        }
}

static void validate_quantities(const json_t *map, const char *field, json_t *causes)
{
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)map, k, v)
        {
                char f[256];
                snprintf(f, sizeof(f), "%s[%s]", field, k);
                const char *s = json_string_value(v);
                char buf[32];
                if (!s && json_is_integer(v)) {
                        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
                        s = buf;
                }
                struct quantity q;
                if (!s || quantity_parse(s, &q, NULL) < 0)
                        meta_cause_add_json(causes, "FieldValueInvalid", f, v,
                                            "quantities must match the regular expression "
                                            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
        }
}

void core_limitrange_validate(const json_t *obj, json_t *causes)
{
        size_t i;
        json_t *it;
        json_array_foreach(kjson_get(obj, "spec.limits"), i, it)
        {
                char f[96];
                const char *type = kjson_str(it, "type");
                snprintf(f, sizeof(f), "spec.limits[%zu].type", i);
                if (!type || !*type)
                        meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
                static const char *const maps[] = {"max", "min", "default", "defaultRequest",
                                                   "maxLimitRequestRatio"};
                for (size_t m = 0; m < ARRAY_SIZE(maps); m++) {
                        snprintf(f, sizeof(f), "spec.limits[%zu].%s", i, maps[m]);
                        validate_quantities(json_object_get(it, maps[m]), f, causes);
                }
        }
}

void core_resourcequota_validate(const json_t *obj, json_t *causes)
{
        validate_quantities(kjson_get(obj, "spec.hard"), "spec.hard", causes);
        const char *k;
        json_t *v;
        json_object_foreach(kjson_get(obj, "spec.hard"), k, v)
        {
                char f[256];
                snprintf(f, sizeof(f), "spec.hard[%s]", k);
                const char *s = json_string_value(v);
                if (s && s[0] == '-')
                        meta_cause_add_json(causes, "FieldValueInvalid", f, v,
                                            "must be greater than or equal to 0");
        }
}
