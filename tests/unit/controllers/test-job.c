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

int main(void)
{
        RUN(backoff);
        RUN(indexes);
        RUN(pod_new);
        return harness_done();
}
