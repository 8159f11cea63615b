/* table.c — Table printers (see table.h). */
#include "apiserver/table.h"

#include <stdio.h>

#include "common/kjson.h"
#include "common/timefmt.h"

struct col {
        const char *name, *type, *format, *description;
        int priority;
};

#define NAME_COL                                                                                   \
        {                                                                                          \
                "Name", "string", "name", "Name must be unique within a namespace.", 0             \
        }
#define AGE_COL                                                                                    \
        {                                                                                          \
                "Age", "string", "",                                                               \
                        "CreationTimestamp is a timestamp representing the server time when this " \
                        "object was "                                                              \
                        "created.",                                                                \
                        0                                                                          \
        }

static const struct col cols_pod[] = {
        NAME_COL,
        {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.",
         0},
        {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
        {"Restarts", "string", "",
         "The number of times the containers in this pod have been restarted and when the last "
         "container in this pod has restarted.",
         0},
        AGE_COL,
        {"IP", "string", "",
         "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet "
         "allocated.",
         1},
        {"Node", "string", "", "NodeName is a request to schedule this pod onto a specific node.",
         1},
        {"Nominated Node", "string", "",
         "nominatedNodeName is set only when this pod preempts other pods on the node.", 1},
        {"Readiness Gates", "string", "",
         "If specified, all readiness gates will be evaluated for pod readiness.", 1},
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_node[] = {
        NAME_COL,
        {"Status", "string", "", "The status of the node", 0},
        {"Roles", "string", "", "The roles of the node", 0},
        AGE_COL,
        {"Version", "string", "", "Kubelet Version reported by the node.", 0},
        {"Internal-IP", "string", "",
         "List of addresses reachable to the node. Queried from cloud provider, if available.", 1},
        {"External-IP", "string", "",
         "List of addresses reachable to the node. Queried from cloud provider, if available.", 1},
        {"OS-Image", "string", "",
         "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
         1},
        {"Kernel-Version", "string", "",
         "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1},
        {"Container-Runtime", "string", "",
         "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
         "containerd://1.4.2).",
         1},
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_ns[] = {
        NAME_COL,
        {"Status", "string", "", "The status of the namespace", 0},
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_event[] = {
        {"Last Seen", "string", "", "", 0},
        {"Type", "string", "",
         "Type of this event (Normal, Warning), new types could be added in the future", 0},
        {"Reason", "string", "",
         "This should be a short, machine understandable string that gives the reason for the "
         "transition into the object's current status.",
         0},
        {"Object", "string", "", "The object that this event is about.", 0},
        {"Subobject", "string", "", "", 1},
        {"Source", "string", "",
         "The component reporting this event. Should be a short machine understandable string.", 1},
        {"Message", "string", "", "A human-readable description of the status of this operation.",
         0},
        {"First Seen", "string", "",
         "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
         1},
        {"Count", "string", "", "The number of times this event has occurred.", 1},
        {"Name", "string", "name", "Name must be unique within a namespace.", 1},
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_cm[] = {
        NAME_COL,
        {"Data", "integer", "", "Data contains the configuration data.", 0},
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_secret[] = {
        NAME_COL,
        {"Type", "string", "", "Used to facilitate programmatic handling of secret data.", 0},
        {"Data", "integer", "", "Data contains the secret data.", 0},
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_sa[] = {
        NAME_COL,
        {"Secrets", "integer", "",
         "Secrets is a list of the secrets in the same namespace that pods running using this "
         "ServiceAccount are allowed to use.",
         0},
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_svc[] = {
        NAME_COL,
        {"Type", "string", "", "type determines how the Service is exposed.", 0},
        {"Cluster-IP", "string", "", "clusterIP is the IP address of the service.", 0},
        {"External-IP", "string", "",
         "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
         "traffic for this service.",
         0},
        {"Port(s)", "string", "", "The list of ports that are exposed by this service.", 0},
        AGE_COL,
        {"Selector", "string", "",
         "Route service traffic to pods with label keys and values matching this selector.", 1},
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_ep[] = {
        NAME_COL,
        {"Endpoints", "string", "", "Endpoints is the list of endpoints.", 0},
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_lease[] = {
        NAME_COL,
        {"Holder", "string", "", "The holder of the lease.", 0},
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_default[] = {
        NAME_COL,
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};

static const struct col *columns_for(const struct scheme_resource *r)
{
        if (*r->group == 0) {
                if (!strcmp(r->resource, "pods"))
                        return cols_pod;
                if (!strcmp(r->resource, "nodes"))
                        return cols_node;
                if (!strcmp(r->resource, "namespaces"))
                        return cols_ns;
                if (!strcmp(r->resource, "events"))
                        return cols_event;
                if (!strcmp(r->resource, "configmaps"))
                        return cols_cm;
                if (!strcmp(r->resource, "secrets"))
                        return cols_secret;
                if (!strcmp(r->resource, "serviceaccounts"))
                        return cols_sa;
                if (!strcmp(r->resource, "services"))
                        return cols_svc;
                if (!strcmp(r->resource, "endpoints"))
                        return cols_ep;
        }
        if (!strcmp(r->resource, "leases"))
                return cols_lease;
        return cols_default;
}

json_t *table_columns(const struct scheme_resource *r)
{
        json_t *a = json_array();
        for (const struct col *c = columns_for(r); c->name; c++)
                json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", c->name, "type",
                                                   c->type, "format", c->format, "description",
                                                   c->description, "priority", c->priority));
        return a;
}

/* translateTimestampSince: "<unknown>" for a missing/zero time. */
static json_t *age_of(const char *ts, time_t now)
{
        struct timespec t;
        if (!ts || timefmt_parse_rfc3339(ts, &t) < 0 || t.tv_sec <= 0)
                return json_string("<unknown>");
        char buf[16];
        timefmt_age(buf, (int64_t)now - (int64_t)t.tv_sec);
        return json_string(buf);
}

static const char *str_or(const char *s, const char *dflt)
{
        return s && *s ? s : dflt;
}

static bool state_has(const json_t *cs, const char *state)
{
        return json_is_object(kjson_get(cs, state));
}

static json_t *pod_cells(const json_t *pod, time_t now)
{
        const json_t *spec = json_object_get(pod, "spec");
        const json_t *status = json_object_get(pod, "status");
        int64_t restarts = 0, ready = 0;
        int64_t total = (int64_t)json_array_size(json_object_get(spec, "containers"));
        time_t last_restart = 0;
        const char *phase = kjson_str(status, "phase");
        _cleanup_free_ char *reason =
                xstrdup(str_or(kjson_str(status, "reason"), phase ? phase : ""));
        size_t i;
        json_t *c;

        json_array_foreach(json_object_get(status, "conditions"), i, c)
        {
                if (!strcmp(str_or(kjson_str(c, "type"), ""), "PodScheduled") &&
                    !strcmp(str_or(kjson_str(c, "reason"), ""), "SchedulingGated")) {
                        free(reason);
                        reason = xstrdup("SchedulingGated");
                }
        }
        /* Restartable (sidecar) init containers count as containers. */
        const json_t *inits = json_object_get(spec, "initContainers");
        json_array_foreach(inits, i, c)
        {
                if (!strcmp(str_or(kjson_str(c, "restartPolicy"), ""), "Always"))
                        total++;
        }
        bool initializing = false;
        int64_t sidecar_restarts = 0;
        time_t sidecar_last = 0;
        json_array_foreach(json_object_get(status, "initContainerStatuses"), i, c)
        {
                restarts += kjson_int(c, "restartCount", 0);
                struct timespec ft;
                const char *fin = kjson_str(c, "lastState.terminated.finishedAt");
                time_t fint = fin && !timefmt_parse_rfc3339(fin, &ft) ? ft.tv_sec : 0;
                if (fint > last_restart)
                        last_restart = fint;
                bool sidecar = false;
                size_t j;
                json_t *ic;
                json_array_foreach(inits, j, ic)
                {
                        if (!strcmp(str_or(kjson_str(ic, "name"), ""),
                                    str_or(kjson_str(c, "name"), "")) &&
                            !strcmp(str_or(kjson_str(ic, "restartPolicy"), ""), "Always"))
                                sidecar = true;
                }
                if (sidecar) {
                        sidecar_restarts += kjson_int(c, "restartCount", 0);
                        if (fint > sidecar_last)
                                sidecar_last = fint;
                }
                const char *treason = kjson_str(c, "state.terminated.reason");
                const char *wreason = kjson_str(c, "state.waiting.reason");
                if (state_has(c, "state.terminated") &&
                    kjson_int(c, "state.terminated.exitCode", 0) == 0)
                        continue;
                if (sidecar && kjson_bool(c, "started", false)) {
                        if (kjson_bool(c, "ready", false))
                                ready++;
                        continue;
                }
                free(reason);
                if (state_has(c, "state.terminated")) {
                        if (treason && *treason)
                                reason = xasprintf("Init:%s", treason);
                        else if (kjson_int(c, "state.terminated.signal", 0))
                                reason = xasprintf(
                                        "Init:Signal:%lld",
                                        (long long)kjson_int(c, "state.terminated.signal", 0));
                        else
                                reason = xasprintf(
                                        "Init:ExitCode:%lld",
                                        (long long)kjson_int(c, "state.terminated.exitCode", 0));
                } else if (wreason && *wreason && strcmp(wreason, "PodInitializing")) {
                        reason = xasprintf("Init:%s", wreason);
                } else {
                        reason = xasprintf("Init:%zu/%zu", i, json_array_size(inits));
                }
                initializing = true;
                break;
        }
        bool initialized = false;
        json_array_foreach(json_object_get(status, "conditions"), i, c)
        {
                if (!strcmp(str_or(kjson_str(c, "type"), ""), "Initialized") &&
                    !strcmp(str_or(kjson_str(c, "status"), ""), "True"))
                        initialized = true;
        }
        if (!initializing || initialized) {
                restarts = sidecar_restarts;
                last_restart = sidecar_last;
                bool has_running = false;
                const json_t *css = json_object_get(status, "containerStatuses");
                for (size_t k = json_array_size(css); k-- > 0;) {
                        c = json_array_get(css, k);
                        restarts += kjson_int(c, "restartCount", 0);
                        struct timespec ft;
                        const char *fin = kjson_str(c, "lastState.terminated.finishedAt");
                        if (fin && !timefmt_parse_rfc3339(fin, &ft) && ft.tv_sec > last_restart)
                                last_restart = ft.tv_sec;
                        const char *wreason = kjson_str(c, "state.waiting.reason");
                        const char *treason = kjson_str(c, "state.terminated.reason");
                        if (state_has(c, "state.waiting") && wreason && *wreason) {
                                free(reason);
                                reason = xstrdup(wreason);
                        } else if (state_has(c, "state.terminated") && treason && *treason) {
                                free(reason);
                                reason = xstrdup(treason);
                        } else if (state_has(c, "state.terminated")) {
                                free(reason);
                                if (kjson_int(c, "state.terminated.signal", 0))
                                        reason =
                                                xasprintf("Signal:%lld",
                                                          (long long)kjson_int(
                                                                  c, "state.terminated.signal", 0));
                                else
                                        reason = xasprintf(
                                                "ExitCode:%lld",
                                                (long long)kjson_int(c, "state.terminated.exitCode",
                                                                     0));
                        } else if (kjson_bool(c, "ready", false) && state_has(c, "state.running")) {
                                has_running = true;
                                ready++;
                        }
                }
                if (!strcmp(reason, "Completed") && has_running) {
                        bool pod_ready = false;
                        json_array_foreach(json_object_get(status, "conditions"), i, c)
                        {
                                if (!strcmp(str_or(kjson_str(c, "type"), ""), "Ready") &&
                                    !strcmp(str_or(kjson_str(c, "status"), ""), "True"))
                                        pod_ready = true;
                        }
                        free(reason);
                        reason = xstrdup(pod_ready ? "Running" : "NotReady");
                }
        }
        bool terminal = phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
        if (kjson_str(pod, "metadata.deletionTimestamp")) {
                if (!strcmp(str_or(kjson_str(status, "reason"), ""), "NodeLost")) {
                        free(reason);
                        reason = xstrdup("Unknown");
                } else if (!terminal) {
                        free(reason);
                        reason = xstrdup("Terminating");
                }
        }
        char rbuf[64];
        if (restarts && last_restart) {
                char age[16];
                timefmt_age(age, (int64_t)now - (int64_t)last_restart);
                snprintf(rbuf, sizeof(rbuf), "%lld (%s ago)", (long long)restarts, age);
        } else {
                snprintf(rbuf, sizeof(rbuf), "%lld", (long long)restarts);
        }
        char readybuf[48];
        snprintf(readybuf, sizeof(readybuf), "%lld/%lld", (long long)ready, (long long)total);

        const char *ip = kjson_str(json_array_get(json_object_get(status, "podIPs"), 0), "ip");
        if (!ip)
                ip = kjson_str(status, "podIP");
        _cleanup_free_ char *gates = NULL;
        const json_t *rg = json_object_get(spec, "readinessGates");
        if (json_array_size(rg)) {
                size_t n_true = 0, j;
                json_t *g;
                json_array_foreach(rg, j, g)
                {
                        json_array_foreach(json_object_get(status, "conditions"), i, c)
                        {
                                if (!strcmp(str_or(kjson_str(c, "type"), ""),
                                            str_or(kjson_str(g, "conditionType"), "-"))) {
                                        if (!strcmp(str_or(kjson_str(c, "status"), ""), "True"))
                                                n_true++;
                                        break;
                                }
                        }
                }
                gates = xasprintf("%zu/%zu", n_true, json_array_size(rg));
        }
        return json_pack(
                "[s,s,s,s,o,s,s,s,s]", str_or(kjson_str(pod, "metadata.name"), ""), readybuf,
                reason, rbuf, age_of(kjson_str(pod, "metadata.creationTimestamp"), now),
                str_or(ip, "<none>"), str_or(kjson_str(spec, "nodeName"), "<none>"),
                str_or(kjson_str(status, "nominatedNodeName"), "<none>"), gates ? gates : "<none>");
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *node_cells(const json_t *node, time_t now)
{
        char status[128] = "";
        size_t i;
        json_t *c;
        json_array_foreach(kjson_get(node, "status.conditions"), i, c)
        {
                if (!strcmp(str_or(kjson_str(c, "type"), ""), "Ready"))
                        snprintf(status, sizeof(status), "%s",
                                 !strcmp(str_or(kjson_str(c, "status"), ""), "True") ? "Ready"
                                                                                     : "NotReady");
        }
        if (!status[0])
                snprintf(status, sizeof(status), "Unknown");
        if (kjson_bool(node, "spec.unschedulable", false)) {
                size_t l = strlen(status);
                snprintf(status + l, sizeof(status) - l, ",SchedulingDisabled");
        }
        /* Roles: node-role.kubernetes.io/<role> labels and kubernetes.io/role, sorted, unique. */
        const char *roles[64];
        size_t n_roles = 0;
        const char *k;
        json_t *v;
        json_object_foreach(kjson_get(node, "metadata.labels"), k, v)
        {
                const char *role = NULL;
                if (!strncmp(k, "node-role.kubernetes.io/", 24) && k[24])
                        role = k + 24;
                else if (!strcmp(k, "kubernetes.io/role") && json_string_value(v) &&
                         *json_string_value(v))
                        role = json_string_value(v);
                if (!role || n_roles >= ARRAY_SIZE(roles))
                        continue;
                bool dup = false;
                for (size_t j = 0; j < n_roles; j++)
                        dup |= !strcmp(roles[j], role);
                if (!dup)
                        roles[n_roles++] = role;
        }
        qsort(roles, n_roles, sizeof(roles[0]), cmp_str);
        char rolebuf[512] = "";
        size_t off = 0;
        for (size_t j = 0; j < n_roles && off < sizeof(rolebuf); j++)
                off += (size_t)snprintf(rolebuf + off, sizeof(rolebuf) - off, "%s%s", j ? "," : "",
                                        roles[j]);
        const char *internal = NULL, *external = NULL;
        json_array_foreach(kjson_get(node, "status.addresses"), i, c)
        {
                const char *t = str_or(kjson_str(c, "type"), "");
                if (!strcmp(t, "InternalIP") && !internal)
                        internal = kjson_str(c, "address");
                if (!strcmp(t, "ExternalIP") && !external)
                        external = kjson_str(c, "address");
        }
        return json_pack(
                "[s,s,s,o,s,s,s,s,s,s]", str_or(kjson_str(node, "metadata.name"), ""), status,
                n_roles ? rolebuf : "<none>",
                age_of(kjson_str(node, "metadata.creationTimestamp"), now),
                str_or(kjson_str(node, "status.nodeInfo.kubeletVersion"), ""),
                str_or(internal, "<none>"), str_or(external, "<none>"),
                str_or(kjson_str(node, "status.nodeInfo.osImage"), "<unknown>"),
                str_or(kjson_str(node, "status.nodeInfo.kernelVersion"), "<unknown>"),
                str_or(kjson_str(node, "status.nodeInfo.containerRuntimeVersion"), "<unknown>"));
}

static char *trim_dup(const char *s)
{
        s = str_or(s, "");
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
                s++;
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
                n--;
        return xstrndup(s, n);
}

static json_t *event_cells(const json_t *ev, time_t now)
{
        json_t *first = NULL, *last = NULL;
        const char *ft = kjson_str(ev, "firstTimestamp");
        first = age_of(ft ? ft : kjson_str(ev, "eventTime"), now);
        const char *lt = kjson_str(ev, "lastTimestamp");
        int64_t count = kjson_int(ev, "count", 0);
        if (json_is_object(json_object_get(ev, "series"))) {
                last = age_of(kjson_str(ev, "series.lastObservedTime"), now);
                count = kjson_int(ev, "series.count", 0);
        } else {
                last = lt ? age_of(lt, now) : json_incref(first);
                if (!count)
                        count = 1;
        }
        const char *kind = str_or(kjson_str(ev, "involvedObject.kind"), "");
        const char *name = kjson_str(ev, "involvedObject.name");
        _cleanup_free_ char *lower = xstrdup(kind);
        for (char *p = lower; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        _cleanup_free_ char *target =
                name && *name ? xasprintf("%s/%s", lower, name) : xstrdup(lower);
        /* formatEventSource */
        const char *comp = kjson_str(ev, "source.component");
        const char *host = kjson_str(ev, "source.host");
        if (!comp || !*comp) {
                comp = kjson_str(ev, "reportingComponent");
                host = kjson_str(ev, "reportingInstance");
        }
        _cleanup_free_ char *source = host && *host ? xasprintf("%s, %s", str_or(comp, ""), host)
                                                    : xstrdup(str_or(comp, ""));
        _cleanup_free_ char *msg = trim_dup(kjson_str(ev, "message"));
        return json_pack("[o,s,s,s,s,s,s,o,I,s]", last, str_or(kjson_str(ev, "type"), ""),
                         str_or(kjson_str(ev, "reason"), ""), target,
                         str_or(kjson_str(ev, "involvedObject.fieldPath"), ""), source, msg, first,
                         (json_int_t)count, str_or(kjson_str(ev, "metadata.name"), ""));
}

static json_t *svc_cells(const json_t *svc, time_t now)
{
        const char *type = str_or(kjson_str(svc, "spec.type"), "ClusterIP");
        const char *cip = str_or(kjson_str(svc, "spec.clusterIP"), "<none>");
        char ports[512] = "";
        size_t off = 0, i;
        json_t *p;
        json_array_foreach(kjson_get(svc, "spec.ports"), i, p)
        {
                if (off >= sizeof(ports))
                        break;
                int64_t np = kjson_int(p, "nodePort", 0);
                const char *proto = str_or(kjson_str(p, "protocol"), "TCP");
                if (np)
                        off += (size_t)snprintf(ports + off, sizeof(ports) - off, "%s%lld:%lld/%s",
                                                i ? "," : "", (long long)kjson_int(p, "port", 0),
                                                (long long)np, proto);
                else
                        off += (size_t)snprintf(ports + off, sizeof(ports) - off, "%s%lld/%s",
                                                i ? "," : "", (long long)kjson_int(p, "port", 0),
                                                proto);
        }
        _cleanup_free_ char *ext = NULL;
        const json_t *eips = kjson_get(svc, "spec.externalIPs");
        json_t *lbi = kjson_get(svc, "status.loadBalancer.ingress");
        if (json_array_size(eips)) {
                ext = xstrdup("");
                json_array_foreach(eips, i, p)
                {
                        char *n = xasprintf("%s%s%s", ext, i ? "," : "",
                                            str_or(json_string_value(p), ""));
                        free(ext);
                        ext = n;
                }
        } else if (!strcmp(type, "LoadBalancer")) {
                ext = xstrdup(json_array_size(lbi)
                                      ? str_or(kjson_str(json_array_get(lbi, 0), "ip"), "<pending>")
                                      : "<pending>");
        } else if (!strcmp(type, "ExternalName")) {
                ext = xstrdup(str_or(kjson_str(svc, "spec.externalName"), "<none>"));
        }
        /* Selector: sorted "k=v" joined by ','. */
        const char *keys[64];
        size_t nk = 0;
        const char *k;
        json_t *v;
        json_object_foreach(kjson_get(svc, "spec.selector"), k, v)
        {
                if (nk < ARRAY_SIZE(keys))
                        keys[nk++] = k;
        }
        qsort(keys, nk, sizeof(keys[0]), cmp_str);
        char sel[1024] = "";
        size_t so = 0;
        for (size_t j = 0; j < nk && so < sizeof(sel); j++)
                so += (size_t)snprintf(
                        sel + so, sizeof(sel) - so, "%s%s=%s", j ? "," : "", keys[j],
                        str_or(json_string_value(
                                       kjson_get(svc, "spec.selector")
                                               ? json_object_get(kjson_get(svc, "spec.selector"),
                                                                 keys[j])
                                               : NULL),
                               ""));
        return json_pack("[s,s,s,s,s,o,s]", str_or(kjson_str(svc, "metadata.name"), ""), type, cip,
                         ext ? ext : "<none>", off ? ports : "<none>",
                         age_of(kjson_str(svc, "metadata.creationTimestamp"), now),
                         nk ? sel : "<none>");
}

static json_t *ep_cells(const json_t *ep, time_t now)
{
        char buf[512] = "";
        size_t off = 0, n = 0, i, j, k;
        json_t *s, *a, *p;
        json_array_foreach(json_object_get(ep, "subsets"), i, s)
        {
                json_array_foreach(json_object_get(s, "addresses"), j, a)
                {
                        const json_t *ports = json_object_get(s, "ports");
                        if (!json_array_size(ports)) {
                                if (n < 3 && off < sizeof(buf))
                                        off += (size_t)snprintf(buf + off, sizeof(buf) - off,
                                                                "%s%s", n ? "," : "",
                                                                str_or(kjson_str(a, "ip"), ""));
                                n++;
                                continue;
                        }
                        json_array_foreach(ports, k, p)
                        {
                                if (n < 3 && off < sizeof(buf))
                                        off += (size_t)snprintf(buf + off, sizeof(buf) - off,
                                                                "%s%s:%lld", n ? "," : "",
                                                                str_or(kjson_str(a, "ip"), ""),
                                                                (long long)kjson_int(p, "port", 0));
                                n++;
                        }
                }
        }
        _cleanup_free_ char *text =
                n > 3 ? xasprintf("%s + %zu more...", buf, n - 3) : xstrdup(n ? buf : "<none>");
        return json_pack("[s,s,o]", str_or(kjson_str(ep, "metadata.name"), ""), text,
                         age_of(kjson_str(ep, "metadata.creationTimestamp"), now));
}

json_t *table_row_cells(const struct scheme_resource *r, const json_t *obj, time_t now)
{
        const struct col *cols = columns_for(r);
        const char *name = str_or(kjson_str(obj, "metadata.name"), "");
        json_t *age = age_of(kjson_str(obj, "metadata.creationTimestamp"), now);
        if (cols == cols_pod) {
                json_decref(age);
                return pod_cells(obj, now);
        }
        if (cols == cols_node) {
                json_decref(age);
                return node_cells(obj, now);
        }
        if (cols == cols_event) {
                json_decref(age);
                return event_cells(obj, now);
        }
        if (cols == cols_svc) {
                json_decref(age);
                return svc_cells(obj, now);
        }
        if (cols == cols_ep) {
                json_decref(age);
                return ep_cells(obj, now);
        }
        if (cols == cols_ns)
                return json_pack("[s,s,o]", name, str_or(kjson_str(obj, "status.phase"), ""), age);
        if (cols == cols_cm)
                return json_pack("[s,I,o]", name,
                                 (json_int_t)(json_object_size(json_object_get(obj, "data")) +
                                              json_object_size(json_object_get(obj, "binaryData"))),
                                 age);
        if (cols == cols_secret)
                return json_pack("[s,s,I,o]", name, str_or(kjson_str(obj, "type"), ""),
                                 (json_int_t)json_object_size(json_object_get(obj, "data")), age);
        if (cols == cols_sa)
                return json_pack("[s,I,o]", name,
                                 (json_int_t)json_array_size(json_object_get(obj, "secrets")), age);
        if (cols == cols_lease)
                return json_pack("[s,s,o]", name, str_or(kjson_str(obj, "spec.holderIdentity"), ""),
                                 age);
        return json_pack("[s,o]", name, age);
}

static json_t *partial_meta(const json_t *obj)
{
        json_t *meta = json_deep_copy(json_object_get(obj, "metadata"));
        if (!meta)
                meta = json_object();
        json_object_del(meta, "managedFields");
        return json_pack("{s:s,s:s,s:o}", "kind", "PartialObjectMetadata", "apiVersion",
                         "meta.k8s.io/v1", "metadata", meta);
}

json_t *table_new(const struct scheme_resource *r, const json_t *objs, enum table_include inc,
                  bool with_columns, time_t now)
{
        json_t *t = json_pack("{s:s,s:s,s:{}}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
                              "metadata");
        if (with_columns)
                json_object_set_new(t, "columnDefinitions", table_columns(r));
        json_t *rows = json_array();
        size_t i;
        json_t *o;
        json_array_foreach(objs, i, o)
        {
                json_t *row = json_pack("{s:o}", "cells", table_row_cells(r, o, now));
                if (inc == TABLE_INCLUDE_METADATA)
                        json_object_set_new(row, "object", partial_meta(o));
                else if (inc == TABLE_INCLUDE_OBJECT)
                        json_object_set(row, "object", o);
                json_array_append_new(rows, row);
        }
        json_object_set_new(t, "rows", rows);
        return t;
}
