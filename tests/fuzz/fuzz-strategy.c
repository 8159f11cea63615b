/* fuzz-strategy.c — the per-kind strategies, field tables and Table printers on any JSON: the
 * first byte picks the served resource, the rest is the object. Defaults, validation (create
 * and update against itself), the unknown-field and type walkers, the scale subresource and the
 * row cells must cope with every shape (a spec that is a string, lists of numbers, ...). */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "api/fields.h"
#include "api/strategy.h"
#include "apiserver/table.h"
#include "common/kjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > 256 * 1024)
                return 0;
        size_t n;
        const struct scheme_resource *rs = scheme_resources(&n);
        const struct scheme_resource *r = &rs[data[0] % n];
        json_t *obj = NULL;
        if (kjson_parse((const char *)data + 1, size - 1, 32, &obj, NULL) < 0)
                return 0;
        if (!json_is_object(obj)) {
                json_decref(obj);
                return 0;
        }
        const struct strategy *s = strategy_for(r);
        json_t *paths = json_array();
        (void)fields_unknown(scheme_api_version(r), r->kind, obj, paths, 32);
        char buf[1024];
        (void)fields_type_error(scheme_api_version(r), r->kind, obj, buf, sizeof(buf));
        json_t *old = json_deep_copy(obj);
        strategy_prepare_create(s, r, obj, "default");
        json_t *causes = json_array();
        strategy_validate(s, r, obj, causes);
        strategy_prepare_update(s, old, obj);
        strategy_validate(s, r, old, causes);
        strategy_validate_update(s, old, obj, causes);
        json_t *scale = strategy_scale_get(s, obj);
        if (scale) {
                json_t *n2 = strategy_scale_apply(s, obj, scale, causes);
                json_decref(n2);
        }
        json_t *cells = table_row_cells(r, obj, (time_t)1767225600);
        if (!json_is_array(cells)) {
                fprintf(stderr, "no cells for %s\n", r->resource);
                abort();
        }
        json_t *cols = table_columns(r);
        json_decref(cols);
        json_decref(cells);
        json_decref(scale);
        json_decref(causes);
        json_decref(old);
        json_decref(paths);
        json_decref(obj);
        return 0;
}
