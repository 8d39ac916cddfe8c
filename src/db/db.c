/* SPDX-License-Identifier: MIT */
/*
 * The backend-neutral half of the storage API (db.h): URL parsing, the connection pool, the
 * per-connection statement cache, error counting and `?` → `$n` rewriting. Everything
 * backend-specific is reached through `struct db_ops` (db_internal.h); nothing here includes
 * <sqlite3.h> or <libpq-fe.h>. Tests: tests/unit/db/test_db.c.
 */
#include "db/db.h"
#include "db/db_internal.h"
#include "core/buf.h"
#include "core/events.h"
#include "core/str.h"
#include "core/xalloc.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_POOL_SIZE    8
#define DEFAULT_BUSY_TIMEOUT 5000
/* Longest SQL text the placeholder rewriter handles; statements are code, not data. */
#define BUF_MAX_SQL (16u * 1024 * 1024)

/* ---------------------------------------------------------------- open / close */

static int parse_url(struct db *db, const char *url, struct err *e)
{
    if (!url || !*url)
        return err_set(e, ERR_INVALID, "empty database url");
    if (str_has_prefix(url, "sqlite://")) {
        const char *path = url + strlen("sqlite://");
        if (!*path)
            return err_set(e, ERR_INVALID, "sqlite url has no path: %s", url);
        db->backend = DB_SQLITE;
        db->ops = &db_sqlite_ops;
        db->target = xstrdup(path);
        if (str_eq(path, ":memory:"))
            db->pool_size = 1;
        return 0;
    }
    if (str_has_prefix(url, "postgres://") || str_has_prefix(url, "postgresql://")) {
        db->backend = DB_POSTGRES;
        db->ops = &db_pg_ops;
        db->target = xstrdup(url);
        return 0;
    }
    return err_set(e, ERR_INVALID,
                   "unsupported database url scheme (want sqlite:// or "
                   "postgres://)");
}

int db_open(struct db **out, const char *url, const struct db_options *opts, struct err *e)
{
    *out = NULL;
    struct db *db = xcalloc(1, sizeof(*db));
    db->pool_size = opts && opts->pool_size > 0 ? opts->pool_size : DEFAULT_POOL_SIZE;
    db->busy_timeout_ms =
        opts && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : DEFAULT_BUSY_TIMEOUT;
    db->sqlite_sync_full = opts && opts->sqlite_sync_full;
    db->group_commit_off = opts && opts->group_commit_off;
    atomic_init(&db->errors, 0);
    atomic_init(&db->group_batches, 0);
    atomic_init(&db->group_writes, 0);
    pthread_mutex_init(&db->mu, NULL);
    pthread_mutex_init(&db->group_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&db->cv, &ca);
    pthread_condattr_destroy(&ca);

    int rc = parse_url(db, url, e);
    if (rc)
        goto fail_free;
    rc = db->ops->open(db, e);
    if (rc)
        goto fail_free;
    /* Open one connection now so a bad path or an unreachable server fails here. */
    struct db_conn *c;
    rc = db->ops->conn_open(db, &c, e);
    if (rc) {
        db->ops->close(db);
        goto fail_free;
    }
    c->db = db;
    c->next_free = NULL;
    db->free_list = c;
    db->n_open = 1;
    *out = db;
    return 0;

fail_free:
    pthread_cond_destroy(&db->cv);
    pthread_mutex_destroy(&db->mu);
    pthread_mutex_destroy(&db->group_mu);
    free(db->target);
    free(db);
    return rc;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    pthread_mutex_lock(&db->mu);
    struct db_conn *c = db->free_list;
    db->free_list = NULL;
    pthread_mutex_unlock(&db->mu);
    while (c) {
        struct db_conn *next = c->next_free;
        db_conn_cache_flush(c);
        free(c->hooks);
        db->ops->conn_close(c);
        db->n_open--;
        c = next;
    }
    assert(db->n_open == 0 && "db_close with connections still acquired");
    assert(!db->group_head && "db_close with a grouped write waiting");
    db->ops->close(db);
    pthread_cond_destroy(&db->cv);
    pthread_mutex_destroy(&db->mu);
    pthread_mutex_destroy(&db->group_mu);
    free(db->target);
    free(db);
}

enum db_backend db_backend(const struct db *db)
{
    return db->backend;
}

const char *db_backend_name(const struct db *db)
{
    return db->backend == DB_SQLITE ? "sqlite" : "postgres";
}

uint64_t db_error_count(const struct db *db)
{
    return atomic_load(&((struct db *)(uintptr_t)db)->errors);
}

void db_count_error(struct db *db)
{
    atomic_fetch_add(&db->errors, 1);
}

void db_fault_after(struct db *db, int64_t n)
{
    atomic_store(&db->fault_calls, 0);
    atomic_store(&db->fault_at, n > 0 ? n : 0);
}

int64_t db_fault_calls(const struct db *db)
{
    return atomic_load(&db->fault_calls);
}

/* Whether this call is the one db_fault_after() asked to fail; fills e if so. */
static bool injected_fault(struct db *db, struct err *e)
{
    int64_t at = atomic_load(&db->fault_at);
    int64_t n = atomic_fetch_add(&db->fault_calls, 1) + 1;
    if (!at || n != at)
        return false;
    db_count_error(db);
    err_set(e, ERR_DB, "injected fault (call %lld)", (long long)n);
    return true;
}

const char *db_sql(const struct db *db, enum db_fragment f)
{
    switch (f) {
    case DB_SQL_SKIP_LOCKED:
        return db->backend == DB_POSTGRES ? " FOR UPDATE SKIP LOCKED" : "";
    }
    return "";
}

/* ---------------------------------------------------------------- pool */

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int db_conn_acquire(struct db *db, struct db_conn **out, struct err *e)
{
    *out = NULL;
    struct timespec deadline;
    deadline_after(&deadline, db->busy_timeout_ms);
    struct db_conn *c = NULL;
    bool open_new = false;

    pthread_mutex_lock(&db->mu);
    for (;;) {
        if (db->free_list) {
            c = db->free_list;
            db->free_list = c->next_free;
            c->next_free = NULL;
            break;
        }
        if (db->n_open < db->pool_size) {
            db->n_open++; /* reserve the slot; connect outside the lock */
            open_new = true;
            break;
        }
        int rc = pthread_cond_timedwait(&db->cv, &db->mu, &deadline);
        if (rc == ETIMEDOUT && !db->free_list) {
            pthread_mutex_unlock(&db->mu);
            db_count_error(db);
            return err_set(e, ERR_TIMEOUT, "no database connection free after %d ms",
                           db->busy_timeout_ms);
        }
    }
    pthread_mutex_unlock(&db->mu);

    if (open_new) {
        int rc = db->ops->conn_open(db, &c, e);
        if (rc) {
            pthread_mutex_lock(&db->mu);
            db->n_open--;
            pthread_cond_signal(&db->cv);
            pthread_mutex_unlock(&db->mu);
            db_count_error(db);
            return rc;
        }
        c->db = db;
        c->next_free = NULL;
    } else if (db->ops->conn_check) {
        int rc = db->ops->conn_check(c, e);
        if (rc) {
            db_conn_release(c);
            db_count_error(db);
            return rc;
        }
    }
    *out = c;
    return 0;
}

void db_conn_release(struct db_conn *c)
{
    if (!c)
        return;
    if (c->in_tx)
        db_rollback(c);
    struct db *db = c->db;
    pthread_mutex_lock(&db->mu);
    c->next_free = db->free_list;
    db->free_list = c;
    pthread_cond_signal(&db->cv);
    pthread_mutex_unlock(&db->mu);
}

struct db *db_conn_db(struct db_conn *c)
{
    return c->db;
}

/* ---------------------------------------------------------------- transactions, exec */

/* Forget the kept commit hooks without running them. */
static void hooks_drop(struct db_conn *c)
{
    for (size_t i = 0; i < c->n_hooks; i++) {
        if (c->hooks[i].owned)
            free(c->hooks[i].ctx);
    }
    c->n_hooks = 0;
}

/* Run the kept commit hooks in order; a hook that registers another runs it at once. */
static void hooks_run(struct db_conn *c)
{
    size_t n = c->n_hooks;
    if (!n)
        return;
    struct db_commit_hook *run = c->hooks;
    c->hooks = NULL;
    c->n_hooks = 0;
    c->cap_hooks = 0;
    for (size_t i = 0; i < n; i++) {
        run[i].fn(run[i].ctx);
        if (run[i].owned)
            free(run[i].ctx);
    }
    free(run);
}

static void hook_add(struct db_conn *c, db_commit_fn *fn, void *ctx, bool owned)
{
    if (c->n_hooks == c->cap_hooks) {
        c->cap_hooks = c->cap_hooks ? c->cap_hooks * 2 : 8;
        c->hooks = xrealloc(c->hooks, c->cap_hooks * sizeof(*c->hooks));
    }
    c->hooks[c->n_hooks++] = (struct db_commit_hook){.fn = fn, .ctx = ctx, .owned = owned};
}

void db_on_commit(struct db_conn *c, db_commit_fn *fn, void *ctx)
{
    if (!c->in_tx) {
        fn(ctx);
        return;
    }
    hook_add(c, fn, ctx, false);
}

void db_on_commit_copy(struct db_conn *c, db_commit_fn *fn, const void *data, size_t len)
{
    if (!c->in_tx) {
        fn((void *)(uintptr_t)data);
        return;
    }
    void *copy = xmalloc(len ? len : 1);
    if (len)
        memcpy(copy, data, len);
    hook_add(c, fn, copy, true);
}

void db_on_commit_event(struct db_conn *c, int64_t tenant, const char *type, int64_t id,
                        const char *status)
{
    struct events_pending ev;
    events_pending_init(&ev, tenant, type, id, status);
    db_on_commit_copy(c, events_pending_publish, &ev, sizeof(ev));
}

int db_begin(struct db_conn *c, struct err *e)
{
    assert(!c->in_tx && "nested db_begin");
    int rc = c->db->ops->begin(c, e);
    if (rc) {
        db_count_error(c->db);
        return rc;
    }
    c->in_tx = true;
    return 0;
}

int db_commit(struct db_conn *c, struct err *e)
{
    assert(c->in_tx && "db_commit without db_begin");
    if (injected_fault(c->db, e)) {
        db_rollback(c);
        return ERR_DB;
    }
    int rc = c->db->ops->commit(c, e);
    /* The backend leaves no transaction open whether COMMIT worked or not. */
    c->in_tx = false;
    if (rc) {
        db_count_error(c->db);
        hooks_drop(c);
        return rc;
    }
    hooks_run(c);
    return 0;
}

void db_rollback(struct db_conn *c)
{
    if (!c->in_tx)
        return;
    c->db->ops->rollback(c);
    c->in_tx = false;
    hooks_drop(c);
}

bool db_in_transaction(const struct db_conn *c)
{
    return c->in_tx;
}

int db_exec(struct db_conn *c, const char *sql, struct err *e)
{
    if (injected_fault(c->db, e))
        return ERR_DB;
    int rc = c->db->ops->exec(c, sql, e);
    if (rc)
        db_count_error(c->db);
    return rc;
}

/* ---------------------------------------------------------------- statement cache */

static unsigned hash_sql(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h % DB_CACHE_BUCKETS;
}

int db_prepare(struct db_conn *c, struct db_stmt **out, const char *sql, struct err *e)
{
    *out = NULL;
    unsigned b = hash_sql(sql);
    bool have_entry = false;
    for (struct db_stmt *s = c->cache[b]; s; s = s->next) {
        if (!str_eq(s->sql, sql))
            continue;
        have_entry = true;
        if (!s->in_use) {
            s->in_use = true;
            *out = s;
            return 0;
        }
    }
    struct db_stmt *s;
    int rc = c->db->ops->prepare(c, sql, &s, e);
    if (rc) {
        db_count_error(c->db);
        return rc;
    }
    s->conn = c;
    s->sql = xstrdup(sql);
    s->in_use = true;
    s->next = NULL;
    /* A second copy of a borrowed statement (nested use) is not cached: finalized on done. */
    s->cached = !have_entry && c->cache_count < DB_CACHE_MAX;
    if (s->cached) {
        s->next = c->cache[b];
        c->cache[b] = s;
        c->cache_count++;
    }
    *out = s;
    return 0;
}

static void stmt_destroy(struct db_stmt *s)
{
    char *sql = s->sql;
    s->conn->db->ops->finalize(s);
    free(sql);
}

void db_stmt_done(struct db_stmt *s)
{
    if (!s)
        return;
    s->conn->db->ops->reset(s);
    if (s->cached)
        s->in_use = false;
    else
        stmt_destroy(s);
}

void db_conn_cache_flush(struct db_conn *c)
{
    for (int b = 0; b < DB_CACHE_BUCKETS; b++) {
        struct db_stmt *s = c->cache[b];
        while (s) {
            struct db_stmt *next = s->next;
            assert(!s->in_use && "statement still borrowed");
            stmt_destroy(s);
            s = next;
        }
        c->cache[b] = NULL;
    }
    c->cache_count = 0;
}

/* ---------------------------------------------------------------- bind, step, columns */

int db_bind_null(struct db_stmt *s, int idx)
{
    return s->conn->db->ops->bind_null(s, idx);
}

int db_bind_i64(struct db_stmt *s, int idx, int64_t v)
{
    return s->conn->db->ops->bind_i64(s, idx, v);
}

int db_bind_f64(struct db_stmt *s, int idx, double v)
{
    return s->conn->db->ops->bind_f64(s, idx, v);
}

int db_bind_text(struct db_stmt *s, int idx, const char *v)
{
    if (!v)
        return db_bind_null(s, idx);
    return s->conn->db->ops->bind_text(s, idx, v, strlen(v));
}

int db_bind_textn(struct db_stmt *s, int idx, const char *v, size_t len)
{
    if (!v)
        return db_bind_null(s, idx);
    return s->conn->db->ops->bind_text(s, idx, v, len);
}

int db_bind_time(struct db_stmt *s, int idx, int64_t ms)
{
    return s->conn->db->ops->bind_time(s, idx, ms);
}

int db_bind_bool(struct db_stmt *s, int idx, bool v)
{
    return s->conn->db->ops->bind_bool(s, idx, v);
}

int db_step(struct db_stmt *s, struct err *e)
{
    if (injected_fault(s->conn->db, e))
        return DB_ERROR;
    int r = s->conn->db->ops->step(s, e);
    if (r == DB_ERROR)
        db_count_error(s->conn->db);
    return r;
}

int64_t db_changes(struct db_stmt *s)
{
    return s->conn->db->ops->changes(s);
}

int db_col_count(struct db_stmt *s)
{
    return s->conn->db->ops->col_count(s);
}

const char *db_col_name(struct db_stmt *s, int col)
{
    return s->conn->db->ops->col_name(s, col);
}

bool db_col_is_null(struct db_stmt *s, int col)
{
    return s->conn->db->ops->col_is_null(s, col);
}

int64_t db_col_i64(struct db_stmt *s, int col)
{
    return s->conn->db->ops->col_i64(s, col);
}

double db_col_f64(struct db_stmt *s, int col)
{
    return s->conn->db->ops->col_f64(s, col);
}

const char *db_col_text(struct db_stmt *s, int col)
{
    return s->conn->db->ops->col_text(s, col);
}

int64_t db_col_time(struct db_stmt *s, int col)
{
    return s->conn->db->ops->col_time(s, col);
}

bool db_col_bool(struct db_stmt *s, int col)
{
    return s->conn->db->ops->col_bool(s, col);
}

/* ---------------------------------------------------------------- leadership */

int db_leader_new(struct db *db, const char *name, int64_t ttl_ms, struct db_leader **out,
                  struct err *e)
{
    *out = NULL;
    if (!name || !*name || ttl_ms <= 0)
        return err_set(e, ERR_INVALID, "leader needs a name and a positive ttl");
    int rc = db->ops->leader_new(db, name, ttl_ms, out, e);
    if (rc) {
        db_count_error(db);
        return rc;
    }
    (*out)->db = db;
    return 0;
}

int db_leader_try(struct db_leader *l, int64_t now_ms, bool *is_leader, struct err *e)
{
    *is_leader = false;
    int rc = l->db->ops->leader_try(l, now_ms, is_leader, e);
    if (rc) {
        *is_leader = false;
        db_count_error(l->db);
    }
    return rc;
}

void db_leader_free(struct db_leader *l)
{
    if (!l)
        return;
    l->db->ops->leader_free(l);
}

/* ---------------------------------------------------------------- placeholder rewriting */

/* Index just past a quoted run starting at sql[i] == q; doubled quotes stay inside. */
static size_t skip_quoted(const char *sql, size_t i, char q, bool backslash)
{
    i++;
    while (sql[i]) {
        if (backslash && sql[i] == '\\' && sql[i + 1]) {
            i += 2;
            continue;
        }
        if (sql[i] == q) {
            if (sql[i + 1] == q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return i;
}

/* A dollar-quote tag "$tag$" at sql[i]; its length, or 0 when this `$` is not one. */
static size_t dollar_tag_len(const char *sql, size_t i)
{
    size_t j = i + 1;
    if (sql[j] >= '0' && sql[j] <= '9')
        return 0; /* $1 is a parameter */
    while (sql[j] == '_' || (sql[j] >= 'a' && sql[j] <= 'z') || (sql[j] >= 'A' && sql[j] <= 'Z') ||
           (sql[j] >= '0' && sql[j] <= '9') || (unsigned char)sql[j] >= 0x80)
        j++;
    return sql[j] == '$' ? j + 1 - i : 0;
}

static bool is_ident_char(char ch)
{
    return ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || (unsigned char)ch >= 0x80;
}

char *db_sql_rewrite_pg(const char *sql, int *nparams)
{
    struct buf out;
    buf_init(&out, BUF_MAX_SQL);
    int n = 0;
    size_t i = 0;
    while (sql[i]) {
        char ch = sql[i];
        size_t start = i;
        if (ch == '\'') {
            bool esc = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                       (i < 2 || !is_ident_char(sql[i - 2]));
            i = skip_quoted(sql, i, '\'', esc);
        } else if (ch == '"') {
            i = skip_quoted(sql, i, '"', false);
        } else if (ch == '-' && sql[i + 1] == '-') {
            while (sql[i] && sql[i] != '\n')
                i++;
        } else if (ch == '/' && sql[i + 1] == '*') {
            const char *end = strstr(sql + i + 2, "*/");
            i = end ? (size_t)(end - sql) + 2 : strlen(sql);
        } else if (ch == '$' && (i == 0 || !is_ident_char(sql[i - 1])) &&
                   dollar_tag_len(sql, i) > 0) {
            size_t tl = dollar_tag_len(sql, i);
            const char *body = sql + i + tl;
            const char *end = body;
            for (;;) {
                end = strchr(end, '$');
                if (!end || strncmp(end, sql + i, tl) == 0)
                    break;
                end++;
            }
            i = end ? (size_t)(end - sql) + tl : strlen(sql);
        } else if (ch == '?') {
            n++;
            buf_appendf(&out, "$%d", n);
            i++;
            continue;
        } else {
            i++;
        }
        buf_append(&out, sql + start, i - start);
    }
    *nparams = n;
    char *res = buf_detach(&out, NULL);
    return res ? res : xstrdup("");
}

int db_begin_own(struct db_conn *c, bool *own, struct err *e)
{
    *own = !db_in_transaction(c);
    return *own ? db_begin(c, e) : 0;
}

int db_end_own(struct db_conn *c, bool own, int rc, struct err *e)
{
    if (!own)
        return rc;
    if (rc) {
        db_rollback(c);
        return rc;
    }
    return db_commit(c, e);
}

int db_step_error(const struct err *e)
{
    return e && e->code ? (int)e->code : ERR_DB;
}

int db_get_one(struct db_conn *c, const char *sql, int64_t tenant, const char *key, int64_t id,
               db_row_fn *read, struct arena *a, void *out, bool *found, struct err *e)
{
    *found = false;
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    if (key)
        db_bind_text(s, 2, key);
    else
        db_bind_i64(s, 2, id);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        read(s, a, out);
        *found = true;
    }
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}
