/* store-sqlite.c — the store on embedded SQLite (kine's design, bounded).
 *
 * Schema:
 *   kv(rev PK AUTOINCREMENT, key, created, deleted, create_rev, prev_rev, value)
 *        one row per write; rev is the cluster revision. A deletion is a row with deleted = 1
 *        that carries the last value (so DELETE events are self-contained). prev_rev is the
 *        previous row of the same key (0 if none), which compaction follows.
 *   current(key PK, rev)   the latest live row of each key: get/list/count of the current state
 *                          never touch history.
 *   meta(name PK, value)   'compact_rev'.
 * The revision counter is sqlite_sequence's value for kv, so it survives compaction of the
 * highest rows and never goes backwards.
 *
 * Durability (deferred acknowledgement): journal_mode=WAL, synchronous=NORMAL. SQLite then does
 * not sync at COMMIT: the transaction's frames are write()n to the -wal file and the commit is
 * visible to readers, but a power loss may roll it back. SQLite's documentation (pragma.html
 * #pragma_synchronous, wal.html) says that in WAL mode with NORMAL "the WAL file is synchronized
 * before each checkpoint and the database file is synchronized after each completed checkpoint
 * and the WAL file header is synchronized when a WAL file begins to be reused after a
 * checkpoint", and that WAL+NORMAL is always consistent (never corrupt). So a commit is durable
 * once the WAL bytes up to its commit frame are on disk, either by SQLite's checkpoint sync or by
 * ours: the sync thread holds its own fd on the -wal file (the same inode as SQLite's: SQLite
 * truncates and rewrites it in place and unlinks it only when the last connection closes, after
 * our thread has stopped), and after a commit it fdatasync()s that fd and advances
 * durable_rev to the revision committed before the sync began. Frames written before that
 * revision's COMMIT returned are covered; frames a checkpoint already copied into the database
 * file were synced by the checkpoint itself before the WAL could be reused. One fdatasync
 * covers every commit made meanwhile, so concurrent writers (and the pipelined commits of the
 * API server's loop, which does not wait: store_thread_set_deferred) share syncs: group commit.
 * Watch events are queued at COMMIT and released to watchers by the sync thread only once
 * durable, so no watcher ever sees a write that a crash could take back. A failing fdatasync
 * aborts the process (as etcd does): after it the kernel may have dropped the dirty pages and a
 * retried sync would report success falsely.
 *
 * Threads: one writer connection under wmu. Writes are group-committed (see "group commit"
 * below): concurrent writers queue, one of them commits the whole queue as one BEGIN IMMEDIATE
 * ... COMMIT under wmu and queues the batch's events. The sync thread makes them durable and fans
 * them out under dmu (recursive, so that a watch callback can cancel its own watch), which also
 * protects the watcher hub. Reads use a pool of reader connections (WAL: readers never block the
 * writer). A second process opening the same file is refused with an flock on "<path>.lock",
 * because the writer keeps the revision in memory.
 *
 * Compaction: rows <= C that are superseded (some later row of the key exists at or below C)
 * and deletion rows <= C are removed. Done incrementally over (previous C, C] by following
 * prev_rev from the rows in that range. Automatic every STORE_COMPACT_EVERY writes or
 * STORE_COMPACT_INTERVAL seconds, keeping the last STORE_KEEP_REVS revisions. */
#include "common/fs.h"
#include "store/store-internal.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "common/log.h"

#define STORE_KEEP_REVS 10000
#define STORE_COMPACT_EVERY 1000
#define STORE_COMPACT_INTERVAL 300
#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_MAX_READERS 32
#define STORE_BATCH_MAX 256           /* requests per group commit */
#define STORE_EXPIRY_TICK_MS 500      /* how often keys of store_create_ttl are checked */
#define STORE_CHECKPOINT_FRAMES 500   /* WAL frames between the sync thread's checkpoints */
#define STORE_WAL_AUTOCHECKPOINT 1000 /* the writer's own checkpoint (SQLite's default) */

enum stmt_id {
        ST_BEGIN,
        ST_BEGIN_IMM,
        ST_COMMIT,
        ST_ROLLBACK,
        ST_REVS,
        ST_GET,
        ST_LAST,
        ST_LIST_CUR,
        ST_LIST_AT,
        ST_COUNT,
        ST_INSERT,
        ST_CUR_SET,
        ST_CUR_DEL,
        ST_REPLAY,
        ST_COMPACT_PREV,
        ST_COMPACT_TOMB,
        ST_META_SET,
        ST_EXP_SET,
        ST_EXP_DEL,
        ST_EXP_DUE,
        N_STMT
};

/* ?1 lower bound (prefix), ?2 upper bound (TEXT, or a zero-length BLOB which sorts after every
 * TEXT: no bound), ?3 start_after ("" = none), ?4 limit (-1 = none), ?5 at_rev. */
static const char *const stmt_sql[N_STMT] = {
        [ST_BEGIN] = "BEGIN",
        [ST_BEGIN_IMM] = "BEGIN IMMEDIATE",
        [ST_COMMIT] = "COMMIT",
        [ST_ROLLBACK] = "ROLLBACK",
        [ST_REVS] = "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'kv'), 0), "
                    "COALESCE((SELECT value FROM meta WHERE name = 'compact_rev'), 0)",
        [ST_GET] = "SELECT k.create_rev, k.rev, k.value FROM current c JOIN kv k ON k.rev = c.rev "
                   "WHERE c.key = ?1",
        [ST_LAST] = "SELECT MAX(rev) FROM kv WHERE key = ?1",
        [ST_LIST_CUR] = "SELECT c.key, k.create_rev, k.rev, k.value FROM current c "
                        "JOIN kv k ON k.rev = c.rev "
                        "WHERE c.key >= ?1 AND c.key < ?2 AND c.key > ?3 ORDER BY c.key LIMIT ?4",
        [ST_LIST_AT] = "SELECT k.key, k.create_rev, k.rev, k.value FROM kv k JOIN "
                       "(SELECT MAX(rev) AS r FROM kv WHERE key >= ?1 AND key < ?2 AND key > ?3 "
                       "AND rev <= ?5 GROUP BY key) m ON k.rev = m.r "
                       "WHERE k.deleted = 0 ORDER BY k.key LIMIT ?4",
        [ST_COUNT] = "SELECT COUNT(*) FROM current WHERE key >= ?1 AND key < ?2",
        [ST_INSERT] = "INSERT INTO kv(rev, key, created, deleted, create_rev, prev_rev, value) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        [ST_CUR_SET] = "INSERT INTO current(key, rev) VALUES (?1, ?2) "
                       "ON CONFLICT(key) DO UPDATE SET rev = excluded.rev",
        [ST_CUR_DEL] = "DELETE FROM current WHERE key = ?1",
        /* "+k.key": walk the rev (rowid) range, not the key index. */
        [ST_REPLAY] = "SELECT k.rev, k.key, k.created, k.deleted, k.create_rev, k.value, p.value "
                      "FROM kv k LEFT JOIN kv p ON p.rev = k.prev_rev AND k.created = 0 "
                      "AND k.deleted = 0 "
                      "WHERE k.rev > ?1 AND k.rev <= ?2 AND +k.key >= ?3 AND +k.key < ?4 "
                      "ORDER BY k.rev",
        [ST_COMPACT_PREV] = "DELETE FROM kv WHERE rev IN (SELECT prev_rev FROM kv "
                            "WHERE rev > ?1 AND rev <= ?2 AND prev_rev > 0)",
        [ST_COMPACT_TOMB] = "DELETE FROM kv WHERE rev > ?1 AND rev <= ?2 AND deleted = 1",
        [ST_EXP_SET] = "INSERT INTO expiry(key, at) VALUES (?1, ?2) "
                       "ON CONFLICT(key) DO UPDATE SET at = excluded.at",
        [ST_EXP_DEL] = "DELETE FROM expiry WHERE key = ?1",
        [ST_EXP_DUE] = "SELECT e.key, c.rev FROM expiry e JOIN current c ON c.key = e.key "
                       "WHERE e.at <= ?1 ORDER BY e.at LIMIT 256",
        [ST_META_SET] = "INSERT INTO meta(name, value) VALUES ('compact_rev', ?1) "
                        "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
};

static const char schema_sql[] =
        "CREATE TABLE IF NOT EXISTS kv (rev INTEGER PRIMARY KEY AUTOINCREMENT, "
        "key TEXT NOT NULL, created INTEGER NOT NULL, deleted INTEGER NOT NULL, "
        "create_rev INTEGER NOT NULL, prev_rev INTEGER NOT NULL, value BLOB NOT NULL);"
        "CREATE INDEX IF NOT EXISTS kv_key_rev ON kv(key, rev);"
        "CREATE TABLE IF NOT EXISTS current (key TEXT PRIMARY KEY, rev INTEGER NOT NULL) "
        "WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS expiry (key TEXT PRIMARY KEY, at INTEGER NOT NULL) "
        "WITHOUT ROWID;"
        "CREATE INDEX IF NOT EXISTS expiry_at ON expiry(at);"
        "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) "
        "WITHOUT ROWID;";

struct conn {
        sqlite3 *db;
        sqlite3_stmt *st[N_STMT]; /* prepared lazily, persistent */
        struct conn *next_free;   /* reader pool: free list */
        struct conn *next_all;    /* reader pool: every open reader */
};

struct wreq;

/* A committed event waiting for durability (one allocation: key, value, prev follow). */
struct qevent {
        struct qevent *next;
        struct store_event ev;
};

/* A store_on_durable registration. */
struct dwaiter {
        struct dwaiter *next;
        int64_t rev;
        store_durable_fn fn;
        void *userdata;
};

struct sqlite_store {
        struct store base;
        char *path;
        int lock_fd;

        /* wmu protects: w, compact_rev, writes_since_compact, last_compact, and the writes to
         * rev. Held for each write transaction. Lock order: wmu before dmu. */
        pthread_mutex_t wmu;
        struct conn w;
        int64_t compact_rev;
        unsigned writes_since_compact;
        time_t last_compact;
        int64_t rev; /* latest committed revision; read with __atomic without wmu */

        /* qmu protects the group-commit queue (qhead/qtail), leading and every queued
         * request's done flag; qcond is broadcast when a batch is finished. Lock order: a
         * leader releases qmu before taking wmu. */
        pthread_mutex_t qmu;
        pthread_cond_t qcond;
        struct wreq *qhead, **qtail;
        bool leading;

        /* dmu (recursive) protects: hub, the event queue, committed_rev, durable_rev, waiters,
         * sync_stop. dcond: the sync thread waits for commits, writers for durability. */
        pthread_mutex_t dmu;
        pthread_cond_t dcond;
        struct store_watch_hub hub;
        struct qevent *evq, **evq_tail;
        struct dwaiter *waiters;
        int64_t committed_rev; /* newest revision whose COMMIT returned */
        int64_t durable_rev;   /* read with __atomic without dmu */
        bool sync_stop;
        bool sync_hold;   /* tests: store_sqlite_hold_sync */
        uint64_t n_syncs; /* fdatasyncs done (atomic; tests: store_sqlite_syncs) */
        bool sync_running;
        pthread_cond_t scond; /* the sync thread waits here for commits */
        pthread_t sync_thread;
        int wal_fd;
        /* Checkpoints: the sync thread runs them early on its own connection, so that the
         * writer's own one after a COMMIT (which stalls the API server's loop for the page
         * copies and two fsyncs, but is what lets the WAL restart: see wal_hook) finds little
         * left to do. The writer's WAL hook publishes the WAL's frame count. */
        struct conn ck;
        int wal_frames;  /* atomic: frames in the WAL after the last commit */
        int ckpt_frames; /* sync thread: the WAL's frame count at the last checkpoint */

        /* emu protects exp_stop; econd (CLOCK_MONOTONIC) wakes the expiry thread. */
        pthread_mutex_t emu;
        pthread_cond_t econd;
        bool exp_stop;
        bool exp_running;
        pthread_t exp_thread;

        /* rmu protects the reader pool: free list and count. */
        pthread_mutex_t rmu;
        pthread_cond_t rcond;
        struct conn *free_readers;
        struct conn *all_readers;
        size_t n_readers; /* open or being opened */
};

#define SQ(s) ((struct sqlite_store *)(s))

/* ---- statements ---- */

static int db_error(sqlite3 *db, struct error *err, const char *path, const char *what)
{
        return error_set(err, -EIO, "%s: %s: %s", path, what, sqlite3_errmsg(db));
}

static sqlite3_stmt *stmt_get(struct sqlite_store *s, struct conn *c, enum stmt_id id,
                              struct error *err)
{
        if (!c->st[id]) {
                int r = sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                           &c->st[id], NULL);
                if (r != SQLITE_OK) {
                        db_error(c->db, err, s->path, "prepare");
                        c->st[id] = NULL;
                        return NULL;
                }
        }
        return c->st[id];
}

static void stmt_donep(sqlite3_stmt **st)
{
        if (*st) {
                sqlite3_reset(*st);
                sqlite3_clear_bindings(*st);
        }
}
#define _cleanup_stmt_ _cleanup_(stmt_donep)

/* Run a statement without parameters or results (BEGIN, COMMIT, ...). */
static int exec_simple(struct sqlite_store *s, struct conn *c, enum stmt_id id, struct error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = stmt_get(s, c, id, err);
        if (!st)
                return -EIO;
        if (sqlite3_step(st) != SQLITE_DONE)
                return db_error(c->db, err, s->path, stmt_sql[id]);
        return 0;
}

static void rollback(struct sqlite_store *s, struct conn *c)
{
        if (!sqlite3_get_autocommit(c->db))
                exec_simple(s, c, ST_ROLLBACK, NULL);
}

/* Bind ?1 ?2 to the range of keys with prefix. end is the caller's buffer to free. */
static void bind_prefix(sqlite3_stmt *st, const char *prefix, char **end)
{
        size_t end_len;
        sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
        if (store_prefix_end(prefix, end, &end_len))
                sqlite3_bind_text(st, 2, *end, (int)end_len, SQLITE_STATIC);
        else
                sqlite3_bind_zeroblob(st, 2, 0);
}

static char *column_dup(sqlite3_stmt *st, int col, size_t *ret_len)
{
        const void *p = sqlite3_column_blob(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);
        char *v = xmalloc(n + 1);
        if (n)
                memcpy(v, p, n);
        v[n] = 0;
        if (ret_len)
                *ret_len = n;
        return v;
}

/* ---- reader pool ---- */

static int conn_open(struct sqlite_store *s, struct conn *c, bool writer, struct error *err);
static void conn_close(struct conn *c);

static struct conn *reader_get(struct sqlite_store *s, struct error *err)
{
        pthread_mutex_lock(&s->rmu);
        for (;;) {
                if (s->free_readers) {
                        struct conn *c = s->free_readers;
                        s->free_readers = c->next_free;
                        pthread_mutex_unlock(&s->rmu);
                        return c;
                }
                if (s->n_readers < STORE_MAX_READERS)
                        break;
                pthread_cond_wait(&s->rcond, &s->rmu);
        }
        /* Grow the pool: reserve a place, open outside rmu. */
        s->n_readers++;
        pthread_mutex_unlock(&s->rmu);
        struct conn *c = xcalloc(1, sizeof(*c));
        int r = conn_open(s, c, false, err);
        pthread_mutex_lock(&s->rmu);
        if (r < 0) {
                free(c);
                c = NULL;
                s->n_readers--;
                pthread_cond_signal(&s->rcond);
        } else {
                c->next_all = s->all_readers;
                s->all_readers = c;
        }
        pthread_mutex_unlock(&s->rmu);
        return c;
}

static void reader_put(struct sqlite_store *s, struct conn *c)
{
        rollback(s, c);
        pthread_mutex_lock(&s->rmu);
        c->next_free = s->free_readers;
        s->free_readers = c;
        pthread_cond_signal(&s->rcond);
        pthread_mutex_unlock(&s->rmu);
}

/* Read sqlite_sequence / meta inside the caller's transaction. */
static int read_revs(struct sqlite_store *s, struct conn *c, int64_t *ret_rev, int64_t *ret_compact,
                     struct error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = stmt_get(s, c, ST_REVS, err);
        if (!st)
                return -EIO;
        if (sqlite3_step(st) != SQLITE_ROW)
                return db_error(c->db, err, s->path, "read revision");
        *ret_rev = sqlite3_column_int64(st, 0);
        *ret_compact = sqlite3_column_int64(st, 1);
        return 0;
}

/* ---- open / close ---- */

static int conn_open(struct sqlite_store *s, struct conn *c, bool writer, struct error *err)
{
        int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
        if (writer)
                flags |= SQLITE_OPEN_CREATE;
        int r = sqlite3_open_v2(s->path, &c->db, flags, NULL);
        if (r != SQLITE_OK) {
                struct stat st;
                if (stat(s->path, &st) == 0 && S_ISDIR(st.st_mode))
                        r = error_set(err, -EISDIR, "%s: open: is a directory", s->path);
                else
                        r = error_set(err, -EIO, "%s: open: %s", s->path,
                                      c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(r));
                goto out_close;
        }
        sqlite3_busy_timeout(c->db, STORE_BUSY_TIMEOUT_MS);
        sqlite3_extended_result_codes(c->db, 1);
        if (!writer) {
                if (sqlite3_exec(c->db, "PRAGMA query_only=1", NULL, NULL, NULL) != SQLITE_OK) {
                        r = db_error(c->db, err, s->path, "configure reader");
                        goto out_close;
                }
        }
        return 0;
out_close:
        conn_close(c);
        return r;
}

static void conn_close(struct conn *c)
{
        for (size_t i = 0; i < N_STMT; i++) {
                sqlite3_finalize(c->st[i]);
                c->st[i] = NULL;
        }
        if (c->db)
                sqlite3_close_v2(c->db);
        c->db = NULL;
}

static int pragma_text(struct sqlite_store *s, const char *sql, char *buf, size_t size,
                       struct error *err)
{
        sqlite3_stmt *st = NULL;
        int r = sqlite3_prepare_v2(s->w.db, sql, -1, &st, NULL);
        if (r == SQLITE_OK)
                r = sqlite3_step(st);
        if (r != SQLITE_ROW) {
                int code = sqlite3_errcode(s->w.db) & 0xff;
                if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
                        r = error_set(err, -EIO, "%s: %s (corrupt or not a SQLite database)",
                                      s->path, sqlite3_errmsg(s->w.db));
                else
                        r = db_error(s->w.db, err, s->path, sql);
                sqlite3_finalize(st);
                return r;
        }
        const char *t = (const char *)sqlite3_column_text(st, 0);
        snprintf(buf, size, "%s", t ? t : "");
        for (char *q = buf; *q; q++) /* quick_check reports one problem per line */
                if (*q == '\n')
                        *q = ' ';
        sqlite3_finalize(st);
        return 0;
}

static int writer_setup(struct sqlite_store *s, struct error *err)
{
        char buf[256];
        int r = pragma_text(s, "PRAGMA journal_mode=WAL", buf, sizeof(buf), err);
        if (r < 0)
                return r;
        if (strcasecmp(buf, "wal") != 0)
                return error_set(err, -EIO, "%s: cannot enable WAL journal (mode is %s)", s->path,
                                 buf);
        /* NORMAL: COMMIT does not sync, the sync thread does (see top). journal_size_limit:
         * truncate the WAL back to 64 MiB after a checkpoint so a burst of writes does not leave
         * a huge file behind. */
        if (sqlite3_exec(s->w.db, "PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=67108864",
                         NULL, NULL, NULL) != SQLITE_OK)
                return db_error(s->w.db, err, s->path, "PRAGMA synchronous");
        r = pragma_text(s, "PRAGMA quick_check", buf, sizeof(buf), err);
        if (r < 0)
                return r;
        if (strcmp(buf, "ok") != 0)
                return error_set(err, -EIO, "%s: database is corrupt (quick_check: %s)", s->path,
                                 buf);
        char *msg = NULL;
        if (sqlite3_exec(s->w.db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
                r = error_set(err, -EIO, "%s: create schema: %s", s->path, msg ? msg : "?");
                sqlite3_free(msg);
                return r;
        }
        return 0;
}

/* Make a newly created database (and its -wal/-shm/.lock names) durable in the directory. */
static void fsync_parent(const char *path)
{
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash == dir)
                slash[1] = 0;
        else if (slash)
                *slash = 0;
        else
                snprintf(dir, strlen(dir) + 1, ".");
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
                (void)fsync(fd);
}

static const struct store_ops sqlite_ops;

/* ---- durability: the sync thread (see top) ---- */

/* Deliver the queued events with rev <= upto, in order (dmu held). */
static void release_events(struct sqlite_store *s, int64_t upto)
{
        while (s->evq && s->evq->ev.rev <= upto) {
                struct qevent *e = s->evq;
                s->evq = e->next;
                if (!s->evq)
                        s->evq_tail = &s->evq;
                store_watch_hub_dispatch(&s->hub, &e->ev);
                free(e);
        }
}

/* Unlink the waiters for revisions <= upto (dmu held). */
static struct dwaiter *take_waiters(struct sqlite_store *s, int64_t upto)
{
        struct dwaiter *done = NULL;
        for (struct dwaiter **p = &s->waiters; *p;) {
                struct dwaiter *w = *p;
                if (w->rev > upto) {
                        p = &w->next;
                        continue;
                }
                *p = w->next;
                w->next = done;
                done = w;
        }
        return done;
}

static void run_waiters(struct dwaiter *w)
{
        while (w) {
                struct dwaiter *next = w->next;
                w->fn(w->userdata);
                free(w);
                w = next;
        }
}

static void sync_or_die(struct sqlite_store *s)
{
        if (fdatasync(s->wal_fd) < 0) {
                /* After a failed sync the kernel may have dropped the dirty pages; a retry
                 * could succeed without them. Nothing unsynced was acknowledged: stop here. */
                log_err("store", "%s-wal: fdatasync: %s: cannot make writes durable, aborting",
                        s->path, strerror(errno));
                abort();
        }
}

/* After each COMMIT on the writer (this replaces SQLite's auto-checkpoint hook, and does what
 * it does). Only a checkpoint that backfills the whole WAL lets the next write restart it from
 * the beginning; under a steady write load the sync thread's checkpoints never catch up with the
 * appends, so the writer, which appends nothing while it checkpoints, finishes the job. */
static int wal_hook(void *ud, sqlite3 *db, const char *name, int frames)
{
        __atomic_store_n(&((struct sqlite_store *)ud)->wal_frames, frames, __ATOMIC_RELAXED);
        if (frames >= STORE_WAL_AUTOCHECKPOINT)
                sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SQLITE_OK;
}

/* A PASSIVE checkpoint once the WAL grew STORE_CHECKPOINT_FRAMES frames since the last one (or
 * was restarted and grew that much): copies committed pages into the database file without
 * blocking the writer or readers; with synchronous=NORMAL SQLite syncs the WAL before and the
 * database after it. */
static void maybe_checkpoint(struct sqlite_store *s)
{
        int frames = __atomic_load_n(&s->wal_frames, __ATOMIC_RELAXED);
        if (frames < s->ckpt_frames)
                s->ckpt_frames = 0; /* the WAL was restarted */
        if (frames - s->ckpt_frames < STORE_CHECKPOINT_FRAMES)
                return;
        int log = 0, done = 0;
        int r = sqlite3_wal_checkpoint_v2(s->ck.db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (r != SQLITE_OK && r != SQLITE_BUSY)
                log_warn("store", "%s: checkpoint: %s", s->path, sqlite3_errmsg(s->ck.db));
        s->ckpt_frames = log > 0 ? log : frames;
}

static void *sync_main(void *arg)
{
        struct sqlite_store *s = arg;
        pthread_mutex_lock(&s->dmu);
        for (;;) {
                if (s->committed_rev <= s->durable_rev || (s->sync_hold && !s->sync_stop)) {
                        if (s->sync_stop)
                                break;
                        pthread_cond_wait(&s->scond, &s->dmu);
                        continue;
                }
                int64_t target = s->committed_rev;
                pthread_mutex_unlock(&s->dmu);
                sync_or_die(s);
                __atomic_fetch_add(&s->n_syncs, 1, __ATOMIC_RELAXED);
                pthread_mutex_lock(&s->dmu);
                __atomic_store_n(&s->durable_rev, target, __ATOMIC_RELEASE);
                release_events(s, target);
                struct dwaiter *done = take_waiters(s, target);
                pthread_cond_broadcast(&s->dcond);
                pthread_mutex_unlock(&s->dmu);
                run_waiters(done);
                maybe_checkpoint(s);
                pthread_mutex_lock(&s->dmu);
        }
        pthread_mutex_unlock(&s->dmu);
        return NULL;
}

uint64_t store_sqlite_syncs(struct store *base)
{
        return __atomic_load_n(&SQ(base)->n_syncs, __ATOMIC_RELAXED);
}

void store_sqlite_hold_sync(struct store *base, bool hold)
{
        struct sqlite_store *s = SQ(base);
        pthread_mutex_lock(&s->dmu);
        s->sync_hold = hold;
        pthread_cond_signal(&s->scond);
        pthread_mutex_unlock(&s->dmu);
}

static int64_t sq_durable_revision(struct store *base)
{
        return __atomic_load_n(&SQ(base)->durable_rev, __ATOMIC_ACQUIRE);
}

static void sq_on_durable(struct store *base, int64_t rev, store_durable_fn fn, void *userdata)
{
        struct sqlite_store *s = SQ(base);
        pthread_mutex_lock(&s->dmu);
        if (rev <= s->durable_rev) {
                pthread_mutex_unlock(&s->dmu);
                fn(userdata);
                return;
        }
        struct dwaiter *w = xmalloc(sizeof(*w));
        *w = (struct dwaiter){.next = s->waiters, .rev = rev, .fn = fn, .userdata = userdata};
        s->waiters = w;
        pthread_mutex_unlock(&s->dmu);
}

static void sq_wait_durable(struct store *base, int64_t rev)
{
        struct sqlite_store *s = SQ(base);
        pthread_mutex_lock(&s->dmu);
        if (rev > s->committed_rev)
                rev = s->committed_rev;
        while (s->durable_rev < rev)
                pthread_cond_wait(&s->dcond, &s->dmu);
        pthread_mutex_unlock(&s->dmu);
}

/* ---- expiry: keys created by store_create_ttl ----
 * The expiry table holds each such key's deadline (wall-clock seconds, so it survives restarts).
 * Every STORE_EXPIRY_TICK_MS the expiry thread deletes the keys that are due, each guarded by the
 * mod revision it saw (a key updated meanwhile is retried at the next tick), as ordinary deletes:
 * watchers get DELETE events as from etcd's lease expiry. */
static void expire_due(struct sqlite_store *s)
{
        struct error err = {0};
        struct conn *c = reader_get(s, &err);
        if (!c)
                return;
        char **keys = NULL;
        int64_t *revs = NULL;
        size_t n = 0;
        {
                _cleanup_stmt_ sqlite3_stmt *st = stmt_get(s, c, ST_EXP_DUE, &err);
                if (st) {
                        sqlite3_bind_int64(st, 1, (int64_t)time(NULL));
                        while (sqlite3_step(st) == SQLITE_ROW) {
                                keys = xrealloc(keys, (n + 1) * sizeof(*keys));
                                revs = xrealloc(revs, (n + 1) * sizeof(*revs));
                                keys[n] = xstrdup((const char *)sqlite3_column_text(st, 0));
                                revs[n++] = sqlite3_column_int64(st, 1);
                        }
                }
        }
        reader_put(s, c);
        for (size_t i = 0; i < n; i++) {
                struct error derr = {0};
                int r = store_delete(&s->base, keys[i], revs[i], NULL, &derr);
                if (r < 0 && r != -ESTALE && r != -ENOENT)
                        log_warn("store", "expiring %s: %s", keys[i], error_msg(&derr));
                free(keys[i]);
        }
        free(keys);
        free(revs);
}

static void *expiry_main(void *arg)
{
        struct sqlite_store *s = arg;
        pthread_mutex_lock(&s->emu);
        while (!s->exp_stop) {
                struct timespec dl;
                clock_gettime(CLOCK_MONOTONIC, &dl);
                dl.tv_nsec += STORE_EXPIRY_TICK_MS * 1000000L;
                dl.tv_sec += dl.tv_nsec / 1000000000L;
                dl.tv_nsec %= 1000000000L;
                pthread_cond_timedwait(&s->econd, &s->emu, &dl);
                if (s->exp_stop)
                        break;
                pthread_mutex_unlock(&s->emu);
                expire_due(s);
                pthread_mutex_lock(&s->emu);
        }
        pthread_mutex_unlock(&s->emu);
        return NULL;
}

static void sq_close(struct store *base)
{
        struct sqlite_store *s = SQ(base);
        if (s->sync_running) /* an expiry delete may wait for a sync a test holds */
                store_sqlite_hold_sync(base, false);
        if (s->exp_running) {
                pthread_mutex_lock(&s->emu);
                s->exp_stop = true;
                pthread_cond_signal(&s->econd);
                pthread_mutex_unlock(&s->emu);
                pthread_join(s->exp_thread, NULL);
        }
        if (s->sync_running) {
                /* The thread syncs and delivers what is committed before it stops. */
                pthread_mutex_lock(&s->dmu);
                s->sync_stop = true;
                pthread_cond_signal(&s->scond);
                pthread_mutex_unlock(&s->dmu);
                pthread_join(s->sync_thread, NULL);
        }
        pthread_mutex_lock(&s->dmu);
        store_watch_hub_clear(&s->hub);
        for (struct qevent *e = s->evq, *next; e; e = next) {
                next = e->next;
                free(e);
        }
        s->evq = NULL;
        struct dwaiter *left = s->waiters; /* registered for revisions never committed */
        s->waiters = NULL;
        pthread_mutex_unlock(&s->dmu);
        run_waiters(left);
        for (struct conn *c = s->all_readers, *next; c; c = next) {
                next = c->next_all;
                conn_close(c);
                free(c);
        }
        conn_close(&s->ck);
        conn_close(&s->w);
        if (s->lock_fd >= 0)
                close(s->lock_fd);
        if (s->wal_fd >= 0)
                close(s->wal_fd);
        pthread_mutex_destroy(&s->wmu);
        pthread_mutex_destroy(&s->dmu);
        pthread_cond_destroy(&s->dcond);
        pthread_cond_destroy(&s->scond);
        pthread_mutex_destroy(&s->emu);
        pthread_cond_destroy(&s->econd);
        pthread_mutex_destroy(&s->rmu);
        pthread_cond_destroy(&s->rcond);
        pthread_mutex_destroy(&s->qmu);
        pthread_cond_destroy(&s->qcond);
        free(s->path);
        free(s);
}

int store_sqlite_open(const char *path, struct store **ret, struct error *err)
{
        _cleanup_free_ char *wal_path = NULL;
        int r;
        if (!path || !*path)
                return error_set(err, -EINVAL, "store: empty database path");
        r = fs_mkdir_parents(path, 0700, err);
        if (r < 0)
                return r;

        struct sqlite_store *s = xcalloc(1, sizeof(*s));
        s->base.ops = &sqlite_ops;
        s->path = xstrdup(path);
        s->lock_fd = -1;
        s->wal_fd = -1;
        pthread_mutex_init(&s->wmu, NULL);
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
        pthread_mutex_init(&s->dmu, &attr);
        pthread_mutexattr_destroy(&attr);
        pthread_cond_init(&s->dcond, NULL);
        pthread_cond_init(&s->scond, NULL);
        s->evq_tail = &s->evq;
        pthread_mutex_init(&s->emu, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->econd, &ca);
        pthread_condattr_destroy(&ca);
        pthread_mutex_init(&s->rmu, NULL);
        pthread_cond_init(&s->rcond, NULL);
        pthread_mutex_init(&s->qmu, NULL);
        pthread_cond_init(&s->qcond, NULL);
        s->qtail = &s->qhead;

        _cleanup_free_ char *lock_path = xasprintf("%s.lock", path);
        s->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (s->lock_fd < 0) {
                r = error_set(err, -errno, "open %s: %s", lock_path, strerror(errno));
                goto out_free;
        }
        if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
                r = errno == EWOULDBLOCK
                            ? error_set(err, -EBUSY, "%s: database is in use by another process",
                                        path)
                            : error_set(err, -errno, "lock %s: %s", lock_path, strerror(errno));
                goto out_free;
        }

        r = conn_open(s, &s->w, true, err);
        if (r < 0)
                goto out_free;
        r = writer_setup(s, err);
        if (r < 0)
                goto out_free;
        r = read_revs(s, &s->w, &s->rev, &s->compact_rev, err);
        if (r < 0)
                goto out_free;
        /* SQLite opened (created) the WAL for the reads above; it keeps it while s->w is open. */
        wal_path = xasprintf("%s-wal", path);
        s->wal_fd = open(wal_path, O_RDWR | O_CLOEXEC);
        if (s->wal_fd < 0) {
                r = error_set(err, -errno, "open %s: %s", wal_path, strerror(errno));
                goto out_free;
        }
        /* What a previous process committed may not be synced yet: make it durable before
         * anyone sees it. */
        if (fdatasync(s->wal_fd) < 0) {
                r = error_set(err, -errno, "fdatasync %s: %s", wal_path, strerror(errno));
                goto out_free;
        }
        {
                _cleanup_close_ int dbfd = open(path, O_RDONLY | O_CLOEXEC);
                if (dbfd >= 0)
                        (void)fdatasync(dbfd);
        }
        s->committed_rev = s->durable_rev = s->rev;
        r = conn_open(s, &s->ck, true, err);
        if (r < 0)
                goto out_free;
        if (sqlite3_exec(s->ck.db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
                r = db_error(s->ck.db, err, s->path, "configure checkpointer");
                goto out_free;
        }
        sqlite3_wal_hook(s->w.db, wal_hook, s); /* replaces the writer's auto-checkpoint */
        r = -pthread_create(&s->sync_thread, NULL, sync_main, s);
        if (r < 0) {
                error_set(err, r, "store: start sync thread: %s", strerror(-r));
                goto out_free;
        }
        s->sync_running = true;
        r = -pthread_create(&s->exp_thread, NULL, expiry_main, s);
        if (r < 0) {
                error_set(err, r, "store: start expiry thread: %s", strerror(-r));
                goto out_free;
        }
        s->exp_running = true;
        fsync_parent(path);
        s->last_compact = time(NULL);
        *ret = &s->base;
        return 0;
out_free:
        sq_close(&s->base);
        return r;
}

/* ---- reads ---- */

static int64_t sq_revision(struct store *base)
{
        return __atomic_load_n(&SQ(base)->rev, __ATOMIC_ACQUIRE);
}

static int get_on(struct sqlite_store *s, struct conn *c, const char *key, struct store_kv *ret,
                  struct error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = stmt_get(s, c, ST_GET, err);
        if (!st)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        int r = sqlite3_step(st);
        if (r == SQLITE_DONE)
                return error_set(err, -ENOENT, "key %s not found", key);
        if (r != SQLITE_ROW)
                return db_error(c->db, err, s->path, "get");
        struct store_kv kv = {
                .create_rev = sqlite3_column_int64(st, 0),
                .mod_rev = sqlite3_column_int64(st, 1),
        };
        kv.value = column_dup(st, 2, &kv.value_len);
        kv.key = xstrdup(key);
        *ret = kv;
        return 0;
}

static int sq_get(struct store *base, const char *key, struct store_kv *ret, struct error *err)
{
        struct sqlite_store *s = SQ(base);
        struct conn *c = reader_get(s, err);
        if (!c)
                return -EIO;
        int r = get_on(s, c, key, ret, err);
        reader_put(s, c);
        return r;
}

static int list_on(struct sqlite_store *s, struct conn *c, const char *prefix,
                   const char *start_after, size_t limit, int64_t at_rev, struct store_list *ret,
                   struct error *err)
{
        int64_t cur, compact;
        int r = exec_simple(s, c, ST_BEGIN, err);
        if (r < 0)
                return r;
        r = read_revs(s, c, &cur, &compact, err);
        if (r < 0)
                return r;
        if (at_rev) {
                if (at_rev < compact)
                        return error_set(err, -ERANGE,
                                         "revision %lld has been compacted (oldest %lld)",
                                         (long long)at_rev, (long long)compact);
                if (at_rev > cur)
                        return error_set(err, -EINVAL,
                                         "revision %lld is in the future (current %lld)",
                                         (long long)at_rev, (long long)cur);
        }
        _cleanup_stmt_ sqlite3_stmt *st = stmt_get(s, c, at_rev ? ST_LIST_AT : ST_LIST_CUR, err);
        if (!st)
                return -EIO;
        _cleanup_free_ char *end = NULL;
        bind_prefix(st, prefix, &end);
        sqlite3_bind_text(st, 3, start_after ? start_after : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, limit ? (int64_t)limit + 1 : -1);
        if (at_rev)
                sqlite3_bind_int64(st, 5, at_rev);

        struct store_list l = {.rev = at_rev ? at_rev : cur};
        size_t cap = 0;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                if (limit && l.n_items == limit) {
                        l.more = true;
                        break;
                }
                if (l.n_items == cap) {
                        cap = cap ? cap * 2 : 16;
                        l.items = xrealloc(l.items, cap * sizeof(*l.items));
                }
                struct store_kv *kv = &l.items[l.n_items++];
                kv->key = column_dup(st, 0, NULL);
                kv->create_rev = sqlite3_column_int64(st, 1);
                kv->mod_rev = sqlite3_column_int64(st, 2);
                kv->value = column_dup(st, 3, &kv->value_len);
        }
        if (r != SQLITE_ROW && r != SQLITE_DONE) {
                store_list_clear(&l);
                return db_error(c->db, err, s->path, "list");
        }
        sqlite3_reset(st);
        exec_simple(s, c, ST_COMMIT, NULL);
        *ret = l;
        return 0;
}

static int sq_list(struct store *base, const char *prefix, const char *start_after, size_t limit,
                   int64_t at_rev, struct store_list *ret, struct error *err)
{
        struct sqlite_store *s = SQ(base);
        struct conn *c = reader_get(s, err);
        if (!c)
                return -EIO;
        int r = list_on(s, c, prefix, start_after, limit, at_rev, ret, err);
        reader_put(s, c);
        return r;
}

static int sq_count(struct store *base, const char *prefix, int64_t *ret, struct error *err)
{
        struct sqlite_store *s = SQ(base);
        struct conn *c = reader_get(s, err);
        if (!c)
                return -EIO;
        int r;
        {
                _cleanup_stmt_ sqlite3_stmt *st = stmt_get(s, c, ST_COUNT, err);
                _cleanup_free_ char *end = NULL;
                if (!st) {
                        r = -EIO;
                } else {
                        bind_prefix(st, prefix, &end);
                        if (sqlite3_step(st) == SQLITE_ROW) {
                                *ret = sqlite3_column_int64(st, 0);
                                r = 0;
                        } else {
                                r = db_error(c->db, err, s->path, "count");
                        }
                }
        }
        reader_put(s, c);
        return r;
}

/* ---- writes (all under wmu) ---- */

/* Whether this thread is inside a watch callback (it then holds dmu). */
static bool in_callback(struct sqlite_store *s)
{
        if (pthread_mutex_trylock(&s->dmu) != 0)
                return false; /* another thread holds it: not us */
        bool cb = s->hub.dispatching && pthread_equal(s->hub.dispatch_thread, pthread_self());
        pthread_mutex_unlock(&s->dmu);
        return cb;
}

static int insert_row(struct sqlite_store *s, int64_t rev, const char *key, bool created,
                      bool deleted, int64_t create_rev, int64_t prev_rev, const char *value,
                      size_t len, struct error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = stmt_get(s, &s->w, ST_INSERT, err);
        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, rev);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, created);
        sqlite3_bind_int(st, 4, deleted);
        sqlite3_bind_int64(st, 5, create_rev);
        sqlite3_bind_int64(st, 6, prev_rev);
        sqlite3_bind_blob64(st, 7, value, len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
                return db_error(s->w.db, err, s->path, "insert");
        return 0;
}

static int set_current(struct sqlite_store *s, const char *key, int64_t rev, struct error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = stmt_get(s, &s->w, rev ? ST_CUR_SET : ST_CUR_DEL, err);
        if (!st)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (rev)
                sqlite3_bind_int64(st, 2, rev);
        if (sqlite3_step(st) != SQLITE_DONE)
                return db_error(s->w.db, err, s->path, "update current");
        return 0;
}

static int last_rev_of(struct sqlite_store *s, const char *key, int64_t *ret, struct error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = stmt_get(s, &s->w, ST_LAST, err);
        if (!st)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
                return db_error(s->w.db, err, s->path, "last revision");
        *ret = sqlite3_column_int64(st, 0); /* NULL -> 0 */
        return 0;
}

static int compact_locked(struct sqlite_store *s, int64_t rev, struct error *err);

/* ---- group commit ----
 * A writer does not commit alone: it enqueues a request (struct wreq) and waits. If no batch is
 * being committed, the first waiter becomes the leader: it takes the queued requests (up to
 * STORE_BATCH_MAX), applies each inside one BEGIN IMMEDIATE transaction under its own SAVEPOINT
 * (a failed request - conflict, absent key - is rolled back alone and gets its own error), then
 * COMMITs once: one WAL fsync for the whole batch. After the commit it publishes the revision,
 * fans the events out in revision order (still under wmu), and wakes every caller with its own
 * result. While a leader commits, new writers queue up and form the next batch, so concurrent
 * writers share fsyncs and a lone writer pays what it paid before (a batch of one). */

enum wop { W_CREATE, W_UPDATE, W_DELETE };

struct wreq {
        enum wop op;
        const char *key;
        const char *value; /* create/update: the caller's buffer (the caller waits) */
        size_t len;
        int64_t expect_rev;
        int64_t ttl_s; /* create: > 0 attaches an expiry (store_create_ttl) */
        /* results, written by the leader */
        int r;
        int64_t rev;
        struct store_kv cur; /* update/delete: the state before */
        struct error err;
        bool done;
        struct wreq *next;
};

static int exec_sql(struct sqlite_store *s, const char *sql, struct error *err)
{
        if (sqlite3_exec(s->w.db, sql, NULL, NULL, NULL) != SQLITE_OK)
                return db_error(s->w.db, err, s->path, sql);
        return 0;
}

/* The key's expiry (wall-clock seconds, due once time(NULL) >= at: a create at t gets
 * floor(t) + ttl + 1, so it lives at least ttl), or none (at = 0). */
static int set_expiry(struct sqlite_store *s, const char *key, int64_t at, struct error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = stmt_get(s, &s->w, at ? ST_EXP_SET : ST_EXP_DEL, err);
        if (!st)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (at)
                sqlite3_bind_int64(st, 2, at);
        if (sqlite3_step(st) != SQLITE_DONE)
                return db_error(s->w.db, err, s->path, "set expiry");
        return 0;
}

/* Apply one request at revision rev inside the leader's transaction. */
static int wreq_apply(struct sqlite_store *s, struct wreq *q, int64_t rev, struct error *err)
{
        int r;
        if (q->op == W_CREATE) {
                int64_t prev = 0;
                struct error gerr = {0};
                r = get_on(s, &s->w, q->key, &q->cur, &gerr);
                if (r == 0) {
                        store_kv_clear(&q->cur);
                        return error_set(err, -EEXIST, "key %s already exists", q->key);
                }
                if (r != -ENOENT) {
                        if (err)
                                *err = gerr;
                        return r;
                }
                r = last_rev_of(s, q->key, &prev, err);
                if (r >= 0)
                        r = insert_row(s, rev, q->key, true, false, rev, prev, q->value, q->len,
                                       err);
                if (r >= 0)
                        r = set_current(s, q->key, rev, err);
                if (r >= 0) /* a create without TTL also drops a stale expiry */
                        r = set_expiry(s, q->key, q->ttl_s ? time(NULL) + q->ttl_s + 1 : 0, err);
                return r;
        }
        r = get_on(s, &s->w, q->key, &q->cur, err);
        if (r >= 0 && q->expect_rev && q->cur.mod_rev != q->expect_rev)
                r = error_set(err, -ESTALE, "key %s: revision is %lld, expected %lld", q->key,
                              (long long)q->cur.mod_rev, (long long)q->expect_rev);
        if (r >= 0 && q->op == W_UPDATE)
                r = insert_row(s, rev, q->key, false, false, q->cur.create_rev, q->cur.mod_rev,
                               q->value, q->len, err);
        else if (r >= 0)
                r = insert_row(s, rev, q->key, false, true, q->cur.create_rev, q->cur.mod_rev,
                               q->cur.value, q->cur.value_len, err);
        if (r >= 0)
                r = set_current(s, q->key, q->op == W_UPDATE ? rev : 0, err);
        if (r >= 0 && q->op == W_DELETE) /* an update keeps the key's expiry, as etcd's lease */
                r = set_expiry(s, q->key, 0, err);
        return r;
}

/* The event of an applied request, copied for the queue (the request's buffers are its
 * caller's and gone by the time the event is durable). */
static struct qevent *qevent_new(const struct wreq *q)
{
        struct store_event ev = {.type = STORE_EVENT_PUT, .key = q->key, .rev = q->rev};
        if (q->op == W_CREATE) {
                ev.value = q->value;
                ev.value_len = q->len;
                ev.create_rev = q->rev;
        } else if (q->op == W_UPDATE) {
                ev.value = q->value;
                ev.value_len = q->len;
                ev.prev_value = q->cur.value;
                ev.prev_len = q->cur.value_len;
                ev.create_rev = q->cur.create_rev;
        } else {
                ev.type = STORE_EVENT_DELETE;
                ev.value = q->cur.value;
                ev.value_len = q->cur.value_len;
                ev.create_rev = q->cur.create_rev;
        }
        size_t klen = strlen(ev.key);
        struct qevent *e = xmalloc(sizeof(*e) + klen + 1 + ev.value_len + 1 +
                                   (ev.prev_value ? ev.prev_len + 1 : 0));
        char *p = (char *)(e + 1);
        e->next = NULL;
        e->ev = ev;
        memcpy(p, ev.key, klen + 1);
        e->ev.key = p;
        p += klen + 1;
        if (ev.value_len)
                memcpy(p, ev.value, ev.value_len);
        p[ev.value_len] = 0;
        e->ev.value = p;
        p += ev.value_len + 1;
        if (ev.prev_value) {
                if (ev.prev_len)
                        memcpy(p, ev.prev_value, ev.prev_len);
                p[ev.prev_len] = 0;
                e->ev.prev_value = p;
        }
        return e;
}

/* Fail every request of the batch that has not failed yet with *e. */
static void batch_fail(struct wreq *batch, const struct error *e)
{
        for (struct wreq *q = batch; q; q = q->next) {
                if (q->r < 0)
                        continue;
                q->r = e->code < 0 ? e->code : -EIO;
                q->err = *e;
        }
}

/* The leader's work: one transaction, one commit, then the fan-out. */
static void batch_run(struct sqlite_store *s, struct wreq *batch)
{
        struct error e = {0};
        pthread_mutex_lock(&s->wmu);
        int r = exec_simple(s, &s->w, ST_BEGIN_IMM, &e);
        /* The file is the truth: after a failed COMMIT whose data did reach the disk, the next
         * write continues from the stored revision instead of failing on a duplicate rev. */
        int64_t rev = 0, compact;
        if (r >= 0)
                r = read_revs(s, &s->w, &rev, &compact, &e);
        if (r < 0) {
                rollback(s, &s->w);
                pthread_mutex_unlock(&s->wmu);
                batch_fail(batch, &e);
                return;
        }
        if (rev != s->rev)
                __atomic_store_n(&s->rev, rev, __ATOMIC_RELEASE);
        size_t n_ok = 0;
        for (struct wreq *q = batch; q; q = q->next) {
                r = exec_sql(s, "SAVEPOINT w", &q->err);
                if (r >= 0)
                        r = wreq_apply(s, q, rev + 1, &q->err);
                if (r >= 0)
                        r = exec_sql(s, "RELEASE w", &q->err);
                if (r < 0 && !sqlite3_get_autocommit(s->w.db)) {
                        exec_sql(s, "ROLLBACK TO w", NULL);
                        exec_sql(s, "RELEASE w", NULL);
                }
                q->r = r;
                if (r >= 0) {
                        q->rev = ++rev;
                        n_ok++;
                } else {
                        store_kv_clear(&q->cur);
                }
                if (sqlite3_get_autocommit(s->w.db)) {
                        /* SQLite rolled the whole transaction back (I/O error, disk full):
                         * nothing of this batch is written. */
                        if (r >= 0)
                                error_set(&e, -EIO, "%s: transaction rolled back", s->path);
                        else
                                e = q->err;
                        for (struct wreq *o = batch; o; o = o->next)
                                if (o != q && o->r >= 0)
                                        store_kv_clear(&o->cur);
                        q->r = 0;
                        batch_fail(batch, &e);
                        pthread_mutex_unlock(&s->wmu);
                        return;
                }
        }
        if (n_ok == 0) { /* nothing to write: no fsync */
                rollback(s, &s->w);
                pthread_mutex_unlock(&s->wmu);
                return;
        }
        r = exec_simple(s, &s->w, ST_COMMIT, &e);
        if (r < 0) {
                rollback(s, &s->w);
                pthread_mutex_unlock(&s->wmu);
                for (struct wreq *q = batch; q; q = q->next)
                        if (q->r >= 0)
                                store_kv_clear(&q->cur);
                batch_fail(batch, &e);
                return;
        }
        __atomic_store_n(&s->rev, rev, __ATOMIC_RELEASE);
        /* Build the events outside dmu, queue them for the sync thread (in revision order: we
         * hold wmu), and wake it. */
        struct qevent *evs = NULL, **evt = &evs;
        for (struct wreq *q = batch; q; q = q->next) {
                if (q->r >= 0) {
                        *evt = qevent_new(q);
                        evt = &(*evt)->next;
                }
        }
        pthread_mutex_lock(&s->dmu);
        *s->evq_tail = evs;
        s->evq_tail = evt;
        s->committed_rev = rev;
        pthread_cond_signal(&s->scond);
        pthread_mutex_unlock(&s->dmu);
        s->writes_since_compact += n_ok;
        if (s->writes_since_compact >= STORE_COMPACT_EVERY ||
            time(NULL) - s->last_compact >= STORE_COMPACT_INTERVAL) {
                struct error cerr = {0};
                if (compact_locked(s, s->rev - STORE_KEEP_REVS, &cerr) < 0)
                        log_debug("store", "auto-compaction: %s", error_msg(&cerr));
        }
        pthread_mutex_unlock(&s->wmu);
}

/* Enqueue q and wait for its result (leading a batch if no one else is). */
static int wreq_submit(struct sqlite_store *s, struct wreq *q, struct error *err)
{
        /* A watch callback runs on the sync thread: a write from it would wait for the
         * durability that thread provides. */
        if (in_callback(s))
                return error_set(err, -EDEADLK, "store: write from inside a watch callback");
        pthread_mutex_lock(&s->qmu);
        *s->qtail = q;
        s->qtail = &q->next;
        while (!q->done) {
                if (s->leading) {
                        pthread_cond_wait(&s->qcond, &s->qmu);
                        continue;
                }
                /* Lead: take up to STORE_BATCH_MAX requests off the queue. */
                s->leading = true;
                struct wreq *batch = s->qhead, **tail = &s->qhead;
                for (size_t n = 0; *tail && n < STORE_BATCH_MAX; n++)
                        tail = &(*tail)->next;
                s->qhead = *tail;
                *tail = NULL;
                if (!s->qhead)
                        s->qtail = &s->qhead;
                pthread_mutex_unlock(&s->qmu);
                batch_run(s, batch);
                pthread_mutex_lock(&s->qmu);
                for (struct wreq *o = batch, *next; o; o = next) {
                        next = o->next; /* o may be freed by its caller once done */
                        o->next = NULL;
                        o->done = true;
                }
                s->leading = false;
                pthread_cond_broadcast(&s->qcond);
        }
        pthread_mutex_unlock(&s->qmu);
        if (q->r < 0 && err)
                *err = q->err;
        return q->r;
}

/* Wait for rev to be durable, unless the calling thread defers that. */
static void wait_unless_deferred(struct sqlite_store *s, int64_t rev)
{
        if (!store_thread_deferred())
                sq_wait_durable(&s->base, rev);
}

static int sq_create(struct store *base, const char *key, const char *value, size_t len,
                     int64_t *ret_rev, struct error *err)
{
        struct wreq q = {.op = W_CREATE, .key = key, .value = value, .len = len};
        int r = wreq_submit(SQ(base), &q, err);
        if (r >= 0)
                wait_unless_deferred(SQ(base), q.rev);
        if (r >= 0 && ret_rev)
                *ret_rev = q.rev;
        return r;
}

static int sq_create_ttl(struct store *base, const char *key, const char *value, size_t len,
                         int64_t ttl_s, int64_t *ret_rev, struct error *err)
{
        struct wreq q = {.op = W_CREATE, .key = key, .value = value, .len = len, .ttl_s = ttl_s};
        int r = wreq_submit(SQ(base), &q, err);
        if (r >= 0)
                wait_unless_deferred(SQ(base), q.rev);
        if (r >= 0 && ret_rev)
                *ret_rev = q.rev;
        return r;
}

static int sq_update(struct store *base, const char *key, const char *value, size_t len,
                     int64_t expect_rev, int64_t *ret_rev, struct error *err)
{
        struct wreq q = {
                .op = W_UPDATE, .key = key, .value = value, .len = len, .expect_rev = expect_rev};
        int r = wreq_submit(SQ(base), &q, err);
        store_kv_clear(&q.cur);
        if (r >= 0)
                wait_unless_deferred(SQ(base), q.rev);
        if (r >= 0 && ret_rev)
                *ret_rev = q.rev;
        return r;
}

static int sq_remove(struct store *base, const char *key, int64_t expect_rev,
                     struct store_kv *ret_prev, struct error *err)
{
        struct wreq q = {.op = W_DELETE, .key = key, .expect_rev = expect_rev};
        int r = wreq_submit(SQ(base), &q, err);
        if (r >= 0)
                wait_unless_deferred(SQ(base), q.rev);
        if (r >= 0 && ret_prev) {
                q.cur.mod_rev = q.rev;
                *ret_prev = q.cur;
                return r;
        }
        store_kv_clear(&q.cur);
        return r;
}

/* ---- compaction ---- */

static int compact_locked(struct sqlite_store *s, int64_t rev, struct error *err)
{
        if (rev <= s->compact_rev)
                return 0;
        int r = exec_simple(s, &s->w, ST_BEGIN_IMM, err);
        if (r < 0)
                return r;
        /* Order matters: follow prev_rev from deletion rows before removing them. */
        static const enum stmt_id steps[] = {ST_COMPACT_PREV, ST_COMPACT_TOMB};
        for (size_t i = 0; i < ARRAY_SIZE(steps) && r >= 0; i++) {
                _cleanup_stmt_ sqlite3_stmt *st = stmt_get(s, &s->w, steps[i], err);
                if (!st) {
                        r = -EIO;
                        break;
                }
                sqlite3_bind_int64(st, 1, s->compact_rev);
                sqlite3_bind_int64(st, 2, rev);
                if (sqlite3_step(st) != SQLITE_DONE)
                        r = db_error(s->w.db, err, s->path, "compact");
        }
        if (r >= 0) {
                _cleanup_stmt_ sqlite3_stmt *st = stmt_get(s, &s->w, ST_META_SET, err);
                if (!st)
                        r = -EIO;
                else {
                        sqlite3_bind_int64(st, 1, rev);
                        if (sqlite3_step(st) != SQLITE_DONE)
                                r = db_error(s->w.db, err, s->path, "compact");
                }
        }
        if (r >= 0)
                r = exec_simple(s, &s->w, ST_COMMIT, err);
        if (r < 0) {
                rollback(s, &s->w);
                return r;
        }
        s->compact_rev = rev;
        s->writes_since_compact = 0;
        s->last_compact = time(NULL);
        return 0;
}

static int sq_compact(struct store *base, int64_t rev, struct error *err)
{
        struct sqlite_store *s = SQ(base);
        pthread_mutex_lock(&s->wmu);
        int r;
        if (in_callback(s))
                r = error_set(err, -EDEADLK, "store: compact from inside a watch callback");
        else if (rev > s->rev)
                r = error_set(err, -EINVAL,
                              "compact: revision %lld is in the future (current %lld)",
                              (long long)rev, (long long)s->rev);
        else
                r = compact_locked(s, rev, err);
        pthread_mutex_unlock(&s->wmu);
        return r;
}

/* ---- watch ---- */

/* Deliver the history rows in (after, upto] matching w's prefix. */
static int replay(struct sqlite_store *s, struct conn *c, struct store_watch *w, int64_t after,
                  int64_t upto, struct error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = stmt_get(s, c, ST_REPLAY, err);
        if (!st)
                return -EIO;
        _cleanup_free_ char *end = NULL;
        sqlite3_bind_int64(st, 1, after);
        sqlite3_bind_int64(st, 2, upto);
        size_t end_len;
        sqlite3_bind_text(st, 3, w->prefix, -1, SQLITE_STATIC);
        if (store_prefix_end(w->prefix, &end, &end_len))
                sqlite3_bind_text(st, 4, end, (int)end_len, SQLITE_STATIC);
        else
                sqlite3_bind_zeroblob(st, 4, 0);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                bool deleted = sqlite3_column_int(st, 3);
                struct store_event ev = {
                        .type = deleted ? STORE_EVENT_DELETE : STORE_EVENT_PUT,
                        .rev = sqlite3_column_int64(st, 0),
                        .key = (const char *)sqlite3_column_text(st, 1),
                        .create_rev = sqlite3_column_int64(st, 4),
                };
                ev.value = sqlite3_column_blob(st, 5);
                ev.value_len = (size_t)sqlite3_column_bytes(st, 5);
                if (!ev.value)
                        ev.value = "";
                if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
                        ev.prev_value = sqlite3_column_blob(st, 6);
                        ev.prev_len = (size_t)sqlite3_column_bytes(st, 6);
                        if (!ev.prev_value)
                                ev.prev_value = "";
                }
                store_watch_deliver(w, &ev);
        }
        if (r != SQLITE_DONE)
                return db_error(c->db, err, s->path, "watch replay");
        if (upto > w->last_rev)
                w->last_rev = upto;
        return 0;
}

static int sq_watch(struct store *base, const char *prefix, int64_t from_rev, store_watch_fn fn,
                    void *userdata, struct store_watch **ret, struct error *err)
{
        struct sqlite_store *s = SQ(base);
        if (!fn)
                return error_set(err, -EINVAL, "store: watch without a callback");
        struct store_watch *w = store_watch_new(base, prefix, fn, userdata);
        w->last_rev = from_rev;

        /* Phase 1: the bulk of the history from a read snapshot, without blocking writers. */
        struct conn *c = reader_get(s, err);
        if (!c) {
                store_watch_free(w);
                return -EIO;
        }
        int64_t cur, compact;
        int r = exec_simple(s, c, ST_BEGIN, err);
        if (r >= 0)
                r = read_revs(s, c, &cur, &compact, err);
        if (r >= 0 && from_rev < compact)
                r = error_set(err, -ERANGE, "revision %lld has been compacted (oldest %lld)",
                              (long long)from_rev, (long long)compact);
        /* Only durable history: later revisions come from the event queue. */
        int64_t durable = sq_durable_revision(base);
        if (cur > durable)
                cur = durable;
        if (r >= 0 && cur > from_rev)
                r = replay(s, c, w, from_rev, cur, err);
        reader_put(s, c);
        if (r < 0) {
                store_watch_free(w);
                return r;
        }

        /* Phase 2: under dmu nothing becomes durable and no event is delivered; replay what
         * became durable since the snapshot (from a fresh snapshot: it holds every committed
         * revision, so every durable one), then register: queued events with a later revision
         * reach the watcher from the sync thread, so the first live event follows the last
         * replayed one. */
        pthread_mutex_lock(&s->dmu);
        if (in_callback(s)) {
                r = error_set(err, -EDEADLK, "store: watch from inside a watch callback");
        } else if (s->durable_rev > w->last_rev) {
                c = reader_get(s, err);
                r = c ? exec_simple(s, c, ST_BEGIN, err) : -EIO;
                if (r >= 0)
                        r = read_revs(s, c, &cur, &compact, err);
                if (r >= 0 && compact > w->last_rev)
                        r = error_set(err, -ERANGE,
                                      "revision %lld has been compacted (oldest %lld)",
                                      (long long)w->last_rev, (long long)compact);
                if (r >= 0) {
                        /* Callbacks run with dmu held: mark it as a dispatch so that writes
                         * from them fail instead of waiting for this thread. */
                        s->hub.dispatching = true;
                        s->hub.dispatch_thread = pthread_self();
                        r = replay(s, c, w, w->last_rev, s->durable_rev, err);
                        s->hub.dispatching = false;
                        store_watch_hub_reap(&s->hub);
                }
                if (c)
                        reader_put(s, c);
        }
        if (r >= 0)
                store_watch_hub_add(&s->hub, w);
        pthread_mutex_unlock(&s->dmu);
        if (r < 0) {
                store_watch_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

static void sq_watch_cancel(struct store_watch *w)
{
        struct sqlite_store *s = SQ(w->store);
        pthread_mutex_lock(&s->dmu);
        store_watch_hub_remove(&s->hub, w);
        pthread_mutex_unlock(&s->dmu);
}

static const struct store_ops sqlite_ops = {
        .name = "sqlite",
        .close = sq_close,
        .revision = sq_revision,
        .get = sq_get,
        .list = sq_list,
        .count = sq_count,
        .create = sq_create,
        .create_ttl = sq_create_ttl,
        .update = sq_update,
        .remove = sq_remove,
        .watch = sq_watch,
        .watch_cancel = sq_watch_cancel,
        .compact = sq_compact,
        .durable_revision = sq_durable_revision,
        .on_durable = sq_on_durable,
        .wait_durable = sq_wait_durable,
};
