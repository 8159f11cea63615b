/* store.c — endpoint parsing and dispatch over the backend function table. */
#include "store/store-internal.h"

#define STORE_DEFAULT_PATH "/var/lib/timonel/server/db/state.db"

static __thread bool tls_deferred;
static __thread int64_t tls_last_write;

void store_thread_set_deferred(bool deferred)
{
        tls_deferred = deferred;
}

bool store_thread_deferred(void)
{
        return tls_deferred;
}

int64_t store_thread_last_write(void)
{
        return tls_last_write;
}

static void note_write(int64_t rev)
{
        tls_last_write = rev;
}

void store_kv_clear(struct store_kv *kv)
{
        if (!kv)
                return;
        free(kv->key);
        free(kv->value);
        memset(kv, 0, sizeof(*kv));
}

void store_list_clear(struct store_list *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n_items; i++)
                store_kv_clear(&l->items[i]);
        free(l->items);
        memset(l, 0, sizeof(*l));
}

bool store_prefix_end(const char *prefix, char **ret_end, size_t *ret_end_len)
{
        size_t n = prefix ? strlen(prefix) : 0;
        while (n > 0 && (unsigned char)prefix[n - 1] == 0xff)
                n--;
        if (n == 0) {
                *ret_end = NULL;
                *ret_end_len = 0;
                return false;
        }
        char *end = xstrndup(prefix, n);
        end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
        *ret_end = end;
        *ret_end_len = n;
        return true;
}

int store_open(const char *endpoint, struct store **ret, struct error *err)
{
        return store_open_with(endpoint, NULL, ret, err);
}

int store_open_with(const char *endpoint, const struct store_options *opts, struct store **ret,
                    struct error *err)
{
        if (!endpoint || !*endpoint)
                return store_sqlite_open(STORE_DEFAULT_PATH, ret, err);
        if (strncmp(endpoint, "sqlite://", 9) == 0) {
                const char *path = endpoint + 9;
                if (path[0] != '/')
                        return error_set(err, -EINVAL,
                                         "store endpoint %s: expected sqlite:///absolute/path",
                                         endpoint);
                return store_sqlite_open(path, ret, err);
        }
        if (store_etcd_is_endpoint(endpoint))
                return store_etcd_open(endpoint, opts, ret, err);
        if (strstr(endpoint, "://"))
                return error_set(err, -EINVAL, "store endpoint %s: unsupported scheme", endpoint);
        return store_sqlite_open(endpoint, ret, err);
}

void store_close(struct store *s)
{
        if (s)
                s->ops->close(s);
}

int64_t store_revision(struct store *s)
{
        return s->ops->revision(s);
}

static int check_key(const char *key, struct error *err)
{
        if (!key || !*key)
                return error_set(err, -EINVAL, "store: empty key");
        if (strlen(key) > STORE_KEY_MAX)
                return error_set(err, -EINVAL, "store: key longer than %u bytes", STORE_KEY_MAX);
        return 0;
}

static int check_value(const char *key, size_t len, struct error *err)
{
        if (len > STORE_VALUE_MAX)
                return error_set(err, -E2BIG, "store: value of %s is %zu bytes (max %u)", key, len,
                                 STORE_VALUE_MAX);
        return 0;
}

int store_get(struct store *s, const char *key, struct store_kv *ret, struct error *err)
{
        int r = check_key(key, err);
        if (r < 0)
                return r;
        return s->ops->get(s, key, ret, err);
}

int store_list(struct store *s, const char *prefix, const char *start_after, size_t limit,
               int64_t at_rev, struct store_list *ret, struct error *err)
{
        if (at_rev < 0)
                return error_set(err, -EINVAL, "store: negative revision %lld", (long long)at_rev);
        return s->ops->list(s, prefix ? prefix : "", start_after, limit, at_rev, ret, err);
}

int store_count(struct store *s, const char *prefix, int64_t *ret, struct error *err)
{
        return s->ops->count(s, prefix ? prefix : "", ret, err);
}

int store_create(struct store *s, const char *key, const char *value, size_t len, int64_t *ret_rev,
                 struct error *err)
{
        int r = check_key(key, err);
        if (r < 0)
                return r;
        r = check_value(key, len, err);
        if (r < 0)
                return r;
        int64_t rev = 0;
        r = s->ops->create(s, key, value ? value : "", value ? len : 0, &rev, err);
        if (r >= 0) {
                note_write(rev);
                if (ret_rev)
                        *ret_rev = rev;
        }
        return r;
}

int store_create_ttl(struct store *s, const char *key, const char *value, size_t len, int64_t ttl_s,
                     int64_t *ret_rev, struct error *err)
{
        int r = check_key(key, err);
        if (r < 0)
                return r;
        r = check_value(key, len, err);
        if (r < 0)
                return r;
        if (ttl_s <= 0)
                return error_set(err, -EINVAL, "store: TTL %lld is not positive", (long long)ttl_s);
        if (!s->ops->create_ttl)
                return error_set(err, -EOPNOTSUPP, "store: the %s backend has no leases",
                                 s->ops->name);
        int64_t rev = 0;
        r = s->ops->create_ttl(s, key, value ? value : "", value ? len : 0, ttl_s, &rev, err);
        if (r >= 0) {
                note_write(rev);
                if (ret_rev)
                        *ret_rev = rev;
        }
        return r;
}

int store_update(struct store *s, const char *key, const char *value, size_t len,
                 int64_t expect_rev, int64_t *ret_rev, struct error *err)
{
        int r = check_key(key, err);
        if (r < 0)
                return r;
        r = check_value(key, len, err);
        if (r < 0)
                return r;
        int64_t rev = 0;
        r = s->ops->update(s, key, value ? value : "", value ? len : 0, expect_rev, &rev, err);
        if (r >= 0) {
                note_write(rev);
                if (ret_rev)
                        *ret_rev = rev;
        }
        return r;
}

int store_delete(struct store *s, const char *key, int64_t expect_rev, struct store_kv *ret_prev,
                 struct error *err)
{
        int r = check_key(key, err);
        if (r < 0)
                return r;
        struct store_kv prev = {0};
        r = s->ops->remove(s, key, expect_rev, &prev, err);
        if (r < 0)
                return r;
        note_write(prev.mod_rev);
        if (ret_prev)
                *ret_prev = prev;
        else
                store_kv_clear(&prev);
        return r;
}

int store_watch(struct store *s, const char *prefix, int64_t from_rev, store_watch_fn fn,
                void *userdata, struct store_watch **ret, struct error *err)
{
        if (from_rev < 0)
                return error_set(err, -EINVAL, "store: negative revision %lld",
                                 (long long)from_rev);
        return s->ops->watch(s, prefix ? prefix : "", from_rev, fn, userdata, ret, err);
}

void store_watch_cancel(struct store_watch *w)
{
        if (w)
                w->store->ops->watch_cancel(w);
}

int store_compact(struct store *s, int64_t rev, struct error *err)
{
        return s->ops->compact(s, rev, err);
}

int64_t store_durable_revision(struct store *s)
{
        if (!s->ops->durable_revision)
                return s->ops->revision(s);
        return s->ops->durable_revision(s);
}

void store_on_durable(struct store *s, int64_t rev, store_durable_fn fn, void *userdata)
{
        if (!s->ops->on_durable)
                fn(userdata);
        else
                s->ops->on_durable(s, rev, fn, userdata);
}

void store_wait_durable(struct store *s, int64_t rev)
{
        if (s->ops->wait_durable)
                s->ops->wait_durable(s, rev);
}
