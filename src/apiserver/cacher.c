/* cacher.c — the watch cache (see cacher.h). */
#include "apiserver/cacher.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "apiserver/apiserver-internal.h"
#include "common/kjson.h"
#include "common/log.h"

#define COMP "cacher"
#define LIST_PAGE 1000 /* items per store_list page while (re)listing */

/* One queued store event (copied: the store's pointers are borrowed for the callback only). */
struct pending {
        struct pending *next;
        enum store_event_type type;
        char *key;
        char *value;
        size_t value_len;
        int64_t rev;
        int error;
};

struct cres {
        const struct scheme_resource *r;
        char *prefix; /* "/registry/pods/" */
        size_t prefix_len;
        struct cacher_obj **objs; /* sorted by key (strcmp: the stores' byte order) */
        size_t n_objs, cap_objs;
        struct cacher_event **ring; /* circular, ring_max entries */
        size_t ring_start, ring_n;
        size_t ring_bytes; /* object bytes the ring's events hold */
        int64_t floor;     /* every event with rev > floor is in the ring */
        struct cacher_watch *watches;
};

struct cacher_watch {
        struct cacher *c;
        struct cres *res;
        char *prefix;
        size_t prefix_len;
        int64_t from;
        cacher_watch_fn fn;
        void *userdata;
        bool stopped; /* stopped during a dispatch: freed after it */
        bool expired; /* got CACHER_EVENT_EXPIRED: nothing more */
        struct cacher_watch *prev, *next;
};

struct cacher {
        struct store *store;
        void (*wake)(void *ud);
        void *wake_ud;
        size_t ring_max;
        size_t ring_bytes_max;
        struct cres *res;
        size_t n_res;

        /* loop thread */
        int64_t rev;
        bool need_relist;
        bool detached; /* cacher_detach ran: no store calls any more */
        struct store_watch *sw;
        int dispatching;
        bool reap;
        int64_t stuck_rev; /* a wait for this revision timed out */
        bool busy;         /* inside drain(): events raised meanwhile only queue */
        bool has_owner;    /* owner: the loop thread (cacher_set_owner) */
        pthread_t owner;

        pthread_mutex_t mu; /* protects the fields below */
        pthread_cond_t cond;
        struct pending *qhead, **qtail;
        int64_t queued_rev; /* newest revision queued (or listed) */
        bool woken;         /* a wake is outstanding */
};

/* ---- objects and events ---- */

struct cacher_obj *cacher_obj_ref(struct cacher_obj *o)
{
        if (o)
                o->refs++;
        return o;
}

void cacher_obj_unref(struct cacher_obj *o)
{
        if (!o || --o->refs > 0)
                return;
        free(o->key);
        free(o->json);
        json_decref(o->sel);
        free(o);
}

static bool is_scalar(const json_t *v)
{
        return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

/* The selector view: labels, name, namespace and the scalars of the first two levels. */
static json_t *sel_view(const json_t *obj)
{
        json_t *sel = json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)obj, k, v)
        {
                if (is_scalar(v)) {
                        json_object_set(sel, k, v);
                        continue;
                }
                if (!json_is_object(v))
                        continue;
                json_t *sub = json_object();
                const char *k2;
                json_t *v2;
                json_object_foreach(v, k2, v2)
                {
                        if (is_scalar(v2))
                                json_object_set(sub, k2, v2);
                }
                if (!strcmp(k, "metadata")) {
                        json_t *labels = json_object_get(v, "labels");
                        if (labels)
                                json_object_set_new(sub, "labels", json_deep_copy(labels));
                }
                json_object_set_new(sel, k, sub);
        }
        return sel;
}

struct cacher_obj *cacher_obj_new(const struct scheme_resource *r, const char *key,
                                  const char *value, size_t len, int64_t rev)
{
        _cleanup_(json_decrefp) json_t *obj = apiserver_obj_decode(r, value, len, rev);
        if (!obj)
                return NULL;
        struct cacher_obj *o = xcalloc(1, sizeof(*o));
        o->refs = 1;
        o->key = xstrdup(key);
        o->json = kjson_dump(obj);
        o->len = strlen(o->json);
        o->sel = sel_view(obj);
        o->rev = rev;
        return o;
}

json_t *cacher_obj_json(const struct cacher_obj *o)
{
        json_t *j = NULL;
        if (kjson_parse(o->json, o->len, 0, &j, NULL) < 0)
                return NULL;
        return j;
}

static void event_unref(struct cacher_event *ev)
{
        if (!ev || --ev->refs > 0)
                return;
        cacher_obj_unref(ev->obj);
        cacher_obj_unref(ev->prev);
        for (size_t i = 0; i < ARRAY_SIZE(ev->lines); i++)
                free(ev->lines[i]);
        free(ev);
}

const char *cacher_event_line(struct cacher_event *ev, enum cacher_line_type t, size_t *ret_len)
{
        static const char *const names[] = {"ADDED", "MODIFIED", "DELETED"};
        assert((size_t)t < ARRAY_SIZE(names) && ev->obj);
        if (!ev->lines[t]) {
                ev->lines[t] =
                        xasprintf("{\"type\":\"%s\",\"object\":%s}\n", names[t], ev->obj->json);
                ev->line_lens[t] = strlen(ev->lines[t]);
        }
        *ret_len = ev->line_lens[t];
        return ev->lines[t];
}

/* ---- per-resource state ---- */

/* First index whose key is >= key (or > key if after). */
static size_t lower_bound(const struct cres *res, const char *key, bool after)
{
        size_t lo = 0, hi = res->n_objs;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(res->objs[mid]->key, key);
                if (c < 0 || (after && c == 0))
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static struct cacher_obj *obj_find(const struct cres *res, const char *key, size_t *ret_i)
{
        size_t i = lower_bound(res, key, false);
        *ret_i = i;
        if (i < res->n_objs && !strcmp(res->objs[i]->key, key))
                return res->objs[i];
        return NULL;
}

/* Put o (reference taken over) at key's place; returns the object it replaced (its reference
 * handed to the caller) or NULL. */
static struct cacher_obj *obj_put(struct cres *res, struct cacher_obj *o)
{
        size_t i;
        struct cacher_obj *old = obj_find(res, o->key, &i);
        if (old) {
                res->objs[i] = o;
                return old;
        }
        if (res->n_objs == res->cap_objs) {
                res->cap_objs = res->cap_objs ? 2 * res->cap_objs : 64;
                res->objs = xrealloc(res->objs, res->cap_objs * sizeof(*res->objs));
        }
        memmove(res->objs + i + 1, res->objs + i, (res->n_objs - i) * sizeof(*res->objs));
        res->objs[i] = o;
        res->n_objs++;
        return NULL;
}

/* Remove key; returns its object (reference handed over) or NULL. */
static struct cacher_obj *obj_remove(struct cres *res, const char *key)
{
        size_t i;
        struct cacher_obj *old = obj_find(res, key, &i);
        if (!old)
                return NULL;
        memmove(res->objs + i, res->objs + i + 1, (res->n_objs - i - 1) * sizeof(*res->objs));
        res->n_objs--;
        return old;
}

static void objs_clear(struct cres *res)
{
        for (size_t i = 0; i < res->n_objs; i++)
                cacher_obj_unref(res->objs[i]);
        res->n_objs = 0;
}

static struct cacher_event *ring_at(struct cacher *c, struct cres *res, size_t i)
{
        return res->ring[(res->ring_start + i) % c->ring_max];
}

static size_t event_bytes(const struct cacher_event *ev)
{
        return ev->obj->len + (ev->prev ? ev->prev->len : 0);
}

static void ring_pop(struct cacher *c, struct cres *res)
{
        struct cacher_event *old = res->ring[res->ring_start];
        res->floor = old->rev;
        res->ring_bytes -= event_bytes(old);
        event_unref(old);
        res->ring_start = (res->ring_start + 1) % c->ring_max;
        res->ring_n--;
}

/* Append ev (reference taken over), dropping the oldest events beyond the count and byte caps
 * (the newest event always stays). */
static void ring_push(struct cacher *c, struct cres *res, struct cacher_event *ev)
{
        if (res->ring_n == c->ring_max)
                ring_pop(c, res);
        res->ring[(res->ring_start + res->ring_n) % c->ring_max] = ev;
        res->ring_n++;
        res->ring_bytes += event_bytes(ev);
        while (res->ring_n > 1 && res->ring_bytes > c->ring_bytes_max)
                ring_pop(c, res);
}

static void ring_reset(struct cacher *c, struct cres *res, int64_t floor)
{
        for (size_t i = 0; i < res->ring_n; i++)
                event_unref(ring_at(c, res, i));
        res->ring_start = res->ring_n = 0;
        res->ring_bytes = 0;
        res->floor = floor;
}

/* Whether key belongs to res. The last entry (r NULL) holds every custom resource: keys
 * "/registry/<group>/<plural>/..." whose group has a dot (CRD groups must), which no built-in
 * resource name has. */
static bool res_has_key(const struct cres *res, const char *key)
{
        if (strncmp(key, res->prefix, res->prefix_len))
                return false;
        if (res->r)
                return true;
        const char *seg = key + res->prefix_len;
        const char *slash = strchr(seg, '/');
        const char *dot = strchr(seg, '.');
        return slash && dot && dot < slash;
}

static struct cres *res_of_key(struct cacher *c, const char *key)
{
        for (size_t i = 0; i < c->n_res; i++)
                if (res_has_key(&c->res[i], key))
                        return &c->res[i];
        return NULL;
}

static struct cres *res_of(struct cacher *c, const struct scheme_resource *r)
{
        for (size_t i = 0; i < c->n_res; i++)
                if (c->res[i].r == r)
                        return &c->res[i];
        return NULL;
}

/* ---- fan-out ---- */

static void watch_unlink_free(struct cacher_watch *w)
{
        if (w->prev)
                w->prev->next = w->next;
        else
                w->res->watches = w->next;
        if (w->next)
                w->next->prev = w->prev;
        free(w->prefix);
        free(w);
}

static void reap(struct cacher *c)
{
        if (c->dispatching || !c->reap)
                return;
        c->reap = false;
        for (size_t i = 0; i < c->n_res; i++) {
                for (struct cacher_watch *w = c->res[i].watches, *next; w; w = next) {
                        next = w->next;
                        if (w->stopped)
                                watch_unlink_free(w);
                }
        }
}

static bool watch_wants(const struct cacher_watch *w, const struct cacher_event *ev)
{
        return !w->stopped && !w->expired && ev->rev > w->from &&
               !strncmp(ev->obj->key, w->prefix, w->prefix_len);
}

static void fan_out(struct cacher *c, struct cres *res, struct cacher_event *ev)
{
        c->dispatching++;
        ev->refs++;
        for (struct cacher_watch *w = res->watches; w; w = w->next)
                if (watch_wants(w, ev))
                        w->fn(ev, w->userdata);
        event_unref(ev);
        c->dispatching--;
        reap(c);
}

static void expire_all(struct cacher *c, int64_t floor)
{
        struct cacher_event ev = {.refs = 1, .type = CACHER_EVENT_EXPIRED, .rev = floor};
        c->dispatching++;
        for (size_t i = 0; i < c->n_res; i++) {
                for (struct cacher_watch *w = c->res[i].watches; w; w = w->next) {
                        if (w->stopped || w->expired)
                                continue;
                        w->expired = true;
                        w->fn(&ev, w->userdata);
                }
        }
        c->dispatching--;
        reap(c);
}

/* ---- applying events (loop thread) ---- */

static void apply_to(struct cacher *c, struct cres *res, const struct pending *p)
{
        struct cacher_obj *o = cacher_obj_new(res->r, p->key, p->value, p->value_len, p->rev);
        if (!o) {
                log_warn(COMP, "skipping corrupt object %s at revision %lld", p->key,
                         (long long)p->rev);
                return;
        }
        struct cacher_event *ev = xcalloc(1, sizeof(*ev));
        ev->refs = 1;
        ev->rev = p->rev;
        ev->obj = o;
        if (p->type == STORE_EVENT_DELETE) {
                ev->type = CACHER_EVENT_DELETE;
                cacher_obj_unref(obj_remove(res, p->key));
        } else {
                ev->type = CACHER_EVENT_PUT;
                ev->prev = obj_put(res, cacher_obj_ref(o));
        }
        ring_push(c, res, ev);
        fan_out(c, res, ev);
}

/* Every resource whose prefix the key has gets the event (two versions of a resource share the
 * storage, each with its own kind/apiVersion in the bytes). */
static void apply(struct cacher *c, const struct pending *p)
{
        /* Older: already applied (a rewatch resumes at the listing's revision). Equal: another
         * key of the same revision (etcd: a lease that ends deletes all its keys in one). */
        if (p->rev < c->rev)
                return;
        c->rev = p->rev;
        for (size_t i = 0; i < c->n_res; i++)
                if (res_has_key(&c->res[i], p->key))
                        apply_to(c, &c->res[i], p);
}

static void pending_free(struct pending *p)
{
        free(p->key);
        free(p->value);
        free(p);
}

static void drain(struct cacher *c, bool may_relist);

void cacher_store_event(const struct store_event *ev, void *userdata)
{
        struct cacher *c = userdata;
        struct pending *p = xcalloc(1, sizeof(*p));
        p->type = ev->type;
        p->key = xstrdup(ev->key ? ev->key : "");
        if (ev->type != STORE_EVENT_ERROR) {
                p->value = xmalloc(ev->value_len + 1);
                memcpy(p->value, ev->value, ev->value_len);
                p->value[ev->value_len] = 0;
                p->value_len = ev->value_len;
        }
        p->rev = ev->rev;
        p->error = ev->error;
        pthread_mutex_lock(&c->mu);
        *c->qtail = p;
        c->qtail = &p->next;
        if (ev->type != STORE_EVENT_ERROR && ev->rev > c->queued_rev)
                c->queued_rev = ev->rev;
        bool wake = !c->woken;
        c->woken = true;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->mu);
        /* A write made on the loop thread itself (a request handler): apply and fan out now,
         * saving the wake-up's trip through the loop. */
        if (__atomic_load_n(&c->has_owner, __ATOMIC_ACQUIRE) &&
            pthread_equal(pthread_self(), c->owner) && !c->busy && !c->detached &&
            !c->dispatching) {
                drain(c, false);
                return;
        }
        if (wake && c->wake)
                c->wake(c->wake_ud);
}

static struct pending *take_queue(struct cacher *c)
{
        pthread_mutex_lock(&c->mu);
        struct pending *q = c->qhead;
        c->qhead = NULL;
        c->qtail = &c->qhead;
        c->woken = false;
        pthread_mutex_unlock(&c->mu);
        return q;
}

static void cancel_store_watch(struct cacher *c)
{
        if (c->sw) {
                store_watch_cancel(c->sw);
                c->sw = NULL;
        }
}

/* List everything into fresh object arrays, reset the rings, watch from the listing's revision.
 */
static int relist(struct cacher *c, struct error *err)
{
        cancel_store_watch(c);
        for (struct pending *p = take_queue(c), *next; p; p = next) {
                next = p->next;
                pending_free(p);
        }
        for (size_t i = 0; i < c->n_res; i++)
                objs_clear(&c->res[i]);
        int64_t at = 0;
        _cleanup_free_ char *after = NULL;
        for (;;) {
                struct store_list l = {0};
                int r = store_list(c->store, CACHER_KEY_PREFIX, after, LIST_PAGE, at, &l, err);
                if (r < 0)
                        goto fail;
                if (!at) /* serve only durable state (store.h "Durability") */
                        store_wait_durable(c->store, l.rev);
                at = l.rev;
                for (size_t i = 0; i < l.n_items; i++) {
                        struct store_kv *kv = &l.items[i];
                        for (size_t j = 0; j < c->n_res; j++) {
                                struct cres *res = &c->res[j];
                                if (!res_has_key(res, kv->key))
                                        continue;
                                struct cacher_obj *o = cacher_obj_new(res->r, kv->key, kv->value,
                                                                      kv->value_len, kv->mod_rev);
                                if (o)
                                        cacher_obj_unref(obj_put(res, o));
                                else
                                        log_warn(COMP, "skipping corrupt object %s", kv->key);
                        }
                }
                if (l.n_items) {
                        free(after);
                        after = xstrdup(l.items[l.n_items - 1].key);
                }
                bool more = l.more;
                store_list_clear(&l);
                if (!more)
                        break;
        }
        for (size_t i = 0; i < c->n_res; i++)
                ring_reset(c, &c->res[i], at);
        c->rev = at;
        pthread_mutex_lock(&c->mu);
        c->queued_rev = at;
        pthread_mutex_unlock(&c->mu);
        int r = store_watch(c->store, CACHER_KEY_PREFIX, at, cacher_store_event, c, &c->sw, err);
        if (r < 0)
                goto fail;
        c->need_relist = false;
        return 0;
fail:
        for (size_t i = 0; i < c->n_res; i++)
                objs_clear(&c->res[i]);
        c->need_relist = true;
        return error_wrap(err, -EIO, "watch cache");
}

/* Apply the queue; relist if the store watch broke and may_relist (not from inside a store
 * callback: a new store watch cannot be started there). */
static void drain(struct cacher *c, bool may_relist)
{
        if (c->busy)
                return; /* re-entered (a relist's history replay): the queue waits */
        c->busy = true;
        struct pending *q = take_queue(c);
        bool broken = false;
        for (struct pending *p = q, *next; p; p = next) {
                next = p->next;
                if (!broken && !c->need_relist) {
                        if (p->type == STORE_EVENT_ERROR) {
                                log_warn(COMP, "store watch ended (%s, revision %lld): relisting",
                                         strerror(-p->error), (long long)p->rev);
                                broken = true;
                        } else {
                                apply(c, p);
                        }
                }
                pending_free(p);
        }
        if (broken) {
                c->need_relist = true;
                cancel_store_watch(c);
                for (size_t i = 0; i < c->n_res; i++)
                        objs_clear(&c->res[i]);
        }
        if (may_relist && c->need_relist && c->store && !c->detached) {
                struct error err = {0};
                int64_t before = c->rev;
                if (relist(c, &err) < 0) {
                        log_warn(COMP, "%s (retrying)", error_msg(&err));
                } else {
                        log_info(COMP, "relisted at revision %lld (was %lld)", (long long)c->rev,
                                 (long long)before);
                        expire_all(c, c->rev);
                }
        }
        c->busy = false;
}

void cacher_drain(struct cacher *c)
{
        drain(c, true);
}

void cacher_set_owner(struct cacher *c)
{
        c->owner = pthread_self();
        __atomic_store_n(&c->has_owner, true, __ATOMIC_RELEASE); /* read by store threads */
}

/* ---- public ---- */

int cacher_new(const struct cacher_config *cfg, struct cacher **ret, struct error *err)
{
        struct cacher *c = xcalloc(1, sizeof(*c));
        c->store = cfg->store;
        c->wake = cfg->wake;
        c->wake_ud = cfg->wake_ud;
        c->ring_max = cfg->ring_max ? cfg->ring_max : CACHER_RING_MAX;
        c->ring_bytes_max = cfg->ring_bytes_max ? cfg->ring_bytes_max : CACHER_RING_BYTES_MAX;
        pthread_mutex_init(&c->mu, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&c->cond, &ca);
        pthread_condattr_destroy(&ca);
        c->qtail = &c->qhead;
        size_t n;
        const struct scheme_resource *rs = scheme_resources(&n);
        c->res = xcalloc(n + 1, sizeof(*c->res));
        for (size_t i = 0; i <= n; i++) {
                struct cres *res = &c->res[c->n_res++];
                res->r = i < n ? &rs[i] : NULL; /* the last: custom resources (res_has_key) */
                res->prefix = i < n ? scheme_prefix(&rs[i], NULL) : xstrdup(CACHER_KEY_PREFIX);
                res->prefix_len = strlen(res->prefix);
                res->ring = xcalloc(c->ring_max, sizeof(*res->ring));
        }
        if (c->store) {
                int r = relist(c, err);
                if (r < 0) {
                        cacher_free(c);
                        return r;
                }
        }
        *ret = c;
        return 0;
}

void cacher_free(struct cacher *c)
{
        if (!c)
                return;
        cancel_store_watch(c);
        for (struct pending *p = take_queue(c), *next; p; p = next) {
                next = p->next;
                pending_free(p);
        }
        for (size_t i = 0; i < c->n_res; i++) {
                struct cres *res = &c->res[i];
                while (res->watches)
                        watch_unlink_free(res->watches);
                objs_clear(res);
                free(res->objs);
                ring_reset(c, res, 0);
                free(res->ring);
                free(res->prefix);
        }
        free(c->res);
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->mu);
        free(c);
}

void cacher_detach(struct cacher *c)
{
        cancel_store_watch(c);
        c->detached = true;
}

int64_t cacher_revision(struct cacher *c)
{
        return c->rev;
}

bool cacher_ready(struct cacher *c)
{
        return !c->need_relist;
}

bool cacher_wait_fresh(struct cacher *c, int64_t rev, unsigned timeout_ms)
{
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += timeout_ms / 1000;
        dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&c->mu);
        while (c->queued_rev < rev && rev > c->stuck_rev) {
                if (pthread_cond_timedwait(&c->cond, &c->mu, &dl) == ETIMEDOUT) {
                        c->stuck_rev = rev;
                        break;
                }
        }
        pthread_mutex_unlock(&c->mu);
        cacher_drain(c);
        return !c->need_relist && c->rev >= rev;
}

struct cacher_obj *const *cacher_objects(struct cacher *c, const struct scheme_resource *r,
                                         const char *prefix, const char *start_after, size_t *ret_n)
{
        struct cres *res = res_of(c, r);
        if (!res)
                res = res_of_key(c, prefix);
        *ret_n = 0;
        if (!res)
                return NULL;
        size_t plen = strlen(prefix);
        size_t lo = lower_bound(res, prefix, false);
        if (start_after && strcmp(start_after, prefix) >= 0)
                lo = lower_bound(res, start_after, true);
        size_t a = lo, b = res->n_objs;
        while (a < b) { /* first index past the run of keys with the prefix */
                size_t mid = a + (b - a) / 2;
                if (strncmp(res->objs[mid]->key, prefix, plen) <= 0)
                        a = mid + 1;
                else
                        b = mid;
        }
        *ret_n = a - lo;
        return res->objs + lo;
}

int cacher_watch_start(struct cacher *c, const struct scheme_resource *r, const char *prefix,
                       int64_t from_rev, cacher_watch_fn fn, void *userdata,
                       struct cacher_watch **ret, int64_t *ret_floor)
{
        struct cres *res = res_of(c, r);
        if (!res)
                res = res_of_key(c, prefix);
        if (!res)
                return -ENOENT;
        if (c->need_relist)
                return -EAGAIN;
        if (from_rev < res->floor) {
                if (ret_floor)
                        *ret_floor = res->floor;
                return -ERANGE;
        }
        struct cacher_watch *w = xcalloc(1, sizeof(*w));
        w->c = c;
        w->res = res;
        w->prefix = xstrdup(prefix);
        w->prefix_len = strlen(prefix);
        w->from = from_rev;
        w->fn = fn;
        w->userdata = userdata;
        w->next = res->watches;
        if (res->watches)
                res->watches->prev = w;
        res->watches = w;
        *ret = w;
        /* The history, in order; events applied from now on reach it through fan_out. */
        c->dispatching++;
        for (size_t i = 0; i < res->ring_n; i++) {
                struct cacher_event *ev = ring_at(c, res, i);
                if (!watch_wants(w, ev))
                        continue;
                ev->refs++;
                w->fn(ev, w->userdata);
                event_unref(ev);
        }
        c->dispatching--;
        reap(c);
        return 0;
}

void cacher_watch_stop(struct cacher_watch *w)
{
        if (!w)
                return;
        struct cacher *c = w->c;
        if (c->dispatching) {
                w->stopped = true;
                c->reap = true;
                return;
        }
        watch_unlink_free(w);
}
