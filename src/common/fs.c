/* fs.c — file-system helpers. */
#include "common/fs.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_upto(char *p, bool last, mode_t mode, struct error *err)
{
        for (char *s = p + 1;; s++) {
                if (*s && *s != '/')
                        continue;
                if (!*s && !last)
                        break;
                char c = *s;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return error_set(err, -errno, "create directory %s: %s", p,
                                         strerror(errno));
                *s = c;
                if (!c)
                        break;
        }
        return 0;
}

int fs_mkdir_p(const char *path, mode_t mode, struct error *err)
{
        _cleanup_free_ char *p = xstrdup(path);
        return mkdir_upto(p, true, mode, err);
}

int fs_mkdir_parents(const char *file_path, mode_t mode, struct error *err)
{
        _cleanup_free_ char *p = xstrdup(file_path);
        return mkdir_upto(p, false, mode, err);
}

int fs_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct error *err)
{
        _cleanup_close_ int fd = -1;
        char *buf = NULL;
        size_t len = 0, cap = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, -errno, "open %s: %s", path, strerror(errno));
        for (;;) {
                ssize_t n;
                if (cap - len < 4096) {
                        cap = cap ? cap * 2 : 8192;
                        buf = xrealloc(buf, cap + 1);
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        free(buf);
                        return error_set(err, -errno, "read %s: %s", path, strerror(errno));
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max) {
                        free(buf);
                        return error_set(err, -E2BIG, "%s: larger than %zu bytes", path, max);
                }
        }
        if (!buf)
                buf = xmalloc(1);
        buf[len] = 0;
        *ret = buf;
        if (ret_len)
                *ret_len = len;
        return 0;
}

int fs_write_atomic(const char *path, const char *data, size_t len, mode_t mode, struct error *err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return error_set(err, -errno, "create %s: %s", tmp, strerror(errno));
        for (size_t off = 0; off < len;) {
                ssize_t w = write(fd, data + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        int e = errno;
                        unlink(tmp);
                        return error_set(err, -e, "write %s: %s", tmp, strerror(e));
                }
                off += (size_t)w;
        }
        if (fsync(fd) < 0 || rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return error_set(err, -e, "write %s: %s", path, strerror(e));
        }
        return 0;
}
