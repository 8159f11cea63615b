/* test-patch.c — merge patch, JSON patch and strategic merge patch cases. */
#include "harness.h"

#include "apiserver/patch.h"
#include "common/kjson.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        if (kjson_parse(s, strlen(s), 0, &j, NULL) < 0) {
                printf("# bad test JSON: %s\n", s);
                return json_null();
        }
        return j;
}

/* Apply fn(target, patch) and compare with expect (NULL = expect failure). */
static int check(int (*fn)(const json_t *, const json_t *, json_t **, struct error *),
                 const char *target, const char *patch, const char *expect)
{
        json_t *t = J(target), *p = J(patch), *res = NULL;
        struct error err = {0};
        int r = fn(t, p, &res, &err);
        int ok;
        if (!expect) {
                ok = r < 0;
        } else {
                json_t *e = J(expect);
                ok = r == 0 && json_equal(res, e);
                if (!ok) {
                        char *got = res ? kjson_dump(res) : NULL;
                        printf("# got %s (r=%d %s)\n# expected %s\n", got ? got : "(none)", r,
                               err.msg, expect);
                        free(got);
                }
                json_decref(e);
        }
        json_decref(t);
        json_decref(p);
        json_decref(res);
        return ok;
}

TEST(merge_patch)
{
        CHECK(check(patch_merge, "{\"a\":1,\"b\":{\"c\":2,\"d\":3}}",
                    "{\"a\":null,\"b\":{\"c\":5},\"e\":[1]}",
                    "{\"b\":{\"c\":5,\"d\":3},\"e\":[1]}"));
        CHECK(check(patch_merge, "{\"a\":[1,2]}", "{\"a\":[3]}", "{\"a\":[3]}"));
        CHECK(check(patch_merge, "{\"a\":1}", "[1]", NULL));
        CHECK(check(patch_merge, "{\"a\":\"x\"}", "{\"a\":{\"b\":null,\"c\":1}}",
                    "{\"a\":{\"c\":1}}"));
}

TEST(json_patch)
{
        const char *doc = "{\"a\":{\"b\":[1,2,3]},\"c\":\"x\"}";
        CHECK(check(patch_json, doc, "[{\"op\":\"add\",\"path\":\"/a/b/1\",\"value\":9}]",
                    "{\"a\":{\"b\":[1,9,2,3]},\"c\":\"x\"}"));
        CHECK(check(patch_json, doc, "[{\"op\":\"add\",\"path\":\"/a/b/-\",\"value\":9}]",
                    "{\"a\":{\"b\":[1,2,3,9]},\"c\":\"x\"}"));
        CHECK(check(patch_json, doc, "[{\"op\":\"remove\",\"path\":\"/a/b/0\"}]",
                    "{\"a\":{\"b\":[2,3]},\"c\":\"x\"}"));
        CHECK(check(patch_json, doc, "[{\"op\":\"replace\",\"path\":\"/c\",\"value\":\"y\"}]",
                    "{\"a\":{\"b\":[1,2,3]},\"c\":\"y\"}"));
        CHECK(check(patch_json, doc, "[{\"op\":\"move\",\"from\":\"/c\",\"path\":\"/d\"}]",
                    "{\"a\":{\"b\":[1,2,3]},\"d\":\"x\"}"));
        CHECK(check(patch_json, doc, "[{\"op\":\"copy\",\"from\":\"/a/b\",\"path\":\"/e\"}]",
                    "{\"a\":{\"b\":[1,2,3]},\"c\":\"x\",\"e\":[1,2,3]}"));
        CHECK(check(patch_json, doc, "[{\"op\":\"test\",\"path\":\"/c\",\"value\":\"x\"}]", doc));
        CHECK(check(patch_json, doc, "[{\"op\":\"test\",\"path\":\"/c\",\"value\":\"z\"}]", NULL));
        CHECK(check(patch_json, doc, "[{\"op\":\"remove\",\"path\":\"/nope\"}]", NULL));
        CHECK(check(patch_json, doc, "[{\"op\":\"add\",\"path\":\"/a/b/7\",\"value\":1}]", NULL));
        CHECK(check(patch_json, doc, "[{\"op\":\"bogus\",\"path\":\"/a\"}]", NULL));
        CHECK(check(patch_json, "{\"a/b\":1,\"m~n\":2}",
                    "[{\"op\":\"remove\",\"path\":\"/a~1b\"},{\"op\":\"replace\",\"path\":\"/"
                    "m~0n\",\"value\":3}]",
                    "{\"m~n\":3}"));
        CHECK(check(patch_json, doc, "{\"op\":\"add\"}", NULL));
}

TEST(smp_kubectl_apply)
{
        /* KUBECTL.md section 4: the patch `kubectl apply` sends for a changed deployment. */
        const char *orig = "{\"metadata\":{\"name\":\"web\",\"annotations\":{\"x\":\"1\"}},"
                           "\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":["
                           "{\"name\":\"nginx\",\"image\":\"nginx:1.27\",\"env\":[{\"name\":\"A\","
                           "\"value\":\"1\"},"
                           "{\"name\":\"B\",\"value\":\"b\"}],\"terminationMessagePath\":\"/dev/"
                           "termination-log\"}]}}}}";
        const char *patch = "{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/"
                            "last-applied-configuration\":\"{}\"}},"
                            "\"spec\":{\"replicas\":3,\"template\":{\"spec\":{\"$setElementOrder/"
                            "containers\":[{\"name\":\"nginx\"}],"
                            "\"containers\":[{\"$setElementOrder/"
                            "env\":[{\"name\":\"A\"},{\"name\":\"B\"}],\"env\":[{\"name\":\"A\","
                            "\"value\":\"2\"}],"
                            "\"image\":\"nginx:1.28\",\"name\":\"nginx\"}]}}}}";
        const char *expect = "{\"metadata\":{\"name\":\"web\",\"annotations\":{\"x\":\"1\","
                             "\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\"}},"
                             "\"spec\":{\"replicas\":3,\"template\":{\"spec\":{\"containers\":["
                             "{\"name\":\"nginx\",\"image\":\"nginx:1.28\",\"env\":[{\"name\":"
                             "\"A\",\"value\":\"2\"},"
                             "{\"name\":\"B\",\"value\":\"b\"}],\"terminationMessagePath\":\"/dev/"
                             "termination-log\"}]}}}}";
        CHECK(check(patch_strategic, orig, patch, expect));
}

TEST(smp_directives)
{
        const char *pod =
                "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\","
                "\"image\":\"y\"}],"
                "\"volumes\":[{\"name\":\"v\"}],\"tolerations\":[{\"key\":\"k\"}]},"
                "\"metadata\":{\"finalizers\":[\"f1\"],\"labels\":{\"l\":\"1\",\"m\":\"2\"}}}";
        /* delete an element by merge key */
        CHECK(check(
                patch_strategic, pod,
                "{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"delete\"}]}}",
                "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"y\"}],\"volumes\":[{"
                "\"name\":\"v\"}],\"tolerations\":[{\"key\":\"k\"}]},"
                "\"metadata\":{\"finalizers\":[\"f1\"],\"labels\":{\"l\":\"1\",\"m\":\"2\"}}}"));
        /* null deletes a map key; new list element appended; non-keyed list replaced */
        CHECK(check(patch_strategic, pod,
                    "{\"metadata\":{\"labels\":{\"l\":null}},\"spec\":{\"containers\":[{\"name\":"
                    "\"c\",\"image\":\"z\"}],"
                    "\"tolerations\":[{\"key\":\"q\"}]}}",
                    "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\","
                    "\"image\":\"y\"},{\"name\":\"c\",\"image\":\"z\"}],"
                    "\"volumes\":[{\"name\":\"v\"}],\"tolerations\":[{\"key\":\"q\"}]},"
                    "\"metadata\":{\"finalizers\":[\"f1\"],\"labels\":{\"m\":\"2\"}}}"));
        /* $patch: replace on a map, $retainKeys, $deleteFromPrimitiveList, finalizers merge */
        CHECK(check(patch_strategic,
                    "{\"a\":{\"x\":1,\"y\":2},\"f\":[\"p\",\"q\"],\"finalizers\":[\"a\"]}",
                    "{\"a\":{\"$patch\":\"replace\",\"z\":3},\"$deleteFromPrimitiveList/"
                    "f\":[\"p\"],\"finalizers\":[\"b\"]}",
                    "{\"a\":{\"z\":3},\"f\":[\"q\"],\"finalizers\":[\"a\",\"b\"]}"));
        CHECK(check(patch_strategic, "{\"s\":{\"type\":\"A\",\"a\":{\"x\":1},\"b\":2}}",
                    "{\"s\":{\"$retainKeys\":[\"type\",\"b\"],\"type\":\"B\"}}",
                    "{\"s\":{\"type\":\"B\",\"b\":2}}"));
        /* $setElementOrder reorders */
        CHECK(check(patch_strategic, "{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}",
                    "{\"$setElementOrder/containers\":[{\"name\":\"b\"},{\"name\":\"a\"}]}",
                    "{\"containers\":[{\"name\":\"b\"},{\"name\":\"a\"}]}"));
        /* ports merge by containerPort; conditions by type */
        CHECK(check(patch_strategic,
                    "{\"ports\":[{\"containerPort\":80,\"name\":\"h\"}],\"conditions\":[{\"type\":"
                    "\"Ready\",\"status\":\"False\"}]}",
                    "{\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"},{\"containerPort\":"
                    "443}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}",
                    "{\"ports\":[{\"containerPort\":80,\"name\":\"h\",\"protocol\":\"TCP\"},{"
                    "\"containerPort\":443}],\"conditions\":[{\"type\":\"Ready\",\"status\":"
                    "\"True\"}]}"));
        /* volumeMounts merge by mountPath; tolerations are replaced */
        CHECK(check(patch_strategic,
                    "{\"volumeMounts\":[{\"name\":\"a\",\"mountPath\":\"/"
                    "a\"}],\"tolerations\":[{\"key\":\"x\"}]}",
                    "{\"volumeMounts\":[{\"name\":\"b\",\"mountPath\":\"/"
                    "b\"}],\"tolerations\":[{\"key\":\"y\"}]}",
                    "{\"volumeMounts\":[{\"name\":\"a\",\"mountPath\":\"/"
                    "a\"},{\"name\":\"b\",\"mountPath\":\"/b\"}],"
                    "\"tolerations\":[{\"key\":\"y\"}]}"));
        /* list-level replace */
        CHECK(check(patch_strategic, "{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}",
                    "{\"containers\":[{\"$patch\":\"replace\"},{\"name\":\"c\"}]}",
                    "{\"containers\":[{\"name\":\"c\"}]}"));
        /* $patch: delete on a map removes it */
        CHECK(check(patch_strategic, "{\"a\":{\"b\":1},\"c\":2}", "{\"a\":{\"$patch\":\"delete\"}}",
                    "{\"c\":2}"));
        /* missing merge key is an error */
        CHECK(check(patch_strategic, "{\"containers\":[{\"name\":\"a\"}]}",
                    "{\"containers\":[{\"image\":\"x\"}]}", NULL));
        CHECK(check(patch_strategic, "{}", "[1]", NULL));
}

int main(void)
{
        RUN(merge_patch);
        RUN(json_patch);
        RUN(smp_kubectl_apply);
        RUN(smp_directives);
        return harness_done();
}
