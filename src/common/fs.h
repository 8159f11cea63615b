/* fs.h — small file-system helpers shared by every layer. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

/* mkdir -p: create path and every missing directory above it with mode. Existing directories
 * are left as they are. Returns 0 or -errno; err (may be NULL) names the directory that could
 * not be created: "create directory /x/y: Permission denied". */
int fs_mkdir_p(const char *path, mode_t mode, struct error *err);

/* The same for the directories above a file's path (not the file itself). */
int fs_mkdir_parents(const char *file_path, mode_t mode, struct error *err);

/* Read a whole file of at most max bytes (else -E2BIG) into a NUL-terminated string (*ret, free
 * it); *ret_len (may be NULL) gets its length. Errors: -errno with the path in err. */
int fs_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct error *err);

/* Replace path with data atomically: write path.tmp with mode, fsync, rename. On failure the
 * old file is untouched and path.tmp removed. */
int fs_write_atomic(const char *path, const char *data, size_t len, mode_t mode, struct error *err);
