/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/platform/dblock.c and src/platform/backup.c: the lock's path and its
 * shared/exclusive conflicts, a backup of a database with rows in it, what backup_check accepts
 * and refuses, restoring into a new path and over a database (kept aside with its WAL) and
 * being refused while the lock is held, and the PostgreSQL refusals. Runs on SQLite and, with
 * TEST_PG_DSN, on PostgreSQL (where backups belong to pg_dump).
 */
#include "platform/backup.h"
#include "platform/dblock.h"
#include "core/xalloc.h"
#include "db/migrate.h"
#include "db/store.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static enum db_backend backend;

struct fixture {
    struct testdb t;
    struct db *db;
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "backup", NULL);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static void tmp_file(char *out, size_t n, const char *what)
{
    const char *dir = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
    snprintf(out, n, "%s/test_backup_%d_%s", dir, (int)getpid(), what);
    unlink(out);
}

static void test_sqlite_path(void **state)
{
    (void)state;
    char p[64];
    assert_true(dblock_sqlite_path("sqlite://var/iceshop.db", p, sizeof(p)));
    assert_string_equal(p, "var/iceshop.db");
    assert_true(dblock_sqlite_path("sqlite:///tmp/x.db?mode=rwc", p, sizeof(p)));
    assert_string_equal(p, "/tmp/x.db");
    assert_false(dblock_sqlite_path("sqlite://:memory:", p, sizeof(p)));
    assert_false(dblock_sqlite_path("sqlite://", p, sizeof(p)));
    assert_false(dblock_sqlite_path("postgres://u@h/db", p, sizeof(p)));
    assert_false(dblock_sqlite_path("sqlite:///a/very/long/path/that/does/not/fit/in/16", p, 16));
}

static void test_lock_conflicts(void **state)
{
    (void)state;
    char db[256];
    tmp_file(db, sizeof(db), "lock.db");
    struct err e;
    err_init(&e);
    int s1 = -1, s2 = -1, x = -1;
    /* servers share it */
    assert_int_equal(dblock_take(db, false, &s1, &e), 0);
    assert_int_equal(dblock_take(db, false, &s2, &e), 0);
    /* a restore cannot take it while one is held */
    assert_int_equal(dblock_take(db, true, &x, &e), ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "in use"));
    assert_int_equal(x, -1);
    dblock_release(s1);
    err_init(&e);
    assert_int_equal(dblock_take(db, true, &x, &e), ERR_CONFLICT);
    dblock_release(s2);
    err_init(&e);
    assert_int_equal(dblock_take(db, true, &x, &e), 0);
    /* and no server starts during a restore */
    assert_int_equal(dblock_take(db, false, &s1, &e), ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "being restored"));
    dblock_release(x);
    err_init(&e);
    assert_int_equal(dblock_take(db, false, &s1, &e), 0);
    dblock_release(s1);
    char lock[300];
    snprintf(lock, sizeof(lock), "%s.lock", db);
    unlink(lock);
}

static void put_tenant(struct db *db, const char *name)
{
    struct err e;
    err_init(&e);
    struct db_conn *c = testdb_acquire(db);
    struct db_stmt *s;
    assert_int_equal(db_prepare(c, &s, "INSERT INTO tenants (name) VALUES (?)", &e), 0);
    db_bind_text(s, 1, name);
    assert_int_equal(db_exec_write(s, NULL, &e), 0);
    db_conn_release(c);
}

static void test_backup_and_check(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    char dest[256];
    tmp_file(dest, sizeof(dest), "copy.db");
    if (backend != DB_SQLITE) {
        assert_int_equal(backup_make(f->db, dest, &e), ERR_INVALID);
        assert_non_null(strstr(e.msg, "pg_dump"));
        err_init(&e);
        int v;
        char prev[64];
        assert_int_equal(backup_restore(f->t.url, dest, &v, prev, sizeof(prev), &e), ERR_INVALID);
        assert_non_null(strstr(e.msg, "pg_restore"));
        return;
    }
    put_tenant(f->db, "kept");
    assert_int_equal(backup_make(f->db, dest, &e), 0);
    struct stat st;
    assert_int_equal(stat(dest, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* written later: not in the copy */
    put_tenant(f->db, "later");

    int version = 0;
    assert_int_equal(backup_check(dest, &version, &e), 0);
    assert_int_equal(version, db_migrate_latest(f->db));
    char url[300];
    snprintf(url, sizeof(url), "sqlite://%s", dest);
    struct db *copy = NULL;
    assert_int_equal(db_open(&copy, url, NULL, &e), 0);
    struct db_conn *c = testdb_acquire(copy);
    struct db_stmt *s;
    int64_t n = 0;
    bool found;
    assert_int_equal(db_prepare(c, &s, "SELECT COUNT(*) FROM tenants WHERE name = 'kept'", &e), 0);
    assert_int_equal(db_one_i64(s, &n, &found, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(db_prepare(c, &s, "SELECT COUNT(*) FROM tenants WHERE name = 'later'", &e), 0);
    assert_int_equal(db_one_i64(s, &n, &found, &e), 0);
    assert_int_equal(n, 0);
    /* a schema newer than this binary is refused */
    assert_int_equal(
        db_exec(c,
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, "
                "'from_the_future', 'x')",
                &e),
        0);
    db_conn_release(c);
    db_close(copy);
    assert_int_equal(backup_check(dest, &version, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "newer than this iceshop"));

    /* not a SQLite file; a SQLite file of something else */
    err_init(&e);
    char junk[256];
    tmp_file(junk, sizeof(junk), "junk");
    FILE *fp = fopen(junk, "w");
    assert_non_null(fp);
    fputs("SQLite format 2, honestly\n", fp);
    fclose(fp);
    assert_int_equal(backup_check(junk, &version, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "not a SQLite file"));
    err_init(&e);
    tmp_file(junk, sizeof(junk), "other.db");
    snprintf(url, sizeof(url), "sqlite://%s", junk);
    assert_int_equal(db_open(&copy, url, NULL, &e), 0);
    c = testdb_acquire(copy);
    assert_int_equal(db_exec(c, "CREATE TABLE notes (id INTEGER PRIMARY KEY)", &e), 0);
    db_conn_release(c);
    db_close(copy);
    assert_int_equal(backup_check(junk, &version, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "no schema_migrations or tenants table"));
    unlink(junk);
    unlink(dest);
}

/* Restore into a new path, then over it: the old file moves aside; a held lock refuses. */
static void test_restore(void **state)
{
    struct fixture *f = *state;
    if (backend != DB_SQLITE) {
        fprintf(stderr, "skip: restore replaces SQLite files; PostgreSQL's refusal is checked "
                        "in test_backup_and_check\n");
        skip();
        return;
    }
    struct err e;
    err_init(&e);
    char src[256], target[256], url[300], before[300], lock[300];
    tmp_file(src, sizeof(src), "src.db");
    tmp_file(target, sizeof(target), "target.db");
    snprintf(url, sizeof(url), "sqlite://%s", target);
    snprintf(before, sizeof(before), "%s.before-restore", target);
    snprintf(lock, sizeof(lock), "%s.lock", target);
    unlink(before);
    put_tenant(f->db, "restored");
    assert_int_equal(backup_make(f->db, src, &e), 0);

    int version = 0;
    char prev[300];
    assert_int_equal(backup_restore(url, src, &version, prev, sizeof(prev), &e), 0);
    assert_int_equal(version, db_migrate_latest(f->db));
    assert_string_equal(prev, "");
    /* the copy serves; its WAL holds a write that the next restore must keep aside */
    struct db *db = NULL;
    assert_int_equal(db_open(&db, url, NULL, &e), 0);
    struct db_conn *c = testdb_acquire(db);
    struct db_stmt *s;
    int64_t n = 0;
    bool found;
    assert_int_equal(db_prepare(c, &s, "SELECT COUNT(*) FROM tenants WHERE name = 'restored'", &e),
                     0);
    assert_int_equal(db_one_i64(s, &n, &found, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(db_exec(c, "INSERT INTO tenants (name) VALUES ('written-later')", &e), 0);
    db_conn_release(c);

    /* a process holding the lock (a server) blocks the restore, which changes nothing */
    int held = -1;
    assert_int_equal(dblock_take(target, false, &held, &e), 0);
    assert_int_equal(backup_restore(url, src, &version, prev, sizeof(prev), &e), ERR_CONFLICT);
    dblock_release(held);
    db_close(db);

    err_init(&e);
    assert_int_equal(backup_restore(url, src, &version, prev, sizeof(prev), &e), 0);
    assert_string_equal(prev, before);
    /* the previous database, with what it had written, is kept */
    char before_url[320];
    snprintf(before_url, sizeof(before_url), "sqlite://%s", before);
    assert_int_equal(db_open(&db, before_url, NULL, &e), 0);
    c = testdb_acquire(db);
    assert_int_equal(
        db_prepare(c, &s, "SELECT COUNT(*) FROM tenants WHERE name = 'written-later'", &e), 0);
    assert_int_equal(db_one_i64(s, &n, &found, &e), 0);
    assert_int_equal(n, 1);
    db_conn_release(c);
    db_close(db);
    const char *files[] = {src, target, before, lock};
    for (size_t i = 0; i < 4; i++) {
        char p[320];
        unlink(files[i]);
        snprintf(p, sizeof(p), "%s-wal", files[i]);
        unlink(p);
        snprintf(p, sizeof(p), "%s-shm", files[i]);
        unlink(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite_path),
        cmocka_unit_test(test_lock_conflicts),
        cmocka_unit_test_setup_teardown(test_backup_and_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("backup", tests, &backend) ? 1 : 0;
}
