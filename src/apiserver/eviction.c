/* eviction.c — the PodDisruptionBudget check of the pods/eviction subresource, as
 * pkg/registry/core/pod/storage/eviction.go does it: a pod that is Pending, Succeeded, Failed or
 * already being deleted is evicted freely; otherwise the one PDB whose selector matches the pod
 * (more than one: 500) must allow a disruption, which is taken by decrementing
 * status.disruptionsAllowed and recording the pod in status.disruptedPods with a
 * resourceVersion-guarded write (retried on conflict); an unready pod passes without a
 * decrement under unhealthyPodEvictionPolicy AlwaysAllow, or IfHealthyBudget when the budget is
 * met. handlers.c does the delete itself. */
#include "apiserver/apiserver-internal.h"

#include <stdio.h>
#include <time.h>

#include "api/labels.h"
#include "apiserver/status.h"
#include "common/kjson.h"
#include "common/timefmt.h"

#define EVICT_MSG "Cannot evict pod as it would violate the pod's disruption budget."
#define MAX_DISRUPTED_PODS 2000
#define EVICTION_RETRIES 5

static bool pod_ready(const json_t *pod)
{
        json_t *c;
        size_t i;
        json_array_foreach(kjson_get(pod, "status.conditions"), i, c)
        {
                if (!strcmp(kjson_str(c, "type") ?: "", "Ready"))
                        return !strcmp(kjson_str(c, "status") ?: "", "True");
        }
        return false;
}

bool apiserver_eviction_ignores_pdb(const json_t *pod)
{
        const char *ph = kjson_str(pod, "status.phase") ?: "";
        return !strcmp(ph, "Succeeded") || !strcmp(ph, "Failed") || !strcmp(ph, "Pending") ||
               kjson_get(pod, "metadata.deletionTimestamp") != NULL;
}

/* The PDBs of pod's namespace whose selector matches it (new array of {obj, rev}). */
static int matching_pdbs(struct apiserver *a, const struct scheme_resource *r, const json_t *pod,
                         json_t **ret, struct error *err)
{
        const char *ns = kjson_str(pod, "metadata.namespace") ?: "";
        _cleanup_free_ char *key = scheme_key(r, ns, "");
        struct store_list l = {0};
        int rc = store_list(a->store, key, NULL, 0, 0, &l, err);
        if (rc < 0)
                return rc;
        json_t *out = json_array();
        json_t *labels = kjson_get(pod, "metadata.labels");
        for (size_t i = 0; i < l.n_items; i++) {
                json_t *o = apiserver_obj_decode(r, l.items[i].value, l.items[i].value_len,
                                                 l.items[i].mod_rev);
                if (!o)
                        continue;
                _cleanup_(labels_selector_freep) struct labels_selector *sel = NULL;
                json_t *js = kjson_get(o, "spec.selector");
                /* a nil or empty selector matches nothing here */
                if (js && labels_selector_from_json(js, &sel, NULL) == 0 &&
                    !labels_selector_is_empty(sel) && labels_selector_matches(sel, labels))
                        json_array_append_new(out, json_pack("{s:o,s:I}", "obj", o, "rev",
                                                             (json_int_t)l.items[i].mod_rev));
                else
                        json_decref(o);
        }
        store_list_clear(&l);
        *ret = out;
        return 0;
}

static void fail_budget(struct rq *q, int code, const char *cause_msg)
{
        json_t *d = json_pack("{s:[{s:s,s:s}]}", "causes", "reason", "DisruptionBudget", "message",
                              cause_msg);
        rq_fail(q, code, d, EVICT_MSG);
}

static void fail_forbidden(struct rq *q, const char *pdb, const char *why)
{
        rq_fail(q, -EACCES, status_details(pdb, "policy", "poddisruptionbudget"),
                "poddisruptionbudget.policy \"%s\" is forbidden: %s", pdb, why);
}

/* The DisruptionAllowed condition of pdbhelper.UpdateDisruptionAllowedCondition. */
void apiserver_pdb_condition_set(json_t *status, int64_t allowed, int64_t observed_gen,
                                 const char *now)
{
        const char *st = allowed > 0 ? "True" : "False";
        json_t *conds = json_object_get(status, "conditions");
        if (!json_is_array(conds)) {
                conds = json_array();
                json_object_set_new(status, "conditions", conds);
        }
        json_t *c, *found = NULL;
        size_t i;
        json_array_foreach(conds, i, c)
        {
                if (!strcmp(kjson_str(c, "type") ?: "", "DisruptionAllowed"))
                        found = c;
        }
        if (!found) {
                found = json_pack("{s:s,s:s}", "type", "DisruptionAllowed", "message", "");
                json_array_append_new(conds, found);
        }
        if (strcmp(kjson_str(found, "status") ?: "", st) || !kjson_str(found, "lastTransitionTime"))
                json_object_set_new(found, "lastTransitionTime", json_string(now));
        json_object_set_new(found, "status", json_string(st));
        json_object_set_new(found, "reason",
                            json_string(allowed > 0 ? "SufficientPods" : "InsufficientPods"));
        json_object_set_new(found, "observedGeneration", json_integer(observed_gen));
        if (!json_object_get(found, "message"))
                json_object_set_new(found, "message", json_string(""));
}

/* checkAndDecrement: 0 taken (or dry run), -ESTALE conflict (reload), < 0 responded. */
static int check_and_decrement(struct rq *q, const struct scheme_resource *r, json_t *pdb,
                               int64_t rev, const char *pod_name, bool dry)
{
        const char *name = kjson_str(pdb, "metadata.name") ?: "";
        json_t *st = kjson_obj_ensure(pdb, "status");
        int64_t allowed = kjson_int(st, "disruptionsAllowed", 0);
        char msg[512];
        if (kjson_int(st, "observedGeneration", 0) < kjson_int(pdb, "metadata.generation", 0)) {
                snprintf(msg, sizeof(msg),
                         "The disruption budget %s is still being processed by the server.", name);
                fail_budget(q, -EAGAIN, msg);
                return -EAGAIN;
        }
        if (allowed < 0) {
                fail_forbidden(q, name, "pdb disruptions allowed is negative");
                return -EACCES;
        }
        if (json_object_size(json_object_get(st, "disruptedPods")) > MAX_DISRUPTED_PODS) {
                fail_forbidden(q, name,
                               "DisruptedPods map too big - too many evictions not confirmed by "
                               "PDB controller");
                return -EACCES;
        }
        if (allowed == 0) {
                snprintf(msg, sizeof(msg),
                         "The disruption budget %s needs %lld healthy pods and has %lld currently",
                         name, (long long)kjson_int(st, "desiredHealthy", 0),
                         (long long)kjson_int(st, "currentHealthy", 0));
                fail_budget(q, -EAGAIN, msg);
                return -EAGAIN;
        }
        allowed--;
        json_object_set_new(st, "disruptionsAllowed", json_integer(allowed));
        char now[32];
        timefmt_rfc3339(now, time(NULL));
        if (allowed == 0)
                apiserver_pdb_condition_set(st, allowed, kjson_int(st, "observedGeneration", 0),
                                            now);
        if (dry)
                return 0;
        json_t *dp = json_object_get(st, "disruptedPods");
        if (!json_is_object(dp)) {
                dp = json_object();
                json_object_set_new(st, "disruptedPods", dp);
        }
        json_object_set_new(dp, pod_name, json_string(now));
        _cleanup_free_ char *key = scheme_key(r, kjson_str(pdb, "metadata.namespace"), name);
        size_t len;
        _cleanup_free_ char *val = apiserver_obj_encode(pdb, &len);
        struct error err = {0};
        int64_t nrev;
        int rc = store_update(q->a->store, key, val, len, rev, &nrev, &err);
        if (rc == -ESTALE || rc == -ENOENT)
                return -ESTALE;
        if (rc < 0) {
                rq_fail_err(q, &err);
                return rc;
        }
        return 0;
}

int apiserver_eviction_admit(struct rq *q, const json_t *pod, bool dry, bool *ret_precondition)
{
        const struct scheme_resource *r = scheme_lookup("policy", "v1", "poddisruptionbudgets");
        const char *pod_name = kjson_str(pod, "metadata.name") ?: "";
        struct error err = {0};
        *ret_precondition = false;
        if (apiserver_eviction_ignores_pdb(pod) || !r)
                return 0;
        for (int attempt = 0;; attempt++) {
                _cleanup_(json_decrefp) json_t *pdbs = NULL;
                int rc = matching_pdbs(q->a, r, pod, &pdbs, &err);
                if (rc < 0) {
                        rq_fail_err(q, &err);
                        return rc;
                }
                if (json_array_size(pdbs) > 1) {
                        rq_fail(q, -EIO, NULL,
                                "This pod has more than one PodDisruptionBudget, which the "
                                "eviction subresource does not support.");
                        return -EIO;
                }
                if (json_array_size(pdbs) == 0)
                        return 0;
                json_t *pdb = kjson_get(json_array_get(pdbs, 0), "obj");
                int64_t rev = kjson_int(json_array_get(pdbs, 0), "rev", 0);
                if (attempt == 0 && !pod_ready(pod)) {
                        const char *pol = kjson_str(pdb, "spec.unhealthyPodEvictionPolicy");
                        int64_t cur = kjson_int(pdb, "status.currentHealthy", 0);
                        int64_t want = kjson_int(pdb, "status.desiredHealthy", 0);
                        if ((pol && !strcmp(pol, "AlwaysAllow")) || (cur >= want && want > 0)) {
                                *ret_precondition = true;
                                return 0;
                        }
                }
                rc = check_and_decrement(q, r, pdb, rev, pod_name, dry);
                if (rc != -ESTALE)
                        return rc;
                if (attempt >= EVICTION_RETRIES) {
                        rq_fail(q, -ETIMEDOUT, NULL,
                                "couldn't update PodDisruptionBudget \"%s\" due to conflicts",
                                kjson_str(pdb, "metadata.name") ?: "");
                        return -ETIMEDOUT;
                }
        }
}
