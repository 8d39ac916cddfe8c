/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/core/sigv4.c against AWS's published Signature Version 4 examples for S3
 * (the presigned GET of examplebucket/test.txt and the header-signed GET with a Range), plus
 * the URI encoding rules and every rejection path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/sigv4.h"

#include <string.h>

/* AWS documentation: "Authenticating Requests: Using Query Parameters" and "Examples" (GET). */
#define EX_ACCESS "AKIAIOSFODNN7EXAMPLE"
#define EX_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EX_NOW    1369353600 /* 2013-05-24T00:00:00Z */
#define EX_HOST   "examplebucket.s3.amazonaws.com"
#define EX_EMPTY  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct sigv4_key ex_key = {EX_ACCESS, EX_SECRET, "us-east-1", "s3"};

static void presign_example(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out, 4096);
    struct err e;
    err_init(&e);
    assert_int_equal(
        sigv4_presign(&ex_key, "https", "GET", EX_HOST, "/test.txt", EX_NOW, 86400, &out, &e), 0);
    assert_string_equal(
        buf_str(&out),
        "https://examplebucket.s3.amazonaws.com/test.txt"
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    buf_release(&out);
}

/* Any change to what is signed changes the signature: method, expiry, path, time. */
static void presign_binds_its_inputs(void **state)
{
    (void)state;
    const char *sig = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    struct {
        const char *method, *path;
        int64_t now, expires;
    } cases[] = {
        {"PUT", "/test.txt", EX_NOW, 86400},
        {"GET", "/test.txt", EX_NOW, 600},
        {"GET", "/test2.txt", EX_NOW, 86400},
        {"GET", "/test.txt", EX_NOW + 1, 86400},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf out;
        buf_init(&out, 4096);
        struct err e;
        err_init(&e);
        assert_int_equal(sigv4_presign(&ex_key, "https", cases[i].method, EX_HOST, cases[i].path,
                                       cases[i].now, cases[i].expires, &out, &e),
                         0);
        assert_null(strstr(buf_str(&out), sig));
        assert_non_null(strstr(buf_str(&out), "X-Amz-Signature="));
        buf_release(&out);
    }
}

static void header_example(void **state)
{
    (void)state;
    const struct sigv4_header h[] = {
        {"Host", EX_HOST},
        {"Range", "bytes=0-9"},
        {"x-amz-content-sha256", EX_EMPTY},
        {"x-amz-date", "20130524T000000Z"},
    };
    char out[512];
    struct err e;
    err_init(&e);
    assert_int_equal(sigv4_authorization(&ex_key, "GET", "/test.txt", "", h, 4, EX_EMPTY, EX_NOW,
                                         out, sizeof(out), &e),
                     0);
    assert_string_equal(
        out, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
             "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
             "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    /* header order and name case do not matter; values are trimmed */
    const struct sigv4_header h2[] = {
        {"X-AMZ-DATE", "20130524T000000Z"},
        {"range", "  bytes=0-9 "},
        {"host", EX_HOST},
        {"X-Amz-Content-Sha256", EX_EMPTY},
    };
    char out2[512];
    assert_int_equal(sigv4_authorization(&ex_key, "GET", "/test.txt", "", h2, 4, EX_EMPTY, EX_NOW,
                                         out2, sizeof(out2), &e),
                     0);
    assert_string_equal(out, out2);
}

static void uri_encoding(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 256);
    const char *s = "a/b c~d.e-f_g+h%é";
    assert_int_equal(sigv4_uri_encode(&b, s, strlen(s), true), 0);
    assert_string_equal(buf_str(&b), "a/b%20c~d.e-f_g%2Bh%25%C3%A9");
    buf_reset(&b);
    assert_int_equal(sigv4_uri_encode(&b, "x/y", 3, false), 0);
    assert_string_equal(buf_str(&b), "x%2Fy");
    buf_release(&b);
}

static void rejections(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out, 4096);
    struct err e;
    struct sigv4_key nokey = {"", EX_SECRET, "us-east-1", "s3"};
    struct sigv4_key nosecret = {EX_ACCESS, "", "us-east-1", "s3"};
    char huge[SIGV4_MAX_SECRET + 2];
    memset(huge, 'k', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    struct sigv4_key longsecret = {EX_ACCESS, huge, "us-east-1", "s3"};
    struct {
        const struct sigv4_key *k;
        const char *scheme, *host, *path;
        int64_t expires;
        const char *msg;
    } cases[] = {
        {&nokey, "https", EX_HOST, "/x", 600, "access key"},
        {&nosecret, "https", EX_HOST, "/x", 600, "secret key"},
        {&longsecret, "https", EX_HOST, "/x", 600, "longer than"},
        {&ex_key, "ftp", EX_HOST, "/x", 600, "scheme"},
        {&ex_key, "https", "a/b", "/x", 600, "host"},
        {&ex_key, "https", EX_HOST, "x", 600, "path"},
        {&ex_key, "https", EX_HOST, "/x", 0, "expiry"},
        {&ex_key, "https", EX_HOST, "/x", SIGV4_MAX_EXPIRES + 1, "expiry"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err_init(&e);
        assert_int_equal(sigv4_presign(cases[i].k, cases[i].scheme, "GET", cases[i].host,
                                       cases[i].path, EX_NOW, cases[i].expires, &out, &e),
                         ERR_INVALID);
        if (!strstr(e.msg, cases[i].msg))
            fail_msg("case %zu: '%s' does not name %s", i, e.msg, cases[i].msg);
    }
    assert_int_equal(out.len, 0);
    const struct sigv4_header dup[] = {{"Host", "a"}, {"host", "b"}};
    char auth[512];
    err_init(&e);
    assert_int_equal(sigv4_authorization(&ex_key, "GET", "/x", "", dup, 2, EX_EMPTY, EX_NOW, auth,
                                         sizeof(auth), &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "twice"));
    const struct sigv4_header crlf[] = {{"Host", "a\r\nX: y"}};
    err_init(&e);
    assert_int_equal(sigv4_authorization(&ex_key, "GET", "/x", "", crlf, 1, EX_EMPTY, EX_NOW, auth,
                                         sizeof(auth), &e),
                     ERR_INVALID);
    const struct sigv4_header ok[] = {{"Host", "a"}};
    err_init(&e);
    assert_int_equal(
        sigv4_authorization(&ex_key, "GET", "/x", "", ok, 1, EX_EMPTY, EX_NOW, auth, 16, &e),
        ERR_TOO_LARGE);
    buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(presign_example), cmocka_unit_test(presign_binds_its_inputs),
        cmocka_unit_test(header_example),  cmocka_unit_test(uri_encoding),
        cmocka_unit_test(rejections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
