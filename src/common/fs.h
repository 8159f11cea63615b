/* fs.h — small file-system helpers shared by every layer. */
#pragma once
#include <sys/types.h>

#include "common/error.h"

/* mkdir -p: create path and every missing directory above it with mode. Existing directories
 * are left as they are. Returns 0 or -errno; err (may be NULL) names the directory that could
 * not be created: "create directory /x/y: Permission denied". */
int fs_mkdir_p(const char *path, mode_t mode, struct error *err);

/* The same for the directories above a file's path (not the file itself). */
int fs_mkdir_parents(const char *file_path, mode_t mode, struct error *err);
