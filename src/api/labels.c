/* labels.c — label selectors (k8s.io/apimachinery/pkg/labels) and field selectors
 * (k8s.io/apimachinery/pkg/fields). */
#include "api/labels.h"

#include <stdio.h>

#include "api/meta.h"
#include "common/kjson.h"
#include "common/strv.h"

/* ---- requirements ---- */

static void req_clear(struct labels_req *r)
{
        free(r->key);
        strv_free(r->values);
}

void labels_selector_free(struct labels_selector *sel)
{
        if (!sel)
                return;
        for (size_t i = 0; i < sel->n; i++)
                req_clear(&sel->reqs[i]);
        free(sel->reqs);
        free(sel);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and deduplicate (a Go sets.String). */
static void values_normalize(char **v)
{
        size_t n = strv_len(v), o = 0;
        qsort(v, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                if (o && !strcmp(v[o - 1], v[i])) {
                        free(v[i]);
                        continue;
                }
                v[o++] = v[i];
        }
        v[o] = NULL;
}

static bool parse_int64(const char *s, int64_t *ret)
{
        char *end;
        if (!*s)
                return false;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end || end == s || (*s != '-' && *s != '+' && (*s < '0' || *s > '9')))
                return false;
        *ret = v;
        return true;
}

/* labels.NewRequirement validation. Takes ownership of key and values. */
static int req_new(struct labels_selector *sel, char *key, enum labels_op op, char **values,
                   struct error *err)
{
        char msg[1024];
        int r = 0;
        values_normalize(values);
        size_t nv = strv_len(values);
        if (meta_qualified_name_error(key, msg, sizeof(msg))) {
                r = error_set(err, -EINVAL, "key: Invalid value: \"%.100s\": %s", key, msg);
                goto fail;
        }
        switch (op) {
        case LABELS_OP_IN:
        case LABELS_OP_NOTIN:
                if (nv == 0) {
                        r = error_set(err, -EINVAL,
                                      "values: Invalid value: []string{}: for 'in', 'notin' "
                                      "operators, values set can't be empty");
                        goto fail;
                }
                break;
        case LABELS_OP_EQ:
        case LABELS_OP_NEQ:
                if (nv != 1) {
                        r = error_set(err, -EINVAL,
                                      "values: Invalid value: exact-match "
                                      "compatibility requires one single value");
                        goto fail;
                }
                break;
        case LABELS_OP_EXISTS:
        case LABELS_OP_NOT_EXISTS:
                if (nv != 0) {
                        r = error_set(err, -EINVAL,
                                      "values: Invalid value: values set must be "
                                      "empty for exists and does not exist");
                        goto fail;
                }
                break;
        case LABELS_OP_GT:
        case LABELS_OP_LT: {
                int64_t dummy;
                if (nv != 1) {
                        r = error_set(err, -EINVAL,
                                      "values: Invalid value: for 'Gt', 'Lt' "
                                      "operators, exactly one value is required");
                        goto fail;
                }
                if (!parse_int64(values[0], &dummy)) {
                        r = error_set(err, -EINVAL,
                                      "values[0]: Invalid value: \"%.100s\": for 'Gt', 'Lt' "
                                      "operators, the value must be an integer",
                                      values[0]);
                        goto fail;
                }
                break;
        }
        }
        for (size_t i = 0; i < nv; i++) {
                if (meta_label_value_error(values[i], msg, sizeof(msg))) {
                        r = error_set(err, -EINVAL,
                                      "values[%zu][%.100s]: Invalid value: \"%.100s\": %s", i, key,
                                      values[i], msg);
                        goto fail;
                }
        }
        sel->reqs = xrealloc(sel->reqs, (sel->n + 1) * sizeof(*sel->reqs));
        sel->reqs[sel->n++] = (struct labels_req){.key = key, .op = op, .values = values};
        return 0;
fail:
        free(key);
        strv_free(values);
        return r;
}

static int req_cmp(const void *a, const void *b)
{
        return strcmp(((const struct labels_req *)a)->key, ((const struct labels_req *)b)->key);
}

static void selector_sort(struct labels_selector *sel)
{
        /* stable enough: qsort is not stable, so break ties by position via a merge-free trick:
         * requirements with equal keys are rare and their order does not change matching. */
        if (sel->n > 1)
                qsort(sel->reqs, sel->n, sizeof(*sel->reqs), req_cmp);
}

/* ---- lexer (labels/selector.go) ---- */

enum tok {
        T_ERROR,
        T_EOS,
        T_CLOSE,
        T_COMMA,
        T_NOT_EXISTS, /* ! */
        T_DEQ,        /* == */
        T_EQ,         /* = */
        T_GT,
        T_LT,
        T_IDENT,
        T_IN,
        T_NEQ, /* != */
        T_NOTIN,
        T_OPEN,
};

struct token {
        enum tok t;
        char *lit;
};

static bool is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
        return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

static void lex(const char *s, struct token **ret, size_t *ret_n)
{
        struct token *v = NULL;
        size_t n = 0;
        const char *p = s;
        for (;;) {
                while (is_ws(*p))
                        p++;
                struct token t = {0};
                if (!*p) {
                        t.t = T_EOS;
                        t.lit = xstrdup("");
                } else if (is_special(*p)) {
                        const char *q = p;
                        while (*q && is_special(*q))
                                q++;
                        /* longest valid operator prefix */
                        static const struct {
                                const char *s;
                                enum tok t;
                        } ops[] = {{"!=", T_NEQ}, {"==", T_DEQ},  {"!", T_NOT_EXISTS},
                                   {"(", T_OPEN}, {")", T_CLOSE}, {",", T_COMMA},
                                   {"=", T_EQ},   {">", T_GT},    {"<", T_LT}};
                        size_t best = 0;
                        enum tok bt = T_ERROR;
                        for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
                                size_t l = strlen(ops[i].s);
                                if (l <= (size_t)(q - p) && !strncmp(p, ops[i].s, l) && l > best) {
                                        best = l;
                                        bt = ops[i].t;
                                }
                        }
                        if (!best) {
                                t.t = T_ERROR;
                                t.lit = xstrndup(p, (size_t)(q - p));
                                p = q;
                        } else {
                                t.t = bt;
                                t.lit = xstrndup(p, best);
                                p += best;
                        }
                } else {
                        const char *q = p;
                        while (*q && !is_ws(*q) && !is_special(*q))
                                q++;
                        t.lit = xstrndup(p, (size_t)(q - p));
                        t.t = !strcmp(t.lit, "in")      ? T_IN
                              : !strcmp(t.lit, "notin") ? T_NOTIN
                                                        : T_IDENT;
                        p = q;
                }
                v = xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = t;
                if (t.t == T_EOS)
                        break;
        }
        *ret = v;
        *ret_n = n;
}

struct parser {
        struct token *toks;
        size_t n, pos;
        struct error *err;
};

/* context Values: in/notin read as identifiers */
static enum tok look(struct parser *p, bool values, const char **lit)
{
        struct token *t = &p->toks[p->pos];
        if (lit)
                *lit = t->lit;
        if (values && (t->t == T_IN || t->t == T_NOTIN))
                return T_IDENT;
        return t->t;
}

static enum tok consume(struct parser *p, bool values, const char **lit)
{
        enum tok t = look(p, values, lit);
        if (p->pos + 1 < p->n)
                p->pos++;
        return t;
}

static int parse_values(struct parser *p, char ***ret)
{
        const char *lit;
        _cleanup_strv_free_ char **v = strv_new();
        if (consume(p, true, &lit) != T_OPEN)
                return error_set(p->err, -EINVAL, "found '%.100s' expected: '('", lit);
        enum tok t = look(p, true, &lit);
        if (t == T_CLOSE) {
                consume(p, true, NULL);
                v = strv_push(v, "");
                *ret = TAKE_PTR(v);
                return 0;
        }
        if (t != T_IDENT && t != T_COMMA)
                return error_set(p->err, -EINVAL,
                                 "found '%.100s', expected: ',', ')' or identifier", lit);
        for (;;) {
                t = consume(p, true, &lit);
                if (t == T_IDENT) {
                        v = strv_push(v, lit);
                        const char *lit2;
                        enum tok t2 = look(p, true, &lit2);
                        if (t2 == T_COMMA)
                                continue;
                        if (t2 == T_CLOSE)
                                break;
                        return error_set(p->err, -EINVAL, "found '%.100s', expected: ',' or ')'",
                                         lit2);
                } else if (t == T_COMMA) {
                        if (!strv_len(v))
                                v = strv_push(v, "");
                        enum tok t2 = look(p, true, NULL);
                        if (t2 == T_CLOSE) {
                                v = strv_push(v, "");
                                break;
                        }
                        if (t2 == T_COMMA) {
                                consume(p, true, NULL);
                                v = strv_push(v, "");
                        }
                } else {
                        return error_set(p->err, -EINVAL,
                                         "found '%.100s', expected: ',', or identifier", lit);
                }
        }
        if (consume(p, true, &lit) != T_CLOSE)
                return error_set(p->err, -EINVAL, "found '%.100s', expected: ')'", lit);
        *ret = TAKE_PTR(v);
        return 0;
}

static int parse_requirement(struct parser *p, struct labels_selector *sel)
{
        const char *lit;
        enum labels_op op = LABELS_OP_EQ;
        bool not_exists = false, unary = false;
        char msg[1024];
        enum tok t = consume(p, true, &lit);
        if (t == T_NOT_EXISTS) {
                not_exists = true;
                t = consume(p, true, &lit);
        }
        if (t != T_IDENT)
                return error_set(p->err, -EINVAL, "found '%.100s', expected: identifier", lit);
        if (meta_qualified_name_error(lit, msg, sizeof(msg)))
                return error_set(p->err, -EINVAL, "<nil>: Invalid value: \"%.100s\": %s", lit, msg);
        char *key = xstrdup(lit);
        enum tok nt = look(p, true, NULL);
        if (nt == T_EOS || nt == T_COMMA) {
                unary = true;
                op = not_exists ? LABELS_OP_NOT_EXISTS : LABELS_OP_EXISTS;
        }
        if (unary || not_exists) {
                if (!unary) {
                        /* "!a=b": Kubernetes builds a DoesNotExist requirement and then fails on
                         * the leftover token in the caller */
                        op = LABELS_OP_NOT_EXISTS;
                }
                return req_new(sel, key, op, strv_new(), p->err);
        }
        t = consume(p, false, &lit);
        switch (t) {
        case T_IN:
                op = LABELS_OP_IN;
                break;
        case T_NOTIN:
                op = LABELS_OP_NOTIN;
                break;
        case T_EQ:
        case T_DEQ:
                op = LABELS_OP_EQ;
                break;
        case T_NEQ:
                op = LABELS_OP_NEQ;
                break;
        case T_GT:
                op = LABELS_OP_GT;
                break;
        case T_LT:
                op = LABELS_OP_LT;
                break;
        default:
                free(key);
                return error_set(p->err, -EINVAL,
                                 "found '%.100s', expected: in, notin, =, ==, !=, gt, lt", lit);
        }
        char **values = NULL;
        int r;
        if (op == LABELS_OP_IN || op == LABELS_OP_NOTIN) {
                r = parse_values(p, &values);
        } else {
                values = strv_new();
                nt = look(p, true, &lit);
                if (nt == T_EOS || nt == T_COMMA) {
                        values = strv_push(values, "");
                        r = 0;
                } else if (consume(p, true, &lit) == T_IDENT) {
                        values = strv_push(values, lit);
                        r = 0;
                } else {
                        r = error_set(p->err, -EINVAL, "found '%.100s', expected: identifier", lit);
                }
        }
        if (r < 0) {
                free(key);
                strv_free(values);
                return r;
        }
        return req_new(sel, key, op, values, p->err);
}

int labels_selector_parse(const char *s, struct labels_selector **ret, struct error *err)
{
        struct labels_selector *sel = xcalloc(1, sizeof(*sel));
        struct parser p = {.err = err};
        int r = 0;
        lex(s ? s : "", &p.toks, &p.n);
        for (;;) {
                const char *lit;
                enum tok t = look(&p, true, &lit);
                if (t == T_EOS)
                        break;
                if (t != T_IDENT && t != T_NOT_EXISTS) {
                        r = error_set(err, -EINVAL,
                                      "found '%.100s', expected: !, identifier, or 'end of string'",
                                      lit);
                        break;
                }
                r = parse_requirement(&p, sel);
                if (r < 0) {
                        /* not error_wrap(): it would cut Kubernetes' long regex texts short */
                        if (err) {
                                char inner[ERROR_MSG_MAX];
                                memcpy(inner, err->msg, sizeof(inner));
                                error_set(err, r, "unable to parse requirement: %.*s",
                                          (int)(sizeof(inner) - 32), inner);
                        }
                        break;
                }
                t = consume(&p, true, &lit);
                if (t == T_EOS)
                        break;
                if (t != T_COMMA) {
                        r = error_set(err, -EINVAL,
                                      "found '%.100s', expected: ',' or 'end of string'", lit);
                        break;
                }
                t = look(&p, true, &lit);
                if (t != T_IDENT && t != T_NOT_EXISTS) {
                        r = error_set(err, -EINVAL,
                                      "found '%.100s', expected: identifier after ','", lit);
                        break;
                }
        }
        for (size_t i = 0; i < p.n; i++)
                free(p.toks[i].lit);
        free(p.toks);
        if (r < 0) {
                labels_selector_free(sel);
                return r;
        }
        selector_sort(sel);
        *ret = sel;
        return 0;
}

int labels_selector_from_json(const json_t *js, struct labels_selector **ret, struct error *err)
{
        struct labels_selector *sel = xcalloc(1, sizeof(*sel));
        int r = 0;
        if (!js || json_is_null(js)) {
                sel->nothing = true;
                *ret = sel;
                return 0;
        }
        if (!json_is_object(js)) {
                r = error_set(err, -EINVAL, "label selector must be an object");
                goto fail;
        }
        json_t *ml = json_object_get(js, "matchLabels");
        json_t *me = json_object_get(js, "matchExpressions");
        if (ml && !json_is_null(ml)) {
                if (!json_is_object(ml)) {
                        r = error_set(err, -EINVAL, "matchLabels must be an object");
                        goto fail;
                }
                const char *k;
                json_t *v;
                json_object_foreach(ml, k, v)
                {
                        if (!json_is_string(v)) {
                                r = error_set(err, -EINVAL, "matchLabels values must be strings");
                                goto fail;
                        }
                        char **vals = strv_push(strv_new(), json_string_value(v));
                        r = req_new(sel, xstrdup(k), LABELS_OP_EQ, vals, err);
                        if (r < 0)
                                goto fail;
                }
        }
        if (me && !json_is_null(me)) {
                if (!json_is_array(me)) {
                        r = error_set(err, -EINVAL, "matchExpressions must be an array");
                        goto fail;
                }
                size_t i;
                json_t *e;
                json_array_foreach(me, i, e)
                {
                        const char *key = kjson_str(e, "key");
                        const char *opn = kjson_str(e, "operator");
                        enum labels_op op;
                        if (!opn)
                                opn = "";
                        if (!strcmp(opn, "In"))
                                op = LABELS_OP_IN;
                        else if (!strcmp(opn, "NotIn"))
                                op = LABELS_OP_NOTIN;
                        else if (!strcmp(opn, "Exists"))
                                op = LABELS_OP_EXISTS;
                        else if (!strcmp(opn, "DoesNotExist"))
                                op = LABELS_OP_NOT_EXISTS;
                        else {
                                r = error_set(err, -EINVAL,
                                              "\"%.100s\" is not a valid label selector operator",
                                              opn);
                                goto fail;
                        }
                        char **vals = strv_new();
                        json_t *jv = json_object_get(e, "values");
                        size_t j;
                        json_t *x;
                        if (jv && !json_is_array(jv) && !json_is_null(jv)) {
                                strv_free(vals);
                                r = error_set(err, -EINVAL, "values must be an array");
                                goto fail;
                        }
                        json_array_foreach(jv, j, x)
                        {
                                if (!json_is_string(x)) {
                                        strv_free(vals);
                                        r = error_set(err, -EINVAL, "values must be strings");
                                        goto fail;
                                }
                                vals = strv_push(vals, json_string_value(x));
                        }
                        r = req_new(sel, xstrdup(key ? key : ""), op, vals, err);
                        if (r < 0)
                                goto fail;
                }
        }
        selector_sort(sel);
        *ret = sel;
        return 0;
fail:
        labels_selector_free(sel);
        return r;
}

static bool req_matches(const struct labels_req *r, const json_t *labels)
{
        json_t *jv = json_is_object(labels) ? json_object_get(labels, r->key) : NULL;
        const char *v = json_string_value(jv);
        bool has = v != NULL;
        switch (r->op) {
        case LABELS_OP_EQ:
        case LABELS_OP_IN:
                return has && strv_contains(r->values, v);
        case LABELS_OP_NEQ:
        case LABELS_OP_NOTIN:
                return !has || !strv_contains(r->values, v);
        case LABELS_OP_EXISTS:
                return has;
        case LABELS_OP_NOT_EXISTS:
                return !has;
        case LABELS_OP_GT:
        case LABELS_OP_LT: {
                int64_t lv, rv;
                if (!has || !parse_int64(v, &lv) || !parse_int64(r->values[0], &rv))
                        return false;
                return r->op == LABELS_OP_GT ? lv > rv : lv < rv;
        }
        }
        return false;
}

bool labels_selector_matches(const struct labels_selector *sel, const json_t *labels)
{
        if (!sel || sel->nothing)
                return false;
        for (size_t i = 0; i < sel->n; i++)
                if (!req_matches(&sel->reqs[i], labels))
                        return false;
        return true;
}

bool labels_selector_is_empty(const struct labels_selector *sel)
{
        return sel && !sel->nothing && sel->n == 0;
}

char *labels_selector_format(const struct labels_selector *sel)
{
        _cleanup_strv_free_ char **parts = strv_new();
        if (!sel)
                return xstrdup("");
        for (size_t i = 0; i < sel->n; i++) {
                const struct labels_req *r = &sel->reqs[i];
                _cleanup_free_ char *vals = strv_join(r->values, ",");
                char *s;
                switch (r->op) {
                case LABELS_OP_EQ:
                        s = xasprintf("%s=%s", r->key, vals);
                        break;
                case LABELS_OP_NEQ:
                        s = xasprintf("%s!=%s", r->key, vals);
                        break;
                case LABELS_OP_IN:
                        s = xasprintf("%s in (%s)", r->key, vals);
                        break;
                case LABELS_OP_NOTIN:
                        s = xasprintf("%s notin (%s)", r->key, vals);
                        break;
                case LABELS_OP_EXISTS:
                        s = xstrdup(r->key);
                        break;
                case LABELS_OP_NOT_EXISTS:
                        s = xasprintf("!%s", r->key);
                        break;
                case LABELS_OP_GT:
                        s = xasprintf("%s>%s", r->key, vals);
                        break;
                case LABELS_OP_LT:
                default:
                        s = xasprintf("%s<%s", r->key, vals);
                        break;
                }
                parts = strv_push_take(parts, s);
        }
        return strv_join(parts, ",");
}

bool labels_map_matches(const json_t *selector_map, const json_t *labels)
{
        const char *k;
        json_t *v;
        if (!json_is_object(selector_map))
                return true;
        json_object_foreach((json_t *)selector_map, k, v)
        {
                json_t *lv = json_is_object(labels) ? json_object_get(labels, k) : NULL;
                if (!json_is_string(lv) || !json_is_string(v) ||
                    strcmp(json_string_value(lv), json_string_value(v)))
                        return false;
        }
        return true;
}

/* ---- field selectors ---- */

void labels_field_selector_free(struct labels_field_selector *sel)
{
        if (!sel)
                return;
        for (size_t i = 0; i < sel->n; i++) {
                free(sel->reqs[i].path);
                free(sel->reqs[i].value);
        }
        free(sel->reqs);
        free(sel);
}

/* fields.UnescapeValue: \\ \, \= are escapes; any other escape or an unescaped , or = fails. */
static int unescape_value(const char *s, char **ret, struct error *err)
{
        char *out = xmalloc(strlen(s) + 1), *o = out;
        for (const char *p = s; *p; p++) {
                if (*p == '\\') {
                        p++;
                        if (*p != '\\' && *p != ',' && *p != '=') {
                                free(out);
                                if (!*p)
                                        return error_set(err, -EINVAL,
                                                         "invalid field selector: invalid "
                                                         "escape sequence: \\");
                                return error_set(err, -EINVAL,
                                                 "invalid field selector: invalid escape "
                                                 "sequence: \\%c",
                                                 *p);
                        }
                        *o++ = *p;
                } else if (*p == ',' || *p == '=') {
                        free(out);
                        return error_set(err, -EINVAL,
                                         "invalid field selector: unescaped character in value: %c",
                                         *p);
                } else {
                        *o++ = *p;
                }
        }
        *o = 0;
        *ret = out;
        return 0;
}

int labels_field_selector_parse(const char *s, struct labels_field_selector **ret,
                                struct error *err)
{
        struct labels_field_selector *sel = xcalloc(1, sizeof(*sel));
        _cleanup_strv_free_ char **terms = strv_new();
        int r = 0;
        if (!s)
                s = "";
        /* splitTerms: split at unescaped commas */
        const char *start = s;
        for (const char *p = s;; p++) {
                if (*p == '\\' && p[1]) {
                        p++;
                        continue;
                }
                if (*p == ',' || !*p) {
                        terms = strv_push_take(terms, xstrndup(start, (size_t)(p - start)));
                        if (!*p)
                                break;
                        start = p + 1;
                }
        }
        qsort(terms, strv_len(terms), sizeof(char *), cmp_str);
        for (char **t = terms; *t; t++) {
                const char *term = *t;
                if (!*term)
                        continue;
                const char *op = NULL;
                size_t oplen = 0;
                for (const char *p = term; *p; p++) {
                        if (*p == '\\' && p[1]) {
                                p++;
                                continue;
                        }
                        if (!strncmp(p, "!=", 2) || !strncmp(p, "==", 2)) {
                                op = p;
                                oplen = 2;
                                break;
                        }
                        if (*p == '=') {
                                op = p;
                                oplen = 1;
                                break;
                        }
                }
                if (!op) {
                        r = error_set(err, -EINVAL,
                                      "invalid selector: '%.200s'; can't understand '%.100s'", s,
                                      term);
                        goto fail;
                }
                char *value = NULL;
                r = unescape_value(op + oplen, &value, err);
                if (r < 0)
                        goto fail;
                sel->reqs = xrealloc(sel->reqs, (sel->n + 1) * sizeof(*sel->reqs));
                sel->reqs[sel->n++] = (struct labels_field_req){
                        .path = xstrndup(term, (size_t)(op - term)),
                        .negate = op[0] == '!',
                        .value = value,
                };
        }
        *ret = sel;
        return 0;
fail:
        labels_field_selector_free(sel);
        return r;
}

/* The value of a field as text; missing or null reads as "". */
static char *field_text(const json_t *obj, const char *path)
{
        json_t *v = kjson_get(obj, path);
        if (!v)
                return xstrdup("");
        switch (json_typeof(v)) {
        case JSON_STRING:
                return xstrdup(json_string_value(v));
        case JSON_INTEGER:
                return xasprintf("%lld", (long long)json_integer_value(v));
        case JSON_REAL:
                return xasprintf("%g", json_real_value(v));
        case JSON_TRUE:
                return xstrdup("true");
        case JSON_FALSE:
                return xstrdup("false");
        default:
                return xstrdup("");
        }
}

bool labels_field_selector_matches(const struct labels_field_selector *sel, const json_t *obj)
{
        if (!sel)
                return true;
        for (size_t i = 0; i < sel->n; i++) {
                const struct labels_field_req *r = &sel->reqs[i];
                _cleanup_free_ char *v = field_text(obj, r->path);
                bool eq = !strcmp(v, r->value);
                if (eq == r->negate)
                        return false;
        }
        return true;
}

const char *labels_field_selector_exact(const struct labels_field_selector *sel, const char *path)
{
        if (!sel)
                return NULL;
        for (size_t i = 0; i < sel->n; i++)
                if (!sel->reqs[i].negate && !strcmp(sel->reqs[i].path, path))
                        return sel->reqs[i].value;
        return NULL;
}

int labels_field_selector_check(const struct labels_field_selector *sel, const char *const *allowed,
                                struct error *err)
{
        if (!sel)
                return 0;
        for (size_t i = 0; i < sel->n; i++) {
                const char *p = sel->reqs[i].path;
                bool ok = !strcmp(p, "metadata.name") || !strcmp(p, "metadata.namespace");
                for (const char *const *a = allowed; !ok && a && *a; a++)
                        ok = !strcmp(*a, p);
                if (!ok)
                        return error_set(err, -EINVAL, "field label not supported: %.200s", p);
        }
        return 0;
}

/* ---- node selectors (core/v1 NodeSelector: nodeAffinity, PV nodeAffinity) ---- */

static bool node_req_matches(const json_t *req, const char *have)
{
        const char *op = json_string_value(json_object_get(req, "operator")) ?: "";
        const json_t *vals = json_object_get(req, "values");
        if (!strcmp(op, "Exists"))
                return have != NULL;
        if (!strcmp(op, "DoesNotExist"))
                return have == NULL;
        if (!strcmp(op, "In") || !strcmp(op, "NotIn")) {
                bool in = false;
                size_t i;
                json_t *v;
                json_array_foreach(vals, i, v) in |= have && json_is_string(v) &&
                                                     !strcmp(json_string_value(v), have);
                return !strcmp(op, "In") ? in : !in;
        }
        if (!strcmp(op, "Gt") || !strcmp(op, "Lt")) {
                const char *want = json_string_value(json_array_get(vals, 0));
                char *e1 = NULL, *e2 = NULL;
                if (!have || !want || json_array_size(vals) != 1)
                        return false;
                long long a = strtoll(have, &e1, 10), b = strtoll(want, &e2, 10);
                if (!*have || *e1 || !*want || *e2)
                        return false;
                return !strcmp(op, "Gt") ? a > b : a < b;
        }
        return false;
}

bool labels_node_selector_term_matches(const json_t *term, const json_t *node)
{
        const json_t *labels = json_object_get(json_object_get(node, "metadata"), "labels");
        const char *name =
                json_string_value(json_object_get(json_object_get(node, "metadata"), "name"));
        const json_t *exprs = json_object_get(term, "matchExpressions");
        const json_t *fields = json_object_get(term, "matchFields");
        size_t i;
        json_t *r;
        if (!json_array_size(exprs) && !json_array_size(fields))
                return false;
        json_array_foreach(exprs, i, r)
        {
                const char *key = json_string_value(json_object_get(r, "key")) ?: "";
                if (!node_req_matches(r, json_string_value(json_object_get(labels, key))))
                        return false;
        }
        json_array_foreach(fields, i, r)
        {
                const char *key = json_string_value(json_object_get(r, "key")) ?: "";
                if (strcmp(key, "metadata.name") || !node_req_matches(r, name))
                        return false;
        }
        return true;
}

bool labels_node_selector_matches(const json_t *sel, const json_t *node)
{
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(sel, "nodeSelectorTerms"), i, t)
        {
                if (labels_node_selector_term_matches(t, node))
                        return true;
        }
        return false;
}
