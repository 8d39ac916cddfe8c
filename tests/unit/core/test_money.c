/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/core/money.c: currency lookup, decimal parsing (exponents 0, 2, 3, 4,
 * signs, bad syntax, overflow at the int64 edges), formatting back, and addition. Table-driven.
 */
#include "core/money.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

static void test_currencies(void **state)
{
    (void)state;
    static const struct {
        const char *code;
        int exponent; /* -1: refused */
    } cases[] = {
        {"TRY", 2}, {"USD", 2}, {"EUR", 2},  {"JPY", 0},  {"KWD", 3},  {"CLF", 4},
        {"BHD", 3}, {"GBP", 2}, {"KRW", 0},  {"try", -1}, {"TR", -1},  {"TRYY", -1},
        {"", -1},   {NULL, -1}, {"XXX", -1}, {"AAA", -1}, {"ZZZ", -1}, {"T1Y", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err e;
        err_init(&e);
        const struct money_currency *c = (const void *)1;
        int rc = money_currency_find(cases[i].code, &c, &e);
        if (cases[i].exponent < 0) {
            assert_int_equal(rc, ERR_INVALID);
            assert_string_equal(e.field, "currency");
            assert_null(c);
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(c->code, cases[i].code);
            assert_int_equal(c->exponent, cases[i].exponent);
        }
    }
}

#define NEG MONEY_ALLOW_NEGATIVE

static void test_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *currency;
        unsigned flags;
        int rc;
        const char *field; /* on error */
        int64_t minor;     /* on success */
    } cases[] = {
        {"12.50", "TRY", 0, 0, NULL, 1250},
        {"12", "TRY", 0, 0, NULL, 1200},
        {"0.5", "TRY", 0, 0, NULL, 50},
        {"0.05", "TRY", 0, 0, NULL, 5},
        {"0", "TRY", 0, 0, NULL, 0},
        {"007.10", "USD", 0, 0, NULL, 710},
        {"1200", "JPY", 0, 0, NULL, 1200},
        {"1.234", "KWD", 0, 0, NULL, 1234},
        {"1.2", "KWD", 0, 0, NULL, 1200},
        {"0.0001", "CLF", 0, 0, NULL, 1},
        {"-0.5", "TRY", NEG, 0, NULL, -50},
        {"-0", "TRY", NEG, 0, NULL, 0},
        {"-12", "JPY", NEG, 0, NULL, -12},
        /* the int64 edges */
        {"92233720368547758.07", "TRY", 0, 0, NULL, INT64_MAX},
        {"92233720368547758.08", "TRY", 0, ERR_INVALID, "amount", 0},
        {"-92233720368547758.08", "TRY", NEG, 0, NULL, INT64_MIN},
        {"-92233720368547758.09", "TRY", NEG, ERR_INVALID, "amount", 0},
        {"9223372036854775807", "JPY", 0, 0, NULL, INT64_MAX},
        {"9223372036854775808", "JPY", 0, ERR_INVALID, "amount", 0},
        {"-9223372036854775808", "JPY", NEG, 0, NULL, INT64_MIN},
        {"92233720368547758070", "TRY", 0, ERR_INVALID, "amount", 0},
        {"922337203685477581", "TRY", 0, ERR_INVALID, "amount", 0}, /* overflows when scaled */
        {"99999999999999999999999999", "USD", 0, ERR_INVALID, "amount", 0},
        /* too many decimals */
        {"12.505", "TRY", 0, ERR_INVALID, "amount", 0},
        {"12.5", "JPY", 0, ERR_INVALID, "amount", 0},
        {"12.0", "JPY", 0, ERR_INVALID, "amount", 0},
        {"1.2345", "KWD", 0, ERR_INVALID, "amount", 0},
        /* signs */
        {"-1", "TRY", 0, ERR_INVALID, "amount", 0},
        {"+1", "TRY", NEG, ERR_INVALID, "amount", 0},
        {"--1", "TRY", NEG, ERR_INVALID, "amount", 0},
        {"-", "TRY", NEG, ERR_INVALID, "amount", 0},
        /* syntax */
        {"", "TRY", 0, ERR_INVALID, "amount", 0},
        {NULL, "TRY", 0, ERR_INVALID, "amount", 0},
        {".5", "TRY", 0, ERR_INVALID, "amount", 0},
        {"5.", "TRY", 0, ERR_INVALID, "amount", 0},
        {".", "TRY", 0, ERR_INVALID, "amount", 0},
        {"1,50", "TRY", 0, ERR_INVALID, "amount", 0},
        {"1.000,50", "TRY", 0, ERR_INVALID, "amount", 0},
        {" 1", "TRY", 0, ERR_INVALID, "amount", 0},
        {"1 ", "TRY", 0, ERR_INVALID, "amount", 0},
        {"1e3", "TRY", 0, ERR_INVALID, "amount", 0},
        {"0x10", "TRY", 0, ERR_INVALID, "amount", 0},
        {"1.2.3", "TRY", 0, ERR_INVALID, "amount", 0},
        {"NaN", "TRY", 0, ERR_INVALID, "amount", 0},
        /* currency first */
        {"12.50", "XYZ", 0, ERR_INVALID, "currency", 0},
        {"12.50", "try", 0, ERR_INVALID, "currency", 0},
        {"garbage", NULL, 0, ERR_INVALID, "currency", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err e;
        err_init(&e);
        struct money m = {.minor = 777, .currency = NULL};
        int rc = money_parse(cases[i].text, cases[i].currency, cases[i].flags, &m, &e);
        if (rc != cases[i].rc)
            fail_msg("case %zu \"%s\" %s: rc %d, want %d (%s)", i,
                     cases[i].text ? cases[i].text : "(null)", cases[i].currency, rc, cases[i].rc,
                     e.msg);
        if (rc) {
            assert_string_equal(e.field, cases[i].field);
            assert_int_equal(m.minor, 777); /* untouched */
            continue;
        }
        if (m.minor != cases[i].minor)
            fail_msg("case %zu \"%s\": %lld, want %lld", i, cases[i].text, (long long)m.minor,
                     (long long)cases[i].minor);
        assert_string_equal(m.currency->code, cases[i].currency);
    }
}

static void test_format(void **state)
{
    (void)state;
    static const struct {
        int64_t minor;
        const char *currency;
        const char *text;
    } cases[] = {
        {1250, "TRY", "12.50"},
        {1200, "TRY", "12.00"},
        {50, "TRY", "0.50"},
        {5, "TRY", "0.05"},
        {0, "TRY", "0.00"},
        {-5, "TRY", "-0.05"},
        {-1250, "EUR", "-12.50"},
        {1200, "JPY", "1200"},
        {0, "JPY", "0"},
        {-7, "JPY", "-7"},
        {1234, "KWD", "1.234"},
        {1, "KWD", "0.001"},
        {1, "CLF", "0.0001"},
        {INT64_MAX, "TRY", "92233720368547758.07"},
        {INT64_MIN, "TRY", "-92233720368547758.08"},
        {INT64_MIN, "JPY", "-9223372036854775808"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err e;
        err_init(&e);
        struct money m;
        assert_int_equal(money_from_minor(cases[i].minor, cases[i].currency, &m, &e), 0);
        char buf[MONEY_TEXT_MAX];
        assert_int_equal(money_format(&m, buf, sizeof(buf), &e), 0);
        assert_string_equal(buf, cases[i].text);
        /* and back: parse(format(m)) == m */
        struct money back;
        assert_int_equal(money_parse(buf, cases[i].currency, MONEY_ALLOW_NEGATIVE, &back, &e), 0);
        assert_true(money_eq(&back, &m));
    }

    /* a buffer too small is an error, never a cut amount */
    struct err e;
    err_init(&e);
    struct money m;
    assert_int_equal(money_from_minor(1250, "TRY", &m, &e), 0);
    char small[5];
    assert_int_equal(money_format(&m, small, sizeof(small), &e), ERR_INVALID);
    assert_string_equal(e.field, "amount");
    char exact[6];
    err_init(&e);
    assert_int_equal(money_format(&m, exact, sizeof(exact), &e), 0);
    assert_string_equal(exact, "12.50");
    err_init(&e);
    assert_int_equal(money_from_minor(1, "ABC", &m, &e), ERR_INVALID);
    assert_string_equal(e.field, "currency");
}

static void test_add(void **state)
{
    (void)state;
    struct err e;
    err_init(&e);
    struct money a, b, c, sum;
    assert_int_equal(money_parse("12.50", "TRY", 0, &a, &e), 0);
    assert_int_equal(money_parse("0.75", "TRY", 0, &b, &e), 0);
    assert_int_equal(money_parse("0.75", "EUR", 0, &c, &e), 0);
    assert_int_equal(money_add(&a, &b, &sum, &e), 0);
    assert_int_equal(sum.minor, 1325);
    assert_string_equal(sum.currency->code, "TRY");
    assert_int_equal(money_add(&a, &c, &sum, &e), ERR_INVALID);
    assert_string_equal(e.field, "currency");
    assert_int_equal(sum.minor, 1325); /* untouched */
    err_init(&e);
    struct money big;
    assert_int_equal(money_from_minor(INT64_MAX, "TRY", &big, &e), 0);
    assert_int_equal(money_add(&big, &b, &sum, &e), ERR_INVALID);
    assert_string_equal(e.field, "amount");
    assert_false(money_eq(&b, &c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_currencies),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_add),
    };
    return cmocka_run_group_tests_name("money", tests, NULL, NULL);
}
