/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/json/settings.h over a small table of its own: defaults, the range check
 * with and without a prefix, JSON out (nested by the dotted names), the strict merge (unknown
 * members at the root and inside a nested object, wrong types, out of range, the caller's own
 * list names), and the lenient decode (wrong or out-of-range stored values keep the default).
 */
#include "json/settings.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

struct conf {
    int count;
    double ratio;
    double w_a, w_b;
    char tail; /* not a setting: never touched */
};

static const struct settings_field fields[] = {
    {"count", SETTINGS_INT, 1, 10, 3, offsetof(struct conf, count), "a count"},
    {"ratio", SETTINGS_NUMBER, 0, 1, 0.25, offsetof(struct conf, ratio), "a share"},
    {"w.a", SETTINGS_NUMBER, 0, 5, 1, offsetof(struct conf, w_a), "weight a"},
    {"w.b", SETTINGS_NUMBER, 0, 5, 2, offsetof(struct conf, w_b), "weight b"},
};
#define N (sizeof(fields) / sizeof(fields[0]))

static json_t *parse(const char *s)
{
    json_t *j = json_loads(s, 0, NULL);
    assert_non_null(j);
    return j;
}

static void test_defaults_and_check(void **state)
{
    (void)state;
    struct conf c;
    memset(&c, 0, sizeof(c));
    c.tail = 'x';
    settings_defaults(fields, N, &c);
    assert_int_equal(c.count, 3);
    assert_true(c.ratio == 0.25 && c.w_a == 1 && c.w_b == 2);
    assert_int_equal(c.tail, 'x');

    struct err e;
    err_init(&e);
    assert_int_equal(settings_check(fields, N, &c, NULL, &e), 0);
    c.w_b = 5.5;
    assert_int_equal(settings_check(fields, N, &c, NULL, &e), ERR_INVALID);
    assert_string_equal(e.field, "w.b");
    assert_string_equal(e.msg, "w.b must be between 0 and 5");
    err_init(&e);
    assert_int_equal(settings_check(fields, N, &c, "rows[2].", &e), ERR_INVALID);
    assert_string_equal(e.field, "rows[2].w.b");
}

static void test_to_json(void **state)
{
    (void)state;
    struct conf c;
    settings_defaults(fields, N, &c);
    c.count = 7;
    json_t *root = json_object();
    settings_to_json(fields, N, &c, root);
    char *s = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(s, "{\"count\":7,\"ratio\":0.25,\"w\":{\"a\":1.0,\"b\":2.0}}");
    free(s);
    assert_true(json_is_integer(settings_member(root, "count")));
    assert_true(json_real_value(settings_member(root, "w.b")) == 2.0);
    assert_null(settings_member(root, "w.c"));
    json_decref(root);
}

static void test_merge(void **state)
{
    (void)state;
    static const char *const lists[] = {"rows", NULL};
    struct {
        const char *patch;
        int rc;
        const char *field; /* on error */
        int count;         /* on success */
        double w_a;
    } cases[] = {
        {"{}", 0, NULL, 3, 1},
        {"{\"count\":10,\"w\":{\"a\":0}}", 0, NULL, 10, 0},
        {"{\"rows\":[]}", 0, NULL, 3, 1}, /* the caller's own member */
        {"{\"count\":11}", ERR_INVALID, "count", 0, 0},
        {"{\"count\":2.5}", ERR_INVALID, "count", 0, 0},
        {"{\"ratio\":\"x\"}", ERR_INVALID, "ratio", 0, 0},
        {"{\"colour\":1}", ERR_INVALID, "colour", 0, 0},
        {"{\"w\":{\"c\":1}}", ERR_INVALID, "w.c", 0, 0},
        {"{\"w\":3}", ERR_INVALID, "w", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct conf c;
        settings_defaults(fields, N, &c);
        json_t *p = parse(cases[i].patch);
        struct err e;
        err_init(&e);
        int rc = settings_merge(fields, N, p, lists, &c, &e);
        json_decref(p);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d, want %d (%s)", cases[i].patch, rc, cases[i].rc, e.msg);
        if (rc) {
            if (strcmp(e.field, cases[i].field) != 0)
                fail_msg("%s: field %s, want %s", cases[i].patch, e.field, cases[i].field);
            continue;
        }
        assert_int_equal(c.count, cases[i].count);
        assert_true(c.w_a == cases[i].w_a);
    }
    struct err e;
    err_init(&e);
    struct conf c;
    json_t *arr = parse("[1]");
    assert_int_equal(settings_merge(fields, N, arr, NULL, &c, &e), ERR_INVALID);
    json_decref(arr);
}

static void test_decode_lenient(void **state)
{
    (void)state;
    struct conf c;
    settings_defaults(fields, N, &c);
    json_t *stored = parse("{\"count\":99,\"ratio\":0.5,\"w\":{\"a\":\"no\",\"b\":4},\"old\":1}");
    settings_decode(fields, N, stored, &c);
    json_decref(stored);
    assert_int_equal(c.count, 3); /* out of today's range: default */
    assert_true(c.ratio == 0.5);
    assert_true(c.w_a == 1); /* wrong type: default */
    assert_true(c.w_b == 4);
    settings_decode(fields, N, NULL, &c); /* nothing stored */
    assert_true(c.w_b == 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_check),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_decode_lenient),
    };
    return cmocka_run_group_tests_name("settings", tests, NULL, NULL);
}
