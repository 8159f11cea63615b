/* fuzz-spdy.c — the SPDY/3.1 codec: the input is a byte stream from a peer, parsed frame by frame
 * with one codec (so header compression state carries over), first whole and then in chunks of
 * the size the first byte picks; every parsed SYN_STREAM is answered through the encoder. */
#include <stdint.h>

#include "http/spdy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(const uint8_t *data, size_t size, size_t chunk)
{
        struct spdy_codec *c = spdy_codec_new();
        struct spdy_buf in = {0}, out = {0};
        size_t fed = 0;
        bool failed = false;
        while (fed < size && !failed) {
                size_t n = size - fed < chunk ? size - fed : chunk;
                spdy_buf_append(&in, data + fed, n);
                fed += n;
                for (;;) {
                        struct spdy_frame f;
                        size_t used = 0;
                        if (spdy_frame_parse(c, in.p, in.len, &f, &used, NULL) < 0) {
                                failed = true;
                                break;
                        }
                        if (!used)
                                break;
                        if (f.type == SPDY_SYN_STREAM) {
                                const char *v = spdy_frame_header(&f, "streamtype");
                                const char *names[] = {"streamtype"};
                                const char *vals[] = {v ? v : ""};
                                spdy_put_syn_reply(c, &out, f.stream_id, 0, names, vals, 1);
                        }
                        if (f.type == SPDY_DATA)
                                spdy_put_data(&out, f.stream_id, f.flags, f.data, f.len);
                        spdy_frame_clear(&f);
                        spdy_buf_consume(&in, used);
                        out.len = 0;
                }
        }
        spdy_buf_free(&in);
        spdy_buf_free(&out);
        spdy_codec_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        run(data + 1, size - 1, SIZE_MAX);
        run(data + 1, size - 1, (size_t)(data[0] % 16) + 1);
        return 0;
}
