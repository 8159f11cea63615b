/* status.c — errno -> Kubernetes Status (see status.h). */
#include "apiserver/status.h"

static const struct {
        int code;
        int http;
        const char *reason;
} map[] = {
        {-ENOENT, 404, "NotFound"},
        {-EEXIST, 409, "AlreadyExists"},
        {-ESTALE, 409, "Conflict"},
        {-ENOTEMPTY, 409, "Conflict"},
        {-EINVAL, 422, "Invalid"},
        {-EBADMSG, 400, "BadRequest"},
        {-EPROTO, 400, "BadRequest"},
        {-EPERM, 401, "Unauthorized"},
        {-EACCES, 403, "Forbidden"},
        {-EOPNOTSUPP, 405, "MethodNotAllowed"},
        {-ERANGE, 410, "Expired"},
        {-E2BIG, 413, "RequestEntityTooLarge"},
        {-EMEDIUMTYPE, 415, "UnsupportedMediaType"},
        {-EAGAIN, 429, "TooManyRequests"},
        {-ENODEV, 503, "ServiceUnavailable"},
        {-ETIMEDOUT, 504, "Timeout"},
};

int status_http_code(int code)
{
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (map[i].code == code)
                        return map[i].http;
        return 500;
}

const char *status_reason(int code)
{
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (map[i].code == code)
                        return map[i].reason;
        return "InternalError";
}

json_t *status_new(int code, const char *msg, json_t *details)
{
        json_t *s = json_pack("{s:s,s:s,s:{},s:s,s:s,s:s}", "kind", "Status", "apiVersion", "v1",
                              "metadata", "status", "Failure", "message", msg ? msg : "", "reason",
                              status_reason(code));
        if (details)
                json_object_set_new(s, "details", details);
        json_object_set_new(s, "code", json_integer(status_http_code(code)));
        return s;
}

json_t *status_success(json_t *details)
{
        json_t *s = json_pack("{s:s,s:s,s:{},s:s}", "kind", "Status", "apiVersion", "v1",
                              "metadata", "status", "Success");
        if (details)
                json_object_set_new(s, "details", details);
        return s;
}

json_t *status_details(const char *name, const char *group, const char *kind)
{
        json_t *d = json_object();
        if (name)
                json_object_set_new(d, "name", json_string(name));
        if (group && *group)
                json_object_set_new(d, "group", json_string(group));
        if (kind)
                json_object_set_new(d, "kind", json_string(kind));
        return d;
}
