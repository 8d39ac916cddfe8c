/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the pure rules of src/domain/recovery (recovery.c): agent and integration
 * checks naming their fields, when a cart is abandoned, completion, consent and the cooldown,
 * the WhatsApp sequence, recovered revenue, the connection test's stages and the payload an
 * agent receives (the seed's shape, amounts as decimal text). Table-driven where it helps.
 */
#include "domain/recovery/recovery.h"
#include "core/arena.h"
#include "domain/notify/kinds.h"
#include "json/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW  1795252200000LL /* 2026-11-21T09:10:00Z */
#define MIN  60000LL
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)

static struct recovery_agent agent(void)
{
    struct recovery_agent ag = {.id = 7,
                                .name = "Sepet",
                                .company = "Acme",
                                .template_slug = RECOVERY_TEMPLATE_SLUG,
                                .is_active = true,
                                .recovery_url = "https://hooks.example/recover",
                                .cutoff_minutes = 60,
                                .cooldown_days = 7,
                                .sequence = {0, 1440},
                                .n_sequence = 2};
    return ag;
}

static void test_agent_check(void **state)
{
    (void)state;
    struct err e;
    struct recovery_agent ag = agent();
    err_init(&e);
    assert_int_equal(recovery_agent_check(&ag, &e), 0);
    static const struct {
        int what;
        const char *field;
    } bad[] = {
        {0, "name"},
        {1, "company"},
        {2, "settings.recovery_url"},
        {3, "settings.recovery_url"},
        {4, "settings.cutoff_minutes"},
        {5, "settings.cooldown_days"},
        {6, "settings.sequence[1]"},
        {7, "settings.sequence[0]"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ag = agent();
        switch (bad[i].what) {
        case 0:
            ag.name = "";
            break;
        case 1:
            ag.company = NULL;
            break;
        case 2:
            ag.recovery_url = "ftp://x.example";
            break;
        case 3:
            ag.recovery_url = "https://";
            break;
        case 4:
            ag.cutoff_minutes = 0;
            break;
        case 5:
            ag.cooldown_days = -1;
            break;
        case 6:
            ag.sequence[1] = 0; /* not after the step before */
            break;
        default:
            ag.sequence[0] = -5;
            break;
        }
        err_init(&e);
        assert_int_equal(recovery_agent_check(&ag, &e), ERR_INVALID);
        assert_string_equal(e.field, bad[i].field);
    }
}

static void test_integration_check(void **state)
{
    (void)state;
    struct err e;
    struct recovery_integration_in in = {.shop_domain = "acme.myshopify.com",
                                         .access_token = "shpat_x"};
    err_init(&e);
    assert_int_equal(recovery_integration_check(RECOVERY_SHOPIFY, &in, true, &e), 0);
    in.shop_domain = "Acme Shop";
    err_init(&e);
    assert_int_equal(recovery_integration_check(RECOVERY_SHOPIFY, &in, true, &e), ERR_INVALID);
    assert_string_equal(e.field, "shop_domain");
    in = (struct recovery_integration_in){.shop_domain = "acme.myshopify.com"};
    err_init(&e);
    assert_int_equal(recovery_integration_check(RECOVERY_SHOPIFY, &in, true, &e), ERR_INVALID);
    assert_string_equal(e.field, "access_token");
    /* on update credentials may be left out */
    err_init(&e);
    assert_int_equal(recovery_integration_check(RECOVERY_SHOPIFY, &in, false, &e), 0);

    in = (struct recovery_integration_in){
        .site_url = "http://shop.example", .consumer_key = "ck", .consumer_secret = "cs"};
    err_init(&e);
    assert_int_equal(recovery_integration_check(RECOVERY_WOOCOMMERCE, &in, true, &e), ERR_INVALID);
    assert_string_equal(e.field, "site_url");
    in.site_url = "https://shop.example";
    err_init(&e);
    assert_int_equal(recovery_integration_check(RECOVERY_WOOCOMMERCE, &in, true, &e), 0);
    in.site_url = "http://127.0.0.1:8080"; /* loopback: the tests' fake */
    err_init(&e);
    assert_int_equal(recovery_integration_check(RECOVERY_WOOCOMMERCE, &in, true, &e), 0);
    in.consumer_secret = NULL;
    err_init(&e);
    assert_int_equal(recovery_integration_check(RECOVERY_WOOCOMMERCE, &in, true, &e), ERR_INVALID);
    assert_string_equal(e.field, "consumer_secret");

    in = (struct recovery_integration_in){.feed_url = "https://feed.example/carts",
                                          .base_url = "gopher://x"};
    err_init(&e);
    assert_int_equal(recovery_integration_check(RECOVERY_CUSTOM, &in, true, &e), ERR_INVALID);
    assert_string_equal(e.field, "base_url");
    in.base_url = NULL;
    err_init(&e);
    assert_int_equal(recovery_integration_check(RECOVERY_CUSTOM, &in, true, &e), 0);

    enum recovery_platform p;
    err_init(&e);
    assert_int_equal(recovery_platform_parse("woocommerce", &p, &e), 0);
    assert_int_equal(p, RECOVERY_WOOCOMMERCE);
    err_init(&e);
    assert_int_equal(recovery_platform_parse("magento", &p, &e), ERR_INVALID);
    assert_string_equal(e.field, "platform");
}

static void test_cart_decide(void **state)
{
    (void)state;
    static const struct {
        int64_t updated_ago, completed_ago;
        bool ordered;
        int64_t recovered_ago; /* 0 = never */
        bool consent;
        enum recovery_verdict want;
    } cases[] = {
        {30 * MIN, 0, false, 0, true, RECOVERY_WAIT},            /* before the cut-off */
        {60 * MIN - 1, 0, false, 0, true, RECOVERY_WAIT},        /* one ms short of it */
        {60 * MIN, 0, false, 0, true, RECOVERY_SEND},            /* exactly at it */
        {2 * HOUR, 0, false, 0, true, RECOVERY_SEND},            /* abandoned */
        {2 * HOUR, HOUR, false, 0, true, RECOVERY_COMPLETED},    /* completed */
        {10 * MIN, 5 * MIN, false, 0, true, RECOVERY_COMPLETED}, /* completed before the cut-off */
        {2 * HOUR, 0, true, 0, true, RECOVERY_COMPLETED},        /* the customer ordered */
        {2 * HOUR, 0, false, 3 * DAY, true, RECOVERY_COOLDOWN},  /* recovered 3 days ago */
        {2 * HOUR, 0, false, 7 * DAY, true, RECOVERY_SEND},      /* the cooldown has passed */
        {2 * HOUR, 0, false, 0, false, RECOVERY_NO_CONSENT},     /* withdrew consent */
        {2 * HOUR, 0, false, DAY, false, RECOVERY_NO_CONSENT},   /* consent before cooldown */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct recovery_cart_facts f = {
            .updated_ms = NOW - cases[i].updated_ago,
            .completed_ms = cases[i].completed_ago ? NOW - cases[i].completed_ago : 0,
            .ordered_since = cases[i].ordered,
            .last_recovered_ms = cases[i].recovered_ago ? NOW - cases[i].recovered_ago : 0,
            .marketing_consent = cases[i].consent};
        enum recovery_verdict v = recovery_cart_decide(&f, 60, 7, NOW);
        if (v != cases[i].want)
            fail_msg("case %zu: verdict %d, want %d", i, (int)v, (int)cases[i].want);
    }
    /* a cooldown of 0 days never holds anyone back */
    struct recovery_cart_facts f = {
        .updated_ms = NOW - 2 * HOUR, .last_recovered_ms = NOW - MIN, .marketing_consent = true};
    assert_int_equal(recovery_cart_decide(&f, 60, 0, NOW), RECOVERY_SEND);
}

static void test_sequence_and_recovered(void **state)
{
    (void)state;
    const int seq[] = {0, 1440};
    int64_t abandoned = NOW - 2 * HOUR;
    assert_true(recovery_message_due(seq, 2, 0, abandoned, NOW));
    assert_false(recovery_message_due(seq, 2, 1, abandoned, NOW));
    assert_true(recovery_message_due(seq, 2, 1, abandoned, abandoned + DAY));
    assert_false(recovery_message_due(seq, 2, 2, abandoned, abandoned + 10 * DAY));
    assert_false(recovery_message_due(seq, 0, 0, abandoned, NOW));

    assert_true(recovery_is_recovered(NOW, NOW + HOUR));
    assert_true(recovery_is_recovered(NOW, NOW + RECOVERY_ATTRIBUTION_MS));
    assert_false(recovery_is_recovered(NOW, NOW + RECOVERY_ATTRIBUTION_MS + 1));
    assert_false(recovery_is_recovered(NOW, NOW - 1)); /* completed before the delivery */
    assert_false(recovery_is_recovered(0, NOW));       /* never sent */
}

static void test_probe_stage(void **state)
{
    (void)state;
    static const struct {
        long status;
        const char *code, *error, *want;
    } cases[] = {
        {0, "", "Shopify unreachable: Could not resolve host: nope.example", "dns"},
        {0, "", "Shopify unreachable: SSL certificate problem: self-signed", "tls"},
        {0, "", "http request timed out: Operation timed out", "timeout"},
        {0, "", "Shopify unreachable: Failed to connect to 127.0.0.1 port 1", "connect"},
        {401, "ACCESS_DENIED", "Shopify refused the request (401)", "unauthorized"},
        {403, "ACCESS_DENIED", "", "forbidden"},
        {404, "HTTP", "", "wrong_shop"},
        {200, "ACCESS_DENIED", "Shopify: Access denied for abandonedCheckouts", "missing_scope"},
        {429, "THROTTLED", "", "throttled"},
        {200, "THROTTLED", "", "throttled"},
        {502, "SERVER_ERROR", "", "server_error"},
        {200, "SHAPE", "no nodes", "bad_response"},
        {302, "HTTP", "", "http"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(recovery_probe_stage(cases[i].status, cases[i].code, cases[i].error),
                            cases[i].want);
}

static void test_payload(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct recovery_agent ag = agent();
    struct recovery_line lines[] = {{"Latte", "LT-1", 2, 4500}, {"Simit", NULL, 1, 3050}};
    struct recovery_payload_cart carts[] = {
        {.recovery_id = 1,
         .cart_id = "crt_1",
         .platform_id = "gid://shopify/AbandonedCheckout/1",
         .email = "ayse@example.com",
         .phone = "+905320000001",
         .currency = "TRY",
         .total = 12050,
         .abandoned_ms = NOW - 2 * HOUR,
         .checkout_url = "https://acme.example/checkouts/1/recover",
         .lines = lines,
         .n_lines = 2},
        {.recovery_id = 2,
         .cart_id = "crt_2",
         .platform_id = "gid://shopify/AbandonedCheckout/2",
         .currency = "TRY",
         .total = 3999,
         .abandoned_ms = NOW - HOUR}};
    char *text = recovery_payload(&ag, "shopify", 3, 9, carts, 2, &a);
    assert_non_null(text);
    json_t *p = json_loads(text, 0, NULL);
    assert_non_null(p);
    json_t *info = json_object_get(p, "agent_info");
    assert_int_equal(json_integer_value(json_object_get(info, "id")), 7);
    assert_string_equal(json_string_value(json_object_get(info, "name")), "Sepet");
    assert_string_equal(json_string_value(json_object_get(info, "company")), "Acme");
    json_t *list = json_object_get(p, "abandoned_carts");
    assert_int_equal(json_array_size(list), 2);
    json_t *c0 = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(c0, "cart_id")), "crt_1");
    assert_string_equal(json_string_value(json_object_get(c0, "total_value")), "120.50");
    assert_string_equal(json_string_value(json_object_get(c0, "abandoned_at")),
                        "2026-11-21T07:10:00.000Z");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(c0, "customer"), "email")),
        "ayse@example.com");
    json_t *items = json_object_get(c0, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "unit_price")),
                        "45.00");
    assert_true(json_is_null(json_object_get(json_array_get(items, 1), "sku")));
    json_t *c1 = json_array_get(list, 1);
    assert_true(json_is_null(json_object_get(json_object_get(c1, "customer"), "email")));
    assert_true(json_is_null(json_object_get(c1, "checkout_url")));
    json_t *an = json_object_get(p, "recovery_analytics");
    assert_int_equal(json_integer_value(json_object_get(an, "total_carts")), 2);
    assert_string_equal(json_string_value(json_object_get(an, "total_value")), "160.49");
    assert_string_equal(json_string_value(json_object_get(an, "platform")), "shopify");
    assert_int_equal(json_integer_value(json_object_get(an, "cycle_id")), 9);
    json_decref(p);

    /* two currencies: no single total, one per currency */
    carts[1].currency = "EUR";
    text = recovery_payload(&ag, "shopify", 3, 9, carts, 2, &a);
    p = json_loads(text, 0, NULL);
    an = json_object_get(p, "recovery_analytics");
    assert_true(json_is_null(json_object_get(an, "total_value")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(an, "currency_totals"), "EUR")), "39.99");
    json_decref(p);
    /* an unknown currency is refused, not guessed */
    carts[1].currency = "XXZ";
    assert_null(recovery_payload(&ag, "shopify", 3, 9, carts, 2, &a));
    /* no carts: an empty list */
    text = recovery_payload(&ag, "custom", 3, 9, carts, 0, &a);
    assert_non_null(strstr(text, "\"abandoned_carts\":[]"));
    arena_release(&a);
}

static void test_message(void **state)
{
    (void)state;
    char out[512];
    struct recovery_msg_vars v = {.company = "Acme",
                                  .total = "99.90 TRY",
                                  .link = "https://acme.example/checkouts/1/recover",
                                  .step = 0};
    const struct notify_kind *k = &recovery_msg_cart;
    assert_true(k->render("tr", &v, out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "Merhaba"));
    assert_non_null(strstr(out, "99.90 TRY"));
    assert_non_null(strstr(out, v.link));
    assert_true(k->render("en", &v, out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "worth 99.90 TRY in your cart at Acme"));
    assert_non_null(strstr(out, v.link));
    v.step = 1;
    assert_true(k->render("tr", &v, out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "Hatırlatma"));
    assert_true(k->render("en", &v, out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "Reminder"));
    assert_int_equal(k->render("en", &v, out, 20), -1); /* does not fit */
    v.link = NULL;                                      /* nothing to send without the link */
    assert_int_equal(k->render("tr", &v, out, sizeof(out)), -1);
    assert_int_equal(k->purpose, NOTIFY_MARKETING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_check), cmocka_unit_test(test_integration_check),
        cmocka_unit_test(test_cart_decide), cmocka_unit_test(test_sequence_and_recovered),
        cmocka_unit_test(test_probe_stage), cmocka_unit_test(test_payload),
        cmocka_unit_test(test_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
