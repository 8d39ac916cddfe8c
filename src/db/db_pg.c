/* SPDX-License-Identifier: MIT */
/*
 * PostgreSQL backend for db.h over libpq: sessions in UTC, named prepared statements cached per
 * connection, text parameters, results materialised so db_step() walks rows, SQLSTATE class 23
 * mapped to ERR_CONFLICT, and advisory-lock leadership on a dedicated connection.
 * The only file that includes <libpq-fe.h>. Tests: tests/unit/db/test_db.c (TEST_PG_DSN).
 */
#include "db/db.h"
#include "db/db_internal.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"

#include <libpq-fe.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pg_conn {
    struct db_conn base;
    PGconn *h;
    unsigned next_id; /* prepared statement names: s1, s2, ... */
};

struct pg_stmt {
    struct db_stmt base;
    char name[24];
    int nparams;
    char **params; /* text values; NULL is SQL NULL */
    PGresult *res; /* materialised result of the last execution */
    int row;
    int ntuples;
    bool finished; /* the last execution has been stepped to DB_DONE */
    int64_t changes;
};

static struct pg_conn *pconn(struct db_conn *c)
{
    return (struct pg_conn *)c;
}

static struct pg_stmt *pstmt(struct db_stmt *s)
{
    return (struct pg_stmt *)s;
}

/* libpq messages end in a newline; drop it. */
static int msg_len(const char *m)
{
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == '\r'))
        n--;
    return (int)n;
}

static int result_fail(PGconn *h, PGresult *r, struct err *e, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *m = r ? PQresultErrorMessage(r) : "";
    if (!*m)
        m = PQerrorMessage(h);
    if (state && state[0] == '2' && state[1] == '3') {
        /* the constraint's name and columns stay in the log: errors may reach a client */
        log_info("msg=\"constraint violated\" what=%s sqlstate=%s detail=\"%.*s\"", what, state,
                 msg_len(m), m);
        return err_set(e, ERR_CONFLICT, "the change conflicts with existing data");
    }
    return err_set(e, ERR_DB, "%s: %.*s", what, msg_len(m), m);
}

/* ---------------------------------------------------------------- connections */

/* Server notices ("relation already exists, skipping") go to the debug log, not stderr. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("msg=\"postgres notice\" text=\"%.*s\"", msg_len(message), message);
}

static int session_setup(PGconn *h, struct err *e)
{
    PQsetNoticeProcessor(h, on_notice, NULL);
    PGresult *r = PQexec(h, "SET TIME ZONE 'UTC'");
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = result_fail(h, r, e, "cannot set postgres time zone");
    PQclear(r);
    return rc;
}

static int pg_connect(struct db *db, PGconn **out, struct err *e)
{
    char timeout[16];
    int secs = (db->busy_timeout_ms + 999) / 1000;
    snprintf(timeout, sizeof(timeout), "%d", secs < 2 ? 2 : secs);
    /* dbname (the URI) comes last so settings written in the URI win. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {timeout, "iceshop", db->target, NULL};
    PGconn *h = PQconnectdbParams(keys, vals, 1);
    if (!h)
        return err_set(e, ERR_NOMEM, "cannot allocate postgres connection");
    if (PQstatus(h) != CONNECTION_OK) {
        const char *m = PQerrorMessage(h);
        err_set(e, ERR_DB, "cannot connect to postgres: %.*s", msg_len(m), m);
        PQfinish(h);
        return ERR_DB;
    }
    int rc = session_setup(h, e);
    if (rc) {
        PQfinish(h);
        return rc;
    }
    *out = h;
    return 0;
}

static int p_open(struct db *db, struct err *e)
{
    (void)db;
    (void)e;
    return 0;
}

static void p_close(struct db *db)
{
    (void)db;
}

static int p_conn_open(struct db *db, struct db_conn **out, struct err *e)
{
    PGconn *h = NULL;
    int rc = pg_connect(db, &h, e);
    if (rc)
        return rc;
    struct pg_conn *c = xcalloc(1, sizeof(*c));
    c->h = h;
    *out = &c->base;
    return 0;
}

static void p_conn_close(struct db_conn *base)
{
    struct pg_conn *c = pconn(base);
    PQfinish(c->h);
    free(c);
}

static int p_conn_check(struct db_conn *base, struct err *e)
{
    struct pg_conn *c = pconn(base);
    if (PQstatus(c->h) == CONNECTION_OK)
        return 0;
    /* Prepared statements died with the session. */
    db_conn_cache_flush(base);
    log_warn("msg=\"reconnecting to postgres\"");
    PQreset(c->h);
    if (PQstatus(c->h) != CONNECTION_OK) {
        const char *m = PQerrorMessage(c->h);
        return err_set(e, ERR_DB, "cannot reconnect to postgres: %.*s", msg_len(m), m);
    }
    return session_setup(c->h, e);
}

/* ---------------------------------------------------------------- transactions, exec */

static int exec_raw(struct pg_conn *c, const char *sql, struct err *e)
{
    PGresult *r = PQexec(c->h, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        rc = result_fail(c->h, r, e, "postgres exec failed");
    PQclear(r);
    return rc;
}

static int p_begin(struct db_conn *base, struct err *e)
{
    return exec_raw(pconn(base), "BEGIN", e);
}

static int p_commit(struct db_conn *base, struct err *e)
{
    struct pg_conn *c = pconn(base);
    if (PQtransactionStatus(c->h) == PQTRANS_INERROR) {
        exec_raw(c, "ROLLBACK", NULL);
        return err_set(e, ERR_DB, "transaction aborted by an earlier error; rolled back");
    }
    PGresult *r = PQexec(c->h, "COMMIT");
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = result_fail(c->h, r, e, "commit failed");
    else if (str_eq(PQcmdStatus(r), "ROLLBACK"))
        rc = err_set(e, ERR_DB, "commit failed: transaction was rolled back");
    PQclear(r);
    if (rc && PQtransactionStatus(c->h) != PQTRANS_IDLE)
        exec_raw(c, "ROLLBACK", NULL);
    return rc;
}

static void p_rollback(struct db_conn *base)
{
    struct pg_conn *c = pconn(base);
    if (PQstatus(c->h) != CONNECTION_OK)
        return;
    struct err e;
    err_init(&e);
    if (exec_raw(c, "ROLLBACK", &e))
        log_warn("msg=\"postgres rollback failed\" err=\"%s\"", e.msg);
}

static int p_exec(struct db_conn *base, const char *sql, struct err *e)
{
    return exec_raw(pconn(base), sql, e);
}

/* ---------------------------------------------------------------- statements */

static int p_prepare(struct db_conn *base, const char *sql, struct db_stmt **out, struct err *e)
{
    struct pg_conn *c = pconn(base);
    int nparams = 0;
    char *pg_sql = db_sql_rewrite_pg(sql, &nparams);
    char name[24];
    snprintf(name, sizeof(name), "s%u", ++c->next_id);
    PGresult *r = PQprepare(c->h, name, pg_sql, 0, NULL);
    free(pg_sql);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = result_fail(c->h, r, e, "cannot prepare statement");
    PQclear(r);
    if (rc)
        return rc;
    struct pg_stmt *s = xcalloc(1, sizeof(*s));
    str_copy(s->name, sizeof(s->name), name);
    s->nparams = nparams;
    s->params = nparams ? xcalloc((size_t)nparams, sizeof(char *)) : NULL;
    s->row = -1;
    *out = &s->base;
    return 0;
}

static void drop_result(struct pg_stmt *s)
{
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
    s->ntuples = 0;
    s->finished = false;
}

static void p_reset(struct db_stmt *base)
{
    struct pg_stmt *s = pstmt(base);
    drop_result(s);
    for (int i = 0; i < s->nparams; i++) {
        free(s->params[i]);
        s->params[i] = NULL;
    }
    s->changes = 0;
}

static void p_finalize(struct db_stmt *base)
{
    struct pg_stmt *s = pstmt(base);
    struct pg_conn *c = pconn(base->conn);
    p_reset(base);
    /*
     * Cached statements die with their session; an uncached one-off is deallocated now so a
     * long-lived session does not collect them (skipped when the session cannot run it).
     */
    if (!base->cached && PQstatus(c->h) == CONNECTION_OK &&
        PQtransactionStatus(c->h) != PQTRANS_INERROR) {
        char sql[48];
        snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
        exec_raw(c, sql, NULL);
    }
    free(s->params);
    free(s);
}

/* Binding after an execution starts a new one at the next db_step(). */
static int set_param(struct pg_stmt *s, int idx, char *v)
{
    if (idx < 1 || idx > s->nparams) {
        free(v);
        return ERR_INVALID;
    }
    if (s->res)
        drop_result(s);
    free(s->params[idx - 1]);
    s->params[idx - 1] = v;
    return 0;
}

static int p_bind_null(struct db_stmt *base, int idx)
{
    return set_param(pstmt(base), idx, NULL);
}

static int p_bind_i64(struct db_stmt *base, int idx, int64_t v)
{
    char t[24];
    snprintf(t, sizeof(t), "%" PRId64, v);
    return set_param(pstmt(base), idx, xstrdup(t));
}

static int p_bind_f64(struct db_stmt *base, int idx, double v)
{
    char t[40];
    snprintf(t, sizeof(t), "%.17g", v);
    return set_param(pstmt(base), idx, xstrdup(t));
}

static int p_bind_text(struct db_stmt *base, int idx, const char *v, size_t len)
{
    return set_param(pstmt(base), idx, xstrndup(v, len));
}

static int p_bind_time(struct db_stmt *base, int idx, int64_t ms)
{
    char iso[CLOCK_ISO_LEN];
    clock_format_iso(ms, iso);
    return set_param(pstmt(base), idx, xstrdup(iso));
}

static int p_bind_bool(struct db_stmt *base, int idx, bool v)
{
    return set_param(pstmt(base), idx, xstrdup(v ? "t" : "f"));
}

static int64_t cmd_changes(PGresult *r)
{
    if (str_has_prefix(PQcmdStatus(r), "SELECT"))
        return 0;
    int64_t n = 0;
    if (str_to_i64(PQcmdTuples(r), &n))
        return 0;
    return n;
}

static int p_step(struct db_stmt *base, struct err *e)
{
    struct pg_stmt *s = pstmt(base);
    struct pg_conn *c = pconn(base->conn);
    if (s->res && !s->finished) {
        s->row++;
        if (s->row < s->ntuples)
            return DB_ROW;
        s->finished = true;
        return DB_DONE;
    }
    /* Not run yet, or stepping again after DB_DONE: execute (again) with current bindings. */
    drop_result(s);
    PGresult *r =
        PQexecPrepared(c->h, s->name, s->nparams, (const char *const *)s->params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        result_fail(c->h, r, e, "postgres statement failed");
        PQclear(r);
        return DB_ERROR;
    }
    s->res = r;
    s->ntuples = PQntuples(r);
    s->changes = cmd_changes(r);
    s->row = 0;
    if (s->row < s->ntuples)
        return DB_ROW;
    s->finished = true;
    return DB_DONE;
}

static int64_t p_changes(struct db_stmt *base)
{
    return pstmt(base)->changes;
}

static int p_col_count(struct db_stmt *base)
{
    struct pg_stmt *s = pstmt(base);
    return s->res ? PQnfields(s->res) : 0;
}

static const char *p_col_name(struct db_stmt *base, int col)
{
    struct pg_stmt *s = pstmt(base);
    const char *n = s->res && col >= 0 && col < PQnfields(s->res) ? PQfname(s->res, col) : NULL;
    return n ? n : "";
}

/* The current row's value, or NULL for SQL NULL / no row / bad column. */
static const char *value(struct pg_stmt *s, int col)
{
    if (!s->res || s->row < 0 || s->row >= s->ntuples || col < 0 || col >= PQnfields(s->res))
        return NULL;
    if (PQgetisnull(s->res, s->row, col))
        return NULL;
    return PQgetvalue(s->res, s->row, col);
}

static bool p_col_is_null(struct db_stmt *base, int col)
{
    return value(pstmt(base), col) == NULL;
}

static int64_t p_col_i64(struct db_stmt *base, int col)
{
    const char *v = value(pstmt(base), col);
    if (!v)
        return 0;
    if (v[0] == 't')
        return 1; /* a boolean read as an integer, as SQLite would give */
    return (int64_t)strtoll(v, NULL, 10);
}

static double p_col_f64(struct db_stmt *base, int col)
{
    const char *v = value(pstmt(base), col);
    return v ? strtod(v, NULL) : 0.0;
}

static const char *p_col_text(struct db_stmt *base, int col)
{
    return value(pstmt(base), col);
}

static int64_t p_col_time(struct db_stmt *base, int col)
{
    const char *v = value(pstmt(base), col);
    int64_t ms = 0;
    if (!v || clock_parse_iso(v, &ms))
        return 0;
    return ms;
}

static bool p_col_bool(struct db_stmt *base, int col)
{
    const char *v = value(pstmt(base), col);
    return v && (v[0] == 't' || v[0] == '1');
}

/* ---------------------------------------------------------------- leadership (advisory lock) */

struct pg_leader {
    struct db_leader base;
    char *name;
    PGconn *h; /* dedicated session holding the lock; never in the pool */
    bool held;
};

static int p_leader_new(struct db *db, const char *name, int64_t ttl_ms, struct db_leader **out,
                        struct err *e)
{
    (void)ttl_ms; /* the lock lives as long as the session; no lease to time out */
    PGconn *h = NULL;
    int rc = pg_connect(db, &h, e);
    if (rc)
        return rc;
    struct pg_leader *l = xcalloc(1, sizeof(*l));
    l->name = xstrdup(name);
    l->h = h;
    *out = &l->base;
    return 0;
}

static int p_leader_try(struct db_leader *base, int64_t now_ms, bool *is_leader, struct err *e)
{
    struct pg_leader *l = (struct pg_leader *)base;
    (void)now_ms;
    if (!l->h || PQstatus(l->h) != CONNECTION_OK) {
        /* The session died, and the lock with it: start over on a new one. */
        l->held = false;
        PQfinish(l->h);
        l->h = NULL;
        int rc = pg_connect(base->db, &l->h, e);
        if (rc)
            return rc;
    }
    PGresult *r;
    if (l->held) {
        r = PQexec(l->h, "SELECT 1");
    } else {
        const char *params[1] = {l->name};
        r = PQexecParams(l->h, "SELECT pg_try_advisory_lock(hashtext($1))", 1, NULL, params, NULL,
                         NULL, 0);
    }
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        rc = result_fail(l->h, r, e, "leader check failed");
        l->held = false;
        /* Drop the session so a half-dead lock holder cannot linger. */
        PQfinish(l->h);
        l->h = NULL;
    } else if (!l->held) {
        l->held = PQgetvalue(r, 0, 0)[0] == 't';
    }
    PQclear(r);
    *is_leader = l->held;
    return rc;
}

static void p_leader_free(struct db_leader *base)
{
    struct pg_leader *l = (struct pg_leader *)base;
    /*
     * Unlock explicitly: the server drops a closed session's locks only when its backend
     * notices the disconnect, so another process could still see the lock held just after
     * PQfinish. Closing the session remains the fallback.
     */
    if (l->held && l->h && PQstatus(l->h) == CONNECTION_OK) {
        const char *params[1] = {l->name};
        PGresult *r = PQexecParams(l->h, "SELECT pg_advisory_unlock(hashtext($1))", 1, NULL, params,
                                   NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            log_warn("msg=\"cannot release advisory lock\" name=%s", l->name);
        PQclear(r);
    }
    PQfinish(l->h);
    free(l->name);
    free(l);
}

const struct db_ops db_pg_ops = {
    .name = "postgres",
    .open = p_open,
    .close = p_close,
    .conn_open = p_conn_open,
    .conn_close = p_conn_close,
    .conn_check = p_conn_check,
    .begin = p_begin,
    .commit = p_commit,
    .rollback = p_rollback,
    .exec = p_exec,
    .prepare = p_prepare,
    .reset = p_reset,
    .finalize = p_finalize,
    .bind_null = p_bind_null,
    .bind_i64 = p_bind_i64,
    .bind_f64 = p_bind_f64,
    .bind_text = p_bind_text,
    .bind_time = p_bind_time,
    .bind_bool = p_bind_bool,
    .step = p_step,
    .changes = p_changes,
    .col_count = p_col_count,
    .col_name = p_col_name,
    .col_is_null = p_col_is_null,
    .col_i64 = p_col_i64,
    .col_f64 = p_col_f64,
    .col_text = p_col_text,
    .col_time = p_col_time,
    .col_bool = p_col_bool,
    .leader_new = p_leader_new,
    .leader_try = p_leader_try,
    .leader_free = p_leader_free,
};

/* ---------------------------------------------------------------- LISTEN (db.h) */

struct db_listener {
    struct db *db;
    char channel[64];
    PGconn *h; /* dedicated session, never in the pool; NULL after a failure until reopened */
};

static int listen_connect(struct db_listener *l, struct err *e)
{
    PGconn *h = NULL;
    int rc = pg_connect(l->db, &h, e);
    if (rc)
        return rc;
    char sql[96];
    snprintf(sql, sizeof(sql), "LISTEN %s", l->channel);
    PGresult *r = PQexec(h, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = result_fail(h, r, e, "cannot listen");
        PQclear(r);
        PQfinish(h);
        return rc;
    }
    PQclear(r);
    if (PQsetnonblocking(h, 1) != 0) {
        PQfinish(h);
        return err_set(e, ERR_DB, "cannot make the listening connection non-blocking");
    }
    l->h = h;
    return 0;
}

int db_listen_open(struct db *db, const char *channel, struct db_listener **out, struct err *e)
{
    if (db_backend(db) != DB_POSTGRES)
        return err_set(e, ERR_UNSUPPORTED, "%s has no notifications", db_backend_name(db));
    size_t n = channel ? strlen(channel) : 0;
    bool ok = n >= 1 && n <= 63;
    for (size_t i = 0; ok && i < n; i++)
        ok = (channel[i] >= 'a' && channel[i] <= 'z') || (channel[i] >= '0' && channel[i] <= '9') ||
             channel[i] == '_';
    if (!ok)
        return err_set_field(e, ERR_INVALID, "channel", "channel must be 1..63 of a-z 0-9 _");
    struct db_listener *l = xcalloc(1, sizeof(*l));
    l->db = db;
    memcpy(l->channel, channel, n + 1);
    int rc = listen_connect(l, e);
    if (rc) {
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

/* Consume what the socket has; true when a notification for the channel arrived. */
static bool listen_drain(struct db_listener *l)
{
    bool got = false;
    PGnotify *nt;
    while ((nt = PQnotifies(l->h)) != NULL) {
        got = got || strcmp(nt->relname, l->channel) == 0;
        PQfreemem(nt);
    }
    return got;
}

int db_listen_wait(struct db_listener *l, int timeout_ms, int wake_fd, bool *notified,
                   struct err *e)
{
    *notified = false;
    if (!l->h || PQstatus(l->h) != CONNECTION_OK) {
        PQfinish(l->h);
        l->h = NULL;
        int rc = listen_connect(l, e);
        if (rc)
            return rc;
        /* Anything may have been sent while the session was down. */
        *notified = true;
        return 0;
    }
    if (PQconsumeInput(l->h) == 0)
        goto broken;
    if (listen_drain(l)) {
        *notified = true;
        return 0;
    }
    struct pollfd pfd[2] = {{.fd = PQsocket(l->h), .events = POLLIN},
                            {.fd = wake_fd, .events = POLLIN}};
    int pr = poll(pfd, wake_fd >= 0 ? 2 : 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (pr < 0 && errno != EINTR)
        return err_set(e, ERR_DB, "poll on the listening connection: %s", strerror(errno));
    if (pr <= 0 || !(pfd[0].revents & (POLLIN | POLLERR | POLLHUP)))
        return 0;
    if (PQconsumeInput(l->h) == 0)
        goto broken;
    *notified = listen_drain(l);
    return 0;
broken:;
    const char *m = PQerrorMessage(l->h);
    err_set(e, ERR_DB, "listening connection lost: %.*s", msg_len(m), m);
    PQfinish(l->h);
    l->h = NULL;
    return ERR_DB;
}

void db_listen_close(struct db_listener *l)
{
    if (!l)
        return;
    PQfinish(l->h);
    free(l);
}
