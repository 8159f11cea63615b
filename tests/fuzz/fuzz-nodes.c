/* fuzz-nodes.c — the pure parts of the node lifecycle and endpoint controllers on hostile
 * input. First byte selects: 0 CIDR allocation (cluster CIDR, then used CIDRs, NUL-separated),
 * 1 tolerations vs taints (JSON {"tolerations": .., "taints": ..}), 2 a Service and its pods
 * (JSON {"svc": .., "pods": [..]}) through Endpoints subsets, EndpointSlice packing (max 3, so
 * the chunking runs) and the trigger time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/base.h"
#include "common/kjson.h"
#include "controllers/endpoints.h"
#include "controllers/nodelifecycle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > 1 << 16)
                return 0;
        uint8_t mode = data[0] % 3;
        const char *body = (const char *)data + 1;
        size_t len = size - 1;
        if (mode == 0) {
                char *buf = xstrndup(body, len);
                const char *parts[64];
                size_t n = 0;
                /* xstrndup stops at the first NUL: split on newlines instead */
                for (char *save = NULL, *t = strtok_r(buf, "\n", &save); t && n < 64;
                     t = strtok_r(NULL, "\n", &save))
                        parts[n++] = t;
                char out[32];
                if (n > 0)
                        nodelifecycle_cidr_next(parts[0], parts + 1, n - 1, out);
                free(buf);
                return 0;
        }
        json_t *obj = NULL;
        if (kjson_parse(body, len, 64, &obj, NULL) < 0)
                return 0;
        if (mode == 1) {
                nodelifecycle_toleration_seconds(json_object_get(obj, "tolerations"),
                                                 json_object_get(obj, "taints"));
        } else {
                json_t *svc = json_object_get(obj, "svc"), *pods = json_object_get(obj, "pods");
                json_decref(endpoints_subsets_build(svc, pods));
                json_decref(endpoints_slices_build(svc, pods, 3));
                free(endpoints_trigger_time(svc, pods));
        }
        json_decref(obj);
        return 0;
}
