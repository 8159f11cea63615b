/* meta.c — ObjectMeta rules (k8s.io/apimachinery/pkg/api/validation/objectmeta.go and
 * pkg/util/validation/validation.go), create/update bookkeeping. */
#include "api/meta.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

#include "common/kjson.h"
#include "common/timefmt.h"

#define QNAME_MSG                                                                                  \
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "   \
        "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "      \
        "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define LABEL_VALUE_MSG                                                                            \
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "   \
        "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "      \
        "'my_value',  or '12345', regex used for validation is "                                   \
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
#define DNS1035_MSG                                                                                \
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "  \
        "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "    \
        "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

#define MAX_MSGS 4
struct msgs {
        char m[MAX_MSGS][600];
        int n;
};

PRINTF_LIKE(2, 3) static void msgs_add(struct msgs *ms, const char *fmt, ...)
{
        if (ms->n >= MAX_MSGS)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ms->m[ms->n++], sizeof(ms->m[0]), fmt, ap);
        va_end(ap);
}

static bool join_msgs(const struct msgs *ms, char *buf, size_t size)
{
        if (!ms->n)
                return false;
        size_t o = 0;
        buf[0] = 0;
        for (int i = 0; i < ms->n && o < size; i++) {
                int w = snprintf(buf + o, size - o, "%s%s", i ? "; " : "", ms->m[i]);
                if (w < 0)
                        break;
                o += (size_t)w;
        }
        return true;
}

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n) */
static bool match_label(const char *s, size_t n)
{
        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_lower_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

static bool match_subdomain(const char *s)
{
        const char *p = s;
        for (;;) {
                const char *dot = strchr(p, '.');
                size_t n = dot ? (size_t)(dot - p) : strlen(p);
                if (!match_label(p, n))
                        return false;
                if (!dot)
                        return true;
                p = dot + 1;
        }
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] */
static bool match_qname(const char *s, size_t n)
{
        if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
                        return false;
        return true;
}

static void dns1123_label_msgs(const char *s, struct msgs *ms)
{
        size_t n = strlen(s);
        if (n > META_DNS1123_LABEL_MAX)
                msgs_add(ms, "must be no more than %d characters", META_DNS1123_LABEL_MAX);
        if (!match_label(s, n)) {
                if (match_subdomain(s))
                        msgs_add(ms, "must not contain dots");
                else
                        msgs_add(ms, "%s", META_DNS1123_LABEL_MSG);
        }
}

static void dns1123_subdomain_msgs(const char *s, struct msgs *ms)
{
        if (strlen(s) > META_DNS1123_SUBDOMAIN_MAX)
                msgs_add(ms, "must be no more than %d characters", META_DNS1123_SUBDOMAIN_MAX);
        if (!match_subdomain(s))
                msgs_add(ms, "%s", META_DNS1123_SUBDOMAIN_MSG);
}

static void dns1035_label_msgs(const char *s, struct msgs *ms)
{
        size_t n = strlen(s);
        if (n > META_DNS1123_LABEL_MAX)
                msgs_add(ms, "must be no more than %d characters", META_DNS1123_LABEL_MAX);
        if (!match_label(s, n) || !(s[0] >= 'a' && s[0] <= 'z'))
                msgs_add(ms, "%s", DNS1035_MSG);
}

static void qualified_name_msgs(const char *s, struct msgs *ms)
{
        const char *slash = strchr(s, '/');
        const char *name = s;
        if (slash && strchr(slash + 1, '/')) {
                msgs_add(ms, "a qualified name " QNAME_MSG " with an optional DNS subdomain prefix "
                             "and '/' (e.g. 'example.com/MyName')");
                return;
        }
        if (slash) {
                size_t pl = (size_t)(slash - s);
                name = slash + 1;
                if (pl == 0) {
                        msgs_add(ms, "prefix part must be non-empty");
                } else {
                        char prefix[300];
                        struct msgs pm = {0};
                        if (pl >= sizeof(prefix)) {
                                msgs_add(ms, "prefix part must be no more than %d characters",
                                         META_DNS1123_SUBDOMAIN_MAX);
                                memcpy(prefix, s, sizeof(prefix) - 1);
                                prefix[sizeof(prefix) - 1] = 0;
                                if (!match_subdomain(prefix))
                                        msgs_add(ms, "prefix part %s", META_DNS1123_SUBDOMAIN_MSG);
                        } else {
                                memcpy(prefix, s, pl);
                                prefix[pl] = 0;
                                dns1123_subdomain_msgs(prefix, &pm);
                                for (int i = 0; i < pm.n; i++)
                                        msgs_add(ms, "prefix part %s", pm.m[i]);
                        }
                }
        }
        size_t n = strlen(name);
        if (n == 0)
                msgs_add(ms, "name part must be non-empty");
        else if (n > 63)
                msgs_add(ms, "name part must be no more than 63 characters");
        if (!match_qname(name, n))
                msgs_add(ms, "name part " QNAME_MSG);
}

static void label_value_msgs(const char *s, struct msgs *ms)
{
        size_t n = strlen(s);
        if (n > 63)
                msgs_add(ms, "must be no more than 63 characters");
        if (n && !match_qname(s, n))
                msgs_add(ms, "%s", LABEL_VALUE_MSG);
}

bool meta_is_dns1123_label(const char *s)
{
        return s && strlen(s) <= META_DNS1123_LABEL_MAX && match_label(s, strlen(s));
}

bool meta_is_dns1123_subdomain(const char *s)
{
        return s && strlen(s) <= META_DNS1123_SUBDOMAIN_MAX && match_subdomain(s);
}

bool meta_is_dns1035_label(const char *s)
{
        return meta_is_dns1123_label(s) && s[0] >= 'a' && s[0] <= 'z';
}

bool meta_is_qualified_name(const char *s)
{
        struct msgs ms = {0};
        if (!s)
                return false;
        qualified_name_msgs(s, &ms);
        return ms.n == 0;
}

bool meta_is_label_value(const char *s)
{
        struct msgs ms = {0};
        if (!s)
                return false;
        label_value_msgs(s, &ms);
        return ms.n == 0;
}

#define DEFINE_ERR_FN(fn, impl)                                                                    \
        bool fn(const char *s, char *buf, size_t size)                                             \
        {                                                                                          \
                struct msgs ms = {0};                                                              \
                impl(s ? s : "", &ms);                                                             \
                return join_msgs(&ms, buf, size);                                                  \
        }
DEFINE_ERR_FN(meta_dns1123_label_error, dns1123_label_msgs)
DEFINE_ERR_FN(meta_dns1123_subdomain_error, dns1123_subdomain_msgs)
DEFINE_ERR_FN(meta_dns1035_label_error, dns1035_label_msgs)
DEFINE_ERR_FN(meta_qualified_name_error, qualified_name_msgs)
DEFINE_ERR_FN(meta_label_value_error, label_value_msgs)

/* ---- causes ---- */

static const char *reason_text(const char *reason)
{
        if (!strcmp(reason, "FieldValueInvalid") || !strcmp(reason, "FieldValueTypeInvalid"))
                return "Invalid value";
        if (!strcmp(reason, "FieldValueRequired"))
                return "Required value";
        if (!strcmp(reason, "FieldValueForbidden"))
                return "Forbidden";
        if (!strcmp(reason, "FieldValueTooLong"))
                return "Too long";
        if (!strcmp(reason, "FieldValueDuplicate"))
                return "Duplicate value";
        if (!strcmp(reason, "FieldValueNotSupported"))
                return "Unsupported value";
        if (!strcmp(reason, "FieldValueNotFound"))
                return "Not found";
        if (!strcmp(reason, "FieldValueTooMany"))
                return "Too many";
        return "Internal error";
}

/* Required, Forbidden, TooLong and Internal print no value (field.Error.ErrorBody). */
static bool reason_has_value(const char *reason)
{
        return strcmp(reason, "FieldValueRequired") && strcmp(reason, "FieldValueForbidden") &&
               strcmp(reason, "FieldValueTooLong") && strcmp(reason, "FieldValueInternal");
}

void meta_cause_add_json(json_t *causes, const char *reason, const char *field, const json_t *value,
                         const char *detail)
{
        char *msg;
        const char *rt = reason_text(reason);
        bool has_detail = detail && *detail;
        if (reason_has_value(reason)) {
                _cleanup_free_ char *v = kjson_dump(value);
                msg = xasprintf("%s: %s%s%s", rt, v, has_detail ? ": " : "",
                                has_detail ? detail : "");
        } else {
                msg = xasprintf("%s%s%s", rt, has_detail ? ": " : "", has_detail ? detail : "");
        }
        json_t *c = json_object();
        json_object_set_new(c, "reason", json_string(reason));
        json_object_set_new(c, "message", json_string(msg));
        json_object_set_new(c, "field", json_string(field ? field : ""));
        json_array_append_new(causes, c);
        free(msg);
}

void meta_cause_add(json_t *causes, const char *reason, const char *field, const char *value,
                    const char *detail)
{
        json_t *v = value ? json_string(value) : json_null();
        if (!v) /* invalid UTF-8 */
                v = json_string("<invalid UTF-8>");
        meta_cause_add_json(causes, reason, field, v, detail);
        json_decref(v);
}

char *meta_causes_message(const char *kind, const char *name, const json_t *causes)
{
        size_t n = json_array_size(causes);
        /* Go's %q of the name; the JSON string form is the same for ordinary names. */
        json_t *jn = json_string(name ? name : "");
        _cleanup_free_ char *quoted = kjson_dump(jn);
        json_decref(jn);
        if (n == 0)
                return xasprintf("%s %s is invalid", kind, quoted);
        size_t cap = 256, len = 0;
        char *agg = xmalloc(cap);
        agg[0] = 0;
        size_t i;
        json_t *c;
        size_t shown = 0;
        json_array_foreach(causes, i, c)
        {
                const char *f = kjson_str(c, "field"), *m = kjson_str(c, "message");
                _cleanup_free_ char *one =
                        (f && *f) ? xasprintf("%s: %s", f, m ? m : "") : xstrdup(m ? m : "");
                /* utilerrors.NewAggregate dedups identical messages */
                bool dup = false;
                for (size_t j = 0; j < i && !dup; j++) {
                        json_t *pc = json_array_get(causes, j);
                        const char *pf = kjson_str(pc, "field"), *pm = kjson_str(pc, "message");
                        dup = pf && f && pm && m && !strcmp(pf, f) && !strcmp(pm, m);
                }
                if (dup)
                        continue;
                size_t need = len + strlen(one) + 3;
                if (need >= cap) {
                        cap = need * 2;
                        agg = xrealloc(agg, cap);
                }
                len += (size_t)snprintf(agg + len, cap - len, "%s%s", shown ? ", " : "", one);
                shown++;
        }
        char *r = shown > 1 ? xasprintf("%s %s is invalid: [%s]", kind, quoted, agg)
                            : xasprintf("%s %s is invalid: %s", kind, quoted, agg);
        free(agg);
        return r;
}

/* ---- ObjectMeta validation ---- */

static void add_msgs(json_t *causes, const char *field, const char *value, const struct msgs *ms)
{
        for (int i = 0; i < ms->n; i++)
                meta_cause_add(causes, "FieldValueInvalid", field, value, ms->m[i]);
}

static void path_segment_msgs(const char *s, bool prefix, struct msgs *ms)
{
        if (!prefix) {
                if (!strcmp(s, ".") || !strcmp(s, "..")) {
                        msgs_add(ms, "may not be '%s'", s);
                        return;
                }
        }
        if (strchr(s, '/'))
                msgs_add(ms, "may not contain '/'");
        if (strchr(s, '%'))
                msgs_add(ms, "may not contain '%%'");
}

static void validate_name_like(json_t *causes, const char *field, const char *value,
                               enum meta_name_rule rule, bool prefix)
{
        struct msgs ms = {0};
        char buf[300];
        const char *v = value;
        size_t n = strlen(value);
        /* maskTrailingDash: a generateName may end in '-' */
        if (prefix && n > 1 && n < sizeof(buf) && value[n - 1] == '-') {
                memcpy(buf, value, n);
                buf[n - 1] = 'a';
                buf[n] = 0;
                v = buf;
        }
        switch (rule) {
        case META_NAME_LABEL:
                dns1123_label_msgs(v, &ms);
                break;
        case META_NAME_DNS1035:
                dns1035_label_msgs(v, &ms);
                break;
        case META_NAME_PATH_SEGMENT:
                path_segment_msgs(value, prefix, &ms);
                break;
        case META_NAME_SUBDOMAIN:
        default:
                dns1123_subdomain_msgs(v, &ms);
                break;
        }
        add_msgs(causes, field, value, &ms);
}

static void validate_string_map(json_t *causes, const json_t *m, const char *field, bool labels)
{
        const char *k;
        json_t *v;
        size_t total = 0;
        if (!m || json_is_null(m))
                return;
        if (!json_is_object(m)) {
                meta_cause_add_json(causes, "FieldValueInvalid", field, m, "must be an object");
                return;
        }
        json_object_foreach((json_t *)m, k, v)
        {
                struct msgs ms = {0};
                if (labels) {
                        qualified_name_msgs(k, &ms);
                } else {
                        _cleanup_free_ char *lower = xstrdup(k);
                        for (char *p = lower; *p; p++)
                                if (*p >= 'A' && *p <= 'Z')
                                        *p = (char)(*p - 'A' + 'a');
                        qualified_name_msgs(lower, &ms);
                }
                add_msgs(causes, field, k, &ms);
                if (!json_is_string(v)) {
                        meta_cause_add_json(causes, "FieldValueInvalid", field, v,
                                            "must be a string");
                        continue;
                }
                total += strlen(k) + json_string_length(v);
                if (labels) {
                        struct msgs vm = {0};
                        label_value_msgs(json_string_value(v), &vm);
                        add_msgs(causes, field, json_string_value(v), &vm);
                }
        }
        if (!labels && total > META_ANNOTATIONS_MAX_BYTES) {
                char d[64];
                snprintf(d, sizeof(d), "may not be more than %d bytes", META_ANNOTATIONS_MAX_BYTES);
                meta_cause_add(causes, "FieldValueTooLong", field, NULL, d);
        }
}

static void validate_owner_refs(json_t *causes, const json_t *refs)
{
        const char *field = "metadata.ownerReferences";
        _cleanup_free_ char *first = NULL;
        size_t i;
        json_t *r;
        if (!refs || json_is_null(refs))
                return;
        if (!json_is_array(refs)) {
                meta_cause_add_json(causes, "FieldValueInvalid", field, refs, "must be a list");
                return;
        }
        json_array_foreach(refs, i, r)
        {
                const char *av = kjson_str(r, "apiVersion"), *kind = kjson_str(r, "kind"),
                           *name = kjson_str(r, "name"), *uid = kjson_str(r, "uid");
                /* schema.FromAPIVersionAndKind: the version is after the last '/' */
                const char *ver = av ? (strrchr(av, '/') ? strrchr(av, '/') + 1 : av) : "";
                if (!*ver)
                        meta_cause_add(causes, "FieldValueInvalid",
                                       "metadata.ownerReferences.apiVersion", av ? av : "",
                                       "version must not be empty");
                if (!kind || !*kind)
                        meta_cause_add(causes, "FieldValueInvalid", "metadata.ownerReferences.kind",
                                       kind ? kind : "", "kind must not be empty");
                if (!name || !*name)
                        meta_cause_add(causes, "FieldValueInvalid", "metadata.ownerReferences.name",
                                       name ? name : "", "name must not be empty");
                if (!uid || !*uid)
                        meta_cause_add(causes, "FieldValueInvalid", "metadata.ownerReferences.uid",
                                       uid ? uid : "", "uid must not be empty");
                if (kjson_bool(r, "controller", false)) {
                        _cleanup_free_ char *cur =
                                xasprintf("%s/%s", kind ? kind : "", name ? name : "");
                        if (first) {
                                _cleanup_free_ char *d = xasprintf(
                                        "Only one reference can have Controller set to true. "
                                        "Found \"true\" in references for %s and %s",
                                        first, cur);
                                meta_cause_add_json(causes, "FieldValueInvalid", field, refs, d);
                        } else {
                                first = TAKE_PTR(cur);
                        }
                }
        }
}

static void validate_finalizers(json_t *causes, const json_t *fins)
{
        const char *field = "metadata.finalizers";
        size_t i;
        json_t *f;
        bool orphan = false, foreground = false;
        if (!fins || json_is_null(fins))
                return;
        if (!json_is_array(fins)) {
                meta_cause_add_json(causes, "FieldValueInvalid", field, fins, "must be a list");
                return;
        }
        json_array_foreach(fins, i, f)
        {
                const char *s = json_string_value(f);
                if (!s) {
                        meta_cause_add_json(causes, "FieldValueInvalid", field, f,
                                            "must be a string");
                        continue;
                }
                struct msgs ms = {0};
                qualified_name_msgs(s, &ms);
                add_msgs(causes, field, s, &ms);
                orphan |= !strcmp(s, "orphan");
                foreground |= !strcmp(s, "foregroundDeletion");
        }
        if (orphan && foreground)
                meta_cause_add_json(causes, "FieldValueInvalid", field, fins,
                                    "finalizer orphan and foregroundDeletion cannot be both set");
}

void meta_validate_object_meta(const json_t *obj, bool namespaced, bool name_is_label,
                               json_t *causes)
{
        meta_validate_object_meta_rule(
                obj, namespaced, name_is_label ? META_NAME_LABEL : META_NAME_SUBDOMAIN, causes);
}

void meta_validate_object_meta_rule(const json_t *obj, bool namespaced, enum meta_name_rule rule,
                                    json_t *causes)
{
        const json_t *md = json_object_get(obj, "metadata");
        if (!json_is_object(md)) {
                meta_cause_add(causes, "FieldValueRequired", "metadata.name", NULL,
                               "name or generateName is required");
                if (namespaced)
                        meta_cause_add(causes, "FieldValueRequired", "metadata.namespace", NULL,
                                       NULL);
                return;
        }
        const char *gen = kjson_str(md, "generateName");
        const char *name = kjson_str(md, "name");
        const char *ns = kjson_str(md, "namespace");
        if (gen && *gen)
                validate_name_like(causes, "metadata.generateName", gen, rule, true);
        if (!name || !*name)
                meta_cause_add(causes, "FieldValueRequired", "metadata.name", NULL,
                               "name or generateName is required");
        else
                validate_name_like(causes, "metadata.name", name, rule, false);
        if (namespaced) {
                if (!ns || !*ns) {
                        meta_cause_add(causes, "FieldValueRequired", "metadata.namespace", NULL,
                                       NULL);
                } else {
                        struct msgs ms = {0};
                        dns1123_label_msgs(ns, &ms);
                        add_msgs(causes, "metadata.namespace", ns, &ms);
                }
        } else if (ns && *ns) {
                meta_cause_add(causes, "FieldValueForbidden", "metadata.namespace", NULL,
                               "not allowed on this type");
        }
        json_t *g = json_object_get(md, "generation");
        if (json_is_integer(g) && json_integer_value(g) < 0)
                meta_cause_add_json(causes, "FieldValueInvalid", "metadata.generation", g,
                                    "must be greater than or equal to 0");
        validate_string_map(causes, json_object_get(md, "labels"), "metadata.labels", true);
        validate_string_map(causes, json_object_get(md, "annotations"), "metadata.annotations",
                            false);
        validate_owner_refs(causes, json_object_get(md, "ownerReferences"));
        validate_finalizers(causes, json_object_get(md, "finalizers"));
}

static void immutable(json_t *causes, const json_t *nmd, const json_t *omd, const char *key)
{
        json_t *nv = json_object_get(nmd, key), *ov = json_object_get(omd, key);
        if (json_is_null(nv))
                nv = NULL;
        if (json_is_null(ov))
                ov = NULL;
        if (kjson_equal(nv, ov))
                return;
        /* an unset string reads as "" in Go */
        if ((!nv && json_is_string(ov) && !json_string_length(ov)) ||
            (!ov && json_is_string(nv) && !json_string_length(nv)))
                return;
        _cleanup_free_ char *field = xasprintf("metadata.%s", key);
        json_t *shown = nv ? json_incref(nv) : json_string("");
        meta_cause_add_json(causes, "FieldValueInvalid", field, shown, "field is immutable");
        json_decref(shown);
}

void meta_validate_object_meta_update(const json_t *newobj, const json_t *oldobj, json_t *causes)
{
        json_t *nmd = json_object_get(newobj, "metadata"),
               *omd = json_object_get(oldobj, "metadata");
        immutable(causes, nmd, omd, "name");
        immutable(causes, nmd, omd, "namespace");
        immutable(causes, nmd, omd, "uid");
        immutable(causes, nmd, omd, "creationTimestamp");
        immutable(causes, nmd, omd, "deletionTimestamp");
        immutable(causes, nmd, omd, "deletionGracePeriodSeconds");
        int64_t ng = kjson_int(nmd, "generation", 0), og = kjson_int(omd, "generation", 0);
        if (ng < og)
                meta_cause_add_json(causes, "FieldValueInvalid", "metadata.generation",
                                    json_object_get(nmd, "generation"), "must not be decremented");
        /* no new finalizers once deletion started */
        if (json_object_get(omd, "deletionTimestamp") &&
            !json_is_null(json_object_get(omd, "deletionTimestamp"))) {
                json_t *nf = json_object_get(nmd, "finalizers"),
                       *of = json_object_get(omd, "finalizers");
                size_t i, j;
                json_t *f, *o;
                _cleanup_free_ char *extra = NULL;
                json_array_foreach(nf, i, f)
                {
                        bool found = false;
                        json_array_foreach(of, j, o) found |= json_equal(f, o);
                        if (!found && json_is_string(f)) {
                                char *x = xasprintf("%s%s\"%s\"", extra ? extra : "",
                                                    extra ? ", " : "", json_string_value(f));
                                free(extra);
                                extra = x;
                        }
                }
                if (extra) {
                        _cleanup_free_ char *d = xasprintf(
                                "no new finalizers can be added if the object is being deleted, "
                                "found new finalizers []string{%s}",
                                extra);
                        meta_cause_add(causes, "FieldValueForbidden", "metadata.finalizers", NULL,
                                       d);
                }
        }
}

/* ---- bookkeeping ---- */

static void random_bytes(void *buf, size_t n)
{
        uint8_t *p = buf;
        while (n) {
                ssize_t r = getrandom(p, n, 0);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        /* never on Linux >= 3.17 with a sane n; fail loudly rather than
                         * hand out predictable UIDs */
                        abort();
                }
                p += r;
                n -= (size_t)r;
        }
}

void meta_uid_new(char buf[37])
{
        uint8_t b[16];
        random_bytes(b, sizeof(b));
        b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
        b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
        snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                 b[13], b[14], b[15]);
}

void meta_random_suffix(char buf[6])
{
        static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
        uint8_t b[5];
        random_bytes(b, sizeof(b));
        for (int i = 0; i < 5; i++)
                buf[i] = alphabet[b[i] % (sizeof(alphabet) - 1)];
        buf[5] = 0;
}

void meta_prepare_create(json_t *obj, const char *ns)
{
        json_t *md = kjson_obj_ensure(obj, "metadata");
        char uid[37], ts[32];
        meta_uid_new(uid);
        timefmt_rfc3339(ts, time(NULL));
        json_object_set_new(md, "uid", json_string(uid));
        json_object_set_new(md, "creationTimestamp", json_string(ts));
        json_object_set_new(md, "generation", json_integer(1));
        if (ns)
                json_object_set_new(md, "namespace", json_string(ns));
        const char *name = kjson_str(md, "name");
        const char *gen = kjson_str(md, "generateName");
        if ((!name || !*name) && gen && *gen) {
                char sfx[6];
                meta_random_suffix(sfx);
                /* names.SimpleNameGenerator: base truncated to 63 - 5 characters */
                char *n = xasprintf("%.58s%s", gen, sfx);
                json_object_set_new(md, "name", json_string(n));
                free(n);
        }
        json_object_del(md, "resourceVersion");
        json_object_del(md, "selfLink");
        json_object_del(md, "deletionTimestamp");
        json_object_del(md, "deletionGracePeriodSeconds");
}

bool meta_spec_changed(const json_t *a, const json_t *b)
{
        const char *k;
        json_t *v;
        if (!json_is_object(a) || !json_is_object(b))
                return !kjson_equal(a, b);
        json_object_foreach((json_t *)a, k, v)
        {
                if (!strcmp(k, "metadata") || !strcmp(k, "status"))
                        continue;
                if (!kjson_equal(v, json_object_get(b, k)))
                        return true;
        }
        json_object_foreach((json_t *)b, k, v)
        {
                if (!strcmp(k, "metadata") || !strcmp(k, "status"))
                        continue;
                if (!json_object_get(a, k))
                        return true;
        }
        return false;
}

static void copy_key(json_t *dst, const json_t *src, const char *key)
{
        json_t *v = json_object_get(src, key);
        if (v && !json_is_null(v))
                json_object_set(dst, key, v);
}

void meta_prepare_update(json_t *newobj, const json_t *oldobj)
{
        json_t *nmd = kjson_obj_ensure(newobj, "metadata");
        const json_t *omd = json_object_get(oldobj, "metadata");
        if (!kjson_str(nmd, "uid") || !*kjson_str(nmd, "uid"))
                copy_key(nmd, omd, "uid");
        copy_key(nmd, omd, "creationTimestamp");
        copy_key(nmd, omd, "deletionTimestamp");
        if (!json_object_get(nmd, "deletionGracePeriodSeconds"))
                copy_key(nmd, omd, "deletionGracePeriodSeconds");
        int64_t gen = kjson_int(omd, "generation", 0);
        if (meta_spec_changed(newobj, oldobj))
                gen++;
        json_object_set_new(nmd, "generation", json_integer(gen));
}
