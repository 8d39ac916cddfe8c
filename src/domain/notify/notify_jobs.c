/* SPDX-License-Identifier: MIT */
/* The console delivery adapter (see notify_jobs.h). */
#include "domain/notify/notify_jobs.h"
#include "core/log.h"
#include "domain/notify/outbox.h"
#include "jobs/worker.h"

#include <jansson.h>

static int deliver(struct job_ctx *ctx, struct err *e)
{
    json_t *root = json_loads(ctx->payload ? ctx->payload : "", 0, NULL);
    json_t *m = json_object_get(root, "message");
    int64_t pk = json_is_integer(m) ? (int64_t)json_integer_value(m) : 0;
    json_decref(root);
    if (pk <= 0)
        return err_set(e, ERR_INVALID, "job %lld: payload needs {\"message\": id}",
                       (long long)ctx->job_id);
    struct notify_message msg;
    int rc = notify_get(ctx->conn, ctx->tenant_id, pk, ctx->arena, &msg, e);
    if (rc || msg.status != NOTIFY_PENDING)
        return rc; /* already handled: delivery is idempotent */
    log_info("msg=\"message delivered (console)\" tenant=%lld message=%lld to=%s:%s kind=%s "
             "lang=%s",
             (long long)ctx->tenant_id, (long long)pk, msg.recipient_kind, msg.recipient_id,
             notify_kind_names[msg.kind], msg.language);
    return notify_set_status(ctx->conn, ctx->tenant_id, pk, NOTIFY_DELIVERED, NULL, "console",
                             ctx->now_ms, e);
}

int notify_jobs_register(struct job_registry *reg, struct err *e)
{
    return job_registry_add(reg, NOTIFY_DELIVER_JOB, deliver, NULL, JOB_IN_TX, e);
}
