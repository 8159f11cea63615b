/* fuzz-apply.c — server-side apply on arbitrary bytes: the apply-patch decode (JSON, else
 * YAML, as the PATCH handler does), ToFieldSet, merge, prune and conflicts against a live
 * Deployment with managers, an Update comparison, and the same bytes read as a FieldsV1 set.
 * Whatever happens, the managedFields written must be valid and the sets well formed. */
#include <stdio.h>
#include <stdlib.h>

#include "api/managedfields.h"
#include "api/scheme.h"
#include "apiserver/apply.h"
#include "common/kjson.h"
#include "common/kyaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char live_json[] =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
        "\"labels\":{\"app\":\"web\"},\"finalizers\":[\"a\"],\"managedFields\":[{\"manager\":"
        "\"kubectl-client-side-apply\",\"operation\":\"Update\",\"apiVersion\":\"apps/v1\","
        "\"time\":\"2026-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":"
        "{\"f:replicas\":{},\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":"
        "\\\"c\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{}}}}}}}},{\"manager\":\"kubectl\","
        "\"operation\":\"Apply\",\"apiVersion\":\"apps/v1\",\"time\":\"2026-01-01T00:00:00Z\","
        "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}}}}]}"
        ","
        "\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{"
        "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
        "\"image\":\"i\",\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}]}]}}}}";

static void check_result(const json_t *obj)
{
        json_t *mf = kjson_get(obj, "metadata.managedFields");
        if (mf && !managedfields_valid(mf)) {
                char *s = kjson_dump(mf);
                fprintf(stderr, "invalid managedFields written: %s\n", s);
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct error err = {0};
        json_t *cfg = NULL;
        if (kjson_parse((const char *)data, size, 32, &cfg, &err) < 0 &&
            kyaml_parse_one((const char *)data, size, &cfg, &err) < 0)
                return 0;
        const struct scheme_resource *r = scheme_lookup("apps", "v1", "deployments");
        json_t *live = json_loads(live_json, 0, NULL);
        if (!r || !live)
                abort();
        struct managedfields_op op = {
                .manager = "fuzz", .api_version = "apps/v1", .schema = apply_schema(r), .now = 1};
        /* the bytes as a FieldsV1 set */
        if (fieldset_valid(cfg)) {
                json_t *m = fieldset_members(cfg);
                size_t i;
                json_t *p;
                json_array_foreach(m, i, p) free(fieldset_path_string(p));
                json_t *u = fieldset_union(cfg, cfg);
                json_t *d = fieldset_difference(u, cfg);
                if (!fieldset_valid(u) || !fieldset_empty(d))
                        abort();
                json_decref(u);
                json_decref(d);
                json_decref(m);
        }
        if (json_is_object(cfg)) {
                for (int force = 0; force < 2; force++) {
                        json_t *res = NULL, *conflicts = NULL;
                        int rc = managedfields_apply(live, cfg, &op, force, &res, &conflicts, &err);
                        if (rc == 0) {
                                check_result(res);
                                json_decref(res);
                        } else if (rc == -ESTALE && (force || !json_array_size(conflicts))) {
                                abort(); /* force never conflicts; a conflict names a field */
                        }
                        json_decref(conflicts);
                }
                json_t *created = NULL, *conflicts = NULL;
                if (managedfields_apply(NULL, cfg, &op, false, &created, &conflicts, &err) == 0) {
                        check_result(created);
                        json_decref(created);
                }
                json_decref(conflicts);
                json_t *upd = json_deep_copy(cfg);
                if (managedfields_update(live, upd, &op, &err) == 0)
                        check_result(upd);
                json_decref(upd);
        }
        json_decref(live);
        json_decref(cfg);
        return 0;
}
