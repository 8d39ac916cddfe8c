/* SPDX-License-Identifier: MIT */
/*
 * The fake Stripe API (see fake_stripe.h): a form decoder, an idempotency cache keyed by the
 * Idempotency-Key header, PaymentIntents and refunds kept in memory.
 */
#include "fake_stripe.h"
#include "fake_http.h"

#include <ctype.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 2048 /* intents and idempotency keys kept; bench_pay_start makes hundreds */

struct intent {
    char id[32];
    int64_t amount, refunded;
    char currency[16];
    char order_id[64];
    char status[32]; /* what GET answers; "" = requires_payment_method */
};

struct idem {
    char key[256];
    char request[4096]; /* method path body */
    unsigned status;
    char *answer;
};

struct fake_stripe {
    struct fake_http *http;
    char auth[256];
    pthread_mutex_t mu;
    int delay_next_ms;
    struct intent intents[MAX_ITEMS];
    size_t n_intents;
    struct idem idems[MAX_ITEMS];
    size_t n_idems;
    size_t requests;
    unsigned fail_status;
    char fail_type[48], fail_code[64];
    char last_body[4096];
    int refunds;
};

/* The value of `key` in a form body, decoded into out; false when absent or badly encoded. */
static bool form_get(const char *body, const char *key, char *out, size_t n, bool *bad)
{
    size_t kl = strlen(key);
    const char *p = body;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        /* decode the key of this pair and compare */
        char k[128];
        size_t ki = 0, i = 0;
        for (; i < len && p[i] != '=' && ki + 1 < sizeof(k); i++) {
            if (p[i] == '%' && i + 2 < len && isxdigit((unsigned char)p[i + 1]) &&
                isxdigit((unsigned char)p[i + 2])) {
                char hex[3] = {p[i + 1], p[i + 2], 0};
                k[ki++] = (char)strtol(hex, NULL, 16);
                i += 2;
            } else if (p[i] == '%') {
                *bad = true;
                return false;
            } else {
                k[ki++] = p[i] == '+' ? ' ' : p[i];
            }
        }
        k[ki] = '\0';
        if (ki == kl && memcmp(k, key, kl) == 0 && i < len && p[i] == '=') {
            size_t o = 0;
            for (i++; i < len && o + 1 < n; i++) {
                if (p[i] == '%' && i + 2 < len && isxdigit((unsigned char)p[i + 1]) &&
                    isxdigit((unsigned char)p[i + 2])) {
                    char hex[3] = {p[i + 1], p[i + 2], 0};
                    out[o++] = (char)strtol(hex, NULL, 16);
                    i += 2;
                } else if (p[i] == '%') {
                    *bad = true;
                    return false;
                } else {
                    out[o++] = p[i] == '+' ? ' ' : p[i];
                }
            }
            out[o] = '\0';
            return true;
        }
        p = amp ? amp + 1 : NULL;
    }
    return false;
}

static char *error_json(const char *type, const char *code, const char *param, const char *msg)
{
    json_t *o = json_pack("{s:{s:s, s:s, s:s, s:s}}", "error", "type", type, "code", code, "param",
                          param, "message", msg);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static char *intent_json(const struct intent *it, const char *status)
{
    char secret[96];
    snprintf(secret, sizeof(secret), "%s_secret_fake", it->id);
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:{s:s}}", "id", it->id, "object",
                  "payment_intent", "amount", (json_int_t)it->amount, "currency", it->currency,
                  "client_secret", secret, "status", status, "metadata", "order_id", it->order_id);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* The answer to a request (status into *status; malloc'd body). Called with the lock held. */
static char *answer(struct fake_stripe *f, const struct fake_http_request *q, unsigned *status)
{
    char v[256];
    bool bad = false;
    *status = 200;
    if (strcmp(q->method, "POST") == 0 && strcmp(q->url, "/v1/payment_intents") == 0) {
        char cur[16] = "", order[64] = "";
        if (!form_get(q->body, "amount", v, sizeof(v), &bad) || bad) {
            *status = 400;
            return error_json("invalid_request_error", "parameter_missing", "amount",
                              "Missing required param: amount.");
        }
        char *end;
        long long amount = strtoll(v, &end, 10);
        if (*end || amount <= 0) {
            *status = 400;
            return error_json("invalid_request_error", "parameter_invalid_integer", "amount",
                              "Invalid integer: amount");
        }
        if (!form_get(q->body, "currency", cur, sizeof(cur), &bad) || strlen(cur) != 3 ||
            !islower((unsigned char)cur[0])) {
            *status = 400;
            return error_json("invalid_request_error", "parameter_missing", "currency",
                              "Missing or invalid currency.");
        }
        form_get(q->body, "metadata[order_id]", order, sizeof(order), &bad);
        if (f->n_intents == MAX_ITEMS) {
            *status = 500;
            return error_json("api_error", "", "", "fake is full");
        }
        struct intent *it = &f->intents[f->n_intents++];
        snprintf(it->id, sizeof(it->id), "pi_fake%04zu", f->n_intents);
        it->amount = amount;
        snprintf(it->currency, sizeof(it->currency), "%s", cur);
        snprintf(it->order_id, sizeof(it->order_id), "%s", order);
        return intent_json(it, "requires_payment_method");
    }
    if (strcmp(q->method, "GET") == 0 && strncmp(q->url, "/v1/payment_intents/", 20) == 0) {
        for (size_t i = 0; i < f->n_intents; i++) {
            if (strcmp(f->intents[i].id, q->url + 20) == 0)
                return intent_json(&f->intents[i], f->intents[i].status[0]
                                                       ? f->intents[i].status
                                                       : "requires_payment_method");
        }
        *status = 404;
        return error_json("invalid_request_error", "resource_missing", "intent",
                          "No such payment_intent");
    }
    if (strcmp(q->method, "POST") == 0 && strcmp(q->url, "/v1/refunds") == 0) {
        if (!form_get(q->body, "payment_intent", v, sizeof(v), &bad) || bad) {
            *status = 400;
            return error_json("invalid_request_error", "parameter_missing", "payment_intent",
                              "Missing required param: payment_intent.");
        }
        struct intent *it = NULL;
        for (size_t i = 0; i < f->n_intents; i++)
            it = strcmp(f->intents[i].id, v) == 0 ? &f->intents[i] : it;
        if (!it) {
            *status = 404;
            return error_json("invalid_request_error", "resource_missing", "payment_intent",
                              "No such payment_intent");
        }
        long long amount = it->amount - it->refunded;
        char a[32];
        if (form_get(q->body, "amount", a, sizeof(a), &bad))
            amount = strtoll(a, NULL, 10);
        if (amount <= 0 || amount > it->amount - it->refunded) {
            *status = 400;
            return error_json("invalid_request_error", "amount_too_large", "amount",
                              "Refund amount is greater than unrefunded amount on charge");
        }
        it->refunded += amount;
        json_t *o = json_pack("{s:s+, s:s, s:I, s:s, s:s}", "id", "re_fake", it->id, "object",
                              "refund", "amount", (json_int_t)amount, "status", "succeeded",
                              "payment_intent", it->id);
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        f->refunds++;
        return s;
    }
    *status = 404;
    return error_json("invalid_request_error", "", "", "Unrecognized request URL");
}

static void handle(void *cls, const struct fake_http_request *q, struct fake_http_answer *a)
{
    struct fake_stripe *f = cls;
    const char *auth = fake_http_header(q, "Authorization");
    const char *ct = fake_http_header(q, "Content-Type");
    const char *key = fake_http_header(q, "Idempotency-Key");
    pthread_mutex_lock(&f->mu);
    f->requests++;
    snprintf(f->last_body, sizeof(f->last_body), "%.*s", (int)q->len, q->body);
    unsigned status = 200;
    char *body = NULL;
    if (!auth || strcmp(auth, f->auth) != 0) {
        status = 401;
        body = error_json("invalid_request_error", "", "", "Invalid API Key provided");
    } else if (strcmp(q->method, "POST") == 0 &&
               (!ct || strncmp(ct, "application/x-www-form-urlencoded", 33) != 0)) {
        status = 400;
        body = error_json("invalid_request_error", "", "", "Invalid request: not form-encoded");
    } else if (f->fail_status) {
        status = f->fail_status;
        body = error_json(f->fail_type, f->fail_code, "", "scripted failure");
        f->fail_status = 0;
    } else {
        char request[4096];
        snprintf(request, sizeof(request), "%s %s %.*s", q->method, q->url, (int)q->len, q->body);
        struct idem *seen = NULL;
        for (size_t i = 0; key && i < f->n_idems; i++)
            seen = strcmp(f->idems[i].key, key) == 0 ? &f->idems[i] : seen;
        if (seen && strcmp(seen->request, request) != 0) {
            status = 400;
            body = error_json("idempotency_error", "", "",
                              "Keys for idempotent requests can only be used with the same "
                              "parameters they were first used with.");
        } else if (seen) {
            status = seen->status;
            body = strdup(seen->answer);
            snprintf(a->content_type, sizeof(a->content_type), "application/json");
            a->status = status;
            a->body = body;
            pthread_mutex_unlock(&f->mu);
            a->replayed = true;
            return;
        } else {
            body = answer(f, q, &status);
            if (key && strcmp(q->method, "POST") == 0 && f->n_idems < MAX_ITEMS) {
                struct idem *d = &f->idems[f->n_idems++];
                snprintf(d->key, sizeof(d->key), "%s", key);
                snprintf(d->request, sizeof(d->request), "%s", request);
                d->status = status;
                d->answer = strdup(body);
            }
        }
    }
    int delay = f->delay_next_ms;
    f->delay_next_ms = 0;
    pthread_mutex_unlock(&f->mu);
    if (delay > 0) {
        struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    a->status = status;
    a->body = body;
}

struct fake_stripe *fake_stripe_start(const char *secret_key)
{
    struct fake_stripe *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    pthread_mutex_init(&f->mu, NULL);
    snprintf(f->auth, sizeof(f->auth), "Bearer %s", secret_key);
    f->http = fake_http_start(handle, f);
    if (!f->http) {
        fake_stripe_stop(f);
        return NULL;
    }
    return f;
}

void fake_stripe_stop(struct fake_stripe *f)
{
    if (!f)
        return;
    fake_http_stop(f->http);
    for (size_t i = 0; i < f->n_idems; i++)
        free(f->idems[i].answer);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

const char *fake_stripe_url(const struct fake_stripe *f)
{
    return fake_http_url(f->http);
}

void fake_stripe_delay_next(struct fake_stripe *f, int ms)
{
    pthread_mutex_lock(&f->mu);
    f->delay_next_ms = ms;
    pthread_mutex_unlock(&f->mu);
}

void fake_stripe_fail_next(struct fake_stripe *f, unsigned status, const char *type,
                           const char *code)
{
    pthread_mutex_lock(&f->mu);
    f->fail_status = status;
    snprintf(f->fail_type, sizeof(f->fail_type), "%s", type ? type : "");
    snprintf(f->fail_code, sizeof(f->fail_code), "%s", code ? code : "");
    pthread_mutex_unlock(&f->mu);
}

size_t fake_stripe_requests(struct fake_stripe *f)
{
    pthread_mutex_lock(&f->mu);
    size_t n = f->requests;
    pthread_mutex_unlock(&f->mu);
    return n;
}

size_t fake_stripe_intents(struct fake_stripe *f)
{
    pthread_mutex_lock(&f->mu);
    size_t n = f->n_intents;
    pthread_mutex_unlock(&f->mu);
    return n;
}

void fake_stripe_last_body(struct fake_stripe *f, char *out, size_t n)
{
    pthread_mutex_lock(&f->mu);
    snprintf(out, n, "%s", f->last_body);
    pthread_mutex_unlock(&f->mu);
}

void fake_stripe_set_status(struct fake_stripe *f, const char *intent_id, const char *status)
{
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->n_intents; i++) {
        if (strcmp(f->intents[i].id, intent_id) == 0)
            snprintf(f->intents[i].status, sizeof(f->intents[i].status), "%s", status);
    }
    pthread_mutex_unlock(&f->mu);
}

int64_t fake_stripe_refunded(struct fake_stripe *f, const char *intent_id)
{
    int64_t r = -1;
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->n_intents; i++) {
        if (strcmp(f->intents[i].id, intent_id) == 0)
            r = f->intents[i].refunded;
    }
    pthread_mutex_unlock(&f->mu);
    return r;
}
