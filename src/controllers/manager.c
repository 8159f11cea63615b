/* manager.c — shared informers, leader election, per-controller workers (see manager.h).
 *
 * Threads: one informer thread per resource (handlers dispatch to every controller's on_event,
 * which only queues keys), one leader-election thread, one worker thread per controller (each
 * with its own kclient). A controller's sync runs only on its worker, only while this process
 * holds the lease and once the caches it needs have synced. */
#include "controllers/manager.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "api/meta.h"
#include "client/informer.h"
#include "common/kjson.h"
#include "common/timefmt.h"
#include "controllers/controllers-internal.h"
#include "controllers/util.h"

#define COMP "controller-manager"
#define RESYNC_MS 30000

static const char *const res_paths[CTL_RES_N] = {
        [CTL_PODS] = "/api/v1/pods",
        [CTL_REPLICASETS] = "/apis/apps/v1/replicasets",
        [CTL_DEPLOYMENTS] = "/apis/apps/v1/deployments",
        [CTL_JOBS] = "/apis/batch/v1/jobs",
        [CTL_CRONJOBS] = "/apis/batch/v1/cronjobs",
        [CTL_NAMESPACES] = "/api/v1/namespaces",
        [CTL_SERVICEACCOUNTS] = "/api/v1/serviceaccounts",
        [CTL_RCS] = "/api/v1/replicationcontrollers",
        [CTL_DAEMONSETS] = "/apis/apps/v1/daemonsets",
        [CTL_STATEFULSETS] = "/apis/apps/v1/statefulsets",
        [CTL_CONTROLLERREVISIONS] = "/apis/apps/v1/controllerrevisions",
        [CTL_PVCS] = "/api/v1/persistentvolumeclaims",
        [CTL_PVS] = "/api/v1/persistentvolumes",
        [CTL_STORAGECLASSES] = "/apis/storage.k8s.io/v1/storageclasses",
        [CTL_NODES] = "/api/v1/nodes",
        [CTL_NODE_LEASES] = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
        [CTL_SERVICES] = "/api/v1/services",
        [CTL_PDBS] = "/apis/policy/v1/poddisruptionbudgets",
        [CTL_HPAS] = "/apis/autoscaling/v2/horizontalpodautoscalers",
};

static void (*const ctor[])(struct controller *c) = {
        replicaset_controller_init,
        replicationcontroller_controller_init,
        deployment_controller_init,
        gc_controller_init,
        job_controller_init,
        cronjob_controller_init,
        serviceaccount_controller_init,
        nodelifecycle_controller_init,
        endpoints_controller_init,
        endpointslice_controller_init,
        namespace_controller_init,
        daemonset_controller_init,
        statefulset_controller_init,
        pvbinder_controller_init,
        localpath_controller_init,
        pvcprotection_controller_init,
        disruption_controller_init,
        hpa_controller_init,
};
#define N_CTL ARRAY_SIZE(ctor)

struct dispatch {
        struct manager *m;
        enum ctl_res res;
};

/* One manager_parallel call: tasks [next, n) remain, done counts finished ones. */
struct prun {
        size_t n, next, done;
        int (*fn)(struct kclient *kc, size_t i, void *ud);
        void *ud;
        pthread_cond_t cond; /* signalled when done == n */
};

struct manager {
        char *kubeconfig;
        char *storage_dir;
        struct manager_config cfg; /* strings owned: cluster_cidr */
        pthread_t pool[MANAGER_POOL];
        bool pool_started[MANAGER_POOL];
        pthread_mutex_t pool_lock; /* protects runs and pool_cond waits */
        pthread_cond_t pool_cond;  /* new run or stopping */
        json_t *runs;              /* array of pointers (integers) to struct prun with work left */
        char *identity;
        struct informer *inf[CTL_RES_N];
        struct dispatch disp[CTL_RES_N];
        struct controller ctl[N_CTL];
        pthread_t workers[N_CTL];
        bool worker_started[N_CTL];
        pthread_t elector;
        bool elector_started;
        atomic_bool leader;
        atomic_bool stopping;
        pthread_mutex_t lock; /* protects nothing but the stop condition */
        pthread_cond_t cond;
};

/* ---- informer fan-out ---- */

static void dispatch_event(struct dispatch *d, json_t *old, json_t *cur)
{
        for (size_t i = 0; i < N_CTL; i++) {
                struct controller *c = &d->m->ctl[i];
                if (c->on_event)
                        c->on_event(c, d->res, old, cur);
        }
}
static void h_add(json_t *obj, void *ud)
{
        dispatch_event(ud, NULL, obj);
}
static void h_update(json_t *old_obj, json_t *new_obj, void *ud)
{
        dispatch_event(ud, old_obj, new_obj);
}
static void h_delete(json_t *obj, void *ud)
{
        dispatch_event(ud, obj, NULL);
}

json_t *manager_cache_get(struct manager *m, enum ctl_res res, const char *ns, const char *name)
{
        return informer_get(m->inf[res], ns, name);
}

json_t *manager_cache_list(struct manager *m, enum ctl_res res, const char *ns)
{
        json_t *arr = NULL;
        informer_list(m->inf[res], ns, &arr);
        return arr ? arr : json_array();
}

bool manager_cache_synced(struct manager *m, enum ctl_res res)
{
        return informer_has_synced(m->inf[res]);
}

const struct manager_config *manager_get_config(struct manager *m)
{
        return &m->cfg;
}

const char *manager_storage_dir(struct manager *m)
{
        return m->storage_dir;
}

bool manager_is_leader(struct manager *m)
{
        return atomic_load(&m->leader);
}

void manager_event(struct kclient *kc, const char *component, const json_t *obj, const char *type,
                   const char *reason, const char *fmt, ...)
{
        struct error err = {0};
        struct timespec ts;
        char now[32], msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        clock_gettime(CLOCK_REALTIME, &ts);
        timefmt_rfc3339(now, ts.tv_sec);
        const char *ns = kjson_str(obj, "metadata.namespace") ?: "default";
        const char *name = kjson_str(obj, "metadata.name") ?: "";
        _cleanup_free_ char *ev_name = xasprintf("%s.%llx", name,
                                                 (unsigned long long)ts.tv_sec * 1000000000ULL +
                                                         (unsigned long long)ts.tv_nsec);
        json_t *ev = json_pack(
                "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s,"
                " s:{s:s}, s:s, s:s, s:i, s:n, s:s, s:s}",
                "apiVersion", "v1", "kind", "Event", "metadata", "name", ev_name, "namespace", ns,
                "involvedObject", "apiVersion", kjson_str(obj, "apiVersion") ?: "v1", "kind",
                kjson_str(obj, "kind") ?: "", "name", name, "namespace", ns, "uid",
                kjson_str(obj, "metadata.uid") ?: "", "resourceVersion",
                kjson_str(obj, "metadata.resourceVersion") ?: "", "reason", reason, "message", msg,
                "type", type, "source", "component", component, "firstTimestamp", now,
                "lastTimestamp", now, "count", 1, "eventTime", "reportingComponent", component,
                "reportingInstance", component);
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/events", ns);
        if (kclient_create(kc, path, ev, NULL, &err) < 0)
                log_debug(COMP, "event %s for %s/%s: %s", reason, ns, name, error_msg(&err));
        json_decref(ev);
}

/* ---- the API worker pool ---- */

static void *pool_main(void *ud)
{
        struct manager *m = ud;
        struct kclient *kc = NULL;
        struct error err = {0};
        pthread_mutex_lock(&m->pool_lock);
        for (;;) {
                struct prun *run = NULL;
                while (!atomic_load(&m->stopping) && !json_array_size(m->runs))
                        pthread_cond_wait(&m->pool_cond, &m->pool_lock);
                if (atomic_load(&m->stopping) && !json_array_size(m->runs))
                        break;
                run = (struct prun *)(uintptr_t)json_integer_value(json_array_get(m->runs, 0));
                size_t i = run->next++;
                if (run->next >= run->n)
                        json_array_remove(m->runs, 0);
                pthread_mutex_unlock(&m->pool_lock);
                if (!kc && kclient_from_kubeconfig_as(m->kubeconfig, KCLIENT_AGENT_CONTROLLERS, &kc,
                                                      &err) < 0)
                        kc = NULL;
                if (kc)
                        run->fn(kc, i, run->ud);
                pthread_mutex_lock(&m->pool_lock);
                if (++run->done == run->n)
                        pthread_cond_broadcast(&run->cond);
        }
        pthread_mutex_unlock(&m->pool_lock);
        if (kc)
                kclient_free(kc);
        return NULL;
}

void manager_parallel(struct manager *m, struct kclient *kc_self, size_t n,
                      int (*fn)(struct kclient *kc, size_t i, void *ud), void *ud)
{
        if (n == 0)
                return;
        if (n == 1 || !m->pool_started[0] || atomic_load(&m->stopping)) {
                for (size_t i = 0; i < n; i++)
                        fn(kc_self, i, ud);
                return;
        }
        struct prun run = {.n = n, .fn = fn, .ud = ud};
        pthread_cond_init(&run.cond, NULL);
        pthread_mutex_lock(&m->pool_lock);
        json_array_append_new(m->runs, json_integer((json_int_t)(uintptr_t)&run));
        pthread_cond_broadcast(&m->pool_cond);
        while (run.done < run.n)
                pthread_cond_wait(&run.cond, &m->pool_lock);
        pthread_mutex_unlock(&m->pool_lock);
        pthread_cond_destroy(&run.cond);
}

/* ---- leader election ---- */

json_t *manager_lease_next(const json_t *lease, const char *identity, int64_t now_s,
                           int64_t observed_s)
{
        struct timespec ts;
        char micro[40];
        clock_gettime(CLOCK_REALTIME, &ts);
        timefmt_rfc3339micro(micro, &ts);
        if (!lease)
                return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s, s:s, s:i}}",
                                 "apiVersion", "coordination.k8s.io/v1", "kind", "Lease",
                                 "metadata", "name", MANAGER_LEASE_NAME, "namespace",
                                 MANAGER_LEASE_NAMESPACE, "spec", "holderIdentity", identity,
                                 "leaseDurationSeconds", MANAGER_LEASE_DURATION_S, "acquireTime",
                                 micro, "renewTime", micro, "leaseTransitions", 0);
        const char *holder = kjson_str(lease, "spec.holderIdentity");
        int64_t dur = kjson_int(lease, "spec.leaseDurationSeconds", MANAGER_LEASE_DURATION_S);
        bool mine = holder && !strcmp(holder, identity);
        if (holder && *holder && !mine && observed_s + dur > now_s)
                return NULL;
        json_t *next = json_deep_copy(lease);
        json_t *spec = kjson_obj_ensure(next, "spec");
        json_object_set_new(spec, "holderIdentity", json_string(identity));
        json_object_set_new(spec, "leaseDurationSeconds", json_integer(MANAGER_LEASE_DURATION_S));
        json_object_set_new(spec, "renewTime", json_string(micro));
        if (!mine) {
                json_object_set_new(spec, "acquireTime", json_string(micro));
                json_object_set_new(spec, "leaseTransitions",
                                    json_integer(kjson_int(lease, "spec.leaseTransitions", 0) + 1));
        }
        return next;
}

static bool sleep_or_stop(struct manager *m, int64_t ms)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&m->lock);
        if (!atomic_load(&m->stopping))
                pthread_cond_timedwait(&m->cond, &m->lock, &ts);
        pthread_mutex_unlock(&m->lock);
        return atomic_load(&m->stopping);
}

static const char *lease_path = "/apis/coordination.k8s.io/v1/namespaces/" MANAGER_LEASE_NAMESPACE
                                "/leases/" MANAGER_LEASE_NAME;

static void set_leader(struct manager *m, bool v)
{
        if (atomic_exchange(&m->leader, v) != v)
                log_info(COMP, "%s %s lease %s/%s", m->identity, v ? "acquired" : "lost",
                         MANAGER_LEASE_NAMESPACE, MANAGER_LEASE_NAME);
}

static void *elector_main(void *ud)
{
        struct manager *m = ud;
        struct kclient *kc = NULL;
        struct error err = {0};
        int64_t observed_s = 0, last_renew_s = 0;
        char *seen = NULL; /* holder + renewTime last observed */

        while (!atomic_load(&m->stopping)) {
                int64_t now_s = workqueue_now_ms() / 1000;
                _cleanup_free_ char *rec = NULL;
                if (!kc && kclient_from_kubeconfig_as(m->kubeconfig, KCLIENT_AGENT_CONTROLLERS, &kc,
                                                      &err) < 0) {
                        kc = NULL;
                        goto next;
                }
                json_t *lease = NULL;
                int r = kclient_get(kc, lease_path, &lease, &err);
                if (r < 0 && r != -ENOENT) {
                        log_debug(COMP, "lease: %s", error_msg(&err));
                        goto check;
                }
                if (lease)
                        rec = xasprintf("%s|%s", kjson_str(lease, "spec.holderIdentity") ?: "",
                                        kjson_str(lease, "spec.renewTime") ?: "");
                if (!seen || !rec || strcmp(seen, rec)) {
                        free(seen);
                        seen = rec ? xstrdup(rec) : NULL;
                        observed_s = now_s;
                }
                json_t *next = manager_lease_next(lease, m->identity, now_s, observed_s);
                json_decref(lease);
                if (!next) {
                        set_leader(m, false);
                        goto next;
                }
                if (lease)
                        r = kclient_update(kc, lease_path, next, NULL, &err);
                else
                        r = kclient_create(
                                kc,
                                "/apis/coordination.k8s.io/v1/namespaces/" MANAGER_LEASE_NAMESPACE
                                "/leases",
                                next, NULL, &err);
                json_decref(next);
                if (r == 0) {
                        last_renew_s = now_s;
                        set_leader(m, true);
                        goto next;
                }
                log_debug(COMP, "lease write: %s", error_msg(&err));
        check:
                if (atomic_load(&m->leader) && now_s - last_renew_s > MANAGER_RENEW_DEADLINE_S)
                        set_leader(m, false);
        next:
                sleep_or_stop(m, MANAGER_RETRY_PERIOD_S * 1000);
        }
        /* ReleaseOnCancel: hand the lease back so another server need not wait it out. */
        if (kc && atomic_load(&m->leader)) {
                json_t *lease = NULL;
                if (kclient_get(kc, lease_path, &lease, &err) == 0 &&
                    !strcmp(kjson_str(lease, "spec.holderIdentity") ?: "", m->identity)) {
                        json_t *spec = kjson_obj_ensure(lease, "spec");
                        json_object_set_new(spec, "holderIdentity", json_null());
                        json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
                        if (kclient_update(kc, lease_path, lease, NULL, &err) < 0)
                                log_debug(COMP, "lease release: %s", error_msg(&err));
                }
                json_decref(lease);
                atomic_store(&m->leader, false);
        }
        free(seen);
        if (kc)
                kclient_free(kc);
        return NULL;
}

/* ---- workers ---- */

struct worker_arg {
        struct manager *m;
        struct controller *c;
};

static bool caches_ready(struct manager *m, unsigned needs)
{
        for (int i = 0; i < CTL_RES_N; i++)
                if ((needs & (1u << i)) && !informer_has_synced(m->inf[i]))
                        return false;
        return true;
}

static void resync(struct manager *m)
{
        for (int i = 0; i < CTL_RES_N; i++) {
                if (!informer_has_synced(m->inf[i]))
                        continue;
                json_t *arr = manager_cache_list(m, (enum ctl_res)i, NULL);
                json_t *o;
                size_t k;
                json_array_foreach(arr, k, o) dispatch_event(&m->disp[i], o, o);
                json_decref(arr);
        }
}

static void *worker_main(void *ud)
{
        struct controller *c = ud;
        struct manager *m = c->m;
        struct kclient *kc = NULL;
        struct error err = {0};
        int64_t last_resync = workqueue_now_ms();

        while (!atomic_load(&m->stopping)) {
                if (!atomic_load(&m->leader) || !caches_ready(m, c->needs)) {
                        sleep_or_stop(m, 200);
                        continue;
                }
                if (!kc && kclient_from_kubeconfig_as(m->kubeconfig, KCLIENT_AGENT_CONTROLLERS, &kc,
                                                      &err) < 0) {
                        log_warn(COMP, "%s: kubeconfig: %s", c->name, error_msg(&err));
                        kc = NULL;
                        sleep_or_stop(m, 1000);
                        continue;
                }
                /* the first worker drives the periodic resync of every cache */
                if (c == &m->ctl[0] && workqueue_now_ms() - last_resync > RESYNC_MS) {
                        last_resync = workqueue_now_ms();
                        resync(m);
                }
                char *key = workqueue_get(c->wq, 500);
                if (!key)
                        continue;
                int r = c->sync(c, kc, key);
                if (r < 0) {
                        log_debug(COMP, "%s: sync %s: %s (requeued)", c->name, key, strerror(-r));
                        workqueue_add_rate_limited(c->wq, key);
                } else {
                        workqueue_forget(c->wq, key);
                }
                workqueue_done(c->wq, key);
                free(key);
        }
        if (kc)
                kclient_free(kc);
        return NULL;
}

int manager_start(const struct manager_config *cfg, struct manager **ret, struct error *err)
{
        if (!cfg || !cfg->kubeconfig)
                return error_set(err, -EINVAL, "controller manager: no kubeconfig");
        struct manager *m = xcalloc(1, sizeof(*m));
        char uid[37];
        int r = 0;
        meta_uid_new(uid);
        if (cfg->state_dir) {
                _cleanup_free_ char *path = xasprintf("%s/controller-manager.id", cfg->state_dir);
                FILE *f = fopen(path, "re");
                char buf[64] = "";
                if (f) {
                        if (!fgets(buf, sizeof(buf), f))
                                buf[0] = 0;
                        fclose(f);
                }
                buf[strcspn(buf, "\n")] = 0;
                if (strlen(buf) == 36) {
                        memcpy(uid, buf, sizeof(uid));
                } else if ((f = fopen(path, "we"))) {
                        fprintf(f, "%s\n", uid);
                        fclose(f);
                }
        }
        m->kubeconfig = xstrdup(cfg->kubeconfig);
        m->storage_dir = cfg->storage_dir ? xstrdup(cfg->storage_dir) : NULL;
        m->cfg = *cfg;
        m->cfg.cluster_cidr = xstrdup(cfg->cluster_cidr ? cfg->cluster_cidr : "10.42.0.0/16");
        m->cfg.node_monitor_grace_s = cfg->node_monitor_grace_s > 0 ? cfg->node_monitor_grace_s : 40;
        memset(&m->cfg, 0, offsetof(struct manager_config, cluster_cidr)); /* borrowed pointers */
        m->cfg.apiserver_ip = cfg->apiserver_ip ? xstrdup(cfg->apiserver_ip) : NULL;
        m->identity = xasprintf("%s_%s", cfg->identity ? cfg->identity : "timonel", uid);
        pthread_mutex_init(&m->lock, NULL);
        pthread_cond_init(&m->cond, NULL);
        pthread_mutex_init(&m->pool_lock, NULL);
        pthread_cond_init(&m->pool_cond, NULL);
        m->runs = json_array();
        for (size_t i = 0; i < N_CTL; i++) {
                m->ctl[i].m = m;
                m->ctl[i].wq = workqueue_new();
                ctor[i](&m->ctl[i]);
        }
        struct informer_handlers h = {
                .on_add = h_add, .on_update = h_update, .on_delete = h_delete};
        for (int i = 0; i < CTL_RES_N; i++) {
                m->disp[i] = (struct dispatch){.m = m, .res = (enum ctl_res)i};
                r = informer_start(m->kubeconfig, res_paths[i], NULL, &h, &m->disp[i], &m->inf[i],
                                   err);
                if (r < 0)
                        goto fail;
        }
        for (size_t i = 0; i < MANAGER_POOL; i++) {
                r = -pthread_create(&m->pool[i], NULL, pool_main, m);
                if (r < 0)
                        goto fail_thread;
                m->pool_started[i] = true;
        }
        r = -pthread_create(&m->elector, NULL, elector_main, m);
        if (r < 0)
                goto fail_thread;
        m->elector_started = true;
        for (size_t i = 0; i < N_CTL; i++) {
                r = -pthread_create(&m->workers[i], NULL, worker_main, &m->ctl[i]);
                if (r < 0)
                        goto fail_thread;
                m->worker_started[i] = true;
        }
        *ret = m;
        return 0;
fail_thread:
        error_set(err, r, "controller manager: thread: %s", strerror(-r));
fail:
        manager_stop(m);
        return r;
}

void manager_stop(struct manager *m)
{
        if (!m)
                return;
        pthread_mutex_lock(&m->lock);
        atomic_store(&m->stopping, true);
        pthread_cond_broadcast(&m->cond);
        pthread_mutex_unlock(&m->lock);
        for (size_t i = 0; i < N_CTL; i++)
                workqueue_shutdown(m->ctl[i].wq);
        for (size_t i = 0; i < N_CTL; i++)
                if (m->worker_started[i])
                        pthread_join(m->workers[i], NULL);
        pthread_mutex_lock(&m->pool_lock);
        pthread_cond_broadcast(&m->pool_cond);
        pthread_mutex_unlock(&m->pool_lock);
        for (size_t i = 0; i < MANAGER_POOL; i++)
                if (m->pool_started[i])
                        pthread_join(m->pool[i], NULL);
        json_decref(m->runs);
        pthread_mutex_destroy(&m->pool_lock);
        pthread_cond_destroy(&m->pool_cond);
        if (m->elector_started)
                pthread_join(m->elector, NULL);
        for (int i = 0; i < CTL_RES_N; i++)
                informer_stop(m->inf[i]);
        for (size_t i = 0; i < N_CTL; i++) {
                if (m->ctl[i].free)
                        m->ctl[i].free(&m->ctl[i]);
                workqueue_free(m->ctl[i].wq);
        }
        pthread_mutex_destroy(&m->lock);
        pthread_cond_destroy(&m->cond);
        free(m->identity);
        free(m->kubeconfig);
        free(m->storage_dir);
        free((char *)m->cfg.cluster_cidr);
        free((char *)m->cfg.apiserver_ip);
        free(m);
}
