/* test-upgrade.c — raw upgraded connections and fds on the server adapter's loop (plain HTTP on
 * loopback): 101 with our headers, bytes that follow the request in the same packet, echo,
 * pause/resume (buffered bytes delivered on resume), close after the data (the peer gets all of
 * it, then EOF), header accessors (Upgrade, repeated headers joined), a pipe driven as a raw fd,
 * and server stop closing what is still open. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "http/server.h"
#include "http/upgrade.h"

static struct http_server *srv;
static pthread_t srv_thread;
static int port;
static atomic_int n_closed;

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
        return "leak:h2o_mem_alloc_recycle\n";
}

struct echo {
        struct http_raw *raw;
        bool paused_once;
};

static void resume(void *ud)
{
        struct echo *e = ud;
        http_raw_pause(e->raw, false);
}

/* echo; "P" pauses for 200 ms (what arrives meanwhile must come later, whole); a read holding
 * "Q" closes after a 100000-byte answer */
static void on_data(void *ud, const uint8_t *d, size_t n)
{
        struct echo *e = ud;
        if (n == 1 && d[0] == 'P' && !e->paused_once) {
                e->paused_once = true;
                http_raw_pause(e->raw, true);
                http_server_add_timer(srv, 200, resume, e);
                http_raw_write(e->raw, "p", 1);
                return;
        }
        if (memchr(d, 'Q', n)) { /* what follows "Q" in the same read is dropped */
                char *big = malloc(100000);
                memset(big, 'x', 100000);
                http_raw_write(e->raw, big, 100000);
                free(big);
                http_raw_close(e->raw);
                return;
        }
        http_raw_write(e->raw, d, n);
}

static void on_close(void *ud)
{
        free(ud);
        atomic_fetch_add(&n_closed, 1);
}

struct pipe_test {
        int fds[2];
        struct http_raw *raw;
};

static void pipe_data(void *ud, const uint8_t *d, size_t n)
{
        (void)ud;
        (void)d;
        (void)n;
}

static void pipe_closed(void *ud)
{
        atomic_fetch_add(&n_closed, 100);
}

static void handler(struct http_req *r, void *ud)
{
        const char *p = http_req_path(r);
        if (!strcmp(p, "/hdr")) {
                const char *v = http_req_header_all(r, "x-stream-protocol-version");
                const char *u = http_req_upgrade_header(r);
                char buf[512];
                snprintf(buf, sizeof(buf), "%s|%s", v ? v : "(null)", u ? u : "(null)");
                http_req_respond(r, 200, "text/plain", buf, strlen(buf));
                return;
        }
        struct echo *e = calloc(1, sizeof(*e));
        const char *hdrs[] = {"Upgrade", "SPDY/3.1", "X-Stream-Protocol-Version",
                              "v4.channel.k8s.io", NULL};
        e->raw = http_req_upgrade(r, hdrs, on_data, on_close, e);
        if (!e->raw) {
                free(e);
                http_req_respond(r, 400, "text/plain", "no", 2);
        }
}

static void *srv_main(void *ud)
{
        http_server_run(ud);
        return NULL;
}

static int dial(void)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* read until the buffer holds `want` bytes, EOF, or 5 s; returns bytes read (-1 on error) */
static ssize_t read_n(int fd, char *buf, size_t want, bool *eof)
{
        size_t got = 0;
        *eof = false;
        while (got < want) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, 5000) <= 0)
                        break;
                ssize_t n = read(fd, buf + got, want - got);
                if (n == 0) {
                        *eof = true;
                        break;
                }
                if (n < 0)
                        return -1;
                got += (size_t)n;
        }
        return (ssize_t)got;
}

static ssize_t read_head(int fd, char *buf, size_t size)
{
        size_t got = 0;
        while (got + 1 < size) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, 5000) <= 0)
                        break;
                ssize_t n = read(fd, buf + got, 1);
                if (n <= 0)
                        break;
                got++;
                buf[got] = '\0';
                if (got >= 4 && !memcmp(buf + got - 4, "\r\n\r\n", 4))
                        return (ssize_t)got;
        }
        buf[got] = '\0';
        return -1;
}

static const char req[] = "POST /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                          "Upgrade: SPDY/3.1\r\nContent-Length: 0\r\n\r\n";

TEST(upgrade_echo_and_early_bytes)
{
        int fd = dial();
        CHECK(fd >= 0);
        /* the request and the first bytes of the new protocol in one write */
        char first[sizeof(req) + 5];
        memcpy(first, req, sizeof(req) - 1);
        memcpy(first + sizeof(req) - 1, "early", 5);
        CHECK_EQ_INT(write(fd, first, sizeof(first) - 1), (long)sizeof(first) - 1);
        char head[2048];
        CHECK(read_head(fd, head, sizeof(head)) > 0);
        CHECK(!strncmp(head, "HTTP/1.1 101 ", 13));
        CHECK(strcasestr(head, "\r\nupgrade: SPDY/3.1\r\n") != NULL);
        CHECK(strcasestr(head, "\r\nconnection: upgrade\r\n") != NULL);
        CHECK(strcasestr(head, "\r\nx-stream-protocol-version: v4.channel.k8s.io\r\n") != NULL);
        char buf[64];
        bool eof;
        CHECK_EQ_INT(read_n(fd, buf, 5, &eof), 5);
        CHECK(!memcmp(buf, "early", 5));
        CHECK_EQ_INT(write(fd, "hello", 5), 5);
        CHECK_EQ_INT(read_n(fd, buf, 5, &eof), 5);
        CHECK(!memcmp(buf, "hello", 5));
        /* pause: bytes sent meanwhile arrive after the resume, none lost */
        CHECK_EQ_INT(write(fd, "P", 1), 1);
        CHECK_EQ_INT(read_n(fd, buf, 1, &eof), 1);
        CHECK_EQ_INT(buf[0], 'p');
        usleep(20000);
        CHECK_EQ_INT(write(fd, "abc", 3), 3);
        CHECK_EQ_INT(read_n(fd, buf, 3, &eof), 3);
        CHECK(!memcmp(buf, "abc", 3));
        /* close after data: all 100000 bytes, then EOF, even though we keep sending */
        int before = atomic_load(&n_closed);
        CHECK_EQ_INT(write(fd, "Q", 1), 1);
        CHECK_EQ_INT(write(fd, "more input the server will not read", 35), 35);
        char *big = malloc(100001);
        CHECK_EQ_INT(read_n(fd, big, 100001, &eof), 100000);
        CHECK(eof);
        CHECK(big[0] == 'x' && big[99999] == 'x');
        free(big);
        close(fd);
        for (int i = 0; i < 100 && atomic_load(&n_closed) == before; i++)
                usleep(10000);
        CHECK_EQ_INT(atomic_load(&n_closed), before + 1);
}

TEST(header_accessors)
{
        int fd = dial();
        static const char r[] = "GET /hdr HTTP/1.1\r\nHost: x\r\n"
                                "X-Stream-Protocol-Version: v5.channel.k8s.io\r\n"
                                "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
                                "Connection: close\r\n\r\n";
        CHECK_EQ_INT(write(fd, r, sizeof(r) - 1), (long)sizeof(r) - 1);
        char buf[4096];
        bool eof;
        ssize_t n = read_n(fd, buf, sizeof(buf) - 1, &eof);
        CHECK(n > 0);
        buf[n > 0 ? n : 0] = '\0';
        CHECK(strstr(buf, "\r\n\r\nv5.channel.k8s.io, v4.channel.k8s.io|(null)") != NULL);
        close(fd);
}

static void make_pipe_raw(void *ud)
{
        struct pipe_test *t = ud;
        t->raw = http_raw_from_fd(srv, t->fds[0], pipe_data, pipe_closed, t);
}

TEST(pipe_raw_eof)
{
        struct pipe_test t;
        CHECK_EQ_INT(pipe(t.fds), 0);
        int before = atomic_load(&n_closed);
        http_server_post(srv, make_pipe_raw, &t);
        CHECK_EQ_INT(write(t.fds[1], "x", 1), 1);
        close(t.fds[1]); /* EOF: on_close runs once */
        for (int i = 0; i < 200 && atomic_load(&n_closed) == before; i++)
                usleep(10000);
        CHECK_EQ_INT(atomic_load(&n_closed), before + 100);
}

TEST(stop_closes_open_connections)
{
        int fd = dial();
        CHECK_EQ_INT(write(fd, req, sizeof(req) - 1), (long)sizeof(req) - 1);
        char head[2048];
        CHECK(read_head(fd, head, sizeof(head)) > 0);
        int before = atomic_load(&n_closed);
        http_server_stop(srv);
        pthread_join(srv_thread, NULL);
        http_server_free(srv);
        srv = NULL;
        CHECK_EQ_INT(atomic_load(&n_closed), before + 1);
        bool eof;
        char buf[8];
        read_n(fd, buf, sizeof(buf), &eof);
        CHECK(eof);
        close(fd);
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
        RUN(upgrade_echo_and_early_bytes);
        RUN(header_accessors);
        RUN(pipe_raw_eof);
        RUN(stop_closes_open_connections);
        if (srv) {
                http_server_stop(srv);
                pthread_join(srv_thread, NULL);
                http_server_free(srv);
        }
        return harness_done();
}
