/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/jobs (queue.h, worker.h, retry.h). Every database test runs on SQLite (a
 * temp file per test) and, when TEST_PG_DSN is set, on PostgreSQL (a private schema per
 * test). Time comes from a manual clock unless a test needs real leases.
 */
#include "core/arena.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "jobs/queue.h"
#include "jobs/retry.h"
#include "jobs/worker.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------------------------------------------------------------- fixture */

/* A manual clock that worker threads may read while the test advances it. */
struct tclock {
    struct clock base;
    _Atomic int64_t now;
};

static int64_t tclock_now(struct clock *c)
{
    return atomic_load(&((struct tclock *)c)->now);
}

static void tclock_init(struct tclock *t, int64_t start)
{
    t->base.now_ms = tclock_now;
    t->base.fixed_ms = 0;
    atomic_store(&t->now, start);
}

static void tclock_set(struct tclock *t, int64_t ms)
{
    atomic_store(&t->now, ms);
}

struct fx {
    struct testdb t;
    struct db *db;
    struct db_conn *c; /* held by the test for its own queries */
    struct tclock clk;
    struct job_registry *reg;
    /*
     * Pools a test started and has not stopped: a failed assertion jumps out of the test, and
     * the teardown stops them before closing the database they use, so a failure is reported
     * as a failure instead of ending the binary.
     */
    struct job_workers *pools[8];
    int n_pools;
};

static enum db_backend backend; /* set by testdb_run_groups */

#define T0 1795000000000LL /* 2026-11-18, a fixed manual-clock start */

static int fx_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    *state = f;
    struct db_options opts = {.pool_size = 24};
    f->db = testdb_open_migrated(&f->t, backend, "jobs", &opts);
    f->c = testdb_acquire(f->db);
    tclock_init(&f->clk, T0);
    f->reg = job_registry_new();
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < f->n_pools; i++)
        job_workers_stop(f->pools[i], 1000);
    db_conn_release(f->c);
    db_close(f->db);
    job_registry_free(f->reg);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static struct job_workers *track(struct fx *f, struct job_workers *w)
{
    if (f->n_pools == (int)(sizeof(f->pools) / sizeof(f->pools[0])))
        fail_msg("too many pools in one test");
    f->pools[f->n_pools++] = w;
    return w;
}

static void stop_pool(struct fx *f, struct job_workers *w, int grace_ms)
{
    for (int i = 0; i < f->n_pools; i++) {
        if (f->pools[i] == w) {
            f->pools[i] = f->pools[--f->n_pools];
            break;
        }
    }
    job_workers_stop(w, grace_ms);
}

/*
 * A pool's counters once they reach the wanted values (each at least), waiting a bounded time:
 * a run is counted just after its result commits, so a test that saw the row change may read
 * the counters a moment before they move.
 */
static struct job_worker_stats wait_stats(struct job_workers *w, uint64_t succeeded,
                                          uint64_t retried, uint64_t dead, uint64_t unknown)
{
    struct job_worker_stats st;
    int64_t until = clock_mono_ms() + 10000;
    for (;;) {
        job_workers_stats(w, &st);
        if ((st.succeeded >= succeeded && st.retried >= retried && st.dead >= dead &&
             st.unknown_handler >= unknown) ||
            clock_mono_ms() >= until)
            return st;
        sleep_ms(2);
    }
}

static int64_t enqueue(struct fx *f, const char *name, const char *payload, int64_t tenant,
                       const char *key, int max_attempts, bool *deduped)
{
    struct err e;
    err_init(&e);
    struct job_spec spec = {.name = name,
                            .payload_json = payload,
                            .tenant_id = tenant,
                            .unique_key = key,
                            .max_attempts = max_attempts};
    int64_t id = 0;
    bool d = false;
    if (jobs_enqueue(f->c, &spec, tclock_now(&f->clk.base), &id, &d, &e))
        fail_msg("enqueue %s: %s", name, e.msg);
    if (deduped)
        *deduped = d;
    return id;
}

static struct job_row get_job(struct fx *f, int64_t id, struct arena *a)
{
    struct err e;
    err_init(&e);
    struct job_row r;
    if (jobs_get(f->c, JOBS_ALL_TENANTS, true, id, a, &r, &e))
        fail_msg("jobs_get %lld: %s", (long long)id, e.msg);
    return r;
}

static enum job_state job_state_of(struct fx *f, int64_t id)
{
    struct arena a;
    arena_init(&a);
    enum job_state s = get_job(f, id, &a).state;
    arena_release(&a);
    return s;
}

static int64_t count_state(struct fx *f, enum job_state s)
{
    struct err e;
    err_init(&e);
    int64_t counts[JOB_STATE_COUNT];
    if (jobs_count_by_state(f->c, JOBS_ALL_TENANTS, counts, &e))
        fail_msg("count: %s", e.msg);
    return counts[s];
}

/* Wait (real time) until job `id` reaches `want` with at least `attempts` attempts. */
static void wait_job(struct fx *f, int64_t id, enum job_state want, int attempts)
{
    for (int i = 0; i < 4000; i++) {
        struct arena a;
        arena_init(&a);
        struct job_row r = get_job(f, id, &a);
        arena_release(&a);
        if (r.state == want && r.attempts >= attempts)
            return;
        sleep_ms(5);
    }
    fail_msg("job %lld never reached %s", (long long)id, job_state_name(want));
}

static void wait_count(struct fx *f, enum job_state s, int64_t n)
{
    for (int i = 0; i < 12000; i++) {
        if (count_state(f, s) >= n)
            return;
        sleep_ms(5);
    }
    fail_msg("never reached %lld %s jobs", (long long)n, job_state_name(s));
}

static struct job_workers *start_pool(struct fx *f, struct clock *clk, int threads, int batch,
                                      int64_t lease_ms)
{
    struct err e;
    err_init(&e);
    struct job_workers_options o = {.threads = threads,
                                    .batch = batch,
                                    .poll_ms = 10,
                                    .lease_ms = lease_ms,
                                    .backoff_base_ms = 1000,
                                    .backoff_cap_ms = 60000};
    struct job_workers *w;
    if (job_workers_start(f->db, f->reg, clk ? clk : &f->clk.base, &o, &w, &e))
        fail_msg("start: %s", e.msg);
    return track(f, w);
}

static void exec_sql(struct fx *f, const char *sql)
{
    struct err e;
    err_init(&e);
    if (db_exec(f->c, sql, &e))
        fail_msg("%s: %s", sql, e.msg);
}

static int64_t add_tenant(struct fx *f, const char *name)
{
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    assert_int_equal(db_prepare(f->c, &s, "INSERT INTO tenants (name) VALUES (?) RETURNING id", &e),
                     0);
    db_bind_text(s, 1, name);
    assert_int_equal(db_step(s, &e), DB_ROW);
    int64_t id = db_col_i64(s, 0);
    db_stmt_done(s);
    return id;
}

/* ---------------------------------------------------------------- handlers */

/* Per-test counters; tests run one at a time. */
static _Atomic int runs_total;
static _Atomic int fail_mode; /* 1 = the "flaky" handler fails */
static int64_t seen_tenant;
static int seen_attempt;
static char seen_payload[64];
static _Atomic int handler_bad;

static int h_ok(struct job_ctx *ctx, struct err *e)
{
    (void)e;
    atomic_fetch_add(&runs_total, 1);
    seen_tenant = ctx->tenant_id;
    seen_attempt = ctx->attempt;
    snprintf(seen_payload, sizeof(seen_payload), "%s", ctx->payload);
    /* cmocka asserts must stay on the main thread: record problems instead. */
    if (!ctx->conn || db_in_transaction(ctx->conn) || !arena_strdup(ctx->arena, "scratch"))
        atomic_store(&handler_bad, 1);
    return 0;
}

static int h_flaky(struct job_ctx *ctx, struct err *e)
{
    (void)ctx;
    atomic_fetch_add(&runs_total, 1);
    if (atomic_load(&fail_mode))
        return err_set(e, ERR_UPSTREAM, "provider said no");
    return 0;
}

/* JOB_IN_TX: writes a side row, then fails when the payload says so. */
static int h_side(struct job_ctx *ctx, struct err *e)
{
    atomic_fetch_add(&runs_total, 1);
    if (!db_in_transaction(ctx->conn))
        atomic_store(&handler_bad, 1);
    struct db_stmt *s;
    int rc = db_prepare(ctx->conn, &s, "INSERT INTO side_effects (job_id) VALUES (?)", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, ctx->job_id);
    int st = db_step(s, e);
    db_stmt_done(s);
    if (st == DB_ERROR)
        return e->code;
    if (strstr(ctx->payload, "fail"))
        return err_set(e, ERR_INTERNAL, "failing after the write");
    return 0;
}

/* ---------------------------------------------------------------- pure tests */

static void test_backoff_table(void **state)
{
    (void)state;
    static const struct {
        int attempt;
        int64_t base, cap;
        uint32_t rnd;
        int64_t want;
    } cases[] = {
        {1, 1000, 3600000, 0, 500},            /* d=1000: [500,1000] */
        {1, 1000, 3600000, 500, 1000},         /* rnd % 501 = 500 → upper bound */
        {1, 1000, 3600000, 501, 500},          /* wraps */
        {2, 1000, 3600000, 0, 1000},           /* d=2000 */
        {3, 1000, 3600000, 0, 2000},           /* d=4000 */
        {3, 1000, 3600000, 2000, 4000},        /* d=4000 upper */
        {10, 1000, 3600000, 0, 256000},        /* d=512000 */
        {13, 1000, 3600000, 0, 1800000},       /* capped: d=3600000 */
        {13, 1000, 3600000, 1800000, 3600000}, /* capped upper */
        {1000, 1000, 3600000, 7, 1800007},     /* huge attempt: no overflow */
        {0, 1000, 3600000, 0, 500},            /* attempt < 1 counts as 1 */
        {-5, 1000, 3600000, 0, 500},
        {5, 0, 3600000, 99, 0},  /* no base → no delay */
        {5, 1000, 0, 99, 0},     /* zero cap */
        {3, 1000, 1500, 0, 750}, /* cap below d */
        {64, INT64_MAX / 4, INT64_MAX, 0, INT64_MAX - INT64_MAX / 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t got = job_backoff_ms(cases[i].attempt, cases[i].base, cases[i].cap, cases[i].rnd);
        if (got != cases[i].want)
            fail_msg("case %zu: attempt %d got %lld want %lld", i, cases[i].attempt, (long long)got,
                     (long long)cases[i].want);
    }
    /* Never shrinking: the least delay of attempt a+1 is at least the most of attempt a. */
    for (int a = 1; a < 30; a++) {
        int64_t d = a < 13 ? (1000LL << (a - 1)) : 3600000;
        if (d > 3600000)
            d = 3600000;
        int64_t most = job_backoff_ms(a, 1000, 3600000, (uint32_t)(d / 2));
        assert_int_equal(most, d);
        /* ...until the next attempt reaches the cap. */
        assert_true(job_backoff_ms(a + 1, 1000, 3600000, 0) >= most || 2 * d > 3600000);
        assert_true(job_backoff_ms(a + 1, 1000, 3600000, 0) >= d / 2);
    }
}

static void test_state_names(void **state)
{
    (void)state;
    for (int i = 0; i < JOB_STATE_COUNT; i++) {
        enum job_state s;
        assert_int_equal(job_state_parse(job_state_name((enum job_state)i), &s), 0);
        assert_int_equal(s, i);
    }
    enum job_state s;
    assert_int_equal(job_state_parse("Done", &s), ERR_INVALID);
    assert_int_equal(job_state_parse(NULL, &s), ERR_INVALID);
    assert_string_equal(job_state_name(JOB_STATE_COUNT), "unknown");
}

static void test_registry(void **state)
{
    (void)state;
    struct job_registry *r = job_registry_new();
    struct err e;
    err_init(&e);
    assert_int_equal(job_registry_add(r, "a", h_ok, NULL, 0, &e), 0);
    assert_int_equal(job_registry_add(r, "a", h_ok, NULL, 0, &e), ERR_CONFLICT);
    err_init(&e);
    assert_int_equal(job_registry_add(r, "", h_ok, NULL, 0, &e), ERR_INVALID);
    err_init(&e);
    assert_int_equal(job_registry_add(r, "b", NULL, NULL, 0, &e), ERR_INVALID);
    err_init(&e);
    assert_int_equal(job_registry_add(r, "c", h_ok, NULL, 0x80, &e), ERR_INVALID);
    job_registry_free(r);
}

/* ---------------------------------------------------------------- queue + workers */

static void test_enqueue_and_run(void **state)
{
    struct fx *f = *state;
    atomic_store(&runs_total, 0);
    struct err e;
    err_init(&e);
    assert_int_equal(job_registry_add(f->reg, "t.ok", h_ok, NULL, 0, &e), 0);
    int64_t tenant = add_tenant(f, "acme");
    int64_t id = enqueue(f, "t.ok", "{\"x\":1}", tenant, NULL, 0, NULL);
    assert_true(id > 0);

    struct arena a;
    arena_init(&a);
    struct job_row r = get_job(f, id, &a);
    assert_int_equal(r.state, JOB_STATE_PENDING);
    assert_int_equal(r.max_attempts, JOB_DEFAULT_MAX_ATTEMPTS);
    assert_int_equal(r.run_at_ms, T0);
    assert_int_equal(r.created_at_ms, T0);
    assert_int_equal(r.tenant_id, tenant);
    assert_null(r.unique_key);
    arena_release(&a);

    struct job_workers *w = start_pool(f, NULL, 2, 8, 0);
    job_workers_wake(w);
    wait_job(f, id, JOB_STATE_DONE, 1);
    struct job_worker_stats st = wait_stats(w, 1, 0, 0, 0);
    stop_pool(f, w, 1000);
    assert_int_equal(st.succeeded, 1);
    assert_int_equal(st.threads, 2);
    assert_int_equal(atomic_load(&runs_total), 1);
    assert_int_equal(seen_tenant, tenant);
    assert_int_equal(seen_attempt, 1);
    assert_string_equal(seen_payload, "{\"x\":1}");
    assert_int_equal(atomic_load(&handler_bad), 0);

    arena_init(&a);
    r = get_job(f, id, &a);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(r.finished_at_ms, T0);
    assert_int_equal(r.lease_until_ms, 0);
    assert_null(r.last_error);
    assert_non_null(r.locked_by);
    arena_release(&a);

    /* A job due later is not run early. */
    struct job_spec later = {.name = "t.ok", .run_at_ms = T0 + 60000};
    int64_t id2;
    assert_int_equal(jobs_enqueue(f->c, &later, T0, &id2, NULL, &e), 0);
    w = start_pool(f, NULL, 1, 8, 0);
    sleep_ms(100);
    assert_int_equal(job_state_of(f, id2), JOB_STATE_PENDING);
    tclock_set(&f->clk, T0 + 60000);
    job_workers_wake(w);
    wait_job(f, id2, JOB_STATE_DONE, 1);
    stop_pool(f, w, 1000);
}

static void test_enqueue_rolled_back(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    assert_int_equal(db_begin(f->c, &e), 0);
    int64_t id = enqueue(f, "t.ok", NULL, 0, "k-rb", 0, NULL);
    assert_true(id > 0);
    db_rollback(f->c);
    for (int s = 0; s < JOB_STATE_COUNT; s++)
        assert_int_equal(count_state(f, (enum job_state)s), 0);
    /* The key is free again. */
    bool deduped = true;
    enqueue(f, "t.ok", NULL, 0, "k-rb", 0, &deduped);
    assert_false(deduped);
    /* Committed with the caller's transaction. */
    assert_int_equal(db_begin(f->c, &e), 0);
    enqueue(f, "t.ok", NULL, 0, NULL, 0, NULL);
    assert_int_equal(db_commit(f->c, &e), 0);
    assert_int_equal(count_state(f, JOB_STATE_PENDING), 2);
}

/* An enqueue wakes idle pools when its transaction commits, not before and not at the next poll. */
static void test_commit_wakes_workers(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    assert_int_equal(job_registry_add(f->reg, "t.ok", h_ok, NULL, 0, &e), 0);
    struct job_workers_options o = {.threads = 1, .poll_ms = 60000};
    struct job_workers *w;
    assert_int_equal(job_workers_start(f->db, f->reg, &f->clk.base, &o, &w, &e), 0);
    track(f, w);
    sleep_ms(200); /* its first claim found nothing: idle until the next poll, a minute away */

    assert_int_equal(db_begin(f->c, &e), 0);
    int64_t id = enqueue(f, "t.ok", NULL, 0, NULL, 0, NULL);
    sleep_ms(200);
    assert_int_equal(db_commit(f->c, &e), 0);
    int64_t t0 = clock_mono_ms();
    while (job_state_of(f, id) != JOB_STATE_DONE && clock_mono_ms() - t0 < 20000)
        sleep_ms(5);
    assert_int_equal(job_state_of(f, id), JOB_STATE_DONE);

    /* a rolled-back enqueue wakes nobody and leaves nothing */
    assert_int_equal(db_begin(f->c, &e), 0);
    enqueue(f, "t.ok", NULL, 0, NULL, 0, NULL);
    db_rollback(f->c);
    assert_int_equal(count_state(f, JOB_STATE_PENDING), 0);
    stop_pool(f, w, 1000);
}

static void test_enqueue_invalid(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    struct job_spec bad = {.name = ""};
    assert_int_equal(jobs_enqueue(f->c, &bad, T0, NULL, NULL, &e), ERR_INVALID);
    assert_string_equal(e.field, "name");
    err_init(&e);
    struct job_spec bad2 = {.name = "x", .max_attempts = -1};
    assert_int_equal(jobs_enqueue(f->c, &bad2, T0, NULL, NULL, &e), ERR_INVALID);
    err_init(&e);
    struct job_spec no_tenant = {.name = "x", .tenant_id = 987654};
    assert_int_equal(jobs_enqueue(f->c, &no_tenant, T0, NULL, NULL, &e), ERR_CONFLICT);
    assert_false(db_in_transaction(f->c));
}

static void test_unique_dedupe(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    assert_int_equal(job_registry_add(f->reg, "t.ok", h_ok, NULL, 0, &e), 0);
    bool deduped = true;
    int64_t id1 = enqueue(f, "t.ok", "{}", 0, "order:42", 0, &deduped);
    assert_false(deduped);
    int64_t id2 = enqueue(f, "t.ok", "{\"other\":1}", 0, "order:42", 0, &deduped);
    assert_true(deduped);
    assert_int_equal(id2, id1);
    /* A different key is a different job. */
    int64_t id3 = enqueue(f, "t.ok", "{}", 0, "order:43", 0, &deduped);
    assert_false(deduped);
    assert_int_not_equal(id3, id1);
    assert_int_equal(count_state(f, JOB_STATE_PENDING), 2);

    /* Dedupe inside a transaction too (the outbox case). */
    assert_int_equal(db_begin(f->c, &e), 0);
    int64_t id4 = enqueue(f, "t.ok", "{}", 0, "order:42", 0, &deduped);
    assert_true(deduped);
    assert_int_equal(id4, id1);
    assert_int_equal(db_commit(f->c, &e), 0);

    struct job_workers *w = start_pool(f, NULL, 2, 8, 0);
    wait_job(f, id1, JOB_STATE_DONE, 1);
    wait_job(f, id3, JOB_STATE_DONE, 1);
    stop_pool(f, w, 1000);

    int64_t id5 = enqueue(f, "t.ok", "{}", 0, "order:42", 0, &deduped);
    assert_false(deduped);
    assert_true(id5 > id3);
    struct arena a;
    arena_init(&a);
    assert_string_equal(get_job(f, id5, &a).unique_key, "order:42");
    arena_release(&a);
}

static void test_retry_backoff_dead_then_retry(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    atomic_store(&runs_total, 0);
    atomic_store(&fail_mode, 1);
    assert_int_equal(job_registry_add(f->reg, "t.flaky", h_flaky, NULL, 0, &e), 0);
    int64_t tenant = add_tenant(f, "t1");
    int64_t id = enqueue(f, "t.flaky", "{}", tenant, NULL, 4, NULL);
    struct job_workers *w = start_pool(f, NULL, 2, 8, 0);

    int64_t gaps[3];
    for (int attempt = 1; attempt <= 3; attempt++) {
        wait_job(f, id, JOB_STATE_PENDING, attempt);
        struct arena a;
        arena_init(&a);
        struct job_row r = get_job(f, id, &a);
        assert_int_equal(r.attempts, attempt);
        assert_non_null(r.last_error);
        assert_non_null(strstr(r.last_error, "provider said no"));
        int64_t now = tclock_now(&f->clk.base);
        gaps[attempt - 1] = r.run_at_ms - now;
        /* Within the documented jitter band: [d/2, d], d = 1000 * 2^(attempt-1). */
        int64_t d = 1000LL << (attempt - 1);
        assert_true(gaps[attempt - 1] >= d - d / 2 && gaps[attempt - 1] <= d);
        arena_release(&a);
        /* Not yet due: nothing runs. */
        tclock_set(&f->clk, r.run_at_ms - 1);
        job_workers_wake(w);
        sleep_ms(30);
        assert_int_equal(atomic_load(&runs_total), attempt);
        tclock_set(&f->clk, r.run_at_ms);
        job_workers_wake(w);
    }
    assert_true(gaps[1] >= gaps[0]);
    assert_true(gaps[2] >= gaps[1]);
    assert_true(gaps[2] > gaps[0]);

    wait_job(f, id, JOB_STATE_DEAD, 4);
    struct arena a;
    arena_init(&a);
    struct job_row r = get_job(f, id, &a);
    assert_int_equal(r.attempts, 4);
    assert_true(r.finished_at_ms > 0);
    assert_non_null(strstr(r.last_error, "upstream"));
    arena_release(&a);
    struct job_worker_stats st = wait_stats(w, 0, 3, 1, 0);
    assert_int_equal(st.retried, 3);
    assert_int_equal(st.dead, 1);
    assert_int_equal(atomic_load(&runs_total), 4);

    /* Retry: other tenants cannot, non-dead jobs cannot. */
    int64_t other = add_tenant(f, "t2");
    assert_int_equal(jobs_retry(f->c, other, true, id, T0, &e), ERR_NOT_FOUND);
    atomic_store(&fail_mode, 0);
    err_init(&e);
    int64_t now = tclock_now(&f->clk.base);
    assert_int_equal(jobs_retry(f->c, tenant, false, id, now, &e), 0);
    assert_int_equal(jobs_retry(f->c, tenant, false, id, now, &e), ERR_CONFLICT);
    job_workers_wake(w);
    wait_job(f, id, JOB_STATE_DONE, 1);
    arena_init(&a);
    r = get_job(f, id, &a);
    assert_int_equal(r.attempts, 1);
    arena_release(&a);
    stop_pool(f, w, 1000);
    assert_int_equal(atomic_load(&runs_total), 5);
}

static void test_unknown_handler_dead(void **state)
{
    struct fx *f = *state;
    int64_t id = enqueue(f, "t.nobody", "{}", 0, NULL, 3, NULL);
    struct job_workers *w = start_pool(f, NULL, 1, 8, 0);
    wait_job(f, id, JOB_STATE_DEAD, 1);
    struct job_worker_stats st = wait_stats(w, 0, 0, 0, 1);
    stop_pool(f, w, 1000);
    assert_int_equal(st.unknown_handler, 1);
    struct arena a;
    arena_init(&a);
    struct job_row r = get_job(f, id, &a);
    assert_non_null(strstr(r.last_error, "no handler registered for job name 't.nobody'"));
    arena_release(&a);
}

static void set_running(struct fx *f, int64_t id, int64_t lease_until, const char *by)
{
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    assert_int_equal(db_prepare(f->c, &s,
                                "UPDATE jobs SET state = 'running', attempts = attempts + 1, "
                                "lease_until = ?, locked_by = ? WHERE id = ?",
                                &e),
                     0);
    db_bind_time(s, 1, lease_until);
    db_bind_text(s, 2, by);
    db_bind_i64(s, 3, id);
    assert_int_equal(db_step(s, &e), DB_DONE);
    db_stmt_done(s);
}

static void test_expired_lease_recovered_once(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    atomic_store(&runs_total, 0);
    assert_int_equal(job_registry_add(f->reg, "t.ok", h_ok, NULL, 0, &e), 0);
    int64_t crashed = enqueue(f, "t.ok", "{}", 0, NULL, 0, NULL);
    int64_t held = enqueue(f, "t.ok", "{}", 0, NULL, 0, NULL);
    set_running(f, crashed, T0 - 1000, "crashed-worker");
    set_running(f, held, T0 + 60000, "busy-worker");

    struct job_workers *w = start_pool(f, NULL, 2, 8, 0);
    wait_job(f, crashed, JOB_STATE_DONE, 2);
    sleep_ms(50);
    stop_pool(f, w, 1000);
    assert_int_equal(atomic_load(&runs_total), 1);
    assert_int_equal(job_state_of(f, held), JOB_STATE_RUNNING);
    struct arena a;
    arena_init(&a);
    struct job_row r = get_job(f, crashed, &a);
    assert_int_equal(r.attempts, 2);
    assert_string_not_equal(r.locked_by, "crashed-worker");
    arena_release(&a);

    /* A job whose lease keeps expiring goes dead instead of looping forever. */
    int64_t poison = enqueue(f, "t.ok", "{}", 0, NULL, 1, NULL);
    set_running(f, poison, T0 - 1, "crashed-worker");
    w = start_pool(f, NULL, 1, 8, 0);
    wait_job(f, poison, JOB_STATE_DEAD, 2);
    stop_pool(f, w, 1000);
    assert_int_equal(atomic_load(&runs_total), 1);
}

static int64_t count_side(struct fx *f, int64_t job_id)
{
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    assert_int_equal(db_prepare(f->c, &s, "SELECT COUNT(*) FROM side_effects WHERE job_id = ?", &e),
                     0);
    db_bind_i64(s, 1, job_id);
    assert_int_equal(db_step(s, &e), DB_ROW);
    int64_t n = db_col_i64(s, 0);
    db_stmt_done(s);
    return n;
}

static void test_in_tx_commits_and_rolls_back_together(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    exec_sql(f, "CREATE TABLE side_effects (job_id BIGINT NOT NULL)");
    assert_int_equal(job_registry_add(f->reg, "t.side", h_side, NULL, JOB_IN_TX, &e), 0);
    int64_t good = enqueue(f, "t.side", "{}", 0, NULL, 0, NULL);
    int64_t bad = enqueue(f, "t.side", "{\"mode\":\"fail\"}", 0, NULL, 2, NULL);

    struct job_workers *w = start_pool(f, NULL, 2, 8, 0);
    wait_job(f, good, JOB_STATE_DONE, 1);
    wait_job(f, bad, JOB_STATE_PENDING, 1);
    struct arena a;
    arena_init(&a);
    struct job_row r = get_job(f, bad, &a);
    tclock_set(&f->clk, r.run_at_ms);
    arena_release(&a);
    job_workers_wake(w);
    wait_job(f, bad, JOB_STATE_DEAD, 2);
    struct job_worker_stats st = wait_stats(w, 1, 1, 1, 0);
    stop_pool(f, w, 1000);

    assert_int_equal(count_side(f, good), 1);
    assert_int_equal(count_side(f, bad), 0); /* both runs rolled back */
    assert_int_equal(atomic_load(&handler_bad), 0);
    assert_int_equal(st.succeeded, 1);
    assert_int_equal(st.retried, 1);
    assert_int_equal(st.dead, 1);
    arena_init(&a);
    assert_non_null(strstr(get_job(f, bad, &a).last_error, "failing after the write"));
    arena_release(&a);
}

static void set_finished(struct fx *f, int64_t id, const char *state, int64_t at)
{
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    assert_int_equal(
        db_prepare(f->c, &s, "UPDATE jobs SET state = ?, finished_at = ? WHERE id = ?", &e), 0);
    db_bind_text(s, 1, state);
    db_bind_time(s, 2, at);
    db_bind_i64(s, 3, id);
    assert_int_equal(db_step(s, &e), DB_DONE);
    db_stmt_done(s);
}

static void test_prune(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    int64_t old_done = enqueue(f, "t.ok", NULL, 0, NULL, 0, NULL);
    int64_t old_dead = enqueue(f, "t.ok", NULL, 0, NULL, 0, NULL);
    int64_t new_done = enqueue(f, "t.ok", NULL, 0, NULL, 0, NULL);
    int64_t pending = enqueue(f, "t.ok", NULL, 0, NULL, 0, NULL);
    int64_t running = enqueue(f, "t.ok", NULL, 0, NULL, 0, NULL);
    set_finished(f, old_done, "done", T0 - 10 * 86400000LL);
    set_finished(f, old_dead, "dead", T0 - 8 * 86400000LL);
    set_finished(f, new_done, "done", T0 - 3600000);
    set_running(f, running, T0 - 10 * 86400000LL, "w");
    int64_t deleted = -1;
    assert_int_equal(jobs_prune(f->c, T0 - 7 * 86400000LL, &deleted, &e), 0);
    assert_int_equal(deleted, 2);
    struct arena a;
    arena_init(&a);
    struct job_row r;
    assert_int_equal(jobs_get(f->c, JOBS_ALL_TENANTS, true, old_done, &a, &r, &e), ERR_NOT_FOUND);
    err_init(&e);
    assert_int_equal(jobs_get(f->c, JOBS_ALL_TENANTS, true, old_dead, &a, &r, &e), ERR_NOT_FOUND);
    err_init(&e);
    arena_release(&a);
    assert_int_equal(job_state_of(f, new_done), JOB_STATE_DONE);
    assert_int_equal(job_state_of(f, pending), JOB_STATE_PENDING);
    assert_int_equal(job_state_of(f, running), JOB_STATE_RUNNING);
    /* Inside a caller's transaction too. */
    assert_int_equal(db_begin(f->c, &e), 0);
    assert_int_equal(jobs_prune(f->c, T0, &deleted, &e), 0);
    assert_int_equal(deleted, 1);
    db_rollback(f->c);
    assert_int_equal(job_state_of(f, new_done), JOB_STATE_DONE);
}

static void test_list_filters_and_tenants(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    int64_t ta = add_tenant(f, "a");
    int64_t tb = add_tenant(f, "b");
    int64_t a_ids[3];
    for (int i = 0; i < 3; i++)
        a_ids[i] = enqueue(f, i == 2 ? "mail.send" : "pdf.render", "{}", ta, NULL, 0, NULL);
    int64_t b1 = enqueue(f, "pdf.render", "{}", tb, NULL, 0, NULL);
    enqueue(f, "pdf.render", "{}", tb, NULL, 0, NULL);
    int64_t sys = enqueue(f, "sys.prune", "{}", 0, NULL, 0, NULL);
    set_finished(f, a_ids[0], "dead", T0);

    struct arena a;
    arena_init(&a);
    struct job_row *rows;
    size_t n;
    assert_int_equal(jobs_list(f->c, ta, false, NULL, &a, &rows, &n, &e), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rows[i].tenant_id, ta);
    assert_true(rows[0].id > rows[1].id && rows[1].id > rows[2].id); /* newest first */

    assert_int_equal(jobs_list(f->c, ta, true, NULL, &a, &rows, &n, &e), 0);
    assert_int_equal(n, 4);
    assert_int_equal(rows[0].id, sys);
    assert_int_equal(rows[0].tenant_id, 0);

    assert_int_equal(jobs_list(f->c, tb, false, NULL, &a, &rows, &n, &e), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rows[i].tenant_id, tb);

    assert_int_equal(jobs_list(f->c, 0, true, NULL, &a, &rows, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(jobs_list(f->c, JOBS_ALL_TENANTS, false, NULL, &a, &rows, &n, &e), 0);
    assert_int_equal(n, 6);

    struct job_filter byname = {.name = "mail.send"};
    assert_int_equal(jobs_list(f->c, ta, true, &byname, &a, &rows, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, a_ids[2]);
    assert_string_equal(rows[0].name, "mail.send");
    assert_string_equal(rows[0].payload, "{}");

    struct job_filter bystate = {.state = "dead"};
    assert_int_equal(jobs_list(f->c, ta, false, &bystate, &a, &rows, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, a_ids[0]);
    assert_int_equal(rows[0].state, JOB_STATE_DEAD);
    assert_int_equal(jobs_list(f->c, tb, false, &bystate, &a, &rows, &n, &e), 0);
    assert_int_equal(n, 0);

    /* Keyset pagination. */
    struct job_filter page = {.page = {.limit = 2}};
    assert_int_equal(jobs_list(f->c, JOBS_ALL_TENANTS, true, &page, &a, &rows, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].id, sys);
    int64_t seen = 2;
    while (n == 2) {
        page.page.after = rows[n - 1].id;
        assert_int_equal(jobs_list(f->c, JOBS_ALL_TENANTS, true, &page, &a, &rows, &n, &e), 0);
        for (size_t i = 0; i < n; i++)
            assert_true(rows[i].id < page.page.after);
        seen += (int64_t)n;
    }
    assert_int_equal(seen, 6);

    struct job_filter bad = {.state = "sleeping"};
    assert_int_equal(jobs_list(f->c, ta, false, &bad, &a, &rows, &n, &e), ERR_INVALID);
    assert_string_equal(e.field, "state");
    err_init(&e);

    /* get/retry never cross tenants. */
    struct job_row r;
    assert_int_equal(jobs_get(f->c, tb, true, a_ids[1], &a, &r, &e), ERR_NOT_FOUND);
    err_init(&e);
    assert_int_equal(jobs_get(f->c, ta, false, sys, &a, &r, &e), ERR_NOT_FOUND);
    err_init(&e);
    assert_int_equal(jobs_get(f->c, ta, true, sys, &a, &r, &e), 0);
    assert_int_equal(jobs_get(f->c, tb, false, b1, &a, &r, &e), 0);
    assert_int_equal(r.tenant_id, tb);
    assert_int_equal(jobs_retry(f->c, tb, true, a_ids[0], T0, &e), ERR_NOT_FOUND);
    err_init(&e);
    assert_int_equal(jobs_retry(f->c, ta, false, a_ids[1], T0, &e), ERR_CONFLICT);
    err_init(&e);
    assert_int_equal(jobs_retry(f->c, ta, false, a_ids[0], T0, &e), 0);
    assert_int_equal(job_state_of(f, a_ids[0]), JOB_STATE_PENDING);
    arena_release(&a);
}

/* ---------------------------------------------------------------- concurrency */

#define MANY 500
static _Atomic int per_job[MANY];
static int64_t first_id;

static int h_count(struct job_ctx *ctx, struct err *e)
{
    (void)e;
    int64_t i = ctx->job_id - first_id;
    if (i < 0 || i >= MANY)
        atomic_store(&handler_bad, 1);
    else
        atomic_fetch_add(&per_job[i], 1);
    return 0;
}

static void test_two_pools_never_double_run(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    assert_int_equal(job_registry_add(f->reg, "t.count", h_count, NULL, 0, &e), 0);
    for (int i = 0; i < MANY; i++)
        atomic_store(&per_job[i], 0);
    struct job_workers *w1 = start_pool(f, NULL, 4, 16, 0);
    struct job_workers *w2 = start_pool(f, NULL, 4, 16, 0);
    /* Enqueue while both pools poll, in chunks, so claims race with inserts. */
    assert_int_equal(db_begin(f->c, &e), 0);
    first_id = enqueue(f, "t.count", "{}", 0, NULL, 0, NULL);
    for (int i = 1; i < 100; i++)
        enqueue(f, "t.count", "{}", 0, NULL, 0, NULL);
    assert_int_equal(db_commit(f->c, &e), 0);
    for (int chunk = 1; chunk < MANY / 100; chunk++) {
        assert_int_equal(db_begin(f->c, &e), 0);
        for (int i = 0; i < 100; i++)
            enqueue(f, "t.count", "{}", 0, NULL, 0, NULL);
        assert_int_equal(db_commit(f->c, &e), 0);
        job_workers_wake(w1);
        job_workers_wake(w2);
    }
    wait_count(f, JOB_STATE_DONE, MANY);
    /*
     * A run counts as succeeded just after its commit, so the last counters may trail the
     * rows by a moment: wait for them (bounded) rather than read them once.
     */
    struct job_worker_stats s1, s2;
    int64_t until = clock_mono_ms() + 10000;
    for (;;) {
        job_workers_stats(w1, &s1);
        job_workers_stats(w2, &s2);
        if (s1.succeeded + s2.succeeded >= MANY || clock_mono_ms() >= until)
            break;
        struct timespec nap = {0, 1000000};
        nanosleep(&nap, NULL);
    }
    stop_pool(f, w1, 1000);
    stop_pool(f, w2, 1000);
    for (int i = 0; i < MANY; i++) {
        if (atomic_load(&per_job[i]) != 1)
            fail_msg("job %d ran %d times", i, atomic_load(&per_job[i]));
    }
    assert_int_equal(s1.succeeded + s2.succeeded, MANY);
    assert_int_equal(atomic_load(&handler_bad), 0);
}

static int h_slow(struct job_ctx *ctx, struct err *e)
{
    (void)e;
    atomic_fetch_add(&runs_total, 1);
    for (int i = 0; i < 200 && !job_ctx_cancelled(ctx); i++)
        sleep_ms(10);
    return 0;
}

/*
 * With real time and a 1 s lease, a 2 s job is not stolen by a second pool: its lease is renewed
 * (every lease/3). The margin is wide because loaded CI machines delay threads.
 */
static void test_heartbeat_keeps_long_job(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    atomic_store(&runs_total, 0);
    assert_int_equal(job_registry_add(f->reg, "t.slow", h_slow, NULL, 0, &e), 0);
    int64_t now = clock_now_ms(clock_system());
    struct job_spec spec = {.name = "t.slow"};
    int64_t id;
    assert_int_equal(jobs_enqueue(f->c, &spec, now, &id, NULL, &e), 0);
    struct job_workers *w1 = start_pool(f, clock_system(), 1, 4, 1000);
    for (int i = 0; i < 400 && atomic_load(&runs_total) == 0; i++)
        sleep_ms(5);
    struct job_workers *w2 = start_pool(f, clock_system(), 1, 4, 1000);
    wait_job(f, id, JOB_STATE_DONE, 1);
    stop_pool(f, w1, 3000);
    stop_pool(f, w2, 3000);
    assert_int_equal(atomic_load(&runs_total), 1);
    struct arena a;
    arena_init(&a);
    assert_int_equal(get_job(f, id, &a).attempts, 1);
    arena_release(&a);
}

static int h_block(struct job_ctx *ctx, struct err *e)
{
    atomic_fetch_add(&runs_total, 1);
    while (!job_ctx_cancelled(ctx))
        sleep_ms(5);
    return err_set(e, ERR_TIMEOUT, "cancelled");
}

/* Stop: claimed-but-unstarted jobs go back to pending; an overrunning job keeps its claim. */
static void test_stop_releases_and_abandons(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    atomic_store(&runs_total, 0);
    assert_int_equal(job_registry_add(f->reg, "t.block", h_block, NULL, 0, &e), 0);
    int64_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = enqueue(f, "t.block", "{}", 0, NULL, 0, NULL);
    struct job_workers *w = start_pool(f, NULL, 1, 8, 0);
    for (int i = 0; i < 400 && atomic_load(&runs_total) == 0; i++)
        sleep_ms(5);
    sleep_ms(50);
    stop_pool(f, w, 100);
    assert_int_equal(atomic_load(&runs_total), 1);
    int running = 0, pending = 0;
    struct arena a;
    arena_init(&a);
    for (int i = 0; i < 3; i++) {
        struct job_row r = get_job(f, ids[i], &a);
        if (r.state == JOB_STATE_RUNNING) {
            running++;
            assert_int_equal(r.attempts, 1);
        } else {
            assert_int_equal(r.state, JOB_STATE_PENDING);
            assert_int_equal(r.attempts, 0);
            assert_null(r.locked_by);
            pending++;
        }
    }
    arena_release(&a);
    assert_int_equal(running, 1);
    assert_int_equal(pending, 2);
}

/* ---------------------------------------------------------------- lanes */

static _Atomic int lane_release; /* 1: slow handlers may return */
static _Atomic int lane_slow_running;
static _Atomic int lane_wrong_pool; /* a job ran in a pool not serving its lane */
static struct job_workers *_Atomic lane_default_pool, *_Atomic lane_slow_pool;

static int h_lane_slow(struct job_ctx *ctx, struct err *e)
{
    (void)e;
    if (ctx->pool != atomic_load(&lane_slow_pool))
        atomic_store(&lane_wrong_pool, 1);
    atomic_fetch_add(&lane_slow_running, 1);
    for (int i = 0; i < 2000 && !atomic_load(&lane_release) && !job_ctx_cancelled(ctx); i++)
        sleep_ms(5);
    atomic_fetch_sub(&lane_slow_running, 1);
    return 0;
}

static int h_lane_fast(struct job_ctx *ctx, struct err *e)
{
    (void)e;
    if (ctx->pool != atomic_load(&lane_default_pool))
        atomic_store(&lane_wrong_pool, 1);
    return 0;
}

static void test_lanes_registry(void **state)
{
    (void)state;
    struct job_registry *reg = job_registry_new();
    struct err e;
    err_init(&e);
    assert_int_equal(job_registry_add(reg, "t.slow", h_lane_slow, NULL, 0, &e), 0);
    assert_int_equal(job_registry_add(reg, "t.pdf", h_lane_slow, NULL, 0, &e), 0);
    assert_int_equal(job_registry_add(reg, "t.fast", h_lane_fast, NULL, 0, &e), 0);
    const char *lanes[4];
    assert_int_equal(job_registry_lanes(reg, lanes, 4), 0);
    assert_int_equal(job_registry_set_lane(reg, "t.slow", "slow", &e), 0);
    assert_int_equal(job_registry_set_lane(reg, "t.pdf", "pdf", &e), 0);
    assert_string_equal(job_registry_lane_of(reg, "t.slow"), "slow");
    assert_string_equal(job_registry_lane_of(reg, "t.fast"), JOB_LANE_DEFAULT);
    assert_string_equal(job_registry_lane_of(reg, "no.such"), JOB_LANE_DEFAULT);
    assert_int_equal(job_registry_lanes(reg, lanes, 4), 2);
    assert_string_equal(lanes[0], "slow");
    assert_string_equal(lanes[1], "pdf");
    assert_int_equal(job_registry_lanes(reg, lanes, 1), 2); /* counts past max */
    assert_int_equal(job_registry_set_lane(reg, "t.pdf", JOB_LANE_DEFAULT, &e), 0);
    assert_string_equal(job_registry_lane_of(reg, "t.pdf"), JOB_LANE_DEFAULT);
    assert_int_equal(job_registry_lanes(reg, lanes, 4), 1);

    assert_int_equal(job_registry_set_lane(reg, "t.fast", "Not a lane", &e), ERR_INVALID);
    assert_string_equal(e.field, "lane");
    err_init(&e);
    assert_int_equal(job_registry_set_lane(reg, "t.fast", "", &e), ERR_INVALID);
    err_init(&e);
    assert_int_equal(job_registry_set_lane(reg, "no.such", "slow", &e), ERR_NOT_FOUND);
    assert_string_equal(e.field, "name");
    job_registry_free(reg);
}

/* A slow job filling its lane's threads does not delay a job of the default lane. */
static void test_slow_lane_does_not_delay_default(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    atomic_store(&lane_release, 0);
    atomic_store(&lane_slow_running, 0);
    atomic_store(&lane_wrong_pool, 0);
    assert_int_equal(job_registry_add(f->reg, "t.slow", h_lane_slow, NULL, 0, &e), 0);
    assert_int_equal(job_registry_add(f->reg, "t.fast", h_lane_fast, NULL, 0, &e), 0);
    assert_int_equal(job_registry_set_lane(f->reg, "t.slow", "slow", &e), 0);

    struct job_workers_options o = {.threads = 1, .poll_ms = 10};
    struct job_workers_options no_lane = {.threads = 1, .lane = "nolane"};
    struct job_workers *none = NULL;
    assert_int_equal(job_workers_start(f->db, f->reg, &f->clk.base, &no_lane, &none, &e),
                     ERR_INVALID);
    assert_string_equal(e.field, "lane");
    assert_null(none);
    err_init(&e);

    struct job_workers *def, *slow;
    struct job_workers_options so = o;
    so.lane = "slow";
    assert_int_equal(job_workers_start(f->db, f->reg, &f->clk.base, &so, &slow, &e), 0);
    track(f, slow);
    atomic_store(&lane_slow_pool, slow);
    assert_int_equal(job_workers_start(f->db, f->reg, &f->clk.base, &o, &def, &e), 0);
    track(f, def);
    atomic_store(&lane_default_pool, def);

    int64_t slow_ids[3];
    for (int i = 0; i < 3; i++)
        slow_ids[i] = enqueue(f, "t.slow", NULL, 0, NULL, 0, NULL);
    for (int i = 0; i < 2000 && atomic_load(&lane_slow_running) < 1; i++)
        sleep_ms(5);
    assert_int_equal(atomic_load(&lane_slow_running), 1); /* the slow lane's one thread is busy */

    int64_t fast = enqueue(f, "t.fast", NULL, 0, NULL, 0, NULL);
    int64_t t0 = clock_mono_ms();
    /* the slow handler holds its thread for 10 s: well inside that, the fast job is done */
    while (job_state_of(f, fast) != JOB_STATE_DONE && clock_mono_ms() - t0 < 8000)
        sleep_ms(5);
    assert_int_equal(job_state_of(f, fast), JOB_STATE_DONE);
    /*
     * Meanwhile the slow jobs stayed in their lane: one handler running, none finished (its
     * pool may have claimed the others ahead; the default pool must not have run them).
     */
    assert_int_equal(atomic_load(&lane_slow_running), 1);
    for (int i = 0; i < 3; i++)
        assert_int_not_equal(job_state_of(f, slow_ids[i]), JOB_STATE_DONE);

    atomic_store(&lane_release, 1);
    for (int i = 0; i < 3; i++)
        wait_job(f, slow_ids[i], JOB_STATE_DONE, 1);
    stop_pool(f, def, 1000);
    stop_pool(f, slow, 1000);
    assert_int_equal(atomic_load(&lane_wrong_pool), 0);
}

static int h_nop(struct job_ctx *ctx, struct err *e)
{
    (void)ctx;
    (void)e;
    return 0;
}

/*
 * Many jobs through a pool with large batches: all end done, none twice. Speed is measured by
 * `make bench` (bench/bench_jobs.c), not here.
 */
static void test_bulk_drain(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    const int total = 3000;
    assert_int_equal(job_registry_add(f->reg, "t.nop", h_nop, NULL, 0, &e), 0);
    assert_int_equal(db_begin(f->c, &e), 0);
    for (int i = 0; i < total; i++)
        enqueue(f, "t.nop", "{}", 0, NULL, 0, NULL);
    assert_int_equal(db_commit(f->c, &e), 0);
    int64_t t0 = clock_mono_ns();
    struct job_workers *w = start_pool(f, NULL, 4, 128, 0);
    struct job_worker_stats st;
    for (;;) {
        job_workers_stats(w, &st);
        if (st.succeeded >= (uint64_t)total)
            break;
        sleep_ms(2);
        if (clock_mono_ns() - t0 > 120000000000LL)
            fail_msg("bulk drain hung at %llu of %d", (unsigned long long)st.succeeded, total);
    }
    stop_pool(f, w, 1000);
    assert_int_equal(st.succeeded, total);
    assert_int_equal(count_state(f, JOB_STATE_DONE), total);
}


/*
 * jobs_enqueue_many: ids come back in the order of the specs across chunk pieces (150 keyless
 * jobs = 64 + 64 + 16 + 4 + 2 rows), keyed jobs dedupe as jobs_enqueue() does, and a bad spec
 * adds nothing.
 */
static void test_enqueue_many(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    enum { N = 150 };
    struct job_spec specs[N + 2];
    char payloads[N + 2][32];
    for (int i = 0; i < N + 2; i++) {
        snprintf(payloads[i], sizeof(payloads[i]), "{\"i\":%d}", i);
        specs[i] = (struct job_spec){.name = "t.many", .payload_json = payloads[i]};
    }
    /* a keyed job held by an earlier enqueue, and a fresh keyed one, among keyless ones */
    bool deduped;
    int64_t holder = enqueue(f, "t.many", "{}", 0, "k-held", 0, &deduped);
    specs[70].unique_key = "k-held";
    specs[N].unique_key = "k-new";
    specs[N + 1].run_at_ms = T0 + 5000;
    int64_t ids[N + 2];
    assert_int_equal(jobs_enqueue_many(f->c, specs, N + 2, T0, ids, &e), 0);
    assert_int_equal(ids[70], holder);
    struct arena a;
    arena_init(&a);
    for (int i = 0; i < N + 2; i++) {
        if (i == 70)
            continue;
        struct job_row r = get_job(f, ids[i], &a);
        assert_string_equal(r.payload, payloads[i]);
        assert_int_equal(r.state, JOB_STATE_PENDING);
        assert_int_equal(r.run_at_ms, i == N + 1 ? T0 + 5000 : T0);
        assert_int_equal(r.max_attempts, JOB_DEFAULT_MAX_ATTEMPTS);
    }
    arena_release(&a);
    assert_int_equal(count_state(f, JOB_STATE_PENDING), N + 2);

    /* all or nothing: a bad spec at the end adds none of the others */
    specs[N + 1].name = "";
    err_init(&e);
    assert_int_equal(jobs_enqueue_many(f->c, specs, N + 2, T0, NULL, &e), ERR_INVALID);
    assert_string_equal(e.field, "name");
    assert_int_equal(count_state(f, JOB_STATE_PENDING), N + 2);
    /* inside the caller's transaction: rolled back with it */
    err_init(&e);
    assert_int_equal(db_begin(f->c, &e), 0);
    assert_int_equal(jobs_enqueue_many(f->c, specs, N, T0, NULL, &e), 0);
    db_rollback(f->c);
    assert_int_equal(count_state(f, JOB_STATE_PENDING), N + 2);
}

/* ---------------------------------------------------------------- several processes */

/* A handler that records each run in job_runs (committed at once, outside the job's claim). */
static int h_record(struct job_ctx *ctx, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(ctx->conn, &s, "INSERT INTO job_runs (job_id) VALUES (?)", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, ctx->job_id);
    int st = db_step(s, e);
    db_stmt_done(s);
    return st == DB_ERROR ? e->code : 0;
}

static int64_t count_sql(struct fx *f, const char *sql)
{
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    if (db_prepare(f->c, &s, sql, &e))
        fail_msg("%s: %s", sql, e.msg);
    if (db_step(s, &e) != DB_ROW)
        fail_msg("%s: %s", sql, e.msg);
    int64_t n = db_col_i64(s, 0);
    db_stmt_done(s);
    return n;
}

/*
 * A worker process: its own database handle and a pool of `threads` running h_record (and
 * h_gate for "t.gate"), until the parent closes `stop_fd`; then it stops the pool and exits 0.
 */
static int gate_in = -1, gate_out = -1; /* child: handler → parent, parent → handler */

static int h_gate(struct job_ctx *ctx, struct err *e)
{
    int rc = h_record(ctx, e);
    char b = 'r';
    if (gate_out < 0) /* no gate: a plain run */
        return rc;
    if (write(gate_out, &b, 1) != 1 || read(gate_in, &b, 1) != 1)
        _exit(3);
    return rc;
}

static _Noreturn void worker_child(const char *url, int threads, int64_t lease_ms, int poll_ms,
                                   int stop_fd)
{
    struct err e;
    err_init(&e);
    struct db *db;
    struct db_options o = {.pool_size = threads + 4, .busy_timeout_ms = 20000};
    if (db_open(&db, url, &o, &e))
        _exit(2);
    struct job_registry *reg = job_registry_new();
    if (job_registry_add(reg, "t.record", h_record, NULL, 0, &e) ||
        job_registry_add(reg, "t.gate", h_gate, NULL, 0, &e))
        _exit(2);
    struct job_workers_options wo = {
        .threads = threads, .batch = 32, .poll_ms = poll_ms, .lease_ms = lease_ms};
    struct job_workers *w;
    if (job_workers_start(db, reg, NULL, &wo, &w, &e))
        _exit(2);
    char b;
    while (read(stop_fd, &b, 1) != 0) {
    }
    job_workers_stop(w, 5000);
    db_close(db);
    job_registry_free(reg);
    _exit(0);
}

/* The parent's ends of the live workers' stop pipes: a later child must not hold them open. */
static int stop_fds[4];
static int n_stop_fds;

static pid_t spawn_worker(struct fx *f, int threads, int64_t lease_ms, int poll_ms, int *stop_w)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_true(n_stop_fds < 4);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        for (int i = 0; i < n_stop_fds; i++)
            close(stop_fds[i]);
        worker_child(f->t.url, threads, lease_ms, poll_ms, p[0]);
    }
    close(p[0]);
    stop_fds[n_stop_fds++] = p[1];
    *stop_w = p[1];
    return pid;
}

static void close_stop(int stop_w)
{
    for (int i = 0; i < n_stop_fds; i++) {
        if (stop_fds[i] == stop_w) {
            stop_fds[i] = stop_fds[--n_stop_fds];
            break;
        }
    }
    close(stop_w);
}

static void reap_worker(pid_t pid, int stop_w)
{
    close_stop(stop_w);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * Two worker processes on one database, jobs enqueued in bursts while both claim: every job
 * runs exactly once (no crash, so no lease expires), and all end done.
 */
static void test_two_processes_run_each_job_once(void **state)
{
    struct fx *f = *state;
    exec_sql(f, "CREATE TABLE job_runs (job_id BIGINT NOT NULL)");
    int stop1, stop2;
    pid_t p1 = spawn_worker(f, 4, 30000, 20, &stop1);
    pid_t p2 = spawn_worker(f, 4, 30000, 20, &stop2);
    enum { BURST = 100, BURSTS = 12 };
    struct job_spec specs[BURST];
    for (int i = 0; i < BURST; i++)
        specs[i] = (struct job_spec){.name = "t.record"};
    struct err e;
    err_init(&e);
    for (int b = 0; b < BURSTS; b++) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t now_ms = (int64_t)now.tv_sec * 1000 - 1000;
        if (jobs_enqueue_many(f->c, specs, BURST, now_ms, NULL, &e))
            fail_msg("enqueue burst %d: %s", b, e.msg);
    }
    int64_t until = clock_mono_ms() + 60000;
    while (count_state(f, JOB_STATE_DONE) < BURST * BURSTS && clock_mono_ms() < until)
        sleep_ms(10);
    reap_worker(p1, stop1);
    reap_worker(p2, stop2);
    assert_int_equal(count_state(f, JOB_STATE_DONE), BURST * BURSTS);
    assert_int_equal(count_sql(f, "SELECT COUNT(*) FROM job_runs"), BURST * BURSTS);
    assert_int_equal(count_sql(f, "SELECT COUNT(DISTINCT job_id) FROM job_runs"), BURST * BURSTS);
}

/*
 * At-least-once across a crash (worker.h): a process is killed after its handler returned but
 * before the batch that marks the job done committed (the test holds the job's row locked so
 * the batch cannot commit). The job stays running under the dead process's lease; once the
 * lease expires another process runs it again, and it ends done after two runs.
 */
static void test_crash_before_batch_flush_runs_again(void **state)
{
    struct fx *f = *state;
    exec_sql(f, "CREATE TABLE job_runs (job_id BIGINT NOT NULL)");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 - 1000;
    struct err e;
    err_init(&e);
    struct job_spec spec = {.name = "t.gate"};
    int64_t id;
    assert_int_equal(jobs_enqueue(f->c, &spec, now_ms, &id, NULL, &e), 0);

    int to_child[2], from_child[2];
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(from_child), 0);
    gate_in = to_child[0];
    gate_out = from_child[1];
    int stop;
    pid_t pid = spawn_worker(f, 1, 1000, 20, &stop);
    close(to_child[0]);
    close(from_child[1]);
    char b;
    struct pollfd pfd = {.fd = from_child[0], .events = POLLIN};
    if (poll(&pfd, 1, 60000) != 1 || read(from_child[0], &b, 1) != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close_stop(stop);
        fail_msg("the job never started in the worker process");
    }
    /* The handler has run; lock the row so the completion cannot commit, then let it return. */
    assert_int_equal(db_begin(f->c, &e), 0);
    struct db_stmt *s;
    assert_int_equal(
        db_prepare(f->c, &s, "UPDATE jobs SET updated_at = updated_at WHERE id = ?", &e), 0);
    db_bind_i64(s, 1, id);
    assert_int_equal(db_step(s, &e), DB_DONE);
    db_stmt_done(s);
    assert_int_equal(write(to_child[1], "g", 1), 1);
    /* The handler returns once it has read the byte: wait (bounded) for the pipe to empty. */
    int64_t until = clock_mono_ms() + 10000;
    int queued = 1;
    while (queued > 0 && clock_mono_ms() < until) {
        if (ioctl(to_child[1], FIONREAD, &queued) != 0)
            queued = 0;
        sleep_ms(2);
    }
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close_stop(stop);
    close(to_child[1]);
    close(from_child[0]);
    db_rollback(f->c);
    assert_int_equal(job_state_of(f, id), JOB_STATE_RUNNING);
    assert_int_equal(count_sql(f, "SELECT COUNT(*) FROM job_runs"), 1);

    /* Another process takes it over once the lease (1 s) has expired. */
    gate_in = gate_out = -1;
    int stop2;
    pid_t p2 = spawn_worker(f, 1, 1000, 20, &stop2);
    until = clock_mono_ms() + 60000;
    while (job_state_of(f, id) != JOB_STATE_DONE && clock_mono_ms() < until)
        sleep_ms(10);
    reap_worker(p2, stop2);
    assert_int_equal(job_state_of(f, id), JOB_STATE_DONE);
    assert_int_equal(count_sql(f, "SELECT COUNT(*) FROM job_runs"), 2);
    struct arena a;
    arena_init(&a);
    assert_int_equal(get_job(f, id, &a).attempts, 2);
    arena_release(&a);
}

static int64_t enqueue_now(struct fx *f, const char *name)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct err e;
    err_init(&e);
    struct job_spec spec = {.name = name};
    int64_t id;
    if (jobs_enqueue(f->c, &spec, (int64_t)now.tv_sec * 1000 - 1000, &id, NULL, &e))
        fail_msg("enqueue %s: %s", name, e.msg);
    return id;
}

/*
 * PostgreSQL: a pool in another process, idle with a poll interval of ten minutes, runs a job
 * committed here because the commit's NOTIFY wakes it (migration 0041, db_listen). SQLite has
 * no notifications: db_listen_open says so.
 */
static void test_other_process_woken_by_notify(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    struct db_listener *l = NULL;
    if (backend == DB_SQLITE) {
        assert_int_equal(db_listen_open(f->db, "iceshop_jobs", &l, &e), ERR_UNSUPPORTED);
        assert_null(l);
        return;
    }
    assert_int_equal(db_listen_open(f->db, "bad-name", &l, &e), ERR_INVALID);
    exec_sql(f, "CREATE TABLE job_runs (job_id BIGINT NOT NULL)");
    /* the first job is found by the pool's first claim; after it the pool is idle */
    int64_t first = enqueue_now(f, "t.record");
    int stop;
    pid_t pid = spawn_worker(f, 2, 30000, 600000, &stop);
    int64_t until = clock_mono_ms() + 60000;
    while (job_state_of(f, first) != JOB_STATE_DONE && clock_mono_ms() < until)
        sleep_ms(10);
    assert_int_equal(job_state_of(f, first), JOB_STATE_DONE);
    /* enqueued and committed here, in another process than the pool */
    int64_t id = enqueue_now(f, "t.record");
    /* a bound far below the ten-minute poll: only the notification can have woken it */
    until = clock_mono_ms() + 60000;
    while (job_state_of(f, id) != JOB_STATE_DONE && clock_mono_ms() < until)
        sleep_ms(10);
    enum job_state got = job_state_of(f, id);
    reap_worker(pid, stop);
    assert_int_equal(got, JOB_STATE_DONE);
    /* a job put back to pending by jobs_retry notifies too */
    exec_sql(f, "UPDATE jobs SET state = 'dead' WHERE id = (SELECT MIN(id) FROM jobs)");
    pid = spawn_worker(f, 2, 30000, 600000, &stop);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    /* the pool's first claim finds nothing; give it a moment, then revive the dead job */
    sleep_ms(200);
    assert_int_equal(
        jobs_retry(f->c, JOBS_ALL_TENANTS, true, first, (int64_t)now.tv_sec * 1000, &e), 0);
    until = clock_mono_ms() + 60000;
    while (job_state_of(f, first) != JOB_STATE_DONE && clock_mono_ms() < until)
        sleep_ms(10);
    got = job_state_of(f, first);
    reap_worker(pid, stop);
    assert_int_equal(got, JOB_STATE_DONE);
    assert_int_equal(count_sql(f, "SELECT COUNT(*) FROM job_runs"), 3);
}

/* ---------------------------------------------------------------- main */

#define DB_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    log_set_level(LOG_WARN);
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_backoff_table),
        cmocka_unit_test(test_state_names),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_lanes_registry),
    };
    const struct CMUnitTest db_tests[] = {
        DB_TEST(test_enqueue_and_run),
        DB_TEST(test_enqueue_rolled_back),
        DB_TEST(test_commit_wakes_workers),
        DB_TEST(test_enqueue_invalid),
        DB_TEST(test_unique_dedupe),
        DB_TEST(test_retry_backoff_dead_then_retry),
        DB_TEST(test_unknown_handler_dead),
        DB_TEST(test_expired_lease_recovered_once),
        DB_TEST(test_in_tx_commits_and_rolls_back_together),
        DB_TEST(test_prune),
        DB_TEST(test_list_filters_and_tenants),
        DB_TEST(test_two_pools_never_double_run),
        DB_TEST(test_heartbeat_keeps_long_job),
        DB_TEST(test_stop_releases_and_abandons),
        DB_TEST(test_bulk_drain),
        DB_TEST(test_slow_lane_does_not_delay_default),
        DB_TEST(test_enqueue_many),
        DB_TEST(test_two_processes_run_each_job_once),
        DB_TEST(test_crash_before_batch_flush_runs_again),
        DB_TEST(test_other_process_woken_by_notify),
    };
    int failed = cmocka_run_group_tests_name("jobs_pure", pure, NULL, NULL);
    failed += TESTDB_RUN_GROUPS("jobs", db_tests, &backend);
    return failed ? 1 : 0;
}
