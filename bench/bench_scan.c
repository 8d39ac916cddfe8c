/* SPDX-License-Identifier: MIT */
/*
 * A scan's inputs from the database against the live index (domain/flash/live_index.h), in one
 * process, with the engine alone as the same-run baseline. Usage:
 *   bench_scan DB_URL N_SELLERS N_BUYERS [RUNS]
 * Seeds the default tenant of a fresh database (one wish per buyer, a 40 x 40 km city), then
 * times, as medians of RUNS: the engine alone (grid + scores over rows in memory), a scan that
 * reads sellers, buyers and demand on every call (flash_live_read + scan, as before the index),
 * and a scan through a warm live index (one version read + scan over the kept grid). Prints the
 * index's memory per buyer. Run by `make bench` (scripts/bench.sh).
 */
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "db/migrate.h"
#include "domain/account/account.h"
#include "domain/flash/flash_store.h"
#include "domain/flash/live_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int die(const struct err *e)
{
    fprintf(stderr, "bench_scan: %s\n", e->msg);
    return 1;
}

static int dbl_cmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static unsigned seed = 42;
static double unit(void)
{
    seed = seed * 1103515245u + 12345u;
    return (double)((seed >> 8) % 100000) / 100000.0;
}

static int fill(struct db_conn *c, int64_t tenant, int n_sellers, int n_buyers, int64_t now,
                struct err *e)
{
    static const char *const cats[] = {"coffee", "bakery", "dessert", "restaurant"};
    struct arena a;
    arena_init(&a);
    int rc = db_begin(c, e);
    for (int i = 0; !rc && i < n_sellers; i++) {
        struct flash_seller s;
        memset(&s, 0, sizeof(s));
        s.id = arena_printf(&a, "S%06d", i);
        s.phone = arena_printf(&a, "+90532%07d", i);
        s.name = s.id;
        s.category = cats[i % 4];
        s.loc = (struct flash_location){40.85 + unit() * 0.36, 28.85 + unit() * 0.47, "", ""};
        s.stock_status = "";
        s.currency = "TRY";
        s.max_discount = 25;
        s.capacity = 8;
        s.opening_hours = "";
        bool created;
        rc = flash_store_seller_upsert(c, tenant, &s, now, &a, &created, e);
    }
    for (int i = 0; !rc && i < n_buyers; i++) {
        struct flash_buyer b;
        memset(&b, 0, sizeof(b));
        b.id = arena_printf(&a, "B%07d", i);
        b.phone = arena_printf(&a, "+90533%07d", i);
        b.name = b.id;
        b.loc = (struct flash_location){40.85 + unit() * 0.36, 28.85 + unit() * 0.47, "", ""};
        b.consent = true;
        b.language = "tr";
        bool created;
        rc = flash_store_buyer_upsert(c, tenant, &b, now, &a, &created, e);
        struct flash_demand_in d = {.buyer_pk = b.pk,
                                    .text = "latte istiyorum",
                                    .product = "latte",
                                    .category = cats[i % 4],
                                    .currency = "TRY",
                                    .expires_at = now + 6 * 3600 * 1000LL};
        int64_t pk;
        if (!rc)
            rc = flash_store_demand_add(c, tenant, &d, now, &pk, e);
        if (i % 1000 == 999) {
            arena_release(&a);
            arena_init(&a);
        }
    }
    rc = rc ? (db_rollback(c), rc) : db_commit(c, e);
    arena_release(&a);
    return rc;
}

static int scan(const struct flash_live_inputs *in, int64_t now, bool own_grid, struct arena *a,
                struct err *e)
{
    struct flash_scan_input si = {.cfg = &in->cfg,
                                  .sellers = in->sellers,
                                  .n_sellers = in->n_sellers,
                                  .demand = in->demand,
                                  .n_demand = in->n_demand,
                                  .precommits = in->precommits,
                                  .now_ms = now,
                                  .grid = own_grid ? NULL : in->grid};
    struct flash_score *s;
    size_t n;
    return flash_scan(&si, a, &s, &n, e);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s DB_URL N_SELLERS N_BUYERS [RUNS]\n", argv[0]);
        return 2;
    }
    int n_sellers = (int)strtol(argv[2], NULL, 10), n_buyers = (int)strtol(argv[3], NULL, 10);
    int runs = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 9;
    if (runs < 1 || runs > 99)
        runs = 9;
    log_set_level(LOG_WARN);
    struct err e;
    err_init(&e);
    struct db *db;
    struct db_conn *c;
    if (sec_init(&e) || db_open(&db, argv[1], NULL, &e) || db_migrate(db, NULL, &e) ||
        db_conn_acquire(db, &c, &e))
        return die(&e);
    int64_t now = clock_now_ms(NULL), tenant;
    if (account_tenant_ensure(c, ACCOUNT_DEFAULT_TENANT, now, &tenant, &e) ||
        fill(c, tenant, n_sellers, n_buyers, now, &e))
        return die(&e);

    struct flash_live *live = flash_live_new();
    double engine[99], db_ms[99], live_ms[99];
    for (int i = 0; i < runs; i++) {
        struct arena a;
        arena_init(&a);
        struct flash_live_inputs in;
        int64_t t0 = clock_mono_ns();
        if (flash_live_read(c, tenant, now, &a, &in, &e))
            return die(&e);
        int64_t t1 = clock_mono_ns();
        if (scan(&in, now, true, &a, &e))
            return die(&e);
        int64_t t2 = clock_mono_ns();
        engine[i] = (double)(t2 - t1) / 1e6;
        db_ms[i] = (double)(t2 - t0) / 1e6;
        arena_release(&a);
    }
    for (int i = 0; i <= runs; i++) { /* the first call reads the tenant: not counted */
        struct arena a;
        arena_init(&a);
        struct flash_live_inputs in;
        int64_t t0 = clock_mono_ns();
        if (flash_live_get(live, c, tenant, now, &a, &in, &e) || scan(&in, now, false, &a, &e))
            return die(&e);
        int64_t t1 = clock_mono_ns();
        if (i)
            live_ms[i - 1] = (double)(t1 - t0) / 1e6;
        arena_release(&a);
    }
    qsort(engine, (size_t)runs, sizeof(double), dbl_cmp);
    qsort(db_ms, (size_t)runs, sizeof(double), dbl_cmp);
    qsort(live_ms, (size_t)runs, sizeof(double), dbl_cmp);
    double me = engine[runs / 2], md = db_ms[runs / 2], ml = live_ms[runs / 2];
    struct flash_live_stats st;
    flash_live_stats(live, &st);
    printf("  scan %dx%d, medians of %d: engine alone %.2f ms; reading the database every call "
           "%.2f ms (%.1fx the engine); live index %.2f ms (%.2fx the engine, %.1fx faster)\n",
           n_sellers, n_buyers, runs, me, md, md / me, ml, ml / me, md / ml);
    printf("  live index memory: %.1f MB for %zu demand and %zu sellers, %.0f bytes per buyer "
           "(rows, strings, grid)\n",
           (double)st.bytes / 1e6, st.demand, st.sellers,
           st.demand ? (double)st.bytes / (double)st.demand : 0.0);
    flash_live_free(live);
    db_conn_release(c);
    db_close(db);
    return 0;
}
