/* scheduler.c — the default scheduler: informers on pods and nodes, one worker thread that binds
 * each unscheduled pod to the fitting node with the fewest pods (kube-scheduler's behaviour,
 * reduced to the predicates we support: Ready, unschedulable, nodeSelector, taints/tolerations),
 * with per-pod backoff (1 s doubling to 10 s) when nothing fits. */
#include "scheduler/scheduler.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "client/client.h"
#include "client/informer.h"
#include "common/kjson.h"
#include "common/log.h"
#include "common/timefmt.h"

#define COMP "scheduler"
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 10000
#define SCHEDULER_NAME "default-scheduler"

/* ---- pure part ---- */

static bool tolerates(json_t *pod, const char *key, const char *value, const char *effect)
{
        json_t *t;
        size_t i;
        json_array_foreach(kjson_get(pod, "spec")
                                   ? json_object_get(kjson_get(pod, "spec"), "tolerations")
                                   : NULL,
                           i, t)
        {
                const char *tk = json_string_value(json_object_get(t, "key"));
                const char *op = json_string_value(json_object_get(t, "operator"));
                const char *tv = json_string_value(json_object_get(t, "value"));
                const char *te = json_string_value(json_object_get(t, "effect"));
                bool exists = op && !strcmp(op, "Exists");
                if (te && *te && strcmp(te, effect))
                        continue;
                if (!tk || !*tk) {
                        if (exists)
                                return true;
                        continue;
                }
                if (strcmp(tk, key))
                        continue;
                if (exists || !strcmp(tv ? tv : "", value ? value : ""))
                        return true;
        }
        return false;
}

static bool node_ready(json_t *node)
{
        json_t *c;
        size_t i;
        json_array_foreach(kjson_get(node, "status.conditions"), i, c)
        {
                const char *type = json_string_value(json_object_get(c, "type"));
                if (type && !strcmp(type, "Ready"))
                        return !strcmp(json_string_value(json_object_get(c, "status")) ?: "",
                                       "True");
        }
        return false;
}

/* Reasons are static strings or interned in this small table so callers need not free. */
static __thread char taint_reason[256];

bool scheduler_node_fits(json_t *node, json_t *pod, const char **ret_reason)
{
        const char *reason = NULL;
        json_t *sel = kjson_get(pod, "spec.nodeSelector");
        json_t *labels = kjson_get(node, "metadata.labels");

        if (kjson_bool(node, "spec.unschedulable", false) &&
            !tolerates(pod, "node.kubernetes.io/unschedulable", "", "NoSchedule")) {
                reason = "node(s) were unschedulable";
                goto out;
        }
        if (!node_ready(node) &&
            !tolerates(pod, "node.kubernetes.io/not-ready", "", "NoSchedule")) {
                reason = "node(s) had untolerated taint {node.kubernetes.io/not-ready: }";
                goto out;
        }
        const char *k;
        json_t *v;
        json_object_foreach(sel, k, v)
        {
                json_t *lv = json_object_get(labels, k);
                if (!lv || !json_equal(lv, v)) {
                        reason = "node(s) didn't match Pod's node affinity/selector";
                        goto out;
                }
        }
        json_t *t;
        size_t i;
        json_array_foreach(kjson_get(node, "spec.taints"), i, t)
        {
                const char *effect = json_string_value(json_object_get(t, "effect"));
                const char *key = json_string_value(json_object_get(t, "key"));
                const char *value = json_string_value(json_object_get(t, "value"));
                if (!effect || !key ||
                    (strcmp(effect, "NoSchedule") && strcmp(effect, "NoExecute")))
                        continue;
                if (!tolerates(pod, key, value, effect)) {
                        snprintf(taint_reason, sizeof(taint_reason),
                                 "node(s) had untolerated taint {%s: %s}", key, value ? value : "");
                        reason = taint_reason;
                        goto out;
                }
        }
out:
        if (ret_reason)
                *ret_reason = reason;
        return reason == NULL;
}

int scheduler_node_choose(json_t *nodes, json_t *pod, json_t *pod_counts, char **ret_message)
{
        size_t n = json_array_size(nodes);
        int best = -1;
        int64_t best_count = 0;
        const char *best_name = NULL;
        json_t *reasons = json_object(); /* reason -> count */

        for (size_t i = 0; i < n; i++) {
                json_t *node = json_array_get(nodes, i);
                const char *name = kjson_str(node, "metadata.name");
                const char *reason;
                if (!name)
                        continue;
                if (!scheduler_node_fits(node, pod, &reason)) {
                        json_t *c = json_object_get(reasons, reason);
                        json_object_set_new(reasons, reason,
                                            json_integer(json_integer_value(c) + 1));
                        continue;
                }
                int64_t cnt = json_integer_value(json_object_get(pod_counts, name));
                if (best < 0 || cnt < best_count ||
                    (cnt == best_count && strcmp(name, best_name) < 0)) {
                        best = (int)i;
                        best_count = cnt;
                        best_name = name;
                }
        }
        if (best >= 0) {
                json_decref(reasons);
                return best;
        }
        if (ret_message) {
                if (n == 0) {
                        *ret_message = xstrdup("no nodes available to schedule pods");
                } else {
                        /* "0/N nodes are available: 1 a, 2 b. preemption: ..." reasons sorted */
                        size_t nr = json_object_size(reasons), k = 0;
                        const char **keys = xcalloc(nr ? nr : 1, sizeof(char *));
                        const char *key;
                        json_t *v;
                        json_object_foreach(reasons, key, v) keys[k++] = key;
                        for (size_t a = 1; a < nr; a++)
                                for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
                                        const char *tmp = keys[b];
                                        keys[b] = keys[b - 1];
                                        keys[b - 1] = tmp;
                                }
                        char *msg = xasprintf("0/%zu nodes are available:", n);
                        for (size_t a = 0; a < nr; a++) {
                                char *m2 = xasprintf("%s %lld %s%s", msg,
                                                     (long long)json_integer_value(
                                                             json_object_get(reasons, keys[a])),
                                                     keys[a], a + 1 < nr ? "," : ".");
                                free(msg);
                                msg = m2;
                        }
                        char *m2 = xasprintf("%s preemption: 0/%zu nodes are available: %zu "
                                             "Preemption is not helpful for scheduling.",
                                             msg, n, n);
                        free(msg);
                        free(keys);
                        *ret_message = m2;
                }
        }
        json_decref(reasons);
        return -ENOENT;
}

/* ---- the scheduler daemon ---- */

struct scheduler {
        char *kubeconfig;
        struct informer *pods, *nodes;
        pthread_t worker;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        /* protected by lock: */
        bool stopping;
        json_t *queue;    /* "ns/name" -> due time (ms, monotonic) */
        json_t *backoff;  /* "ns/name" -> current backoff ms */
        json_t *assumed;  /* "ns/name" -> node name, bound but not yet seen bound */
        json_t *last_msg; /* "ns/name" -> last FailedScheduling message */
};

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *pod_key(json_t *pod)
{
        return xasprintf("%s/%s", kjson_str(pod, "metadata.namespace") ?: "",
                         kjson_str(pod, "metadata.name") ?: "");
}

static bool wants_scheduling(json_t *pod)
{
        const char *node = kjson_str(pod, "spec.nodeName");
        const char *sn = kjson_str(pod, "spec.schedulerName");
        const char *phase = kjson_str(pod, "status.phase");
        if (node && *node)
                return false;
        if (sn && *sn && strcmp(sn, SCHEDULER_NAME))
                return false;
        if (kjson_get(pod, "metadata.deletionTimestamp"))
                return false;
        if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")))
                return false;
        return true;
}

static void enqueue_locked(struct scheduler *s, const char *key, int64_t due)
{
        json_t *cur = json_object_get(s->queue, key);
        if (cur && json_integer_value(cur) <= due)
                return;
        json_object_set_new(s->queue, key, json_integer(due));
        pthread_cond_signal(&s->cond);
}

static void on_pod(json_t *pod, struct scheduler *s)
{
        _cleanup_free_ char *key = pod_key(pod);
        pthread_mutex_lock(&s->lock);
        const char *node = kjson_str(pod, "spec.nodeName");
        if (node && *node)
                json_object_del(s->assumed, key);
        if (wants_scheduling(pod) && !json_object_get(s->backoff, key))
                enqueue_locked(s, key, now_ms());
        pthread_mutex_unlock(&s->lock);
}

static void pod_add(json_t *obj, void *ud)
{
        on_pod(obj, ud);
}
static void pod_update(json_t *old_obj, json_t *new_obj, void *ud)
{
        on_pod(new_obj, ud);
}
static void pod_delete(json_t *obj, void *ud)
{
        struct scheduler *s = ud;
        _cleanup_free_ char *key = pod_key(obj);
        pthread_mutex_lock(&s->lock);
        json_object_del(s->queue, key);
        json_object_del(s->backoff, key);
        json_object_del(s->assumed, key);
        json_object_del(s->last_msg, key);
        pthread_mutex_unlock(&s->lock);
}

/* A node changed: pods waiting in backoff get another chance now. */
static void node_changed(struct scheduler *s)
{
        pthread_mutex_lock(&s->lock);
        const char *key;
        json_t *v;
        int64_t now = now_ms();
        json_object_foreach(s->queue, key, v)
        {
                if (json_integer_value(v) > now)
                        json_integer_set(v, now);
        }
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
}

static void node_add(json_t *obj, void *ud)
{
        node_changed(ud);
}
static void node_update(json_t *old_obj, json_t *new_obj, void *ud)
{
        /* heartbeats change only timestamps; react only to readiness/schedulability */
        const char *a, *b;
        bool ra = scheduler_node_fits(old_obj, NULL, &a),
             rb = scheduler_node_fits(new_obj, NULL, &b);
        if (ra != rb || !kjson_equal(kjson_get(old_obj, "metadata.labels"),
                                     kjson_get(new_obj, "metadata.labels")))
                node_changed(ud);
}

static void emit_event(struct kclient *c, json_t *pod, const char *type, const char *reason,
                       const char *message)
{
        struct error err = {0};
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char now[32], micro[40];
        timefmt_rfc3339(now, ts.tv_sec);
        timefmt_rfc3339micro(micro, &ts);
        const char *ns = kjson_str(pod, "metadata.namespace") ?: "default";
        const char *name = kjson_str(pod, "metadata.name") ?: "";
        _cleanup_free_ char *ev_name = xasprintf("%s.%llx", name,
                                                 (unsigned long long)ts.tv_sec * 1000000000ULL +
                                                         (unsigned long long)ts.tv_nsec);
        json_t *ev = json_pack(
                "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s,"
                " s:{s:s}, s:s, s:s, s:i, s:s, s:s, s:s}",
                "apiVersion", "v1", "kind", "Event", "metadata", "name", ev_name, "namespace", ns,
                "involvedObject", "apiVersion", "v1", "kind", "Pod", "name", name, "namespace", ns,
                "uid", kjson_str(pod, "metadata.uid") ?: "", "resourceVersion",
                kjson_str(pod, "metadata.resourceVersion") ?: "", "reason", reason, "message",
                message, "type", type, "source", "component", SCHEDULER_NAME, "firstTimestamp", now,
                "lastTimestamp", now, "count", 1, "eventTime", micro, "reportingComponent",
                SCHEDULER_NAME, "reportingInstance", SCHEDULER_NAME);
        /* eventTime requires action in events.k8s.io; core/v1 accepts it null */
        json_object_set_new(ev, "eventTime", json_null());
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/events", ns);
        int r = kclient_create(c, path, ev, NULL, &err);
        if (r < 0)
                log_debug(COMP, "event %s for %s/%s: %s", reason, ns, name, error_msg(&err));
        json_decref(ev);
}

static void mark_unschedulable(struct kclient *c, json_t *pod, const char *msg)
{
        struct error err = {0};
        char now[32];
        timefmt_rfc3339(now, time(NULL));
        json_t *patch =
                json_pack("{s:{s:[{s:s, s:s, s:s, s:s, s:n, s:s}]}}", "status", "conditions",
                          "type", "PodScheduled", "status", "False", "reason", "Unschedulable",
                          "message", msg, "lastProbeTime", "lastTransitionTime", now);
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s/status",
                                              kjson_str(pod, "metadata.namespace") ?: "default",
                                              kjson_str(pod, "metadata.name") ?: "");
        if (kclient_patch(c, path, "merge", patch, NULL, &err) < 0)
                log_debug(COMP, "status of %s: %s", path, error_msg(&err));
        json_decref(patch);
}

/* 0 done (bound, gone, or not ours), -EAGAIN retry with backoff, other < 0 retry soon. */
static int schedule_one(struct scheduler *s, struct kclient *c, const char *key)
{
        struct error err = {0};
        const char *slash = strchr(key, '/');
        _cleanup_free_ char *ns = xstrndup(key, (size_t)(slash - key));
        json_t *pod = informer_get(s->pods, ns, slash + 1);
        if (!pod || !wants_scheduling(pod)) {
                json_decref(pod);
                return 0;
        }
        json_t *nodes = NULL, *pods = NULL;
        informer_list(s->nodes, NULL, &nodes);
        informer_list(s->pods, NULL, &pods);
        json_t *counts = json_object();
        json_t *p;
        size_t i;
        pthread_mutex_lock(&s->lock);
        json_array_foreach(pods, i, p)
        {
                const char *node = kjson_str(p, "spec.nodeName");
                const char *phase = kjson_str(p, "status.phase");
                if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")))
                        continue;
                if (!node || !*node) {
                        _cleanup_free_ char *k = pod_key(p);
                        node = json_string_value(json_object_get(s->assumed, k));
                }
                if (node && *node)
                        json_object_set_new(
                                counts, node,
                                json_integer(json_integer_value(json_object_get(counts, node)) +
                                             1));
        }
        pthread_mutex_unlock(&s->lock);

        _cleanup_free_ char *msg = NULL, *path = NULL, *okmsg = NULL;
        int idx = scheduler_node_choose(nodes, pod, counts, &msg);
        int r = 0;
        if (idx < 0) {
                pthread_mutex_lock(&s->lock);
                const char *last = json_string_value(json_object_get(s->last_msg, key));
                bool changed = !last || strcmp(last, msg);
                if (changed)
                        json_object_set_new(s->last_msg, key, json_string(msg));
                pthread_mutex_unlock(&s->lock);
                if (changed) {
                        log_info(COMP, "%s: %s", key, msg);
                        emit_event(c, pod, "Warning", "FailedScheduling", msg);
                        mark_unschedulable(c, pod, msg);
                }
                r = -EAGAIN;
                goto out;
        }
        const char *node = kjson_str(json_array_get(nodes, (size_t)idx), "metadata.name");
        json_t *binding =
                json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind",
                          "Binding", "metadata", "name", slash + 1, "namespace", ns, "target",
                          "apiVersion", "v1", "kind", "Node", "name", node);
        path = xasprintf("/api/v1/namespaces/%s/pods/%s/binding", ns, slash + 1);
        r = kclient_create(c, path, binding, NULL, &err);
        json_decref(binding);
        if (r == -ENOENT || r == -EEXIST || r == -ESTALE) {
                log_debug(COMP, "bind %s: %s", key, error_msg(&err));
                r = 0;
                goto out;
        }
        if (r < 0) {
                log_warn(COMP, "bind %s to %s: %s", key, node, error_msg(&err));
                goto out;
        }
        pthread_mutex_lock(&s->lock);
        json_object_set_new(s->assumed, key, json_string(node));
        json_object_del(s->last_msg, key);
        pthread_mutex_unlock(&s->lock);
        okmsg = xasprintf("Successfully assigned %s to %s", key, node);
        log_info(COMP, "%s", okmsg);
        emit_event(c, pod, "Normal", "Scheduled", okmsg);
out:
        json_decref(counts);
        json_decref(nodes);
        json_decref(pods);
        json_decref(pod);
        return r;
}

static void *worker_main(void *ud)
{
        struct scheduler *s = ud;
        struct kclient *c = NULL;
        struct error err = {0};

        pthread_mutex_lock(&s->lock);
        while (!s->stopping) {
                if (!c) {
                        pthread_mutex_unlock(&s->lock);
                        if (kclient_from_kubeconfig(s->kubeconfig, &c, &err) < 0) {
                                log_warn(COMP, "kubeconfig %s: %s", s->kubeconfig, error_msg(&err));
                                c = NULL;
                        }
                        pthread_mutex_lock(&s->lock);
                        if (!c) {
                                struct timespec ts;
                                clock_gettime(CLOCK_REALTIME, &ts);
                                ts.tv_sec += 1;
                                pthread_cond_timedwait(&s->cond, &s->lock, &ts);
                                continue;
                        }
                }
                /* earliest due entry */
                const char *key, *best = NULL;
                json_t *v;
                int64_t due = 0, now = now_ms();
                json_object_foreach(s->queue, key, v)
                {
                        if (!best || json_integer_value(v) < due) {
                                best = key;
                                due = json_integer_value(v);
                        }
                }
                if (!best || due > now || !informer_has_synced(s->nodes) ||
                    !informer_has_synced(s->pods)) {
                        int64_t wait = !best ? 1000 : MIN(MAX(due - now, 1), 1000);
                        if (best && due <= now)
                                wait = 100; /* waiting for the caches */
                        struct timespec ts;
                        clock_gettime(CLOCK_REALTIME, &ts);
                        ts.tv_nsec += (long)(wait % 1000) * 1000000L;
                        ts.tv_sec += wait / 1000 + ts.tv_nsec / 1000000000L;
                        ts.tv_nsec %= 1000000000L;
                        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
                        continue;
                }
                _cleanup_free_ char *k = xstrdup(best);
                json_object_del(s->queue, k);
                pthread_mutex_unlock(&s->lock);

                int r = schedule_one(s, c, k);

                pthread_mutex_lock(&s->lock);
                if (r == 0) {
                        json_object_del(s->backoff, k);
                } else {
                        int64_t b = json_integer_value(json_object_get(s->backoff, k));
                        b = b ? MIN(b * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
                        json_object_set_new(s->backoff, k, json_integer(b));
                        enqueue_locked(s, k, now_ms() + b);
                }
        }
        pthread_mutex_unlock(&s->lock);
        if (c)
                kclient_free(c);
        return NULL;
}

int scheduler_start(const struct scheduler_config *cfg, struct scheduler **ret, struct error *err)
{
        if (!cfg || !cfg->kubeconfig)
                return error_set(err, -EINVAL, "scheduler: no kubeconfig");
        struct scheduler *s = xcalloc(1, sizeof(*s));
        int r;
        s->kubeconfig = xstrdup(cfg->kubeconfig);
        s->queue = json_object();
        s->backoff = json_object();
        s->assumed = json_object();
        s->last_msg = json_object();
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);

        struct informer_handlers ph = {
                .on_add = pod_add, .on_update = pod_update, .on_delete = pod_delete};
        struct informer_handlers nh = {
                .on_add = node_add, .on_update = node_update, .on_delete = node_add};
        /* all non-terminal pods: the unscheduled ones to bind, the bound ones to count */
        r = informer_start(s->kubeconfig, "/api/v1/pods",
                           "fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed",
                           &ph, s, &s->pods, err);
        if (r < 0)
                goto fail;
        r = informer_start(s->kubeconfig, "/api/v1/nodes", NULL, &nh, s, &s->nodes, err);
        if (r < 0)
                goto fail;
        r = -pthread_create(&s->worker, NULL, worker_main, s);
        if (r < 0) {
                error_set(err, r, "scheduler: thread: %s", strerror(-r));
                goto fail;
        }
        *ret = s;
        return 0;
fail:
        informer_stop(s->pods);
        informer_stop(s->nodes);
        json_decref(s->queue);
        json_decref(s->backoff);
        json_decref(s->assumed);
        json_decref(s->last_msg);
        free(s->kubeconfig);
        free(s);
        return r;
}

void scheduler_stop(struct scheduler *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->worker, NULL);
        informer_stop(s->pods);
        informer_stop(s->nodes);
        json_decref(s->queue);
        json_decref(s->backoff);
        json_decref(s->assumed);
        json_decref(s->last_msg);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s->kubeconfig);
        free(s);
}
