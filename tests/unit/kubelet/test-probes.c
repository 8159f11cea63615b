/* test-probes.c — probe timing defaults, the kubelet's threshold logic, and the tcpSocket /
 * httpGet handlers against loopback listeners this test opens itself. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "kubelet/probes.h"

TEST(timing_defaults)
{
        json_t *p = json_pack("{s:{s:[s]}}", "exec", "command", "true");
        struct probes_timing t;
        probes_timing_parse(p, &t);
        CHECK_EQ_INT(t.initial_delay_s, 0);
        CHECK_EQ_INT(t.period_s, 10);
        CHECK_EQ_INT(t.timeout_s, 1);
        CHECK_EQ_INT(t.success_threshold, 1);
        CHECK_EQ_INT(t.failure_threshold, 3);
        json_object_set_new(p, "periodSeconds", json_integer(0)); /* below minimum */
        json_object_set_new(p, "failureThreshold", json_integer(5));
        probes_timing_parse(p, &t);
        CHECK_EQ_INT(t.period_s, 1);
        CHECK_EQ_INT(t.failure_threshold, 5);
        json_decref(p);
}

TEST(thresholds)
{
        struct probes_timing t = {
                .period_s = 1, .timeout_s = 1, .success_threshold = 2, .failure_threshold = 3};
        struct probes_result r = {.state_ok = false}; /* readiness starts failed */
        CHECK(!probes_result_apply(&r, &t, true));    /* 1 success < 2 */
        CHECK(probes_result_apply(&r, &t, true));     /* 2 successes: ready */
        CHECK(r.state_ok);
        CHECK(!probes_result_apply(&r, &t, false));
        CHECK(!probes_result_apply(&r, &t, false));
        CHECK(!probes_result_apply(&r, &t, true)); /* the run of failures is broken */
        CHECK(!probes_result_apply(&r, &t, false));
        CHECK(!probes_result_apply(&r, &t, false));
        CHECK(r.state_ok);
        CHECK(probes_result_apply(&r, &t, false)); /* 3 in a row */
        CHECK(!r.state_ok);
        CHECK(!probes_result_apply(&r, &t, false)); /* stays failed, no change */
}

static int listen_loopback(int *ret_port)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t l = sizeof(sa);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &l) < 0)
                return -1;
        *ret_port = ntohs(sa.sin_port);
        return fd;
}

struct http_srv {
        int fd;
        const char *reply;
        char request[2048];
};

static void *serve_one(void *ud)
{
        struct http_srv *s = ud;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
                return NULL;
        size_t n = 0;
        while (n < sizeof(s->request) - 1) {
                ssize_t r = read(c, s->request + n, sizeof(s->request) - 1 - n);
                if (r <= 0)
                        break;
                n += (size_t)r;
                s->request[n] = '\0';
                if (strstr(s->request, "\r\n\r\n"))
                        break;
        }
        ssize_t w = write(c, s->reply, strlen(s->reply));
        (void)w;
        close(c);
        return NULL;
}

TEST(tcp_socket)
{
        int port;
        int fd = listen_loopback(&port);
        CHECK(fd >= 0);
        json_t *h = json_pack("{s:{s:i}}", "tcpSocket", "port", port);
        char *out = NULL;
        CHECK_EQ_INT(probes_handler_run(NULL, "x", h, NULL, "127.0.0.1", 1, &out), 0);
        free(out);
        close(fd);
        out = NULL;
        CHECK_EQ_INT(probes_handler_run(NULL, "x", h, NULL, "127.0.0.1", 1, &out), 1);
        char want[128];
        snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: connect: connection refused", port);
        CHECK_EQ_STR(out, want);
        free(out);
        json_decref(h);
}

static void http_case(const char *reply, int want_rc, const char *want_out, bool check_headers)
{
        int port;
        struct http_srv s = {.reply = reply};
        s.fd = listen_loopback(&port);
        CHECK(s.fd >= 0);
        pthread_t th;
        pthread_create(&th, NULL, serve_one, &s);
        /* named port resolved through the container's ports */
        json_t *ctr = json_pack("{s:s, s:[{s:s, s:i}]}", "name", "web", "ports", "name", "http",
                                "containerPort", port);
        json_t *h = json_pack("{s:{s:s, s:s, s:[{s:s, s:s}]}}", "httpGet", "path", "/healthz",
                              "port", "http", "httpHeaders", "name", "X-Probe", "value", "yes");
        char *out = NULL;
        CHECK_EQ_INT(probes_handler_run(NULL, "x", h, ctr, "127.0.0.1", 2, &out), want_rc);
        CHECK_EQ_STR(out, want_out);
        pthread_join(th, NULL);
        CHECK(!strncmp(s.request, "GET /healthz HTTP/1.1\r\n", 23));
        if (check_headers) {
                CHECK(strstr(s.request, "\r\nX-Probe: yes\r\n") != NULL);
                CHECK(strstr(s.request, "\r\nUser-Agent: kube-probe/1.31\r\n") != NULL);
                CHECK(strstr(s.request, "\r\nAccept: */*\r\n") != NULL);
        }
        free(out);
        close(s.fd);
        json_decref(h);
        json_decref(ctr);
}

TEST(http_get)
{
        http_case("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", 0, "",
                  true);
        http_case("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: "
                  "close\r\n\r\n",
                  1, "HTTP probe failed with statuscode: 500", false);
        /* redirects count as success (< 400) */
        http_case("HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\nConnection: "
                  "close\r\n\r\n",
                  0, "", false);
}

TEST(bad_port)
{
        json_t *h = json_pack("{s:{s:s}}", "httpGet", "port", "nosuchname");
        char *out = NULL;
        CHECK_EQ_INT(probes_handler_run(NULL, "x", h, NULL, "127.0.0.1", 1, &out), 1);
        free(out);
        json_decref(h);
}

static int changes;
static pthread_mutex_t changes_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_change(void *ud, const char *uid)
{
        pthread_mutex_lock(&changes_lock);
        changes++;
        pthread_mutex_unlock(&changes_lock);
}

TEST(manager)
{
        struct probes *pm = NULL;
        CHECK_EQ_INT(probes_new(NULL, on_change, NULL, &pm), 0);
        int open_port, closed_port;
        int fd = listen_loopback(&open_port);
        int fd2 = listen_loopback(&closed_port);
        close(fd2); /* nothing listens there any more */
        /* initialDelaySeconds keeps the first readiness result "not ready" for a second */
        json_t *ctr =
                json_pack("{s:s, s:{s:{s:i}, s:i, s:i}, s:{s:{s:i}, s:i, s:i}}", "name", "app",
                          "readinessProbe", "tcpSocket", "port", open_port, "periodSeconds", 1,
                          "initialDelaySeconds", 1, "livenessProbe", "tcpSocket", "port",
                          closed_port, "periodSeconds", 1, "failureThreshold", 2);
        probes_container_add(pm, "uid-1", "app", "ctr-1", ctr, "127.0.0.1", (int64_t)time(NULL));
        struct probes_state st;
        CHECK(probes_container_state(pm, "uid-1", "app", false, &st));
        CHECK(!st.ready);  /* readiness starts failed */
        CHECK(st.started); /* no startup probe */
        bool ready = false, killed = false;
        for (int i = 0; i < 40 && !ready; i++) {
                usleep(100000);
                ready = probes_container_state(pm, "uid-1", "app", false, &st) && st.ready;
        }
        CHECK(ready); /* through the open port */
        for (int i = 0; i < 40 && !killed; i++) {
                usleep(100000);
                /* peeking never takes the kill */
                probes_container_state(pm, "uid-1", "app", false, &st);
                CHECK(!st.kill);
                killed = probes_container_state(pm, "uid-1", "app", true, &st) && st.kill;
        }
        CHECK(killed); /* 2 failures of the liveness probe */
        CHECK_EQ_INT(st.kill_kind, PROBES_LIVENESS);
        char want[128];
        snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: connect: connection refused",
                 closed_port);
        CHECK_EQ_STR(st.message, want);
        /* taken: the entry is gone until the next run registers */
        CHECK(!probes_container_state(pm, "uid-1", "app", true, &st));
        json_t *evs = probes_take_events(pm, "uid-1");
        CHECK(json_array_size(evs) >= 2);
        snprintf(want, sizeof(want),
                 "Liveness probe failed: dial tcp 127.0.0.1:%d: connect: connection refused",
                 closed_port);
        CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(evs, 0), "message")), want);
        json_decref(evs);
        pthread_mutex_lock(&changes_lock);
        CHECK(changes >= 2);
        pthread_mutex_unlock(&changes_lock);
        /* a container without probes registers nothing */
        json_t *plain = json_pack("{s:s}", "name", "plain");
        probes_container_add(pm, "uid-1", "plain", "ctr-2", plain, "127.0.0.1", 0);
        CHECK(!probes_container_state(pm, "uid-1", "plain", false, &st));
        probes_container_add(pm, "uid-2", "app", "ctr-3", ctr, "127.0.0.1", 0);
        probes_container_remove(pm, "uid-2", NULL);
        CHECK(!probes_container_state(pm, "uid-2", "app", false, &st));
        json_decref(plain);
        json_decref(ctr);
        close(fd);
        probes_free(pm);
}

/* grpc.health.v1.HealthCheckResponse in a gRPC message: status field 1 (varint). */
TEST(grpc_response)
{
        int st = -1;
        const uint8_t serving[] = {0, 0, 0, 0, 2, 0x08, 0x01};
        CHECK_EQ_INT(probes_grpc_response_parse(serving, sizeof(serving), &st), 0);
        CHECK_EQ_INT(st, 1);
        const uint8_t down[] = {0, 0, 0, 0, 2, 0x08, 0x02};
        CHECK_EQ_INT(probes_grpc_response_parse(down, sizeof(down), &st), 0);
        CHECK_EQ_INT(st, 2);
        const uint8_t empty[] = {0, 0, 0, 0, 0}; /* proto3 default: UNKNOWN */
        CHECK_EQ_INT(probes_grpc_response_parse(empty, sizeof(empty), &st), 0);
        CHECK_EQ_INT(st, 0);
        const uint8_t extra[] = {0, 0, 0, 0, 5, 0x12, 0x01, 'x', 0x08, 0x01};
        CHECK_EQ_INT(probes_grpc_response_parse(extra, sizeof(extra), &st), 0);
        CHECK_EQ_INT(st, 1);
        const uint8_t compressed[] = {1, 0, 0, 0, 2, 0x08, 0x01};
        CHECK_EQ_INT(probes_grpc_response_parse(compressed, sizeof(compressed), &st), -EPROTO);
        const uint8_t shortlen[] = {0, 0, 0, 0, 9, 0x08, 0x01};
        CHECK_EQ_INT(probes_grpc_response_parse(shortlen, sizeof(shortlen), &st), -EPROTO);
        CHECK_EQ_INT(probes_grpc_response_parse(serving, 3, &st), -EPROTO);
}

int main(void)
{
        RUN(timing_defaults);
        RUN(thresholds);
        RUN(tcp_socket);
        RUN(http_get);
        RUN(bad_port);
        RUN(grpc_response);
        RUN(manager);
        return harness_done();
}
