/* pod.c — Pod defaults and validation (see pod.h). */
#include "api/pod.h"

#include <stdio.h>

#include "api/meta.h"
#include "api/quantity.h"
#include "common/kjson.h"

const char *pod_image_pull_policy(const char *image)
{
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

static void set_default(json_t *obj, const char *key, json_t *v)
{
        if (!json_object_get(obj, key))
                json_object_set_new(obj, key, v);
        else
                json_decref(v);
}

static void container_defaults(json_t *c)
{
        set_default(c, "resources", json_object());
        set_default(c, "terminationMessagePath", json_string("/dev/termination-log"));
        set_default(c, "terminationMessagePolicy", json_string("File"));
        set_default(
                c, "imagePullPolicy",
                json_string(pod_image_pull_policy(json_string_value(json_object_get(c, "image")))));
        /* SetDefaults_Pod: a limit without a request sets the request to the limit */
        json_t *res = json_object_get(c, "resources");
        json_t *lim = json_object_get(res, "limits");
        if (json_is_object(res) && json_object_size(lim)) {
                json_t *req = json_object_get(res, "requests");
                if (!json_is_object(req)) {
                        req = json_object();
                        json_object_set_new(res, "requests", req);
                }
                const char *k;
                json_t *v;
                json_object_foreach(lim, k, v)
                        set_default(req, k, json_incref(v));
        }
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(c, "ports"), i, p)
        {
                if (json_is_object(p))
                        set_default(p, "protocol", json_string("TCP"));
        }
}

/* Value of resources.<kind>.<res> as a quantity; false if absent/invalid. */
static bool res_get(const json_t *c, const char *kind, const char *res, struct quantity *q)
{
        const char *s = json_string_value(json_object_get(kjson_get(c, kind), res));
        json_t *v = json_object_get(kjson_get(c, kind), res);
        char buf[32];
        if (!s && json_is_integer(v)) {
                snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
                s = buf;
        }
        return s && quantity_parse(s, q, NULL) >= 0;
}

const char *pod_qos_class(const json_t *pod)
{
        /* Kubernetes' GetPodQOS: Guaranteed if every container sets cpu and memory limits and
         * requests (requests default to limits) equal; BestEffort if no requests/limits at all;
         * else Burstable. */
        bool any = false, guaranteed = true;
        const char *lists[] = {"spec.containers", "spec.initContainers"};
        for (size_t l = 0; l < 2; l++) {
                size_t i;
                json_t *c;
                json_array_foreach(kjson_get(pod, lists[l]), i, c)
                {
                        const char *res[] = {"cpu", "memory"};
                        json_t *req = kjson_get(c, "resources.requests");
                        json_t *lim = kjson_get(c, "resources.limits");
                        if (json_object_size(req) || json_object_size(lim))
                                any = true;
                        for (size_t k = 0; k < 2; k++) {
                                struct quantity lq, rq;
                                bool hl = res_get(c, "resources.limits", res[k], &lq);
                                bool hr = res_get(c, "resources.requests", res[k], &rq);
                                if (!hl) {
                                        guaranteed = false;
                                        continue;
                                }
                                if (hr && quantity_cmp(&lq, &rq) != 0)
                                        guaranteed = false;
                        }
                }
        }
        if (!any)
                return "BestEffort";
        return guaranteed ? "Guaranteed" : "Burstable";
}

static int64_t default_not_ready_s = 300, default_unreachable_s = 300;

bool pod_toleration_tolerates(const json_t *tol, const char *key, const char *value,
                              const char *effect)
{
        const char *te = kjson_str(tol, "effect") ?: "";
        const char *tk = kjson_str(tol, "key") ?: "";
        const char *op = kjson_str(tol, "operator") ?: "";
        if (*te && strcmp(te, effect ?: ""))
                return false;
        if (*tk && strcmp(tk, key ?: ""))
                return false;
        if (!strcmp(op, "Exists"))
                return true;
        return (!*op || !strcmp(op, "Equal")) &&
               !strcmp(kjson_str(tol, "value") ?: "", value ?: "");
}

void pod_toleration_defaults_set(int64_t not_ready_s, int64_t unreachable_s)
{
        default_not_ready_s = not_ready_s;
        default_unreachable_s = unreachable_s;
}

/* DefaultTolerationSeconds admission (plugin/pkg/admission/defaulttolerationseconds): a
 * toleration with that key (or none) and effect NoExecute (or none) counts as tolerating. */
static void default_tolerations(json_t *spec)
{
        static const char *const keys[] = {"node.kubernetes.io/not-ready",
                                           "node.kubernetes.io/unreachable"};
        const int64_t secs[] = {default_not_ready_s, default_unreachable_s};
        json_t *tol = json_object_get(spec, "tolerations");
        if (tol && !json_is_array(tol))
                return; /* validation reports it */
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
                bool found = false;
                size_t i;
                json_t *t;
                json_array_foreach(tol, i, t)
                {
                        const char *key = json_string_value(json_object_get(t, "key")) ?: "";
                        const char *eff = json_string_value(json_object_get(t, "effect")) ?: "";
                        if ((!*key || !strcmp(key, keys[k])) &&
                            (!*eff || !strcmp(eff, "NoExecute")))
                                found = true;
                }
                if (found)
                        continue;
                if (!tol) {
                        tol = json_array();
                        json_object_set_new(spec, "tolerations", tol);
                }
                json_array_append_new(tol, json_pack("{s:s,s:s,s:s,s:I}", "key", keys[k],
                                                     "operator", "Exists", "effect", "NoExecute",
                                                     "tolerationSeconds", (json_int_t)secs[k]));
        }
}

void pod_defaults(json_t *pod)
{
        json_t *spec = kjson_obj_ensure(pod, "spec");
        set_default(spec, "restartPolicy", json_string("Always"));
        set_default(spec, "terminationGracePeriodSeconds", json_integer(30));
        set_default(spec, "dnsPolicy", json_string("ClusterFirst"));
        set_default(spec, "securityContext", json_object());
        set_default(spec, "schedulerName", json_string("default-scheduler"));
        set_default(spec, "enableServiceLinks", json_true());
        /* the ServiceAccount admission plugin: "default" unless named; the deprecated
         * serviceAccount mirrors serviceAccountName, as the v1 conversion does */
        const char *sa = json_string_value(json_object_get(spec, "serviceAccountName"));
        if (!sa || !*sa)
                sa = json_string_value(json_object_get(spec, "serviceAccount"));
        if (!sa || !*sa)
                sa = "default";
        json_t *sav = json_string(sa); /* before the sets: sa may point into spec */
        json_object_set(spec, "serviceAccountName", sav);
        json_object_set_new(spec, "serviceAccount", sav);
        set_default(spec, "priority", json_integer(0));
        if (!json_object_get(spec, "preemptionPolicy"))
                json_object_set_new(spec, "preemptionPolicy", json_string("PreemptLowerPriority"));
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(spec, "containers"), i, c)
        {
                if (json_is_object(c))
                        container_defaults(c);
        }
        json_array_foreach(json_object_get(spec, "initContainers"), i, c)
        {
                if (json_is_object(c))
                        container_defaults(c);
        }
        default_tolerations(spec);
        json_t *status = json_object_get(pod, "status");
        if (!json_is_object(status)) {
                status = json_object();
                json_object_set_new(pod, "status", status);
        }
        if (!json_string_value(json_object_get(status, "phase")))
                json_object_set_new(status, "phase", json_string("Pending"));
        json_object_set_new(status, "qosClass", json_string(pod_qos_class(pod)));
}

/* requests <= limits for each resource named in both (ValidateResourceRequirements). */
static void validate_resources(const json_t *c, const char *field, json_t *causes)
{
        const json_t *req = kjson_get(c, "resources.requests");
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)req, k, v)
        {
                struct quantity rq, lq;
                if (!res_get(c, "resources.requests", k, &rq)) {
                        char f[160];
                        snprintf(f, sizeof(f), "%s.resources.requests[%s]", field, k);
                        meta_cause_add_json(causes, "FieldValueInvalid", f, v,
                                            "quantities must match the regular expression "
                                            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
                        continue;
                }
                if (!res_get(c, "resources.limits", k, &lq) || quantity_cmp(&rq, &lq) <= 0)
                        continue;
                char f[160], detail[128], val[QUANTITY_STR_MAX];
                snprintf(f, sizeof(f), "%s.resources.requests", field);
                snprintf(detail, sizeof(detail), "must be less than or equal to %s limit of %s", k,
                         quantity_format(&lq, val));
                quantity_format(&rq, val);
                meta_cause_add(causes, "FieldValueInvalid", f, val, detail);
        }
}

/* volumeMounts must name a volume of the pod and carry a mountPath; env names are required. */
static void validate_mounts_env(const json_t *c, const char *field, const json_t *volumes,
                                json_t *causes)
{
        char f[160];
        size_t j;
        json_t *m;
        json_array_foreach(json_object_get(c, "volumeMounts"), j, m)
        {
                const char *name = json_string_value(json_object_get(m, "name"));
                snprintf(f, sizeof(f), "%s.volumeMounts[%zu].name", field, j);
                if (!name || !*name)
                        meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
                else if (!json_object_get(volumes, name))
                        meta_cause_add(causes, "FieldValueNotFound", f, name, NULL);
                const char *mp = json_string_value(json_object_get(m, "mountPath"));
                snprintf(f, sizeof(f), "%s.volumeMounts[%zu].mountPath", field, j);
                if (!mp || !*mp)
                        meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
        }
        json_array_foreach(json_object_get(c, "env"), j, m)
        {
                const char *name = json_string_value(json_object_get(m, "name"));
                snprintf(f, sizeof(f), "%s.env[%zu].name", field, j);
                if (!name || !*name)
                        meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
        }
}

static void validate_containers(const json_t *list, const char *field, json_t *names,
                                const json_t *volumes, json_t *causes, bool required)
{
        char f[128], buf[1024];
        if (!json_is_array(list) || !json_array_size(list)) {
                if (required)
                        meta_cause_add(causes, "FieldValueRequired", field, NULL, "");
                return;
        }
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c)
        {
                const char *name = json_string_value(json_object_get(c, "name"));
                snprintf(f, sizeof(f), "%s[%zu].name", field, i);
                if (!name || !*name) {
                        meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
                } else if (meta_dns1123_label_error(name, buf, sizeof(buf))) {
                        meta_cause_add(causes, "FieldValueInvalid", f, name, buf);
                } else if (json_object_get(names, name)) {
                        meta_cause_add(causes, "FieldValueDuplicate", f, name, NULL);
                } else {
                        json_object_set_new(names, name, json_true());
                }
                const char *image = json_string_value(json_object_get(c, "image"));
                snprintf(f, sizeof(f), "%s[%zu].image", field, i);
                if (!image || !*image)
                        meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
                size_t j;
                json_t *p;
                char cf[96];
                snprintf(cf, sizeof(cf), "%s[%zu]", field, i);
                validate_resources(c, cf, causes);
                validate_mounts_env(c, cf, volumes, causes);
                json_array_foreach(json_object_get(c, "ports"), j, p)
                {
                        json_t *cp = json_object_get(p, "containerPort");
                        snprintf(f, sizeof(f), "%s[%zu].ports[%zu].containerPort", field, i, j);
                        if (!json_is_integer(cp)) {
                                meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
                        } else if (json_integer_value(cp) < 1 || json_integer_value(cp) > 65535) {
                                meta_cause_add_json(causes, "FieldValueInvalid", f, cp,
                                                    "must be between 1 and 65535, inclusive");
                        }
                }
        }
}

static void validate_enum(const json_t *spec, const char *key, const char *const *allowed,
                          json_t *causes)
{
        const char *v = json_string_value(json_object_get(spec, key));
        if (!v)
                return;
        for (const char *const *a = allowed; *a; a++)
                if (!strcmp(*a, v))
                        return;
        char field[64], detail[256] = "supported values: ";
        size_t off = strlen(detail);
        for (const char *const *a = allowed; *a; a++)
                off += (size_t)snprintf(detail + off, sizeof(detail) - off, "%s\"%s\"",
                                        a == allowed ? "" : ", ", *a);
        snprintf(field, sizeof(field), "spec.%s", key);
        meta_cause_add(causes, "FieldValueNotSupported", field, v, detail);
}

void pod_validate(const json_t *pod, json_t *causes)
{
        const json_t *spec = json_object_get(pod, "spec");
        /* volumes: names required, DNS labels, unique */
        json_t *volumes = json_object();
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(spec, "volumes"), i, v)
        {
                char f[64], buf[1024];
                const char *name = json_string_value(json_object_get(v, "name"));
                snprintf(f, sizeof(f), "spec.volumes[%zu].name", i);
                if (!name || !*name)
                        meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
                else if (meta_dns1123_label_error(name, buf, sizeof(buf)))
                        meta_cause_add(causes, "FieldValueInvalid", f, name, buf);
                else if (json_object_get(volumes, name))
                        meta_cause_add(causes, "FieldValueDuplicate", f, name, NULL);
                else
                        json_object_set_new(volumes, name, json_true());
        }
        json_t *names = json_object();
        validate_containers(json_object_get(spec, "containers"), "spec.containers", names, volumes,
                            causes, true);
        validate_containers(json_object_get(spec, "initContainers"), "spec.initContainers", names,
                            volumes, causes, false);
        json_decref(names);
        json_decref(volumes);
        static const char *const rp[] = {"Always", "OnFailure", "Never", NULL};
        static const char *const dp[] = {"ClusterFirstWithHostNet", "ClusterFirst", "Default",
                                         "None", NULL};
        validate_enum(spec, "restartPolicy", rp, causes);
        validate_enum(spec, "dnsPolicy", dp, causes);
        json_t *tg = json_object_get(spec, "terminationGracePeriodSeconds");
        if (json_is_integer(tg) && json_integer_value(tg) < 0)
                meta_cause_add_json(causes, "FieldValueInvalid",
                                    "spec.terminationGracePeriodSeconds", tg,
                                    "must be greater than or equal to 0");
}

/* Copy of spec with the mutable fields neutralised, for comparison. */
static json_t *spec_masked(const json_t *spec, const json_t *other)
{
        json_t *s = json_is_object(spec) ? json_deep_copy(spec) : json_object();
        json_object_del(s, "activeDeadlineSeconds");
        json_object_del(s, "tolerations");
        json_object_del(s, "terminationGracePeriodSeconds");
        const char *lists[] = {"containers", "initContainers"};
        for (size_t l = 0; l < 2; l++) {
                size_t i;
                json_t *c;
                json_array_foreach(json_object_get(s, lists[l]), i, c)
                {
                        if (json_is_object(c))
                                json_object_del(c, "image");
                }
        }
        (void)other;
        return s;
}

void pod_validate_update(const json_t *newpod, const json_t *oldpod, json_t *causes)
{
        json_t *a = spec_masked(json_object_get(newpod, "spec"), NULL);
        json_t *b = spec_masked(json_object_get(oldpod, "spec"), NULL);
        if (!json_equal(a, b))
                meta_cause_add(
                        causes, "FieldValueForbidden", "spec", NULL,
                        "pod updates may not change fields other than `spec.containers[*].image`,"
                        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                        "`spec.tolerations` (only additions to existing tolerations),"
                        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                        "previously negative)");
        json_decref(a);
        json_decref(b);
        /* Container count and names must not change either (covered by the masked compare);
         * images must stay non-empty. */
        size_t i;
        json_t *c;
        json_array_foreach(kjson_get(newpod, "spec.containers"), i, c)
        {
                const char *image = json_string_value(json_object_get(c, "image"));
                if (!image || !*image) {
                        char f[64];
                        snprintf(f, sizeof(f), "spec.containers[%zu].image", i);
                        meta_cause_add(causes, "FieldValueRequired", f, NULL, "");
                }
        }
}
