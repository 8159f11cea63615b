/* test-protobuf.c — protobuf_decode_k8s against real kubectl bodies.
 *
 * tests/data/protobuf/<name>.pb is the body kubectl 1.32 POSTed (protobuf) for a `kubectl create
 * ...` command, <name>.json the body kubectl 1.31 POSTed (JSON) for the same command, both
 * recorded with /work/shared/reference/kubectl-mock.py. Each .pb must decode to exactly the .json
 * (key order ignored). Plus hand-built bodies for the error paths and the special types. */
#include <dirent.h>
#include <stdio.h>

#include "../harness.h"
#include "api/protobuf.h"

#define DATA_DIR "tests/data/protobuf"

static char *read_all(const char *path, size_t *ret_len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        size_t cap = 4096, n = 0;
        char *buf = xmalloc(cap);
        size_t k;
        while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
                n += k;
                if (n == cap)
                        buf = xrealloc(buf, cap *= 2);
        }
        fclose(f);
        *ret_len = n;
        return buf;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(golden_fixtures)
{
        DIR *dir = opendir(DATA_DIR);
        CHECK(dir);
        if (!dir)
                return;
        char *names[256];
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(dir)) && n < ARRAY_SIZE(names)) {
                size_t l = strlen(de->d_name);
                if (l > 3 && !strcmp(de->d_name + l - 3, ".pb"))
                        names[n++] = xstrndup(de->d_name, l - 3);
        }
        closedir(dir);
        qsort(names, n, sizeof(names[0]), cmp_names);
        CHECK(n >= 30);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *pb_path = xasprintf("%s/%s.pb", DATA_DIR, names[i]);
                _cleanup_free_ char *js_path = xasprintf("%s/%s.json", DATA_DIR, names[i]);
                size_t len = 0;
                _cleanup_free_ char *pb = read_all(pb_path, &len);
                json_error_t jerr;
                json_t *want = json_load_file(js_path, 0, &jerr);
                json_t *got = NULL;
                struct error err = {0};
                CHECK(pb);
                CHECK(want);
                int r = pb ? protobuf_decode_k8s(pb, len, &got, &err) : -1;
                if (r < 0 || !json_equal(got, want)) {
                        char *s = got ? json_dumps(got, JSON_SORT_KEYS) : NULL;
                        printf("# %s: r=%d %s\n#   got  %s\n", names[i], r, err.msg,
                               s ? s : "(none)");
                        free(s);
                        s = want ? json_dumps(want, JSON_SORT_KEYS) : NULL;
                        printf("#   want %s\n", s ? s : "(none)");
                        free(s);
                        harness_cur_fail++;
                } else {
                        printf("# %s ok\n", names[i]);
                }
                json_decref(got);
                json_decref(want);
                free(names[i]);
        }
}

/* ---- a tiny protobuf writer for hand-built bodies ---- */
struct pbw {
        uint8_t b[4096];
        size_t n;
};

static void put_varint(struct pbw *w, uint64_t v)
{
        do {
                uint8_t c = v & 0x7f;
                v >>= 7;
                w->b[w->n++] = c | (v ? 0x80 : 0);
        } while (v);
}

static void put_key(struct pbw *w, uint32_t num, int wire)
{
        put_varint(w, (uint64_t)num << 3 | (uint64_t)wire);
}

static void put_bytes(struct pbw *w, uint32_t num, const void *p, size_t n)
{
        put_key(w, num, 2);
        put_varint(w, n);
        memcpy(w->b + w->n, p, n);
        w->n += n;
}

static void put_str(struct pbw *w, uint32_t num, const char *s)
{
        put_bytes(w, num, s, strlen(s));
}

static void put_msg(struct pbw *w, uint32_t num, const struct pbw *m)
{
        put_bytes(w, num, m->b, m->n);
}

static void put_int(struct pbw *w, uint32_t num, uint64_t v)
{
        put_key(w, num, 0);
        put_varint(w, v);
}

static void envelope(struct pbw *out, const char *api_version, const char *kind,
                     const struct pbw *raw)
{
        struct pbw tm = {0};
        memcpy(out->b, "k8s\0", 4);
        out->n = 4;
        put_str(&tm, 1, api_version);
        put_str(&tm, 2, kind);
        put_msg(out, 1, &tm);
        put_msg(out, 2, raw);
        put_str(out, 3, "");
        put_str(out, 4, "");
}

static json_t *decode_ok(const struct pbw *w)
{
        json_t *j = NULL;
        struct error err = {0};
        int r = protobuf_decode_k8s(w->b, w->n, &j, &err);
        if (r < 0)
                printf("# decode: %d %s\n", r, err.msg);
        return j;
}

TEST(errors)
{
        struct error err = {0};
        json_t *j = NULL;
        CHECK_EQ_INT(protobuf_decode_k8s("", 0, &j, &err), -EINVAL);
        CHECK(strstr(err.msg, "not a Kubernetes protobuf envelope"));
        CHECK_EQ_INT(protobuf_decode_k8s("{\"kind\":1}", 10, &j, &err), -EINVAL);
        CHECK_EQ_INT(protobuf_decode_k8s("k8s\0\x0a\x05", 6, &j, &err), -EINVAL); /* truncated */
        CHECK_EQ_INT(protobuf_decode_k8s("k8s\0", 4, &j, &err), -EINVAL);         /* no typeMeta */
        CHECK(j == NULL);

        struct pbw raw = {0}, w = {0};
        envelope(&w, "example.com/v1", "Widget", &raw);
        CHECK_EQ_INT(protobuf_decode_k8s(w.b, w.n, &j, &err), -ENOTSUP);
        CHECK_EQ_STR(err.msg, "no protobuf schema for example.com/v1/Widget");

        /* wrong wire type: metadata (field 1) as a varint */
        memset(&raw, 0, sizeof(raw));
        put_int(&raw, 1, 5);
        envelope(&w, "v1", "Namespace", &raw);
        CHECK_EQ_INT(protobuf_decode_k8s(w.b, w.n, &j, &err), -EINVAL);

        /* group wire types are refused */
        memset(&raw, 0, sizeof(raw));
        put_key(&raw, 9, 3);
        envelope(&w, "v1", "Namespace", &raw);
        CHECK_EQ_INT(protobuf_decode_k8s(w.b, w.n, &j, &err), -EINVAL);

        /* invalid UTF-8 in a string */
        struct pbw meta = {0};
        memset(&raw, 0, sizeof(raw));
        put_bytes(&meta, 1, "\xff\xfe", 2);
        put_msg(&raw, 1, &meta);
        envelope(&w, "v1", "Namespace", &raw);
        CHECK_EQ_INT(protobuf_decode_k8s(w.b, w.n, &j, &err), -EINVAL);
        CHECK(j == NULL);
}

TEST(empty_metadata)
{
        /* An empty (zero) ObjectMeta still prints creationTimestamp: null, as Go does. */
        static uint8_t buf[1 << 16];
        size_t n = 0;
        memcpy(buf, "k8s\0\x0a\x0f\x0a\x02v1\x12\x09Namespace", 21);
        n = 21;
        buf[n++] = 0x12;
        buf[n++] = 0;
        json_t *j = NULL;
        struct error err = {0};
        CHECK_EQ_INT(protobuf_decode_k8s(buf, n, &j, &err), 0);
        CHECK(json_is_object(json_object_get(j, "metadata")));
        CHECK(json_is_null(json_object_get(json_object_get(j, "metadata"), "creationTimestamp")));
        json_decref(j);
}

TEST(repeated_cap)
{
        size_t cap = (PROTOBUF_MAX_REPEATED + 10) * 2 + 64;
        uint8_t *buf = xmalloc(cap + 64);
        size_t n = 0;
        memcpy(buf, "k8s\0\x0a\x0f\x0a\x02v1\x12\x09Namespace", 21);
        n = 21;
        /* raw: 2 (spec) { 1 finalizers "" x N } */
        size_t inner = (size_t)(PROTOBUF_MAX_REPEATED + 10) * 2;
        size_t spec_len = inner;
        uint8_t hdr[16];
        size_t hn = 0;
        /* spec field header */
        hdr[hn++] = 0x12;
        for (uint64_t v = spec_len;;) {
                uint8_t c = v & 0x7f;
                v >>= 7;
                hdr[hn++] = c | (v ? 0x80 : 0);
                if (!v)
                        break;
        }
        size_t raw_len = hn + spec_len;
        buf[n++] = 0x12;
        for (uint64_t v = raw_len;;) {
                uint8_t c = v & 0x7f;
                v >>= 7;
                buf[n++] = c | (v ? 0x80 : 0);
                if (!v)
                        break;
        }
        memcpy(buf + n, hdr, hn);
        n += hn;
        for (size_t i = 0; i < PROTOBUF_MAX_REPEATED + 10; i++) {
                buf[n++] = 0x0a;
                buf[n++] = 0;
        }
        json_t *j = NULL;
        struct error err = {0};
        CHECK_EQ_INT(protobuf_decode_k8s(buf, n, &j, &err), -E2BIG);
        CHECK(j == NULL);
        free(buf);
}

TEST(special_types)
{
        /* Pod with: creationTimestamp seconds, ownerReferences, deletionGracePeriodSeconds
         * pointer 0 kept, container with resources (Quantity map), ports, a probe with an
         * IntOrString string port, env valueFrom, a hostPath volume (inline VolumeSource). */
        struct pbw meta = {0}, ts = {0}, owner = {0}, lab = {0};
        put_str(&meta, 1, "p1");
        put_str(&meta, 2, "");
        put_str(&meta, 3, "ns1");
        put_int(&ts, 1, 1767225600); /* 2026-01-01T00:00:00Z */
        put_int(&ts, 2, 123);
        put_msg(&meta, 8, &ts);
        put_int(&meta, 10, 0); /* deletionGracePeriodSeconds: pointer, kept */
        put_str(&lab, 1, "app");
        put_str(&lab, 2, "web");
        put_msg(&meta, 11, &lab);
        put_str(&owner, 5, "apps/v1");
        put_str(&owner, 1, "ReplicaSet");
        put_str(&owner, 3, "rs1");
        put_str(&owner, 4, "uid-1");
        put_int(&owner, 6, 1);
        put_msg(&meta, 13, &owner);

        struct pbw c = {0}, res = {0}, ent = {0}, q = {0}, port = {0}, probe = {0}, handler = {0},
                   http = {0}, ios = {0}, env = {0}, vf = {0}, fref = {0};
        put_str(&c, 1, "app");
        put_str(&c, 2, "nginx");
        put_str(&q, 1, "500m");
        put_str(&ent, 1, "cpu");
        put_msg(&ent, 2, &q);
        put_msg(&res, 1, &ent); /* limits */
        memset(&q, 0, sizeof(q));
        memset(&ent, 0, sizeof(ent));
        put_str(&q, 1, "1000Mi");
        put_str(&ent, 1, "memory");
        put_msg(&ent, 2, &q);
        put_msg(&res, 2, &ent); /* requests */
        put_msg(&c, 8, &res);
        put_int(&port, 3, 80);
        put_str(&port, 4, "TCP");
        put_msg(&c, 6, &port);
        put_int(&ios, 1, 1);
        put_str(&ios, 3, "http");
        put_str(&http, 1, "/healthz");
        put_msg(&http, 2, &ios);
        put_msg(&handler, 2, &http);
        put_msg(&probe, 1, &handler);
        put_int(&probe, 2, 5);
        put_msg(&c, 10, &probe); /* livenessProbe */
        put_str(&env, 1, "NODE");
        put_str(&fref, 2, "spec.nodeName");
        put_msg(&vf, 1, &fref);
        put_msg(&env, 3, &vf);
        put_msg(&c, 7, &env);

        struct pbw vol = {0}, vs = {0}, hp = {0}, spec = {0}, raw = {0}, w = {0};
        put_str(&hp, 1, "/data");
        put_msg(&vs, 1, &hp);
        put_str(&vol, 1, "data");
        put_msg(&vol, 2, &vs);
        put_msg(&spec, 1, &vol);
        put_msg(&spec, 2, &c);
        put_str(&spec, 3, "Always");
        put_msg(&raw, 1, &meta);
        put_msg(&raw, 2, &spec);
        envelope(&w, "v1", "Pod", &raw);

        json_t *j = decode_ok(&w);
        CHECK(j);
        if (!j)
                return;
        const char *want =
                "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p1\","
                "\"namespace\":\"ns1\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\","
                "\"deletionGracePeriodSeconds\":0,\"labels\":{\"app\":\"web\"},"
                "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
                "\"name\":\"rs1\",\"uid\":\"uid-1\",\"controller\":true}]},"
                "\"spec\":{\"volumes\":[{\"name\":\"data\",\"hostPath\":{\"path\":\"/data\"}}],"
                "\"containers\":[{\"name\":\"app\",\"image\":\"nginx\","
                "\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],"
                "\"env\":[{\"name\":\"NODE\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
                "\"spec.nodeName\"}}}],"
                "\"resources\":{\"limits\":{\"cpu\":\"500m\"},\"requests\":{\"memory\":"
                "\"1000Mi\"}},"
                "\"livenessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":\"http\"},"
                "\"initialDelaySeconds\":5}}],"
                "\"restartPolicy\":\"Always\"},\"status\":{}}";
        json_error_t jerr;
        json_t *wj = json_loads(want, 0, &jerr);
        CHECK(wj);
        if (!json_equal(j, wj)) {
                char *s = json_dumps(j, JSON_SORT_KEYS);
                printf("# got %s\n", s);
                free(s);
                harness_cur_fail++;
        }
        json_decref(wj);
        json_decref(j);
}

TEST(intstr_and_duration)
{
        /* Service port: targetPort int; PDB: minAvailable string */
        struct pbw ios = {0}, port = {0}, spec = {0}, raw = {0}, w = {0};
        put_int(&ios, 1, 0);
        put_int(&ios, 2, 8080);
        put_int(&port, 3, 80);
        put_msg(&port, 4, &ios);
        put_msg(&spec, 1, &port);
        put_msg(&raw, 2, &spec);
        envelope(&w, "v1", "Service", &raw);
        json_t *j = decode_ok(&w);
        json_t *p0 = json_array_get(json_object_get(json_object_get(j, "spec"), "ports"), 0);
        CHECK_EQ_INT(json_integer_value(json_object_get(p0, "targetPort")), 8080);
        CHECK_EQ_INT(json_integer_value(json_object_get(p0, "port")), 80);
        json_decref(j);

        /* negative int32 (10-byte varint) */
        memset(&port, 0, sizeof(port));
        memset(&spec, 0, sizeof(spec));
        memset(&raw, 0, sizeof(raw));
        put_int(&port, 3, (uint64_t)(int64_t)-5);
        put_msg(&spec, 1, &port);
        put_msg(&raw, 2, &spec);
        envelope(&w, "v1", "Service", &raw);
        j = decode_ok(&w);
        p0 = json_array_get(json_object_get(json_object_get(j, "spec"), "ports"), 0);
        CHECK_EQ_INT(json_integer_value(json_object_get(p0, "port")), -5);
        json_decref(j);
}

/* kubectl 1.32/1.33 still send drain's Eviction as JSON; this is that JSON (recorded from 1.31)
 * encoded the way gogo would (every non-pointer ObjectMeta field present, empty). */
TEST(eviction)
{
        struct pbw meta = {0}, ts = {0}, opts = {0}, raw = {0}, w = {0};
        put_str(&meta, 1, "web3-mlhfdtp4nc-d24mr");
        put_str(&meta, 2, "");
        put_str(&meta, 3, "default");
        put_str(&meta, 5, "");
        put_str(&meta, 6, "");
        put_int(&meta, 7, 0);
        put_msg(&meta, 8, &ts);
        put_msg(&raw, 1, &meta);
        put_msg(&raw, 2, &opts);
        envelope(&w, "policy/v1", "Eviction", &raw);
        json_t *j = decode_ok(&w);
        json_error_t jerr;
        json_t *want = json_load_file(DATA_DIR "/eviction.json", 0, &jerr);
        CHECK(j && want && json_equal(j, want));
        json_decref(want);
        json_decref(j);

        /* with options: gracePeriodSeconds 0 (pointer: kept), dryRun, propagationPolicy */
        memset(&raw, 0, sizeof(raw));
        put_int(&opts, 1, 0);
        put_str(&opts, 4, "Foreground");
        put_str(&opts, 5, "All");
        put_msg(&raw, 1, &meta);
        put_msg(&raw, 2, &opts);
        envelope(&w, "policy/v1", "Eviction", &raw);
        j = decode_ok(&w);
        json_t *o = json_object_get(j, "deleteOptions");
        CHECK(json_is_integer(json_object_get(o, "gracePeriodSeconds")));
        CHECK_EQ_INT(json_integer_value(json_object_get(o, "gracePeriodSeconds")), 0);
        CHECK_EQ_STR(json_string_value(json_object_get(o, "propagationPolicy")), "Foreground");
        CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(o, "dryRun"), 0)), "All");
        json_decref(j);
}

TEST(event_times)
{
        /* eventTime is a MicroTime (6 digits kept), firstTimestamp a Time without nanos, a zero
         * Time (empty message) is null, reportingComponent has no omitempty. */
        struct pbw meta = {0}, et = {0}, ft = {0}, lt = {0}, raw = {0}, w = {0};
        put_str(&meta, 1, "e1");
        put_int(&et, 1, 1767225600);
        put_int(&et, 2, 123456789);
        put_int(&ft, 1, 1767225661);
        put_int(&ft, 2, 999);
        put_msg(&raw, 1, &meta);
        put_msg(&raw, 6, &ft);
        put_msg(&raw, 7, &lt);
        put_msg(&raw, 10, &et);
        put_int(&raw, 8, 0);
        envelope(&w, "v1", "Event", &raw);
        json_t *j = decode_ok(&w);
        CHECK_EQ_STR(json_string_value(json_object_get(j, "eventTime")),
                     "2026-01-01T00:00:00.123456Z");
        CHECK_EQ_STR(json_string_value(json_object_get(j, "firstTimestamp")),
                     "2026-01-01T00:01:01Z");
        CHECK(json_is_null(json_object_get(j, "lastTimestamp")));
        CHECK(json_object_get(j, "count") == NULL); /* zero int32 with omitempty */
        CHECK_EQ_STR(json_string_value(json_object_get(j, "reportingComponent")), "");
        CHECK(json_is_object(json_object_get(j, "involvedObject")));
        CHECK(json_is_object(json_object_get(j, "source")));
        json_decref(j);

        /* out-of-range seconds are refused, not formatted */
        memset(&raw, 0, sizeof(raw));
        memset(&ft, 0, sizeof(ft));
        put_int(&ft, 1, (uint64_t)INT64_MAX);
        put_msg(&raw, 6, &ft);
        envelope(&w, "v1", "Event", &raw);
        struct error err = {0};
        j = NULL;
        CHECK_EQ_INT(protobuf_decode_k8s(w.b, w.n, &j, &err), -EINVAL);
        CHECK(j == NULL);
}

TEST(extra_string_lists)
{
        /* SubjectAccessReview spec.extra is map<string, ExtraValue{1 repeated string}> */
        struct pbw ev = {0}, ent = {0}, spec = {0}, raw = {0}, w = {0};
        put_str(&ev, 1, "a");
        put_str(&ev, 1, "b");
        put_str(&ent, 1, "scopes");
        put_msg(&ent, 2, &ev);
        put_str(&spec, 3, "alice");
        put_str(&spec, 4, "devs");
        put_msg(&spec, 5, &ent);
        put_msg(&raw, 2, &spec);
        envelope(&w, "authorization.k8s.io/v1", "SubjectAccessReview", &raw);
        json_t *j = decode_ok(&w);
        json_t *sp = json_object_get(j, "spec");
        json_t *x = json_object_get(json_object_get(sp, "extra"), "scopes");
        CHECK_EQ_INT(json_array_size(x), 2);
        CHECK_EQ_STR(json_string_value(json_array_get(x, 1)), "b");
        CHECK_EQ_STR(json_string_value(json_object_get(sp, "user")), "alice");
        CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(sp, "groups"), 0)), "devs");
        CHECK(json_is_object(json_object_get(j, "status")));
        json_decref(j);
}

TEST(kinds_present)
{
        static const char *const kinds[][2] = {
                {"v1", "Namespace"},
                {"v1", "ConfigMap"},
                {"v1", "Secret"},
                {"v1", "ServiceAccount"},
                {"v1", "Service"},
                {"v1", "Pod"},
                {"v1", "ResourceQuota"},
                {"apps/v1", "Deployment"},
                {"batch/v1", "Job"},
                {"batch/v1", "CronJob"},
                {"rbac.authorization.k8s.io/v1", "Role"},
                {"rbac.authorization.k8s.io/v1", "ClusterRole"},
                {"rbac.authorization.k8s.io/v1", "RoleBinding"},
                {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding"},
                {"policy/v1", "PodDisruptionBudget"},
                {"policy/v1", "Eviction"},
                {"scheduling.k8s.io/v1", "PriorityClass"},
                {"networking.k8s.io/v1", "Ingress"},
                {"authentication.k8s.io/v1", "TokenRequest"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
                CHECK(protobuf_has_kind(kinds[i][0], kinds[i][1]));
        CHECK(protobuf_has_kind("v1", "DeleteOptions"));
        CHECK(protobuf_has_kind("apps/v1", "DeleteOptions"));
        CHECK(!protobuf_has_kind("v1", "Widget"));
        CHECK(!protobuf_has_kind("apps/v1", "Namespace"));
}

int main(void)
{
        RUN(golden_fixtures);
        RUN(errors);
        RUN(empty_metadata);
        RUN(repeated_cap);
        RUN(special_types);
        RUN(intstr_and_duration);
        RUN(eviction);
        RUN(event_times);
        RUN(extra_string_lists);
        RUN(kinds_present);
        return harness_done();
}
