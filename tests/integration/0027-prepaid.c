/* SPDX-License-Identifier: MIT */
/*
 * Prepaid flash windows over real HTTP against the local Stripe fake: joining a prepaid window
 * places an order for the discounted price; the buyer is committed only once Stripe's signed
 * webhook says it is paid; the seller cancelling the window (and a window cancelled under its
 * minimum) refunds every paid order at Stripe and tells each buyer (prepay_refunded). A window
 * that does not require prepayment is joined as before; the tenant default (prepay_default) and
 * bad input (prepay not a boolean) are checked, and another tenant gets 404. Runs on the backend
 * TEST_BACKEND selects.
 */
#include "support/fake_iyzico.h"
#include "support/fake_stripe.h"
#include "support/harness.h"

#include "core/crypto.h"

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

#define ADMIN      HARNESS_ADMIN_KEY
#define SK         "sk_test_prepaid"
#define WHSEC      "whsec_prepaid_test"
#define IYZ_KEY    "sandbox-prepaid-api-key"
#define IYZ_SEC    "sandbox-prepaid-secret-key"
#define APP_SECRET "meta-app-secret-prepaid"

static struct server srv;
static struct fake_stripe *stripe;
static struct fake_iyzico *iyzico;
static char other_key[200];
static char env[4][300];
static int seq;

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
    snprintf(env[3], sizeof(env[3]), "ICESHOP_WHATSAPP_APP_SECRET=%s", APP_SECRET);
    const char *const extra[] = {env[0], env[1], env[2], env[3], NULL};
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
    return harness_manual_scans(&srv);
}

static int teardown(void **state)
{
    (void)state;
    int rc = server_stop(&srv) == 0 ? 0 : -1;
    fake_stripe_stop(stripe);
    fake_iyzico_stop(iyzico);
    return rc;
}

static json_t *call_as(const char *auth, const char *method, const char *path, const char *body,
                       const char *idem, long want)
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
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static json_t *call(const char *method, const char *path, const char *body, long want)
{
    return call_as(ADMIN, method, path, body, NULL, want);
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        fail_msg("no string %s in %s", key, json_dumps(o, JSON_COMPACT));
    return s;
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

static char *iso_in(int seconds)
{
    static char buf[40];
    time_t t = time(NULL) + seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static void seller(const char *id, const char *phone)
{
    char body[600];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"phone_number\":\"%s\",\"name\":\"%s Kahve\",\"category\":"
             "\"coffee\",\"location\":{\"lat\":40.987,\"lng\":29.026},\"max_discount\":30,"
             "\"capacity\":5,\"auto_approve\":true,\"price_range\":{\"min\":3000,\"max\":6000,"
             "\"currency\":\"TRY\"}}",
             id, phone, id);
    json_decref(call("POST", "/api/sellers/register", body, 201));
}

static void buyer(const char *id, const char *phone)
{
    char body[600];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"phone_number\":\"%s\",\"name\":\"%s\",\"location\":{\"lat\":"
             "40.988,\"lng\":29.026},\"categories\":[\"coffee\"]}",
             id, phone, id);
    json_decref(call("POST", "/api/buyers/register", body, 201));
}

/* A window starting in ten minutes for B1 and B2; `extra` is more JSON members (or ""). */
static long long window(const char *seller_id, int min_participants, const char *extra)
{
    char body[600];
    snprintf(body, sizeof(body),
             "{\"seller_id\":\"%s\",\"discount_percent\":25,\"start_time\":\"%s\","
             "\"duration_minutes\":10,\"min_participants\":%d,\"buyer_ids\":[\"B1\",\"B2\"]%s}",
             seller_id, iso_in(600), min_participants, extra);
    json_t *w = call("POST", "/api/flash-windows/create", body, 201);
    assert_string_equal(str(w, "status"), "SCHEDULED");
    long long pk = (long long)json_integer_value(json_object_get(w, "id"));
    json_decref(w);
    return pk;
}

static json_t *window_get(long long pk)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld", pk);
    return call("GET", path, NULL, 200);
}

static long long committed(long long pk)
{
    json_t *w = window_get(pk);
    long long n =
        (long long)json_integer_value(json_object_get(json_object_get(w, "counts"), "committed"));
    json_decref(w);
    return n;
}

static const char *status_of(long long pk)
{
    static char s[32];
    json_t *w = window_get(pk);
    snprintf(s, sizeof(s), "%s", str(w, "status"));
    json_decref(w);
    return s;
}

static int messages(long long pk, const char *kind)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/messages?window_id=%lld&kind=%s&limit=500", pk, kind);
    json_t *m = call("GET", path, NULL, 200);
    int n = (int)json_array_size(json_object_get(m, "messages"));
    json_decref(m);
    return n;
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

/* A signed payment_intent.succeeded for `pi`; returns the HTTP status. */
static long paid_event(const char *evt, const char *pi, long long amount)
{
    char body[800];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\","
             "\"data\":{\"object\":{\"id\":\"%s\",\"object\":\"payment_intent\",\"amount\":%lld,"
             "\"currency\":\"try\"}}}",
             evt, pi, amount);
    struct resp r;
    assert_int_equal(harness_stripe_post(&srv, "/api/webhooks/stripe", WHSEC, 0, body, &r), 0);
    long status = r.status;
    resp_free(&r);
    return status;
}

/* B joins prepaid window pk: an order of `amount` ("33.75"); it is paid through Stripe. */
static void join_and_pay(long long pk, const char *b, const char *amount, char *order, size_t n,
                         char *pi, size_t pi_n)
{
    char path[96], body[64];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/join", pk);
    snprintf(body, sizeof(body), "{\"buyer_id\":\"%s\"}", b);
    json_t *j = call("POST", path, body, 201);
    assert_true(json_is_null(json_object_get(j, "code")));
    json_t *o = json_object_get(j, "order");
    snprintf(order, n, "%s", str(o, "id"));
    assert_string_equal(str(o, "amount"), amount);
    assert_string_equal(str(o, "currency"), "TRY");
    assert_string_equal(str(o, "status"), "pending");
    json_decref(j);
    /* joining again gives the same order, nothing new */
    j = call("POST", path, body, 200);
    assert_string_equal(str(json_object_get(j, "order"), "id"), order);
    json_decref(j);
    assert_true(order_is(order, "pending"));
    long long before = committed(pk);

    snprintf(path, sizeof(path), "/api/orders/%s/payments", order);
    char key[96];
    snprintf(key, sizeof(key), "pay-%s", order);
    j = call_as(ADMIN, "POST", path, "{\"provider\":\"stripe\"}", key, 201);
    assert_string_equal(str(j, "amount"), amount);
    snprintf(pi, pi_n, "%s", str(j, "provider_ref"));
    json_decref(j);
    /* not paid yet: not a participant */
    assert_int_equal(committed(pk), before);

    char evt[96];
    snprintf(evt, sizeof(evt), "evt_%s", order);
    char *dot = NULL;
    long long minor = strtoll(amount, &dot, 10) * 100 + (dot && *dot == '.' ? atoi(dot + 1) : 0);
    assert_int_equal(paid_event(evt, pi, minor), 200);
    WAIT_FOR(order_is(order, "paid") && committed(pk) == before + 1, 20000);
    assert_true(order_is(order, "paid"));
    assert_int_equal(committed(pk), before + 1);
}

static void test_config_default_and_bad_input(void **state)
{
    (void)state;
    seller("S1", "+905320000101");
    seller("S2", "+905320000102");
    seller("S3", "+905320000103");
    seller("S4", "+905320000104");
    buyer("B1", "+905330000101");
    buyer("B2", "+905330000102");
    json_t *c = call("GET", "/api/campaigns/config", NULL, 200);
    assert_true(json_is_false(json_object_get(c, "prepay_default")));
    json_decref(c);
    json_t *bad = call("PUT", "/api/campaigns/config", "{\"prepay_default\":1}", 400);
    assert_string_equal(str(json_object_get(bad, "error"), "field"), "prepay_default");
    json_decref(bad);
    json_decref(call("PUT", "/api/campaigns/config", "{\"prepay_default\":true}", 200));
    c = call("GET", "/api/campaigns/config", NULL, 200);
    assert_true(json_is_true(json_object_get(c, "prepay_default")));
    json_decref(c);

    char body[400];
    snprintf(body, sizeof(body),
             "{\"seller_id\":\"S1\",\"discount_percent\":25,\"start_time\":\"%s\","
             "\"buyer_ids\":[\"B1\"],\"prepay\":\"yes\"}",
             iso_in(600));
    bad = call("POST", "/api/flash-windows/create", body, 400);
    assert_string_equal(str(json_object_get(bad, "error"), "field"), "prepay");
    json_decref(bad);
    /* a prepaid window needs a price: none without a static price from a seller without prices */
    json_decref(call("POST", "/api/sellers/register",
                     "{\"id\":\"S0\",\"phone_number\":\"+905320000100\",\"name\":\"S0 Fırın\","
                     "\"category\":\"bakery\",\"location\":{\"lat\":40.987,\"lng\":29.026},"
                     "\"max_discount\":30}",
                     201));
    snprintf(body, sizeof(body),
             "{\"seller_id\":\"S0\",\"discount_percent\":20,\"start_time\":\"%s\","
             "\"buyer_ids\":[\"B1\"],\"prepay\":true}",
             iso_in(600));
    bad = call("POST", "/api/flash-windows/create", body, 400);
    assert_string_equal(str(json_object_get(bad, "error"), "field"), "prepay");
    json_decref(bad);
    assert_int_equal(count("SELECT count(*) FROM flash_windows"), 0);
}

static void test_join_pay_cancel_refund(void **state)
{
    (void)state;
    /* no prepay given: the tenant's default (true) applies */
    long long pk = window("S1", 1, "");
    json_t *w = window_get(pk);
    assert_true(json_is_true(json_object_get(w, "prepay")));
    json_decref(w);
    char path[96];
    /* buyers of a prepaid window commit by paying, not by pre-committing */
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/precommit", pk);
    json_t *bad = call("POST", path, "{\"buyer_id\":\"B1\"}", 409);
    json_decref(bad);

    /* another tenant sees neither the window nor the join */
    snprintf(path, sizeof(path), "/api/flash-windows/%lld", pk);
    json_decref(call_as(other_key, "GET", path, NULL, NULL, 404));
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/join", pk);
    json_decref(call_as(other_key, "POST", path, "{\"buyer_id\":\"B1\"}", NULL, 404));

    char order[64], pi[64];
    /* the middle of the seller's 30-60 TRY less 25 % */
    join_and_pay(pk, "B1", "33.75", order, sizeof(order), pi, sizeof(pi));
    assert_int_equal(messages(pk, "confirmation"), 1);
    assert_int_equal(count("SELECT count(*) FROM flash_prepay WHERE status = 'paid'"), 1);
    /* B2 ordered but never paid: not counted, nothing to refund */
    json_t *j = call("POST", path, "{\"buyer_id\":\"B2\"}", 201);
    char unpaid[64];
    snprintf(unpaid, sizeof(unpaid), "%s", str(json_object_get(j, "order"), "id"));
    json_decref(j);
    assert_int_equal(committed(pk), 1);

    /* the seller cancels: the paid order goes back through Stripe, the buyer is told */
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/seller-cancel", pk);
    json_decref(call("POST", path, "{\"reason\":\"makine bozuldu\"}", 200));
    WAIT_FOR(fake_stripe_refunded(stripe, pi) == 3375 && order_is(order, "refunded") &&
                 messages(pk, "prepay_refunded") == 1,
             30000);
    assert_int_equal(fake_stripe_refunded(stripe, pi), 3375);
    assert_true(order_is(order, "refunded"));
    assert_int_equal(messages(pk, "prepay_refunded"), 1);
    snprintf(path, sizeof(path), "/api/messages?window_id=%lld&kind=prepay_refunded", pk);
    j = call("GET", path, NULL, 200);
    json_t *msg = json_array_get(json_object_get(j, "messages"), 0);
    assert_string_equal(str(msg, "recipient_id"), "B1");
    assert_non_null(strstr(str(msg, "body"), "33.75 TRY iade edildi"));
    json_decref(j);
    assert_true(order_is(unpaid, "pending"));
    assert_int_equal(count("SELECT count(*) FROM flash_prepay WHERE status = 'refunded'"), 1);
    assert_int_equal(count("SELECT count(*) FROM flash_prepay WHERE status = 'dropped'"), 1);
    /* the refund job ran once and is done: nothing refunded twice */
    WAIT_FOR(count("SELECT count(*) FROM jobs WHERE name = 'flash.refund' AND state = 'done'") == 1,
             20000);
    assert_int_equal(count("SELECT count(*) FROM jobs WHERE name = 'flash.refund'"), 1);
    assert_int_equal(fake_stripe_refunded(stripe, pi), 3375);
}

static void test_cancel_under_minimum_refunds(void **state)
{
    (void)state;
    long long pk = window("S2", 2, ",\"static_price\":3000,\"prepay\":true");
    char order[64], pi[64];
    join_and_pay(pk, "B1", "30.00", order, sizeof(order), pi, sizeof(pi));
    harness_window_start_now(srv.db_url, pk);
    WAIT_FOR(strcmp(status_of(pk), "CANCELLED") == 0, 15000);
    assert_string_equal(status_of(pk), "CANCELLED");
    WAIT_FOR(fake_stripe_refunded(stripe, pi) == 3000 && order_is(order, "refunded") &&
                 messages(pk, "prepay_refunded") == 1,
             30000);
    assert_int_equal(fake_stripe_refunded(stripe, pi), 3000);
    assert_true(order_is(order, "refunded"));
    assert_int_equal(messages(pk, "prepay_refunded"), 1);
    assert_int_equal(messages(pk, "seller_summary"), 0);
}

static void test_paid_buyer_gets_code_when_active(void **state)
{
    (void)state;
    long long pk = window("S3", 1, ",\"prepay\":true");
    char order[64], pi[64];
    join_and_pay(pk, "B2", "33.75", order, sizeof(order), pi, sizeof(pi));
    harness_window_start_now(srv.db_url, pk);
    WAIT_FOR(strcmp(status_of(pk), "ACTIVE") == 0, 15000);
    assert_string_equal(status_of(pk), "ACTIVE");
    /* the seller's "N kişi geliyor" counts the paid buyer */
    char path[128];
    snprintf(path, sizeof(path), "/api/messages?window_id=%lld&kind=seller_summary", pk);
    json_t *m = call("GET", path, NULL, 200);
    json_t *msg = json_array_get(json_object_get(m, "messages"), 0);
    assert_non_null(msg);
    assert_non_null(strstr(str(msg, "body"), "1 kişi geliyor"));
    json_decref(m);
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/join", pk);
    json_t *j = call("POST", path, "{\"buyer_id\":\"B2\"}", 200);
    assert_true(json_is_string(json_object_get(j, "code")));
    assert_string_equal(str(json_object_get(j, "order"), "status"), "paid");
    char body[64];
    snprintf(body, sizeof(body), "{\"code\":\"%s\"}", str(j, "code"));
    json_decref(j);
    /* the visit is the paid order, fulfilled at what was paid, not a second order */
    long long orders = count("SELECT count(*) FROM orders");
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/redeem", pk);
    j = call("POST", path, body, 200);
    assert_string_equal(str(j, "order_id"), order);
    json_decref(j);
    assert_true(order_is(order, "fulfilled"));
    assert_int_equal(count("SELECT count(*) FROM orders"), orders);
    assert_int_equal(count("SELECT total_amount FROM orders WHERE public_id = '%s'", order), 3375);
}

static void test_window_without_prepay_unchanged(void **state)
{
    (void)state;
    long long orders = count("SELECT count(*) FROM orders");
    long long pk = window("S4", 1, ",\"prepay\":false");
    json_t *w = window_get(pk);
    assert_true(json_is_false(json_object_get(w, "prepay")));
    json_decref(w);
    char path[96];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/precommit", pk);
    json_decref(call("POST", path, "{\"buyer_id\":\"B1\"}", 201));
    harness_window_start_now(srv.db_url, pk);
    WAIT_FOR(strcmp(status_of(pk), "ACTIVE") == 0, 15000);
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/join", pk);
    json_t *j = call("POST", path, "{\"buyer_id\":\"B1\"}", 201);
    assert_true(json_is_string(json_object_get(j, "code")));
    assert_null(json_object_get(j, "order"));
    json_decref(j);
    assert_int_equal(count("SELECT count(*) FROM orders"), orders);
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/seller-cancel", pk);
    json_decref(call("POST", path, NULL, 200));
    assert_int_equal(messages(pk, "prepay_refunded"), 0);
}


/* ---- paying from WhatsApp and from the buyer's page ---- */

/* The buyer (phone digits `from`) taps "Katıl" under window pk's offer. */
static void katil_button(const char *from, long long pk)
{
    char id[64], body[2048], sig[128], hex[SEC_HMAC_SHA256_HEX_SIZE];
    snprintf(id, sizeof(id), "wamid.prepaid.%d.%d", (int)getpid(), ++seq);
    snprintf(
        body, sizeof(body),
        "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1029384756\","
        "\"changes\":[{\"field\":\"messages\",\"value\":{\"messaging_product\":"
        "\"whatsapp\",\"metadata\":{\"display_phone_number\":\"908501234567\","
        "\"phone_number_id\":\"1122334455\"},\"contacts\":[{\"profile\":{\"name\":"
        "\"Alp\"},\"wa_id\":\"%s\"}],\"messages\":[{\"from\":\"%s\",\"id\":\"%s\","
        "\"timestamp\":\"%lld\",\"type\":\"interactive\",\"interactive\":{\"type\":"
        "\"button_reply\",\"button_reply\":{\"id\":\"join:%lld\",\"title\":\"Katıl\"}}}]}}]}]}",
        from, from, id, (long long)time(NULL), pk);
    sec_hmac_sha256_hex(hex, APP_SECRET, strlen(APP_SECRET), body, strlen(body));
    snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s", hex);
    const char *const headers[] = {sig, NULL};
    struct resp r;
    assert_int_equal(http_req(&srv, "POST", "/api/whatsapp/webhook", NULL, "application/json", body,
                              strlen(body), headers, &r),
                     0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

/* The buyer writes "katıl" (their latest offer). */
static void katil_text(const char *from)
{
    char id[64];
    snprintf(id, sizeof(id), "wamid.prepaid.%d.%d", (int)getpid(), ++seq);
    assert_int_equal(harness_meta_text(&srv, APP_SECRET, from, id, "katıl"), 200);
}

/* How many payment links window pk's buyer got; the newest link's address into url. */
static int pay_links(long long pk, const char *buyer, char *url, size_t n)
{
    char path[200];
    snprintf(path, sizeof(path),
             "/api/messages?window_id=%lld&kind=prepay_pay&recipient_id=%s&limit=100", pk, buyer);
    json_t *m = call("GET", path, NULL, 200);
    json_t *arr = json_object_get(m, "messages");
    int count = (int)json_array_size(arr);
    if (url && n)
        url[0] = '\0';
    const char *body =
        count ? json_string_value(json_object_get(json_array_get(arr, 0), "body")) : NULL;
    const char *at = body ? strstr(body, "http") : NULL;
    if (at && url)
        snprintf(url, n, "%.*s", (int)strcspn(at, " \n"), at);
    json_decref(m);
    return count;
}

/* The buyer's prepaid order of window pk (the API's join gives it back, placing nothing). */
static void order_of(long long pk, const char *buyer, char *order, size_t n)
{
    char path[96], body[64];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/join", pk);
    snprintf(body, sizeof(body), "{\"buyer_id\":\"%s\"}", buyer);
    json_t *j = call("POST", path, body, 200);
    snprintf(order, n, "%s", str(json_object_get(j, "order"), "id"));
    json_decref(j);
}

/* The order's only payment: its id, provider and page into the buffers. */
static void payment_of(const char *order, char *id, char *provider, char *page, size_t n)
{
    char path[160];
    snprintf(path, sizeof(path), "/api/orders/%s/payments", order);
    json_t *j = call("GET", path, NULL, 200);
    json_t *arr = json_object_get(j, "data");
    assert_int_equal(json_array_size(arr), 1);
    json_t *p = json_array_get(arr, 0);
    snprintf(id, n, "%s", str(p, "id"));
    snprintf(provider, n, "%s", str(p, "provider"));
    snprintf(page, n, "%s", str(p, "page_url"));
    json_decref(j);
}

/* The buyer's page link of window pk, from the payment link's message (the /w/ token). */
static void page_token(long long pk, const char *buyer, char *out, size_t n)
{
    char path[200];
    snprintf(path, sizeof(path), "/api/messages?window_id=%lld&kind=prepay_pay&recipient_id=%s", pk,
             buyer);
    for (long long end = harness_deadline(20000); harness_before(end); harness_sleep_ms(100)) {
        json_t *m = call("GET", path, NULL, 200);
        json_t *msg = json_array_get(json_object_get(m, "messages"), 0);
        const char *body = msg ? json_string_value(json_object_get(msg, "body")) : NULL;
        const char *at = body ? strstr(body, "/w/") : NULL;
        if (at) {
            at += 3;
            snprintf(out, n, "%.*s", (int)strcspn(at, " \n"), at);
            json_decref(m);
            return;
        }
        json_decref(m);
    }
    fail_msg("no page link in the payment message of window %lld to %s", pk, buyer);
}

static long long tenant_id(void)
{
    return count("SELECT id FROM tenants WHERE name = 'default'");
}

/* Without a provider for hosted payments, "katıl" on a prepaid window places nothing. */
static void test_whatsapp_without_hosted_provider(void **state)
{
    (void)state;
    seller("S5", "+905320000105");
    long long pk = window("S5", 1, ",\"prepay\":true");
    long long orders = count("SELECT count(*) FROM orders");
    katil_button("905330000101", pk);
    char path[200];
    snprintf(path, sizeof(path), "/api/messages?recipient_id=B1&kind=reply&limit=100");
    WAIT_FOR(count("SELECT count(*) FROM messages WHERE recipient_id = 'B1' AND kind = 'reply' "
                   "AND body LIKE '%%ön ödemeli%%'") >= 1,
             20000);
    json_t *m = call("GET", path, NULL, 200);
    const char *body = str(json_array_get(json_object_get(m, "messages"), 0), "body");
    assert_non_null(strstr(body, "ön ödemeli"));
    assert_non_null(strstr(body, "çevrimiçi ödeme almıyor"));
    json_decref(m);
    assert_int_equal(count("SELECT count(*) FROM orders"), orders);
    assert_int_equal(pay_links(pk, "B1", NULL, 0), 0);
    assert_int_equal(committed(pk), 0);
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/seller-cancel", pk);
    json_decref(call("POST", path, NULL, 200));
}

static void test_iyzico_whatsapp_and_page(void **state)
{
    (void)state;
    char body[600];
    snprintf(body, sizeof(body),
             "{\"merchant_id\":\"m-prepaid\",\"api_key\":\"%s\",\"secret_key\":\"%s\","
             "\"api_url\":\"%s\"}",
             IYZ_KEY, IYZ_SEC, fake_iyzico_url(iyzico));
    json_decref(call("PUT", "/api/integrations/iyzico", body, 200));
    seller("S6", "+905320000106");
    long long pk = window("S6", 1, ",\"prepay\":true");

    /* B1 taps Katıl: an order, then a message with iyzico's page */
    katil_button("905330000101", pk);
    char url[400], again[400];
    WAIT_FOR(pay_links(pk, "B1", url, sizeof(url)) == 1, 20000);
    assert_int_equal(pay_links(pk, "B1", url, sizeof(url)), 1);
    assert_non_null(strstr(url, fake_iyzico_url(iyzico)));
    assert_non_null(strstr(url, "token="));
    char order[64], payment[64], provider[64], page[400];
    order_of(pk, "B1", order, sizeof(order));
    assert_true(order_is(order, "pending"));
    payment_of(order, payment, provider, page, sizeof(page));
    assert_string_equal(provider, "iyzico");
    assert_string_equal(page, url);
    assert_int_equal(committed(pk), 0);

    /* a second "katıl": the same link again, no second order or payment, iyzico not asked */
    size_t asked = fake_iyzico_requests(iyzico);
    long long orders = count("SELECT count(*) FROM orders");
    katil_text("905330000101");
    WAIT_FOR(pay_links(pk, "B1", again, sizeof(again)) == 2, 20000);
    assert_int_equal(pay_links(pk, "B1", again, sizeof(again)), 2);
    assert_string_equal(again, url);
    assert_int_equal(count("SELECT count(*) FROM orders"), orders);
    payment_of(order, payment, provider, page, sizeof(page));
    assert_int_equal(fake_iyzico_requests(iyzico), asked);

    /* B1 pays on iyzico's page, which sends the browser back to the callback */
    char path[600], form[300];
    snprintf(path, sizeof(path), "/api/public/iyzico/callback/%lld/%s", tenant_id(), payment);
    snprintf(form, sizeof(form), "token=%s", strstr(url, "token=") + 6);
    struct resp r;
    assert_int_equal(http_req(&srv, "POST", path, NULL, "application/x-www-form-urlencoded", form,
                              strlen(form), NULL, &r),
                     0);
    assert_true(r.status == 200 || r.status == 202);
    resp_free(&r);
    WAIT_FOR(order_is(order, "paid") && committed(pk) == 1, 20000);
    assert_true(order_is(order, "paid"));
    assert_int_equal(committed(pk), 1);

    /* B2 taps Katıl, then opens the window's page (linked in that message) and joins there: the
     * answer carries the same page to pay at, not a code */
    katil_button("905330000102", pk);
    char b2_page[400], b2_order[64], token[400];
    WAIT_FOR(pay_links(pk, "B2", b2_page, sizeof(b2_page)) == 1, 20000);
    assert_int_equal(pay_links(pk, "B2", b2_page, sizeof(b2_page)), 1);
    page_token(pk, "B2", token, sizeof(token));
    snprintf(path, sizeof(path), "/api/public/w/%s", token);
    assert_int_equal(http_get(&srv, path, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(json_object_get(r.json, "order"), "pay_url"), b2_page);
    resp_free(&r);
    snprintf(path, sizeof(path), "/api/public/w/%s/join", token);
    assert_int_equal(http_post_json(&srv, path, NULL, NULL, &r), 0);
    if (r.status != 200)
        fail_msg("page join -> %ld: %s", r.status, r.body);
    assert_true(json_is_true(json_object_get(r.json, "prepay")));
    json_t *o = json_object_get(r.json, "order");
    assert_string_equal(str(o, "status"), "pending");
    assert_string_equal(str(o, "currency"), "TRY");
    assert_string_equal(str(o, "amount"), "33.75");
    assert_string_equal(str(o, "pay_url"), b2_page);
    snprintf(b2_order, sizeof(b2_order), "%s", str(o, "id"));
    assert_true(json_is_null(json_object_get(r.json, "code")));
    resp_free(&r);
    /* B1's page, paid: no page to pay at */
    page_token(pk, "B1", token, sizeof(token));
    snprintf(path, sizeof(path), "/api/public/w/%s", token);
    assert_int_equal(http_get(&srv, path, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(json_object_get(r.json, "order"), "status"), "paid");
    assert_true(json_is_null(json_object_get(json_object_get(r.json, "order"), "pay_url")));
    resp_free(&r);
    payment_of(b2_order, payment, provider, page, sizeof(page));
    /* B2 never pays: not counted */
    assert_int_equal(committed(pk), 1);

    /* another tenant sees neither the orders nor the payments */
    snprintf(path, sizeof(path), "/api/orders/%s", order);
    json_decref(call_as(other_key, "GET", path, NULL, NULL, 404));
    snprintf(path, sizeof(path), "/api/orders/%s/payments", b2_order);
    json_decref(call_as(other_key, "GET", path, NULL, NULL, 404));

    /* the window starts: "1 kişi geliyor" counts B1, who paid, and not B2 */
    harness_window_start_now(srv.db_url, pk);
    WAIT_FOR(strcmp(status_of(pk), "ACTIVE") == 0 && messages(pk, "seller_summary") == 1, 15000);
    assert_string_equal(status_of(pk), "ACTIVE");
    snprintf(path, sizeof(path), "/api/messages?window_id=%lld&kind=seller_summary", pk);
    json_t *m = call("GET", path, NULL, 200);
    assert_non_null(
        strstr(str(json_array_get(json_object_get(m, "messages"), 0), "body"), "1 kişi geliyor"));
    json_decref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_default_and_bad_input),
        cmocka_unit_test(test_join_pay_cancel_refund),
        cmocka_unit_test(test_cancel_under_minimum_refunds),
        cmocka_unit_test(test_paid_buyer_gets_code_when_active),
        cmocka_unit_test(test_window_without_prepay_unchanged),
        cmocka_unit_test(test_whatsapp_without_hosted_provider),
        cmocka_unit_test(test_iyzico_whatsapp_and_page),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
