/* spdy.h — SPDY/3.1 framing (the subset Kubernetes' streaming uses: SYN_STREAM, SYN_REPLY,
 * RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE, DATA) with the zlib header-block
 * compression and the SPDY/3 dictionary. A pure codec: no I/O, no threads.
 *
 * One struct spdy_codec per connection: it holds the two zlib streams (inflate for what the peer
 * sends, deflate for what we send), which are continuous across the whole connection.
 * Caps: a frame's payload is at most SPDY_MAX_FRAME bytes (the 24-bit length field), a decoded
 * header block at most SPDY_MAX_HEADER_BLOCK bytes and SPDY_MAX_HEADERS pairs; beyond them the
 * parse fails with -E2BIG. Malformed input fails with -EPROTO. After an error the codec's
 * inflate state is undefined: drop the connection. */
#pragma once
#include "common/base.h"
#include "common/error.h"

#define SPDY_MAX_FRAME ((1u << 24) - 1)
#define SPDY_MAX_HEADER_BLOCK (256u << 10)
#define SPDY_MAX_HEADERS 256

enum spdy_type {
        SPDY_DATA = 0, /* not a control frame */
        SPDY_SYN_STREAM = 1,
        SPDY_SYN_REPLY = 2,
        SPDY_RST_STREAM = 3,
        SPDY_SETTINGS = 4,
        SPDY_PING = 6,
        SPDY_GOAWAY = 7,
        SPDY_HEADERS = 8,
        SPDY_WINDOW_UPDATE = 9,
};

enum { SPDY_FLAG_FIN = 0x01, SPDY_FLAG_UNIDIRECTIONAL = 0x02 };

/* RST_STREAM status codes used here */
enum {
        SPDY_RST_PROTOCOL_ERROR = 1,
        SPDY_RST_INVALID_STREAM = 2,
        SPDY_RST_REFUSED_STREAM = 3,
        SPDY_RST_CANCEL = 5,
        SPDY_RST_INTERNAL_ERROR = 6
};

struct spdy_header {
        char *name;  /* lower case (as SPDY/3 requires) */
        char *value; /* multiple values are NUL-separated in SPDY; kept as one string up to the
                        first NUL */
};

struct spdy_frame {
        enum spdy_type type;
        uint8_t flags;
        uint32_t stream_id;  /* DATA, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE,
                                GOAWAY (last good stream id) */
        uint32_t value;      /* RST_STREAM/GOAWAY status, PING id, WINDOW_UPDATE delta,
                                SYN_STREAM associated stream id */
        uint16_t version;    /* control frames: the version field (3) */
        const uint8_t *data; /* DATA payload, borrowed from the parse input */
        size_t len;
        struct spdy_header *headers; /* SYN_STREAM, SYN_REPLY, HEADERS (owned; spdy_frame_clear) */
        size_t n_headers;
};

struct spdy_buf {
        uint8_t *p;
        size_t len, cap;
};

struct spdy_codec;

struct spdy_codec *spdy_codec_new(void);
void spdy_codec_free(struct spdy_codec *c);

/* Parse one frame at the start of buf[0..len). Returns 0 and *ret_used = 0 if more bytes are
 * needed, 0 with *ret_used > 0 and *ret filled for a complete frame (clear it with
 * spdy_frame_clear), -EPROTO for malformed input (unknown control frame types are returned with
 * their type and no payload decoding, as the spec says to ignore them), -E2BIG over a cap. */
int spdy_frame_parse(struct spdy_codec *c, const uint8_t *buf, size_t len, struct spdy_frame *ret,
                     size_t *ret_used, struct error *err);
void spdy_frame_clear(struct spdy_frame *f);
/* The value of header name (lower case) or NULL; borrowed from f. */
const char *spdy_frame_header(const struct spdy_frame *f, const char *name);

/* Encoders: append one frame to out. names/values are n pairs; names must be lower case. */
void spdy_put_syn_stream(struct spdy_codec *c, struct spdy_buf *out, uint32_t id, uint8_t flags,
                         const char *const *names, const char *const *values, size_t n);
void spdy_put_syn_reply(struct spdy_codec *c, struct spdy_buf *out, uint32_t id, uint8_t flags,
                        const char *const *names, const char *const *values, size_t n);
void spdy_put_data(struct spdy_buf *out, uint32_t id, uint8_t flags, const void *data, size_t len);
void spdy_put_rst(struct spdy_buf *out, uint32_t id, uint32_t status);
void spdy_put_ping(struct spdy_buf *out, uint32_t ping_id);
void spdy_put_goaway(struct spdy_buf *out, uint32_t last_good_id, uint32_t status);
void spdy_put_window_update(struct spdy_buf *out, uint32_t id, uint32_t delta);

void spdy_buf_append(struct spdy_buf *b, const void *data, size_t len);
/* Drop the first n bytes. */
void spdy_buf_consume(struct spdy_buf *b, size_t n);
void spdy_buf_free(struct spdy_buf *b);
