/* images.c — the node's image store (see images.h for the layout).
 *
 * Import is one streaming pass over the outer archive (libarchive, compression auto-detected):
 * every regular file is copied into a private temp dir while its sha256 is computed, so blobs
 * are verified against their names without a second read and the order of entries does not
 * matter (docker-archive puts manifest.json last). Then the manifests are interpreted, each
 * layer is unpacked (once per diffid, also across images and imports) into the temp dir while
 * the sha256 of its uncompressed stream is checked against the config's diff_ids, and finally,
 * under the store lock, blobs and layers are renamed into place and index.json is replaced.
 * Nothing in the store changes before that last step, and that step is undone on failure.
 *
 * Layers are unpacked with *at() calls relative to the layer's directory, opening every path
 * component with O_NOFOLLOW, so neither "../", absolute paths nor symlinks planted by earlier
 * entries can make an entry land outside the layer. */
#include "common/fs.h"
#include "kubelet/images.h"
#include "kubelet/rootfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>

#define HEX_LEN 64
#define PATH_CAP 4096
#define LINK_HOPS 8
#define COPY_BUF (64 * 1024)

/* ------------------------------------------------------------------------------------------ */
/* small helpers                                                                              */

void images_strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

static bool is_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

static bool is_hex64(const char *s)
{
        return strlen(s) == HEX_LEN && is_hex(s, HEX_LEN);
}

/* "sha256:<hex>" -> "<hex>", or NULL. */
static const char *digest_hex(const char *d)
{
        if (!d || strncmp(d, "sha256:", 7) || !is_hex64(d + 7))
                return NULL;
        return d + 7;
}

struct sha {
        EVP_MD_CTX *ctx;
};

static void sha_init(struct sha *s)
{
        s->ctx = EVP_MD_CTX_new();
        if (!s->ctx || EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) != 1)
                abort();
}

static void sha_update(struct sha *s, const void *p, size_t n)
{
        if (n)
                EVP_DigestUpdate(s->ctx, p, n);
}

static void sha_final(struct sha *s, char hex[HEX_LEN + 1])
{
        unsigned char md[32];
        unsigned int len = 0;
        EVP_DigestFinal_ex(s->ctx, md, &len);
        for (unsigned i = 0; i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        EVP_MD_CTX_free(s->ctx);
        s->ctx = NULL;
}

static void sha_clear(struct sha *s)
{
        if (s->ctx)
                EVP_MD_CTX_free(s->ctx);
        s->ctx = NULL;
}

static void sha_buf(const void *p, size_t n, char hex[HEX_LEN + 1])
{
        struct sha s;
        sha_init(&s);
        sha_update(&s, p, n);
        sha_final(&s, hex);
}

static int write_all(int fd, const void *p, size_t n)
{
        const char *c = p;
        while (n) {
                ssize_t w = write(fd, c, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                c += w;
                n -= (size_t)w;
        }
        return 0;
}

/* Read a whole file (at most max bytes, else -E2BIG), NUL-terminated. */
static int read_file_capped(const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t len = 0, cap = 4096;
        _cleanup_free_ char *buf = xmalloc(cap + 1);
        for (;;) {
                if (len == cap) {
                        if (cap >= max + 1)
                                return -E2BIG;
                        cap = MIN(cap * 2, max + 1);
                        buf = xrealloc(buf, cap + 1);
                }
                ssize_t r = read(fd, buf + len, cap - len);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        break;
                len += (size_t)r;
        }
        if (len > max)
                return -E2BIG;
        buf[len] = 0;
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

static bool path_exists(const char *p)
{
        struct stat st;
        return lstat(p, &st) == 0;
}

/* Normalize an archive path: strip "./" and duplicate slashes. Absolute paths and ".."
 * components are rejected (-EPROTO) unless allow_dotdot, in which case ".." pops a component
 * (never above the root). "" is the root. */
static int path_normalize(const char *in, bool allow_dotdot, char **ret)
{
        size_t n = strlen(in);
        if (n >= PATH_CAP)
                return -E2BIG;
        if (in[0] == '/')
                return -EPROTO;
        _cleanup_free_ char *out = xmalloc(n + 1);
        size_t o = 0;
        const char *p = in;
        while (*p) {
                const char *e = strchr(p, '/');
                size_t l = e ? (size_t)(e - p) : strlen(p);
                if (l == 0 || (l == 1 && p[0] == '.')) {
                        /* skip */
                } else if (l == 2 && p[0] == '.' && p[1] == '.') {
                        if (!allow_dotdot || o == 0)
                                return -EPROTO;
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--;
                } else {
                        if (o)
                                out[o++] = '/';
                        memcpy(out + o, p, l);
                        o += l;
                }
                p += l;
                if (*p == '/')
                        p++;
        }
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* references                                                                                 */

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool valid_path_component(const char *s, size_t n)
{
        size_t i = 0;
        if (n == 0 || !is_lower_alnum(s[0]))
                return false;
        for (;;) {
                while (i < n && is_lower_alnum(s[i]))
                        i++;
                if (i == n)
                        return true;
                if (s[i] == '.') {
                        i++;
                } else if (s[i] == '_') {
                        i++;
                        if (i < n && s[i] == '_')
                                i++;
                } else if (s[i] == '-') {
                        while (i < n && s[i] == '-')
                                i++;
                } else {
                        return false;
                }
                if (i == n || !is_lower_alnum(s[i]))
                        return false;
        }
}

static bool valid_domain(const char *s, size_t n)
{
        size_t i = 0;
        if (n == 0)
                return false;
        while (i < n && s[i] != ':') {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.'))
                        return false;
                i++;
        }
        if (i == 0 || s[0] == '.' || s[0] == '-' || s[i - 1] == '.' || s[i - 1] == '-')
                return false;
        if (i < n) {
                i++;
                if (i == n || n - i > 5)
                        return false;
                for (; i < n; i++)
                        if (s[i] < '0' || s[i] > '9')
                                return false;
        }
        return true;
}

static bool valid_tag(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 128)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool w = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '_';
                if (!w && (i == 0 || (c != '.' && c != '-')))
                        return false;
        }
        return true;
}

void image_ref_clear(struct image_ref *r)
{
        free(r->name);
        free(r->tag);
        free(r->digest);
        *r = (struct image_ref){0};
}

int images_ref_parse(const char *ref, struct image_ref *ret, struct error *err)
{
        if (!ref || !*ref)
                return error_set(err, -EINVAL, "invalid reference: empty");
        size_t len = strlen(ref);
        if (len > 1024)
                return error_set(err, -EINVAL, "invalid reference: too long");
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)ref[i] <= ' ' || (unsigned char)ref[i] >= 0x7f)
                        return error_set(err, -EINVAL, "invalid reference \"%.64s\"", ref);

        _cleanup_free_ char *rest = xstrdup(ref);
        _cleanup_free_ char *digest = NULL, *tag = NULL;
        char *at = strchr(rest, '@');
        if (at) {
                *at = 0;
                if (!digest_hex(at + 1))
                        return error_set(err, -EINVAL,
                                         "invalid reference \"%s\": bad digest (want sha256:<64 "
                                         "lowercase hex>)",
                                         ref);
                digest = xstrdup(at + 1);
        }
        char *slash = strrchr(rest, '/');
        char *colon = strrchr(slash ? slash : rest, ':');
        if (colon) {
                *colon = 0;
                if (!valid_tag(colon + 1))
                        return error_set(err, -EINVAL, "invalid reference \"%s\": bad tag", ref);
                tag = xstrdup(colon + 1);
        }
        if (!*rest)
                return error_set(err, -EINVAL, "invalid reference \"%s\": empty name", ref);

        const char *domain = "docker.io", *path = rest;
        size_t dlen = strlen(domain);
        slash = strchr(rest, '/');
        if (slash) {
                size_t fl = (size_t)(slash - rest);
                bool dom = memchr(rest, '.', fl) || memchr(rest, ':', fl) ||
                           (fl == 9 && !strncmp(rest, "localhost", 9));
                for (size_t i = 0; i < fl && !dom; i++)
                        if (rest[i] >= 'A' && rest[i] <= 'Z')
                                dom = true;
                if (dom) {
                        if (!valid_domain(rest, fl))
                                return error_set(err, -EINVAL,
                                                 "invalid reference \"%s\": bad registry", ref);
                        domain = rest;
                        dlen = fl;
                        path = slash + 1;
                }
        }
        if (dlen == 15 && !strncmp(domain, "index.docker.io", 15)) {
                domain = "docker.io";
                dlen = 9;
        }
        bool docker_hub = dlen == 9 && !strncmp(domain, "docker.io", 9);
        for (const char *p = path;;) {
                const char *e = strchr(p, '/');
                size_t l = e ? (size_t)(e - p) : strlen(p);
                if (!valid_path_component(p, l)) {
                        for (size_t i = 0; i < l; i++)
                                if (p[i] >= 'A' && p[i] <= 'Z')
                                        return error_set(err, -EINVAL,
                                                         "invalid reference \"%s\": repository "
                                                         "name must be lowercase",
                                                         ref);
                        return error_set(err, -EINVAL, "invalid reference format \"%s\"", ref);
                }
                if (!e)
                        break;
                p = e + 1;
        }
        char *name = xasprintf("%.*s/%s%s", (int)dlen, domain,
                               docker_hub && !strchr(path, '/') ? "library/" : "", path);
        if (strlen(name) > 255) {
                free(name);
                return error_set(err, -EINVAL, "invalid reference \"%s\": name too long", ref);
        }
        *ret = (struct image_ref){.name = name, .tag = TAKE_PTR(tag), .digest = TAKE_PTR(digest)};
        return 0;
}

char *images_ref_format(const struct image_ref *r)
{
        if (r->digest && r->tag)
                return xasprintf("%s:%s@%s", r->name, r->tag, r->digest);
        if (r->digest)
                return xasprintf("%s@%s", r->name, r->digest);
        return xasprintf("%s:%s", r->name, r->tag ? r->tag : "latest");
}

/* Normalize ref to "name:tag" (or name@digest); NULL on an invalid ref. */
static char *ref_normalize(const char *ref, struct error *err)
{
        struct image_ref r;
        if (images_ref_parse(ref, &r, err) < 0)
                return NULL;
        char *s = images_ref_format(&r);
        image_ref_clear(&r);
        return s;
}

/* ------------------------------------------------------------------------------------------ */
/* index.json and the lock                                                                    */

static json_t *index_empty(void)
{
        return json_pack("{s:i, s:{}, s:{}}", "version", 1, "images", "names");
}

static int index_load(const char *dir, json_t **ret, struct error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/index.json", dir);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_file_capped(path, 64u * 1024 * 1024, &buf, &len);
        if (r == -ENOENT) {
                *ret = index_empty();
                return 0;
        }
        if (r < 0)
                return error_set(err, r, "%s: %s", path, strerror(-r));
        json_error_t je;
        json_t *idx = json_loadb(buf, len, 0, &je);
        if (!idx || !json_is_object(json_object_get(idx, "images")) ||
            !json_is_object(json_object_get(idx, "names"))) {
                json_decref(idx);
                return error_set(err, -EPROTO, "%s: corrupt image index", path);
        }
        *ret = idx;
        return 0;
}

static int index_save(const char *dir, json_t *idx, struct error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/index.json", dir);
        _cleanup_free_ char *tmp = xasprintf("%s/.index.json.%d", dir, (int)getpid());
        _cleanup_free_ char *s = json_dumps(idx, JSON_COMPACT | JSON_SORT_KEYS);
        if (!s)
                abort();
        int r;
        {
                _cleanup_close_ int fd =
                        open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0)
                        return error_set(err, -errno, "%s: %s", tmp, strerror(errno));
                r = write_all(fd, s, strlen(s));
                if (r == 0 && fsync(fd) < 0)
                        r = -errno;
        }
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return error_set(err, r, "writing %s: %s", path, strerror(-r));
        }
        return 0;
}

static int store_lock(const char *dir, struct error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/.lock", dir);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return error_set(err, -errno, "%s: %s", path, strerror(errno));
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        int e = errno;
                        close(fd);
                        return error_set(err, -e, "lock %s: %s", path, strerror(e));
                }
        }
        return fd;
}

/* ------------------------------------------------------------------------------------------ */
/* layer unpacking                                                                            */

/* Open the directory dir (normalized, relative to rootfd; "" is rootfd itself), never following
 * symlinks; create missing components (0755) if create. */
static int open_dir_at(int rootfd, const char *dir, bool create, struct error *err)
{
        int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, -errno, "open layer dir: %s", strerror(errno));
        const char *p = dir;
        char comp[NAME_MAX + 1];
        while (*p) {
                const char *e = strchr(p, '/');
                size_t l = e ? (size_t)(e - p) : strlen(p);
                if (l > NAME_MAX) {
                        close(fd);
                        return error_set(err, -EPROTO, "path component too long in \"%s\"", dir);
                }
                memcpy(comp, p, l);
                comp[l] = 0;
                int nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0 && errno == ENOENT && create) {
                        if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
                                int en = errno;
                                close(fd);
                                return error_set(err, -en, "mkdir %s: %s", dir, strerror(en));
                        }
                        nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (nfd < 0) {
                        int en = errno;
                        close(fd);
                        if (en == ELOOP || en == ENOTDIR)
                                return error_set(err, -EPROTO,
                                                 "\"%s\" goes through a symlink or a file", dir);
                        return error_set(err, -en, "open %s: %s", dir, strerror(en));
                }
                close(fd);
                fd = nfd;
                p += l;
                if (*p == '/')
                        p++;
        }
        return fd;
}

static void split_path(char *path, const char **ret_dir, const char **ret_base)
{
        char *s = strrchr(path, '/');
        if (s) {
                *s = 0;
                *ret_dir = path;
                *ret_base = s + 1;
        } else {
                *ret_dir = "";
                *ret_base = path;
        }
}

static int copy_entry_data(struct archive *a, int fd, int64_t size, struct error *err)
{
        const void *buf;
        size_t n;
        la_int64_t off;
        for (;;) {
                int r = archive_read_data_block(a, &buf, &n, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return error_set(err, -EPROTO, "%s", archive_error_string(a));
                size_t done = 0;
                while (done < n) {
                        ssize_t w = pwrite(fd, (const char *)buf + done, n - done,
                                           (off_t)off + (off_t)done);
                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                return error_set(err, -errno, "write: %s", strerror(errno));
                        }
                        done += (size_t)w;
                }
        }
        if (size >= 0 && ftruncate(fd, size) < 0)
                return error_set(err, -errno, "truncate: %s", strerror(errno));
        return 0;
}

static void apply_xattrs(int fd, struct archive_entry *e)
{
        const char *name;
        const void *val;
        size_t sz;
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &val, &sz) == ARCHIVE_OK) {
                /* overlay's own attributes are ours to set (whiteouts), never the image's */
                if (!name || !strncmp(name, "trusted.overlay.", 16))
                        continue;
                if (strncmp(name, "user.", 5) && strncmp(name, "security.capability", 19))
                        continue;
                (void)fsetxattr(fd, name, val, sz, 0);
        }
}

static int unpack_entry(int rootfd, struct archive *a, struct archive_entry *e, struct error *err)
{
        const char *raw = archive_entry_pathname(e);
        if (!raw)
                return error_set(err, -EPROTO, "entry without a name");
        _cleanup_free_ char *path = NULL;
        int r = path_normalize(raw, false, &path);
        if (r < 0)
                return error_set(err, -EPROTO, "unsafe path \"%.200s\"", raw);
        if (!*path)
                return 0; /* the root itself */
        const char *dir, *base;
        split_path(path, &dir, &base);
        _cleanup_close_ int pfd = open_dir_at(rootfd, dir, true, err);
        if (pfd < 0)
                return pfd;

        if (!strncmp(base, ".wh.", 4)) {
                if (!strcmp(base, ".wh..wh..opq")) {
                        if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                                return error_set(err, -errno, "opaque whiteout in \"%s\": %s", dir,
                                                 strerror(errno));
                        return 0;
                }
                if (!strncmp(base, ".wh..wh.", 8))
                        return 0; /* aufs metadata */
                const char *victim = base + 4;
                if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
                        return error_set(err, -EPROTO, "bad whiteout \"%.200s\"", raw);
                r = rootfs_rm_rf_at(pfd, victim);
                if (r < 0)
                        return error_set(err, r, "whiteout %s: %s", victim, strerror(-r));
                if (mknodat(pfd, victim, S_IFCHR | 0, makedev(0, 0)) < 0)
                        return error_set(err, -errno, "whiteout %s: mknod: %s", victim,
                                         strerror(errno));
                return 0;
        }

        mode_t type = archive_entry_filetype(e);
        const char *hardlink = archive_entry_hardlink(e);
        struct stat st;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            !(S_ISDIR(st.st_mode) && type == AE_IFDIR && !hardlink)) {
                r = rootfs_rm_rf_at(pfd, base);
                if (r < 0)
                        return error_set(err, r, "replace %s: %s", path, strerror(-r));
        }
        if (hardlink) {
                _cleanup_free_ char *target = NULL;
                if (path_normalize(hardlink, false, &target) < 0 || !*target)
                        return error_set(err, -EPROTO, "unsafe hardlink target \"%.200s\"",
                                         hardlink);
                const char *tdir, *tbase;
                split_path(target, &tdir, &tbase);
                _cleanup_close_ int tfd = open_dir_at(rootfd, tdir, false, err);
                if (tfd < 0)
                        return tfd;
                if (linkat(tfd, tbase, pfd, base, 0) < 0)
                        return error_set(err, errno == ENOENT ? -EPROTO : -errno, "hardlink %s: %s",
                                         path, strerror(errno));
                return 0;
        }

        _cleanup_close_ int fd = -1;
        mode_t mode = archive_entry_perm(e) & 07777;
        switch (type) {
        case AE_IFDIR:
                if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST)
                        return error_set(err, -errno, "mkdir %s: %s", path, strerror(errno));
                fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return error_set(err, -errno, "open %s: %s", path, strerror(errno));
                break;
        case AE_IFREG:
                fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return error_set(err, -errno, "create %s: %s", path, strerror(errno));
                r = copy_entry_data(a, fd,
                                    archive_entry_size_is_set(e) ? archive_entry_size(e) : -1, err);
                if (r < 0)
                        return error_wrap(err, r, "%s", path);
                break;
        case AE_IFLNK: {
                const char *t = archive_entry_symlink(e);
                if (!t || strlen(t) >= PATH_CAP)
                        return error_set(err, -EPROTO, "bad symlink %s", path);
                if (symlinkat(t, pfd, base) < 0)
                        return error_set(err, -errno, "symlink %s: %s", path, strerror(errno));
                break;
        }
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
                if (mknodat(pfd, base, type | mode, type == AE_IFIFO ? 0 : archive_entry_rdev(e)) <
                    0)
                        return error_set(err, -errno, "mknod %s: %s", path, strerror(errno));
                break;
        default:
                return 0; /* sockets and unknown types are skipped */
        }
        if (fchownat(pfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                     AT_SYMLINK_NOFOLLOW) < 0 &&
            errno != EPERM)
                return error_set(err, -errno, "chown %s: %s", path, strerror(errno));
        if (fd >= 0) {
                if (fchmod(fd, mode) < 0)
                        return error_set(err, -errno, "chmod %s: %s", path, strerror(errno));
                apply_xattrs(fd, e);
        } else if (type != AE_IFLNK) {
                (void)fchmodat(pfd, base, mode, 0);
        }
        struct timespec ts[2] = {
                {.tv_sec = archive_entry_atime_is_set(e) ? archive_entry_atime(e)
                                                         : archive_entry_mtime(e)},
                {.tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e)},
        };
        (void)utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
}

/* Feeds the decompressed bytes of a layer blob to the tar reader while hashing them. */
struct layer_src {
        struct archive *raw;
        struct sha sha;
        char buf[COPY_BUF];
};

static la_ssize_t layer_read(struct archive *a, void *ud, const void **buf)
{
        struct layer_src *s = ud;
        la_ssize_t n = archive_read_data(s->raw, s->buf, sizeof(s->buf));
        if (n < 0) {
                archive_set_error(a, EIO, "%s", archive_error_string(s->raw));
                return -1;
        }
        sha_update(&s->sha, s->buf, (size_t)n);
        *buf = s->buf;
        return n;
}

/* Unpack the layer blob at blob_path into the new directory dest and check that the sha256 of
 * its uncompressed tar stream is diffid_hex. */
static int layer_unpack(const char *blob_path, const char *dest, const char *diffid_hex,
                        struct error *err)
{
        int r;
        struct layer_src *src = xcalloc(1, sizeof(*src));
        struct archive *in = NULL;
        _cleanup_close_ int rootfd = -1;
        sha_init(&src->sha);
        src->raw = archive_read_new();
        archive_read_support_filter_all(src->raw);
        archive_read_support_format_raw(src->raw);
        struct archive_entry *e;
        if (archive_read_open_filename(src->raw, blob_path, COPY_BUF) != ARCHIVE_OK ||
            archive_read_next_header(src->raw, &e) != ARCHIVE_OK) {
                r = error_set(err, -EPROTO, "%s", archive_error_string(src->raw));
                goto out;
        }
        if (mkdir(dest, 0755) < 0) {
                r = error_set(err, -errno, "mkdir %s: %s", dest, strerror(errno));
                goto out;
        }
        rootfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                r = error_set(err, -errno, "open %s: %s", dest, strerror(errno));
                goto out;
        }
        in = archive_read_new();
        archive_read_support_format_tar(in);
        archive_read_support_format_gnutar(in);
        if (archive_read_open(in, src, NULL, layer_read, NULL) != ARCHIVE_OK) {
                r = error_set(err, -EPROTO, "%s", archive_error_string(in));
                goto out;
        }
        for (size_t n = 0;; n++) {
                int ar = archive_read_next_header(in, &e);
                if (ar == ARCHIVE_EOF)
                        break;
                if (ar < ARCHIVE_WARN) {
                        r = error_set(err, -EPROTO, "%s", archive_error_string(in));
                        goto out;
                }
                if (n >= IMAGES_MAX_ENTRIES) {
                        r = error_set(err, -E2BIG, "more than %d entries", IMAGES_MAX_ENTRIES);
                        goto out;
                }
                r = unpack_entry(rootfd, in, e, err);
                if (r < 0)
                        goto out;
        }
        /* the tar reader stops at the end-of-archive blocks; the digest covers all bytes */
        for (;;) {
                la_ssize_t n = archive_read_data(src->raw, src->buf, sizeof(src->buf));
                if (n < 0) {
                        r = error_set(err, -EPROTO, "%s", archive_error_string(src->raw));
                        goto out;
                }
                if (n == 0)
                        break;
                sha_update(&src->sha, src->buf, (size_t)n);
        }
        char hex[HEX_LEN + 1];
        sha_final(&src->sha, hex);
        if (strcmp(hex, diffid_hex)) {
                r = error_set(err, -EPROTO, "diffid mismatch: content is sha256:%.12s", hex);
                goto out;
        }
        r = 0;
out:
        if (in)
                archive_read_free(in);
        archive_read_free(src->raw);
        sha_clear(&src->sha);
        free(src);
        return r;
}

/* ------------------------------------------------------------------------------------------ */
/* import                                                                                     */

struct afile {
        char *path; /* normalized path in the archive */
        char *link; /* normalized link target (archive root relative), or NULL */
        char *tmp;  /* where its content is (regular files) */
        char hex[HEX_LEN + 1];
        uint64_t size;
        bool moved; /* renamed into the store by commit */
};

struct import {
        const char *dir; /* images_dir */
        char *tmpdir;    /* images_dir/tmp/import-XXXXXX */
        struct afile *files;
        size_t n_files, cap_files;
        size_t n_tmp;       /* tmp file counter */
        json_t *images;     /* array of {id, manifest, layers[], blobs[], size, created, names[]} */
        json_t *new_layers; /* object diffid-hex -> true: unpacked in tmpdir/layers */
        json_t *old_layers; /* object diffid-hex -> true: already in the store */
        char *default_name;
};

static struct afile *afile_add(struct import *im)
{
        if (im->n_files == im->cap_files) {
                im->cap_files = im->cap_files ? im->cap_files * 2 : 16;
                im->files = xrealloc(im->files, im->cap_files * sizeof(*im->files));
        }
        struct afile *f = &im->files[im->n_files++];
        *f = (struct afile){0};
        return f;
}

static struct afile *afile_find(struct import *im, const char *path)
{
        for (int hop = 0; hop < LINK_HOPS; hop++) {
                struct afile *f = NULL;
                for (size_t i = im->n_files; i-- > 0;)
                        if (!strcmp(im->files[i].path, path)) {
                                f = &im->files[i];
                                break;
                        }
                if (!f)
                        return NULL;
                if (!f->link)
                        return f->tmp ? f : NULL;
                path = f->link;
        }
        return NULL;
}

/* Copy the current entry's data into a new temp file, computing its digest. */
static int afile_store(struct import *im, struct archive *a, struct afile *f, struct error *err)
{
        f->tmp = xasprintf("%s/f%zu", im->tmpdir, im->n_tmp++);
        _cleanup_close_ int fd =
                open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return error_set(err, -errno, "%s: %s", f->tmp, strerror(errno));
        struct sha sha;
        sha_init(&sha);
        _cleanup_free_ char *buf = xmalloc(COPY_BUF);
        int r = 0;
        for (;;) {
                la_ssize_t n = archive_read_data(a, buf, COPY_BUF);
                if (n < 0) {
                        r = error_set(err, -EPROTO, "truncated or corrupt archive (%s: %s)",
                                      f->path, archive_error_string(a));
                        break;
                }
                if (n == 0)
                        break;
                sha_update(&sha, buf, (size_t)n);
                f->size += (uint64_t)n;
                r = write_all(fd, buf, (size_t)n);
                if (r < 0) {
                        error_set(err, r, "%s: %s", f->tmp, strerror(-r));
                        break;
                }
        }
        if (r < 0) {
                sha_clear(&sha);
                return r;
        }
        sha_final(&sha, f->hex);
        /* blobs/sha256/<hex> and docker's <hex>.json are named by their digest */
        const char *b = strrchr(f->path, '/');
        b = b ? b + 1 : f->path;
        bool named = false;
        if (!strncmp(f->path, "blobs/sha256/", 13) && strlen(f->path) == 13 + HEX_LEN)
                named = true;
        else if (strlen(b) == HEX_LEN + 5 && !strcmp(b + HEX_LEN, ".json") && is_hex(b, HEX_LEN))
                named = true;
        if (named && strncmp(f->hex, b, HEX_LEN))
                return error_set(err, -EPROTO, "%s: digest mismatch (content is sha256:%.12s)",
                                 f->path, f->hex);
        return 0;
}

static int read_outer(struct import *im, struct archive *a, struct error *err)
{
        struct archive_entry *e;
        for (size_t n = 0;; n++) {
                int ar = archive_read_next_header(a, &e);
                if (ar == ARCHIVE_EOF)
                        break;
                if (ar < ARCHIVE_WARN) {
                        const char *m = archive_error_string(a);
                        if (n == 0)
                                return error_set(err, -EPROTO, "not an image archive (%s)",
                                                 m ? m : "unreadable");
                        return error_set(err, -EPROTO, "truncated or corrupt archive (%s)",
                                         m ? m : "read error");
                }
                if (n >= IMAGES_MAX_ENTRIES)
                        return error_set(err, -E2BIG, "archive has more than %d entries",
                                         IMAGES_MAX_ENTRIES);
                const char *raw = archive_entry_pathname(e);
                _cleanup_free_ char *path = NULL;
                if (!raw || path_normalize(raw, false, &path) < 0)
                        return error_set(err, -EPROTO, "unsafe path \"%.200s\" in archive",
                                         raw ? raw : "");
                mode_t type = archive_entry_filetype(e);
                const char *hl = archive_entry_hardlink(e);
                if (!*path || (type == AE_IFDIR && !hl))
                        continue;
                if (hl) {
                        _cleanup_free_ char *t = NULL;
                        if (path_normalize(hl, false, &t) < 0)
                                return error_set(err, -EPROTO, "unsafe link \"%.200s\"", hl);
                        struct afile *f = afile_add(im);
                        f->path = TAKE_PTR(path);
                        f->link = TAKE_PTR(t);
                } else if (type == AE_IFLNK) {
                        const char *t = archive_entry_symlink(e);
                        if (!t || t[0] == '/')
                                return error_set(err, -EPROTO, "unsafe link in archive");
                        const char *s = strrchr(path, '/');
                        _cleanup_free_ char *joined =
                                xasprintf("%.*s/%s", s ? (int)(s - path) : 0, path, t);
                        _cleanup_free_ char *norm = NULL;
                        if (path_normalize(joined[0] == '/' ? joined + 1 : joined, true, &norm) < 0)
                                return error_set(err, -EPROTO, "unsafe link \"%.200s\"", t);
                        struct afile *f = afile_add(im);
                        f->path = TAKE_PTR(path);
                        f->link = TAKE_PTR(norm);
                } else if (type == AE_IFREG) {
                        struct afile *f = afile_add(im);
                        f->path = TAKE_PTR(path);
                        int r = afile_store(im, a, f, err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int afile_json(struct import *im, struct afile *f, json_t **ret, struct error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_file_capped(f->tmp, IMAGES_MAX_JSON, &buf, &len);
        if (r == -E2BIG)
                return error_set(err, r, "%s: larger than %u bytes", f->path, IMAGES_MAX_JSON);
        if (r < 0)
                return error_set(err, r, "%s: %s", f->tmp, strerror(-r));
        json_error_t je;
        json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!j)
                return error_set(err, -EPROTO, "%s: invalid JSON: %s", f->path, je.text);
        *ret = j;
        return 0;
}

/* A blob referenced by an OCI descriptor. */
static int oci_blob(struct import *im, json_t *desc, struct afile **ret, struct error *err)
{
        const char *d = json_string_value(json_object_get(desc, "digest"));
        const char *hex = digest_hex(d);
        if (!hex)
                return error_set(err, -EPROTO, "descriptor with a bad digest \"%.80s\"",
                                 d ? d : "");
        _cleanup_free_ char *path = xasprintf("blobs/sha256/%s", hex);
        struct afile *f = afile_find(im, path);
        if (!f)
                return error_set(err, -EPROTO, "blob %s missing from archive", d);
        if (strcmp(f->hex, hex))
                return error_set(err, -EPROTO, "blob %s: digest mismatch", d);
        json_t *sz = json_object_get(desc, "size");
        if (json_is_integer(sz) && (uint64_t)json_integer_value(sz) != f->size)
                return error_set(err, -EPROTO, "blob %s: size mismatch", d);
        *ret = f;
        return 0;
}

static struct afile *afile_from_buffer(struct import *im, const char *path, const char *data,
                                       struct error *err)
{
        struct afile *f = afile_add(im);
        f->path = xstrdup(path);
        f->tmp = xasprintf("%s/f%zu", im->tmpdir, im->n_tmp++);
        _cleanup_close_ int fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || write_all(fd, data, strlen(data)) < 0) {
                error_set(err, -EIO, "%s: %s", f->tmp, strerror(errno));
                return NULL;
        }
        f->size = strlen(data);
        sha_buf(data, f->size, f->hex);
        return f;
}

/* Verify+unpack the layers, record the image. layers[i] are the layer blobs, manifest may be
 * NULL (docker-archive: a Docker v2 manifest is synthesized). names: array of normalized
 * strings (borrowed). */
static int add_image(struct import *im, struct afile *config, struct afile *manifest,
                     struct afile **layers, size_t n_layers, json_t *names, struct error *err)
{
        json_auto_t *cfg = NULL;
        int r = afile_json(im, config, &cfg, err);
        if (r < 0)
                return r;
        json_t *diffids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        if (!json_is_object(cfg) || !json_is_array(diffids))
                return error_set(err, -EPROTO, "%s: not an image config (no rootfs.diff_ids)",
                                 config->path);
        if (json_array_size(diffids) != n_layers)
                return error_set(err, -EPROTO, "%s: %zu diff_ids for %zu layers", config->path,
                                 json_array_size(diffids), n_layers);
        json_t *c = json_object_get(cfg, "config");
        if (c && !json_is_object(c))
                return error_set(err, -EPROTO, "%s: bad config", config->path);

        json_t *layer_ids = json_array();
        json_t *blobs = json_array();
        json_t *rec = json_pack("{s:s+, s:o, s:o}", "id", "sha256:", config->hex, "layers",
                                layer_ids, "blobs", blobs);
        json_array_append_new(im->images, rec);
        uint64_t size = config->size;
        json_array_append_new(blobs, json_string(config->hex));
        for (size_t i = 0; i < n_layers; i++) {
                const char *hex = digest_hex(json_string_value(json_array_get(diffids, i)));
                if (!hex)
                        return error_set(err, -EPROTO, "%s: bad diff_id #%zu", config->path, i);
                json_array_append_new(layer_ids, json_string(hex));
                json_array_append_new(blobs, json_string(layers[i]->hex));
                size += layers[i]->size;
                if (json_object_get(im->new_layers, hex) || json_object_get(im->old_layers, hex))
                        continue;
                _cleanup_free_ char *have = xasprintf("%s/layers/%s", im->dir, hex);
                if (path_exists(have)) {
                        json_object_set_new(im->old_layers, hex, json_true());
                        continue;
                }
                _cleanup_free_ char *dest = xasprintf("%s/layers/%s", im->tmpdir, hex);
                r = layer_unpack(layers[i]->tmp, dest, hex, err);
                if (r < 0)
                        return error_wrap(err, r, "layer sha256:%.12s", hex);
                json_object_set_new(im->new_layers, hex, json_true());
        }
        if (!manifest) {
                json_t *ls = json_array();
                for (size_t i = 0; i < n_layers; i++) {
                        unsigned char magic[2] = {0};
                        int fd = open(layers[i]->tmp, O_RDONLY | O_CLOEXEC);
                        if (fd >= 0) {
                                (void)!read(fd, magic, 2);
                                close(fd);
                        }
                        bool gz = magic[0] == 0x1f && magic[1] == 0x8b;
                        json_array_append_new(
                                ls, json_pack("{s:s, s:I, s:s+}", "mediaType",
                                              gz ? "application/vnd.docker.image.rootfs.diff.tar."
                                                   "gzip"
                                                 : "application/vnd.docker.image.rootfs.diff.tar",
                                              "size", (json_int_t)layers[i]->size, "digest",
                                              "sha256:", layers[i]->hex));
                }
                json_auto_t *m = json_pack(
                        "{s:i, s:s, s:{s:s, s:I, s:s+}, s:o}", "schemaVersion", 2, "mediaType",
                        "application/vnd.docker.distribution.manifest.v2+json", "config",
                        "mediaType", "application/vnd.docker.container.image.v1+json", "size",
                        (json_int_t)config->size, "digest", "sha256:", config->hex, "layers", ls);
                _cleanup_free_ char *s = json_dumps(m, JSON_COMPACT);
                manifest = afile_from_buffer(im, ".manifest", s, err);
                if (!manifest)
                        return -EIO;
        }
        json_array_append_new(blobs, json_string(manifest->hex));
        size += manifest->size;
        json_object_set_new(rec, "manifest", json_pack("s+", "sha256:", manifest->hex));
        json_object_set_new(rec, "size", json_integer((json_int_t)size));
        json_t *created = json_object_get(cfg, "created");
        if (json_is_string(created))
                json_object_set(rec, "created", created);
        json_object_set(rec, "names", names);
        return 0;
}

static int docker_archive(struct import *im, struct afile *mf, struct error *err)
{
        json_auto_t *m = NULL;
        int r = afile_json(im, mf, &m, err);
        if (r < 0)
                return r;
        if (!json_is_array(m) || json_array_size(m) == 0)
                return error_set(err, -EPROTO, "manifest.json: not a list of images");
        if (json_array_size(m) > IMAGES_MAX_IMAGES)
                return error_set(err, -E2BIG, "manifest.json: too many images");
        size_t i;
        json_t *it;
        json_array_foreach(m, i, it)
        {
                const char *cpath = json_string_value(json_object_get(it, "Config"));
                json_t *lp = json_object_get(it, "Layers");
                json_t *tags = json_object_get(it, "RepoTags");
                if (!cpath || !json_is_array(lp))
                        return error_set(err, -EPROTO,
                                         "manifest.json: entry %zu lacks Config "
                                         "or Layers",
                                         i);
                _cleanup_free_ char *cn = NULL;
                if (path_normalize(cpath, false, &cn) < 0)
                        return error_set(err, -EPROTO, "manifest.json: unsafe path");
                struct afile *cf = afile_find(im, cn);
                if (!cf)
                        return error_set(err, -EPROTO, "%s missing from archive", cn);
                size_t nl = json_array_size(lp);
                if (nl > 1000)
                        return error_set(err, -E2BIG, "manifest.json: too many layers");
                _cleanup_free_ struct afile **ls = xcalloc(nl + 1, sizeof(*ls));
                for (size_t k = 0; k < nl; k++) {
                        const char *p = json_string_value(json_array_get(lp, k));
                        _cleanup_free_ char *pn = NULL;
                        if (!p || path_normalize(p, false, &pn) < 0)
                                return error_set(err, -EPROTO, "manifest.json: bad layer path");
                        ls[k] = afile_find(im, pn);
                        if (!ls[k])
                                return error_set(err, -EPROTO, "%s missing from archive", pn);
                }
                json_auto_t *names = json_array();
                size_t t;
                json_t *tag;
                json_array_foreach(tags, t, tag)
                {
                        const char *s = json_string_value(tag);
                        char *n = s ? ref_normalize(s, err) : NULL;
                        if (!n)
                                return error_set(err, -EPROTO, "manifest.json: bad RepoTag");
                        json_array_append_new(names, json_string(n));
                        free(n);
                }
                r = add_image(im, cf, NULL, ls, nl, names, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool platform_is_ours(json_t *desc)
{
        json_t *p = json_object_get(desc, "platform");
        if (!p)
                return true;
        const char *os = json_string_value(json_object_get(p, "os"));
        const char *arch = json_string_value(json_object_get(p, "architecture"));
        return os && arch && !strcmp(os, "linux") && !strcmp(arch, "amd64");
}

static const char *mt_index = "application/vnd.oci.image.index.v1+json";
static const char *mt_list = "application/vnd.docker.distribution.manifest.list.v2+json";

static bool is_index_type(const char *mt)
{
        return mt && (!strcmp(mt, mt_index) || !strcmp(mt, mt_list));
}

/* Image name from a top-level descriptor's annotations; NULL if none. */
static char *oci_name(struct import *im, json_t *desc, struct error *err)
{
        json_t *an = json_object_get(desc, "annotations");
        const char *n = json_string_value(json_object_get(an, "io.containerd.image.name"));
        if (n)
                return ref_normalize(n, err);
        n = json_string_value(json_object_get(an, "org.opencontainers.image.ref.name"));
        if (!n)
                return NULL;
        if (!strchr(n, ':') && !strchr(n, '/') && !strchr(n, '@')) {
                /* a bare tag */
                if (!im->default_name || !valid_tag(n))
                        return NULL;
                struct image_ref r;
                if (images_ref_parse(im->default_name, &r, err) < 0)
                        return NULL;
                char *s = xasprintf("%s:%s", r.name, n);
                image_ref_clear(&r);
                return s;
        }
        return ref_normalize(n, err);
}

static int oci_manifest(struct import *im, json_t *desc, json_t *names, int depth,
                        struct error *err)
{
        struct afile *mf;
        int r = oci_blob(im, desc, &mf, err);
        if (r < 0)
                return r;
        json_auto_t *m = NULL;
        r = afile_json(im, mf, &m, err);
        if (r < 0)
                return r;
        const char *mt = json_string_value(json_object_get(desc, "mediaType"));
        if (!mt)
                mt = json_string_value(json_object_get(m, "mediaType"));
        if (is_index_type(mt) || json_is_array(json_object_get(m, "manifests"))) {
                if (depth >= 4)
                        return error_set(err, -EPROTO, "index nested too deep");
                json_t *ms = json_object_get(m, "manifests");
                size_t i;
                json_t *d;
                json_array_foreach(ms, i, d)
                {
                        if (platform_is_ours(d)) {
                                const char *h =
                                        digest_hex(json_string_value(json_object_get(d, "digest")));
                                _cleanup_free_ char *p = h ? xasprintf("blobs/sha256/%s", h) : NULL;
                                if (p && afile_find(im, p))
                                        return oci_manifest(im, d, names, depth + 1, err);
                        }
                }
                return error_set(err, -EPROTO, "no linux/amd64 image in the archive's index");
        }
        struct afile *cf;
        r = oci_blob(im, json_object_get(m, "config"), &cf, err);
        if (r < 0)
                return error_wrap(err, r, "manifest sha256:%.12s config", mf->hex);
        json_t *ls = json_object_get(m, "layers");
        if (!json_is_array(ls))
                return error_set(err, -EPROTO, "manifest sha256:%.12s: no layers", mf->hex);
        size_t nl = json_array_size(ls);
        if (nl > 1000)
                return error_set(err, -E2BIG, "too many layers");
        _cleanup_free_ struct afile **lf = xcalloc(nl + 1, sizeof(*lf));
        for (size_t k = 0; k < nl; k++) {
                r = oci_blob(im, json_array_get(ls, k), &lf[k], err);
                if (r < 0)
                        return r;
        }
        return add_image(im, cf, mf, lf, nl, names, err);
}

static int oci_archive(struct import *im, struct afile *idxf, struct error *err)
{
        json_auto_t *idx = NULL;
        int r = afile_json(im, idxf, &idx, err);
        if (r < 0)
                return r;
        json_t *ms = json_object_get(idx, "manifests");
        if (!json_is_array(ms) || json_array_size(ms) == 0)
                return error_set(err, -EPROTO, "index.json: no manifests");
        if (json_array_size(ms) > IMAGES_MAX_IMAGES)
                return error_set(err, -E2BIG, "index.json: too many manifests");
        size_t i;
        json_t *d;
        json_array_foreach(ms, i, d)
        {
                json_auto_t *names = json_array();
                struct error nerr = {0};
                char *n = oci_name(im, d, &nerr);
                if (n)
                        json_array_append_new(names, json_string(n));
                else if (nerr.code)
                        return error_set(err, -EPROTO, "index.json: %s", nerr.msg);
                free(n);
                r = oci_manifest(im, d, names, 0, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Move blobs and layers into the store and update the index, all or nothing. */
static int commit(struct import *im, char ***ret_names, struct error *err)
{
        _cleanup_free_ char *bdir = xasprintf("%s/blobs/sha256", im->dir);
        _cleanup_free_ char *ldir = xasprintf("%s/layers", im->dir);
        int r = fs_mkdir_p(bdir, 0755, NULL);
        if (r == 0)
                r = fs_mkdir_p(ldir, 0755, NULL);
        if (r < 0)
                return error_set(err, r, "%s: %s", im->dir, strerror(-r));
        _cleanup_close_ int lock = store_lock(im->dir, err);
        if (lock < 0)
                return lock;
        json_auto_t *moved_layers = json_array();
        json_auto_t *idx = NULL;
        const char *hex;
        json_t *v;
        size_t i;

        json_object_foreach(im->old_layers, hex, v)
        {
                _cleanup_free_ char *p = xasprintf("%s/%s", ldir, hex);
                if (!path_exists(p)) {
                        r = error_set(err, -EAGAIN, "layer %.12s removed during import, retry",
                                      hex);
                        goto undo;
                }
        }
        json_array_foreach(im->images, i, v)
        {
                json_t *b;
                size_t k;
                json_array_foreach(json_object_get(v, "blobs"), k, b)
                {
                        const char *h = json_string_value(b);
                        _cleanup_free_ char *dest = xasprintf("%s/%s", bdir, h);
                        if (path_exists(dest))
                                continue;
                        struct afile *f = NULL;
                        for (size_t j = 0; j < im->n_files && !f; j++)
                                if (im->files[j].tmp && !strcmp(im->files[j].hex, h))
                                        f = &im->files[j];
                        if (!f) {
                                r = error_set(err, -EIO, "blob %.12s vanished", h);
                                goto undo;
                        }
                        if (rename(f->tmp, dest) < 0) {
                                r = error_set(err, -errno, "%s: %s", dest, strerror(errno));
                                goto undo;
                        }
                        f->moved = true;
                }
        }
        json_object_foreach(im->new_layers, hex, v)
        {
                _cleanup_free_ char *src = xasprintf("%s/layers/%s", im->tmpdir, hex);
                _cleanup_free_ char *dest = xasprintf("%s/%s", ldir, hex);
                if (path_exists(dest))
                        continue; /* a concurrent import brought the same layer */
                if (rename(src, dest) < 0) {
                        r = error_set(err, -errno, "%s: %s", dest, strerror(errno));
                        goto undo;
                }
                json_array_append_new(moved_layers, json_string(hex));
        }
        r = index_load(im->dir, &idx, err);
        if (r < 0)
                goto undo;
        json_t *images = json_object_get(idx, "images"), *names = json_object_get(idx, "names");
        json_t *out = json_array();
        json_array_foreach(im->images, i, v)
        {
                const char *id = json_string_value(json_object_get(v, "id"));
                json_t *rec = json_deep_copy(v);
                json_object_del(rec, "id");
                json_object_del(rec, "names");
                /* the same image imported before (maybe from the other format): keep the
                 * blobs and manifest digests it had, so they stay referenced */
                json_t *old = json_object_get(images, id);
                json_t *digs = json_array();
                json_array_append(digs, json_object_get(rec, "manifest"));
                json_t *x;
                size_t k;
                json_array_foreach(json_object_get(old, "manifests"), k,
                                   x) if (!json_equal(x, json_object_get(rec, "manifest")))
                        json_array_append(digs, x);
                json_array_foreach(json_object_get(old, "blobs"), k, x)
                {
                        bool have = false;
                        json_t *y;
                        size_t q;
                        json_array_foreach(json_object_get(rec, "blobs"), q, y) have |=
                                json_equal(x, y);
                        if (!have)
                                json_array_append(json_object_get(rec, "blobs"), x);
                }
                json_object_set_new(rec, "manifests", digs);
                json_object_set_new(images, id, rec);
                json_t *n;
                json_array_foreach(json_object_get(v, "names"), k, n)
                {
                        json_object_set_new(names, json_string_value(n), json_string(id));
                        json_array_append(out, n);
                }
                if (json_array_size(json_object_get(v, "names")) == 0)
                        json_array_append_new(out, json_string(id));
        }
        r = index_save(im->dir, idx, err);
        if (r < 0) {
                json_decref(out);
                goto undo;
        }
        if (ret_names) {
                char **v2 = xcalloc(json_array_size(out) + 1, sizeof(char *));
                json_t *n;
                json_array_foreach(out, i, n) v2[i] = xstrdup(json_string_value(n));
                *ret_names = v2;
        }
        json_decref(out);
        return 0;
undo:
        for (size_t j = 0; j < im->n_files; j++) {
                struct afile *f = &im->files[j];
                if (!f->moved)
                        continue;
                _cleanup_free_ char *dest = xasprintf("%s/%s", bdir, f->hex);
                (void)rename(dest, f->tmp);
                f->moved = false;
        }
        json_array_foreach(moved_layers, i, v)
        {
                _cleanup_free_ char *src =
                        xasprintf("%s/layers/%s", im->tmpdir, json_string_value(v));
                _cleanup_free_ char *dest = xasprintf("%s/%s", ldir, json_string_value(v));
                (void)rename(dest, src);
        }
        return r;
}

/* Remove temp dirs of imports that died (each live import holds a flock on its dir). */
static void clean_stale(const char *tdir)
{
        DIR *d = opendir(tdir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, "import-", 7))
                        continue;
                int fd = openat(dirfd(d), de->d_name,
                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        continue;
                /* a dir younger than a minute may be one whose owner has not locked it yet */
                struct stat st;
                if (fstat(fd, &st) == 0 && st.st_mtime < time(NULL) - 60 &&
                    flock(fd, LOCK_EX | LOCK_NB) == 0)
                        (void)rootfs_rm_rf_at(dirfd(d), de->d_name);
                close(fd);
        }
        closedir(d);
}

static int import_archive(const char *images_dir, struct archive *a, const char *default_name,
                          char ***ret_names, struct error *err)
{
        struct import im = {.dir = images_dir,
                            .images = json_array(),
                            .new_layers = json_object(),
                            .old_layers = json_object()};
        _cleanup_free_ char *tdir = xasprintf("%s/tmp", images_dir);
        _cleanup_free_ char *lt = NULL;
        _cleanup_close_ int tmpfd = -1;
        bool created_dir = false;
        int r;
        if (!path_exists(images_dir)) {
                r = fs_mkdir_p(images_dir, 0755, NULL);
                if (r < 0) {
                        error_set(err, r, "%s: %s", images_dir, strerror(-r));
                        goto out;
                }
                created_dir = true;
        }
        if (mkdir(tdir, 0700) < 0 && errno != EEXIST) {
                r = error_set(err, -errno, "%s: %s", tdir, strerror(errno));
                goto out;
        }
        clean_stale(tdir);
        im.tmpdir = xasprintf("%s/import-XXXXXX", tdir);
        if (!mkdtemp(im.tmpdir)) {
                r = error_set(err, -errno, "%s: %s", im.tmpdir, strerror(errno));
                free(im.tmpdir);
                im.tmpdir = NULL;
                goto out;
        }
        tmpfd = open(im.tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tmpfd < 0 || flock(tmpfd, LOCK_EX) < 0) {
                r = error_set(err, -errno, "%s: %s", im.tmpdir, strerror(errno));
                goto out;
        }
        lt = xasprintf("%s/layers", im.tmpdir);
        if (mkdir(lt, 0700) < 0) {
                r = error_set(err, -errno, "%s: %s", lt, strerror(errno));
                goto out;
        }
        im.default_name = default_name ? xstrdup(default_name) : NULL;

        r = read_outer(&im, a, err);
        if (r < 0)
                goto out;
        struct afile *idxf = afile_find(&im, "index.json");
        struct afile *mf = afile_find(&im, "manifest.json");
        if (idxf)
                r = oci_archive(&im, idxf, err);
        else if (mf)
                r = docker_archive(&im, mf, err);
        else
                r = error_set(err, -EPROTO,
                              "not an image archive (no manifest.json or index.json)");
        if (r < 0)
                goto out;
        r = commit(&im, ret_names, err);
out:
        if (im.tmpdir)
                rootfs_rm_rf(im.tmpdir);
        (void)rmdir(tdir);
        if (r < 0 && created_dir)
                (void)rmdir(images_dir);
        for (size_t i = 0; i < im.n_files; i++) {
                free(im.files[i].path);
                free(im.files[i].link);
                free(im.files[i].tmp);
        }
        free(im.files);
        free(im.tmpdir);
        free(im.default_name);
        json_decref(im.images);
        json_decref(im.new_layers);
        json_decref(im.old_layers);
        return r;
}

static struct archive *outer_new(void)
{
        struct archive *a = archive_read_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        return a;
}

int images_import(const char *images_dir, const char *path, const char *default_name,
                  char ***ret_names, struct error *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, -errno, "cannot open: %s", strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode))
                return error_set(err, -EINVAL, "not a file");
        struct archive *a = outer_new();
        int r;
        if (archive_read_open_fd(a, fd, COPY_BUF) != ARCHIVE_OK)
                r = error_set(err, -EPROTO, "not an image archive (%s)", archive_error_string(a));
        else
                r = import_archive(images_dir, a, default_name, ret_names, err);
        archive_read_free(a);
        return r;
}

int images_import_buffer(const char *images_dir, const void *data, size_t len,
                         const char *default_name, char ***ret_names, struct error *err)
{
        struct archive *a = outer_new();
        int r;
        if (archive_read_open_memory(a, data, len) != ARCHIVE_OK)
                r = error_set(err, -EPROTO, "not an image archive (%s)", archive_error_string(a));
        else
                r = import_archive(images_dir, a, default_name, ret_names, err);
        archive_read_free(a);
        return r;
}

/* ------------------------------------------------------------------------------------------ */
/* resolve / list / remove                                                                    */

void image_info_clear(struct image_info *info)
{
        free(info->id);
        free(info->name);
        images_strv_free(info->layer_dirs);
        images_strv_free(info->env);
        images_strv_free(info->entrypoint);
        images_strv_free(info->cmd);
        free(info->working_dir);
        free(info->user);
        *info = (struct image_info){0};
}

/* Find the image id for ref in idx; *ret_name gets the name it resolved through. */
static int lookup(json_t *idx, const char *ref, const char **ret_id, char **ret_name,
                  struct error *err)
{
        json_t *images = json_object_get(idx, "images");
        json_t *names = json_object_get(idx, "names");
        const char *id;
        json_t *rec;
        /* an image id: "sha256:<hex>" or a hex prefix (>= 12) */
        size_t off = strncmp(ref, "sha256:", 7) ? 0 : 7;
        const char *h = ref + off;
        size_t hl = strlen(ref) - off;
        bool idlike = hl >= 12 && hl <= HEX_LEN && is_hex(h, hl);
        struct image_ref r = {0};
        struct error perr = {0};
        int pr = off ? -EINVAL : images_ref_parse(ref, &r, &perr);
        if (pr == 0 && r.digest) {
                json_object_foreach(images, id, rec)
                {
                        bool match = !strcmp(id, r.digest);
                        json_t *m;
                        size_t k;
                        json_array_foreach(json_object_get(rec, "manifests"), k, m) match |=
                                json_is_string(m) && !strcmp(json_string_value(m), r.digest);
                        if (match) {
                                *ret_id = id;
                                *ret_name = xstrdup(ref);
                                image_ref_clear(&r);
                                return 0;
                        }
                }
        } else if (pr == 0) {
                _cleanup_free_ char *n = images_ref_format(&r);
                const char *v = json_string_value(json_object_get(names, n));
                if (v && json_object_get(images, v)) {
                        *ret_id = json_object_iter_key(json_object_iter_at(images, v));
                        *ret_name = TAKE_PTR(n);
                        image_ref_clear(&r);
                        return 0;
                }
        }
        image_ref_clear(&r);
        if (idlike) {
                const char *found = NULL;
                json_object_foreach(images, id, rec)
                {
                        if (!strncmp(id + 7, h, hl)) {
                                if (found)
                                        return error_set(err, -EINVAL,
                                                         "image id prefix %s is ambiguous", ref);
                                found = id;
                        }
                }
                if (found) {
                        *ret_id = found;
                        *ret_name = xstrdup(ref);
                        return 0;
                }
        }
        if (pr < 0 && !idlike)
                return error_set(err, -EINVAL, "%s", perr.msg);
        return error_set(err, -ENOENT, "image \"%s\" not found", ref);
}

static int strv_from_json(json_t *a, char ***ret)
{
        if (!a || json_is_null(a)) {
                *ret = NULL;
                return 0;
        }
        if (!json_is_array(a))
                return -EPROTO;
        char **v = xcalloc(json_array_size(a) + 1, sizeof(char *));
        size_t i;
        json_t *s;
        json_array_foreach(a, i, s)
        {
                if (!json_is_string(s)) {
                        images_strv_free(v);
                        return -EPROTO;
                }
                v[i] = xstrdup(json_string_value(s));
        }
        *ret = v;
        return 0;
}

static char *str_or_null(json_t *s)
{
        const char *v = json_string_value(s);
        return v && *v ? xstrdup(v) : NULL;
}

int images_resolve(const char *images_dir, const char *ref, struct image_info *ret,
                   struct error *err)
{
        json_auto_t *idx = NULL;
        int r = index_load(images_dir, &idx, err);
        if (r < 0)
                return r;
        const char *id;
        _cleanup_free_ char *name = NULL;
        r = lookup(idx, ref, &id, &name, err);
        if (r < 0)
                return r;
        json_t *rec = json_object_get(json_object_get(idx, "images"), id);
        _cleanup_free_ char *abs = realpath(images_dir, NULL);
        if (!abs)
                return error_set(err, -errno, "%s: %s", images_dir, strerror(errno));
        _cleanup_free_ char *cpath = xasprintf("%s/blobs/sha256/%s", abs, id + 7);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        r = read_file_capped(cpath, IMAGES_MAX_JSON, &buf, &len);
        if (r < 0)
                return error_set(err, -EPROTO, "image %s: config blob: %s", ref, strerror(-r));
        json_auto_t *cfg = json_loadb(buf, len, 0, NULL);
        json_t *c = json_object_get(cfg, "config");
        if (!json_is_object(cfg) || (c && !json_is_object(c) && !json_is_null(c)))
                return error_set(err, -EPROTO, "image %s: corrupt config", ref);
        struct image_info info = {0};
        json_t *layers = json_object_get(rec, "layers");
        info.layer_dirs = xcalloc(json_array_size(layers) + 1, sizeof(char *));
        size_t i;
        json_t *l;
        json_array_foreach(layers, i, l)
        {
                const char *h = json_string_value(l);
                info.layer_dirs[i] = xasprintf("%s/layers/%s", abs, h ? h : "");
                if (!h || !path_exists(info.layer_dirs[i])) {
                        image_info_clear(&info);
                        return error_set(err, -EPROTO, "image %s: layer %.12s missing", ref,
                                         h ? h : "?");
                }
        }
        if (strv_from_json(json_object_get(c, "Env"), &info.env) < 0 ||
            strv_from_json(json_object_get(c, "Entrypoint"), &info.entrypoint) < 0 ||
            strv_from_json(json_object_get(c, "Cmd"), &info.cmd) < 0) {
                image_info_clear(&info);
                return error_set(err, -EPROTO, "image %s: corrupt config", ref);
        }
        if (!info.env)
                info.env = xcalloc(1, sizeof(char *));
        info.working_dir = str_or_null(json_object_get(c, "WorkingDir"));
        info.user = str_or_null(json_object_get(c, "User"));
        info.id = xstrdup(id);
        info.name = TAKE_PTR(name);
        *ret = info;
        return 0;
}

void images_list_free(struct image_entry *list, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(list[i].name);
                free(list[i].id);
                free(list[i].digest);
        }
        free(list);
}

static int entry_cmp(const void *a, const void *b)
{
        const struct image_entry *x = a, *y = b;
        if (!x->name || !y->name)
                return x->name ? -1 : y->name ? 1 : strcmp(x->id, y->id);
        return strcmp(x->name, y->name);
}

int images_list(const char *images_dir, struct image_entry **ret, size_t *ret_n, struct error *err)
{
        json_auto_t *idx = NULL;
        int r = index_load(images_dir, &idx, err);
        if (r < 0)
                return r;
        json_t *images = json_object_get(idx, "images");
        json_t *names = json_object_get(idx, "names");
        size_t cap = json_object_size(images) + json_object_size(names) + 1, n = 0;
        struct image_entry *list = xcalloc(cap, sizeof(*list));
        json_auto_t *named = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(names, k, v)
        {
                const char *id = json_string_value(v);
                json_t *rec = id ? json_object_get(images, id) : NULL;
                if (!rec)
                        continue;
                list[n++] = (struct image_entry){
                        .name = xstrdup(k),
                        .id = xstrdup(id),
                        .digest = str_or_null(json_object_get(rec, "manifest")),
                        .size = (uint64_t)json_integer_value(json_object_get(rec, "size"))};
                json_object_set_new(named, id, json_true());
        }
        json_object_foreach(images, k, v)
        {
                if (json_object_get(named, k))
                        continue;
                list[n++] = (struct image_entry){
                        .id = xstrdup(k),
                        .digest = str_or_null(json_object_get(v, "manifest")),
                        .size = (uint64_t)json_integer_value(json_object_get(v, "size"))};
        }
        qsort(list, n, sizeof(*list), entry_cmp);
        *ret = list;
        *ret_n = n;
        return 0;
}

/* Delete blobs and layers no image references. Called with the lock held. */
static void gc(const char *dir, json_t *idx)
{
        json_auto_t *keep_b = json_object(), *keep_l = json_object();
        const char *id;
        json_t *rec, *x;
        size_t i;
        json_object_foreach(json_object_get(idx, "images"), id, rec)
        {
                json_array_foreach(json_object_get(rec, "blobs"), i, x)
                        json_object_set_new(keep_b, json_string_value(x), json_true());
                json_array_foreach(json_object_get(rec, "layers"), i, x)
                        json_object_set_new(keep_l, json_string_value(x), json_true());
        }
        const char *sub[2] = {"blobs/sha256", "layers"};
        json_t *keep[2] = {keep_b, keep_l};
        for (int s = 0; s < 2; s++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, sub[s]);
                DIR *d = opendir(p);
                if (!d)
                        continue;
                struct dirent *de;
                while ((de = readdir(d)))
                        if (is_hex64(de->d_name) && !json_object_get(keep[s], de->d_name))
                                (void)rootfs_rm_rf_at(dirfd(d), de->d_name);
                closedir(d);
        }
}

int images_remove(const char *images_dir, const char *ref, struct error *err)
{
        if (!path_exists(images_dir))
                return error_set(err, -ENOENT, "image \"%s\" not found", ref);
        _cleanup_close_ int lock = store_lock(images_dir, err);
        if (lock < 0)
                return lock;
        json_auto_t *idx = NULL;
        int r = index_load(images_dir, &idx, err);
        if (r < 0)
                return r;
        const char *id;
        _cleanup_free_ char *name = NULL;
        r = lookup(idx, ref, &id, &name, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *idc = xstrdup(id);
        json_t *names = json_object_get(idx, "names");
        json_t *images = json_object_get(idx, "images");
        if (json_object_get(names, name)) {
                json_object_del(names, name);
        } else {
                /* by digest or id: every name of the image goes */
                const char *k;
                json_t *v;
                void *tmp;
                json_object_foreach_safe(names, tmp, k, v) if (!strcmp(json_string_value(v), idc))
                        json_object_del(names, k);
        }
        bool still = false;
        const char *k;
        json_t *v;
        json_object_foreach(names, k, v) if (!strcmp(json_string_value(v), idc)) still = true;
        if (!still)
                json_object_del(images, idc);
        r = index_save(images_dir, idx, err);
        if (r < 0)
                return r;
        gc(images_dir, idx);
        return 0;
}
