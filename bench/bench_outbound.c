/* SPDX-License-Identifier: MIT */
/*
 * Outbound messages per second for `make bench`: N outbox messages (free text, each to its own
 * recipient inside the 24-hour window) delivered by the real "notify.deliver" jobs and workers
 * through the Meta adapter to the fake Cloud API (tests/support/fake_whatsapp.c, compiled in).
 * Usage: bench_outbound URL [N=2000] [RATE=0] [THREADS=8]   RATE 0 lifts the per-number limit.
 */
#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "db/db.h"
#include "db/migrate.h"
#include "domain/account/account.h"
#include "domain/notify/channel.h"
#include "domain/notify/contacts.h"
#include "domain/notify/notify_jobs.h"
#include "domain/notify/outbox.h"
#include "jobs/worker.h"
#include "net/httpc.h"

#include "../tests/support/fake_whatsapp.c"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define TOKEN       "bench-token"
#define PHONE_ID    "1000000001"
#define BATCH       500
#define TIMEOUT_MS  (10 * 60 * 1000)
#define POLL_USLEEP (5 * 1000)

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
    fprintf(stderr, "bench_outbound: %s: %s\n", what, e->msg[0] ? e->msg : err_code_name(e->code));
    return 1;
}

/* N messages to N recipients who all wrote to us an hour ago. */
static int seed(struct db *db, long n, int64_t *tenant, struct err *e)
{
    struct db_conn *c;
    int rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    int64_t now = clock_now_ms(NULL);
    char name[64];
    snprintf(name, sizeof(name), "bench-outbound-%lld", (long long)now);
    rc = account_tenant_create(c, name, now, tenant, e);
    for (long done = 0; !rc && done < n;) {
        rc = db_begin(c, e);
        for (long i = 0; !rc && i < BATCH && done < n; i++, done++) {
            char phone[32], id[32];
            snprintf(phone, sizeof(phone), "+90532%07ld", done);
            snprintf(id, sizeof(id), "c%ld", done);
            rc = contacts_touch_inbound(c, *tenant, phone, now - 3600000, e);
            if (rc)
                break;
            struct notify_message m = {.recipient_kind = "contact",
                                       .recipient_id = id,
                                       .phone = phone,
                                       .language = "tr",
                                       .body = "Siparişiniz hazır: K7P2QX kodunu kasada gösterin."};
            if (!rc)
                rc = notify_enqueue(c, *tenant, &notify_kind_reply, &m, NULL, now, e);
        }
        if (rc)
            db_rollback(c);
        else
            rc = db_commit(c, e);
    }
    db_conn_release(c);
    return rc;
}

static int count_pending(struct db *db, int64_t tenant, int64_t *pending, struct err *e)
{
    struct db_conn *c;
    int rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "SELECT COUNT(*) FROM messages WHERE tenant_id = ? AND status = 'pending'", e);
    if (!rc) {
        db_bind_i64(s, 1, tenant);
        if (db_step(s, e) == DB_ROW)
            *pending = db_col_i64(s, 0);
        else
            rc = e->code ? (int)e->code : ERR_DB;
        db_stmt_done(s);
    }
    db_conn_release(c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [N] [RATE] [THREADS]\n", argv[0]);
        return 2;
    }
    long n = argc > 2 ? parse_long(argv[2], 1, 1000000) : 2000;
    long rate = argc > 3 ? parse_long(argv[3], 0, 1000000) : 0;
    long threads = argc > 4 ? parse_long(argv[4], 1, 256) : 8;
    if (n < 0 || rate < 0 || threads < 0) {
        fprintf(stderr, "bench_outbound: bad N, RATE or THREADS\n");
        return 2;
    }
    log_set_level(LOG_WARN);
    struct err e;
    err_init(&e);
    if (httpc_global_init(&e))
        return fail(&e, "curl");
    struct fake_whatsapp *fake = fake_whatsapp_start(TOKEN, PHONE_ID);
    fake_whatsapp_set_recording(fake, false);

    struct db *db = NULL;
    struct db_options o = {.pool_size = (int)threads + 4, .busy_timeout_ms = 10000};
    int rc = db_open(&db, argv[1], &o, &e);
    if (!rc)
        rc = db_migrate(db, NULL, &e);
    int64_t tenant = 0;
    if (!rc)
        rc = seed(db, n, &tenant, &e);
    if (rc) {
        db_close(db);
        fake_whatsapp_stop(fake);
        return fail(&e, "setup");
    }

    struct notify_delivery d = {0};
    d.cfg.api_url = fake_whatsapp_url(fake);
    d.cfg.token = TOKEN;
    d.cfg.phone_number_id = PHONE_ID;
    d.cfg.rate_per_s = (int)rate;
    d.cfg.recipient_gap_ms = 1000;
    d.cfg.quiet_hours = "";
    d.cfg.tz_offset_min = 180;
    d.cfg.n_templates = 0; /* no template overrides: the replies are inside the window */
    d.provider = channel_provider_new(&d.cfg);
    struct job_registry *reg = job_registry_new();
    struct job_workers *w = NULL;
    struct job_workers_options wo = {.threads = (int)threads, .poll_ms = 20};
    rc = notify_jobs_register_with(reg, &d, &e);
    int64_t t0 = clock_mono_ms(), t1 = t0;
    if (!rc)
        rc = job_workers_start(db, reg, NULL, &wo, &w, &e);
    int64_t pending = n;
    while (!rc) {
        rc = count_pending(db, tenant, &pending, &e);
        t1 = clock_mono_ms();
        if (rc || pending == 0)
            break;
        if (t1 - t0 > TIMEOUT_MS) {
            rc = err_set(&e, ERR_TIMEOUT, "messages still pending after %d s", TIMEOUT_MS / 1000);
            break;
        }
        usleep(POLL_USLEEP);
    }
    job_workers_stop(w, 5000);
    job_registry_free(reg);
    size_t accepted = fake_whatsapp_accepted(fake);
    size_t rejected = fake_whatsapp_rejected(fake, NULL, 0);
    d.provider->free(d.provider);
    const char *backend = db_backend_name(db);
    if (rc) {
        db_close(db);
        fake_whatsapp_stop(fake);
        return fail(&e, "deliver");
    }
    double s = (double)(t1 - t0) / 1000.0;
    char limit[96];
    if (rate)
        snprintf(limit, sizeof(limit), "per-number limit %ld/s", rate);
    else
        snprintf(limit, sizeof(limit), "per-number limit 80/s lifted for the bench");
    printf("outbound: %ld messages in %.2f s = %.0f msg/s (%s; %s, %ld workers)\n", n, s,
           s > 0 ? (double)n / s : 0.0, limit, backend, threads);
    printf("fake_accepted=%zu fake_rejected=%zu msg_per_s=%.0f\n", accepted, rejected,
           s > 0 ? (double)n / s : 0.0);
    db_close(db);
    fake_whatsapp_stop(fake);
    httpc_global_cleanup();
    return accepted == (size_t)n && rejected == 0 ? 0 : 1;
}
