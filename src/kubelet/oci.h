/* oci.h — OCI runtime spec (config.json) for one container. Pure: no I/O, unit-tested. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

struct oci_mount {
        const char *source, *destination;
        bool read_only;
};

struct oci_params {
        const char *rootfs;       /* absolute path of the mounted rootfs */
        const char *hostname;     /* NULL: no uts namespace hostname */
        const char *netns_path;   /* NULL: host network (no network namespace) */
        const char *cgroups_path; /* absolute, e.g. /kubepods/besteffort/pod<uid>/<id> */
        const char *const *args;  /* NULL-terminated, at least one */
        const char *const *env;   /* NULL-terminated "K=V"; PATH and HOSTNAME added if absent */
        const char *cwd;          /* NULL = "/" */
        uint32_t uid, gid;
        const char *hosts_file, *resolv_file, *hostname_file; /* bind-mounted read-only if set */
        const struct oci_mount *mounts;                       /* volumes, in order */
        size_t n_mounts;
        int64_t memory_limit; /* bytes, 0 = none */
        int64_t cpu_quota_us; /* 0 = none (period 100000) */
        uint64_t cpu_shares;  /* 0 = runtime default */
        uint64_t nofile_hard; /* RLIMIT_NOFILE hard (soft = min(1024, hard)); 0 = 1048576 */
        bool privileged;      /* all capabilities, all devices, rw /sys */
        /* securityContext */
        const char *const *caps_add;  /* NULL-terminated, "NET_ADMIN" / "CAP_NET_ADMIN" / "ALL" */
        const char *const *caps_drop; /* same; "ALL" drops every default capability */
        bool readonly_rootfs;
        int no_new_privs; /* 0: default (set unless privileged), 1: set, -1: not set */
        const uint32_t *additional_gids; /* fsGroup + supplementalGroups */
        size_t n_additional_gids;
        bool seccomp_runtime_default; /* the default seccomp profile (RuntimeDefault) */
        bool terminal;                /* process.terminal (the runtime's console socket) */
        bool host_pid, host_ipc;      /* no pid / ipc namespace (hostPID, hostIPC) */
        const char *pid_ns_path;      /* join this pid namespace (shareProcessNamespace) */
};

/* Pure: the RuntimeDefault seccomp profile (OCI linux.seccomp): allow by default, EPERM for
 * the syscalls container runtimes' default profiles refuse (kernel modules, keyrings, mount,
 * namespaces, ptrace, clock setting, reboot, bpf, perf...). New reference. */
json_t *oci_seccomp_default(void);

/* Build the spec. -EINVAL (message in err) for missing/invalid fields. *ret is a new ref. */
int oci_config_build(const struct oci_params *p, json_t **ret, struct error *err);
/* Pure: the pid out of conmon's sync-pipe message {"data": PID[, "message": "..."]}.
 * -EPROTO malformed; -EIO with the message when data < 0. */
int oci_sync_parse(const char *buf, size_t len, int *ret_pid, struct error *err);
/* Pure: state of `crun|runc state ID` output: status string (copied into status, cap n) and
 * pid. -EPROTO malformed. */
int oci_state_parse(const char *buf, size_t len, char *status, size_t n, int *ret_pid,
                    struct error *err);
