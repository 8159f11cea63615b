/* rootfs.h — container root filesystems (overlay over image layer dirs) and mount helpers. */
#pragma once
#include "common/error.h"

#include <sys/types.h>

/* Pure: the overlay option string "lowerdir=TOP:...:LOWEST,upperdir=U,workdir=W" for layers
 * given lowest first (NULL-terminated, at least one). -E2BIG if longer than a page,
 * -EINVAL if a path holds ':' or ','. Caller frees *ret. */
int rootfs_overlay_options(const char *const *layers, const char *upper, const char *work,
                           char **ret, struct error *err);
/* mkdir upper/work/rootfs under dir and mount the overlay at dir/rootfs. An empty layer list
 * uses an empty dir/lower. */
int rootfs_mount(const char *dir, const char *const *layers, struct error *err);
/* Unmount path (lazily if busy). Not mounted / absent: 0. */
int rootfs_umount(const char *path, struct error *err);
/* Unmount every mount point at or below prefix (deepest first, lazily if busy). Returns the
 * number unmounted, or negative errno. */
int rootfs_umount_below(const char *prefix, struct error *err);
/* rm -rf that does not cross into other file systems (mounted dirs are skipped with -EBUSY). */
int rootfs_rm_rf(const char *path);
/* The same for name relative to the directory fd dfd (AT_FDCWD for the working directory). */
int rootfs_rm_rf_at(int dfd, const char *name);
