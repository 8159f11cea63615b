/* nodelifecycle.h — pure parts of the node lifecycle controller (nodelifecycle.c): pod CIDR
 * allocation (nodeipam's range allocator) and NoExecute taint toleration (the taint manager's
 * getMinTolerationTime). Unit-tested in tests/unit/controllers/test-nodelifecycle.c. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/base.h"

/* The first /24 of cluster (an IPv4 CIDR with a prefix of 8..24, e.g. "10.42.0.0/16") that
 * neither equals nor overlaps any CIDR in used[0..n_used) (malformed entries are ignored),
 * written as "a.b.c.0/24" to ret. Errors: -EINVAL bad cluster CIDR, -ENOSPC all taken. */
int nodelifecycle_cidr_next(const char *cluster, const char *const *used, size_t n_used,
                            char ret[32]);

/* Whether toleration tol tolerates taint (v1.Toleration.ToleratesTaint: same effect or the
 * toleration's is empty; operator Exists with an empty key matches every key; Equal (or unset)
 * compares values). */
bool nodelifecycle_tolerates(const json_t *tol, const json_t *taint);

#define NODELIFECYCLE_EVICT_NOW (-2)
#define NODELIFECYCLE_TOLERATE_FOREVER (-1)
/* For the NoExecute taints among taints (other effects are ignored) and the pod's
 * tolerations: NODELIFECYCLE_EVICT_NOW when some NoExecute taint is not tolerated,
 * NODELIFECYCLE_TOLERATE_FOREVER when every matching toleration has no tolerationSeconds (or
 * there are no NoExecute taints), else the smallest tolerationSeconds of the tolerations used
 * (negative values count as 0). */
int64_t nodelifecycle_toleration_seconds(const json_t *tolerations, const json_t *taints);
