/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the small core modules: arena.h, buf.h, str.h, clock.h, err.h, config.h and
 * log.h (level parsing). Pure, table-driven; config tests set and unset ICESHOP_* variables in
 * this process only.
 */
#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ======================== arena ======================== */

static void test_arena_alloc(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 3, 15, 16, 17, 100, 4000, 4096, 5000, 70000, 1 << 20};
    struct arena a;
    arena_init(&a);
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            unsigned char *p = arena_alloc(&a, sizes[i]);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % 16, 0);
            for (size_t j = 0; j < sizes[i]; j++)
                assert_int_equal(p[j], 0);
            memset(p, 0xAB, sizes[i]); /* ASan catches overlap with the next allocation */
        }
    }
    assert_true(a.used >= 3 * (1 << 20));
    arena_release(&a);
    assert_null(a.head);
    assert_int_equal(a.used, 0);
}

static void test_arena_strings(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    assert_string_equal(arena_strdup(&a, "hello"), "hello");
    assert_string_equal(arena_strdup(&a, ""), "");
    assert_string_equal(arena_strndup(&a, "hello world", 5), "hello");
    assert_string_equal(arena_printf(&a, "%s-%d-%05.1f", "x", 42, 3.14159), "x-42-003.1");
    char big[10000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char *p = arena_printf(&a, "<%s>", big);
    assert_int_equal(strlen(p), sizeof(big) + 1);
    assert_int_equal(p[0], '<');
    assert_int_equal(p[sizeof(big)], '>');
    arena_release(&a);
}

struct defer_log {
    int order[8];
    int n;
};

static struct defer_log dlog;

static void defer_record(void *ptr)
{
    dlog.order[dlog.n++] = *(int *)ptr;
}

static void test_arena_grow(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    int *v = NULL;
    size_t cap = 0, n = 0;
    for (int i = 0; i < 1000; i++) {
        v = arena_grow(&a, v, n, &cap, sizeof(*v));
        assert_true(cap > n);
        v[n++] = i;
    }
    assert_true(cap >= 1000 && cap < 2048);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(v[i], i); /* moves keep every element */
    int *same = arena_grow(&a, v, n, &cap, sizeof(*v));
    assert_ptr_equal(same, v); /* room left: no move */
    arena_release(&a);
}

static void test_arena_defer(void **state)
{
    (void)state;
    static int ids[] = {1, 2, 3, 4};
    struct arena a;
    arena_init(&a);
    memset(&dlog, 0, sizeof(dlog));
    for (int i = 0; i < 4; i++) {
        arena_defer(&a, defer_record, &ids[i]);
        arena_alloc(&a, 3000); /* spread the defers over several blocks */
    }
    assert_int_equal(dlog.n, 0);
    arena_release(&a);
    assert_int_equal(dlog.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(dlog.order[i], 4 - i);

    /* Reuse after release: fresh allocations and defers, nothing re-run. */
    memset(&dlog, 0, sizeof(dlog));
    assert_string_equal(arena_strdup(&a, "again"), "again");
    arena_defer(&a, defer_record, &ids[0]);
    arena_release(&a);
    assert_int_equal(dlog.n, 1);
    assert_int_equal(dlog.order[0], 1);
    arena_release(&a); /* releasing an empty arena is harmless */
    assert_int_equal(dlog.n, 1);
}

/* ======================== buf ======================== */

static void test_buf_append(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(buf_append(&b, "abc", 3), 0);
    assert_int_equal(buf_appends(&b, "def"), 0);
    assert_int_equal(buf_appendf(&b, "-%d-%s", 7, "x"), 0);
    assert_int_equal(buf_append(&b, "", 0), 0);
    assert_string_equal(buf_str(&b), "abcdef-7-x");
    assert_int_equal(b.len, 10);
    /* Growth across many appends keeps the contents. */
    for (int i = 0; i < 100; i++)
        assert_int_equal(buf_appendf(&b, "%d", i % 10), 0);
    assert_int_equal(b.len, 110);
    assert_memory_equal(b.data + 10, "0123456789", 10);
    assert_int_equal(b.data[b.len], '\0');
    buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.max, 1024);
}

static void test_buf_max(void **state)
{
    (void)state;
    struct {
        size_t max, first, second;
        int rc;
    } cases[] = {
        {10, 5, 5, 0},
        {10, 5, 6, ERR_TOO_LARGE},
        {10, 10, 0, 0},
        {10, 0, 11, ERR_TOO_LARGE},
        {0, 0, 1, ERR_TOO_LARGE},
        {0, 0, 0, 0},
    };
    char src[64];
    memset(src, 'q', sizeof(src));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;
        buf_init(&b, cases[i].max);
        assert_int_equal(buf_append(&b, src, cases[i].first), 0);
        assert_int_equal(buf_append(&b, src, cases[i].second), cases[i].rc);
        size_t want = cases[i].first + (cases[i].rc ? 0 : cases[i].second);
        assert_int_equal(b.len, want);
        assert_int_equal(strlen(buf_str(&b)), want);
        buf_release(&b);
    }

    /* appendf past the maximum leaves the buffer unchanged. */
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_appends(&b, "12345"), 0);
    assert_int_equal(buf_appendf(&b, "%s", "6789"), ERR_TOO_LARGE);
    assert_string_equal(buf_str(&b), "12345");
    assert_int_equal(buf_appends(&b, "678"), 0);
    assert_string_equal(buf_str(&b), "12345678");
    assert_int_equal(buf_appendf(&b, "%c", 'x'), ERR_TOO_LARGE);
    assert_int_equal(buf_append(&b, "x", 1), ERR_TOO_LARGE);
    assert_string_equal(buf_str(&b), "12345678");
    buf_release(&b);

    /* A huge length must not wrap around. */
    buf_init(&b, BUF_MAX_REQ_BODY);
    assert_int_equal(buf_appends(&b, "x"), 0);
    assert_int_equal(buf_append(&b, "y", SIZE_MAX), ERR_TOO_LARGE);
    assert_string_equal(buf_str(&b), "x");
    buf_release(&b);
}

static void test_buf_detach_reset(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    size_t len = 99;
    char *p = buf_detach(&b, &len); /* empty buffer: "" */
    assert_string_equal(p, "");
    assert_int_equal(len, 0);
    free(p);

    assert_int_equal(buf_appends(&b, "hello"), 0);
    p = buf_detach(&b, &len);
    assert_string_equal(p, "hello");
    assert_int_equal(len, 5);
    free(p);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 100);
    assert_string_equal(buf_str(&b), "");

    assert_int_equal(buf_appends(&b, "abc"), 0);
    char *mem = b.data;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_ptr_equal(b.data, mem); /* memory kept */
    assert_int_equal(buf_appends(&b, "xy"), 0);
    assert_string_equal(buf_str(&b), "xy");
    buf_reset(&b);
    buf_reset(&b);
    buf_release(&b);
    buf_reset(&b); /* on a released buffer */
    assert_string_equal(buf_str(&b), "");
}

/* ======================== str ======================== */

static void test_str_to_i64(void **state)
{
    (void)state;
    struct {
        const char *s;
        int rc;
        int64_t v;
    } cases[] = {
        {"-5", 0, -5},
        {"0", 0, 0},
        {"42", 0, 42},
        {"+7", 0, 7},
        {"-0", 0, 0},
        {"007", 0, 7},
        {"9223372036854775807", 0, INT64_MAX},
        {"-9223372036854775808", 0, INT64_MIN},
        {"", ERR_INVALID, 0},
        {" 1", ERR_INVALID, 0},
        {"\t1", ERR_INVALID, 0},
        {"\v1", ERR_INVALID, 0},
        {"\r1", ERR_INVALID, 0},
        {"\f1", ERR_INVALID, 0},
        {"1 ", ERR_INVALID, 0},
        {"1\n", ERR_INVALID, 0},
        {"1.5", ERR_INVALID, 0},
        {"0x10", ERR_INVALID, 0},
        {"1e3", ERR_INVALID, 0},
        {"9223372036854775808", ERR_INVALID, 0},
        {"-9223372036854775809", ERR_INVALID, 0},
        {"99999999999999999999999", ERR_INVALID, 0},
        {"abc", ERR_INVALID, 0},
        {"-", ERR_INVALID, 0},
        {"+", ERR_INVALID, 0},
        {"--1", ERR_INVALID, 0},
        {"1-", ERR_INVALID, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t v = 12345;
        int rc = str_to_i64(cases[i].s, &v);
        if (rc != cases[i].rc)
            fail_msg("str_to_i64(\"%s\") = %d, want %d", cases[i].s, rc, cases[i].rc);
        assert_int_equal(v, cases[i].rc ? 12345 : cases[i].v); /* untouched on error */
    }
    int64_t v;
    assert_int_equal(str_to_i64(NULL, &v), ERR_INVALID);
}

static void test_str_range_copy(void **state)
{
    (void)state;
    struct {
        const char *s;
        int64_t lo, hi;
        int rc;
    } cases[] = {
        {"0", 0, 10, 0},
        {"10", 0, 10, 0},
        {"11", 0, 10, ERR_INVALID},
        {"-1", 0, 10, ERR_INVALID},
        {"-1", -1, -1, 0},
        {"x", 0, 10, ERR_INVALID},
        {"65535", 0, 65535, 0},
        {"65536", 0, 65535, ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t v = -99;
        assert_int_equal(str_to_i64_range(cases[i].s, cases[i].lo, cases[i].hi, &v), cases[i].rc);
        if (cases[i].rc)
            assert_int_equal(v, -99);
    }

    char dst[6];
    assert_true(str_copy(dst, sizeof(dst), "abcde"));
    assert_string_equal(dst, "abcde");
    assert_false(str_copy(dst, sizeof(dst), "abcdef"));
    assert_string_equal(dst, "abcde");
    assert_true(str_copy(dst, sizeof(dst), ""));
    assert_string_equal(dst, "");
    assert_false(str_copy(dst, 1, "a"));
    assert_string_equal(dst, "");
    dst[0] = 'k';
    assert_false(str_copy(dst, 0, "a"));
    assert_int_equal(dst[0], 'k');

    assert_true(str_eq("a", "a"));
    assert_false(str_eq("a", "b"));
    assert_false(str_eq("a", NULL));
    assert_true(str_eq(NULL, NULL));
    assert_true(str_has_prefix("isk_abc", "isk_"));
    assert_true(str_has_prefix("abc", ""));
    assert_false(str_has_prefix("is", "isk_"));
}

/* ======================== clock ======================== */

static void test_str_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"", true},
        {"plain", true},
        {"caf\xc3\xa9", true},
        {"\xe2\x82\xac", true},
        {"\xf0\x9f\x98\x80", true},
        {"\xff", false},
        {"\xc3", false},
        {"\xc0\xaf", false},
        {"\xe0\x80\xaf", false},
        {"\xed\xa0\x80", false},
        {"\xf4\x90\x80\x80", false},
        {"a\x80"
         "b",
         false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(str_utf8_valid(cases[i].s, strlen(cases[i].s)), cases[i].ok);
    char out[8];
    str_utf8_scrub(out, sizeof(out),
                   "a\xff\xc3\xa9"
                   "b");
    assert_string_equal(out, "a?\xc3\xa9"
                             "b");
    assert_true(str_utf8_valid(out, strlen(out)));
    /* cut at a character boundary, never inside one */
    str_utf8_scrub(out, 4, "ab\xc3\xa9");
    assert_string_equal(out, "ab");
}

static void test_clock_format(void **state)
{
    (void)state;
    struct {
        int64_t ms;
        const char *iso;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1, "1970-01-01T00:00:00.001Z"},
        {-1, "1969-12-31T23:59:59.999Z"},
        {-1000, "1969-12-31T23:59:59.000Z"},
        {-1001, "1969-12-31T23:59:58.999Z"},
        {951782400000, "2000-02-29T00:00:00.000Z"},
        {1795252200123, "2026-11-21T09:10:00.123Z"},
        {253402300799999, "9999-12-31T23:59:59.999Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[CLOCK_ISO_LEN];
        clock_format_iso(cases[i].ms, out);
        assert_string_equal(out, cases[i].iso);
        int64_t back = 0;
        assert_int_equal(clock_parse_iso(out, &back), 0);
        assert_int_equal(back, cases[i].ms);
    }
}

static void test_clock_parse(void **state)
{
    (void)state;
    const int64_t base = 1795252200000; /* 2026-11-21T09:10:00Z */
    struct {
        const char *s;
        int rc;
        int64_t ms;
    } cases[] = {
        {"2026-11-21T09:10:00Z", 0, base},
        {"2026-11-21t09:10:00z", 0, base},
        {"2026-11-21 09:10:00Z", 0, base},
        {"2026-11-21T09:10:00.5Z", 0, base + 500},
        {"2026-11-21T09:10:00.123Z", 0, base + 123},
        {"2026-11-21T09:10:00.123456Z", 0, base + 123},
        {"2026-11-21T09:10:00.000000001Z", 0, base},
        {"2026-11-21T12:10:00+03:00", 0, base},
        {"2026-11-21T12:10:00+0300", 0, base},
        {"2026-11-21T12:10:00+03", 0, base},
        {"2026-11-21T08:10:00-01", 0, base},
        {"2026-11-21T08:10:00-01:00", 0, base},
        {"2026-11-21T09:10:00+00:00", 0, base},
        {"2026-11-21T09:40:00+00:30", 0, base},
        {"2026-11-21 09:10:00.5+03", 0, base + 500 - 3 * 3600000},
        {"1970-01-01T00:00:00Z", 0, 0},
        {"1969-12-31T23:59:59.999Z", 0, -1},
        {"1970-01-01T01:00:00+01:00", 0, 0},
        {"2024-02-29T00:00:00Z", 0, 1709164800000},
        {"2026-12-31T23:59:60Z", 0, 1798761600000}, /* leap second reads as the next second */
        {"2026-13-01T00:00:00Z", ERR_INVALID, 0},
        {"2026-00-01T00:00:00Z", ERR_INVALID, 0},
        {"2026-01-00T00:00:00Z", ERR_INVALID, 0},
        {"2026-01-32T00:00:00Z", ERR_INVALID, 0},
        {"2026-02-29T00:00:00Z", ERR_INVALID, 0},
        {"2026-02-30T00:00:00Z", ERR_INVALID, 0},
        {"2026-04-31T00:00:00Z", ERR_INVALID, 0},
        {"1900-02-29T00:00:00Z", ERR_INVALID, 0},
        {"2026-11-21T24:00:00Z", ERR_INVALID, 0},
        {"2026-11-21T09:60:00Z", ERR_INVALID, 0},
        {"2026-11-21T09:10:61Z", ERR_INVALID, 0},
        {"2026-11-21T09:10:00", ERR_INVALID, 0},
        {"2026-11-21T09:10:00.123", ERR_INVALID, 0},
        {"2026-11-21T09:10:00Zjunk", ERR_INVALID, 0},
        {"2026-11-21T09:10:00Z ", ERR_INVALID, 0},
        {"2026-11-21T09:10:00+03:00x", ERR_INVALID, 0},
        {"2026-11-21T09:10:00+3", ERR_INVALID, 0},
        {"2026-11-21T09:10:00+03:", ERR_INVALID, 0},
        {"2026-11-21T09:10:00+03:0", ERR_INVALID, 0},
        {"2026-11-21T09:10:00+24:00", ERR_INVALID, 0},
        {"2026-11-21T09:10:00+03:60", ERR_INVALID, 0},
        {"2026-11-21T09:10:00.Z", ERR_INVALID, 0},
        {"2026-11-21X09:10:00Z", ERR_INVALID, 0},
        {"2026-11-21", ERR_INVALID, 0},
        {"2026-11-21T09:10Z", ERR_INVALID, 0},
        {"26-11-21T09:10:00Z", ERR_INVALID, 0},
        {"", ERR_INVALID, 0},
        {"now", ERR_INVALID, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = 777;
        int rc = clock_parse_iso(cases[i].s, &ms);
        if (rc != cases[i].rc)
            fail_msg("clock_parse_iso(\"%s\") = %d, want %d", cases[i].s, rc, cases[i].rc);
        if (rc == 0 && ms != cases[i].ms)
            fail_msg("clock_parse_iso(\"%s\") = %lld ms, want %lld", cases[i].s, (long long)ms,
                     (long long)cases[i].ms);
    }
    int64_t ms;
    assert_int_equal(clock_parse_iso(NULL, &ms), ERR_INVALID);
}

static void test_clock_manual(void **state)
{
    (void)state;
    struct clock c;
    clock_manual_init(&c, 1000);
    assert_int_equal(clock_now_ms(&c), 1000);
    clock_manual_advance(&c, 250);
    assert_int_equal(clock_now_ms(&c), 1250);
    clock_manual_advance(&c, -1250);
    assert_int_equal(clock_now_ms(&c), 0);

    int64_t sys = clock_now_ms(clock_system());
    assert_true(sys > 1700000000000); /* after 2023 */
    int64_t null_clock = clock_now_ms(NULL);
    assert_true(null_clock >= sys && null_clock - sys < 60000);
    int64_t m1 = clock_mono_ns(), m2 = clock_mono_ns();
    assert_true(m2 >= m1);
    assert_true(clock_mono_ms() >= m1 / 1000000);
}

/* ======================== err ======================== */

static void test_err(void **state)
{
    (void)state;
    struct err e;
    err_init(&e);
    assert_int_equal(e.code, ERR_OK);
    assert_string_equal(e.msg, "");
    assert_int_equal(err_set(&e, ERR_NOT_FOUND, "no job %d", 7), ERR_NOT_FOUND);
    assert_string_equal(e.msg, "no job 7");
    assert_string_equal(e.field, "");
    /* The first error wins. */
    assert_int_equal(err_set_field(&e, ERR_INVALID, "x", "later"), ERR_NOT_FOUND);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.msg, "no job 7");
    assert_string_equal(e.field, "");

    err_init(&e);
    assert_int_equal(
        err_set_field(&e, ERR_INVALID, "location.lat", "%s must be a number", "location.lat"),
        ERR_INVALID);
    assert_string_equal(e.field, "location.lat");
    assert_string_equal(e.msg, "location.lat must be a number");

    /* Long messages and fields are truncated, never overflowed. */
    err_init(&e);
    char longs[600];
    memset(longs, 'm', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    err_set_field(&e, ERR_INVALID, longs, "%s", longs);
    assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
    assert_int_equal(strlen(e.field), sizeof(e.field) - 1);

    assert_int_equal(err_set(NULL, ERR_CONFLICT, "ignored"), ERR_CONFLICT);

    /* err_replace overrides what was kept, field included (or cleared). */
    err_init(&e);
    err_set_field(&e, ERR_DB, "raw", "UNIQUE constraint failed: tenants.name");
    assert_int_equal(err_replace(&e, ERR_CONFLICT, "tenant", "tenant %s already exists", "acme"),
                     ERR_CONFLICT);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_string_equal(e.msg, "tenant acme already exists");
    assert_string_equal(e.field, "tenant");
    assert_int_equal(err_replace(&e, ERR_INTERNAL, NULL, "other"), ERR_INTERNAL);
    assert_string_equal(e.field, "");
    assert_int_equal(err_replace(NULL, ERR_CONFLICT, NULL, "ignored"), ERR_CONFLICT);

    struct {
        enum err_code code;
        const char *name;
    } names[] = {
        {ERR_OK, "ok"},
        {ERR_NOMEM, "out_of_memory"},
        {ERR_INVALID, "invalid"},
        {ERR_NOT_FOUND, "not_found"},
        {ERR_NOT_ALLOWED, "method_not_allowed"},
        {ERR_CONFLICT, "conflict"},
        {ERR_UNAUTHORIZED, "unauthorized"},
        {ERR_FORBIDDEN, "forbidden"},
        {ERR_TOO_LARGE, "too_large"},
        {ERR_UNSUPPORTED, "unsupported_media_type"},
        {ERR_RATE_LIMITED, "rate_limited"},
        {ERR_DB, "database_error"},
        {ERR_UPSTREAM, "upstream_error"},
        {ERR_TIMEOUT, "timeout"},
        {ERR_INTERNAL, "internal"},
        {(enum err_code)999, "internal"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_string_equal(err_code_name(names[i].code), names[i].name);
}

/* ======================== config ======================== */

static const char *const config_vars[] = {
    "ICESHOP_LISTEN",
    "ICESHOP_DATABASE_URL",
    "ICESHOP_WORKERS",
    "ICESHOP_HTTP_THREADS",
    "ICESHOP_DB_POOL",
    "ICESHOP_ADMIN_KEY",
    "ICESHOP_LOG_LEVEL",
    "ICESHOP_ACCESS_LOG",
    "ICESHOP_MAX_CONNECTIONS",
    "ICESHOP_MAX_CONNECTIONS_PER_IP",
    "ICESHOP_IDLE_TIMEOUT",
    "ICESHOP_RATE_LIMIT_KEY",
    "ICESHOP_RATE_LIMIT_IP",
    "ICESHOP_SHUTDOWN_GRACE",
    "ICESHOP_TOKEN_TTL",
    "ICESHOP_JOB_RETENTION_DAYS",
    "ICESHOP_JOB_LEASE",
    "ICESHOP_JOB_BACKOFF_MS",
    "ICESHOP_SCHEDULER",
    "ICESHOP_TEST_JOBS",
    "ICESHOP_HEADER_TIMEOUT",
    "ICESHOP_BODY_MIN_RATE",
    "ICESHOP_SQLITE_SYNC",
    "ICESHOP_GROUP_COMMIT",
    "ICESHOP_LOGIN_FREE_FAILURES",
    "ICESHOP_ACCESS_LOG_SAMPLE",
    "ICESHOP_LOG_FILE",
};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(config_vars) / sizeof(config_vars[0]); i++)
        unsetenv(config_vars[i]);
    return 0;
}

static void test_config_defaults(void **state)
{
    (void)state;
    struct config cfg;
    struct err e;
    err_init(&e);
    assert_int_equal(config_load(&cfg, &e), 0);
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 8080);
    assert_string_equal(cfg.database_url, "sqlite://var/iceshop.db");
    assert_int_equal(cfg.workers, 4);
    /* SQLite: group commit on, so more HTTP threads to share its commits */
    assert_int_equal(cfg.http_threads, HTTP_THREADS_GROUP);
    assert_int_equal(cfg.db_pool, HTTP_THREADS_GROUP + 4 + 4);
    assert_string_equal(cfg.admin_key, "");
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_int_equal(cfg.access_log, 1);
    assert_int_equal(cfg.max_connections, 1024);
    assert_int_equal(cfg.idle_timeout_s, 30);
    assert_int_equal(cfg.shutdown_grace_s, 10);
    assert_int_equal(cfg.token_ttl_s, 3600);
    assert_int_equal(cfg.job_prune_days, 7);
    assert_int_equal(cfg.job_lease_s, 30);
    assert_int_equal(cfg.job_backoff_ms, 1000);
    assert_int_equal(cfg.scheduler, 1);
    assert_int_equal(cfg.test_jobs, 0);
    assert_int_equal(cfg.header_timeout_s, 10);
    assert_int_equal(cfg.body_min_rate, 500);
    assert_int_equal(cfg.login_free_failures, 5);
    assert_false(cfg.sqlite_sync_full);
    assert_false(cfg.group_commit_off);
    assert_true(cfg.access_log_sample == 1.0);
    assert_string_equal(cfg.log_file, "");
    assert_int_equal(cfg.trusted_proxies.n, 0);

    /* without group commit (PostgreSQL's default, or turned off) the usual four */
    setenv("ICESHOP_GROUP_COMMIT", "off", 1);
    assert_int_equal(config_load(&cfg, &e), 0);
    assert_int_equal(cfg.http_threads, HTTP_THREADS_DEFAULT);
    assert_int_equal(cfg.db_pool, HTTP_THREADS_DEFAULT + 4 + 4);
    unsetenv("ICESHOP_GROUP_COMMIT");
    setenv("ICESHOP_DATABASE_URL", "postgres://u@localhost/iceshop", 1);
    assert_int_equal(config_load(&cfg, &e), 0);
    assert_int_equal(cfg.http_threads, HTTP_THREADS_DEFAULT);
    unsetenv("ICESHOP_DATABASE_URL");

    /* Empty values count as unset. */
    setenv("ICESHOP_WORKERS", "", 1);
    setenv("ICESHOP_LISTEN", "", 1);
    assert_int_equal(config_load(&cfg, &e), 0);
    assert_int_equal(cfg.workers, 4);
    assert_int_equal(cfg.listen_port, 8080);
    clear_env(NULL);
}

static void test_config_values(void **state)
{
    (void)state;
    setenv("ICESHOP_LISTEN", "0.0.0.0:9090", 1);
    setenv("ICESHOP_DATABASE_URL", "postgres://u@localhost/iceshop", 1);
    setenv("ICESHOP_WORKERS", "0", 1);
    setenv("ICESHOP_HTTP_THREADS", "2", 1);
    setenv("ICESHOP_ADMIN_KEY", "0123456789abcdef", 1);
    setenv("ICESHOP_LOG_LEVEL", "debug", 1);
    setenv("ICESHOP_ACCESS_LOG", "0", 1);
    setenv("ICESHOP_TEST_JOBS", "1", 1);
    setenv("ICESHOP_SQLITE_SYNC", "full", 1);
    setenv("ICESHOP_GROUP_COMMIT", "on", 1);
    setenv("ICESHOP_HEADER_TIMEOUT", "3", 1);
    setenv("ICESHOP_ACCESS_LOG_SAMPLE", "0.25", 1);
    setenv("ICESHOP_LOG_FILE", "/var/log/iceshop/iceshop.log", 1);
    setenv("ICESHOP_TRUSTED_PROXIES", "10.0.0.0/8, ::1", 1);
    struct config cfg;
    struct err e;
    err_init(&e);
    assert_int_equal(config_load(&cfg, &e), 0);
    assert_string_equal(cfg.listen_host, "0.0.0.0");
    assert_int_equal(cfg.listen_port, 9090);
    assert_string_equal(cfg.database_url, "postgres://u@localhost/iceshop");
    assert_int_equal(cfg.workers, 0);
    assert_int_equal(cfg.http_threads, 2);
    assert_int_equal(cfg.db_pool, 2 + 0 + 4);
    assert_string_equal(cfg.admin_key, "0123456789abcdef");
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_int_equal(cfg.access_log, 0);
    assert_int_equal(cfg.test_jobs, 1);
    assert_true(cfg.sqlite_sync_full);
    assert_false(cfg.group_commit_off); /* "on" wins over PostgreSQL's default */
    unsetenv("ICESHOP_GROUP_COMMIT");
    struct config pg_default;
    assert_int_equal(config_load(&pg_default, &e), 0);
    assert_true(pg_default.group_commit_off);
    assert_int_equal(cfg.header_timeout_s, 3);
    assert_true(cfg.access_log_sample == 0.25);
    assert_string_equal(cfg.log_file, "/var/log/iceshop/iceshop.log");
    assert_int_equal(cfg.trusted_proxies.n, 2);
    assert_true(ipnet_list_contains(&cfg.trusted_proxies, "10.9.8.7"));
    assert_false(ipnet_list_contains(&cfg.trusted_proxies, "127.0.0.1"));
    setenv("ICESHOP_DB_POOL", "3", 1);
    setenv("ICESHOP_DATABASE_URL", "postgresql://db/x", 1);
    assert_int_equal(config_load(&cfg, &e), 0);
    assert_int_equal(cfg.db_pool, 3);
    clear_env(NULL);
}

static void test_config_listen(void **state)
{
    (void)state;
    struct {
        const char *s;
        int rc;
        const char *host;
        int port;
    } cases[] = {
        {"127.0.0.1:8080", 0, "127.0.0.1", 8080},
        {"localhost:0", 0, "localhost", 0},
        {"[::1]:65535", 0, "[::1]", 65535},
        {"host:65536", ERR_INVALID, NULL, 0},
        {"host:-1", ERR_INVALID, NULL, 0},
        {"host:", ERR_INVALID, NULL, 0},
        {"host:80x", ERR_INVALID, NULL, 0},
        {"host: 80", ERR_INVALID, NULL, 0},
        {"host", ERR_INVALID, NULL, 0},
        {"8080", ERR_INVALID, NULL, 0},
        {":8080", ERR_INVALID, NULL, 0},
        {"a-very-long-host-name-that-does-not-fit-in-sixty-four-bytes-of-storage.example:1",
         ERR_INVALID, NULL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config cfg;
        struct err e;
        err_init(&e);
        clear_env(NULL);
        setenv("ICESHOP_LISTEN", cases[i].s, 1);
        int rc = config_load(&cfg, &e);
        if (rc != cases[i].rc)
            fail_msg("ICESHOP_LISTEN=%s: rc %d, want %d (%s)", cases[i].s, rc, cases[i].rc, e.msg);
        if (rc == 0) {
            assert_string_equal(cfg.listen_host, cases[i].host);
            assert_int_equal(cfg.listen_port, cases[i].port);
        } else {
            assert_string_equal(e.field, "ICESHOP_LISTEN");
        }
    }
    clear_env(NULL);
}

static void test_config_errors(void **state)
{
    (void)state;
    struct {
        const char *var, *value;
    } cases[] = {
        {"ICESHOP_WORKERS", "abc"},
        {"ICESHOP_WORKERS", "-1"},
        {"ICESHOP_WORKERS", "257"},
        {"ICESHOP_WORKERS", "1.5"},
        {"ICESHOP_WORKERS", " 4"},
        {"ICESHOP_HTTP_THREADS", "0"},
        {"ICESHOP_DB_POOL", "99999"},
        {"ICESHOP_ACCESS_LOG", "yes"},
        {"ICESHOP_MAX_CONNECTIONS", "0"},
        {"ICESHOP_IDLE_TIMEOUT", "0"},
        {"ICESHOP_RATE_LIMIT_KEY", "-5"},
        {"ICESHOP_TOKEN_TTL", "59"},
        {"ICESHOP_JOB_LEASE", "99999999999999999999"},
        {"ICESHOP_SCHEDULER", "2"},
        {"ICESHOP_ADMIN_KEY", "short"},
        {"ICESHOP_ADMIN_KEY", "0123456789abcde"},
        {"ICESHOP_DATABASE_URL", "mysql://localhost/db"},
        {"ICESHOP_DATABASE_URL", "var/iceshop.db"},
        {"ICESHOP_DATABASE_URL", "SQLITE://x.db"},
        {"ICESHOP_LOG_LEVEL", "verbose"},
        {"ICESHOP_LOG_LEVEL", "INFO"},
        {"ICESHOP_SQLITE_SYNC", "FULL"},
        {"ICESHOP_SQLITE_SYNC", "off"},
        {"ICESHOP_GROUP_COMMIT", "0"},
        {"ICESHOP_HEADER_TIMEOUT", "0"},
        {"ICESHOP_BODY_MIN_RATE", "-1"},
        {"ICESHOP_LOGIN_FREE_FAILURES", "0"},
        {"ICESHOP_ACCESS_LOG_SAMPLE", "1.5"},
        {"ICESHOP_ACCESS_LOG_SAMPLE", "-0.1"},
        {"ICESHOP_ACCESS_LOG_SAMPLE", "half"},
        {"ICESHOP_ACCESS_LOG_SAMPLE", "0.5x"},
        {"ICESHOP_ACCESS_LOG_SAMPLE", "nan"},
        {"ICESHOP_TRUSTED_PROXIES", "10.0.0.1/8"},
        {"ICESHOP_TRUSTED_PROXIES", "proxy.internal"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        clear_env(NULL);
        setenv(cases[i].var, cases[i].value, 1);
        struct config cfg;
        struct err e;
        err_init(&e);
        int rc = config_load(&cfg, &e);
        if (rc != ERR_INVALID)
            fail_msg("%s=%s: rc %d, want ERR_INVALID", cases[i].var, cases[i].value, rc);
        assert_int_equal(e.code, ERR_INVALID);
        assert_string_equal(e.field, cases[i].var);
        assert_non_null(strstr(e.msg, cases[i].var));
    }
    /* Too long for the field. */
    clear_env(NULL);
    char longurl[1100] = "sqlite://";
    memset(longurl + 9, 'a', sizeof(longurl) - 10);
    longurl[sizeof(longurl) - 1] = '\0';
    setenv("ICESHOP_DATABASE_URL", longurl, 1);
    struct config cfg;
    struct err e;
    err_init(&e);
    assert_int_equal(config_load(&cfg, &e), ERR_INVALID);
    assert_string_equal(e.field, "ICESHOP_DATABASE_URL");
    clear_env(NULL);
}

/* ======================== log ======================== */

static void test_log_level(void **state)
{
    (void)state;
    struct {
        const char *s;
        int rc;
        enum log_level level;
    } cases[] = {
        {"error", 0, LOG_ERROR},     {"warn", 0, LOG_WARN},      {"info", 0, LOG_INFO},
        {"debug", 0, LOG_DEBUG},     {"", ERR_INVALID, 0},       {"Info", ERR_INVALID, 0},
        {"warning", ERR_INVALID, 0}, {"debug ", ERR_INVALID, 0}, {"trace", ERR_INVALID, 0},
        {NULL, ERR_INVALID, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum log_level l = (enum log_level)42;
        assert_int_equal(log_level_parse(cases[i].s, &l), cases[i].rc);
        assert_int_equal(l, cases[i].rc ? (enum log_level)42 : cases[i].level);
    }
    enum log_level saved = log_get_level();
    log_set_level(LOG_WARN);
    assert_true(log_enabled(LOG_ERROR));
    assert_true(log_enabled(LOG_WARN));
    assert_false(log_enabled(LOG_INFO));
    assert_false(log_enabled(LOG_DEBUG));
    log_set_level(saved);
}

/* Lines go to the log file; after it is moved away, log_reopen starts a new one. */
static void test_log_file_reopen(void **state)
{
    (void)state;
    const char *dir = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
    char path[512], moved[600];
    snprintf(path, sizeof(path), "%s/test_core_%d.log", dir, (int)getpid());
    snprintf(moved, sizeof(moved), "%s.1", path);
    unlink(path);
    unlink(moved);
    struct err e;
    err_init(&e);
    assert_int_equal(log_open_file(path, &e), 0);
    log_raw_line("first line");
    assert_int_equal(rename(path, moved), 0);
    log_raw_line("second line"); /* still the old file until reopened */
    assert_int_equal(log_reopen(&e), 0);
    log_raw_line("third line");
    log_close_file();
    char buf[256];
    FILE *f = fopen(moved, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_string_equal(buf, "first line\nsecond line\n");
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_string_equal(buf, "third line\n");
    /* a path that cannot be opened names the variable */
    assert_int_equal(log_open_file("/nonexistent-dir/x.log", &e), ERR_INVALID);
    assert_string_equal(e.field, "ICESHOP_LOG_FILE");
    log_close_file();
    unlink(path);
    unlink(moved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_alloc),
        cmocka_unit_test(test_arena_strings),
        cmocka_unit_test(test_arena_grow),
        cmocka_unit_test(test_arena_defer),
        cmocka_unit_test(test_buf_append),
        cmocka_unit_test(test_buf_max),
        cmocka_unit_test(test_buf_detach_reset),
        cmocka_unit_test(test_str_to_i64),
        cmocka_unit_test(test_str_range_copy),
        cmocka_unit_test(test_str_utf8),
        cmocka_unit_test(test_clock_format),
        cmocka_unit_test(test_clock_parse),
        cmocka_unit_test(test_clock_manual),
        cmocka_unit_test(test_err),
        cmocka_unit_test_setup_teardown(test_config_defaults, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_config_values, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_config_listen, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_config_errors, clear_env, clear_env),
        cmocka_unit_test(test_log_file_reopen),
        cmocka_unit_test(test_log_level),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
