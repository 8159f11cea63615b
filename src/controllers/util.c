/* util.c — pure helpers shared by the controllers (see util.h). */
#include "controllers/util.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/kjson.h"
#include "common/timefmt.h"

json_t *controllers_controller_ref(const json_t *obj)
{
        json_t *r;
        size_t i;
        json_array_foreach(kjson_get(obj, "metadata.ownerReferences"), i, r)
        {
                if (json_is_true(json_object_get(r, "controller")))
                        return r;
        }
        return NULL;
}

json_t *controllers_owner_ref_new(const json_t *owner, const char *api_version, const char *kind)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", api_version, "kind", kind,
                         "name", kjson_str(owner, "metadata.name") ?: "", "uid",
                         kjson_str(owner, "metadata.uid") ?: "", "controller", 1,
                         "blockOwnerDeletion", 1);
}

bool controllers_pod_is_active(const json_t *pod)
{
        const char *phase = kjson_str(pod, "status.phase");
        if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")))
                return false;
        return kjson_get(pod, "metadata.deletionTimestamp") == NULL;
}

static json_t *ready_condition(const json_t *pod)
{
        return controllers_condition_get(kjson_get(pod, "status"), "Ready");
}

bool controllers_pod_is_ready(const json_t *pod)
{
        json_t *c = ready_condition(pod);
        return c && !strcmp(json_string_value(json_object_get(c, "status")) ?: "", "True");
}

bool controllers_pod_is_available(const json_t *pod, int64_t min_ready_s, time_t now)
{
        if (!controllers_pod_is_ready(pod))
                return false;
        if (min_ready_s <= 0)
                return true;
        time_t t = controllers_time(ready_condition(pod), "lastTransitionTime");
        return t && t + min_ready_s <= now;
}

int controllers_intstr_scaled(const json_t *v, int dflt_percent, int64_t total, bool round_up,
                              int64_t *ret)
{
        int64_t pct;
        if (json_is_integer(v)) {
                *ret = json_integer_value(v);
                return 0;
        }
        if (!v || json_is_null(v)) {
                pct = dflt_percent;
        } else {
                const char *s = json_string_value(v);
                char *end;
                if (!s || !*s)
                        return -EINVAL;
                long long n = strtoll(s, &end, 10);
                if (end == s || strcmp(end, "%") || n < 0)
                        return -EINVAL;
                pct = n;
        }
        if (round_up)
                *ret = (pct * total + 99) / 100;
        else
                *ret = pct * total / 100;
        return 0;
}

int controllers_resolve_fenceposts(const json_t *strategy, int64_t desired, int64_t *ret_surge,
                                   int64_t *ret_unavailable)
{
        const json_t *ru = kjson_get(strategy, "rollingUpdate");
        int64_t surge, unavail;
        int r = controllers_intstr_scaled(json_object_get(ru, "maxSurge"), 25, desired, true,
                                          &surge);
        if (r < 0)
                return r;
        r = controllers_intstr_scaled(json_object_get(ru, "maxUnavailable"), 25, desired, false,
                                      &unavail);
        if (r < 0)
                return r;
        if (surge == 0 && unavail == 0)
                unavail = 1;
        *ret_surge = surge;
        *ret_unavailable = unavail;
        return 0;
}

void controllers_safe_encode(char *s)
{
        static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
        for (; *s; s++)
                *s = alnum[(unsigned char)*s % (sizeof(alnum) - 1)];
}

uint32_t controllers_fnv32a(const void *data, size_t len, uint32_t h)
{
        const unsigned char *p = data;
        for (size_t i = 0; i < len; i++) {
                h ^= p[i];
                h *= 16777619u;
        }
        return h;
}

void controllers_template_hash(const json_t *tmpl, int64_t collision_count, char buf[16])
{
        char *s = json_dumps(tmpl, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        uint32_t h = controllers_fnv32a(s ? s : "null", s ? strlen(s) : 4, CONTROLLERS_FNV32A_INIT);
        free(s);
        if (collision_count >= 0) {
                unsigned char b[8] = {0};
                uint32_t c = (uint32_t)collision_count;
                for (int i = 0; i < 4; i++)
                        b[i] = (unsigned char)(c >> (8 * i));
                h = controllers_fnv32a(b, sizeof(b), h);
        }
        snprintf(buf, 16, "%u", h);
        controllers_safe_encode(buf);
}

/* ---- deletion ranking ---- */

static int phase_rank(const json_t *pod)
{
        const char *p = kjson_str(pod, "status.phase") ?: "";
        if (!strcmp(p, "Pending") || !*p)
                return 0;
        if (!strcmp(p, "Unknown"))
                return 1;
        if (!strcmp(p, "Running"))
                return 2;
        return 3;
}

static int64_t restarts(const json_t *pod)
{
        int64_t max = 0;
        json_t *cs;
        size_t i;
        json_array_foreach(kjson_get(pod, "status.containerStatuses"), i, cs) max =
                MAX(max, json_integer_value(json_object_get(cs, "restartCount")));
        return max;
}

static __thread const json_t *sort_ranks;

static int cmp_deletion(const void *pa, const void *pb)
{
        const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
        const char *na = kjson_str(a, "spec.nodeName"), *nb = kjson_str(b, "spec.nodeName");
        bool aa = na && *na, ab = nb && *nb;
        if (aa != ab)
                return aa ? 1 : -1;
        int ra = phase_rank(a), rb = phase_rank(b);
        if (ra != rb)
                return ra - rb;
        bool ya = controllers_pod_is_ready(a), yb = controllers_pod_is_ready(b);
        if (ya != yb)
                return ya ? 1 : -1;
        if (aa && ab && sort_ranks) {
                int64_t ka = json_integer_value(json_object_get(sort_ranks, na));
                int64_t kb = json_integer_value(json_object_get(sort_ranks, nb));
                if (ka != kb)
                        return ka > kb ? -1 : 1;
        }
        if (ya && yb) {
                time_t ta = controllers_time(ready_condition(a), "lastTransitionTime");
                time_t tb = controllers_time(ready_condition(b), "lastTransitionTime");
                if (ta != tb)
                        return ta > tb ? -1 : 1; /* ready for less time first */
        }
        int64_t xa = restarts(a), xb = restarts(b);
        if (xa != xb)
                return xa > xb ? -1 : 1;
        time_t ca = controllers_time(a, "metadata.creationTimestamp");
        time_t cb = controllers_time(b, "metadata.creationTimestamp");
        if (ca != cb)
                return ca > cb ? -1 : 1; /* newer first */
        return strcmp(kjson_str(a, "metadata.name") ?: "", kjson_str(b, "metadata.name") ?: "");
}

void controllers_pods_sort_for_deletion(json_t *pods, const json_t *related)
{
        size_t n = json_array_size(pods);
        if (n < 2)
                return;
        json_t *ranks = json_object();
        json_t *p;
        size_t i;
        json_array_foreach(related ? related : pods, i, p)
        {
                const char *node = kjson_str(p, "spec.nodeName");
                if (!node || !*node || !controllers_pod_is_active(p))
                        continue;
                json_object_set_new(
                        ranks, node,
                        json_integer(json_integer_value(json_object_get(ranks, node)) + 1));
        }
        json_t **v = xcalloc(n, sizeof(*v));
        for (i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(pods, i));
        sort_ranks = ranks;
        qsort(v, n, sizeof(*v), cmp_deletion);
        sort_ranks = NULL;
        json_array_clear(pods);
        for (i = 0; i < n; i++)
                json_array_append_new(pods, v[i]);
        free(v);
        json_decref(ranks);
}

/* ---- conditions ---- */

json_t *controllers_condition_get(const json_t *status, const char *type)
{
        json_t *c;
        size_t i;
        json_array_foreach(json_object_get(status, "conditions"), i, c)
        {
                if (!strcmp(json_string_value(json_object_get(c, "type")) ?: "", type))
                        return c;
        }
        return NULL;
}

static bool same_field(const json_t *a, const json_t *b, const char *k)
{
        return kjson_equal(json_object_get(a, k), json_object_get(b, k));
}

bool controllers_condition_set(json_t *status, json_t *cond)
{
        const char *type = json_string_value(json_object_get(cond, "type")) ?: "";
        json_t *conds = json_object_get(status, "conditions");
        if (!json_is_array(conds)) {
                conds = json_array();
                json_object_set_new(status, "conditions", conds);
        }
        json_t *c;
        size_t i;
        json_array_foreach(conds, i, c)
        {
                if (strcmp(json_string_value(json_object_get(c, "type")) ?: "", type))
                        continue;
                bool changed = !same_field(c, cond, "status") || !same_field(c, cond, "reason") ||
                               !same_field(c, cond, "message");
                if (same_field(c, cond, "status") && json_object_get(c, "lastTransitionTime"))
                        json_object_set(cond, "lastTransitionTime",
                                        json_object_get(c, "lastTransitionTime"));
                json_array_set_new(conds, i, cond);
                return changed;
        }
        json_array_append_new(conds, cond);
        return true;
}

void controllers_condition_del(json_t *status, const char *type)
{
        json_t *conds = json_object_get(status, "conditions");
        for (size_t i = 0; i < json_array_size(conds); i++) {
                json_t *c = json_array_get(conds, i);
                if (!strcmp(json_string_value(json_object_get(c, "type")) ?: "", type)) {
                        json_array_remove(conds, i);
                        return;
                }
        }
}

json_t *controllers_condition_new(const char *type, const char *status, const char *reason,
                                  const char *message, bool with_update_time)
{
        char now[32];
        controllers_now(now);
        json_t *c = json_pack("{s:s, s:s}", "type", type, "status", status);
        if (with_update_time)
                json_object_set_new(c, "lastUpdateTime", json_string(now));
        json_object_set_new(c, "lastTransitionTime", json_string(now));
        if (reason)
                json_object_set_new(c, "reason", json_string(reason));
        if (message)
                json_object_set_new(c, "message", json_string(message));
        return c;
}

char *controllers_key(const json_t *obj)
{
        const char *ns = kjson_str(obj, "metadata.namespace");
        const char *name = kjson_str(obj, "metadata.name") ?: "";
        return xasprintf("%s/%s", ns ? ns : "", name);
}

void controllers_key_split(const char *key, char **ret_ns, const char **ret_name)
{
        const char *slash = strchr(key, '/');
        if (!slash) {
                *ret_ns = xstrdup("");
                *ret_name = key;
                return;
        }
        *ret_ns = xstrndup(key, (size_t)(slash - key));
        *ret_name = slash + 1;
}

void controllers_now(char buf[32])
{
        timefmt_rfc3339(buf, time(NULL));
}

time_t controllers_time(const json_t *obj, const char *path)
{
        const char *s = kjson_str(obj, path);
        struct timespec ts;
        if (!s || timefmt_parse_rfc3339(s, &ts) < 0)
                return 0;
        return ts.tv_sec;
}
