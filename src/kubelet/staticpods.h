/* staticpods.h — static pods: Pod manifests (*.yaml, *.yml, *.json; dotfiles ignored) in a
 * directory (--pod-manifest-path) that this node runs without anyone creating them. As the
 * kubelet, each one appears in the API as a mirror pod named <name>-<node> with the annotations
 * kubernetes.io/config.mirror / config.hash / config.source=file / config.seen, an owner
 * reference to the Node and a NoExecute toleration; a changed manifest replaces the mirror pod
 * (new hash), a removed one deletes it, a deleted mirror pod is created again.
 * Unlike the kubelet, the pod runs through its mirror pod (the API server must be reachable for a
 * static pod to start). One thread, rescanning every 2 s. */
#pragma once
#include <jansson.h>

#include "common/error.h"

struct staticpods;

struct staticpods_config {
        const char *kubeconfig;
        const char *dir; /* created if missing */
        const char *node_name;
};

int staticpods_start(const struct staticpods_config *cfg, struct staticpods **ret,
                     struct error *err);
void staticpods_stop(struct staticpods *sp);

/* Pure: the mirror pod of manifest (a Pod object) for node, with hash (hex of the manifest's
 * text) and node_uid (may be NULL). -EINVAL (message) if it is not a Pod with a name. */
int staticpods_mirror(json_t *manifest, const char *node, const char *node_uid, const char *hash,
                      const char *seen, json_t **ret, struct error *err);
