/* expectations.c — see expectations.h. */
#include "controllers/expectations.h"

#include <pthread.h>

#include "controllers/workqueue.h"

struct expectations {
        pthread_mutex_t lock;
        json_t *map; /* key -> {add: n, del: {podkey: true}, ts: ms} */
};

struct expectations *expectations_new(void)
{
        struct expectations *e = xcalloc(1, sizeof(*e));
        pthread_mutex_init(&e->lock, NULL);
        e->map = json_object();
        return e;
}

void expectations_free(struct expectations *e)
{
        if (!e)
                return;
        json_decref(e->map);
        pthread_mutex_destroy(&e->lock);
        free(e);
}

void expectations_expect(struct expectations *e, const char *key, int64_t adds, const json_t *dels)
{
        json_t *d = json_object();
        json_t *v;
        size_t i;
        json_array_foreach(dels, i, v) json_object_set_new(d, json_string_value(v), json_true());
        pthread_mutex_lock(&e->lock);
        json_object_set_new(e->map, key,
                            json_pack("{s:I, s:o, s:I}", "add", (json_int_t)adds, "del", d, "ts",
                                      (json_int_t)workqueue_now_ms()));
        pthread_mutex_unlock(&e->lock);
}

void expectations_creation_observed(struct expectations *e, const char *key)
{
        pthread_mutex_lock(&e->lock);
        json_t *x = json_object_get(e->map, key);
        if (x) {
                json_int_t n = json_integer_value(json_object_get(x, "add"));
                json_object_set_new(x, "add", json_integer(n > 0 ? n - 1 : 0));
        }
        pthread_mutex_unlock(&e->lock);
}

void expectations_deletion_observed(struct expectations *e, const char *key, const char *pod_key)
{
        pthread_mutex_lock(&e->lock);
        json_t *x = json_object_get(e->map, key);
        if (x)
                json_object_del(json_object_get(x, "del"), pod_key);
        pthread_mutex_unlock(&e->lock);
}

bool expectations_satisfied(struct expectations *e, const char *key)
{
        pthread_mutex_lock(&e->lock);
        json_t *x = json_object_get(e->map, key);
        bool ok = !x ||
                  (json_integer_value(json_object_get(x, "add")) <= 0 &&
                   json_object_size(json_object_get(x, "del")) == 0) ||
                  workqueue_now_ms() - json_integer_value(json_object_get(x, "ts")) >
                          EXPECTATIONS_TTL_MS;
        pthread_mutex_unlock(&e->lock);
        return ok;
}

void expectations_delete(struct expectations *e, const char *key)
{
        pthread_mutex_lock(&e->lock);
        json_object_del(e->map, key);
        pthread_mutex_unlock(&e->lock);
}
