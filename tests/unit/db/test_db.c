/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/db (db.h, migrate.h): the same table-driven cases run on SQLite (a temp
 * file per test) and, when TEST_PG_DSN is set, on PostgreSQL (a fresh schema per test, selected
 * through the URI's search_path). Start a cluster with scripts/pg.sh.
 */
#include "db/db.h"
#include "db/db_internal.h"
#include "db/migrate.h"
#include "db/migrate_data.h"
#include "core/clock.h"
#include "core/events.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
    struct testdb t;
    struct db *db;
};

static int setup_backend(void **state, enum db_backend backend)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    testdb_fresh(&f->t, backend, "db");
    f->db = testdb_open(&f->t, NULL);
    return 0;
}

static int setup_sqlite(void **state)
{
    return setup_backend(state, DB_SQLITE);
}

static int setup_pg(void **state)
{
    return setup_backend(state, DB_POSTGRES);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static void exec_ok(struct db_conn *c, const char *sql)
{
    struct err e;
    err_init(&e);
    if (db_exec(c, sql, &e))
        fail_msg("exec %s: %s", sql, e.msg);
}

static void migrate_ok(struct db *db)
{
    struct err e;
    err_init(&e);
    if (db_migrate(db, NULL, &e))
        fail_msg("migrate: %s", e.msg);
}

static struct db_stmt *prepare_ok(struct db_conn *c, const char *sql)
{
    struct err e;
    err_init(&e);
    struct db_stmt *s = NULL;
    if (db_prepare(c, &s, sql, &e))
        fail_msg("prepare %s: %s", sql, e.msg);
    return s;
}

static int64_t count_rows(struct db_conn *c, const char *sql)
{
    struct err e;
    err_init(&e);
    struct db_stmt *s = prepare_ok(c, sql);
    if (db_step(s, &e) != DB_ROW)
        fail_msg("count %s: %s", sql, e.msg);
    int64_t n = db_col_i64(s, 0);
    db_stmt_done(s);
    return n;
}

static int64_t insert_tenant(struct db_conn *c, const char *name, struct err *e)
{
    struct db_stmt *s = prepare_ok(c, "INSERT INTO tenants(name, created_at) VALUES(?, ?)");
    assert_int_equal(db_bind_text(s, 1, name), 0);
    assert_int_equal(db_bind_time(s, 2, 1795252200123), 0);
    int r = db_step(s, e);
    int64_t changes = r == DB_DONE ? db_changes(s) : -1;
    db_stmt_done(s);
    return changes;
}

/* ---------------------------------------------------------------- backend-independent */

static void test_open_errors(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        enum err_code code;
    } cases[] = {
        {"", ERR_INVALID},
        {"mysql://localhost/x", ERR_INVALID},
        {"sqlite://", ERR_INVALID},
        {"/tmp/x.db", ERR_INVALID},
        {"sqlite:///nonexistent-dir-iceshop/x.db", ERR_DB},
        {"postgres://postgres@127.0.0.1:1/nope", ERR_DB},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err e;
        err_init(&e);
        struct db *db = (struct db *)&e; /* must be reset to NULL on failure */
        int rc = db_open(&db, cases[i].url, NULL, &e);
        if (rc != (int)cases[i].code)
            fail_msg("url '%s': rc %d, want %d (%s)", cases[i].url, rc, cases[i].code, e.msg);
        assert_null(db);
        assert_int_equal(e.code, cases[i].code);
        assert_true(e.msg[0] != '\0');
    }
}

static void test_memory_db(void **state)
{
    (void)state;
    struct err e;
    err_init(&e);
    struct db *db;
    struct db_options o = {.pool_size = 4, .busy_timeout_ms = 100};
    assert_int_equal(db_open(&db, "sqlite://:memory:", &o, &e), 0);
    assert_string_equal(db_backend_name(db), "sqlite");
    assert_int_equal(db_backend(db), DB_SQLITE);
    assert_string_equal(db_sql(db, DB_SQL_SKIP_LOCKED), "");
    migrate_ok(db);
    /* A pool of one: the second acquire times out. */
    struct db_conn *c = testdb_acquire(db);
    struct db_conn *c2 = NULL;
    assert_int_equal(db_conn_acquire(db, &c2, &e), ERR_TIMEOUT);
    assert_null(c2);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM tenants"), 0);
    db_conn_release(c);
    db_close(db);
}

static void test_rewrite(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *out;
        int n;
    } cases[] = {
        {"SELECT 1", "SELECT 1", 0},
        {"SELECT ?, ?", "SELECT $1, $2", 2},
        {"SELECT '?', ?", "SELECT '?', $1", 1},
        {"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1", 1},
        {"SELECT \"a?\" FROM t WHERE x = ?", "SELECT \"a?\" FROM t WHERE x = $1", 1},
        {"SELECT ? -- what?\n, ?", "SELECT $1 -- what?\n, $2", 2},
        {"SELECT /* ? */ ?", "SELECT /* ? */ $1", 1},
        {"SELECT E'\\'?', ?", "SELECT E'\\'?', $1", 1},
        {"SELECT $$ ? $$, ?", "SELECT $$ ? $$, $1", 1},
        {"SELECT $q$ ?$ $q$, ?", "SELECT $q$ ?$ $q$, $1", 1},
        {"SELECT 'unterminated ?", "SELECT 'unterminated ?", 0},
        {"INSERT INTO t VALUES(?,?,?,?,?,?,?,?,?,?)",
         "INSERT INTO t VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)", 10},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = -1;
        char *out = db_sql_rewrite_pg(cases[i].in, &n);
        if (!str_eq(out, cases[i].out) || n != cases[i].n)
            fail_msg("rewrite '%s' = '%s' (%d), want '%s' (%d)", cases[i].in, out, n, cases[i].out,
                     cases[i].n);
        free(out);
    }
}

/* ---------------------------------------------------------------- per backend */

static int migrations_for(enum db_backend b)
{
    const char *name = b == DB_SQLITE ? "sqlite" : "pg";
    int n = 0;
    for (size_t i = 0; i < migration_files_count; i++)
        n += str_eq(migration_files[i].backend, name);
    return n;
}

static int max_version_for(enum db_backend b)
{
    const char *name = b == DB_SQLITE ? "sqlite" : "pg";
    int v = 0;
    for (size_t i = 0; i < migration_files_count; i++) {
        if (str_eq(migration_files[i].backend, name) && migration_files[i].version > v)
            v = migration_files[i].version;
    }
    return v;
}

static void test_migrate(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    int v = -1, applied = -1;
    assert_int_equal(db_schema_version(f->db, &v, &e), 0);
    assert_int_equal(v, 0);

    assert_int_equal(db_migrate(f->db, &applied, &e), 0);
    assert_true(migrations_for(f->t.backend) >= 1);
    assert_int_equal(applied, migrations_for(f->t.backend));
    assert_int_equal(db_schema_version(f->db, &v, &e), 0);
    assert_int_equal(v, max_version_for(f->t.backend));

    assert_int_equal(db_migrate(f->db, &applied, &e), 0);
    assert_int_equal(applied, 0);
    assert_int_equal(db_schema_version(f->db, &v, &e), 0);
    assert_int_equal(v, max_version_for(f->t.backend));

    struct db_conn *c = testdb_acquire(f->db);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM schema_migrations"),
                     migrations_for(f->t.backend));
    /* The core tables exist and are empty. */
    assert_int_equal(count_rows(c, "SELECT count(*) FROM tenants"), 0);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM api_keys"), 0);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM users"), 0);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM leases"), 0);
    db_conn_release(c);
    assert_int_equal(db_error_count(f->db), 0);
}

/* Runs the backend's migration files numbered from..to, each in a transaction. */
static void run_migrations(struct db_conn *c, const char *backend, int from, int to)
{
    for (int v = from; v <= to; v++) {
        for (size_t i = 0; i < migration_files_count; i++) {
            const struct migration_file *m = &migration_files[i];
            if (m->version != v || strcmp(m->backend, backend) != 0)
                continue;
            struct err e;
            err_init(&e);
            if (db_begin(c, &e) || db_exec(c, m->sql, &e) || db_commit(c, &e))
                fail_msg("%s: %s", m->name, e.msg);
        }
    }
}

/*
 * 0014 (message kinds) on a database with messages: the window a message was about becomes its
 * subject, attachments keep pointing at their messages, foreign keys still hold, and kinds are
 * no longer a closed list.
 */
static void test_upgrade_message_kinds(void **state)
{
    struct fixture *f = *state;
    const char *backend = f->t.backend == DB_POSTGRES ? "pg" : "sqlite";
    struct db_conn *c = testdb_acquire(f->db);
    run_migrations(c, backend, 1, 13);
    exec_ok(c, "INSERT INTO tenants (id, name, created_at) VALUES (1, 'one', "
               "'2026-11-21T09:00:00Z')");
    exec_ok(c, "INSERT INTO sellers (id, tenant_id, public_id, name, phone, category, lat, lng, "
               "created_at, updated_at) VALUES (1, 1, 'S1', 'M Coffee', '+905550000001', 'coffee', "
               "41, 29, '2026-11-21T09:00:00Z', '2026-11-21T09:00:00Z')");
    exec_ok(c, "INSERT INTO flash_windows (id, tenant_id, seller_id, title, start_at, end_at, "
               "status, capacity, created_at, updated_at) VALUES (7, 1, 1, 'latte', "
               "'2026-11-21T10:00:00Z', '2026-11-21T10:10:00Z', 'SCHEDULED', 3, "
               "'2026-11-21T09:00:00Z', '2026-11-21T09:00:00Z')");
    exec_ok(c, "INSERT INTO messages (id, tenant_id, recipient_kind, recipient_pk, kind, body, "
               "window_id, status, created_at, updated_at) VALUES "
               "(1, 1, 'seller', 1, 'question', 'Açalım mı?', 7, 'sent', "
               "'2026-11-21T09:00:00Z', '2026-11-21T09:00:00Z'), "
               "(2, 1, 'contact', 0, 'reply', 'Ekte.', NULL, 'pending', "
               "'2026-11-21T09:00:00Z', '2026-11-21T09:00:00Z')");
    exec_ok(c, "INSERT INTO message_attachments (tenant_id, message_id, position, filename, "
               "content_type, size, content) VALUES (1, 2, 0, 'a.pdf', 'application/pdf', 3, "
               "'YWJj')");
    run_migrations(c, backend, 14, 14);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM messages WHERE id = 1 AND "
                                   "about_kind = 'window' AND about_pk = 7 AND kind = 'question'"),
                     1);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM messages WHERE id = 2 AND "
                                   "about_kind = '' AND about_pk IS NULL AND status = 'pending'"),
                     1);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM message_attachments a JOIN messages m "
                                   "ON m.id = a.message_id WHERE m.body = 'Ekte.'"),
                     1);
    /* Any well-sized kind is stored now; an empty one still is not. */
    exec_ok(c,
            "INSERT INTO messages (id, tenant_id, recipient_kind, recipient_pk, kind, body, "
            "status, created_at, updated_at) VALUES (3, 1, 'contact', 0, 'order.receipt', 'Fiş', "
            "'pending', '2026-11-21T09:00:00Z', '2026-11-21T09:00:00Z')");
    struct err e;
    err_init(&e);
    assert_int_not_equal(db_exec(c,
                                 "INSERT INTO messages (id, tenant_id, recipient_kind, "
                                 "recipient_pk, kind, body, status, created_at, updated_at) "
                                 "VALUES (4, 1, 'contact', 0, '', 'x', 'pending', "
                                 "'2026-11-21T09:00:00Z', '2026-11-21T09:00:00Z')",
                                 &e),
                         0);
    /* Attachments still need a message. */
    err_init(&e);
    assert_int_not_equal(db_exec(c,
                                 "INSERT INTO message_attachments (tenant_id, message_id, "
                                 "position, filename, content_type, size, content) VALUES "
                                 "(1, 999, 1, 'b.pdf', 'application/pdf', 1, 'YQ==')",
                                 &e),
                         0);
    db_conn_release(c);
}

/* db_fault_after: the n-th call fails without reaching the database; a failed commit rolls back. */
static void test_fault_injection(void **state)
{
    struct fixture *f = *state;
    migrate_ok(f->db);
    struct db_conn *c = testdb_acquire(f->db);
    struct err e;
    err_init(&e);
    db_fault_after(f->db, 2);
    assert_int_equal(insert_tenant(c, "a", &e), 1); /* call 1 */
    err_init(&e);
    assert_int_equal(insert_tenant(c, "b", &e), -1); /* call 2: refused */
    assert_int_equal(e.code, ERR_DB);
    assert_non_null(strstr(e.msg, "injected fault"));
    assert_int_equal(db_fault_calls(f->db), 2);
    err_init(&e);
    assert_int_equal(insert_tenant(c, "c", &e), 1); /* only the one call fails */
    db_fault_after(f->db, 0);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM tenants"), 2);
    /* A commit that fails rolls the transaction back. */
    db_fault_after(f->db, 2); /* the insert is call 1, the commit call 2 */
    assert_int_equal(db_begin(c, &e), 0);
    assert_int_equal(insert_tenant(c, "d", &e), 1);
    assert_int_equal(db_commit(c, &e), ERR_DB);
    assert_false(db_in_transaction(c));
    db_fault_after(f->db, 0);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM tenants WHERE name = 'd'"), 0);
    err_init(&e);
    assert_int_equal(db_exec(c, "DELETE FROM tenants WHERE name = 'zzz'", &e), 0); /* off */
    db_conn_release(c);
}

struct type_row {
    bool null_all;
    int64_t i;
    double f;
    const char *s;
    size_t s_len; /* 0: whole string via db_bind_text */
    int64_t ts;
    bool b;
};

static void test_types(void **state)
{
    struct fixture *f = *state;
    static const struct type_row rows[] = {
        {false, 42, 3.25, "hello", 0, 1795252200123, true},
        {false, -9007199254740993LL, 0.1, "şğı İ ütf-8", 0, 0, false},
        {false, INT64_MAX, -1e300, "cut here", 3, 1, true},
        {false, INT64_MIN, 0.0, "", 0, 253402300799999LL, false}, /* 9999-12-31T23:59:59.999 */
        {false, 0, 1.5, "x", 0, -86400000, true},                 /* 1969-12-31 */
        {true, 0, 0, NULL, 0, 0, false},
    };
    struct db_conn *c = testdb_acquire(f->db);
    exec_ok(c, f->t.backend == DB_SQLITE
                   ? "CREATE TABLE t_types(id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, "
                     "ts TEXT, b INTEGER, n TEXT)"
                   : "CREATE TABLE t_types(id BIGINT PRIMARY KEY, i BIGINT, f DOUBLE PRECISION, "
                     "s TEXT, ts TIMESTAMPTZ, b BOOLEAN, n TEXT)");
    struct err e;
    err_init(&e);
    size_t nrows = sizeof(rows) / sizeof(rows[0]);
    for (size_t k = 0; k < nrows; k++) {
        const struct type_row *r = &rows[k];
        struct db_stmt *s =
            prepare_ok(c, "INSERT INTO t_types(id, i, f, s, ts, b, n) VALUES(?, ?, ?, ?, ?, ?, ?)");
        assert_int_equal(db_bind_i64(s, 1, (int64_t)k + 1), 0);
        if (r->null_all) {
            for (int idx = 2; idx <= 6; idx++)
                assert_int_equal(db_bind_null(s, idx), 0);
            assert_int_equal(db_bind_text(s, 4, NULL), 0);
        } else {
            assert_int_equal(db_bind_i64(s, 2, r->i), 0);
            assert_int_equal(db_bind_f64(s, 3, r->f), 0);
            if (r->s_len)
                assert_int_equal(db_bind_textn(s, 4, r->s, r->s_len), 0);
            else
                assert_int_equal(db_bind_text(s, 4, r->s), 0);
            assert_int_equal(db_bind_time(s, 5, r->ts), 0);
            assert_int_equal(db_bind_bool(s, 6, r->b), 0);
        }
        assert_int_equal(db_bind_null(s, 7), 0);
        /* Bad indexes are reported, not crashed on. */
        assert_int_equal(db_bind_i64(s, 0, 1), ERR_INVALID);
        assert_int_equal(db_bind_i64(s, 8, 1), ERR_INVALID);
        if (db_step(s, &e) != DB_DONE)
            fail_msg("insert row %zu: %s", k, e.msg);
        assert_int_equal(db_changes(s), 1);
        db_stmt_done(s);
    }

    struct db_stmt *s = prepare_ok(c, "SELECT id, i, f, s, ts, b, n FROM t_types ORDER BY id");
    for (size_t k = 0; k < nrows; k++) {
        const struct type_row *r = &rows[k];
        if (db_step(s, &e) != DB_ROW)
            fail_msg("select row %zu: %s", k, e.msg);
        assert_int_equal(db_col_count(s), 7);
        assert_int_equal(db_col_i64(s, 0), (int64_t)k + 1);
        assert_true(db_col_is_null(s, 6));
        assert_null(db_col_text(s, 6));
        if (r->null_all) {
            for (int col = 1; col <= 5; col++)
                assert_true(db_col_is_null(s, col));
            assert_int_equal(db_col_i64(s, 1), 0);
            assert_null(db_col_text(s, 3));
            assert_int_equal(db_col_time(s, 4), 0);
            assert_false(db_col_bool(s, 5));
            continue;
        }
        assert_false(db_col_is_null(s, 1));
        assert_int_equal(db_col_i64(s, 1), r->i);
        assert_true(db_col_f64(s, 2) == r->f);
        char want[64];
        snprintf(want, sizeof(want), "%.*s", r->s_len ? (int)r->s_len : (int)strlen(r->s), r->s);
        assert_string_equal(db_col_text(s, 3), want);
        assert_int_equal(db_col_time(s, 4), r->ts);
        assert_int_equal(db_col_bool(s, 5), r->b);
    }
    assert_int_equal(db_step(s, &e), DB_DONE);
    assert_int_equal(db_changes(s), 0);
    /* Out-of-range columns read as NULL. */
    db_stmt_done(s);

    /* Times compare in time order in SQL on both backends. */
    s = prepare_ok(c, "SELECT count(*) FROM t_types WHERE ts > ?");
    db_bind_time(s, 1, 0);
    assert_int_equal(db_step(s, &e), DB_ROW);
    assert_int_equal(db_col_i64(s, 0), 3);
    db_stmt_done(s);

    /* Rebinding after a step runs the statement again. */
    s = prepare_ok(c, "UPDATE t_types SET n = ? WHERE id = ?");
    db_bind_text(s, 1, "one");
    db_bind_i64(s, 2, 1);
    assert_int_equal(db_step(s, &e), DB_DONE);
    assert_int_equal(db_changes(s), 1);
    db_bind_i64(s, 2, 99);
    assert_int_equal(db_step(s, &e), DB_DONE);
    assert_int_equal(db_changes(s), 0);
    db_bind_i64(s, 2, 2);
    assert_int_equal(db_step(s, &e), DB_DONE);
    assert_int_equal(db_changes(s), 1);
    db_stmt_done(s);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM t_types WHERE n = 'one'"), 2);

    /* A column default time comes back as a sane "now". */
    migrate_ok(f->db);
    exec_ok(c, "INSERT INTO tenants(name) VALUES('defaults')");
    s = prepare_ok(c, "SELECT created_at FROM tenants WHERE name = 'defaults'");
    assert_int_equal(db_step(s, &e), DB_ROW);
    int64_t now = clock_now_ms(NULL);
    assert_true(db_col_time(s, 0) > now - 60000 && db_col_time(s, 0) <= now + 60000);
    db_stmt_done(s);
    db_conn_release(c);
    assert_int_equal(db_error_count(f->db), 0);
}

static void test_conflict(void **state)
{
    struct fixture *f = *state;
    migrate_ok(f->db);
    struct db_conn *c = testdb_acquire(f->db);
    struct err e;
    err_init(&e);
    assert_int_equal(insert_tenant(c, "acme", &e), 1);
    assert_int_equal(db_error_count(f->db), 0);
    assert_int_equal(insert_tenant(c, "acme", &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_int_equal(db_error_count(f->db), 1);
    /* the message may reach a client: it names no table, column or constraint */
    assert_null(strstr(e.msg, "tenants"));
    assert_null(strstr(e.msg, "name"));
    assert_null(strstr(e.msg, "UNIQUE"));
    assert_null(strstr(e.msg, "unique"));
    assert_non_null(strstr(e.msg, "conflicts"));

    /* Foreign keys are enforced on both backends. */
    err_init(&e);
    struct db_stmt *s = prepare_ok(c, "INSERT INTO api_keys(tenant_id, role, prefix, secret_hash, "
                                      "created_at) VALUES(?, 'admin', 'pfx', 'h', ?)");
    db_bind_i64(s, 1, 9999);
    db_bind_time(s, 2, 1);
    assert_int_equal(db_step(s, &e), DB_ERROR);
    assert_int_equal(e.code, ERR_CONFLICT);
    db_stmt_done(s);

    /* A CHECK failure (role) is a constraint violation too. */
    err_init(&e);
    s = prepare_ok(c, "INSERT INTO users(tenant_id, email, password_hash, role, created_at) "
                      "SELECT id, 'a@b.c', 'h', 'root', ? FROM tenants WHERE name = 'acme'");
    db_bind_time(s, 1, 1);
    assert_int_equal(db_step(s, &e), DB_ERROR);
    assert_int_equal(e.code, ERR_CONFLICT);
    db_stmt_done(s);

    /* Plain SQL errors are ERR_DB. */
    err_init(&e);
    s = NULL;
    assert_int_equal(db_prepare(c, &s, "SELECT nope FROM nowhere", &e), ERR_DB);
    assert_null(s);
    assert_int_equal(db_error_count(f->db), 4);
    db_conn_release(c);
}

static void test_transactions(void **state)
{
    struct fixture *f = *state;
    migrate_ok(f->db);
    struct err e;
    err_init(&e);
    struct db_conn *c = testdb_acquire(f->db);
    assert_false(db_in_transaction(c));

    assert_int_equal(db_begin(c, &e), 0);
    assert_true(db_in_transaction(c));
    assert_int_equal(insert_tenant(c, "rolled-back", &e), 1);
    db_rollback(c);
    assert_false(db_in_transaction(c));
    db_rollback(c); /* no transaction: nothing */
    assert_int_equal(count_rows(c, "SELECT count(*) FROM tenants"), 0);

    assert_int_equal(db_begin(c, &e), 0);
    assert_int_equal(insert_tenant(c, "committed", &e), 1);
    assert_int_equal(insert_tenant(c, "committed-2", &e), 1);
    assert_int_equal(db_commit(c, &e), 0);
    assert_false(db_in_transaction(c));
    assert_int_equal(count_rows(c, "SELECT count(*) FROM tenants"), 2);

    /* db_begin_own: atomic alone, part of the caller's transaction otherwise. */
    bool own = false;
    assert_int_equal(db_begin_own(c, &own, &e), 0);
    assert_true(own);
    assert_int_equal(insert_tenant(c, "own-ok", &e), 1);
    assert_int_equal(db_end_own(c, own, 0, &e), 0);
    assert_false(db_in_transaction(c));
    assert_int_equal(db_begin_own(c, &own, &e), 0);
    assert_int_equal(insert_tenant(c, "own-failed", &e), 1);
    assert_int_equal(db_end_own(c, own, ERR_INVALID, &e), ERR_INVALID); /* rolled back */
    assert_false(db_in_transaction(c));
    assert_int_equal(count_rows(c, "SELECT count(*) FROM tenants"), 3);
    assert_int_equal(db_begin(c, &e), 0);
    assert_int_equal(db_begin_own(c, &own, &e), 0);
    assert_false(own); /* the caller's */
    assert_int_equal(insert_tenant(c, "callers", &e), 1);
    assert_int_equal(db_end_own(c, own, 0, &e), 0);
    assert_true(db_in_transaction(c)); /* still the caller's to end */
    db_rollback(c);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM tenants"), 3);
    db_exec(c, "DELETE FROM tenants WHERE name = 'own-ok'", &e);

    /* Releasing with an open transaction rolls it back. */
    assert_int_equal(db_begin(c, &e), 0);
    assert_int_equal(insert_tenant(c, "released", &e), 1);
    db_conn_release(c);
    c = testdb_acquire(f->db);
    assert_false(db_in_transaction(c));
    assert_int_equal(count_rows(c, "SELECT count(*) FROM tenants"), 2);

    /* A failed statement then commit: the statement's effect is gone, nothing half-applied. */
    assert_int_equal(db_begin(c, &e), 0);
    assert_int_equal(insert_tenant(c, "in-failed-tx", &e), 1);
    assert_int_equal(insert_tenant(c, "committed", &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    err_init(&e);
    int rc = db_commit(c, &e);
    assert_false(db_in_transaction(c));
    /* PostgreSQL aborts the whole transaction; SQLite keeps the earlier statement. */
    if (f->t.backend == DB_POSTGRES) {
        assert_int_equal(rc, ERR_DB);
        assert_int_equal(count_rows(c, "SELECT count(*) FROM tenants"), 2);
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(count_rows(c, "SELECT count(*) FROM tenants"), 3);
    }
    db_conn_release(c);
}

static void test_stmt_cache(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    struct db_conn *c = testdb_acquire(f->db);
    const char *sql = "SELECT ? + 1";
    struct db_stmt *s1 = prepare_ok(c, sql);
    db_bind_i64(s1, 1, 1);
    assert_int_equal(db_step(s1, &e), DB_ROW);
    assert_int_equal(db_col_i64(s1, 0), 2);
    /* Same SQL while the first is borrowed: a separate statement. */
    struct db_stmt *s2 = prepare_ok(c, sql);
    assert_ptr_not_equal(s1, s2);
    db_bind_i64(s2, 1, 10);
    assert_int_equal(db_step(s2, &e), DB_ROW);
    assert_int_equal(db_col_i64(s2, 0), 11);
    assert_int_equal(db_col_i64(s1, 0), 2);
    db_stmt_done(s2);
    db_stmt_done(s1);
    /* Returned to the cache: the next prepare hands back the same statement, reset. */
    for (int i = 0; i < 3; i++) {
        struct db_stmt *s3 = prepare_ok(c, sql);
        assert_ptr_equal(s3, s1);
        db_bind_i64(s3, 1, 100 + i);
        assert_int_equal(db_step(s3, &e), DB_ROW);
        assert_int_equal(db_col_i64(s3, 0), 101 + i);
        assert_int_equal(db_step(s3, &e), DB_DONE);
        db_stmt_done(s3);
    }
    assert_int_equal(c->cache_count >= 1, 1);
    /* One statement per prepare; more is a usage error. */
    struct db_stmt *bad = NULL;
    if (f->t.backend == DB_SQLITE)
        assert_int_equal(db_prepare(c, &bad, "SELECT 1; SELECT 2", &e), ERR_INVALID);
    db_conn_release(c);
}

static void test_quoted_placeholder(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    struct db_conn *c = testdb_acquire(f->db);
    struct db_stmt *s = prepare_ok(c, "SELECT '?', ?, 'it''s ?' /* ? */, ? -- ?\n");
    assert_int_equal(db_bind_text(s, 1, "x"), 0);
    assert_int_equal(db_bind_text(s, 2, "y"), 0);
    assert_int_equal(db_bind_text(s, 3, "z"), ERR_INVALID);
    if (db_step(s, &e) != DB_ROW)
        fail_msg("step: %s", e.msg);
    assert_int_equal(db_col_count(s), 4);
    assert_string_equal(db_col_text(s, 0), "?");
    assert_string_equal(db_col_text(s, 1), "x");
    assert_string_equal(db_col_text(s, 2), "it's ?");
    assert_string_equal(db_col_text(s, 3), "y");
    assert_null(db_col_text(s, 4));
    assert_int_equal(db_step(s, &e), DB_DONE);
    db_stmt_done(s);
    db_conn_release(c);
}

#define THREADS            8
#define INSERTS_PER_THREAD 40

struct worker {
    struct db *db;
    int id;
    int errors;
    char msg[256];
};

static void *write_worker(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < INSERTS_PER_THREAD; i++) {
        struct err e;
        err_init(&e);
        struct db_conn *c;
        if (db_conn_acquire(w->db, &c, &e)) {
            w->errors++;
            snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
            continue;
        }
        char name[48];
        snprintf(name, sizeof(name), "t%d-%d", w->id, i);
        bool tx = i % 2 == 0; /* half in transactions, half autocommit */
        int rc = tx ? db_begin(c, &e) : 0;
        if (!rc && insert_tenant(c, name, &e) != 1)
            rc = e.code ? (int)e.code : ERR_DB;
        if (!rc && tx) {
            /* A read inside the write transaction sees its own write. */
            struct db_stmt *s;
            rc = db_prepare(c, &s, "SELECT count(*) FROM tenants WHERE name = ?", &e);
            if (!rc) {
                db_bind_text(s, 1, name);
                if (db_step(s, &e) != DB_ROW || db_col_i64(s, 0) != 1)
                    rc = ERR_DB;
                db_stmt_done(s);
            }
            if (!rc)
                rc = db_commit(c, &e);
        }
        if (rc) {
            w->errors++;
            snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
        }
        db_conn_release(c);
    }
    return NULL;
}

static void test_pool_threads(void **state)
{
    struct fixture *f = *state;
    migrate_ok(f->db);
    db_close(f->db);
    struct db_options o = {.pool_size = 4, .busy_timeout_ms = 20000};
    f->db = testdb_open(&f->t, &o);

    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.db = f->db, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, write_worker, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        if (w[i].errors)
            fail_msg("worker %d: %d errors, last: %s", i, w[i].errors, w[i].msg);
    }
    struct db_conn *c = testdb_acquire(f->db);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM tenants"), THREADS * INSERTS_PER_THREAD);
    db_conn_release(c);
    assert_int_equal(db_error_count(f->db), 0);
}

static void test_leader(void **state)
{
    struct fixture *f = *state;
    migrate_ok(f->db);
    struct err e;
    err_init(&e);
    char name[80];
    snprintf(name, sizeof(name), "scan-%s", f->t.name);
    const int64_t ttl = 10000, t0 = 1795252200000;
    struct db_leader *a = NULL, *b = NULL;
    assert_int_equal(db_leader_new(f->db, name, ttl, &a, &e), 0);
    assert_int_equal(db_leader_new(f->db, name, ttl, &b, &e), 0);
    struct db_leader *bad = a;
    assert_int_equal(db_leader_new(f->db, "", ttl, &bad, &e), ERR_INVALID);
    assert_null(bad);
    err_init(&e);

    bool la = false, lb = true;
    assert_int_equal(db_leader_try(a, t0, &la, &e), 0);
    assert_int_equal(db_leader_try(b, t0, &lb, &e), 0);
    assert_true(la);
    assert_false(lb);
    /* The holder renews; the other still waits. */
    assert_int_equal(db_leader_try(a, t0 + ttl / 2, &la, &e), 0);
    assert_int_equal(db_leader_try(b, t0 + ttl / 2 + 1, &lb, &e), 0);
    assert_true(la);
    assert_false(lb);

    if (f->t.backend == DB_SQLITE) {
        /* The holder stops renewing: once the lease runs out the other takes over. */
        int64_t later = t0 + ttl / 2 + ttl + 1;
        assert_int_equal(db_leader_try(b, later, &lb, &e), 0);
        assert_true(lb);
        assert_int_equal(db_leader_try(a, later + 1, &la, &e), 0);
        assert_false(la);
        db_leader_free(a);
        assert_int_equal(db_leader_try(b, later + 2, &lb, &e), 0);
        assert_true(lb);
        db_leader_free(b);
        /* Freeing the holder releases the row: a newcomer leads at once. */
        struct db_leader *c = NULL;
        assert_int_equal(db_leader_new(f->db, name, ttl, &c, &e), 0);
        assert_int_equal(db_leader_try(c, later + 3, &la, &e), 0);
        assert_true(la);
        db_leader_free(c);
    } else {
        /* The holder's session ends: the other takes over at once. */
        db_leader_free(a);
        assert_int_equal(db_leader_try(b, t0 + 1, &lb, &e), 0);
        assert_true(lb);
        assert_int_equal(db_leader_try(b, t0 + 2, &lb, &e), 0);
        assert_true(lb);
        db_leader_free(b);
    }
    db_leader_free(NULL);
    assert_int_equal(db_error_count(f->db), 0);
}

struct migrator {
    const char *url;
    int applied;
    int rc;
    char msg[256];
};

static void *migrate_worker(void *arg)
{
    struct migrator *m = arg;
    struct err e;
    err_init(&e);
    struct db *db;
    m->rc = db_open(&db, m->url, NULL, &e);
    if (!m->rc) {
        m->rc = db_migrate(db, &m->applied, &e);
        db_close(db);
    }
    snprintf(m->msg, sizeof(m->msg), "%s", e.msg);
    return NULL;
}

/* Several processes' worth of migrators (separate pools) on one fresh database. */
static void test_migrate_concurrent(void **state)
{
    struct fixture *f = *state;
    enum { N = 4 };
    pthread_t th[N];
    struct migrator m[N];
    for (int i = 0; i < N; i++) {
        m[i] = (struct migrator){.url = f->t.url};
        assert_int_equal(pthread_create(&th[i], NULL, migrate_worker, &m[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        if (m[i].rc)
            fail_msg("migrator %d: %s", i, m[i].msg);
        total += m[i].applied;
    }
    assert_int_equal(total, migrations_for(f->t.backend));
    struct err e;
    err_init(&e);
    int v = 0;
    assert_int_equal(db_schema_version(f->db, &v, &e), 0);
    assert_int_equal(v, max_version_for(f->t.backend));
}

/* SQLite: a second writer waits for the writer lock, and gives up after the busy timeout. */
static void test_sqlite_writer_lock(void **state)
{
    struct fixture *f = *state;
    migrate_ok(f->db);
    db_close(f->db);
    struct db_options o = {.pool_size = 2, .busy_timeout_ms = 200};
    f->db = testdb_open(&f->t, &o);
    struct err e;
    err_init(&e);
    struct db_conn *a = testdb_acquire(f->db), *b = testdb_acquire(f->db);
    assert_int_equal(db_begin(a, &e), 0);
    assert_int_equal(insert_tenant(a, "a", &e), 1);
    /* Reads go on beside the writer (WAL) and see the committed state. */
    assert_int_equal(count_rows(b, "SELECT count(*) FROM tenants"), 0);
    assert_int_equal(insert_tenant(b, "b", &e), -1);
    assert_int_equal(e.code, ERR_TIMEOUT);
    err_init(&e);
    assert_int_equal(db_begin(b, &e), ERR_TIMEOUT);
    assert_false(db_in_transaction(b));
    err_init(&e);
    assert_int_equal(db_commit(a, &e), 0);
    assert_int_equal(insert_tenant(b, "b", &e), 1);
    assert_int_equal(count_rows(a, "SELECT count(*) FROM tenants"), 2);
    db_conn_release(a);
    db_conn_release(b);

    /* Another pool on the same file shares the process-wide writer lock. */
    struct db *other;
    assert_int_equal(db_open(&other, f->t.url, &o, &e), 0);
    a = testdb_acquire(f->db);
    b = testdb_acquire(other);
    assert_int_equal(db_begin(a, &e), 0);
    assert_int_equal(db_begin(b, &e), ERR_TIMEOUT);
    assert_true(strstr(e.msg, "writer lock") != NULL);
    db_rollback(a);
    err_init(&e);
    assert_int_equal(db_begin(b, &e), 0);
    assert_int_equal(db_commit(b, &e), 0);
    db_conn_release(a);
    db_conn_release(b);
    db_close(other);
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/*
 * SQLite: checkpoints run off the commit path, and the WAL stays bounded by them. Single-page
 * commits cross the checkpoint threshold; then, once the checkpointer has copied the WAL back,
 * a commit restarts the WAL from its start and the file stops growing. Commits are made one at
 * a time until that is seen, fewer in all than the inline fallback's threshold, so only the
 * checkpointer can have done it (bounded by a count of commits and ten seconds, not a time).
 */
static void test_sqlite_checkpointer(void **state)
{
    struct fixture *f = *state;
    struct db_conn *c = testdb_acquire(f->db);
    exec_ok(c, "CREATE TABLE ck (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    char wal[300];
    snprintf(wal, sizeof(wal), "%s-wal", f->t.path);
    struct err e;
    err_init(&e);
    for (int i = 0; i < 1200; i++) {
        struct db_stmt *s;
        assert_int_equal(db_prepare(c, &s, "INSERT INTO ck (v) VALUES ('a row of a page')", &e), 0);
        assert_int_equal(db_step(s, &e), DB_DONE);
        db_stmt_done(s);
    }
    /* more than the threshold's frames were appended */
    bool grown = file_size(wal) > 1000 * 1024;
    bool restarted = false;
    int64_t deadline = clock_mono_ms() + 10000;
    for (int i = 0; i < 5000 && !restarted && clock_mono_ms() < deadline; i++) {
        int64_t before = file_size(wal);
        struct db_stmt *s;
        assert_int_equal(db_prepare(c, &s, "INSERT INTO ck (v) VALUES ('a row of a page')", &e), 0);
        assert_int_equal(db_step(s, &e), DB_DONE);
        db_stmt_done(s);
        restarted = file_size(wal) == before;
        if (!restarted)
            nanosleep(&(struct timespec){.tv_nsec = 2 * 1000 * 1000}, NULL);
    }
    db_conn_release(c);
    assert_true(grown);
    assert_true(restarted);
}

/* PostgreSQL: a connection whose session died is re-established on the next acquire. */
static void test_pg_reconnect(void **state)
{
    struct fixture *f = *state;
    db_close(f->db);
    struct db_options o = {.pool_size = 1};
    f->db = testdb_open(&f->t, &o);
    migrate_ok(f->db);
    struct err e;
    err_init(&e);
    struct db_conn *c = testdb_acquire(f->db);
    int64_t pid = count_rows(c, "SELECT pg_backend_pid()");
    assert_int_equal(insert_tenant(c, "before", &e), 1);
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld, 10000)", (long long)pid);
    testdb_pg_admin(sql);
    /* The first use fails (at prepare, or at step for a cached statement); the timeout above
     * makes the server wait until the session is really gone. */
    struct db_stmt *s = NULL;
    if (db_prepare(c, &s, "SELECT count(*) FROM tenants WHERE id > 0", &e) == 0) {
        assert_int_equal(db_step(s, &e), DB_ERROR);
        db_stmt_done(s);
    }
    assert_int_equal(e.code, ERR_DB);
    db_conn_release(c);
    c = testdb_acquire(f->db);
    assert_true(count_rows(c, "SELECT pg_backend_pid()") != pid);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM tenants"), 1);
    /* Timestamps still come back in UTC on the new session. */
    s = prepare_ok(c, "SELECT created_at FROM tenants");
    assert_int_equal(db_step(s, &e), DB_ROW);
    assert_int_equal(db_col_time(s, 0), 1795252200123);
    db_stmt_done(s);
    db_conn_release(c);
}

/* ---------------------------------------------------------------- commit hooks */

static struct {
    int seen[32];
    int n;
    struct db_conn *c; /* for the hook that registers another */
} hooks;

static void note(void *p)
{
    assert_true(hooks.n < 32);
    hooks.seen[hooks.n++] = *(const int *)p;
}

/* Registers another hook while running: no transaction is open then, so it runs at once. */
static void note_and_register(void *p)
{
    note(p);
    int next = *(const int *)p + 1;
    assert_false(db_in_transaction(hooks.c));
    db_on_commit_copy(hooks.c, note, &next, sizeof(next));
}

static void on_commit_val(struct db_conn *c, int v)
{
    db_on_commit_copy(c, note, &v, sizeof(v));
}

static void expect_seen(const int *want, int n)
{
    assert_int_equal(hooks.n, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(hooks.seen[i], want[i]);
}

static struct {
    int n;
    char last[160];
} published;

static void count_sink(void *ctx, int64_t tenant, const char *type, const char *json)
{
    (void)ctx;
    published.n++;
    snprintf(published.last, sizeof(published.last), "%lld %s %s", (long long)tenant, type, json);
}

static void test_on_commit(void **state)
{
    struct fixture *f = *state;
    migrate_ok(f->db);
    memset(&hooks, 0, sizeof(hooks));
    struct err e;
    err_init(&e);
    struct db_conn *c = testdb_acquire(f->db);
    hooks.c = c;

    /* no transaction: at once */
    on_commit_val(c, 1);
    expect_seen((int[]){1}, 1);

    /* kept until commit, in registration order; borrowed and copied contexts alike */
    static const int four = 4;
    assert_int_equal(db_begin(c, &e), 0);
    on_commit_val(c, 2);
    on_commit_val(c, 3);
    db_on_commit(c, note, (void *)(uintptr_t)&four);
    exec_ok(c, "INSERT INTO settings (name, value, updated_at) VALUES ('a', '1', "
               "'2026-11-21T09:10:00.000Z')");
    expect_seen((int[]){1}, 1);
    assert_int_equal(db_commit(c, &e), 0);
    expect_seen((int[]){1, 2, 3, 4}, 4);

    /* dropped on rollback, and not run by a later commit either */
    assert_int_equal(db_begin(c, &e), 0);
    on_commit_val(c, 5);
    db_rollback(c);
    assert_int_equal(db_begin(c, &e), 0);
    assert_int_equal(db_commit(c, &e), 0);
    expect_seen((int[]){1, 2, 3, 4}, 4);

    /* nested db_begin_own: the inner "commit" waits for the outer one */
    bool own = true;
    assert_int_equal(db_begin(c, &e), 0);
    assert_int_equal(db_begin_own(c, &own, &e), 0);
    assert_false(own);
    on_commit_val(c, 6);
    assert_int_equal(db_end_own(c, own, 0, &e), 0);
    expect_seen((int[]){1, 2, 3, 4}, 4);
    assert_int_equal(db_commit(c, &e), 0);
    expect_seen((int[]){1, 2, 3, 4, 6}, 5);

    /* an inner failure: the caller rolls back, nothing runs */
    assert_int_equal(db_begin(c, &e), 0);
    assert_int_equal(db_begin_own(c, &own, &e), 0);
    on_commit_val(c, 7);
    assert_int_equal(db_end_own(c, own, ERR_INVALID, &e), ERR_INVALID);
    assert_true(db_in_transaction(c));
    db_rollback(c);
    expect_seen((int[]){1, 2, 3, 4, 6}, 5);

    /* db_begin_own that owns the transaction runs them at its commit */
    assert_int_equal(db_begin_own(c, &own, &e), 0);
    assert_true(own);
    on_commit_val(c, 8);
    expect_seen((int[]){1, 2, 3, 4, 6}, 5);
    assert_int_equal(db_end_own(c, own, 0, &e), 0);
    expect_seen((int[]){1, 2, 3, 4, 6, 8}, 6);

    /* releasing a connection with the transaction open drops them */
    assert_int_equal(db_begin(c, &e), 0);
    on_commit_val(c, 9);
    db_conn_release(c);
    c = testdb_acquire(f->db);
    hooks.c = c;
    assert_int_equal(db_begin(c, &e), 0);
    assert_int_equal(db_commit(c, &e), 0);
    expect_seen((int[]){1, 2, 3, 4, 6, 8}, 6);

    /* a COMMIT that fails (a deferred foreign key) drops them */
    exec_ok(c, "CREATE TABLE hook_fk (id INTEGER PRIMARY KEY, ref INTEGER "
               "REFERENCES hook_fk (id) DEFERRABLE INITIALLY DEFERRED)");
    assert_int_equal(db_begin(c, &e), 0);
    on_commit_val(c, 10);
    exec_ok(c, "INSERT INTO hook_fk (id, ref) VALUES (1, 999)");
    assert_int_not_equal(db_commit(c, &e), 0);
    assert_false(db_in_transaction(c));
    err_init(&e);
    assert_int_equal(db_begin(c, &e), 0);
    assert_int_equal(db_commit(c, &e), 0);
    expect_seen((int[]){1, 2, 3, 4, 6, 8}, 6);

    /* a hook may register another: it runs at once, after its registrar */
    assert_int_equal(db_begin(c, &e), 0);
    int eleven = 11;
    db_on_commit_copy(c, note_and_register, &eleven, sizeof(eleven));
    on_commit_val(c, 20);
    assert_int_equal(db_commit(c, &e), 0);
    expect_seen((int[]){1, 2, 3, 4, 6, 8, 11, 12, 20}, 9);

    /* the event helper: published after commit, never after rollback */
    memset(&published, 0, sizeof(published));
    events_set_sink(count_sink, NULL);
    assert_int_equal(db_begin(c, &e), 0);
    db_on_commit_event(c, 7, "window", 42, "ACTIVE");
    assert_int_equal(published.n, 0);
    db_rollback(c);
    assert_int_equal(published.n, 0);
    assert_int_equal(db_begin(c, &e), 0);
    db_on_commit_event(c, 7, "window", 43, NULL);
    assert_int_equal(published.n, 0);
    assert_int_equal(db_commit(c, &e), 0);
    assert_int_equal(published.n, 1);
    assert_string_equal(published.last, "7 window {\"id\":43}");
    events_set_sink(NULL, NULL);
    db_conn_release(c);
}

#define BACKEND_TESTS(setup)                                                                       \
    cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),                                \
        cmocka_unit_test_setup_teardown(test_upgrade_message_kinds, setup, teardown),              \
        cmocka_unit_test_setup_teardown(test_fault_injection, setup, teardown),                    \
        cmocka_unit_test_setup_teardown(test_types, setup, teardown),                              \
        cmocka_unit_test_setup_teardown(test_conflict, setup, teardown),                           \
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),                       \
        cmocka_unit_test_setup_teardown(test_on_commit, setup, teardown),                          \
        cmocka_unit_test_setup_teardown(test_stmt_cache, setup, teardown),                         \
        cmocka_unit_test_setup_teardown(test_quoted_placeholder, setup, teardown),                 \
        cmocka_unit_test_setup_teardown(test_pool_threads, setup, teardown),                       \
        cmocka_unit_test_setup_teardown(test_leader, setup, teardown),                             \
        cmocka_unit_test_setup_teardown(test_migrate_concurrent, setup, teardown)

int main(void)
{
    const struct CMUnitTest common[] = {
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_memory_db),
        cmocka_unit_test(test_rewrite),
    };
    const struct CMUnitTest sqlite_tests[] = {
        BACKEND_TESTS(setup_sqlite),
        cmocka_unit_test_setup_teardown(test_sqlite_writer_lock, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_checkpointer, setup_sqlite, teardown),
    };
    const struct CMUnitTest pg_tests[] = {
        BACKEND_TESTS(setup_pg),
        cmocka_unit_test_setup_teardown(test_pg_reconnect, setup_pg, teardown),
    };

    int failed = cmocka_run_group_tests_name("db_common", common, NULL, NULL);
    failed += cmocka_run_group_tests_name("db_sqlite", sqlite_tests, NULL, NULL);
    if (testdb_pg_dsn())
        failed += cmocka_run_group_tests_name("db_postgres", pg_tests, NULL, NULL);
    else
        printf("[  SKIPPED ] db_postgres: TEST_PG_DSN is not set\n");
    return failed ? 1 : 0;
}
