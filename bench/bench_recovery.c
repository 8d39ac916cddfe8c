/* SPDX-License-Identifier: MIT */
/*
 * Abandoned-cart recovery at scale for `make bench`: N Shopify integrations (one agent each,
 * all pointed at one local Shopify fake holding C abandoned checkouts, tests/support/
 * fake_shopify.c compiled in) polled in one cycle by the real "recovery.poll" jobs on the slow
 * lane; reports how long the cycle took to fetch, land and deliver-queue every cart. The target
 * is 1,000 integrations x 50 carts within 30 s. Deliveries are queued, not sent.
 * Usage: bench_recovery URL [N=1000] [C=50] [THREADS=2]
 */
#include "core/clock.h"
#include "core/crypto.h"
#include "core/err.h"
#include "db/db.h"
#include "db/migrate.h"
#include "db/store.h"
#include "domain/account/account.h"
#include "domain/recovery/recovery.h"
#include "domain/webhooks/webhooks.h"
#include "jobs/worker.h"
#include "net/httpc.h"

#include "../tests/support/fake_http.c"
#include "../tests/support/fake_shopify.c"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define TOKEN      "shpat_bench"
#define TIMEOUT_MS (10 * 60 * 1000)

static long parse_long(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    return v;
}

static int fail(const struct err *e, const char *what)
{
    fprintf(stderr, "bench_recovery: %s: %s\n", what, e->msg[0] ? e->msg : err_code_name(e->code));
    return 1;
}

/* A tenant with N agents, one Shopify integration each, all at the fake. */
static int seed(struct db *db, const unsigned char *key, long n, const char *shop_url,
                int64_t *tenant, struct err *e)
{
    struct db_conn *c;
    int rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    int64_t now = clock_now_ms(NULL);
    char name[64];
    snprintf(name, sizeof(name), "bench-recovery-%lld", (long long)now);
    rc = account_tenant_create(c, name, now, tenant, e);
    struct arena a;
    arena_init(&a);
    for (long i = 0; !rc && i < n; i++) {
        char agent_name[32], secret[WEBHOOKS_SECRET_SIZE];
        snprintf(agent_name, sizeof(agent_name), "agent %ld", i);
        struct recovery_agent ag = {.name = agent_name,
                                    .company = "Bench",
                                    .template_slug = RECOVERY_TEMPLATE_SLUG,
                                    .is_active = true,
                                    .recovery_url = "http://127.0.0.1:9/recover",
                                    .cutoff_minutes = 60,
                                    .cooldown_days = 7};
        rc = recovery_agent_create(c, *tenant, &ag, now, secret, sizeof(secret), e);
        struct recovery_integration_in in = {.platform = "shopify",
                                             .shop_domain = "bench.myshopify.com",
                                             .access_token = TOKEN,
                                             .base_url = shop_url};
        struct recovery_integration out;
        if (!rc)
            rc = recovery_integration_create(c, key, *tenant, ag.id, &in, now, &a, &out, e);
        arena_release(&a);
        arena_init(&a);
    }
    arena_release(&a);
    db_conn_release(c);
    return rc;
}

static int cycle_state(struct db *db, int64_t tenant, int64_t cycle, bool *finished, int64_t *carts,
                       struct err *e)
{
    struct db_conn *c;
    int rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "SELECT carts_fetched, CASE WHEN finished_at IS NULL THEN 0 ELSE 1 END "
                    "FROM recovery_cycles WHERE tenant_id = ? AND id = ?",
                    e);
    if (!rc) {
        db_bind_i64(s, 1, tenant);
        db_bind_i64(s, 2, cycle);
        int st = db_step(s, e);
        if (st == DB_ROW) {
            *carts = db_col_i64(s, 0);
            *finished = db_col_i64(s, 1) != 0;
        }
        db_stmt_done(s);
        rc = st == DB_ERROR ? db_step_error(e) : 0;
    }
    db_conn_release(c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [N] [C] [THREADS]\n", argv[0]);
        return 2;
    }
    long n = argc > 2 ? parse_long(argv[2], 1, 100000) : 1000;
    long carts = argc > 3 ? parse_long(argv[3], 1, 50) : 50;
    long threads = argc > 4 ? parse_long(argv[4], 1, 64) : 2;
    if (n < 0 || carts < 0 || threads < 0) {
        fprintf(stderr, "bench_recovery: bad N, C or THREADS\n");
        return 2;
    }
    struct err e;
    err_init(&e);
    if (sec_init(&e) || httpc_global_init(&e))
        return fail(&e, "init");
    struct fake_shopify *shop = fake_shopify_start(TOKEN);
    if (!shop)
        return 1;
    time_t two_hours_ago = time(NULL) - 7200;
    for (long i = 0; i < carts; i++) {
        char iso[32], email[64];
        time_t t = two_hours_ago + i;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(email, sizeof(email), "c%ld@example.com", i);
        fake_shopify_add(shop, (int)i + 1, iso, NULL, email, NULL, "42.50", "TRY");
    }
    unsigned char key[SEC_BOX_KEY_LEN];
    sec_random_bytes(key, sizeof(key));

    struct db *db = NULL;
    struct db_options o = {.pool_size = (int)threads + 4, .busy_timeout_ms = 10000};
    int rc = db_open(&db, argv[1], &o, &e);
    if (!rc)
        rc = db_migrate(db, NULL, &e);
    int64_t tenant = 0;
    if (!rc)
        rc = seed(db, key, n, fake_shopify_url(shop), &tenant, &e);
    if (rc) {
        db_close(db);
        fake_shopify_stop(shop);
        return fail(&e, "setup");
    }

    struct job_registry *reg = job_registry_new();
    struct job_workers *w = NULL;
    struct job_workers_options wo = {.threads = (int)threads, .poll_ms = 20, .lane = RECOVERY_LANE};
    rc = recovery_jobs_register(reg, key, &e);
    int64_t cycle = 0;
    int jobs = 0;
    int64_t t0 = clock_mono_ms(), t1 = t0, fetched = 0;
    if (!rc) {
        struct db_conn *c;
        rc = db_conn_acquire(db, &c, &e);
        if (!rc) {
            rc = recovery_cycle_start(c, tenant, "test", clock_now_ms(NULL), &cycle, &jobs, &e);
            db_conn_release(c);
        }
    }
    if (!rc)
        rc = job_workers_start(db, reg, NULL, &wo, &w, &e);
    bool finished = false;
    while (!rc) {
        rc = cycle_state(db, tenant, cycle, &finished, &fetched, &e);
        t1 = clock_mono_ms();
        if (rc || finished)
            break;
        if (t1 - t0 > TIMEOUT_MS) {
            rc = err_set(&e, ERR_TIMEOUT, "cycle unfinished after %d s", TIMEOUT_MS / 1000);
            break;
        }
        usleep(20 * 1000);
    }
    job_workers_stop(w, 5000);
    job_registry_free(reg);
    size_t requests = fake_shopify_requests(shop);
    const char *backend = db_backend_name(db);
    db_close(db);
    fake_shopify_stop(shop);
    httpc_global_cleanup();
    if (rc)
        return fail(&e, "cycle");
    double s = (double)(t1 - t0) / 1000.0;
    printf("recovery: %ld integrations x %ld carts = %lld carts in %.2f s = %.0f carts/s "
           "(%s, %ld poll threads, %zu shop requests)%s\n",
           n, carts, (long long)fetched, s, s > 0 ? (double)fetched / s : 0.0, backend, threads,
           requests, s <= 30.0 ? "" : "  OVER the 30 s target");
    return 0;
}
