/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/core/token.c: the RFC 7515 appendix A.1 HS256 vector, sign/verify round
 * trip, and rejection of tampered, unsigned ("alg":"none"), expired and malformed tokens.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/crypto.h"
#include "core/token.h"

#include <stdlib.h>
#include <string.h>

/* RFC 7515 A.1 (see /work/shared/fixtures/jwt_hmac/rfc7515_a1_hs256.json) */
static const char a1_key_b64url[] =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
static const char a1_token[] = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
                               ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcG"
                               "xlLmNvbS9pc19yb290Ijp0cnVlfQ"
                               ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
static const char a1_payload[] =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
#define A1_EXP 1300819380

static const unsigned char key32[32] = "0123456789abcdef0123456789abcdef";

struct fixture {
    struct arena a;
    unsigned char a1_key[64];
    size_t a1_key_len;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    arena_init(&f->a);
    if (sec_b64_decode(f->a1_key, sizeof(f->a1_key), &f->a1_key_len, SEC_B64_URL, a1_key_b64url,
                       strlen(a1_key_b64url), NULL))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    arena_release(&f->a);
    free(f);
    return 0;
}

static void expect_unauthorized(struct fixture *f, const char *token, int64_t now, const char *why)
{
    struct err e;
    err_init(&e);
    char *claims = (char *)"untouched";
    int rc = token_verify(&f->a, key32, sizeof(key32), token, now, &claims, &e);
    if (getenv("TEST_VERBOSE"))
        print_message("%s -> %s\n", why, e.msg);
    if (rc != ERR_UNAUTHORIZED)
        fail_msg("%s: rc %d (%s)", why, rc, e.msg);
    assert_int_equal(e.code, ERR_UNAUTHORIZED);
    assert_true(e.msg[0] != '\0');
    assert_null(claims);
}

static void test_rfc7515_a1(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->a1_key_len, 64);
    struct err e;
    err_init(&e);
    char *claims = NULL;
    int rc = token_verify(&f->a, f->a1_key, f->a1_key_len, a1_token, A1_EXP - 1, &claims, &e);
    if (rc)
        fail_msg("a1: %s", e.msg);
    /* the exact payload bytes, CR LF and all */
    assert_string_equal(claims, a1_payload);

    /* at and after exp it is expired */
    err_init(&e);
    assert_int_equal(token_verify(&f->a, f->a1_key, f->a1_key_len, a1_token, A1_EXP, NULL, &e),
                     ERR_UNAUTHORIZED);
    assert_non_null(strstr(e.msg, "expired"));

    /* the right token under another key is forged */
    err_init(&e);
    assert_int_equal(token_verify(&f->a, key32, sizeof(key32), a1_token, A1_EXP - 1, NULL, &e),
                     ERR_UNAUTHORIZED);
    assert_non_null(strstr(e.msg, "signature"));
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    const char *claims_in = "{\"sub\":\"usr_1\",\"role\":\"seller\",\"exp\":2000000000}";
    char *tok = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(token_sign(&f->a, key32, sizeof(key32), claims_in, &tok, &e), 0);
    assert_non_null(tok);
    /* fixed header {"alg":"HS256","typ":"JWT"} */
    assert_true(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37) == 0);
    assert_null(strchr(tok, '='));

    char *claims = NULL;
    assert_int_equal(token_verify(&f->a, key32, sizeof(key32), tok, 1999999999, &claims, &e), 0);
    assert_string_equal(claims, claims_in);
    /* claims pointer may be omitted */
    assert_int_equal(token_verify(&f->a, key32, sizeof(key32), tok, 1700000000, NULL, &e), 0);
    expect_unauthorized(f, tok, 2000000000, "expired at exp");
    expect_unauthorized(f, tok, 2000000001, "expired after exp");

    /* a real-valued exp works too */
    assert_int_equal(token_sign(&f->a, key32, sizeof(key32), "{\"exp\":1500.5}", &tok, &e), 0);
    assert_int_equal(token_verify(&f->a, key32, sizeof(key32), tok, 1500, NULL, &e), 0);
    expect_unauthorized(f, tok, 1501, "real exp passed");

    /* nbf in the future */
    assert_int_equal(
        token_sign(&f->a, key32, sizeof(key32), "{\"exp\":3000,\"nbf\":2000}", &tok, &e), 0);
    expect_unauthorized(f, tok, 1999, "before nbf");
    assert_int_equal(token_verify(&f->a, key32, sizeof(key32), tok, 2000, NULL, &e), 0);
}

static void test_sign_rejects(void **state)
{
    struct fixture *f = *state;
    char *tok = (char *)"untouched";
    struct err e;
    err_init(&e);
    assert_int_equal(token_sign(&f->a, key32, 16, "{\"exp\":1}", &tok, &e), ERR_INVALID);
    assert_null(tok);
    err_init(&e);
    assert_int_equal(token_sign(&f->a, key32, sizeof(key32), "[1,2]", &tok, &e), ERR_INVALID);
    err_init(&e);
    assert_int_equal(token_sign(&f->a, key32, sizeof(key32), "{bad json", &tok, &e), ERR_INVALID);
    /* huge claims */
    size_t n = TOKEN_MAX_LEN;
    char *big = arena_alloc(&f->a, n + 32);
    memcpy(big, "{\"x\":\"", 6);
    memset(big + 6, 'a', n);
    memcpy(big + 6 + n, "\"}", 3);
    err_init(&e);
    assert_int_equal(token_sign(&f->a, key32, sizeof(key32), big, &tok, &e), ERR_TOO_LARGE);
    /* a short key on the verify side is a configuration bug, not a client error */
    err_init(&e);
    assert_int_equal(token_verify(&f->a, key32, 8, a1_token, 0, NULL, &e), ERR_INTERNAL);
}

/* Build "h.p.s" from JSON header and payload texts, signed with key32 unless sig is given. */
static char *forge(struct fixture *f, const char *header, const char *payload, const char *sig)
{
    char *h = arena_alloc(&f->a, SEC_B64_SIZE(strlen(header)));
    char *p = arena_alloc(&f->a, SEC_B64_SIZE(strlen(payload)));
    assert_int_equal(
        sec_b64_encode(h, SEC_B64_SIZE(strlen(header)), SEC_B64_URL, header, strlen(header), NULL),
        0);
    assert_int_equal(sec_b64_encode(p, SEC_B64_SIZE(strlen(payload)), SEC_B64_URL, payload,
                                    strlen(payload), NULL),
                     0);
    char *input = arena_printf(&f->a, "%s.%s", h, p);
    if (sig)
        return arena_printf(&f->a, "%s.%s", input, sig);
    char mac[SEC_HMAC_SHA256_B64_SIZE];
    sec_hmac_sha256_b64(mac, SEC_B64_URL, key32, sizeof(key32), input, strlen(input));
    return arena_printf(&f->a, "%s.%s", input, mac);
}

static void test_rejects(void **state)
{
    struct fixture *f = *state;
    const char *hs = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    const char *claims = "{\"sub\":\"usr_1\",\"exp\":2000000000}";
    int64_t now = 1700000000;
    char *good = forge(f, hs, claims, NULL);
    struct err e;
    err_init(&e);
    assert_int_equal(token_verify(&f->a, key32, sizeof(key32), good, now, NULL, &e), 0);

    /* tampered payload: swap in another payload, keep header and signature */
    char *other = forge(f, hs, "{\"sub\":\"usr_2\",\"exp\":2000000000}", NULL);
    const char *gd1 = strchr(good, '.'), *gd2 = strrchr(good, '.');
    const char *od1 = strchr(other, '.'), *od2 = strrchr(other, '.');
    char *tampered =
        arena_printf(&f->a, "%.*s%.*s%s", (int)(gd1 - good), good, (int)(od2 - od1), od1, gd2);
    expect_unauthorized(f, tampered, now, "tampered payload");

    /* tampered signature: flip one character */
    char *badsig = arena_strdup(&f->a, good);
    char *last = badsig + strlen(badsig) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    expect_unauthorized(f, badsig, now, "tampered signature");
    /* truncated and extended signatures */
    expect_unauthorized(f, arena_strndup(&f->a, good, strlen(good) - 1), now, "short signature");
    expect_unauthorized(f, arena_printf(&f->a, "%sAAAA", good), now, "long signature");

    /* alg none, with and without a signature */
    const char *none = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
    char *unsigned_tok = forge(f, none, claims, "");
    expect_unauthorized(f, unsigned_tok, now, "alg none, empty signature");
    expect_unauthorized(f, forge(f, none, claims, NULL), now, "alg none, signed");
    expect_unauthorized(f, forge(f, "{\"alg\":\"HS512\"}", claims, NULL), now, "alg HS512");
    expect_unauthorized(f, forge(f, "{\"alg\":\"hs256\"}", claims, NULL), now, "alg lowercase");
    expect_unauthorized(f, forge(f, "{\"typ\":\"JWT\"}", claims, NULL), now, "no alg");
    expect_unauthorized(f, forge(f, "{\"alg\":256}", claims, NULL), now, "alg not a string");
    expect_unauthorized(f, forge(f, "{\"alg\":\"HS256\",\"crit\":[\"x\"]}", claims, NULL), now,
                        "crit");
    expect_unauthorized(f, forge(f, "{\"alg\":\"HS256\",\"alg\":\"none\"}", claims, NULL), now,
                        "duplicate alg");

    /* expiry rules */
    expect_unauthorized(f, forge(f, hs, "{\"exp\":1699999999}", NULL), now, "expired");
    expect_unauthorized(f, forge(f, hs, "{\"sub\":\"x\"}", NULL), now, "no exp");
    expect_unauthorized(f, forge(f, hs, "{\"exp\":\"2000000000\"}", NULL), now, "string exp");

    /* malformed shapes */
    static const char *malformed[] = {
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "..",
        "eyJhbGciOiJIUzI1NiJ9..sig",
        ".e30.sig",
        "!!!.e30.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        "e30.e30.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",  /* header {} */
        "WzFd.e30.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", /* header [1] */
        "eyJhbGciOiJIUzI1NiJ9.e30.dBjftJeZ4CVP+mB92K27uhbUJU1p1r/wW1gFWFOEjXk",
        "eyJhbGciOiJIUzI1NiJ9.e30.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk=",
    };
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
        expect_unauthorized(f, malformed[i], now, malformed[i]);
    /* payload not JSON, correctly signed */
    expect_unauthorized(f, forge(f, hs, "not json", NULL), now, "payload not json");
    expect_unauthorized(f, forge(f, hs, "[1]", NULL), now, "payload not object");
    expect_unauthorized(f, NULL, now, "null token");

    /* over the length limit */
    char *huge = arena_alloc(&f->a, TOKEN_MAX_LEN + 2);
    memset(huge, 'a', TOKEN_MAX_LEN + 1);
    expect_unauthorized(f, huge, now, "too long");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rfc7515_a1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
