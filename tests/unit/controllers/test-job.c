/* test-job.c — controllers/job.c pure parts: pod backoff, completedIndexes, the pod from a Job. */
#include "controllers/job.h"

#include <stdlib.h>

#include "common/kjson.h"
#include "harness.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        kjson_parse(s, strlen(s), 0, &j, NULL);
        return j;
}

TEST(backoff)
{
        CHECK_EQ_INT(job_backoff_seconds(0), 0);
        CHECK_EQ_INT(job_backoff_seconds(1), 10);
        CHECK_EQ_INT(job_backoff_seconds(2), 20);
        CHECK_EQ_INT(job_backoff_seconds(3), 40);
        CHECK_EQ_INT(job_backoff_seconds(6), 320);
        CHECK_EQ_INT(job_backoff_seconds(7), 360); /* capped at 6 minutes */
        CHECK_EQ_INT(job_backoff_seconds(100), 360);
}

TEST(indexes)
{
        json_t *a = job_indexes_parse("1,3-5,9", 8);
        CHECK_EQ_INT(json_array_size(a), 4); /* 9 >= completions dropped */
        char *s = job_indexes_format(a);
        CHECK_EQ_STR(s, "1,3-5");
        free(s);
        json_decref(a);
        a = job_indexes_parse("x,2,0-1,2", 5);
        s = job_indexes_format(a);
        CHECK_EQ_STR(s, "0-2");
        free(s);
        json_decref(a);
        a = job_indexes_parse(NULL, 5);
        s = job_indexes_format(a);
        CHECK_EQ_STR(s, "");
        free(s);
        json_decref(a);
}

TEST(pod_new)
{
        json_t *job = J("{\"metadata\":{\"name\":\"pi\",\"namespace\":\"ns\",\"uid\":\"u1\"},"
                        "\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},"
                        "\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\","
                        "\"env\":[{\"name\":\"X\",\"value\":\"1\"}]}]}}}}");
        json_t *p = job_pod_new(job, -1);
        CHECK_EQ_STR(kjson_str(p, "metadata.generateName"), "pi-");
        json_t *l = kjson_get(p, "metadata.labels");
        CHECK_EQ_STR(json_string_value(json_object_get(l, "a")), "b");
        CHECK_EQ_STR(json_string_value(json_object_get(l, "batch.kubernetes.io/job-name")), "pi");
        CHECK_EQ_STR(json_string_value(json_object_get(l, "controller-uid")), "u1");
        CHECK_EQ_STR(json_string_value(json_array_get(kjson_get(p, "metadata.finalizers"), 0)),
                     JOB_TRACKING_FINALIZER);
        json_t *ref = json_array_get(kjson_get(p, "metadata.ownerReferences"), 0);
        CHECK_EQ_STR(kjson_str(ref, "kind"), "Job");
        CHECK(json_is_true(json_object_get(ref, "controller")));
        CHECK(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
        json_decref(p);
        p = job_pod_new(job, 2);
        CHECK_EQ_STR(kjson_str(p, "metadata.generateName"), "pi-2-");
        CHECK_EQ_STR(json_string_value(json_object_get(kjson_get(p, "metadata.annotations"),
                                                       JOB_INDEX_ANNOTATION)),
                     "2");
        CHECK_EQ_STR(kjson_str(p, "spec.hostname"), "pi-2");
        json_t *env = json_object_get(json_array_get(kjson_get(p, "spec.containers"), 0), "env");
        CHECK_EQ_INT(json_array_size(env), 2);
        CHECK_EQ_STR(kjson_str(json_array_get(env, 0), "name"), "JOB_COMPLETION_INDEX");
        CHECK_EQ_STR(kjson_str(json_array_get(env, 0), "valueFrom.fieldRef.fieldPath"),
                     "metadata.annotations['batch.kubernetes.io/job-completion-index']");
        /* the template itself is not modified */
        CHECK(kjson_get(job, "spec.template.spec.hostname") == NULL);
        json_decref(p);
        json_decref(job);
}

TEST(pod_failure_policy)
{
        json_t *job =
                J("{\"spec\":{\"podFailurePolicy\":{\"rules\":["
                  "{\"action\":\"Ignore\",\"onPodConditions\":[{\"type\":\"DisruptionTarget\"}]},"
                  "{\"action\":\"FailJob\",\"onExitCodes\":{\"containerName\":\"main\","
                  "\"operator\":\"In\",\"values\":[42]}},"
                  "{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"NotIn\",\"values\":[1]}}]}"
                  "}}");
        json_t *p42 = J("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},\"status\":{\"phase\":"
                        "\"Failed\","
                        "\"containerStatuses\":[{\"name\":\"main\",\"state\":{\"terminated\":{"
                        "\"exitCode\":42}}}]}}");
        json_t *p1 = J("{\"metadata\":{\"name\":\"q\",\"namespace\":\"ns\"},\"status\":{\"phase\":"
                       "\"Failed\","
                       "\"containerStatuses\":[{\"name\":\"main\",\"state\":{\"terminated\":{"
                       "\"exitCode\":1}}}]}}");
        json_t *p7 = J("{\"metadata\":{\"name\":\"r\",\"namespace\":\"ns\"},\"status\":{\"phase\":"
                       "\"Failed\","
                       "\"containerStatuses\":[{\"name\":\"side\",\"state\":{\"terminated\":{"
                       "\"exitCode\":42}}}]}}");
        json_t *pd = J("{\"metadata\":{\"name\":\"s\",\"namespace\":\"ns\"},\"status\":{\"phase\":"
                       "\"Failed\","
                       "\"conditions\":[{\"type\":\"DisruptionTarget\",\"status\":\"True\"}]}}");
        char msg[256];
        CHECK_EQ_STR(job_pod_failure_action(job, p42, msg, sizeof(msg)), "FailJob");
        CHECK_EQ_STR(msg, "Container main for pod ns/p failed with exit code 42 matching FailJob "
                          "rule at index 1");
        CHECK(job_pod_failure_action(job, p1, msg, sizeof(msg)) == NULL); /* NotIn [1] */
        /* 42 in another container: not the FailJob rule, but NotIn [1] counts it */
        CHECK_EQ_STR(job_pod_failure_action(job, p7, msg, sizeof(msg)), "Count");
        CHECK_EQ_STR(job_pod_failure_action(job, pd, msg, sizeof(msg)), "Ignore");
        CHECK_EQ_STR(msg,
                     "Pod ns/s has condition DisruptionTarget matching Ignore rule at index 0");
        json_decref(job);
        json_decref(p42);
        json_decref(p1);
        json_decref(p7);
        json_decref(pd);
}

int main(void)
{
        RUN(pod_failure_policy);
        RUN(backoff);
        RUN(indexes);
        RUN(pod_new);
        return harness_done();
}
