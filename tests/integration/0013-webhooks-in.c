/* SPDX-License-Identifier: MIT */
/*
 * Provider webhooks over real HTTP (POST /api/webhooks/{provider}[/{tenant}]): signatures made
 * here the way Stripe, Shopify and Standard Webhooks senders make them, verified with each
 * tenant's own secret; a delivery naming a tenant's Stripe account lands in that tenant; a
 * delivery signed with another tenant's secret is refused; a redelivery is acknowledged and
 * recorded once; refusals store nothing. Runs on the backend TEST_BACKEND selects.
 */
#include "support/harness.h"
#include "core/crypto.h"
#include "core/webhook_sig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

static struct server srv;
static char izmir_key[200];
#define ADMIN HARNESS_ADMIN_KEY

#define STRIPE_DEFAULT "whsec_default_0123456789abcdef"
#define STRIPE_IZMIR   "whsec_izmir_fedcba9876543210"
#define SHOPIFY_IZMIR  "shpss_izmir_secret"
#define STD_IZMIR      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static int put(const char *key, const char *provider, const char *body)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/integrations/%s", provider);
    struct resp r;
    int rc = http_req(&srv, "PUT", path, key, "application/json", body, strlen(body), NULL, &r);
    long st = r.status;
    resp_free(&r);
    return rc ? -1 : (int)st;
}

static int setup(void **state)
{
    (void)state;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    if (server_start(&srv, url, NULL))
        return -1;
    char out[256];
    if (harness_cli(srv.db_url, "tenants create izmir", out, sizeof(out)) ||
        harness_cli(srv.db_url, "keys create --tenant izmir --role admin", izmir_key,
                    sizeof(izmir_key)))
        return -1;
    izmir_key[strcspn(izmir_key, "\r\n")] = '\0';
    if (put(ADMIN, "stripe", "{\"webhook_secret\":\"" STRIPE_DEFAULT "\"}") != 200 ||
        put(izmir_key, "stripe",
            "{\"webhook_secret\":\"" STRIPE_IZMIR "\",\"account_id\":\"acct_izmir1\"}") != 200 ||
        put(izmir_key, "shopify",
            "{\"webhook_secret\":\"" SHOPIFY_IZMIR
            "\",\"shop_domain\":\"izmir.myshopify.com\"}") != 200 ||
        put(izmir_key, "standard-webhooks", "{\"secret\":\"" STD_IZMIR "\"}") != 200)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return server_stop(&srv) == 0 ? 0 : -1;
}

/* POST a Stripe event signed with `secret` at time `ts`. */
static long stripe_post(const char *secret, long long ts, const char *body, struct resp *r)
{
    assert_int_equal(harness_stripe_post(&srv, "/api/webhooks/stripe", secret, ts, body, r), 0);
    return r->status;
}

static long long events_of(const char *tenant, const char *provider)
{
    char sql[300];
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM inbound_events e JOIN tenants t ON t.id = e.tenant_id "
             "WHERE t.name = '%s' AND e.provider = '%s'",
             tenant, provider);
    return harness_db_i64(srv.db_url, sql);
}

static void test_stripe_routing_and_dedupe(void **state)
{
    (void)state;
    struct resp r;
    long long now = (long long)time(NULL);
    /* the default tenant's event: no account named */
    const char *ev1 = "{\"id\":\"evt_1001\",\"type\":\"payment_intent.succeeded\",\"data\":{}}";
    assert_int_equal(stripe_post(STRIPE_DEFAULT, now, ev1, &r), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "duplicates")), 0);
    resp_free(&r);
    assert_int_equal(events_of("default", "stripe"), 1);
    /* the same event again: acknowledged, recorded once, one job */
    assert_int_equal(stripe_post(STRIPE_DEFAULT, now, ev1, &r), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "duplicates")), 1);
    resp_free(&r);
    assert_int_equal(events_of("default", "stripe"), 1);
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT COUNT(*) FROM jobs WHERE name = "
                                                "'integrations.event'"),
                     1);
    /* an event naming izmir's account lands in izmir, verified with izmir's secret */
    const char *ev2 = "{\"id\":\"evt_2002\",\"type\":\"charge.refunded\",\"account\":"
                      "\"acct_izmir1\",\"data\":{}}";
    assert_int_equal(stripe_post(STRIPE_IZMIR, now, ev2, &r), 200);
    resp_free(&r);
    assert_int_equal(events_of("izmir", "stripe"), 1);
    /* izmir's account signed with the default tenant's secret: refused, nothing stored */
    const char *ev3 = "{\"id\":\"evt_3003\",\"type\":\"charge.refunded\",\"account\":"
                      "\"acct_izmir1\",\"data\":{}}";
    assert_int_equal(stripe_post(STRIPE_DEFAULT, now, ev3, &r), 401);
    assert_string_equal(resp_error_code(&r), "unauthorized");
    resp_free(&r);
    /* stale: more than 300 s old */
    const char *ev4 = "{\"id\":\"evt_4004\",\"type\":\"x\",\"data\":{}}";
    assert_int_equal(stripe_post(STRIPE_DEFAULT, now - 400, ev4, &r), 401);
    resp_free(&r);
    /* signed right but no event id: 400 naming it */
    const char *ev5 = "{\"type\":\"x\",\"data\":{}}";
    assert_int_equal(stripe_post(STRIPE_DEFAULT, now, ev5, &r), 400);
    assert_string_equal(resp_error_field(&r), "id");
    resp_free(&r);
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT COUNT(*) FROM inbound_events"), 2);
    /* payments handles Stripe's events: these name no payment, so they are processed and
     * change nothing */
    WAIT_FOR(harness_db_i64(srv.db_url, "SELECT COUNT(*) FROM inbound_events WHERE status = "
                                        "'processed'") == 2,
             20000);
    assert_int_equal(
        harness_db_i64(srv.db_url,
                       "SELECT COUNT(*) FROM inbound_events WHERE status = 'processed'"),
        2);
}

static void test_shopify_and_standard_webhooks(void **state)
{
    (void)state;
    struct resp r;
    /* Shopify: base64 HMAC of the raw body, the shop named in a header */
    const char *order = "{\"id\":820982911946154508,\"email\":\"ayse@example.com\"}";
    char mac[SEC_HMAC_SHA256_B64_SIZE], h1[120];
    sec_hmac_sha256_b64(mac, SEC_B64_STD, SHOPIFY_IZMIR, strlen(SHOPIFY_IZMIR), order,
                        strlen(order));
    snprintf(h1, sizeof(h1), "X-Shopify-Hmac-Sha256: %s", mac);
    const char *hs[] = {h1, "X-Shopify-Shop-Domain: izmir.myshopify.com",
                        "X-Shopify-Topic: checkouts/update",
                        "X-Shopify-Webhook-Id: b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", NULL};
    assert_int_equal(http_req(&srv, "POST", "/api/webhooks/shopify", NULL, "application/json",
                              order, strlen(order), hs, &r),
                     0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(events_of("izmir", "shopify"), 1);
    /* a shop nobody configured falls to the default tenant, which has no Shopify secret */
    const char *other[] = {h1, "X-Shopify-Shop-Domain: unknown.myshopify.com",
                           "X-Shopify-Topic: checkouts/update",
                           "X-Shopify-Webhook-Id: 11111111-2222-3333-4444-555555555555", NULL};
    assert_int_equal(http_req(&srv, "POST", "/api/webhooks/shopify", NULL, "application/json",
                              order, strlen(order), other, &r),
                     0);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.body, "webhook_secret"));
    resp_free(&r);

    /* Standard Webhooks, tenant named in the URL */
    const char *body = "{\"type\":\"cart.abandoned\",\"data\":{\"cart\":\"c_1\"}}";
    char ts[24], sig[WEBHOOK_SIG_SIZE];
    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    struct err e;
    err_init(&e);
    assert_int_equal(webhook_sig_sign(sig, STD_IZMIR, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
                                      (int64_t)time(NULL), body, strlen(body), &e),
                     0);
    char hid[80], hts[60], hsig[120];
    snprintf(hid, sizeof(hid), "webhook-id: msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
    snprintf(hts, sizeof(hts), "webhook-timestamp: %s", ts);
    snprintf(hsig, sizeof(hsig), "webhook-signature: %s", sig);
    const char *sh[] = {hid, hts, hsig, NULL};
    assert_int_equal(http_req(&srv, "POST", "/api/webhooks/standard-webhooks/izmir", NULL,
                              "application/json", body, strlen(body), sh, &r),
                     0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(events_of("izmir", "standard-webhooks"), 1);
    /* the same signed delivery sent to another tenant's URL: that tenant has no secret */
    assert_int_equal(http_req(&srv, "POST", "/api/webhooks/standard-webhooks/default", NULL,
                              "application/json", body, strlen(body), sh, &r),
                     0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    /* unknown provider or tenant */
    assert_int_equal(http_req(&srv, "POST", "/api/webhooks/paypal", NULL, "application/json", body,
                              strlen(body), sh, &r),
                     0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    assert_int_equal(http_req(&srv, "POST", "/api/webhooks/standard-webhooks/nosuch", NULL,
                              "application/json", body, strlen(body), sh, &r),
                     0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    assert_int_equal(events_of("default", "standard-webhooks"), 0);
}

/* A Cloud API delivery for izmir's number is verified with izmir's app secret, stored in izmir. */
static void test_whatsapp_routed_by_phone_number_id(void **state)
{
    (void)state;
    const char *izmir_secret = "izmir-meta-app-secret";
    assert_int_equal(put(izmir_key, "whatsapp",
                         "{\"phone_number_id\":\"5550001111\",\"app_secret\":\"izmir-meta-app-"
                         "secret\"}"),
                     200);
    char body[1200];
    snprintf(body, sizeof(body),
             "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{"
             "\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":"
             "{\"display_phone_number\":\"902320000000\",\"phone_number_id\":\"5550001111\"},"
             "\"contacts\":[{\"profile\":{\"name\":\"Deniz\"},\"wa_id\":\"905551230000\"}],"
             "\"messages\":[{\"from\":\"905551230000\",\"id\":\"wamid.izmir.1\",\"timestamp\":"
             "\"%lld\",\"type\":\"text\",\"text\":{\"body\":\"Simit istiyorum\"}}]}}]}]}",
             (long long)time(NULL));
    char hex[SEC_HMAC_SHA256_HEX_SIZE], sig[128];
    sec_hmac_sha256_hex(hex, izmir_secret, strlen(izmir_secret), body, strlen(body));
    snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s", hex);
    const char *h[] = {sig, NULL};
    struct resp r;
    assert_int_equal(http_req(&srv, "POST", "/api/whatsapp/webhook", NULL, "application/json", body,
                              strlen(body), h, &r),
                     0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(harness_db_i64(srv.db_url,
                                    "SELECT COUNT(*) FROM chat_events e JOIN tenants t ON t.id = "
                                    "e.tenant_id WHERE t.name = 'izmir' AND e.event_key = "
                                    "'wamid.izmir.1'"),
                     1);
    /* izmir sees it; the default tenant does not */
    assert_int_equal(http_get(&srv, "/api/chat/events", izmir_key, &r), 0);
    assert_non_null(strstr(r.body, "Simit istiyorum"));
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/chat/events", ADMIN, &r), 0);
    assert_null(strstr(r.body, "Simit istiyorum"));
    resp_free(&r);
    /* signed with another secret: refused, nothing stored */
    sec_hmac_sha256_hex(hex, "not-izmirs", 10, body, strlen(body));
    snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s", hex);
    assert_int_equal(http_req(&srv, "POST", "/api/whatsapp/webhook", NULL, "application/json", body,
                              strlen(body), h, &r),
                     0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stripe_routing_and_dedupe),
        cmocka_unit_test(test_shopify_and_standard_webhooks),
        cmocka_unit_test(test_whatsapp_routed_by_phone_number_id),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
