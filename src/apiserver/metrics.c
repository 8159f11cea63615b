/* metrics.c — Prometheus counters, histograms and gauges for /metrics (see metrics.h). */
#include "apiserver/metrics.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const double buckets[] = {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2,
                                 3,     4,     5,    6,   8,   10,  15,  20,  30,  45,   60};
#define N_BUCKETS ARRAY_SIZE(buckets)

enum series_kind { S_COUNTER, S_HISTOGRAM, S_GAUGE };

struct series {
        struct series *next; /* hash chain */
        enum series_kind kind;
        char *labels; /* rendered: a="x",b="y" (sorted) */
        double value; /* counter/gauge; histogram: sum */
        uint64_t count;
        uint64_t bucket[N_BUCKETS];
};

#define HASH_SIZE 1024

struct family {
        const char *name;
        struct series *table[HASH_SIZE];
        size_t n;
};

struct metrics {
        struct family requests, durations, longrunning;
        int64_t inflight_ro, inflight_mut;
        size_t n_series;
        double start_time;
};

struct metrics *metrics_new(void)
{
        struct metrics *m = xcalloc(1, sizeof(*m));
        m->requests.name = "apiserver_request_total";
        m->durations.name = "apiserver_request_duration_seconds";
        m->longrunning.name = "apiserver_longrunning_requests";
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        m->start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        return m;
}

static void family_clear(struct family *f)
{
        for (size_t i = 0; i < HASH_SIZE; i++) {
                struct series *s = f->table[i];
                while (s) {
                        struct series *next = s->next;
                        free(s->labels);
                        free(s);
                        s = next;
                }
        }
}

void metrics_free(struct metrics *m)
{
        if (!m)
                return;
        family_clear(&m->requests);
        family_clear(&m->durations);
        family_clear(&m->longrunning);
        free(m);
}

static uint32_t hash(const char *s)
{
        uint32_t h = 2166136261u;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 16777619u;
        return h;
}

static struct series *lookup(struct metrics *m, struct family *f, enum series_kind kind,
                             const char *labels)
{
        uint32_t h = hash(labels) % HASH_SIZE;
        for (struct series *s = f->table[h]; s; s = s->next)
                if (!strcmp(s->labels, labels))
                        return s;
        if (m->n_series >= METRICS_MAX_SERIES)
                return NULL;
        struct series *s = xcalloc(1, sizeof(*s));
        s->kind = kind;
        s->labels = xstrdup(labels);
        s->next = f->table[h];
        f->table[h] = s;
        f->n++;
        m->n_series++;
        return s;
}

/* Append name="escaped value" to buf (capped; the label set is dropped when it does not fit). */
static bool put_label(char *buf, size_t size, size_t *pos, const char *name, const char *v)
{
        size_t p = *pos;
        int n = snprintf(buf + p, size - p, "%s%s=\"", p ? "," : "", name);
        if (n < 0 || (size_t)n >= size - p)
                return false;
        p += (size_t)n;
        for (const char *c = v ? v : ""; *c; c++) {
                const char *esc = *c == '\\'   ? "\\\\"
                                  : *c == '"'  ? "\\\""
                                  : *c == '\n' ? "\\n"
                                               : NULL;
                size_t need = esc ? 2 : 1;
                if (p + need + 2 >= size)
                        return false;
                if (esc) {
                        memcpy(buf + p, esc, 2);
                } else {
                        buf[p] = *c;
                }
                p += need;
        }
        buf[p++] = '"';
        buf[p] = 0;
        *pos = p;
        return true;
}

/* The label set in Prometheus' order (sorted by name); code < 0 = no code label. */
static bool render_labels(char *buf, size_t size, const struct metrics_labels *l, int code,
                          bool with_dry_run)
{
        size_t p = 0;
        char cs[16];
        snprintf(cs, sizeof(cs), "%d", code);
        buf[0] = 0;
        return (code < 0 || put_label(buf, size, &p, "code", cs)) &&
               put_label(buf, size, &p, "component", "apiserver") &&
               (!with_dry_run || put_label(buf, size, &p, "dry_run", l->dry_run ? "All" : "")) &&
               put_label(buf, size, &p, "group", l->group) &&
               put_label(buf, size, &p, "resource", l->resource) &&
               put_label(buf, size, &p, "scope", l->scope) &&
               put_label(buf, size, &p, "subresource", l->subresource) &&
               put_label(buf, size, &p, "verb", l->verb) &&
               put_label(buf, size, &p, "version", l->version);
}

void metrics_labels_from_attrs(const struct authz_attrs *at, const char *content_type, bool dry_run,
                               struct metrics_labels *ret)
{
        const char *v = at->verb;
        const char *mv = "";
        const char *sub = at->subresource;
        bool connect = sub && (!strcmp(sub, "exec") || !strcmp(sub, "attach") ||
                               !strcmp(sub, "portforward") || !strcmp(sub, "proxy"));
        if (connect)
                mv = "CONNECT";
        else if (!strcmp(v, "get"))
                mv = "GET";
        else if (!strcmp(v, "list"))
                mv = "LIST";
        else if (!strcmp(v, "watch"))
                mv = "WATCH";
        else if (!strcmp(v, "create"))
                mv = "POST";
        else if (!strcmp(v, "update"))
                mv = "PUT";
        else if (!strcmp(v, "patch"))
                mv = content_type && !strncmp(content_type, "application/apply-patch", 23)
                             ? "APPLY"
                             : "PATCH";
        else if (!strcmp(v, "delete"))
                mv = "DELETE";
        else if (!strcmp(v, "deletecollection"))
                mv = "DELETECOLLECTION";
        else if (!strcmp(v, "proxy"))
                mv = "CONNECT";
        const char *scope = "";
        if ((at->name && *at->name) || !strcmp(v, "create"))
                scope = "resource";
        else if (at->ns && *at->ns)
                scope = "namespace";
        else if (at->resource_request)
                scope = "cluster";
        *ret = (struct metrics_labels){
                .verb = mv,
                .group = at->group ? at->group : "",
                .version = at->version ? at->version : "",
                .resource = at->resource ? at->resource : "",
                .subresource = sub ? sub : "",
                .scope = scope,
                .dry_run = dry_run,
        };
}

void metrics_request_observe(struct metrics *m, const struct metrics_labels *l, int code,
                             double seconds)
{
        char buf[1024];
        if (render_labels(buf, sizeof(buf), l, code, true)) {
                struct series *s = lookup(m, &m->requests, S_COUNTER, buf);
                if (s)
                        s->value += 1;
        }
        if (render_labels(buf, sizeof(buf), l, -1, true)) {
                struct series *s = lookup(m, &m->durations, S_HISTOGRAM, buf);
                if (s) {
                        s->count++;
                        s->value += seconds;
                        for (size_t i = 0; i < N_BUCKETS; i++)
                                if (seconds <= buckets[i])
                                        s->bucket[i]++;
                }
        }
}

void metrics_inflight_add(struct metrics *m, bool mutating, int delta)
{
        if (mutating)
                m->inflight_mut += delta;
        else
                m->inflight_ro += delta;
}

void metrics_longrunning_add(struct metrics *m, const struct metrics_labels *l, int delta)
{
        char buf[1024];
        if (!render_labels(buf, sizeof(buf), l, -1, false))
                return;
        struct series *s = lookup(m, &m->longrunning, S_GAUGE, buf);
        if (s)
                s->value += delta;
}

struct metrics_series *metrics_longrunning_begin(struct metrics *m, const struct metrics_labels *l)
{
        char buf[1024];
        if (!render_labels(buf, sizeof(buf), l, -1, false))
                return NULL;
        struct series *s = lookup(m, &m->longrunning, S_GAUGE, buf);
        if (s)
                s->value += 1;
        return (struct metrics_series *)s;
}

void metrics_longrunning_end(struct metrics_series *h)
{
        struct series *s = (struct series *)h;
        if (s)
                s->value -= 1;
}

/* ---- rendering ---- */

struct out {
        char *p;
        size_t n, cap;
};

static void PRINTF_LIKE(2, 3) outf(struct out *o, const char *fmt, ...)
{
        va_list ap;
        for (;;) {
                va_start(ap, fmt);
                int k = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
                va_end(ap);
                if (k >= 0 && (size_t)k < o->cap - o->n) {
                        o->n += (size_t)k;
                        return;
                }
                o->cap = o->cap * 2 + (k > 0 ? (size_t)k : 0);
                o->p = xrealloc(o->p, o->cap);
        }
}

static int cmp_series(const void *a, const void *b)
{
        return strcmp((*(struct series *const *)a)->labels, (*(struct series *const *)b)->labels);
}

/* The family's series sorted by label text (stable output). Caller frees the array. */
static struct series **sorted(const struct family *f)
{
        struct series **v = xcalloc(f->n + 1, sizeof(*v));
        size_t k = 0;
        for (size_t i = 0; i < HASH_SIZE; i++)
                for (struct series *s = f->table[i]; s; s = s->next)
                        v[k++] = s;
        qsort(v, k, sizeof(*v), cmp_series);
        return v;
}

static void render_family(struct out *o, const struct family *f, const char *help, const char *type)
{
        outf(o, "# HELP %s %s\n# TYPE %s %s\n", f->name, help, f->name, type);
        _cleanup_free_ struct series **v = sorted(f);
        for (size_t i = 0; i < f->n; i++) {
                struct series *s = v[i];
                if (s->kind != S_HISTOGRAM) {
                        outf(o, "%s{%s} %.17g\n", f->name, s->labels, s->value);
                        continue;
                }
                for (size_t b = 0; b < N_BUCKETS; b++)
                        outf(o, "%s_bucket{%s,le=\"%g\"} %llu\n", f->name, s->labels, buckets[b],
                             (unsigned long long)s->bucket[b]);
                outf(o, "%s_bucket{%s,le=\"+Inf\"} %llu\n", f->name, s->labels,
                     (unsigned long long)s->count);
                outf(o, "%s_sum{%s} %.17g\n", f->name, s->labels, s->value);
                outf(o, "%s_count{%s} %llu\n", f->name, s->labels, (unsigned long long)s->count);
        }
}

static void render_process(struct out *o, double start_time)
{
        long page = sysconf(_SC_PAGESIZE), ticks = sysconf(_SC_CLK_TCK);
        unsigned long long vsize = 0, rss = 0, utime = 0, stime = 0;
        FILE *f = fopen("/proc/self/stat", "re");
        if (f) {
                char line[1024];
                if (fgets(line, sizeof(line), f)) {
                        /* fields after the ")" of comm: state(3) ... utime(14) stime(15) ...
                         * vsize(23) rss(24) */
                        char *p = strrchr(line, ')');
                        if (p && sscanf(p + 2,
                                        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
                                        "%*d %*d %*d %*d %*d %*d %*u %llu %llu",
                                        &utime, &stime, &vsize, &rss) != 4)
                                vsize = rss = utime = stime = 0;
                }
                fclose(f);
        }
        size_t fds = 0;
        DIR *d = opendir("/proc/self/fd");
        if (d) {
                struct dirent *e;
                while ((e = readdir(d)))
                        if (e->d_name[0] != '.')
                                fds++;
                closedir(d);
                if (fds)
                        fds--; /* the directory stream's own fd */
        }
        struct rlimit rl = {0};
        getrlimit(RLIMIT_NOFILE, &rl);
        outf(o,
             "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
             "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n",
             ticks > 0 ? (double)(utime + stime) / (double)ticks : 0.0);
        outf(o,
             "# HELP process_max_fds Maximum number of open file descriptors.\n"
             "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
             (unsigned long long)rl.rlim_cur);
        outf(o,
             "# HELP process_open_fds Number of open file descriptors.\n"
             "# TYPE process_open_fds gauge\nprocess_open_fds %zu\n",
             fds);
        outf(o,
             "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
             "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %llu\n",
             rss * (unsigned long long)(page > 0 ? page : 4096));
        outf(o,
             "# HELP process_start_time_seconds Start time of the process since unix epoch in "
             "seconds.\n# TYPE process_start_time_seconds gauge\n"
             "process_start_time_seconds %.2f\n",
             start_time);
        outf(o,
             "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
             "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %llu\n",
             vsize);
}

char *metrics_render(struct metrics *m)
{
        struct out o = {.p = xmalloc(8192), .cap = 8192};
        o.p[0] = 0;
        outf(&o,
             "# HELP apiserver_current_inflight_requests [STABLE] Maximal number of currently "
             "used inflight request limit of this apiserver per request kind in last second.\n"
             "# TYPE apiserver_current_inflight_requests gauge\n"
             "apiserver_current_inflight_requests{request_kind=\"mutating\"} %lld\n"
             "apiserver_current_inflight_requests{request_kind=\"readOnly\"} %lld\n",
             (long long)m->inflight_mut, (long long)m->inflight_ro);
        render_family(&o, &m->longrunning,
                      "[STABLE] Gauge of all active long-running apiserver requests broken out by "
                      "verb, group, version, resource, scope and component. Not all requests are "
                      "tracked this way.",
                      "gauge");
        render_family(&o, &m->durations,
                      "[STABLE] Response latency distribution in seconds for each verb, dry run "
                      "value, group, version, resource, subresource, scope and component.",
                      "histogram");
        render_family(&o, &m->requests,
                      "[STABLE] Counter of apiserver requests broken out for each verb, dry run "
                      "value, group, version, resource, scope, component, and HTTP response code.",
                      "counter");
        render_process(&o, m->start_time);
        return o.p;
}
