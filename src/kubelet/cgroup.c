/* cgroup.c — cgroup layout detection and the kubepods hierarchy. */
#include "kubelet/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

const char *cgroup_layout_name(enum cgroup_layout l)
{
        switch (l) {
        case CGROUP_LAYOUT_V1:
                return "v1";
        case CGROUP_LAYOUT_HYBRID:
                return "hybrid";
        case CGROUP_LAYOUT_V2:
                return "v2";
        default:
                return "none";
        }
}

void cgroup_host_clear(struct cgroup_host *h)
{
        free(h->v2_path);
        for (size_t i = 0; i < h->n_v1; i++)
                free(h->v1_paths[i]);
        free(h->cpuset_path);
        memset(h, 0, sizeof(*h));
}

static bool has_opt(const char *opts, const char *want)
{
        size_t n = strlen(want);
        for (const char *p = opts; p && *p;) {
                const char *c = strchr(p, ',');
                size_t l = c ? (size_t)(c - p) : strlen(p);
                if (l == n && !memcmp(p, want, n))
                        return true;
                p = c ? c + 1 : NULL;
        }
        return false;
}

/* /proc/mounts escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s, size_t n)
{
        char *o = xmalloc(n + 1), *q = o;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        *q++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 +
                                      (s[i + 3] - '0'));
                        i += 3;
                } else {
                        *q++ = s[i];
                }
        }
        *q = 0;
        return o;
}

int cgroup_host_parse(const char *mounts, const char *prefix, struct cgroup_host *ret,
                      struct error *err)
{
        size_t plen = strlen(prefix);
        for (const char *line = mounts; line && *line;) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t)(eol - line) : strlen(line);
                const char *f[4];
                size_t fl[4];
                size_t nf = 0;
                const char *p = line, *end = line + len;
                while (nf < 4 && p < end) {
                        while (p < end && *p == ' ')
                                p++;
                        if (p >= end)
                                break;
                        f[nf] = p;
                        while (p < end && *p != ' ')
                                p++;
                        fl[nf] = (size_t)(p - f[nf]);
                        nf++;
                }
                line = eol ? eol + 1 : NULL;
                if (nf < 4)
                        continue;
                bool v1 = fl[2] == 6 && !memcmp(f[2], "cgroup", 6);
                bool v2 = fl[2] == 7 && !memcmp(f[2], "cgroup2", 7);
                if (!v1 && !v2)
                        continue;
                char *mp = unescape(f[1], fl[1]);
                if (strncmp(mp, prefix, plen) || (mp[plen] && mp[plen] != '/')) {
                        free(mp);
                        continue;
                }
                if (v2) {
                        free(ret->v2_path);
                        ret->v2_path = mp;
                        continue;
                }
                char *opts = xstrndup(f[3], fl[3]);
                if (has_opt(opts, "hugetlb"))
                        ret->has_hugetlb_v1 = true;
                if (has_opt(opts, "cpuset") && !ret->cpuset_path)
                        ret->cpuset_path = xstrdup(mp);
                free(opts);
                if (ret->n_v1 >= CGROUP_MAX_HIERARCHIES) {
                        free(mp);
                        return error_set(err, -E2BIG, "more than %d cgroup hierarchies",
                                         CGROUP_MAX_HIERARCHIES);
                }
                ret->v1_paths[ret->n_v1++] = mp;
        }
        if (ret->n_v1 && ret->v2_path)
                ret->layout = CGROUP_LAYOUT_HYBRID;
        else if (ret->n_v1)
                ret->layout = CGROUP_LAYOUT_V1;
        else if (ret->v2_path)
                ret->layout = CGROUP_LAYOUT_V2;
        else
                ret->layout = CGROUP_LAYOUT_NONE;
        return 0;
}

static char *read_file(const char *path, size_t max)
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

int cgroup_host_detect(struct cgroup_host *ret, struct error *err)
{
        _cleanup_free_ char *m = read_file("/proc/self/mounts", 1 << 20);
        if (!m)
                return error_set(err, -errno, "/proc/self/mounts: %s", strerror(errno));
        memset(ret, 0, sizeof(*ret));
        int r = cgroup_host_parse(m, "/sys/fs/cgroup", ret, err);
        if (r < 0)
                cgroup_host_clear(ret);
        return r;
}

int cgroup_hybrid_fix(struct cgroup_host *h, struct error *err)
{
        if (h->layout != CGROUP_LAYOUT_HYBRID || h->has_hugetlb_v1)
                return 0;
        const char *mp = "/sys/fs/cgroup/hugetlb";
        if (mkdir(mp, 0755) < 0 && errno != EEXIST)
                return error_set(err, -errno, "mkdir %s: %s", mp, strerror(errno));
        if (mount("cgroup", mp, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hugetlb") < 0) {
                int e = errno;
                rmdir(mp);
                return error_set(err, -e, "mount hugetlb cgroup on %s: %s", mp, strerror(e));
        }
        if (h->n_v1 < CGROUP_MAX_HIERARCHIES)
                h->v1_paths[h->n_v1++] = xstrdup(mp);
        h->has_hugetlb_v1 = true;
        return 0;
}

char *cgroup_pod_path(const char *root, int qos, const char *uid)
{
        const char *r = root && *root ? root : "/kubepods";
        size_t n = strlen(r);
        while (n > 1 && r[n - 1] == '/')
                n--;
        switch (qos) {
        case 0:
                return xasprintf("%.*s/besteffort/pod%s", (int)n, r, uid);
        case 1:
                return xasprintf("%.*s/burstable/pod%s", (int)n, r, uid);
        default:
                return xasprintf("%.*s/pod%s", (int)n, r, uid);
        }
}

static int write_str(const char *path, const char *s)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t w = write(fd, s, strlen(s));
        int r = w < 0 ? -errno : 0;
        close(fd);
        return r;
}

static void copy_cpuset(const char *parent, const char *child)
{
        static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                _cleanup_free_ char *src = xasprintf("%s/%s", parent, files[i]);
                _cleanup_free_ char *dst = xasprintf("%s/%s", child, files[i]);
                _cleanup_free_ char *cur = read_file(dst, 4096);
                if (cur && cur[0] && cur[0] != '\n')
                        continue;
                _cleanup_free_ char *v = read_file(src, 4096);
                if (v)
                        write_str(dst, v);
        }
}

/* mkdir -p base+path, one level at a time; hook per new level. */
static int mkdir_levels(const char *base, const char *path, bool cpuset, bool v2)
{
        _cleanup_free_ char *full = xasprintf("%s/%s", base, path[0] == '/' ? path + 1 : path);
        size_t blen = strlen(base);
        for (char *p = full + blen + 1;; p++) {
                char c = *p;
                if (c != '/' && c != 0)
                        continue;
                *p = 0;
                if (v2) {
                        /* enable controllers for the children of the parent level */
                        char *slash = strrchr(full, '/');
                        *slash = 0;
                        _cleanup_free_ char *sc = xasprintf("%s/cgroup.subtree_control", full);
                        *slash = '/';
                        write_str(sc, "+cpu +memory +pids");
                }
                if (mkdir(full, 0755) < 0 && errno != EEXIST) {
                        int e = -errno;
                        *p = c;
                        return e;
                }
                if (cpuset) {
                        char *slash = strrchr(full, '/');
                        *slash = 0;
                        _cleanup_free_ char *parent = xstrdup(full);
                        *slash = '/';
                        copy_cpuset(parent, full);
                }
                *p = c;
                if (!c)
                        break;
        }
        return 0;
}

int cgroup_path_create(const struct cgroup_host *h, const char *path, struct error *err)
{
        int r;
        for (size_t i = 0; i < h->n_v1; i++) {
                bool cs = h->cpuset_path && !strcmp(h->cpuset_path, h->v1_paths[i]);
                if ((r = mkdir_levels(h->v1_paths[i], path, cs, false)) < 0)
                        return error_set(err, r, "cgroup %s%s: %s", h->v1_paths[i], path,
                                         strerror(-r));
        }
        if (h->layout == CGROUP_LAYOUT_V2 && (r = mkdir_levels(h->v2_path, path, false, true)) < 0)
                return error_set(err, r, "cgroup %s%s: %s", h->v2_path, path, strerror(-r));
        return 0;
}

uint64_t cgroup_shares_to_weight(uint64_t shares)
{
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        return 1 + ((shares - 2) * 9999) / 262142;
}

/* Write one value into base/rel/file if the file exists (the hierarchy has the controller). */
static int set_file(const char *base, const char *rel, const char *file, const char *val,
                    struct error *err)
{
        _cleanup_free_ char *f = xasprintf("%s/%s/%s", base, rel, file);
        if (access(f, F_OK) < 0)
                return 0;
        int r = write_str(f, val);
        if (r < 0)
                return error_set(err, r, "write %s to %s: %s", val, f, strerror(-r));
        return 1;
}

int cgroup_path_set(const struct cgroup_host *h, const char *path,
                    const struct cgroup_resources *res, struct error *err)
{
        const char *rel = path[0] == '/' ? path + 1 : path;
        char v[64];
        int r;
        for (size_t i = 0; i < h->n_v1; i++) {
                const char *b = h->v1_paths[i];
                if (res->cpu_shares) {
                        snprintf(v, sizeof(v), "%" PRIu64, res->cpu_shares);
                        if ((r = set_file(b, rel, "cpu.shares", v, err)) < 0)
                                return r;
                }
                if (res->cpu_quota_us > 0) {
                        if ((r = set_file(b, rel, "cpu.cfs_period_us", "100000", err)) < 0)
                                return r;
                        snprintf(v, sizeof(v), "%" PRId64, res->cpu_quota_us);
                        if ((r = set_file(b, rel, "cpu.cfs_quota_us", v, err)) < 0)
                                return r;
                }
                if (res->memory_limit > 0) {
                        snprintf(v, sizeof(v), "%" PRId64, res->memory_limit);
                        if ((r = set_file(b, rel, "memory.limit_in_bytes", v, err)) < 0)
                                return r;
                }
                if (res->pids_max > 0) {
                        snprintf(v, sizeof(v), "%" PRId64, res->pids_max);
                        if ((r = set_file(b, rel, "pids.max", v, err)) < 0)
                                return r;
                }
        }
        if (h->layout != CGROUP_LAYOUT_V2 || !h->v2_path)
                return 0;
        const char *b = h->v2_path;
        if (res->cpu_shares) {
                snprintf(v, sizeof(v), "%" PRIu64, cgroup_shares_to_weight(res->cpu_shares));
                if ((r = set_file(b, rel, "cpu.weight", v, err)) < 0)
                        return r;
        }
        if (res->cpu_quota_us > 0) {
                snprintf(v, sizeof(v), "%" PRId64 " 100000", res->cpu_quota_us);
                if ((r = set_file(b, rel, "cpu.max", v, err)) < 0)
                        return r;
        }
        if (res->memory_limit > 0) {
                snprintf(v, sizeof(v), "%" PRId64, res->memory_limit);
                if ((r = set_file(b, rel, "memory.max", v, err)) < 0)
                        return r;
        }
        if (res->pids_max > 0) {
                snprintf(v, sizeof(v), "%" PRId64, res->pids_max);
                if ((r = set_file(b, rel, "pids.max", v, err)) < 0)
                        return r;
        }
        return 0;
}

static int rmdir_tree(const char *dir)
{
        int r = 0;
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
                int q = rmdir_tree(sub);
                if (q < 0 && !r)
                        r = q;
        }
        closedir(d);
        if (rmdir(dir) < 0 && errno != ENOENT && !r)
                r = -errno;
        return r;
}

int cgroup_path_remove(const struct cgroup_host *h, const char *path, struct error *err)
{
        int r = 0;
        const char *rel = path[0] == '/' ? path + 1 : path;
        if (!*rel)
                return error_set(err, -EINVAL, "refusing to remove the root cgroup");
        for (size_t i = 0; i <= h->n_v1; i++) {
                const char *base = i < h->n_v1 ? h->v1_paths[i] : h->v2_path;
                if (!base)
                        continue;
                _cleanup_free_ char *full = xasprintf("%s/%s", base, rel);
                int q = rmdir_tree(full);
                if (q < 0 && !r)
                        r = error_set(err, q, "rmdir %s: %s", full, strerror(-q));
        }
        return r;
}

/* Signal every pid listed in dir/cgroup.procs and below; count those still present. */
static int kill_tree(const char *dir, bool send)
{
        int n = 0;
        _cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
        _cleanup_free_ char *buf = read_file(procs, 1 << 20);
        for (char *p = buf; p && *p;) {
                char *end;
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (pid > 1 && pid < INT32_MAX && pid != getpid()) {
                        if (send)
                                kill((pid_t)pid, SIGKILL);
                        n++;
                }
                p = end;
                while (*p == '\n' || *p == ' ')
                        p++;
        }
        DIR *d = opendir(dir);
        if (!d)
                return n;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
                n += kill_tree(sub, send);
        }
        closedir(d);
        return n;
}

int cgroup_path_kill(const struct cgroup_host *h, const char *path)
{
        const char *rel = path[0] == '/' ? path + 1 : path;
        int total = 0;
        if (!*rel)
                return 0;
        for (int round = 0; round < 100; round++) {
                int n = 0;
                for (size_t i = 0; i <= h->n_v1; i++) {
                        const char *base = i < h->n_v1 ? h->v1_paths[i] : h->v2_path;
                        if (!base)
                                continue;
                        _cleanup_free_ char *full = xasprintf("%s/%s", base, rel);
                        n += kill_tree(full, round == 0);
                }
                if (round == 0)
                        total = n;
                if (!n)
                        break;
                struct timespec ts = {0, 10 * 1000000};
                nanosleep(&ts, NULL);
        }
        return total;
}
