/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/platform/doctor.c: the list of known variables covers every ICESHOP_* name
 * that src/, scripts/ and README.md use (run from the repository root); a good configuration
 * has nothing to fix; each kind of broken one (misspelt name, bad value, half a provider, a
 * /0 proxy block, no disk space, a wrong clock, a clock behind the database's rows, a database
 * from a newer binary, an unreachable database) is a failure that says what to do. Runs on
 * SQLite and, with TEST_PG_DSN, on PostgreSQL.
 */
#include "platform/doctor.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/xalloc.h"
#include "db/migrate.h"
#include "jobs/queue.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static enum db_backend backend;

struct fixture {
    struct testdb t;
    struct db *db;
    char key[80];
    struct doctor_report r;
};

/* Only the variables a test sets: everything ICESHOP_* from the runner's environment goes. */
static void clear_iceshop_env(void)
{
    for (;;) {
        char name[128] = "";
        for (size_t i = 0; environ[i]; i++) {
            if (strncmp(environ[i], "ICESHOP_", 8) == 0) {
                size_t n = strcspn(environ[i], "=");
                snprintf(name, sizeof(name), "%.*s", (int)n, environ[i]);
                break;
            }
        }
        if (!name[0])
            return;
        unsetenv(name);
    }
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "doctor", NULL);
    clear_iceshop_env();
    setenv("ICESHOP_DATABASE_URL", f->t.url, 1);
    /* a key in the environment: no key file is looked for */
    snprintf(f->key, sizeof(f->key), "%s",
             "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    setenv("ICESHOP_SECRET_KEY", f->key, 1);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    clear_iceshop_env();
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static void run(struct fixture *f, int64_t now_ms, uint64_t min_free)
{
    struct doctor_options o = {.envp = environ, .now_ms = now_ms, .min_free_bytes = min_free};
    doctor_run(&o, &f->r);
}

static void run_now(struct fixture *f)
{
    run(f, clock_now_ms(NULL), 1);
}

/* Is there a finding of `level` whose message holds every one of the NULL-terminated needles? */
static bool found(const struct doctor_report *r, enum doctor_level level, ...)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->items[i].level != level)
            continue;
        va_list ap;
        va_start(ap, level);
        bool all = true;
        for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
            all = all && strstr(r->items[i].msg, s);
        va_end(ap);
        if (all)
            return true;
    }
    return false;
}

static void print(const struct doctor_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        fprintf(stderr, "  %d %s: %s\n", r->items[i].level, r->items[i].area, r->items[i].msg);
}

static void test_known_vars_cover_the_sources(void **state)
{
    (void)state;
    /* in C only string literals (header guards and macros are not variables) */
    FILE *p = popen("{ grep -rhoE '\"ICESHOP_[A-Z0-9_]+' src | tr -d '\"'; "
                    "grep -rhoE 'ICESHOP_[A-Z0-9_]+' scripts README.md docs/DEPLOY.md deploy "
                    "Dockerfile; } | sort -u",
                    "r");
    assert_non_null(p);
    char line[256];
    int n = 0;
    while (fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\n")] = '\0';
        size_t len = strlen(line);
        bool ok = doctor_var_known(line);
        /* a family as the text names it (ICESHOP_VAPI_*, ICESHOP_WHATSAPP_TEMPLATE_<KIND>) */
        for (size_t i = 0; !ok && doctor_known_vars[i]; i++)
            ok = line[len - 1] == '_' && strncmp(doctor_known_vars[i], line, len) == 0;
        if (!ok)
            fail_msg("%s is used in the sources but missing from doctor_known_vars", line);
        n++;
    }
    pclose(p);
    assert_true(n >= 50);
    assert_true(doctor_var_known("ICESHOP_WHATSAPP_TEMPLATE_OFFER"));
    assert_false(doctor_var_known("ICESHOP_WHATSAPP_TEMPLATE_"));
    assert_false(doctor_var_known("ICESHOP_WORKER"));
}

static void test_good_configuration(void **state)
{
    struct fixture *f = *state;
    setenv("ICESHOP_LISTEN", "127.0.0.1:8080", 1);
    setenv("ICESHOP_WHATSAPP_TOKEN", "token", 1);
    setenv("ICESHOP_WHATSAPP_PHONE_NUMBER_ID", "1234", 1);
    setenv("ICESHOP_WHATSAPP_APP_SECRET", "secret", 1);
    setenv("ICESHOP_WHATSAPP_VERIFY_TOKEN", "verify", 1);
    setenv("ICESHOP_TRUSTED_PROXIES", "127.0.0.1, ::1", 1);
    run_now(f);
    if (f->r.fails || f->r.warns)
        print(&f->r);
    assert_int_equal(f->r.fails, 0);
    assert_int_equal(f->r.warns, 0);
    assert_true(found(&f->r, DOCTOR_OK, "reachable", "(current)", NULL));
    assert_true(found(&f->r, DOCTOR_OK, "clock", NULL));
    assert_true(found(&f->r, DOCTOR_OK, "8 ICESHOP_* variables", NULL));
}

static void test_broken_configuration(void **state)
{
    struct fixture *f = *state;
    setenv("ICESHOP_WORKRES", "2", 1);
    setenv("ICESHOP_LISTEN", "localhost:8080", 1);
    setenv("ICESHOP_PUBLIC_URL", "shop.example.com", 1);
    setenv("ICESHOP_SMTP_USER", "mailer", 1);
    setenv("ICESHOP_VAPI_KEY", "k", 1);
    setenv("ICESHOP_TRUSTED_PROXIES", "0.0.0.0/0", 1);
    run_now(f);
    assert_true(found(&f->r, DOCTOR_WARN, "ICESHOP_WORKRES", "did you mean ICESHOP_WORKERS", NULL));
    assert_true(found(&f->r, DOCTOR_FAIL, "ICESHOP_LISTEN", "localhost", NULL));
    assert_true(found(&f->r, DOCTOR_FAIL, "ICESHOP_PUBLIC_URL", "https://", NULL));
    assert_true(found(&f->r, DOCTOR_FAIL, "ICESHOP_SMTP_PASSWORD", "SMTP AUTH", NULL));
    assert_true(found(&f->r, DOCTOR_FAIL, "ICESHOP_VAPI_URL", NULL));
    assert_true(found(&f->r, DOCTOR_FAIL, "every address", NULL));
    assert_int_equal(f->r.fails, 5);

    /* a value config_load refuses: the message names the variable */
    clear_iceshop_env();
    setenv("ICESHOP_DATABASE_URL", f->t.url, 1);
    setenv("ICESHOP_ACCESS_LOG_SAMPLE", "2", 1);
    run_now(f);
    assert_true(found(&f->r, DOCTOR_FAIL, "ICESHOP_ACCESS_LOG_SAMPLE", NULL));
    assert_int_equal(f->r.fails, 1);

    /* a secret key that is not one */
    clear_iceshop_env();
    setenv("ICESHOP_DATABASE_URL", f->t.url, 1);
    setenv("ICESHOP_SECRET_KEY", "not-a-key", 1);
    run_now(f);
    assert_true(found(&f->r, DOCTOR_FAIL, "ICESHOP_SECRET_KEY", NULL));
}

static void test_disk_and_clock(void **state)
{
    struct fixture *f = *state;
    int64_t now = clock_now_ms(NULL);
    /* a clock before this software existed */
    run(f, 86400000, 1);
    assert_true(found(&f->r, DOCTOR_FAIL, "1970-01-02", "NTP", NULL));
    /* a clock behind the database's newest job */
    struct db_conn *c = testdb_acquire(f->db);
    struct err e;
    err_init(&e);
    struct job_spec spec = {.name = "test.ok"};
    assert_int_equal(jobs_enqueue(c, &spec, now, NULL, NULL, &e), 0);
    db_conn_release(c);
    run(f, now - 3600 * 1000, 1);
    assert_true(found(&f->r, DOCTOR_FAIL, "in the future", NULL));
    run(f, now, 1);
    assert_int_equal(f->r.fails, 0);
    /* no room where the SQLite database lives */
    run(f, now, UINT64_MAX);
    if (backend == DB_SQLITE)
        assert_true(found(&f->r, DOCTOR_FAIL, "MB free", NULL));
    else
        assert_int_equal(f->r.fails, 0); /* PostgreSQL's disk is the server's business */
}

static void test_database_problems(void **state)
{
    struct fixture *f = *state;
    /* a schema newer than this binary */
    struct db_conn *c = testdb_acquire(f->db);
    struct err e;
    err_init(&e);
    assert_int_equal(db_exec(c,
                             "INSERT INTO schema_migrations (version, name, applied_at) VALUES "
                             "(9999, 'from_the_future', '2026-12-01T00:00:00.000Z')",
                             &e),
                     0);
    db_conn_release(c);
    run_now(f);
    assert_true(found(&f->r, DOCTOR_FAIL, "newer than this binary", NULL));
    /* unreachable */
    if (backend == DB_SQLITE) {
        setenv("ICESHOP_DATABASE_URL", "sqlite:///nonexistent-dir/iceshop.db", 1);
        run_now(f);
        assert_true(found(&f->r, DOCTOR_FAIL, "/nonexistent-dir", "does not exist", NULL));
    } else {
        setenv("ICESHOP_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", 1);
        run_now(f);
        assert_true(found(&f->r, DOCTOR_FAIL, "cannot open the database", NULL));
    }
}

int main(void)
{
    struct err e;
    err_init(&e);
    if (sec_init(&e))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vars_cover_the_sources),
        cmocka_unit_test_setup_teardown(test_good_configuration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_configuration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_and_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_database_problems, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("doctor", tests, &backend) ? 1 : 0;
}
