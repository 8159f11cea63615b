/* error.c — caller-owned error messages. */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>

int error_set(struct error *err, int code, const char *fmt, ...)
{
        if (!err)
                return code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        err->code = code;
        return code;
}

int error_wrap(struct error *err, int code, const char *fmt, ...)
{
        if (!err)
                return code;
        char prefix[ERROR_MSG_MAX / 2], old[ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        if (!err->code) {
                err->code = code;
                err->msg[0] = 0;
        }
        memcpy(old, err->msg, sizeof(old));
        if (old[0])
                snprintf(err->msg, sizeof(err->msg), "%s: %.*s", prefix, (int)(sizeof(err->msg) / 2 - 3), old);
        else
                snprintf(err->msg, sizeof(err->msg), "%s", prefix);
        return err->code;
}

const char *error_msg(const struct error *err)
{
        if (err->msg[0])
                return err->msg;
        return strerror(err->code < 0 ? -err->code : err->code);
}
