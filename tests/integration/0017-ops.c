/* SPDX-License-Identifier: MIT */
/*
 * Running Iceshop for real, over the real binary: `iceshop backup` of a live SQLite database
 * under write load and `iceshop restore` of it (every row acknowledged before the backup began
 * comes back; a running server's database and files that are not Iceshop databases are
 * refused; PostgreSQL points to pg_dump / pg_restore), `iceshop reset` and `iceshop demo
 * --reset`. Runs on the backend TEST_BACKEND selects.
 */
#include "support/harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define ADMIN     HARNESS_ADMIN_KEY
#define MAX_ACKED 100000

static bool is_sqlite(void)
{
    return strcmp(harness_backend(), "sqlite") == 0;
}

static const char *tmpdir(void)
{
    return getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
}

/* A path for a file of this test under TEST_TMPDIR. */
static void tmp_path(char *out, size_t n, const char *what)
{
    static int seq;
    snprintf(out, n, "%s/ops-%d-%d-%s", tmpdir(), (int)getpid(), seq++, what);
}

/* ======================== backup under write load ======================== */

struct writer {
    const struct server *s;
    atomic_bool stop;
    atomic_long acked; /* ids[0..acked) were answered 202 */
    long long *ids;
    atomic_int errors;
};

static void *write_loop(void *arg)
{
    struct writer *w = arg;
    while (!atomic_load(&w->stop) && atomic_load(&w->acked) < MAX_ACKED) {
        struct resp r;
        if (http_post_json(w->s, "/api/jobs", ADMIN, "{\"name\":\"test.ok\"}", &r) ||
            r.status != 202) {
            atomic_fetch_add(&w->errors, 1);
        } else {
            long n = atomic_load(&w->acked);
            w->ids[n] = (long long)json_integer_value(json_object_get(r.json, "id"));
            atomic_store(&w->acked, n + 1);
        }
        resp_free(&r);
    }
    return NULL;
}

/* How many of ids[0..n) are rows of `jobs` in the database at url. */
static long long present(const char *url, const long long *ids, long n)
{
    long long found = 0;
    char sql[8192];
    for (long i = 0; i < n;) {
        int used = snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM jobs WHERE id IN (");
        long j = i;
        for (; j < n && j < i + 500; j++)
            used += snprintf(sql + used, sizeof(sql) - (size_t)used, "%s%lld", j > i ? "," : "",
                             ids[j]);
        snprintf(sql + used, sizeof(sql) - (size_t)used, ")");
        found += harness_db_i64(url, sql);
        i = j;
    }
    return found;
}

static void test_backup_under_load_and_restore(void **state)
{
    (void)state;
    if (!is_sqlite()) {
        fprintf(stderr, "skip: iceshop backup copies SQLite files; PostgreSQL is backed up with "
                        "pg_dump (the refusal is checked below)\n");
        skip();
        return;
    }
    struct server s;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    assert_int_equal(server_start(&s, url, NULL), 0);

    struct writer w = {.s = &s, .ids = calloc(MAX_ACKED, sizeof(long long))};
    assert_non_null(w.ids);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_loop, &w), 0);
    WAIT_FOR(atomic_load(&w.acked) >= 200, 20000);
    long before = atomic_load(&w.acked);
    assert_true(before >= 200);

    char file[512], cmd[700], out[4096];
    tmp_path(file, sizeof(file), "backup.db");
    snprintf(cmd, sizeof(cmd), "backup %s 2>&1", file);
    assert_int_equal(harness_cli(url, cmd, out, sizeof(out)), 0);
    /* the writes went on during the backup */
    long at_end = atomic_load(&w.acked);
    WAIT_FOR(atomic_load(&w.acked) >= at_end + 50, 20000);
    assert_true(atomic_load(&w.acked) >= at_end + 50);

    /* a running server's database is never replaced */
    snprintf(cmd, sizeof(cmd), "restore %s 2>&1", file);
    assert_int_equal(harness_cli(url, cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "in use"));

    atomic_store(&w.stop, true);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&w.errors), 0);
    long total = atomic_load(&w.acked);
    fprintf(stderr, "backup: %ld rows acknowledged before it, %ld when it ended, %ld in all\n",
            before, at_end, total);
    assert_int_equal(server_stop(&s), 0);

    /* restore over an existing database: it is kept aside, the backup takes its place */
    char target[600];
    harness_fresh_db(target, sizeof(target));
    assert_int_equal(harness_cli(target, "migrate", out, sizeof(out)), 0);
    harness_db_exec(target, "INSERT INTO tenants (name, created_at) VALUES "
                            "('only-in-target', '2026-12-01T00:00:00.000Z')");
    assert_int_equal(harness_cli(target, cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "before-restore"));
    assert_int_equal(
        harness_db_i64(target, "SELECT COUNT(*) FROM tenants WHERE name = 'only-in-target'"), 0);
    /* every row acknowledged before the backup began is there */
    assert_int_equal(present(target, w.ids, before), before);
    /*
     * and nothing the backup could not have seen: rows acknowledged after it ended are absent
     * (but the one request that may have been in flight when it ended)
     */
    assert_true(present(target, w.ids + at_end + 1, total - at_end - 1) == 0);

    /* the restored database serves */
    assert_int_equal(server_start(&s, target, NULL), 0);
    char path[64];
    snprintf(path, sizeof(path), "/api/jobs/%lld", w.ids[before - 1]);
    struct resp r;
    assert_int_equal(http_get(&s, path, ADMIN, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(server_stop(&s), 0);
    free(w.ids);
}

/* ======================== restore refusals ======================== */

static void test_restore_refuses_what_is_not_iceshop(void **state)
{
    (void)state;
    char target[600], cmd[700], out[4096];
    harness_fresh_db(target, sizeof(target));
    if (!is_sqlite()) {
        assert_int_equal(harness_cli(target, "backup /tmp/x.db 2>&1", out, sizeof(out)), 1);
        assert_non_null(strstr(out, "pg_dump"));
        assert_int_equal(harness_cli(target, "restore /tmp/x.db 2>&1", out, sizeof(out)), 1);
        assert_non_null(strstr(out, "pg_restore"));
        return;
    }
    assert_int_equal(harness_cli(target, "migrate", out, sizeof(out)), 0);
    long long tenants = harness_db_i64(target, "SELECT COUNT(*) FROM schema_migrations");

    /* a text file */
    char junk[512];
    tmp_path(junk, sizeof(junk), "junk.txt");
    FILE *f = fopen(junk, "w");
    assert_non_null(f);
    fputs("SELECT 1; -- not a database\n", f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "restore %s 2>&1", junk);
    assert_int_equal(harness_cli(target, cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "not an Iceshop database"));

    /* a SQLite database of something else */
    char other[512], other_url[600];
    tmp_path(other, sizeof(other), "other.db");
    snprintf(other_url, sizeof(other_url), "sqlite://%s", other);
    harness_db_exec(other_url, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)");
    snprintf(cmd, sizeof(cmd), "restore %s 2>&1", other);
    assert_int_equal(harness_cli(target, cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "not an Iceshop database"));

    /* a missing file */
    assert_int_equal(harness_cli(target, "restore /nonexistent/backup.db 2>&1", out, sizeof(out)),
                     1);
    /* the target was left alone */
    assert_int_equal(harness_db_i64(target, "SELECT COUNT(*) FROM schema_migrations"), tenants);
}

/* ======================== reset ======================== */

static long long buyers_of(const char *url, const char *tenant)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM buyers b JOIN tenants t ON t.id = b.tenant_id WHERE t.name = "
             "'%s'",
             tenant);
    return harness_db_i64(url, sql);
}

static void register_buyer(const struct server *s, const char *key, const char *id)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"phone_number\":\"+99900000%s\",\"name\":\"%s\","
             "\"location\":{\"lat\":40.99,\"lng\":29.03},\"categories\":[\"coffee\"]}",
             id, id + 1, id);
    struct resp r;
    assert_int_equal(http_post_json(s, "/api/buyers/register", key, body, &r), 0);
    if (r.status != 201 && r.status != 200)
        fail_msg("register buyer: %ld %s", r.status, r.body);
    resp_free(&r);
}

static void test_reset_tenant(void **state)
{
    (void)state;
    struct server s;
    char url[600], out[4096];
    harness_fresh_db(url, sizeof(url));
    assert_int_equal(server_start(&s, url, NULL), 0);
    assert_int_equal(harness_cli(url, "tenants create shop", out, sizeof(out)), 0);
    assert_int_equal(harness_cli(url, "keys create --tenant shop --role admin", out, sizeof(out)),
                     0);
    char key[256];
    snprintf(key, sizeof(key), "%.*s", (int)strcspn(out, "\r\n"), out);
    register_buyer(&s, key, "B1");
    register_buyer(&s, key, "B2");
    register_buyer(&s, ADMIN, "B3"); /* the default tenant's */
    assert_int_equal(buyers_of(url, "shop"), 2);

    /* refused without --yes, saying why */
    assert_int_equal(harness_cli(url, "reset --tenant shop 2>&1", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "--yes"));
    assert_non_null(strstr(out, "cannot be undone"));
    assert_int_equal(buyers_of(url, "shop"), 2);
    assert_int_equal(harness_cli(url, "reset --tenant nosuch --yes 2>&1", out, sizeof(out)), 1);
    assert_non_null(strstr(out, "no tenant named nosuch"));

    assert_int_equal(harness_cli(url, "reset --tenant shop --yes", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "tenant shop reset"));
    assert_int_equal(buyers_of(url, "shop"), 0);
    assert_int_equal(buyers_of(url, "default"), 1);
    /* the tenant and its key still work */
    struct resp r;
    assert_int_equal(http_get(&s, "/api/buyers", key, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    register_buyer(&s, key, "B4");
    assert_int_equal(buyers_of(url, "shop"), 1);

    /* demo --reset still removes the demo tenant */
    assert_int_equal(harness_cli(url, "tenants create demo", out, sizeof(out)), 0);
    assert_int_equal(harness_cli(url, "demo --reset", out, sizeof(out)), 0);
    assert_int_equal(harness_db_i64(url, "SELECT COUNT(*) FROM tenants WHERE name = 'demo'"), 0);
    assert_int_equal(server_stop(&s), 0);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backup_under_load_and_restore),
        cmocka_unit_test(test_restore_refuses_what_is_not_iceshop),
        cmocka_unit_test(test_reset_tenant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
