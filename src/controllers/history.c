/* history.c — ControllerRevisions of DaemonSets and StatefulSets (see history.h). */
#include "controllers/history.h"

#include <stdio.h>

#include "common/kjson.h"
#include "common/log.h"
#include "controllers/controllers-internal.h"
#include "controllers/util.h"

#define COMP "controller-manager"

json_t *history_patch(const json_t *set)
{
        json_t *tmpl = json_deep_copy(kjson_get(set, "spec.template"));
        if (!json_is_object(tmpl)) {
                json_decref(tmpl);
                tmpl = json_object();
        }
        json_object_set_new(tmpl, "$patch", json_string("replace"));
        return json_pack("{s:{s:o}}", "spec", "template", tmpl);
}

json_t *history_template(const json_t *rev)
{
        return kjson_get(rev, "data.spec.template");
}

static int rev_cmp(const void *a, const void *b)
{
        const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
        int64_t rx = kjson_int(x, "revision", 0), ry = kjson_int(y, "revision", 0);
        if (rx != ry)
                return rx < ry ? -1 : 1;
        return strcmp(kjson_str(x, "metadata.name") ?: "", kjson_str(y, "metadata.name") ?: "");
}

json_t *history_owned(const json_t *revs, const json_t *set)
{
        const char *uid = kjson_str(set, "metadata.uid") ?: "";
        size_t n = json_array_size(revs), k = 0, i;
        json_t **v = xcalloc(n ? n : 1, sizeof(*v));
        json_t *r;
        json_array_foreach(revs, i, r)
        {
                json_t *ref = controllers_controller_ref(r);
                if (ref && !strcmp(json_string_value(json_object_get(ref, "uid")) ?: "", uid))
                        v[k++] = r;
        }
        qsort(v, k, sizeof(*v), rev_cmp);
        json_t *out = json_array();
        for (i = 0; i < k; i++)
                json_array_append(out, v[i]);
        free(v);
        return out;
}

json_t *history_find_equal(const json_t *sorted, const json_t *data)
{
        for (size_t i = json_array_size(sorted); i-- > 0;) {
                json_t *r = json_array_get(sorted, i);
                if (kjson_equal(json_object_get(r, "data"), data))
                        return r;
        }
        return NULL;
}

int64_t history_next_number(const json_t *sorted)
{
        size_t n = json_array_size(sorted);
        return n ? kjson_int(json_array_get(sorted, n - 1), "revision", 0) + 1 : 1;
}

json_t *history_prune(const json_t *sorted, const json_t *keep, int64_t limit)
{
        json_t *out = json_array();
        size_t n = json_array_size(sorted), live = 0, i;
        json_t *r;
        json_array_foreach(sorted, i, r)
        {
                if (!json_object_get(keep, kjson_str(r, "metadata.name") ?: ""))
                        live++;
        }
        int64_t excess = (int64_t)live - (limit < 0 ? 0 : limit);
        for (i = 0; i < n && excess > 0; i++) {
                r = json_array_get(sorted, i);
                const char *name = kjson_str(r, "metadata.name") ?: "";
                if (json_object_get(keep, name))
                        continue;
                json_array_append_new(out, json_string(name));
                excess--;
        }
        return out;
}

static char *revs_path(const json_t *set)
{
        return xasprintf("/apis/apps/v1/namespaces/%s/controllerrevisions",
                         kjson_str(set, "metadata.namespace") ?: "default");
}

int history_sync(struct manager *m, struct kclient *kc, const json_t *set, const char *kind,
                 int64_t *collision, json_t **ret_update, json_t **ret_revs, struct error *err)
{
        json_t *all = manager_cache_list(m, CTL_CONTROLLERREVISIONS,
                                         kjson_str(set, "metadata.namespace"));
        json_t *revs = history_owned(all, set);
        json_decref(all);
        json_t *data = history_patch(set);
        _cleanup_free_ char *coll = revs_path(set);
        json_t *eq = history_find_equal(revs, data);
        int r = 0;
        if (eq) {
                int64_t next = history_next_number(revs);
                json_incref(eq);
                if (kjson_int(eq, "revision", 0) + 1 != next) {
                        /* an old template again: it becomes the newest revision */
                        json_t *upd = json_deep_copy(eq);
                        json_object_set_new(upd, "revision", json_integer(next));
                        _cleanup_free_ char *path =
                                xasprintf("%s/%s", coll, kjson_str(eq, "metadata.name") ?: "");
                        json_t *got = NULL;
                        r = kclient_update(kc, path, upd, &got, err);
                        json_decref(upd);
                        if (r < 0) {
                                json_decref(eq);
                                goto out;
                        }
                        json_decref(eq);
                        eq = got;
                        json_decref(revs);
                        all = manager_cache_list(m, CTL_CONTROLLERREVISIONS,
                                                 kjson_str(set, "metadata.namespace"));
                        revs = history_owned(all, set);
                        json_decref(all);
                }
                *ret_update = eq;
                goto out;
        }
        for (int attempt = 0; attempt < 5; attempt++) {
                char hash[16];
                controllers_template_hash(data, *collision, hash);
                const char *set_name = kjson_str(set, "metadata.name") ?: "";
                _cleanup_free_ char *name = xasprintf("%.223s-%s", set_name, hash);
                json_t *labels = json_deep_copy(kjson_get(set, "spec.template.metadata.labels"));
                if (!json_is_object(labels)) {
                        json_decref(labels);
                        labels = json_object();
                }
                json_object_set_new(labels, "controller-revision-hash", json_string(hash));
                json_t *rev = json_pack(
                        "{s:s, s:s, s:{s:s, s:s, s:o, s:[o]}, s:O, s:I}", "apiVersion", "apps/v1",
                        "kind", "ControllerRevision", "metadata", "name", name, "namespace",
                        kjson_str(set, "metadata.namespace") ?: "default", "labels", labels,
                        "ownerReferences", controllers_owner_ref_new(set, "apps/v1", kind), "data",
                        data, "revision", (json_int_t)history_next_number(revs));
                json_t *got = NULL;
                r = kclient_create(kc, coll, rev, &got, err);
                json_decref(rev);
                if (r == 0) {
                        json_array_append(revs, got);
                        *ret_update = got;
                        goto out;
                }
                if (r != -EEXIST)
                        goto out;
                /* the name exists: ours with equal data (a lagging cache) or a collision */
                json_t *cur = NULL;
                _cleanup_free_ char *path = xasprintf("%s/%s", coll, name);
                if (kclient_get(kc, path, &cur, err) == 0) {
                        json_t *ref = controllers_controller_ref(cur);
                        if (ref &&
                            !strcmp(json_string_value(json_object_get(ref, "uid")) ?: "",
                                    kjson_str(set, "metadata.uid") ?: "") &&
                            kjson_equal(json_object_get(cur, "data"), data)) {
                                json_array_append(revs, cur);
                                *ret_update = cur;
                                r = 0;
                                goto out;
                        }
                }
                json_decref(cur);
                (*collision)++;
        }
        r = error_set(err, -EEXIST, "controller revision hash collision");
out:
        json_decref(data);
        if (r < 0) {
                json_decref(revs);
                return r;
        }
        *ret_revs = revs;
        return 0;
}

void history_truncate(struct kclient *kc, const json_t *set, const json_t *revs, const json_t *keep)
{
        int64_t limit = kjson_int(set, "spec.revisionHistoryLimit", 10);
        json_t *del = history_prune(revs, keep, limit);
        _cleanup_free_ char *coll = revs_path(set);
        json_t *n;
        size_t i;
        json_array_foreach(del, i, n)
        {
                struct error err = {0};
                _cleanup_free_ char *path = xasprintf("%s/%s", coll, json_string_value(n));
                int r = kclient_delete(kc, path, NULL, NULL, &err);
                if (r < 0 && r != -ENOENT)
                        log_debug(COMP, "delete revision %s: %s", path, error_msg(&err));
        }
        json_decref(del);
}
