/* store-etcd.c — the store on etcd v3, through etcd's JSON gateway (grpc-gateway, /v3/...).
 *
 * Wire format (etcd 3.4, verified in PLATFORM.md): POST JSON to /v3/kv/{range,txn,compaction},
 * /v3/lease/grant; keys and values are base64; int64 fields are JSON strings; fields at their
 * zero value are omitted (a PUT event has no "type", a failed txn no "succeeded"). Errors come as
 * a non-200 status with {"error", "code", "message"}.
 *
 * Mapping of the store operations:
 *   get/list/count  range (list: revision = at_rev, or the first page's header revision, so every
 *                   page of one listing is read at one revision; limit 0 is paged internally)
 *   create          txn: compare CREATE create_revision == 0 -> put, else fail -EEXIST
 *   update/delete   txn: compare MOD mod_revision == expect (or CREATE > 0 when unconditional)
 *                   -> put / deleterange(prev_kv), else range to tell -ENOENT from -ESTALE
 *   create_ttl      lease/grant, then create with the lease
 *   compact         kv/compaction (logical)
 *   watch           one /v3/watch stream per store_watch, on its own thread, with prev_kv
 *
 * Endpoints: "http://h1:2379,http://h2:2379". Unary calls go to the preferred endpoint and fail
 * over to the next one on a connection error (reads also on any transport error: they are safe to
 * repeat; a write that may have reached etcd is not repeated). The endpoint that answered becomes
 * the preferred one. Each calling thread takes a keep-alive connection (http_client) from a pool.
 *
 * Watches: each watch thread holds its own stream and, when it breaks, reconnects (next endpoint,
 * backoff 100 ms doubling to 2 s) from the revision after the last delivered event, so nothing is
 * missed or repeated. If etcd answers that this revision is compacted, the watcher gets one
 * STORE_EVENT_ERROR with error -ERANGE and nothing after it. Callbacks run on the watch thread.
 *
 * Threads: mu protects the client pool, the preferred endpoint, the watch list, the thread count
 * and closing. Each watch's cbmu is held while its callback runs (so that store_watch_cancel from
 * another thread returns only when the callback is not running). */
#include "store/store-internal.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "common/kjson.h"
#include "common/log.h"
#include "http/client.h"

#define ETCD_CONNECT_TIMEOUT_MS 2000
#define ETCD_REQUEST_TIMEOUT_MS 10000
#define ETCD_LIST_PAGE 1000
#define ETCD_BACKOFF_MIN_MS 100
#define ETCD_BACKOFF_MAX_MS 2000
#define ETCD_MAX_ENDPOINTS 16
#define ETCD_WATCH_LINE_MAX (HTTP_CLIENT_MAX_BODY) /* one watch response (a line of the stream) */

struct pooled_client {
        struct http_client *http;
        struct pooled_client *next;
};

struct etcd_watch;

struct etcd_store {
        struct store base;
        char **endpoints; /* "http://host:port" without trailing slash */
        size_t n_endpoints;
        struct http_client_options opts; /* strings owned below */
        char *ca_file, *cert_file, *key_file;

        /* mu protects: idle, cur, watches, n_threads, closing (also read atomically), lease_*. */
        pthread_mutex_t mu;
        pthread_cond_t threads_done;
        struct pooled_client *idle;
        size_t cur;
        struct etcd_watch *watches;
        size_t n_threads;
        bool closing;

        int64_t rev; /* highest revision seen in a response header; __atomic */

        /* under mu: the lease shared by create_ttl calls (see lease_for) */
        int64_t lease_id, lease_ttl;
        time_t lease_granted; /* CLOCK_MONOTONIC seconds */
};

struct etcd_watch {
        struct store_watch base; /* prefix, fn, userdata, last_rev, cancelled (under cbmu) */
        struct etcd_store *s;
        pthread_mutex_t cbmu;
        int refs;            /* the thread and the owner; under s->mu */
        bool thread_running; /* under s->mu */
        bool dead;           /* compacted: no more events (watch thread only) */
        bool created;        /* the current stream was accepted (watch thread only) */
        char *line;          /* partial stream line */
        size_t line_len, line_cap;
        struct etcd_watch *next; /* s->watches */
};

#define ES(s) ((struct etcd_store *)(s))

static __thread struct etcd_watch *tls_watch; /* the watch whose thread this is, if any */

/* ---- encoding ---- */

static char *b64_encode(const char *p, size_t n)
{
        char *out = xmalloc(4 * ((n + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)p, (int)n);
        return out;
}

/* Decode base64 text into a NUL-terminated buffer. -EPROTO on malformed input. */
static int b64_decode(const char *in, char **ret, size_t *ret_len)
{
        size_t n = in ? strlen(in) : 0;
        if (n % 4 || n > INT32_MAX)
                return -EPROTO;
        char *out = xmalloc(n / 4 * 3 + 1);
        int m = n ? EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)in, (int)n) : 0;
        if (m < 0) {
                free(out);
                return -EPROTO;
        }
        if (n >= 1 && in[n - 1] == '=')
                m--;
        if (n >= 2 && in[n - 2] == '=')
                m--;
        out[m] = 0;
        *ret = out;
        if (ret_len)
                *ret_len = (size_t)m;
        return 0;
}

/* An int64 field: a JSON string (the gateway's encoding) or a number; 0 when absent. */
static int64_t jint(const json_t *obj, const char *path)
{
        const json_t *v = kjson_get(obj, path);
        if (json_is_integer(v))
                return json_integer_value(v);
        if (json_is_string(v))
                return strtoll(json_string_value(v), NULL, 10);
        return 0;
}

static json_t *jrev(int64_t v)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long)v);
        return json_string(buf);
}

static json_t *jb64(const char *p, size_t n)
{
        _cleanup_free_ char *b = b64_encode(p, n);
        return json_string(b);
}

/* range_end for a prefix: the prefix's upper bound, or "\0" (every key >= key) if unbounded. */
static json_t *jrange_end(const char *prefix)
{
        _cleanup_free_ char *end = NULL;
        size_t end_len;
        if (store_prefix_end(prefix, &end, &end_len))
                return jb64(end, end_len);
        return jb64("", 1);
}

static void note_rev(struct etcd_store *s, int64_t rev)
{
        int64_t cur = __atomic_load_n(&s->rev, __ATOMIC_ACQUIRE);
        while (rev > cur && !__atomic_compare_exchange_n(&s->rev, &cur, rev, false,
                                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                ;
}

/* A kv object of a response into a store_kv. */
static int kv_from_json(const json_t *j, struct store_kv *ret)
{
        struct store_kv kv = {
                .create_rev = jint(j, "create_revision"),
                .mod_rev = jint(j, "mod_revision"),
        };
        int r = b64_decode(kjson_str(j, "key"), &kv.key, NULL);
        if (r < 0)
                return r;
        const char *v = kjson_str(j, "value");
        r = b64_decode(v ? v : "", &kv.value, &kv.value_len);
        if (r < 0) {
                free(kv.key);
                return r;
        }
        *ret = kv;
        return 0;
}

/* ---- unary calls ---- */

static struct http_client *client_get(struct etcd_store *s, struct error *err)
{
        pthread_mutex_lock(&s->mu);
        struct pooled_client *p = s->idle;
        if (p)
                s->idle = p->next;
        pthread_mutex_unlock(&s->mu);
        if (p) {
                struct http_client *c = p->http;
                free(p);
                return c;
        }
        struct http_client *c = NULL;
        if (http_client_new(&s->opts, &c, err) < 0)
                return NULL;
        return c;
}

static void client_put(struct etcd_store *s, struct http_client *c)
{
        struct pooled_client *p = xcalloc(1, sizeof(*p));
        p->http = c;
        pthread_mutex_lock(&s->mu);
        p->next = s->idle;
        s->idle = p;
        pthread_mutex_unlock(&s->mu);
}

static size_t preferred(struct etcd_store *s)
{
        pthread_mutex_lock(&s->mu);
        size_t i = s->cur;
        pthread_mutex_unlock(&s->mu);
        return i;
}

static void set_preferred(struct etcd_store *s, size_t i)
{
        pthread_mutex_lock(&s->mu);
        s->cur = i;
        pthread_mutex_unlock(&s->mu);
}

/* An etcd error reply into our errno. */
static int map_etcd_error(const char *path, long status, const json_t *body, struct error *err)
{
        const char *msg = body ? kjson_str(body, "message") : NULL;
        if (!msg && body)
                msg = kjson_str(body, "error");
        if (!msg)
                msg = "no message";
        int code = -EIO;
        if (strstr(msg, "compacted"))
                code = -ERANGE;
        else if (strstr(msg, "future revision"))
                code = -EINVAL;
        else if (strstr(msg, "too large"))
                code = -E2BIG;
        else if (strstr(msg, "lease not found"))
                code = -ENOENT;
        return error_set(err, code, "etcd %s: %s (HTTP %ld)", path, msg, status);
}

/* POST req (borrowed) to path on the preferred endpoint, failing over to the others. idempotent:
 * also fail over on errors after the request may have been sent. *ret: the parsed reply. */
static int call(struct etcd_store *s, const char *path, const json_t *req, bool idempotent,
                json_t **ret, struct error *err)
{
        _cleanup_free_ char *body = kjson_dump(req);
        struct http_client *c = client_get(s, err);
        if (!c)
                return -EIO;
        size_t start = preferred(s);
        struct error terr = {0};
        int r = -EIO;
        long status = 0;
        _cleanup_free_ char *resp = NULL;
        size_t resp_len = 0;
        for (size_t a = 0; a < s->n_endpoints; a++) {
                size_t i = (start + a) % s->n_endpoints;
                _cleanup_free_ char *url = xasprintf("%s%s", s->endpoints[i], path);
                free(resp);
                resp = NULL;
                r = http_client_do(c, "POST", url, "application/json", body, strlen(body), &status,
                                   &resp, &resp_len, &terr);
                if (r >= 0) {
                        if (a > 0)
                                set_preferred(s, i);
                        break;
                }
                if (r != -ECONNREFUSED && !(idempotent && r != -E2BIG))
                        break;
        }
        client_put(s, c);
        if (r < 0)
                return error_set(err, r == -E2BIG ? -E2BIG : -EIO, "etcd: %s", error_msg(&terr));

        json_t *j = NULL;
        struct error perr = {0};
        if (kjson_parse(resp, resp_len, 0, &j, &perr) < 0 || !json_is_object(j)) {
                json_decref(j);
                return error_set(err, -EIO, "etcd %s: malformed reply (HTTP %ld): %s", path, status,
                                 error_msg(&perr));
        }
        if (status != 200 || (!kjson_get(j, "header") && kjson_get(j, "code"))) {
                r = map_etcd_error(path, status, j, err);
                json_decref(j);
                return r;
        }
        note_rev(s, jint(j, "header.revision"));
        *ret = j;
        return 0;
}

/* ---- reads ---- */

static int64_t etcd_revision(struct store *base)
{
        struct etcd_store *s = ES(base);
        _cleanup_json_ json_t *req = json_pack("{s:o, s:b}", "key", jb64("", 1), "count_only", 1);
        _cleanup_json_ json_t *resp = NULL;
        if (call(s, "/v3/kv/range", req, true, &resp, NULL) < 0)
                return __atomic_load_n(&s->rev, __ATOMIC_ACQUIRE);
        return jint(resp, "header.revision");
}

static int etcd_get(struct store *base, const char *key, struct store_kv *ret, struct error *err)
{
        struct etcd_store *s = ES(base);
        _cleanup_json_ json_t *req = json_pack("{s:o}", "key", jb64(key, strlen(key)));
        _cleanup_json_ json_t *resp = NULL;
        int r = call(s, "/v3/kv/range", req, true, &resp, err);
        if (r < 0)
                return r;
        json_t *kvs = kjson_get(resp, "kvs");
        if (!json_is_array(kvs) || json_array_size(kvs) == 0)
                return error_set(err, -ENOENT, "key %s not found", key);
        r = kv_from_json(json_array_get(kvs, 0), ret);
        if (r < 0)
                return error_set(err, r, "etcd: malformed key or value of %s", key);
        return 0;
}

static void list_push(struct store_list *l, size_t *cap, struct store_kv *kv)
{
        if (l->n_items == *cap) {
                *cap = *cap ? *cap * 2 : 16;
                l->items = xrealloc(l->items, *cap * sizeof(*l->items));
        }
        l->items[l->n_items++] = *kv;
}

static int etcd_list(struct store *base, const char *prefix, const char *start_after, size_t limit,
                     int64_t at_rev, struct store_list *ret, struct error *err)
{
        struct etcd_store *s = ES(base);
        struct store_list l = {.rev = at_rev};
        size_t cap = 0;
        /* The first key to read: prefix, or the key right after start_after. */
        _cleanup_free_ char *from = NULL;
        size_t from_len;
        if (start_after && *start_after && strcmp(start_after, prefix) >= 0) {
                from_len = strlen(start_after) + 1;
                from = xmalloc(from_len);
                memcpy(from, start_after, from_len); /* with its NUL: the next key */
        } else {
                from = xstrdup(prefix);
                from_len = strlen(prefix);
        }
        int r = 0;
        for (;;) {
                size_t want = ETCD_LIST_PAGE;
                if (limit && limit - l.n_items < want)
                        want = limit - l.n_items;
                _cleanup_json_ json_t *req =
                        json_pack("{s:o, s:o, s:o}", "key", jb64(from, from_len), "range_end",
                                  jrange_end(prefix), "limit", jrev(want));
                if (l.rev)
                        json_object_set_new(req, "revision", jrev(l.rev));
                _cleanup_json_ json_t *resp = NULL;
                r = call(s, "/v3/kv/range", req, true, &resp, err);
                if (r < 0)
                        goto out_fail;
                if (!l.rev)
                        l.rev = jint(resp, "header.revision");
                json_t *kvs = kjson_get(resp, "kvs");
                size_t i;
                json_t *it;
                json_array_foreach(kvs, i, it)
                {
                        struct store_kv kv = {0};
                        if (kv_from_json(it, &kv) < 0) {
                                r = error_set(err, -EIO, "etcd: malformed key or value");
                                goto out_fail;
                        }
                        list_push(&l, &cap, &kv);
                }
                bool more = kjson_bool(resp, "more", false);
                if (!more || json_array_size(kvs) == 0)
                        break;
                if (limit && l.n_items >= limit) {
                        l.more = true;
                        break;
                }
                const char *last = l.items[l.n_items - 1].key;
                free(from);
                from_len = strlen(last) + 1;
                from = xmalloc(from_len);
                memcpy(from, last, from_len);
        }
        *ret = l;
        return 0;
out_fail:
        store_list_clear(&l);
        return r;
}

static int etcd_count(struct store *base, const char *prefix, int64_t *ret, struct error *err)
{
        struct etcd_store *s = ES(base);
        _cleanup_json_ json_t *req =
                json_pack("{s:o, s:o, s:b}", "key", jb64(prefix, strlen(prefix)), "range_end",
                          jrange_end(prefix), "count_only", 1);
        _cleanup_json_ json_t *resp = NULL;
        int r = call(s, "/v3/kv/range", req, true, &resp, err);
        if (r < 0)
                return r;
        *ret = jint(resp, "count");
        return 0;
}

/* ---- writes ---- */

/* A compare on key: mod_revision == expect, or (expect 0) the key exists. */
static json_t *guard(const char *key, int64_t expect_rev)
{
        if (expect_rev)
                return json_pack("{s:s, s:s, s:o, s:o}", "result", "EQUAL", "target", "MOD", "key",
                                 jb64(key, strlen(key)), "mod_revision", jrev(expect_rev));
        return json_pack("{s:s, s:s, s:o, s:o}", "result", "GREATER", "target", "CREATE", "key",
                         jb64(key, strlen(key)), "create_revision", jrev(0));
}

/* After a failed guard: -ENOENT if the key is absent, else -ESTALE. */
static int guard_failed(const json_t *resp, const char *key, int64_t expect_rev, struct error *err)
{
        json_t *kvs =
                kjson_get(json_array_get(kjson_get(resp, "responses"), 0), "response_range.kvs");
        if (!json_is_array(kvs) || json_array_size(kvs) == 0)
                return error_set(err, -ENOENT, "key %s not found", key);
        return error_set(err, -ESTALE, "key %s: revision is %lld, expected %lld", key,
                         (long long)jint(json_array_get(kvs, 0), "mod_revision"),
                         (long long)expect_rev);
}

static json_t *range_op(const char *key)
{
        return json_pack("{s:{s:o}}", "request_range", "key", jb64(key, strlen(key)));
}

static int create_with_lease(struct etcd_store *s, const char *key, const char *value, size_t len,
                             int64_t lease, int64_t *ret_rev, struct error *err)
{
        json_t *put = json_pack("{s:{s:o, s:o}}", "request_put", "key", jb64(key, strlen(key)),
                                "value", jb64(value, len));
        if (lease)
                json_object_set_new(kjson_get(put, "request_put"), "lease", jrev(lease));
        _cleanup_json_ json_t *req =
                json_pack("{s:[{s:s, s:s, s:o, s:o}], s:[o]}", "compare", "result", "EQUAL",
                          "target", "CREATE", "key", jb64(key, strlen(key)), "create_revision",
                          jrev(0), "success", put);
        _cleanup_json_ json_t *resp = NULL;
        int r = call(s, "/v3/kv/txn", req, false, &resp, err);
        if (r < 0)
                return r;
        if (!kjson_bool(resp, "succeeded", false))
                return error_set(err, -EEXIST, "key %s already exists", key);
        if (ret_rev)
                *ret_rev = jint(resp, "header.revision");
        return 0;
}

static int etcd_create(struct store *base, const char *key, const char *value, size_t len,
                       int64_t *ret_rev, struct error *err)
{
        return create_with_lease(ES(base), key, value, len, 0, ret_rev, err);
}

/* Keys with the same TTL created within a short window share one lease, as kube-apiserver's
 * lease manager does (a lease per Event would load etcd): the lease is granted for ttl plus that
 * window (5% of ttl), so each key lives between ttl and ttl * 1.05 seconds. */
static int lease_for(struct etcd_store *s, int64_t ttl_s, bool fresh, int64_t *ret,
                     struct error *err)
{
        int64_t reuse_s = (ttl_s + 19) / 20;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        pthread_mutex_lock(&s->mu);
        bool hit = !fresh && s->lease_id && s->lease_ttl == ttl_s &&
                   now.tv_sec - s->lease_granted < reuse_s;
        int64_t id = s->lease_id;
        pthread_mutex_unlock(&s->mu);
        if (hit) {
                *ret = id;
                return 0;
        }
        _cleanup_json_ json_t *req = json_pack("{s:o}", "TTL", jrev(ttl_s + reuse_s));
        _cleanup_json_ json_t *resp = NULL;
        int r = call(s, "/v3/lease/grant", req, false, &resp, err);
        if (r < 0)
                return r;
        id = jint(resp, "ID");
        if (!id)
                return error_set(err, -EIO, "etcd lease grant: no lease ID in the reply");
        pthread_mutex_lock(&s->mu);
        s->lease_id = id;
        s->lease_ttl = ttl_s;
        s->lease_granted = now.tv_sec;
        pthread_mutex_unlock(&s->mu);
        *ret = id;
        return 0;
}

static int etcd_create_ttl(struct store *base, const char *key, const char *value, size_t len,
                           int64_t ttl_s, int64_t *ret_rev, struct error *err)
{
        struct etcd_store *s = ES(base);
        int64_t lease = 0;
        int r = lease_for(s, ttl_s, false, &lease, err);
        if (r < 0)
                return r;
        r = create_with_lease(s, key, value, len, lease, ret_rev, err);
        if (r != -ENOENT) /* ENOENT: the shared lease is gone (revoked, etcd restored) */
                return r;
        r = lease_for(s, ttl_s, true, &lease, err);
        if (r < 0)
                return r;
        return create_with_lease(s, key, value, len, lease, ret_rev, err);
}

static int etcd_update(struct store *base, const char *key, const char *value, size_t len,
                       int64_t expect_rev, int64_t *ret_rev, struct error *err)
{
        struct etcd_store *s = ES(base);
        /* ignore_lease: an update keeps the key's lease, so a TTL key still expires. */
        _cleanup_json_ json_t *req = json_pack(
                "{s:[o], s:[{s:{s:o, s:o, s:b}}], s:[o]}", "compare", guard(key, expect_rev),
                "success", "request_put", "key", jb64(key, strlen(key)), "value", jb64(value, len),
                "ignore_lease", 1, "failure", range_op(key));
        _cleanup_json_ json_t *resp = NULL;
        int r = call(s, "/v3/kv/txn", req, false, &resp, err);
        if (r < 0)
                return r;
        if (!kjson_bool(resp, "succeeded", false))
                return guard_failed(resp, key, expect_rev, err);
        if (ret_rev)
                *ret_rev = jint(resp, "header.revision");
        return 0;
}

static int etcd_remove(struct store *base, const char *key, int64_t expect_rev,
                       struct store_kv *ret_prev, struct error *err)
{
        struct etcd_store *s = ES(base);
        _cleanup_json_ json_t *req =
                json_pack("{s:[o], s:[{s:{s:o, s:b}}], s:[o]}", "compare", guard(key, expect_rev),
                          "success", "request_delete_range", "key", jb64(key, strlen(key)),
                          "prev_kv", 1, "failure", range_op(key));
        _cleanup_json_ json_t *resp = NULL;
        int r = call(s, "/v3/kv/txn", req, false, &resp, err);
        if (r < 0)
                return r;
        if (!kjson_bool(resp, "succeeded", false))
                return guard_failed(resp, key, expect_rev, err);
        if (!ret_prev)
                return 0;
        json_t *prev = json_array_get(kjson_get(json_array_get(kjson_get(resp, "responses"), 0),
                                                "response_delete_range.prev_kvs"),
                                      0);
        struct store_kv kv = {0};
        if (!prev || kv_from_json(prev, &kv) < 0)
                return error_set(err, -EIO, "etcd: delete of %s: no previous value in reply", key);
        kv.mod_rev = jint(resp, "header.revision");
        *ret_prev = kv;
        return 0;
}

static int etcd_compact(struct store *base, int64_t rev, struct error *err)
{
        struct etcd_store *s = ES(base);
        _cleanup_json_ json_t *req = json_pack("{s:o}", "revision", jrev(rev));
        _cleanup_json_ json_t *resp = NULL;
        int r = call(s, "/v3/kv/compaction", req, true, &resp, err);
        if (r == -ERANGE) /* already compacted at or past rev */
                return 0;
        return r;
}

/* ---- watch ---- */

static bool watch_stopping(struct etcd_watch *w)
{
        return __atomic_load_n(&w->base.cancelled, __ATOMIC_ACQUIRE) ||
               __atomic_load_n(&w->s->closing, __ATOMIC_ACQUIRE);
}

static int watch_cancel_hook(void *ud)
{
        return watch_stopping(ud);
}

/* A decoded event; key/value/prev_value owned (freed by decoded_clear). */
struct decoded {
        struct store_event ev;
        char *key, *value, *prev_value;
};

static void decoded_clear(struct decoded *d)
{
        free(d->key);
        free(d->value);
        free(d->prev_value);
}

/* One event object of a watch response. */
static int decode_event(const json_t *e, struct decoded *d)
{
        const char *type = kjson_str(e, "type");
        const json_t *kv = kjson_get(e, "kv");
        const json_t *prev = kjson_get(e, "prev_kv");
        size_t value_len = 0, prev_len = 0;
        *d = (struct decoded){.ev.rev = jint(kv, "mod_revision")};
        if (d->ev.rev <= 0 || b64_decode(kjson_str(kv, "key"), &d->key, NULL) < 0)
                return -EPROTO;
        if (prev) {
                const char *pv = kjson_str(prev, "value");
                if (b64_decode(pv ? pv : "", &d->prev_value, &prev_len) < 0)
                        return -EPROTO;
        }
        d->ev.key = d->key;
        if (type && strcmp(type, "DELETE") == 0) {
                d->ev.type = STORE_EVENT_DELETE;
                d->ev.value = d->prev_value ? d->prev_value : "";
                d->ev.value_len = prev_len;
                d->ev.create_rev = jint(prev, "create_revision");
                return 0;
        }
        const char *v = kjson_str(kv, "value");
        if (b64_decode(v ? v : "", &d->value, &value_len) < 0)
                return -EPROTO;
        d->ev.type = STORE_EVENT_PUT;
        d->ev.value = d->value;
        d->ev.value_len = value_len;
        d->ev.create_rev = jint(kv, "create_revision");
        if (prev && jint(kv, "version") > 1) {
                d->ev.prev_value = d->prev_value;
                d->ev.prev_len = prev_len;
        }
        return 0;
}

/* The events of one watch response. etcd keeps the events of one revision in one response (a
 * transaction, such as a lease revocation deleting several keys, gives several events with the
 * same revision), so last_rev advances per response and a resumed stream starts after it: not
 * store_watch_deliver, which drops a second event of the same revision. All are decoded before
 * any is delivered, so a malformed response (reconnect, resume) never delivers twice. */
static int handle_events(struct etcd_watch *w, const json_t *events)
{
        size_t n = json_array_size(events);
        struct decoded *d = xcalloc(n, sizeof(*d));
        int r = 0;
        for (size_t i = 0; i < n && r == 0; i++)
                r = decode_event(json_array_get(events, i), &d[i]);
        if (r == 0) {
                pthread_mutex_lock(&w->cbmu);
                int64_t after = w->base.last_rev, max = after;
                for (size_t i = 0; i < n && !w->base.cancelled; i++) {
                        if (d[i].ev.rev <= after)
                                continue;
                        w->base.fn(&d[i].ev, w->base.userdata);
                        max = MAX(max, d[i].ev.rev);
                }
                w->base.last_rev = max;
                pthread_mutex_unlock(&w->cbmu);
        }
        for (size_t i = 0; i < n; i++)
                decoded_clear(&d[i]);
        free(d);
        return r;
}

/* One line of the watch stream. Returns 0 to go on, 1 to end the stream (compacted: the watch
 * is dead), -EAGAIN to reconnect. */
static int handle_line(struct etcd_watch *w, const char *line, size_t len)
{
        _cleanup_json_ json_t *j = NULL;
        if (kjson_parse(line, len, 0, &j, NULL) < 0)
                return -EAGAIN;
        json_t *res = kjson_get(j, "result");
        if (!res) {
                log_debug("store", "etcd watch %s: %.200s", w->base.prefix, line);
                return -EAGAIN;
        }
        if (kjson_bool(res, "canceled", false)) {
                int64_t compact = jint(res, "compact_revision");
                if (compact <= 0)
                        return -EAGAIN;
                struct store_event ev = {.type = STORE_EVENT_ERROR,
                                         .key = w->base.prefix,
                                         .value = "",
                                         .rev = compact,
                                         .error = -ERANGE};
                pthread_mutex_lock(&w->cbmu);
                if (!w->base.cancelled)
                        w->base.fn(&ev, w->base.userdata);
                pthread_mutex_unlock(&w->cbmu);
                w->dead = true;
                return 1;
        }
        if (kjson_bool(res, "created", false)) {
                w->created = true;
                return 0;
        }
        json_t *events = kjson_get(res, "events");
        if (json_is_array(events) && json_array_size(events) > 0) {
                if (handle_events(w, events) < 0)
                        return -EAGAIN;
                return watch_stopping(w) ? 1 : 0;
        }
        /* A progress notification: every event up to its revision has been sent. */
        int64_t rev = jint(res, "header.revision");
        pthread_mutex_lock(&w->cbmu);
        if (w->created && rev > w->base.last_rev)
                w->base.last_rev = rev;
        pthread_mutex_unlock(&w->cbmu);
        return 0;
}

static int on_stream_data(const char *data, size_t len, void *ud)
{
        struct etcd_watch *w = ud;
        if (watch_stopping(w))
                return 1;
        if (len > ETCD_WATCH_LINE_MAX - w->line_len)
                return -E2BIG;
        if (w->line_len + len + 1 > w->line_cap) {
                size_t cap = w->line_cap ? w->line_cap : 16384;
                while (cap < w->line_len + len + 1)
                        cap *= 2;
                w->line = xrealloc(w->line, cap);
                w->line_cap = cap;
        }
        memcpy(w->line + w->line_len, data, len);
        w->line_len += len;
        size_t done = 0;
        for (;;) {
                char *nl = memchr(w->line + done, '\n', w->line_len - done);
                if (!nl)
                        break;
                size_t n = (size_t)(nl - (w->line + done));
                if (n > 0) {
                        int r = handle_line(w, w->line + done, n);
                        if (r != 0)
                                return r;
                }
                done += n + 1;
        }
        memmove(w->line, w->line + done, w->line_len - done);
        w->line_len -= done;
        return 0;
}

int store_etcd_watch_feed(const char *prefix, int64_t from_rev, const char *data, size_t len,
                          size_t chunk, store_watch_fn fn, void *userdata)
{
        struct etcd_store s = {0};
        struct etcd_watch w = {.s = &s};
        w.base.prefix = (char *)prefix;
        w.base.prefix_len = strlen(prefix);
        w.base.fn = fn;
        w.base.userdata = userdata;
        w.base.last_rev = from_rev;
        pthread_mutex_init(&w.cbmu, NULL);
        int r = 0;
        for (size_t off = 0; off < len && r == 0;) {
                size_t n = chunk ? MIN(chunk, len - off) : len;
                r = on_stream_data(data + off, n, &w);
                off += n;
        }
        pthread_mutex_destroy(&w.cbmu);
        free(w.line);
        return r;
}

static void watch_unref_locked(struct etcd_store *s, struct etcd_watch *w)
{
        if (--w->refs > 0)
                return;
        for (struct etcd_watch **p = &s->watches; *p; p = &(*p)->next) {
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        }
        pthread_mutex_destroy(&w->cbmu);
        free(w->base.prefix);
        free(w->line);
        free(w);
}

static void sleep_ms_unless_stopping(struct etcd_watch *w, long ms)
{
        for (long t = 0; t < ms && !watch_stopping(w); t += 20) {
                struct timespec ts = {0, 20 * 1000000L};
                nanosleep(&ts, NULL);
        }
}

static void *watch_thread(void *ud)
{
        struct etcd_watch *w = ud;
        struct etcd_store *s = w->s;
        tls_watch = w;
        _cleanup_(http_client_freep) struct http_client *c = NULL;
        struct error err = {0};
        long backoff = ETCD_BACKOFF_MIN_MS;
        struct http_client_options opts = s->opts;
        opts.timeout_ms = 0;
        if (http_client_new(&opts, &c, &err) < 0) {
                log_warn("store", "etcd watch: %s", error_msg(&err));
                c = NULL;
        }
        if (c)
                http_client_set_cancel(c, watch_cancel_hook, w);
        while (c && !watch_stopping(w) && !w->dead) {
                pthread_mutex_lock(&w->cbmu);
                int64_t from = w->base.last_rev + 1;
                pthread_mutex_unlock(&w->cbmu);
                _cleanup_json_ json_t *req =
                        json_pack("{s:{s:o, s:o, s:o, s:b, s:b}}", "create_request", "key",
                                  jb64(w->base.prefix, w->base.prefix_len), "range_end",
                                  jrange_end(w->base.prefix), "start_revision", jrev(from),
                                  "prev_kv", 1, "progress_notify", 1);
                _cleanup_free_ char *body = kjson_dump(req);
                size_t i = preferred(s);
                _cleanup_free_ char *url = xasprintf("%s/v3/watch", s->endpoints[i]);
                w->created = false;
                w->line_len = 0;
                long status = 0;
                err = (struct error){0};
                int r = http_client_stream(c, "POST", url, "application/json", body, strlen(body),
                                           on_stream_data, w, &status, NULL, &err);
                if (watch_stopping(w) || w->dead)
                        break;
                if (w->created && r == 0) {
                        backoff = ETCD_BACKOFF_MIN_MS; /* ended by the server after working */
                        continue;
                }
                if (w->created)
                        backoff = ETCD_BACKOFF_MIN_MS;
                log_debug("store", "etcd watch %s at %s: stream ended (%d, HTTP %ld): %s",
                          w->base.prefix, url, r, status, error_msg(&err));
                if (s->n_endpoints > 1 && !w->created) {
                        pthread_mutex_lock(&s->mu);
                        if (s->cur == i)
                                s->cur = (i + 1) % s->n_endpoints;
                        pthread_mutex_unlock(&s->mu);
                }
                sleep_ms_unless_stopping(w, backoff);
                backoff = MIN(backoff * 2, ETCD_BACKOFF_MAX_MS);
        }
        pthread_mutex_lock(&s->mu);
        s->n_threads--;
        w->thread_running = false;
        watch_unref_locked(s, w);
        if (s->n_threads == 0)
                pthread_cond_broadcast(&s->threads_done);
        pthread_mutex_unlock(&s->mu);
        return NULL;
}

static int etcd_watch(struct store *base, const char *prefix, int64_t from_rev, store_watch_fn fn,
                      void *userdata, struct store_watch **ret, struct error *err)
{
        struct etcd_store *s = ES(base);
        if (!fn)
                return error_set(err, -EINVAL, "store: watch without a callback");
        /* Fail at once if from_rev is compacted (as the SQLite backend does): a range at from_rev
         * fails exactly when from_rev < the compacted revision. A future revision is fine. */
        _cleanup_json_ json_t *req = json_pack("{s:o, s:b, s:o}", "key", jb64("", 1), "count_only",
                                               1, "revision", jrev(from_rev > 0 ? from_rev : 1));
        _cleanup_json_ json_t *resp = NULL;
        struct error cerr = {0};
        int r = call(s, "/v3/kv/range", req, true, &resp, &cerr);
        if (r == -ERANGE)
                return error_set(err, -ERANGE, "revision %lld has been compacted",
                                 (long long)from_rev);
        if (r < 0 && r != -EINVAL) {
                if (err)
                        *err = cerr;
                return r;
        }

        struct etcd_watch *w = xcalloc(1, sizeof(*w));
        w->s = s;
        w->base.store = base;
        w->base.prefix = xstrdup(prefix);
        w->base.prefix_len = strlen(prefix);
        w->base.fn = fn;
        w->base.userdata = userdata;
        w->base.last_rev = from_rev;
        pthread_mutex_init(&w->cbmu, NULL);
        w->refs = 2;

        pthread_mutex_lock(&s->mu);
        if (s->closing) {
                pthread_mutex_unlock(&s->mu);
                pthread_mutex_destroy(&w->cbmu);
                free(w->base.prefix);
                free(w);
                return error_set(err, -ESHUTDOWN, "store: closing");
        }
        w->next = s->watches;
        s->watches = w;
        s->n_threads++;
        w->thread_running = true;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t t;
        r = -pthread_create(&t, &attr, watch_thread, w);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                s->n_threads--;
                w->thread_running = false;
                w->refs = 1;
                watch_unref_locked(s, w);
                pthread_mutex_unlock(&s->mu);
                return error_set(err, r, "store: start watch thread: %s", strerror(-r));
        }
        pthread_mutex_unlock(&s->mu);
        *ret = &w->base;
        return 0;
}

static void etcd_watch_cancel(struct store_watch *base)
{
        struct etcd_watch *w = (struct etcd_watch *)base;
        struct etcd_store *s = w->s;
        if (tls_watch == w) {
                /* From inside its own callback: cbmu is held by this thread. */
                __atomic_store_n(&w->base.cancelled, true, __ATOMIC_RELEASE);
        } else {
                pthread_mutex_lock(&w->cbmu);
                __atomic_store_n(&w->base.cancelled, true, __ATOMIC_RELEASE);
                pthread_mutex_unlock(&w->cbmu);
        }
        pthread_mutex_lock(&s->mu);
        watch_unref_locked(s, w);
        pthread_mutex_unlock(&s->mu);
}

/* ---- open / close ---- */

static void etcd_close(struct store *base)
{
        struct etcd_store *s = ES(base);
        pthread_mutex_lock(&s->mu);
        __atomic_store_n(&s->closing, true, __ATOMIC_RELEASE);
        while (s->n_threads > 0)
                pthread_cond_wait(&s->threads_done, &s->mu);
        /* Watches their owners did not cancel: freed here, as the SQLite backend does. */
        while (s->watches) {
                s->watches->refs = 1;
                watch_unref_locked(s, s->watches);
        }
        while (s->idle) {
                struct pooled_client *p = s->idle;
                s->idle = p->next;
                http_client_free(p->http);
                free(p);
        }
        pthread_mutex_unlock(&s->mu);
        for (size_t i = 0; i < s->n_endpoints; i++)
                free(s->endpoints[i]);
        free(s->endpoints);
        free(s->ca_file);
        free(s->cert_file);
        free(s->key_file);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->threads_done);
        free(s);
}

static int ping(struct etcd_store *s, struct error *err)
{
        _cleanup_json_ json_t *req = json_pack("{s:o, s:b}", "key", jb64("", 1), "count_only", 1);
        _cleanup_json_ json_t *resp = NULL;
        return call(s, "/v3/kv/range", req, true, &resp, err);
}

static const struct store_ops etcd_ops;

bool store_etcd_is_endpoint(const char *endpoint)
{
        return endpoint &&
               (strncmp(endpoint, "http://", 7) == 0 || strncmp(endpoint, "https://", 8) == 0);
}

int store_etcd_open(const char *endpoints, const struct store_options *opts, struct store **ret,
                    struct error *err)
{
        struct etcd_store *s = xcalloc(1, sizeof(*s));
        s->base.ops = &etcd_ops;
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->threads_done, NULL);
        int r = 0;
        _cleanup_free_ char *list = xstrdup(endpoints ? endpoints : "");
        char *save = NULL;
        for (char *e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
                while (*e == ' ')
                        e++;
                size_t n = strlen(e);
                while (n > 0 && (e[n - 1] == '/' || e[n - 1] == ' '))
                        e[--n] = 0;
                if (!n)
                        continue;
                if (!store_etcd_is_endpoint(e) || !e[strcspn(e, ":") + 3]) {
                        r = error_set(err, -EINVAL,
                                      "datastore endpoint %s: expected http(s)://host:port", e);
                        goto out_close;
                }
                if (s->n_endpoints == ETCD_MAX_ENDPOINTS) {
                        r = error_set(err, -EINVAL, "datastore endpoint: more than %d etcd URLs",
                                      ETCD_MAX_ENDPOINTS);
                        goto out_close;
                }
                s->endpoints = xrealloc(s->endpoints, (s->n_endpoints + 1) * sizeof(char *));
                s->endpoints[s->n_endpoints++] = xstrdup(e);
        }
        if (!s->n_endpoints) {
                r = error_set(err, -EINVAL, "datastore endpoint: no etcd URL");
                goto out_close;
        }
        if (opts) {
                s->ca_file = opts->ca_file ? xstrdup(opts->ca_file) : NULL;
                s->cert_file = opts->cert_file ? xstrdup(opts->cert_file) : NULL;
                s->key_file = opts->key_file ? xstrdup(opts->key_file) : NULL;
        }
        s->opts = (struct http_client_options){
                .ca_file = s->ca_file,
                .cert_file = s->cert_file,
                .key_file = s->key_file,
                .connect_timeout_ms = ETCD_CONNECT_TIMEOUT_MS,
                .timeout_ms = ETCD_REQUEST_TIMEOUT_MS,
        };
        /* Fail fast when no endpoint answers: the server must not start on a dead datastore. */
        r = ping(s, err);
        if (r < 0)
                goto out_close;
        *ret = &s->base;
        return 0;
out_close:
        etcd_close(&s->base);
        return r;
}

static const struct store_ops etcd_ops = {
        .name = "etcd",
        .close = etcd_close,
        .revision = etcd_revision,
        .get = etcd_get,
        .list = etcd_list,
        .count = etcd_count,
        .create = etcd_create,
        .create_ttl = etcd_create_ttl,
        .update = etcd_update,
        .remove = etcd_remove,
        .watch = etcd_watch,
        .watch_cancel = etcd_watch_cancel,
        .compact = etcd_compact,
};
