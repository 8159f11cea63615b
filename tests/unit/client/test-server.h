/* test-server.h — a tiny scripted HTTP/1.1 server for the client tests: plain sockets on
 * 127.0.0.1, an ephemeral port, keep-alive, one thread per connection. The test supplies a
 * handler that answers each request with ts_respond() or ts_chunk_*(), and returns false to
 * close the connection (true to keep it alive). */
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TS_MAX_CONNS 64
#define TS_MAX_REQ (1 << 20)

struct ts_req {
        char method[16];
        char path[4096]; /* with query */
        char content_type[256];
        char auth[256];
        char *body;
        size_t body_len;
        int fd;
        int conn_no; /* 1-based connection counter */
};

struct ts_server;
typedef bool (*ts_handler_fn)(struct ts_server *s, struct ts_req *r);

struct ts_server {
        int lfd;
        int port;
        atomic_bool stop;
        ts_handler_fn fn;
        void *ud;
        pthread_t acceptor;
        pthread_t conns[TS_MAX_CONNS];
        int conn_fds[TS_MAX_CONNS];
        atomic_int n_conns;
        atomic_int n_reqs;
};

struct ts_conn_arg {
        struct ts_server *s;
        int fd;
        int no;
};

static inline void ts_write(int fd, const char *data, size_t len)
{
        while (len > 0) {
                ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
                if (n <= 0)
                        return;
                data += n;
                len -= (size_t)n;
        }
}

static inline void ts_respond(struct ts_req *r, int status, const char *body)
{
        char hdr[512];
        size_t len = body ? strlen(body) : 0;
        int n = snprintf(hdr, sizeof(hdr),
                         "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n\r\n",
                         status, len);
        ts_write(r->fd, hdr, (size_t)n);
        if (len)
                ts_write(r->fd, body, len);
}

static inline void ts_chunk_start(struct ts_req *r, int status)
{
        char hdr[256];
        int n = snprintf(hdr, sizeof(hdr),
                         "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n",
                         status);
        ts_write(r->fd, hdr, (size_t)n);
}

static inline void ts_chunk_n(struct ts_req *r, const char *data, size_t len)
{
        char hdr[32];
        int n = snprintf(hdr, sizeof(hdr), "%zx\r\n", len);
        ts_write(r->fd, hdr, (size_t)n);
        ts_write(r->fd, data, len);
        ts_write(r->fd, "\r\n", 2);
}

static inline void ts_chunk(struct ts_req *r, const char *data)
{
        ts_chunk_n(r, data, strlen(data));
}

static inline void ts_chunk_end(struct ts_req *r)
{
        ts_write(r->fd, "0\r\n\r\n", 5);
}

/* Sleep up to ms, returning early when the server stops. */
static inline void ts_sleep(struct ts_server *s, int ms)
{
        for (int t = 0; t < ms && !atomic_load(&s->stop); t += 10)
                usleep(10000);
}

/* Read one request; false on EOF/stop/garbage. */
static bool ts_read_req(struct ts_server *s, int fd, char *buf, size_t *have, struct ts_req *r)
{
        for (;;) {
                char *end = memmem(buf, *have, "\r\n\r\n", 4);
                if (end) {
                        size_t hlen = (size_t)(end - buf) + 4, clen = 0;
                        char *line, *save = NULL;
                        char hdrs[65536];
                        memcpy(hdrs, buf, hlen - 2);
                        hdrs[hlen - 2] = 0;
                        memset(r, 0, sizeof(*r));
                        line = strtok_r(hdrs, "\r\n", &save);
                        if (!line || sscanf(line, "%15s %4095s", r->method, r->path) != 2)
                                return false;
                        while ((line = strtok_r(NULL, "\r\n", &save))) {
                                if (strncasecmp(line, "Content-Length:", 15) == 0)
                                        clen = strtoul(line + 15, NULL, 10);
                                else if (strncasecmp(line, "Content-Type:", 13) == 0)
                                        snprintf(r->content_type, sizeof(r->content_type), "%s",
                                                 line + 14);
                                else if (strncasecmp(line, "Authorization:", 14) == 0)
                                        snprintf(r->auth, sizeof(r->auth), "%s", line + 15);
                        }
                        if (clen > TS_MAX_REQ - hlen)
                                return false;
                        while (*have < hlen + clen) {
                                struct pollfd p = {.fd = fd, .events = POLLIN};
                                ssize_t n;
                                if (atomic_load(&s->stop))
                                        return false;
                                if (poll(&p, 1, 50) <= 0)
                                        continue;
                                n = recv(fd, buf + *have, TS_MAX_REQ - *have, 0);
                                if (n <= 0)
                                        return false;
                                *have += (size_t)n;
                        }
                        r->body = malloc(clen + 1);
                        memcpy(r->body, buf + hlen, clen);
                        r->body[clen] = 0;
                        r->body_len = clen;
                        memmove(buf, buf + hlen + clen, *have - hlen - clen);
                        *have -= hlen + clen;
                        return true;
                }
                struct pollfd p = {.fd = fd, .events = POLLIN};
                ssize_t n;
                if (atomic_load(&s->stop) || *have >= TS_MAX_REQ)
                        return false;
                if (poll(&p, 1, 50) <= 0)
                        continue;
                n = recv(fd, buf + *have, TS_MAX_REQ - *have, 0);
                if (n <= 0)
                        return false;
                *have += (size_t)n;
        }
}

static void *ts_conn_thread(void *arg)
{
        struct ts_conn_arg a = *(struct ts_conn_arg *)arg;
        char *buf = malloc(TS_MAX_REQ);
        size_t have = 0;
        struct ts_req r;

        free(arg);
        while (ts_read_req(a.s, a.fd, buf, &have, &r)) {
                bool keep;
                r.fd = a.fd;
                r.conn_no = a.no;
                atomic_fetch_add(&a.s->n_reqs, 1);
                keep = a.s->fn(a.s, &r);
                free(r.body);
                if (!keep)
                        break;
        }
        free(buf);
        /* Abortive close: a dropped stream looks like a broken connection to the client. */
        shutdown(a.fd, SHUT_RDWR);
        return NULL;
}

static void *ts_accept_thread(void *arg)
{
        struct ts_server *s = arg;

        while (!atomic_load(&s->stop)) {
                struct pollfd p = {.fd = s->lfd, .events = POLLIN};
                struct ts_conn_arg *a;
                int fd, no;
                if (poll(&p, 1, 50) <= 0)
                        continue;
                fd = accept(s->lfd, NULL, NULL);
                if (fd < 0)
                        continue;
                no = atomic_load(&s->n_conns);
                if (no >= TS_MAX_CONNS) {
                        close(fd);
                        continue;
                }
                a = malloc(sizeof(*a));
                *a = (struct ts_conn_arg){s, fd, no + 1};
                s->conn_fds[no] = fd;
                pthread_create(&s->conns[no], NULL, ts_conn_thread, a);
                atomic_store(&s->n_conns, no + 1);
        }
        return NULL;
}

static inline int ts_start(struct ts_server *s, ts_handler_fn fn, void *ud)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof(sa);
        int one = 1;

        memset(s, 0, sizeof(*s));
        s->fn = fn;
        s->ud = ud;
        s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s->lfd < 0)
                return -1;
        setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s->lfd, 16) < 0 ||
            getsockname(s->lfd, (struct sockaddr *)&sa, &sl) < 0) {
                close(s->lfd);
                return -1;
        }
        s->port = ntohs(sa.sin_port);
        pthread_create(&s->acceptor, NULL, ts_accept_thread, s);
        return 0;
}

static inline void ts_stop(struct ts_server *s)
{
        atomic_store(&s->stop, true);
        pthread_join(s->acceptor, NULL);
        for (int k = 0; k < atomic_load(&s->n_conns); k++) {
                pthread_join(s->conns[k], NULL);
                close(s->conn_fds[k]);
        }
        close(s->lfd);
}

static inline char *ts_url(struct ts_server *s, const char *path)
{
        char *u = malloc(strlen(path) + 64);
        snprintf(u, strlen(path) + 64, "http://127.0.0.1:%d%s", s->port, path);
        return u;
}
