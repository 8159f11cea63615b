/* hpa.c — the HorizontalPodAutoscaler controller (autoscaling/v2, pkg/controller/podautoscaler),
 * every HPA synced every 15 s (--horizontal-pod-autoscaler-sync-period):
 *  - the target's scale subresource gives the current replicas and the pod selector;
 *  - Resource metrics (cpu, memory) with Utilization (usage / requests of the pods, percent) or
 *    AverageValue targets, from metrics.k8s.io PodMetrics (the API server's metrics API);
 *    ratio = current / target, no change within the 0.1 tolerance, else
 *    desired = ceil(ratio * pods with metrics) (AverageValue: ceil(total usage / target));
 *    several metrics: the largest proposal;
 *  - simplified pod handling (documented difference): only Running pods not being deleted
 *    count; pods without metrics yet are assumed at 100% of the target when scaling down and
 *    at 0 when scaling up (Kubernetes' missing-pod rule); the CPU readiness delay for unready
 *    pods is not applied;
 *  - behavior: stabilization windows (scale up 0 s, scale down 300 s by default) over the
 *    recommendations of the window, then the rate policies (defaults: up max(4 pods, 100%) per
 *    15 s, down 100% per 15 s; selectPolicy Max/Min/Disabled) over the scale events of their
 *    periods, then minReplicas/maxReplicas;
 *  - status: currentReplicas, desiredReplicas, currentMetrics, lastScaleTime,
 *    observedGeneration, conditions AbleToScale / ScalingActive / ScalingLimited with the Go
 *    controller's reasons and messages; event SuccessfulRescale.
 * Recommendations and scale events live in memory (a restarted controller starts afresh, as
 * kube-controller-manager does). Keys "<ns>/<hpa>". */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "api/labels.h"
#include "api/quantity.h"
#include "common/kjson.h"
#include "common/timefmt.h"
#include "controllers/controllers-internal.h"
#include "controllers/hpa.h"
#include "controllers/podcontrol.h"
#include "controllers/util.h"

#define COMP "horizontal-pod-autoscaler"
#define SYNC_MS 15000
#define TOLERANCE 0.1

struct hpa_state {
        json_t *recs;   /* key -> [[t, replicas], ...] */
        json_t *events; /* key -> [[t, delta], ...] */
};

static void on_event(struct controller *c, enum ctl_res res, json_t *old, json_t *cur)
{
        /* new HPAs and spec changes at once; the rest every SYNC_MS (its own status writes
         * must not trigger another round, as the Go controller's rate-limited queue ensures) */
        if (res == CTL_HPAS && cur &&
            (!old || kjson_int(old, "metadata.generation", 0) !=
                             kjson_int(cur, "metadata.generation", 0))) {
                _cleanup_free_ char *k = controllers_key(cur);
                workqueue_add(c->wq, k);
        }
}

static const char *resource_of(const char *kind)
{
        if (!strcmp(kind, "Deployment"))
                return "deployments";
        if (!strcmp(kind, "ReplicaSet"))
                return "replicasets";
        if (!strcmp(kind, "StatefulSet"))
                return "statefulsets";
        if (!strcmp(kind, "ReplicationController"))
                return "replicationcontrollers";
        return NULL;
}

static char *scale_path(const json_t *hpa)
{
        const char *av = kjson_str(hpa, "spec.scaleTargetRef.apiVersion") ?: "";
        const char *kind = kjson_str(hpa, "spec.scaleTargetRef.kind") ?: "";
        const char *name = kjson_str(hpa, "spec.scaleTargetRef.name") ?: "";
        const char *res = resource_of(kind);
        if (!res)
                return NULL;
        return xasprintf("/%s/%s/namespaces/%s/%s/%s/scale", strchr(av, '/') ? "apis" : "api", av,
                         kjson_str(hpa, "metadata.namespace"), res, name);
}

static void set_cond(json_t *st, const char *type, const char *status, const char *reason,
                     const char *fmt, ...) PRINTF_LIKE(5, 6);
static void set_cond(json_t *st, const char *type, const char *status, const char *reason,
                     const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_t *old = controllers_condition_get(st, type);
        char now[32];
        controllers_now(now);
        const char *ltt = old && !strcmp(kjson_str(old, "status") ?: "", status)
                                  ? kjson_str(old, "lastTransitionTime")
                                  : NULL;
        json_t *nc = json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", type, "status", status,
                               "lastTransitionTime", ltt ?: now, "reason", reason, "message", msg);
        json_t *conds = json_object_get(st, "conditions"), *c;
        if (!json_is_array(conds)) {
                conds = json_array();
                json_object_set_new(st, "conditions", conds);
        }
        size_t i;
        json_array_foreach(conds, i, c)
        {
                if (!strcmp(kjson_str(c, "type") ?: "", type)) {
                        json_array_set_new(conds, i, nc); /* in place: the order stays */
                        return;
                }
        }
        json_array_append_new(conds, nc);
}

static int64_t parse_milli(const char *s)
{
        struct quantity q;
        if (!s || quantity_parse(s, &q, NULL) < 0)
                return 0;
        return quantity_milli(&q);
}

/* One Resource metric: 0 and *ret_desired, the currentMetrics entry; < 0 with *why. */
int hpa_resource_metric(const json_t *spec_m, json_t *pods, const json_t *metrics, int64_t current,
                        int64_t *ret_desired, json_t **ret_cur, char **why)
{
        const char *res = kjson_str(spec_m, "resource.name") ?: "";
        const json_t *target = kjson_get(spec_m, "resource.target");
        const char *ttype = kjson_str(target, "type") ?: "";
        int64_t usage_sum = 0, req_sum = 0, n_metrics = 0, n_missing = 0;
        json_t *pod, *pm;
        size_t i, j, k;
        json_array_foreach(pods, i, pod)
        {
                const char *pn = kjson_str(pod, "metadata.name") ?: "";
                json_t *found = NULL;
                json_array_foreach(kjson_get(metrics, "items"), j, pm)
                {
                        if (!strcmp(kjson_str(pm, "metadata.name") ?: "", pn))
                                found = pm;
                }
                int64_t req = 0;
                json_t *ctr;
                json_array_foreach(kjson_get(pod, "spec.containers"), k, ctr)
                {
                        json_t *rq = kjson_get(ctr, "resources.requests");
                        const char *v = kjson_str(rq, res);
                        if (!v && !strcmp(ttype, "Utilization")) {
                                *why = xasprintf("failed to get %s utilization: missing request "
                                                 "for %s in container %s of Pod %s",
                                                 res, res, kjson_str(ctr, "name") ?: "", pn);
                                return -EINVAL;
                        }
                        req += parse_milli(v);
                }
                if (!found) {
                        n_missing++;
                        /* remember its request for the missing-pod rule */
                        json_object_set_new(pod, "__req", json_integer(req));
                        continue;
                }
                n_metrics++;
                req_sum += req;
                json_array_foreach(json_object_get(found, "containers"), k, ctr) usage_sum +=
                        parse_milli(kjson_str(ctr, res[0] == 'c' ? "usage.cpu" : "usage.memory"));
        }
        if (n_metrics == 0) {
                *why = xasprintf("failed to get %s utilization: unable to get metrics for "
                                 "resource %s: no metrics returned from resource metrics API",
                                 res, res);
                return -ENODATA;
        }
        double ratio;
        json_t *cur;
        int64_t desired;
        if (!strcmp(ttype, "Utilization")) {
                int64_t target_pct = kjson_int(target, "averageUtilization", 0);
                if (req_sum <= 0 || target_pct <= 0) {
                        *why = xasprintf("failed to get %s utilization: no requests", res);
                        return -EINVAL;
                }
                int64_t util = usage_sum * 100 / req_sum;
                ratio = (double)util / (double)target_pct;
                if (n_missing) {
                        /* missing pods: 100% of the target when scaling down, 0 when up */
                        int64_t add_req = 0, add_use = 0;
                        json_array_foreach(pods, i, pod)
                        {
                                json_t *r = json_object_get(pod, "__req");
                                if (!r)
                                        continue;
                                add_req += json_integer_value(r);
                                if (ratio < 1.0)
                                        add_use += json_integer_value(r) * target_pct / 100;
                        }
                        if (req_sum + add_req > 0)
                                ratio = (double)((usage_sum + add_use) * 100 /
                                                 (req_sum + add_req)) /
                                        (double)target_pct;
                        n_metrics += n_missing;
                }
                desired = fabs(ratio - 1.0) <= TOLERANCE ? current
                                                         : (int64_t)ceil(ratio * (double)n_metrics);
                char avg[QUANTITY_STR_MAX];
                struct quantity q = quantity_from_milli(usage_sum / (n_metrics - n_missing),
                                                        QUANTITY_DECIMAL_SI);
                quantity_format(&q, avg);
                cur = json_pack("{s:s,s:{s:s,s:{s:I,s:s}}}", "type", "Resource", "resource", "name",
                                res, "current", "averageUtilization", (json_int_t)util,
                                "averageValue", avg);
        } else {
                int64_t tv = parse_milli(kjson_str(target, "averageValue"));
                if (tv <= 0) {
                        *why = xasprintf("invalid averageValue target for %s", res);
                        return -EINVAL;
                }
                int64_t avgm = usage_sum / n_metrics;
                ratio = (double)avgm / (double)tv;
                desired = fabs(ratio - 1.0) <= TOLERANCE
                                  ? current
                                  : (int64_t)ceil((double)usage_sum / (double)tv);
                char avg[QUANTITY_STR_MAX];
                struct quantity q = quantity_from_milli(avgm, QUANTITY_DECIMAL_SI);
                quantity_format(&q, avg);
                cur = json_pack("{s:s,s:{s:s,s:{s:s}}}", "type", "Resource", "resource", "name",
                                res, "current", "averageValue", avg);
        }
        *ret_desired = desired;
        *ret_cur = cur;
        return 0;
}

/* the behavior's field with Kubernetes' defaults */
static int64_t window_s(const json_t *hpa, bool up)
{
        const json_t *w = kjson_get(hpa, up ? "spec.behavior.scaleUp.stabilizationWindowSeconds"
                                            : "spec.behavior.scaleDown.stabilizationWindowSeconds");
        return json_is_integer(w) ? json_integer_value(w) : up ? 0 : 300;
}

/* convertDesiredReplicasWithBehaviorRate: the rate limit of the policies; *limited if cut. */
int64_t hpa_rate_limit(const json_t *hpa, const json_t *events, int64_t current, int64_t desired,
                       time_t now, bool *limited)
{
        bool up = desired > current;
        const json_t *rules =
                kjson_get(hpa, up ? "spec.behavior.scaleUp" : "spec.behavior.scaleDown");
        const char *sel = kjson_str(rules, "selectPolicy") ?: "Max";
        const json_t *pol = json_object_get(rules, "policies");
        _cleanup_json_ json_t *dflt = NULL;
        if (!json_array_size(pol)) {
                dflt = up ? json_pack("[{s:s,s:i,s:i},{s:s,s:i,s:i}]", "type", "Pods", "value", 4,
                                      "periodSeconds", 15, "type", "Percent", "value", 100,
                                      "periodSeconds", 15)
                          : json_pack("[{s:s,s:i,s:i}]", "type", "Percent", "value", 100,
                                      "periodSeconds", 15);
                pol = dflt;
        }
        if (!strcmp(sel, "Disabled")) {
                *limited = desired != current;
                return current;
        }
        bool want_max = strcmp(sel, "Min") != 0;
        int64_t limit =
                up ? (want_max ? INT64_MIN : INT64_MAX) : (want_max ? INT64_MAX : INT64_MIN);
        json_t *p, *e;
        size_t i, j;
        json_array_foreach(pol, i, p)
        {
                int64_t period = kjson_int(p, "periodSeconds", 15),
                        value = kjson_int(p, "value", 0);
                int64_t changed = 0;
                json_array_foreach(events, j, e)
                {
                        int64_t t = json_integer_value(json_array_get(e, 0));
                        int64_t d = json_integer_value(json_array_get(e, 1));
                        if (t + period > now && (up ? d > 0 : d < 0))
                                changed += up ? d : -d;
                }
                int64_t start = up ? current - changed : current + changed, l;
                bool pods = !strcmp(kjson_str(p, "type") ?: "", "Pods");
                if (up)
                        l = pods ? start + value
                                 : (int64_t)ceil((double)start * (1.0 + (double)value / 100.0));
                else
                        l = pods ? start - value
                                 : (int64_t)ceil((double)start * (1.0 - (double)value / 100.0));
                if (up)
                        limit = want_max ? (l > limit ? l : limit) : (l < limit ? l : limit);
                else
                        limit = want_max ? (l < limit ? l : limit) : (l > limit ? l : limit);
        }
        if (up && desired > limit) {
                *limited = true;
                return limit < current ? current : limit;
        }
        if (!up && desired < limit) {
                *limited = true;
                return limit > current ? current : limit;
        }
        return desired;
}

static int write_status(struct kclient *kc, const json_t *hpa, json_t *st)
{
        if (json_equal(st, json_object_get(hpa, "status")))
                return 0;
        int r = podcontrol_put_status(kc, "/apis/autoscaling/v2", "horizontalpodautoscalers", hpa,
                                      st, NULL);
        return r == -ENOENT ? 0 : r;
}

static int hpa_sync(struct controller *c, struct kclient *kc, const char *key)
{
        struct hpa_state *s = c->priv;
        _cleanup_free_ char *ns = NULL;
        const char *name;
        controllers_key_split(key, &ns, &name);
        _cleanup_json_ json_t *hpa = manager_cache_get(c->m, CTL_HPAS, ns, name);
        if (!hpa) {
                json_object_del(s->recs, key);
                json_object_del(s->events, key);
                return 0;
        }
        workqueue_add_after(c->wq, key, SYNC_MS);
        time_t now = time(NULL);
        _cleanup_json_ json_t *st = json_deep_copy(json_object_get(hpa, "status") ?: json_object());
        if (!json_is_object(st)) {
                json_decref(st);
                st = json_object();
        }
        json_object_set_new(st, "observedGeneration",
                            json_integer(kjson_int(hpa, "metadata.generation", 1)));
        const char *kind = kjson_str(hpa, "spec.scaleTargetRef.kind") ?: "";
        _cleanup_free_ char *spath = scale_path(hpa);
        _cleanup_json_ json_t *scale = NULL;
        struct error err = {0};
        if (!spath || kclient_get(kc, spath, &scale, &err) < 0) {
                set_cond(st, "AbleToScale", "False", "FailedGetScale",
                         "the HPA controller was unable to get the target's current scale: %s",
                         spath ? error_msg(&err) : "no scale subresource for this kind");
                manager_event(kc, COMP, hpa, "Warning", "FailedGetScale", "%s",
                              spath ? error_msg(&err) : "unknown kind");
                return write_status(kc, hpa, st);
        }
        set_cond(st, "AbleToScale", "True", "SucceededGetScale",
                 "the HPA controller was able to get the target's current scale");
        int64_t current = kjson_int(scale, "status.replicas", 0);
        int64_t spec_replicas = kjson_int(scale, "spec.replicas", 0);
        int64_t minr = kjson_int(hpa, "spec.minReplicas", 1);
        int64_t maxr = kjson_int(hpa, "spec.maxReplicas", 1);
        json_object_set_new(st, "currentReplicas", json_integer(current));
        if (spec_replicas == 0 && minr != 0) {
                json_object_set_new(st, "desiredReplicas", json_integer(0));
                set_cond(st, "ScalingActive", "False", "ScalingDisabled",
                         "scaling is disabled since the replica count of the target is zero");
                return write_status(kc, hpa, st);
        }
        current = spec_replicas; /* the Go controller works from the scale's spec */

        /* the pods of the target */
        const char *selstr = kjson_str(scale, "status.selector");
        _cleanup_(labels_selector_freep) struct labels_selector *sel = NULL;
        _cleanup_json_ json_t *pods = json_array();
        if (selstr && labels_selector_parse(selstr, &sel, NULL) == 0) {
                _cleanup_json_ json_t *all = manager_cache_list(c->m, CTL_PODS, ns);
                json_t *pod;
                size_t i;
                json_array_foreach(all, i, pod)
                {
                        if (!kjson_get(pod, "metadata.deletionTimestamp") &&
                            !strcmp(kjson_str(pod, "status.phase") ?: "", "Running") &&
                            labels_selector_matches(sel, kjson_get(pod, "metadata.labels")))
                                json_array_append_new(pods, json_deep_copy(pod));
                }
        }
        _cleanup_free_ char *mpath =
                xasprintf("/apis/metrics.k8s.io/v1beta1/namespaces/%s/pods", ns);
        _cleanup_json_ json_t *metrics = NULL;
        int mr = kclient_get(kc, mpath, &metrics, &err);

        /* every metric's proposal: the largest wins */
        int64_t desired = -1;
        const char *reason_metric = NULL;
        _cleanup_free_ char *why = NULL;
        json_t *cur_metrics = json_array(), *m;
        size_t i;
        json_array_foreach(kjson_get(hpa, "spec.metrics"), i, m)
        {
                if (strcmp(kjson_str(m, "type") ?: "", "Resource"))
                        continue; /* Pods/Object/External/ContainerResource: not supported */
                int64_t d;
                json_t *cm = NULL;
                if (mr < 0) {
                        free(why);
                        why = xasprintf("failed to get %s utilization: unable to get metrics "
                                        "for resource %s: %s",
                                        kjson_str(m, "resource.name") ?: "",
                                        kjson_str(m, "resource.name") ?: "", error_msg(&err));
                        continue;
                }
                char *w = NULL;
                if (hpa_resource_metric(m, pods, metrics, current, &d, &cm, &w) < 0) {
                        free(why);
                        why = w;
                        json_array_append_new(
                                cur_metrics,
                                json_pack("{s:s,s:{s:s,s:{}}}", "type", "Resource", "resource",
                                          "name", kjson_str(m, "resource.name") ?: "", "current"));
                        continue;
                }
                json_array_append_new(cur_metrics, cm);
                if (d > desired) {
                        desired = d;
                        reason_metric = kjson_str(m, "resource.name");
                }
        }
        json_object_set_new(st, "currentMetrics", cur_metrics);
        if (desired < 0) {
                set_cond(st, "ScalingActive", "False", "FailedGetResourceMetric",
                         "the HPA was unable to compute the replica count: %s",
                         why ?: "no supported metrics");
                manager_event(kc, COMP, hpa, "Warning", "FailedGetResourceMetric", "%s",
                              why ?: "no supported metrics");
                json_object_set_new(st, "desiredReplicas", json_integer(current));
                return write_status(kc, hpa, st);
        }
        const json_t *tm = NULL;
        json_array_foreach(kjson_get(hpa, "spec.metrics"), i, m)
        {
                if (!strcmp(kjson_str(m, "resource.name") ?: "", reason_metric ?: ""))
                        tm = m;
        }
        bool util = !strcmp(kjson_str(tm, "resource.target.type") ?: "", "Utilization");
        set_cond(st, "ScalingActive", "True", "ValidMetricFound",
                 "the HPA was able to successfully calculate a replica count from %s resource%s",
                 reason_metric ?: "", util ? " utilization (percentage of request)" : "");
        int64_t proposal = desired;

        /* stabilization (stabilizeRecommendationWithBehaviors) */
        json_t *recs = json_object_get(s->recs, key);
        int64_t upw = window_s(hpa, true), downw = window_s(hpa, false);
        if (!recs) {
                /* maybeInitScaleDownStabilizationWindow: a new HPA starts from the current
                 * size, so it does not scale down before a full window */
                recs = json_array();
                if (downw > 0)
                        json_array_append_new(
                                recs, json_pack("[I,I]", (json_int_t)now, (json_int_t)current));
                json_object_set_new(s->recs, key, recs);
        }
        int64_t up_rec = desired, down_rec = desired;
        json_t *r;
        for (i = 0; i < json_array_size(recs);) {
                r = json_array_get(recs, i);
                int64_t t = json_integer_value(json_array_get(r, 0));
                int64_t v = json_integer_value(json_array_get(r, 1));
                if (t + (upw > downw ? upw : downw) <= now) {
                        json_array_remove(recs, i);
                        continue;
                }
                if (t + upw > now && v < up_rec)
                        up_rec = v;
                if (t + downw > now && v > down_rec)
                        down_rec = v;
                i++;
        }
        json_array_append_new(recs, json_pack("[I,I]", (json_int_t)now, (json_int_t)desired));
        int64_t stab = current;
        if (stab < up_rec)
                stab = up_rec;
        if (stab > down_rec)
                stab = down_rec;
        bool stabilized = stab != desired;
        desired = stab;

        /* rate policies and bounds */
        json_t *evs = json_object_get(s->events, key);
        if (!evs) {
                evs = json_array();
                json_object_set_new(s->events, key, evs);
        }
        bool rate_cut = false;
        int64_t limited = desired == current
                                  ? desired
                                  : hpa_rate_limit(hpa, evs, current, desired, now, &rate_cut);
        if (limited > maxr) {
                limited = maxr;
                set_cond(st, "ScalingLimited", "True", "TooManyReplicas",
                         "the desired replica count is more than the maximum replica count");
        } else if (limited < minr) {
                limited = minr;
                set_cond(st, "ScalingLimited", "True", "TooFewReplicas",
                         "the desired replica count is less than the minimum replica count");
        } else if (rate_cut) {
                if (limited > current)
                        set_cond(st, "ScalingLimited", "True", "ScaleUpLimit",
                                 "the desired replica count is increasing faster than the "
                                 "maximum scale rate");
                else
                        set_cond(st, "ScalingLimited", "True", "ScaleDownLimit",
                                 "the desired replica count is decreasing faster than the "
                                 "maximum scale rate");
        } else {
                set_cond(st, "ScalingLimited", "False", "DesiredWithinRange",
                         "the desired count is within the acceptable range");
        }
        json_object_set_new(st, "desiredReplicas", json_integer(limited));
        if (limited != current) {
                json_t *patch = json_pack("{s:{s:I}}", "spec", "replicas", (json_int_t)limited);
                int pr = kclient_patch(kc, spath, "merge", patch, NULL, &err);
                json_decref(patch);
                if (pr < 0) {
                        set_cond(st, "AbleToScale", "False", "FailedUpdateScale",
                                 "the HPA controller was unable to update the target scale: %s",
                                 error_msg(&err));
                        manager_event(kc, COMP, hpa, "Warning", "FailedRescale",
                                      "New size: %lld; reason: %s; error: %s", (long long)limited,
                                      "", error_msg(&err));
                        return write_status(kc, hpa, st);
                }
                set_cond(st, "AbleToScale", "True", "SucceededRescale",
                         "the HPA controller was able to update the target scale to %lld",
                         (long long)limited);
                char reason[160];
                if (limited > current)
                        snprintf(reason, sizeof(reason), "%s resource%s above target",
                                 reason_metric ?: "",
                                 util ? " utilization (percentage of request)" : "");
                else
                        snprintf(reason, sizeof(reason), "All metrics below target");
                manager_event(kc, COMP, hpa, "Normal", "SuccessfulRescale",
                              "New size: %lld; reason: %s", (long long)limited, reason);
                json_array_append_new(
                        evs, json_pack("[I,I]", (json_int_t)now, (json_int_t)(limited - current)));
                char ts[32];
                controllers_now(ts);
                json_object_set_new(st, "lastScaleTime", json_string(ts));
        } else if (stabilized && proposal < current) {
                set_cond(st, "AbleToScale", "True", "ScaleDownStabilized",
                         "recent recommendations were higher than current one, applying the "
                         "highest recent recommendation");
        } else {
                set_cond(st, "AbleToScale", "True", "ReadyForNewScale",
                         "recommended size matches current size");
        }
        /* old scale events: the longest policy period is at most 30 min */
        for (i = 0; i < json_array_size(evs);) {
                if (json_integer_value(json_array_get(json_array_get(evs, i), 0)) + 1800 <= now)
                        json_array_remove(evs, i);
                else
                        i++;
        }
        (void)kind;
        return write_status(kc, hpa, st);
}

static void hpa_free(struct controller *c)
{
        struct hpa_state *s = c->priv;
        if (!s)
                return;
        json_decref(s->recs);
        json_decref(s->events);
        free(s);
}

void hpa_controller_init(struct controller *c)
{
        struct hpa_state *s = xcalloc(1, sizeof(*s));
        s->recs = json_object();
        s->events = json_object();
        c->name = "horizontal-pod-autoscaler";
        c->priv = s;
        c->needs = 1u << CTL_HPAS | 1u << CTL_PODS;
        c->on_event = on_event;
        c->sync = hpa_sync;
        c->free = hpa_free;
}
