/* protobuf.c — schema-table driven protobuf -> JSON for a few core kinds (see protobuf.h). */
#include "apiserver/protobuf.h"

#include <openssl/evp.h>
#include <stdio.h>

#include "common/timefmt.h"

enum ptype {
        P_STRING,    /* string, omitted when empty */
        P_INT64,     /* varint, omitted when zero */
        P_INT64_OPT, /* varint, kept when zero (pointer fields) */
        P_BOOL,
        P_BYTES,  /* -> base64 string */
        P_MSG,    /* nested message */
        P_MAP_SS, /* map<string,string> */
        P_MAP_SB, /* map<string,bytes> -> base64 values */
        P_TIME,   /* metav1.Time {1 seconds, 2 nanos} -> RFC 3339, omitted when zero */
};

struct pmsg;
struct pfield {
        unsigned num;
        const char *name;
        enum ptype type;
        bool repeated;
        const struct pmsg *msg;
};
struct pmsg {
        const struct pfield *fields;
};

#define END                                                                                        \
        {                                                                                          \
                0, NULL, P_STRING, false, NULL                                                     \
        }

static const struct pfield f_owner[] = {
        {1, "kind", P_STRING, false, NULL},
        {3, "name", P_STRING, false, NULL},
        {4, "uid", P_STRING, false, NULL},
        {5, "apiVersion", P_STRING, false, NULL},
        {6, "controller", P_BOOL, false, NULL},
        {7, "blockOwnerDeletion", P_BOOL, false, NULL},
        END,
};
static const struct pmsg m_owner = {f_owner};
static const struct pfield f_meta[] = {
        {1, "name", P_STRING, false, NULL},
        {2, "generateName", P_STRING, false, NULL},
        {3, "namespace", P_STRING, false, NULL},
        {5, "uid", P_STRING, false, NULL},
        {6, "resourceVersion", P_STRING, false, NULL},
        {7, "generation", P_INT64, false, NULL},
        {8, "creationTimestamp", P_TIME, false, NULL},
        {9, "deletionTimestamp", P_TIME, false, NULL},
        {10, "deletionGracePeriodSeconds", P_INT64_OPT, false, NULL},
        {11, "labels", P_MAP_SS, false, NULL},
        {12, "annotations", P_MAP_SS, false, NULL},
        {13, "ownerReferences", P_MSG, true, &m_owner},
        {14, "finalizers", P_STRING, true, NULL},
        END,
};
static const struct pmsg m_meta = {f_meta};
static const struct pfield f_ns_spec[] = {{1, "finalizers", P_STRING, true, NULL}, END};
static const struct pmsg m_ns_spec = {f_ns_spec};
static const struct pfield f_ns_status[] = {{1, "phase", P_STRING, false, NULL}, END};
static const struct pmsg m_ns_status = {f_ns_status};
static const struct pfield f_namespace[] = {
        {1, "metadata", P_MSG, false, &m_meta},
        {2, "spec", P_MSG, false, &m_ns_spec},
        {3, "status", P_MSG, false, &m_ns_status},
        END,
};
static const struct pfield f_configmap[] = {
        {1, "metadata", P_MSG, false, &m_meta},
        {2, "data", P_MAP_SS, false, NULL},
        {3, "binaryData", P_MAP_SB, false, NULL},
        {4, "immutable", P_BOOL, false, NULL},
        END,
};
static const struct pfield f_secret[] = {
        {1, "metadata", P_MSG, false, &m_meta}, {2, "data", P_MAP_SB, false, NULL},
        {3, "type", P_STRING, false, NULL},     {4, "stringData", P_MAP_SS, false, NULL},
        {5, "immutable", P_BOOL, false, NULL},  END,
};
static const struct pfield f_objref[] = {
        {1, "kind", P_STRING, false, NULL},       {2, "namespace", P_STRING, false, NULL},
        {3, "name", P_STRING, false, NULL},       {4, "uid", P_STRING, false, NULL},
        {5, "apiVersion", P_STRING, false, NULL}, {6, "resourceVersion", P_STRING, false, NULL},
        {7, "fieldPath", P_STRING, false, NULL},  END,
};
static const struct pmsg m_objref = {f_objref};
static const struct pfield f_localref[] = {{1, "name", P_STRING, false, NULL}, END};
static const struct pmsg m_localref = {f_localref};
static const struct pfield f_sa[] = {
        {1, "metadata", P_MSG, false, &m_meta},
        {2, "secrets", P_MSG, true, &m_objref},
        {3, "imagePullSecrets", P_MSG, true, &m_localref},
        {4, "automountServiceAccountToken", P_BOOL, false, NULL},
        END,
};

static const struct {
        const char *api_version, *kind;
        struct pmsg msg;
} kinds[] = {
        {"v1", "Namespace", {f_namespace}},
        {"v1", "ConfigMap", {f_configmap}},
        {"v1", "Secret", {f_secret}},
        {"v1", "ServiceAccount", {f_sa}},
};

struct rd {
        const uint8_t *p, *end;
};

static int varint(struct rd *r, uint64_t *ret)
{
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
                if (r->p >= r->end)
                        return -EBADMSG;
                uint8_t b = *r->p++;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *ret = v;
                        return 0;
                }
        }
        return -EBADMSG;
}

/* Next field: *num, *wt, and for wt 0 the value, for wt 2 the bytes. */
static int next_field(struct rd *r, unsigned *num, unsigned *wt, uint64_t *v, struct rd *sub)
{
        uint64_t key;
        if (varint(r, &key) < 0)
                return -EBADMSG;
        *num = (unsigned)(key >> 3);
        *wt = (unsigned)(key & 7);
        if (*num == 0)
                return -EBADMSG;
        switch (*wt) {
        case 0:
                return varint(r, v);
        case 1:
                if (r->end - r->p < 8)
                        return -EBADMSG;
                r->p += 8;
                return 0;
        case 5:
                if (r->end - r->p < 4)
                        return -EBADMSG;
                r->p += 4;
                return 0;
        case 2: {
                uint64_t n;
                if (varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p))
                        return -EBADMSG;
                sub->p = r->p;
                sub->end = r->p + n;
                r->p += n;
                return 0;
        }
        default:
                return -EBADMSG;
        }
}

static json_t *str_of(const struct rd *s)
{
        return json_stringn((const char *)s->p, (size_t)(s->end - s->p));
}

static json_t *b64_of(const struct rd *s)
{
        size_t n = (size_t)(s->end - s->p);
        char *b = xmalloc(4 * ((n + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)b, s->p, (int)n);
        json_t *j = json_string(b);
        free(b);
        return j;
}

/* map entry {1 key, 2 value} */
static int map_entry(struct rd *s, bool bytes, json_t *obj)
{
        struct rd key = {NULL, NULL}, val = {(const uint8_t *)"", (const uint8_t *)""};
        while (s->p < s->end) {
                unsigned num, wt;
                uint64_t v;
                struct rd sub;
                if (next_field(s, &num, &wt, &v, &sub) < 0)
                        return -EBADMSG;
                if (wt != 2)
                        continue;
                if (num == 1)
                        key = sub;
                else if (num == 2)
                        val = sub;
        }
        if (!key.p)
                return -EBADMSG;
        json_t *k = str_of(&key);
        if (!k)
                return -EBADMSG; /* not UTF-8 */
        json_t *jv = bytes ? b64_of(&val) : str_of(&val);
        if (!jv) {
                json_decref(k);
                return -EBADMSG;
        }
        json_object_set_new(obj, json_string_value(k), jv);
        json_decref(k);
        return 0;
}

static int decode_msg(struct rd *r, const struct pmsg *m, json_t *obj, int depth);

static int time_of(struct rd *s, json_t **ret)
{
        uint64_t secs = 0;
        while (s->p < s->end) {
                unsigned num, wt;
                uint64_t v = 0;
                struct rd sub;
                if (next_field(s, &num, &wt, &v, &sub) < 0)
                        return -EBADMSG;
                if (num == 1 && wt == 0)
                        secs = v;
        }
        *ret = NULL;
        if (secs && (int64_t)secs > 0) {
                char buf[32];
                timefmt_rfc3339(buf, (time_t)secs);
                *ret = json_string(buf);
        }
        return 0;
}

static int decode_field(const struct pfield *f, unsigned wt, uint64_t v, struct rd *sub,
                        json_t *obj, int depth)
{
        json_t *val = NULL;
        switch (f->type) {
        case P_STRING:
                if (wt != 2)
                        return -EBADMSG;
                if (sub->p == sub->end && !f->repeated)
                        return 0;
                val = str_of(sub);
                break;
        case P_BYTES:
                if (wt != 2)
                        return -EBADMSG;
                val = b64_of(sub);
                break;
        case P_INT64:
        case P_INT64_OPT:
                if (wt != 0)
                        return -EBADMSG;
                if (!v && f->type == P_INT64)
                        return 0;
                val = json_integer((json_int_t)v);
                break;
        case P_BOOL:
                if (wt != 0)
                        return -EBADMSG;
                val = json_boolean(v != 0);
                break;
        case P_TIME:
                if (wt != 2 || time_of(sub, &val) < 0)
                        return -EBADMSG;
                if (!val)
                        return 0;
                break;
        case P_MAP_SS:
        case P_MAP_SB: {
                if (wt != 2)
                        return -EBADMSG;
                json_t *map = json_object_get(obj, f->name);
                if (!map) {
                        map = json_object();
                        json_object_set_new(obj, f->name, map);
                }
                return map_entry(sub, f->type == P_MAP_SB, map);
        }
        case P_MSG:
                if (wt != 2 || depth > 8)
                        return -EBADMSG;
                if (!f->repeated) {
                        json_t *child = json_object_get(obj, f->name);
                        if (!child) {
                                child = json_object();
                                json_object_set_new(obj, f->name, child);
                        }
                        return decode_msg(sub, f->msg, child, depth + 1);
                }
                val = json_object();
                if (decode_msg(sub, f->msg, val, depth + 1) < 0) {
                        json_decref(val);
                        return -EBADMSG;
                }
                break;
        }
        if (!val)
                return -EBADMSG; /* invalid UTF-8 */
        if (f->repeated) {
                json_t *arr = json_object_get(obj, f->name);
                if (!json_is_array(arr)) {
                        arr = json_array();
                        json_object_set_new(obj, f->name, arr);
                }
                json_array_append_new(arr, val);
        } else {
                json_object_set_new(obj, f->name, val);
        }
        return 0;
}

static int decode_msg(struct rd *r, const struct pmsg *m, json_t *obj, int depth)
{
        while (r->p < r->end) {
                unsigned num, wt;
                uint64_t v = 0;
                struct rd sub = {NULL, NULL};
                if (next_field(r, &num, &wt, &v, &sub) < 0)
                        return -EBADMSG;
                for (const struct pfield *f = m->fields; f->name; f++) {
                        if (f->num != num)
                                continue;
                        if (decode_field(f, wt, v, &sub, obj, depth) < 0)
                                return -EBADMSG;
                        break;
                }
        }
        return 0;
}

bool protobuf_is_k8s(const char *buf, size_t len)
{
        return len >= 4 && !memcmp(buf, PROTOBUF_MAGIC, 4);
}

int protobuf_decode(const char *buf, size_t len, json_t **ret, struct error *err)
{
        if (!protobuf_is_k8s(buf, len))
                return error_set(err, -EBADMSG, "not a Kubernetes protobuf message");
        struct rd r = {(const uint8_t *)buf + 4, (const uint8_t *)buf + len};
        struct rd tm = {NULL, NULL}, raw = {NULL, NULL};
        while (r.p < r.end) {
                unsigned num, wt;
                uint64_t v;
                struct rd sub = {NULL, NULL};
                if (next_field(&r, &num, &wt, &v, &sub) < 0)
                        return error_set(err, -EBADMSG, "protobuf: malformed envelope");
                if (num == 1 && wt == 2)
                        tm = sub;
                else if (num == 2 && wt == 2)
                        raw = sub;
        }
        char api_version[64] = "", kind[64] = "";
        while (tm.p && tm.p < tm.end) {
                unsigned num, wt;
                uint64_t v;
                struct rd sub = {NULL, NULL};
                if (next_field(&tm, &num, &wt, &v, &sub) < 0)
                        return error_set(err, -EBADMSG, "protobuf: malformed type meta");
                if (wt != 2)
                        continue;
                char *dst = num == 1 ? api_version : num == 2 ? kind : NULL;
                if (dst)
                        snprintf(dst, 64, "%.*s", (int)MIN(sub.end - sub.p, 63),
                                 (const char *)sub.p);
        }
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
                if (strcmp(kinds[i].api_version, api_version) || strcmp(kinds[i].kind, kind))
                        continue;
                json_t *obj = json_pack("{s:s,s:s}", "kind", kind, "apiVersion", api_version);
                if (raw.p && decode_msg(&raw, &kinds[i].msg, obj, 0) < 0) {
                        json_decref(obj);
                        return error_set(err, -EBADMSG, "protobuf: malformed %s", kind);
                }
                *ret = obj;
                return 0;
        }
        return error_set(err, -EMEDIUMTYPE,
                         "the body of the request was in an unknown format - accepted media types "
                         "include: application/json, application/yaml, "
                         "application/apply-patch+yaml, application/merge-patch+json, "
                         "application/json-patch+json, application/strategic-merge-patch+json "
                         "(protobuf is decoded only for Namespace, ConfigMap, Secret and "
                         "ServiceAccount; got %s %s)",
                         api_version, kind);
}
