/* SPDX-License-Identifier: MIT */
/*
 * Verified payment webhooks accepted per second for `make bench`: N signed Stripe
 * payment_intent.succeeded deliveries go through what POST /api/webhooks/stripe does before its
 * 200 (the provider's signature check, the event's identity, and the inbound ledger's durable
 * record with its processing job, through group commit: concurrent deliveries share a commit), on
 * THREADS threads, each with its own connection as the HTTP threads have. The baseline, measured in
 * the same run on the same database, is the durable floor: one single-row insert of the same body
 * per transaction, on as many threads. Three rounds each; medians and their ratio are printed. With
 * "off" as the fourth argument the ledger writes commit one by one (group commit off). Usage:
 * bench_payments DB_URL [N=5000] [THREADS=4] [on|off]
 */
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "db/migrate.h"
#include "db/store.h"
#include "domain/account/account.h"
#include "integrations/inbound_ledger.h"
#include "integrations/provider.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "whsec_bench_payments_secret"
#define ROUNDS 3

struct run {
    struct db *db;
    int64_t tenant;
    int n, round;
    bool baseline;
    _Atomic int next;
    _Atomic int failed;
    int64_t now_s;
};

static int die(const char *what, const struct err *e)
{
    fprintf(stderr, "bench_payments: %s: %s\n", what, e->msg);
    return 1;
}

/* The i-th delivery of round r: its body and Stripe-Signature header. */
static int delivery(int r, int i, int64_t now_s, char *body, size_t bn, char *sig, size_t sn)
{
    int len =
        snprintf(body, bn,
                 "{\"id\":\"evt_bench_%d_%d\",\"object\":\"event\",\"type\":"
                 "\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi_bench_%d_%d\","
                 "\"object\":\"payment_intent\",\"amount\":1250,\"currency\":\"try\","
                 "\"status\":\"succeeded\",\"metadata\":{\"order_id\":\"ord_%d\"}}}}",
                 r, i, r, i, i);
    char signed_part[1024];
    int sl = snprintf(signed_part, sizeof(signed_part), "%lld.%s", (long long)now_s, body);
    char mac[SEC_HMAC_SHA256_HEX_SIZE];
    sec_hmac_sha256_hex(mac, SECRET, strlen(SECRET), signed_part, (size_t)sl);
    snprintf(sig, sn, "t=%lld,v1=%s", (long long)now_s, mac);
    return len;
}

static void *worker(void *arg)
{
    struct run *run = arg;
    const struct integrations_provider *p = integrations_provider_find("stripe");
    struct err e;
    err_init(&e);
    struct db_conn *c;
    if (db_conn_acquire(run->db, &c, &e)) {
        atomic_fetch_add(&run->failed, 1);
        return NULL;
    }
    char body[768], sig[160];
    for (int i; (i = atomic_fetch_add(&run->next, 1)) < run->n;) {
        int len = delivery(run->round, i, run->now_s, body, sizeof(body), sig, sizeof(sig));
        int rc;
        if (run->baseline) {
            struct db_stmt *s;
            rc = db_prepare(c, &s, "INSERT INTO bench_floor (body) VALUES (?)", &e);
            if (!rc) {
                db_bind_text(s, 1, body);
                rc = db_exec_write(s, NULL, &e);
            }
        } else {
            struct wh_headers h;
            wh_headers_init(&h);
            struct arena a;
            arena_init(&a);
            struct wh_event_id *ids = NULL;
            size_t n = 0;
            rc = wh_headers_add(&h, "Stripe-Signature", sig, &e);
            if (!rc)
                rc = p->verify(&h, body, (size_t)len, SECRET, run->now_s, &e);
            if (!rc)
                rc = p->identify(&h, body, (size_t)len, &a, &ids, &n, &e);
            for (size_t k = 0; !rc && k < n; k++) {
                int64_t id;
                bool dup, changed;
                rc = inbound_record(c, run->tenant, p->name, ids[k].id, ids[k].type, body,
                                    (size_t)len, run->now_s * 1000, &id, &dup, &changed, &e);
            }
            arena_release(&a);
        }
        if (rc) {
            fprintf(stderr, "bench_payments: %s\n", e.msg);
            atomic_fetch_add(&run->failed, 1);
            err_init(&e);
        }
    }
    db_conn_release(c);
    return NULL;
}

/* One round: events per second, or a negative number when something failed. */
static double round_rate(struct db *db, int64_t tenant, int n, int threads, int r, bool baseline)
{
    struct run run = {.db = db,
                      .tenant = tenant,
                      .n = n,
                      .round = r,
                      .baseline = baseline,
                      .now_s = clock_now_ms(NULL) / 1000};
    atomic_init(&run.next, 0);
    atomic_init(&run.failed, 0);
    pthread_t th[64];
    if (threads > 64)
        threads = 64;
    int64_t t0 = clock_mono_ns();
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, worker, &run);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double s = (double)(clock_mono_ns() - t0) / 1e9;
    return atomic_load(&run.failed) ? -1 : n / s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DB_URL [N] [THREADS]\n", argv[0]);
        return 2;
    }
    int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5000;
    int threads = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 4;
    if (n < 1 || threads < 1)
        return 2;
    log_set_level(LOG_WARN);
    struct err e;
    err_init(&e);
    struct db *db;
    bool off = argc > 4 && strcmp(argv[4], "off") == 0;
    struct db_options o = {
        .pool_size = threads + 2, .busy_timeout_ms = 10000, .group_commit_off = off};
    if (sec_init(&e) || db_open(&db, argv[1], &o, &e) || db_migrate(db, NULL, &e))
        return die("open", &e);
    struct db_conn *c;
    int64_t tenant;
    if (db_conn_acquire(db, &c, &e) ||
        account_tenant_ensure(c, ACCOUNT_DEFAULT_TENANT, clock_now_ms(NULL), &tenant, &e) ||
        db_exec(c, "CREATE TABLE IF NOT EXISTS bench_floor (body TEXT NOT NULL)", &e))
        return die("setup", &e);
    db_conn_release(c);
    double hooks[ROUNDS], floor[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        floor[r] = round_rate(db, tenant, n, threads, r, true);
        hooks[r] = round_rate(db, tenant, n, threads, r, false);
        if (floor[r] < 0 || hooks[r] < 0) {
            fprintf(stderr, "bench_payments: round %d failed\n", r + 1);
            db_close(db);
            return 1;
        }
    }
    uint64_t batches, writes;
    db_group_counts(db, &batches, &writes);
    db_close(db);
    double hs[ROUNDS], fs[ROUNDS];
    memcpy(hs, hooks, sizeof(hs));
    memcpy(fs, floor, sizeof(fs));
    qsort(hs, ROUNDS, sizeof(double), cmp_double);
    qsort(fs, ROUNDS, sizeof(double), cmp_double);
    printf("verified Stripe webhooks, durable before the 200 (verify + identify + ledger + job), "
           "%d per round, %d threads: median %.0f/s (rounds %.0f, %.0f, %.0f)\n",
           n, threads, hs[ROUNDS / 2], hooks[0], hooks[1], hooks[2]);
    printf("baseline, one durable single-row insert per transaction: median %.0f/s; webhooks at "
           "%.2fx the baseline\n",
           fs[ROUNDS / 2], hs[ROUNDS / 2] / fs[ROUNDS / 2]);
    printf("group commit %s: %llu ledger writes in %llu transactions (%.1f per commit)\n",
           off ? "off" : "on", (unsigned long long)writes, (unsigned long long)batches,
           batches ? (double)writes / (double)batches : 0.0);
    printf("aim: >= 5000/s on SQLite\n");
    return 0;
}
