/* test-kyaml.c — YAML <-> JSON as Kubernetes reads and kubectl prints it. */
#include "common/kjson.h"
#include "common/kyaml.h"
#include "harness.h"

/* Parse one document and return its compact JSON (static buffer), or "ERR <code>: msg". */
static const char *y2j(const char *yaml)
{
        static char out[4096];
        struct error err = {0};
        json_t *j = NULL;
        int r = kyaml_parse_one(yaml, strlen(yaml), &j, &err);
        if (r < 0) {
                snprintf(out, sizeof(out), "ERR %d: %s", r, err.msg);
                return out;
        }
        char *s = kjson_dump(j);
        snprintf(out, sizeof(out), "%s", s);
        free(s);
        json_decref(j);
        return out;
}

static const char *j2y(const char *json)
{
        static char out[4096];
        json_error_t e;
        json_t *j = json_loads(json, JSON_DECODE_ANY, &e);
        if (!j)
                return "bad test json";
        char *s = kyaml_dump(j);
        snprintf(out, sizeof(out), "%s", s);
        free(s);
        json_decref(j);
        return out;
}

TEST(booleans_yaml11)
{
        CHECK_EQ_STR(y2j("a: yes\nb: No\nc: ON\nd: off\ne: y\nf: N\ng: True\nh: FALSE"),
                     "{\"a\":true,\"b\":false,\"c\":true,\"d\":false,\"e\":true,\"f\":false,"
                     "\"g\":true,\"h\":false}");
        /* not in go-yaml v2's table: strings */
        CHECK_EQ_STR(y2j("a: yEs\nb: tRUE\nc: 'yes'\nd: \"on\""),
                     "{\"a\":\"yEs\",\"b\":\"tRUE\",\"c\":\"yes\",\"d\":\"on\"}");
        /* keys too: sigs.k8s.io/yaml turns a bool key into "true" */
        CHECK_EQ_STR(y2j("on: push"), "{\"true\":\"push\"}");
}

TEST(numbers)
{
        CHECK_EQ_STR(y2j("[1, -2, +3, 0x1F, 010, 0o17, 0b101, 1_000, 09, 0]"),
                     "[1,-2,3,31,8,15,5,1000,9,0]");
        CHECK_EQ_STR(y2j("[1.5, 1e3, .5, -2.5e-1, 2.0]"), "[1.5,1000,0.5,-0.25,2]");
        CHECK_EQ_STR(y2j("[\"1\", '0x10', 1.2.3, 0x, 12abc, 1:20]"),
                     "[\"1\",\"0x10\",\"1.2.3\",\"0x\",\"12abc\",\"1:20\"]");
        CHECK_EQ_STR(y2j("big: 18446744073709551615"), "{\"big\":1.8446744073709552e19}");
        CHECK_EQ_STR(y2j("a: .inf"), "ERR -22: yaml: line 1: json: unsupported value: +Inf");
        CHECK_EQ_STR(y2j("a: 2024-01-02\nb: 2024-01-02T03:04:05Z"),
                     "{\"a\":\"2024-01-02\",\"b\":\"2024-01-02T03:04:05Z\"}");
}

TEST(nulls_and_strings)
{
        CHECK_EQ_STR(y2j("a: ~\nb: null\nc:\nd: NULL\ne: ''\nf: \"null\"\ng: Null"),
                     "{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":\"\",\"f\":\"null\","
                     "\"g\":null}");
        CHECK_EQ_STR(y2j("a: hello world\nb: 'it''s'\nc: \"tab\\there\""),
                     "{\"a\":\"hello world\",\"b\":\"it's\",\"c\":\"tab\\there\"}");
}

TEST(tags)
{
        CHECK_EQ_STR(y2j("a: !!str 123\nb: !!int \"42\"\nc: !!float 1\nd: !!bool yes\ne: !Ref x"),
                     "{\"a\":\"123\",\"b\":42,\"c\":1,\"d\":true,\"e\":\"x\"}");
        CHECK(!strncmp(y2j("a: !!int abc"), "ERR -22: yaml: line 1: cannot decode", 36));
}

TEST(block_scalars)
{
        CHECK_EQ_STR(
                y2j("a: |\n  l1\n  l2\nb: |-\n  l1\n  l2\nc: |+\n  l1\n\nd: >\n  f1\n  f2\n\n  p2\n"
                    "e: >-\n  x\n  y\n"),
                "{\"a\":\"l1\\nl2\\n\",\"b\":\"l1\\nl2\",\"c\":\"l1\\n\\n\",\"d\":\"f1 "
                "f2\\np2\\n\","
                "\"e\":\"x y\"}");
        CHECK_EQ_STR(y2j("a: |2\n    indented\n"), "{\"a\":\"  indented\\n\"}");
        /* block scalars are strings even when they look like numbers */
        CHECK_EQ_STR(y2j("a: |-\n  123\n"), "{\"a\":\"123\"}");
}

TEST(multi_document)
{
        struct error err = {0};
        json_t *a = NULL;
        const char *in = "---\na: 1\n---\n# only a comment\n---\n\n---\nb: 2\n...\n---\n- x\n";
        CHECK_EQ_INT(kyaml_parse_all(in, strlen(in), &a, &err), 0);
        _cleanup_free_ char *s = kjson_dump(a);
        CHECK_EQ_STR(s, "[{\"a\":1},{\"b\":2},[\"x\"]]");
        json_decref(a);
        CHECK_EQ_INT(kyaml_parse_all("", 0, &a, &err), 0);
        CHECK_EQ_INT(json_array_size(a), 0);
        json_decref(a);
        CHECK_EQ_STR(y2j(""), "null");
        CHECK_EQ_STR(y2j("a: 1\n---\nb: 2\n"), "ERR -22: yaml: expected a single document");
}

TEST(anchors_merge)
{
        CHECK_EQ_STR(y2j("base: &b {x: 1, w: 2}\nc: *b\nd:\n  <<: *b\n  w: 3\n  z: 4\n"),
                     "{\"base\":{\"x\":1,\"w\":2},\"c\":{\"x\":1,\"w\":2},"
                     "\"d\":{\"x\":1,\"w\":3,\"z\":4}}");
        /* YAML 1.1: the key y is the boolean true */
        CHECK_EQ_STR(y2j("{x: 1, y: 2}"), "{\"x\":1,\"true\":2}");
        /* explicit keys win even when they come first; earlier merge sources win */
        CHECK_EQ_STR(y2j("a: &a {k: 1}\nb: &b {k: 2, m: 2}\nc:\n  k: 0\n  <<: [*a, *b]\n"),
                     "{\"a\":{\"k\":1},\"b\":{\"k\":2,\"m\":2},\"c\":{\"k\":0,\"m\":2}}");
        CHECK_EQ_STR(y2j("s: &s hello\nt: *s\n"), "{\"s\":\"hello\",\"t\":\"hello\"}");
        CHECK(!strncmp(y2j("a: *nope\n"), "ERR -22: yaml: line 1: unknown anchor 'nope'", 44));
        CHECK(!strncmp(y2j("a: &x [1, *x]\n"), "ERR -22:", 8));
        CHECK(!strncmp(y2j("a: {<<: 5}\n"), "ERR -22: yaml: line 1: map merge requires", 41));
        /* aliases are copies: changing one place must not change the other */
        struct error err = {0};
        json_t *j = NULL;
        const char *in = "a: &x {k: 1}\nb: *x\n";
        CHECK_EQ_INT(kyaml_parse_one(in, strlen(in), &j, &err), 0);
        json_object_set_new(kjson_get(j, "b"), "k", json_integer(2));
        CHECK_EQ_INT(kjson_int(j, "a.k", 0), 1);
        json_decref(j);
}

TEST(billion_laughs)
{
        const char *lol =
                "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
                "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n";
        CHECK_EQ_STR(y2j(lol), "ERR -7: yaml: document contains excessive aliasing");
        /* moderate reuse is fine */
        CHECK_EQ_STR(y2j("a: &a [1,2]\nb: [*a, *a, *a]\n"),
                     "{\"a\":[1,2],\"b\":[[1,2],[1,2],[1,2]]}");
}

TEST(depth_cap)
{
        char buf[600];
        memset(buf, '[', 300);
        memset(buf + 300, ']', 300);
        struct error err = {0};
        json_t *j = NULL;
        CHECK_EQ_INT(kyaml_parse_one(buf, 600, &j, &err), -E2BIG);
        CHECK(j == NULL);
        CHECK_EQ_INT(kyaml_parse_one(buf + 250, 100, &j, &err), 0);
        json_decref(j);
}

TEST(errors)
{
        /* go-yaml v2's numbering: scanner errors 1-based, parser errors 0-based, line 0 omitted */
        CHECK_EQ_STR(y2j("a: b: c\n"),
                     "ERR -22: yaml: mapping values are not allowed in this context");
        CHECK_EQ_STR(y2j("x: 1\na: b: c\n"),
                     "ERR -22: yaml: line 2: mapping values are not allowed in this context");
        CHECK_EQ_STR(y2j("a:\n  - x\n - y\n"), "ERR -22: yaml: line 2: did not find expected key");
        CHECK(!strncmp(y2j("a: [1, 2\n"), "ERR -22: yaml: line ", 20));
        CHECK(!strncmp(y2j("a: \"unterminated\n"), "ERR -22: yaml: ", 15));
        CHECK(!strncmp(y2j("? [a]\n: b\n"), "ERR -22: yaml: line 1: invalid map key", 38));
        CHECK(!strncmp(y2j("\t- a\n"), "ERR -22: yaml: ", 15));
}

TEST(stream_details)
{
        /* BOM, CRLF line ends, %YAML directive */
        CHECK_EQ_STR(y2j("\xef\xbb\xbf"
                         "a: 1\r\nb: |\r\n  x\r\n  y\r\n"),
                     "{\"a\":1,\"b\":\"x\\ny\\n\"}");
        CHECK_EQ_STR(y2j("%YAML 1.1\n---\na: 1\n"), "{\"a\":1}");
        CHECK_EQ_STR(y2j("a:\n\tb: 1\n"),
                     "ERR -22: yaml: line 2: found character that cannot start any token");
        /* JSON is YAML */
        CHECK_EQ_STR(y2j("{\"kind\": \"Pod\", \"n\": [1, 2.5, true, null]}"),
                     "{\"kind\":\"Pod\",\"n\":[1,2.5,true,null]}");
        /* comments and a top-level scalar */
        CHECK_EQ_STR(y2j("# c\nhello # trailing\n"), "\"hello\"");
}

TEST(keys)
{
        CHECK_EQ_STR(y2j("1: a\n1.5: b\nnull: c\n~: d\n\"x\": e\n"),
                     "{\"1\":\"a\",\"1.5\":\"b\",\"null\":\"d\",\"x\":\"e\"}");
        CHECK_EQ_STR(y2j("a: 1\na: 2\n"), "{\"a\":2}");
}

TEST(dump_kubectl_style)
{
        CHECK_EQ_STR(j2y("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\","
                         "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                         "\"image\":\"nginx\",\"args\":[\"a\",\"b\"]}]}}"),
                     "apiVersion: v1\n"
                     "kind: Pod\n"
                     "metadata:\n"
                     "  labels:\n"
                     "    app: web\n"
                     "  name: p\n"
                     "spec:\n"
                     "  containers:\n"
                     "  - args:\n"
                     "    - a\n"
                     "    - b\n"
                     "    image: nginx\n"
                     "    name: c\n");
        CHECK_EQ_STR(
                j2y("{\"a\":\"yes\",\"b\":\"123\",\"c\":\"\",\"d\":\"null\",\"e\":\"1.5\","
                    "\"f\":\"2026-01-01T00:00:00Z\",\"g\":\"*\",\"h\":\"a: b\",\"i\":\"plain\","
                    "\"j\":\"0x1F\",\"k\":\"1:20\",\"l\":\"<<\",\"m\":\"- x\",\"n\":\" lead\"}"),
                "a: \"yes\"\nb: \"123\"\nc: \"\"\nd: \"null\"\ne: \"1.5\"\n"
                "f: \"2026-01-01T00:00:00Z\"\ng: '*'\nh: 'a: b'\ni: plain\nj: \"0x1F\"\n"
                "k: \"1:20\"\nl: \"<<\"\nm: '- x'\n\"n\": ' lead'\n");
        CHECK_EQ_STR(
                j2y("{\"i\":3,\"f\":1.5,\"g\":1000000.0,\"t\":true,\"n\":null,\"e\":{},\"a\":[]}"),
                "a: []\ne: {}\nf: 1.5\ng: 1e+06\ni: 3\n\"n\": null\nt: true\n");
        CHECK_EQ_STR(j2y("{\"s\":\"line1\\nline2\\n\",\"t\":\"x\\ny\"}"),
                     "s: |\n  line1\n  line2\nt: |-\n  x\n  y\n");
        /* go-yaml v2 key order: digit runs compare numerically */
        CHECK_EQ_STR(j2y("{\"a10\":1,\"a9\":2,\"B\":3,\"a\":4}"), "B: 3\na: 4\na9: 2\na10: 1\n");
        CHECK_EQ_STR(j2y("[1,\"two\"]"), "- 1\n- two\n");
        CHECK_EQ_STR(j2y("\"x\""), "x\n");
        CHECK_EQ_STR(j2y("[[1,2],{\"a\":[3]}]"), "- - 1\n  - 2\n- a:\n  - 3\n");
        /* long plain strings fold at 80 columns like go-yaml v2 (kubectl -o yaml) */
        CHECK_EQ_STR(
                j2y("{\"long\":\"word word word word word word word word word word word word word "
                    "word word word word word\"}"),
                "long: word word word word word word word word word word word word word word "
                "word word\n  word word\n");
        char *n = kyaml_dump(NULL);
        CHECK_EQ_STR(n, "null\n");
        free(n);
}

TEST(dump_all_and_roundtrip)
{
        json_t *a = json_pack("[{s:i},{s:s}]", "a", 1, "b", "on");
        char *s = kyaml_dump_all(a);
        CHECK_EQ_STR(s, "a: 1\n---\nb: \"on\"\n");
        struct error err = {0};
        json_t *back = NULL;
        CHECK_EQ_INT(kyaml_parse_all(s, strlen(s), &back, &err), 0);
        CHECK(kjson_equal(a, back));
        free(s);
        json_decref(back);
        json_decref(a);
        /* awkward strings survive a round trip */
        const char *strs[] = {"",     " x",  "x ",  "a\nb", "trailing \nspace",
                              "#c",   "@x",  "`x",  "'q'",  "\"dq\"",
                              "y",    "~",   "0o7", "-",    "? x",
                              "a\tb", "é ü", "\\"};
        for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
                json_t *o = json_pack("{s:s}", "k", strs[i]);
                char *y = kyaml_dump(o);
                json_t *r = NULL;
                int rc = kyaml_parse_one(y, strlen(y), &r, &err);
                CHECK_EQ_INT(rc, 0);
                if (!kjson_equal(o, r))
                        printf("# roundtrip failed for [%s]: %s", strs[i], y);
                CHECK(kjson_equal(o, r));
                free(y);
                json_decref(r);
                json_decref(o);
        }
}

int main(void)
{
        RUN(booleans_yaml11);
        RUN(numbers);
        RUN(nulls_and_strings);
        RUN(tags);
        RUN(block_scalars);
        RUN(multi_document);
        RUN(anchors_merge);
        RUN(billion_laughs);
        RUN(depth_cap);
        RUN(errors);
        RUN(stream_details);
        RUN(keys);
        RUN(dump_kubectl_style);
        RUN(dump_all_and_roundtrip);
        return harness_done();
}
