/* fuzz-apirequest.c — a request body through the API server's pure paths: JSON/YAML decode,
 * create-time bookkeeping, pod defaults and validation, the three patch flavours against a
 * fixed pod, and the Table printers. Input: first byte selects the mode, the rest is the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/meta.h"
#include "api/pod.h"
#include "api/scheme.h"
#include "apiserver/patch.h"
#include "apiserver/table.h"
#include "common/kjson.h"
#include "common/kyaml.h"

static const char *base_pod =
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"d\","
        "\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\","
        "\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"ports\":[{\"containerPort\":80}]}]},"
        "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}"
        "]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > 1 << 16)
                return 0;
        uint8_t mode = data[0];
        const char *body = (const char *)data + 1;
        size_t len = size - 1;
        json_t *obj = NULL;
        if (kjson_parse(body, len, 0, &obj, NULL) < 0 && kyaml_parse_one(body, len, &obj, NULL) < 0)
                return 0;
        if (!json_is_object(obj) && !json_is_array(obj)) {
                json_decref(obj);
                return 0;
        }
        json_t *pod = NULL;
        kjson_parse(base_pod, strlen(base_pod), 0, &pod, NULL);
        json_t *res = NULL;
        switch (mode % 4) {
        case 0:
                if (json_is_object(obj)) {
                        json_t *causes = json_array();
                        meta_prepare_create(obj, "default");
                        pod_defaults(obj);
                        meta_validate_object_meta(obj, true, false, causes);
                        pod_validate(obj, causes);
                        pod_validate_update(obj, pod, causes);
                        char *m = meta_causes_message("Pod", "p", causes);
                        free(m);
                        json_decref(causes);
                }
                break;
        case 1:
                patch_merge(pod, obj, &res, NULL);
                break;
        case 2:
                patch_json(pod, obj, &res, NULL);
                break;
        case 3:
                patch_strategic(pod, obj, &res, NULL);
                break;
        }
        size_t n;
        const struct scheme_resource *rs = scheme_resources(&n);
        json_t *arr = json_array();
        json_array_append(arr, res ? res : obj);
        json_t *t = table_new(&rs[mode % n], arr, TABLE_INCLUDE_METADATA, true, 1767225600);
        char *s = kjson_dump(t);
        free(s);
        json_decref(t);
        json_decref(arr);
        json_decref(res);
        json_decref(pod);
        json_decref(obj);
        return 0;
}
