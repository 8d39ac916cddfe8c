/* SPDX-License-Identifier: MIT */
/*
 * The payments jobs and webhook event handlers (payments_jobs.h). Handlers are idempotent: the
 * state machine ignores anything that does not move a payment forward, so a redelivered or
 * overtaken event changes nothing. Tests: tests/integration/0023-payments.c.
 */
#include "domain/payments/payments_jobs.h"

#include "core/log.h"
#include "core/str.h"
#include "domain/alerts/alerts.h"
#include "domain/commerce/commerce_store.h"
#include "domain/notify/kinds.h"
#include "domain/notify/outbox.h"
#include "domain/payments/payments_service.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "sched/sched.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define RECONCILE_BATCH 200

/* ---- webhook latency ---- */

const double payments_latency_bounds[PAYMENTS_LATENCY_BOUNDS] = {0.05, 0.1, 0.25, 0.5, 1,
                                                                 2.5,  5,   10,   30,  60};
static _Atomic uint64_t lat_buckets[2][PAYMENTS_LATENCY_BOUNDS + 1]; /* non-cumulative */
static _Atomic uint64_t lat_sum_ms[2];

static void observe(enum payment_provider p, int64_t received_ms, int64_t now_ms)
{
    int64_t ms = now_ms > received_ms ? now_ms - received_ms : 0;
    size_t i = 0;
    while (i < PAYMENTS_LATENCY_BOUNDS && (double)ms / 1000.0 > payments_latency_bounds[i])
        i++;
    lat_buckets[p][i]++;
    lat_sum_ms[p] += (uint64_t)ms;
}

void payments_latency_snapshot(int provider, struct payments_latency *out)
{
    int p = provider == PAYMENT_IYZICO ? 1 : 0;
    uint64_t acc = 0;
    for (size_t i = 0; i <= PAYMENTS_LATENCY_BOUNDS; i++) {
        acc += lat_buckets[p][i];
        out->buckets[i] = acc;
    }
    out->sum_s = (double)lat_sum_ms[p] / 1000.0;
}

/* ---- the customer's notice ---- */

struct paid_vars {
    const char *order_id;
    const char *amount; /* "12.50 TRY" */
};

static int render_paid(const char *language, const void *vars, char *out, size_t n)
{
    const struct paid_vars *v = vars;
    if (!v || !v->order_id || !v->amount)
        return -1;
    int len =
        str_eq(language, "en")
            ? snprintf(out, n, "Your payment of %s for order %s has been received. Thank you!",
                       v->amount, v->order_id)
            : snprintf(out, n, "%s siparişiniz için %s ödemeniz alındı. Teşekkür ederiz!",
                       v->order_id, v->amount);
    return len < 0 || (size_t)len >= n ? -1 : len;
}

static const struct notify_kind paid_kind = {
    .name = PAYMENTS_NOTICE_KIND,
    .purpose = NOTIFY_TRANSACTIONAL,
    .template_name = "payment_received",
    .render = render_paid,
};

static int paid_notice(struct job_ctx *ctx, struct err *e)
{
    json_t *root = json_loads(ctx->payload ? ctx->payload : "", 0, NULL);
    int64_t pk = (int64_t)json_integer_value(json_object_get(root, "payment"));
    json_decref(root);
    struct payment p;
    int rc = payments_store_get_pk(ctx->conn, ctx->tenant_id, pk, ctx->arena, &p, e);
    struct commerce_order o;
    if (!rc)
        rc = commerce_store_order_get(ctx->conn, ctx->tenant_id, p.order_id, ctx->arena, &o, e);
    struct commerce_customer cu;
    if (!rc)
        rc = commerce_store_customer_get(ctx->conn, ctx->tenant_id, o.customer_id, ctx->arena, &cu,
                                         e);
    if (rc)
        return rc;
    char text[MONEY_TEXT_MAX];
    struct money m = {p.state.amount, p.currency};
    if (money_format(&m, text, sizeof(text), e))
        return ERR_INVALID;
    struct paid_vars v = {o.id, arena_printf(ctx->arena, "%s %s", text, p.currency->code)};
    struct notify_message msg;
    memset(&msg, 0, sizeof(msg));
    msg.recipient_kind = "contact";
    msg.recipient_id = cu.id;
    msg.language = "tr";
    msg.about_kind = "order";
    msg.about_pk = o.pk;
    if (cu.phone && *cu.phone) {
        msg.channel = "whatsapp";
        msg.phone = cu.phone;
    } else if (cu.email && *cu.email) {
        msg.channel = "email";
        msg.email = cu.email;
        msg.subject = arena_printf(ctx->arena, "Ödemeniz alındı / Payment received: %s", o.id);
    } else {
        log_info("msg=\"paid notice skipped: customer has no phone or email\" tenant=%lld order=%s",
                 (long long)ctx->tenant_id, o.id);
        return 0;
    }
    if (str_eq(msg.channel, "email"))
        return notify_enqueue_email(ctx->conn, ctx->tenant_id, &paid_kind, &msg, &v, msg.subject,
                                    NULL, 0, ctx->now_ms, e);
    return notify_enqueue(ctx->conn, ctx->tenant_id, &paid_kind, &msg, &v, ctx->now_ms, e);
}

int payments_jobs_enqueue_paid_notice(struct db_conn *c, int64_t tenant, int64_t pk, int64_t now_ms,
                                      struct err *e)
{
    char payload[64], key[64];
    snprintf(payload, sizeof(payload), "{\"payment\":%lld}", (long long)pk);
    snprintf(key, sizeof(key), "payments.paid_notice:%lld", (long long)pk);
    struct job_spec spec = {.name = PAYMENTS_JOB_PAID_NOTICE,
                            .payload_json = payload,
                            .tenant_id = tenant,
                            .unique_key = key};
    return jobs_enqueue(c, &spec, now_ms, NULL, NULL, e);
}

/* ---- asking the provider ---- */

int payments_jobs_enqueue_check(struct db_conn *c, int64_t tenant, int64_t pk, const char *cause,
                                int64_t now_ms, struct err *e)
{
    char payload[128], key[64];
    snprintf(payload, sizeof(payload), "{\"payment\":%lld,\"cause\":\"%s\"}", (long long)pk, cause);
    snprintf(key, sizeof(key), "payments.check:%lld", (long long)pk);
    struct job_spec spec = {.name = PAYMENTS_JOB_CHECK,
                            .payload_json = payload,
                            .tenant_id = tenant,
                            .unique_key = key};
    return jobs_enqueue(c, &spec, now_ms, NULL, NULL, e);
}

static int check(struct job_ctx *ctx, struct err *e)
{
    json_t *root = json_loads(ctx->payload ? ctx->payload : "", 0, NULL);
    int64_t pk = (int64_t)json_integer_value(json_object_get(root, "payment"));
    const char *cause = json_string_value(json_object_get(root, "cause"));
    char why[32];
    snprintf(why, sizeof(why), "%s", cause ? cause : "check");
    json_decref(root);
    if (pk <= 0 || ctx->tenant_id <= 0)
        return err_set(e, ERR_INVALID, "job %lld: payload needs {\"payment\": pk} and a tenant",
                       (long long)ctx->job_id);
    return payments_check(ctx->db, ctx->tenant_id, pk, why, ctx->now_ms, ctx->arena, e);
}

static int reconcile(struct job_ctx *ctx, struct err *e)
{
    struct payment_ref *rows = NULL;
    size_t n = 0;
    int64_t before = ctx->now_ms - (int64_t)payments_pending_after_s() * 1000;
    int rc =
        payments_store_list_stale(ctx->conn, before, RECONCILE_BATCH, ctx->arena, &rows, &n, e);
    for (size_t i = 0; !rc && i < n; i++)
        rc = payments_jobs_enqueue_check(ctx->conn, rows[i].tenant, rows[i].pk, "reconciliation",
                                         ctx->now_ms, e);
    if (!rc && n > 0)
        log_info("msg=\"payments to reconcile\" count=%zu", n);
    return rc;
}

/* ---- Stripe events ---- */

static const char *obj_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

int payments_stripe_event(struct db_conn *c, const struct inbound_event *ev, struct arena *a,
                          int64_t now_ms, struct err *e)
{
    json_t *root = json_loads(ev->body, 0, NULL);
    json_t *obj = json_object_get(json_object_get(root, "data"), "object");
    const char *type = ev->event_type;
    int rc = 0;
    if (!json_is_object(obj)) {
        json_decref(root);
        return 0; /* nothing we can act on; recorded in the ledger */
    }
    const char *intent = NULL;
    struct payment_event pev = {PAYMENT_EV_OPENED, 0};
    bool dispute = false;
    int64_t amount = (int64_t)json_integer_value(json_object_get(obj, "amount"));
    const char *currency = obj_str(obj, "currency");
    if (str_eq(type, "payment_intent.succeeded")) {
        intent = obj_str(obj, "id");
        pev.kind = PAYMENT_EV_SUCCEEDED;
    } else if (str_eq(type, "payment_intent.payment_failed")) {
        intent = obj_str(obj, "id");
        pev.kind = PAYMENT_EV_FAILED;
    } else if (str_eq(type, "payment_intent.canceled")) {
        intent = obj_str(obj, "id");
        pev.kind = PAYMENT_EV_CANCELED;
    } else if (str_eq(type, "charge.refunded")) {
        intent = obj_str(obj, "payment_intent");
        pev.kind = PAYMENT_EV_REFUNDED;
        pev.refunded = (int64_t)json_integer_value(json_object_get(obj, "amount_refunded"));
    } else if (str_eq(type, "charge.dispute.created")) {
        intent = obj_str(obj, "payment_intent");
        dispute = true;
    }
    if (!intent) {
        json_decref(root);
        return 0; /* a type payments does not act on */
    }
    struct payment p;
    bool found = false;
    rc = payments_store_find_ref(c, ev->tenant_id, PAYMENT_STRIPE, intent, a, &p, &found, e);
    if (!rc && !found)
        log_info("msg=\"stripe event for an unknown payment\" tenant=%lld event=%s intent=%s",
                 (long long)ev->tenant_id, ev->event_id, intent);
    bool ok = found;
    if (!rc && found)
        rc = payments_check_amount(c, &p, amount, currency, "stripe", now_ms, &ok, e);
    if (!rc && ok && dispute) {
        rc = payments_store_set_disputed(c, ev->tenant_id, p.pk, now_ms, e);
        char msg[200];
        snprintf(msg, sizeof(msg), "payment %s of order %s is disputed (%s)", p.id, p.order_id,
                 ev->event_id);
        struct alert_spec spec = {
            .kind = "payments.dispute", .source = "stripe", .code = p.id, .message = msg};
        if (!rc)
            rc = alerts_raise(c, ev->tenant_id, &spec, now_ms, NULL, e);
    } else if (!rc && ok) {
        rc = payments_apply(c, ev->tenant_id, p.pk, &pev, "webhook", ev->event_id, now_ms, a, e);
    }
    if (!rc)
        observe(PAYMENT_STRIPE, ev->received_at, now_ms);
    json_decref(root);
    return rc;
}

/* ---- iyzico events ---- */

int payments_iyzico_event(struct db_conn *c, const struct inbound_event *ev, struct arena *a,
                          int64_t now_ms, struct err *e)
{
    json_t *root = json_loads(ev->body, 0, NULL);
    const char *token = obj_str(root, "token");
    int rc = 0;
    if (token) {
        struct payment p;
        bool found = false;
        rc = payments_store_find_ref(c, ev->tenant_id, PAYMENT_IYZICO, token, a, &p, &found, e);
        /* the notification carries no amount: the retrieve answer does, so ask */
        if (!rc && found)
            rc = payments_jobs_enqueue_check(c, ev->tenant_id, p.pk, "webhook", now_ms, e);
        else if (!rc)
            log_info("msg=\"iyzico event for an unknown payment\" tenant=%lld event=%s",
                     (long long)ev->tenant_id, ev->event_id);
    }
    if (!rc)
        observe(PAYMENT_IYZICO, ev->received_at, now_ms);
    json_decref(root);
    return rc;
}

/* ---- registration ---- */

int payments_jobs_register(struct job_registry *reg, struct err *e)
{
    int rc = notify_kind_register(&paid_kind, e);
    if (!rc)
        rc = job_registry_add(reg, PAYMENTS_JOB_CHECK, check, NULL, 0, e);
    if (!rc)
        rc = job_registry_add(reg, PAYMENTS_JOB_RECONCILE, reconcile, NULL, JOB_IN_TX, e);
    if (!rc)
        rc = job_registry_add(reg, PAYMENTS_JOB_PAID_NOTICE, paid_notice, NULL, JOB_IN_TX, e);
    return rc;
}

int payments_jobs_schedule(struct sched *s, int interval_s, struct err *e)
{
    return sched_every(s, "payments.reconcile", interval_s > 0 ? interval_s : 300,
                       PAYMENTS_JOB_RECONCILE, "{}", e);
}
