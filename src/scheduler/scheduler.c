/* scheduler.c — the default scheduler daemon: informers on pods and nodes feed the node cache
 * (framework.h: requested resources, ports, images and pods per node, updated per event and by
 * assumed pods, never recomputed per pod); one scheduling thread pops the active queue, runs the
 * filters/scores under the cache lock, assumes the pod on the chosen node and hands the Binding
 * to a pool of binder threads (kube-scheduler's assume + async bind). Pods that fit nowhere go to
 * the unschedulable set with a backoff (1 s doubling to 10 s) and move back when a node is added
 * or changes or a pod is deleted (or after UNSCHED_FLUSH_MS).
 *
 * Locks: s->lock protects everything below "protected by lock" including the cluster cache and
 * every struct sched_pod. Lock order: s->lock, then an informer's own lock (informer_get). */
#include "scheduler/scheduler.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "client/client.h"
#include "client/informer.h"
#include "common/kjson.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "scheduler/framework.h"
#include "scheduler/volumebinding.h"

#define COMP "scheduler"
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 10000
#define UNSCHED_FLUSH_MS 30000
#define VOLUME_WAIT_MS 200 /* poll while WaitForFirstConsumer claims get their volumes */
#define SCHEDULER_NAME "default-scheduler"

struct qitem {
        char *key;
        int64_t priority;
        struct qitem *next;
};

struct bind_job {
        char *ns, *name, *uid, *node;
        json_t *pod; /* for the event */
        struct bind_job *next;
};

/* A Scheduled event, posted by the event thread so binders do not wait for it. */
struct event_job {
        json_t *pod;
        char *message;
        struct event_job *next;
};

/* beyond this many queued Scheduled events new ones are dropped (as a full broadcaster does) */
#define EVENT_QUEUE_MAX 10000

struct scheduler {
        char *kubeconfig;
        struct informer *pods_inf, *nodes, *ns_inf;
        pthread_t worker;
        pthread_t *binders;
        int n_binders;
        pthread_t event_thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;      /* worker wake-up */
        pthread_cond_t bind_cond; /* binder wake-up */
        pthread_cond_t ev_cond;   /* event thread wake-up */
        atomic_uint_fast64_t bound, failed;
        uint64_t attempts, algo_ns; /* scheduling cycles and their time (worker thread only) */
        /* protected by lock: */
        bool stopping;
        struct sched_cluster cluster;
        json_t *pods; /* key -> pointer (integer) to struct sched_pod: bound or assumed */
        struct qitem *active_head, *active_tail;
        json_t *queued;     /* key -> true: in the active queue, or being scheduled */
        json_t *backoff;    /* key -> due time (ms): waiting out its backoff */
        json_t *unsched;    /* key -> time it failed (ms) */
        json_t *backoff_ms; /* key -> current backoff */
        json_t *last_msg;   /* key -> last FailedScheduling message */
        bool cluster_event; /* a node/pod event since the unschedulable pods were moved */
        size_t next_start;
        struct bind_job *bind_head, *bind_tail;
        struct event_job *ev_head, *ev_tail;
        size_t n_events;
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

static bool is_terminal(json_t *pod)
{
        const char *phase = kjson_str(pod, "status.phase");
        return phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
}

static bool wants_scheduling(json_t *pod)
{
        const char *node = kjson_str(pod, "spec.nodeName");
        const char *sn = kjson_str(pod, "spec.schedulerName");
        if (node && *node)
                return false;
        if (sn && *sn && strcmp(sn, SCHEDULER_NAME))
                return false;
        if (kjson_get(pod, "metadata.deletionTimestamp"))
                return false;
        if (json_array_size(kjson_get(pod, "spec.schedulingGates")))
                return false;
        return !is_terminal(pod);
}

static struct sched_pod *cached_pod(struct scheduler *s, const char *key)
{
        json_t *v = json_object_get(s->pods, key);
        return v ? (struct sched_pod *)(intptr_t)json_integer_value(v) : NULL;
}

static void cache_forget_locked(struct scheduler *s, const char *key)
{
        struct sched_pod *p = cached_pod(s, key);
        if (!p)
                return;
        if (p->on)
                sched_node_remove_pod(p->on, p);
        json_object_del(s->pods, key);
        sched_pod_free(p);
}

/* Put p (bound or assumed to p->node) in the cache, replacing what was there. */
static void cache_add_locked(struct scheduler *s, struct sched_pod *p)
{
        cache_forget_locked(s, p->key);
        json_object_set_new(s->pods, p->key, json_integer((json_int_t)(intptr_t)p));
        struct sched_node *n = sched_cluster_node(&s->cluster, p->node);
        if (n)
                sched_node_add_pod(n, p);
}

static void active_push_locked(struct scheduler *s, const char *key)
{
        if (json_object_get(s->queued, key))
                return;
        json_object_set_new(s->queued, key, json_true());
        json_object_del(s->backoff, key);
        json_object_del(s->unsched, key);
        struct qitem *q = xcalloc(1, sizeof(*q));
        q->key = xstrdup(key);
        /* PrioritySort: higher spec.priority first, FIFO among equals (priority-0 pods, the
         * common case, are appended without a walk) */
        const char *slash = strchr(key, '/');
        _cleanup_free_ char *ns = slash ? xstrndup(key, (size_t)(slash - key)) : xstrdup("");
        json_t *pod = slash ? informer_get(s->pods_inf, ns, slash + 1) : NULL;
        q->priority = kjson_int(pod, "spec.priority", 0);
        json_decref(pod);
        if (!s->active_tail || s->active_tail->priority >= q->priority) {
                if (s->active_tail)
                        s->active_tail->next = q;
                else
                        s->active_head = q;
                s->active_tail = q;
        } else if (s->active_head->priority < q->priority) {
                q->next = s->active_head;
                s->active_head = q;
        } else {
                struct qitem *at = s->active_head;
                while (at->next && at->next->priority >= q->priority)
                        at = at->next;
                q->next = at->next;
                at->next = q;
        }
        pthread_cond_signal(&s->cond);
}

static void forget_queues_locked(struct scheduler *s, const char *key)
{
        /* an entry left in the active list is skipped when popped (not in queued) */
        json_object_del(s->queued, key);
        json_object_del(s->backoff, key);
        json_object_del(s->unsched, key);
        json_object_del(s->backoff_ms, key);
        json_object_del(s->last_msg, key);
}

static void cluster_event_locked(struct scheduler *s)
{
        if (json_object_size(s->unsched)) {
                s->cluster_event = true;
                pthread_cond_signal(&s->cond);
        }
}

/* ---- informer handlers ---- */

static void on_pod(json_t *pod, struct scheduler *s)
{
        _cleanup_free_ char *key = pod_key(pod);
        const char *node = kjson_str(pod, "spec.nodeName");
        /* parse outside the lock: the scheduling thread waits for it */
        struct sched_pod *bound = node && *node && !is_terminal(pod) ? sched_pod_new(pod) : NULL;
        pthread_mutex_lock(&s->lock);
        if (is_terminal(pod)) {
                bool had = cached_pod(s, key) != NULL;
                cache_forget_locked(s, key);
                forget_queues_locked(s, key);
                if (had)
                        cluster_event_locked(s);
        } else if (node && *node) {
                forget_queues_locked(s, key);
                cache_add_locked(s, TAKE_PTR(bound));
        } else if (wants_scheduling(pod)) {
                struct sched_pod *p = cached_pod(s, key);
                if (p && p->assumed) {
                        /* our binding is in flight: keep the assumption */
                } else if (!json_object_get(s->backoff, key) && !json_object_get(s->unsched, key)) {
                        active_push_locked(s, key);
                }
        } else if (kjson_get(pod, "metadata.deletionTimestamp")) {
                forget_queues_locked(s, key);
        }
        pthread_mutex_unlock(&s->lock);
}

static void pod_add(json_t *obj, void *ud)
{
        on_pod(obj, ud);
}

static void pod_update(json_t *old_obj, json_t *new_obj, void *ud)
{
        (void)old_obj;
        on_pod(new_obj, ud);
}

static void pod_delete(json_t *obj, void *ud)
{
        struct scheduler *s = ud;
        _cleanup_free_ char *key = pod_key(obj);
        pthread_mutex_lock(&s->lock);
        cache_forget_locked(s, key);
        forget_queues_locked(s, key);
        cluster_event_locked(s);
        pthread_mutex_unlock(&s->lock);
}

/* Whether a node update can make a pod fit that did not (not only a heartbeat). */
static bool node_relevant_change(json_t *a, json_t *b)
{
        static const char *const paths[] = {"metadata.labels", "spec.taints", "spec.unschedulable",
                                            "status.allocatable"};
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
                if (!kjson_equal(kjson_get(a, paths[i]), kjson_get(b, paths[i])))
                        return true;
        struct sched_node *x = sched_node_new(a), *y = sched_node_new(b);
        bool r = x->ready != y->ready;
        sched_node_free(x);
        sched_node_free(y);
        return r;
}

static void node_set(struct scheduler *s, json_t *obj, bool event)
{
        pthread_mutex_lock(&s->lock);
        const char *name = kjson_str(obj, "metadata.name") ?: "";
        bool is_new = sched_cluster_node(&s->cluster, name) == NULL;
        struct sched_node *n = sched_cluster_set_node(&s->cluster, obj);
        if (is_new) {
                /* pods bound before their node was seen */
                const char *k;
                json_t *v;
                json_object_foreach(s->pods, k, v)
                {
                        struct sched_pod *p = (struct sched_pod *)(intptr_t)json_integer_value(v);
                        if (!p->on && p->node && !strcmp(p->node, name))
                                sched_node_add_pod(n, p);
                }
        }
        if (event || is_new)
                cluster_event_locked(s);
        pthread_mutex_unlock(&s->lock);
}

static void node_add(json_t *obj, void *ud)
{
        node_set(ud, obj, true);
}

static void node_update(json_t *old_obj, json_t *new_obj, void *ud)
{
        node_set(ud, new_obj, node_relevant_change(old_obj, new_obj));
}

static void node_delete(json_t *obj, void *ud)
{
        struct scheduler *s = ud;
        pthread_mutex_lock(&s->lock);
        sched_cluster_remove_node(&s->cluster, kjson_str(obj, "metadata.name") ?: "");
        pthread_mutex_unlock(&s->lock);
}

/* Namespace labels, for the namespaceSelector of pod (anti-)affinity terms. */
static void ns_set(json_t *obj, void *ud)
{
        struct scheduler *s = ud;
        json_t *labels = kjson_get(obj, "metadata.labels");
        pthread_mutex_lock(&s->lock);
        json_object_set_new(s->cluster.ns_labels, kjson_str(obj, "metadata.name") ?: "",
                            labels ? json_deep_copy(labels) : json_object());
        pthread_mutex_unlock(&s->lock);
}

static void ns_update(json_t *old_obj, json_t *new_obj, void *ud)
{
        ns_set(new_obj, ud);
}

static void ns_delete(json_t *obj, void *ud)
{
        struct scheduler *s = ud;
        pthread_mutex_lock(&s->lock);
        json_object_del(s->cluster.ns_labels, kjson_str(obj, "metadata.name") ?: "");
        pthread_mutex_unlock(&s->lock);
}

/* ---- API writes ---- */

static void emit_event(struct kclient *c, json_t *pod, const char *type, const char *reason,
                       const char *message)
{
        struct error err = {0};
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char now[32];
        timefmt_rfc3339(now, ts.tv_sec);
        const char *ns = kjson_str(pod, "metadata.namespace") ?: "default";
        const char *name = kjson_str(pod, "metadata.name") ?: "";
        _cleanup_free_ char *ev_name = xasprintf("%s.%llx", name,
                                                 (unsigned long long)ts.tv_sec * 1000000000ULL +
                                                         (unsigned long long)ts.tv_nsec);
        json_t *ev = json_pack(
                "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s,"
                " s:{s:s}, s:s, s:s, s:i, s:n, s:s, s:s}",
                "apiVersion", "v1", "kind", "Event", "metadata", "name", ev_name, "namespace", ns,
                "involvedObject", "apiVersion", "v1", "kind", "Pod", "name", name, "namespace", ns,
                "uid", kjson_str(pod, "metadata.uid") ?: "", "resourceVersion",
                kjson_str(pod, "metadata.resourceVersion") ?: "", "reason", reason, "message",
                message, "type", type, "source", "component", SCHEDULER_NAME, "firstTimestamp", now,
                "lastTimestamp", now, "count", 1, "eventTime", "reportingComponent", SCHEDULER_NAME,
                "reportingInstance", SCHEDULER_NAME);
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/events", ns);
        if (kclient_create(c, path, ev, NULL, &err) < 0)
                log_debug(COMP, "event %s for %s/%s: %s", reason, ns, name, error_msg(&err));
        json_decref(ev);
}

static void patch_status(struct kclient *c, json_t *pod, json_t *patch)
{
        struct error err = {0};
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s/status",
                                              kjson_str(pod, "metadata.namespace") ?: "default",
                                              kjson_str(pod, "metadata.name") ?: "");
        if (kclient_patch(c, path, "strategic", patch, NULL, &err) < 0)
                log_debug(COMP, "status of %s: %s", path, error_msg(&err));
}

static void mark_unschedulable(struct kclient *c, json_t *pod, const char *msg,
                               const char *nominated)
{
        char now[32];
        timefmt_rfc3339(now, time(NULL));
        json_t *patch =
                json_pack("{s:{s:[{s:s, s:s, s:s, s:s, s:n, s:s}]}}", "status", "conditions",
                          "type", "PodScheduled", "status", "False", "reason", "Unschedulable",
                          "message", msg, "lastProbeTime", "lastTransitionTime", now);
        if (nominated)
                json_object_set_new(json_object_get(patch, "status"), "nominatedNodeName",
                                    json_string(nominated));
        patch_status(c, pod, patch);
        json_decref(patch);
}

/* ---- binders ---- */

static void bind_job_free(struct bind_job *j)
{
        free(j->ns);
        free(j->name);
        free(j->uid);
        free(j->node);
        json_decref(j->pod);
        free(j);
}

static void requeue_failed_locked(struct scheduler *s, const char *key)
{
        int64_t b = json_integer_value(json_object_get(s->backoff_ms, key));
        b = b ? MIN(b * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
        json_object_set_new(s->backoff_ms, key, json_integer(b));
        json_object_set_new(s->backoff, key, json_integer(now_ms() + b));
        pthread_cond_signal(&s->cond);
}

static void *binder_main(void *ud)
{
        struct scheduler *s = ud;
        struct kclient *c = NULL;
        struct error err = {0};
        pthread_mutex_lock(&s->lock);
        while (!s->stopping) {
                if (!s->bind_head) {
                        pthread_cond_wait(&s->bind_cond, &s->lock);
                        continue;
                }
                struct bind_job *j = s->bind_head;
                s->bind_head = j->next;
                if (!s->bind_head)
                        s->bind_tail = NULL;
                pthread_mutex_unlock(&s->lock);

                int r = c ? 0
                          : kclient_from_kubeconfig_as(s->kubeconfig, KCLIENT_AGENT_SCHEDULER, &c,
                                                       &err);
                _cleanup_free_ char *key = xasprintf("%s/%s", j->ns, j->name);
                if (r == 0) {
                        json_t *binding =
                                json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}",
                                          "apiVersion", "v1", "kind", "Binding", "metadata", "name",
                                          j->name, "namespace", j->ns, "uid", j->uid, "target",
                                          "apiVersion", "v1", "kind", "Node", "name", j->node);
                        _cleanup_free_ char *path =
                                xasprintf("/api/v1/namespaces/%s/pods/%s/binding", j->ns, j->name);
                        r = kclient_create(c, path, binding, NULL, &err);
                        json_decref(binding);
                }
                if (r == 0) {
                        atomic_fetch_add(&s->bound, 1);
                        struct event_job *e = xcalloc(1, sizeof(*e));
                        e->pod = json_incref(j->pod);
                        e->message = xasprintf("Successfully assigned %s to %s", key, j->node);
                        pthread_mutex_lock(&s->lock);
                        if (s->n_events < EVENT_QUEUE_MAX) {
                                if (s->ev_tail)
                                        s->ev_tail->next = e;
                                else
                                        s->ev_head = e;
                                s->ev_tail = e;
                                s->n_events++;
                                e = NULL;
                                pthread_cond_signal(&s->ev_cond);
                        }
                        pthread_mutex_unlock(&s->lock);
                        if (e) {
                                json_decref(e->pod);
                                free(e->message);
                                free(e);
                        }
                } else {
                        log_info(COMP, "bind %s to %s: %s", key, j->node, error_msg(&err));
                }
                pthread_mutex_lock(&s->lock);
                if (r < 0) {
                        /* forget the assumption; retry unless the pod is gone or bound */
                        struct sched_pod *p = cached_pod(s, key);
                        if (p && p->assumed)
                                cache_forget_locked(s, key);
                        if (r != -ENOENT && r != -EEXIST && r != -ESTALE)
                                requeue_failed_locked(s, key);
                        cluster_event_locked(s);
                }
                bind_job_free(j);
        }
        pthread_mutex_unlock(&s->lock);
        if (c)
                kclient_free(c);
        return NULL;
}

static void *event_main(void *ud)
{
        struct scheduler *s = ud;
        struct kclient *c = NULL;
        struct error err = {0};
        pthread_mutex_lock(&s->lock);
        while (!s->stopping) {
                if (!s->ev_head) {
                        pthread_cond_wait(&s->ev_cond, &s->lock);
                        continue;
                }
                struct event_job *e = s->ev_head;
                s->ev_head = e->next;
                if (!s->ev_head)
                        s->ev_tail = NULL;
                s->n_events--;
                pthread_mutex_unlock(&s->lock);
                if (c || kclient_from_kubeconfig_as(s->kubeconfig, KCLIENT_AGENT_SCHEDULER, &c,
                                                    &err) == 0)
                        emit_event(c, e->pod, "Normal", "Scheduled", e->message);
                json_decref(e->pod);
                free(e->message);
                free(e);
                pthread_mutex_lock(&s->lock);
        }
        pthread_mutex_unlock(&s->lock);
        if (c)
                kclient_free(c);
        return NULL;
}

/* ---- scheduling ---- */

/* The node affinity (required NodeSelector) of the PVs bound to the pod's claims, or NULL. */
static json_t *pv_affinity(struct kclient *c, json_t *pod)
{
        json_t *vol, *out = NULL;
        size_t i;
        const char *ns = kjson_str(pod, "metadata.namespace") ?: "default";
        json_array_foreach(kjson_get(pod, "spec.volumes"), i, vol)
        {
                const char *claim = kjson_str(vol, "persistentVolumeClaim.claimName");
                if (!claim)
                        continue;
                json_t *pvc = NULL, *pv = NULL;
                _cleanup_free_ char *p1 =
                        xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims/%s", ns, claim);
                if (kclient_get(c, p1, &pvc, NULL) < 0)
                        continue;
                const char *vn = kjson_str(pvc, "spec.volumeName");
                if (vn && *vn) {
                        _cleanup_free_ char *p2 = xasprintf("/api/v1/persistentvolumes/%s", vn);
                        if (kclient_get(c, p2, &pv, NULL) == 0) {
                                json_t *req = kjson_get(pv, "spec.nodeAffinity.required");
                                if (req) {
                                        if (!out)
                                                out = json_array();
                                        json_array_append(out, req);
                                }
                        }
                }
                json_decref(pv);
                json_decref(pvc);
        }
        return out;
}

static void delete_victim(struct kclient *c, json_t *victim, json_t *preemptor, const char *node)
{
        struct error err = {0};
        _cleanup_free_ char *msg = xasprintf("Preempted by pod %s on node %s",
                                             kjson_str(preemptor, "metadata.uid") ?: "", node);
        emit_event(c, victim, "Normal", "Preempted", msg);
        /* PodDisruptionConditions: the victim says why it goes */
        char now[32];
        timefmt_rfc3339(now, time(NULL));
        json_t *cond = json_pack("{s:{s:[{s:s, s:s, s:s, s:s, s:s}]}}", "status", "conditions",
                                 "type", "DisruptionTarget", "status", "True", "reason",
                                 "PreemptionByScheduler", "message",
                                 SCHEDULER_NAME ": preempting to accommodate a higher priority pod",
                                 "lastTransitionTime", now);
        patch_status(c, victim, cond);
        json_decref(cond);
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s",
                                              kjson_str(victim, "metadata.namespace") ?: "",
                                              kjson_str(victim, "metadata.name") ?: "");
        json_t *opts = json_pack("{s:{s:s}}", "preconditions", "uid",
                                 kjson_str(victim, "metadata.uid") ?: "");
        if (kclient_delete(c, path, opts, NULL, &err) < 0 && err.code != -ENOENT)
                log_warn(COMP, "preemption: delete %s: %s", path, error_msg(&err));
        json_decref(opts);
}

/* 0 bound or handed to a binder or gone; -EAGAIN unschedulable. */
static int schedule_one(struct scheduler *s, struct kclient *c, const char *key)
{
        const char *slash = strchr(key, '/');
        _cleanup_free_ char *ns = xstrndup(key, (size_t)(slash - key));
        json_t *pod = informer_get(s->pods_inf, ns, slash + 1);
        if (!pod || !wants_scheduling(pod)) {
                json_decref(pod);
                return 0;
        }
        /* VolumeBinding: claims must exist and be bound, or wait for their first consumer */
        bool vwait = false;
        _cleanup_free_ char *vnode = NULL, *vmsg = NULL;
        if (scheduler_volumes_prefilter(c, pod, &vwait, &vnode, &vmsg) < 0) {
                pthread_mutex_lock(&s->lock);
                /* a PreFilter rejection in kube-scheduler's FitError form */
                size_t nn = s->cluster.n_nodes;
                char *vmsg_full =
                        xasprintf("0/%zu nodes are available: %s. preemption: 0/%zu nodes "
                                  "are available: %zu Preemption is not helpful for "
                                  "scheduling.",
                                  nn, vmsg, nn, nn);
                free(vmsg);
                vmsg = vmsg_full;
                const char *last = json_string_value(json_object_get(s->last_msg, key));
                bool changed = !last || strcmp(last, vmsg);
                if (changed)
                        json_object_set_new(s->last_msg, key, json_string(vmsg));
                int64_t b = json_integer_value(json_object_get(s->backoff_ms, key));
                b = b ? MIN(b * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
                json_object_set_new(s->backoff_ms, key, json_integer(b));
                json_object_set_new(s->backoff, key, json_integer(now_ms() + b));
                pthread_mutex_unlock(&s->lock);
                if (changed) {
                        log_info(COMP, "%s: %s", key, vmsg);
                        emit_event(c, pod, "Warning", "FailedScheduling", vmsg);
                        mark_unschedulable(c, pod, vmsg, NULL);
                }
                json_decref(pod);
                return 0; /* retried from the backoff queue */
        }
        struct sched_pod *p = sched_pod_new(pod);
        p->pv_affinity = pv_affinity(c, pod);
        if (vnode) { /* a claim already has its node: the pod goes there */
                if (!p->pv_affinity)
                        p->pv_affinity = json_array();
                json_array_append_new(p->pv_affinity, json_pack("{s:[{s:[{s:s, s:s, s:[s]}]}]}",
                                                                "nodeSelectorTerms", "matchFields",
                                                                "key", "metadata.name", "operator",
                                                                "In", "values", vnode));
        }

        struct sched_result res;
        json_t *victims = NULL;
        char *nominated = NULL;
        pthread_mutex_lock(&s->lock);
        if (cached_pod(s, key)) { /* bound or assumed meanwhile */
                pthread_mutex_unlock(&s->lock);
                sched_pod_free(p);
                json_decref(pod);
                return 0;
        }
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        sched_schedule(&s->cluster, p, &s->next_start, &res);
        clock_gettime(CLOCK_MONOTONIC, &b);
        s->attempts++;
        s->algo_ns += (uint64_t)((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec));
        if (res.node && vwait) {
                /* record the node on the claims; bind once their volumes exist */
                _cleanup_free_ char *node = xstrdup(res.node->name);
                json_object_set_new(s->backoff, key, json_integer(now_ms() + VOLUME_WAIT_MS));
                pthread_mutex_unlock(&s->lock);
                sched_result_clear(&res);
                sched_pod_free(p);
                scheduler_volumes_select(c, pod, node);
                json_decref(pod);
                return 0;
        }
        if (res.node) {
                p->node = xstrdup(res.node->name);
                p->assumed = true;
                cache_add_locked(s, p);
                struct bind_job *j = xcalloc(1, sizeof(*j));
                j->ns = xstrdup(p->ns);
                j->name = xstrdup(p->name);
                j->uid = xstrdup(p->uid);
                j->node = xstrdup(p->node);
                j->pod = json_incref(pod);
                if (s->bind_tail)
                        s->bind_tail->next = j;
                else
                        s->bind_head = j;
                s->bind_tail = j;
                json_object_del(s->last_msg, key);
                json_object_del(s->backoff_ms, key);
                pthread_cond_signal(&s->bind_cond);
                pthread_mutex_unlock(&s->lock);
                sched_result_clear(&res);
                json_decref(pod);
                return 0;
        }
        if (res.nominated) {
                nominated = xstrdup(res.nominated->name);
                victims = json_array();
                for (size_t i = 0; i < res.n_victims; i++)
                        json_array_append(victims, res.victims[i]->obj);
        }
        const char *last = json_string_value(json_object_get(s->last_msg, key));
        bool changed = !last || strcmp(last, res.message) || nominated;
        if (changed)
                json_object_set_new(s->last_msg, key, json_string(res.message));
        pthread_mutex_unlock(&s->lock);
        sched_pod_free(p);
        atomic_fetch_add(&s->failed, 1);

        if (changed) {
                log_info(COMP, "%s: %s", key, res.message);
                emit_event(c, pod, "Warning", "FailedScheduling", res.message);
                mark_unschedulable(c, pod, res.message, nominated);
        }
        json_t *v;
        size_t i;
        json_array_foreach(victims, i, v) delete_victim(c, v, pod, nominated);
        json_decref(victims);
        free(nominated);
        sched_result_clear(&res);
        json_decref(pod);
        return -EAGAIN;
}

static void timed_wait(struct scheduler *s, int64_t ms)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
}

/* Move due backoff entries and (on a cluster event or after UNSCHED_FLUSH_MS) unschedulable
 * pods on. Returns the ms until the next backoff entry is due (or 1000). */
static int64_t flush_locked(struct scheduler *s)
{
        int64_t now = now_ms(), next = 1000;
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(s->unsched, tmp, k, v)
        {
                if (s->cluster_event || now - json_integer_value(v) >= UNSCHED_FLUSH_MS) {
                        int64_t b = json_integer_value(json_object_get(s->backoff_ms, k));
                        _cleanup_free_ char *key = xstrdup(k);
                        json_object_del(s->unsched, key);
                        json_object_set_new(s->backoff, key,
                                            json_integer(json_integer_value(v) + b));
                }
        }
        s->cluster_event = false;
        json_object_foreach_safe(s->backoff, tmp, k, v)
        {
                int64_t due = json_integer_value(v);
                if (due <= now) {
                        _cleanup_free_ char *key = xstrdup(k);
                        json_object_del(s->backoff, key);
                        active_push_locked(s, key);
                } else {
                        next = MIN(next, due - now);
                }
        }
        return next;
}

static void *worker_main(void *ud)
{
        struct scheduler *s = ud;
        struct kclient *c = NULL;
        struct error err = {0};

        uint64_t logged_attempts = 0;
        int64_t last_log = now_ms();
        pthread_mutex_lock(&s->lock);
        while (!s->stopping) {
                if (now_ms() - last_log >= 10000 && s->attempts != logged_attempts) {
                        /* the algorithm's own rate (filters + scores, no API calls) */
                        log_info(COMP,
                                 "%llu pods bound, %llu cycles, %.0f us per cycle (%.0f cycles/s "
                                 "of scheduling time), %zu nodes",
                                 (unsigned long long)atomic_load(&s->bound),
                                 (unsigned long long)s->attempts,
                                 (double)s->algo_ns / 1000.0 / (double)s->attempts,
                                 s->algo_ns ? (double)s->attempts * 1e9 / (double)s->algo_ns : 0,
                                 s->cluster.n_nodes);
                        logged_attempts = s->attempts;
                        last_log = now_ms();
                }
                if (!c) {
                        pthread_mutex_unlock(&s->lock);
                        if (kclient_from_kubeconfig_as(s->kubeconfig, KCLIENT_AGENT_SCHEDULER, &c,
                                                       &err) < 0) {
                                log_warn(COMP, "kubeconfig %s: %s", s->kubeconfig, error_msg(&err));
                                c = NULL;
                        }
                        pthread_mutex_lock(&s->lock);
                        if (!c) {
                                timed_wait(s, 1000);
                                continue;
                        }
                }
                int64_t next = flush_locked(s);
                if (!s->active_head || !informer_has_synced(s->nodes) ||
                    !informer_has_synced(s->pods_inf)) {
                        timed_wait(s, s->active_head ? 100 : MAX(next, 1));
                        continue;
                }
                struct qitem *q = s->active_head;
                s->active_head = q->next;
                if (!s->active_head)
                        s->active_tail = NULL;
                _cleanup_free_ char *k = q->key;
                free(q);
                if (!json_object_get(s->queued, k))
                        continue; /* forgotten while queued */
                pthread_mutex_unlock(&s->lock);

                int r = schedule_one(s, c, k);

                pthread_mutex_lock(&s->lock);
                bool still = json_object_get(s->queued, k) != NULL;
                json_object_del(s->queued, k);
                if (r < 0 && still) {
                        int64_t b = json_integer_value(json_object_get(s->backoff_ms, k));
                        b = b ? MIN(b * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
                        json_object_set_new(s->backoff_ms, k, json_integer(b));
                        json_object_set_new(s->unsched, k, json_integer(now_ms()));
                }
        }
        pthread_mutex_unlock(&s->lock);
        if (c)
                kclient_free(c);
        return NULL;
}

static void free_state(struct scheduler *s)
{
        const char *k;
        json_t *v;
        json_object_foreach(s->pods, k, v)
        {
                struct sched_pod *p = (struct sched_pod *)(intptr_t)json_integer_value(v);
                if (p->on)
                        sched_node_remove_pod(p->on, p);
                sched_pod_free(p);
        }
        sched_cluster_free(&s->cluster);
        while (s->active_head) {
                struct qitem *q = s->active_head;
                s->active_head = q->next;
                free(q->key);
                free(q);
        }
        while (s->bind_head) {
                struct bind_job *j = s->bind_head;
                s->bind_head = j->next;
                bind_job_free(j);
        }
        while (s->ev_head) {
                struct event_job *e = s->ev_head;
                s->ev_head = e->next;
                json_decref(e->pod);
                free(e->message);
                free(e);
        }
        json_decref(s->pods);
        json_decref(s->queued);
        json_decref(s->backoff);
        json_decref(s->unsched);
        json_decref(s->backoff_ms);
        json_decref(s->last_msg);
        free(s->binders);
        free(s->kubeconfig);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        pthread_cond_destroy(&s->bind_cond);
        pthread_cond_destroy(&s->ev_cond);
        free(s);
}

int scheduler_start(const struct scheduler_config *cfg, struct scheduler **ret, struct error *err)
{
        if (!cfg || !cfg->kubeconfig)
                return error_set(err, -EINVAL, "scheduler: no kubeconfig");
        struct scheduler *s = xcalloc(1, sizeof(*s));
        int r;
        s->kubeconfig = xstrdup(cfg->kubeconfig);
        sched_cluster_init(&s->cluster);
        s->pods = json_object();
        s->queued = json_object();
        s->backoff = json_object();
        s->unsched = json_object();
        s->backoff_ms = json_object();
        s->last_msg = json_object();
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        pthread_cond_init(&s->bind_cond, NULL);
        pthread_cond_init(&s->ev_cond, NULL);
        s->n_binders = cfg->binders > 0 ? cfg->binders : 16;
        s->binders = xcalloc((size_t)s->n_binders, sizeof(pthread_t));

        struct informer_handlers ph = {
                .on_add = pod_add, .on_update = pod_update, .on_delete = pod_delete};
        struct informer_handlers nh = {
                .on_add = node_add, .on_update = node_update, .on_delete = node_delete};
        /* all non-terminal pods: the unscheduled ones to bind, the bound ones to count */
        r = informer_start(s->kubeconfig, "/api/v1/pods",
                           "fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed",
                           &ph, s, &s->pods_inf, err);
        if (r < 0)
                goto fail;
        r = informer_start(s->kubeconfig, "/api/v1/nodes", NULL, &nh, s, &s->nodes, err);
        if (r < 0)
                goto fail;
        struct informer_handlers nsh = {
                .on_add = ns_set, .on_update = ns_update, .on_delete = ns_delete};
        r = informer_start(s->kubeconfig, "/api/v1/namespaces", NULL, &nsh, s, &s->ns_inf, err);
        if (r < 0)
                goto fail;
        int i;
        for (i = 0; i < s->n_binders; i++) {
                r = -pthread_create(&s->binders[i], NULL, binder_main, s);
                if (r < 0)
                        break;
        }
        bool ev_started = false;
        if (r == 0) {
                r = -pthread_create(&s->event_thread, NULL, event_main, s);
                ev_started = r == 0;
        }
        if (r == 0)
                r = -pthread_create(&s->worker, NULL, worker_main, s);
        if (r < 0) {
                error_set(err, r, "scheduler: thread: %s", strerror(-r));
                pthread_mutex_lock(&s->lock);
                s->stopping = true;
                pthread_cond_broadcast(&s->bind_cond);
                pthread_cond_broadcast(&s->ev_cond);
                pthread_mutex_unlock(&s->lock);
                for (int k = 0; k < i; k++)
                        pthread_join(s->binders[k], NULL);
                if (ev_started)
                        pthread_join(s->event_thread, NULL);
                goto fail;
        }
        *ret = s;
        return 0;
fail:
        informer_stop(s->pods_inf);
        informer_stop(s->nodes);
        informer_stop(s->ns_inf);
        free_state(s);
        return r;
}

void scheduler_stop(struct scheduler *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_cond_broadcast(&s->cond);
        pthread_cond_broadcast(&s->bind_cond);
        pthread_cond_broadcast(&s->ev_cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->worker, NULL);
        for (int i = 0; i < s->n_binders; i++)
                pthread_join(s->binders[i], NULL);
        pthread_join(s->event_thread, NULL);
        informer_stop(s->pods_inf);
        informer_stop(s->nodes);
        informer_stop(s->ns_inf);
        free_state(s);
}

void scheduler_stats(struct scheduler *s, uint64_t *ret_bound, uint64_t *ret_failed)
{
        *ret_bound = s ? atomic_load(&s->bound) : 0;
        *ret_failed = s ? atomic_load(&s->failed) : 0;
}
