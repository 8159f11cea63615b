/* cacher.h — the API server's watch cache (like kube-apiserver's cacher).
 *
 * One store watch on "/registry/" feeds every resource: its callback may run on ANY thread (the
 * SQLite writer, an etcd watch thread); it only copies the event into a queue under a mutex and
 * calls the configured wake function (the API server posts cacher_drain to its loop). Everything
 * else runs on the loop thread: cacher_drain decodes each queued event ONCE (kind, apiVersion and
 * metadata.resourceVersion injected, serialized to JSON bytes), updates the current objects of
 * its resource, appends it to that resource's bounded ring of recent events and fans it out to
 * the registered watches.
 *
 * Why one watch for all resources rather than one per resource: every store revision is one
 * event under /registry/, so the cache's revision equals the store's once it has caught up. That
 * makes consistent reads from the cache exact (wait until cacher_revision >= store_revision,
 * Kubernetes' ConsistentListFromCache) and bookmarks valid for every resource, and it costs one
 * etcd watch stream instead of one per resource.
 *
 * Each served resource has its own cache, also when two group-versions share one storage prefix
 * (events and events.k8s.io/v1 events): the bytes carry the kind and apiVersion of the one asked.
 *
 * Objects and events are reference counted and immutable once built: LIST copies an object's
 * bytes into the response and watches send one pre-built line per event type, so nothing is
 * re-encoded per client (except for Table watchers).
 *
 * If the store watch ends (STORE_EVENT_ERROR: the revision to resume from was compacted while
 * the backend was away), the cache relists and rewatches from the current revision (retried by
 * each cacher_drain until it succeeds), every registered watch receives CACHER_EVENT_EXPIRED
 * (its clients get 410 Expired and relist) and the rings restart at the new revision. */
#pragma once
#include <jansson.h>

#include "api/scheme.h"
#include "common/error.h"
#include "store/store.h"

/* Recent events kept per resource ring, and at most this many object bytes in it. */
#define CACHER_RING_MAX 1000
#define CACHER_RING_BYTES_MAX (64u * 1024 * 1024)
#define CACHER_KEY_PREFIX "/registry/"

struct cacher;
struct cacher_watch;

/* A cached object (loop thread only; immutable once built). */
struct cacher_obj {
        int refs;
        char *key;
        char *json; /* the object: kind, apiVersion, metadata.resourceVersion set; NUL-ended */
        size_t len;
        json_t *sel; /* what selectors read: metadata.{name,namespace,labels} + scalar fields of
                        the top two levels (every field selector path is one of those) */
        int64_t rev; /* the resourceVersion in json */
};
struct cacher_obj *cacher_obj_ref(struct cacher_obj *o);
void cacher_obj_unref(struct cacher_obj *o);
/* Build from a stored value (kind/apiVersion from r, resourceVersion rev). NULL if the value is
 * not a JSON object. */
struct cacher_obj *cacher_obj_new(const struct scheme_resource *r, const char *key,
                                  const char *value, size_t len, int64_t rev);
/* A new parsed copy of the object (for Tables); caller owns it. NULL only on corrupt bytes. */
json_t *cacher_obj_json(const struct cacher_obj *o);

enum cacher_event_type {
        CACHER_EVENT_PUT = 1,
        CACHER_EVENT_DELETE = 2,
        CACHER_EVENT_EXPIRED = 3, /* the watch's history is gone (relist): send 410 and end */
};
/* What a client watch sends for an event, depending on its selectors. */
enum cacher_line_type { CACHER_LINE_ADDED, CACHER_LINE_MODIFIED, CACHER_LINE_DELETED };

struct cacher_event {
        int refs;
        enum cacher_event_type type;
        int64_t rev;
        struct cacher_obj *obj;  /* PUT: the new state; DELETE: the last state, rev = deletion */
        struct cacher_obj *prev; /* PUT of an existing key: the state before; else NULL */
        char *lines[3];          /* built on first use: {"type":T,"object":...}\n */
        size_t line_lens[3];
};
/* The newline-terminated watch line for ev as type t, built once per event (borrowed: valid while
 * the event is referenced). */
const char *cacher_event_line(struct cacher_event *ev, enum cacher_line_type t, size_t *ret_len);

struct cacher_config {
        struct store *store; /* borrowed; NULL: no store (tests feed cacher_store_event) */
        /* Called from any thread when events were queued: arrange for cacher_drain to run on the
         * loop thread soon. May be NULL (the owner drains by itself). */
        void (*wake)(void *ud);
        void *wake_ud;
        size_t ring_max;       /* events per resource; 0 = CACHER_RING_MAX */
        size_t ring_bytes_max; /* object bytes per resource ring; 0 = CACHER_RING_BYTES_MAX */
};

/* Create the cache: with a store, list "/registry/" into it and start the store watch from the
 * listing's revision. Errors: the store's (-EIO ...), message in err. */
int cacher_new(const struct cacher_config *cfg, struct cacher **ret, struct error *err);
/* Cancel the store watch, then free everything. Registered watches must be stopped first. */
void cacher_free(struct cacher *c);

/* Cancel the store watch (no wake happens after this returns; cacher_drain stops relisting).
 * For shutdown, before the loop's pending posts are run. */
void cacher_detach(struct cacher *c);

/* The store watch callback (any thread): queue a copy of ev and wake; on the owner thread
 * (outside a drain) apply the queue at once instead. Exported for tests. */
void cacher_store_event(const struct store_event *ev, void *userdata);

/* Loop thread: apply every queued event (see the header comment) and fan out; retry a pending
 * relist. A no-op when called from inside a drain. */
void cacher_drain(struct cacher *c);
/* Declare the calling thread the loop thread: store events raised on it (the server's own
 * writes) are applied from inside the store's callback, before the write returns, instead of
 * after a wake-up. */
void cacher_set_owner(struct cacher *c);

/* The revision of the newest applied event (or of the initial listing). */
int64_t cacher_revision(struct cacher *c);
/* False while a relist is pending (the cache may miss events; serve from the store). */
bool cacher_ready(struct cacher *c);
/* Loop thread: block up to timeout_ms until every event up to rev has been queued, then drain.
 * True if cacher_revision(c) >= rev afterwards. Once a wait for rev timed out (a revision with
 * no event under /registry/), later calls for revisions up to it do not wait again. */
bool cacher_wait_fresh(struct cacher *c, int64_t rev, unsigned timeout_ms);

/* The current objects of r whose key has the prefix (scheme_prefix of r, with or without a
 * namespace) and sorts after start_after (NULL: from the first), in key order: a borrowed array
 * of *ret_n objects, valid until the next cacher_drain or store write on the owner thread. */
struct cacher_obj *const *cacher_objects(struct cacher *c, const struct scheme_resource *r,
                                         const char *prefix, const char *start_after,
                                         size_t *ret_n);

/* Called on the loop thread with each event of the watched resource whose key has the prefix
 * and whose revision is > from_rev, in revision order, once. CACHER_EVENT_EXPIRED is the last
 * one. The event is borrowed (cacher_event's refs to keep it). */
typedef void (*cacher_watch_fn)(struct cacher_event *ev, void *userdata);

/* Register a watch. Events already in the ring (rev > from_rev) are delivered from inside this
 * call. -ERANGE if from_rev is older than the ring holds (*ret_floor: the oldest revision it can
 * start from; Kubernetes' "too old resource version: from (floor)"), -EAGAIN while a relist is
 * pending. A from_rev newer than the cache just delivers events after it. */
int cacher_watch_start(struct cacher *c, const struct scheme_resource *r, const char *prefix,
                       int64_t from_rev, cacher_watch_fn fn, void *userdata,
                       struct cacher_watch **ret, int64_t *ret_floor);
/* Unregister and free (also from inside its own callback). NULL is ignored. */
void cacher_watch_stop(struct cacher_watch *w);
