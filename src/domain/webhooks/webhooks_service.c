/* SPDX-License-Identifier: MIT */
/*
 * Outbound webhook operations (see webhooks.h, "operations"): endpoint creation with its secret,
 * emitting an event inside the caller's transaction, hand retries, and recording an attempt with
 * what follows it (next attempt, dead, disabling a failing endpoint and alerting operators).
 * Rules from webhooks.c, rows from webhooks_store.c. Tests: tests/unit/domain/test_webhooks.c.
 */
#include "domain/webhooks/webhooks.h"
#include "domain/alerts/alerts.h"
#include "core/crypto.h"
#include "core/log.h"
#include "jobs/queue.h"

#include <stdio.h>
#include <string.h>

/* Job retries for database trouble only; the delivery schedule is ours, not the queue's. */
#define JOB_ATTEMPTS 5

/* ======================== endpoints ======================== */

/* A direct endpoint's event names: 1..WEBHOOKS_MAX_EVENTS of [a-z._], shape only. */
static int direct_events_check(const char *const *events, size_t n, struct err *e)
{
    if (n < 1 || n > WEBHOOKS_MAX_EVENTS)
        return err_set_field(e, ERR_INVALID, "events", "events needs 1 to %d entries",
                             WEBHOOKS_MAX_EVENTS);
    for (size_t i = 0; i < n; i++) {
        size_t len = events[i] ? strlen(events[i]) : 0;
        bool ok = len > 0 && len < 64;
        for (size_t k = 0; ok && k < len; k++)
            ok = (events[i][k] >= 'a' && events[i][k] <= 'z') || events[i][k] == '.' ||
                 events[i][k] == '_';
        if (!ok)
            return err_set_field(e, ERR_INVALID, "events", "events[%zu] is not an event name", i);
    }
    return 0;
}

int webhooks_endpoint_create(struct db_conn *c, int64_t tenant,
                             const struct webhook_endpoint_in *in, int64_t now_ms, struct arena *a,
                             struct webhook_endpoint *out, struct err *e)
{
    int rc = webhooks_url_validate(in->url, e);
    if (!rc && !in->direct)
        rc = webhooks_events_validate(in->events, in->n_events, e);
    if (!rc && in->direct)
        rc = direct_events_check(in->events, in->n_events, e);
    if (!rc && in->description && strlen(in->description) > WEBHOOKS_DESC_MAX)
        rc = err_set_field(e, ERR_INVALID, "description", "description is longer than %d bytes",
                           WEBHOOKS_DESC_MAX);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    out->url = arena_strdup(a, in->url);
    out->description = arena_strdup(a, in->description ? in->description : "");
    out->events = arena_alloc(a, in->n_events * sizeof(*out->events));
    for (size_t i = 0; i < in->n_events; i++)
        out->events[i] = arena_strdup(a, in->events[i]);
    out->n_events = in->n_events;
    char secret[WEBHOOKS_SECRET_SIZE];
    webhooks_secret_new(secret);
    out->secret = arena_strdup(a, secret);
    explicit_bzero(secret, sizeof(secret));
    out->disabled_reason = "";
    out->direct = in->direct;
    return webhooks_store_endpoint_insert(c, tenant, out, now_ms, e);
}

static int clamp_limit(int limit)
{
    if (limit <= 0)
        return WEBHOOKS_LIST_DEFAULT;
    return limit > WEBHOOKS_LIST_MAX ? WEBHOOKS_LIST_MAX : limit;
}

int webhooks_endpoint_list(struct db_conn *c, int64_t tenant, int64_t after_id, int limit,
                           struct arena *a, struct webhook_endpoint **rows, size_t *n,
                           struct err *e)
{
    return webhooks_store_endpoint_list(c, tenant, after_id, clamp_limit(limit), a, rows, n, e);
}

int webhooks_endpoint_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                          struct webhook_endpoint *out, struct err *e)
{
    return webhooks_store_endpoint_get(c, tenant, id, false, a, out, e);
}

int webhooks_endpoint_delete(struct db_conn *c, int64_t tenant, int64_t id, struct err *e)
{
    bool deleted = false;
    int rc = webhooks_store_endpoint_delete(c, tenant, id, &deleted, e);
    if (!rc && !deleted)
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "no webhook endpoint %lld", (long long)id);
    return rc;
}

/* ======================== emitting ======================== */

static int enqueue_attempt(struct db_conn *c, int64_t tenant, int64_t delivery, int attempt,
                           int64_t run_at, int64_t now_ms, struct err *e)
{
    char payload[96];
    snprintf(payload, sizeof(payload), "{\"delivery\":%lld,\"attempt\":%d}", (long long)delivery,
             attempt);
    struct job_spec spec = {
        .name = WEBHOOKS_JOB_DELIVER,
        .payload_json = payload,
        .tenant_id = tenant,
        .run_at_ms = run_at,
        .max_attempts = JOB_ATTEMPTS,
    };
    return jobs_enqueue(c, &spec, now_ms, NULL, NULL, e);
}

int webhooks_emit(struct db_conn *c, int64_t tenant, const char *type, const char *data_json,
                  int64_t now_ms, struct err *e)
{
    if (!webhooks_event_known(type))
        return err_set_field(e, ERR_INVALID, "type", "unknown webhook event type %s",
                             type ? type : "(null)");
    if (!data_json || data_json[0] != '{')
        return err_set_field(e, ERR_INVALID, "data", "webhook data must be a JSON object");
    struct arena a;
    arena_init(&a);
    bool own;
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = webhooks_store_endpoint_subscribed(c, tenant, type, &a, &ids, &n, e);
    const char *body = NULL;
    if (!rc && n) {
        body = webhooks_body(type, data_json, now_ms, &a);
        if (!body)
            rc = err_set_field(e, ERR_TOO_LARGE, "data", "webhook body is too large");
    }
    for (size_t i = 0; !rc && i < n; i++) {
        char msg_id[SEC_RANDOM_ID_SIZE(4, 18)];
        rc = sec_random_id(msg_id, sizeof(msg_id), "msg_", 18, e);
        struct webhook_delivery d = {
            .endpoint_id = ids[i],
            .msg_id = msg_id,
            .event_type = type,
            .body = body,
            .next_attempt_ms = now_ms,
        };
        if (!rc)
            rc = webhooks_store_delivery_insert(c, tenant, &d, now_ms, e);
        if (!rc)
            rc = enqueue_attempt(c, tenant, d.id, 1, now_ms, now_ms, e);
    }
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

int webhooks_wanted(struct db_conn *c, int64_t tenant, const char *type, bool *wanted,
                    struct err *e)
{
    struct arena a;
    arena_init(&a);
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = webhooks_store_endpoint_subscribed(c, tenant, type, &a, &ids, &n, e);
    arena_release(&a);
    *wanted = !rc && n > 0;
    return rc;
}

/* ======================== deliveries ======================== */

int webhooks_delivery_list(struct db_conn *c, int64_t tenant,
                           const struct webhook_delivery_filter *f, struct arena *a,
                           struct webhook_delivery **rows, size_t *n, struct err *e)
{
    struct webhook_delivery_filter g = *f;
    g.limit = clamp_limit(f->limit);
    return webhooks_store_delivery_list(c, tenant, &g, a, rows, n, e);
}

int webhooks_delivery_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                          struct webhook_delivery *out, struct err *e)
{
    return webhooks_store_delivery_get(c, tenant, id, a, out, e);
}

int webhooks_delivery_retry(struct db_conn *c, int64_t tenant, int64_t id, int64_t now_ms,
                            struct arena *out_arena, struct webhook_delivery *out, struct err *e)
{
    struct arena a;
    arena_init(&a);
    bool own;
    struct webhook_delivery d = {0};
    struct webhook_endpoint ep;
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = webhooks_store_delivery_get(c, tenant, id, &a, &d, e);
    if (!rc)
        rc = webhooks_store_endpoint_get(c, tenant, d.endpoint_id, false, &a, &ep, e);
    if (!rc && ep.disabled)
        rc = err_set(e, ERR_CONFLICT, "webhook endpoint %lld is disabled: %s", (long long)ep.id,
                     ep.disabled_reason);
    if (!rc)
        rc = webhooks_store_delivery_rearm(c, tenant, id, now_ms, now_ms, e);
    if (!rc)
        rc = enqueue_attempt(c, tenant, id, d.attempts + 1, now_ms, now_ms, e);
    if (!rc && out)
        rc = webhooks_store_delivery_get(c, tenant, id, out_arena, out, e);
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

/* ======================== attempts ======================== */

static int disable_endpoint(struct db_conn *c, int64_t tenant, int64_t endpoint, int64_t now_ms,
                            struct err *e)
{
    static const char reason[] = "deliveries failed for 5 days";
    bool changed = false;
    int rc = webhooks_store_endpoint_disable(c, tenant, endpoint, reason, now_ms, &changed, e);
    if (rc || !changed)
        return rc;
    log_warn("msg=\"webhook endpoint disabled\" tenant=%lld endpoint=%lld reason=\"%s\"",
             (long long)tenant, (long long)endpoint, reason);
    char kind[48], message[128];
    snprintf(kind, sizeof(kind), "webhooks.endpoint_disabled.%lld", (long long)endpoint);
    snprintf(message, sizeof(message), "webhook endpoint %lld disabled: %s", (long long)endpoint,
             reason);
    struct alert_spec spec = {
        .kind = kind, .source = "webhooks", .code = "endpoint_disabled", .message = message};
    return alerts_raise(c, tenant, &spec, now_ms, NULL, e);
}

int webhooks_attempt_record(struct db_conn *c, int64_t tenant, int64_t delivery_id, int attempt,
                            const struct webhook_attempt *at, double scale, int64_t now_ms,
                            bool *recorded, struct err *e)
{
    struct arena a;
    arena_init(&a);
    bool own;
    *recorded = false;
    struct webhook_delivery d = {0};
    bool ok = webhooks_status_ok(at->status) && !at->error;
    int64_t delay = ok ? -1 : webhooks_retry_delay_ms(attempt + 1, scale);
    enum webhook_delivery_status next = ok           ? WEBHOOK_DELIVERY_SUCCEEDED
                                        : delay >= 0 ? WEBHOOK_DELIVERY_PENDING
                                                     : WEBHOOK_DELIVERY_DEAD;
    int64_t next_at = next == WEBHOOK_DELIVERY_PENDING ? now_ms + delay : 0;
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = webhooks_store_delivery_get(c, tenant, delivery_id, &a, &d, e);
    if (!rc)
        rc = webhooks_store_delivery_attempted(c, tenant, delivery_id, attempt, next, at, next_at,
                                               now_ms, recorded, e);
    if (rc || !*recorded)
        goto out;
    if (next == WEBHOOK_DELIVERY_PENDING)
        rc = enqueue_attempt(c, tenant, delivery_id, attempt + 1, next_at, now_ms, e);
    int64_t failing_since = 0;
    if (!rc)
        rc =
            webhooks_store_endpoint_health(c, tenant, d.endpoint_id, ok, now_ms, &failing_since, e);
    if (!rc && !ok && webhooks_endpoint_should_disable(failing_since, now_ms))
        rc = disable_endpoint(c, tenant, d.endpoint_id, now_ms, e);
out:
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

int webhooks_emit_to(struct db_conn *c, int64_t tenant, int64_t endpoint_id, const char *type,
                     const char *data_json, int64_t now_ms, int64_t *delivery_id, struct err *e)
{
    if (!data_json || data_json[0] != '{')
        return err_set_field(e, ERR_INVALID, "data", "webhook data must be a JSON object");
    struct arena a;
    arena_init(&a);
    bool own;
    struct webhook_endpoint ep = {0};
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = webhooks_store_endpoint_get(c, tenant, endpoint_id, false, &a, &ep, e);
    if (rc && e->code == ERR_NOT_FOUND)
        snprintf(e->field, sizeof(e->field), "endpoint_id");
    if (!rc && ep.disabled)
        rc = err_set_field(e, ERR_CONFLICT, "endpoint_id", "webhook endpoint %lld is disabled",
                           (long long)endpoint_id);
    bool listed = false;
    for (size_t i = 0; !rc && type && i < ep.n_events; i++)
        listed = listed || strcmp(ep.events[i], type) == 0;
    if (!rc && !listed)
        rc = err_set_field(e, ERR_INVALID, "type", "webhook endpoint %lld does not take %s",
                           (long long)endpoint_id, type ? type : "(null)");
    const char *body = NULL;
    if (!rc) {
        body = webhooks_body(type, data_json, now_ms, &a);
        if (!body)
            rc = err_set_field(e, ERR_TOO_LARGE, "data", "webhook body is too large");
    }
    char msg_id[SEC_RANDOM_ID_SIZE(4, 18)];
    if (!rc)
        rc = sec_random_id(msg_id, sizeof(msg_id), "msg_", 18, e);
    struct webhook_delivery d = {
        .endpoint_id = endpoint_id,
        .msg_id = msg_id,
        .event_type = type,
        .body = body,
        .next_attempt_ms = now_ms,
    };
    if (!rc)
        rc = webhooks_store_delivery_insert(c, tenant, &d, now_ms, e);
    if (!rc)
        rc = enqueue_attempt(c, tenant, d.id, 1, now_ms, now_ms, e);
    if (!rc && delivery_id)
        *delivery_id = d.id;
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

int webhooks_endpoint_set_url(struct db_conn *c, int64_t tenant, int64_t id, const char *url,
                              int64_t now_ms, struct err *e)
{
    int rc = webhooks_url_validate(url, e);
    if (!rc)
        rc = webhooks_store_endpoint_set_url(c, tenant, id, url, now_ms, e);
    return rc;
}
