/* managedfields.c — the field manager of kube-apiserver (see managedfields.h). */
#include "api/managedfields.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/kjson.h"
#include "common/timefmt.h"

/* Remove from s (in place) every subtree of which r holds the member; nodes left without
 * children and not members go too. */
static void rdiff_inplace(json_t *s, const json_t *r, int depth)
{
        if (depth > FIELDSET_MAX_DEPTH || !json_is_object(s))
                return;
        const char *k;
        json_t *rn;
        json_object_foreach((json_t *)r, k, rn)
        {
                json_t *sn = json_object_get(s, k);
                if (!strcmp(k, ".") || !json_is_object(sn))
                        continue;
                if (!json_object_size(rn) || json_object_get(rn, ".")) {
                        json_object_del(s, k);
                        continue;
                }
                bool member = !json_object_size(sn) || json_object_get(sn, ".");
                rdiff_inplace(sn, rn, depth + 1);
                json_object_del(sn, ".");
                if (!json_object_size(sn)) {
                        if (member)
                                continue; /* an emptied member is a leaf {} again */
                        json_object_del(s, k);
                } else if (member) {
                        json_object_set_new(sn, ".", json_object());
                }
        }
}

/* The fields a write may own, in place: without stripMetaManager's fields (apiVersion, kind,
 * the metadata that the server sets; "metadata" itself only as a member) and the op's reset
 * fields. */
static void strip_owned(json_t *set, const struct managedfields_op *op)
{
        static const char *const meta[] = {"f:name",       "f:namespace",     "f:creationTimestamp",
                                           "f:selfLink",   "f:uid",           "f:clusterName",
                                           "f:generation", "f:managedFields", "f:resourceVersion"};
        json_object_del(set, "f:apiVersion");
        json_object_del(set, "f:kind");
        json_t *m = json_object_get(set, "f:metadata");
        if (json_is_object(m)) {
                json_object_del(m, ".");
                for (size_t i = 0; i < ARRAY_SIZE(meta); i++)
                        json_object_del(m, meta[i]);
                if (!json_object_size(m))
                        json_object_del(set, "f:metadata");
        }
        if (op->reset)
                rdiff_inplace(set, op->reset, 0);
}

static const char *str_or_empty(const json_t *e, const char *key)
{
        const char *s = json_string_value(json_object_get(e, key));
        return s ? s : "";
}

bool managedfields_valid(const json_t *mf)
{
        if (!json_is_array(mf))
                return false;
        size_t i;
        json_t *e;
        json_array_foreach(mf, i, e)
        {
                if (!json_is_object(e))
                        return false;
                /* [{}] is how a client clears managedFields (an entry that owns nothing). */
                if (!json_object_size(e))
                        continue;
                const char *op = str_or_empty(e, "operation");
                if (strcmp(op, "Apply") && strcmp(op, "Update"))
                        return false;
                if (strcmp(str_or_empty(e, "fieldsType"), "FieldsV1"))
                        return false;
                json_t *f = json_object_get(e, "fieldsV1");
                if (f && !fieldset_valid(f))
                        return false;
                json_t *t = json_object_get(e, "time");
                struct timespec ts;
                if (t && !json_is_null(t) &&
                    (!json_is_string(t) || timefmt_parse_rfc3339(json_string_value(t), &ts) < 0))
                        return false;
        }
        return true;
}

/* Is entry e the one of (manager, operation, subresource[, apiVersion for Update])? */
static bool entry_is(const json_t *e, const char *manager, const char *operation,
                     const char *subresource, const char *api_version)
{
        if (strcmp(str_or_empty(e, "manager"), manager) ||
            strcmp(str_or_empty(e, "operation"), operation) ||
            strcmp(str_or_empty(e, "subresource"), subresource ? subresource : ""))
                return false;
        return !strcmp(operation, "Apply") ||
               !strcmp(str_or_empty(e, "apiVersion"), api_version ? api_version : "");
}

static json_t *find_entry(json_t *mf, const char *manager, const char *operation,
                          const char *subresource, const char *api_version)
{
        size_t i;
        json_t *e;
        json_array_foreach(mf, i, e)
        {
                if (entry_is(e, manager, operation, subresource, api_version))
                        return e;
        }
        return NULL;
}

static json_t *entry_set(const json_t *e)
{
        json_t *s = json_object_get(e, "fieldsV1");
        return json_is_object(s) ? s : NULL;
}

/* A new entry in the order Kubernetes encodes ManagedFieldsEntry. */
static json_t *entry_new(const char *manager, const char *operation,
                         const struct managedfields_op *op, json_t *set, time_t t)
{
        char ts[32];
        timefmt_rfc3339(ts, t);
        json_t *e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "manager", manager, "operation",
                              operation, "apiVersion", op->api_version, "time", ts, "fieldsType",
                              "FieldsV1", "fieldsV1", set);
        if (op->subresource)
                json_object_set_new(e, "subresource", json_string(op->subresource));
        return e;
}

static void entry_set_time(json_t *e, time_t t)
{
        char ts[32];
        timefmt_rfc3339(ts, t);
        json_object_set_new(e, "time", json_string(ts));
}

static int64_t entry_time(const json_t *e)
{
        struct timespec ts = {0};
        const char *t = json_string_value(json_object_get(e, "time"));
        if (t)
                timefmt_parse_rfc3339(t, &ts);
        return ts.tv_sec;
}

static int cmp_entries(const void *pa, const void *pb)
{
        const json_t *p = *(const json_t *const *)pa, *q = *(const json_t *const *)pb;
        int c = strcmp(str_or_empty(p, "operation"), str_or_empty(q, "operation"));
        if (c)
                return c;
        int64_t tp = entry_time(p), tq = entry_time(q);
        if (tp != tq)
                return tp < tq ? -1 : 1;
        if ((c = strcmp(str_or_empty(p, "manager"), str_or_empty(q, "manager"))))
                return c;
        if ((c = strcmp(str_or_empty(p, "apiVersion"), str_or_empty(q, "apiVersion"))))
                return c;
        return strcmp(str_or_empty(p, "subresource"), str_or_empty(q, "subresource"));
}

static int cmp_by_time(const void *pa, const void *pb)
{
        const json_t *p = *(const json_t *const *)pa, *q = *(const json_t *const *)pb;
        int64_t tp = entry_time(p), tq = entry_time(q);
        if (tp != tq)
                return tp < tq ? -1 : 1;
        return strcmp(str_or_empty(p, "manager"), str_or_empty(q, "manager"));
}

/* capManagersManager: above MANAGEDFIELDS_MAX_UPDATERS Update entries the oldest are merged,
 * per apiVersion, into one "ancient-changes" entry (an emptied entry is dropped later). */
static void cap_updaters(json_t *mf)
{
        size_t n = 0, cap = json_array_size(mf) + 1;
        _cleanup_free_ json_t **v = xmalloc(cap * sizeof(*v));
        size_t i;
        json_t *e;
        json_array_foreach(mf, i, e)
        {
                if (!strcmp(str_or_empty(e, "operation"), "Update") &&
                    !fieldset_empty(entry_set(e)))
                        v[n++] = e;
        }
        if (n <= MANAGEDFIELDS_MAX_UPDATERS)
                return;
        qsort(v, n, sizeof(*v), cmp_by_time);
        _cleanup_(json_decrefp) json_t *first = json_object(); /* apiVersion -> index in v */
        size_t length = n;
        for (i = 0; i < n && length > MANAGEDFIELDS_MAX_UPDATERS; i++) {
                const char *ver = str_or_empty(v[i], "apiVersion");
                json_t *f = json_object_get(first, ver);
                if (!f) {
                        json_object_set_new(first, ver, json_integer((json_int_t)i));
                        continue;
                }
                json_t *bucket = find_entry(mf, MANAGEDFIELDS_ANCIENT, "Update", NULL, ver);
                if (!bucket) {
                        bucket = v[json_integer_value(f)];
                        json_object_set_new(bucket, "manager", json_string(MANAGEDFIELDS_ANCIENT));
                        json_object_del(bucket, "subresource");
                }
                if (bucket == v[i])
                        continue;
                json_object_set_new(bucket, "fieldsV1",
                                    fieldset_union(entry_set(bucket), entry_set(v[i])));
                json_object_set(bucket, "time", json_object_get(v[i], "time"));
                json_object_set_new(v[i], "fieldsV1", json_object());
                length--;
        }
}

/* Drop entries that own nothing, sort as sortEncodedManagedFields, store in obj (or remove). */
static void store_entries(json_t *obj, json_t *mf)
{
        cap_updaters(mf);
        size_t n = 0, cap = json_array_size(mf) + 1;
        _cleanup_free_ json_t **v = xmalloc(cap * sizeof(*v));
        size_t i;
        json_t *e;
        json_array_foreach(mf, i, e)
        {
                if (!fieldset_empty(entry_set(e)))
                        v[n++] = e;
        }
        qsort(v, n, sizeof(*v), cmp_entries);
        json_t *out = json_array();
        for (size_t j = 0; j < n; j++)
                json_array_append(out, v[j]);
        json_t *meta = kjson_obj_ensure(obj, "metadata");
        if (n)
                json_object_set_new(meta, "managedFields", out);
        else {
                json_decref(out);
                json_object_del(meta, "managedFields");
        }
}

/* Deep copy of the managers, every entry with an object fieldsV1. */
static json_t *copy_entries(const json_t *mf)
{
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(mf, i, e)
        {
                if (!json_is_object(e))
                        continue;
                json_t *c = json_object();
                const char *k;
                json_t *v;
                json_object_foreach(e, k, v)
                {
                        if (strcmp(k, "fieldsV1"))
                                json_object_set(c, k, v); /* scalars, never changed in place */
                        else
                                json_object_set_new(c, k, fieldset_copy(entry_set(e)));
                }
                if (!json_object_get(c, "fieldsV1"))
                        json_object_set_new(c, "fieldsV1", json_object());
                json_array_append_new(out, c);
        }
        return out;
}

/* A copy of obj without metadata.managedFields, for comparisons. */
static json_t *without_mf(const json_t *obj)
{
        json_t *c = json_is_object(obj) ? json_deep_copy(obj) : json_object();
        json_t *meta = json_object_get(c, "metadata");
        if (json_is_object(meta))
                json_object_del(meta, "managedFields");
        return c;
}

static void entry_subtract(json_t *e, const json_t *s)
{
        json_t *d = fieldset_difference(entry_set(e), s);
        json_object_set_new(e, "fieldsV1", d);
}

int managedfields_update(const json_t *old, json_t *newobj, const struct managedfields_op *op,
                         struct error *err)
{
        json_t *sent = kjson_get(newobj, "metadata.managedFields");
        _cleanup_(json_decrefp) json_t *mf = NULL;
        if (!op->subresource && json_array_size(sent) && managedfields_valid(sent))
                mf = copy_entries(sent);
        else
                mf = copy_entries(kjson_get(old, "metadata.managedFields"));
        _cleanup_(json_decrefp) json_t *empty = json_object();
        _cleanup_(json_decrefp) json_t *added = NULL;
        _cleanup_(json_decrefp) json_t *removed = NULL;
        _cleanup_(json_decrefp) json_t *modified = NULL;
        /* (the sets never hold metadata.managedFields: no copies without them needed) */
        int r = fieldset_compare(old ? old : empty, newobj, op->schema, &added, &removed, &modified,
                                 err);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *changed = fieldset_union(added, modified);
        size_t i;
        json_t *e;
        json_array_foreach(mf, i, e)
        {
                entry_subtract(e, removed);
                entry_subtract(e, changed); /* an Update takes what it changes (force) */
        }
        _cleanup_(json_decrefp) json_t *mine = json_incref(changed);
        strip_owned(mine, op); /* changed is not used after this */
        if (!fieldset_empty(mine)) {
                json_t *prev =
                        find_entry(mf, op->manager, "Update", op->subresource, op->api_version);
                if (prev) {
                        json_object_set_new(prev, "fieldsV1",
                                            fieldset_union(entry_set(prev), mine));
                        entry_set_time(prev, op->now);
                } else {
                        json_array_append_new(mf, entry_new(op->manager, "Update", op,
                                                            json_incref(mine), op->now));
                }
        }
        store_entries(newobj, mf);
        return 0;
}

/* printManager of k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go. */
static char *print_manager(const json_t *e)
{
        const char *sub = str_or_empty(e, "subresource");
        _cleanup_free_ char *base =
                *sub ? xasprintf("\"%s\" with subresource \"%s\"", str_or_empty(e, "manager"), sub)
                     : xasprintf("\"%s\"", str_or_empty(e, "manager"));
        if (!strcmp(str_or_empty(e, "operation"), "Update"))
                return xasprintf("%s using %s", base, str_or_empty(e, "apiVersion"));
        return TAKE_PTR(base);
}

static int cmp_by_manager_id(const void *pa, const void *pb)
{
        const json_t *p = *(const json_t *const *)pa, *q = *(const json_t *const *)pb;
        int c = strcmp(str_or_empty(p, "manager"), str_or_empty(q, "manager"));
        if (c)
                return c;
        if ((c = strcmp(str_or_empty(p, "operation"), str_or_empty(q, "operation"))))
                return c;
        return strcmp(str_or_empty(p, "subresource"), str_or_empty(q, "subresource"));
}

/* The conflicts of the entries' "conflict" sets, as the array and message of
 * internal.NewConflictError. */
static int conflict_error(json_t *with, json_t **ret_conflicts, struct error *err)
{
        size_t n = json_array_size(with);
        _cleanup_free_ json_t **v = xmalloc((n + 1) * sizeof(*v));
        for (size_t i = 0; i < n; i++)
                v[i] = json_array_get(with, i);
        qsort(v, n, sizeof(*v), cmp_by_manager_id);
        json_t *out = json_array();
        size_t len = 0, cap = 256;
        _cleanup_free_ char *msg = xmalloc(cap);
        msg[0] = 0;
        size_t total = 0;
        for (size_t i = 0; i < n; i++)
                total += json_array_size(json_object_get(v[i], "paths"));
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *pm = print_manager(v[i]);
                json_t *paths = json_object_get(v[i], "paths");
                size_t j;
                json_t *p;
                char *line =
                        total > 1 ? xasprintf("%sconflicts with %s:", len ? "\n" : "", pm) : NULL;
                json_array_foreach(paths, j, p)
                {
                        _cleanup_free_ char *ps = fieldset_path_string(p);
                        json_array_append_new(out,
                                              json_pack("{s:s,s:s}", "manager", pm, "field", ps));
                        if (total == 1) {
                                line = xasprintf("conflict with %s: %s", pm, ps);
                        } else {
                                char *l2 = xasprintf("%s\n- %s", line, ps);
                                free(line);
                                line = l2;
                        }
                }
                if (line) {
                        size_t ln = strlen(line);
                        if (len + ln + 1 > cap) {
                                cap = (len + ln + 1) * 2;
                                msg = xrealloc(msg, cap);
                        }
                        memcpy(msg + len, line, ln + 1);
                        len += ln;
                        free(line);
                }
        }
        *ret_conflicts = out;
        if (total == 1)
                return error_set(err, -ESTALE, "Apply failed with 1 conflict: %s", msg);
        return error_set(err, -ESTALE, "Apply failed with %zu conflicts: %s", total, msg);
}

/* The fields the live object's last-applied-configuration annotation names (lastAppliedManager:
 * conflicts there are allowed for the "kubectl" manager). NULL if none. */
static json_t *last_applied_set(const json_t *live, const struct managedfields_op *op)
{
        json_t *ann = kjson_get(live, "metadata.annotations");
        const char *la = json_string_value(json_object_get(ann, MANAGEDFIELDS_LAST_APPLIED));
        if (!la)
                return NULL;
        _cleanup_(json_decrefp) json_t *obj = json_loads(la, 0, NULL);
        _cleanup_(json_decrefp) json_t *set = NULL;
        if (!json_is_object(obj) || fieldset_from_object(obj, op->schema, &set, NULL) < 0)
                return NULL;
        /* only where the live object still has the last-applied values */
        _cleanup_(json_decrefp) json_t *l = without_mf(live);
        _cleanup_(json_decrefp) json_t *added = NULL;
        _cleanup_(json_decrefp) json_t *removed = NULL;
        _cleanup_(json_decrefp) json_t *modified = NULL;
        if (fieldset_compare(obj, l, op->schema, &added, &removed, &modified, NULL) < 0)
                return NULL;
        return fieldset_difference(set, modified);
}

static int apply_once(const json_t *live, const json_t *config, const struct managedfields_op *op,
                      bool force, const json_t *allowed, json_t **ret, json_t **ret_conflicts,
                      struct error *err)
{
        _cleanup_(json_decrefp) json_t *l = without_mf(live);
        _cleanup_(json_decrefp) json_t *mf =
                copy_entries(kjson_get(live, "metadata.managedFields"));
        _cleanup_(json_decrefp) json_t *merged = fieldset_merge(l, config, op->schema);
        _cleanup_(json_decrefp) json_t *cfgset = NULL;
        int r = fieldset_from_object(config, op->schema, &cfgset, err);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *applied = json_incref(cfgset);
        strip_owned(applied, op);
        json_t *me = find_entry(mf, op->manager, "Apply", op->subresource, NULL);
        _cleanup_(json_decrefp) json_t *last = me ? json_incref(entry_set(me)) : json_object();
        if (me) {
                json_object_set(me, "fieldsV1", applied);
                json_object_set_new(me, "apiVersion", json_string(op->api_version));
        } else {
                me = entry_new(op->manager, "Apply", op, json_incref(applied), op->now);
                json_array_append_new(mf, me);
        }
        /* Prune: what this manager applied before, no longer applies and nobody else owns. */
        _cleanup_(json_decrefp) json_t *owned = json_object();
        size_t i;
        json_t *e;
        json_array_foreach(mf, i, e)
        {
                json_t *u = fieldset_union(owned, entry_set(e));
                json_decref(owned);
                owned = u;
        }
        _cleanup_(json_decrefp) json_t *gone = fieldset_difference(last, owned);
        _cleanup_(json_decrefp) json_t *gone_paths = fieldset_members(gone);
        json_t *p;
        json_array_foreach(gone_paths, i, p)
        {
                if (!fieldset_has_prefix(owned, p))
                        fieldset_remove(merged, p, op->schema);
        }
        /* Conflicts: fields of other managers that this apply changes. */
        _cleanup_(json_decrefp) json_t *added = NULL;
        _cleanup_(json_decrefp) json_t *removed = NULL;
        _cleanup_(json_decrefp) json_t *modified = NULL;
        r = fieldset_compare(l, merged, op->schema, &added, &removed, &modified, err);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *changed = fieldset_union(added, modified);
        _cleanup_(json_decrefp) json_t *with = json_array();
        json_array_foreach(mf, i, e)
        {
                if (e == me)
                        continue;
                _cleanup_(json_decrefp) json_t *c = fieldset_intersection(entry_set(e), changed);
                if (allowed) {
                        json_t *d = fieldset_difference(c, allowed);
                        json_decref(c);
                        c = d;
                }
                if (fieldset_empty(c))
                        continue;
                json_t *w = json_deep_copy(e);
                json_object_set_new(w, "paths", fieldset_members(c));
                json_array_append_new(with, w);
        }
        if (json_array_size(with) && !force)
                return conflict_error(with, ret_conflicts, err);
        json_array_foreach(mf, i, e)
        {
                if (e == me)
                        continue;
                entry_subtract(e, changed);
                entry_subtract(e, removed);
        }
        if (!kjson_equal(l, merged))
                entry_set_time(me, op->now);
        json_t *res = json_incref(merged);
        store_entries(res, mf);
        *ret = res;
        return 0;
}

int managedfields_apply(const json_t *live, const json_t *config, const struct managedfields_op *op,
                        bool force, json_t **ret, json_t **ret_conflicts, struct error *err)
{
        json_t *cmf = kjson_get(config, "metadata.managedFields");
        if (cmf && !json_is_null(cmf))
                return error_set(err, -EBADMSG, "metadata.managedFields must be nil");
        _cleanup_(json_decrefp) json_t *cfg = json_deep_copy(config);
        json_t *cmeta = json_object_get(cfg, "metadata");
        if (json_is_object(cmeta))
                json_object_del(cmeta, "managedFields");
        json_t *res = NULL;
        int r = apply_once(live, cfg, op, force, NULL, &res, ret_conflicts, err);
        /* lastAppliedManager: kubectl's server-side apply may take the fields of the
         * client-side apply annotation. */
        if (r == -ESTALE && !strcmp(op->manager, "kubectl")) {
                _cleanup_(json_decrefp) json_t *allowed = last_applied_set(live, op);
                if (allowed) {
                        json_decref(*ret_conflicts);
                        *ret_conflicts = NULL;
                        r = apply_once(live, cfg, op, false, allowed, &res, ret_conflicts, err);
                        if (r == 0) {
                                json_decref(res);
                                res = NULL;
                                r = apply_once(live, cfg, op, true, NULL, &res, ret_conflicts, err);
                        }
                }
        }
        if (r < 0)
                return r;
        /* lastAppliedUpdater: keep an existing annotation in sync with what kubectl applied. */
        json_t *ann = kjson_get(res, "metadata.annotations");
        if (!strcmp(op->manager, "kubectl") && json_object_get(ann, MANAGEDFIELDS_LAST_APPLIED)) {
                _cleanup_(json_decrefp) json_t *c = json_deep_copy(cfg);
                json_t *ca = kjson_get(c, "metadata.annotations");
                if (json_is_object(ca)) {
                        json_object_del(ca, MANAGEDFIELDS_LAST_APPLIED);
                        if (!json_object_size(ca))
                                json_object_del(json_object_get(c, "metadata"), "annotations");
                }
                _cleanup_free_ char *s = kjson_dump(c);
                _cleanup_free_ char *v = xasprintf("%s\n", s);
                json_object_set_new(ann, MANAGEDFIELDS_LAST_APPLIED, json_string(v));
        }
        *ret = res;
        return 0;
}
