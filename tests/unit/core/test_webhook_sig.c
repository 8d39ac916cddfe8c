/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/core/webhook_sig.c against the Standard Webhooks published vector
 * (libraries/<lang>/tests "sign function works"): signing, verifying with and without the whsec_
 * prefix, multi-signature headers, and every rejection path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/webhook_sig.h"

#include <string.h>

/* /work/shared/fixtures/standard_webhooks/test_vector_sign.json */
#define SECRET     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SECRET_RAW "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define MSG_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define TS_TEXT    "1614265330"
#define TS         1614265330
#define PAYLOAD    "{\"test\": 2432232314}"
#define EXPECTED   "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static int verify(const char *secret, const char *id, const char *ts, const char *sig,
                  const char *body, int64_t now, struct err *e)
{
    err_init(e);
    return webhook_sig_verify(secret, id, ts, sig, body, body ? strlen(body) : 0, now, e);
}

static void expect_reject(const char *id, const char *ts, const char *sig, const char *body,
                          int64_t now, const char *msg_part)
{
    struct err e;
    int rc = verify(SECRET, id, ts, sig, body, now, &e);
    if (rc != ERR_UNAUTHORIZED)
        fail_msg("expected unauthorized (%s), got %d", msg_part, rc);
    if (!strstr(e.msg, msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, msg_part);
}

static void test_sign_vector(void **state)
{
    (void)state;
    char sig[WEBHOOK_SIG_SIZE];
    struct err e;
    err_init(&e);
    assert_int_equal(webhook_sig_sign(sig, SECRET, MSG_ID, TS, PAYLOAD, strlen(PAYLOAD), &e), 0);
    assert_string_equal(sig, EXPECTED);
    assert_int_equal(strlen(sig) + 1, WEBHOOK_SIG_SIZE);
    /* bare base64 secret gives the same signature */
    assert_int_equal(webhook_sig_sign(sig, SECRET_RAW, MSG_ID, TS, PAYLOAD, strlen(PAYLOAD), &e),
                     0);
    assert_string_equal(sig, EXPECTED);
}

static void test_verify_vector(void **state)
{
    (void)state;
    struct err e;
    assert_int_equal(verify(SECRET, MSG_ID, TS_TEXT, EXPECTED, PAYLOAD, TS, &e), 0);
    assert_int_equal(verify(SECRET_RAW, MSG_ID, TS_TEXT, EXPECTED, PAYLOAD, TS, &e), 0);
    /* inside the tolerance, both directions */
    assert_int_equal(verify(SECRET, MSG_ID, TS_TEXT, EXPECTED, PAYLOAD, TS + 300, &e), 0);
    assert_int_equal(verify(SECRET, MSG_ID, TS_TEXT, EXPECTED, PAYLOAD, TS - 300, &e), 0);
}

static void test_multi_signature(void **state)
{
    (void)state;
    struct err e;
    /* from the reference test "multi sig payload is valid" */
    const char *multi = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "
                        "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " EXPECTED
                        " v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
    assert_int_equal(verify(SECRET, MSG_ID, TS_TEXT, multi, PAYLOAD, TS, &e), 0);
    /* junk entries of every shape around the valid one */
    const char *junk = "  v1, v1,!!! v1a,abc v1 ,x garbage " EXPECTED "  ";
    assert_int_equal(verify(SECRET, MSG_ID, TS_TEXT, junk, PAYLOAD, TS, &e), 0);
    /* the valid signature under a version other than v1 does not count */
    expect_reject(MSG_ID, TS_TEXT, "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", PAYLOAD, TS,
                  "no v1");
    expect_reject(MSG_ID, TS_TEXT,
                  "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "
                  "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                  PAYLOAD, TS, "no webhook-signature v1 entry matches");
}

static void test_rejects(void **state)
{
    (void)state;
    expect_reject(MSG_ID, TS_TEXT, EXPECTED, "{\"test\": 2432232315}", TS, "matches");
    expect_reject(MSG_ID, TS_TEXT, EXPECTED, PAYLOAD " ", TS, "matches");
    expect_reject(MSG_ID, TS_TEXT, EXPECTED, "", TS, "matches");
    expect_reject("msg_p5jXN8AQM9LWM0D4loKWxJeK", TS_TEXT, EXPECTED, PAYLOAD, TS, "matches");
    /* a different timestamp inside the window still breaks the signature */
    expect_reject(MSG_ID, "1614265331", EXPECTED, PAYLOAD, TS, "matches");
    /* outside the 5 minute window */
    expect_reject(MSG_ID, TS_TEXT, EXPECTED, PAYLOAD, TS + 301, "too old");
    expect_reject(MSG_ID, TS_TEXT, EXPECTED, PAYLOAD, TS - 301, "future");
    /* missing headers */
    expect_reject(NULL, TS_TEXT, EXPECTED, PAYLOAD, TS, "missing webhook-id");
    expect_reject("", TS_TEXT, EXPECTED, PAYLOAD, TS, "missing webhook-id");
    expect_reject(MSG_ID, NULL, EXPECTED, PAYLOAD, TS, "missing webhook-timestamp");
    expect_reject(MSG_ID, TS_TEXT, NULL, PAYLOAD, TS, "missing webhook-signature");
    expect_reject(MSG_ID, TS_TEXT, "", PAYLOAD, TS, "missing webhook-signature");
    /* timestamp not a plain integer */
    expect_reject(MSG_ID, "1614265330.5", EXPECTED, PAYLOAD, TS, "not an integer");
    expect_reject(MSG_ID, "-1614265330", EXPECTED, PAYLOAD, TS, "not an integer");
    expect_reject(MSG_ID, " 1614265330", EXPECTED, PAYLOAD, TS, "not an integer");
    expect_reject(MSG_ID, "99999999999999999999999", EXPECTED, PAYLOAD, TS, "not an integer");
    /* signature without its version, or a truncated one */
    expect_reject(MSG_ID, TS_TEXT, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", PAYLOAD, TS,
                  "no v1");
    expect_reject(MSG_ID, TS_TEXT, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", PAYLOAD, TS,
                  "matches");
    /* the wrong secret */
    struct err e;
    assert_int_equal(verify("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", MSG_ID, TS_TEXT, EXPECTED,
                            PAYLOAD, TS, &e),
                     ERR_UNAUTHORIZED);
}

static void test_bad_secret(void **state)
{
    (void)state;
    struct err e;
    static const char *bad[] = {"", "whsec_", "whsec_not base64!", "whsec_Zg", NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(verify(bad[i], MSG_ID, TS_TEXT, EXPECTED, PAYLOAD, TS, &e), ERR_INVALID);
        assert_non_null(strstr(e.msg, "secret"));
        char sig[WEBHOOK_SIG_SIZE];
        err_init(&e);
        assert_int_equal(webhook_sig_sign(sig, bad[i], MSG_ID, TS, PAYLOAD, 7, &e), ERR_INVALID);
        assert_string_equal(sig, "");
    }
    /* the secret is checked before anything about the request */
    assert_int_equal(verify("whsec_!", NULL, NULL, NULL, PAYLOAD, TS, &e), ERR_INVALID);
}

static void test_sign_then_verify(void **state)
{
    (void)state;
    const unsigned char body[] = {'{', 0, 0xff, '}'}; /* raw bytes, NUL inside */
    char sig[WEBHOOK_SIG_SIZE];
    struct err e;
    err_init(&e);
    assert_int_equal(webhook_sig_sign(sig, SECRET, "msg_1", 1700000000, body, sizeof(body), &e), 0);
    err_init(&e);
    assert_int_equal(
        webhook_sig_verify(SECRET, "msg_1", "1700000000", sig, body, sizeof(body), 1700000100, &e),
        0);
    err_init(&e);
    assert_int_equal(webhook_sig_verify(SECRET, "msg_1", "1700000000", sig, body, sizeof(body) - 1,
                                        1700000100, &e),
                     ERR_UNAUTHORIZED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_vector),     cmocka_unit_test(test_verify_vector),
        cmocka_unit_test(test_multi_signature), cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_bad_secret),      cmocka_unit_test(test_sign_then_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
