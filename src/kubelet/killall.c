/* killall.c — undo what the runtime created for a data dir (see killall.h). Works from what is
 * on disk (DATA/agent/run/runtime.json, pod dirs, the OCI runtime's --root), so it also cleans up
 * after an agent that crashed. */
#include "kubelet/killall.h"

#include "common/log.h"
#include "common/spawn.h"
#include "common/strv.h"
#include "kubelet/cgroup.h"
#include "kubelet/cni.h"
#include "kubelet/rootfs.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <fcntl.h>
#include <limits.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#define COMP "killall"

static int run(const char *const *argv, char **ret_out)
{
        struct spawn_opts o = {.argv = argv,
                               .capture_stdout = ret_out != NULL,
                               .capture_stderr = true,
                               .pass_fd = -1,
                               .timeout_ms = 30000};
        struct spawn_result res = {0};
        struct error e = {0};
        int r = spawn_run(&o, &res, &e);
        if (r < 0)
                return r;
        r = res.status == 0 ? 0 : -EIO;
        if (ret_out && r == 0)
                *ret_out = TAKE_PTR(res.out);
        spawn_result_clear(&res);
        return r;
}

static const char *ip_path(void)
{
        static const char *const c[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip", NULL};
        for (size_t i = 0; c[i]; i++)
                if (access(c[i], X_OK) == 0)
                        return c[i];
        return "/usr/sbin/ip";
}

static bool cidr_contains(const char *cidr, struct in_addr a)
{
        char buf[32];
        const char *slash = strchr(cidr, '/');
        if (!slash || (size_t)(slash - cidr) >= sizeof(buf))
                return false;
        memcpy(buf, cidr, (size_t)(slash - cidr));
        buf[slash - cidr] = 0;
        struct in_addr net;
        int p = atoi(slash + 1);
        if (inet_pton(AF_INET, buf, &net) != 1 || p < 0 || p > 32)
                return false;
        uint32_t mask = p ? 0xffffffffu << (32 - p) : 0;
        return (ntohl(net.s_addr) & mask) == (ntohl(a.s_addr) & mask);
}

/* The fence routes are shared by every node agent on this host: another timonel bridge with
 * an address inside one of them (another data dir's node, e.g. a `timonel agent` next to a
 * `timonel server`) still needs them. Returns that bridge's name (static buffer) or NULL. */
static const char *fence_user(const char *own_bridge, const json_t *fences)
{
        static char name[IFNAMSIZ];
        struct ifaddrs *ifs;
        const char *found = NULL;
        if (getifaddrs(&ifs) < 0)
                return NULL;
        for (struct ifaddrs *i = ifs; i && !found; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
                    strncmp(i->ifa_name, "tmnl", 4) || (own_bridge && !strcmp(i->ifa_name, own_bridge)))
                        continue;
                struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
                for (size_t k = 0; k < json_array_size(fences); k++) {
                        const char *cidr = json_string_value(json_array_get(fences, k));
                        if (cidr && cidr_contains(cidr, a)) {
                                snprintf(name, sizeof(name), "%s", i->ifa_name);
                                found = name;
                                break;
                        }
                }
        }
        freeifaddrs(ifs);
        return found;
}

static void sleep_ms(int ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
}

static pid_t read_pid(const char *path)
{
        char buf[32] = {0};
        FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        long v = n ? strtol(buf, NULL, 10) : 0;
        return v > 0 && v < INT32_MAX ? (pid_t)v : 0;
}

/* A pid is only signalled if it is still the conmon we started (pid reuse). */
static bool is_conmon(pid_t pid)
{
        char p[64], comm[64] = {0};
        snprintf(p, sizeof(p), "/proc/%d/comm", (int)pid);
        FILE *f = fopen(p, "re");
        if (!f)
                return false;
        bool ok = fgets(comm, sizeof(comm), f) && !strncmp(comm, "conmon", 6);
        fclose(f);
        return ok;
}

/* Every OCI runtime container in root: kill -9 and delete --force. */
static void kill_runtime_containers(const char *rtpath, const char *root)
{
        DIR *d = opendir(root);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || de->d_type != DT_DIR)
                        continue;
                const char *k[] = {rtpath, "--root", root, "kill", de->d_name, "KILL", NULL};
                run(k, NULL);
                const char *del[] = {rtpath, "--root", root, "delete", "--force", de->d_name, NULL};
                if (run(del, NULL) == 0)
                        log_info(COMP, "removed container %s", de->d_name);
        }
        closedir(d);
}

static void kill_conmons(const char *pods)
{
        DIR *d = opendir(pods);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char *cd = xasprintf("%s/%s/containers", pods, de->d_name);
                DIR *d2 = opendir(cd);
                struct dirent *ce;
                while (d2 && (ce = readdir(d2))) {
                        if (ce->d_name[0] == '.')
                                continue;
                        char *pf = xasprintf("%s/%s/conmon.pid", cd, ce->d_name);
                        pid_t pid = read_pid(pf);
                        for (int i = 0; i < 100 && pid && is_conmon(pid); i++)
                                sleep_ms(10); /* it leaves by itself once its container is gone */
                        if (pid && is_conmon(pid)) {
                                kill(pid, SIGKILL);
                                log_info(COMP, "killed conmon %d", (int)pid);
                        }
                        free(pf);
                }
                if (d2)
                        closedir(d2);
                free(cd);
        }
        closedir(d);
}

/* The data dir a `timonel server|agent` process was started with, from its command line
 * (NULL if pid is not one). Default /var/lib/timonel, as the CLI's. */
static char *timonel_data_dir_of(pid_t pid)
{
        char path[64], buf[8192];
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return NULL;
        buf[n] = 0;
        const char *args[64];
        size_t argc = 0;
        for (char *p = buf; p < buf + n && argc < ARRAY_SIZE(args); p += strlen(p) + 1)
                args[argc++] = p;
        if (argc < 2)
                return NULL;
        const char *base = strrchr(args[0], '/');
        base = base ? base + 1 : args[0];
        if (strncmp(base, "timonel", 7) || (strcmp(args[1], "server") && strcmp(args[1], "agent")))
                return NULL;
        const char *dir = "/var/lib/timonel";
        for (size_t i = 2; i < argc; i++) {
                if (!strcmp(args[i], "--data-dir") && i + 1 < argc)
                        dir = args[++i];
                else if (!strncmp(args[i], "--data-dir=", 11))
                        dir = args[i] + 11;
        }
        char abs[PATH_MAX + 16];
        if (dir[0] != '/') {
                /* relative to the process's working directory */
                char cwdl[64], cwd[PATH_MAX];
                snprintf(cwdl, sizeof(cwdl), "/proc/%d/cwd", (int)pid);
                ssize_t m = readlink(cwdl, cwd, sizeof(cwd) - 1);
                if (m <= 0)
                        return NULL;
                cwd[m] = 0;
                if (snprintf(abs, sizeof(abs), "%s/%s", cwd, dir) >= (int)sizeof(abs))
                        return NULL;
                dir = abs;
        }
        char real[PATH_MAX];
        return xstrdup(realpath(dir, real) ? real : dir);
}

/* Stop the servers and agents running on this data dir first (SIGTERM, then SIGKILL after
 * 5 s): a live node agent would otherwise restart the containers killall is removing. */
static void stop_timonel_processes(const char *data_dir)
{
        char want[PATH_MAX];
        if (!realpath(data_dir, want))
                snprintf(want, sizeof(want), "%s", data_dir);
        pid_t pids[64];
        size_t n = 0;
        DIR *d = opendir("/proc");
        if (!d)
                return;
        struct dirent *e;
        while ((e = readdir(d)) && n < ARRAY_SIZE(pids)) {
                char *end;
                long pid = strtol(e->d_name, &end, 10);
                if (*end || pid <= 0 || pid == getpid())
                        continue;
                _cleanup_free_ char *dir = timonel_data_dir_of((pid_t)pid);
                if (dir && !strcmp(dir, want)) {
                        pids[n++] = (pid_t)pid;
                        kill((pid_t)pid, SIGTERM);
                }
        }
        closedir(d);
        for (int waited = 0; waited < 5000; waited += 50) {
                bool alive = false;
                for (size_t i = 0; i < n; i++)
                        alive |= kill(pids[i], 0) == 0;
                if (!alive)
                        return;
                sleep_ms(50);
        }
        for (size_t i = 0; i < n; i++)
                kill(pids[i], SIGKILL);
        sleep_ms(100);
}

/* The pod uids with state under pods_dir (NULL-terminated, caller frees with strv_free). */
static char **pod_uids(const char *pods_dir)
{
        char **v = strv_new();
        DIR *d = opendir(pods_dir);
        if (!d)
                return v;
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        v = strv_push(v, e->d_name);
        closedir(d);
        return v;
}

/* Remove the cgroups of this data dir's pods only: the kubepods root is shared by every node
 * agent on the host, so the root and QoS levels are removed only if they are empty. */
static int remove_pod_cgroups(const char *root, char **uids, struct error *err)
{
        struct cgroup_host h = {0};
        struct error e2 = {0};
        int r = 0;
        if (cgroup_host_detect(&h, &e2) < 0)
                return 0;
        for (char **u = uids; *u; u++)
                for (int qos = 0; qos <= 2; qos++) {
                        _cleanup_free_ char *path = cgroup_pod_path(root, qos, *u);
                        int k = cgroup_path_kill(&h, path);
                        if (k > 0)
                                log_info(COMP, "killed %d leftover processes in %s", k, path);
                        int q = cgroup_path_remove(&h, path, &e2);
                        if (q < 0 && q != -ENOENT && !r)
                                r = error_set(err, q, "%s", e2.msg);
                }
        static const char *const levels[] = {"besteffort", "burstable", ""};
        for (size_t i = 0; i <= h.n_v1; i++) {
                const char *base = i < h.n_v1 ? h.v1_paths[i] : h.v2_path;
                if (!base)
                        continue;
                for (size_t l = 0; l < ARRAY_SIZE(levels); l++) {
                        _cleanup_free_ char *dir = xasprintf("%s%s/%s", base, root, levels[l]);
                        (void)rmdir(dir); /* EBUSY: another node's pods live there */
                }
        }
        cgroup_host_clear(&h);
        return r;
}

int killall_run(const char *data_dir, struct error *err)
{
        if (!data_dir || data_dir[0] != '/')
                return error_set(err, -EINVAL, "killall: data dir must be an absolute path");
        _cleanup_free_ char *a = xasprintf("%s/agent", data_dir);
        _cleanup_free_ char *run_dir = xasprintf("%s/run", a);
        _cleanup_free_ char *pods = xasprintf("%s/pods", a);
        _cleanup_free_ char *stp = xasprintf("%s/runtime.json", run_dir);
        _cleanup_free_ char *netns_dir = xasprintf("%s/netns", run_dir);
        json_error_t je;
        json_t *st = json_load_file(stp, 0, &je);
        int r = 0;
        struct error e2 = {0};

        /* 0. the processes that would restart what we remove */
        stop_timonel_processes(data_dir);
        _cleanup_strv_free_ char **uids = pod_uids(pods);

        /* 1. containers: the recorded runtime, and any runtime root present */
        const char *rtpath = json_string_value(json_object_get(st, "runtime"));
        const char *rtroot = json_string_value(json_object_get(st, "runtime_root"));
        if (rtpath && rtroot)
                kill_runtime_containers(rtpath, rtroot);
        static const char *const names[][2] = {{"crun", "/usr/bin/crun"},
                                               {"runc", "/usr/sbin/runc"}};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                _cleanup_free_ char *root = xasprintf("%s/%s", run_dir, names[i][0]);
                if (access(root, F_OK) == 0 && access(names[i][1], X_OK) == 0 &&
                    !(rtroot && !strcmp(rtroot, root)))
                        kill_runtime_containers(names[i][1], root);
        }
        kill_conmons(pods);

        /* 2. networks: CNI DEL for every netns, then remove it */
        struct cni_net net = {0};
        net.bin_dir = (char *)json_string_value(json_object_get(st, "cni_bin_dir"));
        net.conf = (char *)json_string_value(json_object_get(st, "cni_conf"));
        DIR *d = opendir(netns_dir);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        _cleanup_free_ char *p = xasprintf("%s/%s", netns_dir, de->d_name);
                        if (net.bin_dir && net.conf)
                                cni_del(&net, de->d_name, cni_netns_exists(p) ? p : NULL, &e2);
                        int q = cni_netns_remove(p, &e2);
                        if (q < 0 && !r)
                                r = error_set(err, q, "%s", e2.msg);
                        else
                                log_info(COMP, "removed netns %s", p);
                }
                closedir(d);
        }

        /* 3. mounts below the agent dir (rootfs overlays, netns leftovers, volumes) */
        int n = rootfs_umount_below(a, &e2);
        if (n > 0)
                log_info(COMP, "unmounted %d mounts under %s", n, a);
        else if (n < 0 && !r)
                r = error_set(err, n, "%s", e2.msg);

        /* 4. runtime state: pod dirs and run dir contents (images and logs stay) */
        static const char *const subdirs[] = {"netns", "exits", "sock",         "cni",
                                              "crun",  "runc",  "runtime.json", NULL};
        int q = rootfs_rm_rf(pods);
        if (q < 0 && !r)
                r = error_set(err, q, "rm -rf %s: %s", pods, strerror(-q));
        for (size_t i = 0; subdirs[i]; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", run_dir, subdirs[i]);
                if (!strcmp(subdirs[i], "runtime.json"))
                        continue; /* last: it says what to undo below */
                if ((q = rootfs_rm_rf(p)) < 0 && !r)
                        r = error_set(err, q, "rm -rf %s: %s", p, strerror(-q));
        }

        /* 5. host network: veths on our bridge, the bridge, the fence routes */
        const char *ip = ip_path();
        const char *bridge = json_string_value(json_object_get(st, "bridge"));
        if (bridge && strlen(bridge) <= 15 && !strchr(bridge, '/')) {
                _cleanup_free_ char *brif = xasprintf("/sys/class/net/%s/brif", bridge);
                DIR *bd = opendir(brif);
                struct dirent *de;
                while (bd && (de = readdir(bd))) {
                        if (de->d_name[0] == '.')
                                continue;
                        const char *del[] = {ip, "link", "del", de->d_name, NULL};
                        if (run(del, NULL) == 0)
                                log_info(COMP, "removed veth %s", de->d_name);
                }
                if (bd)
                        closedir(bd);
                _cleanup_free_ char *sys = xasprintf("/sys/class/net/%s", bridge);
                if (access(sys, F_OK) == 0) {
                        const char *del[] = {ip, "link", "del", bridge, "type", "bridge", NULL};
                        if ((q = run(del, NULL)) < 0 && !r)
                                r = error_set(err, q, "ip link del %s failed", bridge);
                        else
                                log_info(COMP, "removed bridge %s", bridge);
                }
        }
        json_t *fences = json_object_get(st, "fences");
        const char *user = fence_user(bridge, fences);
        if (user)
                log_info(COMP, "kept the fence routes: bridge %s still uses them", user);
        for (size_t i = 0; !user && json_is_array(fences) && i < json_array_size(fences); i++) {
                const char *cidr = json_string_value(json_array_get(fences, i));
                if (!cidr)
                        continue;
                _cleanup_free_ char *out = NULL;
                const char *show[] = {ip,   "route", "show",      "exact",
                                      cidr, "type",  "blackhole", NULL};
                if (run(show, &out) == 0 && out && *out) {
                        const char *del[] = {ip, "route", "del", "blackhole", cidr, NULL};
                        if ((q = run(del, NULL)) < 0 && !r)
                                r = error_set(err, q, "ip route del blackhole %s failed", cidr);
                        else
                                log_info(COMP, "removed route blackhole %s", cidr);
                }
        }

        /* 6. pod cgroups (of this data dir's pods only) */
        const char *cgroot = json_string_value(json_object_get(st, "cgroup_root"));
        if (cgroot && cgroot[0] == '/' && cgroot[1] && !strstr(cgroot, "..")) {
                if ((q = remove_pod_cgroups(cgroot, uids, &e2)) < 0 && !r)
                        r = error_set(err, q, "%s", e2.msg);
        }
        if (r == 0)
                unlink(stp);
        json_decref(st);
        return r;
}
