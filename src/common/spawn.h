/* spawn.h — run a helper program (OCI runtime, conmon, CNI plugin, ip) and collect its output.
 * Children get only the fds named here (every other fd of ours is O_CLOEXEC). */
#pragma once
#include "common/error.h"

#include <stdbool.h>

#define SPAWN_OUTPUT_MAX (1024 * 1024) /* cap on captured stdout / stderr each */

struct spawn_opts {
        const char *const *argv; /* argv[0] is the path (no PATH search) */
        const char *const *envp; /* NULL = inherit ours */
        const char *stdin_data;  /* NULL = /dev/null */
        size_t stdin_len;
        bool capture_stdout; /* else /dev/null */
        bool capture_stderr; /* else /dev/null */
        int pass_fd;         /* >= 0: handed to the child as fd 3 */
        const char *cwd;     /* NULL = ours */
        int timeout_ms;      /* 0 = none; on expiry the child is SIGKILLed (-ETIMEDOUT) */
};

struct spawn_result {
        int status;         /* exit code, or 128 + signal */
        char *out, *errout; /* captured (NUL-terminated, caller frees) or NULL */
};

/* Run to completion. 0 with *ret filled whatever the exit code; negative errno if it could not
 * be run (-ENOENT no such program, -ETIMEDOUT). */
int spawn_run(const struct spawn_opts *o, struct spawn_result *ret, struct error *err);
void spawn_result_clear(struct spawn_result *r);
