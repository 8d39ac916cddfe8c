/* SPDX-License-Identifier: MIT */
/*
 * The durable job queue seen from outside: a failing job retried with growing delays and then
 * dead, fixed and retried by hand; a server killed with SIGKILL while jobs run loses none and
 * repeats none; two servers on one database run each periodic slot once, and leadership moves
 * when the leader dies. Runs on the backend TEST_BACKEND selects.
 */
#include "support/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define ADMIN HARNESS_ADMIN_KEY

static json_t *get_job(const struct server *s, long long id)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/jobs/%lld", id);
    struct resp r;
    assert_int_equal(http_get(s, path, ADMIN, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static long long enqueue(const struct server *s, const char *body)
{
    struct resp r;
    assert_int_equal(http_post_json(s, "/api/jobs", ADMIN, body, &r), 0);
    assert_int_equal(r.status, 202);
    long long id = (long long)json_integer_value(json_object_get(r.json, "id"));
    resp_free(&r);
    return id;
}

static long long iso_ms(const char *s)
{
    /* 2026-11-21T09:17:07.073Z: compare within a day is enough for delays */
    int h, m, sec, ms;
    if (!s || sscanf(s + 11, "%d:%d:%d.%dZ", &h, &m, &sec, &ms) != 4)
        return -1;
    return ((h * 60LL + m) * 60 + sec) * 1000 + ms;
}

static void test_retry_backoff_dead_and_manual_retry(void **state)
{
    (void)state;
    struct server s;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {"ICESHOP_JOB_BACKOFF_MS=200", NULL};
    assert_int_equal(server_start(&s, url, env), 0);

    /* unknown job names are refused */
    struct resp r;
    assert_int_equal(http_post_json(&s, "/api/jobs", ADMIN, "{\"name\":\"no.such\"}", &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "name");
    resp_free(&r);

    long long id = enqueue(&s, "{\"name\":\"test.switch\",\"max_attempts\":4}");
    /* Watch each failure: the delay it schedules (run_at - updated_at) must grow. */
    long long delays[8];
    int seen = 0, last_attempt = 0;
    const char *state_s = "";
    json_t *j = NULL;
    for (int i = 0; i < 400 && seen < 8; i++) {
        json_decref(j);
        j = get_job(&s, id);
        state_s = json_string_value(json_object_get(j, "state"));
        int attempts = (int)json_integer_value(json_object_get(j, "attempts"));
        if (strcmp(state_s, "pending") == 0 && attempts > last_attempt) {
            delays[seen++] = iso_ms(json_string_value(json_object_get(j, "run_at"))) -
                             iso_ms(json_string_value(json_object_get(j, "updated_at")));
            last_attempt = attempts;
        }
        if (strcmp(state_s, "dead") == 0)
            break;
        harness_sleep_ms(20);
    }
    assert_string_equal(state_s, "dead");
    assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 4);
    assert_non_null(strstr(json_string_value(json_object_get(j, "last_error")), "switch is off"));
    json_decref(j);
    assert_true(seen >= 2);
    for (int i = 1; i < seen; i++)
        assert_true(delays[i] >= delays[i - 1]);
    assert_true(delays[0] >= 100 && delays[0] <= 400);

    /* dead jobs are listed by state; retrying a job that is not dead is a conflict */
    assert_int_equal(http_get(&s, "/api/jobs?state=dead", ADMIN, &r), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 1);
    resp_free(&r);
    assert_int_equal(http_get(&s, "/api/jobs?state=zombie", ADMIN, &r), 0);
    assert_int_equal(r.status, 400);
    resp_free(&r);

    /* fix the cause, retry by hand: it runs again and succeeds */
    harness_db_exec(url, "INSERT INTO settings (name, value, updated_at) VALUES "
                         "('test.switch', 'on', '2026-01-01T00:00:00.000Z')");
    char path[64];
    snprintf(path, sizeof(path), "/api/jobs/%lld/retry", id);
    assert_int_equal(http_req(&s, "POST", path, ADMIN, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    for (int i = 0; i < 200; i++) {
        j = get_job(&s, id);
        bool done = strcmp(json_string_value(json_object_get(j, "state")), "done") == 0;
        json_decref(j);
        if (done)
            break;
        harness_sleep_ms(25);
    }
    j = get_job(&s, id);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "done");
    json_decref(j);
    assert_int_equal(http_req(&s, "POST", path, ADMIN, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 409);
    resp_free(&r);
    assert_int_equal(server_stop(&s), 0);
}

static long long runs_of(const char *url, long long id)
{
    char sql[128];
    snprintf(sql, sizeof(sql),
             "SELECT CAST(value AS INTEGER) FROM settings WHERE name = "
             "'test.run:%lld'",
             id);
    return harness_db_i64(url, sql);
}

static size_t count_done(const struct server *s)
{
    struct resp r;
    assert_int_equal(http_get(s, "/api/jobs?state=done&name=test.record&limit=1000", ADMIN, &r), 0);
    size_t n = json_array_size(json_object_get(r.json, "jobs"));
    resp_free(&r);
    return n;
}

static void test_sigkill_loses_nothing_repeats_nothing(void **state)
{
    (void)state;
    struct server s;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {"ICESHOP_JOB_LEASE=2", "ICESHOP_WORKERS=2", NULL};
    assert_int_equal(server_start(&s, url, env), 0);
    enum { N = 30 };
    long long ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = enqueue(&s, "{\"name\":\"test.record\",\"delay_s\":1,"
                             "\"payload\":{\"sleep_ms\":100}}");
    /* let some finish, then kill in the middle of the rest */
    WAIT_FOR(count_done(&s) >= 5, 20000);
    server_kill(&s);
    long long done_before = harness_db_i64(url, "SELECT COUNT(*) FROM jobs WHERE name = "
                                                "'test.record' AND state = 'done'");
    assert_true(done_before >= 5);
    assert_true(done_before < N);

    assert_int_equal(server_start(&s, url, env), 0);
    WAIT_FOR(count_done(&s) >= N, 30000);
    for (int i = 0; i < N; i++) {
        json_t *j = get_job(&s, ids[i]);
        assert_string_equal(json_string_value(json_object_get(j, "state")), "done");
        json_decref(j);
        assert_int_equal(runs_of(url, ids[i]), 1); /* exactly once, none lost */
    }
    assert_int_equal(server_stop(&s), 0);
}

static void test_sigterm_finishes_running_job(void **state)
{
    (void)state;
    struct server s;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    assert_int_equal(server_start(&s, url, NULL), 0);
    long long id = enqueue(&s, "{\"name\":\"test.record\",\"payload\":{\"sleep_ms\":1500}}");
    bool running = false;
    for (int i = 0; i < 200 && !running; i++) {
        json_t *j = get_job(&s, id);
        running = strcmp(json_string_value(json_object_get(j, "state")), "running") == 0;
        json_decref(j);
        if (!running)
            harness_sleep_ms(10);
    }
    assert_true(running);
    /* SIGTERM while the handler sleeps: the server waits for it, then exits cleanly. */
    assert_int_equal(server_stop(&s), 0);
    assert_int_equal(harness_db_i64(url, "SELECT COUNT(*) FROM jobs WHERE name = 'test.record' "
                                         "AND state = 'done'"),
                     1);
    assert_int_equal(runs_of(url, id), 1);
}

static bool is_leader(const struct server *s)
{
    struct resp r;
    if (http_get(s, "/health/detailed", NULL, &r) != 0) {
        resp_free(&r);
        return false;
    }
    json_t *l =
        json_object_get(json_object_get(json_object_get(r.json, "checks"), "scheduler"), "leader");
    bool v = json_is_true(l);
    resp_free(&r);
    return v;
}

static void test_two_servers_one_scheduler(void **state)
{
    (void)state;
    struct server a, b;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    assert_int_equal(server_start(&a, url, NULL), 0);
    assert_int_equal(server_start(&b, url, NULL), 0);
    const char *dup_sql = "SELECT COUNT(*) FROM (SELECT unique_key FROM jobs WHERE unique_key LIKE "
                          "'sched:test.tick:%' GROUP BY unique_key HAVING COUNT(*) > 1) d";
    const char *ticks_sql = "SELECT COUNT(*) FROM jobs WHERE unique_key LIKE 'sched:test.tick:%'";
    /* one of them leads and ticks; the other never does (checked on every poll) */
    bool la = false, lb = false;
    WAIT_FOR((la = is_leader(&a), lb = is_leader(&b), la != lb) &&
                 harness_db_i64(url, ticks_sql) >= 2,
             20000);
    assert_true(la != lb); /* exactly one */
    assert_int_equal(harness_db_i64(url, dup_sql), 0);
    long long before = harness_db_i64(url, ticks_sql);
    assert_true(before >= 2);

    struct server *leader = la ? &a : &b, *other = la ? &b : &a;
    server_kill(leader);
    WAIT_FOR(is_leader(other), 20000);
    assert_true(is_leader(other));
    WAIT_FOR(harness_db_i64(url, ticks_sql) > before, 20000);
    assert_true(harness_db_i64(url, ticks_sql) > before);
    assert_int_equal(harness_db_i64(url, dup_sql), 0);
    assert_int_equal(server_stop(other), 0);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_backoff_dead_and_manual_retry),
        cmocka_unit_test(test_sigkill_loses_nothing_repeats_nothing),
        cmocka_unit_test(test_two_servers_one_scheduler),
        cmocka_unit_test(test_sigterm_finishes_running_job),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, NULL, NULL);
}
