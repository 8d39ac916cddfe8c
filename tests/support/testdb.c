/* SPDX-License-Identifier: MIT */
/*
 * Unit-test support: fresh per-test databases on SQLite (a temp file) and PostgreSQL (a private
 * schema reached through `options=-csearch_path=...` on TEST_PG_DSN). See testdb.h.
 */
#include "support/testdb.h"

#include "core/err.h"
#include "db/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int seq;

const char *testdb_pg_dsn(void)
{
    const char *d = getenv("TEST_PG_DSN");
    return d && *d ? d : NULL;
}

static void rm_sqlite(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char p[300];
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        unlink(p);
    }
}

void testdb_pg_admin(const char *sql)
{
    const char *dsn = testdb_pg_dsn();
    if (!dsn)
        fail_msg("TEST_PG_DSN is not set");
    struct err e;
    err_init(&e);
    struct db *db;
    if (db_open(&db, dsn, NULL, &e))
        fail_msg("open %s: %s", dsn, e.msg);
    struct db_conn *c = testdb_acquire(db);
    if (db_exec(c, sql, &e))
        fail_msg("%s: %s", sql, e.msg);
    db_conn_release(c);
    db_close(db);
}

void testdb_fresh(struct testdb *t, enum db_backend backend, const char *tag)
{
    memset(t, 0, sizeof(*t));
    t->backend = backend;
    if (strspn(tag, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(tag) || !*tag)
        fail_msg("testdb tag \"%s\": use [a-z0-9_]", tag);
    int n = snprintf(t->name, sizeof(t->name), "%s_%d_%d", tag, (int)getpid(), ++seq);
    if (n < 0 || (size_t)n >= sizeof(t->name))
        fail_msg("testdb tag \"%s\" is too long", tag);

    if (backend == DB_SQLITE) {
        const char *dir = getenv("TEST_TMPDIR");
        n = snprintf(t->path, sizeof(t->path), "%s/iceshop-%s.db", dir && *dir ? dir : "/tmp",
                     t->name);
        if (n < 0 || (size_t)n >= sizeof(t->path))
            fail_msg("testdb: temp path too long");
        rm_sqlite(t->path);
        snprintf(t->url, sizeof(t->url), "sqlite://%s", t->path);
        return;
    }

    const char *dsn = testdb_pg_dsn();
    if (!dsn)
        fail_msg("TEST_PG_DSN is not set");
    n = snprintf(t->schema, sizeof(t->schema), "iceshop_%s", t->name);
    if (n < 0 || (size_t)n >= sizeof(t->schema))
        fail_msg("testdb tag \"%s\" is too long", tag);
    char sql[256];
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", t->schema,
             t->schema);
    testdb_pg_admin(sql);
    n = snprintf(t->url, sizeof(t->url), "%s%coptions=-csearch_path%%3D%s", dsn,
                 strchr(dsn, '?') ? '&' : '?', t->schema);
    if (n < 0 || (size_t)n >= sizeof(t->url))
        fail_msg("testdb: TEST_PG_DSN too long");
}

void testdb_remove(struct testdb *t)
{
    if (t->backend == DB_SQLITE && t->path[0]) {
        rm_sqlite(t->path);
    } else if (t->backend == DB_POSTGRES && t->schema[0]) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", t->schema);
        testdb_pg_admin(sql);
    }
}

struct db *testdb_open(const struct testdb *t, const struct db_options *opts)
{
    struct err e;
    err_init(&e);
    struct db *db = NULL;
    if (db_open(&db, t->url, opts, &e))
        fail_msg("db_open %s: %s", t->url, e.msg);
    return db;
}

struct db *testdb_open_migrated(struct testdb *t, enum db_backend backend, const char *tag,
                                const struct db_options *opts)
{
    testdb_fresh(t, backend, tag);
    struct db *db = testdb_open(t, opts);
    struct err e;
    err_init(&e);
    if (db_migrate(db, NULL, &e))
        fail_msg("db_migrate: %s", e.msg);
    return db;
}

struct db_conn *testdb_acquire(struct db *db)
{
    struct err e;
    err_init(&e);
    struct db_conn *c = NULL;
    if (db_conn_acquire(db, &c, &e))
        fail_msg("acquire: %s", e.msg);
    return c;
}

int testdb_run_groups(const char *prefix, const struct CMUnitTest *tests, size_t n,
                      enum db_backend *backend)
{
    char name[96];
    snprintf(name, sizeof(name), "%s_sqlite", prefix);
    *backend = DB_SQLITE;
    int failed = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    snprintf(name, sizeof(name), "%s_pg", prefix);
    if (testdb_pg_dsn()) {
        *backend = DB_POSTGRES;
        failed += _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    } else {
        printf("[  SKIPPED ] %s: TEST_PG_DSN is not set\n", name);
    }
    return failed;
}
