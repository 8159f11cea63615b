/* store.h — the revisioned key-value store everything in the cluster lives in.
 *
 * One cluster-wide revision counter increases by one on every successful write (create, update,
 * delete). Keys are strings such as "/registry/pods/default/web"; values are opaque bytes (the
 * API server stores objects as JSON text WITHOUT metadata.resourceVersion and sets it from
 * mod_rev when reading, as kube-apiserver does with etcd).
 *
 * Backends sit behind a function table (store-internal.h): store-sqlite.c (embedded SQLite,
 * WAL, group commit with a sync thread, see "Durability" below) and store-etcd.c (etcd v3
 * through its JSON gateway; endpoint "http(s)://h1:2379,http(s)://h2:2379").
 *
 * Durability: a write is *committed* when store_create/update/delete has its revision (reads
 * see it) and *durable* once store_durable_revision() >= that revision (it survives kill -9 and
 * power loss). By default the write functions return only once the write is durable. A thread
 * that called store_thread_set_deferred(true) (the API server's event loop) gets them back as
 * soon as the write is committed and must not acknowledge it to anyone before it is durable
 * (store_on_durable). Watchers only ever see durable writes. etcd: committed == durable.
 *
 * Threads: every function may be called from any thread; the store serializes writers itself.
 * SQLite: watch callbacks run on the store's sync thread once the events are durable, in
 * revision order, and must not call back into the store's write functions.
 * etcd: every watch has its own thread (holding one etcd watch stream); its callbacks, also the
 * history replayed at the start, run on that thread, in revision order, never two at a time for
 * one watch; they may call any store function (writes too). Callers that serve watches from an
 * event loop must hand the events over to it.
 *
 * Errors (negative errno, see common/error.h): -ENOENT key absent; -EEXIST create of a present
 * key; -ESTALE mod-revision guard failed; -ERANGE revision compacted (HTTP 410 Expired);
 * -EIO backend failure (message in err). */
#pragma once
#include "common/base.h"
#include "common/error.h"

struct store;
struct store_watch;

struct store_kv {
        char *key;   /* owned */
        char *value; /* owned, NUL-terminated for convenience; value_len excludes the NUL */
        size_t value_len;
        int64_t create_rev;
        int64_t mod_rev;
};
void store_kv_clear(struct store_kv *kv); /* frees key/value, zeroes the struct */

struct store_list {
        struct store_kv *items; /* owned array */
        size_t n_items;
        int64_t rev; /* the store revision the list is consistent at */
        bool more;   /* true if limit cut the result */
};
void store_list_clear(struct store_list *l);

/* Open the store named by endpoint: NULL or "" (/var/lib/timonel/server/db/state.db),
 * "sqlite:///abs/path.db" or a plain path (SQLite; parent directories are created 0700).
 * Fails (never silently starts empty): -EIO for a corrupt file or one that is not a SQLite
 * database (the message names the file), -EBUSY if another process has it open, -EINVAL for an
 * unknown endpoint scheme, -errno (message names the path) for an unusable directory. */
int store_open(const char *endpoint, struct store **ret, struct error *err);

/* Options for store_open_with. Strings are borrowed for the call. */
struct store_options {
        /* etcd over https: CA bundle to verify etcd's certificate (NULL: system trust), client
         * certificate and key for mutual TLS (NULL: none). Ignored by SQLite. */
        const char *ca_file;
        const char *cert_file;
        const char *key_file;
};

/* store_open with options (opts may be NULL). Also accepts etcd endpoints: a comma-separated
 * list of http:// or https:// URLs of etcd members; fails (-EIO, message names the endpoint) if
 * none answers, -EINVAL for a malformed list. Requests fail over to the next member on a
 * connection error; watches reconnect by themselves (backoff up to 2 s) and resume after the
 * last delivered revision. While no member answers, calls fail with -EIO. */
int store_open_with(const char *endpoint, const struct store_options *opts, struct store **ret,
                    struct error *err);
void store_close(struct store *s);

/* The current (latest committed) revision. */
int64_t store_revision(struct store *s);

int store_get(struct store *s, const char *key, struct store_kv *ret, struct error *err);

/* Keys with the given prefix in key order, starting strictly after start_after (NULL = from the
 * first), at most limit items (0 = no limit). at_rev = 0 lists the current state; a non-zero
 * at_rev lists the state as of that revision (for consistent pagination), -ERANGE if compacted,
 * -EINVAL if later than the current revision. ret->rev is at_rev, or the current revision the
 * listing was read at. */
int store_list(struct store *s, const char *prefix, const char *start_after, size_t limit,
               int64_t at_rev, struct store_list *ret, struct error *err);

/* Number of keys with the prefix. */
int store_count(struct store *s, const char *prefix, int64_t *ret, struct error *err);

/* Create key; -EEXIST if present. *ret_rev = the new revision. */
int store_create(struct store *s, const char *key, const char *value, size_t len, int64_t *ret_rev,
                 struct error *err);

/* Create key attached to a lease of ttl_s seconds (> 0): the key is deleted (a DELETE event)
 * when the lease expires, like kube-apiserver's Events (--event-ttl, 1 h). Updates keep the
 * lease; a delete ends it. etcd: a lease shared by the keys created within 5% of ttl (they live
 * ttl to 1.05 * ttl). SQLite: an expiry table and a thread deleting due keys every 0.5 s (they
 * live ttl to ttl + 1.5 s; the deadline is wall-clock time and survives restarts). -EOPNOTSUPP
 * if the backend has no leases, otherwise as store_create. */
int store_create_ttl(struct store *s, const char *key, const char *value, size_t len, int64_t ttl_s,
                     int64_t *ret_rev, struct error *err);

/* Replace key's value if its mod_rev equals expect_rev (0 = unconditional). -ENOENT if absent,
 * -ESTALE if the guard fails. *ret_rev = the new revision. */
int store_update(struct store *s, const char *key, const char *value, size_t len,
                 int64_t expect_rev, int64_t *ret_rev, struct error *err);

/* Delete key if its mod_rev equals expect_rev (0 = unconditional). On success ret_prev (may be
 * NULL) receives the deleted value with mod_rev set to the revision of the deletion. */
int store_delete(struct store *s, const char *key, int64_t expect_rev, struct store_kv *ret_prev,
                 struct error *err);

/* STORE_EVENT_ERROR ends a watch (etcd only, so far): ev->error says why (-ERANGE: the revision
 * to resume from was compacted while the watch was broken; the watcher must relist, the API
 * server answers 410 Expired), ev->rev is the compacted revision, ev->key the watch prefix,
 * value "". Nothing follows it; the owner still calls store_watch_cancel. */
enum store_event_type { STORE_EVENT_PUT = 1, STORE_EVENT_DELETE = 2, STORE_EVENT_ERROR = 3 };

struct store_event {
        enum store_event_type type;
        const char *key;
        const char *value; /* PUT: the new value; DELETE: the last value before deletion */
        size_t value_len;
        const char *prev_value; /* PUT of an existing key: the value before; else NULL */
        size_t prev_len;
        int64_t rev;        /* revision of this event (mod_rev of the put / the deletion) */
        int64_t create_rev; /* create revision of the key */
        int error;          /* STORE_EVENT_ERROR: negative errno; else 0 */
};

/* Called for each event; borrowed pointers valid only during the call. Live events are delivered
 * with the store's writer lock held: keep the callback short (copy/queue and return). A callback
 * may read the store and may cancel its own watch; a write (or compact/watch) from inside it fails
 * with -EDEADLK. */
typedef void (*store_watch_fn)(const struct store_event *ev, void *userdata);

/* Watch keys with prefix for events with revision > from_rev (pass store_revision() for "from
 * now"). Events already in the history are delivered from inside this call (in order, on the
 * caller's thread), then live ones as they commit, with no gap and no duplicate. -ERANGE if
 * from_rev is older than the compacted history. store_watch_cancel frees w; after it returns the
 * callback is not running and will not be called again. It may also be called from inside w's
 * own callback. etcd: the history is delivered on the watch's thread, not from inside this call;
 * -ERANGE is still returned here when from_rev is already compacted. */
int store_watch(struct store *s, const char *prefix, int64_t from_rev, store_watch_fn fn,
                void *userdata, struct store_watch **ret, struct error *err);
void store_watch_cancel(struct store_watch *w);

/* The highest revision known durable (<= store_revision()). */
int64_t store_durable_revision(struct store *s);

/* Call fn(userdata) once revision rev is durable: at once on this thread if it already is,
 * otherwise later on the store's sync thread (keep it short: post to your own thread). Never
 * dropped: store_close makes everything durable and runs what is pending. */
typedef void (*store_durable_fn)(void *userdata);
void store_on_durable(struct store *s, int64_t rev, store_durable_fn fn, void *userdata);

/* Block until revision rev is durable (at most rev = store_revision()). */
void store_wait_durable(struct store *s, int64_t rev);

/* For the calling thread: deferred = true makes its writes return once committed, without
 * waiting for durability (see "Durability" at the top). */
void store_thread_set_deferred(bool deferred);
/* The revision of the calling thread's latest write (create, update, delete), 0 if none. */
int64_t store_thread_last_write(void);

/* Drop history older than rev: watching from a revision < rev or listing at_rev < rev then
 * fails with -ERANGE. No-op if already compacted that far; -EINVAL if rev > store_revision().
 * SQLite also compacts by itself (keeping the last 10,000 revisions); etcd compacts only when
 * asked (the API server does, every 5 minutes, as kube-apiserver does). */
int store_compact(struct store *s, int64_t rev, struct error *err);
