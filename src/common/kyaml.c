/* kyaml.c — YAML <-> JSON with Kubernetes' (go-yaml v2, YAML 1.1) scalar rules.
 *
 * Loading walks libyaml's event stream with an explicit stack (no recursion on input), so the
 * depth cap is a plain counter. Anchors keep the finished JSON value; an alias deep-copies it
 * and charges its node count to the expansion budget, which is what stops "billion laughs". */
#include "common/kyaml.h"

#include <math.h>
#include <stdio.h>
#include <yaml.h>

#define TAG_STR "tag:yaml.org,2002:str"
#define TAG_INT "tag:yaml.org,2002:int"
#define TAG_FLOAT "tag:yaml.org,2002:float"
#define TAG_BOOL "tag:yaml.org,2002:bool"
#define TAG_NULL "tag:yaml.org,2002:null"
#define TAG_BINARY "tag:yaml.org,2002:binary"

/* ---- scalar resolution (go-yaml v2 resolve.go) ---- */

enum rkind { R_STR, R_NULL, R_BOOL, R_INT, R_UINT, R_FLOAT, R_MERGE, R_TIMESTAMP };

struct rval {
        enum rkind kind;
        bool b;
        int64_t i;
        double f;
};

static const char *const true_words[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                         "True", "TRUE", "on",  "On",  "ON"};
static const char *const false_words[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                          "False", "FALSE", "off", "Off", "OFF"};
static const char *const null_words[] = {"", "~", "null", "Null", "NULL"};
static const char *const nan_words[] = {".nan", ".NaN", ".NAN"};
static const char *const inf_words[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"};
static const char *const ninf_words[] = {"-.inf", "-.Inf", "-.INF"};

static bool in_words(const char *s, const char *const *w, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(s, w[i]))
                        return true;
        return false;
}

static int digit_val(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return 99;
}

/* strconv.ParseInt(s, 0, 64) then ParseUint(s, 0, 64). Returns R_INT, R_UINT (value > INT64_MAX
 * in *u) or R_STR for "not an integer". */
static enum rkind parse_go_int(const char *s, int64_t *ret_i, uint64_t *ret_u)
{
        bool neg = false, had_sign = false;
        int base = 10;
        if (*s == '+' || *s == '-') {
                neg = *s == '-';
                had_sign = true;
                s++;
        }
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                s += 2;
        } else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
                base = 8;
                s += 2;
        } else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
                base = 2;
                s += 2;
        } else if (s[0] == '0' && s[1]) {
                base = 8;
                s += 1;
        }
        if (!*s)
                return R_STR;
        uint64_t v = 0;
        for (; *s; s++) {
                int d = digit_val(*s);
                if (d >= base)
                        return R_STR;
                if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
                        return R_STR;
                v = v * (uint64_t)base + (uint64_t)d;
        }
        if (neg) {
                if (v > (uint64_t)INT64_MAX + 1)
                        return R_STR;
                *ret_i = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
                return R_INT;
        }
        if (v <= (uint64_t)INT64_MAX) {
                *ret_i = (int64_t)v;
                return R_INT;
        }
        if (had_sign) /* ParseUint rejects signs */
                return R_STR;
        *ret_u = v;
        return R_UINT;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool is_yaml_float(const char *s)
{
        if (*s == '+' || *s == '-')
                s++;
        if (*s == '.') {
                s++;
                if (!(*s >= '0' && *s <= '9'))
                        return false;
                while (*s >= '0' && *s <= '9')
                        s++;
        } else {
                if (!(*s >= '0' && *s <= '9'))
                        return false;
                while (*s >= '0' && *s <= '9')
                        s++;
                if (*s == '.') {
                        s++;
                        while (*s >= '0' && *s <= '9')
                                s++;
                }
        }
        if (*s == 'e' || *s == 'E') {
                s++;
                if (*s == '+' || *s == '-')
                        s++;
                if (!(*s >= '0' && *s <= '9'))
                        return false;
                while (*s >= '0' && *s <= '9')
                        s++;
        }
        return *s == 0;
}

static size_t ndigits(const char *s, size_t max)
{
        size_t n = 0;
        while (n < max && s[n] >= '0' && s[n] <= '9')
                n++;
        return n;
}

/* go-yaml v2 parseTimestamp: "2006-1-2", "2006-1-2T15:4:5.999999999Z07:00" (T or t),
 * "2006-1-2 15:4:5.999999999". Shape check only (ranges loosely). */
static bool is_timestamp(const char *s)
{
        size_t n = ndigits(s, 5);
        if (n != 4 || s[4] != '-')
                return false;
        s += 5;
        n = ndigits(s, 3);
        if (n < 1 || n > 2 || s[n] != '-')
                return false;
        s += n + 1;
        n = ndigits(s, 3);
        if (n < 1 || n > 2)
                return false;
        s += n;
        if (!*s)
                return true;
        char sep = *s;
        if (sep != 'T' && sep != 't' && sep != ' ')
                return false;
        s++;
        for (int k = 0; k < 3; k++) {
                n = ndigits(s, 3);
                if (n < 1 || n > 2)
                        return false;
                s += n;
                if (k < 2) {
                        if (*s != ':')
                                return false;
                        s++;
                }
        }
        if (*s == '.') {
                s++;
                n = ndigits(s, 10);
                if (n < 1 || n > 9)
                        return false;
                s += n;
        }
        if (sep == ' ')
                return *s == 0;
        if (*s == 'Z')
                return s[1] == 0;
        if (*s == '+' || *s == '-') {
                s++;
                if (ndigits(s, 3) != 2 || s[2] != ':' || ndigits(s + 3, 3) != 2)
                        return false;
                return s[5] == 0;
        }
        return false;
}

/* Resolve a plain untagged scalar. */
static void resolve_plain(const char *s, size_t len, struct rval *rv)
{
        memset(rv, 0, sizeof(*rv));
        rv->kind = R_STR;
        if (strlen(s) != len) /* embedded NUL: only possible from escapes, never plain */
                return;
        if (in_words(s, true_words, ARRAY_SIZE(true_words))) {
                rv->kind = R_BOOL;
                rv->b = true;
                return;
        }
        if (in_words(s, false_words, ARRAY_SIZE(false_words))) {
                rv->kind = R_BOOL;
                return;
        }
        if (in_words(s, null_words, ARRAY_SIZE(null_words))) {
                rv->kind = R_NULL;
                return;
        }
        if (in_words(s, nan_words, ARRAY_SIZE(nan_words))) {
                rv->kind = R_FLOAT;
                rv->f = NAN;
                return;
        }
        if (in_words(s, inf_words, ARRAY_SIZE(inf_words))) {
                rv->kind = R_FLOAT;
                rv->f = INFINITY;
                return;
        }
        if (in_words(s, ninf_words, ARRAY_SIZE(ninf_words))) {
                rv->kind = R_FLOAT;
                rv->f = -INFINITY;
                return;
        }
        if (!strcmp(s, "<<")) {
                rv->kind = R_MERGE;
                return;
        }
        char c = s[0];
        if (c == '.') {
                if (is_yaml_float(s)) {
                        rv->kind = R_FLOAT;
                        rv->f = strtod(s, NULL);
                }
                return;
        }
        if (!((c >= '0' && c <= '9') || c == '+' || c == '-'))
                return;
        if (is_timestamp(s)) {
                rv->kind = R_TIMESTAMP;
                return;
        }
        if (len > 256)
                return;
        char plain[260];
        size_t pn = 0;
        for (size_t i = 0; i < len; i++)
                if (s[i] != '_')
                        plain[pn++] = s[i];
        plain[pn] = 0;
        int64_t iv;
        uint64_t uv;
        enum rkind k = parse_go_int(plain, &iv, &uv);
        if (k == R_INT) {
                rv->kind = R_INT;
                rv->i = iv;
                return;
        }
        if (k == R_UINT) {
                rv->kind = R_UINT;
                rv->f = (double)uv;
                return;
        }
        if (is_yaml_float(plain)) {
                rv->kind = R_FLOAT;
                rv->f = strtod(plain, NULL);
                return;
        }
        /* go-yaml v2 also accepts "-0b101" (ParseInt of the digits after the prefix). */
        if (!strncmp(plain, "-0b", 3)) {
                k = parse_go_int(plain + 3, &iv, &uv);
                if (k == R_INT && plain[3] != '+' && plain[3] != '-') {
                        /* parse_go_int read it as decimal/octal; redo as binary */
                        uint64_t v = 0;
                        const char *p = plain + 3;
                        for (; *p == '0' || *p == '1'; p++) {
                                if (v > (uint64_t)INT64_MAX / 2)
                                        return;
                                v = v * 2 + (uint64_t)(*p - '0');
                        }
                        if (*p || p == plain + 3)
                                return;
                        rv->kind = R_INT;
                        rv->i = -(int64_t)v;
                }
        }
}

/* ---- loader ---- */

struct frame {
        json_t *node; /* the container being filled */
        char *anchor; /* anchor to register when the container ends, or NULL */
        char *key;    /* map: pending key, NULL while waiting for one */
        bool is_map;
        bool key_merge; /* pending key is the merge key "<<" */
};

struct anchor {
        char *name;
        json_t *value;
        size_t size;
};

struct loader {
        struct frame stack[KYAML_MAX_DEPTH + 1];
        size_t depth;
        struct anchor *anchors;
        size_t n_anchors;
        size_t expanded;
        json_t *doc;
        bool have_doc;
        struct error *err;
};

static void anchors_clear(struct loader *ld)
{
        for (size_t i = 0; i < ld->n_anchors; i++) {
                free(ld->anchors[i].name);
                json_decref(ld->anchors[i].value);
        }
        free(ld->anchors);
        ld->anchors = NULL;
        ld->n_anchors = 0;
}

static void loader_clear(struct loader *ld)
{
        for (size_t i = 0; i < ld->depth; i++) {
                json_decref(ld->stack[i].node);
                free(ld->stack[i].anchor);
                free(ld->stack[i].key);
        }
        ld->depth = 0;
        anchors_clear(ld);
        json_decref(ld->doc);
        ld->doc = NULL;
}

/* Number of JSON nodes in v, stopping early past cap. */
static size_t json_size(const json_t *v, size_t cap)
{
        size_t n = 1;
        if (json_is_object(v)) {
                const char *k;
                json_t *c;
                json_object_foreach((json_t *)v, k, c)
                {
                        n += json_size(c, cap);
                        if (n > cap)
                                return n;
                }
        } else if (json_is_array(v)) {
                size_t i;
                json_t *c;
                json_array_foreach(v, i, c)
                {
                        n += json_size(c, cap);
                        if (n > cap)
                                return n;
                }
        }
        return n;
}

static void anchor_add(struct loader *ld, const char *name, const json_t *v)
{
        ld->anchors = xrealloc(ld->anchors, (ld->n_anchors + 1) * sizeof(*ld->anchors));
        ld->anchors[ld->n_anchors].name = xstrdup(name);
        ld->anchors[ld->n_anchors].value = json_incref((json_t *)v);
        ld->anchors[ld->n_anchors].size = json_size(v, KYAML_MAX_EXPANDED + 1);
        ld->n_anchors++;
}

static struct anchor *anchor_find(struct loader *ld, const char *name)
{
        for (size_t i = ld->n_anchors; i > 0; i--)
                if (!strcmp(ld->anchors[i - 1].name, name))
                        return &ld->anchors[i - 1];
        return NULL;
}

static int line_of(const yaml_event_t *ev)
{
        return (int)ev->start_mark.line + 1;
}

/* Go's strconv.FormatFloat(f, 'g', -1, 64). */
static void format_go_float(double f, char *buf, size_t size)
{
        if (isnan(f)) {
                snprintf(buf, size, "NaN");
                return;
        }
        if (isinf(f)) {
                snprintf(buf, size, f > 0 ? "+Inf" : "-Inf");
                return;
        }
        int prec;
        char tmp[64];
        for (prec = 1; prec <= 17; prec++) {
                snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, f);
                if (strtod(tmp, NULL) == f)
                        break;
        }
        /* Go switches to %e when the exponent is < -4 or >= 6 for shortest formatting */
        const char *e = strchr(tmp, 'e');
        int exp = e ? atoi(e + 1) : 0;
        if (exp < -4 || exp >= 6) {
                snprintf(buf, size, "%s", tmp); /* C's %e also prints at least 2 exponent digits */
        } else {
                int decimals = prec - 1 - exp;
                snprintf(buf, size, "%.*f", decimals > 0 ? decimals : 0, f);
        }
}

static int float_to_json(struct loader *ld, double f, int line, json_t **ret)
{
        if (isnan(f) || isinf(f))
                return error_set(ld->err, -EINVAL, "yaml: line %d: json: unsupported value: %s",
                                 line,
                                 isnan(f) ? "NaN"
                                 : f > 0  ? "+Inf"
                                          : "-Inf");
        /* sigs.k8s.io/yaml goes through JSON text: integral floats below 1e21 print without
         * a fraction and decode back as integers. */
        if (f == floor(f) && fabs(f) < 1e21 && f >= -9223372036854775808.0 &&
            f < 9223372036854775808.0)
                *ret = json_integer((json_int_t)f);
        else
                *ret = json_real(f);
        return 0;
}

static int rval_to_json(struct loader *ld, const struct rval *rv, const char *s, size_t len,
                        int line, json_t **ret)
{
        switch (rv->kind) {
        case R_NULL:
                *ret = json_null();
                return 0;
        case R_BOOL:
                *ret = json_boolean(rv->b);
                return 0;
        case R_INT:
                *ret = json_integer(rv->i);
                return 0;
        case R_UINT:
                *ret = json_real(rv->f);
                return 0;
        case R_FLOAT:
                return float_to_json(ld, rv->f, line, ret);
        case R_STR:
        case R_MERGE:
        case R_TIMESTAMP:
                break;
        }
        *ret = json_stringn(s, len);
        if (!*ret)
                return error_set(ld->err, -EINVAL, "yaml: line %d: invalid UTF-8 in string", line);
        return 0;
}

static int scalar_to_json(struct loader *ld, const yaml_event_t *ev, json_t **ret)
{
        const char *s = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        const char *tag = (const char *)ev->data.scalar.tag;
        bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        int line = line_of(ev);
        struct rval rv = {.kind = R_STR};

        if (tag && strcmp(tag, "!")) {
                if (!strcmp(tag, TAG_STR) || !strcmp(tag, TAG_BINARY))
                        return rval_to_json(ld, &rv, s, len, line, ret);
                bool want_int = !strcmp(tag, TAG_INT), want_float = !strcmp(tag, TAG_FLOAT),
                     want_bool = !strcmp(tag, TAG_BOOL), want_null = !strcmp(tag, TAG_NULL);
                resolve_plain(s, len, &rv);
                if (want_int || want_float || want_bool || want_null) {
                        bool ok = (want_int && (rv.kind == R_INT || rv.kind == R_UINT)) ||
                                  (want_float &&
                                   (rv.kind == R_FLOAT || rv.kind == R_INT || rv.kind == R_UINT)) ||
                                  (want_bool && rv.kind == R_BOOL) ||
                                  (want_null && rv.kind == R_NULL);
                        if (!ok)
                                return error_set(
                                        ld->err, -EINVAL,
                                        "yaml: line %d: cannot decode !!str `%.40s` as a %s", line,
                                        s, tag + strlen("tag:yaml.org,2002:") - 2);
                        if (want_float && rv.kind == R_INT)
                                return float_to_json(ld, (double)rv.i, line, ret);
                        return rval_to_json(ld, &rv, s, len, line, ret);
                }
                /* unknown tag (e.g. !Ref, !!timestamp): read the text as if untagged */
                if (!plain)
                        rv.kind = R_STR;
                return rval_to_json(ld, &rv, s, len, line, ret);
        }
        if (plain && !tag)
                resolve_plain(s, len, &rv);
        return rval_to_json(ld, &rv, s, len, line, ret);
}

/* Map key text as sigs.k8s.io/yaml converts non-string keys. */
static int key_from_json(struct loader *ld, const json_t *k, int line, char **ret)
{
        char buf[64];
        if (json_is_string(k)) {
                if (strlen(json_string_value(k)) != json_string_length(k))
                        return error_set(ld->err, -EINVAL, "yaml: line %d: NUL in map key", line);
                *ret = xstrdup(json_string_value(k));
        } else if (json_is_integer(k)) {
                snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(k));
                *ret = xstrdup(buf);
        } else if (json_is_real(k)) {
                format_go_float(json_real_value(k), buf, sizeof(buf));
                *ret = xstrdup(buf);
        } else if (json_is_boolean(k)) {
                *ret = xstrdup(json_is_true(k) ? "true" : "false");
        } else if (json_is_null(k)) {
                *ret = xstrdup("null");
        } else {
                return error_set(ld->err, -EINVAL, "yaml: line %d: invalid map key", line);
        }
        return 0;
}

static int merge_into(struct loader *ld, json_t *dst, const json_t *src, int line)
{
        if (json_is_object(src)) {
                const char *k;
                json_t *v;
                json_object_foreach((json_t *)src, k, v) if (!json_object_get(dst, k))
                        json_object_set(dst, k, v);
                return 0;
        }
        if (json_is_array(src)) {
                size_t i;
                json_t *e;
                json_array_foreach(src, i, e)
                {
                        if (!json_is_object(e))
                                goto bad;
                        merge_into(ld, dst, e, line);
                }
                return 0;
        }
bad:
        return error_set(ld->err, -EINVAL,
                         "yaml: line %d: map merge requires map or sequence of maps as the value",
                         line);
}

/* Attach a finished value (stolen) to the current container, or make it the document. */
static int attach(struct loader *ld, json_t *v, int line)
{
        if (ld->depth == 0) {
                json_decref(ld->doc);
                ld->doc = v;
                ld->have_doc = true;
                return 0;
        }
        struct frame *f = &ld->stack[ld->depth - 1];
        if (!f->is_map) {
                json_array_append_new(f->node, v);
                return 0;
        }
        if (!f->key) {
                /* v is a key */
                int r = key_from_json(ld, v, line, &f->key);
                json_decref(v);
                return r;
        }
        int r = 0;
        if (f->key_merge)
                r = merge_into(ld, f->node, v, line);
        else
                json_object_set(f->node, f->key, v);
        json_decref(v);
        free(f->key);
        f->key = NULL;
        f->key_merge = false;
        return r;
}

static int push(struct loader *ld, bool is_map, const yaml_char_t *anchor, int line)
{
        if (ld->depth > 0) {
                struct frame *p = &ld->stack[ld->depth - 1];
                if (p->is_map && !p->key)
                        return error_set(ld->err, -EINVAL, "yaml: line %d: invalid map key", line);
        }
        if (ld->depth >= KYAML_MAX_DEPTH)
                return error_set(ld->err, -E2BIG, "yaml: line %d: exceeded max depth of %d", line,
                                 KYAML_MAX_DEPTH);
        struct frame *f = &ld->stack[ld->depth++];
        *f = (struct frame){.node = is_map ? json_object() : json_array(),
                            .anchor = anchor ? xstrdup((const char *)anchor) : NULL,
                            .is_map = is_map};
        return 0;
}

static int pop(struct loader *ld, int line)
{
        struct frame f = ld->stack[--ld->depth];
        if (f.is_map && f.key) {
                free(f.key);
                f.key = NULL;
        }
        if (f.anchor)
                anchor_add(ld, f.anchor, f.node);
        free(f.anchor);
        return attach(ld, f.node, line);
}

static int on_scalar(struct loader *ld, const yaml_event_t *ev)
{
        int line = line_of(ev);
        struct frame *f = ld->depth ? &ld->stack[ld->depth - 1] : NULL;
        if (f && f->is_map && !f->key && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            !ev->data.scalar.tag && !strcmp((const char *)ev->data.scalar.value, "<<")) {
                f->key = xstrdup("<<");
                f->key_merge = true;
                return 0;
        }
        json_t *v = NULL;
        int r = scalar_to_json(ld, ev, &v);
        if (r < 0)
                return r;
        if (ev->data.scalar.anchor)
                anchor_add(ld, (const char *)ev->data.scalar.anchor, v);
        return attach(ld, v, line);
}

static int on_alias(struct loader *ld, const yaml_event_t *ev)
{
        int line = line_of(ev);
        const char *name = (const char *)ev->data.alias.anchor;
        struct anchor *a = anchor_find(ld, name);
        if (!a)
                return error_set(ld->err, -EINVAL, "yaml: line %d: unknown anchor '%s' referenced",
                                 line, name);
        ld->expanded += a->size;
        if (ld->expanded > KYAML_MAX_EXPANDED)
                return error_set(ld->err, -E2BIG, "yaml: document contains excessive aliasing");
        return attach(ld, json_deep_copy(a->value), line);
}

static int parser_error(const yaml_parser_t *p, struct error *err)
{
        /* go-yaml v2 parser.fail() */
        size_t line = 0;
        if (p->problem_mark.line != 0) {
                line = p->problem_mark.line;
                if (p->error == YAML_SCANNER_ERROR)
                        line++;
        } else if (p->context_mark.line != 0) {
                line = p->context_mark.line;
        }
        const char *msg = p->problem ? p->problem : "unknown problem parsing YAML content";
        if (p->error == YAML_MEMORY_ERROR) {
                fputs("timonel: out of memory\n", stderr);
                abort();
        }
        if (line)
                return error_set(err, -EINVAL, "yaml: line %zu: %s", line, msg);
        return error_set(err, -EINVAL, "yaml: %s", msg);
}

int kyaml_parse_all(const char *buf, size_t len, json_t **ret_array, struct error *err)
{
        yaml_parser_t parser;
        struct loader ld = {.err = err};
        json_t *docs = json_array();
        int r = 0;
        bool done = false;

        if (!yaml_parser_initialize(&parser)) {
                fputs("timonel: out of memory\n", stderr);
                abort();
        }
        yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
        while (!done) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&parser, &ev)) {
                        r = parser_error(&parser, err);
                        break;
                }
                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        ld.have_doc = false;
                        break;
                case YAML_DOCUMENT_END_EVENT:
                        if (ld.have_doc && ld.doc && !json_is_null(ld.doc))
                                json_array_append_new(docs, ld.doc);
                        else
                                json_decref(ld.doc);
                        ld.doc = NULL;
                        ld.have_doc = false;
                        ld.expanded = 0;
                        anchors_clear(&ld);
                        break;
                case YAML_SCALAR_EVENT:
                        r = on_scalar(&ld, &ev);
                        break;
                case YAML_ALIAS_EVENT:
                        r = on_alias(&ld, &ev);
                        break;
                case YAML_SEQUENCE_START_EVENT:
                        r = push(&ld, false, ev.data.sequence_start.anchor, line_of(&ev));
                        break;
                case YAML_MAPPING_START_EVENT:
                        r = push(&ld, true, ev.data.mapping_start.anchor, line_of(&ev));
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        r = pop(&ld, line_of(&ev));
                        break;
                default:
                        break;
                }
                yaml_event_delete(&ev);
                if (r < 0)
                        break;
        }
        yaml_parser_delete(&parser);
        loader_clear(&ld);
        if (r < 0) {
                json_decref(docs);
                return r;
        }
        *ret_array = docs;
        return 0;
}

int kyaml_parse_one(const char *buf, size_t len, json_t **ret, struct error *err)
{
        json_t *docs = NULL;
        int r = kyaml_parse_all(buf, len, &docs, err);
        if (r < 0)
                return r;
        size_t n = json_array_size(docs);
        if (n > 1) {
                json_decref(docs);
                return error_set(err, -EINVAL, "yaml: expected a single document");
        }
        *ret = n ? json_incref(json_array_get(docs, 0)) : json_null();
        json_decref(docs);
        return 0;
}

/* ---- emitter ---- */

struct outbuf {
        char *p;
        size_t len, cap;
};

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
        struct outbuf *o = data;
        if (o->len + size + 1 > o->cap) {
                o->cap = (o->len + size + 1) * 2;
                o->p = xrealloc(o->p, o->cap);
        }
        memcpy(o->p + o->len, buffer, size);
        o->len += size;
        o->p[o->len] = 0;
        return 1;
}

static void emit(yaml_emitter_t *e, yaml_event_t *ev)
{
        /* Our events are always well-formed; failure here means out of memory or a bug. */
        if (!yaml_emitter_emit(e, ev)) {
                fprintf(stderr, "timonel: yaml emitter: %s\n", e->problem ? e->problem : "error");
                abort();
        }
}

static void emit_scalar(yaml_emitter_t *e, const char *s, size_t len, yaml_scalar_style_t style)
{
        yaml_event_t ev;
        yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)len, 1, 1, style);
        emit(e, &ev);
}

/* isBase60Float: ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
static bool is_base60_float(const char *s)
{
        if (*s == '+' || *s == '-')
                s++;
        if (!(*s >= '0' && *s <= '9'))
                return false;
        while ((*s >= '0' && *s <= '9') || *s == '_')
                s++;
        int groups = 0;
        while (*s == ':') {
                s++;
                if (!(*s >= '0' && *s <= '9'))
                        return false;
                if (*s <= '5' && s[1] >= '0' && s[1] <= '9')
                        s += 2;
                else
                        s += 1;
                groups++;
        }
        if (!groups)
                return false;
        if (*s == '.') {
                s++;
                while ((*s >= '0' && *s <= '9') || *s == '_')
                        s++;
        }
        return *s == 0;
}

static void emit_string(yaml_emitter_t *e, const char *s, size_t len)
{
        yaml_scalar_style_t style;
        struct rval rv;
        if (memchr(s, '\n', len)) {
                style = YAML_LITERAL_SCALAR_STYLE;
        } else {
                resolve_plain(s, len, &rv);
                if (rv.kind == R_STR && !is_base60_float(s))
                        style = YAML_PLAIN_SCALAR_STYLE;
                else
                        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        }
        emit_scalar(e, s, len, style);
}

/* go-yaml v2 sorter.go keyList.Less for string keys: letters sort by code point, digit runs
 * compare numerically, letters sort after non-letters. */
static bool is_letter(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool is_digit(unsigned char c)
{
        return c >= '0' && c <= '9';
}

static int key_cmp(const void *pa, const void *pb)
{
        const unsigned char *a = *(const unsigned char *const *)pa;
        const unsigned char *b = *(const unsigned char *const *)pb;
        size_t la = strlen((const char *)a), lb = strlen((const char *)b);
        for (size_t i = 0; i < la && i < lb; i++) {
                if (a[i] == b[i])
                        continue;
                bool al = is_letter(a[i]), bl = is_letter(b[i]);
                if (al && bl)
                        return a[i] < b[i] ? -1 : 1;
                if (al || bl)
                        return bl ? -1 : 1;
                /* Go's int64 arithmetic wraps; do the same without undefined behaviour */
                uint64_t an = 0, bn = 0;
                size_t ai, bi;
                if (a[i] == '0' || b[i] == '0') {
                        for (size_t j = i; j-- > 0 && is_digit(a[j]);) {
                                if (a[j] != '0') {
                                        an = 1;
                                        bn = 1;
                                        break;
                                }
                        }
                }
                for (ai = i; ai < la && is_digit(a[ai]); ai++)
                        an = an * 10 + (uint64_t)(a[ai] - '0');
                for (bi = i; bi < lb && is_digit(b[bi]); bi++)
                        bn = bn * 10 + (uint64_t)(b[bi] - '0');
                if (an != bn)
                        return (int64_t)an < (int64_t)bn ? -1 : 1;
                if (ai != bi)
                        return ai < bi ? -1 : 1;
                return a[i] < b[i] ? -1 : 1;
        }
        return la < lb ? -1 : la > lb ? 1 : 0;
}

static void emit_value(yaml_emitter_t *e, const json_t *j, int depth)
{
        yaml_event_t ev;
        char buf[64];
        switch (json_typeof(j)) {
        case JSON_OBJECT: {
                size_t n = json_object_size(j), i = 0;
                const char **keys = xcalloc(n ? n : 1, sizeof(char *));
                const char *k;
                json_t *v;
                json_object_foreach((json_t *)j, k, v) keys[i++] = k;
                qsort(keys, n, sizeof(char *), key_cmp);
                yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
                emit(e, &ev);
                for (i = 0; i < n; i++) {
                        emit_string(e, keys[i], strlen(keys[i]));
                        emit_value(e, json_object_get(j, keys[i]), depth + 1);
                }
                free(keys);
                yaml_mapping_end_event_initialize(&ev);
                emit(e, &ev);
                break;
        }
        case JSON_ARRAY: {
                size_t i;
                json_t *v;
                yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
                emit(e, &ev);
                json_array_foreach(j, i, v) emit_value(e, v, depth + 1);
                yaml_sequence_end_event_initialize(&ev);
                emit(e, &ev);
                break;
        }
        case JSON_STRING:
                emit_string(e, json_string_value(j), json_string_length(j));
                break;
        case JSON_INTEGER:
                snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(j));
                emit_scalar(e, buf, strlen(buf), YAML_PLAIN_SCALAR_STYLE);
                break;
        case JSON_REAL: {
                double f = json_real_value(j);
                if (isnan(f))
                        snprintf(buf, sizeof(buf), ".nan");
                else if (isinf(f))
                        snprintf(buf, sizeof(buf), f > 0 ? ".inf" : "-.inf");
                else
                        format_go_float(f, buf, sizeof(buf));
                emit_scalar(e, buf, strlen(buf), YAML_PLAIN_SCALAR_STYLE);
                break;
        }
        case JSON_TRUE:
                emit_scalar(e, "true", 4, YAML_PLAIN_SCALAR_STYLE);
                break;
        case JSON_FALSE:
                emit_scalar(e, "false", 5, YAML_PLAIN_SCALAR_STYLE);
                break;
        case JSON_NULL:
                emit_scalar(e, "null", 4, YAML_PLAIN_SCALAR_STYLE);
                break;
        }
}

static char *dump_docs(const json_t *const *docs, size_t n)
{
        yaml_emitter_t e;
        yaml_event_t ev;
        struct outbuf o = {0};
        if (!yaml_emitter_initialize(&e)) {
                fputs("timonel: out of memory\n", stderr);
                abort();
        }
        yaml_emitter_set_output(&e, write_handler, &o);
        yaml_emitter_set_unicode(&e, 1);
        yaml_emitter_set_indent(&e, 2);
        yaml_emitter_set_width(&e, 80);
        yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
        emit(&e, &ev);
        for (size_t i = 0; i < n; i++) {
                yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
                emit(&e, &ev);
                if (docs[i])
                        emit_value(&e, docs[i], 0);
                else
                        emit_scalar(&e, "null", 4, YAML_PLAIN_SCALAR_STYLE);
                yaml_document_end_event_initialize(&ev, 1);
                emit(&e, &ev);
        }
        yaml_stream_end_event_initialize(&ev);
        emit(&e, &ev);
        yaml_emitter_flush(&e);
        yaml_emitter_delete(&e);
        if (!o.p)
                return xstrdup("");
        return o.p;
}

char *kyaml_dump(const json_t *j)
{
        return dump_docs(&j, 1);
}

char *kyaml_dump_all(const json_t *array)
{
        size_t n = json_array_size(array);
        const json_t **docs = xcalloc(n ? n : 1, sizeof(json_t *));
        for (size_t i = 0; i < n; i++)
                docs[i] = json_array_get(array, i);
        char *s = dump_docs(docs, n);
        free(docs);
        return s;
}
