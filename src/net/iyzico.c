/* SPDX-License-Identifier: MIT */
/*
 * iyzico's Checkout Form (see iyzico.h): JSON requests built with jansson, IYZWSv2, the signed
 * answers checked. Tests: tests/unit/net/test_iyzico.c.
 */
#include "net/iyzico.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/str.h"
#include "net/httpc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_INIT     "/payment/iyzipos/checkoutform/initialize/ecom"
#define PATH_RETRIEVE "/payment/iyzipos/checkoutform/auth/ecom/detail"
#define PATH_REFUND   "/payment/refund"

void iyzico_auth_header(const char *api_key, const char *secret_key, const char *random,
                        const char *path, const char *body, char *out, size_t n)
{
    struct sec_slice parts[3] = {
        {random, strlen(random)}, {path, strlen(path)}, {body, strlen(body)}};
    unsigned char mac[SEC_HMAC_SHA256_LEN];
    sec_hmac_sha256_v(mac, secret_key, strlen(secret_key), parts, 3);
    char hex[2 * SEC_HMAC_SHA256_LEN + 1];
    for (size_t i = 0; i < SEC_HMAC_SHA256_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    char plain[512];
    snprintf(plain, sizeof(plain), "apiKey:%s&randomKey:%s&signature:%s", api_key, random, hex);
    char b64[SEC_B64_SIZE(512)];
    struct err e;
    err_init(&e);
    if (sec_b64_encode(b64, sizeof(b64), SEC_B64_STD, plain, strlen(plain), &e))
        b64[0] = '\0';
    snprintf(out, n, "IYZWSv2 %s", b64);
}

void iyzico_sign_number(double v, char *out, size_t n)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(out, n, "%.*g", p, v);
        if (strtod(out, NULL) == v && !strchr(out, 'e'))
            return;
    }
}

static void copy(char *dst, size_t n, const char *src)
{
    str_copy(dst, n, src ? src : "");
}

/* hex HMAC-SHA256 of the strings joined by ':' under the secret, against `given` */
static bool signature_ok(const char *secret, const char *const *fields, size_t nf,
                         const char *given)
{
    struct buf b;
    buf_init(&b, 4096);
    for (size_t i = 0; i < nf; i++)
        buf_appendf(&b, "%s%s", i ? ":" : "", fields[i] ? fields[i] : "");
    char hex[SEC_HMAC_SHA256_HEX_SIZE];
    sec_hmac_sha256_hex(hex, secret, strlen(secret), buf_str(&b), b.len);
    buf_release(&b);
    return given && sec_equal(hex, strlen(hex), given, strlen(given));
}

static int post(const struct iyzico_config *c, const char *path, json_t *req, json_t **answer,
                struct iyzico_failure *f, struct err *e)
{
    *answer = NULL;
    memset(f, 0, sizeof(*f));
    if (!c->api_key || !*c->api_key || !c->secret_key || !*c->secret_key)
        return err_set_field(e, ERR_INVALID, "ICESHOP_IYZICO_API_KEY",
                             "no iyzico API key and secret key are configured");
    char *body = json_dumps(req, JSON_COMPACT);
    if (!body)
        return err_set(e, ERR_NOMEM, "iyzico request");
    unsigned char rb[12];
    sec_random_bytes(rb, sizeof(rb));
    char random[32];
    for (size_t i = 0; i < sizeof(rb); i++)
        snprintf(random + 2 * i, 3, "%02x", rb[i]);
    char auth[700], url[512];
    iyzico_auth_header(c->api_key, c->secret_key, random, path, body, auth, sizeof(auth));
    snprintf(url, sizeof(url), "%s%s", c->api_url ? c->api_url : IYZICO_DEFAULT_API_URL, path);
    struct httpc_header h[] = {{"Authorization", auth},
                               {"x-iyzi-rnd", random},
                               {"x-iyzi-client-version", "iceshop-1"},
                               {"Content-Type", "application/json"}};
    struct httpc_request r = {.method = "POST",
                              .url = url,
                              .headers = h,
                              .nheaders = 4,
                              .body = body,
                              .body_len = strlen(body),
                              .timeout_ms = c->timeout_ms ? c->timeout_ms : 15000};
    struct httpc_response resp;
    httpc_response_init(&resp);
    struct err he;
    err_init(&he);
    int rc = httpc_do(&r, &resp, &he);
    free(body);
    f->status = resp.status;
    if (rc) {
        f->retryable = true;
        rc = err_set(e, ERR_UPSTREAM, "iyzico unreachable: %s", he.msg);
    } else {
        json_t *root = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
        const char *status = json_string_value(json_object_get(root, "status"));
        if (resp.status >= 500 || resp.status == 429) {
            f->retryable = true;
            rc = err_set(e, ERR_UPSTREAM, "iyzico answered %ld", resp.status);
        } else if (!status || strcmp(status, "success") != 0) {
            copy(f->code, sizeof(f->code), json_string_value(json_object_get(root, "errorCode")));
            copy(f->message, sizeof(f->message),
                 json_string_value(json_object_get(root, "errorMessage")));
            rc = err_set(e, ERR_UPSTREAM, "iyzico refused (%ld, %s): %s", resp.status,
                         f->code[0] ? f->code : "no code", f->message);
        }
        if (rc)
            json_decref(root);
        else
            *answer = root;
    }
    httpc_response_release(&resp);
    return rc;
}

static json_t *price_json(const struct money *m)
{
    char text[MONEY_TEXT_MAX];
    struct err e;
    err_init(&e);
    if (money_format(m, text, sizeof(text), &e))
        return json_string("0");
    return json_string(text);
}

static int check_request(const struct iyzico_checkout_request *q, struct err *e)
{
    if (!q->conversation_id || !*q->conversation_id)
        return err_set_field(e, ERR_INVALID, "conversation_id", "conversation_id is required");
    if (!q->callback_url || strncmp(q->callback_url, "http", 4) != 0)
        return err_set_field(e, ERR_INVALID, "callback_url", "callback_url must be a URL");
    if (!q->buyer || !q->buyer->id || !q->buyer->email || !q->buyer->name || !q->buyer->surname)
        return err_set_field(e, ERR_INVALID, "buyer", "buyer needs id, name, surname and email");
    if (!q->n_items || !q->items)
        return err_set_field(e, ERR_INVALID, "items", "a checkout needs at least one item");
    struct money sum = {.minor = 0, .currency = q->price.currency};
    for (size_t i = 0; i < q->n_items; i++) {
        if (money_add(&sum, &q->items[i].price, &sum, e))
            return err_set_field(e, ERR_INVALID, "items", "item %zu is in another currency", i);
        if (q->items[i].price.minor <= 0)
            return err_set_field(e, ERR_INVALID, "items", "item %zu has no positive price", i);
    }
    if (!money_eq(&sum, &q->price))
        return err_set_field(e, ERR_INVALID, "price", "price must be the sum of the items");
    if (!q->paid_price.currency || q->paid_price.currency != q->price.currency ||
        q->paid_price.minor < q->price.minor)
        return err_set_field(e, ERR_INVALID, "paid_price",
                             "paid_price is in the price's currency and at least the price");
    return 0;
}

int iyzico_checkout_init(const struct iyzico_config *c, const struct iyzico_checkout_request *q,
                         struct iyzico_checkout *out, struct iyzico_failure *f, struct err *e)
{
    memset(out, 0, sizeof(*out));
    memset(f, 0, sizeof(*f));
    int rc = check_request(q, e);
    if (rc)
        return rc;
    const struct iyzico_buyer *b = q->buyer;
    json_t *items = json_array();
    for (size_t i = 0; i < q->n_items; i++)
        json_array_append_new(
            items,
            json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", q->items[i].id, "name", q->items[i].name,
                      "category1", q->items[i].category ? q->items[i].category : "General",
                      "itemType", "PHYSICAL", "price", price_json(&q->items[i].price)));
    json_t *addr = json_pack(
        "{s:s, s:s, s:s, s:s}", "contactName", b->name, "city", b->city ? b->city : "Istanbul",
        "country", b->country ? b->country : "Turkey", "address", b->address ? b->address : "-");
    json_t *req = json_pack(
        "{s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
        "s:s, s:s}, s:O, s:o, s:o}",
        "locale", q->locale ? q->locale : "tr", "conversationId", q->conversation_id, "price",
        price_json(&q->price), "paidPrice", price_json(&q->paid_price), "currency",
        q->price.currency->code, "basketId", q->basket_id ? q->basket_id : q->conversation_id,
        "paymentGroup", "PRODUCT", "callbackUrl", q->callback_url, "buyer", "id", b->id, "name",
        b->name, "surname", b->surname, "email", b->email, "gsmNumber", b->phone ? b->phone : "",
        "identityNumber", b->identity_number ? b->identity_number : "11111111111",
        "registrationAddress", b->address ? b->address : "-", "city",
        b->city ? b->city : "Istanbul", "country", b->country ? b->country : "Turkey", "ip",
        b->ip ? b->ip : "127.0.0.1", "shippingAddress", addr, "billingAddress", addr, "basketItems",
        items);
    if (!req)
        return err_set(e, ERR_INVALID, "iyzico request could not be built");
    json_t *ans = NULL;
    rc = post(c, PATH_INIT, req, &ans, f, e);
    json_decref(req);
    if (rc)
        return rc;
    const char *token = json_string_value(json_object_get(ans, "token"));
    const char *conv = json_string_value(json_object_get(ans, "conversationId"));
    const char *fields[] = {conv, token};
    if (!token || !signature_ok(c->secret_key, fields, 2,
                                json_string_value(json_object_get(ans, "signature")))) {
        copy(f->code, sizeof(f->code), "signature");
        rc = err_set(e, ERR_UPSTREAM, "iyzico's answer is not signed with our secret key");
    } else {
        copy(out->token, sizeof(out->token), token);
        copy(out->page_url, sizeof(out->page_url),
             json_string_value(json_object_get(ans, "paymentPageUrl")));
    }
    json_decref(ans);
    return rc;
}

/* A JSON number (or numeric string) as iyzico signs it, and as money in `currency`. */
static int read_price(json_t *v, const char *currency, char *signed_text, size_t n,
                      struct money *out, struct err *e)
{
    if (json_is_number(v))
        iyzico_sign_number(json_number_value(v), signed_text, n);
    else
        copy(signed_text, n, json_string_value(v));
    return money_parse(signed_text, currency, 0, out, e);
}

int iyzico_checkout_retrieve(const struct iyzico_config *c, const char *conversation_id,
                             const char *token, struct iyzico_payment *out,
                             struct iyzico_failure *f, struct err *e)
{
    memset(out, 0, sizeof(*out));
    memset(f, 0, sizeof(*f));
    if (!token || !*token)
        return err_set_field(e, ERR_INVALID, "token", "token is required");
    json_t *req = json_pack("{s:s, s:s, s:s}", "locale", "tr", "conversationId",
                            conversation_id ? conversation_id : "", "token", token);
    json_t *ans = NULL;
    int rc = post(c, PATH_RETRIEVE, req, &ans, f, e);
    json_decref(req);
    if (rc)
        return rc;
    const char *cur = json_string_value(json_object_get(ans, "currency"));
    char paid[48] = "", price[48] = "";
    struct err pe;
    err_init(&pe);
    if (!cur ||
        read_price(json_object_get(ans, "paidPrice"), cur, paid, sizeof(paid), &out->paid_price,
                   &pe) ||
        read_price(json_object_get(ans, "price"), cur, price, sizeof(price), &out->price, &pe)) {
        copy(f->code, sizeof(f->code), "amount");
        json_decref(ans);
        return err_set(e, ERR_UPSTREAM, "iyzico's answer has no readable amount: %s", pe.msg);
    }
    copy(out->payment_status, sizeof(out->payment_status),
         json_string_value(json_object_get(ans, "paymentStatus")));
    copy(out->payment_id, sizeof(out->payment_id),
         json_string_value(json_object_get(ans, "paymentId")));
    copy(out->conversation_id, sizeof(out->conversation_id),
         json_string_value(json_object_get(ans, "conversationId")));
    copy(out->basket_id, sizeof(out->basket_id),
         json_string_value(json_object_get(ans, "basketId")));
    copy(out->token, sizeof(out->token), json_string_value(json_object_get(ans, "token")));
    json_t *txn = json_object_get(json_array_get(json_object_get(ans, "itemTransactions"), 0),
                                  "paymentTransactionId");
    if (json_is_integer(txn))
        snprintf(out->payment_transaction_id, sizeof(out->payment_transaction_id),
                 "%" JSON_INTEGER_FORMAT, json_integer_value(txn));
    else
        copy(out->payment_transaction_id, sizeof(out->payment_transaction_id),
             json_string_value(txn));
    const char *fields[] = {out->payment_status,
                            out->payment_id,
                            cur,
                            out->basket_id,
                            out->conversation_id,
                            paid,
                            price,
                            out->token};
    if (!signature_ok(c->secret_key, fields, 8,
                      json_string_value(json_object_get(ans, "signature")))) {
        copy(f->code, sizeof(f->code), "signature");
        rc = err_set(e, ERR_UPSTREAM, "iyzico's payment result is not signed with our secret key");
        memset(out, 0, sizeof(*out));
    }
    json_decref(ans);
    return rc;
}

int iyzico_refund_create(const struct iyzico_config *c, const char *conversation_id,
                         const char *payment_transaction_id, const struct money *amount,
                         struct iyzico_refund *out, struct iyzico_failure *f, struct err *e)
{
    memset(out, 0, sizeof(*out));
    memset(f, 0, sizeof(*f));
    if (!payment_transaction_id || !*payment_transaction_id)
        return err_set_field(e, ERR_INVALID, "payment_transaction_id",
                             "payment_transaction_id is required");
    if (!amount || !amount->currency || amount->minor <= 0)
        return err_set_field(e, ERR_INVALID, "amount", "a refund needs a positive amount");
    json_t *req = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s}", "locale", "tr", "conversationId",
                            conversation_id ? conversation_id : "", "paymentTransactionId",
                            payment_transaction_id, "price", price_json(amount), "currency",
                            amount->currency->code, "ip", "127.0.0.1");
    json_t *ans = NULL;
    int rc = post(c, PATH_REFUND, req, &ans, f, e);
    json_decref(req);
    if (rc)
        return rc;
    char text[48] = "";
    struct err pe;
    err_init(&pe);
    if (read_price(json_object_get(ans, "price"), amount->currency->code, text, sizeof(text),
                   &out->price, &pe) ||
        !money_eq(&out->price, amount)) {
        copy(f->code, sizeof(f->code), "amount");
        rc = err_set(e, ERR_UPSTREAM, "iyzico's refund answer names another amount");
    }
    json_t *txn = json_object_get(ans, "paymentTransactionId");
    if (json_is_integer(txn))
        snprintf(out->payment_transaction_id, sizeof(out->payment_transaction_id),
                 "%" JSON_INTEGER_FORMAT, json_integer_value(txn));
    else
        copy(out->payment_transaction_id, sizeof(out->payment_transaction_id),
             json_string_value(txn));
    json_decref(ans);
    return rc;
}
