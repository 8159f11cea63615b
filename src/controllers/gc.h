/* gc.h — the garbage collector (pkg/controller/garbagecollector), for the dependents the
 * manager's informers see (pods, ReplicaSets, Deployments, Jobs) and owners of any kind:
 * - a dependent whose owners are all gone (verified with a live GET: 404 or another uid) is
 *   deleted (background; foreground if it carries the foregroundDeletion finalizer itself);
 *   references to absent owners are removed while another owner remains;
 * - an owner deleted with propagationPolicy Orphan (the API server adds the "orphan"
 *   finalizer) has its ownerReference removed from every dependent, then the finalizer;
 * - an owner deleted with Foreground ("foregroundDeletion") has its dependents deleted, and
 *   the finalizer is removed once no dependent with blockOwnerDeletion remains. */
#pragma once
#include <jansson.h>

#include "common/base.h"

/* Collection path of the owner a reference points at ("/apis/apps/v1/namespaces/ns/
 * replicasets"), from its apiVersion and kind via the scheme; NULL for an unknown kind.
 * Caller frees. ns is used only for namespaced kinds. */
char *gc_owner_collection(const json_t *ref, const char *ns);
