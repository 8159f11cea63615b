/* podsync.c — pod workers of the kubelet (see podsync.h). */
#include "kubelet/podsync.h"

#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "client/informer.h"
#include "common/kjson.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "kubelet/images.h"
#include "kubelet/logs.h"
#include "kubelet/probes.h"
#include "kubelet/status.h"
#include "kubelet/volumes.h"

#define COMP "kubelet"
#define POLL_MS 1000
#define BACKOFF_MIN_S 10
#define BACKOFF_MAX_S 300
#define BACKOFF_RESET_S 600    /* a container that ran this long restarts without backoff */
#define VOLUME_REFRESH_MS 5000 /* configMap/secret/downwardAPI volumes follow the API */
#define TERM_MSG_MAX 4096      /* kubelet: MaxContainerTerminationMessageLength */
#define TERM_LOG_LINES 80      /* FallbackToLogsOnError: last 80 lines ... */
#define TERM_LOG_BYTES 2048    /* ... at most 2 KiB */
#define HOOK_TIMEOUT_S 30

/* A terminated run, with its strings owned. */
struct kterm {
        int exit_code;
        char reason[32];
        char message[TERM_MSG_MAX + 1];
        int64_t started_at, finished_at;
        char cid[160];
};

struct kctr {
        char *name;
        bool is_init;
        bool sidecar;     /* an init container with restartPolicy Always: runs beside the app */
        bool start_error; /* the last run failed to start: term holds StartError, id is NULL */
        int64_t kill_at;  /* unix s: a stop is under way (SIGTERM sent), SIGKILL due then */
        bool probed;      /* the current run is registered with the probe manager */
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
        size_t n_init;       /* ctrs[0..n_init) are the init containers */
        char *failed_reason; /* pod-level failure (DeadlineExceeded) */
        char *failed_message;
        char *evict_message; /* protected by ps->lock: set by podsync_pod_evict */
        bool volumes_ready;
        int64_t volumes_refresh_ms; /* monotonic ms of the next refresh */
        char *mount_error;          /* last FailedMount message (one event per change) */
        struct kevent {
                uint64_t key;   /* hash of fieldPath, type, reason, message; 0 = free */
                char name[320]; /* pod name (<= 253) + "." + 16 hex digits */
                int count;
                int64_t last; /* unix s */
        } events[8];          /* recent events, aggregated like the kubelet's EventCorrelator */
        unsigned events_next;
};

struct podsync {
        char *kubeconfig, *data_dir, *node_name, *node_ip, *images_dir, *logs_dir;
        struct runtime *rt;
        const char *rt_name;
        struct informer *inf;
        struct probes *probes;
        int n_workers;
        pthread_t *workers;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        /* protected by lock: */
        struct kpod *pods;
        bool stopping;
        bool ready; /* adoption done */
        int64_t pod_max_pids;
        json_t *tokens; /* protected by lock: "uid\nsource" -> {token, refresh_at} */
        bool (*admit)(void *ud, json_t *pod, char **ret_msg); /* atomic; set once */
        void *admit_ud;
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

/* Effective pod value of one resource: max(sum over app containers, max over init ones).
 * *all is cleared when some container lacks it. */
static int64_t pod_sum(json_t *spec, const char *field, bool cpu, bool *all)
{
        int64_t sum = 0, init_max = 0;
        const char *lists[] = {"containers", "initContainers"};
        for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
                json_t *ctrs = json_object_get(spec, lists[l]), *c;
                size_t i;
                json_array_foreach(ctrs, i, c)
                {
                        const char *q = kjson_str(c, field);
                        int64_t v = cpu ? podsync_cpu_millis(q) : podsync_memory_bytes(q);
                        if (!q)
                                *all = false;
                        /* sidecars (restartPolicy Always) run beside the app containers */
                        bool side = l == 1 && kjson_str(c, "restartPolicy") &&
                                    !strcmp(kjson_str(c, "restartPolicy"), "Always");
                        if (l == 0 || side)
                                sum += v;
                        else if (v > init_max)
                                init_max = v;
                }
        }
        return MAX(sum, init_max);
}

void podsync_pod_resources(json_t *pod, int64_t pod_max_pids, struct cgroup_resources *ret)
{
        json_t *spec = json_object_get(pod, "spec");
        memset(ret, 0, sizeof(*ret));
        bool all_cpu = true, all_mem = true, dummy = true;
        int64_t cpu_req = pod_sum(spec, "resources.requests.cpu", true, &dummy);
        int64_t cpu_lim = pod_sum(spec, "resources.limits.cpu", true, &all_cpu);
        int64_t mem_lim = pod_sum(spec, "resources.limits.memory", false, &all_mem);
        /* MilliCPUToShares: requests default to the limit (API defaulting) */
        int64_t shares = cpu_req * 1024 / 1000;
        ret->cpu_shares = (uint64_t)MIN(MAX(shares, 2), 262144);
        if (all_cpu && cpu_lim > 0)
                ret->cpu_quota_us = MAX(cpu_lim * 100, 1000);
        if (all_mem && mem_lim > 0)
                ret->memory_limit = mem_lim;
        if (pod_max_pids > 0)
                ret->pids_max = pod_max_pids;
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
        free(p->failed_reason);
        free(p->failed_message);
        free(p->evict_message);
        free(p->mount_error);
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
        /* the same event again within 10 minutes: count it on the existing object */
        uint64_t key = 1469598103934665603ULL;
        const char *parts[] = {field ? field : "", type, reason, msg};
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                for (const char *ch = parts[i]; *ch; ch++)
                        key = (key ^ (unsigned char)*ch) * 1099511628211ULL;
                key = (key ^ 0xff) * 1099511628211ULL;
        }
        key |= 1;
        for (size_t i = 0; i < ARRAY_SIZE(p->events); i++) {
                struct kevent *ke = &p->events[i];
                if (ke->key != key || ts.tv_sec - ke->last > 600)
                        continue;
                json_t *patch =
                        json_pack("{s:i, s:s}", "count", ke->count + 1, "lastTimestamp", now);
                _cleanup_free_ char *epath =
                        xasprintf("/api/v1/namespaces/%s/events/%s", p->ns, ke->name);
                int r = kclient_patch(c, epath, "merge", patch, NULL, &err);
                json_decref(patch);
                if (r == 0) {
                        ke->count++;
                        ke->last = ts.tv_sec;
                        return;
                }
                ke->key = 0; /* gone (expired): create a new one */
                err = (struct error){0};
        }
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
        if (kclient_create(c, path, ev, NULL, &err) < 0) {
                log_debug(COMP, "event %s: %s", reason, error_msg(&err));
        } else {
                struct kevent *ke = &p->events[p->events_next++ % ARRAY_SIZE(p->events)];
                ke->key = key;
                snprintf(ke->name, sizeof(ke->name), "%s", ev_name);
                ke->count = 1;
                ke->last = ts.tv_sec;
        }
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

/* ConfigMap / Secret lookups for env and volumes, through the worker's client. */
struct src_ctx {
        struct kclient *kc;
        const char *ns;
        struct podsync *ps;
        const struct kpod *p;
};

/* serviceAccountToken projection: a TokenRequest bound to the pod, cached per pod and source
 * and renewed after 80% of its lifetime (or 24 h), as the kubelet's token manager. name is
 * "<serviceAccount>\n<audience>\n<expirationSeconds>"; *ret is {"token": ...}. */
static int token_get(struct src_ctx *x, const char *name, json_t **ret, struct error *err)
{
        struct podsync *ps = x->ps;
        _cleanup_free_ char *key = xasprintf("%s\n%s", x->p->uid, name);
        int64_t now = now_s();
        pthread_mutex_lock(&ps->lock);
        json_t *c = json_object_get(ps->tokens, key);
        if (c && kjson_int(c, "refresh_at", 0) > now) {
                *ret = json_pack("{s:s}", "token", kjson_str(c, "token"));
                pthread_mutex_unlock(&ps->lock);
                return 0;
        }
        pthread_mutex_unlock(&ps->lock);
        _cleanup_free_ char *sa = xstrndup(name, strcspn(name, "\n"));
        const char *aud = name + strlen(sa) + (name[strlen(sa)] ? 1 : 0);
        _cleanup_free_ char *audience = xstrndup(aud, strcspn(aud, "\n"));
        const char *exps = aud + strlen(audience) + (aud[strlen(audience)] ? 1 : 0);
        int64_t exp = strtoll(exps, NULL, 10);
        json_t *req =
                json_pack("{s:s, s:s, s:{s:I, s:{s:s, s:s, s:s, s:s}}}", "apiVersion",
                          "authentication.k8s.io/v1", "kind", "TokenRequest", "spec",
                          "expirationSeconds", (json_int_t)(exp > 0 ? exp : 3600), "boundObjectRef",
                          "apiVersion", "v1", "kind", "Pod", "name", x->p->name, "uid", x->p->uid);
        if (*audience)
                json_object_set_new(json_object_get(req, "spec"), "audiences",
                                    json_pack("[s]", audience));
        _cleanup_free_ char *path =
                xasprintf("/api/v1/namespaces/%s/serviceaccounts/%s/token", x->ns, sa);
        json_t *resp = NULL;
        struct error e2 = {0};
        int r = kclient_create(x->kc, path, req, &resp, &e2);
        json_decref(req);
        if (r < 0)
                return error_set(err, r, "failed to fetch token: %s", error_msg(&e2));
        const char *tok = kjson_str(resp, "status.token");
        struct timespec expt = {0};
        const char *ets = kjson_str(resp, "status.expirationTimestamp");
        if (!tok || !ets || timefmt_parse_rfc3339(ets, &expt) < 0) {
                json_decref(resp);
                return error_set(err, -EPROTO, "failed to fetch token: malformed TokenRequest");
        }
        int64_t ttl = (int64_t)expt.tv_sec - now;
        int64_t refresh = now + MIN(ttl * 8 / 10, 24 * 3600);
        pthread_mutex_lock(&ps->lock);
        json_object_set_new(
                ps->tokens, key,
                json_pack("{s:s, s:I}", "token", tok, "refresh_at", (json_int_t)refresh));
        pthread_mutex_unlock(&ps->lock);
        *ret = json_pack("{s:s}", "token", tok);
        json_decref(resp);
        return 0;
}

static int src_lookup(void *ud, const char *kind, const char *name, json_t **ret, struct error *err)
{
        struct src_ctx *x = ud;
        if (!strcmp(kind, "serviceaccounttoken"))
                return x->ps && x->p ? token_get(x, name, ret, err)
                                     : error_set(err, -ENOTSUP, "no token source");
        return volumes_source_get(x->kc, x->ns, kind, name, ret, err);
}

static char *ctr_field(const struct kctr *c)
{
        return xasprintf("spec.%s{%s}", c->is_init ? "initContainers" : "containers", c->name);
}

static json_t *spec_ctr_of(json_t *pod, const struct kpod *p, size_t i)
{
        if (i < p->n_init)
                return json_array_get(kjson_get(pod, "spec.initContainers"), i);
        return json_array_get(kjson_get(pod, "spec.containers"), i - p->n_init);
}

static char *pod_dir_of(struct podsync *ps, const struct kpod *p)
{
        return xasprintf("%s/pods/%s", ps->data_dir, p->uid);
}

static char *term_path(struct podsync *ps, const struct kpod *p, const char *ctr, unsigned attempt)
{
        return xasprintf("%s/pods/%s/termination/%s-%u", ps->data_dir, p->uid, ctr, attempt);
}

/* image env first, then the container's (a later name overrides) */
static char **merge_env(char *const *image_env, char *const *spec_env)
{
        size_t n = 0, cap = kubelet_strv_length(image_env) + kubelet_strv_length(spec_env) + 1;
        char **v = xcalloc(cap, sizeof(char *));
        for (size_t i = 0; image_env && image_env[i]; i++) {
                const char *eq = strchr(image_env[i], '=');
                if (!eq)
                        continue;
                size_t kl = (size_t)(eq - image_env[i]) + 1;
                bool overridden = false;
                for (size_t j = 0; spec_env && spec_env[j]; j++)
                        if (!strncmp(spec_env[j], image_env[i], kl))
                                overridden = true;
                if (!overridden)
                        v[n++] = xstrdup(image_env[i]);
        }
        for (size_t j = 0; spec_env && spec_env[j]; j++)
                v[n++] = xstrdup(spec_env[j]);
        return v;
}

/* Run a lifecycle hook handler; on failure *ret_msg is the kubelet's message. */
static int run_hook(struct podsync *ps, struct kpod *p, json_t *spec_ctr, const char *id,
                    json_t *handler, int timeout_s, char **ret_msg)
{
        char *out = NULL;
        int r = probes_handler_run(ps->rt, id, handler, spec_ctr, p->pod_ip, timeout_s, &out);
        if (r == 0) {
                free(out);
                return 0;
        }
        const char *name = kjson_str(spec_ctr, "name") ?: "";
        if (json_object_get(handler, "exec")) {
                _cleanup_free_ char *cmd = NULL;
                json_t *a;
                size_t i;
                size_t len = 0;
                cmd = xstrdup("");
                json_array_foreach(kjson_get(handler, "exec.command"), i, a)
                {
                        char *n =
                                xasprintf("%s%s%s", cmd, i ? " " : "", json_string_value(a) ?: "");
                        free(cmd);
                        cmd = n;
                        len++;
                }
                *ret_msg = xasprintf("Exec lifecycle hook ([%s]) for Container \"%s\" in Pod "
                                     "\"%s_%s(%s)\" failed - error: command '%s' exited with "
                                     "non-zero status, message: \"%s\"",
                                     cmd, name, p->name, p->ns, p->uid, cmd, out ? out : "");
        } else if (json_object_get(handler, "httpGet")) {
                *ret_msg = xasprintf("HTTP lifecycle hook (%s) for Container \"%s\" in Pod "
                                     "\"%s_%s(%s)\" failed - error: %s",
                                     kjson_str(handler, "httpGet.path") ?: "", name, p->name, p->ns,
                                     p->uid, out ? out : "");
        } else {
                *ret_msg = xasprintf("lifecycle hook for Container \"%s\" failed: %s", name,
                                     out ? out : "");
        }
        free(out);
        return -EIO;
}

/* securityContext of a container (pod-level values as defaults) into the runtime config. */
struct security {
        const char **caps_add, **caps_drop;
        uint32_t *gids;
};

static void security_clear(struct security *s)
{
        free(s->caps_add);
        free(s->caps_drop);
        free(s->gids);
}

static const char **strv_of(json_t *arr)
{
        size_t n = json_array_size(arr);
        if (!n)
                return NULL;
        const char **v = xcalloc(n + 1, sizeof(char *));
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (json_is_string(json_array_get(arr, i)))
                        v[k++] = json_string_value(json_array_get(arr, i));
        return v;
}

static int security_apply(json_t *pod, struct kpod *p, json_t *spec_ctr, const char *image_user,
                          struct container_config *cc, struct security *s, struct error *err)
{
        json_t *psc = kjson_get(pod, "spec.securityContext");
        json_t *csc = json_object_get(spec_ctr, "securityContext");
        const char *name = kjson_str(spec_ctr, "name") ?: "";
        json_t *nr = json_object_get(csc, "runAsNonRoot") ?: json_object_get(psc, "runAsNonRoot");
        if (json_is_true(nr)) {
                json_t *ru = json_object_get(csc, "runAsUser") ?: json_object_get(psc, "runAsUser");
                uint32_t u;
                _cleanup_free_ char *user = xstrdup(image_user ? image_user : "");
                char *colon = strchr(user, ':');
                if (colon)
                        *colon = '\0';
                if (ru && cc->uid == 0)
                        return error_set(err, -EINVAL,
                                         "container's runAsUser breaks non-root policy (pod: "
                                         "\"%s_%s(%s)\", container: %s)",
                                         p->name, p->ns, p->uid, name);
                if (!ru && *user && !parse_uint(user, &u))
                        return error_set(err, -EINVAL,
                                         "container has runAsNonRoot and image has non-numeric "
                                         "user (%s), cannot verify user is non-root (pod: "
                                         "\"%s_%s(%s)\", container: %s)",
                                         user, p->name, p->ns, p->uid, name);
                if (cc->uid == 0)
                        return error_set(err, -EINVAL,
                                         "container has runAsNonRoot and image will run as root "
                                         "(pod: \"%s_%s(%s)\", container: %s)",
                                         p->name, p->ns, p->uid, name);
        }
        s->caps_add = strv_of(kjson_get(csc, "capabilities.add"));
        s->caps_drop = strv_of(kjson_get(csc, "capabilities.drop"));
        cc->caps_add = s->caps_add;
        cc->caps_drop = s->caps_drop;
        cc->readonly_rootfs = kjson_bool(csc, "readOnlyRootFilesystem", false);
        /* the kubelet sets no_new_privs only for allowPrivilegeEscalation: false */
        json_t *ape = json_object_get(csc, "allowPrivilegeEscalation");
        cc->no_new_privs = cc->privileged ? 0 : json_is_false(ape) ? 1 : -1;
        json_t *sup = json_object_get(psc, "supplementalGroups");
        json_t *fsg = json_object_get(psc, "fsGroup");
        s->gids = xcalloc(json_array_size(sup) + 3, sizeof(uint32_t));
        size_t n = 0;
        /* containerd's WithAdditionalGIDs: the primary group comes first */
        if (json_is_integer(fsg) || json_array_size(sup))
                s->gids[n++] = cc->gid;
        if (json_is_integer(fsg))
                s->gids[n++] = (uint32_t)json_integer_value(fsg);
        for (size_t i = 0; i < json_array_size(sup); i++)
                if (json_is_integer(json_array_get(sup, i)))
                        s->gids[n++] = (uint32_t)json_integer_value(json_array_get(sup, i));
        cc->additional_gids = s->gids;
        cc->n_additional_gids = n;
        const char *sp =
                kjson_str(csc, "seccompProfile.type") ?: kjson_str(psc, "seccompProfile.type");
        cc->seccomp_runtime_default = sp && !strcmp(sp, "RuntimeDefault");
        return 0;
}

/* Start a new run of container c. Returns 0, or < 0 with c set to a waiting state. */
static int start_container(struct podsync *ps, struct kclient *kc, struct kpod *p, json_t *pod,
                           json_t *spec_ctr, struct kctr *c)
{
        struct error err = {0};
        const char *image = kjson_str(spec_ctr, "image") ?: "";
        const char *policy = podsync_pull_policy(spec_ctr);
        struct image_info info = {0};
        _cleanup_free_ char *field = ctr_field(c);
        _cleanup_free_ char *pd = pod_dir_of(ps, p);
        struct runtime_mount *mounts = NULL;
        size_t n_mounts = 0;
        char **spec_env = NULL, **env = NULL, **argv = NULL;
        struct security sec = {0};
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

        _cleanup_free_ char *lp = NULL, *tp = NULL;
        struct src_ctx sx = {.kc = kc, .ns = p->ns};
        struct kubelet_env_source src = {.lookup = src_lookup, .ud = &sx};
        r = kubelet_container_env_resolve(pod, spec_ctr, NULL, p->pod_ip, ps->node_ip, &src,
                                          &spec_env, &err);
        if (r >= 0)
                r = volumes_mounts_for(pod, spec_ctr, pd, &mounts, &n_mounts, &err);
        if (r < 0) {
                set_waiting(c, "CreateContainerConfigError", error_msg(&err));
                if (c->start_failures == 0)
                        emit_event(ps, kc, p, field, "Warning", "Failed", "Error: %s",
                                   error_msg(&err));
                goto out;
        }
        env = merge_env(info.env, spec_env);
        argv = kubelet_container_argv(spec_ctr, info.entrypoint, info.cmd, spec_env);
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
                .tty = kjson_bool(spec_ctr, "tty", false),
                .stdin = kjson_bool(spec_ctr, "stdin", false),
                .stdin_once = kjson_bool(spec_ctr, "stdinOnce", false),
                .host_pid = kjson_bool(pod, "spec.hostPID", false),
                .host_ipc = kjson_bool(pod, "spec.hostIPC", false),
                .share_pid = kjson_bool(pod, "spec.shareProcessNamespace", false) &&
                             !kjson_bool(pod, "spec.hostPID", false),
        };
        pick_user(pod, spec_ctr, info.user, &cc.uid, &cc.gid);
        if (security_apply(pod, p, spec_ctr, info.user, &cc, &sec, &err) < 0) {
                set_waiting(c, "CreateContainerConfigError", error_msg(&err));
                if (c->start_failures == 0)
                        emit_event(ps, kc, p, field, "Warning", "Failed", "Error: %s",
                                   error_msg(&err));
                r = -EINVAL;
                goto out;
        }
        lp = log_path(ps, p, c->name, cc.attempt);
        cc.log_path = lp;
        /* terminationMessagePath: a fresh host file bind-mounted writable */
        tp = term_path(ps, p, c->name, cc.attempt);
        {
                _cleanup_free_ char *tdir = xasprintf("%s/termination", pd);
                mkdir(tdir, 0755);
                int tfd = open(tp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
                if (tfd >= 0) {
                        fchmod(tfd, 0666);
                        close(tfd);
                        const char *tmp = kjson_str(spec_ctr, "terminationMessagePath");
                        mounts = xrealloc(mounts, (n_mounts + 1) * sizeof(*mounts));
                        mounts[n_mounts++] = (struct runtime_mount){
                                .host_path = xstrdup(tp),
                                .container_path =
                                        xstrdup(tmp && *tmp ? tmp : "/dev/termination-log"),
                        };
                }
        }
        cc.mounts = mounts;
        cc.n_mounts = n_mounts;
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
                emit_event(ps, kc, p, field, "Warning", "Failed", "Error: %s", error_msg(&err));
                if (r == -EINVAL) {
                        set_waiting(c, "CreateContainerError", error_msg(&err));
                        goto out;
                }
                /* the runtime could not start the process (executable not found, a memory
                 * limit too low for the init...): like containerd's StartError, a terminated
                 * run with exit code 128 that restarts per restartPolicy with back-off */
                _cleanup_free_ char *fid = runtime_container_id(p->uid, c->name, cc.attempt);
                memset(&c->term, 0, sizeof(c->term));
                c->term.exit_code = 128;
                snprintf(c->term.reason, sizeof(c->term.reason), "StartError");
                snprintf(c->term.message, sizeof(c->term.message), "%s", error_msg(&err));
                c->term.finished_at = now_s();
                snprintf(c->term.cid, sizeof(c->term.cid), "%s://%s", ps->rt_name, fid);
                free(c->id);
                c->id = NULL;
                c->attempt = cc.attempt;
                c->phase = KUBELET_CTR_TERMINATED;
                c->start_error = true;
                r = 0; /* handled as an exit by sync_container */
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
        json_t *post = kjson_get(spec_ctr, "lifecycle.postStart");
        if (post) {
                _cleanup_free_ char *msg = NULL;
                if (run_hook(ps, p, spec_ctr, id, post, HOOK_TIMEOUT_S, &msg) < 0) {
                        log_info(COMP, "pod %s/%s: %s", p->ns, p->name, msg);
                        emit_event(ps, kc, p, field, "Warning", "FailedPostStartHook", "%s", msg);
                        emit_event(ps, kc, p, field, "Normal", "Killing", "FailedPostStartHook");
                        runtime_container_stop(ps->rt, id, 2, NULL);
                        r = 0; /* the exit is observed and handled as any other */
                        goto out;
                }
        }
        if ((!c->is_init || c->sidecar) && ps->probes) {
                probes_container_add(ps->probes, p->uid, c->name, id, spec_ctr, p->pod_ip,
                                     c->started_at);
                c->probed = true;
        }
out:
        security_clear(&sec);
        volumes_mounts_free(mounts, n_mounts);
        kubelet_strv_free(argv);
        kubelet_strv_free(env);
        kubelet_strv_free(spec_env);
        image_info_clear(&info);
        return r;
}

/* terminationMessagePath's content, or with FallbackToLogsOnError and a failure the log's tail */
static void read_term_message(struct podsync *ps, struct kpod *p, struct kctr *c, json_t *spec_ctr,
                              struct kterm *t)
{
        t->message[0] = '\0';
        _cleanup_free_ char *tp = term_path(ps, p, c->name, c->attempt);
        _cleanup_close_ int fd = open(tp, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, t->message, TERM_MSG_MAX);
                t->message[n > 0 ? n : 0] = '\0';
        }
        const char *policy = kjson_str(spec_ctr, "terminationMessagePolicy");
        if (t->message[0] || t->exit_code == 0 || !policy ||
            strcmp(policy, "FallbackToLogsOnError"))
                return;
        _cleanup_free_ char *lp = log_path(ps, p, c->name, c->attempt);
        _cleanup_close_ int lfd = open(lp, O_RDONLY | O_CLOEXEC);
        if (lfd < 0)
                return;
        off_t size = lseek(lfd, 0, SEEK_END);
        off_t from = size > (1 << 20) ? size - (1 << 20) : 0;
        size_t want = (size_t)(size - from);
        _cleanup_free_ char *buf = xmalloc(want + 1);
        ssize_t n = pread(lfd, buf, want, from);
        if (n <= 0)
                return;
        /* skip a partial first line when we started mid-file */
        size_t skip = 0;
        if (from > 0) {
                char *nl = memchr(buf, '\n', (size_t)n);
                skip = nl ? (size_t)(nl - buf + 1) : (size_t)n;
        }
        struct kubelet_logs_opts o = {.tail_lines = TERM_LOG_LINES};
        char *out = NULL;
        size_t olen = 0;
        kubelet_logs_render_all(buf + skip, (size_t)n - skip, &o, &out, &olen);
        const char *start = out;
        if (olen > TERM_LOG_BYTES) {
                start = out + olen - TERM_LOG_BYTES;
                olen = TERM_LOG_BYTES;
        }
        snprintf(t->message, sizeof(t->message), "%.*s", (int)olen, start);
        free(out);
}

static void fill_term(struct podsync *ps, struct kpod *p, struct kctr *c, json_t *spec_ctr,
                      const struct container_state *st)
{
        struct kterm *t = &c->term;
        const char *id = c->id;
        t->exit_code = st->exit_code;
        snprintf(t->reason, sizeof(t->reason), "%s",
                 st->oom_killed
                         ? "OOMKilled"
                         : (st->reason[0] ? st->reason : (st->exit_code ? "Error" : "Completed")));
        t->started_at = st->started_at.tv_sec;
        t->finished_at = st->finished_at.tv_sec ? st->finished_at.tv_sec : now_s();
        snprintf(t->cid, sizeof(t->cid), "%s://%s", ps->rt_name, id);
        read_term_message(ps, p, c, spec_ctr, t);
}

/* Observe c's run; restart it if needed. Returns the delay (ms) it wants until the next sync. */
static int64_t sync_container(struct podsync *ps, struct kclient *kc, struct kpod *p, json_t *pod,
                              json_t *spec_ctr, struct kctr *c)
{
        struct error err = {0};
        const char *rp = kjson_str(pod, "spec.restartPolicy") ?: "Always";
        int64_t now = now_s();

        if (c->id || c->start_error) {
                struct container_state st = {0};
                int r = c->start_error ? 0 : runtime_container_status(ps->rt, c->id, &st, &err);
                if (c->start_error)
                        st.state = CONTAINER_EXITED; /* c->term is filled already */
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
                        if (!c->probed && (!c->is_init || c->sidecar) && ps->probes &&
                            !c->kill_at) {
                                /* adopted after an agent restart: probe it again */
                                probes_container_add(ps->probes, p->uid, c->name, c->id, spec_ctr,
                                                     p->pod_ip, c->started_at);
                                c->probed = true;
                        }
                        if (c->kill_at) {
                                /* a stop under way: SIGKILL once the grace period is over */
                                if (now >= c->kill_at) {
                                        runtime_container_kill(ps->rt, c->id, "KILL", NULL);
                                        c->kill_at = 0;
                                }
                                return POLL_MS;
                        }
                        struct probes_state pst;
                        if (ps->probes && (!c->is_init || c->sidecar) &&
                            probes_container_state(ps->probes, p->uid, c->name, true, &pst) &&
                            pst.kill) {
                                bool startup = pst.kill_kind == PROBES_STARTUP;
                                _cleanup_free_ char *field = ctr_field(c);
                                emit_event(ps, kc, p, field, "Normal", "Killing",
                                           "Container %s failed %s probe, will be restarted",
                                           c->name, startup ? "startup" : "liveness");
                                int grace = (int)kjson_int(
                                        pod, "spec.terminationGracePeriodSeconds", 30);
                                json_t *pre = kjson_get(spec_ctr, "lifecycle.preStop");
                                _cleanup_free_ char *msg = NULL;
                                if (pre && run_hook(ps, p, spec_ctr, c->id, pre, grace, &msg) < 0)
                                        emit_event(ps, kc, p, field, "Warning", "FailedPreStopHook",
                                                   "%s", msg);
                                /* SIGTERM now, SIGKILL after the grace period, without holding
                                 * a worker for it */
                                if (grace <= 0 ||
                                    runtime_container_kill(ps->rt, c->id, "TERM", NULL) < 0)
                                        runtime_container_kill(ps->rt, c->id, "KILL", NULL);
                                else
                                        c->kill_at = now_s() + grace;
                                return 200; /* observe the exit soon */
                        }
                        return POLL_MS;
                } else {
                        c->kill_at = 0;
                        c->probed = false;
                        if (c->phase != KUBELET_CTR_TERMINATED && !c->restart_at) {
                                fill_term(ps, p, c, spec_ctr, &st);
                                if (ps->probes && (!c->is_init || c->sidecar))
                                        probes_container_remove(ps->probes, p->uid, c->name);
                        }
                        /* init containers restart only on failure, and never under Never */
                        bool restart =
                                c->sidecar   ? true
                                : c->is_init ? strcmp(rp, "Never") && c->term.exit_code != 0
                                             : !strcmp(rp, "Always") || (!strcmp(rp, "OnFailure") &&
                                                                         c->term.exit_code != 0);
                        if (!restart) {
                                c->phase = KUBELET_CTR_TERMINATED;
                                return -1;
                        }
                        if (!c->restart_at) {
                                if (!c->backoff_s ||
                                    (c->term.started_at &&
                                     c->term.finished_at - c->term.started_at >= BACKOFF_RESET_S)) {
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
                        c->start_error = false;
                        if (c->id)
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
                cs[i].term.message = c->term.message[0] ? c->term.message : NULL;
                cs[i].last.message = c->last.message[0] ? c->last.message : NULL;
                cs[i].restart_count = c->restart_count;
                struct probes_state pst;
                if ((!c->is_init || c->sidecar) && c->phase == KUBELET_CTR_RUNNING && ps->probes &&
                    probes_container_state(ps->probes, p->uid, c->name, false, &pst)) {
                        cs[i].has_probe_state = true;
                        cs[i].ready = pst.ready;
                        cs[i].started = pst.started;
                }
        }
        struct kubelet_pod_observed obs = {
                .host_ip = ps->node_ip,
                .pod_ip = p->pod_ip ? p->pod_ip
                                    : (kjson_bool(pod, "spec.hostNetwork", false) && p->sandbox
                                               ? ps->node_ip
                                               : NULL),
                .start_time = p->start_time,
                .sandbox_ready = p->sandbox,
                .ctrs = cs + p->n_init,
                .n_ctrs = p->n_ctrs - p->n_init,
                .init_ctrs = cs,
                .n_init_ctrs = p->n_init,
                .failed_reason = p->failed_reason,
                .failed_message = p->failed_message,
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
                        _cleanup_free_ char *field = ctr_field(c);
                        if (pod)
                                emit_event(ps, kc, p, field, "Normal", "Killing",
                                           "Stopping container %s", c->name);
                        json_t *sc = pod ? spec_ctr_of(pod, p, i) : NULL;
                        json_t *pre = kjson_get(sc, "lifecycle.preStop");
                        _cleanup_free_ char *msg = NULL;
                        int64_t t0 = now_s();
                        if (pre && grace > 0 && run_hook(ps, p, sc, c->id, pre, grace, &msg) < 0)
                                emit_event(ps, kc, p, field, "Warning", "FailedPreStopHook", "%s",
                                           msg);
                        /* the hook's time counts against the grace period (minimum 2 s) */
                        if (pre)
                                grace = (int)MAX(grace - (now_s() - t0), 2);
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
        if (ps->probes)
                probes_container_remove(ps->probes, p->uid, NULL);
        if (runtime_sandbox_remove(ps->rt, p->uid, &err) < 0)
                log_warn(COMP, "remove sandbox of %s/%s: %s", p->ns, p->name, error_msg(&err));
        p->sandbox = false;
}

/* ---- the per-pod sync ---- */

static void init_ctrs(struct kpod *p, json_t *pod)
{
        json_t *inits = kjson_get(pod, "spec.initContainers");
        p->n_init = json_array_size(inits);
        p->n_ctrs = p->n_init + json_array_size(kjson_get(pod, "spec.containers"));
        p->ctrs = xcalloc(p->n_ctrs ? p->n_ctrs : 1, sizeof(*p->ctrs));
        for (size_t i = 0; i < p->n_ctrs; i++) {
                struct kctr *c = &p->ctrs[i];
                c->is_init = i < p->n_init;
                const char *crp = kjson_str(spec_ctr_of(pod, p, i), "restartPolicy");
                c->sidecar = c->is_init && crp && !strcmp(crp, "Always");
                c->name = xstrdup(kjson_str(spec_ctr_of(pod, p, i), "name") ?: "");
                set_waiting(c, p->n_init ? "PodInitializing" : "ContainerCreating", NULL);
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
        json_t *all = json_array();
        if (json_is_array(kjson_get(pod, "status.initContainerStatuses")))
                json_array_extend(all, kjson_get(pod, "status.initContainerStatuses"));
        if (json_is_array(kjson_get(pod, "status.containerStatuses")))
                json_array_extend(all, kjson_get(pod, "status.containerStatuses"));
        json_array_foreach(all, i, cs)
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
        json_decref(all);
        /* adopted containers whose name is no longer in the spec */
}

static bool is_terminal(json_t *pod)
{
        const char *ph = kjson_str(pod, "status.phase");
        return ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"));
}

/* dnsPolicy / dnsConfig / hostAliases for the sandbox (strings borrowed from the spec or owned
 * by host_lines). NULL lists keep the runtime's ClusterFirst defaults. */
struct dns {
        const char **servers, **searches, **options;
        struct runtime_host_alias *aliases;
        size_t n_aliases;
        char **host_lines; /* words read from the host's resolv.conf */
};

static void dns_clear(struct dns *d)
{
        free(d->servers);
        free(d->searches);
        free(d->options);
        for (size_t i = 0; i < d->n_aliases; i++)
                free((void *)d->aliases[i].hostnames);
        free(d->aliases);
        kubelet_strv_free(d->host_lines);
}

static void strv_add(const char ***v, const char *s)
{
        size_t n = 0;
        while (*v && (*v)[n])
                n++;
        *v = xrealloc(*v, (n + 2) * sizeof(char *));
        (*v)[n] = s;
        (*v)[n + 1] = NULL;
}

static void dns_from_spec(struct podsync *ps, json_t *spec, const char *ns, struct dns *d)
{
        const char *policy = kjson_str(spec, "dnsPolicy") ?: "ClusterFirst";
        json_t *cfg = json_object_get(spec, "dnsConfig"), *x;
        size_t i;
        bool host_net = kjson_bool(spec, "hostNetwork", false);
        if (!strcmp(policy, "Default") || (host_net && !strcmp(policy, "ClusterFirst"))) {
                /* the node's resolv.conf */
                FILE *f = fopen("/etc/resolv.conf", "re");
                char line[512];
                size_t n = 0;
                d->host_lines = xcalloc(64, sizeof(char *));
                d->servers = xcalloc(1, sizeof(char *));
                d->searches = xcalloc(1, sizeof(char *));
                while (f && fgets(line, sizeof(line), f) && n < 60) {
                        char *save = NULL, *kw = strtok_r(line, " \t\n", &save), *w;
                        if (!kw || (strcmp(kw, "nameserver") && strcmp(kw, "search")))
                                continue;
                        while ((w = strtok_r(NULL, " \t\n", &save)) && n < 60) {
                                d->host_lines[n] = xstrdup(w);
                                strv_add(kw[0] == 'n' ? &d->servers : &d->searches,
                                         d->host_lines[n++]);
                        }
                }
                if (f)
                        fclose(f);
                d->options = xcalloc(1, sizeof(char *));
        } else if (!strcmp(policy, "None")) {
                d->servers = xcalloc(1, sizeof(char *));
                d->searches = xcalloc(1, sizeof(char *));
                d->options = xcalloc(1, sizeof(char *));
        } else if (json_array_size(json_object_get(cfg, "nameservers")) ||
                   json_array_size(json_object_get(cfg, "searches"))) {
                /* ClusterFirst with dnsConfig: the cluster's entries first, then the pod's */
                const char *dom = runtime_get_cluster_domain(ps->rt);
                d->host_lines = xcalloc(4, sizeof(char *));
                d->host_lines[0] = xasprintf("%s.svc.%s", ns, dom);
                d->host_lines[1] = xasprintf("svc.%s", dom);
                d->host_lines[2] = xstrdup(dom);
                d->servers = xcalloc(1, sizeof(char *));
                d->searches = xcalloc(1, sizeof(char *));
                strv_add(&d->servers, runtime_get_cluster_dns(ps->rt));
                for (size_t k = 0; k < 3; k++)
                        strv_add(&d->searches, d->host_lines[k]);
        }
        json_array_foreach(json_object_get(cfg, "nameservers"), i, x)
        {
                if (json_is_string(x))
                        strv_add(&d->servers, json_string_value(x));
        }
        json_array_foreach(json_object_get(cfg, "searches"), i, x)
        {
                if (d->searches && json_is_string(x))
                        strv_add(&d->searches, json_string_value(x));
        }
        if (json_array_size(json_object_get(cfg, "options"))) {
                if (!d->options) {
                        d->options = xcalloc(1, sizeof(char *));
                        bool has_ndots = false;
                        json_array_foreach(json_object_get(cfg, "options"), i, x)
                        {
                                has_ndots |= !strcmp(kjson_str(x, "name") ?: "", "ndots");
                        }
                        if (!has_ndots)
                                strv_add(&d->options, "ndots:5");
                }
                json_array_foreach(json_object_get(cfg, "options"), i, x)
                {
                        const char *n = kjson_str(x, "name"), *v = kjson_str(x, "value");
                        if (!n)
                                continue;
                        /* "name:value" must outlive the sandbox call: keep it in host_lines */
                        size_t k = kubelet_strv_length(d->host_lines);
                        d->host_lines = xrealloc(d->host_lines, (k + 2) * sizeof(char *));
                        d->host_lines[k] = v ? xasprintf("%s:%s", n, v) : xstrdup(n);
                        d->host_lines[k + 1] = NULL;
                        strv_add(&d->options, d->host_lines[k]);
                }
        }
        json_t *ha = json_object_get(spec, "hostAliases");
        d->aliases = xcalloc(json_array_size(ha) + 1, sizeof(*d->aliases));
        json_array_foreach(ha, i, x)
        {
                const char **names = NULL;
                json_t *h;
                size_t k;
                json_array_foreach(json_object_get(x, "hostnames"), k, h)
                {
                        if (json_is_string(h))
                                strv_add(&names, json_string_value(h));
                }
                if (!names || !kjson_str(x, "ip")) {
                        free(names);
                        continue;
                }
                d->aliases[d->n_aliases].ip = kjson_str(x, "ip");
                d->aliases[d->n_aliases].hostnames = names;
                d->n_aliases++;
        }
}

/* Returns the delay (ms) until the next sync, -1 for none, or -2 when the record is finished. */
/* Fail the whole pod (activeDeadlineSeconds, eviction): phase Failed with reason/message, an
 * event, the status sent first (as the kubelet's status manager), then SIGTERM to the running
 * containers (SIGKILL after grace seconds, from the terminal-pod sync; grace 0: at once). */
static void fail_pod(struct podsync *ps, struct kclient *kc, struct kpod *p, json_t *pod,
                     const char *reason, const char *message, const char *evtype, int grace)
{
        p->failed_reason = xstrdup(reason);
        p->failed_message = xstrdup(message);
        emit_event(ps, kc, p, NULL, evtype, reason, "%s", p->failed_message);
        send_status(ps, kc, p, pod);
        for (size_t i = 0; i < p->n_ctrs; i++) {
                struct kctr *c = &p->ctrs[i];
                if (!c->id || c->phase != KUBELET_CTR_RUNNING)
                        continue;
                _cleanup_free_ char *field = ctr_field(c);
                emit_event(ps, kc, p, field, "Normal", "Killing", "Stopping container %s", c->name);
                /* SIGTERM now; the terminal-pod sync below sends SIGKILL after
                 * the grace period and records the exits */
                if (grace <= 0 || runtime_container_kill(ps->rt, c->id, "TERM", NULL) < 0)
                        runtime_container_kill(ps->rt, c->id, "KILL", NULL);
                else
                        c->kill_at = now_s() + grace;
        }
        if (ps->probes)
                probes_container_remove(ps->probes, p->uid, NULL);
}

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
                /* its service account tokens */
                pthread_mutex_lock(&ps->lock);
                const char *tk;
                json_t *tv, *tmp;
                size_t ul = strlen(p->uid);
                json_object_foreach_safe(ps->tokens, tmp, tk, tv)
                {
                        if (!strncmp(tk, p->uid, ul) && tk[ul] == '\n')
                                json_object_del(ps->tokens, tk);
                }
                pthread_mutex_unlock(&ps->lock);
                log_info(COMP, "pod %s/%s: removed", p->ns, p->name);
                return -2;
        }

        int64_t next = -1;
        const char *sent_phase = kjson_str(p->sent, "phase");
        bool terminal =
                is_terminal(pod) ||
                (sent_phase && (!strcmp(sent_phase, "Succeeded") || !strcmp(sent_phase, "Failed")));
        /* a pod that was terminal before a kubelet restart: its status is final, and we no
         * longer know its containers (they may have been removed), so leave it alone */
        if (is_terminal(pod) && !p->sent)
                return -1;
        if (!p->sandbox && !terminal) {
                /* admission (the eviction manager's): a pod the node cannot take now fails */
                bool (*admit)(void *, json_t *, char **) =
                        __atomic_load_n(&ps->admit, __ATOMIC_ACQUIRE);
                _cleanup_free_ char *reject = NULL;
                if (!p->start_time && !p->sent && admit && !admit(ps->admit_ud, pod, &reject)) {
                        p->start_time = now_s();
                        fail_pod(ps, kc, p, pod, "Evicted", reject ? reject : "", "Warning", 0);
                        return -1;
                }
                /* first sight: report Pending/ContainerCreating before the slow part */
                if (!p->start_time)
                        p->start_time = now_s();
                if (!p->sent)
                        send_status(ps, kc, p, pod);
                if (p->sandbox_retry_at && now_s() < p->sandbox_retry_at)
                        return (p->sandbox_retry_at - now_s()) * 1000;
                json_t *spec = kjson_get(pod, "spec");
                const char *qos = kubelet_status_qos(pod);
                _cleanup_(dns_clear) struct dns dns = {0};
                dns_from_spec(ps, spec, p->ns, &dns);
                struct cgroup_resources pod_res;
                podsync_pod_resources(pod, ps->pod_max_pids, &pod_res);
                struct sandbox_config sc = {
                        .uid = p->uid,
                        .ns = p->ns,
                        .name = p->name,
                        .hostname = kjson_str(spec, "hostname"),
                        .subdomain = kjson_str(spec, "subdomain"),
                        .host_network = kjson_bool(spec, "hostNetwork", false),
                        .dns_servers = dns.servers,
                        .dns_searches = dns.searches,
                        .dns_options = dns.options,
                        .host_aliases = dns.aliases,
                        .n_host_aliases = dns.n_aliases,
                        .pod_res = pod_res,
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

        /* volumes: set up once, then refreshed (configMap/secret/downwardAPI live updates) */
        if (!terminal && (!p->volumes_ready ||
                          (volumes_need_refresh(pod) && mono_ms() >= p->volumes_refresh_ms))) {
                _cleanup_free_ char *pd = pod_dir_of(ps, p);
                struct src_ctx sx = {.kc = kc, .ns = p->ns, .ps = ps, .p = p};
                struct kubelet_env_source src = {.lookup = src_lookup, .ud = &sx};
                int r = volumes_setup(pod, pd, &src, p->pod_ip, ps->node_ip, &err);
                p->volumes_refresh_ms = mono_ms() + VOLUME_REFRESH_MS;
                if (r < 0 && !p->volumes_ready) {
                        if (!p->mount_error || strcmp(p->mount_error, error_msg(&err))) {
                                free(p->mount_error);
                                p->mount_error = xstrdup(error_msg(&err));
                                log_info(COMP, "pod %s/%s: %s", p->ns, p->name, error_msg(&err));
                                emit_event(ps, kc, p, NULL, "Warning", "FailedMount", "%s",
                                           error_msg(&err));
                        }
                        send_status(ps, kc, p, pod);
                        return 2000;
                }
                if (r >= 0)
                        p->volumes_ready = true;
                if (volumes_need_refresh(pod))
                        next = VOLUME_REFRESH_MS;
        }

        /* eviction by the eviction manager (hard threshold: no grace period) */
        pthread_mutex_lock(&ps->lock);
        _cleanup_free_ char *evict = TAKE_PTR(p->evict_message);
        pthread_mutex_unlock(&ps->lock);
        if (evict && !terminal && !p->failed_reason) {
                fail_pod(ps, kc, p, pod, "Evicted", evict, "Warning", 0);
                return 200;
        }

        /* activeDeadlineSeconds: kill everything, phase Failed / DeadlineExceeded */
        json_t *ads = kjson_get(pod, "spec.activeDeadlineSeconds");
        if (!terminal && json_is_integer(ads) && p->start_time) {
                int64_t left = p->start_time + json_integer_value(ads) - now_s();
                if (left <= 0 && !p->failed_reason) {
                        fail_pod(ps, kc, p, pod, "DeadlineExceeded",
                                 "Pod was active on the node longer than the specified deadline",
                                 "Normal",
                                 (int)kjson_int(pod, "spec.terminationGracePeriodSeconds", 30));
                        return 200;
                }
                if (left > 0 && (next < 0 || left * 1000 < next))
                        next = left * 1000;
        }

        /* pending Unhealthy events from the probes */
        if (ps->probes) {
                json_t *evs = probes_take_events(ps->probes, p->uid), *ev;
                size_t k;
                json_array_foreach(evs, k, ev)
                {
                        const char *cn = kjson_str(ev, "container") ?: "";
                        bool init = false;
                        for (size_t i = 0; i < p->n_init; i++)
                                init |= !strcmp(p->ctrs[i].name, cn);
                        _cleanup_free_ char *field = xasprintf(
                                "spec.%s{%s}", init ? "initContainers" : "containers", cn);
                        emit_event(ps, kc, p, field, "Warning", "Unhealthy", "%s",
                                   kjson_str(ev, "message") ?: "");
                }
                json_decref(evs);
        }

        bool inits_done = true, app_started = false;
        /* once an app container ran, a restarting sidecar no longer holds the others back */
        for (size_t i = p->n_init; i < p->n_ctrs; i++)
                app_started |= p->ctrs[i].id || p->ctrs[i].has_last || p->ctrs[i].start_error;
        for (size_t i = 0; i < p->n_ctrs; i++) {
                struct kctr *c = &p->ctrs[i];
                json_t *sc = spec_ctr_of(pod, p, i);
                int64_t d;
                if (terminal) {
                        /* never restart in a terminal pod; just observe (and finish a stop) */
                        if (c->id && c->phase == KUBELET_CTR_RUNNING) {
                                struct container_state st = {0};
                                if (runtime_container_status(ps->rt, c->id, &st, NULL) == 0 &&
                                    st.state == CONTAINER_EXITED) {
                                        fill_term(ps, p, c, sc, &st);
                                        c->phase = KUBELET_CTR_TERMINATED;
                                        c->kill_at = 0;
                                } else {
                                        if (c->kill_at && now_s() >= c->kill_at) {
                                                runtime_container_kill(ps->rt, c->id, "KILL", NULL);
                                                c->kill_at = 0;
                                        }
                                        if (next < 0 || next > POLL_MS)
                                                next = POLL_MS;
                                }
                        }
                        continue;
                }
                if (c->sidecar) {
                        /* a sidecar starts in its turn, keeps running (restarted whatever the
                         * pod's restartPolicy), and lets the next one start once it started */
                        if (!inits_done)
                                continue;
                        d = sync_container(ps, kc, p, pod, sc, c);
                        struct probes_state pst;
                        bool started = c->phase == KUBELET_CTR_RUNNING &&
                                       (!ps->probes ||
                                        !probes_container_state(ps->probes, p->uid, c->name, false,
                                                                &pst) ||
                                        pst.started);
                        if (!started && !app_started)
                                inits_done = false;
                } else if (c->is_init) {
                        /* one at a time, in order; the app containers wait for all of them */
                        if (!inits_done)
                                continue;
                        if (c->phase == KUBELET_CTR_TERMINATED && c->term.exit_code == 0)
                                continue;
                        d = sync_container(ps, kc, p, pod, sc, c);
                        if (c->phase == KUBELET_CTR_TERMINATED && c->term.exit_code == 0) {
                                send_status(ps, kc, p, pod); /* Init:n/m moves on */
                                continue;
                        }
                        inits_done = false;
                } else {
                        if (!inits_done)
                                break;
                        d = sync_container(ps, kc, p, pod, sc, c);
                }
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
                        if (kclient_from_kubeconfig_as(ps->kubeconfig, KCLIENT_AGENT_KUBELET, &kc,
                                                       &err) < 0) {
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

static void on_probe_change(void *ud, const char *uid)
{
        struct podsync *ps = ud;
        pthread_mutex_lock(&ps->lock);
        struct kpod *p = find_uid_locked(ps, uid);
        if (p)
                schedule_locked(ps, p, 0);
        pthread_mutex_unlock(&ps->lock);
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
        ps->pod_max_pids = cfg->pod_max_pids;
        ps->tokens = json_object();
        ps->rt_name = runtime_get_name(cfg->rt);
        if (!ps->rt_name)
                ps->rt_name = "crun";
        ps->n_workers = cfg->workers > 0 ? cfg->workers : 8;
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
        if (probes_new(ps->rt, on_probe_change, ps, &ps->probes) < 0) {
                log_warn(COMP, "probes: cannot start the probe thread");
                ps->probes = NULL;
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
        probes_free(ps->probes);
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
        json_decref(ps->tokens);
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

void podsync_set_admit(struct podsync *ps, bool (*admit)(void *ud, json_t *pod, char **ret_msg),
                       void *ud)
{
        ps->admit_ud = ud;
        __atomic_store_n(&ps->admit, admit, __ATOMIC_RELEASE);
}

json_t *podsync_pods_active(struct podsync *ps)
{
        json_t *arr = json_array();
        pthread_mutex_lock(&ps->lock);
        for (struct kpod *p = ps->pods; p; p = p->next) {
                const char *ph = kjson_str(p->published, "phase");
                if (p->gone || !p->pod || is_terminal(p->pod) || p->evict_message ||
                    (ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"))))
                        continue;
                if (!p->published || !kjson_str(p->pod, "metadata.uid"))
                        continue;
                json_array_append_new(arr, json_deep_copy(p->pod));
        }
        pthread_mutex_unlock(&ps->lock);
        return arr;
}

int podsync_pod_evict(struct podsync *ps, const char *uid, const char *message)
{
        int r = -ENOENT;
        pthread_mutex_lock(&ps->lock);
        struct kpod *p = find_uid_locked(ps, uid);
        if (p && !p->gone) {
                free(p->evict_message);
                p->evict_message = xstrdup(message);
                schedule_locked(ps, p, 0);
                r = 0;
        }
        pthread_mutex_unlock(&ps->lock);
        return r;
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

int podsync_stream_lookup(struct podsync *ps, const char *ns, const char *name, const char *ctr,
                          char **ret_uid, char **ret_id, struct error *err)
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
        char *id = NULL;
        if (ctr) {
                json_t *cs, *found = NULL;
                size_t i;
                json_array_foreach(kjson_get(p->published, "containerStatuses"), i, cs)
                {
                        if (!strcmp(kjson_str(cs, "name") ?: "", ctr))
                                found = cs;
                }
                if (!found) {
                        r = error_set(err, -ENOENT, "container not found (\"%s\")", ctr);
                        goto out;
                }
                if (!kjson_get(found, "state.running")) {
                        r = error_set(err, -EINVAL, "container %s is not running", ctr);
                        goto out;
                }
                id = runtime_container_id(p->uid, ctr,
                                          (unsigned)kjson_int(found, "restartCount", 0));
        }
        *ret_uid = xstrdup(p->uid);
        if (ret_id)
                *ret_id = id;
        else
                free(id);
out:
        pthread_mutex_unlock(&ps->lock);
        return r;
}

struct runtime *podsync_get_runtime(struct podsync *ps)
{
        return ps->rt;
}
