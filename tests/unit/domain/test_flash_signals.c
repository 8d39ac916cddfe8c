/* SPDX-License-Identifier: MIT */
/*
 * Durable demand signals (flash_buyer_signal through group commit) on SQLite and, with
 * TEST_PG_DSN, on PostgreSQL, group commit on for both: many threads signalling at once, some
 * for a buyer the tenant does not have, every acknowledged signal is in the database with its
 * text and buyer, no refused one is, and each went through a committed batch. And the recent
 * flash configuration (flash_store_config_get_recent): a save through this process is seen at
 * once, a change made elsewhere once its bound has passed. No timing thresholds.
 */
#include "core/clock.h"
#include "core/log.h"
#include "domain/account/account.h"
#include "domain/flash/flash_service.h"
#include "domain/flash/flash_store.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T0         1795000000000LL
#define THREADS    12
#define PER_THREAD 40
#define UNKNOWN_1N 5 /* every fifth signal names a buyer the tenant does not have */

static enum db_backend backend;

struct fx {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
    int64_t tenant;
};

static void ok(int rc, const struct err *e)
{
    if (rc)
        fail_msg("%s (field %s)", e->msg, e->field);
}

static void add_buyer(struct fx *f, const char *id, const char *phone)
{
    struct err e;
    err_init(&e);
    struct flash_buyer b;
    memset(&b, 0, sizeof(b));
    b.id = id;
    b.phone = phone;
    b.name = id;
    b.loc = (struct flash_location){41.0, 29.0, "", ""};
    b.consent = true;
    b.language = "tr";
    bool created;
    ok(flash_buyer_register(f->c, f->tenant, &b, T0, &f->a, &created, &e), &e);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct db_options o = {.pool_size = THREADS + 4, .busy_timeout_ms = 20000};
    f->db = testdb_open_migrated(&f->t, backend, "flashsig", &o);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    struct err e;
    err_init(&e);
    ok(account_tenant_ensure(f->c, "moda", T0, &f->tenant, &e), &e);
    add_buyer(f, "B1", "+905550000001");
    add_buyer(f, "B2", "+905550000002");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    arena_release(&f->a);
    db_conn_release(f->c);
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

/* One thread's signals and what came back for each. */
struct signaller {
    struct fx *f;
    int n;
    pthread_barrier_t *start;
    int64_t pk[PER_THREAD];
    int rc[PER_THREAD];
    char field[PER_THREAD][64];
};

static void *signal_loop(void *arg)
{
    struct signaller *s = arg;
    struct db_conn *c = testdb_acquire(s->f->db);
    pthread_barrier_wait(s->start);
    for (int i = 0; i < PER_THREAD; i++) {
        char text[48];
        snprintf(text, sizeof(text), "kahve istiyorum %d-%d", s->n, i);
        const char *buyer = i % UNKNOWN_1N == UNKNOWN_1N - 1 ? "NOPE" : (i % 2 ? "B1" : "B2");
        struct flash_demand_in d = {.text = text,
                                    .product = "kahve",
                                    .category = "coffee",
                                    .budget = 150,
                                    .currency = "TRY",
                                    .expires_at = T0 + 3600000};
        struct err e;
        err_init(&e);
        s->pk[i] = 0;
        s->rc[i] = flash_buyer_signal(c, s->f->tenant, buyer, &d, T0, &s->pk[i], &e);
        snprintf(s->field[i], sizeof(s->field[i]), "%s", e.field);
    }
    db_conn_release(c);
    return NULL;
}

static int64_t count(struct db_conn *c, const char *sql, int64_t tenant)
{
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    ok(db_prepare(c, &s, sql, &e), &e);
    db_bind_i64(s, 1, tenant);
    if (db_step(s, &e) != DB_ROW)
        fail_msg("%s: %s", sql, e.msg);
    int64_t n = db_col_i64(s, 0);
    db_stmt_done(s);
    return n;
}

static void test_every_acknowledged_signal_is_stored(void **state)
{
    struct fx *f = *state;
    int64_t before =
        count(f->c, "SELECT COUNT(*) FROM demand_signals WHERE tenant_id = ?", f->tenant);
    uint64_t batches0, writes0;
    db_group_counts(f->db, &batches0, &writes0);

    static struct signaller s[THREADS];
    pthread_t th[THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        memset(&s[i], 0, sizeof(s[i]));
        s[i].f = f;
        s[i].n = i;
        s[i].start = &start;
        assert_int_equal(pthread_create(&th[i], NULL, signal_loop, &s[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);

    int64_t acked = 0;
    struct err e;
    err_init(&e);
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++) {
            bool unknown = i % UNKNOWN_1N == UNKNOWN_1N - 1;
            if (unknown) {
                /* refused with its own error, naming the field; never stored */
                assert_int_equal(s[t].rc[i], ERR_NOT_FOUND);
                assert_string_equal(s[t].field[i], "buyer_id");
                assert_true(s[t].pk[i] == 0);
                continue;
            }
            if (s[t].rc[i])
                fail_msg("signal %d-%d refused: rc %d", t, i, s[t].rc[i]);
            assert_true(s[t].pk[i] > 0);
            acked++;
            char text[48];
            snprintf(text, sizeof(text), "kahve istiyorum %d-%d", t, i);
            struct db_stmt *q;
            ok(db_prepare(f->c, &q,
                          "SELECT d.text, b.public_id FROM demand_signals d JOIN buyers b ON "
                          "b.id = d.buyer_id WHERE d.id = ? AND d.tenant_id = ?",
                          &e),
               &e);
            db_bind_i64(q, 1, s[t].pk[i]);
            db_bind_i64(q, 2, f->tenant);
            if (db_step(q, &e) != DB_ROW)
                fail_msg("acknowledged signal %d-%d (id %lld) is not in the database", t, i,
                         (long long)s[t].pk[i]);
            assert_string_equal(db_col_text(q, 0), text);
            assert_string_equal(db_col_text(q, 1), i % 2 ? "B1" : "B2");
            db_stmt_done(q);
        }
    }
    /* nothing else was stored: no refused signal, no duplicate */
    assert_int_equal(
        count(f->c, "SELECT COUNT(*) FROM demand_signals WHERE tenant_id = ?", f->tenant),
        before + acked);
    /* and each acknowledged one was written in a batch that committed */
    uint64_t batches1, writes1;
    db_group_counts(f->db, &batches1, &writes1);
    assert_int_equal(writes1 - writes0, (uint64_t)acked);
    assert_true(batches1 > batches0);
}

static void set_categories(struct flash_config *cfg, const char *cat)
{
    cfg->n_extra_categories = 1;
    snprintf(cfg->extra_categories[0], sizeof(cfg->extra_categories[0]), "%s", cat);
}

static void test_recent_config(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    struct flash_config cfg, got;
    ok(flash_store_config_get(f->c, f->tenant, &cfg, &e), &e);
    set_categories(&cfg, "pottery");
    ok(flash_store_config_put(f->c, f->tenant, &cfg, T0, &e), &e);
    ok(flash_store_config_get_recent(f->c, f->tenant, &got, &e), &e);
    assert_int_equal(got.n_extra_categories, 1);
    assert_string_equal(got.extra_categories[0], "pottery");

    /* a save through this process inside a transaction: seen from its commit on */
    set_categories(&cfg, "weaving");
    bool own;
    ok(db_begin_own(f->c, &own, &e), &e);
    ok(flash_store_config_put(f->c, f->tenant, &cfg, T0, &e), &e);
    ok(db_end_own(f->c, own, 0, &e), &e);
    ok(flash_store_config_get_recent(f->c, f->tenant, &got, &e), &e);
    assert_string_equal(got.extra_categories[0], "weaving");

    /*
     * A change this process did not make (another process's save, here the row rewritten
     * directly): the remembered copy may serve until FLASH_CONFIG_RECENT_MS has passed, then
     * the change is read. Waits with a bound of five times that.
     */
    struct db_stmt *s;
    ok(db_prepare(f->c, &s,
                  "UPDATE flash_config SET config = REPLACE(config, 'weaving', 'glass') "
                  "WHERE tenant_id = ?",
                  &e),
       &e);
    db_bind_i64(s, 1, f->tenant);
    assert_int_equal(db_step(s, &e), DB_DONE);
    db_stmt_done(s);
    int64_t deadline = clock_mono_ms() + 5 * FLASH_CONFIG_RECENT_MS;
    bool seen = false;
    while (!seen && clock_mono_ms() < deadline) {
        ok(flash_store_config_get_recent(f->c, f->tenant, &got, &e), &e);
        seen = strcmp(got.extra_categories[0], "glass") == 0;
        if (!seen)
            nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
    }
    assert_true(seen);
}

int main(void)
{
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_acknowledged_signal_is_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recent_config, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("flash_signals", tests, &backend);
}
