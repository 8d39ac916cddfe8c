/* SPDX-License-Identifier: MIT */
/*
 * What db.c shares with its backends (db_sqlite.c, db_pg.c): the common heads of the opaque
 * structs, which each backend embeds as its first member, and `struct db_ops`, the table of
 * function pointers db.c dispatches through. Only files in src/db/ (and tests/unit/db) include
 * this. Tests: tests/unit/db/test_db.c.
 */
#ifndef ICESHOP_DB_DB_INTERNAL_H
#define ICESHOP_DB_DB_INTERNAL_H

#include "core/err.h"
#include "db/db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_CACHE_BUCKETS 64
/* Past this many cached statements a connection prepares uncached ones (dynamic SQL). */
#define DB_CACHE_MAX 256

struct db_ops;
struct db_write;

struct db {
    const struct db_ops *ops;
    enum db_backend backend;
    char *target; /* SQLite file path or libpq conninfo/URI */
    int pool_size;
    int busy_timeout_ms;
    bool sqlite_sync_full;
    bool group_commit_off;
    pthread_mutex_t mu; /* guards free_list and n_open */
    pthread_cond_t cv;
    struct db_conn *free_list;
    int n_open;
    _Atomic uint64_t errors;
    _Atomic int64_t fault_at;    /* db_fault_after(): fail this call (1-based), 0 = never */
    _Atomic int64_t fault_calls; /* calls counted since db_fault_after() */
    void *backend_data;          /* owned by the backend's open/close */
    /* Group commit (group.c): writers waiting in arrival order; the head is the leader. */
    pthread_mutex_t group_mu;
    struct db_write *group_head, *group_tail;
    size_t group_len;               /* writers in the queue, the running leader's batch included */
    _Atomic uint64_t group_batches; /* transactions committed by leaders */
    _Atomic uint64_t group_writes;  /* writes acknowledged through them */
};

/* Work to run after the outermost commit (db_on_commit). */
struct db_commit_hook {
    db_commit_fn *fn;
    void *ctx;
    bool owned; /* ctx is a copy made by db_on_commit_copy: freed after it runs or is dropped */
};

struct db_conn {
    struct db *db;
    struct db_conn *next_free;
    bool in_tx;
    struct db_commit_hook *hooks; /* in registration order */
    size_t n_hooks, cap_hooks;
    int cache_count;
    struct db_stmt *cache[DB_CACHE_BUCKETS];
};

struct db_stmt {
    struct db_conn *conn;
    char *sql;            /* the caller's SQL text, the cache key */
    struct db_stmt *next; /* cache bucket chain */
    bool in_use;
    bool cached;
};

struct db_leader {
    struct db *db;
};

struct db_ops {
    const char *name;
    /* Backend-wide state (db->backend_data); called once by db_open before any connection. */
    int (*open)(struct db *db, struct err *e);
    void (*close)(struct db *db);

    int (*conn_open)(struct db *db, struct db_conn **out, struct err *e);
    /* The cache has already been emptied. */
    void (*conn_close)(struct db_conn *c);
    /* On acquire: make a broken connection usable again (may flush the cache). May be NULL. */
    int (*conn_check)(struct db_conn *c, struct err *e);

    int (*begin)(struct db_conn *c, struct err *e);
    int (*commit)(struct db_conn *c, struct err *e);
    void (*rollback)(struct db_conn *c);
    int (*exec)(struct db_conn *c, const char *sql, struct err *e);

    /* A new backend statement for `sql`; db.c fills the common head. */
    int (*prepare)(struct db_conn *c, const char *sql, struct db_stmt **out, struct err *e);
    /* Back to the freshly-prepared state: bindings cleared, locks released. */
    void (*reset)(struct db_stmt *s);
    void (*finalize)(struct db_stmt *s);

    int (*bind_null)(struct db_stmt *s, int idx);
    int (*bind_i64)(struct db_stmt *s, int idx, int64_t v);
    int (*bind_f64)(struct db_stmt *s, int idx, double v);
    int (*bind_text)(struct db_stmt *s, int idx, const char *v, size_t len);
    int (*bind_time)(struct db_stmt *s, int idx, int64_t ms);
    int (*bind_bool)(struct db_stmt *s, int idx, bool v);

    int (*step)(struct db_stmt *s, struct err *e);
    int64_t (*changes)(struct db_stmt *s);
    int (*col_count)(struct db_stmt *s);
    const char *(*col_name)(struct db_stmt *s, int col);
    bool (*col_is_null)(struct db_stmt *s, int col);
    int64_t (*col_i64)(struct db_stmt *s, int col);
    double (*col_f64)(struct db_stmt *s, int col);
    const char *(*col_text)(struct db_stmt *s, int col);
    int64_t (*col_time)(struct db_stmt *s, int col);
    bool (*col_bool)(struct db_stmt *s, int col);

    int (*leader_new)(struct db *db, const char *name, int64_t ttl_ms, struct db_leader **out,
                      struct err *e);
    int (*leader_try)(struct db_leader *l, int64_t now_ms, bool *is_leader, struct err *e);
    void (*leader_free)(struct db_leader *l);
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

/*
 * Rewrite `?` placeholders to $1..$n, leaving `?` inside '...' strings, "..." identifiers,
 * E'...' escapes, dollar quotes and comments alone. Caller frees the result with free();
 * *nparams receives n.
 */
char *db_sql_rewrite_pg(const char *sql, int *nparams);

/* Finalize every cached statement of `c` (none may be borrowed). */
void db_conn_cache_flush(struct db_conn *c);

/* Count one database error (for db_error_count()). */
void db_count_error(struct db *db);

#endif
