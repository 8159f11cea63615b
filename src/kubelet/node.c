/* node.c — Node registration, status heartbeat and Lease renewal (see node.h). */
#include "kubelet/node.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>

#include "api/meta.h"
#include "api/quantity.h"
#include "client/client.h"
#include "common/kjson.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "kubelet/images.h"

#define COMP "kubelet"
#define HEARTBEAT_S 10
#define LEASE_NS "kube-node-lease"
#define KUBELET_VERSION "v1.31.0-timonel"

struct kubelet_node {
        struct kubelet_node_config cfg; /* strings owned (copies) */
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stopping; /* protected by lock */
        /* thread-only: */
        bool registered;
        struct {
                char status[8];
                char since[32];
                bool announce; /* changed: post the kubelet's node event */
        } conds[4]; /* MemoryPressure, DiskPressure, PIDPressure, Ready: last transition */
};

int kubelet_node_labels_parse(const char *s, json_t **ret, struct error *err)
{
        json_t *out = *ret ? json_incref(*ret) : json_object();
        for (const char *p = s; p && *p;) {
                const char *c = strchr(p, ',');
                size_t len = c ? (size_t)(c - p) : strlen(p);
                _cleanup_free_ char *kv = xstrndup(p, len);
                char *eq = strchr(kv, '=');
                char msg[256];
                if (!eq) {
                        json_decref(out);
                        return error_set(err, -EINVAL, "invalid node label \"%s\": want key=value",
                                         kv);
                }
                *eq = 0;
                if (meta_qualified_name_error(kv, msg, sizeof(msg)) ||
                    meta_label_value_error(eq + 1, msg, sizeof(msg))) {
                        json_decref(out);
                        return error_set(err, -EINVAL, "invalid node label \"%s=%s\": %s", kv,
                                         eq + 1, msg);
                }
                json_object_set_new(out, kv, json_string(eq + 1));
                p = c ? c + 1 : NULL;
        }
        json_decref(*ret);
        *ret = out;
        return 0;
}

int kubelet_node_taints_parse(const char *s, json_t **ret, struct error *err)
{
        json_t *out = *ret ? json_incref(*ret) : json_array();
        for (const char *p = s; p && *p;) {
                const char *c = strchr(p, ',');
                size_t len = c ? (size_t)(c - p) : strlen(p);
                _cleanup_free_ char *t = xstrndup(p, len);
                char *colon = strrchr(t, ':');
                char msg[256];
                const char *effect = colon ? colon + 1 : "";
                if (!colon || (strcmp(effect, "NoSchedule") && strcmp(effect, "PreferNoSchedule") &&
                               strcmp(effect, "NoExecute"))) {
                        json_decref(out);
                        return error_set(err, -EINVAL,
                                         "invalid node taint \"%s\": want key[=value]:effect with "
                                         "effect NoSchedule, PreferNoSchedule or NoExecute",
                                         t);
                }
                *colon = 0;
                char *eq = strchr(t, '=');
                if (eq)
                        *eq = 0;
                if (meta_qualified_name_error(t, msg, sizeof(msg)) ||
                    (eq && meta_label_value_error(eq + 1, msg, sizeof(msg)))) {
                        json_decref(out);
                        return error_set(err, -EINVAL, "invalid node taint key/value %s: %s", t,
                                         msg);
                }
                json_t *o = json_pack("{s:s}", "key", t);
                if (eq && eq[1])
                        json_object_set_new(o, "value", json_string(eq + 1));
                json_object_set_new(o, "effect", json_string(effect));
                json_array_append_new(out, o);
                p = c ? c + 1 : NULL;
        }
        json_decref(*ret);
        *ret = out;
        return 0;
}

void kubelet_node_detect_ip(char buf[static 64])
{
        struct ifaddrs *ifa = NULL;
        snprintf(buf, 64, "127.0.0.1");
        if (getifaddrs(&ifa) < 0)
                return;
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
                        continue;
                if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
                        continue;
                if (!strncmp(i->ifa_name, "tmnl", 4) || !strncmp(i->ifa_name, "cni", 3) ||
                    !strncmp(i->ifa_name, "veth", 4))
                        continue;
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, 64);
                break;
        }
        freeifaddrs(ifa);
}

void kubelet_node_detect_name(char buf[static 64])
{
        if (gethostname(buf, 64) < 0)
                snprintf(buf, 64, "localhost");
        buf[63] = '\0';
        for (char *p = buf; *p; p++)
                *p = (char)tolower((unsigned char)*p);
}

static char *read_line(const char *path)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[512];
        if (!f || !fgets(line, sizeof(line), f))
                return NULL;
        line[strcspn(line, "\n")] = '\0';
        return xstrdup(line);
}

static char *os_pretty_name(void)
{
        _cleanup_fclose_ FILE *f = fopen("/etc/os-release", "re");
        char line[512];
        while (f && fgets(line, sizeof(line), f)) {
                if (strncmp(line, "PRETTY_NAME=", 12))
                        continue;
                char *v = line + 12;
                v[strcspn(v, "\n")] = '\0';
                size_t l = strlen(v);
                if (l >= 2 && (v[0] == '"' || v[0] == '\'') && v[l - 1] == v[0]) {
                        v[l - 1] = '\0';
                        v++;
                }
                return xstrdup(v);
        }
        return xstrdup("Linux");
}

static int64_t mem_total_kib(void)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
        char line[256];
        long long kb = 0;
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "MemTotal: %lld kB", &kb) == 1)
                        break;
        return kb;
}

static json_t *condition(const char *type, const char *status, const char *reason,
                         const char *message, const char *heartbeat, const char *transition)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type, "status", status,
                         "lastHeartbeatTime", heartbeat, "lastTransitionTime", transition, "reason",
                         reason, "message", message);
}

static json_t *images_json(const char *data_dir)
{
        json_t *arr = json_array();
        _cleanup_free_ char *dir = xasprintf("%s/images", data_dir);
        struct image_entry *list = NULL;
        size_t n = 0;
        if (images_list(dir, &list, &n, NULL) < 0)
                return arr;
        json_t *by_id = json_object(); /* id -> entry */
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_object_get(by_id, list[i].id);
                if (!e) {
                        e = json_pack("{s:[], s:I}", "names", "sizeBytes",
                                      (json_int_t)list[i].size);
                        json_object_set_new(by_id, list[i].id, e);
                        json_array_append_new(arr, json_incref(e));
                }
                json_t *names = json_object_get(e, "names");
                if (list[i].name && list[i].digest) {
                        _cleanup_free_ char *repo = xstrdup(list[i].name);
                        char *colon = strrchr(repo, ':');
                        if (colon && !strchr(colon, '/'))
                                *colon = '\0';
                        json_array_insert_new(names, 0,
                                              json_sprintf("%s@%s", repo, list[i].digest));
                }
                if (list[i].name)
                        json_array_append_new(names, json_string(list[i].name));
                else
                        json_array_append_new(names, json_string(list[i].id));
        }
        json_decref(by_id);
        images_list_free(list, n);
        return arr;
}

json_t *kubelet_node_build(const struct kubelet_node_config *cfg, int64_t now)
{
        char hb[32];
        timefmt_rfc3339(hb, (time_t)now);
        struct utsname un;
        if (uname(&un) < 0)
                memset(&un, 0, sizeof(un));
        const char *arch = !strcmp(un.machine, "x86_64")    ? "amd64"
                           : !strcmp(un.machine, "aarch64") ? "arm64"
                                                            : un.machine;
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        _cleanup_free_ char *cpu = xasprintf("%ld", ncpu > 0 ? ncpu : 1);
        _cleanup_free_ char *mem = xasprintf("%lldKi", (long long)mem_total_kib());
        struct statvfs sv;
        _cleanup_free_ char *eph = NULL;
        int64_t eph_bytes = 0;
        if (statvfs(cfg->data_dir ? cfg->data_dir : "/", &sv) == 0) {
                eph = xasprintf("%lluKi", (unsigned long long)sv.f_blocks * sv.f_frsize / 1024ULL);
                eph_bytes = (int64_t)(sv.f_blocks * sv.f_frsize / 1024ULL * 1024ULL);
        } else {
                eph = xstrdup("0");
        }
        _cleanup_free_ char *machine_id = read_line("/etc/machine-id");
        _cleanup_free_ char *boot_id = read_line("/proc/sys/kernel/random/boot_id");
        _cleanup_free_ char *uuid = read_line("/sys/class/dmi/id/product_uuid");
        _cleanup_free_ char *os = os_pretty_name();

        json_t *labels =
                json_pack("{s:s, s:s, s:s, s:s, s:s}", "kubernetes.io/hostname", cfg->node_name,
                          "kubernetes.io/os", "linux", "kubernetes.io/arch", arch,
                          "beta.kubernetes.io/os", "linux", "beta.kubernetes.io/arch", arch);
        if (cfg->control_plane)
                json_object_set_new(labels, "node-role.kubernetes.io/control-plane",
                                    json_string("true"));
        if (cfg->labels)
                json_object_update(labels, cfg->labels);
        json_t *spec = json_object();
        if (json_array_size(cfg->taints))
                json_object_set_new(spec, "taints", json_deep_copy(cfg->taints));
        if (cfg->pod_cidr) {
                json_object_set_new(spec, "podCIDR", json_string(cfg->pod_cidr));
                json_object_set_new(spec, "podCIDRs", json_pack("[s]", cfg->pod_cidr));
        }
        json_t *capacity = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "cpu", cpu, "memory", mem,
                                     "pods", "110", "ephemeral-storage", eph, "hugepages-1Gi", "0",
                                     "hugepages-2Mi", "0");
        /* allocatable = capacity - kube/system reserved - hard eviction threshold */
        const struct eviction_threshold *hard = cfg->ev ? eviction_thresholds(cfg->ev) : NULL;
        int64_t mem_b = mem_total_kib() * 1024;
        int64_t eph_b = eph_bytes;
        int64_t a_cpu = (ncpu > 0 ? ncpu : 1) * 1000 - cfg->reserved.cpu_millis;
        int64_t a_mem =
                mem_b - cfg->reserved.memory -
                (hard ? eviction_threshold_value(&hard[EVICTION_MEMORY_AVAILABLE], mem_b) : 0);
        int64_t a_eph =
                eph_b - cfg->reserved.ephemeral -
                (hard ? eviction_threshold_value(&hard[EVICTION_NODEFS_AVAILABLE], eph_b) : 0);
        struct quantity qc = quantity_from_milli(MAX(a_cpu, 0), QUANTITY_DECIMAL_SI);
        struct quantity qm = quantity_from_int(MAX(a_mem, 0), QUANTITY_BINARY_SI);
        struct quantity qe = quantity_from_int(MAX(a_eph, 0), QUANTITY_BINARY_SI);
        char bc[QUANTITY_STR_MAX], bm[QUANTITY_STR_MAX], be[QUANTITY_STR_MAX];
        json_t *allocatable =
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "cpu", quantity_format(&qc, bc),
                          "memory", quantity_format(&qm, bm), "pods", "110", "ephemeral-storage",
                          quantity_format(&qe, be), "hugepages-1Gi", "0", "hugepages-2Mi", "0");
        struct eviction_pressure pr = eviction_pressure_get(cfg->ev);
        json_t *conds = json_array();
        json_array_append_new(
                conds, pr.memory
                               ? condition("MemoryPressure", "True", "KubeletHasInsufficientMemory",
                                           "kubelet has insufficient memory available", hb, hb)
                               : condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                                           "kubelet has sufficient memory available", hb, hb));
        json_array_append_new(
                conds, pr.disk ? condition("DiskPressure", "True", "KubeletHasDiskPressure",
                                           "kubelet has disk pressure", hb, hb)
                               : condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
                                           "kubelet has no disk pressure", hb, hb));
        json_array_append_new(conds,
                              pr.pid ? condition("PIDPressure", "True", "KubeletHasInsufficientPID",
                                                 "kubelet has insufficient PID available", hb, hb)
                                     : condition("PIDPressure", "False", "KubeletHasSufficientPID",
                                                 "kubelet has sufficient PID available", hb, hb));
        json_array_append_new(conds, condition("Ready", "True", "KubeletReady",
                                               "kubelet is posting ready status", hb, hb));
        json_t *status = json_pack(
                "{s:o, s:O, s:o, s:[{s:s, s:s}, {s:s, s:s}], s:{s:{s:i}},"
                " s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:o}",
                "capacity", capacity, "allocatable", allocatable, "conditions", conds, "addresses",
                "type", "InternalIP", "address", cfg->node_ip, "type", "Hostname", "address",
                cfg->node_name, "daemonEndpoints", "kubeletEndpoint", "Port", cfg->port, "nodeInfo",
                "machineID", machine_id ? machine_id : "", "systemUUID",
                uuid ? uuid : (machine_id ? machine_id : ""), "bootID", boot_id ? boot_id : "",
                "kernelVersion", un.release, "osImage", os, "containerRuntimeVersion",
                cfg->runtime_version ? cfg->runtime_version : "crun://unknown", "kubeletVersion",
                KUBELET_VERSION, "kubeProxyVersion", KUBELET_VERSION, "operatingSystem", "linux",
                "architecture", arch, "images", images_json(cfg->data_dir ? cfg->data_dir : "."));
        return json_pack("{s:s, s:s, s:{s:s, s:o, s:{s:s}}, s:o, s:o}", "apiVersion", "v1", "kind",
                         "Node", "metadata", "name", cfg->node_name, "labels", labels,
                         "annotations", "node.alpha.kubernetes.io/ttl", "0", "spec", spec, "status",
                         status);
}

/* lastTransitionTime of each condition: the heartbeat at which its status last changed. */
static void fix_transitions(struct kubelet_node *n, json_t *node)
{
        json_t *c;
        size_t i;
        json_array_foreach(kjson_get(node, "status.conditions"), i, c)
        {
                if (i >= ARRAY_SIZE(n->conds))
                        break;
                const char *st = kjson_str(c, "status") ?: "";
                if (strcmp(n->conds[i].status, st)) {
                        n->conds[i].announce = true;
                        snprintf(n->conds[i].status, sizeof(n->conds[i].status), "%s", st);
                        snprintf(n->conds[i].since, sizeof(n->conds[i].since), "%s",
                                 kjson_str(c, "lastTransitionTime") ?: "");
                }
                json_object_set_new(c, "lastTransitionTime", json_string(n->conds[i].since));
        }
}

/* The kubelet's node events for its condition changes (NodeHasSufficientMemory,
 * NodeHasDiskPressure, ..., NodeReady): "Node N status is now: REASON", on the Node. */
static void announce(struct kubelet_node *n, struct kclient *c)
{
        static const char *const reasons[][2] = {
                {"NodeHasSufficientMemory", "NodeHasInsufficientMemory"},
                {"NodeHasNoDiskPressure", "NodeHasDiskPressure"},
                {"NodeHasSufficientPID", "NodeHasInsufficientPID"},
                {"NodeNotReady", "NodeReady"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(n->conds); i++) {
                if (!n->conds[i].announce)
                        continue;
                n->conds[i].announce = false;
                bool t = !strcmp(n->conds[i].status, "True");
                const char *reason = reasons[i][t];
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                char now[32];
                timefmt_rfc3339(now, ts.tv_sec);
                _cleanup_free_ char *name =
                        xasprintf("%s.%llx", n->cfg.node_name,
                                  (unsigned long long)ts.tv_sec * 1000000000ULL +
                                          (unsigned long long)ts.tv_nsec);
                _cleanup_free_ char *msg =
                        xasprintf("Node %s status is now: %s", n->cfg.node_name, reason);
                /* the kubelet's node events carry the node name as uid */
                json_t *ev = json_pack(
                        "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:s,"
                        " s:{s:s, s:s}, s:s, s:s, s:i, s:s, s:s}",
                        "apiVersion", "v1", "kind", "Event", "metadata", "name", name, "namespace",
                        "default", "involvedObject", "apiVersion", "v1", "kind", "Node", "name",
                        n->cfg.node_name, "uid", n->cfg.node_name, "reason", reason, "message", msg,
                        "type", "Normal", "source", "component", "kubelet", "host",
                        n->cfg.node_name, "firstTimestamp", now, "lastTimestamp", now, "count", 1,
                        "reportingComponent", "kubelet", "reportingInstance", n->cfg.node_name);
                struct error err = {0};
                if (kclient_create(c, "/api/v1/namespaces/default/events", ev, NULL, &err) < 0)
                        log_debug(COMP, "node event %s: %s", reason, error_msg(&err));
                json_decref(ev);
        }
}

static int register_node(struct kubelet_node *n, struct kclient *c, json_t *node, struct error *err)
{
        json_t *meta_spec =
                json_pack("{s:s, s:s, s:O, s:O}", "apiVersion", "v1", "kind", "Node", "metadata",
                          json_object_get(node, "metadata"), "spec", json_object_get(node, "spec"));
        int r = kclient_create(c, "/api/v1/nodes", meta_spec, NULL, err);
        if (r == -EEXIST) {
                /* restart: refresh labels and podCIDR */
                json_t *patch = json_pack("{s:{s:O}, s:O}", "metadata", "labels",
                                          kjson_get(node, "metadata.labels"), "spec",
                                          json_object_get(node, "spec"));
                _cleanup_free_ char *path = xasprintf("/api/v1/nodes/%s", n->cfg.node_name);
                r = kclient_patch(c, path, "merge", patch, NULL, err);
                json_decref(patch);
        }
        json_decref(meta_spec);
        if (r == 0)
                log_info(COMP, "node %s registered", n->cfg.node_name);
        return r;
}

static int renew_lease(struct kubelet_node *n, struct kclient *c, struct error *err)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char micro[40];
        timefmt_rfc3339micro(micro, &ts);
        _cleanup_free_ char *path = xasprintf(
                "/apis/coordination.k8s.io/v1/namespaces/" LEASE_NS "/leases/%s", n->cfg.node_name);
        json_t *patch = json_pack("{s:{s:s, s:i, s:s}}", "spec", "holderIdentity", n->cfg.node_name,
                                  "leaseDurationSeconds", 40, "renewTime", micro);
        int r = kclient_patch(c, path, "merge", patch, NULL, err);
        json_decref(patch);
        if (r != -ENOENT)
                return r;
        json_t *node = NULL;
        _cleanup_free_ char *npath = xasprintf("/api/v1/nodes/%s", n->cfg.node_name);
        json_t *lease = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s, s:s}}", "apiVersion",
                                  "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name",
                                  n->cfg.node_name, "namespace", LEASE_NS, "spec", "holderIdentity",
                                  n->cfg.node_name, "leaseDurationSeconds", 40, "renewTime", micro,
                                  "acquireTime", micro);
        if (kclient_get(c, npath, &node, NULL) == 0 && kjson_str(node, "metadata.uid"))
                json_object_set_new(json_object_get(lease, "metadata"), "ownerReferences",
                                    json_pack("[{s:s, s:s, s:s, s:s}]", "apiVersion", "v1", "kind",
                                              "Node", "name", n->cfg.node_name, "uid",
                                              kjson_str(node, "metadata.uid")));
        json_decref(node);
        r = kclient_create(c, "/apis/coordination.k8s.io/v1/namespaces/" LEASE_NS "/leases", lease,
                           NULL, err);
        if (r == -ENOENT) {
                json_t *ns = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind",
                                       "Namespace", "metadata", "name", LEASE_NS);
                kclient_create(c, "/api/v1/namespaces", ns, NULL, NULL);
                json_decref(ns);
                r = kclient_create(c, "/apis/coordination.k8s.io/v1/namespaces/" LEASE_NS "/leases",
                                   lease, NULL, err);
        }
        json_decref(lease);
        return r;
}

static int heartbeat(struct kubelet_node *n, struct kclient *c, struct error *err)
{
        json_t *node = kubelet_node_build(&n->cfg, (int64_t)time(NULL));
        int r = 0;
        _cleanup_free_ char *path = xasprintf("/api/v1/nodes/%s/status", n->cfg.node_name);
        fix_transitions(n, node);
        if (!n->registered) {
                r = register_node(n, c, node, err);
                if (r < 0)
                        goto out;
                n->registered = true;
        }
        json_t *patch = json_pack("{s:O}", "status", json_object_get(node, "status"));
        r = kclient_patch(c, path, "merge", patch, NULL, err);
        json_decref(patch);
        if (r == -ENOENT) {
                n->registered = false; /* deleted under us: register again */
                goto out;
        }
        if (r < 0)
                goto out;
        announce(n, c);
        r = renew_lease(n, c, err);
out:
        json_decref(node);
        return r;
}

static void *node_main(void *ud)
{
        struct kubelet_node *n = ud;
        struct kclient *c = NULL;
        int failures = 0;

        pthread_mutex_lock(&n->lock);
        while (!n->stopping) {
                pthread_mutex_unlock(&n->lock);
                struct error err = {0};
                int r = 0;
                if (!c && kclient_from_kubeconfig_as(n->cfg.kubeconfig, KCLIENT_AGENT_KUBELET, &c,
                                                     &err) < 0) {
                        c = NULL;
                        r = -1;
                } else {
                        r = heartbeat(n, c, &err);
                }
                if (r < 0) {
                        if (failures++ % 10 == 0)
                                log_warn(COMP, "node %s: %s", n->cfg.node_name, error_msg(&err));
                } else {
                        failures = 0;
                }
                int wait = r < 0 ? 1 : HEARTBEAT_S;
                pthread_mutex_lock(&n->lock);
                if (n->stopping)
                        break;
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += wait;
                pthread_cond_timedwait(&n->cond, &n->lock, &ts);
        }
        pthread_mutex_unlock(&n->lock);
        if (c)
                kclient_free(c);
        return NULL;
}

static char *dup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

int kubelet_node_start(const struct kubelet_node_config *cfg, struct kubelet_node **ret,
                       struct error *err)
{
        if (!cfg || !cfg->kubeconfig || !cfg->node_name || !cfg->node_ip)
                return error_set(err, -EINVAL, "node: incomplete config");
        struct kubelet_node *n = xcalloc(1, sizeof(*n));
        n->cfg = *cfg;
        n->cfg.kubeconfig = xstrdup(cfg->kubeconfig);
        n->cfg.node_name = xstrdup(cfg->node_name);
        n->cfg.node_ip = xstrdup(cfg->node_ip);
        n->cfg.pod_cidr = dup_or_null(cfg->pod_cidr);
        n->cfg.data_dir = dup_or_null(cfg->data_dir);
        n->cfg.runtime_version = dup_or_null(cfg->runtime_version);
        n->cfg.labels = cfg->labels ? json_deep_copy(cfg->labels) : NULL;
        n->cfg.taints = cfg->taints ? json_deep_copy(cfg->taints) : NULL;
        pthread_mutex_init(&n->lock, NULL);
        pthread_cond_init(&n->cond, NULL);
        int r = -pthread_create(&n->thread, NULL, node_main, n);
        if (r < 0) {
                n->thread = pthread_self(); /* not joinable: mark and free below */
                free((char *)n->cfg.kubeconfig);
                free((char *)n->cfg.node_name);
                free((char *)n->cfg.node_ip);
                free((char *)n->cfg.pod_cidr);
                free((char *)n->cfg.data_dir);
                free((char *)n->cfg.runtime_version);
                json_decref(n->cfg.labels);
                json_decref(n->cfg.taints);
                free(n);
                return error_set(err, r, "node: thread");
        }
        *ret = n;
        return 0;
}

void kubelet_node_kick(struct kubelet_node *n)
{
        if (!n)
                return;
        pthread_mutex_lock(&n->lock);
        pthread_cond_broadcast(&n->cond);
        pthread_mutex_unlock(&n->lock);
}

void kubelet_node_stop(struct kubelet_node *n)
{
        if (!n)
                return;
        pthread_mutex_lock(&n->lock);
        n->stopping = true;
        pthread_cond_broadcast(&n->cond);
        pthread_mutex_unlock(&n->lock);
        pthread_join(n->thread, NULL);
        pthread_mutex_destroy(&n->lock);
        pthread_cond_destroy(&n->cond);
        free((char *)n->cfg.kubeconfig);
        free((char *)n->cfg.node_name);
        free((char *)n->cfg.node_ip);
        free((char *)n->cfg.pod_cidr);
        free((char *)n->cfg.data_dir);
        free((char *)n->cfg.runtime_version);
        json_decref(n->cfg.labels);
        json_decref(n->cfg.taints);
        free(n);
}
