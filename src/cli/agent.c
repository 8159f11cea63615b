/* agent.c — `timonel agent`: a node of a cluster whose API server runs elsewhere (another
 * `timonel server`, possibly on this machine). It runs the same node agent (src/kubelet/) the
 * server runs in-process, with its own data dir, pod CIDR, bridge and kubelet port, so several
 * agents can share one machine.
 *
 * Start-up: register the Node (labels, taints) unless it exists, wait for the node lifecycle
 * controller to give it spec.podCIDR (or take --pod-cidr), then start the kubelet with it. The
 * credentials come from a kubeconfig (or --token + --ca-file); the kubelet's serving certificate
 * is issued by the cluster CA when its directory is readable here (--cluster-ca-dir), else by a
 * CA of the agent's own (the API server then cannot verify it: logs/exec to this node fail).
 * Token bootstrap with CA pinning and node credentials is a later issue. */
#include "cli/cli.h"
#include "cli/hostinfo.h"
#include "client/client.h"
#include "client/kubeconfig.h"
#include "common/base.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/kjson.h"
#include "common/log.h"
#include "controllers/util.h"
#include "http/pki.h"
#include "kubelet/kubelet.h"
#include "kubelet/node.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#define COMP "agent"
#define CIDR_WAIT_S 120

struct agent_opts {
        const char *server;
        const char *kubeconfig;
        const char *token;
        const char *ca_file;
        const char *data_dir;
        const char *node_name;
        const char *node_ip;
        int kubelet_port;
        const char *pod_cidr;
        const char *bridge;
        const char *runtime_path;
        const char *cni_bin_dir;
        const char *cluster_ca_dir;
        const char *node_labels; /* --node-label, repeated flags comma-joined */
        const char *node_taints; /* --node-taint, likewise */
        json_t *labels;          /* both checked by the kubelet's parsers */
        json_t *taints;
};

static void agent_usage(FILE *f)
{
        fputs("usage: timonel agent --server URL (--kubeconfig FILE | --token T --ca-file F) "
              "[flags]\n"
              "\n"
              "Runs a node (the pods the scheduler binds to it) against a remote API server.\n"
              "Several agents may share a machine: each needs its own --data-dir, --node-name and\n"
              "--kubelet-port; its pod CIDR comes from the server (--cluster-cidr, a /24 per "
              "node)\n"
              "and its bridge is named after the node.\n"
              "\n"
              "  --server URL                 API server (default: the kubeconfig's)\n"
              "  --kubeconfig FILE            credentials (client certificate or token)\n"
              "  --token TOKEN                bearer token (a --token-auth-file entry of the\n"
              "                               server) instead of a kubeconfig; needs --ca-file\n"
              "  --ca-file FILE               cluster CA to verify the server with --token\n"
              "  --data-dir DIR               state directory (default /var/lib/timonel)\n"
              "  --node-name NAME             node name (default: host name)\n"
              "  --node-ip ADDR               node InternalIP (default: first non-loopback IPv4)\n"
              "  --kubelet-port PORT          kubelet https port (default 10250)\n"
              "  --node-label KEY=VALUE       label the node (repeatable)\n"
              "  --node-taint KEY[=VALUE]:EFFECT  taint the node at registration (repeatable)\n"
              "  --pod-cidr CIDR              use this pod CIDR instead of the allocated one\n"
              "  --bridge NAME                host bridge of the pods (default tmnl<hash of "
              "name>)\n"
              "  --cluster-ca-dir DIR         the server's tls dir (ca.crt + ca.key), to issue "
              "the\n"
              "                               kubelet certificate the API server trusts\n"
              "  --container-runtime PATH     OCI runtime (default crun, runc as fallback)\n"
              "  --cni-bin-dir DIR            CNI plugins (default /usr/lib/cni)\n"
              "  -v, --verbose                debug logging\n"
              "\n"
              "Not there yet: bootstrap tokens with CA pinning (--token is a static token), node\n"
              "client certificates issued by the server, and the NodeRestriction limits.\n",
              f);
}

static int parse_agent_opts(int argc, char **argv, struct agent_opts *o)
{
        enum {
                O_SERVER = 256,
                O_KC,
                O_TOKEN,
                O_CA,
                O_DATA,
                O_NODE,
                O_NODEIP,
                O_KPORT,
                O_LABEL,
                O_TAINT,
                O_CIDR,
                O_BRIDGE,
                O_RT,
                O_CNI,
                O_CADIR,
        };
        static const struct option longopts[] = {
                {"server", required_argument, NULL, O_SERVER},
                {"kubeconfig", required_argument, NULL, O_KC},
                {"token", required_argument, NULL, O_TOKEN},
                {"ca-file", required_argument, NULL, O_CA},
                {"data-dir", required_argument, NULL, O_DATA},
                {"node-name", required_argument, NULL, O_NODE},
                {"node-ip", required_argument, NULL, O_NODEIP},
                {"kubelet-port", required_argument, NULL, O_KPORT},
                {"node-label", required_argument, NULL, O_LABEL},
                {"node-taint", required_argument, NULL, O_TAINT},
                {"pod-cidr", required_argument, NULL, O_CIDR},
                {"bridge", required_argument, NULL, O_BRIDGE},
                {"container-runtime", required_argument, NULL, O_RT},
                {"cni-bin-dir", required_argument, NULL, O_CNI},
                {"cluster-ca-dir", required_argument, NULL, O_CADIR},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        *o = (struct agent_opts){.data_dir = "/var/lib/timonel", .kubelet_port = 10250};
        int c;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
                switch (c) {
                case O_SERVER:
                        o->server = optarg;
                        break;
                case O_KC:
                        o->kubeconfig = optarg;
                        break;
                case O_TOKEN:
                        o->token = optarg;
                        break;
                case O_CA:
                        o->ca_file = optarg;
                        break;
                case O_DATA:
                        o->data_dir = optarg;
                        break;
                case O_NODE:
                        o->node_name = optarg;
                        break;
                case O_NODEIP:
                        o->node_ip = optarg;
                        break;
                case O_KPORT:
                        if (cli_parse_port(optarg, &o->kubelet_port) < 0) {
                                fprintf(stderr, "timonel agent: invalid --kubelet-port \"%s\"\n",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case O_LABEL:
                case O_TAINT: {
                        struct error err = {0};
                        int r = c == O_LABEL ? kubelet_node_labels_parse(optarg, &o->labels, &err)
                                             : kubelet_node_taints_parse(optarg, &o->taints, &err);
                        if (r < 0) {
                                fprintf(stderr, "timonel agent: %s\n", error_msg(&err));
                                return -EINVAL;
                        }
                        const char **dst = c == O_LABEL ? &o->node_labels : &o->node_taints;
                        /* repeated flags accumulate (process lifetime: never freed) */
                        *dst = *dst ? xasprintf("%s,%s", *dst, optarg) : optarg;
                        break;
                }
                case O_CIDR:
                        o->pod_cidr = optarg;
                        break;
                case O_BRIDGE:
                        o->bridge = optarg;
                        break;
                case O_RT:
                        o->runtime_path = optarg;
                        break;
                case O_CNI:
                        o->cni_bin_dir = optarg;
                        break;
                case O_CADIR:
                        o->cluster_ca_dir = optarg;
                        break;
                case 'v':
                        log_set_level(LOG_DEBUG);
                        break;
                case 'h':
                        agent_usage(stdout);
                        return 1;
                default:
                        fprintf(stderr,
                                "timonel agent: unknown or incomplete flag \"%s\" (see --help)\n",
                                argv[optind - 1]);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "timonel agent: unexpected argument \"%s\"\n", argv[optind]);
                return -EINVAL;
        }
        if (!o->kubeconfig && !(o->token && o->ca_file && o->server)) {
                fputs("timonel agent: need --kubeconfig, or --server with --token and --ca-file\n",
                      stderr);
                return -EINVAL;
        }
        return 0;
}

static int write_str(const char *path, const char *text, mode_t mode, struct error *err)
{
        return fs_write_atomic(path, text, strlen(text), mode, err);
}

/* DATA/agent/cred/kubeconfig for the kubelet: the user's credentials with --server applied.
 * Also writes the cluster CA to ca_out (the kubelet verifies the API server's client certs
 * against it). */
static int agent_kubeconfig(const struct agent_opts *o, const char *cred_dir, const char *kc_out,
                            const char *ca_out, struct error *err)
{
        int r;
        if (!o->kubeconfig) {
                _cleanup_free_ char *ca = NULL;
                if ((r = fs_read_file(o->ca_file, 1u << 20, &ca, NULL, err)) < 0)
                        return r;
                if ((r = write_str(ca_out, ca, 0644, err)) < 0)
                        return r;
                /* A token kubeconfig (kubeconfig_write knows only client certificates). */
                _cleanup_free_ char *text = xasprintf(
                        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
                        "    certificate-authority: %s\n    server: \"%s\"\n  name: default\n"
                        "contexts:\n- context:\n    cluster: default\n    user: default\n"
                        "  name: default\ncurrent-context: default\nusers:\n- name: default\n"
                        "  user:\n    token: \"%s\"\n",
                        ca_out, o->server, o->token);
                return write_str(kc_out, text, 0600, err);
        }
        struct kubeconfig_info ki = {0};
        r = kubeconfig_load(o->kubeconfig, &ki, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *crt = xasprintf("%s/client.crt", cred_dir);
        _cleanup_free_ char *key = xasprintf("%s/client.key", cred_dir);
        if (!ki.ca_pem || (!ki.cert_pem && !ki.token)) {
                r = error_set(err, -EINVAL, "%s: want a CA and a client certificate or token",
                              o->kubeconfig);
                goto out;
        }
        if ((r = write_str(ca_out, ki.ca_pem, 0644, err)) < 0)
                goto out;
        const char *server = o->server ? o->server : ki.server;
        if (ki.cert_pem) {
                if ((r = write_str(crt, ki.cert_pem, 0644, err)) < 0 ||
                    (r = write_str(key, ki.key_pem ? ki.key_pem : "", 0600, err)) < 0)
                        goto out;
                r = kubeconfig_write(kc_out, server, ca_out, crt, key, "default", err);
        } else {
                _cleanup_free_ char *text = xasprintf(
                        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
                        "    certificate-authority: %s\n    server: \"%s\"\n  name: default\n"
                        "contexts:\n- context:\n    cluster: default\n    user: default\n"
                        "  name: default\ncurrent-context: default\nusers:\n- name: default\n"
                        "  user:\n    token: \"%s\"\n",
                        ca_out, server, ki.token);
                r = write_str(kc_out, text, 0600, err);
        }
out:
        kubeconfig_info_clear(&ki);
        return r;
}

/* The kubelet's serving certificate DATA/agent/tls/kubelet.{crt,key}. */
static int agent_kubelet_cert(const struct agent_opts *o, const struct hostinfo *h,
                              const char *tls_dir, struct error *err)
{
        _cleanup_free_ char *prefix = xasprintf("%s/kubelet", tls_dir);
        _cleanup_free_ char *san_host = xasprintf("DNS:%s", h->hostname);
        _cleanup_free_ char *san_ip = xasprintf("IP:%s", h->node_ip);
        const char *sans[] = {"DNS:localhost", "IP:127.0.0.1", san_host, san_ip, NULL};
        if (o->cluster_ca_dir)
                return pki_issue(o->cluster_ca_dir, prefix, h->hostname, NULL, true, false, sans,
                                 err);
        _cleanup_free_ char *own = xasprintf("%s/own-ca", tls_dir);
        int r = pki_ensure(own, NULL, err);
        if (r < 0)
                return r;
        log_warn(COMP,
                 "no --cluster-ca-dir: the kubelet certificate is signed by %s/ca.crt, "
                 "which the API server does not trust (logs/exec to this node fail)",
                 own);
        return pki_issue(own, prefix, h->hostname, NULL, true, false, sans, err);
}

/* Register the Node (labels, taints) if it does not exist, then wait until it has a pod CIDR.
 * Returns the CIDR (malloc'd) or NULL when stopped/timed out. */
static char *register_and_wait_cidr(const char *kc_path, const struct kubelet_node_config *nc,
                                    volatile bool *stop)
{
        struct error err = {0};
        _cleanup_(kclient_freep) struct kclient *kc = NULL;
        if (kclient_from_kubeconfig_as(kc_path, KCLIENT_AGENT_KUBELET, &kc, &err) < 0) {
                log_err(COMP, "kubeconfig: %s", error_msg(&err));
                return NULL;
        }
        json_t *node = kubelet_node_build(nc, (int64_t)time(NULL));
        json_object_del(node, "status");
        _cleanup_free_ char *path = xasprintf("/api/v1/nodes/%s", nc->node_name);
        char *cidr = NULL;
        bool registered = false;
        for (int waited = 0; !*stop && waited < CIDR_WAIT_S * 2; waited++) {
                json_t *cur = NULL;
                int r = kclient_get(kc, path, &cur, &err);
                if (r == -ENOENT && !registered) {
                        r = kclient_create(kc, "/api/v1/nodes", node, NULL, &err);
                        if (r == 0 || r == -EEXIST) {
                                log_info(COMP, "node %s registered, waiting for its pod CIDR",
                                         nc->node_name);
                                registered = true;
                        }
                } else if (r == 0) {
                        registered = true;
                        if (kjson_str(cur, "spec.podCIDR"))
                                cidr = xstrdup(kjson_str(cur, "spec.podCIDR"));
                }
                json_decref(cur);
                if (cidr)
                        break;
                if (r < 0 && waited % 20 == 0)
                        log_warn(COMP, "node %s: %s", nc->node_name, error_msg(&err));
                struct timespec ts = {0, 500 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        json_decref(node);
        return cidr;
}

static volatile bool stopping;

static void on_signal(int sig)
{
        (void)sig;
        stopping = true;
}

int cli_agent_main(int argc, char **argv)
{
        struct agent_opts o;
        int r = parse_agent_opts(argc, argv, &o);
        if (r)
                return r > 0 ? 0 : 2;
        if (geteuid() != 0) {
                fputs("timonel agent: must run as root (containers, network namespaces)\n", stderr);
                return 1;
        }
        struct error err = {0};
        char abs_data[PATH_MAX];
        if (fs_mkdir_p(o.data_dir, 0700, &err) < 0 ||
            (!realpath(o.data_dir, abs_data) &&
             error_set(&err, -errno, "%s: %s", o.data_dir, strerror(errno)))) {
                fprintf(stderr, "timonel agent: cannot use data dir: %s\n", error_msg(&err));
                return 1;
        }
        _cleanup_free_ char *agent_dir = xasprintf("%s/agent", abs_data);
        _cleanup_free_ char *tls_dir = xasprintf("%s/agent/tls", abs_data);
        _cleanup_free_ char *cred_dir = xasprintf("%s/agent/cred", abs_data);
        _cleanup_free_ char *kc_path = xasprintf("%s/kubeconfig", cred_dir);
        _cleanup_free_ char *ca_path = xasprintf("%s/ca.crt", cred_dir);
        if (fs_mkdir_p(tls_dir, 0700, &err) < 0 || fs_mkdir_p(cred_dir, 0700, &err) < 0) {
                fprintf(stderr, "timonel agent: %s\n", error_msg(&err));
                return 1;
        }
        struct hostinfo host;
        hostinfo_detect(&host, o.node_name, o.node_ip);
        if (agent_kubeconfig(&o, cred_dir, kc_path, ca_path, &err) < 0) {
                fprintf(stderr, "timonel agent: credentials: %s\n", error_msg(&err));
                return 1;
        }
        if (agent_kubelet_cert(&o, &host, tls_dir, &err) < 0) {
                fprintf(stderr, "timonel agent: kubelet certificate: %s\n", error_msg(&err));
                return 1;
        }
        char bridge[16];
        if (o.bridge)
                snprintf(bridge, sizeof(bridge), "%s", o.bridge);
        else
                snprintf(bridge, sizeof(bridge), "tmnl%08x",
                         controllers_fnv32a(host.hostname, strlen(host.hostname), 2166136261u));

        struct sigaction sa = {.sa_handler = on_signal};
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        struct kubelet_node_config nc = {
                .kubeconfig = kc_path,
                .node_name = host.hostname,
                .node_ip = host.node_ip,
                .data_dir = agent_dir,
                .port = o.kubelet_port,
                .labels = o.labels,
                .taints = o.taints,
        };
        _cleanup_free_ char *cidr =
                o.pod_cidr ? xstrdup(o.pod_cidr) : register_and_wait_cidr(kc_path, &nc, &stopping);
        if (!cidr) {
                if (stopping)
                        return 0;
                fprintf(stderr,
                        "timonel agent: node %s got no pod CIDR within %d s (is the "
                        "controller manager running?)\n",
                        host.hostname, CIDR_WAIT_S);
                return 1;
        }

        /* Block the signals in every thread the kubelet starts; this thread waits for them. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        struct kubelet_config kcfg = {
                .kubeconfig = kc_path,
                .data_dir = agent_dir,
                .node_name = host.hostname,
                .node_ip = host.node_ip,
                .pod_cidr = cidr,
                .bridge = bridge,
                .runtime_path = o.runtime_path,
                .cni_bin_dir = o.cni_bin_dir,
                .port = o.kubelet_port,
                .client_ca_file = ca_path,
                .node_labels = o.node_labels,
                .node_taints = o.node_taints,
        };
        struct kubelet *k = NULL;
        if (kubelet_start(&kcfg, &k, &err) < 0) {
                fprintf(stderr, "timonel agent: node agent: %s\n", error_msg(&err));
                return 1;
        }
        log_info(COMP, "timonel agent ready: node %s (%s), pod CIDR %s, bridge %s, kubelet port %d",
                 host.hostname, host.node_ip, cidr, bridge, o.kubelet_port);
        int sig = 0;
        if (!stopping)
                sigwait(&set, &sig);
        log_info(COMP, "signal %d: stopping (containers keep running)", sig);
        kubelet_stop(k);
        return 0;
}
