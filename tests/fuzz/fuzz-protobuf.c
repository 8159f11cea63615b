/* fuzz-protobuf.c — api/protobuf.c's protobuf_decode_k8s on arbitrary bytes: must never
 * crash or leak, must return either 0 with a JSON object carrying "kind", or a negative errno
 * without touching *ret; the object must serialize. Corpus: real kubectl 1.32 bodies. */
#include <stdio.h>

#include "api/protobuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct error err = {0};
        json_t *j = NULL;
        int r = protobuf_decode_k8s(data, size, &j, &err);
        if (r == 0) {
                if (!json_is_object(j) || !json_is_string(json_object_get(j, "kind")))
                        abort();
                char *s = json_dumps(j, JSON_COMPACT);
                if (!s)
                        abort();
                free(s);
                json_decref(j);
        } else if (r > 0 || j) {
                abort();
        }
        return 0;
}
