/* SPDX-License-Identifier: MIT */
/*
 * The one storage API. Two backends sit behind `struct db_ops`: SQLite (embedded default, WAL)
 * and PostgreSQL (libpq). Callers write portable SQL with `?` placeholders; the PostgreSQL
 * backend rewrites them to $1..$n. Times go through db_bind_time()/db_col_time() so callers see
 * int64 milliseconds while the database stores ISO-8601 text (SQLite) or timestamptz (PostgreSQL).
 *
 * Threads: a `struct db` is shared; each thread works on its own `struct db_conn` taken from the
 * pool with db_conn_acquire() and given back with db_conn_release(). A connection and its
 * statements are used by one thread at a time.
 *
 * Nothing outside src/db/ includes <sqlite3.h> or <libpq-fe.h>. Tests: tests/unit/db/test_db.c
 * (runs on SQLite, and on PostgreSQL when TEST_PG_DSN is set).
 */
#ifndef ICESHOP_DB_DB_H
#define ICESHOP_DB_DB_H

#include "core/arena.h"
#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct db_conn;
struct db_stmt;

enum db_backend { DB_SQLITE = 1, DB_POSTGRES = 2 };

/* Result of db_step(). Errors are negative-free: db_step returns DB_ERROR and fills `e`. */
enum db_step_result { DB_DONE = 0, DB_ROW = 1, DB_ERROR = -1 };

struct db_options {
    int pool_size;       /* connections in the pool; 0 → 8 */
    int busy_timeout_ms; /* SQLite lock wait / PostgreSQL connect timeout; 0 → 5000 */
    /*
     * SQLite only: false → synchronous=NORMAL (WAL: a commit survives a process crash, the last
     * ones may be lost on an OS crash or power loss); true → synchronous=FULL (fsync per commit).
     */
    bool sqlite_sync_full;
    /* true → db_group_write() commits each write in its own transaction (a baseline to measure) */
    bool group_commit_off;
};

/*
 * Open a database from a URL: "sqlite://PATH" (relative or absolute; parent directory must
 * exist; "sqlite://:memory:" for a private in-memory database with a pool of one) or
 * "postgres://..." / "postgresql://..." (a libpq URI). `opts` may be NULL.
 * On success *out owns the pool; free with db_close().
 */
int db_open(struct db **out, const char *url, const struct db_options *opts, struct err *e);
/* Close every connection. All connections must have been released. NULL is allowed. */
void db_close(struct db *db);
enum db_backend db_backend(const struct db *db);
/* "sqlite" or "postgres". */
const char *db_backend_name(const struct db *db);
/* Number of database errors seen since open (for /metrics). */
uint64_t db_error_count(const struct db *db);

/*
 * Fault injection, for tests of what a failure half-way leaves behind. After db_fault_after(db,
 * n) the n-th call on `db` (counting from 1, over every connection) of db_step, db_exec or
 * db_commit fails with ERR_DB "injected fault" without reaching the database (a failed commit
 * rolls back, as a real one does); n = 0 turns it off. db_fault_calls() is how many such calls
 * were made since, so a test can count a flow's calls once and then fail each in turn.
 */
void db_fault_after(struct db *db, int64_t n);
int64_t db_fault_calls(const struct db *db);

/*
 * Take a connection from the pool, waiting up to the busy timeout; ERR_TIMEOUT when none frees.
 * A broken PostgreSQL connection is reconnected here.
 */
int db_conn_acquire(struct db *db, struct db_conn **out, struct err *e);
/* Give it back. An open transaction is rolled back first. NULL is allowed. */
void db_conn_release(struct db_conn *c);
/* The owning database. */
struct db *db_conn_db(struct db_conn *c);

/*
 * Transactions. db_begin() starts a write transaction (SQLite: BEGIN IMMEDIATE under the
 * process-wide writer lock of the database file, so writers queue instead of spinning on
 * SQLITE_BUSY; an autocommit write outside a transaction takes the same lock until its statement
 * is DONE or done). Waiting for that lock is bounded by the busy timeout: ERR_TIMEOUT. So a
 * thread must not write on a second connection while its first holds a transaction (on SQLite
 * that waits for itself and fails with ERR_TIMEOUT). Nested begin is a programmer error.
 * db_commit() always ends the transaction: when it fails (e.g. PostgreSQL aborted it after an
 * earlier error) everything is rolled back.
 */
int db_begin(struct db_conn *c, struct err *e);
int db_commit(struct db_conn *c, struct err *e);
/* Roll back if a transaction is open; otherwise nothing. */
void db_rollback(struct db_conn *c);
bool db_in_transaction(const struct db_conn *c);
/*
 * For functions that must be atomic whether or not their caller holds a transaction:
 * db_begin_own() begins one only when none is open (*own tells which); db_end_own() then
 * commits it when rc is 0 or rolls it back otherwise, and returns the final code. When the
 * caller owns the transaction both leave it alone (the caller decides on failure).
 */
int db_begin_own(struct db_conn *c, bool *own, struct err *e);
int db_end_own(struct db_conn *c, bool own, int rc, struct err *e);

/*
 * Work that must happen only once a change is durable: publishing an event to dashboards,
 * waking job workers for jobs the transaction enqueued. With a transaction open on `c`,
 * db_on_commit() keeps fn(ctx) until the transaction ends: db_commit() runs every kept
 * function, in registration order, right after COMMIT succeeds and before it returns (on the
 * committing thread, with no transaction open, so a function may use `c`); a rollback, a failed
 * COMMIT or db_conn_release() of an open transaction drops them without running them. A
 * function registered while the caller holds the transaction that db_begin_own() joined waits
 * for that outer commit. Without a transaction open, fn(ctx) runs at once.
 * db_on_commit() borrows `ctx`: it must stay valid until the function runs or is dropped.
 * db_on_commit_copy() copies `len` bytes of `data` instead and frees the copy afterwards, so a
 * small struct on the caller's stack can be passed. Neither can fail.
 */
typedef void db_commit_fn(void *ctx);
void db_on_commit(struct db_conn *c, db_commit_fn *fn, void *ctx);
void db_on_commit_copy(struct db_conn *c, db_commit_fn *fn, const void *data, size_t len);
/* The usual case: events_publish_id(tenant, type, id, status) (core/events.h) after commit. */
void db_on_commit_event(struct db_conn *c, int64_t tenant, const char *type, int64_t id,
                        const char *status);

/*
 * Group commit: many threads' short durable writes committed in one transaction.
 *
 * db_group_write(c, fn, ctx, e) runs fn(wc, ctx, e2) inside a write transaction and returns 0
 * only after the COMMIT that holds its writes succeeded; on failure it returns the error (and
 * fills `e`) and none of fn's writes are in the database. While one transaction commits, later
 * callers queue; the oldest queued caller then becomes the leader: on its own connection `c` it
 * begins one transaction, runs every queued fn in arrival order (at most DB_GROUP_MAX), commits,
 * and hands each member its own result. Nothing waits on a timer: a lone writer commits at
 * once, and batches grow only while a commit is in progress.
 *
 * Failures, member by member:
 *   - fn returns an error: the batch's transaction is rolled back, that member gets its own
 *     error (its rc, and the `e` its fn filled), and the others are run again, in order, in a
 *     new transaction. Each failure removes one member, so a batch of n takes at most n + 1
 *     transactions, and no member is acknowledged because of a transaction it was rolled back in.
 *   - BEGIN or COMMIT fails: every member still in the batch gets that error; none is
 *     acknowledged. (PostgreSQL: a connection lost during COMMIT leaves it in doubt; the members
 *     get an error although the database may hold their writes, as a lone commit would.)
 *
 * So `fn` runs on whichever thread leads, with the leader's connection: it may use only `wc`,
 * `ctx` and its `e`, must not touch the caller's own connection, and may run more than once
 * (each run must set its outputs afresh; anything outside the database waits for
 * db_on_commit(), whose functions run on the leader's thread after the COMMIT and before any
 * member returns). `ctx` is borrowed until db_group_write returns. A caller already holding a
 * transaction on `c` is not queued: fn joins that transaction and the caller's commit decides.
 * The caller's `c` must be idle otherwise; it is used only if this caller leads. With
 * db_options.group_commit_off each write gets its own transaction on `c` (the same contract).
 * Durability is the backend's commit: see "Durability" in README.md.
 */
#define DB_GROUP_MAX 64
typedef int db_write_fn(struct db_conn *c, void *ctx, struct err *e);
int db_group_write(struct db_conn *c, db_write_fn *fn, void *ctx, struct err *e);
/* Transactions committed by group leaders, and the writes acknowledged through them. */
void db_group_counts(const struct db *db, uint64_t *batches, uint64_t *writes);

/*
 * Prepare `sql` (portable, `?` placeholders). Statements are cached per connection by their
 * SQL text, so prepare is cheap the second time. The statement is borrowed: call
 * db_stmt_done() when finished with it (it is reset and returned to the cache). It stays
 * valid only while the connection is held.
 */
int db_prepare(struct db_conn *c, struct db_stmt **out, const char *sql, struct err *e);
void db_stmt_done(struct db_stmt *s);

/*
 * Bind parameters, 1-based. Text is copied. Return 0 or ERR_INVALID on a bad index.
 * Binding after db_step() starts a new execution with the other bindings kept, so one prepared
 * statement can run a loop of inserts: bind, step, bind, step, ...
 */
int db_bind_null(struct db_stmt *s, int idx);
int db_bind_i64(struct db_stmt *s, int idx, int64_t v);
int db_bind_f64(struct db_stmt *s, int idx, double v);
/* `v` NULL binds NULL. */
int db_bind_text(struct db_stmt *s, int idx, const char *v);
int db_bind_textn(struct db_stmt *s, int idx, const char *v, size_t len);
/* Bind a time (ms since epoch, UTC), stored as ISO-8601 / timestamptz. */
int db_bind_time(struct db_stmt *s, int idx, int64_t ms);
int db_bind_bool(struct db_stmt *s, int idx, bool v);

/*
 * Execute / advance: DB_ROW when a row is available, DB_DONE when finished, DB_ERROR with `e`
 * filled (ERR_CONFLICT for constraint violations: unique, foreign key, check, not null, i.e.
 * SQLITE_CONSTRAINT / SQLSTATE 23xxx; ERR_TIMEOUT when the SQLite writer lock stays busy;
 * ERR_DB otherwise). Stepping again after DB_DONE runs the statement again.
 */
int db_step(struct db_stmt *s, struct err *e);
/* The code to return after db_step() gave DB_ERROR: e's code, or ERR_DB if e holds none. */
int db_step_error(const struct err *e);

/* Reads the current row of `s` into `out` (a caller's struct), strings from `a`. */
typedef void db_row_fn(struct db_stmt *s, struct arena *a, void *out);
/*
 * Fetch at most one row: `sql` takes two parameters, the tenant and then the key — `key` as
 * text when not NULL, else `id`. On a row, read(s, a, out) fills `out` and *found is true.
 * No row is not an error (*found false): callers name what was not found.
 */
int db_get_one(struct db_conn *c, const char *sql, int64_t tenant, const char *key, int64_t id,
               db_row_fn *read, struct arena *a, void *out, bool *found, struct err *e);

/* Rows changed by the last INSERT/UPDATE/DELETE run through this statement. */
int64_t db_changes(struct db_stmt *s);

/* Columns, 0-based, of the current row. */
int db_col_count(struct db_stmt *s);
/* The name of column `col` of the current row ("" when there is none); valid until the next step.
 */
const char *db_col_name(struct db_stmt *s, int col);
bool db_col_is_null(struct db_stmt *s, int col);
int64_t db_col_i64(struct db_stmt *s, int col);
double db_col_f64(struct db_stmt *s, int col);
/* Borrowed until the next db_step() or db_stmt_done(); NULL for SQL NULL. */
const char *db_col_text(struct db_stmt *s, int col);
/* Time column (ISO text / timestamptz) → ms since epoch; 0 for NULL. */
int64_t db_col_time(struct db_stmt *s, int col);
bool db_col_bool(struct db_stmt *s, int col);

/* Run one or more statements without parameters or results (DDL, SET ...). */
int db_exec(struct db_conn *c, const char *sql, struct err *e);

/*
 * Dialect fragments for the few places SQL must differ, so callers never test the backend:
 *   DB_SQL_SKIP_LOCKED: " FOR UPDATE SKIP LOCKED" on PostgreSQL, "" on SQLite (one writer).
 */
enum db_fragment { DB_SQL_SKIP_LOCKED = 0 };
const char *db_sql(const struct db *db, enum db_fragment f);

/*
 * Leadership for periodic work across processes sharing one database.
 * PostgreSQL: a session advisory lock (pg_try_advisory_lock(hashtext(name))) held by a dedicated
 * connection owned by the returned object, outside the pool, released when it is freed or the
 * process dies; `ttl_ms` and `now_ms` are unused. SQLite: a row in table `leases` (from
 * migration 0001, so run db_migrate() first) with a random holder id and expires_at; it is taken
 * when absent or expired (expires_at < now_ms) and renewed to now_ms + ttl_ms by every
 * db_leader_try() of its holder; another process takes over once it is stale.
 * Call db_leader_try() every few seconds (well within ttl_ms): it both claims and renews, and
 * reports loss with *is_leader = false. On error *is_leader is false.
 */
struct db_leader;
int db_leader_new(struct db *db, const char *name, int64_t ttl_ms, struct db_leader **out,
                  struct err *e);
/* Try to become / stay leader; *is_leader reports the result. */
int db_leader_try(struct db_leader *l, int64_t now_ms, bool *is_leader, struct err *e);
/* Give up leadership (if held: SQLite deletes its lease row) and free. NULL is allowed. */
void db_leader_free(struct db_leader *l);

/*
 * Notifications across processes (PostgreSQL LISTEN). db_listen_open() opens a connection of its
 * own, outside the pool, that LISTENs on `channel` (1..63 of a-z 0-9 _). SQLite has none:
 * ERR_UNSUPPORTED, and callers rely on in-process wake-ups and polling instead.
 * db_listen_wait() waits up to timeout_ms (>= 0) for a notification on the channel or for
 * `wake_fd` (-1 = none) to become readable (it does not read it); *notified is true when at
 * least one notification arrived (all pending ones are consumed). A broken connection is
 * reopened on the next call (notifications sent meanwhile are lost: callers must also poll);
 * errors: ERR_DB. One thread at a time per listener. db_listen_close() accepts NULL.
 */
struct db_listener;
int db_listen_open(struct db *db, const char *channel, struct db_listener **out, struct err *e);
int db_listen_wait(struct db_listener *l, int timeout_ms, int wake_fd, bool *notified,
                   struct err *e);
void db_listen_close(struct db_listener *l);

#endif
