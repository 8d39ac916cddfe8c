/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/core/gzip.c: what gzip_compress writes inflates (through zlib, as a client
 * would) to the input, for empty, small, repetitive and incompressible inputs, and carries the
 * gzip magic; a too-small output buffer is an error, not a truncated stream; Accept-Encoding
 * is read by RFC 9110's grammar.
 */
#include "core/gzip.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Inflate a gzip member; returns the length, the bytes in *out (malloc'd). */
static size_t gunzip(const char *in, size_t len, char **out)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    int zr;
    do {
        if (cap - n < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        z.next_out = (Bytef *)buf + n;
        z.avail_out = (uInt)(cap - n);
        zr = inflate(&z, Z_NO_FLUSH);
        assert_true(zr == Z_OK || zr == Z_STREAM_END);
        n = cap - z.avail_out;
    } while (zr != Z_STREAM_END);
    assert_int_equal(z.avail_in, 0); /* one member, nothing after it */
    inflateEnd(&z);
    *out = buf;
    return n;
}

static void round_trip(const char *in, size_t len)
{
    struct buf b;
    buf_init(&b, BUF_MAX_RESPONSE);
    struct err e;
    err_init(&e);
    assert_int_equal(gzip_compress(in, len, &b, &e), 0);
    assert_true(b.len >= 18); /* header and trailer */
    assert_int_equal((unsigned char)b.data[0], 0x1f);
    assert_int_equal((unsigned char)b.data[1], 0x8b);
    char *back;
    assert_int_equal(gunzip(b.data, b.len, &back), len);
    if (len)
        assert_memory_equal(back, in, len);
    free(back);
    buf_release(&b);
}

static void test_round_trips(void **state)
{
    (void)state;
    round_trip("", 0);
    round_trip("{}", 2);
    /* a window list: repetitive JSON, several chunks of output */
    struct buf j;
    buf_init(&j, BUF_MAX_RESPONSE);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(
            buf_appendf(&j, "{\"id\":%d,\"seller\":\"Kahve Dünyası\",\"discount\":20},", i), 0);
    round_trip(j.data, j.len);
    struct buf z;
    buf_init(&z, BUF_MAX_RESPONSE);
    struct err e;
    err_init(&e);
    assert_int_equal(gzip_compress(j.data, j.len, &z, &e), 0);
    assert_true(z.len * 5 < j.len);
    buf_release(&z);
    buf_release(&j);
    /* incompressible bytes: more output than input, still whole */
    size_t n = 200000;
    char *noise = malloc(n);
    assert_non_null(noise);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise[i] = (char)(x & 0xff);
    }
    round_trip(noise, n);
    free(noise);
}

static void test_limit(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    struct err e;
    err_init(&e);
    char in[4096];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (char)(i * 7919 % 251);
    assert_int_equal(gzip_compress(in, sizeof(in), &b, &e), ERR_TOO_LARGE);
    assert_non_null(strstr(e.msg, "limit"));
    buf_release(&b);
}

static void test_accept_encoding(void **state)
{
    (void)state;
    assert_false(gzip_accepted(NULL));
    assert_false(gzip_accepted(""));
    assert_true(gzip_accepted("gzip"));
    assert_true(gzip_accepted("GZip"));
    assert_true(gzip_accepted("x-gzip"));
    assert_true(gzip_accepted("gzip, deflate, br"));
    assert_true(gzip_accepted("br;q=1.0, gzip;q=0.8, *;q=0.1"));
    assert_true(gzip_accepted("deflate , gzip ; q=0.5"));
    assert_true(gzip_accepted("*"));
    assert_true(gzip_accepted("identity, *;q=0.5"));
    assert_false(gzip_accepted("identity"));
    assert_false(gzip_accepted("deflate, br"));
    assert_false(gzip_accepted("gzip;q=0"));
    assert_false(gzip_accepted("gzip;q=0.000"));
    assert_false(gzip_accepted("*;q=0"));
    assert_false(gzip_accepted("gzip;q=0, *")); /* gzip named: its own weight wins */
    assert_false(gzip_accepted("gzipx, xgzip"));
    assert_false(gzip_accepted("gzip;q=abc"));
    assert_false(gzip_accepted("gzip;q=2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_accept_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
