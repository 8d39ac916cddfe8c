/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/net/shopify.c against the fake Admin GraphQL endpoint
 * (tests/support/fake_shopify.c): pages in update order followed by cursor to the end, the
 * watermark sent as Shopify's search filter, recovery link, totals and completion read, the
 * THROTTLED error turned into a wait from the cost bucket, a refused token, a bad shop domain.
 */
#include "net/shopify.h"
#include "core/clock.h"
#include "net/httpc.h"
#include "support/fake_shopify.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define TOKEN "shpat_test_iceshop"

static void test_pages(void **state)
{
    (void)state;
    struct fake_shopify *fs = fake_shopify_start(TOKEN);
    assert_non_null(fs);
    fake_shopify_add(fs, 3, "2026-12-01T10:30:00Z", NULL, "c@example.com", NULL, "30.00", "TRY");
    fake_shopify_add(fs, 1, "2026-12-01T10:10:00Z", NULL, "a@example.com", "+905330000001",
                     "125.50", "TRY");
    fake_shopify_add(fs, 2, "2026-12-01T10:20:00Z", "2026-12-01T11:00:00Z", "b@example.com", NULL,
                     "12.00", "TRY");
    fake_shopify_add(fs, 5, "2026-12-01T10:50:00Z", NULL, "e@example.com", NULL, "5.00", "EUR");
    fake_shopify_add(fs, 4, "2026-12-01T10:40:00Z", NULL, "d@example.com", NULL, "7.25", "TRY");
    struct shopify_config c = {.base_url = fake_shopify_url(fs), .access_token = TOKEN};
    struct shopify_page p;
    struct shopify_failure f;
    struct err e;
    err_init(&e);
    assert_int_equal(shopify_abandoned_page(&c, 0, NULL, 2, &p, &f, &e), 0);
    assert_int_equal(p.n, 2);
    assert_true(p.has_next);
    assert_string_equal(p.items[0].id, "gid://shopify/AbandonedCheckout/1");
    assert_string_equal(p.items[0].recovery_url, "https://shop.example/checkouts/recover/1");
    assert_int_equal(p.items[0].total.minor, 12550);
    assert_string_equal(p.items[0].total.currency->code, "TRY");
    assert_string_equal(p.items[0].phone, "+905330000001");
    assert_string_equal(p.items[0].first_name, "Ayşe");
    assert_int_equal(p.items[0].n_lines, 1);
    assert_int_equal(p.items[0].lines[0].quantity, 2);
    assert_int_equal(p.items[0].completed_ms, 0);
    int64_t done;
    assert_int_equal(clock_parse_iso("2026-12-01T11:00:00Z", &done), 0);
    assert_int_equal(p.items[1].completed_ms, done); /* checkout 2 was completed */
    assert_true(p.available > 0 && p.restore_rate == 50);
    char cursor[256];
    size_t seen = p.n;
    while (p.has_next) {
        snprintf(cursor, sizeof(cursor), "%s", p.next_cursor);
        assert_int_equal(shopify_abandoned_page(&c, 0, cursor, 2, &p, &f, &e), 0);
        seen += p.n;
    }
    assert_int_equal(seen, 5);
    assert_int_equal(p.items[p.n - 1].total.currency->code[0], 'E'); /* the last one, in EUR */

    /* the watermark: only what changed after it, as Shopify's search syntax */
    int64_t mark;
    assert_int_equal(clock_parse_iso("2026-12-01T10:30:00Z", &mark), 0);
    assert_int_equal(shopify_abandoned_page(&c, mark, NULL, 50, &p, &f, &e), 0);
    char filter[128];
    fake_shopify_last_filter(fs, filter, sizeof(filter));
    assert_non_null(strstr(filter, "updated_at:>'2026-12-01T10:30:00"));
    assert_int_equal(p.n, 2);
    assert_false(p.has_next);

    /* throttled: wait until the bucket holds what the query costs (52 − 12) / 50 s */
    fake_shopify_throttle_next(fs, 12);
    err_init(&e);
    assert_int_equal(shopify_abandoned_page(&c, 0, NULL, 50, &p, &f, &e), ERR_UPSTREAM);
    assert_string_equal(f.code, "THROTTLED");
    assert_true(f.retryable);
    assert_int_equal(f.retry_after_ms, 800);

    /* a refused token is not retried */
    struct shopify_config bad = c;
    bad.access_token = "shpat_wrong";
    err_init(&e);
    assert_int_equal(shopify_abandoned_page(&bad, 0, NULL, 50, &p, &f, &e), ERR_UPSTREAM);
    assert_string_equal(f.code, "ACCESS_DENIED");
    assert_false(f.retryable);
    fake_shopify_stop(fs);

    /* a shop domain that is not one is refused before any request */
    struct shopify_config odd = {.shop_domain = "evil.example/x?", .access_token = TOKEN};
    err_init(&e);
    assert_int_equal(shopify_abandoned_page(&odd, 0, NULL, 50, &p, &f, &e), ERR_INVALID);
    assert_string_equal(e.field, "shop_domain");
}

int main(void)
{
    struct err ge;
    err_init(&ge);
    if (httpc_global_init(&ge))
        return 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_pages)};
    int failed = cmocka_run_group_tests_name("shopify", tests, NULL, NULL);
    httpc_global_cleanup();
    return failed ? 1 : 0;
}
