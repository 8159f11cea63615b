/* store-internal.h — the backend function table behind store.h, and the watcher registry
 * (watch.c) the backends share.
 *
 * A backend allocates a struct that begins with `struct store` (ops pointer) and fills a
 * `struct store_ops`; store.c forwards every public call through it. Backends: store-sqlite.c
 * (uses the watcher hub below) and store-etcd.c (one etcd watch stream and thread per
 * store_watch; it reuses struct store_watch but no hub: each stream feeds exactly one watcher,
 * and etcd may send several events with one revision, which store_watch_deliver would drop). */
#pragma once
#include <pthread.h>

#include "store/store.h"

/* Largest value accepted by create/update (-E2BIG beyond). */
#define STORE_VALUE_MAX (32u * 1024 * 1024)
/* Largest key accepted (-EINVAL beyond). */
#define STORE_KEY_MAX 4096u

struct store_ops {
        const char *name;
        void (*close)(struct store *s);
        int64_t (*revision)(struct store *s);
        int (*get)(struct store *s, const char *key, struct store_kv *ret, struct error *err);
        int (*list)(struct store *s, const char *prefix, const char *start_after, size_t limit,
                    int64_t at_rev, struct store_list *ret, struct error *err);
        int (*count)(struct store *s, const char *prefix, int64_t *ret, struct error *err);
        int (*create)(struct store *s, const char *key, const char *value, size_t len,
                      int64_t *ret_rev, struct error *err);
        /* NULL if the backend has no leases (store_create_ttl then fails -EOPNOTSUPP). */
        int (*create_ttl)(struct store *s, const char *key, const char *value, size_t len,
                          int64_t ttl_s, int64_t *ret_rev, struct error *err);
        int (*update)(struct store *s, const char *key, const char *value, size_t len,
                      int64_t expect_rev, int64_t *ret_rev, struct error *err);
        int (*remove)(struct store *s, const char *key, int64_t expect_rev,
                      struct store_kv *ret_prev, struct error *err);
        int (*watch)(struct store *s, const char *prefix, int64_t from_rev, store_watch_fn fn,
                     void *userdata, struct store_watch **ret, struct error *err);
        void (*watch_cancel)(struct store_watch *w);
        int (*compact)(struct store *s, int64_t rev, struct error *err);
        /* NULL: every committed write is durable (durable revision = revision, on_durable and
         * wait_durable return at once). */
        int64_t (*durable_revision)(struct store *s);
        void (*on_durable)(struct store *s, int64_t rev, store_durable_fn fn, void *userdata);
        void (*wait_durable)(struct store *s, int64_t rev);
};

/* Whether the calling thread asked for deferred durability (store_thread_set_deferred). */
bool store_thread_deferred(void);

/* Every backend's store struct starts with this. */
struct store {
        const struct store_ops *ops;
};

/* ---- watch.c: watcher registry and fan-out ----
 * The hub is NOT locked internally: the backend protects it with the lock that serializes its
 * commits (so events are dispatched in revision order and registration cannot interleave with a
 * dispatch). */
struct store_watch {
        struct store *store;
        char *prefix;
        size_t prefix_len;
        store_watch_fn fn;
        void *userdata;
        int64_t last_rev; /* highest revision delivered; later events <= it are dropped (no dups) */
        bool cancelled;   /* cancelled from inside its own callback: freed after the dispatch */
        struct store_watch *prev, *next;
};

struct store_watch_hub {
        struct store_watch *head;
        size_t n;
        bool dispatching;          /* a dispatch is running ... */
        pthread_t dispatch_thread; /* ... on this thread */
};

struct store_watch *store_watch_new(struct store *s, const char *prefix, store_watch_fn fn,
                                    void *userdata);
void store_watch_free(struct store_watch *w);
/* Deliver ev to w if the key matches w's prefix and ev->rev > w->last_rev. */
void store_watch_deliver(struct store_watch *w, const struct store_event *ev);

void store_watch_hub_add(struct store_watch_hub *h, struct store_watch *w);
/* Unlink and free w; if called from inside a dispatch on the same thread, only mark it. */
void store_watch_hub_remove(struct store_watch_hub *h, struct store_watch *w);
void store_watch_hub_dispatch(struct store_watch_hub *h, const struct store_event *ev);
/* Free the watchers cancelled from inside a callback (dispatch does this itself). */
void store_watch_hub_reap(struct store_watch_hub *h);
/* Free every remaining watcher (store close). */
void store_watch_hub_clear(struct store_watch_hub *h);

/* ---- backends ---- */
/* path: filesystem path of the database file (parent directories are created). */
int store_sqlite_open(const char *path, struct store **ret, struct error *err);
/* Tests: hold = true stops the SQLite sync thread from syncing (commits stay non-durable, their
 * events queued) until called with false. */
void store_sqlite_hold_sync(struct store *s, bool hold);
/* Tests: how many times the SQLite sync thread fdatasync()ed the WAL. */
uint64_t store_sqlite_syncs(struct store *s);
/* endpoints: "http(s)://host:port[,...]"; opts may be NULL. */
int store_etcd_open(const char *endpoints, const struct store_options *opts, struct store **ret,
                    struct error *err);
/* endpoint starts with http:// or https:// */
bool store_etcd_is_endpoint(const char *endpoint);
/* The etcd watch-stream decoder without etcd or a thread (tests, fuzz-etcd-watch): feed bytes of
 * a /v3/watch response body (one JSON object per line; a partial last line is dropped), in pieces
 * of chunk bytes (0: at once) as the network would, to a watch on prefix from from_rev; its
 * events, in order and without duplicates, go to fn. Returns 0, 1
 * (the stream ended the watch: compacted, after a STORE_EVENT_ERROR), -EAGAIN (malformed: the
 * real watch reconnects and resumes) or -E2BIG (a line over the cap). */
int store_etcd_watch_feed(const char *prefix, int64_t from_rev, const char *data, size_t len,
                          size_t chunk, store_watch_fn fn, void *userdata);

/* Byte-wise bounds of a prefix range: keys k with prefix p satisfy p <= k < *ret_end, where
 * *ret_end is a new string of *ret_end_len bytes; returns false (and *ret_end = NULL) when the
 * range has no upper bound (empty prefix or all 0xff bytes). */
bool store_prefix_end(const char *prefix, char **ret_end, size_t *ret_end_len);
