/* kubelet.c — ties the node agent together: runtime, pod workers, Node heartbeat, logs server. */
#include "kubelet/kubelet.h"

#include <stdio.h>

#include "common/log.h"
#include "kubelet/eviction.h"
#include "kubelet/node.h"
#include "kubelet/podsync.h"
#include "kubelet/runtime.h"
#include "kubelet/server.h"
#include "kubelet/staticpods.h"

#define COMP "kubelet"

struct kubelet {
        struct runtime *rt;
        struct podsync *ps;
        struct kubelet_node *node;
        struct kubelet_server *server;
        struct eviction *ev;
        struct staticpods *sp;
};

/* Eviction manager -> node heartbeat: a pressure condition changed. */
static void pressure_changed(void *ud)
{
        struct kubelet *k = ud;
        kubelet_node_kick(__atomic_load_n(&k->node, __ATOMIC_ACQUIRE));
}

/* "crun version 1.8.1\ncommit: ..." -> "crun://1.8.1" */
static char *runtime_version_string(struct runtime *rt)
{
        const char *name = runtime_get_name(rt) ?: "crun";
        const char *ver = runtime_get_version(rt) ?: "";
        _cleanup_free_ char *line = xstrndup(ver, strcspn(ver, "\n"));
        const char *sp = strrchr(line, ' ');
        return xasprintf("%s://%s", name, sp ? sp + 1 : (*line ? line : "unknown"));
}

int kubelet_start(const struct kubelet_config *cfg, struct kubelet **ret, struct error *err)
{
        if (!cfg || !cfg->kubeconfig || !cfg->data_dir)
                return error_set(err, -EINVAL, "kubelet: kubeconfig and data_dir are required");
        char name[64], ip[64];
        if (cfg->node_name && *cfg->node_name)
                snprintf(name, sizeof(name), "%s", cfg->node_name);
        else
                kubelet_node_detect_name(name);
        if (cfg->node_ip && *cfg->node_ip)
                snprintf(ip, sizeof(ip), "%s", cfg->node_ip);
        else
                kubelet_node_detect_ip(ip);

        /* the node agent flags, checked before anything starts */
        _cleanup_(json_decrefp) json_t *labels = NULL;
        _cleanup_(json_decrefp) json_t *taints = NULL;
        struct eviction_reserved reserved = {0};
        struct eviction_config ec = {
                .image_gc_high = cfg->image_gc_high,
                .image_gc_low = cfg->image_gc_low,
                .interval_ms = cfg->housekeeping_ms,
        };
        int r;
        if (cfg->eviction_hard)
                r = eviction_thresholds_parse(cfg->eviction_hard, ec.hard, err);
        else
                eviction_thresholds_default(ec.hard), r = 0;
        if (r < 0 || (r = kubelet_node_labels_parse(cfg->node_labels, &labels, err)) < 0 ||
            (r = kubelet_node_taints_parse(cfg->node_taints, &taints, err)) < 0 ||
            (r = eviction_reserved_parse(cfg->kube_reserved, &reserved, err)) < 0 ||
            (r = eviction_reserved_parse(cfg->system_reserved, &reserved, err)) < 0)
                return error_wrap(err, r, "kubelet");

        struct kubelet *k = xcalloc(1, sizeof(*k));
        _cleanup_free_ char *rtv = NULL, *manifests = NULL;
        struct runtime_config rc = {
                .data_dir = cfg->data_dir,
                .runtime_path = cfg->runtime_path,
                .cni_bin_dir = cfg->cni_bin_dir,
                .pod_cidr = cfg->pod_cidr,
                .bridge = cfg->bridge,
        };
        r = runtime_new(&rc, &k->rt, err);
        if (r < 0) {
                error_wrap(err, r, "kubelet: runtime");
                free(k);
                return r;
        }
        struct podsync_config pc = {
                .kubeconfig = cfg->kubeconfig,
                .data_dir = cfg->data_dir,
                .node_name = name,
                .node_ip = ip,
                .rt = k->rt,
                .pod_max_pids = cfg->pod_max_pids,
        };
        r = podsync_start(&pc, &k->ps, err);
        if (r < 0)
                goto fail;
        ec.data_dir = cfg->data_dir;
        ec.rt = k->rt;
        ec.ps = k->ps;
        ec.on_change = pressure_changed;
        ec.ud = k;
        r = eviction_start(&ec, &k->ev, err);
        if (r < 0)
                goto fail;
        podsync_set_admit(k->ps, eviction_admit, k->ev);
        rtv = runtime_version_string(k->rt);
        struct kubelet_node_config nc = {
                .kubeconfig = cfg->kubeconfig,
                .node_name = name,
                .node_ip = ip,
                .pod_cidr = cfg->pod_cidr,
                .data_dir = cfg->data_dir,
                .port = cfg->port > 0 ? cfg->port : 10250,
                .control_plane = cfg->control_plane,
                .runtime_version = rtv,
                .ev = k->ev,
                .reserved = reserved,
                .labels = labels,
                .taints = taints,
        };
        struct kubelet_node *node = NULL;
        r = kubelet_node_start(&nc, &node, err);
        __atomic_store_n(&k->node, node, __ATOMIC_RELEASE);
        if (r < 0)
                goto fail;
        manifests = cfg->pod_manifest_path ? xstrdup(cfg->pod_manifest_path)
                                           : xasprintf("%s/pod-manifests", cfg->data_dir);
        struct staticpods_config spc = {
                .kubeconfig = cfg->kubeconfig,
                .dir = manifests,
                .node_name = name,
        };
        r = staticpods_start(&spc, &k->sp, err);
        if (r < 0)
                goto fail;
        if (cfg->port > 0) {
                _cleanup_free_ char *cert = xasprintf("%s/tls/kubelet.crt", cfg->data_dir);
                _cleanup_free_ char *key = xasprintf("%s/tls/kubelet.key", cfg->data_dir);
                _cleanup_free_ char *ca =
                        cfg->client_ca_file ? xstrdup(cfg->client_ca_file)
                                            : xasprintf("%s/../server/tls/ca.crt", cfg->data_dir);
                struct kubelet_server_config sc = {
                        .port = cfg->port,
                        .cert_file = cert,
                        .key_file = key,
                        .client_ca_file = ca,
                        .ps = k->ps,
                        .ev = k->ev,
                        .node_name = name,
                };
                r = kubelet_server_start(&sc, &k->server, err);
                if (r < 0)
                        goto fail;
        }
        log_info(COMP, "node %s (%s) started, runtime %s", name, ip, rtv);
        *ret = k;
        return 0;
fail:
        kubelet_stop(k);
        return r;
}

void kubelet_stop(struct kubelet *k)
{
        if (!k)
                return;
        kubelet_server_stop(k->server);
        staticpods_stop(k->sp);
        eviction_stop(k->ev); /* before the node: it kicks the node's heartbeat */
        kubelet_node_stop(k->node);
        podsync_stop(k->ps);
        eviction_free(k->ev); /* after the pod workers: they call eviction_admit */
        runtime_free(k->rt);
        free(k);
}
