/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/net/stripe.c against the fake Stripe API (tests/support/fake_stripe.c):
 * a PaymentIntent created form-encoded with its metadata and read back; the same idempotency
 * key replaying the first answer (one intent, not two) and refused with another body; refunds,
 * partial then the rest, never more; Stripe's errors read into stripe_failure with what may be
 * retried; a wrong key; bad arguments refused before any request.
 */
#include "net/stripe.h"
#include "net/httpc.h"
#include "support/fake_stripe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define KEY "sk_test_iceshop_123"

static struct money try_(int64_t minor)
{
    struct money m;
    struct err e;
    err_init(&e);
    assert_int_equal(money_from_minor(minor, "TRY", &m, &e), 0);
    return m;
}

static void test_intents_and_refunds(void **state)
{
    (void)state;
    struct fake_stripe *fs = fake_stripe_start(KEY);
    assert_non_null(fs);
    struct stripe_config c = {.api_url = fake_stripe_url(fs), .secret_key = KEY};
    struct stripe_intent pi, again;
    struct stripe_failure f;
    struct err e;
    err_init(&e);
    struct money amount = try_(12550); /* 125,50 TL */
    assert_int_equal(stripe_intent_create(&c, &amount, "ord 42/ş", "pay-42-1", &pi, &f, &e), 0);
    assert_true(strncmp(pi.id, "pi_", 3) == 0);
    assert_int_equal(pi.amount, 12550);
    assert_string_equal(pi.currency, "try");
    assert_string_equal(pi.status, "requires_payment_method");
    assert_non_null(strstr(pi.client_secret, "_secret_"));
    assert_false(pi.replayed);
    char body[1024];
    fake_stripe_last_body(fs, body, sizeof(body));
    /* form-encoded, brackets and non-ASCII escaped */
    assert_non_null(strstr(body, "amount=12550&currency=try"));
    assert_non_null(strstr(body, "metadata%5Border_id%5D=ord%2042%2F%C5%9F"));

    /* the same key and body: Stripe's first answer again, no second intent */
    assert_int_equal(stripe_intent_create(&c, &amount, "ord 42/ş", "pay-42-1", &again, &f, &e), 0);
    assert_true(again.replayed);
    assert_string_equal(again.id, pi.id);
    assert_int_equal(fake_stripe_intents(fs), 1);
    /* the same key with another amount: refused, not retried */
    struct money other = try_(999);
    err_init(&e);
    assert_int_equal(stripe_intent_create(&c, &other, "ord 42/ş", "pay-42-1", &again, &f, &e),
                     ERR_UPSTREAM);
    assert_string_equal(f.type, "idempotency_error");
    assert_int_equal(f.status, 400);
    assert_false(f.retryable);

    /* read back */
    err_init(&e);
    assert_int_equal(stripe_intent_get(&c, pi.id, &again, &f, &e), 0);
    assert_int_equal(again.amount, 12550);

    /* refunds: part, then the rest, then nothing is left */
    struct stripe_refund rf;
    struct money part = try_(5000);
    assert_int_equal(stripe_refund_create(&c, pi.id, &part, "refund-42-1", &rf, &f, &e), 0);
    assert_int_equal(rf.amount, 5000);
    assert_int_equal(stripe_refund_create(&c, pi.id, NULL, "refund-42-2", &rf, &f, &e), 0);
    assert_int_equal(rf.amount, 7550);
    err_init(&e);
    assert_int_equal(stripe_refund_create(&c, pi.id, NULL, "refund-42-3", &rf, &f, &e),
                     ERR_UPSTREAM);
    assert_string_equal(f.code, "amount_too_large");
    assert_string_equal(f.param, "amount");

    /* Stripe's own failures: what may be retried */
    static const struct {
        unsigned status;
        const char *type;
        bool retry;
    } cases[] = {{402, "card_error", false},
                 {429, "rate_limit_error", true},
                 {500, "api_error", true},
                 {409, "invalid_request_error", true},
                 {401, "invalid_request_error", false}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err_init(&e);
        fake_stripe_fail_next(fs, cases[i].status, cases[i].type, "x");
        char key[32];
        snprintf(key, sizeof(key), "fail-%zu", i);
        assert_int_equal(stripe_intent_create(&c, &amount, "43", key, &again, &f, &e),
                         ERR_UPSTREAM);
        assert_int_equal(f.status, cases[i].status);
        assert_string_equal(f.type, cases[i].type);
        assert_int_equal(f.retryable, cases[i].retry);
    }
    /* a wrong key */
    struct stripe_config bad = c;
    bad.secret_key = "sk_test_wrong";
    err_init(&e);
    assert_int_equal(stripe_intent_create(&bad, &amount, "44", "k-44", &again, &f, &e),
                     ERR_UPSTREAM);
    assert_int_equal(f.status, 401);
    /* refused before any request */
    size_t seen = fake_stripe_requests(fs);
    struct money zero = try_(0);
    err_init(&e);
    assert_int_equal(stripe_intent_create(&c, &zero, "45", "k-45", &again, &f, &e), ERR_INVALID);
    assert_int_equal(stripe_intent_create(&c, &amount, "45", "", &again, &f, &e), ERR_INVALID);
    assert_int_equal(stripe_intent_get(&c, "../v1/charges", &again, &f, &e), ERR_INVALID);
    struct stripe_config none = {.api_url = c.api_url};
    assert_int_equal(stripe_intent_create(&none, &amount, "45", "k-45", &again, &f, &e),
                     ERR_INVALID);
    assert_int_equal(fake_stripe_requests(fs), seen);
    fake_stripe_stop(fs);

    /* nobody there: retryable */
    struct stripe_config down = {
        .api_url = "http://127.0.0.1:9", .secret_key = KEY, .timeout_ms = 1000};
    err_init(&e);
    assert_int_equal(stripe_intent_create(&down, &amount, "46", "k-46", &again, &f, &e),
                     ERR_UPSTREAM);
    assert_true(f.retryable);
}

int main(void)
{
    struct err ge;
    err_init(&ge);
    if (httpc_global_init(&ge))
        return 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_intents_and_refunds)};
    int failed = cmocka_run_group_tests_name("stripe", tests, NULL, NULL);
    httpc_global_cleanup();
    return failed ? 1 : 0;
}
