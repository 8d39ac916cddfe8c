/* SPDX-License-Identifier: MIT */
/*
 * The "webhook.deliver" job (see webhooks.h): one attempt of one delivery. It reads the delivery
 * and its endpoint, sends the signed POST with no transaction open (src/net/webhook_out.c), then
 * records the outcome and enqueues the next attempt in one transaction. A job whose attempt was
 * already recorded (a hand retry overtook it, or a crash after the send) does nothing; a crash
 * between the send and the record sends the same webhook-id again, which receivers deduplicate.
 * Tests: tests/unit/domain/test_webhooks.c, tests/integration/0009-webhooks-out.c.
 */
#include "domain/webhooks/webhooks.h"
#include "core/log.h"
#include "jobs/worker.h"
#include "json/json.h"
#include "net/webhook_out.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read once at registration; 1.0 is the production schedule. */
static double retry_scale = 1.0;

static int parse_payload(const struct job_ctx *ctx, int64_t *delivery, int *attempt, struct err *e)
{
    json_t *root = json_loads(ctx->payload ? ctx->payload : "", 0, NULL);
    json_t *d = json_object_get(root, "delivery");
    json_t *n = json_object_get(root, "attempt");
    *delivery = json_is_integer(d) ? (int64_t)json_integer_value(d) : 0;
    *attempt = json_is_integer(n) ? (int)json_integer_value(n) : 0;
    json_decref(root);
    if (*delivery <= 0 || *attempt <= 0 || ctx->tenant_id <= 0)
        return err_set(e, ERR_INVALID,
                       "job %lld: payload needs {\"delivery\": id, \"attempt\": n} and a tenant",
                       (long long)ctx->job_id);
    return 0;
}

static int deliver(struct job_ctx *ctx, struct err *e)
{
    int64_t id;
    int attempt;
    int rc = parse_payload(ctx, &id, &attempt, e);
    if (rc)
        return rc;
    struct webhook_delivery d = {0};
    struct webhook_endpoint ep = {0};
    struct err le;
    err_init(&le);
    rc = webhooks_store_delivery_get(ctx->conn, ctx->tenant_id, id, ctx->arena, &d, &le);
    if (!rc)
        rc = webhooks_store_endpoint_get(ctx->conn, ctx->tenant_id, d.endpoint_id, true, ctx->arena,
                                         &ep, &le);
    if (rc == ERR_NOT_FOUND)
        return 0; /* the endpoint was deleted with its deliveries */
    if (rc)
        return err_set(e, le.code, "%s", le.msg);
    if (d.status != WEBHOOK_DELIVERY_PENDING || d.attempts != attempt - 1)
        return 0; /* this attempt was recorded already */
    if (ep.disabled)
        return webhooks_store_delivery_kill(ctx->conn, ctx->tenant_id, id, "endpoint disabled",
                                            ctx->now_ms, e);

    struct webhook_out_msg m = {
        .url = ep.url,
        .secret = ep.secret,
        .msg_id = d.msg_id,
        .timestamp_s = ctx->now_ms / 1000,
        .body = d.body,
        .body_len = strlen(d.body),
    };
    struct webhook_out_result *res = arena_alloc(ctx->arena, sizeof(*res));
    struct err se;
    err_init(&se);
    if (webhook_out_send(&m, res, &se)) {
        res->status = 0;
        res->response[0] = '\0';
        snprintf(res->error, sizeof(res->error), "%s", se.msg);
    }
    struct webhook_attempt at = {
        .status = res->status,
        .response = res->status ? res->response : NULL,
        .error = res->error[0] ? res->error : NULL,
    };
    bool recorded = false;
    rc = webhooks_attempt_record(ctx->conn, ctx->tenant_id, id, attempt, &at, retry_scale,
                                 ctx->now_ms, &recorded, e);
    if (!rc)
        log_info("msg=\"webhook attempt\" tenant=%lld delivery=%lld endpoint=%lld attempt=%d "
                 "status=%ld error=\"%s\"",
                 (long long)ctx->tenant_id, (long long)id, (long long)ep.id, attempt, res->status,
                 res->error);
    return rc;
}

int webhooks_jobs_register(struct job_registry *reg, struct err *e)
{
    const char *v = getenv("ICESHOP_WEBHOOK_RETRY_SCALE");
    if (v && *v) {
        char *end = NULL;
        errno = 0;
        double s = strtod(v, &end);
        if (errno || !end || *end || !(s > 0.0) || s > 1.0)
            return err_set_field(e, ERR_INVALID, "ICESHOP_WEBHOOK_RETRY_SCALE",
                                 "ICESHOP_WEBHOOK_RETRY_SCALE must be a number in (0, 1]");
        retry_scale = s;
        if (s < 1.0)
            log_warn("msg=\"webhook retry schedule scaled for tests\" scale=%g", s);
    }
    return job_registry_add(reg, WEBHOOKS_JOB_DELIVER, deliver, NULL, 0, e);
}
