/* audit.c — the per-request audit line (see audit.h). */
#include "apiserver/audit.h"

#include <stdio.h>

#include "common/log.h"
#include "common/strv.h"
#include "common/timefmt.h"

struct line {
        char *buf;
        size_t size, n;
};

static void put(struct line *l, const char *s, size_t len)
{
        if (l->n >= l->size - 1)
                return;
        size_t k = MIN(len, l->size - 1 - l->n);
        memcpy(l->buf + l->n, s, k);
        l->n += k;
        l->buf[l->n] = 0;
}

static bool needs_quotes(const char *v)
{
        if (!*v)
                return false;
        for (const unsigned char *c = (const unsigned char *)v; *c; c++)
                if (*c <= ' ' || *c == '"' || *c == '\\' || *c == '=' || *c >= 0x7f)
                        return true;
        return false;
}

/* key=value with quoting as audit.h describes. */
static void kv(struct line *l, const char *key, const char *v)
{
        if (l->n)
                put(l, " ", 1);
        put(l, key, strlen(key));
        put(l, "=", 1);
        if (!v || !*v) {
                put(l, "-", 1);
                return;
        }
        if (!needs_quotes(v)) {
                put(l, v, strlen(v));
                return;
        }
        put(l, "\"", 1);
        for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
                char esc[8];
                if (*c == '"' || *c == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char)*c;
                        put(l, esc, 2);
                } else if (*c < ' ' || *c == 0x7f) {
                        snprintf(esc, sizeof(esc), "\\x%02x", *c);
                        put(l, esc, 4);
                } else {
                        put(l, (const char *)c, 1);
                }
        }
        put(l, "\"", 1);
}

void audit_format(const struct audit_record *r, char *buf, size_t size)
{
        struct line l = {.buf = buf, .size = size};
        if (!size)
                return;
        buf[0] = 0;
        char ts[40], code[16], lat[32];
        timefmt_rfc3339micro(ts, &r->ts);
        snprintf(code, sizeof(code), "%d", r->code);
        snprintf(lat, sizeof(lat), "%.3fms", r->latency_ms);
        const struct authz_attrs *a = r->attrs;
        _cleanup_free_ char *groups = r->user ? strv_join(r->user->groups, ",") : NULL;
        _cleanup_free_ char *uri = r->query && *r->query
                                           ? xasprintf("%s?%s", r->path ? r->path : "", r->query)
                                           : xstrdup(r->path ? r->path : "");
        kv(&l, "ts", ts);
        kv(&l, "user", r->user ? r->user->name : NULL);
        kv(&l, "uid", r->user ? r->user->uid : NULL);
        kv(&l, "groups", groups);
        kv(&l, "verb", a ? a->verb : NULL);
        kv(&l, "resource", a && a->resource_request ? a->resource : NULL);
        kv(&l, "subresource", a ? a->subresource : NULL);
        kv(&l, "ns", a ? a->ns : NULL);
        kv(&l, "name", a ? a->name : NULL);
        kv(&l, "code", code);
        kv(&l, "latency", lat);
        kv(&l, "method", r->method);
        kv(&l, "uri", uri);
        kv(&l, "src", r->remote);
        kv(&l, "ua", r->user_agent);
}

void audit_log(const struct audit_record *r)
{
        char buf[AUDIT_LINE_MAX];
        audit_format(r, buf, sizeof(buf));
        log_info("audit", "%s", buf);
}
