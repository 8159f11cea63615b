/* fuzz-yaml.c — kyaml_parse_all on arbitrary bytes; whatever parses must survive
 * dump -> parse unchanged. */
#include <stdio.h>

#include "common/kjson.h"
#include "common/kyaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct error err = {0};
        json_t *docs = NULL;
        if (size > 64 * 1024)
                return 0;
        if (kyaml_parse_all((const char *)data, size, &docs, &err) < 0)
                return 0;
        char *out = kyaml_dump_all(docs);
        json_t *back = NULL;
        int r = kyaml_parse_all(out, strlen(out), &back, &err);
        /* documents that are JSON null are skipped on reading, never produced by parse_all */
        if (r < 0 || !kjson_equal(docs, back)) {
                fprintf(stderr, "round trip failed (%d %s):\n%s\n", r, err.msg, out);
                abort();
        }
        free(out);
        json_decref(back);
        json_decref(docs);
        return 0;
}
