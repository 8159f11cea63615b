/* kubelet.h — the node agent: registers the Node, keeps its Lease fresh, runs the pods bound to
 * this node (sandbox + containers through the runtime), reports their status, and serves
 * container logs on its HTTPS port. All work happens on the kubelet's own threads. */
#pragma once
#include "common/error.h"

struct kubelet;

struct kubelet_config {
        const char *kubeconfig;     /* credentials for the API server */
        const char *data_dir;       /* DATA/agent */
        const char *node_name;      /* NULL = hostname */
        const char *node_ip;        /* NULL = first non-loopback IPv4, else 127.0.0.1 */
        const char *pod_cidr;       /* e.g. 10.42.0.0/24 */
        const char *bridge;         /* host bridge of the pods; NULL = tmnl0 */
        const char *runtime_path;   /* NULL = auto (crun or runc) */
        const char *cni_bin_dir;    /* NULL = /usr/lib/cni */
        int port;                   /* 10250; 0 = do not serve */
        const char *client_ca_file; /* verify the API server's client certs; NULL =
                                       DATA/../server/tls/ca.crt */
        bool control_plane;         /* label node-role.kubernetes.io/control-plane=true */
        /* node agent settings (the kubelet's flags of the same names) */
        const char *node_labels;         /* --node-label k=v[,k=v...] */
        const char *node_taints;         /* --node-taint key[=value]:Effect[,...] */
        const char *kube_reserved;       /* --kube-reserved cpu=100m,memory=256Mi,... */
        const char *system_reserved;     /* --system-reserved, same form */
        const char *eviction_hard;       /* --eviction-hard; NULL = the kubelet's defaults */
        int image_gc_high, image_gc_low; /* --image-gc-{high,low}-threshold; 0 = 85 / 80 */
        int64_t pod_max_pids;            /* --pod-max-pids; <= 0 = unlimited */
        const char *pod_manifest_path;   /* --pod-manifest-path; NULL = DATA/agent/pod-manifests */
        int housekeeping_ms;             /* eviction/stats interval; 0 = 10000 */
};

/* Start the kubelet's threads and return at once. The API server need not be up yet: the
 * kubelet retries until it is. Copies what it needs from cfg. Errors: the runtime or the
 * logs server could not be set up (err says why). */
int kubelet_start(const struct kubelet_config *cfg, struct kubelet **ret, struct error *err);
/* Stop the threads and free k. Containers keep running (a new kubelet adopts them). */
void kubelet_stop(struct kubelet *k);
