/* job.c — the Job controller (see job.h). */
#include "controllers/job.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/labels.h"
#include "common/kjson.h"
#include "controllers/controllers-internal.h"
#include "controllers/expectations.h"
#include "controllers/podcontrol.h"
#include "controllers/util.h"

#define COMP "job-controller"
#define ORPHAN_PREFIX "orphan-pod:" /* queue keys for tracked pods without a Job */

struct job_priv {
        struct expectations *exp;
        /* key -> resourceVersion of our last successful status write. A sync acts only on a Job
         * at least that new: a stale cached Job (status from before our own write) would
         * otherwise miss failures already moved out of uncountedTerminatedPods and create pods
         * beyond backoffLimit. Touched by the sync workers only (one key at a time). */
        json_t *written;
        pthread_mutex_t lock;
};

/* ---- pure parts ---- */

int64_t job_backoff_seconds(int64_t failures)
{
        if (failures <= 0)
                return 0;
        int64_t d = JOB_BACKOFF_BASE_S;
        for (int64_t i = 1; i < failures && d < JOB_BACKOFF_MAX_S; i++)
                d *= 2;
        return MIN(d, JOB_BACKOFF_MAX_S);
}

static int cmp_int(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return x < y ? -1 : x > y;
}

json_t *job_indexes_parse(const char *s, int64_t completions)
{
        json_t *out = json_array();
        if (!s || !*s)
                return out;
        size_t cap = 16, n = 0;
        int64_t *v = xcalloc(cap, sizeof(*v));
        _cleanup_free_ char *copy = xstrdup(s);
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char *end;
                long long a = strtoll(tok, &end, 10), b = a;
                if (end == tok)
                        continue;
                if (*end == '-') {
                        char *e2;
                        b = strtoll(end + 1, &e2, 10);
                        if (e2 == end + 1 || *e2)
                                continue;
                } else if (*end) {
                        continue;
                }
                if (a < 0 || b < a)
                        continue;
                for (long long i = a; i <= b && i < completions; i++) {
                        if (n == cap) {
                                cap *= 2;
                                v = xrealloc(v, cap * sizeof(*v));
                        }
                        v[n++] = i;
                }
        }
        qsort(v, n, sizeof(*v), cmp_int);
        for (size_t i = 0; i < n; i++)
                if (i == 0 || v[i] != v[i - 1])
                        json_array_append_new(out, json_integer(v[i]));
        free(v);
        return out;
}

char *job_indexes_format(const json_t *idx)
{
        size_t n = json_array_size(idx);
        char *out = xstrdup("");
        for (size_t i = 0; i < n;) {
                int64_t a = json_integer_value(json_array_get(idx, i)), b = a;
                size_t j = i + 1;
                while (j < n && json_integer_value(json_array_get(idx, j)) == b + 1) {
                        b++;
                        j++;
                }
                char *next;
                if (b == a)
                        next = xasprintf("%s%s%lld", out, *out ? "," : "", (long long)a);
                else
                        next = xasprintf("%s%s%lld-%lld", out, *out ? "," : "", (long long)a,
                                         (long long)b);
                free(out);
                out = next;
                i = j;
        }
        return out;
}

static void add_env(json_t *containers)
{
        json_t *c;
        size_t i;
        json_array_foreach(containers, i, c)
        {
                json_t *env = json_object_get(c, "env");
                if (!json_is_array(env)) {
                        env = json_array();
                        json_object_set_new(c, "env", env);
                }
                json_array_insert_new(
                        env, 0,
                        json_pack("{s:s, s:{s:{s:s}}}", "name", "JOB_COMPLETION_INDEX", "valueFrom",
                                  "fieldRef", "fieldPath",
                                  "metadata.annotations['" JOB_INDEX_ANNOTATION "']"));
        }
}

json_t *job_pod_new(const json_t *job, int64_t index)
{
        json_t *pod = podcontrol_pod_from_template(kjson_get(job, "spec.template"), job, "batch/v1",
                                                   "Job");
        const char *name = kjson_str(job, "metadata.name") ?: "";
        const char *uid = kjson_str(job, "metadata.uid") ?: "";
        json_t *labels = kjson_obj_ensure(kjson_obj_ensure(pod, "metadata"), "labels");
        json_object_set_new(labels, "batch.kubernetes.io/controller-uid", json_string(uid));
        json_object_set_new(labels, "batch.kubernetes.io/job-name", json_string(name));
        json_object_set_new(labels, "controller-uid", json_string(uid));
        json_object_set_new(labels, "job-name", json_string(name));
        json_t *meta = json_object_get(pod, "metadata");
        json_t *fins = json_object_get(meta, "finalizers");
        if (!json_is_array(fins)) {
                fins = json_array();
                json_object_set_new(meta, "finalizers", fins);
        }
        json_array_append_new(fins, json_string(JOB_TRACKING_FINALIZER));
        if (index >= 0) {
                char buf[24];
                snprintf(buf, sizeof(buf), "%lld", (long long)index);
                json_object_set_new(kjson_obj_ensure(meta, "annotations"), JOB_INDEX_ANNOTATION,
                                    json_string(buf));
                json_object_set_new(labels, JOB_INDEX_ANNOTATION, json_string(buf));
                _cleanup_free_ char *gen = xasprintf("%s-%lld-", name, (long long)index);
                json_object_set_new(meta, "generateName", json_string(gen));
                json_t *spec = kjson_obj_ensure(pod, "spec");
                if (!json_object_get(spec, "hostname")) {
                        _cleanup_free_ char *h = xasprintf("%s-%lld", name, (long long)index);
                        json_object_set_new(spec, "hostname", json_string(h));
                }
                add_env(json_object_get(spec, "containers"));
                add_env(json_object_get(spec, "initContainers"));
        }
        return pod;
}

/* One onExitCodes requirement against a container status; on match *ret_code is its code. */
static bool exit_codes_match(const json_t *req, const json_t *cs, int64_t *ret_code)
{
        const char *want = kjson_str(req, "containerName");
        if (want && strcmp(want, kjson_str(cs, "name") ?: ""))
                return false;
        json_t *term = kjson_get(cs, "state.terminated");
        if (!json_is_object(term))
                return false;
        int64_t code = kjson_int(term, "exitCode", 0);
        bool in = false;
        json_t *v;
        size_t i;
        json_array_foreach(json_object_get(req, "values"), i, v) if (json_integer_value(v) == code)
                in = true;
        const char *op = kjson_str(req, "operator") ?: "";
        bool match = !strcmp(op, "In") ? in : !strcmp(op, "NotIn") ? (!in && code != 0) : false;
        if (match)
                *ret_code = code;
        return match;
}

const char *job_pod_failure_action(const json_t *job, const json_t *pod, char *msg, size_t size)
{
        json_t *rule;
        size_t ri;
        json_array_foreach(kjson_get(job, "spec.podFailurePolicy.rules"), ri, rule)
        {
                const char *action = kjson_str(rule, "action") ?: "";
                json_t *req = json_object_get(rule, "onExitCodes");
                if (json_is_object(req)) {
                        static const char *const lists[] = {"status.initContainerStatuses",
                                                            "status.containerStatuses"};
                        for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
                                json_t *cs;
                                size_t k;
                                json_array_foreach(kjson_get(pod, lists[l]), k, cs)
                                {
                                        int64_t code;
                                        if (!exit_codes_match(req, cs, &code))
                                                continue;
                                        snprintf(msg, size,
                                                 "Container %s for pod %s/%s failed with exit code "
                                                 "%lld matching %s rule at index %zu",
                                                 kjson_str(cs, "name") ?: "",
                                                 kjson_str(pod, "metadata.namespace") ?: "",
                                                 kjson_str(pod, "metadata.name") ?: "",
                                                 (long long)code, action, ri);
                                        return action;
                                }
                        }
                        continue;
                }
                json_t *pc;
                size_t k;
                json_array_foreach(json_object_get(rule, "onPodConditions"), k, pc)
                {
                        const char *type = kjson_str(pc, "type") ?: "";
                        json_t *c = controllers_condition_get(kjson_get(pod, "status"), type);
                        if (c && !strcmp(kjson_str(c, "status") ?: "",
                                         kjson_str(pc, "status") ?: "True")) {
                                snprintf(msg, size,
                                         "Pod %s/%s has condition %s matching %s rule at index %zu",
                                         kjson_str(pod, "metadata.namespace") ?: "",
                                         kjson_str(pod, "metadata.name") ?: "", type, action, ri);
                                return action;
                        }
                }
        }
        return NULL;
}

/* ---- helpers ---- */

static bool has_finalizer(const json_t *obj)
{
        json_t *v;
        size_t i;
        json_array_foreach(kjson_get(obj, "metadata.finalizers"), i, v)
        {
                if (json_is_string(v) && !strcmp(json_string_value(v), JOB_TRACKING_FINALIZER))
                        return true;
        }
        return false;
}

static bool cond_true(const json_t *status, const char *type)
{
        json_t *c = controllers_condition_get(status, type);
        return c && !strcmp(kjson_str(c, "status") ?: "", "True");
}

static bool job_finished(const json_t *job)
{
        const json_t *st = kjson_get(job, "status");
        return cond_true(st, "Complete") || cond_true(st, "Failed");
}

static int64_t pod_index(const json_t *pod)
{
        const char *s = json_string_value(
                json_object_get(kjson_get(pod, "metadata.annotations"), JOB_INDEX_ANNOTATION));
        if (!s || !*s)
                return -1;
        char *end;
        long long v = strtoll(s, &end, 10);
        return *end || v < 0 ? -1 : v;
}

static bool is_indexed(const json_t *job)
{
        const char *m = kjson_str(job, "spec.completionMode");
        return m && !strcmp(m, "Indexed");
}

static bool uid_in(const json_t *arr, const char *uid)
{
        json_t *v;
        size_t i;
        json_array_foreach(arr, i, v) if (!strcmp(json_string_value(v) ?: "", uid)) return true;
        return false;
}

static time_t pod_finish_time(const json_t *pod)
{
        time_t best = 0;
        json_t *cs;
        size_t i;
        json_array_foreach(kjson_get(pod, "status.containerStatuses"), i, cs)
        {
                time_t t = controllers_time(cs, "state.terminated.finishedAt");
                if (t > best)
                        best = t;
        }
        if (!best)
                best = controllers_time(
                        controllers_condition_get(kjson_get(pod, "status"), "Ready"),
                        "lastTransitionTime");
        if (!best)
                best = controllers_time(pod, "metadata.deletionTimestamp");
        return best;
}

static bool pod_failed(const json_t *pod)
{
        const char *ph = kjson_str(pod, "status.phase") ?: "";
        if (!strcmp(ph, "Failed"))
                return true;
        return kjson_get(pod, "metadata.deletionTimestamp") && strcmp(ph, "Succeeded");
}

static char *job_owner_key(const json_t *pod)
{
        json_t *ref = controllers_controller_ref(pod);
        if (!ref || strcmp(json_string_value(json_object_get(ref, "kind")) ?: "", "Job"))
                return NULL;
        return xasprintf("%s/%s", kjson_str(pod, "metadata.namespace") ?: "",
                         json_string_value(json_object_get(ref, "name")) ?: "");
}

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        struct job_priv *p = c->priv;
        if (res == CTL_JOBS) {
                _cleanup_free_ char *k = controllers_key(cur ? cur : old);
                workqueue_add(c->wq, k);
                if (!cur) { /* its tracked pods become orphans */
                        const char *uid = kjson_str(old, "metadata.uid") ?: "";
                        json_t *pods = manager_cache_list(c->m, CTL_PODS,
                                                          kjson_str(old, "metadata.namespace"));
                        json_t *pod;
                        size_t i;
                        json_array_foreach(pods, i, pod)
                        {
                                json_t *ref = controllers_controller_ref(pod);
                                if (!has_finalizer(pod) ||
                                    strcmp(json_string_value(json_object_get(ref, "uid")) ?: "",
                                           uid))
                                        continue;
                                _cleanup_free_ char *pk = controllers_key(pod);
                                _cleanup_free_ char *ok = xasprintf("%s%s", ORPHAN_PREFIX, pk);
                                workqueue_add(c->wq, ok);
                        }
                        json_decref(pods);
                }
                return;
        }
        if (res != CTL_PODS)
                return;
        const json_t *pod = cur ? cur : old;
        _cleanup_free_ char *owner = job_owner_key(pod);
        _cleanup_free_ char *pk = controllers_key(pod);
        if (cur && has_finalizer(cur)) {
                /* a tracked pod whose Job is gone (or that has no Job) must lose the finalizer */
                json_t *ref = controllers_controller_ref(cur);
                json_t *job = NULL;
                if (owner) {
                        char *ns = NULL;
                        const char *name;
                        controllers_key_split(owner, &ns, &name);
                        job = manager_cache_get(c->m, CTL_JOBS, ns, name);
                        free(ns);
                }
                if (!job ||
                    !kjson_equal(kjson_get(job, "metadata.uid"), json_object_get(ref, "uid"))) {
                        _cleanup_free_ char *k = xasprintf("%s%s", ORPHAN_PREFIX, pk);
                        workqueue_add(c->wq, k);
                }
                json_decref(job);
        }
        if (!owner)
                return;
        if (!old)
                expectations_creation_observed(p->exp, owner);
        if (!cur || (kjson_get(cur, "metadata.deletionTimestamp") &&
                     (!old || !kjson_get(old, "metadata.deletionTimestamp"))))
                expectations_deletion_observed(p->exp, owner, pk);
        workqueue_add(c->wq, owner);
}

static int64_t job_rv(const json_t *job)
{
        return strtoll(kjson_str(job, "metadata.resourceVersion") ?: "0", NULL, 10);
}

/* Whether the cached job is older than our own last status write (then the sync waits). */
static bool job_stale(struct job_priv *p, const char *key, const json_t *job)
{
        pthread_mutex_lock(&p->lock);
        int64_t w = json_integer_value(json_object_get(p->written, key));
        pthread_mutex_unlock(&p->lock);
        return job_rv(job) < w;
}

static void job_written(struct job_priv *p, const char *key, const json_t *job)
{
        pthread_mutex_lock(&p->lock);
        if (job)
                json_object_set_new(p->written, key, json_integer(job_rv(job)));
        else
                json_object_del(p->written, key);
        pthread_mutex_unlock(&p->lock);
}

static int put_status(struct kclient *kc, const json_t *job, json_t *status, json_t **ret)
{
        return podcontrol_put_status(kc, "/apis/batch/v1", "jobs", job, status, ret);
}

static int remove_pod_finalizer(struct kclient *kc, const json_t *pod)
{
        struct error err = {0};
        json_t *fins = json_array();
        json_t *v;
        size_t i;
        json_array_foreach(kjson_get(pod, "metadata.finalizers"), i, v)
        {
                if (!json_is_string(v) || strcmp(json_string_value(v), JOB_TRACKING_FINALIZER))
                        json_array_append(fins, v);
        }
        json_t *patch =
                json_pack("{s:{s:o, s:s}}", "metadata", "finalizers",
                          json_array_size(fins) ? fins : (json_decref(fins), json_null()),
                          "resourceVersion", kjson_str(pod, "metadata.resourceVersion") ?: "");
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s",
                                              kjson_str(pod, "metadata.namespace") ?: "",
                                              kjson_str(pod, "metadata.name") ?: "");
        int r = kclient_patch(kc, path, "merge", patch, NULL, &err);
        json_decref(patch);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                log_debug(COMP, "finalizer of %s: %s", path, error_msg(&err));
        return r;
}

static int delete_pod(struct kclient *kc, const json_t *pod)
{
        struct error err = {0};
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s",
                                              kjson_str(pod, "metadata.namespace") ?: "",
                                              kjson_str(pod, "metadata.name") ?: "");
        int r = kclient_delete(kc, path, NULL, NULL, &err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                log_debug(COMP, "delete %s: %s", path, error_msg(&err));
        return r;
}

/* ttlSecondsAfterFinished for a finished job: delete it when due, else requeue. */
static int handle_ttl(struct controller *c, struct kclient *kc, const json_t *job, const char *key)
{
        json_t *ttl = kjson_get(job, "spec.ttlSecondsAfterFinished");
        if (!json_is_integer(ttl) || kjson_get(job, "metadata.deletionTimestamp"))
                return 0;
        const json_t *st = kjson_get(job, "status");
        json_t *cond =
                controllers_condition_get(st, cond_true(st, "Complete") ? "Complete" : "Failed");
        time_t fin = controllers_time(cond, "lastTransitionTime");
        if (!fin)
                fin = controllers_time(job, "status.completionTime");
        time_t due = fin + json_integer_value(ttl), now = time(NULL);
        if (due > now) {
                workqueue_add_after(c->wq, key, (int64_t)(due - now) * 1000 + 100);
                return 0;
        }
        struct error err = {0};
        _cleanup_free_ char *path = xasprintf("/apis/batch/v1/namespaces/%s/jobs/%s",
                                              kjson_str(job, "metadata.namespace") ?: "",
                                              kjson_str(job, "metadata.name") ?: "");
        json_t *opts = json_pack("{s:s, s:s, s:s, s:{s:s}}", "kind", "DeleteOptions", "apiVersion",
                                 "v1", "propagationPolicy", "Background", "preconditions", "uid",
                                 kjson_str(job, "metadata.uid") ?: "");
        int r = kclient_delete(kc, path, opts, NULL, &err);
        json_decref(opts);
        if (r == -ENOENT || r == -ESTALE)
                return 0;
        if (r == 0)
                log_info(COMP, "deleted finished job %s (ttlSecondsAfterFinished)", key);
        return r;
}

/* Consecutive failures since the last success and the time of the last one. */
static int64_t recent_failures(const json_t *pods, time_t *ret_last)
{
        time_t last_ok = 0, last_fail = 0;
        json_t *p;
        size_t i;
        json_array_foreach(pods, i, p)
        {
                const char *ph = kjson_str(p, "status.phase") ?: "";
                if (!strcmp(ph, "Succeeded"))
                        last_ok = MAX(last_ok, pod_finish_time(p));
        }
        int64_t n = 0;
        json_array_foreach(pods, i, p)
        {
                if (!pod_failed(p))
                        continue;
                time_t t = pod_finish_time(p);
                if (t >= last_ok) {
                        n++;
                        last_fail = MAX(last_fail, t);
                }
        }
        *ret_last = last_fail;
        return n;
}

/* One parallel batch of pod creations (manager_parallel). */
struct job_batch {
        struct controller *c;
        const json_t *job;
        const char *key;
        const json_t *todo; /* Indexed: indexes to start, from first on; NULL otherwise */
        int64_t first;
        int *rc;
};

static int create_pod(struct kclient *kc, size_t i, void *ud)
{
        struct job_batch *b = ud;
        struct job_priv *p = b->c->priv;
        struct error err = {0};
        int64_t idx =
                b->todo ? json_integer_value(json_array_get(b->todo, (size_t)b->first + i)) : -1;
        json_t *np = job_pod_new(b->job, idx);
        json_t *created = NULL;
        int r = podcontrol_create(kc, np, &created, &err);
        json_decref(np);
        if (r < 0) {
                expectations_creation_observed(p->exp, b->key);
                manager_event(kc, COMP, b->job, "Warning", "FailedCreate", "Error creating: %s",
                              error_msg(&err));
        } else {
                manager_event(kc, COMP, b->job, "Normal", "SuccessfulCreate", "Created pod: %s",
                              kjson_str(created, "metadata.name") ?: "");
        }
        json_decref(created);
        b->rc[i] = r;
        return r;
}

/* syncOrphanPod: a pod with the tracking finalizer whose Job no longer exists (checked live,
 * by uid) gets the finalizer removed so that it can go away. */
static int sync_orphan_pod(struct controller *c, struct kclient *kc, const char *pod_key)
{
        _cleanup_free_ char *ns = NULL;
        const char *name;
        controllers_key_split(pod_key, &ns, &name);
        _cleanup_json_ json_t *pod = manager_cache_get(c->m, CTL_PODS, ns, name);
        if (!pod || !has_finalizer(pod))
                return 0;
        json_t *ref = controllers_controller_ref(pod);
        if (ref && !strcmp(json_string_value(json_object_get(ref, "kind")) ?: "", "Job")) {
                struct error err = {0};
                _cleanup_free_ char *path =
                        xasprintf("/apis/batch/v1/namespaces/%s/jobs/%s", ns,
                                  json_string_value(json_object_get(ref, "name")) ?: "");
                json_t *job = NULL;
                int r = kclient_get(kc, path, &job, &err);
                bool alive = r == 0 && kjson_equal(kjson_get(job, "metadata.uid"),
                                                   json_object_get(ref, "uid"));
                json_decref(job);
                if (r < 0 && r != -ENOENT)
                        return r;
                if (alive)
                        return 0; /* the Job's own sync handles it */
        }
        return remove_pod_finalizer(kc, pod);
}

static int job_sync(struct controller *c, struct kclient *kc, const char *key)
{
        if (!strncmp(key, ORPHAN_PREFIX, strlen(ORPHAN_PREFIX)))
                return sync_orphan_pod(c, kc, key + strlen(ORPHAN_PREFIX));
        struct job_priv *p = c->priv;
        _cleanup_free_ char *ns = NULL;
        const char *name;
        controllers_key_split(key, &ns, &name);
        _cleanup_json_ json_t *job = manager_cache_get(c->m, CTL_JOBS, ns, name);
        if (!job) {
                expectations_delete(p->exp, key);
                job_written(p, key, NULL);
                return 0;
        }
        if (job_stale(p, key, job)) {
                /* the informer has not delivered our last write yet; its event requeues us */
                workqueue_add_after(c->wq, key, 200);
                return 0;
        }
        const char *uid = kjson_str(job, "metadata.uid") ?: "";
        _cleanup_json_ json_t *all = manager_cache_list(c->m, CTL_PODS, ns);
        _cleanup_json_ json_t *pods = json_array();
        json_t *pod;
        size_t i;
        json_array_foreach(all, i, pod)
        {
                json_t *ref = controllers_controller_ref(pod);
                if (ref && !strcmp(json_string_value(json_object_get(ref, "uid")) ?: "", uid))
                        json_array_append(pods, pod);
        }
        if (job_finished(job)) {
                json_array_foreach(pods, i, pod) if (has_finalizer(pod))
                        remove_pod_finalizer(kc, pod);
                return handle_ttl(c, kc, job, key);
        }
        bool need_sync = expectations_satisfied(p->exp, key);
        time_t now = time(NULL);
        char nowbuf[32];
        controllers_now(nowbuf);
        _cleanup_json_ json_t *st = json_is_object(kjson_get(job, "status"))
                                            ? json_deep_copy(kjson_get(job, "status"))
                                            : json_object();
        int64_t completions_n = kjson_int(job, "spec.completions", -1);
        bool indexed = is_indexed(job);

        /* 1. finished pods with our finalizer: record them as uncounted first */
        json_t *unc = kjson_obj_ensure(st, "uncountedTerminatedPods");
        json_t *us = json_object_get(unc, "succeeded"), *uf = json_object_get(unc, "failed");
        if (!json_is_array(us))
                json_object_set_new(unc, "succeeded", us = json_array());
        if (!json_is_array(uf))
                json_object_set_new(unc, "failed", uf = json_array());
        bool added = false;
        json_array_foreach(pods, i, pod)
        {
                const char *puid = kjson_str(pod, "metadata.uid") ?: "";
                const char *ph = kjson_str(pod, "status.phase") ?: "";
                if (!has_finalizer(pod) || uid_in(us, puid) || uid_in(uf, puid))
                        continue;
                if (!strcmp(ph, "Succeeded")) {
                        json_array_append_new(us, json_string(puid));
                        added = true;
                } else if (pod_failed(pod) &&
                           (!strcmp(ph, "Failed") || !kjson_get(pod, "spec.nodeName") ||
                            controllers_time(pod, "metadata.deletionTimestamp") <= now)) {
                        char msg[512];
                        const char *action =
                                !strcmp(ph, "Failed")
                                        ? job_pod_failure_action(job, pod, msg, sizeof(msg))
                                        : NULL;
                        if (action && !strcmp(action, "Ignore")) {
                                /* not counted: just stop tracking it */
                                remove_pod_finalizer(kc, pod);
                                continue;
                        }
                        if (action && !strcmp(action, "FailJob") &&
                            !controllers_condition_get(st, "FailureTarget") &&
                            !controllers_condition_get(st, "SuccessCriteriaMet"))
                                controllers_condition_set(
                                        st,
                                        controllers_condition_new("FailureTarget", "True",
                                                                  "PodFailurePolicy", msg, true));
                        json_array_append_new(uf, json_string(puid));
                        added = true;
                }
        }
        if (added) {
                json_t *ret = NULL;
                int r = put_status(kc, job, st, &ret);
                if (r < 0)
                        return r;
                json_decref(job);
                job = ret;
                job_written(p, key, job);
        }
        /* 2. remove the finalizers; 3. count what is recorded and no longer tracked */
        json_t *completed = job_indexes_parse(kjson_str(st, "completedIndexes"), completions_n);
        int64_t succeeded = kjson_int(st, "succeeded", 0), failed = kjson_int(st, "failed", 0);
        json_t *keep_s = json_array(), *keep_f = json_array();
        for (int which = 0; which < 2; which++) {
                json_t *list = which ? uf : us;
                json_t *v;
                size_t k;
                json_array_foreach(list, k, v)
                {
                        const char *puid = json_string_value(v);
                        json_t *found = NULL;
                        json_array_foreach(pods, i,
                                           pod) if (!strcmp(kjson_str(pod, "metadata.uid") ?: "",
                                                            puid)) found = pod;
                        if (found && has_finalizer(found) && remove_pod_finalizer(kc, found) < 0) {
                                json_array_append(which ? keep_f : keep_s, v);
                                continue;
                        }
                        if (which) {
                                failed++;
                        } else {
                                int64_t idx = found ? pod_index(found) : -1;
                                if (indexed && idx >= 0 && idx < completions_n) {
                                        bool have = false;
                                        json_t *x;
                                        size_t q;
                                        json_array_foreach(completed, q,
                                                           x) if (json_integer_value(x) == idx)
                                                have = true;
                                        if (!have) {
                                                json_array_append_new(completed, json_integer(idx));
                                                succeeded++;
                                        }
                                } else if (!indexed) {
                                        succeeded++;
                                }
                        }
                }
        }
        json_object_set_new(unc, "succeeded", keep_s);
        json_object_set_new(unc, "failed", keep_f);
        if (!json_array_size(keep_s) && !json_array_size(keep_f))
                json_object_set_new(st, "uncountedTerminatedPods", json_object());
        /* sort and store completedIndexes */
        {
                size_t n = json_array_size(completed);
                int64_t *v = xcalloc(n ? n : 1, sizeof(*v));
                for (i = 0; i < n; i++)
                        v[i] = json_integer_value(json_array_get(completed, i));
                qsort(v, n, sizeof(*v), cmp_int);
                json_array_clear(completed);
                for (i = 0; i < n; i++)
                        json_array_append_new(completed, json_integer(v[i]));
                free(v);
                if (indexed) {
                        char *s = job_indexes_format(completed);
                        json_object_set_new(st, "completedIndexes", json_string(s));
                        free(s);
                }
        }
        json_object_set_new(st, "succeeded", json_integer(succeeded));
        json_object_set_new(st, "failed", json_integer(failed));

        /* active, ready, terminating */
        json_t *active = json_array();
        int64_t ready = 0, terminating = 0, restarts = 0;
        json_array_foreach(pods, i, pod)
        {
                const char *ph = kjson_str(pod, "status.phase") ?: "";
                bool terminal = !strcmp(ph, "Succeeded") || !strcmp(ph, "Failed");
                if (terminal)
                        continue;
                if (kjson_get(pod, "metadata.deletionTimestamp")) {
                        terminating++;
                        continue;
                }
                json_array_append(active, pod);
                if (controllers_pod_is_ready(pod))
                        ready++;
                json_t *cs;
                size_t k;
                json_array_foreach(kjson_get(pod, "status.containerStatuses"), k, cs) restarts +=
                        json_integer_value(json_object_get(cs, "restartCount"));
                json_array_foreach(kjson_get(pod, "status.initContainerStatuses"), k, cs)
                        restarts += json_integer_value(json_object_get(cs, "restartCount"));
        }
        int64_t backoff_limit = kjson_int(job, "spec.backoffLimit", 6);
        int64_t parallelism = kjson_int(job, "spec.parallelism", 1);
        bool suspended = kjson_bool(job, "spec.suspend", false);
        int r = 0;

        /* finished? the interim condition first, the terminal one once no pod runs */
        json_t *ft = controllers_condition_get(st, "FailureTarget");
        json_t *scm = controllers_condition_get(st, "SuccessCriteriaMet");
        if (!ft && !scm) {
                const char *on_failure = kjson_str(job, "spec.template.spec.restartPolicy");
                bool past_on_failure =
                        on_failure && !strcmp(on_failure, "OnFailure") &&
                        (backoff_limit == 0 ? restarts > 0 : restarts >= backoff_limit);
                json_t *ads = kjson_get(job, "spec.activeDeadlineSeconds");
                time_t start = controllers_time(job, "status.startTime");
                bool complete = indexed ? (int64_t)json_array_size(completed) >= completions_n
                                : completions_n >= 0
                                        ? succeeded >= completions_n
                                        : succeeded > 0 && json_array_size(active) == 0;
                if (failed > backoff_limit || past_on_failure)
                        controllers_condition_set(
                                st, controllers_condition_new(
                                            "FailureTarget", "True", "BackoffLimitExceeded",
                                            "Job has reached the specified backoff limit", true));
                else if (json_is_integer(ads) && start && !suspended &&
                         now - start >= json_integer_value(ads))
                        controllers_condition_set(
                                st, controllers_condition_new(
                                            "FailureTarget", "True", "DeadlineExceeded",
                                            "Job was active longer than specified deadline", true));
                else if (complete)
                        controllers_condition_set(
                                st, controllers_condition_new(
                                            "SuccessCriteriaMet", "True", "CompletionsReached",
                                            "Reached expected number of succeeded pods", true));
                ft = controllers_condition_get(st, "FailureTarget");
                scm = controllers_condition_get(st, "SuccessCriteriaMet");
                if (ft)
                        manager_event(kc, COMP, job, "Warning", kjson_str(ft, "reason"), "%s",
                                      kjson_str(ft, "message"));
                else if (scm)
                        manager_event(kc, COMP, job, "Normal", "Completed", "Job completed");
        }
        if (ft || scm) {
                json_array_foreach(active, i, pod)
                {
                        if (delete_pod(kc, pod) == 0)
                                terminating++;
                }
                json_array_clear(active);
                ready = 0;
                if (terminating == 0 && !json_array_size(keep_s) && !json_array_size(keep_f)) {
                        json_t *src = ft ? ft : scm;
                        controllers_condition_set(
                                st, controllers_condition_new(ft ? "Failed" : "Complete", "True",
                                                              kjson_str(src, "reason"),
                                                              kjson_str(src, "message"), true));
                        if (scm)
                                json_object_set_new(st, "completionTime", json_string(nowbuf));
                } else {
                        workqueue_add_after(c->wq, key, 1000);
                }
        } else if (suspended) {
                json_array_foreach(active, i, pod)
                {
                        if (delete_pod(kc, pod) == 0)
                                terminating++;
                }
                json_array_clear(active);
                ready = 0;
                if (!cond_true(st, "Suspended")) {
                        controllers_condition_set(
                                st, controllers_condition_new("Suspended", "True", "JobSuspended",
                                                              "Job suspended", true));
                        manager_event(kc, COMP, job, "Normal", "Suspended", "Job suspended");
                }
                json_object_del(st, "startTime");
        } else {
                if (!json_object_get(st, "startTime") ||
                    json_is_null(json_object_get(st, "startTime")))
                        json_object_set_new(st, "startTime", json_string(nowbuf));
                if (cond_true(st, "Suspended")) {
                        controllers_condition_set(
                                st, controllers_condition_new("Suspended", "False", "JobResumed",
                                                              "Job resumed", true));
                        manager_event(kc, COMP, job, "Normal", "Resumed", "Job resumed");
                }
                json_t *ads = kjson_get(job, "spec.activeDeadlineSeconds");
                if (json_is_integer(ads)) {
                        time_t start = controllers_time(st, "startTime");
                        int64_t left = (int64_t)(start + json_integer_value(ads) - now);
                        workqueue_add_after(c->wq, key, MAX(left, 0) * 1000 + 100);
                }
                /* how many should run */
                int64_t n_active = (int64_t)json_array_size(active);
                json_t *todo = json_array(); /* indexes to start (Indexed) */
                int64_t want;
                if (indexed) {
                        for (int64_t x = 0;
                             x < completions_n && (int64_t)json_array_size(todo) < parallelism;
                             x++) {
                                bool busy = false;
                                json_t *v;
                                size_t k;
                                json_array_foreach(completed, k, v) if (json_integer_value(v) == x)
                                        busy = true;
                                json_array_foreach(active, k, v) if (pod_index(v) == x) busy = true;
                                if (!busy)
                                        json_array_append_new(todo, json_integer(x));
                        }
                        want = MIN(parallelism, n_active + (int64_t)json_array_size(todo));
                        int64_t remaining = completions_n - (int64_t)json_array_size(completed);
                        want = MIN(want, remaining);
                } else if (completions_n >= 0) {
                        want = MIN(parallelism, completions_n - succeeded);
                } else {
                        want = succeeded > 0 ? n_active : parallelism;
                }
                want = MAX(want, 0);
                if (need_sync && n_active > want) {
                        json_t *victims = json_deep_copy(active);
                        controllers_pods_sort_for_deletion(victims, NULL);
                        int64_t n = n_active - want;
                        json_t *dels = json_array();
                        for (int64_t k = 0; k < n; k++) {
                                char *pk = controllers_key(json_array_get(victims, (size_t)k));
                                json_array_append_new(dels, json_string(pk));
                                free(pk);
                        }
                        expectations_expect(p->exp, key, 0, dels);
                        for (int64_t k = 0; k < n; k++) {
                                if (delete_pod(kc, json_array_get(victims, (size_t)k)) < 0)
                                        expectations_deletion_observed(
                                                p->exp, key,
                                                json_string_value(json_array_get(dels, (size_t)k)));
                                else
                                        n_active--;
                        }
                        json_decref(dels);
                        json_decref(victims);
                } else if (need_sync && n_active < want) {
                        time_t last_fail;
                        int64_t nf = recent_failures(pods, &last_fail);
                        int64_t wait = last_fail + job_backoff_seconds(nf) - now;
                        if (nf > 0 && wait > 0) {
                                workqueue_add_after(c->wq, key, wait * 1000);
                        } else {
                                int64_t n = want - n_active, done = 0;
                                expectations_expect(p->exp, key, n, NULL);
                                for (int64_t batch = 1; done < n; batch *= 2) {
                                        int64_t b = MIN(batch, n - done);
                                        bool fail = false;
                                        struct job_batch jb = {
                                                .c = c,
                                                .job = job,
                                                .key = key,
                                                .todo = indexed ? todo : NULL,
                                                .first = done,
                                                .rc = xcalloc((size_t)b, sizeof(int))};
                                        manager_parallel(c->m, kc, (size_t)b, create_pod, &jb);
                                        for (int64_t k = 0; k < b; k++) {
                                                if (jb.rc[k] < 0) {
                                                        fail = true;
                                                        r = jb.rc[k];
                                                } else {
                                                        n_active++;
                                                }
                                        }
                                        free(jb.rc);
                                        done += b;
                                        if (fail) {
                                                for (; done < n; done++)
                                                        expectations_creation_observed(p->exp, key);
                                                break;
                                        }
                                }
                        }
                }
                json_decref(todo);
                json_decref(active);
                active = NULL;
                json_object_set_new(st, "active", json_integer(n_active));
        }
        if (active) {
                json_object_set_new(st, "active", json_integer((int64_t)json_array_size(active)));
                json_decref(active);
        }
        json_object_set_new(st, "ready", json_integer(ready));
        json_object_set_new(st, "terminating", json_integer(terminating));
        json_decref(completed);
        if (!kjson_equal(st, kjson_get(job, "status"))) {
                _cleanup_json_ json_t *ret = NULL;
                int pr = put_status(kc, job, st, &ret);
                if (pr < 0 && !r)
                        r = pr;
                if (pr >= 0 && ret)
                        job_written(p, key, ret);
        }
        return r == -ESTALE ? -EAGAIN : r;
}

static void priv_free(struct controller *c)
{
        struct job_priv *p = c->priv;
        expectations_free(p->exp);
        json_decref(p->written);
        pthread_mutex_destroy(&p->lock);
        free(p);
}

void job_controller_init(struct controller *c)
{
        struct job_priv *p = xcalloc(1, sizeof(*p));
        p->exp = expectations_new();
        p->written = json_object();
        pthread_mutex_init(&p->lock, NULL);
        c->name = "job";
        c->priv = p;
        c->needs = 1u << CTL_PODS | 1u << CTL_JOBS;
        c->on_event = on_event;
        c->sync = job_sync;
        c->free = priv_free;
}
