/* status.c — pure pod status computation and container argv/env construction (see status.h). */
#include "kubelet/status.h"

#include <stdio.h>
#include <time.h>

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

const char *kubelet_status_phase(json_t *pod, const struct kubelet_pod_observed *obs)
{
        const char *cur =
                json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));
        if (cur && (!strcmp(cur, "Succeeded") || !strcmp(cur, "Failed")))
                return cur;

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
        if (n == 0 || waiting > 0)
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

static json_t *ctr_status_json(json_t *spec_ctr, const struct kubelet_ctr_status *c)
{
        const char *name = json_string_value(json_object_get(spec_ctr, "name"));
        const char *image = json_string_value(json_object_get(spec_ctr, "image"));
        json_t *state, *last = json_object();
        bool running = c && c->phase == KUBELET_CTR_RUNNING;

        if (!c || c->phase == KUBELET_CTR_WAITING) {
                const char *reason =
                        c && c->waiting_reason ? c->waiting_reason : "ContainerCreating";
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
                              "state", state, "lastState", last, "ready", running, "restartCount",
                              c ? c->restart_count : 0, "image", image ? image : "", "imageID",
                              c && c->image_id ? c->image_id : "", "started", running);
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

json_t *kubelet_status_compute(json_t *pod, const struct kubelet_pod_observed *obs)
{
        json_t *spec = json_object_get(pod, "spec");
        json_t *ctrs = json_object_get(spec, "containers");
        const char *phase = kubelet_status_phase(pod, obs);
        json_t *st = json_object();
        json_t *statuses = json_array();
        size_t n = json_array_size(ctrs);
        size_t msg_cap = 64, msg_len = 0, unready = 0;
        _cleanup_free_ char *msg = xmalloc(msg_cap);

        msg[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                json_t *sc = json_array_get(ctrs, i);
                const char *name = json_string_value(json_object_get(sc, "name"));
                const struct kubelet_ctr_status *c = find_ctr(obs, name);
                json_array_append_new(statuses, ctr_status_json(sc, c));
                if (!c || c->phase != KUBELET_CTR_RUNNING) {
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
                ready ? NULL : (completed ? "PodCompleted" : "ContainersNotReady");
        add_condition(conds, pod, "PodReadyToStartContainers", obs && obs->sandbox_ready, NULL,
                      NULL, now);
        add_condition(conds, pod, "Initialized", true, NULL, NULL, now);
        add_condition(conds, pod, "Ready", ready, ready_reason,
                      ready || completed ? NULL : ready_msg, now);
        add_condition(conds, pod, "ContainersReady", ready, ready_reason,
                      ready || completed ? NULL : ready_msg, now);
        add_condition(conds, pod, "PodScheduled", true, NULL, NULL, now);

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
        json_object_set_new(st, "containerStatuses", statuses);
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

char **kubelet_container_env(json_t *pod, json_t *container, char *const *image_env,
                             const char *pod_ip, const char *host_ip)
{
        char **v = NULL, **spec_env = NULL;
        size_t n = 0, sn = 0;
        json_t *e;
        size_t i;

        for (size_t k = 0; image_env && image_env[k]; k++) {
                const char *eq = strchr(image_env[k], '=');
                if (!eq || eq == image_env[k])
                        continue;
                _cleanup_free_ char *name = xstrndup(image_env[k], (size_t)(eq - image_env[k]));
                env_set(&v, &n, name, eq + 1);
        }
        json_array_foreach(json_object_get(container, "env"), i, e)
        {
                const char *name = json_string_value(json_object_get(e, "name"));
                if (!name || !*name)
                        continue;
                json_t *val = json_object_get(e, "value");
                _cleanup_free_ char *value = NULL;
                if (json_is_string(val)) {
                        value = kubelet_env_expand(json_string_value(val), spec_env);
                } else {
                        json_t *fr = json_object_get(json_object_get(e, "valueFrom"), "fieldRef");
                        const char *fv =
                                field_ref(pod, json_string_value(json_object_get(fr, "fieldPath")),
                                          pod_ip, host_ip);
                        value = xstrdup(fv ? fv : "");
                }
                env_set(&spec_env, &sn, name, value);
                env_set(&v, &n, name, value);
        }
        kubelet_strv_free(spec_env);
        if (!v)
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
