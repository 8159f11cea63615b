/* test-workqueue.c — controllers/workqueue.c: dedup, delays, processing/dirty, backoff. */
#include "controllers/workqueue.h"

#include <stdlib.h>

#include "harness.h"

TEST(dedup_and_order)
{
        struct workqueue *q = workqueue_new();
        workqueue_add(q, "a");
        workqueue_add(q, "a");
        workqueue_add_after(q, "b", 50);
        CHECK_EQ_INT(workqueue_len(q), 2);
        char *k = workqueue_get(q, 0);
        CHECK_EQ_STR(k, "a");
        CHECK(workqueue_get(q, 0) == NULL); /* b not due yet */
        workqueue_done(q, k);
        free(k);
        int64_t t0 = workqueue_now_ms();
        k = workqueue_get(q, 1000);
        CHECK_EQ_STR(k, "b");
        CHECK(workqueue_now_ms() - t0 >= 30);
        workqueue_done(q, k);
        free(k);
        workqueue_free(q);
}

TEST(processing_is_not_handed_out_twice)
{
        struct workqueue *q = workqueue_new();
        workqueue_add(q, "a");
        char *k = workqueue_get(q, 0);
        workqueue_add(q, "a"); /* while processing: remembered */
        CHECK(workqueue_get(q, 0) == NULL);
        workqueue_done(q, k);
        free(k);
        k = workqueue_get(q, 0);
        CHECK_EQ_STR(k, "a");
        workqueue_done(q, k);
        free(k);
        workqueue_free(q);
}

TEST(rate_limit)
{
        struct workqueue *q = workqueue_new();
        workqueue_add_rate_limited(q, "x");
        workqueue_add_rate_limited(q, "x");
        CHECK_EQ_INT(workqueue_failures(q, "x"), 2);
        workqueue_forget(q, "x");
        CHECK_EQ_INT(workqueue_failures(q, "x"), 0);
        CHECK(workqueue_get(q, 0) == NULL); /* first backoff is 100 ms */
        char *k = workqueue_get(q, 1000);
        CHECK_EQ_STR(k, "x");
        workqueue_done(q, k);
        free(k);
        workqueue_shutdown(q);
        CHECK(workqueue_get(q, 1000) == NULL);
        workqueue_free(q);
}

int main(void)
{
        RUN(dedup_and_order);
        RUN(processing_is_not_handed_out_twice);
        RUN(rate_limit);
        return harness_done();
}
