/* logs.h — CRI container log files (what conmon writes with -l k8s-file:PATH), parsed and
 * rendered the way the kubelet serves /containerLogs: one line per record
 *   <RFC3339Nano timestamp> <stdout|stderr> <P|F> <text>\n
 * where P (partial) records are joined with the following ones up to an F record. Pure: no I/O;
 * the caller feeds bytes (whole file or appended chunks for follow). Fuzzed (fuzz-crilog.c). */
#pragma once
#include "common/base.h"
#include "common/error.h"

#define KUBELET_CRILOG_MAX_LINE (1u << 20) /* a record longer than this is skipped */

struct kubelet_crilog_line {
        int64_t ts_ns;      /* unix nanoseconds */
        const char *stream; /* points into the input; "stdout" or "stderr" */
        size_t stream_len;
        bool partial;
        const char *text; /* points into the input, not NUL-terminated */
        size_t text_len;
};

/* Parse one record (line without its '\n'). Returns 0 and *ret, or -EPROTO (malformed). */
int kubelet_crilog_parse(const char *line, size_t len, struct kubelet_crilog_line *ret,
                         struct error *err);

/* Format unix nanoseconds as Go's RFC3339Nano in UTC (trailing zeros of the fraction dropped):
 * "2026-01-02T03:04:05.1234Z". Returns buf. */
char *kubelet_crilog_time(int64_t ts_ns, char buf[static 40]);

struct kubelet_logs_opts {
        int64_t tail_lines;  /* < 0: all */
        bool timestamps;     /* prefix each line with its timestamp and a space */
        int64_t limit_bytes; /* <= 0: no limit */
        int64_t since_ns;    /* 0: no lower bound; lines older than this are skipped */
};

typedef void (*kubelet_logs_emit_fn)(const char *data, size_t len, void *ud);

struct kubelet_logs_renderer {
        struct kubelet_logs_opts opts;
        kubelet_logs_emit_fn emit;
        void *ud;
        int64_t skip;    /* logical lines still to skip (tail) */
        bool in_partial; /* the previous record was P */
        bool dropping;   /* the current logical line is not shown */
        int64_t written;
        bool done; /* limit_bytes reached: nothing more will be emitted */
};

/* Count the logical lines in buf[0..len) (only complete records, i.e. up to the last '\n') that
 * pass since_ns (0 = all). Used to turn tail_lines into a number of lines to skip. */
int64_t kubelet_logs_count(const char *buf, size_t len, int64_t since_ns);

/* Set up r. skip_lines: number of logical lines to drop first (see kubelet_logs_count). */
void kubelet_logs_init(struct kubelet_logs_renderer *r, const struct kubelet_logs_opts *opts,
                       int64_t skip_lines, kubelet_logs_emit_fn emit, void *ud);

/* Render the complete records of buf[0..len) through r->emit. Returns the number of bytes
 * consumed (everything up to and including the last '\n'); the caller keeps the rest and feeds
 * it again with more data. Malformed records are skipped. A record without '\n' longer than
 * KUBELET_CRILOG_MAX_LINE is consumed and dropped so a caller's buffer stays bounded. */
size_t kubelet_logs_feed(struct kubelet_logs_renderer *r, const char *buf, size_t len);

/* Convenience: render a whole file's contents with tail/since/limit/timestamps applied into a
 * new buffer (*ret, NUL-terminated, caller frees; *ret_len its length). */
void kubelet_logs_render_all(const char *buf, size_t len, const struct kubelet_logs_opts *opts,
                             char **ret, size_t *ret_len);
