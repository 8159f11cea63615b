/* storage.c — PV, PVC and StorageClass rules (see storage.h). */
#include "api/storage.h"

#include <stdio.h>
#include <time.h>

#include "api/meta.h"
#include "api/strategy.h"
#include "common/kjson.h"
#include "common/timefmt.h"

static void set_default(json_t *obj, const char *key, json_t *v)
{
        if (!json_object_get(obj, key) || json_is_null(json_object_get(obj, key)))
                json_object_set_new(obj, key, v);
        else
                json_decref(v);
}

static const char *const access_modes[] = {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany",
                                           "ReadWriteOncePod", NULL};

static void validate_access_modes(const json_t *spec, json_t *causes, const char *required_msg)
{
        const json_t *am = json_object_get(spec, "accessModes");
        if (!json_array_size(am)) {
                meta_cause_add(causes, "FieldValueRequired", "spec.accessModes", NULL,
                               required_msg);
                return;
        }
        size_t i;
        json_t *m;
        json_array_foreach(am, i, m)
        {
                const char *s = json_string_value(m);
                bool ok = false;
                for (const char *const *a = access_modes; *a; a++)
                        ok |= s && !strcmp(s, *a);
                if (!ok)
                        meta_cause_add(causes, "FieldValueNotSupported", "spec.accessModes",
                                       s ? s : "",
                                       "supported values: \"ReadOnlyMany\", \"ReadWriteMany\", "
                                       "\"ReadWriteOnce\", \"ReadWriteOncePod\"");
        }
}

void storage_pv_defaults(json_t *obj)
{
        json_t *spec = kjson_obj_ensure(obj, "spec");
        set_default(spec, "persistentVolumeReclaimPolicy", json_string("Retain"));
        set_default(spec, "volumeMode", json_string("Filesystem"));
        json_t *status = kjson_obj_ensure(obj, "status");
        if (!kjson_str(status, "phase")) {
                char ts[32];
                timefmt_rfc3339(ts, time(NULL));
                json_object_set_new(status, "phase", json_string("Pending"));
                set_default(status, "lastPhaseTransitionTime", json_string(ts));
        }
}

void storage_pv_validate(const json_t *obj, json_t *causes)
{
        static const char *const sources[] = {"hostPath",
                                              "nfs",
                                              "local",
                                              "csi",
                                              "iscsi",
                                              "fc",
                                              "rbd",
                                              "cephfs",
                                              "glusterfs",
                                              "flexVolume",
                                              "cinder",
                                              "flocker",
                                              "azureFile",
                                              "azureDisk",
                                              "vsphereVolume",
                                              "quobyte",
                                              "photonPersistentDisk",
                                              "portworxVolume",
                                              "scaleIO",
                                              "storageos",
                                              "gcePersistentDisk",
                                              "awsElasticBlockStore"};
        const json_t *spec = json_object_get(obj, "spec");
        validate_access_modes(spec, causes, "");
        if (!json_object_size(json_object_get(spec, "capacity")))
                meta_cause_add(causes, "FieldValueRequired", "spec.capacity", NULL, "");
        else if (!json_object_get(json_object_get(spec, "capacity"), "storage"))
                meta_cause_add(causes, "FieldValueRequired", "spec.capacity", NULL,
                               "must specify storage");
        size_t n = 0;
        for (size_t i = 0; i < ARRAY_SIZE(sources); i++)
                n += json_object_get(spec, sources[i]) != NULL;
        if (!n)
                meta_cause_add(causes, "FieldValueRequired", "spec", NULL,
                               "must specify a volume type");
        else if (n > 1)
                meta_cause_add(causes, "FieldValueForbidden", "spec", NULL,
                               "may not specify more than 1 volume type");
        const char *rp = kjson_str(spec, "persistentVolumeReclaimPolicy");
        if (rp && strcmp(rp, "Retain") && strcmp(rp, "Delete") && strcmp(rp, "Recycle"))
                meta_cause_add(causes, "FieldValueNotSupported",
                               "spec.persistentVolumeReclaimPolicy", rp,
                               "supported values: \"Delete\", \"Recycle\", \"Retain\"");
}

void storage_pvc_defaults(json_t *obj)
{
        json_t *spec = kjson_obj_ensure(obj, "spec");
        set_default(spec, "volumeMode", json_string("Filesystem"));
        set_default(kjson_obj_ensure(obj, "status"), "phase", json_string("Pending"));
}

void storage_pvc_validate(const json_t *obj, json_t *causes)
{
        const json_t *spec = json_object_get(obj, "spec");
        validate_access_modes(spec, causes, "at least 1 access mode is required");
        if (!kjson_get(spec, "resources.requests.storage"))
                meta_cause_add(causes, "FieldValueRequired", "spec.resources[storage]", NULL, "");
}

void storage_pvc_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes)
{
        json_t *a = json_deep_copy(json_object_get(newobj, "spec"));
        json_t *b = json_deep_copy(json_object_get(oldobj, "spec"));
        kjson_del_path(a, "resources.requests");
        kjson_del_path(b, "resources.requests");
        json_object_del(a, "volumeAttributesClassName");
        json_object_del(b, "volumeAttributesClassName");
        /* the binder fills volumeName once */
        if (!kjson_str(b, "volumeName"))
                json_object_del(a, "volumeName");
        /* a claim without a class may get one once (retroactive default StorageClass) */
        if (!kjson_str(b, "storageClassName")) {
                json_object_del(a, "storageClassName");
                json_object_del(b, "storageClassName");
        }
        if (!kjson_equal(a, b))
                meta_cause_add(causes, "FieldValueForbidden", "spec", NULL,
                               "spec is immutable after creation except resources.requests and "
                               "volumeAttributesClassName for bound claims");
        json_decref(a);
        json_decref(b);
}

void storage_class_defaults(json_t *obj)
{
        set_default(obj, "reclaimPolicy", json_string("Delete"));
        set_default(obj, "volumeBindingMode", json_string("Immediate"));
}

void storage_class_validate(const json_t *obj, json_t *causes)
{
        const char *p = kjson_str(obj, "provisioner");
        if (!p || !*p)
                meta_cause_add(causes, "FieldValueRequired", "provisioner", NULL, "");
        const char *rp = kjson_str(obj, "reclaimPolicy");
        if (rp && strcmp(rp, "Delete") && strcmp(rp, "Retain"))
                meta_cause_add(causes, "FieldValueNotSupported", "reclaimPolicy", rp,
                               "supported values: \"Delete\", \"Retain\"");
        const char *bm = kjson_str(obj, "volumeBindingMode");
        if (bm && strcmp(bm, "Immediate") && strcmp(bm, "WaitForFirstConsumer"))
                meta_cause_add(causes, "FieldValueNotSupported", "volumeBindingMode", bm,
                               "supported values: \"Immediate\", \"WaitForFirstConsumer\"");
}

void storage_class_validate_update(const json_t *newobj, const json_t *oldobj, json_t *causes)
{
        static const char *const fields[] = {"parameters", "provisioner", "reclaimPolicy"};
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                if (kjson_equal(json_object_get(newobj, fields[i]),
                                json_object_get(oldobj, fields[i])))
                        continue;
                char d[96];
                snprintf(d, sizeof(d), "updates to %s are forbidden.", fields[i]);
                meta_cause_add(causes, "FieldValueForbidden", fields[i], NULL, d);
        }
        strategy_check_immutable(newobj, oldobj, "volumeBindingMode", causes);
}
