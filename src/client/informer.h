/* informer.h — list+watch cache of one resource collection, with callbacks on a dedicated thread.
 *
 * The informer thread LISTs the collection (paging with limit/continue), fills the cache (keyed
 * by namespace/name), calls on_add for each object, then WATCHes from the list's
 * resourceVersion with allowWatchBookmarks=true, calling on_add/on_update/on_delete per event.
 * On 410 Gone, a broken stream or any error it backs off (0.2 s doubling to 5 s), relists, diffs
 * the new list against the cache (on_add / on_update / on_delete for what changed) and rewatches.
 *
 * Threads: handlers run on the informer thread, WITHOUT the cache lock held (a handler may call
 * informer_get/informer_list). informer_get/list/wait_synced may be called from any thread.
 * Objects handed out (handler arguments, informer_get/list results) are shared with the cache
 * and MUST be treated as read-only; handler arguments are borrowed for the call (json_incref to
 * keep them). */
#pragma once
#include <jansson.h>

#include "common/base.h"
#include "common/error.h"

struct informer;

struct informer_handlers {
        void (*on_add)(json_t *obj, void *ud);                         /* may be NULL */
        void (*on_update)(json_t *old_obj, json_t *new_obj, void *ud); /* may be NULL */
        void (*on_delete)(json_t *obj, void *ud); /* last known state; may be NULL */
};

/* Start an informer on the collection path ("/api/v1/pods", "/api/v1/namespaces/x/pods",
 * "/apis/apps/v1/deployments") with an optional extra query (e.g.
 * "fieldSelector=spec.nodeName%3Dn1" — already URL-encoded; NULL for none), using the kubeconfig at
 * kubeconfig_path. handlers is copied; ud is passed to every handler. Fails only for an unreadable
 * kubeconfig (the server being down is retried in the background). */
int informer_start(const char *kubeconfig_path, const char *path, const char *query,
                   const struct informer_handlers *handlers, void *ud, struct informer **ret,
                   struct error *err);

/* Stop the thread (aborts a blocking watch within about a second), join it, free everything.
 * No handler runs after it returns. Must not be called from a handler. NULL is a no-op. */
void informer_stop(struct informer *i);

/* Wait until the first LIST has been delivered (every initial on_add returned). timeout_ms < 0
 * waits forever. Returns 0 or -ETIMEDOUT. */
int informer_wait_synced(struct informer *i, int timeout_ms);
bool informer_has_synced(struct informer *i);

/* The cached object (new reference, read-only) or NULL. ns is NULL or "" for cluster-scoped. */
json_t *informer_get(struct informer *i, const char *ns, const char *name);

/* Snapshot: *ret is a new JSON array holding references to the cached objects (read-only),
 * restricted to namespace ns (NULL = all), sorted by namespace/name. Returns the count. */
int informer_list(struct informer *i, const char *ns, json_t **ret);

/* The resourceVersion the cache is at ("" before the first list; borrowed copy into buf). */
void informer_resource_version(struct informer *i, char *buf, size_t size);
