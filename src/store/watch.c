/* watch.c — the watcher registry and event fan-out shared by store backends.
 * Locking is the backend's (see store-internal.h). */
#include "store/store-internal.h"

struct store_watch *store_watch_new(struct store *s, const char *prefix, store_watch_fn fn,
                                    void *userdata)
{
        struct store_watch *w = xcalloc(1, sizeof(*w));
        w->store = s;
        w->prefix = xstrdup(prefix ? prefix : "");
        w->prefix_len = strlen(w->prefix);
        w->fn = fn;
        w->userdata = userdata;
        return w;
}

void store_watch_free(struct store_watch *w)
{
        if (!w)
                return;
        free(w->prefix);
        free(w);
}

void store_watch_deliver(struct store_watch *w, const struct store_event *ev)
{
        if (w->cancelled || ev->rev <= w->last_rev)
                return;
        if (strncmp(ev->key, w->prefix, w->prefix_len) != 0)
                return;
        w->last_rev = ev->rev;
        w->fn(ev, w->userdata);
}

void store_watch_hub_add(struct store_watch_hub *h, struct store_watch *w)
{
        w->prev = NULL;
        w->next = h->head;
        if (h->head)
                h->head->prev = w;
        h->head = w;
        h->n++;
}

static void unlink_watch(struct store_watch_hub *h, struct store_watch *w)
{
        if (w->prev)
                w->prev->next = w->next;
        else
                h->head = w->next;
        if (w->next)
                w->next->prev = w->prev;
        w->prev = w->next = NULL;
        h->n--;
}

void store_watch_hub_remove(struct store_watch_hub *h, struct store_watch *w)
{
        if (h->dispatching && pthread_equal(h->dispatch_thread, pthread_self())) {
                w->cancelled = true;
                return;
        }
        unlink_watch(h, w);
        store_watch_free(w);
}

void store_watch_hub_dispatch(struct store_watch_hub *h, const struct store_event *ev)
{
        if (!h->head)
                return;
        h->dispatching = true;
        h->dispatch_thread = pthread_self();
        for (struct store_watch *w = h->head; w; w = w->next)
                store_watch_deliver(w, ev);
        h->dispatching = false;
        store_watch_hub_reap(h);
}

void store_watch_hub_reap(struct store_watch_hub *h)
{
        for (struct store_watch *w = h->head, *next; w; w = next) {
                next = w->next;
                if (w->cancelled) {
                        unlink_watch(h, w);
                        store_watch_free(w);
                }
        }
}

void store_watch_hub_clear(struct store_watch_hub *h)
{
        while (h->head) {
                struct store_watch *w = h->head;
                unlink_watch(h, w);
                store_watch_free(w);
        }
}
