/* audit.h — one audit line per API request.
 *
 * Format (one line, space-separated key=value; values with spaces, quotes or control characters
 * are double-quoted with Go-style escapes, empty values are "-"):
 *   audit ts=2026-01-01T00:00:00.123456Z user=alice uid=- groups=dev,system:authenticated
 *   verb=list resource=pods subresource=- ns=default name=- code=200 latency=1.234ms
 *   method=GET uri="/api/v1/namespaces/default/pods?limit=500" src=127.0.0.1:4242
 *   ua="kubectl/v1.31.9 (linux/amd64) kubernetes/..."
 * verb/resource/subresource/ns/name are the authorization attributes (non-resource requests:
 * verb is the lower-case method, resource "-", the path is in uri). The line goes to the log at
 * info level under the component "audit". */
#pragma once
#include <time.h>

#include "apiserver/authn.h"
#include "apiserver/authz.h"

#define AUDIT_LINE_MAX 8192 /* longer lines (huge URIs, user agents) are cut */

struct audit_record {
        struct timespec ts; /* CLOCK_REALTIME at the request's start */
        const struct authn_user *user;
        const struct authz_attrs *attrs;
        const char *method, *path, *query; /* query: raw, may be NULL or "" */
        const char *remote, *user_agent;   /* may be NULL */
        int code;
        double latency_ms;
};

/* Format the line (without the "audit " component prefix the log adds) into buf; pure. */
void audit_format(const struct audit_record *r, char *buf, size_t size);
/* Format and log. */
void audit_log(const struct audit_record *r);
