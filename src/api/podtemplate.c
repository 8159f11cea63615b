/* podtemplate.c — PodTemplateSpec defaults and validation (see podtemplate.h). */
#include "api/podtemplate.h"

#include <stdio.h>
#include <stdlib.h>

#include "api/labels.h"
#include "api/meta.h"
#include "api/pod.h"
#include "common/kjson.h"

void podtemplate_defaults(json_t *tmpl)
{
        json_t *md = kjson_obj_ensure(tmpl, "metadata");
        if (!json_object_get(md, "creationTimestamp"))
                json_object_set_new(md, "creationTimestamp", json_null());
        json_t *spec = kjson_obj_ensure(tmpl, "spec");
        /* pod_defaults on a scratch pod sharing spec, then drop what only Pods get. */
        static const char *const pod_only[] = {"enableServiceLinks", "priority",
                                               "preemptionPolicy",   "tolerations",
                                               "serviceAccountName", "serviceAccount"};
        bool had[ARRAY_SIZE(pod_only)];
        for (size_t i = 0; i < ARRAY_SIZE(pod_only); i++)
                had[i] = json_object_get(spec, pod_only[i]) != NULL;
        json_t *pod = json_pack("{s:O}", "spec", spec);
        pod_defaults(pod);
        json_decref(pod);
        for (size_t i = 0; i < ARRAY_SIZE(pod_only); i++)
                if (!had[i])
                        json_object_del(spec, pod_only[i]);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *podtemplate_gomap(const json_t *m)
{
        if (!json_object_size(m))
                return xstrdup("map[string]string(nil)");
        size_t n = json_object_size(m), i = 0;
        const char **keys = xmalloc(n * sizeof(*keys));
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)m, k, v)
        {
                keys[i++] = k;
        }
        qsort(keys, n, sizeof(*keys), cmp_str);
        char *out = xstrdup("map[string]string{");
        for (i = 0; i < n; i++) {
                const char *val = json_string_value(json_object_get(m, keys[i]));
                char *next =
                        xasprintf("%s%s\"%s\":\"%s\"", out, i ? ", " : "", keys[i], val ? val : "");
                free(out);
                out = next;
        }
        free(keys);
        char *res = xasprintf("%s}", out);
        free(out);
        return res;
}

/* Prefix every cause's field added after index from with prefix ("spec.template."). */
static void prefix_causes(json_t *causes, size_t from, const char *prefix)
{
        for (size_t i = from; i < json_array_size(causes); i++) {
                json_t *c = json_array_get(causes, i);
                const char *f = json_string_value(json_object_get(c, "field"));
                json_object_set_new(c, "field", json_sprintf("%s%s", prefix, f ? f : ""));
        }
}

void podtemplate_validate(const json_t *tmpl, const char *field,
                          const char *const *restart_policies, bool job_style, json_t *causes)
{
        char f[256];
        if (!json_is_object(tmpl)) {
                meta_cause_add(causes, "FieldValueRequired", field, NULL, "");
                return;
        }
        /* labels: qualified-name keys, label values */
        const char *k;
        json_t *v;
        json_object_foreach(kjson_get(tmpl, "metadata.labels"), k, v)
        {
                char buf[1024];
                snprintf(f, sizeof(f), "%s.metadata.labels", field);
                const char *val = json_string_value(v);
                if (meta_qualified_name_error(k, buf, sizeof(buf)))
                        meta_cause_add(causes, "FieldValueInvalid", f, k, buf);
                else if (val && meta_label_value_error(val, buf, sizeof(buf)))
                        meta_cause_add(causes, "FieldValueInvalid", f, val, buf);
        }
        size_t from = json_array_size(causes);
        json_t *spec = json_object_get(tmpl, "spec");
        json_t *pod = json_pack("{s:o}", "spec", spec ? json_incref(spec) : json_object());
        pod_validate(pod, causes);
        snprintf(f, sizeof(f), "%s.", field);
        prefix_causes(causes, from, f);
        const char *rp = kjson_str(pod, "spec.restartPolicy");
        json_decref(pod);
        bool ok = false;
        for (const char *const *a = restart_policies; *a; a++)
                ok |= rp && !strcmp(rp, *a);
        if (ok)
                return;
        char detail[256] = "";
        size_t off = 0;
        for (const char *const *a = restart_policies; *a && off < sizeof(detail); a++)
                off += (size_t)snprintf(detail + off, sizeof(detail) - off, "%s\"%s\"",
                                        a == restart_policies ? "" : ", ", *a);
        snprintf(f, sizeof(f), "%s.spec.restartPolicy", field);
        if (job_style) {
                _cleanup_free_ char *d = xasprintf("valid values: %s", detail);
                meta_cause_add(causes, "FieldValueRequired", f, NULL, d);
        } else {
                _cleanup_free_ char *d = xasprintf("supported values: %s", detail);
                meta_cause_add(causes, "FieldValueNotSupported", f, rp ? rp : "", d);
        }
}

void podtemplate_validate_selector(const json_t *sel, const json_t *tmpl, const char *field,
                                   const char *tmpl_field, const char *kind_lc, json_t *causes)
{
        if (!json_is_object(sel)) {
                meta_cause_add(causes, "FieldValueRequired", field, NULL, "");
                return;
        }
        struct error err = {0};
        _cleanup_(labels_selector_freep) struct labels_selector *ls = NULL;
        if (labels_selector_from_json(sel, &ls, &err) < 0) {
                meta_cause_add_json(causes, "FieldValueInvalid", field, sel, error_msg(&err));
                return;
        }
        if (labels_selector_is_empty(ls)) {
                _cleanup_free_ char *d = xasprintf("empty selector is invalid for %s", kind_lc);
                meta_cause_add_json(causes, "FieldValueInvalid", field, sel, d);
                return;
        }
        const json_t *labels = kjson_get(tmpl, "metadata.labels");
        if (tmpl && !labels_selector_matches(ls, labels)) {
                _cleanup_free_ char *gm = podtemplate_gomap(labels);
                /* the value prints as Go's %#v of the map (not JSON) */
                json_t *cause = json_pack("{s:s,s:s,s:s}", "reason", "FieldValueInvalid", "message",
                                          "", "field", tmpl_field);
                json_object_set_new(
                        cause, "message",
                        json_sprintf("Invalid value: %s: `selector` does not match template "
                                     "`labels`",
                                     gm));
                json_array_append_new(causes, cause);
        }
}
