/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for login throttling (src/domain/account/login_throttle.c): free failures, doubling
 * waits with a cap, per-address counting across accounts, decay, success clearing, the hash gate.
 */
#include "domain/account/login_throttle.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

static struct login_throttle_limits lim(void)
{
    struct login_throttle_limits l;
    login_throttle_limits_default(&l);
    l.account_free = 3;
    l.address_free = 6;
    l.first_wait_ms = 1000;
    l.max_wait_ms = 8000;
    l.decay_ms = 60000;
    l.max_hashing = 1;
    return l;
}

static int check(struct login_throttle *t, const char *email, const char *ip, int64_t now,
                 int *retry)
{
    struct err e;
    err_init(&e);
    *retry = 0;
    return login_throttle_check(t, email, ip, now, retry, &e);
}

static void test_account_waits_double_and_cap(void **state)
{
    (void)state;
    struct login_throttle_limits l = lim();
    struct login_throttle *t = login_throttle_new(&l);
    int retry;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(check(t, "a@x.io", "1.1.1.1", 0, &retry), 0);
        login_throttle_fail(t, "a@x.io", "1.1.1.1", 0);
    }
    assert_int_equal(check(t, "a@x.io", "1.1.1.1", 0, &retry), 0); /* 3 free failures */
    login_throttle_fail(t, "A@X.io", "1.1.1.2", 0); /* case does not dodge the count */
    assert_int_equal(check(t, "a@x.io", "9.9.9.9", 0, &retry), ERR_RATE_LIMITED);
    assert_int_equal(retry, 1);
    assert_int_equal(check(t, "a@x.io", "9.9.9.9", 1000, &retry), 0);
    login_throttle_fail(t, "a@x.io", "1.1.1.3", 1000);
    assert_int_equal(check(t, "a@x.io", "9.9.9.9", 1000, &retry), ERR_RATE_LIMITED);
    assert_int_equal(retry, 2);
    for (int i = 0; i < 10; i++)
        login_throttle_fail(t, "a@x.io", "1.1.1.4", 2000);
    assert_int_equal(check(t, "a@x.io", "9.9.9.9", 2000, &retry), ERR_RATE_LIMITED);
    assert_int_equal(retry, 8); /* capped */
    /* Other accounts from a clean address are untouched. */
    assert_int_equal(check(t, "b@x.io", "9.9.9.9", 2000, &retry), 0);
    /* The lock decays: after the cap and the decay time without failures, all is forgotten. */
    assert_int_equal(check(t, "a@x.io", "9.9.9.9", 2000 + 60001, &retry), 0);
    login_throttle_fail(t, "a@x.io", "1.1.1.5", 2000 + 60001);
    assert_int_equal(check(t, "a@x.io", "9.9.9.9", 2000 + 60001, &retry), 0);
    assert_true(login_throttle_failures(t) >= 15);
    assert_true(login_throttle_refusals(t) >= 3);
    login_throttle_free(t);
}

static void test_address_across_accounts(void **state)
{
    (void)state;
    struct login_throttle_limits l = lim();
    struct login_throttle *t = login_throttle_new(&l);
    char email[32];
    int retry;
    for (int i = 0; i < 7; i++) {
        snprintf(email, sizeof(email), "u%d@x.io", i);
        login_throttle_fail(t, email, "6.6.6.6", 0);
    }
    assert_int_equal(check(t, "new@x.io", "6.6.6.6", 0, &retry), ERR_RATE_LIMITED);
    assert_int_equal(check(t, "new@x.io", "7.7.7.7", 0, &retry), 0);
    login_throttle_free(t);
}

static void test_success_clears_account(void **state)
{
    (void)state;
    struct login_throttle_limits l = lim();
    struct login_throttle *t = login_throttle_new(&l);
    int retry;
    for (int i = 0; i < 3; i++)
        login_throttle_fail(t, "a@x.io", "1.1.1.1", 0);
    login_throttle_success(t, "a@x.io");
    login_throttle_fail(t, "a@x.io", "1.1.1.1", 0);
    assert_int_equal(check(t, "a@x.io", "2.2.2.2", 0, &retry), 0);
    login_throttle_free(t);
}

static void test_hash_gate(void **state)
{
    (void)state;
    struct login_throttle_limits l = lim();
    struct login_throttle *t = login_throttle_new(&l);
    struct err e;
    err_init(&e);
    assert_int_equal(login_throttle_hash_enter(t, 0, &e), 0);
    assert_int_equal(login_throttle_hash_enter(t, 20, &e), ERR_RATE_LIMITED);
    login_throttle_hash_leave(t);
    err_init(&e);
    assert_int_equal(login_throttle_hash_enter(t, 0, &e), 0);
    login_throttle_hash_leave(t);
    login_throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_waits_double_and_cap),
        cmocka_unit_test(test_address_across_accounts),
        cmocka_unit_test(test_success_clears_account),
        cmocka_unit_test(test_hash_gate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
