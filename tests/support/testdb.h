/* SPDX-License-Identifier: MIT */
/*
 * Unit-test support: a fresh, private database per test. SQLite gets a unique file under
 * $TEST_TMPDIR (or /tmp); PostgreSQL (when TEST_PG_DSN is set) gets a new schema selected through
 * the URI's search_path, so tests never touch `public`. Failures end the test via cmocka.
 */
#ifndef ICESHOP_TESTS_TESTDB_H
#define ICESHOP_TESTS_TESTDB_H

#include "db/db.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

struct testdb {
    enum db_backend backend;
    char name[64];   /* unique per test: "<tag>_<pid>_<seq>" */
    char url[600];   /* what to pass to db_open */
    char path[256];  /* SQLite file */
    char schema[64]; /* PostgreSQL schema */
};

/* TEST_PG_DSN, or NULL when it is unset or empty. */
const char *testdb_pg_dsn(void);

/*
 * Make a brand-new empty database of `backend` and fill `t` (`tag` is [a-z0-9_], names the
 * file or schema). SQLite: stale files of that name are removed. PostgreSQL: needs TEST_PG_DSN.
 */
void testdb_fresh(struct testdb *t, enum db_backend backend, const char *tag);
/* Delete what testdb_fresh made (the file and its -wal/-shm, or the schema). */
void testdb_remove(struct testdb *t);

/* Run `sql` on a new connection to the raw TEST_PG_DSN (outside any test schema). */
void testdb_pg_admin(const char *sql);

/* db_open on t->url; `opts` may be NULL. */
struct db *testdb_open(const struct testdb *t, const struct db_options *opts);
/* testdb_fresh + testdb_open + db_migrate. */
struct db *testdb_open_migrated(struct testdb *t, enum db_backend backend, const char *tag,
                                const struct db_options *opts);
/* db_conn_acquire that cannot fail. */
struct db_conn *testdb_acquire(struct db *db);

/*
 * Run `tests` as group "<prefix>_sqlite" and then, when TEST_PG_DSN is set, as "<prefix>_pg"
 * (else print a skip line), storing the backend in *backend before each run for the tests'
 * setup to read. Returns the number of failed tests.
 */
int testdb_run_groups(const char *prefix, const struct CMUnitTest *tests, size_t n,
                      enum db_backend *backend);
#define TESTDB_RUN_GROUPS(prefix, tests, backend)                                                  \
    testdb_run_groups(prefix, tests, sizeof(tests) / sizeof((tests)[0]), backend)

#endif
