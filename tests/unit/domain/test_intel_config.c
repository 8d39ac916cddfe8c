/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/intel/intel_config.c: the defaults, the merge of a PUT body (named
 * errors, tiers that must ascend, nothing changed on error), the budget tiers turned into the
 * profile rules' minor units, and storage per tenant (another tenant keeps its defaults; a
 * stored value out of today's range reads as the default). Runs on SQLite and, with
 * TEST_PG_DSN, on PostgreSQL.
 */
#include "domain/intel/intel_config.h"
#include "core/xalloc.h"
#include "domain/account/account.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#define NOW 1795252200000 /* 2026-11-21T09:10:00Z */

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    int64_t t1, t2;
};

static enum db_backend backend;

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "intel_config", NULL);
    f->c = testdb_acquire(f->db);
    struct err e;
    err_init(&e);
    assert_int_equal(account_tenant_create(f->c, "one", NOW, &f->t1, &e), 0);
    assert_int_equal(account_tenant_create(f->c, "two", NOW, &f->t2, &e), 0);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    db_conn_release(f->c);
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static void test_defaults(void **state)
{
    (void)state;
    struct intel_config c;
    intel_config_default(&c);
    /* the seed's thresholds, the planner's cap, a 10 % holdout, a week */
    assert_int_equal(c.budget_mid, 500);
    assert_int_equal(c.budget_high, 1000);
    assert_int_equal(c.budget_premium, 2000);
    assert_int_equal(c.max_discount, 30);
    assert_int_equal(c.holdout_pct, 10);
    assert_int_equal(c.attribution_days, 7);
    struct err e;
    err_init(&e);
    assert_int_equal(intel_config_validate(&c, &e), 0);

    /* TRY (2 decimals): 500 major units are 50 000 minor units; the rest stays the seed's */
    c.budget_high = 1200;
    struct intel_profile_config p, seed;
    intel_config_profile(&c, 2, &p);
    intel_profile_config_default(&seed, 2);
    assert_int_equal(p.budget_mid_above, 50000);
    assert_int_equal(p.budget_high_above, 120000);
    assert_int_equal(p.budget_premium_above, 200000);
    assert_int_equal(p.loyalty_spend_per_point, seed.loyalty_spend_per_point);
    intel_config_profile(&c, 0, &p); /* JPY */
    assert_int_equal(p.budget_mid_above, 500);
}

static void test_merge(void **state)
{
    (void)state;
    struct {
        const char *patch;
        const char *field; /* NULL: accepted */
    } cases[] = {
        {"{\"budget_tiers\":{\"mid\":300}}", NULL},
        {"{\"campaigns\":{\"holdout_pct\":0,\"attribution_days\":30}}", NULL},
        {"{\"budget_tiers\":{\"high\":400}}", "budget_tiers.high"}, /* below mid */
        {"{\"budget_tiers\":{\"premium\":900}}", "budget_tiers.premium"},
        {"{\"campaigns\":{\"holdout_pct\":51}}", "campaigns.holdout_pct"},
        {"{\"campaigns\":{\"attribution_days\":0}}", "campaigns.attribution_days"},
        {"{\"campaigns\":{\"max_discount\":\"20\"}}", "campaigns.max_discount"},
        {"{\"campaigns\":{\"colour\":1}}", "campaigns.colour"},
        {"{\"tiers\":[]}", "tiers"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct intel_config c, before;
        intel_config_default(&c);
        before = c;
        json_t *p = json_loads(cases[i].patch, 0, NULL);
        assert_non_null(p);
        struct err e;
        err_init(&e);
        int rc = intel_config_merge(&c, p, &e);
        json_decref(p);
        if (!cases[i].field) {
            if (rc)
                fail_msg("%s: %s", cases[i].patch, e.msg);
            continue;
        }
        if (rc != ERR_INVALID || strcmp(e.field, cases[i].field) != 0)
            fail_msg("%s: rc %d field %s, want %s", cases[i].patch, rc, e.field, cases[i].field);
        assert_memory_equal(&c, &before, sizeof(c)); /* nothing changed */
    }
}

static void test_store(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    struct intel_config c;
    assert_int_equal(intel_config_get(f->c, f->t1, &c, &e), 0);
    assert_int_equal(c.budget_mid, 500); /* nothing stored: defaults */
    c.budget_mid = 250;
    c.max_discount = 15;
    assert_int_equal(intel_config_put(f->c, f->t1, &c, NOW, &e), 0);
    c.holdout_pct = 20;
    assert_int_equal(intel_config_put(f->c, f->t1, &c, NOW + 1, &e), 0); /* replaces */
    struct intel_config g;
    assert_int_equal(intel_config_get(f->c, f->t1, &g, &e), 0);
    assert_int_equal(g.budget_mid, 250);
    assert_int_equal(g.max_discount, 15);
    assert_int_equal(g.holdout_pct, 20);
    assert_int_equal(intel_config_get(f->c, f->t2, &g, &e), 0);
    assert_int_equal(g.budget_mid, 500); /* the other tenant keeps the defaults */

    /* invalid settings are never stored */
    c.budget_high = 10;
    assert_int_equal(intel_config_put(f->c, f->t1, &c, NOW, &e), ERR_INVALID);
    assert_string_equal(e.field, "budget_tiers.high");

    /* a stored value outside today's range reads as its default, the rest as stored */
    struct db_stmt *s;
    assert_int_equal(
        db_prepare(f->c, &s, "UPDATE intel_config SET config = ? WHERE tenant_id = ?", &e), 0);
    db_bind_text(s, 1,
                 "{\"budget_tiers\":{\"mid\":100,\"high\":-5,\"premium\":3000},"
                 "\"campaigns\":{\"holdout_pct\":99}}");
    db_bind_i64(s, 2, f->t1);
    assert_int_not_equal(db_step(s, &e), DB_ERROR);
    db_stmt_done(s);
    assert_int_equal(intel_config_get(f->c, f->t1, &g, &e), 0);
    assert_int_equal(g.budget_mid, 100);
    assert_int_equal(g.budget_high, 1000);
    assert_int_equal(g.budget_premium, 3000);
    assert_int_equal(g.holdout_pct, 10);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_merge),
    };
    const struct CMUnitTest stored[] = {
        cmocka_unit_test_setup_teardown(test_store, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("intel_config", pure, NULL, NULL);
    return failed + TESTDB_RUN_GROUPS("intel_config_store", stored, &backend);
}
