/* table.h — server-side printing (meta.k8s.io/v1 Table) as Kubernetes' printers do
 * (pkg/printers/internalversion/printers.go). Cells for every column are always produced (as
 * the real server does, Wide); kubectl hides priority>0 columns unless -o wide. Pure. */
#pragma once
#include <jansson.h>
#include <time.h>

#include "api/scheme.h"

enum table_include { TABLE_INCLUDE_METADATA = 0, TABLE_INCLUDE_NONE, TABLE_INCLUDE_OBJECT };

/* A Table for objs (array of full objects with kind/apiVersion, borrowed). now = the time AGE is
 * computed against. with_columns=false omits columnDefinitions (watch events after the first).
 * New reference. */
json_t *table_new(const struct scheme_resource *r, const json_t *objs, enum table_include inc,
                  bool with_columns, time_t now);
/* The cells of one row (new array). */
json_t *table_row_cells(const struct scheme_resource *r, const json_t *obj, time_t now);
/* The column definitions (new array). */
json_t *table_columns(const struct scheme_resource *r);
