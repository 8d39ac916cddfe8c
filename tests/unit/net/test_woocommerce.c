/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/net/woocommerce.c against the fake orders endpoint
 * (tests/support/fake_woocommerce.c): only unfinished orders (pending, checkout-draft), in pages
 * counted by X-WP-TotalPages, after a watermark sent as modified_after; totals, contact, payment
 * link and line items read; the paid orders (processing, completed) asked for apart, an order
 * paid later among them; refused credentials named; plain http to a remote shop refused.
 */
#include "net/woocommerce.h"
#include "net/httpc.h"
#include "support/fake_woocommerce.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

static void test_orders(void **state)
{
    (void)state;
    struct fake_woo *fw = fake_woo_start("ck_test", "cs_test");
    assert_non_null(fw);
    fake_woo_add(fw, 11, "pending", "2026-12-01T10:00:00", "a@example.com", "85.50");
    fake_woo_add(fw, 12, "completed", "2026-12-01T10:05:00", "b@example.com", "10.00");
    fake_woo_add(fw, 13, "checkout-draft", "2026-12-01T10:10:00", "c@example.com", "42.50");
    fake_woo_add(fw, 14, "pending", "2026-12-01T10:20:00", "d@example.com", "7.00");
    struct woo_config c = {
        .site_url = fake_woo_url(fw), .consumer_key = "ck_test", .consumer_secret = "cs_test"};
    struct woo_page p;
    struct woo_failure f;
    struct err e;
    err_init(&e);
    assert_int_equal(woo_unfinished_page(&c, 0, 1, 2, &p, &f, &e), 0);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.total_pages, 2);
    assert_int_equal(p.items[0].id, 11);
    assert_int_equal(p.items[0].total.minor, 8550);
    assert_string_equal(p.items[0].email, "a@example.com");
    assert_string_equal(p.items[0].last_name, "Şahin");
    assert_non_null(strstr(p.items[0].payment_url, "/order-pay/11/"));
    assert_int_equal(p.items[0].n_lines, 1);
    assert_int_equal(p.items[0].lines[0].price.minor, 4250);
    assert_true(p.items[0].modified_ms > 0);
    assert_int_equal(p.items[1].id, 13); /* the completed order is not asked for */
    assert_int_equal(woo_unfinished_page(&c, 0, 2, 2, &p, &f, &e), 0);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.items[0].id, 14);
    char q[512];
    fake_woo_last_query(fw, q, sizeof(q));
    assert_non_null(strstr(q, "status=checkout-draft,pending"));

    /* the watermark */
    int64_t mark = p.items[0].modified_ms - 1;
    assert_int_equal(woo_unfinished_page(&c, mark, 1, 50, &p, &f, &e), 0);
    fake_woo_last_query(fw, q, sizeof(q));
    assert_non_null(strstr(q, "modified_after=2026-12-01T10:19:59"));
    assert_int_equal(p.n, 1);

    /* order 11 is paid later: the paid listing (processing, completed) shows it with that
     * change's time, after the watermark; the never-unfinished order 12 is older */
    assert_true(fake_woo_set_status(fw, 11, "processing", "2026-12-01T10:30:00"));
    assert_false(fake_woo_set_status(fw, 99, "processing", "2026-12-01T10:30:00"));
    assert_int_equal(woo_paid_page(&c, mark, 1, 50, &p, &f, &e), 0);
    fake_woo_last_query(fw, q, sizeof(q));
    assert_non_null(strstr(q, "status=processing,completed"));
    assert_int_equal(p.n, 1);
    assert_int_equal(p.items[0].id, 11);
    assert_string_equal(p.items[0].status, "processing");
    assert_int_equal(p.items[0].total.minor, 8550);
    assert_true(p.items[0].modified_ms > mark);
    assert_int_equal(woo_unfinished_page(&c, 0, 1, 50, &p, &f, &e), 0);
    assert_int_equal(p.n, 2); /* 13 and 14: 11 is no longer unfinished */

    /* refused credentials */
    struct woo_config bad = c;
    bad.consumer_secret = "cs_wrong";
    err_init(&e);
    assert_int_equal(woo_unfinished_page(&bad, 0, 1, 50, &p, &f, &e), ERR_UPSTREAM);
    assert_int_equal(f.status, 401);
    assert_string_equal(f.code, "woocommerce_rest_cannot_view");
    assert_false(f.retryable);
    fake_woo_stop(fw);

    /* the secret never travels in clear text to a remote shop */
    struct woo_config plain = {
        .site_url = "http://shop.example", .consumer_key = "ck", .consumer_secret = "cs"};
    err_init(&e);
    assert_int_equal(woo_unfinished_page(&plain, 0, 1, 50, &p, &f, &e), ERR_INVALID);
    assert_string_equal(e.field, "site_url");
}

int main(void)
{
    struct err ge;
    err_init(&ge);
    if (httpc_global_init(&ge))
        return 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_orders)};
    int failed = cmocka_run_group_tests_name("woocommerce", tests, NULL, NULL);
    httpc_global_cleanup();
    return failed ? 1 : 0;
}
