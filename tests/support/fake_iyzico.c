/* SPDX-License-Identifier: MIT */
/*
 * The fake iyzico (see fake_iyzico.h). Its IYZWSv2 check and response signatures are written
 * from iyzico's documentation, not by calling the client's own helpers, so the two can disagree.
 */
#include "fake_iyzico.h"
#include "core/crypto.h"
#include "fake_http.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKENS 64

struct checkout {
    char token[64], conversation[96], basket[96], currency[8];
    double price, paid;
    double refunded;
};

struct fake_iyzico {
    struct fake_http *http;
    char api_key[128], secret[128];
    pthread_mutex_t mu;
    struct checkout co[TOKENS];
    size_t n_co, requests;
    char next_status[24];
    bool forge;
    char refusal[160];
};

static const char *or_default(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

static void hmac_hex(const char *key, const char *msg, char out[65])
{
    sec_hmac_sha256_hex(out, key, strlen(key), msg, strlen(msg));
}

/* Python's str(float) with a trailing ".0" removed, as iyzico signs prices. */
static void num(double v, char *out, size_t n)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(out, n, "%.*g", p, v);
        if (strtod(out, NULL) == v && !strchr(out, 'e'))
            break;
    }
}

static char *failure(struct fake_iyzico *f, const char *code, const char *msg)
{
    snprintf(f->refusal, sizeof(f->refusal), "%s", msg);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "status", "failure", "errorCode", code,
                          "errorMessage", msg, "locale", "tr");
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* IYZWSv2: decode, split, recompute. NULL when fine, else why. */
static const char *check_auth(struct fake_iyzico *f, const struct fake_http_request *q)
{
    const char *auth = fake_http_header(q, "Authorization");
    const char *rnd = fake_http_header(q, "x-iyzi-rnd");
    if (!auth || strncmp(auth, "IYZWSv2 ", 8) != 0)
        return "no IYZWSv2 authorization";
    unsigned char plain[600];
    size_t len = 0;
    struct err e;
    err_init(&e);
    if (sec_b64_decode(plain, sizeof(plain) - 1, &len, SEC_B64_STD, auth + 8, strlen(auth + 8), &e))
        return "authorization is not base64";
    plain[len] = '\0';
    char key[128] = "", random[128] = "", sig[80] = "";
    if (sscanf((char *)plain, "apiKey:%127[^&]&randomKey:%127[^&]&signature:%79s", key, random,
               sig) != 3)
        return "authorization is not apiKey:&randomKey:&signature:";
    if (strcmp(key, f->api_key) != 0)
        return "unknown api key";
    if (!rnd || strcmp(rnd, random) != 0)
        return "x-iyzi-rnd differs from the signed random key";
    size_t ml = strlen(random) + strlen(q->url) + q->len + 1;
    char *msg = malloc(ml);
    if (!msg)
        abort();
    snprintf(msg, ml, "%s%s%.*s", random, q->url, (int)q->len, q->body);
    char want[65];
    hmac_hex(f->secret, msg, want);
    free(msg);
    return strcmp(want, sig) == 0 ? NULL : "IYZWSv2 signature does not match";
}

static void handle(void *cls, const struct fake_http_request *q, struct fake_http_answer *a)
{
    struct fake_iyzico *f = cls;
    pthread_mutex_lock(&f->mu);
    f->requests++;
    const char *why = check_auth(f, q);
    json_t *req = json_loadb(q->body, q->len, 0, NULL);
    char sig[65], line[1024];
    const char *signer = f->forge ? "another-secret" : f->secret;
    f->forge = false;
    if (why) {
        a->status = 401;
        a->body = failure(f, "1000", why);
    } else if (strcmp(q->url, "/payment/iyzipos/checkoutform/initialize/ecom") == 0) {
        const char *conv = json_string_value(json_object_get(req, "conversationId"));
        const char *price = json_string_value(json_object_get(req, "price"));
        const char *paid = json_string_value(json_object_get(req, "paidPrice"));
        const char *cur = json_string_value(json_object_get(req, "currency"));
        double sum = 0;
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(req, "basketItems"), i, it)
        {
            sum += strtod(or_default(json_string_value(json_object_get(it, "price")), "nan"), NULL);
        }
        if (!conv || !price || !paid || !cur || !json_is_object(json_object_get(req, "buyer")))
            a->body =
                failure(f, "11", "missing conversationId, price, paidPrice, currency or buyer");
        else if (fabs(sum - strtod(price, NULL)) > 1e-9)
            a->body = failure(f, "5001", "basket items do not add up to the price");
        else if (f->n_co == TOKENS)
            a->body = failure(f, "9999", "fake is full");
        else {
            struct checkout *c = &f->co[f->n_co++];
            snprintf(c->token, sizeof(c->token), "tok-%zu-%s", f->n_co, conv);
            snprintf(c->conversation, sizeof(c->conversation), "%s", conv);
            snprintf(c->basket, sizeof(c->basket), "%s",
                     or_default(json_string_value(json_object_get(req, "basketId")), ""));
            snprintf(c->currency, sizeof(c->currency), "%s", cur);
            c->price = strtod(price, NULL);
            c->paid = strtod(paid, NULL);
            snprintf(line, sizeof(line), "%s:%s", conv, c->token);
            hmac_hex(signer, line, sig);
            char page[256];
            snprintf(page, sizeof(page), "%s/pay?token=%s", fake_http_url(f->http), c->token);
            json_t *o =
                json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "status", "success", "locale",
                          "tr", "conversationId", conv, "token", c->token, "tokenExpireTime", 1800,
                          "paymentPageUrl", page, "signature", sig);
            a->body = json_dumps(o, JSON_COMPACT);
            json_decref(o);
        }
    } else if (strcmp(q->url, "/payment/iyzipos/checkoutform/auth/ecom/detail") == 0) {
        const char *token = json_string_value(json_object_get(req, "token"));
        struct checkout *c = NULL;
        for (size_t i = 0; token && i < f->n_co; i++)
            c = strcmp(f->co[i].token, token) == 0 ? &f->co[i] : c;
        if (!c) {
            a->body = failure(f, "5055", "token not found");
        } else {
            const char *status = f->next_status[0] ? f->next_status : "SUCCESS";
            char pid[32], p1[32], p2[32];
            snprintf(pid, sizeof(pid), "2%07zu", (size_t)(c - f->co) + 1);
            num(c->paid, p1, sizeof(p1));
            num(c->price, p2, sizeof(p2));
            snprintf(line, sizeof(line), "%s:%s:%s:%s:%s:%s:%s:%s", status, pid, c->currency,
                     c->basket, c->conversation, p1, p2, c->token);
            hmac_hex(signer, line, sig);
            char tid[32];
            snprintf(tid, sizeof(tid), "3%07zu", (size_t)(c - f->co) + 1);
            json_t *o = json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:[{s:s, s:f}]}", "status",
                "success", "paymentStatus", status, "paymentId", pid, "currency", c->currency,
                "basketId", c->basket, "conversationId", c->conversation, "paidPrice", c->paid,
                "price", c->price, "token", c->token, "signature", sig, "itemTransactions",
                "paymentTransactionId", tid, "paidPrice", c->paid);
            a->body = json_dumps(o, JSON_COMPACT);
            json_decref(o);
            f->next_status[0] = '\0';
        }
    } else if (strcmp(q->url, "/payment/refund") == 0) {
        /* refunds by basket item: at most what is left of it */
        const char *tid = json_string_value(json_object_get(req, "paymentTransactionId"));
        const char *price = json_string_value(json_object_get(req, "price"));
        struct checkout *c = NULL;
        for (size_t i = 0; tid && i < f->n_co; i++) {
            char t[32];
            snprintf(t, sizeof(t), "3%07zu", i + 1);
            c = strcmp(t, tid) == 0 ? &f->co[i] : c;
        }
        double v = price ? strtod(price, NULL) : 0;
        if (!c) {
            a->body = failure(f, "5093", "paymentTransactionId not found");
        } else if (v <= 0 || c->refunded + v > c->paid + 1e-9) {
            a->body = failure(f, "5096", "refund price is more than what is left");
        } else {
            c->refunded += v;
            json_t *o =
                json_pack("{s:s, s:s, s:s, s:f, s:s}", "status", "success", "paymentTransactionId",
                          tid, "currency", c->currency, "price", v, "locale", "tr");
            a->body = json_dumps(o, JSON_COMPACT);
            json_decref(o);
        }
    } else {
        a->status = 404;
        a->body = failure(f, "404", "no such endpoint");
    }
    pthread_mutex_unlock(&f->mu);
    json_decref(req);
}

struct fake_iyzico *fake_iyzico_start(const char *api_key, const char *secret_key)
{
    struct fake_iyzico *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    pthread_mutex_init(&f->mu, NULL);
    snprintf(f->api_key, sizeof(f->api_key), "%s", api_key);
    snprintf(f->secret, sizeof(f->secret), "%s", secret_key);
    f->http = fake_http_start(handle, f);
    if (!f->http) {
        fake_iyzico_stop(f);
        return NULL;
    }
    return f;
}

void fake_iyzico_stop(struct fake_iyzico *f)
{
    if (!f)
        return;
    fake_http_stop(f->http);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

const char *fake_iyzico_url(const struct fake_iyzico *f)
{
    return fake_http_url(f->http);
}

void fake_iyzico_next_status(struct fake_iyzico *f, const char *status)
{
    pthread_mutex_lock(&f->mu);
    snprintf(f->next_status, sizeof(f->next_status), "%s", status);
    pthread_mutex_unlock(&f->mu);
}

void fake_iyzico_forge_next(struct fake_iyzico *f)
{
    pthread_mutex_lock(&f->mu);
    f->forge = true;
    pthread_mutex_unlock(&f->mu);
}

size_t fake_iyzico_requests(struct fake_iyzico *f)
{
    pthread_mutex_lock(&f->mu);
    size_t n = f->requests;
    pthread_mutex_unlock(&f->mu);
    return n;
}

void fake_iyzico_last_refusal(struct fake_iyzico *f, char *out, size_t n)
{
    pthread_mutex_lock(&f->mu);
    snprintf(out, n, "%s", f->refusal);
    pthread_mutex_unlock(&f->mu);
}

double fake_iyzico_refunded(struct fake_iyzico *f, const char *token)
{
    double r = -1;
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->n_co; i++) {
        if (strcmp(f->co[i].token, token) == 0)
            r = f->co[i].refunded;
    }
    pthread_mutex_unlock(&f->mu);
    return r;
}
