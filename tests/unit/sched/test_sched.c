/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/sched (sched.h): slot arithmetic, HH:MM validation, leader-only
 * enqueueing and takeover without repeating a slot. Runs on SQLite (temp file per test) and,
 * when TEST_PG_DSN is set, on PostgreSQL (a private schema per test). Manual clock.
 */
#include "core/arena.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "jobs/queue.h"
#include "sched/sched.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fx {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct clock clk;
};

static enum db_backend backend; /* set by testdb_run_groups */

/* 2026-01-01T00:00:00Z */
#define DAY0   1767225600000LL
#define DAY_MS 86400000LL
#define HOUR   3600000LL
#define MIN    60000LL

static int fx_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "sched", NULL);
    f->c = testdb_acquire(f->db);
    clock_manual_init(&f->clk, DAY0);
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    db_conn_release(f->c);
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static struct sched *new_sched(struct fx *f, struct clock *clk)
{
    struct err e;
    err_init(&e);
    struct sched_options o = {.leader_name = "test.sched", .tick_ms = 20};
    struct sched *s;
    if (sched_new(f->db, clk ? clk : &f->clk, &o, &s, &e))
        fail_msg("sched_new: %s", e.msg);
    return s;
}

static int tick(struct sched *s, int64_t now)
{
    struct err e;
    err_init(&e);
    int n = -1;
    if (sched_tick(s, now, &n, &e))
        fail_msg("sched_tick: %s", e.msg);
    return n;
}

/* All jobs, oldest first, from arena `a`. */
static struct job_row *all_jobs(struct fx *f, struct arena *a, size_t *n)
{
    struct err e;
    err_init(&e);
    struct job_filter flt = {.page = {.limit = JOBS_LIST_MAX_LIMIT}};
    struct job_row *rows;
    if (jobs_list(f->c, JOBS_ALL_TENANTS, true, &flt, a, &rows, n, &e))
        fail_msg("jobs_list: %s", e.msg);
    /* jobs_list is newest first; reverse. */
    for (size_t i = 0; i < *n / 2; i++) {
        struct job_row t = rows[i];
        rows[i] = rows[*n - 1 - i];
        rows[*n - 1 - i] = t;
    }
    return rows;
}

static void assert_unique_keys_distinct(struct job_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(rows[i].unique_key, rows[j].unique_key);
    }
}

static void test_validation(void **state)
{
    struct fx *f = *state;
    struct sched *s = new_sched(f, NULL);
    struct err e;
    static const char *bad[] = {"9:00",   "24:00", "12:60", "ab:cd", "12-00",
                                "12:00 ", "",      "1200",  "-1:00", "12:5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_init(&e);
        assert_int_equal(sched_daily(s, "d", bad[i], "j", NULL, &e), ERR_INVALID);
        assert_string_equal(e.field, "at");
        assert_non_null(strstr(e.msg, "HH:MM"));
    }
    err_init(&e);
    assert_int_equal(sched_daily(s, "d", NULL, "j", NULL, &e), ERR_INVALID);
    err_init(&e);
    assert_int_equal(sched_daily(s, "d0", "00:00", "j", NULL, &e), 0);
    assert_int_equal(sched_daily(s, "d1", "23:59", "j", NULL, &e), 0);
    assert_int_equal(sched_daily(s, "d1", "10:00", "j", NULL, &e), ERR_CONFLICT);
    err_init(&e);
    assert_int_equal(sched_every(s, "e", 0, "j", NULL, &e), ERR_INVALID);
    assert_string_equal(e.field, "interval");
    err_init(&e);
    assert_int_equal(sched_every(s, "", 10, "j", NULL, &e), ERR_INVALID);
    err_init(&e);
    assert_int_equal(sched_every(s, "e", 10, "", NULL, &e), ERR_INVALID);
    err_init(&e);
    assert_int_equal(sched_every(s, "e", 10, "j", NULL, &e), 0);
    sched_free(s);
}

static void test_every_once_per_slot(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    struct sched *s = new_sched(f, NULL);
    assert_int_equal(sched_every(s, "scan", 10, "flash.scan", "{\"k\":1}", &e), 0);
    int64_t t = DAY0 + 5000;
    assert_int_equal(tick(s, t), 1); /* the current slot [0, 10) at first sight */
    assert_true(sched_is_leader(s));
    assert_int_equal(tick(s, t + 1000), 0);
    assert_int_equal(tick(s, t + 4999), 0);
    assert_int_equal(tick(s, DAY0 + 10000), 1);
    assert_int_equal(tick(s, DAY0 + 10001), 0);
    assert_int_equal(tick(s, DAY0 + 19999), 0);
    /* Downtime over several slots: only the latest one. */
    assert_int_equal(tick(s, DAY0 + 55000), 1);
    assert_int_equal(tick(s, DAY0 + 59999), 0);

    struct arena a;
    arena_init(&a);
    size_t n;
    struct job_row *rows = all_jobs(f, &a, &n);
    assert_int_equal(n, 3);
    const int64_t slots[] = {DAY0, DAY0 + 10000, DAY0 + 50000};
    for (size_t i = 0; i < n; i++) {
        char key[96];
        snprintf(key, sizeof(key), "sched:scan:%lld", (long long)slots[i]);
        assert_string_equal(rows[i].unique_key, key);
        assert_int_equal(rows[i].run_at_ms, slots[i]);
        assert_string_equal(rows[i].name, "flash.scan");
        assert_string_equal(rows[i].payload, "{\"k\":1}");
        assert_int_equal(rows[i].tenant_id, 0);
    }
    arena_release(&a);
    sched_free(s);

    /* A restarted process does not repeat the slot the previous one enqueued. */
    s = new_sched(f, NULL);
    assert_int_equal(sched_every(s, "scan", 10, "flash.scan", "{\"k\":1}", &e), 0);
    assert_int_equal(tick(s, DAY0 + 59999), 0);
    assert_int_equal(tick(s, DAY0 + 60000), 1);
    sched_free(s);
}

static void test_daily_at_time(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    struct sched *s = new_sched(f, NULL);
    assert_int_equal(sched_daily(s, "report", "09:00", "intel.report", NULL, &e), 0);
    int64_t nine = DAY0 + 9 * HOUR;
    assert_int_equal(tick(s, nine - 30000), 0); /* a new task waits for its next 09:00 */
    assert_int_equal(tick(s, nine - 1), 0);
    assert_int_equal(tick(s, nine), 1);
    assert_int_equal(tick(s, nine + 1000), 0);
    assert_int_equal(tick(s, nine + HOUR), 0);
    assert_int_equal(tick(s, DAY0 + DAY_MS + 9 * HOUR - 1), 0);
    assert_int_equal(tick(s, DAY0 + DAY_MS + 9 * HOUR), 1);
    /* Down across day 3's 09:00: the missed run is enqueued once at 09:30. */
    assert_int_equal(tick(s, DAY0 + 2 * DAY_MS + 9 * HOUR + 30 * MIN), 1);
    assert_int_equal(tick(s, DAY0 + 2 * DAY_MS + 10 * HOUR), 0);

    struct arena a;
    arena_init(&a);
    size_t n;
    struct job_row *rows = all_jobs(f, &a, &n);
    assert_int_equal(n, 3);
    assert_int_equal(rows[0].run_at_ms, nine);
    assert_int_equal(rows[1].run_at_ms, nine + DAY_MS);
    assert_int_equal(rows[2].run_at_ms, nine + 2 * DAY_MS);
    assert_string_equal(rows[0].payload, "{}");
    assert_unique_keys_distinct(rows, n);
    arena_release(&a);
    sched_free(s);
}

static void test_two_schedulers_one_leader(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    struct sched *s1 = new_sched(f, NULL);
    struct sched *s2 = new_sched(f, NULL);
    assert_int_equal(sched_every(s1, "scan", 10, "flash.scan", NULL, &e), 0);
    assert_int_equal(sched_every(s2, "scan", 10, "flash.scan", NULL, &e), 0);
    assert_int_equal(sched_daily(s1, "report", "00:00", "intel.report", NULL, &e), 0);
    assert_int_equal(sched_daily(s2, "report", "00:00", "intel.report", NULL, &e), 0);

    int64_t t = DAY0 + 1000;
    assert_int_equal(tick(s1, t), 1);
    assert_int_equal(tick(s2, t), 0);
    assert_true(sched_is_leader(s1));
    assert_false(sched_is_leader(s2));
    for (int i = 1; i <= 5; i++) {
        t += 2000;
        assert_int_equal(tick(s2, t), 0);
        assert_int_equal(tick(s1, t), t % 10000 < 2000 ? 1 : 0);
        assert_false(sched_is_leader(s2));
    }
    /* t = DAY0 + 11000: slot 10000 enqueued by s1. The leader goes away. */
    sched_free(s1);
    assert_int_equal(tick(s2, t), 0); /* same slot: never again */
    assert_true(sched_is_leader(s2));
    assert_int_equal(tick(s2, t + 9000), 1);
    assert_int_equal(tick(s2, DAY0 + DAY_MS), 2); /* scan slot + the daily report */

    struct arena a;
    arena_init(&a);
    size_t n;
    struct job_row *rows = all_jobs(f, &a, &n);
    assert_int_equal(n, 5);
    assert_unique_keys_distinct(rows, n);
    arena_release(&a);
    sched_free(s2);
}

/* A leader that stops renewing (crash, not a clean free) is replaced once its lease is stale. */
static void test_stale_leader_replaced(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    struct sched *s1 = new_sched(f, NULL);
    struct sched *s2 = new_sched(f, NULL);
    assert_int_equal(sched_every(s1, "scan", 10, "flash.scan", NULL, &e), 0);
    assert_int_equal(sched_every(s2, "scan", 10, "flash.scan", NULL, &e), 0);
    assert_int_equal(tick(s1, DAY0), 1);
    assert_int_equal(tick(s2, DAY0 + 1000), 0);
    /*
     * s1 stops ticking. On SQLite s2 takes over after the 5 s lease TTL; on PostgreSQL the
     * advisory lock stays with s1's live session, so free s1 there (a dead process frees it).
     */
    if (backend == DB_POSTGRES)
        sched_free(s1);
    int64_t t = DAY0 + 2000;
    while (!sched_is_leader(s2) && t < DAY0 + 30000) {
        t += 1000;
        tick(s2, t);
    }
    assert_true(sched_is_leader(s2));
    assert_true(t <= DAY0 + 8000);
    assert_int_equal(tick(s2, DAY0 + 20000), 1);
    struct arena a;
    arena_init(&a);
    size_t n;
    struct job_row *rows = all_jobs(f, &a, &n);
    assert_unique_keys_distinct(rows, n);
    arena_release(&a);
    if (backend == DB_SQLITE)
        sched_free(s1);
    sched_free(s2);
}

static void test_thread_ticks(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    struct sched *s = new_sched(f, clock_system());
    assert_int_equal(sched_every(s, "scan", 1, "flash.scan", NULL, &e), 0);
    assert_int_equal(sched_start(s, &e), 0);
    assert_int_equal(sched_start(s, &e), ERR_CONFLICT);
    int64_t counts[JOB_STATE_COUNT] = {0};
    for (int i = 0; i < 300 && counts[JOB_STATE_PENDING] < 2; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
        err_init(&e);
        assert_int_equal(jobs_count_by_state(f->c, JOBS_ALL_TENANTS, counts, &e), 0);
    }
    assert_true(sched_is_leader(s));
    sched_stop(s);
    sched_stop(s);
    assert_true(counts[JOB_STATE_PENDING] >= 2);
    sched_free(s);
}

#define DB_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        DB_TEST(test_validation),
        DB_TEST(test_every_once_per_slot),
        DB_TEST(test_daily_at_time),
        DB_TEST(test_two_schedulers_one_leader),
        DB_TEST(test_stale_leader_replaced),
        DB_TEST(test_thread_ticks),
    };
    int failed = TESTDB_RUN_GROUPS("sched", tests, &backend);
    return failed ? 1 : 0;
}
