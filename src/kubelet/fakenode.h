/* fakenode.h — lightweight simulated nodes for scale tests (what kwok/kubemark do): N Node
 * objects ("<prefix>0".."<prefix>N-1", capacity 32 cpu / 256Gi / 110 pods, label
 * type=fake-node, taint-free, Ready) with their kube-node-lease Leases renewed every 10 s (spread
 * over the interval), and no containers: a pod bound to one of them is patched Running and Ready
 * with a podIP from 10.128.0.0/9, and a pod being deleted is finalized at once (delete with grace
 * period 0). A handful of threads serve all N nodes: one list+watch on pods, a pool of workers
 * issuing the API calls, a lease thread. */
#pragma once
#include "common/error.h"

struct fakenodes;

struct fakenodes_config {
        const char *kubeconfig;
        int count;
        const char *prefix; /* default "fake-node-" */
        int workers;        /* API writer threads (0 = 16) */
};

/* Start; returns at once (registration happens in the background). Errors: -EINVAL. */
int fakenodes_start(const struct fakenodes_config *cfg, struct fakenodes **ret, struct error *err);
/* Stop every thread and free. NULL is a no-op. Nodes stay registered. */
void fakenodes_stop(struct fakenodes *f);
