/* eviction.c — thresholds, pressure, pod ranking, image GC and the manager thread (eviction.h). */
#include "kubelet/eviction.h"

#include <assert.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "api/quantity.h"
#include "common/kjson.h"
#include "common/log.h"
#include "common/strv.h"
#include "kubelet/images.h"
#include "kubelet/podsync.h"
#include "kubelet/status.h"

#define COMP "kubelet"
#define GC_MAX_IMAGES 512

static const char *const signal_names[EVICTION_SIGNAL_N] = {
        "memory.available",  "nodefs.available",   "nodefs.inodesFree",
        "imagefs.available", "imagefs.inodesFree", "pid.available",
};

const char *eviction_signal_name(enum eviction_signal s)
{
        return s < EVICTION_SIGNAL_N ? signal_names[s] : "unknown";
}

static int set_threshold(struct eviction_threshold *t, const char *v, size_t n, struct error *err)
{
        memset(t, 0, sizeof(*t));
        if (n == 0 || n >= sizeof(t->text))
                return error_set(err, -EINVAL, "invalid threshold value \"%.*s\"", (int)n, v);
        memcpy(t->text, v, n);
        t->text[n] = 0;
        if (t->text[n - 1] == '%') {
                char *end;
                t->text[n - 1] = 0;
                double pct = strtod(t->text, &end);
                t->text[n - 1] = '%';
                if (end != t->text + n - 1 || !(pct >= 0 && pct <= 100))
                        return error_set(err, -EINVAL, "invalid percentage \"%s\"", t->text);
                t->percent = true;
                t->pct = pct;
        } else {
                struct quantity q;
                if (quantity_parse(t->text, &q, err) < 0)
                        return error_wrap(err, -EINVAL, "threshold \"%s\"", t->text);
                if (quantity_value(&q) < 0)
                        return error_set(err, -EINVAL, "negative threshold \"%s\"", t->text);
                t->quantity = quantity_value(&q);
        }
        t->set = true;
        return 0;
}

int eviction_thresholds_parse(const char *s, struct eviction_threshold ret[EVICTION_SIGNAL_N],
                              struct error *err)
{
        struct eviction_threshold t[EVICTION_SIGNAL_N];
        memcpy(t, ret, sizeof(t));
        for (const char *p = s; p && *p;) {
                const char *c = strchr(p, ',');
                size_t len = c ? (size_t)(c - p) : strlen(p);
                const char *lt = memchr(p, '<', len);
                if (!lt)
                        return error_set(err, -EINVAL,
                                         "invalid eviction threshold \"%.*s\": "
                                         "want signal<value",
                                         (int)len, p);
                size_t sl = (size_t)(lt - p);
                int sig = -1;
                for (int i = 0; i < EVICTION_SIGNAL_N; i++)
                        if (strlen(signal_names[i]) == sl && !memcmp(p, signal_names[i], sl))
                                sig = i;
                if (sig < 0)
                        return error_set(err, -EINVAL, "unsupported eviction signal %.*s", (int)sl,
                                         p);
                int r = set_threshold(&t[sig], lt + 1, len - sl - 1, err);
                if (r < 0)
                        return r;
                p = c ? c + 1 : NULL;
        }
        memcpy(ret, t, sizeof(t));
        return 0;
}

void eviction_thresholds_default(struct eviction_threshold ret[EVICTION_SIGNAL_N])
{
        memset(ret, 0, sizeof(*ret) * EVICTION_SIGNAL_N);
        int r = eviction_thresholds_parse("memory.available<100Mi,nodefs.available<10%,"
                                          "nodefs.inodesFree<5%,imagefs.available<15%,"
                                          "imagefs.inodesFree<5%",
                                          ret, NULL);
        assert(r == 0);
        (void)r;
}

int64_t eviction_threshold_value(const struct eviction_threshold *t, int64_t capacity)
{
        if (!t->set)
                return 0;
        if (t->percent)
                return (int64_t)((double)capacity * t->pct / 100.0);
        return t->quantity;
}

int eviction_reserved_parse(const char *s, struct eviction_reserved *ret, struct error *err)
{
        struct eviction_reserved r = *ret;
        for (const char *p = s; p && *p;) {
                const char *c = strchr(p, ',');
                size_t len = c ? (size_t)(c - p) : strlen(p);
                const char *eq = memchr(p, '=', len);
                if (!eq)
                        return error_set(err, -EINVAL,
                                         "invalid reservation \"%.*s\": want "
                                         "name=quantity",
                                         (int)len, p);
                _cleanup_free_ char *k = xstrndup(p, (size_t)(eq - p));
                _cleanup_free_ char *v = xstrndup(eq + 1, len - (size_t)(eq - p) - 1);
                struct quantity q;
                if (quantity_parse(v, &q, err) < 0)
                        return error_wrap(err, -EINVAL, "reservation %s", k);
                if (!strcmp(k, "cpu"))
                        r.cpu_millis += quantity_milli(&q);
                else if (!strcmp(k, "memory"))
                        r.memory += quantity_value(&q);
                else if (!strcmp(k, "ephemeral-storage"))
                        r.ephemeral += quantity_value(&q);
                else if (!strcmp(k, "pid"))
                        r.pids += quantity_value(&q);
                else
                        return error_set(err, -EINVAL, "unsupported reserved resource %s", k);
                p = c ? c + 1 : NULL;
        }
        *ret = r;
        return 0;
}

/* Capacity and available of a signal in snapshot s. */
static void observe(const struct stats_snapshot *s, enum eviction_signal sig, int64_t *cap,
                    int64_t *avail)
{
        switch (sig) {
        case EVICTION_MEMORY_AVAILABLE:
                *cap = (int64_t)s->mem_total, *avail = (int64_t)s->mem_available;
                break;
        case EVICTION_NODEFS_AVAILABLE:
                *cap = (int64_t)s->nodefs.capacity, *avail = (int64_t)s->nodefs.available;
                break;
        case EVICTION_NODEFS_INODES_FREE:
                *cap = (int64_t)s->nodefs.inodes, *avail = (int64_t)s->nodefs.inodes_free;
                break;
        case EVICTION_IMAGEFS_AVAILABLE:
                *cap = (int64_t)s->imagefs.capacity, *avail = (int64_t)s->imagefs.available;
                break;
        case EVICTION_IMAGEFS_INODES_FREE:
                *cap = (int64_t)s->imagefs.inodes, *avail = (int64_t)s->imagefs.inodes_free;
                break;
        default:
                *cap = (int64_t)s->pid_max;
                *avail = s->pid_max > s->nproc ? (int64_t)(s->pid_max - s->nproc) : 0;
                break;
        }
}

void eviction_signals_met(const struct stats_snapshot *s,
                          const struct eviction_threshold t[EVICTION_SIGNAL_N],
                          bool met[EVICTION_SIGNAL_N], struct eviction_pressure *ret)
{
        memset(ret, 0, sizeof(*ret));
        for (int i = 0; i < EVICTION_SIGNAL_N; i++) {
                int64_t cap, avail;
                observe(s, (enum eviction_signal)i, &cap, &avail);
                /* no measurement (capacity 0): never met */
                met[i] = t[i].set && cap > 0 && avail < eviction_threshold_value(&t[i], cap);
        }
        ret->memory = met[EVICTION_MEMORY_AVAILABLE];
        ret->disk = met[EVICTION_NODEFS_AVAILABLE] || met[EVICTION_NODEFS_INODES_FREE] ||
                    met[EVICTION_IMAGEFS_AVAILABLE] || met[EVICTION_IMAGEFS_INODES_FREE];
        ret->pid = met[EVICTION_PID_AVAILABLE];
}

static const char *fmt_bytes(int64_t v, char buf[QUANTITY_STR_MAX])
{
        struct quantity q = quantity_from_int(v, QUANTITY_BINARY_SI);
        return quantity_format(&q, buf);
}

static const struct stats_pod *pod_stats(const struct stats_snapshot *s, const char *uid)
{
        for (size_t i = 0; uid && s && i < s->n_pods; i++)
                if (!strcmp(s->pods[i].uid, uid))
                        return &s->pods[i];
        return NULL;
}

static bool is_memory(enum eviction_signal sig)
{
        return sig == EVICTION_MEMORY_AVAILABLE;
}

/* The resource a signal reclaims, as the kubelet names it in messages. */
static const char *resource_of(enum eviction_signal sig)
{
        switch (sig) {
        case EVICTION_MEMORY_AVAILABLE:
                return "memory";
        case EVICTION_NODEFS_INODES_FREE:
        case EVICTION_IMAGEFS_INODES_FREE:
                return "inodes";
        case EVICTION_PID_AVAILABLE:
                return "pids";
        default:
                return "ephemeral-storage";
        }
}

static int64_t ctr_request(json_t *c, const char *res)
{
        _cleanup_free_ char *f = xasprintf("resources.requests.%s", res);
        return podsync_memory_bytes(kjson_str(c, f));
}

static const char *request_text(json_t *c, const char *res, char buf[QUANTITY_STR_MAX])
{
        _cleanup_free_ char *f = xasprintf("resources.requests.%s", res);
        const char *q = kjson_str(c, f);
        if (!q || quantity_canonicalize(q, buf, NULL) < 0)
                snprintf(buf, QUANTITY_STR_MAX, "0");
        return buf;
}

static uint64_t ctr_usage(enum eviction_signal sig, const struct stats_ctr *c)
{
        return is_memory(sig) ? c->cg.mem_ws : c->rootfs_used + c->logs_used;
}

char *eviction_message(enum eviction_signal sig, const struct eviction_threshold *t,
                       const struct stats_snapshot *s, json_t *pod, const struct stats_pod *ps)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        const char *res = resource_of(sig);
        int64_t cap, avail;
        observe(s, sig, &cap, &avail);
        char qb[QUANTITY_STR_MAX], ab[QUANTITY_STR_MAX];
        const char *tq = t->percent ? fmt_bytes(eviction_threshold_value(t, cap), qb) : t->text;
        if (!t->percent && quantity_canonicalize(t->text, qb, NULL) == 0)
                tq = qb;
        fprintf(f, "The node was low on resource: %s. Threshold quantity: %s, available: %s. ", res,
                tq, fmt_bytes(avail, ab));
        json_t *c;
        size_t i;
        json_array_foreach(kjson_get(pod, "spec.containers"), i, c)
        {
                const char *name = kjson_str(c, "name");
                for (size_t j = 0; ps && name && j < ps->n_ctrs; j++) {
                        if (strcmp(ps->ctrs[j].name, name))
                                continue;
                        uint64_t use = ctr_usage(sig, &ps->ctrs[j]);
                        if ((int64_t)use <= ctr_request(c, res))
                                continue;
                        char ub[QUANTITY_STR_MAX], rb[QUANTITY_STR_MAX];
                        fprintf(f,
                                "Container %s was using %s, request is %s, has larger "
                                "consumption of %s. ",
                                name, fmt_bytes((int64_t)use, ub), request_text(c, res, rb), res);
                }
        }
        fclose(f);
        return out;
}

/* Usage of the pod for sig and its request (sum over containers). */
static void pod_usage(enum eviction_signal sig, json_t *pod, const struct stats_pod *ps,
                      int64_t *use, int64_t *req)
{
        *use = 0, *req = 0;
        const char *res = resource_of(sig);
        json_t *c;
        size_t i;
        json_array_foreach(kjson_get(pod, "spec.containers"), i, c) *req += ctr_request(c, res);
        if (!ps)
                return;
        if (is_memory(sig))
                *use = (int64_t)ps->cg.mem_ws;
        else
                *use = (int64_t)ps->eph_used;
}

int eviction_rank(enum eviction_signal sig, json_t *pods, const struct stats_snapshot *s)
{
        int best = -1;
        bool b_exceeds = false;
        int64_t b_prio = 0, b_over = 0;
        json_t *pod;
        size_t i;
        json_array_foreach(pods, i, pod)
        {
                /* critical pods are never evicted (IsCriticalPod) */
                int64_t prio = kjson_int(pod, "spec.priority", 0);
                if (prio >= 2000000000)
                        continue;
                const struct stats_pod *ps = pod_stats(s, kjson_str(pod, "metadata.uid"));
                int64_t use, req;
                pod_usage(sig, pod, ps, &use, &req);
                bool exceeds = use > req;
                int64_t over = use - req;
                bool better = best < 0 || (exceeds && !b_exceeds) ||
                              (exceeds == b_exceeds &&
                               (prio < b_prio || (prio == b_prio && over > b_over)));
                if (better) {
                        best = (int)i;
                        b_exceeds = exceeds;
                        b_prio = prio;
                        b_over = over;
                }
        }
        return best;
}

/* ---- the manager ---- */

struct gc_record {
        char id[80];
        int64_t first_seen, last_used; /* unix s */
};

struct eviction {
        struct eviction_config cfg;
        char *data_dir, *images_dir;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        /* protected by lock: */
        bool stopping;
        struct eviction_pressure pressure;
        struct stats_snapshot snap;
        bool have_snap;
        /* thread-only: */
        struct gc_record gc[GC_MAX_IMAGES];
        size_t n_gc;
        char last_uid[64]; /* the pod evicted last ... */
        bool last_disk;    /* ... for a disk signal */
        struct timespec last_at;
};

/* The kubelet's waitForPodsCleanup: after an eviction, no other one until the victim's resources
 * are reclaimed or podCleanupTimeout (30 s) passed. Memory: its processes are gone. Disk: its
 * writable layers stay until the pod is deleted here, so the full timeout. */
static bool cleanup_pending(struct eviction *ev, const struct stats_snapshot *s)
{
        if (!ev->last_uid[0])
                return false;
        if (s->time.tv_sec - ev->last_at.tv_sec >= 30) {
                ev->last_uid[0] = 0;
                return false;
        }
        const struct stats_pod *p = pod_stats(s, ev->last_uid);
        if (!ev->last_disk && (!p || p->nproc == 0)) {
                ev->last_uid[0] = 0;
                return false;
        }
        return true;
}

/* Image ids the pods use now. */
static char **images_in_use(struct eviction *ev, json_t *pods)
{
        char **ids = NULL;
        size_t n = 0;
        json_t *pod;
        size_t i;
        json_array_foreach(pods, i, pod)
        {
                const char *lists[] = {"spec.containers", "spec.initContainers"};
                for (size_t l = 0; l < 2; l++) {
                        json_t *c;
                        size_t j;
                        json_array_foreach(kjson_get(pod, lists[l]), j, c)
                        {
                                struct image_info info = {0};
                                const char *img = kjson_str(c, "image");
                                if (!img || images_resolve(ev->images_dir, img, &info, NULL) < 0)
                                        continue;
                                ids = xrealloc(ids, (n + 2) * sizeof(*ids));
                                ids[n++] = xstrdup(info.id);
                                ids[n] = NULL;
                                image_info_clear(&info);
                        }
                }
        }
        return ids;
}

static bool strv_has(char **v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (!strcmp(v[i], s))
                        return true;
        return false;
}

static struct gc_record *gc_get(struct eviction *ev, const char *id, int64_t now)
{
        for (size_t i = 0; i < ev->n_gc; i++)
                if (!strcmp(ev->gc[i].id, id))
                        return &ev->gc[i];
        if (ev->n_gc >= GC_MAX_IMAGES || strlen(id) >= sizeof(ev->gc[0].id))
                return NULL;
        struct gc_record *g = &ev->gc[ev->n_gc++];
        snprintf(g->id, sizeof(g->id), "%s", id);
        g->first_seen = g->last_used = now;
        return g;
}

/* The kubelet's image GC: above high% of the image filesystem, delete unused images, least
 * recently used first, until usage is below low%. force: delete every unused image (disk
 * pressure reclaim). Returns the number removed. */
static int image_gc(struct eviction *ev, json_t *pods, const struct stats_snapshot *s, bool force)
{
        int64_t now = (int64_t)time(NULL);
        struct image_entry *list = NULL;
        size_t n = 0;
        if (images_list(ev->images_dir, &list, &n, NULL) < 0)
                return 0;
        _cleanup_(strv_freep) char **used = images_in_use(ev, pods);
        for (size_t i = 0; i < n; i++) {
                struct gc_record *g = gc_get(ev, list[i].id, now);
                if (g && strv_has(used, list[i].id))
                        g->last_used = now;
        }
        uint64_t cap = s->imagefs.capacity, avail = s->imagefs.available;
        int removed = 0;
        int high = ev->cfg.image_gc_high > 0 ? ev->cfg.image_gc_high : 85;
        int low = ev->cfg.image_gc_low > 0 ? ev->cfg.image_gc_low : 80;
        uint64_t usage_pct = cap ? (cap - avail) * 100 / cap : 0;
        if (!cap || (!force && (high >= 100 || usage_pct < (uint64_t)high))) {
                images_list_free(list, n);
                return 0;
        }
        int64_t to_free =
                force ? INT64_MAX : (int64_t)(cap - avail) - (int64_t)(cap * (uint64_t)low / 100);
        if (force)
                log_info(COMP, "image gc: disk pressure, removing every unused image");
        else
                log_info(COMP,
                         "image gc: image filesystem %" PRIu64
                         "%% used (high %d%%), freeing %lld bytes",
                         usage_pct, high, (long long)to_free);
        while (to_free > 0) {
                /* least recently used unused image */
                const struct image_entry *victim = NULL;
                int64_t v_last = INT64_MAX;
                for (size_t i = 0; i < n; i++) {
                        if (!list[i].id || strv_has(used, list[i].id))
                                continue;
                        struct gc_record *g = gc_get(ev, list[i].id, now);
                        int64_t last = g ? g->last_used : 0;
                        if (last < v_last)
                                victim = &list[i], v_last = last;
                }
                if (!victim)
                        break;
                struct error err = {0};
                _cleanup_free_ char *id = xstrdup(victim->id);
                uint64_t size = victim->size;
                if (images_remove(ev->images_dir, id, &err) < 0) {
                        log_warn(COMP, "image gc: remove %s: %s", id, error_msg(&err));
                        break;
                }
                log_info(COMP, "image gc: removed %s (%" PRIu64 " bytes)", id, size);
                removed++;
                to_free -= (int64_t)size;
                /* every entry of that id is gone */
                for (size_t i = 0; i < n; i++)
                        if (list[i].id && !strcmp(list[i].id, id)) {
                                free(list[i].id);
                                list[i].id = NULL;
                        }
        }
        images_list_free(list, n);
        return removed;
}

static void cycle(struct eviction *ev, struct stats_snapshot *prev, bool *have_prev)
{
        struct stats_snapshot s;
        if (stats_collect(ev->cfg.rt, ev->data_dir, *have_prev ? prev : NULL, &s) < 0)
                return;
        _cleanup_(json_decrefp) json_t *pods = podsync_pods_active(ev->cfg.ps);
        if (image_gc(ev, pods, &s, false) > 0) {
                stats_snapshot_clear(&s);
                if (stats_collect(ev->cfg.rt, ev->data_dir, *have_prev ? prev : NULL, &s) < 0)
                        return;
        }
        bool met[EVICTION_SIGNAL_N];
        struct eviction_pressure pr;
        eviction_signals_met(&s, ev->cfg.hard, met, &pr);
        /* disk pressure: reclaim node-level resources (unused images) before evicting */
        if (met[EVICTION_IMAGEFS_AVAILABLE] || met[EVICTION_NODEFS_AVAILABLE]) {
                if (image_gc(ev, pods, &s, true) > 0) {
                        stats_snapshot_clear(&s);
                        if (stats_collect(ev->cfg.rt, ev->data_dir, *have_prev ? prev : NULL, &s) <
                            0)
                                return;
                        eviction_signals_met(&s, ev->cfg.hard, met, &pr);
                }
        }
        pthread_mutex_lock(&ev->lock);
        bool changed = memcmp(&pr, &ev->pressure, sizeof(pr)) != 0;
        ev->pressure = pr;
        if (ev->have_snap)
                stats_snapshot_clear(&ev->snap);
        stats_snapshot_copy(&s, &ev->snap);
        ev->have_snap = true;
        pthread_mutex_unlock(&ev->lock);
        if (changed) {
                log_info(COMP, "node pressure: memory %d disk %d pid %d", pr.memory, pr.disk,
                         pr.pid);
                if (ev->cfg.on_change)
                        ev->cfg.on_change(ev->cfg.ud);
        }
        /* evict one pod for the first met signal (memory first, as the kubelet ranks them) */
        for (int i = 0; i < EVICTION_SIGNAL_N && !cleanup_pending(ev, &s); i++) {
                if (!met[i])
                        continue;
                int k = eviction_rank((enum eviction_signal)i, pods, &s);
                if (k < 0)
                        break;
                json_t *pod = json_array_get(pods, (size_t)k);
                const char *uid = kjson_str(pod, "metadata.uid");
                _cleanup_free_ char *msg = eviction_message(
                        (enum eviction_signal)i, &ev->cfg.hard[i], &s, pod, pod_stats(&s, uid));
                log_info(COMP, "evicting pod %s/%s: %s", kjson_str(pod, "metadata.namespace"),
                         kjson_str(pod, "metadata.name"), msg);
                podsync_pod_evict(ev->cfg.ps, uid, msg);
                snprintf(ev->last_uid, sizeof(ev->last_uid), "%s", uid ? uid : "");
                ev->last_disk = i != EVICTION_MEMORY_AVAILABLE && i != EVICTION_PID_AVAILABLE;
                ev->last_at = s.time;
                break;
        }
        if (*have_prev)
                stats_snapshot_clear(prev);
        *prev = s;
        *have_prev = true;
        /* give the pages freed by this cycle (and the pod workers') back to the system: the
         * agent's resident memory is what a node budget counts */
        malloc_trim(0);
}

static void *eviction_main(void *ud)
{
        struct eviction *ev = ud;
        struct stats_snapshot prev = {0};
        bool have_prev = false;
        int interval = ev->cfg.interval_ms > 0 ? ev->cfg.interval_ms : 10000;
        pthread_mutex_lock(&ev->lock);
        while (!ev->stopping) {
                pthread_mutex_unlock(&ev->lock);
                cycle(ev, &prev, &have_prev);
                pthread_mutex_lock(&ev->lock);
                if (ev->stopping)
                        break;
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += interval / 1000;
                ts.tv_nsec += (long)(interval % 1000) * 1000000L;
                if (ts.tv_nsec >= 1000000000L)
                        ts.tv_sec++, ts.tv_nsec -= 1000000000L;
                pthread_cond_timedwait(&ev->cond, &ev->lock, &ts);
        }
        pthread_mutex_unlock(&ev->lock);
        if (have_prev)
                stats_snapshot_clear(&prev);
        return NULL;
}

int eviction_start(const struct eviction_config *cfg, struct eviction **ret, struct error *err)
{
        if (!cfg || !cfg->data_dir || !cfg->rt || !cfg->ps)
                return error_set(err, -EINVAL, "eviction: incomplete config");
        struct eviction *ev = xcalloc(1, sizeof(*ev));
        ev->cfg = *cfg;
        ev->data_dir = xstrdup(cfg->data_dir);
        ev->images_dir = xasprintf("%s/images", cfg->data_dir);
        ev->cfg.data_dir = ev->data_dir;
        pthread_mutex_init(&ev->lock, NULL);
        pthread_cond_init(&ev->cond, NULL);
        int r = -pthread_create(&ev->thread, NULL, eviction_main, ev);
        if (r < 0) {
                free(ev->data_dir);
                free(ev->images_dir);
                free(ev);
                return error_set(err, r, "eviction: thread");
        }
        *ret = ev;
        return 0;
}

void eviction_stop(struct eviction *ev)
{
        if (!ev)
                return;
        pthread_mutex_lock(&ev->lock);
        bool joined = ev->stopping;
        ev->stopping = true;
        pthread_cond_broadcast(&ev->cond);
        pthread_mutex_unlock(&ev->lock);
        if (!joined)
                pthread_join(ev->thread, NULL);
}

void eviction_free(struct eviction *ev)
{
        if (!ev)
                return;
        eviction_stop(ev);
        if (ev->have_snap)
                stats_snapshot_clear(&ev->snap);
        pthread_mutex_destroy(&ev->lock);
        pthread_cond_destroy(&ev->cond);
        free(ev->data_dir);
        free(ev->images_dir);
        free(ev);
}

struct eviction_pressure eviction_pressure_get(struct eviction *ev)
{
        struct eviction_pressure p = {0};
        if (!ev)
                return p;
        pthread_mutex_lock(&ev->lock);
        p = ev->pressure;
        pthread_mutex_unlock(&ev->lock);
        return p;
}

int eviction_snapshot_get(struct eviction *ev, struct stats_snapshot *ret)
{
        int r = -EAGAIN;
        if (!ev)
                return r;
        pthread_mutex_lock(&ev->lock);
        if (ev->have_snap) {
                stats_snapshot_copy(&ev->snap, ret);
                r = 0;
        }
        pthread_mutex_unlock(&ev->lock);
        return r;
}

const struct eviction_threshold *eviction_thresholds(struct eviction *ev)
{
        return ev->cfg.hard;
}

static bool tolerates(json_t *pod, const char *key)
{
        json_t *t;
        size_t i;
        json_array_foreach(kjson_get(pod, "spec.tolerations"), i, t)
        {
                const char *k = kjson_str(t, "key"), *op = kjson_str(t, "operator");
                const char *eff = kjson_str(t, "effect");
                bool exists = op && !strcmp(op, "Exists");
                if ((k && *k ? !strcmp(k, key) : exists) &&
                    (!eff || !*eff || !strcmp(eff, "NoSchedule")))
                        return true;
        }
        return false;
}

bool eviction_admit(void *ud, json_t *pod, char **ret_msg)
{
        struct eviction_pressure p = eviction_pressure_get(ud);
        if (!p.memory && !p.disk && !p.pid)
                return true;
        if (kjson_int(pod, "spec.priority", 0) >= 2000000000)
                return true; /* critical pods */
        if (p.memory && !p.disk && !p.pid &&
            (strcmp(kubelet_status_qos(pod), "BestEffort") ||
             tolerates(pod, "node.kubernetes.io/memory-pressure")))
                return true;
        /* the kubelet prints its node conditions slice: "[MemoryPressure DiskPressure]" */
        *ret_msg = xasprintf("The node had condition: [%s%s%s%s%s]. ",
                             p.memory ? "MemoryPressure" : "",
                             p.memory && (p.disk || p.pid) ? " " : "", p.disk ? "DiskPressure" : "",
                             p.disk && p.pid ? " " : "", p.pid ? "PIDPressure" : "");
        return false;
}
