/* status.c — pure pod status computation and container argv/env construction (see status.h). */
#include "kubelet/status.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "api/quantity.h"
#include "common/kjson.h"

size_t kubelet_strv_length(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

void kubelet_strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

char *kubelet_time_format(int64_t t, char buf[static 32])
{
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm))
                memset(&tm, 0, sizeof(tm));
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return buf;
}

static json_t *time_json(int64_t t)
{
        char b[32];
        return json_string(kubelet_time_format(t, b));
}

bool kubelet_status_changed(json_t *old_status, json_t *new_status)
{
        if (!old_status || !new_status)
                return old_status != new_status;
        return !json_equal(old_status, new_status);
}

/* ---- phase ---- */

static const char *restart_policy(json_t *pod)
{
        const char *rp =
                json_string_value(json_object_get(json_object_get(pod, "spec"), "restartPolicy"));
        return rp ? rp : "Always";
}

static const struct kubelet_ctr_status *find_ctr(const struct kubelet_pod_observed *obs,
                                                 const char *name)
{
        for (size_t i = 0; obs && name && i < obs->n_ctrs; i++)
                if (obs->ctrs[i].name && !strcmp(obs->ctrs[i].name, name))
                        return &obs->ctrs[i];
        return NULL;
}

static const struct kubelet_ctr_status *find_init(const struct kubelet_pod_observed *obs,
                                                  const char *name)
{
        for (size_t i = 0; obs && name && i < obs->n_init_ctrs; i++)
                if (obs->init_ctrs[i].name && !strcmp(obs->init_ctrs[i].name, name))
                        return &obs->init_ctrs[i];
        return NULL;
}

const char *kubelet_status_phase(json_t *pod, const struct kubelet_pod_observed *obs)
{
        const char *cur =
                json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));
        if (cur && (!strcmp(cur, "Succeeded") || !strcmp(cur, "Failed")))
                return cur;

        if (obs && obs->failed_reason)
                return "Failed";
        /* regular init containers (getPhase: pending / failed initialization) */
        json_t *inits = json_object_get(json_object_get(pod, "spec"), "initContainers");
        size_t pending_init = 0, failed_init = 0;
        for (size_t i = 0; i < json_array_size(inits); i++) {
                json_t *ic = json_array_get(inits, i);
                const char *name = json_string_value(json_object_get(ic, "name"));
                const char *irp = json_string_value(json_object_get(ic, "restartPolicy"));
                if (irp && !strcmp(irp, "Always"))
                        continue; /* sidecars: getPhase skips restartable init containers */
                const struct kubelet_ctr_status *c = find_init(obs, name);
                if (!c) {
                        pending_init++;
                        continue;
                }
                switch (c->phase) {
                case KUBELET_CTR_RUNNING:
                        pending_init++;
                        break;
                case KUBELET_CTR_TERMINATED:
                        if (c->term.exit_code != 0)
                                failed_init++;
                        break;
                case KUBELET_CTR_WAITING:
                        if (c->has_last) {
                                if (c->last.exit_code != 0)
                                        failed_init++;
                        } else {
                                pending_init++;
                        }
                        break;
                }
        }
        if (failed_init > 0 && !strcmp(restart_policy(pod), "Never"))
                return "Failed";

        json_t *ctrs = json_object_get(json_object_get(pod, "spec"), "containers");
        size_t n = json_array_size(ctrs), running = 0, waiting = 0, stopped = 0, succeeded = 0;
        for (size_t i = 0; i < n; i++) {
                const char *name =
                        json_string_value(json_object_get(json_array_get(ctrs, i), "name"));
                const struct kubelet_ctr_status *c = find_ctr(obs, name);
                if (!c) {
                        waiting++;
                        continue;
                }
                switch (c->phase) {
                case KUBELET_CTR_RUNNING:
                        running++;
                        break;
                case KUBELET_CTR_TERMINATED:
                        stopped++;
                        if (c->term.exit_code == 0)
                                succeeded++;
                        break;
                case KUBELET_CTR_WAITING:
                        if (c->has_last) {
                                stopped++;
                                if (c->last.exit_code == 0)
                                        succeeded++;
                        } else {
                                waiting++;
                        }
                        break;
                }
        }
        if (n == 0 || waiting > 0 || (pending_init > 0 && running + stopped == 0))
                return "Pending";
        if (running > 0)
                return "Running";
        /* running == 0 && stopped > 0 */
        const char *rp = restart_policy(pod);
        if (!strcmp(rp, "Always"))
                return "Running";
        if (stopped == succeeded)
                return "Succeeded";
        if (!strcmp(rp, "Never"))
                return "Failed";
        return "Running";
}

/* ---- qos ---- */

static bool has_cpu_mem(json_t *res)
{
        return json_object_get(res, "cpu") && json_object_get(res, "memory");
}

const char *kubelet_status_qos(json_t *pod)
{
        json_t *spec = json_object_get(pod, "spec");
        bool any = false, guaranteed = true;
        const char *lists[] = {"initContainers", "containers"};
        for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
                json_t *ctrs = json_object_get(spec, lists[l]), *c;
                size_t i;
                json_array_foreach(ctrs, i, c)
                {
                        json_t *res = json_object_get(c, "resources");
                        json_t *req = json_object_get(res, "requests");
                        json_t *lim = json_object_get(res, "limits");
                        if (json_object_size(req) || json_object_size(lim))
                                any = true;
                        if (!has_cpu_mem(lim)) {
                                guaranteed = false;
                                continue;
                        }
                        const char *key;
                        json_t *v;
                        json_object_foreach(req, key, v)
                        {
                                json_t *lv = json_object_get(lim, key);
                                if (strcmp(key, "cpu") && strcmp(key, "memory"))
                                        continue;
                                if (!lv || !json_equal(lv, v))
                                        guaranteed = false;
                        }
                }
        }
        if (!any)
                return "BestEffort";
        return guaranteed ? "Guaranteed" : "Burstable";
}

static int cmp_status_name(const void *a, const void *b)
{
        const char *x = json_string_value(json_object_get(*(json_t *const *)a, "name"));
        const char *y = json_string_value(json_object_get(*(json_t *const *)b, "name"));
        return strcmp(x ? x : "", y ? y : "");
}

static void qsort_statuses(json_t *arr)
{
        size_t n = json_array_size(arr);
        if (n < 2)
                return;
        json_t **v = xcalloc(n, sizeof(*v));
        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(arr, i));
        qsort(v, n, sizeof(*v), cmp_status_name);
        json_array_clear(arr);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, v[i]);
        free(v);
}

/* ---- container statuses ---- */

static json_t *term_json(const struct kubelet_ctr_term *t)
{
        const char *reason = t->reason ? t->reason : (t->exit_code == 0 ? "Completed" : "Error");
        json_t *o =
                json_pack("{s:i, s:s, s:o, s:o}", "exitCode", t->exit_code, "reason", reason,
                          "startedAt", t->started_at ? time_json(t->started_at) : json_null(),
                          "finishedAt", t->finished_at ? time_json(t->finished_at) : json_null());
        if (t->message && *t->message)
                json_object_set_new(o, "message", json_string(t->message));
        if (t->container_id)
                json_object_set_new(o, "containerID", json_string(t->container_id));
        return o;
}

static json_t *ctr_status_json(json_t *spec_ctr, const struct kubelet_ctr_status *c, bool is_init,
                               const char *default_waiting)
{
        const char *name = json_string_value(json_object_get(spec_ctr, "name"));
        const char *image = json_string_value(json_object_get(spec_ctr, "image"));
        json_t *state, *last = json_object();
        bool running = c && c->phase == KUBELET_CTR_RUNNING;
        bool ready = running, started = running;

        if (running && c->has_probe_state) {
                ready = c->ready;
                started = c->started;
        }
        /* prober manager: a successfully completed init container is ready */
        if (is_init && c && c->phase == KUBELET_CTR_TERMINATED && c->term.exit_code == 0)
                ready = true;
        if (!c || c->phase == KUBELET_CTR_WAITING) {
                const char *reason = c && c->waiting_reason ? c->waiting_reason : default_waiting;
                json_t *w = json_pack("{s:s}", "reason", reason);
                if (c && c->waiting_message && *c->waiting_message)
                        json_object_set_new(w, "message", json_string(c->waiting_message));
                state = json_pack("{s:o}", "waiting", w);
        } else if (running) {
                state = json_pack("{s:{s:o}}", "running", "startedAt",
                                  c->started_at ? time_json(c->started_at) : json_null());
        } else {
                state = json_pack("{s:o}", "terminated", term_json(&c->term));
        }
        if (c && c->has_last)
                json_object_set_new(last, "terminated", term_json(&c->last));

        json_t *o = json_pack("{s:s, s:o, s:o, s:b, s:i, s:s, s:s, s:b}", "name", name ? name : "",
                              "state", state, "lastState", last, "ready", ready, "restartCount",
                              c ? c->restart_count : 0, "image", image ? image : "", "imageID",
                              c && c->image_id ? c->image_id : "", "started", started);
        if (c && c->container_id)
                json_object_set_new(o, "containerID", json_string(c->container_id));
        return o;
}

/* ---- conditions ---- */

static json_t *old_condition(json_t *pod, const char *type)
{
        json_t *conds = json_object_get(json_object_get(pod, "status"), "conditions"), *c;
        size_t i;
        json_array_foreach(conds, i, c)
        {
                const char *t = json_string_value(json_object_get(c, "type"));
                if (t && !strcmp(t, type))
                        return c;
        }
        return NULL;
}

static void add_condition(json_t *conds, json_t *pod, const char *type, bool status,
                          const char *reason, const char *message, int64_t now)
{
        const char *st = status ? "True" : "False";
        json_t *old = old_condition(pod, type);
        json_t *ltt = NULL;
        const char *old_st = json_string_value(json_object_get(old, "status"));
        if (old_st && !strcmp(old_st, st) &&
            json_is_string(json_object_get(old, "lastTransitionTime")))
                ltt = json_incref(json_object_get(old, "lastTransitionTime"));
        else
                ltt = time_json(now);
        json_t *c = json_pack("{s:s, s:s, s:n, s:o}", "type", type, "status", st, "lastProbeTime",
                              "lastTransitionTime", ltt);
        if (reason)
                json_object_set_new(c, "reason", json_string(reason));
        if (message)
                json_object_set_new(c, "message", json_string(message));
        json_array_append_new(conds, c);
}

/* The kubelet's ReadinessGatesNotReady message, or NULL when every gate is satisfied. */
static char *readiness_gates_message(json_t *pod)
{
        json_t *gates = json_object_get(json_object_get(pod, "spec"), "readinessGates"), *g;
        size_t i;
        char *msg = NULL;
        json_array_foreach(gates, i, g)
        {
                const char *type = json_string_value(json_object_get(g, "conditionType"));
                if (!type)
                        continue;
                json_t *c = old_condition(pod, type);
                const char *st = json_string_value(json_object_get(c, "status"));
                char *one = NULL;
                if (!c)
                        one = xasprintf("corresponding condition of pod readiness gate \"%s\" does "
                                        "not exist.",
                                        type);
                else if (!st || strcmp(st, "True"))
                        one = xasprintf("the status of pod readiness gate \"%s\" is not \"True\", "
                                        "but %s",
                                        type, st ? st : "");
                if (!one)
                        continue;
                char *joined = msg ? xasprintf("%s, %s", msg, one) : xstrdup(one);
                free(msg);
                free(one);
                msg = joined;
        }
        return msg;
}

char *kubelet_status_init_pending(json_t *pod, const struct kubelet_pod_observed *obs)
{
        json_t *inits = json_object_get(json_object_get(pod, "spec"), "initContainers");
        size_t cap = 16, len = 0;
        char *out = xmalloc(cap);
        out[0] = '\0';
        for (size_t i = 0; i < json_array_size(inits); i++) {
                json_t *sc = json_array_get(inits, i);
                const char *name = json_string_value(json_object_get(sc, "name"));
                const char *rp = json_string_value(json_object_get(sc, "restartPolicy"));
                const struct kubelet_ctr_status *c = find_init(obs, name);
                if (!name || (rp && !strcmp(rp, "Always")))
                        continue; /* sidecars do not gate initialization */
                if (c && c->phase == KUBELET_CTR_TERMINATED && c->term.exit_code == 0)
                        continue;
                size_t need = len + strlen(name) + 2;
                if (need > cap) {
                        cap = need * 2;
                        out = xrealloc(out, cap);
                }
                len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "", name);
        }
        return out;
}

json_t *kubelet_status_compute(json_t *pod, const struct kubelet_pod_observed *obs)
{
        json_t *spec = json_object_get(pod, "spec");
        json_t *ctrs = json_object_get(spec, "containers");
        json_t *inits = json_object_get(spec, "initContainers");
        const char *phase = kubelet_status_phase(pod, obs);
        json_t *st = json_object();
        json_t *statuses = json_array();
        size_t n = json_array_size(ctrs);
        size_t msg_cap = 64, msg_len = 0, unready = 0;
        _cleanup_free_ char *msg = xmalloc(msg_cap);
        const char *default_waiting =
                json_array_size(inits) ? "PodInitializing" : "ContainerCreating";

        msg[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                json_t *sc = json_array_get(ctrs, i);
                const char *name = json_string_value(json_object_get(sc, "name"));
                const struct kubelet_ctr_status *c = find_ctr(obs, name);
                json_t *cs = ctr_status_json(sc, c, false, default_waiting);
                bool c_ready = json_is_true(json_object_get(cs, "ready"));
                json_array_append_new(statuses, cs);
                if (!c_ready) {
                        size_t need = msg_len + strlen(name ? name : "") + 2;
                        if (need > msg_cap) {
                                msg_cap = need * 2;
                                msg = xrealloc(msg, msg_cap);
                        }
                        msg_len += (size_t)snprintf(msg + msg_len, msg_cap - msg_len, "%s%s",
                                                    unready ? " " : "", name ? name : "");
                        unready++;
                }
        }

        int64_t now = obs ? obs->now : 0;
        bool completed = !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
        json_t *conds = json_array();
        _cleanup_free_ char *ready_msg = xasprintf("containers with unready status: [%s]", msg);
        bool ready = unready == 0 && n > 0 && !completed;
        const char *ready_reason =
                ready ? NULL
                      : (!strcmp(phase, "Failed")
                                 ? "PodFailed" /* generateContainersReadyConditionForTerminalPhase
                                                */
                                 : (completed ? "PodCompleted" : "ContainersNotReady"));
        add_condition(conds, pod, "PodReadyToStartContainers", obs && obs->sandbox_ready, NULL,
                      NULL, now);
        _cleanup_free_ char *init_pending = kubelet_status_init_pending(pod, obs);
        _cleanup_free_ char *init_msg =
                xasprintf("containers with incomplete status: [%s]", init_pending);
        bool initialized = !*init_pending;
        add_condition(conds, pod, "Initialized", initialized,
                      initialized ? NULL : "ContainersNotInitialized",
                      initialized ? NULL : init_msg, now);
        /* readinessGates: with the containers ready, every gate's condition must be True */
        _cleanup_free_ char *gate_msg = ready ? readiness_gates_message(pod) : NULL;
        bool pod_ready = ready && !gate_msg;
        add_condition(conds, pod, "Ready", pod_ready,
                      gate_msg ? "ReadinessGatesNotReady" : ready_reason,
                      gate_msg ? gate_msg : (ready || completed ? NULL : ready_msg), now);
        add_condition(conds, pod, "ContainersReady", ready, ready_reason,
                      ready || completed ? NULL : ready_msg, now);
        add_condition(conds, pod, "PodScheduled", true, NULL, NULL, now);
        /* evicted by the kubelet: DisruptionTarget (the kubelet's TerminationByKubelet) */
        if (obs && obs->failed_reason && !strcmp(obs->failed_reason, "Evicted") &&
            !old_condition(pod, "DisruptionTarget"))
                add_condition(conds, pod, "DisruptionTarget", true, "TerminationByKubelet",
                              obs->failed_message, now);
        /* conditions owned by others (readiness gates, DisruptionTarget...) are kept */
        json_t *oc;
        size_t oi;
        json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), oi, oc)
        {
                const char *t = json_string_value(json_object_get(oc, "type"));
                static const char *const ours[] = {"PodReadyToStartContainers", "Initialized",
                                                   "Ready", "ContainersReady", "PodScheduled"};
                bool mine = !t;
                for (size_t k = 0; t && k < ARRAY_SIZE(ours); k++)
                        mine |= !strcmp(t, ours[k]);
                if (!mine)
                        json_array_append(conds, oc);
        }

        json_object_set_new(st, "phase", json_string(phase));
        json_object_set_new(st, "conditions", conds);
        if (obs && obs->host_ip) {
                json_object_set_new(st, "hostIP", json_string(obs->host_ip));
                json_object_set_new(st, "hostIPs", json_pack("[{s:s}]", "ip", obs->host_ip));
        }
        if (obs && obs->pod_ip) {
                json_object_set_new(st, "podIP", json_string(obs->pod_ip));
                json_object_set_new(st, "podIPs", json_pack("[{s:s}]", "ip", obs->pod_ip));
        }
        json_t *old_start = json_object_get(json_object_get(pod, "status"), "startTime");
        if (json_is_string(old_start))
                json_object_set(st, "startTime", old_start);
        else if (obs && obs->start_time)
                json_object_set_new(st, "startTime", time_json(obs->start_time));
        if (json_array_size(inits)) {
                json_t *ist = json_array();
                for (size_t i = 0; i < json_array_size(inits); i++) {
                        json_t *sc = json_array_get(inits, i);
                        const char *name = json_string_value(json_object_get(sc, "name"));
                        json_array_append_new(ist, ctr_status_json(sc, find_init(obs, name), true,
                                                                   "PodInitializing"));
                }
                json_object_set_new(st, "initContainerStatuses", ist);
        }
        /* the kubelet sorts the app containers' statuses by name (SortedContainerStatuses) */
        qsort_statuses(statuses);
        json_object_set_new(st, "containerStatuses", statuses);
        if (obs && obs->failed_reason) {
                json_object_set_new(st, "reason", json_string(obs->failed_reason));
                if (obs->failed_message)
                        json_object_set_new(st, "message", json_string(obs->failed_message));
        } else {
                /* a terminal pod keeps the reason it was given */
                json_t *ps = json_object_get(pod, "status");
                if (!strcmp(phase, "Failed") && json_is_string(json_object_get(ps, "reason"))) {
                        json_object_set(st, "reason", json_object_get(ps, "reason"));
                        if (json_is_string(json_object_get(ps, "message")))
                                json_object_set(st, "message", json_object_get(ps, "message"));
                }
        }
        json_object_set_new(st, "qosClass", json_string(kubelet_status_qos(pod)));
        return st;
}

/* ---- argv / env ---- */

static void strv_push(char ***v, size_t *n, char *s)
{
        *v = xrealloc(*v, (*n + 2) * sizeof(char *));
        (*v)[(*n)++] = s;
        (*v)[*n] = NULL;
}

static const char *env_lookup(char *const *env, const char *name, size_t name_len)
{
        const char *found = NULL;
        for (size_t i = 0; env && env[i]; i++)
                if (!strncmp(env[i], name, name_len) && env[i][name_len] == '=')
                        found = env[i] + name_len + 1; /* last one wins */
        return found;
}

char *kubelet_env_expand(const char *s, char *const *env)
{
        size_t cap = strlen(s) + 1, len = 0;
        char *out = xmalloc(cap);
#define PUT(p, l)                                                                                  \
        do {                                                                                       \
                size_t _l = (l);                                                                   \
                if (len + _l + 1 > cap) {                                                          \
                        cap = (len + _l + 1) * 2;                                                  \
                        out = xrealloc(out, cap);                                                  \
                }                                                                                  \
                memcpy(out + len, (p), _l);                                                        \
                len += _l;                                                                         \
        } while (0)
        for (const char *p = s; *p;) {
                if (p[0] != '$') {
                        const char *q = strchr(p, '$');
                        size_t l = q ? (size_t)(q - p) : strlen(p);
                        PUT(p, l);
                        p += l;
                        continue;
                }
                if (p[1] == '$') {
                        PUT("$", 1);
                        p += 2;
                        continue;
                }
                if (p[1] == '(') {
                        const char *close = strchr(p + 2, ')');
                        if (close) {
                                const char *v = env_lookup(env, p + 2, (size_t)(close - p - 2));
                                if (v && close > p + 2)
                                        PUT(v, strlen(v));
                                else
                                        PUT(p, (size_t)(close - p + 1));
                                p = close + 1;
                                continue;
                        }
                }
                PUT(p, 1);
                p++;
        }
#undef PUT
        out[len] = '\0';
        return out;
}

static const char *label_value(json_t *pod, const char *field)
{
        /* metadata.labels['k'] / metadata.annotations['k'] */
        static const char *const kinds[] = {"labels", "annotations"};
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
                _cleanup_free_ char *pre = xasprintf("metadata.%s['", kinds[i]);
                size_t pl = strlen(pre), fl = strlen(field);
                if (strncmp(field, pre, pl) || fl < pl + 2 || strcmp(field + fl - 2, "']"))
                        continue;
                _cleanup_free_ char *key = xstrndup(field + pl, fl - pl - 2);
                return json_string_value(json_object_get(
                        json_object_get(json_object_get(pod, "metadata"), kinds[i]), key));
        }
        return NULL;
}

static const char *field_ref(json_t *pod, const char *field, const char *pod_ip,
                             const char *host_ip)
{
        json_t *meta = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
        if (!field)
                return NULL;
        if (!strcmp(field, "metadata.name"))
                return json_string_value(json_object_get(meta, "name"));
        if (!strcmp(field, "metadata.namespace"))
                return json_string_value(json_object_get(meta, "namespace"));
        if (!strcmp(field, "metadata.uid"))
                return json_string_value(json_object_get(meta, "uid"));
        if (!strcmp(field, "spec.nodeName"))
                return json_string_value(json_object_get(spec, "nodeName"));
        if (!strcmp(field, "spec.serviceAccountName"))
                return json_string_value(json_object_get(spec, "serviceAccountName"));
        if (!strcmp(field, "status.podIP") || !strcmp(field, "status.podIPs"))
                return pod_ip;
        if (!strcmp(field, "status.hostIP") || !strcmp(field, "status.hostIPs"))
                return host_ip;
        return label_value(pod, field);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

char *kubelet_field_value(json_t *pod, const char *field, const char *pod_ip, const char *host_ip)
{
        if (field &&
            (!strcmp(field, "metadata.labels") || !strcmp(field, "metadata.annotations"))) {
                json_t *m = json_object_get(json_object_get(pod, "metadata"), field + 9);
                size_t n = json_object_size(m), k = 0;
                char **lines = xcalloc(n + 1, sizeof(char *));
                const char *key;
                json_t *v;
                json_object_foreach(m, key, v)
                {
                        /* Go's %q of the value; label/annotation values are mostly plain */
                        _cleanup_free_ char *d = kjson_dump(v);
                        lines[k++] = xasprintf("%s=%s", key, d ? d : "\"\"");
                }
                qsort(lines, k, sizeof(char *), cmp_str);
                size_t len = 0;
                for (size_t i = 0; i < k; i++)
                        len += strlen(lines[i]) + 1;
                char *out = xmalloc(len + 1), *o = out;
                for (size_t i = 0; i < k; i++) {
                        o = stpcpy(o, lines[i]);
                        if (i + 1 < k)
                                *o++ = '\n';
                        free(lines[i]);
                }
                *o = '\0';
                free(lines);
                return out;
        }
        const char *v = field_ref(pod, field, pod_ip, host_ip);
        return v ? xstrdup(v) : NULL;
}

static void env_set(char ***v, size_t *n, const char *name, const char *value)
{
        size_t nl = strlen(name);
        char *kv = xasprintf("%s=%s", name, value ? value : "");
        for (size_t i = 0; i < *n; i++) {
                if (!strncmp((*v)[i], name, nl) && (*v)[i][nl] == '=') {
                        free((*v)[i]);
                        (*v)[i] = kv;
                        return;
                }
        }
        strv_push(v, n, kv);
}

/* resourceFieldRef: limits/requests of cpu, memory, ephemeral-storage as the kubelet formats
 * them (ceil(value / divisor)); an unset limit is the node's capacity. */
int kubelet_resource_value(json_t *pod, json_t *container, json_t *ref, char **ret,
                           struct error *err)
{
        const char *res = json_string_value(json_object_get(ref, "resource"));
        const char *cname = json_string_value(json_object_get(ref, "containerName"));
        json_t *ctr = container;
        if (cname && *cname) {
                ctr = NULL;
                const char *lists[] = {"containers", "initContainers"};
                for (size_t l = 0; l < ARRAY_SIZE(lists) && !ctr; l++) {
                        json_t *c;
                        size_t i;
                        json_array_foreach(json_object_get(json_object_get(pod, "spec"), lists[l]),
                                           i, c)
                        {
                                const char *n = json_string_value(json_object_get(c, "name"));
                                if (n && !strcmp(n, cname))
                                        ctr = c;
                        }
                }
                if (!ctr)
                        return error_set(err, -EINVAL, "container %s not found", cname);
        }
        if (!res || !strchr(res, '.'))
                return error_set(err, -EINVAL, "unsupported container resource : %s",
                                 res ? res : "");
        const char *dot = strchr(res, '.');
        _cleanup_free_ char *kind = xstrndup(res, (size_t)(dot - res));
        const char *name = dot + 1;
        bool is_cpu = !strcmp(name, "cpu");
        if (strcmp(kind, "limits") && strcmp(kind, "requests"))
                return error_set(err, -EINVAL, "unsupported container resource : %s", res);
        if (!is_cpu && strcmp(name, "memory") && strcmp(name, "ephemeral-storage"))
                return error_set(err, -EINVAL, "unsupported container resource : %s", res);
        const char *qs = json_string_value(
                json_object_get(json_object_get(json_object_get(ctr, "resources"), kind), name));
        struct quantity q, div;
        const char *divs = json_string_value(json_object_get(ref, "divisor"));
        if (!divs || quantity_parse(divs, &div, NULL) < 0 || quantity_milli(&div) <= 0)
                div = quantity_from_int(1, QUANTITY_DECIMAL_SI);
        if (qs && quantity_parse(qs, &q, NULL) == 0) {
                /* as given */
        } else if (!strcmp(kind, "limits")) {
                long n = sysconf(is_cpu ? _SC_NPROCESSORS_ONLN : _SC_PHYS_PAGES);
                long pg = sysconf(_SC_PAGESIZE);
                q = is_cpu ? quantity_from_int(n, QUANTITY_DECIMAL_SI)
                           : quantity_from_int((int64_t)n * pg, QUANTITY_BINARY_SI);
        } else {
                q = quantity_from_int(0, QUANTITY_DECIMAL_SI);
        }
        long double v = is_cpu ? (long double)quantity_milli(&q) / quantity_milli(&div)
                               : (long double)quantity_value(&q) / quantity_value(&div);
        long long c = (long long)v;
        if ((long double)c < v)
                c++;
        *ret = xasprintf("%lld", c);
        return 0;
}

static int lookup_source(const struct kubelet_env_source *src, const char *kind, const char *name,
                         json_t **ret, struct error *err)
{
        if (!src || !src->lookup)
                return error_set(err, -ENOENT, "%s \"%s\" not found", kind, name);
        return src->lookup(src->ud, kind, name, ret, err);
}

static int key_ref(json_t *pod, const struct kubelet_env_source *src, const char *kind, json_t *ref,
                   char **ret, struct error *err)
{
        const char *name = json_string_value(json_object_get(ref, "name"));
        const char *key = json_string_value(json_object_get(ref, "key"));
        bool optional = json_is_true(json_object_get(ref, "optional"));
        json_t *data = NULL;
        if (!src) {
                *ret = xstrdup(""); /* kubelet_container_env: no sources, empty value */
                return 1;
        }
        int r = lookup_source(src, kind, name ? name : "", &data, err);
        if (r == -ENOENT && optional)
                return 0;
        if (r < 0)
                return r;
        json_t *v = json_object_get(data, key ? key : "");
        if (!json_is_string(v)) {
                json_decref(data);
                if (optional)
                        return 0;
                const char *ns = json_string_value(
                        json_object_get(json_object_get(pod, "metadata"), "namespace"));
                return error_set(err, -ENOENT, "couldn't find key %s in %s %s/%s", key ? key : "",
                                 !strcmp(kind, "secret") ? "Secret" : "ConfigMap", ns ? ns : "",
                                 name ? name : "");
        }
        *ret = xstrndup(json_string_value(v), json_string_length(v));
        json_decref(data);
        return 1;
}

int kubelet_container_env_resolve(json_t *pod, json_t *container, char *const *image_env,
                                  const char *pod_ip, const char *host_ip,
                                  const struct kubelet_env_source *src, char ***ret,
                                  struct error *err)
{
        char **v = NULL, **spec_env = NULL;
        size_t n = 0, sn = 0;
        json_t *e;
        size_t i;
        int r = 0;

        for (size_t k = 0; image_env && image_env[k]; k++) {
                const char *eq = strchr(image_env[k], '=');
                if (!eq || eq == image_env[k])
                        continue;
                _cleanup_free_ char *name = xstrndup(image_env[k], (size_t)(eq - image_env[k]));
                env_set(&v, &n, name, eq + 1);
        }
        json_array_foreach(json_object_get(container, "envFrom"), i, e)
        {
                const char *prefix = json_string_value(json_object_get(e, "prefix"));
                json_t *ref = json_object_get(e, "configMapRef");
                const char *kind = "configmap";
                if (!ref) {
                        ref = json_object_get(e, "secretRef");
                        kind = "secret";
                }
                const char *name = json_string_value(json_object_get(ref, "name"));
                if (!ref || !name || !src)
                        continue;
                json_t *data = NULL;
                r = lookup_source(src, kind, name, &data, err);
                if (r == -ENOENT && json_is_true(json_object_get(ref, "optional"))) {
                        r = 0;
                        continue;
                }
                if (r < 0)
                        goto fail;
                const char *key;
                json_t *val;
                json_object_foreach(data, key, val)
                {
                        _cleanup_free_ char *full = xasprintf("%s%s", prefix ? prefix : "", key);
                        _cleanup_free_ char *value =
                                xstrndup(json_string_value(val) ?: "", json_string_length(val));
                        env_set(&spec_env, &sn, full, value);
                        env_set(&v, &n, full, value);
                }
                json_decref(data);
        }
        json_array_foreach(json_object_get(container, "env"), i, e)
        {
                const char *name = json_string_value(json_object_get(e, "name"));
                if (!name || !*name)
                        continue;
                json_t *val = json_object_get(e, "value");
                json_t *vf = json_object_get(e, "valueFrom");
                _cleanup_free_ char *value = NULL;
                if (json_is_string(val) || !vf) {
                        value = kubelet_env_expand(json_string_value(val) ?: "", spec_env);
                } else if (json_object_get(vf, "fieldRef")) {
                        json_t *fr = json_object_get(vf, "fieldRef");
                        const char *fv =
                                field_ref(pod, json_string_value(json_object_get(fr, "fieldPath")),
                                          pod_ip, host_ip);
                        value = xstrdup(fv ? fv : "");
                } else if (json_object_get(vf, "resourceFieldRef")) {
                        r = kubelet_resource_value(pod, container,
                                                   json_object_get(vf, "resourceFieldRef"), &value,
                                                   err);
                        if (r < 0)
                                goto fail;
                } else if (json_object_get(vf, "configMapKeyRef") ||
                           json_object_get(vf, "secretKeyRef")) {
                        bool cm = json_object_get(vf, "configMapKeyRef") != NULL;
                        r = key_ref(pod, src, cm ? "configmap" : "secret",
                                    json_object_get(vf, cm ? "configMapKeyRef" : "secretKeyRef"),
                                    &value, err);
                        if (r < 0)
                                goto fail;
                        if (r == 0)
                                continue; /* optional and absent: no variable */
                } else {
                        value = xstrdup("");
                }
                env_set(&spec_env, &sn, name, value);
                env_set(&v, &n, name, value);
        }
        kubelet_strv_free(spec_env);
        if (!v)
                v = xcalloc(1, sizeof(char *));
        *ret = v;
        return 0;
fail:
        kubelet_strv_free(spec_env);
        kubelet_strv_free(v);
        return r;
}

char **kubelet_container_env(json_t *pod, json_t *container, char *const *image_env,
                             const char *pod_ip, const char *host_ip)
{
        char **v = NULL;
        struct error err = {0};
        if (kubelet_container_env_resolve(pod, container, image_env, pod_ip, host_ip, NULL, &v,
                                          &err) < 0)
                v = xcalloc(1, sizeof(char *));
        return v;
}

static void push_expanded(char ***v, size_t *n, json_t *arr, char *const *env)
{
        json_t *a;
        size_t i;
        json_array_foreach(arr, i, a)
        {
                if (json_is_string(a))
                        strv_push(v, n, kubelet_env_expand(json_string_value(a), env));
        }
}

static void push_plain(char ***v, size_t *n, char *const *src)
{
        for (size_t i = 0; src && src[i]; i++)
                strv_push(v, n, xstrdup(src[i]));
}

char **kubelet_container_argv(json_t *container, char *const *entrypoint, char *const *cmd,
                              char *const *env)
{
        json_t *command = json_object_get(container, "command");
        json_t *args = json_object_get(container, "args");
        char **v = NULL;
        size_t n = 0;

        if (json_array_size(command)) {
                push_expanded(&v, &n, command, env);
                push_expanded(&v, &n, args, env);
        } else if (json_array_size(args)) {
                push_plain(&v, &n, entrypoint);
                push_expanded(&v, &n, args, env);
        } else {
                push_plain(&v, &n, entrypoint);
                push_plain(&v, &n, cmd);
        }
        return v;
}
