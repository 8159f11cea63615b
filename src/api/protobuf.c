/* protobuf.c — Kubernetes protobuf bodies -> JSON, driven by the tables in protobuf-schema.c.
 * See protobuf.h for the JSON rules (they follow Go's encoding/json on the typed struct). */
#include "api/protobuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "api/quantity.h"

enum wire { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

struct dec {
        size_t nodes;
        struct error *err;
};

struct rd {
        const uint8_t *p, *end;
};

static const uint8_t k8s_magic[4] = {'k', '8', 's', 0};

static int read_varint(struct rd *r, uint64_t *ret)
{
        uint64_t v = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
                if (r->p >= r->end)
                        return -EINVAL;
                uint8_t b = *r->p++;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *ret = v;
                        return 0;
                }
        }
        return -EINVAL;
}

/* One field: its number, wire type, and either the varint value or the LEN/I32/I64 bytes. */
struct wfield {
        uint32_t num;
        int wire;
        uint64_t v;
        const uint8_t *data;
        size_t len;
};

static int read_field(struct rd *r, struct wfield *f, struct error *err)
{
        uint64_t key;
        if (read_varint(r, &key) < 0)
                return error_set(err, -EINVAL, "truncated protobuf field key");
        f->num = (uint32_t)(key >> 3);
        f->wire = (int)(key & 7);
        if (key >> 3 == 0 || key >> 3 > 0x1fffffff)
                return error_set(err, -EINVAL, "invalid protobuf field number");
        f->data = NULL;
        f->len = 0;
        switch (f->wire) {
        case WIRE_VARINT:
                if (read_varint(r, &f->v) < 0)
                        return error_set(err, -EINVAL, "field %" PRIu32 ": truncated varint",
                                         f->num);
                return 0;
        case WIRE_I64:
        case WIRE_I32: {
                size_t n = f->wire == WIRE_I64 ? 8 : 4;
                if ((size_t)(r->end - r->p) < n)
                        return error_set(err, -EINVAL, "field %" PRIu32 ": truncated", f->num);
                f->data = r->p;
                f->len = n;
                r->p += n;
                return 0;
        }
        case WIRE_LEN: {
                uint64_t n;
                if (read_varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p))
                        return error_set(err, -EINVAL, "field %" PRIu32 ": truncated length",
                                         f->num);
                f->data = r->p;
                f->len = (size_t)n;
                r->p += n;
                return 0;
        }
        default:
                return error_set(err, -EINVAL, "field %" PRIu32 ": unsupported wire type %d",
                                 f->num, f->wire);
        }
}

static json_t *node(struct dec *d, json_t *v)
{
        d->nodes++;
        return v;
}

static int check_nodes(struct dec *d)
{
        if (d->nodes > PROTOBUF_MAX_NODES)
                return error_set(d->err, -E2BIG, "protobuf object too large");
        return 0;
}

static const struct protobuf_field *find_field(const struct protobuf_message *m, uint32_t num)
{
        size_t lo = 0, hi = m->n_fields;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (m->fields[mid].num == num)
                        return &m->fields[mid];
                if (m->fields[mid].num < num)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

static bool is_len_type(int type)
{
        return type != PB_BOOL && type != PB_INT32 && type != PB_INT64;
}

static int zero_fill(struct dec *d, const struct protobuf_message *m, json_t *obj, const bool *seen,
                     int depth);

/* The Go zero value of a non-pointer field of this type, as encoding/json prints it. */
static int zero_value(struct dec *d, int type, const struct protobuf_message *msg, int depth,
                      json_t **ret)
{
        switch (type) {
        case PB_STRING:
                *ret = node(d, json_string(""));
                return 0;
        case PB_BOOL:
                *ret = node(d, json_false());
                return 0;
        case PB_INT32:
        case PB_INT64:
        case PB_INTSTR:
                *ret = node(d, json_integer(0));
                return 0;
        case PB_QUANTITY:
                *ret = node(d, json_string("0"));
                return 0;
        case PB_DURATION:
                *ret = node(d, json_string("0s"));
                return 0;
        case PB_MESSAGE: {
                if (depth >= PROTOBUF_MAX_DEPTH)
                        return error_set(d->err, -E2BIG, "protobuf nesting too deep");
                json_t *o = node(d, json_object());
                int r = zero_fill(d, msg, o, NULL, depth + 1);
                if (r < 0) {
                        json_decref(o);
                        return r;
                }
                *ret = o;
                return 0;
        }
        default: /* BYTES (nil slice), TIME, MICROTIME, RAW */
                *ret = node(d, json_null());
                return 0;
        }
}

/* Add what Go's encoding/json prints for the fields of m that were absent on the wire (seen ==
 * NULL: all of them). */
static int zero_fill(struct dec *d, const struct protobuf_message *m, json_t *obj, const bool *seen,
                     int depth)
{
        for (size_t i = 0; i < m->n_fields; i++) {
                const struct protobuf_field *f = &m->fields[i];
                json_t *v = NULL;
                int r;
                if ((seen && seen[i]) || f->type == PB_SKIP)
                        continue;
                if (f->flags & PB_INLINE) {
                        if (f->flags & PB_PTR)
                                continue;
                        if (depth >= PROTOBUF_MAX_DEPTH)
                                return error_set(d->err, -E2BIG, "protobuf nesting too deep");
                        r = zero_fill(d, f->msg, obj, NULL, depth + 1);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (json_object_get(obj, f->name))
                        continue; /* set by an inlined sibling */
                if (f->flags & (PB_REPEATED | PB_MAP | PB_PTR) || f->type == PB_BYTES) {
                        if (f->flags & PB_OMITEMPTY)
                                continue;
                        v = node(d, json_null());
                } else if (f->type == PB_STRING || f->type == PB_BOOL || f->type == PB_INT32 ||
                           f->type == PB_INT64) {
                        if (f->flags & PB_OMITEMPTY)
                                continue;
                        r = zero_value(d, f->type, NULL, depth, &v);
                        if (r < 0)
                                return r;
                } else {
                        /* structs (incl. Time, Quantity, ...): omitempty never drops them */
                        r = zero_value(d, f->type, f->msg, depth, &v);
                        if (r < 0)
                                return r;
                }
                json_object_set_new(obj, f->name, v);
        }
        return check_nodes(d);
}

static int decode_message(struct dec *d, const struct protobuf_message *m, const uint8_t *p,
                          size_t n, json_t *obj, int depth);

static int fmt_time(struct dec *d, int64_t sec, int64_t nsec, bool micro, json_t **ret)
{
        /* Go refuses to marshal years outside [0, 9999]. */
        if (sec < -62167219200LL || sec > 253402300799LL || nsec < 0 || nsec > 999999999)
                return error_set(d->err, -EINVAL, "timestamp out of range");
        time_t t = (time_t)sec;
        struct tm tm;
        char buf[64];
        if (!gmtime_r(&t, &tm))
                return error_set(d->err, -EINVAL, "timestamp out of range");
        size_t l = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        if (micro)
                snprintf(buf + l, sizeof(buf) - l, ".%06dZ", (int)(nsec / 1000));
        else
                snprintf(buf + l, sizeof(buf) - l, "Z");
        *ret = node(d, json_string(buf));
        return 0;
}

/* Go's time.Duration.String(). */
static void fmt_duration(int64_t d, char buf[40])
{
        char tmp[40];
        int i = sizeof(tmp);
        uint64_t u = d < 0 ? -(uint64_t)d : (uint64_t)d;
        tmp[--i] = 0;
        if (u < 1000000000ull) {
                int prec = 0;
                const char *unit;
                if (u == 0) {
                        snprintf(buf, 40, "0s");
                        return;
                } else if (u < 1000) {
                        unit = "ns";
                } else if (u < 1000000) {
                        prec = 3;
                        unit = "\xc2\xb5s";
                } else {
                        prec = 6;
                        unit = "ms";
                }
                for (int k = (int)strlen(unit) - 1; k >= 0; k--)
                        tmp[--i] = unit[k];
                bool printed = false;
                for (int k = 0; k < prec; k++) {
                        unsigned digit = u % 10;
                        if (digit || printed) {
                                tmp[--i] = (char)('0' + digit);
                                printed = true;
                        }
                        u /= 10;
                }
                if (printed)
                        tmp[--i] = '.';
                do {
                        tmp[--i] = (char)('0' + u % 10);
                        u /= 10;
                } while (u);
        } else {
                tmp[--i] = 's';
                bool printed = false;
                for (int k = 0; k < 9; k++) {
                        unsigned digit = u % 10;
                        if (digit || printed) {
                                tmp[--i] = (char)('0' + digit);
                                printed = true;
                        }
                        u /= 10;
                }
                if (printed)
                        tmp[--i] = '.';
                uint64_t s = u % 60, m = (u / 60) % 60, h = u / 3600;
                do {
                        tmp[--i] = (char)('0' + s % 10);
                        s /= 10;
                } while (s);
                if (m || h) {
                        tmp[--i] = 'm';
                        do {
                                tmp[--i] = (char)('0' + m % 10);
                                m /= 10;
                        } while (m);
                }
                if (h) {
                        tmp[--i] = 'h';
                        do {
                                tmp[--i] = (char)('0' + h % 10);
                                h /= 10;
                        } while (h);
                }
        }
        if (d < 0)
                tmp[--i] = '-';
        snprintf(buf, 40, "%s", tmp + i);
}

static int b64_encode(const uint8_t *p, size_t n, json_t **ret)
{
        static const char tbl[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t olen = (n + 2) / 3 * 4;
        _cleanup_free_ char *o = xmalloc(olen + 1);
        size_t j = 0;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t)p[i + 1] << 8;
                if (i + 2 < n)
                        v |= p[i + 2];
                o[j++] = tbl[(v >> 18) & 63];
                o[j++] = tbl[(v >> 12) & 63];
                o[j++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
                o[j++] = i + 2 < n ? tbl[v & 63] : '=';
        }
        *ret = json_stringn(o, j);
        return 0;
}

static int make_string(struct dec *d, const struct protobuf_field *f, const uint8_t *p, size_t n,
                       json_t **ret)
{
        json_t *s = json_stringn((const char *)p, n);
        if (!s)
                return error_set(d->err, -EINVAL, "%s: invalid UTF-8", f->name);
        *ret = node(d, s);
        return 0;
}

/* Scan a small sub-message (Time, IntOrString, ...) for its varint/LEN fields 1..3. */
struct small {
        uint64_t v[4];
        const uint8_t *s[4];
        size_t slen[4];
};

static int scan_small(struct dec *d, const uint8_t *p, size_t n, struct small *ret)
{
        struct rd r = {p, p + n};
        memset(ret, 0, sizeof(*ret));
        while (r.p < r.end) {
                struct wfield w;
                int e = read_field(&r, &w, d->err);
                if (e < 0)
                        return e;
                if (w.num > 3)
                        continue;
                if (w.wire == WIRE_VARINT) {
                        ret->v[w.num] = w.v;
                } else if (w.wire == WIRE_LEN) {
                        ret->s[w.num] = w.data;
                        ret->slen[w.num] = w.len;
                }
        }
        return 0;
}

/* Decode one value of f's type from a wire field (not repeated/map handling). */
static int decode_value(struct dec *d, const struct protobuf_field *f, const struct wfield *w,
                        int depth, json_t **ret)
{
        struct small sm;
        int r;
        switch (f->type) {
        case PB_STRING:
                return make_string(d, f, w->data, w->len, ret);
        case PB_BYTES:
                b64_encode(w->data, w->len, ret);
                node(d, *ret);
                return 0;
        case PB_BOOL:
                *ret = node(d, json_boolean(w->v != 0));
                return 0;
        case PB_INT32:
                *ret = node(d, json_integer((int32_t)(uint32_t)w->v));
                return 0;
        case PB_INT64:
                *ret = node(d, json_integer((json_int_t)(int64_t)w->v));
                return 0;
        case PB_MESSAGE: {
                json_t *o = node(d, json_object());
                r = decode_message(d, f->msg, w->data, w->len, o, depth + 1);
                if (r < 0) {
                        json_decref(o);
                        return r;
                }
                *ret = o;
                return 0;
        }
        case PB_QUANTITY: {
                char q[QUANTITY_STR_MAX];
                struct error qerr = {0};
                if ((r = scan_small(d, w->data, w->len, &sm)) < 0)
                        return r;
                if (!sm.slen[1]) {
                        *ret = node(d, json_string("0"));
                        return 0;
                }
                _cleanup_free_ char *s = xstrndup((const char *)sm.s[1], sm.slen[1]);
                if (strlen(s) != sm.slen[1] || quantity_canonicalize(s, q, &qerr) < 0)
                        return error_set(d->err, -EINVAL, "%s: invalid quantity", f->name);
                *ret = node(d, json_string(q));
                return 0;
        }
        case PB_TIME:
        case PB_MICROTIME:
                if (w->len == 0) {
                        *ret = node(d, json_null());
                        return 0;
                }
                if ((r = scan_small(d, w->data, w->len, &sm)) < 0)
                        return r;
                /* metav1.Time drops nanos when decoding protobuf; MicroTime keeps them */
                return fmt_time(d, (int64_t)sm.v[1],
                                f->type == PB_MICROTIME ? (int64_t)(int32_t)sm.v[2] : 0,
                                f->type == PB_MICROTIME, ret);
        case PB_DURATION: {
                char buf[40];
                if ((r = scan_small(d, w->data, w->len, &sm)) < 0)
                        return r;
                fmt_duration((int64_t)sm.v[1], buf);
                *ret = node(d, json_string(buf));
                return 0;
        }
        case PB_INTSTR:
                if ((r = scan_small(d, w->data, w->len, &sm)) < 0)
                        return r;
                if (sm.v[1] == 0) {
                        *ret = node(d, json_integer((int32_t)(uint32_t)sm.v[2]));
                        return 0;
                }
                if (sm.v[1] != 1)
                        return error_set(d->err, -EINVAL, "%s: invalid IntOrString type", f->name);
                return make_string(d, f, sm.s[3] ? sm.s[3] : (const uint8_t *)"", sm.slen[3], ret);
        case PB_RAW: {
                json_error_t jerr;
                if ((r = scan_small(d, w->data, w->len, &sm)) < 0)
                        return r;
                if (!sm.slen[1]) {
                        *ret = node(d, json_null());
                        return 0;
                }
                json_t *v = json_loadb((const char *)sm.s[1], sm.slen[1],
                                       JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
                if (!v)
                        return error_set(d->err, -EINVAL, "%s: invalid embedded JSON", f->name);
                d->nodes += sm.slen[1] / 2; /* rough */
                *ret = v;
                return 0;
        }
        case PB_STRLIST: {
                struct rd lr = {w->data, w->data + w->len};
                json_t *a = node(d, json_array());
                while (lr.p < lr.end) {
                        struct wfield lw;
                        json_t *v = NULL;
                        if ((r = read_field(&lr, &lw, d->err)) < 0)
                                goto strlist_fail;
                        if (lw.num != 1 || lw.wire != WIRE_LEN)
                                continue;
                        if (json_array_size(a) >= PROTOBUF_MAX_REPEATED) {
                                r = error_set(d->err, -E2BIG, "%s: too many elements", f->name);
                                goto strlist_fail;
                        }
                        if ((r = make_string(d, f, lw.data, lw.len, &v)) < 0)
                                goto strlist_fail;
                        json_array_append_new(a, v);
                }
                *ret = a;
                return 0;
        strlist_fail:
                json_decref(a);
                return r;
        }
        default:
                return error_set(d->err, -EINVAL, "%s: unsupported type", f->name);
        }
}

static bool is_zero(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_STRING:
                return json_string_length(v) == 0;
        case JSON_INTEGER:
                return json_integer_value(v) == 0;
        case JSON_FALSE:
        case JSON_NULL:
                return true;
        default:
                return false;
        }
}

static int append(struct dec *d, json_t *obj, const char *name, json_t *v)
{
        json_t *a = json_object_get(obj, name);
        if (!json_is_array(a)) {
                a = node(d, json_array());
                json_object_set_new(obj, name, a);
        }
        if (json_array_size(a) >= PROTOBUF_MAX_REPEATED) {
                json_decref(v);
                return error_set(d->err, -E2BIG, "%s: too many elements", name);
        }
        json_array_append_new(a, v);
        return 0;
}

static int decode_map_entry(struct dec *d, const struct protobuf_field *f, const struct wfield *w,
                            json_t *obj, int depth)
{
        struct rd r = {w->data, w->data + w->len};
        _cleanup_free_ char *key = NULL;
        json_t *val = NULL;
        int e = 0;
        while (r.p < r.end) {
                struct wfield ew;
                if ((e = read_field(&r, &ew, d->err)) < 0)
                        goto out;
                if (ew.num == 1 && ew.wire == WIRE_LEN) {
                        if (memchr(ew.data, 0, ew.len)) {
                                e = error_set(d->err, -EINVAL, "%s: NUL in map key", f->name);
                                goto out;
                        }
                        free(key);
                        key = xstrndup((const char *)ew.data, ew.len);
                } else if (ew.num == 2) {
                        if ((ew.wire == WIRE_LEN) != is_len_type(f->type)) {
                                e = error_set(d->err, -EINVAL, "%s: wrong wire type", f->name);
                                goto out;
                        }
                        json_decref(val);
                        val = NULL;
                        if ((e = decode_value(d, f, &ew, depth, &val)) < 0)
                                goto out;
                }
        }
        if (!key)
                key = xstrdup("");
        if (!json_is_object(json_object_get(obj, f->name)))
                json_object_set_new(obj, f->name, node(d, json_object()));
        json_t *m = json_object_get(obj, f->name);
        if (json_object_size(m) >= PROTOBUF_MAX_REPEATED) {
                e = error_set(d->err, -E2BIG, "%s: too many entries", f->name);
                goto out;
        }
        if (!val && (e = zero_value(d, f->type, f->msg, depth, &val)) < 0)
                goto out;
        if (json_object_set_new(m, key, val) < 0) {
                val = NULL;
                e = error_set(d->err, -EINVAL, "%s: invalid map key", f->name);
                goto out;
        }
        val = NULL;
out:
        json_decref(val);
        return e;
}

/* Decode the wire fields of m from p[0..n) into obj (an object; inlined structs share it), then
 * add the zero values of absent fields. */
static int decode_message(struct dec *d, const struct protobuf_message *m, const uint8_t *p,
                          size_t n, json_t *obj, int depth)
{
        struct rd r = {p, p + n};
        bool seen_small[128];
        _cleanup_free_ bool *seen_big = NULL;
        bool *seen = seen_small;
        int e;

        if (depth > PROTOBUF_MAX_DEPTH)
                return error_set(d->err, -E2BIG, "protobuf nesting too deep");
        if (m->n_fields > ARRAY_SIZE(seen_small))
                seen = seen_big = xcalloc(m->n_fields, sizeof(bool));
        else
                memset(seen_small, 0, sizeof(seen_small));

        while (r.p < r.end) {
                struct wfield w;
                if ((e = read_field(&r, &w, d->err)) < 0)
                        return e;
                const struct protobuf_field *f = find_field(m, w.num);
                if (!f || f->type == PB_SKIP)
                        continue;
                seen[f - m->fields] = true;

                if (f->flags & PB_MAP) {
                        if (w.wire != WIRE_LEN)
                                return error_set(d->err, -EINVAL, "%s: wrong wire type", f->name);
                        if ((e = decode_map_entry(d, f, &w, obj, depth)) < 0)
                                return e;
                } else if ((f->flags & PB_REPEATED) && w.wire == WIRE_LEN &&
                           !is_len_type(f->type)) {
                        /* packed scalars */
                        struct rd pr = {w.data, w.data + w.len};
                        while (pr.p < pr.end) {
                                struct wfield pw = {.num = w.num, .wire = WIRE_VARINT};
                                json_t *v;
                                if (read_varint(&pr, &pw.v) < 0)
                                        return error_set(d->err, -EINVAL, "%s: bad packed field",
                                                         f->name);
                                if ((e = decode_value(d, f, &pw, depth, &v)) < 0)
                                        return e;
                                if ((e = append(d, obj, f->name, v)) < 0)
                                        return e;
                        }
                } else {
                        json_t *v = NULL;
                        if ((w.wire == WIRE_LEN) != is_len_type(f->type) ||
                            (w.wire != WIRE_LEN && w.wire != WIRE_VARINT))
                                return error_set(d->err, -EINVAL, "%s: wrong wire type", f->name);
                        if (f->flags & PB_INLINE) {
                                if ((e = decode_message(d, f->msg, w.data, w.len, obj, depth + 1)) <
                                    0)
                                        return e;
                                continue;
                        }
                        json_t *old = json_object_get(obj, f->name);
                        if (f->type == PB_MESSAGE && !(f->flags & PB_REPEATED) &&
                            json_is_object(old)) {
                                /* a repeated occurrence merges into the first (protobuf) */
                                if ((e = decode_message(d, f->msg, w.data, w.len, old, depth + 1)) <
                                    0)
                                        return e;
                                continue;
                        }
                        if ((e = decode_value(d, f, &w, depth, &v)) < 0)
                                return e;
                        if (f->flags & PB_REPEATED) {
                                if ((e = append(d, obj, f->name, v)) < 0)
                                        return e;
                        } else if ((f->flags & PB_OMITEMPTY) && !(f->flags & PB_PTR) &&
                                   (f->type == PB_STRING || f->type == PB_BOOL ||
                                    f->type == PB_INT32 || f->type == PB_INT64 ||
                                    f->type == PB_BYTES) &&
                                   is_zero(f->type == PB_BYTES && json_string_length(v) == 0
                                                   ? json_null()
                                                   : v)) {
                                json_decref(v);
                                json_object_del(obj, f->name);
                        } else {
                                json_object_set_new(obj, f->name, v);
                        }
                }
                if ((e = check_nodes(d)) < 0)
                        return e;
        }
        return zero_fill(d, m, obj, seen, depth);
}

static const struct protobuf_kind *find_kind(const char *api_version, const char *kind)
{
        for (size_t i = 0; i < protobuf_schema_kinds_count; i++)
                if ((!strcmp(protobuf_schema_kinds[i].api_version, api_version) ||
                     !strcmp(protobuf_schema_kinds[i].api_version, "*")) &&
                    !strcmp(protobuf_schema_kinds[i].kind, kind))
                        return &protobuf_schema_kinds[i];
        return NULL;
}

bool protobuf_has_kind(const char *api_version, const char *kind)
{
        return find_kind(api_version, kind) != NULL;
}

int protobuf_decode_object(const char *api_version, const char *kind, const void *buf, size_t len,
                           json_t **ret, struct error *err)
{
        const struct protobuf_kind *k = find_kind(api_version, kind);
        struct dec d = {.err = err};
        if (!k)
                return error_set(err, -ENOTSUP, "no protobuf schema for %s/%s", api_version, kind);
        if (len > PROTOBUF_MAX_BODY)
                return error_set(err, -E2BIG, "protobuf body too large");
        json_t *obj = json_object();
        json_object_set_new(obj, "kind", json_string(kind));
        json_object_set_new(obj, "apiVersion", json_string(api_version));
        int r = decode_message(&d, k->msg, buf, len, obj, 0);
        if (r < 0) {
                json_decref(obj);
                return r;
        }
        *ret = obj;
        return 0;
}

int protobuf_decode_k8s(const void *buf, size_t len, json_t **ret, struct error *err)
{
        const uint8_t *p = buf;
        struct rd r;
        const uint8_t *raw = NULL;
        size_t raw_len = 0;
        _cleanup_free_ char *api_version = NULL, *kind = NULL, *encoding = NULL;
        int e;

        if (len < sizeof(k8s_magic) || memcmp(p, k8s_magic, sizeof(k8s_magic)))
                return error_set(err, -EINVAL, "not a Kubernetes protobuf envelope");
        if (len > PROTOBUF_MAX_BODY)
                return error_set(err, -E2BIG, "protobuf body too large");
        r.p = p + sizeof(k8s_magic);
        r.end = p + len;
        while (r.p < r.end) {
                struct wfield w;
                if ((e = read_field(&r, &w, err)) < 0)
                        return error_wrap(err, e, "not a Kubernetes protobuf envelope");
                if (w.num == 1 && w.wire == WIRE_LEN) {
                        struct rd tr = {w.data, w.data + w.len};
                        while (tr.p < tr.end) {
                                struct wfield tw;
                                if ((e = read_field(&tr, &tw, err)) < 0)
                                        return error_wrap(err, e, "typeMeta");
                                if (tw.wire != WIRE_LEN || (tw.num != 1 && tw.num != 2))
                                        continue;
                                if (memchr(tw.data, 0, tw.len))
                                        return error_set(err, -EINVAL, "NUL in typeMeta");
                                char **dst = tw.num == 1 ? &api_version : &kind;
                                free(*dst);
                                *dst = xstrndup((const char *)tw.data, tw.len);
                        }
                } else if (w.num == 2 && w.wire == WIRE_LEN) {
                        raw = w.data;
                        raw_len = w.len;
                } else if (w.num == 3 && w.wire == WIRE_LEN) {
                        free(encoding);
                        encoding = xstrndup((const char *)w.data, w.len);
                }
        }
        if (!api_version || !*api_version || !kind || !*kind)
                return error_set(err, -EINVAL, "protobuf envelope without apiVersion/kind");
        if (encoding && *encoding)
                return error_set(err, -ENOTSUP, "unsupported protobuf contentEncoding %s",
                                 encoding);
        if (!protobuf_has_kind(api_version, kind))
                return error_set(err, -ENOTSUP, "no protobuf schema for %s/%s", api_version, kind);
        return protobuf_decode_object(api_version, kind, raw ? raw : (const uint8_t *)"", raw_len,
                                      ret, err);
}
