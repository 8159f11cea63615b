/* fuzz-json.c — kjson_parse on arbitrary bytes; dump -> parse must give the same tree, and
 * the dotted-path helpers must cope with any shape. */
#include <stdio.h>

#include "common/kjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct error err = {0};
        json_t *j = NULL;
        if (kjson_parse((const char *)data, size, 32, &j, &err) < 0)
                return 0;
        char *s = kjson_dump(j);
        json_t *back = NULL;
        if (kjson_parse(s, strlen(s), 32, &back, &err) < 0 || !kjson_equal(j, back)) {
                fprintf(stderr, "round trip failed: %s\n", s);
                abort();
        }
        (void)kjson_str(j, "metadata.name");
        (void)kjson_int(j, "metadata.generation", 0);
        (void)kjson_get(j, "a..b");
        if (json_is_object(j)) {
                kjson_set_str(j, "metadata.labels.x", "y");
                kjson_del_path(j, "spec.x");
                (void)kjson_obj_ensure_path(j, "status.conditions");
        }
        free(s);
        json_decref(back);
        json_decref(j);
        return 0;
}
