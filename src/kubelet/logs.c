/* logs.c — CRI log record parsing and rendering (see logs.h). */
#include "kubelet/logs.h"

#include <stdio.h>
#include <time.h>

#include "common/timefmt.h"

int kubelet_crilog_parse(const char *line, size_t len, struct kubelet_crilog_line *ret,
                         struct error *err)
{
        const char *end = line + len;
        const char *sp1 = memchr(line, ' ', len);
        if (!sp1 || sp1 == line || sp1 - line >= 64)
                return error_set(err, -EPROTO, "log record: no timestamp");
        char ts[64];
        memcpy(ts, line, (size_t)(sp1 - line));
        ts[sp1 - line] = '\0';
        struct timespec t;
        if (timefmt_parse_rfc3339(ts, &t) < 0)
                return error_set(err, -EPROTO, "log record: bad timestamp");

        const char *stream = sp1 + 1;
        const char *sp2 = memchr(stream, ' ', (size_t)(end - stream));
        if (!sp2)
                return error_set(err, -EPROTO, "log record: no stream");
        size_t stream_len = (size_t)(sp2 - stream);
        if (!((stream_len == 6 && !memcmp(stream, "stdout", 6)) ||
              (stream_len == 6 && !memcmp(stream, "stderr", 6))))
                return error_set(err, -EPROTO, "log record: bad stream");

        const char *tag = sp2 + 1;
        if (tag >= end)
                return error_set(err, -EPROTO, "log record: no tag");
        /* The tag is "P" or "F" (possibly with ':'-separated extensions); the text follows a
         * space, which may be missing for an empty F line. */
        const char *tag_end = memchr(tag, ' ', (size_t)(end - tag));
        if (!tag_end)
                tag_end = end;
        if (tag[0] != 'P' && tag[0] != 'F')
                return error_set(err, -EPROTO, "log record: bad tag");
        if (tag_end - tag > 1 && tag[1] != ':')
                return error_set(err, -EPROTO, "log record: bad tag");

        ret->ts_ns = (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
        ret->stream = stream;
        ret->stream_len = stream_len;
        ret->partial = tag[0] == 'P';
        ret->text = tag_end < end ? tag_end + 1 : end;
        ret->text_len = (size_t)(end - ret->text);
        return 0;
}

char *kubelet_crilog_time(int64_t ts_ns, char buf[static 40])
{
        int64_t sec = ts_ns / 1000000000LL, ns = ts_ns % 1000000000LL;
        if (ns < 0) {
                ns += 1000000000LL;
                sec--;
        }
        time_t tt = (time_t)sec;
        struct tm tm;
        if (!gmtime_r(&tt, &tm))
                memset(&tm, 0, sizeof(tm));
        size_t n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
        if (ns) {
                char frac[16];
                snprintf(frac, sizeof(frac), "%09lld", (long long)ns);
                size_t fl = 9;
                while (fl > 0 && frac[fl - 1] == '0')
                        fl--;
                frac[fl] = '\0';
                n += (size_t)snprintf(buf + n, 40 - n, ".%s", frac);
        }
        snprintf(buf + n, 40 - n, "Z");
        return buf;
}

/* Iterate complete records: calls fn for each; returns bytes consumed. */
static size_t each_record(const char *buf, size_t len,
                          void (*fn)(const struct kubelet_crilog_line *l, void *ud), void *ud)
{
        size_t off = 0;
        while (off < len) {
                const char *nl = memchr(buf + off, '\n', len - off);
                if (!nl) {
                        if (len - off > KUBELET_CRILOG_MAX_LINE)
                                return len; /* drop an overlong unterminated record */
                        break;
                }
                size_t l = (size_t)(nl - (buf + off));
                struct kubelet_crilog_line rec;
                if (l <= KUBELET_CRILOG_MAX_LINE &&
                    kubelet_crilog_parse(buf + off, l, &rec, NULL) == 0)
                        fn(&rec, ud);
                off += l + 1;
        }
        return off;
}

struct count_state {
        int64_t since_ns, n;
        bool in_partial;
};

static void count_one(const struct kubelet_crilog_line *l, void *ud)
{
        struct count_state *c = ud;
        if (!c->in_partial && l->ts_ns >= c->since_ns)
                c->n++;
        c->in_partial = l->partial;
}

int64_t kubelet_logs_count(const char *buf, size_t len, int64_t since_ns)
{
        struct count_state c = {.since_ns = since_ns};
        each_record(buf, len, count_one, &c);
        return c.n;
}

void kubelet_logs_init(struct kubelet_logs_renderer *r, const struct kubelet_logs_opts *opts,
                       int64_t skip_lines, kubelet_logs_emit_fn emit, void *ud)
{
        *r = (struct kubelet_logs_renderer){
                .opts = *opts, .emit = emit, .ud = ud, .skip = skip_lines > 0 ? skip_lines : 0};
}

static void out(struct kubelet_logs_renderer *r, const char *data, size_t len)
{
        if (r->done || len == 0)
                return;
        if (r->opts.limit_bytes > 0) {
                int64_t left = r->opts.limit_bytes - r->written;
                if ((int64_t)len >= left) {
                        len = (size_t)left;
                        r->done = true;
                }
        }
        if (len)
                r->emit(data, len, r->ud);
        r->written += (int64_t)len;
}

static void render_one(const struct kubelet_crilog_line *l, void *ud)
{
        struct kubelet_logs_renderer *r = ud;
        if (!r->in_partial) {
                /* first record of a logical line: decide whether to show it */
                r->dropping = false;
                if (r->opts.since_ns && l->ts_ns < r->opts.since_ns) {
                        r->dropping = true;
                } else if (r->skip > 0) {
                        r->skip--;
                        r->dropping = true;
                }
                if (!r->dropping && r->opts.timestamps) {
                        char ts[40];
                        kubelet_crilog_time(l->ts_ns, ts);
                        out(r, ts, strlen(ts));
                        out(r, " ", 1);
                }
        }
        if (!r->dropping) {
                out(r, l->text, l->text_len);
                if (!l->partial)
                        out(r, "\n", 1);
        }
        r->in_partial = l->partial;
}

size_t kubelet_logs_feed(struct kubelet_logs_renderer *r, const char *buf, size_t len)
{
        return each_record(buf, len, render_one, r);
}

struct membuf {
        char *data;
        size_t len, cap;
};

static void mem_emit(const char *data, size_t len, void *ud)
{
        struct membuf *m = ud;
        if (m->len + len + 1 > m->cap) {
                m->cap = (m->len + len + 1) * 2;
                m->data = xrealloc(m->data, m->cap);
        }
        memcpy(m->data + m->len, data, len);
        m->len += len;
}

void kubelet_logs_render_all(const char *buf, size_t len, const struct kubelet_logs_opts *opts,
                             char **ret, size_t *ret_len)
{
        struct membuf m = {.data = xmalloc(64), .cap = 64};
        int64_t skip = 0;
        if (opts->tail_lines >= 0) {
                int64_t n = kubelet_logs_count(buf, len, opts->since_ns);
                skip = n > opts->tail_lines ? n - opts->tail_lines : 0;
        }
        struct kubelet_logs_renderer r;
        kubelet_logs_init(&r, opts, skip, mem_emit, &m);
        kubelet_logs_feed(&r, buf, len);
        m.data[m.len] = '\0';
        *ret = m.data;
        *ret_len = m.len;
}
