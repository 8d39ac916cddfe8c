/* SPDX-License-Identifier: MIT */
/*
 * The profile batch for `make bench`: C customers with O orders in all (one item each, over 200
 * products in 12 categories, spread over two years) written straight into the tables, then
 *   batch      every customer's five profiles, RFM and predictions by intel_profiles_run (the
 *              nightly batch: one read of the orders for the model and RFM, then chunks of 500
 *              customers per transaction), with its time and the process's peak resident memory;
 *   reference  the seed's way (its ProfileService): per customer and per profile, a query for the
 *              customer and one for its orders, then that customer's rows written in a
 *              transaction of their own, over R customers spread evenly over all C (they buy
 *              unevenly), scaled to C.
 * Prints customers per second of both and their ratio, measured in the same run.
 * Aim: 100,000 customers with 2,000,000 orders in <= 10 s under 200 MB, >= 50x the reference.
 * Usage: bench_profiles DB_URL [C=100000] [O=2000000] [R=2000] [populate]
 * A database whose tenant already holds C customers is used as it is, as of the instant its
 * orders were written for (a copy of one written with `populate`, which stops after writing, so
 * runs can be repeated alike without writing again).
 */
#include "core/arena.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/migrate.h"
#include "db/store.h"
#include "domain/account/account.h"
#include "domain/intel/profile_batch.h"
#include "domain/intel/profile_store.h"
#include "domain/intel/profiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define DAY 86400000LL

static int die(const char *what, const struct err *e)
{
    fprintf(stderr, "bench_profiles: %s: %s\n", what, e->msg);
    return 1;
}

/* Peak resident memory of this process, MB (VmHWM). */
static double peak_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtod(line + 6, NULL);
    if (f)
        fclose(f);
    return kb / 1024;
}

/* CPU seconds (user + system) this process has used: a figure a loaded machine disturbs less. */
static double cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static int exec1(struct db_conn *c, const char *sql, struct err *e)
{
    return db_exec(c, sql, e);
}

static int populate(struct db_conn *c, int64_t tenant, long customers, long orders, int64_t now,
                    struct err *e)
{
    int rc = db_begin(c, e);
    struct db_stmt *s;
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(now - 800 * DAY, ts);
    int64_t cat0 = 0, prd0 = 0, cus0 = 0;
    for (int k = 0; !rc && k < 12; k++) {
        rc = db_prepare(c, &s,
                        "INSERT INTO category (tenant_id, public_id, name, created_at) VALUES "
                        "(?, ?, ?, ?) RETURNING category_id",
                        e);
        if (rc)
            break;
        char id[32], name[32];
        snprintf(id, sizeof(id), "cat_%d", k);
        snprintf(name, sizeof(name), "category %d", k);
        db_bind_i64(s, 1, tenant);
        db_bind_text(s, 2, id);
        db_bind_text(s, 3, name);
        db_bind_text(s, 4, ts);
        bool found;
        int64_t pk = 0;
        rc = db_one_i64(s, &pk, &found, e);
        if (k == 0)
            cat0 = pk;
    }
    for (int k = 0; !rc && k < 200; k++) {
        rc = db_prepare(c, &s,
                        "INSERT INTO product (tenant_id, public_id, category_id, name, price, "
                        "currency, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'TRY', ?, ?) "
                        "RETURNING product_id",
                        e);
        if (rc)
            break;
        char id[32], name[32];
        snprintf(id, sizeof(id), "prd_%d", k);
        snprintf(name, sizeof(name), "product %d", k);
        db_bind_i64(s, 1, tenant);
        db_bind_text(s, 2, id);
        db_bind_i64(s, 3, cat0 + k % 12);
        db_bind_text(s, 4, name);
        db_bind_i64(s, 5, 1000 + 50 * k);
        db_bind_text(s, 6, ts);
        db_bind_text(s, 7, ts);
        bool found;
        int64_t pk = 0;
        rc = db_one_i64(s, &pk, &found, e);
        if (k == 0)
            prd0 = pk;
    }
    for (long k = 0; !rc && k < customers; k++) {
        rc = db_prepare(c, &s,
                        "INSERT INTO customer (tenant_id, public_id, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?) RETURNING customer_id",
                        e);
        if (rc)
            break;
        char id[32];
        snprintf(id, sizeof(id), "cus_%ld", k);
        db_bind_i64(s, 1, tenant);
        db_bind_text(s, 2, id);
        db_bind_text(s, 3, ts);
        db_bind_text(s, 4, ts);
        bool found;
        int64_t pk = 0;
        rc = db_one_i64(s, &pk, &found, e);
        if (k == 0)
            cus0 = pk;
    }
    uint64_t seed = 2024;
    for (long i = 0; !rc && i < orders; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        /* customers buy unevenly: a squared draw favours low numbers */
        double u = (double)(seed >> 11) / 9007199254740992.0;
        long cust = (long)(u * u * (double)customers);
        int64_t at = now - (int64_t)((seed >> 20) % 730) * DAY - (int64_t)(seed % 86400000);
        clock_format_iso(at, ts);
        int64_t prd = prd0 + (int64_t)((cust * 7 + (long)((seed >> 40) % 5)) % 200);
        int64_t price = 1000 + 50 * ((prd - prd0) % 200);
        char id[32];
        snprintf(id, sizeof(id), "ord_%ld", i);
        rc = db_prepare(c, &s,
                        "INSERT INTO orders (tenant_id, public_id, customer_id, status, currency, "
                        "total_amount, created_at, updated_at) VALUES (?, ?, ?, 'paid', 'TRY', ?, "
                        "?, ?) RETURNING order_id",
                        e);
        if (rc)
            break;
        db_bind_i64(s, 1, tenant);
        db_bind_text(s, 2, id);
        db_bind_i64(s, 3, cus0 + cust);
        db_bind_i64(s, 4, price);
        db_bind_text(s, 5, ts);
        db_bind_text(s, 6, ts);
        bool found;
        int64_t order = 0;
        rc = db_one_i64(s, &order, &found, e);
        if (!rc)
            rc = db_prepare(c, &s,
                            "INSERT INTO order_item (tenant_id, order_id, product_id, quantity, "
                            "price) VALUES (?, ?, ?, 1, ?)",
                            e);
        if (!rc) {
            db_bind_i64(s, 1, tenant);
            db_bind_i64(s, 2, order);
            db_bind_i64(s, 3, prd);
            db_bind_i64(s, 4, price);
            rc = db_exec_write(s, NULL, e);
        }
        if (!rc && i % 200000 == 199999) {
            rc = db_commit(c, e);
            if (!rc)
                rc = db_begin(c, e);
        }
    }
    if (rc) {
        db_rollback(c);
        return rc;
    }
    rc = db_commit(c, e);
    if (!rc)
        rc = exec1(c, "ANALYZE", e);
    return rc;
}

/* The seed's way for one customer: five times (once per profile) the customer and its orders. */
static int reference_one(struct db_conn *c, int64_t tenant, int64_t batch, int64_t pk, int64_t now,
                         const struct intel_profile_config *cfg, struct err *e)
{
    struct arena a;
    arena_init(&a);
    struct intel_profile_history h;
    int rc = 0;
    for (int profile = 0; !rc && profile < 5; profile++) {
        struct db_stmt *s;
        rc = db_prepare(c, &s,
                        "SELECT customer_id FROM customer WHERE tenant_id = ? AND "
                        "customer_id = ?",
                        e);
        if (rc)
            break;
        db_bind_i64(s, 1, tenant);
        db_bind_i64(s, 2, pk);
        int64_t got = 0;
        bool found;
        rc = db_one_i64(s, &got, &found, e);
        if (!rc)
            rc = db_prepare(c, &s,
                            "SELECT o.order_id, o.created_at, o.total_amount, i.product_id, "
                            "p.category_id, i.quantity, i.price, p.price FROM orders o JOIN "
                            "order_item i ON i.order_id = o.order_id JOIN product p ON "
                            "p.product_id = i.product_id WHERE o.tenant_id = ? AND o.customer_id "
                            "= ? AND o.status IN ('placed', 'paid') ORDER BY o.created_at, "
                            "o.order_id",
                            e);
        if (rc)
            break;
        db_bind_i64(s, 1, tenant);
        db_bind_i64(s, 2, pk);
        intel_profile_history_init(&h);
        int64_t last = -1;
        int st;
        while ((st = db_step(s, e)) == DB_ROW) {
            if (db_col_i64(s, 0) != last) {
                last = db_col_i64(s, 0);
                struct intel_profile_order o = {.created_at_ms = db_col_time(s, 1),
                                                .status = COMMERCE_ORDER_PAID,
                                                .total = db_col_i64(s, 2)};
                intel_profile_history_add_order(&h, &a, &o);
            }
            struct intel_profile_item it = {.product_id = db_col_i64(s, 3),
                                            .category_id = db_col_i64(s, 4),
                                            .quantity = db_col_i64(s, 5),
                                            .unit_price = db_col_i64(s, 6),
                                            .list_price = db_col_i64(s, 7)};
            intel_profile_history_add_item(&h, &a, &it);
        }
        db_stmt_done(s);
        if (st == DB_ERROR)
            rc = db_step_error(e);
    }
    struct intel_profiles p;
    if (!rc)
        rc = intel_profiles_compute(&h, now, cfg, &a, &p, e);
    struct profile_prediction_row pred = {.reason = "reference"};
    if (!rc)
        rc = profile_store_write(c, tenant, batch, pk, &p, &pred, now, e);
    arena_release(&a);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DB_URL [CUSTOMERS] [ORDERS] [REFERENCE_CUSTOMERS] [populate]\n",
                argv[0]);
        return 2;
    }
    long customers = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;
    long orders = argc > 3 ? strtol(argv[3], NULL, 10) : 2000000;
    long ref_n = argc > 4 ? strtol(argv[4], NULL, 10) : 2000;
    bool populate_only = argc > 5 && strcmp(argv[5], "populate") == 0;
    if (customers < 1 || orders < 1 || ref_n < 1)
        return 2;
    if (ref_n > customers)
        ref_n = customers;
    log_set_level(LOG_WARN);
    struct err e;
    err_init(&e);
    struct db *db;
    struct db_conn *c;
    if (db_open(&db, argv[1], NULL, &e) || db_migrate(db, NULL, &e))
        return die("open", &e);
    if (db_conn_acquire(db, &c, &e))
        return die("connection", &e);
    int64_t tenant, now = clock_now_ms(NULL);
    if (account_tenant_ensure(c, "default", now, &tenant, &e))
        return die("tenant", &e);
    struct db_stmt *s;
    if (db_prepare(c, &s, "SELECT count(*) FROM customer WHERE tenant_id = ?", &e))
        return die("count", &e);
    db_bind_i64(s, 1, tenant);
    int64_t have = 0;
    bool found;
    if (db_one_i64(s, &have, &found, &e))
        return die("count", &e);
    int64_t t0 = clock_mono_ns();
    if (have == customers && !populate_only) {
        /* as of the instant the orders were written for, so runs on copies compute alike */
        if (db_prepare(c, &s, "SELECT min(created_at) FROM category WHERE tenant_id = ?", &e))
            return die("written", &e);
        db_bind_i64(s, 1, tenant);
        int st = db_step(s, &e);
        if (st == DB_ROW)
            now = db_col_time(s, 0) + 800 * DAY;
        db_stmt_done(s);
        if (st == DB_ERROR)
            return die("written", &e);
        printf("%ld customers on %s, written before\n", customers, db_backend_name(db));
    } else {
        if (have) {
            fprintf(stderr, "bench_profiles: the tenant holds %lld customers, not %ld\n",
                    (long long)have, customers);
            return 1;
        }
        if (populate(c, tenant, customers, orders, now, &e))
            return die("populate", &e);
        printf("%ld customers, %ld orders (one item each) on %s, written in %.1f s\n", customers,
               orders, db_backend_name(db), (double)(clock_mono_ns() - t0) / 1e9);
    }
    if (populate_only) {
        db_conn_release(c);
        db_close(db);
        return 0;
    }
    double before = peak_mb();

    int64_t batch = 0;
    if (profile_store_batch_create(c, tenant, now, 0, now, &batch, &e))
        return die("batch", &e);
    t0 = clock_mono_ns();
    double cpu0 = cpu_s();
    if (intel_profiles_run(c, tenant, batch, 0, now, NULL, NULL, NULL, &e))
        return die("batch run", &e);
    double secs = (double)(clock_mono_ns() - t0) / 1e9, cpu = cpu_s() - cpu0;
    double peak = peak_mb();
    printf("batch:     %ld customers in %.2f s (%.2f s of CPU): %.0f customers/s; peak resident "
           "%.0f MB (%.0f MB before the batch)\n",
           customers, secs, cpu, (double)customers / secs, peak, before);

    /* the reference writes into a batch of its own */
    int64_t ref_batch = 0;
    if (profile_store_batch_create(c, tenant, now, 0, now, &ref_batch, &e))
        return die("reference batch", &e);
    struct intel_profile_config cfg;
    intel_profile_config_default(&cfg, 2);
    if (db_prepare(c, &s, "SELECT min(customer_id) FROM customer WHERE tenant_id = ?", &e))
        return die("reference", &e);
    db_bind_i64(s, 1, tenant);
    int64_t first = 0;
    if (db_one_i64(s, &first, &found, &e))
        return die("reference", &e);
    t0 = clock_mono_ns();
    cpu0 = cpu_s();
    for (long k = 0; k < ref_n; k++)
        if (reference_one(c, tenant, ref_batch, first + k * (customers / ref_n), now, &cfg, &e))
            return die("reference run", &e);
    double ref_secs = (double)(clock_mono_ns() - t0) / 1e9, ref_cpu = cpu_s() - cpu0;
    double ref_rate = (double)ref_n / ref_secs;
    printf("reference: %ld customers in %.2f s (%.2f s of CPU): %.0f customers/s (%.1f s for all "
           "%ld)\n",
           ref_n, ref_secs, ref_cpu, ref_rate, (double)customers / ref_rate, customers);
    printf("ratio:     the batch is %.1fx the reference's rate (%.1fx in CPU time per customer)\n",
           ((double)customers / secs) / ref_rate,
           (ref_cpu / (double)ref_n) / (cpu / (double)customers));
    db_conn_release(c);
    db_close(db);
    return 0;
}
