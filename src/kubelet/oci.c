/* oci.c — OCI config.json generation (the verified recipe of probes/podpath/lib.sh). */
#include "kubelet/oci.h"

#include <stdio.h>
#include <strings.h>

static const char *const default_caps[] = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
        "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
        "CAP_KILL",    "CAP_AUDIT_WRITE",
};

/* Every capability a privileged container gets (those the kernel knows; runtimes drop unknown
 * ones). */
static const char *const all_caps[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
};

/* The syscalls the default profiles of container runtimes refuse (EPERM). */
static const char *const seccomp_denied[] = {
        "acct",
        "add_key",
        "bpf",
        "clock_adjtime",
        "clock_settime",
        "create_module",
        "delete_module",
        "finit_module",
        "fsconfig",
        "fsmount",
        "fsopen",
        "fspick",
        "get_kernel_syms",
        "init_module",
        "ioperm",
        "iopl",
        "kcmp",
        "kexec_file_load",
        "kexec_load",
        "keyctl",
        "lookup_dcookie",
        "mount",
        "mount_setattr",
        "move_mount",
        "name_to_handle_at",
        "nfsservctl",
        "open_by_handle_at",
        "open_tree",
        "perf_event_open",
        "pivot_root",
        "process_vm_readv",
        "process_vm_writev",
        "ptrace",
        "query_module",
        "quotactl",
        "reboot",
        "request_key",
        "setns",
        "settimeofday",
        "stime",
        "swapoff",
        "swapon",
        "sysfs",
        "_sysctl",
        "umount",
        "umount2",
        "unshare",
        "uselib",
        "userfaultfd",
        "ustat",
        "vm86",
        "vm86old",
};

json_t *oci_seccomp_default(void)
{
        json_t *names = json_array();
        for (size_t i = 0; i < ARRAY_SIZE(seccomp_denied); i++)
                json_array_append_new(names, json_string(seccomp_denied[i]));
        return json_pack("{s:s, s:[s, s, s], s:[{s:o, s:s, s:i}]}", "defaultAction",
                         "SCMP_ACT_ALLOW", "architectures", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
                         "SCMP_ARCH_X32", "syscalls", "names", names, "action", "SCMP_ACT_ERRNO",
                         "errnoRet", 1 /* EPERM */);
}

static bool cap_eq(const char *a, const char *b)
{
        if (!strncasecmp(a, "CAP_", 4))
                a += 4;
        if (!strncasecmp(b, "CAP_", 4))
                b += 4;
        return !strcasecmp(a, b);
}

/* capabilities.add / drop as the kubelet applies them to the runtime's defaults */
static void caps_adjust(json_t *caps, const char *const *add, const char *const *drop)
{
        for (size_t i = 0; drop && drop[i]; i++) {
                if (!strcasecmp(drop[i], "ALL")) {
                        json_array_clear(caps);
                        break;
                }
                for (size_t k = json_array_size(caps); k-- > 0;)
                        if (cap_eq(json_string_value(json_array_get(caps, k)), drop[i]))
                                json_array_remove(caps, k);
        }
        for (size_t i = 0; add && add[i]; i++) {
                bool all = !strcasecmp(add[i], "ALL");
                for (size_t c = 0; c < ARRAY_SIZE(all_caps); c++) {
                        if (!all && !cap_eq(all_caps[c], add[i]))
                                continue;
                        bool have = false;
                        for (size_t k = 0; k < json_array_size(caps); k++)
                                if (cap_eq(json_string_value(json_array_get(caps, k)), all_caps[c]))
                                        have = true;
                        if (!have)
                                json_array_append_new(caps, json_string(all_caps[c]));
                }
        }
}

static json_t *str_array(const char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

static json_t *strv_array(const char *const *v)
{
        json_t *a = json_array();
        for (size_t i = 0; v && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

static bool env_has(const char *const *env, const char *key)
{
        size_t n = strlen(key);
        for (size_t i = 0; env && env[i]; i++)
                if (!strncmp(env[i], key, n) && env[i][n] == '=')
                        return true;
        return false;
}

static json_t *mount_new(const char *dst, const char *type, const char *src,
                         const char *const *opts)
{
        json_t *m = json_pack("{s:s, s:s, s:s}", "destination", dst, "type", type, "source", src);
        if (opts)
                json_object_set_new(m, "options", strv_array(opts));
        return m;
}

static bool utf8_ok(const char *s)
{
        json_t *t = json_string(s);
        json_decref(t);
        return t != NULL;
}

int oci_config_build(const struct oci_params *p, json_t **ret, struct error *err)
{
        if (!p->rootfs || p->rootfs[0] != '/')
                return error_set(err, -EINVAL, "rootfs must be an absolute path");
        if (!p->args || !p->args[0] || !p->args[0][0])
                return error_set(err, -EINVAL, "no command (args empty)");
        if (!p->cgroups_path || p->cgroups_path[0] != '/')
                return error_set(err, -EINVAL, "cgroupsPath must be absolute");
        for (size_t i = 0; p->args[i]; i++)
                if (!utf8_ok(p->args[i]))
                        return error_set(err, -EINVAL, "args[%zu] is not valid UTF-8", i);

        json_auto_t *root = json_object();
        json_object_set_new(root, "ociVersion", json_string("1.0.2"));

        /* process */
        json_t *proc = json_object();
        json_object_set_new(root, "process", proc);
        json_object_set_new(proc, "terminal", json_boolean(p->terminal));
        json_object_set_new(
                proc, "user",
                json_pack("{s:I, s:I}", "uid", (json_int_t)p->uid, "gid", (json_int_t)p->gid));
        json_object_set_new(proc, "args", strv_array(p->args));
        json_t *env = json_array();
        json_object_set_new(proc, "env", env);
        if (!env_has(p->env, "PATH"))
                json_array_append_new(
                        env, json_string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                                         "/sbin:/bin"));
        if (p->hostname && !env_has(p->env, "HOSTNAME")) {
                char *h = xasprintf("HOSTNAME=%s", p->hostname);
                json_array_append_new(env, json_string(h));
                free(h);
        }
        for (size_t i = 0; p->env && p->env[i]; i++) {
                if (!strchr(p->env[i], '=') || !utf8_ok(p->env[i]))
                        return error_set(err, -EINVAL, "env[%zu] is not K=V", i);
                json_array_append_new(env, json_string(p->env[i]));
        }
        const char *cwd = p->cwd && *p->cwd ? p->cwd : "/";
        if (cwd[0] != '/')
                return error_set(err, -EINVAL, "workingDir %s is not absolute", cwd);
        json_object_set_new(proc, "cwd", json_string(cwd));
        json_t *caps = p->privileged ? str_array(all_caps, ARRAY_SIZE(all_caps))
                                     : str_array(default_caps, ARRAY_SIZE(default_caps));
        if (!p->privileged)
                caps_adjust(caps, p->caps_add, p->caps_drop);
        json_object_set_new(proc, "capabilities",
                            json_pack("{s:O, s:O, s:O}", "bounding", caps, "effective", caps,
                                      "permitted", caps));
        json_decref(caps);
        uint64_t hard = p->nofile_hard ? p->nofile_hard : 1048576;
        json_object_set_new(proc, "rlimits",
                            json_pack("[{s:s, s:I, s:I}]", "type", "RLIMIT_NOFILE", "hard",
                                      (json_int_t)hard, "soft", (json_int_t)MIN(hard, 1024)));
        json_object_set_new(proc, "noNewPrivileges",
                            json_boolean(p->no_new_privs ? p->no_new_privs > 0 : !p->privileged));
        if (p->n_additional_gids) {
                json_t *g = json_array();
                for (size_t i = 0; i < p->n_additional_gids; i++)
                        json_array_append_new(g, json_integer(p->additional_gids[i]));
                json_object_set_new(json_object_get(proc, "user"), "additionalGids", g);
        }
        json_object_set_new(proc, "oomScoreAdj", json_integer(1000));

        json_object_set_new(
                root, "root",
                json_pack("{s:s, s:b}", "path", p->rootfs, "readonly", p->readonly_rootfs));
        if (p->hostname)
                json_object_set_new(root, "hostname", json_string(p->hostname));

        /* mounts */
        json_t *mounts = json_array();
        json_object_set_new(root, "mounts", mounts);
        static const char *const o_dev[] = {"nosuid", "strictatime", "mode=755", "size=65536k",
                                            NULL};
        static const char *const o_pts[] = {"nosuid",    "noexec", "newinstance", "ptmxmode=0666",
                                            "mode=0620", "gid=5",  NULL};
        static const char *const o_shm[] = {"nosuid",    "noexec",      "nodev",
                                            "mode=1777", "size=65536k", NULL};
        static const char *const o_mq[] = {"nosuid", "noexec", "nodev", NULL};
        static const char *const o_sys_ro[] = {"nosuid", "noexec", "nodev", "ro", NULL};
        static const char *const o_sys_rw[] = {"nosuid", "noexec", "nodev", NULL};
        static const char *const o_cg_ro[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};
        static const char *const o_cg_rw[] = {"nosuid", "noexec", "nodev", "relatime", NULL};
        static const char *const o_bind_ro[] = {"rbind", "rprivate", "ro", NULL};
        static const char *const o_bind_rw[] = {"rbind", "rprivate", "rw", NULL};
        json_array_append_new(mounts, mount_new("/proc", "proc", "proc", NULL));
        json_array_append_new(mounts, mount_new("/dev", "tmpfs", "tmpfs", o_dev));
        json_array_append_new(mounts, mount_new("/dev/pts", "devpts", "devpts", o_pts));
        json_array_append_new(mounts, mount_new("/dev/shm", "tmpfs", "shm", o_shm));
        json_array_append_new(mounts, mount_new("/dev/mqueue", "mqueue", "mqueue", o_mq));
        json_array_append_new(
                mounts, mount_new("/sys", "sysfs", "sysfs", p->privileged ? o_sys_rw : o_sys_ro));
        json_array_append_new(mounts, mount_new("/sys/fs/cgroup", "cgroup", "cgroup",
                                                p->privileged ? o_cg_rw : o_cg_ro));
        if (p->hosts_file)
                json_array_append_new(mounts,
                                      mount_new("/etc/hosts", "bind", p->hosts_file, o_bind_ro));
        if (p->resolv_file)
                json_array_append_new(
                        mounts, mount_new("/etc/resolv.conf", "bind", p->resolv_file, o_bind_ro));
        if (p->hostname_file)
                json_array_append_new(
                        mounts, mount_new("/etc/hostname", "bind", p->hostname_file, o_bind_ro));
        for (size_t i = 0; i < p->n_mounts; i++) {
                const struct oci_mount *m = &p->mounts[i];
                if (!m->source || m->source[0] != '/' || !m->destination ||
                    m->destination[0] != '/')
                        return error_set(err, -EINVAL, "mount %zu: paths must be absolute", i);
                json_array_append_new(mounts, mount_new(m->destination, "bind", m->source,
                                                        m->read_only ? o_bind_ro : o_bind_rw));
        }

        /* linux */
        json_t *lx = json_object();
        json_object_set_new(lx, "cgroupsPath", json_string(p->cgroups_path));
        json_t *res = json_object();
        json_object_set_new(res, "devices",
                            json_pack("[{s:b, s:s}]", "allow", p->privileged, "access", "rwm"));
        if (p->memory_limit > 0)
                json_object_set_new(res, "memory",
                                    json_pack("{s:I}", "limit", (json_int_t)p->memory_limit));
        if (p->cpu_quota_us > 0 || p->cpu_shares > 0) {
                json_t *cpu = json_object();
                if (p->cpu_shares > 0)
                        json_object_set_new(cpu, "shares", json_integer((json_int_t)p->cpu_shares));
                if (p->cpu_quota_us > 0) {
                        json_object_set_new(cpu, "quota", json_integer(p->cpu_quota_us));
                        json_object_set_new(cpu, "period", json_integer(100000));
                }
                json_object_set_new(res, "cpu", cpu);
        }
        json_object_set_new(lx, "resources", res);
        json_t *ns = json_pack("[{s:s}, {s:s}]", "type", "uts", "type", "mount");
        if (p->pid_ns_path)
                json_array_append_new(
                        ns, json_pack("{s:s, s:s}", "type", "pid", "path", p->pid_ns_path));
        else if (!p->host_pid)
                json_array_append_new(ns, json_pack("{s:s}", "type", "pid"));
        if (!p->host_ipc)
                json_array_append_new(ns, json_pack("{s:s}", "type", "ipc"));
        if (p->netns_path)
                json_array_append_new(
                        ns, json_pack("{s:s, s:s}", "type", "network", "path", p->netns_path));
        json_object_set_new(lx, "namespaces", ns);
        if (!p->privileged) {
                static const char *const masked[] = {"/proc/acpi",        "/proc/kcore",
                                                     "/proc/keys",        "/proc/latency_stats",
                                                     "/proc/timer_list",  "/proc/timer_stats",
                                                     "/proc/sched_debug", "/proc/scsi",
                                                     "/sys/firmware",     NULL};
                static const char *const ro[] = {
                        "/proc/asound", "/proc/bus",           "/proc/fs", "/proc/irq",
                        "/proc/sys",    "/proc/sysrq-trigger", NULL};
                json_object_set_new(lx, "maskedPaths", strv_array(masked));
                json_object_set_new(lx, "readonlyPaths", strv_array(ro));
        }
        if (p->seccomp_runtime_default && !p->privileged)
                json_object_set_new(lx, "seccomp", oci_seccomp_default());
        json_object_set_new(root, "linux", lx);
        *ret = json_incref(root);
        return 0;
}

int oci_sync_parse(const char *buf, size_t len, int *ret_pid, struct error *err)
{
        json_error_t je;
        json_auto_t *j = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, &je);
        if (!j || !json_is_object(j))
                return error_set(err, -EPROTO, "conmon sync message: not a JSON object");
        json_t *d = json_object_get(j, "data");
        if (!json_is_integer(d))
                return error_set(err, -EPROTO, "conmon sync message: no data");
        json_int_t pid = json_integer_value(d);
        if (pid <= 0 || pid > INT32_MAX) {
                const char *m = json_string_value(json_object_get(j, "message"));
                size_t n = m ? strlen(m) : 0;
                while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
                        n--;
                return error_set(err, -EIO, "%.*s", (int)(m ? n : 24),
                                 m ? m : "container creation failed");
        }
        *ret_pid = (int)pid;
        return 0;
}

int oci_state_parse(const char *buf, size_t len, char *status, size_t n, int *ret_pid,
                    struct error *err)
{
        json_error_t je;
        json_auto_t *j = json_loadb(buf, len, 0, &je);
        if (!j || !json_is_object(j))
                return error_set(err, -EPROTO, "runtime state: not a JSON object");
        const char *s = json_string_value(json_object_get(j, "status"));
        if (!s)
                return error_set(err, -EPROTO, "runtime state: no status");
        json_t *pid = json_object_get(j, "pid");
        snprintf(status, n, "%s", s);
        *ret_pid = json_is_integer(pid) ? (int)json_integer_value(pid) : 0;
        return 0;
}
