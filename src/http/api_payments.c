/* SPDX-License-Identifier: MIT */
/*
 * Payments over HTTP: POST/GET /api/orders/{id}/payments, POST /api/orders/{id}/fulfil and
 * /cancel, GET /api/orders/{id}/history, GET /api/payments/{id},
 * POST /api/payments/{id}/refunds (both POSTs under an Idempotency-Key, replayed as Stripe's own
 * API does, with Idempotent-Replayed: true), and iyzico's callback after the buyer paid
 * (POST /api/public/iyzico/callback/{tenant}/{id}), which only asks for a check. Decoding
 * here; the rules live in domain/payments. Tests: tests/integration/0023-payments.c.
 */
#include "core/buf.h"
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

/* The page a buyer's browser lands on: what happens next, nothing about the payment itself. */
static int callback_page(struct http_req *r, bool found)
{
    static const char head[] =
        "<!doctype html><html lang=\"tr\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>Ödeme · Payment</title><style>body{font-family:system-ui,sans-serif;"
        "max-width:32rem;margin:2rem auto;padding:0 1rem;color:#1f2328}h1{font-size:1.3rem}"
        "</style></head><body>";
    static const char checking[] =
        "<h1 id=\"status\" data-status=\"checking\">Ödemeniz kontrol ediliyor · We are "
        "checking your payment</h1><p>Ödemenizin sonucunu ödeme kuruluşundan alıyoruz; "
        "onaylandığında satıcı size haber verecek. Bu sayfayı kapatabilirsiniz.</p><p>We are "
        "getting the result from the payment provider; the shop will let you know once it is "
        "confirmed. You can close this page.</p></body></html>";
    static const char unknown[] =
        "<h1 id=\"status\" data-status=\"not_found\">Ödeme bulunamadı · Payment not "
        "found</h1><p>Bu adreste bir ödeme yok. There is no payment here.</p></body></html>";
    struct buf b;
    buf_init(&b, 4096);
    buf_appends(&b, head);
    buf_appends(&b, found ? checking : unknown);
    http_reply_header(r, "Cache-Control", "no-store");
    int rc = http_reply_bytes(r, found ? 200 : 404, "text/html; charset=utf-8", b.data, b.len);
    buf_release(&b);
    return rc;
}

/*
 * The buyer's browser comes back from iyzico's page with the token. Nothing it sends is
 * believed: a check job asks iyzico (signed answer) what happened to the payment. A browser
 * gets a page saying so; a program asking for JSON gets 202 {"id","status":"checking"}.
 */
int h_payments_iyzico_callback(struct http_req *r, struct err *e)
{
    int64_t tenant = 0;
    struct db_conn *c;
    bool json = http_req_wants_json(r);
    int rc = http_req_param_id(r, "tenant", &tenant, e);
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = payments_iyzico_callback(c, tenant, http_req_param(r, "id"),
                                      clock_now_ms(r->app->clock), &r->arena, e);
    if (!json && (!rc || rc == ERR_NOT_FOUND))
        return callback_page(r, !rc);
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
