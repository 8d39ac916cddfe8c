/* SPDX-License-Identifier: MIT */
/*
 * Stripe's REST API (see stripe.h): form bodies, the bearer key, Idempotency-Key, and Stripe's
 * error objects read into stripe_failure. Tests: tests/unit/net/test_stripe.c.
 */
#include "net/stripe.h"
#include "core/buf.h"
#include "core/str.h"
#include "net/httpc.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Append k=v form-encoded (RFC 3986 unreserved kept, everything else %XX). */
static int form(struct buf *b, const char *k, const char *v)
{
    int rc = b->len ? buf_append(b, "&", 1) : 0;
    for (int part = 0; part < 2 && !rc; part++) {
        const char *s = part ? v : k;
        if (part)
            rc = buf_append(b, "=", 1);
        for (; *s && !rc; s++) {
            unsigned char ch = (unsigned char)*s;
            if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
                rc = buf_append(b, (const char *)&ch, 1);
            else
                rc = buf_appendf(b, "%%%02X", ch);
        }
    }
    return rc;
}

static void copy(char *dst, size_t n, const char *src)
{
    str_copy(dst, n, src ? src : "");
}

static void failure_from(struct stripe_failure *f, long status, const char *body, size_t len)
{
    memset(f, 0, sizeof(*f));
    f->status = status;
    json_t *root = json_loadb(body ? body : "", len, 0, NULL);
    json_t *err = json_object_get(root, "error");
    copy(f->type, sizeof(f->type), json_string_value(json_object_get(err, "type")));
    copy(f->code, sizeof(f->code), json_string_value(json_object_get(err, "code")));
    copy(f->param, sizeof(f->param), json_string_value(json_object_get(err, "param")));
    json_decref(root);
    /* Stripe: 409 is a concurrent request with the same key (lock_timeout), 429 rate limits */
    f->retryable = status == 0 || status == 409 || status == 429 || status >= 500;
}

/* One call; *root (new reference) is the answer's JSON on 2xx. */
static int call(const struct stripe_config *c, const char *method, const char *path,
                const struct buf *body, const char *idem, json_t **root, bool *replayed,
                struct stripe_failure *f, struct err *e)
{
    *root = NULL;
    memset(f, 0, sizeof(*f));
    if (!c->secret_key || !*c->secret_key)
        return err_set_field(e, ERR_INVALID, "ICESHOP_STRIPE_SECRET_KEY",
                             "no Stripe secret key is configured");
    char url[512], auth[256], idem_h[300];
    snprintf(url, sizeof(url), "%s%s", c->api_url ? c->api_url : STRIPE_DEFAULT_API_URL, path);
    snprintf(auth, sizeof(auth), "Bearer %s", c->secret_key);
    struct httpc_header h[4] = {{"Authorization", auth},
                                {"Content-Type", "application/x-www-form-urlencoded"},
                                {"Stripe-Version", "2024-06-20"}};
    size_t nh = 3;
    if (idem && *idem) {
        snprintf(idem_h, sizeof(idem_h), "%s", idem);
        h[nh++] = (struct httpc_header){"Idempotency-Key", idem_h};
    }
    struct httpc_request req = {.method = method,
                                .url = url,
                                .headers = h,
                                .nheaders = nh,
                                .body = body ? buf_str(body) : NULL,
                                .body_len = body ? body->len : 0,
                                .timeout_ms = c->timeout_ms ? c->timeout_ms : 15000};
    struct httpc_response resp;
    httpc_response_init(&resp);
    struct err he;
    err_init(&he);
    int rc = httpc_do(&req, &resp, &he);
    if (rc) {
        failure_from(f, 0, NULL, 0);
        rc = err_set(e, ERR_UPSTREAM, "Stripe unreachable: %s", he.msg);
    } else if (resp.status >= 200 && resp.status < 300) {
        *root = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
        const char *rp = httpc_response_header(&resp, "Idempotent-Replayed");
        *replayed = rp && strcmp(rp, "true") == 0;
        if (!json_is_object(*root)) {
            json_decref(*root);
            *root = NULL;
            failure_from(f, resp.status, NULL, 0);
            rc = err_set(e, ERR_UPSTREAM, "Stripe's answer to %s %s is not JSON", method, path);
        }
    } else {
        failure_from(f, resp.status, buf_str(&resp.body), resp.body.len);
        rc = err_set(e, ERR_UPSTREAM, "Stripe answered %ld (%s%s%s)", resp.status,
                     f->type[0] ? f->type : "no error object", f->code[0] ? ": " : "", f->code);
    }
    httpc_response_release(&resp);
    return rc;
}

static void read_intent(json_t *o, struct stripe_intent *out)
{
    copy(out->id, sizeof(out->id), json_string_value(json_object_get(o, "id")));
    copy(out->client_secret, sizeof(out->client_secret),
         json_string_value(json_object_get(o, "client_secret")));
    copy(out->status, sizeof(out->status), json_string_value(json_object_get(o, "status")));
    out->amount = json_integer_value(json_object_get(o, "amount"));
    copy(out->currency, sizeof(out->currency), json_string_value(json_object_get(o, "currency")));
}

static void lower_code(const struct money *m, char out[8])
{
    size_t i = 0;
    for (const char *p = m->currency->code; *p && i < 7; p++)
        out[i++] = (char)tolower((unsigned char)*p);
    out[i] = '\0';
}

int stripe_intent_create(const struct stripe_config *c, const struct money *amount,
                         const char *order_id, const char *idempotency_key,
                         struct stripe_intent *out, struct stripe_failure *f, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (!amount || !amount->currency || amount->minor <= 0)
        return err_set_field(e, ERR_INVALID, "amount", "a payment needs a positive amount");
    if (!idempotency_key || !*idempotency_key)
        return err_set_field(e, ERR_INVALID, "idempotency_key",
                             "every payment request carries an idempotency key");
    char cur[8], amt[24];
    lower_code(amount, cur);
    snprintf(amt, sizeof(amt), "%lld", (long long)amount->minor);
    struct buf b;
    buf_init(&b, 4096);
    int brc = form(&b, "amount", amt);
    brc |= form(&b, "currency", cur);
    brc |= form(&b, "automatic_payment_methods[enabled]", "true");
    brc |= form(&b, "metadata[order_id]", order_id ? order_id : "");
    json_t *root = NULL;
    int rc = brc ? err_set(e, ERR_INVALID, "payment request too large")
                 : call(c, "POST", "/v1/payment_intents", &b, idempotency_key, &root,
                        &out->replayed, f, e);
    buf_release(&b);
    if (!rc)
        read_intent(root, out);
    json_decref(root);
    return rc;
}

int stripe_intent_get(const struct stripe_config *c, const char *id, struct stripe_intent *out,
                      struct stripe_failure *f, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (!id || strncmp(id, "pi_", 3) != 0 || strlen(id) > 60 || strpbrk(id, "/?#%"))
        return err_set_field(e, ERR_INVALID, "id", "a PaymentIntent id looks like pi_…");
    char path[96];
    snprintf(path, sizeof(path), "/v1/payment_intents/%s", id);
    json_t *root = NULL;
    bool replayed = false;
    int rc = call(c, "GET", path, NULL, NULL, &root, &replayed, f, e);
    if (!rc)
        read_intent(root, out);
    json_decref(root);
    return rc;
}

int stripe_refund_create(const struct stripe_config *c, const char *intent_id,
                         const struct money *amount, const char *idempotency_key,
                         struct stripe_refund *out, struct stripe_failure *f, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (!intent_id || strncmp(intent_id, "pi_", 3) != 0)
        return err_set_field(e, ERR_INVALID, "payment_intent",
                             "a PaymentIntent id looks like pi_…");
    if (amount && amount->minor <= 0)
        return err_set_field(e, ERR_INVALID, "amount", "a refund needs a positive amount");
    if (!idempotency_key || !*idempotency_key)
        return err_set_field(e, ERR_INVALID, "idempotency_key",
                             "every refund request carries an idempotency key");
    struct buf b;
    buf_init(&b, 1024);
    int brc = form(&b, "payment_intent", intent_id);
    if (amount) {
        char amt[24];
        snprintf(amt, sizeof(amt), "%lld", (long long)amount->minor);
        brc |= form(&b, "amount", amt);
    }
    json_t *root = NULL;
    int rc = brc ? err_set(e, ERR_INVALID, "refund request too large")
                 : call(c, "POST", "/v1/refunds", &b, idempotency_key, &root, &out->replayed, f, e);
    buf_release(&b);
    if (!rc) {
        copy(out->id, sizeof(out->id), json_string_value(json_object_get(root, "id")));
        copy(out->status, sizeof(out->status), json_string_value(json_object_get(root, "status")));
        out->amount = json_integer_value(json_object_get(root, "amount"));
    }
    json_decref(root);
    return rc;
}
