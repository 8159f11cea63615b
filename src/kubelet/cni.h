/* cni.h — pod network namespaces and CNI plugin invocation (bridge + host-local IPAM).
 * Loopback is brought up in-process when the namespace is created (no loopback plugin exec). */
#pragma once
#include "common/error.h"

struct cni_net {
        char *bin_dir; /* /usr/lib/cni */
        char *conf;    /* network config JSON given to the bridge plugin on stdin */
        char *name;    /* network name ("timonel") */
};

/* Pure: the bridge network config (cniVersion 1.0.0, isGateway, no ipMasq, hairpin, host-local
 * with ipam_dir as dataDir, subnet = pod_cidr, no routes: pods get no default route).
 * Caller frees. */
char *cni_conf_build(const char *name, const char *bridge, const char *pod_cidr,
                     const char *ipam_dir);
/* Pure: conf (a bridge config as above) with {"dst": dst} added to ipam.routes: a route through
 * the bridge's gateway, e.g. for the cluster CIDR, so that pods reach the pods of other nodes'
 * bridges through the host. Caller frees; conf unchanged if it does not parse. */
char *cni_conf_add_route(const char *conf, const char *dst);
/* Pure: first IPv4 address of a CNI result ("ips": [{"address": "10.42.0.5/24"}]) into
 * *ret_ip (caller frees, without the prefix length). -EPROTO malformed. */
int cni_result_ip(const char *buf, size_t len, char **ret_ip, struct error *err);

/* Create a network namespace pinned at path (an nsfs bind mount; the file is created), with
 * lo up. -EEXIST if path already holds a namespace. */
int cni_netns_create(const char *path, struct error *err);
/* Unmount and unlink path. Absent: 0. */
int cni_netns_remove(const char *path, struct error *err);
/* True if path is a mounted network namespace. */
bool cni_netns_exists(const char *path);

/* CNI ADD / DEL of the bridge plugin for container id (the pod uid) on ifname eth0.
 * ADD returns the IP (caller frees). DEL with netns_path NULL only frees the IPAM lease. */
int cni_add(const struct cni_net *net, const char *id, const char *netns_path, char **ret_ip,
            struct error *err);
int cni_del(const struct cni_net *net, const char *id, const char *netns_path, struct error *err);
