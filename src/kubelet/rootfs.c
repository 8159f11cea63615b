/* rootfs.c — overlay rootfs and mount helpers. */
#include "kubelet/rootfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>

int rootfs_overlay_options(const char *const *layers, const char *upper, const char *work,
                           char **ret, struct error *err)
{
        size_t n = 0, len = 64 + strlen(upper) + strlen(work);
        for (; layers && layers[n]; n++) {
                if (strpbrk(layers[n], ":,") || layers[n][0] != '/')
                        return error_set(err, -EINVAL, "layer dir %s: not absolute or has : or ,",
                                         layers[n]);
                len += strlen(layers[n]) + 1;
        }
        if (!n)
                return error_set(err, -EINVAL, "no layers");
        if (strpbrk(upper, ":,") || strpbrk(work, ":,"))
                return error_set(err, -EINVAL, "upper/work dir has : or ,");
        if (len >= 4096)
                return error_set(err, -E2BIG, "overlay options too long (%zu layers)", n);
        char *o = xmalloc(len), *p = o;
        p += snprintf(p, len, "lowerdir=");
        for (size_t i = n; i-- > 0;)
                p += snprintf(p, len - (size_t)(p - o), "%s%s", layers[i], i ? ":" : "");
        snprintf(p, len - (size_t)(p - o), ",upperdir=%s,workdir=%s", upper, work);
        *ret = o;
        return 0;
}

int rootfs_mount(const char *dir, const char *const *layers, struct error *err)
{
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
        _cleanup_free_ char *work = xasprintf("%s/work", dir);
        _cleanup_free_ char *root = xasprintf("%s/rootfs", dir);
        _cleanup_free_ char *lower = xasprintf("%s/lower", dir);
        const char *empty[] = {lower, NULL};
        _cleanup_free_ char *opts = NULL;
        int r;

        if (!layers || !layers[0]) {
                layers = empty;
                if (mkdir(lower, 0755) < 0 && errno != EEXIST)
                        return error_set(err, -errno, "mkdir %s: %s", lower, strerror(errno));
        }
        if ((r = rootfs_overlay_options(layers, upper, work, &opts, err)) < 0)
                return r;
        if ((mkdir(upper, 0755) < 0 && errno != EEXIST) ||
            (mkdir(work, 0700) < 0 && errno != EEXIST) ||
            (mkdir(root, 0755) < 0 && errno != EEXIST))
                return error_set(err, -errno, "mkdir under %s: %s", dir, strerror(errno));
        if (mount("overlay", root, "overlay", 0, opts) < 0)
                return error_set(err, -errno, "mount overlay on %s: %s", root, strerror(errno));
        return 0;
}

int rootfs_umount(const char *path, struct error *err)
{
        if (umount2(path, UMOUNT_NOFOLLOW) == 0)
                return 0;
        if (errno == EINVAL || errno == ENOENT)
                return 0;
        if (errno == EBUSY && umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
                return 0;
        return error_set(err, -errno, "umount %s: %s", path, strerror(errno));
}

/* /proc/self/mounts octal escapes. */
static void unescape_inplace(char *s)
{
        char *q = s;
        for (char *p = s; *p; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
                    p[3] >= '0' && p[3] <= '7') {
                        *q++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                        p += 3;
                } else {
                        *q++ = *p;
                }
        }
        *q = 0;
}

int rootfs_umount_below(const char *prefix, struct error *err)
{
        size_t plen = strlen(prefix);
        while (plen > 1 && prefix[plen - 1] == '/')
                plen--;
        int count = 0, first = 0;
        /* repeat: unmounting may reveal (or propagation may add) others; bounded passes */
        for (int pass = 0; pass < 8; pass++) {
                FILE *f = fopen("/proc/self/mounts", "re");
                if (!f)
                        return error_set(err, -errno, "/proc/self/mounts: %s", strerror(errno));
                char **mps = NULL;
                size_t n = 0;
                char line[8192];
                while (fgets(line, sizeof(line), f)) {
                        char *sp1 = strchr(line, ' ');
                        if (!sp1)
                                continue;
                        char *mp = sp1 + 1, *sp2 = strchr(mp, ' ');
                        if (!sp2)
                                continue;
                        *sp2 = 0;
                        unescape_inplace(mp);
                        if (strncmp(mp, prefix, plen) || (mp[plen] && mp[plen] != '/'))
                                continue;
                        mps = xrealloc(mps, (n + 1) * sizeof(*mps));
                        mps[n++] = xstrdup(mp);
                }
                fclose(f);
                /* deepest (latest mounted) first: reverse mount order */
                for (size_t i = n; i-- > 0;) {
                        if (umount2(mps[i], UMOUNT_NOFOLLOW) == 0 ||
                            umount2(mps[i], MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
                                count++;
                        else if (errno != EINVAL && errno != ENOENT && !first)
                                first = error_set(err, -errno, "umount %s: %s", mps[i],
                                                  strerror(errno));
                        free(mps[i]);
                }
                free(mps);
                if (!n)
                        break;
        }
        return first < 0 ? first : count;
}

static int rm_at(int dfd, const char *name, dev_t dev)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        if (st.st_dev != dev)
                return -EBUSY;
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                int q = rm_at(dirfd(d), de->d_name, dev);
                if (q < 0 && !r)
                        r = q;
        }
        closedir(d);
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !r)
                r = -errno;
        return r;
}

int rootfs_rm_rf_at(int dfd, const char *name)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        return rm_at(dfd, name, st.st_dev);
}

int rootfs_rm_rf(const char *path)
{
        return rootfs_rm_rf_at(AT_FDCWD, path);
}
