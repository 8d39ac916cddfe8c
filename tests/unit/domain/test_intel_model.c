/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/intel/intel_model.c on SQLite and PostgreSQL: a shop whose orders
 * follow BG/NBD with known parameters (per day) gets a fitted model near them; cancelled orders
 * and orders after as_of are not counted; several orders on one day are one occasion; a shop
 * below the data-sufficiency gate gets no fit but the reason; the main currency is the one with
 * the most counted orders up to as_of (ties: the first by code) and only its orders are summed.
 */
#include "domain/intel/intel_model.h"
#include "domain/account/account.h"
#include "support/check.h"
#include "support/testdb.h"
#include "core/clock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY   86400000LL
#define START 1767225600000LL /* 2026-01-01T00:00:00Z */

static enum db_backend backend;

static double u01(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return ((double)((*s * 0x2545F4914F6CDD1DULL) >> 11) + 0.5) / 9007199254740992.0;
}

static double gamma_draw(double k, uint64_t *s)
{
    if (k < 1)
        return gamma_draw(k + 1, s) * pow(u01(s), 1 / k);
    double d = k - 1.0 / 3, cc = 1 / sqrt(9 * d);
    for (;;) {
        double x, v;
        do {
            x = sqrt(-2 * log(u01(s))) * cos(6.283185307179586 * u01(s));
            v = 1 + cc * x;
        } while (v <= 0);
        v = v * v * v;
        if (log(u01(s)) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

static void order_in(struct db_conn *c, int64_t tenant, int cust, int n, int64_t at, int64_t amount,
                     const char *status, const char *currency)
{
    char sql[512], ts[CLOCK_ISO_LEN];
    clock_format_iso(at, ts);
    snprintf(sql, sizeof(sql),
             "INSERT INTO orders (tenant_id, public_id, customer_id, status, currency, "
             "total_amount, created_at, updated_at) VALUES (%lld, 'ord_%d_%d', %d, '%s', '%s', "
             "%lld, '%s', '%s')",
             (long long)tenant, cust, n, cust, status, currency, (long long)amount, ts, ts);
    OK(db_exec(c, sql, e));
}

static void order(struct db_conn *c, int64_t tenant, int cust, int n, int64_t at, int64_t amount,
                  const char *status)
{
    order_in(c, tenant, cust, n, at, amount, status, "TRY");
}

static void customer(struct db_conn *c, int64_t tenant, int id)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "INSERT INTO customer (customer_id, tenant_id, public_id, created_at, updated_at) "
             "VALUES (%d, %lld, 'cus_%d', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
             id, (long long)tenant, id);
    OK(db_exec(c, sql, e));
}

static void test_fit_from_orders(void **state)
{
    (void)state;
    struct testdb t;
    struct db *db = testdb_open_migrated(&t, backend, "intelmodel", NULL);
    struct db_conn *c = testdb_acquire(db);
    int64_t tenant = 0;
    OK(account_tenant_ensure(c, "shop", START, &tenant, e));
    const double r = 0.6, alpha = 25, a = 1.3, b = 4.0; /* per day */
    const int N = 1500;
    const int64_t as_of = START + 365 * DAY;
    uint64_t s = 7;
    OK(db_begin(c, e));
    for (int i = 1; i <= N; i++) {
        customer(c, tenant, i);
        /* first purchases spread over the year's first half */
        int64_t first = START + (int64_t)(u01(&s) * 180) * DAY + 10 * 3600 * 1000LL;
        double lambda = gamma_draw(r, &s) / alpha, ga = gamma_draw(a, &s), gb = gamma_draw(b, &s);
        double p = ga / (ga + gb), tday = 0;
        int n = 0;
        order(c, tenant, i, n++, first, 5000 + (int64_t)(u01(&s) * 5000), "paid");
        if (i == 1) /* two orders on the first day: one occasion */
            order(c, tenant, i, n++, first + 3600 * 1000LL, 1000, "paid");
        for (;;) {
            tday += -log(u01(&s)) / lambda;
            int64_t at = first + (int64_t)ceil(tday) * DAY;
            if (at > as_of + 60 * DAY)
                break;
            /* orders after as_of must be ignored; a cancelled one is an extra, never counted */
            if (u01(&s) < 0.05)
                order(c, tenant, i, n++, at - 2 * 3600 * 1000LL, 900000, "cancelled");
            order(c, tenant, i, n++, at, 5000 + (int64_t)(u01(&s) * 5000), "paid");
            if (u01(&s) < p)
                break; /* gone after this purchase */
        }
    }
    OK(db_commit(c, e));
    struct intel_model m;
    OK(intel_model_fit(c, tenant, as_of, &m, e));
    if (!m.fitted)
        fail_msg("not fitted: %s", m.reason);
    assert_string_equal(m.currency, "TRY");
    assert_int_equal(m.customers, N);
    assert_true(m.repeat_customers > 300);
    if (fabs(m.bgnbd.r - r) > 0.25 * r || fabs(m.bgnbd.alpha - alpha) > 0.35 * alpha)
        fail_msg("fit r %.3f alpha %.2f a %.3f b %.3f, drawn from r %.2f alpha %.1f", m.bgnbd.r,
                 m.bgnbd.alpha, m.bgnbd.a, m.bgnbd.b, r, alpha);
    assert_true(m.gamma_gamma.p > 0 && m.gamma_gamma.q > 1);
    /* the mean order value the model implies is near the drawn one (75 TRY) */
    double mean = m.gamma_gamma.p * m.gamma_gamma.gamma / (m.gamma_gamma.q - 1);
    assert_true(mean > 60 && mean < 90);

    /* before anyone came back there is nothing to fit, and the reason says so */
    OK(intel_model_fit(c, tenant, START + 3 * DAY, &m, e));
    assert_false(m.fitted);
    assert_non_null(strstr(m.reason, "not enough history"));
    /* another tenant has no orders at all */
    int64_t other = 0;
    OK(account_tenant_ensure(c, "empty", START, &other, e));
    OK(intel_model_fit(c, other, as_of, &m, e));
    assert_false(m.fitted);
    assert_string_equal(m.reason, "no orders yet");
    db_conn_release(c);
    db_close(db);
    testdb_remove(&t);
}

/* The summaries' counted orders and spend in all, and how many customers have one. */
static void sums(struct db_conn *c, int64_t tenant, int64_t as_of, struct intel_model *m,
                 int64_t *orders, double *spend, size_t *n)
{
    struct intel_customer_summary *rows = NULL;
    OK(intel_model_fit_customers(c, tenant, as_of, m, &rows, n, e));
    *orders = 0;
    *spend = 0;
    for (size_t i = 0; i < *n; i++) {
        *orders += rows[i].orders;
        *spend += rows[i].spend;
    }
    free(rows);
}

static void test_main_currency(void **state)
{
    (void)state;
    struct testdb t;
    struct db *db = testdb_open_migrated(&t, backend, "intelcur", NULL);
    struct db_conn *c = testdb_acquire(db);
    int64_t tenant = 0;
    OK(account_tenant_ensure(c, "shop", START, &tenant, e));
    const int64_t as_of = START + 100 * DAY;
    for (int i = 1; i <= 4; i++)
        customer(c, tenant, i);
    /* counted: EUR 3 (customers 1 and 2), TRY 2 (customer 3); not counted: TRY cancelled or
     * refunded, TRY after as_of */
    order_in(c, tenant, 1, 0, START + DAY, 1000, "paid", "EUR");
    order_in(c, tenant, 1, 1, START + 5 * DAY, 3000, "fulfilled", "EUR");
    order_in(c, tenant, 2, 0, START + 2 * DAY, 500, "pending", "EUR");
    order_in(c, tenant, 3, 0, START + DAY, 7000, "paid", "TRY");
    order_in(c, tenant, 3, 1, START + 9 * DAY, 100, "partially_refunded", "TRY");
    for (int k = 0; k < 4; k++) {
        order_in(c, tenant, 4, k, START + (k + 1) * DAY, 100, k % 2 ? "cancelled" : "refunded",
                 "TRY");
        order_in(c, tenant, 4, 10 + k, as_of + (k + 1) * DAY, 100, "paid", "TRY");
    }
    struct intel_model m;
    int64_t orders = 0;
    double spend = 0;
    size_t n = 0;
    sums(c, tenant, as_of, &m, &orders, &spend, &n);
    assert_string_equal(m.currency, "EUR");
    assert_int_equal(n, 2);
    assert_int_equal(orders, 3);
    assert_true(fabs(spend - 45.0) < 1e-9);
    /* a tie: the first by code */
    order_in(c, tenant, 3, 2, START + 20 * DAY, 900, "paid", "TRY");
    sums(c, tenant, as_of, &m, &orders, &spend, &n);
    assert_string_equal(m.currency, "EUR");
    assert_int_equal(orders, 3);
    /* one more in TRY: TRY's orders only, the customer without one left out */
    order_in(c, tenant, 2, 1, START + 30 * DAY, 1100, "paid", "TRY");
    sums(c, tenant, as_of, &m, &orders, &spend, &n);
    assert_string_equal(m.currency, "TRY");
    assert_int_equal(n, 2);
    assert_int_equal(orders, 4);
    assert_true(fabs(spend - 91.0) < 1e-9);
    db_conn_release(c);
    db_close(db);
    testdb_remove(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fit_from_orders),
                                       cmocka_unit_test(test_main_currency)};
    return TESTDB_RUN_GROUPS("intel_model", tests, &backend) ? 1 : 0;
}
