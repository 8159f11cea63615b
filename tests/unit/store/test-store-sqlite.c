/* test-store-sqlite.c — the SQLite store through the public API (store.h). */
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"
#include "store/store-internal.h"
#include "store/store.h"

/* ---- helpers ---- */

static char tmpdir[64];
static char dbpath[128];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        return remove(p);
}

static void tmp_setup(void)
{
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/timonel-store-XXXXXX");
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                exit(1);
        }
        snprintf(dbpath, sizeof(dbpath), "%s/db/state.db", tmpdir);
}

static void tmp_cleanup(void)
{
        if (tmpdir[0])
                nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        tmpdir[0] = 0;
}

static struct store *open_fresh(void)
{
        struct store *s = NULL;
        struct error err = {0};
        tmp_setup();
        if (store_open(dbpath, &s, &err) < 0) {
                printf("# store_open: %s\n", error_msg(&err));
                return NULL;
        }
        return s;
}

static void done(struct store *s)
{
        store_close(s);
        tmp_cleanup();
}

static int64_t put(struct store *s, const char *key, const char *value)
{
        int64_t rev = 0;
        struct error err = {0};
        struct store_kv kv = {0};
        if (store_get(s, key, &kv, &err) == 0) {
                store_kv_clear(&kv);
                if (store_update(s, key, value, strlen(value), 0, &rev, &err) < 0)
                        return -1;
        } else if (store_create(s, key, value, strlen(value), &rev, &err) < 0) {
                return -1;
        }
        return rev;
}

/* Number of rows of a table, read with sqlite3 directly. */
static long long table_rows(const char *table)
{
        sqlite3 *db;
        sqlite3_stmt *st;
        long long n = -1;
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
        if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
                return -1;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
                if (sqlite3_step(st) == SQLITE_ROW)
                        n = sqlite3_column_int64(st, 0);
                sqlite3_finalize(st);
        }
        sqlite3_close(db);
        return n;
}

/* Watch collector. */
struct rec {
        int type;
        char key[64];
        char value[64];
        char prev[64];
        bool has_prev;
        int64_t rev, create_rev;
};

struct collector {
        pthread_mutex_t mu;
        struct rec *recs;
        size_t n, cap;
        int64_t last_rev;
        bool out_of_order;
        /* for in-callback tests */
        struct store *store;
        struct store_watch *self;
        int write_result;
        bool cancel_self;
        bool cancelled; /* set after store_watch_cancel returned */
        bool called_after_cancel;
};

static void collect(const struct store_event *ev, void *ud)
{
        struct collector *c = ud;
        pthread_mutex_lock(&c->mu);
        if (c->n == c->cap) {
                c->cap = c->cap ? c->cap * 2 : 64;
                c->recs = realloc(c->recs, c->cap * sizeof(*c->recs));
        }
        struct rec *r = &c->recs[c->n++];
        memset(r, 0, sizeof(*r));
        r->type = ev->type;
        snprintf(r->key, sizeof(r->key), "%s", ev->key);
        snprintf(r->value, sizeof(r->value), "%.*s", (int)ev->value_len, ev->value);
        if (ev->prev_value) {
                r->has_prev = true;
                snprintf(r->prev, sizeof(r->prev), "%.*s", (int)ev->prev_len, ev->prev_value);
        }
        r->rev = ev->rev;
        r->create_rev = ev->create_rev;
        if (c->cancelled)
                c->called_after_cancel = true;
        if (ev->rev <= c->last_rev)
                c->out_of_order = true;
        c->last_rev = ev->rev;
        pthread_mutex_unlock(&c->mu);
        if (c->store) {
                int64_t rev;
                c->write_result = store_create(c->store, "/cb/x", "v", 1, &rev, NULL);
        }
        if (c->cancel_self && c->self) {
                store_watch_cancel(c->self);
                c->self = NULL;
        }
}

static void collector_init(struct collector *c)
{
        memset(c, 0, sizeof(*c));
        pthread_mutex_init(&c->mu, NULL);
}

static void collector_free(struct collector *c)
{
        free(c->recs);
        pthread_mutex_destroy(&c->mu);
}

/* ---- tests ---- */

TEST(crud_revisions)
{
        struct store *s = open_fresh();
        CHECK(s);
        if (!s)
                return tmp_cleanup();
        struct error err = {0};
        struct store_kv kv = {0};
        int64_t rev = 0;

        CHECK_EQ_INT(store_revision(s), 0);
        CHECK_EQ_INT(store_create(s, "/a", "one", 3, &rev, &err), 0);
        CHECK_EQ_INT(rev, 1);
        CHECK_EQ_INT(store_get(s, "/a", &kv, &err), 0);
        CHECK_EQ_STR(kv.key, "/a");
        CHECK_EQ_STR(kv.value, "one");
        CHECK_EQ_INT(kv.value_len, 3);
        CHECK_EQ_INT(kv.create_rev, 1);
        CHECK_EQ_INT(kv.mod_rev, 1);
        store_kv_clear(&kv);

        CHECK_EQ_INT(store_create(s, "/a", "dup", 3, &rev, &err), -EEXIST);
        CHECK_EQ_INT(store_revision(s), 1);
        CHECK_EQ_INT(store_update(s, "/a", "two", 3, 7, &rev, &err), -ESTALE);
        CHECK_EQ_INT(store_update(s, "/a", "two", 3, 1, &rev, &err), 0);
        CHECK_EQ_INT(rev, 2);
        CHECK_EQ_INT(store_update(s, "/a", "three", 5, 0, &rev, &err), 0);
        CHECK_EQ_INT(rev, 3);
        CHECK_EQ_INT(store_get(s, "/a", &kv, &err), 0);
        CHECK_EQ_STR(kv.value, "three");
        CHECK_EQ_INT(kv.create_rev, 1);
        CHECK_EQ_INT(kv.mod_rev, 3);
        store_kv_clear(&kv);

        CHECK_EQ_INT(store_delete(s, "/a", 2, &kv, &err), -ESTALE);
        CHECK_EQ_INT(store_delete(s, "/a", 3, &kv, &err), 0);
        CHECK_EQ_STR(kv.value, "three");
        CHECK_EQ_INT(kv.mod_rev, 4);
        CHECK_EQ_INT(kv.create_rev, 1);
        store_kv_clear(&kv);
        CHECK_EQ_INT(store_get(s, "/a", &kv, &err), -ENOENT);
        CHECK_EQ_INT(store_update(s, "/a", "x", 1, 0, &rev, &err), -ENOENT);
        CHECK_EQ_INT(store_delete(s, "/a", 0, NULL, &err), -ENOENT);
        CHECK_EQ_INT(store_revision(s), 4);

        /* re-create after delete: a new create revision */
        CHECK_EQ_INT(store_create(s, "/a", "again", 5, &rev, &err), 0);
        CHECK_EQ_INT(rev, 5);
        CHECK_EQ_INT(store_get(s, "/a", &kv, &err), 0);
        CHECK_EQ_INT(kv.create_rev, 5);
        store_kv_clear(&kv);

        /* empty value, binary value, invalid keys */
        CHECK_EQ_INT(store_create(s, "/empty", "", 0, &rev, &err), 0);
        CHECK_EQ_INT(store_get(s, "/empty", &kv, &err), 0);
        CHECK_EQ_INT(kv.value_len, 0);
        CHECK_EQ_STR(kv.value, "");
        store_kv_clear(&kv);
        CHECK_EQ_INT(store_create(s, "/bin", "a\0b", 3, &rev, &err), 0);
        CHECK_EQ_INT(store_get(s, "/bin", &kv, &err), 0);
        CHECK_EQ_INT(kv.value_len, 3);
        CHECK(memcmp(kv.value, "a\0b", 3) == 0);
        store_kv_clear(&kv);
        CHECK_EQ_INT(store_create(s, "", "x", 1, &rev, &err), -EINVAL);
        CHECK_EQ_INT(store_create(s, NULL, "x", 1, &rev, &err), -EINVAL);
        done(s);
}

TEST(list_prefix_limit_pagination)
{
        struct store *s = open_fresh();
        CHECK(s);
        if (!s)
                return tmp_cleanup();
        struct error err = {0};
        struct store_list l = {0};
        const char *names[] = {"e", "a", "d", "b", "c"};
        for (size_t i = 0; i < 5; i++) {
                char key[64];
                snprintf(key, sizeof(key), "/r/pods/ns/%s", names[i]);
                CHECK(put(s, key, names[i]) > 0);
        }
        CHECK(put(s, "/r/pods2/x", "x") > 0);
        CHECK(put(s, "/r/pod", "y") > 0);
        CHECK(put(s, "/r/svc/ns/y", "y") > 0);
        CHECK_EQ_INT(store_revision(s), 8);

        CHECK_EQ_INT(store_list(s, "/r/pods/", NULL, 0, 0, &l, &err), 0);
        CHECK_EQ_INT(l.n_items, 5);
        CHECK_EQ_INT(l.rev, 8);
        CHECK(!l.more);
        if (l.n_items == 5) {
                CHECK_EQ_STR(l.items[0].key, "/r/pods/ns/a");
                CHECK_EQ_STR(l.items[4].key, "/r/pods/ns/e");
                CHECK_EQ_STR(l.items[2].value, "c");
                CHECK_EQ_INT(l.items[0].mod_rev, 2);
        }
        store_list_clear(&l);

        int64_t n = -1;
        CHECK_EQ_INT(store_count(s, "/r/pods/", &n, &err), 0);
        CHECK_EQ_INT(n, 5);
        CHECK_EQ_INT(store_count(s, "/r/", &n, &err), 0);
        CHECK_EQ_INT(n, 8);
        CHECK_EQ_INT(store_count(s, "", &n, &err), 0);
        CHECK_EQ_INT(n, 8);
        CHECK_EQ_INT(store_count(s, "/nothing/", &n, &err), 0);
        CHECK_EQ_INT(n, 0);

        /* page 1 at the current revision */
        CHECK_EQ_INT(store_list(s, "/r/pods/", NULL, 2, 0, &l, &err), 0);
        CHECK_EQ_INT(l.n_items, 2);
        CHECK(l.more);
        int64_t at = l.rev;
        CHECK_EQ_INT(at, 8);
        if (l.n_items == 2)
                CHECK_EQ_STR(l.items[1].key, "/r/pods/ns/b");
        store_list_clear(&l);

        /* concurrent writes between pages */
        int64_t rev;
        CHECK_EQ_INT(store_update(s, "/r/pods/ns/c", "c2", 2, 0, &rev, &err), 0);
        CHECK_EQ_INT(store_delete(s, "/r/pods/ns/d", 0, NULL, &err), 0);
        CHECK_EQ_INT(store_create(s, "/r/pods/ns/f", "f", 1, &rev, &err), 0);
        CHECK_EQ_INT(store_delete(s, "/r/pods/ns/a", 0, NULL, &err), 0);

        /* page 2 at the first page's revision sees the old state */
        CHECK_EQ_INT(store_list(s, "/r/pods/", "/r/pods/ns/b", 2, at, &l, &err), 0);
        CHECK_EQ_INT(l.rev, 8);
        CHECK_EQ_INT(l.n_items, 2);
        CHECK(l.more);
        if (l.n_items == 2) {
                CHECK_EQ_STR(l.items[0].key, "/r/pods/ns/c");
                CHECK_EQ_STR(l.items[0].value, "c");
                CHECK_EQ_INT(l.items[0].mod_rev, 5);
                CHECK_EQ_STR(l.items[1].key, "/r/pods/ns/d");
        }
        store_list_clear(&l);
        CHECK_EQ_INT(store_list(s, "/r/pods/", "/r/pods/ns/d", 2, at, &l, &err), 0);
        CHECK_EQ_INT(l.n_items, 1);
        CHECK(!l.more);
        if (l.n_items == 1)
                CHECK_EQ_STR(l.items[0].key, "/r/pods/ns/e");
        store_list_clear(&l);

        /* the current state */
        CHECK_EQ_INT(store_list(s, "/r/pods/", NULL, 0, 0, &l, &err), 0);
        CHECK_EQ_INT(l.n_items, 4); /* b c e f */
        if (l.n_items == 4) {
                CHECK_EQ_STR(l.items[0].key, "/r/pods/ns/b");
                CHECK_EQ_STR(l.items[1].value, "c2");
                CHECK_EQ_STR(l.items[3].key, "/r/pods/ns/f");
        }
        CHECK_EQ_INT(l.rev, 12);
        store_list_clear(&l);

        /* historical list with a deletion in between: at rev 10 "d" is gone, "a" still there */
        CHECK_EQ_INT(store_list(s, "/r/pods/", NULL, 0, 10, &l, &err), 0);
        CHECK_EQ_INT(l.n_items, 4); /* a b c e */
        if (l.n_items == 4) {
                CHECK_EQ_STR(l.items[0].key, "/r/pods/ns/a");
                CHECK_EQ_STR(l.items[3].key, "/r/pods/ns/e");
        }
        store_list_clear(&l);

        /* whole keyspace, a future revision */
        CHECK_EQ_INT(store_list(s, NULL, NULL, 0, 0, &l, &err), 0);
        CHECK_EQ_INT(l.n_items, 7);
        store_list_clear(&l);
        CHECK_EQ_INT(store_list(s, "/r/", NULL, 0, 99, &l, &err), -EINVAL);
        done(s);
}

TEST(prefix_with_high_bytes)
{
        struct store *s = open_fresh();
        CHECK(s);
        if (!s)
                return tmp_cleanup();
        struct error err = {0};
        struct store_list l = {0};
        CHECK(put(s, "/x\xff", "1") > 0);
        CHECK(put(s, "/x\xff\xff", "2") > 0);
        CHECK(put(s, "/y", "3") > 0);
        CHECK_EQ_INT(store_list(s, "/x\xff", NULL, 0, 0, &l, &err), 0);
        CHECK_EQ_INT(l.n_items, 2);
        store_list_clear(&l);
        done(s);
}

TEST(watch_replay_then_live)
{
        struct store *s = open_fresh();
        CHECK(s);
        if (!s)
                return tmp_cleanup();
        struct error err = {0};
        struct collector c;
        collector_init(&c);
        int64_t rev;
        CHECK_EQ_INT(put(s, "/a/1", "v1"), 1);
        CHECK_EQ_INT(put(s, "/b/1", "x"), 2);
        CHECK_EQ_INT(put(s, "/a/1", "v2"), 3);
        CHECK_EQ_INT(put(s, "/a/2", "w1"), 4);
        CHECK_EQ_INT(store_delete(s, "/a/2", 0, NULL, &err), 0); /* 5 */

        struct store_watch *w = NULL;
        CHECK_EQ_INT(store_watch(s, "/a/", 1, collect, &c, &w, &err), 0);
        CHECK_EQ_INT(c.n, 3);                                             /* replayed: 3, 4, 5 */
        CHECK_EQ_INT(store_create(s, "/b/2", "y", 1, &rev, &err), 0);     /* 6, filtered */
        CHECK_EQ_INT(store_update(s, "/a/1", "v3", 2, 3, &rev, &err), 0); /* 7 */
        CHECK_EQ_INT(store_create(s, "/a/3", "z", 1, &rev, &err), 0);     /* 8 */
        CHECK_EQ_INT(c.n, 5);
        CHECK(!c.out_of_order);
        if (c.n == 5) {
                CHECK_EQ_INT(c.recs[0].rev, 3);
                CHECK_EQ_INT(c.recs[0].type, STORE_EVENT_PUT);
                CHECK_EQ_STR(c.recs[0].value, "v2");
                CHECK(c.recs[0].has_prev);
                CHECK_EQ_STR(c.recs[0].prev, "v1");
                CHECK_EQ_INT(c.recs[0].create_rev, 1);
                CHECK_EQ_INT(c.recs[1].rev, 4);
                CHECK(!c.recs[1].has_prev);
                CHECK_EQ_INT(c.recs[2].rev, 5);
                CHECK_EQ_INT(c.recs[2].type, STORE_EVENT_DELETE);
                CHECK_EQ_STR(c.recs[2].key, "/a/2");
                CHECK_EQ_STR(c.recs[2].value, "w1");
                CHECK_EQ_INT(c.recs[2].create_rev, 4);
                CHECK_EQ_INT(c.recs[3].rev, 7);
                CHECK_EQ_STR(c.recs[3].prev, "v2");
                CHECK_EQ_STR(c.recs[3].value, "v3");
                CHECK_EQ_INT(c.recs[4].rev, 8);
                CHECK_EQ_STR(c.recs[4].key, "/a/3");
                CHECK(!c.recs[4].has_prev);
        }
        store_watch_cancel(w);
        CHECK_EQ_INT(store_create(s, "/a/4", "z", 1, &rev, &err), 0);
        CHECK_EQ_INT(c.n, 5); /* cancelled: nothing more */

        /* watch from the current revision: nothing replayed, only live events */
        struct collector c2;
        collector_init(&c2);
        CHECK_EQ_INT(store_watch(s, "", store_revision(s), collect, &c2, &w, &err), 0);
        CHECK_EQ_INT(c2.n, 0);
        CHECK_EQ_INT(store_delete(s, "/b/1", 0, NULL, &err), 0);
        CHECK_EQ_INT(c2.n, 1);
        if (c2.n == 1) {
                CHECK_EQ_INT(c2.recs[0].type, STORE_EVENT_DELETE);
                CHECK_EQ_STR(c2.recs[0].value, "x");
                CHECK_EQ_INT(c2.recs[0].rev, store_revision(s));
        }
        store_watch_cancel(w);

        /* a watch from a future revision only sees events after it */
        struct collector c3;
        collector_init(&c3);
        int64_t future = store_revision(s) + 3;
        CHECK_EQ_INT(store_watch(s, "/a/", future, collect, &c3, &w, &err), 0);
        for (int i = 0; i < 4; i++)
                CHECK(put(s, "/a/f", "f") > 0);
        CHECK_EQ_INT(c3.n, 1);
        if (c3.n == 1)
                CHECK_EQ_INT(c3.recs[0].rev, future + 1);
        store_watch_cancel(w);
        collector_free(&c);
        collector_free(&c2);
        collector_free(&c3);
        done(s);
}

/* Deferred acknowledgement: a committed write that is not durable yet is readable but reaches
 * no watcher (live or replaying), and no on_durable callback; once synced, all of them. */
static void flag_set(void *ud)
{
        __atomic_store_n((int *)ud, 1, __ATOMIC_SEQ_CST);
}

TEST(watch_sees_only_durable)
{
        struct store *s = open_fresh();
        CHECK(s);
        if (!s)
                return tmp_cleanup();
        struct error err = {0};
        struct collector c, c2;
        collector_init(&c);
        collector_init(&c2);
        struct store_watch *w = NULL, *w2 = NULL;
        CHECK(put(s, "/d/0", "v0") > 0);
        int64_t r0 = store_revision(s);
        CHECK_EQ_INT(store_durable_revision(s), r0); /* blocking writes return durable */
        CHECK_EQ_INT(store_watch(s, "/d/", r0, collect, &c, &w, &err), 0);

        store_sqlite_hold_sync(s, true);
        store_thread_set_deferred(true);
        int64_t rev = 0;
        CHECK_EQ_INT(store_create(s, "/d/1", "v1", 2, &rev, &err), 0);
        CHECK_EQ_INT(rev, r0 + 1);
        CHECK_EQ_INT(store_thread_last_write(), rev);
        CHECK_EQ_INT(store_revision(s), rev);
        CHECK_EQ_INT(store_durable_revision(s), r0);
        int fired = 0;
        store_on_durable(s, rev, flag_set, &fired);
        int old = 0;
        store_on_durable(s, r0, flag_set, &old); /* already durable: at once */
        CHECK_EQ_INT(old, 1);
        struct store_kv kv = {0};
        CHECK_EQ_INT(store_get(s, "/d/1", &kv, &err), 0); /* committed: readable */
        store_kv_clear(&kv);
        /* a watch replaying from before it does not get it either */
        CHECK_EQ_INT(store_watch(s, "/d/", r0 - 1, collect, &c2, &w2, &err), 0);
        usleep(100 * 1000);
        CHECK_EQ_INT(c.n, 0);
        CHECK_EQ_INT(c2.n, 1); /* only /d/0 */
        CHECK_EQ_INT(__atomic_load_n(&fired, __ATOMIC_SEQ_CST), 0);

        store_sqlite_hold_sync(s, false);
        store_wait_durable(s, rev);
        CHECK(store_durable_revision(s) >= rev);
        for (int i = 0; i < 500 && !__atomic_load_n(&fired, __ATOMIC_SEQ_CST); i++)
                usleep(10 * 1000); /* it runs on the sync thread, after the waiters wake */
        CHECK_EQ_INT(__atomic_load_n(&fired, __ATOMIC_SEQ_CST), 1);
        CHECK_EQ_INT(c.n, 1);
        CHECK_EQ_INT(c2.n, 2);
        if (c.n == 1 && c2.n == 2) {
                CHECK_EQ_INT(c.recs[0].rev, rev);
                CHECK_EQ_STR(c.recs[0].value, "v1");
                CHECK_EQ_INT(c2.recs[1].rev, rev);
        }
        CHECK(!c.out_of_order && !c2.out_of_order);
        store_thread_set_deferred(false);
        store_watch_cancel(w);
        store_watch_cancel(w2);
        collector_free(&c);
        collector_free(&c2);
        done(s);
}

TEST(watch_callback_rules)
{
        struct store *s = open_fresh();
        CHECK(s);
        if (!s)
                return tmp_cleanup();
        struct error err = {0};
        int64_t rev;
        /* a write from inside a callback is refused, not deadlocked */
        struct collector c;
        collector_init(&c);
        c.store = s;
        c.write_result = 1;
        struct store_watch *w = NULL;
        CHECK_EQ_INT(store_watch(s, "/k/", 0, collect, &c, &w, &err), 0);
        CHECK_EQ_INT(store_create(s, "/k/1", "v", 1, &rev, &err), 0);
        CHECK_EQ_INT(c.write_result, -EDEADLK);
        store_watch_cancel(w);
        c.store = NULL;

        /* a watch may cancel itself from inside its callback */
        struct collector c2;
        collector_init(&c2);
        c2.cancel_self = true;
        CHECK_EQ_INT(store_watch(s, "/k/", store_revision(s), collect, &c2, &c2.self, &err), 0);
        CHECK_EQ_INT(store_create(s, "/k/2", "v", 1, &rev, &err), 0);
        CHECK_EQ_INT(store_create(s, "/k/3", "v", 1, &rev, &err), 0);
        CHECK_EQ_INT(c2.n, 1);
        CHECK(c2.self == NULL);
        collector_free(&c);
        collector_free(&c2);
        done(s);
}

/* Watchers opened while another thread writes must see every revision once, in order. */
struct writer_arg {
        struct store *s;
        int n;
};

static void *writer_thread(void *p)
{
        struct writer_arg *a = p;
        for (int i = 0; i < a->n; i++) {
                char key[32], val[32];
                snprintf(key, sizeof(key), "/race/%d", i % 17);
                snprintf(val, sizeof(val), "%d", i);
                if (put(a->s, key, val) < 0)
                        break;
        }
        return NULL;
}

TEST(watch_no_gap_no_dup_under_writes)
{
        struct store *s = open_fresh();
        CHECK(s);
        if (!s)
                return tmp_cleanup();
        struct error err = {0};
        enum { N_WATCH = 12, N_WRITES = 1500 };
        struct collector cs[N_WATCH];
        struct store_watch *ws[N_WATCH] = {0};
        int64_t from[N_WATCH];
        struct writer_arg a = {s, N_WRITES};
        pthread_t t;
        for (int i = 0; i < 50; i++)
                put(s, "/race/seed", "x");
        pthread_create(&t, NULL, writer_thread, &a);
        for (int i = 0; i < N_WATCH; i++) {
                collector_init(&cs[i]);
                struct timespec ts = {0, 2000000};
                nanosleep(&ts, NULL);
                int64_t cur = store_revision(s);
                from[i] = i % 3 == 0 ? 0 : cur - (i * 7) % 40;
                if (from[i] < 0)
                        from[i] = 0;
                CHECK_EQ_INT(store_watch(s, "/race/", from[i], collect, &cs[i], &ws[i], &err), 0);
        }
        /* cancel some while the writer is (probably) still running */
        for (int i = N_WATCH / 2; i < N_WATCH; i += 2) {
                store_watch_cancel(ws[i]);
                ws[i] = NULL;
                pthread_mutex_lock(&cs[i].mu);
                cs[i].cancelled = true;
                pthread_mutex_unlock(&cs[i].mu);
        }
        pthread_join(t, NULL);
        int64_t last = store_revision(s);
        CHECK_EQ_INT(last, 50 + N_WRITES);
        for (int i = 0; i < N_WATCH; i++) {
                CHECK(!cs[i].called_after_cancel);
                if (ws[i]) {
                        store_watch_cancel(ws[i]);
                        CHECK_EQ_INT(cs[i].n, last - from[i]);
                }
                CHECK(!cs[i].out_of_order);
                bool contiguous = true;
                for (size_t j = 0; j < cs[i].n; j++)
                        if (cs[i].recs[j].rev != from[i] + 1 + (int64_t)j)
                                contiguous = false;
                CHECK(contiguous);
                collector_free(&cs[i]);
        }
        done(s);
}

/* Optimistic concurrency: increments with get + update(expect_rev) from several threads, while
 * readers check that every snapshot they see is consistent. */
struct cas_arg {
        struct store *s;
        int n;
        int stale;
        bool failed;
        bool *stop;
};

static void *cas_thread(void *p)
{
        struct cas_arg *a = p;
        for (int i = 0; i < a->n;) {
                struct store_kv kv = {0};
                struct error err = {0};
                if (store_get(a->s, "/cnt", &kv, &err) < 0) {
                        a->failed = true;
                        return NULL;
                }
                char val[32];
                snprintf(val, sizeof(val), "%ld", strtol(kv.value, NULL, 10) + 1);
                int r = store_update(a->s, "/cnt", val, strlen(val), kv.mod_rev, NULL, &err);
                store_kv_clear(&kv);
                if (r == -ESTALE) {
                        a->stale++;
                        continue;
                }
                if (r < 0) {
                        a->failed = true;
                        return NULL;
                }
                i++;
        }
        return NULL;
}

static void *reader_thread(void *p)
{
        struct cas_arg *a = p;
        int64_t last = 0;
        while (!__atomic_load_n(a->stop, __ATOMIC_ACQUIRE)) {
                struct store_list l = {0};
                struct error err = {0};
                if (store_list(a->s, "/", NULL, 0, 0, &l, &err) < 0 || l.n_items != 1 ||
                    l.rev < last) {
                        a->failed = true;
                        store_list_clear(&l);
                        return NULL;
                }
                /* the counter's value v was written at revision v + 1 */
                if (l.items[0].mod_rev != strtol(l.items[0].value, NULL, 10) + 1 ||
                    l.items[0].mod_rev != l.rev)
                        a->failed = true;
                last = l.rev;
                store_list_clear(&l);
                a->n++;
        }
        return NULL;
}

TEST(concurrent_cas_and_reads)
{
        struct store *s = open_fresh();
        CHECK(s);
        if (!s)
                return tmp_cleanup();
        struct error err = {0};
        enum { N_THREADS = 4, N_INC = 200 };
        CHECK_EQ_INT(store_create(s, "/cnt", "0", 1, NULL, &err), 0);
        struct collector c;
        collector_init(&c);
        struct store_watch *w = NULL;
        CHECK_EQ_INT(store_watch(s, "/cnt", 0, collect, &c, &w, &err), 0);

        bool stop = false;
        struct cas_arg args[N_THREADS + 2];
        pthread_t t[N_THREADS + 2];
        for (int i = 0; i < N_THREADS + 2; i++) {
                args[i] = (struct cas_arg){.s = s, .n = N_INC, .stop = &stop};
                if (i >= N_THREADS)
                        args[i].n = 0;
                pthread_create(&t[i], NULL, i < N_THREADS ? cas_thread : reader_thread, &args[i]);
        }
        int stale = 0;
        for (int i = 0; i < N_THREADS; i++) {
                pthread_join(t[i], NULL);
                CHECK(!args[i].failed);
                stale += args[i].stale;
        }
        __atomic_store_n(&stop, true, __ATOMIC_RELEASE);
        for (int i = N_THREADS; i < N_THREADS + 2; i++) {
                pthread_join(t[i], NULL);
                CHECK(!args[i].failed);
                CHECK(args[i].n > 0);
        }
        printf("# %d conflicts retried, %d+%d consistent lists\n", stale, args[N_THREADS].n,
               args[N_THREADS + 1].n);
        struct store_kv kv = {0};
        CHECK_EQ_INT(store_get(s, "/cnt", &kv, &err), 0);
        CHECK_EQ_INT(strtol(kv.value ? kv.value : "", NULL, 10), N_THREADS * N_INC);
        store_kv_clear(&kv);
        CHECK_EQ_INT(store_revision(s), 1 + N_THREADS * N_INC);
        store_watch_cancel(w);
        CHECK_EQ_INT(c.n, 1 + N_THREADS * N_INC);
        CHECK(!c.out_of_order);
        bool sequential = true;
        for (size_t i = 1; i < c.n; i++)
                if (strtol(c.recs[i].value, NULL, 10) != strtol(c.recs[i].prev, NULL, 10) + 1 ||
                    strtol(c.recs[i].value, NULL, 10) != (long)i)
                        sequential = false;
        CHECK(sequential);
        collector_free(&c);
        done(s);
}

TEST(compaction)
{
        struct store *s = open_fresh();
        CHECK(s);
        if (!s)
                return tmp_cleanup();
        struct error err = {0};
        struct store_list l = {0};
        struct store_kv kv = {0};
        for (int i = 0; i < 5; i++)
                put(s, "/c/a", i % 2 ? "odd" : "even");          /* 1..5 */
        put(s, "/c/b", "b1");                                    /* 6 */
        CHECK_EQ_INT(store_delete(s, "/c/b", 0, NULL, &err), 0); /* 7 */
        put(s, "/c/d", "d1");                                    /* 8 */
        put(s, "/c/a", "last");                                  /* 9 */
        CHECK_EQ_INT(table_rows("kv"), 9);

        CHECK_EQ_INT(store_compact(s, 99, &err), -EINVAL);
        CHECK_EQ_INT(store_compact(s, 8, &err), 0);
        /* kept: a@5 (latest <= 8), d@8, a@9 */
        CHECK_EQ_INT(table_rows("kv"), 3);
        CHECK_EQ_INT(store_compact(s, 3, &err), 0); /* older: no-op */

        struct collector c;
        collector_init(&c);
        struct store_watch *w = NULL;
        CHECK_EQ_INT(store_watch(s, "/c/", 7, collect, &c, &w, &err), -ERANGE);
        CHECK_EQ_INT(store_watch(s, "/c/", 8, collect, &c, &w, &err), 0);
        CHECK_EQ_INT(c.n, 1);
        if (c.n == 1) {
                CHECK_EQ_INT(c.recs[0].rev, 9);
                CHECK_EQ_STR(c.recs[0].prev, "even"); /* prev row a@5 survived compaction */
        }
        store_watch_cancel(w);
        collector_free(&c);

        CHECK_EQ_INT(store_list(s, "/c/", NULL, 0, 7, &l, &err), -ERANGE);
        CHECK_EQ_INT(store_list(s, "/c/", NULL, 0, 8, &l, &err), 0);
        CHECK_EQ_INT(l.n_items, 2);
        if (l.n_items == 2) {
                CHECK_EQ_STR(l.items[0].value, "even");
                CHECK_EQ_STR(l.items[1].key, "/c/d");
        }
        store_list_clear(&l);
        CHECK_EQ_INT(store_get(s, "/c/a", &kv, &err), 0);
        CHECK_EQ_INT(kv.create_rev, 1);
        CHECK_EQ_INT(kv.mod_rev, 9);
        store_kv_clear(&kv);

        /* the revision never goes back even though the highest rows may be compacted away */
        CHECK_EQ_INT(store_delete(s, "/c/d", 0, NULL, &err), 0); /* 10 */
        CHECK_EQ_INT(store_compact(s, 10, &err), 0);
        store_close(s);
        s = NULL;
        CHECK_EQ_INT(store_open(dbpath, &s, &err), 0);
        if (!s)
                return tmp_cleanup();
        CHECK_EQ_INT(store_revision(s), 10);
        CHECK_EQ_INT(put(s, "/c/e", "e"), 11);
        collector_init(&c);
        CHECK_EQ_INT(store_watch(s, "/c/", 9, collect, &c, &w, &err), -ERANGE);
        collector_free(&c);
        done(s);
}

TEST(auto_compaction_bounds_history)
{
        struct store *s = open_fresh();
        CHECK(s);
        if (!s)
                return tmp_cleanup();
        struct error err = {0};
        for (int i = 0; i < 12500; i++) {
                char key[32];
                snprintf(key, sizeof(key), "/auto/%d", i % 10);
                if (put(s, key, "v") < 0) {
                        CHECK(!"put failed");
                        break;
                }
        }
        long long rows = table_rows("kv");
        CHECK(rows <= 10000 + 1000 + 10);
        CHECK(rows >= 10000);
        struct collector c;
        collector_init(&c);
        struct store_watch *w = NULL;
        CHECK_EQ_INT(store_watch(s, "/auto/", 0, collect, &c, &w, &err), -ERANGE);
        CHECK_EQ_INT(store_watch(s, "/auto/", store_revision(s) - 5000, collect, &c, &w, &err), 0);
        CHECK_EQ_INT(c.n, 5000);
        store_watch_cancel(w);
        collector_free(&c);
        int64_t n;
        CHECK_EQ_INT(store_count(s, "/auto/", &n, &err), 0);
        CHECK_EQ_INT(n, 10);
        done(s);
}

/* A TTL key's deadline is stored: it expires after a restart too, and is not early. */
TEST(ttl_survives_reopen)
{
        struct store *s = open_fresh();
        CHECK(s);
        if (!s)
                return tmp_cleanup();
        struct error err = {0};
        struct store_kv kv = {0};
        CHECK_EQ_INT(store_create_ttl(s, "/ttl/a", "x", 1, 2, NULL, &err), 0);
        CHECK_EQ_INT(store_create(s, "/ttl/b", "y", 1, NULL, &err), 0);
        store_close(s);
        s = NULL;
        CHECK_EQ_INT(store_open(dbpath, &s, &err), 0);
        if (!s)
                return tmp_cleanup();
        CHECK_EQ_INT(store_get(s, "/ttl/a", &kv, &err), 0); /* not before its TTL */
        store_kv_clear(&kv);
        int r = 0;
        for (int i = 0; i < 60; i++) { /* 2 s TTL + the 1 s rounding + a 0.5 s tick, at most */
                r = store_get(s, "/ttl/a", &kv, &err);
                store_kv_clear(&kv);
                if (r == -ENOENT)
                        break;
                usleep(100 * 1000);
        }
        CHECK_EQ_INT(r, -ENOENT);
        CHECK_EQ_INT(store_get(s, "/ttl/b", &kv, &err), 0);
        store_kv_clear(&kv);
        done(s);
}

TEST(reopen_keeps_data_and_revision)
{
        struct store *s = open_fresh();
        CHECK(s);
        if (!s)
                return tmp_cleanup();
        struct error err = {0};
        struct store_kv kv = {0};
        put(s, "/p/1", "a");
        put(s, "/p/2", "b");
        put(s, "/p/1", "c");
        store_delete(s, "/p/2", 0, NULL, &err);
        CHECK_EQ_INT(store_revision(s), 4);

        /* a second opener is refused while the first holds the database */
        struct store *s2 = NULL;
        CHECK_EQ_INT(store_open(dbpath, &s2, &err), -EBUSY);
        CHECK(strstr(err.msg, dbpath) != NULL);

        store_close(s);
        s = NULL;
        char ep[200];
        snprintf(ep, sizeof(ep), "sqlite://%s", dbpath);
        CHECK_EQ_INT(store_open(ep, &s, &err), 0);
        if (!s)
                return tmp_cleanup();
        CHECK_EQ_INT(store_revision(s), 4);
        CHECK_EQ_INT(store_get(s, "/p/1", &kv, &err), 0);
        CHECK_EQ_STR(kv.value, "c");
        CHECK_EQ_INT(kv.mod_rev, 3);
        store_kv_clear(&kv);
        CHECK_EQ_INT(store_get(s, "/p/2", &kv, &err), -ENOENT);
        CHECK_EQ_INT(put(s, "/p/3", "d"), 5);
        struct collector c;
        collector_init(&c);
        struct store_watch *w = NULL;
        CHECK_EQ_INT(store_watch(s, "/p/", 0, collect, &c, &w, &err), 0);
        CHECK_EQ_INT(c.n, 5);
        store_watch_cancel(w);
        collector_free(&c);
        done(s);
}

TEST(open_errors)
{
        struct store *s = NULL;
        struct error err = {0};
        char path[200];
        tmp_setup();

        /* not a database */
        snprintf(path, sizeof(path), "%s/junk.db", tmpdir);
        FILE *f = fopen(path, "w");
        CHECK(f);
        if (f) {
                for (int i = 0; i < 512; i++)
                        fputs("this is not a database!\n", f);
                fclose(f);
        }
        CHECK_EQ_INT(store_open(path, &s, &err), -EIO);
        CHECK(strstr(err.msg, "not a database") != NULL);
        CHECK(strstr(err.msg, path) != NULL);
        printf("# %s\n", err.msg);

        /* a real database with its pages overwritten */
        memset(&err, 0, sizeof(err));
        CHECK_EQ_INT(store_open(dbpath, &s, &err), 0);
        if (s) {
                char key[32], val[300];
                memset(val, 'v', sizeof(val) - 1);
                val[sizeof(val) - 1] = 0;
                for (int i = 0; i < 200; i++) {
                        snprintf(key, sizeof(key), "/k/%d", i);
                        put(s, key, val);
                }
                store_close(s);
                s = NULL;
        }
        int fd = open(dbpath, O_WRONLY);
        CHECK(fd >= 0);
        if (fd >= 0) {
                char junk[4096];
                memset(junk, 0x5a, sizeof(junk));
                for (off_t off = 4096; off < 40 * 4096; off += 4096)
                        CHECK(pwrite(fd, junk, sizeof(junk), off) == sizeof(junk));
                close(fd);
        }
        memset(&err, 0, sizeof(err));
        CHECK_EQ_INT(store_open(dbpath, &s, &err), -EIO);
        CHECK(strstr(err.msg, dbpath) != NULL);
        printf("# %s\n", err.msg);
        if (s)
                store_close(s);
        s = NULL;

        /* a parent that is a file: clear error, no crash */
        snprintf(path, sizeof(path), "%s/junk.db/sub/state.db", tmpdir);
        memset(&err, 0, sizeof(err));
        CHECK(store_open(path, &s, &err) < 0);
        CHECK(strstr(err.msg, "junk.db") != NULL);
        printf("# %s\n", err.msg);

        /* an unwritable directory (chmod does not stop root: use a read-only file system) */
        memset(&err, 0, sizeof(err));
        CHECK(store_open("/proc/timonel-test/state.db", &s, &err) < 0);
        CHECK(err.msg[0] != 0);
        printf("# %s\n", err.msg);

        /* endpoints */
        CHECK_EQ_INT(store_open("etcd://127.0.0.1:2379", &s, &err), -EINVAL);
        CHECK_EQ_INT(store_open("sqlite://relative.db", &s, &err), -EINVAL);
        tmp_cleanup();
}

/* kill -9 a writer: every write it acknowledged must be there after reopening. */
TEST(kill9_durability)
{
        tmp_setup();
        int p[2];
        CHECK(pipe(p) == 0);
        pid_t pid = fork();
        if (pid == 0) {
                close(p[0]);
                struct store *s = NULL;
                struct error err = {0};
                if (store_open(dbpath, &s, &err) < 0)
                        _exit(2);
                for (int64_t i = 0;; i++) {
                        char key[32];
                        int64_t rev;
                        snprintf(key, sizeof(key), "/dur/%lld", (long long)i);
                        if (store_create(s, key, key, strlen(key), &rev, &err) < 0)
                                _exit(3);
                        int64_t msg[2] = {i, rev};
                        if (write(p[1], msg, sizeof(msg)) != sizeof(msg))
                                _exit(4);
                }
        }
        close(p[1]);
        /* Collect acknowledgements until the child is well into its loop (or 10 s pass), kill it
         * mid-stream, then take what was still in the pipe: all of them were acknowledged. */
        size_t cap = 1024, n_acks = 0;
        int64_t(*acks)[2] = malloc(cap * sizeof(*acks));
        time_t deadline = time(NULL) + 10;
        bool killed = false;
        for (;;) {
                if (!killed && (n_acks >= 500 || time(NULL) > deadline)) {
                        kill(pid, SIGKILL);
                        killed = true;
                }
                struct pollfd pfd = {.fd = p[0], .events = POLLIN};
                if (poll(&pfd, 1, 100) == 0)
                        continue;
                int64_t msg[2];
                if (read(p[0], msg, sizeof(msg)) != sizeof(msg))
                        break; /* EOF after the kill (or a torn last message) */
                if (n_acks == cap)
                        acks = realloc(acks, (cap *= 2) * sizeof(*acks));
                acks[n_acks][0] = msg[0];
                acks[n_acks][1] = msg[1];
                n_acks++;
        }
        if (!killed)
                kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        int64_t acked = 0, missing = 0, last_rev = 0;
        struct store *s = NULL;
        struct error err = {0};
        CHECK_EQ_INT(store_open(dbpath, &s, &err), 0);
        for (size_t i = 0; s && i < n_acks; i++) {
                char key[32];
                struct store_kv kv = {0};
                snprintf(key, sizeof(key), "/dur/%lld", (long long)acks[i][0]);
                if (store_get(s, key, &kv, &err) < 0 || kv.mod_rev != acks[i][1] ||
                    strcmp(kv.value, key) != 0)
                        missing++;
                store_kv_clear(&kv);
                acked++;
                last_rev = acks[i][1];
        }
        free(acks);
        close(p[0]);
        printf("# %lld acknowledged writes before SIGKILL, %lld missing\n", (long long)acked,
               (long long)missing);
        CHECK(acked >= 500);
        CHECK_EQ_INT(missing, 0);
        if (s) {
                CHECK(store_revision(s) >= last_rev);
                CHECK(store_revision(s) <= last_rev + 1); /* at most one unacknowledged commit */
                store_close(s);
        }
        tmp_cleanup();
}

/* ---- group commit: concurrent writers share commits ---- */

#define GC_THREADS 8
#define GC_WRITES 300

struct gc_ack {
        int64_t rev;
        int op; /* 0 create, 1 update, 2 delete */
        char key[32];
        pthread_t thread;
};

struct gc_state {
        struct store *s;
        pthread_mutex_t mu;
        struct gc_ack acks[GC_THREADS * GC_WRITES];
        size_t n_acks;
        int n_conflict, n_exists, n_absent, n_other;
        /* events, by revision */
        struct {
                int type;
                char key[32];
                pthread_t thread;
        } ev[GC_THREADS * GC_WRITES + 1];
        int64_t ev_last;
        bool ev_bad_order;
        bool ev_overflow;
};

static void gc_collect(const struct store_event *ev, void *ud)
{
        struct gc_state *g = ud;
        pthread_mutex_lock(&g->mu);
        if (ev->rev <= g->ev_last)
                g->ev_bad_order = true;
        g->ev_last = ev->rev;
        if (ev->rev < 1 || ev->rev > GC_THREADS * GC_WRITES) {
                g->ev_overflow = true;
        } else {
                g->ev[ev->rev].type = ev->type;
                snprintf(g->ev[ev->rev].key, sizeof(g->ev[ev->rev].key), "%s", ev->key);
                g->ev[ev->rev].thread = pthread_self();
        }
        pthread_mutex_unlock(&g->mu);
}

static void *gc_writer(void *ud)
{
        struct gc_state *g = ud;
        unsigned seed = (unsigned)(uintptr_t)pthread_self();
        for (int i = 0; i < GC_WRITES; i++) {
                char key[32];
                snprintf(key, sizeof(key), "/gc/k%d", rand_r(&seed) % 20);
                struct error err = {0};
                int64_t rev = 0;
                int op = rand_r(&seed) % 3, r;
                if (op == 0) {
                        r = store_create(g->s, key, key, strlen(key), &rev, &err);
                } else if (op == 1) {
                        /* a CAS against a possibly stale revision: some fail with -ESTALE */
                        struct store_kv kv = {0};
                        int64_t expect = 0;
                        if (store_get(g->s, key, &kv, NULL) == 0)
                                expect = kv.mod_rev;
                        store_kv_clear(&kv);
                        r = store_update(g->s, key, "u", 1, expect ? expect : 1, &rev, &err);
                } else {
                        struct store_kv prev = {0};
                        r = store_delete(g->s, key, 0, &prev, &err);
                        if (r >= 0)
                                rev = prev.mod_rev;
                        store_kv_clear(&prev);
                }
                pthread_mutex_lock(&g->mu);
                if (r >= 0) {
                        struct gc_ack *a = &g->acks[g->n_acks++];
                        a->rev = rev;
                        a->op = op;
                        snprintf(a->key, sizeof(a->key), "%s", key);
                        a->thread = pthread_self();
                } else if (r == -ESTALE) {
                        g->n_conflict++;
                } else if (r == -EEXIST) {
                        g->n_exists++;
                } else if (r == -ENOENT) {
                        g->n_absent++;
                } else {
                        g->n_other++;
                        printf("# unexpected: %s\n", error_msg(&err));
                }
                pthread_mutex_unlock(&g->mu);
        }
        return NULL;
}

TEST(group_commit_concurrent_writers)
{
        struct store *s = open_fresh();
        CHECK(s != NULL);
        if (!s)
                return;
        struct gc_state *g = calloc(1, sizeof(*g));
        g->s = s;
        pthread_mutex_init(&g->mu, NULL);
        struct store_watch *w = NULL;
        struct error err = {0};
        CHECK_EQ_INT(store_watch(s, "/gc/", 0, gc_collect, g, &w, &err), 0);
        pthread_t th[GC_THREADS];
        for (int i = 0; i < GC_THREADS; i++)
                pthread_create(&th[i], NULL, gc_writer, g);
        for (int i = 0; i < GC_THREADS; i++)
                pthread_join(th[i], NULL);
        store_watch_cancel(w);
        uint64_t syncs = store_sqlite_syncs(s);

        /* Failed requests consume no revision: the acknowledged writes are exactly 1..n. */
        int64_t n = (int64_t)g->n_acks;
        CHECK_EQ_INT(store_revision(s), n);
        CHECK_EQ_INT(g->n_other, 0);
        CHECK(g->n_conflict + g->n_exists + g->n_absent > 0);
        CHECK(!g->ev_bad_order);
        CHECK(!g->ev_overflow);
        CHECK_EQ_INT(g->ev_last, n);
        bool *seen = calloc((size_t)n + 1, sizeof(bool));
        int mismatched = 0, foreign = 0;
        for (size_t i = 0; i < g->n_acks; i++) {
                struct gc_ack *a = &g->acks[i];
                if (a->rev < 1 || a->rev > n || seen[a->rev]) {
                        mismatched++;
                        continue;
                }
                seen[a->rev] = true;
                int want = a->op == 2 ? STORE_EVENT_DELETE : STORE_EVENT_PUT;
                if (g->ev[a->rev].type != want || strcmp(g->ev[a->rev].key, a->key) != 0)
                        mismatched++;
                /* events come from the sync thread, never the writer's own */
                if (!pthread_equal(g->ev[a->rev].thread, a->thread))
                        foreign++;
        }
        printf("# %lld writes acknowledged (%d conflicts, %d exists, %d absent) with %llu "
               "fdatasyncs\n",
               (long long)n, g->n_conflict, g->n_exists, g->n_absent, (unsigned long long)syncs);
        CHECK_EQ_INT(mismatched, 0);
        CHECK_EQ_INT(foreign, (int)n);
        /* group commit: concurrent writers share syncs (each waited for its own durability) */
        CHECK(syncs > 0 && syncs < (uint64_t)n);
        /* The final state agrees with the last acknowledged write of each key. */
        for (int k = 0; k < 20; k++) {
                char key[32];
                snprintf(key, sizeof(key), "/gc/k%d", k);
                int64_t last = 0;
                int last_op = -1;
                for (size_t i = 0; i < g->n_acks; i++)
                        if (!strcmp(g->acks[i].key, key) && g->acks[i].rev > last) {
                                last = g->acks[i].rev;
                                last_op = g->acks[i].op;
                        }
                struct store_kv kv = {0};
                int r = store_get(s, key, &kv, NULL);
                if (last_op == 2 || last_op == -1)
                        CHECK_EQ_INT(r, -ENOENT);
                else
                        CHECK(r == 0 && kv.mod_rev == last);
                store_kv_clear(&kv);
        }
        free(seen);
        pthread_mutex_destroy(&g->mu);
        free(g);
        done(s);
}

/* kill -9 while 8 threads write: every acknowledged write is there after reopening. */
static struct store *k9_store;
static int k9_fd;

static void *k9_writer(void *ud)
{
        int64_t t = (int64_t)(intptr_t)ud;
        for (int64_t i = 0;; i++) {
                char key[48];
                int64_t rev;
                snprintf(key, sizeof(key), "/dur8/%lld-%lld", (long long)t, (long long)i);
                if (store_create(k9_store, key, key, strlen(key), &rev, NULL) < 0)
                        _exit(3);
                int64_t msg[3] = {t, i, rev}; /* one write(2) < PIPE_BUF: atomic */
                if (write(k9_fd, msg, sizeof(msg)) != sizeof(msg))
                        _exit(4);
        }
        return NULL;
}

TEST(kill9_durability_concurrent)
{
        tmp_setup();
        int p[2];
        CHECK(pipe(p) == 0);
        pid_t pid = fork();
        if (pid == 0) {
                close(p[0]);
                struct error err = {0};
                if (store_open(dbpath, &k9_store, &err) < 0)
                        _exit(2);
                k9_fd = p[1];
                pthread_t th[8];
                for (intptr_t i = 0; i < 8; i++)
                        pthread_create(&th[i], NULL, k9_writer, (void *)i);
                pause();
                _exit(0);
        }
        close(p[1]);
        size_t cap = 4096, n = 0;
        int64_t(*acks)[3] = malloc(cap * sizeof(*acks));
        time_t deadline = time(NULL) + 10;
        bool killed = false;
        for (;;) {
                if (!killed && (n >= 2000 || time(NULL) > deadline)) {
                        kill(pid, SIGKILL);
                        killed = true;
                }
                struct pollfd pfd = {.fd = p[0], .events = POLLIN};
                if (poll(&pfd, 1, 100) == 0)
                        continue;
                int64_t msg[3];
                if (read(p[0], msg, sizeof(msg)) != sizeof(msg))
                        break;
                if (n == cap)
                        acks = realloc(acks, (cap *= 2) * sizeof(*acks));
                memcpy(acks[n++], msg, sizeof(msg));
        }
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        struct store *s = NULL;
        struct error err = {0};
        CHECK_EQ_INT(store_open(dbpath, &s, &err), 0);
        int64_t missing = 0, maxrev = 0;
        for (size_t i = 0; s && i < n; i++) {
                char key[48];
                struct store_kv kv = {0};
                snprintf(key, sizeof(key), "/dur8/%lld-%lld", (long long)acks[i][0],
                         (long long)acks[i][1]);
                if (store_get(s, key, &kv, &err) < 0 || kv.mod_rev != acks[i][2] ||
                    strcmp(kv.value, key) != 0)
                        missing++;
                if (acks[i][2] > maxrev)
                        maxrev = acks[i][2];
                store_kv_clear(&kv);
        }
        printf("# 8 writers: %zu acknowledged writes before SIGKILL, %lld missing\n", n,
               (long long)missing);
        CHECK(n >= 1000);
        CHECK_EQ_INT(missing, 0);
        if (s) {
                /* Nothing half-written: every stored key under /dur8/ is a complete row. */
                struct store_list l = {0};
                CHECK_EQ_INT(store_list(s, "/dur8/", NULL, 0, 0, &l, &err), 0);
                int bad = 0;
                for (size_t i = 0; i < l.n_items; i++)
                        if (strcmp(l.items[i].key, l.items[i].value) != 0)
                                bad++;
                CHECK_EQ_INT(bad, 0);
                CHECK(l.n_items >= n);
                CHECK(store_revision(s) >= maxrev);
                store_list_clear(&l);
                store_close(s);
        }
        free(acks);
        close(p[0]);
        tmp_cleanup();
}

/* The disk fills up (RLIMIT_FSIZE in a child stands in for ENOSPC) while 8 threads write:
 * failed batches are rolled back whole, consume no revision, and once there is room again the
 * same store writes on. Every acknowledged write is there after reopening, nothing else is. */
#define FULL_THREADS 8
static atomic_int full_acked, full_failed;
static atomic_bool full_stop;
static struct store *full_store;

static void *full_writer(void *ud)
{
        int t = (int)(intptr_t)ud;
        static char big[4096];
        memset(big, 'x', sizeof(big) - 1);
        for (int i = 0; !atomic_load(&full_stop) && i < 100000; i++) {
                char key[48];
                snprintf(key, sizeof(key), "/full/%d-%d", t, i);
                struct error err = {0};
                int64_t rev;
                if (store_create(full_store, key, big, sizeof(big) - 1, &rev, &err) == 0)
                        atomic_fetch_add(&full_acked, 1);
                else if (atomic_fetch_add(&full_failed, 1) == 0)
                        printf("# first failure: %s\n", error_msg(&err));
        }
        return NULL;
}

static int full_child(void)
{
        struct error err = {0};
        signal(SIGXFSZ, SIG_IGN);
        if (store_open(dbpath, &full_store, &err) < 0)
                return 10;
        struct stat st;
        if (stat(dbpath, &st) < 0)
                return 11;
        /* room for a few hundred KiB more in any file (the WAL grows first) */
        struct rlimit rl = {.rlim_cur = 512 * 1024, .rlim_max = RLIM_INFINITY};
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
                return 12;
        pthread_t th[FULL_THREADS];
        for (intptr_t i = 0; i < FULL_THREADS; i++)
                pthread_create(&th[i], NULL, full_writer, (void *)i);
        for (int i = 0; i < 500 && atomic_load(&full_failed) < 50; i++)
                usleep(10000);
        int acked_full = atomic_load(&full_acked), failed = atomic_load(&full_failed);
        if (failed == 0)
                return 13; /* the limit never hit: the test proves nothing */
        if (store_revision(full_store) < acked_full)
                return 14;
        /* room again: the writers carry on and succeed */
        rl.rlim_cur = RLIM_INFINITY;
        setrlimit(RLIMIT_FSIZE, &rl);
        int f0 = atomic_load(&full_failed), a0 = atomic_load(&full_acked);
        for (int i = 0; i < 500 && atomic_load(&full_acked) < a0 + 200; i++)
                usleep(10000);
        atomic_store(&full_stop, true);
        for (int i = 0; i < FULL_THREADS; i++)
                pthread_join(th[i], NULL);
        int acked = atomic_load(&full_acked);
        printf("# %d acknowledged before the file limit, %d failed writes, %d acknowledged in all, "
               "%d failed after room came back\n",
               acked_full, failed, acked, atomic_load(&full_failed) - f0);
        if (acked < a0 + 200)
                return 15;
        /* failed writes consumed no revision */
        if (store_revision(full_store) != acked)
                return 16;
        store_close(full_store);
        struct store *s = NULL;
        if (store_open(dbpath, &s, &err) < 0)
                return 17;
        struct store_list l = {0};
        if (store_list(s, "/full/", NULL, 0, 0, &l, &err) < 0)
                return 18;
        int rc = (int)l.n_items == acked ? 0 : 19;
        if (store_revision(s) != acked)
                rc = 20;
        for (size_t i = 0; i < l.n_items; i++)
                if (l.items[i].value_len != 4095)
                        rc = 21;
        store_list_clear(&l);
        store_close(s);
        return rc;
}

TEST(disk_full_batches_roll_back)
{
        tmp_setup();
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
                int rc = full_child();
                fflush(stdout);
                _exit(rc);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status));
        CHECK_EQ_INT(WEXITSTATUS(status), 0);
        tmp_cleanup();
}

int main(void)
{
        RUN(crud_revisions);
        RUN(list_prefix_limit_pagination);
        RUN(prefix_with_high_bytes);
        RUN(watch_replay_then_live);
        RUN(watch_sees_only_durable);
        RUN(watch_callback_rules);
        RUN(watch_no_gap_no_dup_under_writes);
        RUN(concurrent_cas_and_reads);
        RUN(compaction);
        RUN(auto_compaction_bounds_history);
        RUN(reopen_keeps_data_and_revision);
        RUN(ttl_survives_reopen);
        RUN(open_errors);
        RUN(kill9_durability);
        RUN(group_commit_concurrent_writers);
        RUN(kill9_durability_concurrent);
        RUN(disk_full_batches_roll_back);
        tmp_cleanup();
        return harness_done();
}
