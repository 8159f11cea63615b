/* podsync.c — pod workers of the kubelet (see podsync.h). */
#include "kubelet/podsync.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "client/client.h"
#include "client/informer.h"
#include "common/kjson.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "kubelet/images.h"
#include "kubelet/status.h"

#define COMP "kubelet"
#define POLL_MS 1000
#define BACKOFF_MIN_S 10
#define BACKOFF_MAX_S 300
#define BACKOFF_RESET_S 600 /* a container that ran this long restarts without backoff */

/* A terminated run, with its strings owned. */
struct kterm {
        int exit_code;
        char reason[32];
        int64_t started_at, finished_at;
        char cid[160];
};

struct kctr {
        char *name;
        char *id;         /* runtime id of the current run, NULL if none */
        unsigned attempt; /* attempt of id */
        int restart_count;
        char *image_id;
        enum kubelet_ctr_phase phase;
        char waiting_reason[48];
        char *waiting_message;
        int64_t started_at;
        struct kterm term;
        bool has_last;
        struct kterm last;
        int backoff_s;
        int64_t restart_at; /* unix s; 0 = not decided */
        int image_failures;
        int start_failures;
        int64_t retry_at; /* unix s: next try after a failed start */
};

struct kpod {
        struct kpod *next;
        char *uid, *ns, *name;
        /* protected by ps->lock: */
        json_t *pod;       /* latest object from the informer */
        bool gone;         /* deleted from the API */
        bool busy;         /* a worker is syncing it */
        int64_t due_ms;    /* next sync (monotonic ms), 0 = none */
        json_t *published; /* last computed status (for the logs endpoint) */
        json_t *adopt;     /* {ctrName: {"id": s, "attempt": n}} found at startup */
        /* worker-only (while busy): */
        bool sandbox;
        char *pod_ip;
        int64_t start_time;
        struct kctr *ctrs;
        size_t n_ctrs;
        json_t *sent; /* last status sent */
        int64_t sandbox_retry_at;
        bool pulled_event_sent;
};

struct podsync {
        char *kubeconfig, *data_dir, *node_name, *node_ip, *images_dir, *logs_dir;
        struct runtime *rt;
        const char *rt_name;
        struct informer *inf;
        int n_workers;
        pthread_t *workers;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        /* protected by lock: */
        struct kpod *pods;
        bool stopping;
        bool ready; /* adoption done */
};

static int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_s(void)
{
        return (int64_t)time(NULL);
}

/* ---- pure helpers ---- */

const char *podsync_pull_policy(json_t *container)
{
        const char *p = kjson_str(container, "imagePullPolicy");
        if (p && *p)
                return p;
        const char *image = kjson_str(container, "image");
        if (!image)
                return "IfNotPresent";
        if (strchr(image, '@'))
                return "IfNotPresent";
        const char *slash = strrchr(image, '/');
        const char *colon = strrchr(slash ? slash : image, ':');
        if (!colon || !strcmp(colon, ":latest"))
                return "Always";
        return "IfNotPresent";
}

/* value * 10^9 of a quantity, -1 if invalid (small, local parser: enough for limits). */
static long double quantity_nano(const char *q)
{
        if (!q || !*q)
                return -1;
        char *end;
        long double v = strtold(q, &end);
        if (end == q || v < 0)
                return -1;
        static const struct {
                const char *suf;
                long double mul;
        } s[] = {{"Ki", 1024.0L},       {"Mi", 1048576.0L},
                 {"Gi", 1073741824.0L}, {"Ti", 1099511627776.0L},
                 {"n", 1e-9L},          {"u", 1e-6L},
                 {"m", 1e-3L},          {"k", 1e3L},
                 {"M", 1e6L},           {"G", 1e9L},
                 {"T", 1e12L},          {"", 1.0L}};
        for (size_t i = 0; i < ARRAY_SIZE(s); i++)
                if (!strcmp(end, s[i].suf))
                        return v * s[i].mul;
        return -1;
}

int64_t podsync_memory_bytes(const char *q)
{
        long double v = quantity_nano(q);
        if (v < 0)
                return 0;
        long double r = v + 0.999999L;
        return r > 9e18L ? INT64_MAX : (int64_t)r;
}

int64_t podsync_cpu_millis(const char *q)
{
        long double v = quantity_nano(q);
        if (v < 0)
                return 0;
        long double r = v * 1000.0L + 0.999999L;
        return r > 9e18L ? INT64_MAX : (int64_t)r;
}

/* ---- records ---- */

static void kctr_clear(struct kctr *c)
{
        free(c->name);
        free(c->id);
        free(c->image_id);
        free(c->waiting_message);
}

static void kpod_free(struct kpod *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_ctrs; i++)
                kctr_clear(&p->ctrs[i]);
        free(p->ctrs);
        free(p->uid);
        free(p->ns);
        free(p->name);
        free(p->pod_ip);
        json_decref(p->pod);
        json_decref(p->published);
        json_decref(p->adopt);
        json_decref(p->sent);
        free(p);
}

static struct kpod *find_uid_locked(struct podsync *ps, const char *uid)
{
        for (struct kpod *p = ps->pods; p; p = p->next)
                if (!strcmp(p->uid, uid))
                        return p;
        return NULL;
}

static void schedule_locked(struct podsync *ps, struct kpod *p, int64_t delay_ms)
{
        int64_t due = mono_ms() + delay_ms;
        if (!p->due_ms || due < p->due_ms)
                p->due_ms = due;
        pthread_cond_broadcast(&ps->cond);
}

/* ---- informer handlers ---- */

static void on_pod(json_t *obj, void *ud)
{
        struct podsync *ps = ud;
        const char *uid = kjson_str(obj, "metadata.uid");
        const char *node = kjson_str(obj, "spec.nodeName");
        if (!uid || !node || strcmp(node, ps->node_name))
                return;
        pthread_mutex_lock(&ps->lock);
        struct kpod *p = find_uid_locked(ps, uid);
        if (!p) {
                p = xcalloc(1, sizeof(*p));
                p->uid = xstrdup(uid);
                p->ns = xstrdup(kjson_str(obj, "metadata.namespace") ?: "default");
                p->name = xstrdup(kjson_str(obj, "metadata.name") ?: "");
                p->next = ps->pods;
                ps->pods = p;
        }
        json_decref(p->pod);
        p->pod = json_incref(obj);
        schedule_locked(ps, p, 0);
        pthread_mutex_unlock(&ps->lock);
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
        struct podsync *ps = ud;
        const char *uid = kjson_str(obj, "metadata.uid");
        if (!uid)
                return;
        pthread_mutex_lock(&ps->lock);
        struct kpod *p = find_uid_locked(ps, uid);
        if (p) {
                p->gone = true;
                schedule_locked(ps, p, 0);
        }
        pthread_mutex_unlock(&ps->lock);
}

/* ---- API helpers ---- */

static void emit_event(struct podsync *ps, struct kclient *c, struct kpod *p, const char *field,
                       const char *type, const char *reason, const char *fmt, ...)
        PRINTF_LIKE(7, 8);

static void emit_event(struct podsync *ps, struct kclient *c, struct kpod *p, const char *field,
                       const char *type, const char *reason, const char *fmt, ...)
{
        struct error err = {0};
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg)
                return;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char now[32];
        timefmt_rfc3339(now, ts.tv_sec);
        _cleanup_free_ char *ev_name = xasprintf("%s.%llx", p->name,
                                                 (unsigned long long)ts.tv_sec * 1000000000ULL +
                                                         (unsigned long long)ts.tv_nsec);
        json_t *ev =
                json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:s,"
                          " s:s, s:{s:s, s:s}, s:s, s:s, s:i, s:s, s:s}",
                          "apiVersion", "v1", "kind", "Event", "metadata", "name", ev_name,
                          "namespace", p->ns, "involvedObject", "apiVersion", "v1", "kind", "Pod",
                          "name", p->name, "namespace", p->ns, "uid", p->uid, "reason", reason,
                          "message", msg, "type", type, "source", "component", "kubelet", "host",
                          ps->node_name, "firstTimestamp", now, "lastTimestamp", now, "count", 1,
                          "reportingComponent", "kubelet", "reportingInstance", ps->node_name);
        if (field)
                json_object_set_new(json_object_get(ev, "involvedObject"), "fieldPath",
                                    json_string(field));
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/events", p->ns);
        if (kclient_create(c, path, ev, NULL, &err) < 0)
                log_debug(COMP, "event %s: %s", reason, error_msg(&err));
        json_decref(ev);
}

/* ---- container start ---- */

static char *log_path(struct podsync *ps, struct kpod *p, const char *ctr, unsigned attempt)
{
        return xasprintf("%s/%s_%s_%s/%s/%u.log", ps->logs_dir, p->ns, p->name, p->uid, ctr,
                         attempt);
}

static void set_waiting(struct kctr *c, const char *reason, const char *message)
{
        c->phase = KUBELET_CTR_WAITING;
        snprintf(c->waiting_reason, sizeof(c->waiting_reason), "%s", reason);
        free(c->waiting_message);
        c->waiting_message = message ? xstrdup(message) : NULL;
}

static bool parse_uint(const char *s, uint32_t *ret)
{
        if (!s || !*s)
                return false;
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (*end || v > UINT32_MAX)
                return false;
        *ret = (uint32_t)v;
        return true;
}

static void pick_user(json_t *pod, json_t *spec_ctr, const char *image_user, uint32_t *uid,
                      uint32_t *gid)
{
        *uid = 0;
        *gid = 0;
        if (image_user && *image_user) {
                _cleanup_free_ char *u = xstrdup(image_user);
                char *colon = strchr(u, ':');
                if (colon)
                        *colon = '\0';
                parse_uint(u, uid);
                if (colon)
                        parse_uint(colon + 1, gid);
        }
        json_t *v;
        if ((v = kjson_get(pod, "spec.securityContext.runAsUser")) && json_is_integer(v))
                *uid = (uint32_t)json_integer_value(v);
        if ((v = kjson_get(pod, "spec.securityContext.runAsGroup")) && json_is_integer(v))
                *gid = (uint32_t)json_integer_value(v);
        if ((v = kjson_get(spec_ctr, "securityContext.runAsUser")) && json_is_integer(v))
                *uid = (uint32_t)json_integer_value(v);
        if ((v = kjson_get(spec_ctr, "securityContext.runAsGroup")) && json_is_integer(v))
                *gid = (uint32_t)json_integer_value(v);
}

/* Start a new run of container c. Returns 0, or < 0 with c set to a waiting state. */
static int start_container(struct podsync *ps, struct kclient *kc, struct kpod *p, json_t *pod,
                           json_t *spec_ctr, struct kctr *c)
{
        struct error err = {0};
        const char *image = kjson_str(spec_ctr, "image") ?: "";
        const char *policy = podsync_pull_policy(spec_ctr);
        struct image_info info = {0};
        _cleanup_free_ char *field = xasprintf("spec.containers{%s}", c->name);
        int r = images_resolve(ps->images_dir, image, &info, &err);
        if (r < 0) {
                _cleanup_free_ char *msg = NULL;
                if (!strcmp(policy, "Never")) {
                        msg = xasprintf("Container image \"%s\" is not present with pull policy "
                                        "of Never",
                                        image);
                        set_waiting(c, "ErrImageNeverPull", msg);
                } else {
                        msg = xasprintf("image \"%s\" not found in the node's image store "
                                        "(import it with timonel image import)",
                                        image);
                        set_waiting(c, c->image_failures ? "ImagePullBackOff" : "ErrImagePull",
                                    msg);
                }
                if (c->image_failures++ == 0)
                        emit_event(ps, kc, p, field, "Warning", "Failed", "%s", msg);
                return r;
        }
        if (c->image_failures || !c->image_id)
                emit_event(ps, kc, p, field, "Normal", "Pulled",
                           "Container image \"%s\" already present on machine", image);
        c->image_failures = 0;
        free(c->image_id);
        c->image_id = xstrdup(info.id);

        _cleanup_free_ char *lp = NULL;
        char **spec_env = kubelet_container_env(pod, spec_ctr, NULL, p->pod_ip, ps->node_ip);
        char **env = kubelet_container_env(pod, spec_ctr, info.env, p->pod_ip, ps->node_ip);
        char **argv = kubelet_container_argv(spec_ctr, info.entrypoint, info.cmd, spec_env);
        if (!argv) {
                set_waiting(c, "CreateContainerError", "no command specified");
                r = -EINVAL;
                goto out;
        }
        const char *cwd = kjson_str(spec_ctr, "workingDir");
        if (!cwd || !*cwd)
                cwd = info.working_dir && *info.working_dir ? info.working_dir : "/";
        struct container_config cc = {
                .pod_uid = p->uid,
                .pod_ns = p->ns,
                .pod_name = p->name,
                .name = c->name,
                .attempt = (unsigned)c->restart_count,
                .layer_dirs = (const char *const *)info.layer_dirs,
                .args = (const char *const *)argv,
                .env = (const char *const *)env,
                .cwd = cwd,
                .memory_limit =
                        podsync_memory_bytes(kjson_str(spec_ctr, "resources.limits.memory")),
                .cpu_limit_millis = podsync_cpu_millis(kjson_str(spec_ctr, "resources.limits.cpu")),
                .cpu_request_millis =
                        podsync_cpu_millis(kjson_str(spec_ctr, "resources.requests.cpu")),
                .privileged = kjson_bool(spec_ctr, "securityContext.privileged", false),
        };
        pick_user(pod, spec_ctr, info.user, &cc.uid, &cc.gid);
        lp = log_path(ps, p, c->name, cc.attempt);
        cc.log_path = lp;
        char *id = NULL;
        r = runtime_container_start(ps->rt, &cc, &id, &err);
        if (r == -EEXIST) {
                /* a leftover of the same attempt (crash between start and bookkeeping) */
                _cleanup_free_ char *old = runtime_container_id(p->uid, c->name, cc.attempt);
                runtime_container_remove(ps->rt, old, NULL);
                err = (struct error){0};
                r = runtime_container_start(ps->rt, &cc, &id, &err);
        }
        if (r < 0) {
                log_warn(COMP, "pod %s/%s container %s: %s", p->ns, p->name, c->name,
                         error_msg(&err));
                set_waiting(c, "RunContainerError", error_msg(&err));
                emit_event(ps, kc, p, field, "Warning", "Failed", "Error: %s", error_msg(&err));
                goto out;
        }
        free(c->id);
        c->id = id;
        c->attempt = cc.attempt;
        c->phase = KUBELET_CTR_RUNNING;
        c->started_at = now_s();
        c->start_failures = 0;
        c->waiting_reason[0] = '\0';
        free(c->waiting_message);
        c->waiting_message = NULL;
        log_info(COMP, "pod %s/%s: started container %s (%s)", p->ns, p->name, c->name, id);
        emit_event(ps, kc, p, field, "Normal", "Created", "Created container %s", c->name);
        emit_event(ps, kc, p, field, "Normal", "Started", "Started container %s", c->name);
out:
        kubelet_strv_free(argv);
        kubelet_strv_free(env);
        kubelet_strv_free(spec_env);
        image_info_clear(&info);
        return r;
}

static void fill_term(struct podsync *ps, struct kterm *t, const struct container_state *st,
                      const char *id)
{
        t->exit_code = st->exit_code;
        snprintf(t->reason, sizeof(t->reason), "%s",
                 st->oom_killed
                         ? "OOMKilled"
                         : (st->reason[0] ? st->reason : (st->exit_code ? "Error" : "Completed")));
        t->started_at = st->started_at.tv_sec;
        t->finished_at = st->finished_at.tv_sec ? st->finished_at.tv_sec : now_s();
        snprintf(t->cid, sizeof(t->cid), "%s://%s", ps->rt_name, id);
}

/* Observe c's run; restart it if needed. Returns the delay (ms) it wants until the next sync. */
static int64_t sync_container(struct podsync *ps, struct kclient *kc, struct kpod *p, json_t *pod,
                              json_t *spec_ctr, struct kctr *c)
{
        struct error err = {0};
        const char *rp = kjson_str(pod, "spec.restartPolicy") ?: "Always";
        int64_t now = now_s();

        if (c->id) {
                struct container_state st = {0};
                int r = runtime_container_status(ps->rt, c->id, &st, &err);
                if (r == -ENOENT) {
                        /* vanished under us: run it again as a new attempt */
                        log_warn(COMP, "pod %s/%s: container %s (%s) vanished", p->ns, p->name,
                                 c->name, c->id);
                        free(c->id);
                        c->id = NULL;
                        c->restart_count++;
                        set_waiting(c, "ContainerCreating", NULL);
                } else if (r < 0) {
                        log_warn(COMP, "status of %s: %s", c->id, error_msg(&err));
                        return POLL_MS;
                } else if (st.state != CONTAINER_EXITED) {
                        c->phase = KUBELET_CTR_RUNNING;
                        if (st.started_at.tv_sec)
                                c->started_at = st.started_at.tv_sec;
                        return POLL_MS;
                } else {
                        if (c->phase != KUBELET_CTR_TERMINATED && !c->restart_at)
                                fill_term(ps, &c->term, &st, c->id);
                        bool restart = !strcmp(rp, "Always") ||
                                       (!strcmp(rp, "OnFailure") && c->term.exit_code != 0);
                        if (!restart) {
                                c->phase = KUBELET_CTR_TERMINATED;
                                return -1;
                        }
                        if (!c->restart_at) {
                                if (!c->backoff_s ||
                                    c->term.finished_at - c->term.started_at >= BACKOFF_RESET_S) {
                                        c->backoff_s = BACKOFF_MIN_S;
                                        c->restart_at = now; /* first restart: at once */
                                } else {
                                        c->restart_at = c->term.finished_at + c->backoff_s;
                                        c->backoff_s = MIN(c->backoff_s * 2, BACKOFF_MAX_S);
                                }
                        }
                        if (now < c->restart_at) {
                                int wait = (int)MIN(c->backoff_s, BACKOFF_MAX_S);
                                _cleanup_free_ char *msg = xasprintf(
                                        "back-off %ds restarting failed container=%s pod=%s_%s(%s)",
                                        c->backoff_s == BACKOFF_MIN_S ? BACKOFF_MIN_S : wait / 2,
                                        c->name, p->name, p->ns, p->uid);
                                if (strcmp(c->waiting_reason, "CrashLoopBackOff")) {
                                        _cleanup_free_ char *field =
                                                xasprintf("spec.containers{%s}", c->name);
                                        emit_event(ps, kc, p, field, "Warning", "BackOff",
                                                   "Back-off restarting failed container %s in "
                                                   "pod %s_%s(%s)",
                                                   c->name, p->name, p->ns, p->uid);
                                }
                                c->has_last = true;
                                c->last = c->term;
                                set_waiting(c, "CrashLoopBackOff", msg);
                                return (c->restart_at - now) * 1000;
                        }
                        /* restart now: the old run becomes lastState */
                        c->has_last = true;
                        c->last = c->term;
                        runtime_container_remove(ps->rt, c->id, NULL);
                        free(c->id);
                        c->id = NULL;
                        c->restart_count++;
                        c->restart_at = 0;
                }
        }
        if (c->retry_at && now < c->retry_at)
                return (c->retry_at - now) * 1000;
        int r = start_container(ps, kc, p, pod, spec_ctr, c);
        if (r < 0) {
                int delay = c->image_failures ? 2 : MIN(1 << MIN(c->start_failures, 8), 60);
                c->start_failures++;
                c->retry_at = now + delay;
                return delay * 1000;
        }
        c->retry_at = 0;
        return POLL_MS;
}

/* ---- status ---- */

static void to_ctr_term(const struct kterm *t, struct kubelet_ctr_term *o)
{
        o->exit_code = t->exit_code;
        o->reason = t->reason[0] ? t->reason : NULL;
        o->started_at = t->started_at;
        o->finished_at = t->finished_at;
        o->container_id = t->cid[0] ? t->cid : NULL;
}

static void send_status(struct podsync *ps, struct kclient *kc, struct kpod *p, json_t *pod)
{
        struct error err = {0};
        struct kubelet_ctr_status *cs = xcalloc(p->n_ctrs ? p->n_ctrs : 1, sizeof(*cs));
        char **cids = xcalloc(p->n_ctrs ? p->n_ctrs : 1, sizeof(char *));
        for (size_t i = 0; i < p->n_ctrs; i++) {
                struct kctr *c = &p->ctrs[i];
                cs[i].name = c->name;
                cs[i].image_id = c->image_id;
                if (c->id) {
                        cids[i] = xasprintf("%s://%s", ps->rt_name, c->id);
                        cs[i].container_id = cids[i];
                }
                cs[i].phase = c->phase;
                cs[i].waiting_reason = c->waiting_reason[0] ? c->waiting_reason : NULL;
                cs[i].waiting_message = c->waiting_message;
                cs[i].started_at = c->started_at;
                to_ctr_term(&c->term, &cs[i].term);
                cs[i].has_last = c->has_last;
                to_ctr_term(&c->last, &cs[i].last);
                cs[i].restart_count = c->restart_count;
        }
        struct kubelet_pod_observed obs = {
                .host_ip = ps->node_ip,
                .pod_ip = p->pod_ip ? p->pod_ip
                                    : (kjson_bool(pod, "spec.hostNetwork", false) && p->sandbox
                                               ? ps->node_ip
                                               : NULL),
                .start_time = p->start_time,
                .sandbox_ready = p->sandbox,
                .ctrs = cs,
                .n_ctrs = p->n_ctrs,
                .now = now_s(),
        };
        json_t *st = kubelet_status_compute(pod, &obs);
        for (size_t i = 0; i < p->n_ctrs; i++)
                free(cids[i]);
        free(cids);
        free(cs);

        pthread_mutex_lock(&ps->lock);
        json_decref(p->published);
        p->published = json_incref(st);
        pthread_mutex_unlock(&ps->lock);

        if (!kubelet_status_changed(p->sent, st) || kjson_equal(kjson_get(pod, "status"), st)) {
                json_decref(p->sent);
                p->sent = st;
                return;
        }
        json_t *patch = json_pack("{s:O}", "status", st);
        _cleanup_free_ char *path =
                xasprintf("/api/v1/namespaces/%s/pods/%s/status", p->ns, p->name);
        int r = kclient_patch(kc, path, "merge", patch, NULL, &err);
        json_decref(patch);
        if (r < 0) {
                log_warn(COMP, "status of pod %s/%s: %s", p->ns, p->name, error_msg(&err));
                json_decref(st);
                return;
        }
        log_debug(COMP, "pod %s/%s: status %s", p->ns, p->name, kjson_str(st, "phase"));
        json_decref(p->sent);
        p->sent = st;
}

/* ---- teardown ---- */

static void teardown(struct podsync *ps, struct kclient *kc, struct kpod *p, json_t *pod, int grace)
{
        struct error err = {0};
        for (size_t i = 0; i < p->n_ctrs; i++) {
                struct kctr *c = &p->ctrs[i];
                if (!c->id)
                        continue;
                struct container_state st = {0};
                if (runtime_container_status(ps->rt, c->id, &st, NULL) == 0 &&
                    st.state != CONTAINER_EXITED) {
                        _cleanup_free_ char *field = xasprintf("spec.containers{%s}", c->name);
                        if (pod)
                                emit_event(ps, kc, p, field, "Normal", "Killing",
                                           "Stopping container %s", c->name);
                        if (runtime_container_stop(ps->rt, c->id, grace, &err) < 0)
                                log_warn(COMP, "stop %s: %s", c->id, error_msg(&err));
                }
                runtime_container_remove(ps->rt, c->id, NULL);
                free(c->id);
                c->id = NULL;
        }
        /* containers we never tracked (adopted but not yet synced) */
        pthread_mutex_lock(&ps->lock);
        json_t *adopt = p->adopt;
        p->adopt = NULL;
        pthread_mutex_unlock(&ps->lock);
        const char *k;
        json_t *v;
        json_object_foreach(adopt, k, v)
        {
                const char *id = kjson_str(v, "id");
                runtime_container_stop(ps->rt, id, grace, NULL);
                runtime_container_remove(ps->rt, id, NULL);
        }
        json_decref(adopt);
        if (runtime_sandbox_remove(ps->rt, p->uid, &err) < 0)
                log_warn(COMP, "remove sandbox of %s/%s: %s", p->ns, p->name, error_msg(&err));
        p->sandbox = false;
}

/* ---- the per-pod sync ---- */

static void init_ctrs(struct kpod *p, json_t *pod)
{
        json_t *ctrs = kjson_get(pod, "spec.containers");
        p->n_ctrs = json_array_size(ctrs);
        p->ctrs = xcalloc(p->n_ctrs ? p->n_ctrs : 1, sizeof(*p->ctrs));
        for (size_t i = 0; i < p->n_ctrs; i++) {
                struct kctr *c = &p->ctrs[i];
                c->name = xstrdup(kjson_str(json_array_get(ctrs, i), "name") ?: "");
                set_waiting(c, "ContainerCreating", NULL);
                json_t *a = json_object_get(p->adopt, c->name);
                if (a) {
                        c->id = xstrdup(kjson_str(a, "id"));
                        c->attempt = (unsigned)kjson_int(a, "attempt", 0);
                        c->restart_count = (int)c->attempt;
                        c->phase = KUBELET_CTR_RUNNING; /* corrected by the first status */
                        c->backoff_s = c->restart_count ? BACKOFF_MIN_S : 0;
                        json_object_del(p->adopt, c->name);
                }
        }
        /* the previous run's status (restartCount, lastState) survives a kubelet restart */
        json_t *st, *cs;
        size_t i;
        json_array_foreach(kjson_get(pod, "status.containerStatuses"), i, cs)
        {
                const char *n = kjson_str(cs, "name");
                for (size_t j = 0; n && j < p->n_ctrs; j++) {
                        struct kctr *c = &p->ctrs[j];
                        if (strcmp(c->name, n) || !c->id)
                                continue;
                        const char *img = kjson_str(cs, "imageID");
                        if (img && *img)
                                c->image_id = xstrdup(img);
                        st = kjson_get(cs, "lastState.terminated");
                        if (st) {
                                struct timespec ts = {0};
                                c->has_last = true;
                                c->last.exit_code = (int)kjson_int(st, "exitCode", 0);
                                snprintf(c->last.reason, sizeof(c->last.reason), "%s",
                                         kjson_str(st, "reason") ?: "");
                                if (kjson_str(st, "startedAt") &&
                                    timefmt_parse_rfc3339(kjson_str(st, "startedAt"), &ts) == 0)
                                        c->last.started_at = ts.tv_sec;
                                if (kjson_str(st, "finishedAt") &&
                                    timefmt_parse_rfc3339(kjson_str(st, "finishedAt"), &ts) == 0)
                                        c->last.finished_at = ts.tv_sec;
                                snprintf(c->last.cid, sizeof(c->last.cid), "%s",
                                         kjson_str(st, "containerID") ?: "");
                        }
                }
        }
        /* adopted containers whose name is no longer in the spec */
}

static bool is_terminal(json_t *pod)
{
        const char *ph = kjson_str(pod, "status.phase");
        return ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"));
}

/* Returns the delay (ms) until the next sync, -1 for none, or -2 when the record is finished. */
static int64_t sync_pod(struct podsync *ps, struct kclient *kc, struct kpod *p, json_t *pod,
                        bool gone)
{
        struct error err = {0};
        if (!p->ctrs)
                init_ctrs(p, pod);

        if (gone || kjson_get(pod, "metadata.deletionTimestamp")) {
                int grace =
                        (int)kjson_int(pod, "metadata.deletionGracePeriodSeconds",
                                       kjson_int(pod, "spec.terminationGracePeriodSeconds", 30));
                if (gone)
                        grace = MIN(grace, 2);
                log_info(COMP, "pod %s/%s: stopping (grace %ds)", p->ns, p->name, grace);
                teardown(ps, kc, p, gone ? NULL : pod, grace);
                if (!gone) {
                        json_t *opts = json_pack("{s:s, s:s, s:i, s:{s:s}}", "apiVersion", "v1",
                                                 "kind", "DeleteOptions", "gracePeriodSeconds", 0,
                                                 "preconditions", "uid", p->uid);
                        _cleanup_free_ char *path =
                                xasprintf("/api/v1/namespaces/%s/pods/%s", p->ns, p->name);
                        int r = kclient_delete(kc, path, opts, NULL, &err);
                        json_decref(opts);
                        if (r < 0 && r != -ENOENT && r != -ESTALE && r != -EINVAL) {
                                log_warn(COMP, "delete pod %s/%s: %s", p->ns, p->name,
                                         error_msg(&err));
                                return 2000;
                        }
                }
                log_info(COMP, "pod %s/%s: removed", p->ns, p->name);
                return -2;
        }

        int64_t next = -1;
        const char *sent_phase = kjson_str(p->sent, "phase");
        bool terminal =
                is_terminal(pod) ||
                (sent_phase && (!strcmp(sent_phase, "Succeeded") || !strcmp(sent_phase, "Failed")));
        if (!p->sandbox && !terminal) {
                /* first sight: report Pending/ContainerCreating before the slow part */
                if (!p->start_time)
                        p->start_time = now_s();
                if (!p->sent)
                        send_status(ps, kc, p, pod);
                if (p->sandbox_retry_at && now_s() < p->sandbox_retry_at)
                        return (p->sandbox_retry_at - now_s()) * 1000;
                json_t *spec = kjson_get(pod, "spec");
                const char *qos = kubelet_status_qos(pod);
                struct sandbox_config sc = {
                        .uid = p->uid,
                        .ns = p->ns,
                        .name = p->name,
                        .hostname = kjson_str(spec, "hostname"),
                        .subdomain = kjson_str(spec, "subdomain"),
                        .host_network = kjson_bool(spec, "hostNetwork", false),
                        .qos = !strcmp(qos, "Guaranteed")  ? RUNTIME_QOS_GUARANTEED
                               : !strcmp(qos, "Burstable") ? RUNTIME_QOS_BURSTABLE
                                                           : RUNTIME_QOS_BESTEFFORT,
                };
                char *ip = NULL;
                int r = runtime_sandbox_create(ps->rt, &sc, &ip, &err);
                if (r < 0) {
                        log_warn(COMP, "pod %s/%s: sandbox: %s", p->ns, p->name, error_msg(&err));
                        emit_event(ps, kc, p, NULL, "Warning", "FailedCreatePodSandBox",
                                   "Failed to create pod sandbox: %s", error_msg(&err));
                        p->sandbox_retry_at = now_s() + 5;
                        send_status(ps, kc, p, pod);
                        return 5000;
                }
                p->sandbox = true;
                p->sandbox_retry_at = 0;
                free(p->pod_ip);
                p->pod_ip = ip;
                if (!p->start_time)
                        p->start_time = now_s();
        }

        json_t *spec_ctrs = kjson_get(pod, "spec.containers");
        for (size_t i = 0; i < p->n_ctrs; i++) {
                struct kctr *c = &p->ctrs[i];
                json_t *sc = json_array_get(spec_ctrs, i);
                int64_t d;
                if (terminal) {
                        /* never restart in a terminal pod; just observe */
                        if (c->id && c->phase == KUBELET_CTR_RUNNING) {
                                struct container_state st = {0};
                                if (runtime_container_status(ps->rt, c->id, &st, NULL) == 0 &&
                                    st.state == CONTAINER_EXITED) {
                                        fill_term(ps, &c->term, &st, c->id);
                                        c->phase = KUBELET_CTR_TERMINATED;
                                }
                        }
                        continue;
                }
                d = sync_container(ps, kc, p, pod, sc, c);
                if (d >= 0 && (next < 0 || d < next))
                        next = d;
        }
        send_status(ps, kc, p, pod);
        return next;
}

/* ---- adoption at startup ---- */

static void adopt_existing(struct podsync *ps)
{
        struct error err = {0};
        struct container_info *ci = NULL;
        size_t n = 0;
        if (runtime_container_list(ps->rt, &ci, &n, &err) < 0) {
                log_warn(COMP, "list containers: %s", error_msg(&err));
                n = 0;
        }
        pthread_mutex_lock(&ps->lock);
        /* newest attempt per pod/container wins */
        json_t *remove = json_array();
        for (size_t i = 0; i < n; i++) {
                struct kpod *p = find_uid_locked(ps, ci[i].pod_uid);
                if (!p) {
                        json_array_append_new(remove, json_string(ci[i].id));
                        continue;
                }
                if (!p->adopt)
                        p->adopt = json_object();
                json_t *cur = json_object_get(p->adopt, ci[i].name);
                if (cur && kjson_int(cur, "attempt", 0) > (int64_t)ci[i].attempt) {
                        json_array_append_new(remove, json_string(ci[i].id));
                        continue;
                }
                if (cur)
                        json_array_append_new(remove, json_string(kjson_str(cur, "id")));
                json_object_set_new(p->adopt, ci[i].name,
                                    json_pack("{s:s, s:i}", "id", ci[i].id, "attempt",
                                              (json_int_t)ci[i].attempt));
                log_info(COMP, "adopting container %s of pod %s/%s", ci[i].id, p->ns, p->name);
        }
        pthread_mutex_unlock(&ps->lock);
        runtime_container_info_free(ci, n);

        json_t *v;
        size_t i;
        json_array_foreach(remove, i, v)
        {
                log_info(COMP, "removing container %s (pod gone or superseded)",
                         json_string_value(v));
                runtime_container_stop(ps->rt, json_string_value(v), 2, NULL);
                runtime_container_remove(ps->rt, json_string_value(v), NULL);
        }
        json_decref(remove);

        struct sandbox_info *sb = NULL;
        size_t ns = 0;
        if (runtime_sandbox_list(ps->rt, &sb, &ns, &err) < 0)
                ns = 0;
        for (size_t k = 0; k < ns; k++) {
                pthread_mutex_lock(&ps->lock);
                struct kpod *p = find_uid_locked(ps, sb[k].uid);
                pthread_mutex_unlock(&ps->lock);
                if (!p) {
                        log_info(COMP, "removing sandbox of gone pod %s/%s", sb[k].ns, sb[k].name);
                        runtime_sandbox_remove(ps->rt, sb[k].uid, NULL);
                } else {
                        /* worker-only fields, but no worker runs before ready */
                        p->start_time = sb[k].created_at.tv_sec;
                }
        }
        runtime_sandbox_info_free(sb, ns);
}

/* ---- workers ---- */

static void *worker_main(void *ud);

struct worker_arg {
        struct podsync *ps;
        int index;
};

static void *worker_main(void *ud)
{
        struct worker_arg *wa = ud;
        struct podsync *ps = wa->ps;
        int index = wa->index;
        struct kclient *kc = NULL;
        struct error err = {0};
        free(wa);

        if (index == 0) {
                /* wait for the first list, then adopt, then let everyone run */
                while (informer_wait_synced(ps->inf, 500) < 0) {
                        pthread_mutex_lock(&ps->lock);
                        bool stop = ps->stopping;
                        pthread_mutex_unlock(&ps->lock);
                        if (stop)
                                return NULL;
                }
                adopt_existing(ps);
                pthread_mutex_lock(&ps->lock);
                ps->ready = true;
                pthread_cond_broadcast(&ps->cond);
                pthread_mutex_unlock(&ps->lock);
        }

        pthread_mutex_lock(&ps->lock);
        while (!ps->stopping) {
                struct kpod *best = NULL;
                int64_t now = mono_ms(), wait = 1000;
                if (ps->ready) {
                        for (struct kpod *p = ps->pods; p; p = p->next) {
                                if (p->busy || !p->due_ms)
                                        continue;
                                if (!best || p->due_ms < best->due_ms)
                                        best = p;
                        }
                }
                if (best && best->due_ms > now) {
                        wait = MIN(best->due_ms - now, 1000);
                        best = NULL;
                }
                if (!kc && best) {
                        pthread_mutex_unlock(&ps->lock);
                        if (kclient_from_kubeconfig(ps->kubeconfig, &kc, &err) < 0) {
                                log_warn(COMP, "kubeconfig: %s", error_msg(&err));
                                kc = NULL;
                                sleep(1);
                        }
                        pthread_mutex_lock(&ps->lock);
                        continue;
                }
                if (!best) {
                        struct timespec ts;
                        clock_gettime(CLOCK_REALTIME, &ts);
                        ts.tv_nsec += (long)(wait % 1000) * 1000000L;
                        ts.tv_sec += wait / 1000 + ts.tv_nsec / 1000000000L;
                        ts.tv_nsec %= 1000000000L;
                        pthread_cond_timedwait(&ps->cond, &ps->lock, &ts);
                        continue;
                }
                best->busy = true;
                best->due_ms = 0;
                json_t *pod = json_incref(best->pod);
                bool gone = best->gone;
                pthread_mutex_unlock(&ps->lock);

                int64_t next = sync_pod(ps, kc, best, pod, gone);
                json_decref(pod);

                pthread_mutex_lock(&ps->lock);
                best->busy = false;
                if (next == -2) {
                        struct kpod **pp = &ps->pods;
                        while (*pp && *pp != best)
                                pp = &(*pp)->next;
                        if (*pp)
                                *pp = best->next;
                        kpod_free(best);
                } else if (next >= 0) {
                        schedule_locked(ps, best, next);
                }
                pthread_cond_broadcast(&ps->cond);
        }
        pthread_mutex_unlock(&ps->lock);
        if (kc)
                kclient_free(kc);
        return NULL;
}

int podsync_start(const struct podsync_config *cfg, struct podsync **ret, struct error *err)
{
        if (!cfg || !cfg->kubeconfig || !cfg->data_dir || !cfg->node_name || !cfg->rt)
                return error_set(err, -EINVAL, "podsync: incomplete config");
        struct podsync *ps = xcalloc(1, sizeof(*ps));
        ps->kubeconfig = xstrdup(cfg->kubeconfig);
        ps->data_dir = xstrdup(cfg->data_dir);
        ps->node_name = xstrdup(cfg->node_name);
        ps->node_ip = xstrdup(cfg->node_ip ? cfg->node_ip : "127.0.0.1");
        ps->images_dir = xasprintf("%s/images", cfg->data_dir);
        ps->logs_dir = xasprintf("%s/logs", cfg->data_dir);
        ps->rt = cfg->rt;
        ps->rt_name = runtime_get_name(cfg->rt);
        if (!ps->rt_name)
                ps->rt_name = "crun";
        ps->n_workers = cfg->workers > 0 ? cfg->workers : 4;
        ps->workers = xcalloc((size_t)ps->n_workers, sizeof(pthread_t));
        pthread_mutex_init(&ps->lock, NULL);
        pthread_cond_init(&ps->cond, NULL);
        mkdir(ps->logs_dir, 0755);

        struct informer_handlers h = {
                .on_add = pod_add, .on_update = pod_update, .on_delete = pod_delete};
        _cleanup_free_ char *query = xasprintf("fieldSelector=spec.nodeName%%3D%s", ps->node_name);
        int r = informer_start(ps->kubeconfig, "/api/v1/pods", query, &h, ps, &ps->inf, err);
        if (r < 0) {
                free(ps->workers);
                free(ps->kubeconfig);
                free(ps->data_dir);
                free(ps->node_name);
                free(ps->node_ip);
                free(ps->images_dir);
                free(ps->logs_dir);
                free(ps);
                return r;
        }
        for (int i = 0; i < ps->n_workers; i++) {
                struct worker_arg *wa = xmalloc(sizeof(*wa));
                *wa = (struct worker_arg){.ps = ps, .index = i};
                pthread_create(&ps->workers[i], NULL, worker_main, wa);
        }
        *ret = ps;
        return 0;
}

void podsync_stop(struct podsync *ps)
{
        if (!ps)
                return;
        pthread_mutex_lock(&ps->lock);
        ps->stopping = true;
        pthread_cond_broadcast(&ps->cond);
        pthread_mutex_unlock(&ps->lock);
        for (int i = 0; i < ps->n_workers; i++)
                pthread_join(ps->workers[i], NULL);
        informer_stop(ps->inf);
        while (ps->pods) {
                struct kpod *p = ps->pods;
                ps->pods = p->next;
                kpod_free(p);
        }
        pthread_mutex_destroy(&ps->lock);
        pthread_cond_destroy(&ps->cond);
        free(ps->workers);
        free(ps->kubeconfig);
        free(ps->data_dir);
        free(ps->node_name);
        free(ps->node_ip);
        free(ps->images_dir);
        free(ps->logs_dir);
        free(ps);
}

size_t podsync_count(struct podsync *ps)
{
        size_t n = 0;
        pthread_mutex_lock(&ps->lock);
        for (struct kpod *p = ps->pods; p; p = p->next)
                n++;
        pthread_mutex_unlock(&ps->lock);
        return n;
}

int podsync_log_lookup(struct podsync *ps, const char *ns, const char *name, const char *ctr,
                       bool previous, char **ret_path, bool *ret_running, struct error *err)
{
        int r = 0;
        pthread_mutex_lock(&ps->lock);
        struct kpod *p = ps->pods;
        for (; p; p = p->next)
                if (!strcmp(p->ns, ns) && !strcmp(p->name, name) && !p->gone)
                        break;
        if (!p) {
                r = error_set(err, -ENOENT, "pod %s/%s not found", ns, name);
                goto out;
        }
        json_t *cs, *found = NULL;
        size_t i;
        json_array_foreach(kjson_get(p->published, "containerStatuses"), i, cs)
        {
                if (!strcmp(kjson_str(cs, "name") ?: "", ctr))
                        found = cs;
        }
        if (!found) {
                r = error_set(err, -ENOENT, "container %s is not valid for pod %s", ctr, name);
                goto out;
        }
        int64_t restarts = kjson_int(found, "restartCount", 0);
        bool running = kjson_get(found, "state.running") != NULL;
        bool terminated = kjson_get(found, "state.terminated") != NULL;
        bool has_last = kjson_get(found, "lastState.terminated") != NULL;
        if (previous) {
                if (restarts == 0 && !(has_last && !running && !terminated)) {
                        r = error_set(err, -EINVAL,
                                      "previous terminated container \"%s\" in pod \"%s\" not "
                                      "found",
                                      ctr, name);
                        goto out;
                }
                /* in CrashLoopBackOff the last run has the current restartCount */
                int64_t att = (!running && !terminated) ? restarts : restarts - 1;
                *ret_path = xasprintf("%s/%s_%s_%s/%s/%lld.log", ps->logs_dir, p->ns, p->name,
                                      p->uid, ctr, (long long)att);
                *ret_running = false;
                goto out;
        }
        if (!running && !terminated) {
                if (has_last) {
                        /* waiting to restart: serve the last run */
                        *ret_path = xasprintf("%s/%s_%s_%s/%s/%lld.log", ps->logs_dir, p->ns,
                                              p->name, p->uid, ctr, (long long)restarts);
                        *ret_running = false;
                        goto out;
                }
                const char *reason =
                        kjson_str(found, "state.waiting.reason") ?: "ContainerCreating";
                r = error_set(err, -EINVAL,
                              "container \"%s\" in pod \"%s\" is waiting to start: %s", ctr, name,
                              reason);
                goto out;
        }
        *ret_path = xasprintf("%s/%s_%s_%s/%s/%lld.log", ps->logs_dir, p->ns, p->name, p->uid, ctr,
                              (long long)restarts);
        *ret_running = running;
out:
        pthread_mutex_unlock(&ps->lock);
        return r;
}
