/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/commerce/order_hooks.c: hooks run in the order added with the
 * caller's arguments, a failing hook stops the rest and its error is returned, a name cannot be
 * taken twice, and the registry refuses more than ORDER_HOOKS_MAX.
 */
#include "domain/commerce/order_hooks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

static char trail[64];

static int hook_a(struct db_conn *conn, int64_t tenant, int64_t order_pk, struct err *e)
{
    (void)conn;
    (void)e;
    size_t n = strlen(trail);
    snprintf(trail + n, sizeof trail - n, "a%lld/%lld;", (long long)tenant, (long long)order_pk);
    return 0;
}

static int hook_b(struct db_conn *conn, int64_t tenant, int64_t order_pk, struct err *e)
{
    (void)conn;
    (void)tenant;
    (void)order_pk;
    size_t n = strlen(trail);
    snprintf(trail + n, sizeof trail - n, "b;");
    return err_set(e, ERR_DB, "b broke");
}

static void test_order_and_failure(void **state)
{
    (void)state;
    order_hooks_reset();
    trail[0] = '\0';
    struct err e;
    err_init(&e);
    assert_int_equal(order_hooks_add_paid("a", hook_a, &e), 0);
    assert_int_equal(order_hooks_add_paid("b", hook_b, &e), 0);
    assert_int_equal(order_hooks_add_paid("a2", hook_a, &e), 0);
    int rc = order_hooks_run_paid(NULL, 7, 42, &e);
    assert_int_equal(rc, ERR_DB);
    assert_string_equal(e.msg, "b broke");
    assert_string_equal(trail, "a7/42;b;"); /* a2 never ran */
}

static void test_names_and_capacity(void **state)
{
    (void)state;
    order_hooks_reset();
    struct err e;
    err_init(&e);
    assert_int_equal(order_hooks_add_paid("a", hook_a, &e), 0);
    assert_int_equal(order_hooks_add_paid("a", hook_a, &e), ERR_INVALID);
    static char names[ORDER_HOOKS_MAX][16];
    for (int i = 1; i < ORDER_HOOKS_MAX; i++) {
        snprintf(names[i], sizeof names[i], "h%d", i);
        err_init(&e);
        assert_int_equal(order_hooks_add_paid(names[i], hook_a, &e), 0);
    }
    err_init(&e);
    assert_int_equal(order_hooks_add_paid("one-too-many", hook_a, &e), ERR_INVALID);
    trail[0] = '\0';
    err_init(&e);
    assert_int_equal(order_hooks_run_paid(NULL, 1, 1, &e), 0);
    order_hooks_reset();
    trail[0] = '\0';
    assert_int_equal(order_hooks_run_paid(NULL, 1, 1, &e), 0);
    assert_string_equal(trail, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_failure),
        cmocka_unit_test(test_names_and_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
