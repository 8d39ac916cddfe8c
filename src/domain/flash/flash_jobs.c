/* SPDX-License-Identifier: MIT */
/*
 * Job handlers of the flash engine: activation at a window's start, a reminder shortly before it,
 * and expiry at its end (each
 * inside the job's own transaction, so they happen exactly once), and the periodic scan that
 * runs scan + generate for every tenant whose interval has passed; the refund of a cancelled
 * prepaid window's paid order, the hosted payment of a prepaid order and the buyer's link to it,
 * and the order-paid hook that makes its buyer take part.
 * Tests: tests/integration/0004-flash.c.
 */
#include "core/clock.h"
#include "core/log.h"
#include "domain/commerce/order_hooks.h"
#include "domain/flash/flash_messages.h"
#include "domain/flash/flash_service.h"
#include "jobs/worker.h"
#include "sched/sched.h"

#include <jansson.h>

static int window_of(const struct job_ctx *ctx, int64_t *pk, struct err *e)
{
    json_t *root = json_loads(ctx->payload ? ctx->payload : "", 0, NULL);
    json_t *w = json_object_get(root, "window");
    *pk = json_is_integer(w) ? (int64_t)json_integer_value(w) : 0;
    json_decref(root);
    if (*pk <= 0 || ctx->tenant_id <= 0)
        return err_set(e, ERR_INVALID, "job %lld: payload needs {\"window\": id} and a tenant",
                       (long long)ctx->job_id);
    return 0;
}

static int activate(struct job_ctx *ctx, struct err *e)
{
    int64_t pk;
    int rc = window_of(ctx, &pk, e);
    return rc ? rc : flash_activate(ctx->conn, ctx->tenant_id, pk, ctx->now_ms, e);
}

static int expire(struct job_ctx *ctx, struct err *e)
{
    int64_t pk;
    int rc = window_of(ctx, &pk, e);
    return rc ? rc : flash_expire(ctx->conn, ctx->tenant_id, pk, ctx->now_ms, e);
}

static int remind(struct job_ctx *ctx, struct err *e)
{
    int64_t pk;
    int rc = window_of(ctx, &pk, e);
    return rc ? rc : flash_remind(ctx->conn, ctx->tenant_id, pk, ctx->now_ms, e);
}

static int prepay_of(const struct job_ctx *ctx, int64_t *pk, struct err *e)
{
    json_t *root = json_loads(ctx->payload ? ctx->payload : "", 0, NULL);
    json_t *p = json_object_get(root, "prepay");
    *pk = json_is_integer(p) ? (int64_t)json_integer_value(p) : 0;
    json_decref(root);
    if (*pk <= 0 || ctx->tenant_id <= 0)
        return err_set(e, ERR_INVALID, "job %lld: payload needs {\"prepay\": id} and a tenant",
                       (long long)ctx->job_id);
    return 0;
}

/* A prepaid window's order to pay: its hosted payment started, the link sent (no transaction
 * held while the provider is asked). */
static int pay_link(struct job_ctx *ctx, struct err *e)
{
    int64_t pk;
    int rc = prepay_of(ctx, &pk, e);
    return rc ? rc
              : flash_prepay_send_link(ctx->db, ctx->tenant_id, pk, ctx->now_ms, ctx->arena, e);
}

/* A cancelled prepaid window's paid order: refunded through payments (no transaction held). */
static int refund(struct job_ctx *ctx, struct err *e)
{
    int64_t pk;
    int rc = prepay_of(ctx, &pk, e);
    return rc ? rc : flash_prepay_refund(ctx->db, ctx->tenant_id, pk, ctx->now_ms, ctx->arena, e);
}

static int on_order_paid(struct db_conn *c, int64_t tenant, int64_t order_pk, struct err *e)
{
    return flash_prepay_paid(c, tenant, order_pk, clock_now_ms(clock_system()), e);
}

/* Each due tenant gets its own transaction: one tenant's failure does not hold back others. */
static int scan(struct job_ctx *ctx, struct err *e)
{
    int64_t *tenants;
    size_t n;
    int rc = flash_store_scan_due(ctx->conn, ctx->now_ms, ctx->arena, &tenants, &n, e);
    int failed = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        struct flash_generated *g;
        size_t ng;
        struct err te;
        err_init(&te);
        if (flash_generate(ctx->conn, tenants[i], ctx->now_ms, ctx->arena, &g, &ng, &te)) {
            log_warn("msg=\"flash scan failed\" tenant=%lld error=\"%s\"", (long long)tenants[i],
                     te.msg);
            failed++;
            continue;
        }
        int opened = 0;
        for (size_t k = 0; k < ng; k++)
            opened += g[k].window_pk && g[k].reason[0] == '\0';
        if (opened)
            log_info("msg=\"flash windows opened\" tenant=%lld count=%d", (long long)tenants[i],
                     opened);
    }
    if (!rc && failed)
        rc = err_set(e, ERR_INTERNAL, "flash scan failed for %d tenant(s)", failed);
    return rc;
}

int flash_jobs_register(struct job_registry *reg, struct err *e)
{
    int rc = flash_messages_register(e);
    if (!rc)
        rc = job_registry_add(reg, FLASH_JOB_ACTIVATE, activate, NULL, JOB_IN_TX, e);
    if (!rc)
        rc = job_registry_add(reg, FLASH_JOB_EXPIRE, expire, NULL, JOB_IN_TX, e);
    if (!rc)
        rc = job_registry_add(reg, FLASH_JOB_REMIND, remind, NULL, JOB_IN_TX, e);
    if (!rc)
        rc = job_registry_add(reg, FLASH_JOB_SCAN, scan, NULL, 0, e);
    if (!rc)
        rc = job_registry_add(reg, FLASH_JOB_REFUND, refund, NULL, 0, e);
    if (!rc)
        rc = job_registry_add(reg, FLASH_JOB_PAY_LINK, pay_link, NULL, 0, e);
    if (!rc)
        rc = order_hooks_add_paid("flash.prepay", on_order_paid, e);
    return rc;
}

int flash_jobs_schedule(struct sched *s, struct err *e)
{
    /* Tenants choose their own interval (scan_interval_s); this only looks for due ones. */
    return sched_every(s, "flash.scan", 15, FLASH_JOB_SCAN, "{}", e);
}
