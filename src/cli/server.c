/* server.c — `timonel server`: the control plane (store, API server, scheduler) and, unless
 * --disable-agent, a node (kubelet) in one process.
 *
 * Threads: the API server's h2o loop runs on the main thread; the scheduler and the kubelet run
 * their own threads and reach the API server over HTTPS on loopback with the admin kubeconfig
 * written to DATA/server/cred/admin.kubeconfig. A signal thread turns SIGINT/SIGTERM into
 * apiserver_stop(). Containers keep running when the server stops. */
#include "apiserver/apiserver.h"
#include "cli/cli.h"
#include "cli/hostinfo.h"
#include "client/kubeconfig.h"
#include "common/base.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "http/pki.h"
#include "kubelet/fakenode.h"
#include "kubelet/kubelet.h"
#include "controllers/manager.h"
#include "controllers/nodelifecycle.h"
#include "api/pod.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

struct server_opts {
        const char *data_dir;
        const char *bind_address;
        int port;
        const char *write_kubeconfig;
        const char *datastore_endpoint;
        const char *datastore_cafile, *datastore_certfile, *datastore_keyfile; /* etcd TLS */
        bool disable_agent;
        const char *node_name;
        const char *node_ip;
        int kubelet_port;
        const char *runtime_path;
        const char *cluster_cidr; /* pod CIDRs of the nodes are /24s of it */
        const char *node_bridge;  /* this process's node: host bridge of its pods */
        int node_monitor_grace_s;
        int64_t not_ready_toleration_s, unreachable_toleration_s;
        const char *token_auth_file; /* static bearer tokens (CSV, as kube-apiserver) */
        const char *cni_bin_dir;
        int fake_nodes; /* simulated nodes for scale tests (kubelet/fakenode.h) */
        int event_ttl_s; /* --event-ttl, 0 = the API server's default (1 h) */
        struct kubelet_config agent; /* node agent settings (--node-label ... --pod-max-pids) */
};

static void server_usage(FILE *f)
{
        fputs("usage: timonel server [flags]\n"
              "\n"
              "Runs the control plane (API server, datastore, scheduler) and, unless\n"
              "--disable-agent, a node that runs the pods scheduled to it.\n"
              "\n"
              "  --data-dir DIR               state directory (default /var/lib/timonel)\n"
              "  --https-listen-port PORT     API server port (default 6443)\n"
              "  --bind-address ADDR          API server address (default 0.0.0.0)\n"
              "  --write-kubeconfig FILE      admin kubeconfig (default /etc/timonel/timonel.yaml)\n"
              "  --datastore-endpoint URL     sqlite:///path (default DATA/server/db/state.db),\n"
              "                               or etcd: http(s)://host:2379[,http(s)://host2:2379...]\n"
              "  --datastore-cafile FILE      etcd: CA to verify etcd's certificate\n"
              "  --datastore-certfile FILE    etcd: client certificate\n"
              "  --datastore-keyfile FILE     etcd: client key\n"
              "  --disable-agent              run no node in this process\n"
              "  --node-name NAME             node name (default: host name)\n"
              "  --node-ip ADDR               node InternalIP (default: first non-loopback IPv4)\n"
              "  --kubelet-port PORT          node agent https port (default 10250)\n"
              "  --container-runtime PATH     OCI runtime (default crun, runc as fallback)\n"
              "  --cluster-cidr CIDR          pod CIDRs, a /24 per node (default 10.42.0.0/16;\n"
              "                               this process's node takes the first)\n"
              "  --node-bridge NAME           host bridge of this node's pods (default tmnl0)\n"
              "  --node-monitor-grace-period D  a node silent this long turns NotReady/Unknown\n"
              "                               (default 40s; \"5s\", \"1m\" or seconds)\n"
              "  --default-not-ready-toleration-seconds N    added to pods (default 300)\n"
              "  --default-unreachable-toleration-seconds N  added to pods (default 300)\n"
              "  --cni-bin-dir DIR            CNI plugins (default /usr/lib/cni)\n"
              "  --fake-nodes N               also register N simulated nodes that run no\n"
              "                               containers (fake-node-0..N-1, for scale tests)\n"
              "  --event-ttl D                Events are deleted this long after their creation\n"
              "                               (default 1h; \"90s\", \"5m\", \"2h\" or seconds)\n"
              "  --token-auth-file FILE       bearer tokens, CSV: token,user,uid[,\"group1,group2\"]\n"
              "  --node-label K=V[,K=V]       labels of this node (repeatable)\n"
              "  --node-taint K[=V]:EFFECT    taints this node registers with (repeatable)\n"
              "  --kube-reserved R=Q[,R=Q]    reserved for the agent (cpu, memory,\n"
              "                               ephemeral-storage, pid): allocatable = capacity -\n"
              "                               kube-reserved - system-reserved - eviction threshold\n"
              "  --system-reserved R=Q[,R=Q]  reserved for the system, same form\n"
              "  --eviction-hard S<Q[,S<Q]    hard eviction thresholds (default memory.available<100Mi,\n"
              "                               nodefs.available<10%,nodefs.inodesFree<5%,\n"
              "                               imagefs.available<15%,imagefs.inodesFree<5%)\n"
              "  --image-gc-high-threshold P  image GC starts above P% of the image disk (85)\n"
              "  --image-gc-low-threshold P   ... and frees down to P% (80)\n"
              "  --pod-max-pids N             pids.max of each pod cgroup (default unlimited)\n"
              "  --pod-manifest-path DIR      static pods (default DATA/agent/pod-manifests)\n"
              "  --housekeeping-interval D    stats/eviction interval (default 10s)\n"
              "  -v, --verbose                debug logging\n",
              f);
}

/* "40", "40s", "2m", "1h" -> seconds (0..86400) */
static int parse_seconds(const char *s, int *ret)
{
        char *end;
        long v = strtol(s, &end, 10);
        if (*s == 0 || v < 0)
                return -EINVAL;
        if (!strcmp(end, "m"))
                v *= 60;
        else if (!strcmp(end, "h"))
                v *= 3600;
        else if (*end && strcmp(end, "s"))
                return -EINVAL;
        if (v > 86400)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

static int parse_server_opts(int argc, char **argv, struct server_opts *o)
{
        enum {
                O_DATA = 256,
                O_PORT,
                O_BIND,
                O_KC,
                O_DS,
                O_DSCA,
                O_DSCERT,
                O_DSKEY,
                O_NOAGENT,
                O_NODE,
                O_NODEIP,
                O_KPORT,
                O_RT,
                O_CIDR,
                O_CNI,
                O_TOKENS,
                O_BRIDGE,
                O_GRACE,
                O_NRTOL,
                O_UNTOL,
                O_FAKE,
                O_NLABEL,
                O_NTAINT,
                O_KRES,
                O_SRES,
                O_EVHARD,
                O_GCHIGH,
                O_GCLOW,
                O_MAXPIDS,
                O_MANIFESTS,
                O_HOUSEKEEP,
                O_EVTTL,
        };
        static const struct option longopts[] = {
                {"data-dir", required_argument, NULL, O_DATA},
                {"https-listen-port", required_argument, NULL, O_PORT},
                {"bind-address", required_argument, NULL, O_BIND},
                {"write-kubeconfig", required_argument, NULL, O_KC},
                {"datastore-endpoint", required_argument, NULL, O_DS},
                {"datastore-cafile", required_argument, NULL, O_DSCA},
                {"datastore-certfile", required_argument, NULL, O_DSCERT},
                {"datastore-keyfile", required_argument, NULL, O_DSKEY},
                {"disable-agent", no_argument, NULL, O_NOAGENT},
                {"node-name", required_argument, NULL, O_NODE},
                {"node-ip", required_argument, NULL, O_NODEIP},
                {"kubelet-port", required_argument, NULL, O_KPORT},
                {"container-runtime", required_argument, NULL, O_RT},
                {"cluster-cidr", required_argument, NULL, O_CIDR},
                {"cni-bin-dir", required_argument, NULL, O_CNI},
                {"token-auth-file", required_argument, NULL, O_TOKENS},
                {"node-bridge", required_argument, NULL, O_BRIDGE},
                {"node-monitor-grace-period", required_argument, NULL, O_GRACE},
                {"default-not-ready-toleration-seconds", required_argument, NULL, O_NRTOL},
                {"default-unreachable-toleration-seconds", required_argument, NULL, O_UNTOL},
                {"fake-nodes", required_argument, NULL, O_FAKE},
                {"node-label", required_argument, NULL, O_NLABEL},
                {"node-taint", required_argument, NULL, O_NTAINT},
                {"kube-reserved", required_argument, NULL, O_KRES},
                {"system-reserved", required_argument, NULL, O_SRES},
                {"eviction-hard", required_argument, NULL, O_EVHARD},
                {"image-gc-high-threshold", required_argument, NULL, O_GCHIGH},
                {"image-gc-low-threshold", required_argument, NULL, O_GCLOW},
                {"pod-max-pids", required_argument, NULL, O_MAXPIDS},
                {"pod-manifest-path", required_argument, NULL, O_MANIFESTS},
                {"housekeeping-interval", required_argument, NULL, O_HOUSEKEEP},
                {"event-ttl", required_argument, NULL, O_EVTTL},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        *o = (struct server_opts){
                .data_dir = "/var/lib/timonel",
                .bind_address = "0.0.0.0",
                .port = 6443,
                .write_kubeconfig = "/etc/timonel/timonel.yaml",
                .kubelet_port = 10250,
                .cluster_cidr = "10.42.0.0/16",
                .cni_bin_dir = "/usr/lib/cni",
                .node_monitor_grace_s = 40,
                .not_ready_toleration_s = 300,
                .unreachable_toleration_s = 300,
        };
        int c;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
                switch (c) {
                case O_DATA: o->data_dir = optarg; break;
                case O_PORT:
                        if (cli_parse_port(optarg, &o->port) < 0) {
                                fprintf(stderr, "timonel server: invalid --https-listen-port \"%s\"\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case O_BIND: o->bind_address = optarg; break;
                case O_KC: o->write_kubeconfig = optarg; break;
                case O_DS: o->datastore_endpoint = optarg; break;
                case O_DSCA: o->datastore_cafile = optarg; break;
                case O_DSCERT: o->datastore_certfile = optarg; break;
                case O_DSKEY: o->datastore_keyfile = optarg; break;
                case O_NOAGENT: o->disable_agent = true; break;
                case O_NODE: o->node_name = optarg; break;
                case O_NODEIP: o->node_ip = optarg; break;
                case O_KPORT:
                        if (cli_parse_port(optarg, &o->kubelet_port) < 0) {
                                fprintf(stderr, "timonel server: invalid --kubelet-port \"%s\"\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case O_RT: o->runtime_path = optarg; break;
                case O_CIDR: o->cluster_cidr = optarg; break;
                case O_CNI: o->cni_bin_dir = optarg; break;
                case O_TOKENS: o->token_auth_file = optarg; break;
                case O_BRIDGE: o->node_bridge = optarg; break;
                case O_GRACE:
                        if (parse_seconds(optarg, &o->node_monitor_grace_s) < 0) {
                                fprintf(stderr, "timonel server: invalid --node-monitor-grace-period \"%s\"\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case O_NRTOL:
                case O_UNTOL: {
                        int v;
                        if (parse_seconds(optarg, &v) < 0) {
                                fprintf(stderr, "timonel server: invalid %s \"%s\"\n", argv[optind - 1], optarg);
                                return -EINVAL;
                        }
                        *(c == O_NRTOL ? &o->not_ready_toleration_s : &o->unreachable_toleration_s) = v;
                        break;
                }
                case O_FAKE: {
                        char *end;
                        long v = strtol(optarg, &end, 10);
                        if (*end || v < 0 || v > 100000) {
                                fprintf(stderr, "timonel server: invalid --fake-nodes \"%s\"\n", optarg);
                                return -EINVAL;
                        }
                        o->fake_nodes = (int)v;
                        break;
                }
                case O_NLABEL:
                case O_NTAINT: {
                        const char **dst = c == O_NLABEL ? &o->agent.node_labels
                                                         : &o->agent.node_taints;
                        /* repeated flags accumulate (process lifetime: never freed) */
                        *dst = *dst ? xasprintf("%s,%s", *dst, optarg) : optarg;
                        break;
                }
                case O_KRES: o->agent.kube_reserved = optarg; break;
                case O_SRES: o->agent.system_reserved = optarg; break;
                case O_EVHARD: o->agent.eviction_hard = optarg; break;
                case O_MANIFESTS: o->agent.pod_manifest_path = optarg; break;
                case O_GCHIGH:
                case O_GCLOW:
                case O_MAXPIDS: {
                        char *end;
                        long v = strtol(optarg, &end, 10);
                        if (*optarg == 0 || *end || v < 0 || (c != O_MAXPIDS && v > 100)) {
                                fprintf(stderr, "timonel server: invalid %s \"%s\"\n", argv[optind - 1], optarg);
                                return -EINVAL;
                        }
                        if (c == O_GCHIGH)
                                o->agent.image_gc_high = (int)v;
                        else if (c == O_GCLOW)
                                o->agent.image_gc_low = (int)v;
                        else
                                o->agent.pod_max_pids = v;
                        break;
                }
                case O_EVTTL:
                        if (parse_seconds(optarg, &o->event_ttl_s) < 0 || o->event_ttl_s < 1) {
                                fprintf(stderr, "timonel server: invalid --event-ttl \"%s\"\n",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case O_HOUSEKEEP: {
                        int v;
                        if (parse_seconds(optarg, &v) < 0 || v < 1) {
                                fprintf(stderr, "timonel server: invalid --housekeeping-interval \"%s\"\n", optarg);
                                return -EINVAL;
                        }
                        o->agent.housekeeping_ms = v * 1000;
                        break;
                }
                case 'v': log_set_level(LOG_DEBUG); break;
                case 'h': server_usage(stdout); return 1;
                default:
                        fprintf(stderr, "timonel server: unknown or incomplete flag \"%s\" (see --help)\n",
                                argv[optind - 1]);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "timonel server: unexpected argument \"%s\"\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

struct signal_ctx {
        sigset_t set;
        struct apiserver *api;
};

static void *signal_thread(void *arg)
{
        struct signal_ctx *sc = arg;
        int sig;
        if (sigwait(&sc->set, &sig) == 0) {
                log_info("server", "signal %d: shutting down (containers keep running)", sig);
                apiserver_stop(sc->api);
        }
        return NULL;
}

int cli_server_main(int argc, char **argv)
{
        struct server_opts o;
        int r = parse_server_opts(argc, argv, &o);
        if (r)
                return r > 0 ? 0 : 2;

        char abs_data[PATH_MAX];
        struct error err = {0};
        if (fs_mkdir_p(o.data_dir, 0700, &err) < 0 ||
            (!realpath(o.data_dir, abs_data) &&
             error_set(&err, -errno, "%s: %s", o.data_dir, strerror(errno)))) {
                fprintf(stderr, "timonel server: cannot use data dir: %s\n", error_msg(&err));
                return 1;
        }
        _cleanup_free_ char *server_dir = xasprintf("%s/server", abs_data);
        _cleanup_free_ char *agent_dir = xasprintf("%s/agent", abs_data);
        _cleanup_free_ char *storage_dir = xasprintf("%s/storage", abs_data);
        _cleanup_free_ char *tls_dir = xasprintf("%s/server/tls", abs_data);
        _cleanup_free_ char *cred_dir = xasprintf("%s/server/cred", abs_data);
        _cleanup_free_ char *db_path = xasprintf("%s/server/db/state.db", abs_data);
        if (fs_mkdir_p(server_dir, 0700, &err) < 0 || fs_mkdir_p(tls_dir, 0700, &err) < 0 ||
            fs_mkdir_p(cred_dir, 0700, &err) < 0 ||
            (!o.disable_agent && fs_mkdir_p(agent_dir, 0700, &err) < 0)) {
                fprintf(stderr, "timonel server: %s\n", error_msg(&err));
                return 1;
        }

        struct hostinfo host;
        hostinfo_detect(&host, o.node_name, o.node_ip);

        /* TLS: the cluster CA and the certificates the API server and its clients use. */
        _cleanup_free_ char *san_host = xasprintf("DNS:%s", host.hostname);
        _cleanup_free_ char *san_ip = xasprintf("IP:%s", host.node_ip);
        const char *sans[] = {"DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default",
                              "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local",
                              "IP:127.0.0.1", "IP:10.43.0.1", san_host, san_ip, NULL};
        if (pki_ensure(tls_dir, sans, &err) < 0) {
                fprintf(stderr, "timonel server: certificates in %s: %s\n", tls_dir, error_msg(&err));
                return 1;
        }

        struct store *store = NULL;
        const char *endpoint = o.datastore_endpoint ? o.datastore_endpoint : db_path;
        struct store_options sopts = {
                .ca_file = o.datastore_cafile,
                .cert_file = o.datastore_certfile,
                .key_file = o.datastore_keyfile,
        };
        if (store_open_with(endpoint, &sopts, &store, &err) < 0) {
                fprintf(stderr, "timonel server: datastore: %s\n", error_msg(&err));
                return 1;
        }

        pod_toleration_defaults_set(o.not_ready_toleration_s, o.unreachable_toleration_s);
        char node_cidr[32];
        if (nodelifecycle_cidr_next(o.cluster_cidr, NULL, 0, node_cidr) < 0) {
                fprintf(stderr, "timonel server: --cluster-cidr %s: want an IPv4 CIDR /8../24\n",
                        o.cluster_cidr);
                store_close(store);
                return 2;
        }
        struct apiserver_config acfg = {
                .bind_address = o.bind_address,
                .port = o.port,
                .tls_dir = tls_dir,
                .store = store,
                .token_auth_file = o.token_auth_file,
                .event_ttl_s = o.event_ttl_s,
        };
        struct apiserver *api = NULL;
        if (apiserver_new(&acfg, &api, &err) < 0) {
                fprintf(stderr, "timonel server: API server: %s\n", error_msg(&err));
                store_close(store);
                return 1;
        }

        /* Kubeconfigs: the user's (--write-kubeconfig) and the one in-process components use. */
        _cleanup_free_ char *url = xasprintf("https://127.0.0.1:%d", o.port);
        _cleanup_free_ char *ca = xasprintf("%s/ca.crt", tls_dir);
        _cleanup_free_ char *admin_crt = xasprintf("%s/admin.crt", tls_dir);
        _cleanup_free_ char *admin_key = xasprintf("%s/admin.key", tls_dir);
        _cleanup_free_ char *admin_kc = xasprintf("%s/admin.kubeconfig", cred_dir);
        if (kubeconfig_write(admin_kc, url, ca, admin_crt, admin_key, "default", &err) < 0 ||
            kubeconfig_write(o.write_kubeconfig, url, ca, admin_crt, admin_key, "default", &err) < 0) {
                fprintf(stderr, "timonel server: kubeconfig: %s\n", error_msg(&err));
                apiserver_free(api);
                store_close(store);
                return 1;
        }

        /* Signals go to one thread that stops the loop; every other thread blocks them. */
        struct signal_ctx sc = {.api = api};
        sigemptyset(&sc.set);
        sigaddset(&sc.set, SIGINT);
        sigaddset(&sc.set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &sc.set, NULL);
        signal(SIGPIPE, SIG_IGN);
        pthread_t sig_tid;
        pthread_create(&sig_tid, NULL, signal_thread, &sc);

        struct scheduler *sched = NULL;
        struct scheduler_config scfg = {.kubeconfig = admin_kc};
        if (scheduler_start(&scfg, &sched, &err) < 0) {
                fprintf(stderr, "timonel server: scheduler: %s\n", error_msg(&err));
                goto out_stop;
        }
        struct manager *cm = NULL;
        struct manager_config mcfg = {.cluster_cidr = o.cluster_cidr,
                                      .node_monitor_grace_s = o.node_monitor_grace_s,
                                      .apiserver_ip = host.node_ip,
                                      .apiserver_port = o.port,
                                      .kubeconfig = admin_kc,
                                      .identity = host.hostname,
                                      .state_dir = server_dir,
                                      .storage_dir = storage_dir};
        if (manager_start(&mcfg, &cm, &err) < 0) {
                fprintf(stderr, "timonel server: controller manager: %s\n", error_msg(&err));
                goto out_sched;
        }

        struct kubelet *kubelet = NULL;
        if (!o.disable_agent) {
                _cleanup_free_ char *agent_tls = xasprintf("%s/tls", agent_dir);
                _cleanup_free_ char *kubelet_prefix = xasprintf("%s/kubelet", agent_tls);
                _cleanup_free_ char *kubelet_san_ip = xasprintf("IP:%s", host.node_ip);
                const char *ksans[] = {"DNS:localhost", "IP:127.0.0.1", san_host, kubelet_san_ip, NULL};
                if (fs_mkdir_p(agent_tls, 0700, &err) < 0 ||
                    pki_issue(tls_dir, kubelet_prefix, host.hostname, NULL, true, false, ksans, &err) < 0) {
                        fprintf(stderr, "timonel server: kubelet certificate: %s\n", error_msg(&err));
                        goto out_sched;
                }
                struct kubelet_config kcfg = {
                        .kubeconfig = admin_kc,
                        .data_dir = agent_dir,
                        .node_name = host.hostname,
                        .node_ip = host.node_ip,
                        .pod_cidr = node_cidr,
                        .bridge = o.node_bridge,
                        .runtime_path = o.runtime_path,
                        .cni_bin_dir = o.cni_bin_dir,
                        .port = o.kubelet_port,
                        .client_ca_file = ca,
                        .control_plane = true,
                        .node_labels = o.agent.node_labels,
                        .node_taints = o.agent.node_taints,
                        .kube_reserved = o.agent.kube_reserved,
                        .system_reserved = o.agent.system_reserved,
                        .eviction_hard = o.agent.eviction_hard,
                        .image_gc_high = o.agent.image_gc_high,
                        .image_gc_low = o.agent.image_gc_low,
                        .pod_max_pids = o.agent.pod_max_pids,
                        .pod_manifest_path = o.agent.pod_manifest_path,
                        .housekeeping_ms = o.agent.housekeeping_ms,
                };
                if (kubelet_start(&kcfg, &kubelet, &err) < 0) {
                        fprintf(stderr, "timonel server: node agent: %s\n", error_msg(&err));
                        goto out_sched;
                }
        }

        struct fakenodes *fakes = NULL;
        if (o.fake_nodes > 0) {
                struct fakenodes_config fcfg = {.kubeconfig = admin_kc, .count = o.fake_nodes};
                if (fakenodes_start(&fcfg, &fakes, &err) < 0) {
                        fprintf(stderr, "timonel server: fake nodes: %s\n", error_msg(&err));
                        if (kubelet)
                                kubelet_stop(kubelet);
                        goto out_sched;
                }
        }

        log_info("server", "timonel server ready: https://%s:%d, kubeconfig %s, node %s (%s)",
                 o.bind_address, o.port, o.write_kubeconfig, o.disable_agent ? "-" : host.hostname,
                 host.node_ip);
        r = apiserver_run(api);

        fakenodes_stop(fakes);
        if (kubelet)
                kubelet_stop(kubelet);
out_sched:
        manager_stop(cm);
        scheduler_stop(sched);
out_stop:
        pthread_cancel(sig_tid);
        pthread_join(sig_tid, NULL);
        apiserver_free(api);
        store_close(store);
        return r < 0 ? 1 : 0;
}
