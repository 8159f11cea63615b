/* exec.c — kubectl exec/attach served by the kubelet; see exec.h.
 *
 * One session per request, on the kubelet server's loop thread: the client side is a WebSocket
 * (http/websocket.h) or a SPDY connection (spdyconn.h); the process side is a set of
 * http/upgrade.h raw fds (stdin pipe, stdout pipe, stderr pipe, or one pty master). A thread per
 * session waits for the runtime's exec process and posts its exit status to the loop. The
 * session ends when the process exited and its output reached EOF (or 1 s after the exit, for a
 * tty some background process still holds): the Status goes out, then the connection closes.
 *
 * attach: conmon (runtime.c starts it with --socket-dir-path A/run/sock) serves
 * A/run/sock/<id>/attach, a SOCK_SEQPACKET socket whose packets to the client carry the pipe in
 * their first byte (conmon's stdpipe_t: 2 stdout, 3 stderr) and at most 8 KiB of data. A stream
 * reader would merge or truncate packets, so a small thread per attach reads whole packets and
 * re-frames them as [pipe][len:2][data] on a socketpair the loop reads. stdin is written to the
 * same socket (conmon passes it on when the pod asked for stdin: conmon -i); a tty is resized
 * through conmon's "ctl" fifo in the same directory. */
#include "kubelet/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "common/kjson.h"
#include "common/log.h"
#include "common/strv.h"
#include "http/upgrade.h"
#include "http/websocket.h"
#include "kubelet/spdyconn.h"

#define COMP "kubelet"
#define OUT_HIGH (4u << 20) /* pause the process output above this many queued bytes */
#define OUT_LOW (1u << 20)
/* stdin queued for the process: above IN_HIGH a SPDY client is not read until IN_LOW; a
 * WebSocket cannot be paused (h2o 2.2.5's websocket layer restarts reading after every write),
 * so above IN_MAX the session is dropped */
#define IN_HIGH (4u << 20)
#define IN_LOW (1u << 20)
#define IN_MAX (64u << 20)
#define STREAMS_TIMEOUT_MS 30000
#define TTY_DRAIN_MS 1000
#define CTL_GAP_MS 50
#define SIZE_WAIT_MS 1500    /* a client that never sends a size (tty=true from a script) */
#define ATTACH_PKT_MAX 65535 /* conmon sends <= 8 KiB; the frame length field is 16 bits */

enum { CH_STDIN = 0, CH_STDOUT = 1, CH_STDERR = 2, CH_ERROR = 3, CH_RESIZE = 4, CH_N = 5 };

struct xsess {
        struct http_server *srv;
        bool spdy;
        int ws_version; /* 5, 4, or 1 (channel.k8s.io .. v3) */
        struct http_ws *ws;
        struct kspdy *sp;
        uint32_t sid[CH_N];
        bool want[CH_N];
        bool tty, attach, started, finished, conn_gone;
        char **cmd;  /* the user's command (exec) */
        char **argv; /* what we run */
        pid_t pid;
        bool exited;
        int exit_code;
        struct http_raw *in, *out, *err;
        int winsz_fd; /* pty master dup for TIOCSWINSZ, -1 */
        int refs;     /* conn + waiter thread + each raw + timers */
        bool paused;
        int bp_timer, drain_timer, streams_timer, in_timer;
        bool in_paused;
        char resize_buf[512];
        size_t resize_len;
        char *attach_path;
        char *ctl_path; /* conmon's terminal control fifo (attach) */
        unsigned ctl_w, ctl_h;
        bool streams_ready, size_known, size_waited;
        unsigned init_w, init_h;
        int size_timer;
        int64_t ctl_last_ms;
        int ctl_timer;
        uint8_t att_buf[3 + ATTACH_PKT_MAX]; /* one re-framed attach packet being collected */
        size_t att_len;
};

static void sess_unref(struct xsess *x)
{
        if (--x->refs > 0)
                return;
        if (x->winsz_fd >= 0)
                close(x->winsz_fd);
        strv_free(x->cmd);
        strv_free(x->argv);
        free(x->attach_path);
        free(x->ctl_path);
        free(x);
}

/* ---- pure helpers ---- */

char *kubelet_exec_status_json(int exit_code, const char *const *cmd)
{
        if (exit_code == 0)
                return xstrdup("{\"metadata\":{},\"status\":\"Success\"}");
        _cleanup_free_ char *joined = strv_join((char *const *)cmd, " ");
        _cleanup_free_ char *msg = xasprintf(
                "command terminated with non-zero exit code: error executing command [%s], exit "
                "code %d",
                joined ? joined : "", exit_code);
        _cleanup_free_ char *code = xasprintf("%d", exit_code);
        json_t *st = json_pack("{s:{},s:s,s:s,s:s,s:{s:[{s:s,s:s}]}}", "metadata", "status",
                               "Failure", "message", msg, "reason", "NonZeroExitCode", "details",
                               "causes", "reason", "ExitCode", "message", code);
        char *s = json_dumps(st, JSON_COMPACT);
        json_decref(st);
        return s;
}

int kubelet_exec_parse_resize(const char *data, size_t len, unsigned *ret_w, unsigned *ret_h)
{
        json_error_t je;
        json_t *o = json_loadb(data, len, 0, &je);
        if (!json_is_object(o)) {
                json_decref(o);
                return -EINVAL;
        }
        json_t *w = json_object_get(o, "Width"), *h = json_object_get(o, "Height");
        int r = -EINVAL;
        if (json_is_integer(w) && json_is_integer(h) && json_integer_value(w) >= 0 &&
            json_integer_value(h) >= 0 && json_integer_value(w) <= 65535 &&
            json_integer_value(h) <= 65535) {
                *ret_w = (unsigned)json_integer_value(w);
                *ret_h = (unsigned)json_integer_value(h);
                r = 0;
        }
        json_decref(o);
        return r;
}

char **kubelet_query_all(const char *raw, const char *name)
{
        char **v = strv_new();
        size_t nl = strlen(name);
        for (const char *p = raw ? raw : ""; *p;) {
                const char *e = strchr(p, '&');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                if (len >= nl && !strncmp(p, name, nl) && (len == nl || p[nl] == '=')) {
                        const char *val = len == nl ? "" : p + nl + 1;
                        size_t vl = len == nl ? 0 : len - nl - 1;
                        v = strv_push_take(v, http_url_decode(val, vl, true));
                }
                p += len;
                if (*p == '&')
                        p++;
        }
        return v;
}

bool kubelet_split_target(const char *rest, char *ns, size_t ns_size, char *pod, size_t pod_size,
                          char *ctr, size_t ctr_size)
{
        const char *a = strchr(rest, '/');
        if (!a || a == rest || (size_t)(a - rest) >= ns_size)
                return false;
        const char *b = strchr(a + 1, '/');
        if (!ctr) {
                if (b || !a[1] || strlen(a + 1) >= pod_size)
                        return false;
                snprintf(ns, ns_size, "%.*s", (int)(a - rest), rest);
                snprintf(pod, pod_size, "%s", a + 1);
                return true;
        }
        if (!b || b == a + 1 || strchr(b + 1, '/') || !b[1] || (size_t)(b - a - 1) >= pod_size ||
            strlen(b + 1) >= ctr_size)
                return false;
        snprintf(ns, ns_size, "%.*s", (int)(a - rest), rest);
        snprintf(pod, pod_size, "%.*s", (int)(b - a - 1), a + 1);
        snprintf(ctr, ctr_size, "%s", b + 1);
        return true;
}

/* ---- sending to the client ---- */

static size_t conn_pending(struct xsess *x)
{
        if (x->conn_gone)
                return 0;
        return x->spdy ? kspdy_pending(x->sp) : http_ws_pending(x->ws);
}

static void send_ch(struct xsess *x, int ch, const void *data, size_t len, bool fin)
{
        if (x->conn_gone)
                return;
        if (x->spdy) {
                if (x->sid[ch])
                        kspdy_data(x->sp, x->sid[ch], data, len, fin);
                return;
        }
        if (!len)
                return;
        uint8_t *m = xmalloc(len + 1);
        m[0] = (uint8_t)ch;
        memcpy(m + 1, data, len);
        http_ws_send(x->ws, HTTP_WS_BINARY, m, len + 1);
        free(m);
}

static void close_conn(struct xsess *x)
{
        if (x->conn_gone)
                return;
        if (x->spdy)
                kspdy_close(x->sp);
        else
                http_ws_close(x->ws, 1000, NULL);
}

static void set_paused(struct xsess *x, bool p)
{
        x->paused = p;
        if (x->out)
                http_raw_pause(x->out, p);
        if (x->err)
                http_raw_pause(x->err, p);
}

static void bp_check(void *ud)
{
        struct xsess *x = ud;
        x->bp_timer = 0;
        if (x->paused && !x->finished && !x->conn_gone) {
                if (conn_pending(x) <= OUT_LOW)
                        set_paused(x, false);
                else {
                        x->refs++;
                        x->bp_timer = http_server_add_timer(x->srv, 5, bp_check, x);
                }
        }
        sess_unref(x);
}

static void after_output(struct xsess *x)
{
        if (!x->paused && conn_pending(x) > OUT_HIGH) {
                set_paused(x, true);
                if (!x->bp_timer) {
                        x->refs++;
                        x->bp_timer = http_server_add_timer(x->srv, 5, bp_check, x);
                }
        }
}

/* ---- the end ---- */

static void finish(struct xsess *x)
{
        if (x->finished)
                return;
        x->finished = true;
        if (x->in)
                http_raw_close(x->in);
        if (x->out)
                http_raw_abort(x->out);
        if (x->err)
                http_raw_abort(x->err);
        int code = x->exited ? x->exit_code : 0;
        _cleanup_free_ char *st = kubelet_exec_status_json(code, (const char *const *)x->cmd);
        if (x->spdy) {
                if (x->sid[CH_STDOUT])
                        send_ch(x, CH_STDOUT, NULL, 0, true);
                if (x->sid[CH_STDERR])
                        send_ch(x, CH_STDERR, NULL, 0, true);
                send_ch(x, CH_ERROR, st, strlen(st), true);
        } else if (x->ws_version >= 4) {
                send_ch(x, CH_ERROR, st, strlen(st), false);
        } else if (code) {
                send_ch(x, CH_ERROR, st, strlen(st), false);
        }
        close_conn(x);
}

static void maybe_finish(struct xsess *x)
{
        if (x->finished || !x->started)
                return;
        if (x->exited && !x->out && !x->err)
                finish(x);
}

static void drain_timeout(void *ud)
{
        struct xsess *x = ud;
        x->drain_timer = 0;
        finish(x);
        sess_unref(x);
}

/* ---- the process side ---- */

static void on_out(void *ud, const uint8_t *data, size_t len)
{
        struct xsess *x = ud;
        send_ch(x, x->tty || x->want[CH_STDOUT] ? CH_STDOUT : CH_STDERR, data, len, false);
        after_output(x);
}

static void on_err(void *ud, const uint8_t *data, size_t len)
{
        struct xsess *x = ud;
        send_ch(x, CH_STDERR, data, len, false);
        after_output(x);
}

static void on_out_close(void *ud)
{
        struct xsess *x = ud;
        x->out = NULL;
        if (x->attach)
                x->exited = true; /* the container's output ended */
        maybe_finish(x);
        sess_unref(x);
}

static void on_err_close(void *ud)
{
        struct xsess *x = ud;
        x->err = NULL;
        maybe_finish(x);
        sess_unref(x);
}

static void on_in_close(void *ud)
{
        struct xsess *x = ud;
        x->in = NULL;
        sess_unref(x);
}

/* Re-framed attach packets from attach_main: [pipe][len:2][data] (a stream; may split). */
static void on_attach_data(void *ud, const uint8_t *data, size_t len)
{
        struct xsess *x = ud;
        for (size_t i = 0; i < len;) {
                if (x->att_len < 3) {
                        x->att_buf[x->att_len++] = data[i++];
                        continue;
                }
                size_t want = (size_t)x->att_buf[1] << 8 | x->att_buf[2];
                size_t have = x->att_len - 3;
                size_t n = want - have < len - i ? want - have : len - i;
                memcpy(x->att_buf + x->att_len, data + i, n);
                x->att_len += n;
                i += n;
                if (x->att_len - 3 == want) {
                        int ch = x->att_buf[0] == 3 && x->want[CH_STDERR] ? CH_STDERR : CH_STDOUT;
                        if (want)
                                send_ch(x, ch, x->att_buf + 3, want, false);
                        x->att_len = 0;
                }
        }
        after_output(x);
}

struct attach_pump {
        int seq, out;
};

/* Read whole SOCK_SEQPACKET packets from conmon and write them framed to the socketpair;
 * ends when either side closes. */
static void *attach_main(void *ud)
{
        struct attach_pump *p = ud;
        uint8_t buf[3 + ATTACH_PKT_MAX];
        for (;;) {
                struct pollfd pf[2] = {{.fd = p->seq, .events = POLLIN},
                                       {.fd = p->out, .events = POLLRDHUP}};
                if (poll(pf, 2, -1) < 0 && errno != EINTR)
                        break;
                if (pf[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
                        break;
                if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                ssize_t n = recv(p->seq, buf + 2, ATTACH_PKT_MAX + 1, 0);
                if (n <= 0)
                        break;
                /* buf[2] is the pipe byte: move it to the front, then the length */
                buf[0] = buf[2];
                size_t dl = (size_t)n - 1;
                buf[1] = (uint8_t)(dl >> 8);
                buf[2] = (uint8_t)dl;
                size_t off = 0, total = 3 + dl;
                while (off < total) {
                        ssize_t w = write(p->out, buf + off, total - off);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                goto out;
                        off += (size_t)w;
                }
        }
out:
        close(p->seq);
        close(p->out);
        free(p);
        return NULL;
}

struct waiter {
        struct xsess *x;
        pid_t pid;
        int status;
};

static void on_exited(void *ud)
{
        struct waiter *w = ud;
        struct xsess *x = w->x;
        x->exited = true;
        x->exit_code = WIFEXITED(w->status)     ? WEXITSTATUS(w->status)
                       : WIFSIGNALED(w->status) ? 128 + WTERMSIG(w->status)
                                                : 1;
        free(w);
        if (!x->finished && x->tty && x->out && !x->drain_timer) {
                x->refs++;
                x->drain_timer = http_server_add_timer(x->srv, TTY_DRAIN_MS, drain_timeout, x);
        }
        maybe_finish(x);
        sess_unref(x);
}

static void *waiter_main(void *ud)
{
        struct waiter *w = ud;
        while (waitpid(w->pid, &w->status, 0) < 0 && errno == EINTR)
                ;
        http_server_post(w->x->srv, on_exited, w);
        return NULL;
}

static int open_null(int flags)
{
        return open("/dev/null", flags | O_CLOEXEC);
}

/* Fork/exec x->argv with pipes or a pty. */
static int start_process(struct xsess *x, struct error *err)
{
        int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
        int ptm = -1, pts = -1, r = 0;
        if (x->tty) {
                ptm = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
                char name[128];
                if (ptm < 0 || grantpt(ptm) < 0 || unlockpt(ptm) < 0 ||
                    ptsname_r(ptm, name, sizeof(name)) != 0 ||
                    (pts = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
                        r = error_set(err, -errno, "pty: %s", strerror(errno));
                        goto fail;
                }
                if (x->size_known) {
                        struct winsize ws = {.ws_row = (unsigned short)x->init_h,
                                             .ws_col = (unsigned short)x->init_w};
                        ioctl(ptm, TIOCSWINSZ, &ws);
                }
        } else {
                if ((x->want[CH_STDIN] && pipe2(pin, O_CLOEXEC) < 0) ||
                    (x->want[CH_STDOUT] && pipe2(pout, O_CLOEXEC) < 0) ||
                    (x->want[CH_STDERR] && pipe2(perr, O_CLOEXEC) < 0)) {
                        r = error_set(err, -errno, "pipe: %s", strerror(errno));
                        goto fail;
                }
                if (pin[0] < 0)
                        pin[0] = open_null(O_RDONLY);
                if (pout[1] < 0)
                        pout[1] = open_null(O_WRONLY);
                if (perr[1] < 0)
                        perr[1] = open_null(O_WRONLY);
        }
        pid_t pid = fork();
        if (pid < 0) {
                r = error_set(err, -errno, "fork: %s", strerror(errno));
                goto fail;
        }
        if (pid == 0) {
                sigset_t all;
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                signal(SIGPIPE, SIG_DFL);
                if (x->tty) {
                        setsid();
                        ioctl(pts, TIOCSCTTY, 0);
                        dup2(pts, 0);
                        dup2(pts, 1);
                        dup2(pts, 2);
                } else {
                        setsid();
                        dup2(pin[0], 0);
                        dup2(pout[1], 1);
                        dup2(perr[1], 2);
                }
                execv(x->argv[0], x->argv);
                _exit(127);
        }
        x->pid = pid;
        if (x->tty) {
                close(pts);
                x->winsz_fd = dup(ptm);
                /* one fd for both directions: the pty master */
                x->refs++;
                x->out = http_raw_from_fd(x->srv, ptm, on_out, on_out_close, x);
                if (x->want[CH_STDIN]) {
                        x->refs++;
                        x->in = http_raw_from_fd(x->srv, dup(ptm), NULL, on_in_close, x);
                }
        } else {
                close(pin[0]);
                close(pout[1]);
                close(perr[1]);
                if (pin[1] >= 0) {
                        x->refs++;
                        x->in = http_raw_from_fd(x->srv, pin[1], NULL, on_in_close, x);
                }
                if (pout[0] >= 0) {
                        x->refs++;
                        x->out = http_raw_from_fd(x->srv, pout[0], on_out, on_out_close, x);
                }
                if (perr[0] >= 0) {
                        x->refs++;
                        x->err = http_raw_from_fd(x->srv, perr[0], on_err, on_err_close, x);
                }
        }
        struct waiter *w = xcalloc(1, sizeof(*w));
        w->x = x;
        w->pid = pid;
        x->refs++;
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, waiter_main, w) != 0) {
                /* cannot wait in a thread: wait here (rare) */
                waiter_main(w);
        }
        pthread_attr_destroy(&attr);
        return 0;
fail:
        for (int i = 0; i < 2; i++) {
                if (pin[i] >= 0)
                        close(pin[i]);
                if (pout[i] >= 0)
                        close(pout[i]);
                if (perr[i] >= 0)
                        close(perr[i]);
        }
        if (ptm >= 0)
                close(ptm);
        if (pts >= 0)
                close(pts);
        return r;
}

static int start_attach(struct xsess *x, struct error *err)
{
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return error_set(err, -errno, "attach socket: %s", strerror(errno));
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(x->attach_path) >= sizeof(sa.sun_path)) {
                close(fd);
                return error_set(err, -ENAMETOOLONG, "attach socket path too long");
        }
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", x->attach_path);
        int sp[2];
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
                int e = errno;
                close(fd);
                return error_set(err, -e, "attach %s: %s", x->attach_path, strerror(e));
        }
        struct attach_pump *p = xcalloc(1, sizeof(*p));
        p->seq = fd;
        p->out = sp[1];
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int r = pthread_create(&t, &attr, attach_main, p);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                close(fd);
                close(sp[0]);
                close(sp[1]);
                free(p);
                return error_set(err, -r, "attach: thread");
        }
        x->refs++;
        x->out = http_raw_from_fd(x->srv, sp[0], on_attach_data, on_out_close, x);
        /* stdin: packets written to the attach socket go to the container's stdin (if conmon
         * runs it with -i: the pod asked for stdin); a write-only duplicate on the loop */
        int wfd = x->want[CH_STDIN] ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
        if (wfd >= 0) {
                x->refs++;
                x->in = http_raw_from_fd(x->srv, wfd, NULL, on_in_close, x);
        }
        return 0;
}

static void size_timeout(void *ud);

static void start(struct xsess *x)
{
        if (x->started)
                return;
        x->streams_ready = true;
        /* kubectl sends the terminal size right after connecting: start the process once it is
         * there (at most SIZE_WAIT_MS later), so it never sees a 0x0 window */
        if (x->tty && !x->attach && !x->size_known && !x->size_waited) {
                if (!x->size_timer) {
                        x->refs++;
                        x->size_timer =
                                http_server_add_timer(x->srv, SIZE_WAIT_MS, size_timeout, x);
                }
                return;
        }
        if (x->size_timer && http_server_cancel_timer(x->srv, x->size_timer))
                sess_unref(x);
        x->size_timer = 0;
        x->started = true;
        if (x->streams_timer && http_server_cancel_timer(x->srv, x->streams_timer))
                sess_unref(x);
        x->streams_timer = 0;
        struct error err = {0};
        int r = x->attach ? start_attach(x, &err) : start_process(x, &err);
        if (r < 0) {
                _cleanup_free_ char *m = xasprintf("%s", error_msg(&err));
                json_t *st = json_pack("{s:{},s:s,s:s,s:s,s:i}", "metadata", "status", "Failure",
                                       "message", m, "reason", "InternalError", "code", 500);
                _cleanup_free_ char *s = json_dumps(st, JSON_COMPACT);
                json_decref(st);
                x->finished = true;
                if (x->spdy)
                        send_ch(x, CH_ERROR, s, strlen(s), true);
                else
                        send_ch(x, CH_ERROR, s, strlen(s), false);
                close_conn(x);
        }
}

/* ---- the client side ---- */

/* conmon 2.1 loses all but the first of two resize lines that arrive together (kubectl attach
 * sends size+1, then the size, to force a redraw): write at most one per CTL_GAP_MS, the
 * latest size last. */
static int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ctl_write(struct xsess *x)
{
        int cfd = open(x->ctl_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (cfd >= 0) {
                /* conmon's control fifo: "1 <height> <width>" resizes its pty */
                dprintf(cfd, "1 %u %u\n", x->ctl_h, x->ctl_w);
                close(cfd);
        }
        x->ctl_last_ms = mono_ms();
}

static void ctl_timer(void *ud)
{
        struct xsess *x = ud;
        x->ctl_timer = 0;
        if (!x->finished)
                ctl_write(x);
        sess_unref(x);
}

static void ctl_resize(struct xsess *x, unsigned w, unsigned h)
{
        int64_t since = mono_ms() - x->ctl_last_ms;
        x->ctl_w = w;
        x->ctl_h = h;
        if (x->ctl_timer)
                return; /* the pending write takes the latest size */
        if (since >= CTL_GAP_MS) {
                ctl_write(x);
                return;
        }
        x->refs++;
        x->ctl_timer = http_server_add_timer(x->srv, (uint64_t)(CTL_GAP_MS - since), ctl_timer, x);
}

static void handle_resize(struct xsess *x, const uint8_t *data, size_t len)
{
        /* a stream of JSON objects, possibly split across frames */
        for (size_t i = 0; i < len; i++) {
                if (x->resize_len >= sizeof(x->resize_buf))
                        x->resize_len = 0;
                x->resize_buf[x->resize_len++] = (char)data[i];
                if (data[i] != '}')
                        continue;
                unsigned w, h;
                if (kubelet_exec_parse_resize(x->resize_buf, x->resize_len, &w, &h) == 0) {
                        if (x->attach && x->ctl_path)
                                ctl_resize(x, w, h);
                        x->size_known = true;
                        x->init_w = w;
                        x->init_h = h;
                        if (!x->started && x->streams_ready && !x->finished)
                                start(x);
                        if (x->winsz_fd >= 0) {
                                struct winsize ws = {.ws_row = (unsigned short)h,
                                                     .ws_col = (unsigned short)w};
                                ioctl(x->winsz_fd, TIOCSWINSZ, &ws);
                        }
                        x->resize_len = 0;
                }
        }
}

static void size_timeout(void *ud)
{
        struct xsess *x = ud;
        x->size_timer = 0;
        x->size_waited = true;
        if (!x->conn_gone && !x->finished)
                start(x);
        sess_unref(x);
}

static void in_check(void *ud)
{
        struct xsess *x = ud;
        x->in_timer = 0;
        if (x->in_paused && !x->conn_gone) {
                if (!x->in || http_raw_pending(x->in) <= IN_LOW) {
                        x->in_paused = false;
                        kspdy_pause(x->sp, false);
                } else {
                        x->refs++;
                        x->in_timer = http_server_add_timer(x->srv, 5, in_check, x);
                }
        }
        sess_unref(x);
}

static void handle_stdin(struct xsess *x, const uint8_t *data, size_t len)
{
        if (!x->in || !len)
                return;
        http_raw_write(x->in, data, len);
        if (x->spdy && !x->in_paused && http_raw_pending(x->in) > IN_HIGH) {
                x->in_paused = true;
                kspdy_pause(x->sp, true);
                x->refs++;
                x->in_timer = http_server_add_timer(x->srv, 5, in_check, x);
        }
        if (http_raw_pending(x->in) > IN_MAX) {
                log_warn(COMP, "exec: stdin backlog over %u bytes, dropping the session", IN_MAX);
                close_conn(x);
        }
}

static void on_ws_msg(void *ud, int opcode, const uint8_t *data, size_t len)
{
        struct xsess *x = ud;
        if (len < 1 || x->finished)
                return;
        switch (data[0]) {
        case CH_STDIN:
                handle_stdin(x, data + 1, len - 1);
                break;
        case CH_RESIZE:
                handle_resize(x, data + 1, len - 1);
                break;
        case 255:
                if (x->ws_version >= 5 && len >= 2 && data[1] == CH_STDIN && x->in)
                        http_raw_close(x->in);
                break;
        default:
                break;
        }
}

static void on_conn_close(void *ud)
{
        struct xsess *x = ud;
        x->conn_gone = true;
        x->ws = NULL;
        x->sp = NULL;
        if (!x->finished) {
                x->finished = true;
                if (x->in)
                        http_raw_close(x->in);
                if (x->out)
                        http_raw_abort(x->out);
                if (x->err)
                        http_raw_abort(x->err);
        }
        sess_unref(x);
}

static int channel_of(const char *type)
{
        static const char *const names[CH_N] = {"stdin", "stdout", "stderr", "error", "resize"};
        for (int i = 0; i < CH_N; i++)
                if (type && !strcmp(type, names[i]))
                        return i;
        return -1;
}

static void sp_on_stream(void *ud, uint32_t id, const struct spdy_frame *syn)
{
        struct xsess *x = ud;
        int ch = channel_of(spdy_frame_header(syn, "streamtype"));
        if (ch < 0 || x->sid[ch]) {
                kspdy_rst(x->sp, id, SPDY_RST_PROTOCOL_ERROR);
                return;
        }
        x->sid[ch] = id;
        kspdy_reply(x->sp, id, false);
        for (int i = 0; i < CH_N; i++)
                if (x->want[i] && !x->sid[i])
                        return;
        start(x);
}

static void sp_on_data(void *ud, uint32_t id, const uint8_t *data, size_t len)
{
        struct xsess *x = ud;
        if (x->finished)
                return;
        if (id == x->sid[CH_STDIN] && id)
                handle_stdin(x, data, len);
        else if (id == x->sid[CH_RESIZE] && id)
                handle_resize(x, data, len);
}

static void sp_on_fin(void *ud, uint32_t id)
{
        struct xsess *x = ud;
        if (id && id == x->sid[CH_STDIN] && x->in)
                http_raw_close(x->in);
}

static const struct kspdy_ops sp_ops = {
        .on_stream = sp_on_stream,
        .on_data = sp_on_data,
        .on_fin = sp_on_fin,
        .on_reset = sp_on_fin,
        .on_close = on_conn_close,
};

static void streams_timeout(void *ud)
{
        struct xsess *x = ud;
        x->streams_timer = 0;
        if (!x->started && !x->conn_gone) {
                x->finished = true;
                close_conn(x);
        }
        sess_unref(x);
}

static bool qbool(struct http_req *req, const char *a, const char *b)
{
        const char *v = http_req_query(req, a);
        if (!v && b)
                v = http_req_query(req, b);
        return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "True"));
}

static void respond_text(struct http_req *req, int status, const char *msg)
{
        http_req_respond(req, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* The WebSocket subprotocol to answer with, or NULL if the client offers none of ours. */
static const char *pick_ws_protocol(const char *offered, int *ret_version)
{
        static const char *const ours[] = {"v5.channel.k8s.io", "v4.channel.k8s.io",
                                           "v3.channel.k8s.io", "v2.channel.k8s.io",
                                           "channel.k8s.io",    NULL};
        static const int versions[] = {5, 4, 1, 1, 1};
        const char *p = kspdy_pick_version(offered, ours);
        for (size_t i = 0; p && ours[i]; i++)
                if (p == ours[i])
                        *ret_version = versions[i];
        return p;
}

void kubelet_exec_serve(struct http_req *req, struct podsync *ps, const char *rest, bool attach)
{
        char ns[254], pod[254], ctr[254];
        if (!kubelet_split_target(rest, ns, sizeof(ns), pod, sizeof(pod), ctr, sizeof(ctr))) {
                respond_text(req, 404, "404 page not found");
                return;
        }
        _cleanup_strv_free_ char **cmd =
                attach ? NULL : kubelet_query_all(http_req_query_raw(req), "command");
        if (!attach && !cmd[0]) {
                respond_text(req, 400, "you must specify at least 1 command");
                return;
        }
        struct xsess *x = xcalloc(1, sizeof(*x));
        x->winsz_fd = -1;
        x->attach = attach;
        x->tty = qbool(req, "tty", NULL);
        x->want[CH_STDIN] = qbool(req, "input", "stdin");
        x->want[CH_STDOUT] = qbool(req, "output", "stdout");
        x->want[CH_STDERR] = qbool(req, "error", "stderr") && !x->tty;
        x->want[CH_ERROR] = true;
        x->want[CH_RESIZE] = x->tty;
        if (!x->want[CH_STDIN] && !x->want[CH_STDOUT] && !x->want[CH_STDERR]) {
                free(x);
                respond_text(req, 400, "you must specify at least 1 of stdin, stdout, stderr");
                return;
        }
        _cleanup_free_ char *uid = NULL, *id = NULL;
        struct error err = {0};
        int r = podsync_stream_lookup(ps, ns, pod, ctr, &uid, &id, &err);
        if (r < 0) {
                free(x);
                respond_text(req, r == -ENOENT ? 404 : 400, error_msg(&err));
                return;
        }
        struct runtime *rt = podsync_get_runtime(ps);
        if (attach) {
                x->attach_path = runtime_container_attach_socket(rt, id);
                /* the socket's directory is conmon's bundle, which holds the ctl fifo */
                char *slash = strrchr(x->attach_path, '/');
                x->ctl_path = xasprintf("%.*s/ctl", (int)(slash - x->attach_path), x->attach_path);
        } else {
                x->cmd = TAKE_PTR(cmd);
                x->argv = runtime_container_exec_argv(rt, id, false, (const char *const *)x->cmd);
        }
        x->srv = http_req_server(req);
        x->refs = 1; /* the connection */
        const char *upgrade = http_req_upgrade_header(req);
        if (http_req_is_websocket(req)) {
                const char *proto = pick_ws_protocol(
                        http_req_header_all(req, "sec-websocket-protocol"), &x->ws_version);
                if (!proto) {
                        sess_unref(x);
                        respond_text(req, 400, "no supported WebSocket subprotocol offered");
                        return;
                }
                x->ws = http_req_websocket_accept(req, proto, on_ws_msg, on_conn_close, x);
                if (!x->ws) {
                        sess_unref(x);
                        respond_text(req, 400, "WebSocket upgrade failed");
                        return;
                }
                start(x);
                return;
        }
        if (upgrade && !strcasecmp(upgrade, "SPDY/3.1")) {
                static const char *const ours[] = {"v4.channel.k8s.io", NULL};
                const char *v = kspdy_pick_version(
                        http_req_header_all(req, "x-stream-protocol-version"), ours);
                if (!v) {
                        sess_unref(x);
                        respond_text(req, 403, "unable to upgrade: no supported stream protocol");
                        return;
                }
                x->spdy = true;
                x->sp = kspdy_upgrade(req, v, &sp_ops, x);
                if (!x->sp) {
                        sess_unref(x);
                        respond_text(req, 400, "unable to upgrade connection");
                        return;
                }
                x->refs++;
                x->streams_timer =
                        http_server_add_timer(x->srv, STREAMS_TIMEOUT_MS, streams_timeout, x);
                return;
        }
        sess_unref(x);
        respond_text(req, 400, "Upgrade request required");
}
