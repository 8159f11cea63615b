/* test-protobuf.c — Kubernetes protobuf request bodies -> JSON. The messages are built here
 * with a tiny encoder, laid out as kubectl 1.32's `create namespace|configmap` sends them
 * (proto2/gogo: empty strings and zeros present on the wire). */
#include "harness.h"

#include "apiserver/protobuf.h"
#include "common/kjson.h"

struct enc {
        unsigned char b[4096];
        size_t n;
};

static void put_varint(struct enc *e, uint64_t v)
{
        do {
                unsigned char c = v & 0x7f;
                v >>= 7;
                e->b[e->n++] = c | (v ? 0x80 : 0);
        } while (v);
}

static void put_bytes(struct enc *e, unsigned num, const void *p, size_t n)
{
        put_varint(e, (uint64_t)num << 3 | 2);
        put_varint(e, n);
        memcpy(e->b + e->n, p, n);
        e->n += n;
}

static void put_str(struct enc *e, unsigned num, const char *s)
{
        put_bytes(e, num, s, strlen(s));
}

static void put_msg(struct enc *e, unsigned num, const struct enc *m)
{
        put_bytes(e, num, m->b, m->n);
}

static void put_int(struct enc *e, unsigned num, uint64_t v)
{
        put_varint(e, (uint64_t)num << 3);
        put_varint(e, v);
}

static void put_map(struct enc *e, unsigned num, const char *k, const char *v)
{
        struct enc m = {.n = 0};
        put_str(&m, 1, k);
        put_str(&m, 2, v);
        put_msg(e, num, &m);
}

static void envelope(struct enc *out, const char *av, const char *kind, const struct enc *raw)
{
        struct enc tm = {.n = 0};
        put_str(&tm, 1, av);
        put_str(&tm, 2, kind);
        memcpy(out->b, "k8s\0", 4);
        out->n = 4;
        put_msg(out, 1, &tm);
        put_msg(out, 2, raw);
        put_str(out, 3, "");
        put_str(out, 4, "");
}

static void meta(struct enc *m, const char *name)
{
        struct enc t = {.n = 0};
        m->n = 0;
        put_str(m, 1, name);
        put_str(m, 2, "");
        put_str(m, 3, "");
        put_str(m, 5, "");
        put_str(m, 6, "");
        put_int(m, 7, 0);
        put_msg(m, 8, &t); /* zero creationTimestamp */
        put_map(m, 11, "app", "x");
}

TEST(namespace)
{
        struct enc m, raw = {.n = 0}, spec = {.n = 0}, status = {.n = 0}, out;
        meta(&m, "demo");
        put_msg(&raw, 1, &m);
        put_msg(&raw, 2, &spec);
        put_str(&status, 1, "");
        put_msg(&raw, 3, &status);
        envelope(&out, "v1", "Namespace", &raw);
        json_t *j = NULL;
        struct error err = {0};
        CHECK(protobuf_is_k8s((const char *)out.b, out.n));
        CHECK_EQ_INT(protobuf_decode((const char *)out.b, out.n, &j, &err), 0);
        char *s = kjson_dump(j);
        CHECK_EQ_STR(
                s, "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"demo\","
                   "\"labels\":{\"app\":\"x\"}},\"spec\":{},\"status\":{}}");
        free(s);
        json_decref(j);
}

TEST(configmap_secret)
{
        struct enc m, raw = {.n = 0}, out;
        meta(&m, "c");
        put_msg(&raw, 1, &m);
        put_map(&raw, 2, "a", "b");
        put_map(&raw, 2, "c", "d");
        envelope(&out, "v1", "ConfigMap", &raw);
        json_t *j = NULL;
        CHECK_EQ_INT(protobuf_decode((const char *)out.b, out.n, &j, NULL), 0);
        CHECK_EQ_STR(kjson_str(j, "data.c"), "d");
        CHECK_EQ_STR(kjson_str(j, "metadata.name"), "c");
        json_decref(j);

        raw.n = 0;
        put_msg(&raw, 1, &m);
        put_map(&raw, 2, "u", "admin");
        put_str(&raw, 3, "Opaque");
        envelope(&out, "v1", "Secret", &raw);
        CHECK_EQ_INT(protobuf_decode((const char *)out.b, out.n, &j, NULL), 0);
        CHECK_EQ_STR(kjson_str(j, "data.u"), "YWRtaW4=");
        CHECK_EQ_STR(kjson_str(j, "type"), "Opaque");
        json_decref(j);
}

TEST(errors)
{
        struct enc m, raw = {.n = 0}, out;
        meta(&m, "d");
        put_msg(&raw, 1, &m);
        envelope(&out, "apps/v1", "Deployment", &raw);
        json_t *j = NULL;
        struct error err = {0};
        CHECK_EQ_INT(protobuf_decode((const char *)out.b, out.n, &j, &err), -EMEDIUMTYPE);
        CHECK(strstr(err.msg, "Deployment"));
        /* truncated */
        envelope(&out, "v1", "ConfigMap", &raw);
        CHECK_EQ_INT(protobuf_decode((const char *)out.b, out.n - 8, &j, NULL), -EBADMSG);
        CHECK_EQ_INT(protobuf_decode("{}", 2, &j, NULL), -EBADMSG);
        /* a length running past the end */
        unsigned char bad[] = {'k', '8', 's', 0, 0x12, 0xff, 0x01, 0x00};
        CHECK_EQ_INT(protobuf_decode((const char *)bad, sizeof(bad), &j, NULL), -EBADMSG);
}

int main(void)
{
        RUN(namespace);
        RUN(configmap_secret);
        RUN(errors);
        return harness_done();
}
