/* fuzz-crdschema.c — the structural schema code of api/crd.c on untrusted input: the input is a
 * JSON array [schema, object, jsonpath?]; the schema goes through the CRD rules (also inside a
 * whole CRD), then the object through pruning, defaulting and validation, and the jsonpath
 * (a string) is evaluated on the object. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/crd.h"
#include "common/kjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 1 << 16)
                return 0;
        json_t *in = NULL;
        if (kjson_parse((const char *)data, size, 0, &in, NULL) < 0)
                return 0;
        json_t *schema = json_array_get(in, 0);
        json_t *obj = json_array_get(in, 1);
        const char *jp = json_string_value(json_array_get(in, 2));
        json_t *causes = json_array();
        if (schema) {
                crd_schema_check(schema, "spec.versions[0].schema.openAPIV3Schema", causes);
                json_t *crd = json_pack(
                        "{s:s,s:s,s:{s:s},s:{s:s,s:s,s:{s:s,s:s},s:[{s:s,s:b,s:b,s:{s:O}}]}}",
                        "apiVersion", "apiextensions.k8s.io/v1", "kind", "CustomResourceDefinition",
                        "metadata", "name", "foos.example.com", "spec", "group", "example.com",
                        "scope", "Namespaced", "names", "plural", "foos", "kind", "Foo", "versions",
                        "name", "v1", "served", 1, "storage", 1, "schema", "openAPIV3Schema",
                        schema);
                if (crd) {
                        crd_defaults(crd);
                        crd_validate(crd, causes);
                        crd_status_establish(crd, NULL, "2026-01-01T00:00:00Z");
                        json_decref(crd);
                }
        }
        if (schema && obj) {
                json_t *o = json_deep_copy(obj);
                json_t *unknown = json_array();
                crd_schema_prune(schema, o, unknown, 32);
                crd_schema_default(schema, o);
                crd_schema_validate(schema, o, causes);
                json_decref(unknown);
                json_decref(o);
        }
        if (obj && jp)
                (void)crd_jsonpath(obj, jp);
        json_decref(causes);
        json_decref(in);
        return 0;
}
