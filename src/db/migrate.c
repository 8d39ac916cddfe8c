/* SPDX-License-Identifier: MIT */
/*
 * Applies the embedded migrations (migrate_data.h) for the open backend in version order, each
 * in its own transaction together with its `schema_migrations` row. Concurrent runners queue on
 * the write lock (SQLite BEGIN IMMEDIATE, PostgreSQL an advisory transaction lock) and re-check
 * the version inside it, so each migration runs once. Tests: tests/unit/db/test_db.c.
 */
#include "db/migrate.h"
#include "db/migrate_data.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"

#include <stdlib.h>

static const char sqlite_table[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                   "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                                   "applied_at TEXT NOT NULL)";
static const char pg_table[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                               "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                               "applied_at TIMESTAMPTZ NOT NULL)";
/* Serialises migrators across PostgreSQL sessions until the transaction ends. */
static const char pg_lock[] = "SELECT pg_advisory_xact_lock(hashtext('iceshop.migrate'))";

static const char *files_backend(struct db *db)
{
    return db_backend(db) == DB_SQLITE ? "sqlite" : "pg";
}

/* Begin a write transaction that excludes other migrators. */
static int begin_locked(struct db_conn *c, struct err *e)
{
    int rc = db_begin(c, e);
    if (rc)
        return rc;
    if (db_backend(db_conn_db(c)) == DB_POSTGRES) {
        rc = db_exec(c, pg_lock, e);
        if (rc)
            db_rollback(c);
    }
    return rc;
}

static int ensure_table(struct db_conn *c, struct err *e)
{
    int rc = begin_locked(c, e);
    if (rc)
        return rc;
    rc = db_exec(c, db_backend(db_conn_db(c)) == DB_SQLITE ? sqlite_table : pg_table, e);
    if (rc) {
        db_rollback(c);
        return rc;
    }
    return db_commit(c, e);
}

static int is_applied(struct db_conn *c, int version, bool *applied, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT 1 FROM schema_migrations WHERE version = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, version);
    int r = db_step(s, e);
    if (r == DB_ERROR)
        rc = db_step_error(e);
    *applied = r == DB_ROW;
    db_stmt_done(s);
    return rc;
}

static int record(struct db_conn *c, const struct migration_file *f, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, "INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, ?, ?)", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, f->version);
    db_bind_text(s, 2, f->name);
    db_bind_time(s, 3, clock_now_ms(NULL));
    if (db_step(s, e) != DB_DONE)
        rc = db_step_error(e);
    db_stmt_done(s);
    return rc;
}

/* Runs `f` unless it is already recorded; *ran says which. */
static int apply_one(struct db_conn *c, const struct migration_file *f, bool *ran, struct err *e)
{
    *ran = false;
    int rc = begin_locked(c, e);
    if (rc)
        return rc;
    bool done = false;
    rc = is_applied(c, f->version, &done, e);
    if (rc || done)
        goto out_rollback;
    rc = db_exec(c, f->sql, e);
    if (rc) {
        err_set(e, rc, "migration %s failed", f->name);
        goto out_rollback;
    }
    rc = record(c, f, e);
    if (rc)
        goto out_rollback;
    rc = db_commit(c, e);
    if (rc)
        return rc;
    *ran = true;
    log_info("msg=\"migration applied\" version=%d name=%s", f->version, f->name);
    return 0;

out_rollback:
    db_rollback(c);
    return rc;
}

static int by_version(const void *a, const void *b)
{
    const struct migration_file *x = *(const struct migration_file *const *)a;
    const struct migration_file *y = *(const struct migration_file *const *)b;
    return (x->version > y->version) - (x->version < y->version);
}

int db_migrate(struct db *db, int *applied, struct err *e)
{
    if (applied)
        *applied = 0;
    const char *backend = files_backend(db);
    const struct migration_file **files =
        xcalloc(migration_files_count + 1, sizeof(struct migration_file *));
    size_t n = 0;
    for (size_t i = 0; i < migration_files_count; i++) {
        if (str_eq(migration_files[i].backend, backend))
            files[n++] = &migration_files[i];
    }
    qsort(files, n, sizeof(files[0]), by_version);
    int rc = 0;
    for (size_t i = 1; i < n; i++) {
        if (files[i]->version == files[i - 1]->version) {
            rc = err_set(e, ERR_INTERNAL, "two %s migrations numbered %d: %s and %s", backend,
                         files[i]->version, files[i - 1]->name, files[i]->name);
            goto out_free;
        }
    }

    struct db_conn *c;
    rc = db_conn_acquire(db, &c, e);
    if (rc)
        goto out_free;
    rc = ensure_table(c, e);
    for (size_t i = 0; !rc && i < n; i++) {
        bool ran = false;
        rc = apply_one(c, files[i], &ran, e);
        if (!rc && ran && applied)
            (*applied)++;
    }
    db_conn_release(c);
out_free:
    free(files);
    return rc;
}

int db_migrate_latest(struct db *db)
{
    const char *backend = files_backend(db);
    int latest = 0;
    for (size_t i = 0; i < migration_files_count; i++) {
        if (str_eq(migration_files[i].backend, backend) && migration_files[i].version > latest)
            latest = migration_files[i].version;
    }
    return latest;
}

int db_schema_version(struct db *db, int *version, struct err *e)
{
    *version = 0;
    struct db_conn *c;
    int rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    /* A fresh database has no table yet: that is version 0, not an error. */
    const char *exists_sql =
        db_backend(db) == DB_SQLITE
            ? "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
              "'schema_migrations'"
            : "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'schema_migrations' "
              "AND schemaname = current_schema()";
    struct db_stmt *s;
    rc = db_prepare(c, &s, exists_sql, e);
    if (rc)
        goto out_release;
    int r = db_step(s, e);
    bool exists = r == DB_ROW && db_col_i64(s, 0) > 0;
    db_stmt_done(s);
    if (r == DB_ERROR)
        rc = db_step_error(e);
    if (rc || !exists)
        goto out_release;
    rc = db_prepare(c, &s, "SELECT coalesce(max(version), 0) FROM schema_migrations", e);
    if (rc)
        goto out_release;
    if (db_step(s, e) == DB_ROW)
        *version = (int)db_col_i64(s, 0);
    else
        rc = db_step_error(e);
    db_stmt_done(s);
out_release:
    db_conn_release(c);
    return rc;
}
