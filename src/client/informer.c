/* informer.c — list+watch cache with callbacks on a dedicated thread (see informer.h). */
#include "client/informer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "client/client.h"
#include "common/log.h"

#define LIST_PAGE_SIZE 500
#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
#define WATCH_TIMEOUT_S 300 /* ask the server to end each watch, as client-go does (5-10 min) */

struct informer {
        char *path;  /* collection path, no query */
        char *query; /* extra query (URL-encoded) or NULL */
        struct informer_handlers h;
        void *ud;
        struct kclient *kc; /* informer thread only */
        pthread_t thread;
        atomic_bool stop;

        pthread_mutex_t lock; /* protects everything below */
        pthread_cond_t cond;  /* signalled on synced and on stop */
        json_t *cache;        /* "ns/name" (or "name") -> object */
        bool synced;
        char rv[128];
};

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_ts(struct timespec *ts, int64_t ms)
{
        clock_gettime(CLOCK_MONOTONIC, ts);
        ts->tv_sec += ms / 1000;
        ts->tv_nsec += (ms % 1000) * 1000000;
        if (ts->tv_nsec >= 1000000000) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000;
        }
}

static char *object_key(json_t *obj)
{
        json_t *meta = json_object_get(obj, "metadata");
        const char *ns = json_string_value(json_object_get(meta, "namespace"));
        const char *name = json_string_value(json_object_get(meta, "name"));

        if (!name)
                return NULL;
        return ns && *ns ? xasprintf("%s/%s", ns, name) : xstrdup(name);
}

static const char *object_rv(json_t *obj)
{
        return json_string_value(
                json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}

static void set_rv_locked(struct informer *i, const char *rv)
{
        if (rv && *rv)
                snprintf(i->rv, sizeof(i->rv), "%s", rv);
}

static int cancel_cb(void *ud)
{
        struct informer *i = ud;

        return atomic_load(&i->stop) ? 1 : 0;
}

/* Sleep ms or until stop; returns true if stopping. */
static bool sleep_or_stop(struct informer *i, int64_t ms)
{
        struct timespec ts;

        deadline_ts(&ts, ms);
        pthread_mutex_lock(&i->lock);
        while (!atomic_load(&i->stop)) {
                if (pthread_cond_timedwait(&i->cond, &i->lock, &ts) == ETIMEDOUT)
                        break;
        }
        pthread_mutex_unlock(&i->lock);
        return atomic_load(&i->stop);
}

/* ---- list ---- */

static char *list_url(struct informer *i, const char *cont)
{
        return xasprintf("%s?limit=%d%s%s%s%s", i->path, LIST_PAGE_SIZE, i->query ? "&" : "",
                         i->query ? i->query : "", cont ? "&continue=" : "", cont ? cont : "");
}

/* Continue tokens are opaque base64-ish strings; percent-encode to be safe. */
static char *url_escape(const char *s)
{
        char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~')
                        *o++ = (char)*p;
                else
                        o += snprintf(o, 4, "%%%02X", *p);
        }
        *o = 0;
        return out;
}

/* LIST every page into a new map; *ret_rv gets the list's resourceVersion. */
static int list_all(struct informer *i, json_t **ret_map, char **ret_rv, struct error *err)
{
        _cleanup_(json_decrefp) json_t *map = json_object();
        _cleanup_free_ char *cont = NULL, *rv = NULL;

        do {
                _cleanup_(json_decrefp) json_t *list = NULL;
                _cleanup_free_ char *url = NULL, *kind = NULL;
                const char *next, *list_kind, *api_version;
                json_t *items, *item;
                size_t idx;
                int r;

                url = list_url(i, cont);
                r = kclient_get(i->kc, url, &list, err);
                if (r < 0)
                        return r;
                items = json_object_get(list, "items");
                if (!json_is_object(list) || (!json_is_array(items) && !json_is_null(items)))
                        return error_set(err, -EPROTO, "list %s: not a list", i->path);
                /* List items carry no kind/apiVersion; fill them in from the list's so the
                 * cached objects are complete. */
                list_kind = json_string_value(json_object_get(list, "kind"));
                api_version = json_string_value(json_object_get(list, "apiVersion"));
                if (list_kind && strlen(list_kind) > 4 &&
                    strcmp(list_kind + strlen(list_kind) - 4, "List") == 0)
                        kind = xstrndup(list_kind, strlen(list_kind) - 4);
                json_array_foreach(items, idx, item)
                {
                        _cleanup_free_ char *key = object_key(item);
                        if (!key)
                                continue;
                        if (kind && !json_object_get(item, "kind"))
                                json_object_set_new(item, "kind", json_string(kind));
                        if (api_version && !json_object_get(item, "apiVersion"))
                                json_object_set_new(item, "apiVersion", json_string(api_version));
                        /* as client-go's TransformStripManagedFields: nobody reads them
                         * from a cache and they are ~40% of a pod */
                        json_object_del(json_object_get(item, "metadata"), "managedFields");
                        json_object_set(map, key, item);
                }
                free(rv);
                rv = xstrdup(object_rv(list) ?: "");
                next = json_string_value(
                        json_object_get(json_object_get(list, "metadata"), "continue"));
                free(cont);
                cont = next && *next ? url_escape(next) : NULL;
        } while (cont && !atomic_load(&i->stop));
        *ret_map = TAKE_PTR(map);
        *ret_rv = TAKE_PTR(rv);
        return 0;
}

/* ---- handler dispatch (no lock held) ---- */

struct change {
        json_t *old_obj; /* NULL for add */
        json_t *new_obj; /* NULL for delete */
};

static void dispatch(struct informer *i, json_t *old_obj, json_t *new_obj)
{
        if (old_obj && new_obj) {
                if (i->h.on_update)
                        i->h.on_update(old_obj, new_obj, i->ud);
        } else if (new_obj) {
                if (i->h.on_add)
                        i->h.on_add(new_obj, i->ud);
        } else if (old_obj) {
                if (i->h.on_delete)
                        i->h.on_delete(old_obj, i->ud);
        }
}

/* Replace the cache by map, then call handlers for the difference. */
static void replace_cache(struct informer *i, json_t *map, const char *rv)
{
        _cleanup_(json_decrefp) json_t *old_cache = NULL;
        struct change *changes;
        size_t n = 0, cap;
        const char *key;
        json_t *obj;

        pthread_mutex_lock(&i->lock);
        old_cache = i->cache;
        i->cache = json_incref(map);
        set_rv_locked(i, rv);
        pthread_mutex_unlock(&i->lock);

        cap = json_object_size(map) + json_object_size(old_cache);
        changes = xcalloc(cap ? cap : 1, sizeof(*changes));
        json_object_foreach(map, key, obj)
        {
                json_t *old = json_object_get(old_cache, key);
                if (!old) {
                        changes[n++] = (struct change){NULL, obj};
                } else {
                        const char *a = object_rv(old), *b = object_rv(obj);
                        if (!(a && b && strcmp(a, b) == 0) && !json_equal(old, obj))
                                changes[n++] = (struct change){old, obj};
                }
        }
        json_object_foreach(old_cache, key, obj)
        {
                if (!json_object_get(map, key))
                        changes[n++] = (struct change){obj, NULL};
        }
        /* old_cache and map keep every object alive while the handlers run. */
        for (size_t k = 0; k < n && !atomic_load(&i->stop); k++)
                dispatch(i, changes[k].old_obj, changes[k].new_obj);
        free(changes);

        pthread_mutex_lock(&i->lock);
        if (!i->synced) {
                i->synced = true;
                pthread_cond_broadcast(&i->cond);
        }
        pthread_mutex_unlock(&i->lock);
}

/* ---- watch ---- */

static int watch_cb(const char *type, json_t *obj, void *ud)
{
        struct informer *i = ud;
        _cleanup_(json_decrefp) json_t *old = NULL;
        _cleanup_free_ char *key = NULL;
        bool deleted;

        if (atomic_load(&i->stop))
                return 1;
        if (strcmp(type, "BOOKMARK") == 0) {
                pthread_mutex_lock(&i->lock);
                set_rv_locked(i, object_rv(obj));
                pthread_mutex_unlock(&i->lock);
                return 0;
        }
        if (strcmp(type, "ERROR") == 0) {
                json_int_t code = json_integer_value(json_object_get(obj, "code"));
                const char *msg = json_string_value(json_object_get(obj, "message"));
                log_debug("informer", "%s: watch error %lld: %s", i->path, (long long)code,
                          msg ? msg : "");
                return code == 410 ? -ERANGE : -EIO;
        }
        deleted = strcmp(type, "DELETED") == 0;
        if (!deleted && strcmp(type, "ADDED") != 0 && strcmp(type, "MODIFIED") != 0)
                return 0; /* unknown event type: ignore */
        key = object_key(obj);
        if (!key)
                return 0;

        json_object_del(json_object_get(obj, "metadata"), "managedFields");
        pthread_mutex_lock(&i->lock);
        old = json_incref(json_object_get(i->cache, key));
        if (deleted)
                json_object_del(i->cache, key);
        else
                json_object_set(i->cache, key, obj);
        set_rv_locked(i, object_rv(obj));
        pthread_mutex_unlock(&i->lock);

        if (deleted) {
                /* The event carries the final state; report it even if we never saw it. */
                dispatch(i, obj, NULL);
        } else {
                dispatch(i, old, obj);
        }
        return 0;
}

static int watch_once(struct informer *i, struct error *err)
{
        _cleanup_free_ char *url = NULL;
        char rv[sizeof(i->rv)];

        pthread_mutex_lock(&i->lock);
        memcpy(rv, i->rv, sizeof(rv));
        pthread_mutex_unlock(&i->lock);
        url = xasprintf("%s?watch=true&allowWatchBookmarks=true&timeoutSeconds=%d"
                        "&resourceVersion=%s%s%s",
                        i->path, WATCH_TIMEOUT_S, rv, i->query ? "&" : "",
                        i->query ? i->query : "");
        return kclient_watch(i->kc, url, watch_cb, i, err);
}

static void *informer_thread(void *arg)
{
        struct informer *i = arg;
        int64_t backoff = BACKOFF_MIN_MS;

        while (!atomic_load(&i->stop)) {
                _cleanup_(json_decrefp) json_t *map = NULL;
                _cleanup_free_ char *rv = NULL;
                struct error err = {};
                int r;

                r = list_all(i, &map, &rv, &err);
                if (atomic_load(&i->stop))
                        break;
                if (r < 0) {
                        log_debug("informer", "%s: list: %s", i->path, error_msg(&err));
                        if (sleep_or_stop(i, backoff))
                                break;
                        backoff = MIN(backoff * 2, BACKOFF_MAX_MS);
                        continue;
                }
                replace_cache(i, map, rv);

                /* Watch until the stream breaks; a clean end (server timeout) rewatches from
                 * the last resourceVersion without relisting. */
                for (;;) {
                        int64_t started = now_ms();

                        err = (struct error){};
                        r = watch_once(i, &err);
                        if (atomic_load(&i->stop))
                                break;
                        if (r == 0) {
                                /* A server that ends watches immediately must not spin us. */
                                if (now_ms() - started < 1000 && sleep_or_stop(i, backoff))
                                        break;
                                if (now_ms() - started >= 1000)
                                        backoff = BACKOFF_MIN_MS;
                                continue;
                        }
                        log_debug("informer", "%s: watch: %s (r=%d)", i->path, error_msg(&err), r);
                        /* A watch that worked for a while resets the backoff. */
                        if (now_ms() - started >= 1000)
                                backoff = BACKOFF_MIN_MS;
                        break;
                }
                if (atomic_load(&i->stop))
                        break;
                /* 410 Gone: relist right away. Anything else: back off first. */
                if (r != -ERANGE) {
                        if (sleep_or_stop(i, backoff))
                                break;
                        backoff = MIN(backoff * 2, BACKOFF_MAX_MS);
                } else {
                        backoff = BACKOFF_MIN_MS;
                }
        }
        return NULL;
}

/* ---- public ---- */

int informer_start(const char *kubeconfig_path, const char *path, const char *query,
                   const struct informer_handlers *handlers, void *ud, struct informer **ret,
                   struct error *err)
{
        struct informer *i;
        pthread_condattr_t ca;
        int r;

        if (!path || path[0] != '/' || strchr(path, '?'))
                return error_set(err, -EINVAL, "informer: bad collection path \"%s\"",
                                 path ? path : "");
        i = xcalloc(1, sizeof(*i));
        r = kclient_from_kubeconfig(kubeconfig_path, &i->kc, err);
        if (r < 0) {
                free(i);
                return r;
        }
        i->path = xstrdup(path);
        i->query = query && *query ? xstrdup(query) : NULL;
        if (handlers)
                i->h = *handlers;
        i->ud = ud;
        i->cache = json_object();
        atomic_init(&i->stop, false);
        pthread_mutex_init(&i->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&i->cond, &ca);
        pthread_condattr_destroy(&ca);
        kclient_set_cancel(i->kc, cancel_cb, i);

        r = -pthread_create(&i->thread, NULL, informer_thread, i);
        if (r < 0) {
                kclient_free(i->kc);
                json_decref(i->cache);
                free(i->path);
                free(i->query);
                pthread_mutex_destroy(&i->lock);
                pthread_cond_destroy(&i->cond);
                free(i);
                return error_set(err, r, "informer: pthread_create: %s", strerror(-r));
        }
        *ret = i;
        return 0;
}

void informer_stop(struct informer *i)
{
        if (!i)
                return;
        pthread_mutex_lock(&i->lock);
        atomic_store(&i->stop, true);
        pthread_cond_broadcast(&i->cond);
        pthread_mutex_unlock(&i->lock);
        pthread_join(i->thread, NULL);

        kclient_free(i->kc);
        json_decref(i->cache);
        free(i->path);
        free(i->query);
        pthread_mutex_destroy(&i->lock);
        pthread_cond_destroy(&i->cond);
        free(i);
}

int informer_wait_synced(struct informer *i, int timeout_ms)
{
        struct timespec ts;
        int r = 0;

        if (timeout_ms >= 0)
                deadline_ts(&ts, timeout_ms);
        pthread_mutex_lock(&i->lock);
        while (!i->synced && !atomic_load(&i->stop)) {
                if (timeout_ms < 0) {
                        pthread_cond_wait(&i->cond, &i->lock);
                } else if (pthread_cond_timedwait(&i->cond, &i->lock, &ts) == ETIMEDOUT) {
                        break;
                }
        }
        if (!i->synced)
                r = -ETIMEDOUT;
        pthread_mutex_unlock(&i->lock);
        return r;
}

bool informer_has_synced(struct informer *i)
{
        bool s;

        pthread_mutex_lock(&i->lock);
        s = i->synced;
        pthread_mutex_unlock(&i->lock);
        return s;
}

json_t *informer_get(struct informer *i, const char *ns, const char *name)
{
        _cleanup_free_ char *key = ns && *ns ? xasprintf("%s/%s", ns, name) : xstrdup(name);
        json_t *obj;

        pthread_mutex_lock(&i->lock);
        obj = json_incref(json_object_get(i->cache, key));
        pthread_mutex_unlock(&i->lock);
        return obj;
}

static int cmp_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int informer_list(struct informer *i, const char *ns, json_t **ret)
{
        _cleanup_(json_decrefp) json_t *snap = NULL;
        json_t *arr = json_array(), *obj;
        const char **keys;
        const char *key;
        size_t n = 0, nslen = ns && *ns ? strlen(ns) : 0;

        /* Copy the map (shallow: object references) under the lock, sort outside it. */
        pthread_mutex_lock(&i->lock);
        snap = json_copy(i->cache);
        pthread_mutex_unlock(&i->lock);

        keys = xcalloc(json_object_size(snap) + 1, sizeof(*keys));
        json_object_foreach(snap, key, obj)
        {
                if (nslen && !(strncmp(key, ns, nslen) == 0 && key[nslen] == '/'))
                        continue;
                keys[n++] = key;
        }
        qsort(keys, n, sizeof(*keys), cmp_keys);
        for (size_t k = 0; k < n; k++)
                json_array_append(arr, json_object_get(snap, keys[k]));
        free(keys);
        *ret = arr;
        return (int)n;
}

void informer_resource_version(struct informer *i, char *buf, size_t size)
{
        pthread_mutex_lock(&i->lock);
        snprintf(buf, size, "%s", i->rv);
        pthread_mutex_unlock(&i->lock);
}
