/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/commerce/commerce.c (commerce.h), the pure rules: order status and
 * what counts as spend, field checks (dates, countries, emails, sources, text), item totals with
 * overflow, and the 12-month climate check; each error names its field.
 */
#include "domain/commerce/commerce.h"
#include "support/check.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

static void test_status(void **state)
{
    (void)state;
    enum commerce_order_status s;
    for (int i = 0; commerce_order_status_names[i]; i++) {
        OK(commerce_order_status_parse(commerce_order_status_names[i], "status", &s, e));
        assert_int_equal(s, i);
    }
    FAILS(ERR_INVALID, commerce_order_status_parse("shipped", "status", &s, e));
    assert_string_equal(check_last.field, "status");
    FAILS(ERR_INVALID, commerce_order_status_parse(NULL, "status", &s, e));
    assert_true(commerce_order_status_counts(COMMERCE_ORDER_PLACED));
    assert_true(commerce_order_status_counts(COMMERCE_ORDER_PAID));
    assert_false(commerce_order_status_counts(COMMERCE_ORDER_CANCELLED));
    assert_false(commerce_order_status_counts(COMMERCE_ORDER_REFUNDED));
}

static void test_field_checks(void **state)
{
    (void)state;
    static const char *const good_dates[] = {"1990-01-31", "2000-02-29", "2024-02-29",
                                             "1999-12-31"};
    static const char *const bad_dates[] = {
        "1990-02-30", "1900-02-29", "2023-02-29", "1990-13-01", "1990-00-10",
        "1990-1-01",  "90-01-01",   "1990/01/01", "1700-01-01", ""};
    for (size_t i = 0; i < sizeof(good_dates) / sizeof(good_dates[0]); i++)
        OK(commerce_date_check(good_dates[i], "birth_date", e));
    for (size_t i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
        FAILS(ERR_INVALID, commerce_date_check(bad_dates[i], "birth_date", e));
        assert_string_equal(check_last.field, "birth_date");
    }
    OK(commerce_date_check(NULL, "birth_date", e));
    OK(commerce_country_check("TR", "country_code", e));
    FAILS(ERR_INVALID, commerce_country_check("tr", "country_code", e));
    FAILS(ERR_INVALID, commerce_country_check("TUR", "country_code", e));
    OK(commerce_email_check("a@b.tr", "email", e));
    FAILS(ERR_INVALID, commerce_email_check("a@@b", "email", e));
    FAILS(ERR_INVALID, commerce_email_check("@b", "email", e));
    FAILS(ERR_INVALID, commerce_email_check("a b@c", "email", e));
    OK(commerce_source_check("shopify-2.eu_1", "source", e));
    FAILS(ERR_INVALID, commerce_source_check("Shopify", "source", e));
    FAILS(ERR_INVALID, commerce_source_check("", "source", e));
    OK(commerce_text_check("İstanbul", "name", true, e));
    FAILS(ERR_INVALID, commerce_text_check(NULL, "name", true, e));
    FAILS(ERR_INVALID, commerce_text_check("a\tb", "name", false, e));
    FAILS(ERR_INVALID, commerce_text_check("\xff", "name", false, e));
    char longer[COMMERCE_TEXT_MAX + 2];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    FAILS(ERR_INVALID, commerce_text_check(longer, "name", false, e));
    assert_string_equal(check_last.field, "name");
}

static void test_items_total(void **state)
{
    (void)state;
    struct commerce_item items[3] = {{.quantity = 2, .unit_price = 1177},
                                     {.quantity = 1, .unit_price = 300},
                                     {.quantity = 3, .unit_price = 0}};
    int64_t total = -1;
    OK(commerce_items_total(items, 3, &total, e));
    assert_int_equal(total, 2654);
    FAILS(ERR_INVALID, commerce_items_total(items, 0, &total, e));
    assert_string_equal(check_last.field, "items");
    items[1].quantity = 0;
    FAILS(ERR_INVALID, commerce_items_total(items, 3, &total, e));
    assert_string_equal(check_last.field, "items[1].quantity");
    items[1].quantity = 1;
    items[2].unit_price = -1;
    FAILS(ERR_INVALID, commerce_items_total(items, 3, &total, e));
    assert_string_equal(check_last.field, "items[2].unit_price");
    items[2].unit_price = INT64_MAX / 2;
    FAILS(ERR_INVALID, commerce_items_total(items, 3, &total, e)); /* 3 x: overflow */
    assert_string_equal(check_last.field, "items[2].unit_price");
    assert_int_equal(total, 2654); /* untouched on error */
}

static void test_climate(void **state)
{
    (void)state;
    struct commerce_climate m[12];
    memset(m, 0, sizeof(m));
    for (int i = 0; i < 12; i++) {
        m[i].month = 12 - i;
        m[i].has_humidity_pct = true;
        m[i].humidity_pct = 70;
    }
    OK(commerce_climate_check(m, 12, e));
    FAILS(ERR_INVALID, commerce_climate_check(m, 11, e));
    assert_string_equal(check_last.field, "months");
    m[4].month = 3; /* month 3 twice, month 8 missing */
    FAILS(ERR_INVALID, commerce_climate_check(m, 12, e));
    assert_string_equal(check_last.field, "months[9].month");
    m[4].month = 8;
    m[6].humidity_pct = 101;
    FAILS(ERR_INVALID, commerce_climate_check(m, 12, e));
    assert_string_equal(check_last.field, "months[6].humidity_pct");
    m[6].humidity_pct = 50;
    m[0].has_rainfall_mm = true;
    m[0].rainfall_mm = -1;
    FAILS(ERR_INVALID, commerce_climate_check(m, 12, e));
    assert_string_equal(check_last.field, "months[0].rainfall_mm");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_field_checks),
        cmocka_unit_test(test_items_total),
        cmocka_unit_test(test_climate),
    };
    return cmocka_run_group_tests_name("commerce", tests, NULL, NULL);
}
