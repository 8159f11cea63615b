/* test-runtime.c — real containers (root): busybox under conmon + crun/runc, CNI bridge, killall.
 * Uses its own bridge (tmnltest0), pod CIDR 10.199.7.0/24, fences 10.199.0.0/16 + 10.198.0.0/16,
 * cgroup root /tmnltest and a temp data dir; everything is removed at the end, also on failure
 * (killall_run from an atexit handler and on SIGINT/SIGTERM). Traffic stays on the test bridge.
 * TIMONEL_TEST_RUNTIME=/usr/sbin/runc runs it with runc instead of the auto choice. */
#include "harness.h"

#include "common/fs.h"
#include "common/log.h"
#include "kubelet/cni.h"
#include "kubelet/killall.h"
#include "kubelet/rootfs.h"
#include "kubelet/runtime.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#define BRIDGE "tmnltest0"
#define POD_CIDR "10.199.7.0/24"
#define SVC_CIDR "10.198.0.0/16"
#define CLUSTER_CIDR "10.199.0.0/16"
#define CG_ROOT "/tmnltest"

static char data_dir[64];
static char agent_dir[128];
static char layer_dir[128];
static struct runtime *rt;
static bool cleaned;

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void cleanup(void)
{
        if (cleaned || !data_dir[0])
                return;
        cleaned = true;
        struct error err = {0};
        runtime_free(rt);
        rt = NULL;
        if (killall_run(data_dir, &err) < 0)
                printf("# cleanup: killall: %s\n", error_msg(&err));
        rootfs_umount_below(data_dir, &err);
        rootfs_rm_rf(data_dir);
}

static void on_signal(int sig)
{
        cleanup();
        signal(sig, SIG_DFL);
        raise(sig);
}

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return xstrdup("");
        char *buf = xcalloc(1, 65537);
        size_t n = fread(buf, 1, 65536, f);
        buf[n] = 0;
        fclose(f);
        return buf;
}

static char *run_out(const char *cmd)
{
        FILE *p = popen(cmd, "re");
        if (!p)
                return xstrdup("");
        char *buf = xcalloc(1, 65537);
        size_t n = fread(buf, 1, 65536, p);
        buf[n] = 0;
        pclose(p);
        return buf;
}

static int make_layer(void)
{
        snprintf(layer_dir, sizeof(layer_dir), "%s/layer", data_dir);
        const char *dirs[] = {"bin", "tmp", "etc", "work", "proc", "sys", "dev", NULL};
        for (size_t i = 0; dirs[i]; i++) {
                char p[256];
                snprintf(p, sizeof(p), "%s/%s", layer_dir, dirs[i]);
                if (fs_mkdir_p(p, 0755, NULL) < 0)
                        return -1;
        }
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "cp /bin/busybox %s/bin/busybox", layer_dir);
        if (system(cmd) != 0)
                return -1;
        const char *links[] = {"sh",  "echo", "sleep", "env", "pwd",
                               "cat", "ping", "true",  "ip",  NULL};
        for (size_t i = 0; links[i]; i++) {
                char p[256];
                snprintf(p, sizeof(p), "%s/bin/%s", layer_dir, links[i]);
                if (symlink("busybox", p) < 0)
                        return -1;
        }
        return 0;
}

static const char *uid1 = "1a2b3c4d-0000-4000-8000-000000000001";
static const char *uid2 = "1a2b3c4d-0000-4000-8000-000000000002";
static const char *uid3 = "1a2b3c4d-0000-4000-8000-000000000003";
static char *ip1, *ip2;

static int64_t mem_limit = 64 << 20;

static int wait_exited(const char *id, struct container_state *st, int timeout_ms)
{
        double t0 = now_ms();
        struct error err = {0};
        while (now_ms() - t0 < timeout_ms) {
                if (runtime_container_status(rt, id, st, &err) < 0)
                        return -1;
                if (st->state == CONTAINER_EXITED)
                        return 0;
                struct timespec ts = {0, 10 * 1000000};
                nanosleep(&ts, NULL);
        }
        return -1;
}

static char *start_ctr(const char *uid, const char *name, unsigned attempt, const char *const *args,
                       const char *const *env, const char *cwd, char *log_path, size_t log_len)
{
        const char *layers[] = {layer_dir, NULL};
        snprintf(log_path, log_len, "%s/logs/default_p_%s/%s/%u.log", agent_dir, uid, name,
                 attempt);
        struct container_config cc = {
                .pod_uid = uid,
                .pod_ns = "default",
                .pod_name = "p",
                .name = name,
                .attempt = attempt,
                .layer_dirs = layers,
                .args = args,
                .env = env,
                .cwd = cwd,
                .log_path = log_path,
                .memory_limit = mem_limit,
        };
        struct error err = {0};
        char *id = NULL;
        if (runtime_container_start(rt, &cc, &id, &err) < 0) {
                printf("# start %s: %s\n", name, error_msg(&err));
                return NULL;
        }
        return id;
}

TEST(new_runtime)
{
        struct runtime_config cfg = {
                .data_dir = agent_dir,
                .pod_cidr = POD_CIDR,
                .bridge = BRIDGE,
                .service_cidr = SVC_CIDR,
                .cluster_cidr = CLUSTER_CIDR,
                .cgroup_root = CG_ROOT,
                .runtime_path = getenv("TIMONEL_TEST_RUNTIME"), /* e.g. /usr/sbin/runc */
        };
        struct error err = {0};
        int r = runtime_new(&cfg, &rt, &err);
        if (r < 0)
                printf("# runtime_new: %s\n", error_msg(&err));
        CHECK_EQ_INT(r, 0);
        if (!rt)
                return;
        printf("# runtime %s (%s)\n", runtime_get_name(rt), runtime_get_version(rt));
        char *routes = run_out("ip route show type blackhole");
        CHECK(strstr(routes, SVC_CIDR) != NULL);
        CHECK(strstr(routes, CLUSTER_CIDR) != NULL);
        free(routes);
}

TEST(sandbox)
{
        struct sandbox_config sc = {.uid = uid1, .ns = "default", .name = "p1"};
        struct error err = {0};
        double t0 = now_ms();
        int r = runtime_sandbox_create(rt, &sc, &ip1, &err);
        if (r < 0)
                printf("# sandbox: %s\n", error_msg(&err));
        CHECK_EQ_INT(r, 0);
        printf("# sandbox create %.1f ms, ip %s\n", now_ms() - t0, ip1 ? ip1 : "-");
        CHECK(ip1 && !strncmp(ip1, "10.199.7.", 9));
        char *again = NULL;
        CHECK_EQ_INT(runtime_sandbox_create(rt, &sc, &again, &err), 0);
        CHECK_EQ_STR(again, ip1);
        free(again);
        char p[256];
        snprintf(p, sizeof(p), "%s/pods/%s/resolv.conf", agent_dir, uid1);
        char *rc = slurp(p);
        CHECK(strstr(rc, "search default.svc.cluster.local svc.cluster.local cluster.local\n"));
        CHECK(strstr(rc, "nameserver 10.43.0.10\n"));
        free(rc);
        snprintf(p, sizeof(p), "%s/pods/%s/etc-hosts", agent_dir, uid1);
        char *hosts = slurp(p);
        char want[64];
        snprintf(want, sizeof(want), "%s\tp1\n", ip1 ? ip1 : "x");
        CHECK(strstr(hosts, want));
        free(hosts);
        /* no default route inside the pod: it cannot send traffic off the machine */
        snprintf(p, sizeof(p), "nsenter --net=%s/run/netns/%s ip route", agent_dir, uid1);
        char *routes = run_out(p);
        CHECK(!strstr(routes, "default"));
        CHECK(strstr(routes, "10.199.7.0/24"));
        free(routes);
}

TEST(exit_code_and_logs)
{
        const char *args[] = {"sh", "-c", "echo hi; echo err >&2; exit 3", NULL};
        char log[512];
        char *id = start_ctr(uid1, "c1", 0, args, NULL, NULL, log, sizeof(log));
        CHECK(id != NULL);
        if (!id)
                return;
        struct container_state st;
        CHECK_EQ_INT(wait_exited(id, &st, 10000), 0);
        CHECK_EQ_INT(st.state, CONTAINER_EXITED);
        CHECK_EQ_INT(st.exit_code, 3);
        CHECK_EQ_STR(st.reason, "Error");
        CHECK(st.finished_at.tv_sec >= st.started_at.tv_sec && st.started_at.tv_sec > 0);
        char *l = slurp(log);
        CHECK(strstr(l, " stdout F hi\n") != NULL);
        CHECK(strstr(l, " stderr F err\n") != NULL);
        CHECK(l[0] == '2' && l[4] == '-' && l[10] == 'T'); /* RFC 3339 timestamp */
        free(l);
        struct error err = {0};
        CHECK_EQ_INT(runtime_container_remove(rt, id, &err), 0);
        CHECK_EQ_INT(runtime_container_status(rt, id, &st, &err), -ENOENT);
        CHECK_EQ_INT(runtime_container_remove(rt, id, &err), 0); /* idempotent */
        CHECK(access(log, F_OK) == 0);                           /* the log stays */
        free(id);
}

TEST(env_and_cwd)
{
        const char *args[] = {"sh", "-c", "echo \"foo=$FOO\"; pwd; cat /etc/hostname", NULL};
        const char *env[] = {"FOO=bar baz", NULL};
        char log[512];
        char *id = start_ctr(uid1, "c2", 0, args, env, "/work", log, sizeof(log));
        CHECK(id != NULL);
        if (!id)
                return;
        struct container_state st;
        CHECK_EQ_INT(wait_exited(id, &st, 10000), 0);
        CHECK_EQ_INT(st.exit_code, 0);
        CHECK_EQ_STR(st.reason, "Completed");
        char *l = slurp(log);
        CHECK(strstr(l, " stdout F foo=bar baz\n") != NULL);
        CHECK(strstr(l, " stdout F /work\n") != NULL);
        CHECK(strstr(l, " stdout F p1\n") != NULL);
        free(l);
        char *want = runtime_container_id(uid1, "c2", 0);
        CHECK_EQ_STR(id, want);
        free(want);
        /* same id twice: EEXIST until removed */
        struct error err = {0};
        char log2[512];
        char *dup = start_ctr(uid1, "c2", 0, args, env, "/work", log2, sizeof(log2));
        CHECK(dup == NULL);
        free(dup);
        CHECK_EQ_INT(runtime_container_remove(rt, id, &err), 0);
        free(id);
}

TEST(stop_with_grace)
{
        const char *args[] = {"sleep", "1000", NULL};
        char log[512];
        char *id = start_ctr(uid1, "sleeper", 0, args, NULL, NULL, log, sizeof(log));
        CHECK(id != NULL);
        if (!id)
                return;
        struct container_state st;
        struct error err = {0};
        CHECK_EQ_INT(runtime_container_status(rt, id, &st, &err), 0);
        CHECK_EQ_INT(st.state, CONTAINER_RUNNING);
        CHECK(st.pid > 0);
        /* the memory limit landed in the pod's cgroup (v1/hybrid or v2 layout) */
        char cgf[512];
        snprintf(cgf, sizeof(cgf),
                 "/sys/fs/cgroup/memory" CG_ROOT "/besteffort/pod%s/%s/memory.limit_in_bytes", uid1,
                 id);
        if (access(cgf, F_OK) < 0)
                snprintf(cgf, sizeof(cgf),
                         "/sys/fs/cgroup" CG_ROOT "/besteffort/pod%s/%s/memory.max", uid1, id);
        char *lim = slurp(cgf);
        CHECK_EQ_STR(lim, "67108864\n");
        free(lim);
        /* listed (adoption after a restart) */
        struct container_info *ci = NULL;
        size_t n = 0;
        CHECK_EQ_INT(runtime_container_list(rt, &ci, &n, &err), 0);
        bool found = false;
        for (size_t i = 0; i < n; i++)
                if (!strcmp(ci[i].id, id) && !strcmp(ci[i].name, "sleeper") &&
                    !strcmp(ci[i].pod_uid, uid1) && !strcmp(ci[i].log_path, log))
                        found = true;
        CHECK(found);
        runtime_container_info_free(ci, n);
        double t0 = now_ms();
        CHECK_EQ_INT(runtime_container_stop(rt, id, 1, &err), 0);
        double dt = now_ms() - t0;
        printf("# stop with grace 1 s took %.0f ms\n", dt);
        CHECK(dt >= 1000 && dt < 5000); /* sleep as PID 1 ignores SIGTERM */
        CHECK_EQ_INT(runtime_container_status(rt, id, &st, &err), 0);
        CHECK_EQ_INT(st.state, CONTAINER_EXITED);
        CHECK_EQ_INT(st.exit_code, 137);
        CHECK_EQ_INT(runtime_container_stop(rt, id, 1, &err), 0); /* already stopped */
        CHECK_EQ_INT(runtime_container_remove(rt, id, &err), 0);
        free(id);
}

TEST(two_pods_ping)
{
        struct sandbox_config sc = {.uid = uid2, .ns = "default", .name = "p2"};
        struct error err = {0};
        CHECK_EQ_INT(runtime_sandbox_create(rt, &sc, &ip2, &err), 0);
        CHECK(ip1 && ip2 && strcmp(ip1, ip2) != 0);
        if (!ip1 || !ip2)
                return;
        const char *args[] = {"ping", "-c", "1", "-W", "2", ip2, NULL};
        char log[512];
        char *id = start_ctr(uid1, "pinger", 0, args, NULL, NULL, log, sizeof(log));
        CHECK(id != NULL);
        if (!id)
                return;
        struct container_state st;
        CHECK_EQ_INT(wait_exited(id, &st, 10000), 0);
        CHECK_EQ_INT(st.exit_code, 0);
        if (st.exit_code) {
                char *l = slurp(log);
                printf("# ping log: %s\n", l);
                free(l);
        }
        CHECK_EQ_INT(runtime_container_remove(rt, id, &err), 0);
        free(id);
}

TEST(start_failure_cleans_up)
{
        const char *args[] = {"/no/such/binary", NULL};
        const char *layers[] = {layer_dir, NULL};
        char log[512];
        snprintf(log, sizeof(log), "%s/logs/bad.log", agent_dir);
        struct container_config cc = {.pod_uid = uid1,
                                      .pod_ns = "default",
                                      .pod_name = "p",
                                      .name = "bad",
                                      .layer_dirs = layers,
                                      .args = args,
                                      .log_path = log};
        struct error err = {0};
        char *id = NULL;
        int r = runtime_container_start(rt, &cc, &id, &err);
        CHECK(r < 0);
        printf("# expected failure: %s\n", error_msg(&err));
        CHECK(strstr(error_msg(&err), "no/such/binary") != NULL);
        struct container_info *ci = NULL;
        size_t n = 0;
        CHECK_EQ_INT(runtime_container_list(rt, &ci, &n, &err), 0);
        for (size_t i = 0; i < n; i++)
                CHECK(strcmp(ci[i].name, "bad") != 0);
        runtime_container_info_free(ci, n);
        char *mounts = slurp("/proc/self/mounts");
        CHECK(strstr(mounts, "bad-0") == NULL);
        free(mounts);
        /* no sandbox: ENOENT */
        cc.pod_uid = "nonexistent-pod";
        CHECK_EQ_INT(runtime_container_start(rt, &cc, &id, &err), -ENOENT);
        free(id);
}

TEST(oom_killed)
{
        const char *args[] = {"sh", "-c", "a=xxxxxxxxxxxxxxxx; while true; do a=$a$a; done", NULL};
        char log[512];
        mem_limit = 16 << 20;
        char *id = start_ctr(uid1, "hog", 0, args, NULL, NULL, log, sizeof(log));
        mem_limit = 64 << 20;
        CHECK(id != NULL);
        if (!id)
                return;
        struct container_state st;
        CHECK_EQ_INT(wait_exited(id, &st, 20000), 0);
        CHECK_EQ_INT(st.exit_code, 137);
        CHECK(st.oom_killed);
        CHECK_EQ_STR(st.reason, "OOMKilled");
        struct error err = {0};
        CHECK_EQ_INT(runtime_container_remove(rt, id, &err), 0);
        free(id);
}

struct par {
        char uid[64];
        char *ip, *id;
        int r;
};

static void *par_start(void *arg)
{
        struct par *p = arg;
        struct sandbox_config sc = {.uid = p->uid, .ns = "default", .name = "par"};
        struct error err = {0};
        const char *args[] = {"sleep", "1000", NULL};
        char log[512];
        p->r = runtime_sandbox_create(rt, &sc, &p->ip, &err);
        if (p->r == 0)
                p->id = start_ctr(p->uid, "app", 0, args, NULL, NULL, log, sizeof(log));
        if (p->r < 0)
                printf("# parallel %s: %s\n", p->uid, error_msg(&err));
        return NULL;
}

static void *par_remove(void *arg)
{
        struct par *p = arg;
        struct error err = {0};
        p->r = runtime_sandbox_remove(rt, p->uid, &err);
        return NULL;
}

TEST(parallel_pods)
{
        enum { N = 6 };
        struct par ps[N];
        pthread_t th[N];
        memset(ps, 0, sizeof(ps));
        double t0 = now_ms();
        for (int i = 0; i < N; i++) {
                snprintf(ps[i].uid, sizeof(ps[i].uid), "9a7a0000-0000-4000-8000-00000000000%d", i);
                pthread_create(&th[i], NULL, par_start, &ps[i]);
        }
        for (int i = 0; i < N; i++)
                pthread_join(th[i], NULL);
        printf("# %d pods started in parallel in %.0f ms\n", N, now_ms() - t0);
        for (int i = 0; i < N; i++) {
                CHECK_EQ_INT(ps[i].r, 0);
                CHECK(ps[i].ip && ps[i].id);
                for (int j = 0; j < i; j++)
                        CHECK(ps[i].ip && ps[j].ip && strcmp(ps[i].ip, ps[j].ip));
                struct container_state st = {0};
                struct error err = {0};
                if (ps[i].id) {
                        CHECK_EQ_INT(runtime_container_status(rt, ps[i].id, &st, &err), 0);
                        CHECK_EQ_INT(st.state, CONTAINER_RUNNING);
                }
        }
        for (int i = 0; i < N; i++)
                pthread_create(&th[i], NULL, par_remove, &ps[i]);
        for (int i = 0; i < N; i++) {
                pthread_join(th[i], NULL);
                CHECK_EQ_INT(ps[i].r, 0);
                free(ps[i].ip);
                free(ps[i].id);
        }
}

TEST(pod_start_time)
{
        /* sandbox + long-running container until running, several fresh pods: median */
        double t[5];
        int ok = 0;
        for (int i = 0; i < 5; i++) {
                char uid[64];
                snprintf(uid, sizeof(uid), "5eed0000-0000-4000-8000-00000000000%d", i);
                struct sandbox_config sc = {.uid = uid, .ns = "default", .name = "timed"};
                struct error err = {0};
                char *ip = NULL, log[512];
                const char *args[] = {"sleep", "1000", NULL};
                double t0 = now_ms();
                if (runtime_sandbox_create(rt, &sc, &ip, &err) < 0) {
                        printf("# timed sandbox: %s\n", error_msg(&err));
                        continue;
                }
                char *id = start_ctr(uid, "app", 0, args, NULL, NULL, log, sizeof(log));
                t[ok] = now_ms() - t0;
                struct container_state st = {0};
                if (id && runtime_container_status(rt, id, &st, &err) == 0 &&
                    st.state == CONTAINER_RUNNING)
                        ok++;
                double t1 = now_ms();
                CHECK_EQ_INT(runtime_sandbox_remove(rt, uid, &err), 0);
                if (i == 0)
                        printf("# pod teardown (sandbox remove, running container) %.1f ms\n",
                               now_ms() - t1);
                free(id);
                free(ip);
        }
        CHECK_EQ_INT(ok, 5);
        for (int i = 0; i < ok; i++)
                for (int j = i + 1; j < ok; j++)
                        if (t[j] < t[i]) {
                                double x = t[i];
                                t[i] = t[j];
                                t[j] = x;
                        }
        if (ok)
                printf("# pod start (sandbox + container running): median %.1f ms, min %.1f, "
                       "max %.1f (%s)\n",
                       t[ok / 2], t[0], t[ok - 1], runtime_get_name(rt));
}

TEST(sandbox_remove)
{
        /* a running container in pod 2 is killed by the sandbox removal */
        const char *args[] = {"sleep", "1000", NULL};
        char log[512];
        char *id = start_ctr(uid2, "sleeper", 0, args, NULL, NULL, log, sizeof(log));
        CHECK(id != NULL);
        struct error err = {0};
        CHECK_EQ_INT(runtime_sandbox_remove(rt, uid2, &err), 0);
        CHECK_EQ_INT(runtime_sandbox_remove(rt, uid2, &err), 0); /* idempotent */
        char p[256];
        snprintf(p, sizeof(p), "%s/pods/%s", agent_dir, uid2);
        CHECK(access(p, F_OK) < 0);
        snprintf(p, sizeof(p), "%s/run/netns/%s", agent_dir, uid2);
        CHECK(access(p, F_OK) < 0);
        struct sandbox_info *si = NULL;
        size_t n = 0;
        CHECK_EQ_INT(runtime_sandbox_list(rt, &si, &n, &err), 0);
        CHECK_EQ_INT(n, 1);
        if (n)
                CHECK_EQ_STR(si[0].uid, uid1);
        runtime_sandbox_info_free(si, n);
        free(id);
}

TEST(host_network_sandbox)
{
        struct sandbox_config sc = {
                .uid = uid3, .ns = "kube-system", .name = "hn", .host_network = true};
        struct error err = {0};
        char *ip = (char *)"unset";
        CHECK_EQ_INT(runtime_sandbox_create(rt, &sc, &ip, &err), 0);
        CHECK(ip == NULL);
        CHECK_EQ_INT(runtime_sandbox_remove(rt, uid3, &err), 0);
}

TEST(killall_leaves_nothing)
{
        /* leave a running container + sandbox behind on purpose */
        const char *args[] = {"sleep", "1000", NULL};
        char log[512];
        char *id = start_ctr(uid1, "left", 0, args, NULL, NULL, log, sizeof(log));
        CHECK(id != NULL);
        free(id);
        runtime_free(rt);
        rt = NULL;
        struct error err = {0};
        int r = killall_run(data_dir, &err);
        if (r < 0)
                printf("# killall: %s\n", error_msg(&err));
        CHECK_EQ_INT(r, 0);
        CHECK_EQ_INT(killall_run(data_dir, &err), 0); /* idempotent */
        char *mounts = slurp("/proc/self/mounts");
        CHECK(strstr(mounts, data_dir) == NULL);
        free(mounts);
        char *links = run_out("ip -o link show");
        CHECK(strstr(links, BRIDGE) == NULL);
        free(links);
        char *routes = run_out("ip route show");
        CHECK(strstr(routes, "10.199.") == NULL);
        CHECK(strstr(routes, "10.198.") == NULL);
        free(routes);
        char *cg = run_out("ls -d /sys/fs/cgroup/*" CG_ROOT " 2>/dev/null");
        CHECK_EQ_STR(cg, "");
        free(cg);
        char *ps = run_out("pgrep -f '[c]onmon.*1a2b3c4d' || true");
        CHECK_EQ_STR(ps, "");
        free(ps);
        char p[256];
        snprintf(p, sizeof(p), "%s/pods", agent_dir);
        CHECK(access(p, F_OK) < 0);
        CHECK(access(log, F_OK) == 0); /* logs stay */
}

int main(void)
{
        if (geteuid() != 0) {
                puts("ok 1 # SKIP not root");
                puts("1..1\n1 passed, 0 failed");
                return 0;
        }
        log_set_level(LOG_WARN);
        char tmpl[] = "/tmp/tmnl-rt-XXXXXX";
        if (!mkdtemp(tmpl)) {
                perror("mkdtemp");
                return 1;
        }
        snprintf(data_dir, sizeof(data_dir), "%s", tmpl);
        snprintf(agent_dir, sizeof(agent_dir), "%s/agent", data_dir);
        atexit(cleanup);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        if (make_layer() < 0) {
                puts("not ok 1 - busybox layer");
                return 1;
        }
        RUN(new_runtime);
        if (rt) {
                RUN(sandbox);
                RUN(exit_code_and_logs);
                RUN(env_and_cwd);
                RUN(stop_with_grace);
                RUN(two_pods_ping);
                RUN(start_failure_cleans_up);
                RUN(oom_killed);
                RUN(parallel_pods);
                RUN(pod_start_time);
                RUN(sandbox_remove);
                RUN(host_network_sandbox);
                RUN(killall_leaves_nothing);
        }
        free(ip1);
        free(ip2);
        cleanup();
        return harness_done();
}
