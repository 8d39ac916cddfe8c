/* SPDX-License-Identifier: MIT */
/*
 * Signed window links: a token opens exactly one page of one window for one person until it
 * expires; tampered, expired, other-kind and unconfigured tokens are refused.
 */
#include "domain/flash/links.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define NOW 1795000000000LL

static const unsigned char secret[32] = "0123456789abcdef0123456789abcdef";

static void test_unconfigured(void **state)
{
    (void)state;
    /* must run first: nothing configured yet */
    struct arena a;
    arena_init(&a);
    struct flash_link l = {FLASH_LINK_BUYER, 1, 2, 3}, out;
    struct err e;
    err_init(&e);
    assert_false(flash_links_ready());
    assert_null(flash_link_url(&l, NOW + 1000, &a));
    assert_int_equal(flash_link_verify("a.b.c", FLASH_LINK_BUYER, NOW, &a, &out, &e),
                     ERR_UNAUTHORIZED);
    arena_release(&a);
}

static void test_round_trip_and_refusals(void **state)
{
    (void)state;
    flash_links_configure(secret, "http://shop.example/");
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    struct flash_link l = {FLASH_LINK_BUYER, 7, 42, 99}, out;
    const char *url = flash_link_url(&l, NOW + 3600000, &a);
    assert_non_null(url);
    assert_true(strncmp(url, "http://shop.example/w/", 22) == 0);
    const char *token = url + 22;
    assert_int_equal(flash_link_verify(token, FLASH_LINK_BUYER, NOW, &a, &out, &e), 0);
    assert_int_equal(out.tenant, 7);
    assert_int_equal(out.window, 42);
    assert_int_equal(out.buyer_pk, 99);

    /* expired */
    assert_int_equal(flash_link_verify(token, FLASH_LINK_BUYER, NOW + 3600000 + 1000, &a, &out, &e),
                     ERR_UNAUTHORIZED);
    err_init(&e);
    /* the other page */
    assert_int_equal(flash_link_verify(token, FLASH_LINK_SELLER, NOW, &a, &out, &e),
                     ERR_UNAUTHORIZED);
    err_init(&e);
    /* tampered: one character of the payload changed */
    char bad[512];
    snprintf(bad, sizeof(bad), "%s", token);
    char *dot = strchr(bad, '.');
    dot[3] = dot[3] == 'A' ? 'B' : 'A';
    assert_int_equal(flash_link_verify(bad, FLASH_LINK_BUYER, NOW, &a, &out, &e), ERR_UNAUTHORIZED);
    err_init(&e);
    /* a token made with another server's secret */
    static const unsigned char other[32] = "fedcba9876543210fedcba9876543210";
    flash_links_configure(other, "http://shop.example");
    assert_int_equal(flash_link_verify(token, FLASH_LINK_BUYER, NOW, &a, &out, &e),
                     ERR_UNAUTHORIZED);
    err_init(&e);
    /* seller links carry no buyer */
    struct flash_link s = {FLASH_LINK_SELLER, 7, 42, 0};
    url = flash_link_url(&s, NOW + 1000, &a);
    assert_true(strncmp(url, "http://shop.example/s/", 22) == 0);
    assert_int_equal(flash_link_verify(url + 22, FLASH_LINK_SELLER, NOW, &a, &out, &e), 0);
    assert_int_equal(out.buyer_pk, 0);
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unconfigured),
        cmocka_unit_test(test_round_trip_and_refusals),
    };
    return cmocka_run_group_tests_name("links", tests, NULL, NULL);
}
