/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/net/iyzico.c against the fake iyzico (tests/support/fake_iyzico.c): a
 * Checkout Form initialized with IYZWSv2 the fake verifies independently and a signed token;
 * the payment result read back with its amounts through the money type; a failed payment; a
 * forged signature on either answer refused; a wrong secret refused by iyzico; prices that do
 * not add up refused before any request; the way iyzico writes signed numbers.
 */
#include "net/iyzico.h"
#include "net/httpc.h"
#include "support/fake_iyzico.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define API_KEY "sandbox-api-key-iceshop"
#define SECRET  "sandbox-secret-key-iceshop"

static struct money try_(int64_t minor)
{
    struct money m;
    struct err e;
    err_init(&e);
    assert_int_equal(money_from_minor(minor, "TRY", &m, &e), 0);
    return m;
}

static void test_checkout(void **state)
{
    (void)state;
    struct fake_iyzico *fi = fake_iyzico_start(API_KEY, SECRET);
    assert_non_null(fi);
    struct iyzico_config c = {
        .api_url = fake_iyzico_url(fi), .api_key = API_KEY, .secret_key = SECRET};
    struct iyzico_buyer buyer = {.id = "C1",
                                 .name = "Şükrü",
                                 .surname = "Çağlar",
                                 .email = "sukru@example.com",
                                 .phone = "+905330000001",
                                 .city = "İstanbul"};
    struct iyzico_item items[2] = {{.id = "P1", .name = "Latte", .price = try_(8550)},
                                   {.id = "P2", .name = "Künefe", .price = try_(12000)}};
    struct iyzico_checkout_request q = {.conversation_id = "order-77",
                                        .basket_id = "B77",
                                        .price = try_(20550),
                                        .paid_price = try_(20550),
                                        .callback_url = "https://shop.example/iyzico/callback",
                                        .buyer = &buyer,
                                        .items = items,
                                        .n_items = 2};
    struct iyzico_checkout co;
    struct iyzico_failure f;
    struct err e;
    err_init(&e);
    if (iyzico_checkout_init(&c, &q, &co, &f, &e)) {
        char why[160];
        fake_iyzico_last_refusal(fi, why, sizeof(why));
        fail_msg("init: %s (fake: %s)", e.msg, why);
    }
    assert_non_null(strstr(co.token, "order-77"));
    assert_non_null(strstr(co.page_url, "/pay?token="));

    struct iyzico_payment p;
    err_init(&e);
    assert_int_equal(iyzico_checkout_retrieve(&c, "order-77", co.token, &p, &f, &e), 0);
    assert_string_equal(p.payment_status, "SUCCESS");
    assert_string_equal(p.conversation_id, "order-77");
    assert_string_equal(p.basket_id, "B77");
    assert_int_equal(p.paid_price.minor, 20550);
    assert_int_equal(p.price.minor, 20550);
    assert_string_equal(p.price.currency->code, "TRY");

    /* a failed payment is a result, not an error */
    fake_iyzico_next_status(fi, "FAILURE");
    assert_int_equal(iyzico_checkout_retrieve(&c, "order-77", co.token, &p, &f, &e), 0);
    assert_string_equal(p.payment_status, "FAILURE");

    /* forged answers are not believed */
    fake_iyzico_forge_next(fi);
    err_init(&e);
    assert_int_equal(iyzico_checkout_retrieve(&c, "order-77", co.token, &p, &f, &e), ERR_UPSTREAM);
    assert_string_equal(f.code, "signature");
    assert_string_equal(p.payment_status, ""); /* nothing of it is kept */
    fake_iyzico_forge_next(fi);
    err_init(&e);
    assert_int_equal(iyzico_checkout_init(&c, &q, &co, &f, &e), ERR_UPSTREAM);
    assert_string_equal(f.code, "signature");

    /* a wrong secret: iyzico refuses the request */
    struct iyzico_config wrong = c;
    wrong.secret_key = "not-the-secret";
    err_init(&e);
    assert_int_equal(iyzico_checkout_init(&wrong, &q, &co, &f, &e), ERR_UPSTREAM);
    assert_string_equal(f.code, "1000");
    assert_false(f.retryable);

    /* refused here, before any request */
    size_t seen = fake_iyzico_requests(fi);
    struct iyzico_checkout_request bad = q;
    bad.price = try_(20000);
    err_init(&e);
    assert_int_equal(iyzico_checkout_init(&c, &bad, &co, &f, &e), ERR_INVALID);
    assert_string_equal(e.field, "price");
    bad = q;
    bad.paid_price = try_(100);
    err_init(&e);
    assert_int_equal(iyzico_checkout_init(&c, &bad, &co, &f, &e), ERR_INVALID);
    assert_string_equal(e.field, "paid_price");
    bad = q;
    bad.callback_url = "javascript:alert(1)";
    err_init(&e);
    assert_int_equal(iyzico_checkout_init(&c, &bad, &co, &f, &e), ERR_INVALID);
    assert_int_equal(fake_iyzico_requests(fi), seen);
    fake_iyzico_stop(fi);
}

static void test_signed_numbers(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *want;
    } cases[] = {{1.2, "1.2"}, {10.0, "10"}, {205.5, "205.5"}, {0.3, "0.3"}, {1234.56, "1234.56"}};
    char out[32];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        iyzico_sign_number(cases[i].v, out, sizeof(out));
        assert_string_equal(out, cases[i].want);
    }
}

int main(void)
{
    struct err ge;
    err_init(&ge);
    if (httpc_global_init(&ge))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkout),
        cmocka_unit_test(test_signed_numbers),
    };
    int failed = cmocka_run_group_tests_name("iyzico", tests, NULL, NULL);
    httpc_global_cleanup();
    return failed ? 1 : 0;
}
