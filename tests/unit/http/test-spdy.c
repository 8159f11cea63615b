/* test-spdy.c — the SPDY/3.1 codec: round trips, incremental input, header compression that
 * continues across frames, a frame compressed independently (raw zlib with the dictionary, as
 * Go's spdy framer does), and malformed input. */
#include "harness.h"
#include "http/spdy.h"

static int parse_all(struct spdy_codec *c, const struct spdy_buf *b, struct spdy_frame *out,
                     size_t max)
{
        size_t off = 0, n = 0;
        while (off < b->len && n < max) {
                size_t used = 0;
                int r = spdy_frame_parse(c, b->p + off, b->len - off, &out[n], &used, NULL);
                if (r < 0)
                        return r;
                if (!used)
                        break;
                off += used;
                n++;
        }
        return (int)n;
}

TEST(roundtrip_control_and_data)
{
        struct spdy_codec *tx = spdy_codec_new(), *rx = spdy_codec_new();
        struct spdy_buf b = {0};
        const char *n1[] = {"streamtype", "port", "requestid"};
        const char *v1[] = {"data", "8080", "0"};
        spdy_put_syn_stream(tx, &b, 1, 0, n1, v1, 3);
        const char *n2[] = {"streamtype"};
        const char *v2[] = {"error"};
        spdy_put_syn_stream(tx, &b, 3, SPDY_FLAG_FIN, n2, v2, 1);
        spdy_put_syn_reply(tx, &b, 1, 0, NULL, NULL, 0);
        spdy_put_data(&b, 1, SPDY_FLAG_FIN, "hello", 5);
        spdy_put_ping(&b, 7);
        spdy_put_rst(&b, 3, SPDY_RST_CANCEL);
        spdy_put_goaway(&b, 3, 0);
        spdy_put_window_update(&b, 1, 65536);
        struct spdy_frame f[10];
        CHECK_EQ_INT(parse_all(rx, &b, f, 10), 8);
        CHECK_EQ_INT(f[0].type, SPDY_SYN_STREAM);
        CHECK_EQ_INT(f[0].stream_id, 1);
        CHECK_EQ_STR(spdy_frame_header(&f[0], "streamtype"), "data");
        CHECK_EQ_STR(spdy_frame_header(&f[0], "port"), "8080");
        CHECK_EQ_STR(spdy_frame_header(&f[0], "requestid"), "0");
        CHECK(spdy_frame_header(&f[0], "nope") == NULL);
        CHECK_EQ_INT(f[1].stream_id, 3);
        CHECK_EQ_INT(f[1].flags, SPDY_FLAG_FIN);
        CHECK_EQ_STR(spdy_frame_header(&f[1], "streamtype"), "error");
        CHECK_EQ_INT(f[2].type, SPDY_SYN_REPLY);
        CHECK_EQ_INT(f[2].n_headers, 0);
        CHECK_EQ_INT(f[3].type, SPDY_DATA);
        CHECK_EQ_INT(f[3].len, 5);
        CHECK(!memcmp(f[3].data, "hello", 5));
        CHECK_EQ_INT(f[3].flags, SPDY_FLAG_FIN);
        CHECK_EQ_INT(f[4].type, SPDY_PING);
        CHECK_EQ_INT(f[4].value, 7);
        CHECK_EQ_INT(f[5].type, SPDY_RST_STREAM);
        CHECK_EQ_INT(f[5].value, SPDY_RST_CANCEL);
        CHECK_EQ_INT(f[6].type, SPDY_GOAWAY);
        CHECK_EQ_INT(f[6].stream_id, 3);
        CHECK_EQ_INT(f[7].type, SPDY_WINDOW_UPDATE);
        CHECK_EQ_INT(f[7].value, 65536);
        for (int i = 0; i < 8; i++)
                spdy_frame_clear(&f[i]);
        spdy_buf_free(&b);
        spdy_codec_free(tx);
        spdy_codec_free(rx);
}

TEST(incremental_bytes)
{
        struct spdy_codec *tx = spdy_codec_new(), *rx = spdy_codec_new();
        struct spdy_buf b = {0};
        const char *n[] = {"streamtype"};
        const char *v[] = {"stdout"};
        spdy_put_syn_stream(tx, &b, 5, 0, n, v, 1);
        /* every prefix is "need more" */
        for (size_t i = 0; i < b.len; i++) {
                struct spdy_frame f;
                size_t used = 1;
                CHECK_EQ_INT(spdy_frame_parse(rx, b.p, i, &f, &used, NULL), 0);
                CHECK_EQ_INT(used, 0);
        }
        struct spdy_frame f;
        size_t used = 0;
        CHECK_EQ_INT(spdy_frame_parse(rx, b.p, b.len, &f, &used, NULL), 0);
        CHECK_EQ_INT(used, b.len);
        CHECK_EQ_STR(spdy_frame_header(&f, "streamtype"), "stdout");
        spdy_frame_clear(&f);
        spdy_buf_free(&b);
        spdy_codec_free(tx);
        spdy_codec_free(rx);
}

TEST(compression_continues_across_frames)
{
        struct spdy_codec *tx = spdy_codec_new(), *rx = spdy_codec_new();
        struct spdy_buf b = {0};
        const char *n[] = {"streamtype", "port", "requestid"};
        const char *v[] = {"data", "80", "1"};
        for (uint32_t id = 1; id < 40; id += 2)
                spdy_put_syn_stream(tx, &b, id, 0, n, v, 3);
        struct spdy_frame f[20];
        CHECK_EQ_INT(parse_all(rx, &b, f, 20), 20);
        CHECK_EQ_STR(spdy_frame_header(&f[19], "port"), "80");
        CHECK_EQ_INT(f[19].stream_id, 39);
        for (int i = 0; i < 20; i++)
                spdy_frame_clear(&f[i]);
        spdy_buf_free(&b);
        spdy_codec_free(tx);
        spdy_codec_free(rx);
}

/* A SYN_STREAM compressed independently: Python's zlib at level 9 with the SPDY/3 dictionary
 * from moby/spdystream (what Go's framer uses: zlib.NewWriterLevelDict(BestCompression, dict)).
 * The zlib header names the dictionary by its Adler-32 (0xe3c6a7c2): a wrong table fails. */
static const uint8_t go_syn[] = {
        0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3d, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2, 0x02, 0x25, 0x3a, 0x70,
        0x3a, 0x2b, 0x29, 0x4a, 0x4d, 0xcc, 0x85, 0x16, 0x25, 0xac, 0xa9, 0xa0, 0x80, 0x86,
        0x14, 0xcb, 0x45, 0xe0, 0x1c, 0x60, 0x61, 0x60, 0x61, 0x00, 0xa4, 0x39, 0x8b, 0x20,
        0xd1, 0x98, 0x09, 0x4a, 0xde, 0x8c, 0x06, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff};

TEST(independent_compressor)
{
        struct spdy_codec *c = spdy_codec_new();
        struct spdy_frame f;
        size_t used = 0;
        CHECK_EQ_INT(spdy_frame_parse(c, go_syn, sizeof(go_syn), &f, &used, NULL), 0);
        CHECK_EQ_INT(used, sizeof(go_syn));
        CHECK_EQ_INT(f.type, SPDY_SYN_STREAM);
        CHECK_EQ_INT(f.stream_id, 1);
        CHECK_EQ_STR(spdy_frame_header(&f, "streamtype"), "error");
        CHECK_EQ_STR(spdy_frame_header(&f, "port"), "8080");
        CHECK_EQ_STR(spdy_frame_header(&f, "requestid"), "0");
        spdy_frame_clear(&f);
        spdy_codec_free(c);
        /* and our deflate stream names the same dictionary */
        struct spdy_codec *tx = spdy_codec_new();
        struct spdy_buf b = {0};
        const char *n[] = {"a"}, *v[] = {"b"};
        spdy_put_syn_reply(tx, &b, 1, 0, n, v, 1);
        CHECK(b.len > 18);
        CHECK(b.p[12] == 0x78 && b.p[14] == 0xe3 && b.p[15] == 0xc6 && b.p[16] == 0xa7 &&
              b.p[17] == 0xc2);
        spdy_buf_free(&b);
        spdy_codec_free(tx);
}

TEST(malformed)
{
        struct spdy_codec *c = spdy_codec_new();
        struct spdy_frame f;
        size_t used;
        /* version 2 */
        uint8_t v2[] = {0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1};
        CHECK_EQ_INT(spdy_frame_parse(c, v2, sizeof(v2), &f, &used, NULL), -EPROTO);
        /* PING with a bad length */
        uint8_t ping[] = {0x80, 3, 0, 6, 0, 0, 0, 3, 0, 0, 1};
        CHECK_EQ_INT(spdy_frame_parse(c, ping, sizeof(ping), &f, &used, NULL), -EPROTO);
        /* SYN_STREAM with garbage instead of zlib */
        uint8_t syn[] = {0x80, 3, 0, 1, 0, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
        CHECK_EQ_INT(spdy_frame_parse(c, syn, sizeof(syn), &f, &used, NULL), -EPROTO);
        spdy_codec_free(c);
        /* unknown control types are skipped */
        c = spdy_codec_new();
        uint8_t unk[] = {0x80, 3, 0, 0x42, 0, 0, 0, 2, 9, 9};
        CHECK_EQ_INT(spdy_frame_parse(c, unk, sizeof(unk), &f, &used, NULL), 0);
        CHECK_EQ_INT(used, sizeof(unk));
        spdy_frame_clear(&f);
        spdy_codec_free(c);
}

TEST(too_many_headers)
{
        struct spdy_codec *tx = spdy_codec_new(), *rx = spdy_codec_new();
        struct spdy_buf b = {0};
        const char *n[SPDY_MAX_HEADERS + 1], *v[SPDY_MAX_HEADERS + 1];
        for (int i = 0; i <= SPDY_MAX_HEADERS; i++) {
                n[i] = "x";
                v[i] = "y";
        }
        spdy_put_syn_stream(tx, &b, 1, 0, n, v, SPDY_MAX_HEADERS + 1);
        struct spdy_frame f;
        size_t used;
        CHECK_EQ_INT(spdy_frame_parse(rx, b.p, b.len, &f, &used, NULL), -E2BIG);
        spdy_buf_free(&b);
        spdy_codec_free(tx);
        spdy_codec_free(rx);
}

TEST(big_data_split)
{
        struct spdy_buf b = {0};
        size_t n = SPDY_MAX_FRAME + 10;
        char *d = calloc(1, n);
        spdy_put_data(&b, 1, SPDY_FLAG_FIN, d, n);
        CHECK_EQ_INT(b.len, n + 16);
        CHECK_EQ_INT(b.p[4], 0);                      /* no FIN on the first piece */
        CHECK_EQ_INT(b.p[8 + SPDY_MAX_FRAME + 4], 1); /* FIN on the last */
        free(d);
        spdy_buf_free(&b);
}

int main(void)
{
        RUN(roundtrip_control_and_data);
        RUN(incremental_bytes);
        RUN(compression_continues_across_frames);
        RUN(independent_compressor);
        RUN(malformed);
        RUN(too_many_headers);
        RUN(big_data_split);
        return harness_done();
}
