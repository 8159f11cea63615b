/* runtime.c — pod sandboxes and containers: netns + CNI, overlay rootfs, OCI spec, conmon +
 * crun/runc (the verified recipe of /work/shared/reference/probes/podpath, in C). */
#include "kubelet/runtime.h"
#include "common/fs.h"

#include "common/spawn.h"
#include "kubelet/cgroup.h"
#include "kubelet/cni.h"
#include "kubelet/oci.h"
#include "kubelet/rootfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

extern char **environ;

#define NET_NAME "timonel"
#define SYNC_TIMEOUT_MS 30000

struct runtime {
        char *dir;       /* A = DATA/agent */
        char *pods_dir;  /* A/pods */
        char *run_dir;   /* A/run */
        char *netns_dir; /* A/run/netns */
        char *exits_dir; /* A/run/exits */
        char *sock_dir;  /* A/run/sock */
        char *rt_root;   /* A/run/<crun|runc> */
        char *rt_path, *rt_name, *rt_version;
        char *conmon_path;
        char *cgroup_root;
        char *cluster_dns, *cluster_domain;
        uint64_t nofile_hard;
        struct cni_net net;
        struct cgroup_host cg;
};

/* ---- small helpers ---- */

static int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec ns_to_ts(int64_t ns)
{
        struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
        return ts;
}

static void sleep_ms(int ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Names that become path components and runtime ids. */
static bool valid_name(const char *s, size_t max)
{
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > max || !strcmp(s, ".") || !strcmp(s, ".."))
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.'))
                        return false;
        }
        return true;
}

static bool file_exists(const char *p)
{
        return access(p, F_OK) == 0;
}

static const char *find_exe(const char *const *cands)
{
        for (size_t i = 0; cands[i]; i++)
                if (access(cands[i], X_OK) == 0)
                        return cands[i];
        return NULL;
}

static const char *ip_path(void)
{
        static const char *const c[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip", NULL};
        return find_exe(c);
}

static int write_file_atomic(const char *path, const char *data, struct error *err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return error_set(err, -errno, "create %s: %s", tmp, strerror(errno));
        size_t len = strlen(data), off = 0;
        while (off < len) {
                ssize_t w = write(fd, data + off, len - off);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        int e = errno;
                        close(fd);
                        unlink(tmp);
                        return error_set(err, -e, "write %s: %s", tmp, strerror(e));
                }
                off += (size_t)w;
        }
        close(fd);
        if (rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return error_set(err, -e, "rename %s: %s", path, strerror(e));
        }
        return 0;
}

static int write_json(const char *path, json_t *j, struct error *err)
{
        char *s = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        int r = write_file_atomic(path, s, err);
        free(s);
        return r;
}

static json_t *read_json(const char *path)
{
        json_error_t je;
        json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
        if (j && !json_is_object(j)) {
                json_decref(j);
                return NULL;
        }
        return j;
}

static char *dup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

/* Run "<rt> --root R args..." and capture its output. */
static int run_rt(struct runtime *rt, const char *const *args, struct spawn_result *res,
                  struct error *err)
{
        const char *argv[16];
        size_t n = 0;
        argv[n++] = rt->rt_path;
        argv[n++] = "--root";
        argv[n++] = rt->rt_root;
        for (size_t i = 0; args[i] && n < ARRAY_SIZE(argv) - 1; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        struct spawn_opts o = {.argv = argv,
                               .capture_stdout = true,
                               .capture_stderr = true,
                               .pass_fd = -1,
                               .timeout_ms = 60000};
        return spawn_run(&o, res, err);
}

/* Run and require exit 0; stderr becomes the message. */
static int run_rt_ok(struct runtime *rt, const char *const *args, struct error *err)
{
        struct spawn_result res = {0};
        int r = run_rt(rt, args, &res, err);
        if (r < 0)
                return r;
        if (res.status != 0) {
                size_t l = strlen(res.errout);
                while (l && res.errout[l - 1] == '\n')
                        res.errout[--l] = 0;
                r = error_set(err, -EIO, "%s %s %s: %s", rt->rt_name, args[0],
                              args[1] ? args[1] : "", res.errout);
        }
        spawn_result_clear(&res);
        return r;
}

static int run_ip(const char *const *args, char **ret_out, struct error *err)
{
        const char *ip = ip_path();
        if (!ip)
                return error_set(err, -ENOENT, "ip (iproute2) not found");
        const char *argv[16];
        size_t n = 0;
        argv[n++] = ip;
        for (size_t i = 0; args[i] && n < ARRAY_SIZE(argv) - 1; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        struct spawn_opts o = {.argv = argv,
                               .capture_stdout = true,
                               .capture_stderr = true,
                               .pass_fd = -1,
                               .timeout_ms = 30000};
        struct spawn_result res = {0};
        int r = spawn_run(&o, &res, err);
        if (r < 0)
                return r;
        if (res.status != 0)
                r = error_set(err, -EIO, "ip %s %s %s: %s", args[0], args[1] ? args[1] : "",
                              args[1] && args[2] ? args[2] : "", res.errout);
        else if (ret_out)
                *ret_out = TAKE_PTR(res.out);
        spawn_result_clear(&res);
        return r;
}

/* ---- runtime_new ---- */

static bool valid_cidr(const char *c)
{
        unsigned a, b, cc, d, p;
        char tail;
        return sscanf(c, "%u.%u.%u.%u/%u%c", &a, &b, &cc, &d, &p, &tail) == 5 && a < 256 &&
               b < 256 && cc < 256 && d < 256 && p <= 32;
}

/* Blackhole route for cidr unless some route for exactly that prefix exists. */
static int fence_add(const char *cidr, struct error *err)
{
        _cleanup_free_ char *out = NULL;
        const char *show[] = {"route", "show", "exact", cidr, NULL};
        int r = run_ip(show, &out, err);
        if (r < 0)
                return r;
        if (out && *out)
                return 0;
        const char *add[] = {"route", "replace", "blackhole", cidr, NULL};
        return run_ip(add, NULL, err);
}

/* Free host-local leases whose pod has no sandbox any more (a DEL that never happened). */
static void ipam_gc(struct runtime *rt)
{
        _cleanup_free_ char *d = xasprintf("%s/cni/networks/%s", rt->run_dir, NET_NAME);
        DIR *dir = opendir(d);
        if (!dir)
                return;
        struct dirent *de;
        while ((de = readdir(dir))) {
                if (!strchr(de->d_name, '.') || !strncmp(de->d_name, "last_reserved", 13) ||
                    de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *f = xasprintf("%s/%s", d, de->d_name);
                char buf[256] = {0};
                int fd = open(f, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                ssize_t n = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                if (n <= 0)
                        continue;
                buf[strcspn(buf, "\r\n ")] = 0;
                if (!valid_name(buf, 128))
                        continue;
                _cleanup_free_ char *sb = xasprintf("%s/%s/sandbox.json", rt->pods_dir, buf);
                if (!file_exists(sb))
                        unlink(f);
        }
        closedir(dir);
}

static char *first_line(const char *s)
{
        size_t n = strcspn(s, "\n");
        return xstrndup(s, n);
}

void runtime_free(struct runtime *rt)
{
        if (!rt)
                return;
        free(rt->dir);
        free(rt->pods_dir);
        free(rt->run_dir);
        free(rt->netns_dir);
        free(rt->exits_dir);
        free(rt->sock_dir);
        free(rt->rt_root);
        free(rt->rt_path);
        free(rt->rt_name);
        free(rt->rt_version);
        free(rt->conmon_path);
        free(rt->cgroup_root);
        free(rt->cluster_dns);
        free(rt->cluster_domain);
        free(rt->net.bin_dir);
        free(rt->net.conf);
        free(rt->net.name);
        cgroup_host_clear(&rt->cg);
        free(rt);
}

const char *runtime_get_name(const struct runtime *rt)
{
        return rt->rt_name;
}

const char *runtime_get_version(const struct runtime *rt)
{
        return rt->rt_version;
}

const char *runtime_get_cluster_dns(const struct runtime *rt)
{
        return rt->cluster_dns;
}

const char *runtime_get_cluster_domain(const struct runtime *rt)
{
        return rt->cluster_domain;
}

const struct cgroup_host *runtime_get_cgroup_host(const struct runtime *rt)
{
        return &rt->cg;
}

const char *runtime_get_cgroup_root(const struct runtime *rt)
{
        return rt->cgroup_root;
}

int runtime_new(const struct runtime_config *cfg, struct runtime **ret, struct error *err)
{
        static const char *const crun_c[] = {"/usr/bin/crun", "/usr/local/bin/crun", NULL};
        static const char *const runc_c[] = {"/usr/sbin/runc", "/usr/bin/runc",
                                             "/usr/local/sbin/runc", "/usr/local/bin/runc", NULL};
        static const char *const conmon_c[] = {"/usr/bin/conmon", "/usr/libexec/podman/conmon",
                                               "/usr/local/bin/conmon", NULL};
        const char *pod_cidr = cfg->pod_cidr ? cfg->pod_cidr : "10.42.0.0/24";
        const char *bridge = cfg->bridge ? cfg->bridge : "tmnl0";
        const char *svc = cfg->service_cidr ? cfg->service_cidr : "10.43.0.0/16";
        const char *cluster = cfg->cluster_cidr ? cfg->cluster_cidr : "10.42.0.0/16";
        const char *cg_root = cfg->cgroup_root ? cfg->cgroup_root : "/kubepods";
        int r;
        _cleanup_free_ char *brplugin = NULL, *hlplugin = NULL, *ipam_dir = NULL, *stp = NULL,
                            *confp = NULL;

        if (!cfg->data_dir || cfg->data_dir[0] != '/')
                return error_set(err, -EINVAL, "runtime: data dir must be an absolute path");
        if (!valid_cidr(pod_cidr) || !valid_cidr(svc) || !valid_cidr(cluster))
                return error_set(err, -EINVAL, "runtime: bad CIDR (pod %s, service %s, cluster %s)",
                                 pod_cidr, svc, cluster);
        if (!valid_name(bridge, 15))
                return error_set(err, -EINVAL, "runtime: bad bridge name %s", bridge);
        if (cg_root[0] != '/' || strlen(cg_root) < 2 || strstr(cg_root, ".."))
                return error_set(err, -EINVAL, "runtime: bad cgroup root %s", cg_root);

        struct runtime *rt = xcalloc(1, sizeof(*rt));
        rt->dir = xstrdup(cfg->data_dir);
        rt->pods_dir = xasprintf("%s/pods", rt->dir);
        rt->run_dir = xasprintf("%s/run", rt->dir);
        rt->netns_dir = xasprintf("%s/netns", rt->run_dir);
        rt->exits_dir = xasprintf("%s/exits", rt->run_dir);
        rt->sock_dir = xasprintf("%s/sock", rt->run_dir);
        rt->cgroup_root = xstrdup(cg_root);
        rt->cluster_dns = xstrdup(cfg->cluster_dns ? cfg->cluster_dns : "10.43.0.10");
        rt->cluster_domain = xstrdup(cfg->cluster_domain ? cfg->cluster_domain : "cluster.local");
        rt->net.bin_dir = xstrdup(cfg->cni_bin_dir ? cfg->cni_bin_dir : "/usr/lib/cni");
        rt->net.name = xstrdup(NET_NAME);

        struct rlimit rl;
        rt->nofile_hard = 1048576;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY)
                rt->nofile_hard = MIN((uint64_t)rl.rlim_max, rt->nofile_hard);

        _cleanup_free_ char *cni_dir = xasprintf("%s/cni", rt->run_dir);
        const char *const dirs[] = {rt->pods_dir, rt->netns_dir, rt->exits_dir,
                                    rt->sock_dir, cni_dir,       NULL};
        for (size_t i = 0; dirs[i]; i++)
                if ((r = fs_mkdir_p(dirs[i], 0755, NULL)) < 0) {
                        error_set(err, r, "mkdir %s: %s", dirs[i], strerror(-r));
                        goto fail;
                }

        /* cgroups + OCI runtime */
        if ((r = cgroup_host_detect(&rt->cg, err)) < 0)
                goto fail;
        const char *path = cfg->runtime_path;
        if (!path) {
                path = find_exe(crun_c);
                if (path && rt->cg.layout == CGROUP_LAYOUT_HYBRID) {
                        struct error e2 = {0};
                        if (cgroup_hybrid_fix(&rt->cg, &e2) < 0)
                                path = NULL; /* crun cannot run here: fall back to runc */
                }
                if (!path)
                        path = find_exe(runc_c);
                if (!path) {
                        r = error_set(err, -ENOENT, "runtime: neither crun nor runc found");
                        goto fail;
                }
        } else if (access(path, X_OK) < 0) {
                r = error_set(err, -ENOENT, "runtime: %s: %s", path, strerror(errno));
                goto fail;
        }
        rt->rt_path = xstrdup(path);
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        rt->rt_name = xstrdup(strstr(base, "runc") ? "runc" : "crun");
        if (!strcmp(rt->rt_name, "crun") && cfg->runtime_path &&
            rt->cg.layout == CGROUP_LAYOUT_HYBRID && (r = cgroup_hybrid_fix(&rt->cg, err)) < 0)
                goto fail;
        rt->rt_root = xasprintf("%s/%s", rt->run_dir, rt->rt_name);
        if ((r = fs_mkdir_p(rt->rt_root, 0700, NULL)) < 0) {
                error_set(err, r, "mkdir %s: %s", rt->rt_root, strerror(-r));
                goto fail;
        }
        {
                const char *argv[] = {rt->rt_path, "--version", NULL};
                struct spawn_opts o = {
                        .argv = argv, .capture_stdout = true, .pass_fd = -1, .timeout_ms = 10000};
                struct spawn_result res = {0};
                if ((r = spawn_run(&o, &res, err)) < 0)
                        goto fail;
                rt->rt_version = first_line(res.out);
                spawn_result_clear(&res);
        }
        const char *conmon = find_exe(conmon_c);
        if (!conmon) {
                r = error_set(err, -ENOENT, "runtime: conmon not found");
                goto fail;
        }
        rt->conmon_path = xstrdup(conmon);

        /* CNI */
        brplugin = xasprintf("%s/bridge", rt->net.bin_dir);
        hlplugin = xasprintf("%s/host-local", rt->net.bin_dir);
        if (access(brplugin, X_OK) < 0 || access(hlplugin, X_OK) < 0) {
                r = error_set(err, -ENOENT, "runtime: CNI bridge/host-local not in %s",
                              rt->net.bin_dir);
                goto fail;
        }
        ipam_dir = xasprintf("%s/cni/networks", rt->run_dir);
        rt->net.conf = cni_conf_build(NET_NAME, bridge, pod_cidr, ipam_dir);
        {
                /* other nodes' pods through the host; the cluster fence drops the rest */
                char *routed = cni_conf_add_route(rt->net.conf, cluster);
                free(rt->net.conf);
                rt->net.conf = routed;
        }

        /* what killall needs to undo, written before anything is changed on the host */
        json_t *st = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[s, s], s:s, s:s}", "runtime",
                               rt->rt_path, "runtime_name", rt->rt_name, "runtime_root",
                               rt->rt_root, "bridge", bridge, "pod_cidr", pod_cidr, "cgroup_root",
                               rt->cgroup_root, "fences", svc, cluster, "cni_bin_dir",
                               rt->net.bin_dir, "cni_conf", rt->net.conf);
        stp = xasprintf("%s/runtime.json", rt->run_dir);
        r = write_json(stp, st, err);
        json_decref(st);
        if (r < 0)
                goto fail;
        confp = xasprintf("%s/cni/net.json", rt->run_dir);
        if ((r = write_file_atomic(confp, rt->net.conf, err)) < 0)
                goto fail;

        if ((r = fence_add(svc, err)) < 0 || (r = fence_add(cluster, err)) < 0) {
                error_wrap(err, r, "network fence");
                goto fail;
        }
        ipam_gc(rt);
        *ret = rt;
        return 0;
fail:
        runtime_free(rt);
        return r;
}

/* ---- sandboxes ---- */

static char *pod_dir(struct runtime *rt, const char *uid)
{
        return xasprintf("%s/%s", rt->pods_dir, uid);
}

static const char *const qos_names[] = {"besteffort", "burstable", "guaranteed"};

static int qos_from_name(const char *s)
{
        for (int i = 0; i < 3; i++)
                if (s && !strcmp(s, qos_names[i]))
                        return i;
        return 0;
}

static char *build_hosts(const struct sandbox_config *cfg, const char *ip, const char *hostname,
                         const char *domain)
{
        size_t cap = 4096, len = 0;
        char *b = xmalloc(cap);
#define ADD(...)                                                                                   \
        do {                                                                                       \
                int _n = snprintf(NULL, 0, __VA_ARGS__);                                           \
                if (len + (size_t)_n + 1 > cap) {                                                  \
                        cap = (len + (size_t)_n + 1) * 2;                                          \
                        b = xrealloc(b, cap);                                                      \
                }                                                                                  \
                len += (size_t)snprintf(b + len, cap - len, __VA_ARGS__);                          \
        } while (0)
        ADD("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost "
            "ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\n"
            "fe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n");
        if (ip) {
                if (cfg->subdomain && *cfg->subdomain)
                        ADD("%s\t%s.%s.%s.svc.%s\t%s\n", ip, hostname, cfg->subdomain, cfg->ns,
                            domain, hostname);
                else
                        ADD("%s\t%s\n", ip, hostname);
        }
        if (cfg->n_host_aliases)
                ADD("\n# Entries added by HostAliases.\n");
        for (size_t i = 0; i < cfg->n_host_aliases; i++) {
                const struct runtime_host_alias *a = &cfg->host_aliases[i];
                if (!a->ip)
                        continue;
                ADD("%s", a->ip);
                for (size_t k = 0; a->hostnames && a->hostnames[k]; k++)
                        ADD("\t%s", a->hostnames[k]);
                ADD("\n");
        }
#undef ADD
        return b;
}

static char *build_resolv(struct runtime *rt, const struct sandbox_config *cfg)
{
        size_t cap = 1024, len = 0;
        char *b = xmalloc(cap);
#define ADD(...)                                                                                   \
        do {                                                                                       \
                int _n = snprintf(NULL, 0, __VA_ARGS__);                                           \
                if (len + (size_t)_n + 1 > cap) {                                                  \
                        cap = (len + (size_t)_n + 1) * 2;                                          \
                        b = xrealloc(b, cap);                                                      \
                }                                                                                  \
                len += (size_t)snprintf(b + len, cap - len, __VA_ARGS__);                          \
        } while (0)
        b[0] = 0;
        if (cfg->dns_searches) {
                if (cfg->dns_searches[0]) {
                        ADD("search");
                        for (size_t i = 0; cfg->dns_searches[i]; i++)
                                ADD(" %s", cfg->dns_searches[i]);
                        ADD("\n");
                }
        } else {
                ADD("search %s.svc.%s svc.%s %s\n", cfg->ns, rt->cluster_domain, rt->cluster_domain,
                    rt->cluster_domain);
        }
        if (cfg->dns_servers) {
                for (size_t i = 0; cfg->dns_servers[i]; i++)
                        ADD("nameserver %s\n", cfg->dns_servers[i]);
        } else {
                ADD("nameserver %s\n", rt->cluster_dns);
        }
        if (cfg->dns_options) {
                if (cfg->dns_options[0]) {
                        ADD("options");
                        for (size_t i = 0; cfg->dns_options[i]; i++)
                                ADD(" %s", cfg->dns_options[i]);
                        ADD("\n");
                }
        } else {
                ADD("options ndots:5\n");
        }
#undef ADD
        return b;
}

static int write_text(const char *dir, const char *name, const char *text, struct error *err)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        return write_file_atomic(p, text, err);
}

int runtime_sandbox_create(struct runtime *rt, const struct sandbox_config *cfg, char **ret_ip,
                           struct error *err)
{
        if (!valid_name(cfg->uid, 128) || !cfg->ns || !cfg->name)
                return error_set(err, -EINVAL, "sandbox: bad pod uid/namespace/name");
        const char *hostname = cfg->hostname && *cfg->hostname ? cfg->hostname : cfg->name;
        if (!valid_name(hostname, 253))
                return error_set(err, -EINVAL, "sandbox: bad hostname %s", hostname);
        _cleanup_free_ char *pd = pod_dir(rt, cfg->uid);
        _cleanup_free_ char *sbp = xasprintf("%s/sandbox.json", pd);
        _cleanup_free_ char *nsp = xasprintf("%s/%s", rt->netns_dir, cfg->uid);
        _cleanup_free_ char *ip = NULL;
        int r;
        _cleanup_free_ char *hn = NULL, *cgp = NULL, *hosts = NULL, *resolv = NULL;

        json_t *old = read_json(sbp);
        if (old) {
                const char *oip = json_string_value(json_object_get(old, "ip"));
                *ret_ip = dup_or_null(oip);
                json_decref(old);
                return 0;
        }
        /* leftovers of a half-made sandbox */
        if (file_exists(pd) || file_exists(nsp)) {
                struct error e2 = {0};
                runtime_sandbox_remove(rt, cfg->uid, &e2);
        }
        if (mkdir(pd, 0755) < 0)
                return error_set(err, -errno, "mkdir %s: %s", pd, strerror(errno));
        if (!cfg->host_network) {
                if ((r = cni_netns_create(nsp, err)) < 0)
                        goto fail;
                if ((r = cni_add(&rt->net, cfg->uid, nsp, &ip, err)) < 0)
                        goto fail;
        }
        if (cfg->host_network) {
                int fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);
                hosts = xcalloc(1, 65537);
                if (fd >= 0) {
                        ssize_t n = read(fd, hosts, 65536);
                        (void)n;
                        close(fd);
                }
        } else {
                hosts = build_hosts(cfg, ip, hostname, rt->cluster_domain);
        }
        resolv = build_resolv(rt, cfg);
        hn = xasprintf("%s\n", hostname);
        if ((r = write_text(pd, "etc-hosts", hosts, err)) < 0 ||
            (r = write_text(pd, "resolv.conf", resolv, err)) < 0 ||
            (r = write_text(pd, "hostname", hn, err)) < 0)
                goto fail;
        cgp = cgroup_pod_path(rt->cgroup_root, (int)cfg->qos, cfg->uid);
        if ((r = cgroup_path_create(&rt->cg, cgp, err)) < 0 ||
            (r = cgroup_path_set(&rt->cg, cgp, &cfg->pod_res, err)) < 0)
                goto fail;
        if (cfg->qos == RUNTIME_QOS_BESTEFFORT) {
                /* the kubelet's BestEffort QoS level: minimum cpu shares */
                struct cgroup_resources be = {.cpu_shares = 2};
                char *slash = strrchr(cgp, '/');
                *slash = 0;
                r = cgroup_path_set(&rt->cg, cgp, &be, err);
                *slash = '/';
                if (r < 0)
                        goto fail;
        }
        int qos = cfg->qos <= RUNTIME_QOS_GUARANTEED ? (int)cfg->qos : 0;
        json_t *sb = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s, s:I}", "uid", cfg->uid, "ns",
                               cfg->ns, "name", cfg->name, "hostname", hostname, "ip", ip, "netns",
                               cfg->host_network ? NULL : nsp, "qos", qos_names[qos], "created_ns",
                               (json_int_t)now_ns());
        r = write_json(sbp, sb, err);
        json_decref(sb);
        if (r < 0)
                goto fail;
        *ret_ip = TAKE_PTR(ip);
        return 0;
fail : {
        struct error e2 = {0};
        runtime_sandbox_remove(rt, cfg->uid, &e2);
}
        return error_wrap(err, r, "sandbox %s/%s", cfg->ns, cfg->name);
}

/* ---- containers: lookup ---- */

/* The container dir of id: A/pods/<uid>/containers/<id>, found by scanning the pods (ids carry
 * only a prefix of the pod uid). NULL if absent. */
static char *find_container_dir(struct runtime *rt, const char *id)
{
        if (!valid_name(id, 255))
                return NULL;
        DIR *d = opendir(rt->pods_dir);
        if (!d)
                return NULL;
        char *found = NULL;
        struct dirent *de;
        while (!found && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char *c = xasprintf("%s/%s/containers/%s", rt->pods_dir, de->d_name, id);
                if (file_exists(c))
                        found = c;
                else
                        free(c);
        }
        closedir(d);
        return found;
}

/* <12 hex digits of FNV-1a(pod uid)>-<name>-<attempt>: deterministic, short enough for conmon's
 * socket paths, and distinct for uids that share a prefix. */
char *runtime_container_id(const char *uid, const char *name, unsigned attempt)
{
        uint64_t h = 1469598103934665603ULL;
        for (const char *p = uid; *p; p++) {
                h ^= (unsigned char)*p;
                h *= 1099511628211ULL;
        }
        return xasprintf("%012llx-%s-%u", (unsigned long long)(h & 0xffffffffffffULL), name,
                         attempt);
}

static pid_t read_pid(const char *path)
{
        char buf[32] = {0};
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return 0;
        long v = strtol(buf, NULL, 10);
        return v > 0 && v < INT32_MAX ? (pid_t)v : 0;
}

/* Alive and not a zombie (conmon is reparented to PID 1, which may reap it late). */
static bool pid_alive(pid_t pid)
{
        if (pid <= 0 || (kill(pid, 0) < 0 && errno != EPERM))
                return false;
        char p[64], buf[256] = {0};
        snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        const char *rp = n > 0 ? strrchr(buf, ')') : NULL;
        return !(rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

/* Exit file: 0 and code/mtime if present, -ENOENT otherwise. */
static int read_exit(struct runtime *rt, const char *id, int *ret_code, struct timespec *ret_mtime)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", rt->exits_dir, id);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        char buf[32] = {0};
        struct stat st;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        int fs = fstat(fd, &st);
        close(fd);
        if (n <= 0) /* conmon writes it in one go; empty means "being written" */
                return -ENOENT;
        *ret_code = (int)strtol(buf, NULL, 10);
        if (ret_mtime && fs == 0)
                *ret_mtime = st.st_mtim;
        return 0;
}

static int wait_exit(struct runtime *rt, const char *id, int timeout_ms)
{
        int code;
        for (int waited = 0;; waited += 5) {
                if (read_exit(rt, id, &code, NULL) == 0)
                        return 0;
                if (waited >= timeout_ms)
                        return -ETIMEDOUT;
                sleep_ms(5);
        }
}

/* ---- containers: start ---- */

/* Spawn conmon (which daemonizes) and wait on the sync pipe for the container's pid. */
static int start_conmon(struct runtime *rt, const char *id, const char *cdir, const char *log_path,
                        const char *display_name, const struct container_config *cfg, int *ret_pid,
                        struct error *err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return error_set(err, -errno, "pipe: %s", strerror(errno));
        _cleanup_free_ char *pidfile = xasprintf("%s/pidfile", cdir);
        _cleanup_free_ char *cpidfile = xasprintf("%s/conmon.pid", cdir);
        _cleanup_free_ char *persist = xasprintf("%s/persist", cdir);
        _cleanup_free_ char *logarg = xasprintf("k8s-file:%s", log_path);
        _cleanup_free_ char *rootarg = xasprintf("--root=%s", rt->rt_root);
        const char *argv[] = {rt->conmon_path,
                              "--api-version",
                              "1",
                              "-c",
                              id,
                              "-u",
                              id,
                              "-n",
                              display_name,
                              "-r",
                              rt->rt_path,
                              "-b",
                              cdir,
                              "-p",
                              pidfile,
                              "-P",
                              cpidfile,
                              "-l",
                              logarg,
                              "--exit-dir",
                              rt->exits_dir,
                              "--socket-dir-path",
                              rt->sock_dir,
                              "-0",
                              persist,
                              "--runtime-arg",
                              rootarg,
                              "--log-level",
                              "error",
                              NULL,
                              NULL,
                              NULL,
                              NULL};
        /* as CRI-O passes them: -t for a terminal, -i for stdin, which stays open for the next
         * attach unless stdinOnce */
        size_t na = 0;
        while (argv[na])
                na++;
        if (cfg->tty)
                argv[na++] = "-t";
        if (cfg->stdin) {
                argv[na++] = "-i";
                if (!cfg->stdin_once)
                        argv[na++] = "--leave-stdin-open";
        }
        /* our environment minus any _OCI_* plus the sync pipe on fd 3 */
        size_t n = 0;
        while (environ[n])
                n++;
        const char **envp = xcalloc(n + 2, sizeof(*envp));
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], "_OCI_", 5) && strncmp(environ[i], "NOTIFY_SOCKET=", 14))
                        envp[k++] = environ[i];
        envp[k++] = "_OCI_SYNCPIPE=3";
        envp[k] = NULL;
        struct spawn_opts o = {.argv = argv,
                               .envp = envp,
                               .capture_stderr = true,
                               .pass_fd = p[1],
                               .cwd = cdir,
                               .timeout_ms = SYNC_TIMEOUT_MS};
        struct spawn_result res = {0};
        int r = spawn_run(&o, &res, err);
        free(envp);
        close(p[1]);
        if (r < 0) {
                close(p[0]);
                return r;
        }
        if (res.status != 0) {
                r = error_set(err, -EIO, "conmon exited with %d: %s", res.status, res.errout);
                spawn_result_clear(&res);
                close(p[0]);
                return r;
        }
        spawn_result_clear(&res);

        /* read until one JSON object is complete or the pipe closes */
        char buf[4096];
        size_t len = 0;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = -ETIMEDOUT;
        for (;;) {
                struct pollfd pf = {p[0], POLLIN, 0};
                int q = poll(&pf, 1, 1000);
                if (q < 0 && errno != EINTR)
                        break;
                if (q > 0) {
                        ssize_t rd = read(p[0], buf + len, sizeof(buf) - 1 - len);
                        if (rd > 0)
                                len += (size_t)rd;
                        buf[len] = 0;
                        if (len && oci_sync_parse(buf, len, ret_pid, NULL) != -EPROTO) {
                                r = oci_sync_parse(buf, len, ret_pid, err);
                                break;
                        }
                        if (rd == 0 || len >= sizeof(buf) - 1) {
                                r = error_set(err, -EPROTO,
                                              "conmon: no pid on the sync pipe (%.*s)",
                                              (int)MIN(len, 200), buf);
                                break;
                        }
                }
                struct timespec t1;
                clock_gettime(CLOCK_MONOTONIC, &t1);
                if ((t1.tv_sec - t0.tv_sec) * 1000 > SYNC_TIMEOUT_MS) {
                        r = error_set(err, -ETIMEDOUT, "conmon: no sync message in %d ms",
                                      SYNC_TIMEOUT_MS);
                        break;
                }
        }
        close(p[0]);
        return r;
}

static void container_cleanup(struct runtime *rt, const char *id, const char *cdir)
{
        struct error e2 = {0};
        _cleanup_free_ char *st = xasprintf("%s/%s", rt->rt_root, id);
        if (file_exists(st)) {
                const char *del[] = {"delete", "--force", id, NULL};
                run_rt_ok(rt, del, &e2);
        }
        if (cdir) {
                _cleanup_free_ char *cpidf = xasprintf("%s/conmon.pid", cdir);
                pid_t cp = read_pid(cpidf);
                /* conmon leaves once the container is gone; give it a moment, then insist */
                for (int i = 0; i < 200 && pid_alive(cp); i++)
                        sleep_ms(5);
                if (pid_alive(cp))
                        kill(cp, SIGKILL);
                _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", cdir);
                rootfs_umount_below(cdir, &e2);
                rootfs_umount(rootfs, &e2);
                rootfs_rm_rf(cdir);
        }
        _cleanup_free_ char *ex = xasprintf("%s/%s", rt->exits_dir, id);
        unlink(ex);
        _cleanup_free_ char *sock = xasprintf("%s/%s", rt->sock_dir, id);
        rootfs_rm_rf(sock);
}

static void update_meta(const char *cdir, const char *key, int64_t v)
{
        _cleanup_free_ char *p = xasprintf("%s/container.json", cdir);
        json_t *j = read_json(p);
        if (!j)
                return;
        json_object_set_new(j, key, json_integer(v));
        struct error e2 = {0};
        write_json(p, j, &e2);
        json_decref(j);
}

/* shareProcessNamespace: /proc/<pid>/ns/pid of a running container of the pod other than
 * self, or NULL (the caller's container then starts the pod's pid namespace). */
static char *shared_pid_ns(struct runtime *rt, const char *uid, const char *self)
{
        _cleanup_free_ char *dir = xasprintf("%s/%s/containers", rt->pods_dir, uid);
        DIR *d = opendir(dir);
        if (!d)
                return NULL;
        char *found = NULL;
        struct dirent *de;
        while (!found && (de = readdir(d))) {
                if (de->d_name[0] == '.' || !strcmp(de->d_name, self))
                        continue;
                struct container_state st;
                if (runtime_container_status(rt, de->d_name, &st, NULL) == 0 &&
                    st.state == CONTAINER_RUNNING && st.pid > 0)
                        found = xasprintf("/proc/%d/ns/pid", (int)st.pid);
        }
        closedir(d);
        return found;
}

int runtime_container_start(struct runtime *rt, const struct container_config *cfg, char **ret_id,
                            struct error *err)
{
        if (!valid_name(cfg->pod_uid, 128) || !valid_name(cfg->name, 63))
                return error_set(err, -EINVAL, "container: bad pod uid or container name");
        if (!cfg->log_path || cfg->log_path[0] != '/')
                return error_set(err, -EINVAL, "container %s: log path must be absolute",
                                 cfg->name);
        if (!cfg->args || !cfg->args[0])
                return error_set(err, -EINVAL, "container %s: no command", cfg->name);
        _cleanup_free_ char *pd = pod_dir(rt, cfg->pod_uid);
        _cleanup_free_ char *sbp = xasprintf("%s/sandbox.json", pd);
        json_t *sb = read_json(sbp);
        if (!sb)
                return error_set(err, -ENOENT, "container %s: no sandbox for pod %s", cfg->name,
                                 cfg->pod_uid);
        _cleanup_free_ char *hostname =
                dup_or_null(json_string_value(json_object_get(sb, "hostname")));
        _cleanup_free_ char *netns = dup_or_null(json_string_value(json_object_get(sb, "netns")));
        int qos = qos_from_name(json_string_value(json_object_get(sb, "qos")));
        json_decref(sb);

        _cleanup_free_ char *id = runtime_container_id(cfg->pod_uid, cfg->name, cfg->attempt);
        _cleanup_free_ char *cdir = xasprintf("%s/containers/%s", pd, id);
        int r;
        _cleanup_free_ char *pidns = NULL;
        _cleanup_free_ char *logdir = NULL, *rootfs = NULL, *podcg = NULL, *cgpath = NULL,
                            *hosts = NULL, *resolv = NULL, *hnf = NULL, *specp = NULL,
                            *display = NULL;
        _cleanup_free_ char *other = find_container_dir(rt, id);
        if (other || file_exists(cdir))
                return error_set(err, -EEXIST, "container %s exists", id);
        /* a stale runtime state / exit file under the same id (killed agent mid-remove) */
        container_cleanup(rt, id, NULL);
        if ((r = fs_mkdir_p(cdir, 0755, NULL)) < 0)
                return error_set(err, r, "mkdir %s: %s", cdir, strerror(-r));
        _cleanup_free_ char *persist = xasprintf("%s/persist", cdir);
        mkdir(persist, 0700);

        int64_t created = now_ns();
        json_t *meta = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I}", "id", id, "pod_uid",
                                 cfg->pod_uid, "pod_ns", cfg->pod_ns ? cfg->pod_ns : "", "pod_name",
                                 cfg->pod_name ? cfg->pod_name : "", "name", cfg->name, "attempt",
                                 (json_int_t)cfg->attempt, "log_path", cfg->log_path, "created_ns",
                                 (json_int_t)created);
        _cleanup_free_ char *metap = xasprintf("%s/container.json", cdir);
        r = write_json(metap, meta, err);
        json_decref(meta);
        if (r < 0)
                goto fail;

        if ((r = rootfs_mount(cdir, cfg->layer_dirs, err)) < 0)
                goto fail;
        logdir = xstrdup(cfg->log_path);
        *strrchr(logdir, '/') = 0;
        if (*logdir && (r = fs_mkdir_p(logdir, 0755, NULL)) < 0) {
                error_set(err, r, "mkdir %s: %s", logdir, strerror(-r));
                goto fail;
        }

        rootfs = xasprintf("%s/rootfs", cdir);
        podcg = cgroup_pod_path(rt->cgroup_root, qos, cfg->pod_uid);
        cgpath = xasprintf("%s/%s", podcg, id);
        hosts = xasprintf("%s/etc-hosts", pd);
        resolv = xasprintf("%s/resolv.conf", pd);
        hnf = xasprintf("%s/hostname", pd);
        struct oci_mount *mounts = xcalloc(cfg->n_mounts + 1, sizeof(*mounts));
        for (size_t i = 0; i < cfg->n_mounts; i++)
                mounts[i] =
                        (struct oci_mount){cfg->mounts[i].host_path, cfg->mounts[i].container_path,
                                           cfg->mounts[i].read_only};
        pidns = cfg->share_pid ? shared_pid_ns(rt, cfg->pod_uid, id) : NULL;
        struct oci_params op = {
                .rootfs = rootfs,
                .hostname = hostname,
                .netns_path = netns,
                .cgroups_path = cgpath,
                .args = cfg->args,
                .env = cfg->env,
                .cwd = cfg->cwd,
                .uid = cfg->uid,
                .gid = cfg->gid,
                .hosts_file = hosts,
                .resolv_file = resolv,
                .hostname_file = hnf,
                .mounts = mounts,
                .n_mounts = cfg->n_mounts,
                .memory_limit = cfg->memory_limit,
                .cpu_quota_us =
                        cfg->cpu_limit_millis > 0 ? MAX(cfg->cpu_limit_millis * 100, 1000) : 0,
                .cpu_shares = cfg->cpu_request_millis > 0
                                      ? (uint64_t)MAX(cfg->cpu_request_millis * 1024 / 1000, 2)
                                      : 2,
                .nofile_hard = rt->nofile_hard,
                .privileged = cfg->privileged,
                .caps_add = cfg->caps_add,
                .caps_drop = cfg->caps_drop,
                .readonly_rootfs = cfg->readonly_rootfs,
                .no_new_privs = cfg->no_new_privs,
                .additional_gids = cfg->additional_gids,
                .n_additional_gids = cfg->n_additional_gids,
                .seccomp_runtime_default = cfg->seccomp_runtime_default,
                .terminal = cfg->tty,
                .host_pid = cfg->host_pid,
                .host_ipc = cfg->host_ipc,
                .pid_ns_path = pidns,
        };
        json_t *spec = NULL;
        r = oci_config_build(&op, &spec, err);
        free(mounts);
        if (r < 0)
                goto fail;
        specp = xasprintf("%s/config.json", cdir);
        r = write_json(specp, spec, err);
        json_decref(spec);
        if (r < 0)
                goto fail;

        display = xasprintf("%s_%s_%s", cfg->pod_ns ? cfg->pod_ns : "",
                            cfg->pod_name ? cfg->pod_name : "", cfg->name);
        int pid = 0;
        if ((r = start_conmon(rt, id, cdir, cfg->log_path, display, cfg, &pid, err)) < 0)
                goto fail;
        const char *start[] = {"start", id, NULL};
        if ((r = run_rt_ok(rt, start, err)) < 0)
                goto fail;
        update_meta(cdir, "started_ns", now_ns());
        *ret_id = TAKE_PTR(id);
        return 0;
fail:
        container_cleanup(rt, id, cdir);
        return error_wrap(err, r, "container %s", cfg->name);
}

/* ---- containers: status / stop / remove / list ---- */

int runtime_container_status(struct runtime *rt, const char *id, struct container_state *ret,
                             struct error *err)
{
        _cleanup_free_ char *cdir = find_container_dir(rt, id);
        if (!cdir)
                return error_set(err, -ENOENT, "container %s not found", id ? id : "");
        _cleanup_free_ char *metap = xasprintf("%s/container.json", cdir);
        json_t *meta = read_json(metap);
        struct container_state s;
        memset(&s, 0, sizeof(s));
        int64_t started = 0;
        if (meta) {
                s.created_at = ns_to_ts(json_integer_value(json_object_get(meta, "created_ns")));
                started = json_integer_value(json_object_get(meta, "started_ns"));
                s.started_at = ns_to_ts(started);
                json_decref(meta);
        }
        int code;
        struct timespec fin = {0};
        bool have_exit = read_exit(rt, id, &code, &fin) == 0;
        if (!have_exit) {
                _cleanup_free_ char *pidf = xasprintf("%s/pidfile", cdir);
                pid_t pid = read_pid(pidf);
                if (started && pid_alive(pid)) {
                        s.state = CONTAINER_RUNNING;
                        s.pid = pid;
                        *ret = s;
                        return 0;
                }
                const char *args[] = {"state", id, NULL};
                struct spawn_result res = {0};
                char status[32] = "";
                int spid = 0;
                struct error e2 = {0};
                if (run_rt(rt, args, &res, &e2) == 0 && res.status == 0)
                        oci_state_parse(res.out, strlen(res.out), status, sizeof(status), &spid,
                                        &e2);
                spawn_result_clear(&res);
                if (!strcmp(status, "running")) {
                        s.state = CONTAINER_RUNNING;
                        s.pid = spid;
                } else if (!strcmp(status, "created")) {
                        s.state = CONTAINER_CREATED;
                } else if (started && wait_exit(rt, id, 500) == 0) {
                        have_exit = read_exit(rt, id, &code, &fin) == 0;
                } else {
                        s.state = CONTAINER_UNKNOWN;
                }
        }
        if (have_exit) {
                s.state = CONTAINER_EXITED;
                s.exit_code = code;
                s.finished_at = fin;
                _cleanup_free_ char *oom1 = xasprintf("%s/persist/oom", cdir);
                _cleanup_free_ char *oom2 = xasprintf("%s/oom", cdir);
                s.oom_killed = file_exists(oom1) || file_exists(oom2);
                snprintf(s.reason, sizeof(s.reason), "%s",
                         s.oom_killed ? "OOMKilled"
                         : code == 0  ? "Completed"
                                      : "Error");
        }
        *ret = s;
        return 0;
}

int runtime_container_kill(struct runtime *rt, const char *id, const char *signal,
                           struct error *err)
{
        _cleanup_free_ char *cdir = find_container_dir(rt, id);
        if (!cdir)
                return error_set(err, -ENOENT, "container %s not found", id ? id : "");
        int code;
        if (read_exit(rt, id, &code, NULL) == 0)
                return 0;
        const char *args[] = {"kill", id, signal, NULL};
        return run_rt_ok(rt, args, err);
}

int runtime_container_stop(struct runtime *rt, const char *id, int grace_seconds, struct error *err)
{
        _cleanup_free_ char *cdir = find_container_dir(rt, id);
        if (!cdir)
                return error_set(err, -ENOENT, "container %s not found", id ? id : "");
        int code;
        if (read_exit(rt, id, &code, NULL) == 0)
                return 0;
        struct error e2 = {0};
        if (grace_seconds > 0) {
                const char *term[] = {"kill", id, "TERM", NULL};
                if (run_rt_ok(rt, term, &e2) == 0 &&
                    wait_exit(rt, id, grace_seconds > 3600 ? 3600000 : grace_seconds * 1000) == 0)
                        return 0;
        }
        const char *kill9[] = {"kill", id, "KILL", NULL};
        int r = run_rt_ok(rt, kill9, err);
        if (wait_exit(rt, id, 10000) == 0)
                return 0;
        if (r < 0) {
                /* never started (created) or already gone without an exit file */
                _cleanup_free_ char *cpidf = xasprintf("%s/conmon.pid", cdir);
                if (!pid_alive(read_pid(cpidf)))
                        return 0;
                return error_wrap(err, r, "stop %s", id);
        }
        return error_set(err, -ETIMEDOUT, "stop %s: no exit after SIGKILL", id);
}

int runtime_container_remove(struct runtime *rt, const char *id, struct error *err)
{
        if (!valid_name(id, 255))
                return error_set(err, -EINVAL, "bad container id");
        _cleanup_free_ char *cdir = find_container_dir(rt, id);
        container_cleanup(rt, id, cdir);
        if (cdir && file_exists(cdir))
                return error_set(err, -EBUSY, "container %s: could not remove %s", id, cdir);
        return 0;
}

static void info_clear(struct container_info *ci)
{
        free(ci->id);
        free(ci->pod_uid);
        free(ci->pod_ns);
        free(ci->pod_name);
        free(ci->name);
        free(ci->log_path);
        memset(ci, 0, sizeof(*ci));
}

static void info_from_meta(struct container_info *ci, json_t *m)
{
        ci->id = dup_or_null(json_string_value(json_object_get(m, "id")));
        ci->pod_uid = dup_or_null(json_string_value(json_object_get(m, "pod_uid")));
        ci->pod_ns = dup_or_null(json_string_value(json_object_get(m, "pod_ns")));
        ci->pod_name = dup_or_null(json_string_value(json_object_get(m, "pod_name")));
        ci->name = dup_or_null(json_string_value(json_object_get(m, "name")));
        ci->attempt = (unsigned)json_integer_value(json_object_get(m, "attempt"));
        ci->log_path = dup_or_null(json_string_value(json_object_get(m, "log_path")));
        ci->created_at = ns_to_ts(json_integer_value(json_object_get(m, "created_ns")));
}

int runtime_container_list(struct runtime *rt, struct container_info **ret, size_t *ret_n,
                           struct error *err)
{
        struct container_info *a = NULL;
        size_t n = 0;
        DIR *d = opendir(rt->pods_dir);
        if (!d)
                return error_set(err, -errno, "%s: %s", rt->pods_dir, strerror(errno));
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *cd = xasprintf("%s/%s/containers", rt->pods_dir, de->d_name);
                DIR *d2 = opendir(cd);
                if (!d2)
                        continue;
                struct dirent *ce;
                while ((ce = readdir(d2))) {
                        if (ce->d_name[0] == '.')
                                continue;
                        _cleanup_free_ char *mp = xasprintf("%s/%s/container.json", cd, ce->d_name);
                        json_t *m = read_json(mp);
                        if (!m)
                                continue;
                        a = xrealloc(a, (n + 1) * sizeof(*a));
                        memset(&a[n], 0, sizeof(*a));
                        info_from_meta(&a[n], m);
                        json_decref(m);
                        if (!a[n].id || !a[n].pod_uid || !a[n].name) {
                                info_clear(&a[n]); /* the slot is reused */
                                continue;
                        }
                        n++;
                }
                closedir(d2);
        }
        closedir(d);
        *ret = a;
        *ret_n = n;
        return 0;
}

void runtime_container_info_free(struct container_info *a, size_t n)
{
        if (!a)
                return;
        for (size_t i = 0; i < n; i++)
                info_clear(&a[i]);
        free(a);
}

/* ---- sandbox remove / list ---- */

int runtime_sandbox_remove(struct runtime *rt, const char *uid, struct error *err)
{
        if (!valid_name(uid, 128))
                return error_set(err, -EINVAL, "sandbox: bad pod uid");
        _cleanup_free_ char *pd = pod_dir(rt, uid);
        _cleanup_free_ char *nsp = xasprintf("%s/%s", rt->netns_dir, uid);
        _cleanup_free_ char *cd = xasprintf("%s/containers", pd);
        int r = 0;
        struct error e2 = {0};

        DIR *d = opendir(cd);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        _cleanup_free_ char *c = xasprintf("%s/%s", cd, de->d_name);
                        container_cleanup(rt, de->d_name, c);
                }
                closedir(d);
        }
        _cleanup_free_ char *sbp = xasprintf("%s/sandbox.json", pd);
        json_t *sb = read_json(sbp);
        bool host_net = sb && !json_object_get(sb, "netns");
        json_decref(sb);
        if (!host_net && (file_exists(nsp) || file_exists(pd))) {
                bool have_ns = cni_netns_exists(nsp);
                int q = cni_del(&rt->net, uid, have_ns ? nsp : NULL, &e2);
                if (q < 0 && have_ns)
                        r = error_set(err, q, "%s", e2.msg);
                if ((q = cni_netns_remove(nsp, &e2)) < 0 && !r)
                        r = error_set(err, q, "%s", e2.msg);
        }
        if (file_exists(pd)) {
                rootfs_umount_below(pd, &e2);
                int q = rootfs_rm_rf(pd);
                if (q < 0 && !r)
                        r = error_set(err, q, "rm -rf %s: %s", pd, strerror(-q));
        }
        for (int qos = 0; qos < 3; qos++) {
                _cleanup_free_ char *cgp = cgroup_pod_path(rt->cgroup_root, qos, uid);
                cgroup_path_kill(&rt->cg, cgp);
                int q = cgroup_path_remove(&rt->cg, cgp, &e2);
                if (q < 0 && !r)
                        r = error_set(err, q, "%s", e2.msg);
        }
        return r < 0 ? error_wrap(err, r, "remove sandbox %s", uid) : 0;
}

int runtime_sandbox_list(struct runtime *rt, struct sandbox_info **ret, size_t *ret_n,
                         struct error *err)
{
        struct sandbox_info *a = NULL;
        size_t n = 0;
        DIR *d = opendir(rt->pods_dir);
        if (!d)
                return error_set(err, -errno, "%s: %s", rt->pods_dir, strerror(errno));
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s/sandbox.json", rt->pods_dir, de->d_name);
                json_t *j = read_json(p);
                if (!j)
                        continue;
                const char *uid = json_string_value(json_object_get(j, "uid"));
                if (uid) {
                        a = xrealloc(a, (n + 1) * sizeof(*a));
                        a[n].uid = xstrdup(uid);
                        a[n].ns = dup_or_null(json_string_value(json_object_get(j, "ns")));
                        a[n].name = dup_or_null(json_string_value(json_object_get(j, "name")));
                        a[n].ip = dup_or_null(json_string_value(json_object_get(j, "ip")));
                        a[n].created_at =
                                ns_to_ts(json_integer_value(json_object_get(j, "created_ns")));
                        n++;
                }
                json_decref(j);
        }
        closedir(d);
        *ret = a;
        *ret_n = n;
        return 0;
}

void runtime_sandbox_info_free(struct sandbox_info *a, size_t n)
{
        if (!a)
                return;
        for (size_t i = 0; i < n; i++) {
                free(a[i].uid);
                free(a[i].ns);
                free(a[i].name);
                free(a[i].ip);
        }
        free(a);
}

char **runtime_container_exec_argv(struct runtime *rt, const char *id, bool tty,
                                   const char *const *cmd)
{
        size_t n = 0;
        while (cmd && cmd[n])
                n++;
        char **v = xcalloc(n + 8, sizeof(*v));
        size_t k = 0;
        v[k++] = xstrdup(rt->rt_path);
        v[k++] = xstrdup("--root");
        v[k++] = xstrdup(rt->rt_root);
        v[k++] = xstrdup("exec");
        if (tty)
                v[k++] = xstrdup("-t");
        v[k++] = xstrdup(id);
        for (size_t i = 0; i < n; i++)
                v[k++] = xstrdup(cmd[i]);
        v[k] = NULL;
        return v;
}

int runtime_sandbox_netns(struct runtime *rt, const char *uid, char **ret, struct error *err)
{
        _cleanup_free_ char *pd = pod_dir(rt, uid);
        _cleanup_free_ char *sbp = xasprintf("%s/sandbox.json", pd);
        json_t *sb = read_json(sbp);
        if (!sb)
                return error_set(err, -ENOENT, "no sandbox for pod %s", uid);
        *ret = dup_or_null(json_string_value(json_object_get(sb, "netns")));
        json_decref(sb);
        return 0;
}

char *runtime_container_attach_socket(struct runtime *rt, const char *id)
{
        return xasprintf("%s/%s/attach", rt->sock_dir, id);
}
