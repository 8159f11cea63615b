/* test-client.c — http/client.c against a scripted loopback server. */
#include "http/client.h"

#include <time.h>

#include "client/test-server.h"
#include "harness.h"

static bool handler(struct ts_server *s, struct ts_req *r)
{
        if (strcmp(r->path, "/hello") == 0) {
                ts_respond(r, 200, "{\"hello\":\"world\"}");
                return true;
        }
        if (strcmp(r->path, "/echo") == 0) {
                char out[8192];
                snprintf(out, sizeof(out), "%s %s %s|%.*s", r->method, r->content_type, r->auth,
                         (int)r->body_len, r->body);
                ts_respond(r, 201, out);
                return true;
        }
        if (strcmp(r->path, "/conn") == 0) {
                char out[32];
                snprintf(out, sizeof(out), "%d", r->conn_no);
                ts_respond(r, 200, out);
                return true;
        }
        if (strcmp(r->path, "/stream") == 0) {
                ts_chunk_start(r, 200);
                ts_chunk(r, "one\n");
                ts_sleep(s, 50);
                ts_chunk(r, "two\n");
                ts_chunk(r, "three\n");
                ts_chunk_end(r);
                return true;
        }
        if (strcmp(r->path, "/forbidden") == 0) {
                ts_respond(r, 403, "{\"kind\":\"Status\",\"message\":\"no\"}");
                return true;
        }
        if (strcmp(r->path, "/hang") == 0) {
                ts_chunk_start(r, 200);
                ts_chunk(r, "x");
                ts_sleep(s, 10000);
                return false;
        }
        if (strcmp(r->path, "/slow") == 0) {
                ts_sleep(s, 3000);
                ts_respond(r, 200, "late");
                return false;
        }
        ts_respond(r, 404, "");
        return true;
}

static struct ts_server srv;

struct collect {
        char buf[256];
        size_t len;
        int calls;
        int abort_after;
};

static int collect_cb(const char *data, size_t len, void *ud)
{
        struct collect *c = ud;

        c->calls++;
        if (c->len + len < sizeof(c->buf)) {
                memcpy(c->buf + c->len, data, len);
                c->len += len;
                c->buf[c->len] = 0;
        }
        if (c->abort_after && c->calls >= c->abort_after)
                return 42;
        return 0;
}

TEST(global_init_idempotent)
{
        CHECK_EQ_INT(http_client_global_init(), 0);
        CHECK_EQ_INT(http_client_global_init(), 0);
}

TEST(get_and_keepalive)
{
        _cleanup_(http_client_freep) struct http_client *c = NULL;
        struct error err = {};
        char *body = NULL, *u1 = ts_url(&srv, "/hello"), *u2 = ts_url(&srv, "/conn");
        size_t len = 0;
        long status = 0;

        CHECK_EQ_INT(http_client_new(NULL, &c, &err), 0);
        CHECK_EQ_INT(http_client_do(c, "GET", u1, NULL, NULL, 0, &status, &body, &len, &err), 0);
        CHECK_EQ_INT(status, 200);
        CHECK_EQ_STR(body, "{\"hello\":\"world\"}");
        CHECK_EQ_INT(len, strlen("{\"hello\":\"world\"}"));
        free(body);
        /* Both later requests arrive over the first connection. */
        int conns = atomic_load(&srv.n_conns);
        for (int k = 0; k < 2; k++) {
                body = NULL;
                CHECK_EQ_INT(
                        http_client_do(c, "GET", u2, NULL, NULL, 0, &status, &body, NULL, &err), 0);
                CHECK_EQ_INT(atoi(body), conns);
                free(body);
        }
        CHECK_EQ_INT(atomic_load(&srv.n_conns), conns);
        free(u1);
        free(u2);
}

TEST(post_body_and_token)
{
        _cleanup_(http_client_freep) struct http_client *c = NULL;
        struct http_client_options o = {.bearer_token = "sekret"};
        struct error err = {};
        char *body = NULL, *u = ts_url(&srv, "/echo");
        long status = 0;

        CHECK_EQ_INT(http_client_new(&o, &c, &err), 0);
        CHECK_EQ_INT(http_client_do(c, "PATCH", u, "application/merge-patch+json", "{\"a\":1}", 7,
                                    &status, &body, NULL, &err),
                     0);
        CHECK_EQ_INT(status, 201);
        CHECK_EQ_STR(body, "PATCH application/merge-patch+json Bearer sekret|{\"a\":1}");
        free(body);
        /* DELETE without a body. */
        body = NULL;
        CHECK_EQ_INT(http_client_do(c, "DELETE", u, NULL, NULL, 0, &status, &body, NULL, &err), 0);
        CHECK_EQ_STR(body, "DELETE  Bearer sekret|");
        free(body);
        free(u);
}

TEST(stream_chunks_and_abort)
{
        _cleanup_(http_client_freep) struct http_client *c = NULL;
        struct error err = {};
        struct collect col = {};
        char *u = ts_url(&srv, "/stream"), *eb = NULL;
        long status = 0;

        CHECK_EQ_INT(http_client_new(NULL, &c, &err), 0);
        CHECK_EQ_INT(http_client_stream(c, "GET", u, NULL, NULL, 0, collect_cb, &col, &status, &eb,
                                        &err),
                     0);
        CHECK_EQ_INT(status, 200);
        CHECK_EQ_STR(col.buf, "one\ntwo\nthree\n");
        CHECK(eb == NULL);
        /* The callback's non-zero value comes back as is. */
        col = (struct collect){.abort_after = 1};
        CHECK_EQ_INT(http_client_stream(c, "GET", u, NULL, NULL, 0, collect_cb, &col, &status, NULL,
                                        &err),
                     42);
        CHECK_EQ_INT(col.calls, 1);
        free(u);
}

TEST(stream_error_status)
{
        _cleanup_(http_client_freep) struct http_client *c = NULL;
        struct error err = {};
        struct collect col = {};
        char *u = ts_url(&srv, "/forbidden"), *eb = NULL;
        long status = 0;

        CHECK_EQ_INT(http_client_new(NULL, &c, &err), 0);
        CHECK_EQ_INT(http_client_stream(c, "GET", u, NULL, NULL, 0, collect_cb, &col, &status, &eb,
                                        &err),
                     0);
        CHECK_EQ_INT(status, 403);
        CHECK_EQ_INT(col.calls, 0);
        CHECK_EQ_STR(eb, "{\"kind\":\"Status\",\"message\":\"no\"}");
        free(eb);
        free(u);
}

TEST(connection_refused)
{
        _cleanup_(http_client_freep) struct http_client *c = NULL;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof(sa);
        struct error err = {};
        char url[64];
        long status;
        int fd;

        /* An ephemeral port nobody listens on: bind, read the port, close. */
        fd = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
        CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
        close(fd);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", ntohs(sa.sin_port));
        CHECK_EQ_INT(http_client_new(NULL, &c, &err), 0);
        CHECK_EQ_INT(http_client_do(c, "GET", url, NULL, NULL, 0, &status, NULL, NULL, &err),
                     -ECONNREFUSED);
        CHECK(strstr(err.msg, url) != NULL);
}

static atomic_bool cancel_flag;
static int cancel_fn(void *ud)
{
        return atomic_load(&cancel_flag);
}

static void *set_cancel_later(void *arg)
{
        usleep(200000);
        atomic_store(&cancel_flag, true);
        return NULL;
}

TEST(cancel_idle_stream)
{
        _cleanup_(http_client_freep) struct http_client *c = NULL;
        struct error err = {};
        struct collect col = {};
        char *u = ts_url(&srv, "/hang");
        struct timespec a, b;
        pthread_t t;
        long status;

        CHECK_EQ_INT(http_client_new(NULL, &c, &err), 0);
        http_client_set_cancel(c, cancel_fn, NULL);
        atomic_store(&cancel_flag, false);
        pthread_create(&t, NULL, set_cancel_later, NULL);
        clock_gettime(CLOCK_MONOTONIC, &a);
        CHECK_EQ_INT(http_client_stream(c, "GET", u, NULL, NULL, 0, collect_cb, &col, &status, NULL,
                                        &err),
                     -ECANCELED);
        clock_gettime(CLOCK_MONOTONIC, &b);
        pthread_join(t, NULL);
        CHECK(b.tv_sec - a.tv_sec < 3);
        CHECK_EQ_STR(col.buf, "x");
        free(u);
}

TEST(timeout)
{
        _cleanup_(http_client_freep) struct http_client *c = NULL;
        struct http_client_options o = {.timeout_ms = 300};
        struct error err = {};
        char *u = ts_url(&srv, "/slow");
        long status;

        CHECK_EQ_INT(http_client_new(&o, &c, &err), 0);
        CHECK_EQ_INT(http_client_do(c, "GET", u, NULL, NULL, 0, &status, NULL, NULL, &err),
                     -ETIMEDOUT);
        free(u);
}

int main(void)
{
        if (ts_start(&srv, handler, NULL) < 0) {
                printf("Bail out! cannot start test server\n");
                return 1;
        }
        RUN(global_init_idempotent);
        RUN(get_and_keepalive);
        RUN(post_body_and_token);
        RUN(stream_chunks_and_abort);
        RUN(stream_error_status);
        RUN(connection_refused);
        RUN(cancel_idle_stream);
        RUN(timeout);
        ts_stop(&srv);
        return harness_done();
}
