/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for privacy_subject_parse (src/platform/privacy.c): phones and emails normalised,
 * and every malformed form refused naming its field (the rest is tested over HTTP in
 * tests/integration/0021-privacy.c).
 */
#include "platform/privacy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

static void test_subject(void **state)
{
    (void)state;
    struct privacy_subject p;
    struct err e;
    err_init(&e);
    assert_int_equal(privacy_subject_parse("905321234567", NULL, &p, &e), 0);
    assert_string_equal(p.phone, "+905321234567");
    assert_string_equal(p.email, "");
    assert_int_equal(privacy_subject_parse("+905321234567", "Ayse.K@Example.COM", &p, &e), 0);
    assert_string_equal(p.phone, "+905321234567");
    assert_string_equal(p.email, "ayse.k@example.com");
    assert_int_equal(privacy_subject_parse(NULL, "first_last%x@example.com", &p, &e), 0);
    assert_string_equal(p.email, "first_last%x@example.com"); /* wildcards are escaped in LIKE */
    static const struct {
        const char *phone, *email, *field;
    } bad[] = {
        {NULL, NULL, "phone"},
        {"", "", "phone"},
        {"+90 532 123", NULL, "phone"},
        {"1234567", NULL, "phone"},
        {"1234567890123456", NULL, "phone"},
        {NULL, "no-at-sign", "email"},
        {NULL, "a@b@c", "email"},
        {NULL, "a\"b@c.d", "email"},
        {NULL, "a b@c.d", "email"},
        {NULL, "@c.d", "email"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_init(&e);
        if (privacy_subject_parse(bad[i].phone, bad[i].email, &p, &e) != ERR_INVALID)
            fail_msg("case %zu accepted", i);
        assert_string_equal(e.field, bad[i].field);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_subject)};
    return cmocka_run_group_tests_name("privacy", tests, NULL, NULL);
}
