/* stats.c — resource usage collection and its Summary API / Prometheus renderings (stats.h). */
#include "kubelet/stats.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "common/kjson.h"
#include "common/timefmt.h"
#include "kubelet/cgroup.h"

#define DU_MAX_ENTRIES 200000 /* a bound on one tree walk */

/* ---- pure parsers ---- */

bool stats_kv_get(const char *text, const char *key, uint64_t *ret)
{
        size_t kl = strlen(key);
        for (const char *p = text; p && *p;) {
                if (!strncmp(p, key, kl) && (p[kl] == ' ' || p[kl] == '\t' || p[kl] == ':')) {
                        const char *v = p + kl + 1;
                        while (*v == ' ' || *v == '\t')
                                v++;
                        char *end;
                        unsigned long long x = strtoull(v, &end, 10);
                        if (end == v)
                                return false;
                        *ret = x;
                        return true;
                }
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        return false;
}

int stats_net_dev_parse(const char *text, const char *ifname, struct stats_net *ret)
{
        size_t nl = strlen(ifname);
        for (const char *p = text; p && *p;) {
                const char *eol = strchr(p, '\n');
                const char *q = p;
                while (*q == ' ')
                        q++;
                if (!strncmp(q, ifname, nl) && q[nl] == ':') {
                        unsigned long long f[16];
                        const char *s = q + nl + 1;
                        for (int i = 0; i < 16; i++) {
                                char *end;
                                while (*s == ' ')
                                        s++;
                                if (eol && s >= eol)
                                        return -EPROTO;
                                f[i] = strtoull(s, &end, 10);
                                if (end == s)
                                        return -EPROTO;
                                s = end;
                        }
                        /* rx: bytes packets errs drop fifo frame compressed multicast; tx: same */
                        ret->ok = true;
                        ret->rx_bytes = f[0];
                        ret->rx_errors = f[2];
                        ret->tx_bytes = f[8];
                        ret->tx_errors = f[10];
                        return 0;
                }
                p = eol ? eol + 1 : NULL;
        }
        return -ENOENT;
}

/* ---- collection ---- */

static char *slurp(const char *path, size_t max)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        char *buf = xmalloc(max + 1);
        size_t len = 0;
        ssize_t n;
        while (len < max && (n = read(fd, buf + len, max - len)) > 0)
                len += (size_t)n;
        close(fd);
        buf[len] = 0;
        return buf;
}

static bool read_u64(const char *path, uint64_t *ret)
{
        _cleanup_free_ char *s = slurp(path, 64);
        char *end;
        if (!s)
                return false;
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s)
                return false;
        *ret = v;
        return true;
}

/* The v1 hierarchy of h whose mount has file (e.g. "cpuacct.usage"), or NULL. */
static const char *v1_with(const struct cgroup_host *h, const char *file)
{
        for (size_t i = 0; i < h->n_v1; i++) {
                _cleanup_free_ char *f = xasprintf("%s/%s", h->v1_paths[i], file);
                if (access(f, F_OK) == 0)
                        return h->v1_paths[i];
        }
        return NULL;
}

static void cg_read(const struct cgroup_host *h, const char *path, struct stats_cg *ret)
{
        memset(ret, 0, sizeof(*ret));
        const char *rel = path[0] == '/' ? path + 1 : path;
        if (h->layout == CGROUP_LAYOUT_V2) {
                _cleanup_free_ char *d = xasprintf("%s/%s", h->v2_path, rel);
                _cleanup_free_ char *cpu = xasprintf("%s/cpu.stat", d);
                _cleanup_free_ char *cs = slurp(cpu, 4096);
                uint64_t usec = 0;
                if (!cs)
                        return;
                stats_kv_get(cs, "usage_usec", &usec);
                ret->cpu_ns = usec * 1000;
                _cleanup_free_ char *cur = xasprintf("%s/memory.current", d);
                read_u64(cur, &ret->mem_usage);
                _cleanup_free_ char *ms = xasprintf("%s/memory.stat", d);
                _cleanup_free_ char *mt = slurp(ms, 16384);
                uint64_t inactive = 0;
                if (mt) {
                        stats_kv_get(mt, "inactive_file", &inactive);
                        stats_kv_get(mt, "anon", &ret->mem_rss);
                        stats_kv_get(mt, "pgfault", &ret->pgfault);
                        stats_kv_get(mt, "pgmajfault", &ret->pgmajfault);
                }
                ret->mem_ws = ret->mem_usage > inactive ? ret->mem_usage - inactive : 0;
                ret->ok = true;
                return;
        }
        const char *cpu = v1_with(h, "cpuacct.usage");
        const char *mem = v1_with(h, "memory.usage_in_bytes");
        if (!cpu || !mem)
                return;
        _cleanup_free_ char *cu = xasprintf("%s/%s/cpuacct.usage", cpu, rel);
        if (!read_u64(cu, &ret->cpu_ns))
                return;
        _cleanup_free_ char *mu = xasprintf("%s/%s/memory.usage_in_bytes", mem, rel);
        read_u64(mu, &ret->mem_usage);
        _cleanup_free_ char *ms = xasprintf("%s/%s/memory.stat", mem, rel);
        _cleanup_free_ char *mt = slurp(ms, 16384);
        uint64_t inactive = 0;
        if (mt) {
                stats_kv_get(mt, "total_inactive_file", &inactive);
                stats_kv_get(mt, "total_rss", &ret->mem_rss);
                stats_kv_get(mt, "total_pgfault", &ret->pgfault);
                stats_kv_get(mt, "total_pgmajfault", &ret->pgmajfault);
        }
        ret->mem_ws = ret->mem_usage > inactive ? ret->mem_usage - inactive : 0;
        ret->ok = true;
}

/* The hierarchy holding rel/file (v2: the unified one; v1: the first v1 mount that has it). */
static const char *base_with(const struct cgroup_host *h, const char *rel, const char *file)
{
        if (h->layout == CGROUP_LAYOUT_V2)
                return h->v2_path;
        for (size_t i = 0; i < h->n_v1; i++) {
                _cleanup_free_ char *f = xasprintf("%s/%s/%s", h->v1_paths[i], rel, file);
                if (access(f, F_OK) == 0)
                        return h->v1_paths[i];
        }
        return NULL;
}

/* First pid in the cgroup's children (for its network namespace); 0 if none. */
static pid_t cg_first_pid(const struct cgroup_host *h, const char *path)
{
        const char *rel = path[0] == '/' ? path + 1 : path;
        const char *base = base_with(h, rel, "pids.current");
        if (!base)
                base = h->n_v1 ? h->v1_paths[0] : h->v2_path;
        if (!base)
                return 0;
        /* the pod cgroup holds no process itself: look one level down */
        _cleanup_free_ char *dir = xasprintf("%s/%s", base, rel);
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        pid_t pid = 0;
        struct dirent *de;
        while (!pid && (de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *procs = xasprintf("%s/%s/cgroup.procs", dir, de->d_name);
                _cleanup_free_ char *s = slurp(procs, 64);
                if (s)
                        pid = (pid_t)atoi(s);
        }
        closedir(d);
        return pid;
}

static uint64_t cg_nproc(const struct cgroup_host *h, const char *path)
{
        const char *rel = path[0] == '/' ? path + 1 : path;
        const char *base = base_with(h, rel, "pids.current");
        uint64_t n = 0;
        if (!base)
                return 0;
        _cleanup_free_ char *f = xasprintf("%s/%s/pids.current", base, rel);
        read_u64(f, &n);
        return n;
}

/* Bytes (allocated blocks) and inodes below dir, not crossing mounts. */
static void du(int dirfd, dev_t dev, uint64_t *bytes, uint64_t *inodes, int depth, size_t *budget)
{
        DIR *d = fdopendir(dirfd);
        if (!d) {
                close(dirfd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d)) && *budget) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                (*budget)--;
                struct stat st;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
                        continue;
                *bytes += (uint64_t)st.st_blocks * 512;
                (*inodes)++;
                if (S_ISDIR(st.st_mode) && depth < 64) {
                        int fd = openat(dirfd, de->d_name,
                                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd >= 0)
                                du(fd, dev, bytes, inodes, depth + 1, budget);
                }
        }
        closedir(d);
}

static void du_path(const char *path, uint64_t *bytes, uint64_t *inodes)
{
        struct stat st;
        size_t budget = DU_MAX_ENTRIES;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        if (fstat(fd, &st) < 0) {
                close(fd);
                return;
        }
        *bytes += (uint64_t)st.st_blocks * 512;
        (*inodes)++;
        du(fd, st.st_dev, bytes, inodes, 0, &budget);
}

static void fs_of(const char *path, struct stats_fs *ret)
{
        struct statvfs sv;
        memset(ret, 0, sizeof(*ret));
        if (statvfs(path, &sv) < 0)
                return;
        ret->capacity = (uint64_t)sv.f_blocks * sv.f_frsize;
        ret->available = (uint64_t)sv.f_bavail * sv.f_frsize;
        ret->used = ((uint64_t)sv.f_blocks - sv.f_bfree) * sv.f_frsize;
        ret->inodes = sv.f_files;
        ret->inodes_free = sv.f_ffree;
        ret->inodes_used = sv.f_files - sv.f_ffree;
}

static void node_read(struct stats_snapshot *s)
{
        _cleanup_free_ char *mi = slurp("/proc/meminfo", 16384);
        uint64_t total = 0, mfree = 0, inactive = 0, anon = 0;
        if (mi) {
                stats_kv_get(mi, "MemTotal", &total);
                stats_kv_get(mi, "MemFree", &mfree);
                stats_kv_get(mi, "Inactive(file)", &inactive);
                stats_kv_get(mi, "AnonPages", &anon);
        }
        total *= 1024, mfree *= 1024, inactive *= 1024, anon *= 1024;
        s->mem_total = total;
        s->node.mem_usage = total > mfree ? total - mfree : 0;
        s->node.mem_ws = s->node.mem_usage > inactive ? s->node.mem_usage - inactive : 0;
        s->node.mem_rss = anon;
        s->mem_available = total > s->node.mem_ws ? total - s->node.mem_ws : 0;
        _cleanup_free_ char *vm = slurp("/proc/vmstat", 65536);
        if (vm) {
                stats_kv_get(vm, "pgfault", &s->node.pgfault);
                stats_kv_get(vm, "pgmajfault", &s->node.pgmajfault);
        }
        _cleanup_free_ char *st = slurp("/proc/stat", 4096);
        if (st && !strncmp(st, "cpu ", 4)) {
                unsigned long long v[8] = {0};
                sscanf(st + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                       &v[3], &v[4], &v[5], &v[6], &v[7]);
                long hz = sysconf(_SC_CLK_TCK);
                uint64_t busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
                s->node.cpu_ns = busy * (1000000000ULL / (uint64_t)(hz > 0 ? hz : 100));
        }
        s->node.ok = true;
        read_u64("/proc/sys/kernel/pid_max", &s->pid_max);
        _cleanup_free_ char *la = slurp("/proc/loadavg", 256);
        /* "0.00 0.01 0.05 1/234 5678": running/total */
        const char *sl = la ? strchr(la, '/') : NULL;
        s->nproc = sl ? strtoull(sl + 1, NULL, 10) : 0;
}

static uint64_t rate(uint64_t now_ns, uint64_t prev_ns, const struct timespec *t,
                     const struct timespec *pt)
{
        int64_t dt = (int64_t)(t->tv_sec - pt->tv_sec) * 1000000000LL + (t->tv_nsec - pt->tv_nsec);
        if (dt <= 0 || now_ns < prev_ns)
                return 0;
        return (uint64_t)((long double)(now_ns - prev_ns) * 1e9L / (long double)dt);
}

static const struct stats_pod *prev_pod(const struct stats_snapshot *prev, const char *uid)
{
        for (size_t i = 0; prev && i < prev->n_pods; i++)
                if (!strcmp(prev->pods[i].uid, uid))
                        return &prev->pods[i];
        return NULL;
}

/* The pod's cgroup: the QoS level whose directory exists. */
static char *pod_cgroup(const struct cgroup_host *h, const char *root, const char *uid)
{
        const char *base =
                h->layout == CGROUP_LAYOUT_V2 ? h->v2_path : v1_with(h, "memory.usage_in_bytes");
        for (int q = 2; base && q >= 0; q--) {
                char *p = cgroup_pod_path(root, q, uid);
                _cleanup_free_ char *full = xasprintf("%s%s", base, p);
                if (access(full, F_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}

int stats_collect(struct runtime *rt, const char *data_dir, const struct stats_snapshot *prev,
                  struct stats_snapshot *ret)
{
        struct error err = {0};
        const struct cgroup_host *h = runtime_get_cgroup_host(rt);
        const char *root = runtime_get_cgroup_root(rt);
        memset(ret, 0, sizeof(*ret));
        clock_gettime(CLOCK_REALTIME, &ret->time);
        node_read(ret);
        if (prev)
                ret->node.nano_cores =
                        rate(ret->node.cpu_ns, prev->node.cpu_ns, &ret->time, &prev->time);
        fs_of(data_dir, &ret->nodefs);
        _cleanup_free_ char *imgs = xasprintf("%s/images", data_dir);
        fs_of(access(imgs, F_OK) == 0 ? imgs : data_dir, &ret->imagefs);
        {
                uint64_t used = 0, inodes = 0;
                du_path(imgs, &used, &inodes);
                ret->imagefs.used = used;
                ret->imagefs.inodes_used = inodes;
        }

        struct sandbox_info *sbs = NULL;
        size_t n_sb = 0;
        struct container_info *cis = NULL;
        size_t n_ci = 0;
        if (runtime_sandbox_list(rt, &sbs, &n_sb, &err) < 0)
                return -EIO;
        if (runtime_container_list(rt, &cis, &n_ci, &err) < 0)
                n_ci = 0;
        ret->pods = xcalloc(n_sb ? n_sb : 1, sizeof(*ret->pods));
        for (size_t i = 0; i < n_sb; i++) {
                struct stats_pod *p = &ret->pods[ret->n_pods];
                _cleanup_free_ char *cg = pod_cgroup(h, root, sbs[i].uid);
                if (!cg)
                        continue;
                ret->n_pods++;
                p->uid = xstrdup(sbs[i].uid);
                p->ns = xstrdup(sbs[i].ns ? sbs[i].ns : "");
                p->name = xstrdup(sbs[i].name ? sbs[i].name : "");
                p->cgroup = xstrdup(cg);
                p->started = sbs[i].created_at;
                cg_read(h, cg, &p->cg);
                p->nproc = cg_nproc(h, cg);
                const struct stats_pod *pp = prev_pod(prev, p->uid);
                if (pp)
                        p->cg.nano_cores =
                                rate(p->cg.cpu_ns, pp->cg.cpu_ns, &ret->time, &prev->time);
                pid_t pid = cg_first_pid(h, cg);
                if (pid > 0) {
                        _cleanup_free_ char *nd = xasprintf("/proc/%d/net/dev", (int)pid);
                        _cleanup_free_ char *t = slurp(nd, 65536);
                        if (t)
                                stats_net_dev_parse(t, "eth0", &p->net);
                }
                _cleanup_free_ char *pdir = xasprintf("%s/pods/%s", data_dir, p->uid);
                du_path(pdir, &p->eph_used, &p->eph_inodes);
                p->ctrs = xcalloc(n_ci ? n_ci : 1, sizeof(*p->ctrs));
                char *logdir = NULL;
                for (size_t j = 0; j < n_ci; j++) {
                        if (!cis[j].pod_uid || strcmp(cis[j].pod_uid, p->uid))
                                continue;
                        _cleanup_free_ char *ccg = xasprintf("%s/%s", cg, cis[j].id);
                        struct stats_cg c;
                        cg_read(h, ccg, &c);
                        if (!c.ok)
                                continue; /* exited: the runtime removed its cgroup */
                        struct stats_ctr *sc = &p->ctrs[p->n_ctrs++];
                        sc->name = xstrdup(cis[j].name);
                        sc->id = xstrdup(cis[j].id);
                        sc->started = cis[j].created_at;
                        sc->cg = c;
                        for (size_t k = 0; pp && k < pp->n_ctrs; k++)
                                if (!strcmp(pp->ctrs[k].id, sc->id))
                                        sc->cg.nano_cores = rate(c.cpu_ns, pp->ctrs[k].cg.cpu_ns,
                                                                 &ret->time, &prev->time);
                        _cleanup_free_ char *up = xasprintf("%s/pods/%s/containers/%s/upper",
                                                            data_dir, p->uid, sc->id);
                        du_path(up, &sc->rootfs_used, &sc->rootfs_inodes);
                        if (cis[j].log_path) {
                                struct stat st;
                                if (stat(cis[j].log_path, &st) == 0) {
                                        sc->logs_used = (uint64_t)st.st_blocks * 512;
                                        sc->logs_inodes = 1;
                                }
                                if (!logdir) {
                                        logdir = xstrdup(cis[j].log_path);
                                        char *sl = strrchr(logdir, '/');
                                        if (sl)
                                                *sl = 0;
                                        sl = strrchr(logdir, '/');
                                        if (sl)
                                                *sl = 0;
                                }
                        }
                }
                if (logdir && strstr(logdir, p->uid))
                        du_path(logdir, &p->eph_used, &p->eph_inodes);
                free(logdir);
        }
        runtime_sandbox_info_free(sbs, n_sb);
        runtime_container_info_free(cis, n_ci);
        return 0;
}

static void pod_clear(struct stats_pod *p)
{
        free(p->uid);
        free(p->ns);
        free(p->name);
        free(p->cgroup);
        for (size_t j = 0; j < p->n_ctrs; j++) {
                free(p->ctrs[j].name);
                free(p->ctrs[j].id);
        }
        free(p->ctrs);
}

void stats_snapshot_clear(struct stats_snapshot *s)
{
        for (size_t i = 0; i < s->n_pods; i++)
                pod_clear(&s->pods[i]);
        free(s->pods);
        memset(s, 0, sizeof(*s));
}

void stats_snapshot_copy(const struct stats_snapshot *s, struct stats_snapshot *ret)
{
        *ret = *s;
        ret->pods = xcalloc(s->n_pods ? s->n_pods : 1, sizeof(*ret->pods));
        for (size_t i = 0; i < s->n_pods; i++) {
                struct stats_pod *d = &ret->pods[i];
                *d = s->pods[i];
                d->uid = xstrdup(d->uid);
                d->ns = xstrdup(d->ns);
                d->name = xstrdup(d->name);
                d->cgroup = xstrdup(d->cgroup);
                d->ctrs = xcalloc(d->n_ctrs ? d->n_ctrs : 1, sizeof(*d->ctrs));
                for (size_t j = 0; j < d->n_ctrs; j++) {
                        d->ctrs[j] = s->pods[i].ctrs[j];
                        d->ctrs[j].name = xstrdup(d->ctrs[j].name);
                        d->ctrs[j].id = xstrdup(d->ctrs[j].id);
                }
        }
}

/* ---- Summary API ---- */

static json_t *cpu_json(const struct stats_cg *c, const char *t)
{
        return json_pack("{s:s, s:I, s:I}", "time", t, "usageNanoCores", (json_int_t)c->nano_cores,
                         "usageCoreNanoSeconds", (json_int_t)c->cpu_ns);
}

static json_t *mem_json(const struct stats_cg *c, const char *t, int64_t available)
{
        json_t *m = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "time", t, "usageBytes",
                              (json_int_t)c->mem_usage, "workingSetBytes", (json_int_t)c->mem_ws,
                              "rssBytes", (json_int_t)c->mem_rss, "pageFaults",
                              (json_int_t)c->pgfault, "majorPageFaults", (json_int_t)c->pgmajfault);
        if (available >= 0)
                json_object_set_new(m, "availableBytes", json_integer(available));
        return m;
}

static json_t *fs_json(const struct stats_fs *f, const char *t, uint64_t used, uint64_t inodes_used)
{
        return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "time", t, "availableBytes",
                         (json_int_t)f->available, "capacityBytes", (json_int_t)f->capacity,
                         "usedBytes", (json_int_t)used, "inodesFree", (json_int_t)f->inodes_free,
                         "inodes", (json_int_t)f->inodes, "inodesUsed", (json_int_t)inodes_used);
}

static void rfc3339_ts(char buf[32], const struct timespec *t)
{
        timefmt_rfc3339(buf, t->tv_sec);
}

json_t *stats_summary_json(const struct stats_snapshot *s, const char *node_name,
                           const struct timespec *node_start)
{
        char t[32], st[32];
        rfc3339_ts(t, &s->time);
        rfc3339_ts(st, node_start);
        json_t *node = json_pack(
                "{s:s, s:[], s:s, s:o, s:o, s:o, s:{s:o}, s:{s:s, s:I, s:I}}", "nodeName",
                node_name, "systemContainers", "startTime", st, "cpu", cpu_json(&s->node, t),
                "memory", mem_json(&s->node, t, (int64_t)s->mem_available), "fs",
                fs_json(&s->nodefs, t, s->nodefs.used, s->nodefs.inodes_used), "runtime", "imageFs",
                fs_json(&s->imagefs, t, s->imagefs.used, s->imagefs.inodes_used), "rlimit", "time",
                t, "maxpid", (json_int_t)s->pid_max, "curproc", (json_int_t)s->nproc);
        json_t *pods = json_array();
        for (size_t i = 0; i < s->n_pods; i++) {
                const struct stats_pod *p = &s->pods[i];
                char ps[32];
                rfc3339_ts(ps, &p->started);
                json_t *ctrs = json_array();
                uint64_t ctr_used = 0;
                for (size_t j = 0; j < p->n_ctrs; j++) {
                        const struct stats_ctr *c = &p->ctrs[j];
                        char cs[32];
                        rfc3339_ts(cs, &c->started);
                        json_array_append_new(
                                ctrs,
                                json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "name", c->name,
                                          "startTime", cs, "cpu", cpu_json(&c->cg, t), "memory",
                                          mem_json(&c->cg, t, -1), "rootfs",
                                          fs_json(&s->imagefs, t, c->rootfs_used, c->rootfs_inodes),
                                          "logs",
                                          fs_json(&s->nodefs, t, c->logs_used, c->logs_inodes)));
                        ctr_used += c->rootfs_used;
                }
                json_t *pod =
                        json_pack("{s:{s:s, s:s, s:s}, s:s, s:o, s:o, s:o, s:[], s:o, s:{s:I}}",
                                  "podRef", "name", p->name, "namespace", p->ns, "uid", p->uid,
                                  "startTime", ps, "containers", ctrs, "cpu", cpu_json(&p->cg, t),
                                  "memory", mem_json(&p->cg, t, -1), "volume", "ephemeral-storage",
                                  fs_json(&s->nodefs, t, p->eph_used, p->eph_inodes),
                                  "process_stats", "process_count", (json_int_t)p->nproc);
                if (p->net.ok)
                        json_object_set_new(
                                pod, "network",
                                json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:[{s:s, s:I, s:I, "
                                          "s:I, s:I}]}",
                                          "time", t, "name", "eth0", "rxBytes",
                                          (json_int_t)p->net.rx_bytes, "rxErrors",
                                          (json_int_t)p->net.rx_errors, "txBytes",
                                          (json_int_t)p->net.tx_bytes, "txErrors",
                                          (json_int_t)p->net.tx_errors, "interfaces", "name",
                                          "eth0", "rxBytes", (json_int_t)p->net.rx_bytes,
                                          "rxErrors", (json_int_t)p->net.rx_errors, "txBytes",
                                          (json_int_t)p->net.tx_bytes, "txErrors",
                                          (json_int_t)p->net.tx_errors));
                (void)ctr_used;
                json_array_append_new(pods, pod);
        }
        return json_pack("{s:o, s:o}", "node", node, "pods", pods);
}

/* ---- Prometheus text ---- */

static int64_t ms_of(const struct timespec *t)
{
        return (int64_t)t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

/* Label values escape \, " and newline. */
static void label(FILE *f, const char *k, const char *v, bool last)
{
        fprintf(f, "%s=\"", k);
        for (const char *p = v ? v : ""; *p; p++) {
                if (*p == '\\' || *p == '"')
                        fputc('\\', f), fputc(*p, f);
                else if (*p == '\n')
                        fputs("\\n", f);
                else
                        fputc(*p, f);
        }
        fputs(last ? "\"" : "\",", f);
}

char *stats_metrics_resource(const struct stats_snapshot *s)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        int64_t ms = ms_of(&s->time);
        fputs("# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by "
              "the container in core-seconds\n# TYPE container_cpu_usage_seconds_total counter\n",
              f);
        for (size_t i = 0; i < s->n_pods; i++)
                for (size_t j = 0; j < s->pods[i].n_ctrs; j++) {
                        const struct stats_pod *p = &s->pods[i];
                        fputs("container_cpu_usage_seconds_total{", f);
                        label(f, "container", p->ctrs[j].name, false);
                        label(f, "namespace", p->ns, false);
                        label(f, "pod", p->name, true);
                        fprintf(f, "} %.9f %" PRId64 "\n", p->ctrs[j].cg.cpu_ns / 1e9, ms);
                }
        fputs("# HELP container_memory_working_set_bytes [STABLE] Current working set of the "
              "container in bytes\n# TYPE container_memory_working_set_bytes gauge\n",
              f);
        for (size_t i = 0; i < s->n_pods; i++)
                for (size_t j = 0; j < s->pods[i].n_ctrs; j++) {
                        const struct stats_pod *p = &s->pods[i];
                        fputs("container_memory_working_set_bytes{", f);
                        label(f, "container", p->ctrs[j].name, false);
                        label(f, "namespace", p->ns, false);
                        label(f, "pod", p->name, true);
                        fprintf(f, "} %" PRIu64 " %" PRId64 "\n", p->ctrs[j].cg.mem_ws, ms);
                }
        fputs("# HELP container_start_time_seconds [STABLE] Start time of the container since "
              "unix epoch in seconds\n# TYPE container_start_time_seconds gauge\n",
              f);
        for (size_t i = 0; i < s->n_pods; i++)
                for (size_t j = 0; j < s->pods[i].n_ctrs; j++) {
                        const struct stats_pod *p = &s->pods[i];
                        fputs("container_start_time_seconds{", f);
                        label(f, "container", p->ctrs[j].name, false);
                        label(f, "namespace", p->ns, false);
                        label(f, "pod", p->name, true);
                        fprintf(f, "} %.9f %" PRId64 "\n",
                                p->ctrs[j].started.tv_sec + p->ctrs[j].started.tv_nsec / 1e9, ms);
                }
        fprintf(f,
                "# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the "
                "node in core-seconds\n# TYPE node_cpu_usage_seconds_total counter\n"
                "node_cpu_usage_seconds_total %.9f %" PRId64 "\n"
                "# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in "
                "bytes\n# TYPE node_memory_working_set_bytes gauge\n"
                "node_memory_working_set_bytes %" PRIu64 " %" PRId64 "\n",
                s->node.cpu_ns / 1e9, ms, s->node.mem_ws, ms);
        fputs("# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod "
              "in core-seconds\n# TYPE pod_cpu_usage_seconds_total counter\n",
              f);
        for (size_t i = 0; i < s->n_pods; i++) {
                fputs("pod_cpu_usage_seconds_total{", f);
                label(f, "namespace", s->pods[i].ns, false);
                label(f, "pod", s->pods[i].name, true);
                fprintf(f, "} %.9f %" PRId64 "\n", s->pods[i].cg.cpu_ns / 1e9, ms);
        }
        fputs("# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in "
              "bytes\n# TYPE pod_memory_working_set_bytes gauge\n",
              f);
        for (size_t i = 0; i < s->n_pods; i++) {
                fputs("pod_memory_working_set_bytes{", f);
                label(f, "namespace", s->pods[i].ns, false);
                label(f, "pod", s->pods[i].name, true);
                fprintf(f, "} %" PRIu64 " %" PRId64 "\n", s->pods[i].cg.mem_ws, ms);
        }
        fputs("# HELP scrape_error [ALPHA] 1 if there was an error while getting container "
              "metrics, 0 otherwise\n# TYPE scrape_error gauge\nscrape_error 0\n",
              f);
        fclose(f);
        return out;
}

/* One cadvisor series per container and per pod cgroup (container="" for the pod). */
static void cadvisor_series(FILE *f, const struct stats_snapshot *s, const char *name,
                            const char *help, const char *type, int which)
{
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
        int64_t ms = ms_of(&s->time);
        for (size_t i = 0; i < s->n_pods; i++) {
                const struct stats_pod *p = &s->pods[i];
                for (size_t j = 0; j <= p->n_ctrs; j++) {
                        const struct stats_cg *c = j < p->n_ctrs ? &p->ctrs[j].cg : &p->cg;
                        _cleanup_free_ char *id =
                                j < p->n_ctrs ? xasprintf("%s/%s", p->cgroup, p->ctrs[j].id)
                                              : xstrdup(p->cgroup);
                        fprintf(f, "%s{", name);
                        label(f, "container", j < p->n_ctrs ? p->ctrs[j].name : "", false);
                        label(f, "id", id, false);
                        label(f, "image", "", false);
                        label(f, "name", j < p->n_ctrs ? p->ctrs[j].id : "", false);
                        label(f, "namespace", p->ns, false);
                        label(f, "pod", p->name, true);
                        switch (which) {
                        case 0:
                                fprintf(f, "} %.9f", c->cpu_ns / 1e9);
                                break;
                        case 1:
                                fprintf(f, "} %" PRIu64, c->mem_ws);
                                break;
                        case 2:
                                fprintf(f, "} %" PRIu64, c->mem_usage);
                                break;
                        case 3:
                                fprintf(f, "} %" PRIu64, c->mem_rss);
                                break;
                        default:
                                fprintf(f, "} %" PRIu64,
                                        j < p->n_ctrs ? p->ctrs[j].rootfs_used : p->eph_used);
                                break;
                        }
                        fprintf(f, " %" PRId64 "\n", ms);
                }
        }
}

char *stats_metrics_cadvisor(const struct stats_snapshot *s)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        cadvisor_series(f, s, "container_cpu_usage_seconds_total",
                        "Cumulative cpu time consumed in seconds.", "counter", 0);
        cadvisor_series(f, s, "container_memory_working_set_bytes", "Current working set in bytes.",
                        "gauge", 1);
        cadvisor_series(f, s, "container_memory_usage_bytes",
                        "Current memory usage in bytes, including all memory regardless of when "
                        "it was accessed",
                        "gauge", 2);
        cadvisor_series(f, s, "container_memory_rss", "Size of RSS in bytes.", "gauge", 3);
        cadvisor_series(f, s, "container_fs_usage_bytes",
                        "Number of bytes that are consumed by the container on this filesystem.",
                        "gauge", 4);
        fputs("# HELP container_network_receive_bytes_total Cumulative count of bytes received\n"
              "# TYPE container_network_receive_bytes_total counter\n",
              f);
        for (size_t i = 0; i < s->n_pods; i++) {
                const struct stats_pod *p = &s->pods[i];
                if (!p->net.ok)
                        continue;
                fputs("container_network_receive_bytes_total{", f);
                label(f, "container", "", false);
                label(f, "id", p->cgroup, false);
                label(f, "interface", "eth0", false);
                label(f, "namespace", p->ns, false);
                label(f, "pod", p->name, true);
                fprintf(f, "} %" PRIu64 " %" PRId64 "\n", p->net.rx_bytes, ms_of(&s->time));
        }
        fputs("# HELP container_network_transmit_bytes_total Cumulative count of bytes "
              "transmitted\n# TYPE container_network_transmit_bytes_total counter\n",
              f);
        for (size_t i = 0; i < s->n_pods; i++) {
                const struct stats_pod *p = &s->pods[i];
                if (!p->net.ok)
                        continue;
                fputs("container_network_transmit_bytes_total{", f);
                label(f, "container", "", false);
                label(f, "id", p->cgroup, false);
                label(f, "interface", "eth0", false);
                label(f, "namespace", p->ns, false);
                label(f, "pod", p->name, true);
                fprintf(f, "} %" PRIu64 " %" PRId64 "\n", p->net.tx_bytes, ms_of(&s->time));
        }
        fclose(f);
        return out;
}
