/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/http/body_cache.c: a hit only at the version stored, tenants and names kept
 * apart, an older version never replacing a newer one, the least recently used slot replaced
 * when full, and copies that outlive the cache's own.
 */
#include "http/body_cache.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool get(int64_t tenant, const char *name, int64_t version, const char *want)
{
    char *b;
    size_t n;
    bool hit = body_cache_get(tenant, name, version, &b, &n);
    if (hit) {
        assert_non_null(want);
        assert_int_equal(n, strlen(want));
        assert_string_equal(b, want);
        free(b);
    }
    return hit;
}

static void test_versions_and_keys(void **state)
{
    (void)state;
    body_cache_clear();
    assert_false(get(1, "a", 1, NULL));
    body_cache_put(1, "a", 5, "five", 4);
    assert_true(get(1, "a", 5, "five"));
    assert_false(get(1, "a", 6, NULL)); /* moved on: rebuild */
    assert_false(get(2, "a", 5, NULL)); /* another tenant */
    assert_false(get(1, "b", 5, NULL)); /* another body */
    body_cache_put(1, "a", 6, "six", 3);
    assert_true(get(1, "a", 6, "six"));
    assert_false(get(1, "a", 5, NULL));
    body_cache_put(1, "a", 4, "four", 4); /* a slow builder of an older version loses */
    assert_true(get(1, "a", 6, "six"));
    /* the copy is the caller's */
    char *b;
    size_t n;
    assert_true(body_cache_get(1, "a", 6, &b, &n));
    body_cache_clear();
    assert_string_equal(b, "six");
    free(b);
}

static void test_full_replaces_least_recent(void **state)
{
    (void)state;
    body_cache_clear();
    for (int t = 1; t <= BODY_CACHE_SLOTS; t++)
        body_cache_put(t, "w", 1, "x", 1);
    assert_true(get(1, "w", 1, "x")); /* tenant 1 is now the most recent */
    body_cache_put(BODY_CACHE_SLOTS + 1, "w", 1, "y", 1);
    assert_true(get(1, "w", 1, "x"));
    assert_false(get(2, "w", 1, NULL)); /* the least recently used went */
    assert_true(get(BODY_CACHE_SLOTS + 1, "w", 1, "y"));
    body_cache_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_and_keys),
        cmocka_unit_test(test_full_replaces_least_recent),
    };
    return cmocka_run_group_tests_name("body_cache", tests, NULL, NULL);
}
