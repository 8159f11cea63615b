/* volumes.c — pod volumes (see volumes.h). */
#include "common/fs.h"
#include "kubelet/volumes.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/quantity.h"
#include "client/client.h"
#include "common/kjson.h"
#include "kubelet/rootfs.h"

#define VOLUME_FILE_MAX (4 * 1024 * 1024) /* a ConfigMap is at most 1 MiB; be generous */

/* ---- sources ---- */

static int b64_val(int c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int volumes_b64_decode(const char *in, size_t len, char **ret, size_t *ret_len)
{
        char *out = xmalloc(len / 4 * 3 + 4);
        size_t o = 0;
        uint32_t acc = 0;
        int bits = 0;
        bool pad = false;
        for (size_t i = 0; i < len; i++) {
                int c = (unsigned char)in[i];
                if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
                        continue;
                if (c == '=') {
                        pad = true;
                        continue;
                }
                int v = b64_val(c);
                if (v < 0 || pad) {
                        free(out);
                        return -EINVAL;
                }
                acc = acc << 6 | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (char)(acc >> bits & 0xff);
                }
        }
        out[o] = '\0';
        *ret = out;
        *ret_len = o;
        return 0;
}

static void merge_decoded(json_t *dst, json_t *src)
{
        const char *k;
        json_t *v;
        json_object_foreach(src, k, v)
        {
                char *d;
                size_t dl;
                if (!json_is_string(v) ||
                    volumes_b64_decode(json_string_value(v), json_string_length(v), &d, &dl) < 0)
                        continue;
                json_object_set_new(dst, k, json_stringn_nocheck(d, dl));
                free(d);
        }
}

/* A claim's volume directory: {"path": ...} once the claim is bound to a PV with a hostPath or
 * local path; -EAGAIN while it is not bound. */
static int claim_get(struct kclient *kc, const char *ns, const char *name, json_t **ret,
                     struct error *err)
{
        _cleanup_free_ char *path =
                xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims/%s", ns, name);
        _cleanup_json_ json_t *pvc = NULL, *pv = NULL;
        struct error e2 = {0};
        int r = kclient_get(kc, path, &pvc, &e2);
        if (r == -ENOENT)
                return error_set(err, -ENOENT, "persistentvolumeclaim \"%s\" not found", name);
        if (r < 0)
                return error_set(err, r, "%s", error_msg(&e2));
        const char *vn = kjson_str(pvc, "spec.volumeName");
        if (!vn || !*vn || strcmp(kjson_str(pvc, "status.phase") ?: "", "Bound"))
                return error_set(err, -EAGAIN, "persistentvolumeclaim \"%s\" is not bound", name);
        _cleanup_free_ char *pp = xasprintf("/api/v1/persistentvolumes/%s", vn);
        r = kclient_get(kc, pp, &pv, &e2);
        if (r < 0)
                return error_set(err, r, "persistentvolume \"%s\": %s", vn, error_msg(&e2));
        const char *dir = kjson_str(pv, "spec.hostPath.path") ?: kjson_str(pv, "spec.local.path");
        if (!dir || dir[0] != '/')
                return error_set(err, -EINVAL,
                                 "persistentvolume \"%s\" has no hostPath or local path", vn);
        *ret = json_pack("{s:s}", "path", dir);
        return 0;
}

int volumes_source_get(struct kclient *kc, const char *ns, const char *kind, const char *name,
                       json_t **ret, struct error *err)
{
        if (!strcmp(kind, "persistentvolumeclaim"))
                return claim_get(kc, ns, name, ret, err);
        bool secret = !strcmp(kind, "secret");
        if (!name || !*name)
                return error_set(err, -ENOENT, "%s \"\" not found", kind);
        _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/%s/%s", ns,
                                              secret ? "secrets" : "configmaps", name);
        json_t *obj = NULL;
        struct error e2 = {0};
        int r = kclient_get(kc, path, &obj, &e2);
        if (r == -ENOENT)
                return error_set(err, -ENOENT, "%s \"%s\" not found", kind, name);
        if (r < 0)
                return error_set(err, r, "%s", error_msg(&e2));
        json_t *data = json_object();
        if (secret) {
                merge_decoded(data, json_object_get(obj, "data"));
        } else {
                const char *k;
                json_t *v;
                json_object_foreach(json_object_get(obj, "data"), k, v)
                {
                        if (json_is_string(v))
                                json_object_set(data, k, v);
                }
                merge_decoded(data, json_object_get(obj, "binaryData"));
        }
        json_decref(obj);
        *ret = data;
        return 0;
}

/* ---- pure: projections ---- */

bool volumes_path_ok(const char *path)
{
        if (!path || !*path || path[0] == '/' || strlen(path) > 4096)
                return false;
        const char *p = path;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t l = slash ? (size_t)(slash - p) : strlen(p);
                if (l == 2 && !strncmp(p, "..", 2))
                        return false;
                if (l >= 2 && !strncmp(p, "..", 2) && p == path)
                        return false; /* "..data" and friends belong to the writer */
                if (!slash)
                        break;
                p = slash + 1;
        }
        return true;
}

static void put_file(json_t *files, const char *path, const char *data, size_t len, int mode)
{
        json_object_set_new(
                files, path,
                json_pack("{s:o, s:i}", "data", json_stringn_nocheck(data, len), "mode", mode));
}

static int mode_of(json_t *v, int dflt)
{
        return json_is_integer(v) ? (int)(json_integer_value(v) & 07777) : dflt;
}

/* configMap or secret source (kind "configmap"/"secret"); 1 = optional and missing. */
static int project_keys(json_t *pod, const char *kind, json_t *s, int dmode,
                        const struct kubelet_env_source *src, json_t *files, struct error *err)
{
        const char *name =
                kjson_str(s, "name") ?: kjson_str(s, "secretName"); /* volume: secretName */
        bool optional = kjson_bool(s, "optional", false);
        json_t *data = NULL;
        int r = src && src->lookup
                        ? src->lookup(src->ud, kind, name ? name : "", &data, err)
                        : error_set(err, -ENOENT, "%s \"%s\" not found", kind, name ? name : "");
        if (r == -ENOENT && optional)
                return 1;
        if (r < 0)
                return r;
        json_t *items = json_object_get(s, "items");
        const char *k;
        json_t *v;
        if (!json_array_size(items)) {
                json_object_foreach(data, k, v)
                {
                        if (!volumes_path_ok(k))
                                continue;
                        put_file(files, k, json_string_value(v), json_string_length(v), dmode);
                }
                json_decref(data);
                return 0;
        }
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
                const char *key = kjson_str(it, "key");
                const char *path = kjson_str(it, "path");
                if (!volumes_path_ok(path)) {
                        json_decref(data);
                        return error_set(err, -EINVAL, "invalid path \"%s\"", path ? path : "");
                }
                v = json_object_get(data, key ? key : "");
                if (!json_is_string(v)) {
                        if (optional)
                                continue;
                        json_decref(data);
                        if (!strcmp(kind, "secret"))
                                return error_set(err, -ENOENT,
                                                 "references non-existent secret key: %s",
                                                 key ? key : "");
                        return error_set(err, -ENOENT,
                                         "configmap references non-existent config key: %s",
                                         key ? key : "");
                }
                put_file(files, path, json_string_value(v), json_string_length(v),
                         mode_of(json_object_get(it, "mode"), dmode));
        }
        json_decref(data);
        return 0;
}

static int project_downward(json_t *pod, json_t *s, int dmode, const char *pod_ip,
                            const char *host_ip, json_t *files, struct error *err)
{
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(s, "items"), i, it)
        {
                const char *path = kjson_str(it, "path");
                if (!volumes_path_ok(path))
                        return error_set(err, -EINVAL, "invalid path \"%s\"", path ? path : "");
                _cleanup_free_ char *val = NULL;
                if (json_object_get(it, "fieldRef")) {
                        val = kubelet_field_value(pod, kjson_str(it, "fieldRef.fieldPath"), pod_ip,
                                                  host_ip);
                        if (!val)
                                return error_set(err, -EINVAL, "unsupported fieldPath %s",
                                                 kjson_str(it, "fieldRef.fieldPath") ?: "");
                } else if (json_object_get(it, "resourceFieldRef")) {
                        json_t *ref = json_object_get(it, "resourceFieldRef");
                        json_t *ctr = NULL, *c;
                        size_t k;
                        const char *cn = kjson_str(ref, "containerName");
                        json_array_foreach(kjson_get(pod, "spec.containers"), k, c)
                        {
                                if (cn && !strcmp(kjson_str(c, "name") ?: "", cn))
                                        ctr = c;
                        }
                        int r = kubelet_resource_value(pod, ctr, ref, &val, err);
                        if (r < 0)
                                return r;
                } else {
                        continue;
                }
                put_file(files, path, val, strlen(val),
                         mode_of(json_object_get(it, "mode"), dmode));
        }
        return 0;
}

/* serviceAccountToken: a token of the pod's service account for audience with
 * expirationSeconds (default 3600), from src ("serviceaccounttoken", "<sa>\n<aud>\n<secs>"). */
static int project_token(json_t *pod, json_t *s, int mode, const struct kubelet_env_source *src,
                         json_t *files, struct error *err)
{
        const char *path = kjson_str(s, "path");
        if (!path || !*path)
                return error_set(err, -EINVAL, "serviceAccountToken: path is required");
        if (!src || !src->lookup)
                return error_set(err, -ENOTSUP, "serviceAccountToken: no token source");
        const char *sa = kjson_str(pod, "spec.serviceAccountName");
        const char *aud = kjson_str(s, "audience");
        _cleanup_free_ char *name =
                xasprintf("%s\n%s\n%lld", sa && *sa ? sa : "default", aud ? aud : "",
                          (long long)kjson_int(s, "expirationSeconds", 3600));
        json_t *obj = NULL;
        int r = src->lookup(src->ud, "serviceaccounttoken", name, &obj, err);
        if (r < 0)
                return r;
        const char *tok = kjson_str(obj, "token");
        if (tok)
                put_file(files, path, tok, strlen(tok), mode);
        json_decref(obj);
        return 0;
}

int volumes_projection_build(json_t *pod, json_t *vol, const struct kubelet_env_source *src,
                             const char *pod_ip, const char *host_ip, json_t **ret,
                             struct error *err)
{
        json_t *files = json_object();
        int r = 0, missing = 0;
        json_t *s;
        if ((s = json_object_get(vol, "configMap"))) {
                r = project_keys(pod, "configmap", s,
                                 mode_of(json_object_get(s, "defaultMode"), 0644), src, files, err);
        } else if ((s = json_object_get(vol, "secret"))) {
                r = project_keys(pod, "secret", s, mode_of(json_object_get(s, "defaultMode"), 0644),
                                 src, files, err);
        } else if ((s = json_object_get(vol, "downwardAPI"))) {
                r = project_downward(pod, s, mode_of(json_object_get(s, "defaultMode"), 0644),
                                     pod_ip, host_ip, files, err);
        } else if ((s = json_object_get(vol, "projected"))) {
                int dmode = mode_of(json_object_get(s, "defaultMode"), 0644);
                size_t i;
                json_t *ps;
                json_array_foreach(json_object_get(s, "sources"), i, ps)
                {
                        json_t *x;
                        if ((x = json_object_get(ps, "configMap")))
                                r = project_keys(pod, "configmap", x, dmode, src, files, err);
                        else if ((x = json_object_get(ps, "secret")))
                                r = project_keys(pod, "secret", x, dmode, src, files, err);
                        else if ((x = json_object_get(ps, "downwardAPI")))
                                r = project_downward(pod, x, dmode, pod_ip, host_ip, files, err);
                        else if ((x = json_object_get(ps, "serviceAccountToken")))
                                r = project_token(pod, x, dmode, src, files, err);
                        else
                                r = 0; /* clusterTrustBundle: not yet */
                        if (r < 0)
                                break;
                        if (r == 1)
                                missing = 1;
                }
        } else {
                r = -ENOTSUP;
        }
        if (r < 0) {
                json_decref(files);
                return r;
        }
        *ret = files;
        return r == 1 ? 1 : missing;
}

/* ---- I/O ---- */

static bool is_projection(json_t *vol)
{
        return json_object_get(vol, "configMap") || json_object_get(vol, "secret") ||
               json_object_get(vol, "downwardAPI") || json_object_get(vol, "projected");
}

bool volumes_need_refresh(json_t *pod)
{
        size_t i;
        json_t *v;
        json_array_foreach(kjson_get(pod, "spec.volumes"), i, v)
        {
                if (is_projection(v))
                        return true;
        }
        return false;
}

static int write_file(const char *path, const char *data, size_t len, int mode)
{
        _cleanup_close_ int fd =
                open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        size_t off = 0;
        while (off < len) {
                ssize_t w = write(fd, data + off, len - off);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                off += (size_t)w;
        }
        if (fchmod(fd, (mode_t)mode) < 0)
                return -errno;
        return 0;
}

static char *read_small(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        size_t cap = 4096, len = 0;
        char *b = xmalloc(cap);
        size_t n;
        while ((n = fread(b + len, 1, cap - len - 1, f)) > 0) {
                len += n;
                if (len + 1 >= cap) {
                        if (cap >= VOLUME_FILE_MAX * 4) {
                                free(b);
                                fclose(f);
                                return NULL;
                        }
                        cap *= 2;
                        b = xrealloc(b, cap);
                }
        }
        fclose(f);
        b[len] = '\0';
        return b;
}

/* The kubelet's atomic writer: a fresh "..<timestamp>" dir, "..data" swapped by rename, one
 * symlink per top-level entry through "..data". Nothing happens when the content is the same
 * as the last write (recorded beside the volume dir). */
static int atomic_write(const char *dir, const char *state_path, json_t *files, struct error *err)
{
        _cleanup_free_ char *dump = json_dumps(files, JSON_SORT_KEYS | JSON_COMPACT);
        _cleanup_free_ char *old = read_small(state_path);
        _cleanup_free_ char *data_link = xasprintf("%s/..data", dir);
        struct stat st;
        if (old && dump && !strcmp(old, dump) && lstat(data_link, &st) == 0)
                return 0;
        int r = fs_mkdir_p(dir, 0755, NULL);
        if (r < 0)
                return error_set(err, r, "mkdir %s: %s", dir, strerror(-r));
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char stamp[64];
        strftime(stamp, sizeof(stamp), "..%Y_%m_%d_%H_%M_%S", &tm);
        _cleanup_free_ char *tsname = xasprintf("%s.%09ld", stamp, ts.tv_nsec);
        _cleanup_free_ char *tsdir = xasprintf("%s/%s", dir, tsname);
        if (mkdir(tsdir, 0755) < 0)
                return error_set(err, -errno, "mkdir %s: %m", tsdir);
        const char *path;
        json_t *f;
        json_object_foreach(files, path, f)
        {
                _cleanup_free_ char *full = xasprintf("%s/%s", tsdir, path);
                char *slash = strrchr(full, '/');
                *slash = '\0';
                fs_mkdir_p(full, 0755, NULL);
                *slash = '/';
                json_t *d = json_object_get(f, "data");
                r = write_file(full, json_string_value(d), json_string_length(d),
                               (int)kjson_int(f, "mode", 0644));
                if (r < 0) {
                        rootfs_rm_rf(tsdir);
                        return error_set(err, r, "write %s: %s", full, strerror(-r));
                }
        }
        /* swap ..data */
        _cleanup_free_ char *old_target = NULL;
        char buf[512];
        ssize_t l = readlink(data_link, buf, sizeof(buf) - 1);
        if (l > 0) {
                buf[l] = '\0';
                old_target = xstrdup(buf);
        }
        _cleanup_free_ char *tmp_link = xasprintf("%s/..data_tmp", dir);
        unlink(tmp_link);
        if (symlink(tsname, tmp_link) < 0 || rename(tmp_link, data_link) < 0) {
                r = -errno;
                rootfs_rm_rf(tsdir);
                return error_set(err, r, "swap %s: %s", data_link, strerror(-r));
        }
        /* top-level symlinks: add the new ones, remove those no longer present */
        json_t *top = json_object();
        json_object_foreach(files, path, f)
        {
                _cleanup_free_ char *first = xstrdup(path);
                char *slash = strchr(first, '/');
                if (slash)
                        *slash = '\0';
                json_object_set_new(top, first, json_true());
        }
        const char *name;
        json_t *unused;
        json_object_foreach(top, name, unused)
        {
                _cleanup_free_ char *lp = xasprintf("%s/%s", dir, name);
                _cleanup_free_ char *target = xasprintf("..data/%s", name);
                if (lstat(lp, &st) < 0)
                        symlink(target, lp);
        }
        DIR *dd = opendir(dir);
        struct dirent *de;
        while (dd && (de = readdir(dd))) {
                if (de->d_name[0] == '.' || json_object_get(top, de->d_name))
                        continue;
                _cleanup_free_ char *lp = xasprintf("%s/%s", dir, de->d_name);
                if (lstat(lp, &st) == 0 && S_ISLNK(st.st_mode))
                        unlink(lp);
        }
        if (dd)
                closedir(dd);
        json_decref(top);
        if (old_target && strcmp(old_target, tsname)) {
                _cleanup_free_ char *od = xasprintf("%s/%s", dir, old_target);
                rootfs_rm_rf(od);
        }
        if (dump)
                write_file(state_path, dump, strlen(dump), 0600);
        return 0;
}

static bool is_mountpoint(const char *path)
{
        struct stat a, b;
        _cleanup_free_ char *parent = xasprintf("%s/..", path);
        return stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

static int setup_empty_dir(json_t *ed, const char *dir, struct error *err)
{
        struct stat st;
        if (stat(dir, &st) < 0) {
                int r = fs_mkdir_p(dir, 0777, NULL);
                if (r < 0)
                        return error_set(err, r, "mkdir %s: %s", dir, strerror(-r));
                chmod(dir, 0777);
        }
        const char *medium = kjson_str(ed, "medium");
        if (medium && !strcmp(medium, "Memory") && !is_mountpoint(dir)) {
                _cleanup_free_ char *opts = NULL;
                const char *limit = kjson_str(ed, "sizeLimit");
                struct quantity q;
                if (limit && quantity_parse(limit, &q, NULL) == 0 && quantity_value(&q) > 0)
                        opts = xasprintf("mode=0777,size=%lld", (long long)quantity_value(&q));
                else
                        opts = xstrdup("mode=0777");
                if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
                        return error_set(err, -errno, "mount tmpfs on %s: %m", dir);
        }
        return 0;
}

static int setup_host_path(json_t *hp, struct error *err)
{
        const char *path = kjson_str(hp, "path");
        const char *type = kjson_str(hp, "type") ?: "";
        struct stat st;
        if (!path || path[0] != '/')
                return error_set(err, -EINVAL, "hostPath must be absolute");
        bool exists = stat(path, &st) == 0;
        if (!strcmp(type, "DirectoryOrCreate")) {
                if (!exists) {
                        int r = fs_mkdir_p(path, 0755, NULL);
                        if (r < 0)
                                return error_set(err, r, "mkdir %s: %s", path, strerror(-r));
                        return 0;
                }
                if (!S_ISDIR(st.st_mode))
                        return error_set(err, -EINVAL,
                                         "hostPath type check failed: %s is not a "
                                         "directory",
                                         path);
        } else if (!strcmp(type, "Directory")) {
                if (!exists || !S_ISDIR(st.st_mode))
                        return error_set(err, -ENOENT,
                                         "hostPath type check failed: %s is not a directory", path);
        } else if (!strcmp(type, "FileOrCreate")) {
                if (!exists) {
                        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                        if (fd < 0)
                                return error_set(err, -errno, "create %s: %m", path);
                        close(fd);
                } else if (!S_ISREG(st.st_mode)) {
                        return error_set(err, -EINVAL,
                                         "hostPath type check failed: %s is not a file", path);
                }
        } else if (!strcmp(type, "File")) {
                if (!exists || !S_ISREG(st.st_mode))
                        return error_set(err, -ENOENT,
                                         "hostPath type check failed: %s is not a file", path);
        } else if (!strcmp(type, "Socket")) {
                if (!exists || !S_ISSOCK(st.st_mode))
                        return error_set(err, -ENOENT,
                                         "hostPath type check failed: %s is not a socket file",
                                         path);
        } else if (!strcmp(type, "CharDevice")) {
                if (!exists || !S_ISCHR(st.st_mode))
                        return error_set(err, -ENOENT,
                                         "hostPath type check failed: %s is not a character "
                                         "device",
                                         path);
        } else if (!strcmp(type, "BlockDevice")) {
                if (!exists || !S_ISBLK(st.st_mode))
                        return error_set(err, -ENOENT,
                                         "hostPath type check failed: %s is not a block device",
                                         path);
        }
        return 0;
}

/* A persistentVolumeClaim volume: the bound PV's directory (created if missing, as the
 * local-path provisioner's volumes are), linked from <pod_dir>/volumes/<name> so that mounts
 * and subPaths resolve into it. */
static int setup_claim(json_t *pod, json_t *pvc, const char *base, const char *dir,
                       const struct kubelet_env_source *src, struct error *err)
{
        const char *claim = kjson_str(pvc, "claimName");
        json_t *info = NULL;
        if (!src || !src->lookup)
                return error_set(err, -ENOTSUP, "no API access for persistentVolumeClaim");
        int r = src->lookup(src->ud, "persistentvolumeclaim", claim ? claim : "", &info, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *target = xstrdup(kjson_str(info, "path") ?: "/");
        json_decref(info);
        r = fs_mkdir_p(target, 0777, NULL);
        if (r < 0)
                return error_set(err, r, "mkdir %s: %s", target, strerror(-r));
        chmod(target, 0777);
        fs_mkdir_p(base, 0755, NULL);
        char cur[PATH_MAX];
        ssize_t n = readlink(dir, cur, sizeof(cur) - 1);
        if (n >= 0) {
                cur[n] = '\0';
                if (!strcmp(cur, target))
                        return 0;
                unlink(dir);
        }
        if (symlink(target, dir) < 0)
                return error_set(err, -errno, "symlink %s: %m", dir);
        return 0;
}

int volumes_setup(json_t *pod, const char *pod_dir, const struct kubelet_env_source *src,
                  const char *pod_ip, const char *host_ip, struct error *err)
{
        size_t i;
        json_t *vol;
        _cleanup_free_ char *base = xasprintf("%s/volumes", pod_dir);
        json_array_foreach(kjson_get(pod, "spec.volumes"), i, vol)
        {
                const char *name = kjson_str(vol, "name");
                if (!name || !*name || strchr(name, '/') || name[0] == '.')
                        continue;
                _cleanup_free_ char *dir = xasprintf("%s/%s", base, name);
                struct error e2 = {0};
                int r = 0;
                json_t *s;
                if ((s = json_object_get(vol, "emptyDir"))) {
                        r = setup_empty_dir(s, dir, &e2);
                        json_t *fsg = kjson_get(pod, "spec.securityContext.fsGroup");
                        if (r >= 0 && json_is_integer(fsg)) {
                                /* fsGroup: group-owned, setgid, as the kubelet's SetVolumeOwnership
                                 */
                                if (chown(dir, (uid_t)-1, (gid_t)json_integer_value(fsg)) == 0)
                                        chmod(dir, 02777);
                        }
                } else if ((s = json_object_get(vol, "hostPath"))) {
                        r = setup_host_path(s, &e2);
                } else if ((s = json_object_get(vol, "persistentVolumeClaim"))) {
                        r = setup_claim(pod, s, base, dir, src, &e2);
                } else if (is_projection(vol)) {
                        json_t *files = NULL;
                        r = volumes_projection_build(pod, vol, src, pod_ip, host_ip, &files, &e2);
                        if (r >= 0) {
                                _cleanup_free_ char *state = xasprintf("%s/.%s.json", base, name);
                                fs_mkdir_p(base, 0755, NULL);
                                r = atomic_write(dir, state, files, &e2);
                                json_decref(files);
                        }
                } else {
                        /* unsupported volume types get an empty directory */
                        r = fs_mkdir_p(dir, 0755, NULL);
                        if (r < 0)
                                error_set(&e2, r, "mkdir %s", dir);
                }
                if (r < 0)
                        return error_set(err, r, "MountVolume.SetUp failed for volume \"%s\" : %s",
                                         name, error_msg(&e2));
        }
        return 0;
}

/* Whether path, or its longest existing prefix, resolves (symlinks followed) inside base. */
static bool resolves_inside(const char *base, const char *path)
{
        _cleanup_free_ char *rbase = realpath(base, NULL);
        _cleanup_free_ char *p = xstrdup(path);
        struct stat st;
        while (lstat(p, &st) < 0) {
                char *slash = strrchr(p, '/');
                if (!slash || slash == p)
                        return false;
                *slash = '\0';
        }
        _cleanup_free_ char *rp = realpath(p, NULL);
        size_t bl = rbase ? strlen(rbase) : 0;
        return rbase && rp && !strncmp(rp, rbase, bl) &&
               (rp[bl] == '/' || rp[bl] == '\0' || bl == 1);
}

void volumes_mounts_free(struct runtime_mount *m, size_t n)
{
        for (size_t i = 0; m && i < n; i++) {
                free((char *)m[i].host_path);
                free((char *)m[i].container_path);
        }
        free(m);
}

int volumes_mounts_for(json_t *pod, json_t *spec_ctr, const char *pod_dir,
                       struct runtime_mount **ret, size_t *ret_n, struct error *err)
{
        json_t *vms = json_object_get(spec_ctr, "volumeMounts"), *vm;
        size_t n = json_array_size(vms), k = 0, i;
        struct runtime_mount *m = xcalloc(n ? n : 1, sizeof(*m));
        json_array_foreach(vms, i, vm)
        {
                const char *name = kjson_str(vm, "name") ?: "";
                const char *mp = kjson_str(vm, "mountPath");
                const char *sub = kjson_str(vm, "subPath");
                json_t *vol = NULL, *v;
                size_t j;
                json_array_foreach(kjson_get(pod, "spec.volumes"), j, v)
                {
                        if (!strcmp(kjson_str(v, "name") ?: "", name))
                                vol = v;
                }
                if (!vol || !mp || mp[0] != '/') {
                        volumes_mounts_free(m, k);
                        return error_set(err, -ENOENT, "volumeMount %s: no such volume", name);
                }
                char *src;
                bool ro = kjson_bool(vm, "readOnly", false);
                if (json_object_get(vol, "hostPath"))
                        src = xstrdup(kjson_str(vol, "hostPath.path") ?: "/");
                else
                        src = xasprintf("%s/volumes/%s", pod_dir, name);
                if (is_projection(vol))
                        ro = true; /* the kubelet mounts these read-only */
                if (kjson_bool(vol, "persistentVolumeClaim.readOnly", false))
                        ro = true;
                if (sub && *sub) {
                        if (!volumes_path_ok(sub)) {
                                free(src);
                                volumes_mounts_free(m, k);
                                return error_set(err, -EINVAL,
                                                 "subPath \"%s\" of volumeMount %s is invalid", sub,
                                                 name);
                        }
                        char *full = xasprintf("%s/%s", src, sub);
                        /* a symlink a container planted in the volume must not lead the bind
                         * mount (or the kubelet's mkdir) out of it (CVE-2017-1002101): the
                         * existing part of the path, then the whole, must resolve inside */
                        bool inside = resolves_inside(src, full);
                        struct stat st;
                        if (inside && lstat(full, &st) < 0)
                                fs_mkdir_p(full, 0755, NULL); /* the kubelet creates it */
                        inside = inside && resolves_inside(src, full);
                        free(src);
                        src = full;
                        if (!inside) {
                                free(src);
                                volumes_mounts_free(m, k);
                                return error_set(err, -EINVAL,
                                                 "subpath \"%s\" of volume %s resolves outside "
                                                 "the volume",
                                                 sub, name);
                        }
                }
                m[k].host_path = src;
                m[k].container_path = xstrdup(mp);
                m[k].read_only = ro;
                k++;
        }
        *ret = m;
        *ret_n = k;
        return 0;
}
