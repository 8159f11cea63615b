/* test-strategy.c — per-kind strategies: defaults, generation, status reset, validation texts
 * (as kube-apiserver words them), immutable fields, scale. */
#include "harness.h"

#include "api/strategy.h"
#include "common/kjson.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        if (kjson_parse(s, strlen(s), 0, &j, NULL) < 0)
                return json_object();
        return j;
}

static const struct strategy *S(const char *name, const struct scheme_resource **r)
{
        *r = scheme_lookup_any(name);
        return strategy_for(*r);
}

/* "field: message" of cause i */
static char *cause(const json_t *causes, size_t i)
{
        const json_t *c = json_array_get(causes, i);
        return xasprintf("%s: %s", kjson_str(c, "field"), kjson_str(c, "message"));
}

#define CHECK_CAUSE(causes, i, text)                                                               \
        do {                                                                                       \
                char *_c = cause(causes, i);                                                       \
                CHECK_EQ_STR(_c, text);                                                            \
                free(_c);                                                                          \
        } while (0)

#define DEPLOY                                                                                     \
        "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{\"matchLabels\":{\"app\":"       \
        "\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"           \
        "\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1.27\"}]}}}}"

TEST(deployment_create)
{
        const struct scheme_resource *r;
        const struct strategy *s = S("deployments", &r);
        json_t *d = J(DEPLOY);
        json_object_set_new(d, "status", J("{\"replicas\":9}"));
        strategy_prepare_create(s, r, d, "default");
        CHECK_EQ_INT(kjson_int(d, "metadata.generation", 0), 1);
        CHECK_EQ_STR(kjson_str(d, "metadata.namespace"), "default");
        CHECK_EQ_INT(json_object_size(json_object_get(d, "status")), 0);
        CHECK_EQ_INT(kjson_int(d, "spec.replicas", 0), 1);
        CHECK_EQ_STR(kjson_str(d, "spec.strategy.type"), "RollingUpdate");
        CHECK_EQ_STR(kjson_str(d, "spec.strategy.rollingUpdate.maxSurge"), "25%");
        CHECK_EQ_STR(kjson_str(d, "spec.strategy.rollingUpdate.maxUnavailable"), "25%");
        CHECK_EQ_INT(kjson_int(d, "spec.revisionHistoryLimit", 0), 10);
        CHECK_EQ_INT(kjson_int(d, "spec.progressDeadlineSeconds", 0), 600);
        /* template: PodSpec defaults, none of the Pod-only ones */
        CHECK_EQ_STR(kjson_str(d, "spec.template.spec.restartPolicy"), "Always");
        CHECK_EQ_STR(kjson_str(d, "spec.template.spec.dnsPolicy"), "ClusterFirst");
        CHECK(!kjson_get(d, "spec.template.spec.enableServiceLinks"));
        CHECK(!kjson_get(d, "spec.template.spec.tolerations"));
        CHECK(!kjson_get(d, "spec.template.spec.priority"));
        CHECK(!kjson_get(d, "spec.template.status"));
        CHECK(json_is_null(kjson_get(d, "spec.template.metadata.creationTimestamp")));
        json_t *c0 = json_array_get(kjson_get(d, "spec.template.spec.containers"), 0);
        CHECK_EQ_STR(kjson_str(c0, "imagePullPolicy"), "IfNotPresent");
        json_t *causes = json_array();
        strategy_validate(s, r, d, causes);
        CHECK_EQ_INT(json_array_size(causes), 0);
        json_decref(causes);

        /* generation: label change keeps it, spec change bumps it, omitted defaults are no
         * change */
        json_t *n = json_deep_copy(d);
        json_object_set_new(kjson_obj_ensure_path(n, "metadata.labels"), "x", json_string("y"));
        strategy_prepare_update(s, n, d);
        CHECK_EQ_INT(kjson_int(n, "metadata.generation", 0), 1);
        json_decref(n);
        n = J(DEPLOY);
        kjson_set_str(n, "metadata.namespace", "default");
        strategy_prepare_update(s, n, d);
        CHECK_EQ_INT(kjson_int(n, "metadata.generation", 0), 1);
        json_object_set_new(json_object_get(n, "spec"), "replicas", json_integer(3));
        strategy_prepare_update(s, n, d);
        CHECK_EQ_INT(kjson_int(n, "metadata.generation", 0), 2);
        /* selector immutable */
        json_object_set_new(json_object_get(n, "spec"), "selector",
                            J("{\"matchLabels\":{\"app\":\"other\"}}"));
        causes = json_array();
        strategy_validate_update(s, n, d, causes);
        CHECK_EQ_INT(json_array_size(causes), 1);
        CHECK_CAUSE(causes, 0,
                    "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"other\"}}: field "
                    "is immutable");
        json_decref(causes);
        json_decref(n);
        json_decref(d);
}

TEST(deployment_invalid)
{
        const struct scheme_resource *r;
        const struct strategy *s = S("deploy", &r);
        json_t *d = J("{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":-1,\"template\":{"
                      "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"restartPolicy\":"
                      "\"Never\",\"containers\":[{\"name\":\"c\"}]}}}}");
        strategy_prepare_create(s, r, d, "default");
        json_t *causes = json_array();
        strategy_validate(s, r, d, causes);
        CHECK_EQ_INT(json_array_size(causes), 4);
        CHECK_CAUSE(causes, 0,
                    "spec.replicas: Invalid value: -1: must be greater than or equal to 0");
        CHECK_CAUSE(causes, 1, "spec.selector: Required value");
        CHECK_CAUSE(causes, 2, "spec.template.spec.containers[0].image: Required value");
        CHECK_CAUSE(causes, 3,
                    "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported "
                    "values: \"Always\"");
        json_decref(causes);
        json_decref(d);

        d = J(DEPLOY);
        json_object_set_new(kjson_get(d, "spec.selector.matchLabels"), "app", json_string("x"));
        strategy_prepare_create(s, r, d, "default");
        causes = json_array();
        strategy_validate(s, r, d, causes);
        CHECK_EQ_INT(json_array_size(causes), 1);
        CHECK_CAUSE(causes, 0,
                    "spec.template.metadata.labels: Invalid value: "
                    "map[string]string{\"app\":\"web\"}: `selector` does not match template "
                    "`labels`");
        json_decref(causes);
        json_decref(d);
}

TEST(no_generation_kinds)
{
        const char *kinds[] = {"configmaps", "namespaces", "pods", "secrets", "roles", "services"};
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
                const struct scheme_resource *r;
                const struct strategy *s = S(kinds[i], &r);
                json_t *o = J("{\"metadata\":{\"name\":\"a\",\"generation\":5},\"spec\":{}}");
                strategy_prepare_create(s, r, o, "default");
                CHECK(!kjson_get(o, "metadata.generation"));
                json_t *n = J("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"x\":1}}");
                strategy_prepare_update(s, n, o);
                CHECK(!kjson_get(n, "metadata.generation"));
                json_decref(n);
                json_decref(o);
        }
        const struct scheme_resource *r;
        const struct strategy *s = S("namespaces", &r);
        json_t *o = J("{\"metadata\":{\"name\":\"team\"}}");
        strategy_prepare_create(s, r, o, NULL);
        CHECK_EQ_STR(kjson_str(o, "status.phase"), "Active");
        CHECK_EQ_STR(json_string_value(json_array_get(kjson_get(o, "spec.finalizers"), 0)),
                     "kubernetes");
        CHECK(!kjson_get(o, "metadata.namespace"));
        json_decref(o);
}

TEST(job)
{
        const struct scheme_resource *r;
        const struct strategy *s = S("jobs", &r);
        json_t *j = J("{\"metadata\":{\"name\":\"pi\"},\"spec\":{\"template\":{\"spec\":{"
                      "\"containers\":[{\"name\":\"c\",\"image\":\"perl\"}]}}}}");
        strategy_prepare_create(s, r, j, "default");
        const char *uid = kjson_str(j, "metadata.uid");
        CHECK(uid != NULL);
        CHECK_EQ_INT(kjson_int(j, "spec.completions", 0), 1);
        CHECK_EQ_INT(kjson_int(j, "spec.parallelism", 0), 1);
        CHECK_EQ_INT(kjson_int(j, "spec.backoffLimit", 0), 6);
        CHECK_EQ_STR(kjson_str(j, "spec.completionMode"), "NonIndexed");
        CHECK_EQ_STR(kjson_str(j, "spec.podReplacementPolicy"), "TerminatingOrFailed");
        CHECK(!kjson_bool(j, "spec.suspend", true));
        json_t *ml = kjson_get(j, "spec.selector.matchLabels");
        CHECK_EQ_STR(json_string_value(json_object_get(ml, "batch.kubernetes.io/controller-uid")),
                     uid);
        json_t *tl = kjson_get(j, "spec.template.metadata.labels");
        CHECK_EQ_STR(json_string_value(json_object_get(tl, "job-name")), "pi");
        CHECK_EQ_STR(json_string_value(json_object_get(tl, "batch.kubernetes.io/job-name")), "pi");
        json_t *causes = json_array();
        strategy_validate(s, r, j, causes);
        /* the template defaults to restartPolicy Always, which a Job refuses */
        CHECK_EQ_INT(json_array_size(causes), 1);
        CHECK_CAUSE(causes, 0,
                    "spec.template.spec.restartPolicy: Required value: valid values: "
                    "\"OnFailure\", \"Never\"");
        json_decref(causes);
        json_decref(j);
}

TEST(cronjob)
{
        const struct scheme_resource *r;
        const struct strategy *s = S("cj", &r);
        json_t *c =
                J("{\"metadata\":{\"name\":\"tick\"},\"spec\":{\"schedule\":\"*/5 * * * "
                  "*\",\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":"
                  "\"OnFailure\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}}}");
        strategy_prepare_create(s, r, c, "default");
        CHECK_EQ_STR(kjson_str(c, "spec.concurrencyPolicy"), "Allow");
        CHECK_EQ_INT(kjson_int(c, "spec.successfulJobsHistoryLimit", 0), 3);
        CHECK_EQ_INT(kjson_int(c, "spec.failedJobsHistoryLimit", 0), 1);
        CHECK(json_is_null(kjson_get(c, "spec.jobTemplate.metadata.creationTimestamp")));
        json_t *causes = json_array();
        strategy_validate(s, r, c, causes);
        CHECK_EQ_INT(json_array_size(causes), 0);
        json_object_set_new(json_object_get(c, "spec"), "schedule", json_string("61 * * * *"));
        strategy_validate(s, r, c, causes);
        CHECK_EQ_INT(json_array_size(causes), 1);
        CHECK_CAUSE(causes, 0,
                    "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above "
                    "maximum (59): 61");
        /* robfig/cron's day of week is 0-6: 7 is invalid as in kube-apiserver */
        json_array_clear(causes);
        json_object_set_new(json_object_get(c, "spec"), "schedule", json_string("0 0 * * 7"));
        strategy_validate(s, r, c, causes);
        CHECK_EQ_INT(json_array_size(causes), 1);
        CHECK_CAUSE(causes, 0,
                    "spec.schedule: Invalid value: \"0 0 * * 7\": end of range (7) above "
                    "maximum (6): 7");
        json_decref(causes);
        json_decref(c);
}

TEST(rbac)
{
        const struct scheme_resource *r;
        const struct strategy *s = S("rolebindings", &r);
        json_t *b = J("{\"metadata\":{\"name\":\"system:x\"},\"roleRef\":{\"kind\":\"Role\","
                      "\"name\":\"reader\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"jane\"},"
                      "{\"kind\":\"ServiceAccount\",\"name\":\"default\",\"namespace\":\"d\"}]}");
        strategy_prepare_create(s, r, b, "default");
        CHECK_EQ_STR(kjson_str(b, "roleRef.apiGroup"), "rbac.authorization.k8s.io");
        CHECK_EQ_STR(kjson_str(json_array_get(json_object_get(b, "subjects"), 0), "apiGroup"),
                     "rbac.authorization.k8s.io");
        json_t *causes = json_array();
        strategy_validate(s, r, b, causes); /* ':' is fine in RBAC names */
        CHECK_EQ_INT(json_array_size(causes), 0);
        json_t *n = json_deep_copy(b);
        json_object_set_new(json_object_get(n, "roleRef"), "name", json_string("writer"));
        strategy_validate_update(s, n, b, causes);
        CHECK_EQ_INT(json_array_size(causes), 1);
        CHECK(strstr(kjson_str(json_array_get(causes, 0), "message"), "cannot change roleRef"));
        json_decref(n);
        json_decref(causes);
        json_decref(b);

        s = S("roles", &r);
        b = J("{\"metadata\":{\"name\":\"r\",\"namespace\":\"d\"},\"rules\":[{\"resources\":["
              "\"pods\"]}]}");
        causes = json_array();
        strategy_validate(s, r, b, causes);
        CHECK_EQ_INT(json_array_size(causes), 2);
        CHECK_CAUSE(causes, 0,
                    "rules[0].verbs: Required value: verbs must contain at least one "
                    "value");
        CHECK_CAUSE(causes, 1,
                    "rules[0].apiGroups: Required value: resource rules must supply "
                    "at least one api group");
        json_decref(causes);
        json_decref(b);
}

TEST(scale)
{
        const struct scheme_resource *r;
        const struct strategy *s = S("deployments", &r);
        json_t *d = J(DEPLOY);
        strategy_prepare_create(s, r, d, "default");
        json_object_set_new(kjson_obj_ensure(d, "metadata"), "resourceVersion", json_string("7"));
        json_object_set_new(json_object_get(d, "status"), "replicas", json_integer(1));
        json_t *sc = strategy_scale_get(s, d);
        CHECK_EQ_STR(kjson_str(sc, "kind"), "Scale");
        CHECK_EQ_STR(kjson_str(sc, "apiVersion"), "autoscaling/v1");
        CHECK_EQ_STR(kjson_str(sc, "metadata.resourceVersion"), "7");
        CHECK_EQ_INT(kjson_int(sc, "spec.replicas", -1), 1);
        CHECK_EQ_INT(kjson_int(sc, "status.replicas", -1), 1);
        CHECK_EQ_STR(kjson_str(sc, "status.selector"), "app=web");
        json_t *causes = json_array();
        json_t *want = J("{\"spec\":{\"replicas\":4}}");
        json_t *n = strategy_scale_apply(s, d, want, causes);
        CHECK(n && kjson_int(n, "spec.replicas", 0) == 4);
        json_decref(n);
        json_decref(want);
        want = J("{\"spec\":{\"replicas\":-2}}");
        CHECK(!strategy_scale_apply(s, d, want, causes));
        CHECK_CAUSE(causes, 0,
                    "spec.replicas: Invalid value: -2: must be greater than or equal to 0");
        json_decref(want);
        json_decref(causes);
        json_decref(sc);
        json_decref(d);
        /* no scale on daemonsets; rc selector is a map */
        CHECK(!strategy_scale_get(strategy_for(scheme_lookup_any("ds")), d));
        s = S("rc", &r);
        json_t *rc = J("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"template\":{\"metadata\":{"
                       "\"labels\":{\"b\":\"2\",\"a\":\"1\"}},\"spec\":{\"containers\":[{"
                       "\"name\":\"c\",\"image\":\"i\"}]}}}}");
        strategy_prepare_create(s, r, rc, "default");
        CHECK_EQ_STR(kjson_str(rc, "spec.selector.a"), "1");
        CHECK_EQ_STR(kjson_str(rc, "metadata.labels.b"), "2");
        sc = strategy_scale_get(s, rc);
        CHECK_EQ_STR(kjson_str(sc, "status.selector"), "a=1,b=2");
        json_decref(sc);
        json_decref(rc);
}

TEST(field_selectors)
{
        const struct strategy *s = strategy_for(scheme_lookup_any("pods"));
        CHECK(strategy_has_field(s, "spec.nodeName"));
        CHECK(strategy_has_field(s, "metadata.name"));
        CHECK(!strategy_has_field(s, "spec.bogus"));
        s = strategy_for(scheme_lookup_any("secrets"));
        CHECK(strategy_has_field(s, "type"));
        s = strategy_for(scheme_lookup_any("jobs"));
        CHECK(strategy_has_field(s, "status.successful"));
        s = strategy_for(scheme_lookup("events.k8s.io", "v1", "events"));
        CHECK(strategy_has_field(s, "involvedObject.name"));
}

TEST(misc_kinds)
{
        const struct scheme_resource *r;
        const struct strategy *s = S("pvc", &r);
        json_t *o = J("{\"metadata\":{\"name\":\"data\"},\"spec\":{}}");
        strategy_prepare_create(s, r, o, "default");
        CHECK_EQ_STR(kjson_str(o, "status.phase"), "Pending");
        CHECK_EQ_STR(kjson_str(o, "spec.volumeMode"), "Filesystem");
        json_t *causes = json_array();
        strategy_validate(s, r, o, causes);
        CHECK_EQ_INT(json_array_size(causes), 2);
        CHECK_CAUSE(causes, 0,
                    "spec.accessModes: Required value: at least 1 access mode is "
                    "required");
        CHECK_CAUSE(causes, 1, "spec.resources[storage]: Required value");
        json_decref(causes);
        json_decref(o);

        s = S("pdb", &r);
        o = J("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"minAvailable\":1,\"maxUnavailable\":"
              "\"150%\"}}");
        strategy_prepare_create(s, r, o, "default");
        CHECK_EQ_INT(kjson_int(o, "status.disruptionsAllowed", -1), 0);
        causes = json_array();
        strategy_validate(s, r, o, causes);
        CHECK_EQ_INT(json_array_size(causes), 2);
        CHECK(strstr(kjson_str(json_array_get(causes, 0), "message"),
                     "minAvailable and maxUnavailable cannot be both set"));
        CHECK_CAUSE(causes, 1,
                    "spec.maxUnavailable: Invalid value: \"150%\": must not be "
                    "greater than 100%");
        json_decref(causes);
        json_decref(o);

        s = S("pc", &r);
        o = J("{\"metadata\":{\"name\":\"system-x\"},\"value\":2000000000}");
        strategy_prepare_create(s, r, o, NULL);
        CHECK_EQ_STR(kjson_str(o, "preemptionPolicy"), "PreemptLowerPriority");
        causes = json_array();
        strategy_validate(s, r, o, causes);
        CHECK_EQ_INT(json_array_size(causes), 2);
        CHECK_CAUSE(causes, 1,
                    "value: Forbidden: maximum allowed value of a user defined "
                    "priority is 1000000000");
        json_decref(causes);
        json_decref(o);

        s = S("sc", &r);
        o = J("{\"metadata\":{\"name\":\"fast\"},\"provisioner\":\"x.io/p\"}");
        strategy_prepare_create(s, r, o, NULL);
        CHECK_EQ_STR(kjson_str(o, "reclaimPolicy"), "Delete");
        CHECK_EQ_STR(kjson_str(o, "volumeBindingMode"), "Immediate");
        json_t *n = json_deep_copy(o);
        json_object_set_new(n, "provisioner", json_string("y.io/p"));
        causes = json_array();
        strategy_validate_update(s, n, o, causes);
        CHECK_CAUSE(causes, 0, "provisioner: Forbidden: updates to provisioner are forbidden.");
        json_decref(causes);
        json_decref(n);
        json_decref(o);

        s = S("ingresses", &r);
        o = J("{\"metadata\":{\"name\":\"i\"},\"spec\":{\"rules\":[{\"http\":{\"paths\":[{"
              "\"path\":\"/\",\"backend\":{\"service\":{\"name\":\"web\",\"port\":{\"number\":80}"
              "}}}]}}]}}");
        strategy_prepare_create(s, r, o, "default");
        CHECK(json_is_object(kjson_get(o, "status.loadBalancer")));
        causes = json_array();
        strategy_validate(s, r, o, causes);
        CHECK_EQ_INT(json_array_size(causes), 1);
        CHECK_CAUSE(causes, 0,
                    "spec.rules[0].http.paths[0].pathType: Required value: pathType "
                    "must be specified");
        json_decref(causes);
        json_decref(o);

        s = S("netpol", &r);
        o = J("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"egress\":[{\"ports\":[{\"port\":53}]}]}"
              "}");
        strategy_prepare_create(s, r, o, "default");
        CHECK_EQ_INT(json_array_size(kjson_get(o, "spec.policyTypes")), 2);
        CHECK(json_is_object(kjson_get(o, "spec.podSelector")));
        json_decref(o);

        s = S("secrets", &r);
        o = J("{\"metadata\":{\"name\":\"s\"},\"stringData\":{\"a\":\"hello\"}}");
        strategy_prepare_create(s, r, o, "default");
        CHECK_EQ_STR(kjson_str(o, "data.a"), "aGVsbG8=");
        CHECK_EQ_STR(kjson_str(o, "type"), "Opaque");
        CHECK(!kjson_get(o, "stringData"));
        json_decref(o);
}

TEST(data_size)
{
        const struct scheme_resource *r;
        const struct strategy *s = S("cm", &r);
        char *big = xmalloc(700 * 1024 + 1);
        memset(big, 'a', 700 * 1024);
        big[700 * 1024] = 0;
        json_t *o = json_pack("{s:{s:s,s:s},s:{s:s,s:s}}", "metadata", "name", "c", "namespace",
                              "d", "data", "a", big, "b", big);
        json_t *causes = json_array();
        strategy_validate(s, r, o, causes);
        CHECK_EQ_INT(json_array_size(causes), 1);
        CHECK_CAUSE(causes, 0, ": Too long: may not be more than 1048576 bytes");
        json_decref(causes);
        json_decref(o);
        /* a secret's data counts decoded: 700 KiB of base64 is 525 KiB */
        s = S("secrets", &r);
        o = json_pack("{s:{s:s,s:s},s:{s:s}}", "metadata", "name", "c", "namespace", "d", "data",
                      "a", big);
        causes = json_array();
        strategy_validate(s, r, o, causes);
        CHECK_EQ_INT(json_array_size(causes), 0);
        json_decref(causes);
        json_decref(o);
        free(big);
}

int main(void)
{
        RUN(deployment_create);
        RUN(deployment_invalid);
        RUN(no_generation_kinds);
        RUN(job);
        RUN(cronjob);
        RUN(rbac);
        RUN(scale);
        RUN(field_selectors);
        RUN(misc_kinds);
        RUN(data_size);
        return harness_done();
}
