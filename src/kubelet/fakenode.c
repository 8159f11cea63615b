/* fakenode.c — simulated nodes (see fakenode.h).
 *
 * Locks: f->lock protects the job queue, f->running and f->finalizing (pod uids already handled,
 * so that the status updates our own patches cause are not acted on again). */
#include "kubelet/fakenode.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "client/client.h"
#include "common/kjson.h"
#include "common/log.h"
#include "common/timefmt.h"

#define COMP "fake-nodes"
#define LEASE_NS "kube-node-lease"
#define LEASE_RENEW_MS 10000
#define LEASE_TICK_MS 100

enum job_kind { J_REGISTER, J_RUN, J_FINALIZE };

struct job {
        enum job_kind kind;
        int index; /* J_REGISTER */
        char *ns, *name, *uid, *node;
        json_t *pod;
        struct job *next;
};

struct fakenodes {
        char *kubeconfig, *prefix;
        int count;
        pthread_t watcher;
        atomic_bool stop;
        pthread_t *workers;
        int n_workers;
        pthread_t lease_thread;
        atomic_uint ip_next;
        atomic_int registered;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        /* protected by lock: */
        bool stopping;
        struct job *head, *tail;
        json_t *running;    /* uid -> true */
        json_t *finalizing; /* uid -> true */
};

static void push_locked(struct fakenodes *f, struct job *j)
{
        if (f->tail)
                f->tail->next = j;
        else
                f->head = j;
        f->tail = j;
        pthread_cond_signal(&f->cond);
}

static void job_free(struct job *j)
{
        free(j->ns);
        free(j->name);
        free(j->uid);
        free(j->node);
        json_decref(j->pod);
        free(j);
}

static bool ours(struct fakenodes *f, const char *node)
{
        size_t n = strlen(f->prefix);
        return node && !strncmp(node, f->prefix, n) && node[n];
}

static void on_pod(json_t *pod, struct fakenodes *f)
{
        const char *node = kjson_str(pod, "spec.nodeName");
        const char *uid = kjson_str(pod, "metadata.uid");
        if (!ours(f, node) || !uid)
                return;
        enum job_kind kind;
        const char *phase = kjson_str(pod, "status.phase") ?: "";
        pthread_mutex_lock(&f->lock);
        if (kjson_get(pod, "metadata.deletionTimestamp")) {
                if (json_object_get(f->finalizing, uid))
                        goto out;
                json_object_set_new(f->finalizing, uid, json_true());
                kind = J_FINALIZE;
        } else if (!strcmp(phase, "Pending") || !*phase) {
                if (json_object_get(f->running, uid))
                        goto out;
                json_object_set_new(f->running, uid, json_true());
                kind = J_RUN;
        } else {
                goto out;
        }
        struct job *j = xcalloc(1, sizeof(*j));
        j->kind = kind;
        j->ns = xstrdup(kjson_str(pod, "metadata.namespace") ?: "default");
        j->name = xstrdup(kjson_str(pod, "metadata.name") ?: "");
        j->uid = xstrdup(uid);
        j->node = xstrdup(node);
        j->pod = json_incref(pod);
        push_locked(f, j);
out:
        pthread_mutex_unlock(&f->lock);
}

static void pod_delete(json_t *obj, void *ud)
{
        struct fakenodes *f = ud;
        const char *uid = kjson_str(obj, "metadata.uid");
        if (!uid)
                return;
        pthread_mutex_lock(&f->lock);
        json_object_del(f->running, uid);
        json_object_del(f->finalizing, uid);
        pthread_mutex_unlock(&f->lock);
}

/* ---- the pod watch: list + watch without a cache (an informer would keep every pod of the
 * cluster in memory once more; the events are all we need) ---- */

struct watch_ctx {
        struct fakenodes *f;
        char rv[64];
        bool gone; /* 410: relist */
};

static int on_watch_event(const char *type, json_t *obj, void *ud)
{
        struct watch_ctx *w = ud;
        const char *rv = kjson_str(obj, "metadata.resourceVersion");
        if (!strcmp(type, "ERROR")) {
                if (kjson_int(obj, "code", 0) == 410)
                        w->gone = true;
                return 1;
        }
        if (rv)
                snprintf(w->rv, sizeof(w->rv), "%s", rv);
        if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED"))
                on_pod(obj, w->f);
        else if (!strcmp(type, "DELETED"))
                pod_delete(obj, w->f);
        return atomic_load(&w->f->stop) ? 1 : 0;
}

static int watch_cancelled(void *ud)
{
        struct fakenodes *f = ud;
        return atomic_load(&f->stop);
}

static void *watch_main(void *ud)
{
        struct fakenodes *f = ud;
        struct kclient *c = NULL;
        struct watch_ctx w = {.f = f};
        while (!atomic_load(&f->stop)) {
                struct error err = {0};
                int r = 0;
                if (!c && kclient_from_kubeconfig_as(f->kubeconfig, KCLIENT_AGENT_FAKE_NODE, &c,
                                                     &err) == 0)
                        kclient_set_cancel(c, watch_cancelled, f);
                if (!c) {
                        r = -EIO;
                } else if (!w.rv[0]) {
                        json_t *list = NULL, *pod;
                        size_t i;
                        r = kclient_get(c, "/api/v1/pods", &list, &err);
                        if (r == 0) {
                                json_array_foreach(json_object_get(list, "items"), i, pod)
                                        on_pod(pod, f);
                                snprintf(w.rv, sizeof(w.rv), "%s",
                                         kjson_str(list, "metadata.resourceVersion") ?: "");
                        }
                        json_decref(list);
                } else {
                        _cleanup_free_ char *path =
                                xasprintf("/api/v1/pods?watch=true&allowWatchBookmarks=true"
                                          "&resourceVersion=%s",
                                          w.rv);
                        w.gone = false;
                        r = kclient_watch(c, path, on_watch_event, &w, &err);
                        if (w.gone || r == -ERANGE)
                                w.rv[0] = 0;
                        if (r > 0) /* an ERROR event: back off before the next watch */
                                r = error_set(&err, -EIO, "watch error event");
                }
                if (r < 0 && !atomic_load(&f->stop)) {
                        log_debug(COMP, "pods: %s", error_msg(&err));
                        struct timespec ts = {0, 500 * 1000000L};
                        nanosleep(&ts, NULL);
                }
        }
        if (c)
                kclient_free(c);
        return NULL;
}

static void now_str(char buf[32])
{
        timefmt_rfc3339(buf, time(NULL));
}

static char *node_ip(int index)
{
        return xasprintf("10.127.%d.%d", (index / 250) % 256, index % 250 + 1);
}

static int do_register(struct fakenodes *f, struct kclient *c, int index, struct error *err)
{
        _cleanup_free_ char *name = xasprintf("%s%d", f->prefix, index);
        _cleanup_free_ char *ip = node_ip(index);
        char now[32];
        now_str(now);
        json_t *node = json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s}}, s:{}}",
                                 "apiVersion", "v1", "kind", "Node", "metadata", "name", name,
                                 "labels", "kubernetes.io/hostname", name, "kubernetes.io/os",
                                 "linux", "kubernetes.io/arch", "amd64", "type", "fake-node",
                                 "annotations", "node.alpha.kubernetes.io/ttl", "0", "spec");
        int r = kclient_create(c, "/api/v1/nodes", node, NULL, err);
        json_decref(node);
        if (r < 0 && r != -EEXIST)
                return r;
        json_t *cap = json_pack("{s:s, s:s, s:s, s:s}", "cpu", "32", "memory", "256Gi", "pods",
                                "110", "ephemeral-storage", "1Ti");
        json_t *conds = json_array();
        static const char *const types[][4] = {
                {"MemoryPressure", "False", "KubeletHasSufficientMemory",
                 "kubelet has sufficient memory available"},
                {"DiskPressure", "False", "KubeletHasNoDiskPressure",
                 "kubelet has no disk pressure"},
                {"PIDPressure", "False", "KubeletHasSufficientPID",
                 "kubelet has sufficient PID available"},
                {"Ready", "True", "KubeletReady", "kubelet is posting ready status"},
        };
        for (size_t i = 0; i < 4; i++)
                json_array_append_new(conds, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type",
                                                       types[i][0], "status", types[i][1], "reason",
                                                       types[i][2], "message", types[i][3],
                                                       "lastHeartbeatTime", now,
                                                       "lastTransitionTime", now));
        json_t *patch = json_pack(
                "{s:{s:O, s:o, s:o, s:[{s:s, s:s}, {s:s, s:s}], s:{s:s, s:s, s:s, s:s, s:s, s:s,"
                " s:s, s:s, s:s, s:s}}}",
                "status", "capacity", cap, "allocatable", cap, "conditions", conds, "addresses",
                "type", "InternalIP", "address", ip, "type", "Hostname", "address", name,
                "nodeInfo", "machineID", name, "systemUUID", name, "bootID", name, "kernelVersion",
                "fake", "osImage", "fake", "containerRuntimeVersion", "fake://1.0",
                "kubeletVersion", "v1.31.0-fake", "kubeProxyVersion", "v1.31.0-fake",
                "operatingSystem", "linux", "architecture", "amd64");
        _cleanup_free_ char *path = xasprintf("/api/v1/nodes/%s/status", name);
        r = kclient_patch(c, path, "merge", patch, NULL, err);
        json_decref(patch);
        return r;
}

static int renew_lease(struct fakenodes *f, struct kclient *c, int index, struct error *err)
{
        _cleanup_free_ char *name = xasprintf("%s%d", f->prefix, index);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char micro[40];
        timefmt_rfc3339micro(micro, &ts);
        _cleanup_free_ char *path =
                xasprintf("/apis/coordination.k8s.io/v1/namespaces/" LEASE_NS "/leases/%s", name);
        json_t *patch = json_pack("{s:{s:s}}", "spec", "renewTime", micro);
        int r = kclient_patch(c, path, "merge", patch, NULL, err);
        json_decref(patch);
        if (r != -ENOENT)
                return r;
        json_t *lease =
                json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s, s:s}}", "apiVersion",
                          "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", name,
                          "namespace", LEASE_NS, "spec", "holderIdentity", name,
                          "leaseDurationSeconds", 40, "renewTime", micro, "acquireTime", micro);
        r = kclient_create(c, "/apis/coordination.k8s.io/v1/namespaces/" LEASE_NS "/leases", lease,
                           NULL, err);
        if (r == -ENOENT) {
                json_t *ns = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind",
                                       "Namespace", "metadata", "name", LEASE_NS);
                kclient_create(c, "/api/v1/namespaces", ns, NULL, NULL);
                json_decref(ns);
                r = kclient_create(c, "/apis/coordination.k8s.io/v1/namespaces/" LEASE_NS "/leases",
                                   lease, NULL, err);
        }
        json_decref(lease);
        return r;
}

static int do_run(struct fakenodes *f, struct kclient *c, struct job *j, struct error *err)
{
        char now[32];
        now_str(now);
        unsigned n = atomic_fetch_add(&f->ip_next, 1) + 2;
        char ip[32];
        snprintf(ip, sizeof(ip), "10.%u.%u.%u", 128 + ((n >> 16) & 127), (n >> 8) & 255, n & 255);
        int index = atoi(j->node + strlen(f->prefix));
        _cleanup_free_ char *hip = node_ip(index);
        json_t *cs = json_array(), *ctr;
        size_t i;
        json_array_foreach(kjson_get(j->pod, "spec.containers"), i, ctr)
        {
                _cleanup_free_ char *cid = xasprintf("fake://%s-%zu", j->uid, i);
                json_array_append_new(cs,
                                      json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:i, s:{s:{s:s}}}",
                                                "name", kjson_str(ctr, "name") ?: "", "image",
                                                kjson_str(ctr, "image") ?: "", "imageID",
                                                kjson_str(ctr, "image") ?: "", "containerID", cid,
                                                "ready", 1, "started", 1, "restartCount", 0,
                                                "state", "running", "startedAt", now));
        }
        json_t *conds = json_array();
        static const char *const types[] = {"PodReadyToStartContainers", "Initialized", "Ready",
                                            "ContainersReady", "PodScheduled"};
        for (size_t k = 0; k < 5; k++)
                json_array_append_new(conds, json_pack("{s:s, s:s, s:n, s:s}", "type", types[k],
                                                       "status", "True", "lastProbeTime",
                                                       "lastTransitionTime", now));
        json_t *patch = json_pack("{s:{s:s, s:s, s:[{s:s}], s:s, s:[{s:s}], s:s, s:o, s:o}}",
                                  "status", "phase", "Running", "podIP", ip, "podIPs", "ip", ip,
                                  "hostIP", hip, "hostIPs", "ip", hip, "startTime", now,
                                  "conditions", conds, "containerStatuses", cs);
        _cleanup_free_ char *path =
                xasprintf("/api/v1/namespaces/%s/pods/%s/status", j->ns, j->name);
        int r = kclient_patch(c, path, "merge", patch, NULL, err);
        json_decref(patch);
        return r;
}

static int do_finalize(struct kclient *c, struct job *j, struct error *err)
{
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s", j->ns, j->name);
        json_t *opts = json_pack("{s:i, s:{s:s}}", "gracePeriodSeconds", 0, "preconditions", "uid",
                                 j->uid);
        int r = kclient_delete(c, path, opts, NULL, err);
        json_decref(opts);
        return r;
}

static void *worker_main(void *ud)
{
        struct fakenodes *f = ud;
        struct kclient *c = NULL;
        pthread_mutex_lock(&f->lock);
        while (!f->stopping) {
                if (!f->head) {
                        pthread_cond_wait(&f->cond, &f->lock);
                        continue;
                }
                struct job *j = f->head;
                f->head = j->next;
                if (!f->head)
                        f->tail = NULL;
                j->next = NULL;
                pthread_mutex_unlock(&f->lock);
                struct error err = {0};
                int r = c ? 0
                          : kclient_from_kubeconfig_as(f->kubeconfig, KCLIENT_AGENT_FAKE_NODE, &c,
                                                       &err);
                if (r == 0) {
                        switch (j->kind) {
                        case J_REGISTER:
                                r = do_register(f, c, j->index, &err);
                                if (r == 0)
                                        atomic_fetch_add(&f->registered, 1);
                                break;
                        case J_RUN:
                                r = do_run(f, c, j, &err);
                                break;
                        case J_FINALIZE:
                                r = do_finalize(c, j, &err);
                                break;
                        }
                }
                bool retry = r < 0 && r != -ENOENT && r != -ESTALE && r != -EINVAL;
                if (r < 0)
                        log_debug(COMP, "job %d %s: %s", (int)j->kind, j->name ?: "",
                                  error_msg(&err));
                if (retry) {
                        struct timespec ts = {0, 200 * 1000000L};
                        nanosleep(&ts, NULL);
                }
                pthread_mutex_lock(&f->lock);
                if (retry && !f->stopping) {
                        push_locked(f, j);
                } else {
                        if (r < 0 && j->uid) { /* let a later event try again */
                                json_object_del(f->running, j->uid);
                                json_object_del(f->finalizing, j->uid);
                        }
                        job_free(j);
                }
        }
        pthread_mutex_unlock(&f->lock);
        if (c)
                kclient_free(c);
        return NULL;
}

/* Renew each node's Lease once per LEASE_RENEW_MS, a slice of the nodes every tick. */
static void *lease_main(void *ud)
{
        struct fakenodes *f = ud;
        struct kclient *c = NULL;
        int cursor = 0;
        double carry = 0;
        pthread_mutex_lock(&f->lock);
        while (!f->stopping) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += LEASE_TICK_MS * 1000000L;
                ts.tv_sec += ts.tv_nsec / 1000000000L;
                ts.tv_nsec %= 1000000000L;
                pthread_cond_timedwait(&f->cond, &f->lock, &ts);
                if (f->stopping)
                        break;
                pthread_mutex_unlock(&f->lock);
                struct error err = {0};
                if (!c && kclient_from_kubeconfig_as(f->kubeconfig, KCLIENT_AGENT_FAKE_NODE, &c,
                                                     &err) < 0)
                        c = NULL;
                if (c && atomic_load(&f->registered) > 0) {
                        carry += (double)f->count * LEASE_TICK_MS / LEASE_RENEW_MS;
                        int n = (int)carry;
                        carry -= n;
                        for (int k = 0; k < n; k++) {
                                if (renew_lease(f, c, cursor, &err) < 0)
                                        log_debug(COMP, "lease %d: %s", cursor, error_msg(&err));
                                cursor = (cursor + 1) % f->count;
                        }
                }
                pthread_mutex_lock(&f->lock);
        }
        pthread_mutex_unlock(&f->lock);
        if (c)
                kclient_free(c);
        return NULL;
}

static void free_all(struct fakenodes *f)
{
        while (f->head) {
                struct job *j = f->head;
                f->head = j->next;
                job_free(j);
        }
        json_decref(f->running);
        json_decref(f->finalizing);
        pthread_mutex_destroy(&f->lock);
        pthread_cond_destroy(&f->cond);
        free(f->workers);
        free(f->kubeconfig);
        free(f->prefix);
        free(f);
}

int fakenodes_start(const struct fakenodes_config *cfg, struct fakenodes **ret, struct error *err)
{
        if (!cfg || !cfg->kubeconfig || cfg->count <= 0)
                return error_set(err, -EINVAL, "fake nodes: need a kubeconfig and a count > 0");
        struct fakenodes *f = xcalloc(1, sizeof(*f));
        f->kubeconfig = xstrdup(cfg->kubeconfig);
        f->prefix = xstrdup(cfg->prefix && *cfg->prefix ? cfg->prefix : "fake-node-");
        f->count = cfg->count;
        f->n_workers = cfg->workers > 0 ? cfg->workers : 16;
        f->workers = xcalloc((size_t)f->n_workers, sizeof(pthread_t));
        f->running = json_object();
        f->finalizing = json_object();
        pthread_mutex_init(&f->lock, NULL);
        pthread_cond_init(&f->cond, NULL);
        for (int i = 0; i < f->count; i++) {
                struct job *j = xcalloc(1, sizeof(*j));
                j->kind = J_REGISTER;
                j->index = i;
                push_locked(f, j);
        }
        int r = -pthread_create(&f->watcher, NULL, watch_main, f);
        if (r < 0) {
                free_all(f);
                return error_set(err, r, "fake nodes: thread: %s", strerror(-r));
        }
        int started = 0;
        for (; started < f->n_workers; started++)
                if ((r = -pthread_create(&f->workers[started], NULL, worker_main, f)) < 0)
                        break;
        if (r == 0)
                r = -pthread_create(&f->lease_thread, NULL, lease_main, f);
        if (r < 0) {
                pthread_mutex_lock(&f->lock);
                f->stopping = true;
                pthread_cond_broadcast(&f->cond);
                pthread_mutex_unlock(&f->lock);
                for (int i = 0; i < started; i++)
                        pthread_join(f->workers[i], NULL);
                atomic_store(&f->stop, true);
                pthread_join(f->watcher, NULL);
                free_all(f);
                return error_set(err, r, "fake nodes: thread: %s", strerror(-r));
        }
        log_info(COMP, "registering %d fake nodes %s0..%s%d", f->count, f->prefix, f->prefix,
                 f->count - 1);
        *ret = f;
        return 0;
}

void fakenodes_stop(struct fakenodes *f)
{
        if (!f)
                return;
        pthread_mutex_lock(&f->lock);
        f->stopping = true;
        pthread_cond_broadcast(&f->cond);
        pthread_mutex_unlock(&f->lock);
        for (int i = 0; i < f->n_workers; i++)
                pthread_join(f->workers[i], NULL);
        pthread_join(f->lease_thread, NULL);
        atomic_store(&f->stop, true);
        pthread_join(f->watcher, NULL);
        free_all(f);
}
