/* crdsync.c — the CRD controllers of kube-apiserver's apiextensions-apiserver, run in-line
 * after each CRD write: the naming and establishing controllers (status.acceptedNames,
 * NamesAccepted, Established, storedVersions), the serving set (api/crd.h installs one scheme
 * entry per served version) and the finalizer controller (instances of a CRD that is no longer
 * served are deleted; the customresourcecleanup finalizer is removed once they are). */
#include "apiserver/apiserver-internal.h"

#include <stdio.h>
#include <time.h>

#include "api/crd.h"
#include "common/kjson.h"
#include "common/log.h"
#include "common/timefmt.h"

#define COMP "crd"

/* Delete every object under prefix (the instances of a removed CRD). */
static void purge(struct apiserver *a, const char *prefix)
{
        struct store_list l = {0};
        struct error err = {0};
        if (store_list(a->store, prefix, NULL, 0, 0, &l, &err) < 0) {
                log_warn(COMP, "listing %s: %s", prefix, error_msg(&err));
                return;
        }
        for (size_t i = 0; i < l.n_items; i++) {
                struct error e2 = {0};
                if (store_delete(a->store, l.items[i].key, 0, NULL, &e2) < 0 && e2.code != -ENOENT)
                        log_warn(COMP, "deleting %s: %s", l.items[i].key, error_msg(&e2));
        }
        if (l.n_items)
                log_info(COMP, "deleted %zu custom resources under %s", l.n_items, prefix);
        store_list_clear(&l);
}

static bool has_finalizer(const json_t *obj, const char *f)
{
        size_t i;
        json_t *v;
        json_array_foreach(kjson_get(obj, "metadata.finalizers"), i, v)
        {
                if (json_string_value(v) && !strcmp(json_string_value(v), f))
                        return true;
        }
        return false;
}

static int write_back(struct apiserver *a, const struct scheme_resource *r, const json_t *obj,
                      int64_t rev)
{
        _cleanup_free_ char *key = scheme_key(r, NULL, kjson_str(obj, "metadata.name"));
        size_t len;
        _cleanup_free_ char *val = apiserver_obj_encode(obj, &len);
        struct error err = {0};
        int rc = store_update(a->store, key, val, len, rev, NULL, &err);
        if (rc < 0 && rc != -ESTALE)
                log_warn(COMP, "updating %s: %s", key, error_msg(&err));
        return rc;
}

/* A CRD being deleted with the cleanup finalizer: delete its instances, then the finalizer
 * (and the CRD when it was the last one). */
static void finalize(struct apiserver *a, const struct scheme_resource *r, json_t *crd, int64_t rev)
{
        const char *group = kjson_str(crd, "spec.group");
        const char *plural = kjson_str(crd, "spec.names.plural");
        if (group && plural) {
                _cleanup_free_ char *prefix = xasprintf("/registry/%s/%s/", group, plural);
                purge(a, prefix);
        }
        json_t *fins = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(kjson_get(crd, "metadata.finalizers"), i, v)
        {
                if (!json_string_value(v) || strcmp(json_string_value(v), CRD_FINALIZER))
                        json_array_append(fins, v);
        }
        json_t *meta = json_object_get(crd, "metadata");
        if (json_array_size(fins)) {
                json_object_set_new(meta, "finalizers", fins);
                (void)write_back(a, r, crd, rev);
                return;
        }
        json_decref(fins);
        _cleanup_free_ char *key = scheme_key(r, NULL, kjson_str(crd, "metadata.name"));
        struct error err = {0};
        if (store_delete(a->store, key, rev, NULL, &err) < 0 && err.code != -ESTALE)
                log_warn(COMP, "deleting %s: %s", key, error_msg(&err));
}

struct gp {
        char *group, *resource;
};

void crdsync_run(struct apiserver *a)
{
        const struct scheme_resource *r =
                scheme_lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions");
        _cleanup_free_ char *prefix = scheme_prefix(r, NULL);
        struct store_list l = {0};
        struct error err = {0};
        if (store_list(a->store, prefix, NULL, 0, 0, &l, &err) < 0) {
                log_warn(COMP, "listing CRDs: %s", error_msg(&err));
                return;
        }
        char now[32];
        timefmt_rfc3339(now, time(NULL));
        /* all of them first: names are checked against every other CRD's accepted names */
        _cleanup_(json_decrefp) json_t *crds = json_array();
        _cleanup_free_ int64_t *revs = xcalloc(l.n_items + 1, sizeof(*revs));
        for (size_t i = 0; i < l.n_items; i++) {
                json_t *crd = apiserver_obj_decode(r, l.items[i].value, l.items[i].value_len,
                                                   l.items[i].mod_rev);
                if (!crd)
                        continue;
                revs[json_array_size(crds)] = l.items[i].mod_rev;
                json_array_append_new(crds, crd);
        }
        size_t ci;
        json_t *crd;
        json_array_foreach(crds, ci, crd)
        {
                if (kjson_get(crd, "metadata.deletionTimestamp")) {
                        if (has_finalizer(crd, CRD_FINALIZER))
                                finalize(a, r, crd, revs[ci]);
                        continue;
                }
                if (crd_status_establish(crd, crds, now))
                        (void)write_back(a, r, crd, revs[ci]);
        }
        store_list_clear(&l);
        /* what was served before: instances of group/resources no longer served go */
        size_t n_old;
        const struct scheme_resource *old = scheme_custom_resources(&n_old);
        struct gp *gone = xcalloc(n_old ? n_old : 1, sizeof(*gone));
        size_t n_gone = 0;
        for (size_t i = 0; i < n_old; i++) {
                gone[n_gone].group = xstrdup(old[i].group);
                gone[n_gone].resource = xstrdup(old[i].resource);
                n_gone++;
        }
        crd_registry_install(crds);
        for (size_t i = 0; i < n_gone; i++) {
                /* kept while its CRD exists and is not being deleted (versions that stop being
                 * served keep their instances) */
                bool kept = false;
                json_array_foreach(crds, ci, crd)
                {
                        const char *g = kjson_str(crd, "spec.group");
                        const char *p = kjson_str(crd, "spec.names.plural");
                        if (g && p && !strcmp(g, gone[i].group) && !strcmp(p, gone[i].resource) &&
                            !kjson_get(crd, "metadata.deletionTimestamp"))
                                kept = true;
                }
                bool dup = false;
                for (size_t k = 0; k < i && !dup; k++)
                        dup = !strcmp(gone[k].group, gone[i].group) &&
                              !strcmp(gone[k].resource, gone[i].resource);
                if (!kept && !dup) {
                        _cleanup_free_ char *p =
                                xasprintf("/registry/%s/%s/", gone[i].group, gone[i].resource);
                        purge(a, p);
                }
        }
        for (size_t i = 0; i < n_gone; i++) {
                free(gone[i].group);
                free(gone[i].resource);
        }
        free(gone);
}
