/* SPDX-License-Identifier: MIT */
/*
 * Payments over HTTP: POST/GET /api/orders/{id}/payments, POST /api/orders/{id}/fulfil and
 * /cancel, GET /api/orders/{id}/history, GET /api/payments/{id},
 * POST /api/payments/{id}/refunds (both POSTs under an Idempotency-Key, replayed as Stripe's own
 * API does, with Idempotent-Replayed: true), and iyzico's callback after the buyer paid
 * (POST /api/public/iyzico/callback/{tenant}/{id}), which only asks for a check. Decoding
 * here; the rules live in domain/payments. Tests: tests/integration/0023-payments.c.
 */
#include "core/clock.h"
#include "core/log.h"
#include "domain/payments/payments.h"
#include "domain/payments/payments_service.h"
#include "http/app.h"
#include "http/handlers.h"

#include <string.h>

static void request_of(struct http_req *r, struct payments_request *q, char hash[65])
{
    payments_request_hash(r->method, r->path, buf_str(&r->body), r->body.len, hash);
    q->idem_key = http_req_header(r, "Idempotency-Key");
    q->request_hash = hash;
}

static int reply_answer(struct http_req *r, const struct payments_answer *ans)
{
    if (ans->replayed)
        http_reply_header(r, "Idempotent-Replayed", "true");
    return http_reply_bytes(r, ans->status, "application/json", ans->body, strlen(ans->body));
}

int h_payments_create(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"provider", NULL};
    const char *provider = NULL;
    int rc = json_reject_unknown(r->json, NULL, fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "provider", true, 16, &provider, e);
    if (rc)
        return rc;
    char hash[65];
    struct payments_request q;
    request_of(r, &q, hash);
    struct payments_answer ans;
    rc = payments_start(r->app->db, r->who.tenant_id, http_req_param(r, "id"), provider, &q,
                        clock_now_ms(r->app->clock), &r->arena, &ans, e);
    if (rc)
        return rc;
    return reply_answer(r, &ans);
}

int h_payments_list(struct http_req *r, struct err *e)
{
    struct db_conn *c;
    json_t *body = NULL;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = payments_list_json(c, r->who.tenant_id, http_req_param(r, "id"), &r->arena, &body, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, body);
}

int h_payments_get(struct http_req *r, struct err *e)
{
    struct db_conn *c;
    json_t *body = NULL;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = payments_get_json(c, r->who.tenant_id, http_req_param(r, "id"), &r->arena, &body, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, body);
}

int h_payments_refund(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"amount", NULL};
    const char *amount = NULL;
    int rc = json_reject_unknown(r->json, NULL, fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "amount", false, MONEY_TEXT_MAX, &amount, e);
    if (rc)
        return rc;
    char hash[65];
    struct payments_request q;
    request_of(r, &q, hash);
    struct payments_answer ans;
    rc = payments_refund(r->app->db, r->who.tenant_id, http_req_param(r, "id"), amount, &q,
                         clock_now_ms(r->app->clock), &r->arena, &ans, e);
    if (rc)
        return rc;
    return reply_answer(r, &ans);
}

/*
 * The buyer's browser comes back from iyzico's page with the token. Nothing it sends is
 * believed: a check job asks iyzico (signed answer) what happened to the payment.
 */
int h_payments_iyzico_callback(struct http_req *r, struct err *e)
{
    int64_t tenant = 0;
    struct db_conn *c;
    int rc = http_req_param_id(r, "tenant", &tenant, e);
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = payments_iyzico_callback(c, tenant, http_req_param(r, "id"),
                                      clock_now_ms(r->app->clock), &r->arena, e);
    if (rc)
        return rc;
    json_t *body = json_pack("{s:s, s:s}", "id", http_req_param(r, "id"), "status", "checking");
    return http_reply_json(r, 202, body);
}

static int order_act(struct http_req *r, enum payments_order_action action, struct err *e)
{
    struct db_conn *c;
    enum commerce_order_status st;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = payments_order_act(c, r->who.tenant_id, http_req_param(r, "id"), action,
                                clock_now_ms(r->app->clock), &r->arena, &st, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200,
                           json_pack("{s:s, s:s}", "id", http_req_param(r, "id"), "status",
                                     commerce_order_status_names[st]));
}

int h_orders_fulfil(struct http_req *r, struct err *e)
{
    return order_act(r, PAYMENTS_ORDER_FULFIL, e);
}

int h_orders_cancel(struct http_req *r, struct err *e)
{
    return order_act(r, PAYMENTS_ORDER_CANCEL, e);
}

int h_orders_history(struct http_req *r, struct err *e)
{
    struct db_conn *c;
    json_t *body = NULL;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = payments_order_history_json(c, r->who.tenant_id, http_req_param(r, "id"), &r->arena,
                                         &body, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, body);
}
