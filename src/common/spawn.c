/* spawn.c — fork/exec with pipes, bounded output capture and a timeout. */
#include "common/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: only async-signal-safe calls. */
static void child_exec(const struct spawn_opts *o, int in_fd, int out_fd, int err_fd)
{
        int devnull = open("/dev/null", O_RDWR);
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        if (o->pass_fd >= 0) {
                if (o->pass_fd == 3) {
                        int fl = fcntl(3, F_GETFD);
                        fcntl(3, F_SETFD, fl & ~FD_CLOEXEC);
                } else if (dup2(o->pass_fd, 3) < 0) {
                        _exit(127);
                }
        }
        if (dup2(in_fd >= 0 ? in_fd : devnull, 0) < 0 ||
            dup2(out_fd >= 0 ? out_fd : devnull, 1) < 0 ||
            dup2(err_fd >= 0 ? err_fd : devnull, 2) < 0)
                _exit(127);
        if (o->cwd && chdir(o->cwd) < 0)
                _exit(127);
        execve(o->argv[0], (char *const *)o->argv, o->envp ? (char *const *)o->envp : environ);
        _exit(errno == ENOENT ? 127 : 126);
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
        if (*len >= SPAWN_OUTPUT_MAX)
                return;
        n = MIN(n, SPAWN_OUTPUT_MAX - *len);
        *buf = xrealloc(*buf, *len + n + 1);
        memcpy(*buf + *len, data, n);
        *len += n;
        (*buf)[*len] = 0;
}

int spawn_run(const struct spawn_opts *o, struct spawn_result *ret, struct error *err)
{
        int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
        char *obuf = NULL, *ebuf = NULL;
        size_t olen = 0, elen = 0, inoff = 0;
        int r = 0, status = 0;
        pid_t pid;

        if (access(o->argv[0], X_OK) < 0)
                return error_set(err, -errno, "%s: %s", o->argv[0], strerror(errno));
        if ((o->stdin_data && pipe2(in, O_CLOEXEC) < 0) ||
            (o->capture_stdout && pipe2(out, O_CLOEXEC) < 0) ||
            (o->capture_stderr && pipe2(er, O_CLOEXEC) < 0)) {
                r = error_set(err, -errno, "pipe: %s", strerror(errno));
                goto out_close;
        }
        pid = fork();
        if (pid < 0) {
                r = error_set(err, -errno, "fork: %s", strerror(errno));
                goto out_close;
        }
        if (pid == 0)
                child_exec(o, in[0], out[1], er[1]);
        if (in[0] >= 0)
                close(in[0]), in[0] = -1;
        if (out[1] >= 0)
                close(out[1]), out[1] = -1;
        if (er[1] >= 0)
                close(er[1]), er[1] = -1;
        if (in[1] >= 0)
                fcntl(in[1], F_SETFL, O_NONBLOCK);

        int64_t deadline = o->timeout_ms > 0 ? now_ms() + o->timeout_ms : 0;
        bool timed_out = false;
        while (in[1] >= 0 || out[0] >= 0 || er[0] >= 0) {
                struct pollfd pf[3] = {
                        {in[1], POLLOUT, 0}, {out[0], POLLIN, 0}, {er[0], POLLIN, 0}};
                int tmo = -1;
                if (deadline) {
                        int64_t left = deadline - now_ms();
                        if (left <= 0) {
                                timed_out = true;
                                break;
                        }
                        tmo = (int)left;
                }
                int n = poll(pf, 3, tmo);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                if (in[1] >= 0 && pf[0].revents) {
                        ssize_t w = write(in[1], o->stdin_data + inoff, o->stdin_len - inoff);
                        if (w > 0)
                                inoff += (size_t)w;
                        if ((w < 0 && errno != EAGAIN && errno != EINTR) || inoff >= o->stdin_len)
                                close(in[1]), in[1] = -1;
                }
                for (int i = 1; i <= 2; i++) {
                        int *fd = i == 1 ? &out[0] : &er[0];
                        if (*fd < 0 || !pf[i].revents)
                                continue;
                        char b[4096];
                        ssize_t rd = read(*fd, b, sizeof(b));
                        if (rd > 0) {
                                if (i == 1)
                                        append(&obuf, &olen, b, (size_t)rd);
                                else
                                        append(&ebuf, &elen, b, (size_t)rd);
                        } else if (rd == 0 || (errno != EINTR && errno != EAGAIN)) {
                                close(*fd), *fd = -1;
                        }
                }
        }
        if (timed_out)
                kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (timed_out) {
                r = error_set(err, -ETIMEDOUT, "%s: timed out after %d ms", o->argv[0],
                              o->timeout_ms);
                goto out_close;
        }
        if (o->capture_stdout && !obuf)
                obuf = xstrdup("");
        if (o->capture_stderr && !ebuf)
                ebuf = xstrdup("");
        ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        ret->out = obuf;
        ret->errout = ebuf;
        obuf = ebuf = NULL;
out_close:
        for (int i = 0; i < 2; i++) {
                if (in[i] >= 0)
                        close(in[i]);
                if (out[i] >= 0)
                        close(out[i]);
                if (er[i] >= 0)
                        close(er[i]);
        }
        free(obuf);
        free(ebuf);
        return r;
}

void spawn_result_clear(struct spawn_result *r)
{
        free(r->out);
        free(r->errout);
        r->out = r->errout = NULL;
}
