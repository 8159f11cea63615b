/* fuzz-crilog.c — CRI log parsing and rendering: the first input byte picks the options (tail,
 * timestamps, limit, since), the rest is a log file fed whole and then in small chunks. */
#include <stdint.h>

#include "kubelet/logs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(const char *d, size_t n, void *ud)
{
        size_t *total = ud;
        if (n && d[0] == d[n - 1])
                (*total)++;
        *total += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        uint8_t sel = data[0];
        const char *buf = (const char *)data + 1;
        size_t len = size - 1;
        struct kubelet_logs_opts o = {
                .tail_lines = (sel & 3) == 0 ? -1 : (sel & 3),
                .timestamps = sel & 4,
                .limit_bytes = (sel & 8) ? 7 : 0,
                .since_ns = (sel & 16) ? 1767323047000000000LL : 0,
        };
        char *out;
        size_t out_len;
        kubelet_logs_render_all(buf, len, &o, &out, &out_len);
        if (o.limit_bytes > 0 && (int64_t)out_len > o.limit_bytes)
                __builtin_trap();
        free(out);

        struct kubelet_logs_renderer r;
        size_t total = 0, off = 0, chunk = (sel >> 5) + 1;
        kubelet_logs_init(&r, &o, 0, sink, &total);
        char pending[4096];
        size_t plen = 0;
        while (off < len) {
                size_t n = MIN(chunk, len - off);
                if (plen + n > sizeof(pending))
                        break;
                memcpy(pending + plen, buf + off, n);
                plen += n;
                off += n;
                size_t used = kubelet_logs_feed(&r, pending, plen);
                memmove(pending, pending + used, plen - used);
                plen -= used;
        }
        return 0;
}
