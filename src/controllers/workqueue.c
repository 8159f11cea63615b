/* workqueue.c — keyed delaying rate-limited queue (see workqueue.h). */
#include "controllers/workqueue.h"

#include <jansson.h>
#include <pthread.h>
#include <time.h>

struct workqueue {
        pthread_mutex_t lock; /* protects everything below */
        pthread_cond_t cond;
        json_t *queue;      /* key -> due (monotonic ms) */
        json_t *processing; /* key -> true */
        json_t *dirty;      /* key -> due: added while processing */
        json_t *failures;   /* key -> count */
        bool shutdown;
};

int64_t workqueue_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct workqueue *workqueue_new(void)
{
        struct workqueue *q = xcalloc(1, sizeof(*q));
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&q->cond, &ca);
        pthread_condattr_destroy(&ca);
        pthread_mutex_init(&q->lock, NULL);
        q->queue = json_object();
        q->processing = json_object();
        q->dirty = json_object();
        q->failures = json_object();
        return q;
}

void workqueue_free(struct workqueue *q)
{
        if (!q)
                return;
        json_decref(q->queue);
        json_decref(q->processing);
        json_decref(q->dirty);
        json_decref(q->failures);
        pthread_mutex_destroy(&q->lock);
        pthread_cond_destroy(&q->cond);
        free(q);
}

static void put_locked(json_t *set, const char *key, int64_t due)
{
        json_t *cur = json_object_get(set, key);
        if (cur && json_integer_value(cur) <= due)
                return;
        json_object_set_new(set, key, json_integer(due));
}

void workqueue_add_after(struct workqueue *q, const char *key, int64_t delay_ms)
{
        int64_t due = workqueue_now_ms() + MAX(delay_ms, 0);
        pthread_mutex_lock(&q->lock);
        if (!q->shutdown) {
                if (json_object_get(q->processing, key))
                        put_locked(q->dirty, key, due);
                else
                        put_locked(q->queue, key, due);
                pthread_cond_broadcast(&q->cond);
        }
        pthread_mutex_unlock(&q->lock);
}

void workqueue_add(struct workqueue *q, const char *key)
{
        workqueue_add_after(q, key, 0);
}

void workqueue_add_rate_limited(struct workqueue *q, const char *key)
{
        pthread_mutex_lock(&q->lock);
        int64_t n = json_integer_value(json_object_get(q->failures, key));
        json_object_set_new(q->failures, key, json_integer(n + 1));
        pthread_mutex_unlock(&q->lock);
        int64_t d = WORKQUEUE_BACKOFF_MIN_MS;
        for (int64_t i = 0; i < n && d < WORKQUEUE_BACKOFF_MAX_MS; i++)
                d *= 2;
        workqueue_add_after(q, key, MIN(d, WORKQUEUE_BACKOFF_MAX_MS));
}

void workqueue_forget(struct workqueue *q, const char *key)
{
        pthread_mutex_lock(&q->lock);
        json_object_del(q->failures, key);
        pthread_mutex_unlock(&q->lock);
}

int workqueue_failures(struct workqueue *q, const char *key)
{
        pthread_mutex_lock(&q->lock);
        int n = (int)json_integer_value(json_object_get(q->failures, key));
        pthread_mutex_unlock(&q->lock);
        return n;
}

char *workqueue_get(struct workqueue *q, int timeout_ms)
{
        int64_t deadline = workqueue_now_ms() + timeout_ms;
        char *ret = NULL;
        pthread_mutex_lock(&q->lock);
        while (!q->shutdown) {
                const char *key, *best = NULL;
                json_t *v;
                int64_t due = 0, now = workqueue_now_ms();
                json_object_foreach(q->queue, key, v)
                {
                        if (!best || json_integer_value(v) < due) {
                                best = key;
                                due = json_integer_value(v);
                        }
                }
                if (best && due <= now) {
                        ret = xstrdup(best);
                        json_object_del(q->queue, ret);
                        json_object_set_new(q->processing, ret, json_true());
                        break;
                }
                if (now >= deadline)
                        break;
                int64_t until = best ? MIN(due, deadline) : deadline;
                struct timespec ts;
                ts.tv_sec = until / 1000;
                ts.tv_nsec = (long)(until % 1000) * 1000000L;
                pthread_cond_timedwait(&q->cond, &q->lock, &ts);
        }
        pthread_mutex_unlock(&q->lock);
        return ret;
}

void workqueue_done(struct workqueue *q, const char *key)
{
        pthread_mutex_lock(&q->lock);
        json_object_del(q->processing, key);
        json_t *d = json_object_get(q->dirty, key);
        if (d) {
                put_locked(q->queue, key, json_integer_value(d));
                json_object_del(q->dirty, key);
                pthread_cond_broadcast(&q->cond);
        }
        pthread_mutex_unlock(&q->lock);
}

void workqueue_shutdown(struct workqueue *q)
{
        pthread_mutex_lock(&q->lock);
        q->shutdown = true;
        pthread_cond_broadcast(&q->cond);
        pthread_mutex_unlock(&q->lock);
}

size_t workqueue_len(struct workqueue *q)
{
        pthread_mutex_lock(&q->lock);
        size_t n = json_object_size(q->queue) + json_object_size(q->dirty);
        pthread_mutex_unlock(&q->lock);
        return n;
}
