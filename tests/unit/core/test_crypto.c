/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/core/crypto.c: RFC 4231 HMAC-SHA256 vectors, SHA-256 (FIPS 180-2 "abc"
 * and ""), hex/base64 round trips and rejects, sec_equal, random ids, argon2id passwords.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/crypto.h"
#include "core/keyfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */

static size_t unhex(unsigned char *out, size_t cap, const char *hex)
{
    size_t n = 0;
    struct err e;
    err_init(&e);
    assert_int_equal(sec_hex_decode(out, cap, &n, hex, strlen(hex), &e), 0);
    return n;
}

/* ---------------------------------------------------------------- RFC 4231 */

struct hmac_case {
    int id;
    const char *key_hex;
    const char *data_hex;
    const char *mac_hex; /* case 5: first 128 bits only */
};

/* RFC 4231 §4.2-4.7, SHA-256 column (from /work/shared/fixtures/jwt_hmac/rfc4231_hmac_sha256.json)
 */
static const struct hmac_case rfc4231[] = {
    {1, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {2, "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
     "dddddddddd",
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    {4, "0102030405060708090a0b0c0d0e0f10111213141516171819",
     "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
     "cdcdcdcdcd",
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
    {5, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e",
     "a3b6167473100ee06e0c796c2955552b"},
    {6,
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368"
     "204b6579204669727374",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
};

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4231) / sizeof(rfc4231[0]); i++) {
        const struct hmac_case *c = &rfc4231[i];
        unsigned char key[256], data[256];
        size_t klen = unhex(key, sizeof(key), c->key_hex);
        size_t dlen = unhex(data, sizeof(data), c->data_hex);
        char hex[SEC_HMAC_SHA256_HEX_SIZE];
        sec_hmac_sha256_hex(hex, key, klen, data, dlen);
        /* case 5 publishes only the first 128 bits (32 hex chars) */
        size_t cmp = strlen(c->mac_hex);
        if (c->id == 5)
            assert_int_equal(cmp, 32);
        else
            assert_int_equal(cmp, 64);
        if (strncmp(hex, c->mac_hex, cmp) != 0)
            fail_msg("rfc 4231 case %d: got %s want %s", c->id, hex, c->mac_hex);
    }
    /* case 6 key is 131 bytes: longer than the block, hashed first */
    unsigned char key6[256];
    assert_int_equal(unhex(key6, sizeof(key6), rfc4231[5].key_hex), 131);
}

static void test_hmac_forms_agree(void **state)
{
    (void)state;
    const char *key = "Jefe";
    const char *data = "what do ya want for nothing?";
    unsigned char raw[SEC_HMAC_SHA256_LEN], rawv[SEC_HMAC_SHA256_LEN];
    sec_hmac_sha256(raw, key, 4, data, strlen(data));
    struct sec_slice parts[] = {{"what do ya", 10}, {"", 0}, {" want for nothing?", 18}};
    sec_hmac_sha256_v(rawv, key, 4, parts, 3);
    assert_memory_equal(raw, rawv, sizeof(raw));

    char b64[SEC_HMAC_SHA256_B64_SIZE], b64url[SEC_HMAC_SHA256_B64_SIZE];
    sec_hmac_sha256_b64(b64, SEC_B64_STD, key, 4, data, strlen(data));
    sec_hmac_sha256_b64(b64url, SEC_B64_URL, key, 4, data, strlen(data));
    /* 5bdcc146... in base64 */
    assert_string_equal(b64, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
    assert_string_equal(b64url, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
}

/* ---------------------------------------------------------------- SHA-256 */

static void test_sha256(void **state)
{
    (void)state;
    unsigned char d[SEC_SHA256_LEN];
    char hex[SEC_HEX_SIZE(SEC_SHA256_LEN)];
    sec_sha256(d, "abc", 3);
    assert_int_equal(sec_hex_encode(hex, sizeof(hex), d, sizeof(d), NULL), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sec_sha256(d, "", 0);
    assert_int_equal(sec_hex_encode(hex, sizeof(hex), d, sizeof(d), NULL), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* ---------------------------------------------------------------- hex */

static void test_hex(void **state)
{
    (void)state;
    const unsigned char bin[] = {0x00, 0x01, 0xab, 0xff, 0x7f};
    char hex[SEC_HEX_SIZE(sizeof(bin))];
    assert_int_equal(sec_hex_encode(hex, sizeof(hex), bin, sizeof(bin), NULL), 0);
    assert_string_equal(hex, "0001abff7f");

    unsigned char back[8];
    size_t n = 99;
    assert_int_equal(sec_hex_decode(back, sizeof(back), &n, "0001ABff7f", 10, NULL), 0);
    assert_int_equal(n, sizeof(bin));
    assert_memory_equal(back, bin, sizeof(bin));

    assert_int_equal(sec_hex_decode(back, sizeof(back), &n, "", 0, NULL), 0);
    assert_int_equal(n, 0);

    struct err e;
    err_init(&e);
    assert_int_equal(sec_hex_decode(back, sizeof(back), &n, "abc", 3, &e), ERR_INVALID);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(sec_hex_decode(back, sizeof(back), &n, "zz", 2, NULL), ERR_INVALID);
    assert_int_equal(sec_hex_decode(back, sizeof(back), &n, "0 ", 2, NULL), ERR_INVALID);
    assert_int_equal(sec_hex_decode(back, 1, &n, "0001", 4, NULL), ERR_TOO_LARGE);

    char small[4];
    assert_int_equal(sec_hex_encode(small, sizeof(small), bin, 2, NULL), ERR_TOO_LARGE);
    assert_string_equal(small, "");
}

/* ---------------------------------------------------------------- base64 */

struct b64_case {
    const char *plain;
    const char *std;
    const char *url;
};

/* RFC 4648 §10 test vectors, plus bytes that differ between the alphabets */
static const struct b64_case b64_cases[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    {"\xfb\xff\xbf", "+/+/", "-_-_"},
};

static void test_b64_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++) {
        const struct b64_case *c = &b64_cases[i];
        size_t plen = strlen(c->plain);
        char enc[SEC_B64_SIZE(16)];
        unsigned char dec[16];
        size_t n = 0;

        assert_int_equal(sec_b64_encode(enc, sizeof(enc), SEC_B64_STD, c->plain, plen, NULL), 0);
        assert_string_equal(enc, c->std);
        assert_int_equal(sec_b64_decode(dec, sizeof(dec), &n, SEC_B64_STD, enc, strlen(enc), NULL),
                         0);
        assert_int_equal(n, plen);
        assert_memory_equal(dec, c->plain, plen);

        assert_int_equal(sec_b64_encode(enc, sizeof(enc), SEC_B64_URL, c->plain, plen, NULL), 0);
        assert_string_equal(enc, c->url);
        assert_int_equal(sec_b64_decode(dec, sizeof(dec), &n, SEC_B64_URL, enc, strlen(enc), NULL),
                         0);
        assert_int_equal(n, plen);
        assert_memory_equal(dec, c->plain, plen);
    }

    /* every byte value through both alphabets */
    unsigned char all[256], back[256];
    char enc[SEC_B64_SIZE(256)];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    for (int v = 0; v < 2; v++) {
        size_t n = 0;
        assert_int_equal(sec_b64_encode(enc, sizeof(enc), (enum sec_b64)v, all, 256, NULL), 0);
        assert_true(strlen(enc) + 1 <= SEC_B64_SIZE(256));
        assert_true(SEC_B64_DECODED_MAX(strlen(enc)) >= 256);
        assert_int_equal(
            sec_b64_decode(back, sizeof(back), &n, (enum sec_b64)v, enc, strlen(enc), NULL), 0);
        assert_int_equal(n, 256);
        assert_memory_equal(back, all, 256);
    }
}

static void test_b64_invalid(void **state)
{
    (void)state;
    static const char *bad_std[] = {
        "Zg",       /* missing padding */
        "Zg=",      /* short padding */
        "Zm9v!A==", /* bad character */
        "-_-_",     /* url alphabet in std */
        "Zm9 v",    /* whitespace */
        "Zh==",     /* non-zero trailing bits */
        "Z===",     /* too much padding */
        "=Zg=",     /* padding first */
    };
    static const char *bad_url[] = {
        "Zg==", /* padding not allowed */
        "+/+/", /* std alphabet in url */
        "Z",    /* impossible length */
        "Zm9v*",
    };
    unsigned char out[32];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++) {
        struct err e;
        err_init(&e);
        int rc =
            sec_b64_decode(out, sizeof(out), &n, SEC_B64_STD, bad_std[i], strlen(bad_std[i]), &e);
        if (rc != ERR_INVALID)
            fail_msg("std \"%s\": rc %d", bad_std[i], rc);
        assert_int_equal(n, 0);
    }
    for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++) {
        int rc =
            sec_b64_decode(out, sizeof(out), &n, SEC_B64_URL, bad_url[i], strlen(bad_url[i]), NULL);
        if (rc != ERR_INVALID)
            fail_msg("url \"%s\": rc %d", bad_url[i], rc);
    }
    /* output too small is its own error */
    assert_int_equal(sec_b64_decode(out, 2, &n, SEC_B64_STD, "Zm9v", 4, NULL), ERR_TOO_LARGE);
    char small[4];
    assert_int_equal(sec_b64_encode(small, sizeof(small), SEC_B64_STD, "foo", 3, NULL),
                     ERR_TOO_LARGE);
    /* "Zm9v" + NUL fits in 5 */
    char exact[5];
    assert_int_equal(sec_b64_encode(exact, sizeof(exact), SEC_B64_STD, "foo", 3, NULL), 0);
    assert_string_equal(exact, "Zm9v");
}

/* ---------------------------------------------------------------- sec_equal */

static void test_equal(void **state)
{
    (void)state;
    assert_true(sec_equal("abc", 3, "abc", 3));
    assert_false(sec_equal("abc", 3, "abd", 3));
    assert_false(sec_equal("abc", 3, "abcd", 4));
    assert_false(sec_equal("abcd", 4, "abc", 3));
    assert_true(sec_equal("", 0, "", 0));
    assert_true(sec_equal(NULL, 0, NULL, 0));
    assert_false(sec_equal("a", 1, "", 0));
    unsigned char a[64], b[64];
    memset(a, 7, sizeof(a));
    memset(b, 7, sizeof(b));
    assert_true(sec_equal(a, sizeof(a), b, sizeof(b)));
    b[63] ^= 1;
    assert_false(sec_equal(a, sizeof(a), b, sizeof(b)));
}

static void test_wipe(void **state)
{
    (void)state;
    unsigned char k[40];
    memset(k, 0xA5, sizeof(k));
    sec_wipe(k + 4, 32);
    for (size_t i = 0; i < sizeof(k); i++)
        assert_int_equal(k[i], i >= 4 && i < 36 ? 0 : 0xA5);
    sec_wipe(NULL, 0);
}

/* ---------------------------------------------------------------- random */

static bool is_b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static void test_random_id(void **state)
{
    (void)state;
    enum { N = 200 };
    static char ids[N][SEC_RANDOM_ID_SIZE(4, 24)];
    for (int i = 0; i < N; i++) {
        assert_int_equal(sec_random_id(ids[i], sizeof(ids[i]), "isk_", 24, NULL), 0);
        assert_int_equal(strlen(ids[i]), 4 + 32);
        assert_memory_equal(ids[i], "isk_", 4);
        for (size_t k = 4; ids[i][k]; k++)
            assert_true(is_b64url_char(ids[i][k]));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    }
    char noprefix[SEC_RANDOM_ID_SIZE(0, 16)];
    assert_int_equal(sec_random_id(noprefix, sizeof(noprefix), NULL, 16, NULL), 0);
    assert_int_equal(strlen(noprefix), 22);

    char small[10];
    struct err e;
    err_init(&e);
    assert_int_equal(sec_random_id(small, sizeof(small), "isk_", 24, &e), ERR_TOO_LARGE);
    assert_string_equal(small, "");
    assert_int_equal(sec_random_id(small, sizeof(small), "x", 0, NULL), ERR_INVALID);
    char big[200];
    assert_int_equal(sec_random_id(big, sizeof(big), "x", SEC_RANDOM_ID_MAX_BYTES + 1, NULL),
                     ERR_INVALID);

    unsigned char r1[32], r2[32];
    sec_random_bytes(r1, sizeof(r1));
    sec_random_bytes(r2, sizeof(r2));
    assert_false(sec_equal(r1, sizeof(r1), r2, sizeof(r2)));
}

/* ---------------------------------------------------------------- passwords */

static void test_password(void **state)
{
    (void)state;
    char hash[SEC_PASSWORD_HASH_SIZE];
    char hash2[SEC_PASSWORD_HASH_SIZE];
    const char *pw = "correct horse battery staple";
    struct err e;
    err_init(&e);
    assert_int_equal(sec_password_hash(hash, pw, strlen(pw), &e), 0);
    assert_true(strncmp(hash, "$argon2id$", 10) == 0);
    /* random salt: same password, different hash */
    assert_int_equal(sec_password_hash(hash2, pw, strlen(pw), NULL), 0);
    assert_string_not_equal(hash, hash2);

    assert_int_equal(sec_password_verify(hash, pw, strlen(pw), NULL), 0);
    assert_int_equal(sec_password_verify(hash2, pw, strlen(pw), NULL), 0);

    err_init(&e);
    assert_int_equal(sec_password_verify(hash, "wrong", 5, &e), ERR_UNAUTHORIZED);
    assert_int_equal(e.code, ERR_UNAUTHORIZED);
    /* a prefix of the password is a different password */
    assert_int_equal(sec_password_verify(hash, pw, strlen(pw) - 1, NULL), ERR_UNAUTHORIZED);

    err_init(&e);
    assert_int_equal(sec_password_verify("garbage", pw, strlen(pw), &e), ERR_INVALID);
    assert_int_equal(sec_password_verify("", pw, strlen(pw), NULL), ERR_INVALID);
    assert_int_equal(sec_password_verify(NULL, pw, strlen(pw), NULL), ERR_INVALID);
    /* right prefix, broken tail */
    assert_int_equal(sec_password_verify("$argon2id$v=19$m=8,t=1,p=1$xx$yy", pw, strlen(pw), NULL),
                     ERR_UNAUTHORIZED);

    assert_false(sec_password_needs_rehash(hash));
    assert_true(sec_password_needs_rehash("garbage"));
    sec_password_set_cost(SEC_PWHASH_INTERACTIVE);
    assert_true(sec_password_needs_rehash(hash));
    sec_password_set_cost(SEC_PWHASH_MIN);
}

static int setup(void **state)
{
    (void)state;
    struct err e;
    err_init(&e);
    if (sec_init(&e) || sec_init(&e)) /* twice is fine */
        return -1;
    sec_password_set_cost(SEC_PWHASH_MIN);
    return 0;
}

/* Sealed secrets: round trip, fresh nonce each time, wrong key and tampering refused. */
static void test_box(void **state)
{
    (void)state;
    struct err e;
    err_init(&e);
    unsigned char key[SEC_BOX_KEY_LEN];
    sec_random_bytes(key, sizeof(key));
    const char *msg = "sk_live_51H-a-secret";
    char a[SEC_BOX_SEALED_SIZE(64)], b[SEC_BOX_SEALED_SIZE(64)];
    assert_int_equal(sec_box_seal(a, sizeof(a), key, msg, strlen(msg), &e), 0);
    assert_int_equal(sec_box_seal(b, sizeof(b), key, msg, strlen(msg), &e), 0);
    assert_int_equal(strncmp(a, "sb1.", 4), 0);
    assert_string_not_equal(a, b); /* a new nonce each time */
    assert_null(strstr(a, "secret"));
    char out[64];
    size_t n = 0;
    assert_int_equal(sec_box_open(out, sizeof(out), &n, key, a, &e), 0);
    assert_int_equal(n, strlen(msg));
    assert_string_equal(out, msg);
    /* the wrong key */
    unsigned char other[SEC_BOX_KEY_LEN];
    memcpy(other, key, sizeof(key));
    other[31] ^= 0x80;
    err_init(&e);
    assert_int_equal(sec_box_open(out, sizeof(out), &n, other, a, &e), ERR_FORBIDDEN);
    assert_int_equal(n, 0);
    /* one character changed */
    size_t last = strlen(a) - 2;
    a[last] = a[last] == 'A' ? 'B' : 'A';
    err_init(&e);
    assert_int_equal(sec_box_open(out, sizeof(out), &n, key, a, &e), ERR_FORBIDDEN);
    /* not sealed text at all, too short, no room */
    err_init(&e);
    assert_int_equal(sec_box_open(out, sizeof(out), &n, key, "plaintext", &e), ERR_INVALID);
    err_init(&e);
    assert_int_equal(sec_box_open(out, sizeof(out), &n, key, "sb1.AAAA", &e), ERR_INVALID);
    err_init(&e);
    assert_int_equal(sec_box_open(out, 4, &n, key, b, &e), ERR_TOO_LARGE);
    err_init(&e);
    assert_int_equal(sec_box_seal(a, 10, key, msg, strlen(msg), &e), ERR_TOO_LARGE);
}

/* The key for secrets at rest: from text, or a key file made once with mode 0600. */
static void test_keyfile(void **state)
{
    (void)state;
    struct err e;
    err_init(&e);
    char path[256];
    const char *dir = getenv("TEST_TMPDIR");
    snprintf(path, sizeof(path), "%s/keyfile-%d.key", dir && *dir ? dir : "/tmp", (int)getpid());
    unlink(path);
    unsigned char k1[SEC_BOX_KEY_LEN], k2[SEC_BOX_KEY_LEN];
    bool created = false;
    assert_int_equal(keyfile_load(NULL, path, k1, &created, &e), 0);
    assert_true(created);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(keyfile_load("", path, k2, &created, &e), 0);
    assert_false(created);
    assert_memory_equal(k1, k2, sizeof(k1));
    /* readable by others: refused */
    chmod(path, 0644);
    err_init(&e);
    assert_int_equal(keyfile_load(NULL, path, k2, &created, &e), ERR_FORBIDDEN);
    unlink(path);
    /* text: hex or base64 of 32 bytes, nothing else */
    char hex[65];
    for (int i = 0; i < 64; i++)
        hex[i] = "0123456789abcdef"[i % 16];
    hex[64] = '\0';
    err_init(&e);
    assert_int_equal(keyfile_load(hex, NULL, k1, &created, &e), 0);
    assert_int_equal(k1[0], 0x01);
    assert_int_equal(
        keyfile_load("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", NULL, k2, &created, &e), 0);
    assert_int_equal(k2[31], 31);
    err_init(&e);
    assert_int_equal(keyfile_load("too-short", NULL, k1, &created, &e), ERR_INVALID);
    assert_string_equal(e.field, "ICESHOP_SECRET_KEY");
    char p2[128];
    keyfile_default_path("sqlite://var/iceshop.db", p2, sizeof(p2));
    assert_string_equal(p2, "var/iceshop.db.key");
    keyfile_default_path("postgres://h/db", p2, sizeof(p2));
    assert_string_equal(p2, "var/iceshop.key");
}

/* RFC 8032 §7.1, TEST 1 (the empty message) and TEST 2 (one byte 0x72); and fresh key pairs. */
static void test_ed25519(void **state)
{
    (void)state;
    static const struct {
        const char *seed, *pk, *msg, *sig;
    } v[] = {
        {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701"
         "cf"
         "9b46bd25bf5f0595bbe24655141438e7a100b"},
        {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d"
         "0f"
         "11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        unsigned char sk[SEC_SIGN_SECRET_LEN], pk[SEC_SIGN_PUBLIC_LEN], want[SEC_SIGN_LEN],
            sig[SEC_SIGN_LEN], msg[8];
        assert_int_equal(unhex(sk, 32, v[i].seed), 32);
        assert_int_equal(unhex(pk, 32, v[i].pk), 32);
        memcpy(sk + 32, pk, 32); /* libsodium's secret key: seed || public key */
        assert_int_equal(unhex(want, SEC_SIGN_LEN, v[i].sig), SEC_SIGN_LEN);
        size_t mlen = unhex(msg, sizeof(msg), v[i].msg);
        sec_sign(sig, msg, mlen, sk);
        assert_memory_equal(sig, want, SEC_SIGN_LEN);
        assert_true(sec_sign_verify(sig, msg, mlen, pk));
        sig[7] ^= 1;
        assert_false(sec_sign_verify(sig, msg, mlen, pk));
    }
    unsigned char pk[SEC_SIGN_PUBLIC_LEN], sk[SEC_SIGN_SECRET_LEN], pk2[SEC_SIGN_PUBLIC_LEN],
        sk2[SEC_SIGN_SECRET_LEN], sig[SEC_SIGN_LEN];
    sec_sign_keypair(pk, sk);
    sec_sign_keypair(pk2, sk2);
    assert_memory_not_equal(pk, pk2, SEC_SIGN_PUBLIC_LEN);
    const char *m = "certificate 42: Şükrü Çağlar";
    sec_sign(sig, m, strlen(m), sk);
    assert_true(sec_sign_verify(sig, m, strlen(m), pk));
    assert_false(sec_sign_verify(sig, m, strlen(m), pk2));               /* another key */
    assert_false(sec_sign_verify(sig, "certificate 43", strlen(m), pk)); /* another message */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_hmac_forms_agree),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_b64_round_trip),
        cmocka_unit_test(test_b64_invalid),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_wipe),
        cmocka_unit_test(test_random_id),
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_box),
        cmocka_unit_test(test_keyfile),
        cmocka_unit_test(test_ed25519),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
