/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/intel/profile_batch.c and profile_store.c on SQLite and, with
 * TEST_PG_DSN, PostgreSQL: a batch over 1,200 customers (three chunks) stopped after its first
 * chunk leaves readers on the previous batch and resumes where it stopped; the rows a batch
 * writes are those profiles.h computes (one customer checked by hand); a rerun gives the same
 * rows and prunes the old batch; one customer recomputed alone replaces only its rows; a
 * recompute while one is pending joins it; another tenant's customers are never touched.
 */
#include "core/arena.h"
#include "core/clock.h"
#include "core/xalloc.h"
#include "db/store.h"
#include "domain/account/account.h"
#include "domain/intel/profile_batch.h"
#include "domain/intel/profile_store.h"
#include "jobs/queue.h"
#include "support/testdb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY         86400000LL
#define NOW         (20000 * DAY + 12 * 3600000LL) /* 2024-10-04 12:00 UTC */
#define OK(x)       assert_int_equal((x), 0)
#define N_CUSTOMERS 1200

static enum db_backend backend;

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
    int64_t t1, t2;
    int64_t first_customer; /* pk of t1's first customer: the hand-checked one */
};

static struct err err_, *e = &err_;

static void exec_sql(struct db_conn *c, const char *sql)
{
    err_init(e);
    if (db_exec(c, sql, e))
        fail_msg("%s: %s", sql, e->msg);
}

static int64_t one(struct db_conn *c, const char *sql)
{
    struct db_stmt *s;
    err_init(e);
    OK(db_prepare(c, &s, sql, e));
    int64_t v = -1;
    bool found = false;
    OK(db_one_i64(s, &v, &found, e));
    assert_true(found);
    return v;
}

/* xorshift64: a fixed sequence of purchase gaps */
static uint64_t rand_state = 88172645463325252ULL;
static uint64_t next_rand(void)
{
    rand_state ^= rand_state << 13;
    rand_state ^= rand_state >> 7;
    rand_state ^= rand_state << 17;
    return rand_state;
}

/* uniform in (0, 1) */
static double unit_rand(void)
{
    return ((double)(next_rand() >> 11) + 0.5) / 9007199254740992.0;
}

/*
 * Tenant t1: N_CUSTOMERS customers; customer k (0-based) has k % 4 orders of one product of
 * category "coffee", 10.00 TRY each, quantity 1, drawn from a fixed sequence as below; except
 * the first customer, with three at 80, 50 and 20 days before NOW (checked by hand). Tenant t2: one
 * customer, one order.
 */
static void populate(struct fixture *f)
{
    exec_sql(f->c, "BEGIN");
    char sql[512];
    char ts[40];
    snprintf(sql, sizeof(sql),
             "INSERT INTO category (tenant_id, public_id, name, created_at) VALUES (%lld, "
             "'cat_coffee', 'coffee', '2024-01-01T00:00:00Z')",
             (long long)f->t1);
    exec_sql(f->c, sql);
    int64_t cat = one(f->c, "SELECT max(category_id) FROM category");
    snprintf(sql, sizeof(sql),
             "INSERT INTO product (tenant_id, public_id, category_id, name, price, currency, "
             "created_at, updated_at) VALUES (%lld, 'prd_latte', %lld, 'latte', 1000, 'TRY', "
             "'2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
             (long long)f->t1, (long long)cat);
    exec_sql(f->c, sql);
    int64_t prd = one(f->c, "SELECT max(product_id) FROM product");
    for (int k = 0; k < N_CUSTOMERS; k++) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO customer (tenant_id, public_id, created_at, updated_at) VALUES "
                 "(%lld, 'cus_%06d', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
                 (long long)f->t1, k);
        exec_sql(f->c, sql);
        int64_t cus = one(f->c, "SELECT max(customer_id) FROM customer");
        if (k == 0)
            f->first_customer = cus;
        /*
         * every fifth customer never bought; the others as BG/NBD says customers buy: a rate
         * λ ~ Gamma(2, 40 days), a drop-out probability p ~ Beta(1, 3) after each purchase,
         * the first purchase 30..329 days ago; 8 orders at most
         */
        int64_t days[8];
        int orders = 0;
        if (k == 0) {
            days[0] = 80, days[1] = 50, days[2] = 20, orders = 3;
        } else if (k % 5 != 4) {
            double back = 30 + (double)(next_rand() % 300);
            double lambda = (-log(unit_rand()) - log(unit_rand())) / 40;
            double p = 1 - pow(unit_rand(), 1.0 / 3);
            days[orders++] = (int64_t)back;
            while (orders < 8 && unit_rand() >= p) {
                back -= -log(unit_rand()) / lambda;
                if (back < 1)
                    break;
                days[orders++] = (int64_t)back;
            }
        }
        for (int j = 0; j < orders; j++) {
            int64_t at = NOW - days[j] * DAY;
            clock_format_iso(at, ts);
            snprintf(sql, sizeof(sql),
                     "INSERT INTO orders (tenant_id, public_id, customer_id, status, currency, "
                     "total_amount, created_at, updated_at) VALUES (%lld, 'ord_%d_%d', %lld, "
                     "'paid', 'TRY', 1000, '%s', '%s')",
                     (long long)f->t1, k, j, (long long)cus, ts, ts);
            exec_sql(f->c, sql);
            int64_t ord = one(f->c, "SELECT max(order_id) FROM orders");
            snprintf(sql, sizeof(sql),
                     "INSERT INTO order_item (tenant_id, order_id, product_id, quantity, price) "
                     "VALUES (%lld, %lld, %lld, 1, 1000)",
                     (long long)f->t1, (long long)ord, (long long)prd);
            exec_sql(f->c, sql);
        }
    }
    snprintf(sql, sizeof(sql),
             "INSERT INTO customer (tenant_id, public_id, created_at, updated_at) VALUES (%lld, "
             "'cus_other', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
             (long long)f->t2);
    exec_sql(f->c, sql);
    exec_sql(f->c, "COMMIT");
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    rand_state = 88172645463325252ULL;
    f->db = testdb_open_migrated(&f->t, backend, "pbatch", NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    err_init(e);
    OK(account_tenant_create(f->c, "one", NOW, &f->t1, e));
    OK(account_tenant_create(f->c, "two", NOW, &f->t2, e));
    populate(f);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    arena_release(&f->a);
    db_conn_release(f->c);
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static bool stop_after_first(void *ctx)
{
    int *calls = ctx;
    return ++*calls >= 1;
}

static int64_t current_batch(struct fixture *f)
{
    struct profile_batch_row b;
    bool found = false;
    err_init(e);
    OK(profile_store_current(f->c, f->t1, &f->a, &b, &found, e));
    return found ? b.id : 0;
}

static void test_resume_and_switch(void **state)
{
    struct fixture *f = *state;
    int64_t b1 = 0, b2 = 0;
    err_init(e);
    /* a first complete batch */
    OK(profile_store_batch_create(f->c, f->t1, NOW, 0, NOW, &b1, e));
    OK(intel_profiles_run(f->c, f->t1, b1, 0, NOW, NULL, NULL, NULL, e));
    assert_int_equal(current_batch(f), b1);
    char sql[200];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM customer_loyalty_profile WHERE batch_id = %lld", (long long)b1);
    assert_int_equal(one(f->c, sql), N_CUSTOMERS);

    /* a second one, stopped after its first chunk: readers stay on b1 */
    OK(profile_store_batch_create(f->c, f->t1, NOW + DAY, 0, NOW + DAY, &b2, e));
    int calls = 0;
    assert_int_equal(
        intel_profiles_run(f->c, f->t1, b2, 0, NOW + DAY, NULL, stop_after_first, &calls, e),
        ERR_TIMEOUT);
    assert_int_equal(current_batch(f), b1);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM customer_loyalty_profile WHERE batch_id = %lld", (long long)b2);
    assert_int_equal(one(f->c, sql), INTEL_PROFILE_CHUNK);
    struct profile_batch_row row;
    bool found = false;
    err_init(e);
    OK(profile_store_batch_get(f->c, f->t1, b2, &f->a, &row, &found, e));
    assert_true(found);
    assert_string_equal(row.status, "running");
    assert_int_equal(row.processed, INTEL_PROFILE_CHUNK);
    assert_int_equal(row.total, N_CUSTOMERS);

    /* resumed: the rest, then the switch and the prune of b1 */
    OK(intel_profiles_run(f->c, f->t1, b2, 0, NOW + DAY, NULL, NULL, NULL, e));
    assert_int_equal(current_batch(f), b2);
    assert_int_equal(one(f->c, sql), N_CUSTOMERS);
    assert_int_equal(one(f->c, "SELECT count(*) FROM profile_batch"), 1);
    assert_int_equal(one(f->c, "SELECT count(*) FROM customer_budget_profile"), N_CUSTOMERS);
    /* nothing of the other tenant */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM customer_variety_profile WHERE tenant_id = %lld",
             (long long)f->t2);
    assert_int_equal(one(f->c, sql), 0);
    /* running a finished batch again changes nothing */
    OK(intel_profiles_run(f->c, f->t1, b2, 0, NOW + 2 * DAY, NULL, NULL, NULL, e));
    assert_int_equal(one(f->c, "SELECT count(*) FROM customer_prediction"), N_CUSTOMERS);
}

/* The profile tables' columns but batch_id, as compared between two batches. */
static const char *const compared[][2] = {
    {"customer_budget_profile",
     "tenant_id, customer_id, spend_last_30, spend_last_90, orders_last_90, avg_order_value, "
     "predicted_monthly_budget, budget_tier, price_sensitivity_score, discounted_share, "
     "campaign_share, promo_order_share, updated_at"},
    {"customer_loyalty_profile",
     "tenant_id, customer_id, loyalty_tier, loyalty_score, lifetime_orders, lifetime_spent, "
     "last_order_at, days_since_last_order, reward_multiplier, updated_at"},
    {"customer_category_affinity",
     "tenant_id, customer_id, category_id, affinity_score, orders_count, spend_total, "
     "last_purchased_at, updated_at"},
    {"customer_replenishment_profile",
     "tenant_id, customer_id, product_id, purchases, replenishment_cycle_days, gap_cv, "
     "is_recurring, last_purchased_at, previous_purchased_at, current_cycle_start, "
     "current_cycle_end, purchased_in_current_cycle, next_expected_purchase_at, "
     "confidence_score, updated_at"},
    {"customer_variety_profile",
     "tenant_id, customer_id, variety_index, repeat_ratio, unique_sku_last_90, "
     "total_items_last_90, explorer_type, updated_at"},
    {"customer_prediction",
     "tenant_id, customer_id, recency_score, frequency_score, monetary_score, rfm_segment, "
     "p_alive, churn_probability, expected_purchases_90, expected_order_value, predicted_clv, "
     "expected_date_of_next_order, reason, updated_at"},
};

/* Rows of table t in batch b that kept_t (another batch's) lacks or holds otherwise, either way. */
static int64_t differing(struct fixture *f, size_t t, int64_t b)
{
    char sql[4096];
    snprintf(sql, sizeof(sql),
             "SELECT (SELECT count(*) FROM (SELECT %s FROM kept_%zu EXCEPT SELECT %s FROM %s "
             "WHERE batch_id = %lld) x) + (SELECT count(*) FROM (SELECT %s FROM %s WHERE "
             "batch_id = %lld EXCEPT SELECT %s FROM kept_%zu) y)",
             compared[t][1], t, compared[t][1], compared[t][0], (long long)b, compared[t][1],
             compared[t][0], (long long)b, compared[t][1], t);
    return one(f->c, sql);
}

static bool stop_after_three(void *ctx)
{
    int *calls = ctx;
    return ++*calls == 3;
}

/*
 * Orders read in many small scans (a few customers each, chunks cut at a scan's end, stopped
 * and resumed in between) give the same rows as one scan of them all.
 */
static void test_small_scans_same_rows(void **state)
{
    struct fixture *f = *state;
    int64_t whole = 0, small = 0;
    err_init(e);
    OK(profile_store_batch_create(f->c, f->t1, NOW, 0, NOW, &whole, e));
    OK(intel_profiles_run(f->c, f->t1, whole, 0, NOW, NULL, NULL, NULL, e));
    /* keep the first batch's rows: the second's switch prunes them */
    char sql[4096];
    for (size_t t = 0; t < sizeof(compared) / sizeof(compared[0]); t++) {
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE kept_%zu AS SELECT %s FROM %s WHERE batch_id = %lld", t,
                 compared[t][1], compared[t][0], (long long)whole);
        exec_sql(f->c, sql);
    }
    intel_profiles_set_pass_orders(37);
    OK(profile_store_batch_create(f->c, f->t1, NOW, 0, NOW, &small, e));
    int calls = 0;
    assert_int_equal(
        intel_profiles_run(f->c, f->t1, small, 0, NOW, NULL, stop_after_three, &calls, e),
        ERR_TIMEOUT);
    err_init(e);
    OK(intel_profiles_run(f->c, f->t1, small, 0, NOW, NULL, NULL, NULL, e));
    intel_profiles_set_pass_orders(0);
    assert_int_equal(current_batch(f), small);
    for (size_t t = 0; t < sizeof(compared) / sizeof(compared[0]); t++) {
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE batch_id = %lld", compared[t][0],
                 (long long)small);
        int64_t rows = one(f->c, sql);
        /* one row per customer, or (categories, replenishment) some rows for buyers */
        if (t == 2 || t == 3)
            assert_true(rows > 0);
        else
            assert_int_equal(rows, N_CUSTOMERS);
        assert_int_equal(differing(f, t, small), 0);
        snprintf(sql, sizeof(sql), "DROP TABLE kept_%zu", t);
        exec_sql(f->c, sql);
    }
}

static void test_rows_by_hand(void **state)
{
    struct fixture *f = *state;
    int64_t b = 0;
    err_init(e);
    OK(profile_store_batch_create(f->c, f->t1, NOW, 0, NOW, &b, e));
    OK(intel_profiles_run(f->c, f->t1, b, 0, NOW, NULL, NULL, NULL, e));
    struct profile_view v;
    OK(profile_store_read(f->c, f->t1, b, f->first_customer, &f->a, &v, e));
    assert_true(v.found);
    /* three paid orders of 10.00 at 20, 50 and 80 days before NOW */
    assert_int_equal(v.budget.spend_last_30, 1000);
    assert_int_equal(v.budget.spend_last_90, 3000);
    assert_int_equal(v.budget.orders_last_90, 3);
    assert_int_equal(v.budget.avg_order_value, 1000);
    assert_int_equal(v.budget.predicted_monthly_budget, 1000);
    assert_string_equal(v.budget.budget_tier, "LOW");
    assert_string_equal(v.loyalty.loyalty_tier, "BRONZE");
    assert_int_equal(v.loyalty.lifetime_orders, 3);
    assert_int_equal(v.loyalty.lifetime_spent, 3000);
    assert_int_equal(v.loyalty.days_since_last_order, 20);
    /* 5 per order + 30.00 / 100.00 */
    assert_float_equal(v.loyalty.loyalty_score, 15.3, 1e-9);
    assert_int_equal(v.n_categories, 1);
    assert_string_equal(v.categories[0].category_id, "cat_coffee");
    assert_float_equal(v.categories[0].a.affinity_score, 100, 1e-9);
    assert_int_equal(v.n_replenishment, 1);
    assert_string_equal(v.replenishment[0].product_id, "prd_latte");
    assert_int_equal(v.replenishment[0].r.cycle_days, 30);
    assert_true(v.replenishment[0].r.is_recurring);
    assert_float_equal(v.replenishment[0].r.confidence_score, 50, 1e-9);
    assert_int_equal(v.replenishment[0].r.next_expected_purchase_at_ms, NOW + 10 * DAY);
    assert_string_equal(v.variety.explorer_type, "REPEAT_BUYER");
    assert_int_equal(v.variety.unique_sku_last_90, 1);
    /* 900 customers with orders: RFM scored; the model's gate is passed, so predictions exist */
    assert_true(v.prediction.has_rfm);
    if (!v.prediction.has_prediction)
        fail_msg("no prediction: %s", v.prediction.reason);
    assert_true(v.prediction.p_alive > 0 && v.prediction.p_alive <= 1);
    assert_float_equal(v.prediction.churn_probability, 1 - v.prediction.p_alive, 1e-12);
    assert_true(v.prediction.predicted_clv > 0);
    /* a customer without orders: NEW, no RFM, a reason instead of predictions */
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT customer_id FROM customer WHERE public_id = 'cus_000004'");
    int64_t none = one(f->c, sql);
    OK(profile_store_read(f->c, f->t1, b, none, &f->a, &v, e));
    assert_true(v.found);
    assert_string_equal(v.loyalty.loyalty_tier, "NEW");
    assert_false(v.prediction.has_rfm);
    assert_false(v.prediction.has_prediction);
    assert_non_null(strstr(v.prediction.reason, "no purchase"));
}

static void test_one_customer_and_joining(void **state)
{
    struct fixture *f = *state;
    err_init(e);
    /* no batch yet: computing one customer makes a batch of that one current */
    OK(intel_profiles_run_one(f->c, f->t1, f->first_customer, NOW, e));
    int64_t b = current_batch(f);
    assert_true(b > 0);
    assert_int_equal(one(f->c, "SELECT count(*) FROM customer_loyalty_profile"), 1);
    /* again: its rows are replaced, not added */
    OK(intel_profiles_run_one(f->c, f->t1, f->first_customer, NOW + DAY, e));
    assert_int_equal(current_batch(f), b);
    assert_int_equal(one(f->c, "SELECT count(*) FROM customer_loyalty_profile"), 1);
    assert_int_equal(one(f->c, "SELECT days_since_last_order FROM customer_loyalty_profile"), 21);
    /* another tenant's customer is not found */
    int64_t other = one(f->c, "SELECT customer_id FROM customer WHERE public_id = 'cus_other'");
    assert_int_equal(intel_profiles_run_one(f->c, f->t1, other, NOW, e), ERR_NOT_FOUND);

    /* a recompute while one is pending joins it */
    int64_t j1 = 0, j2 = 0;
    bool joined = true;
    err_init(e);
    OK(intel_profiles_recompute(f->c, f->t1, NOW, NOW, &j1, &joined, e));
    assert_false(joined);
    OK(intel_profiles_recompute(f->c, f->t1, NOW, NOW, &j2, &joined, e));
    assert_true(joined);
    assert_int_equal(j1, j2);
    assert_int_equal(one(f->c, "SELECT count(*) FROM profile_batch WHERE status = 'running'"), 1);
    /* the other tenant is not joined to it */
    OK(intel_profiles_recompute(f->c, f->t2, NOW, NOW, &j2, &joined, e));
    assert_false(joined);
    assert_true(j2 != j1);
    /* progress is recorded on the job */
    struct profile_batch_row row;
    bool found = false;
    int64_t bid = one(f->c, "SELECT min(batch_id) FROM profile_batch WHERE status = 'running'");
    OK(profile_store_batch_get(f->c, f->t1, bid, &f->a, &row, &found, e));
    assert_true(found);
    assert_int_equal(row.job_id, j1);
    OK(intel_profiles_run(f->c, f->t1, bid, j1, NOW, NULL, NULL, NULL, e));
    struct job_row job;
    OK(jobs_get(f->c, f->t1, false, j1, &f->a, &job, e));
    assert_int_equal(job.progress_done, N_CUSTOMERS);
    assert_int_equal(job.progress_total, N_CUSTOMERS);
}

/*
 * Price sensitivity reads what the orders say: an order placed under a campaign (orders.campaign)
 * and each item's own list price, which wins over the product's price today. Tenant t2's
 * customer: 50.00 at list 50.00 under campaign "SUMMER", then 30.00 at list 30.00 (the product
 * costs 50.00 today, but that item was not discounted). D = 0, C = 50/80, P = 1/2:
 * 100 · (0.4·0 + 0.3·0.625 + 0.3·0.5) = 33.75 (reading the product's price instead gives 63.75).
 */
static void test_campaign_and_list_price(void **state)
{
    struct fixture *f = *state;
    char sql[512];
    exec_sql(f->c, "BEGIN");
    snprintf(sql, sizeof(sql),
             "INSERT INTO product (tenant_id, public_id, name, price, currency, created_at, "
             "updated_at) VALUES (%lld, 'prd_t2', 'latte', 5000, 'TRY', '2024-01-01T00:00:00Z', "
             "'2024-01-01T00:00:00Z')",
             (long long)f->t2);
    exec_sql(f->c, sql);
    int64_t prd = one(f->c, "SELECT max(product_id) FROM product");
    int64_t cus = one(f->c, "SELECT max(customer_id) FROM customer");
    const struct {
        int days;
        int64_t paid;
        const char *campaign;
    } o[2] = {{40, 5000, "'SUMMER'"}, {10, 3000, "NULL"}};
    char ts[40];
    for (int j = 0; j < 2; j++) {
        clock_format_iso(NOW - o[j].days * DAY, ts);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO orders (tenant_id, public_id, customer_id, status, currency, "
                 "total_amount, created_at, updated_at, campaign) VALUES (%lld, 'ord_t2_%d', "
                 "%lld, 'paid', 'TRY', %lld, '%s', '%s', %s)",
                 (long long)f->t2, j, (long long)cus, (long long)o[j].paid, ts, ts, o[j].campaign);
        exec_sql(f->c, sql);
        int64_t ord = one(f->c, "SELECT max(order_id) FROM orders");
        snprintf(sql, sizeof(sql),
                 "INSERT INTO order_item (tenant_id, order_id, product_id, quantity, price, "
                 "list_price) VALUES (%lld, %lld, %lld, 1, %lld, %lld)",
                 (long long)f->t2, (long long)ord, (long long)prd, (long long)o[j].paid,
                 (long long)o[j].paid);
        exec_sql(f->c, sql);
    }
    exec_sql(f->c, "COMMIT");
    int64_t b = 0;
    err_init(e);
    OK(profile_store_batch_create(f->c, f->t2, NOW, 0, NOW, &b, e));
    OK(intel_profiles_run(f->c, f->t2, b, 0, NOW, NULL, NULL, NULL, e));
    struct profile_view v;
    OK(profile_store_read(f->c, f->t2, b, cus, &f->a, &v, e));
    assert_true(v.found);
    assert_true(v.budget.has_price_sensitivity);
    assert_float_equal(v.budget.price_sensitivity_score, 33.75, 1e-9);
}

/*
 * Orders stored out of time order (ids newest first) are read oldest first: the loyalty profile's
 * last order is the newest one, not the last stored. Tenant t2's customer: orders 10, 70 and 40
 * days before NOW, stored in that order.
 */
static void test_orders_read_oldest_first(void **state)
{
    struct fixture *f = *state;
    char sql[512], ts[40];
    exec_sql(f->c, "BEGIN");
    int64_t cus = one(f->c, "SELECT max(customer_id) FROM customer");
    const int days[3] = {10, 70, 40};
    for (int j = 0; j < 3; j++) {
        clock_format_iso(NOW - days[j] * DAY, ts);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO orders (tenant_id, public_id, customer_id, status, currency, "
                 "total_amount, created_at, updated_at) VALUES (%lld, 'ord_late_%d', %lld, "
                 "'paid', 'TRY', 1000, '%s', '%s')",
                 (long long)f->t2, j, (long long)cus, ts, ts);
        exec_sql(f->c, sql);
    }
    exec_sql(f->c, "COMMIT");
    int64_t b = 0;
    err_init(e);
    OK(profile_store_batch_create(f->c, f->t2, NOW, 0, NOW, &b, e));
    OK(intel_profiles_run(f->c, f->t2, b, 0, NOW, NULL, NULL, NULL, e));
    struct profile_view v;
    OK(profile_store_read(f->c, f->t2, b, cus, &f->a, &v, e));
    assert_true(v.found);
    assert_true(v.loyalty.has_last_order);
    assert_int_equal(v.loyalty.last_order_at_ms, NOW - 10 * DAY);
    assert_int_equal(v.loyalty.days_since_last_order, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resume_and_switch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_campaign_and_list_price, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_scans_same_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orders_read_oldest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_customer_and_joining, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("profile_batch", tests, &backend);
}
