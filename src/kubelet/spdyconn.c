/* spdyconn.c — the kubelet's SPDY/3.1 connections; see spdyconn.h. */
#include "kubelet/spdyconn.h"

#include "common/log.h"
#include "http/upgrade.h"

#define COMP "kubelet"
#define KSPDY_IN_MAX (SPDY_MAX_FRAME + 64u)

struct kspdy {
        struct http_raw *raw; /* NULL once gone */
        struct spdy_codec *codec;
        struct spdy_buf in, out;
        const struct kspdy_ops *ops;
        void *ud;
        uint32_t last_id;
        bool closing, failed;
};

static void flush_out(struct kspdy *k)
{
        if (k->raw && k->out.len) {
                http_raw_write(k->raw, k->out.p, k->out.len);
                k->out.len = 0;
        }
}

static void on_raw_data(void *ud, const uint8_t *data, size_t len)
{
        struct kspdy *k = ud;
        if (k->failed || !k->raw)
                return;
        /* one delivery may hold many frames (h2o reads until the socket is empty): parse in
         * place and keep only an incomplete last frame, which the cap bounds */
        const uint8_t *p = data;
        size_t plen = len;
        if (k->in.len) {
                spdy_buf_append(&k->in, data, len);
                p = k->in.p;
                plen = k->in.len;
        }
        size_t off = 0;
        while (!k->failed && k->raw) {
                struct spdy_frame f;
                size_t used = 0;
                struct error err = {0};
                int r = spdy_frame_parse(k->codec, p + off, plen - off, &f, &used, &err);
                if (r < 0) {
                        log_debug(COMP, "spdy: %s", error_msg(&err));
                        k->failed = true;
                        spdy_put_goaway(&k->out, k->last_id, 1);
                        flush_out(k);
                        http_raw_close(k->raw);
                        break;
                }
                if (!used)
                        break;
                off += used;
                switch (f.type) {
                case SPDY_DATA:
                        if (f.len && k->ops->on_data)
                                k->ops->on_data(k->ud, f.stream_id, f.data, f.len);
                        if ((f.flags & SPDY_FLAG_FIN) && k->ops->on_fin && k->raw)
                                k->ops->on_fin(k->ud, f.stream_id);
                        break;
                case SPDY_SYN_STREAM:
                        if (f.stream_id > k->last_id)
                                k->last_id = f.stream_id;
                        if (k->ops->on_stream)
                                k->ops->on_stream(k->ud, f.stream_id, &f);
                        if ((f.flags & SPDY_FLAG_FIN) && k->ops->on_fin && k->raw)
                                k->ops->on_fin(k->ud, f.stream_id);
                        break;
                case SPDY_HEADERS:
                        if ((f.flags & SPDY_FLAG_FIN) && k->ops->on_fin)
                                k->ops->on_fin(k->ud, f.stream_id);
                        break;
                case SPDY_RST_STREAM:
                        if (k->ops->on_reset)
                                k->ops->on_reset(k->ud, f.stream_id);
                        break;
                case SPDY_PING:
                        spdy_put_ping(&k->out, f.value);
                        flush_out(k);
                        break;
                case SPDY_GOAWAY:
                default:
                        break; /* SETTINGS, WINDOW_UPDATE (no flow control in spdystream) */
                }
                spdy_frame_clear(&f);
        }
        if (p == data) {
                if (off < plen && !k->failed)
                        spdy_buf_append(&k->in, p + off, plen - off);
        } else {
                spdy_buf_consume(&k->in, off);
        }
        if (k->in.len > KSPDY_IN_MAX && k->raw && !k->failed) {
                k->failed = true; /* a frame cannot be that long */
                http_raw_abort(k->raw);
        }
}

static void on_raw_close(void *ud)
{
        struct kspdy *k = ud;
        k->raw = NULL;
        if (k->ops->on_close)
                k->ops->on_close(k->ud);
        spdy_codec_free(k->codec);
        spdy_buf_free(&k->in);
        spdy_buf_free(&k->out);
        free(k);
}

struct kspdy *kspdy_upgrade(struct http_req *r, const char *version, const struct kspdy_ops *ops,
                            void *ud)
{
        struct kspdy *k = xcalloc(1, sizeof(*k));
        const char *hdrs[] = {"Upgrade", "SPDY/3.1", version ? "X-Stream-Protocol-Version" : NULL,
                              version, NULL};
        k->ops = ops;
        k->ud = ud;
        k->raw = http_req_upgrade(r, hdrs, on_raw_data, on_raw_close, k);
        if (!k->raw) {
                free(k);
                return NULL;
        }
        k->codec = spdy_codec_new();
        return k;
}

void kspdy_reply(struct kspdy *k, uint32_t id, bool fin)
{
        if (!k->raw || k->closing)
                return;
        spdy_put_syn_reply(k->codec, &k->out, id, fin ? SPDY_FLAG_FIN : 0, NULL, NULL, 0);
        flush_out(k);
}

void kspdy_data(struct kspdy *k, uint32_t id, const void *data, size_t len, bool fin)
{
        if (!k->raw || k->closing)
                return;
        spdy_put_data(&k->out, id, fin ? SPDY_FLAG_FIN : 0, data, len);
        flush_out(k);
}

void kspdy_rst(struct kspdy *k, uint32_t id, uint32_t status)
{
        if (!k->raw || k->closing)
                return;
        spdy_put_rst(&k->out, id, status);
        flush_out(k);
}

size_t kspdy_pending(struct kspdy *k)
{
        return k->raw ? http_raw_pending(k->raw) : 0;
}

void kspdy_pause(struct kspdy *k, bool paused)
{
        if (k->raw)
                http_raw_pause(k->raw, paused);
}

void kspdy_close(struct kspdy *k)
{
        if (!k->raw || k->closing)
                return;
        spdy_put_goaway(&k->out, k->last_id, 0);
        flush_out(k);
        k->closing = true;
        http_raw_close(k->raw);
}

const char *kspdy_pick_version(const char *offered, const char *const *ours)
{
        for (size_t i = 0; ours[i]; i++) {
                size_t n = strlen(ours[i]);
                for (const char *p = offered ? offered : ""; *p;) {
                        while (*p == ' ' || *p == ',' || *p == '\t')
                                p++;
                        const char *e = p;
                        while (*e && *e != ',' && *e != ' ' && *e != '\t')
                                e++;
                        if ((size_t)(e - p) == n && !strncmp(p, ours[i], n))
                                return ours[i];
                        p = e;
                }
        }
        return NULL;
}
