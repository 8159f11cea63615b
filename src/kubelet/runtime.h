/* runtime.h — the container runtime layer of the node agent: pod sandboxes (network namespace +
 * CNI bridge/host-local, /etc/hosts, resolv.conf, hostname) and containers (overlay rootfs over
 * image layer directories, OCI config.json, conmon + crun/runc).
 *
 * On-disk layout (A = runtime_config.data_dir, normally DATA/agent):
 *   A/run/runtime.json                  what runtime_new set up on the host (bridge, fence routes,
 *                                       cgroup root, OCI runtime): killall reads it
 *   A/run/netns/<pod-uid>               network namespace (nsfs bind mount; NOT /run/netns, so
 *                                       `ip netns` does not list it: use `nsenter --net=PATH`)
 *   A/run/cni/                          CNI config + host-local IPAM data dir
 *   A/run/<crun|runc>/                  the OCI runtime's --root
 *   A/run/exits/<ctr-id>                conmon's exit files (exit code, no newline; mtime = finish)
 *   A/pods/<pod-uid>/                   sandbox.json, etc-hosts, hostname, resolv.conf
 *   A/pods/<pod-uid>/containers/<id>/   container.json (metadata), config.json, rootfs/ (overlay),
 *                                       upper/, work/, pidfile, conmon.pid, persist/ (oom marker)
 * Containers run under conmon, which daemonizes: they survive runtime_free() and agent restarts;
 * a new runtime adopts them through runtime_container_list().
 *
 * Thread safety: a struct runtime may be used from several threads at once for DIFFERENT pods.
 * Calls for the same pod must be serialized by the caller (the kubelet's per-pod worker).
 * All calls block (process spawns, waits): call them from worker threads. */
#pragma once
#include "common/error.h"
#include "kubelet/cgroup.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct runtime;

struct runtime_config {
        const char *data_dir;       /* required: DATA/agent */
        const char *runtime_path;   /* NULL = auto: crun if usable (hybrid host: mounts the v1
                                       hugetlb hierarchy, PLATFORM.md fix (B)), else runc */
        const char *cni_bin_dir;    /* NULL = /usr/lib/cni */
        const char *pod_cidr;       /* NULL = 10.42.0.0/24 (this node's pods) */
        const char *bridge;         /* NULL = "tmnl0" */
        const char *cluster_dns;    /* NULL = 10.43.0.10 (nameserver in pods' resolv.conf) */
        const char *cluster_domain; /* NULL = cluster.local */
        /* Network fences (PLATFORM.md NETWORK SAFETY): a blackhole route is added for each
         * (if absent) and removed by killall. NULL = 10.43.0.0/16 and 10.42.0.0/16. */
        const char *service_cidr;
        const char *cluster_cidr;
        const char *cgroup_root; /* NULL = "/kubepods" (tests use their own) */
};

/* Prepare the host (dirs, cgroup layout detection + hybrid fix, fence routes, CNI config, IPAM
 * garbage collection) and return a runtime. Idempotent across agent restarts.
 * Errors: -EINVAL bad config, -ENOENT no usable OCI runtime / conmon / CNI plugin, other
 * negative errno from the host. */
int runtime_new(const struct runtime_config *cfg, struct runtime **ret, struct error *err);
/* Frees the handle only: containers, sandboxes and host setup stay in place. NULL is fine. */
void runtime_free(struct runtime *rt);
/* "crun" or "runc" and its version line ("crun version 1.8.1"), borrowed from rt. */
const char *runtime_get_name(const struct runtime *rt);
const char *runtime_get_version(const struct runtime *rt);
/* The nameserver and cluster domain of ClusterFirst pods (borrowed from rt). */
const char *runtime_get_cluster_dns(const struct runtime *rt);
const char *runtime_get_cluster_domain(const struct runtime *rt);
/* The host's cgroup layout and the kubepods root ("/kubepods"), borrowed from rt. */
const struct cgroup_host *runtime_get_cgroup_host(const struct runtime *rt);
const char *runtime_get_cgroup_root(const struct runtime *rt);

/* ---- pod sandboxes ---- */

enum runtime_qos {
        RUNTIME_QOS_BESTEFFORT = 0, /* <cgroup_root>/besteffort/pod<uid>/<ctr> */
        RUNTIME_QOS_BURSTABLE,      /* <cgroup_root>/burstable/pod<uid>/<ctr> */
        RUNTIME_QOS_GUARANTEED,     /* <cgroup_root>/pod<uid>/<ctr> */
};

struct runtime_host_alias {
        const char *ip;
        const char *const *hostnames; /* NULL-terminated */
};

struct sandbox_config {
        const char *uid, *ns, *name; /* required */
        const char *hostname;        /* NULL = name */
        const char *subdomain;       /* NULL or pod.spec.subdomain (adds an FQDN to etc-hosts) */
        bool host_network;           /* no netns, no CNI; *ret_ip is set to NULL */
        enum runtime_qos qos;
        struct cgroup_resources pod_res; /* the pod cgroup's limits (podsync_pod_resources) */
        /* DNS (resolv.conf). NULL = ClusterFirst defaults: nameserver cluster_dns, search
         * <ns>.svc.<domain> svc.<domain> <domain>, options ndots:5. */
        const char *const *dns_servers;                /* NULL-terminated */
        const char *const *dns_searches;               /* NULL-terminated */
        const char *const *dns_options;                /* NULL-terminated, e.g. "ndots:5" */
        const struct runtime_host_alias *host_aliases; /* n_host_aliases entries */
        size_t n_host_aliases;
};

/* Create the pod's sandbox: pod dir, netns, loopback up, CNI bridge ADD, etc-hosts, hostname,
 * resolv.conf, pod cgroup. Idempotent: an existing sandbox returns its IP. *ret_ip (caller
 * frees) is the pod IP, or NULL for host_network pods. */
int runtime_sandbox_create(struct runtime *rt, const struct sandbox_config *cfg, char **ret_ip,
                           struct error *err);
/* Tear the sandbox down: stop (SIGKILL) and remove any container left in it, CNI DEL, remove the
 * netns, unmount, rm -rf the pod dir, remove the pod cgroups. Idempotent (0 if absent). */
int runtime_sandbox_remove(struct runtime *rt, const char *uid, struct error *err);

struct sandbox_info {
        char *uid, *ns, *name;
        char *ip; /* NULL for host network */
        struct timespec created_at;
};
/* Every sandbox under A/pods (for adoption after a restart). *ret is an array of *ret_n entries
 * (caller frees with runtime_sandbox_info_free). */
int runtime_sandbox_list(struct runtime *rt, struct sandbox_info **ret, size_t *ret_n,
                         struct error *err);
void runtime_sandbox_info_free(struct sandbox_info *a, size_t n);

/* ---- containers ---- */

struct runtime_mount {
        const char *host_path;      /* file or directory prepared by the kubelet (volumes) */
        const char *container_path; /* absolute */
        bool read_only;
};

struct container_config {
        const char *pod_uid, *pod_ns, *pod_name; /* the sandbox must exist */
        const char *name;                        /* container name (DNS label) */
        unsigned attempt;                        /* restart count */
        const char *const *layer_dirs;           /* NULL-terminated, lowest first; may be empty */
        const char *const *args;                 /* NULL-terminated argv (entrypoint + cmd) */
        const char *const *env;                  /* NULL-terminated "K=V"; PATH added if absent */
        const char *cwd;                         /* NULL = "/" */
        uint32_t uid, gid;
        const char *log_path;       /* CRI log file (parent dirs are created); required */
        int64_t memory_limit;       /* bytes, 0 = none */
        int64_t cpu_limit_millis;   /* 0 = none (CFS quota) */
        int64_t cpu_request_millis; /* 0 = minimum shares */
        const struct runtime_mount *mounts;
        size_t n_mounts;
        bool privileged;
        /* securityContext (see oci_params) */
        const char *const *caps_add;
        const char *const *caps_drop;
        bool readonly_rootfs;
        int no_new_privs; /* 0: default (set unless privileged), 1: set, -1: not set */
        const uint32_t *additional_gids;
        size_t n_additional_gids;
        bool seccomp_runtime_default;
        /* tty: the process gets a terminal (conmon -t, the output is logged from the pty);
         * stdin: conmon keeps the container's stdin for attach (-i), open after the first
         * attach ends unless stdin_once */
        bool tty, stdin, stdin_once;
        /* hostPID / hostIPC: no pid / ipc namespace; share_pid (shareProcessNamespace): join the
         * pid namespace of a running container of the pod (the first one starts it) */
        bool host_pid, host_ipc, share_pid;
};

/* Create and start one container in the pod's sandbox; returns once the process runs (the
 * runtime's `start` returned). Container id (caller frees *ret_id) is deterministic:
 * <12 hex digits of a hash of the pod uid>-<name>-<attempt>. -EEXIST if that id exists
 * already (remove it first). On failure everything created is undone. */
int runtime_container_start(struct runtime *rt, const struct container_config *cfg, char **ret_id,
                            struct error *err);
/* The id runtime_container_start gives (pod_uid, name, attempt) — e.g. to remove a leftover
 * after -EEXIST. Do not rebuild it yourself: the uid part is a hash. Caller frees. */
char *runtime_container_id(const char *pod_uid, const char *name, unsigned attempt);

enum container_state_kind {
        CONTAINER_UNKNOWN = 0,
        CONTAINER_CREATED,
        CONTAINER_RUNNING,
        CONTAINER_EXITED,
};

struct container_state {
        enum container_state_kind state;
        pid_t pid;     /* > 0 while running */
        int exit_code; /* EXITED only; 128+signal when killed by a signal */
        struct timespec created_at, started_at, finished_at; /* zero when unknown */
        bool oom_killed;
        char reason[32]; /* "Completed", "Error", "OOMKilled" when EXITED, else "" */
};
/* Current state from the runtime's `state` and conmon's exit file. -ENOENT unknown id. */
int runtime_container_status(struct runtime *rt, const char *id, struct container_state *ret,
                             struct error *err);
/* SIGTERM, wait for the exit file up to grace_seconds, then SIGKILL and wait for it. 0 if the
 * container had already exited. -ENOENT unknown id. */
int runtime_container_stop(struct runtime *rt, const char *id, int grace_seconds,
                           struct error *err);
/* Send signal ("TERM", "KILL") to a running container without waiting. 0 if it has exited
 * already. -ENOENT unknown id. */
int runtime_container_kill(struct runtime *rt, const char *id, const char *signal,
                           struct error *err);
/* Delete from the OCI runtime (--force: kills a running one), unmount the rootfs, remove the
 * container dir and exit file. Leaves the log file. Idempotent (0 if absent). */
int runtime_container_remove(struct runtime *rt, const char *id, struct error *err);

struct container_info {
        char *id, *pod_uid, *pod_ns, *pod_name, *name;
        unsigned attempt;
        char *log_path;
        struct timespec created_at;
};
/* Every container under A/pods/ * /containers (any state). Caller frees with
 * runtime_container_info_free. */
int runtime_container_list(struct runtime *rt, struct container_info **ret, size_t *ret_n,
                           struct error *err);
void runtime_container_info_free(struct container_info *a, size_t n);

/* argv (NULL-terminated, caller frees with free() of each then the array) to run `cmd` inside a
 * running container: "<runtime> --root R exec [-t] ID cmd...". For kubectl exec: the kubelet
 * spawns it with its own pipes/pty. */
char **runtime_container_exec_argv(struct runtime *rt, const char *id, bool tty,
                                   const char *const *cmd);

/* The network namespace path of pod uid's sandbox (*ret malloc'd), or *ret = NULL for a
 * host-network pod. -ENOENT no sandbox. (kubectl port-forward connects inside it.) */
int runtime_sandbox_netns(struct runtime *rt, const char *uid, char **ret, struct error *err);
/* conmon's attach socket of container id (SOCK_SEQPACKET; caller frees the path). */
char *runtime_container_attach_socket(struct runtime *rt, const char *id);
