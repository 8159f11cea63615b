/* test-store-contract.c — ONE suite of store.h's contract, run against both backends: SQLite (a
 * fresh database per case) and a real etcd (Debian's /usr/bin/etcd, started here on loopback with
 * free ports and a temporary data dir; every case uses its own key prefix). etcd is killed and
 * its directory removed at exit, also when a check fails or the test crashes. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "http/pki.h"
#include "store/store.h"

#define ETCD_BIN "/usr/bin/etcd"

/* ---- temporary directories ---- */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        return remove(p);
}

static void rm_tree(const char *dir)
{
        if (dir && dir[0])
                nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char sq_dir[64];

/* ---- etcd under test ---- */

static char etcd_dir[64];
static pid_t etcd_pid;
static int etcd_port, etcd_peer_port;
static char etcd_url[64];

static int free_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        int port = -1;
        if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0)
                port = ntohs(a.sin_port);
        if (fd >= 0)
                close(fd);
        return port == 18080 ? free_port() : port;
}

static pid_t etcd_tls_pid;        /* the https etcd of the tls case */
static pid_t etcd_member_pids[3]; /* the three-member cluster of the failover case */

static void etcd_stop(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(etcd_member_pids); i++) {
                if (etcd_member_pids[i] > 0) {
                        kill(etcd_member_pids[i], SIGKILL);
                        waitpid(etcd_member_pids[i], NULL, 0);
                }
                etcd_member_pids[i] = 0;
        }
        if (etcd_tls_pid > 0) {
                kill(etcd_tls_pid, SIGKILL);
                waitpid(etcd_tls_pid, NULL, 0);
                etcd_tls_pid = 0;
        }
        if (etcd_pid > 0) {
                kill(etcd_pid, SIGKILL);
                waitpid(etcd_pid, NULL, 0);
        }
        etcd_pid = 0;
}

/* Start etcd on client port `port` (the same data dir each time: a restart keeps the data).
 * tls: a separate https member with client certificates (certificates in etcd_dir/tls). */
static int etcd_start_as(int port, bool tls)
{
        char client[64], peer[64], cluster[96], log[128];
        char tls_dir[96], crt[128], key[128], ca[128];
        snprintf(client, sizeof(client), "%s://127.0.0.1:%d", tls ? "https" : "http", port);
        snprintf(tls_dir, sizeof(tls_dir), "%s/tls", etcd_dir);
        snprintf(crt, sizeof(crt), "%s/etcd.crt", tls_dir);
        snprintf(key, sizeof(key), "%s/etcd.key", tls_dir);
        snprintf(ca, sizeof(ca), "%s/ca.crt", tls_dir);
        snprintf(log, sizeof(log), "%s/etcd.log", etcd_dir);
        char data[96];
        snprintf(data, sizeof(data), "%s/%s", etcd_dir, tls ? "tls-data" : "data");
        int peer_port = tls ? free_port() : etcd_peer_port;
        snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", peer_port);
        snprintf(cluster, sizeof(cluster), "contract=%s", peer);
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                if (fd >= 0) {
                        dup2(fd, 1);
                        dup2(fd, 2);
                }
                if (tls)
                        execl(ETCD_BIN, ETCD_BIN, "--name", "contract", "--data-dir", data,
                              "--listen-client-urls", client, "--advertise-client-urls", client,
                              "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                              "--initial-cluster", cluster, "--log-level", "warn", "--cert-file",
                              crt, "--key-file", key, "--trusted-ca-file", ca, "--client-cert-auth",
                              (char *)NULL);
                else
                        execl(ETCD_BIN, ETCD_BIN, "--name", "contract", "--data-dir", data,
                              "--listen-client-urls", client, "--advertise-client-urls", client,
                              "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                              "--initial-cluster", cluster, "--log-level", "warn", (char *)NULL);
                _exit(127);
        }
        if (tls)
                etcd_tls_pid = pid;
        else
                etcd_pid = pid;
        return 0;
}

static int etcd_start(int port)
{
        return etcd_start_as(port, false);
}

static void etcd_cleanup(void)
{
        etcd_stop();
        rm_tree(etcd_dir);
        etcd_dir[0] = 0;
        rm_tree(sq_dir);
        sq_dir[0] = 0;
}

static void on_fatal(int sig)
{
        etcd_cleanup();
        signal(sig, SIG_DFL);
        raise(sig);
}

/* Open a store on etcd, retrying while it starts (up to timeout_ms). */
static struct store *etcd_open_wait(int port, int timeout_ms)
{
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
        struct error err = {0};
        for (int t = 0; t < timeout_ms; t += 100) {
                struct store *s = NULL;
                if (store_open(url, &s, &err) == 0)
                        return s;
                usleep(100 * 1000);
        }
        printf("# etcd at %s did not answer: %s\n", url, error_msg(&err));
        return NULL;
}

static bool etcd_setup(void)
{
        if (access(ETCD_BIN, X_OK) != 0) {
                printf("# %s not found (Debian package etcd-server, see scripts/deps.sh)\n",
                       ETCD_BIN);
                return false;
        }
        snprintf(etcd_dir, sizeof(etcd_dir), "/tmp/timonel-etcd-XXXXXX");
        if (!mkdtemp(etcd_dir)) {
                etcd_dir[0] = 0;
                return false;
        }
        etcd_port = free_port();
        etcd_peer_port = free_port();
        snprintf(etcd_url, sizeof(etcd_url), "http://127.0.0.1:%d", etcd_port);
        if (etcd_start(etcd_port) < 0)
                return false;
        struct store *s = etcd_open_wait(etcd_port, 15000);
        if (!s)
                return false;
        store_close(s);
        return true;
}

/* ---- backends ---- */

struct backend {
        const char *name;
        bool etcd;
};
static const struct backend sqlite_be = {"sqlite", false};
static const struct backend etcd_be = {"etcd", true};
static bool etcd_ok;
static int case_no;

static struct store *be_open(const struct backend *be)
{
        struct store *s = NULL;
        struct error err = {0};
        if (be->etcd) {
                if (!etcd_ok)
                        return NULL;
                if (store_open(etcd_url, &s, &err) < 0)
                        printf("# store_open %s: %s\n", etcd_url, error_msg(&err));
                return s;
        }
        char path[128];
        snprintf(path, sizeof(path), "%s/db/state.db", sq_dir);
        if (store_open(path, &s, &err) < 0)
                printf("# store_open %s: %s\n", path, error_msg(&err));
        return s;
}

/* ---- watch event collector ---- */

struct rec {
        int type, error;
        char *key, *value, *prev;
        int64_t rev, create_rev;
};

struct collector {
        pthread_mutex_t mu;
        pthread_cond_t cond;
        struct rec recs[512];
        size_t n;
        bool overflow;
        struct store_watch *self; /* cancel it from the callback when a key says so */
        pthread_t thread;         /* the thread of the last callback */
};

static void collect(const struct store_event *ev, void *ud)
{
        struct collector *c = ud;
        pthread_mutex_lock(&c->mu);
        if (c->n == ARRAY_SIZE(c->recs)) {
                c->overflow = true;
        } else {
                struct rec *r = &c->recs[c->n++];
                r->type = ev->type;
                r->error = ev->error;
                r->key = xstrdup(ev->key);
                r->value = xstrndup(ev->value, ev->value_len);
                r->prev = ev->prev_value ? xstrndup(ev->prev_value, ev->prev_len) : NULL;
                r->rev = ev->rev;
                r->create_rev = ev->create_rev;
        }
        c->thread = pthread_self();
        bool cancel = c->self && ev->key && strstr(ev->key, "cancel-me");
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->mu);
        if (cancel) {
                store_watch_cancel(c->self);
                c->self = NULL;
        }
}

static struct collector *collector_new(void)
{
        struct collector *c = xcalloc(1, sizeof(*c));
        pthread_mutex_init(&c->mu, NULL);
        pthread_cond_init(&c->cond, NULL);
        return c;
}

static void collector_free(struct collector *c)
{
        for (size_t i = 0; i < c->n; i++) {
                free(c->recs[i].key);
                free(c->recs[i].value);
                free(c->recs[i].prev);
        }
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cond);
        free(c);
}

/* Wait until at least n events arrived (or timeout_ms passed); returns the count. */
static size_t wait_events(struct collector *c, size_t n, int timeout_ms)
{
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += timeout_ms / 1000;
        dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&c->mu);
        while (c->n < n && pthread_cond_timedwait(&c->cond, &c->mu, &dl) == 0)
                ;
        size_t got = c->n;
        pthread_mutex_unlock(&c->mu);
        return got;
}

/* ---- helpers ---- */

static char *k(const char *prefix, const char *name)
{
        return xasprintf("%s%s", prefix, name);
}

static int64_t create(struct store *s, const char *key, const char *value)
{
        int64_t rev = 0;
        struct error err = {0};
        int r = store_create(s, key, value, strlen(value), &rev, &err);
        if (r < 0) {
                printf("# create %s: %s\n", key, error_msg(&err));
                return r;
        }
        return rev;
}

static int64_t update(struct store *s, const char *key, const char *value)
{
        int64_t rev = 0;
        struct error err = {0};
        int r = store_update(s, key, value, strlen(value), 0, &rev, &err);
        if (r < 0) {
                printf("# update %s: %s\n", key, error_msg(&err));
                return r;
        }
        return rev;
}

static int64_t del(struct store *s, const char *key)
{
        struct store_kv prev = {0};
        struct error err = {0};
        int r = store_delete(s, key, 0, &prev, &err);
        if (r < 0) {
                printf("# delete %s: %s\n", key, error_msg(&err));
                return r;
        }
        int64_t rev = prev.mod_rev;
        store_kv_clear(&prev);
        return rev;
}

/* ---- the cases: each gets an open store and its own key prefix ---- */

typedef void (*case_fn)(const struct backend *be, struct store *s, const char *p);

static void crud(const struct backend *be, struct store *s, const char *p)
{
        _cleanup_free_ char *a = k(p, "a");
        struct error err = {0};
        struct store_kv kv = {0};
        int64_t r1 = create(s, a, "one");
        CHECK(r1 > 0);
        CHECK(store_revision(s) >= r1);
        CHECK_EQ_INT(store_get(s, a, &kv, &err), 0);
        CHECK_EQ_STR(kv.key, a);
        CHECK_EQ_STR(kv.value, "one");
        CHECK_EQ_INT(kv.value_len, 3);
        CHECK_EQ_INT(kv.create_rev, r1);
        CHECK_EQ_INT(kv.mod_rev, r1);
        store_kv_clear(&kv);
        CHECK_EQ_INT(store_create(s, a, "x", 1, NULL, &err), -EEXIST);

        /* conflicts: the mod-revision guard */
        int64_t r2 = 0;
        CHECK_EQ_INT(store_update(s, a, "two", 3, r1 + 1000, &r2, &err), -ESTALE);
        CHECK_EQ_INT(store_update(s, a, "two", 3, r1, &r2, &err), 0);
        CHECK(r2 > r1);
        CHECK_EQ_INT(store_update(s, a, "three", 5, r1, NULL, &err), -ESTALE);
        _cleanup_free_ char *absent = k(p, "absent");
        CHECK_EQ_INT(store_update(s, absent, "x", 1, 0, NULL, &err), -ENOENT);
        CHECK_EQ_INT(store_update(s, absent, "x", 1, 5, NULL, &err), -ENOENT);
        CHECK_EQ_INT(store_get(s, absent, &kv, &err), -ENOENT);
        CHECK_EQ_INT(store_get(s, a, &kv, &err), 0);
        CHECK_EQ_STR(kv.value, "two");
        CHECK_EQ_INT(kv.create_rev, r1);
        CHECK_EQ_INT(kv.mod_rev, r2);
        store_kv_clear(&kv);

        /* binary-safe values */
        _cleanup_free_ char *bin = k(p, "bin");
        const char bytes[] = {'a', 0, 'b', (char)0xff, '\n'};
        CHECK(store_create(s, bin, bytes, sizeof(bytes), NULL, &err) == 0);
        CHECK_EQ_INT(store_get(s, bin, &kv, &err), 0);
        CHECK_EQ_INT(kv.value_len, sizeof(bytes));
        CHECK(kv.value && memcmp(kv.value, bytes, sizeof(bytes)) == 0);
        store_kv_clear(&kv);

        struct store_kv prev = {0};
        CHECK_EQ_INT(store_delete(s, a, r1, &prev, &err), -ESTALE);
        CHECK_EQ_INT(store_delete(s, a, r2, &prev, &err), 0);
        CHECK_EQ_STR(prev.value, "two");
        CHECK(prev.mod_rev > r2);
        CHECK_EQ_INT(prev.create_rev, r1);
        store_kv_clear(&prev);
        CHECK_EQ_INT(store_get(s, a, &kv, &err), -ENOENT);
        CHECK_EQ_INT(store_delete(s, a, 0, NULL, &err), -ENOENT);
        /* re-create after delete: a new create revision */
        int64_t r3 = create(s, a, "again");
        CHECK(r3 > r2);
        CHECK_EQ_INT(store_get(s, a, &kv, &err), 0);
        CHECK_EQ_INT(kv.create_rev, r3);
        store_kv_clear(&kv);
}

static void ordering(const struct backend *be, struct store *s, const char *p)
{
        static const char *const names[] = {"b", "a/x", "ab", "a", "c", "a0", "B"};
        int64_t last = 0;
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                _cleanup_free_ char *key = k(p, names[i]);
                int64_t r = create(s, key, names[i]);
                CHECK(r > last); /* every write takes the next, higher revision */
                last = r;
        }
        /* A sibling prefix that shares the leading bytes must not leak in. */
        _cleanup_free_ char *sib = xasprintf("%.*sX/zz", (int)strlen(p) - 1, p);
        CHECK(create(s, sib, "sibling") > 0);

        struct store_list l = {0};
        struct error err = {0};
        static const char *const sorted[] = {"B", "a", "a/x", "a0", "ab", "b", "c"};
        CHECK_EQ_INT(store_list(s, p, NULL, 0, 0, &l, &err), 0);
        CHECK_EQ_INT(l.n_items, ARRAY_SIZE(sorted));
        for (size_t i = 0; i < l.n_items && i < ARRAY_SIZE(sorted); i++) {
                _cleanup_free_ char *want = k(p, sorted[i]);
                CHECK_EQ_STR(l.items[i].key, want);
                CHECK_EQ_STR(l.items[i].value, sorted[i]);
        }
        CHECK(!l.more);
        CHECK(l.rev >= last);
        store_list_clear(&l);

        _cleanup_free_ char *after = k(p, "a/x");
        CHECK_EQ_INT(store_list(s, p, after, 2, 0, &l, &err), 0);
        CHECK_EQ_INT(l.n_items, 2);
        if (l.n_items == 2) {
                _cleanup_free_ char *w0 = k(p, "a0"), *w1 = k(p, "ab");
                CHECK_EQ_STR(l.items[0].key, w0);
                CHECK_EQ_STR(l.items[1].key, w1);
        }
        CHECK(l.more);
        store_list_clear(&l);
        _cleanup_free_ char *lastkey = k(p, "b");
        CHECK_EQ_INT(store_list(s, p, lastkey, 1, 0, &l, &err), 0);
        CHECK_EQ_INT(l.n_items, 1);
        CHECK(!l.more); /* exactly the rest: no more */
        store_list_clear(&l);

        int64_t n = -1;
        CHECK_EQ_INT(store_count(s, p, &n, &err), 0);
        CHECK_EQ_INT(n, ARRAY_SIZE(names));
        _cleanup_free_ char *sub = k(p, "a");
        CHECK_EQ_INT(store_count(s, sub, &n, &err), 0);
        CHECK_EQ_INT(n, 4); /* a, a/x, a0, ab */
        _cleanup_free_ char *none = k(p, "zzz/");
        CHECK_EQ_INT(store_count(s, none, &n, &err), 0);
        CHECK_EQ_INT(n, 0);
}

static void list_at_revision(const struct backend *be, struct store *s, const char *p)
{
        _cleanup_free_ char *a = k(p, "a"), *b = k(p, "b");
        create(s, a, "a1");
        int64_t r = create(s, b, "b1");
        update(s, a, "a2");
        del(s, b);
        struct store_list l = {0};
        struct error err = {0};
        CHECK_EQ_INT(store_list(s, p, NULL, 0, r, &l, &err), 0);
        CHECK_EQ_INT(l.rev, r);
        CHECK_EQ_INT(l.n_items, 2);
        if (l.n_items == 2) {
                CHECK_EQ_STR(l.items[0].value, "a1");
                CHECK_EQ_STR(l.items[1].value, "b1");
        }
        store_list_clear(&l);
        CHECK_EQ_INT(store_list(s, p, NULL, 0, 0, &l, &err), 0);
        CHECK_EQ_INT(l.n_items, 1);
        if (l.n_items == 1)
                CHECK_EQ_STR(l.items[0].value, "a2");
        store_list_clear(&l);
        /* a revision in the future */
        CHECK_EQ_INT(store_list(s, p, NULL, 0, store_revision(s) + 100, &l, &err), -EINVAL);
}

struct churn {
        struct store *s;
        const char *p;
        bool stop;  /* __atomic */
        int writes; /* __atomic */
};

static void *churn_thread(void *ud)
{
        struct churn *c = ud;
        for (int i = 0; !__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE) && i < 2000; i++) {
                char name[32];
                snprintf(name, sizeof(name), "k%03d", (i * 7) % 60);
                _cleanup_free_ char *key = k(c->p, name);
                char v[32];
                snprintf(v, sizeof(v), "w%d", i);
                struct store_kv kv = {0};
                if (store_get(c->s, key, &kv, NULL) == 0) {
                        if (i % 3 == 0)
                                store_delete(c->s, key, 0, NULL, NULL);
                        else
                                store_update(c->s, key, v, strlen(v), 0, NULL, NULL);
                        store_kv_clear(&kv);
                } else {
                        store_create(c->s, key, v, strlen(v), NULL, NULL);
                }
                __atomic_fetch_add(&c->writes, 1, __ATOMIC_RELEASE);
        }
        return NULL;
}

static void pagination_under_writes(const struct backend *be, struct store *s, const char *p)
{
        for (int i = 0; i < 50; i++) {
                char name[32];
                snprintf(name, sizeof(name), "k%03d", i);
                _cleanup_free_ char *key = k(p, name);
                create(s, key, "v0");
        }
        struct churn c = {.s = s, .p = p};
        pthread_t t;
        pthread_create(&t, NULL, churn_thread, &c);
        while (__atomic_load_n(&c.writes, __ATOMIC_ACQUIRE) < 5)
                usleep(1000);

        /* Page through with limit 7 at the first page's revision, as the API server does. */
        struct store_list all = {0};
        struct error err = {0};
        int64_t rev = 0;
        char *after = NULL;
        int pages = 0;
        size_t got = 0;
        char **keys = NULL, **vals = NULL;
        for (;;) {
                struct store_list l = {0};
                int r = store_list(s, p, after, 7, rev, &l, &err);
                CHECK_EQ_INT(r, 0);
                if (r < 0) {
                        printf("# %s\n", error_msg(&err));
                        break;
                }
                if (!rev)
                        rev = l.rev;
                CHECK_EQ_INT(l.rev, rev);
                keys = xrealloc(keys, (got + l.n_items + 1) * sizeof(char *));
                vals = xrealloc(vals, (got + l.n_items + 1) * sizeof(char *));
                for (size_t i = 0; i < l.n_items; i++) {
                        keys[got] = xstrdup(l.items[i].key);
                        vals[got++] = xstrdup(l.items[i].value);
                }
                pages++;
                free(after);
                after = l.n_items ? xstrdup(l.items[l.n_items - 1].key) : NULL;
                bool more = l.more;
                store_list_clear(&l);
                usleep(2000); /* let the writer move on between pages */
                if (!more)
                        break;
        }
        free(after);
        __atomic_store_n(&c.stop, true, __ATOMIC_RELEASE);
        pthread_join(t, NULL);
        CHECK(pages > 2);
        /* The pages together are exactly the state at that revision. */
        CHECK_EQ_INT(store_list(s, p, NULL, 0, rev, &all, &err), 0);
        CHECK_EQ_INT(got, all.n_items);
        for (size_t i = 0; i < got && i < all.n_items; i++) {
                CHECK_EQ_STR(keys[i], all.items[i].key);
                CHECK_EQ_STR(vals[i], all.items[i].value);
                if (i > 0)
                        CHECK(strcmp(keys[i - 1], keys[i]) < 0);
        }
        store_list_clear(&all);
        /* ... and the writer did change things meanwhile. */
        CHECK(store_revision(s) > rev);
        for (size_t i = 0; i < got; i++) {
                free(keys[i]);
                free(vals[i]);
        }
        free(keys);
        free(vals);
}

static void watch_events(const struct backend *be, struct store *s, const char *p)
{
        struct collector *c = collector_new();
        struct store_watch *w = NULL;
        struct error err = {0};
        _cleanup_free_ char *a = k(p, "a");
        _cleanup_free_ char *other = xasprintf("%.*sX/a", (int)strlen(p) - 1, p);
        CHECK_EQ_INT(store_watch(s, p, store_revision(s), collect, c, &w, &err), 0);
        int64_t r1 = create(s, a, "v1");
        create(s, other, "not mine");
        int64_t r2 = update(s, a, "v2");
        int64_t r3 = del(s, a);
        CHECK_EQ_INT(wait_events(c, 3, 5000), 3);
        usleep(100 * 1000);
        CHECK_EQ_INT(c->n, 3); /* the other prefix was not delivered */
        if (c->n >= 3) {
                CHECK_EQ_INT(c->recs[0].type, STORE_EVENT_PUT);
                CHECK_EQ_STR(c->recs[0].key, a);
                CHECK_EQ_STR(c->recs[0].value, "v1");
                CHECK(c->recs[0].prev == NULL);
                CHECK_EQ_INT(c->recs[0].rev, r1);
                CHECK_EQ_INT(c->recs[0].create_rev, r1);
                CHECK_EQ_INT(c->recs[1].type, STORE_EVENT_PUT);
                CHECK_EQ_STR(c->recs[1].value, "v2");
                CHECK_EQ_STR(c->recs[1].prev, "v1");
                CHECK_EQ_INT(c->recs[1].rev, r2);
                CHECK_EQ_INT(c->recs[1].create_rev, r1);
                CHECK_EQ_INT(c->recs[2].type, STORE_EVENT_DELETE);
                CHECK_EQ_STR(c->recs[2].value, "v2"); /* the last value before deletion */
                CHECK_EQ_INT(c->recs[2].rev, r3);
                CHECK_EQ_INT(c->recs[2].create_rev, r1);
        }
        store_watch_cancel(w);
        /* after cancel returns, nothing more arrives */
        create(s, a, "after cancel");
        usleep(200 * 1000);
        CHECK_EQ_INT(c->n, 3);
        collector_free(c);
}

/* Watch from a past revision: exactly the events after it, in order, then live ones; resuming
 * from the last delivered revision gives no duplicate and no gap. */
static void watch_resume(const struct backend *be, struct store *s, const char *p)
{
        int64_t revs[8];
        for (int i = 0; i < 6; i++) {
                char name[16], v[16];
                snprintf(name, sizeof(name), "k%d", i % 3);
                snprintf(v, sizeof(v), "v%d", i);
                _cleanup_free_ char *key = k(p, name);
                revs[i] = i < 3 ? create(s, key, v) : update(s, key, v);
        }
        struct collector *c = collector_new();
        struct store_watch *w = NULL;
        struct error err = {0};
        CHECK_EQ_INT(store_watch(s, p, revs[1], collect, c, &w, &err), 0);
        CHECK_EQ_INT(wait_events(c, 4, 5000), 4);
        for (size_t i = 0; i < 4 && i < c->n; i++)
                CHECK_EQ_INT(c->recs[i].rev, revs[i + 2]);
        if (c->n >= 4)
                CHECK_EQ_STR(c->recs[1].prev, "v0"); /* k0: v0 -> v3 */
        _cleanup_free_ char *k0 = k(p, "k0");
        revs[6] = update(s, k0, "v6");
        CHECK_EQ_INT(wait_events(c, 5, 5000), 5);
        if (c->n >= 5)
                CHECK_EQ_INT(c->recs[4].rev, revs[6]);
        store_watch_cancel(w);
        int64_t last = c->n ? c->recs[c->n - 1].rev : 0;
        size_t n0 = c->n;

        /* A write while no watch runs, then resume from the last delivered revision. */
        revs[7] = update(s, k0, "v7");
        CHECK_EQ_INT(store_watch(s, p, last, collect, c, &w, &err), 0);
        CHECK_EQ_INT(wait_events(c, n0 + 1, 5000), n0 + 1);
        usleep(100 * 1000);
        CHECK_EQ_INT(c->n, n0 + 1);
        if (c->n == n0 + 1)
                CHECK_EQ_INT(c->recs[n0].rev, revs[7]);
        /* strictly increasing revisions overall: no duplicate, no reordering */
        for (size_t i = 1; i < c->n; i++)
                CHECK(c->recs[i].rev > c->recs[i - 1].rev);
        store_watch_cancel(w);
        collector_free(c);
}

/* A watch from a future revision sees only the events after it; an empty prefix watches every
 * key. */
static void watch_future_and_all(const struct backend *be, struct store *s, const char *p)
{
        _cleanup_free_ char *a = k(p, "a");
        struct error err = {0};
        int64_t future = store_revision(s) + 2;
        struct collector *c = collector_new(), *all = collector_new();
        struct store_watch *w = NULL, *wall = NULL;
        CHECK_EQ_INT(store_watch(s, p, future, collect, c, &w, &err), 0);
        CHECK_EQ_INT(store_watch(s, "", store_revision(s), collect, all, &wall, &err), 0);
        int64_t revs[4];
        revs[0] = create(s, a, "1");
        for (int i = 1; i < 4; i++)
                revs[i] = update(s, a, i == 1 ? "2" : i == 2 ? "3" : "4");
        CHECK_EQ_INT(wait_events(c, 2, 5000), 2);
        CHECK_EQ_INT(wait_events(all, 4, 5000), 4);
        usleep(100 * 1000);
        CHECK_EQ_INT(c->n, 2);
        if (c->n == 2) {
                CHECK_EQ_INT(c->recs[0].rev, future + 1);
                CHECK_EQ_INT(c->recs[0].rev, revs[2]);
                CHECK_EQ_STR(c->recs[0].prev, "2");
        }
        CHECK_EQ_INT(all->n, 4);
        for (size_t i = 0; i < all->n && i < 4; i++)
                CHECK_EQ_INT(all->recs[i].rev, revs[i]);
        store_watch_cancel(w);
        store_watch_cancel(wall);
        collector_free(c);
        collector_free(all);
}

/* A callback cancels its own watch; another thread's cancel waits out a running callback. */
static void watch_cancel_inside(const struct backend *be, struct store *s, const char *p)
{
        struct collector *c = collector_new();
        struct error err = {0};
        CHECK_EQ_INT(store_watch(s, p, store_revision(s), collect, c, &c->self, &err), 0);
        _cleanup_free_ char *a = k(p, "cancel-me"), *b = k(p, "b");
        create(s, a, "x");
        CHECK_EQ_INT(wait_events(c, 1, 5000), 1);
        usleep(50 * 1000);
        create(s, b, "y");
        usleep(200 * 1000);
        CHECK_EQ_INT(c->n, 1);
        CHECK(c->self == NULL);
        collector_free(c);
}

static void compaction(const struct backend *be, struct store *s, const char *p)
{
        _cleanup_free_ char *a = k(p, "a");
        int64_t r1 = create(s, a, "v1");
        int64_t r2 = update(s, a, "v2");
        int64_t r3 = update(s, a, "v3");
        struct error err = {0};
        CHECK_EQ_INT(store_compact(s, r3, &err), 0);
        struct store_list l = {0};
        CHECK_EQ_INT(store_list(s, p, NULL, 0, r2, &l, &err), -ERANGE);
        CHECK_EQ_INT(store_list(s, p, NULL, 0, r1, &l, &err), -ERANGE);
        CHECK_EQ_INT(store_list(s, p, NULL, 0, r3, &l, &err), 0);
        CHECK_EQ_INT(l.n_items, 1);
        if (l.n_items == 1)
                CHECK_EQ_STR(l.items[0].value, "v3");
        store_list_clear(&l);
        struct collector *c = collector_new();
        struct store_watch *w = NULL;
        CHECK_EQ_INT(store_watch(s, p, r1, collect, c, &w, &err), -ERANGE);
        /* watching from the compacted revision itself works: events after it */
        CHECK_EQ_INT(store_watch(s, p, r3, collect, c, &w, &err), 0);
        int64_t r4 = update(s, a, "v4");
        CHECK_EQ_INT(wait_events(c, 1, 5000), 1);
        if (c->n >= 1) {
                CHECK_EQ_INT(c->recs[0].rev, r4);
                CHECK_EQ_STR(c->recs[0].prev, "v3");
        }
        store_watch_cancel(w);
        collector_free(c);
        /* compacting again at or below: no-op; in the future: -EINVAL */
        CHECK_EQ_INT(store_compact(s, r2, &err), 0);
        CHECK_EQ_INT(store_compact(s, store_revision(s) + 100, &err), -EINVAL);
        struct store_kv kv = {0};
        CHECK_EQ_INT(store_get(s, a, &kv, &err), 0);
        CHECK_EQ_STR(kv.value, "v4");
        store_kv_clear(&kv);
}

static void lease_expiry(const struct backend *be, struct store *s, const char *p)
{
        _cleanup_free_ char *a = k(p, "ev"), *b = k(p, "keep"), *a2 = k(p, "ev2"),
                            *a3 = k(p, "ev3");
        struct error err = {0};
        int64_t rev = 0;
        struct collector *c = collector_new();
        struct store_watch *w = NULL;
        CHECK_EQ_INT(store_watch(s, p, store_revision(s), collect, c, &w, &err), 0);
        CHECK_EQ_INT(store_create_ttl(s, a, "x", 1, 2, &rev, &err), 0);
        CHECK(rev > 0);
        CHECK_EQ_INT(store_create_ttl(s, a, "x", 1, 2, NULL, &err), -EEXIST);
        CHECK_EQ_INT(store_create_ttl(s, a, "x", 1, 0, NULL, &err), -EINVAL);
        create(s, b, "stays");
        /* a second TTL key right after: etcd deletes both in one revision (one lease) */
        CHECK_EQ_INT(store_create_ttl(s, a2, "z", 1, 2, NULL, &err), 0);
        int64_t r2 = 0;
        CHECK_EQ_INT(store_update(s, a, "y", 1, rev, &r2, &err), 0); /* keeps the lease */
        struct store_kv kv = {0};
        CHECK_EQ_INT(store_get(s, a, &kv, &err), 0);
        store_kv_clear(&kv);
        /* a delete ends the lease: the key created again without one stays */
        CHECK_EQ_INT(store_create_ttl(s, a3, "t", 1, 2, NULL, &err), 0);
        CHECK_EQ_INT(store_delete(s, a3, 0, NULL, &err), 0);
        create(s, a3, "again");
        /* PUT a, PUT keep, PUT a2, PUT a, PUT a3, DELETE a3, PUT a3, then the DELETEs of a and
         * a2 (TTL 2 s; etcd checks leases about every 500 ms, SQLite every 500 ms), both
         * delivered, and nothing for a3 (waiting past the others' expiry) */
        CHECK_EQ_INT(wait_events(c, 9, 10000), 9);
        usleep(1200 * 1000);
        CHECK_EQ_INT(c->n, 9);
        bool del_a = false, del_a2 = false;
        for (size_t i = 7; i < c->n; i++) {
                CHECK_EQ_INT(c->recs[i].type, STORE_EVENT_DELETE);
                if (strcmp(c->recs[i].key, a) == 0)
                        del_a = strcmp(c->recs[i].value, "y") == 0;
                if (strcmp(c->recs[i].key, a2) == 0)
                        del_a2 = strcmp(c->recs[i].value, "z") == 0;
        }
        CHECK(del_a && del_a2);
        CHECK_EQ_INT(store_get(s, a, &kv, &err), -ENOENT);
        CHECK_EQ_INT(store_get(s, a2, &kv, &err), -ENOENT);
        CHECK_EQ_INT(store_get(s, b, &kv, &err), 0);
        store_kv_clear(&kv);
        CHECK_EQ_INT(store_get(s, a3, &kv, &err), 0);
        store_kv_clear(&kv);
        store_watch_cancel(w);
        collector_free(c);
        (void)be;
}

/* Restart of the backend under a live store and a live watch. SQLite: close and reopen the file
 * (the data and the revision counter survive). etcd: SIGKILL etcd, calls fail meanwhile, restart
 * it on the same data; the same store recovers and the watch resumes with no missed event. */
static void backend_restart(const struct backend *be, struct store *s, const char *p)
{
        _cleanup_free_ char *a = k(p, "a");
        struct error err = {0};
        struct store_kv kv = {0};
        int64_t r1 = create(s, a, "v1");
        if (!be->etcd) {
                store_close(s);
                s = be_open(be);
                CHECK(s != NULL);
                if (!s)
                        return;
                CHECK_EQ_INT(store_revision(s), r1);
                CHECK_EQ_INT(store_get(s, a, &kv, &err), 0);
                store_kv_clear(&kv);
                CHECK(update(s, a, "v2") > r1);
                store_close(s); /* the caller closes the store it opened: reopen for it */
                return;
        }
        struct collector *c = collector_new();
        struct store_watch *w = NULL;
        CHECK_EQ_INT(store_watch(s, p, r1, collect, c, &w, &err), 0);
        int64_t r2 = update(s, a, "v2");
        CHECK_EQ_INT(wait_events(c, 1, 5000), 1);

        etcd_stop();
        int r = store_get(s, a, &kv, &err);
        CHECK(r == -EIO);
        if (r == 0)
                store_kv_clear(&kv);
        CHECK(store_update(s, a, "lost", 4, 0, NULL, &err) == -EIO);
        usleep(300 * 1000); /* the watch thread sees the broken stream and retries */
        CHECK_EQ_INT(etcd_start(etcd_port), 0);
        /* the same store recovers on its own */
        int64_t r3 = -1;
        for (int i = 0; i < 150 && r3 < 0; i++) {
                r3 = store_update(s, a, "v3", 2, 0, NULL, NULL) == 0 ? 0 : -1;
                if (r3 < 0)
                        usleep(100 * 1000);
        }
        CHECK_EQ_INT(r3, 0);
        int64_t r4 = update(s, a, "v4");
        CHECK_EQ_INT(wait_events(c, 3, 10000), 3);
        usleep(100 * 1000);
        CHECK_EQ_INT(c->n, 3);
        if (c->n == 3) {
                CHECK_EQ_INT(c->recs[0].rev, r2);
                CHECK_EQ_STR(c->recs[1].value, "v3");
                CHECK_EQ_STR(c->recs[1].prev, "v2");
                CHECK_EQ_INT(c->recs[2].rev, r4);
        }
        store_watch_cancel(w);
        collector_free(c);
}

/* etcd: the revision a broken watch must resume from is compacted before it can reconnect: the
 * watcher gets STORE_EVENT_ERROR -ERANGE (the API server's 410), and nothing after it. SQLite has
 * no broken streams: a watch from a compacted revision fails at once (see compaction). */
static void watch_compacted_while_broken(const struct backend *be, struct store *s, const char *p)
{
        if (!be->etcd)
                return;
        _cleanup_free_ char *a = k(p, "a");
        struct error err = {0};
        int64_t r1 = create(s, a, "v1");
        struct collector *c = collector_new();
        struct store_watch *w = NULL;
        CHECK_EQ_INT(store_watch(s, p, r1, collect, c, &w, &err), 0);
        update(s, a, "v2");
        CHECK_EQ_INT(wait_events(c, 1, 5000), 1);
        /* Move etcd to another client port: the store's watch cannot reconnect meanwhile. */
        etcd_stop();
        int other = free_port();
        CHECK_EQ_INT(etcd_start(other), 0);
        struct store *s2 = etcd_open_wait(other, 15000);
        CHECK(s2 != NULL);
        if (s2) {
                update(s2, a, "v3");
                int64_t r = update(s2, a, "v4");
                CHECK_EQ_INT(store_compact(s2, r, &err), 0);
                store_close(s2);
        }
        etcd_stop();
        CHECK_EQ_INT(etcd_start(etcd_port), 0);
        CHECK_EQ_INT(wait_events(c, 2, 15000), 2);
        if (c->n >= 2) {
                CHECK_EQ_INT(c->recs[1].type, STORE_EVENT_ERROR);
                CHECK_EQ_INT(c->recs[1].error, -ERANGE);
        }
        update(s, a, "v5");
        usleep(300 * 1000);
        CHECK_EQ_INT(c->n, 2);
        store_watch_cancel(w);
        collector_free(c);
}

/* ---- running each case on both backends ---- */

static void run_case(const struct backend *be, case_fn fn)
{
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "/registry/contract/c%d/", ++case_no);
        if (!be->etcd) {
                snprintf(sq_dir, sizeof(sq_dir), "/tmp/timonel-contract-XXXXXX");
                if (!mkdtemp(sq_dir)) {
                        CHECK(false);
                        return;
                }
        }
        struct store *s = be_open(be);
        CHECK(s != NULL);
        if (s) {
                fn(be, s, prefix);
                if (fn != backend_restart || be->etcd)
                        store_close(s);
        }
        if (!be->etcd) {
                rm_tree(sq_dir);
                sq_dir[0] = 0;
        }
}

#define CASE(fn)                                                                                   \
        TEST(sqlite_##fn)                                                                          \
        {                                                                                          \
                run_case(&sqlite_be, fn);                                                          \
        }                                                                                          \
        TEST(etcd_##fn)                                                                            \
        {                                                                                          \
                run_case(&etcd_be, fn);                                                            \
        }

CASE(crud)
CASE(ordering)
CASE(list_at_revision)
CASE(pagination_under_writes)
CASE(watch_events)
CASE(watch_resume)
CASE(watch_cancel_inside)
CASE(watch_future_and_all)
CASE(compaction)
CASE(lease_expiry)
CASE(backend_restart)
CASE(watch_compacted_while_broken)

TEST(etcd_started)
{
        CHECK(etcd_ok);
}

TEST(etcd_bad_endpoints)
{
        struct store *s = NULL;
        struct error err = {0};
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d", free_port());
        CHECK_EQ_INT(store_open(url, &s, &err), -EIO); /* nobody listens: fail fast */
        CHECK(strstr(err.msg, url) != NULL);
        CHECK_EQ_INT(store_open("http://", &s, &err), -EINVAL);
        CHECK_EQ_INT(store_open("http://a:1,ftp://b:2", &s, &err), -EINVAL);
        /* failover: a dead endpoint first, the live one second */
        _cleanup_free_ char *two = xasprintf("%s,%s", url, etcd_url);
        CHECK_EQ_INT(store_open(two, &s, &err), 0);
        if (s) {
                int64_t n = -1;
                CHECK_EQ_INT(store_count(s, "/", &n, &err), 0);
                CHECK(n >= 0);
                store_close(s);
        }
}

/* A three-member etcd cluster; the store is given all three client URLs. The member it uses is
 * killed: calls move to another member, the watch resumes there without a gap. */
TEST(etcd_cluster_failover)
{
        int client[3], peer[3];
        char urls[3][64], cluster[256], all[256];
        size_t nc = 0, na = 0;
        for (int i = 0; i < 3; i++) {
                client[i] = free_port();
                peer[i] = free_port();
                snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%d", client[i]);
                nc += (size_t)snprintf(cluster + nc, sizeof(cluster) - nc,
                                       "%sm%d=http://127.0.0.1:%d", i ? "," : "", i, peer[i]);
                na += (size_t)snprintf(all + na, sizeof(all) - na, "%s%s", i ? "," : "", urls[i]);
        }
        for (int i = 0; i < 3; i++) {
                char name[8], data[96], log[128], purl[64];
                snprintf(name, sizeof(name), "m%d", i);
                snprintf(data, sizeof(data), "%s/m%d", etcd_dir, i);
                snprintf(log, sizeof(log), "%s/m%d.log", etcd_dir, i);
                snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", peer[i]);
                pid_t pid = fork();
                if (pid == 0) {
                        prctl(PR_SET_PDEATHSIG, SIGKILL);
                        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                        if (fd >= 0) {
                                dup2(fd, 1);
                                dup2(fd, 2);
                        }
                        execl(ETCD_BIN, ETCD_BIN, "--name", name, "--data-dir", data,
                              "--listen-client-urls", urls[i], "--advertise-client-urls", urls[i],
                              "--listen-peer-urls", purl, "--initial-advertise-peer-urls", purl,
                              "--initial-cluster", cluster, "--initial-cluster-state", "new",
                              "--log-level", "warn", (char *)NULL);
                        _exit(127);
                }
                etcd_member_pids[i] = pid;
        }
        struct store *s = NULL;
        struct error err = {0};
        for (int i = 0; i < 200 && store_open(all, &s, &err) < 0; i++)
                usleep(100 * 1000);
        CHECK(s != NULL);
        if (!s) {
                printf("# %s\n", error_msg(&err));
                return;
        }
        /* wait until the cluster has a leader and takes writes */
        int64_t r1 = -1;
        for (int i = 0; i < 100 && r1 < 0; i++) {
                if (store_create(s, "/f/a", "v1", 2, &r1, NULL) < 0) {
                        r1 = -1;
                        usleep(100 * 1000);
                }
        }
        CHECK(r1 > 0);
        struct collector *c = collector_new();
        struct store_watch *w = NULL;
        CHECK_EQ_INT(store_watch(s, "/f/", r1, collect, c, &w, &err), 0);
        int64_t r2 = update(s, "/f/a", "v2");
        CHECK_EQ_INT(wait_events(c, 1, 5000), 1);

        /* the first URL is the one in use: kill that member */
        kill(etcd_member_pids[0], SIGKILL);
        waitpid(etcd_member_pids[0], NULL, 0);
        etcd_member_pids[0] = 0;
        int64_t r3 = -1;
        for (int i = 0; i < 100 && r3 < 0; i++) { /* a new leader may take a moment */
                if (store_update(s, "/f/a", "v3", 2, 0, &r3, &err) < 0) {
                        r3 = -1;
                        usleep(100 * 1000);
                }
        }
        CHECK(r3 > r2);
        struct store_kv kv = {0};
        CHECK_EQ_INT(store_get(s, "/f/a", &kv, &err), 0);
        CHECK_EQ_STR(kv.value, "v3");
        store_kv_clear(&kv);
        int64_t r4 = update(s, "/f/a", "v4");
        CHECK_EQ_INT(wait_events(c, 3, 15000), 3);
        usleep(100 * 1000);
        CHECK_EQ_INT(c->n, 3);
        if (c->n == 3) {
                CHECK_EQ_INT(c->recs[0].rev, r2);
                CHECK_EQ_INT(c->recs[1].rev, r3);
                CHECK_EQ_STR(c->recs[1].prev, "v2");
                CHECK_EQ_INT(c->recs[2].rev, r4);
        }
        store_watch_cancel(w);
        collector_free(c);
        store_close(s);
        for (int i = 1; i < 3; i++) {
                kill(etcd_member_pids[i], SIGKILL);
                waitpid(etcd_member_pids[i], NULL, 0);
                etcd_member_pids[i] = 0;
        }
}

/* https with a CA and a client certificate (--datastore-cafile/certfile/keyfile). */
TEST(etcd_tls)
{
        char tls_dir[96];
        snprintf(tls_dir, sizeof(tls_dir), "%s/tls", etcd_dir);
        const char *sans[] = {"IP:127.0.0.1", NULL};
        struct error err = {0};
        CHECK_EQ_INT(pki_ensure(tls_dir, sans, &err), 0);
        /* etcd's gateway dials its own gRPC port with the server certificate as the client's:
         * it needs both usages under --client-cert-auth */
        char prefix[128];
        snprintf(prefix, sizeof(prefix), "%s/etcd", tls_dir);
        CHECK_EQ_INT(pki_issue(tls_dir, prefix, "etcd", NULL, true, true, sans, &err), 0);
        int port = free_port();
        CHECK_EQ_INT(etcd_start_as(port, true), 0);
        char url[64], ca[128], crt[128], key[128];
        snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);
        snprintf(ca, sizeof(ca), "%s/ca.crt", tls_dir);
        snprintf(crt, sizeof(crt), "%s/admin.crt", tls_dir);
        snprintf(key, sizeof(key), "%s/admin.key", tls_dir);
        struct store_options opts = {.ca_file = ca, .cert_file = crt, .key_file = key};
        struct store *s = NULL;
        for (int i = 0; i < 150 && store_open_with(url, &opts, &s, &err) < 0; i++)
                usleep(100 * 1000);
        CHECK(s != NULL);
        if (s) {
                CHECK(create(s, "/tls/a", "secret") > 0);
                struct store_kv kv = {0};
                CHECK_EQ_INT(store_get(s, "/tls/a", &kv, &err), 0);
                CHECK_EQ_STR(kv.value, "secret");
                store_kv_clear(&kv);
                struct collector *c = collector_new();
                struct store_watch *w = NULL;
                CHECK_EQ_INT(store_watch(s, "/tls/", 0, collect, c, &w, &err), 0);
                CHECK_EQ_INT(wait_events(c, 1, 5000), 1);
                store_watch_cancel(w);
                collector_free(c);
                store_close(s);
        }
        /* without the client certificate, or without the CA: refused */
        struct store_options nocert = {.ca_file = ca};
        CHECK(store_open_with(url, &nocert, &s, &err) < 0);
        CHECK(store_open_with(url, NULL, &s, &err) < 0);
}

#define RUN_CASE(fn)                                                                               \
        do {                                                                                       \
                RUN(sqlite_##fn);                                                                  \
                RUN(etcd_##fn);                                                                    \
        } while (0)

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        signal(SIGINT, on_fatal);
        signal(SIGTERM, on_fatal);
        signal(SIGSEGV, on_fatal);
        signal(SIGABRT, on_fatal);
        signal(SIGBUS, on_fatal);
        atexit(etcd_cleanup);
        etcd_ok = etcd_setup();
        RUN(etcd_started);
        RUN_CASE(crud);
        RUN_CASE(ordering);
        RUN_CASE(list_at_revision);
        RUN_CASE(pagination_under_writes);
        RUN_CASE(watch_events);
        RUN_CASE(watch_resume);
        RUN_CASE(watch_cancel_inside);
        RUN_CASE(watch_future_and_all);
        RUN_CASE(compaction);
        RUN_CASE(lease_expiry);
        if (etcd_ok) {
                RUN(etcd_bad_endpoints);
                RUN(etcd_tls);
                RUN(etcd_cluster_failover);
        }
        RUN_CASE(backend_restart);
        RUN_CASE(watch_compacted_while_broken);
        int r = harness_done();
        etcd_cleanup();
        return r;
}
