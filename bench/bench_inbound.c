/* SPDX-License-Identifier: MIT */
/*
 * Inbound chat throughput for `make bench`: N signed WhatsApp webhook bodies from 200 buyers
 * (Turkish wishes, "katıl", questions, greetings) go through what POST /api/whatsapp/webhook does
 * (signature check, parse, store with its job), then job workers understand and act on them
 * (dialog, flash service, replies written to the outbox).
 * Usage: bench_inbound DB_URL [N=5000] [THREADS=4]
 */
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "db/migrate.h"
#include "domain/account/account.h"
#include "domain/chat/dialog.h"
#include "domain/chat/inbound.h"
#include "domain/flash/flash_service.h"
#include "domain/notify/notify_jobs.h"
#include "jobs/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUYERS 200
#define SECRET "bench-app-secret"

static int die(const char *what, const struct err *e)
{
    fprintf(stderr, "bench_inbound: %s: %s\n", what, e->msg);
    return 1;
}

static long long pending(struct db *db)
{
    struct err e;
    err_init(&e);
    struct db_conn *c;
    if (db_conn_acquire(db, &c, &e))
        return -1;
    struct db_stmt *s;
    long long n = -1;
    if (!db_prepare(c, &s, "SELECT COUNT(*) FROM chat_events WHERE processed_at IS NULL", &e)) {
        if (db_step(s, &e) == DB_ROW)
            n = db_col_i64(s, 0);
        db_stmt_done(s);
    }
    db_conn_release(c);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DB_URL [N] [THREADS]\n", argv[0]);
        return 2;
    }
    int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5000;
    int threads = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 4;
    log_set_level(LOG_WARN);
    struct err e;
    err_init(&e);
    struct db *db;
    struct db_options o = {.pool_size = threads + 4, .busy_timeout_ms = 10000};
    if (sec_init(&e) || db_open(&db, argv[1], &o, &e) || db_migrate(db, NULL, &e))
        return die("open", &e);
    struct db_conn *c;
    int64_t tenant, now = clock_now_ms(NULL);
    if (db_conn_acquire(db, &c, &e) ||
        account_tenant_ensure(c, ACCOUNT_DEFAULT_TENANT, now, &tenant, &e))
        return die("tenant", &e);
    struct arena a;
    arena_init(&a);
    for (int i = 0; i < BUYERS; i++) {
        struct flash_buyer b;
        memset(&b, 0, sizeof(b));
        b.phone = arena_printf(&a, "+90533%07d", i);
        b.loc = (struct flash_location){40.98 + i * 0.0001, 29.02, "Kadıköy", "Moda"};
        b.consent = true;
        b.language = "tr";
        bool created;
        if (flash_buyer_register(c, tenant, &b, now, &a, &created, &e))
            return die("buyer", &e);
    }
    static const char *const texts[] = {
        "Latte istiyorum", "katıl",   "Uygun fiyatlı kahve arıyorum", "fırsat var mı?",
        "Simit lazım",     "merhaba", "2 tost lazim, 100 TL",         "hayır"};
    const size_t nt = sizeof(texts) / sizeof(texts[0]);

    /* accept: what the webhook endpoint does per request */
    int64_t t0 = clock_mono_ns();
    char body[1024];
    for (int i = 0; i < n; i++) {
        int len = snprintf(body, sizeof(body),
                           "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\","
                           "\"changes\":[{\"field\":\"messages\",\"value\":{\"messages\":[{"
                           "\"from\":\"90533%07d\",\"id\":\"wamid.bench.%d\",\"timestamp\":"
                           "\"%lld\",\"type\":\"text\",\"text\":{\"body\":\"%s\"}}]}}]}]}",
                           i % BUYERS, i, (long long)(now / 1000), texts[(size_t)i % nt]);
        char sig[SEC_HMAC_SHA256_HEX_SIZE], want[SEC_HMAC_SHA256_HEX_SIZE];
        sec_hmac_sha256_hex(sig, SECRET, strlen(SECRET), body, (size_t)len);  /* the sender */
        sec_hmac_sha256_hex(want, SECRET, strlen(SECRET), body, (size_t)len); /* the check */
        if (!sec_equal(sig, strlen(sig), want, strlen(want)))
            return 1;
        struct arena ra;
        arena_init(&ra);
        struct chat_event *ev;
        size_t ne, fresh;
        if (chat_parse_meta(body, (size_t)len, now, &ra, &ev, &ne, &e) ||
            chat_inbound_store(c, tenant, ev, ne, now, &fresh, &e))
            return die("accept", &e);
        arena_release(&ra);
    }
    int64_t t1 = clock_mono_ns();
    db_conn_release(c);

    /* act: workers understand each message and answer it */
    struct job_registry *reg = job_registry_new();
    static const unsigned char key[32] = {1}; /* no tenant has sealed secrets in this bench */
    if (chat_jobs_register(reg, key, tenant, &e) || notify_jobs_register(reg, key, tenant, &e) ||
        flash_jobs_register(reg, &e))
        return die("register", &e);
    struct job_workers *w;
    struct job_workers_options wo = {.threads = threads, .poll_ms = 20};
    if (job_workers_start(db, reg, NULL, &wo, &w, &e))
        return die("workers", &e);
    long long left;
    while ((left = pending(db)) > 0)
        usleep(10000);
    int64_t t2 = clock_mono_ns();
    job_workers_stop(w, 5000);
    job_registry_free(reg);
    arena_release(&a);
    db_close(db);
    double accept_s = (double)(t1 - t0) / 1e9, act_s = (double)(t2 - t1) / 1e9;
    printf("  webhooks accepted (verify + parse + store + enqueue): %d in %.2f s = %.0f/s\n", n,
           accept_s, n / accept_s);
    printf("  messages understood and acted on (dialog, flash service, reply in the outbox; %d "
           "workers): "
           "%d in %.2f s = %.0f/s\n",
           threads, n, act_s, n / act_s);
    return left < 0;
}
