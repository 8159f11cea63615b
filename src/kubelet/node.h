/* node.h — the kubelet's Node object: registration (create, or update after a restart), status
 * (capacity, conditions, addresses, nodeInfo, images) patched every 10 s, and the
 * coordination.k8s.io/v1 Lease in kube-node-lease renewed every 10 s. One thread; retries while
 * the API server is not reachable. */
#pragma once
#include <jansson.h>

#include "common/error.h"
#include "kubelet/eviction.h"

struct kubelet_node;

struct kubelet_node_config {
        const char *kubeconfig;
        const char *node_name;
        const char *node_ip;
        const char *pod_cidr;              /* may be NULL */
        const char *data_dir;              /* DATA/agent (ephemeral-storage, images) */
        int port;                          /* kubelet port, daemonEndpoints */
        bool control_plane;                /* label node-role.kubernetes.io/control-plane=true */
        const char *runtime_version;       /* "crun://1.8.1" */
        struct eviction *ev;               /* pressure conditions and thresholds; may be NULL */
        struct eviction_reserved reserved; /* --kube-reserved + --system-reserved */
        json_t *labels;                    /* --node-label: {k: v}, may be NULL (borrowed) */
        json_t *taints;                    /* --node-taint: [{key, value, effect}], may be NULL */
};

/* Pure: "--node-label" text "k=v,k2=v2" into {k: v} (added to *ret, created if NULL). Keys and
 * values are checked like metadata.labels. -EINVAL with a message. */
int kubelet_node_labels_parse(const char *s, json_t **ret, struct error *err);
/* Pure: "--node-taint" text "key=value:Effect,key:Effect" into [{key, value?, effect}] (appended
 * to *ret, created if NULL). Effect: NoSchedule, PreferNoSchedule or NoExecute. -EINVAL. */
int kubelet_node_taints_parse(const char *s, json_t **ret, struct error *err);
/* Wake the heartbeat now (a condition changed). */
void kubelet_node_kick(struct kubelet_node *n);

int kubelet_node_start(const struct kubelet_node_config *cfg, struct kubelet_node **ret,
                       struct error *err);
void kubelet_node_stop(struct kubelet_node *n);

/* The Node object (metadata + spec + status) for this host, built from cfg and the host's
 * facts (nproc, /proc/meminfo, uname, /etc/os-release, machine-id, boot_id, image store).
 * now: unix seconds (heartbeat). Returns a new object. */
json_t *kubelet_node_build(const struct kubelet_node_config *cfg, int64_t now);

/* First IPv4 address of an UP, non-loopback interface that is not one of ours (tmnl*, cni*,
 * veth*), else "127.0.0.1". */
void kubelet_node_detect_ip(char buf[static 64]);
/* Host name, lower-cased. */
void kubelet_node_detect_name(char buf[static 64]);
