/* error.h — a caller-owned error with a message (STYLE.md "Errors").
 * Codes are negative errno with one meaning across the tree: ENOENT NotFound, EEXIST
 * AlreadyExists, ESTALE Conflict, EINVAL Invalid, EACCES Forbidden, E2BIG too large, EAGAIN would
 * block, ETIMEDOUT, EPROTO malformed peer data. */
#pragma once
#include "common/base.h"

#define ERROR_MSG_MAX 512

struct error {
        int code;                 /* negative errno, 0 if unset */
        char msg[ERROR_MSG_MAX];  /* human text, no trailing newline */
};

/* Record code and message in err (may be NULL) and return code, so callers can write
 * `return error_set(err, -ENOENT, "pod %s", name);`. */
int error_set(struct error *err, int code, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Prefix context to an existing message: "ctx: old message". Returns err->code (or code if err
 * has none). */
int error_wrap(struct error *err, int code, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* The message, or strerror(-code) if none was set. */
const char *error_msg(const struct error *err);
