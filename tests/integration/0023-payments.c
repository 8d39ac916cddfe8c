/* SPDX-License-Identifier: MIT */
/*
 * Payments end to end against the real server and local Stripe and iyzico fakes: a payment
 * under an Idempotency-Key (replayed, refused with another body), Stripe's signed webhooks
 * (the same one twice acted on once, events in reverse order, an amount that is not the
 * order's), a lost webhook put right by reconciliation, partial then full refunds, iyzico's
 * Checkout Form with the buyer's callback and its signed notification, and another tenant
 * getting 404 on every payments route; the paid order gets its certificate (the order-paid hook).
 * Runs on the backend TEST_BACKEND selects.
 */
#include "support/fake_iyzico.h"
#include "support/fake_stripe.h"
#include "support/harness.h"

#include "core/crypto.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define ADMIN   HARNESS_ADMIN_KEY
#define SK      "sk_test_payments"
#define WHSEC   "whsec_payments_test"
#define IYZ_KEY "iyz-api-key"
#define IYZ_SEC "iyz-secret-key"

static struct server srv;
static struct fake_stripe *stripe;
static struct fake_iyzico *iyzico;
static char other_key[200];
static char customer[64], product[64];

static char env[6][300];
static const char *server_env[9];

static int setup(void **state)
{
    (void)state;
    stripe = fake_stripe_start(SK);
    iyzico = fake_iyzico_start(IYZ_KEY, IYZ_SEC);
    if (!stripe || !iyzico)
        return -1;
    snprintf(env[0], sizeof(env[0]), "ICESHOP_STRIPE_SECRET_KEY=%s", SK);
    snprintf(env[1], sizeof(env[1]), "ICESHOP_STRIPE_API_URL=%s", fake_stripe_url(stripe));
    snprintf(env[2], sizeof(env[2]), "ICESHOP_STRIPE_WEBHOOK_SECRET=%s", WHSEC);
    snprintf(env[3], sizeof(env[3]), "ICESHOP_IYZICO_API_KEY=%s", IYZ_KEY);
    snprintf(env[4], sizeof(env[4]), "ICESHOP_IYZICO_SECRET_KEY=%s", IYZ_SEC);
    snprintf(env[5], sizeof(env[5]), "ICESHOP_IYZICO_API_URL=%s", fake_iyzico_url(iyzico));
    const char *const extra[] = {env[0],
                                 env[1],
                                 env[2],
                                 env[3],
                                 env[4],
                                 env[5],
                                 "ICESHOP_PAYMENTS_RECONCILE_INTERVAL=1",
                                 "ICESHOP_PAYMENTS_PENDING_AFTER=600",
                                 NULL};
    memcpy(server_env, extra, sizeof(extra));
    char url[600];
    harness_fresh_db(url, sizeof(url));
    if (server_start(&srv, url, extra))
        return -1;
    char out[400];
    if (harness_cli(srv.db_url, "tenants create other", out, sizeof(out)) ||
        harness_cli(srv.db_url, "keys create --tenant other --role admin --name b", other_key,
                    sizeof(other_key)))
        return -1;
    other_key[strcspn(other_key, " \r\n")] = '\0';
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int rc = server_stop(&srv) == 0 ? 0 : -1;
    fake_stripe_stop(stripe);
    fake_iyzico_stop(iyzico);
    return rc;
}

/* A request with optional Idempotency-Key; fails unless the status is `want`. */
static json_t *call_key(const char *auth, const char *method, const char *path, const char *body,
                        const char *idem, long want, bool *replayed)
{
    char h[300];
    snprintf(h, sizeof(h), "Idempotency-Key: %s", idem ? idem : "");
    const char *const headers[] = {h, NULL};
    struct resp r;
    assert_int_equal(http_req(&srv, method, path, auth, body ? "application/json" : NULL, body,
                              body ? strlen(body) : 0, idem ? headers : NULL, &r),
                     0);
    if (r.status != want)
        fail_msg("%s %s -> %ld (want %ld): %.500s", method, path, r.status, want, r.body);
    char v[16] = "";
    if (replayed)
        *replayed = resp_header(&r, "Idempotent-Replayed", v, sizeof(v)) && strcmp(v, "true") == 0;
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static json_t *call(const char *method, const char *path, const char *body, long want)
{
    return call_key(ADMIN, method, path, body, NULL, want, NULL);
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        fail_msg("no string %s in %s", key, json_dumps(o, JSON_COMPACT));
    return s;
}

/* A new pending order of `price` TRY; its id into `id`. */
static void new_order(const char *price, char *id, size_t n)
{
    char body[400];
    snprintf(body, sizeof(body),
             "{\"customer_id\":\"%s\",\"currency\":\"TRY\",\"items\":[{\"product_id\":\"%s\","
             "\"quantity\":1,\"unit_price\":\"%s\"}]}",
             customer, product, price);
    json_t *j = call("POST", "/api/orders", body, 201);
    snprintf(id, n, "%s", str(j, "id"));
    assert_string_equal(str(j, "status"), "pending");
    json_decref(j);
}

static void pay(const char *order, const char *provider, const char *key, char *payment, size_t n,
                char *ref, size_t ref_n)
{
    char path[200], body[100];
    snprintf(path, sizeof(path), "/api/orders/%s/payments", order);
    snprintf(body, sizeof(body), "{\"provider\":\"%s\"}", provider);
    json_t *j = call_key(ADMIN, "POST", path, body, key, 201, NULL);
    snprintf(payment, n, "%s", str(j, "id"));
    if (ref)
        snprintf(ref, ref_n, "%s", str(j, "provider_ref"));
    assert_string_equal(str(j, "status"), "pending");
    json_decref(j);
}

static bool order_is(const char *order, const char *status)
{
    char path[200];
    snprintf(path, sizeof(path), "/api/orders/%s", order);
    struct resp r;
    if (http_get(&srv, path, ADMIN, &r))
        return false;
    const char *s = json_string_value(json_object_get(r.json, "status"));
    bool ok = s && strcmp(s, status) == 0;
    resp_free(&r);
    return ok;
}

static bool payment_is(const char *payment, const char *status)
{
    char path[200];
    snprintf(path, sizeof(path), "/api/payments/%s", payment);
    struct resp r;
    if (http_get(&srv, path, ADMIN, &r))
        return false;
    const char *s = json_string_value(json_object_get(r.json, "status"));
    bool ok = s && strcmp(s, status) == 0;
    resp_free(&r);
    return ok;
}

static long long count(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long count(const char *fmt, ...)
{
    char sql[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    return harness_db_i64(srv.db_url, sql);
}

/* No events waiting in the ledger and no payments job pending or running. */
static bool settled(void)
{
    return harness_db_i64(srv.db_url,
                          "SELECT count(*) FROM inbound_events WHERE status = 'received'") == 0 &&
           harness_db_i64(srv.db_url, "SELECT count(*) FROM jobs WHERE state IN ('pending', "
                                      "'running') AND name IN ('integrations.event', "
                                      "'payments.check', 'payments.paid_notice')") == 0;
}

/* A signed Stripe event about PaymentIntent `pi`, posted to `path`; returns the status. */
static long stripe_event(const char *path, const char *evt, const char *type, const char *pi,
                         long long amount, const char *currency, long long refunded)
{
    char body[1200];
    if (strncmp(type, "charge.", 7) == 0)
        snprintf(body, sizeof(body),
                 "{\"id\":\"%s\",\"object\":\"event\",\"type\":\"%s\",\"data\":{\"object\":{"
                 "\"id\":\"ch_%s\",\"object\":\"charge\",\"payment_intent\":\"%s\",\"amount\":%lld,"
                 "\"amount_refunded\":%lld,\"currency\":\"%s\"}}}",
                 evt, type, pi, pi, amount, refunded, currency);
    else
        snprintf(body, sizeof(body),
                 "{\"id\":\"%s\",\"object\":\"event\",\"type\":\"%s\",\"data\":{\"object\":{"
                 "\"id\":\"%s\",\"object\":\"payment_intent\",\"amount\":%lld,\"currency\":"
                 "\"%s\"}}}",
                 evt, type, pi, amount, currency);
    struct resp r;
    assert_int_equal(harness_stripe_post(&srv, path, WHSEC, 0, body, &r), 0);
    long status = r.status;
    if (status != 200)
        print_message("webhook %s -> %ld %s\n", type, status, r.body);
    resp_free(&r);
    return status;
}

static void test_setup_catalogue(void **state)
{
    (void)state;
    json_t *j = call("POST", "/api/customers", "{\"email\":\"buyer@example.com\"}", 201);
    snprintf(customer, sizeof(customer), "%s", str(j, "id"));
    json_decref(j);
    j = call("POST", "/api/products", "{\"name\":\"Simit\",\"price\":\"10\",\"currency\":\"TRY\"}",
             201);
    snprintf(product, sizeof(product), "%s", str(j, "id"));
    json_decref(j);
}

static void test_stripe_pay_and_idempotency(void **state)
{
    (void)state;
    char order[64], path[200];
    new_order("12.50", order, sizeof(order));
    snprintf(path, sizeof(path), "/api/orders/%s/payments", order);
    /* no key, a bad provider */
    json_decref(call_key(ADMIN, "POST", path, "{\"provider\":\"stripe\"}", NULL, 400, NULL));
    json_decref(call_key(ADMIN, "POST", path, "{\"provider\":\"paypal\"}", "k-bad", 400, NULL));
    size_t before = fake_stripe_intents(stripe);
    bool replayed = true;
    json_t *first =
        call_key(ADMIN, "POST", path, "{\"provider\":\"stripe\"}", "k-1", 201, &replayed);
    assert_false(replayed);
    assert_string_equal(str(first, "amount"), "12.50");
    assert_string_equal(str(first, "currency"), "TRY");
    assert_non_null(strstr(str(first, "client_secret"), "_secret_"));
    char pi[64], payment[64];
    snprintf(pi, sizeof(pi), "%s", str(first, "provider_ref"));
    snprintf(payment, sizeof(payment), "%s", str(first, "id"));
    /* the same key and body: the first answer again, nothing new at Stripe */
    json_t *again =
        call_key(ADMIN, "POST", path, "{\"provider\":\"stripe\"}", "k-1", 201, &replayed);
    assert_true(replayed);
    assert_true(json_equal(first, again));
    assert_int_equal(fake_stripe_intents(stripe), before + 1);
    json_decref(again);
    json_decref(first);
    /* the same key, another body */
    json_decref(call_key(ADMIN, "POST", path, "{\"provider\":\"iyzico\"}", "k-1", 409, NULL));
    /* the amount went to Stripe in minor units with the order's id */
    char last[4096];
    fake_stripe_last_body(stripe, last, sizeof(last));
    assert_non_null(strstr(last, "amount=1250"));
    assert_non_null(strstr(last, "currency=try"));

    /* the webhook: paid, and the same event twice acted on once */
    assert_int_equal(stripe_event("/api/webhooks/stripe", "evt_pay_1", "payment_intent.succeeded",
                                  pi, 1250, "try", 0),
                     200);
    assert_int_equal(stripe_event("/webhooks/stripe", "evt_pay_1", "payment_intent.succeeded", pi,
                                  1250, "try", 0),
                     200);
    WAIT_FOR(order_is(order, "paid") && settled(), 20000);
    assert_true(order_is(order, "paid"));
    assert_true(payment_is(payment, "succeeded"));
    assert_int_equal(count("SELECT count(*) FROM order_status_history h JOIN orders o ON "
                           "o.order_id = h.order_id WHERE o.public_id = '%s' AND h.to_status = "
                           "'paid' AND h.cause = 'webhook'",
                           order),
                     1);
    assert_int_equal(count("SELECT count(*) FROM payment_history h JOIN payments p ON p.id = "
                           "h.payment_id WHERE p.public_id = '%s' AND h.to_status = 'succeeded'",
                           payment),
                     1);
    assert_int_equal(count("SELECT count(*) FROM jobs WHERE name = '%s'", "payments.paid_notice"),
                     1);
    assert_int_equal(
        count("SELECT duplicates FROM inbound_events WHERE event_id = '%s'", "evt_pay_1"), 1);
    /* a late failure never undoes the success; paying a paid order is refused */
    assert_int_equal(stripe_event("/api/webhooks/stripe", "evt_pay_2",
                                  "payment_intent.payment_failed", pi, 1250, "try", 0),
                     200);
    WAIT_FOR(settled(), 20000);
    assert_true(payment_is(payment, "succeeded"));
    assert_true(order_is(order, "paid"));
    json_decref(call_key(ADMIN, "POST", path, "{\"provider\":\"stripe\"}", "k-2", 409, NULL));
    /* the order-paid hook queued the order's certificate in the paying transaction: it is drawn */
    WAIT_FOR(count("SELECT count(*) FROM certificates c JOIN orders o ON o.order_id = c.order_id "
                   "WHERE o.public_id = '%s' AND c.status = 'READY'",
                   order) == 1,
             30000);
    assert_int_equal(count("SELECT count(*) FROM certificates c JOIN orders o ON o.order_id = "
                           "c.order_id WHERE o.public_id = '%s' AND c.status = 'READY'",
                           order),
                     1);
    /* the customer is told, by email (no phone) */
    WAIT_FOR(count("SELECT count(*) FROM messages WHERE kind = '%s'", "payment.received") == 1,
             20000);
    assert_int_equal(count("SELECT count(*) FROM messages WHERE kind = '%s'", "payment.received"),
                     1);
    /* the order's payments */
    json_t *list = call("GET", path, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(list, "data")), 1);
    json_decref(list);
}

/* A request that the server will not live to answer. */
struct doomed {
    char path[200];
};

static void *doomed_pay(void *arg)
{
    struct doomed *d = arg;
    const char *const headers[] = {"Idempotency-Key: k-kill", NULL};
    struct resp r;
    const char *body = "{\"provider\":\"stripe\"}";
    (void)http_req(&srv, "POST", d->path, ADMIN, "application/json", body, strlen(body), headers,
                   &r);
    resp_free(&r); /* filled (empty) when the connection died too */
    return NULL;
}

/*
 * The server is killed (SIGKILL) after Stripe created the PaymentIntent and before the server
 * recorded its answer. After a restart the client retries with the same Idempotency-Key: one
 * payment, one PaymentIntent (the attempt's own key makes Stripe replay it), paid once.
 */
static void test_killed_between_provider_and_commit(void **state)
{
    (void)state;
    char order[64];
    new_order("33.00", order, sizeof(order));
    struct doomed d;
    snprintf(d.path, sizeof(d.path), "/api/orders/%s/payments", order);
    size_t before = fake_stripe_intents(stripe);
    fake_stripe_delay_next(stripe, 3000);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, doomed_pay, &d), 0);
    WAIT_FOR(fake_stripe_intents(stripe) == before + 1, 20000);
    assert_int_equal(fake_stripe_intents(stripe), before + 1);
    server_kill(&srv);
    pthread_join(th, NULL);
    assert_int_equal(server_start(&srv, srv.db_url, server_env), 0);

    bool replayed = true;
    json_t *j =
        call_key(ADMIN, "POST", d.path, "{\"provider\":\"stripe\"}", "k-kill", 201, &replayed);
    assert_false(replayed); /* the first attempt never answered */
    char pi[64], payment[64];
    snprintf(pi, sizeof(pi), "%s", str(j, "provider_ref"));
    snprintf(payment, sizeof(payment), "%s", str(j, "id"));
    json_decref(j);
    assert_int_equal(fake_stripe_intents(stripe), before + 1); /* not doubled at Stripe */
    assert_int_equal(count("SELECT count(*) FROM payments p JOIN orders o ON o.order_id = "
                           "p.order_id WHERE o.public_id = '%s'",
                           order),
                     1); /* nor here */
    assert_int_equal(stripe_event("/api/webhooks/stripe", "evt_kill_1", "payment_intent.succeeded",
                                  pi, 3300, "try", 0),
                     200);
    WAIT_FOR(order_is(order, "paid") && settled(), 20000);
    assert_true(order_is(order, "paid"));
    assert_true(payment_is(payment, "succeeded"));
}

static void test_reverse_order(void **state)
{
    (void)state;
    char order[64], payment[64], pi[64];
    new_order("20.00", order, sizeof(order));
    pay(order, "stripe", "k-rev", payment, sizeof(payment), pi, sizeof(pi));
    /* the refund first, then the success, then a failure */
    assert_int_equal(
        stripe_event("/api/webhooks/stripe", "evt_rev_3", "charge.refunded", pi, 2000, "try", 2000),
        200);
    WAIT_FOR(settled(), 20000);
    assert_int_equal(stripe_event("/api/webhooks/stripe", "evt_rev_1", "payment_intent.succeeded",
                                  pi, 2000, "try", 0),
                     200);
    assert_int_equal(stripe_event("/api/webhooks/stripe", "evt_rev_2",
                                  "payment_intent.payment_failed", pi, 2000, "try", 0),
                     200);
    WAIT_FOR(settled(), 20000);
    assert_true(payment_is(payment, "refunded"));
    assert_true(order_is(order, "refunded"));
    /* paid once (its follow-ups ran once), then refunded */
    assert_int_equal(count("SELECT count(*) FROM order_status_history h JOIN orders o ON "
                           "o.order_id = h.order_id WHERE o.public_id = '%s' AND h.to_status = "
                           "'paid'",
                           order),
                     1);
    assert_int_equal(count("SELECT count(*) FROM order_status_history h JOIN orders o ON "
                           "o.order_id = h.order_id WHERE o.public_id = '%s'",
                           order),
                     2);
}

static void test_amount_mismatch(void **state)
{
    (void)state;
    char order[64], payment[64], pi[64];
    new_order("30.00", order, sizeof(order));
    pay(order, "stripe", "k-mis", payment, sizeof(payment), pi, sizeof(pi));
    assert_int_equal(stripe_event("/api/webhooks/stripe", "evt_mis_1", "payment_intent.succeeded",
                                  pi, 3001, "try", 0),
                     200);
    assert_int_equal(stripe_event("/api/webhooks/stripe", "evt_mis_2", "payment_intent.succeeded",
                                  pi, 3000, "usd", 0),
                     200);
    WAIT_FOR(settled(), 20000);
    assert_true(payment_is(payment, "pending"));
    assert_true(order_is(order, "pending"));
    json_t *alerts = call("GET", "/api/alerts", NULL, 200);
    char *text = json_dumps(alerts, JSON_COMPACT);
    assert_non_null(strstr(text, "payments.amount_mismatch"));
    assert_non_null(strstr(text, payment));
    free(text);
    json_decref(alerts);
}

static void test_reconciliation(void **state)
{
    (void)state;
    char order[64], payment[64], pi[64], sql[400], path[200];
    new_order("40.00", order, sizeof(order));
    pay(order, "stripe", "k-rec", payment, sizeof(payment), pi, sizeof(pi));
    /* the buyer paid, the webhook was lost; an hour later the reconciliation asks Stripe */
    fake_stripe_set_status(stripe, pi, "succeeded");
    snprintf(sql, sizeof(sql),
             "UPDATE payments SET updated_at = '2020-01-01T00:00:00Z' WHERE public_id = '%s'",
             payment);
    harness_db_exec(srv.db_url, sql);
    WAIT_FOR(order_is(order, "paid"), 20000);
    assert_true(order_is(order, "paid"));
    assert_true(payment_is(payment, "succeeded"));
    assert_int_equal(count("SELECT count(*) FROM order_status_history h JOIN orders o ON "
                           "o.order_id = h.order_id WHERE o.public_id = '%s' AND h.cause = "
                           "'reconciliation'",
                           order),
                     1);
    /* visible in the order's history and the payment's */
    snprintf(path, sizeof(path), "/api/orders/%s/history", order);
    json_t *hist = call("GET", path, NULL, 200);
    json_t *first = json_array_get(json_object_get(hist, "data"), 0);
    assert_string_equal(str(first, "from"), "pending");
    assert_string_equal(str(first, "to"), "paid");
    assert_string_equal(str(first, "cause"), "reconciliation");
    assert_string_equal(str(first, "payment_id"), payment);
    json_decref(hist);
    json_decref(call_key(other_key, "GET", path, NULL, NULL, 404, NULL));
    snprintf(path, sizeof(path), "/api/payments/%s", payment);
    json_t *j = call("GET", path, NULL, 200);
    char *text = json_dumps(json_object_get(j, "history"), JSON_COMPACT);
    assert_non_null(strstr(text, "\"cause\":\"reconciliation\""));
    free(text);
    json_decref(j);
}

static void test_refunds(void **state)
{
    (void)state;
    char order[64], payment[64], pi[64], path[200];
    new_order("50.00", order, sizeof(order));
    pay(order, "stripe", "k-ref", payment, sizeof(payment), pi, sizeof(pi));
    snprintf(path, sizeof(path), "/api/payments/%s/refunds", payment);
    /* nothing to refund before the money was taken */
    json_decref(call_key(ADMIN, "POST", path, "{}", "r-0", 409, NULL));
    assert_int_equal(stripe_event("/api/webhooks/stripe", "evt_ref_1", "payment_intent.succeeded",
                                  pi, 5000, "try", 0),
                     200);
    WAIT_FOR(order_is(order, "paid") && settled(), 20000);
    assert_true(order_is(order, "paid"));
    /* more than the payment, then a partial refund, replayed */
    json_decref(call_key(ADMIN, "POST", path, "{\"amount\":\"50.01\"}", "r-1", 400, NULL));
    bool replayed = true;
    json_t *r1 = call_key(ADMIN, "POST", path, "{\"amount\":\"12.00\"}", "r-2", 201, &replayed);
    assert_false(replayed);
    assert_string_equal(str(r1, "amount"), "12.00");
    json_t *r1b = call_key(ADMIN, "POST", path, "{\"amount\":\"12.00\"}", "r-2", 201, &replayed);
    assert_true(replayed);
    assert_true(json_equal(r1, r1b));
    json_decref(r1);
    json_decref(r1b);
    json_decref(call_key(ADMIN, "POST", path, "{\"amount\":\"13.00\"}", "r-2", 409, NULL));
    assert_int_equal(fake_stripe_refunded(stripe, pi), 1200);
    assert_true(order_is(order, "partially_refunded"));
    assert_true(payment_is(payment, "partially_refunded"));
    /* more than what is left */
    json_decref(call_key(ADMIN, "POST", path, "{\"amount\":\"38.01\"}", "r-3", 400, NULL));
    /* the rest */
    json_t *r2 = call_key(ADMIN, "POST", path, "{}", "r-4", 201, NULL);
    assert_string_equal(str(r2, "amount"), "38.00");
    json_decref(r2);
    assert_int_equal(fake_stripe_refunded(stripe, pi), 5000);
    assert_true(order_is(order, "refunded"));
    assert_true(payment_is(payment, "refunded"));
    json_decref(call_key(ADMIN, "POST", path, "{}", "r-5", 409, NULL));
    /* Stripe's own charge.refunded afterwards changes nothing */
    assert_int_equal(
        stripe_event("/api/webhooks/stripe", "evt_ref_2", "charge.refunded", pi, 5000, "try", 5000),
        200);
    WAIT_FOR(settled(), 20000);
    assert_true(order_is(order, "refunded"));
    char gp[200];
    snprintf(gp, sizeof(gp), "/api/payments/%s", payment);
    json_t *j = call("GET", gp, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "refunds")), 2);
    assert_string_equal(str(j, "refunded_amount"), "50.00");
    json_decref(j);
}

static void test_iyzico(void **state)
{
    (void)state;
    char order[64], payment[64], token[128], path[300];
    new_order("99.90", order, sizeof(order));
    char p[200];
    snprintf(p, sizeof(p), "/api/orders/%s/payments", order);
    json_t *j = call_key(ADMIN, "POST", p, "{\"provider\":\"iyzico\"}", "iyz-1", 201, NULL);
    snprintf(payment, sizeof(payment), "%s", str(j, "id"));
    snprintf(token, sizeof(token), "%s", str(j, "provider_ref"));
    assert_non_null(strstr(str(j, "page_url"), token));
    assert_string_equal(str(j, "amount"), "99.90");
    json_decref(j);
    assert_true(order_is(order, "pending"));
    /* the buyer's browser comes back with the token: a check asks iyzico */
    long long tenant = harness_db_i64(srv.db_url, "SELECT id FROM tenants WHERE name = 'default'");
    snprintf(path, sizeof(path), "/api/public/iyzico/callback/%lld/%s", tenant, payment);
    char form[200];
    snprintf(form, sizeof(form), "token=%s", token);
    struct resp r;
    /* a browser gets a page saying what happens next, nothing about the payment */
    static const char *const browser[] = {"Accept: text/html,application/xhtml+xml,*/*;q=0.8",
                                          NULL};
    assert_int_equal(http_req(&srv, "POST", path, NULL, "application/x-www-form-urlencoded", form,
                              strlen(form), browser, &r),
                     0);
    assert_int_equal(r.status, 200);
    char ctype[128];
    assert_true(resp_header(&r, "Content-Type", ctype, sizeof(ctype)));
    assert_non_null(strstr(ctype, "text/html"));
    assert_non_null(strstr(r.body, "data-status=\"checking\""));
    assert_null(strstr(r.body, token));
    resp_free(&r);
    /* a program asking for JSON: 202, checking */
    static const char *const program[] = {"Accept: application/json", NULL};
    assert_int_equal(http_req(&srv, "POST", path, NULL, "application/x-www-form-urlencoded", form,
                              strlen(form), program, &r),
                     0);
    assert_int_equal(r.status, 202);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "checking");
    resp_free(&r);
    /* another tenant's number in the URL finds nothing */
    snprintf(path, sizeof(path), "/api/public/iyzico/callback/%lld/%s", tenant + 1, payment);
    assert_int_equal(http_req(&srv, "POST", path, NULL, "application/x-www-form-urlencoded", form,
                              strlen(form), NULL, &r),
                     0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    WAIT_FOR(order_is(order, "paid") && settled(), 20000);
    assert_true(order_is(order, "paid"));
    assert_true(payment_is(payment, "succeeded"));
    /* iyzico's signed notification afterwards: a check that changes nothing */
    char body[600], msg[800], sig[SEC_HMAC_SHA256_HEX_SIZE], header[200];
    snprintf(body, sizeof(body),
             "{\"iyziEventType\":\"CHECKOUT_FORM_AUTH\",\"iyziPaymentId\":12345,\"token\":\"%s\","
             "\"paymentConversationId\":\"%s\",\"status\":\"SUCCESS\"}",
             token, payment);
    snprintf(msg, sizeof(msg), "%sCHECKOUT_FORM_AUTH12345%s%sSUCCESS", IYZ_SEC, token, payment);
    sec_hmac_sha256_hex(sig, IYZ_SEC, strlen(IYZ_SEC), msg, strlen(msg));
    snprintf(header, sizeof(header), "X-IYZ-SIGNATURE-V3: %s", sig);
    const char *const headers[] = {header, NULL};
    assert_int_equal(http_req(&srv, "POST", "/webhooks/iyzico", NULL, "application/json", body,
                              strlen(body), headers, &r),
                     0);
    if (r.status != 200)
        fail_msg("iyzico webhook -> %ld %s", r.status, r.body);
    resp_free(&r);
    WAIT_FOR(settled(), 20000);
    assert_true(order_is(order, "paid"));
    assert_int_equal(count("SELECT count(*) FROM order_status_history h JOIN orders o ON "
                           "o.order_id = h.order_id WHERE o.public_id = '%s'",
                           order),
                     1);

    /* refunds through iyzico's refund API, by the basket item's transaction */
    snprintf(path, sizeof(path), "/api/payments/%s/refunds", payment);
    json_decref(call_key(ADMIN, "POST", path, "{\"amount\":\"99.91\"}", "iyz-r0", 400, NULL));
    json_t *r1 = call_key(ADMIN, "POST", path, "{\"amount\":\"30.00\"}", "iyz-r1", 201, NULL);
    assert_string_equal(str(r1, "amount"), "30.00");
    json_decref(r1);
    assert_true(fake_iyzico_refunded(iyzico, token) > 29.99 &&
                fake_iyzico_refunded(iyzico, token) < 30.01);
    assert_true(order_is(order, "partially_refunded"));
    bool replayed = false;
    r1 = call_key(ADMIN, "POST", path, "{\"amount\":\"30.00\"}", "iyz-r1", 201, &replayed);
    assert_true(replayed);
    json_decref(r1);
    json_t *r2 = call_key(ADMIN, "POST", path, "{}", "iyz-r2", 201, NULL);
    assert_string_equal(str(r2, "amount"), "69.90");
    json_decref(r2);
    assert_true(fake_iyzico_refunded(iyzico, token) > 99.89);
    assert_true(order_is(order, "refunded"));
    assert_true(payment_is(payment, "refunded"));
}

static void test_tenant_isolation(void **state)
{
    (void)state;
    char order[64], payment[64], path[200];
    new_order("5.00", order, sizeof(order));
    pay(order, "stripe", "k-iso", payment, sizeof(payment), NULL, 0);
    snprintf(path, sizeof(path), "/api/orders/%s/payments", order);
    json_decref(call_key(other_key, "POST", path, "{\"provider\":\"stripe\"}", "k-iso", 404, NULL));
    json_decref(call_key(other_key, "GET", path, NULL, NULL, 404, NULL));
    snprintf(path, sizeof(path), "/api/payments/%s", payment);
    json_decref(call_key(other_key, "GET", path, NULL, NULL, 404, NULL));
    snprintf(path, sizeof(path), "/api/payments/%s/refunds", payment);
    json_decref(call_key(other_key, "POST", path, "{}", "k-iso-r", 404, NULL));
    /* the other tenant's same key is its own: it did not see ours */
    assert_true(payment_is(payment, "pending"));
}

static void test_fulfil_cancel_dispute(void **state)
{
    (void)state;
    char order[64], payment[64], pi[64], path[200];
    /* only a paid order is fulfilled, only a pending one cancelled */
    new_order("7.00", order, sizeof(order));
    snprintf(path, sizeof(path), "/api/orders/%s/fulfil", order);
    json_decref(call("POST", path, NULL, 409));
    pay(order, "stripe", "k-ful", payment, sizeof(payment), pi, sizeof(pi));
    assert_int_equal(stripe_event("/api/webhooks/stripe", "evt_ful_1", "payment_intent.succeeded",
                                  pi, 700, "try", 0),
                     200);
    WAIT_FOR(order_is(order, "paid") && settled(), 20000);
    json_t *j = call("POST", path, NULL, 200);
    assert_string_equal(str(j, "status"), "fulfilled");
    json_decref(j);
    snprintf(path, sizeof(path), "/api/orders/%s/cancel", order);
    json_decref(call("POST", path, NULL, 409));
    json_decref(call_key(other_key, "POST", path, NULL, NULL, 404, NULL));
    /* a dispute marks the payment and raises an alert, the order stays as it is */
    assert_int_equal(stripe_event("/api/webhooks/stripe", "evt_ful_2", "charge.dispute.created", pi,
                                  700, "try", 0),
                     200);
    WAIT_FOR(settled(), 20000);
    snprintf(path, sizeof(path), "/api/payments/%s", payment);
    j = call("GET", path, NULL, 200);
    assert_true(json_is_true(json_object_get(j, "disputed")));
    json_decref(j);
    assert_true(order_is(order, "fulfilled"));
    json_t *alerts = call("GET", "/api/alerts", NULL, 200);
    char *text = json_dumps(alerts, JSON_COMPACT);
    assert_non_null(strstr(text, "payments.dispute"));
    free(text);
    json_decref(alerts);

    /* cancelled, then the buyer pays all the same: paid, with an alert; this buyer has a phone,
     * so the notice goes by WhatsApp */
    char saved[64];
    snprintf(saved, sizeof(saved), "%s", customer);
    j = call("POST", "/api/customers", "{\"phone\":\"+905551112233\"}", 201);
    snprintf(customer, sizeof(customer), "%s", str(j, "id"));
    json_decref(j);
    new_order("8.00", order, sizeof(order));
    snprintf(customer, sizeof(customer), "%s", saved);
    pay(order, "stripe", "k-can", payment, sizeof(payment), pi, sizeof(pi));
    snprintf(path, sizeof(path), "/api/orders/%s/cancel", order);
    j = call("POST", path, NULL, 200);
    assert_string_equal(str(j, "status"), "cancelled");
    json_decref(j);
    assert_int_equal(stripe_event("/api/webhooks/stripe", "evt_can_1", "payment_intent.succeeded",
                                  pi, 800, "try", 0),
                     200);
    WAIT_FOR(order_is(order, "paid") && settled(), 20000);
    assert_true(order_is(order, "paid"));
    alerts = call("GET", "/api/alerts", NULL, 200);
    text = json_dumps(alerts, JSON_COMPACT);
    assert_non_null(strstr(text, "payments.paid_after_cancel"));
    free(text);
    json_decref(alerts);
    WAIT_FOR(count("SELECT count(*) FROM messages WHERE kind = 'payment.received' AND channel = "
                   "'%s'",
                   "whatsapp") == 1,
             20000);
    assert_int_equal(count("SELECT count(*) FROM messages WHERE kind = 'payment.received' AND "
                           "channel = '%s'",
                           "whatsapp"),
                     1);
}

static void test_metrics(void **state)
{
    (void)state;
    struct resp r;
    assert_int_equal(http_get(&srv, "/metrics", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_null(
        strstr(r.body, "iceshop_payments_total{provider=\"stripe\",status=\"succeeded\"} 0"));
    assert_non_null(
        strstr(r.body, "iceshop_payments_total{provider=\"stripe\",status=\"succeeded\"}"));
    assert_non_null(
        strstr(r.body, "iceshop_payments_total{provider=\"iyzico\",status=\"succeeded\"} 1"));
    assert_non_null(
        strstr(r.body,
               "iceshop_payments_webhook_latency_seconds_bucket{provider=\"stripe\",le=\"+Inf\"}"));
    assert_null(
        strstr(r.body, "iceshop_payments_webhook_latency_seconds_count{provider=\"stripe\"} 0"));
    char path[256];
    const char *dir = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
    snprintf(path, sizeof(path), "%s/metrics-pay-%d.txt", dir, (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite(r.body, 1, r.len, f);
    fclose(f);
    resp_free(&r);
    char cmd[400], out[4096];
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
    int st = harness_sh(cmd, out, sizeof(out));
    if (st != 0)
        fprintf(stderr, "promtool: %s\n", out);
    assert_int_equal(st, 0);
    unlink(path);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setup_catalogue),
        cmocka_unit_test(test_stripe_pay_and_idempotency),
        cmocka_unit_test(test_killed_between_provider_and_commit),
        cmocka_unit_test(test_reverse_order),
        cmocka_unit_test(test_amount_mismatch),
        cmocka_unit_test(test_reconciliation),
        cmocka_unit_test(test_refunds),
        cmocka_unit_test(test_iyzico),
        cmocka_unit_test(test_tenant_isolation),
        cmocka_unit_test(test_fulfil_cancel_dispute),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests_name("0023-payments", tests, setup, teardown);
}
