/* SPDX-License-Identifier: MIT */
/*
 * The platform's own job handlers and periodic tasks (see tasks.h). Handlers are idempotent; the
 * test handlers exist only when ICESHOP_TEST_JOBS=1 and write nothing but rows in `settings` named
 * "test.run:<job id>", so exactly-once behaviour is observable from outside.
 */
#include "platform/tasks.h"
#include "core/log.h"
#include "jobs/queue.h"
#include "platform/privacy.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int prune(struct job_ctx *ctx, struct err *e)
{
    const struct config *cfg = ctx->userdata;
    int64_t cutoff = ctx->now_ms - (int64_t)cfg->job_prune_days * 86400 * 1000;
    int64_t deleted = 0;
    int rc = jobs_prune(ctx->conn, cutoff, &deleted, e);
    if (!rc)
        log_info("msg=\"pruned finished jobs\" deleted=%lld older_than_days=%d", (long long)deleted,
                 cfg->job_prune_days);
    return rc;
}

static int64_t payload_int(const char *payload, const char *key, int64_t def)
{
    json_t *root = json_loads(payload ? payload : "{}", 0, NULL);
    json_t *v = root ? json_object_get(root, key) : NULL;
    int64_t out = json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
    json_decref(root);
    return out;
}

static int test_ok(struct job_ctx *ctx, struct err *e)
{
    (void)ctx;
    (void)e;
    return 0;
}

static int test_fail(struct job_ctx *ctx, struct err *e)
{
    return err_set(e, ERR_INTERNAL, "deliberate failure on attempt %d", ctx->attempt);
}

static int test_flaky(struct job_ctx *ctx, struct err *e)
{
    int64_t succeed_on = payload_int(ctx->payload, "succeed_on", 2);
    if (ctx->attempt < succeed_on)
        return err_set(e, ERR_UPSTREAM, "flaky failure on attempt %d of %lld", ctx->attempt,
                       (long long)succeed_on);
    return 0;
}

/* Fails until the setting "test.switch" is "on": a failure an operator fixes, then retries. */
static int test_switch(struct job_ctx *ctx, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(ctx->conn, &s, "SELECT value FROM settings WHERE name = 'test.switch'", e);
    if (rc)
        return rc;
    int st = db_step(s, e);
    bool on = st == DB_ROW && db_col_text(s, 0) && strcmp(db_col_text(s, 0), "on") == 0;
    db_stmt_done(s);
    if (st == DB_ERROR)
        return e->code;
    return on ? 0 : err_set(e, ERR_UPSTREAM, "switch is off (attempt %d)", ctx->attempt);
}

/* Sleeps `sleep_ms`, then counts this run in settings, inside the job's own transaction. */
static int test_record(struct job_ctx *ctx, struct err *e)
{
    int64_t ms = payload_int(ctx->payload, "sleep_ms", 0);
    if (ms > 0) {
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    char name[64];
    snprintf(name, sizeof(name), "test.run:%lld", (long long)ctx->job_id);
    struct db_stmt *s;
    int rc = db_prepare(ctx->conn, &s,
                        "INSERT INTO settings (name, value, updated_at) VALUES (?, '1', ?) "
                        "ON CONFLICT (name) DO UPDATE SET "
                        "value = CAST(CAST(settings.value AS INTEGER) + 1 AS TEXT)",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, name);
    db_bind_time(s, 2, ctx->now_ms);
    rc = db_step(s, e) == DB_ERROR ? e->code : 0;
    db_stmt_done(s);
    return rc;
}

/* Messages, webhook events and chat events past their retention (privacy.h). */
static int retention(struct job_ctx *ctx, struct err *e)
{
    const struct config *cfg = ctx->userdata;
    int64_t day = 86400LL * 1000;
    int64_t msgs =
        cfg->message_retention_days ? ctx->now_ms - (int64_t)cfg->message_retention_days * day : 0;
    int64_t inbound =
        cfg->inbound_retention_days ? ctx->now_ms - (int64_t)cfg->inbound_retention_days * day : 0;
    int64_t deleted = 0;
    int rc = privacy_retention(ctx->conn, msgs, inbound, &deleted, e);
    if (!rc)
        log_info("msg=\"retention applied\" deleted=%lld messages_days=%d inbound_days=%d",
                 (long long)deleted, cfg->message_retention_days, cfg->inbound_retention_days);
    return rc;
}

int platform_tasks_register(struct job_registry *reg, struct config *cfg, struct err *e)
{
    int rc = job_registry_add(reg, "jobs.prune", prune, cfg, 0, e);
    if (!rc)
        rc = job_registry_add(reg, "privacy.retention", retention, cfg, 0, e);
    if (rc || !cfg->test_jobs)
        return rc;
    log_warn("msg=\"test job handlers enabled (ICESHOP_TEST_JOBS=1); not for production\"");
    if (!rc)
        rc = job_registry_add(reg, "test.ok", test_ok, NULL, 0, e);
    if (!rc)
        rc = job_registry_add(reg, "test.tick", test_ok, NULL, 0, e);
    if (!rc)
        rc = job_registry_add(reg, "test.fail", test_fail, NULL, 0, e);
    if (!rc)
        rc = job_registry_add(reg, "test.flaky", test_flaky, NULL, 0, e);
    if (!rc)
        rc = job_registry_add(reg, "test.record", test_record, NULL, JOB_IN_TX, e);
    if (!rc)
        rc = job_registry_add(reg, "test.switch", test_switch, NULL, 0, e);
    return rc;
}

int platform_tasks_schedule(struct sched *s, const struct config *cfg, struct err *e)
{
    int rc = sched_daily(s, "jobs.prune", "03:30", "jobs.prune", "{}", e);
    if (!rc)
        rc = sched_daily(s, "privacy.retention", "03:45", "privacy.retention", "{}", e);
    if (!rc && cfg->test_jobs)
        rc = sched_every(s, "test.tick", 1, "test.tick", "{}", e);
    return rc;
}
