/* fs.c — file-system helpers. */
#include "common/fs.h"

#include <string.h>
#include <sys/stat.h>

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
