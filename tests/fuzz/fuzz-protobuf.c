/* fuzz-protobuf.c — Kubernetes protobuf request bodies through protobuf_decode_k8s. */
#include <stdint.h>
#include <stdlib.h>

#include "api/protobuf.h"
#include "common/kjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_t *j = NULL;
        if (protobuf_decode_k8s(data, size, &j, NULL) == 0) {
                char *s = kjson_dump(j);
                free(s);
                json_decref(j);
        }
        return 0;
}
