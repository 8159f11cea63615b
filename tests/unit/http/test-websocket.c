/* test-websocket.c — WebSocket upgrade on the server adapter over loopback plain HTTP, with a
 * minimal RFC 6455 client: handshake, greeting, echo (small and 1 MiB), deferred close after
 * data, peer disconnect, server stop, non-handshake fallback. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "harness.h"
#include "http/server.h"
#include "http/websocket.h"

static struct http_server *srv;
static pthread_t srv_thread;
static int port;
static atomic_int n_closed, n_open;

/* h2o 2.2.5's per-thread free-memory caches are lost when a loop thread exits (see
 * test-server.c). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
        return "leak:h2o_mem_alloc_recycle\n";
}

/* ---- server: v5.channel.k8s.io-like echo: ch0 -> ch1; "\xff\x00" = stdin closed ---- */

static void on_msg(void *ud, int opcode, const uint8_t *data, size_t len)
{
        struct http_ws *ws = ud;
        if (len >= 1 && data[0] == 0) {
                uint8_t *o = malloc(len);
                memcpy(o, data, len);
                o[0] = 1;
                http_ws_send(ws, HTTP_WS_BINARY, o, len);
                free(o);
        } else if (len >= 2 && data[0] == 255 && data[1] == 0) {
                static const char st[] = "\x03{\"status\":\"Success\"}";
                http_ws_send(ws, HTTP_WS_BINARY, st, sizeof(st) - 1);
                http_ws_close(ws, 1000, "bye");
        }
}

static void on_close(void *ud)
{
        atomic_fetch_add(&n_closed, 1);
        atomic_fetch_sub(&n_open, 1);
}

/* userdata must be the ws itself: accept with a placeholder, then fix it up */
struct slot {
        struct http_ws *ws;
};
static void on_msg_slot(void *ud, int opcode, const uint8_t *data, size_t len)
{
        on_msg(((struct slot *)ud)->ws, opcode, data, len);
}
static void on_close_slot(void *ud)
{
        on_close(ud);
        free(ud);
}

static void handler(struct http_req *r, void *ud)
{
        if (strcmp(http_req_path(r), "/ws") != 0 || !http_req_is_websocket(r)) {
                http_req_respond(r, 400, "text/plain", "need websocket", 14);
                return;
        }
        struct slot *sl = calloc(1, sizeof(*sl));
        atomic_fetch_add(&n_open, 1);
        sl->ws = http_req_websocket_accept(r, "v5.channel.k8s.io", on_msg_slot, on_close_slot, sl);
        static const char greet[] = "\x01hello";
        http_ws_send(sl->ws, HTTP_WS_BINARY, greet, sizeof(greet) - 1);
}

static void *srv_main(void *ud)
{
        http_server_run(ud);
        return NULL;
}

/* ---- client ---- */

static int connect_srv(void)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct timeval tv = {.tv_sec = 5};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static bool read_full(int fd, void *buf, size_t len)
{
        size_t off = 0;
        while (off < len) {
                ssize_t n = read(fd, (char *)buf + off, len - off);
                if (n <= 0)
                        return false;
                off += (size_t)n;
        }
        return true;
}

static bool write_full(int fd, const void *buf, size_t len)
{
        size_t off = 0;
        while (off < len) {
                ssize_t n = write(fd, (const char *)buf + off, len - off);
                if (n <= 0)
                        return false;
                off += (size_t)n;
        }
        return true;
}

/* Returns the response head (static buffer) or NULL. */
static const char *handshake(int fd, const char *path)
{
        static char head[2048];
        char req[512];
        size_t off = 0;
        int n = snprintf(
                req, sizeof(req),
                "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n"
                "\r\n",
                path);
        if (!write_full(fd, req, (size_t)n))
                return NULL;
        while (off < sizeof(head) - 1) { /* byte by byte: do not eat frame bytes */
                if (read(fd, head + off, 1) != 1)
                        return NULL;
                off++;
                head[off] = 0;
                if (off >= 4 && memcmp(head + off - 4, "\r\n\r\n", 4) == 0)
                        return head;
        }
        return NULL;
}

static bool send_frame(int fd, int opcode, const void *data, size_t len)
{
        uint8_t hdr[14], mask[4] = {0x12, 0x34, 0x56, 0x78};
        size_t h = 0;
        hdr[h++] = (uint8_t)(0x80 | opcode);
        if (len < 126) {
                hdr[h++] = (uint8_t)(0x80 | len);
        } else if (len < 65536) {
                hdr[h++] = 0x80 | 126;
                hdr[h++] = (uint8_t)(len >> 8);
                hdr[h++] = (uint8_t)len;
        } else {
                hdr[h++] = 0x80 | 127;
                for (int i = 7; i >= 0; i--)
                        hdr[h++] = (uint8_t)((uint64_t)len >> (8 * i));
        }
        memcpy(hdr + h, mask, 4);
        h += 4;
        uint8_t *p = malloc(len + h);
        memcpy(p, hdr, h);
        for (size_t i = 0; i < len; i++)
                p[h + i] = ((const uint8_t *)data)[i] ^ mask[i % 4];
        bool ok = write_full(fd, p, h + len);
        free(p);
        return ok;
}

/* Reads one frame; returns opcode or -1; *ret is malloc'd. */
static int recv_frame(int fd, uint8_t **ret, size_t *ret_len)
{
        uint8_t h[2], ext[8];
        uint64_t len;
        if (!read_full(fd, h, 2))
                return -1;
        len = h[1] & 0x7f;
        if (len == 126) {
                if (!read_full(fd, ext, 2))
                        return -1;
                len = (uint64_t)ext[0] << 8 | ext[1];
        } else if (len == 127) {
                if (!read_full(fd, ext, 8))
                        return -1;
                len = 0;
                for (int i = 0; i < 8; i++)
                        len = len << 8 | ext[i];
        }
        if (h[1] & 0x80 || len > (64u << 20))
                return -1; /* servers never mask */
        *ret = malloc(len + 1);
        if (!read_full(fd, *ret, len)) {
                free(*ret);
                return -1;
        }
        (*ret)[len] = 0;
        *ret_len = len;
        return h[0] & 0x0f;
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool wait_for(atomic_int *v, int want, int ms)
{
        uint64_t end = now_ms() + (uint64_t)ms;
        while (atomic_load(v) != want && now_ms() < end)
                usleep(5000);
        return atomic_load(v) == want;
}

/* ---- tests ---- */

TEST(handshake_echo_close)
{
        int fd = connect_srv(), closed = atomic_load(&n_closed);
        uint8_t *m = NULL;
        size_t len = 0;
        CHECK(fd >= 0);
        if (fd < 0)
                return;
        const char *head = handshake(fd, "/ws");
        CHECK(head != NULL);
        if (!head)
                goto out;
        CHECK(strncmp(head, "HTTP/1.1 101", 12) == 0);
        CHECK(strcasestr(head, "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != NULL);
        CHECK(strcasestr(head, "sec-websocket-protocol: v5.channel.k8s.io") != NULL);

        CHECK_EQ_INT(recv_frame(fd, &m, &len), 2);
        CHECK(len == 6 && memcmp(m, "\x01hello", 6) == 0);
        free(m);

        CHECK(send_frame(fd, 2, "\x00ping", 5));
        CHECK_EQ_INT(recv_frame(fd, &m, &len), 2);
        CHECK(len == 5 && memcmp(m, "\x01ping", 5) == 0);
        free(m);

        /* 1 MiB through the queue (several socket writes) */
        size_t big = 1 << 20;
        uint8_t *b = malloc(big);
        for (size_t i = 0; i < big; i++)
                b[i] = (uint8_t)(i * 7);
        b[0] = 0;
        CHECK(send_frame(fd, 2, b, big));
        CHECK_EQ_INT(recv_frame(fd, &m, &len), 2);
        CHECK_EQ_INT(len, big);
        CHECK(len == big && m[0] == 1 && memcmp(m + 1, b + 1, big - 1) == 0);
        free(m);
        free(b);

        /* stdin closed: status message, then (after it) the close frame */
        CHECK(send_frame(fd, 2, "\xff\x00", 2));
        CHECK_EQ_INT(recv_frame(fd, &m, &len), 2);
        CHECK(len > 1 && m[0] == 3);
        free(m);
        CHECK_EQ_INT(recv_frame(fd, &m, &len), 8);
        CHECK(len >= 2 && m[0] == 0x03 && m[1] == 0xe8); /* 1000 */
        free(m);
        CHECK(send_frame(fd, 8, "\x03\xe8", 2));
        CHECK(wait_for(&n_closed, closed + 1, 2000));
out:
        close(fd);
}

TEST(peer_disconnect)
{
        int fd = connect_srv(), closed = atomic_load(&n_closed);
        uint8_t *m = NULL;
        size_t len;
        CHECK(fd >= 0 && handshake(fd, "/ws") != NULL);
        CHECK_EQ_INT(recv_frame(fd, &m, &len), 2);
        free(m);
        close(fd);
        CHECK(wait_for(&n_closed, closed + 1, 2000));
}

TEST(not_a_handshake)
{
        int fd = connect_srv();
        char buf[256] = "";
        const char req[] = "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        CHECK(write_full(fd, req, sizeof(req) - 1));
        CHECK(read(fd, buf, sizeof(buf) - 1) > 0);
        CHECK(strncmp(buf, "HTTP/1.1 400", 12) == 0);
        close(fd);
}

TEST(stop_closes_websockets)
{
        int fd = connect_srv(), closed = atomic_load(&n_closed);
        uint8_t *m = NULL;
        size_t len;
        CHECK(fd >= 0 && handshake(fd, "/ws") != NULL);
        CHECK_EQ_INT(recv_frame(fd, &m, &len), 2);
        free(m);
        CHECK(wait_for(&n_open, 1, 1000));
        http_server_stop(srv);
        pthread_join(srv_thread, NULL);
        CHECK_EQ_INT(atomic_load(&n_closed), closed + 1);
        CHECK_EQ_INT(atomic_load(&n_open), 0);
        /* the client sees the connection end */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        CHECK(poll(&p, 1, 2000) == 1);
        char c;
        CHECK(read(fd, &c, 1) <= 0);
        close(fd);
        http_server_free(srv);
        srv = NULL;
}

int main(void)
{
        struct http_server_config cfg = {.bind_address = "127.0.0.1"};
        struct error err = {0};

        if (http_server_new(&cfg, handler, NULL, &srv, &err) < 0) {
                printf("# %s\n", err.msg);
                return 1;
        }
        port = http_server_port(srv);
        pthread_create(&srv_thread, NULL, srv_main, srv);
        RUN(handshake_echo_close);
        RUN(peer_disconnect);
        RUN(not_a_handshake);
        RUN(stop_closes_websockets);
        if (srv) {
                http_server_stop(srv);
                pthread_join(srv_thread, NULL);
                http_server_free(srv);
        }
        return harness_done();
}
