/* SPDX-License-Identifier: MIT */
/*
 * SQLite backend for db.h: WAL, synchronous=NORMAL (FULL when asked), foreign keys on, one
 * process-wide writer mutex per database so writers queue in-process instead of spinning on
 * SQLITE_BUSY, times as ISO-8601 text, and lease-row leadership. The only file that includes
 * <sqlite3.h>. Tests: tests/unit/db/test_db.c.
 */
#include "db/db.h"
#include "db/db_internal.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"

#include <sqlite3.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/*
 * The writer lock for one database file, shared by every `struct db` of the process that opens
 * that file (keyed by its canonical path), so they queue on a mutex instead of SQLITE_BUSY.
 */
struct writer_lock {
    char *key; /* NULL for a private :memory: database (not registered) */
    int refs;
    pthread_mutex_t mu;
    struct writer_lock *next;
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct writer_lock *registry;

/*
 * Checkpoints run on a thread of their own instead of inside the COMMIT that crossed SQLite's
 * threshold, where they held the writer mutex (so the next writers, and a group commit's whole
 * batch, waited for the WAL to be copied into the database). A commit only notes that one is
 * due; PASSIVE checkpoints then run beside the writers. Should the WAL still grow to
 * CKPT_INLINE_FRAMES (the checkpointer starved), the committing connection checkpoints itself,
 * as SQLite would, so the WAL stays bounded.
 */
#define CKPT_FRAMES        1000 /* SQLite's own auto-checkpoint threshold */
#define CKPT_INLINE_FRAMES 10000

struct checkpointer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool due, stop;
    pthread_t thread;
    char *path;
    int busy_timeout_ms;
};

struct sqlite_db {
    struct writer_lock *writer;
    struct checkpointer *ckpt; /* NULL for :memory: */
};

struct sqlite_conn {
    struct db_conn base;
    sqlite3 *h;
    int writer_depth; /* >0 while this connection holds the writer mutex */
};

struct sqlite_stmt {
    struct db_stmt base;
    sqlite3_stmt *h;
    bool holds_writer; /* an autocommit write stepped but not yet DONE or reset */
    bool stepped;      /* needs sqlite3_reset before binding */
    int64_t changes;
};

static struct sqlite_conn *sconn(struct db_conn *c)
{
    return (struct sqlite_conn *)c;
}

static struct sqlite_stmt *sstmt(struct db_stmt *s)
{
    return (struct sqlite_stmt *)s;
}

static struct sqlite_db *sdb(struct db *db)
{
    return db->backend_data;
}

/*
 * The writer mutex is re-entrant per connection: a transaction and an autocommit statement on
 * the same connection (or two borrowed statements) must not deadlock on each other. Waiting is
 * bounded by the busy timeout, so a thread that writes on a second connection while its first
 * holds a transaction fails with ERR_TIMEOUT instead of hanging (SQLite itself says BUSY).
 */
static int writer_acquire(struct sqlite_conn *c, struct err *e)
{
    if (c->writer_depth == 0) {
        struct timespec ts;
        int ms = c->base.db->busy_timeout_ms;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (pthread_mutex_timedlock(&sdb(c->base.db)->writer->mu, &ts))
            return err_set(e, ERR_TIMEOUT, "sqlite writer lock busy for %d ms", ms);
    }
    c->writer_depth++;
    return 0;
}

static void writer_release(struct sqlite_conn *c)
{
    if (--c->writer_depth == 0)
        pthread_mutex_unlock(&sdb(c->base.db)->writer->mu);
}

static int fail(sqlite3 *h, int rc, struct err *e, const char *what)
{
    const char *raw = h ? sqlite3_errmsg(h) : sqlite3_errstr(rc);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        /* the constraint's name and columns stay in the log: errors may reach a client */
        log_info("msg=\"constraint violated\" what=%s detail=\"%s\"", what, raw);
        return err_set(e, ERR_CONFLICT, "the change conflicts with existing data");
    }
    return err_set(e, ERR_DB, "%s: %s", what, raw);
}

/* ---------------------------------------------------------------- database, connections */

/* Canonical "dir/name" for `path`; the directory must exist. Caller frees. */
static char *canonical_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
    const char *base = slash ? slash + 1 : path;
    char *real = realpath(dir, NULL);
    free(dir);
    if (!real)
        return NULL;
    size_t n = strlen(real) + strlen(base) + 2;
    char *out = xmalloc(n);
    snprintf(out, n, "%s/%s", str_eq(real, "/") ? "" : real, base);
    free(real);
    return out;
}

static struct writer_lock *writer_lock_get(char *key)
{
    pthread_mutex_lock(&registry_mu);
    struct writer_lock *w = registry;
    while (w && !str_eq(w->key, key))
        w = w->next;
    if (w) {
        free(key);
    } else {
        w = xcalloc(1, sizeof(*w));
        w->key = key;
        pthread_mutex_init(&w->mu, NULL);
        w->next = registry;
        registry = w;
    }
    w->refs++;
    pthread_mutex_unlock(&registry_mu);
    return w;
}

static void writer_lock_put(struct writer_lock *w)
{
    pthread_mutex_lock(&registry_mu);
    bool last = --w->refs == 0;
    if (last) {
        struct writer_lock **pp = &registry;
        while (*pp != w)
            pp = &(*pp)->next;
        *pp = w->next;
    }
    pthread_mutex_unlock(&registry_mu);
    if (last) {
        pthread_mutex_destroy(&w->mu);
        free(w->key);
        free(w);
    }
}

/* The checkpointer's own connection, or NULL (logged; tried again at the next one due). */
static sqlite3 *checkpoint_conn(struct checkpointer *k)
{
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(k->path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) ==
        SQLITE_OK) {
        sqlite3_busy_timeout(h, k->busy_timeout_ms);
        /* the journal mode is learnt by reading the database: until then checkpoints do nothing */
        if (sqlite3_exec(h, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) == SQLITE_OK)
            return h;
    }
    log_warn("msg=\"cannot open sqlite database for checkpoints\" path=\"%s\" err=\"%s\"", k->path,
             h ? sqlite3_errmsg(h) : "out of memory");
    sqlite3_close(h);
    return NULL;
}

static void *checkpoint_loop(void *arg)
{
    struct checkpointer *k = arg;
    sqlite3 *h = NULL;
    pthread_mutex_lock(&k->mu);
    for (;;) {
        while (!k->due && !k->stop)
            pthread_cond_wait(&k->cv, &k->mu);
        if (k->stop)
            break;
        k->due = false;
        pthread_mutex_unlock(&k->mu);
        if (!h)
            h = checkpoint_conn(k);
        if (h) {
            int rc = sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
            if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
                log_warn("msg=\"sqlite checkpoint failed\" err=\"%s\"", sqlite3_errmsg(h));
        }
        pthread_mutex_lock(&k->mu);
    }
    pthread_mutex_unlock(&k->mu);
    sqlite3_close(h);
    return NULL;
}

/* After each commit (sqlite3_wal_hook): `frames` is the WAL's length in pages. */
static int wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
    struct checkpointer *k = arg;
    if (frames >= CKPT_INLINE_FRAMES) {
        (void)sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (frames >= CKPT_FRAMES) {
        pthread_mutex_lock(&k->mu);
        k->due = true;
        pthread_cond_signal(&k->cv);
        pthread_mutex_unlock(&k->mu);
    }
    return SQLITE_OK;
}

static struct checkpointer *checkpointer_start(const char *path, int busy_timeout_ms)
{
    struct checkpointer *k = xcalloc(1, sizeof(*k));
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    k->path = xstrdup(path);
    k->busy_timeout_ms = busy_timeout_ms;
    if (pthread_create(&k->thread, NULL, checkpoint_loop, k)) {
        /* no thread: commits checkpoint themselves, as SQLite does by default */
        pthread_cond_destroy(&k->cv);
        pthread_mutex_destroy(&k->mu);
        free(k->path);
        free(k);
        return NULL;
    }
    return k;
}

static void checkpointer_stop(struct checkpointer *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
    free(k->path);
    free(k);
}

static int s_open(struct db *db, struct err *e)
{
    struct writer_lock *w;
    if (str_eq(db->target, ":memory:")) {
        w = xcalloc(1, sizeof(*w));
        pthread_mutex_init(&w->mu, NULL);
    } else {
        char *key = canonical_path(db->target);
        if (!key)
            return err_set(e, ERR_DB, "cannot open sqlite database %s: directory missing",
                           db->target);
        w = writer_lock_get(key);
    }
    struct sqlite_db *d = xcalloc(1, sizeof(*d));
    d->writer = w;
    if (w->key)
        d->ckpt = checkpointer_start(db->target, db->busy_timeout_ms);
    db->backend_data = d;
    return 0;
}

static void s_close(struct db *db)
{
    struct sqlite_db *d = sdb(db);
    checkpointer_stop(d->ckpt);
    if (d->writer->key) {
        writer_lock_put(d->writer);
    } else {
        pthread_mutex_destroy(&d->writer->mu);
        free(d->writer);
    }
    free(d);
    db->backend_data = NULL;
}

/*
 * Before the library initialises: no global memory statistics (they take a process-wide mutex
 * on every allocation, which every request thread then queues on).
 */
static void configure_library(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int s_conn_open(struct db *db, struct db_conn **out, struct err *e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_library);
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(
        db->target, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        err_set(e, ERR_DB, "cannot open sqlite database %s: %s", db->target,
                h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
        sqlite3_close(h);
        return ERR_DB;
    }
    sqlite3_extended_result_codes(h, 1);
    sqlite3_busy_timeout(h, db->busy_timeout_ms);
    char *msg = NULL;
    rc = sqlite3_exec(h,
                      db->sqlite_sync_full ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                                             "PRAGMA foreign_keys=ON;"
                                           : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                                             "PRAGMA foreign_keys=ON;",
                      NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        err_set(e, ERR_DB, "cannot set up sqlite database %s: %s", db->target,
                msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        sqlite3_close(h);
        return ERR_DB;
    }
    if (sdb(db)->ckpt)
        sqlite3_wal_hook(h, wal_hook, sdb(db)->ckpt);
    struct sqlite_conn *c = xcalloc(1, sizeof(*c));
    c->h = h;
    *out = &c->base;
    return 0;
}

static void s_conn_close(struct db_conn *base)
{
    struct sqlite_conn *c = sconn(base);
    sqlite3_close(c->h);
    free(c);
}

/* ---------------------------------------------------------------- transactions, exec */

static int exec_raw(struct sqlite_conn *c, const char *sql, struct err *e)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->h, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    enum err_code code = (rc & 0xff) == SQLITE_CONSTRAINT ? ERR_CONFLICT : ERR_DB;
    err_set(e, code, "sqlite exec failed: %s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return code;
}

static int s_begin(struct db_conn *base, struct err *e)
{
    struct sqlite_conn *c = sconn(base);
    int rc = writer_acquire(c, e);
    if (rc)
        return rc;
    rc = exec_raw(c, "BEGIN IMMEDIATE", e);
    if (rc)
        writer_release(c);
    return rc;
}

static int s_commit(struct db_conn *base, struct err *e)
{
    struct sqlite_conn *c = sconn(base);
    int rc = exec_raw(c, "COMMIT", e);
    if (rc && !sqlite3_get_autocommit(c->h))
        exec_raw(c, "ROLLBACK", NULL);
    writer_release(c);
    return rc;
}

static void s_rollback(struct db_conn *base)
{
    struct sqlite_conn *c = sconn(base);
    if (!sqlite3_get_autocommit(c->h)) {
        struct err e;
        err_init(&e);
        if (exec_raw(c, "ROLLBACK", &e))
            log_warn("msg=\"sqlite rollback failed\" err=\"%s\"", e.msg);
    }
    writer_release(c);
}

static int s_exec(struct db_conn *base, const char *sql, struct err *e)
{
    struct sqlite_conn *c = sconn(base);
    /* DDL and SET-like statements may write: queue behind the writer like any write. */
    if (!base->in_tx) {
        int rc = writer_acquire(c, e);
        if (rc)
            return rc;
    }
    int rc = exec_raw(c, sql, e);
    if (!base->in_tx)
        writer_release(c);
    return rc;
}

/* ---------------------------------------------------------------- statements */

static int s_prepare(struct db_conn *base, const char *sql, struct db_stmt **out, struct err *e)
{
    struct sqlite_conn *c = sconn(base);
    sqlite3_stmt *h = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &h, &tail);
    if (rc != SQLITE_OK)
        return fail(c->h, rc, e, "cannot prepare statement");
    if (!h)
        return err_set(e, ERR_INVALID, "empty sql statement");
    while (tail &&
           (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == '\r' || *tail == ';'))
        tail++;
    if (tail && *tail) {
        sqlite3_finalize(h);
        return err_set(e, ERR_INVALID, "db_prepare takes one statement; use db_exec for more");
    }
    struct sqlite_stmt *s = xcalloc(1, sizeof(*s));
    s->h = h;
    *out = &s->base;
    return 0;
}

static void release_step(struct sqlite_stmt *s)
{
    if (s->holds_writer) {
        s->holds_writer = false;
        writer_release(sconn(s->base.conn));
    }
}

/* Put a stepped statement back to its start, keeping bindings. */
static void rewind_stmt(struct sqlite_stmt *s)
{
    if (!s->stepped)
        return;
    sqlite3_reset(s->h);
    s->stepped = false;
    release_step(s);
}

static void s_reset(struct db_stmt *base)
{
    struct sqlite_stmt *s = sstmt(base);
    sqlite3_reset(s->h);
    sqlite3_clear_bindings(s->h);
    s->stepped = false;
    s->changes = 0;
    release_step(s);
}

static void s_finalize(struct db_stmt *base)
{
    struct sqlite_stmt *s = sstmt(base);
    release_step(s);
    sqlite3_finalize(s->h);
    free(s);
}

static int bind_rc(int rc)
{
    return rc == SQLITE_OK ? 0 : ERR_INVALID;
}

static int s_bind_null(struct db_stmt *base, int idx)
{
    struct sqlite_stmt *s = sstmt(base);
    rewind_stmt(s);
    return bind_rc(sqlite3_bind_null(s->h, idx));
}

static int s_bind_i64(struct db_stmt *base, int idx, int64_t v)
{
    struct sqlite_stmt *s = sstmt(base);
    rewind_stmt(s);
    return bind_rc(sqlite3_bind_int64(s->h, idx, v));
}

static int s_bind_f64(struct db_stmt *base, int idx, double v)
{
    struct sqlite_stmt *s = sstmt(base);
    rewind_stmt(s);
    return bind_rc(sqlite3_bind_double(s->h, idx, v));
}

static int s_bind_text(struct db_stmt *base, int idx, const char *v, size_t len)
{
    struct sqlite_stmt *s = sstmt(base);
    rewind_stmt(s);
    return bind_rc(sqlite3_bind_text64(s->h, idx, v, len, SQLITE_TRANSIENT, SQLITE_UTF8));
}

static int s_bind_time(struct db_stmt *base, int idx, int64_t ms)
{
    char iso[CLOCK_ISO_LEN];
    clock_format_iso(ms, iso);
    return s_bind_text(base, idx, iso, strlen(iso));
}

static int s_bind_bool(struct db_stmt *base, int idx, bool v)
{
    return s_bind_i64(base, idx, v ? 1 : 0);
}

static int s_step(struct db_stmt *base, struct err *e)
{
    struct sqlite_stmt *s = sstmt(base);
    struct sqlite_conn *c = sconn(base->conn);
    bool readonly = sqlite3_stmt_readonly(s->h);
    /* An autocommit write holds the writer from its first step until DONE or reset. */
    if (!base->conn->in_tx && !s->holds_writer && !readonly) {
        if (writer_acquire(c, e))
            return DB_ERROR;
        s->holds_writer = true;
    }
    s->stepped = true;
    int rc = sqlite3_step(s->h);
    if (rc == SQLITE_ROW)
        return DB_ROW;
    if (rc == SQLITE_DONE) {
        s->changes = readonly ? 0 : sqlite3_changes64(c->h);
        release_step(s);
        return DB_DONE;
    }
    fail(c->h, rc, e, "sqlite statement failed");
    sqlite3_reset(s->h);
    s->stepped = false;
    release_step(s);
    return DB_ERROR;
}

static int64_t s_changes(struct db_stmt *base)
{
    return sstmt(base)->changes;
}

static int s_col_count(struct db_stmt *base)
{
    return sqlite3_column_count(sstmt(base)->h);
}

static const char *s_col_name(struct db_stmt *base, int col)
{
    const char *n = sqlite3_column_name(sstmt(base)->h, col);
    return n ? n : "";
}

static bool col_ok(struct sqlite_stmt *s, int col)
{
    return col >= 0 && col < sqlite3_data_count(s->h);
}

static bool s_col_is_null(struct db_stmt *base, int col)
{
    struct sqlite_stmt *s = sstmt(base);
    return !col_ok(s, col) || sqlite3_column_type(s->h, col) == SQLITE_NULL;
}

static int64_t s_col_i64(struct db_stmt *base, int col)
{
    struct sqlite_stmt *s = sstmt(base);
    return col_ok(s, col) ? sqlite3_column_int64(s->h, col) : 0;
}

static double s_col_f64(struct db_stmt *base, int col)
{
    struct sqlite_stmt *s = sstmt(base);
    return col_ok(s, col) ? sqlite3_column_double(s->h, col) : 0.0;
}

static const char *s_col_text(struct db_stmt *base, int col)
{
    struct sqlite_stmt *s = sstmt(base);
    if (!col_ok(s, col))
        return NULL;
    return (const char *)sqlite3_column_text(s->h, col);
}

static int64_t s_col_time(struct db_stmt *base, int col)
{
    struct sqlite_stmt *s = sstmt(base);
    if (!col_ok(s, col))
        return 0;
    switch (sqlite3_column_type(s->h, col)) {
    case SQLITE_INTEGER:
        return sqlite3_column_int64(s->h, col);
    case SQLITE_TEXT: {
        int64_t ms = 0;
        if (clock_parse_iso((const char *)sqlite3_column_text(s->h, col), &ms))
            return 0;
        return ms;
    }
    default:
        return 0;
    }
}

static bool s_col_bool(struct db_stmt *base, int col)
{
    struct sqlite_stmt *s = sstmt(base);
    if (!col_ok(s, col))
        return false;
    switch (sqlite3_column_type(s->h, col)) {
    case SQLITE_INTEGER:
        return sqlite3_column_int64(s->h, col) != 0;
    case SQLITE_TEXT: {
        const char *t = (const char *)sqlite3_column_text(s->h, col);
        return t && (t[0] == 't' || t[0] == 'T' || t[0] == '1');
    }
    default:
        return false;
    }
}

/* ---------------------------------------------------------------- leadership (lease row) */

struct sqlite_leader {
    struct db_leader base;
    char *name;
    int64_t ttl_ms;
    char holder[33]; /* random hex id of this process's claim */
    bool held;
};

static int s_leader_new(struct db *db, const char *name, int64_t ttl_ms, struct db_leader **out,
                        struct err *e)
{
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return err_set(e, ERR_INTERNAL, "cannot read random bytes for the leader id");
    struct sqlite_leader *l = xcalloc(1, sizeof(*l));
    (void)db;
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(l->holder + 2 * i, 3, "%02x", rnd[i]);
    l->name = xstrdup(name);
    l->ttl_ms = ttl_ms;
    *out = &l->base;
    return 0;
}

/*
 * One upsert decides: the row is inserted when absent, or taken over when it is ours (renewal)
 * or its lease has run out. ISO text compares in time order, so `<` works on the strings.
 */
static const char lease_sql[] =
    "INSERT INTO leases(name, holder, expires_at) VALUES(?, ?, ?) "
    "ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
    "WHERE leases.holder = excluded.holder OR leases.expires_at < ?";

static int s_leader_try(struct db_leader *base, int64_t now_ms, bool *is_leader, struct err *e)
{
    struct sqlite_leader *l = (struct sqlite_leader *)base;
    struct db_conn *c;
    int rc = db_conn_acquire(base->db, &c, e);
    if (rc)
        return rc;
    struct db_stmt *s;
    rc = db_prepare(c, &s, lease_sql, e);
    if (rc)
        goto out_release;
    db_bind_text(s, 1, l->name);
    db_bind_text(s, 2, l->holder);
    db_bind_time(s, 3, now_ms + l->ttl_ms);
    db_bind_time(s, 4, now_ms);
    struct err se;
    err_init(&se);
    if (db_step(s, &se) == DB_DONE) {
        l->held = db_changes(s) == 1;
        *is_leader = l->held;
    } else {
        rc = err_set(e, se.code ? se.code : ERR_DB, "cannot take lease %s: %s", l->name, se.msg);
        l->held = false;
    }
    db_stmt_done(s);
out_release:
    db_conn_release(c);
    return rc;
}

static void s_leader_free(struct db_leader *base)
{
    struct sqlite_leader *l = (struct sqlite_leader *)base;
    if (l->held) {
        struct err e;
        err_init(&e);
        struct db_conn *c;
        struct db_stmt *s;
        if (db_conn_acquire(base->db, &c, &e) == 0) {
            if (db_prepare(c, &s, "DELETE FROM leases WHERE name = ? AND holder = ?", &e) == 0) {
                db_bind_text(s, 1, l->name);
                db_bind_text(s, 2, l->holder);
                db_step(s, &e);
                db_stmt_done(s);
            }
            db_conn_release(c);
        }
        if (e.code)
            log_warn("msg=\"cannot release lease\" name=%s err=\"%s\"", l->name, e.msg);
    }
    free(l->name);
    free(l);
}

const struct db_ops db_sqlite_ops = {
    .name = "sqlite",
    .open = s_open,
    .close = s_close,
    .conn_open = s_conn_open,
    .conn_close = s_conn_close,
    .conn_check = NULL,
    .begin = s_begin,
    .commit = s_commit,
    .rollback = s_rollback,
    .exec = s_exec,
    .prepare = s_prepare,
    .reset = s_reset,
    .finalize = s_finalize,
    .bind_null = s_bind_null,
    .bind_i64 = s_bind_i64,
    .bind_f64 = s_bind_f64,
    .bind_text = s_bind_text,
    .bind_time = s_bind_time,
    .bind_bool = s_bind_bool,
    .step = s_step,
    .changes = s_changes,
    .col_count = s_col_count,
    .col_name = s_col_name,
    .col_is_null = s_col_is_null,
    .col_i64 = s_col_i64,
    .col_f64 = s_col_f64,
    .col_text = s_col_text,
    .col_time = s_col_time,
    .col_bool = s_col_bool,
    .leader_new = s_leader_new,
    .leader_try = s_leader_try,
    .leader_free = s_leader_free,
};
