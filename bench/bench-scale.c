/* bench-scale.c — control-plane scale benchmark driver (scripts/bench-scale.sh runs it against a
 * `timonel server --disable-agent --fake-nodes N`):
 *
 *   bench-scale --kubeconfig KC --ns NS --pods P --deployments D [--timeout S]
 *
 * Watches the pods of namespace NS (one watch from the namespace's list resourceVersion), then
 * creates D Deployments of P/D replicas each at once (time 0) and records, from the watch
 * events, when each pod was first seen, bound (spec.nodeName) and Running. Prints one line of
 * key=value pairs:
 *   pods=  created_s= (last pod object seen)  bound_s= (last bind)  running_s= (last Running)
 *   sched_rate= (pods bound per second between the first and the last bind)
 *   sched_rate_all= (P / bound_s)  timeout=0|1
 * With --then CMD (backlog mode) the pods are created against a cluster without nodes; once all
 * P exist, CMD is run through the shell (it starts the nodes) and nodes_s= says when: sched_rate
 * is then the scheduler's rate on a backlog of P pods.
 * and one "progress t=.. seen=.. bound=.. running=.." line per second on stderr. */
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "client/client.h"
#include "common/base.h"
#include "common/kjson.h"

static struct {
        const char *kubeconfig, *ns, *then;
        long pods, deployments, timeout;
} O = {.ns = "bench-scale", .pods = 1000, .deployments = 10, .timeout = 300};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *state; /* pod name -> flags (1 seen, 2 bound, 4 running) */
static long n_seen, n_bound, n_running;
static double t0, t_first_bind, t_last_bind, t_last_seen, t_last_running;
static char rv[64];
static volatile int done;

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int on_event(const char *type, json_t *obj, void *ud)
{
        (void)ud;
        const char *r = kjson_str(obj, "metadata.resourceVersion");
        if (r)
                snprintf(rv, sizeof(rv), "%s", r);
        if (strcmp(type, "ADDED") && strcmp(type, "MODIFIED"))
                return done;
        const char *name = kjson_str(obj, "metadata.name");
        if (!name)
                return done;
        const char *node = kjson_str(obj, "spec.nodeName");
        const char *phase = kjson_str(obj, "status.phase");
        double t = now_s() - t0;
        pthread_mutex_lock(&mu);
        json_int_t f = json_integer_value(json_object_get(state, name)), nf = f;
        if (!(f & 1)) {
                nf |= 1;
                n_seen++;
                t_last_seen = t;
        }
        if (node && *node && !(f & 2)) {
                nf |= 2;
                if (!n_bound)
                        t_first_bind = t;
                n_bound++;
                t_last_bind = t;
        }
        if (phase && !strcmp(phase, "Running") && !(f & 4)) {
                nf |= 4;
                n_running++;
                t_last_running = t;
        }
        if (nf != f)
                json_object_set_new(state, name, json_integer(nf));
        pthread_mutex_unlock(&mu);
        return done;
}

static int cancelled(void *ud)
{
        (void)ud;
        return done;
}

static void *watch_main(void *ud)
{
        (void)ud;
        struct kclient *c = NULL;
        struct error err = {0};
        if (kclient_from_kubeconfig(O.kubeconfig, &c, &err) < 0) {
                fprintf(stderr, "bench-scale: %s\n", error_msg(&err));
                return NULL;
        }
        kclient_set_cancel(c, cancelled, NULL);
        while (!done) {
                _cleanup_free_ char *path =
                        xasprintf("/api/v1/namespaces/%s/pods?watch=true&allowWatchBookmarks=true"
                                  "&resourceVersion=%s&timeoutSeconds=3600",
                                  O.ns, rv);
                int r = kclient_watch(c, path, on_event, NULL, &err);
                if (r < 0 && !done) {
                        fprintf(stderr, "bench-scale: watch: %s\n", error_msg(&err));
                        struct timespec ts = {0, 200000000L};
                        nanosleep(&ts, NULL);
                }
        }
        kclient_free(c);
        return NULL;
}

int main(int argc, char **argv)
{
        static const struct option lo[] = {{"kubeconfig", 1, NULL, 'k'},
                                           {"ns", 1, NULL, 'n'},
                                           {"pods", 1, NULL, 'p'},
                                           {"deployments", 1, NULL, 'd'},
                                           {"timeout", 1, NULL, 't'},
                                           {"then", 1, NULL, 'x'},
                                           {0}};
        int ch;
        while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
                switch (ch) {
                case 'k':
                        O.kubeconfig = optarg;
                        break;
                case 'n':
                        O.ns = optarg;
                        break;
                case 'p':
                        O.pods = atol(optarg);
                        break;
                case 'd':
                        O.deployments = atol(optarg);
                        break;
                case 't':
                        O.timeout = atol(optarg);
                        break;
                case 'x':
                        O.then = optarg;
                        break;
                default:
                        return 2;
                }
        }
        if (!O.kubeconfig || O.pods <= 0 || O.deployments <= 0)
                return 2;
        struct kclient *c = NULL;
        struct error err = {0};
        if (kclient_from_kubeconfig(O.kubeconfig, &c, &err) < 0) {
                fprintf(stderr, "bench-scale: %s\n", error_msg(&err));
                return 1;
        }
        state = json_object();
        json_t *nsobj = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                                  "metadata", "name", O.ns);
        kclient_create(c, "/api/v1/namespaces", nsobj, NULL, NULL);
        json_decref(nsobj);
        json_t *list = NULL;
        _cleanup_free_ char *lpath = xasprintf("/api/v1/namespaces/%s/pods", O.ns);
        if (kclient_get(c, lpath, &list, &err) < 0) {
                fprintf(stderr, "bench-scale: list: %s\n", error_msg(&err));
                return 1;
        }
        snprintf(rv, sizeof(rv), "%s", kjson_str(list, "metadata.resourceVersion") ?: "0");
        json_decref(list);
        pthread_t wt;
        t0 = now_s();
        pthread_create(&wt, NULL, watch_main, NULL);
        struct timespec ts = {0, 300000000L};
        nanosleep(&ts, NULL);

        t0 = now_s();
        long per = O.pods / O.deployments;
        _cleanup_free_ char *dpath = xasprintf("/apis/apps/v1/namespaces/%s/deployments", O.ns);
        for (long i = 0; i < O.deployments; i++) {
                long n = i == O.deployments - 1 ? O.pods - per * (O.deployments - 1) : per;
                char name[32];
                snprintf(name, sizeof(name), "d%ld", i);
                json_t *d = json_pack(
                        "{s:s, s:s, s:{s:s}, s:{s:i, s:{s:{s:s}}, s:{s:{s:{s:s}}, s:{s:[{s:s, s:s, "
                        "s:{s:{s:s, s:s}}}]}}}}",
                        "apiVersion", "apps/v1", "kind", "Deployment", "metadata", "name", name,
                        "spec", "replicas", (json_int_t)n, "selector", "matchLabels", "app", name,
                        "template", "metadata", "labels", "app", name, "spec", "containers", "name",
                        "c", "image", "busybox:1.36", "resources", "requests", "cpu", "10m",
                        "memory", "16Mi");
                if (kclient_create(c, dpath, d, NULL, &err) < 0)
                        fprintf(stderr, "bench-scale: create %s: %s\n", name, error_msg(&err));
                json_decref(d);
        }
        bool timeout = false;
        double nodes_at = 0;
        if (O.then) {
                for (;;) {
                        ts = (struct timespec){0, 200000000L};
                        nanosleep(&ts, NULL);
                        pthread_mutex_lock(&mu);
                        bool all = n_seen >= O.pods;
                        pthread_mutex_unlock(&mu);
                        if (all || now_s() - t0 > (double)O.timeout)
                                break;
                }
                nodes_at = now_s() - t0;
                fprintf(stderr, "all pods created at %.1f s: %s\n", nodes_at, O.then);
                if (system(O.then) != 0)
                        fprintf(stderr, "bench-scale: --then command failed\n");
        }
        for (;;) {
                ts = (struct timespec){1, 0};
                nanosleep(&ts, NULL);
                pthread_mutex_lock(&mu);
                double t = now_s() - t0;
                fprintf(stderr, "progress t=%.0f seen=%ld bound=%ld running=%ld\n", t, n_seen,
                        n_bound, n_running);
                bool all = n_running >= O.pods;
                pthread_mutex_unlock(&mu);
                if (all)
                        break;
                if (t > (double)O.timeout) {
                        timeout = true;
                        break;
                }
        }
        done = 1;
        pthread_join(wt, NULL);
        double span = t_last_bind - t_first_bind;
        printf("pods=%ld seen=%ld bound=%ld running=%ld created_s=%.1f nodes_s=%.1f "
               "first_bind_s=%.2f bound_s=%.1f running_s=%.1f sched_rate=%.0f sched_rate_all=%.0f "
               "timeout=%d\n",
               O.pods, n_seen, n_bound, n_running, t_last_seen, nodes_at, t_first_bind, t_last_bind,
               t_last_running, span > 0 ? (double)n_bound / span : 0,
               t_last_bind > 0 ? (double)n_bound / t_last_bind : 0, timeout ? 1 : 0);
        kclient_free(c);
        json_decref(state);
        return timeout ? 1 : 0;
}
