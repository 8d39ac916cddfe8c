/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/payments/payments.c (payments.h), the pure rules: the forward-only
 * state machine under every order of its events (each permutation, with repeats), what a step
 * means for the order, refund amounts, provider amounts in TRY, USD and JPY through the money
 * type, and the idempotency hash.
 */
#include "domain/payments/payments.h"
#include "support/check.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#define AMOUNT 1000

struct run {
    struct payment_state st;
    int paid;          /* how many steps said became_paid */
    int order_changes; /* steps that changed the order */
    enum commerce_order_status order;
};

static void run_events(struct run *r, const struct payment_event *evs, const size_t *order,
                       size_t n)
{
    memset(r, 0, sizeof(*r));
    r->st.status = PAYMENT_CREATED;
    r->st.amount = AMOUNT;
    r->order = COMMERCE_ORDER_PENDING;
    for (size_t i = 0; i < n; i++) {
        struct payment_step step;
        payment_apply(&r->st, &evs[order[i]], &step);
        /* never backwards */
        assert_true(payment_status_rank(step.next.status) >= payment_status_rank(r->st.status));
        assert_true(step.next.refunded >= r->st.refunded);
        assert_int_equal(step.changed, memcmp(&step.next, &r->st, sizeof(r->st)) != 0);
        r->paid += step.became_paid;
        if (step.order_change) {
            r->order_changes++;
            r->order = step.order_status;
        }
        r->st = step.next;
    }
}

/* Every permutation of idx[k..n) (Heap's algorithm would do; this is the plain recursion). */
static void permute(size_t *idx, size_t k, size_t n, void (*check)(const size_t *, size_t))
{
    if (k == n) {
        check(idx, n);
        return;
    }
    for (size_t i = k; i < n; i++) {
        size_t t = idx[k];
        idx[k] = idx[i];
        idx[i] = t;
        permute(idx, k + 1, n, check);
        idx[i] = idx[k];
        idx[k] = t;
    }
}

static const struct payment_event full_life[] = {
    {PAYMENT_EV_OPENED, 0},     {PAYMENT_EV_FAILED, 0},        {PAYMENT_EV_SUCCEEDED, 0},
    {PAYMENT_EV_REFUNDED, 300}, {PAYMENT_EV_REFUNDED, AMOUNT}, {PAYMENT_EV_SUCCEEDED, 0},
};
static int permutations;

static void check_full_life(const size_t *order, size_t n)
{
    struct run r;
    run_events(&r, full_life, order, n);
    assert_int_equal(r.st.status, PAYMENT_REFUNDED);
    assert_int_equal(r.st.refunded, AMOUNT);
    assert_int_equal(r.paid, 1);
    assert_int_equal(r.order, COMMERCE_ORDER_REFUNDED);
    permutations++;
}

/* Opened, failed, succeeded (twice) and a partial refund in any order end partially refunded. */
static const struct payment_event partial_life[] = {
    {PAYMENT_EV_OPENED, 0},    {PAYMENT_EV_FAILED, 0},     {PAYMENT_EV_SUCCEEDED, 0},
    {PAYMENT_EV_SUCCEEDED, 0}, {PAYMENT_EV_REFUNDED, 400},
};

static void check_partial_life(const size_t *order, size_t n)
{
    struct run r;
    run_events(&r, partial_life, order, n);
    assert_int_equal(r.st.status, PAYMENT_PARTIALLY_REFUNDED);
    assert_int_equal(r.st.refunded, 400);
    assert_int_equal(r.paid, 1);
    assert_int_equal(r.order, COMMERCE_ORDER_PARTIALLY_REFUNDED);
    permutations++;
}

/* Without a success or refund nothing ever pays the order. */
static const struct payment_event unpaid_life[] = {
    {PAYMENT_EV_OPENED, 0},
    {PAYMENT_EV_FAILED, 0},
    {PAYMENT_EV_CANCELED, 0},
    {PAYMENT_EV_FAILED, 0},
};

static void check_unpaid_life(const size_t *order, size_t n)
{
    struct run r;
    run_events(&r, unpaid_life, order, n);
    assert_true(r.st.status == PAYMENT_FAILED || r.st.status == PAYMENT_CANCELED);
    assert_int_equal(r.paid, 0);
    assert_int_equal(r.order_changes, 0);
    permutations++;
}

/* A success with failures around it: succeeded, paid once, whatever the order. */
static const struct payment_event paid_life[] = {
    {PAYMENT_EV_OPENED, 0}, {PAYMENT_EV_FAILED, 0},   {PAYMENT_EV_SUCCEEDED, 0},
    {PAYMENT_EV_FAILED, 0}, {PAYMENT_EV_CANCELED, 0}, {PAYMENT_EV_OPENED, 0},
};

static void check_paid_life(const size_t *order, size_t n)
{
    struct run r;
    run_events(&r, paid_life, order, n);
    assert_int_equal(r.st.status, PAYMENT_SUCCEEDED);
    assert_int_equal(r.paid, 1);
    assert_int_equal(r.order, COMMERCE_ORDER_PAID);
    permutations++;
}

static void test_every_order(void **state)
{
    (void)state;
    size_t idx[6];
    for (size_t i = 0; i < 6; i++)
        idx[i] = i;
    permutations = 0;
    permute(idx, 0, 6, check_full_life);
    assert_int_equal(permutations, 720);
    for (size_t i = 0; i < 6; i++)
        idx[i] = i;
    permutations = 0;
    permute(idx, 0, 5, check_partial_life);
    assert_int_equal(permutations, 120);
    for (size_t i = 0; i < 6; i++)
        idx[i] = i;
    permutations = 0;
    permute(idx, 0, 4, check_unpaid_life);
    assert_int_equal(permutations, 24);
    for (size_t i = 0; i < 6; i++)
        idx[i] = i;
    permutations = 0;
    permute(idx, 0, 6, check_paid_life);
    assert_int_equal(permutations, 720);
}

static void test_steps(void **state)
{
    (void)state;
    struct payment_state st = {PAYMENT_SUCCEEDED, AMOUNT, 0};
    struct payment_step s;
    /* a late failure never undoes a success */
    payment_apply(&st, &(struct payment_event){PAYMENT_EV_FAILED, 0}, &s);
    assert_false(s.changed);
    assert_int_equal(s.next.status, PAYMENT_SUCCEEDED);
    /* a repeated success is a no-op */
    payment_apply(&st, &(struct payment_event){PAYMENT_EV_SUCCEEDED, 0}, &s);
    assert_false(s.changed);
    assert_false(s.became_paid);
    /* refunds are totals; a smaller later one changes nothing */
    st.status = PAYMENT_PARTIALLY_REFUNDED;
    st.refunded = 600;
    payment_apply(&st, &(struct payment_event){PAYMENT_EV_REFUNDED, 300}, &s);
    assert_false(s.changed);
    payment_apply(&st, &(struct payment_event){PAYMENT_EV_REFUNDED, 700}, &s);
    assert_true(s.changed);
    assert_int_equal(s.next.status, PAYMENT_PARTIALLY_REFUNDED);
    assert_int_equal(s.next.refunded, 700);
    assert_false(s.became_paid);
    /* more than the amount is clamped */
    payment_apply(&st, &(struct payment_event){PAYMENT_EV_REFUNDED, 5000}, &s);
    assert_int_equal(s.next.status, PAYMENT_REFUNDED);
    assert_int_equal(s.next.refunded, AMOUNT);
    /* opened from created; a pending payment does not touch the order */
    st = (struct payment_state){PAYMENT_CREATED, AMOUNT, 0};
    payment_apply(&st, &(struct payment_event){PAYMENT_EV_OPENED, 0}, &s);
    assert_true(s.changed);
    assert_int_equal(s.next.status, PAYMENT_PENDING);
    assert_false(s.order_change);
    /* a refund before the success implies it */
    st.status = PAYMENT_PENDING;
    payment_apply(&st, &(struct payment_event){PAYMENT_EV_REFUNDED, AMOUNT}, &s);
    assert_true(s.became_paid);
    assert_int_equal(s.next.status, PAYMENT_REFUNDED);
    assert_int_equal(s.order_status, COMMERCE_ORDER_REFUNDED);
}

static void test_names(void **state)
{
    (void)state;
    enum payment_status st;
    for (int i = PAYMENT_CREATED; i <= PAYMENT_REFUNDED; i++) {
        OK(payment_status_parse(payment_status_name((enum payment_status)i), "status", &st, e));
        assert_int_equal(st, i);
    }
    FAILS(ERR_INVALID, payment_status_parse("paid", "status", &st, e));
    assert_string_equal(check_last.field, "status");
    enum payment_provider p;
    OK(payment_provider_parse("iyzico", "provider", &p, e));
    assert_int_equal(p, PAYMENT_IYZICO);
    FAILS(ERR_INVALID, payment_provider_parse("paypal", "provider", &p, e));
    assert_string_equal(check_last.field, "provider");
    OK(payments_order_payable(COMMERCE_ORDER_PENDING, e));
    FAILS(ERR_CONFLICT, payments_order_payable(COMMERCE_ORDER_PAID, e));
    FAILS(ERR_CONFLICT, payments_order_payable(COMMERCE_ORDER_CANCELLED, e));
    /* by hand: paid (or partially refunded) → fulfilled, pending → cancelled, nothing else */
    enum commerce_order_status to;
    OK(payments_order_next(COMMERCE_ORDER_PAID, PAYMENTS_ORDER_FULFIL, &to, e));
    assert_int_equal(to, COMMERCE_ORDER_FULFILLED);
    OK(payments_order_next(COMMERCE_ORDER_PARTIALLY_REFUNDED, PAYMENTS_ORDER_FULFIL, &to, e));
    assert_int_equal(to, COMMERCE_ORDER_FULFILLED);
    OK(payments_order_next(COMMERCE_ORDER_PENDING, PAYMENTS_ORDER_CANCEL, &to, e));
    assert_int_equal(to, COMMERCE_ORDER_CANCELLED);
    FAILS(ERR_CONFLICT, payments_order_next(COMMERCE_ORDER_PENDING, PAYMENTS_ORDER_FULFIL, &to, e));
    assert_string_equal(check_last.field, "status");
    FAILS(ERR_CONFLICT, payments_order_next(COMMERCE_ORDER_PAID, PAYMENTS_ORDER_CANCEL, &to, e));
    FAILS(ERR_CONFLICT,
          payments_order_next(COMMERCE_ORDER_REFUNDED, PAYMENTS_ORDER_FULFIL, &to, e));
    FAILS(ERR_CONFLICT,
          payments_order_next(COMMERCE_ORDER_FULFILLED, PAYMENTS_ORDER_FULFIL, &to, e));
}

static void test_refund_amount(void **state)
{
    (void)state;
    const struct money_currency *try_, *usd;
    OK(money_currency_find("TRY", &try_, e));
    OK(money_currency_find("USD", &usd, e));
    struct payment_state st = {PAYMENT_SUCCEEDED, 1000, 0};
    struct money out, req;
    OK(payments_refund_amount(&st, try_, NULL, &out, e));
    assert_int_equal(out.minor, 1000);
    st.status = PAYMENT_PARTIALLY_REFUNDED;
    st.refunded = 400;
    OK(payments_refund_amount(&st, try_, NULL, &out, e));
    assert_int_equal(out.minor, 600);
    OK(money_parse("6.00", "TRY", 0, &req, e));
    OK(payments_refund_amount(&st, try_, &req, &out, e));
    assert_int_equal(out.minor, 600);
    OK(money_parse("6.01", "TRY", 0, &req, e));
    FAILS(ERR_INVALID, payments_refund_amount(&st, try_, &req, &out, e));
    assert_string_equal(check_last.field, "amount");
    OK(money_parse("1.00", "USD", 0, &req, e));
    FAILS(ERR_INVALID, payments_refund_amount(&st, try_, &req, &out, e));
    OK(money_parse("0", "TRY", 0, &req, e));
    FAILS(ERR_INVALID, payments_refund_amount(&st, try_, &req, &out, e));
    st.status = PAYMENT_REFUNDED;
    st.refunded = 1000;
    FAILS(ERR_CONFLICT, payments_refund_amount(&st, try_, NULL, &out, e));
    assert_string_equal(check_last.field, "status");
    st.status = PAYMENT_PENDING;
    st.refunded = 0;
    FAILS(ERR_CONFLICT, payments_refund_amount(&st, usd, NULL, &out, e));
}

/* Provider amounts: Stripe's minor units and lower-case currency, iyzico's decimal text. */
static void test_provider_amounts(void **state)
{
    (void)state;
    static const struct {
        const char *cur, *text, *stripe_cur;
        int64_t minor;
    } cases[] = {
        {"TRY", "1234.50", "try", 123450},
        {"USD", "0.99", "usd", 99},
        {"JPY", "1200", "jpy", 1200},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct money m;
        OK(money_parse(cases[i].text, cases[i].cur, 0, &m, e));
        assert_int_equal(m.minor, cases[i].minor);
        char text[MONEY_TEXT_MAX];
        OK(money_format(&m, text, sizeof(text), e));
        assert_string_equal(text, cases[i].text);
        assert_true(
            payments_amount_matches(m.minor, m.currency, cases[i].minor, cases[i].stripe_cur));
        assert_true(payments_amount_matches(m.minor, m.currency, cases[i].minor, cases[i].cur));
        assert_false(
            payments_amount_matches(m.minor, m.currency, cases[i].minor + 1, cases[i].stripe_cur));
        assert_false(payments_amount_matches(m.minor, m.currency, cases[i].minor, "eur"));
        assert_false(payments_amount_matches(m.minor, m.currency, cases[i].minor, NULL));
    }
    struct money m;
    FAILS(ERR_INVALID, money_parse("12.5", "JPY", 0, &m, e)); /* JPY has no minor unit */
}

static void test_request_hash(void **state)
{
    (void)state;
    char a[65], b[65], c[65], d[65];
    payments_request_hash("POST", "/api/orders/ord_1/payments", "{\"provider\":\"stripe\"}", 21, a);
    payments_request_hash("POST", "/api/orders/ord_1/payments", "{\"provider\":\"stripe\"}", 21, b);
    payments_request_hash("POST", "/api/orders/ord_1/payments", "{\"provider\":\"iyzico\"}", 21, c);
    payments_request_hash("POST", "/api/orders/ord_2/payments", "{\"provider\":\"stripe\"}", 21, d);
    assert_int_equal(strlen(a), 64);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_order),
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_refund_amount),
        cmocka_unit_test(test_provider_amounts),
        cmocka_unit_test(test_request_hash),
    };
    return cmocka_run_group_tests_name("payments", tests, NULL, NULL);
}
