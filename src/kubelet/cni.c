/* cni.c — network namespaces and CNI plugins (PLATFORM.md "CNI recipe"). */
#include "kubelet/cni.h"

#include "common/spawn.h"

#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

char *cni_conf_build(const char *name, const char *bridge, const char *pod_cidr,
                     const char *ipam_dir)
{
        json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:{s:s, s:[[{s:s}]], s:s}}",
                              "cniVersion", "1.0.0", "name", name, "type", "bridge", "bridge",
                              bridge, "isGateway", 1, "isDefaultGateway", 0, "ipMasq", 0,
                              "hairpinMode", 1, "ipam", "type", "host-local", "ranges", "subnet",
                              pod_cidr, "dataDir", ipam_dir);
        char *s = json_dumps(c, JSON_COMPACT);
        json_decref(c);
        char *r = xstrdup(s);
        free(s);
        return r;
}

char *cni_conf_add_route(const char *conf, const char *dst)
{
        json_error_t je;
        json_t *c = json_loads(conf, 0, &je);
        json_t *ipam = json_object_get(c, "ipam");
        if (!json_is_object(ipam)) {
                json_decref(c);
                return xstrdup(conf);
        }
        json_t *routes = json_object_get(ipam, "routes");
        if (!json_is_array(routes)) {
                routes = json_array();
                json_object_set_new(ipam, "routes", routes);
        }
        json_array_append_new(routes, json_pack("{s:s}", "dst", dst));
        char *s = json_dumps(c, JSON_COMPACT);
        json_decref(c);
        char *r = xstrdup(s);
        free(s);
        return r;
}

int cni_result_ip(const char *buf, size_t len, char **ret_ip, struct error *err)
{
        json_error_t je;
        json_t *j = json_loadb(buf, len, 0, &je);
        int r = error_set(err, -EPROTO, "CNI result has no IPv4 address");
        json_t *ips = json_object_get(j, "ips");
        for (size_t i = 0; json_is_array(ips) && i < json_array_size(ips); i++) {
                const char *a =
                        json_string_value(json_object_get(json_array_get(ips, i), "address"));
                if (!a || !strchr(a, '.'))
                        continue;
                const char *slash = strchr(a, '/');
                size_t n = slash ? (size_t)(slash - a) : strlen(a);
                if (n == 0 || n > 15)
                        continue;
                *ret_ip = xstrndup(a, n);
                r = 0;
                break;
        }
        json_decref(j);
        return r;
}

bool cni_netns_exists(const char *path)
{
        struct statfs sf;
        return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == (unsigned long)NSFS_MAGIC;
}

int cni_netns_create(const char *path, struct error *err)
{
        if (cni_netns_exists(path))
                return error_set(err, -EEXIST, "netns %s exists", path);
        int fd = open(path, O_CREAT | O_RDONLY | O_CLOEXEC, 0444);
        if (fd < 0)
                return error_set(err, -errno, "create %s: %s", path, strerror(errno));
        close(fd);
        /* A child unshares the net namespace and bind-mounts it: the parent (threads and all)
         * keeps its own. Only async-signal-safe calls in the child. */
        pid_t pid = fork();
        if (pid < 0)
                return error_set(err, -errno, "fork: %s", strerror(errno));
        if (pid == 0) {
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(10);
                int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                struct ifreq ifr;
                memset(&ifr, 0, sizeof(ifr));
                memcpy(ifr.ifr_name, "lo", 3);
                if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
                        _exit(11);
                ifr.ifr_flags |= IFF_UP;
                if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
                        _exit(12);
                if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
                        _exit(13);
                _exit(0);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                unlink(path);
                static const char *const what[] = {"unshare", "lo flags", "lo up", "bind mount"};
                int c = WIFEXITED(st) ? WEXITSTATUS(st) - 10 : -1;
                return error_set(err, -EIO, "netns %s: %s failed", path,
                                 c >= 0 && c < 4 ? what[c] : "child");
        }
        return 0;
}

int cni_netns_remove(const char *path, struct error *err)
{
        if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                return error_set(err, -errno, "umount %s: %s", path, strerror(errno));
        if (unlink(path) < 0 && errno != ENOENT)
                return error_set(err, -errno, "unlink %s: %s", path, strerror(errno));
        return 0;
}

static int invoke(const struct cni_net *net, const char *cmd, const char *id,
                  const char *netns_path, struct spawn_result *res, struct error *err)
{
        _cleanup_free_ char *bin = xasprintf("%s/bridge", net->bin_dir);
        _cleanup_free_ char *e_cmd = xasprintf("CNI_COMMAND=%s", cmd);
        _cleanup_free_ char *e_id = xasprintf("CNI_CONTAINERID=%s", id);
        _cleanup_free_ char *e_ns = xasprintf("CNI_NETNS=%s", netns_path ? netns_path : "");
        _cleanup_free_ char *e_path = xasprintf("CNI_PATH=%s", net->bin_dir);
        const char *envp[] = {
                e_cmd, e_id, e_ns, "CNI_IFNAME=eth0", e_path, "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                NULL};
        const char *argv[] = {bin, NULL};
        struct spawn_opts o = {.argv = argv,
                               .envp = envp,
                               .stdin_data = net->conf,
                               .stdin_len = strlen(net->conf),
                               .capture_stdout = true,
                               .capture_stderr = true,
                               .pass_fd = -1,
                               .timeout_ms = 60000};
        int r = spawn_run(&o, res, err);
        if (r < 0)
                return r;
        if (res->status != 0) {
                /* CNI errors are JSON on stdout: {"code":..,"msg":..,"details":..} */
                json_error_t je;
                json_t *j = json_loadb(res->out, strlen(res->out), 0, &je);
                const char *msg = json_string_value(json_object_get(j, "msg"));
                const char *det = json_string_value(json_object_get(j, "details"));
                r = error_set(err, -EIO, "CNI %s %s: %s%s%s%s", cmd, id, msg ? msg : res->errout,
                              det ? " (" : "", det ? det : "", det ? ")" : "");
                json_decref(j);
                spawn_result_clear(res);
        }
        return r;
}

int cni_add(const struct cni_net *net, const char *id, const char *netns_path, char **ret_ip,
            struct error *err)
{
        struct spawn_result res = {0};
        int r = invoke(net, "ADD", id, netns_path, &res, err);
        if (r < 0)
                return r;
        r = cni_result_ip(res.out, strlen(res.out), ret_ip, err);
        spawn_result_clear(&res);
        return r;
}

int cni_del(const struct cni_net *net, const char *id, const char *netns_path, struct error *err)
{
        struct spawn_result res = {0};
        int r = invoke(net, "DEL", id, netns_path, &res, err);
        spawn_result_clear(&res);
        return r;
}
